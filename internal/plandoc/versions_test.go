package plandoc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/plandoc"
)

// versionWorld is a small project (a user type, a source with a mapped
// field, an application) and a version service over it.
type versionWorld struct {
	*world
	pid      int64
	staff    *plan.UserType
	payroll  *plan.Application
	row      *mapping.Row
	versions *plandoc.VersionService
}

func newVersionWorld(t *testing.T) *versionWorld {
	t.Helper()
	w := &versionWorld{world: newWorld(t)}
	ctx := w.ctx
	p := must(w.plan.CreateProject(ctx, w.admin.ID, plan.ProjectInput{Name: ptr("Acme")}))
	w.pid = p.ID
	w.staff = must(w.plan.CreateUserType(ctx, w.pid, plan.UserTypeInput{Kind: ptr("full_time_employee"), Name: ptr("Staff"), UserCount: ptr(int64(120))}))
	src := must(w.plan.CreateSource(ctx, w.pid, plan.SourceInput{Name: ptr("HR"), Kind: ptr("hr_system"), UserTypeIDs: &[]int64{w.staff.ID}}))
	mail := must(w.mapping.CreateField(ctx, w.pid, src.ID, mapping.FieldInput{Name: ptr("mail"), PII: ptr(mapping.PIINo)}))
	w.row = must(w.mapping.CreateRow(ctx, w.pid, mapping.RowInput{SourceFieldID: &mail.ID, TargetAttribute: ptr("email")}))
	w.payroll = must(w.plan.CreateApplication(ctx, w.pid, plan.ApplicationInput{Name: ptr("Payroll"), AccessMethod: ptr("saml"),
		AssignmentBasis: ptr("group")}))
	w.versions = plandoc.NewVersionService(w.db, func(ctx context.Context, pid int64) (*plandoc.Plan, error) {
		return plandoc.Build(ctx, w.svc, pid)
	}, func(context.Context, int64) ([]byte, error) { return []byte(`{"runs":[]}`), nil }, w.clock.Now)
	return w
}

// as returns a context whose changes are made by a person.
func as(id int64, name string) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{ID: id, Name: name})
}

// change renames Staff, adds Contractors, maps mail with a transformation
// to login instead of email, and removes Payroll.
func (w *versionWorld) change(t *testing.T) {
	t.Helper()
	ctx := w.ctx
	must(w.plan.UpdateUserType(ctx, w.pid, w.staff.ID, w.staff.Version, plan.UserTypeInput{Name: ptr("Employees"), UserCount: ptr(int64(150))}))
	must(w.plan.CreateUserType(ctx, w.pid, plan.UserTypeInput{Kind: ptr("contractor"), Name: ptr("Contractors"), UserCount: ptr(int64(12))}))
	must(w.mapping.UpdateRow(ctx, w.pid, w.row.ID, w.row.Version, mapping.RowInput{TargetAttribute: ptr("login"),
		Transform: ptr(`[{"op":"lower"}]`)}))
	if err := w.plan.DeleteApplication(ctx, w.pid, w.payroll.ID); err != nil {
		t.Fatal(err)
	}
}

func section(t *testing.T, diffs []plandoc.SectionDiff, key string) plandoc.SectionDiff {
	t.Helper()
	for _, d := range diffs {
		if d.Key == key {
			return d
		}
	}
	t.Fatalf("no section %q in %+v", key, diffs)
	return plandoc.SectionDiff{}
}

func fieldChange(t *testing.T, item plandoc.ItemChange, field string) plandoc.FieldChange {
	t.Helper()
	for _, f := range item.Fields {
		if f.Field == field {
			return f
		}
	}
	t.Fatalf("%s: no change of %q in %+v", item.Item, field, item.Fields)
	return plandoc.FieldChange{}
}

