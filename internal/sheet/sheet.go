// Package sheet reads and writes simple tables — one header row of column
// names and rows of strings — as CSV and XLSX, so that the plan's documents
// (the attribute-mapping matrix, the PII register, the defect log) make
// lossless round trips through spreadsheets.
//
// Safety is the point of the package:
//   - nothing Ferry writes can run as a formula: XLSX cells are typed strings
//     in text-formatted columns, CSV cells that a spreadsheet would evaluate are
//     escaped (see EscapeCell) and Read undoes that escaping;
//   - Read never trusts an upload: it reads at most a fixed number of bytes,
//     caps what a zip may unpack to and how many rows, columns and characters
//     a table may hold, refuses formulas, and reports every problem as one
//     *Error naming the row and column a person sees in a spreadsheet.
package sheet

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
)

// Table is one sheet: a header row of column names and rows of cells.
//
// Read returns tables whose every row has exactly len(Header) cells, and whose
// Rows[i] is the row a spreadsheet shows as number i+2 (the header is row 1):
// blank rows inside the table are kept as rows of empty strings so that this
// holds; blank rows after the last one that holds a value are dropped. Use
// RowNumber to turn an index into the number to show.
type Table struct {
	// Sheet is the name of the worksheet; for CSV, the file name without its
	// extension. Writers use "Sheet1" when it is empty.
	Sheet  string
	Header []string
	Rows   [][]string
}

// Column returns the index of the header column called name, comparing case-
// insensitively and ignoring all white space ("Source field", "sourcefield"
// and " SOURCE  FIELD " are the same column).
func (t Table) Column(name string) (int, bool) {
	key := headerKey(name)
	for i, h := range t.Header {
		if headerKey(h) == key {
			return i, true
		}
	}
	return -1, false
}

// RowNumber is the number a spreadsheet shows for t.Rows[i].
func (t Table) RowNumber(i int) int { return i + 2 }

// RequireColumns returns an *Error on the header row naming every one of names
// that t lacks (compared as Column compares), or nil when all are present.
func RequireColumns(t Table, names ...string) error {
	var missing []string
	for _, n := range names {
		if _, ok := t.Column(n); !ok {
			missing = append(missing, fmt.Sprintf("%q", n))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	what := "column " + missing[0]
	if len(missing) > 1 {
		what = "columns " + strings.Join(missing[:len(missing)-1], ", ") + " and " + missing[len(missing)-1]
	}
	has := "no columns"
	if len(t.Header) > 0 {
		has = "these columns: " + strings.Join(t.Header, ", ")
	}
	return &Error{Row: 1, Message: fmt.Sprintf("the header row lacks the %s; it has %s", what, has)}
}

// Error is a problem with a spreadsheet, placed where a person will look for
// it. Row and Column are 1-based as a spreadsheet shows them (column 1 is A);
// either is 0 when the problem concerns a whole column, a whole row or the
// whole file. Message is safe to show to the person who uploaded the file.
type Error struct {
	Row     int
	Column  int
	Message string
}

func (e *Error) Error() string {
	switch {
	case e.Row > 0 && e.Column > 0:
		return fmt.Sprintf("row %d, column %s: %s", e.Row, ColumnName(e.Column), e.Message)
	case e.Row > 0:
		return fmt.Sprintf("row %d: %s", e.Row, e.Message)
	case e.Column > 0:
		return fmt.Sprintf("column %s: %s", ColumnName(e.Column), e.Message)
	}
	return e.Message
}

// ColumnName returns a spreadsheet's name for the 1-based column n: 1 is "A",
// 27 is "AA".
func ColumnName(n int) string {
	if n < 1 {
		return "?"
	}
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('A' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

// Limits bound what Read accepts. A zero field takes its default.
type Limits struct {
	MaxRows          int   // rows below the header; default 100,000
	MaxColumns       int   // default 200
	MaxCellChars     int   // characters per cell, counted as Excel counts them (UTF-16 units); default 32,767, Excel's own limit
	MaxCells         int   // rows × columns; default 2,000,000
	MaxUnzippedBytes int64 // what the parts of an XLSX that Read opens may unpack to; default 256 MiB
}

// Default limits; see Limits.
const (
	DefaultMaxBytes         = 10 << 20 // Read's limit when it is given 0 or less
	DefaultMaxRows          = 100_000
	DefaultMaxColumns       = 200
	DefaultMaxCellChars     = 32_767
	DefaultMaxCells         = 2_000_000
	DefaultMaxUnzippedBytes = 256 << 20
)

func (l Limits) withDefaults() Limits {
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultMaxRows
	}
	if l.MaxColumns <= 0 {
		l.MaxColumns = DefaultMaxColumns
	}
	if l.MaxCellChars <= 0 {
		l.MaxCellChars = DefaultMaxCellChars
	}
	if l.MaxCells <= 0 {
		l.MaxCells = DefaultMaxCells
	}
	if l.MaxUnzippedBytes <= 0 {
		l.MaxUnzippedBytes = DefaultMaxUnzippedBytes
	}
	return l
}

// Option changes how Read reads.
type Option func(*options)

type options struct {
	sheet  string
	limits Limits
}

// WithSheet makes Read take the worksheet called name (compared case-
// insensitively, as Excel does) instead of the first one. CSV files ignore it.
func WithSheet(name string) Option { return func(o *options) { o.sheet = name } }

// WithLimits replaces Read's limits; zero fields keep their defaults.
func WithLimits(l Limits) Option { return func(o *options) { o.limits = l } }

// headerKey is what Column and the duplicate check compare: the name folded
// to lower case with all white space (and zero-width characters) removed.
func headerKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// utf16Len counts s as Excel counts a cell's characters.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r) // an invalid byte is U+FFFD here: one unit
	}
	return n
}

// checkHeader applies the rules every header must meet, for the readers and
// the writers alike: at least one name, no empty name, no name twice.
func checkHeader(header []string, maxColumns int) error {
	if len(header) == 0 {
		return &Error{Row: 1, Message: "the header row is missing: the first row must hold the column names"}
	}
	if maxColumns > 0 && len(header) > maxColumns {
		return &Error{Row: 1, Message: fmt.Sprintf("the header row has %d columns; at most %d are allowed", len(header), maxColumns)}
	}
	seen := make(map[string]int, len(header))
	for i, h := range header {
		k := headerKey(h)
		if k == "" {
			return &Error{Row: 1, Column: i + 1, Message: "this column has no name in the header row; every column needs one"}
		}
		if j, ok := seen[k]; ok {
			return &Error{Row: 1, Column: i + 1, Message: fmt.Sprintf("the column name %q is already used by column %s; column names must be unique", h, ColumnName(j+1))}
		}
		seen[k] = i
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%s %s", thousands(int64(n)), many)
}

// thousands formats n with comma separators: 100000 → "100,000".
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// byteSize formats a byte count for a person: "10 MiB", "512 KiB", "900 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return thousands(n>>20) + " MiB"
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return thousands(n>>10) + " KiB"
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return plural(int(n), "byte", "bytes")
}
