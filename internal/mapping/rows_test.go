package mapping_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/schema"
)

func TestCreateRowStoresACanonicalTransformation(t *testing.T) {
	f := newFixture(t)
	given := f.mustField(t, f.ad.ID, "givenName", mapping.FieldInput{})
	f.mustField(t, f.ad.ID, "sn", mapping.FieldInput{})
	r, err := f.mapping.CreateRow(f.ctx, f.project.ID, mapping.RowInput{
		SourceFieldID: &given.ID, TargetAttribute: ptr(" displayName "), Notes: ptr(" from HR "),
		Transform: ptr(` [ { "separator" : " ", "op" : "concat", "fields" : [ "givenName", "sn" ] } ] `),
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.TargetAttribute != "displayName" || r.Status != mapping.StatusMapped || r.Priority != 1 || r.Version != 1 || r.Notes != "from HR" {
		t.Errorf("row %+v", r)
	}
	want, _ := mapping.CanonicalTransform(`[{"op":"concat","fields":["givenName","sn"],"separator":" "}]`)
	if r.Transform != want {
		t.Errorf("transform %q, want %q", r.Transform, want)
	}
	got, err := f.mapping.FindRowByID(f.ctx, f.project.ID, r.ID)
	if err != nil || got.Transform != want {
		t.Fatalf("stored %+v, %v", got, err)
	}
	f.checkEntry(t, f.history(t, "mapping_row", r.ID)[0], "create", "mapping_row", r.ID, "givenName → displayName")

	t.Run("an empty pipeline is stored as no transformation", func(t *testing.T) {
		r, err := f.mapping.CreateRow(f.ctx, f.project.ID, mapping.RowInput{SourceFieldID: &given.ID, TargetAttribute: ptr("nickName"), Transform: ptr("[]")})
		if err != nil || r.Transform != "" {
			t.Fatalf("row %+v, %v", r, err)
		}
	})
}

func TestCreateRowIgnoredDropsTargetAndTransformation(t *testing.T) {
	f := newFixture(t)
	sf := f.mustField(t, f.ad.ID, "pager", mapping.FieldInput{})
	r, err := f.mapping.CreateRow(f.ctx, f.project.ID, mapping.RowInput{SourceFieldID: &sf.ID, Status: ptr(mapping.StatusIgnored),
		TargetAttribute: ptr("primaryPhone"), Transform: ptr(`[{"op":"trim"}]`)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != mapping.StatusIgnored || r.TargetAttribute != "" || r.Transform != "" {
		t.Errorf("row %+v", r)
	}
	f.checkEntry(t, f.history(t, "mapping_row", r.ID)[0], "create", "mapping_row", r.ID, "pager (not migrated)")
}

func TestCreateRowRefusesBadInput(t *testing.T) {
	tests := []struct {
		name       string
		in         func(fieldID, theirs int64) mapping.RowInput
		field, msg string
	}{
		{"unknown target attribute", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("badgeNumber")}
		}, "target_attribute", "define it as a custom attribute first"},
		{"target attribute in the wrong case", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("Email")}
		}, "target_attribute", "is not an attribute"},
		{"mapped without a target", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id}
		}, "target_attribute", "Choose the Okta attribute"},
		{"unknown status", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("email"), Status: ptr("maybe")}
		}, "status", "must be one of"},
		{"transformation that is not JSON", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("email"), Transform: ptr("lower()")}
		}, "transform", "Transformation: "},
		{"transformation with an unknown op", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("email"), Transform: ptr(`[{"op":"eval","code":"rm -rf"}]`)}
		}, "transform", "Transformation: "},
		{"transformation with a missing parameter", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("email"), Transform: ptr(`[{"op":"split","separator":"@"}]`)}
		}, "transform", "index"},
		{"transformation reading a field the source lacks", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("email"), Transform: ptr(`[{"op":"template","template":"{uid}@example.com"}]`)}
		}, "transform", `"uid"`},
		{"priority 0", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("email"), Priority: ptr(0)}
		}, "priority", "between 1"},
		{"negative priority", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("email"), Priority: ptr(-1)}
		}, "priority", "between 1"},
		{"priority above the maximum", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("email"), Priority: ptr(mapping.MaxPriority + 1)}
		}, "priority", "between 1"},
		{"overlong notes", func(id, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &id, TargetAttribute: ptr("email"), Notes: ptr(strings.Repeat("n", apperr.MaxTextLen+1))}
		}, "notes", "too long"},
		{"no field", func(_, _ int64) mapping.RowInput {
			return mapping.RowInput{TargetAttribute: ptr("email")}
		}, "source_field_id", "Choose a field"},
		{"a field that does not exist", func(_, _ int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: ptr(int64(999999)), TargetAttribute: ptr("email")}
		}, "source_field_id", "Choose a field"},
		{"a field of another project", func(_, theirs int64) mapping.RowInput {
			return mapping.RowInput{SourceFieldID: &theirs, TargetAttribute: ptr("email")}
		}, "source_field_id", "Choose a field of one of this project's sources"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			sf := f.mustField(t, f.ad.ID, "mail", mapping.FieldInput{})
			other := f.mustProject(t, "Other")
			src := f.mustSource(t, other.ID, "Their AD")
			theirs, err := f.mapping.CreateField(f.ctx, other.ID, src.ID, mapping.FieldInput{Name: ptr("mail")})
			if err != nil {
				t.Fatal(err)
			}
			in := tt.in(sf.ID, theirs.ID)
			before := f.state(t)
			_, err = f.mapping.CreateRow(f.ctx, f.project.ID, in)
			wantField(t, err, tt.field, tt.msg)
			f.wantUnchanged(t, before)
		})
	}
}

