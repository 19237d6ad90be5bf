-- The migration program around the password import hook (owned by hook):
-- how Okta's calls are authenticated (a shared-secret header, or an OAuth
-- 2.0 access token Ferry verifies), the hook's registration in the org,
-- LDAP bind verification per source, Okta's confirmations of imported
-- passwords (System Log events user.import.password delivered to Ferry's
-- event hook, or a user's provider read back as OKTA), the stragglers'
-- password resets and the end of the program.

-- auth_type: header (the shared secret in header_name) or oauth (a JWT
-- access token, verified with the issuer's keys).
ALTER TABLE password_hooks ADD COLUMN auth_type TEXT NOT NULL DEFAULT 'header';
ALTER TABLE password_hooks ADD COLUMN oauth_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE password_hooks ADD COLUMN oauth_audience TEXT NOT NULL DEFAULT '';
ALTER TABLE password_hooks ADD COLUMN oauth_jwks_url TEXT NOT NULL DEFAULT '';
ALTER TABLE password_hooks ADD COLUMN oauth_client_id TEXT NOT NULL DEFAULT '';
ALTER TABLE password_hooks ADD COLUMN oauth_scope TEXT NOT NULL DEFAULT '';
-- The inline hook and the event hook as registered in the org (their Okta
-- ids), and the last test of the inline hook through Okta.
ALTER TABLE password_hooks ADD COLUMN okta_hook_id TEXT NOT NULL DEFAULT '';
ALTER TABLE password_hooks ADD COLUMN okta_event_hook_id TEXT NOT NULL DEFAULT '';
ALTER TABLE password_hooks ADD COLUMN registered_at TIMESTAMP NULL;
ALTER TABLE password_hooks ADD COLUMN tested_at TIMESTAMP NULL;
ALTER TABLE password_hooks ADD COLUMN test_result TEXT NOT NULL DEFAULT '';

-- The Okta user (okta_users.id) an attempt was about, when Ferry found one.
ALTER TABLE hook_attempts ADD COLUMN okta_user_ref BIGINT NULL;
CREATE INDEX hook_attempts_user ON hook_attempts (okta_user_ref, at);

-- Confirmation that Okta holds the password: imported_via is 'event' (a
-- user.import.password SUCCESS event) or 'provider' (the user read back
-- with provider OKTA). reset_at: a straggler's password reset was sent.
ALTER TABLE okta_users ADD COLUMN password_imported_at TIMESTAMP NULL;
ALTER TABLE okta_users ADD COLUMN imported_via TEXT NOT NULL DEFAULT '';
ALTER TABLE okta_users ADD COLUMN reset_at TIMESTAMP NULL;
CREATE INDEX okta_users_okta_id ON okta_users (okta_user_id);

-- Every System Log event received through the event hook, once (Okta may
-- deliver an event more than once: event_uuid is the key).
CREATE TABLE hook_events (
    id {{pk}},
    hook_id BIGINT NOT NULL REFERENCES password_hooks (id) ON DELETE CASCADE,
    event_uuid TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    okta_user_id TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    published TIMESTAMP NULL,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX hook_events_user ON hook_events (okta_user_id);

-- Per source: verify the password with a bind against the legacy directory
-- instead of the staged hash. bind_template names the account from the
-- record ({dn}, {login}, {source_key}, {attr:NAME}); no service password is
-- kept. Binds count as failed sign-ins in Active Directory: Ferry never
-- retries one and stops below lockout_threshold failures per account in
-- lockout_window_minutes.
CREATE TABLE hook_ldap_binds (
    source_id {{if postgres}}BIGINT{{else}}INTEGER{{end}} PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    url TEXT NOT NULL,
    start_tls BOOLEAN NOT NULL DEFAULT FALSE,
    insecure_skip_verify BOOLEAN NOT NULL DEFAULT FALSE,
    ca_cert_pem TEXT NOT NULL DEFAULT '',
    bind_template TEXT NOT NULL,
    lockout_threshold BIGINT NOT NULL DEFAULT 5,
    lockout_window_minutes BIGINT NOT NULL DEFAULT 30,
    max_concurrent BIGINT NOT NULL DEFAULT 4,
    timeout_ms BIGINT NOT NULL DEFAULT 1500,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL
);

-- Per project: the program's period (stragglers are hook users created
-- longer ago than that who never signed in) and its end (the staged hashes
-- erased, by whom, how many).
CREATE TABLE hook_programs (
    project_id {{if postgres}}BIGINT{{else}}INTEGER{{end}} PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    period_days BIGINT NOT NULL DEFAULT 60,
    hashes_erased_at TIMESTAMP NULL,
    hashes_erased_by_name TEXT NOT NULL DEFAULT '',
    hashes_erased_count BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL DEFAULT 1,
    updated_at TIMESTAMP NOT NULL
);

-- The program's dashboard finds a user's newest attempt by the login key's
-- hash when the attempt has no okta_user_ref (recorded before Ferry knew
-- the Okta user).
CREATE INDEX hook_attempts_login ON hook_attempts (hook_id, login_key_hash);
