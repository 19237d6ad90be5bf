package docs

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/sheet"
)

// Sheet names and header rows of the workbooks.
const (
	MatrixSheetName = "Matrix"
	PIISheetName    = "PII register"
)

// MatrixHeader is the header row of the matrix workbook.
var MatrixHeader = []string{"Source", "Field", "Field type", "Personal data", "Status", "Okta attribute", "Priority", "Transformation", "Transformation (JSON)", "Notes"}

// PIIHeader is the header row of the PII register workbook.
var PIIHeader = []string{"Source", "Field", "Category", "Status", "Decision", "Transform method", "Lawful basis", "Retention", "Comment", "Decided by", "Decided"}

// DefectHeader is the header row of the defect log workbook: the
// guidance's fields.
var DefectHeader = defectHeader

// XLSX writes one workbook: the matrix, the PII register (fields and
// decisions, never values) or the defect log. Every cell is text, never a
// formula (internal/sheet); the header row is bold, frozen and filtered.
func XLSX(w io.Writer, d *Document, s Sheet) error {
	if d == nil || d.Plan == nil {
		return fmt.Errorf("docs: the document has no plan")
	}
	p := d.Plan
	var t sheet.Table
	var title string
	switch s {
	case SheetMatrix:
		title = "Attribute-mapping matrix"
		fieldType := map[[2]string][2]string{}
		for _, src := range p.Sources {
			for _, f := range src.Fields {
				fieldType[[2]string{src.Name, f.Name}] = [2]string{mapping.LabelOf(mapping.DataTypes(), f.DataType), mapping.LabelOf(mapping.PIIStates(), f.PII)}
			}
		}
		t = sheet.Table{Sheet: MatrixSheetName, Header: MatrixHeader, Rows: [][]string{}}
		for _, r := range p.Matrix {
			ft := fieldType[[2]string{r.Source, r.Field}]
			prio, raw := "", ""
			if r.Status == "mapped" {
				prio = strconv.Itoa(r.Priority)
			}
			if len(r.Transform) > 0 && string(r.Transform) != "null" {
				raw = string(r.Transform)
			}
			t.Rows = append(t.Rows, []string{r.Source, r.Field, ft[0], ft[1], r.Status, r.Target, prio, transformText(r.Transform), raw, r.Notes})
		}
	case SheetPII:
		title = "PII register"
		t = sheet.Table{Sheet: PIISheetName, Header: PIIHeader, Rows: [][]string{}}
		for _, r := range piiRows(p) {
			t.Rows = append(t.Rows, []string{r.Source, r.Field, r.Category, r.Status, r.Decision, r.Method, r.Basis, r.Retention, r.Comment, r.DecidedBy, r.DecidedAt})
		}
	case SheetDefects:
		title = "Defect log"
		t = sheet.Table{Sheet: defects.SheetName, Header: DefectHeader, Rows: [][]string{}}
		for _, df := range p.Defects {
			t.Rows = append(t.Rows, defectRow(df))
		}
	default:
		return fmt.Errorf("docs: unknown workbook %q", s)
	}
	var buf bytes.Buffer
	if err := sheet.WriteXLSX(&buf, t); err != nil {
		return err
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		return err
	}
	defer f.Close()
	props := &excelize.DocProperties{Title: title + " of " + oneLine(p.Project.Name, 200), Subject: versionLine(d.Version), Creator: "Ferry"}
	if !d.Generated.IsZero() {
		props.Created = d.Generated.UTC().Format("2006-01-02T15:04:05Z")
		props.Modified = props.Created
	}
	if err := f.SetDocProps(props); err != nil {
		return err
	}
	if s == SheetPII {
		// The sign-off travels with the register, in a second sheet.
		if _, err := f.NewSheet("Sign-off"); err != nil {
			return err
		}
		rows := [][]string{{"Plan", versionLine(d.Version)}, {"Sign-off", signOffText(p)}}
		for i, r := range rows {
			for j, v := range r {
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				if err := f.SetCellStr("Sign-off", cell, v); err != nil {
					return err
				}
			}
		}
		if err := f.SetColWidth("Sign-off", "A", "A", 12); err != nil {
			return err
		}
		if err := f.SetColWidth("Sign-off", "B", "B", 100); err != nil {
			return err
		}
	}
	return f.Write(w)
}

// oneLine shortens s to one line of at most n characters.
func oneLine(s string, n int) string {
	r := []rune(mdSpace(s))
	if len(r) > n {
		r = append(r[:n-1], '…')
	}
	return string(r)
}
