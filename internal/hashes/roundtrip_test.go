package hashes_test

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/okta"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/pbkdf2"
)

const password = "correct horse ünïcode €"

func TestBcryptRoundTrip(t *testing.T) {
	src := hashes.Source{Formats: []hashes.Format{hashes.FormatBcrypt}}
	mcf, err := bcrypt.GenerateFromPassword([]byte(password), 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$", "{CRYPT}$2b$", "{crypt}$2y$"} {
		t.Run(prefix, func(t *testing.T) {
			v := prefix + string(mcf[4:])
			h := assertImports(t, src, hashes.Stored{Value: v}, password, okta.AlgorithmBcrypt)
			if h.WorkFactor != 5 || h.Salt != string(mcf[7:29]) || h.Value != string(mcf[29:]) {
				t.Fatalf("split %+v from %s", h, mcf)
			}
		})
	}
}

func TestBcryptCostTwentyImports(t *testing.T) {
	// Okta's maximum: imported, not verified here (a minute of CPU).
	salt := "qRRx8rli7Lvs2h2CNgCQ2O"
	r := MustConvert(t, hashes.Source{}, hashes.Stored{Value: "$2b$20$" + salt + "mVA2NDdomRGoGFrAXDZcno0OZ6CoOU2"})
	if r.Way != hashes.WayImport || r.Okta.WorkFactor != 20 {
		t.Fatalf("got %s %+v", r.Way, r.Okta)
	}
}

type digestCase struct {
	format    hashes.Format
	algorithm string
	new       func() hash.Hash
}

var digestCases = []digestCase{
	{hashes.FormatMD5, okta.AlgorithmMD5, md5.New},
	{hashes.FormatSHA1, okta.AlgorithmSHA1, sha1.New},
	{hashes.FormatSHA256, okta.AlgorithmSHA256, sha256.New},
	{hashes.FormatSHA512, okta.AlgorithmSHA512, sha512.New},
}

