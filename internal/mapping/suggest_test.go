package mapping_test

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/schema"
)

func TestSuggestTargetForUsualDirectoryAndHRNames(t *testing.T) {
	const (
		trimLower = `[{"op":"trim"},{"op":"lower"}]`
		phone     = "" // copied as is: the default country of an E.164 transformation is the team's choice
		country   = `[{"op":"country_alpha2"}]`
	)
	tests := []struct {
		field, target, transform string
		needsLoginPattern        bool
	}{
		{"mail", "email", trimLower, false},
		{"userPrincipalName", "login", trimLower, false},
		{"sAMAccountName", "login", "", true},
		{"givenName", "firstName", "", false},
		{"sn", "lastName", "", false},
		{"displayName", "displayName", "", false},
		{"telephoneNumber", "primaryPhone", phone, false},
		{"mobile", "mobilePhone", phone, false},
		{"title", "title", "", false},
		{"department", "department", "", false},
		{"company", "organization", "", false},
		{"employeeID", "employeeNumber", "", false},
		{"manager", "manager", "", false},
		{"l", "city", "", false},
		{"st", "state", "", false},
		{"postalCode", "zipCode", "", false},
		{"c", "countryCode", country, false},
		{"co", "countryCode", country, false},
		{"streetAddress", "streetAddress", "", false},
		{"preferredLanguage", "preferredLanguage", "", false},
		// HR exports and other spellings of the same names.
		{"first_name", "firstName", "", false},
		{"Last Name", "lastName", "", false},
		{"USER_PRINCIPAL_NAME", "login", trimLower, false},
		{"Email Address", "email", trimLower, false},
		{"employee_number", "employeeNumber", "", false},
		{"uid", "login", "", true},
		{"cn", "displayName", "", false},
		{"zip", "zipCode", "", false},
		{"country", "countryCode", country, false},
		{"costCenter", "costCenter", "", false},
		{"ou", "department", "", false},
		{"employeeType", "userType", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.field+" maps to "+tt.target, func(t *testing.T) {
			sg, ok := mapping.SuggestTarget(tt.field)
			if !ok {
				t.Fatalf("no suggestion for %q", tt.field)
			}
			if sg.Target != tt.target || sg.Transform != tt.transform || sg.NeedsLoginPattern != tt.needsLoginPattern {
				t.Fatalf("suggestion %+v, want target %s transform %s needs pattern %v", sg, tt.target, tt.transform, tt.needsLoginPattern)
			}
			if sg.Reason == "" {
				t.Errorf("suggestion has no reason")
			}
			if _, ok := schema.FindBase(sg.Target); !ok {
				t.Errorf("%s is not a base attribute", sg.Target)
			}
			if sg.Transform != "" {
				canon, err := mapping.CanonicalTransform(sg.Transform)
				if err != nil || canon == "" {
					t.Errorf("suggested transformation %s: %q, %v", sg.Transform, canon, err)
				}
			}
		})
	}
}

func TestSuggestTargetMakesNoGuessForUnknownNames(t *testing.T) {
	for _, name := range []string{"", "extensionAttribute7", "objectGUID", "whenCreated", "memberOf", "mailNickname", "userAccountControl", "sn2"} {
		if sg, ok := mapping.SuggestTarget(name); ok {
			t.Errorf("SuggestTarget(%q) = %+v, want no suggestion", name, sg)
		}
	}
}

func TestSuggestPIIFromNames(t *testing.T) {
	tests := []struct{ field, want string }{
		{"mail", "contact"},
		{"telephoneNumber", "contact"},
		{"mobile", "contact"},
		{"streetAddress", "contact"},
		{"postalCode", "contact"},
		{"l", "contact"},
		{"st", "contact"},
		{"c", "contact"},
		{"co", "contact"},
		{"homePhone", "contact"},
		{"givenName", "identifier"},
		{"sn", "identifier"},
		{"displayName", "identifier"},
		{"userPrincipalName", "identifier"},
		{"sAMAccountName", "identifier"},
		{"employeeID", "identifier"},
		{"uid", "identifier"},
		{"thumbnailPhoto", "identifier"},
		{"birthDate", "demographic"},
		{"date_of_birth", "demographic"},
		{"gender", "demographic"},
		{"preferredLanguage", "demographic"},
		{"nationality", "demographic"},
		{"ssn", "government_id"},
		{"passport_number", "government_id"},
		{"nationalId", "government_id"},
		{"iban", "financial"},
		{"salary", "financial"},
		{"bank_account", "financial"},
		{"userPassword", "credential"},
		{"unicodePwd", "credential"},
		{"password_hash", "credential"},
		{"security_answer", "credential"},
		{"health_status", "special"},
		{"religion", "special"},
		{"ethnicity", "special"},
		{"trade_union_member", "special"},
		// No personal data in the name.
		{"department", ""},
		{"title", ""},
		{"company", ""},
		{"costCenter", ""},
		{"whenCreated", ""},
		{"userAccountControl", ""},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			if got := mapping.SuggestPII(tt.field, nil); got != tt.want {
				t.Fatalf("SuggestPII(%q) = %q, want %q", tt.field, got, tt.want)
			}
		})
	}
}

