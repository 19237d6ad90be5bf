package hashes_test

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/okta"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/scrypt"
)

func TestNotImportableButVerifiable(t *testing.T) {
	salt16 := []byte("0123456789abcdef")
	argonID := argon2.IDKey([]byte(password), salt16, 2, 64, 2, 32)
	argonI := argon2.Key([]byte(password), salt16, 3, 32, 1, 24)
	scryptKey, err := scrypt.Key([]byte(password), salt16, 1024, 8, 1, 32)
	if err != nil {
		t.Fatal(err)
	}
	sha1Key := pbkdf2.Key([]byte(password), []byte("djsalt"), 10000, 20, sha1.New)
	lowIter := pbkdf2.Key([]byte(password), salt16, 1000, 32, sha256.New)
	v2Key := pbkdf2.Key([]byte(password), salt16, 1000, 32, sha1.New)
	v3sha1 := pbkdf2.Key([]byte(password), salt16, 10000, 32, sha1.New)
	iterated := sha256.Sum256(cat([]byte("itsalt"), []byte(password)))
	for range 999 {
		iterated = sha256.Sum256(iterated[:])
	}
	ssha384 := sha512.Sum384(cat([]byte(password), []byte("ldapsalt")))

	tests := []struct {
		name     string
		src      hashes.Source
		v        hashes.Stored
		password string
		reason   string
	}{
		{"argon2id", hashes.Source{}, hashes.Stored{Value: fmt.Sprintf("$argon2id$v=19$m=64,t=2,p=2$%s$%s", rawB64(salt16), rawB64(argonID))}, password, "argon2"},
		{"argon2id behind {ARGON2}", hashes.Source{}, hashes.Stored{Value: fmt.Sprintf("{ARGON2}$argon2id$v=19$m=64,t=2,p=2$%s$%s", rawB64(salt16), rawB64(argonID))}, password, "argon2"},
		{"django argon2", hashes.Source{}, hashes.Stored{Value: fmt.Sprintf("argon2$argon2id$v=19$m=64,t=2,p=2$%s$%s", rawB64(salt16), rawB64(argonID))}, password, "argon2"},
		{"argon2i", hashes.Source{}, hashes.Stored{Value: fmt.Sprintf("$argon2i$v=19$m=32,t=3,p=1$%s$%s", rawB64(salt16), rawB64(argonI))}, password, "argon2"},
		{"passlib scrypt", hashes.Source{}, hashes.Stored{Value: fmt.Sprintf("$scrypt$ln=10,r=8,p=1$%s$%s", rawB64(salt16), rawB64(scryptKey))}, password, "scrypt"},
		// Generated with Werkzeug 3.1.8.
		{"werkzeug scrypt", hashes.Source{}, hashes.Stored{Value: "scrypt:1024:8:1$isnqDmPv$19c77119418bac374e75fa336ae93e788128d083f008f27fe597886e0ab02b52a49c2324761e4fc8ca69523cdcd6c1a2bff201c960eb8dac523083dc7d618b9f"}, "correct horse", "scrypt"},
		// crypt(3): Drepper's published SHA-crypt vectors, and values from
		// libxcrypt (Python's crypt) and openssl passwd.
		{"sha256-crypt spec", hashes.Source{}, hashes.Stored{Value: "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"}, "Hello world!", "crypt(3) $5$"},
		{"sha256-crypt spec rounds", hashes.Source{}, hashes.Stored{Value: "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"}, "Hello world!", "crypt(3) $5$"},
		{"sha512-crypt spec", hashes.Source{}, hashes.Stored{Value: "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"}, "Hello world!", "crypt(3) $6$"},
		{"sha512-crypt spec rounds", hashes.Source{}, hashes.Stored{Value: "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."}, "Hello world!", "SHA-512"},
		{"sha512-crypt long password", hashes.Source{}, hashes.Stored{Value: "$6$rounds=1234$0123456789abcdef$OESkhRDOO0r5N23eHnjJAbSD3l0ZvpxiYJENT5USmaum8MQo0u2xNP5qtB6.b072vtNanEzMgiRcTJROeqCn//"},
			"a much longer password that exceeds sixty four bytes to cross block sizes of sha-512!!", "crypt(3)"},
		{"sha256-crypt {CRYPT}", hashes.Source{}, hashes.Stored{Value: "{CRYPT}$5$rounds=1000$saltstring$95Bg/RfV2QriLpMdLPHK9el0Ighm6E3CBqMKzZKgCa2"}, "correct horse", "crypt(3)"},
		{"sha512-crypt", hashes.Source{}, hashes.Stored{Value: "$6$saltstring$.r0X7ub5wGR2v4Xz7svCIozfnlorFh19V89t8KC9Umd81uGhFgsyTRNyzQDXDIm17fFcR9z3z7oBNdsyYBbtm/"}, "correct horse", "crypt(3)"},
		{"md5-crypt openssl", hashes.Source{}, hashes.Stored{Value: "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"}, "Hello world!", "crypt(3) $1$ (MD5-based)"},
		{"md5-crypt {crypt}", hashes.Source{}, hashes.Stored{Value: "{crypt}$1$saltstri$CVtlMpOHug1.jDUbVpFvB1"}, "correct horse", "crypt(3) $1$"},
		{"md5-crypt utf-8", hashes.Source{}, hashes.Stored{Value: "$1$abc$va.mDh.xD0xaCpxxh9akd0"}, "pässwörd", "crypt(3) $1$"},
		{"django pbkdf2_sha1", hashes.Source{}, hashes.Stored{Value: "pbkdf2_sha1$10000$djsalt$" + b64(sha1Key)}, password, "HMAC-SHA1"},
		{"passlib pbkdf2 sha1", hashes.Source{}, hashes.Stored{Value: "$pbkdf2$10000$" + ab64([]byte("djsalt")) + "$" + ab64(sha1Key)}, password, "HMAC-SHA1"},
		{"werkzeug sha1", hashes.Source{}, hashes.Stored{Value: "pbkdf2:sha1:1000$KKGW1o9q$f2f230326184ae345b9b00817410a6d89ae5cf4d"}, "correct horse", "HMAC-SHA1"},
		{"passlib pbkdf2 1000 iterations", hashes.Source{}, hashes.Stored{Value: "$pbkdf2-sha256$1000$" + ab64(salt16) + "$" + ab64(lowIter)}, password, "1000 iterations: Okta requires at least 4096"},
		{"aspnet identity v2", hashes.Source{}, hashes.Stored{Value: b64(cat([]byte{0}, salt16, v2Key))}, password, "HMAC-SHA1"},
		{"aspnet identity v3 sha1", hashes.Source{}, hashes.Stored{Value: identityV3(0, 10000, salt16, v3sha1)}, password, "HMAC-SHA1"},
		{"aspnet identity v3 low iterations", hashes.Source{}, hashes.Stored{Value: identityV3(1, 1000, salt16, lowIter)}, password, "1000 iterations"},
		{"aspnet membership", hashes.Source{Formats: []hashes.Format{hashes.FormatASPNetMembership}},
			hashes.Stored{Value: membershipHash(salt16, password), Salt: b64(salt16)}, password, "UTF-16LE"},
		{"iterated sha256", hashes.Source{Formats: []hashes.Format{hashes.FormatIteratedDigest}, Iterations: 1000, SaltEncoding: hashes.SaltText, SaltOrder: okta.SaltPrefix},
			hashes.Stored{Value: hex.EncodeToString(iterated[:]), Salt: "itsalt"}, password, "SHA-256 applied 1000 times"},
		{"ldap ssha384", hashes.Source{}, hashes.Stored{Value: "{SSHA384}" + b64(cat(ssha384[:], []byte("ldapsalt")))}, password, "SHA-384"},
		{"plaintext", hashes.Source{Formats: []hashes.Format{hashes.FormatPlaintext}}, hashes.Stored{Value: password}, password, "plaintext"},
		{"ldap cleartext", hashes.Source{}, hashes.Stored{Value: "{CLEARTEXT}" + password}, password, "plaintext"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertNotImportable(t, tt.src, tt.v, tt.password, hashes.WayHook, tt.reason)
		})
	}
}

