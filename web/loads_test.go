package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/web"
)

// testDefectLog records a run's failures in the defect log, as the
// console's wiring (cmd/ferry) does.
type testDefectLog struct{ svc *defects.Service }

func (d testDefectLog) RecordFailures(ctx context.Context, projectID, runID int64, runLabel string, failures []load.ErrorCount) error {
	out := make([]defects.RunFailure, 0, len(failures))
	for _, f := range failures {
		category := defects.CategoryOther
		if strings.HasPrefix(f.Code, "E0") {
			category = defects.CategoryOkta
		}
		out = append(out, defects.RunFailure{Code: f.Code, Summary: f.Summary, Count: int(f.Count), Category: category})
	}
	_, err := d.svc.RecordRunFailures(ctx, projectID, runID, runLabel, out)
	return err
}

// loadWorld is a data world (one source mapped to login, email, names and
// country) with its users staged and, when asked, validated and the
// project connected to a sandbox.
type loadWorld struct {
	*dataWorld
	simURL string
}

const loadSandboxToken = "00loadWorldSandboxToken-0123456789abcdef"

// loadCSV has twelve valid people.
func loadCSV() string {
	var b strings.Builder
	b.WriteString("employeeID,mail,givenName,sn,c\r\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "E%d,user%02d@example.com,User%d,Tester,GB\r\n", i, i, i)
	}
	return b.String()
}

func newLoadWorld(t *testing.T) *loadWorld {
	t.Helper()
	return &loadWorld{dataWorld: newDataWorld(t, web.Options{})}
}

