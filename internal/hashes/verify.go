package hashes

import (
	"crypto/pbkdf2"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"hash"
	"strings"
	"unicode/utf16"

	"github.com/ferry-migrate/ferry/internal/okta"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Verify reports whether password matches the parsed legacy hash, the way
// the legacy system checks it, within DefaultLimits(). It serves Prove and
// Ferry's password import hook. A false result with a nil error is a wrong
// password; an error means the hash cannot be checked.
func Verify(h Hash, password string) (bool, error) {
	return DefaultLimits().Verify(h, password)
}

// Verify is Verify within these limits.
func (l Limits) Verify(h Hash, password string) (bool, error) {
	if err := l.validate(); err != nil {
		return false, err
	}
	if h.Peppered {
		return false, cannotVerify(h.Format, "the source mixes a pepper into its hashes")
	}
	pw := []byte(password)
	switch h.Format {
	case FormatBcrypt:
		if h.Cost > l.MaxBcryptCost {
			return false, tooCostly(h.Format, "cost %d exceeds the verification limit of %d", h.Cost, l.MaxBcryptCost)
		}
		return bcryptCompare(h.encoded, pw)
	case FormatMD5, FormatSHA1, FormatSHA256, FormatSHA512, FormatLDAP, FormatIteratedDigest:
		d, ok := digestByName(h.Digest)
		if !ok {
			return false, cannotVerify(h.Format, "no digest")
		}
		n := max(h.Iterations, 1)
		if n > l.MaxIterations {
			return false, tooCostly(h.Format, "%d iterations exceed the limit of %d", n, l.MaxIterations)
		}
		return equal(iteratedDigest(d.new, pw, h.Salt, h.SaltOrder, n), h.Sum), nil
	case FormatASPNetMembership:
		d, _ := digestByName(h.Digest)
		if d.new == nil {
			return false, cannotVerify(h.Format, "no digest")
		}
		m := d.new()
		m.Write(h.Salt)
		m.Write(utf16LE(password))
		return equal(m.Sum(nil), h.Sum), nil
	case FormatDjangoPBKDF2, FormatPasslibPBKDF2, FormatWerkzeugPBKDF2, FormatASPNetIdentity:
		d, ok := digestByName(h.Digest)
		if !ok {
			return false, cannotVerify(h.Format, "no digest")
		}
		return l.pbkdf2Equal(h.Format, d.new, password, h.Salt, h.Iterations, h.Sum)
	case FormatArgon2:
		idKey, err := argon2Params(h)
		if err != nil {
			return false, err
		}
		if int64(h.MemoryKiB)*1024 > l.MaxMemoryBytes || h.Iterations > l.MaxArgon2Time || h.Iterations < 1 || h.Threads < 1 {
			return false, tooCostly(h.Format, "parameters beyond the limits")
		}
		if err := argon2Work(h.Iterations, int(h.MemoryKiB), l); err != nil {
			return false, err
		}
		if len(h.Sum) < 4 || len(h.Sum) > l.MaxKeyBytes {
			return false, cannotVerify(h.Format, "hash length %d out of range", len(h.Sum))
		}
		key := idKey(pw, h.Salt, uint32(h.Iterations), h.MemoryKiB, h.Threads, uint32(len(h.Sum)))
		return equal(key, h.Sum), nil
	case FormatScrypt:
		if err := scryptBounds(h.Format, h.N, h.R, h.P, l); err != nil {
			return false, err
		}
		if len(h.Sum) < 1 || len(h.Sum) > l.MaxKeyBytes {
			return false, cannotVerify(h.Format, "hash length %d out of range", len(h.Sum))
		}
		key, err := scrypt.Key(pw, h.Salt, h.N, h.R, h.P, len(h.Sum))
		if err != nil {
			return false, cannotVerify(h.Format, "scrypt refused the parameters")
		}
		return equal(key, h.Sum), nil
	case FormatCrypt:
		switch h.Scheme {
		case "$1$":
			return equal(md5Crypt(pw, h.Salt), h.Sum), nil
		case "$5$", "$6$":
			if h.Iterations < 1000 || h.Iterations > l.MaxIterations {
				return false, tooCostly(h.Format, "%d rounds outside 1000 to the limit of %d", h.Iterations, l.MaxIterations)
			}
			return equal(shaCrypt(pw, h.Salt, h.Iterations, h.Scheme == "$6$"), h.Sum), nil
		}
		return false, cannotVerify(h.Format, "unsupported crypt scheme")
	case FormatPlaintext:
		return equal(pw, h.Sum), nil
	}
	what := "a value in an unknown format"
	if h.Scheme != "" {
		what = h.Scheme
	}
	return false, cannotVerify(h.Format, "Ferry cannot verify %s", what)
}

// argon2Params returns the key function for a supported argon2 hash.
func argon2Params(h Hash) (func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte, error) {
	switch h.Scheme {
	case "argon2id v=19":
		return argon2.IDKey, nil
	case "argon2i v=19":
		return argon2.Key, nil
	}
	return nil, cannotVerify(FormatArgon2, "%s is not supported (argon2id and argon2i version 19 are)", h.Scheme)
}

func bcryptCompare(encoded string, pw []byte) (bool, error) {
	err := bcrypt.CompareHashAndPassword([]byte(encoded), pw)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, malformed(FormatBcrypt, "bcrypt refused the hash: %s", bcryptReason(err))
}

// bcryptReason keeps the library's message free of the hash itself.
func bcryptReason(err error) string {
	var c bcrypt.InvalidCostError
	var p bcrypt.InvalidHashPrefixError
	var v bcrypt.HashVersionTooNewError
	switch {
	case errors.As(err, &c):
		return "cost out of range"
	case errors.As(err, &p):
		return "bad prefix"
	case errors.As(err, &v):
		return "unsupported version"
	case errors.Is(err, bcrypt.ErrHashTooShort):
		return "hash too short"
	}
	return "invalid hash"
}

func (l Limits) pbkdf2Equal(f Format, h func() hash.Hash, password string, salt []byte, iter int, want []byte) (bool, error) {
	if iter < 1 || iter > l.MaxIterations {
		return false, tooCostly(f, "%d iterations outside 1 to the limit of %d", iter, l.MaxIterations)
	}
	if len(want) < 1 || len(want) > l.MaxKeyBytes {
		return false, cannotVerify(f, "key size %d out of range", len(want))
	}
	key, err := pbkdf2.Key(h, password, salt, iter, len(want))
	if err != nil {
		return false, cannotVerify(f, "PBKDF2 refused the parameters")
	}
	return equal(key, want), nil
}

// iteratedDigest is H(salt‖pw) or H(pw‖salt), then H applied n-1 more times.
func iteratedDigest(newHash func() hash.Hash, pw, salt []byte, order string, n int) []byte {
	m := newHash()
	if order == okta.SaltPrefix {
		m.Write(salt)
		m.Write(pw)
	} else {
		m.Write(pw)
		m.Write(salt)
	}
	sum := m.Sum(nil)
	for i := 1; i < n; i++ {
		m.Reset()
		m.Write(sum)
		sum = m.Sum(sum[:0])
	}
	return sum
}

func utf16LE(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 2*len(units))
	for i, u := range units {
		binary.LittleEndian.PutUint16(out[2*i:], u)
	}
	return out
}

