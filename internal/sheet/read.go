package sheet

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf16"
)

// Read reads a table from an uploaded file called name (used for CSV's sheet
// name and in messages only: the format is told from the content).
//
// It reads at most limit bytes (DefaultMaxBytes when limit <= 0) and refuses a
// larger file as soon as it has read one byte more, without reading the rest.
// An XLSX file — a zip holding [Content_Types].xml and xl/workbook.xml — gives
// its first worksheet, or the one named with WithSheet; cells are read as
// stored, never through their number format: text as it is, numbers in plain
// decimal notation to Excel's 15 significant digits, cells formatted as dates
// or times in ISO 8601 ("2026-01-02", "13:45:00", "2026-01-02 13:45:00"),
// booleans as TRUE and FALSE. A cell holding a formula refuses the file. Any
// other content is CSV: UTF-8 with or without a byte-order mark, or UTF-16 LE
// or BE with one; the delimiter (, ; TAB or |) is the one the header line
// uses most, or the one an Excel "sep=" first line names; every cell goes
// through UnescapeCell.
//
// Row 1 is the header. See Table for the shape of the result. A problem with
// the file is an *Error; an error reading r is returned wrapped, as is.
func Read(r io.Reader, name string, limit int64, opts ...Option) (Table, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	lim := o.limits.withDefaults()
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return Table{}, fmt.Errorf("sheet: reading %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return Table{}, &Error{Message: fmt.Sprintf("%s is larger than the %s limit: split it into smaller files", fileLabel(name), byteSize(limit))}
	}
	if len(data) == 0 {
		return Table{}, emptyFile(name)
	}
	switch {
	case bytes.HasPrefix(data, []byte("PK\x03\x04")), bytes.HasPrefix(data, []byte("PK\x05\x06")):
		return readXLSX(data, name, o.sheet, lim)
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return Table{}, notSpreadsheet(name, "it is a PDF document")
	case bytes.HasPrefix(data, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")):
		return Table{}, &Error{Message: fmt.Sprintf("%s is an Excel 97–2003 workbook (.xls) or a password-protected file, which Ferry cannot read: remove any password and save it as .xlsx or as CSV UTF-8", fileLabel(name))}
	}
	text, err := decodeText(data, name)
	if err != nil {
		return Table{}, err
	}
	if len(bytes.TrimSpace(text)) == 0 {
		return Table{}, emptyFile(name)
	}
	if err := checkText(text, name); err != nil {
		return Table{}, err
	}
	if looksMarkup(text) {
		return Table{}, notSpreadsheet(name, "it is a web page or an XML file, as some tools write under an .xls name; open it in a spreadsheet and save it as .xlsx or CSV")
	}
	return readCSV(text, name, lim)
}

// decodeText strips a UTF-8 byte-order mark or decodes UTF-16 that has one.
func decodeText(data []byte, name string) ([]byte, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")):
		return data[3:], nil
	case bytes.HasPrefix(data, []byte("\xFF\xFE")), bytes.HasPrefix(data, []byte("\xFE\xFF")):
		big := data[0] == 0xFE
		data = data[2:]
		if len(data)%2 != 0 {
			return nil, &Error{Message: fmt.Sprintf("%s says it is UTF-16 but has an odd number of bytes, so its text is broken: save it as CSV UTF-8 and upload it again", fileLabel(name))}
		}
		units := make([]uint16, len(data)/2)
		for i := range units {
			if big {
				units[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
			} else {
				units[i] = uint16(data[2*i+1])<<8 | uint16(data[2*i])
			}
		}
		for i := 0; i < len(units); i++ {
			switch u := units[i]; {
			case u >= 0xD800 && u < 0xDC00 && i+1 < len(units) && units[i+1] >= 0xDC00 && units[i+1] < 0xE000:
				i++
			case u >= 0xD800 && u < 0xE000:
				return nil, &Error{Message: fmt.Sprintf("%s says it is UTF-16 but holds a broken character (an unpaired surrogate at byte %s): save it as CSV UTF-8 and upload it again", fileLabel(name), thousands(int64(2+2*i)))}
			}
		}
		return []byte(string(utf16.Decode(units))), nil
	}
	return data, nil
}

// checkText refuses binary files that are not text at all; invalid UTF-8 in
// otherwise textual content is left for the CSV reader, which names the cell.
func checkText(text []byte, name string) error {
	if bytes.IndexByte(text, 0) >= 0 {
		if looksUTF16(text) {
			return &Error{Message: fmt.Sprintf("%s looks like UTF-16 text without a byte-order mark, which cannot be read reliably: save it as CSV UTF-8 and upload it again", fileLabel(name))}
		}
		return notSpreadsheet(name, "it holds binary data")
	}
	head := text[:min(len(text), 8192)]
	control := 0
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' {
			control++
		}
	}
	if control*100 > len(head) {
		return notSpreadsheet(name, "it holds binary data")
	}
	return nil
}

// looksUTF16 reports whether every other byte of the start is NUL, as in
// ASCII text encoded as UTF-16.
func looksUTF16(text []byte) bool {
	head := text[:min(len(text), 512)]
	if len(head) < 4 {
		return false
	}
	for _, off := range []int{0, 1} {
		zeros := 0
		for i := off; i < len(head); i += 2 {
			if head[i] == 0 {
				zeros++
			}
		}
		if zeros*10 >= (len(head)/2)*9 {
			return true
		}
	}
	return false
}

func fileLabel(name string) string {
	if name == "" {
		return "the file"
	}
	return fmt.Sprintf("%q", name)
}

func emptyFile(name string) error {
	return &Error{Message: fmt.Sprintf("%s is empty: a spreadsheet needs a header row of column names", fileLabel(name))}
}

func notSpreadsheet(name, why string) error {
	return &Error{Message: fmt.Sprintf("%s is not a spreadsheet (%s): upload a CSV or XLSX file", fileLabel(name), why)}
}

// looksMarkup reports whether text starts as HTML or XML does.
func looksMarkup(text []byte) bool {
	head := bytes.ToLower(bytes.TrimSpace(text[:min(len(text), 1024)]))
	for _, p := range []string{"<?xml", "<!doctype", "<html", "<table"} {
		if bytes.HasPrefix(head, []byte(p)) {
			return true
		}
	}
	return false
}
