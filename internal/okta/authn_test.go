package okta_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// Authenticate posts username and password to /api/v1/authn without the
// API token, reads the transaction's status, and keeps the password out of
// its errors.
func TestAuthenticate(t *testing.T) {
	const password = "Secret-Passw0rd!"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/authn" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("authn sent Authorization %q", a)
		}
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		switch body["password"] {
		case password:
			fmt.Fprint(w, `{"status":"SUCCESS","sessionToken":"tok-123","expiresAt":"2026-03-02T09:05:00.000Z"}`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"errorCode":"E0000004","errorSummary":"Authentication failed for %s","errorCauses":[]}`, body["password"])
		}
	}))
	defer srv.Close()
	c, err := okta.New(okta.Config{OrgURL: srv.URL, APIToken: "api-token-xyz"})
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := c.Authenticate(t.Context(), "a@example.com", password)
	if err != nil || res.Status != okta.AuthnSuccess || res.ExpiresAt.IsZero() {
		t.Fatalf("right password: %+v %v", res, err)
	}
	if s := fmt.Sprintf("%+v", *res); strings.Contains(s, "tok-123") {
		t.Errorf("the session token is kept: %s", s)
	}
	_, _, err = c.Authenticate(t.Context(), "a@example.com", "Wrong-Passw0rd!")
	if !okta.IsAuthFailed(err) || strings.Contains(err.Error(), "Wrong-Passw0rd!") {
		t.Errorf("wrong password: %v", err)
	}
	if _, _, err := c.Authenticate(t.Context(), "a@example.com", ""); err == nil {
		t.Error("an empty password was sent")
	}
}
