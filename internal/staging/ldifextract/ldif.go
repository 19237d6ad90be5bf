// Package ldifextract reads LDIF (RFC 2849) exports of a directory — Active
// Directory's ldifde, OpenLDAP's slapcat and ldapsearch -LLL — as a stream of
// extract records, one entry in memory at a time.
//
// What it accepts and how it reads it:
//
//   - An optional "version: 1" line first (another version is refused; a
//     later "version: 1" opening a second export put after the first is
//     skipped with a warning); comments ("#", folded or not) anywhere;
//     entries separated by one or more blank lines (a line of spaces
//     between entries counts as blank); CRLF or LF. A UTF-8 byte-order mark
//     is skipped; a UTF-16 file with a byte-order mark (ldifde -u) is
//     converted, with a warning.
//   - Folded lines: a line starting with one space continues the previous
//     one, that space dropped (RFC 2849); a tab is accepted too, as
//     OpenLDAP's own reader does.
//   - Each entry starts with "dn:" (or "dn::" base64); the DN goes in
//     Attributes["dn"]. An entry may hold nothing else (ldapsearch … 1.1).
//     Attribute lines are "name: value", "name:: base64" or "name:" (an
//     empty value, kept as ""). Repeated names collect their values in
//     order. Attribute names are case-insensitive in LDAP: the first
//     spelling seen in the file is the key, for every entry, and case
//     variants are merged into it. Options such as ";binary", ";lang-fr" or
//     AD's ";range=0-1499" stay in the name as written, because cn and
//     cn;lang-fr are different values that must not be mixed.
//   - A base64 value is decoded. When it is text (UTF-8 without NUL) the
//     text is the value. When it is binary — or the attribute is a known
//     binary type (objectGUID, objectSid, jpegPhoto, certificates…, any
//     ";binary") — the value stays base64 (standard, padded), so that an
//     objectGUID is always the same 24-character string and nothing is lost
//     when a record is stored as JSON; a warning names each such attribute.
//   - A plain value must be valid UTF-8 without NUL or CR (a file with
//     classic Mac line endings is refused there). RFC 2849 asks for
//     ASCII only and no leading ':' or '<' (SAFE-STRING); the reader is
//     lenient there: UTF-8 is what exports that do not base64-encode hold,
//     and a value such as ": x" is unambiguous. The spaces between the
//     colon and a value are dropped (FILL); trailing spaces are kept.
//   - "changetype: add" right after the DN is read as an entry: ldifde
//     writes every exported object that way. Any other change record
//     (modify, delete, modrdn, moddn, a "control:" line, a "-" separator) is
//     refused: the file describes changes, not the directory's entries.
//   - The result lines ldapsearch prints without -L ("search: 2",
//     "result: 0 Success") are skipped; a result other than success refuses
//     the file, since the export stopped early (a size limit, say). Search
//     references ("ref:") are skipped with a warning.
//   - A file that does not end with a line break is read (its last line is
//     taken as complete) with a warning, unless that line is a folded
//     continuation, a value that does not decode or cut UTF-8: then it is
//     refused as truncated.
//
// A record's Position is its entry's number, from 1, counting every entry
// of the file (organizational units and groups too). An empty file (nothing
// but blank lines and comments) is refused; a file with a version line and
// no entry has no records.
//
// Everything else refuses the whole file with an *extract.Error: a file that
// is not LDIF at all, an entry without a DN, a value that does not decode,
// "name:< url" (Ferry does not fetch URLs), a file that ends inside a
// folded line, a value or an entry over the limits of Options. Errors inside
// an entry have Unit "entry" and the entry number as Position, and their
// message starts with the line number ("entry 3: line 17: …"); errors
// outside any entry have Unit "line". The reader never returns an
// *extract.RecordError: LDIF gives no safe way to skip one broken entry and
// go on. Errors other than *extract.Error are I/O errors from the
// underlying reader, passed through.
package ldifextract

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// Limits applied when Options leaves them at zero.
const (
	DefaultMaxValueBytes         = 1 << 20
	DefaultMaxAttributesPerEntry = 100_000
	DefaultMaxEntryBytes         = 32 << 20
	DefaultMaxColumns            = 10_000
)