func TestMembershipLooksLikeSaltedSHA1(t *testing.T) {
	// The same value read as a salted SHA-1 would be "importable" and every
	// sign-in would fail: the source must declare membership, and Prove
	// exposes the mistake.
	salt := []byte("0123456789abcdef")
	v := hashes.Stored{Value: membershipHash(salt, password), Salt: b64(salt)}
	wrong := hashes.Source{Formats: []hashes.Format{hashes.FormatSHA1}, SaltEncoding: hashes.SaltBase64, SaltOrder: okta.SaltPrefix}
	p, err := wrong.Prove(v, password)
	if err != nil {
		t.Fatal(err)
	}
	if p.Proven() || p.Legacy || p.Okta || p.Result.Way != hashes.WayImport {
		t.Fatalf("misread membership proof = %+v; want an importable reading that the password does not prove", p)
	}
	both := hashes.Source{Formats: []hashes.Format{hashes.FormatSHA1, hashes.FormatASPNetMembership}, Default: hashes.FormatASPNetMembership,
		SaltEncoding: hashes.SaltBase64, SaltOrder: okta.SaltPrefix}
	r := MustConvert(t, both, v)
	if r.Hash.Format != hashes.FormatASPNetMembership || r.Way != hashes.WayHook || r.Note == "" {
		t.Fatalf("declared membership: %s %s note %q", r.Hash.Format, r.Way, r.Note)
	}
}

