package oktasim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/okta/oktaspec"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

const eventSecret = "event-hook-shared-secret-0123"

// eventReceiver is an event hook endpoint for tests: it answers the
// verification challenge (unless told not to) and records deliveries.
type eventReceiver struct {
	srv        *httptest.Server
	echo       atomic.Bool // answer the challenge
	failFirst  atomic.Int32
	challenges atomic.Int32
	mu         sync.Mutex
	deliveries []map[string]any
	headers    []http.Header
}

func newEventReceiver(t *testing.T) *eventReceiver {
	er := &eventReceiver{}
	er.echo.Store(true)
	er.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != eventSecret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if er.failFirst.Add(-1) >= 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		switch r.Method {
		case http.MethodGet:
			er.challenges.Add(1)
			if !er.echo.Load() {
				_, _ = io.WriteString(w, `{"verification":"not the challenge"}`)
				return
			}
			b, _ := json.Marshal(map[string]string{"verification": r.Header.Get("X-Okta-Verification-Challenge")})
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(b)
		case http.MethodPost:
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			er.mu.Lock()
			er.deliveries = append(er.deliveries, body)
			er.headers = append(er.headers, r.Header.Clone())
			er.mu.Unlock()
			w.WriteHeader(http.StatusOK)
		}
	}))
	t.Cleanup(er.srv.Close)
	return er
}

func (er *eventReceiver) got() []map[string]any {
	er.mu.Lock()
	defer er.mu.Unlock()
	return append([]map[string]any(nil), er.deliveries...)
}

func eventHookBody(uri string) okta.EventHookCreate {
	return okta.EventHookCreate{Name: "Ferry confirmations",
		Events: okta.EventSubscriptions{Type: okta.EventSubscriptionTypeList, Items: []string{okta.EventTypeUserImportPassword}},
		Channel: okta.EventHookChannel{Type: okta.EventHookChannelHTTP, Version: "1.0.0", Config: okta.EventHookChannelConfig{URI: uri,
			Headers:    []okta.InlineHookHeader{{Key: "X-Extra", Value: "extra-value"}},
			AuthScheme: &okta.InlineHookAuthScheme{Type: okta.InlineHookAuthHeader, Key: "Authorization", Value: eventSecret}}}}
}

func waitDeliveries(t *testing.T, sim *oktasim.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := sim.WaitEventDeliveries(ctx); err != nil {
		t.Fatal(err)
	}
}

