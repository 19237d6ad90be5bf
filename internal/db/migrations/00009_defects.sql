-- The defect log (owned by defects): what failed in a test batch or a load,
-- with the fields Okta's migration guidance asks for (use case, issue
-- description, test status, ticket status, priority, error category, notes
-- or proposed resolution). number is per project and is shown as D-1, D-2…
-- Defects recorded from a run carry the run (load_run_id, not a foreign key:
-- load_runs belongs to the load engine, and a defect outlives a run that is
-- cleaned away) and the error code; there is at most one such defect per
-- run and code, so that a resumed run updates its defects instead of
-- repeating them. Hand-made defects have no run (NULL, which the unique
-- index never compares equal) and error_code ''. Defects are closed, never
-- deleted. No user login or other personal data is stored here.
CREATE TABLE defects (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    use_case TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL,
    test_status TEXT NOT NULL CHECK (test_status IN ('not_run', 'failed', 'passed', 'retest')),
    ticket_status TEXT NOT NULL CHECK (ticket_status IN ('open', 'in_progress', 'resolved', 'closed', 'wont_fix')),
    priority TEXT NOT NULL CHECK (priority IN ('critical', 'high', 'medium', 'low')),
    category TEXT NOT NULL CHECK (category IN ('ad', 'okta', 'hr', 'other')),
    notes TEXT NOT NULL DEFAULT '',
    error_code TEXT NOT NULL DEFAULT '',
    load_run_id BIGINT NULL,
    affected BIGINT NOT NULL DEFAULT 0,
    created_by_name TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX defects_number ON defects (project_id, number);
CREATE UNIQUE INDEX defects_run_code ON defects (project_id, load_run_id, error_code);