// Options bound the memory one entry may take. A zero or negative field
// takes its default.
type Options struct {
	// MaxValueBytes is the largest value, decoded (default 1 MiB; an AD
	// thumbnailPhoto is at most 100 KB).
	MaxValueBytes int
	// MaxAttributesPerEntry is the most attribute values one entry may hold,
	// each value of a multi-valued attribute counting once (default
	// 100,000, room for a large group's member list).
	MaxAttributesPerEntry int
	// MaxEntryBytes is the most bytes of names and values one entry may hold
	// (default 32 MiB).
	MaxEntryBytes int
	// MaxColumns is the most distinct attribute names in the file (default
	// 10,000; a full AD schema has about 1,500).
	MaxColumns int
}

func (o Options) withDefaults() Options {
	if o.MaxValueBytes <= 0 {
		o.MaxValueBytes = DefaultMaxValueBytes
	}
	if o.MaxAttributesPerEntry <= 0 {
		o.MaxAttributesPerEntry = DefaultMaxAttributesPerEntry
	}
	if o.MaxEntryBytes <= 0 {
		o.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if o.MaxColumns <= 0 {
		o.MaxColumns = DefaultMaxColumns
	}
	return o
}

// readBufferSize is the bufio buffer: large enough that reading from a file
// costs few system calls; a longer line is read in several pieces.
const readBufferSize = 256 << 10

// Reader streams the entries of an LDIF file. It implements extract.Reader.
type Reader struct {
	br      *bufio.Reader
	opts    Options
	maxLine int // longest logical line: a base64 value at the limit, its name and some room

	line      int    // physical lines read so far
	buf       []byte // the current logical line, unfolded, without its line break
	bufLine   int    // the physical line where buf starts
	bufKind   lineKind
	unread    bool // buf is to be returned again by the next readLogical
	truncated bool // the last line read ended at the end of the input without a line break
	scratch   []byte
	arena     []byte     // the values of the entry being read, one after the other
	refs      []valueRef // where each value of the entry lies in arena
	touched   []int      // the columns of the entry, in first-seen order

	entry     int   // entries started so far; the current entry's number while inEntry
	inEntry   bool  // errors name the entry
	inHeader  bool  // errors say the file is not LDIF
	comments  bool  // a comment line was seen
	sawRef    bool  // a search reference was seen
	peekErr   error // an I/O error met while looking for a folded line, reported next
	err       error
	seenEntry bool

	spellings map[string]int // attribute name as spelled -> column
	folded    map[string]int // lower-cased name -> column
	columns   []string       // each column's key; dnColumn is "dn"
	colBinary []bool         // the column is a known binary attribute type
	colCount  []int          // values per column in the entry being built
	colPos    []int
	binary    map[string]bool // keys already warned about as binary
	warnings  []string
	warned    map[string]bool
}

var _ extract.Reader = (*Reader)(nil)

type lineKind int

const (
	lineEOF lineKind = iota
	lineBlank
	lineContent
)

type valueKind int

const (
	plainValue valueKind = iota
	base64Value
	urlValue
)

// NewReader reads the start of an LDIF file: an optional byte-order mark,
// comments and the version line, up to the first entry. A file that is not
// LDIF, or is empty (nothing but blank lines and comments), is refused here
// with an *extract.Error. A file with a version line and no entry is not:
// its reader returns io.EOF at once, with a warning.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	lr := &Reader{
		opts:      opts,
		maxLine:   base64.StdEncoding.EncodedLen(opts.MaxValueBytes) + 1024,
		spellings: make(map[string]int),
		folded:    map[string]int{"dn": dnColumn},
		columns:   []string{"dn"},
		colBinary: []bool{false},
		colCount:  []int{0},
		colPos:    []int{0},
		binary:    make(map[string]bool),
		warned:    make(map[string]bool),
		inHeader:  true,
	}
	br := bufio.NewReaderSize(r, readBufferSize)
	bom, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(bom, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
	case bytes.HasPrefix(bom, []byte{0xFF, 0xFE}), bytes.HasPrefix(bom, []byte{0xFE, 0xFF}):
		bigEndian := bom[0] == 0xFE
		_, _ = br.Discard(2)
		br = bufio.NewReaderSize(&utf16Reader{src: br, bigEndian: bigEndian}, readBufferSize)
		if bigEndian {
			lr.warn("the file is UTF-16 (big-endian); it was converted to UTF-8")
		} else {
			lr.warn("the file is UTF-16 (little-endian, as ldifde -u writes it); it was converted to UTF-8")
		}
	}
	lr.br = br
	if err := lr.readHeader(); err != nil {
		return nil, err
	}
	lr.inHeader = false
	return lr, nil
}

