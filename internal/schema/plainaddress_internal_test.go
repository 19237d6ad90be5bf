package schema

import (
	"math/rand/v2"
	"net/mail"
	"testing"
)

// plainAddress is a shortcut of checkEmail's parse: whatever it accepts,
// mail.ParseAddress must accept as the same address with no name.
func TestPlainAddressIsAcceptedByTheParser(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	accepted := 0
	for n := range 400_000 {
		alphabet := "abcXYZ019._%+-@!#\"() <>[]\\,;:é\x00"
		if n%2 == 0 {
			alphabet = "aZ0._%+-_@" // plain addresses, with the dots anywhere
		}
		b := make([]byte, 1+rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		v := string(b)
		if !plainAddress(v) {
			continue
		}
		accepted++
		addr, err := mail.ParseAddress(v)
		if err != nil || addr.Name != "" || addr.Address != v {
			t.Fatalf("plainAddress(%q) is true, but mail.ParseAddress gives %+v, %v", v, addr, err)
		}
	}
	for _, v := range []string{"ann.smith@example.com", "a+b%c_d-e@x-y.example.co", "A@B"} {
		if !plainAddress(v) {
			t.Errorf("plainAddress(%q) is false", v)
		}
		accepted++
	}
	for _, v := range []string{"", "@x", "x@", ".a@x", "a.@x", "a..b@x", "a@x..y", "a@.x", "a@x.", "a@b@c", "a b@x", "a@x+y", "\"a\"@x", "a@[1.2.3.4]"} {
		if plainAddress(v) {
			t.Errorf("plainAddress(%q) is true", v)
		}
	}
	if accepted < 100 {
		t.Fatalf("only %d random addresses were plain: the test checks little", accepted)
	}
}
