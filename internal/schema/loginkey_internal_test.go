package schema

import (
	"testing"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// The ASCII fast path of LoginKey gives what the Unicode chain gives, for
// every ASCII character.
func TestLoginKeyASCIIFastPathMatchesTheUnicodeChain(t *testing.T) {
	chain := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), cases.Fold(), norm.NFC)
	var all []byte
	for c := 0; c < 128; c++ {
		all = append(all, byte(c))
		s := "Ab" + string(rune(c)) + "Z@Example.COM"
		want, _, err := transform.String(chain, s)
		if err != nil {
			t.Fatal(err)
		}
		if got := LoginKey(s); got != want {
			t.Errorf("LoginKey(%q) = %q, want %q", s, got, want)
		}
	}
	want, _, _ := transform.String(chain, string(all))
	if got := LoginKey(string(all)); got != want {
		t.Errorf("LoginKey(all ASCII) = %q, want %q", got, want)
	}
}
