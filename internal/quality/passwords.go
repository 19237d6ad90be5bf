package quality

import (
	"context"
	"errors"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hashes"
)

// Ways a record's stored password goes, as counted per source: the three
// of internal/hashes (import, hook, reset) and the values that cannot be
// judged at all.
const (
	WayImport     = string(hashes.WayImport)
	WayHook       = string(hashes.WayHook)
	WayReset      = string(hashes.WayReset)
	WayMissing    = "missing"
	WayMalformed  = "malformed"
	WayNotAllowed = "not_allowed"
)

// PasswordWays lists the ways in the order pages show them.
func PasswordWays() []string {
	return []string{WayImport, WayHook, WayReset, WayMissing, WayMalformed, WayNotAllowed}
}

// PasswordCounts are one source's stored passwords in a run: the formats
// detected and the way forward of each record (records not excluded).
type PasswordCounts struct {
	// Unconfigured: the source migrates credentials but has no password
	// settings, so its passwords were not checked (one note for the run,
	// not an occurrence per record).
	Unconfigured bool             `json:"unconfigured,omitempty"`
	ByFormat     map[string]int64 `json:"byFormat"`
	ByWay        map[string]int64 `json:"byWay"`
}

// PasswordReadings says how each source of a project whose credentials
// migrate reads its stored passwords (credentials.Service).
type PasswordReadings interface {
	Readings(ctx context.Context, projectID int64) (map[int64]credentials.Reading, error)
}

// WithPasswords makes validation judge the stored passwords of the sources
// whose credentials migrate; without it, passwords are not checked.
func (s *Service) WithPasswords(p PasswordReadings) *Service {
	s.passwords = p
	return s
}

// passwordTally is one page's password counts (a page is one source's).
type passwordTally struct {
	byFormat, byWay map[string]int64
}

func (t *passwordTally) add(format, way string) {
	if t.byFormat == nil {
		t.byFormat, t.byWay = map[string]int64{}, map[string]int64{}
	}
	if format != "" {
		t.byFormat[format]++
	}
	t.byWay[way]++
}

// checkPassword judges one record's stored password with the source's
// settings: detection and parsing only, never a verification (no password
// is known, and a bcrypt check alone can take a minute). Occurrences never
// hold the stored value: Value stays empty and the messages of
// internal/hashes never quote it.
func (c *checker) checkPassword(occ []Occurrence, t *passwordTally, r credentials.Reading, runID, src int64,
	in recordRef, rec stagedRecord) []Occurrence {
	set := r.Settings
	newOcc := func(code, severity, msg string) Occurrence {
		return Occurrence{RunID: runID, RecordID: in.id, SourceID: src, Position: in.position, Code: code, Severity: severity, Message: msg}
	}
	value, _ := rec.getFold(set.Attribute)
	if value == "" {
		t.add("", WayMissing)
		return append(occ, newOcc(IssueCredentialMissing, SeverityWarning,
			"no stored password in "+set.Attribute+": the user will have to set a password in Okta"))
	}
	stored := hashes.Stored{Value: value}
	if set.SaltAttribute != "" {
		stored.Salt, _ = rec.getFold(set.SaltAttribute)
	}
	res, err := r.Source.Convert(stored)
	if err != nil {
		format := string(hashes.FormatUnknown)
		var he *hashes.Error
		if errors.As(err, &he) && he.Format != "" {
			format = string(he.Format)
		}
		if errors.Is(err, hashes.ErrNotAllowed) {
			t.add(format, WayNotAllowed)
			return append(occ, newOcc(IssueCredentialNotAllowed, SeverityBlocking, set.Attribute+": "+err.Error()))
		}
		if errors.Is(err, hashes.ErrCannotVerify) {
			t.add(format, WayReset)
			return append(occ, newOcc(IssueCredentialNeedsReset, SeverityWarning, set.Attribute+": "+err.Error()))
		}
		t.add(format, WayMalformed)
		return append(occ, newOcc(IssueCredentialMalformed, SeverityBlocking, set.Attribute+": "+err.Error()))
	}
	t.add(string(res.Hash.Format), string(res.Way))
	switch res.Way {
	case hashes.WayHook:
		occ = append(occ, newOcc(IssueCredentialNeedsHook, SeverityWarning, res.Reason))
	case hashes.WayReset:
		occ = append(occ, newOcc(IssueCredentialNeedsReset, SeverityWarning, res.Reason))
	}
	if res.Disagrees {
		occ = append(occ, newOcc(IssueCredentialFormatDisagrees, SeverityWarning, res.Note))
	}
	return occ
}

// recordRef is where a record is, for its occurrences.
type recordRef struct {
	id, position int64
}

// getFold returns the first value of an attribute (edits first), matched
// exactly or else ignoring case, as credentials.Attr does.
func (r stagedRecord) getFold(name string) (string, bool) {
	if r.edits != nil {
		if v, ok := credentials.Attr(r.edits, name); ok {
			return v, true
		}
	}
	return credentials.Attr(r.attrs, name)
}

// addPasswords adds a page's password counts to the run's.
func (cnt *Counts) addPasswords(src int64, t passwordTally) {
	if t.byWay == nil {
		return
	}
	if cnt.ByFormat == nil {
		cnt.ByFormat = map[string]int64{}
	}
	if cnt.Passwords == nil {
		cnt.Passwords = map[int64]*PasswordCounts{}
	}
	pc := cnt.Passwords[src]
	if pc == nil {
		pc = &PasswordCounts{ByFormat: map[string]int64{}, ByWay: map[string]int64{}}
		cnt.Passwords[src] = pc
	}
	for f, n := range t.byFormat {
		pc.ByFormat[f] += n
		cnt.ByFormat[f] += n
	}
	for w, n := range t.byWay {
		pc.ByWay[w] += n
	}
}
