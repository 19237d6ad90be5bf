package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/web"
)

// ---- the answers, as a client decodes them (unknown fields fail) ----

type apiExtract struct {
	ID, ProjectID, SourceID                      int64
	Status, FileName, Format                     string
	SizeBytes                                    int64
	Checksum, KeyAttribute                       string
	Records, Quarantined, CarriedOver, LostEdits int64
	Warnings                                     []string
	Error                                        string
	CreatedByID                                  *int64
	CreatedByName                                string
	CreatedAt                                    time.Time
	FinishedAt                                   *time.Time
	Columns                                      []apiExtractColumn
}

type apiExtractColumn struct {
	Name             string
	Filled, Distinct int64
	DistinctCapped   bool
	MaxLength        int
	MultiValued      bool
	Type             string
	Samples          []string
	Masked           bool
}

type apiRecord struct {
	ID, ExtractID, SourceID, Position int64
	Key                               string
	Attributes, SourceValues          map[string][]string
	Masked                            []string
	Edited, Excluded                  bool
	ExcludeReason                     string
	Version                           int64
}

type apiPage[T any] struct {
	Items []T
	Next  string
}

type apiRun struct {
	ID, ProjectID                                  int64
	Status                                         string
	Records, Valid, Invalid, Excluded, Occurrences int64
	Counts                                         struct{ ByCode, BySource, ByAttribute map[string]int64 }
	Error, CreatedByName                           string
	StartedAt                                      time.Time
	FinishedAt                                     *time.Time
}

type apiOccurrence struct {
	ID, RunID, RecordID, SourceID, Position   int64
	Code, Severity, Attribute, Value, Message string
}

type apiTask struct {
	ID, ProjectID          int64
	Title, IssueCode       string
	RecordIDs              []int64 `json:"recordIds"`
	AssigneeID             *int64  `json:"assigneeId"`
	Status, DueDate, Notes string
	Version                int64
	CreatedAt, UpdatedAt   time.Time
}

// dataAPIWorld is the data world (a source whose fields are mapped; mail is
// personal data) with an API token for each member and an extract staged.
type dataAPIWorld struct {
	*dataWorld
	t                                    *testing.T
	leadTok, engTok, viewerTok, legalTok string
	ex                                   *staging.Extract
}

func newDataAPIWorld(t *testing.T) *dataAPIWorld {
	t.Helper()
	dw := newDataWorld(t, web.Options{})
	w := &dataAPIWorld{dataWorld: dw, t: t, leadTok: dw.app.mustToken(dw.lead), engTok: dw.app.mustToken(dw.engineer),
		viewerTok: dw.app.mustToken(dw.viewer), legalTok: dw.app.mustToken(dw.legal)}
	w.ex = w.stage(t, w.p, w.src, "hr.csv", hrCSV)
	return w
}

// stage stages an extract of src through the service, as the engineer.
func (w *dataAPIWorld) stage(t *testing.T, p *plan.Project, src *plan.Source, name, content string) *staging.Extract {
	t.Helper()
	rd, format, err := staging.OpenReader(strings.NewReader(content), "")
	if err != nil {
		t.Fatal(err)
	}
	w.app.Clock.Advance(time.Minute)
	ex, err := w.app.Staging.Stage(asActor(w.engineer), p.ID, src.ID, rd, staging.Meta{FileName: name, Format: format}, nil)
	if err != nil {
		t.Fatalf("stage %s: %v", name, err)
	}
	return ex
}

