package mapping_test

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/sheet"
)

// seeded is a fixture with a small matrix of two sources: mapped rows with
// and without transformations, an ignored field, an undecided field, PII.
type seeded struct {
	*fixture
	workday                            *plan.Source
	upn, mail, phone, pager, dept, wid *mapping.SourceField
	login, email, primaryPhone, skip   *mapping.Row
	employeeNumber                     *mapping.Row
}

func newSeeded(t *testing.T) *seeded {
	t.Helper()
	s := &seeded{fixture: newFixture(t)}
	s.workday = s.mustSource(t, s.project.ID, "Workday")
	s.upn = s.mustField(t, s.ad.ID, "userPrincipalName", mapping.FieldInput{MaxLength: lenp(100), KnownUnique: ptr(true),
		PII: ptr(mapping.PIIYes), PIICategory: ptr("identifier"), Samples: &[]string{"ada@example.com"}})
	s.mail = s.mustField(t, s.ad.ID, "mail", mapping.FieldInput{MaxLength: lenp(256), PII: ptr(mapping.PIIYes), PIICategory: ptr("contact")})
	s.phone = s.mustField(t, s.ad.ID, "telephoneNumber", mapping.FieldInput{PII: ptr(mapping.PIINo)})
	s.pager = s.mustField(t, s.ad.ID, "pager", mapping.FieldInput{})
	s.dept = s.mustField(t, s.ad.ID, "department", mapping.FieldInput{DataType: ptr("string")})
	s.wid = s.mustField(t, s.workday.ID, "worker_id", mapping.FieldInput{DataType: ptr("integer")})
	s.login = s.mustRow(t, s.upn.ID, "login", mapping.RowInput{Transform: ptr(`[{"op":"trim"},{"op":"lower"}]`), Notes: ptr(`=HYPERLINK("http://evil")`)})
	s.email = s.mustRow(t, s.mail.ID, "email", mapping.RowInput{Notes: ptr("Call +4930123456 for help\nsecond line")})
	s.primaryPhone = s.mustRow(t, s.phone.ID, "primaryPhone", mapping.RowInput{Transform: ptr(`[{"op":"phone_e164","defaultRegion":"DE"}]`), Priority: ptr(1)})
	s.skip = s.mustRow(t, s.pager.ID, "", mapping.RowInput{Status: ptr(mapping.StatusIgnored), Notes: ptr("nobody has pagers")})
	s.employeeNumber = s.mustRow(t, s.wid.ID, "employeeNumber", mapping.RowInput{Priority: ptr(3)})
	return s
}

func (s *seeded) export(t *testing.T) sheet.Table {
	t.Helper()
	return mapping.MatrixTable(s.matrix(t))
}

// sheetOf builds a table with the matrix's columns from rows given as
// column → value.
func sheetOf(rows ...map[string]string) sheet.Table {
	t := sheet.Table{Header: mapping.MatrixColumns()}
	for _, r := range rows {
		rec := make([]string, len(t.Header))
		for i, h := range t.Header {
			rec[i] = r[h]
		}
		t.Rows = append(t.Rows, rec)
	}
	return t
}

// line is one spreadsheet row: source, field, target and mapping, plus
// column/value pairs.
func line(source, field, target, mappingRequired string, more ...string) map[string]string {
	m := map[string]string{"Source": source, "Source field": field, "Target field": target, "Mapping required": mappingRequired}
	for i := 0; i+1 < len(more); i += 2 {
		m[more[i]] = more[i+1]
	}
	return m
}

func (s *seeded) planImport(t *testing.T, tbl sheet.Table) *mapping.ImportPlan {
	t.Helper()
	p, err := s.mapping.PlanImport(s.ctx, s.project.ID, tbl)
	if err != nil {
		t.Fatalf("plan import: %v", err)
	}
	return p
}

func kinds(p *mapping.ImportPlan) []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Kind)
	}
	return out
}

