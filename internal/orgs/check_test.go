package orgs_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/oktasim"
	"github.com/ferry-migrate/ferry/internal/orgs"
)

// The connection check talks to the org through the Okta client: the
// sandbox is recognised as such, a refused token and an unreachable org
// are said in words, and a real Okta org (any server without the sandbox's
// header) is not taken for the sandbox.
func TestTheConnectionCheckTellsWhatItFound(t *testing.T) {
	ctx := context.Background()
	const token = "sandbox-token-0123456789"
	ts, _ := oktasim.NewTestServer(t, oktasim.Options{Token: token})
	checker := orgs.OktaChecker{Version: "test"}

	res, err := checker.Check(ctx, ts.URL, orgs.SchemeSSWS, token)
	if err != nil || !res.OK || !res.Sandbox || !strings.Contains(res.Message, "sandbox") {
		t.Fatalf("the sandbox with its token: %+v %v", res, err)
	}
	res, err = checker.Check(ctx, ts.URL, orgs.SchemeBearer, token)
	if err != nil || !res.OK || !res.Sandbox {
		t.Fatalf("the sandbox with a bearer token: %+v %v", res, err)
	}
	res, err = checker.Check(ctx, ts.URL, orgs.SchemeSSWS, "wrong-token-0123456789")
	if err != nil || res.OK || !strings.Contains(res.Message, "E0000011") || strings.Contains(res.Message, "wrong-token") {
		t.Fatalf("a wrong token: %+v %v", res, err)
	}

	// A server that answers like Okta but is not the sandbox.
	okta := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Rate-Limit-Limit", "600")
		_, _ = w.Write([]byte("[]"))
	}))
	defer okta.Close()
	if res, err := checker.Check(ctx, okta.URL, orgs.SchemeSSWS, token); err != nil || !res.OK || res.Sandbox {
		t.Fatalf("an org without the sandbox's header: %+v %v", res, err)
	}

	// Nothing listens: said so, with the URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	if res, err := checker.Check(ctx, dead, orgs.SchemeSSWS, token); err != nil || res.OK || !strings.Contains(res.Message, "did not answer") {
		t.Fatalf("an org that does not answer: %+v %v", res, err)
	}
	if _, err := checker.Check(ctx, ts.URL, "basic", token); err == nil {
		t.Fatal("an unknown scheme was accepted")
	}
}
