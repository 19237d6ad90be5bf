package defects

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/sheet"
)

// ExportHeader is the header row of the exports: the guidance's field names
// first, then what Ferry knows besides.
var ExportHeader = []string{
	"Defect", "Use case number", "Issue description", "Test status", "Ticket status", "Priority", "Error category",
	"Notes / proposed resolution", "Error code", "Users affected", "Run", "Created by", "Created", "Updated",
}

// SheetName is the worksheet of the XLSX export.
const SheetName = "Defect log"

// Table is the defect log as a table of the exports: statuses, priority and
// category by their labels, dates in UTC (RFC 3339).
func Table(defects []Defect) sheet.Table {
	t := sheet.Table{Sheet: SheetName, Header: ExportHeader, Rows: make([][]string, 0, len(defects))}
	for i := range defects {
		d := &defects[i]
		run := ""
		if d.LoadRunID != nil {
			run = strconv.FormatInt(*d.LoadRunID, 10)
		}
		affected := ""
		if d.FromRun() || d.Affected > 0 {
			affected = strconv.FormatInt(d.Affected, 10)
		}
		t.Rows = append(t.Rows, []string{
			d.Ref(), d.UseCase, d.Description, d.TestStatusLabel(), d.TicketStatusLabel(), d.PriorityLabel(), d.CategoryLabel(),
			d.Notes, d.ErrorCode, affected, run, d.CreatedByName, d.CreatedAt.UTC().Format(time.RFC3339), d.UpdatedAt.UTC().Format(time.RFC3339),
		})
	}
	return t
}

// WriteCSV writes the defect log as CSV for spreadsheets (see sheet.WriteCSV:
// UTF-8 with a byte-order mark, CRLF, RFC 4180 quoting). A cell that a
// spreadsheet would take for a formula — one starting with = + - @ TAB or CR —
// gets a leading apostrophe, as OWASP advises against CSV injection.
func WriteCSV(w io.Writer, defects []Defect) error {
	return sheet.WriteCSV(w, Table(defects))
}

// WriteXLSX writes the defect log as an XLSX workbook: one sheet, "Defect
// log", every cell a typed string (never a formula), a bold frozen header
// row with an autofilter, columns as wide as their content, and drop-down
// lists of the allowed values in the status, priority and category columns
// so that the file can be triaged in a spreadsheet. projectName titles the
// workbook's properties.
func WriteXLSX(w io.Writer, projectName string, defects []Defect) error {
	var buf bytes.Buffer
	if err := sheet.WriteXLSX(&buf, Table(defects)); err != nil {
		return err
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		return err
	}
	defer f.Close()
	lists := []struct {
		header string
		opts   []plan.Option
	}{
		{"Test status", TestStatuses()}, {"Ticket status", TicketStatuses()}, {"Priority", Priorities()}, {"Error category", Categories()},
	}
	for _, l := range lists {
		col := 0
		for i, h := range ExportHeader {
			if h == l.header {
				col = i + 1
			}
		}
		name := sheet.ColumnName(col)
		dv := excelize.NewDataValidation(true)
		dv.SetSqref(fmt.Sprintf("%s2:%s1048576", name, name))
		labels := make([]string, len(l.opts))
		for i, o := range l.opts {
			labels[i] = o.Label
		}
		if err := dv.SetDropList(labels); err != nil {
			return err
		}
		dv.SetError(excelize.DataValidationErrorStyleStop, l.header, "Choose one of the listed values.")
		if err := f.AddDataValidation(SheetName, dv); err != nil {
			return err
		}
	}
	title := "Defect log"
	if projectName != "" {
		title = "Defect log of " + cleanLine(projectName, 200)
	}
	if err := f.SetDocProps(&excelize.DocProperties{Title: title, Creator: "Ferry"}); err != nil {
		return err
	}
	return f.Write(w)
}
