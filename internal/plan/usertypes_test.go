package plan_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/plan"
)

func subgroupNames(u *plan.UserType) string {
	var out []string
	for _, sg := range u.Subgroups {
		out = append(out, fmt.Sprintf("%s=%d", sg.Name, sg.UserCount))
	}
	return strings.Join(out, ",")
}

func TestCreateUserTypeWithSubgroups(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	in := plan.UserTypeInput{
		Kind: ptr("full_time_employee"), Name: ptr("  Staff "), UserCount: ptr(int64(1200)), Notes: ptr(script),
		Subgroups: &[]plan.SubgroupInput{{Name: " Sales ", UserCount: 300}, {Name: "Marketing", UserCount: 200}, {Name: "Accounting", UserCount: 100}},
	}
	u, err := f.plan.CreateUserType(f.ctx, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if u.Name != "Staff" || u.Kind != "full_time_employee" || u.UserCount != 1200 || u.Version != 1 || u.ProjectID != p.ID {
		t.Fatalf("created = %+v", u)
	}
	got, err := f.plan.FindUserTypeByID(context.Background(), p.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if subgroupNames(got) != "Sales=300,Marketing=200,Accounting=100" || got.SubgroupTotal() != 600 {
		t.Fatalf("subgroups = %s (total %d), want them in the order given", subgroupNames(got), got.SubgroupTotal())
	}
	if got.Notes != script {
		t.Fatalf("notes = %q, want the markup stored verbatim", got.Notes)
	}
	entries := f.history(t, "user_type", u.ID)
	if len(entries) != 1 {
		t.Fatalf("entries = %d", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "create", "user_type", u.ID)
	if entries[0].EntityLabel != "Staff" || !strings.Contains(entries[0].AfterJSON, `{"name":"Marketing","userCount":200}`) {
		t.Fatalf("entry = %+v", entries[0])
	}
}

func TestUserTypeValidation(t *testing.T) {
	many := func(n int) *[]plan.SubgroupInput {
		out := make([]plan.SubgroupInput, n)
		for i := range out {
			out[i] = plan.SubgroupInput{Name: fmt.Sprint("group ", i), UserCount: 1}
		}
		return &out
	}
	valid := func() plan.UserTypeInput {
		return plan.UserTypeInput{Kind: ptr("customer"), Name: ptr("Customers"), UserCount: ptr(int64(10))}
	}
	with := func(change func(*plan.UserTypeInput)) plan.UserTypeInput {
		in := valid()
		change(&in)
		return in
	}
	tests := []struct {
		name  string
		in    plan.UserTypeInput
		field string
		want  string
	}{
		{"missing kind", with(func(in *plan.UserTypeInput) { in.Kind = nil }), "kind", "must be one of"},
		{"unknown kind", with(func(in *plan.UserTypeInput) { in.Kind = ptr("robot") }), "kind", "must be one of: full_time_employee"},
		{"Okta's user type is not a kind", with(func(in *plan.UserTypeInput) { in.Kind = ptr("Employee") }), "kind", "must be one of"},
		{"empty name", with(func(in *plan.UserTypeInput) { in.Name = ptr("") }), "name", "required"},
		{"overlong name", with(func(in *plan.UserTypeInput) { in.Name = ptr(strings.Repeat("n", 201)) }), "name", "too long"},
		{"name on two lines", with(func(in *plan.UserTypeInput) { in.Name = ptr("a\r\nb") }), "name", "single line"},
		{"negative count", with(func(in *plan.UserTypeInput) { in.UserCount = ptr(int64(-1)) }), "user_count", "cannot be negative"},
		{"absurd count", with(func(in *plan.UserTypeInput) { in.UserCount = ptr(int64(plan.MaxUserCount + 1)) }), "user_count", "looks wrong"},
		{"overlong notes", with(func(in *plan.UserTypeInput) { in.Notes = ptr(strings.Repeat("x", 10001)) }), "notes", "too long"},
		{"notes with a control character", with(func(in *plan.UserTypeInput) { in.Notes = ptr("bell\a") }), "notes", "control characters"},
		{"unnamed subgroup", with(func(in *plan.UserTypeInput) { in.Subgroups = &[]plan.SubgroupInput{{Name: "ok"}, {Name: "  "}} }), "subgroups.1.name", "Subgroup 2 name is required"},
		{"subgroup with a negative count", with(func(in *plan.UserTypeInput) { in.Subgroups = &[]plan.SubgroupInput{{Name: "Sales", UserCount: -5}} }), "subgroups.0.user_count", "Subgroup 1 count cannot be negative"},
		{"subgroup with an absurd count", with(func(in *plan.UserTypeInput) {
			in.Subgroups = &[]plan.SubgroupInput{{Name: "Sales", UserCount: plan.MaxUserCount + 1}}
		}), "subgroups.0.user_count", "looks wrong"},
		{"subgroup name on two lines", with(func(in *plan.UserTypeInput) { in.Subgroups = &[]plan.SubgroupInput{{Name: "a\nb"}} }), "subgroups.0.name", "single line"},
		{"duplicate subgroup names ignoring case", with(func(in *plan.UserTypeInput) {
			in.Subgroups = &[]plan.SubgroupInput{{Name: "Sales"}, {Name: "Marketing"}, {Name: " sales "}}
		}), "subgroups.2.name", `"sales" appears twice`},
		{"too many subgroups", with(func(in *plan.UserTypeInput) { in.Subgroups = many(51) }), "subgroups", "At most 50 subgroups"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.mustProject(t, "Acme")
			before := f.auditCount(t)
			_, err := f.plan.CreateUserType(f.ctx, p.ID, tt.in)
			wantField(t, err, tt.field, tt.want)
			if n := f.count(t, "SELECT COUNT(*) FROM user_types") + f.count(t, "SELECT COUNT(*) FROM subgroups"); n != 0 || f.auditCount(t) != before {
				t.Fatalf("a refused create wrote %d rows", n)
			}
			u := f.mustUserType(t, p.ID, "Existing", 7, plan.SubgroupInput{Name: "Keep", UserCount: 7})
			upd := tt.in
			if upd.Kind == nil {
				upd.Kind = ptr("") // on update, nil keeps the stored kind
			}
			_, err = f.plan.UpdateUserType(f.ctx, p.ID, u.ID, 1, upd)
			wantField(t, err, tt.field, tt.want)
			stored, _ := f.plan.FindUserTypeByID(context.Background(), p.ID, u.ID)
			if stored.Name != "Existing" || stored.Version != 1 || subgroupNames(stored) != "Keep=7" {
				t.Fatalf("a refused update changed the record: %+v", stored)
			}
		})
	}
	t.Run("exactly 50 subgroups and the largest count are accepted", func(t *testing.T) {
		f := newFixture(t)
		p := f.mustProject(t, "Acme")
		in := valid()
		in.Subgroups = many(50)
		in.UserCount = ptr(int64(plan.MaxUserCount))
		u, err := f.plan.CreateUserType(f.ctx, p.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := f.plan.FindUserTypeByID(context.Background(), p.ID, u.ID); len(got.Subgroups) != 50 || got.Subgroups[49].Name != "group 49" {
			t.Fatalf("stored %d subgroups", len(got.Subgroups))
		}
	})
}

func TestUserTypeNamesAreUniquePerProjectIgnoringCase(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	f.mustUserType(t, p.ID, "Customers", 1)
	other := f.mustUserType(t, p.ID, "Partners", 1)
	before := f.auditCount(t)
	_, err := f.plan.CreateUserType(f.ctx, p.ID, plan.UserTypeInput{Kind: ptr("partner"), Name: ptr("CUSTOMERS ")})
	wantField(t, err, "name", "Another user type in this project already has this name")
	_, err = f.plan.UpdateUserType(f.ctx, p.ID, other.ID, 1, plan.UserTypeInput{Name: ptr("customers")})
	wantField(t, err, "name", "already has this name")
	if f.auditCount(t) != before {
		t.Fatalf("refused duplicates were audited")
	}
	// The same name in another project is fine.
	f.mustUserType(t, q.ID, "Customers", 1)
}

func TestFindUserTypes(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	f.mustUserType(t, p.ID, "partners", 1, plan.SubgroupInput{Name: "EU", UserCount: 1})
	f.mustUserType(t, p.ID, "Customers", 2, plan.SubgroupInput{Name: "b", UserCount: 1}, plan.SubgroupInput{Name: "a", UserCount: 1})
	f.mustUserType(t, q.ID, "Elsewhere", 3)
	list, err := f.plan.FindUserTypes(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "Customers" || list[1].Name != "partners" {
		t.Fatalf("list = %+v, want this project's, sorted by name ignoring case", list)
	}
	if subgroupNames(&list[0]) != "b=1,a=1" || subgroupNames(&list[1]) != "EU=1" {
		t.Fatalf("subgroups = %s / %s", subgroupNames(&list[0]), subgroupNames(&list[1]))
	}
}

func TestUpdateUserType(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	u := f.mustUserType(t, p.ID, "Staff", 100, plan.SubgroupInput{Name: "Sales", UserCount: 60}, plan.SubgroupInput{Name: "Ops", UserCount: 40})

	// Without subgroups in the input, they are kept.
	got, err := f.plan.UpdateUserType(f.ctx, p.ID, u.ID, 1, plan.UserTypeInput{UserCount: ptr(int64(150))})
	if err != nil {
		t.Fatal(err)
	}
	if got.UserCount != 150 || got.Name != "Staff" || got.Version != 2 || subgroupNames(got) != "Sales=60,Ops=40" {
		t.Fatalf("updated = %+v %s", got, subgroupNames(got))
	}
	stored, _ := f.plan.FindUserTypeByID(context.Background(), p.ID, u.ID)
	if stored.UserCount != 150 || stored.Version != 2 || subgroupNames(stored) != "Sales=60,Ops=40" {
		t.Fatalf("stored = %+v %s", stored, subgroupNames(stored))
	}
	// Sent subgroups replace the list; an empty list removes them all.
	if _, err := f.plan.UpdateUserType(f.ctx, p.ID, u.ID, 2, plan.UserTypeInput{Subgroups: &[]plan.SubgroupInput{{Name: "Ops", UserCount: 50}, {Name: "Legal", UserCount: 5}}}); err != nil {
		t.Fatal(err)
	}
	stored, _ = f.plan.FindUserTypeByID(context.Background(), p.ID, u.ID)
	if subgroupNames(stored) != "Ops=50,Legal=5" {
		t.Fatalf("subgroups = %s", subgroupNames(stored))
	}
	if _, err := f.plan.UpdateUserType(f.ctx, p.ID, u.ID, 3, plan.UserTypeInput{Subgroups: &[]plan.SubgroupInput{}}); err != nil {
		t.Fatal(err)
	}
	stored, _ = f.plan.FindUserTypeByID(context.Background(), p.ID, u.ID)
	if len(stored.Subgroups) != 0 || f.count(t, "SELECT COUNT(*) FROM subgroups") != 0 {
		t.Fatalf("subgroups left: %s", subgroupNames(stored))
	}

	entries := f.history(t, "user_type", u.ID)
	if len(entries) != 4 {
		t.Fatalf("entries = %d, want create and three updates", len(entries))
	}
	f.checkEntry(t, entries[2], p.ID, "update", "user_type", u.ID)
	if d := diff(entries[2]); len(d) != 1 || d["userCount"] != "100 → 150" {
		t.Fatalf("first update diff = %v", d)
	}
	if d := diff(entries[1]); len(d) != 1 || !strings.Contains(d["subgroups"], "Sales") || !strings.Contains(d["subgroups"], "Legal") {
		t.Fatalf("second update diff = %v", d)
	}
}

func TestUpdateUserTypeVersionConflict(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	u := f.mustUserType(t, p.ID, "Staff", 100, plan.SubgroupInput{Name: "Sales", UserCount: 100})
	if _, err := f.plan.UpdateUserType(f.ctx, p.ID, u.ID, 1, plan.UserTypeInput{UserCount: ptr(int64(120)), Notes: ptr("counted in March")}); err != nil {
		t.Fatal(err)
	}
	before := f.auditCount(t)
	_, err := f.plan.UpdateUserType(f.ctx, p.ID, u.ID, 1, plan.UserTypeInput{
		Kind: ptr("customer"), Name: ptr("Staff"), UserCount: ptr(int64(90)),
		Subgroups: &[]plan.SubgroupInput{{Name: "Sales", UserCount: 90}},
	})
	e := wantCode(t, err, apperr.CodeConflict)
	if e.CurrentVersion != 2 {
		t.Fatalf("current version = %d", e.CurrentVersion)
	}
	got := changed(t, err)
	want := map[string]string{"userCount": "120 → 90", "subgroups": "Sales (100) → Sales (90)"}
	if len(got) != len(want) || got["userCount"] != want["userCount"] || got["subgroups"] != want["subgroups"] {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	stored, _ := f.plan.FindUserTypeByID(context.Background(), p.ID, u.ID)
	if stored.UserCount != 120 || stored.Notes != "counted in March" || stored.Version != 2 || subgroupNames(stored) != "Sales=100" {
		t.Fatalf("a refused update was written: %+v %s", stored, subgroupNames(stored))
	}
	if f.auditCount(t) != before {
		t.Fatalf("a refused update was audited")
	}
}

func TestUserTypesOfAnotherProjectAreNotFound(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	u := f.mustUserType(t, p.ID, "Staff", 100)
	ctx := context.Background()
	_, err := f.plan.FindUserTypeByID(ctx, q.ID, u.ID)
	wantCode(t, err, apperr.CodeNotFound)
	_, err = f.plan.UpdateUserType(f.ctx, q.ID, u.ID, 1, plan.UserTypeInput{Name: ptr("Hijacked")})
	wantCode(t, err, apperr.CodeNotFound)
	wantCode(t, f.plan.DeleteUserType(f.ctx, q.ID, u.ID), apperr.CodeNotFound)
	_, err = f.plan.FindUserTypeByID(ctx, p.ID, 9999)
	wantCode(t, err, apperr.CodeNotFound)
	_, err = f.plan.CreateUserType(f.ctx, 9999, plan.UserTypeInput{Kind: ptr("customer"), Name: ptr("Orphans")})
	if err == nil {
		t.Fatalf("a user type was created in a project that does not exist")
	}
	stored, err := f.plan.FindUserTypeByID(ctx, p.ID, u.ID)
	if err != nil || stored.Name != "Staff" {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
}

func TestDeleteUserTypeUnlinksSourcesAndApplications(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	u := f.mustUserType(t, p.ID, "Staff", 100, plan.SubgroupInput{Name: "Sales", UserCount: 1})
	keep := f.mustUserType(t, p.ID, "Partners", 5)
	src := f.mustSource(t, p.ID, "AD", u.ID, keep.ID)
	app := f.mustApplication(t, p.ID, "Wiki", u.ID)

	if err := f.plan.DeleteUserType(f.ctx, p.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.plan.FindUserTypeByID(context.Background(), p.ID, u.ID)
	wantCode(t, err, apperr.CodeNotFound)
	if n := f.count(t, "SELECT COUNT(*) FROM subgroups"); n != 0 {
		t.Fatalf("subgroups left: %d", n)
	}
	s, _ := f.plan.FindSourceByID(context.Background(), p.ID, src.ID)
	if fmt.Sprint(s.UserTypeIDs) != fmt.Sprint([]int64{keep.ID}) {
		t.Fatalf("source user types = %v, want only %d", s.UserTypeIDs, keep.ID)
	}
	a, _ := f.plan.FindApplicationByID(context.Background(), p.ID, app.ID)
	if len(a.UserTypeIDs) != 0 {
		t.Fatalf("application user types = %v, want none", a.UserTypeIDs)
	}
	entries := f.history(t, "user_type", u.ID)
	if len(entries) != 2 {
		t.Fatalf("entries = %d", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "delete", "user_type", u.ID)
	if entries[0].AfterJSON != "" || !strings.Contains(entries[0].BeforeJSON, `"name":"Staff"`) || !strings.Contains(entries[0].BeforeJSON, "Sales") {
		t.Fatalf("delete entry = %+v", entries[0])
	}
	wantCode(t, f.plan.DeleteUserType(f.ctx, p.ID, u.ID), apperr.CodeNotFound)
}