func TestSuggestPIICategoriesAreKnownCategories(t *testing.T) {
	known := map[string]bool{}
	for _, o := range mapping.PIICategories() {
		known[o.Value] = true
	}
	for _, name := range []string{"mail", "givenName", "birthDate", "ssn", "iban", "userPassword", "religion"} {
		if c := mapping.SuggestPII(name, nil); !known[c] {
			t.Errorf("SuggestPII(%q) = %q, not a category", name, c)
		}
	}
}

func TestSuggestPIIFromSampleValues(t *testing.T) {
	tests := []struct {
		name    string
		field   string
		samples []string
		want    string
	}{
		{"email addresses are contact data", "extensionAttribute1", []string{"ada@example.com", "bob@example.org"}, "contact"},
		{"half of the samples is enough", "extensionAttribute1", []string{"ada@example.com", "n/a"}, "contact"},
		{"fewer than half is not", "extensionAttribute1", []string{"ada@example.com", "n/a", "none"}, ""},
		{"surrounding white space is ignored", "extensionAttribute1", []string{"  ada@example.com\t"}, "contact"},
		{"phone numbers are contact data", "extensionAttribute2", []string{"+49 30 1234567", "(212) 555-0100"}, "contact"},
		{"IBANs are financial data", "extensionAttribute3", []string{"DE89370400440532013000", "GB29NWBK60161331926819"}, "financial"},
		{"plain words are no personal data", "extensionAttribute4", []string{"Finance", "Sales"}, ""},
		{"short codes are no personal data", "extensionAttribute4", []string{"A1", "B2"}, ""},
		{"no samples and a neutral name", "extensionAttribute4", nil, ""},
		{"the name wins over the samples", "ssn", []string{"ada@example.com"}, "government_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mapping.SuggestPII(tt.field, tt.samples); got != tt.want {
				t.Fatalf("SuggestPII(%q, %q) = %q, want %q", tt.field, tt.samples, got, tt.want)
			}
		})
	}
}

