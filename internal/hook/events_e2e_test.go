package hook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// isaacHash is sha512-crypt of "Hello world!".
const isaacHash = "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"

// confirmation is Ferry and the sandbox wired as in production: the inline
// hook and the event hook registered in the org through Ferry's client,
// the event hook verified by Okta's challenge.
type confirmation struct {
	*world
	sim    *oktasim.Server
	api    *sandbox
	client *okta.Client
	ctx    context.Context
	event  *okta.EventHook
}

func newConfirmation(t *testing.T, users []user) *confirmation {
	const token = "sandbox-token-0123456789"
	simServer, sim := oktasim.NewTestServer(t, oktasim.Options{Token: token})
	w := newWorld(t, users, worldOptions{orgURL: simServer.URL, settings: credentials.Input{Attribute: "pw"}})
	mux := http.NewServeMux()
	mux.Handle(hook.PathPrefix, w.svc)
	mux.HandleFunc(hook.EventsPathPrefix, w.svc.ServeEvents)
	ferry := httptest.NewServer(mux)
	t.Cleanup(ferry.Close)
	client, err := okta.New(okta.Config{OrgURL: simServer.URL, APIToken: token, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	c := &confirmation{world: w, sim: sim, api: &sandbox{t: t, url: simServer.URL, token: token}, client: client, ctx: ctx}
	if _, _, _, err := client.RegisterPasswordImportHook(ctx, okta.PasswordImportHook{URI: ferry.URL + w.config.Path(),
		AuthKey: w.config.HeaderName, AuthValue: w.secret}); err != nil {
		t.Fatalf("register the inline hook: %v", err)
	}
	eh, _, err := client.CreateEventHook(ctx, okta.EventHookCreate{Name: "Ferry confirmations",
		Events: okta.EventSubscriptions{Type: okta.EventSubscriptionTypeList, Items: []string{okta.EventTypeUserImportPassword}},
		Channel: okta.EventHookChannel{Type: okta.EventHookChannelHTTP, Version: "1.0.0", Config: okta.EventHookChannelConfig{
			URI:        ferry.URL + hook.EventsPathPrefix + w.config.OrgKey,
			AuthScheme: &okta.InlineHookAuthScheme{Type: okta.InlineHookAuthHeader, Key: w.config.HeaderName, Value: w.secret}}}})
	if err != nil {
		t.Fatalf("create the event hook: %v", err)
	}
	if c.event, _, err = client.VerifyEventHook(ctx, eh.ID); err != nil || !c.event.Receives() {
		t.Fatalf("verify the event hook: %v", err)
	}
	return c
}

// hookUser creates a hook user in the sandbox and records it as a load
// would; it returns the Okta id and the okta_users row.
func (c *confirmation) hookUser(login string) (string, int64) {
	c.t.Helper()
	status, u := c.api.do("POST", "/api/v1/users?activate=true", map[string]any{
		"profile":     map[string]string{"login": login, "email": login, "firstName": "A", "lastName": "B"},
		"credentials": map[string]any{"password": map[string]any{"hook": map[string]string{"type": "default"}}}})
	if status != http.StatusOK {
		c.t.Fatalf("create %s: %d %v", login, status, u)
	}
	id := u["id"].(string)
	return id, c.addOktaUser(c.project.ID, c.config.OrgURL, id, login)
}

func (c *confirmation) signIn(login, password string) {
	c.t.Helper()
	if status, body := c.api.signIn(login, password); status != http.StatusOK || body["status"] != "SUCCESS" {
		c.t.Fatalf("sign-in of %s: %d %v", login, status, body)
	}
	if err := c.sim.WaitEventDeliveries(c.ctx); err != nil {
		c.t.Fatal(err)
	}
}

func (c *confirmation) provider(id string) string {
	c.t.Helper()
	_, u := c.api.do("GET", "/api/v1/users/"+id, nil)
	p, _ := u["credentials"].(map[string]any)["provider"].(map[string]any)
	s, _ := p["type"].(string)
	return s
}

// The whole confirmation: a sign-in verified by Ferry's hook, Okta saves the
// password, user.import.password SUCCESS reaches Ferry's event hook and the
// user is marked imported via event. In read-only mode the answer is still
// VERIFIED but nothing is saved: the event is a FAILURE and the user stays
// unconfirmed. A user imported while the event hook was off is confirmed by
// reading the provider back. The registration test through Okta
// (executeInlineHook) reaches Ferry too.
func TestOktaConfirmsImportsThroughTheEventHook(t *testing.T) {
	c := newConfirmation(t, []user{
		{uid: "IBrock7", email: "isaac.brock@example.com", pw: isaacHash},
		{uid: "JDoe", email: "jane@example.com", pw: isaacHash},
		{uid: "KLee", email: "kim@example.com", pw: isaacHash},
	})
	isaacID, isaac := c.hookUser("isaac.brock@example.com")
	janeID, jane := c.hookUser("jane@example.com")
	kimID, kim := c.hookUser("kim@example.com")

	c.signIn("isaac.brock@example.com", "Hello world!")
	got := c.importOf(isaac)
	if got.PasswordImportedAt == nil || got.ImportedVia != hook.ImportedViaEvent || c.provider(isaacID) != "OKTA" {
		t.Fatalf("isaac after sign-in: %+v, provider %s", got, c.provider(isaacID))
	}

	// Read-only org: VERIFIED, signed in, but nothing saved.
	c.sim.SetReadOnly(true)
	c.signIn("jane@example.com", "Hello world!")
	if a := c.lastAttempt(); a.Outcome != hook.OutcomeVerified {
		t.Fatalf("jane's attempt: %+v", a)
	}
	if s := c.importOf(jane); s.PasswordImportedAt != nil || c.provider(janeID) != "IMPORT" {
		t.Fatalf("jane in read-only mode: %+v, provider %s", s, c.provider(janeID))
	}
	var failures int64
	c.db.Read.Table("hook_events").Where("okta_user_id = ? AND outcome = ?", janeID, "FAILURE").Count(&failures)
	if failures != 1 {
		t.Fatalf("%d FAILURE events for jane, want 1", failures)
	}
	c.sim.SetReadOnly(false)

	// Kim signs in while the event hook is off: only the provider tells.
	if _, _, err := c.client.DeactivateEventHook(c.ctx, c.event.ID); err != nil {
		t.Fatal(err)
	}
	c.signIn("kim@example.com", "Hello world!")
	if s := c.importOf(kim); s.PasswordImportedAt != nil {
		t.Fatalf("kim marked without an event: %+v", s)
	}
	res, err := c.svc.ConfirmByProvider(c.ctx, c.project.ID, c.client, hook.ConfirmOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != 2 || res.Confirmed != 1 || res.Pending != 1 || res.Gone != 0 || res.Failed != 0 {
		t.Fatalf("read-back: %+v, want jane and kim checked, kim confirmed", res)
	}
	if s := c.importOf(kim); s.PasswordImportedAt == nil || s.ImportedVia != hook.ImportedViaProvider {
		t.Fatalf("kim after the read-back: %+v", s)
	}
	if s := c.importOf(isaac); s.ImportedVia != hook.ImportedViaEvent {
		t.Fatalf("isaac was read again: %+v", s)
	}
	_ = kimID

	// A user deleted in Okta is counted gone, not confirmed.
	if status, _ := c.api.do("POST", "/api/v1/users/"+janeID+"/lifecycle/deactivate", nil); status != http.StatusOK {
		t.Fatal(status)
	}
	if status, _ := c.api.do("DELETE", "/api/v1/users/"+janeID, nil); status != http.StatusNoContent {
		t.Fatal(status)
	}
	if res, err := c.svc.ConfirmByProvider(c.ctx, c.project.ID, c.client, hook.ConfirmOptions{}); err != nil || res.Gone != 1 || res.Confirmed != 0 {
		t.Fatalf("after jane was deleted: %+v %v", res, err)
	}

	// The registration test: Okta posts a made-up request to Ferry's hook.
	hooks, _, err := c.client.ListInlineHooks(c.ctx, okta.InlineHookTypePasswordImport)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("inline hooks: %v %d", err, len(hooks))
	}
	out, _, err := c.client.ExecuteInlineHook(c.ctx, hooks[0].ID, payload("nobody@example.com", "made-up-password", anIP), "made-up-password")
	if err != nil || !strings.Contains(string(out), `"UNVERIFIED"`) {
		t.Fatalf("execute: %v %s", err, out)
	}
	c.noSecretsStored("Hello world!", "made-up-password", c.secret)
}

// ConfirmByProvider stops when its context ends, with the counts so far,
// and refuses a client of another org.
func TestConfirmByProviderIsCancellable(t *testing.T) {
	c := newConfirmation(t, someone)
	for _, login := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		c.hookUser(login)
	}
	ctx, cancel := context.WithCancel(c.ctx)
	cancel()
	if _, err := c.svc.ConfirmByProvider(ctx, c.project.ID, c.client, hook.ConfirmOptions{}); err == nil {
		t.Fatal("a cancelled read-back did not stop")
	}
	if res, err := c.svc.ConfirmByProvider(c.ctx, c.project.ID, c.client, hook.ConfirmOptions{Limit: 2}); err != nil || res.Checked != 2 || res.Pending != 2 {
		t.Fatalf("limited read-back: %+v %v", res, err)
	}
	other, err := okta.New(okta.Config{OrgURL: "https://other.okta.com", APIToken: "00token"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.ConfirmByProvider(c.ctx, c.project.ID, other, hook.ConfirmOptions{}); err == nil || !strings.Contains(err.Error(), "another org") {
		t.Fatalf("a client of another org: %v", err)
	}
}

// The scheduled read-back reads only the users the hook verified whose
// confirmation is missing: here Jane, who signed in while the event hook was
// off. Kim never signed in; Isaac's import was confirmed by the event.
func TestTheScheduledReadBackReadsOnlyVerifiedUnconfirmedUsers(t *testing.T) {
	c := newConfirmation(t, []user{
		{uid: "IBrock7", email: "isaac.brock@example.com", pw: isaacHash},
		{uid: "JDoe", email: "jane@example.com", pw: isaacHash},
		{uid: "KLee", email: "kim@example.com", pw: isaacHash},
	})
	_, isaac := c.hookUser("isaac.brock@example.com")
	_, jane := c.hookUser("jane@example.com")
	_, kim := c.hookUser("kim@example.com")
	// As a load records them: with the source and the key of their record,
	// by which the hook's attempts name their Okta user.
	for ref, login := range map[int64]string{isaac: "isaac.brock@example.com", jane: "jane@example.com", kim: "kim@example.com"} {
		if err := c.db.Write.Exec(`UPDATE okta_users SET source_id = ?, source_key = (SELECT r.source_key FROM staged_records r
			JOIN extracts e ON e.id = r.extract_id WHERE e.source_id = ? AND r.attributes_json LIKE ?) WHERE id = ?`,
			c.source.ID, c.source.ID, `%"`+login+`"%`, ref).Error; err != nil {
			t.Fatal(err)
		}
	}
	c.signIn("isaac.brock@example.com", "Hello world!")
	if got, err := c.svc.ProjectsAwaitingConfirmation(c.ctx); err != nil || len(got) != 0 {
		t.Fatalf("projects awaiting a confirmation while every verified import is confirmed: %v %v", got, err)
	}
	if _, _, err := c.client.DeactivateEventHook(c.ctx, c.event.ID); err != nil {
		t.Fatal(err)
	}
	c.signIn("jane@example.com", "Hello world!")
	if got, err := c.svc.ProjectsAwaitingConfirmation(c.ctx); err != nil || len(got) != 1 || got[0] != c.project.ID {
		t.Fatalf("projects awaiting a confirmation: %v %v", got, err)
	}
	var totals []int
	res, err := c.svc.ConfirmByProvider(c.ctx, c.project.ID, c.client, hook.ConfirmOptions{VerifiedOnly: true,
		Progress: func(done, total int) { totals = append(totals, total) }})
	if err != nil || res.Checked != 1 || res.Confirmed != 1 || res.Pending != 0 {
		t.Fatalf("verified-only read-back: %+v %v, want Jane alone, confirmed", res, err)
	}
	if len(totals) == 0 || totals[0] != 1 {
		t.Errorf("the read-back counted %v users to read, want 1 first", totals)
	}
	if s := c.importOf(jane); s.PasswordImportedAt == nil || s.ImportedVia != hook.ImportedViaProvider {
		t.Errorf("jane after the read-back: %+v", s)
	}
	if s := c.importOf(isaac); s.ImportedVia != hook.ImportedViaEvent {
		t.Errorf("isaac was read again: %+v", s)
	}
	if got, err := c.svc.ProjectsAwaitingConfirmation(c.ctx); err != nil || len(got) != 0 {
		t.Errorf("projects awaiting a confirmation after the read-back: %v %v", got, err)
	}
}