func TestCreateRowAcceptsACustomAttributeAndThePriorityBounds(t *testing.T) {
	f := newFixture(t)
	if _, err := f.schema.CreateCustomAttribute(f.ctx, f.project.ID, schema.CustomAttributeInput{Name: ptr("badge"), Title: ptr("Badge"), Type: ptr("string")}); err != nil {
		t.Fatal(err)
	}
	sf := f.mustField(t, f.ad.ID, "badgeNumber", mapping.FieldInput{})
	f.mustRow(t, sf.ID, "badge", mapping.RowInput{})
	f.mustRow(t, sf.ID, "employeeNumber", mapping.RowInput{Priority: ptr(mapping.MaxPriority)})
}

func TestCreateRowRefusesADuplicate(t *testing.T) {
	f := newFixture(t)
	sf := f.mustField(t, f.ad.ID, "mail", mapping.FieldInput{})
	f.mustRow(t, sf.ID, "email", mapping.RowInput{})
	f.mustRow(t, sf.ID, "", mapping.RowInput{Status: ptr(mapping.StatusIgnored)})
	for _, in := range []mapping.RowInput{
		{SourceFieldID: &sf.ID, TargetAttribute: ptr("email"), Priority: ptr(2)},
		{SourceFieldID: &sf.ID, Status: ptr(mapping.StatusIgnored)},
	} {
		before := f.state(t)
		_, err := f.mapping.CreateRow(f.ctx, f.project.ID, in)
		wantField(t, err, "target_attribute", "already mapped")
		f.wantUnchanged(t, before)
	}
}

