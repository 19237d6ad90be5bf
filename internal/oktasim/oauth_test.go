package oktasim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

const passwordImport = "com.okta.user.credential.password.import"

func oauthHook(uri string, config map[string]any) map[string]any {
	c := map[string]any{"uri": uri, "method": "POST", "headers": []any{}}
	for k, v := range config {
		c[k] = v
	}
	return map[string]any{"name": "Ferry legacy passwords", "type": passwordImport, "version": "1.0.0",
		"channel": map[string]any{"type": "OAUTH", "version": "1.0.0", "config": c}}
}

func (o *org) mustHookKey(name string) map[string]any {
	o.t.Helper()
	return want(o.t, o.do("POST", "/api/v1/hook-keys", map[string]string{"name": name}), 200, "create hook key")
}

func TestOAuthInlineHooksAreValidatedAsOktaDoes(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	key := o.mustHookKey("Ferry hook key")
	tokenURL := o.srv.URL + oktasim.AuthServerPath + "/v1/token"
	csp := map[string]any{"authType": "client_secret_post", "clientId": "0oaHook", "clientSecret": "s3cret-value", "tokenUrl": tokenURL, "scope": "ferry.hook"}
	without := func(m map[string]any, drop string, set ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			if k != drop {
				out[k] = v
			}
		}
		for i := 0; i+1 < len(set); i += 2 {
			out[set[i].(string)] = set[i+1]
		}
		return out
	}
	pkj := map[string]any{"authType": "private_key_jwt", "clientId": "0oaHook", "hookKeyId": key["id"], "tokenUrl": tokenURL}
	cases := []struct {
		name   string
		config map[string]any
		cause  string
	}{
		{"no authType", without(csp, "authType"), "channel.config.authType: The field cannot be left blank"},
		{"unknown authType", without(csp, "", "authType", "client_secret_basic"), "channel.config.authType: Supported types: client_secret_post, private_key_jwt"},
		{"no clientId", without(csp, "clientId"), "channel.config.clientId: The field cannot be left blank"},
		{"no clientSecret", without(csp, "clientSecret"), "channel.config.clientSecret: The field cannot be left blank"},
		{"no tokenUrl", without(csp, "tokenUrl"), "channel.config.tokenUrl: The field cannot be left blank"},
		{"http tokenUrl", without(csp, "", "tokenUrl", "http://example.com/oauth2/default/v1/token"), "channel.config.tokenUrl: The URI must begin with https://"},
		{"tokenUrl with spaces", without(csp, "", "tokenUrl", "https://example.com/a b"), "channel.config.tokenUrl: The URI is not valid"},
		{"an authScheme", without(csp, "", "authScheme", map[string]string{"type": "HEADER", "key": "Authorization", "value": "x"}), "channel.config.authScheme: Not applicable to the OAUTH channel: must be null"},
		{"no hookKeyId", without(pkj, "hookKeyId"), "channel.config.hookKeyId: The field cannot be left blank"},
		{"unknown hookKeyId", without(pkj, "", "hookKeyId", "HKYnope"), "channel.config.hookKeyId: No hook key with this id exists"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, o.do("POST", "/api/v1/inlineHooks", oauthHook("https://ferry.example.com/hook", c.config)), 400, "E0000001", c.cause)
		})
	}
	bad := oauthHook("https://ferry.example.com/hook", csp)
	bad["channel"].(map[string]any)["type"] = "SOAP"
	wantError(t, o.do("POST", "/api/v1/inlineHooks", bad), 400, "E0000001", "channel.type: Does not match an allowed value (HTTP, OAUTH)")

	// A good one is rendered like Okta's: no secret, authScheme null.
	r := o.do("POST", "/api/v1/inlineHooks", oauthHook("https://ferry.example.com/hook", csp))
	h := want(t, r, 200, "create OAUTH hook")
	if strings.Contains(string(r.Body), "s3cret-value") || strings.Contains(string(r.Body), "clientSecret") {
		t.Fatalf("the client secret is shown: %s", r.Body)
	}
	ch := h["channel"].(map[string]any)
	cfg := ch["config"].(map[string]any)
	if ch["type"] != "OAUTH" || cfg["authType"] != "client_secret_post" || cfg["clientId"] != "0oaHook" || cfg["tokenUrl"] != tokenURL ||
		cfg["scope"] != "ferry.hook" || cfg["authScheme"] != nil || cfg["uri"] != "https://ferry.example.com/hook" {
		t.Fatalf("rendered %v", ch)
	}
	if _, ok := cfg["authScheme"]; !ok {
		t.Fatal("authScheme is not rendered as null")
	}
	got := o.do("GET", "/api/v1/inlineHooks/"+h["id"].(string), nil)
	if strings.Contains(string(got.Body), "s3cret-value") {
		t.Fatal("GET shows the client secret")
	}
}