// readHeader skips blank lines and comments, reads the version line if
// there is one and leaves the first record's first line unread.
func (r *Reader) readHeader() error {
	for {
		kind, err := r.readLogical()
		if err != nil {
			return err
		}
		switch kind {
		case lineEOF:
			msg := "the file is empty"
			if r.comments {
				msg = "the file is empty: it holds nothing but comments"
			}
			r.err = &extract.Error{Message: msg}
			return r.err
		case lineBlank:
			continue
		}
		name, vk, val, ok := splitAttr(r.buf)
		switch {
		case ok && vk == plainValue && equalFold(name, "version"):
			return r.checkVersion(val)
		case ok && (equalFold(name, "dn") || startsSearchResult(name)):
			r.unread = true
			return nil
		}
		return r.notLDIF(r.bufLine)
	}
}

func (r *Reader) checkVersion(val []byte) error {
	if v := strings.TrimSpace(string(val)); v != "1" {
		r.err = &extract.Error{Unit: "line", Position: r.bufLine,
			Message: fmt.Sprintf("unsupported LDIF version %q: Ferry reads LDIF version 1 (RFC 2849)", excerpt([]byte(v)))}
		return r.err
	}
	return nil
}

func (r *Reader) notLDIF(line int) error {
	msg := fmt.Sprintf(`not an LDIF file: it should start with "version: 1" or "dn: …", and line %d starts with %q`, line, excerpt(r.buf))
	if bytes.IndexByte(r.buf, 0) >= 0 {
		msg += " (NUL bytes: a binary file, or UTF-16 without a byte-order mark)"
	}
	r.err = &extract.Error{Unit: "line", Position: line, Message: msg}
	return r.err
}

// Next returns the next entry, or io.EOF after the last one.
func (r *Reader) Next() (extract.Record, error) {
	if r.err != nil {
		return extract.Record{}, r.err
	}
	for {
		kind, err := r.readLogical()
		if err != nil {
			return extract.Record{}, err
		}
		switch kind {
		case lineEOF:
			if r.entry == 0 {
				r.warn("the file holds no entries")
			}
			return extract.Record{}, io.EOF
		case lineBlank:
			continue
		}
		name, vk, val, ok := splitAttr(r.buf)
		switch {
		case ok && equalFold(name, "dn"):
			return r.readEntry(vk, val)
		case ok && vk == plainValue && equalFold(name, "version"):
			// Several exports concatenated: each may open with its version line.
			if err := r.checkVersion(val); err != nil {
				return extract.Record{}, err
			}
			r.warn("the file holds more than one version: line (several LDIF files put together?)")
			continue
		case ok && startsSearchResult(name):
			if err := r.skipSearchResult(); err != nil {
				return extract.Record{}, err
			}
			continue
		}
		r.entry++
		r.inEntry = true
		return extract.Record{}, r.fail(r.bufLine, "the entry does not start with a dn: line (it starts with %q); every entry must start with its DN", excerpt(r.buf))
	}
}

