// Package oktasim is Ferry's Okta sandbox: a local, in-memory stand-in for an
// Okta org that answers the Management API calls a migration makes (users,
// groups, a group's apps, group rules, the user schema, inline hooks, event hooks, the
// activate/deactivate/suspend/unsuspend/expire_password/reset_password
// lifecycle) and a Classic sign-in (/api/v1/authn) with Okta's paths, status
// codes, JSON shapes, error bodies, rate-limit headers and 429s. Imported
// password hashes are really verified at sign-in,
// and users created with a password import hook trigger a real call to the
// registered hook. Fault injection (5xx, latency, dropped connections) lets
// tests rehearse what a real org does on a bad day.
//
// Fidelity is the feature: where this package and Okta differ, this package
// is wrong. The facts it follows are in ../shared/okta/NOTES.md and Okta's
// OpenAPI document; docs/sandbox.md lists what it does not mimic.
package oktasim

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// PasswordVerifier reports whether password matches an imported Okta hash.
// The sandbox uses it at sign-in for users created with
// credentials.password.hash; the default implements Okta's six algorithms.
type PasswordVerifier func(h okta.PasswordHash, password string) (bool, error)

// Options configure a sandbox. The zero value of every field means Okta's
// default (or a sensible one for a sandbox), so Options{Token: "t"} is a
// complete configuration.
type Options struct {
	// Token is the API token accepted as "SSWS <token>" or "Bearer <token>".
	// Requests without it (except /api/v1/authn, public in Okta too) get
	// 401 E0000011.
	Token string
	// Limits are the requests allowed per Window in each rate-limit bucket;
	// zero fields take DefaultLimits' values.
	Limits Limits
	// Concurrency is the number of requests in flight at once before 429s
	// with X-Rate-Limit-Limit: 0 (default 75, Okta's Workforce default).
	Concurrency int
	// Window is the rate-limit window (default one minute, as in Okta).
	Window time.Duration
	// Now is the clock (default time.Now). Date, X-Rate-Limit-Reset and all
	// timestamps come from it, so that tests can move time on by hand.
	Now func() time.Time
	// Faults injects failures; the zero value injects none. Change them
	// while the server runs with SetFaults.
	Faults Faults
	// Verifier checks imported hashes at sign-in (default: hashes.VerifyOkta,
	// the code that proves Ferry's conversions).
	Verifier PasswordVerifier
	// HookTimeout is how long one call of the password import inline hook
	// may take (default 3 s, as in Okta). Okta retries once.
	HookTimeout time.Duration
	// HookClient calls inline hooks (default: a client that follows no
	// redirect, as Okta does not).
	HookClient *http.Client
	// Logger receives warnings (e.g. an http:// hook on loopback). Default:
	// discard.
	Logger *slog.Logger
	// Rand returns numbers in [0,1) for fault injection (default math/rand/v2).
	Rand func() float64
}

// Server is a sandbox Okta org. It is an http.Handler; all state is in
// memory and safe for concurrent use.
type Server struct {
	opts     Options
	log      *slog.Logger
	store    *store
	limiter  *limiter
	inflight atomic.Int64
	randMu   sync.Mutex
	// ctlMu guards faults; concurrency is the limit in force. Both start
	// from opts and change with SetFaults and SetConcurrency.
	ctlMu       sync.RWMutex
	faults      Faults
	concurrency atomic.Int64
	routes      []route
	hookHTTP    *http.Client
	// events: the event hooks, the read-only switch, deliveries in flight.
	events *eventHooks
	// oauth: the authorization server, hook keys, hooks' access tokens.
	oauth oauthState
}

