package csvextract

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// Defaults for the zero values of Options.
const (
	DefaultMaxFieldBytes  = 1 << 20
	DefaultMaxRecordBytes = 16 << 20
	DefaultMaxRaggedRatio = 0.01
)

// MaxColumns is the most columns a header may have.
const MaxColumns = 10_000

// bufferSize is the bufio.Reader's buffer: lines longer than this are read
// in pieces. A variable so that tests can vary it.
var bufferSize = 256 << 10

// Options tune a Reader; the zero value detects everything and uses the
// defaults.
type Options struct {
	// Delimiter forces the field delimiter, an ASCII character other than a
	// double quote, CR or LF; 0 detects it from the header line.
	Delimiter rune
	// MaxFieldBytes is the largest field, in bytes of UTF-8; 0 means
	// DefaultMaxFieldBytes.
	MaxFieldBytes int
	// MaxRecordBytes is the largest row, in bytes of UTF-8 over all its
	// fields; 0 means DefaultMaxRecordBytes.
	MaxRecordBytes int
	// MaxRaggedRatio is the share of rows that may be ragged; 0 means
	// DefaultMaxRaggedRatio (1%), a negative value allows no ragged row.
	MaxRaggedRatio float64
	// MaxRaggedRows, when > 0, is the most ragged rows allowed whatever
	// their share.
	MaxRaggedRows int
	// SizeHint, when > 0, is the exact size in bytes of the input; it lets
	// the ragged-row share be refused before the end of the file.
	SizeHint int64
	// MultiValueSeparator, when not empty, splits values into several with
	// strings.Split: "a;b" is ["a" "b"], "a;;b" is ["a" "" "b"], and a value
	// without the separator (the empty one included) stays one value.
	MultiValueSeparator string
	// MultiValueColumns names the columns MultiValueSeparator splits; empty
	// means every column.
	MultiValueColumns []string
}

// Reader reads one CSV extract. It implements extract.Reader.
type Reader struct {
	opts   Options
	ratio  float64
	dec    *decoder
	br     *bufio.Reader
	delim  byte
	header []string
	split  []bool // per column: split with MultiValueSeparator

	line    int    // the line the parser is on, from 1
	rec     []byte // the fields of the row being read, end to end
	ends    []int  // where each stored field ends in rec
	nfields int    // fields in the row, stored or not

	rows, ragged, firstRagged int
	err                       error // sticky: io.EOF or the refusal
	warnings                  []string
}

var _ extract.Reader = (*Reader)(nil)

