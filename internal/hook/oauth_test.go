package hook_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hook"
)

const (
	hookClientID = "0oaFerryHook"
	hookScope    = "ferry.passwordImport"
	hookAudience = "api://default"
)

// issuer is an authorization server's public side: metadata and keys.
type issuer struct {
	srv *httptest.Server
	mu  sync.Mutex
	// keys are the published keys; fetches counts GETs of the key set.
	keys    []jose.JSONWebKey
	fetches int
	// mode: "" serves, "down" answers 500, "huge" a key set over the
	// limit, "oidc-only" no RFC 8414 metadata.
	mode string
}

func newIssuer(t *testing.T) *issuer {
	i := &issuer{}
	i.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i.mu.Lock()
		defer i.mu.Unlock()
		if i.mode == "down" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		switch r.URL.Path {
		case "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration":
			if i.mode == "oidc-only" && strings.HasSuffix(r.URL.Path, "oauth-authorization-server") {
				http.NotFound(w, r)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": i.srv.URL, "jwks_uri": i.srv.URL + "/keys"})
		case "/keys":
			i.fetches++
			if i.mode == "huge" {
				_, _ = w.Write([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", 300<<10) + `"}`))
				return
			}
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: i.keys})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(i.srv.Close)
	return i
}

func (i *issuer) publish(keys ...signingKey) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = nil
	for _, k := range keys {
		i.keys = append(i.keys, k.public())
	}
}

func (i *issuer) set(mode string) {
	i.mu.Lock()
	i.mode = mode
	i.mu.Unlock()
}

func (i *issuer) fetchCount() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.fetches
}

// signingKey is a private key and its kid.
type signingKey struct {
	kid string
	alg jose.SignatureAlgorithm
	key any
}

func newRSAKey(t *testing.T, kid string) signingKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.RS256, key: k}
}

func newECKey(t *testing.T, kid string) signingKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return signingKey{kid: kid, alg: jose.ES256, key: k}
}

func (k signingKey) public() jose.JSONWebKey {
	jwk := jose.JSONWebKey{Key: k.key, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
	return jwk.Public()
}

func (k signingKey) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.key}, (&jose.SignerOptions{}).WithHeader("kid", k.kid))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// handMade signs header.payload with HMAC-SHA256 under key, or not at all
// (alg none): the tokens a forger crafts by hand.
func handMade(header, claims map[string]any, hmacKey []byte) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	if hmacKey == nil {
		return input + "."
	}
	m := hmac.New(sha256.New, hmacKey)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// oauthWorld is a world whose hook authenticates Okta with OAuth tokens
// from iss.
func oauthWorld(t *testing.T, settings hook.OAuthSettings) (*world, *issuer) {
	t.Helper()
	w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: rightPassword}},
		worldOptions{settings: credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}})
	iss := newIssuer(t)
	if settings.Issuer == "" {
		settings.Issuer = iss.srv.URL
	}
	if settings.Audience == "" {
		settings.Audience = hookAudience
	}
	c, shown, err := w.svc.SaveConfig(w.ctx, w.project.ID, w.config.Version, hook.ConfigInput{AuthType: hook.AuthOAuth, OAuth: &settings})
	if err != nil || shown != "" || c.AuthType != hook.AuthOAuth || c.OAuthIssuer != settings.Issuer {
		t.Fatalf("save OAuth settings: %+v shown=%q %v", c, shown, err)
	}
	w.config = c
	return w, iss
}

func (w *world) claims() map[string]any {
	now := w.clock.Now()
	return map[string]any{"ver": 1, "jti": "AT.x", "iss": w.config.OAuthIssuer, "aud": hookAudience, "iat": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "cid": hookClientID, "scp": []string{hookScope}, "sub": hookClientID}
}

func bearer(token string) http.Header {
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	h.Set("Content-Type", "application/json")
	return h
}

func (w *world) callWith(h http.Header) (int, string) {
	status, body := w.svc.Verify(context.Background(), w.config.OrgKey, h, payload("ann@example.com", rightPassword, anIP))
	return status, string(body)
}

func TestOAuthAccessTokensAreVerified(t *testing.T) {
	w, iss := oauthWorld(t, hook.OAuthSettings{ClientID: hookClientID, Scope: hookScope})
	key, other, ec := newRSAKey(t, "k1"), newRSAKey(t, "k1"), newECKey(t, "e1")
	iss.publish(key, ec)
	now := w.clock.Now()
	with := func(change func(c map[string]any)) map[string]any {
		c := w.claims()
		change(c)
		return c
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.key.(*rsa.PrivateKey).PublicKey)
	publicPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	publicJWK, _ := json.Marshal(key.public())
	valid := key.sign(t, w.claims())
	twice := bearer(valid)
	twice.Add("Authorization", "Bearer "+valid)
	lower := http.Header{"Authorization": {"bearer " + valid}}
	huge := key.sign(t, with(func(c map[string]any) { c["pad"] = strings.Repeat("x", 8<<10) }))

	cases := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"a valid token", bearer(valid), http.StatusOK},
		{"the scheme in lower case", lower, http.StatusOK},
		{"an ES256 token", bearer(ec.sign(t, w.claims())), http.StatusOK},
		{"expired within the leeway", bearer(key.sign(t, with(func(c map[string]any) { c["exp"] = now.Add(-30 * time.Second).Unix() }))), http.StatusOK},
		{"aud as a list", bearer(key.sign(t, with(func(c map[string]any) { c["aud"] = []string{"api://other", hookAudience} }))), http.StatusOK},
		{"client_id instead of cid", bearer(key.sign(t, with(func(c map[string]any) { delete(c, "cid"); c["client_id"] = hookClientID }))), http.StatusOK},
		{"scp as a string", bearer(key.sign(t, with(func(c map[string]any) { c["scp"] = "openid " + hookScope }))), http.StatusOK},
		{"expired", bearer(key.sign(t, with(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() }))), http.StatusUnauthorized},
		{"no expiry", bearer(key.sign(t, with(func(c map[string]any) { delete(c, "exp") }))), http.StatusUnauthorized},
		{"not yet valid", bearer(key.sign(t, with(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() }))), http.StatusUnauthorized},
		{"issued in the future", bearer(key.sign(t, with(func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() }))), http.StatusUnauthorized},
		{"wrong issuer", bearer(key.sign(t, with(func(c map[string]any) { c["iss"] = "https://evil.example.com/oauth2/default" }))), http.StatusUnauthorized},
		{"wrong audience", bearer(key.sign(t, with(func(c map[string]any) { c["aud"] = "api://other" }))), http.StatusUnauthorized},
		{"wrong client", bearer(key.sign(t, with(func(c map[string]any) { c["cid"] = "0oaSomeoneElse" }))), http.StatusUnauthorized},
		{"cid right, client_id wrong", bearer(key.sign(t, with(func(c map[string]any) { c["client_id"] = "0oaSomeoneElse" }))), http.StatusUnauthorized},
		{"no client", bearer(key.sign(t, with(func(c map[string]any) { delete(c, "cid") }))), http.StatusUnauthorized},
		{"missing scope", bearer(key.sign(t, with(func(c map[string]any) { c["scp"] = []string{"openid"} }))), http.StatusUnauthorized},
		{"no scope", bearer(key.sign(t, with(func(c map[string]any) { delete(c, "scp") }))), http.StatusUnauthorized},
		{"signed by another key with the same kid", bearer(other.sign(t, w.claims())), http.StatusUnauthorized},
		{"alg none", bearer(handMade(map[string]any{"alg": "none", "kid": "k1"}, w.claims(), nil)), http.StatusUnauthorized},
		{"HS256 keyed with the public key (PEM)", bearer(handMade(map[string]any{"alg": "HS256", "kid": "k1", "typ": "JWT"}, w.claims(), publicPEM)), http.StatusUnauthorized},
		{"HS256 keyed with the public key (JWK)", bearer(handMade(map[string]any{"alg": "HS256", "kid": "k1", "typ": "JWT"}, w.claims(), publicJWK)), http.StatusUnauthorized},
		{"RS256 header on the EC key", bearer(handMade(map[string]any{"alg": "RS256", "kid": "e1"}, w.claims(), []byte("x"))), http.StatusUnauthorized},
		{"no kid", bearer(handMade(map[string]any{"alg": "RS256"}, w.claims(), []byte("x"))), http.StatusUnauthorized},
		{"no Authorization header", http.Header{}, http.StatusUnauthorized},
		{"two Authorization headers", twice, http.StatusUnauthorized},
		{"Basic scheme", http.Header{"Authorization": {"Basic " + valid}}, http.StatusUnauthorized},
		{"no scheme", http.Header{"Authorization": {valid}}, http.StatusUnauthorized},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}, http.StatusUnauthorized},
		{"a token and more", http.Header{"Authorization": {"Bearer " + valid + " extra"}}, http.StatusUnauthorized},
		{"not a JWT", bearer("not.a.jwt"), http.StatusUnauthorized},
		{"garbage", bearer("\x00\xff{}"), http.StatusUnauthorized},
		{"larger than 8 KiB", bearer(huge), http.StatusUnauthorized},
		{"JWE-shaped", bearer("a.b.c.d.e"), http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := w.callWith(c.header)
			if status != c.want {
				t.Fatalf("%d %s, want %d", status, body, c.want)
			}
			if c.want == http.StatusOK && body != verifiedJSON {
				t.Fatalf("body %s", body)
			}
			if c.want == http.StatusUnauthorized && strings.Contains(body, "VERIFIED") {
				t.Fatalf("a refusal says %s", body)
			}
		})
	}
	if n := iss.fetchCount(); n != 1 {
		t.Fatalf("the key set was fetched %d times, want once", n)
	}
	// Refusals are recorded and audited with the reason, never the token.
	var entries []audit.Entry
	w.db.Read.Where("action = ? AND entity_id = ?", hook.ActionRefused, w.config.ID).Order("id").Find(&entries)
	if len(entries) == 0 || !strings.Contains(entries[0].EntityLabel, "OAuth access token refused: the token has expired") {
		t.Fatalf("audit: %+v", entries)
	}
	if a := w.lastAttempt(); a.Outcome != hook.OutcomeError || a.Cause != hook.CauseUnauthorized {
		t.Fatalf("recorded %s/%s", a.Outcome, a.Cause)
	}
	w.noSecretsStored(valid, strings.Split(valid, ".")[2], rightPassword)
}

// A token signed by a key the cache does not hold makes Ferry fetch the
// key set again, at most once a minute: a rotation is picked up, a forged
// kid costs the issuer one request a minute at most.
func TestAKeyRotationIsFetchedOnceAndForgedKidsAreRateLimited(t *testing.T) {
	w, iss := oauthWorld(t, hook.OAuthSettings{})
	a, b := newRSAKey(t, "a"), newRSAKey(t, "b")
	iss.publish(a)
	expect := func(step string, k signingKey, want, fetches int) {
		t.Helper()
		if status, body := w.callWith(bearer(k.sign(t, w.claims()))); status != want {
			t.Fatalf("%s: %d %s, want %d", step, status, body, want)
		}
		if n := iss.fetchCount(); n != fetches {
			t.Fatalf("%s: %d fetches of the key set, want %d", step, n, fetches)
		}
	}
	expect("first call", a, http.StatusOK, 1)
	expect("key a again, cached", a, http.StatusOK, 1)
	expect("unknown kid within the minute", b, http.StatusUnauthorized, 1)
	w.clock.Advance(61 * time.Second)
	iss.publish(b) // rotation: a withdrawn, b published
	expect("the new key after a minute", b, http.StatusOK, 2)
	expect("the new key again, cached", b, http.StatusOK, 2)
	for i := range 5 {
		expect("forged kid "+string(rune('0'+i)), newRSAKey(t, "forged"), http.StatusUnauthorized, 2)
	}
	expect("the withdrawn key", a, http.StatusUnauthorized, 2)
	w.clock.Advance(61 * time.Second)
	expect("a forged kid after a minute", newRSAKey(t, "forged"), http.StatusUnauthorized, 3)
	// Keys are fetched again after an hour, so that withdrawn keys age out.
	w.clock.Advance(time.Hour)
	expect("an hour later", b, http.StatusOK, 4)
}

func TestUnreachableKeysAre503NotUnauthorized(t *testing.T) {
	for _, mode := range []string{"down", "huge"} {
		t.Run(mode, func(t *testing.T) {
			w, iss := oauthWorld(t, hook.OAuthSettings{})
			k := newRSAKey(t, "k")
			iss.publish(k)
			iss.set(mode)
			status, body := w.callWith(bearer(k.sign(t, w.claims())))
			if status != http.StatusServiceUnavailable || strings.Contains(body, "VERIFIED") {
				t.Fatalf("%d %s, want 503", status, body)
			}
			if a := w.lastAttempt(); a.Outcome != hook.OutcomeError || a.Cause != hook.CauseInternal {
				t.Fatalf("recorded %s/%s", a.Outcome, a.Cause)
			}
			var refused int64
			w.db.Read.Model(&audit.Entry{}).Where("action = ?", hook.ActionRefused).Count(&refused)
			if refused != 0 {
				t.Fatalf("Ferry's failure was audited as a refused request")
			}
			// Back up: after a short wait the keys are fetched again.
			iss.set("")
			w.clock.Advance(6 * time.Second)
			if status, body := w.callWith(bearer(k.sign(t, w.claims()))); status != http.StatusOK {
				t.Fatalf("after recovery: %d %s", status, body)
			}
		})
	}
}

func TestKeysAreFoundByOIDCDiscoveryOrAnExplicitURL(t *testing.T) {
	t.Run("openid-configuration", func(t *testing.T) {
		w, iss := oauthWorld(t, hook.OAuthSettings{})
		iss.set("oidc-only")
		k := newECKey(t, "k")
		iss.publish(k)
		if status, body := w.callWith(bearer(k.sign(t, w.claims()))); status != http.StatusOK {
			t.Fatalf("%d %s", status, body)
		}
	})
	t.Run("explicit JWKS URL", func(t *testing.T) {
		other := newIssuer(t) // serves the keys; the issuer has no metadata at all
		w, _ := oauthWorld(t, hook.OAuthSettings{Issuer: "http://127.0.0.1:1/oauth2/x", JWKSURL: other.srv.URL + "/keys"})
		k := newRSAKey(t, "k")
		other.publish(k)
		if status, body := w.callWith(bearer(k.sign(t, w.claims()))); status != http.StatusOK {
			t.Fatalf("%d %s", status, body)
		}
	})
}

func TestOAuthSettingsAreValidated(t *testing.T) {
	w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: "x"}}, worldOptions{settings: credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}})
	cases := []struct {
		name   string
		in     hook.ConfigInput
		fields []string
	}{
		{"unknown auth type", hook.ConfigInput{AuthType: "basic"}, []string{"auth_type"}},
		{"OAuth without settings", hook.ConfigInput{AuthType: hook.AuthOAuth}, []string{"oauth_issuer", "oauth_audience"}},
		{"no audience", hook.ConfigInput{AuthType: hook.AuthOAuth, OAuth: &hook.OAuthSettings{Issuer: "https://acme.okta.com/oauth2/default"}}, []string{"oauth_audience"}},
		{"http issuer", hook.ConfigInput{AuthType: hook.AuthOAuth, OAuth: &hook.OAuthSettings{Issuer: "http://acme.okta.com/oauth2/default", Audience: "a"}}, []string{"oauth_issuer"}},
		{"issuer with a query", hook.ConfigInput{AuthType: hook.AuthOAuth, OAuth: &hook.OAuthSettings{Issuer: "https://acme.okta.com/?x=1", Audience: "a"}}, []string{"oauth_issuer"}},
		{"issuer not a URL", hook.ConfigInput{AuthType: hook.AuthOAuth, OAuth: &hook.OAuthSettings{Issuer: "acme", Audience: "a"}}, []string{"oauth_issuer"}},
		{"JWKS URL not https", hook.ConfigInput{AuthType: hook.AuthOAuth, OAuth: &hook.OAuthSettings{Issuer: "https://acme.okta.com", Audience: "a", JWKSURL: "ftp://acme/keys"}}, []string{"oauth_jwks_url"}},
		{"scope with a space", hook.ConfigInput{AuthType: hook.AuthOAuth, OAuth: &hook.OAuthSettings{Issuer: "https://acme.okta.com", Audience: "a", Scope: "a b"}}, []string{"oauth_scope"}},
		{"client id with a control character", hook.ConfigInput{AuthType: hook.AuthOAuth, OAuth: &hook.OAuthSettings{Issuer: "https://acme.okta.com", Audience: "a", ClientID: "0oa\n"}}, []string{"oauth_client_id"}},
		{"audience with spaces around", hook.ConfigInput{AuthType: hook.AuthOAuth, OAuth: &hook.OAuthSettings{Issuer: "https://acme.okta.com", Audience: " a "}}, []string{"oauth_audience"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := w.svc.SaveConfig(w.ctx, w.project.ID, w.config.Version, c.in)
			ae := apperr.As(err)
			if ae == nil || ae.Code != apperr.CodeInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			for _, f := range c.fields {
				if ae.Fields[f] == "" {
					t.Fatalf("no message for %s: %v", f, ae.Fields)
				}
			}
		})
	}
	// Nothing was saved by the refused attempts.
	found, err := w.svc.FindConfig(w.ctx, w.project.ID)
	if err != nil || found.AuthType != hook.AuthHeader || found.Version != w.config.Version {
		t.Fatalf("after refusals: %+v %v", found, err)
	}
	// A good change is saved, audited (settings, not secrets), and can be
	// undone; the shared secret stays for the event hook.
	settings := hook.OAuthSettings{Issuer: "https://acme.okta.com/oauth2/default", Audience: hookAudience, ClientID: hookClientID, Scope: hookScope}
	c, shown, err := w.svc.SaveConfig(w.ctx, w.project.ID, w.config.Version, hook.ConfigInput{AuthType: hook.AuthOAuth, OAuth: &settings})
	if err != nil || shown != "" || c.OAuthAudience != hookAudience || c.OAuthScope != hookScope || c.SecretHint != w.config.SecretHint {
		t.Fatalf("save: %+v %q %v", c, shown, err)
	}
	var e audit.Entry
	w.db.Read.Where("entity_type = ?", "password_hook").Order("id DESC").First(&e)
	if !strings.Contains(e.AfterJSON, `"authType":"oauth"`) || !strings.Contains(e.AfterJSON, "acme.okta.com/oauth2/default") {
		t.Fatalf("audit after: %s", e.AfterJSON)
	}
	back, _, err := w.svc.SaveConfig(w.ctx, w.project.ID, c.Version, hook.ConfigInput{AuthType: hook.AuthHeader})
	if err != nil || back.AuthType != hook.AuthHeader || back.OAuthIssuer != settings.Issuer {
		t.Fatalf("back to the header: %+v %v", back, err)
	}
	w.config = back
	w.expect("ann@example.com", "x", anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	w.noSecretsStored(w.secret)
}

// Concurrent first calls wait for one fetch of the key set.
func TestConcurrentCallsShareOneKeyFetch(t *testing.T) {
	w, iss := oauthWorld(t, hook.OAuthSettings{})
	k := newRSAKey(t, "k")
	iss.publish(k)
	token := k.sign(t, w.claims())
	var wg sync.WaitGroup
	statuses := make([]int, 12)
	for i := range statuses {
		wg.Go(func() { statuses[i], _ = w.callWith(bearer(token)) })
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Fatalf("call %d: %d", i, s)
		}
	}
	if n := iss.fetchCount(); n != 1 {
		t.Fatalf("%d fetches of the key set, want 1", n)
	}
}
