// Package okta is Ferry's client of the Okta Management API: the calls a
// migration makes (users, groups, schemas, inline hooks), written from Okta's
// OpenAPI spec with net/http and encoding/json, reading every response's
// rate-limit headers and parsing Okta's error bodies.
//
// The client does not pace, retry or log. Okta's limits are per org and per
// endpoint bucket and are shared with everything else using the org, so the
// pacing belongs to the loader, which sees every worker: each call returns a
// Response (and each failure an *Error) carrying X-Rate-Limit-Limit,
// -Remaining, -Reset and the server's Date, and the Is* helpers classify
// failures (IsRateLimited, IsConcurrencyLimited, IsDuplicateLogin,
// IsValidation, IsTemporary …). A request is bounded by Config.Timeout and
// by its ctx. Tokens, passwords, hashes and hook secrets never appear in
// error messages or in the fmt/slog forms of the client, its Config or the
// request types; error messages name the operation and the spec's path
// template rather than the actual URL, which can hold a login.
package okta

// PasswordHash is a legacy password hash as Okta imports it
// (credentials.password.hash, the spec's PasswordCredentialHash). Okta
// accepts it only when the user is created, or updated while STAGED.
type PasswordHash struct {
	// Algorithm is one of the Algorithm* constants.
	Algorithm string `json:"algorithm"`
	// WorkFactor is BCRYPT's cost, 1 to 20.
	WorkFactor int `json:"workFactor,omitempty"`
	// Salt: BCRYPT's 22 Radix-64 characters, or the base64 of the salt bytes.
	Salt string `json:"salt,omitempty"`
	// SaltOrder is SaltPrefix or SaltPostfix: where the salt went, relative to
	// the password, before hashing (salted SHA and MD5).
	SaltOrder string `json:"saltOrder,omitempty"`
	// Value: BCRYPT's 31 Radix-64 characters, or the base64 of the raw digest.
	Value string `json:"value"`
	// DigestAlgorithm, IterationCount (at least 4096) and KeySize (bytes)
	// describe PBKDF2.
	DigestAlgorithm string `json:"digestAlgorithm,omitempty"`
	IterationCount  int    `json:"iterationCount,omitempty"`
	KeySize         int    `json:"keySize,omitempty"`
}

// The hash algorithms Okta imports (PasswordCredentialHashAlgorithm).
const (
	AlgorithmBcrypt = "BCRYPT"
	AlgorithmSHA512 = "SHA-512"
	AlgorithmSHA256 = "SHA-256"
	AlgorithmSHA1   = "SHA-1"
	AlgorithmMD5    = "MD5"
	AlgorithmPBKDF2 = "PBKDF2"
)

// Salt orders and PBKDF2 digests.
const (
	SaltPrefix  = "PREFIX"
	SaltPostfix = "POSTFIX"

	DigestSHA256 = "SHA256_HMAC"
	DigestSHA512 = "SHA512_HMAC"
)