func TestHookKeysKeepThePrivateKeyInside(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	wantError(t, o.do("POST", "/api/v1/hook-keys", map[string]string{"name": " "}), 400, "E0000001", "name: The field cannot be left blank")
	r := o.do("POST", "/api/v1/hook-keys", map[string]string{"name": "Ferry"})
	k := want(t, r, 200, "create")
	pub, _ := k["_embedded"].(map[string]any)
	if !strings.HasPrefix(k["id"].(string), "HKY") || len(k["keyId"].(string)) != 36 || k["isUsed"] != "false" || pub["kty"] != "RSA" ||
		pub["kid"] != k["keyId"] || pub["n"] == "" || pub["e"] != "AQAB" {
		t.Fatalf("created %s", r.Body)
	}
	for _, private := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, "PRIVATE"} {
		if strings.Contains(string(r.Body), private) {
			t.Fatalf("the answer holds %s: %s", private, r.Body)
		}
	}
	wantError(t, o.do("POST", "/api/v1/hook-keys", map[string]string{"name": "Ferry"}), 400, "E0000001", "name: A key with this name already exists")
	id, keyID := k["id"].(string), k["keyId"].(string)
	plain := want(t, o.do("GET", "/api/v1/hook-keys/"+id, nil), 200, "get")
	if _, ok := plain["_embedded"]; ok || plain["keyId"] != keyID {
		t.Fatalf("get: %v", plain)
	}
	if full := want(t, o.do("GET", "/api/v1/hook-keys/"+id+"?expand=publickey", nil), 200, "get expanded"); full["_embedded"] == nil {
		t.Fatalf("expand=publickey: %v", full)
	}
	if p := want(t, o.do("GET", "/api/v1/hook-keys/public/"+keyID, nil), 200, "public key"); path(p, "_embedded", "n") != pub["n"] {
		t.Fatalf("public key: %v", p)
	}
	wantError(t, o.do("GET", "/api/v1/hook-keys/public/nope", nil), 404, "E0000007")
	wantError(t, o.do("GET", "/api/v1/hook-keys/HKYnope", nil), 404, "E0000007")
	if r := want(t, o.do("PUT", "/api/v1/hook-keys/"+id, map[string]string{"name": "Ferry 2"}), 200, "rename"); r["name"] != "Ferry 2" {
		t.Fatalf("rename: %v", r)
	}
	if l := o.do("GET", "/api/v1/hook-keys", nil).list(t); len(l) != 1 || l[0]["name"] != "Ferry 2" {
		t.Fatalf("list: %v", l)
	}
	// A key a hook uses cannot be deleted.
	want(t, o.do("POST", "/api/v1/inlineHooks", oauthHook("https://ferry.example.com/hook", map[string]any{"authType": "private_key_jwt",
		"clientId": "0oaHook", "hookKeyId": id, "tokenUrl": "https://acme.okta.com/oauth2/default/v1/token"})), 200, "hook")
	if l := o.do("GET", "/api/v1/hook-keys", nil).list(t); l[0]["isUsed"] != "true" {
		t.Fatalf("isUsed: %v", l)
	}
	wantError(t, o.do("DELETE", "/api/v1/hook-keys/"+id, nil), 400, "E0000001")
	unused := o.mustHookKey("spare")
	if r := o.do("DELETE", "/api/v1/hook-keys/"+unused["id"].(string), nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	// The API needs the API token.
	o.token = ""
	wantError(t, o.do("GET", "/api/v1/hook-keys", nil), 401, "E0000011")
}

