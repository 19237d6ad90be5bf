package jobs_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/jobs"
)

// fakeConfirmer reads back total users, telling progress of each, then
// answers res (or err); gate, if set, holds it after the first user.
type fakeConfirmer struct {
	total int
	res   hook.ConfirmResult
	err   error
	gate  chan struct{}
	// reached is closed once the first user was reported.
	reached chan struct{}
	// verifiedOnly records each call's option.
	mu           sync.Mutex
	verifiedOnly []bool
}

func (f *fakeConfirmer) ConfirmWithOkta(ctx context.Context, projectID int64, opts hook.ConfirmOptions) (hook.ConfirmResult, error) {
	if opts.Limit != 0 {
		return hook.ConfirmResult{}, apperr.Invalid("the job reads every user", nil)
	}
	f.mu.Lock()
	f.verifiedOnly = append(f.verifiedOnly, opts.VerifiedOnly)
	f.mu.Unlock()
	progress := opts.Progress
	progress(0, f.total)
	for i := 1; i <= f.total; i++ {
		progress(i, f.total)
		if i == 1 && f.gate != nil {
			close(f.reached)
			select {
			case <-f.gate:
			case <-ctx.Done():
				return hook.ConfirmResult{Checked: 1}, ctx.Err()
			}
		}
	}
	return f.res, f.err
}

