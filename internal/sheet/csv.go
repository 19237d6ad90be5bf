package sheet

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteCSV writes t as CSV for spreadsheets: UTF-8 with a byte-order mark
// (Excel reads a CSV without one in the computer's legacy code page and turns
// "Müller" into "MÃ¼ller"; every other tool, Read included, skips it), comma
// separated, CRLF line ends, quoted as RFC 4180 says (a cell holding a quote,
// a line break or any of , ; TAB | is put in quotes, and its quotes doubled),
// and every cell passed through EscapeCell. Rows shorter than the header are
// padded with empty cells. It refuses, as an *Error, a table that Read could
// not read back the same: a missing, empty or repeated column name, a row
// longer than the header, a cell that is not valid UTF-8, is longer than
// Excel's 32,767 characters or holds a control character other than TAB, LF
// and CR (which XLSX cannot hold).
func WriteCSV(w io.Writer, t Table) error {
	if err := checkWritable(t, "", false); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("\ufeff")
	writeCSVRecord(bw, t.Header, len(t.Header))
	for _, row := range t.Rows {
		writeCSVRecord(bw, row, len(t.Header))
	}
	return bw.Flush()
}

func writeCSVRecord(bw *bufio.Writer, cells []string, width int) {
	for i := range width {
		if i > 0 {
			bw.WriteByte(',')
		}
		var v string
		if i < len(cells) {
			v = EscapeCell(cells[i])
		}
		// Quoting every candidate delimiter, not only the comma, keeps Read's
		// delimiter detection from mistaking a one-column header "a;b" for two.
		if strings.ContainsAny(v, "\",;\t|\r\n") {
			bw.WriteByte('"')
			bw.WriteString(strings.ReplaceAll(v, `"`, `""`))
			bw.WriteByte('"')
		} else {
			bw.WriteString(v)
		}
	}
	bw.WriteString("\r\n")
}

// checkWritable refuses a table that the writers cannot write faithfully, or
// that Read would not give back the same. where names the sheet of a book.
func checkWritable(t Table, where string, xlsx bool) error {
	wrap := func(err *Error) error {
		if where != "" {
			err.Message = where + ": " + err.Message
		}
		return err
	}
	maxColumns := 0
	if xlsx {
		maxColumns = 16_384 // Excel's last column, XFD
		if len(t.Rows) > 1_048_575 {
			return wrap(&Error{Message: fmt.Sprintf("the table has %s rows; a worksheet holds at most 1,048,575 below the header", thousands(int64(len(t.Rows))))})
		}
	}
	if err := checkHeader(t.Header, maxColumns); err != nil {
		return wrap(err.(*Error))
	}
	check := func(row int, cells []string) error {
		if len(cells) > len(t.Header) {
			return wrap(&Error{Row: row, Column: len(t.Header) + 1, Message: fmt.Sprintf("the row has %d cells but the header has only %d columns", len(cells), len(t.Header))})
		}
		for j, c := range cells {
			if err := checkCellText(c); err != "" {
				return wrap(&Error{Row: row, Column: j + 1, Message: err})
			}
		}
		return nil
	}
	if err := check(1, t.Header); err != nil {
		return err
	}
	for i, row := range t.Rows {
		if err := check(i+2, row); err != nil {
			return err
		}
	}
	return nil
}

// checkCellText says what is wrong with a cell's text for writing, or "".
func checkCellText(c string) string {
	if !utf8.ValidString(c) {
		return "the cell's text is not valid UTF-8"
	}
	if n := utf16Len(c); n > DefaultMaxCellChars {
		return fmt.Sprintf("the cell holds %s characters; a spreadsheet cell holds at most %s", thousands(int64(n)), thousands(DefaultMaxCellChars))
	}
	for _, r := range c {
		if !isXMLChar(r) {
			// XLSX cannot hold them at all, and Read takes a CSV full of
			// them for a binary file: refuse them in both formats alike.
			return fmt.Sprintf("the cell holds the control character U+%04X, which a spreadsheet cannot hold", r)
		}
	}
	return ""
}