// stage stages the users directly (no job) and, when validate, validates them.
func (w *loadWorld) stage(t *testing.T, validate bool) {
	t.Helper()
	ctx := asActor(w.engineer)
	r, format, err := staging.OpenReader(strings.NewReader(loadCSV()), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Staging.Stage(ctx, w.p.ID, w.src.ID, r, staging.Meta{FileName: "hr.csv", Format: format}, nil); err != nil {
		t.Fatal(err)
	}
	if validate {
		w.app.Clock.Advance(time.Minute)
		if _, err := w.app.Quality.Validate(ctx, w.p.ID, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// connectSandbox starts Ferry's Okta sandbox and connects the project to
// it, checked as the sandbox.
func (w *loadWorld) connectSandbox(t *testing.T) *oktasim.Server {
	t.Helper()
	ts, sim := oktasim.NewTestServer(t, oktasim.Options{Token: loadSandboxToken})
	w.simURL = ts.URL
	ctx := asActor(w.lead)
	conn, err := w.app.Orgs.Save(ctx, w.p.ID, 0, orgs.Input{OrgURL: ts.URL, AuthScheme: orgs.SchemeSSWS, Token: pval(loadSandboxToken)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Orgs.RecordCheck(ctx, w.p.ID, conn.Version, true, true, "Connected to Ferry's sandbox."); err != nil {
		t.Fatal(err)
	}
	return sim
}

// loadForm is the new-run form as the page sends it, with its defaults.
func loadForm(kind string, rung int) url.Values {
	v := url.Values{"kind": {kind}, "mode": {load.ModeNone}, "activate": {"false"}, "on_existing": {load.OnExistingSkip},
		"max_in_flight": {"10"}, "rate_share": {"80"}, "filter_op": {"equals"}}
	if kind == load.KindTestBatch {
		v.Set("rung", fmt.Sprint(rung))
		v.Set("priority", load.PrioritySpread)
	}
	return v
}

// waitRun polls the run until it is no longer active (a generous deadline:
// the test asserts outcomes, never timings).
func (w *loadWorld) waitRun(t *testing.T, runID int64) *load.Run {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		r, err := w.app.Loads.FindRun(context.Background(), w.p.ID, runID)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Active() && !w.app.LoadRunner.Busy(runID) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d still %s (%s) after the deadline", runID, r.Status, r.Message)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runIDFrom reads the run id from a redirect to a run's page.
func (w *loadWorld) runIDFrom(t *testing.T, res response) int64 {
	t.Helper()
	loc := res.Header.Get("Location")
	prefix := w.path("/loads/")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("want a 303 to a run's page, got %d to %q: %.1500s", res.StatusCode, loc, res.Body)
	}
	var id int64
	if _, err := fmt.Sscan(strings.TrimPrefix(loc, prefix), &id); err != nil {
		t.Fatalf("run id in %q: %v", loc, err)
	}
	return id
}

func TestTheLoadsPageSaysWhatToDoFirst(t *testing.T) {
	w := newLoadWorld(t)
	for name, b := range map[string]*browser{"engineer": w.asEngineer, "viewer": w.asViewer} {
		res := b.get(w.path("/loads"))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d: %.500s", name, res.StatusCode, res.Body)
		}
		doc := res.doc(t)
		empty := text(doc.Find("#loads-empty"))
		for _, want := range []string{"Connect an Okta org", "validate the data", "Run test batch 1 against the sandbox"} {
			if !strings.Contains(empty, want) {
				t.Errorf("%s: the empty state lacks %q: %s", name, want, empty)
			}
		}
		if doc.Find(`a[href="`+w.path("/defects")+`"]`).Length() == 0 {
			t.Errorf("%s: no link to the defect log", name)
		}
		if doc.Find(`nav.side a[href="`+w.path("/loads")+`"]`).Length() == 0 {
			t.Errorf("%s: no Loads entry in the project navigation", name)
		}
		if got := doc.Find("#rungs tbody tr").Length(); got != 4 {
			t.Errorf("%s: %d rungs, want the default ladder's 4", name, got)
		}
		canRun := doc.Find("#new-load").Length() > 0
		if canRun != (name == "engineer") {
			t.Errorf("%s: New load button shown: %v", name, canRun)
		}
	}
	if res := w.asViewer.get(w.path("/loads/new")); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer opens the new-run form: %d", res.StatusCode)
	}
}

func TestThePreflightShowsTheFailedChecks(t *testing.T) {
	w := newLoadWorld(t)
	// No org connected yet.
	res := w.asEngineer.post(w.path("/loads/preflight"), loadForm(load.KindTestBatch, 1))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("preflight: %d: %.800s", res.StatusCode, res.Body)
	}
	doc := res.doc(t)
	checks := text(doc.Find("#preflight-checks"))
	if !strings.Contains(checks, "failed") || !strings.Contains(checks, "Okta org") {
		t.Errorf("no failed Okta org check: %s", checks)
	}
	if _, ok := doc.Find("#start-form button").Attr("disabled"); !ok {
		t.Error("Start is not disabled while a check fails")
	}
	// Connected, staged but not validated.
	w.connectSandbox(t)
	w.stage(t, false)
	res = w.asEngineer.post(w.path("/loads/preflight"), loadForm(load.KindTestBatch, 1))
	doc = res.doc(t)
	checks = text(doc.Find("#preflight-checks"))
	if res.StatusCode != http.StatusOK || !strings.Contains(checks, "Users to load") || doc.Find(".check-failed").Length() == 0 {
		t.Fatalf("preflight of unvalidated data: %d: %s", res.StatusCode, checks)
	}
	if !strings.Contains(checks, "valid") {
		t.Errorf("the failed check does not say the data must be validated: %s", checks)
	}
	if _, ok := doc.Find("#start-form button").Attr("disabled"); !ok {
		t.Error("Start is not disabled while a check fails")
	}
	// Starting anyway is refused, with the reasons.
	res = w.asEngineer.post(w.path("/loads"), loadForm(load.KindTestBatch, 1))
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "refuse") {
		t.Errorf("start of a blocked run: %d: %.500s", res.StatusCode, res.Body)
	}
	runs, _ := w.app.Loads.FindRuns(context.Background(), w.p.ID, 10)
	if len(runs) != 0 {
		t.Errorf("a refused start recorded %d run(s)", len(runs))
	}
}

// startTestBatch runs test batch 1 through the pages and waits for it.
func (w *loadWorld) startTestBatch(t *testing.T) *load.Run {
	t.Helper()
	res := w.asEngineer.post(w.path("/loads/preflight"), loadForm(load.KindTestBatch, 1))
	doc := res.doc(t)
	if res.StatusCode != http.StatusOK || doc.Find("#start").Length() == 0 {
		t.Fatalf("preflight: %d: %s", res.StatusCode, text(doc.Find("#preflight")))
	}
	// The Start form carries the choices in hidden fields.
	form := url.Values{}
	doc.Find("#start-form input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		form.Add(name, val)
	})
	if form.Get("kind") != load.KindTestBatch || form.Get("rung") != "1" {
		t.Fatalf("the Start form lost the choices: %v", form)
	}
	id := w.runIDFrom(t, w.asEngineer.post(w.path("/loads"), form))
	return w.waitRun(t, id)
}

func TestATestBatchRunsToDoneAgainstTheSandbox(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	w.stage(t, true)
	run := w.startTestBatch(t)
	if run.Status != load.StatusDone || run.Kind != load.KindTestBatch || run.Total != 10 {
		t.Fatalf("run: %s %s total %d: %s", run.Kind, run.Status, run.Total, run.Message)
	}
	page := w.path(fmt.Sprintf("/loads/%d", run.ID))
	before := countAudit(t, w.app)
	res := w.asEngineer.get(page)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("run page: %d: %.500s", res.StatusCode, res.Body)
	}
	doc := res.doc(t)
	if v := text(doc.Find("#verdict")); !strings.HasPrefix(v, "Passed") {
		t.Errorf("verdict: %q", v)
	}
	if got := doc.Find("#run-items tbody tr").Length(); got != 10 {
		t.Errorf("%d users listed, want 10", got)
	}
	if l := text(doc.Find("#run-items td.login").First()); !strings.HasSuffix(l, "@example.com") || strings.Contains(l, "*") {
		t.Errorf("the engineer sees the login %q, want it unmasked", l)
	}
	if countAudit(t, w.app) == before {
		t.Error("the unmasked logins were not audited")
	}
	if doc.Find(`a[href="`+page+`/rollback"]`).Length() == 0 {
		t.Error("no link to roll the run back")
	}
	// A viewer sees the logins masked.
	res = w.asViewer.get(page)
	doc = res.doc(t)
	if l := text(doc.Find("#run-items td.login").First()); res.StatusCode != http.StatusOK || strings.HasSuffix(l, "@example.com") {
		t.Errorf("the viewer sees the login %q (status %d)", l, res.StatusCode)
	}
	if doc.Find("#pause, #resume, #cancel, #rollback").Length() != 0 {
		t.Error("the viewer is offered run controls")
	}
	// The fragment no longer polls once the run is done.
	res = w.asViewer.get(page + "/progress")
	if res.StatusCode != http.StatusOK || strings.Contains(res.Body, "data-job-poll") || !strings.Contains(res.Body, "run-done") {
		t.Errorf("progress fragment: %d: %.500s", res.StatusCode, res.Body)
	}
	// The ladder: batch 1 passed, batch 2 is next.
	doc = w.asEngineer.get(w.path("/loads")).doc(t)
	if got := text(doc.Find("#rung-1")); !strings.Contains(got, "passed") {
		t.Errorf("rung 1: %s", got)
	}
	if href, _ := doc.Find("#rung-2 a.run-rung").Attr("href"); !strings.Contains(href, "kind=test_batch&rung=2") {
		t.Errorf("no button for test batch 2: %q", href)
	}
	if got := text(doc.Find("#runs")); !strings.Contains(got, "Test batch 1 (run 1)") || !strings.Contains(got, "Eve Engineer") {
		t.Errorf("runs list: %s", got)
	}
	// Paging through the users by seq.
	res = w.asEngineer.get(page + "?state=created&after=5")
	if got := res.doc(t).Find("#run-items tbody tr").Length(); got != 5 {
		t.Errorf("%d users after seq 5, want 5", got)
	}
}