// New returns a sandbox org configured by opts.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Window <= 0 {
		opts.Window = time.Minute
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Verifier == nil {
		opts.Verifier = hashes.VerifyOkta
	}
	if opts.HookTimeout <= 0 {
		opts.HookTimeout = 3 * time.Second
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := opts.HookClient
	if hc == nil {
		hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	s := &Server{opts: opts, log: log, store: newStore(opts.Now()), limiter: newLimiter(opts.Limits.withDefaults(), opts.Window), hookHTTP: hc, events: newEventHooks()}
	s.routes = s.buildRoutes()
	s.SetFaults(opts.Faults)
	s.concurrency.Store(int64(opts.Concurrency))
	return s
}

// NewTestServer starts a sandbox on a loopback port for a test and closes it
// when the test ends. Use srv.URL as the org URL.
func NewTestServer(tb interface {
	Helper()
	Cleanup(func())
}, opts Options) (*httptest.Server, *Server) {
	tb.Helper()
	s := New(opts)
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	return ts, s
}

// now is the injected clock.
func (s *Server) now() time.Time { return s.opts.Now() }

func (s *Server) random() float64 {
	s.randMu.Lock()
	defer s.randMu.Unlock()
	return s.opts.Rand()
}

// route is one endpoint: its method, its path pattern ("{x}" matches one
// segment) and its rate-limit bucket.
type route struct {
	method  string
	pattern []string
	bucket  Bucket
	public  bool
	handle  func(w http.ResponseWriter, r *http.Request, p params)
}

type params map[string]string

func (s *Server) buildRoutes() []route {
	r := func(method, pattern string, b Bucket, h func(http.ResponseWriter, *http.Request, params)) route {
		return route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), bucket: b, handle: h}
	}
	routes := []route{
		r("GET", "/api/v1/users", BucketUsers, s.listUsers),
		r("POST", "/api/v1/users", BucketUsers, s.createUser),
		r("GET", "/api/v1/users/{id}", BucketUserGet, s.getUser),
		r("POST", "/api/v1/users/{id}", BucketUserUpdate, s.updateUser(false)),
		r("PUT", "/api/v1/users/{id}", BucketUserUpdate, s.updateUser(true)),
		r("DELETE", "/api/v1/users/{id}", BucketUserUpdate, s.deleteUser),
		r("POST", "/api/v1/users/{id}/lifecycle/activate", BucketOther, s.activateUser),
		r("POST", "/api/v1/users/{id}/lifecycle/deactivate", BucketOther, s.deactivateUser),
		r("POST", "/api/v1/users/{id}/lifecycle/suspend", BucketOther, s.suspendUser),
		r("POST", "/api/v1/users/{id}/lifecycle/unsuspend", BucketOther, s.unsuspendUser),
		r("POST", "/api/v1/users/{id}/lifecycle/expire_password", BucketOther, s.expirePassword),
		r("POST", "/api/v1/users/{id}/lifecycle/reset_password", BucketOther, s.resetPassword),
		r("GET", "/api/v1/users/{id}/groups", BucketOther, s.listUserGroups),
		r("GET", "/api/v1/groups", BucketGroups, s.listGroups),
		r("POST", "/api/v1/groups", BucketGroups, s.createGroup),
		// Before /api/v1/groups/{groupId}: the first matching pattern wins.
		r("GET", "/api/v1/groups/rules", BucketOther, s.listGroupRules),
		r("GET", "/api/v1/groups/{groupId}", BucketGroup, s.getGroup),
		r("DELETE", "/api/v1/groups/{groupId}", BucketGroup, s.deleteGroup),
		r("GET", "/api/v1/groups/{groupId}/users", BucketOther, s.listGroupUsers),
		r("GET", "/api/v1/groups/{groupId}/apps", BucketOther, s.listGroupApps),
		r("PUT", "/api/v1/groups/{groupId}/users/{userId}", BucketOther, s.addGroupUser),
		r("DELETE", "/api/v1/groups/{groupId}/users/{userId}", BucketOther, s.removeGroupUser),
		r("GET", "/api/v1/meta/schemas/user/{schemaId}", BucketOther, s.getSchema),
		r("POST", "/api/v1/meta/schemas/user/{schemaId}", BucketOther, s.updateSchema),
		r("GET", "/api/v1/inlineHooks", BucketOther, s.listHooks),
		r("POST", "/api/v1/inlineHooks", BucketOther, s.createHook),
		r("GET", "/api/v1/inlineHooks/{hookId}", BucketOther, s.getHook),
		r("DELETE", "/api/v1/inlineHooks/{hookId}", BucketOther, s.deleteHook),
		r("PUT", "/api/v1/inlineHooks/{hookId}", BucketOther, s.replaceHook),
		r("POST", "/api/v1/inlineHooks/{hookId}/lifecycle/activate", BucketOther, s.setHookStatus("ACTIVE")),
		r("POST", "/api/v1/inlineHooks/{hookId}/lifecycle/deactivate", BucketOther, s.setHookStatus("INACTIVE")),
		r("POST", "/api/v1/inlineHooks/{inlineHookId}/execute", BucketOther, s.executeHook),
		r("GET", "/api/v1/eventHooks", BucketOther, s.listEventHooks),
		r("POST", "/api/v1/eventHooks", BucketOther, s.createEventHook),
		r("GET", "/api/v1/eventHooks/{eventHookId}", BucketOther, s.getEventHook),
		r("DELETE", "/api/v1/eventHooks/{eventHookId}", BucketOther, s.deleteEventHook),
		r("POST", "/api/v1/eventHooks/{eventHookId}/lifecycle/activate", BucketOther, s.setEventHookStatus(eventHookActive)),
		r("POST", "/api/v1/eventHooks/{eventHookId}/lifecycle/deactivate", BucketOther, s.setEventHookStatus(eventHookInactive)),
		r("POST", "/api/v1/eventHooks/{eventHookId}/lifecycle/verify", BucketOther, s.verifyEventHook),
	}
	authn := r("POST", "/api/v1/authn", BucketOther, s.authn)
	authn.public = true
	routes = append(routes, s.hookKeyRoutes()...)
	return append(append(routes, authn), s.authServerRoutes()...)
}

