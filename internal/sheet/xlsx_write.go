package sheet

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// WriteXLSX writes t as an XLSX workbook of one worksheet; see WriteXLSXBook.
func WriteXLSX(w io.Writer, t Table) error {
	return WriteXLSXBook(w, []Table{t})
}

// WriteXLSXBook writes one worksheet per table, in order. Every cell is a
// typed string — never a formula, never a number or date guessed from its
// text, so "00123", "+4930123456", "1e5", "2026-01-02" and "=1+1" stay text —
// and every column is formatted as Text, so that what a person types into the
// file later stays text as well. The header row is bold and frozen and carries
// an autofilter; columns are as wide as their longest line (within limits);
// cells holding line breaks wrap. A sheet without a name is called "SheetN".
//
// It refuses, as an *Error, what it cannot write faithfully: the rules of
// WriteCSV, plus sheet names Excel rejects or repeats.
func WriteXLSXBook(w io.Writer, tables []Table) error {
	if len(tables) == 0 {
		return &Error{Message: "a workbook needs at least one sheet"}
	}
	names := make([]string, len(tables))
	seen := map[string]bool{}
	for i, t := range tables {
		name := t.Sheet
		if name == "" {
			name = fmt.Sprintf("Sheet%d", i+1)
		}
		if err := checkSheetName(name); err != "" {
			return &Error{Message: fmt.Sprintf("the sheet name %q %s", name, err)}
		}
		if seen[strings.ToLower(name)] {
			return &Error{Message: fmt.Sprintf("two sheets are called %q; sheet names must be unique", name)}
		}
		seen[strings.ToLower(name)] = true
		names[i] = name
		where := ""
		if len(tables) > 1 {
			where = fmt.Sprintf("sheet %q", name)
		}
		if err := checkWritable(t, where, true); err != nil {
			return err
		}
	}

	f := excelize.NewFile()
	defer f.Close()
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // 49 is "@", Text
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{NumFmt: 49, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{NumFmt: 49, Font: &excelize.Font{Bold: true}, Alignment: &excelize.Alignment{Vertical: "top"}})
	if err != nil {
		return err
	}
	for i, t := range tables {
		if i == 0 {
			err = f.SetSheetName("Sheet1", names[0])
		} else {
			_, err = f.NewSheet(names[i])
		}
		if err != nil {
			return err
		}
		if err := writeSheet(f, names[i], t, text, wrap, bold); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	return f.Write(w)
}

func writeSheet(f *excelize.File, sheet string, t Table, text, wrap, bold int) error {
	width := len(t.Header)
	last := ColumnName(width)
	var wrapped []string
	put := func(col, row int, v string) error {
		if v == "" {
			return nil
		}
		ref := fmt.Sprintf("%s%d", ColumnName(col), row)
		if strings.ContainsAny(v, "\r\n") && row > 1 {
			wrapped = append(wrapped, ref)
		}
		return f.SetCellStr(sheet, ref, escapeXString(v))
	}
	for j, h := range t.Header {
		if err := put(j+1, 1, h); err != nil {
			return err
		}
	}
	for i, row := range t.Rows {
		for j, v := range row {
			if err := put(j+1, i+2, v); err != nil {
				return err
			}
		}
	}
	// Column styles reach the cells written above and those a person adds.
	if err := f.SetColStyle(sheet, "A:"+last, text); err != nil {
		return err
	}
	for j := range width {
		col := ColumnName(j + 1)
		if err := f.SetColWidth(sheet, col, col, columnWidth(t, j)); err != nil {
			return err
		}
	}
	for _, ref := range wrapped {
		if err := f.SetCellStyle(sheet, ref, ref, wrap); err != nil {
			return err
		}
	}
	if err := f.SetCellStyle(sheet, "A1", last+"1", bold); err != nil {
		return err
	}
	if err := f.SetPanes(sheet, &excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return err
	}
	return f.AutoFilter(sheet, fmt.Sprintf("A1:%s%d", last, len(t.Rows)+1), nil)
}

// columnWidth is the width, in characters, of column j: its longest line
// (wide East Asian characters count twice, the bold header a little more),
// between 8 and 60. Only the first 2,000 rows are measured.
func columnWidth(t Table, j int) float64 {
	longest := float64(displayWidth(t.Header[j]))*1.1 + 2 // room for the filter button
	for i, row := range t.Rows {
		if i == 2000 {
			break
		}
		if j < len(row) {
			longest = max(longest, float64(displayWidth(row[j])))
		}
	}
	return min(max(longest+1, 8), 60)
}

func displayWidth(s string) int {
	widest := 0
	for line := range strings.SplitSeq(s, "\n") {
		w := 0
		for _, r := range line {
			w++
			if isWide(r) {
				w++
			}
			if w > 100 {
				break
			}
		}
		widest = max(widest, w)
	}
	return widest
}

func isWide(r rune) bool {
	return (r >= 0x1100 && r <= 0x115F) || (r >= 0x2E80 && r <= 0xA4CF) || (r >= 0xAC00 && r <= 0xD7A3) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0xFE30 && r <= 0xFE4F) || (r >= 0xFF00 && r <= 0xFF60) ||
		(r >= 0xFFE0 && r <= 0xFFE6) || (r >= 0x1F300 && r <= 0x1FAFF) || (r >= 0x20000 && r <= 0x3FFFD)
}

// checkSheetName says why Excel would refuse name, or "".
func checkSheetName(name string) string {
	switch {
	case utf16Len(name) > 31:
		return "is longer than 31 characters"
	case strings.ContainsAny(name, `:\/?*[]`):
		return `holds one of : \ / ? * [ ]`
	case strings.HasPrefix(name, "'") || strings.HasSuffix(name, "'"):
		return "starts or ends with an apostrophe"
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	case strings.EqualFold(name, "History"):
		return "is reserved by Excel"
	}
	for _, r := range name {
		if !isXMLChar(r) || r < 0x20 {
			return "holds a control character"
		}
	}
	return ""
}

// escapeXString protects text that looks like OOXML's _xHHHH_ escapes, which
// Excel decodes when it reads a cell: the underscore that starts each such
// sequence, overlapping ones included, is written as _x005F_.
//
// excelize v2.11.1 writes shared strings without escaping them this way (and
// escapes inline strings in a way that loses overlapping sequences), so it is
// done here; the round-trip tests catch a version that starts doing it too.
func escapeXString(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if _, ok := xEscape(s[i:]); ok {
			b.WriteString("_x005F")
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
