package schema_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/language"

	"github.com/ferry-migrate/ferry/internal/schema"
)

func base(t *testing.T, name string) schema.Attribute {
	t.Helper()
	a, ok := schema.FindBase(name)
	if !ok {
		t.Fatalf("no base attribute %s", name)
	}
	return a
}

// valueCase is one value and the rule it breaks ("" when accepted).
type valueCase struct {
	value string
	rule  string
}

func checkValues(t *testing.T, a schema.Attribute, cases []valueCase) {
	t.Helper()
	c, err := schema.Compile(a)
	if err != nil {
		t.Fatalf("compile %s: %v", a.Name, err)
	}
	for _, tc := range cases {
		err := c.Check(tc.value)
		if tc.rule == "" {
			if err != nil {
				t.Errorf("%s %q: %v, want it accepted", a.Name, tc.value, err)
			}
			continue
		}
		var ve *schema.ValueError
		if !errors.As(err, &ve) {
			t.Errorf("%s %q: err = %v, want a %s ValueError", a.Name, tc.value, err, tc.rule)
			continue
		}
		if ve.Rule != tc.rule || ve.Attribute != a.Name {
			t.Errorf("%s %q: %s (%s), want rule %s", a.Name, tc.value, ve.Rule, ve.Message, tc.rule)
		}
		// The same answer through the one-shot helper.
		if err2 := schema.ValidateValue(a, tc.value); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("ValidateValue(%s, %q) = %v, Check = %v", a.Name, tc.value, err2, err)
		}
	}
}

func TestEmailValues(t *testing.T) {
	checkValues(t, base(t, "email"), []valueCase{
		{"isaac.brock@example.com", ""},
		{"Isaac.Brock+news@mail.example.co.uk", ""},
		{"o'brien@example.ie", ""},
		{"first_last-1@sub.example-domain.com", ""},
		{"isáac.bröck@example.com", ""}, // UTF-8 local part (RFC 6532)
		{"lea@müller.de", ""},           // internationalised domain
		{"a@b.co", ""},                  // short, and still an address
		{"", "required"},
		{"a@b.c", ""}, // five characters, a two-label domain
		{"a@bc", "too_short"},
		{"plainaddress", "format"},
		{"@example.com", "format"},
		{"lea.lead@", "format"},
		{"lea@@example.com", "format"},
		{"lea@localhost", "format"},
		{"lea@example", "format"},
		{"lea@[192.168.0.1]", "format"},
		{"lea@192.168.0.1", "format"},
		{"lea@example..com", "format"},
		{"lea@-example.com", "format"},
		{"lea@exa_mple.com", "format"},
		{"lea.@example.com", "format"},
		{".lea@example.com", "format"},
		{"le..a@example.com", "format"},
		{"Lea Lead <lea@example.com>", "format"},
		{"<lea@example.com>", "format"},
		{"lea@example.com (Lea)", "format"},
		{`"lea lead"@example.com`, "format"},
		{" lea@example.com", "format"},
		{"lea@example.com ", "format"},
		{"lea@example.com,leo@example.com", "format"},
		{"lea example@example.com", "format"},
		{"lea@exam ple.com", "format"},
		{strings.Repeat("l", 65) + "@x.com", "format"}, // local part over 64 bytes
		{strings.Repeat("l", 64) + "@example.com", ""},
		{strings.Repeat("l", 60) + "@" + strings.Repeat("d", 40) + ".com", "too_long"}, // 105 characters
		{"lea\x00@example.com", "control"},
		{"lea\xff@example.com", "encoding"},
	})
}

// Messages are shown and logged: they must never repeat the value.
func TestValueMessagesNeverRepeatTheValue(t *testing.T) {
	secret := "Zebulon.Quixote"
	cases := map[string]string{
		"email":             secret + "@@example.com",
		"login":             secret,
		"firstName":         secret + strings.Repeat("x", 50),
		"countryCode":       "Q" + secret,
		"locale":            secret,
		"preferredLanguage": secret,
		"timezone":          secret,
		"profileUrl":        secret,
		"postalAddress":     secret + "\x00",
	}
	for name, v := range cases {
		err := schema.ValidateValue(base(t, name), v)
		if err == nil {
			t.Errorf("%s %q accepted", name, v)
			continue
		}
		if strings.Contains(err.Error(), "Zebulon") || strings.Contains(err.Error(), "Quixote") {
			t.Errorf("%s: message %q repeats the value", name, err)
		}
	}
	for _, a := range []schema.Attribute{
		{Name: "n", Type: "integer"}, {Name: "n", Type: "number"}, {Name: "n", Type: "boolean"},
		{Name: "n", Type: "string", Pattern: "[0-9]+"}, {Name: "n", Type: "string", Enum: []string{"a"}},
	} {
		if err := schema.ValidateValue(a, secret); err == nil || strings.Contains(err.Error(), "Zebulon") {
			t.Errorf("%s %s: %v", a.Type, a.Pattern, err)
		}
	}
}

