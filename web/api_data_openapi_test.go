package web_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// dataContractWorld is what TestOpenAPIDescribesEveryAnswer lends the
// contract test of the staged-data, validation and remediation endpoints.
type dataContractWorld struct {
	app     *testApp
	p       *plan.Project
	lead    *auth.Account
	srcID   int64
	leadTok string
	// The maps of the generic provocations, by documented path.
	idFor     map[string]int64
	validBody map[string]any
	staleBody map[string]any
}

// contractExtract is an NDJSON extract of the contract test's source (its
// fields employeeID, mail and givenName): two records and a line that is
// not an object, which is quarantined.
const contractExtract = `{"employeeID": "E1", "mail": "ada@example.com", "givenName": "Ada"}
{"employeeID": "E2", "mail": "not-an-email", "givenName": "Grace"}
42
{"employeeID": "E3", "mail": "alan@example.com", "givenName": "Alan", "title": "<b>Engineer</b>"}
`

// describeDataAnswers stages and validates an extract of the contract
// test's project, drives each staged-data operation to its success answers
// and to the error statuses the generic provocations do not reach (422 on
// the paged lists, 409 on an exclusion), and fills the generic maps for the
// rest. It returns, by path, an engineer's token: a project lead may not
// change staged data.
func describeDataAnswers(t *testing.T, c *contract, w dataContractWorld) map[string]string {
	t.Helper()
	const (
		extracts    = "/api/v1/projects/{pid}/extracts"
		extract     = "/api/v1/projects/{pid}/extracts/{id}"
		records     = "/api/v1/projects/{pid}/extracts/{id}/records"
		quarantined = "/api/v1/projects/{pid}/extracts/{id}/quarantined"
		record      = "/api/v1/projects/{pid}/records/{id}"
		exclude     = "/api/v1/projects/{pid}/records/{id}/exclude"
		validations = "/api/v1/projects/{pid}/validations"
		validation  = "/api/v1/projects/{pid}/validations/{id}"
		occurrences = "/api/v1/projects/{pid}/validations/{id}/occurrences"
		issueTypes  = "/api/v1/projects/{pid}/issue-types"
		tasks       = "/api/v1/projects/{pid}/tasks"
		task        = "/api/v1/projects/{pid}/tasks/{id}"
	)
	app, pid := w.app, w.p.ID
	engineer := app.mustAccount("engineer@example.com", "Eve Engineer", false)
	app.mustMember(w.p, engineer, auth.RoleEngineer)
	legal := app.mustAccount("legal@example.com", "Lou Legal", false)
	app.mustMember(w.p, legal, auth.RoleLegalReviewer)
	engTok, legalTok := app.mustToken(engineer), app.mustToken(legal)

	// Before anything is staged: empty lists.
	c.want(c.do(apiCall{token: w.leadTok, method: "GET", tmpl: extracts, pid: pid, validRequest: true}), 200, "no extracts")
	c.want(c.do(apiCall{token: w.leadTok, method: "GET", tmpl: validations, pid: pid, validRequest: true}), 200, "no validations")
	c.want(c.do(apiCall{token: w.leadTok, method: "GET", tmpl: tasks, pid: pid, validRequest: true}), 200, "no tasks")

	rd, format, err := staging.OpenReader(strings.NewReader(contractExtract), "")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := app.Staging.Stage(asActor(engineer), pid, w.srcID, rd, staging.Meta{FileName: "ad.ndjson", Format: format}, nil)
	if err != nil {
		t.Fatalf("stage: %v", err)
	}
	if ex.Records != 3 || ex.Quarantined != 1 {
		t.Fatalf("staged %+v, want 3 records and 1 quarantined", ex)
	}
	recs, err := app.Staging.FindRecords(asActor(engineer), ex.ID, 0, 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("records: %v %v", recs, err)
	}
	run, err := app.Quality.Validate(asActor(engineer), pid, nil)
	if err != nil {
		t.Fatal(err)
	}

	ok := func(call apiCall, status int, what string) map[string]any {
		t.Helper()
		call.pid, call.validRequest = pid, true
		return c.want(c.do(call), status, what)
	}
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: extracts}, 200, "list extracts")
	ok(apiCall{token: legalTok, method: "GET", tmpl: extracts, query: fmt.Sprintf("?source=%d", w.srcID)}, 200, "list a source's extracts")
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: extract, id: ex.ID}, 200, "read an extract")
	ok(apiCall{token: legalTok, method: "GET", tmpl: extract, id: ex.ID}, 200, "read an extract, masked")
	first := ok(apiCall{token: w.leadTok, method: "GET", tmpl: records, id: ex.ID, query: "?limit=2"}, 200, "first page of records")
	next, _ := first["next"].(string)
	if next == "" {
		t.Fatalf("a first page of 2 of 3 records names no next page: %v", first)
	}
	_, query, _ := strings.Cut(next, "?")
	last := ok(apiCall{token: legalTok, method: "GET", tmpl: records, id: ex.ID, query: "?" + query}, 200, "last page of records, masked")
	if _, more := last["next"]; more {
		t.Fatalf("the last page names a next one: %v", last)
	}
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: quarantined, id: ex.ID, query: "?after=0&limit=10"}, 200, "quarantined rows")
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: record, id: recs[0].ID}, 200, "read a record")
	ok(apiCall{token: engTok, method: "PATCH", tmpl: record, id: recs[0].ID, body: map[string]any{"version": 1,
		"attributes": map[string]any{"givenName": "Adele", "mail": "ada@example.org"}}}, 200, "fix a record")
	ok(apiCall{token: engTok, method: "POST", tmpl: exclude, id: recs[0].ID, body: map[string]any{"version": 2, "exclude": true,
		"reason": "A test account."}}, 200, "exclude a record")
	ok(apiCall{token: engTok, method: "POST", tmpl: exclude, id: recs[0].ID, body: map[string]any{"version": 3, "exclude": false}}, 200, "include a record again")
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: validations, query: "?limit=1"}, 200, "list validations")
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: validation, id: run.ID}, 200, "read a validation")
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: occurrences, id: run.ID}, 200, "list occurrences")
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: occurrences, id: run.ID, query: fmt.Sprintf("?code=%s&source=%d&attribute=email&limit=5",
		quality.IssueBadEmail, w.srcID)}, 200, "list filtered occurrences")
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: issueTypes}, 200, "list issue types")
	created := ok(apiCall{token: engTok, method: "POST", tmpl: tasks, body: map[string]any{"title": "Fix the malformed emails",
		"issueCode": quality.IssueBadEmail, "recordIds": []int64{recs[1].ID}, "assigneeId": engineer.ID, "status": "open",
		"dueDate": "2026-04-01", "notes": "Ask HR."}}, 201, "create a task")
	ok(apiCall{token: engTok, method: "POST", tmpl: tasks, body: map[string]any{"title": "Unassigned", "assigneeId": nil}}, 201, "create an unassigned task")
	taskID := idOf(t, created)
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: tasks}, 200, "list tasks")
	ok(apiCall{token: w.leadTok, method: "GET", tmpl: task, id: taskID}, 200, "read a task")
	ok(apiCall{token: engTok, method: "PATCH", tmpl: task, id: taskID, body: map[string]any{"version": 1, "status": "in_progress",
		"assigneeId": nil, "recordIds": []int64{}, "dueDate": ""}}, 200, "change a task")

	// The statuses the generic provocations do not reach.
	bad := func(call apiCall, status int, what string) {
		t.Helper()
		call.pid = pid
		c.want(c.do(call), status, what)
	}
	bad(apiCall{token: w.leadTok, method: "GET", tmpl: extracts, query: "?source=abc"}, 422, "extracts of a source that is not a number")
	bad(apiCall{token: w.leadTok, method: "GET", tmpl: records, id: ex.ID, query: "?limit=0"}, 422, "records with a limit of 0")
	bad(apiCall{token: w.leadTok, method: "GET", tmpl: quarantined, id: ex.ID, query: "?limit=1001"}, 422, "quarantined rows with a limit over 1000")
	bad(apiCall{token: w.leadTok, method: "GET", tmpl: validations, query: "?after=-1"}, 422, "validations after -1")
	bad(apiCall{token: w.leadTok, method: "GET", tmpl: occurrences, id: run.ID, query: "?code=no_such_code"}, 422, "occurrences of an unknown code")
	bad(apiCall{token: engTok, method: "POST", tmpl: exclude, id: recs[1].ID, body: map[string]any{"version": 99, "exclude": true, "reason": "Stale."}},
		409, "exclusion based on an old version")

	// The generic provocations, on records and runs of their own.
	w.idFor[extract], w.idFor[records], w.idFor[quarantined] = ex.ID, ex.ID, ex.ID
	w.idFor[record], w.idFor[exclude] = recs[1].ID, recs[1].ID
	w.idFor[validation], w.idFor[occurrences] = run.ID, run.ID
	w.idFor[task] = taskID
	w.validBody["PATCH "+record] = map[string]any{"version": 1, "attributes": map[string]any{"givenName": "Gracie"}}
	w.validBody["POST "+exclude] = map[string]any{"version": 1, "exclude": true, "reason": "A duplicate."}
	w.validBody["POST "+tasks] = map[string]any{"title": "Another task"}
	w.validBody["PATCH "+task] = map[string]any{"version": 2, "notes": "x"}
	w.staleBody[record] = map[string]any{"version": 99, "attributes": map[string]any{"givenName": "Changed elsewhere"}}
	w.staleBody[task] = map[string]any{"version": 99, "notes": "Changed elsewhere"}
	return map[string]string{record: engTok, exclude: engTok, tasks: engTok, task: engTok}
}

