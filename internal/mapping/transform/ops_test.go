package transform_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/mapping/transform"
)

func TestTrimRemovesSurroundingWhiteSpaceOnly(t *testing.T) {
	const def = `[{"op":"trim"}]`
	runApplyCases(t, []applyCase{
		{name: "spaces", def: def, in: "  Ada  ", want: "Ada"},
		{name: "tabs newlines and no-break space", def: def, in: "\t\n Ada Lovelace\u00a0\r\n", want: "Ada Lovelace"},
		{name: "zero-width space and byte-order mark", def: def, in: "\ufeff\u200bAda\u200b", want: "Ada"},
		{name: "inner white space kept", def: def, in: " a  b ", want: "a  b"},
		{name: "empty", def: def, in: "", want: ""},
		{name: "only white space", def: def, in: " \t ", want: ""},
		{name: "unicode", def: def, in: "  Zoë Ångström ", want: "Zoë Ångström"},
	})
}

func TestCaseOpsAreUnicodeAware(t *testing.T) {
	lower, upper, title := `[{"op":"lower"}]`, `[{"op":"upper"}]`, `[{"op":"title"}]`
	runApplyCases(t, []applyCase{
		{name: "lower ascii", def: lower, in: "Ada.Lovelace@Example.COM", want: "ada.lovelace@example.com"},
		{name: "lower accents", def: lower, in: "ÉLODIE ÇA", want: "élodie ça"},
		{name: "lower greek final sigma", def: lower, in: "ΣΊΣΥΦΟΣ", want: "σίσυφος"},
		{name: "lower empty", def: lower, in: "", want: ""},
		{name: "upper sharp s", def: upper, in: "straße", want: "STRASSE"},
		{name: "upper accents", def: upper, in: "zoë", want: "ZOË"},
		{name: "upper digraph", def: upper, in: "ǆemal", want: "ǄEMAL"},
		{name: "title lowers the rest", def: title, in: "ÉLODIE DUPONT", want: "Élodie Dupont"},
		{name: "title hyphenated", def: title, in: "mary-jane o'neil", want: "Mary-Jane O'neil"},
		{name: "title every word", def: title, in: "van der berg", want: "Van Der Berg"},
		{name: "title digraph uses title case letter", def: title, in: "ǆemal", want: "ǅemal"},
		{name: "title greek", def: title, in: "ΣΊΣΥΦΟΣ", want: "Σίσυφος"},
		{name: "title keeps white space", def: title, in: " ada  lovelace ", want: " Ada  Lovelace "},
		{name: "title empty", def: title, in: "", want: ""},
	})
}

func TestConcatJoinsFieldsOfTheRecord(t *testing.T) {
	rec := transform.MapRecord{"f": "ignored", "givenName": "Zoë", "middleName": "", "sn": "Ångström", "blank": "  "}
	runApplyCases(t, []applyCase{
		{name: "with separator", def: `[{"op":"concat","fields":["givenName","sn"],"separator":" "}]`, rec: rec, want: "Zoë Ångström"},
		{name: "without separator", def: `[{"op":"concat","fields":["givenName","sn"],"separator":""}]`, rec: rec, want: "ZoëÅngström"},
		{name: "empty field kept by default", def: `[{"op":"concat","fields":["givenName","middleName","sn"],"separator":" "}]`, rec: rec, want: "Zoë  Ångström"},
		{name: "empty and blank fields skipped", def: `[{"op":"concat","fields":["givenName","middleName","blank","sn"],"separator":" ","skipEmpty":true}]`, rec: rec, want: "Zoë Ångström"},
		{name: "missing field reads as empty", def: `[{"op":"concat","fields":["givenName","nickname"],"separator":"|"}]`, rec: rec, want: "Zoë|"},
		{name: "value is the current value", def: `[{"op":"trim"},{"op":"concat","fields":["sn","value"],"separator":", "}]`, rec: transform.MapRecord{"f": " Ada ", "sn": "Lovelace"}, want: "Lovelace, Ada"},
		{name: "multi-character separator", def: `[{"op":"concat","fields":["givenName","sn"],"separator":" · "}]`, rec: rec, want: "Zoë · Ångström"},
		{name: "all empty", def: `[{"op":"concat","fields":["middleName","nickname"],"separator":" ","skipEmpty":true}]`, rec: rec, want: ""},
	})
}