func (w *dataAPIWorld) validate(t *testing.T) *quality.Run {
	t.Helper()
	w.app.Clock.Advance(time.Minute)
	run, err := w.app.Quality.Validate(asActor(w.engineer), w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func (w *dataAPIWorld) call(token, method, rest string, body any) response {
	return w.app.api(token, method, apiProjectPath(w.p.ID, rest), body)
}

// recordByKey reads the staged record with the given employeeID through the service.
func (w *dataAPIWorld) recordByKey(t *testing.T, key string) staging.StagedRecord {
	t.Helper()
	return w.recordWithKey(t, key)
}

// piiViews counts the audit entries of unmasked views of personal data.
func piiViews(t *testing.T, app *testApp, p *plan.Project) (int, []audit.Entry) {
	t.Helper()
	entries, _, err := audit.NewReader(app.DB.Read).FindEntries(context.Background(), audit.Filter{ProjectID: p.ID, EntityType: "source"})
	if err != nil {
		t.Fatal(err)
	}
	var views []audit.Entry
	for _, e := range entries {
		if e.Action == audit.ActionView {
			views = append(views, e)
		}
	}
	return len(views), views
}

// otherProjectWorld is a second project of the same lead with its own
// extract, validation and task: its ids must not be reachable through the
// first project's paths.
type otherProjectWorld struct {
	p      *plan.Project
	ex     *staging.Extract
	record staging.StagedRecord
	run    *quality.Run
	task   *quality.Task
}

func (w *dataAPIWorld) otherProject(t *testing.T) otherProjectWorld {
	t.Helper()
	app := w.app
	o := otherProjectWorld{p: app.mustProject(w.lead, "Other")}
	app.mustMember(o.p, w.engineer, auth.RoleEngineer)
	src := seedSource(t, app, w.lead, o.p, "Other HR")
	o.ex = w.stage(t, o.p, src, "other.csv", "employeeID,mail\nX1,x@example.com\n")
	recs, err := app.Staging.FindRecords(context.Background(), o.ex.ID, 0, 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("other project's records: %v %v", recs, err)
	}
	o.record = recs[0]
	if o.run, err = app.Quality.Validate(asActor(w.engineer), o.p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if o.task, err = app.Quality.CreateTask(asActor(w.engineer), o.p.ID, app.Auth, quality.TaskInput{Title: pval("Other work")}); err != nil {
		t.Fatal(err)
	}
	return o
}

// ---- extracts ----

func TestAPIExtractsListAndSummarise(t *testing.T) {
	w := newDataAPIWorld(t)
	if err := w.app.Staging.SetFileFacts(context.Background(), w.ex.ID, int64(len(hrCSV)), strings.Repeat("ab", 32)); err != nil {
		t.Fatal(err)
	}
	res := w.call(w.viewerTok, "GET", "/extracts", nil)
	if strings.Contains(res.Body, `"columns"`) || strings.Contains(res.Body, "ada@example.com") {
		t.Fatalf("the list holds the columns (and their samples): %s", res.Body)
	}
	list := apiDecode[struct{ Items []apiExtract }](t, res, http.StatusOK).Items
	if len(list) != 1 {
		t.Fatalf("extracts = %+v", list)
	}
	got := list[0]
	if got.ID != w.ex.ID || got.ProjectID != w.p.ID || got.SourceID != w.src.ID || got.Status != "ready" || got.FileName != "hr.csv" ||
		got.Format != "csv" || got.SizeBytes != int64(len(hrCSV)) || got.Checksum != strings.Repeat("ab", 32) || got.KeyAttribute != "employeeID" ||
		got.Records != 4 || got.Quarantined != 0 || got.CarriedOver != 0 || got.LostEdits != 0 || got.Warnings == nil || got.Error != "" ||
		got.CreatedByID == nil || *got.CreatedByID != w.engineer.ID || got.CreatedByName != "Eve Engineer <engineer@example.com>" ||
		got.FinishedAt == nil || got.CreatedAt.IsZero() {
		t.Fatalf("extract summary = %+v", got)
	}

	// The summary of one extract has its columns' statistics; samples of
	// personal data are masked for a viewer, and shown to an engineer.
	viewed := apiDecode[apiExtract](t, w.call(w.viewerTok, "GET", fmt.Sprintf("/extracts/%d", w.ex.ID), nil), http.StatusOK)
	if len(viewed.Columns) != 5 {
		t.Fatalf("columns = %+v", viewed.Columns)
	}
	byName := map[string]apiExtractColumn{}
	for i, col := range viewed.Columns {
		if want := []string{"employeeID", "mail", "givenName", "sn", "c"}[i]; col.Name != want {
			t.Fatalf("column %d = %s, want %s (the file's order)", i, col.Name, want)
		}
		byName[col.Name] = col
	}
	mail, sn := byName["mail"], byName["sn"]
	if !mail.Masked || mail.Filled != 4 || mail.Distinct != 4 || mail.MaxLength != len("linus@example.com") || mail.Type != "string" ||
		len(mail.Samples) != 4 || mail.Samples[0] != "a**@e******.***" {
		t.Fatalf("mail for a viewer = %+v", mail)
	}
	if sn.Masked || sn.Filled != 3 || sn.Samples[0] != "Lovelace" {
		t.Fatalf("sn = %+v: not personal data, so not masked; one record lacks it", sn)
	}
	if strings.Contains(w.call(w.legalTok, "GET", fmt.Sprintf("/extracts/%d", w.ex.ID), nil).Body, "ada@example.com") {
		t.Fatal("a legal reviewer sees the mail samples")
	}
	before, _ := piiViews(t, w.app, w.p)
	shown := apiDecode[apiExtract](t, w.call(w.engTok, "GET", fmt.Sprintf("/extracts/%d", w.ex.ID), nil), http.StatusOK)
	if shown.Columns[1].Masked || shown.Columns[1].Samples[0] != "ada@example.com" {
		t.Fatalf("mail for an engineer = %+v", shown.Columns[1])
	}
	if after, views := piiViews(t, w.app, w.p); after != before+1 || !strings.Contains(views[0].EntityLabel, fmt.Sprintf("/api/v1/projects/%d/extracts/%d", w.p.ID, w.ex.ID)) {
		t.Fatalf("the engineer's unmasked view: %d → %d audited views: %+v", before, after, views)
	}

	// A second extract of the source replaces the first; the first's
	// exclusion carries over to the same record, its fix of a record now
	// gone is lost.
	e1, e2 := w.recordByKey(t, "E1"), w.recordByKey(t, "E2")
	apiDecode[apiRecord](t, w.call(w.engTok, "POST", fmt.Sprintf("/records/%d/exclude", e1.ID), map[string]any{"version": 1, "exclude": true, "reason": "Test account."}), http.StatusOK)
	apiDecode[apiRecord](t, w.call(w.engTok, "PATCH", fmt.Sprintf("/records/%d", e2.ID), map[string]any{"version": 1, "attributes": map[string]any{"mail": "grace@example.com"}}), http.StatusOK)
	other := seedSource(t, w.app, w.lead, w.p, "Contractors")
	second := w.stage(t, w.p, w.src, "hr-2.csv", "employeeID,mail,givenName,sn,c\nE1,ada@example.com,Ada,Lovelace,GB\nE5,eve@example.com,Eve,Smith,DE\n")
	list = apiDecode[struct{ Items []apiExtract }](t, w.call(w.viewerTok, "GET", "/extracts", nil), http.StatusOK).Items
	if len(list) != 2 || list[0].ID != second.ID || list[0].Status != "ready" || list[0].CarriedOver != 1 || list[0].LostEdits != 1 ||
		list[1].ID != w.ex.ID || list[1].Status != "replaced" {
		t.Fatalf("after a second extract: %+v", list)
	}
	for _, q := range []string{fmt.Sprintf("?source=%d", w.src.ID)} {
		if got := apiDecode[struct{ Items []apiExtract }](t, w.call(w.viewerTok, "GET", "/extracts"+q, nil), http.StatusOK).Items; len(got) != 2 {
			t.Fatalf("extracts%s = %+v", q, got)
		}
	}
	if got := apiDecode[struct{ Items []apiExtract }](t, w.call(w.viewerTok, "GET", fmt.Sprintf("/extracts?source=%d", other.ID), nil), http.StatusOK).Items; len(got) != 0 {
		t.Fatalf("extracts of a source without any = %+v", got)
	}
	// The replaced extract's records are gone; its summary stays.
	if page := apiDecode[apiPage[apiRecord]](t, w.call(w.viewerTok, "GET", fmt.Sprintf("/extracts/%d/records", w.ex.ID), nil), http.StatusOK); len(page.Items) != 0 || page.Next != "" {
		t.Fatalf("records of a replaced extract = %+v", page)
	}
	o := w.otherProject(t)
	for _, q := range []string{"?source=abc", "?source=0", fmt.Sprintf("?source=%d", 999999)} {
		apiWantField(t, w.call(w.viewerTok, "GET", "/extracts"+q, nil), "source", "source")
	}
	apiWantField(t, w.call(w.leadTok, "GET", fmt.Sprintf("/extracts?source=%d", o.ex.SourceID), nil), "source", "no source")
}

func TestAPIQuarantinedRowsArePagedWithTheirLine(t *testing.T) {
	w := newDataAPIWorld(t)
	ndjson := "{\"employeeID\": \"E1\", \"mail\": \"ada@example.com\"}\n42\n{\"employeeID\": \"E2\", \"mail\": \"grace@example.com\"}\n[1]\n\"text\"\n"
	ex := w.stage(t, w.p, w.src, "hr.ndjson", ndjson)
	if ex.Quarantined != 3 || ex.Records != 2 {
		t.Fatalf("staged %+v", ex)
	}
	path := fmt.Sprintf("/extracts/%d/quarantined", ex.ID)
	page := apiDecode[apiPage[struct {
		ID, ExtractID, Position int64
		Message                 string
	}]](t, w.call(w.viewerTok, "GET", path+"?limit=2", nil), http.StatusOK)
	if len(page.Items) != 2 || page.Items[0].Position != 2 || page.Items[1].Position != 4 || page.Items[0].ExtractID != ex.ID || page.Items[0].Message == "" {
		t.Fatalf("first page = %+v", page)
	}
	if want := apiProjectPath(w.p.ID, path) + fmt.Sprintf("?after=%d&limit=2", page.Items[1].ID); page.Next != want {
		t.Fatalf("next = %q, want %q", page.Next, want)
	}
	rest := apiDecode[apiPage[struct {
		ID, ExtractID, Position int64
		Message                 string
	}]](t, w.app.api(w.viewerTok, "GET", page.Next, nil), http.StatusOK)
	if len(rest.Items) != 1 || rest.Items[0].Position != 5 || rest.Next != "" {
		t.Fatalf("last page = %+v", rest)
	}
	if empty := w.call(w.viewerTok, "GET", fmt.Sprintf("/extracts/%d/quarantined", w.ex.ID), nil); empty.Body != `{"items":[]}`+"\n" {
		t.Fatalf("an extract without quarantined rows: %s", empty.Body)
	}
}

// ---- records ----

func TestAPIRecordsArePagedByKeysetAndMaskPersonalData(t *testing.T) {
	w := newDataAPIWorld(t)
	path := fmt.Sprintf("/extracts/%d/records", w.ex.ID)
	read := func(token, rest string) apiPage[apiRecord] {
		t.Helper()
		return apiDecode[apiPage[apiRecord]](t, w.app.api(token, "GET", rest, nil), http.StatusOK)
	}
	first := read(w.viewerTok, apiProjectPath(w.p.ID, path+"?limit=3"))
	if len(first.Items) != 3 || first.Next == "" {
		t.Fatalf("first page = %+v", first)
	}
	u, err := url.Parse(first.Next)
	if err != nil || u.Path != apiProjectPath(w.p.ID, path) || u.Query().Get("limit") != "3" || u.Query().Get("after") != fmt.Sprint(first.Items[2].ID) {
		t.Fatalf("next = %q", first.Next)
	}
	second := read(w.viewerTok, first.Next)
	if len(second.Items) != 1 || second.Next != "" || second.Items[0].ID <= first.Items[2].ID {
		t.Fatalf("second page = %+v", second)
	}
	all := append(first.Items, second.Items...)
	for i, r := range all {
		if r.Position != int64(i+2) || r.ExtractID != w.ex.ID || r.SourceID != w.src.ID || r.Version != 1 || r.Key != fmt.Sprintf("E%d", i+1) {
			t.Fatalf("record %d = %+v", i, r)
		}
	}
	// A viewer and a legal reviewer see mail masked, and nothing is audited.
	before, _ := piiViews(t, w.app, w.p)
	ada := all[0]
	if got := ada.Attributes["mail"]; len(got) != 1 || got[0] != "a**@e******.***" || len(ada.Masked) != 1 || ada.Masked[0] != "mail" {
		t.Fatalf("a viewer's record = %+v", ada)
	}
	if ada.Attributes["givenName"][0] != "Ada" || ada.Attributes["sn"][0] != "Lovelace" || ada.Attributes["c"][0] != "GB" || len(ada.SourceValues) != 0 || ada.Edited {
		t.Fatalf("values that are not personal data: %+v", ada)
	}
	for _, tok := range []string{w.viewerTok, w.legalTok} {
		if res := w.call(tok, "GET", path, nil); strings.Contains(res.Body, "@example.com") {
			t.Fatalf("a masked reader sees a mail: %s", res.Body)
		}
		if res := w.call(tok, "GET", fmt.Sprintf("/records/%d", ada.ID), nil); strings.Contains(res.Body, "ada@example.com") {
			t.Fatalf("a masked reader sees a mail: %s", res.Body)
		}
	}
	if n, _ := piiViews(t, w.app, w.p); n != before {
		t.Fatalf("masked views were audited: %d → %d", before, n)
	}
	// An engineer and a project lead see it, and each view is audited with its path.
	for i, tok := range []string{w.engTok, w.leadTok} {
		page := read(tok, apiProjectPath(w.p.ID, path))
		if got := page.Items[0].Attributes["mail"]; got[0] != "ada@example.com" || len(page.Items[0].Masked) != 0 {
			t.Fatalf("an unmasked record = %+v", page.Items[0])
		}
		one := apiDecode[apiRecord](t, w.call(tok, "GET", fmt.Sprintf("/records/%d", ada.ID), nil), http.StatusOK)
		if one.Attributes["mail"][0] != "ada@example.com" || one.Key != "E1" {
			t.Fatalf("one unmasked record = %+v", one)
		}
		n, views := piiViews(t, w.app, w.p)
		if n != before+2*(i+1) {
			t.Fatalf("unmasked views audited: %d → %d, want two more per reader", before, n)
		}
		if views[0].EntityLabel != "unmasked personal data in "+apiProjectPath(w.p.ID, fmt.Sprintf("/records/%d", ada.ID)) || views[0].ActorID == nil {
			t.Fatalf("the audit entry of a view: %+v", views[0])
		}
	}
	// Paging: limits out of range and cursors that are not ids are refused.
	for _, q := range []struct{ query, field string }{
		{"?limit=0", "limit"}, {"?limit=1001", "limit"}, {"?limit=ten", "limit"}, {"?limit=-1", "limit"},
		{"?after=-1", "after"}, {"?after=x", "after"}, {"?after=1.5", "after"},
	} {
		apiWantField(t, w.call(w.viewerTok, "GET", path+q.query, nil), q.field, q.field)
	}
	if page := read(w.viewerTok, apiProjectPath(w.p.ID, path+"?limit=1000")); len(page.Items) != 4 || page.Next != "" {
		t.Fatalf("the largest page = %+v", page)
	}
	if page := read(w.viewerTok, apiProjectPath(w.p.ID, path+fmt.Sprintf("?after=%d", all[3].ID))); len(page.Items) != 0 || page.Next != "" {
		t.Fatalf("after the last record = %+v", page)
	}
}

func TestAPIFixesARecordAsTheConsoleDoes(t *testing.T) {
	w := newDataAPIWorld(t)
	grace := w.recordByKey(t, "E2")
	path := fmt.Sprintf("/records/%d", grace.ID)

	res := w.call(w.engTok, "PATCH", path, map[string]any{"version": 1, "attributes": map[string]any{"mail": " grace@example.com ", "givenName": "Grace"}})
	fixed := apiDecode[apiRecord](t, res, http.StatusOK)
	if fixed.Version != 2 || !fixed.Edited || fixed.Attributes["mail"][0] != "grace@example.com" || fixed.SourceValues["mail"][0] != "not-an-email" ||
		len(fixed.SourceValues) != 1 || fixed.Attributes["givenName"][0] != "Grace" {
		t.Fatalf("fixed record = %+v (the unchanged givenName is no edit)", fixed)
	}
	if again := w.call(w.engTok, "GET", path, nil); again.Body != res.Body {
		t.Fatalf("GET after PATCH = %s\nwant what the PATCH answered: %s", again.Body, res.Body)
	}
	// Audited like the console's fix: which attributes, never their values.
	entries, _, err := audit.NewReader(w.app.DB.Read).FindEntries(context.Background(), audit.Filter{ProjectID: w.p.ID, EntityType: "staged_record", EntityID: grace.ID})
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].AfterJSON, `"mail"`) || strings.Contains(entries[0].AfterJSON, "grace@example.com") ||
		entries[0].ActorID == nil || *entries[0].ActorID != w.engineer.ID {
		t.Fatalf("audit of the fix = %+v %v", entries, err)
	}
	// A viewer sees the fix masked, and the source's value masked too.
	masked := apiDecode[apiRecord](t, w.call(w.viewerTok, "GET", path, nil), http.StatusOK)
	if masked.Attributes["mail"][0] != "g****@e******.***" || masked.SourceValues["mail"][0] != "n**-**-*****" {
		t.Fatalf("a viewer's fixed record = %+v", masked)
	}
	// Validation sees the fixed value: no more malformed email on line 3.
	run := w.validate(t)
	occ := apiDecode[apiPage[apiOccurrence]](t, w.call(w.viewerTok, "GET", fmt.Sprintf("/validations/%d/occurrences?code=bad_email", run.ID), nil), http.StatusOK)
	if len(occ.Items) != 0 {
		t.Fatalf("the fixed email is still reported: %+v", occ.Items)
	}
	// "" drops Ferry's edit: the source's value counts again.
	back := apiDecode[apiRecord](t, w.call(w.engTok, "PATCH", path, map[string]any{"version": 2, "attributes": map[string]any{"mail": ""}}), http.StatusOK)
	if back.Version != 3 || back.Edited || len(back.SourceValues) != 0 || back.Attributes["mail"][0] != "not-an-email" {
		t.Fatalf("after dropping the edit = %+v", back)
	}

	// Refusals: nothing is written.
	audits := apiAuditCount(t, w.app)
	long := strings.Repeat("x", staging.MaxEditValueLen+1)
	for _, c := range []struct {
		name        string
		body        any
		field, want string
	}{
		{"an attribute the record does not have", map[string]any{"version": 3, "attributes": map[string]any{"nickName": "Amazing"}}, "attributes.nickName", "no attribute"},
		{"emptying a source value", map[string]any{"version": 3, "attributes": map[string]any{"sn": ""}}, "attributes.sn", "cannot be emptied"},
		{"nothing changed", map[string]any{"version": 3, "attributes": map[string]any{"sn": "Hopper"}}, "attributes", "Change at least one"},
		{"no attributes", map[string]any{"version": 3}, "attributes", "Change at least one"},
		{"an oversized value", map[string]any{"version": 3, "attributes": map[string]any{"sn": long}}, "attributes", "too long"},
		{"control characters", map[string]any{"version": 3, "attributes": map[string]any{"sn": "Hop\x00per"}}, "attributes", "control characters"},
		{"no version", map[string]any{"attributes": map[string]any{"sn": "Hopper-King"}}, "version", "version is required"},
		{"an unknown field", map[string]any{"version": 3, "attributes": map[string]any{"sn": "X"}, "colour": "blue"}, "colour", "Unknown field"},
		{"attributes that are not an object", map[string]any{"version": 3, "attributes": []string{"sn"}}, "attributes", "must be a object"},
		{"a value that is not text", map[string]any{"version": 3, "attributes": map[string]any{"sn": 42}}, "attributes", "must be a string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			apiWantField(t, w.call(w.engTok, "PATCH", path, c.body), c.field, c.want)
		})
	}
	for _, raw := range []string{`{"version": 3, "attributes": {"sn": "X"`, `not json`, ``, `{"version":3,"attributes":{"sn":"X"}} {}`} {
		apiWantError(t, w.call(w.engTok, "PATCH", path, raw), http.StatusUnprocessableEntity, "invalid")
	}
	apiWantError(t, apiRaw(t, w.app, "PATCH", apiProjectPath(w.p.ID, path), http.Header{"Authorization": {"Bearer " + w.engTok},
		"Content-Type": {"text/plain"}}, strings.NewReader(`{"version":3,"attributes":{"sn":"X"}}`)), http.StatusUnprocessableEntity, "invalid")
	if after := apiAuditCount(t, w.app); after != audits {
		t.Fatalf("refused fixes wrote %d audit entries", after-audits)
	}

	// A stale version: 409 with what differs, nothing written.
	e := apiWantError(t, w.call(w.engTok, "PATCH", path, map[string]any{"version": 1, "attributes": map[string]any{"mail": "g@example.com", "sn": "Hopper"}}),
		http.StatusConflict, "conflict")
	if e.CurrentVersion != 3 || len(e.Changes) != 1 || e.Changes[0].Field != "attributes.mail" || e.Changes[0].Stored != "not-an-email" || e.Changes[0].Yours != "g@example.com" {
		t.Fatalf("conflict = %+v", e)
	}
	if now := w.recordByKey(t, "E2"); now.Version != 3 || now.Edited {
		t.Fatalf("a refused fix was written: %+v", now)
	}
	// A viewer's conflict would show the stored value masked; a viewer may not fix at all.
	apiWantError(t, w.call(w.viewerTok, "PATCH", path, map[string]any{"version": 3, "attributes": map[string]any{"sn": "X"}}), http.StatusForbidden, "forbidden")
	apiWantError(t, w.call(w.leadTok, "PATCH", path, map[string]any{"version": 3, "attributes": map[string]any{"sn": "X"}}), http.StatusForbidden, "forbidden")
	apiWantError(t, w.call("", "PATCH", path, map[string]any{"version": 3, "attributes": map[string]any{"sn": "X"}}), http.StatusUnauthorized, "unauthorized")

	// Only the current extract's records are fixed.
	w.stage(t, w.p, w.src, "hr-2.csv", hrCSV)
	apiWantError(t, w.call(w.engTok, "PATCH", path, map[string]any{"version": 3, "attributes": map[string]any{"sn": "X"}}), http.StatusNotFound, "not_found")
}

