-- Staging: extracts read from source systems and the records they hold.

-- One extract of one source. Only one extract per source is current; a new
-- one replaces it only once it has been read whole (status ready).
CREATE TABLE extracts (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_id BIGINT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    file_name TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL,
    size_bytes BIGINT NOT NULL DEFAULT 0,
    checksum TEXT NOT NULL DEFAULT '',
    key_attribute TEXT NOT NULL DEFAULT '',
    records BIGINT NOT NULL DEFAULT 0,
    quarantined BIGINT NOT NULL DEFAULT 0,
    carried_over BIGINT NOT NULL DEFAULT 0,
    lost_edits BIGINT NOT NULL DEFAULT 0,
    columns_json TEXT NOT NULL DEFAULT '[]',
    warnings_json TEXT NOT NULL DEFAULT '[]',
    error TEXT NOT NULL DEFAULT '',
    created_by_id BIGINT NULL,
    created_by_name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NULL
);
CREATE INDEX extracts_source ON extracts (source_id, id);
CREATE INDEX extracts_project ON extracts (project_id, id);

-- One user of an extract. Attributes stay in one JSON column; the keys that
-- lookups need have their own indexed columns.
CREATE TABLE staged_records (
    id {{pk}},
    extract_id BIGINT NOT NULL REFERENCES extracts (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    source_key TEXT NOT NULL DEFAULT '',
    attributes_json TEXT NOT NULL,
    edits_json TEXT NOT NULL DEFAULT '{}',
    excluded BOOLEAN NOT NULL DEFAULT FALSE,
    exclude_reason TEXT NOT NULL DEFAULT '',
    edited BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    -- The keys uniqueness is checked on, computed by validation through the matrix.
    login_key TEXT NOT NULL DEFAULT '',
    email_key TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staged_records_extract ON staged_records (extract_id, id);
CREATE INDEX staged_records_key ON staged_records (extract_id, source_key);
CREATE INDEX staged_records_login ON staged_records (login_key);
CREATE INDEX staged_records_email ON staged_records (email_key);

-- Rows a reader could not take (a ragged CSV row), kept with the reason.
CREATE TABLE quarantined_rows (
    id {{pk}},
    extract_id BIGINT NOT NULL REFERENCES extracts (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX quarantined_rows_extract ON quarantined_rows (extract_id, position);

-- One validation of a project's staged data, with its counts.
CREATE TABLE validation_runs (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    records BIGINT NOT NULL DEFAULT 0,
    valid BIGINT NOT NULL DEFAULT 0,
    invalid BIGINT NOT NULL DEFAULT 0,
    excluded BIGINT NOT NULL DEFAULT 0,
    occurrences BIGINT NOT NULL DEFAULT 0,
    counts_json TEXT NOT NULL DEFAULT '{}',
    error TEXT NOT NULL DEFAULT '',
    created_by_name TEXT NOT NULL DEFAULT '',
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NULL
);
CREATE INDEX validation_runs_project ON validation_runs (project_id, id);

-- Each occurrence of an issue found by a run. Values of personal data are masked.
CREATE TABLE issue_occurrences (
    id {{pk}},
    run_id BIGINT NOT NULL REFERENCES validation_runs (id) ON DELETE CASCADE,
    record_id BIGINT NOT NULL,
    source_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    attribute TEXT NOT NULL DEFAULT '',
    value TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL
);
CREATE INDEX issue_occurrences_run ON issue_occurrences (run_id, id);
CREATE INDEX issue_occurrences_run_code ON issue_occurrences (run_id, code);
CREATE INDEX issue_occurrences_record ON issue_occurrences (run_id, record_id);

-- Remediation work on an issue type or on chosen occurrences.
CREATE TABLE remediation_tasks (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    issue_code TEXT NOT NULL DEFAULT '',
    record_ids_json TEXT NOT NULL DEFAULT '[]',
    assignee_id BIGINT NULL REFERENCES accounts (id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    due_date TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX remediation_tasks_project ON remediation_tasks (project_id, status);
