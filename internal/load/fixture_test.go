package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/secrets"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// ---- clock -----------------------------------------------------------------

// fakeClock is shared by the sandbox, the service and the pacer: Sleep moves
// time on at once, so that waits for rate limits cost no real time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		c.Advance(d)
	}
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// ---- fakes of Deps -----------------------------------------------------------

type fakeOrgs struct {
	mu      sync.Mutex
	url     string
	token   string
	sandbox bool
	none    bool
}

func (f *fakeOrgs) Find(ctx context.Context, projectID int64) (*orgs.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.none {
		return nil, nil
	}
	return &orgs.Connection{ProjectID: projectID, OrgURL: f.url, Sandbox: f.sandbox}, nil
}

func (f *fakeOrgs) Token(ctx context.Context, projectID int64) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.token, nil
}

// fakeGate is the legal gate, switchable while a run works. Like
// privacy.Service it is always open for Ferry's sandbox.
type fakeGate struct {
	mu      sync.Mutex
	closed  bool
	reasons []string
	calls   atomic.Int64
}

func (g *fakeGate) LoadGate(ctx context.Context, projectID int64, sandbox bool) (privacy.GateResult, error) {
	g.calls.Add(1)
	g.mu.Lock()
	defer g.mu.Unlock()
	if sandbox || !g.closed {
		return privacy.GateResult{Open: true}, nil
	}
	return privacy.GateResult{Open: false, Reasons: slices.Clone(g.reasons)}, nil
}

func (g *fakeGate) set(open bool, reasons ...string) {
	g.mu.Lock()
	g.closed, g.reasons = !open, reasons
	g.mu.Unlock()
}

type fakeValidation struct {
	mu      sync.Mutex
	runID   int64
	digest  string
	current string
}

func (f *fakeValidation) LatestRuns(ctx context.Context, projectID int64, n int) ([]quality.Run, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.runID == 0 {
		return nil, nil
	}
	return []quality.Run{{ID: f.runID, ProjectID: projectID, Status: quality.RunDone, MatrixDigest: f.digest}}, nil
}

func (f *fakeValidation) CurrentDigest(ctx context.Context, projectID int64) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.current, nil
}

type fakeExtracts struct {
	mu   sync.Mutex
	list []staging.Extract
}

func (f *fakeExtracts) CurrentExtracts(ctx context.Context, projectID int64) ([]staging.Extract, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.list), nil
}

type fakePlan struct {
	mu      sync.Mutex
	sources []plan.Source
	types   []plan.UserType
}

func (f *fakePlan) FindSources(ctx context.Context, projectID int64) ([]plan.Source, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sources), nil
}

func (f *fakePlan) FindUserTypes(ctx context.Context, projectID int64) ([]plan.UserType, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.types), nil
}

type fakeMatrix struct{}

func (fakeMatrix) LoadMatrix(ctx context.Context, projectID int64) (*mapping.Matrix, error) {
	return &mapping.Matrix{Attributes: schema.Base()}, nil
}

type fakePasswords struct {
	mu       sync.Mutex
	readings map[int64]credentials.Reading
}

func (f *fakePasswords) Readings(ctx context.Context, projectID int64) (map[int64]credentials.Reading, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int64]credentials.Reading{}
	for k, v := range f.readings {
		out[k] = v
	}
	return out, nil
}

type fakeDefects struct {
	mu    sync.Mutex
	calls [][]ErrorCount
}

func (f *fakeDefects) RecordFailures(ctx context.Context, projectID, runID int64, runLabel string, failures []ErrorCount) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, slices.Clone(failures))
	return nil
}

// ---- the fixture ---------------------------------------------------------------

const testToken = "sandbox-token-123"

type fxOptions struct {
	Limits      oktasim.Limits
	Concurrency int
	Faults      oktasim.Faults
	// Wrap wraps the sandbox's handler (to block requests, or to hide the
	// sandbox header so that the org looks real).
	Wrap        func(http.Handler) http.Handler
	Lease       time.Duration
	HTTPTimeout time.Duration
	// Rand draws the sandbox's faults (seeded for determinism).
	Rand func() float64
}

type fixture struct {
	t         *testing.T
	db        *db.DB
	clock     *fakeClock
	sim       *oktasim.Server
	url       string
	client    *okta.Client
	orgs      *fakeOrgs
	gate      *fakeGate
	val       *fakeValidation
	ext       *fakeExtracts
	plan      *fakePlan
	pw        *fakePasswords
	defects   *fakeDefects
	sealer    *secrets.Sealer
	opts      fxOptions
	svc       *Service
	projectID int64
	pos       int64
	extractOf map[int64]int64
}

