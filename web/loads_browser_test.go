package web_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// runDeadline bounds a wait for a run to reach a state. It is a guard
// against a hang, not an expectation: the test asserts outcomes, never
// timings.
const runDeadline = 60 * time.Second

// An engineer, in a real browser, shrinks the test-batch ladder to 10 and
// 30 users with a 5 % threshold, runs test batch 1 against Ferry's sandbox,
// then test batch 2 in which one user fails (the sandbox refuses that login
// with E0000009 whatever the retries): the batch still passes, the run page
// shows the failure and the defect log holds a defect created from the run.
// Once the failure is fixed, the engineer launches a load of everyone
// (slowed by the sandbox's injected latency and one request in flight, so
// that pausing is predictable), pauses it, sees it stop creating users,
// resumes it to the end and rolls it back: the load's users are gone from
// the org while the test batches' users remain.
func TestBrowserEngineerBatchesLoadsPausesAndRollsBack(t *testing.T) {
	findChromium(t)
	const people = 80
	w := newLoadWorld(t)
	sim := w.connectSandbox(t)
	w.stagePeople(t, people)
	b := newChromeTab(t, w.app)
	b.signIn(w.engineer.Email)

	// A small ladder through the Loads page's settings form.
	b.open(w.path("/loads"))
	b.do("open the ladder settings", chromedp.Click(chromedp.CSS("#ladder-settings summary")))
	b.replaceValue("f-ladder", "10, 30")
	b.replaceValue("f-error_threshold", "5")
	b.follow(`#ladder-settings button[type="submit"]`)
	if got := b.flash(); !strings.Contains(got, "ladder is saved") {
		t.Errorf("flash after saving the ladder: %q", got)
	}
	if n := run(b, "count the rungs", chromedp.Evaluate[int](`document.querySelectorAll("#rungs tbody tr").length`)); n != 2 {
		t.Fatalf("%d rungs after saving the ladder 10, 30, want 2", n)
	}
	b.assertClean("save the ladder")

	// Test batch 1: the pre-flight passes, the run passes.
	batch1 := b.runTestBatch(w, 1, 10)
	if got := b.text("#verdict"); !strings.HasPrefix(got, "Passed: 0.0 %") {
		t.Errorf("batch 1 verdict: %q", got)
	}
	b.assertClean("test batch 1")

	// Test batch 2, with one of its users refused by the sandbox.
	rep, err := w.app.Loads.Preflight(asActor(w.engineer), w.p.ID, load.NewRun{Kind: load.KindTestBatch, Rung: 2,
		Population: load.Population{Priority: load.PrioritySpread}})
	if err != nil {
		t.Fatal(err)
	}
	sample := rep.Logins()
	if len(sample) != 30 {
		t.Fatalf("batch 2 would take %d users, want 30: %v", len(sample), rep.BlockingReasons())
	}
	victim := sample[len(sample)/2]
	sim.SetFaults(oktasim.Faults{FailCreateLogins: []string{victim}})
	b.open(w.path("/loads"))
	if got := b.text("#rung-2 a.run-rung"); got != "Run test batch 2" {
		t.Fatalf("next rung: %q", got)
	}
	batch2 := b.runTestBatch(w, 2, 30)
	// 1 failure among 30 users: 3.3 %, under the 5 % threshold.
	if got := b.text("#verdict"); !strings.HasPrefix(got, "Passed: 3.3 %") {
		t.Errorf("batch 2 verdict: %q", got)
	}
	if got := b.text("#count-failed td.num"); got != "1" {
		t.Errorf("batch 2 failed users: %q", got)
	}
	if got := b.text("#count-created td.num"); got != "29" {
		t.Errorf("batch 2 created users: %q", got)
	}
	if got := b.text("#run-errors tbody"); !strings.Contains(got, "E0000009") || !strings.Contains(got, "1") {
		t.Errorf("batch 2 errors by code: %q", got)
	}
	b.open(w.path(fmt.Sprintf("/loads/%d?state=failed", batch2)))
	if got := b.text("#run-items tbody"); !strings.Contains(got, victim) || !strings.Contains(got, "E0000009") {
		t.Errorf("the failed users of batch 2: %q, want %s with E0000009", got, victim)
	}
	b.assertClean("test batch 2")

	// The failure became a defect, which names the run but not the user.
	b.follow(`main p > a[href$="/defects"]`)
	defectsText := b.text("#defects tbody")
	for _, want := range []string{"E0000009", "1 user failed in Test batch 2 (run 2)"} {
		if !strings.Contains(defectsText, want) {
			t.Errorf("the defect log lacks %q: %s", want, defectsText)
		}
	}
	if strings.Contains(defectsText, victim) {
		t.Errorf("the defect log names the failed user %s: %s", victim, defectsText)
	}
	b.assertClean("the defect log")

	// The defect is fixed: the sandbox accepts the login again. The load is
	// slowed so that it is still running when the engineer pauses it.
	sim.SetFaults(oktasim.Faults{})
	b.open(w.path("/loads"))
	if got := b.text("#ladder"); !strings.Contains(got, "Every test batch has passed") {
		t.Errorf("the ladder after both batches: %s", got)
	}
	b.follow("#new-load")
	b.replaceValue("f-max_in_flight", "1")
	b.follow("#check")
	if got := b.text("#preflight-users"); got != strconv.Itoa(people) {
		t.Fatalf("load pre-flight users: %q (%s)", got, b.text("#preflight-checks"))
	}
	if got := b.text("#preflight-checks"); !strings.Contains(got, "39 of them are already in the org") {
		t.Errorf("the pre-flight does not say the test batches' users are skipped: %s", got)
	}
	if v := run(b, "read the kept pace", chromedp.Evaluate[string](`document.querySelector('#start-form input[name="max_in_flight"]').value`)); v != "1" {
		t.Fatalf("the Start form carries max_in_flight %q, want 1", v)
	}
	sim.SetFaults(oktasim.Faults{Latency: 250 * time.Millisecond})
	b.follow("#start")
	loadRun := b.runIDOnPage(w)
	if got := b.flash(); !strings.Contains(got, "Load (run 3) started") {
		t.Errorf("flash after Start: %q", got)
	}
	const toCreate = people - 39 // everyone but the test batches' users
	b.waitUntil("some users created", `+(document.querySelector("#count-created td.num")?.textContent || "0") > 0`)

	// Pause: the run stops after the request in flight.
	b.press("pause")
	if got := b.flash(); !strings.Contains(got, "Pausing") {
		t.Errorf("flash after Pause: %q", got)
	}
	b.waitUntil("the run paused", `document.getElementById("run-status")?.textContent.trim() === "paused"`)
	created := func() int {
		t.Helper()
		s := run(b, "read the created count", chromedp.Evaluate[string](`(document.querySelector("#count-created td.num")?.textContent || "0").trim()`))
		n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
		if err != nil {
			t.Fatalf("created count %q", s)
		}
		return n
	}
	pausedAt, orgAt := created(), sim.UserCount()
	// The page keeps polling a paused run: a second later nothing moved.
	time.Sleep(1500 * time.Millisecond)
	if now, org := created(), sim.UserCount(); now != pausedAt || org != orgAt {
		t.Errorf("a paused run goes on: %d then %d created on the page, %d then %d users in the org", pausedAt, now, orgAt, org)
	}
	if pausedAt >= toCreate {
		t.Fatalf("the run had created all %d users when it paused: nothing was left to pause", pausedAt)
	}
	if r, _ := w.app.Loads.FindRun(context.Background(), w.p.ID, loadRun); r.Status != load.StatusPaused {
		t.Errorf("the paused run is %s", r.Status)
	}
	t.Logf("paused after %d of %d users", pausedAt, toCreate)
	b.assertClean("pause the load")

	// Resume; the latency goes so that the rest is quick.
	b.press("resume")
	if got := b.flash(); !strings.Contains(got, "Resumed") {
		t.Errorf("flash after Resume: %q", got)
	}
	sim.SetFaults(oktasim.Faults{})
	b.waitRunEnded()
	if got := b.text("#run-status"); got != "done" {
		t.Fatalf("the resumed load ended %q: %s", got, b.text("#run-message"))
	}
	if got := created(); got != toCreate {
		t.Errorf("the load created %d users, want %d", got, toCreate)
	}
	if got := b.text("#count-skipped td.num"); got != "39" {
		t.Errorf("the load skipped %q users, want the test batches' 39", got)
	}
	if got := sim.UserCount(); got != people {
		t.Errorf("%d users in the org after the load, want %d", got, people)
	}
	b.assertClean("resume the load")

	// Roll the load back.
	b.follow("#rollback")
	if got := b.text("#rollback-users"); got != strconv.Itoa(toCreate) {
		t.Fatalf("rollback scope: %q users, want %d", got, toCreate)
	}
	b.typeInto("f-confirm", w.p.Name)
	b.follow("#start-rollback")
	rollback := b.runIDOnPage(w)
	if got := b.flash(); !strings.Contains(got, "Rollback (run 4) started") {
		t.Errorf("flash after the rollback: %q", got)
	}
	b.waitRunEnded()
	if got := b.text("#run-status"); got != "done" {
		t.Fatalf("the rollback ended %q: %s", got, b.text("#run-message"))
	}
	if got := b.text("#count-removed td.num"); got != strconv.Itoa(toCreate) {
		t.Errorf("the rollback removed %q users, want %d", got, toCreate)
	}
	b.assertClean("roll the load back")

	// In the org: the test batches' users remain, the load's are gone.
	if got := sim.UserCount(); got != 39 {
		t.Errorf("%d users in the org after the rollback, want the test batches' 39", got)
	}
	client, err := okta.New(okta.Config{OrgURL: w.simURL, APIToken: loadSandboxToken})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		run  int64
		want bool
	}{{batch1, true}, {batch2, true}, {loadRun, false}} {
		items, err := w.app.Loads.FindItems(context.Background(), c.run, load.StateCreated, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			_, _, err := client.GetUser(context.Background(), it.Login)
			switch {
			case c.want && err != nil:
				t.Errorf("%s (run %d) is no longer in the org: %v", it.Login, c.run, err)
			case !c.want && !okta.IsNotFound(err):
				t.Errorf("%s (run %d) is still in the org after the rollback: %v", it.Login, c.run, err)
			}
		}
	}
	if r, _ := w.app.Loads.FindRun(context.Background(), w.p.ID, rollback); r.Kind != load.KindRollback || r.TargetRunID == nil || *r.TargetRunID != loadRun {
		t.Errorf("run %d is a %s of %v, want the rollback of run %d", rollback, r.Kind, r.TargetRunID, loadRun)
	}
}