func sum(newHash func() hash.Hash, parts ...[]byte) []byte {
	h := newHash()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func TestSaltedDigestRoundTrip(t *testing.T) {
	saltBytes := []byte{0x00, 0xff, 0x10, 'a', 0x80, 0x7f, 0x01, 0x02}
	salts := []struct {
		enc    hashes.SaltEncoding
		stored string
		hashed []byte
	}{
		{hashes.SaltText, "pepper-free salt", []byte("pepper-free salt")},
		{hashes.SaltBase64, b64(saltBytes), saltBytes},
		{hashes.SaltHex, hex.EncodeToString(saltBytes), saltBytes},
	}
	for _, dc := range digestCases {
		for _, salt := range salts {
			for _, order := range []string{okta.SaltPrefix, okta.SaltPostfix} {
				for _, digestEnc := range []string{"hex", "HEX", "base64", "raw base64"} {
					name := fmt.Sprintf("%s/%s/%s/%s", dc.format, salt.enc, order, digestEnc)
					t.Run(name, func(t *testing.T) {
						var d []byte
						if order == okta.SaltPrefix {
							d = sum(dc.new, salt.hashed, []byte(password))
						} else {
							d = sum(dc.new, []byte(password), salt.hashed)
						}
						stored := map[string]string{"hex": hex.EncodeToString(d), "HEX": strings.ToUpper(hex.EncodeToString(d)),
							"base64": b64(d), "raw base64": rawB64(d)}[digestEnc]
						src := hashes.Source{Formats: []hashes.Format{dc.format}, SaltEncoding: salt.enc, SaltOrder: order}
						h := assertImports(t, src, hashes.Stored{Value: stored, Salt: salt.stored}, password, dc.algorithm)
						if h.Salt != b64(salt.hashed) || h.SaltOrder != order || h.Value != b64(d) {
							t.Fatalf("okta hash %+v: want salt %s, order %s, value %s", h, b64(salt.hashed), order, b64(d))
						}
					})
				}
			}
		}
	}
}

func TestUnsaltedDigestRoundTrip(t *testing.T) {
	for _, dc := range digestCases {
		t.Run(string(dc.format), func(t *testing.T) {
			d := sum(dc.new, []byte(password))
			h := assertImports(t, hashes.Source{}, hashes.Stored{Value: hex.EncodeToString(d)}, password, dc.algorithm)
			if h.Salt != "" || h.SaltOrder != "" {
				t.Fatalf("unsalted hash sent with salt %q order %q", h.Salt, h.SaltOrder)
			}
		})
	}
}

func TestLDAPRoundTrip(t *testing.T) {
	salt := []byte{1, 2, 3, 4, 0xfe, 0xff, 0, 9}
	tests := []struct {
		scheme    string
		new       func() hash.Hash
		salted    bool
		algorithm string
	}{
		{"{SHA}", sha1.New, false, okta.AlgorithmSHA1},
		{"{SSHA}", sha1.New, true, okta.AlgorithmSHA1},
		{"{SHA256}", sha256.New, false, okta.AlgorithmSHA256},
		{"{SSHA256}", sha256.New, true, okta.AlgorithmSHA256},
		{"{SHA512}", sha512.New, false, okta.AlgorithmSHA512},
		{"{SSHA512}", sha512.New, true, okta.AlgorithmSHA512},
		{"{MD5}", md5.New, false, okta.AlgorithmMD5},
		{"{SMD5}", md5.New, true, okta.AlgorithmMD5},
		{"{ssha}", sha1.New, true, okta.AlgorithmSHA1},
	}
	for _, tt := range tests {
		t.Run(tt.scheme, func(t *testing.T) {
			var v string
			if tt.salted {
				v = tt.scheme + b64(cat(sum(tt.new, []byte(password), salt), salt))
			} else {
				v = tt.scheme + b64(sum(tt.new, []byte(password)))
			}
			h := assertImports(t, hashes.Source{Formats: []hashes.Format{hashes.FormatLDAP}}, hashes.Stored{Value: v}, password, tt.algorithm)
			if tt.salted && (h.SaltOrder != okta.SaltPostfix || h.Salt != b64(salt)) {
				t.Fatalf("salted LDAP sent as %+v, want POSTFIX with the trailing bytes", h)
			}
		})
	}
}

func TestPBKDF2RoundTrip(t *testing.T) {
	salt := []byte("s4lt-bytes\x00\xff\x10xyz")
	key256 := pbkdf2.Key([]byte(password), salt, 4096, 32, sha256.New)
	key512 := pbkdf2.Key([]byte(password), salt, 5000, 64, sha512.New)
	textSalt := "DjangoSaltText"
	django := pbkdf2.Key([]byte(password), []byte(textSalt), 4096, 32, sha256.New)
	tests := []struct {
		name, value string
		digest      string
		iterations  int
		key, salt   []byte
	}{
		{"django", "pbkdf2_sha256$4096$" + textSalt + "$" + b64(django), okta.DigestSHA256, 4096, django, []byte(textSalt)},
		{"passlib sha256", "$pbkdf2-sha256$4096$" + ab64(salt) + "$" + ab64(key256), okta.DigestSHA256, 4096, key256, salt},
		{"passlib sha512", "$pbkdf2-sha512$5000$" + ab64(salt) + "$" + ab64(key512), okta.DigestSHA512, 5000, key512, salt},
		{"aspnet identity v3 sha256", identityV3(1, 4096, salt[:16], key256Salt16(4096, 32, sha256.New)), okta.DigestSHA256, 4096,
			key256Salt16(4096, 32, sha256.New), salt[:16]},
		{"aspnet identity v3 sha512", identityV3(2, 5000, salt[:16], key256Salt16(5000, 64, sha512.New)), okta.DigestSHA512, 5000,
			key256Salt16(5000, 64, sha512.New), salt[:16]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := assertImports(t, hashes.Source{}, hashes.Stored{Value: tt.value}, password, okta.AlgorithmPBKDF2)
			want := okta.PasswordHash{Algorithm: okta.AlgorithmPBKDF2, DigestAlgorithm: tt.digest, IterationCount: tt.iterations,
				KeySize: len(tt.key), Salt: b64(tt.salt), Value: b64(tt.key)}
			if h != want {
				t.Fatalf("got %+v, want %+v", h, want)
			}
		})
	}
}

func key256Salt16(iter, size int, h func() hash.Hash) []byte {
	return pbkdf2.Key([]byte(password), []byte("s4lt-bytes\x00\xff\x10xyz")[:16], iter, size, h)
}

