package mapping_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/mapping"
)

func TestCreateFieldStoresWhatWasGiven(t *testing.T) {
	f := newFixture(t)
	sf, err := f.mapping.CreateField(f.ctx, f.project.ID, f.ad.ID, mapping.FieldInput{
		Name: ptr("  mail "), DataType: ptr("string"), MaxLength: lenp(256), MultiValued: ptr(false), KnownUnique: ptr(true),
		Samples: &[]string{"ada@example.com\r\n", "", "bob@example.com"}, Notes: ptr(" primary address "),
	})
	if err != nil {
		t.Fatal(err)
	}
	if sf.Name != "mail" || sf.DataType != "string" || sf.MaxLength == nil || *sf.MaxLength != 256 || !sf.KnownUnique || sf.Notes != "primary address" {
		t.Errorf("field %+v", sf)
	}
	if strings.Join(sf.Samples, "|") != "ada@example.com|bob@example.com" {
		t.Errorf("samples %q: empty samples and line ends are dropped", sf.Samples)
	}
	if sf.PII != mapping.PIIUnknown || sf.PIISuggestion != "contact" || sf.Version != 1 || sf.ProjectID != f.project.ID || sf.SourceID != f.ad.ID {
		t.Errorf("field %+v: want PII unknown, suggestion contact, version 1", sf)
	}
	got, err := f.mapping.FindFieldByID(f.ctx, f.project.ID, sf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "mail" || strings.Join(got.Samples, "|") != "ada@example.com|bob@example.com" || got.PIISuggestion != "contact" {
		t.Errorf("stored field %+v", got)
	}
	f.checkEntry(t, f.history(t, "source_field", sf.ID)[0], "create", "source_field", sf.ID, "AD.mail")
}

func TestCreateFieldDefaults(t *testing.T) {
	f := newFixture(t)
	sf := f.mustField(t, f.ad.ID, "department", mapping.FieldInput{})
	if sf.DataType != "string" || sf.MaxLength != nil || sf.MultiValued || sf.KnownUnique || sf.PII != mapping.PIIUnknown ||
		sf.PIISuggestion != "" || sf.Samples == nil || len(sf.Samples) != 0 {
		t.Errorf("field %+v", sf)
	}
}

func TestCreateFieldRefusesBadInput(t *testing.T) {
	samples := func(n int) *[]string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprintf("value %d", i)
		}
		return &s
	}
	tests := []struct {
		name       string
		in         mapping.FieldInput
		field, msg string
	}{
		{"empty name", mapping.FieldInput{Name: ptr("")}, "name", "required"},
		{"blank name", mapping.FieldInput{Name: ptr("   ")}, "name", "required"},
		{"overlong name", mapping.FieldInput{Name: ptr(strings.Repeat("n", apperr.MaxNameLen+1))}, "name", "too long"},
		{"name on two lines", mapping.FieldInput{Name: ptr("given\nName")}, "name", "single line"},
		{"name with a control character", mapping.FieldInput{Name: ptr("given\x00Name")}, "name", "control characters"},
		{"unknown data type", mapping.FieldInput{Name: ptr("mail"), DataType: ptr("text")}, "data_type", "must be one of"},
		{"empty data type", mapping.FieldInput{Name: ptr("mail"), DataType: ptr("")}, "data_type", "must be one of"},
		{"zero length", mapping.FieldInput{Name: ptr("mail"), MaxLength: lenp(0)}, "max_length", "between 1 and"},
		{"negative length", mapping.FieldInput{Name: ptr("mail"), MaxLength: lenp(-5)}, "max_length", "between 1 and"},
		{"absurd length", mapping.FieldInput{Name: ptr("mail"), MaxLength: lenp(mapping.MaxFieldLength + 1)}, "max_length", "between 1 and"},
		{"more than 20 samples", mapping.FieldInput{Name: ptr("mail"), Samples: samples(mapping.MaxSamples + 1)}, "samples", "At most 20"},
		{"overlong sample", mapping.FieldInput{Name: ptr("mail"), Samples: &[]string{strings.Repeat("x", mapping.MaxSampleLen+1)}}, "samples", "too long"},
		{"sample that is not UTF-8", mapping.FieldInput{Name: ptr("mail"), Samples: &[]string{"caf\xe9"}}, "samples", "UTF-8"},
		{"unknown PII state", mapping.FieldInput{Name: ptr("mail"), PII: ptr("maybe")}, "pii", "must be one of"},
		{"PII without a category", mapping.FieldInput{Name: ptr("mail"), PII: ptr(mapping.PIIYes)}, "pii_category", "must be one of"},
		{"PII with an unknown category", mapping.FieldInput{Name: ptr("mail"), PII: ptr(mapping.PIIYes), PIICategory: ptr("gossip")}, "pii_category", "must be one of"},
		{"overlong notes", mapping.FieldInput{Name: ptr("mail"), Notes: ptr(strings.Repeat("n", apperr.MaxTextLen+1))}, "notes", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.state(t)
			_, err := f.mapping.CreateField(f.ctx, f.project.ID, f.ad.ID, tt.in)
			wantField(t, err, tt.field, tt.msg)
			f.wantUnchanged(t, before)
		})
	}
}