func TestMatrixTableHasTheGuidancesColumns(t *testing.T) {
	s := newSeeded(t)
	tbl := s.export(t)
	want := []string{"Source", "Source field", "Target field", "Data type", "Data length", "PII or sensitive", "PII category",
		"Required", "Unique", "Transformation", "Mapping required", "Priority", "Notes"}
	if !reflect.DeepEqual(tbl.Header, want) {
		t.Fatalf("header %q", tbl.Header)
	}
	byField := map[string][]string{}
	for _, r := range tbl.Rows {
		if len(r) != len(want) {
			t.Fatalf("row %q has %d cells", r, len(r))
		}
		byField[r[0]+"."+r[1]] = r
	}
	if len(tbl.Rows) != 6 {
		t.Errorf("%d rows, want 6 (one per row, one for the undecided field)", len(tbl.Rows))
	}
	checks := map[string][]string{
		"AD.userPrincipalName": {"AD", "userPrincipalName", "login", "string", "100", "yes", "identifier", "yes", "yes", `[{"op":"trim"},{"op":"lower"}]`, "yes", "1", `=HYPERLINK("http://evil")`},
		"AD.pager":             {"AD", "pager", "", "string", "", "unknown", "", "", "", "", "no", "1", "nobody has pagers"},
		"AD.department":        {"AD", "department", "", "string", "", "unknown", "", "", "", "", "", "", ""},
		"Workday.worker_id":    {"Workday", "worker_id", "employeeNumber", "integer", "", "unknown", "", "no", "no", "", "yes", "3", ""},
	}
	for k, w := range checks {
		if !reflect.DeepEqual(byField[k], w) {
			t.Errorf("%s:\n got %q\nwant %q", k, byField[k], w)
		}
	}
}

func TestImportRoundTripShowsOnlyUnchanged(t *testing.T) {
	s := newSeeded(t)
	exported := s.export(t)
	viaCSV := func(t *testing.T) sheet.Table {
		var b bytes.Buffer
		if err := sheet.WriteCSV(&b, exported); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "\n=HYPERLINK") || strings.Contains(b.String(), ",=HYPERLINK") {
			t.Errorf("the CSV carries a live formula:\n%s", b.String())
		}
		tbl, err := sheet.Read(&b, "matrix.csv", 0)
		if err != nil {
			t.Fatal(err)
		}
		return tbl
	}
	viaXLSX := func(t *testing.T) sheet.Table {
		var b bytes.Buffer
		if err := sheet.WriteXLSX(&b, exported); err != nil {
			t.Fatal(err)
		}
		tbl, err := sheet.Read(&b, "matrix.xlsx", 0)
		if err != nil {
			t.Fatal(err)
		}
		return tbl
	}
	for name, get := range map[string]func(t *testing.T) sheet.Table{
		"in memory": func(*testing.T) sheet.Table { return exported },
		"as CSV":    viaCSV,
		"as XLSX":   viaXLSX,
	} {
		t.Run(name, func(t *testing.T) {
			tbl := get(t)
			p := s.planImport(t, tbl)
			if len(p.Errors) > 0 {
				t.Fatalf("errors %+v", p.Errors)
			}
			for _, c := range p.Changes {
				if c.Kind != "unchanged" {
					t.Errorf("line %d: %s %s, want unchanged", c.Line, c.Kind, c.What)
				}
			}
			if len(p.Changes) != 6 || p.Kept != 0 {
				t.Errorf("%d changes, %d kept; want 6 unchanged, 0 kept", len(p.Changes), p.Kept)
			}
			if c := p.Counts(); len(c) != 1 || c[0] != (mapping.KindCount{Kind: "unchanged", Count: 6}) {
				t.Errorf("counts %+v", c)
			}
			before := s.state(t)
			if _, err := s.mapping.ApplyImport(s.ctx, s.project.ID, tbl, p.Digest); err != nil {
				t.Fatal(err)
			}
			s.wantUnchanged(t, before)
		})
	}
}

