package sheet_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/sheet"
	"github.com/xuri/excelize/v2"
)

// MustCSV writes t as CSV.
func MustCSV(tb testing.TB, t sheet.Table) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := sheet.WriteCSV(&b, t); err != nil {
		tb.Fatalf("WriteCSV: %v", err)
	}
	return b.Bytes()
}

// MustXLSX writes t as XLSX.
func MustXLSX(tb testing.TB, t sheet.Table) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := sheet.WriteXLSX(&b, t); err != nil {
		tb.Fatalf("WriteXLSX: %v", err)
	}
	return b.Bytes()
}

// MustRead reads data that must be a good spreadsheet.
func MustRead(tb testing.TB, data []byte, name string, opts ...sheet.Option) sheet.Table {
	tb.Helper()
	t, err := sheet.Read(bytes.NewReader(data), name, 0, opts...)
	if err != nil {
		tb.Fatalf("Read(%s): %v", name, err)
	}
	return t
}

// MustExcelize builds a workbook with excelize, as another tool would.
func MustExcelize(tb testing.TB, build func(f *excelize.File)) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	build(f)
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		tb.Fatalf("excelize Write: %v", err)
	}
	return b.Bytes()
}

// MustZip builds a zip of the given parts, in order.
func MustZip(tb testing.TB, parts ...string) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for i := 0; i+1 < len(parts); i += 2 {
		w, err := zw.Create(parts[i])
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(parts[i+1])); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// minimalXLSX is a hand-made workbook around one worksheet's sheetData, for
// files no well-behaved tool would write.
func minimalXLSX(tb testing.TB, sheetData string, extra ...string) []byte {
	tb.Helper()
	parts := []string{
		"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + sheetData + `</sheetData></worksheet>`,
	}
	return MustZip(tb, append(parts, extra...)...)
}

// sheetError asserts that err is a *sheet.Error at row and column whose
// message holds every one of wants.
func sheetError(tb testing.TB, err error, row, col int, wants ...string) {
	tb.Helper()
	var se *sheet.Error
	if !errors.As(err, &se) {
		tb.Fatalf("want a *sheet.Error, got %T: %v", err, err)
	}
	if se.Row != row || se.Column != col {
		tb.Errorf("error at row %d, column %d; want row %d, column %d: %v", se.Row, se.Column, row, col, err)
	}
	for _, w := range wants {
		if !strings.Contains(se.Error(), w) {
			tb.Errorf("message %q lacks %q", se.Error(), w)
		}
	}
}