func TestUpdateRow(t *testing.T) {
	f := newFixture(t)
	upn := f.mustField(t, f.ad.ID, "userPrincipalName", mapping.FieldInput{})
	r := f.mustRow(t, upn.ID, "email", mapping.RowInput{})
	f.clock.Advance(time.Second)
	up, err := f.mapping.UpdateRow(f.ctx, f.project.ID, r.ID, r.Version, mapping.RowInput{
		TargetAttribute: ptr("login"), Transform: ptr(`[{"op":"trim"},{"op":"lower"}]`), Notes: ptr("UPN is the login"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Version != 2 || up.TargetAttribute != "login" || up.Transform != `[{"op":"trim"},{"op":"lower"}]` || up.Notes != "UPN is the login" || up.Priority != 1 {
		t.Errorf("updated %+v", up)
	}
	e := f.history(t, "mapping_row", r.ID)[0]
	f.checkEntry(t, e, "update", "mapping_row", r.ID, "userPrincipalName → login")
	if d := diff(e); d["targetAttribute"] != "email → login" {
		t.Errorf("audit diff %v", d)
	}

	t.Run("bad input is refused and nothing is written", func(t *testing.T) {
		for _, in := range []mapping.RowInput{
			{TargetAttribute: ptr("nope")},
			{Priority: ptr(100)},
			{Transform: ptr(`{"op":"trim"`)},
			{Status: ptr("deleted")},
		} {
			before := f.state(t)
			_, err := f.mapping.UpdateRow(f.ctx, f.project.ID, r.ID, up.Version, in)
			wantCode(t, err, apperr.CodeInvalid)
			f.wantUnchanged(t, before)
		}
	})

	t.Run("a row of another project is not found", func(t *testing.T) {
		other := f.mustProject(t, "Other")
		_, err := f.mapping.UpdateRow(f.ctx, other.ID, r.ID, up.Version, mapping.RowInput{Notes: ptr("x")})
		wantCode(t, err, apperr.CodeNotFound)
		_, err = f.mapping.FindRowByID(f.ctx, other.ID, r.ID)
		wantCode(t, err, apperr.CodeNotFound)
	})

	t.Run("moving onto another row's target is refused", func(t *testing.T) {
		f.mustRow(t, upn.ID, "email", mapping.RowInput{})
		before := f.state(t)
		_, err := f.mapping.UpdateRow(f.ctx, f.project.ID, r.ID, up.Version, mapping.RowInput{TargetAttribute: ptr("email")})
		wantField(t, err, "target_attribute", "already mapped")
		f.wantUnchanged(t, before)
	})
}

func TestConcurrentEditOfOneRowIsRefusedWithWhatChanged(t *testing.T) {
	f := newFixture(t)
	mail := f.mustField(t, f.ad.ID, "mail", mapping.FieldInput{})
	r := f.mustRow(t, mail.ID, "email", mapping.RowInput{Notes: ptr("primary")})

	// Two people open version 1; the first saves.
	first, err := f.mapping.UpdateRow(f.ctx, f.project.ID, r.ID, r.Version, mapping.RowInput{
		TargetAttribute: ptr("secondEmail"), Priority: ptr(2), Notes: ptr("moved by Ann"),
	})
	if err != nil {
		t.Fatal(err)
	}
	before := f.state(t)
	// The second sends their own edit of version 1.
	_, err = f.mapping.UpdateRow(f.ctx, f.project.ID, r.ID, r.Version, mapping.RowInput{
		TargetAttribute: ptr("email"), Priority: ptr(2), Transform: ptr(`[{"op":"lower"}]`), Notes: ptr("lower-cased by Bob"),
	})
	e := wantCode(t, err, apperr.CodeConflict)
	if !strings.Contains(e.Message, "Someone else saved this matrix row") {
		t.Errorf("message %q", e.Message)
	}
	if e.CurrentVersion != first.Version {
		t.Errorf("current version %d, want %d", e.CurrentVersion, first.Version)
	}
	got := map[string]string{}
	for _, c := range e.Changes {
		if c.Label == "" {
			t.Errorf("change of %s has no label", c.Field)
		}
		got[c.Field] = c.Stored + " → " + c.Yours
	}
	want := map[string]string{
		"targetAttribute": "secondEmail → email",
		"transform":       ` → [{"op":"lower"}]`,
		"notes":           "moved by Ann → lower-cased by Bob",
	}
	// Priority is the same on both sides, so it is not listed.
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	f.wantUnchanged(t, before)
	stored, _ := f.mapping.FindRowByID(f.ctx, f.project.ID, r.ID)
	if stored.TargetAttribute != "secondEmail" || stored.Notes != "moved by Ann" || stored.Version != 2 {
		t.Errorf("stored %+v, want Ann's save", stored)
	}
}

func TestConcurrentSavesOfOneVersionLetExactlyOneWin(t *testing.T) {
	f := newFixture(t)
	mail := f.mustField(t, f.ad.ID, "mail", mapping.FieldInput{})
	r := f.mustRow(t, mail.ID, "email", mapping.RowInput{})
	auditBefore := f.auditCount(t)

	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = f.mapping.UpdateRow(f.ctx, f.project.ID, r.ID, r.Version, mapping.RowInput{Notes: ptr(fmt.Sprintf("editor %d", i))})
		})
	}
	close(start)
	wg.Wait()
	wins, winner := 0, -1
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
			winner = i
		case apperr.Is(err, apperr.CodeConflict):
		default:
			t.Errorf("editor %d: %v, want success or a conflict", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d saves won, want exactly 1", wins)
	}
	stored, _ := f.mapping.FindRowByID(f.ctx, f.project.ID, r.ID)
	if stored.Version != 2 || stored.Notes != fmt.Sprintf("editor %d", winner) {
		t.Errorf("stored %+v, want version 2 with editor %d's notes", stored, winner)
	}
	if got := f.auditCount(t) - auditBefore; got != 1 {
		t.Errorf("%d audit entries, want 1", got)
	}
}

