-- The console: accounts, sessions, API tokens, projects and their members,
-- the migration inventory (user types, sources, applications, goals) and the
-- audit log. {{pk}} becomes each dialect's auto-incrementing primary key.

CREATE TABLE accounts (
    id {{pk}},
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    disabled_at TIMESTAMP NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX accounts_email ON accounts (email);

CREATE TABLE sessions (
    id {{pk}},
    token_hash TEXT NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    user_agent TEXT NOT NULL DEFAULT '',
    remote_ip TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_token_hash ON sessions (token_hash);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE sign_in_failures (
    email TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at TIMESTAMP NOT NULL
);

CREATE TABLE api_tokens (
    id {{pk}},
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    token_prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NULL,
    revoked_at TIMESTAMP NULL
);
CREATE UNIQUE INDEX api_tokens_token_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

CREATE TABLE projects (
    id {{pk}},
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    okta_org_url TEXT NOT NULL DEFAULT '',
    migration_type TEXT NOT NULL,
    status TEXT NOT NULL,
    user_creation_rate_limit INTEGER NOT NULL DEFAULT 600,
    load_rate_share_percent INTEGER NOT NULL DEFAULT 80,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX projects_name_key ON projects (name_key);

CREATE TABLE memberships (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX memberships_project_account ON memberships (project_id, account_id);
CREATE INDEX memberships_account ON memberships (account_id);

CREATE TABLE user_types (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    user_count BIGINT NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX user_types_project_name ON user_types (project_id, name_key);

CREATE TABLE subgroups (
    id {{pk}},
    user_type_id BIGINT NOT NULL REFERENCES user_types (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    user_count BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX subgroups_user_type ON subgroups (user_type_id, position);

CREATE TABLE sources (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    access_owner TEXT NOT NULL DEFAULT '',
    access_status TEXT NOT NULL,
    access_status_date TEXT NOT NULL DEFAULT '',
    access_reference TEXT NOT NULL DEFAULT '',
    migrate_credentials TEXT NOT NULL,
    migrate_groups TEXT NOT NULL,
    migrate_memberships TEXT NOT NULL,
    password_hash_format TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sources_project_name ON sources (project_id, name_key);

CREATE TABLE source_user_types (
    source_id BIGINT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    user_type_id BIGINT NOT NULL REFERENCES user_types (id) ON DELETE CASCADE,
    PRIMARY KEY (source_id, user_type_id)
);
CREATE INDEX source_user_types_user_type ON source_user_types (user_type_id);

CREATE TABLE applications (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    access_method TEXT NOT NULL,
    assignment_basis TEXT NOT NULL,
    oin_status TEXT NOT NULL,
    oin_link TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX applications_project_name ON applications (project_id, name_key);

CREATE TABLE application_user_types (
    application_id BIGINT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    user_type_id BIGINT NOT NULL REFERENCES user_types (id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, user_type_id)
);
CREATE INDEX application_user_types_user_type ON application_user_types (user_type_id);

CREATE TABLE goals (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_experience TEXT NOT NULL DEFAULT '',
    acceptable_impact TEXT NOT NULL DEFAULT '',
    archive_legacy_data TEXT NOT NULL DEFAULT '',
    policies_and_standards TEXT NOT NULL DEFAULT '',
    one_shot_acceptable TEXT NOT NULL DEFAULT '',
    stages_preferred TEXT NOT NULL DEFAULT '',
    approach TEXT NOT NULL DEFAULT '',
    rationale TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX goals_project ON goals (project_id);

-- Append-only: no foreign keys, so that the history of a deleted project or
-- account stays readable.
CREATE TABLE audit_entries (
    id {{pk}},
    project_id BIGINT NULL,
    actor_id BIGINT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id BIGINT NOT NULL,
    entity_label TEXT NOT NULL DEFAULT '',
    before_json TEXT NOT NULL DEFAULT '',
    after_json TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_entries_project ON audit_entries (project_id, id);
CREATE INDEX audit_entries_entity ON audit_entries (entity_type, entity_id, id);
CREATE INDEX audit_entries_actor ON audit_entries (actor_id, id);
