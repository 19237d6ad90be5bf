// Package jsonextract reads user extracts in JSON: either one array of user
// objects or NDJSON (one object per line), UTF-8 with or without a byte-order
// mark. It streams with encoding/json's Decoder: the array's brackets are
// read as tokens and its elements (or the NDJSON objects) one at a time, so
// only the object being read is in memory, whatever the size of the file.
//
// How an object becomes a record's attributes:
//
//   - a string, number or boolean is one value; numbers keep the digits as
//     written (1e3 stays "1e3", 007 is not JSON), booleans are "true"/"false";
//   - null, an empty array and an empty object are absent;
//   - an array of scalars is a multi-valued attribute (nulls in it are dropped);
//   - a nested object is flattened with dotted names ("address": {"city": …}
//     gives "address.city") down to Options.MaxDepth levels;
//   - an array of objects (SCIM's "emails": [{"value": …, "type": …}]) is
//     flattened too, one value per element in element order: "emails.value"
//     and "emails.type" each hold as many values as the array has elements,
//     with "" where an element lacks the key, so that the i-th values of
//     each name belong together;
//   - anything else in an object (an array inside an array, an array inside
//     an array of objects, nesting deeper than MaxDepth, an array mixing
//     objects and scalars), a duplicate key, or a key and a nested object
//     naming the same dotted attribute makes that one record malformed: Next
//     returns an *extract.RecordError and the caller may go on. So does an
//     element of the array, or a line, that is not an object.
//
// What refuses the whole extract (*extract.Error, with the line): an empty
// file, a file that is not JSON (binary data, text), a single top-level
// string or number, invalid JSON, a truncated file, bytes that are not UTF-8,
// UTF-16, a value over Options.MaxValueBytes, data after the closing bracket.
//
// NDJSON is read leniently as a stream of concatenated objects: an object may
// span several lines and blank lines are skipped; a record's position is the
// line its object starts on. In an array, the position is the object's index
// (1-based) and messages name its line too.
package jsonextract

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// Options tunes a Reader; the zero value gives the defaults.
type Options struct {
	// MaxValueBytes is the longest string or number accepted, in bytes once
	// decoded; a longer one refuses the extract. Default 1 MiB.
	MaxValueBytes int
	// MaxDepth is how many levels of nested objects are flattened into dotted
	// names: with the default 3, "a.b.c" is read and a fourth level makes the
	// record malformed.
	MaxDepth int
}

const (
	// DefaultMaxValueBytes is Options.MaxValueBytes when it is zero.
	DefaultMaxValueBytes = 1 << 20
	// DefaultMaxDepth is Options.MaxDepth when it is zero.
	DefaultMaxDepth = 3
)

// Reader streams the records of a JSON or NDJSON extract. It implements
// extract.Reader.
type Reader struct {
	opts   Options
	dec    *json.Decoder
	guard  *guard
	ndjson bool

	index int             // objects (or array elements) read so far
	raw   json.RawMessage // the object being read
	err   error           // sticky: once the extract is refused, it stays refused
	done  bool

	columns []string
	seen    map[string]struct{}
	names   map[string]string // attribute names shared between records
}

var _ extract.Reader = (*Reader)(nil)

// NewReader starts reading r. It reads the first bytes to tell an array from
// NDJSON and refuses at once (with an *extract.Error) a file that is empty,
// UTF-16 or plainly not JSON.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	if opts.MaxValueBytes <= 0 {
		opts.MaxValueBytes = DefaultMaxValueBytes
	}
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}), bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return nil, fileError(0, "the file is UTF-16: JSON extracts must be UTF-8 (save the file as UTF-8)")
	}
	// Skip leading whitespace, counting lines, to see the first real byte.
	lines := 0
	var first byte
	for {
		c, err := br.ReadByte()
		if err == io.EOF {
			return nil, fileError(0, "the file is empty: expected a JSON array of user objects or one JSON object per line")
		}
		if err != nil {
			return nil, fileError(0, "cannot read the file: "+err.Error())
		}
		if c == '\n' {
			lines++
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		first = c
		_ = br.UnreadByte()
		break
	}
	line := lines + 1
	switch first {
	case '[', '{':
	case '"':
		return nil, fileError(line, "the file holds a single JSON string, not an array of user objects or one object per line")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return nil, fileError(line, "the file holds a single JSON number, not an array of user objects or one object per line")
	default:
		rest, _ := br.Peek(5)
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(rest, []byte(lit)) {
				return nil, fileError(line, "the file holds a single JSON "+lit+", not an array of user objects or one object per line")
			}
		}
		if first < 0x20 || first >= 0x7F {
			return nil, fileError(line, fmt.Sprintf("not JSON: the file starts with binary data (byte 0x%02X)", first))
		}
		return nil, fileError(line, fmt.Sprintf("not JSON: the file starts with %q where a JSON array or object should begin", first))
	}

	// The guard refuses strings several times over the limit before the
	// decoder buffers them (an escape like \u00e9 is 6 bytes for 2); the exact
	// limit is checked on the decoded value.
	g := newGuard(br, 6*opts.MaxValueBytes+16, lines)
	dec := json.NewDecoder(g)
	dec.UseNumber()
	rd := &Reader{opts: opts, dec: dec, guard: g, ndjson: first == '{', seen: map[string]struct{}{},
		names: map[string]string{}}
	if !rd.ndjson {
		if _, err := dec.Token(); err != nil { // the opening '['
			return nil, rd.fatal(err, "", -1)
		}
	}
	return rd, nil
}

