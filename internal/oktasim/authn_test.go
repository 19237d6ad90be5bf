package oktasim_test

import (
	"bytes"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

func sha256B64(s string) string {
	d := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(d[:])
}

// saltedHash builds an Okta hash object independently of the sandbox.
func saltedHash(alg string, h func() hash.Hash, password string, salt []byte, order string) map[string]any {
	d := h()
	if order == "PREFIX" {
		d.Write(salt)
		d.Write([]byte(password))
	} else {
		d.Write([]byte(password))
		d.Write(salt)
	}
	return map[string]any{"algorithm": alg, "salt": base64.StdEncoding.EncodeToString(salt), "saltOrder": order,
		"value": base64.StdEncoding.EncodeToString(d.Sum(nil))}
}

func bcryptHash(t *testing.T, password string) map[string]any {
	mcf, err := bcrypt.GenerateFromPassword([]byte(password), 4)
	if err != nil {
		t.Fatal(err)
	}
	// $2a$04$ + 22 salt + 31 hash, split as Okta's KB article says.
	parts := strings.Split(string(mcf), "$")
	var cost int
	fmt.Sscan(parts[2], &cost)
	return map[string]any{"algorithm": "BCRYPT", "workFactor": cost, "salt": parts[3][:22], "value": parts[3][22:]}
}

func pbkdf2Hash(t *testing.T, digest string, h func() hash.Hash, password string) map[string]any {
	salt := []byte("pepper-and-salt")
	key, err := pbkdf2.Key(h, password, salt, 4096, 32)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"algorithm": "PBKDF2", "salt": base64.StdEncoding.EncodeToString(salt), "value": base64.StdEncoding.EncodeToString(key),
		"iterationCount": 4096, "keySize": 32, "digestAlgorithm": digest}
}

func (o *org) signIn(username, password string) response {
	return o.do("POST", "/api/v1/authn", map[string]any{"username": username, "password": password}, "Authorization", "")
}

func wantSignIn(t *testing.T, r response, userID string) {
	t.Helper()
	b := want(t, r, 200, "sign-in")
	if b["status"] != "SUCCESS" || b["sessionToken"] == "" || path(b, "_embedded", "user", "id") != userID {
		t.Fatalf("sign-in = %v", b)
	}
}

func TestSignInVerifiesEachImportedHashAlgorithm(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	const pw = "correct horse battery staple"
	salt := []byte("MySalt\x00\xff")
	cases := map[string]map[string]any{
		"BCRYPT":             bcryptHash(t, pw),
		"SHA-512 PREFIX":     saltedHash("SHA-512", sha512.New, pw, salt, "PREFIX"),
		"SHA-512 POSTFIX":    saltedHash("SHA-512", sha512.New, pw, salt, "POSTFIX"),
		"SHA-256 PREFIX":     saltedHash("SHA-256", sha256.New, pw, salt, "PREFIX"),
		"SHA-256 POSTFIX":    saltedHash("SHA-256", sha256.New, pw, salt, "POSTFIX"),
		"SHA-1 PREFIX":       saltedHash("SHA-1", sha1.New, pw, salt, "PREFIX"),
		"SHA-1 POSTFIX":      saltedHash("SHA-1", sha1.New, pw, salt, "POSTFIX"),
		"MD5 PREFIX":         saltedHash("MD5", md5.New, pw, salt, "PREFIX"),
		"MD5 POSTFIX":        saltedHash("MD5", md5.New, pw, salt, "POSTFIX"),
		"PBKDF2 SHA256_HMAC": pbkdf2Hash(t, "SHA256_HMAC", sha256.New, pw),
		"PBKDF2 SHA512_HMAC": pbkdf2Hash(t, "SHA512_HMAC", sha512.New, pw),
		"SHA-256 unsalted":   {"algorithm": "SHA-256", "value": sha256B64(pw)},
		"SHA-512 KB vector": { // NOTES §1: the support article's verified vector
			"algorithm": "SHA-512", "salt": "JipHQUgqQU8qQUwpQUYjUChBSEcjQQ==", "saltOrder": "POSTFIX",
			"value": "Zz6KwLGDm7ospSipwpDmxAjBWHKPLgGh1roGzI267h6txr/ihTI/R4K2eYrpyc0R24qCSF6DRqNl110vZZtj4A==",
		},
	}
	i := 0
	for name, h := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			login := fmt.Sprintf("algo%d@example.com", i)
			u := o.mustUser("", map[string]any{"profile": profile(login), "credentials": map[string]any{"password": map[string]any{"hash": h}}})
			right := pw
			if name == "SHA-512 KB vector" {
				right = "s3cr3tp@ssw0rd"
			}
			wantError(t, o.signIn(login, right+"x"), 401, "E0000004")
			wantError(t, o.signIn(login, strings.ToUpper(right)), 401, "E0000004")
			wantSignIn(t, o.signIn(login, right), u["id"].(string))
			g := want(t, o.do("GET", "/api/v1/users/"+u["id"].(string), nil), 200, "get")
			if g["lastLogin"] == nil {
				t.Errorf("lastLogin not set after a sign-in")
			}
		})
	}
}