// tokenRequest posts a form to the sandbox's token endpoint.
func tokenRequest(t *testing.T, o *org, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := http.PostForm(o.srv.URL+oktasim.AuthServerPath+"/v1/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func TestTheAuthorizationServerIssuesAccessTokens(t *testing.T) {
	clock := newFakeClock()
	o := mustOrg(t, oktasim.Options{Now: clock.Now})
	o.sim.AddOAuthClient("0oaHook", "client-s3cret", []string{"ferry.hook", "other"})
	issuer := o.srv.URL + oktasim.AuthServerPath
	md := want(t, o.do("GET", oktasim.AuthServerPath+"/.well-known/oauth-authorization-server", nil, "Authorization", ""), 200, "metadata")
	if md["issuer"] != issuer || md["jwks_uri"] != issuer+"/v1/keys" || md["token_endpoint"] != issuer+"/v1/token" {
		t.Fatalf("metadata %v", md)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(o.do("GET", oktasim.AuthServerPath+"/v1/keys", nil, "Authorization", "").Body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("keys: %v %v", set, err)
	}
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {"0oaHook"}, "client_secret": {"client-s3cret"}, "scope": {"ferry.hook"}}
	status, out := tokenRequest(t, o, good)
	if status != 200 || out["token_type"] != "Bearer" || out["expires_in"] != float64(3600) || out["scope"] != "ferry.hook" {
		t.Fatalf("token: %d %v", status, out)
	}
	tok, err := jwt.ParseSigned(out["access_token"].(string), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || tok.Headers[0].KeyID != set.Keys[0].KeyID {
		t.Fatalf("token: %v", err)
	}
	var claims jwt.Claims
	var okta struct {
		Cid string   `json:"cid"`
		Scp []string `json:"scp"`
	}
	if err := tok.Claims(set.Keys[0].Key, &claims, &okta); err != nil {
		t.Fatal(err)
	}
	if claims.Issuer != issuer || !claims.Audience.Contains(oktasim.AccessTokenAudience) || okta.Cid != "0oaHook" ||
		len(okta.Scp) != 1 || okta.Scp[0] != "ferry.hook" || !claims.Expiry.Time().Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("claims %+v %+v", claims, okta)
	}

	set1 := func(k, v string) url.Values {
		f := url.Values{}
		for key, vals := range good {
			f[key] = vals
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		code   string
	}{
		{"wrong secret", set1("client_secret", "nope"), 401, "invalid_client"},
		{"no secret", set1("client_secret", ""), 401, "invalid_client"},
		{"unknown client", set1("client_id", "0oaWho"), 401, "invalid_client"},
		{"password grant", set1("grant_type", "password"), 400, "unsupported_grant_type"},
		{"no grant", set1("grant_type", ""), 400, "invalid_request"},
		{"no scope", set1("scope", ""), 400, "invalid_scope"},
		{"a scope not granted", set1("scope", "ferry.hook okta.users.manage"), 400, "invalid_scope"},
		{"a forged client assertion", set1("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), 401, "invalid_client"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, out := tokenRequest(t, o, c.form)
			if status != c.status || out["error"] != c.code || out["access_token"] != nil {
				t.Fatalf("%d %v, want %d %s", status, out, c.status, c.code)
			}
		})
	}
	// JSON is not a token request.
	res, err := http.Post(issuer+"/v1/token", "application/json", strings.NewReader(`{"grant_type":"client_credentials"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("JSON body: %d", res.StatusCode)
	}
}

// resourceServer is a hook endpoint that checks Okta's bearer tokens with
// the sandbox's keys, as Ferry does, and says VERIFIED.
type resourceServer struct {
	mu       sync.Mutex
	auth     []string
	tokenErr error
}

func (rs *resourceServer) handler(t *testing.T, o *org, scope string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rs.mu.Lock()
		defer rs.mu.Unlock()
		h := r.Header.Get("Authorization")
		rs.auth = append(rs.auth, h)
		var set jose.JSONWebKeySet
		res, err := http.Get(o.srv.URL + oktasim.AuthServerPath + "/v1/keys")
		if err == nil {
			_ = json.NewDecoder(res.Body).Decode(&set)
			res.Body.Close()
		}
		rs.tokenErr = nil
		tok, err := jwt.ParseSigned(strings.TrimPrefix(h, "Bearer "), []jose.SignatureAlgorithm{jose.RS256})
		if err != nil || len(set.Keys) == 0 {
			rs.tokenErr = err
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var claims struct {
			jwt.Claims
			Scp []string `json:"scp"`
		}
		if err := tok.Claims(set.Keys[0].Key, &claims); err != nil || len(claims.Scp) != 1 || claims.Scp[0] != scope {
			rs.tokenErr = err
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}]}`))
	})
}

