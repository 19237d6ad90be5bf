package transform

import (
	"testing"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// The ASCII paths of lower and upper give what the Unicode casers give.
func TestCaseASCIIPathsMatchTheUnicodeCasers(t *testing.T) {
	var all []byte
	for c := 0; c < 128; c++ {
		all = append(all, byte(c))
	}
	for _, s := range []string{string(all), "Isaac.Brock@Example.COM", "", "straße", "İstanbul"} {
		if got, want := lower(s), cases.Lower(language.Und).String(s); got != want {
			t.Errorf("lower(%q) = %q, want %q", s, got, want)
		}
		if got, want := upper(s), cases.Upper(language.Und).String(s); got != want {
			t.Errorf("upper(%q) = %q, want %q", s, got, want)
		}
	}
}
