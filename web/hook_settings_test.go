package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// seedHook sets up the password import hook of the role world's org.
func (w *roleWorld) seedHook(t testing.TB) {
	t.Helper()
	if _, _, err := w.app.Hook.SaveConfig(asActor(w.lead), w.project.ID, 0, hook.ConfigInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Hook.SaveBindSettings(asActor(w.lead), w.project.ID, w.source.ID, 0, hook.BindInput{URL: "ldap://127.0.0.1:389", BindTemplate: "{dn}"}); err != nil {
		t.Fatal(err)
	}
}

// shownSecret finds the secret the page shows once.
var shownSecret = regexp.MustCompile(`id="hook-secret-value">([^<]+)<`)

func TestHookSettingsPageGuidesSetUpAndShowsTheSecretOnce(t *testing.T) {
	w := newLoadWorld(t)
	eng := w.app.signedIn(w.engineer)
	page := "/projects/" + itoa(w.p.ID) + "/settings/hook"

	// No org yet: the page says what to do first.
	res := eng.get(page)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Connect the Okta org first") {
		t.Fatalf("without an org: %d %s", res.StatusCode, res.Body)
	}
	w.connectSandbox(t)
	res = eng.get(page)
	if !strings.Contains(res.Body, "No password import hook yet") {
		t.Fatalf("without a hook the page should say so: %s", res.Body)
	}

	// Set up with a generated secret: shown on this answer only.
	res = eng.post(page, url.Values{"header_name": {"Authorization"}, "budget_ms": {"1500"}, "secret_choice": {"generate"}, "version": {"0"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("set up: %d %s", res.StatusCode, res.Body)
	}
	m := shownSecret.FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("the generated secret is not shown: %s", res.Body)
	}
	secret := m[1]
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("a page with the secret must not be cached: Cache-Control %q", got)
	}
	cfg, err := w.app.Hook.FindConfig(context.Background(), w.p.ID)
	if err != nil || cfg == nil {
		t.Fatalf("hook not saved: %v", err)
	}
	if cfg.BudgetMS != 1500 || !strings.HasSuffix(secret, cfg.SecretHint) {
		t.Errorf("saved %+v; secret ends %q", cfg, secret[len(secret)-4:])
	}
	res = eng.get(page)
	if strings.Contains(res.Body, secret) {
		t.Fatal("the secret is shown again after the first answer")
	}
	for _, want := range []string{cfg.Path(), "…" + cfg.SecretHint, "Enter the settings in Okta by hand", "&lt;the shared secret&gt;", "Not by Ferry"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the page misses %q", want)
		}
	}

	// A viewer sees the hook but no form and no actions.
	viewer := w.app.signedIn(w.viewer).get(page)
	if viewer.StatusCode != http.StatusOK || strings.Contains(viewer.Body, `name="header_name"`) || strings.Contains(viewer.Body, "Register in Okta") {
		t.Errorf("viewer page: %d, has form or actions", viewer.StatusCode)
	}
}