func TestSignInRefusesWhoCannotSignIn(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	pw := "Tr0ub4dor&3x"
	staged := o.mustUser("?activate=false", map[string]any{"profile": profile("staged@example.com"), "credentials": map[string]any{"password": map[string]any{"value": pw}}})
	wantError(t, o.signIn("staged@example.com", pw), 401, "E0000004")
	wantError(t, o.signIn("nobody@example.com", pw), 401, "E0000004")
	want(t, o.do("POST", "/api/v1/users/"+staged["id"].(string)+"/lifecycle/activate", nil), 200, "activate")
	wantSignIn(t, o.signIn("STAGED@example.com", pw), staged["id"].(string))
	wantSignIn(t, o.signIn("staged", pw), staged["id"].(string))
	want(t, o.do("POST", "/api/v1/users/"+staged["id"].(string)+"/lifecycle/deactivate", nil), 200, "deactivate")
	wantError(t, o.signIn("staged@example.com", pw), 401, "E0000004")
	wantError(t, o.do("POST", "/api/v1/authn", map[string]any{"username": "x@example.com"}), 400, "E0000001", "password: The field cannot be left blank")
}

func TestAnInjectedVerifierIsUsed(t *testing.T) {
	var calls atomic.Int32
	o := mustOrg(t, oktasim.Options{Verifier: func(h okta.PasswordHash, password string) (bool, error) {
		calls.Add(1)
		return password == "let me in", nil
	}})
	u := o.mustUser("", map[string]any{"profile": profile("inj@example.com"), "credentials": map[string]any{"password": map[string]any{"hash": map[string]any{"algorithm": "MD5", "value": "jqACjUUFXM1XE6NiLALAbA=="}}}})
	wantSignIn(t, o.signIn("inj@example.com", "let me in"), u["id"].(string))
	if calls.Load() != 1 {
		t.Errorf("verifier called %d times", calls.Load())
	}
}

// hookServer is a password import hook for tests.
type hookServer struct {
	srv     *httptest.Server
	calls   atomic.Int32
	mu      sync.Mutex
	bodies  []map[string]any
	headers []http.Header
	answer  func(n int32, w http.ResponseWriter, body map[string]any)
}

func newHookServer(t *testing.T, answer func(n int32, w http.ResponseWriter, body map[string]any)) *hookServer {
	hs := &hookServer{answer: answer}
	hs.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hs.calls.Add(1)
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		hs.mu.Lock()
		hs.bodies = append(hs.bodies, body)
		hs.headers = append(hs.headers, r.Header.Clone())
		hs.mu.Unlock()
		hs.answer(n, w, body)
	}))
	t.Cleanup(hs.srv.Close)
	return hs
}