func TestEmailLengthBoundaries(t *testing.T) {
	a := base(t, "email")
	local := func(n int) string { return strings.Repeat("l", n) }
	// 100 characters exactly: 64 + "@" + 31 + ".com" = 100.
	at100 := local(64) + "@" + strings.Repeat("d", 31) + ".com"
	if len([]rune(at100)) != 100 {
		t.Fatalf("test value has %d characters", len([]rune(at100)))
	}
	checkValues(t, a, []valueCase{{at100, ""}, {at100[:len(at100)-4] + "x.com", "too_long"}})
}

func TestSecondEmailIsOptional(t *testing.T) {
	checkValues(t, base(t, "secondEmail"), []valueCase{{"", ""}, {"lea@example.com", ""}, {"not an email", "format"}})
}

func TestLoginIsAnEmailUnlessAPatternIsSet(t *testing.T) {
	login := base(t, "login")
	checkValues(t, login, []valueCase{
		{"isaac.brock@example.com", ""},
		{"isáac.bröck@example.com", ""},
		{"", "required"},
		{"isaac", "format"},
		{"a@b", "too_short"},
		{strings.Repeat("x", 90) + "@example.com", "too_long"},
	})
	withPattern := login
	withPattern.Pattern = "[a-z0-9.]+"
	checkValues(t, withPattern, []valueCase{
		{"isaac.brock", ""},
		{"isaac.brock@example.com", "pattern"}, // the @ is not in the set
		{"Isaac", "pattern"},                   // the whole value must match, not a part
		{"abcd", "too_short"},                  // the minimum of 5 still holds
	})
}

func TestLengthsCountCharactersNotBytes(t *testing.T) {
	first := base(t, "firstName") // 1–50
	checkValues(t, first, []valueCase{
		{strings.Repeat("é", 50), ""}, // 100 bytes, 50 characters
		{strings.Repeat("日", 50), ""}, // 150 bytes
		{strings.Repeat("😀", 50), ""}, // 200 bytes
		{strings.Repeat("é", 51), "too_long"},
		{"É", ""},
		{"", "required"},
	})
	city := base(t, "city") // at most 128
	checkValues(t, city, []valueCase{{strings.Repeat("ü", 128), ""}, {strings.Repeat("ü", 129), "too_long"}, {"", ""}})
	phone := base(t, "mobilePhone") // 0–100
	checkValues(t, phone, []valueCase{{"+4930123456", ""}, {strings.Repeat("1", 101), "too_long"}})
}

func TestFreeTextValues(t *testing.T) {
	checkValues(t, base(t, "postalAddress"), []valueCase{
		{"Musterstraße 1\n10115 Berlin\tDE", ""}, // line breaks and tabs are text
		{"bell\a", "control"},
		{"nul\x00", "control"},
		{"del\x7f", "control"},
		{"c1\u0085", "control"},
		{"bad\xc3", "encoding"},
		{strings.Repeat("a", 4097), "too_long"},
	})
}

func TestCountryCodeValues(t *testing.T) {
	checkValues(t, base(t, "countryCode"), []valueCase{
		{"US", ""}, {"DE", ""}, {"GB", ""}, {"SS", ""}, {"CW", ""}, {"AX", ""}, {"", ""},
		{"us", "format"},
		{"UK", "format"}, // reserved, not assigned: the code is GB
		{"XK", "format"}, // user-assigned (Kosovo), not ISO 3166-1
		{"EU", "format"},
		{"AN", "format"}, // Netherlands Antilles, withdrawn in 2011
		{"ZZ", "format"},
		{"USA", "too_long"},
		{"U", "format"},
		{"1A", "format"},
		{"ÄÖ", "format"},
	})
}

func TestCountryCodeList(t *testing.T) {
	codes := schema.CountryCodes()
	if len(codes) != 249 {
		t.Fatalf("%d codes, want ISO 3166-1's 249", len(codes))
	}
	for i, c := range codes {
		if i > 0 && codes[i-1] >= c {
			t.Errorf("codes out of order at %s", c)
		}
		r, err := language.ParseRegion(c)
		if err != nil || !r.IsCountry() || r.String() != c {
			t.Errorf("%s is not a country to the CLDR data in x/text", c)
		}
		if !schema.IsCountryCode(c) {
			t.Errorf("IsCountryCode(%s) = false", c)
		}
	}
	// Substrings of the embedded list that are not codes.
	for _, s := range []string{"D ", " A", "DA", "AD AE", "A", ""} {
		if schema.IsCountryCode(s) {
			t.Errorf("IsCountryCode(%q) = true", s)
		}
	}
}

