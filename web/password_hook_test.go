package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/static"
	"github.com/ferry-migrate/ferry/web"
)

// fakeHook records what the route passes to the hook service.
type fakeHook struct {
	orgKey, auth string
	body         []byte
}

func (f *fakeHook) Verify(_ context.Context, orgKey string, header http.Header, body []byte) (int, []byte) {
	f.orgKey, f.auth, f.body = orgKey, header.Get("Authorization"), body
	return http.StatusOK, []byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}]}`)
}

func (f *fakeHook) MaxBodyBytes() int { return 1024 }

// Okta posts without a session or CSRF token: the route passes the org
// key, the headers and the body (cut one byte past the service's limit, so
// that the service can refuse it) and answers the service's JSON as is.
func TestThePasswordHookRouteTakesOktasRequest(t *testing.T) {
	assets, err := static.New("/static")
	if err != nil {
		t.Fatal(err)
	}
	fake := &fakeHook{}
	srv := web.New(web.Services{PasswordHook: fake}, assets, slog.New(slog.DiscardHandler), web.Options{})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	for _, tc := range []struct {
		body    string
		wantLen int
	}{{`{"data":{}}`, 11}, {strings.Repeat("x", 5000), 1025}} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/hooks/okta/password-import/k3y_org-1", strings.NewReader(tc.body))
		req.Header.Set("Authorization", "the-shared-secret")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(got), `"VERIFIED"`) || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%d %s %s", res.StatusCode, res.Header.Get("Content-Type"), got)
		}
		if fake.orgKey != "k3y_org-1" || fake.auth != "the-shared-secret" || len(fake.body) != tc.wantLen {
			t.Fatalf("passed org key %q, auth %q, %d bytes", fake.orgKey, fake.auth, len(fake.body))
		}
	}
}
