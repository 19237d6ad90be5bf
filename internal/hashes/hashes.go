// Package hashes reads the password hashes legacy systems store, decides per
// value whether Okta can import it, converts what it can into Okta's hash
// object (okta.PasswordHash) and verifies passwords against every format it
// knows, so that Ferry can prove a conversion before a load and serve its own
// password import hook for the formats Okta cannot import.
//
// A wrong conversion is silent until the user tries to sign in and cannot, so
// the package is strict: a value is importable only when its shape is
// unambiguous for the source's settings and every parameter is one Okta
// accepts; everything else is reported with a reason and the way forward.
// Nothing here logs, and no error or String method includes a password, a
// digest or a salt.
package hashes

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// Format names a family of stored password values.
type Format string

// The formats Ferry knows. Names are stable: they are stored in source
// settings.
const (
	// FormatBcrypt is bcrypt's modular-crypt string $2a$/$2b$/$2y$.
	FormatBcrypt Format = "bcrypt"
	// FormatMD5, FormatSHA1, FormatSHA256 and FormatSHA512 are one digest of
	// the password, optionally with a salt (from the source's salt column)
	// before or after it; the digest is stored in hex or base64.
	FormatMD5    Format = "md5"
	FormatSHA1   Format = "sha1"
	FormatSHA256 Format = "sha256"
	FormatSHA512 Format = "sha512"
	// FormatLDAP is an RFC 2307 style {SCHEME} value: {SHA}, {SSHA},
	// {SHA256}, {SSHA256}, {SHA512}, {SSHA512}, {MD5}, {SMD5}.
	FormatLDAP Format = "ldap"
	// FormatDjangoPBKDF2 is Django's pbkdf2_sha256$iterations$salt$hash
	// (and pbkdf2_sha1).
	FormatDjangoPBKDF2 Format = "django-pbkdf2"
	// FormatPasslibPBKDF2 is passlib's $pbkdf2-sha256$rounds$salt$hash
	// (and $pbkdf2-sha512$, $pbkdf2$ for SHA-1).
	FormatPasslibPBKDF2 Format = "passlib-pbkdf2"
	// FormatWerkzeugPBKDF2 is Werkzeug's pbkdf2:sha256:iterations$salt$hex.
	FormatWerkzeugPBKDF2 Format = "werkzeug-pbkdf2"
	// FormatASPNetIdentity is ASP.NET Identity's base64 blob (v3: 0x01
	// marker; v2: 0x00 marker).
	FormatASPNetIdentity Format = "aspnet-identity"
	// FormatASPNetMembership is the classic ASP.NET SqlMembershipProvider
	// hash: a digest of the salt bytes and the UTF-16LE password.
	FormatASPNetMembership Format = "aspnet-membership"
	// FormatArgon2 is the PHC string $argon2id$ / $argon2i$ / $argon2d$.
	FormatArgon2 Format = "argon2"
	// FormatScrypt is passlib's $scrypt$ln=…,r=…,p=…$salt$hash or Werkzeug's
	// scrypt:N:r:p$salt$hex.
	FormatScrypt Format = "scrypt"
	// FormatCrypt is crypt(3) MD5-crypt $1$, SHA-256-crypt $5$ and
	// SHA-512-crypt $6$, bare or behind an LDAP {CRYPT} prefix.
	FormatCrypt Format = "crypt"
	// FormatIteratedDigest is a salted digest applied Source.Iterations times
	// (digest of salt and password, then digest of the digest).
	FormatIteratedDigest Format = "iterated-digest"
	// FormatPlaintext is a password stored as it is (or LDAP {CLEARTEXT}).
	FormatPlaintext Format = "plaintext"
	// FormatUnknown is a value that matches no format the source allows.
	FormatUnknown Format = "unknown"
)

// allFormats lists the formats detection can tell from a value alone, in the
// order it prefers them when a source does not list its own.
var allFormats = []Format{
	FormatBcrypt, FormatCrypt, FormatArgon2, FormatScrypt, FormatLDAP,
	FormatDjangoPBKDF2, FormatPasslibPBKDF2, FormatWerkzeugPBKDF2,
	FormatASPNetIdentity,
	FormatMD5, FormatSHA1, FormatSHA256, FormatSHA512,
}