func TestTheReadBackOfHookUsersRunsAsAJobWithItsProgress(t *testing.T) {
	w := newWorld(t)
	gate := &fakeConfirmer{total: 4, res: hook.ConfirmResult{Checked: 3, Confirmed: 2, Pending: 1, Gone: 1},
		gate: make(chan struct{}), reached: make(chan struct{})}
	r := w.runner(t, jobs.Options{Confirmer: gate})
	j, err := r.ConfirmImports(w.ctx, w.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	<-gate.reached
	running := waitFor(t, r, w.p.ID, j.ID, "its progress written", func(j jobs.Job) bool { return j.Done == 1 })
	if running.Total != 4 || !strings.Contains(running.Message, "1 of 4 user(s) read back from Okta.") || running.Label() != "checking with Okta which passwords it holds" {
		t.Errorf("the running read-back %+v", running)
	}
	// One read-back per project at a time.
	if _, err := r.ConfirmImports(w.other, w.p.ID); !apperr.Is(err, apperr.CodeConflict) || !strings.Contains(err.Error(), "checking with Okta which passwords it holds") {
		t.Errorf("a second read-back beside the first: %v", err)
	}
	close(gate.gate)
	done := ended(t, r, w.p.ID, j.ID)
	if done.Status != jobs.StatusSucceeded || done.Done != 4 || done.Total != 4 ||
		done.Message != "Read 4 user(s) back from Okta: 2 confirmed migrated, 1 still waiting, 1 no longer in Okta, 0 could not be read." {
		t.Errorf("the read-back %+v", done)
	}

	// What Okta refused is the job's failure, in its words.
	other := w.runner(t, jobs.Options{Confirmer: &fakeConfirmer{err: apperr.Conflict("Okta refused to read users with the project's token: check the org connection.")}})
	j, err = other.ConfirmImports(w.ctx, w.q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if failed := ended(t, other, w.q.ID, j.ID); failed.Status != jobs.StatusFailed || !strings.Contains(failed.Message, "check the org connection") {
		t.Errorf("a refused read-back %+v", failed)
	}
	// Nobody left to read: the message says so.
	empty := w.runner(t, jobs.Options{Confirmer: &fakeConfirmer{}})
	j, err = empty.ConfirmImports(w.ctx, w.q.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := ended(t, empty, w.q.ID, j.ID); got.Status != jobs.StatusSucceeded || !strings.HasPrefix(got.Message, "Every user the password import hook serves is confirmed already") {
		t.Errorf("an empty read-back %+v", got)
	}
	// Without the hook's service, the kind is not offered.
	if _, err := w.runner(t, jobs.Options{}).ConfirmImports(w.ctx, w.p.ID); err == nil {
		t.Error("a read-back started with no hook service")
	}
}

// A read-back that a crash left running is run again at the next start
// (what it confirmed stays confirmed; reading again is harmless).
func TestAReadBackLeftRunningByACrashRunsAgain(t *testing.T) {
	w := newWorld(t)
	gate := &fakeConfirmer{total: 2, gate: make(chan struct{}), reached: make(chan struct{})}
	crashed := jobs.NewRunner(w.db, jobs.Options{Now: w.clock.Now, Logger: w.logger, Staging: w.staging, Quality: w.quality, SpoolDir: w.spool, Confirmer: gate})
	crashed.Start()
	t.Cleanup(func() { close(gate.gate); _ = crashed.Shutdown(context.Background()) })
	j, err := crashed.ConfirmImports(w.ctx, w.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	<-gate.reached
	next := jobs.NewRunner(w.db, jobs.Options{Now: w.clock.Now, Logger: w.logger, Staging: w.staging, Quality: w.quality, SpoolDir: w.spool,
		Confirmer: &fakeConfirmer{total: 2, res: hook.ConfirmResult{Checked: 2, Confirmed: 2}}})
	rec, err := next.Recover(context.Background())
	if err != nil || len(rec.Resumed) != 1 || rec.Resumed[0].ID != j.ID {
		t.Fatalf("recovery %+v %v", rec, err)
	}
	next.Start()
	t.Cleanup(func() { _ = next.Shutdown(context.Background()) })
	if got := ended(t, next, w.p.ID, j.ID); got.Status != jobs.StatusSucceeded || !strings.Contains(got.Message, "2 confirmed migrated") {
		t.Errorf("the read-back after the restart %+v", got)
	}
}

// fixedCandidates is the list of projects awaiting confirmations.
type fixedCandidates []int64

func (f fixedCandidates) ProjectsAwaitingConfirmation(context.Context) ([]int64, error) {
	return f, nil
}

// Ferry starts the scheduled read-backs by itself: for each project with
// verified, unconfirmed users, at most one per interval (whoever started
// the last), never beside an active one, and only of the verified users.
func TestReadBacksAreScheduledForProjectsAwaitingConfirmation(t *testing.T) {
	w := newWorld(t)
	confirmer := &fakeConfirmer{total: 1, res: hook.ConfirmResult{Checked: 1, Confirmed: 1}}
	r := w.runner(t, jobs.Options{Confirmer: confirmer})
	both := fixedCandidates{w.p.ID, w.q.ID}
	const every = 24 * time.Hour

	started, err := r.ScheduleReadBacks(context.Background(), both, every)
	if err != nil || len(started) != 2 {
		t.Fatalf("first schedule: %+v %v", started, err)
	}
	for _, j := range started {
		done := ended(t, r, j.ProjectID, j.ID)
		if done.Status != jobs.StatusSucceeded || !done.Params.VerifiedOnly || done.CreatedByName != "Ferry (scheduled read-back)" ||
			done.Label() != "checking with Okta the imports it has not confirmed (scheduled)" {
			t.Errorf("scheduled read-back %+v", done)
		}
	}
	confirmer.mu.Lock()
	if len(confirmer.verifiedOnly) != 2 || !confirmer.verifiedOnly[0] || !confirmer.verifiedOnly[1] {
		t.Errorf("the scheduled read-backs read every user: %v", confirmer.verifiedOnly)
	}
	confirmer.mu.Unlock()

	// Within the interval: nothing more.
	w.clock.Advance(every - time.Minute)
	if started, err := r.ScheduleReadBacks(context.Background(), both, every); err != nil || len(started) != 0 {
		t.Fatalf("within the interval: %+v %v", started, err)
	}
	// A person's read-back counts as the project's latest; while it runs,
	// no other starts beside it.
	w.clock.Advance(2 * time.Minute)
	blocked := &fakeConfirmer{total: 2, gate: make(chan struct{}), reached: make(chan struct{})}
	other := w.runner(t, jobs.Options{Confirmer: blocked})
	asked, err := other.ConfirmImports(w.ctx, w.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	<-blocked.reached
	started, err = r.ScheduleReadBacks(context.Background(), both, every)
	if err != nil || len(started) != 1 || started[0].ProjectID != w.q.ID {
		t.Fatalf("beside a running read-back: %+v %v", started, err)
	}
	close(blocked.gate)
	ended(t, other, w.p.ID, asked.ID)
	ended(t, r, w.q.ID, started[0].ID)
	// A project no longer awaiting confirmations is left alone.
	w.clock.Advance(every + time.Minute)
	if started, err := r.ScheduleReadBacks(context.Background(), fixedCandidates{w.q.ID}, every); err != nil || len(started) != 1 || started[0].ProjectID != w.q.ID {
		t.Fatalf("after another interval: %+v %v", started, err)
	}
	// Without the hook's service there is nothing to schedule.
	if started, err := w.runner(t, jobs.Options{}).ScheduleReadBacks(context.Background(), both, every); err != nil || len(started) != 0 {
		t.Errorf("without a confirmer: %+v %v", started, err)
	}
}
