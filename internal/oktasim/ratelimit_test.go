package oktasim_test

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

func header(t *testing.T, r response, key string) int64 {
	t.Helper()
	v := r.Header.Get(key)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s = %q, want a number", key, v)
	}
	return n
}

// Each endpoint counts against its bucket (NOTES §3): the per-bucket limits
// here are all different, so X-Rate-Limit-Limit names the bucket.
func TestRateLimitBuckets(t *testing.T) {
	o := mustOrg(t, oktasim.Options{Limits: oktasim.Limits{Users: 11, UserGet: 12, UserUpdate: 13, Groups: 14, Group: 15, Other: 16}})
	uid := o.mustUser("?activate=false", map[string]any{"profile": profile("b@example.com")})["id"].(string)
	gid := o.mustGroup("bucket")
	cases := []struct {
		method, path string
		body         any
		limit        int64
	}{
		{"GET", "/api/v1/users", nil, 11},
		{"POST", "/api/v1/users", map[string]any{"profile": profile("b2@example.com")}, 11},
		{"GET", "/api/v1/users/" + uid, nil, 12},
		{"GET", "/api/v1/users/b@example.com", nil, 12},
		{"POST", "/api/v1/users/" + uid, map[string]any{"profile": map[string]any{"title": "x"}}, 13},
		{"DELETE", "/api/v1/users/00unothere0000000000", nil, 13},
		{"GET", "/api/v1/groups", nil, 14},
		{"POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "b2"}}, 14},
		{"GET", "/api/v1/groups/" + gid, nil, 15},
		{"DELETE", "/api/v1/groups/00gnothere0000000000", nil, 15},
		{"POST", "/api/v1/users/" + uid + "/lifecycle/activate", nil, 16},
		{"PUT", "/api/v1/groups/" + gid + "/users/" + uid, nil, 16},
		{"GET", "/api/v1/groups/" + gid + "/users", nil, 16},
		{"GET", "/api/v1/meta/schemas/user/default", nil, 16},
		{"GET", "/api/v1/inlineHooks", nil, 16},
		{"POST", "/api/v1/authn", map[string]any{"username": "b@example.com", "password": "x"}, 16},
		{"GET", "/api/v1/unknown", nil, 16},
	}
	for _, c := range cases {
		r := o.do(c.method, c.path, c.body)
		if got := header(t, r, "X-Rate-Limit-Limit"); got != c.limit {
			t.Errorf("%s %s: X-Rate-Limit-Limit = %d, want %d (status %d)", c.method, c.path, got, c.limit, r.Status)
		}
	}
}

func TestRateLimitHeadersAnd429WithAnInjectedClock(t *testing.T) {
	clock := newFakeClock()
	o := mustOrg(t, oktasim.Options{Now: clock.Now, Limits: oktasim.Limits{Users: 3}})
	start := clock.Now()
	wantReset := start.Add(time.Minute).Unix()
	for i := range 3 {
		now := clock.Now()
		var r response
		if i == 1 {
			// POST /api/v1/users shares the bucket with GET.
			r = o.do("POST", "/api/v1/users", map[string]any{"profile": profile("rl@example.com")})
		} else {
			r = o.do("GET", "/api/v1/users", nil)
		}
		if r.Status != 200 {
			t.Fatalf("request %d: %d %s", i, r.Status, r.Body)
		}
		if header(t, r, "X-Rate-Limit-Limit") != 3 || header(t, r, "X-Rate-Limit-Remaining") != int64(2-i) || header(t, r, "X-Rate-Limit-Reset") != wantReset {
			t.Errorf("request %d: headers %v", i, r.Header)
		}
		if d, err := http.ParseTime(r.Header.Get("Date")); err != nil || !d.Equal(now) {
			t.Errorf("Date = %q, want the injected clock %v", r.Header.Get("Date"), now)
		}
		clock.Advance(10 * time.Second)
	}
	r := o.do("GET", "/api/v1/users", nil)
	wantError(t, r, 429, "E0000047")
	if header(t, r, "X-Rate-Limit-Remaining") != 0 || header(t, r, "X-Rate-Limit-Limit") != 3 || header(t, r, "X-Rate-Limit-Reset") != wantReset {
		t.Errorf("429 headers = %v", r.Header)
	}
	// Another bucket is not affected.
	want(t, o.do("GET", "/api/v1/groups", nil), 200, "groups bucket")
	// At Reset the window starts again.
	clock.Advance(time.Unix(wantReset, 0).Sub(clock.Now()))
	r = o.do("GET", "/api/v1/users", nil)
	want(t, r, 200, "after the reset")
	if header(t, r, "X-Rate-Limit-Remaining") != 2 || header(t, r, "X-Rate-Limit-Reset") != wantReset+60 {
		t.Errorf("new window headers = %v", r.Header)
	}
}

func TestRateLimitWindowIsInjectable(t *testing.T) {
	o := mustOrg(t, oktasim.Options{Window: 500 * time.Millisecond, Limits: oktasim.Limits{Groups: 2}})
	for range 2 {
		want(t, o.do("GET", "/api/v1/groups", nil), 200, "within the limit")
	}
	wantError(t, o.do("GET", "/api/v1/groups", nil), 429, "E0000047")
	time.Sleep(600 * time.Millisecond)
	want(t, o.do("GET", "/api/v1/groups", nil), 200, "after a short window")
}

func TestEveryResponseCarriesTheHeaders(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	uid := o.mustUser("", map[string]any{"profile": profile("h@example.com")})["id"].(string)
	for _, r := range []response{
		o.do("GET", "/api/v1/users/"+uid, nil),
		o.do("DELETE", "/api/v1/users/"+uid, nil),
		o.do("GET", "/api/v1/nothing", nil),
		o.do("POST", "/api/v1/users", "{"),
		o.do("GET", "/api/v1/users", nil, "Authorization", ""),
	} {
		for _, h := range []string{"Date", "X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset", "X-Okta-Request-Id"} {
			if r.Header.Get(h) == "" {
				t.Errorf("a %d response lacks %s", r.Status, h)
			}
		}
	}
}

func TestConcurrencyLimit(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	hs := newHookServer(t, func(_ int32, w http.ResponseWriter, _ map[string]any) {
		entered <- struct{}{}
		<-release
		verdict(w, "VERIFIED")
	})
	clock := newFakeClock()
	o := mustOrg(t, oktasim.Options{Concurrency: 1, Now: clock.Now})
	o.registerHook(hs.srv.URL)
	id := hookUser(o, "slowpoke@example.com")

	done := make(chan response)
	go func() { done <- o.signIn("slowpoke@example.com", "pw") }()
	<-entered // the sign-in is in flight, waiting on the hook
	r := o.do("GET", "/api/v1/users", nil)
	wantError(t, r, 429, "E0000047")
	if r.Header.Get("X-Rate-Limit-Limit") != "0" || r.Header.Get("X-Rate-Limit-Remaining") != "0" || header(t, r, "X-Rate-Limit-Reset") <= clock.Now().Unix() {
		t.Errorf("concurrency 429 headers = %v, want Limit 0, Remaining 0 and a Reset ahead", r.Header)
	}
	close(release)
	wantSignIn(t, <-done, id)
	want(t, o.do("GET", "/api/v1/users", nil), 200, "after the slow request")
}

func TestFaultInjection(t *testing.T) {
	t.Run("5xx", func(t *testing.T) {
		var n atomic.Int32
		seq := []float64{0.1, 0.2, 0.1, 0.9} // error, 500; error, 503
		o := mustOrg(t, oktasim.Options{Faults: oktasim.Faults{ServerErrorRate: 0.5}, Rand: func() float64 { return seq[int(n.Add(1)-1)%len(seq)] }})
		wantError(t, o.do("GET", "/api/v1/users", nil), 500, "E0000009")
		r := o.do("GET", "/api/v1/users", nil)
		wantError(t, r, 503, "E0000010")
		if r.Header.Get("X-Rate-Limit-Remaining") == "" {
			t.Errorf("a 5xx lacks rate-limit headers")
		}
	})
	t.Run("share of 5xx", func(t *testing.T) {
		o := mustOrg(t, oktasim.Options{Faults: oktasim.Faults{ServerErrorRate: 0.3}})
		errs := 0
		for range 200 {
			if r := o.do("GET", "/api/v1/groups", nil); r.Status >= 500 {
				errs++
			}
		}
		if errs < 30 || errs > 95 {
			t.Errorf("%d of 200 requests failed with rate 0.3", errs)
		}
	})
	t.Run("latency", func(t *testing.T) {
		o := mustOrg(t, oktasim.Options{Faults: oktasim.Faults{Latency: 60 * time.Millisecond}})
		start := time.Now()
		want(t, o.do("GET", "/api/v1/groups", nil), 200, "slow")
		if took := time.Since(start); took < 60*time.Millisecond {
			t.Errorf("took %v, want at least the 60ms latency", took)
		}
	})
	t.Run("dropped connection", func(t *testing.T) {
		o := mustOrg(t, oktasim.Options{Faults: oktasim.Faults{DropRate: 1}})
		_, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(o.request("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "x"}}))
		if err == nil {
			t.Fatal("a dropped connection answered")
		}
	})
	t.Run("lost response after the work is done", func(t *testing.T) {
		var lose atomic.Bool
		lose.Store(true)
		o := mustOrg(t, oktasim.Options{Faults: oktasim.Faults{LostResponseRate: 0.5}, Rand: func() float64 {
			if lose.Load() {
				return 0
			}
			return 0.99
		}})
		_, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Do(o.request("POST", "/api/v1/users", map[string]any{"profile": profile("lost@example.com")}))
		if err == nil {
			t.Fatal("the response was not lost")
		}
		lose.Store(false)
		// The user was created all the same: a retry is a duplicate.
		wantError(t, o.do("POST", "/api/v1/users", map[string]any{"profile": profile("lost@example.com")}), 400, "E0000001",
			"login: An object with this field already exists in the current organization")
		if got := want(t, o.do("GET", "/api/v1/users/lost@example.com", nil), 200, "get"); got["id"] == nil {
			t.Error("no user")
		}
	})
}