func TestImportAppliesChangesAllTogether(t *testing.T) {
	s := newSeeded(t)
	tbl := sheetOf(
		// Unchanged.
		line("AD", "mail", "email", "yes", "Data length", "256", "PII or sensitive", "yes", "PII category", "contact",
			"Priority", "1", "Notes", "Call +4930123456 for help\nsecond line"),
		// Row updated: priority and notes.
		line("Workday", "worker_id", "employeeNumber", "yes", "Data type", "integer", "Priority", "1", "Notes", "HR is the truth"),
		// Field updated (length) and its row unchanged.
		line("ad", "USERPRINCIPALNAME", "login", "Y", "Data length", "64", "PII or sensitive", "yes", "PII category", "identifier",
			"Transformation", ` [{"op":"trim"}, {"op":"lower"}] `, "Priority", "1", "Notes", `=HYPERLINK("http://evil")`),
		// New field with a new row, reading a sibling.
		line("AD", "givenName", "firstName", "yes", "Data type", "String", "Data length", "1,024", "PII or sensitive", "Yes", "PII category", "Identifier"),
		line("AD", "displayName", "displayName", "yes", "Transformation", `[{"op":"concat","fields":["givenName","sn"],"separator":" "}]`),
		line("AD", "sn", "lastName", "yes"),
		// The same new field into a second attribute.
		line("AD", "givenName", "nickName", "yes", "Priority", "2"),
		// A new field listed without a decision.
		line("Workday", "cost_center", "", ""),
		// A new decision not to migrate an existing undecided field.
		line("AD", "department", "", "no", "Notes", "org chart comes later"),
		// Blank lines are skipped.
		line("", "", "", ""),
	)
	p := s.planImport(t, tbl)
	if len(p.Errors) > 0 {
		t.Fatalf("errors %+v", p.Errors)
	}
	wantKinds := []string{"unchanged", "row updated", "field updated", "new field", "new row", "new field", "new row",
		"new field", "new row", "new row", "new field", "new row"}
	if !reflect.DeepEqual(kinds(p), wantKinds) {
		t.Errorf("kinds %q\nwant  %q", kinds(p), wantKinds)
	}
	// Rows the file does not mention stay: telephoneNumber's and pager's.
	if p.Kept != 2 {
		t.Errorf("kept %d, want 2", p.Kept)
	}
	before := s.state(t)
	if _, err := s.mapping.ApplyImport(s.ctx, s.project.ID, tbl, p.Digest); err != nil {
		t.Fatal(err)
	}
	after := s.state(t)
	// 4 new fields, 1 field update, 5 new rows, 1 row update.
	if got := after.Audit - before.Audit; got != 11 {
		t.Errorf("%d audit entries, want 11", got)
	}
	if len(after.Fields) != len(before.Fields)+4 || len(after.Rows) != len(before.Rows)+5 {
		t.Errorf("%d fields, %d rows; want %d, %d", len(after.Fields), len(after.Rows), len(before.Fields)+4, len(before.Rows)+5)
	}
	upn, _ := s.mapping.FindFieldByID(s.ctx, s.project.ID, s.upn.ID)
	if *upn.MaxLength != 64 || upn.Version != 2 {
		t.Errorf("userPrincipalName %+v", upn)
	}
	e := s.history(t, "source_field", s.upn.ID)[0]
	s.checkEntry(t, e, "update", "source_field", s.upn.ID, "AD.userPrincipalName")
	if d := diff(e); d["maxLength"] != "100 → 64" {
		t.Errorf("audit diff %v", d)
	}
	wid, _ := s.mapping.FindRowByID(s.ctx, s.project.ID, s.employeeNumber.ID)
	if wid.Priority != 1 || wid.Notes != "HR is the truth" || wid.Version != 2 {
		t.Errorf("worker_id row %+v", wid)
	}
	s.checkEntry(t, s.history(t, "mapping_row", wid.ID)[0], "update", "mapping_row", wid.ID, "worker_id → employeeNumber")
	m := s.matrix(t)
	got := map[string]string{}
	for _, l := range m.Lines {
		k := l.SourceName + "." + l.Field.Name
		switch {
		case l.Row == nil:
			got[k] = "undecided"
		case l.Row.Status == mapping.StatusIgnored:
			got[k] = "ignored"
		default:
			got[k+"→"+l.Row.TargetAttribute] = l.Row.Transform
		}
	}
	for k, v := range map[string]string{
		"AD.givenName→firstName":     "",
		"AD.givenName→nickName":      "",
		"AD.sn→lastName":             "",
		"AD.displayName→displayName": `[{"op":"concat","fields":["givenName","sn"],"separator":" "}]`,
		"AD.department":              "ignored",
		"Workday.cost_center":        "undecided",
	} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s: %q (present %v), want %q", k, g, ok, v)
		}
	}
	given := findField(t, s.fixture, "givenName")
	if given.DataType != "string" || given.MaxLength == nil || *given.MaxLength != 1024 || given.PII != mapping.PIIYes ||
		given.PIICategory != "identifier" || given.PIISuggestion != "identifier" {
		t.Errorf("givenName %+v", given)
	}
	s.checkEntry(t, s.history(t, "source_field", given.ID)[0], "create", "source_field", given.ID, "AD.givenName")

	// Importing the same file again changes nothing.
	p2 := s.planImport(t, tbl)
	for _, c := range p2.Changes {
		if c.Kind != "unchanged" {
			t.Errorf("second import, line %d: %s %s", c.Line, c.Kind, c.What)
		}
	}
}

