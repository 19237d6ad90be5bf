package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/logging"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/static"
	"github.com/ferry-migrate/ferry/web"
)

// lockedLog collects log output written by the server's goroutines.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newProductionLikeApp is newTestApp wired as cmd/ferry wires the console:
// the production logger (which adds request ids) for the server and for gorm,
// with every query logged, and the given server options.
func newProductionLikeApp(t testing.TB, opts web.Options) (*testApp, *lockedLog) {
	t.Helper()
	logs := &lockedLog{}
	logger, err := logging.New(logs, "text", "debug")
	if err != nil {
		t.Fatal(err)
	}
	clock := dbtest.NewClock()
	d, err := db.Open(context.Background(), db.Options{URL: filepath.Join(t.TempDir(), "ferry.db"), Now: clock.Now, Logger: logger,
		SlowQuery: time.Nanosecond}) // every query counts as slow, so that every query is logged
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
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
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	runner := jobs.NewRunner(d, jobs.Options{Now: clock.Now, Logger: logger, Staging: stagingSvc, Quality: qualitySvc, SpoolDir: jobs.UploadDir(opts.DataDir)})
	runner.Start()
	t.Cleanup(func() { _ = runner.Shutdown(context.Background()) })
	orgsSvc, checker := orgs.NewService(d, mustTestSealer(t), clock.Now), &fakeChecker{}
	srv := web.New(web.Services{Auth: authSvc, Plan: planSvc, Audit: audit.NewReader(d.Read), Health: d, Schema: schemaSvc, Mapping: mappingSvc,
		Privacy: privacySvc, Staging: stagingSvc, Quality: qualitySvc, Jobs: runner, Orgs: orgsSvc, OrgChecker: checker,
		Credentials: credsSvc}, assets, logger, opts)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &testApp{t: t, DB: d, Clock: clock, Auth: authSvc, Plan: planSvc, Schema: schemaSvc, Map: mappingSvc, Priv: privacySvc,
		Staging: stagingSvc, Quality: qualitySvc, Jobs: runner, Orgs: orgsSvc, Checker: checker, Creds: credsSvc, Server: srv, HTTP: hs, Logs: &bytes.Buffer{}}, logs
}

func cookieNamed(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestSecurityHeadersOnEveryKindOfAnswer(t *testing.T) {
	w := newRoleWorld(t)
	asLead := w.app.signedIn(w.lead)
	anon := w.app.browser()
	tests := []struct {
		name string
		get  func() response
		html bool
	}{
		{"sign-in page", func() response { return anon.get("/signin") }, true},
		{"signed-in page", func() response { return asLead.get("/projects") }, true},
		{"project page", func() response { return asLead.get(projectPath(w.project, "/people")) }, true},
		{"redirect to sign-in", func() response { return anon.get("/projects") }, false},
		{"404 page", func() response { return asLead.get("/nothing-here") }, true},
		{"403 page", func() response { return asLead.get("/accounts") }, true},
		{"API 401", func() response { return w.app.api("", "GET", "/api/v1/projects", nil) }, false},
		{"API answer", func() response { return w.app.api(w.app.mustToken(w.lead), "GET", "/api/v1/projects", nil) }, false},
		{"health check", func() response { return anon.get("/healthz") }, false},
		{"static file", func() response { return anon.get("/static/" + w.assetPath) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.get()
			csp := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %s", csp, want)
				}
			}
			for _, bad := range []string{"unsafe-inline", "unsafe-eval", "*"} {
				if strings.Contains(csp, bad) {
					t.Errorf("CSP %q allows %s", csp, bad)
				}
			}
			for header, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
				if got := res.Header.Get(header); got != want {
					t.Errorf("%s: %q, want %q", header, got, want)
				}
			}
			if tt.html && res.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("an HTML page may be cached: Cache-Control %q", res.Header.Get("Cache-Control"))
			}
		})
	}
}