func TestMatrixSuggestions(t *testing.T) {
	base := func() *parts {
		return &parts{attrs: schema.Base(), sources: map[int64]string{10: "AD", 20: "Workday"}}
	}
	tests := []struct {
		name string
		edit func(p *parts)
		// want is "field → target @priority" for every suggestion, in order.
		want []string
	}{
		{"usual names of undecided fields are suggested", func(p *parts) {
			p.add(field(1, 10, "mail", "string", nil))
			p.add(field(2, 10, "givenName", "string", nil))
			p.add(field(3, 10, "extensionAttribute1", "string", nil))
		}, []string{"givenName → firstName @1", "mail → email @1"}},
		{"fields that have a row are not suggested", func(p *parts) {
			p.add(field(1, 10, "mail", "string", nil), row(101, 1, "secondEmail", 1, ""))
			p.add(field(2, 10, "title", "string", nil), ignored(102, 2))
		}, nil},
		{"sAMAccountName is not suggested as login without a login pattern", func(p *parts) {
			p.add(field(1, 10, "sAMAccountName", "string", nil))
		}, nil},
		{"sAMAccountName is suggested as login with a login pattern", func(p *parts) {
			p.add(field(1, 10, "sAMAccountName", "string", nil))
			p.settings.LoginPattern = "[a-z0-9.]+"
		}, []string{"sAMAccountName → login @1"}},
		{"a target already fed gets the next priority", func(p *parts) {
			p.add(field(1, 20, "work_email", "string", nil), row(101, 1, "email", 3, ""))
			p.add(field(2, 10, "mail", "string", nil))
		}, []string{"mail → email @4"}},
		{"an ignored row does not feed its target", func(p *parts) {
			p.add(field(1, 20, "work_email", "string", nil), ignored(101, 1))
			p.add(field(2, 10, "mail", "string", nil))
		}, []string{"mail → email @1"}},
		{"several suggestions into one target get distinct priorities", func(p *parts) {
			p.add(field(1, 10, "c", "string", nil))
			p.add(field(2, 10, "co", "string", nil))
			p.add(field(3, 20, "country", "string", nil))
		}, []string{"c → countryCode @1", "co → countryCode @2", "country → countryCode @3"}},
		{"a target the project does not have is not suggested", func(p *parts) {
			p.attrs = nil
			for _, a := range schema.Base() {
				if a.Name != "manager" {
					p.attrs = append(p.attrs, a)
				}
			}
			p.add(field(1, 10, "manager", "string", nil))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			tt.edit(p)
			var got []string
			for _, sg := range p.build().Suggestions() {
				got = append(got, sg.Field.Name+" → "+sg.Target+" @"+strconv.Itoa(sg.Priority))
				if sg.SourceName == "" || sg.Reason == "" {
					t.Errorf("suggestion %+v lacks its source or reason", sg)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("suggestions %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAcceptSuggestionsCreatesTheSuggestedRows(t *testing.T) {
	f := newFixture(t)
	names := []string{"mail", "userPrincipalName", "sAMAccountName", "givenName", "sn", "telephoneNumber", "c", "extensionAttribute1"}
	ids := map[string]int64{}
	for _, n := range names {
		ids[n] = f.mustField(t, f.ad.ID, n, mapping.FieldInput{}).ID
	}
	auditBefore := f.auditCount(t)
	n, err := f.mapping.AcceptSuggestions(f.ctx, f.project.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	// sAMAccountName waits for a login pattern; extensionAttribute1 has no suggestion.
	if n != 6 {
		t.Fatalf("created %d rows, want 6", n)
	}
	if got := f.auditCount(t) - auditBefore; got != 6 {
		t.Errorf("%d audit entries, want 6", got)
	}
	rows, err := f.mapping.FindRows(f.ctx, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	byField := map[int64]mapping.Row{}
	for _, r := range rows {
		byField[r.SourceFieldID] = r
		if !strings.HasPrefix(r.Notes, "Suggested by Ferry: ") || r.Status != mapping.StatusMapped || r.Version != 1 {
			t.Errorf("row %+v", r)
		}
		f.checkEntry(t, f.history(t, "mapping_row", r.ID)[0], "create", "mapping_row", r.ID, "")
	}
	want := map[string]string{"mail": "email", "userPrincipalName": "login", "givenName": "firstName", "sn": "lastName",
		"telephoneNumber": "primaryPhone", "c": "countryCode"}
	for name, target := range want {
		if r, ok := byField[ids[name]]; !ok || r.TargetAttribute != target || r.Priority != 1 {
			t.Errorf("%s: row %+v, want → %s @1", name, r, target)
		}
	}
	if r := byField[ids["c"]]; r.Transform != `[{"op":"country_alpha2"}]` {
		t.Errorf("c transform %q", r.Transform)
	}
	// Accepting again finds nothing left to accept.
	if n, err := f.mapping.AcceptSuggestions(f.ctx, f.project.ID, nil); err != nil || n != 0 {
		t.Errorf("second accept: %d, %v; want 0, nil", n, err)
	}
}

func TestAcceptSuggestionsForChosenFields(t *testing.T) {
	f := newFixture(t)
	mail := f.mustField(t, f.ad.ID, "mail", mapping.FieldInput{})
	given := f.mustField(t, f.ad.ID, "givenName", mapping.FieldInput{})
	other := f.mustField(t, f.ad.ID, "extensionAttribute1", mapping.FieldInput{})

	n, err := f.mapping.AcceptSuggestions(f.ctx, f.project.ID, []int64{mail.ID})
	if err != nil || n != 1 {
		t.Fatalf("accept mail: %d, %v", n, err)
	}
	rows, _ := f.mapping.FindRows(f.ctx, f.project.ID)
	if len(rows) != 1 || rows[0].SourceFieldID != mail.ID || rows[0].TargetAttribute != "email" {
		t.Fatalf("rows %+v, want mail → email only", rows)
	}

	t.Run("a field without an open suggestion refuses the whole batch", func(t *testing.T) {
		for _, batch := range [][]int64{{given.ID, other.ID}, {given.ID, mail.ID}, {given.ID, 999999}} {
			before := f.state(t)
			_, err := f.mapping.AcceptSuggestions(f.ctx, f.project.ID, batch)
			e := wantCode(t, err, apperr.CodeInvalid)
			if !strings.Contains(e.Message, "no longer open") {
				t.Errorf("message %q", e.Message)
			}
			f.wantUnchanged(t, before)
		}
	})
}

func TestDatesAndBareNumbersAreNotTakenForPhoneNumbers(t *testing.T) {
	tests := []struct {
		samples []string
		want    string
	}{
		{[]string{"2024-01-15", "2023-12-31"}, ""},
		{[]string{"15.01.2024", "31/12/2023"}, ""},
		{[]string{"1234567", "7654321"}, ""},
		{[]string{"+49 30 1234567", "(555) 123-4567"}, "contact"},
	}
	for _, tt := range tests {
		if got := mapping.SuggestPII("col7", tt.samples); got != tt.want {
			t.Errorf("SuggestPII(%v) = %q, want %q", tt.samples, got, tt.want)
		}
	}
}

func TestMaskValueKeepsTheShapeOnly(t *testing.T) {
	for in, want := range map[string]string{
		"ada@example.com": "a**@e******.***",
		"Ada Lovelace":    "A** L*******",
		"+49 30 1234567":  "+4* 3* 1******",
		"":                "",
	} {
		if got := mapping.MaskValue(in); got != want {
			t.Errorf("MaskValue(%q) = %q, want %q", in, got, want)
		}
	}
}
