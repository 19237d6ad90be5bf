-- The attribute-mapping matrix, the project's Okta profile schema, and the
-- legal review of personal data.

-- Org-level profile settings that change what Okta accepts (owned by schema).
CREATE TABLE profile_settings (
    project_id BIGINT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    login_pattern TEXT NOT NULL DEFAULT '',
    email_unique BOOLEAN NOT NULL DEFAULT FALSE,
    second_email_unique BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Custom profile attributes the project adds to Okta's base schema (owned by schema).
CREATE TABLE custom_attributes (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    data_type TEXT NOT NULL,
    min_length INTEGER NULL,
    max_length INTEGER NULL,
    pattern TEXT NOT NULL DEFAULT '',
    enum_json TEXT NOT NULL DEFAULT '',
    required BOOLEAN NOT NULL DEFAULT FALSE,
    is_unique BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX custom_attributes_project_name ON custom_attributes (project_id, name_key);

-- The fields of each source system (owned by mapping). PII is what a person
-- confirmed; pii_suggestion is Ferry's unconfirmed guess.
CREATE TABLE source_fields (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_id BIGINT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    data_type TEXT NOT NULL,
    max_length INTEGER NULL,
    multi_valued BOOLEAN NOT NULL DEFAULT FALSE,
    known_unique BOOLEAN NOT NULL DEFAULT FALSE,
    samples_json TEXT NOT NULL DEFAULT '[]',
    pii TEXT NOT NULL DEFAULT 'unknown',
    pii_category TEXT NOT NULL DEFAULT '',
    pii_suggestion TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX source_fields_source_name ON source_fields (source_id, name_key);
CREATE INDEX source_fields_project ON source_fields (project_id);

-- One row of the matrix: a source field mapped to an Okta attribute (or
-- deliberately ignored, with an empty target). Priority 1 is the source of
-- truth among the rows that feed one target (owned by mapping).
CREATE TABLE mapping_rows (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_field_id BIGINT NOT NULL REFERENCES source_fields (id) ON DELETE CASCADE,
    target_attribute TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 1,
    transform_json TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX mapping_rows_field_target ON mapping_rows (source_field_id, target_attribute);
CREATE INDEX mapping_rows_project_target ON mapping_rows (project_id, target_attribute);

-- The legal decision on one PII source field (owned by privacy).
CREATE TABLE pii_reviews (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_field_id BIGINT NOT NULL REFERENCES source_fields (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    decision TEXT NOT NULL DEFAULT '',
    transform_method TEXT NOT NULL DEFAULT '',
    lawful_basis TEXT NOT NULL DEFAULT '',
    retention_note TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    decided_by_id BIGINT NULL,
    decided_by_name TEXT NOT NULL DEFAULT '',
    decided_at TIMESTAMP NULL,
    approved_snapshot_json TEXT NOT NULL DEFAULT '',
    reopened_reason TEXT NOT NULL DEFAULT '',
    version BIGINT NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX pii_reviews_field ON pii_reviews (source_field_id);
CREATE INDEX pii_reviews_project ON pii_reviews (project_id, status);

-- Sign-offs of a project's whole PII register. The newest one counts while
-- the register still hashes to register_hash: any later change reopens it.
CREATE TABLE pii_signoffs (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    signed_by_id BIGINT NULL,
    signed_by_name TEXT NOT NULL,
    signed_at TIMESTAMP NOT NULL,
    field_count INTEGER NOT NULL,
    register_hash TEXT NOT NULL DEFAULT '',
    revoked_at TIMESTAMP NULL,
    revoked_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX pii_signoffs_project ON pii_signoffs (project_id, id);