func TestTemplateFillsPlaceholders(t *testing.T) {
	rec := transform.MapRecord{"f": "ada", "givenName": "Ada", "sn": "Lovelace", "Employee ID": "E-7"}
	runApplyCases(t, []applyCase{
		{name: "fields", def: `[{"op":"template","template":"{givenName}.{sn}@example.com"}]`, rec: rec, want: "Ada.Lovelace@example.com"},
		{name: "current value", def: `[{"op":"template","template":"{value}@example.com"}]`, rec: rec, want: "ada@example.com"},
		{name: "escaped braces", def: `[{"op":"template","template":"{{{value}}} }}{{"}]`, rec: rec, want: "{ada} }{"},
		{name: "field name with a space", def: `[{"op":"template","template":"id-{Employee ID}"}]`, rec: rec, want: "id-E-7"},
		{name: "missing field reads as empty", def: `[{"op":"template","template":"{nickname}|{sn}"}]`, rec: rec, want: "|Lovelace"},
		{name: "no placeholder", def: `[{"op":"template","template":"Employee"}]`, rec: rec, want: "Employee"},
		{name: "unicode", def: `[{"op":"template","template":"→{value}←"}]`, in: "Zoë", want: "→Zoë←"},
		{name: "after lower", def: `[{"op":"lower"},{"op":"template","template":"{value}.{sn}"}]`, rec: rec, want: "ada.Lovelace"},
	})
}

func TestSplitTakesOnePart(t *testing.T) {
	def := func(sep string, i int) string {
		return `[{"op":"split","separator":` + quote(sep) + `,"index":` + itoa(i) + `}]`
	}
	runApplyCases(t, []applyCase{
		{name: "first", def: def(";", 0), in: "a;b;c", want: "a"},
		{name: "second", def: def(";", 1), in: "a;b;c", want: "b"},
		{name: "last by index", def: def(";", 2), in: "a;b;c", want: "c"},
		{name: "past the end is empty", def: def(";", 3), in: "a;b;c", want: ""},
		{name: "last", def: def(";", -1), in: "a;b;c", want: "c"},
		{name: "second to last", def: def(";", -2), in: "a;b;c", want: "b"},
		{name: "first from the end", def: def(";", -3), in: "a;b;c", want: "a"},
		{name: "before the start is empty", def: def(";", -4), in: "a;b;c", want: ""},
		{name: "repeated separators give empty parts", def: def(";", 1), in: "a;;b", want: ""},
		{name: "after repeated separators", def: def(";", 2), in: "a;;b", want: "b"},
		{name: "multi-character separator", def: def("; ", 1), in: "Sales; Berlin; DE", want: "Berlin"},
		{name: "multi-valued with trailing separator", def: def("|", -1), in: "x|y|", want: ""},
		{name: "no separator: the whole value is the first part", def: def(",", 0), in: "Ada", want: "Ada"},
		{name: "no separator: the whole value is the last part", def: def(",", -1), in: "Ada", want: "Ada"},
		{name: "no separator: no second part", def: def(",", 1), in: "Ada", want: ""},
		{name: "empty value", def: def(",", 0), in: "", want: ""},
		{name: "unicode separator", def: def("·", 1), in: "Zoë·Ångström", want: "Ångström"},
		{name: "user principal name", def: def("@", 0), in: "ada@corp.example.com", want: "ada"},
		{name: "distinguished name", def: def(",", 0) + ``, in: "CN=Ada,OU=Staff,DC=example,DC=com", want: "CN=Ada"},
	})
}

