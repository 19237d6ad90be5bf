package web_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// defectWorld is a project with a lead, an engineer (who records defects)
// and a viewer (who reads them).
type defectWorld struct {
	app                          *testApp
	lead, engineer, viewer       *auth.Account
	p                            *plan.Project
	asEngineer, asViewer, asLead *browser
}

func newDefectWorld(t *testing.T) *defectWorld {
	t.Helper()
	app := newTestApp(t)
	w := &defectWorld{app: app}
	w.lead = app.mustAccount("lead@example.com", "Lea Lead", false)
	w.engineer = app.mustAccount("engineer@example.com", "Eve Engineer", false)
	w.viewer = app.mustAccount("viewer@example.com", "Vic Viewer", false)
	w.p = app.mustProject(w.lead, "Acme Corp")
	app.mustMember(w.p, w.engineer, auth.RoleEngineer)
	app.mustMember(w.p, w.viewer, auth.RoleViewer)
	w.asEngineer, w.asViewer, w.asLead = app.signedIn(w.engineer), app.signedIn(w.viewer), app.signedIn(w.lead)
	return w
}

func (w *defectWorld) seed(t *testing.T) []defects.Defect {
	t.Helper()
	ctx := asActor(w.engineer)
	if _, err := w.app.Defects.Create(ctx, w.p.ID, w.engineer.Name, defects.Input{UseCase: "UC-1", Description: "Contractors have no manager",
		Category: defects.CategoryHR, Priority: defects.PriorityLow, TicketStatus: defects.TicketInProgress}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Defects.RecordRunFailures(ctx, w.p.ID, 3, "Test batch 2", []defects.RunFailure{
		{Code: "E0000001", Summary: "Api validation failed: login", Count: 1234, Category: defects.CategoryOkta}}); err != nil {
		t.Fatal(err)
	}
	all, err := w.app.Defects.List(ctx, w.p.ID, defects.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func defectValues(version string) url.Values {
	return url.Values{"use_case": {"UC-9"}, "description": {"Badge numbers are cut short"}, "test_status": {"failed"},
		"ticket_status": {"open"}, "priority": {"high"}, "category": {"ad"}, "notes": {"Widen the attribute."}, "version": {version}}
}

func TestTheDefectLogSaysWhereDefectsComeFromWhenEmpty(t *testing.T) {
	w := newDefectWorld(t)
	res := w.asEngineer.get(projectPath(w.p, "/defects"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	doc := res.doc(t)
	empty := doc.Find("#defects-empty").Text()
	if !strings.Contains(empty, "failed test batches and loads") || !strings.Contains(empty, "by hand") {
		t.Errorf("empty state %q", empty)
	}
	if doc.Find(`a[href$="/defects/new"]`).Length() == 0 {
		t.Error("an engineer is not offered to add a defect")
	}
	if doc.Find(`nav.side a[href$="/defects"][aria-current="page"]`).Length() != 1 {
		t.Error("the project navigation has no current Defects entry")
	}
	// A viewer reads the log but is not offered to add to it.
	vdoc := w.asViewer.get(projectPath(w.p, "/defects")).doc(t)
	if vdoc.Find(`a[href$="/defects/new"]`).Length() != 0 {
		t.Error("a viewer is offered to add a defect")
	}
}

func TestTheDefectLogListsCountsAndFiltersDefects(t *testing.T) {
	w := newDefectWorld(t)
	w.seed(t)
	doc := w.asViewer.get(projectPath(w.p, "/defects")).doc(t)
	rows := doc.Find("#defects tbody tr")
	if rows.Length() != 2 {
		t.Fatalf("%d rows, want 2", rows.Length())
	}
	first, second := rows.Eq(0).Text(), rows.Eq(1).Text()
	if !strings.Contains(first, "D-1") || !strings.Contains(first, "Contractors have no manager") || !strings.Contains(first, "In progress") || !strings.Contains(first, "HR") {
		t.Errorf("row 1: %q", first)
	}
	if !strings.Contains(second, "D-2") || !strings.Contains(second, "E0000001") || !strings.Contains(second, "1,234") || !strings.Contains(second, "High") {
		t.Errorf("row 2: %q", second)
	}
	if got := strings.TrimSpace(doc.Find("#count-open .total-value").Text()); got != "1" {
		t.Errorf("open count %q", got)
	}
	if got := strings.TrimSpace(doc.Find("#count-in_progress .total-value").Text()); got != "1" {
		t.Errorf("in-progress count %q", got)
	}
	for _, tc := range []struct{ query, want string }{
		{"?category=okta", "D-2"}, {"?ticket_status=in_progress", "D-1"}, {"?priority=low", "D-1"}, {"?priority=high&category=okta", "D-2"},
	} {
		fdoc := w.asViewer.get(projectPath(w.p, "/defects"+tc.query)).doc(t)
		rows := fdoc.Find("#defects tbody tr")
		if rows.Length() != 1 || !strings.Contains(rows.Text(), tc.want) {
			t.Errorf("%s: %d rows %q, want only %s", tc.query, rows.Length(), rows.Text(), tc.want)
		}
	}
	none := w.asViewer.get(projectPath(w.p, "/defects?category=ad")).doc(t)
	if none.Find("#defects-none").Length() != 1 {
		t.Error("no message when no defect matches the filters")
	}
	// An unknown filter value shows everything rather than an error.
	if res := w.asViewer.get(projectPath(w.p, "/defects?priority=%3Cscript%3E")); res.StatusCode != 200 || res.doc(t).Find("#defects tbody tr").Length() != 2 {
		t.Errorf("unknown filter: status %d", res.StatusCode)
	}
}

func TestAddingADefectByHand(t *testing.T) {
	w := newDefectWorld(t)
	if res := w.asEngineer.get(projectPath(w.p, "/defects/new")); res.StatusCode != 200 || res.doc(t).Find("#defect-form select[name=category]").Length() != 1 {
		t.Fatalf("new form: %d", res.StatusCode)
	}
	v := defectValues("")
	v.Set("description", `<script>alert("x")</script> =1+1`)
	res := w.asEngineer.post(projectPath(w.p, "/defects"), v)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != projectPath(w.p, "/defects") {
		t.Fatalf("create: %d %s %.300s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	page := w.asEngineer.get(projectPath(w.p, "/defects"))
	if !strings.Contains(page.Body, "Defect D-1 added.") {
		t.Error("no flash message after adding")
	}
	if strings.Contains(page.Body, `<script>alert("x")</script>`) {
		t.Fatal("the description is not escaped on the page")
	}
	if got := page.doc(t).Find("#defect-1 .defect-description").Text(); got != `<script>alert("x")</script> =1+1` {
		t.Errorf("description shown as %q", got)
	}
	list, _ := w.app.Defects.List(asActor(w.engineer), w.p.ID, defects.Filter{})
	if len(list) != 1 || list[0].CreatedByName != "Eve Engineer" || list[0].Category != defects.CategoryAD || list[0].UseCase != "UC-9" {
		t.Fatalf("stored %+v", list)
	}
}

func TestBadDefectInputShowsFieldErrorsAndKeepsWhatWasTyped(t *testing.T) {
	w := newDefectWorld(t)
	v := defectValues("")
	v.Set("description", "")
	v.Set("use_case", strings.Repeat("U", 101))
	v.Set("notes", "keep these notes\nacross lines")
	v.Set("priority", "urgent")
	v.Set("category", "ldap")
	res := w.asEngineer.post(projectPath(w.p, "/defects"), v)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", res.StatusCode)
	}
	doc := res.doc(t)
	for field, want := range map[string]string{"description": "Issue description is required.", "use_case": "at most 100 characters",
		"priority": "must be one of", "category": "AD, Okta, HR, Other"} {
		if got := doc.Find("#f-" + field + "-error").Text(); !strings.Contains(got, want) {
			t.Errorf("%s error %q, want %q", field, got, want)
		}
	}
	if got := doc.Find("#f-notes").Text(); got != "keep these notes\nacross lines" {
		t.Errorf("notes kept as %q", got)
	}
	if got, _ := doc.Find("#f-use_case").Attr("value"); got != strings.Repeat("U", 101) {
		t.Errorf("use case kept as %q", got)
	}
	if got, _ := doc.Find("#f-ticket_status option[selected]").Attr("value"); got != "open" {
		t.Errorf("ticket status kept as %q", got)
	}
	if list, _ := w.app.Defects.List(asActor(w.engineer), w.p.ID, defects.Filter{}); len(list) != 0 {
		t.Errorf("bad input stored %d defects", len(list))
	}
	// Control characters are refused too.
	v = defectValues("")
	v.Set("description", "bell\x07")
	if res := w.asEngineer.post(projectPath(w.p, "/defects"), v); res.StatusCode != 422 || !strings.Contains(res.doc(t).Find("#f-description-error").Text(), "control characters") {
		t.Errorf("control characters: %d", res.StatusCode)
	}
}

func TestEditingADefectAndAVersionConflict(t *testing.T) {
	w := newDefectWorld(t)
	all := w.seed(t)
	d := all[1] // recorded from the run
	path := projectPath(w.p, fmt.Sprintf("/defects/%d", d.ID))
	doc := w.asEngineer.get(path).doc(t)
	if got, _ := doc.Find("input[name=version]").Attr("value"); got != "1" {
		t.Fatalf("version in the form %q", got)
	}
	if !strings.Contains(doc.Find("#defect-facts").Text(), "E0000001") {
		t.Error("the run and code are not shown")
	}
	// The viewer sees it read-only.
	vdoc := w.asViewer.get(path).doc(t)
	if vdoc.Find("#defect-form").Length() != 0 || !strings.Contains(vdoc.Find("#defect-read-only").Text(), "Api validation failed") {
		t.Error("the viewer's page is not read-only")
	}

	v := defectValues("1")
	v.Set("ticket_status", "resolved")
	if res := w.asEngineer.post(path, v); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %.300s", res.StatusCode, res.Body)
	}
	// A second form loaded at version 1 is now stale: saving it is a conflict.
	stale := defectValues("1")
	stale.Set("priority", "low")
	res := w.asEngineer.post(path, stale)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("stale save: %d", res.StatusCode)
	}
	cdoc := res.doc(t)
	if msg := cdoc.Find(".conflict").Text(); !strings.Contains(msg, "Someone else saved this defect") || !strings.Contains(msg, "Resolved") {
		t.Errorf("conflict message %q", msg)
	}
	if got, _ := cdoc.Find("#f-priority option[selected]").Attr("value"); got != "low" {
		t.Errorf("typed priority lost: %q", got)
	}
	if got, _ := cdoc.Find("input[name=version]").Attr("value"); got != "2" {
		t.Errorf("version after the conflict %q, want 2", got)
	}
	stored, _ := w.app.Defects.Find(asActor(w.engineer), w.p.ID, d.ID)
	if stored.TicketStatus != defects.TicketResolved || stored.Priority != defects.PriorityHigh || stored.ErrorCode != "E0000001" || stored.Affected != 1234 {
		t.Errorf("stored %+v", stored)
	}
	if res := w.asEngineer.get(projectPath(w.p, "/defects/999999")); res.StatusCode != http.StatusNotFound {
		t.Errorf("missing defect: %d", res.StatusCode)
	}
}

func TestDefectExports(t *testing.T) {
	w := newDefectWorld(t)
	ctx := asActor(w.engineer)
	if _, err := w.app.Defects.Create(ctx, w.p.ID, "Eve", defects.Input{Description: "=cmd|' /C calc'!A0", UseCase: "@UC"}); err != nil {
		t.Fatal(err)
	}
	w.seed(t)

	res := w.asViewer.get(projectPath(w.p, "/defects.csv"))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="acme-corp-defect-log.csv"` {
		t.Fatalf("CSV: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("CSV rows %d, %v", len(rows), err)
	}
	if rows[0][1] != "Use case number" || rows[1][1] != "'@UC" || rows[1][2] != "'=cmd|' /C calc'!A0" || rows[3][8] != "E0000001" {
		t.Errorf("CSV rows %q", rows)
	}

	res = w.asViewer.get(projectPath(w.p, "/defects.xlsx"))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="acme-corp-defect-log.xlsx"` {
		t.Fatalf("XLSX: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Disposition"))
	}
	x, err := excelize.OpenReader(bytes.NewReader([]byte(res.Body)))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for cell, want := range map[string]string{"A1": "Defect", "C2": "=cmd|' /C calc'!A0", "B2": "@UC", "A4": "D-3", "I4": "E0000001", "J4": "1234", "G4": "Okta"} {
		if got, _ := x.GetCellValue(defects.SheetName, cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
	}
	if f, _ := x.GetCellFormula(defects.SheetName, "C2"); f != "" {
		t.Errorf("C2 is a formula: %q", f)
	}
}
