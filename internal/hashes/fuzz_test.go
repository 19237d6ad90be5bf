package hashes_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// cheap reports whether verifying h is quick enough for a fuzz iteration.
func cheap(h hashes.Hash) bool {
	return h.Cost <= 6 && h.Iterations <= 20000 && uint64(h.MemoryKiB)*uint64(h.Iterations) <= 1<<16 && h.N*h.R*h.P <= 1<<16
}

func cheapOkta(h okta.PasswordHash) bool {
	return h.WorkFactor <= 6 && h.IterationCount <= 20000
}

// FuzzParse: parsing never panics; an importable verdict always comes with
// an Okta hash that Okta would accept and that agrees with the legacy
// verification; errors never repeat the stored value.
func FuzzParse(f *testing.F) {
	seeds := [][2]string{
		{"$2a$10$qRRx8rli7Lvs2h2CNgCQ2OmVA2NDdomRGoGFrAXDZcno0OZ6CoOU2", ""},
		{"$2b$04$qRRx8rli7Lvs2h2CNgCQ2OmVA2NDdomRGoGFrAXDZcno0OZ6CoOU2", ""},
		{"{CRYPT}$2y$05$qRRx8rli7Lvs2h2CNgCQ2OmVA2NDdomRGoGFrAXDZcno0OZ6CoOU2", ""},
		{"$2b$1", ""},
		{"Zz6KwLGDm7ospSipwpDmxAjBWHKPLgGh1roGzI267h6txr/ihTI/R4K2eYrpyc0R24qCSF6DRqNl110vZZtj4A==", "JipHQUgqQU8qQUwpQUYjUChBSEcjQQ=="},
		{"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", ""},
		{"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", "c2FsdA=="},
		{"xjrauE6J6kbjcvMjWSSc+PsBBls=", "UEO3wsAsgzQ="},
		{"{SSHA}MTIzNDU2Nzg5MDEyMzQ1Njc4OTBzYWx0", ""},
		{"{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", ""},
		{"{SMD5}", ""},
		{"{CLEARTEXT}secret", ""},
		{"pbkdf2_sha256$4096$salt$" + strings.Repeat("A", 43) + "=", ""},
		{"pbkdf2_sha1$1000$salt$" + strings.Repeat("A", 27) + "=", ""},
		{"$pbkdf2-sha256$4096$" + salt16B64 + "$" + key32B64, ""},
		{"$pbkdf2-sha512$4096$" + salt16B64 + "$", ""},
		{"pbkdf2:sha256:4096$Jue1x7CL$dc90ba8fe1efa2f7e422f422ee66d185ec961d567eb6f3e7e130e30de2f1fbd8", ""},
		{identityV3(1, 4096, make([]byte, 16), make([]byte, 32)), ""},
		{identityV3(2, 1, make([]byte, 16), make([]byte, 16)), ""},
		{b64(append([]byte{0}, make([]byte, 48)...)), ""},
		{"$argon2id$v=19$m=64,t=2,p=2$" + salt16B64 + "$" + key32B64, ""},
		{"$argon2i$m=64,t=2,p=1$" + salt16B64 + "$" + key32B64, ""},
		{"$scrypt$ln=4,r=8,p=1$" + salt16B64 + "$" + key32B64, ""},
		{"scrypt:16:8:1$salt$" + strings.Repeat("00", 32), ""},
		{"$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1", ""},
		{"$5$rounds=1000$saltstring$95Bg/RfV2QriLpMdLPHK9el0Ighm6E3CBqMKzZKgCa2", ""},
		{"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", ""},
		{"$y$j9T$salt$hash", ""},
		{"", ""},
		{"$", "$"},
		{"{", ""},
		{"hunter2", "salt"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	sources := []hashes.Source{
		{},
		{Formats: hashes.Formats(), SaltEncoding: hashes.SaltBase64, SaltOrder: okta.SaltPrefix, Iterations: 3},
		{Formats: []hashes.Format{hashes.FormatSHA1, hashes.FormatSHA256, hashes.FormatASPNetMembership}, Default: hashes.FormatSHA1,
			SaltEncoding: hashes.SaltText, SaltOrder: okta.SaltPostfix},
		{Formats: []hashes.Format{hashes.FormatMD5, hashes.FormatSHA512, hashes.FormatBcrypt}, SaltEncoding: hashes.SaltHex, SaltOrder: okta.SaltPrefix},
	}
	f.Fuzz(func(t *testing.T, value, salt string) {
		start := time.Now()
		defer func() {
			if time.Since(start) > 5*time.Second {
				t.Fatalf("slow input %q %q: %s", value, salt, time.Since(start))
			}
		}()
		for _, src := range sources {
			v := hashes.Stored{Value: value, Salt: salt}
			r, err := src.Convert(v)
			if err != nil {
				if len(value) > 24 && strings.Contains(err.Error(), value) {
					t.Fatalf("error %q repeats the value", err)
				}
				continue
			}
			if (r.Way == hashes.WayImport) != (r.Okta != nil) {
				t.Fatalf("way %s with okta hash %v", r.Way, r.Okta != nil)
			}
			if r.Way != hashes.WayImport && r.Reason == "" {
				t.Fatalf("way %s without a reason", r.Way)
			}
			if !cheap(r.Hash) {
				continue
			}
			legacyOK, legacyErr := hashes.Verify(r.Hash, "fuzz password")
			if r.Way != hashes.WayImport {
				continue
			}
			if legacyErr != nil {
				t.Fatalf("importable value cannot be verified: %v", legacyErr)
			}
			if !cheapOkta(*r.Okta) {
				continue
			}
			oktaOK, err := hashes.VerifyOkta(*r.Okta, "fuzz password")
			if err != nil {
				t.Fatalf("importable value converts to a hash Okta would refuse: %v", err)
			}
			if oktaOK != legacyOK {
				t.Fatalf("legacy %v, Okta %v: the conversion does not round-trip", legacyOK, oktaOK)
			}
			// The plaintext reading of the value as a password must agree
			// too (it verifies only for plaintext-like inputs).
			a, _ := hashes.Verify(r.Hash, value)
			b, _ := hashes.VerifyOkta(*r.Okta, value)
			if a != b {
				t.Fatalf("legacy %v, Okta %v for a second password", a, b)
			}
		}
	})
}
