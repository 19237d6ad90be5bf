package oktasim

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// The token endpoint checks private_key_jwt client assertions as Okta
// does. The hook key's private key never leaves the sandbox, so this test
// signs from inside the package.
func TestClientAssertionsAreChecked(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s := New(Options{Token: "t", Now: func() time.Time { return now }})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/hook-keys", strings.NewReader(`{"name":"k"}`))
	req.Header.Set("Authorization", "SSWS t")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ ID, KeyID string }
	_ = json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if err := s.AddOAuthClientWithHookKey("0oaKey", created.ID, []string{"ferry.hook"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddOAuthClientWithHookKey("0oaNope", "HKYmissing", nil); err == nil {
		t.Fatal("a client with an unknown hook key was registered")
	}
	s.AddOAuthClient("0oaSecret", "s3cret", []string{"ferry.hook"})
	hookKey := s.oauth.keys[created.ID].private
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	endpoint := srv.URL + AuthServerPath + "/v1/token"
	jti := 0
	assertion := func(key any, alg jose.SignatureAlgorithm, change func(c *jwt.Claims)) string {
		jti++
		c := jwt.Claims{Issuer: "0oaKey", Subject: "0oaKey", Audience: jwt.Audience{endpoint}, IssuedAt: jwt.NewNumericDate(now),
			Expiry: jwt.NewNumericDate(now.Add(5 * time.Minute)), ID: "jti-" + string(rune('a'+jti))}
		if change != nil {
			change(&c)
		}
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := jwt.Signed(sig).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	post := func(a, clientID string) (int, string) {
		f := url.Values{"grant_type": {"client_credentials"}, "scope": {"ferry.hook"},
			"client_assertion_type": {jwtBearerAssertion}, "client_assertion": {a}}
		if clientID != "" {
			f.Set("client_id", clientID)
		}
		res, err := http.PostForm(endpoint, f)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		code, _ := out["error"].(string)
		return res.StatusCode, code
	}
	good := assertion(hookKey, jose.RS256, nil)
	if status, code := post(good, "0oaKey"); status != 200 {
		t.Fatalf("a good assertion: %d %s", status, code)
	}
	cases := []struct {
		name      string
		assertion string
		clientID  string
	}{
		{"replayed", good, ""},
		{"another audience", assertion(hookKey, jose.RS256, func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://evil.example.com/token"} }), ""},
		{"expired", assertion(hookKey, jose.RS256, func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(-time.Second)) }), ""},
		{"no expiry", assertion(hookKey, jose.RS256, func(c *jwt.Claims) { c.Expiry = nil }), ""},
		{"valid for more than an hour", assertion(hookKey, jose.RS256, func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(now.Add(2 * time.Hour)) }), ""},
		{"no jti", assertion(hookKey, jose.RS256, func(c *jwt.Claims) { c.ID = "" }), ""},
		{"sub is another client", assertion(hookKey, jose.RS256, func(c *jwt.Claims) { c.Subject = "0oaSecret" }), ""},
		{"iss a secret client", assertion(hookKey, jose.RS256, func(c *jwt.Claims) { c.Issuer, c.Subject = "0oaSecret", "0oaSecret" }), ""},
		{"client_id disagrees", assertion(hookKey, jose.RS256, nil), "0oaSecret"},
		{"signed by another key", assertion(other, jose.RS256, nil), ""},
		{"HS256", assertion([]byte("0123456789abcdef0123456789abcdef"), jose.HS256, nil), ""},
		{"garbage", "a.b.c", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if status, code := post(c.assertion, c.clientID); status != 401 || code != "invalid_client" {
				t.Fatalf("%d %s, want 401 invalid_client", status, code)
			}
		})
	}
}