// runTestBatch runs test batch rung from the Loads page (the page open):
// its button, the pre-flight (size users), Start, and the run's page until
// the batch has ended. It returns the run's id.
func (b *chromeTab) runTestBatch(w *loadWorld, rung, size int) int64 {
	b.t.Helper()
	b.follow(chromedp.CSS(fmt.Sprintf("#rung-%d a.run-rung", rung)))
	b.follow("#check")
	if got := b.text("#preflight-users"); got != strconv.Itoa(size) {
		b.t.Fatalf("batch %d pre-flight users: %q (%s)", rung, got, b.text("#preflight-checks"))
	}
	b.follow("#start")
	id := b.runIDOnPage(w)
	if got, want := b.flash(), fmt.Sprintf("Test batch %d (run %d) started", rung, rung); !strings.Contains(got, want) {
		b.t.Errorf("flash after Start: %q, want %q", got, want)
	}
	b.waitRunEnded()
	if got := b.text("#run-status"); got != "done" {
		b.t.Fatalf("test batch %d ended %q: %s", rung, got, b.text("#run-message"))
	}
	return id
}

// runIDOnPage reads the run's id from the location of its page.
func (b *chromeTab) runIDOnPage(w *loadWorld) int64 {
	b.t.Helper()
	loc := strings.TrimPrefix(b.location(), b.base+w.path("/loads/"))
	id, err := strconv.ParseInt(strings.SplitN(loc, "?", 2)[0], 10, 64)
	if err != nil {
		b.t.Fatalf("not on a run's page: %s", b.location())
	}
	return id
}

