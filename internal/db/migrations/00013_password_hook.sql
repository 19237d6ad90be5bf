-- Ferry's password import inline hook (owned by hook). Okta allows one
-- password import hook per org, so the hook belongs to an org, not to a
-- project: password_hooks holds one row per Okta org, reached at a path
-- that carries org_key (a random, unguessable id, never the org's URL), and
-- hook_projects lists the projects whose staged users it may verify. The
-- shared secret Okta sends is sealed with Ferry's secret key (never in
-- clear; secret_hint keeps its last four characters).
CREATE TABLE password_hooks (
    id {{pk}},
    org_url TEXT NOT NULL UNIQUE,
    org_key TEXT NOT NULL UNIQUE,
    header_name TEXT NOT NULL,
    secret_sealed TEXT NOT NULL,
    secret_hint TEXT NOT NULL,
    -- The time the hook gives itself to answer, well inside Okta's 3 s.
    budget_ms BIGINT NOT NULL DEFAULT 2000,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- A project is served by one hook at most (the hook of its org).
CREATE TABLE hook_projects (
    -- On SQLite only INTEGER PRIMARY KEY is the table's own key (the rowid).
    project_id {{if postgres}}BIGINT{{else}}INTEGER{{end}} PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    hook_id BIGINT NOT NULL REFERENCES password_hooks (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX hook_projects_hook ON hook_projects (hook_id);

-- Every call of the hook, for the dashboard: what was answered and why,
-- never the login (login_key_hash is the SHA-256 of its Okta comparison
-- key) and never the password.
CREATE TABLE hook_attempts (
    id {{pk}},
    hook_id BIGINT NOT NULL REFERENCES password_hooks (id) ON DELETE CASCADE,
    project_id BIGINT NULL REFERENCES projects (id) ON DELETE SET NULL,
    source_id BIGINT NULL REFERENCES sources (id) ON DELETE SET NULL,
    login_key_hash TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL CHECK (outcome IN ('verified', 'unverified', 'error')),
    cause TEXT NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL DEFAULT 0,
    at TIMESTAMP NOT NULL
);
CREATE INDEX hook_attempts_hook ON hook_attempts (hook_id, at);
CREATE INDEX hook_attempts_project ON hook_attempts (project_id, at);
