-- The keys moved to staged_profiles. SQLite cannot drop these columns in
-- place (the comment before them in the table's DDL defeats it), so there
-- the table is rebuilt without them.
DROP INDEX staged_records_login;
DROP INDEX staged_records_email;
{{if postgres}}
ALTER TABLE staged_records DROP COLUMN login_key;
ALTER TABLE staged_records DROP COLUMN email_key;
{{else}}
CREATE TABLE staged_records_rebuilt (
    id {{pk}},
    extract_id BIGINT NOT NULL REFERENCES extracts (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    source_key TEXT NOT NULL DEFAULT '',
    attributes_json TEXT NOT NULL,
    edits_json TEXT NOT NULL DEFAULT '{}',
    excluded BOOLEAN NOT NULL DEFAULT FALSE,
    exclude_reason TEXT NOT NULL DEFAULT '',
    edited BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1
);
INSERT INTO staged_records_rebuilt (id, extract_id, position, source_key, attributes_json, edits_json, excluded, exclude_reason, edited, version)
    SELECT id, extract_id, position, source_key, attributes_json, edits_json, excluded, exclude_reason, edited, version FROM staged_records;
DROP TABLE staged_records;
ALTER TABLE staged_records_rebuilt RENAME TO staged_records;
CREATE INDEX staged_records_extract ON staged_records (extract_id, id);
CREATE INDEX staged_records_key ON staged_records (extract_id, source_key);
{{end}}

-- Each staged record's Okta profile, computed through the matrix by
-- validation. Kept apart from the record so that a re-validation writes
-- only the profiles that changed, never the (larger) source attributes.
-- Which matrix computed them is the validation run's matrix_digest.
CREATE TABLE staged_profiles (
    -- On SQLite only INTEGER PRIMARY KEY is the table's own key (the rowid);
    -- any other spelling adds a second index.
    record_id {{if postgres}}BIGINT{{else}}INTEGER{{end}} PRIMARY KEY REFERENCES staged_records (id) ON DELETE CASCADE,
    profile_json TEXT NOT NULL,
    -- The keys as last computed (see staged_keys), to tell what changed.
    login_key TEXT NOT NULL DEFAULT '',
    email_key TEXT NOT NULL DEFAULT ''
);

-- The uniqueness keys of the staged records, for the duplicate checks and
-- lookups by login: login compared as Okta does (case and accents ignored),
-- email likewise when the org requires unique emails. The key order of the
-- primary key is the order validation writes them in (sorted), so that a
-- million keys fill the index front to back instead of rewriting random
-- pages of it commit after commit.
CREATE TABLE staged_keys (
    extract_id BIGINT NOT NULL REFERENCES extracts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    PRIMARY KEY (extract_id, kind, key, record_id)
){{if not postgres}} WITHOUT ROWID{{end}};

-- The matrix a validation run computed the profiles with: when the matrix
-- has changed since, the run's verdicts are out of date.
ALTER TABLE validation_runs ADD COLUMN matrix_digest TEXT NOT NULL DEFAULT '';