func TestAPIExcludesAndIncludesARecord(t *testing.T) {
	w := newDataAPIWorld(t)
	alan := w.recordByKey(t, "E3")
	path := fmt.Sprintf("/records/%d/exclude", alan.ID)
	out := apiDecode[apiRecord](t, w.call(w.engTok, "POST", path, map[string]any{"version": 1, "exclude": true, "reason": "  A test account.  "}), http.StatusOK)
	if !out.Excluded || out.ExcludeReason != "A test account." || out.Version != 2 || out.ID != alan.ID {
		t.Fatalf("excluded = %+v", out)
	}
	run := apiDecode[apiRun](t, w.call(w.viewerTok, "GET", fmt.Sprintf("/validations/%d", w.validate(t).ID), nil), http.StatusOK)
	if run.Excluded != 1 || run.Records != 4 || run.Valid+run.Invalid != 3 {
		t.Fatalf("the run after the exclusion = %+v", run)
	}
	e := apiWantError(t, w.call(w.engTok, "POST", path, map[string]any{"version": 1, "exclude": false}), http.StatusConflict, "conflict")
	if e.CurrentVersion != 2 || len(e.Changes) != 1 || e.Changes[0].Field != "exclude" || e.Changes[0].Stored != "yes" || e.Changes[0].Yours != "no" {
		t.Fatalf("conflict = %+v", e)
	}
	in := apiDecode[apiRecord](t, w.call(w.engTok, "POST", path, map[string]any{"version": 2, "exclude": false, "reason": "ignored"}), http.StatusOK)
	if in.Excluded || in.ExcludeReason != "" || in.Version != 3 {
		t.Fatalf("included again = %+v", in)
	}

	audits := apiAuditCount(t, w.app)
	for _, c := range []struct {
		name        string
		body        any
		field, want string
	}{
		{"excluding without a reason", map[string]any{"version": 3, "exclude": true}, "reason", "required"},
		{"a blank reason", map[string]any{"version": 3, "exclude": true, "reason": "   "}, "reason", "required"},
		{"an oversized reason", map[string]any{"version": 3, "exclude": true, "reason": strings.Repeat("r", 501)}, "reason", "too long"},
		{"no decision", map[string]any{"version": 3, "reason": "x"}, "exclude", "exclude is required"},
		{"a decision that is not a boolean", map[string]any{"version": 3, "exclude": "yes", "reason": "x"}, "exclude", "must be a boolean"},
		{"no version", map[string]any{"exclude": true, "reason": "x"}, "version", "version is required"},
		{"an unknown field", map[string]any{"version": 3, "exclude": true, "reason": "x", "until": "2027-01-01"}, "until", "Unknown field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			apiWantField(t, w.call(w.engTok, "POST", path, c.body), c.field, c.want)
		})
	}
	apiWantError(t, w.call(w.viewerTok, "POST", path, map[string]any{"version": 3, "exclude": true, "reason": "x"}), http.StatusForbidden, "forbidden")
	apiWantError(t, w.call(w.engTok, "POST", "/records/999999/exclude", map[string]any{"version": 3, "exclude": true, "reason": "x"}), http.StatusNotFound, "not_found")
	if after := apiAuditCount(t, w.app); after != audits {
		t.Fatalf("refused exclusions wrote %d audit entries", after-audits)
	}
}