func findField(t *testing.T, f *fixture, name string) mapping.SourceField {
	t.Helper()
	fs, err := f.mapping.FindFields(f.ctx, f.project.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range fs {
		if x.Name == name {
			return x
		}
	}
	t.Fatalf("no field %s", name)
	return mapping.SourceField{}
}

func TestImportOfABadSpreadsheetChangesNothing(t *testing.T) {
	good := line("AD", "givenName", "firstName", "yes")
	tests := []struct {
		name   string
		rows   []map[string]string
		line   int
		column string
		msg    string
	}{
		{"unknown target attribute", []map[string]string{good, line("AD", "badge", "badgeNumber", "yes")},
			3, "Target field", `"badgeNumber" is not an attribute of this project's Okta profile`},
		{"duplicate rows", []map[string]string{good, line("AD", "GivenName", "firstName", "yes")},
			3, "Source field", "Duplicate of row 2"},
		{"the same ignored field twice", []map[string]string{line("AD", "pager", "", "no"), good, line("ad", "pager", "", "n")},
			4, "Source field", "Duplicate of row 2"},
		{"data length that is not a number", []map[string]string{good, line("AD", "mail", "email", "yes", "Data length", "long")},
			3, "Data length", `"long" is not a whole number`},
		{"data length of zero", []map[string]string{good, line("AD", "mail", "email", "yes", "Data length", "0")},
			3, "Data length", "between 1 and"},
		{"priority that is not a number", []map[string]string{good, line("AD", "mail", "email", "yes", "Priority", "first")},
			3, "Priority", `"first" is not a whole number`},
		{"priority out of range", []map[string]string{good, line("AD", "mail", "email", "yes", "Priority", "100")},
			3, "Priority", "between 1"},
		{"unknown data type", []map[string]string{good, line("AD", "mail", "email", "yes", "Data type", "varchar")},
			3, "Data type", "must be one of"},
		{"unknown source", []map[string]string{good, line("Active Directory", "mail", "email", "yes")},
			3, "Source", `No source system is called "Active Directory"`},
		{"empty source field", []map[string]string{good, line("AD", "", "email", "yes")},
			3, "Source field", "empty"},
		{"unparseable transformation", []map[string]string{good, line("AD", "mail", "email", "yes", "Transformation", "lowercase it please")},
			3, "Transformation", "Not a transformation Ferry understands"},
		{"transformation with an unknown op", []map[string]string{good, line("AD", "mail", "email", "yes", "Transformation", `[{"op":"system","cmd":"id"}]`)},
			3, "Transformation", "Not a transformation Ferry understands"},
		{"transformation reading a field the source lacks", []map[string]string{good, line("AD", "displayName", "displayName", "yes",
			"Transformation", `[{"op":"concat","fields":["givenName","middle"],"separator":" "}]`)},
			3, "Transformation", `"middle"`},
		{"transformation reading an existing field in another case", []map[string]string{good,
			line("AD", "userPrincipalName", "login", "yes", "Transformation", `[{"op":"template","template":"{MAIL}"}]`),
			line("AD", "MAIL", "email", "yes")},
			3, "Transformation", `"MAIL"`},
		{"mapping that is neither yes nor no", []map[string]string{good, line("AD", "mail", "email", "perhaps")},
			3, "Mapping required", `"perhaps"`},
		{"target without a mapping decision", []map[string]string{good, line("AD", "mail", "email", "")},
			3, "Mapping required", "write yes"},
		{"mapped without a target", []map[string]string{good, line("AD", "mail", "", "yes")},
			3, "Target field", "Choose the Okta attribute"},
		{"PII that is neither yes nor no", []map[string]string{good, line("AD", "mail", "email", "yes", "PII or sensitive", "sometimes")},
			3, "PII or sensitive", `"sometimes"`},
		{"PII without a category", []map[string]string{good, line("AD", "ssn", "", "no", "PII or sensitive", "yes")},
			3, "PII category", "must be one of"},
		{"a field name that is too long", []map[string]string{good, line("AD", strings.Repeat("x", 201), "", "no")},
			3, "Source field", "too long"},
		{"notes that are too long", []map[string]string{good, line("AD", "mail", "email", "yes", "Notes", strings.Repeat("n", apperr.MaxTextLen+1))},
			3, "Notes", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSeeded(t)
			before := s.state(t)
			tbl := sheetOf(tt.rows...)
			p := s.planImport(t, tbl)
			if len(p.Errors) != 1 {
				t.Fatalf("errors %+v, want one", p.Errors)
			}
			e := p.Errors[0]
			if e.Line != tt.line || e.Column != tt.column || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("error %+v, want line %d column %q message with %q", e, tt.line, tt.column, tt.msg)
			}
			_, err := s.mapping.ApplyImport(s.ctx, s.project.ID, tbl, p.Digest)
			ae := wantCode(t, err, apperr.CodeInvalid)
			if !strings.Contains(ae.Message, "nothing was imported") {
				t.Errorf("message %q", ae.Message)
			}
			s.wantUnchanged(t, before)
		})
	}
}