// isXMLChar reports whether XML 1.0 (and so XLSX) can hold r.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// readCSV reads text that is already UTF-8 (or meant to be) without a BOM.
func readCSV(text []byte, name string, lim Limits) (Table, error) {
	delim, text := detectDelimiter(text)
	p := &csvParser{data: text, delim: delim}
	t := Table{Sheet: csvSheetName(name)}

	// The header: trailing empty cells are dropped (Excel writes them for
	// columns that were only formatted); what remains must be a valid header.
	header, extra, err := p.record(lim.MaxColumns)
	if err != nil {
		return Table{}, err
	}
	if extra > 0 {
		return Table{}, &Error{Row: 1, Column: extra, Message: fmt.Sprintf("the header row has more than %d columns; at most %d are allowed", lim.MaxColumns, lim.MaxColumns)}
	}
	for len(header) > 0 && header[len(header)-1] == "" {
		header = header[:len(header)-1]
	}
	if len(header) == 0 {
		return Table{}, &Error{Row: 1, Message: "the header row is missing: row 1 is empty, but it must hold the column names"}
	}
	for j, h := range header {
		if header[j], err = csvCell(h, 1, j+1, lim); err != nil {
			return Table{}, err
		}
	}
	if err := checkHeader(header, lim.MaxColumns); err != nil {
		return Table{}, err
	}
	t.Header = header
	width := len(header)

	blank := 0 // blank rows seen but not yet kept: kept only if a row with a value follows
	for row := 2; !p.done(); row++ {
		cells, extra, err := p.record(width)
		if err != nil {
			return Table{}, err
		}
		if extra > 0 {
			return Table{}, raggedError(row, extra, width)
		}
		if isBlank(cells) {
			blank++
			continue
		}
		if row-1 > lim.MaxRows {
			return Table{}, tooManyRows(row, lim.MaxRows)
		}
		if (row-1)*width > lim.MaxCells {
			return Table{}, tooManyCells(row, width, lim.MaxCells)
		}
		for ; blank > 0; blank-- {
			t.Rows = append(t.Rows, make([]string, width))
		}
		full := make([]string, width)
		for j, c := range cells {
			if full[j], err = csvCell(c, row, j+1, lim); err != nil {
				return Table{}, err
			}
		}
		t.Rows = append(t.Rows, full)
	}
	return t, nil
}

// csvCell checks one raw cell and undoes EscapeCell.
func csvCell(raw string, row, col int, lim Limits) (string, error) {
	if !utf8.ValidString(raw) {
		return "", &Error{Row: row, Column: col, Message: "the text is not valid UTF-8 (the file is probably in a legacy encoding such as Windows-1252): save it as \"CSV UTF-8\" and upload it again"}
	}
	v := UnescapeCell(raw)
	if n := utf16Len(v); n > lim.MaxCellChars {
		return "", tooLongCell(row, col, n, lim.MaxCellChars)
	}
	return v, nil
}

func raggedError(row, col, width int) error {
	return &Error{Row: row, Column: col, Message: fmt.Sprintf("this row has a value in column %s, but the header row names only %s (A to %s): add a column name or remove the value", ColumnName(col), plural(width, "column", "columns"), ColumnName(width))}
}

func tooManyRows(row, max int) error {
	return &Error{Row: row, Message: fmt.Sprintf("the table has more than %s rows below the header; split it into smaller files", thousands(int64(max)))}
}

func tooManyCells(row, width, max int) error {
	return &Error{Row: row, Message: fmt.Sprintf("the table has more than %s cells (%s × rows); split it into smaller files", thousands(int64(max)), plural(width, "column", "columns"))}
}