func TestFailedUsersDownloadNeedsPersonalDataAccessAndIsAudited(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	w.stage(t, true)
	// Two logins exist in the org before Ferry: a load that fails on existing logins fails them.
	client, err := okta.New(okta.Config{OrgURL: w.simURL, APIToken: loadSandboxToken})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"user01@example.com", "user02@example.com"} {
		if _, _, err := client.CreateUser(context.Background(), okta.CreateUserRequest{Profile: okta.UserProfile{"login": l, "email": l,
			"firstName": "Pre", "lastName": "Existing"}}, okta.CreateUserOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	form := loadForm(load.KindLoad, 0)
	form.Set("on_existing", load.OnExistingFail)
	form.Set("logins", "user01@example.com\nuser02@example.com\nuser03@example.com")
	id := w.runIDFrom(t, w.asEngineer.post(w.path("/loads"), form))
	run := w.waitRun(t, id)
	c, _ := w.app.Loads.CountItems(context.Background(), id)
	if c.Of(load.StateFailed) != 2 || c.Of(load.StateCreated) != 1 {
		t.Fatalf("run %s: counts %v", run.Status, c.State)
	}
	page := w.path(fmt.Sprintf("/loads/%d", id))
	if res := w.asViewer.get(page + "/failed.csv"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer downloads the failed users: %d", res.StatusCode)
	}
	before := countAudit(t, w.app)
	res := w.asEngineer.get(page + "/failed.csv")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("failed.csv: %d %s: %.300s", res.StatusCode, res.Header.Get("Content-Type"), res.Body)
	}
	if !strings.Contains(res.Body, "user01@example.com") || strings.Contains(res.Body, "user03@example.com") {
		t.Errorf("failed.csv holds: %s", res.Body)
	}
	if countAudit(t, w.app) == before {
		t.Error("the download of personal data was not audited")
	}
	// The page links to it and to the defect log; the failures became defects.
	doc := w.asEngineer.get(page).doc(t)
	if doc.Find("#failed-csv").Length() == 0 || doc.Find(`a[href="`+w.path("/defects")+`"]`).Length() == 0 {
		t.Error("the run page does not link to the failed users and the defect log")
	}
	// The failed users of the run can be chosen for the next one.
	doc = w.asEngineer.get(w.path("/loads/new?kind=load")).doc(t)
	if doc.Find(fmt.Sprintf(`#f-failed_of_run option[value="%d"]`, id)).Length() != 1 {
		t.Error("the run is not offered as the failed users of run N")
	}
}