func TestHookSettingsRefuseBadInputAndKeepTheSavedHook(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	eng := w.app.signedIn(w.engineer)
	page := "/projects/" + itoa(w.p.ID) + "/settings/hook"
	if res := eng.post(page, url.Values{"header_name": {"Authorization"}, "budget_ms": {"2000"}, "secret_choice": {"generate"}, "version": {"0"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("set up: %d", res.StatusCode)
	}
	before, _ := w.app.Hook.FindConfig(context.Background(), w.p.ID)
	typed := "short\u00e9secret"
	cases := []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"budget too long for Okta", url.Values{"header_name": {"Authorization"}, "budget_ms": {"3000"}, "secret_choice": {"keep"}, "version": {"1"}}, 422, "between 200 and 2500"},
		{"budget not a number", url.Values{"header_name": {"Authorization"}, "budget_ms": {"1e3; DROP"}, "secret_choice": {"keep"}, "version": {"1"}}, 422, "whole number"},
		{"header with a line break", url.Values{"header_name": {"X-Evil\r\nSet-Cookie: a=b"}, "budget_ms": {"1500"}, "secret_choice": {"keep"}, "version": {"1"}}, 422, ""},
		{"secret too short, with an accent", url.Values{"header_name": {"Authorization"}, "budget_ms": {"1500"}, "secret_choice": {"manual"}, "secret": {typed}, "version": {"1"}}, 422, ""},
		{"manual secret missing", url.Values{"header_name": {"Authorization"}, "budget_ms": {"1500"}, "secret_choice": {"manual"}, "version": {"1"}}, 422, "Type the shared secret"},
		{"unknown secret choice", url.Values{"header_name": {"Authorization"}, "budget_ms": {"1500"}, "secret_choice": {"steal"}, "version": {"1"}}, 422, "Choose what to do"},
		{"stale version", url.Values{"header_name": {"X-Ferry-Secret"}, "budget_ms": {"1500"}, "secret_choice": {"keep"}, "version": {"0"}}, 409, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := eng.post(page, tc.form)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, res.Body)
			}
			if tc.says != "" && !strings.Contains(res.Body, tc.says) {
				t.Errorf("the answer does not say %q", tc.says)
			}
			if strings.Contains(res.Body, typed) {
				t.Error("a typed secret came back to the browser")
			}
		})
	}
	after, _ := w.app.Hook.FindConfig(context.Background(), w.p.ID)
	if after.Version != before.Version || after.SecretSealed != before.SecretSealed || after.HeaderName != before.HeaderName || after.BudgetMS != before.BudgetMS {
		t.Errorf("a refused form changed the hook: %+v → %+v", before, after)
	}
}

