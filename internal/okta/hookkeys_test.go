package okta_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/okta"
)

const oauthSecret = "b-iATvTu7sIocvhWx95S9kF-do-not-leak"

func oauthHookCreate() okta.InlineHookCreate {
	return okta.InlineHookCreate{Name: "Ferry", Type: okta.InlineHookTypePasswordImport, Version: "1.0.0",
		Channel: okta.InlineHookChannel{Type: okta.InlineHookChannelOAuth, Version: "1.0.0",
			Config: &okta.InlineHookChannelConfig{URI: "https://ferry.example.com/api/hooks/okta/password-import/k3y", Method: "POST"},
			OAuth: &okta.InlineHookOAuthConfig{AuthType: okta.InlineHookOAuthClientSecretPost, ClientID: "0oaj43vkrq7wKxZSI5e6",
				ClientSecret: oauthSecret, TokenURL: "https://example.okta.com/oauth2/default/v1/token", Scope: "ferry.hook"}}}
}

// An OAUTH channel travels as one config object, as Okta's document has
// it, and Okta's document accepts the request.
func TestAnOAuthChannelIsOneConfigObject(t *testing.T) {
	b, err := json.Marshal(oauthHookCreate())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Channel struct {
			Type   string         `json:"type"`
			Config map[string]any `json:"config"`
		} `json:"channel"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	c := got.Channel.Config
	if got.Channel.Type != "OAUTH" || c["uri"] == nil || c["method"] != "POST" || c["authType"] != "client_secret_post" ||
		c["clientId"] != "0oaj43vkrq7wKxZSI5e6" || c["clientSecret"] != oauthSecret || c["tokenUrl"] == nil || c["scope"] != "ferry.hook" {
		t.Fatalf("sent %s", b)
	}
	if _, ok := c["authScheme"]; ok {
		t.Fatalf("an OAUTH channel carries an authScheme: %s", b)
	}
	// An HTTP channel is unchanged.
	h := okta.InlineHookChannel{Type: okta.InlineHookChannelHTTP, Version: "1.0.0", Config: &okta.InlineHookChannelConfig{URI: "https://x.example.com", Method: "POST",
		AuthScheme: &okta.InlineHookAuthScheme{Type: "HEADER", Key: "Authorization", Value: "s"}}}
	if b, _ := json.Marshal(h); !strings.Contains(string(b), `"authScheme":{"type":"HEADER"`) || strings.Contains(string(b), "authType") {
		t.Fatalf("HTTP channel: %s", b)
	}

	v := oktaSpec(t)
	req, _ := http.NewRequest("POST", "https://example.okta.com/api/v1/inlineHooks", bytes.NewReader(mustJSON(t, oauthHookCreate())))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "SSWS x")
	if ok, errs := v.ValidateHttpRequest(req); !ok {
		t.Fatalf("Okta's document does not accept the request:%s", describe(errs))
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Okta's answer (its example InlineHookMgmtCreateOAuthPrivateKeyResponse)
// reads back into Config and OAuth.
func TestAnOAuthHookIsReadBack(t *testing.T) {
	answer := `{"id":"calj4fythrqj5Bxol4ai6","status":"ACTIVE","name":"Token Hook","type":"com.okta.oauth2.tokens.transform","version":"1.0.0",
		"channel":{"type":"OAUTH","version":"1.0.0","config":{"uri":"https://example.com/tokenHook","headers":[],"method":"POST","authScheme":null,
		"clientId":"0oaj43vkrq7wKxZSI5d7","tokenUrl":"https://subdomain.okta.com/oauth2/default/v1/token","authType":"private_key_jwt","scope":null,
		"hookKeyId":"HKYj4ft1a3fjmwZg05d6"}},"created":"2024-08-22T21:01:09.000Z","lastUpdated":"2024-09-05T16:06:09.000Z"}`
	var h okta.InlineHook
	if err := json.Unmarshal([]byte(answer), &h); err != nil {
		t.Fatal(err)
	}
	if h.Channel.Config == nil || h.Channel.Config.URI != "https://example.com/tokenHook" || h.Channel.Config.AuthScheme != nil ||
		h.Channel.OAuth == nil || h.Channel.OAuth.HookKeyID != "HKYj4ft1a3fjmwZg05d6" || h.Channel.OAuth.AuthType != okta.InlineHookOAuthPrivateKeyJWT {
		t.Fatalf("read %+v / %+v", h.Channel.Config, h.Channel.OAuth)
	}
	var plain okta.InlineHook
	if err := json.Unmarshal([]byte(strings.Replace(answer, `"type":"OAUTH"`, `"type":"HTTP"`, 1)), &plain); err != nil || plain.Channel.OAuth != nil {
		t.Fatalf("an HTTP channel has OAuth settings: %+v %v", plain.Channel.OAuth, err)
	}
}

func TestTheClientSecretStaysOutOfLogs(t *testing.T) {
	body := oauthHookCreate()
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&out, nil))
	log.Info("create", "hook", body, "channel", body.Channel, "oauth", *body.Channel.OAuth)
	for _, verb := range []string{"%v", "%+v", "%s", "%#v"} {
		fmt.Fprintf(&out, verb, *body.Channel.OAuth)
		fmt.Fprintf(&out, verb, body.Channel)
	}
	if strings.Contains(out.String(), oauthSecret) {
		t.Fatalf("the client secret leaks: %s", out.String())
	}
	if !strings.Contains(out.String(), "0oaj43vkrq7wKxZSI5e6") {
		t.Fatalf("the client id is not shown: %s", out.String())
	}
}

func TestHookKeysAreCreatedAndRead(t *testing.T) {
	org := newFakeOrg(t)
	created := `{"id":"HKY1p7jWLndGQV9M60g4","keyId":"7fbc27fd-e3df-4522-86bf-1930110256ad","name":"My new key","created":"2022-08-31T18:09:58.000Z",
		"lastUpdated":"2022-08-31T18:09:58.000Z","isUsed":"false","_embedded":{"kty":"RSA","alg":"RSA","kid":"7fbc27fd-e3df-4522-86bf-1930110256ad","use":null,"e":"AQAB","n":"2naqCnv6r4xNQs72"}}`
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "POST" && r.URL.Path == "/api/v1/hook-keys":
			if b := org.requestsBodyOf(r); b != `{"name":"My new key"}` {
				t.Errorf("body %s", b)
			}
			_, _ = w.Write([]byte(created))
		case r.Method == "GET" && r.URL.Path == "/api/v1/hook-keys/HKY1p7jWLndGQV9M60g4":
			_, _ = w.Write([]byte(`{"id":"HKY1p7jWLndGQV9M60g4","keyId":"7fbc27fd-e3df-4522-86bf-1930110256ad","name":"My new key","isUsed":"true"}`))
		default:
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"errorCode":"E0000007","errorSummary":"Not found"}`))
		}
	})
	c := org.client(t, func(*okta.Config) {})
	ctx := context.Background()
	k, _, err := c.CreateHookKey(ctx, "My new key")
	if err != nil || k.ID != "HKY1p7jWLndGQV9M60g4" || k.PublicKey == nil || k.PublicKey.E != "AQAB" || k.PublicKey.Use != nil || k.IsUsed != "false" {
		t.Fatalf("create: %+v %v", k, err)
	}
	got, _, err := c.GetHookKey(ctx, k.ID)
	if err != nil || got.KeyID != k.KeyID || got.IsUsed != "true" || got.PublicKey != nil {
		t.Fatalf("get: %+v %v", got, err)
	}
	for _, bad := range []func() error{
		func() error { _, _, err := c.CreateHookKey(ctx, " "); return err },
		func() error { _, _, err := c.CreateHookKey(ctx, strings.Repeat("k", 256)); return err },
		func() error { _, _, err := c.GetHookKey(ctx, ""); return err },
		func() error { _, _, err := c.GetHookKey(ctx, ".."); return err },
	} {
		if bad() == nil {
			t.Fatal("a bad argument was sent")
		}
	}
	if _, _, err := c.GetHookKey(ctx, "HKYnope"); err == nil {
		t.Fatal("404 is not an error")
	}
}
