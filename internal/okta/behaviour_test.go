package okta_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
)

func TestOrgURLValidation(t *testing.T) {
	good := map[string]string{
		"https://acme.okta.com":            "https://acme.okta.com",
		"https://acme.okta.com/":           "https://acme.okta.com",
		"  https://Acme.Okta.com///  ":     "https://acme.okta.com",
		"HTTPS://acme.oktapreview.com":     "https://acme.oktapreview.com",
		"https://login.acme.example:8443/": "https://login.acme.example:8443",
		"http://localhost:8080":            "http://localhost:8080",
		"http://127.0.0.1:39123/":          "http://127.0.0.1:39123",
		"http://[::1]:9000":                "http://[::1]:9000",
	}
	for in, want := range good {
		c, err := okta.New(okta.Config{OrgURL: in, APIToken: testToken})
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if c.OrgURL() != want {
			t.Errorf("%q → %q, want %q", in, c.OrgURL(), want)
		}
	}
	bad := map[string]string{
		"":                                   "empty",
		"acme.okta.com":                      "scheme and a host",
		"http://acme.okta.com":               "must use https",
		"http://10.0.0.5":                    "must use https",
		"ftp://acme.okta.com":                "not https",
		"https://acme.okta.com/admin":        "no path",
		"https://acme.okta.com/?x=1":         "no path",
		"https://user:pw@acme.okta.com":      "credentials",
		"https://acme-admin.okta.com":        "Admin Console",
		"https://acme.okta.com/api/v1/users": "no path",
	}
	for in, want := range bad {
		_, err := okta.New(okta.Config{OrgURL: in, APIToken: testToken})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want one mentioning %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), testToken) {
			t.Errorf("%q: error shows the token", in)
		}
	}
}

func TestConfigNeedsExactlyOneCleanToken(t *testing.T) {
	for name, cfg := range map[string]okta.Config{
		"none":             {OrgURL: "https://acme.okta.com"},
		"both":             {OrgURL: "https://acme.okta.com", APIToken: "a1234", AccessToken: "b1234"},
		"newline":          {OrgURL: "https://acme.okta.com", APIToken: "abcd1234\n"},
		"negative timeout": {OrgURL: "https://acme.okta.com", APIToken: "abcd1234", Timeout: -time.Second},
	} {
		if _, err := okta.New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "abcd1234") {
			t.Errorf("%s: error shows the token: %v", name, err)
		}
	}
}

// pagedOrg serves users in three pages linked by Link headers; the last link
// can be made to point at another host.
func pagedOrg(t *testing.T, foreign string) *fakeOrg {
	org := newFakeOrg(t)
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		base := "http://" + r.Host
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Query().Get("after") {
		case "":
			w.Header().Add("Link", `<`+base+`/api/v1/users?limit=2>; rel="self"`)
			w.Header().Add("Link", `<`+base+`/api/v1/users?after=00u2&limit=2>; rel="next"`)
			w.Header().Set(okta.HeaderRateLimitRemaining, "599")
			fmt.Fprint(w, `[{"id":"00u1","profile":{"login":"a@example.com"}},{"id":"00u2","profile":{"login":"b@example.com"}}]`)
		case "00u2":
			next := base
			if foreign != "" {
				next = foreign
			}
			// Both links in one header value, next first.
			w.Header().Set("Link", `<`+next+`/api/v1/users?after=00u4&limit=2>; rel="next", <`+base+`/api/v1/users?after=00u2&limit=2>; rel="self"`)
			w.Header().Set(okta.HeaderRateLimitRemaining, "598")
			fmt.Fprint(w, `[{"id":"00u3","profile":{"login":"c@example.com"}},{"id":"00u4","profile":{"login":"d@example.com"}}]`)
		case "00u4":
			w.Header().Set("Link", `<`+base+`/api/v1/users?after=00u4&limit=2>; rel="self"`)
			w.Header().Set(okta.HeaderRateLimitRemaining, "597")
			fmt.Fprint(w, `[{"id":"00u5","profile":{"login":"e@example.com"}}]`)
		default:
			t.Errorf("unexpected after=%q", r.URL.Query().Get("after"))
		}
	})
	return org
}