func newFixture(t *testing.T, o fxOptions) *fixture {
	t.Helper()
	if o.Lease == 0 {
		o.Lease = 600 * time.Millisecond
	}
	clock := newFakeClock()
	sim := oktasim.New(oktasim.Options{Token: testToken, Now: clock.Now, Limits: o.Limits, Concurrency: o.Concurrency, Faults: o.Faults, Rand: o.Rand})
	var h http.Handler = sim
	if o.Wrap != nil {
		h = o.Wrap(sim)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	client, err := okta.New(okta.Config{OrgURL: ts.URL, APIToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i * 7)
	}
	sealer, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: dbtest.MustOpen(t, dbtest.NewClock()), clock: clock, sim: sim, url: ts.URL, client: client,
		orgs: &fakeOrgs{url: ts.URL, token: testToken, sandbox: true}, gate: &fakeGate{},
		val: &fakeValidation{digest: "d", current: "d"}, ext: &fakeExtracts{}, plan: &fakePlan{},
		pw: &fakePasswords{readings: map[int64]credentials.Reading{}}, defects: &fakeDefects{}, sealer: sealer, opts: o,
		extractOf: map[int64]int64{}}
	now := clock.Now()
	f.projectID = f.insert(`INSERT INTO projects (name, name_key, migration_type, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, "Acme", "acme", "workforce", "active", now, now)
	f.val.runID = f.insert(`INSERT INTO validation_runs (project_id, status, started_at, matrix_digest) VALUES (?, ?, ?, ?) RETURNING id`,
		f.projectID, "done", now, "d")
	f.svc = f.service("proc-A")
	return f
}

func (f *fixture) insert(q string, args ...any) int64 {
	f.t.Helper()
	var id int64
	if err := f.db.WriteSQL().QueryRowContext(context.Background(), f.db.Bind(q), args...).Scan(&id); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return id
}

func (f *fixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.db.WriteSQL().ExecContext(context.Background(), f.db.Bind(q), args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

func (f *fixture) deps() Deps {
	return Deps{Orgs: f.orgs, Gate: f.gate, Validation: f.val, Extracts: f.ext, Plan: f.plan, Matrix: fakeMatrix{},
		Passwords: f.pw, Defects: f.defects, Sealer: f.sealer}
}

// service is a "process" with its own owner name.
func (f *fixture) service(owner string) *Service {
	return NewService(f.db, f.deps(), Options{Now: f.clock.Now, Owner: owner, Lease: f.opts.Lease, HTTPTimeout: f.opts.HTTPTimeout, Clock: f.clock})
}

// addSource adds a source with a ready extract.
func (f *fixture) addSource(name string, memberships bool, userTypes ...int64) int64 {
	f.t.Helper()
	now := f.clock.Now()
	mm := plan.DecisionNo
	if memberships {
		mm = plan.DecisionYes
	}
	id := f.insert(`INSERT INTO sources (project_id, name, name_key, kind, access_status, migrate_credentials, migrate_groups,
		migrate_memberships, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		f.projectID, name, strings.ToLower(name), "ldap", "granted", "yes", mm, mm, now, now)
	ex := f.insert(`INSERT INTO extracts (project_id, source_id, status, format, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		f.projectID, id, "ready", "ldif", now)
	f.extractOf[id] = ex
	f.plan.mu.Lock()
	f.plan.sources = append(f.plan.sources, plan.Source{ID: id, ProjectID: f.projectID, Name: name, UserTypeIDs: userTypes,
		MigrateMemberships: mm, MigrateCredentials: plan.DecisionYes})
	f.plan.mu.Unlock()
	f.ext.mu.Lock()
	f.ext.list = append(f.ext.list, staging.Extract{ID: ex, ProjectID: f.projectID, SourceID: id, Status: "ready"})
	f.ext.mu.Unlock()
	return id
}

// addRecord stages one valid record of the source; extra are more
// attributes of the record, profile overrides of the Okta profile.
func (f *fixture) addRecord(sourceID int64, login string, attrs map[string][]string, profile map[string]string) int64 {
	f.t.Helper()
	f.pos++
	if attrs == nil {
		attrs = map[string][]string{}
	}
	attrs["mail"] = []string{login}
	a, _ := json.Marshal(attrs)
	p := map[string]string{"login": login, "email": login, "firstName": "First" + fmt.Sprint(f.pos), "lastName": "Last"}
	for k, v := range profile {
		p[k] = v
	}
	pj, _ := json.Marshal(p)
	id := f.insert(`INSERT INTO staged_records (extract_id, position, source_key, attributes_json) VALUES (?, ?, ?, ?) RETURNING id`,
		f.extractOf[sourceID], f.pos, login, string(a))
	f.exec(`INSERT INTO staged_profiles (record_id, profile_json) VALUES (?, ?)`, id, string(pj))
	return id
}

// addRecords stages n records user<i>@<domain>.
func (f *fixture) addRecords(sourceID int64, prefix string, n int) []string {
	f.t.Helper()
	var out []string
	for i := 1; i <= n; i++ {
		l := fmt.Sprintf("%s%03d@example.com", prefix, i)
		f.addRecord(sourceID, l, nil, nil)
		out = append(out, l)
	}
	return out
}

// markInvalid gives a record a blocking occurrence in the validation.
func (f *fixture) markInvalid(recordID, sourceID int64) {
	f.exec(`INSERT INTO issue_occurrences (run_id, record_id, source_id, position, code, severity, message) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		f.val.runID, recordID, sourceID, 1, "LOGIN_INVALID", "blocking", "bad login")
}

func (f *fixture) start(in NewRun) *Run {
	f.t.Helper()
	run, rep, err := f.svc.Start(f.t.Context(), f.projectID, in)
	if err != nil {
		var reasons []string
		if rep != nil {
			reasons = rep.BlockingReasons()
		}
		f.t.Fatalf("Start: %v (%v) %v", err, errors.Unwrap(err), reasons)
	}
	return run
}

func (f *fixture) execute(svc *Service, runID int64) error {
	return svc.Execute(f.t.Context(), runID, ExecOptions{})
}

func (f *fixture) mustExecute(runID int64) *Run {
	f.t.Helper()
	if err := f.execute(f.svc, runID); err != nil {
		f.t.Fatalf("Execute: %v", err)
	}
	return f.run(runID)
}

func (f *fixture) run(runID int64) *Run {
	f.t.Helper()
	r, err := f.svc.FindRunByID(context.Background(), runID)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) items(runID int64) []Item {
	f.t.Helper()
	var out []Item
	if err := f.db.Read.Where("run_id = ?", runID).Order("seq").Find(&out).Error; err != nil {
		f.t.Fatal(err)
	}
	return out
}

func (f *fixture) counts(runID int64) Counts {
	f.t.Helper()
	c, err := f.svc.CountItems(context.Background(), runID)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *fixture) oktaUsers() []OktaUser {
	f.t.Helper()
	var out []OktaUser
	if err := f.db.Read.Where("project_id = ?", f.projectID).Order("id").Find(&out).Error; err != nil {
		f.t.Fatal(err)
	}
	return out
}

// oktaUser reads a user from the sandbox (nil when it does not exist).
func (f *fixture) oktaUser(login string) *okta.User {
	f.t.Helper()
	u, _, err := f.client.GetUser(context.Background(), login)
	if okta.IsNotFound(err) {
		return nil
	}
	if err != nil {
		f.t.Fatalf("get %s: %v", login, err)
	}
	return u
}

// preCreate creates a user in the sandbox as someone other than Ferry did,
// an hour before anything Ferry sends.
func (f *fixture) preCreate(login string) *okta.User {
	f.t.Helper()
	u, _, err := f.client.CreateUser(context.Background(), okta.CreateUserRequest{Profile: okta.UserProfile{
		"login": login, "email": login, "firstName": "Pre", "lastName": "Existing"},
		Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: "Pre-Existing-Passw0rd!"}}}, okta.CreateUserOptions{Activate: true})
	if err != nil {
		f.t.Fatalf("pre-create %s: %v", login, err)
	}
	f.clock.Advance(time.Hour)
	return u
}