// readEntry reads one entry whose dn line is in r.buf.
func (r *Reader) readEntry(vk valueKind, val []byte) (extract.Record, error) {
	r.entry++
	r.inEntry = true
	r.arena, r.refs = r.arena[:0], r.refs[:0]
	if err := r.appendValue(dnColumn, vk, val, r.bufLine); err != nil {
		return extract.Record{}, err
	}
	r.refs = append(r.refs, valueRef{col: dnColumn, end: len(r.arena)})
	r.seenEntry = true
	size := len(r.arena)
	first := true
	for {
		kind, err := r.readLogical()
		if err != nil {
			return extract.Record{}, err
		}
		if kind != lineContent {
			break
		}
		line := r.bufLine
		if len(r.buf) == 1 && r.buf[0] == '-' {
			return extract.Record{}, r.changeRecord(line, `a "-" line, which separates the modifications of a change record`)
		}
		name, vk, val, ok := splitAttr(r.buf)
		if !ok {
			return extract.Record{}, r.fail(line, `expected "attribute: value", found %q`, excerpt(r.buf))
		}
		if !validName(name) {
			return extract.Record{}, r.fail(line, "%q is not an attribute name", excerpt(name))
		}
		if first {
			first = false
			if equalFold(name, "changetype") {
				ct := strings.TrimSpace(string(val))
				if vk == plainValue && strings.EqualFold(ct, "add") {
					continue // ldifde writes each exported object as an add record
				}
				return extract.Record{}, r.changeRecord(line, "changetype: "+cleanExcerpt([]byte(ct)))
			}
			if equalFold(name, "control") {
				return extract.Record{}, r.changeRecord(line, "control: …")
			}
		}
		if equalFold(name, "dn") {
			return extract.Record{}, r.fail(line, "a second dn: line in the same entry; entries must be separated by a blank line")
		}
		col, err := r.column(name, line)
		if err != nil {
			return extract.Record{}, err
		}
		start := len(r.arena)
		if err := r.appendValue(col, vk, val, line); err != nil {
			return extract.Record{}, err
		}
		r.refs = append(r.refs, valueRef{col: col, start: start, end: len(r.arena)})
		if len(r.refs)-1 > r.opts.MaxAttributesPerEntry {
			return extract.Record{}, r.fail(line, "the entry holds more than %d attribute values, the limit for one entry", r.opts.MaxAttributesPerEntry)
		}
		size += len(r.columns[col]) + len(r.arena) - start
		if size > r.opts.MaxEntryBytes {
			return extract.Record{}, r.fail(line, "the entry is larger than %s, the limit for one entry", sizeText(r.opts.MaxEntryBytes))
		}
	}
	r.inEntry = false
	return extract.Record{Position: r.entry, Attributes: r.attributes()}, nil
}

// valueRef locates one value of the entry being read: its column and where
// it lies in r.arena.
type valueRef struct{ col, start, end int }

// attributes builds the entry's map from r.arena and r.refs with three
// allocations whatever the number of values: one string holding every
// value, one []string holding every attribute's values side by side (each
// attribute's slice capped, so that appending to it cannot spill into the
// next), and the map.
func (r *Reader) attributes() map[string][]string {
	text := string(r.arena)
	touched := r.touched[:0]
	for _, v := range r.refs {
		if r.colCount[v.col] == 0 {
			touched = append(touched, v.col)
		}
		r.colCount[v.col]++
	}
	next := 0
	for _, c := range touched {
		r.colPos[c] = next
		next += r.colCount[c]
	}
	all := make([]string, len(r.refs))
	for _, v := range r.refs {
		all[r.colPos[v.col]] = text[v.start:v.end]
		r.colPos[v.col]++
	}
	attrs := make(map[string][]string, len(touched))
	for _, c := range touched {
		end := r.colPos[c]
		attrs[r.columns[c]] = all[end-r.colCount[c] : end : end]
		r.colCount[c] = 0
	}
	r.touched = touched
	if cap(r.arena) > 4<<20 { // one huge entry: do not keep its buffer for good
		r.arena = nil
	}
	return attrs
}

func (r *Reader) changeRecord(line int, what string) error {
	return r.fail(line, "this is an LDIF change record (%s); export the directory's entries instead (ldifde -f … / slapcat)", what)
}