func TestRegexReplaceReplacesEveryMatch(t *testing.T) {
	def := func(pattern, repl string) string {
		return `[{"op":"regex_replace","pattern":` + quote(pattern) + `,"replacement":` + quote(repl) + `}]`
	}
	runApplyCases(t, []applyCase{
		{name: "delete non-digits", def: def(`\D`, ""), in: "+49 (30) 123-45", want: "493012345"},
		{name: "swap with groups", def: def(`^(\w+), (\w+)$`, "$2 $1"), in: "Lovelace, Ada", want: "Ada Lovelace"},
		{name: "braced group followed by text", def: def(`^(\d+)$`, "${1}x"), in: "42", want: "42x"},
		{name: "named group", def: def(`(?P<user>[^@]+)@.*`, "${user}"), in: "ada@example.com", want: "ada"},
		{name: "dollar sign", def: def(`EUR`, "$$"), in: "10 EUR", want: "10 $"},
		{name: "no match leaves the value", def: def(`\d`, "#"), in: "Ada", want: "Ada"},
		{name: "case-insensitive flag", def: def(`(?i)mr\.?\s*`, ""), in: "MR. Ada", want: "Ada"},
		{name: "unicode classes", def: def(`\p{L}+`, "w"), in: "Zoë Ångström 7", want: "w w 7"},
		{name: "collapse white space", def: def(`\s+`, " "), in: "a \t\n b", want: "a b"},
		{name: "empty match at the end", def: def(`$`, "!"), in: "hi", want: "hi!"},
		{name: "empty value", def: def(`^$`, "n/a"), in: "", want: "n/a"},
		{name: "unmatched optional group is empty", def: def(`^(a)?(b)$`, "[$1][$2]"), in: "b", want: "[][b]"},
	})
}

func TestRegexReplaceAgreesWithGo(t *testing.T) {
	cases := []struct{ pattern, repl, in string }{
		{`x*`, "-", "abc"},
		{`a|`, "[$0]", "banana"},
		{`\b`, "|", "to be"},
		{`(?m)^`, "> ", "a\nb"},
		{`(a)(b)?`, "$2$1", "aab"},
	}
	for _, c := range cases {
		p := mustParse(t, `[{"op":"regex_replace","pattern":`+quote(c.pattern)+`,"replacement":`+quote(c.repl)+`}]`)
		got, err := p.Apply(transform.MapRecord{"f": c.in}, "f")
		want := regexp.MustCompile(c.pattern).ReplaceAllString(c.in, c.repl)
		if err != nil || got != want {
			t.Errorf("%q → %q on %q = %q, %v; regexp.ReplaceAllString gives %q", c.pattern, c.repl, c.in, got, err, want)
		}
	}
}

func TestDefaultFillsEmptyValues(t *testing.T) {
	const def = `[{"op":"default","value":"Unknown"}]`
	runApplyCases(t, []applyCase{
		{name: "empty", def: def, in: "", want: "Unknown"},
		{name: "white space only", def: def, in: " \t", want: "Unknown"},
		{name: "missing field", def: def, rec: transform.MapRecord{}, want: "Unknown"},
		{name: "value kept", def: def, in: "Sales", want: "Sales"},
		{name: "after a lookup that empties", def: `[{"op":"lookup","table":{"FIN":"Finance"},"fallback":"empty"},{"op":"default","value":"Other"}]`, in: "XYZ", want: "Other"},
	})
}

