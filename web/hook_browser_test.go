package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An engineer, in a real browser, sets up the password import hook of the
// project's org (the sandbox), copies the secret shown once, registers the
// hook in the org, has Okta test it, registers the event hook that confirms
// imports, and switches a source to LDAP bind verification.
func TestBrowserEngineerSetsUpRegistersAndTestsThePasswordHook(t *testing.T) {
	findChromium(t)
	w := newLoadWorld(t)
	w.connectSandbox(t)
	b := newChromeTab(t, w.app)
	b.signIn(w.engineer.Email)

	b.open(w.path("/settings/hook"))
	if got := b.text("#hook-none"); !strings.Contains(got, "No password import hook yet") {
		t.Fatalf("empty state: %q", got)
	}
	b.assertClean("open the hook page")
	b.replaceValue("f-budget_ms", "1800")
	b.follow("#hook-save")
	secret := b.text("#hook-secret-value")
	if len(secret) < 32 {
		t.Fatalf("the generated secret shown: %q", secret)
	}
	b.assertClean("set up the hook")
	b.open(w.path("/settings/hook"))
	if strings.Contains(b.text("main"), secret) {
		t.Fatal("the secret is shown again")
	}
	if got := b.text("#hook-status"); !strings.Contains(got, "1800 ms") || !strings.Contains(got, "…"+secret[len(secret)-4:]) {
		t.Errorf("the hook's facts: %q", got)
	}

	b.follow("#hook-register")
	if got := b.flash(); !strings.Contains(got, "registered and active") {
		t.Fatalf("after Register: %q", got)
	}
	b.follow("#hook-test-now")
	if got := b.flash(); !strings.Contains(got, "Test passed") {
		t.Fatalf("after Test: %q", got)
	}
	if got := b.text("#hook-test"); !strings.Contains(got, "Passed") {
		t.Errorf("test result on the page: %q", got)
	}
	b.follow("#hook-events-register")
	if got := b.flash(); !strings.Contains(got, "event hook is registered, verified and active") {
		t.Fatalf("after registering the event hook: %q", got)
	}
	b.assertClean("register and test")

	b.follow(chromedp.CSS("#bind-" + itoa(w.src.ID)))
	b.tick("Check this source's passwords with a bind (otherwise: the staged hash)")
	b.typeInto("f-url", "ldaps://dc1.example.com")
	b.replaceValue("f-bind_template", "uid={attr:uid},ou=people,dc=example,dc=com")
	b.follow("#bind-save")
	if got := b.flash(); !strings.Contains(got, "LDAP bind settings saved") {
		t.Fatalf("after saving the bind settings: %q", got)
	}
	b.open(w.path("/settings/hook"))
	if got := b.text("#hook-sources"); !strings.Contains(got, "A bind against ldaps://dc1.example.com") {
		t.Errorf("the sources' checks: %q", got)
	}
	b.assertClean("bind settings")
}