// Cost 21 is beyond Okta's import, and beyond the hook too: one check takes
// minutes where Okta waits 3 seconds.
func TestBcryptCostAboveTwentyNeedsAReset(t *testing.T) {
	r := MustConvert(t, hashes.Source{}, hashes.Stored{Value: "$2b$21$qRRx8rli7Lvs2h2CNgCQ2OmVA2NDdomRGoGFrAXDZcno0OZ6CoOU2"})
	if r.Way != hashes.WayReset || r.Okta != nil {
		t.Fatalf("cost 21: %s", r.Way)
	}
	for _, want := range []string{"cost 21 is above Okta's maximum work factor of 20", "waits 3 s"} {
		if !strings.Contains(r.Reason, want) {
			t.Fatalf("reason %q lacks %q", r.Reason, want)
		}
	}
	// Verification is bounded: refused under the default limits, allowed
	// when an operator raises them (not run here: it takes minutes).
	_, err := hashes.Verify(r.Hash, password)
	assertErr(t, err, hashes.ErrTooCostly, "cost 21 exceeds the verification limit of 20")
}

func TestPepperedSourceNeedsAReset(t *testing.T) {
	d := sha256.Sum256([]byte(password))
	src := hashes.Source{Pepper: true}
	r := assertNotImportable(t, src, hashes.Stored{Value: hex.EncodeToString(d[:])}, password, hashes.WayReset, "pepper")
	_, err := hashes.Verify(r.Hash, password)
	assertErr(t, err, hashes.ErrCannotVerify, "pepper")
}

func TestUnknownFormatsNeedAReset(t *testing.T) {
	tests := []struct {
		name, value string
		src         hashes.Source
		reason      string
	}{
		{"no format fits", "definitely not a hash", hashes.Source{}, "matches no format"},
		{"unknown LDAP scheme", "{PBKDF2-SHA256}10000$abc$def", hashes.Source{}, "{PBKDF2-SHA256} is not a scheme Ferry can verify"},
		{"traditional DES crypt", "{CRYPT}abJnggxhB/yWI", hashes.Source{}, "crypt traditional DES"},
		{"yescrypt", "$y$j9T$salt$hash", hashes.Source{}, "crypt $y$"},
		{"scrypt $7$", "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D", hashes.Source{}, "scrypt $7$"},
		{"argon2d", "$argon2d$v=19$m=64,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAA", hashes.Source{}, "argon2id and argon2i version 19"},
		{"argon2 version 16", "$argon2i$m=64,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAA", hashes.Source{}, "argon2i v=16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := assertNotImportable(t, tt.src, hashes.Stored{Value: tt.value}, "", hashes.WayReset, tt.reason)
			_, err := hashes.Verify(r.Hash, "anything")
			assertErr(t, err, hashes.ErrCannotVerify, "")
		})
	}
}
