// Package extract defines what every extract reader (CSV, LDIF, JSON/NDJSON,
// a live LDAP directory) produces: a stream of records, each a user's
// attributes as read, with its position in the file for messages. Readers
// stream: a file of millions of rows never sits in memory.
package extract

import (
	"errors"
	"fmt"
)

// Record is one user as read from an extract.
type Record struct {
	// Position is where the record starts: the line number of a CSV row or
	// NDJSON line, the entry number of an LDIF entry or LDAP result, the
	// index (1-based) of an object in a JSON array.
	Position int
	// Attributes maps an attribute name, as the extract spells it, to its
	// values; a multi-valued attribute holds several. An attribute the extract
	// leaves empty is absent or holds one empty string, as the format says.
	Attributes map[string][]string
}

// Get returns the first value of an attribute, and whether it is present.
func (r Record) Get(name string) (string, bool) {
	v, ok := r.Attributes[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// Reader streams the records of one extract.
type Reader interface {
	// Next returns the next record, or io.EOF after the last one. A *Error
	// means the extract cannot be read any further: the whole extract is
	// refused. A *RecordError means this one record is malformed (a ragged
	// CSV row): the caller quarantines it and may go on.
	Next() (Record, error)
	// Columns lists the attribute names seen so far, in first-seen order
	// (for CSV: the header).
	Columns() []string
	// Warnings lists what the reader noticed but could handle (a file
	// converted from Windows-1252, say), each once.
	Warnings() []string
}

// Error refuses a whole extract: one clear message with where it happened.
type Error struct {
	Position int    // line or entry number, 0 when it concerns the whole file
	Unit     string // "line" or "entry"
	Message  string
}

func (e *Error) Error() string {
	if e.Position == 0 {
		return e.Message
	}
	return fmt.Sprintf("%s %d: %s", e.Unit, e.Position, e.Message)
}

// RecordError is one malformed record that the reader skipped.
type RecordError struct {
	Position int
	Unit     string
	Message  string
}

func (e *RecordError) Error() string { return fmt.Sprintf("%s %d: %s", e.Unit, e.Position, e.Message) }

// IsRecordError reports whether err concerns one record only.
func IsRecordError(err error) bool {
	var re *RecordError
	return errors.As(err, &re)
}
