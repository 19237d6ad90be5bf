package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/plandoc"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/static"
	"github.com/ferry-migrate/ferry/web"
)

// testApp is a running console on a fresh database, with the services for
// arranging data directly.
type testApp struct {
	t      testing.TB
	DB     *db.DB
	Clock  *dbtest.Clock
	Auth   *auth.Service
	Plan   *plan.Service
	Schema *schema.Service
	Map    *mapping.Service
	Priv   *privacy.Service
	// Staging and Quality hold the staged extracts and their validation.
	Staging *staging.Service
	Quality *quality.Service
	// Jobs runs the staging and validation jobs the pages start.
	Jobs *jobs.Runner
	// Orgs keeps the Okta org connections; Checker is the fake connection
	// checker the pages call (see okta_org_test.go).
	Orgs    *orgs.Service
	Checker *fakeChecker
	// Creds keeps the sources' password settings (and proves them).
	Creds *credentials.Service
	// Defects keeps the defect logs.
	Defects *defects.Service
	// Loads runs test batches, loads and rollbacks (see loads_test.go);
	// LoadRunner works on them as the console's process does.
	Loads      *load.Service
	LoadRunner *load.Runner
	// Versions keeps the frozen plan versions (see documents_test.go).
	Versions *plandoc.VersionService
	// Hook answers Okta's password import hook and keeps its settings.
	Hook *hook.Service
	// Program is the migration program around the password hook.
	Program *hook.Program
	Server  *web.Server
	HTTP    *httptest.Server
	Logs    *bytes.Buffer
}

const testPassword = "correct horse battery staple"

func newTestApp(t testing.TB) *testApp {
	t.Helper()
	return newTestAppWith(t, web.Options{})
}

// newTestAppWith is newTestApp with server options (smaller limits, say).
func newTestAppWith(t testing.TB, opts web.Options) *testApp {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	authSvc := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	planSvc := plan.NewService(d, authSvc)
	schemaSvc := schema.NewService(d)
	mappingSvc := mapping.NewService(d, schemaSvc, planSvc)
	privacySvc := privacy.NewService(d, mappingSvc, planSvc, clock.Now)
	stagingSvc := staging.NewService(d, clock.Now, mappingSvc)
	credsSvc := credentials.NewService(d, planSvc, stagingSvc, credentials.Options{Now: clock.Now})
	qualitySvc := quality.NewService(d, mappingSvc, stagingSvc, privacySvc, clock.Now).WithPasswords(credsSvc)
	assets, err := static.New("/static")
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	orgsSvc, checker := orgs.NewService(d, mustTestSealer(t), clock.Now), &fakeChecker{}
	hookSvc := hook.NewService(d, hook.Deps{Orgs: orgsSvc, Extracts: stagingSvc, Passwords: credsSvc, Sealer: mustTestSealer(t)},
		hook.Options{Now: clock.Now, Logger: logger})
	runner := jobs.NewRunner(d, jobs.Options{Now: clock.Now, Logger: logger, Staging: stagingSvc, Quality: qualitySvc, Confirmer: hookSvc,
		SpoolDir: jobs.UploadDir(opts.DataDir), FlushInterval: 50 * time.Millisecond})
	runner.Start()
	// Before the database closes (cleanups run last first): a job still
	// running is stopped and waited for.
	t.Cleanup(func() { _ = runner.Shutdown(context.Background()) })
	defectsSvc := defects.NewService(d, clock.Now)
	loadsSvc := load.NewService(d, load.Deps{Orgs: orgsSvc, Gate: privacySvc, Validation: qualitySvc, Extracts: stagingSvc,
		Plan: planSvc, Matrix: mappingSvc, Passwords: credsSvc, Defects: testDefectLog{defectsSvc}, Sealer: mustTestSealer(t)},
		load.Options{HTTPTimeout: 10 * time.Second})
	loadRunner := load.NewRunner(loadsSvc, logger)
	// Before the database closes: the runs still being worked on stop.
	t.Cleanup(loadRunner.Stop)
	documents := testDocuments(d, clock, planSvc, schemaSvc, mappingSvc, privacySvc, credsSvc, loadsSvc, defectsSvc, qualitySvc, orgsSvc)
	programSvc := hook.NewProgram(d, hook.ProgramDeps{Projects: planSvc, Sources: planSvc, Extracts: stagingSvc, Passwords: credsSvc, Loads: loadsSvc}, clock.Now)
	srv := web.New(web.Services{Auth: authSvc, Plan: planSvc, Audit: audit.NewReader(d.Read), Health: d, Schema: schemaSvc,
		Mapping: mappingSvc, Privacy: privacySvc, Staging: stagingSvc, Quality: qualitySvc, Jobs: runner,
		Orgs: orgsSvc, OrgChecker: checker, Credentials: credsSvc, Defects: defectsSvc, Loads: loadsSvc, LoadRunner: loadRunner, Documents: documents,
		PasswordHook: hookSvc, HookSettings: hookSvc, Program: programSvc}, assets, logger, opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &testApp{t: t, DB: d, Clock: clock, Auth: authSvc, Plan: planSvc, Schema: schemaSvc, Map: mappingSvc, Priv: privacySvc,
		Staging: stagingSvc, Quality: qualitySvc, Jobs: runner, Orgs: orgsSvc, Checker: checker, Creds: credsSvc, Defects: defectsSvc, Loads: loadsSvc, LoadRunner: loadRunner, Versions: documents.Versions.(*plandoc.VersionService), Hook: hookSvc, Program: programSvc, Server: srv, HTTP: hs, Logs: logs}
}

// mustAccount creates an account directly through the service.
func (a *testApp) mustAccount(email, name string, admin bool) *auth.Account {
	a.t.Helper()
	acct, err := a.Auth.CreateAccount(context.Background(), auth.AccountInput{Email: email, Name: name, Password: testPassword, IsAdmin: admin})
	if err != nil {
		a.t.Fatalf("create account %s: %v", email, err)
	}
	return acct
}

// mustProject creates a project led by lead.
func (a *testApp) mustProject(lead *auth.Account, name string) *plan.Project {
	a.t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: lead.ID, Name: lead.Name})
	p, err := a.Plan.CreateProject(ctx, lead.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		a.t.Fatalf("create project: %v", err)
	}
	return p
}