// ---- validation ----

func TestAPIValidationRunsAndTheirOccurrences(t *testing.T) {
	w := newDataAPIWorld(t)
	if page := apiDecode[apiPage[apiRun]](t, w.call(w.viewerTok, "GET", "/validations", nil), http.StatusOK); len(page.Items) != 0 {
		t.Fatalf("runs before any validation = %+v", page)
	}
	first := w.validate(t)
	second := w.validate(t)
	page := apiDecode[apiPage[apiRun]](t, w.call(w.viewerTok, "GET", "/validations?limit=1", nil), http.StatusOK)
	if len(page.Items) != 1 || page.Items[0].ID != second.ID || page.Next == "" {
		t.Fatalf("newest run first = %+v", page)
	}
	older := apiDecode[apiPage[apiRun]](t, w.app.api(w.viewerTok, "GET", page.Next, nil), http.StatusOK)
	if len(older.Items) != 1 || older.Items[0].ID != first.ID || older.Next != "" {
		t.Fatalf("the older run = %+v", older)
	}
	run := page.Items[0]
	src := fmt.Sprint(w.src.ID)
	if run.Status != "done" || run.Records != 4 || run.Valid != 1 || run.Invalid != 3 || run.Excluded != 0 || run.Occurrences != second.Occurrences ||
		run.Counts.ByCode[quality.IssueBadEmail] == 0 || run.Counts.BySource[src] != run.Occurrences || run.Counts.ByAttribute["lastName"] != 1 ||
		run.CreatedByName != "Eve Engineer <engineer@example.com>" || run.FinishedAt == nil || run.ProjectID != w.p.ID {
		t.Fatalf("run = %+v", run)
	}
	if got := apiDecode[apiRun](t, w.call(w.viewerTok, "GET", fmt.Sprintf("/validations/%d", first.ID), nil), http.StatusOK); got.ID != first.ID || got.Occurrences != first.Occurrences {
		t.Fatalf("GET run = %+v", got)
	}

	occPath := fmt.Sprintf("/validations/%d/occurrences", second.ID)
	all := apiDecode[apiPage[apiOccurrence]](t, w.call(w.viewerTok, "GET", occPath, nil), http.StatusOK)
	if int64(len(all.Items)) != second.Occurrences || all.Next != "" {
		t.Fatalf("occurrences = %d, want %d", len(all.Items), second.Occurrences)
	}
	for _, o := range all.Items {
		if o.RunID != second.ID || o.SourceID != w.src.ID || o.Severity != quality.SeverityBlocking || o.Message == "" || o.Value == "not-an-email" {
			t.Fatalf("occurrence = %+v (values of personal data masked)", o)
		}
	}
	bad := apiDecode[apiPage[apiOccurrence]](t, w.call(w.viewerTok, "GET", occPath+"?code=bad_email", nil), http.StatusOK)
	if len(bad.Items) != 1 || bad.Items[0].Code != "bad_email" || bad.Items[0].Attribute != "email" || bad.Items[0].Position != 3 ||
		bad.Items[0].RecordID != w.recordByKey(t, "E2").ID {
		t.Fatalf("bad emails = %+v", bad.Items)
	}
	if got := apiDecode[apiPage[apiOccurrence]](t, w.call(w.viewerTok, "GET", occPath+"?attribute=lastName&source="+src, nil), http.StatusOK).Items; len(got) != 1 ||
		got[0].Code != quality.IssueRequiredMissing || got[0].Position != 4 {
		t.Fatalf("lastName occurrences = %+v", got)
	}
	// Keyset paging with the filter kept in the next link.
	p1 := apiDecode[apiPage[apiOccurrence]](t, w.call(w.viewerTok, "GET", occPath+"?source="+src+"&limit=2", nil), http.StatusOK)
	if len(p1.Items) != 2 || !strings.Contains(p1.Next, "source="+src) {
		t.Fatalf("first page = %+v", p1)
	}
	seen := len(p1.Items)
	for next := p1.Next; next != ""; {
		p := apiDecode[apiPage[apiOccurrence]](t, w.app.api(w.viewerTok, "GET", next, nil), http.StatusOK)
		seen += len(p.Items)
		next = p.Next
	}
	if int64(seen) != second.Occurrences {
		t.Fatalf("paging saw %d occurrences, want %d", seen, second.Occurrences)
	}

	o := w.otherProject(t)
	for _, q := range []struct{ query, field string }{
		{"?code=no_such_issue", "code"}, {"?source=x", "source"}, {"?source=-3", "source"}, {fmt.Sprintf("?source=%d", o.ex.SourceID), "source"},
		{"?attribute=" + strings.Repeat("a", 201), "attribute"}, {"?limit=0", "limit"}, {"?limit=5000", "limit"}, {"?after=-2", "after"},
	} {
		apiWantField(t, w.call(w.viewerTok, "GET", occPath+q.query, nil), q.field, "")
	}
	for _, q := range []string{"?limit=0", "?after=-1", "?after=z"} {
		apiWantError(t, w.call(w.viewerTok, "GET", "/validations"+q, nil), http.StatusUnprocessableEntity, "invalid")
	}
}

