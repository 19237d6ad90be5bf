package transform_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/internal/mapping/transform"
)

// fuzzSeeds are definitions for the fuzzers to start from: every op, and
// some that are nearly right.
func fuzzSeeds() []string {
	seeds := []string{"", "null", "[]", `[{"op":"trim"}`, `[{"op":"template","template":"{a}}"}]`,
		`[{"op":"regex_replace","pattern":"(a|b)*c","replacement":"$1${1}$$"}]`,
		`[{"op":"split","separator":"ab","index":-2},{"op":"default","value":"x"}]`,
		`[{"op":"lookup","table":{"":"e","A":"b"},"fallback":"empty","caseInsensitive":true}]`,
		`[{"op":"date","from":"Jan _2 15:04:05 MST 2006","to":"ad_generalized"}]`,
		`[{"op":"date","from":"unix_ms","to":"ad_filetime"}]`,
		`[{"op":"phone_e164","defaultRegion":"US"},{"op":"concat","fields":["value","sn"],"separator":"-"}]`}
	for _, s := range oneOfEach {
		seeds = append(seeds, "["+s+"]")
	}
	return seeds
}

// FuzzParse checks that Parse never panics, refuses only with a
// *DefinitionError, and that what it accepts round-trips through JSON and
// passes Validate.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := transform.Parse(data)
		if err != nil {
			var de *transform.DefinitionError
			if !errors.As(err, &de) {
				t.Fatalf("error %T %v is not a *DefinitionError", err, err)
			}
			return
		}
		if len(p) > transform.MaxSteps {
			t.Fatalf("%d steps accepted", len(p))
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := transform.Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal(p)) of %s: %v", b, err)
		}
		if len(p) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip differs:\n%#v\n%#v", p, again)
		}
		if err := p.Validate(nil); err != nil {
			t.Fatalf("Validate(nil) of an accepted pipeline: %v", err)
		}
		if err := p.Validate(p.Fields()); err != nil {
			t.Fatalf("Validate(Fields()) of an accepted pipeline: %v", err)
		}
		_ = p.Describe()
	})
}

// FuzzApply checks that applying any accepted pipeline to any values never
// panics, fails only with a *ValueError, and yields bounded UTF-8 text.
func FuzzApply(f *testing.F) {
	values := []string{"", " ", "Zoë Ångström", "31/12/2023", "+49 (0)30 1234567", "Deutschland",
		"ada@old.example.com", "a;b;;c", "133485408000000000", "20231231235959.0Z", "FIN", "\xff", "{value}"}
	for i, s := range fuzzSeeds() {
		f.Add(s, values[i%len(values)], values[(i+3)%len(values)])
	}
	f.Fuzz(func(t *testing.T, def, value, other string) {
		p, err := transform.Parse([]byte(def))
		if err != nil {
			return
		}
		rec := transform.MapRecord{"f": value, "givenName": other, "sn": other, "middleName": "", "a": value}
		out, err := p.Apply(rec, "f")
		if err != nil {
			var ve *transform.ValueError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v is not a *ValueError", err, err)
			}
			return
		}
		if len(out) > transform.MaxValueBytes {
			t.Fatalf("output of %d bytes", len(out))
		}
		if !utf8.ValidString(out) {
			t.Fatalf("output %q is not UTF-8", out)
		}
		rows := transform.Preview(p, []transform.Record{rec}, "f")
		if len(rows) != 1 || rows[0].Output != out || rows[0].Err != "" {
			t.Fatalf("Preview = %+v; Apply gave %q", rows, out)
		}
	})
}

// FuzzRegexReplace checks regex_replace against regexp's own ReplaceAllString
// for every pattern and replacement it accepts.
func FuzzRegexReplace(f *testing.F) {
	f.Add(`(\w+)@(\w+)`, "$2 at $1", "ada@example")
	f.Add(`x*`, "-", "abc")
	f.Add(`(?i)\bmr\b\.?`, "", "Mr. Smith")
	f.Add(`^(?P<a>.)(.*)$`, "${a}|$2", "Zoë")
	f.Add(`a|`, "[$0]", "banana")
	f.Fuzz(func(t *testing.T, pattern, repl, value string) {
		// JSON would turn invalid UTF-8 into U+FFFD, and so compare
		// different patterns.
		if !utf8.ValidString(pattern) || !utf8.ValidString(repl) || !utf8.ValidString(value) || len(value) > 1000 {
			return
		}
		def, _ := json.Marshal([]map[string]string{{"op": "regex_replace", "pattern": pattern, "replacement": repl}})
		p, err := transform.Parse(def)
		if err != nil {
			return
		}
		got, err := p.Apply(transform.MapRecord{"f": value}, "f")
		if err != nil {
			if !strings.Contains(err.Error(), "longer than") && !strings.Contains(err.Error(), "matches more than") {
				t.Fatalf("Apply: %v", err)
			}
			return
		}
		if want := regexp.MustCompile(pattern).ReplaceAllString(value, repl); got != want {
			t.Fatalf("%q → %q on %q = %q; regexp gives %q", pattern, repl, value, got, want)
		}
	})
}