// what names a value in messages.
func (r *Reader) what(col int) string {
	if col == dnColumn {
		return "the DN"
	}
	return "the value of " + r.columns[col]
}

// appendValue decodes one value of column col (the DN for dnColumn) onto
// r.arena.
func (r *Reader) appendValue(col int, vk valueKind, val []byte, line int) error {
	switch vk {
	case urlValue:
		if col == dnColumn {
			return r.fail(line, "the DN refers to a URL (dn:< …); Ferry does not fetch URLs")
		}
		return r.fail(line, "%s is to be read from a URL (%s:< %s); Ferry does not fetch URLs: export the values inline (ldifde and slapcat do)",
			r.what(col), r.columns[col], cleanExcerpt(val))
	case base64Value:
		start := len(r.arena)
		if err := r.appendBase64(col, val, line); err != nil {
			return err
		}
		decoded := r.arena[start:]
		if isText(decoded) && !r.colBinary[col] {
			return nil
		}
		if col == dnColumn {
			return r.fail(line, "the DN is not UTF-8 text once decoded from base64")
		}
		key := r.columns[col]
		if !r.binary[key] {
			r.binary[key] = true
			r.warn(fmt.Sprintf("attribute %s holds binary data: its values are kept base64-encoded", key))
		}
		r.scratch = append(r.scratch[:0], decoded...)
		r.arena = base64.StdEncoding.AppendEncode(r.arena[:start], r.scratch)
		return nil
	}
	if len(val) > r.opts.MaxValueBytes {
		return r.fail(line, "%s is larger than %s, the limit for one value", r.what(col), sizeText(r.opts.MaxValueBytes))
	}
	if !utf8.Valid(val) {
		return r.fail(line, "%s is not valid UTF-8; an LDIF file is UTF-8 (export it again as UTF-8, or with such values base64-encoded)%s",
			r.what(col), r.truncatedHint())
	}
	if bytes.IndexByte(val, 0) >= 0 {
		return r.fail(line, "%s holds a NUL byte, which only a base64 value (::) may hold", r.what(col))
	}
	if bytes.IndexByte(val, '\r') >= 0 {
		return r.fail(line, "%s holds a carriage return (CR) without a line feed: lines must end in LF or CRLF, and a value with a CR must be base64 (::)", r.what(col))
	}
	r.arena = append(r.arena, val...)
	return nil
}

// appendBase64 decodes val onto r.arena.
func (r *Reader) appendBase64(col int, val []byte, line int) error {
	n := base64.StdEncoding.DecodedLen(len(val))
	if n > r.opts.MaxValueBytes+2 {
		return r.fail(line, "%s is larger than %s, the limit for one value", r.what(col), sizeText(r.opts.MaxValueBytes))
	}
	start := len(r.arena)
	r.arena = slices.Grow(r.arena, n)[:start+n]
	m, err := base64.StdEncoding.Decode(r.arena[start:], val)
	r.arena = r.arena[:start+m]
	if err != nil {
		var cie base64.CorruptInputError
		detail := "invalid base64"
		if errors.As(err, &cie) {
			detail = fmt.Sprintf("invalid base64 at byte %d", int64(cie)+1)
		}
		return r.fail(line, "%s does not decode (%s)%s", r.what(col), detail, r.truncatedHint())
	}
	if m > r.opts.MaxValueBytes {
		return r.fail(line, "%s is larger than %s, the limit for one value", r.what(col), sizeText(r.opts.MaxValueBytes))
	}
	return nil
}

func (r *Reader) truncatedHint() string {
	if r.truncated {
		return "; the file ends on this line without a line break: it looks truncated"
	}
	return ""
}