func TestWerkzeugPBKDF2RoundTrip(t *testing.T) {
	// Generated with Werkzeug 3.1.8's generate_password_hash.
	v := "pbkdf2:sha256:4096$Jue1x7CL$dc90ba8fe1efa2f7e422f422ee66d185ec961d567eb6f3e7e130e30de2f1fbd8"
	assertImports(t, hashes.Source{}, hashes.Stored{Value: v}, "correct horse", okta.AlgorithmPBKDF2)
	// And one built here.
	key := pbkdf2.Key([]byte(password), []byte("abcdefgh"), 600000/100, 64, sha512.New)
	assertImports(t, hashes.Source{}, hashes.Stored{Value: "pbkdf2:sha512:6000$abcdefgh$" + hex.EncodeToString(key)}, password, okta.AlgorithmPBKDF2)
}

func TestMixedSourceDetectsPerValue(t *testing.T) {
	// A store that rehashes on login holds salted SHA-1 and bcrypt side by
	// side; the declared default is SHA-1.
	src := hashes.Source{Formats: []hashes.Format{hashes.FormatSHA1, hashes.FormatBcrypt}, Default: hashes.FormatSHA1,
		SaltEncoding: hashes.SaltText, SaltOrder: okta.SaltPrefix}
	old := hex.EncodeToString(sum(sha1.New, []byte("salt"), []byte(password)))
	r := MustConvert(t, src, hashes.Stored{Value: old, Salt: "salt"})
	if r.Hash.Format != hashes.FormatSHA1 || r.Disagrees || r.Way != hashes.WayImport {
		t.Fatalf("old value: %s disagrees=%v way=%s", r.Hash.Format, r.Disagrees, r.Way)
	}
	mcf, _ := bcrypt.GenerateFromPassword([]byte(password), 4)
	r = MustConvert(t, src, hashes.Stored{Value: string(mcf), Salt: "salt"})
	if r.Hash.Format != hashes.FormatBcrypt || !r.Disagrees || !strings.Contains(r.Note, "declared sha1 but the value is bcrypt") {
		t.Fatalf("rehashed value: %s disagrees=%v note=%q", r.Hash.Format, r.Disagrees, r.Note)
	}
	assertOktaVerifies(t, *r.Okta, password)
}

func TestVectorsFromPython(t *testing.T) {
	// x/crypto's pbkdf2 and scrypt share code with what Ferry uses, so
	// these values were computed once with Python's hashlib (password
	// "correct horse") and recorded here.
	tests := []struct {
		name, value string
		way         hashes.Way
	}{
		{"passlib pbkdf2-sha512", "$pbkdf2-sha512$4096$AAECAwQFBgcICQoLDA0ODw$KU9N68wknx5PtIDhrB7D.Vj5DApKbjI6NAYiADilHqLEtzytmqn7qh4uhJEN1zvu3Iwx1PM8dgOQk9rdvK7/fw", hashes.WayImport},
		{"django pbkdf2_sha256", "pbkdf2_sha256$4096$seasalt$zHd5RYFxjPPHtcyvFSF8qXKeIldCmyz1cMw32MducLw=", hashes.WayImport},
		{"passlib scrypt", "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE", hashes.WayHook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.way == hashes.WayImport {
				assertImports(t, hashes.Source{}, hashes.Stored{Value: tt.value}, "correct horse", okta.AlgorithmPBKDF2)
				return
			}
			assertNotImportable(t, hashes.Source{}, hashes.Stored{Value: tt.value}, "correct horse", tt.way, "")
		})
	}
}

func TestBcryptUsesTheFirst72Bytes(t *testing.T) {
	// bcrypt ignores bytes after the 72nd, in the legacy system and in Okta.
	long := strings.Repeat("0123456789", 8)
	mcf, err := bcrypt.GenerateFromPassword([]byte(long[:72]), 4)
	if err != nil {
		t.Fatal(err)
	}
	r := MustConvert(t, hashes.Source{}, hashes.Stored{Value: string(mcf)})
	for _, pw := range []string{long, long[:72]} {
		if ok, err := hashes.Verify(r.Hash, pw); err != nil || !ok {
			t.Fatalf("Verify(%d bytes) = %v, %v", len(pw), ok, err)
		}
		if ok, err := hashes.VerifyOkta(*r.Okta, pw); err != nil || !ok {
			t.Fatalf("VerifyOkta(%d bytes) = %v, %v", len(pw), ok, err)
		}
	}
	if ok, _ := hashes.VerifyOkta(*r.Okta, long[:71]); ok {
		t.Fatal("71 bytes verified")
	}
}