func TestLocaleValues(t *testing.T) {
	checkValues(t, base(t, "locale"), []valueCase{
		{"en_US", ""}, {"de_CH", ""}, {"fr_CA", ""}, {"pt_BR", ""}, {"zh_TW", ""}, {"", ""},
		{"en-US", "format"},
		{"en_us", "format"},
		{"EN_US", "format"},
		{"en", "format"},
		{"en_US_POSIX", "format"},
		{"eng_US", "format"},
		{"xx_US", "format"}, // not an ISO 639-1 language
		{"en_UK", "format"}, // not an ISO 3166-1 country
		{"en_XK", "format"},
		{" en_US", "format"},
	})
}

func TestPreferredLanguageValues(t *testing.T) {
	checkValues(t, base(t, "preferredLanguage"), []valueCase{
		{"en", ""}, {"en-US", ""}, {"EN-us", ""}, {"de-CH-1996", ""}, {"zh-Hant-TW", ""}, {"gsw", ""},
		{"de-CH, de;q=0.9, en;q=0.8, *;q=0.1", ""},
		{"fr;q=1", ""}, {"fr;q=0.123", ""}, {"fr ; q=0", ""},
		{"en_US", "format"},
		{"english", "format"},
		{"xx", "format"},
		{"en-", "format"},
		{"en--US", "format"},
		{"en-US,", "format"},
		{",en", "format"},
		{"en;q=2", "format"},
		{"en;q=0.1234", "format"},
		{"en;x=1", "format"},
		{"en;", "format"},
		{"*", ""},
	})
}

func TestTimezoneValues(t *testing.T) {
	checkValues(t, base(t, "timezone"), []valueCase{
		{"Europe/Berlin", ""}, {"America/New_York", ""}, {"America/Argentina/Buenos_Aires", ""}, {"UTC", ""},
		{"Etc/GMT+5", ""}, {"Asia/Kolkata", ""}, {"America/Port-au-Prince", ""}, {"", ""},
		{"europe/berlin", "format"},
		{"Europe/Berlín", "format"},
		{"Europe/Atlantis", "format"},
		{"Local", "format"},
		{"Factory", "format"},
		{"posixrules", "format"},
		{"right/UTC", "format"},
		{"/etc/localtime", "format"},
		{"../../etc/passwd", "format"},
		{"CET ", "format"},
		{"GMT+2", "format"},
		{"+02:00", "format"},
		{"PST", "format"},
	})
}

func TestProfileURLValues(t *testing.T) {
	checkValues(t, base(t, "profileUrl"), []valueCase{
		{"https://example.com/people/lea", ""},
		{"http://intranet.example.com:8080/~lea?tab=1#top", ""},
		{"https://example.com/a%20b", ""},
		{"mailto:lea@example.com", ""},
		{"urn:isbn:0451450523", ""},
		{"", ""},
		{"example.com/lea", "format"},
		{"/people/lea", "format"},
		{"https://", "format"},
		{"https:lea", "format"},
		{"https://example.com/a b", "format"},
		{"ht tp://example.com", "format"},
		{"1http://example.com", "format"},
		{"https://exa mple.com", "format"},
	})
}

func TestManagerIDIsNotCheckedAgainstUsers(t *testing.T) {
	checkValues(t, base(t, "managerId"), []valueCase{{"00u1abcdEFGH2345ijk6", ""}, {"E1234", ""}, {"", ""}})
}

func TestCustomTypeValues(t *testing.T) {
	checkValues(t, schema.Attribute{Name: "vip", Type: "boolean"}, []valueCase{
		{"true", ""}, {"false", ""}, {"", ""}, {"TRUE", "type"}, {"yes", "type"}, {"1", "type"},
	})
	checkValues(t, schema.Attribute{Name: "level", Type: "integer", Required: true}, []valueCase{
		{"0", ""}, {"-12", ""}, {"9223372036854775807", ""}, {"-9223372036854775808", ""}, {"", "required"},
		{"9223372036854775808", "type"}, {"1.5", "type"}, {"1e3", "type"}, {"007", "type"}, {"+1", "type"}, {" 1", "type"}, {"0x10", "type"},
	})
	checkValues(t, schema.Attribute{Name: "score", Type: "number"}, []valueCase{
		{"0", ""}, {"-1.5", ""}, {"3.14", ""}, {"6.02e23", ""}, {"1E-7", ""},
		{"NaN", "type"}, {"Inf", "type"}, {"1e999", "type"}, {"1.", "type"}, {".5", "type"}, {"1_000", "type"}, {"0x1p-2", "type"}, {"1,5", "type"},
	})
}