// TestPagesNeedNoInlineScriptOrStyle renders every page and checks that it
// works under the CSP: no inline script, event handler, style or javascript: URL.
func TestPagesNeedNoInlineScriptOrStyle(t *testing.T) {
	w := newRoleWorld(t)
	asLead, asAdmin, asEngineer := w.app.signedIn(w.lead), w.app.signedIn(w.admin), w.app.signedIn(w.engineer)
	checked := 0
	for key, rc := range routeTable() {
		method, path, _ := strings.Cut(key, " ")
		if method != http.MethodGet || strings.HasPrefix(path, "/api/") || rc.status != http.StatusOK || path == "/healthz" || path == "/static/*" ||
			strings.HasSuffix(path, ".csv") || strings.HasSuffix(path, ".xlsx") || strings.HasSuffix(path, ".json") { // downloads, not pages
			continue
		}
		b := asLead
		switch rc.rule {
		case "admin":
			b = asAdmin
		case "project " + string(auth.PermRun): // engineers' pages
			b = asEngineer
		}
		target, err := w.fillPath(path, w.leadTokenID)
		if err != nil {
			t.Fatal(err)
		}
		if rc.query != nil {
			target += rc.query(w)
		}
		t.Run(path, func(t *testing.T) {
			res := b.get(target)
			if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
			}
			doc := res.doc(t)
			if n := doc.Find("style").Length(); n > 0 {
				t.Errorf("%d <style> elements", n)
			}
			doc.Find("*").Each(func(_ int, s *goquery.Selection) {
				n := s.Nodes[0]
				if n.Type != html.ElementNode {
					return
				}
				if n.Data == "script" {
					if _, ok := s.Attr("src"); !ok {
						t.Errorf("inline script: %.80q", s.Text())
					}
				}
				for _, a := range n.Attr {
					switch {
					case strings.HasPrefix(a.Key, "on"):
						t.Errorf("<%s %s=…> is an inline event handler", n.Data, a.Key)
					case a.Key == "style":
						t.Errorf("<%s style=%q> is an inline style", n.Data, a.Val)
					case (a.Key == "href" || a.Key == "src" || a.Key == "action") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:"):
						t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
					}
				}
			})
		})
		checked++
	}
	if checked < 25 {
		t.Fatalf("only %d pages checked", checked)
	}
}

func TestSessionCookieFlags(t *testing.T) {
	// signIn signs in without a cookie jar (it would drop Secure cookies over
	// http) and returns the answer to the sign-in form and the CSRF cookie.
	signIn := func(t *testing.T, app *testApp, email string) (signInPage, signedIn http.Header) {
		t.Helper()
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := client.Get(app.HTTP.URL + "/signin")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		csrf := cookieNamed(res.Header, "ferry_csrf")
		if csrf == nil {
			t.Fatal("the sign-in page sets no CSRF cookie")
		}
		form := url.Values{"email": {email}, "password": {testPassword}, "_csrf": {csrf.Value}}
		req, _ := http.NewRequest(http.MethodPost, app.HTTP.URL+"/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: csrf.Name, Value: csrf.Value})
		res2, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res2.Body.Close()
		if res2.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", res2.StatusCode)
		}
		return res.Header, res2.Header
	}
	tests := []struct {
		name   string
		secure bool
	}{
		{"plain HTTP (development)", false},
		{"with SecureCookies", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, _ := newProductionLikeApp(t, web.Options{SecureCookies: tt.secure})
			app.mustAccount("lead@example.com", "Lea Lead", false)
			page, signedIn := signIn(t, app, "lead@example.com")

			session := cookieNamed(signedIn, "ferry_session")
			if session == nil || session.Value == "" {
				t.Fatal("no session cookie")
			}
			if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" {
				t.Errorf("session cookie %s: want HttpOnly, SameSite=Lax, Path=/", session.String())
			}
			if session.MaxAge != int((12 * time.Hour).Seconds()) {
				t.Errorf("session cookie lives %d s, want the session TTL", session.MaxAge)
			}
			if session.Secure != tt.secure {
				t.Errorf("session cookie Secure=%v, want %v", session.Secure, tt.secure)
			}
			if strings.HasPrefix(session.Value, auth.TokenPrefix) || len(session.Value) < 40 {
				t.Errorf("session cookie value %q is not a long random token", session.Value)
			}
			csrf := cookieNamed(page, "ferry_csrf")
			if !csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || csrf.Secure != tt.secure {
				t.Errorf("CSRF cookie %s: want HttpOnly, SameSite=Strict, Secure=%v", csrf.String(), tt.secure)
			}
		})
	}
	t.Run("signing out clears the cookie", func(t *testing.T) {
		app := newTestApp(t)
		lead := app.mustAccount("lead@example.com", "Lea Lead", false)
		b := app.signedIn(lead)
		res := b.post("/signout", url.Values{})
		ck := cookieNamed(res.Header, "ferry_session")
		if ck == nil || ck.MaxAge >= 0 || ck.Value != "" {
			t.Fatalf("sign-out cookie %v, want it cleared", ck)
		}
	})
}

func TestSessionsExpire(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	b := app.signedIn(lead)
	ttl := app.Auth.SessionTTL()

	app.Clock.Advance(ttl - time.Minute)
	if res := b.get("/projects"); res.StatusCode != http.StatusOK {
		t.Fatalf("a minute before expiry: %d", res.StatusCode)
	}
	app.Clock.Advance(2 * time.Minute)
	res := b.get("/projects")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin?next=%2Fprojects" {
		t.Fatalf("after expiry: %d to %q, want 303 to sign-in", res.StatusCode, res.Header.Get("Location"))
	}
	if ck := cookieNamed(res.Header, "ferry_session"); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("the expired session cookie is not cleared: %v", ck)
	}
	// The next sign-in starts a new session.
	if res := b.post("/signin", url.Values{"email": {lead.Email}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in again: %d", res.StatusCode)
	}
	if res := b.get("/projects"); res.StatusCode != http.StatusOK {
		t.Fatalf("after signing in again: %d", res.StatusCode)
	}
}