func TestFreezingTwiceWithAChangeBetweenComparesSectionBySection(t *testing.T) {
	w := newVersionWorld(t)
	v1, err := w.versions.Freeze(as(7, "Eve Engineer"), w.pid, "  For the legal review\r\nfirst draft  ")
	if err != nil {
		t.Fatal(err)
	}
	if v1.Number != 1 || v1.Note != "For the legal review\nfirst draft" || v1.FrozenByName != "Eve Engineer" || v1.FrozenByID == nil ||
		*v1.FrozenByID != 7 || !v1.FrozenAt.Equal(w.clock.Now()) || v1.FactsJSON != `{"runs":[]}` {
		t.Fatalf("version 1 = %+v", v1)
	}
	if v1.Digest != plandoc.Digest([]byte(v1.PlanJSON)) || len(v1.Digest) != 64 {
		t.Fatalf("digest %q is not the SHA-256 of the plan", v1.Digest)
	}
	if string(export(t, w.world, w.pid)) != v1.PlanJSON {
		t.Fatal("the frozen plan is not the plan file of the live plan")
	}
	w.change(t)
	w.clock.Advance(time.Hour)
	v2, err := w.versions.Freeze(as(7, "Eve Engineer"), w.pid, "After the review")
	if err != nil {
		t.Fatal(err)
	}
	if v2.Number != 2 || v2.Digest == v1.Digest {
		t.Fatalf("version 2 = number %d, digest %s (v1's %s)", v2.Number, v2.Digest, v1.Digest)
	}

	list, err := w.versions.List(w.ctx, w.pid)
	if err != nil || len(list) != 2 || list[0].Number != 2 || list[1].Number != 1 || list[0].PlanJSON != "" {
		t.Fatalf("List = %+v, %v: want v2, v1, without their plans", list, err)
	}
	f1, err := w.versions.Find(w.ctx, w.pid, 1)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := w.versions.Find(w.ctx, w.pid, 2)
	if err != nil {
		t.Fatal(err)
	}
	p1, err := f1.Plan()
	if err != nil {
		t.Fatal(err)
	}
	p2, err := f2.Plan()
	if err != nil {
		t.Fatal(err)
	}
	diffs := plandoc.Compare(p1, p2)
	var keys []string
	for _, d := range diffs {
		keys = append(keys, d.Key)
	}
	if got := strings.Join(keys, " "); got != "project goals user_types sources source_fields applications profile matrix privacy testing defects" {
		t.Fatalf("sections %s", got)
	}

	types := section(t, diffs, "user_types")
	// Staff renamed to Employees: matched by name, it is one removed and one
	// added; Contractors is added.
	if strings.Join(types.Added, "|") != "Contractors|Employees" || strings.Join(types.Removed, "|") != "Staff" || len(types.Changed) != 0 {
		t.Errorf("user types: %+v", types)
	}
	apps := section(t, diffs, "applications")
	if len(apps.Added) != 0 || strings.Join(apps.Removed, "|") != "Payroll" || len(apps.Changed) != 0 {
		t.Errorf("applications: %+v", apps)
	}
	matrix := section(t, diffs, "matrix")
	if len(matrix.Added) != 0 || len(matrix.Removed) != 0 || len(matrix.Changed) != 1 || matrix.Changed[0].Item != "HR › mail" {
		t.Fatalf("matrix: %+v", matrix)
	}
	if f := fieldChange(t, matrix.Changed[0], "target"); f.Before != "email" || f.After != "login" {
		t.Errorf("matrix target: %+v", f)
	}
	if f := fieldChange(t, matrix.Changed[0], "transform"); f.Before != "" || f.After != `[{"op":"lower"}]` {
		t.Errorf("matrix transform: %+v", f)
	}
	sources := section(t, diffs, "sources")
	if len(sources.Changed) != 1 || sources.Changed[0].Item != "HR" {
		t.Fatalf("sources: %+v", sources)
	}
	if f := fieldChange(t, sources.Changed[0], "user types"); f.Before != "Staff" || f.After != "Employees" {
		t.Errorf("source user types: %+v", f)
	}
	for _, k := range []string{"project", "goals", "source_fields", "profile", "privacy", "testing", "defects"} {
		if d := section(t, diffs, k); !d.Empty() {
			t.Errorf("%s changed: %+v", k, d)
		}
	}
	// The same comparison, again, gives the same answer; a plan compared
	// with itself, nothing.
	if again := plandoc.Compare(p1, p2); !equalDiffs(again, diffs) {
		t.Error("comparing the same plans twice gave different answers")
	}
	if !plandoc.Unchanged(plandoc.Compare(p2, p2)) {
		t.Error("a plan differs from itself")
	}
	// The other way round, added and removed swap.
	back := section(t, plandoc.Compare(p2, p1), "applications")
	if strings.Join(back.Added, "|") != "Payroll" {
		t.Errorf("reversed applications: %+v", back)
	}
}