func TestEngineerRegistersTheHookInTheSandboxAndRenewsItAfterARotation(t *testing.T) {
	w := newLoadWorld(t)
	sim := w.connectSandbox(t)
	eng := w.app.signedIn(w.engineer)
	page := "/projects/" + itoa(w.p.ID) + "/settings/hook"
	if res := eng.post(page, url.Values{"header_name": {"Authorization"}, "budget_ms": {"2000"}, "secret_choice": {"generate"}, "version": {"0"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("set up: %d", res.StatusCode)
	}
	res := eng.post(page+"/register", url.Values{})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d %s", res.StatusCode, res.Body)
	}
	reg, err := w.app.Hook.FindRegistration(context.Background(), w.p.ID)
	if err != nil || reg == nil || reg.OktaHookID == "" || reg.RegisteredAt == nil {
		t.Fatalf("registration not recorded: %+v %v", reg, err)
	}
	client, err := okta.New(okta.Config{OrgURL: w.simURL, APIToken: loadSandboxToken})
	if err != nil {
		t.Fatal(err)
	}
	hooks, _, err := client.ListInlineHooks(context.Background(), okta.InlineHookTypePasswordImport)
	if err != nil || len(hooks) != 1 || hooks[0].ID != reg.OktaHookID || hooks[0].Status != okta.InlineHookStatusActive {
		t.Fatalf("the sandbox holds %+v (%v)", hooks, err)
	}
	cfg, _ := w.app.Hook.FindConfig(context.Background(), w.p.ID)
	if hooks[0].Channel.Config == nil || !strings.HasSuffix(hooks[0].Channel.Config.URI, cfg.Path()) {
		t.Fatalf("the registered hook calls %+v", hooks[0].Channel.Config)
	}

	// A new secret: the page warns that Okta still has the old one, and
	// registering again replaces the channel of the same hook (no second
	// hook, no moment without one).
	w.app.Clock.Advance(time.Second) // PostgreSQL keeps microseconds
	if res := eng.post(page, url.Values{"header_name": {"Authorization"}, "budget_ms": {"2000"}, "secret_choice": {"generate"}, "version": {itoa(cfg.Version)}}); res.StatusCode != http.StatusOK {
		t.Fatalf("rotate: %d", res.StatusCode)
	}
	if body := eng.get(page).Body; !strings.Contains(body, "Okta still sends the old secret") {
		t.Error("the page does not warn that the registration is stale")
	}
	if res := eng.post(page+"/register", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("register again: %d", res.StatusCode)
	}
	again, _ := w.app.Hook.FindRegistration(context.Background(), w.p.ID)
	if again.OktaHookID != reg.OktaHookID {
		t.Errorf("registering again made another hook: %s then %s", reg.OktaHookID, again.OktaHookID)
	}
	if n := len(sim.InlineHookSecrets()); n != 1 {
		t.Fatalf("the sandbox has %d hooks", n)
	}
	cfg, _ = w.app.Hook.FindConfig(context.Background(), w.p.ID)
	for _, secret := range sim.InlineHookSecrets() {
		if !strings.HasSuffix(secret, cfg.SecretHint) {
			t.Errorf("the sandbox's hook still has the old secret")
		}
	}
}

func TestRegisteringRefusesAnotherHookInTheOrgAndAnOrgWithoutTLS(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	ctx := asActor(w.engineer)
	if _, _, err := w.app.Hook.SaveConfig(ctx, w.p.ID, 0, hook.ConfigInput{}); err != nil {
		t.Fatal(err)
	}
	client, err := okta.New(okta.Config{OrgURL: w.simURL, APIToken: loadSandboxToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := client.RegisterPasswordImportHook(context.Background(), okta.PasswordImportHook{URI: "https://legacy-hook.example.com/verify", AuthValue: "someone-elses-secret"}); err != nil {
		t.Fatal(err)
	}
	_, err = w.app.Hook.RegisterInOkta(ctx, w.p.ID, "http://127.0.0.1:8080")
	if err == nil || !strings.Contains(err.Error(), "already has a password import inline hook") {
		t.Fatalf("another org hook must not be replaced: %v", err)
	}
	if _, err := w.app.Hook.RegisterInOkta(ctx, w.p.ID, "http://ferry.example.com"); err == nil || !strings.Contains(err.Error(), "https://") {
		t.Fatalf("a public http:// address must be refused: %v", err)
	}
	if _, err := w.app.Hook.RegisterInOkta(ctx, w.p.ID, "not a url"); err == nil {
		t.Fatal("a broken public URL must be refused")
	}
}

func TestHookOAuthSettingsAreSavedAndRegisteredByHand(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	eng := w.app.signedIn(w.engineer)
	page := "/projects/" + itoa(w.p.ID) + "/settings/hook"
	base := url.Values{"header_name": {"Authorization"}, "budget_ms": {"2000"}, "secret_choice": {"generate"}, "version": {"0"}, "auth_type": {"oauth"}}
	bad := cloneValues(base)
	bad.Set("oauth_issuer", "javascript:alert(1)")
	if res := eng.post(page, bad); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `id="f-oauth_issuer-error"`) {
		t.Fatalf("a bad issuer: %d", res.StatusCode)
	}
	if cfg, _ := w.app.Hook.FindConfig(context.Background(), w.p.ID); cfg != nil {
		t.Fatal("a refused form created the hook")
	}
	good := cloneValues(base)
	good.Set("oauth_issuer", "https://acme.okta.com/oauth2/default")
	good.Set("oauth_audience", "api://default")
	good.Set("oauth_client_id", "0oaHookClient")
	if res := eng.post(page, good); res.StatusCode != http.StatusOK {
		t.Fatalf("OAuth settings: %d %s", res.StatusCode, res.Body)
	}
	cfg, _ := w.app.Hook.FindConfig(context.Background(), w.p.ID)
	if cfg.AuthType != hook.AuthOAuth || cfg.OAuthIssuer != "https://acme.okta.com/oauth2/default" || cfg.OAuthClientID != "0oaHookClient" {
		t.Fatalf("saved %+v", cfg)
	}
	body := eng.get(page).Body
	if !strings.Contains(body, "An OAuth 2.0 access token") || !strings.Contains(body, "never holds the client") {
		t.Error("the page does not describe the OAuth hook and its manual settings")
	}
	res := eng.post(page+"/register", url.Values{})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if reg, _ := w.app.Hook.FindRegistration(context.Background(), w.p.ID); reg.OktaHookID != "" {
		t.Fatal("an OAuth hook was registered with a header channel")
	}
	if !strings.Contains(eng.get(page).Body, "register it by hand") {
		t.Error("the page does not say why Ferry did not register the OAuth hook")
	}
}

func TestSourceBindSettingsRefuseHostileInputAndShowOnTheHookPage(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	eng := w.app.signedIn(w.engineer)
	hookPage := "/projects/" + itoa(w.p.ID) + "/settings/hook"
	if res := eng.post(hookPage, url.Values{"header_name": {"Authorization"}, "budget_ms": {"2000"}, "secret_choice": {"generate"}, "version": {"0"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("set up: %d", res.StatusCode)
	}
	page := hookPage + "/sources/" + itoa(w.src.ID)
	if res := eng.get(page); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "never retries") {
		t.Fatalf("bind page: %d", res.StatusCode)
	}
	good := url.Values{"enabled": {"true"}, "url": {"ldaps://dc1.example.com"}, "bind_template": {"uid={attr:uid},ou=people,dc=example,dc=com"},
		"lockout_threshold": {"5"}, "lockout_window_minutes": {"30"}, "max_concurrent": {"4"}, "timeout_ms": {"1500"}, "version": {"0"}}
	cases := map[string]func(url.Values){
		"not ldap":                   func(v url.Values) { v.Set("url", "http://dc1.example.com") },
		"plain ldap to another host": func(v url.Values) { v.Set("url", "ldap://dc1.example.com") },
		"unknown placeholder":        func(v url.Values) { v.Set("bind_template", "uid={password}") },
		"threshold beyond range":     func(v url.Values) { v.Set("lockout_threshold", "1000") },
		"threshold not a number":     func(v url.Values) { v.Set("lockout_threshold", "five") },
		"timeout beyond Okta's wait": func(v url.Values) { v.Set("timeout_ms", "5000") },
		"a CA that is not PEM": func(v url.Values) {
			v.Set("ca_cert_pem", "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----")
		},
		"oversized template": func(v url.Values) { v.Set("bind_template", strings.Repeat("{dn}", 200)) },
	}
	for name, spoil := range cases {
		form := cloneValues(good)
		spoil(form)
		res := eng.post(page, form)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d, want 422", name, res.StatusCode)
		}
	}
	if b, _ := w.app.Hook.FindBindSettings(context.Background(), w.p.ID, w.src.ID); b != nil {
		t.Fatalf("refused forms saved %+v", b)
	}
	// The connection test connects and binds nobody: a closed port says so.
	probe := cloneValues(good)
	probe.Set("url", "ldap://127.0.0.1:1")
	probe.Set("timeout_ms", "500")
	res := eng.post(page+"/test", probe)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `id="bind-test"`) {
		t.Fatalf("connection test: %d %s", res.StatusCode, res.Body)
	}
	if res := eng.post(page, good); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, res.Body)
	}
	if body := eng.get(hookPage).Body; !strings.Contains(body, "A bind against ldaps://dc1.example.com") || !strings.Contains(body, "at most 3 failed binds") {
		t.Error("the hook page does not say the source is checked with a bind, two short of the lockout")
	}
	if body := w.app.signedIn(w.viewer).get(page).Body; strings.Contains(body, `name="url"`) {
		t.Error("a viewer got the form")
	}
	confirm := eng.get(page + "/remove")
	if confirm.StatusCode != http.StatusOK || !strings.Contains(confirm.Body, "ldaps://dc1.example.com") || !strings.Contains(confirm.Body, "staged hashes") {
		t.Fatalf("the removal's confirmation: %d", confirm.StatusCode)
	}
	if res := eng.post(page+"/remove", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	if res := eng.get(page + "/remove"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("confirming the removal of nothing: %d, want a redirect with a message", res.StatusCode)
	}
	if b, _ := w.app.Hook.FindBindSettings(context.Background(), w.p.ID, w.src.ID); b != nil {
		t.Fatal("not removed")
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
