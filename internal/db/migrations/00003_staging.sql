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
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX staged_records_extract ON staged_records (extract_id, id);
CREATE INDEX staged_records_key ON staged_records (extract_id, source_key);

-- Rows a reader could not take (a ragged CSV row), kept with the reason.
CREATE TABLE quarantined_rows (
    id {{pk}},
    extract_id BIGINT NOT NULL REFERENCES extracts (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX quarantined_rows_extract ON quarantined_rows (extract_id, position);
