package plan_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/plan"
)

func TestCreateSource(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	a := f.mustUserType(t, p.ID, "Staff", 10)
	b := f.mustUserType(t, p.ID, "Partners", 10)

	src, err := f.plan.CreateSource(f.ctx, p.ID, plan.SourceInput{Name: ptr(" Corporate AD "), Kind: ptr("active_directory"), UserTypeIDs: &[]int64{b.ID, a.ID, b.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if src.Name != "Corporate AD" || src.AccessStatus != plan.AccessNotRequested || src.MigrateCredentials != plan.DecisionUndecided ||
		src.MigrateGroups != plan.DecisionUndecided || src.MigrateMemberships != plan.DecisionUndecided || src.Version != 1 {
		t.Fatalf("created = %+v; want the defaults", src)
	}
	got, err := f.plan.FindSourceByID(context.Background(), p.ID, src.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got.UserTypeIDs) != fmt.Sprint([]int64{a.ID, b.ID}) {
		t.Fatalf("user types = %v, want each once", got.UserTypeIDs)
	}
	entries := f.history(t, "source", src.ID)
	if len(entries) != 1 {
		t.Fatalf("entries = %d", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "create", "source", src.ID)
	if entries[0].EntityLabel != "Corporate AD" || !strings.Contains(entries[0].AfterJSON, `"kind":"active_directory"`) {
		t.Fatalf("entry = %+v", entries[0])
	}

	full := plan.SourceInput{
		Name: ptr(script), Kind: ptr("database"), AccessOwner: ptr("Olga <olga@example.com>"), AccessStatus: ptr(plan.AccessGranted),
		AccessStatusDate: ptr("2024-02-29"), AccessReference: ptr("CHG-1234"), MigrateCredentials: ptr("yes"), MigrateGroups: ptr("yes"),
		MigrateMemberships: ptr("yes"), PasswordHashFormat: ptr("bcrypt"), Notes: ptr("<b>bold</b>"),
	}
	s2, err := f.plan.CreateSource(f.ctx, p.ID, full)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = f.plan.FindSourceByID(context.Background(), p.ID, s2.ID)
	if got.Name != script || got.AccessOwner != "Olga <olga@example.com>" || got.AccessStatusDate != "2024-02-29" || got.PasswordHashFormat != "bcrypt" ||
		got.Notes != "<b>bold</b>" || got.AccessReference != "CHG-1234" || got.MigrateMemberships != "yes" || len(got.UserTypeIDs) != 0 {
		t.Fatalf("stored = %+v", got)
	}
}

func TestSourceValidation(t *testing.T) {
	valid := func() plan.SourceInput { return plan.SourceInput{Name: ptr("LDAP"), Kind: ptr("ldap")} }
	with := func(change func(*plan.SourceInput)) plan.SourceInput {
		in := valid()
		change(&in)
		return in
	}
	tests := []struct {
		name  string
		in    plan.SourceInput
		field string
		want  string
	}{
		{"empty name", with(func(in *plan.SourceInput) { in.Name = ptr(" ") }), "name", "required"},
		{"overlong name", with(func(in *plan.SourceInput) { in.Name = ptr(strings.Repeat("n", 201)) }), "name", "too long"},
		{"unknown kind", with(func(in *plan.SourceInput) { in.Kind = ptr("mainframe") }), "kind", "must be one of: active_directory, ldap"},
		{"empty kind", with(func(in *plan.SourceInput) { in.Kind = ptr("") }), "kind", "must be one of"},
		{"overlong owner", with(func(in *plan.SourceInput) { in.AccessOwner = ptr(strings.Repeat("o", 201)) }), "access_owner", "too long"},
		{"owner with a control character", with(func(in *plan.SourceInput) { in.AccessOwner = ptr("Olga\x1b") }), "access_owner", "control characters"},
		{"unknown access status", with(func(in *plan.SourceInput) { in.AccessStatus = ptr("pending") }), "access_status", "must be one of"},
		{"date in another format", with(func(in *plan.SourceInput) { in.AccessStatusDate = ptr("02/03/2026") }), "access_status_date", "YYYY-MM-DD"},
		{"date that does not exist", with(func(in *plan.SourceInput) { in.AccessStatusDate = ptr("2026-02-30") }), "access_status_date", "YYYY-MM-DD"},
		{"month thirteen", with(func(in *plan.SourceInput) { in.AccessStatusDate = ptr("2026-13-01") }), "access_status_date", "YYYY-MM-DD"},
		{"date with a time", with(func(in *plan.SourceInput) { in.AccessStatusDate = ptr("2026-03-02T09:00:00Z") }), "access_status_date", "YYYY-MM-DD"},
		{"overlong reference", with(func(in *plan.SourceInput) { in.AccessReference = ptr(strings.Repeat("r", 501)) }), "access_reference", "too long"},
		{"unknown credentials decision", with(func(in *plan.SourceInput) { in.MigrateCredentials = ptr("maybe") }), "migrate_credentials", "must be one of: undecided, yes, no"},
		{"unknown groups decision", with(func(in *plan.SourceInput) { in.MigrateGroups = ptr("true") }), "migrate_groups", "must be one of"},
		{"unknown memberships decision", with(func(in *plan.SourceInput) { in.MigrateMemberships = ptr("YES") }), "migrate_memberships", "must be one of"},
		{"unknown hash format", with(func(in *plan.SourceInput) { in.MigrateCredentials = ptr("yes"); in.PasswordHashFormat = ptr("rot13") }), "password_hash_format", "must be one of"},
		{"hash format without migrating credentials", with(func(in *plan.SourceInput) { in.PasswordHashFormat = ptr("bcrypt") }), "password_hash_format", "only applies when credentials are migrated"},
		{"hash format when credentials stay", with(func(in *plan.SourceInput) { in.MigrateCredentials = ptr("no"); in.PasswordHashFormat = ptr("md5") }), "password_hash_format", "only applies"},
		{"memberships without groups", with(func(in *plan.SourceInput) { in.MigrateGroups = ptr("no"); in.MigrateMemberships = ptr("yes") }), "migrate_memberships", "along with the groups"},
		{"overlong notes", with(func(in *plan.SourceInput) { in.Notes = ptr(strings.Repeat("x", 10001)) }), "notes", "too long"},
		{"notes in invalid UTF-8", with(func(in *plan.SourceInput) { in.Notes = ptr("\xfe\xff") }), "notes", "UTF-8"},
		{"an unknown user type", with(func(in *plan.SourceInput) { in.UserTypeIDs = &[]int64{9999} }), "user_type_ids", "does not belong to this project"},
		{"too many user types", with(func(in *plan.SourceInput) {
			ids := make([]int64, 201)
			for i := range ids {
				ids[i] = int64(i + 1)
			}
			in.UserTypeIDs = &ids
		}), "user_type_ids", "Too many"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.mustProject(t, "Acme")
			before := f.auditCount(t)
			_, err := f.plan.CreateSource(f.ctx, p.ID, tt.in)
			wantField(t, err, tt.field, tt.want)
			if n := f.count(t, "SELECT COUNT(*) FROM sources"); n != 0 || f.auditCount(t) != before {
				t.Fatalf("a refused create wrote %d sources", n)
			}
			s := f.mustSource(t, p.ID, "Existing")
			_, err = f.plan.UpdateSource(f.ctx, p.ID, s.ID, 1, tt.in)
			wantField(t, err, tt.field, tt.want)
			stored, _ := f.plan.FindSourceByID(context.Background(), p.ID, s.ID)
			if stored.Name != "Existing" || stored.Version != 1 {
				t.Fatalf("a refused update changed the record: %+v", stored)
			}
		})
	}
}

func TestSourceCannotLinkAnotherProjectsUserType(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	mine := f.mustUserType(t, p.ID, "Staff", 1)
	theirs := f.mustUserType(t, q.ID, "Secret staff", 1)
	before := f.auditCount(t)

	_, err := f.plan.CreateSource(f.ctx, p.ID, plan.SourceInput{Name: ptr("AD"), Kind: ptr("ldap"), UserTypeIDs: &[]int64{mine.ID, theirs.ID}})
	wantField(t, err, "user_type_ids", "does not belong to this project")
	if n := f.count(t, "SELECT COUNT(*) FROM sources"); n != 0 || f.auditCount(t) != before {
		t.Fatalf("a source linking another project's user type was written")
	}
	s := f.mustSource(t, p.ID, "AD", mine.ID)
	before = f.auditCount(t)
	_, err = f.plan.UpdateSource(f.ctx, p.ID, s.ID, 1, plan.SourceInput{UserTypeIDs: &[]int64{theirs.ID}})
	wantField(t, err, "user_type_ids", "does not belong to this project")
	stored, _ := f.plan.FindSourceByID(context.Background(), p.ID, s.ID)
	if fmt.Sprint(stored.UserTypeIDs) != fmt.Sprint([]int64{mine.ID}) || stored.Version != 1 || f.auditCount(t) != before {
		t.Fatalf("a refused update changed the links: %+v", stored)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM source_user_types WHERE user_type_id = ?", theirs.ID); n != 0 {
		t.Fatalf("a link to another project's user type exists")
	}
}

func TestSourcesOfAnotherProjectAreNotFound(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	s := f.mustSource(t, p.ID, "AD")
	_, err := f.plan.FindSourceByID(context.Background(), q.ID, s.ID)
	wantCode(t, err, apperr.CodeNotFound)
	_, err = f.plan.UpdateSource(f.ctx, q.ID, s.ID, 1, plan.SourceInput{Name: ptr("Hijacked")})
	wantCode(t, err, apperr.CodeNotFound)
	wantCode(t, f.plan.DeleteSource(f.ctx, q.ID, s.ID), apperr.CodeNotFound)
	if list, _ := f.plan.FindSources(context.Background(), q.ID); len(list) != 0 {
		t.Fatalf("the other project lists %d sources", len(list))
	}
	stored, err := f.plan.FindSourceByID(context.Background(), p.ID, s.ID)
	if err != nil || stored.Name != "AD" {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
}

func TestSourceNamesAreUniquePerProjectIgnoringCase(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	f.mustSource(t, p.ID, "HR System")
	s := f.mustSource(t, p.ID, "LDAP")
	_, err := f.plan.CreateSource(f.ctx, p.ID, plan.SourceInput{Name: ptr("hr system"), Kind: ptr("hr_system")})
	wantField(t, err, "name", "Another source in this project already has this name")
	_, err = f.plan.UpdateSource(f.ctx, p.ID, s.ID, 1, plan.SourceInput{Name: ptr("HR SYSTEM")})
	wantField(t, err, "name", "already has this name")
	f.mustSource(t, q.ID, "HR System")
}

func TestUpdateSource(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	a := f.mustUserType(t, p.ID, "Staff", 1)
	b := f.mustUserType(t, p.ID, "Partners", 1)
	s := f.mustSource(t, p.ID, "AD", a.ID)

	got, err := f.plan.UpdateSource(f.ctx, p.ID, s.ID, 1, plan.SourceInput{AccessOwner: ptr("Olga"), AccessStatus: ptr(plan.AccessGranted), UserTypeIDs: &[]int64{b.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.Name != "AD" || got.Kind != "ldap" || got.AccessOwner != "Olga" || fmt.Sprint(got.UserTypeIDs) != fmt.Sprint([]int64{b.ID}) {
		t.Fatalf("updated = %+v", got)
	}
	stored, _ := f.plan.FindSourceByID(context.Background(), p.ID, s.ID)
	if stored.AccessStatus != plan.AccessGranted || stored.AccessOwner != "Olga" || stored.Version != 2 || fmt.Sprint(stored.UserTypeIDs) != fmt.Sprint([]int64{b.ID}) {
		t.Fatalf("stored = %+v", stored)
	}
	// Links are kept when not sent.
	if _, err := f.plan.UpdateSource(f.ctx, p.ID, s.ID, 2, plan.SourceInput{Notes: ptr("n")}); err != nil {
		t.Fatal(err)
	}
	stored, _ = f.plan.FindSourceByID(context.Background(), p.ID, s.ID)
	if fmt.Sprint(stored.UserTypeIDs) != fmt.Sprint([]int64{b.ID}) {
		t.Fatalf("links after an update without them = %v", stored.UserTypeIDs)
	}
	entries := f.history(t, "source", s.ID)
	if len(entries) != 3 {
		t.Fatalf("entries = %d", len(entries))
	}
	f.checkEntry(t, entries[1], p.ID, "update", "source", s.ID)
	d := diff(entries[1])
	if len(d) != 3 || d["accessOwner"] != " → Olga" || d["accessStatus"] != "not_requested → granted" || d["userTypeIds"] != fmt.Sprintf("[%d] → [%d]", a.ID, b.ID) {
		t.Fatalf("diff = %v", d)
	}
}

func TestUpdateSourceVersionConflict(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	a := f.mustUserType(t, p.ID, "Staff", 1)
	s := f.mustSource(t, p.ID, "AD")
	if _, err := f.plan.UpdateSource(f.ctx, p.ID, s.ID, 1, plan.SourceInput{AccessStatus: ptr(plan.AccessRequested), UserTypeIDs: &[]int64{a.ID}}); err != nil {
		t.Fatal(err)
	}
	before := f.auditCount(t)
	_, err := f.plan.UpdateSource(f.ctx, p.ID, s.ID, 1, plan.SourceInput{Name: ptr("AD"), AccessStatus: ptr(plan.AccessDenied), UserTypeIDs: &[]int64{}})
	got := changed(t, err)
	if len(got) != 2 || got["accessStatus"] != "Requested → Denied" || got["userTypeIds"] != fmt.Sprintf("[%d] → []", a.ID) {
		t.Fatalf("changes = %v", got)
	}
	stored, _ := f.plan.FindSourceByID(context.Background(), p.ID, s.ID)
	if stored.AccessStatus != plan.AccessRequested || stored.Version != 2 || len(stored.UserTypeIDs) != 1 || f.auditCount(t) != before {
		t.Fatalf("a refused update was written: %+v", stored)
	}
}

func TestDeleteSource(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	u := f.mustUserType(t, p.ID, "Staff", 1)
	s := f.mustSource(t, p.ID, "AD", u.ID)
	keep := f.mustSource(t, p.ID, "LDAP", u.ID)
	if err := f.plan.DeleteSource(f.ctx, p.ID, s.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.plan.FindSourceByID(context.Background(), p.ID, s.ID)
	wantCode(t, err, apperr.CodeNotFound)
	list, _ := f.plan.FindSources(context.Background(), p.ID)
	if len(list) != 1 || list[0].ID != keep.ID || len(list[0].UserTypeIDs) != 1 {
		t.Fatalf("sources = %+v", list)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM source_user_types WHERE source_id = ?", s.ID); n != 0 {
		t.Fatalf("links of the deleted source left: %d", n)
	}
	if _, err := f.plan.FindUserTypeByID(context.Background(), p.ID, u.ID); err != nil {
		t.Fatalf("deleting a source removed its user type: %v", err)
	}
	entries := f.history(t, "source", s.ID)
	f.checkEntry(t, entries[0], p.ID, "delete", "source", s.ID)
	if !strings.Contains(entries[0].BeforeJSON, `"name":"AD"`) || entries[0].AfterJSON != "" {
		t.Fatalf("delete entry = %+v", entries[0])
	}
}

func TestFindSourcesSortsByNameWithLinks(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	u := f.mustUserType(t, p.ID, "Staff", 1)
	f.mustSource(t, p.ID, "zeta", u.ID)
	f.mustSource(t, p.ID, "Alpha")
	list, err := f.plan.FindSources(context.Background(), p.ID)
	if err != nil || len(list) != 2 || list[0].Name != "Alpha" || list[1].Name != "zeta" {
		t.Fatalf("sources = %+v, %v", list, err)
	}
	if len(list[0].UserTypeIDs) != 0 || fmt.Sprint(list[1].UserTypeIDs) != fmt.Sprint([]int64{u.ID}) {
		t.Fatalf("links = %v / %v", list[0].UserTypeIDs, list[1].UserTypeIDs)
	}
}