// Formats returns every format name a source may list.
func Formats() []Format {
	out := append([]Format(nil), allFormats...)
	return append(out, FormatASPNetMembership, FormatIteratedDigest, FormatPlaintext)
}

func knownFormat(f Format) bool {
	for _, k := range Formats() {
		if k == f {
			return true
		}
	}
	return false
}

// SaltEncoding says how a source's stored salt becomes the bytes that were
// hashed. How a salt is stored does not tell: some systems hash the decoded
// bytes, others the salt's text as stored. Prove settles it with a known
// password.
type SaltEncoding string

const (
	// SaltText: the salt's text as stored (its UTF-8 bytes) was hashed.
	SaltText SaltEncoding = "text"
	// SaltBase64: the stored salt is base64; its decoded bytes were hashed.
	SaltBase64 SaltEncoding = "base64"
	// SaltHex: the stored salt is hex; its decoded bytes were hashed.
	SaltHex SaltEncoding = "hex"
)

// Way is the way forward for one stored value.
type Way string

const (
	// WayImport: Okta imports the converted hash; the user signs in with
	// their current password from the first day.
	WayImport Way = "import"
	// WayHook: Okta cannot import the hash, but Ferry's password import
	// hook can verify the password at the user's first sign-in.
	WayHook Way = "hook"
	// WayReset: neither Okta nor Ferry's hook can verify the password; the
	// user must set a new one (password reset).
	WayReset Way = "reset"
)

// Source is the per-source setting that tells how to read its values.
type Source struct {
	// Formats the source may hold, in order of preference when a value's
	// shape fits several. Empty means every format that detection can
	// tell from the value alone: not plaintext (unless marked {CLEARTEXT}),
	// iterated digests or ASP.NET Membership, which must be listed or
	// declared.
	Formats []Format
	// Default is the declared format of the source; detection reports a
	// value that is in another format.
	Default Format
	// SaltEncoding turns the stored salt (Stored.Salt) into the hashed
	// bytes. Required when values have a separate salt.
	SaltEncoding SaltEncoding
	// SaltOrder is okta.SaltPrefix (salt before the password) or
	// okta.SaltPostfix, for digests with a separate salt.
	SaltOrder string
	// Iterations is the number of digest applications of
	// FormatIteratedDigest (at least 2).
	Iterations int
	// Pepper says the legacy system mixes a secret (a pepper) into every
	// hash; such hashes can be neither imported nor verified by Ferry.
	Pepper bool
	// Limits bounds the work one value may cost; nil means DefaultLimits().
	Limits *Limits
}

// Stored is one user's stored password value as read from a source.
type Stored struct {
	// Value is the stored password hash (or password, for plaintext).
	Value string
	// Salt is a separate salt column, when the source has one.
	Salt string
}

// Validate checks the source settings.
func (s Source) Validate() error {
	for _, f := range s.Formats {
		if !knownFormat(f) {
			return configErr("unknown format %q in the source's formats", f)
		}
	}
	if s.Default != "" {
		if !knownFormat(s.Default) {
			return configErr("unknown default format %q", s.Default)
		}
		if len(s.Formats) > 0 && !contains(s.Formats, s.Default) {
			return configErr("default format %q is not among the source's formats", s.Default)
		}
	}
	switch s.SaltEncoding {
	case "", SaltText, SaltBase64, SaltHex:
	default:
		return configErr("salt encoding %q: use text, base64 or hex", s.SaltEncoding)
	}
	switch s.SaltOrder {
	case "", okta.SaltPrefix, okta.SaltPostfix:
	default:
		return configErr("salt order %q: use %s or %s", s.SaltOrder, okta.SaltPrefix, okta.SaltPostfix)
	}
	if s.Iterations < 0 {
		return configErr("iterations %d is negative", s.Iterations)
	}
	if s.lists(FormatIteratedDigest) && s.Iterations < 2 {
		return configErr("an iterated digest needs iterations of at least 2 (1 is a plain salted digest)")
	}
	if s.Limits != nil {
		if err := s.Limits.validate(); err != nil {
			return err
		}
	}
	return nil
}