// Columns lists the attribute names seen so far, in first-seen order.
func (r *Reader) Columns() []string { return append([]string(nil), r.columns...) }

// Warnings is always empty: the JSON reader converts nothing.
func (r *Reader) Warnings() []string { return nil }

// Next returns the next record, io.EOF after the last one, an
// *extract.RecordError for a malformed object, or an *extract.Error when the
// file cannot be read any further.
func (r *Reader) Next() (extract.Record, error) {
	if r.err != nil {
		return extract.Record{}, r.err
	}
	if r.done {
		return extract.Record{}, io.EOF
	}
	rec, err := r.next()
	if err != nil && err != io.EOF && !extract.IsRecordError(err) {
		r.err = err
	}
	if err == io.EOF {
		r.done = true
	}
	return rec, err
}

func (r *Reader) next() (extract.Record, error) {
	if !r.ndjson && !r.dec.More() {
		if _, err := r.dec.Token(); err != nil { // the closing ']'
			return extract.Record{}, r.fatal(err, "the array", -1)
		}
		return extract.Record{}, r.expectEnd()
	}
	// One element at a time: the decoder checks its syntax and hands it over
	// whole, and record.go turns it into attributes. (Walking every scalar
	// with Token costs a reflective Decode per value: five times slower.)
	r.raw = r.raw[:0]
	err := r.dec.Decode(&r.raw)
	if err == io.EOF && r.ndjson {
		return extract.Record{}, io.EOF
	}
	if err != nil {
		inside := "a user object"
		if !r.ndjson && err == io.EOF {
			inside = "the array"
		}
		// A failed Decode leaves the decoder where the value began.
		return extract.Record{}, r.fatal(err, inside, r.dec.InputOffset())
	}
	r.index++
	start := r.dec.InputOffset() - int64(len(r.raw))
	line := r.guard.lineAt(start)
	pos, unit := r.index, "object"
	if r.ndjson {
		pos, unit = line, "line"
	}
	attrs, order, problem, err := r.parse(r.raw, line)
	if err != nil {
		return extract.Record{}, err
	}
	if problem != "" {
		if unit != "line" {
			problem = fmt.Sprintf("%s (line %d)", problem, line)
		}
		return extract.Record{}, &extract.RecordError{Position: pos, Unit: unit, Message: problem}
	}
	for _, name := range order {
		if _, ok := r.seen[name]; !ok {
			r.seen[name] = struct{}{}
			r.columns = append(r.columns, name)
		}
	}
	return extract.Record{Position: pos, Attributes: attrs}, nil
}

func (r *Reader) expectEnd() error {
	_, err := r.dec.Token()
	if err == io.EOF {
		return io.EOF
	}
	if err != nil {
		return r.fatal(err, "", -1)
	}
	return &extract.Error{Position: r.guard.lineAt(r.dec.InputOffset() - 1), Unit: "line",
		Message: "unexpected data after the end of the JSON array"}
}

// fatal turns a decoding error into the *extract.Error refusing the file.
// inside names the value being read when the file ended, if any. decodeStart
// is where a failed Decode began; it is -1 for errors from Token.
func (r *Reader) fatal(err error, inside string, decodeStart int64) error {
	var ge *guardError
	if errors.As(err, &ge) {
		return &extract.Error{Position: ge.line, Unit: "line", Message: ge.msg}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := se.Offset - 1
		if decodeStart >= 0 {
			// A Decode's offsets count every byte that Decode calls have
			// scanned since the decoder began, not the bytes Token skipped:
			// scan again what it holds from where the value began.
			off = decodeStart + relativeOffset(r.dec.Buffered()) - 1
		} else if se.Offset == r.dec.InputOffset() {
			// The token API reports the offset of the end of the last good
			// token: the offending byte is the first one after whitespace.
			off = se.Offset + leadingSpace(r.dec.Buffered())
		}
		if off < 0 {
			off = 0
		}
		msg := strings.TrimPrefix(se.Error(), "json: ")
		return &extract.Error{Position: r.guard.lineAt(off), Unit: "line", Message: "invalid JSON: " + msg}
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		if inside == "" {
			inside = "a value"
		}
		return &extract.Error{Position: r.guard.lineAt(r.guard.off - 1), Unit: "line",
			Message: "the file ends inside " + inside + ": it looks truncated"}
	}
	return &extract.Error{Position: r.guard.lineAt(r.dec.InputOffset()), Unit: "line", Message: "cannot read the file: " + err.Error()}
}

func fileError(line int, msg string) *extract.Error {
	return &extract.Error{Position: line, Unit: "line", Message: msg}
}

// leadingSpace counts the JSON whitespace bytes at the start of r.
func leadingSpace(r io.Reader) int64 {
	var buf [512]byte
	var n int64
	for {
		m, err := r.Read(buf[:])
		for _, c := range buf[:m] {
			if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
				return n
			}
			n++
		}
		if err != nil || m == 0 {
			return n
		}
	}
}

// relativeOffset finds the syntax error in the value at the start of r and
// returns its offset from there, as a *json.SyntaxError counts it.
func relativeOffset(r io.Reader) int64 {
	var raw json.RawMessage
	var se *json.SyntaxError
	if err := json.NewDecoder(r).Decode(&raw); errors.As(err, &se) {
		return se.Offset
	}
	return 1
}