func tooLongCell(row, col, n, max int) error {
	return &Error{Row: row, Column: col, Message: fmt.Sprintf("the cell holds %s characters; at most %s are allowed", thousands(int64(n)), thousands(int64(max)))}
}

func isBlank(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

func csvSheetName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	return name
}

// detectDelimiter honours Excel's "sep=;" first line and otherwise picks the
// candidate that occurs most often, outside quotes, in the header line; ties
// go to the earlier of , ; TAB |. It returns the text without a "sep=" line.
func detectDelimiter(text []byte) (byte, []byte) {
	const candidates = ",;\t|"
	line := text
	rest := []byte(nil)
	if i := bytes.IndexAny(text, "\r\n"); i >= 0 {
		line, rest = text[:i], text[i:]
	}
	if len(line) == 5 && bytes.HasPrefix(line, []byte("sep=")) && strings.IndexByte(candidates, line[4]) >= 0 {
		rest = bytes.TrimPrefix(rest, []byte("\r"))
		rest = bytes.TrimPrefix(rest, []byte("\n"))
		return line[4], rest
	}
	var counts [4]int
	quoted := false
	for _, c := range text {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if quoted {
			continue
		}
		if c == '\r' || c == '\n' {
			break
		}
		if i := strings.IndexByte(candidates, c); i >= 0 {
			counts[i]++
		}
	}
	best := 0
	for i := range counts {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return candidates[best], text
}

// csvParser reads RFC 4180 records, keeping every byte of a quoted cell as it
// is (CR and CRLF included), so that round trips are lossless. Outside
// quotes, CRLF, LF and a lone CR all end a record. A quote inside an unquoted
// cell is taken literally, as spreadsheets do.
type csvParser struct {
	data  []byte
	pos   int
	row   int // rows read so far
	delim byte
}

func (p *csvParser) done() bool { return p.pos >= len(p.data) }

// record reads the next record. It keeps at most keep cells; extra is the
// 1-based column of the first non-empty cell beyond those, or 0.
func (p *csvParser) record(keep int) (cells []string, extra int, err error) {
	p.row++
	d, n := p.data, len(p.data)
	for col := 1; ; col++ {
		var field string
		if p.pos < n && d[p.pos] == '"' {
			start := p.pos
			p.pos++
			var b []byte
			for {
				i := bytes.IndexByte(d[p.pos:], '"')
				if i < 0 {
					p.pos = start
					return nil, 0, &Error{Row: p.row, Column: col, Message: "a quoted cell starts here but its closing quote is missing, so the rest of the file would be one cell: close the quote, and write a quote inside a quoted cell as two quotes (\"\")"}
				}
				b = append(b, d[p.pos:p.pos+i]...)
				p.pos += i + 1
				if p.pos < n && d[p.pos] == '"' {
					b = append(b, '"')
					p.pos++
					continue
				}
				break
			}
			if p.pos < n && d[p.pos] != p.delim && d[p.pos] != '\r' && d[p.pos] != '\n' {
				return nil, 0, &Error{Row: p.row, Column: col, Message: "there is text after the closing quote of this cell: put the whole cell in quotes, and write a quote inside it as two quotes (\"\")"}
			}
			field = string(b)
		} else {
			j := p.pos
			for j < n && d[j] != p.delim && d[j] != '\r' && d[j] != '\n' {
				j++
			}
			field = string(d[p.pos:j])
			p.pos = j
		}
		if col <= keep {
			cells = append(cells, field)
		} else if field != "" && extra == 0 {
			extra = col
		}
		if p.pos >= n {
			return cells, extra, nil
		}
		switch d[p.pos] {
		case p.delim:
			p.pos++ // a delimiter at the very end leaves one more, empty, cell
		case '\r':
			p.pos++
			if p.pos < n && d[p.pos] == '\n' {
				p.pos++
			}
			return cells, extra, nil
		case '\n':
			p.pos++
			return cells, extra, nil
		}
	}
}