func TestPaginationFollowsLinkAcrossThreePages(t *testing.T) {
	org := pagedOrg(t, "")
	c := org.client(t)
	ctx := context.Background()
	var ids []string
	var remaining []int
	p, err := c.ListUsers(ctx, okta.UserQuery{Limit: 2})
	for err == nil {
		for _, u := range p.Items {
			ids = append(ids, u.ID)
		}
		remaining = append(remaining, p.Response.RateLimit.Remaining)
		if !p.HasNext() {
			break
		}
		p, err = p.Next(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids, ","); got != "00u1,00u2,00u3,00u4,00u5" {
		t.Errorf("ids = %s", got)
	}
	if fmt.Sprint(remaining) != "[599 598 597]" {
		t.Errorf("remaining per page = %v: each page must expose its own headers", remaining)
	}
	reqs := org.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.Header.Get("Authorization") != "SSWS "+testToken || r.Path != "/api/v1/users" {
			t.Errorf("request %d: %s auth %q", i, r.Path, r.Header.Get("Authorization"))
		}
	}
	if reqs[2].Query["after"][0] != "00u4" || reqs[2].Query["limit"][0] != "2" {
		t.Errorf("third request query = %v, want the link's", reqs[2].Query)
	}

	// A saved cursor resumes.
	p, err = okta.ResumePage[okta.User](ctx, c, org.URL+"/api/v1/users?after=00u4&limit=2")
	if err != nil || len(p.Items) != 1 || p.Items[0].ID != "00u5" || p.HasNext() {
		t.Fatalf("resume: %+v, %v", p, err)
	}
}

