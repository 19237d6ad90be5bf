package hashes

import (
	"fmt"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// Okta's bounds on imported hashes (NOTES §1, PasswordCredentialHash).
const (
	oktaMaxWorkFactor   = 20
	oktaMinIterations   = 4096
	hookTimeoutSeconds  = 3
	bcryptCost20Seconds = 60 // one verification at cost 20, roughly
)

// Convert detects, parses and judges one stored value: the Okta hash to send
// when Okta can import it, otherwise the way forward and the reason. It
// returns an error only for a malformed value, a value beyond the limits, a
// format the source does not allow, or incomplete source settings.
func (s Source) Convert(v Stored) (Result, error) {
	h, note, err := s.parse(v)
	if err != nil {
		return Result{}, err
	}
	r := Judge(h)
	r.Note = note
	r.Disagrees = s.Default != "" && h.Format != s.Default
	return r, nil
}

// Judge decides what Okta can do with a parsed hash.
func Judge(h Hash) Result {
	r := Result{Hash: h}
	hook := func(format string, args ...any) Result {
		r.Way, r.Reason = WayHook, fmt.Sprintf(format, args...)
		return r
	}
	reset := func(format string, args ...any) Result {
		r.Way, r.Reason = WayReset, fmt.Sprintf(format, args...)
		return r
	}
	if h.Peppered {
		return reset("the source mixes a secret pepper into its hashes: neither Okta nor Ferry can recompute them; " +
			"reset the password, or run a hook that calls the legacy system's own verification")
	}
	switch h.Format {
	case FormatBcrypt:
		if h.Cost > oktaMaxWorkFactor {
			// The hook is no way out: one check takes longer than Okta waits.
			return reset("bcrypt cost %d is above Okta's maximum work factor of %d, and one check takes about %d s "+
				"where Okta's password import hook waits %d s: reset these users' passwords",
				h.Cost, oktaMaxWorkFactor, bcryptCost20Seconds<<(h.Cost-20), hookTimeoutSeconds)
		}
		r.Okta = &okta.PasswordHash{Algorithm: okta.AlgorithmBcrypt, WorkFactor: h.Cost, Salt: string(h.Salt), Value: string(h.Sum)}
	case FormatMD5, FormatSHA1, FormatSHA256, FormatSHA512:
		r.Okta = digestOkta(h)
	case FormatLDAP:
		if h.Digest == algSHA384 {
			return hook("%s uses SHA-384, which Okta does not import; Ferry's hook can verify it", h.Scheme)
		}
		r.Okta = digestOkta(h)
	case FormatDjangoPBKDF2, FormatPasslibPBKDF2, FormatWerkzeugPBKDF2, FormatASPNetIdentity:
		switch {
		case h.Digest == okta.AlgorithmSHA1:
			return hook("PBKDF2 with HMAC-SHA1: Okta imports PBKDF2 only with SHA-256 or SHA-512; Ferry's hook can verify it")
		case h.Iterations < oktaMinIterations:
			return hook("PBKDF2 with %d iterations: Okta requires at least %d; Ferry's hook can verify it", h.Iterations, oktaMinIterations)
		}
		digest := okta.DigestSHA256
		if h.Digest == okta.AlgorithmSHA512 {
			digest = okta.DigestSHA512
		}
		r.Okta = &okta.PasswordHash{Algorithm: okta.AlgorithmPBKDF2, DigestAlgorithm: digest, IterationCount: h.Iterations,
			KeySize: len(h.Sum), Salt: b64(h.Salt), Value: b64(h.Sum)}
	case FormatASPNetMembership:
		return hook("ASP.NET Membership hashes the password as UTF-16LE after the salt bytes; Okta hashes UTF-8, so the " +
			"import would look valid and every sign-in would fail; Ferry's hook can verify it")
	case FormatIteratedDigest:
		return hook("%s applied %d times: Okta imports a single digest only; Ferry's hook can verify it", h.Digest, h.Iterations)
	case FormatArgon2:
		if _, err := argon2Params(h); err != nil {
			return reset("%s: Ferry's verifier supports argon2id and argon2i version 19 only; reset the password", h.Scheme)
		}
		return hook("argon2 is not among the algorithms Okta imports; Ferry's hook can verify it")
	case FormatScrypt:
		return hook("scrypt is not among the algorithms Okta imports; Ferry's hook can verify it")
	case FormatCrypt:
		return hook("crypt(3) %s (%s-based) is not among the algorithms Okta imports; Ferry's hook can verify it", h.Scheme, h.Digest)
	case FormatPlaintext:
		return hook("a plaintext password is not a hash Okta imports; Ferry's hook can verify it (or send it as the " +
			"password value at creation, where Okta's password policy applies, or reset)")
	default:
		what := "the value matches no format Ferry knows"
		if h.Scheme != "" {
			what = fmt.Sprintf("%s is not a scheme Ferry can verify", h.Scheme)
		}
		return reset("%s: reset the password (or run a hook that calls the legacy system's own verification)", what)
	}
	r.Way = WayImport
	return r
}

func digestOkta(h Hash) *okta.PasswordHash {
	p := &okta.PasswordHash{Algorithm: h.Digest, Value: b64(h.Sum)}
	if len(h.Salt) > 0 {
		p.Salt, p.SaltOrder = b64(h.Salt), h.SaltOrder
	}
	return p
}