func TestHealthCheckFollowsTheDatabase(t *testing.T) {
	app, logs := newProductionLikeApp(t, web.Options{})
	b := app.browser()
	var body map[string]string

	res := b.get("/healthz")
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(res.Body), &body) != nil || body["status"] != "ok" || body["database"] != "ok" {
		t.Fatalf("healthy: %d %s", res.StatusCode, res.Body)
	}
	if err := app.DB.Close(); err != nil {
		t.Fatal(err)
	}
	res = b.get("/healthz")
	if res.StatusCode != http.StatusServiceUnavailable || json.Unmarshal([]byte(res.Body), &body) != nil || body["status"] != "unavailable" {
		t.Fatalf("database closed: %d %s", res.StatusCode, res.Body)
	}
	if !strings.Contains(logs.String(), "health check failed") {
		t.Error("the failed health check is not logged")
	}
}

func TestInternalErrorsShowOnlyAReference(t *testing.T) {
	app, logs := newProductionLikeApp(t, web.Options{})
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	b := app.signedIn(lead)
	token := app.mustToken(lead)
	if err := app.DB.Close(); err != nil {
		t.Fatal(err)
	}

	t.Run("page", func(t *testing.T) {
		res := b.get("/projects")
		if res.StatusCode != http.StatusInternalServerError {
			t.Fatalf("status %d", res.StatusCode)
		}
		ref := res.Header.Get("X-Request-Id")
		if ref == "" {
			t.Fatal("no X-Request-Id")
		}
		doc := res.doc(t)
		if h := strings.TrimSpace(doc.Find("h1").Text()); h != "Something went wrong (reference: "+ref+")" {
			t.Fatalf("message %q", h)
		}
		main := strings.ToLower(doc.Find("main").Text())
		for _, leak := range []string{"sql", "database is closed", "gorm", "goroutine", ".go:"} {
			if strings.Contains(main, leak) {
				t.Errorf("the page shows %q", leak)
			}
		}
		wantLogged(t, logs.String(), ref)
	})
	t.Run("API", func(t *testing.T) {
		res := app.api(token, "GET", "/api/v1/projects", nil)
		if res.StatusCode != http.StatusInternalServerError {
			t.Fatalf("status %d", res.StatusCode)
		}
		var body struct {
			Error struct{ Code, Message, RequestID string } `json:"error"`
		}
		if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
			t.Fatal(err)
		}
		ref := res.Header.Get("X-Request-Id")
		if body.Error.Code != "internal" || body.Error.Message != "Something went wrong (reference: "+ref+")" || body.Error.RequestID != ref {
			t.Fatalf("error body %s", res.Body)
		}
		if strings.Contains(strings.ToLower(res.Body), "sql") {
			t.Errorf("the answer shows the cause: %s", res.Body)
		}
		wantLogged(t, logs.String(), ref)
	})
}

// wantLogged checks that the log holds the failure with its cause, under the request id.
func wantLogged(t *testing.T, logs, ref string) {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "request_id="+ref) && strings.Contains(line, `msg="request failed"`) {
			if !strings.Contains(line, "error=") || !strings.Contains(line, "closed") {
				t.Errorf("the log line lacks the cause: %s", line)
			}
			return
		}
	}
	t.Errorf("no \"request failed\" line with request_id=%s in the log:\n%s", ref, logs)
}