func TestAPIIssueTypesAreTheCatalog(t *testing.T) {
	w := newDataAPIWorld(t)
	got := apiDecode[struct {
		Items []struct{ Code, Title, Description, Remediation, Severity string }
	}](t, w.call(w.viewerTok, "GET", "/issue-types", nil), http.StatusOK).Items
	want := quality.IssueTypes()
	if len(got) != len(want) {
		t.Fatalf("%d issue types, want %d", len(got), len(want))
	}
	for i, it := range got {
		if it.Code != want[i].Code || it.Title != want[i].Title || it.Description != want[i].Description || it.Remediation != want[i].Remediation ||
			it.Severity != want[i].Severity || it.Description == "" || it.Remediation == "" {
			t.Fatalf("issue type %d = %+v, want %+v", i, it, want[i])
		}
	}
}

// ---- remediation tasks ----

func TestAPIRemediationTasksLifecycle(t *testing.T) {
	w := newDataAPIWorld(t)
	grace := w.recordByKey(t, "E2")
	if list := apiDecode[struct{ Items []apiTask }](t, w.call(w.viewerTok, "GET", "/tasks", nil), http.StatusOK); len(list.Items) != 0 {
		t.Fatalf("tasks = %+v", list.Items)
	}
	res := w.call(w.engTok, "POST", "/tasks", map[string]any{"title": " Fix the malformed emails ", "issueCode": "bad_email",
		"recordIds": []int64{grace.ID}, "assigneeId": w.engineer.ID, "dueDate": "2026-04-01", "notes": "Ask HR."})
	task := apiDecode[apiTask](t, res, http.StatusCreated)
	if res.Header.Get("Location") != apiProjectPath(w.p.ID, fmt.Sprintf("/tasks/%d", task.ID)) {
		t.Fatalf("Location = %q", res.Header.Get("Location"))
	}
	if task.Title != "Fix the malformed emails" || task.IssueCode != "bad_email" || len(task.RecordIDs) != 1 || task.RecordIDs[0] != grace.ID ||
		task.AssigneeID == nil || *task.AssigneeID != w.engineer.ID || task.Status != "open" || task.DueDate != "2026-04-01" || task.Notes != "Ask HR." ||
		task.Version != 1 || task.ProjectID != w.p.ID {
		t.Fatalf("created task = %+v", task)
	}
	if again := w.call(w.viewerTok, "GET", fmt.Sprintf("/tasks/%d", task.ID), nil); again.Body != res.Body {
		t.Fatalf("GET = %s, want what the create answered: %s", again.Body, res.Body)
	}
	bare := apiDecode[apiTask](t, w.call(w.engTok, "POST", "/tasks", map[string]any{"title": "Review the test accounts", "status": "in_progress"}), http.StatusCreated)
	if bare.AssigneeID != nil || bare.RecordIDs == nil || len(bare.RecordIDs) != 0 || bare.IssueCode != "" || bare.Status != "in_progress" {
		t.Fatalf("a bare task = %+v", bare)
	}
	if !strings.Contains(w.call(w.viewerTok, "GET", fmt.Sprintf("/tasks/%d", bare.ID), nil).Body, `"recordIds":[]`) {
		t.Fatal("an empty recordIds is not []")
	}

	taskPath := fmt.Sprintf("/tasks/%d", task.ID)
	res = w.call(w.engTok, "PATCH", taskPath, map[string]any{"version": 1, "status": "in_progress", "notes": "HR is on it."})
	upd := apiDecode[apiTask](t, res, http.StatusOK)
	if upd.Version != 2 || upd.Status != "in_progress" || upd.Notes != "HR is on it." || upd.Title != task.Title || *upd.AssigneeID != w.engineer.ID || upd.DueDate != "2026-04-01" {
		t.Fatalf("patched = %+v (only the fields sent change)", upd)
	}
	if again := w.call(w.viewerTok, "GET", taskPath, nil); again.Body != res.Body {
		t.Fatalf("GET after PATCH = %s, want %s", again.Body, res.Body)
	}
	// null unassigns; a missing assigneeId keeps the assignee.
	unassigned := apiDecode[apiTask](t, w.call(w.engTok, "PATCH", taskPath, map[string]any{"version": 2, "assigneeId": nil, "recordIds": []int64{}}), http.StatusOK)
	if unassigned.AssigneeID != nil || len(unassigned.RecordIDs) != 0 || unassigned.Version != 3 {
		t.Fatalf("unassigned = %+v", unassigned)
	}
	done := apiDecode[apiTask](t, w.call(w.engTok, "PATCH", taskPath, map[string]any{"version": 3, "status": "done", "assigneeId": w.lead.ID}), http.StatusOK)
	if done.Status != "done" || *done.AssigneeID != w.lead.ID {
		t.Fatalf("done = %+v", done)
	}
	list := apiDecode[struct{ Items []apiTask }](t, w.call(w.viewerTok, "GET", "/tasks", nil), http.StatusOK).Items
	if len(list) != 2 || list[0].ID != bare.ID || list[1].ID != task.ID {
		t.Fatalf("tasks = %+v, want the one in progress before the done one", list)
	}

	// A stale version: 409 with the fields that differ, nothing written.
	e := apiWantError(t, w.call(w.engTok, "PATCH", taskPath, map[string]any{"version": 3, "status": "wont_fix", "dueDate": "2026-04-01"}), http.StatusConflict, "conflict")
	if e.CurrentVersion != 4 || len(e.Changes) != 1 || e.Changes[0].Field != "status" || e.Changes[0].Stored != "Done" || e.Changes[0].Yours != "Won't fix" {
		t.Fatalf("conflict = %+v", e)
	}

	// Bad input: a clear message next to the field, nothing written.
	outsider := w.app.mustAccount("outsider@example.com", "Otto Outsider", false)
	o := w.otherProject(t)
	audits := apiAuditCount(t, w.app)
	for _, c := range []struct {
		name, method, path string
		body               any
		field, want        string
	}{
		{"an unknown status", "PATCH", taskPath, map[string]any{"version": 4, "status": "closed"}, "status", "open, in_progress, done, wont_fix"},
		{"a status label", "POST", "/tasks", map[string]any{"title": "t", "status": "In progress"}, "status", "must be one of"},
		{"a due date that is no date", "POST", "/tasks", map[string]any{"title": "t", "dueDate": "2026-13-45"}, "dueDate", "YYYY-MM-DD"},
		{"a due date in another format", "PATCH", taskPath, map[string]any{"version": 4, "dueDate": "01/04/2026"}, "dueDate", "YYYY-MM-DD"},
		{"an assignee who is not a member", "POST", "/tasks", map[string]any{"title": "t", "assigneeId": outsider.ID}, "assigneeId", "member of the project"},
		{"an assignee who does not exist", "PATCH", taskPath, map[string]any{"version": 4, "assigneeId": 999999}, "assigneeId", "member of the project"},
		{"an assignee id that is not a number", "POST", "/tasks", map[string]any{"title": "t", "assigneeId": "eve"}, "assigneeId", "must be a number"},
		{"an unknown issue code", "POST", "/tasks", map[string]any{"title": "t", "issueCode": "typo"}, "issueCode", "catalog"},
		{"no title", "POST", "/tasks", map[string]any{"issueCode": "bad_email"}, "title", "required"},
		{"a blank title", "PATCH", taskPath, map[string]any{"version": 4, "title": "  "}, "title", "required"},
		{"an oversized title", "POST", "/tasks", map[string]any{"title": strings.Repeat("t", 201)}, "title", "too long"},
		{"a title on two lines", "POST", "/tasks", map[string]any{"title": "a\nb"}, "title", "single line"},
		{"oversized notes", "POST", "/tasks", map[string]any{"title": "t", "notes": strings.Repeat("n", 10001)}, "notes", "too long"},
		{"a record of another project", "POST", "/tasks", map[string]any{"title": "t", "recordIds": []int64{grace.ID, o.record.ID}}, "recordIds", "not a staged record"},
		{"a record that does not exist", "PATCH", taskPath, map[string]any{"version": 4, "recordIds": []int64{999999}}, "recordIds", "not a staged record"},
		{"too many records", "POST", "/tasks", map[string]any{"title": "t", "recordIds": make([]int64, quality.MaxTaskRecords+1)}, "recordIds", "at most"},
		{"record ids that are not a list", "POST", "/tasks", map[string]any{"title": "t", "recordIds": grace.ID}, "recordIds", "must be a list"},
		{"no version", "PATCH", taskPath, map[string]any{"status": "done"}, "version", "version is required"},
		{"a version in a create", "POST", "/tasks", map[string]any{"title": "t", "version": 1}, "version", "Unknown field"},
		{"an unknown field", "PATCH", taskPath, map[string]any{"version": 4, "priority": "high"}, "priority", "Unknown field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			apiWantField(t, w.call(w.engTok, c.method, c.path, c.body), c.field, c.want)
		})
	}
	for _, raw := range []string{`{"title": "t"`, `[{"title": "t"}]`, `"t"`, `{"title": "t"} {"title": "u"}`} {
		apiWantError(t, w.call(w.engTok, "POST", "/tasks", raw), http.StatusUnprocessableEntity, "invalid")
	}
	// Roles: reading is every member's; changing an engineer's (as on the quality page).
	for _, tok := range []string{w.viewerTok, w.legalTok, w.leadTok} {
		apiWantError(t, w.call(tok, "POST", "/tasks", map[string]any{"title": "t"}), http.StatusForbidden, "forbidden")
		apiWantError(t, w.call(tok, "PATCH", taskPath, map[string]any{"version": 4, "status": "open"}), http.StatusForbidden, "forbidden")
	}
	apiWantError(t, w.call("", "POST", "/tasks", map[string]any{"title": "t"}), http.StatusUnauthorized, "unauthorized")
	if after := apiAuditCount(t, w.app); after != audits {
		t.Fatalf("refused requests wrote %d audit entries", after-audits)
	}
	if got := apiDecode[apiTask](t, w.call(w.viewerTok, "GET", taskPath, nil), http.StatusOK); got.Version != 4 || got.Status != "done" {
		t.Fatalf("the task after the refusals = %+v", got)
	}
}