func TestPaginationRefusesALinkToAnotherHost(t *testing.T) {
	var stolen atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	defer evil.Close()
	for name, foreign := range map[string]string{
		"other host":   evil.URL,
		"other port":   strings.Replace(evil.URL, "127.0.0.1", "localhost", 1),
		"other scheme": "https://127.0.0.1:1",
	} {
		t.Run(name, func(t *testing.T) {
			org := pagedOrg(t, foreign)
			c := org.client(t)
			p, err := c.ListUsers(context.Background(), okta.UserQuery{Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Next(context.Background())
			if err == nil || !strings.Contains(err.Error(), "refusing next-page link") {
				t.Fatalf("err = %v, want the foreign link refused", err)
			}
			if len(org.requests()) != 2 {
				t.Errorf("want exactly the two pages on the org")
			}
		})
	}
	if stolen.Load() != 0 {
		t.Errorf("the foreign host got %d requests", stolen.Load())
	}
	org := newFakeOrg(t)
	c := org.client(t)
	if _, err := okta.ResumePage[okta.User](context.Background(), c, evil.URL+"/api/v1/users?after=x"); err == nil {
		t.Error("ResumePage accepted a foreign URL")
	}
	if _, err := okta.ResumePage[okta.User](context.Background(), c, org.URL+"/oauth2/v1/token"); err == nil {
		t.Error("ResumePage accepted a path outside /api/v1/")
	}
}

// Error bodies as Okta sends them (NOTES §4, SPEC examples).
const (
	dupLoginBody = `{"errorCode":"E0000001","errorSummary":"Api validation failed: login","errorLink":"E0000001","errorId":"oaeHfmOAx1iRLa0H10DeMz5fQ",
		"errorCauses":[{"errorSummary":"login: An object with this field already exists in the current organization"}]}`
	badEmailBody = `{"errorCode":"E0000001","errorSummary":"Api validation failed: email","errorLink":"E0000001","errorId":"oae1",
		"errorCauses":[{"errorSummary":"email: Does not match required pattern"}]}`
	badHashBody = `{"errorCode":"E0000001","errorSummary":"Api validation failed: password","errorLink":"E0000001","errorId":"oae2",
		"errorCauses":[{"errorSummary":"password: An imported password may only be specified for a user with status: STAGED"}]}`
	rateBody       = `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"sampleQPivGUj_ND5v78vbYWW","errorCauses":[]}`
	badTokenBody   = `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oae3","errorCauses":[]}`
	forbiddenBody  = `{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action","errorLink":"E0000006","errorId":"oae4","errorCauses":[]}`
	notFoundBody   = `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: 00u404 (User)","errorLink":"E0000007","errorId":"oae5","errorCauses":[]}`
	tooManyGroups  = `{"errorCode":"E0000093","errorSummary":"Target count limit exceeded","errorLink":"E0000093","errorId":"oae6","errorCauses":[{"errorSummary":"The number of group targets is too large."}]}`
	activatingBody = `{"errorCode":"E0000112","errorSummary":"Cannot update this user because they are still being activated. Please try again in a few minutes.","errorLink":"E0000112","errorId":"oae7","errorCauses":[]}`
	readOnlyBody   = `{"errorCode":"E0000010","errorSummary":"Service is in read only mode","errorLink":"E0000010","errorId":"oae8","errorCauses":[]}`
)

func TestErrorHelpersClassifyOktaErrors(t *testing.T) {
	type helper struct {
		name string
		is   func(error) bool
	}
	helpers := []helper{
		{"IsDuplicateLogin", okta.IsDuplicateLogin}, {"IsValidation", okta.IsValidation},
		{"IsRateLimited", okta.IsRateLimited}, {"IsConcurrencyLimited", okta.IsConcurrencyLimited},
		{"IsBadToken", okta.IsBadToken}, {"IsForbidden", okta.IsForbidden}, {"IsNotFound", okta.IsNotFound},
		{"IsTooManyGroups", okta.IsTooManyGroups}, {"IsStillActivating", okta.IsStillActivating},
		{"IsReadOnly", okta.IsReadOnly}, {"IsTemporary", okta.IsTemporary},
	}
	tests := []struct {
		name      string
		status    int
		limit     string // X-Rate-Limit-Limit
		body      string
		want      []string // helpers that must say yes; every other says no
		wantCode  string
		wantCause string
	}{
		{"duplicate login", 400, "600", dupLoginBody, []string{"IsDuplicateLogin"}, "E0000001", "login: An object with this field already exists in the current organization"},
		{"bad email is validation, not duplicate", 400, "600", badEmailBody, []string{"IsValidation"}, "E0000001", "email: Does not match required pattern"},
		{"hash on a non-staged user is validation", 400, "600", badHashBody, []string{"IsValidation"}, "E0000001", ""},
		{"rate limit", 429, "600", rateBody, []string{"IsRateLimited", "IsTemporary"}, "E0000047", ""},
		{"concurrency limit", 429, "0", rateBody, []string{"IsRateLimited", "IsConcurrencyLimited", "IsTemporary"}, "E0000047", ""},
		{"bad token", 401, "600", badTokenBody, []string{"IsBadToken"}, "E0000011", ""},
		{"forbidden", 403, "600", forbiddenBody, []string{"IsForbidden"}, "E0000006", ""},
		{"not found", 404, "1000", notFoundBody, []string{"IsNotFound"}, "E0000007", ""},
		{"too many groups", 400, "600", tooManyGroups, []string{"IsTooManyGroups"}, "E0000093", "The number of group targets is too large."},
		{"still activating", 409, "600", activatingBody, []string{"IsStillActivating", "IsTemporary"}, "E0000112", ""},
		{"read only", 503, "600", readOnlyBody, []string{"IsReadOnly", "IsTemporary"}, "E0000010", ""},
	}
	org := newFakeOrg(t)
	c := org.client(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set(okta.HeaderRateLimitLimit, tt.limit)
				if tt.status == 429 {
					w.Header().Set(okta.HeaderRateLimitRemaining, "0")
				}
				jsonAnswer(tt.status, tt.body)(w, r)
			})
			_, _, err := c.CreateUser(context.Background(), okta.CreateUserRequest{Profile: okta.UserProfile{"login": "a@example.com"}}, okta.CreateUserOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, h := range helpers {
				want := false
				for _, w := range tt.want {
					want = want || w == h.name
				}
				if got := h.is(err); got != want {
					t.Errorf("%s = %v, want %v (err: %v)", h.name, got, want, err)
				}
			}
			e, ok := okta.AsError(err)
			if !ok {
				t.Fatalf("%T is not *okta.Error", err)
			}
			if e.StatusCode != tt.status || e.ErrorCode != tt.wantCode || e.ErrorID == "" || e.ErrorSummary == "" {
				t.Errorf("error = %+v", e)
			}
			if tt.wantCause != "" && (len(e.Causes()) != 1 || e.Causes()[0] != tt.wantCause) {
				t.Errorf("causes = %q, want %q", e.Causes(), tt.wantCause)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantCode) || !strings.Contains(msg, e.ErrorID) || !strings.Contains(msg, "createUser (POST /api/v1/users)") {
				t.Errorf("message %q lacks code, errorId or operation", msg)
			}
			if tt.wantCause != "" && !strings.Contains(msg, tt.wantCause) {
				t.Errorf("message %q lacks the cause", msg)
			}
			if e.RateLimit.Limit != e.Response.RateLimit.Limit || e.Response.RequestID != "reqid-123" {
				t.Errorf("rate limit / request id not on the error: %+v", e.Response)
			}
		})
	}
	// Helpers on errors that are not Okta's.
	for _, h := range helpers {
		if h.is(nil) || (h.name != "IsTemporary" && h.is(errors.New("x"))) {
			t.Errorf("%s says yes to a non-Okta error", h.name)
		}
	}
}