// waitRunEnded waits until the run's page shows it ended as a person sees
// it: its live panel stopped polling and the page has reloaded.
func (b *chromeTab) waitRunEnded() {
	b.t.Helper()
	b.waitUntil("the run to end", `(() => { const p = document.querySelector(".run-progress");
		return document.readyState === "complete" && !document.documentElement.hasAttribute("data-job-reloading") &&
			p !== null && !p.hasAttribute("data-job-poll"); })()`)
}

// waitUntil evaluates cond in the page until it is true. Evaluated from
// here, as the page reloads meanwhile (an evaluation that fails while the
// page reloads is tried again).
func (b *chromeTab) waitUntil(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(runDeadline)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(b.ctx, chromedp.Location())
			status, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById("run-status")?.textContent || ""`))
			b.t.Fatalf("waited %s for %s (page %s, status %q): %v", runDeadline, what, loc, status, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// press clicks a button of a run's live panel and waits for the page it
// leads to. The page replaces that panel every second, so the button is
// clicked from the page's own script, in one step, rather than found by a
// query and then clicked (the panel could be replaced in between).
func (b *chromeTab) press(id string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.getElementById(%q).click()`, id)))
	if err != nil {
		b.t.Fatalf("press #%s: %v", id, err)
	}
	if res.Status != 200 {
		b.t.Fatalf("press #%s: %s answered %d", id, res.URL, res.Status)
	}
}

// replaceValue empties an input and types text into it.
func (b *chromeTab) replaceValue(id, text string) {
	b.t.Helper()
	b.do("clear #"+id, chromedp.Clear(chromedp.ID(id)))
	b.typeInto(id, text)
	if got := run(b, "read #"+id, chromedp.Value(chromedp.ID(id))); got != text {
		b.t.Fatalf("#%s holds %q after typing %q", id, got, text)
	}
}

// stagePeople stages n valid people (as stage does, with more of them) and
// validates them.
func (w *loadWorld) stagePeople(t *testing.T, n int) {
	t.Helper()
	var csv strings.Builder
	csv.WriteString("employeeID,mail,givenName,sn,c\r\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&csv, "E%d,person%03d@example.com,Person%d,Tester,GB\r\n", i, i, i)
	}
	ctx := asActor(w.engineer)
	r, format, err := staging.OpenReader(strings.NewReader(csv.String()), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Staging.Stage(ctx, w.p.ID, w.src.ID, r, staging.Meta{FileName: "hr.csv", Format: format}, nil); err != nil {
		t.Fatal(err)
	}
	w.app.Clock.Advance(time.Minute)
	if _, err := w.app.Quality.Validate(ctx, w.p.ID, nil); err != nil {
		t.Fatal(err)
	}
}