func TestLookupMapsValues(t *testing.T) {
	table := `{"FIN":"Finance","HR":"Human Resources","ÄRZ":"Ärzte","":"(none)"}`
	def := func(fallback string, ci bool) string {
		s := `[{"op":"lookup","table":` + table + `,"fallback":"` + fallback + `"`
		if ci {
			s += `,"caseInsensitive":true`
		}
		return s + `}]`
	}
	runApplyCases(t, []applyCase{
		{name: "hit", def: def("error", false), in: "FIN", want: "Finance"},
		{name: "unicode key", def: def("error", false), in: "ÄRZ", want: "Ärzte"},
		{name: "case matters by default", def: def("keep", false), in: "fin", want: "fin"},
		{name: "case-insensitive hit", def: def("error", true), in: "fin", want: "Finance"},
		{name: "case-insensitive unicode", def: def("error", true), in: "ärz", want: "Ärzte"},
		{name: "miss kept", def: def("keep", false), in: "OPS", want: "OPS"},
		{name: "miss emptied", def: def("empty", false), in: "OPS", want: ""},
		{name: "miss refused", def: def("error", false), in: "OPS", wantErr: "step 1 (lookup): the value is not in the lookup table"},
		{name: "white space is not trimmed", def: def("error", false), in: " FIN", wantErr: "not in the lookup table"},
		{name: "empty value uses the empty key", def: def("error", false), in: "", want: "(none)"},
		{name: "empty value without an empty key stays empty", def: `[{"op":"lookup","table":{"A":"B"},"fallback":"error"}]`, in: "", want: ""},
	})
}

func TestEmailDomainRewritesOneDomain(t *testing.T) {
	const def = `[{"op":"email_domain","from":"old.example.com","to":"new.example.com"}]`
	runApplyCases(t, []applyCase{
		{name: "rewritten", def: def, in: "ada@old.example.com", want: "ada@new.example.com"},
		{name: "domain case ignored, local part kept", def: def, in: "Ada.Lovelace@OLD.Example.COM", want: "Ada.Lovelace@new.example.com"},
		{name: "fully qualified with a dot", def: def, in: "ada@old.example.com.", want: "ada@new.example.com"},
		{name: "other domain untouched", def: def, in: "ada@other.example.com", want: "ada@other.example.com"},
		{name: "subdomain untouched", def: def, in: "ada@mail.old.example.com", want: "ada@mail.old.example.com"},
		{name: "not an email untouched", def: def, in: "old.example.com", want: "old.example.com"},
		{name: "no local part untouched", def: def, in: "@old.example.com", want: "@old.example.com"},
		{name: "last @ counts", def: def, in: `"a@b"@old.example.com`, want: `"a@b"@new.example.com`},
		{name: "empty", def: def, in: "", want: ""},
		{name: "unicode local part", def: def, in: "zoë@old.example.com", want: "zoë@new.example.com"},
	})
}

func TestPipelineAppliesStepsInOrder(t *testing.T) {
	rec := transform.MapRecord{"f": "  ADA.Lovelace@Corp.Example.com ", "dept": "fin"}
	p := mustParse(t, `[{"op":"trim"},{"op":"lower"},{"op":"email_domain","from":"corp.example.com","to":"example.org"},{"op":"split","separator":"@","index":0},{"op":"template","template":"{value}@example.org"}]`)
	got, err := p.Apply(rec, "f")
	if err != nil || got != "ada.lovelace@example.org" {
		t.Fatalf("Apply = %q, %v", got, err)
	}
}

func TestEmptyPipelineCopiesTheValue(t *testing.T) {
	for _, def := range []string{"", "  ", "null", "[]"} {
		p := mustParse(t, def)
		got, err := p.Apply(transform.MapRecord{"f": " as is "}, "f")
		if err != nil || got != " as is " {
			t.Errorf("Parse(%q).Apply = %q, %v; want the value unchanged", def, got, err)
		}
	}
	var nilPipeline transform.Pipeline
	if got, err := nilPipeline.Apply(transform.MapRecord{}, "missing"); got != "" || err != nil {
		t.Errorf("nil pipeline on a missing field = %q, %v; want empty", got, err)
	}
	if got, err := nilPipeline.Apply(nil, "f"); got != "" || err != nil {
		t.Errorf("nil pipeline on a nil record = %q, %v; want empty", got, err)
	}
}

