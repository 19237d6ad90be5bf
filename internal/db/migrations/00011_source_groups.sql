-- Nested source groups (owned by internal/load): a source's group
-- hierarchy, imported from an export of its groups (an LDIF of Active
-- Directory groups with their memberOf, or a CSV of group and parent), and
-- whether a load flattens it: a user in a group is then also put in every
-- group that group is nested in.

-- One imported hierarchy per source, replaced whole by the next import.
CREATE TABLE group_hierarchies (
    source_id {{if postgres}}BIGINT{{else}}INTEGER{{end}} PRIMARY KEY REFERENCES sources (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    -- flatten (nested memberships become direct ones in Okta) or direct
    -- (only the groups the user is a member of, as the inventory decides).
    flatten BOOLEAN NOT NULL DEFAULT FALSE,
    file_name TEXT NOT NULL DEFAULT '',
    groups BIGINT NOT NULL DEFAULT 0,
    imported_by_name TEXT NOT NULL DEFAULT '',
    imported_at TIMESTAMP NOT NULL
);

-- Each group of a hierarchy: its key (the DN, lower-cased, or the name),
-- its name in Okta, and the keys of the groups it is a member of.
CREATE TABLE source_groups (
    source_id BIGINT NOT NULL REFERENCES group_hierarchies (source_id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    parents_json TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (source_id, key)
);