func TestA401WithoutAnOktaBodyIsABadToken(t *testing.T) {
	org := newFakeOrg(t)
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		jsonAnswer(401, `{"error":"invalid_token","error_description":"The access token is expired."}`)(w, r)
	})
	_, _, err := org.client(t).GetUser(context.Background(), "00u1")
	if !okta.IsBadToken(err) || okta.IsForbidden(err) || !strings.Contains(err.Error(), "The access token is expired.") {
		t.Errorf("err = %v", err)
	}
}

func TestRateLimitHeadersAreExposedOnSuccessAndError(t *testing.T) {
	org := newFakeOrg(t)
	c := org.client(t)
	org.setAnswer(jsonAnswer(200, userJSON))
	_, res, err := c.GetUser(context.Background(), "00u1")
	if err != nil {
		t.Fatal(err)
	}
	rl := res.RateLimit
	if !rl.Present || rl.Limit != 600 || rl.Remaining != 598 || !rl.Reset.Equal(testDateTime.Add(42*time.Second)) || !rl.Date.Equal(testDateTime) {
		t.Errorf("rate limit = %+v", rl)
	}
	if rl.ResetIn() != 42*time.Second || res.StatusCode != 200 || res.RequestID != "reqid-123" {
		t.Errorf("ResetIn %s status %d request id %q", rl.ResetIn(), res.StatusCode, res.RequestID)
	}

	// A 429 with Remaining 0: the error carries the headers; ResetIn uses the
	// server's Date, not the local clock.
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(okta.HeaderRateLimitRemaining, "0")
		jsonAnswer(429, rateBody)(w, r)
	})
	_, res, err = c.GetUser(context.Background(), "00u1")
	e, ok := okta.AsError(err)
	if !ok || !okta.IsRateLimited(err) || okta.IsConcurrencyLimited(err) {
		t.Fatalf("err = %v", err)
	}
	if e.RateLimit.Remaining != 0 || e.RateLimit.Limit != 600 || e.RateLimit.ResetIn() != 42*time.Second || res.RateLimit != e.RateLimit {
		t.Errorf("429 rate limit = %+v (response %+v)", e.RateLimit, res.RateLimit)
	}

	// Concurrency: limit 0.
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(okta.HeaderRateLimitLimit, "0")
		w.Header().Set(okta.HeaderRateLimitRemaining, "0")
		jsonAnswer(429, rateBody)(w, r)
	})
	_, _, err = c.GetUser(context.Background(), "00u1")
	if !okta.IsConcurrencyLimited(err) || !okta.IsRateLimited(err) {
		t.Errorf("concurrency 429 not recognised: %v", err)
	}

	// No headers at all (a proxy): Present is false, nothing invented.
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Del(okta.HeaderRateLimitLimit)
		w.Header().Del(okta.HeaderRateLimitRemaining)
		w.Header().Del(okta.HeaderRateLimitReset)
		w.WriteHeader(429)
	})
	_, _, err = c.GetUser(context.Background(), "00u1")
	e, _ = okta.AsError(err)
	if e == nil || e.RateLimit.Present || !okta.IsRateLimited(err) || okta.IsConcurrencyLimited(err) || e.RateLimit.ResetIn() != 0 {
		t.Errorf("header-less 429: %+v", e)
	}
}

