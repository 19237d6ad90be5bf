package schema_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/schema"
)

// The facts of NOTES.md §5, one row per base attribute, in Okta's order.
// min and max are -1 when there is no bound.
var baseFacts = []struct {
	name, title, format string
	min, max            int
	nullable, required  bool
	unique              bool
}{
	{"login", "Username", "", 5, 100, false, true, true},
	{"email", "Primary email", "email", 5, 100, false, true, false}, // not unique by default (NOTES §4)
	{"secondEmail", "Secondary email", "email", 5, 100, true, false, false},
	{"firstName", "First name", "", 1, 50, false, true, false},
	{"lastName", "Last name", "", 1, 50, false, true, false},
	{"middleName", "Middle name", "", -1, -1, true, false, false},
	{"honorificPrefix", "Honorific prefix", "", -1, -1, true, false, false},
	{"honorificSuffix", "Honorific suffix", "", -1, -1, true, false, false},
	{"title", "Title", "", -1, -1, true, false, false},
	{"displayName", "Display name", "", -1, -1, true, false, false},
	{"nickName", "Nickname", "", -1, -1, true, false, false},
	{"profileUrl", "Profile Url", "uri", -1, -1, true, false, false},
	{"primaryPhone", "Primary phone", "", 0, 100, true, false, false},
	{"mobilePhone", "Mobile phone", "", 0, 100, true, false, false},
	{"streetAddress", "Street address", "", -1, 1024, true, false, false},
	{"city", "City", "", -1, 128, true, false, false},
	{"state", "State", "", -1, 128, true, false, false},
	{"zipCode", "Zip code", "", -1, 50, true, false, false},
	{"countryCode", "Country code", "country-code", -1, 2, true, false, false},
	{"postalAddress", "Postal Address", "", -1, 4096, true, false, false},
	{"preferredLanguage", "Preferred language", "language-code", -1, -1, true, false, false},
	{"locale", "Locale", "locale", -1, -1, false, false, false},
	{"timezone", "Time zone", "timezone", -1, -1, true, false, false},
	{"userType", "User type", "", -1, -1, true, false, false},
	{"employeeNumber", "Employee number", "", -1, -1, true, false, false},
	{"costCenter", "Cost center", "", -1, -1, true, false, false},
	{"organization", "Organization", "", -1, -1, true, false, false},
	{"division", "Division", "", -1, -1, true, false, false},
	{"department", "Department", "", -1, -1, true, false, false},
	{"managerId", "ManagerId", "ref-id", -1, -1, true, false, false},
	{"manager", "Manager", "", -1, -1, true, false, false},
}

func bound(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

func TestBaseCatalogPinsOktasFacts(t *testing.T) {
	base := schema.Base()
	if len(base) != 31 || len(baseFacts) != 31 {
		t.Fatalf("catalog has %d attributes (facts %d), want Okta's 31", len(base), len(baseFacts))
	}
	for i, want := range baseFacts {
		a := base[i]
		t.Run(want.name, func(t *testing.T) {
			if a.Name != want.name {
				t.Fatalf("attribute %d is %s, want %s (Okta's order)", i+1, a.Name, want.name)
			}
			if a.Title != want.title || a.Type != "string" || a.ItemsType != "" || a.Format != want.format || a.Pattern != "" {
				t.Errorf("title %q type %q items %q format %q pattern %q, want %q string, format %q, no pattern", a.Title, a.Type, a.ItemsType, a.Format, a.Pattern, want.title, want.format)
			}
			if bound(a.MinLength) != want.min || bound(a.MaxLength) != want.max {
				t.Errorf("length %d–%d, want %d–%d", bound(a.MinLength), bound(a.MaxLength), want.min, want.max)
			}
			if a.Nullable != want.nullable || a.Required != want.required || a.Unique != want.unique {
				t.Errorf("nullable %v required %v unique %v, want %v %v %v", a.Nullable, a.Required, a.Unique, want.nullable, want.required, want.unique)
			}
			if !a.Base || a.Description == "" || a.Enum == nil || len(a.Enum) != 0 {
				t.Errorf("base %v, description %q, enum %#v: want a described base attribute with an empty (non-nil) enum", a.Base, a.Description, a.Enum)
			}
		})
	}
}

func TestBaseRequiredAreOktasFour(t *testing.T) {
	var required, unique, notNullable []string
	for _, a := range schema.Base() {
		if a.Required {
			required = append(required, a.Name)
		}
		if a.Unique {
			unique = append(unique, a.Name)
		}
		if !a.Nullable {
			notNullable = append(notNullable, a.Name)
		}
	}
	if got := strings.Join(required, ","); got != "login,email,firstName,lastName" {
		t.Errorf("required = %s", got)
	}
	if got := strings.Join(unique, ","); got != "login" {
		t.Errorf("unique by default = %s, want only login", got)
	}
	if got := strings.Join(notNullable, ","); got != "login,email,firstName,lastName,locale" {
		t.Errorf("not nullable = %s", got)
	}
}

func TestBaseReturnsAFreshCopy(t *testing.T) {
	a := schema.Base()
	*a[0].MaxLength = 1
	a[0].Enum = append(a[0].Enum, "x")
	a[1].Unique = true
	b := schema.Base()
	if *b[0].MaxLength != 100 || len(b[0].Enum) != 0 || b[1].Unique {
		t.Fatal("changing one copy of the catalog changed the next")
	}
}

func TestFindBase(t *testing.T) {
	a, ok := schema.FindBase("countryCode")
	if !ok || a.Format != "country-code" || *a.MaxLength != 2 {
		t.Fatalf("FindBase(countryCode) = %+v, %v", a, ok)
	}
	for _, name := range []string{"countrycode", "CountryCode", "", "employeeID", "id"} {
		if _, ok := schema.FindBase(name); ok {
			t.Errorf("FindBase(%q) found an attribute; names are exact", name)
		}
	}
}

func TestAttributeJSONHasListsNotNulls(t *testing.T) {
	b, err := json.Marshal(schema.Base()[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"name":"login"`, `"enum":[]`, `"minLength":5`, `"maxLength":100`, `"unique":true`, `"base":true`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
}

func TestTypes(t *testing.T) {
	if got := strings.Join(schema.Types(), ","); got != "string,boolean,integer,number,array" {
		t.Fatalf("types = %s", got)
	}
}