func TestApplyRefusesValuesTooLongOrNotText(t *testing.T) {
	long := strings.Repeat("a", transform.MaxValueBytes+1)
	runApplyCases(t, []applyCase{
		{name: "input too long", def: `[{"op":"trim"}]`, in: long, wantErr: "the field \"f\" is longer than 64 KiB"},
		{name: "input too long even when copied", def: `[]`, in: long, wantErr: "longer than 64 KiB"},
		{name: "input not UTF-8", def: `[{"op":"trim"}]`, in: "caf\xe9", wantErr: "the field \"f\" is not valid UTF-8 text"},
		{name: "other field not UTF-8", def: `[{"op":"concat","fields":["value","x"],"separator":""}]`, rec: transform.MapRecord{"f": "a", "x": "\xff"}, wantErr: `step 1 (concat): the field "x" is not valid UTF-8 text`},
		{name: "template output too long", def: `[{"op":"template","template":"{value}{value}"}]`, in: strings.Repeat("a", 40<<10), wantErr: "step 1 (template): the result is longer than 64 KiB"},
		{name: "concat output too long", def: `[{"op":"concat","fields":["value","value"],"separator":"-"}]`, in: strings.Repeat("a", 40<<10), wantErr: "the result is longer than 64 KiB"},
		{name: "regex output too long", def: `[{"op":"regex_replace","pattern":"a","replacement":"aaaaaaaa"}]`, in: strings.Repeat("a", 9000), wantErr: "step 1 (regex_replace): the result is longer than 64 KiB"},
		{name: "regex matching too often", def: `[{"op":"regex_replace","pattern":"a","replacement":"b"}]`, in: strings.Repeat("a", 10001), wantErr: "matches more than 10000 times"},
		{name: "exactly the limit is fine", def: `[{"op":"template","template":"{value}"}]`, in: strings.Repeat("é", transform.MaxValueBytes/2), want: strings.Repeat("é", transform.MaxValueBytes/2)},
	})
}

func TestValueErrorsDoNotRepeatTheValue(t *testing.T) {
	secret := "4111 1111 1111 1111 Ada"
	defs := []string{
		`[{"op":"date","from":"dd/mm/yyyy","to":"yyyy-mm-dd"}]`,
		`[{"op":"phone_e164","defaultRegion":"DE"}]`,
		`[{"op":"country_alpha2"}]`,
		`[{"op":"lookup","table":{"a":"b"},"fallback":"error"}]`,
	}
	for _, def := range defs {
		_, err := mustParse(t, def).Apply(transform.MapRecord{"f": secret}, "f")
		if err == nil {
			t.Fatalf("%s accepted %q", def, secret)
		}
		if strings.Contains(err.Error(), "4111") || strings.Contains(err.Error(), "Ada") {
			t.Errorf("%s: error %q repeats the value", def, err)
		}
	}
}

func TestRegexWorstCaseStaysFast(t *testing.T) {
	// The most complex pattern allowed, on the longest value allowed, takes
	// under a second here; allow for a slow, busy machine.
	if raceEnabled {
		t.Skip("the race detector makes timings meaningless")
	}
	pattern := `(?:[\p{L}\d]?){490}z`
	p, err := transform.Parse([]byte(`[{"op":"regex_replace","pattern":` + quote(pattern) + `,"replacement":"-"}]`))
	if err != nil {
		t.Fatal(err)
	}
	in := strings.Repeat("é", transform.MaxValueBytes/2)
	start := nowMillis()
	if _, err := p.Apply(transform.MapRecord{"f": in}, "f"); err != nil {
		t.Fatal(err)
	}
	if ms := nowMillis() - start; ms > 10000 {
		t.Fatalf("worst case took %d ms", ms)
	}
}
