package plan_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/plan"
)

func TestCreateApplication(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	u := f.mustUserType(t, p.ID, "Staff", 1)
	a, err := f.plan.CreateApplication(f.ctx, p.ID, plan.ApplicationInput{
		Name: ptr(script), AccessMethod: ptr("oidc"), AssignmentBasis: ptr("user_type"), UserTypeIDs: &[]int64{u.ID, u.ID},
		Notes: ptr("<iframe src=//evil>"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.OINStatus != "unknown" || a.Version != 1 || a.ProjectID != p.ID {
		t.Fatalf("created = %+v; want OIN status unknown by default", a)
	}
	got, err := f.plan.FindApplicationByID(context.Background(), p.ID, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != script || got.Notes != "<iframe src=//evil>" || got.AccessMethod != "oidc" || fmt.Sprint(got.UserTypeIDs) != fmt.Sprint([]int64{u.ID}) {
		t.Fatalf("stored = %+v", got)
	}
	entries := f.history(t, "application", a.ID)
	if len(entries) != 1 {
		t.Fatalf("entries = %d", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "create", "application", a.ID)
	if entries[0].EntityLabel != script || !strings.Contains(entries[0].AfterJSON, `"accessMethod":"oidc"`) {
		t.Fatalf("entry = %+v", entries[0])
	}
	b, err := f.plan.CreateApplication(f.ctx, p.ID, plan.ApplicationInput{Name: ptr("Salesforce"), AccessMethod: ptr("saml"), AssignmentBasis: ptr("group"),
		OINStatus: ptr("yes"), OINLink: ptr("https://www.okta.com/integrations/salesforce/")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.plan.FindApplicationByID(context.Background(), p.ID, b.ID); got.OINLink != "https://www.okta.com/integrations/salesforce/" || got.OINStatus != "yes" {
		t.Fatalf("stored = %+v", got)
	}
}

func TestApplicationValidation(t *testing.T) {
	valid := func() plan.ApplicationInput {
		return plan.ApplicationInput{Name: ptr("Wiki"), AccessMethod: ptr("saml"), AssignmentBasis: ptr("group")}
	}
	with := func(change func(*plan.ApplicationInput)) plan.ApplicationInput {
		in := valid()
		change(&in)
		return in
	}
	tests := []struct {
		name  string
		in    plan.ApplicationInput
		field string
		want  string
	}{
		{"empty name", with(func(in *plan.ApplicationInput) { in.Name = ptr("") }), "name", "required"},
		{"overlong name", with(func(in *plan.ApplicationInput) { in.Name = ptr(strings.Repeat("n", 201)) }), "name", "too long"},
		{"name on two lines", with(func(in *plan.ApplicationInput) { in.Name = ptr("Wiki\nv2") }), "name", "single line"},
		{"unknown access method", with(func(in *plan.ApplicationInput) { in.AccessMethod = ptr("kerberos") }), "access_method", "must be one of: saml, oidc"},
		{"empty access method", with(func(in *plan.ApplicationInput) { in.AccessMethod = ptr("") }), "access_method", "must be one of"},
		{"unknown assignment", with(func(in *plan.ApplicationInput) { in.AssignmentBasis = ptr("random") }), "assignment_basis", "must be one of: user_type, group"},
		{"unknown OIN status", with(func(in *plan.ApplicationInput) { in.OINStatus = ptr("maybe") }), "oin_status", "must be one of: unknown, yes, no"},
		{"OIN link without scheme", with(func(in *plan.ApplicationInput) { in.OINLink = ptr("www.okta.com/integrations") }), "oin_link", "https://"},
		{"OIN link with javascript", with(func(in *plan.ApplicationInput) { in.OINLink = ptr("javascript:alert(document.cookie)") }), "oin_link", "https://"},
		{"overlong OIN link", with(func(in *plan.ApplicationInput) { in.OINLink = ptr("https://okta.com/" + strings.Repeat("a", 500)) }), "oin_link", "too long"},
		{"overlong notes", with(func(in *plan.ApplicationInput) { in.Notes = ptr(strings.Repeat("x", 10001)) }), "notes", "too long"},
		{"an unknown user type", with(func(in *plan.ApplicationInput) { in.UserTypeIDs = &[]int64{-1} }), "user_type_ids", "does not belong to this project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.mustProject(t, "Acme")
			before := f.auditCount(t)
			_, err := f.plan.CreateApplication(f.ctx, p.ID, tt.in)
			wantField(t, err, tt.field, tt.want)
			if n := f.count(t, "SELECT COUNT(*) FROM applications"); n != 0 || f.auditCount(t) != before {
				t.Fatalf("a refused create wrote %d applications", n)
			}
			a := f.mustApplication(t, p.ID, "Existing")
			_, err = f.plan.UpdateApplication(f.ctx, p.ID, a.ID, 1, tt.in)
			wantField(t, err, tt.field, tt.want)
			stored, _ := f.plan.FindApplicationByID(context.Background(), p.ID, a.ID)
			if stored.Name != "Existing" || stored.Version != 1 {
				t.Fatalf("a refused update changed the record: %+v", stored)
			}
		})
	}
}

func TestApplicationCannotLinkAnotherProjectsUserType(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	theirs := f.mustUserType(t, q.ID, "Staff", 1)
	_, err := f.plan.CreateApplication(f.ctx, p.ID, plan.ApplicationInput{Name: ptr("Wiki"), AccessMethod: ptr("saml"), AssignmentBasis: ptr("group"), UserTypeIDs: &[]int64{theirs.ID}})
	wantField(t, err, "user_type_ids", "does not belong to this project")
	a := f.mustApplication(t, p.ID, "Wiki")
	_, err = f.plan.UpdateApplication(f.ctx, p.ID, a.ID, 1, plan.ApplicationInput{UserTypeIDs: &[]int64{theirs.ID}})
	wantField(t, err, "user_type_ids", "does not belong to this project")
	if n := f.count(t, "SELECT COUNT(*) FROM application_user_types"); n != 0 {
		t.Fatalf("links written: %d", n)
	}
}

func TestApplicationsOfAnotherProjectAreNotFound(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	a := f.mustApplication(t, p.ID, "Wiki")
	_, err := f.plan.FindApplicationByID(context.Background(), q.ID, a.ID)
	wantCode(t, err, apperr.CodeNotFound)
	_, err = f.plan.UpdateApplication(f.ctx, q.ID, a.ID, 1, plan.ApplicationInput{Name: ptr("Hijacked")})
	wantCode(t, err, apperr.CodeNotFound)
	wantCode(t, f.plan.DeleteApplication(f.ctx, q.ID, a.ID), apperr.CodeNotFound)
	if stored, err := f.plan.FindApplicationByID(context.Background(), p.ID, a.ID); err != nil || stored.Name != "Wiki" {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
}

func TestApplicationNamesAreUniquePerProjectIgnoringCase(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	f.mustApplication(t, p.ID, "Wiki")
	b := f.mustApplication(t, p.ID, "Mail")
	_, err := f.plan.CreateApplication(f.ctx, p.ID, plan.ApplicationInput{Name: ptr("WIKI"), AccessMethod: ptr("saml"), AssignmentBasis: ptr("group")})
	wantField(t, err, "name", "Another application in this project already has this name")
	_, err = f.plan.UpdateApplication(f.ctx, p.ID, b.ID, 1, plan.ApplicationInput{Name: ptr(" wiki ")})
	wantField(t, err, "name", "already has this name")
	f.mustApplication(t, q.ID, "Wiki")
}

func TestUpdateApplicationAndConflict(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	u := f.mustUserType(t, p.ID, "Staff", 1)
	a := f.mustApplication(t, p.ID, "Wiki")
	got, err := f.plan.UpdateApplication(f.ctx, p.ID, a.ID, 1, plan.ApplicationInput{OINStatus: ptr("no"), UserTypeIDs: &[]int64{u.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.OINStatus != "no" || got.AccessMethod != "saml" || fmt.Sprint(got.UserTypeIDs) != fmt.Sprint([]int64{u.ID}) {
		t.Fatalf("updated = %+v", got)
	}
	entries := f.history(t, "application", a.ID)
	f.checkEntry(t, entries[0], p.ID, "update", "application", a.ID)
	if d := diff(entries[0]); len(d) != 2 || d["oinStatus"] != "unknown → no" || d["userTypeIds"] != fmt.Sprintf("[] → [%d]", u.ID) {
		t.Fatalf("diff = %v", d)
	}

	before := f.auditCount(t)
	_, err = f.plan.UpdateApplication(f.ctx, p.ID, a.ID, 1, plan.ApplicationInput{AccessMethod: ptr("oidc"), OINStatus: ptr("no"), Notes: ptr("stale")})
	e := wantCode(t, err, apperr.CodeConflict)
	if e.CurrentVersion != 2 {
		t.Fatalf("current version = %d", e.CurrentVersion)
	}
	ch := changed(t, err)
	if len(ch) != 2 || ch["accessMethod"] != "SAML → OpenID Connect" || ch["notes"] != " → stale" {
		t.Fatalf("changes = %v", ch)
	}
	stored, _ := f.plan.FindApplicationByID(context.Background(), p.ID, a.ID)
	if stored.AccessMethod != "saml" || stored.Notes != "" || stored.Version != 2 || f.auditCount(t) != before {
		t.Fatalf("a refused update was written: %+v", stored)
	}
}

func TestDeleteApplication(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	u := f.mustUserType(t, p.ID, "Staff", 1)
	a := f.mustApplication(t, p.ID, "Wiki", u.ID)
	b := f.mustApplication(t, p.ID, "Mail", u.ID)
	if err := f.plan.DeleteApplication(f.ctx, p.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.plan.FindApplicationByID(context.Background(), p.ID, a.ID)
	wantCode(t, err, apperr.CodeNotFound)
	list, _ := f.plan.FindApplications(context.Background(), p.ID)
	if len(list) != 1 || list[0].ID != b.ID || len(list[0].UserTypeIDs) != 1 {
		t.Fatalf("applications = %+v", list)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM application_user_types WHERE application_id = ?", a.ID); n != 0 {
		t.Fatalf("links left: %d", n)
	}
	entries := f.history(t, "application", a.ID)
	f.checkEntry(t, entries[0], p.ID, "delete", "application", a.ID)
	if !strings.Contains(entries[0].BeforeJSON, `"name":"Wiki"`) || entries[0].AfterJSON != "" {
		t.Fatalf("delete entry = %+v", entries[0])
	}
	wantCode(t, f.plan.DeleteApplication(f.ctx, p.ID, a.ID), apperr.CodeNotFound)
}
