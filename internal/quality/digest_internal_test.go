package quality

import (
	"testing"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hashes"
)

// A change of a source's password settings makes the digest differ (so the
// last validation is out of date); no settings leave it as it was.
func TestPasswordSettingsAreInTheDigest(t *testing.T) {
	const base = "0123456789abcdef"
	if got := withPasswords(base, nil); got != base {
		t.Fatalf("no password settings changed the digest: %q", got)
	}
	unconfigured := map[int64]credentials.Reading{7: {}}
	sha := map[int64]credentials.Reading{7: {Settings: &credentials.Settings{Attribute: "pw"}, Source: hashes.Source{Default: hashes.FormatSHA512}}}
	bcrypt := map[int64]credentials.Reading{7: {Settings: &credentials.Settings{Attribute: "pw"}, Source: hashes.Source{Default: hashes.FormatBcrypt}}}
	other := map[int64]credentials.Reading{7: {Settings: &credentials.Settings{Attribute: "hash"}, Source: hashes.Source{Default: hashes.FormatBcrypt}}}
	seen := map[string]bool{base: true}
	for name, r := range map[string]map[int64]credentials.Reading{"unconfigured": unconfigured, "sha512": sha, "bcrypt": bcrypt, "another column": other} {
		d := withPasswords(base, r)
		if seen[d] {
			t.Errorf("%s: digest %q is not distinct", name, d)
		}
		seen[d] = true
		if withPasswords(base, r) != d {
			t.Errorf("%s: the digest is not stable", name)
		}
	}
}