func equalDiffs(a, b []plandoc.SectionDiff) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || strings.Join(a[i].Added, "|") != strings.Join(b[i].Added, "|") ||
			strings.Join(a[i].Removed, "|") != strings.Join(b[i].Removed, "|") || len(a[i].Changed) != len(b[i].Changed) {
			return false
		}
		for j := range a[i].Changed {
			if a[i].Changed[j].Item != b[i].Changed[j].Item || len(a[i].Changed[j].Fields) != len(b[i].Changed[j].Fields) {
				return false
			}
			for k, f := range a[i].Changed[j].Fields {
				if f != b[i].Changed[j].Fields[k] {
					return false
				}
			}
		}
	}
	return true
}

func TestSignaturesSayWhichVersionEachRoleSignedAndWhetherThePlanChangedSince(t *testing.T) {
	w := newVersionWorld(t)
	ctx := w.ctx
	st, err := w.versions.Status(ctx, w.pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.Newest != nil || st.ChangedSinceSigned || st.LatestSignature != nil || len(st.Roles) != 2 || st.Roles[0].Signature != nil {
		t.Fatalf("status without versions: %+v", st)
	}
	must(w.versions.Freeze(as(7, "Eve Engineer"), w.pid, "first"))
	w.change(t)
	must(w.versions.Freeze(as(7, "Eve Engineer"), w.pid, "second"))

	lead := as(1, "Lea Lead")
	w.clock.Advance(time.Minute)
	sig, err := w.versions.Sign(lead, w.pid, 1, plandoc.RoleLead)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Role != plandoc.RoleLead || sig.SignedByName != "Lea Lead" || sig.SignedByID == nil || *sig.SignedByID != 1 {
		t.Fatalf("signature %+v", sig)
	}
	w.clock.Advance(time.Minute)
	must(w.versions.Sign(as(2, "Lou Legal"), w.pid, 2, plandoc.RoleLegal))

	st, err = w.versions.Status(ctx, w.pid)
	if err != nil {
		t.Fatal(err)
	}
	ls, gs := st.Role(plandoc.RoleLead), st.Role(plandoc.RoleLegal)
	if ls.Version.Number != 1 || !ls.Older || !ls.Changed {
		t.Errorf("lead: signed v%d, older %v, changed %v: want v1, older, changed", ls.Version.Number, ls.Older, ls.Changed)
	}
	if gs.Version.Number != 2 || gs.Older || gs.Changed {
		t.Errorf("legal: signed v%d, older %v, changed %v: want v2, newest, unchanged", gs.Version.Number, gs.Older, gs.Changed)
	}
	if st.ChangedSinceSigned || st.LatestSignature.Role != plandoc.RoleLegal || !st.LiveIsNewest {
		t.Errorf("status %+v: the latest signature (legal, v2) is the live plan", st)
	}

	// Signing again replaces the role's signature of that version.
	w.clock.Advance(time.Minute)
	must(w.versions.Sign(lead, w.pid, 1, plandoc.RoleLead))
	v1 := must(w.versions.Find(ctx, w.pid, 1))
	if len(v1.Signatures) != 1 || !v1.Signatures[0].SignedAt.Equal(w.clock.Now()) {
		t.Errorf("v1 signatures after signing again: %+v", v1.Signatures)
	}
	// Lead signs v2 too: both roles on v2.
	must(w.versions.Sign(lead, w.pid, 2, plandoc.RoleLead))
	v2 := must(w.versions.Find(ctx, w.pid, 2))
	if len(v2.Signatures) != 2 || v2.Signatures[0].Role != plandoc.RoleLead || v2.Signatures[1].Role != plandoc.RoleLegal {
		t.Errorf("v2 signatures: %+v", v2.Signatures)
	}

	// A change after signing is visible as such.
	must(w.plan.CreateUserType(ctx, w.pid, plan.UserTypeInput{Kind: ptr("partner"), Name: ptr("Resellers"), UserCount: ptr(int64(3))}))
	st, err = w.versions.Status(ctx, w.pid)
	if err != nil {
		t.Fatal(err)
	}
	if !st.ChangedSinceSigned || st.LiveIsNewest || !st.Role(plandoc.RoleLegal).Changed || st.LatestSigned.Number != 2 {
		t.Errorf("after a change: %+v", st)
	}

	var entries []audit.Entry
	if err := w.db.Read.Where("entity_type IN ?", []string{"plan_version", "plan_signature"}).Order("id").Find(&entries).Error; err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.EntityType+":"+e.Action+":"+e.ActorName)
	}
	want := "plan_version:create:Eve Engineer plan_version:create:Eve Engineer plan_signature:create:Lea Lead " +
		"plan_signature:create:Lou Legal plan_signature:update:Lea Lead plan_signature:create:Lea Lead"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit log:\n got %s\nwant %s", got, want)
	}
}

