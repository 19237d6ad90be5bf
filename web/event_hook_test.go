package web_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/static"
	"github.com/ferry-migrate/ferry/web"
)

// fakeEventHook is a password hook service with the event hook endpoint.
type fakeEventHook struct {
	fakeHook
	challenge string
	delivered int
}

func (f *fakeEventHook) AnswerChallenge(_ context.Context, orgKey string, header http.Header) (int, []byte) {
	f.orgKey, f.challenge = orgKey, header.Get(hook.ChallengeHeader)
	return http.StatusOK, []byte(`{"verification":"` + f.challenge + `"}`)
}

func (f *fakeEventHook) ReceiveEvents(_ context.Context, orgKey string, _ http.Header, body []byte) (int, []byte) {
	f.orgKey, f.delivered = orgKey, len(body)
	if len(body) > hook.MaxEventsBodyBytes {
		return http.StatusBadRequest, []byte(`{"errorSummary":"The delivery is larger than 1 MiB."}`)
	}
	return http.StatusOK, nil
}

// Okta verifies (GET) and delivers (POST) without a session or CSRF token;
// a delivery larger than the console's body limit reaches the service,
// which answers 400 (not the console's 413), and a hook service without the
// event hook leaves the endpoint 404.
func TestTheEventHookRoutesTakeOktasCalls(t *testing.T) {
	assets, err := static.New("/static")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeEventHook{}
	ts := httptest.NewServer(web.New(web.Services{PasswordHook: fake}, assets, slog.New(slog.DiscardHandler), web.Options{}))
	t.Cleanup(ts.Close)
	url := ts.URL + "/api/hooks/okta/events/k3y_org-1"

	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set(hook.ChallengeHeader, "c4ll3nge")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(got) != `{"verification":"c4ll3nge"}` || fake.orgKey != "k3y_org-1" {
		t.Fatalf("GET: %d %s", res.StatusCode, got)
	}
	for _, tc := range []struct {
		size, want, passed int
	}{{100, 200, 100}, {hook.MaxEventsBodyBytes + 4096, 400, hook.MaxEventsBodyBytes + 1}} {
		res, err := http.Post(url, "application/json", bytes.NewReader(bytes.Repeat([]byte("x"), tc.size)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want || fake.delivered != tc.passed {
			t.Errorf("POST of %d bytes: %d (service got %d bytes), want %d", tc.size, res.StatusCode, fake.delivered, tc.want)
		}
	}

	plain := httptest.NewServer(web.New(web.Services{PasswordHook: &fakeHook{}}, assets, slog.New(slog.DiscardHandler), web.Options{}))
	t.Cleanup(plain.Close)
	res, err = http.Get(plain.URL + "/api/hooks/okta/events/k3y_org-1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("without an event hook service: %d", res.StatusCode)
	}
}