func verdict(w http.ResponseWriter, v string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"commands":[{"type":"com.okta.action.update","value":{"credential":%q}}]}`, v)
}

func (o *org) registerHook(uri string) map[string]any {
	o.t.Helper()
	r := o.do("POST", "/api/v1/inlineHooks", map[string]any{"name": "Legacy passwords", "type": "com.okta.user.credential.password.import", "version": "1.0.0",
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{"uri": uri, "method": "POST",
			"headers":    []map[string]string{{"key": "x-any-key", "value": "my-header-value"}},
			"authScheme": map[string]string{"type": "HEADER", "key": "Authorization", "value": "my-shared-secret"}}}})
	return want(o.t, r, 200, "register hook")
}

func hookUser(o *org, login string) string {
	return o.mustUser("", map[string]any{"profile": profile(login), "credentials": map[string]any{"password": map[string]any{"hook": map[string]any{"type": "default"}}}})["id"].(string)
}

func TestPasswordImportHookVerified(t *testing.T) {
	hs := newHookServer(t, func(_ int32, w http.ResponseWriter, body map[string]any) {
		if path(body, "data", "context", "credential", "password") == "legacy-pw" {
			verdict(w, "VERIFIED")
			return
		}
		verdict(w, "UNVERIFIED")
	})
	o := mustOrg(t, oktasim.Options{})
	o.registerHook(hs.srv.URL + "/passwordImport")
	id := hookUser(o, "hooked@example.com")

	wantError(t, o.signIn("hooked@example.com", "wrong"), 401, "E0000004")
	if hs.calls.Load() != 1 {
		t.Fatalf("hook called %d times for an UNVERIFIED password, want 1", hs.calls.Load())
	}
	wantSignIn(t, o.signIn("hooked@example.com", "legacy-pw"), id)
	if hs.calls.Load() != 2 {
		t.Fatalf("hook called %d times, want 2", hs.calls.Load())
	}
	hs.mu.Lock()
	body, hdr := hs.bodies[1], hs.headers[1]
	hs.mu.Unlock()
	if path(body, "eventType") != "com.okta.user.credential.password.import" || path(body, "data", "context", "credential", "username") != "hooked@example.com" ||
		path(body, "data", "action", "credential") != "UNVERIFIED" || path(body, "cloudEventVersion") != "0.1" {
		t.Errorf("hook request body = %v", body)
	}
	if hdr.Get("Authorization") != "my-shared-secret" || hdr.Get("x-any-key") != "my-header-value" || hdr.Get("Content-Type") != "application/json" || hdr.Get("Accept") != "application/json" {
		t.Errorf("hook request headers = %v", hdr)
	}
	u := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get")
	if path(u, "credentials", "provider", "type") != "OKTA" || u["passwordChanged"] == nil {
		t.Errorf("after VERIFIED the provider is %v, want OKTA: %v", path(u, "credentials", "provider"), u)
	}
	// From now on Okta checks its own copy; the hook is not called again.
	wantSignIn(t, o.signIn("hooked@example.com", "legacy-pw"), id)
	wantError(t, o.signIn("hooked@example.com", "wrong"), 401, "E0000004")
	if hs.calls.Load() != 2 {
		t.Errorf("hook called again after VERIFIED (%d calls)", hs.calls.Load())
	}
}

func TestPasswordImportHookUnverifiedAnd204(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer func(int32, http.ResponseWriter, map[string]any)
	}{
		{"UNVERIFIED", func(_ int32, w http.ResponseWriter, _ map[string]any) { verdict(w, "UNVERIFIED") }},
		{"empty 204", func(_ int32, w http.ResponseWriter, _ map[string]any) { w.WriteHeader(http.StatusNoContent) }},
		{"4xx, not retried", func(_ int32, w http.ResponseWriter, _ map[string]any) { w.WriteHeader(http.StatusBadRequest) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			hs := newHookServer(t, c.answer)
			o := mustOrg(t, oktasim.Options{})
			o.registerHook(hs.srv.URL)
			id := hookUser(o, "u@example.com")
			wantError(t, o.signIn("u@example.com", "legacy-pw"), 401, "E0000004")
			if hs.calls.Load() != 1 {
				t.Errorf("hook called %d times, want 1 (no retry)", hs.calls.Load())
			}
			u := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get")
			if path(u, "credentials", "provider", "type") != "IMPORT" {
				t.Errorf("provider = %v, want IMPORT still", path(u, "credentials", "provider"))
			}
			// The next sign-in calls the hook again.
			o.signIn("u@example.com", "legacy-pw")
			if hs.calls.Load() != 2 {
				t.Errorf("hook calls after a second sign-in = %d, want 2", hs.calls.Load())
			}
		})
	}
}

func TestPasswordImportHookTimeoutAndOneRetry(t *testing.T) {
	t.Run("too slow twice: refused after exactly one retry", func(t *testing.T) {
		release := make(chan struct{})
		hs := newHookServer(t, func(_ int32, w http.ResponseWriter, _ map[string]any) {
			select {
			case <-release:
			case <-time.After(2 * time.Second):
			}
			verdict(w, "VERIFIED")
		})
		defer close(release)
		o := mustOrg(t, oktasim.Options{HookTimeout: 250 * time.Millisecond})
		o.registerHook(hs.srv.URL)
		id := hookUser(o, "slow@example.com")
		start := time.Now()
		wantError(t, o.signIn("slow@example.com", "legacy-pw"), 401, "E0000004")
		if took := time.Since(start); took > 1500*time.Millisecond {
			t.Errorf("sign-in took %v; the hook timeout is 250ms per call", took)
		}
		if hs.calls.Load() != 2 {
			t.Errorf("hook called %d times, want 2 (one retry)", hs.calls.Load())
		}
		u := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get")
		if path(u, "credentials", "provider", "type") != "IMPORT" {
			t.Errorf("a timed-out hook imported the password")
		}
	})
	t.Run("slow once, then VERIFIED on the retry", func(t *testing.T) {
		hs := newHookServer(t, func(n int32, w http.ResponseWriter, _ map[string]any) {
			if n == 1 {
				time.Sleep(time.Second)
			}
			verdict(w, "VERIFIED")
		})
		o := mustOrg(t, oktasim.Options{HookTimeout: 250 * time.Millisecond})
		o.registerHook(hs.srv.URL)
		id := hookUser(o, "retry@example.com")
		wantSignIn(t, o.signIn("retry@example.com", "legacy-pw"), id)
		if hs.calls.Load() != 2 {
			t.Errorf("hook called %d times, want 2", hs.calls.Load())
		}
	})
	t.Run("5xx is retried once", func(t *testing.T) {
		hs := newHookServer(t, func(n int32, w http.ResponseWriter, _ map[string]any) {
			if n == 1 {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			verdict(w, "VERIFIED")
		})
		o := mustOrg(t, oktasim.Options{})
		o.registerHook(hs.srv.URL)
		id := hookUser(o, "five@example.com")
		wantSignIn(t, o.signIn("five@example.com", "legacy-pw"), id)
		if hs.calls.Load() != 2 {
			t.Errorf("hook called %d times, want 2", hs.calls.Load())
		}
	})
	t.Run("no active hook: refused", func(t *testing.T) {
		hs := newHookServer(t, func(_ int32, w http.ResponseWriter, _ map[string]any) { verdict(w, "VERIFIED") })
		o := mustOrg(t, oktasim.Options{})
		h := o.registerHook(hs.srv.URL)
		want(t, o.do("POST", "/api/v1/inlineHooks/"+h["id"].(string)+"/lifecycle/deactivate", nil), 200, "deactivate hook")
		hookUser(o, "inactive@example.com")
		wantError(t, o.signIn("inactive@example.com", "legacy-pw"), 401, "E0000004")
		if hs.calls.Load() != 0 {
			t.Errorf("an inactive hook was called")
		}
	})
}

func TestInlineHookRegistration(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	o := mustOrg(t, oktasim.Options{Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))})
	h := o.registerHook("https://hooks.example.com/passwordImport")
	if h["status"] != "ACTIVE" || !strings.HasPrefix(h["id"].(string), "cal") || path(h, "channel", "config", "authScheme", "key") != "Authorization" {
		t.Errorf("hook = %v", h)
	}
	raw, _ := json.Marshal(h)
	if strings.Contains(string(raw), "my-shared-secret") {
		t.Errorf("the hook's secret is shown: %s", raw)
	}
	// One password import hook per org.
	r := o.do("POST", "/api/v1/inlineHooks", map[string]any{"name": "again", "type": "com.okta.user.credential.password.import", "version": "1.0.0",
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{"uri": "https://hooks.example.com/2", "method": "POST"}}})
	wantError(t, r, 400, "E0000001")
	// http:// only on loopback, with a warning.
	mk := func(uri string) response {
		return o.do("POST", "/api/v1/inlineHooks", map[string]any{"name": "token", "type": "com.okta.oauth2.tokens.transform", "version": "1.0.0",
			"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{"uri": uri, "method": "POST"}}})
	}
	wantError(t, mk("http://hooks.example.com/x"), 400, "E0000001", "channel.config.uri: The URI must begin with https://")
	want(t, mk("http://127.0.0.1:9/x"), 200, "http on loopback")
	logMu.Lock()
	if !strings.Contains(logs.String(), "http://") {
		t.Errorf("no warning logged for an http:// hook: %q", logs.String())
	}
	logMu.Unlock()
	list := o.do("GET", "/api/v1/inlineHooks", nil).list(t)
	if len(list) != 2 {
		t.Errorf("hooks listed = %d, want 2", len(list))
	}
	if l := o.do("GET", "/api/v1/inlineHooks?type=com.okta.user.credential.password.import", nil).list(t); len(l) != 1 {
		t.Errorf("hooks of one type = %d, want 1", len(l))
	}
	id := h["id"].(string)
	wantError(t, o.do("DELETE", "/api/v1/inlineHooks/"+id, nil), 403, "E0000038")
	d := want(t, o.do("POST", "/api/v1/inlineHooks/"+id+"/lifecycle/deactivate", nil), 200, "deactivate")
	if d["status"] != "INACTIVE" {
		t.Errorf("after deactivate: %v", d["status"])
	}
	a := want(t, o.do("POST", "/api/v1/inlineHooks/"+id+"/lifecycle/activate", nil), 200, "activate")
	if a["status"] != "ACTIVE" {
		t.Errorf("after activate: %v", a["status"])
	}
	if g := want(t, o.do("GET", "/api/v1/inlineHooks/"+id, nil), 200, "get"); g["id"] != id {
		t.Errorf("get hook = %v", g)
	}
	want(t, o.do("POST", "/api/v1/inlineHooks/"+id+"/lifecycle/deactivate", nil), 200, "deactivate")
	want(t, o.do("DELETE", "/api/v1/inlineHooks/"+id, nil), 204, "delete")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
