package plan_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plan"
)

func TestCreateProjectDefaultsLeadGoalsAndAudit(t *testing.T) {
	f := newFixture(t)
	p, err := f.plan.CreateProject(f.ctx, f.lead.ID, plan.ProjectInput{Name: ptr("  Acme migration "), Description: ptr("Move everyone")})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "Acme migration" || p.MigrationType != plan.MigrationOneTime || p.Status != "planning" ||
		p.UserCreationRateLimit != 600 || p.LoadRateSharePercent != 80 || p.Version != 1 || p.OktaOrgURL != "" {
		t.Fatalf("project = %+v", p)
	}
	stored, err := f.plan.FindProjectByID(context.Background(), p.ID)
	if err != nil || stored.Name != p.Name || stored.Description != "Move everyone" || !stored.CreatedAt.Equal(f.clock.Now()) {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	if role, _ := f.auth.RoleIn(context.Background(), f.lead.ID, p.ID); role != auth.RoleProjectLead {
		t.Fatalf("creator's role = %q, want project lead", role)
	}
	g, err := f.plan.FindGoals(context.Background(), p.ID)
	if err != nil || g.Version != 1 || len(g.Unanswered()) != len(plan.GoalQuestions()) {
		t.Fatalf("goals = %+v, %v", g, err)
	}
	entries := f.history(t, "project", p.ID)
	if len(entries) != 1 {
		t.Fatalf("project audit entries = %d", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "create", "project", p.ID)
	if entries[0].EntityLabel != "Acme migration" || !strings.Contains(entries[0].AfterJSON, `"description":"Move everyone"`) || entries[0].BeforeJSON != "" {
		t.Fatalf("entry = %+v", entries[0])
	}
	if n := f.count(t, "SELECT COUNT(*) FROM audit_entries WHERE project_id = ? AND entity_type = 'membership' AND action = 'create'", p.ID); n != 1 {
		t.Fatalf("membership audit entries = %d, want 1", n)
	}
}

// refusingMembers stands in for the auth service and refuses to add the lead.
type refusingMembers struct{}

func (refusingMembers) AddMemberTx(context.Context, *gorm.DB, int64, int64, auth.Role) (*auth.Membership, error) {
	return nil, apperr.Forbidden("no")
}

func TestCreateProjectIsAllOrNothing(t *testing.T) {
	f := newFixture(t)
	before := f.auditCount(t)
	_, err := plan.NewService(f.db, refusingMembers{}).CreateProject(f.ctx, f.lead.ID, plan.ProjectInput{Name: ptr("Acme")})
	wantCode(t, err, apperr.CodeForbidden)
	// The project, its goals and its audit entry are gone with the failed membership.
	if n := f.count(t, "SELECT COUNT(*) FROM projects"); n != 0 {
		t.Fatalf("projects = %d", n)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM goals"); n != 0 {
		t.Fatalf("goals = %d", n)
	}
	if f.auditCount(t) != before {
		t.Fatalf("audit entries written for a failed create")
	}
	// A lead that does not exist fails the same way.
	_, err = f.plan.CreateProject(f.ctx, 9999, plan.ProjectInput{Name: ptr("Acme")})
	if err == nil {
		t.Fatalf("a project was created for a missing lead")
	}
	if n := f.count(t, "SELECT COUNT(*) FROM projects"); n != 0 || f.auditCount(t) != before {
		t.Fatalf("projects = %d, audit grew: not all-or-nothing", n)
	}
}

func TestProjectValidation(t *testing.T) {
	tests := []struct {
		name  string
		in    plan.ProjectInput
		field string
		want  string
	}{
		{"missing name", plan.ProjectInput{}, "name", "required"},
		{"blank name", plan.ProjectInput{Name: ptr("   ")}, "name", "required"},
		{"overlong name", plan.ProjectInput{Name: ptr(strings.Repeat("n", 201))}, "name", "at most 200"},
		{"name on two lines", plan.ProjectInput{Name: ptr("a\nb")}, "name", "single line"},
		{"name with a NUL", plan.ProjectInput{Name: ptr("a\x00b")}, "name", "control characters"},
		{"name in invalid UTF-8", plan.ProjectInput{Name: ptr("a\xffb")}, "name", "UTF-8"},
		{"overlong description", plan.ProjectInput{Name: ptr("A"), Description: ptr(strings.Repeat("d", 10001))}, "description", "at most 10000"},
		{"Okta URL without scheme", plan.ProjectInput{Name: ptr("A"), OktaOrgURL: ptr("acme.okta.com")}, "okta_org_url", "https://"},
		{"Okta URL with javascript", plan.ProjectInput{Name: ptr("A"), OktaOrgURL: ptr("javascript:alert(1)")}, "okta_org_url", "https://"},
		{"unknown migration type", plan.ProjectInput{Name: ptr("A"), MigrationType: ptr("big_bang")}, "migration_type", "must be one of: one_time, program"},
		{"empty migration type", plan.ProjectInput{Name: ptr("A"), MigrationType: ptr("")}, "migration_type", "must be one of"},
		{"unknown status", plan.ProjectInput{Name: ptr("A"), Status: ptr("done")}, "status", "must be one of"},
		{"zero rate limit", plan.ProjectInput{Name: ptr("A"), UserCreationRateLimit: ptr(0)}, "user_creation_rate_limit", "between 1 and 1000000"},
		{"negative rate limit", plan.ProjectInput{Name: ptr("A"), UserCreationRateLimit: ptr(-600)}, "user_creation_rate_limit", "between 1"},
		{"absurd rate limit", plan.ProjectInput{Name: ptr("A"), UserCreationRateLimit: ptr(1_000_001)}, "user_creation_rate_limit", "between 1"},
		{"zero share", plan.ProjectInput{Name: ptr("A"), LoadRateSharePercent: ptr(0)}, "load_rate_share_percent", "between 1 and 100"},
		{"share over 100", plan.ProjectInput{Name: ptr("A"), LoadRateSharePercent: ptr(101)}, "load_rate_share_percent", "between 1 and 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.auditCount(t)
			_, err := f.plan.CreateProject(f.ctx, f.lead.ID, tt.in)
			wantField(t, err, tt.field, tt.want)
			if n := f.count(t, "SELECT COUNT(*) FROM projects"); n != 0 || f.auditCount(t) != before {
				t.Fatalf("a refused create wrote %d projects", n)
			}
			// The same input is refused on update, and nothing changes.
			p := f.mustProject(t, "Existing")
			in := tt.in
			if in.Name == nil {
				in.Name = ptr("")
			}
			_, err = f.plan.UpdateProject(f.ctx, p.ID, 1, in)
			wantField(t, err, tt.field, tt.want)
			stored, _ := f.plan.FindProjectByID(context.Background(), p.ID)
			if stored.Name != "Existing" || stored.Version != 1 {
				t.Fatalf("a refused update changed the project: %+v", stored)
			}
		})
	}
}

func TestProjectAcceptsLimitsAndMarkupVerbatim(t *testing.T) {
	f := newFixture(t)
	in := plan.ProjectInput{
		Name: ptr(script), Description: ptr("<img src=x onerror=alert(1)>\nline two"), OktaOrgURL: ptr("https://acme.okta.com"),
		MigrationType: ptr(plan.MigrationProgram), Status: ptr("on_hold"), UserCreationRateLimit: ptr(1), LoadRateSharePercent: ptr(100),
	}
	p, err := f.plan.CreateProject(f.ctx, f.lead.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := f.plan.FindProjectByID(context.Background(), p.ID)
	if stored.Name != script || stored.Description != "<img src=x onerror=alert(1)>\nline two" || stored.OktaOrgURL != "https://acme.okta.com" ||
		stored.MigrationType != "program" || stored.Status != "on_hold" || stored.UserCreationRateLimit != 1 || stored.LoadRateSharePercent != 100 {
		t.Fatalf("stored = %+v", stored)
	}
	if _, err := f.plan.UpdateProject(f.ctx, p.ID, 1, plan.ProjectInput{UserCreationRateLimit: ptr(plan.MaxRateLimit), Description: ptr(strings.Repeat("d", 10000))}); err != nil {
		t.Fatalf("limits at the cap refused: %v", err)
	}
}

func TestProjectNamesAreUniqueIgnoringCase(t *testing.T) {
	f := newFixture(t)
	f.mustProject(t, "Acme")
	b := f.mustProject(t, "Beta")
	before := f.auditCount(t)
	for _, name := range []string{"Acme", "ACME", " acme "} {
		_, err := f.plan.CreateProject(f.ctx, f.lead.ID, plan.ProjectInput{Name: ptr(name)})
		wantField(t, err, "name", "already has this name")
	}
	_, err := f.plan.UpdateProject(f.ctx, b.ID, 1, plan.ProjectInput{Name: ptr("aCmE")})
	wantField(t, err, "name", "already has this name")
	if f.auditCount(t) != before {
		t.Fatalf("refused duplicates were audited")
	}
	if stored, _ := f.plan.FindProjectByID(context.Background(), b.ID); stored.Name != "Beta" || stored.Version != 1 {
		t.Fatalf("stored = %+v", stored)
	}
	// Renaming a project to another case of its own name is fine.
	if _, err := f.plan.UpdateProject(f.ctx, b.ID, 1, plan.ProjectInput{Name: ptr("BETA")}); err != nil {
		t.Fatal(err)
	}
}

func TestFindProjects(t *testing.T) {
	f := newFixture(t)
	c := f.mustProject(t, "charlie")
	a := f.mustProject(t, "Alpha")
	b := f.mustProject(t, "bravo")
	ctx := context.Background()
	names := func(ps []plan.Project) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return strings.Join(out, ",")
	}
	all, err := f.plan.FindProjects(ctx, nil)
	if err != nil || names(all) != "Alpha,bravo,charlie" {
		t.Fatalf("all = %s, %v; want sorted by name ignoring case", names(all), err)
	}
	some, err := f.plan.FindProjects(ctx, []int64{c.ID, a.ID, 9999})
	if err != nil || names(some) != "Alpha,charlie" {
		t.Fatalf("some = %s, %v", names(some), err)
	}
	none, err := f.plan.FindProjects(ctx, []int64{})
	if err != nil || len(none) != 0 {
		t.Fatalf("none = %s, %v; an empty id list means no projects", names(none), err)
	}
	_, err = f.plan.FindProjectByID(ctx, b.ID+100)
	wantCode(t, err, apperr.CodeNotFound)
}

func TestUpdateProject(t *testing.T) {
	f := newFixture(t)
	p, err := f.plan.CreateProject(f.ctx, f.lead.ID, plan.ProjectInput{Name: ptr("Acme"), Description: ptr("old")})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	got, err := f.plan.UpdateProject(f.ctx, p.ID, 1, plan.ProjectInput{Description: ptr("new"), Status: ptr("rehearsing")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Acme" || got.Description != "new" || got.Status != "rehearsing" || got.Version != 2 || got.MigrationType != plan.MigrationOneTime {
		t.Fatalf("updated = %+v; unsent fields must keep their value", got)
	}
	stored, _ := f.plan.FindProjectByID(context.Background(), p.ID)
	if stored.Description != "new" || stored.Status != "rehearsing" || stored.Version != 2 || stored.Name != "Acme" {
		t.Fatalf("stored = %+v", stored)
	}
	if !stored.UpdatedAt.Equal(f.clock.Now()) {
		t.Fatalf("updated at %v, want %v", stored.UpdatedAt, f.clock.Now())
	}
	entries := f.history(t, "project", p.ID)
	if len(entries) != 2 {
		t.Fatalf("entries = %d", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "update", "project", p.ID)
	if d := diff(entries[0]); len(d) != 2 || d["description"] != "old → new" || d["status"] != "planning → rehearsing" {
		t.Fatalf("diff = %v", d)
	}

	_, err = f.plan.UpdateProject(f.ctx, 9999, 1, plan.ProjectInput{Name: ptr("X")})
	wantCode(t, err, apperr.CodeNotFound)
}

func TestUpdateProjectVersionConflict(t *testing.T) {
	f := newFixture(t)
	p, err := f.plan.CreateProject(f.ctx, f.lead.ID, plan.ProjectInput{Name: ptr("Acme"), Description: ptr("shared")})
	if err != nil {
		t.Fatal(err)
	}
	// Alice saves first.
	if _, err := f.plan.UpdateProject(f.ctx, p.ID, 1, plan.ProjectInput{Name: ptr("Acme by Alice"), UserCreationRateLimit: ptr(100)}); err != nil {
		t.Fatal(err)
	}
	before := f.auditCount(t)
	// Bob, still at version 1, sends a name, the same description and a status.
	_, err = f.plan.UpdateProject(f.ctx, p.ID, 1, plan.ProjectInput{Name: ptr("Acme by Bob"), Description: ptr("shared"), Status: ptr("loading")})
	e := wantCode(t, err, apperr.CodeConflict)
	if e.CurrentVersion != 2 || !strings.Contains(e.Message, "project") {
		t.Fatalf("conflict = %+v", e)
	}
	got := changed(t, err)
	want := map[string]string{"name": "Acme by Alice → Acme by Bob", "status": "Planning → Loading"}
	if len(got) != len(want) || got["name"] != want["name"] || got["status"] != want["status"] {
		t.Fatalf("changes = %v, want %v (fields Bob did not send, or sent unchanged, are not listed)", got, want)
	}
	stored, _ := f.plan.FindProjectByID(context.Background(), p.ID)
	if stored.Name != "Acme by Alice" || stored.Status != "planning" || stored.Version != 2 || stored.UserCreationRateLimit != 100 {
		t.Fatalf("a refused update was written: %+v", stored)
	}
	if f.auditCount(t) != before {
		t.Fatalf("a refused update was audited")
	}
	// A conflict is reported even when the stale input is also invalid: the person must see what changed first.
	_, err = f.plan.UpdateProject(f.ctx, p.ID, 1, plan.ProjectInput{Name: ptr("")})
	wantCode(t, err, apperr.CodeConflict)
}

func TestDeleteProject(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	keep := f.mustProject(t, "Keep")
	u := f.mustUserType(t, p.ID, "Customers", 10)
	f.mustSource(t, p.ID, "LDAP", u.ID)
	f.mustApplication(t, p.ID, "Shop", u.ID)
	f.mustUserType(t, keep.ID, "Staff", 5)

	for _, confirm := range []string{"", "acme", "Acm", "Acme!", "Keep"} {
		err := f.plan.DeleteProject(f.ctx, p.ID, confirm)
		wantField(t, err, "confirm_name", "exactly")
	}
	if _, err := f.plan.FindProjectByID(context.Background(), p.ID); err != nil {
		t.Fatalf("a refused delete removed the project: %v", err)
	}
	wantCode(t, f.plan.DeleteProject(f.ctx, 9999, "Acme"), apperr.CodeNotFound)

	if err := f.plan.DeleteProject(f.ctx, p.ID, " Acme "); err != nil {
		t.Fatal(err)
	}
	_, err := f.plan.FindProjectByID(context.Background(), p.ID)
	wantCode(t, err, apperr.CodeNotFound)
	for _, table := range []string{"user_types", "sources", "applications", "goals", "memberships"} {
		if n := f.count(t, "SELECT COUNT(*) FROM "+table+" WHERE project_id = ?", p.ID); n != 0 {
			t.Errorf("%s of the deleted project: %d rows left", table, n)
		}
	}
	if n := f.count(t, "SELECT COUNT(*) FROM source_user_types") + f.count(t, "SELECT COUNT(*) FROM application_user_types") + f.count(t, "SELECT COUNT(*) FROM subgroups"); n != 0 {
		t.Errorf("%d link or subgroup rows left", n)
	}
	// The other project is untouched.
	if uts, _ := f.plan.FindUserTypes(context.Background(), keep.ID); len(uts) != 1 {
		t.Fatalf("the other project lost its user types")
	}
	// The history outlives the project.
	entries := f.history(t, "project", p.ID)
	if len(entries) != 2 {
		t.Fatalf("project history = %d entries", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "delete", "project", p.ID)
	if entries[0].AfterJSON != "" || !strings.Contains(entries[0].BeforeJSON, `"name":"Acme"`) {
		t.Fatalf("delete entry = %+v", entries[0])
	}
	// The name is free again.
	f.mustProject(t, "acme")
}