// ---- access ----

func TestAPIDataOfAnotherProjectIsNotFound(t *testing.T) {
	w := newDataAPIWorld(t)
	run := w.validate(t)
	o := w.otherProject(t)
	// The engineer is a member of both projects: only the path keeps them apart.
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", fmt.Sprintf("/extracts/%d", o.ex.ID), nil},
		{"GET", fmt.Sprintf("/extracts/%d/records", o.ex.ID), nil},
		{"GET", fmt.Sprintf("/extracts/%d/quarantined", o.ex.ID), nil},
		{"GET", fmt.Sprintf("/records/%d", o.record.ID), nil},
		{"PATCH", fmt.Sprintf("/records/%d", o.record.ID), map[string]any{"version": 1, "attributes": map[string]any{"mail": "y@example.com"}}},
		{"POST", fmt.Sprintf("/records/%d/exclude", o.record.ID), map[string]any{"version": 1, "exclude": true, "reason": "x"}},
		{"GET", fmt.Sprintf("/validations/%d", o.run.ID), nil},
		{"GET", fmt.Sprintf("/validations/%d/occurrences", o.run.ID), nil},
		{"GET", fmt.Sprintf("/tasks/%d", o.task.ID), nil},
		{"PATCH", fmt.Sprintf("/tasks/%d", o.task.ID), map[string]any{"version": 1, "status": "done"}},
		{"GET", "/extracts/abc", nil},
		{"GET", "/records/0", nil},
		{"GET", "/validations/-1", nil},
	} {
		e := apiWantError(t, w.call(w.engTok, c.method, c.path, c.body), http.StatusNotFound, "not_found")
		if strings.Contains(e.Message, "Other") {
			t.Errorf("%s %s: the 404 names the other project: %s", c.method, c.path, e.Message)
		}
	}
	// Under their own project's path, the same ids are found.
	if got := apiDecode[apiRecord](t, w.app.api(w.engTok, "GET", apiProjectPath(o.p.ID, fmt.Sprintf("/records/%d", o.record.ID)), nil), http.StatusOK); got.ID != o.record.ID {
		t.Fatalf("own record = %+v", got)
	}
	// Someone who is not a member of the project is told it does not exist.
	outsider := w.app.mustAccount("outsider@example.com", "Otto Outsider", false)
	outTok := w.app.mustToken(outsider)
	for _, rest := range []string{"/extracts", fmt.Sprintf("/extracts/%d", w.ex.ID), fmt.Sprintf("/validations/%d", run.ID), "/tasks", "/issue-types"} {
		apiWantError(t, w.call(outTok, "GET", rest, nil), http.StatusNotFound, "not_found")
	}
}

