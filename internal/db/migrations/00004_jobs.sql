-- Background jobs: staging an uploaded extract, pulling users from a
-- directory, validating the staged data. The row is the truth about a job:
-- its state, its progress counters and its outcome.

CREATE TABLE jobs (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    -- The source a staging job stages into; NULL for project-wide jobs.
    source_id BIGINT NULL REFERENCES sources (id) ON DELETE CASCADE,
    -- stage_file, stage_directory or validate.
    kind TEXT NOT NULL,
    -- queued, running, succeeded, failed, cancelled or interrupted.
    status TEXT NOT NULL,
    -- At most one queued or running job per project and lock key: one
    -- staging per source ("source:ID"), one validation per project
    -- ("validate"). Empty for jobs that exclude nothing.
    lock_key TEXT NOT NULL DEFAULT '',
    -- What the job was asked to do, as JSON. Never a secret: a directory
    -- pull's bind password lives in memory only, for the job's life.
    params_json TEXT NOT NULL DEFAULT '{}',
    -- A file the job reads (a spooled upload), removed when the job ends.
    input_file TEXT NOT NULL DEFAULT '',
    done BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    -- What a person reads: progress while running, the result at the end.
    message TEXT NOT NULL DEFAULT '',
    -- What the job produced (an extract id, a validation run id), as JSON.
    result_json TEXT NOT NULL DEFAULT '{}',
    error TEXT NOT NULL DEFAULT '',
    created_by_id BIGINT NULL,
    created_by_name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP NULL,
    finished_at TIMESTAMP NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_project ON jobs (project_id, id);
CREATE INDEX jobs_source ON jobs (source_id, id);
CREATE INDEX jobs_status ON jobs (status);
CREATE UNIQUE INDEX jobs_active_lock ON jobs (project_id, lock_key) WHERE status IN ('queued', 'running') AND lock_key <> '';