func (rs *resourceServer) calls() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]string(nil), rs.auth...)
}

// A hook user's sign-in calls an OAUTH hook with a Bearer token from the
// hook's token URL; the token is reused until a minute before it expires.
func TestSignInCallsAnOAuthHookWithAnAccessToken(t *testing.T) {
	for _, authType := range []string{"client_secret_post", "private_key_jwt"} {
		t.Run(authType, func(t *testing.T) {
			clock := newFakeClock()
			o := mustOrg(t, oktasim.Options{Now: clock.Now})
			rs := &resourceServer{}
			hookSrv := httptest.NewServer(rs.handler(t, o, "ferry.hook"))
			t.Cleanup(hookSrv.Close)
			config := map[string]any{"authType": authType, "clientId": "0oaHook", "tokenUrl": o.srv.URL + oktasim.AuthServerPath + "/v1/token", "scope": "ferry.hook"}
			if authType == "client_secret_post" {
				o.sim.AddOAuthClient("0oaHook", "client-s3cret", []string{"ferry.hook"})
				config["clientSecret"] = "client-s3cret"
			} else {
				key := o.mustHookKey("Ferry")
				if err := o.sim.AddOAuthClientWithHookKey("0oaHook", key["id"].(string), []string{"ferry.hook"}); err != nil {
					t.Fatal(err)
				}
				config["hookKeyId"] = key["id"]
			}
			want(t, o.do("POST", "/api/v1/inlineHooks", oauthHook(hookSrv.URL+"/hook", config)), 200, "hook")
			for _, login := range []string{"ann@example.com", "bob@example.com"} {
				o.mustUser("?activate=true", map[string]any{"profile": profile(login), "credentials": map[string]any{"password": map[string]any{"hook": map[string]string{"type": "default"}}}})
			}
			signIn := func(login string) int {
				return o.do("POST", "/api/v1/authn", map[string]string{"username": login, "password": "whatever-1"}, "Authorization", "").Status
			}
			if s := signIn("ann@example.com"); s != 200 {
				t.Fatalf("sign-in: %d (hook saw %v, %v)", s, rs.calls(), rs.tokenErr)
			}
			if s := signIn("bob@example.com"); s != 200 {
				t.Fatalf("second sign-in: %d", s)
			}
			calls := rs.calls()
			if len(calls) != 2 || !strings.HasPrefix(calls[0], "Bearer ey") || calls[0] != calls[1] {
				t.Fatalf("the hook was called with %v; want the same Bearer token twice", calls)
			}
			// A minute before it expires, a new token is fetched.
			clock.Advance(59*time.Minute + time.Second)
			o.mustUser("?activate=true", map[string]any{"profile": profile("cy@example.com"), "credentials": map[string]any{"password": map[string]any{"hook": map[string]string{"type": "default"}}}})
			if s := signIn("cy@example.com"); s != 200 {
				t.Fatalf("third sign-in: %d", s)
			}
			if calls = rs.calls(); len(calls) != 3 || calls[2] == calls[0] {
				t.Fatal("the token was reused past its time")
			}
		})
	}
}

// A token that cannot be had fails the hook: the sign-in is refused and
// the hook is not called.
func TestAnOAuthHookWithoutATokenRefusesTheSignIn(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	rs := &resourceServer{}
	hookSrv := httptest.NewServer(rs.handler(t, o, "ferry.hook"))
	t.Cleanup(hookSrv.Close)
	o.sim.AddOAuthClient("0oaHook", "the-real-secret", []string{"ferry.hook"})
	want(t, o.do("POST", "/api/v1/inlineHooks", oauthHook(hookSrv.URL+"/hook", map[string]any{"authType": "client_secret_post",
		"clientId": "0oaHook", "clientSecret": "a-wrong-secret", "tokenUrl": o.srv.URL + oktasim.AuthServerPath + "/v1/token", "scope": "ferry.hook"})), 200, "hook")
	o.mustUser("?activate=true", map[string]any{"profile": profile("ann@example.com"), "credentials": map[string]any{"password": map[string]any{"hook": map[string]string{"type": "default"}}}})
	wantError(t, o.do("POST", "/api/v1/authn", map[string]string{"username": "ann@example.com", "password": "whatever-1"}, "Authorization", ""), 401, "E0000004")
	if calls := rs.calls(); len(calls) != 0 {
		t.Fatalf("the hook was called without a token: %v", calls)
	}
}