// NewReader detects the encoding and the delimiter and reads the header. An
// *extract.Error refuses the file; any other error is a bad Options or an
// I/O error.
func NewReader(src io.Reader, opts Options) (*Reader, error) {
	if d := opts.Delimiter; d != 0 && (d >= 0x80 || d == '"' || d == '\r' || d == '\n') {
		return nil, fmt.Errorf("csvextract: invalid delimiter %q", d)
	}
	if opts.MaxFieldBytes <= 0 {
		opts.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if opts.MaxRecordBytes <= 0 {
		opts.MaxRecordBytes = DefaultMaxRecordBytes
	}
	r := &Reader{opts: opts, line: 1, ratio: opts.MaxRaggedRatio}
	switch {
	case r.ratio == 0:
		r.ratio = DefaultMaxRaggedRatio
	case r.ratio < 0:
		r.ratio = 0
	}
	dec, err := newDecoder(src, func() { r.warn("converted from Windows-1252") })
	if err != nil {
		return nil, r.readError(err)
	}
	r.dec = dec
	r.br = bufio.NewReaderSize(dec, bufferSize)
	r.delim = byte(opts.Delimiter)
	if r.delim == 0 {
		r.delim = r.detectDelimiter()
	}
	if err := r.readHeader(); err != nil {
		return nil, err
	}
	return r, nil
}

// Columns returns the header's column names.
func (r *Reader) Columns() []string { return append([]string(nil), r.header...) }

// Warnings lists what was converted, each once.
func (r *Reader) Warnings() []string { return append([]string(nil), r.warnings...) }

// Delimiter returns the field delimiter, detected or forced.
func (r *Reader) Delimiter() rune { return rune(r.delim) }

// Encoding names the encoding of the file as decided so far: "UTF-8",
// "UTF-8 with BOM", "UTF-16LE", "UTF-16BE" or "Windows-1252". A file
// that is plain ASCII up to where it has been read is "UTF-8".
func (r *Reader) Encoding() string { return r.dec.encodingName() }

func (r *Reader) warn(w string) {
	for _, have := range r.warnings {
		if have == w {
			return
		}
	}
	r.warnings = append(r.warnings, w)
}

// Next returns the next row, an *extract.RecordError for a ragged row, or
// io.EOF after the last one. After an *extract.Error it returns the same
// error again.
func (r *Reader) Next() (extract.Record, error) {
	start, err := r.nextFields()
	if err != nil {
		return extract.Record{}, err
	}
	return r.record(start), nil
}

// NextRow is Next without the map, for a caller that goes through millions
// of rows: it returns the record's position and its values by column, in
// the order of Columns; values[i] is what Next would give as
// Attributes[Columns()[i]]. The values are the caller's to keep.
func (r *Reader) NextRow() (position int, values [][]string, err error) {
	start, err := r.nextFields()
	if err != nil {
		return 0, nil, err
	}
	return start, r.row(), nil
}

// nextFields reads the next row's fields and returns its position; errors
// are Next's.
func (r *Reader) nextFields() (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	start, err := r.readRecord(len(r.header))
	if err == io.EOF {
		if e := r.checkRagged(true); e != nil {
			err = e
		}
	}
	if err != nil {
		r.err = err
		return 0, err
	}
	r.rows++
	if r.nfields != len(r.header) {
		r.ragged++
		if r.firstRagged == 0 {
			r.firstRagged = start
		}
		if e := r.checkRagged(false); e != nil {
			r.err = e
			return 0, e
		}
		return 0, &extract.RecordError{Position: start, Unit: "line",
			Message: fmt.Sprintf("%d %s where the header has %d", r.nfields, plural(r.nfields, "field", "fields"), len(r.header))}
	}
	return start, nil
}

// record builds the row just read. Its strings share one allocation, never
// the reader's buffers.
func (r *Reader) record(start int) extract.Record {
	s := string(r.rec)
	n := len(r.header)
	vals := make([]string, n)
	attrs := make(map[string][]string, n)
	prev := 0
	for i, end := range r.ends {
		v := s[prev:end]
		prev = end
		if r.split != nil && r.split[i] && strings.Contains(v, r.opts.MultiValueSeparator) {
			attrs[r.header[i]] = strings.Split(v, r.opts.MultiValueSeparator)
			continue
		}
		vals[i] = v
		attrs[r.header[i]] = vals[i : i+1 : i+1]
	}
	return extract.Record{Position: start, Attributes: attrs}
}

// row is record without the map: the values by column.
func (r *Reader) row() [][]string {
	s := string(r.rec)
	n := len(r.header)
	vals := make([]string, n)
	out := make([][]string, n)
	prev := 0
	for i, end := range r.ends {
		v := s[prev:end]
		prev = end
		if r.split != nil && r.split[i] && strings.Contains(v, r.opts.MultiValueSeparator) {
			out[i] = strings.Split(v, r.opts.MultiValueSeparator)
			continue
		}
		vals[i] = v
		out[i] = vals[i : i+1 : i+1]
	}
	return out
}

// checkRagged refuses the file when ragged rows pass the limits; see the
// package documentation.
func (r *Reader) checkRagged(atEOF bool) error {
	if r.ragged == 0 {
		return nil
	}
	if limit := r.opts.MaxRaggedRows; limit > 0 && r.ragged > limit {
		return &extract.Error{Message: fmt.Sprintf("more than %d %s have the wrong number of fields (the first on line %d)",
			limit, plural(limit, "row", "rows"), r.firstRagged)}
	}
	pct := strconv.FormatFloat(r.ratio*100, 'g', 4, 64) + "%"
	if atEOF {
		if float64(r.ragged) > r.ratio*float64(r.rows) {
			return &extract.Error{Message: fmt.Sprintf("more than %s of rows have the wrong number of fields: %d of %d (the first on line %d)",
				pct, r.ragged, r.rows, r.firstRagged)}
		}
		return nil
	}
	if r.ratio == 0 {
		return &extract.Error{Message: fmt.Sprintf("a row has the wrong number of fields (line %d) and none may", r.firstRagged)}
	}
	if r.opts.SizeHint <= 0 {
		return nil
	}
	// The most well-formed rows the rest of the input can hold: each has at
	// least a delimiter per column but one, and a newline unless it is last.
	d := r.dec
	consumed := d.rawRead - int64(d.rw-d.rr) - d.rawPerByte()*int64(len(d.out)+r.br.Buffered())
	left := max(r.opts.SizeHint-consumed, 0)
	most := r.rows + int(left/(d.rawPerByte()*int64(max(len(r.header)-1, 1))))
	if float64(r.ragged) > r.ratio*float64(most) {
		return &extract.Error{Message: fmt.Sprintf("more than %s of rows have the wrong number of fields: %d already, of at most %d (the first on line %d)",
			pct, r.ragged, most, r.firstRagged)}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// readError places an error from the decoder or the source at the current
// line; io.EOF passes through.
func (r *Reader) readError(err error) error {
	var de *decodeError
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.As(err, &de):
		return &extract.Error{Position: r.line, Unit: "line", Message: de.msg}
	}
	return fmt.Errorf("csvextract: reading line %d: %w", r.line, err)
}

// detectDelimiter picks the delimiter from the header line, looking at up
// to one buffer of it.
func (r *Reader) detectDelimiter() byte {
	for n := 4 << 10; ; n *= 2 {
		n = min(n, bufferSize)
		b, err := r.br.Peek(n)
		delim, complete := scanHeader(b)
		if complete || err != nil || n == bufferSize {
			return delim
		}
	}
}

// scanHeader counts the candidate delimiters outside quotes on the first
// non-blank line of b; complete reports whether the line ended within b.
func scanHeader(b []byte) (delim byte, complete bool) {
	candidates := [...]byte{',', ';', '\t', '|'}
	var counts [len(candidates)]int
	b = bytes.TrimLeft(b, "\r\n")
	quoted := false
scan:
	for _, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\n':
			complete = true
			break scan
		default:
			for i, d := range candidates {
				if c == d {
					counts[i]++
				}
			}
		}
	}
	best := 0
	for i := range candidates {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return candidates[best], complete
}

// readHeader reads the header row and checks its names.
func (r *Reader) readHeader() error {
	start, err := r.readRecord(MaxColumns + 1)
	if err == io.EOF {
		return &extract.Error{Message: "the file is empty"}
	}
	if err != nil {
		return err
	}
	if r.nfields > MaxColumns {
		return &extract.Error{Position: start, Unit: "line", Message: fmt.Sprintf("the header has more than %d columns", MaxColumns)}
	}
	s := string(r.rec)
	names := make([]string, len(r.ends))
	prev := 0
	for i, end := range r.ends {
		names[i], prev = s[prev:end], end
	}
	var empty []string
	seen := make(map[string]int, len(names))
	var dups []string
	for i, name := range names {
		if strings.TrimSpace(name) == "" {
			empty = append(empty, strconv.Itoa(i+1))
			continue
		}
		if first, ok := seen[name]; ok {
			dups = append(dups, fmt.Sprintf("%q (columns %d and %d)", name, first+1, i+1))
			continue
		}
		seen[name] = i
	}
	var problems []string
	if len(empty) > 0 {
		problems = append(problems, fmt.Sprintf("the header has no name for %s %s", plural(len(empty), "column", "columns"), strings.Join(empty, ", ")))
	}
	if len(dups) > 0 {
		problems = append(problems, "the header names the same column twice: "+strings.Join(dups, ", "))
	}
	if len(problems) > 0 {
		return &extract.Error{Position: start, Unit: "line", Message: strings.Join(problems, "; ")}
	}
	r.header = names
	if r.opts.MultiValueSeparator != "" {
		r.split = make([]bool, len(names))
		for i, name := range names {
			r.split[i] = len(r.opts.MultiValueColumns) == 0
			for _, c := range r.opts.MultiValueColumns {
				if c == name {
					r.split[i] = true
				}
			}
		}
	}
	return nil
}

// readRecord reads one row, storing its first maxStore fields in rec and
// ends and counting them all in nfields. It returns the line the row starts
// on, io.EOF when no row is left, or the error that refuses the file.
func (r *Reader) readRecord(maxStore int) (int, error) {
	r.rec, r.ends, r.nfields = r.rec[:0], r.ends[:0], 0
	for { // blank lines
		b, err := r.br.Peek(1)
		if len(b) == 0 {
			return 0, r.readError(err)
		}
		if b[0] == '\r' {
			b, _ = r.br.Peek(2)
		}
		if b[0] == '\n' || len(b) == 2 && b[1] == '\n' {
			_, _ = r.br.Discard(len(b))
			r.line++
			continue
		}
		break
	}
	start := r.line
	maxField, maxRecord, delim := r.opts.MaxFieldBytes, r.opts.MaxRecordBytes, r.delim
	var (
		atStart    = true // at the start of a field
		quoted     bool   // the field started with a quote
		afterQuote bool   // the last byte was a quote inside the quoted field
		fieldLen   int    // bytes in the field so far, stored or not
		fieldOff   int    // where the field starts in rec
		fieldLine  int    // the line the field starts on
	)
	// add appends to the current field, within the limits.
	add := func(b []byte) error {
		fieldLen += len(b)
		if fieldLen > maxField {
			msg := "a field is larger than " + size(maxField)
			if quoted {
				msg += "; is its closing quote missing?"
			}
			return &extract.Error{Position: fieldLine, Unit: "line", Message: msg}
		}
		if r.nfields < maxStore {
			r.rec = append(r.rec, b...)
			if len(r.rec) > maxRecord {
				return &extract.Error{Position: start, Unit: "line", Message: "the row is larger than " + size(maxRecord)}
			}
		}
		return nil
	}
	end := func() {
		if r.nfields < maxStore {
			r.ends = append(r.ends, len(r.rec))
		}
		r.nfields++
		atStart = true
	}
	for {
		seg, rerr := r.br.ReadSlice('\n') // at most one '\n', at its end
		for len(seg) > 0 {
			if atStart {
				atStart, quoted, afterQuote = false, false, false
				fieldLen, fieldOff, fieldLine = 0, len(r.rec), r.line
				if seg[0] == '"' {
					quoted = true
					seg = seg[1:]
					continue
				}
			}
			if !quoted {
				if i := bytes.IndexByte(seg, delim); i >= 0 {
					if err := add(seg[:i]); err != nil {
						return 0, err
					}
					end()
					seg = seg[i+1:]
					continue
				}
				if seg[len(seg)-1] != '\n' {
					if err := add(seg); err != nil {
						return 0, err
					}
					break
				}
				if err := add(seg[:len(seg)-1]); err != nil {
					return 0, err
				}
				if n := len(r.rec); r.nfields < maxStore && n > fieldOff && r.rec[n-1] == '\r' {
					r.rec = r.rec[:n-1]
				}
				end()
				r.line++
				return start, nil
			}
			if afterQuote {
				afterQuote = false
				switch c := seg[0]; c {
				case '"': // a doubled quote
					if err := add(seg[:1]); err != nil {
						return 0, err
					}
					seg = seg[1:]
					continue
				case delim:
					end()
					seg = seg[1:]
					continue
				case '\n':
					end()
					r.line++
					return start, nil
				case '\r':
					if len(seg) >= 2 && seg[1] == '\n' {
						end()
						r.line++
						return start, nil
					}
					if len(seg) == 1 { // the piece ends here: look at what follows
						b, err := r.br.Peek(1)
						switch {
						case len(b) == 1 && b[0] == '\n':
							_, _ = r.br.Discard(1)
							end()
							r.line++
							return start, nil
						case len(b) == 0 && err == io.EOF:
							end()
							return start, nil
						case len(b) == 0:
							return 0, r.readError(err)
						}
					}
				}
				return 0, &extract.Error{Position: r.line, Unit: "line",
					Message: `text after the closing quote of a field (a quote inside a quoted field is written "")`}
			}
			i := bytes.IndexByte(seg, '"')
			if i < 0 {
				if err := add(seg); err != nil {
					return 0, err
				}
				if seg[len(seg)-1] == '\n' {
					r.line++
				}
				break
			}
			if err := add(seg[:i]); err != nil {
				return 0, err
			}
			seg = seg[i+1:]
			afterQuote = true
		}
		switch rerr {
		case nil, bufio.ErrBufferFull:
			continue
		case io.EOF:
			if quoted && !afterQuote && !atStart {
				return 0, &extract.Error{Position: fieldLine, Unit: "line",
					Message: "a quoted field starts here and is never closed (a closing quote is missing)"}
			}
			end()
			return start, nil
		}
		return 0, r.readError(rerr)
	}
}

func size(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