// equal compares in constant time (for equal lengths; lengths are public).
func equal(a, b []byte) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare(a, b) == 1
}

// CheckOkta checks an okta.PasswordHash as Okta's API validates it at
// import (algorithm, work factor 1-20, 22+31 bcrypt characters, base64 salt
// and value of the digest's size, salt order, PBKDF2 digest, iterations ≥
// 4096, key size), without any password work. The error's message says
// what is wrong and never holds the salt or value.
func CheckOkta(h okta.PasswordHash) error {
	_, err := checkOkta(h)
	return err
}

// oktaParts is a checked okta.PasswordHash, decoded for verification.
type oktaParts struct {
	digest    digestAlg
	sum, salt []byte
}

func checkOkta(h okta.PasswordHash) (oktaParts, error) {
	var p oktaParts
	switch h.Algorithm {
	case okta.AlgorithmBcrypt:
		if h.WorkFactor < 1 || h.WorkFactor > oktaMaxWorkFactor {
			return p, invalidOkta("workFactor %d is outside 1 to %d", h.WorkFactor, oktaMaxWorkFactor)
		}
		if h.WorkFactor < 4 {
			// Okta's schema allows 1-3, but no bcrypt produces them.
			return p, invalidOkta("workFactor %d is below bcrypt's minimum cost of 4", h.WorkFactor)
		}
		if len(h.Salt) != 22 || !isBcryptB64(h.Salt) {
			return p, invalidOkta("a BCRYPT salt must be 22 Radix-64 characters")
		}
		if len(h.Value) != 31 || !isBcryptB64(h.Value) {
			return p, invalidOkta("a BCRYPT value must be 31 Radix-64 characters")
		}
		return p, nil
	case okta.AlgorithmMD5, okta.AlgorithmSHA1, okta.AlgorithmSHA256, okta.AlgorithmSHA512:
		p.digest, _ = digestByName(h.Algorithm)
		sum, ok := decodeBase64(h.Value)
		if !ok {
			return p, invalidOkta("value is not valid base64")
		}
		if len(sum) != p.digest.size {
			return p, invalidOkta("value is %d bytes, %s gives %d", len(sum), p.digest.name, p.digest.size)
		}
		p.sum = sum
		if h.Salt != "" {
			if p.salt, ok = decodeBase64(h.Salt); !ok {
				return p, invalidOkta("salt is not valid base64")
			}
			if h.SaltOrder != okta.SaltPrefix && h.SaltOrder != okta.SaltPostfix {
				return p, invalidOkta("a salted hash needs saltOrder %s or %s", okta.SaltPrefix, okta.SaltPostfix)
			}
		}
		return p, nil
	case okta.AlgorithmPBKDF2:
		switch h.DigestAlgorithm {
		case okta.DigestSHA256:
			p.digest, _ = digestByName(okta.AlgorithmSHA256)
		case okta.DigestSHA512:
			p.digest, _ = digestByName(okta.AlgorithmSHA512)
		default:
			return p, invalidOkta("PBKDF2 needs digestAlgorithm %s or %s", okta.DigestSHA256, okta.DigestSHA512)
		}
		if h.IterationCount < oktaMinIterations {
			return p, invalidOkta("iterationCount %d is below %d", h.IterationCount, oktaMinIterations)
		}
		sum, ok := decodeBase64(h.Value)
		if !ok {
			return p, invalidOkta("value is not valid base64")
		}
		if h.KeySize < 1 || h.KeySize != len(sum) {
			return p, invalidOkta("keySize %d does not match the %d-byte value", h.KeySize, len(sum))
		}
		p.sum = sum
		salt, ok := decodeBase64(h.Salt)
		if h.Salt != "" && !ok {
			return p, invalidOkta("salt is not valid base64")
		}
		p.salt = salt
		return p, nil
	}
	return p, invalidOkta("algorithm %q is not one Okta imports", h.Algorithm)
}

