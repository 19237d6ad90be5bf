package hashes_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/okta"
)

const (
	goodBcryptBody = "qRRx8rli7Lvs2h2CNgCQ2OmVA2NDdomRGoGFrAXDZcno0OZ6CoOU2"
	salt16B64      = "MDEyMzQ1Njc4OWFiY2RlZg" // "0123456789abcdef", unpadded
	key32B64       = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)

func TestMalformedValuesGiveClearErrors(t *testing.T) {
	secret := "SECRETSECRETSECRET"
	identityShort := func() string {
		b := []byte{0x01}
		b = binary.BigEndian.AppendUint32(b, 1)
		b = binary.BigEndian.AppendUint32(b, 10000)
		b = binary.BigEndian.AppendUint32(b, 200) // salt length past the end
		return b64(append(b, make([]byte, 64)...))
	}()
	tests := []struct {
		name string
		src  hashes.Source
		v    hashes.Stored
		kind error
		msg  string
	}{
		{"bcrypt truncated", hashes.Source{}, hashes.Stored{Value: "$2b$10$" + goodBcryptBody[:40]}, hashes.ErrMalformed, "53 characters after the cost, found 40"},
		{"bcrypt too long", hashes.Source{}, hashes.Stored{Value: "$2b$10$" + goodBcryptBody + "x"}, hashes.ErrMalformed, "found 54"},
		{"bcrypt cost out of range", hashes.Source{}, hashes.Stored{Value: "$2b$32$" + goodBcryptBody}, hashes.ErrMalformed, "cost 32 is outside bcrypt's range 4 to 31"},
		{"bcrypt cost too low", hashes.Source{}, hashes.Stored{Value: "$2b$03$" + goodBcryptBody}, hashes.ErrMalformed, "cost 3 is outside"},
		{"bcrypt cost not a number", hashes.Source{}, hashes.Stored{Value: "$2b$1x$" + goodBcryptBody}, hashes.ErrMalformed, "cost is not a number"},
		{"bcrypt one-digit cost", hashes.Source{}, hashes.Stored{Value: "$2b$5$" + goodBcryptBody}, hashes.ErrMalformed, "two digits"},
		{"bcrypt bad version", hashes.Source{}, hashes.Stored{Value: "$2x$10$" + goodBcryptBody}, hashes.ErrMalformed, "version \"$2x$\""},
		{"bcrypt bad alphabet", hashes.Source{}, hashes.Stored{Value: "$2b$10$" + strings.Replace(goodBcryptBody, "q", "+", 1)}, hashes.ErrMalformed, "outside bcrypt's alphabet"},
		{"bcrypt stray salt bits", hashes.Source{}, hashes.Stored{Value: "$2b$10$" + goodBcryptBody[:21] + "P" + goodBcryptBody[22:]}, hashes.ErrMalformed, "22nd salt character"},
		{"sha1 wrong length", hashes.Source{Formats: []hashes.Format{hashes.FormatSHA1}}, hashes.Stored{Value: "abcdef0123"}, hashes.ErrMalformed, "the digest is 10 hex characters, SHA-1 gives 40"},
		{"sha256 digest not base64", hashes.Source{Formats: []hashes.Format{hashes.FormatSHA256}, Default: hashes.FormatSHA256},
			hashes.Stored{Value: "not*base64!"}, hashes.ErrMalformed, "neither hex nor base64"},
		{"sha256 digest wrong size", hashes.Source{Default: hashes.FormatSHA256}, hashes.Stored{Value: b64(make([]byte, 31))}, hashes.ErrMalformed, "the digest is 31 bytes, SHA-256 gives 32"},
		{"salt not base64", hashes.Source{Formats: []hashes.Format{hashes.FormatMD5}, SaltEncoding: hashes.SaltBase64, SaltOrder: okta.SaltPrefix},
			hashes.Stored{Value: strings.Repeat("ab", 16), Salt: "%%%"}, hashes.ErrMalformed, "salt is not valid base64"},
		{"salt not hex", hashes.Source{Formats: []hashes.Format{hashes.FormatMD5}, SaltEncoding: hashes.SaltHex, SaltOrder: okta.SaltPrefix},
			hashes.Stored{Value: strings.Repeat("ab", 16), Salt: "xyz"}, hashes.ErrMalformed, "salt is not valid hex"},
		{"ldap bad base64", hashes.Source{}, hashes.Stored{Value: "{SSHA}" + "!!!!"}, hashes.ErrMalformed, "{SSHA}: the value after the scheme is not valid base64"},
		{"ldap unsalted wrong length", hashes.Source{}, hashes.Stored{Value: "{SHA}" + b64(make([]byte, 21))}, hashes.ErrMalformed, "{SHA}: the digest is 21 bytes, SHA-1 gives 20"},
		{"ldap salted without salt", hashes.Source{}, hashes.Stored{Value: "{SSHA256}" + b64(make([]byte, 32))}, hashes.ErrMalformed, "leave no salt"},
		{"django non-numeric iterations", hashes.Source{}, hashes.Stored{Value: "pbkdf2_sha256$12a$salt$" + b64(make([]byte, 32))}, hashes.ErrMalformed, "iteration count is not a positive number"},
		{"django missing field", hashes.Source{}, hashes.Stored{Value: "pbkdf2_sha256$10000$" + b64(make([]byte, 32))}, hashes.ErrMalformed, "found 3 fields"},
		{"django wrong key size", hashes.Source{}, hashes.Stored{Value: "pbkdf2_sha256$10000$salt$" + b64(make([]byte, 20))}, hashes.ErrMalformed, "20 bytes, SHA-256 gives 32"},
		{"django unknown digest", hashes.Source{}, hashes.Stored{Value: "pbkdf2_sha3$10000$salt$" + b64(make([]byte, 20))}, hashes.ErrMalformed, "unsupported PBKDF2 digest"},
		{"passlib padded", hashes.Source{}, hashes.Stored{Value: "$pbkdf2-sha256$10000$" + salt16B64 + "$" + key32B64 + "="}, hashes.ErrMalformed, "hash is not passlib base64"},
		{"passlib leading zero iterations", hashes.Source{}, hashes.Stored{Value: "$pbkdf2-sha256$010000$" + salt16B64 + "$" + key32B64}, hashes.ErrMalformed, "not a positive number"},
		{"werkzeug without iterations", hashes.Source{}, hashes.Stored{Value: "pbkdf2:sha256$salt$" + strings.Repeat("00", 32)}, hashes.ErrMalformed, "pbkdf2:digest:iterations"},
		{"werkzeug hash not hex", hashes.Source{}, hashes.Stored{Value: "pbkdf2:sha256:5000$salt$zz"}, hashes.ErrMalformed, "not valid hex"},
		{"aspnet identity truncated", hashes.Source{Formats: []hashes.Format{hashes.FormatASPNetIdentity}}, hashes.Stored{Value: identityShort}, hashes.ErrMalformed, "salt length 200 runs past the end"},
		{"argon2 missing parameter", hashes.Source{}, hashes.Stored{Value: "$argon2id$v=19$m=64,t=2$" + salt16B64 + "$" + key32B64}, hashes.ErrMalformed, "parameter p is missing"},
		{"argon2 bad salt", hashes.Source{}, hashes.Stored{Value: "$argon2id$v=19$m=64,t=2,p=1$***$" + key32B64}, hashes.ErrMalformed, "salt is not valid base64"},
		{"argon2 short salt", hashes.Source{}, hashes.Stored{Value: "$argon2id$v=19$m=64,t=2,p=1$YWJj$" + key32B64}, hashes.ErrMalformed, "salt is 3 bytes"},
		{"argon2 truncated", hashes.Source{}, hashes.Stored{Value: "$argon2id$v=19$m=64,t=2,p=1$" + salt16B64}, hashes.ErrMalformed, "expected $argon2id$v=19"},
		{"scrypt N not a power of two", hashes.Source{}, hashes.Stored{Value: "scrypt:1000:8:1$salt$" + strings.Repeat("00", 32)}, hashes.ErrMalformed, "power of two"},
		{"crypt wrong hash length", hashes.Source{}, hashes.Stored{Value: "$6$salt$abc"}, hashes.ErrMalformed, "$6$: the hash is 3 characters, expected 86"},
		{"crypt rounds below minimum", hashes.Source{}, hashes.Stored{Value: "$5$rounds=10$salt$" + strings.Repeat("a", 43)}, hashes.ErrMalformed, "rounds 10 is outside"},
		{"crypt rounds not a number", hashes.Source{}, hashes.Stored{Value: "$5$rounds=many$salt$" + strings.Repeat("a", 43)}, hashes.ErrMalformed, "rounds is not a number"},
		{"md5-crypt salt too long", hashes.Source{}, hashes.Stored{Value: "$1$123456789$" + strings.Repeat("a", 22)}, hashes.ErrMalformed, "at most 8"},
		{"membership without salt", hashes.Source{Formats: []hashes.Format{hashes.FormatASPNetMembership}}, hashes.Stored{Value: b64(make([]byte, 20))}, hashes.ErrMalformed, "no salt"},
		{"format not allowed", hashes.Source{Formats: []hashes.Format{hashes.FormatSHA1}}, hashes.Stored{Value: "$2b$10$" + goodBcryptBody}, hashes.ErrNotAllowed, "looks like bcrypt"},
		{"salt without encoding", hashes.Source{Formats: []hashes.Format{hashes.FormatMD5}, SaltOrder: okta.SaltPrefix},
			hashes.Stored{Value: strings.Repeat("ab", 16), Salt: "s"}, hashes.ErrSourceConfig, "how it is encoded"},
		{"salt without order", hashes.Source{Formats: []hashes.Format{hashes.FormatMD5}, SaltEncoding: hashes.SaltText},
			hashes.Stored{Value: strings.Repeat("ab", 16), Salt: "s"}, hashes.ErrSourceConfig, "PREFIX"},
		{"plaintext empty", hashes.Source{Formats: []hashes.Format{hashes.FormatPlaintext}}, hashes.Stored{Value: ""}, hashes.ErrMalformed, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.src.Convert(tt.v)
			assertErr(t, err, tt.kind, tt.msg)
			if strings.Contains(err.Error(), secret) || (len(tt.v.Value) > 12 && strings.Contains(err.Error(), tt.v.Value)) {
				t.Fatalf("error %q repeats the stored value", err)
			}
		})
	}
}