func TestAPIDataNeedsAToken(t *testing.T) {
	w := newDataAPIWorld(t)
	run := w.validate(t)
	rec := w.recordByKey(t, "E1")
	b := w.app.signedIn(w.engineer)
	for _, c := range []struct{ method, path string }{
		{"GET", "/extracts"}, {"GET", fmt.Sprintf("/extracts/%d", w.ex.ID)}, {"GET", fmt.Sprintf("/extracts/%d/records", w.ex.ID)},
		{"GET", fmt.Sprintf("/extracts/%d/quarantined", w.ex.ID)}, {"GET", fmt.Sprintf("/records/%d", rec.ID)}, {"PATCH", fmt.Sprintf("/records/%d", rec.ID)},
		{"POST", fmt.Sprintf("/records/%d/exclude", rec.ID)}, {"GET", "/validations"}, {"GET", fmt.Sprintf("/validations/%d", run.ID)},
		{"GET", fmt.Sprintf("/validations/%d/occurrences", run.ID)}, {"GET", "/issue-types"}, {"GET", "/tasks"}, {"POST", "/tasks"}, {"GET", "/tasks/1"}, {"PATCH", "/tasks/1"},
	} {
		res := w.call("", c.method, c.path, map[string]any{"version": 1})
		apiWantError(t, res, http.StatusUnauthorized, "unauthorized")
		if res.Header.Get("WWW-Authenticate") != `Bearer realm="ferry"` {
			t.Errorf("%s %s: WWW-Authenticate = %q", c.method, c.path, res.Header.Get("WWW-Authenticate"))
		}
		if c.method == "GET" {
			// A session cookie is no token.
			apiWantError(t, b.get(apiProjectPath(w.p.ID, c.path)), http.StatusUnauthorized, "unauthorized")
		}
	}
}
