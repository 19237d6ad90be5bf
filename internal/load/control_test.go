package load

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// executeAsync runs Execute in the background; the channel gives its error.
func executeAsync(f *fixture, runID int64) <-chan error {
	done := make(chan error, 1)
	go func() { done <- f.execute(f.svc, runID) }()
	return done
}

func waitExec(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the run did not stop")
	}
}

// waitMessage waits until the run's message starts with prefix: the
// engine has seen the request.
func waitMessage(t *testing.T, f *fixture, runID int64, prefix string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.HasPrefix(f.run(runID).Message, prefix) {
		if time.Now().After(deadline) {
			t.Fatalf("the run never said %q: %q", prefix, f.run(runID).Message)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPauseResumeWhileRunning(t *testing.T) {
	gate := newCreateGate(3)
	f := newFixture(t, fxOptions{Wrap: gate.wrap, Lease: 300 * time.Millisecond})
	t.Cleanup(gate.Open) // before the server closes
	src := f.addSource("HR", false)
	logins := f.addRecords(src, "pr", 10)
	run := f.start(NewRun{Activate: true, MaxInFlight: 1})
	done := executeAsync(f, run.ID)
	gate.waitHeld(t)
	if r := f.run(run.ID); r.Status != StatusRunning || r.Owner != "proc-A" {
		t.Fatalf("while working: %s %q", r.Status, r.Owner)
	}
	p, err := f.svc.Pause(t.Context(), f.projectID, run.ID)
	if err != nil || p.Requested != RequestPause || p.Status != StatusRunning {
		t.Fatalf("Pause: %+v %v", p, err)
	}
	// A pause lets the request in flight finish (Okta acts on it whether
	// or not Ferry waits for the answer), then sends nothing more.
	waitMessage(t, f, run.ID, "Pausing: the requests in flight finish first.")
	gate.Open()
	waitExec(t, done)
	r := f.run(run.ID)
	if r.Status != StatusPaused || r.Owner != "" || r.FinishedAt != nil || r.Requested != "" {
		t.Fatalf("after the pause: %+v", r)
	}
	if f.sim.UserCount() != 4 {
		t.Errorf("%d users created before the pause, want 4 (3, and the one in flight)", f.sim.UserCount())
	}
	if c := f.counts(run.ID); c.Of(StateCreated) != 4 || c.Of(StatePending) != 6 {
		t.Errorf("paused counts: %+v", c.State)
	}
	if err := f.execute(f.svc, run.ID); apperr.CodeOf(err) != apperr.CodeConflict {
		t.Errorf("executing a paused run: %v", err)
	}
	if _, err := f.svc.Resume(t.Context(), f.projectID, run.ID); err != nil {
		t.Fatal(err)
	}
	if r := f.run(run.ID); r.Status != StatusQueued {
		t.Fatalf("resumed run is %s", r.Status)
	}
	gate.Open()
	f.mustExecute(run.ID)
	f.assertLoaded(run.ID, logins, 0)
}

func TestCancelWhileRunning(t *testing.T) {
	gate := newCreateGate(4)
	f := newFixture(t, fxOptions{Wrap: gate.wrap, Lease: 300 * time.Millisecond})
	t.Cleanup(gate.Open) // before the server closes
	src := f.addSource("HR", false)
	f.addRecords(src, "cc", 10)
	run := f.start(NewRun{Activate: true, MaxInFlight: 2})
	done := executeAsync(f, run.ID)
	gate.waitHeld(t)
	if _, err := f.svc.Cancel(t.Context(), f.projectID, run.ID); err != nil {
		t.Fatal(err)
	}
	// The two requests in flight finish; nothing more is sent.
	waitMessage(t, f, run.ID, "Cancelling: the requests in flight finish first.")
	gate.Open()
	waitExec(t, done)
	r := f.run(run.ID)
	if r.Status != StatusCancelled || r.FinishedAt == nil || !strings.HasPrefix(r.Message, "Cancelled.") {
		t.Fatalf("after the cancel: %s %q", r.Status, r.Message)
	}
	c := f.counts(run.ID)
	if c.Of(StateCreated) != 6 || c.Of(StateSkipped) != 4 || c.Done() != 10 {
		t.Errorf("cancelled counts: %+v", c.State)
	}
	for _, it := range f.items(run.ID) {
		if it.State == StateSkipped && it.ErrorCode != "FERRY_CANCELLED" {
			t.Errorf("%s skipped with %s", it.Login, it.ErrorCode)
		}
	}
	if f.sim.UserCount() != 6 || len(f.oktaUsers()) != 6 {
		t.Errorf("sandbox %d users, provenance %d", f.sim.UserCount(), len(f.oktaUsers()))
	}
	if _, err := f.svc.Resume(t.Context(), f.projectID, run.ID); apperr.CodeOf(err) != apperr.CodeConflict {
		t.Errorf("resuming a cancelled run: %v", err)
	}
}

// Control of runs that are not working: a queued run pauses at once; a
// paused or failed one is cancelled by settling it.
func TestControlOfIdleRuns(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	f.addRecords(src, "id", 4)
	ctx := t.Context()
	run := f.start(NewRun{Activate: true})
	p, err := f.svc.Pause(ctx, f.projectID, run.ID)
	if err != nil || p.Status != StatusPaused {
		t.Fatalf("pause queued: %+v %v", p, err)
	}
	if _, err := f.svc.Pause(ctx, f.projectID, run.ID); apperr.CodeOf(err) != apperr.CodeConflict {
		t.Errorf("pausing a paused run: %v", err)
	}
	c, err := f.svc.Cancel(ctx, f.projectID, run.ID)
	if err != nil || c.Status != StatusQueued || c.Requested != RequestCancel {
		t.Fatalf("cancel paused: %+v %v", c, err)
	}
	f.mustExecute(run.ID)
	r := f.run(run.ID)
	if r.Status != StatusCancelled || f.counts(run.ID).Of(StateSkipped) != 4 || f.sim.UserCount() != 0 {
		t.Errorf("settled: %s %+v, %d users", r.Status, f.counts(run.ID).State, f.sim.UserCount())
	}
	if _, err := f.svc.Pause(ctx, f.projectID, 9999); apperr.CodeOf(err) != apperr.CodeNotFound {
		t.Errorf("pausing an unknown run: %v", err)
	}

	// A failed run (no token) can be resumed.
	run2 := f.start(NewRun{Activate: true})
	f.orgs.mu.Lock()
	f.orgs.token = "bad token"
	f.orgs.mu.Unlock()
	if err := f.execute(f.svc, run2.ID); err == nil {
		t.Fatal("Execute with a malformed token succeeded")
	}
	if r := f.run(run2.ID); r.Status != StatusFailed || r.FinishedAt == nil {
		t.Fatalf("failed run: %s %q", r.Status, r.Message)
	}
	f.orgs.mu.Lock()
	f.orgs.token = testToken
	f.orgs.mu.Unlock()
	if _, err := f.svc.Resume(ctx, f.projectID, run2.ID); err != nil {
		t.Fatal(err)
	}
	r2 := f.mustExecute(run2.ID)
	if r2.Status != StatusDone || r2.FinishedAt == nil || f.sim.UserCount() != 4 {
		t.Errorf("resumed failed run: %s, %d users", r2.Status, f.sim.UserCount())
	}
}

// The legal gate refuses a load into a real org, and pauses a running one
// when it closes.
func TestLegalGate(t *testing.T) {
	cg := newCreateGate(2)
	f := newFixture(t, fxOptions{Lease: 300 * time.Millisecond, Wrap: func(h http.Handler) http.Handler { return hideSandbox(cg.wrap(h)) }})
	t.Cleanup(cg.Open) // before the server closes
	f.orgs.sandbox = false
	src := f.addSource("HR", false)
	logins := f.addRecords(src, "lg", 6)
	ctx := t.Context()
	f.gate.set(false, "The PII decision on mobilePhone is not approved.")
	_, rep, err := f.svc.Start(ctx, f.projectID, NewRun{Activate: true})
	if err == nil || rep == nil || rep.Sandbox {
		t.Fatalf("Start on a real org with the gate closed: %v %+v", err, rep)
	}
	if !strings.Contains(err.Error(), "Legal sign-off") || !strings.Contains(err.Error(), "mobilePhone") {
		t.Errorf("refusal does not name the legal sign-off: %v", err)
	}
	// Test batches never run against a real org.
	_, rep, _ = f.svc.Start(ctx, f.projectID, NewRun{Kind: KindTestBatch, Rung: 1})
	if rep == nil || checkNamed(rep, "Test org").OK || checkNamed(rep, "Test org").Name == "" {
		t.Errorf("a test batch against a real org is not refused: %+v", rep)
	}
	if runs, _ := f.svc.FindRuns(ctx, f.projectID, 0); len(runs) != 0 {
		t.Fatalf("refused runs recorded: %d", len(runs))
	}

	f.gate.set(true)
	run := f.start(NewRun{Activate: true, MaxInFlight: 1})
	if run.Sandbox {
		t.Fatal("the run thinks it is in the sandbox")
	}
	done := executeAsync(f, run.ID)
	cg.waitHeld(t)
	f.gate.set(false, "The register was reopened.")
	waitMessage(t, f, run.ID, "Paused by the legal gate")
	cg.Open() // the request in flight finishes
	waitExec(t, done)
	r := f.run(run.ID)
	if r.Status != StatusPaused || !strings.Contains(r.Message, "legal gate") || !strings.Contains(r.Message, "register was reopened") {
		t.Fatalf("after the gate closed: %s %q", r.Status, r.Message)
	}
	if _, err := f.svc.Resume(ctx, f.projectID, run.ID); apperr.CodeOf(err) != apperr.CodeConflict || !strings.Contains(err.Error(), "legal gate") {
		t.Errorf("resume with the gate closed: %v", err)
	}
	f.gate.set(true)
	if _, err := f.svc.Resume(ctx, f.projectID, run.ID); err != nil {
		t.Fatal(err)
	}
	cg.Open()
	f.mustExecute(run.ID)
	f.assertLoaded(run.ID, logins, 0)
}

// Rollback of a partially failed run removes what Ferry created and
// nothing else.
func TestRollbackOfPartiallyFailedRun(t *testing.T) {
	for _, action := range []string{RollbackDelete, RollbackDeactivate} {
		t.Run(action, func(t *testing.T) {
			f := newFixture(t, fxOptions{})
			src := f.addSource("HR", false)
			logins := f.addRecords(src, "pf", 6)
			other := f.preCreate("someone.else@example.com")
			f.sim.SetFaults(oktasim.Faults{FailCreateLogins: []string{logins[1], logins[4]}})
			run := f.start(NewRun{Activate: true})
			f.mustExecute(run.ID)
			f.sim.SetFaults(oktasim.Faults{})
			c := f.counts(run.ID)
			if c.Of(StateCreated) != 4 || c.Of(StateFailed) != 2 {
				t.Fatalf("load: %+v", c.State)
			}
			if len(f.defects.calls) != 1 || f.defects.calls[0][0].Count != 2 {
				t.Errorf("defects: %+v", f.defects.calls)
			}
			scope, err := f.svc.RollbackScopeOf(t.Context(), f.projectID, NewRollback{TargetRunID: run.ID})
			if err != nil || scope.Users != 4 || scope.OrgURL != run.OrgURL {
				t.Fatalf("scope: %+v %v", scope, err)
			}
			// One user was already deleted by hand.
			gone := f.oktaUser(logins[0])
			if _, err := f.client.DeactivateUser(t.Context(), gone.ID, false); err != nil {
				t.Fatal(err)
			}
			if _, err := f.client.DeleteUser(t.Context(), gone.ID, false); err != nil {
				t.Fatal(err)
			}
			rb, err := f.svc.StartRollback(t.Context(), f.projectID, NewRollback{TargetRunID: run.ID, Action: action, Confirm: "Acme", ProjectName: "Acme"})
			if err != nil {
				t.Fatal(err)
			}
			if rb.Label() != "Rollback (run 2)" || rb.Total != 4 || rb.RollbackAction != action {
				t.Errorf("rollback run: %+v", rb)
			}
			f.mustExecute(rb.ID)
			rc := f.counts(rb.ID)
			want := StateRemoved
			if action == RollbackDeactivate {
				want = StateDeactivated
			}
			if rc.Of(want) != 3 || rc.Of(StateGone) != 1 {
				t.Errorf("rollback counts %+v", rc.State)
			}
			for _, l := range []string{logins[2], logins[3], logins[5]} {
				u := f.oktaUser(l)
				switch {
				case action == RollbackDelete && u != nil:
					t.Errorf("%s still in the org", l)
				case action == RollbackDeactivate && (u == nil || u.Status != "DEPROVISIONED"):
					t.Errorf("%s: %+v", l, u)
				}
			}
			if u := f.oktaUser(other.Profile["login"].(string)); u == nil || u.Status != "ACTIVE" {
				t.Errorf("a user Ferry did not create was touched: %+v", u)
			}
			exported, _ := f.svc.ExportedUsers(t.Context(), rb.ID)
			if len(exported) != 3 {
				t.Errorf("%d exported", len(exported))
			}
			removed := 0
			for _, u := range f.oktaUsers() {
				if u.RemovedAt != nil {
					removed++
				}
			}
			if action == RollbackDelete && removed != 4 {
				t.Errorf("%d provenance rows marked removed, want 4", removed)
			}
			if action == RollbackDelete {
				if _, err := f.svc.StartRollback(t.Context(), f.projectID, NewRollback{TargetRunID: run.ID, Confirm: "Acme", ProjectName: "Acme"}); apperr.CodeOf(err) != apperr.CodeInvalid {
					t.Errorf("second rollback of the same run: %v", err)
				}
			}
		})
	}
}

// A rollback by source removes every user Ferry loaded from it, over runs.
func TestRollbackBySource(t *testing.T) {
	f := newFixture(t, fxOptions{})
	hr := f.addSource("HR", false)
	crm := f.addSource("CRM", false)
	f.addRecords(hr, "hr", 3)
	f.addRecords(crm, "crm", 2)
	r1 := f.start(NewRun{Activate: true, Population: Population{Logins: []string{"hr001@example.com"}}})
	f.mustExecute(r1.ID)
	r2 := f.start(NewRun{Activate: true})
	f.mustExecute(r2.ID)
	if f.sim.UserCount() != 5 {
		t.Fatalf("%d users", f.sim.UserCount())
	}
	rb, err := f.svc.StartRollback(t.Context(), f.projectID, NewRollback{SourceID: hr, Confirm: "Acme", ProjectName: "Acme"})
	if err != nil || rb.Total != 3 {
		t.Fatalf("%+v %v", rb, err)
	}
	f.mustExecute(rb.ID)
	if f.sim.UserCount() != 2 || f.oktaUser("crm001@example.com") == nil {
		t.Errorf("after the rollback of HR: %d users", f.sim.UserCount())
	}
}

// The console's runner launches queued runs and stops cleanly.
func TestRunner(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	logins := f.addRecords(src, "rn", 5)
	run := f.start(NewRun{Activate: true})
	rn := NewRunner(f.svc, nil)
	rn.Every = 20 * time.Millisecond
	rn.Start()
	deadline := time.Now().Add(20 * time.Second)
	for f.run(run.ID).Status != StatusDone {
		if time.Now().After(deadline) {
			t.Fatal("the runner did not finish the run")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rn.Stop()
	if rn.Busy(run.ID) {
		t.Error("busy after Stop")
	}
	f.assertLoaded(run.ID, logins, 0)
}
