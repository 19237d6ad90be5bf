-- Loads into Okta (owned by internal/load): runs (test batches, loads and
-- rollbacks), the users of each run with their durable state, and the
-- provenance of every Okta user and group Ferry created, which is what a
-- rollback acts on (never a name search).

-- One run. Its items are fixed when it starts (a snapshot): later matrix
-- edits or re-staging do not change it. A run is owned by one process at a
-- time: owner and lease_until, renewed while it works; another process
-- takes it over only once the lease has run out.
CREATE TABLE load_runs (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    -- Per project: "Run 3".
    number BIGINT NOT NULL,
    -- load, test_batch or rollback.
    kind TEXT NOT NULL,
    -- The rung of the test-batch ladder (1-based); 0 for other kinds.
    rung INTEGER NOT NULL DEFAULT 0,
    org_url TEXT NOT NULL,
    sandbox BOOLEAN NOT NULL DEFAULT FALSE,
    -- Loads: hash, hook or none; activate (ACTIVE) or not (STAGED); what
    -- to do when the login exists (skip or fail).
    mode TEXT NOT NULL DEFAULT '',
    activate BOOLEAN NOT NULL DEFAULT FALSE,
    on_existing TEXT NOT NULL DEFAULT 'skip',
    -- Rollbacks: delete (deactivate, then delete) or deactivate.
    rollback_action TEXT NOT NULL DEFAULT '',
    -- The run a rollback undoes.
    target_run_id BIGINT NULL,
    -- The population as chosen (sources, user types, filter, list, failed of
    -- run N, batch priority), as JSON, to show and to repeat.
    population_json TEXT NOT NULL DEFAULT '{}',
    max_in_flight INTEGER NOT NULL DEFAULT 10,
    rate_share DOUBLE PRECISION NOT NULL DEFAULT 0.8,
    -- A test batch passes when its error rate is below this share.
    error_threshold DOUBLE PRECISION NOT NULL DEFAULT 0.01,
    -- queued, running, paused, cancelled, done or failed.
    status TEXT NOT NULL,
    -- What a person (or the legal gate) asked of the owner: '', pause or cancel.
    requested TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    total BIGINT NOT NULL DEFAULT 0,
    -- The pacer's last view (in flight, rate-limit headroom), as JSON.
    pace_json TEXT NOT NULL DEFAULT '{}',
    owner TEXT NOT NULL DEFAULT '',
    lease_until TIMESTAMP NULL,
    created_by_id BIGINT NULL,
    created_by_name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP NULL,
    finished_at TIMESTAMP NULL,
    updated_at TIMESTAMP NOT NULL,
    -- Seconds spent working (excluding pauses), for throughput.
    active_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    UNIQUE (project_id, number)
);
CREATE INDEX load_runs_status ON load_runs (status);

-- One user of a run. Loads: pending → sending → created / existed /
-- failed / skipped. Rollbacks: pending → exported → sending → removed /
-- deactivated / gone / failed / skipped. The profile and the credential are
-- the snapshot; the credential (an imported hash) is sealed with Ferry's
-- secret key and removed once the user is created.
CREATE TABLE load_items (
    id {{pk}},
    run_id BIGINT NOT NULL REFERENCES load_runs (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    record_id BIGINT NULL,
    source_id BIGINT NULL,
    login TEXT NOT NULL,
    profile_json TEXT NOT NULL DEFAULT '{}',
    credential_sealed TEXT NOT NULL DEFAULT '',
    -- Group names from the source's memberships (besides the source group).
    groups_json TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL,
    okta_user_id TEXT NOT NULL DEFAULT '',
    -- Memberships beyond the 20 groupIds a create takes still to add.
    memberships_pending BOOLEAN NOT NULL DEFAULT FALSE,
    attempts INTEGER NOT NULL DEFAULT 0,
    error_code TEXT NOT NULL DEFAULT '',
    error_summary TEXT NOT NULL DEFAULT '',
    -- Rollbacks: the user as Okta had it before removal, as JSON.
    export_json TEXT NOT NULL DEFAULT '',
    -- When the last request for the item was sent, by the org's clock
    -- (how a user found after a crash is told from a pre-existing one).
    sent_at TIMESTAMP NULL,
    finished_at TIMESTAMP NULL,
    duration_ms BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX load_items_seq ON load_items (run_id, seq);
CREATE INDEX load_items_state ON load_items (run_id, state, seq);

-- Every Okta user Ferry created, by org: what rollbacks act on. removed_at
-- is set when a rollback deleted (or deactivated) the user.
CREATE TABLE okta_users (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    org_url TEXT NOT NULL,
    okta_user_id TEXT NOT NULL,
    login TEXT NOT NULL,
    record_id BIGINT NULL,
    source_id BIGINT NULL,
    run_id BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    removed_at TIMESTAMP NULL,
    UNIQUE (org_url, okta_user_id)
);
CREATE INDEX okta_users_run ON okta_users (run_id);
CREATE INDEX okta_users_record ON okta_users (project_id, org_url, record_id);
CREATE INDEX okta_users_source ON okta_users (project_id, org_url, source_id);

-- Every Okta group Ferry created (or adopted, for a source group found by
-- name), by org: found again by its id, never by a search.
CREATE TABLE okta_groups (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    org_url TEXT NOT NULL,
    okta_group_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- source: the group of a source's users; membership: a source group.
    kind TEXT NOT NULL,
    source_id BIGINT NULL,
    -- Set when Ferry created it (not when it found an existing one).
    created_by_run_id BIGINT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (project_id, org_url, name)
);

-- Per project: the test-batch ladder and the error-rate threshold.
CREATE TABLE load_settings (
    project_id {{if postgres}}BIGINT{{else}}INTEGER{{end}} PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    ladder_json TEXT NOT NULL DEFAULT '[10,100,1000,10000]',
    error_threshold DOUBLE PRECISION NOT NULL DEFAULT 0.01,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL
);