func TestEnumValues(t *testing.T) {
	checkValues(t, schema.Attribute{Name: "size", Type: "string", Enum: []string{"S", "M", "L"}}, []valueCase{
		{"S", ""}, {"L", ""}, {"", ""}, {"s", "enum"}, {"XL", "enum"},
	})
	checkValues(t, schema.Attribute{Name: "grade", Type: "integer", Enum: []string{"1", "2", "3"}}, []valueCase{
		{"2", ""}, {"4", "enum"}, {"2.0", "type"},
	})
	checkValues(t, schema.Attribute{Name: "ratio", Type: "number", Enum: []string{"0.5", "1"}}, []valueCase{
		{"0.5", ""}, {"5e-1", ""}, {"1.0", ""}, {"2", "enum"},
	})
	checkValues(t, schema.Attribute{Name: "roles", Type: "array", ItemsType: "string", Enum: []string{"admin", "user"}}, []valueCase{
		{"admin", ""}, {"guest", "enum"},
	})
}

func TestArrayElementsAreNotBoundByLength(t *testing.T) {
	checkValues(t, schema.Attribute{Name: "tags", Type: "array", ItemsType: "string", MaxLength: ptr(2)}, []valueCase{{"longer", ""}, {"x\x01", "control"}})
}

func TestCustomPatternMatchesTheWholeValue(t *testing.T) {
	checkValues(t, schema.Attribute{Name: "employeeId", Type: "string", Pattern: `E[0-9]{4}`}, []valueCase{
		{"E1234", ""}, {"XE1234", "pattern"}, {"E12345", "pattern"}, {"e1234", "pattern"},
	})
	checkValues(t, schema.Attribute{Name: "code", Type: "string", Pattern: `a|b`}, []valueCase{
		{"a", ""}, {"b", ""}, {"ab", "pattern"}, // alternation is grouped before anchoring
	})
}

func TestCompileRefusesBrokenAttributes(t *testing.T) {
	for _, a := range []schema.Attribute{
		{Name: "x", Type: "date"},
		{Name: "x", Type: "string", Pattern: "(?=a)"},
		{Name: "x", Type: "string", Pattern: "[a-"},
		{Name: "x", Type: "integer", Enum: []string{"one"}},
	} {
		if _, err := schema.Compile(a); err == nil {
			t.Errorf("Compile(%+v) succeeded", a)
		}
		if err := schema.ValidateValue(a, "x"); err == nil {
			t.Errorf("ValidateValue(%+v) succeeded", a)
		}
	}
}

func TestLoginKeyIgnoresCaseAndDiacritics(t *testing.T) {
	same := [][2]string{
		{"Isaac.Brock@example.com", "isáac.bröck@example.com"}, // NOTES.md §5's example
		{"Isaac.Brock@example.com", "ISAAC.BROCK@EXAMPLE.COM"},
		{"isaac.brock@example.com", "ísàâç.brõck@éxample.com"},
		{"zoë@example.com", "ZOE@example.com"},
		{"zoe\u0308@example.com", "zoë@example.com"}, // decomposed and composed forms
		{"straße@example.de", "STRASSE@example.de"},  // case folding, not just lower-casing
		{"İlker@example.com", "ilker@example.com"},
		{"Ångström", "angstrom"},
	}
	for _, p := range same {
		if a, b := schema.LoginKey(p[0]), schema.LoginKey(p[1]); a != b {
			t.Errorf("LoginKey(%q) = %q, LoginKey(%q) = %q: want them equal", p[0], a, p[1], b)
		}
	}
	different := [][2]string{
		{"isaac.brock@example.com", "isaac.brock2@example.com"},
		{"isaac.brock@example.com", "isaacbrock@example.com"},
		{"søren@example.dk", "soren@example.dk"}, // ø is a letter of its own, not o with a mark
		{"lea@example.com", "lea@example.com "},
	}
	for _, p := range different {
		if schema.LoginKey(p[0]) == schema.LoginKey(p[1]) {
			t.Errorf("LoginKey(%q) == LoginKey(%q)", p[0], p[1])
		}
	}
	if got := schema.LoginKey("Isaac.Brock@Example.com"); got != "isaac.brock@example.com" {
		t.Errorf("LoginKey = %q", got)
	}
}