// match finds the route for r: the route itself, or (nil, true) when the
// path exists with another method.
func (s *Server) match(r *http.Request) (*route, params, bool) {
	segs := strings.Split(strings.Trim(r.URL.EscapedPath(), "/"), "/")
	for i, seg := range segs {
		if u, err := url.PathUnescape(seg); err == nil {
			segs[i] = u
		}
	}
	pathFound := false
	for i := range s.routes {
		rt := &s.routes[i]
		if len(rt.pattern) != len(segs) {
			continue
		}
		p := params{}
		ok := true
		for j, part := range rt.pattern {
			if strings.HasPrefix(part, "{") {
				if segs[j] == "" {
					ok = false
					break
				}
				p[strings.Trim(part, "{}")] = segs[j]
			} else if part != segs[j] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if rt.method == r.Method {
			return rt, p, false
		}
		pathFound = true
	}
	return nil, nil, pathFound
}

// bucketFor is the rate-limit bucket of a request whose route is unknown:
// Okta matches buckets by path prefix, so anything else under /api/v1
// counts against the /api/v1 bucket.
func bucketFor(r *http.Request) Bucket {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/api/v1/users" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		return BucketUsers
	case p == "/api/v1/groups":
		return BucketGroups
	}
	return BucketOther
}

// ServeHTTP answers one request the way Okta does: request id and Date
// first, then the concurrency limit, the rate limit, injected faults, the
// token, and finally the endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	h := w.Header()
	h.Set("X-Okta-Request-Id", newID("", 20))
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	h.Set(okta.HeaderFerrySandbox, "1") // how Ferry tells its sandbox from a real org

	rt, p, pathFound := s.match(r)
	bucket := bucketFor(r)
	if rt != nil {
		bucket = rt.bucket
	}

	if n := s.inflight.Add(1); n > s.concurrency.Load() {
		s.inflight.Add(-1)
		h.Set("X-Rate-Limit-Limit", "0")
		h.Set("X-Rate-Limit-Remaining", "0")
		h.Set("X-Rate-Limit-Reset", fmt.Sprint(now.Add(s.opts.Window).Unix()))
		writeError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}
	defer s.inflight.Add(-1)

	q := s.limiter.take(bucket, now)
	h.Set("X-Rate-Limit-Limit", fmt.Sprint(q.limit))
	h.Set("X-Rate-Limit-Remaining", fmt.Sprint(q.remaining))
	h.Set("X-Rate-Limit-Reset", fmt.Sprint(q.reset))
	if q.exceeded {
		writeError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
		return
	}

	dropAfter, done := s.injectFaults(w, r)
	if done {
		return
	}

	if rt == nil || !rt.public {
		if !s.authorized(r) {
			writeError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
			return
		}
	}
	switch {
	case rt != nil:
	case pathFound:
		writeError(w, http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method")
		return
	default:
		writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path+" (Request)")
		return
	}

	if dropAfter {
		// The request is processed, then the answer is lost: the nastiest
		// case for a client's idempotency.
		rec := httptest.NewRecorder()
		rt.handle(rec, r, p)
		dropConnection(w)
		return
	}
	rt.handle(w, r, p)
}

// authorized reports whether r carries the org's API token.
func (s *Server) authorized(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	if s.opts.Token == "" {
		return false
	}
	for _, scheme := range []string{"SSWS ", "Bearer "} {
		if strings.HasPrefix(auth, scheme) && strings.TrimSpace(auth[len(scheme):]) == s.opts.Token {
			return true
		}
	}
	return false
}

// baseURL is the org URL as the client reached it, for links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
