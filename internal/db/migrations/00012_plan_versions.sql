-- Frozen plan versions and their sign-off (owned by internal/plandoc): a
-- person freezes the project's plan as a numbered version (number is per
-- project: v1, v2…), with a note. A version keeps the plan as the portable
-- plan file (plan_json, plandoc.Encode's bytes, so that documents can be
-- made from it at any time), the facts the documents show beside it
-- (facts_json: quality summary, test batches, estimates…) and the SHA-256
-- of plan_json (digest), which tells whether the live plan is still the
-- one that was signed. Versions are never changed nor deleted (but go with
-- their project). Who froze and signed are kept by name as well as by id
-- (not foreign keys: the record outlives an account).
CREATE TABLE plan_versions (
    id {{pk}},
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    frozen_by_id BIGINT NULL,
    frozen_by_name TEXT NOT NULL DEFAULT '',
    frozen_at TIMESTAMP NOT NULL,
    plan_json TEXT NOT NULL,
    facts_json TEXT NOT NULL DEFAULT '{}',
    digest TEXT NOT NULL
);
CREATE UNIQUE INDEX plan_versions_number ON plan_versions (project_id, number);

-- The signatures of a version: the project lead's and the legal
-- reviewer's, at most one each (signing again replaces it).
CREATE TABLE plan_signatures (
    id {{pk}},
    version_id BIGINT NOT NULL REFERENCES plan_versions (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('lead', 'legal')),
    signed_by_id BIGINT NULL,
    signed_by_name TEXT NOT NULL DEFAULT '',
    signed_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX plan_signatures_role ON plan_signatures (version_id, role);