func TestNoPasswordTokenOrSecretReachesTheLog(t *testing.T) {
	app, logs := newProductionLikeApp(t, web.Options{})
	secret := app.Auth.NewSetupSecret()
	const (
		adminPassword = "admin secret passphrase 1"
		wrongPassword = "a mistyped passphrase 2"
		temporary     = "temporary passphrase 3"
		reset         = "reset passphrase 4"
		chosen        = "chosen passphrase 5"
	)
	var secrets []string
	keep := func(s string) string { secrets = append(secrets, s); return s }
	keep(secret)
	for _, p := range []string{adminPassword, wrongPassword, temporary, reset, chosen} {
		keep(p)
	}

	b := app.browser()
	b.get("/setup?secret=" + url.QueryEscape(secret))
	wantRedirect(t, b, b.post("/setup", url.Values{"secret": {secret}, "name": {"Ada Admin"}, "email": {"ada@example.com"}, "password": {adminPassword}}), "/projects")
	b.post("/signout", url.Values{})
	b.post("/signin", url.Values{"email": {"ada@example.com"}, "password": {wrongPassword}})
	wantRedirect(t, b, b.post("/signin", url.Values{"email": {"ada@example.com"}, "password": {adminPassword}}), "/projects")
	u, _ := url.Parse(app.HTTP.URL)
	for _, ck := range b.c.Jar.Cookies(u) {
		keep(ck.Value) // the session and CSRF tokens
	}
	wantRedirect(t, b, b.post("/accounts", url.Values{"name": {"Uma User"}, "email": {"uma@example.com"}, "password": {temporary}}), "/accounts")
	uma, err := app.Auth.FindAccountByEmail(context.Background(), "uma@example.com")
	if err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, b, b.post(fmt.Sprintf("/accounts/%d/password", uma.ID), url.Values{"password": {reset}}), "")
	asUma := app.browser()
	asUma.post("/signin", url.Values{"email": {"uma@example.com"}, "password": {reset}})
	wantRedirect(t, asUma, asUma.post("/account/password", url.Values{"current_password": {reset}, "password": {chosen}}), "/projects")

	res := b.post("/tokens", url.Values{"name": {"nightly"}})
	uiToken := keep(strings.TrimSpace(res.doc(t).Find("#new-token").Text()))
	if !strings.HasPrefix(uiToken, auth.TokenPrefix) {
		t.Fatalf("no token shown: %q", uiToken)
	}
	if res := app.api(uiToken, "GET", "/api/v1/projects", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("API with the new token: %d", res.StatusCode)
	}
	app.api(uiToken+"x", "GET", "/api/v1/projects", nil) // a wrong token is logged as a failure, not by value
	app.api("", "POST", "/api/v1/projects", `{"name": "`+adminPassword+`"`)

	// A request that fails inside may log its cause; the cause must not carry the input either.
	req, _ := http.NewRequest(http.MethodGet, app.HTTP.URL+"/projects?password="+url.QueryEscape(chosen), nil)
	req.Header.Set("Authorization", "Bearer "+uiToken)
	if res, err := http.DefaultClient.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	out := logs.String()
	if strings.Count(out, `msg=request `) < 10 || !strings.Contains(out, "component=gorm") {
		t.Fatalf("the log does not hold the requests and queries it should; the test proves nothing:\n%.2000s", out)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("the log holds a secret (%.12s…)", s)
		}
	}
	for _, marker := range []string{"$argon2", "$2a$", "$2b$"} {
		if strings.Contains(out, marker) {
			t.Errorf("the log holds a password hash (%q)", marker)
		}
	}
}

func TestSignInNextStaysOnThisSite(t *testing.T) {
	app := newTestApp(t)
	app.mustAccount("lead@example.com", "Lea Lead", false)
	tests := []struct {
		name, next, want string
	}{
		{"a page of the console", "/projects/7/people?sort=name", "/projects/7/people?sort=name"},
		{"nothing", "", "/projects"},
		{"another site", "https://evil.example/", "/projects"},
		{"a scheme without slashes", "http:evil.example", "/projects"},
		{"a protocol-relative URL", "//evil.example/x", "/projects"},
		{"a backslash after the slash", `/\evil.example`, "/projects"},
		{"a tab that browsers drop", "/\t/evil.example", "/projects"},
		{"a newline that browsers drop", "/\n/evil.example", "/projects"},
		{"a tab before a backslash", "/\t\\evil.example", "/projects"},
		{"a script URL", "javascript:alert(1)", "/projects"},
		{"a relative path", "projects", "/projects"},
	}
	base, _ := url.Parse("https://ferry.example/signin")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := app.browser()
			form := b.get("/signin?next=" + url.QueryEscape(tt.next))
			if v, _ := form.doc(t).Find("input[name=next]").Attr("value"); v != tt.want {
				t.Errorf("the form carries next=%q, want %q", v, tt.want)
			}
			res := b.post("/signin", url.Values{"email": {"lead@example.com"}, "password": {testPassword}, "next": {tt.next}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d", res.StatusCode)
			}
			loc := res.Header.Get("Location")
			if loc != tt.want {
				t.Errorf("redirected to %q, want %q", loc, tt.want)
			}
			// As a browser reads it: tabs and newlines dropped, backslashes as slashes.
			cleaned := strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(strings.TrimSpace(loc))
			if target, err := base.Parse(cleaned); err != nil || target.Host != "ferry.example" {
				t.Errorf("a browser would follow %q to %v", loc, target)
			}
		})
	}
	t.Run("a signed-in visitor is not sent off-site either", func(t *testing.T) {
		b := app.signedIn(&auth.Account{Email: "lead@example.com"})
		res := b.get("/signin?next=" + url.QueryEscape("//evil.example"))
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/projects" {
			t.Fatalf("%d to %q", res.StatusCode, res.Header.Get("Location"))
		}
	})
}