func TestNonJSONErrorBodiesGiveAClearError(t *testing.T) {
	org := newFakeOrg(t)
	c := org.client(t)
	cases := map[string]func(w http.ResponseWriter, r *http.Request){
		"html 502": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1>\n<hr>nginx</body></html>")
		},
		"json content type, broken body": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			fmt.Fprint(w, `{"errorCode": "E00`)
		},
		"empty 503": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) },
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			org.setAnswer(answer)
			_, _, err := c.GetUser(context.Background(), "00u1")
			e, ok := okta.AsError(err)
			if !ok {
				t.Fatalf("err = %v (%T), want *okta.Error", err, err)
			}
			if e.StatusCode < 500 || e.ErrorCode != "" || !okta.IsTemporary(err) || okta.IsNotFound(err) {
				t.Errorf("error = %+v", e)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(e.StatusCode)) || e.Detail == "" {
				t.Errorf("message %q lacks the status or detail", err)
			}
			t.Log(err)
		})
	}
	// A 200 that is not JSON is an error too, not a zero user.
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>captive portal</html>")
	})
	if u, _, err := c.GetUser(context.Background(), "00u1"); err == nil || u != nil {
		t.Errorf("non-JSON 200: user %+v err %v", u, err)
	}
}

func TestTimeoutBoundsEveryRequest(t *testing.T) {
	org := newFakeOrg(t)
	release := make(chan struct{})
	defer close(release)
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := org.client(t, func(cfg *okta.Config) { cfg.Timeout = 100 * time.Millisecond })
	start := time.Now()
	_, _, err := c.GetUser(context.Background(), "00u1")
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("took %s", took)
	}
	var te *okta.TransportError
	if !errors.As(err, &te) || !te.Timeout() || !errors.Is(err, context.DeadlineExceeded) || !okta.IsTemporary(err) {
		t.Fatalf("err = %v (%T), want a timeout", err, err)
	}
	if !strings.Contains(err.Error(), "getUser") || !strings.Contains(err.Error(), "100ms") || strings.Contains(err.Error(), "00u1") {
		t.Errorf("message %q", err)
	}
}

func TestContextCancellationStopsTheRequest(t *testing.T) {
	org := newFakeOrg(t)
	started := make(chan struct{})
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})
	c := org.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	_, err := c.ListUsers(ctx, okta.UserQuery{})
	if !errors.Is(err, context.Canceled) || okta.IsTemporary(err) {
		t.Fatalf("err = %v, want context.Canceled, not temporary", err)
	}
	// An already-cancelled context sends nothing.
	org.requests()
	if _, err := c.ListUsers(ctx, okta.UserQuery{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := len(org.requests()); n != 0 {
		t.Errorf("%d requests with a cancelled context", n)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var hit atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Add(1) }))
	defer other.Close()
	org := newFakeOrg(t)
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/api/v1/users", http.StatusFound)
	})
	_, _, err := org.client(t).GetUser(context.Background(), "00u1")
	if e, ok := okta.AsError(err); !ok || e.StatusCode != 302 {
		t.Errorf("err = %v, want a 302 error", err)
	}
	if hit.Load() != 0 {
		t.Error("the redirect was followed")
	}
}

