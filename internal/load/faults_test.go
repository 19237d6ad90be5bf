package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// Crash tests set the package's crashHook: they do not run in parallel.

// resumeAfterCrash checks the state a killed process leaves, then lets
// another process take the run over once the lease ran out.
func resumeAfterCrash(t *testing.T, f *fixture, runID int64) {
	t.Helper()
	r := f.run(runID)
	if r.Status != StatusRunning || r.Owner != "proc-A" || r.LeaseUntil == nil {
		t.Fatalf("after the crash: status %s owner %q lease %v", r.Status, r.Owner, r.LeaseUntil)
	}
	crashHook = nil
	// The lease as the dead process last renewed it, just before dying. (It
	// is renewed on real time, while the fixture's clock moves on with the
	// pacer's sleeps: on a busy machine the lease the crash left could
	// already look run out on that clock.)
	f.exec(`UPDATE load_runs SET lease_until = ? WHERE id = ?`, f.clock.Now().Add(f.opts.Lease), runID)
	b := f.service("proc-B")
	if err := f.execute(b, runID); !errors.Is(err, ErrLeaseHeld) {
		t.Fatalf("taking over a live lease: %v, want ErrLeaseHeld", err)
	}
	f.clock.Advance(f.opts.Lease + time.Second)
	if err := f.execute(b, runID); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if r := f.run(runID); r.Status != StatusDone {
		t.Fatalf("after the resume: %s %s", r.Status, r.Message)
	}
}

func TestCrashAfterClaimResumes(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", true)
	logins := f.addRecords(src, "cl", 8)
	run := f.start(NewRun{Activate: true, MaxInFlight: 3})
	fired := crashOnce(t, "claimed", 1)
	if err := f.execute(f.svc, run.ID); !errors.Is(err, errCrashed) || !fired.Load() {
		t.Fatalf("Execute = %v, want the simulated crash", err)
	}
	if c := f.counts(run.ID); c.Of(StateSending) != 8 {
		t.Fatalf("after the crash: %+v", c.State)
	}
	if f.sim.UserCount() != 0 {
		t.Fatalf("users sent before the crash: %d", f.sim.UserCount())
	}
	resumeAfterCrash(t, f, run.ID)
	f.assertLoaded(run.ID, logins, 0)
}

func TestCrashAfterCreateResumes(t *testing.T) {
	for _, inFlight := range []int{1, 4} {
		t.Run(fmt.Sprint("in flight ", inFlight), func(t *testing.T) {
			f := newFixture(t, fxOptions{})
			src := f.addSource("AD", true)
			var logins []string
			for i := 1; i <= 10; i++ {
				l := fmt.Sprintf("cr%02d@example.com", i)
				f.addRecord(src, l, map[string][]string{"memberOf": {"CN=Staff,OU=G,DC=x"}}, nil)
				logins = append(logins, l)
			}
			run := f.start(NewRun{Activate: true, MaxInFlight: inFlight})
			fired := crashOnce(t, "created", 4)
			if err := f.execute(f.svc, run.ID); !errors.Is(err, errCrashed) || !fired.Load() {
				t.Fatalf("Execute = %v, want the simulated crash", err)
			}
			before := f.sim.UserCount()
			if before < 4 {
				t.Fatalf("only %d users created before the crash", before)
			}
			resumeAfterCrash(t, f, run.ID)
			f.assertLoaded(run.ID, logins, 0)
			for _, l := range logins {
				if g := f.userGroups(f.oktaUser(l).ID); len(g) != 2 {
					t.Errorf("%s groups %v", l, g)
				}
			}
		})
	}
}