// TestOpenAPIDataEnumsAndLimitsFollowTheServices fails when an option or a
// limit of staged data, validation or remediation changes in code but not in
// the document.
func TestOpenAPIDataEnumsAndLimitsFollowTheServices(t *testing.T) {
	app := newTestApp(t)
	spec, _ := servedOpenAPI(t, app)
	type property struct {
		Enum                 []string `json:"enum"`
		MaxLength            *int     `json:"maxLength"`
		MaxItems             *int     `json:"maxItems"`
		AdditionalProperties *struct {
			MaxLength *int `json:"maxLength"`
		} `json:"additionalProperties"`
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]property `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	prop := func(schema, name string) property {
		t.Helper()
		p, ok := doc.Components.Schemas[schema].Properties[name]
		if !ok {
			t.Fatalf("schema %s has no property %s", schema, name)
		}
		return p
	}
	var codes, statuses []string
	for _, it := range quality.IssueTypes() {
		codes = append(codes, it.Code)
	}
	for _, st := range quality.TaskStatuses() {
		statuses = append(statuses, st[0])
	}
	severities := []string{quality.SeverityBlocking, quality.SeverityWarning}
	for _, e := range []struct {
		schema, field string
		want          []string
	}{
		{"IssueType", "code", codes},
		{"IssueType", "severity", severities},
		{"Occurrence", "severity", severities},
		{"Task", "issueCode", append([]string{""}, codes...)},
		{"TaskCreate", "issueCode", append([]string{""}, codes...)},
		{"TaskUpdate", "issueCode", append([]string{""}, codes...)},
		{"Task", "status", statuses},
		{"TaskCreate", "status", statuses},
		{"TaskUpdate", "status", statuses},
		{"ExtractSummary", "status", []string{staging.StatusLoading, staging.StatusReady, staging.StatusReplaced, staging.StatusFailed}},
		{"Extract", "status", []string{staging.StatusLoading, staging.StatusReady, staging.StatusReplaced, staging.StatusFailed}},
		{"ValidationRun", "status", []string{quality.RunRunning, quality.RunDone, quality.RunFailed}},
	} {
		if got := prop(e.schema, e.field).Enum; !slices.Equal(got, e.want) {
			t.Errorf("%s.%s enum = %q, want %q", e.schema, e.field, got, e.want)
		}
	}
	for _, s := range []string{"Task", "TaskCreate", "TaskUpdate"} {
		if got := prop(s, "recordIds").MaxItems; got == nil || *got != quality.MaxTaskRecords {
			t.Errorf("%s.recordIds maxItems = %v, want %d", s, got, quality.MaxTaskRecords)
		}
		if got := prop(s, "title").MaxLength; got == nil || *got != apperr.MaxNameLen {
			t.Errorf("%s.title maxLength = %v, want %d", s, got, apperr.MaxNameLen)
		}
		if got := prop(s, "notes").MaxLength; got == nil || *got != apperr.MaxTextLen {
			t.Errorf("%s.notes maxLength = %v, want %d", s, got, apperr.MaxTextLen)
		}
	}
	if got := prop("RecordExclusion", "reason").MaxLength; got == nil || *got != apperr.MaxShortLen {
		t.Errorf("RecordExclusion.reason maxLength = %v, want %d", got, apperr.MaxShortLen)
	}
	if ap := prop("StagedRecordUpdate", "attributes").AdditionalProperties; ap == nil || ap.MaxLength == nil || *ap.MaxLength != staging.MaxEditValueLen {
		t.Errorf("StagedRecordUpdate.attributes values' maxLength = %+v, want %d", ap, staging.MaxEditValueLen)
	}
}