// assertLoaded checks that a finished run created each login exactly once:
// the item is created with the sandbox's id, the sandbox holds the user, and
// okta_users has one row for it; and that the sandbox holds extra users
// besides them.
func (f *fixture) assertLoaded(runID int64, logins []string, extra int) {
	f.t.Helper()
	items := f.items(runID)
	byLogin := map[string]Item{}
	for _, it := range items {
		if !IsFinal(it.State) {
			f.t.Errorf("item %s is %s, not final", it.Login, it.State)
		}
		byLogin[it.Login] = it
	}
	prov := map[string]int{}
	provID := map[string]string{}
	for _, u := range f.oktaUsers() {
		if u.RunID == runID {
			prov[u.Login]++
			provID[u.Login] = u.OktaUserID
		}
	}
	for _, l := range logins {
		it, ok := byLogin[l]
		if !ok {
			f.t.Errorf("%s: no item", l)
			continue
		}
		if it.State != StateCreated {
			f.t.Errorf("%s: state %s (%s %s), want created", l, it.State, it.ErrorCode, it.ErrorSummary)
			continue
		}
		u := f.oktaUser(l)
		if u == nil {
			f.t.Errorf("%s: not in the sandbox", l)
			continue
		}
		if it.OktaUserID != u.ID {
			f.t.Errorf("%s: item has id %q, the sandbox %q", l, it.OktaUserID, u.ID)
		}
		if prov[l] != 1 || provID[l] != u.ID {
			f.t.Errorf("%s: %d provenance rows (id %q), want one with %q", l, prov[l], provID[l], u.ID)
		}
	}
	if got, want := f.sim.UserCount(), len(logins)+extra; got != want {
		f.t.Errorf("sandbox holds %d users, want %d", got, want)
	}
}