// queuedLoad records a load without launching it (as if the console had
// stopped before working on it).
func (w *loadWorld) queuedLoad(t *testing.T, logins string) *load.Run {
	t.Helper()
	run, rep, err := w.app.Loads.Start(audit.WithActor(context.Background(), audit.Actor{ID: w.engineer.ID, Name: w.engineer.Name}),
		w.p.ID, load.NewRun{Kind: load.KindLoad, Population: load.Population{Logins: load.ParseLogins(logins)}})
	if err != nil {
		var reasons []string
		if rep != nil {
			reasons = rep.BlockingReasons()
		}
		t.Fatalf("Start: %v %v", err, reasons)
	}
	return run
}

func TestPauseResumeAndCancelARun(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	w.stage(t, true)
	run := w.queuedLoad(t, "user04@example.com, user05@example.com")
	page := w.path(fmt.Sprintf("/loads/%d", run.ID))
	if res := w.asViewer.post(page+"/pause", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer pauses: %d", res.StatusCode)
	}
	res := w.asEngineer.post(page+"/pause", url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page {
		t.Fatalf("pause: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	r, _ := w.app.Loads.FindRun(context.Background(), w.p.ID, run.ID)
	if r.Status != load.StatusPaused {
		t.Fatalf("after pause: %s", r.Status)
	}
	doc := w.asEngineer.get(page).doc(t)
	if doc.Find("#resume").Length() != 1 || doc.Find("#pause").Length() != 0 {
		t.Error("a paused run does not offer Resume")
	}
	if _, ok := doc.Find("#run-" + fmt.Sprint(run.ID) + "-progress").Attr("data-job-poll"); !ok {
		t.Error("the progress of a paused run is not polled")
	}
	// Pausing again is refused with a message.
	res = w.asEngineer.post(page+"/pause", url.Values{})
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("pause of a paused run: %d", res.StatusCode)
	}
	res = w.asEngineer.post(page+"/resume", url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != page {
		t.Fatalf("resume: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if r := w.waitRun(t, run.ID); r.Status != load.StatusDone {
		t.Errorf("the resumed run ended %s: %s", r.Status, r.Message)
	}

	// Cancel asks first, then cancels.
	other := w.queuedLoad(t, "user06@example.com")
	page = w.path(fmt.Sprintf("/loads/%d", other.ID))
	res = w.asEngineer.get(page + "/cancel")
	if res.StatusCode != http.StatusOK || res.doc(t).Find("#cancel-run").Length() != 1 {
		t.Fatalf("cancel confirmation: %d", res.StatusCode)
	}
	res = w.asEngineer.post(page+"/cancel", url.Values{})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", res.StatusCode)
	}
	if r := w.waitRun(t, other.ID); r.Status != load.StatusCancelled {
		t.Errorf("the cancelled run ended %s: %s", r.Status, r.Message)
	}
	// A finished run has nothing to cancel: the confirmation leads back.
	if res := w.asEngineer.get(page + "/cancel"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("cancel confirmation of a cancelled run: %d", res.StatusCode)
	}
}

func TestARollbackNeedsTheProjectsNameAndExportsFirst(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	w.stage(t, true)
	run := w.startTestBatch(t)
	page := w.path(fmt.Sprintf("/loads/%d", run.ID))
	res := w.asEngineer.get(page + "/rollback")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("rollback page: %d: %.500s", res.StatusCode, res.Body)
	}
	doc := res.doc(t)
	if got := text(doc.Find("#rollback-users")); got != "10" {
		t.Errorf("rollback scope: %q users", got)
	}
	scope := text(doc.Find("#rollback-scope"))
	for _, want := range []string{w.simURL, "existed in Okta before Ferry", "exported", "Application assignments"} {
		if !strings.Contains(scope, want) {
			t.Errorf("the scope does not say %q: %s", want, scope)
		}
	}
	res = w.asEngineer.post(page+"/rollback", url.Values{"action": {load.RollbackDelete}, "confirm": {"Acme Corp"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, "confirm") == "" {
		t.Fatalf("a wrong name: %d %q", res.StatusCode, fieldError(t, res, "confirm"))
	}
	if v, _ := res.doc(t).Find("#f-confirm").Attr("value"); v != "Acme Corp" {
		t.Errorf("the typed name is not kept: %q", v)
	}
	if res := w.asViewer.post(page+"/rollback", url.Values{"action": {load.RollbackDelete}, "confirm": {"Acme"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer rolls back: %d", res.StatusCode)
	}
	id := w.runIDFrom(t, w.asEngineer.post(page+"/rollback", url.Values{"action": {load.RollbackDelete}, "confirm": {"Acme"}}))
	rb := w.waitRun(t, id)
	c, _ := w.app.Loads.CountItems(context.Background(), id)
	if rb.Status != load.StatusDone || rb.Kind != load.KindRollback || c.Of(load.StateRemoved) != 10 {
		t.Fatalf("rollback %s: %v: %s", rb.Status, c.State, rb.Message)
	}
	rbPage := w.path(fmt.Sprintf("/loads/%d", id))
	doc = w.asEngineer.get(rbPage).doc(t)
	if doc.Find("#export-json").Length() != 1 || doc.Find("#export-csv").Length() != 1 {
		t.Error("the rollback's page does not offer its exports")
	}
	res = w.asEngineer.get(rbPage + "/export.json")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "user") || !strings.Contains(res.Body, `"users"`) {
		t.Errorf("export.json: %d: %.300s", res.StatusCode, res.Body)
	}
	res = w.asEngineer.get(rbPage + "/export.csv")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Body, "id,status,created,login") {
		t.Errorf("export.csv: %d: %.300s", res.StatusCode, res.Body)
	}
	if res := w.asViewer.get(rbPage + "/export.json"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer downloads the export: %d", res.StatusCode)
	}
	// Nothing is left to roll back by source.
	res = w.asEngineer.get(w.path(fmt.Sprintf("/rollback?source=%d", w.src.ID)))
	if res.StatusCode != http.StatusOK || res.doc(t).Find("#rollback-nothing").Length() != 1 {
		t.Errorf("rollback by source after the rollback: %d", res.StatusCode)
	}
	if res := w.asEngineer.get(w.path("/rollback?source=99999")); res.StatusCode != http.StatusNotFound {
		t.Errorf("rollback of an unknown source: %d", res.StatusCode)
	}
}

func TestARollbackBySourceGroup(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	w.stage(t, true)
	w.startTestBatch(t)
	path := w.path(fmt.Sprintf("/rollback?source=%d", w.src.ID))
	doc := w.asEngineer.get(path).doc(t)
	if got := text(doc.Find("#rollback-users")); got != "10" {
		t.Fatalf("source rollback scope: %q", got)
	}
	id := w.runIDFrom(t, w.asEngineer.post(path, url.Values{"action": {load.RollbackDeactivate}, "confirm": {"Acme"}}))
	rb := w.waitRun(t, id)
	c, _ := w.app.Loads.CountItems(context.Background(), id)
	if rb.Status != load.StatusDone || c.Of(load.StateDeactivated) != 10 {
		t.Fatalf("source rollback %s: %v", rb.Status, c.State)
	}
}

func TestTheNewRunFormRefusesBadInputNextToTheField(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	w.stage(t, true)
	huge := strings.Repeat("someone.with.a.long.login@example.com\n", (2<<20)/38+100)
	cases := []struct {
		name, field, value, errField string
	}{
		{"non-numeric requests in flight", "max_in_flight", "ten", "max_in_flight"},
		{"too many requests in flight", "max_in_flight", "76", "max_in_flight"},
		{"no request in flight", "max_in_flight", "0", "max_in_flight"},
		{"a huge number", "max_in_flight", "99999999999999999999", "max_in_flight"},
		{"non-numeric share", "rate_share", "most", "rate_share"},
		{"share over 100", "rate_share", "150", "rate_share"},
		{"an unknown source", "source_ids", "99999", "source_ids"},
		{"a malformed source id", "source_ids", "abc", "source_ids"},
		{"an unknown user type", "user_type_ids", "99999", "user_type_ids"},
		{"a huge logins list", "logins", huge, "logins"},
		{"control characters in logins", "logins", "ada@example.com\x00\x07", "logins"},
		{"control characters in the filter", "filter_value", "a\x1bb", "filter_value"},
		{"an unknown failed run", "failed_of_run", "12345", "failed_of_run"},
		{"an unknown password mode", "mode", "plaintext", "mode"},
		{"an unknown on-existing choice", "on_existing", "overwrite", "on_existing"},
		{"an unknown kind", "kind", "purge", "kind"},
		{"a rung beyond the ladder", "rung", "9", "rung"},
		{"a rung that is not a number", "rung", "first", "rung"},
		{"an unknown priority", "priority", "vip", "priority"},
		{"working hours that are not times", "window", "late-night", "window"},
		{"working hours out of range", "window", "25:00-06:00", "window"},
		{"an unknown time zone", "window_tz", "Mars/Olympus", "window_tz"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := loadForm(load.KindTestBatch, 1)
			form.Set(tc.field, tc.value)
			form.Set("filter_attribute", "department")
			for _, path := range []string{"/loads/preflight", "/loads"} {
				res := w.asEngineer.post(w.path(path), form)
				if res.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("%s: status %d, want 422: %.300s", path, res.StatusCode, text(res.doc(t).Find(".error")))
				}
				if msg := fieldError(t, res, tc.errField); msg == "" {
					t.Errorf("%s: no message next to %s: %s", path, tc.errField, text(res.doc(t).Find(".flash")))
				}
				if tc.field == "max_in_flight" || tc.field == "rate_share" {
					if v, _ := res.doc(t).Find("#f-" + tc.field).Attr("value"); v != tc.value {
						t.Errorf("%s: typed value %q not kept: %q", path, tc.value, v)
					}
				}
			}
		})
	}
	runs, _ := w.app.Loads.FindRuns(context.Background(), w.p.ID, 10)
	if len(runs) != 0 {
		t.Errorf("bad input started %d run(s)", len(runs))
	}
	// The ladder settings.
	for _, tc := range []struct{ ladder, threshold, field string }{
		{"10, abc", "1", "ladder"},
		{"100, 10", "1", "ladder"},
		{"", "1", "ladder"},
		{"10, 100", "150", "error_threshold"},
		{"10, 100", "one", "error_threshold"},
	} {
		res := w.asEngineer.post(w.path("/loads/settings"), url.Values{"ladder": {tc.ladder}, "error_threshold": {tc.threshold}})
		if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, tc.field) == "" {
			t.Errorf("ladder %q threshold %q: %d %q", tc.ladder, tc.threshold, res.StatusCode, fieldError(t, res, tc.field))
		}
	}
	res := w.asEngineer.post(w.path("/loads/settings"), url.Values{"ladder": {"5, 50, 500"}, "error_threshold": {"2"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("valid ladder: %d: %s", res.StatusCode, text(res.doc(t).Find(".error")))
	}
	st, _ := w.app.Loads.FindSettings(context.Background(), w.p.ID)
	if len(st.Ladder) != 3 || st.Ladder[0] != 5 || st.ErrorThreshold != 0.02 {
		t.Errorf("saved settings: %+v", st)
	}
	// A stale version is a conflict, not a silent overwrite.
	res = w.asEngineer.post(w.path("/loads/settings"), url.Values{"ladder": {"1, 2"}, "error_threshold": {"2"}})
	if res.StatusCode != http.StatusConflict {
		t.Errorf("stale ladder save: %d", res.StatusCode)
	}
}

func TestAMissingCustomAttributeIsCreatedFromThePreflight(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	w.stage(t, true)
	// An unknown attribute is refused with a message, the choices kept.
	form := loadForm(load.KindLoad, 0)
	form.Set("max_in_flight", "12")
	res := w.asEngineer.post(w.path("/loads/attributes/notAnAttribute"), form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "notAnAttribute") {
		t.Fatalf("unknown attribute: %d: %.300s", res.StatusCode, res.Body)
	}
	if v, _ := res.doc(t).Find("#f-max_in_flight").Attr("value"); v != "12" {
		t.Errorf("the choices are not kept: %q", v)
	}
}

// seedLoadRuns gives the role world a finished load with a failed user and
// a finished rollback with one exported user, written directly: the role
// world's org is not reachable.
func (w *roleWorld) seedLoadRuns(t testing.TB) {
	t.Helper()
	now := w.app.Clock.Now()
	sid, rid := w.source.ID, w.record.ID
	w.loadRun = &load.Run{ProjectID: w.project.ID, Number: 1, Kind: load.KindLoad, OrgURL: "https://northwind.okta.com", Mode: load.ModeNone,
		OnExisting: load.OnExistingSkip, PopulationJSON: "{}", MaxInFlight: 10, RateShare: 0.8, ErrorThreshold: 0.01, Status: load.StatusDone,
		Message: "Done.", Total: 1, PaceJSON: "{}", CreatedByName: w.engineer.Name, CreatedAt: now, UpdatedAt: now}
	w.rollbackRun = &load.Run{ProjectID: w.project.ID, Number: 2, Kind: load.KindRollback, OrgURL: "https://northwind.okta.com",
		RollbackAction: load.RollbackDelete, TargetRunID: nil, PopulationJSON: "{}", MaxInFlight: 10, RateShare: 0.8, Status: load.StatusDone,
		Message: "Done.", Total: 1, PaceJSON: "{}", CreatedByName: w.engineer.Name, CreatedAt: now, UpdatedAt: now}
	err := w.app.DB.Transaction(context.Background(), func(tx *gorm.DB) error {
		for _, r := range []*load.Run{w.loadRun, w.rollbackRun} {
			if err := tx.Create(r).Error; err != nil {
				return err
			}
		}
		items := []load.Item{
			{RunID: w.loadRun.ID, Seq: 1, RecordID: &rid, SourceID: &sid, Login: "ada@example.com", ProfileJSON: `{"login":"ada@example.com"}`,
				GroupsJSON: "[]", State: load.StateFailed, Attempts: 1, ErrorCode: "E0000001", ErrorSummary: "Api validation failed: login"},
			{RunID: w.rollbackRun.ID, Seq: 1, RecordID: &rid, SourceID: &sid, Login: "ada@example.com", ProfileJSON: "{}", GroupsJSON: "[]",
				State: load.StateRemoved, OktaUserID: "00u1", Attempts: 2,
				ExportJSON: `{"id":"00u1","status":"ACTIVE","created":"2026-03-02T09:00:00Z","profile":{"login":"ada@example.com"}}`},
		}
		return tx.Create(&items).Error
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestTheCreateInOktaButtonAddsAMissingCustomAttribute(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	// The matrix maps employeeID to a custom attribute the org lacks.
	ctx := asActor(w.lead)
	if _, err := w.app.Schema.CreateCustomAttribute(ctx, w.p.ID, schema.CustomAttributeInput{Name: pval("badgeNumber"),
		Title: pval("Badge number"), Type: pval("string"), Enum: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	rows, err := w.app.Map.FindRows(ctx, w.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	mapped := false
	for _, r := range rows {
		if r.Status == mapping.StatusIgnored {
			if _, err := w.app.Map.UpdateRow(ctx, w.p.ID, r.ID, r.Version, mapping.RowInput{Status: pval(mapping.StatusMapped),
				TargetAttribute: pval("badgeNumber")}); err != nil {
				t.Fatal(err)
			}
			mapped = true
		}
	}
	if !mapped {
		t.Fatal("no ignored row to map")
	}
	w.stage(t, true)
	form := loadForm(load.KindTestBatch, 1)
	res := w.asEngineer.post(w.path("/loads/preflight"), form)
	doc := res.doc(t)
	btn := doc.Find(`#missing-attributes form[action="` + w.path("/loads/attributes/badgeNumber") + `"]`)
	if res.StatusCode != http.StatusOK || btn.Length() != 1 {
		t.Fatalf("no Create in Okta button for badgeNumber: %d: %s", res.StatusCode, text(doc.Find("#preflight")))
	}
	if _, ok := doc.Find("#start-form button").Attr("disabled"); !ok {
		t.Error("Start is not disabled while an attribute is missing")
	}
	again := url.Values{}
	btn.Find("input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		again.Add(name, val)
	})
	res = w.asEngineer.post(w.path("/loads/attributes/badgeNumber"), again)
	doc = res.doc(t)
	if res.StatusCode != http.StatusOK || !strings.Contains(text(doc.Find("#preflight")), "badgeNumber was created") {
		t.Fatalf("create: %d: %s", res.StatusCode, text(doc.Find("#preflight")))
	}
	if doc.Find("#missing-attributes").Length() != 0 || doc.Find("#start").Length() != 1 {
		t.Errorf("after creating it the pre-flight still blocks: %s", text(doc.Find("#preflight-checks")))
	}
	if v, _ := doc.Find(`#start-form input[name="rung"]`).Attr("value"); v != "1" {
		t.Errorf("the choices were lost: rung %q", v)
	}
}
