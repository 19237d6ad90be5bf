package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ferry-migrate/ferry/internal/orgs"
)

// A project lead connects the project's Okta org in a real browser: a
// mistaken admin URL is refused next to the field without the typed token
// coming back, the connection is saved, checked (Ferry's sandbox answers)
// and removed after a confirmation that names what goes.
func TestBrowserLeadConnectsChecksAndRemovesTheOktaOrg(t *testing.T) {
	findChromium(t)
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lena Lead", false)
	p := app.mustProject(lead, "Acme")
	b := newChromeTab(t, app)
	b.signIn(lead.Email)

	b.open(projectPath(p, "/settings"))
	b.follow(`main a.btn[href$="/settings/okta"]`)
	if got := b.text(".panel.empty h2"); got != "No Okta org connected yet" {
		t.Fatalf("empty state %q", got)
	}
	b.typeInto("f-url", "https://acme-admin.okta.com")
	b.typeInto("f-token", oktaToken)
	// The refusal answers 422, which the browser logs; anything else is a problem.
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	res, err := chromedp.RunResponse(ctx, chromedp.Click(`main form button.primary[type="submit"]`))
	cancel()
	if err != nil || res.Status != 422 {
		t.Fatalf("a refused save: %v %v, want 422", res, err)
	}
	for _, p := range b.takeProblems() {
		if !strings.Contains(p, "status of 422") {
			t.Errorf("the refused save reported: %s", p)
		}
	}
	if got := b.text("#f-url-error"); !strings.Contains(got, "https://acme.okta.com") {
		t.Errorf("URL error %q", got)
	}
	if got := run(b, "read the token input", chromedp.Value(chromedp.ID("f-token"))); got != "" {
		t.Fatal("the token came back into the form")
	}
	if html := run(b, "read the page", chromedp.Evaluate[string]("document.documentElement.outerHTML")); strings.Contains(html, oktaToken) {
		t.Fatal("the page holds the typed token")
	}
	b.assertClean("a refused save")

	b.do("clear the URL", chromedp.Clear(chromedp.ID("f-url")))
	b.typeInto("f-url", "http://localhost:8089")
	b.typeInto("f-token", oktaToken)
	b.follow(`main form button.primary[type="submit"]`)
	if got := b.flash(); !strings.HasPrefix(got, "Okta org connection saved.") {
		t.Errorf("flash %q", got)
	}
	if got := b.text("#f-token-hint"); !strings.Contains(got, "ending in …"+oktaHint(oktaToken)) {
		t.Errorf("token hint %q", got)
	}

	app.Checker.answer(orgs.CheckResult{OK: true, Sandbox: true, Message: "Ferry sandbox answered."}, nil)
	b.follow(`form[action$="/settings/okta/check"] button[type="submit"]`)
	if got := b.flash(); !strings.HasPrefix(got, "Connected to Ferry's sandbox.") {
		t.Errorf("flash after the check %q", got)
	}
	if got := b.text("#okta-org-status h2"); !strings.Contains(got, "Ferry's sandbox") {
		t.Errorf("status heading %q", got)
	}
	b.assertClean("save and check")

	b.follow(`a.btn.danger[href$="/settings/okta/remove"]`)
	if got := b.text("main ul"); !strings.Contains(got, "http://localhost:8089") || !strings.Contains(got, "…"+oktaHint(oktaToken)) {
		t.Errorf("the confirmation names %q", got)
	}
	b.follow(`main form button.danger[type="submit"]`)
	if got := b.flash(); got != "Okta org connection removed; its token is deleted." {
		t.Errorf("flash after removing %q", got)
	}
	b.assertClean("remove")
}