// lists reports whether the source allows format f.
func (s Source) lists(f Format) bool {
	if len(s.Formats) == 0 {
		return s.Default == f || contains(allFormats, f)
	}
	return contains(s.Formats, f)
}

func (s Source) limits() Limits {
	if s.Limits != nil {
		return *s.Limits
	}
	return DefaultLimits()
}

func contains(list []Format, f Format) bool {
	for _, x := range list {
		if x == f {
			return true
		}
	}
	return false
}

// Errors, matched with errors.Is. The message of the returned error says what
// is wrong with the value; the caller adds which record it is.
var (
	// ErrMalformed: the value claims a format but breaks its rules.
	ErrMalformed = errors.New("malformed password hash")
	// ErrTooCostly: a parameter is beyond the work Ferry accepts for one
	// value.
	ErrTooCostly = errors.New("password hash parameters beyond the allowed work")
	// ErrNotAllowed: the value is in a format the source does not list.
	ErrNotAllowed = errors.New("password hash format not allowed for this source")
	// ErrUnrecognised: the value matches no known format.
	ErrUnrecognised = errors.New("unrecognised password hash")
	// ErrCannotVerify: Ferry has no way to verify this value (pepper,
	// unsupported variant).
	ErrCannotVerify = errors.New("password hash cannot be verified")
	// ErrSourceConfig: the source settings are incomplete or wrong.
	ErrSourceConfig = errors.New("password hash source settings")
	// ErrInvalidOktaHash: an okta.PasswordHash that Okta would refuse.
	ErrInvalidOktaHash = errors.New("invalid Okta password hash")
)

// Error is the error type of this package: a kind (one of the Err values),
// the format concerned and a message that never includes secrets.
type Error struct {
	Kind   error
	Format Format
	Msg    string
}

func (e *Error) Error() string {
	if e.Format != "" {
		return string(e.Format) + ": " + e.Msg
	}
	return e.Msg
}

// Unwrap returns the kind, so that errors.Is(err, ErrMalformed) works.
func (e *Error) Unwrap() error { return e.Kind }

func malformed(f Format, format string, args ...any) error {
	return &Error{Kind: ErrMalformed, Format: f, Msg: fmt.Sprintf(format, args...)}
}

func tooCostly(f Format, format string, args ...any) error {
	return &Error{Kind: ErrTooCostly, Format: f, Msg: fmt.Sprintf(format, args...)}
}

func cannotVerify(f Format, format string, args ...any) error {
	return &Error{Kind: ErrCannotVerify, Format: f, Msg: fmt.Sprintf(format, args...)}
}

func configErr(format string, args ...any) error {
	return &Error{Kind: ErrSourceConfig, Msg: fmt.Sprintf(format, args...)}
}

func invalidOkta(format string, args ...any) error {
	return &Error{Kind: ErrInvalidOktaHash, Msg: "okta hash: " + fmt.Sprintf(format, args...)}
}

// Limits bounds the work a single value may cost, so that hostile or broken
// data cannot stall a worker. Parsing refuses values beyond them.
type Limits struct {
	// MaxIterations bounds PBKDF2 iterations, iterated digests and
	// SHA-crypt rounds.
	MaxIterations int
	// MaxBcryptCost bounds bcrypt's cost for verification (each step
	// doubles the time; cost 20 takes about a minute).
	MaxBcryptCost int
	// MaxMemoryBytes bounds argon2's and scrypt's memory.
	MaxMemoryBytes int64
	// MaxArgon2Time bounds argon2's passes.
	MaxArgon2Time int
	// MaxKeyBytes bounds derived key, digest and salt sizes.
	MaxKeyBytes int
}

