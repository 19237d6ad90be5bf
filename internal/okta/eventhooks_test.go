package okta_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/okta"
)

const hookSecret = "event-hook-secret-never-shown-42"

func eventHookCreate() okta.EventHookCreate {
	return okta.EventHookCreate{Name: "Ferry", Events: okta.EventSubscriptions{Type: okta.EventSubscriptionTypeList, Items: []string{okta.EventTypeUserImportPassword}},
		Channel: okta.EventHookChannel{Type: okta.EventHookChannelHTTP, Version: "1.0.0", Config: okta.EventHookChannelConfig{
			URI:        "https://ferry.example.com/api/hooks/okta/events/k3y",
			Headers:    []okta.InlineHookHeader{{Key: "X-Extra", Value: "header-secret-value"}},
			AuthScheme: &okta.InlineHookAuthScheme{Type: okta.InlineHookAuthHeader, Key: "Authorization", Value: hookSecret}}}}
}

// The event hook calls send Okta's paths and bodies; the shared secret and
// header values never reach fmt, slog or an error message.
func TestEventHookCalls(t *testing.T) {
	f := newFakeOrg(t)
	c := f.client(t)
	ctx := context.Background()
	hook := `{"id":"who1","name":"Ferry","status":"ACTIVE","verificationStatus":"VERIFIED","events":{"type":"EVENT_TYPE","items":["user.import.password"]},"channel":{"type":"HTTP","version":"1.0.0","config":{"uri":"https://ferry.example.com/e","method":"POST","authScheme":{"type":"HEADER","key":"Authorization"}}}}`
	f.setAnswer(jsonAnswer(200, hook))
	h, _, err := c.CreateEventHook(ctx, eventHookCreate())
	if err != nil || !h.Receives() {
		t.Fatalf("create: %v %+v", err, h)
	}
	r := f.last(t)
	if r.Method != "POST" || r.Path != "/api/v1/eventHooks" || !bytes.Contains(r.Body, []byte(`"items":["user.import.password"]`)) || !bytes.Contains(r.Body, []byte(hookSecret)) {
		t.Errorf("create sent %s %s %s", r.Method, r.Path, r.Body)
	}
	for _, tc := range []struct {
		call         func() error
		method, path string
	}{
		{func() error { _, _, err := c.GetEventHook(ctx, "who1"); return err }, "GET", "/api/v1/eventHooks/who1"},
		{func() error { _, _, err := c.VerifyEventHook(ctx, "who1"); return err }, "POST", "/api/v1/eventHooks/who1/lifecycle/verify"},
		{func() error { _, _, err := c.ActivateEventHook(ctx, "who1"); return err }, "POST", "/api/v1/eventHooks/who1/lifecycle/activate"},
		{func() error { _, _, err := c.DeactivateEventHook(ctx, "who1"); return err }, "POST", "/api/v1/eventHooks/who1/lifecycle/deactivate"},
	} {
		if err := tc.call(); err != nil {
			t.Fatal(err)
		}
		if r := f.last(t); r.Method != tc.method || r.Path != tc.path {
			t.Errorf("sent %s %s, want %s %s", r.Method, r.Path, tc.method, tc.path)
		}
	}
	f.setAnswer(jsonAnswer(200, "["+hook+"]"))
	if list, _, err := c.ListEventHooks(ctx); err != nil || len(list) != 1 {
		t.Fatalf("list: %v", err)
	}
	if r := f.last(t); r.Method != "GET" || r.Path != "/api/v1/eventHooks" {
		t.Errorf("list sent %s %s", r.Method, r.Path)
	}
	f.setAnswer(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if _, err := c.DeleteEventHook(ctx, "who1"); err != nil || f.last(t).Method != "DELETE" {
		t.Fatalf("delete: %v", err)
	}
	if _, _, err := c.VerifyEventHook(ctx, " "); err == nil {
		t.Error("an empty id was sent")
	}

	// executeInlineHook: a []byte payload is sent as the JSON it holds, and
	// the made-up password stays out of the error.
	f.setAnswer(jsonAnswer(400, `{"errorCode":"E0000001","errorSummary":"Api validation failed: made-up-pw","errorCauses":[]}`))
	_, _, err = c.ExecuteInlineHook(ctx, "cal1", []byte(`{"data":{"context":{"credential":{"password":"made-up-pw"}}}}`), "made-up-pw")
	r = f.last(t)
	if r.Path != "/api/v1/inlineHooks/cal1/execute" || !bytes.HasPrefix(r.Body, []byte(`{"data"`)) {
		t.Errorf("execute sent %s %s", r.Path, r.Body)
	}
	if err == nil || strings.Contains(err.Error(), "made-up-pw") {
		t.Errorf("execute error: %v", err)
	}

	// Secrets stay out of fmt and slog.
	body := eventHookCreate()
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("create", "hook", body, "config", body.Channel.Config)
	for _, s := range []string{fmt.Sprintf("%v", body), fmt.Sprintf("%+v", body), fmt.Sprintf("%#v", body), fmt.Sprintf("%v", body.Channel), logs.String()} {
		if strings.Contains(s, hookSecret) || strings.Contains(s, "header-secret-value") {
			t.Errorf("a secret is shown: %s", s)
		}
	}
}
