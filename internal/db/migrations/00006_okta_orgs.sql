-- Each project's connection to its Okta org (owned by orgs): the org's URL,
-- how the token is sent, and the token itself sealed with Ferry's secret key
-- (never in clear; token_hint keeps its last four characters only, so that
-- people can tell which token is saved). sandbox is set only by a successful
-- connection check that found Ferry's sandbox; changing the URL, the scheme
-- or the token clears it with the rest of the last check.
CREATE TABLE okta_orgs (
    -- On SQLite only INTEGER PRIMARY KEY is the table's own key (the rowid).
    project_id {{if postgres}}BIGINT{{else}}INTEGER{{end}} PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    org_url TEXT NOT NULL,
    auth_scheme TEXT NOT NULL CHECK (auth_scheme IN ('ssws', 'bearer')),
    token_sealed TEXT NOT NULL,
    token_hint TEXT NOT NULL,
    sandbox BOOLEAN NOT NULL DEFAULT FALSE,
    -- The last connection check: when, whether it succeeded, what it said.
    checked_at TIMESTAMP NULL,
    check_ok BOOLEAN NOT NULL DEFAULT FALSE,
    check_message TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
