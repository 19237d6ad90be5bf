package secrets_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/secrets"
)

func mustSealer(t *testing.T, key []byte) *secrets.Sealer {
	t.Helper()
	s, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestASealedValueOpensWithItsKeyOnly(t *testing.T) {
	key := bytes.Repeat([]byte{7}, secrets.KeySize)
	s := mustSealer(t, key)
	sealed, err := s.Seal("00abcDEF-okta-token")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "okta-token") {
		t.Fatalf("the sealed value shows the secret: %q", sealed)
	}
	again, _ := s.Seal("00abcDEF-okta-token")
	if again == sealed {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if got, err := s.Open(sealed); err != nil || got != "00abcDEF-okta-token" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other := mustSealer(t, bytes.Repeat([]byte{8}, secrets.KeySize))
	if _, err := other.Open(sealed); !errors.Is(err, secrets.ErrWrongKey) {
		t.Fatalf("another key: %v, want ErrWrongKey", err)
	}
	// Damaged or altered values are refused, never returned as garbage.
	for _, bad := range []string{"", "plain-token", sealed[:len(sealed)-3], sealed[:len(sealed)-2] + "AA",
		strings.Replace(sealed, ":", "", 1), sealed + "!"} {
		if got, err := s.Open(bad); err == nil {
			t.Errorf("Open(%q) = %q, want an error", bad, got)
		}
	}
}

func TestKeysAreParsedFromBase64OrHexOfTheRightLength(t *testing.T) {
	key := bytes.Repeat([]byte{0xfe}, secrets.KeySize)
	for _, text := range []string{base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key),
		"  " + base64.StdEncoding.EncodeToString(key) + "\n", strings.Repeat("fe", secrets.KeySize)} {
		got, err := secrets.ParseKey(text)
		if err != nil || !bytes.Equal(got, key) {
			t.Errorf("ParseKey(%q) = %x, %v", text, got, err)
		}
	}
	for _, text := range []string{"", "short", base64.StdEncoding.EncodeToString(key[:16]), strings.Repeat("zz", 32)} {
		if _, err := secrets.ParseKey(text); err == nil || !strings.Contains(err.Error(), "openssl rand") {
			t.Errorf("ParseKey(%q): %v, want a clear error", text, err)
		}
	}
	if _, err := secrets.New(key[:10]); err == nil {
		t.Error("a 10-byte key was accepted")
	}
}

func TestTheKeyFileIsCreatedOnceOwnerOnlyAndGuarded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	first, err := secrets.LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", info.Mode().Perm(), err)
	}
	second, err := secrets.LoadOrCreateKeyFile(path)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("the key changed between starts: %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.LoadOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key file others can read: %v", err)
	}
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.LoadOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a damaged key file: %v", err)
	}
}