// DefaultLimits returns the limits used when a source sets none.
func DefaultLimits() Limits {
	return Limits{
		MaxIterations:  10_000_000,
		MaxBcryptCost:  20,
		MaxMemoryBytes: 1 << 30,
		MaxArgon2Time:  1000,
		MaxKeyBytes:    1024,
	}
}

func (l Limits) validate() error {
	if l.MaxIterations < 1 || l.MaxBcryptCost < 4 || l.MaxMemoryBytes < 1 || l.MaxArgon2Time < 1 || l.MaxKeyBytes < 16 {
		return configErr("limits must all be set (iterations ≥ 1, bcrypt cost ≥ 4, memory ≥ 1, argon2 time ≥ 1, key bytes ≥ 16)")
	}
	return nil
}

// Hash is one parsed stored value. It holds secrets (digests, salts, and for
// plaintext the password): its String and GoString methods show only the
// format and parameters.
type Hash struct {
	Format Format
	// Scheme is the value's own marker, for people: "$2b$", "{SSHA256}",
	// "pbkdf2_sha256", "argon2id", "$6$", "v3" …
	Scheme string
	// Digest is the hash function: okta.AlgorithmMD5, AlgorithmSHA1,
	// AlgorithmSHA256 or AlgorithmSHA512 (for PBKDF2 its PRF; empty for
	// bcrypt, argon2, scrypt).
	Digest string
	// Salt is the bytes that were hashed with the password.
	Salt []byte
	// SaltOrder is okta.SaltPrefix or okta.SaltPostfix for salted digests.
	SaltOrder string
	// Sum is the digest or derived key. For bcrypt and crypt(3) it is the
	// encoded hash text.
	Sum []byte
	// Iterations: PBKDF2 iterations, iterated digest applications,
	// SHA-crypt rounds, argon2 passes.
	Iterations int
	// Cost is bcrypt's cost.
	Cost int
	// MemoryKiB and Threads are argon2's; N, R and P are scrypt's.
	MemoryKiB uint32
	Threads   uint8
	N, R, P   int
	// Peppered is set when the source mixes a pepper into its hashes.
	Peppered bool
	// Encoded is the stored value as text, kept for bcrypt and crypt(3)
	// whose verification recomputes it.
	encoded string
	// roundsSet: a SHA-crypt value said rounds= explicitly.
	roundsSet bool
}

// String describes the hash without its secrets.
func (h Hash) String() string {
	var b strings.Builder
	b.WriteString(string(h.Format))
	if h.Scheme != "" {
		b.WriteString(" " + h.Scheme)
	}
	if h.Digest != "" {
		b.WriteString(" " + h.Digest)
	}
	if h.Cost > 0 {
		fmt.Fprintf(&b, " cost=%d", h.Cost)
	}
	if h.Iterations > 0 {
		fmt.Fprintf(&b, " iterations=%d", h.Iterations)
	}
	if h.MemoryKiB > 0 {
		fmt.Fprintf(&b, " m=%d p=%d", h.MemoryKiB, h.Threads)
	}
	if h.N > 0 {
		fmt.Fprintf(&b, " N=%d r=%d p=%d", h.N, h.R, h.P)
	}
	if len(h.Salt) > 0 {
		fmt.Fprintf(&b, " salt=%d bytes", len(h.Salt))
		if h.SaltOrder != "" {
			b.WriteString(" " + h.SaltOrder)
		}
	}
	if h.Peppered {
		b.WriteString(" peppered")
	}
	return b.String()
}

// GoString keeps %#v from printing secrets.
func (h Hash) GoString() string { return "hashes.Hash{" + h.String() + "}" }

// Result is the verdict on one stored value.
type Result struct {
	Hash Hash
	// Okta is the hash to send, set only when Way is WayImport.
	Okta *okta.PasswordHash
	Way  Way
	// Reason says, when Way is not WayImport, why Okta cannot import the
	// value; it never holds secrets.
	Reason string
	// Disagrees is set when the value's format is not the source's
	// declared default; Note says how.
	Disagrees bool
	Note      string
}