// The Event Hooks API through Ferry's client: created ACTIVE and
// UNVERIFIED, the secret never shown, verified only when the endpoint
// echoes the challenge (a 5xx is retried once), deleted only when INACTIVE.
func TestEventHookLifecycleThroughTheClient(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	er := newEventReceiver(t)
	h, _, err := o.c.CreateEventHook(o.ctx, eventHookBody(er.srv.URL+"/events"))
	if err != nil {
		t.Fatal(err)
	}
	if h.Status != okta.EventHookStatusActive || h.VerificationStatus != okta.EventHookUnverified || h.Receives() ||
		h.Channel.Config.AuthScheme == nil || h.Channel.Config.AuthScheme.Value != "" || h.Channel.Config.Method != "POST" {
		t.Fatalf("created %+v", h)
	}
	raw := want(t, (&org{t: t, srv: o.srv, token: itToken, scheme: "SSWS"}).do("GET", "/api/v1/eventHooks/"+h.ID, nil), 200, "get")
	if b, _ := json.Marshal(raw); strings.Contains(string(b), eventSecret) {
		t.Fatalf("the secret is shown: %s", b)
	}
	if path(raw, "_links", "verify", "href") == nil || path(raw, "events", "type") != "EVENT_TYPE" {
		t.Errorf("rendered %v", raw)
	}

	er.echo.Store(false)
	_, _, err = o.c.VerifyEventHook(o.ctx, h.ID)
	if e, ok := okta.AsError(err); !ok || e.StatusCode != 400 || !okta.IsValidation(err) {
		t.Fatalf("a wrong echo verified: %v", err)
	}
	if got, _, _ := o.c.GetEventHook(o.ctx, h.ID); got.VerificationStatus != okta.EventHookUnverified {
		t.Fatalf("after a failed verification: %s", got.VerificationStatus)
	}
	er.echo.Store(true)
	er.failFirst.Store(1)
	v, _, err := o.c.VerifyEventHook(o.ctx, h.ID)
	if err != nil || v.VerificationStatus != okta.EventHookVerified || !v.Receives() {
		t.Fatalf("verify after one 500: %v %+v", err, v)
	}
	list, _, err := o.c.ListEventHooks(o.ctx)
	if err != nil || len(list) != 1 || list[0].ID != h.ID {
		t.Fatalf("list: %v %+v", err, list)
	}
	if _, err := o.c.DeleteEventHook(o.ctx, h.ID); !okta.IsForbidden(err) && !strings.Contains(errString(err), "E0000038") {
		t.Fatalf("deleting an ACTIVE hook: %v", err)
	}
	if d, _, err := o.c.DeactivateEventHook(o.ctx, h.ID); err != nil || d.Status != okta.EventHookStatusInactive {
		t.Fatalf("deactivate: %v", err)
	}
	if a, _, err := o.c.ActivateEventHook(o.ctx, h.ID); err != nil || a.Status != okta.EventHookStatusActive {
		t.Fatalf("activate: %v", err)
	}
	_, _, _ = o.c.DeactivateEventHook(o.ctx, h.ID)
	if _, err := o.c.DeleteEventHook(o.ctx, h.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, _, err := o.c.GetEventHook(o.ctx, h.ID); !okta.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Validation errors as Okta words them: https only (http on loopback for
// rehearsals), events required, HEADER auth only.
func TestEventHookValidation(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	base := func() map[string]any {
		return map[string]any{"name": "x", "events": map[string]any{"type": "EVENT_TYPE", "items": []string{"user.import.password"}},
			"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{"uri": "https://hooks.example.com/e",
				"authScheme": map[string]string{"type": "HEADER", "key": "Authorization", "value": "s3cret-value"}}}}
	}
	for name, tc := range map[string]struct {
		edit  func(m map[string]any)
		cause string
	}{
		"plain http": {func(m map[string]any) {
			path(m, "channel", "config").(map[string]any)["uri"] = "http://hooks.example.com/e"
		}, "channel.config.uri: The URI must begin with https://"},
		"no events": {func(m map[string]any) { delete(m, "events") }, "events: The field cannot be left blank"},
		"bad event": {func(m map[string]any) { m["events"].(map[string]any)["items"] = []string{"Not An Event"} }, "events.items: Not An Event is not an eligible event type"},
		"oauth": {func(m map[string]any) {
			path(m, "channel", "config").(map[string]any)["authScheme"] = map[string]string{"type": "OAUTH"}
		}, "channel.config.authScheme.type: Supported type: HEADER"},
		"no name":     {func(m map[string]any) { m["name"] = " " }, "name: The field cannot be left blank"},
		"bad channel": {func(m map[string]any) { m["channel"].(map[string]any)["type"] = "SMS" }, "channel.type: Does not match an allowed value"},
	} {
		t.Run(name, func(t *testing.T) {
			m := base()
			tc.edit(m)
			wantError(t, o.do("POST", "/api/v1/eventHooks", m), 400, "E0000001", tc.cause)
		})
	}
	m := base()
	path(m, "channel", "config").(map[string]any)["uri"] = "http://127.0.0.1:9/e"
	want(t, o.do("POST", "/api/v1/eventHooks", m), 200, "http on loopback")
	wantError(t, o.do("GET", "/api/v1/eventHooks/whoNope", nil), 404, "E0000007")
	wantError(t, o.do("POST", "/api/v1/eventHooks/whoNope/lifecycle/verify", nil), 404, "E0000007")
}

// A hook user's verified password is saved and user.import.password
// (SUCCESS, target the user) goes to the ACTIVE and VERIFIED event hooks
// subscribed to it, with their auth header; an unverified hook receives
// nothing. A failed delivery is retried once.
func TestPasswordImportEmitsTheEvent(t *testing.T) {
	inline := newHookServer(t, func(_ int32, w http.ResponseWriter, body map[string]any) { verdict(w, "VERIFIED") })
	o := mustOrg(t, oktasim.Options{})
	o.registerHook(inline.srv.URL + "/passwordImport")
	c := itClient(t, okta.Config{OrgURL: o.srv.URL, APIToken: o.token})
	ctx := itCtx(t)
	verified, unverified := newEventReceiver(t), newEventReceiver(t)
	h, _, err := c.CreateEventHook(ctx, eventHookBody(verified.srv.URL+"/events"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.VerifyEventHook(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.CreateEventHook(ctx, eventHookBody(unverified.srv.URL+"/events")); err != nil {
		t.Fatal(err)
	}
	id := hookUser(o, "isaac.brock@example.com")
	verified.failFirst.Store(1) // the first delivery fails; Okta retries once
	wantSignIn(t, o.signIn("isaac.brock@example.com", "Hello world!"), id)
	waitDeliveries(t, o.sim)
	got := verified.got()
	if len(got) != 1 || len(unverified.got()) != 0 {
		t.Fatalf("deliveries: %d to the verified hook, %d to the unverified one", len(got), len(unverified.got()))
	}
	d := got[0]
	if d["eventType"] != "com.okta.event_hook" || d["cloudEventsVersion"] != "0.1" || !strings.HasSuffix(d["source"].(string), "/api/v1/eventHooks/"+h.ID) {
		t.Errorf("envelope %v", d)
	}
	events := path(d, "data", "events").([]any)
	ev := events[0].(map[string]any)
	target := ev["target"].([]any)[0].(map[string]any)
	if ev["eventType"] != "user.import.password" || path(ev, "outcome", "result") != "SUCCESS" || ev["uuid"] == "" ||
		target["id"] != id || target["type"] != "User" || ev["published"] == nil {
		t.Errorf("event %v", ev)
	}
	verified.mu.Lock()
	hdr := verified.headers[0]
	verified.mu.Unlock()
	if hdr.Get("X-Extra") != "extra-value" || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("delivery headers %v", hdr)
	}
	if n, failed := o.sim.EventDeliveries(); n != 1 || failed != 0 {
		t.Errorf("deliveries counted %d ok, %d failed", n, failed)
	}
	u := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get")
	if path(u, "credentials", "provider", "type") != "OKTA" {
		t.Errorf("provider %v", path(u, "credentials", "provider"))
	}
}

// In read-only mode a VERIFIED answer signs the person in but the password
// is not saved: the provider stays IMPORT, the hook is called again next
// time, and the event's outcome is FAILURE.
func TestReadOnlyOrgDoesNotSaveTheVerifiedPassword(t *testing.T) {
	inline := newHookServer(t, func(_ int32, w http.ResponseWriter, body map[string]any) { verdict(w, "VERIFIED") })
	o := mustOrg(t, oktasim.Options{})
	o.registerHook(inline.srv.URL + "/passwordImport")
	c := itClient(t, okta.Config{OrgURL: o.srv.URL, APIToken: o.token})
	ctx := itCtx(t)
	er := newEventReceiver(t)
	h, _, err := c.CreateEventHook(ctx, eventHookBody(er.srv.URL+"/events"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.VerifyEventHook(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	id := hookUser(o, "jane@example.com")
	o.sim.SetReadOnly(true)
	if !o.sim.ReadOnly() {
		t.Fatal("SetReadOnly(true) did not stick")
	}
	wantSignIn(t, o.signIn("jane@example.com", "pw-1"), id)
	wantSignIn(t, o.signIn("jane@example.com", "pw-1"), id)
	if inline.calls.Load() != 2 {
		t.Fatalf("the hook was called %d times in read-only mode, want 2 (the password is not kept)", inline.calls.Load())
	}
	u := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get")
	if path(u, "credentials", "provider", "type") != "IMPORT" {
		t.Errorf("provider %v, want IMPORT", path(u, "credentials", "provider"))
	}
	waitDeliveries(t, o.sim)
	got := er.got()
	if len(got) != 2 {
		t.Fatalf("%d deliveries, want 2", len(got))
	}
	if r := path(got[0]["data"].(map[string]any)["events"].([]any)[0].(map[string]any), "outcome", "result"); r != "FAILURE" {
		t.Errorf("outcome %v, want FAILURE", r)
	}
	o.sim.SetReadOnly(false)
	wantSignIn(t, o.signIn("jane@example.com", "pw-1"), id)
	u = want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get")
	if path(u, "credentials", "provider", "type") != "OKTA" {
		t.Errorf("after read-only mode ends: provider %v", path(u, "credentials", "provider"))
	}
}

// executeInlineHook sends the given body to the hook with its auth and
// returns the hook's answer; a hook that keeps failing is a 400 that says
// so, after one retry.
func TestExecuteInlineHook(t *testing.T) {
	var fail atomic.Bool
	inline := newHookServer(t, func(_ int32, w http.ResponseWriter, body map[string]any) {
		if fail.Load() {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		if path(body, "data", "context", "credential", "password") == "right" {
			verdict(w, "VERIFIED")
			return
		}
		verdict(w, "UNVERIFIED")
	})
	o := newItOrg(t, oktasim.Options{})
	ho := &org{t: t, srv: o.srv, token: itToken, scheme: "SSWS"}
	hk := ho.registerHook(inline.srv.URL + "/passwordImport")
	payload := map[string]any{"eventType": okta.InlineHookTypePasswordImport,
		"data": map[string]any{"context": map[string]any{"credential": map[string]string{"username": "a@example.com", "password": "right"}},
			"action": map[string]string{"credential": "UNVERIFIED"}}}
	out, _, err := o.c.ExecuteInlineHook(o.ctx, hk["id"].(string), payload, "right")
	if err != nil || !strings.Contains(string(out), `"VERIFIED"`) {
		t.Fatalf("execute: %v %s", err, out)
	}
	inline.mu.Lock()
	hdr := inline.headers[len(inline.headers)-1]
	inline.mu.Unlock()
	if hdr.Get("Authorization") != "my-shared-secret" {
		t.Errorf("the hook got no auth header: %v", hdr)
	}
	before := inline.calls.Load()
	fail.Store(true)
	_, _, err = o.c.ExecuteInlineHook(o.ctx, hk["id"].(string), payload, "right")
	if e, ok := okta.AsError(err); !ok || e.StatusCode != 400 || strings.Contains(err.Error(), "right\"") {
		t.Fatalf("a failing hook: %v", err)
	}
	if n := inline.calls.Load() - before; n != 2 {
		t.Errorf("a failing hook was called %d times, want 2 (one retry)", n)
	}
	_, _, err = o.c.ExecuteInlineHook(o.ctx, "calNope", payload)
	if !okta.IsNotFound(err) {
		t.Errorf("unknown hook: %v", err)
	}
	var ae *okta.Error
	if !errors.As(err, &ae) {
		t.Errorf("not an *okta.Error: %T", err)
	}
}

var eventSpec struct {
	once   sync.Once
	loaded *oktaspec.Loaded
	err    error
}

// The Event Hooks API and executeInlineHook answer as Okta's document says.
func TestEventHookResponsesMatchOktasOpenAPIDocument(t *testing.T) {
	eventSpec.once.Do(func() {
		eventSpec.loaded, eventSpec.err = oktaspec.Load([]string{"/api/v1/eventHooks", "/api/v1/eventHooks/{eventHookId}",
			"/api/v1/eventHooks/{eventHookId}/lifecycle/activate", "/api/v1/eventHooks/{eventHookId}/lifecycle/deactivate",
			"/api/v1/eventHooks/{eventHookId}/lifecycle/verify", "/api/v1/inlineHooks", "/api/v1/inlineHooks/{inlineHookId}/execute"})
	})
	if errors.Is(eventSpec.err, oktaspec.ErrMissing) {
		t.Skipf("%v: the event hooks' contract is not checked", eventSpec.err)
	}
	if eventSpec.err != nil {
		t.Fatalf("Okta's OpenAPI document: %v", eventSpec.err)
	}
	v := eventSpec.loaded.Validator
	o := mustOrg(t, oktasim.Options{})
	er := newEventReceiver(t)
	body := eventHookBody(er.srv.URL + "/events")
	h := contractCall(t, v, o, "POST", "/api/v1/eventHooks", body, 200).obj(t)
	id := h["id"].(string)
	contractCall(t, v, o, "GET", "/api/v1/eventHooks", nil, 200)
	contractCall(t, v, o, "GET", "/api/v1/eventHooks/"+id, nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/verify", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/deactivate", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/activate", nil, 200)
	contractCall(t, v, o, "GET", "/api/v1/eventHooks/whoNope", nil, 404)
	contractCall(t, v, o, "POST", "/api/v1/eventHooks", map[string]any{"name": "x"}, 400)
	contractCall(t, v, o, "POST", "/api/v1/eventHooks/"+id+"/lifecycle/deactivate", nil, 200)
	contractCall(t, v, o, "DELETE", "/api/v1/eventHooks/"+id, nil, 204)

	inline := newHookServer(t, func(_ int32, w http.ResponseWriter, _ map[string]any) { verdict(w, "UNVERIFIED") })
	hk := o.registerHook(inline.srv.URL + "/passwordImport")
	payload := map[string]any{"eventId": "3o9jBzq1SmOGmmsDsqyyeQ", "eventTime": "2020-01-17T21:23:56.000Z",
		"eventType": "com.okta.user.credential.password.import", "eventTypeVersion": "1.0", "contentType": "application/json",
		"cloudEventVersion": "0.1", "source": "https://example.okta.com/api/v1/inlineHooks/" + hk["id"].(string),
		"data": map[string]any{"context": map[string]any{"credential": map[string]string{"username": "a@example.com", "password": "made-up"}},
			"action": map[string]string{"credential": "UNVERIFIED"}}}
	// Not checked against the document: its oneOf of request and response
	// shapes cannot tell a password import from a telephony or a
	// registration one (several match), so any valid body fails it.
	r := o.do("POST", "/api/v1/inlineHooks/"+hk["id"].(string)+"/execute", payload)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"UNVERIFIED"`) {
		t.Errorf("execute: %d %s", r.Status, r.Body)
	}
}