// skipSearchResult skips the "search: N / result: 0 Success" lines that
// ldapsearch prints without -L, and a search reference ("ref: …"); it
// refuses an export that ended with an error.
func (r *Reader) skipSearchResult() error {
	start := r.bufLine
	sawSearch, sawResult := false, false
	for {
		line := r.bufLine
		name, vk, val, ok := splitAttr(r.buf)
		if !ok || vk != plainValue || !inSearchResult(name) {
			return r.fail(line, "unexpected line %q among ldapsearch's result lines (search:, result:)", excerpt(r.buf))
		}
		switch {
		case equalFold(name, "search"):
			sawSearch = true
			if len(bytes.Trim(val, "0123456789")) != 0 || len(val) == 0 {
				return r.fail(line, "%q is neither an entry (dn: …) nor ldapsearch's search: line", excerpt(r.buf))
			}
		case equalFold(name, "ref"):
			if !r.sawRef {
				r.sawRef = true
				r.warn(fmt.Sprintf("the export holds search references (ref: %s) that were not followed: their entries are not in the file", cleanExcerpt(val)))
			}
		case equalFold(name, "result"):
			sawResult = true
			res := strings.TrimSpace(string(val))
			if code, _, _ := strings.Cut(res, " "); code != "0" {
				return r.fail(line, "ldapsearch reported %q: the export is incomplete; export again (ldapsearch -E pr=1000/noprompt pages past size limits)", "result: "+excerpt([]byte(res)))
			}
		}
		kind, err := r.readLogical()
		if err != nil {
			return err
		}
		if kind != lineContent {
			break
		}
	}
	if sawSearch && !sawResult {
		return r.fail(start, "ldapsearch's search: line without its result: line")
	}
	return nil
}

// startsSearchResult reports whether a record starting with this attribute
// is one of ldapsearch's result or reference blocks rather than an entry.
func startsSearchResult(name []byte) bool {
	return equalFold(name, "search") || equalFold(name, "ref")
}

func inSearchResult(name []byte) bool {
	for _, n := range [...]string{"search", "result", "text", "matched", "ref", "control"} {
		if equalFold(name, n) {
			return true
		}
	}
	return false
}

// dnColumn is the column of the DN, "dn".
const dnColumn = 0

// column returns the attribute's column, whose key is the first spelling of
// its name seen in the file, whatever the case.
func (r *Reader) column(name []byte, line int) (int, error) {
	if c, ok := r.spellings[string(name)]; ok {
		return c, nil
	}
	lower := strings.ToLower(string(name))
	c, ok := r.folded[lower]
	if !ok {
		if len(r.columns) >= r.opts.MaxColumns {
			return 0, r.fail(line, "the file holds more than %d distinct attribute names, the limit", r.opts.MaxColumns)
		}
		c = len(r.columns)
		r.columns = append(r.columns, string(name))
		r.colBinary = append(r.colBinary, isBinaryType(lower))
		r.colCount = append(r.colCount, 0)
		r.colPos = append(r.colPos, 0)
		r.folded[lower] = c
	}
	if len(r.spellings) < 4*r.opts.MaxColumns {
		r.spellings[string(name)] = c
	}
	return c, nil
}

// Columns lists the attribute names seen so far, "dn" first, in first-seen
// order, each spelled as first seen.
func (r *Reader) Columns() []string {
	if !r.seenEntry {
		return nil
	}
	return append([]string(nil), r.columns...)
}

// Warnings lists what the reader noticed but could handle, each once.
func (r *Reader) Warnings() []string {
	return append([]string(nil), r.warnings...)
}

// maxWarnings bounds the list, whatever the file holds.
const maxWarnings = 100

func (r *Reader) warn(msg string) {
	if len(r.warnings) == maxWarnings {
		msg = "more warnings were left out"
	}
	if len(r.warnings) <= maxWarnings && !r.warned[msg] {
		r.warned[msg] = true
		r.warnings = append(r.warnings, msg)
	}
}

// fail records the error that refuses the file: it names the entry when
// one is being read, the line otherwise.
func (r *Reader) fail(line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if r.inEntry {
		r.err = &extract.Error{Unit: "entry", Position: r.entry, Message: fmt.Sprintf("line %d: %s", line, msg)}
	} else {
		r.err = &extract.Error{Unit: "line", Position: line, Message: msg}
	}
	return r.err
}

