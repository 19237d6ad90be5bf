package web_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/secrets"
	"github.com/ferry-migrate/ferry/static"
	"github.com/ferry-migrate/ferry/web"
)

// fakeChecker stands in for internal/okta's connection check: it answers
// what the test sets and remembers what it was asked.
type fakeChecker struct {
	mu     sync.Mutex
	result orgs.CheckResult
	err    error
	calls  []checkCall
}

type checkCall struct{ orgURL, scheme, token string }

func (f *fakeChecker) Check(_ context.Context, orgURL, scheme, token string) (orgs.CheckResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, checkCall{orgURL, scheme, token})
	return f.result, f.err
}

func (f *fakeChecker) answer(res orgs.CheckResult, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.result, f.err = res, err
}

func (f *fakeChecker) lastCall(t testing.TB) checkCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the checker was not called")
	}
	return f.calls[len(f.calls)-1]
}

// mustTestSealer seals the test apps' tokens under a fixed key.
func mustTestSealer(t testing.TB) *secrets.Sealer {
	t.Helper()
	s, err := secrets.New(bytes.Repeat([]byte{42}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// roleOktaToken is the role world's saved Okta token.
const roleOktaToken = "00roleWorldOktaToken-abcdefghijklmnopqrstu"

// seedOktaOrg connects the role world's project to an org.
func (w *roleWorld) seedOktaOrg(t testing.TB) {
	t.Helper()
	if _, err := w.app.Orgs.Save(asActor(w.lead), w.project.ID, 0, orgs.Input{OrgURL: "https://northwind.okta.com",
		AuthScheme: orgs.SchemeSSWS, Token: pval(roleOktaToken)}); err != nil {
		t.Fatal(err)
	}
}

// oktaToken is a token as Okta issues them; the tests look for it where it
// must never be.
const oktaToken = "00Zq8vK3-secretOktaToken_4b9XwLmNpQrStUv7"

func oktaHint(tok string) string { return tok[len(tok)-4:] }

// oktaWorld is a project with a lead, an engineer and a viewer, and no
// Okta org yet.
type oktaWorld struct {
	app                    *testApp
	lead, engineer, viewer *auth.Account
	p                      *plan.Project
	asLead, asViewer       *browser
}

func newOktaWorld(t *testing.T) *oktaWorld {
	t.Helper()
	app := newTestApp(t)
	w := &oktaWorld{app: app}
	w.lead = app.mustAccount("lead@example.com", "Lea Lead", false)
	w.engineer = app.mustAccount("engineer@example.com", "Eve Engineer", false)
	w.viewer = app.mustAccount("viewer@example.com", "Vic Viewer", false)
	w.p = app.mustProject(w.lead, "Acme")
	app.mustMember(w.p, w.engineer, auth.RoleEngineer)
	app.mustMember(w.p, w.viewer, auth.RoleViewer)
	w.asLead, w.asViewer = app.signedIn(w.lead), app.signedIn(w.viewer)
	return w
}

func (w *oktaWorld) page() string { return projectPath(w.p, "/settings/okta") }

// noToken fails when the secret appears in what a person or client receives.
func noToken(t testing.TB, where, body string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		if strings.Contains(body, tok) {
			t.Fatalf("%s shows the token %.6s…", where, tok)
		}
	}
}

func TestTheOktaOrgPageConnectsAnOrgAndNeverShowsItsToken(t *testing.T) {
	w := newOktaWorld(t)
	// The project's settings name an org URL: the page starts from it.
	if _, err := w.app.Plan.UpdateProject(asActor(w.lead), w.p.ID, 1, plan.ProjectInput{OktaOrgURL: pval("https://acme.okta.com")}); err != nil {
		t.Fatal(err)
	}

	// Reachable from the settings page and from the navigation.
	settings := w.asLead.get(projectPath(w.p, "/settings"))
	if settings.doc(t).Find(fmt.Sprintf(`main a[href=%q]`, w.page())).Length() == 0 {
		t.Error("the project settings page does not link the Okta org page")
	}
	if settings.doc(t).Find(fmt.Sprintf(`nav.side a[href=%q]`, w.page())).Length() == 0 {
		t.Error("the project navigation does not link the Okta org page")
	}

	res := w.asLead.get(w.page())
	if res.StatusCode != http.StatusOK || pageTitle(t, res) != "Okta org · Ferry" {
		t.Fatalf("status %d, title %q", res.StatusCode, pageTitle(t, res))
	}
	doc := res.doc(t)
	empty := doc.Find(".panel.empty")
	if got := strings.TrimSpace(empty.Find("h2").Text()); got != "No Okta org connected yet" {
		t.Fatalf("empty state %q", got)
	}
	if text := empty.Text(); !strings.Contains(text, "where this project's users are created") || !strings.Contains(text, "ferry sandbox") {
		t.Errorf("the empty state does not say what the org is for and that the sandbox can stand in: %q", text)
	}
	if v, _ := doc.Find("#f-url").Attr("value"); v != "https://acme.okta.com" {
		t.Errorf("the URL starts as %q, want the project's", v)
	}
	if doc.Find(`select[name=auth_scheme] option[value=ssws]`).Text() != "API token (SSWS)" ||
		doc.Find(`select[name=auth_scheme] option[value=bearer]`).Text() != "OAuth 2.0 access token (Bearer)" {
		t.Error("the authentication choices are not labelled as they should be")
	}
	if typ, _ := doc.Find("#f-token").Attr("type"); typ != "password" {
		t.Errorf("the token input is of type %q, want password", typ)
	}
	if doc.Find(".panel.empty form, #okta-org-status").Length() != 0 {
		t.Error("an org without a connection offers a check")
	}

	page := wantRedirect(t, w.asLead, w.asLead.post(w.page(), url.Values{"url": {"https://acme.okta.com/"}, "auth_scheme": {"ssws"},
		"token": {oktaToken}, "version": {hiddenVersion(t, res, w.page())}}), w.page())
	if got := flashText(t, page); !strings.HasPrefix(got, "Okta org connection saved.") {
		t.Errorf("flash %q", got)
	}
	noToken(t, "the page after saving", page.Body, oktaToken)
	doc = page.doc(t)
	if got := strings.TrimSpace(doc.Find("#okta-org-url").Text()); got != "https://acme.okta.com" {
		t.Errorf("URL shown %q", got)
	}
	if got := strings.TrimSpace(doc.Find("#f-token-hint").Text()); got != "A token is saved, ending in …"+oktaHint(oktaToken)+". Leave empty to keep it." {
		t.Errorf("token hint %q", got)
	}
	if _, has := doc.Find("#f-token").Attr("value"); has {
		t.Error("the token input has a value")
	}
	if got := strings.TrimSpace(doc.Find("#okta-org-check").Text()); got != "Not checked since it was saved." {
		t.Errorf("check state %q", got)
	}
	if got, err := w.app.Orgs.Token(context.Background(), w.p.ID); err != nil || got != oktaToken {
		t.Fatalf("saved token %.6q, %v", got, err)
	}

	// Saving with the token field empty keeps the token.
	page = wantRedirect(t, w.asLead, w.asLead.post(w.page(), url.Values{"url": {"https://acme.oktapreview.com"}, "auth_scheme": {"bearer"},
		"token": {""}, "version": {hiddenVersion(t, page, w.page())}}), w.page())
	if got, _ := w.app.Orgs.Token(context.Background(), w.p.ID); got != oktaToken {
		t.Fatal("an empty token field replaced the saved token")
	}
	if got := page.doc(t).Find(`select[name=auth_scheme] option[selected]`).AttrOr("value", ""); got != "bearer" {
		t.Errorf("scheme shown %q after the change", got)
	}
	// Its history is in the audit log, without the token.
	history := w.asLead.get(projectPath(w.p, "/audit?entity=okta_org"))
	if history.StatusCode != http.StatusOK || !strings.Contains(history.Body, "ending in …"+oktaHint(oktaToken)) {
		t.Errorf("the history does not show the token's end: %d", history.StatusCode)
	}
	noToken(t, "the audit page", history.Body, oktaToken)
}

func TestAFailedSaveKeepsTheFormButNeverEchoesTheTypedToken(t *testing.T) {
	w := newOktaWorld(t)
	typed := "00TypedButRefused-" + strings.Repeat("k", 30)
	tests := []struct {
		name, url, scheme, token string
		field, want              string
	}{
		{"a javascript: URL", "javascript:alert(document.cookie)", "ssws", typed, "url", "must be a full web address starting with https://"},
		{"http on a public host", "http://acme.okta.com", "ssws", typed, "url", "plain http:// is only for Ferry's sandbox"},
		{"the admin console", "https://acme-admin.okta.com", "ssws", typed, "url", "Use the org URL, without -admin: https://acme.okta.com"},
		{"a user and password", "https://me:pw@acme.okta.com", "ssws", typed, "url", "user name or password"},
		{"markup in the URL", `https://acme.okta.com/"><script>alert(1)</script>`, "ssws", typed, "url", "without a path"},
		{"an unknown scheme", "https://acme.okta.com", "basic", typed, "auth_scheme", "must be one of"},
		{"a 10 KB token", "https://acme.okta.com", "ssws", strings.Repeat("T", 10240), "token", "at most 200 characters, this has 10240"},
		{"a token with control characters", "https://acme.okta.com", "ssws", "00abc\x1b[2Jdef-0123456789", "token", "only letters, digits"},
		{"a token with unicode", "https://acme.okta.com", "ssws", "00abcdéf-0123456789ü", "token", "only letters, digits"},
		{"a token with markup", "https://acme.okta.com", "ssws", `00"><script>alert(1)</script>`, "token", "only letters, digits"},
		{"a short token", "https://acme.okta.com", "ssws", "00short", "token", "too short"},
		{"no token for a new connection", "https://acme.okta.com", "ssws", "", "token", "Enter the token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := w.asLead.post(w.page(), url.Values{"url": {tt.url}, "auth_scheme": {tt.scheme}, "token": {tt.token}, "version": {"0"}})
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %.300s", res.StatusCode, res.Body)
			}
			if got := fieldError(t, res, tt.field); !strings.Contains(got, tt.want) {
				t.Fatalf("%s error %q, want %q", tt.field, got, tt.want)
			}
			if tt.token != "" {
				noToken(t, "the re-rendered form", res.Body, tt.token)
				if res.doc(t).Find("#f-token-retype").Length() != 1 {
					t.Error("the form does not say that the typed token must be typed again")
				}
			}
			if _, has := res.doc(t).Find("#f-token").Attr("value"); has {
				t.Error("the token input has a value")
			}
			// The other fields are kept, escaped.
			if v, _ := res.doc(t).Find("#f-url").Attr("value"); v != tt.url {
				t.Errorf("URL kept as %q, want %q", v, tt.url)
			}
			if strings.Contains(res.Body, "<script>alert(1)</script>") {
				t.Error("the page holds unescaped markup")
			}
		})
	}
	if c, _ := w.app.Orgs.Find(context.Background(), w.p.ID); c != nil {
		t.Fatalf("a refused save left a connection: %+v", c)
	}
	if entries, _, _ := audit.NewReader(w.app.DB.Read).FindEntries(context.Background(), audit.Filter{ProjectID: w.p.ID, EntityType: "okta_org"}); len(entries) != 0 {
		t.Fatalf("refused saves wrote %d audit entries", len(entries))
	}
}