func TestDeleteRow(t *testing.T) {
	f := newFixture(t)
	mail := f.mustField(t, f.ad.ID, "mail", mapping.FieldInput{})
	r := f.mustRow(t, mail.ID, "email", mapping.RowInput{})
	other := f.mustProject(t, "Other")
	before := f.state(t)
	wantCode(t, f.mapping.DeleteRow(f.ctx, other.ID, r.ID), apperr.CodeNotFound)
	f.wantUnchanged(t, before)

	if err := f.mapping.DeleteRow(f.ctx, f.project.ID, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.mapping.FindRowByID(f.ctx, f.project.ID, r.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("deleted row: %v", err)
	}
	if _, err := f.mapping.FindFieldByID(f.ctx, f.project.ID, mail.ID); err != nil {
		t.Errorf("the field went with the row: %v", err)
	}
	f.checkEntry(t, f.history(t, "mapping_row", r.ID)[0], "delete", "mapping_row", r.ID, "mail → email")
	wantCode(t, f.mapping.DeleteRow(f.ctx, f.project.ID, r.ID), apperr.CodeNotFound)
}

func TestCanonicalTransform(t *testing.T) {
	tests := []struct {
		name, in, want string
		bad            bool
	}{
		{"empty is none", "", "", false},
		{"blank is none", "  \n", "", false},
		{"empty list is none", "[]", "", false},
		{"null is none", "null", "", false},
		{"spacing and key order do not matter", ` [ {"op" : "lower"} ] `, `[{"op":"lower"}]`, false},
		{"not JSON is refused", "lower", "", true},
		{"an unknown op is refused", `[{"op":"exec"}]`, "", true},
		{"an unknown parameter is refused", `[{"op":"trim","chars":" "}]`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mapping.CanonicalTransform(tt.in)
			if (err != nil) != tt.bad {
				t.Fatalf("err = %v, want error %v", err, tt.bad)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadMatrixReadsTheProjectsSettingsAndAttributes(t *testing.T) {
	f := newFixture(t)
	sam := f.mustField(t, f.ad.ID, "sAMAccountName", mapping.FieldInput{Samples: &[]string{"ada"}, KnownUnique: ptr(true)})
	r := f.mustRow(t, sam.ID, "login", mapping.RowInput{})
	has := func(m *mapping.Matrix, code string) bool {
		for _, p := range m.Problems {
			if p.Code == code && p.RowID == r.ID {
				return true
			}
		}
		return false
	}
	if m := f.matrix(t); !has(m, mapping.ProblemLoginNotEmail) {
		t.Errorf("no login_not_email without a login pattern: %v", codes(m.Problems))
	}
	st, err := f.schema.FindSettings(f.ctx, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.schema.UpdateSettings(f.ctx, f.project.ID, st.Version, schema.SettingsInput{LoginPattern: ptr("[a-z]+")}); err != nil {
		t.Fatal(err)
	}
	m := f.matrix(t)
	if has(m, mapping.ProblemLoginNotEmail) {
		t.Errorf("login_not_email with a login pattern: %v", codes(m.Problems))
	}
	if m.Settings.LoginPattern != "[a-z]+" || len(m.Attributes) != 31 || m.Lines[0].SourceName != "AD" {
		t.Errorf("matrix settings %+v, %d attributes, source %q", m.Settings, len(m.Attributes), m.Lines[0].SourceName)
	}
	// Suggestions follow the stored pattern too.
	f.mustField(t, f.ad.ID, "uid", mapping.FieldInput{})
	if sg := f.matrix(t).Suggestions(); len(sg) != 1 || sg[0].Target != "login" || sg[0].Priority != 2 {
		t.Errorf("suggestions %+v, want uid → login @2", sg)
	}
}

func TestRenamingAFieldInvalidatesTransformationsThatReadIt(t *testing.T) {
	f := newFixture(t)
	given := f.mustField(t, f.ad.ID, "givenName", mapping.FieldInput{})
	sn := f.mustField(t, f.ad.ID, "sn", mapping.FieldInput{})
	r := f.mustRow(t, given.ID, "displayName", mapping.RowInput{Transform: ptr(`[{"op":"concat","fields":["givenName","sn"],"separator":" "}]`)})
	if _, err := f.mapping.UpdateField(f.ctx, f.project.ID, sn.ID, sn.Version, mapping.FieldInput{Name: ptr("surname")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range f.matrix(t).Problems {
		if p.Code == mapping.ProblemTransformInvalid && p.RowID == r.ID {
			if !strings.Contains(p.Message, `"sn"`) {
				t.Errorf("message %q does not name the missing field", p.Message)
			}
			return
		}
	}
	t.Fatal("no transform_invalid after renaming a field the transformation reads")
}
