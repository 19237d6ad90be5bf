// Package secrets seals the secrets Ferry must keep (Okta API tokens) for
// storage: AES-256-GCM with a random nonce per value, under a key that comes
// from the configuration or from a key file Ferry creates once, readable by
// its owner only. A sealed value names the key it was sealed with, so that a
// database opened with another key fails with a clear message instead of
// returning garbage.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of a key: AES-256.
const KeySize = 32

// prefix starts every sealed value, with a version for the format.
const prefix = "ferry-sealed-v1:"

// ErrWrongKey means a value was sealed under another key than the sealer's.
var ErrWrongKey = errors.New("this secret was sealed with another key than the one configured (FERRY_SECRET_KEY or the key file): enter it again, or start Ferry with the key it was saved with")

// Sealer seals and opens values under one key.
type Sealer struct {
	aead cipher.AEAD
	// keyID names the key in sealed values: the first bytes of its hash,
	// which reveal nothing of it.
	keyID string
}

// New returns a sealer for a KeySize-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a secret key is %d bytes, this one is %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("ferry key id\x00"), key...))
	return &Sealer{aead: aead, keyID: hex.EncodeToString(sum[:4])}, nil
}

// ParseKey reads a key written as base64 (standard or URL alphabet, padded
// or not) or hex, as FERRY_SECRET_KEY holds it.
func ParseKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	for _, dec := range []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString, hex.DecodeString,
	} {
		if key, err := dec(text); err == nil && len(key) == KeySize {
			return key, nil
		}
	}
	return nil, fmt.Errorf("a secret key is %d random bytes written in base64 or hex (for instance the output of `openssl rand -base64 32`)", KeySize)
}

// LoadOrCreateKeyFile reads the key file at path, or creates it with a new
// random key, readable and writable by its owner only (0600). A key file
// that others may read is refused.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("create the directory of the key file %s: %w", path, err)
		}
		// O_EXCL: two processes starting at once never overwrite each other's key.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateKeyFile(path)
		}
		if err != nil {
			return nil, fmt.Errorf("create the key file %s: %w", path, err)
		}
		if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("write the key file %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write the key file %s: %w", path, err)
		}
		return key, nil
	case err != nil:
		return nil, fmt.Errorf("read the key file %s: %w", path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the key file %s can be read by others (mode %v): make it readable by Ferry's user only (chmod 600)", path, info.Mode().Perm())
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the key file %s: %w", path, err)
	}
	key, err := ParseKey(string(text))
	if err != nil {
		return nil, fmt.Errorf("the key file %s: %w", path, err)
	}
	return key, nil
}

// Seal encrypts plaintext; the result is text, safe to store.
func (s *Sealer) Seal(plaintext string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := s.aead.Seal(nonce, nonce, []byte(plaintext), []byte(s.keyID))
	return prefix + s.keyID + ":" + base64.RawStdEncoding.EncodeToString(sealed), nil
}

// Open decrypts a value Seal produced. A value sealed under another key
// gives ErrWrongKey; a damaged one an error that says so.
func (s *Sealer) Open(sealed string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", errors.New("this is not a sealed secret")
	}
	keyID, body, ok := strings.Cut(rest, ":")
	if !ok {
		return "", errors.New("this sealed secret is damaged")
	}
	if keyID != s.keyID {
		return "", ErrWrongKey
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return "", errors.New("this sealed secret is damaged")
	}
	plain, err := s.aead.Open(nil, raw[:s.aead.NonceSize()], raw[s.aead.NonceSize():], []byte(keyID))
	if err != nil {
		return "", errors.New("this sealed secret is damaged or was altered")
	}
	return string(plain), nil
}