func TestCrashDuringRollbackResumes(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	logins := f.addRecords(src, "rb", 6)
	run := f.start(NewRun{Activate: true})
	f.mustExecute(run.ID)
	f.assertLoaded(run.ID, logins, 0)
	rb, err := f.svc.StartRollback(t.Context(), f.projectID, NewRollback{TargetRunID: run.ID, Confirm: "Acme", ProjectName: "Acme", MaxInFlight: 2})
	if err != nil {
		t.Fatal(err)
	}
	fired := crashOnce(t, "exported", 3)
	if err := f.execute(f.svc, rb.ID); !errors.Is(err, errCrashed) || !fired.Load() {
		t.Fatalf("Execute = %v, want the simulated crash", err)
	}
	if f.sim.UserCount() != 6 {
		t.Fatalf("users removed before the export finished: %d left", f.sim.UserCount())
	}
	resumeAfterCrash(t, f, rb.ID)
	if f.sim.UserCount() != 0 {
		t.Errorf("%d users left after the rollback", f.sim.UserCount())
	}
	c := f.counts(rb.ID)
	if c.Of(StateRemoved) != 6 {
		t.Errorf("rollback counts %+v", c.State)
	}
	exported, _ := f.svc.ExportedUsers(t.Context(), rb.ID)
	if len(exported) != 6 {
		t.Errorf("%d users exported", len(exported))
	}
	for _, u := range f.oktaUsers() {
		if u.RemovedAt == nil {
			t.Errorf("%s not marked removed", u.Login)
		}
	}
}