// readLogical reads the next logical line into r.buf: physical lines joined
// where folded, comments skipped.
func (r *Reader) readLogical() (lineKind, error) {
	if r.unread {
		r.unread = false
		return r.bufKind, nil
	}
	r.bufKind = lineEOF
	for {
		r.buf = r.buf[:0]
		if r.peekErr != nil {
			return lineEOF, r.readError(r.peekErr, r.line+1)
		}
		p, err := r.br.Peek(1)
		if err != nil {
			if err == io.EOF {
				return lineEOF, nil
			}
			return lineEOF, r.readError(err, r.line+1)
		}
		start := r.line + 1
		r.bufLine = start
		switch p[0] {
		case '#':
			// A comment, with its folded continuations: dropped.
			r.comments = true
			nl, err := r.readPhysical(true)
			for err == nil && nl && r.continues() {
				nl, err = r.readPhysical(true)
			}
			if err != nil {
				return lineEOF, err
			}
			continue
		case ' ', '\t':
			// A continuation with nothing to continue: blank if it is only
			// white space (trailing spaces on an empty line), else an error.
			if _, err := r.readPhysical(false); err != nil {
				return lineEOF, err
			}
			if len(bytes.Trim(r.buf, " \t")) == 0 {
				r.bufKind = lineBlank
				return lineBlank, nil
			}
			if r.inHeader {
				return lineEOF, r.notLDIF(start)
			}
			return lineEOF, r.fail(start, "this line starts with a space, which continues the previous line, but the previous line is blank")
		}
		nl, err := r.readPhysical(false)
		if err != nil {
			return lineEOF, err
		}
		if len(r.buf) == 0 {
			r.bufKind = lineBlank
			return lineBlank, nil
		}
		for nl && r.continues() {
			if nl, err = r.readPhysical(false); err != nil {
				return lineEOF, err
			}
			if !nl {
				return lineEOF, r.fail(start, "the file ends in the middle of a folded line (its last line continues this one and has no line break): it looks truncated")
			}
		}
		r.bufKind = lineContent
		return lineContent, nil
	}
}

// continues reports whether the next physical line continues the current
// one, and if so drops its leading space.
func (r *Reader) continues() bool {
	p, err := r.br.Peek(1)
	if err != nil {
		if err != io.EOF {
			r.peekErr = err // bufio hands an error out once: keep it
		}
		return false
	}
	if p[0] != ' ' && p[0] != '\t' {
		return false
	}
	_, _ = r.br.Discard(1)
	return true
}

// readPhysical reads one physical line, appending it to r.buf without its
// line break (or dropping it when discard is set). It reports whether the
// line ended with a line break.
func (r *Reader) readPhysical(discard bool) (newline bool, err error) {
	r.line++
	r.truncated = false
	for {
		chunk, err := r.br.ReadSlice('\n')
		if !discard {
			if len(r.buf)+len(chunk) > r.maxLine+2 {
				return false, r.tooLong()
			}
			r.buf = append(r.buf, chunk...)
		}
		switch err {
		case nil:
			if !discard {
				r.buf = r.buf[:len(r.buf)-1]
				r.buf = bytes.TrimSuffix(r.buf, []byte{'\r'})
			}
			return true, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if !discard {
				r.buf = bytes.TrimSuffix(r.buf, []byte{'\r'})
			}
			r.truncated = true
			r.warn("the file does not end with a line break: check that it is complete")
			return false, nil
		default:
			return false, r.readError(err, r.line)
		}
	}
}

func (r *Reader) tooLong() error {
	if r.inHeader {
		return r.notLDIF(r.bufLine)
	}
	if i := bytes.IndexByte(r.buf[:min(len(r.buf), 256)], ':'); i > 0 && validName(r.buf[:i]) {
		what := "the value of " + string(r.buf[:i])
		if equalFold(r.buf[:i], "dn") {
			what = "the DN"
		}
		return r.fail(r.bufLine, "%s is larger than %s, the limit for one value", what, sizeText(r.opts.MaxValueBytes))
	}
	return r.fail(r.bufLine, "the line is longer than %s", sizeText(r.maxLine))
}

