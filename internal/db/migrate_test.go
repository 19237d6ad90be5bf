package db_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/db"
)

// migrationVersions lists the versions of the SQL files in migrations/, the
// directory the package embeds, so that the tests grow with the migrations.
func migrationVersions(t *testing.T) []int64 {
	t.Helper()
	entries, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatalf("read migrations: %v", err)
	}
	var out []int64
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		if !ok {
			t.Fatalf("migration %s is not named NNNNN_description.sql", e.Name())
		}
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", e.Name(), err)
		}
		out = append(out, v)
	}
	slices.Sort(out)
	if len(out) == 0 {
		t.Fatalf("no migrations found")
	}
	return out
}

// seed is data that a database at version since (or later) can hold, written
// with the SQL of that version, and the check that it is still there after
// upgrading to the newest schema. When a migration changes a table, add a
// seed for the new version rather than editing older ones: old databases in
// the field hold rows written by old code.
type seed struct {
	since  int64
	name   string
	insert []string
	// check returns one row when the data survived.
	check string
}

var seeds = []seed{
	{since: 1, name: "an account with a session and an API token", insert: []string{
		`INSERT INTO accounts (id, email, name, password_hash, is_admin, version, created_at, updated_at)
		 VALUES (1, 'lead@example.com', 'Lea Lead', '$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA', TRUE, 3, '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ('sess-hash', 1, '2026-03-01 08:00:00', '2026-03-01 20:00:00')`,
		`INSERT INTO api_tokens (account_id, name, token_hash, token_prefix, created_at) VALUES (1, 'ci', 'tok-hash', 'ferry_abcdef', '2026-03-01 08:00:00')`,
	}, check: `SELECT 1 FROM accounts a JOIN sessions s ON s.account_id = a.id JOIN api_tokens t ON t.account_id = a.id
		WHERE a.email = 'lead@example.com' AND a.name = 'Lea Lead' AND a.is_admin AND a.version = 3 AND s.token_hash = 'sess-hash' AND t.token_prefix = 'ferry_abcdef'`},
	{since: 1, name: "a project with a member, user type, subgroup, source, application and goals", insert: []string{
		`INSERT INTO projects (id, name, name_key, migration_type, status, version, created_at, updated_at)
		 VALUES (1, 'Acme', 'acme', 'one_time', 'planning', 2, '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO memberships (project_id, account_id, role, created_at, updated_at) VALUES (1, 1, 'project_lead', '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO user_types (id, project_id, kind, name, name_key, user_count, created_at, updated_at)
		 VALUES (1, 1, 'customer', 'Customers', 'customers', 120000, '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO subgroups (user_type_id, position, name, user_count) VALUES (1, 0, 'EU', 70000)`,
		`INSERT INTO sources (id, project_id, name, name_key, kind, access_status, migrate_credentials, migrate_groups, migrate_memberships, created_at, updated_at)
		 VALUES (1, 1, 'LDAP', 'ldap', 'ldap', 'granted', 'yes', 'no', 'no', '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO source_user_types (source_id, user_type_id) VALUES (1, 1)`,
		`INSERT INTO applications (id, project_id, name, name_key, access_method, assignment_basis, oin_status, created_at, updated_at)
		 VALUES (1, 1, 'Shop', 'shop', 'oidc', 'group', 'yes', '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO application_user_types (application_id, user_type_id) VALUES (1, 1)`,
		`INSERT INTO goals (project_id, approach, rationale, created_at, updated_at) VALUES (1, 'staged', 'less risk', '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
	}, check: `SELECT 1 FROM projects p
		JOIN memberships m ON m.project_id = p.id AND m.role = 'project_lead'
		JOIN user_types u ON u.project_id = p.id AND u.user_count = 120000
		JOIN subgroups sg ON sg.user_type_id = u.id AND sg.name = 'EU'
		JOIN sources s ON s.project_id = p.id AND s.access_status = 'granted'
		JOIN source_user_types su ON su.source_id = s.id AND su.user_type_id = u.id
		JOIN applications a ON a.project_id = p.id AND a.oin_status = 'yes'
		JOIN application_user_types au ON au.application_id = a.id AND au.user_type_id = u.id
		JOIN goals g ON g.project_id = p.id AND g.approach = 'staged'
		WHERE p.name = 'Acme' AND p.version = 2`},
	{since: 1, name: "an audit entry", insert: []string{
		`INSERT INTO audit_entries (project_id, actor_id, actor_name, action, entity_type, entity_id, after_json, created_at)
		 VALUES (1, 1, 'Lea Lead', 'create', 'project', 1, '{"name":"Acme"}', '2026-03-01 08:00:00')`,
	}, check: `SELECT 1 FROM audit_entries WHERE actor_name = 'Lea Lead' AND after_json = '{"name":"Acme"}'`},
	{since: 2, name: "a source field mapped to an Okta attribute, with its legal review and sign-off", insert: []string{
		`INSERT INTO profile_settings (project_id, login_pattern, created_at, updated_at) VALUES (1, '.+', '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO custom_attributes (project_id, name, name_key, title, data_type, is_unique, created_at, updated_at)
		 VALUES (1, 'employeeId', 'employeeid', 'Employee ID', 'string', TRUE, '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO source_fields (id, project_id, source_id, name, name_key, data_type, pii, pii_category, created_at, updated_at)
		 VALUES (1, 1, 1, 'mail', 'mail', 'string', 'yes', 'contact', '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO mapping_rows (project_id, source_field_id, target_attribute, status, created_at, updated_at)
		 VALUES (1, 1, 'email', 'mapped', '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO pii_reviews (project_id, source_field_id, status, decision, created_at, updated_at)
		 VALUES (1, 1, 'approved', 'migrate', '2026-03-01 08:00:00', '2026-03-01 08:00:00')`,
		`INSERT INTO pii_signoffs (project_id, signed_by_name, signed_at, field_count) VALUES (1, 'Liz Legal', '2026-03-01 09:00:00', 1)`,
	}, check: `SELECT 1 FROM source_fields f
		JOIN mapping_rows m ON m.source_field_id = f.id AND m.target_attribute = 'email'
		JOIN pii_reviews r ON r.source_field_id = f.id AND r.decision = 'migrate'
		JOIN pii_signoffs so ON so.project_id = f.project_id AND so.field_count = 1
		JOIN custom_attributes c ON c.project_id = f.project_id AND c.is_unique
		JOIN profile_settings ps ON ps.project_id = f.project_id AND ps.login_pattern = '.+'
		WHERE f.pii = 'yes'`},
	{since: 3, name: "an extract with a staged record, its edits and exclusion", insert: []string{
		`INSERT INTO extracts (id, project_id, source_id, status, file_name, format, records, created_at)
		 VALUES (1, 1, 1, 'ready', 'users.csv', 'csv', 1, '2026-03-02 08:00:00')`,
		`INSERT INTO staged_records (id, extract_id, position, source_key, attributes_json, edits_json, excluded, exclude_reason, edited, version)
		 VALUES (7, 1, 2, 'e100', '{"mail":["ann@example.com"]}', '{"mail":["ann@example.org"]}', TRUE, 'left', TRUE, 3)`,
	}, check: `SELECT 1 FROM staged_records r JOIN extracts e ON e.id = r.extract_id
		WHERE r.id = 7 AND r.source_key = 'e100' AND r.attributes_json = '{"mail":["ann@example.com"]}'
		AND r.edits_json = '{"mail":["ann@example.org"]}' AND r.excluded AND r.exclude_reason = 'left' AND r.edited AND r.version = 3`},
	{since: 4, name: "a finished staging job and a queued validation", insert: []string{
		`INSERT INTO jobs (id, project_id, source_id, kind, status, lock_key, params_json, done, total, message, result_json, created_by_name, created_at, started_at, finished_at, updated_at)
		 VALUES (3, 1, 1, 'stage_file', 'succeeded', 'source:1', '{"fileName":"users.csv"}', 120, 120, 'Staged users.csv: 1 record(s) from LDAP.', '{"extractId":1}',
		 'Lea Lead', '2026-03-02 08:00:00', '2026-03-02 08:00:01', '2026-03-02 08:00:02', '2026-03-02 08:00:02')`,
		`INSERT INTO jobs (id, project_id, kind, status, lock_key, created_at, updated_at) VALUES (4, 1, 'validate', 'queued', 'validate', '2026-03-02 08:01:00', '2026-03-02 08:01:00')`,
	}, check: `SELECT 1 FROM jobs s JOIN jobs v ON v.id = 4 AND v.status = 'queued' AND v.source_id IS NULL AND v.params_json = '{}'
		WHERE s.id = 3 AND s.source_id = 1 AND s.result_json = '{"extractId":1}' AND s.done = 120 AND s.finished_at IS NOT NULL`},
	{since: 5, name: "a staged record's profile", insert: []string{
		`INSERT INTO staged_profiles (record_id, profile_json, login_key, email_key)
		 VALUES (7, '{"login":"ann@example.org"}', 'ann@example.org', '')`,
		`INSERT INTO staged_keys (extract_id, kind, key, record_id) VALUES (1, 'login', 'ann@example.org', 7)`,
	}, check: `SELECT 1 FROM staged_profiles p JOIN staged_records r ON r.id = p.record_id
		JOIN staged_keys k ON k.record_id = r.id AND k.extract_id = r.extract_id AND k.kind = 'login' AND k.key = p.login_key
		WHERE p.login_key = 'ann@example.org'`},
	{since: 6, name: "a project's Okta org connection with a sealed token", insert: []string{
		`INSERT INTO okta_orgs (project_id, org_url, auth_scheme, token_sealed, token_hint, sandbox, checked_at, check_ok, check_message, version, created_at, updated_at)
		 VALUES (1, 'https://acme.okta.com', 'ssws', 'ferry-sealed-v1:0a1b2c3d:AAAA', 'wxyz', FALSE, '2026-03-02 09:00:00', TRUE, 'Connected.', 2, '2026-03-02 08:00:00', '2026-03-02 09:00:00')`,
	}, check: `SELECT 1 FROM okta_orgs o JOIN projects p ON p.id = o.project_id
		WHERE o.org_url = 'https://acme.okta.com' AND o.auth_scheme = 'ssws' AND o.token_hint = 'wxyz' AND o.check_ok AND NOT o.sandbox AND o.version = 2`},
	{since: 7, name: "a source's password settings", insert: []string{
		`INSERT INTO password_settings (source_id, project_id, attribute, salt_attribute, formats_json, default_format, salt_encoding, salt_order, iterations, pepper, version, created_at, updated_at)
		 VALUES (1, 1, 'userPassword', 'pwdSalt', '["sha1","bcrypt"]', 'sha1', 'base64', 'POSTFIX', 0, FALSE, 3, '2026-03-02 08:00:00', '2026-03-02 09:00:00')`,
	}, check: `SELECT 1 FROM password_settings s JOIN sources o ON o.id = s.source_id
		WHERE s.attribute = 'userPassword' AND s.default_format = 'sha1' AND s.salt_order = 'POSTFIX' AND NOT s.pepper AND s.version = 3`},
	{since: 9, name: "a defect recorded from a run and one added by hand", insert: []string{
		`INSERT INTO defects (project_id, number, use_case, description, test_status, ticket_status, priority, category, notes, error_code, load_run_id, affected, created_by_name, version, created_at, updated_at)
		 VALUES (1, 1, 'UC-3', '42 users failed in Test batch 2 with E0000001', 'failed', 'open', 'high', 'okta', '', 'E0000001', 5, 42, 'Ferry', 2, '2026-03-02 08:00:00', '2026-03-02 09:00:00')`,
		`INSERT INTO defects (project_id, number, description, test_status, ticket_status, priority, category, created_by_name, created_at, updated_at)
		 VALUES (1, 2, 'Managers missing in HR feed', 'not_run', 'in_progress', 'medium', 'hr', 'Eve Engineer', '2026-03-02 08:00:00', '2026-03-02 09:00:00')`,
	}, check: `SELECT 1 FROM defects d JOIN defects h ON h.project_id = d.project_id AND h.number = 2 AND h.load_run_id IS NULL AND h.error_code = '' AND h.version = 1
		WHERE d.number = 1 AND d.load_run_id = 5 AND d.error_code = 'E0000001' AND d.affected = 42 AND d.version = 2`},
	{since: 8, name: "a load run with a user it created and its provenance", insert: []string{
		`INSERT INTO load_runs (id, project_id, number, kind, org_url, mode, status, total, created_by_name, created_at, updated_at)
		 VALUES (40, 1, 1, 'load', 'https://acme.okta.com', 'hash', 'done', 1, 'Eve Engineer', '2026-03-02 08:00:00', '2026-03-02 09:00:00')`,
		`INSERT INTO load_items (run_id, seq, record_id, source_id, login, profile_json, state, okta_user_id, attempts)
		 VALUES (40, 1, 7, 1, 'ann@example.org', '{"login":"ann@example.org"}', 'created', '00u1', 1)`,
		`INSERT INTO okta_users (project_id, org_url, okta_user_id, login, record_id, source_id, run_id, created_at)
		 VALUES (1, 'https://acme.okta.com', '00u1', 'ann@example.org', 7, 1, 40, '2026-03-02 08:30:00')`,
	}, check: `SELECT 1 FROM load_items i JOIN load_runs r ON r.id = i.run_id JOIN okta_users u ON u.run_id = r.id AND u.okta_user_id = i.okta_user_id
		WHERE i.state = 'created' AND i.action = 'create' AND u.profile_json = '{}' AND u.status = '' AND r.window_start IS NULL`},
	{since: 10, name: "a source's cut-over settings and a canary", insert: []string{
		`INSERT INTO cutover_settings (source_id, project_id, status_attribute, disabled_values, disabled_action, manager_attribute, manager_kind, version, updated_at)
		 VALUES (1, 1, 'accountStatus', '["disabled"]', 'suspend', 'manager', 'dn', 2, '2026-03-02 09:00:00')`,
		`INSERT INTO canaries (project_id, source_id, source_key, login, hash_format, password_sealed, created_at)
		 VALUES (1, 1, 'emp-7', 'ann@example.org', 'bcrypt', 'ferry-sealed-v1:0a1b2c3d:AAAA', '2026-03-02 09:00:00')`,
	}, check: `SELECT 1 FROM cutover_settings c JOIN canaries k ON k.source_id = c.source_id
		WHERE c.disabled_action = 'suspend' AND c.manager_kind = 'dn' AND c.locked_action = 'suspend' AND k.hash_format = 'bcrypt'`},
	{since: 11, name: "a source's group hierarchy", insert: []string{
		`INSERT INTO group_hierarchies (source_id, project_id, flatten, file_name, groups, imported_by_name, imported_at)
		 VALUES (1, 1, TRUE, 'groups.ldif', 2, 'Eve Engineer', '2026-03-02 09:00:00')`,
		`INSERT INTO source_groups (source_id, key, name, parents_json) VALUES (1, 'cn=sales,ou=groups,dc=acme', 'Sales', '["cn=staff,ou=groups,dc=acme"]')`,
	}, check: `SELECT 1 FROM source_groups g JOIN group_hierarchies h ON h.source_id = g.source_id WHERE h.flatten AND g.name = 'Sales'`},
	{since: 12, name: "a frozen plan version signed by the lead", insert: []string{
		`INSERT INTO plan_versions (id, project_id, number, note, frozen_by_id, frozen_by_name, frozen_at, plan_json, facts_json, digest)
		 VALUES (3, 1, 1, 'Ready for review', 1, 'Lea Lead', '2026-03-02 09:00:00', '{"format":"ferry-plan"}', '{}', 'abc123')`,
		`INSERT INTO plan_signatures (version_id, role, signed_by_id, signed_by_name, signed_at) VALUES (3, 'lead', 1, 'Lea Lead', '2026-03-02 10:00:00')`,
	}, check: `SELECT 1 FROM plan_versions v JOIN plan_signatures s ON s.version_id = v.id AND s.role = 'lead'
		WHERE v.number = 1 AND v.note = 'Ready for review' AND v.digest = 'abc123' AND s.signed_by_name = 'Lea Lead'`},
	{since: 13, name: "an org's password import hook serving a project, with an attempt", insert: []string{
		`INSERT INTO password_hooks (id, org_url, org_key, header_name, secret_sealed, secret_hint, budget_ms, version, created_at, updated_at)
		 VALUES (2, 'https://acme.okta.com', 'k3y0rg', 'Authorization', 'ferry-sealed-v1:0a1b2c3d:AAAA', 'wxyz', 1500, 2, '2026-03-02 08:00:00', '2026-03-02 09:00:00')`,
		`INSERT INTO hook_projects (project_id, hook_id, created_at) VALUES (1, 2, '2026-03-02 08:00:00')`,
		`INSERT INTO hook_attempts (hook_id, project_id, source_id, login_key_hash, outcome, cause, duration_ms, at)
		 VALUES (2, 1, 1, 'ab12', 'unverified', 'wrong_password', 87, '2026-03-02 09:30:00')`,
	}, check: `SELECT 1 FROM password_hooks h JOIN hook_projects p ON p.hook_id = h.id JOIN hook_attempts a ON a.hook_id = h.id AND a.project_id = p.project_id
		WHERE h.org_key = 'k3y0rg' AND h.budget_ms = 1500 AND h.version = 2 AND a.outcome = 'unverified' AND a.cause = 'wrong_password'`},
	{since: 14, name: "the migration program: OAuth settings, a confirmed import, an event, a bind source and the program's end", insert: []string{
		`UPDATE password_hooks SET auth_type = 'oauth', oauth_issuer = 'https://acme.okta.com/oauth2/default', okta_hook_id = 'cal1' WHERE id = 2`,
		`UPDATE okta_users SET password_imported_at = '2026-03-03 10:00:00', imported_via = 'event' WHERE okta_user_id = '00u1'`,
		`INSERT INTO hook_events (hook_id, event_uuid, event_type, okta_user_id, outcome, published, received_at)
		 VALUES (2, 'e-1', 'user.import.password', '00u1', 'SUCCESS', '2026-03-03 10:00:00', '2026-03-03 10:00:01')`,
		`INSERT INTO hook_ldap_binds (source_id, project_id, enabled, url, bind_template, updated_at)
		 VALUES (1, 1, TRUE, 'ldaps://dc1.acme.example', '{dn}', '2026-03-03 09:00:00')`,
		`INSERT INTO hook_programs (project_id, period_days, hashes_erased_at, hashes_erased_by_name, hashes_erased_count, updated_at)
		 VALUES (1, 90, '2026-05-01 09:00:00', 'Lea Lead', 42, '2026-05-01 09:00:00')`,
	}, check: `SELECT 1 FROM password_hooks h JOIN hook_events e ON e.hook_id = h.id JOIN okta_users u ON u.okta_user_id = e.okta_user_id
		JOIN hook_ldap_binds b ON b.project_id = u.project_id JOIN hook_programs p ON p.project_id = u.project_id
		WHERE h.auth_type = 'oauth' AND h.header_name = 'Authorization' AND u.imported_via = 'event' AND b.lockout_threshold = 5
		AND b.timeout_ms = 1500 AND p.period_days = 90 AND p.hashes_erased_count = 42`},
}

func openUnmigrated(t *testing.T) *db.DB {
	t.Helper()
	return mustOpen(t, db.Options{URL: filepath.Join(t.TempDir(), "ferry.db"), NoMigrate: true})
}

func TestMigrationsApplyToAnEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	versions := migrationVersions(t)
	d := openUnmigrated(t)
	cur, newest, err := d.SchemaVersion(ctx)
	if err != nil {
		t.Fatalf("schema version: %v", err)
	}
	if cur != 0 {
		t.Fatalf("a fresh database is at version %d, want 0", cur)
	}
	if newest != versions[len(versions)-1] {
		t.Fatalf("newest = %d, want %d (the last file in migrations/)", newest, versions[len(versions)-1])
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if cur, newest, err = d.SchemaVersion(ctx); err != nil || cur != newest {
		t.Fatalf("after migrating: version %d of %d (%v)", cur, newest, err)
	}
	// Migrating again changes nothing and does not fail.
	if err := d.Migrate(ctx); err != nil {
		t.Fatalf("migrate twice: %v", err)
	}
	for _, s := range seeds {
		for _, q := range s.insert {
			if err := d.Write.Exec(q).Error; err != nil {
				t.Fatalf("%s: the newest schema refuses %q: %v", s.name, q, err)
			}
		}
	}
}

// Every earlier version's schema, holding data written at that version,
// upgrades to the newest without losing the data. The newest version itself
// is included, so that with a single migration the test still checks that an
// up-to-date database holding data is left alone.
func TestMigrationsUpgradeEachEarlierVersionKeepingData(t *testing.T) {
	versions := migrationVersions(t)
	newest := versions[len(versions)-1]
	for _, from := range versions {
		t.Run("from version "+strconv.FormatInt(from, 10), func(t *testing.T) {
			ctx := context.Background()
			d := openUnmigrated(t)
			if err := d.MigrateUpTo(ctx, from); err != nil {
				t.Fatalf("migrate up to %d: %v", from, err)
			}
			if cur, _, err := d.SchemaVersion(ctx); err != nil || cur != from {
				t.Fatalf("after MigrateUpTo(%d): version %d (%v)", from, cur, err)
			}
			var applied []seed
			for _, s := range seeds {
				if s.since > from {
					continue
				}
				for _, q := range s.insert {
					if err := d.Write.Exec(q).Error; err != nil {
						t.Fatalf("seed %q at version %d: %v", s.name, from, err)
					}
				}
				applied = append(applied, s)
			}
			if len(applied) == 0 {
				t.Fatalf("no seed data for version %d: add a seed so that its upgrade is tested with data", from)
			}
			if err := d.Migrate(ctx); err != nil {
				t.Fatalf("migrate from %d: %v", from, err)
			}
			cur, n, err := d.SchemaVersion(ctx)
			if err != nil || cur != newest || n != newest {
				t.Fatalf("after upgrading from %d: version %d of %d (%v), want %d", from, cur, n, err, newest)
			}
			for _, s := range applied {
				var rows []int
				if err := d.Read.Raw(s.check).Scan(&rows).Error; err != nil {
					t.Fatalf("check %q: %v", s.name, err)
				}
				if len(rows) != 1 {
					t.Errorf("%s: %d matching rows after the upgrade, want 1", s.name, len(rows))
				}
			}
		})
	}
}

func TestOpenMigratesByDefault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ferry.db")
	d := mustOpen(t, db.Options{URL: path, NoMigrate: true})
	if cur, _, err := d.SchemaVersion(context.Background()); err != nil || cur != 0 {
		t.Fatalf("NoMigrate left version %d (%v), want 0", cur, err)
	}
	_ = d.Close()
	d2 := mustOpen(t, db.Options{URL: path})
	cur, newest, err := d2.SchemaVersion(context.Background())
	if err != nil || cur != newest || newest == 0 {
		t.Fatalf("Open left version %d of %d (%v), want the newest", cur, newest, err)
	}
}