// VerifyOkta verifies password against an okta.PasswordHash the way Okta
// does on sign-in, after checking the object as Okta's API validates it
// (CheckOkta). The sandbox uses it for sign-in; an invalid object is an
// error, as Okta would have refused it at import.
func VerifyOkta(h okta.PasswordHash, password string) (bool, error) {
	p, err := checkOkta(h)
	if err != nil {
		return false, err
	}
	pw := []byte(password)
	switch h.Algorithm {
	case okta.AlgorithmBcrypt:
		encoded := "$2a$" + string(rune('0'+h.WorkFactor/10)) + string(rune('0'+h.WorkFactor%10)) + "$" + h.Salt + h.Value
		ok, err := bcryptCompare(encoded, pw)
		if err != nil {
			return false, invalidOkta("BCRYPT salt or value is not valid")
		}
		return ok, nil
	case okta.AlgorithmPBKDF2:
		ok, err := DefaultLimits().pbkdf2Equal(FormatUnknown, p.digest.new, password, p.salt, h.IterationCount, p.sum)
		if err != nil {
			return false, invalidOkta("%s", strings.TrimPrefix(err.Error(), string(FormatUnknown)+": "))
		}
		return ok, nil
	}
	return equal(iteratedDigest(p.digest.new, pw, p.salt, h.SaltOrder, 1), p.sum), nil
}