func TestTwoLeadsEditingTheConnectionConflictWithoutShowingTokens(t *testing.T) {
	w := newOktaWorld(t)
	other := w.app.mustAccount("lead2@example.com", "Leo Lead", false)
	w.app.mustMember(w.p, other, auth.RoleProjectLead)
	asOther := w.app.signedIn(other)
	wantRedirect(t, w.asLead, w.asLead.post(w.page(), url.Values{"url": {"https://acme.okta.com"}, "auth_scheme": {"ssws"}, "token": {oktaToken}, "version": {"0"}}), w.page())

	mine, theirs := w.asLead.get(w.page()), asOther.get(w.page())
	secondToken := "00SecondLeadsToken-" + strings.Repeat("z", 20)
	wantRedirect(t, asOther, asOther.post(w.page(), url.Values{"url": {"https://acme.oktapreview.com"}, "auth_scheme": {"ssws"},
		"token": {secondToken}, "version": {hiddenVersion(t, theirs, w.page())}}), w.page())
	myToken := "00FirstLeadsNewToken-" + strings.Repeat("y", 20)
	res := w.asLead.post(w.page(), url.Values{"url": {"https://acme2.okta.com"}, "auth_scheme": {"ssws"}, "token": {myToken},
		"version": {hiddenVersion(t, mine, w.page())}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(formMessage(t, res), "Someone else saved this Okta org connection") {
		t.Fatalf("status %d, message %q", res.StatusCode, formMessage(t, res))
	}
	noToken(t, "the conflict page", res.Body, oktaToken, secondToken, myToken)
	conflict := res.doc(t).Find(".conflict table").Text()
	if !strings.Contains(conflict, "https://acme.oktapreview.com") || !strings.Contains(conflict, "https://acme2.okta.com") ||
		!strings.Contains(conflict, "ending in …"+oktaHint(secondToken)) {
		t.Errorf("the conflict does not say what differs: %q", conflict)
	}
	if v := hiddenVersion(t, res, w.page()); v != "2" {
		t.Errorf("version after the conflict %q, want 2 (saving again overwrites)", v)
	}

	// Removed meanwhile: saving again connects anew.
	if err := w.app.Orgs.Clear(asActor(other), w.p.ID); err != nil {
		t.Fatal(err)
	}
	res = w.asLead.post(w.page(), url.Values{"url": {"https://acme2.okta.com"}, "auth_scheme": {"ssws"}, "token": {myToken}, "version": {"2"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(formMessage(t, res), "removed") || hiddenVersion(t, res, w.page()) != "0" {
		t.Fatalf("after a removal: %d %q", res.StatusCode, formMessage(t, res))
	}
	wantRedirect(t, w.asLead, w.asLead.post(w.page(), url.Values{"url": {"https://acme2.okta.com"}, "auth_scheme": {"ssws"}, "token": {myToken}, "version": {"0"}}), w.page())
}

func TestViewersSeeTheURLAndWhetherATokenIsSetNeverMore(t *testing.T) {
	w := newOktaWorld(t)
	if res := w.asViewer.get(w.page()); res.StatusCode != http.StatusOK || res.doc(t).Find("form[action$='/settings/okta']").Length() != 0 {
		t.Fatalf("a viewer's empty page: %d, or it has the form", res.StatusCode)
	}
	if _, err := w.app.Orgs.Save(asActor(w.lead), w.p.ID, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: pval(oktaToken)}); err != nil {
		t.Fatal(err)
	}
	res := w.asViewer.get(w.page())
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	doc := res.doc(t)
	if got := strings.TrimSpace(doc.Find("#okta-org-url").Text()); got != "https://acme.okta.com" {
		t.Errorf("URL %q", got)
	}
	if got := strings.TrimSpace(doc.Find("#okta-org-token").Text()); got != "A token is saved." {
		t.Errorf("token line %q", got)
	}
	noToken(t, "a viewer's page", res.Body, oktaToken, "…"+oktaHint(oktaToken))
	if n := doc.Find("input[name=token], input[name=url], button[type=submit]:not(.link), a[href$='/remove']").Length(); n != 0 {
		t.Errorf("a viewer is offered %d controls to change the connection", n)
	}
	for _, path := range []string{"", "/check", "/remove"} {
		if res := w.asViewer.post(w.page()+path, url.Values{"url": {"https://evil.okta.com"}, "auth_scheme": {"ssws"}, "version": {"1"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("a viewer's POST %s: %d, want 403", path, res.StatusCode)
		}
	}
	if res := w.asViewer.get(w.page() + "/remove"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's remove page: %d", res.StatusCode)
	}
}

func TestTheConnectionCheckCallsTheCheckerAndShowsWhatItFound(t *testing.T) {
	w := newOktaWorld(t)
	check := w.page() + "/check"
	// Nothing to check yet.
	page := wantRedirect(t, w.asLead, w.asLead.post(check, url.Values{}), w.page())
	if got := flashText(t, page); !strings.Contains(got, "Connect the Okta org before checking") {
		t.Errorf("flash %q", got)
	}
	if _, err := w.app.Orgs.Save(asActor(w.lead), w.p.ID, 0, orgs.Input{OrgURL: "http://127.0.0.1:8089", AuthScheme: orgs.SchemeSSWS, Token: pval(oktaToken)}); err != nil {
		t.Fatal(err)
	}

	// The sandbox answers.
	w.app.Checker.answer(orgs.CheckResult{OK: true, Sandbox: true, Message: "Ferry sandbox 1.0, 12 users."}, nil)
	page = wantRedirect(t, w.asLead, w.asLead.post(check, url.Values{}), w.page())
	if call := w.app.Checker.lastCall(t); call != (checkCall{"http://127.0.0.1:8089", "ssws", oktaToken}) {
		t.Fatalf("the checker was asked %+v", call)
	}
	if got := flashText(t, page); got != "Connected to Ferry's sandbox. Ferry sandbox 1.0, 12 users." {
		t.Errorf("flash %q", got)
	}
	doc := page.doc(t)
	if !strings.Contains(doc.Find("#okta-org-status h2 .badge").Text(), "Ferry's sandbox") ||
		!strings.Contains(doc.Find("#okta-org-check").Text(), "Connected") {
		t.Errorf("the page does not show the sandbox check: %q", doc.Find("#okta-org-status").Text())
	}
	if c, _ := w.app.Orgs.Find(context.Background(), w.p.ID); !c.Sandbox || !c.CheckOK {
		t.Fatalf("not recorded: %+v", c)
	}

	// A failure is shown with its message; the sandbox mark goes. A checker
	// that quotes the token does not get it shown or stored.
	w.app.Checker.answer(orgs.CheckResult{OK: false, Sandbox: true, Message: "Okta answered 401: Invalid token provided (" + oktaToken + ")"}, nil)
	page = wantRedirect(t, w.asLead, w.asLead.post(check, url.Values{}), w.page())
	if got := strings.TrimSpace(page.doc(t).Find("div.flash.error").Text()); got != "The connection check failed: Okta answered 401: Invalid token provided ([token])" {
		t.Errorf("flash %q", got)
	}
	noToken(t, "the page after a failed check", page.Body, oktaToken)
	if !strings.Contains(page.doc(t).Find("#okta-org-check").Text(), "Failed") || page.doc(t).Find("#okta-org-status h2 .badge").Length() != 0 {
		t.Errorf("the page does not show the failure: %q", page.doc(t).Find("#okta-org-status").Text())
	}

	// A checker error (the org does not answer) is a failed check too.
	w.app.Checker.answer(orgs.CheckResult{}, errors.New("dial tcp 127.0.0.1:8089: connection refused"))
	page = wantRedirect(t, w.asLead, w.asLead.post(check, url.Values{}), w.page())
	if got := strings.TrimSpace(page.doc(t).Find("div.flash.error").Text()); !strings.Contains(got, "connection refused") {
		t.Errorf("flash %q", got)
	}

	// A token sealed with another key: a clear message, no call.
	calls := len(w.app.Checker.calls)
	other, err := secrets.New(bytes.Repeat([]byte{9}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := w.app.Orgs.Find(context.Background(), w.p.ID)
	if _, err := orgs.NewService(w.app.DB, other, nil).Save(asActor(w.lead), w.p.ID, c.Version, orgs.Input{OrgURL: c.OrgURL, AuthScheme: c.AuthScheme,
		Token: pval("00sealed-elsewhere-0123456789")}); err != nil {
		t.Fatal(err)
	}
	page = wantRedirect(t, w.asLead, w.asLead.post(check, url.Values{}), w.page())
	if got := strings.TrimSpace(page.doc(t).Find("div.flash.error").Text()); !strings.Contains(got, "sealed with another secret key") {
		t.Errorf("flash %q", got)
	}
	if len(w.app.Checker.calls) != calls {
		t.Error("the checker was called with a token that could not be opened")
	}
}

func TestWithoutACheckerTheCheckSaysItIsNotAvailableYet(t *testing.T) {
	app := newTestApp(t)
	assets, err := static.New("/static")
	if err != nil {
		t.Fatal(err)
	}
	// The same services, without a checker.
	srv := web.New(web.Services{Auth: app.Auth, Plan: app.Plan, Audit: audit.NewReader(app.DB.Read), Health: app.DB, Schema: app.Schema,
		Mapping: app.Map, Privacy: app.Priv, Staging: app.Staging, Quality: app.Quality, Jobs: app.Jobs, Orgs: app.Orgs},
		assets, slog.New(slog.DiscardHandler), web.Options{DataDir: t.TempDir()})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	bare := *app
	bare.Server, bare.HTTP = srv, hs
	lead := bare.mustAccount("lead@example.com", "Lea Lead", false)
	p := bare.mustProject(lead, "Acme")
	if _, err := bare.Orgs.Save(asActor(lead), p.ID, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: pval(oktaToken)}); err != nil {
		t.Fatal(err)
	}
	b := bare.signedIn(lead)
	res := b.get(projectPath(p, "/settings/okta"))
	doc := res.doc(t)
	button := doc.Find(`form[action$='/settings/okta/check'] button[type=submit]`)
	if _, disabled := button.Attr("disabled"); !disabled || !strings.Contains(doc.Find("#okta-check-unavailable").Text(), "not available yet") {
		t.Fatalf("the check button: %q disabled=%v", button.Text(), disabled)
	}
	page := wantRedirect(t, b, b.post(projectPath(p, "/settings/okta/check"), url.Values{}), projectPath(p, "/settings/okta"))
	if got := flashText(t, page); !strings.Contains(got, "not available yet") {
		t.Errorf("flash %q", got)
	}
}

func TestRemovingTheConnectionNamesWhatGoesAndDeletesTheToken(t *testing.T) {
	w := newOktaWorld(t)
	remove := w.page() + "/remove"
	page := wantRedirect(t, w.asLead, w.asLead.get(remove), w.page())
	if got := flashText(t, page); !strings.Contains(got, "nothing to remove") {
		t.Errorf("flash %q", got)
	}
	if _, err := w.app.Orgs.Save(asActor(w.lead), w.p.ID, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: pval(oktaToken)}); err != nil {
		t.Fatal(err)
	}
	res := w.asLead.get(remove)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	text := res.doc(t).Find("main").Text()
	if !strings.Contains(text, "https://acme.okta.com") || !strings.Contains(text, "token ending in …"+oktaHint(oktaToken)) {
		t.Errorf("the confirmation does not name what is removed: %q", text)
	}
	noToken(t, "the confirmation", res.Body, oktaToken)
	page = wantRedirect(t, w.asLead, w.asLead.post(remove, url.Values{}), w.page())
	if got := flashText(t, page); got != "Okta org connection removed; its token is deleted." {
		t.Errorf("flash %q", got)
	}
	var n int64
	if err := w.app.DB.Read.Raw("SELECT COUNT(*) FROM okta_orgs").Scan(&n).Error; err != nil || n != 0 {
		t.Fatalf("%d connection(s) left (%v)", n, err)
	}
	if res := w.asLead.post(remove, url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("removing twice: %d, want 404", res.StatusCode)
	}
}

type oktaOrgAPI struct {
	URL          string  `json:"url"`
	AuthScheme   string  `json:"authScheme"`
	TokenSet     bool    `json:"tokenSet"`
	TokenHint    string  `json:"tokenHint"`
	Sandbox      bool    `json:"sandbox"`
	CheckedAt    *string `json:"checkedAt"`
	CheckOK      bool    `json:"checkOk"`
	CheckMessage string  `json:"checkMessage"`
	Version      int64   `json:"version"`
}

func TestTheOktaOrgAPINeverAnswersTheToken(t *testing.T) {
	w := newOktaWorld(t)
	app := w.app
	outsider := app.mustAccount("outsider@example.com", "Otto Outsider", false)
	leadTok, viewerTok, engTok, outTok := app.mustToken(w.lead), app.mustToken(w.viewer), app.mustToken(w.engineer), app.mustToken(outsider)
	path := fmt.Sprintf("/api/v1/projects/%d/okta", w.p.ID)

	if got := apiDecode[oktaOrgAPI](t, app.api(leadTok, "GET", path, nil), 200); got != (oktaOrgAPI{}) {
		t.Fatalf("no connection: %+v, want the zero connection (version 0)", got)
	}
	created := apiDecode[oktaOrgAPI](t, app.api(leadTok, "PUT", path, map[string]any{"version": 0, "url": "https://Acme.okta.com/",
		"authScheme": "ssws", "token": oktaToken}), 200)
	if created.URL != "https://acme.okta.com" || !created.TokenSet || created.TokenHint != oktaHint(oktaToken) || created.Version != 1 || created.CheckedAt != nil {
		t.Fatalf("created %+v", created)
	}
	// Viewers read the URL and whether a token is set; not its end.
	if got := apiDecode[oktaOrgAPI](t, app.api(viewerTok, "GET", path, nil), 200); got.URL != created.URL || !got.TokenSet || got.TokenHint != "" {
		t.Fatalf("a viewer reads %+v", got)
	}
	// A PUT without a token keeps it.
	updated := apiDecode[oktaOrgAPI](t, app.api(leadTok, "PUT", path, map[string]any{"version": 1, "url": "https://acme.okta.com", "authScheme": "bearer"}), 200)
	if updated.Version != 2 || updated.AuthScheme != "bearer" || updated.TokenHint != oktaHint(oktaToken) {
		t.Fatalf("updated %+v", updated)
	}

	newTok := "00ApiNewToken-" + strings.Repeat("n", 20)
	e := apiWantError(t, app.api(leadTok, "PUT", path, map[string]any{"version": 1, "url": "https://other.okta.com", "authScheme": "ssws", "token": newTok}), 409, "conflict")
	if e.CurrentVersion != 2 || len(e.Changes) != 3 {
		t.Errorf("conflict %+v", e)
	}
	for _, tt := range []struct {
		name  string
		body  any
		field string
		want  string
	}{
		{"no version", map[string]any{"url": "https://acme.okta.com", "authScheme": "ssws"}, "version", "version is required"},
		{"no url", map[string]any{"version": 2, "authScheme": "ssws"}, "url", "is required"},
		{"a javascript: url", map[string]any{"version": 2, "url": "javascript:alert(1)", "authScheme": "ssws"}, "url", "https://"},
		{"http on a public host", map[string]any{"version": 2, "url": "http://acme.okta.com", "authScheme": "ssws"}, "url", "sandbox"},
		{"the admin URL", map[string]any{"version": 2, "url": "https://acme-admin.okta.com", "authScheme": "ssws"}, "url", "without -admin"},
		{"no scheme", map[string]any{"version": 2, "url": "https://acme.okta.com"}, "authScheme", "must be one of"},
		{"an empty token", map[string]any{"version": 2, "url": "https://acme.okta.com", "authScheme": "ssws", "token": ""}, "token", "must not be empty"},
		{"a 10 KB token", map[string]any{"version": 2, "url": "https://acme.okta.com", "authScheme": "ssws", "token": strings.Repeat("x", 10240)}, "token", "at most 200"},
		{"a token with control characters", map[string]any{"version": 2, "url": "https://acme.okta.com", "authScheme": "ssws", "token": "00abc\u0000def0123456"}, "token", "only letters, digits"},
		{"a token in unicode", map[string]any{"version": 2, "url": "https://acme.okta.com", "authScheme": "ssws", "token": "00ünïcödé-token-123"}, "token", "only letters, digits"},
		{"a token that is not a string", map[string]any{"version": 2, "url": "https://acme.okta.com", "authScheme": "ssws", "token": 12345678901}, "token", "must be a string"},
		{"an unknown field", map[string]any{"version": 2, "url": "https://acme.okta.com", "authScheme": "ssws", "sandbox": true}, "sandbox", "Unknown field"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := app.api(leadTok, "PUT", path, tt.body)
			apiWantField(t, res, tt.field, tt.want)
			if b, ok := tt.body.(map[string]any); ok {
				if tok, ok := b["token"].(string); ok && len(tok) > 8 {
					noToken(t, "the error answer", res.Body, tok)
				}
			}
		})
	}
	// Only the project lead writes; members who may not, 403; others, 404; no token, 401.
	apiWantError(t, app.api(viewerTok, "PUT", path, map[string]any{"version": 2, "url": "https://evil.okta.com", "authScheme": "ssws"}), 403, "forbidden")
	apiWantError(t, app.api(engTok, "DELETE", path, nil), 403, "forbidden")
	apiWantError(t, app.api(outTok, "GET", path, nil), 404, "not_found")
	apiWantError(t, app.api("", "GET", path, nil), 401, "unauthorized")
	apiWantError(t, app.api(leadTok, "GET", "/api/v1/projects/999999/okta", nil), 404, "not_found")

	for _, res := range []response{app.api(leadTok, "GET", path, nil), app.api(viewerTok, "GET", path, nil)} {
		noToken(t, "a GET answer", res.Body, oktaToken)
	}
	if res := app.api(leadTok, "DELETE", path, nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %d %s", res.StatusCode, res.Body)
	}
	apiWantError(t, app.api(leadTok, "DELETE", path, nil), 404, "not_found")
	if got := apiDecode[oktaOrgAPI](t, app.api(leadTok, "GET", path, nil), 200); got.Version != 0 || got.TokenSet {
		t.Fatalf("after the delete: %+v", got)
	}
	// Nothing on the way kept the token where it could be read.
	var sealed string
	for _, table := range []string{"okta_orgs", "audit_entries"} {
		var rows []map[string]any
		if err := app.DB.Read.Raw("SELECT * FROM " + table).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		sealed += fmt.Sprint(rows)
	}
	noToken(t, "the database", sealed, oktaToken, newTok)
}

func TestNoOktaTokenReachesTheLog(t *testing.T) {
	app, logs := newProductionLikeApp(t, web.Options{})
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	p := app.mustProject(lead, "Acme")
	b := app.signedIn(lead)
	page := projectPath(p, "/settings/okta")
	formToken, apiToken, badToken := "00FormOktaToken-"+strings.Repeat("f", 20), "00ApiOktaToken-"+strings.Repeat("a", 20), "00Bad Token-"+strings.Repeat("b", 20)
	wantRedirect(t, b, b.post(page, url.Values{"url": {"https://acme.okta.com"}, "auth_scheme": {"ssws"}, "token": {formToken}, "version": {"0"}}), page)
	b.post(page, url.Values{"url": {"http://acme.okta.com"}, "auth_scheme": {"ssws"}, "token": {badToken}, "version": {"1"}})
	app.Checker.answer(orgs.CheckResult{}, errors.New("okta: 401 for token "+formToken))
	b.post(page+"/check", url.Values{})
	tok := app.mustToken(lead)
	if res := app.api(tok, "PUT", fmt.Sprintf("/api/v1/projects/%d/okta", p.ID), map[string]any{"version": 1, "url": "https://acme.okta.com",
		"authScheme": "ssws", "token": apiToken}); res.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %d %s", res.StatusCode, res.Body)
	}
	out := logs.String()
	if !strings.Contains(out, "okta org check failed") || !strings.Contains(out, "component=gorm") {
		t.Fatalf("the log does not hold the requests and queries it should; the test proves nothing:\n%.2000s", out)
	}
	noToken(t, "the log", out, formToken, apiToken, badToken, "ferry-sealed-v1")
}