func TestCreateFieldAcceptsTheLimits(t *testing.T) {
	f := newFixture(t)
	s := make([]string, mapping.MaxSamples)
	for i := range s {
		s[i] = strings.Repeat("x", mapping.MaxSampleLen)
	}
	_, err := f.mapping.CreateField(f.ctx, f.project.ID, f.ad.ID, mapping.FieldInput{
		Name: ptr(strings.Repeat("n", apperr.MaxNameLen)), MaxLength: lenp(mapping.MaxFieldLength), Samples: &s,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dt := range mapping.DataTypes() {
		if _, err := f.mapping.CreateField(f.ctx, f.project.ID, f.ad.ID, mapping.FieldInput{Name: ptr("f_" + dt.Value), DataType: ptr(dt.Value)}); err != nil {
			t.Errorf("data type %s: %v", dt.Value, err)
		}
	}
	for _, c := range mapping.PIICategories() {
		if _, err := f.mapping.CreateField(f.ctx, f.project.ID, f.ad.ID, mapping.FieldInput{Name: ptr("pii_" + c.Value), PII: ptr(mapping.PIIYes), PIICategory: ptr(c.Value)}); err != nil {
			t.Errorf("category %s: %v", c.Value, err)
		}
	}
}

func TestCreateFieldRefusesADuplicateNameIgnoringCase(t *testing.T) {
	f := newFixture(t)
	f.mustField(t, f.ad.ID, "givenName", mapping.FieldInput{})
	before := f.state(t)
	_, err := f.mapping.CreateField(f.ctx, f.project.ID, f.ad.ID, mapping.FieldInput{Name: ptr("GIVENNAME")})
	wantField(t, err, "name", "already has a field")
	f.wantUnchanged(t, before)

	// Another source may have a field of the same name.
	hr := f.mustSource(t, f.project.ID, "Workday")
	f.mustField(t, hr.ID, "givenName", mapping.FieldInput{})
}

func TestCreateFieldRefusesASourceOfAnotherProject(t *testing.T) {
	f := newFixture(t)
	other := f.mustProject(t, "Other")
	theirs := f.mustSource(t, other.ID, "Their AD")
	before := f.state(t)
	_, err := f.mapping.CreateField(f.ctx, f.project.ID, theirs.ID, mapping.FieldInput{Name: ptr("mail")})
	wantCode(t, err, apperr.CodeNotFound)
	_, err = f.mapping.CreateField(f.ctx, f.project.ID, 999999, mapping.FieldInput{Name: ptr("mail")})
	wantCode(t, err, apperr.CodeNotFound)
	f.wantUnchanged(t, before)
	if n := f.count(t, "SELECT COUNT(*) FROM source_fields WHERE project_id = ?", other.ID); n != 0 {
		t.Errorf("%d fields in the other project", n)
	}
}

func TestFindFieldsListsBySourceAndName(t *testing.T) {
	f := newFixture(t)
	hr := f.mustSource(t, f.project.ID, "Workday")
	f.mustField(t, f.ad.ID, "sn", mapping.FieldInput{})
	f.mustField(t, f.ad.ID, "Mail", mapping.FieldInput{})
	f.mustField(t, hr.ID, "worker_id", mapping.FieldInput{})
	other := f.mustProject(t, "Other")
	theirs := f.mustSource(t, other.ID, "X")
	if _, err := f.mapping.CreateField(f.ctx, other.ID, theirs.ID, mapping.FieldInput{Name: ptr("secret")}); err != nil {
		t.Fatal(err)
	}
	names := func(sourceID int64) string {
		fs, err := f.mapping.FindFields(f.ctx, f.project.ID, sourceID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range fs {
			out = append(out, x.Name)
		}
		return strings.Join(out, ",")
	}
	if got := names(0); got != "Mail,sn,worker_id" {
		t.Errorf("all fields: %s", got)
	}
	if got := names(hr.ID); got != "worker_id" {
		t.Errorf("Workday fields: %s", got)
	}
	if got := names(theirs.ID); got != "" {
		t.Errorf("another project's source: %s", got)
	}
}

func TestFindFieldByIDOfAnotherProjectIsNotFound(t *testing.T) {
	f := newFixture(t)
	sf := f.mustField(t, f.ad.ID, "mail", mapping.FieldInput{})
	other := f.mustProject(t, "Other")
	_, err := f.mapping.FindFieldByID(f.ctx, other.ID, sf.ID)
	wantCode(t, err, apperr.CodeNotFound)
}

func TestUpdateField(t *testing.T) {
	f := newFixture(t)
	sf := f.mustField(t, f.ad.ID, "extensionAttribute1", mapping.FieldInput{MaxLength: lenp(64)})
	f.clock.Advance(time.Second)
	up, err := f.mapping.UpdateField(f.ctx, f.project.ID, sf.ID, sf.Version, mapping.FieldInput{
		Name: ptr("birthDate"), DataType: ptr("date"), PII: ptr(mapping.PIIYes), PIICategory: ptr("demographic"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Version != 2 || up.Name != "birthDate" || up.DataType != "date" || up.MaxLength == nil || *up.MaxLength != 64 ||
		up.PII != mapping.PIIYes || up.PIICategory != "demographic" || up.PIISuggestion != "demographic" {
		t.Errorf("updated %+v", up)
	}
	e := f.history(t, "source_field", sf.ID)[0]
	f.checkEntry(t, e, "update", "source_field", sf.ID, "AD.birthDate")
	d := diff(e)
	if d["name"] != "extensionAttribute1 → birthDate" || d["pii"] != "unknown → yes" {
		t.Errorf("audit diff %v", d)
	}

	t.Run("clearing the length and denying PII clears the category", func(t *testing.T) {
		var none *int
		up2, err := f.mapping.UpdateField(f.ctx, f.project.ID, sf.ID, up.Version, mapping.FieldInput{MaxLength: &none, PII: ptr(mapping.PIINo)})
		if err != nil {
			t.Fatal(err)
		}
		if up2.MaxLength != nil || up2.PII != mapping.PIINo || up2.PIICategory != "" || up2.Name != "birthDate" {
			t.Errorf("updated %+v", up2)
		}
		up = up2
	})

	t.Run("a stale version is refused and nothing is written", func(t *testing.T) {
		before := f.state(t)
		_, err := f.mapping.UpdateField(f.ctx, f.project.ID, sf.ID, 1, mapping.FieldInput{Name: ptr("other")})
		e := wantCode(t, err, apperr.CodeConflict)
		if e.CurrentVersion != up.Version {
			t.Errorf("current version %d, want %d", e.CurrentVersion, up.Version)
		}
		f.wantUnchanged(t, before)
	})

	t.Run("bad input is refused and nothing is written", func(t *testing.T) {
		before := f.state(t)
		_, err := f.mapping.UpdateField(f.ctx, f.project.ID, sf.ID, up.Version, mapping.FieldInput{DataType: ptr("blob")})
		wantField(t, err, "data_type", "must be one of")
		f.wantUnchanged(t, before)
	})

	t.Run("renaming onto a sibling's name is refused", func(t *testing.T) {
		f.mustField(t, f.ad.ID, "mail", mapping.FieldInput{})
		before := f.state(t)
		_, err := f.mapping.UpdateField(f.ctx, f.project.ID, sf.ID, up.Version, mapping.FieldInput{Name: ptr("MAIL")})
		wantField(t, err, "name", "already has a field")
		f.wantUnchanged(t, before)
	})

	t.Run("a field of another project is not found", func(t *testing.T) {
		other := f.mustProject(t, "Other")
		_, err := f.mapping.UpdateField(f.ctx, other.ID, sf.ID, up.Version, mapping.FieldInput{Name: ptr("x")})
		wantCode(t, err, apperr.CodeNotFound)
	})
}

func TestUpdateFieldKeepsTheSuggestionUnlessNameOrSamplesChange(t *testing.T) {
	f := newFixture(t)
	sf := f.mustField(t, f.ad.ID, "extensionAttribute1", mapping.FieldInput{Samples: &[]string{"ada@example.com"}})
	if sf.PIISuggestion != "contact" {
		t.Fatalf("suggestion %q", sf.PIISuggestion)
	}
	up, err := f.mapping.UpdateField(f.ctx, f.project.ID, sf.ID, sf.Version, mapping.FieldInput{Notes: ptr("n")})
	if err != nil || up.PIISuggestion != "contact" {
		t.Fatalf("after notes: %+v, %v", up, err)
	}
	up, err = f.mapping.UpdateField(f.ctx, f.project.ID, sf.ID, up.Version, mapping.FieldInput{Samples: &[]string{"Finance"}})
	if err != nil || up.PIISuggestion != "" {
		t.Fatalf("after neutral samples: %+v, %v", up, err)
	}
}

func TestDeleteFieldDeletesItsRowsWithAuditEntries(t *testing.T) {
	f := newFixture(t)
	mail := f.mustField(t, f.ad.ID, "mail", mapping.FieldInput{})
	keep := f.mustField(t, f.ad.ID, "sn", mapping.FieldInput{})
	r1 := f.mustRow(t, mail.ID, "email", mapping.RowInput{})
	r2 := f.mustRow(t, mail.ID, "login", mapping.RowInput{})
	r3 := f.mustRow(t, keep.ID, "lastName", mapping.RowInput{})

	if err := f.mapping.DeleteField(f.ctx, f.project.ID, mail.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.mapping.FindFieldByID(f.ctx, f.project.ID, mail.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("deleted field: %v", err)
	}
	rows, _ := f.mapping.FindRows(f.ctx, f.project.ID)
	if len(rows) != 1 || rows[0].ID != r3.ID {
		t.Errorf("rows %+v, want only sn's", rows)
	}
	f.checkEntry(t, f.history(t, "source_field", mail.ID)[0], "delete", "source_field", mail.ID, "AD.mail")
	for _, r := range []*mapping.Row{r1, r2} {
		h := f.history(t, "mapping_row", r.ID)
		if len(h) != 2 {
			t.Fatalf("row %d: %d audit entries, want create and delete", r.ID, len(h))
		}
		f.checkEntry(t, h[0], "delete", "mapping_row", r.ID, "mail → "+r.TargetAttribute)
	}

	t.Run("a field of another project is not found and kept", func(t *testing.T) {
		other := f.mustProject(t, "Other")
		before := f.state(t)
		wantCode(t, f.mapping.DeleteField(f.ctx, other.ID, keep.ID), apperr.CodeNotFound)
		wantCode(t, f.mapping.DeleteField(f.ctx, f.project.ID, mail.ID), apperr.CodeNotFound)
		f.wantUnchanged(t, before)
	})
}
