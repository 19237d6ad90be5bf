package hashes

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// digestAlg names a digest with its size and constructor.
type digestAlg struct {
	name string // okta.Algorithm* or "SHA-384"
	size int
	new  func() hash.Hash
}

const algSHA384 = "SHA-384"

var digestAlgs = []digestAlg{
	{okta.AlgorithmMD5, md5.Size, md5.New},
	{okta.AlgorithmSHA1, sha1.Size, sha1.New},
	{okta.AlgorithmSHA256, sha256.Size, sha256.New},
	{algSHA384, sha512.Size384, sha512.New384},
	{okta.AlgorithmSHA512, sha512.Size, sha512.New},
}

func digestByName(name string) (digestAlg, bool) {
	for _, d := range digestAlgs {
		if d.name == name {
			return d, true
		}
	}
	return digestAlg{}, false
}

// digestFormat maps the plain digest formats to their algorithm.
var digestFormat = map[Format]string{
	FormatMD5:    okta.AlgorithmMD5,
	FormatSHA1:   okta.AlgorithmSHA1,
	FormatSHA256: okta.AlgorithmSHA256,
	FormatSHA512: okta.AlgorithmSHA512,
}

// decodeBase64 accepts standard base64 with or without padding, and nothing
// else (no whitespace, no URL alphabet).
func decodeBase64(s string) ([]byte, bool) {
	if s == "" {
		return nil, false
	}
	if strings.HasSuffix(s, "=") {
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		return b, err == nil
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	return b, err == nil
}

// decodeAB64 decodes passlib's adapted base64: '.' for '+', no padding. The
// standard '+' is accepted too (passlib's scrypt uses it).
func decodeAB64(s string) ([]byte, bool) {
	if s == "" || strings.ContainsAny(s, "=") {
		return nil, false
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(strings.ReplaceAll(s, ".", "+"))
	return b, err == nil
}

func decodeHex(s string) ([]byte, bool) {
	if s == "" || len(s)%2 != 0 {
		return nil, false
	}
	b, err := hex.DecodeString(s)
	return b, err == nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// digestBytes decodes a stored digest: hex when it is hex of a digest size,
// otherwise base64.
func digestBytes(s string) ([]byte, bool) {
	switch len(s) {
	case 32, 40, 64, 96, 128:
		if isHex(s) {
			return decodeHex(s)
		}
	}
	return decodeBase64(s)
}

// atoiStrict parses a positive decimal without sign, spaces or leading
// zeros and without overflow.
func atoiStrict(s string) (int, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isCryptB64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(cryptAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// bcryptAlphabet is bcrypt's own Radix-64 order.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func isBcryptB64(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// bcryptCanonicalLast reports whether the last character of an encoded
// field carries no stray low bits: 22 salt characters hold 16 bytes, so the
// last may only be one of ".Oeu"; 31 hash characters hold 23 bytes, so the
// last may only be one of ".CGKOSWaeimquy26". Implementations disagree on
// what the stray bits mean, so a value with them is malformed.
func bcryptCanonicalLast(s string, allowed string) bool {
	return s != "" && strings.IndexByte(allowed, s[len(s)-1]) >= 0
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
