-- How each source's stored passwords are read (owned by credentials): the
-- attribute holding the stored value and, when salts are kept apart, the
-- attribute holding the salt; the formats the source allows, in order, and
-- the declared default; how a separate salt is encoded and where it goes;
-- iterations of an iterated digest; whether a pepper is mixed in. No
-- password and no hash is ever stored here.
CREATE TABLE password_settings (
    -- On SQLite only INTEGER PRIMARY KEY is the table's own key (the rowid).
    source_id {{if postgres}}BIGINT{{else}}INTEGER{{end}} PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    attribute TEXT NOT NULL,
    salt_attribute TEXT NOT NULL DEFAULT '',
    formats_json TEXT NOT NULL DEFAULT '[]',
    default_format TEXT NOT NULL DEFAULT '',
    salt_encoding TEXT NOT NULL DEFAULT '',
    salt_order TEXT NOT NULL DEFAULT '',
    iterations BIGINT NOT NULL DEFAULT 0,
    pepper BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX password_settings_project ON password_settings (project_id);