// TestSecretsNeverLeak: a server that echoes the request back in its error
// (as a buggy proxy might) must not get the token, the hash, the plaintext
// password or the hook secret into an error message; nor may fmt or slog
// show them.
func TestSecretsNeverLeak(t *testing.T) {
	hash := bcryptHash()
	secrets := []string{testToken, hash.Value, hash.Salt, "Plaintext-Passw0rd!", "hook-shared-secret-42", "my-recovery-answer"}
	org := newFakeOrg(t)
	echo := func(status int, contentType string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			var b strings.Builder
			fmt.Fprintf(&b, "%s %s %s", r.Header.Get("Authorization"), r.URL, org.requestsBodyOf(r))
			echoed := strings.ReplaceAll(b.String(), `"`, `'`)
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			if contentType == "application/json" {
				fmt.Fprintf(w, `{"errorCode":"E0000001","errorSummary":"Api validation failed: %s","errorId":"oaeX","errorCauses":[{"errorSummary":"echo: %s"}]}`, echoed, echoed)
			} else {
				fmt.Fprint(w, "<html>"+echoed+"</html>")
			}
		}
	}
	c := org.client(t)
	ctx := context.Background()
	var errs []error
	for _, answer := range []func(w http.ResponseWriter, r *http.Request){echo(400, "application/json"), echo(502, "text/html")} {
		org.setAnswer(answer)
		_, _, err := c.CreateUser(ctx, okta.CreateUserRequest{Profile: okta.UserProfile{"login": "a@example.com"},
			Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: hash}}}, okta.CreateUserOptions{})
		errs = append(errs, err)
		_, _, err = c.CreateUser(ctx, okta.CreateUserRequest{Profile: okta.UserProfile{"login": "a@example.com"},
			Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: "Plaintext-Passw0rd!"},
				RecoveryQuestion: &okta.RecoveryQuestionCredential{Question: "q?", Answer: "my-recovery-answer"}}}, okta.CreateUserOptions{})
		errs = append(errs, err)
		_, _, err = c.CreateInlineHook(ctx, okta.InlineHookCreate{Name: "h", Type: okta.InlineHookTypePasswordImport, Version: "1.0.0",
			Channel: okta.InlineHookChannel{Type: "HTTP", Version: "1.0.0", Config: &okta.InlineHookChannelConfig{URI: "https://x.example.com",
				AuthScheme: &okta.InlineHookAuthScheme{Type: "HEADER", Key: "Authorization", Value: "hook-shared-secret-42"}}}})
		errs = append(errs, err)
	}
	// Transport errors too.
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	dc, err := okta.New(okta.Config{OrgURL: deadURL, APIToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = dc.CreateUser(ctx, okta.CreateUserRequest{Profile: okta.UserProfile{"login": "a@example.com"},
		Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: hash}}}, okta.CreateUserOptions{})
	errs = append(errs, err)

	var texts []string
	for _, err := range errs {
		if err == nil {
			t.Fatal("want errors")
		}
		texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	// The echo did reach the message (so the test can fail), minus secrets.
	if !strings.Contains(texts[0], "[REDACTED]") {
		t.Errorf("echoed error %q shows no redaction: is the echo working?", texts[0])
	}

	// fmt and slog forms of the client, its config and the request types.
	cfg := okta.Config{OrgURL: org.URL, APIToken: testToken}
	req := okta.CreateUserRequest{Profile: okta.UserProfile{"login": "a@example.com"},
		Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: hash},
			RecoveryQuestion: &okta.RecoveryQuestionCredential{Question: "q?", Answer: "my-recovery-answer"}}}
	plain := okta.PasswordCredential{Value: "Plaintext-Passw0rd!"}
	hook := okta.PasswordImportHook{URI: "https://x.example.com", AuthValue: "hook-shared-secret-42"}
	scheme := okta.InlineHookAuthScheme{Type: "HEADER", Value: "hook-shared-secret-42"}
	hookCreate := okta.InlineHookCreate{Name: "h", Channel: okta.InlineHookChannel{Type: "HTTP", Config: &okta.InlineHookChannelConfig{URI: "https://x.example.com",
		Headers: []okta.InlineHookHeader{{Key: "x-secret", Value: "hook-shared-secret-42"}}, AuthScheme: &scheme}}}
	for _, v := range []any{cfg, &cfg, c, *c, req, &req, *req.Credentials, *req.Credentials.RecoveryQuestion, *hash, hash, plain, hook, scheme, hookCreate, &hookCreate,
		okta.UserActivationToken{ActivationToken: "hook-shared-secret-42", ActivationURL: "https://x/welcome/hook-shared-secret-42"}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			texts = append(texts, fmt.Sprintf(verb, v))
		}
		var logged strings.Builder
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "v", v)
		texts = append(texts, logged.String())
	}
	bearer, err := okta.New(okta.Config{OrgURL: org.URL, AccessToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	texts = append(texts, fmt.Sprintf("%v %+v %#v", bearer, bearer, okta.Config{OrgURL: org.URL, AccessToken: testToken}))

	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%q leaks %q", text, s)
			}
		}
	}
	if got := fmt.Sprint(c); !strings.Contains(got, org.URL) || !strings.Contains(got, "SSWS") {
		t.Errorf("client prints as %q: want the org and the auth kind", got)
	}
}

// requestsBodyOf returns the body of the request being answered (recorded
// by the fake org before the answer runs).
func (f *fakeOrg) requestsBodyOf(r *http.Request) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) == 0 {
		return ""
	}
	return string(f.seen[len(f.seen)-1].Body)
}

