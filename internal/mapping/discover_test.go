package mapping_test

import (
	"testing"

	"github.com/ferry-migrate/ferry/internal/mapping"
)

func TestDiscoveryAddsMissingFieldsWithMaskedPersonalSamples(t *testing.T) {
	f := newFixture(t)
	f.mustField(t, f.ad.ID, "givenName", mapping.FieldInput{DataType: ptr("string"), Notes: ptr("described by a person")})
	n, err := f.mapping.EnsureFields(f.ctx, f.project.ID, f.ad.ID, []mapping.ObservedField{
		{Name: "givenName", DataType: "string", MaxLength: 40, Samples: []string{"Ada"}},
		{Name: "mail", DataType: "string", MaxLength: 120, Samples: []string{"ada@example.com"}},
		{Name: "department", DataType: "string", MaxLength: 30, Samples: []string{"Finance"}},
		{Name: "age", DataType: "integer", MaxLength: 2, Samples: []string{"42"}},
		{Name: "bad\x00name", DataType: "string"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("created %d fields, want 3 (mail, department, age)", n)
	}
	fields, _ := f.mapping.FindFields(f.ctx, f.project.ID, f.ad.ID)
	byName := map[string]mapping.SourceField{}
	for _, fl := range fields {
		byName[fl.Name] = fl
	}
	if byName["givenName"].Notes != "described by a person" {
		t.Fatal("an existing field was overwritten")
	}
	mail := byName["mail"]
	if mail.PIISuggestion != "contact" || mail.PII != mapping.PIIUnknown || mail.Samples[0] != "a**@e******.***" || *mail.MaxLength != 120 {
		t.Fatalf("mail = %+v", mail)
	}
	if d := byName["department"]; d.Samples[0] != "Finance" || d.PIISuggestion != "" {
		t.Fatalf("department = %+v", d)
	}
	if byName["age"].DataType != "integer" {
		t.Fatalf("age = %+v", byName["age"])
	}
	// Running it again creates nothing.
	if n, err := f.mapping.EnsureFields(f.ctx, f.project.ID, f.ad.ID, []mapping.ObservedField{{Name: "MAIL"}}); err != nil || n != 0 {
		t.Fatalf("second run created %d (%v)", n, err)
	}
}
