-- The cut-over (owned by internal/load): refresh runs, activation waves, the
-- manager pass and reconciliation run on the load engine; legacy account
-- status and manager references are read per source; canary accounts prove
-- the hash conversion.

-- What an item does: create (a load, a refresh's joiner), update (a
-- refresh: changed profile or hash), leave (a refresh's leaver), activate (a
-- wave), manager (the manager pass), read (reconciliation).
ALTER TABLE load_items ADD COLUMN action TEXT NOT NULL DEFAULT 'create';
-- For people: what changed (refresh), the manager reference (manager
-- pass), the differences found (reconciliation), as JSON.
ALTER TABLE load_items ADD COLUMN detail_json TEXT NOT NULL DEFAULT '{}';
-- The source record's key, stable across re-staging (record ids are not).
ALTER TABLE load_items ADD COLUMN source_key TEXT NOT NULL DEFAULT '';
-- A digest of the imported hash sent (never the hash), to see it change.
ALTER TABLE load_items ADD COLUMN hash_digest TEXT NOT NULL DEFAULT '';
-- The legacy account status (active, disabled, locked, expired) and what
-- the source's settings make of it (create, suspend, deprovision,
-- change_password); skipped accounts are items in state skipped.
ALTER TABLE load_items ADD COLUMN account_status TEXT NOT NULL DEFAULT '';
ALTER TABLE load_items ADD COLUMN status_action TEXT NOT NULL DEFAULT '';
-- A canary account: loaded first, signed in as after the run.
ALTER TABLE load_items ADD COLUMN canary BOOLEAN NOT NULL DEFAULT FALSE;

-- A wave's name; the hours a run may work (minutes of the day in a time
-- zone, NULL: any time; end before start spans midnight).
ALTER TABLE load_runs ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE load_runs ADD COLUMN window_start INTEGER NULL;
ALTER TABLE load_runs ADD COLUMN window_end INTEGER NULL;
ALTER TABLE load_runs ADD COLUMN window_tz TEXT NOT NULL DEFAULT '';

-- What Ferry last sent for each user it created, kept to refresh only what
-- changed and to reconcile: the profile, the groups (Okta ids), a digest of
-- the hash, how the password was given (hash, hook or none), the status
-- Ferry expects, and the source record's key.
ALTER TABLE okta_users ADD COLUMN source_key TEXT NOT NULL DEFAULT '';
ALTER TABLE okta_users ADD COLUMN profile_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE okta_users ADD COLUMN groups_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE okta_users ADD COLUMN hash_digest TEXT NOT NULL DEFAULT '';
ALTER TABLE okta_users ADD COLUMN password TEXT NOT NULL DEFAULT '';
ALTER TABLE okta_users ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE okta_users ADD COLUMN updated_at TIMESTAMP NULL;
CREATE INDEX okta_users_key ON okta_users (project_id, org_url, source_id, source_key);

-- Per project: what a refresh does with leavers (deactivate, or report).
ALTER TABLE load_settings ADD COLUMN leavers TEXT NOT NULL DEFAULT 'report';

-- Per source: how the legacy account status and the manager reference are
-- read, and what each status becomes in Okta.
CREATE TABLE cutover_settings (
    source_id {{if postgres}}BIGINT{{else}}INTEGER{{end}} PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    -- The attribute holding the status (userAccountControl on Active
    -- Directory is read by its bits), and the values that mean each state.
    status_attribute TEXT NOT NULL DEFAULT '',
    disabled_values TEXT NOT NULL DEFAULT '[]',
    locked_values TEXT NOT NULL DEFAULT '[]',
    expired_values TEXT NOT NULL DEFAULT '[]',
    -- skip, suspend, deprovision, change_password or create (as active).
    disabled_action TEXT NOT NULL DEFAULT 'skip',
    locked_action TEXT NOT NULL DEFAULT 'suspend',
    expired_action TEXT NOT NULL DEFAULT 'change_password',
    -- The attribute holding the manager reference and what it is: dn,
    -- employee_id or login.
    manager_attribute TEXT NOT NULL DEFAULT '',
    manager_kind TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX cutover_settings_project ON cutover_settings (project_id);

-- Canary accounts: staged test accounts whose password is known (sealed
-- with the console's key), per source, found again by the record's key.
CREATE TABLE canaries (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_id BIGINT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    source_key TEXT NOT NULL,
    login TEXT NOT NULL,
    hash_format TEXT NOT NULL DEFAULT '',
    password_sealed TEXT NOT NULL,
    created_by_name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    UNIQUE (project_id, source_id, source_key)
);

-- Each canary's result in a run: signed in as by Ferry (the sandbox), or
-- tried by hand in a real org and recorded by a person.
CREATE TABLE canary_checks (
    id {{pk}},
    run_id BIGINT NOT NULL REFERENCES load_runs (id) ON DELETE CASCADE,
    canary_id BIGINT NOT NULL REFERENCES canaries (id) ON DELETE CASCADE,
    -- passed, failed or untested.
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    checked_by_name TEXT NOT NULL DEFAULT '',
    checked_at TIMESTAMP NULL,
    UNIQUE (run_id, canary_id)
);