// faultRun loads n users through the given faults and checks that nothing
// is lost or doubled. A run that stops on a fault is resumed, as a person
// would, a bounded number of times.
func faultRun(t *testing.T, o fxOptions, n, inFlight int, faults oktasim.Faults) *fixture {
	t.Helper()
	if o.Rand == nil {
		o.Rand = seeded(42)
	}
	f := newFixture(t, o)
	src := f.addSource("AD", true)
	var logins []string
	for i := 1; i <= n; i++ {
		l := fmt.Sprintf("f%03d@example.com", i)
		f.addRecord(src, l, map[string][]string{"memberOf": {"CN=Staff,OU=G,DC=x"}}, nil)
		logins = append(logins, l)
	}
	run := f.start(NewRun{Activate: true, MaxInFlight: inFlight})
	f.sim.SetFaults(faults)
	resumes := 0
	for {
		err := f.execute(f.svc, run.ID)
		r := f.run(run.ID)
		if r.Status == StatusDone {
			break
		}
		if r.Status != StatusFailed || resumes >= 3 {
			t.Fatalf("run ended %s (%v): %s", r.Status, err, r.Message)
		}
		t.Logf("run stopped (%s); resuming", r.Message)
		resumes++
		if _, err := f.svc.Resume(t.Context(), f.projectID, run.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.sim.SetFaults(oktasim.Faults{})
	f.sim.SetLimits(oktasim.Limits{})
	f.sim.SetConcurrency(0)
	f.clock.Advance(2 * time.Minute)
	c := f.counts(run.ID)
	// A user that failed every attempt is recorded as failed and is not in
	// the org (the "failed of run N" retry takes it): nothing is lost.
	var created []string
	for _, it := range f.items(run.ID) {
		switch it.State {
		case StateCreated:
			created = append(created, it.Login)
		case StateFailed:
			t.Logf("%s failed: %s %s", it.Login, it.ErrorCode, it.ErrorSummary)
			if f.oktaUser(it.Login) != nil {
				t.Errorf("%s is recorded as failed but exists in the org", it.Login)
			}
		default:
			t.Errorf("%s is %s", it.Login, it.State)
		}
	}
	if c.Of(StateFailed) > 1 {
		t.Errorf("%d users failed through the faults", c.Of(StateFailed))
	}
	f.assertLoaded(run.ID, created, 0)
	for _, l := range created {
		if u := f.oktaUser(l); u != nil {
			if g := f.userGroups(u.ID); len(g) != 2 {
				t.Errorf("%s groups %v", l, g)
			}
		}
	}
	return f
}

func seeded(seed uint64) func() float64 {
	r := rand.New(rand.NewPCG(seed, seed))
	var mu sync.Mutex
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

func TestRateLimitStorm(t *testing.T) {
	f := faultRun(t, fxOptions{Limits: oktasim.Limits{Users: 5, UserGet: 5, Groups: 3, Group: 3, Other: 10}}, 40, 5, oktasim.Faults{})
	if p := f.run(1).Pace(); p.RateWaits == 0 {
		t.Logf("pace: %+v", p)
	}
}

func TestConcurrencyStorm(t *testing.T) {
	faultRun(t, fxOptions{Concurrency: 1}, 20, 5, oktasim.Faults{Latency: 2 * time.Millisecond})
}

func TestServerErrors(t *testing.T) {
	faultRun(t, fxOptions{}, 30, 5, oktasim.Faults{ServerErrorRate: 0.3})
}

func TestDroppedConnections(t *testing.T) {
	faultRun(t, fxOptions{}, 30, 5, oktasim.Faults{DropRate: 0.2})
}

// Lost responses: Okta created the user but the answer never came back. The
// retry must find it, not create it again nor call it someone else's.
func TestLostResponses(t *testing.T) {
	faultRun(t, fxOptions{}, 30, 5, oktasim.Faults{LostResponseRate: 0.3})
}

func TestAllFaultsTogether(t *testing.T) {
	faultRun(t, fxOptions{Limits: oktasim.Limits{Users: 10}, Concurrency: 3}, 30, 5,
		oktasim.Faults{ServerErrorRate: 0.1, DropRate: 0.1, LostResponseRate: 0.1, Latency: time.Millisecond})
}

// Timeouts: the first create of each of a few users answers after the
// client gave up, and Okta did create the user.
func TestTimeouts(t *testing.T) {
	var mu sync.Mutex
	slowed := map[string]bool{}
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/api/v1/users" {
				body, _ := io.ReadAll(r.Body)
				r.Body = io.NopCloser(bytes.NewReader(body))
				var req struct {
					Profile map[string]any `json:"profile"`
				}
				_ = json.Unmarshal(body, &req)
				login, _ := req.Profile["login"].(string)
				mu.Lock()
				first := len(slowed) < 3 && !slowed[login]
				if first {
					slowed[login] = true
				}
				mu.Unlock()
				if first {
					time.Sleep(60 * time.Millisecond) // past the client's timeout, then processed
					next.ServeHTTP(w, r.WithContext(context.WithoutCancel(r.Context())))
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	f := faultRun(t, fxOptions{HTTPTimeout: 30 * time.Millisecond, Wrap: slow}, 5, 1, oktasim.Faults{})
	mu.Lock()
	defer mu.Unlock()
	if len(slowed) != 3 {
		t.Errorf("%d creations slowed, want 3", len(slowed))
	}
	for _, it := range f.items(1) {
		if slowed[it.Login] && it.Attempts < 2 {
			t.Errorf("%s: %d attempts after a timeout", it.Login, it.Attempts)
		}
	}
}

// More than 20 groups through 5xx answers: the memberships added after the
// create are not lost.
func TestManyGroupsThroughServerErrors(t *testing.T) {
	f := newFixture(t, fxOptions{Rand: seeded(7)})
	src := f.addSource("AD", true)
	var dns []string
	for i := 1; i <= 25; i++ {
		dns = append(dns, fmt.Sprintf("CN=G%d,OU=Groups,DC=x", i))
	}
	var logins []string
	for i := 1; i <= 6; i++ {
		l := fmt.Sprintf("mg%d@example.com", i)
		f.addRecord(src, l, map[string][]string{"memberOf": dns}, nil)
		logins = append(logins, l)
	}
	run := f.start(NewRun{Activate: true, MaxInFlight: 3})
	f.sim.SetFaults(oktasim.Faults{ServerErrorRate: 0.15})
	for resumes := 0; ; resumes++ {
		_ = f.execute(f.svc, run.ID)
		r := f.run(run.ID)
		if r.Status == StatusDone {
			break
		}
		if r.Status != StatusFailed || resumes >= 3 {
			t.Fatalf("run ended %s: %s", r.Status, r.Message)
		}
		if _, err := f.svc.Resume(t.Context(), f.projectID, run.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.sim.SetFaults(oktasim.Faults{})
	f.assertLoaded(run.ID, logins, 0)
	for _, l := range logins {
		if g := f.userGroups(f.oktaUser(l).ID); len(g) != 26 {
			t.Errorf("%s is in %d groups, want 26", l, len(g))
		}
	}
	for _, it := range f.items(run.ID) {
		if it.MembershipsPending {
			t.Errorf("%s: memberships pending (%s)", it.Login, it.ErrorSummary)
		}
	}
}
