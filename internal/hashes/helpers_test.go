package hashes_test

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// MustConvert converts v with src and fails the test on an error.
func MustConvert(tb testing.TB, src hashes.Source, v hashes.Stored) hashes.Result {
	tb.Helper()
	r, err := src.Convert(v)
	if err != nil {
		tb.Fatalf("Convert: %v", err)
	}
	return r
}

// assertVerifies checks the legacy verification: right password true, wrong
// false.
func assertVerifies(tb testing.TB, h hashes.Hash, password string) {
	tb.Helper()
	ok, err := hashes.Verify(h, password)
	if err != nil || !ok {
		tb.Fatalf("Verify(%v, right password) = %v, %v; want true", h, ok, err)
	}
	for _, wrong := range []string{password + "x", "", strings.ToUpper(password) + "!"} {
		if wrong == password {
			continue
		}
		ok, err = hashes.Verify(h, wrong)
		if err != nil || ok {
			tb.Fatalf("Verify(%v, wrong password) = %v, %v; want false", h, ok, err)
		}
	}
}

// assertOktaVerifies checks an Okta hash as Okta would: right password true,
// wrong false.
func assertOktaVerifies(tb testing.TB, h okta.PasswordHash, password string) {
	tb.Helper()
	ok, err := hashes.VerifyOkta(h, password)
	if err != nil || !ok {
		tb.Fatalf("VerifyOkta(%s, right password) = %v, %v; want true", h.Algorithm, ok, err)
	}
	ok, err = hashes.VerifyOkta(h, password+"x")
	if err != nil || ok {
		tb.Fatalf("VerifyOkta(%s, wrong password) = %v, %v; want false", h.Algorithm, ok, err)
	}
}

// assertImports runs the full round trip for an importable value and
// returns the Okta hash.
func assertImports(tb testing.TB, src hashes.Source, v hashes.Stored, password, algorithm string) okta.PasswordHash {
	tb.Helper()
	r := MustConvert(tb, src, v)
	if r.Way != hashes.WayImport || r.Okta == nil {
		tb.Fatalf("Convert: way %q (%s); want import", r.Way, r.Reason)
	}
	if r.Okta.Algorithm != algorithm {
		tb.Fatalf("Okta algorithm = %q, want %q", r.Okta.Algorithm, algorithm)
	}
	if r.Reason != "" {
		tb.Errorf("importable value has a reason: %q", r.Reason)
	}
	assertVerifies(tb, r.Hash, password)
	assertOktaVerifies(tb, *r.Okta, password)
	return *r.Okta
}

// assertNotImportable checks the way forward and reason, and that the value
// still verifies in Go when the way is the hook.
func assertNotImportable(tb testing.TB, src hashes.Source, v hashes.Stored, password string, way hashes.Way, reason string) hashes.Result {
	tb.Helper()
	r := MustConvert(tb, src, v)
	if r.Way != way {
		tb.Fatalf("way = %q (%s), want %q", r.Way, r.Reason, way)
	}
	if r.Okta != nil {
		tb.Fatalf("a value that is not importable has an Okta hash")
	}
	if !strings.Contains(r.Reason, reason) {
		tb.Fatalf("reason %q does not mention %q", r.Reason, reason)
	}
	if way == hashes.WayHook {
		assertVerifies(tb, r.Hash, password)
	}
	return r
}

func assertErr(tb testing.TB, err, kind error, msg string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("no error; want %v mentioning %q", kind, msg)
	}
	if !errors.Is(err, kind) {
		tb.Fatalf("error %q is not %v", err, kind)
	}
	if !strings.Contains(err.Error(), msg) {
		tb.Fatalf("error %q does not mention %q", err, msg)
	}
}

func b64(b []byte) string    { return base64.StdEncoding.EncodeToString(b) }
func rawB64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }
func ab64(b []byte) string   { return strings.ReplaceAll(rawB64(b), "+", ".") }
func cat(p ...[]byte) []byte { return []byte(strings.Join(toStrings(p), "")) }

func toStrings(p [][]byte) []string {
	out := make([]string, len(p))
	for i, b := range p {
		out[i] = string(b)
	}
	return out
}

func utf16LE(s string) []byte {
	var out []byte
	for _, u := range utf16.Encode([]rune(s)) {
		out = binary.LittleEndian.AppendUint16(out, u)
	}
	return out
}

// membershipHash is SqlMembershipProvider's EncodePassword for SHA-1.
func membershipHash(salt []byte, password string) string {
	sum := sha1.Sum(cat(salt, utf16LE(password)))
	return b64(sum[:])
}

// identityV3 builds an ASP.NET Identity v3 blob.
func identityV3(prf uint32, iter uint32, salt, subkey []byte) string {
	b := []byte{0x01}
	b = binary.BigEndian.AppendUint32(b, prf)
	b = binary.BigEndian.AppendUint32(b, iter)
	b = binary.BigEndian.AppendUint32(b, uint32(len(salt)))
	b = append(b, salt...)
	return b64(append(b, subkey...))
}
