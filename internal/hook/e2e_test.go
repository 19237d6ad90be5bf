package hook_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// sandbox calls the sandbox's API.
type sandbox struct {
	t     *testing.T
	url   string
	token string
}

func (s *sandbox) do(method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.url+path, rd)
	req.Header.Set("Authorization", "SSWS "+s.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (s *sandbox) signIn(username, password string) (int, map[string]any) {
	return s.do("POST", "/api/v1/authn", map[string]string{"username": username, "password": password})
}

// Okta's sandbox calls Ferry's endpoint at sign-in, as Okta would: the
// right legacy password signs the person in and Okta keeps it; a wrong one
// fails and imports nothing.
func TestSignInThroughTheSandboxCallsFerrysHook(t *testing.T) {
	const token = "sandbox-token-0123456789"
	simServer, _ := oktasim.NewTestServer(t, oktasim.Options{Token: token})
	sim := &sandbox{t: t, url: simServer.URL, token: token}
	w := newWorld(t, []user{
		{uid: "IBrock7", email: "isaac.brock@example.com", pw: "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
	}, worldOptions{orgURL: simServer.URL, settings: credentials.Input{Attribute: "pw"}})
	ferry := httptest.NewServer(w.svc)
	t.Cleanup(ferry.Close)

	status, hk := sim.do("POST", "/api/v1/inlineHooks", map[string]any{"name": "Ferry legacy passwords", "type": hook.EventType, "version": "1.0.0",
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{"uri": ferry.URL + w.config.Path(), "method": "POST",
			"authScheme": map[string]string{"type": "HEADER", "key": w.config.HeaderName, "value": w.secret}}}})
	if status != http.StatusOK {
		t.Fatalf("register the hook: %d %v", status, hk)
	}
	status, u := sim.do("POST", "/api/v1/users?activate=true", map[string]any{
		"profile":     map[string]string{"login": "isaac.brock@example.com", "email": "isaac.brock@example.com", "firstName": "Isaac", "lastName": "Brock"},
		"credentials": map[string]any{"password": map[string]any{"hook": map[string]string{"type": "default"}}}})
	if status != http.StatusOK {
		t.Fatalf("create the user: %d %v", status, u)
	}
	id := u["id"].(string)

	if status, body := sim.signIn("Isaac.Brock@example.com", "Hello world?"); status != http.StatusUnauthorized {
		t.Fatalf("a wrong password signed in: %d %v", status, body)
	}
	if a := w.lastAttempt(); a.Outcome != hook.OutcomeUnverified || a.Cause != hook.CauseWrongPassword {
		t.Fatalf("recorded %s/%s", a.Outcome, a.Cause)
	}
	status, body := sim.signIn("isaac.brock@example.com", "Hello world!")
	if status != http.StatusOK || body["status"] != "SUCCESS" {
		t.Fatalf("the right password: %d %v", status, body)
	}
	if a := w.lastAttempt(); a.Outcome != hook.OutcomeVerified {
		t.Fatalf("recorded %s/%s", a.Outcome, a.Cause)
	}
	_, got := sim.do("GET", "/api/v1/users/"+id, nil)
	if p, _ := got["credentials"].(map[string]any)["provider"].(map[string]any); p["type"] != "OKTA" {
		t.Fatalf("after the hook verified, the provider is %v, want OKTA", p)
	}
	// Okta now holds the password: signing in again does not call Ferry.
	var before int64
	w.db.Read.Table("hook_attempts").Count(&before)
	if status, body := sim.signIn("isaac.brock@example.com", "Hello world!"); status != http.StatusOK || body["status"] != "SUCCESS" {
		t.Fatalf("second sign-in: %d %v", status, body)
	}
	var after int64
	w.db.Read.Table("hook_attempts").Count(&after)
	if after != before {
		t.Fatalf("the hook was called again after the import (%d attempts, was %d)", after, before)
	}

	// A forged hook call (no secret) is refused.
	res, err := http.Post(ferry.URL+w.config.Path(), "application/json", bytes.NewReader(payload("isaac.brock@example.com", "x", anIP)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged call: %d", res.StatusCode)
	}
	w.noSecretsStored("Hello world!", "Hello world?", w.secret)
}

// Every format Ferry reads, through a sign-in at the sandbox: a hook user's
// wrong password fails and imports nothing, the legacy password signs in
// and Okta keeps it.
func TestSignInThroughTheSandboxForEveryHashFormat(t *testing.T) {
	for _, tc := range formatCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const token = "sandbox-token-0123456789"
			simServer, _ := oktasim.NewTestServer(t, oktasim.Options{Token: token})
			sim := &sandbox{t: t, url: simServer.URL, token: token}
			w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: tc.pw, salt: tc.salt}},
				worldOptions{orgURL: simServer.URL, settings: tc.settings})
			ferry := httptest.NewServer(w.svc)
			t.Cleanup(ferry.Close)
			status, hk := sim.do("POST", "/api/v1/inlineHooks", map[string]any{"name": "Ferry legacy passwords", "type": hook.EventType, "version": "1.0.0",
				"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{"uri": ferry.URL + w.config.Path(), "method": "POST",
					"authScheme": map[string]string{"type": "HEADER", "key": w.config.HeaderName, "value": w.secret}}}})
			if status != http.StatusOK {
				t.Fatalf("register the hook: %d %v", status, hk)
			}
			status, u := sim.do("POST", "/api/v1/users?activate=true", map[string]any{
				"profile":     map[string]string{"login": "ann@example.com", "email": "ann@example.com", "firstName": "Ann", "lastName": "Lee"},
				"credentials": map[string]any{"password": map[string]any{"hook": map[string]string{"type": "default"}}}})
			if status != http.StatusOK {
				t.Fatalf("create the user: %d %v", status, u)
			}
			if status, _ := sim.signIn("ann@example.com", tc.password+"x"); status != http.StatusUnauthorized {
				t.Fatalf("a wrong password signed in: %d", status)
			}
			if status, body := sim.signIn("ann@example.com", tc.password); status != http.StatusOK || body["status"] != "SUCCESS" {
				t.Fatalf("the legacy password: %d %v", status, body)
			}
			_, got := sim.do("GET", "/api/v1/users/"+u["id"].(string), nil)
			if p, _ := got["credentials"].(map[string]any)["provider"].(map[string]any); p["type"] != "OKTA" {
				t.Fatalf("the provider after the import: %v", p)
			}
			// Okta holds the password now: it signs in without Ferry.
			ferry.Close()
			if status, _ := sim.signIn("ann@example.com", tc.password); status != http.StatusOK {
				t.Fatalf("signing in again, with Ferry gone: %d", status)
			}
		})
	}
}
