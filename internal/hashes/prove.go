package hashes

import (
	"errors"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// Proof is the outcome of checking a known password (a test account's)
// against one stored value before any load.
type Proof struct {
	Result Result
	// Legacy: the password verifies against the value as the source's
	// settings read it.
	Legacy bool
	// Okta: the password verifies against the converted Okta hash, as Okta
	// will check it (only for WayImport).
	Okta bool
	// Fits lists the salt settings under which the password does verify
	// when the source's own settings do not (or are missing): the fix to
	// make to the source.
	Fits []SaltSetting
}

// SaltSetting is one way to read a separate salt.
type SaltSetting struct {
	Encoding SaltEncoding
	Order    string
}

// Proven reports whether the known password is accepted end to end: by
// the legacy reading and, for an import, by Okta's.
func (p Proof) Proven() bool {
	return p.Legacy && (p.Result.Way != WayImport || p.Okta)
}

// Prove checks a known password against one stored value with the source's
// settings, and for an importable value also against the converted Okta
// hash. When the password does not verify and the value has a separate salt,
// it tries every salt encoding and order and reports those that fit. The
// error is for values that cannot be checked at all; a wrong password or
// wrong settings give a Proof that is not Proven.
func (s Source) Prove(v Stored, password string) (Proof, error) {
	var p Proof
	r, err := s.Convert(v)
	switch {
	case err == nil:
		p.Result = r
		ok, err := Verify(r.Hash, password)
		if err != nil {
			return p, err
		}
		p.Legacy = ok
		if r.Way == WayImport {
			if p.Okta, err = VerifyOkta(*r.Okta, password); err != nil {
				return p, err
			}
			if p.Okta != p.Legacy {
				// Never expected: the conversion would lose the user.
				return p, &Error{Kind: ErrMalformed, Format: r.Hash.Format,
					Msg: "the converted Okta hash does not agree with the legacy verification; do not import"}
			}
		}
	case errors.Is(err, ErrSourceConfig) && v.Salt != "":
	default:
		return p, err
	}
	if p.Legacy || v.Salt == "" {
		return p, nil
	}
	for _, enc := range []SaltEncoding{SaltText, SaltBase64, SaltHex} {
		for _, order := range []string{okta.SaltPrefix, okta.SaltPostfix} {
			alt := s
			alt.SaltEncoding, alt.SaltOrder = enc, order
			r2, err := alt.Convert(v)
			if err != nil {
				continue
			}
			if ok, err := Verify(r2.Hash, password); err == nil && ok {
				p.Fits = append(p.Fits, SaltSetting{Encoding: enc, Order: order})
			}
		}
	}
	return p, nil
}