func TestAbsurdParametersAreRefused(t *testing.T) {
	tests := []struct {
		name, value string
		msg         string
	}{
		{"pbkdf2 iterations", "pbkdf2_sha256$10000001$salt$" + b64(make([]byte, 32)), "10000001 iterations exceed the limit of 10000000"},
		{"passlib iterations", "$pbkdf2-sha512$999999999$" + salt16B64 + "$" + ab64(make([]byte, 64)), "exceed the limit"},
		{"aspnet identity iterations", identityV3(1, 4_000_000_000, make([]byte, 16), make([]byte, 32)), "4000000000 iterations exceed"},
		{"argon2 memory", "$argon2id$v=19$m=2097152,t=1,p=1$" + salt16B64 + "$" + key32B64, "memory 2097152 KiB exceeds the limit of 1048576 KiB"},
		{"argon2 time", "$argon2id$v=19$m=64,t=100000,p=1$" + salt16B64 + "$" + key32B64, "time cost 100000 exceeds"},
		{"scrypt N", "$scrypt$ln=30,r=8,p=1$" + salt16B64 + "$" + key32B64, "MiB limit"},
		{"scrypt p", "$scrypt$ln=10,r=8,p=10000$" + salt16B64 + "$" + key32B64, "would process more than 4096 MiB"},
		{"argon2 time × memory", "$argon2id$v=19$m=1048576,t=5,p=1$" + salt16B64 + "$" + key32B64, "would process more than 4096 MiB"},
		{"werkzeug scrypt memory", "scrypt:1048576:16:1$salt$" + strings.Repeat("00", 32), "MiB limit"},
		{"sha-crypt rounds", "$6$rounds=999999999$salt$" + strings.Repeat("a", 86), "999999999 rounds exceed the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hashes.Source{}.Convert(hashes.Stored{Value: tt.value})
			assertErr(t, err, hashes.ErrTooCostly, tt.msg)
		})
	}
	t.Run("iterated digest", func(t *testing.T) {
		src := hashes.Source{Formats: []hashes.Format{hashes.FormatIteratedDigest}, Iterations: 20_000_000}
		_, err := src.Convert(hashes.Stored{Value: strings.Repeat("ab", 20)})
		assertErr(t, err, hashes.ErrTooCostly, "20000000 iterations exceed")
	})
	t.Run("a stricter source limit", func(t *testing.T) {
		lim := hashes.DefaultLimits()
		lim.MaxIterations = 1000
		_, err := hashes.Source{Limits: &lim}.Convert(hashes.Stored{Value: "pbkdf2_sha256$4096$salt$" + b64(make([]byte, 32))})
		assertErr(t, err, hashes.ErrTooCostly, "4096 iterations exceed the limit of 1000")
	})
}

