package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// jobsContractWorld is what TestOpenAPIDescribesEveryAnswer lends the
// contract test of the job endpoints.
type jobsContractWorld struct {
	app *testApp
	p   *plan.Project
	// The maps of the generic provocations, by documented path.
	idFor     map[string]int64
	validBody map[string]any
}

// contractCSV is a CSV extract of the contract test's source.
const contractCSV = "employeeID,mail,givenName\r\nE1,ada@example.com,Ada\r\nE2,grace@example.com,Grace\r\n"

// blockingJob submits a job of the given kind that runs until it is cancelled.
func blockingJob(t *testing.T, app *testApp, projectID, sourceID int64, kind string) *jobs.Job {
	t.Helper()
	j, err := app.Jobs.Submit(context.Background(), jobs.Spec{ProjectID: projectID, SourceID: sourceID, Kind: kind,
		Params: jobs.Params{SourceName: "the source", URL: "ldap://ldap.example.com"}},
		func(ctx context.Context, _ *jobs.Progress) (jobs.Outcome, error) {
			<-ctx.Done()
			return jobs.Outcome{}, ctx.Err()
		})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// describeJobAnswers drives each job operation to its success answers and
// to the statuses the generic provocations do not reach (409 while another
// job is active or once a job has ended), waits for the jobs it started,
// and fills the generic maps. It returns, by path, an engineer's token: a
// project lead may not stage or validate.
func describeJobAnswers(t *testing.T, c *contract, w jobsContractWorld) map[string]string {
	t.Helper()
	const (
		stage       = "/api/v1/projects/{pid}/sources/{sid}/extracts"
		validations = "/api/v1/projects/{pid}/validations"
		confirm     = "/api/v1/projects/{pid}/program/confirmations"
		list        = "/api/v1/projects/{pid}/jobs"
		job         = "/api/v1/projects/{pid}/jobs/{id}"
		cancel      = "/api/v1/projects/{pid}/jobs/{id}/cancel"
	)
	app, pid := w.app, w.p.ID
	// A source of their own: staging replaces a source's extract, whose
	// records the other operations are provoked on.
	src := seedSource(t, app, app.mustAccount("jobs-lead@example.com", "Jo Lead", false), w.p, "HR feed for jobs")
	runner := app.mustAccount("runner@example.com", "Rita Runner", false)
	app.mustMember(w.p, runner, auth.RoleEngineer)
	tok := app.mustToken(runner)
	ok := func(call apiCall, status int, what string) map[string]any {
		t.Helper()
		call.pid, call.sid, call.token, call.validRequest = pid, src.ID, tok, true
		return c.want(c.do(call), status, what)
	}

	// Stage an extract: 202 with the job and where to poll it.
	res := c.do(apiCall{token: tok, method: "POST", tmpl: stage, pid: pid, sid: src.ID, query: "?fileName=hr.csv&format=csv&key=EMPLOYEEID",
		body: contractCSV, contentType: "text/csv", validRequest: true})
	staged := c.want(res, 202, "stage an extract")
	stagedID := idOf(t, staged)
	if loc := res.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/projects/%d/jobs/%d", pid, stagedID) {
		t.Errorf("Location %q", loc)
	}
	if staged["kind"] != jobs.KindStageFile || staged["status"] != jobs.StatusQueued {
		t.Errorf("the staging job %v", staged)
	}
	if j := app.waitJob(pid, stagedID); j.Status != jobs.StatusSucceeded || j.Params.KeyAttribute != "employeeID" || j.Result.ExtractID == 0 {
		t.Fatalf("the staging job ended %+v", j)
	}
	ok(apiCall{method: "GET", tmpl: job, id: stagedID}, 200, "read a finished staging job")

	// Validate: 202, then the run.
	validated := ok(apiCall{method: "POST", tmpl: validations}, 202, "validate")
	if j := app.waitJob(pid, idOf(t, validated)); j.Status != jobs.StatusSucceeded || j.Result.ValidationRunID == 0 {
		t.Fatalf("the validation job ended %+v", j)
	}
	ok(apiCall{method: "POST", tmpl: validations, body: map[string]any{}}, 202, "validate, with an empty object")
	app.waitValidation(pid)
	ok(apiCall{method: "GET", tmpl: list}, 200, "list jobs")

	// One staging per source, one validation per project: 409 while one is active.
	running := blockingJob(t, app, pid, src.ID, jobs.KindStageDirectory)
	c.want(c.do(apiCall{token: tok, method: "POST", tmpl: stage, pid: pid, sid: src.ID, query: "?fileName=again.csv", body: contractCSV,
		contentType: "text/csv"}), 409, "stage while a pull of the source runs")
	ok(apiCall{method: "GET", tmpl: job, id: running.ID}, 200, "read a running job")
	cancelled := ok(apiCall{method: "POST", tmpl: cancel, id: running.ID}, 200, "cancel a running job")
	if cancelled["status"] != jobs.StatusCancelled {
		t.Errorf("the cancelled job %v", cancelled)
	}
	c.want(c.do(apiCall{token: tok, method: "POST", tmpl: cancel, pid: pid, id: running.ID}), 409, "cancel a job that has ended")
	checking := blockingJob(t, app, pid, 0, jobs.KindValidate)
	c.want(c.do(apiCall{token: tok, method: "POST", tmpl: validations, pid: pid}), 409, "validate while a validation runs")
	if _, err := app.Jobs.Cancel(asActor(runner), pid, checking.ID); err != nil {
		t.Fatal(err)
	}

	// Check with Okta: 202 with the job (which fails, saying why: no
	// password import hook serves this project), 409 while one is active.
	confirmed := ok(apiCall{method: "POST", tmpl: confirm}, 202, "check with Okta")
	if j := app.waitJob(pid, idOf(t, confirmed)); j.Kind != jobs.KindConfirmImports || j.Status != jobs.StatusFailed || !strings.Contains(j.Message, "Set up the password import hook first") {
		t.Errorf("the read-back without a hook ended %+v", j)
	}
	reading := blockingJob(t, app, pid, 0, jobs.KindConfirmImports)
	c.want(c.do(apiCall{token: tok, method: "POST", tmpl: confirm, pid: pid}), 409, "check with Okta while a read-back runs")
	if _, err := app.Jobs.Cancel(asActor(runner), pid, reading.ID); err != nil {
		t.Fatal(err)
	}

	// The statuses of a file that cannot be staged.
	c.want(c.do(apiCall{token: tok, method: "POST", tmpl: stage, pid: pid, sid: src.ID, query: "?fileName=hr.csv&key=objectGUID",
		body: contractCSV, contentType: "text/csv"}), 422, "a record key that is not a column")

	// The generic provocations, on jobs of their own.
	w.idFor[job], w.idFor[cancel] = stagedID, stagedID
	return map[string]string{stage: tok, validations: tok, confirm: tok, cancel: tok}
}

// TestOpenAPIJobEnumsFollowTheRunner fails when a kind or status of job
// changes in code but not in the document.
func TestOpenAPIJobEnumsFollowTheRunner(t *testing.T) {
	app := newTestApp(t)
	spec, _ := servedOpenAPI(t, app)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	job := doc.Components.Schemas["Job"].Properties
	if got := job["kind"].Enum; !slices.Equal(got, jobs.Kinds()) {
		t.Errorf("Job.kind enum %q, want %q", got, jobs.Kinds())
	}
	if got := job["status"].Enum; !slices.Equal(got, jobs.Statuses()) {
		t.Errorf("Job.status enum %q, want %q", got, jobs.Statuses())
	}
	for _, name := range []string{"password", "bindPassword", "secret"} {
		if _, ok := doc.Components.Schemas["JobParams"].Properties[name]; ok || strings.Contains(strings.ToLower(string(spec)), `"bindpassword"`) {
			t.Errorf("the document describes a job parameter %q: a secret is never stored", name)
		}
	}
}
