package hashes_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/okta"
	"golang.org/x/crypto/bcrypt"
)

func TestProveFindsTheSaltSetting(t *testing.T) {
	// The salt is stored as base64 text, but the legacy system hashed that
	// text, not the decoded bytes; the source was configured the other way.
	storedSalt := b64([]byte("raw salt bytes"))
	d := sha256.Sum256([]byte(password + storedSalt))
	v := hashes.Stored{Value: hex.EncodeToString(d[:]), Salt: storedSalt}
	wrong := hashes.Source{Formats: []hashes.Format{hashes.FormatSHA256}, SaltEncoding: hashes.SaltBase64, SaltOrder: okta.SaltPrefix}

	p, err := wrong.Prove(v, password)
	if err != nil {
		t.Fatal(err)
	}
	if p.Proven() || p.Legacy {
		t.Fatalf("a misconfigured source proved: %+v", p)
	}
	want := []hashes.SaltSetting{{Encoding: hashes.SaltText, Order: okta.SaltPostfix}}
	if !slices.Equal(p.Fits, want) {
		t.Fatalf("fits = %+v, want %+v", p.Fits, want)
	}

	right := wrong
	right.SaltEncoding, right.SaltOrder = hashes.SaltText, okta.SaltPostfix
	p, err = right.Prove(v, password)
	if err != nil || !p.Proven() || !p.Legacy || !p.Okta || p.Result.Way != hashes.WayImport {
		t.Fatalf("configured source: %+v, %v", p, err)
	}
	if p, err = right.Prove(v, "not the password"); err != nil || p.Proven() {
		t.Fatalf("wrong password proved: %+v, %v", p, err)
	}
}

func TestProveWithoutSaltSettings(t *testing.T) {
	d := sha256.Sum256([]byte("pre" + password))
	p, err := hashes.Source{Formats: []hashes.Format{hashes.FormatSHA256}}.Prove(hashes.Stored{Value: hex.EncodeToString(d[:]), Salt: "pre"}, password)
	if err != nil {
		t.Fatal(err)
	}
	if p.Proven() || !slices.Contains(p.Fits, hashes.SaltSetting{Encoding: hashes.SaltText, Order: okta.SaltPrefix}) {
		t.Fatalf("proof %+v", p)
	}
}

func TestProveHookFormats(t *testing.T) {
	p, err := hashes.Source{}.Prove(hashes.Stored{Value: "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"}, "Hello world!")
	if err != nil || !p.Proven() || p.Result.Way != hashes.WayHook || p.Okta {
		t.Fatalf("proof %+v, %v", p, err)
	}
}

func TestDetectionWithinTheSourcesFormats(t *testing.T) {
	sha1Hex := strings.Repeat("ab", 20)
	tests := []struct {
		name     string
		src      hashes.Source
		value    string
		want     hashes.Format
		disagree bool
		note     string
	}{
		{"shape alone", hashes.Source{}, sha1Hex, hashes.FormatSHA1, false, ""},
		{"default chosen among fits", hashes.Source{Formats: []hashes.Format{hashes.FormatSHA1, hashes.FormatIteratedDigest}, Default: hashes.FormatIteratedDigest, Iterations: 5},
			sha1Hex, hashes.FormatIteratedDigest, false, "also fits sha1"},
		{"source order without default", hashes.Source{Formats: []hashes.Format{hashes.FormatIteratedDigest, hashes.FormatSHA1}, Iterations: 5},
			sha1Hex, hashes.FormatIteratedDigest, false, "also fits sha1"},
		{"declared md5, value sha1", hashes.Source{Formats: []hashes.Format{hashes.FormatMD5, hashes.FormatSHA1}, Default: hashes.FormatMD5},
			sha1Hex, hashes.FormatSHA1, true, "declared md5 but the value is sha1"},
		{"plaintext source keeps real hashes", hashes.Source{Formats: []hashes.Format{hashes.FormatPlaintext, hashes.FormatBcrypt}, Default: hashes.FormatPlaintext},
			"$2b$10$" + goodBcryptBody, hashes.FormatBcrypt, true, "declared plaintext but the value is bcrypt"},
		{"plaintext source", hashes.Source{Formats: []hashes.Format{hashes.FormatPlaintext}}, "hunter2", hashes.FormatPlaintext, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := MustConvert(t, tt.src, hashes.Stored{Value: tt.value})
			if r.Hash.Format != tt.want || r.Disagrees != tt.disagree || !strings.Contains(r.Note, tt.note) {
				t.Fatalf("got %s disagrees=%v note=%q; want %s %v %q", r.Hash.Format, r.Disagrees, r.Note, tt.want, tt.disagree, tt.note)
			}
		})
	}
}

func TestHashNeverPrintsSecrets(t *testing.T) {
	mcf, _ := bcrypt.GenerateFromPassword([]byte(password), 4)
	d := sha256.Sum256([]byte("salt-secret" + password))
	for _, tt := range []struct {
		src hashes.Source
		v   hashes.Stored
	}{
		{hashes.Source{}, hashes.Stored{Value: string(mcf)}},
		{hashes.Source{SaltEncoding: hashes.SaltText, SaltOrder: okta.SaltPrefix}, hashes.Stored{Value: hex.EncodeToString(d[:]), Salt: "salt-secret"}},
		{hashes.Source{Formats: []hashes.Format{hashes.FormatPlaintext}}, hashes.Stored{Value: password}},
	} {
		r := MustConvert(t, tt.src, tt.v)
		for _, s := range []string{fmt.Sprint(r.Hash), fmt.Sprintf("%+v", r.Hash), fmt.Sprintf("%#v", r.Hash), fmt.Sprintf("%v", r)} {
			for _, secret := range []string{password, "salt-secret", string(mcf[7:29]), hex.EncodeToString(d[:8])} {
				if strings.Contains(s, secret) {
					t.Fatalf("%q prints a secret", s)
				}
			}
		}
	}
}