func TestInvalidOktaHashes(t *testing.T) {
	good := okta.PasswordHash{Algorithm: okta.AlgorithmSHA1, Salt: "UEO3wsAsgzQ=", SaltOrder: okta.SaltPostfix, Value: "xjrauE6J6kbjcvMjWSSc+PsBBls="}
	tests := []struct {
		name string
		h    okta.PasswordHash
		msg  string
	}{
		{"unknown algorithm", okta.PasswordHash{Algorithm: "SHA-384", Value: "x"}, "not one Okta imports"},
		{"bcrypt work factor 21", okta.PasswordHash{Algorithm: okta.AlgorithmBcrypt, WorkFactor: 21, Salt: goodBcryptBody[:22], Value: goodBcryptBody[22:]}, "workFactor 21 is outside 1 to 20"},
		{"bcrypt work factor 0", okta.PasswordHash{Algorithm: okta.AlgorithmBcrypt, Salt: goodBcryptBody[:22], Value: goodBcryptBody[22:]}, "workFactor 0"},
		{"bcrypt short salt", okta.PasswordHash{Algorithm: okta.AlgorithmBcrypt, WorkFactor: 10, Salt: goodBcryptBody[:21], Value: goodBcryptBody[22:]}, "22 Radix-64"},
		{"bcrypt short value", okta.PasswordHash{Algorithm: okta.AlgorithmBcrypt, WorkFactor: 10, Salt: goodBcryptBody[:22], Value: goodBcryptBody[23:]}, "31 Radix-64"},
		{"salted without order", okta.PasswordHash{Algorithm: good.Algorithm, Salt: good.Salt, Value: good.Value}, "saltOrder"},
		{"salt not base64", okta.PasswordHash{Algorithm: good.Algorithm, Salt: "***", SaltOrder: okta.SaltPrefix, Value: good.Value}, "salt is not valid base64"},
		{"value hex instead of base64", okta.PasswordHash{Algorithm: okta.AlgorithmSHA1, Value: "c6dadab84e89ea46e372f3235a249cf8fb01065b"}, "value is 30 bytes, SHA-1 gives 20"},
		{"pbkdf2 without digest", okta.PasswordHash{Algorithm: okta.AlgorithmPBKDF2, IterationCount: 4096, KeySize: 32, Salt: "c2FsdA==", Value: b64(make([]byte, 32))}, "digestAlgorithm"},
		{"pbkdf2 few iterations", okta.PasswordHash{Algorithm: okta.AlgorithmPBKDF2, DigestAlgorithm: okta.DigestSHA256, IterationCount: 4095, KeySize: 32, Salt: "c2FsdA==", Value: b64(make([]byte, 32))}, "iterationCount 4095 is below 4096"},
		{"pbkdf2 key size mismatch", okta.PasswordHash{Algorithm: okta.AlgorithmPBKDF2, DigestAlgorithm: okta.DigestSHA256, IterationCount: 4096, KeySize: 64, Salt: "c2FsdA==", Value: b64(make([]byte, 32))}, "keySize 64 does not match the 32-byte value"},
		{"pbkdf2 absurd iterations", okta.PasswordHash{Algorithm: okta.AlgorithmPBKDF2, DigestAlgorithm: okta.DigestSHA256, IterationCount: 1 << 30, KeySize: 32, Salt: "c2FsdA==", Value: b64(make([]byte, 32))}, "outside 1 to the limit of 10000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := hashes.VerifyOkta(tt.h, "Abcd1234")
			if ok {
				t.Fatal("an invalid Okta hash verified")
			}
			assertErr(t, err, hashes.ErrInvalidOktaHash, tt.msg)
		})
	}
}

func TestSourceSettingsAreValidated(t *testing.T) {
	tests := []struct {
		name string
		src  hashes.Source
		msg  string
	}{
		{"unknown format", hashes.Source{Formats: []hashes.Format{"sha3"}}, `unknown format "sha3"`},
		{"default outside formats", hashes.Source{Formats: []hashes.Format{hashes.FormatSHA1}, Default: hashes.FormatBcrypt}, "not among the source's formats"},
		{"salt encoding", hashes.Source{SaltEncoding: "utf16"}, "use text, base64 or hex"},
		{"salt order", hashes.Source{SaltOrder: "BEFORE"}, "use PREFIX or POSTFIX"},
		{"iterated without iterations", hashes.Source{Formats: []hashes.Format{hashes.FormatIteratedDigest}}, "iterations of at least 2"},
		{"limits", hashes.Source{Limits: &hashes.Limits{}}, "limits must all be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErr(t, tt.src.Validate(), hashes.ErrSourceConfig, tt.msg)
			_, err := tt.src.Convert(hashes.Stored{Value: "$2b$10$" + goodBcryptBody})
			assertErr(t, err, hashes.ErrSourceConfig, tt.msg)
		})
	}
}
