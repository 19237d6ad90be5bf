package oktasim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

const testToken = "00sandbox-token"

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type org struct {
	t      *testing.T
	srv    *httptest.Server
	sim    *oktasim.Server
	token  string
	scheme string
}

// mustOrg starts a sandbox for the test; opts.Token defaults to testToken.
func mustOrg(t *testing.T, opts oktasim.Options) *org {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	srv, sim := oktasim.NewTestServer(t, opts)
	return &org{t: t, srv: srv, sim: sim, token: opts.Token, scheme: "SSWS"}
}

type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (o *org) request(method, path string, body any, header ...string) *http.Request {
	o.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			buf, err := json.Marshal(b)
			if err != nil {
				o.t.Fatal(err)
			}
			rd = bytes.NewReader(buf)
		}
	}
	req, err := http.NewRequest(method, o.srv.URL+path, rd)
	if err != nil {
		o.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if o.token != "" {
		req.Header.Set("Authorization", o.scheme+" "+o.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	return req
}

// do sends one request; header is key, value pairs (an empty value deletes).
func (o *org) do(method, path string, body any, header ...string) response {
	o.t.Helper()
	res, err := http.DefaultClient.Do(o.request(method, path, body, header...))
	if err != nil {
		o.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		o.t.Fatal(err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func (r response) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

func (r response) list(t *testing.T) []map[string]any {
	t.Helper()
	var m []map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON array: %v: %s", err, r.Body)
	}
	return m
}

// want fails unless r has status; it returns the body as an object (or nil).
func want(t *testing.T, r response, status int, what string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Body)
	}
	if len(r.Body) == 0 || r.Body[0] != '{' {
		return nil
	}
	return r.obj(t)
}

// wantError checks Okta's error body: status, code, errorLink, errorId,
// and that each wanted cause is among errorCauses.
func wantError(t *testing.T, r response, status int, code string, causes ...string) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d (%s): %s", r.Status, status, code, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q", ct)
	}
	var e struct {
		ErrorCode    string `json:"errorCode"`
		ErrorSummary string `json:"errorSummary"`
		ErrorLink    string `json:"errorLink"`
		ErrorID      string `json:"errorId"`
		ErrorCauses  []struct {
			ErrorSummary string `json:"errorSummary"`
		} `json:"errorCauses"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("error body is not JSON: %s", r.Body)
	}
	if e.ErrorCode != code || e.ErrorLink != code || e.ErrorID == "" || e.ErrorSummary == "" || e.ErrorCauses == nil {
		t.Fatalf("error body = %s, want errorCode=errorLink=%s, an errorId, a summary and errorCauses", r.Body, code)
	}
	for _, c := range causes {
		found := false
		for _, got := range e.ErrorCauses {
			if got.ErrorSummary == c {
				found = true
			}
		}
		if !found {
			t.Errorf("errorCauses of %s lack %q", r.Body, c)
		}
	}
	return r.obj(t)
}

func profile(login string) map[string]any {
	return map[string]any{"login": login, "email": login, "firstName": "Isaac", "lastName": "Brock"}
}

// mustUser creates a user and returns it.
func (o *org) mustUser(query string, body map[string]any) map[string]any {
	o.t.Helper()
	r := o.do("POST", "/api/v1/users"+query, body)
	return want(o.t, r, 200, "create user")
}

func (o *org) mustGroup(name string) string {
	o.t.Helper()
	r := o.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": name, "description": "d"}})
	return want(o.t, r, 200, "create group")["id"].(string)
}

func path(m map[string]any, keys ...string) any {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func httpClient() *http.Client { return http.DefaultClient }