func TestImportReportsEveryBadRow(t *testing.T) {
	s := newSeeded(t)
	before := s.state(t)
	tbl := sheetOf(
		line("AD", "givenName", "firstName", "yes"),
		line("AD", "mail", "mailAddress", "yes"),
		line("HR", "mail", "email", "yes"),
		line("AD", "sn", "lastName", "yes", "Data length", "x"),
	)
	p := s.planImport(t, tbl)
	var got []int
	for _, e := range p.Errors {
		got = append(got, e.Line)
	}
	if !reflect.DeepEqual(got, []int{3, 4, 5}) {
		t.Fatalf("error lines %v, want 3 4 5 (%+v)", got, p.Errors)
	}
	_, err := s.mapping.ApplyImport(s.ctx, s.project.ID, tbl, p.Digest)
	ae := wantCode(t, err, apperr.CodeInvalid)
	if !strings.Contains(ae.Message, "3 problem(s)") {
		t.Errorf("message %q", ae.Message)
	}
	s.wantUnchanged(t, before)
}

func TestImportRefusesMissingColumns(t *testing.T) {
	tests := []struct {
		name    string
		header  []string
		missing []string
	}{
		{"no target", []string{"Source", "Source field", "Mapping required"}, []string{`"Target field"`}},
		{"only notes", []string{"Notes"}, []string{`"Source"`, `"Source field"`, `"Target field"`, `"Mapping required"`}},
		{"no header at all", nil, []string{`"Source"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSeeded(t)
			before := s.state(t)
			tbl := sheet.Table{Header: tt.header, Rows: [][]string{make([]string, len(tt.header))}}
			_, err := s.mapping.PlanImport(s.ctx, s.project.ID, tbl)
			e := wantCode(t, err, apperr.CodeInvalid)
			for _, m := range tt.missing {
				if !strings.Contains(e.Message, m) {
					t.Errorf("message %q does not name %s", e.Message, m)
				}
			}
			_, err = s.mapping.ApplyImport(s.ctx, s.project.ID, tbl, "")
			wantCode(t, err, apperr.CodeInvalid)
			s.wantUnchanged(t, before)
		})
	}
}

func TestImportAcceptsColumnsInAnyOrderAndCase(t *testing.T) {
	s := newSeeded(t)
	tbl := sheet.Table{
		Header: []string{"mapping required", "TARGET FIELD", "Source Field", "source"},
		Rows:   [][]string{{"yes", "firstName", "givenName", "AD"}},
	}
	p := s.planImport(t, tbl)
	if len(p.Errors) > 0 || !reflect.DeepEqual(kinds(p), []string{"new field", "new row"}) {
		t.Fatalf("plan %+v", p)
	}
}

func TestImportWithAStaleDigestWritesNothing(t *testing.T) {
	s := newSeeded(t)
	tbl := sheetOf(line("AD", "givenName", "firstName", "yes"), line("Workday", "worker_id", "employeeNumber", "yes", "Priority", "1"))
	p := s.planImport(t, tbl)
	if len(p.Errors) > 0 {
		t.Fatalf("errors %+v", p.Errors)
	}

	t.Run("the matrix changed since the preview", func(t *testing.T) {
		if _, err := s.mapping.UpdateRow(s.ctx, s.project.ID, s.email.ID, s.email.Version, mapping.RowInput{Notes: ptr("edited meanwhile")}); err != nil {
			t.Fatal(err)
		}
		before := s.state(t)
		_, err := s.mapping.ApplyImport(s.ctx, s.project.ID, tbl, p.Digest)
		e := wantCode(t, err, apperr.CodeConflict)
		if !strings.Contains(e.Message, "nothing was imported") {
			t.Errorf("message %q", e.Message)
		}
		s.wantUnchanged(t, before)
	})

	t.Run("the file changed since the preview", func(t *testing.T) {
		p := s.planImport(t, tbl)
		other := sheetOf(line("AD", "givenName", "firstName", "yes"), line("Workday", "worker_id", "employeeNumber", "yes", "Priority", "2"))
		before := s.state(t)
		_, err := s.mapping.ApplyImport(s.ctx, s.project.ID, other, p.Digest)
		wantCode(t, err, apperr.CodeConflict)
		s.wantUnchanged(t, before)
	})

	t.Run("a made-up digest", func(t *testing.T) {
		before := s.state(t)
		_, err := s.mapping.ApplyImport(s.ctx, s.project.ID, tbl, "")
		wantCode(t, err, apperr.CodeConflict)
		s.wantUnchanged(t, before)
	})

	t.Run("a fresh preview can be applied", func(t *testing.T) {
		p := s.planImport(t, tbl)
		if _, err := s.mapping.ApplyImport(s.ctx, s.project.ID, tbl, p.Digest); err != nil {
			t.Fatal(err)
		}
	})
}

func TestImportOfANewFieldListedTwiceWithDifferentValues(t *testing.T) {
	s := newSeeded(t)
	tbl := sheetOf(
		line("AD", "givenName", "firstName", "yes", "Data length", "64"),
		line("AD", "givenName", "nickName", "yes", "Data length", "50", "PII or sensitive", "yes", "PII category", "identifier"),
	)
	p := s.planImport(t, tbl)
	if len(p.Errors) > 0 {
		t.Fatalf("errors %+v", p.Errors)
	}
	if _, err := s.mapping.ApplyImport(s.ctx, s.project.ID, tbl, p.Digest); err != nil {
		t.Fatalf("apply: %v", err)
	}
	// The later row's values win, as they do for a field that exists.
	given := findField(t, s.fixture, "givenName")
	if given.MaxLength == nil || *given.MaxLength != 50 || given.PII != mapping.PIIYes {
		t.Errorf("givenName %+v", given)
	}
	var targets []string
	for _, r := range s.state(t).Rows {
		if r.SourceFieldID == given.ID {
			targets = append(targets, r.TargetAttribute)
		}
	}
	if strings.Join(targets, ",") != "firstName,nickName" {
		t.Errorf("rows of givenName: %v", targets)
	}
}

func TestImportOfAnExistingFieldListedTwiceWithDifferentValues(t *testing.T) {
	s := newSeeded(t)
	tbl := sheetOf(
		line("AD", "mail", "email", "yes", "Data length", "64"),
		line("AD", "mail", "secondEmail", "yes", "Data length", "80"),
	)
	p := s.planImport(t, tbl)
	if len(p.Errors) > 0 {
		t.Fatalf("errors %+v", p.Errors)
	}
	if _, err := s.mapping.ApplyImport(s.ctx, s.project.ID, tbl, p.Digest); err != nil {
		t.Fatalf("apply: %v", err)
	}
	mail, _ := s.mapping.FindFieldByID(s.ctx, s.project.ID, s.mail.ID)
	if *mail.MaxLength != 80 || mail.Version != 3 {
		t.Errorf("mail %+v", mail)
	}
}

func TestImportOfAnotherProjectsExportReadsFieldsListedFurtherDown(t *testing.T) {
	f := newFixture(t)
	given := f.mustField(t, f.ad.ID, "givenName", mapping.FieldInput{})
	f.mustField(t, f.ad.ID, "sn", mapping.FieldInput{})
	display := f.mustField(t, f.ad.ID, "displayName", mapping.FieldInput{})
	f.mustRow(t, display.ID, "displayName", mapping.RowInput{Transform: ptr(`[{"op":"concat","fields":["givenName","sn"],"separator":" "}]`)})
	f.mustRow(t, given.ID, "firstName", mapping.RowInput{})
	exported := mapping.MatrixTable(f.matrix(t))
	// displayName sorts before the fields its transformation reads.
	if exported.Rows[0][1] != "displayName" {
		t.Fatalf("first line %q", exported.Rows[0])
	}

	other := f.mustProject(t, "Acme EU")
	f.mustSource(t, other.ID, "AD")
	p, err := f.mapping.PlanImport(f.ctx, other.ID, exported)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Errors) > 0 {
		t.Fatalf("errors %+v", p.Errors)
	}
	if _, err := f.mapping.ApplyImport(f.ctx, other.ID, exported, p.Digest); err != nil {
		t.Fatal(err)
	}
	m, err := f.mapping.LoadMatrix(f.ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	again := mapping.MatrixTable(m)
	if !reflect.DeepEqual(again.Rows, exported.Rows) {
		t.Errorf("imported matrix:\n%q\nwant\n%q", again.Rows, exported.Rows)
	}
}

// hookedSources runs hook once, on the first call after it is armed: a way
// to let someone else save between an import's plan and its writes.
type hookedSources struct {
	mapping.SourceFinder
	mu   sync.Mutex
	hook func()
}

func (h *hookedSources) SourceNames(ctx context.Context, projectID int64) (map[int64]string, error) {
	h.mu.Lock()
	hook := h.hook
	h.hook = nil
	h.mu.Unlock()
	if hook != nil {
		hook()
	}
	return h.SourceFinder.SourceNames(ctx, projectID)
}

func TestImportDoesNotOverwriteASaveMadeWhileItRuns(t *testing.T) {
	if os.Getenv(dbtest.PostgresEnv) == "" {
		// On SQLite the import's write transaction holds the only writer
		// connection from its start, so nobody can save meanwhile.
		t.Skip("needs PostgreSQL (" + dbtest.PostgresEnv + "), where another connection can commit during the import")
	}
	tests := []struct {
		name  string
		file  map[string]string
		save  func(s *seeded) error
		check func(t *testing.T, s *seeded)
	}{
		{"a row saved meanwhile",
			line("Workday", "worker_id", "employeeNumber", "yes", "Priority", "1", "Notes", "from the file"),
			func(s *seeded) error {
				_, err := s.mapping.UpdateRow(s.ctx, s.project.ID, s.employeeNumber.ID, s.employeeNumber.Version, mapping.RowInput{Notes: ptr("saved meanwhile")})
				return err
			},
			func(t *testing.T, s *seeded) {
				r, _ := s.mapping.FindRowByID(s.ctx, s.project.ID, s.employeeNumber.ID)
				if r.Notes != "saved meanwhile" || r.Priority != 3 || r.Version != 2 {
					t.Errorf("row %+v: the concurrent save was overwritten", r)
				}
			}},
		{"a field saved meanwhile",
			line("AD", "mail", "email", "yes", "Data length", "64", "Notes", "Call +4930123456 for help\nsecond line"),
			func(s *seeded) error {
				_, err := s.mapping.UpdateField(s.ctx, s.project.ID, s.mail.ID, s.mail.Version, mapping.FieldInput{MaxLength: lenp(128)})
				return err
			},
			func(t *testing.T, s *seeded) {
				f, _ := s.mapping.FindFieldByID(s.ctx, s.project.ID, s.mail.ID)
				if *f.MaxLength != 128 || f.Version != 2 {
					t.Errorf("field %+v: the concurrent save was overwritten", f)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSeeded(t)
			hooked := &hookedSources{SourceFinder: s.plan}
			importer := mapping.NewService(s.db, s.schema, hooked)
			tbl := sheetOf(tt.file)
			p, err := importer.PlanImport(s.ctx, s.project.ID, tbl)
			if err != nil || len(p.Errors) > 0 || len(p.Changes) == 0 || p.Changes[0].Kind == "unchanged" {
				t.Fatalf("plan: %v %+v", err, p)
			}
			hooked.mu.Lock()
			hooked.hook = func() {
				if err := tt.save(s); err != nil {
					t.Errorf("concurrent save: %v", err)
				}
			}
			hooked.mu.Unlock()
			auditBefore := s.auditCount(t)
			_, err = importer.ApplyImport(s.ctx, s.project.ID, tbl, p.Digest)
			wantCode(t, err, apperr.CodeConflict)
			tt.check(t, s)
			if got := s.auditCount(t) - auditBefore; got != 1 {
				t.Errorf("%d audit entries, want only the concurrent save's", got)
			}
		})
	}
}