// mustMember adds acct to project p with role.
func (a *testApp) mustMember(p *plan.Project, acct *auth.Account, role auth.Role) {
	a.t.Helper()
	if _, err := a.Auth.AddMember(context.Background(), p.ID, acct.Email, role); err != nil {
		a.t.Fatalf("add member: %v", err)
	}
}

// testTransport carries the test clients' requests. It is not
// http.DefaultTransport, whose idle connections every httptest.Server's
// Close drops: a parallel test's request about to reuse one would fail
// with "connection broken: CloseIdleConnections called".
var testTransport = http.DefaultTransport.(*http.Transport).Clone()

// browser is an HTTP client with its own cookies, like one browser.
type browser struct {
	t   testing.TB
	app *testApp
	c   *http.Client
}

func (a *testApp) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: a.t, app: a, c: &http.Client{Jar: jar, Transport: testTransport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn returns a browser signed in as acct.
func (a *testApp) signedIn(acct *auth.Account) *browser {
	b := a.browser()
	res := b.post("/signin", url.Values{"email": {acct.Email}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("sign in as %s: status %d: %s", acct.Email, res.StatusCode, res.Body)
	}
	return b
}

type response struct {
	StatusCode int
	Header     http.Header
	Body       string
}

func (r response) doc(t testing.TB) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{StatusCode: res.StatusCode, Header: res.Header, Body: string(body)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.app.HTTP.URL+path, nil)
	return b.do(req)
}

// csrf returns the browser's CSRF token, fetching a page first if needed.
func (b *browser) csrf() string {
	u, _ := url.Parse(b.app.HTTP.URL)
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == "ferry_csrf" {
			return ck.Value
		}
	}
	b.get("/signin")
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == "ferry_csrf" {
			return ck.Value
		}
	}
	b.t.Fatal("no CSRF cookie")
	return ""
}

// post submits a form with the CSRF token, as the page's form would.
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	if form.Get("_csrf") == "" {
		form.Set("_csrf", b.csrf())
	}
	return b.postRaw(path, form)
}

// postRaw submits a form exactly as given (no CSRF token added).
func (b *browser) postRaw(path string, form url.Values) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.app.HTTP.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// api calls the JSON API with a bearer token (empty for none).
func (a *testApp) api(token, method, path string, body any) response {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
	}
	req, _ := http.NewRequest(method, a.HTTP.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Transport: testTransport}).Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{StatusCode: res.StatusCode, Header: res.Header, Body: string(b)}
}

// mustToken creates an API token for acct.
func (a *testApp) mustToken(acct *auth.Account) string {
	a.t.Helper()
	v, _, err := a.Auth.CreateAPIToken(context.Background(), acct.ID, "test")
	if err != nil {
		a.t.Fatal(err)
	}
	return v
}

// fieldError returns the message shown next to a form field.
func fieldError(t testing.TB, r response, field string) string {
	t.Helper()
	return strings.TrimSpace(r.doc(t).Find("#f-" + field + "-error").Text())
}
