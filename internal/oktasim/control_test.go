package oktasim_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

func TestFailCreateLoginsAlwaysAnswer500AndCreateNothing(t *testing.T) {
	o := mustOrg(t, oktasim.Options{Faults: oktasim.Faults{FailCreateLogins: []string{"Doomed@Example.com"}}})
	for range 3 {
		wantError(t, o.do("POST", "/api/v1/users?activate=false", map[string]any{"profile": profile("doomed@example.com")}), 500, "E0000009")
	}
	wantError(t, o.do("GET", "/api/v1/users/doomed@example.com", nil), 404, "E0000007")
	o.mustUser("?activate=false", map[string]any{"profile": profile("fine@example.com")})
	if n := o.sim.UserCount(); n != 1 {
		t.Errorf("UserCount = %d, want 1", n)
	}
	// Other requests about other users are unaffected, and the fault can
	// be lifted at run time.
	o.sim.SetFaults(oktasim.Faults{})
	o.mustUser("?activate=false", map[string]any{"profile": profile("doomed@example.com")})
	if n := o.sim.UserCount(); n != 2 {
		t.Errorf("UserCount = %d, want 2", n)
	}
}

func TestFaultsAreACopy(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	logins := []string{"a@example.com"}
	o.sim.SetFaults(oktasim.Faults{ServerErrorRate: 0.25, FailCreateLogins: logins})
	logins[0] = "changed@example.com"
	f := o.sim.Faults()
	if f.ServerErrorRate != 0.25 || len(f.FailCreateLogins) != 1 || f.FailCreateLogins[0] != "a@example.com" {
		t.Fatalf("Faults() = %+v", f)
	}
	f.FailCreateLogins[0] = "b@example.com"
	if got := o.sim.Faults().FailCreateLogins[0]; got != "a@example.com" {
		t.Errorf("Faults() shares its slice: %q", got)
	}
}

func TestSetFaultsWhileRequestsAreInFlight(t *testing.T) {
	// Run with -race: faults change while requests read them.
	o := mustOrg(t, oktasim.Options{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			o.sim.SetFaults(oktasim.Faults{FailCreateLogins: []string{"x@example.com"}, Latency: time.Duration(i%2) * time.Microsecond})
			o.sim.SetLimits(oktasim.Limits{Users: 1_000_000})
			o.sim.SetConcurrency(1000 + i%2)
		}
	}()
	for i := range 20 {
		r := o.do("GET", "/api/v1/users", nil)
		if r.Status != 200 {
			t.Errorf("request %d: %d %s", i, r.Status, r.Body)
		}
	}
	close(stop)
	wg.Wait()
}

func TestSetLimitsAndSetConcurrencyApplyAtOnce(t *testing.T) {
	o := mustOrg(t, oktasim.Options{Limits: oktasim.Limits{Users: 2}})
	for range 2 {
		want(t, o.do("GET", "/api/v1/users", nil), 200, "within the limit")
	}
	wantError(t, o.do("GET", "/api/v1/users", nil), 429, "E0000047")
	o.sim.SetLimits(oktasim.Limits{Users: 1_000_000_000, UserGet: 1_000_000_000, UserUpdate: 1_000_000_000, Groups: 1_000_000_000, Group: 1_000_000_000, Other: 1_000_000_000})
	r := o.do("GET", "/api/v1/users", nil)
	want(t, r, 200, "limits lifted")
	if got := r.Header.Get("X-Rate-Limit-Limit"); got != "1000000000" {
		t.Errorf("X-Rate-Limit-Limit = %q", got)
	}
	if l := o.sim.Limits(); l.Other != 1_000_000_000 {
		t.Errorf("Limits() = %+v", l)
	}
	// Zero fields take Okta's defaults, as in Options.
	o.sim.SetLimits(oktasim.Limits{})
	if l := o.sim.Limits(); l != oktasim.DefaultLimits {
		t.Errorf("Limits() after SetLimits(zero) = %+v, want the defaults", l)
	}

	// A concurrency of 1, set at run time: a sign-in waiting on a slow
	// password hook holds the only slot.
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	hs := newHookServer(t, func(_ int32, w http.ResponseWriter, _ map[string]any) {
		entered <- struct{}{}
		<-release
		verdict(w, "VERIFIED")
	})
	o.registerHook(hs.srv.URL)
	id := hookUser(o, "slowpoke@example.com")
	o.sim.SetConcurrency(1)
	if o.sim.Concurrency() != 1 {
		t.Fatalf("Concurrency() = %d", o.sim.Concurrency())
	}
	done := make(chan response)
	go func() { done <- o.signIn("slowpoke@example.com", "pw") }()
	<-entered
	r = o.do("GET", "/api/v1/groups", nil)
	wantError(t, r, 429, "E0000047")
	if r.Header.Get("X-Rate-Limit-Limit") != "0" {
		t.Errorf("concurrency 429 with X-Rate-Limit-Limit %q", r.Header.Get("X-Rate-Limit-Limit"))
	}
	o.sim.SetConcurrency(0) // back to Okta's 75
	if o.sim.Concurrency() != oktasim.DefaultConcurrency {
		t.Errorf("Concurrency() = %d", o.sim.Concurrency())
	}
	want(t, o.do("GET", "/api/v1/groups", nil), 200, "concurrency raised while the sign-in waits")
	close(release)
	wantSignIn(t, <-done, id)
}