// userGroups lists the names of the sandbox groups a user is in.
func (f *fixture) userGroups(userID string) []string {
	f.t.Helper()
	var groups []struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
	}
	f.simJSON("GET", "/api/v1/users/"+userID+"/groups?limit=200", nil, &groups)
	var out []string
	for _, g := range groups {
		out = append(out, g.Profile.Name)
	}
	slices.Sort(out)
	return out
}

// simJSON makes a raw request to the sandbox and decodes the answer; it
// returns the status code.
func (f *fixture) simJSON(method, path string, body any, out any) int {
	f.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, f.url+path, rd)
	req.Header.Set("Authorization", "SSWS "+testToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			f.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return res.StatusCode
}

// crashOnce makes the process "die" the nth time the run reaches step.
func crashOnce(t *testing.T, step string, nth int64) *atomic.Bool {
	t.Helper()
	var n atomic.Int64
	fired := &atomic.Bool{}
	crashHook = func(s string) bool {
		if s != step {
			return false
		}
		if n.Add(1) == nth {
			fired.Store(true)
			return true
		}
		return false
	}
	t.Cleanup(func() { crashHook = nil })
	return fired
}

// hideSandbox makes the sandbox look like a real org: its answers lose the
// X-Ferry-Sandbox header.
func hideSandbox(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&stripHeader{ResponseWriter: w}, r)
	})
}

type stripHeader struct{ http.ResponseWriter }

func (s *stripHeader) WriteHeader(code int) {
	s.ResponseWriter.Header().Del(okta.HeaderFerrySandbox)
	s.ResponseWriter.WriteHeader(code)
}

func (s *stripHeader) Write(b []byte) (int, error) {
	s.ResponseWriter.Header().Del(okta.HeaderFerrySandbox)
	return s.ResponseWriter.Write(b)
}

func (s *stripHeader) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// createGate holds user creations after the first `free` until released (or
// the request is abandoned by the client), so that a test can act on a run
// in the middle of its work without depending on timing.
type createGate struct {
	free    int64
	n       atomic.Int64
	waiting atomic.Int64  // creations held now
	held    chan struct{} // receives once a creation is held
	release chan struct{}
	once    sync.Once
}

func newCreateGate(free int64) *createGate {
	return &createGate{free: free, held: make(chan struct{}, 1000), release: make(chan struct{})}
}

func (g *createGate) Open() { g.once.Do(func() { close(g.release) }) }

// drain waits until the held creations the client abandoned have ended, so
// that opening the gate afterwards creates nothing behind the run's back.
func (g *createGate) drain(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for g.waiting.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("held creations never ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (g *createGate) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/v1/users" && g.n.Add(1) > g.free {
			// Reading the body lets the server notice when the client
			// goes away (it cancels r.Context()).
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			select {
			case g.held <- struct{}{}:
			default:
			}
			g.waiting.Add(1)
			select {
			case <-g.release:
				g.waiting.Add(-1)
			case <-r.Context().Done():
				g.waiting.Add(-1)
				return // the client gave up: nothing created
			}
		}
		next.ServeHTTP(w, r)
	})
}

// waitHeld waits until a creation is held (the run is in the middle of its
// work).
func (g *createGate) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-g.held:
	case <-time.After(20 * time.Second):
		t.Fatal("no creation reached the sandbox")
	}
}
