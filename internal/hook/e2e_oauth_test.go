package hook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// The sandbox calls Ferry's hook as Okta does with an OAUTH channel: it
// gets an access token from its authorization server (client_secret_post,
// then private_key_jwt with a hook key) and sends it as a Bearer token;
// Ferry verifies it with the sandbox's published keys before it checks the
// password.
func TestSignInThroughTheSandboxWithAnOAuthHook(t *testing.T) {
	const token = "sandbox-token-0123456789"
	const scope = "ferry.passwordImport"
	// The sandbox and Ferry share one clock: tokens' iat/exp are checked.
	var clock atomic.Pointer[dbtest.Clock]
	start := dbtest.NewClock()
	simServer, sim := oktasim.NewTestServer(t, oktasim.Options{Token: token, Now: func() time.Time {
		if c := clock.Load(); c != nil {
			return c.Now()
		}
		return start.Now()
	}})
	simAPI := &sandbox{t: t, url: simServer.URL, token: token}
	w := newWorld(t, []user{
		{uid: "IBrock7", email: "isaac.brock@example.com", pw: "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{uid: "ann", email: "ann@example.com", pw: "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{uid: "bob", email: "bob@example.com", pw: "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
	}, worldOptions{orgURL: simServer.URL, settings: credentials.Input{Attribute: "pw"}})
	clock.Store(w.clock)
	ferry := httptest.NewServer(w.svc)
	t.Cleanup(ferry.Close)
	client, err := okta.New(okta.Config{OrgURL: simServer.URL, APIToken: token})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	issuer := simServer.URL + oktasim.AuthServerPath
	tokenURL := issuer + "/v1/token"
	const clientSecret = "client-secret-0123456789abcdef"

	configure := func(clientID string) {
		t.Helper()
		c, _, err := w.svc.SaveConfig(w.ctx, w.project.ID, w.config.Version, hook.ConfigInput{AuthType: hook.AuthOAuth,
			OAuth: &hook.OAuthSettings{Issuer: issuer, Audience: oktasim.AccessTokenAudience, ClientID: clientID, Scope: scope}})
		if err != nil {
			t.Fatalf("OAuth settings: %v", err)
		}
		w.config = c
	}
	register := func(oauth okta.InlineHookOAuthConfig) string {
		t.Helper()
		h, _, err := client.CreateInlineHook(ctx, okta.InlineHookCreate{Name: "Ferry legacy passwords", Type: okta.InlineHookTypePasswordImport, Version: "1.0.0",
			Channel: okta.InlineHookChannel{Type: okta.InlineHookChannelOAuth, Version: "1.0.0",
				Config: &okta.InlineHookChannelConfig{URI: ferry.URL + w.config.Path(), Method: "POST"}, OAuth: &oauth}})
		if err != nil {
			t.Fatalf("register the hook: %v", err)
		}
		if h.Channel.Type != okta.InlineHookChannelOAuth || h.Channel.OAuth == nil || h.Channel.OAuth.ClientID != oauth.ClientID ||
			h.Channel.OAuth.ClientSecret != "" || h.Channel.Config == nil || h.Channel.Config.URI != ferry.URL+w.config.Path() {
			t.Fatalf("registered %+v", h.Channel)
		}
		return h.ID
	}
	createUser := func(login string) {
		t.Helper()
		status, u := simAPI.do("POST", "/api/v1/users?activate=true", map[string]any{
			"profile":     map[string]string{"login": login, "email": login, "firstName": "A", "lastName": "B"},
			"credentials": map[string]any{"password": map[string]any{"hook": map[string]string{"type": "default"}}}})
		if status != http.StatusOK {
			t.Fatalf("create %s: %d %v", login, status, u)
		}
	}
	expect := func(login, password string, wantStatus int, outcome, cause string) {
		t.Helper()
		if status, body := simAPI.signIn(login, password); status != wantStatus {
			t.Fatalf("%s: %d %v, want %d", login, status, body, wantStatus)
		}
		if a := w.lastAttempt(); a.Outcome != outcome || a.Cause != cause {
			t.Fatalf("%s: recorded %s/%s, want %s/%s", login, a.Outcome, a.Cause, outcome, cause)
		}
	}

	// client_secret_post.
	sim.AddOAuthClient("0oaFerrySecret", clientSecret, []string{scope})
	configure("0oaFerrySecret")
	hookID := register(okta.InlineHookOAuthConfig{AuthType: okta.InlineHookOAuthClientSecretPost, ClientID: "0oaFerrySecret",
		ClientSecret: clientSecret, TokenURL: tokenURL, Scope: scope})
	createUser("isaac.brock@example.com")
	expect("Isaac.Brock@example.com", "Hello world?", http.StatusUnauthorized, hook.OutcomeUnverified, hook.CauseWrongPassword)
	expect("isaac.brock@example.com", "Hello world!", http.StatusOK, hook.OutcomeVerified, "")

	// Ferry expects another client: the token is refused, the sign-in fails.
	configure("0oaSomeoneElse")
	createUser("ann@example.com")
	expect("ann@example.com", "Hello world!", http.StatusUnauthorized, hook.OutcomeError, hook.CauseUnauthorized)

	// private_key_jwt: the hook key's private key stays in the sandbox.
	for _, step := range []string{"/lifecycle/deactivate", ""} {
		method := "POST"
		if step == "" {
			method = "DELETE"
		}
		if status, body := simAPI.do(method, "/api/v1/inlineHooks/"+hookID+step, nil); status >= 300 {
			t.Fatalf("%s %s: %d %v", method, step, status, body)
		}
	}
	key, _, err := client.CreateHookKey(ctx, "Ferry hook key")
	if err != nil || key.ID == "" || key.PublicKey == nil || key.PublicKey.N == "" {
		t.Fatalf("create hook key: %+v %v", key, err)
	}
	if got, _, err := client.GetHookKey(ctx, key.ID); err != nil || got.KeyID != key.KeyID || got.PublicKey != nil {
		t.Fatalf("get hook key: %+v %v", got, err)
	}
	if err := sim.AddOAuthClientWithHookKey("0oaFerryKey", key.ID, []string{scope}); err != nil {
		t.Fatal(err)
	}
	configure("0oaFerryKey")
	register(okta.InlineHookOAuthConfig{AuthType: okta.InlineHookOAuthPrivateKeyJWT, ClientID: "0oaFerryKey", HookKeyID: key.ID, TokenURL: tokenURL, Scope: scope})
	createUser("bob@example.com")
	expect("bob@example.com", "Hello world!", http.StatusOK, hook.OutcomeVerified, "")
	expect("ann@example.com", "Hello world!", http.StatusOK, hook.OutcomeVerified, "")

	// The authorization server rotates its key: Ferry fetches the new one.
	if err := sim.RotateAuthServerKey(); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Hour) // the token Okta holds expires; the cache ages
	createUser("cy@example.com")
	if status, body := simAPI.signIn("cy@example.com", "anything"); status != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d %v", status, body)
	}
	if a := w.lastAttempt(); a.Cause != hook.CauseNoUser {
		t.Fatalf("after the rotation: recorded %s/%s", a.Outcome, a.Cause)
	}

	w.noSecretsStored("Hello world!", "Hello world?", clientSecret)
	if logs := w.logs.String(); strings.Contains(logs, "Bearer") || strings.Contains(logs, "eyJ") {
		t.Fatal("the log holds a token")
	}
}
