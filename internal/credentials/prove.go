package credentials

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/hashes"
)

// ActionProve is the audit action of a proof: only its outcome is kept.
const ActionProve = "prove"

// MaxPasswordLen bounds a known password (bcrypt reads 72 bytes; nobody's
// test password is longer than this).
const MaxPasswordLen = 1024

// Outcome is what a proof found, without the password or the stored value.
type Outcome struct {
	RecordID int64 `json:"recordId"`
	Position int64 `json:"position"`
	// Proven: the password verifies as the settings read the value and,
	// for an import, against the Okta hash Ferry would send.
	Proven bool   `json:"proven"`
	Format string `json:"format"`
	// Way is import, hook or reset ("" when the value could not be read).
	Way string `json:"way"`
	// Legacy and Okta are the two verifications (see hashes.Proof).
	Legacy bool `json:"legacy"`
	Okta   bool `json:"okta"`
	// Reason says why Okta cannot import the value, if it cannot.
	Reason string `json:"reason,omitempty"`
	// Fits lists the salt settings that do verify when the saved ones do
	// not: the change to make.
	Fits []Fit `json:"fits"`
	// Message sums the outcome up for people.
	Message string `json:"message"`
}

// Fit is one salt setting under which the password verifies.
type Fit struct {
	SaltEncoding string `json:"saltEncoding"`
	SaltOrder    string `json:"saltOrder"`
}

// ThrottledError refuses a proof beyond the project's allowance.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("Too many password proofs for this project: try again in %d seconds.", max(1, int(e.RetryAfter.Round(time.Second)/time.Second)))
}

// Prove checks a test account's known password against the stored value of
// one staged record of the source (named by its key or line), with the
// source's saved settings. The password is used for this check only: never
// stored, logged or returned; the audit log keeps the outcome. Proofs are
// throttled per project, since each one answers whether a password is
// right.
func (s *Service) Prove(ctx context.Context, projectID, sourceID int64, record, password string) (*Outcome, error) {
	src, err := s.sources.FindSourceByID(ctx, projectID, sourceID)
	if err != nil {
		return nil, err
	}
	c := apperr.NewCheck()
	if strings.TrimSpace(record) == "" {
		c.Add("record", "Name the test account's staged record: its key or its line.")
	} else {
		c.Text("record", "Record", record, true, MaxAttributeLen)
	}
	switch {
	case password == "":
		c.Add("password", "Enter the test account's password.")
	case len(password) > MaxPasswordLen:
		c.Add("password", fmt.Sprintf("The password is longer than %d bytes.", MaxPasswordLen))
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	settings, err := s.Find(ctx, projectID, sourceID)
	if err != nil {
		return nil, err
	}
	if settings == nil {
		return nil, apperr.Conflict("Save the source's password settings before proving them.")
	}
	if err := s.limiter.take(projectID); err != nil {
		return nil, err
	}
	rec, err := s.records.FindSourceRecord(ctx, projectID, sourceID, record)
	if err != nil {
		if apperr.Is(err, apperr.CodeNotFound) {
			return nil, apperr.Invalid("Please correct the highlighted fields.", map[string]string{
				"record": "No record of the source's current extract has this key or line."})
		}
		return nil, err
	}
	out := prove(settings, rec.Effective(), password)
	out.RecordID, out.Position = rec.ID, rec.Position
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		verdict := "not proven"
		if out.Proven {
			verdict = "proven"
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: ActionProve, EntityType: "password_settings", EntityID: sourceID,
			Label: fmt.Sprintf("password settings of %s, %s with the record on line %d", src.Name, verdict, rec.Position), After: out})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// prove runs hashes.Source.Prove on one record's stored value.
func prove(settings *Settings, attrs map[string][]string, password string) *Outcome {
	out := &Outcome{Fits: []Fit{}}
	stored, ok := settings.Stored(attrs)
	if !ok {
		out.Message = fmt.Sprintf("The record has no value in %s: there is nothing to prove.", settings.Attribute)
		return out
	}
	proof, err := settings.Source().Prove(stored, password)
	out.Format = string(proof.Result.Hash.Format)
	out.Way = string(proof.Result.Way)
	out.Reason = proof.Result.Reason
	out.Legacy, out.Okta = proof.Legacy, proof.Okta
	for _, f := range proof.Fits {
		out.Fits = append(out.Fits, Fit{SaltEncoding: string(f.Encoding), SaltOrder: f.Order})
	}
	if err != nil {
		var he *hashes.Error
		if errors.As(err, &he) && he.Format != "" && out.Format == "" {
			out.Format = string(he.Format)
		}
		// The package's messages never hold a password, digest or salt.
		out.Message = "The stored value cannot be checked: " + err.Error()
		if len(out.Fits) > 0 {
			out.Message += ". " + fitsText(out.Fits)
		}
		return out
	}
	out.Proven = proof.Proven()
	switch {
	case out.Proven && proof.Result.Way == hashes.WayImport:
		out.Message = fmt.Sprintf("Proven: the password verifies against the %s value and against the Okta hash Ferry will import.", out.Format)
	case out.Proven:
		out.Message = fmt.Sprintf("Proven: the password verifies against the %s value. Okta cannot import it (%s): way forward %s.", out.Format, out.Reason, out.Way)
	case len(out.Fits) > 0:
		out.Message = "Not proven with the saved settings. " + fitsText(out.Fits)
	default:
		out.Message = fmt.Sprintf("Not proven: the password does not verify against the %s value as the settings read it. "+
			"Check the password, the declared format, iterations and pepper.", out.Format)
	}
	return out
}

func fitsText(fits []Fit) string {
	parts := make([]string, len(fits))
	for i, f := range fits {
		parts[i] = "salt encoding " + f.SaltEncoding + " with salt order " + f.SaltOrder
	}
	return "The password does verify with " + strings.Join(parts, ", or ") + ": change the salt settings to that."
}

// limiter allows n events per window per project (a sliding window).
type limiter struct {
	mu     sync.Mutex
	n      int
	window time.Duration
	now    func() time.Time
	hits   map[int64][]time.Time
}

func newLimiter(n int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{n: n, window: window, now: now, hits: map[int64][]time.Time{}}
}

func (l *limiter) take(key int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	kept := l.hits[key][:0]
	for _, t := range l.hits[key] {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= l.n {
		l.hits[key] = kept
		return &ThrottledError{RetryAfter: l.window - now.Sub(kept[0])}
	}
	l.hits[key] = append(kept, now)
	return nil
}