func (r *Reader) readError(err error, line int) error {
	var ee *encodingError
	if errors.As(err, &ee) {
		return r.fail(line, "%s", ee.msg)
	}
	r.err = err // an I/O error from the source, passed through as the other readers do
	return r.err
}

// splitAttr splits "name: value", "name:: base64" or "name:< url", dropping
// the spaces (FILL) before the value, and after a base64 value or a URL.
func splitAttr(line []byte) (name []byte, vk valueKind, val []byte, ok bool) {
	i := bytes.IndexByte(line, ':')
	if i < 0 {
		return nil, plainValue, nil, false
	}
	name, val = line[:i], line[i+1:]
	if len(val) > 0 {
		switch val[0] {
		case ':':
			vk, val = base64Value, val[1:]
		case '<':
			vk, val = urlValue, val[1:]
		}
	}
	val = bytes.TrimLeft(val, " ")
	if vk != plainValue {
		val = bytes.TrimRight(val, " ")
	}
	return name, vk, val, true
}

// validName reports whether name is an attribute description: a name or an
// OID, then options, each made of letters, digits and hyphens. Underscores
// are let through (some directories allow them in custom attribute names),
// and so is '=' in an option, for AD's ranged values ("member;range=0-1499").
func validName(name []byte) bool {
	if len(name) == 0 || !isAlnum(name[0]) {
		return false
	}
	inOptions := false
	for _, c := range name[1:] {
		switch {
		case isAlnum(c) || c == '-' || c == '.' || c == '_':
		case c == ';':
			inOptions = true
		case c == '=' && inOptions:
		default:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// equalFold compares an ASCII name with a lower-case constant.
func equalFold(name []byte, lower string) bool {
	if len(name) != len(lower) {
		return false
	}
	for i := range len(name) {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// isText reports whether a decoded value can be kept as a string: UTF-8
// without NUL (which neither JSON consumers nor PostgreSQL text keep).
func isText(b []byte) bool {
	return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0
}

// binaryTypes are attribute types whose values are bytes, not text, even
// when some value happens to be valid UTF-8 (an objectGUID can be).
var binaryTypes = map[string]bool{
	"objectguid": true, "objectsid": true, "sidhistory": true, "tokengroups": true,
	"ms-ds-consistencyguid": true, "ms-ds-creatorsid": true,
	"msexchmailboxguid": true, "msexcharchiveguid": true, "msexchmasteraccountsid": true,
	"msexchmailboxsecuritydescriptor": true, "msexchsafesendershash": true,
	"msexchblockedsendershash": true, "msexchsaferecipientshash": true,
	"ntsecuritydescriptor": true, "logonhours": true, "terminalserver": true,
	"jpegphoto": true, "thumbnailphoto": true, "thumbnaillogo": true, "photo": true, "audio": true,
	"usercertificate": true, "usersmimecertificate": true, "cacertificate": true,
	"crosscertificatepair": true, "certificaterevocationlist": true,
	"authorityrevocationlist": true, "deltarevocationlist": true, "userpkcs12": true,
}

// isBinaryType reports whether a lower-cased attribute description names
// binary values.
func isBinaryType(lower string) bool {
	typ, opts, _ := strings.Cut(lower, ";")
	if binaryTypes[typ] {
		return true
	}
	for opt := range strings.SplitSeq(opts, ";") {
		if opt == "binary" {
			return true
		}
	}
	return false
}

// excerpt quotes at most the first 40 bytes of b for a message.
func excerpt(b []byte) string {
	const limit = 40
	if len(b) <= limit {
		return string(b)
	}
	cut := limit
	for cut > limit-4 && cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	return string(b[:cut]) + "…"
}

// cleanExcerpt is excerpt made safe to print unquoted: valid UTF-8 without
// control characters.
func cleanExcerpt(b []byte) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f {
			return '?'
		}
		return c
	}, strings.ToValidUTF8(excerpt(b), "\uFFFD"))
}

func sizeText(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