func TestBadVersionInputIsRefusedAndWritesNothing(t *testing.T) {
	w := newVersionWorld(t)
	ctx := as(7, "Eve Engineer")
	must(w.versions.Freeze(ctx, w.pid, "first"))
	for _, tc := range []struct {
		name, note, want string
	}{
		{"empty", "", "Note is required."},
		{"only white space", " \n\t ", "Note is required."},
		{"oversized", strings.Repeat("x", plandoc.MaxNoteLen+1), "too long"},
		{"control characters", "ring the bell\x07", "control characters"},
		{"not UTF-8", "caf\xe9", "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.versions.Freeze(ctx, w.pid, tc.note)
			e := apperr.As(err)
			if e == nil || e.Code != apperr.CodeInvalid || !strings.Contains(e.Fields["note"], tc.want) {
				t.Fatalf("Freeze(%q) = %v, want a note error containing %q", tc.note, err, tc.want)
			}
		})
	}
	if _, err := w.versions.Freeze(ctx, w.pid, strings.Repeat("é", plandoc.MaxNoteLen)); err != nil {
		t.Errorf("a note of exactly %d characters: %v", plandoc.MaxNoteLen, err)
	}
	if _, err := w.versions.Freeze(ctx, 999999, "no such project"); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("freezing an unknown project: %v, want not found", err)
	}
	for _, n := range []int{0, -1, 3, 99} {
		if _, err := w.versions.Find(ctx, w.pid, n); !apperr.Is(err, apperr.CodeNotFound) {
			t.Errorf("Find(%d) = %v, want not found", n, err)
		}
		if _, err := w.versions.Sign(ctx, w.pid, n, plandoc.RoleLead); !apperr.Is(err, apperr.CodeNotFound) {
			t.Errorf("Sign(%d) = %v, want not found", n, err)
		}
	}
	// Another project's version is not this one's.
	other := must(w.plan.CreateProject(w.ctx, w.admin.ID, plan.ProjectInput{Name: ptr("Globex")}))
	if _, err := w.versions.Find(ctx, other.ID, 1); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("another project's version 1: %v, want not found", err)
	}
	for _, role := range []string{"", "admin", "Lead", "legal_reviewer"} {
		_, err := w.versions.Sign(ctx, w.pid, 1, role)
		if e := apperr.As(err); e == nil || e.Code != apperr.CodeInvalid || e.Fields["role"] == "" {
			t.Errorf("Sign as %q = %v, want a role error", role, err)
		}
	}
	list := must(w.versions.List(ctx, w.pid))
	if len(list) != 2 || len(list[0].Signatures)+len(list[1].Signatures) != 0 {
		t.Errorf("after bad input: %+v, want v1 and the 2,000-character one, unsigned", list)
	}
}