func TestRegisterPasswordImportHook(t *testing.T) {
	ctx := context.Background()
	want := okta.PasswordImportHook{URI: "https://ferry.example.com/hooks/password-import", AuthValue: "hook-shared-secret"}

	t.Run("none yet: creates it with HEADER auth", func(t *testing.T) {
		org := newFakeOrg(t)
		org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				jsonAnswer(200, `[]`)(w, r)
				return
			}
			jsonAnswer(200, hookJSON)(w, r)
		})
		h, created, _, err := org.client(t).RegisterPasswordImportHook(ctx, want)
		if err != nil || !created || h.ID != "calr0dvWvbMQJHZCM0g3" {
			t.Fatalf("hook %+v created %v err %v", h, created, err)
		}
		reqs := org.requests()
		if len(reqs) != 2 || reqs[0].Method != "GET" || reqs[0].Query["type"][0] != okta.InlineHookTypePasswordImport || reqs[1].Method != "POST" {
			t.Fatalf("requests = %+v", reqs)
		}
		sameJSON(t, "create", reqs[1].Body, `{"name":"Ferry password import","type":"com.okta.user.credential.password.import","version":"1.0.0",
			"channel":{"type":"HTTP","version":"1.0.0","config":{"uri":"https://ferry.example.com/hooks/password-import","method":"POST",
			"authScheme":{"type":"HEADER","key":"Authorization","value":"hook-shared-secret"}}}}`)
	})
	t.Run("ours but inactive: activates it", func(t *testing.T) {
		org := newFakeOrg(t)
		org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				jsonAnswer(200, "["+strings.Replace(hookJSON, `"ACTIVE"`, `"INACTIVE"`, 1)+"]")(w, r)
				return
			}
			jsonAnswer(200, hookJSON)(w, r)
		})
		h, created, _, err := org.client(t).RegisterPasswordImportHook(ctx, want)
		if err != nil || created || h.Status != okta.InlineHookStatusActive {
			t.Fatalf("hook %+v created %v err %v", h, created, err)
		}
		reqs := org.requests()
		if len(reqs) != 2 || reqs[1].Method != "POST" || reqs[1].Path != "/api/v1/inlineHooks/calr0dvWvbMQJHZCM0g3/lifecycle/activate" {
			t.Fatalf("requests = %+v", reqs)
		}
	})
	t.Run("ours and active: nothing to do", func(t *testing.T) {
		org := newFakeOrg(t)
		org.setAnswer(jsonAnswer(200, "["+hookJSON+"]"))
		h, created, _, err := org.client(t).RegisterPasswordImportHook(ctx, want)
		if err != nil || created || h == nil || len(org.requests()) != 1 {
			t.Fatalf("hook %+v created %v err %v", h, created, err)
		}
	})
	t.Run("another one exists: refuses to replace it", func(t *testing.T) {
		org := newFakeOrg(t)
		org.setAnswer(jsonAnswer(200, "["+strings.Replace(hookJSON, "ferry.example.com", "legacy.example.com", 1)+"]"))
		_, _, _, err := org.client(t).RegisterPasswordImportHook(ctx, want)
		if err == nil || !strings.Contains(err.Error(), "legacy.example.com") || len(org.requests()) != 1 {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFindGroupByNameFollowsPagesAndMatchesExactly(t *testing.T) {
	org := newFakeOrg(t)
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("after") == "" {
			w.Header().Set("Link", `<http://`+r.Host+`/api/v1/groups?after=00g2&limit=200>; rel="next"`)
			jsonAnswer(200, `[{"id":"00g1","type":"OKTA_GROUP","profile":{"name":"Sales EMEA"}}]`)(w, r)
			return
		}
		jsonAnswer(200, `[{"id":"00g2","type":"OKTA_GROUP","profile":{"name":"Sales"}}]`)(w, r)
	})
	c := org.client(t)
	g, _, err := c.FindGroupByName(context.Background(), "Sales")
	if err != nil || g == nil || g.ID != "00g2" {
		t.Fatalf("group %+v err %v", g, err)
	}
	if n := len(org.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	g, res, err := c.FindGroupByName(context.Background(), "Marketing")
	if err != nil || g != nil || res.StatusCode != 200 {
		t.Fatalf("missing group: %+v %+v %v", g, res, err)
	}
	org.setAnswer(jsonAnswer(403, forbiddenBody))
	if _, res, err := c.FindGroupByName(context.Background(), "Sales"); !okta.IsForbidden(err) || res.StatusCode != 403 {
		t.Errorf("err = %v, response %+v", err, res)
	}
}
