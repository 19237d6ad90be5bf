package okta_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
)

const (
	testToken = "00TESTtokenSSWS-do-not-leak-9f8e7d6c5b4a"
	testDate  = "Sun, 29 Nov 2026 03:30:00 GMT"
)

var testDateTime = time.Date(2026, 11, 29, 3, 30, 0, 0, time.UTC)

// seenRequest is one request the fake org received.
type seenRequest struct {
	Method  string
	Path    string // decoded
	RawPath string
	Query   map[string][]string
	Header  http.Header
	Body    []byte
}

// fakeOrg is an httptest server that records every request and answers
// with the handler a test sets.
type fakeOrg struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
	// answer handles each request; w already has rate-limit headers set.
	answer func(w http.ResponseWriter, r *http.Request)
}

func newFakeOrg(t testing.TB) *fakeOrg {
	t.Helper()
	f := &fakeOrg{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.seen = append(f.seen, seenRequest{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		answer := f.answer
		f.mu.Unlock()
		w.Header().Set("Date", testDate)
		w.Header().Set(okta.HeaderRateLimitLimit, "600")
		w.Header().Set(okta.HeaderRateLimitRemaining, "598")
		w.Header().Set(okta.HeaderRateLimitReset, strconv.FormatInt(testDateTime.Add(42*time.Second).Unix(), 10))
		w.Header().Set(okta.HeaderRequestID, "reqid-123")
		if answer == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		answer(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeOrg) setAnswer(h func(w http.ResponseWriter, r *http.Request)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = h
}

// requests returns the recorded requests and forgets them.
func (f *fakeOrg) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.seen
	f.seen = nil
	return out
}

// last returns the only request recorded since the previous call.
func (f *fakeOrg) last(t testing.TB) seenRequest {
	t.Helper()
	rs := f.requests()
	if len(rs) != 1 {
		t.Fatalf("got %d requests, want 1", len(rs))
	}
	return rs[0]
}

func (f *fakeOrg) client(t testing.TB, mutate ...func(*okta.Config)) *okta.Client {
	t.Helper()
	cfg := okta.Config{OrgURL: f.URL, APIToken: testToken, Version: "1.2.3", Timeout: 5 * time.Second}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := okta.New(cfg)
	if err != nil {
		t.Fatalf("okta.New: %v", err)
	}
	return c
}

// jsonAnswer answers status with body (a string sent as is, anything else
// marshalled).
func jsonAnswer(status int, body any) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		writeBody(w, body)
	}
}

func writeBody(w io.Writer, body any) {
	switch b := body.(type) {
	case nil:
	case string:
		io.WriteString(w, b)
	default:
		json.NewEncoder(w).Encode(b)
	}
}

// sameJSON fails unless got is the JSON encoding of want (compared as values).
func sameJSON(t testing.TB, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: body is not JSON: %v: %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad want: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s: body\n got  %s\n want %s", what, got, want)
	}
}
