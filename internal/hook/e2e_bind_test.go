package hook_test

import (
	"net/http"
	"testing"

	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/oktasim"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract/ldaptest"
)

// People sign in at Okta (the sandbox) with their directory password, and
// Ferry checks it with a bind against the real slapd. When the directory is
// down, or too slow to answer within the hook's budget, the sign-in fails
// but nothing is imported and nobody is told the password is wrong: once
// the directory answers again, the same person signs in with the same
// password.
func TestSignInThroughTheSandboxIsCheckedAgainstTheDirectory(t *testing.T) {
	const token = "sandbox-token-0123456789"
	simServer, _ := oktasim.NewTestServer(t, oktasim.Options{Token: token})
	sim := &sandbox{t: t, url: simServer.URL, token: token}
	directory := ldaptest.Start(t, ldaptest.Options{LDIF: bindPeople})
	w := newBindWorld(t, []user{{uid: "ann", email: "ann@example.com"}, {uid: "bob", email: "bob@example.com"}},
		worldOptions{orgURL: simServer.URL, budget: 1000}, hook.BindInput{URL: directory.URL, BindTemplate: peopleTemplate})

	status, hk := sim.do("POST", "/api/v1/inlineHooks", map[string]any{"name": "Ferry legacy passwords", "type": hook.EventType, "version": "1.0.0",
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{"uri": w.http.URL + w.config.Path(), "method": "POST",
			"authScheme": map[string]string{"type": "HEADER", "key": w.config.HeaderName, "value": w.secret}}}})
	if status != http.StatusOK {
		t.Fatalf("register the hook: %d %v", status, hk)
	}
	ids := map[string]string{}
	for _, login := range []string{"ann@example.com", "bob@example.com"} {
		status, u := sim.do("POST", "/api/v1/users?activate=true", map[string]any{
			"profile":     map[string]string{"login": login, "email": login, "firstName": "F", "lastName": "L"},
			"credentials": map[string]any{"password": map[string]any{"hook": map[string]string{"type": "default"}}}})
		if status != http.StatusOK {
			t.Fatalf("create %s: %d %v", login, status, u)
		}
		ids[login] = u["id"].(string)
	}
	provider := func(login string) any {
		_, got := sim.do("GET", "/api/v1/users/"+ids[login], nil)
		p, _ := got["credentials"].(map[string]any)["provider"].(map[string]any)
		return p["type"]
	}

	if status, _ := sim.signIn("ann@example.com", wrongPassword); status != http.StatusUnauthorized {
		t.Fatalf("a wrong directory password signed in: %d", status)
	}
	if a := w.lastAttempt(); a.Cause != hook.CauseWrongPassword {
		t.Fatalf("recorded %s/%s", a.Outcome, a.Cause)
	}
	if status, body := sim.signIn("Ann@Example.com", rightPassword); status != http.StatusOK || body["status"] != "SUCCESS" {
		t.Fatalf("the directory password: %d %v", status, body)
	}
	if p := provider("ann@example.com"); p != "OKTA" {
		t.Fatalf("ann's provider after the import: %v", p)
	}

	// The directory is down: the sign-in fails, Okta imports nothing.
	directory.Stop()
	if status, _ := sim.signIn("bob@example.com", rightPassword); status != http.StatusUnauthorized {
		t.Fatalf("with the directory down: %d", status)
	}
	if a := w.lastAttempt(); a.Outcome != hook.OutcomeError || a.Cause != hook.CauseLegacyUnreachable {
		t.Fatalf("recorded %s/%s, want error/legacy_unreachable", a.Outcome, a.Cause)
	}
	if p := provider("bob@example.com"); p != "IMPORT" {
		t.Fatalf("bob's provider with the directory down: %v", p)
	}

	// Too slow: a directory that accepts and never answers.
	silent := startCounter(t, "")
	w.rebind(hook.BindInput{URL: silent.url(), BindTemplate: peopleTemplate, TimeoutMS: 2500})
	if status, _ := sim.signIn("bob@example.com", rightPassword); status != http.StatusUnauthorized {
		t.Fatalf("with a silent directory: %d", status)
	}
	if a := w.lastAttempt(); a.Outcome != hook.OutcomeError || (a.Cause != hook.CauseLegacyUnreachable && a.Cause != hook.CauseTimeout) {
		t.Fatalf("recorded %s/%s, want an error Ferry could not check", a.Outcome, a.Cause)
	}

	// The directory is back (at a new address): bob signs in, imported now.
	back := ldaptest.Start(t, ldaptest.Options{LDIF: bindPeople})
	w.rebind(hook.BindInput{URL: back.URL, BindTemplate: peopleTemplate})
	if status, body := sim.signIn("bob@example.com", rightPassword); status != http.StatusOK || body["status"] != "SUCCESS" {
		t.Fatalf("once the directory answers again: %d %v", status, body)
	}
	if p := provider("bob@example.com"); p != "OKTA" {
		t.Fatalf("bob's provider after the import: %v", p)
	}
	w.noSecretsStored(rightPassword, wrongPassword, "uid=ann,", "uid=bob,")
}

// rebind points the source's bind settings at another directory.
func (w *bindWorld) rebind(in hook.BindInput) {
	w.t.Helper()
	in.Enabled = true
	s, err := w.svc.SaveBindSettings(w.ctx, w.project.ID, w.source.ID, w.settings.Version, in)
	if err != nil {
		w.t.Fatal(err)
	}
	w.settings = s
}
