package okta_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// TestLifecycleEndpointsSendTheSpecRequest checks method, path, query and
// body of updateUser, suspendUser, unsuspendUser, expirePassword,
// listUserGroups and activateUser's sendEmail, and what the client makes of
// the answer.
func TestLifecycleEndpointsSendTheSpecRequest(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func(c *okta.Client) (any, error)
		method string
		path   string // escaped
		query  url.Values
		body   string // "" = no body
		status int
		answer string
		check  func(t *testing.T, got any)
	}{
		{
			name: "update user: partial profile, null clears, new hash",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.UpdateUser(ctx, "00ub0oNGTSWTBKOLGLNR", okta.UpdateUserRequest{
					Profile:     okta.UserProfile{"title": "Singer", "managerId": "00u2", "costCenter": nil},
					Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: bcryptHash()}},
				})
				return u, err
			},
			method: "POST", path: "/api/v1/users/00ub0oNGTSWTBKOLGLNR",
			body: `{"profile":{"title":"Singer","managerId":"00u2","costCenter":null},
			        "credentials":{"password":{"hash":{"algorithm":"BCRYPT","workFactor":10,"salt":"rwh3vH166HCH/NT9XV5FYu","value":"qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"}}}}`,
			status: 200, answer: userJSON,
			check: func(t *testing.T, got any) {
				if u := got.(*okta.User); u.ID != "00ub0oNGTSWTBKOLGLNR" || u.Status != okta.StatusActive {
					t.Errorf("user = %+v", u)
				}
			},
		},
		{
			name: "update user: profile only, no credentials key",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.UpdateUser(ctx, "00u1", okta.UpdateUserRequest{Profile: okta.UserProfile{"department": "Sales"}})
				return u, err
			},
			method: "POST", path: "/api/v1/users/00u1", body: `{"profile":{"department":"Sales"}}`, status: 200, answer: userJSON,
		},
		{
			name: "update user: credentials only, no profile key",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.UpdateUser(ctx, "00u1", okta.UpdateUserRequest{Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: "uTVM,TPw55"}}})
				return u, err
			},
			method: "POST", path: "/api/v1/users/00u1", body: `{"credentials":{"password":{"value":"uTVM,TPw55"}}}`, status: 200, answer: userJSON,
		},
		{
			name: "suspend user",
			call: func(c *okta.Client) (any, error) {
				res, err := c.SuspendUser(ctx, "00u1")
				return res, err
			},
			method: "POST", path: "/api/v1/users/00u1/lifecycle/suspend", status: 200,
			check: func(t *testing.T, got any) {
				if res := got.(okta.Response); res.StatusCode != 200 || !res.RateLimit.Present {
					t.Errorf("response = %+v", res)
				}
			},
		},
		{
			name: "unsuspend user",
			call: func(c *okta.Client) (any, error) {
				res, err := c.UnsuspendUser(ctx, "00u1")
				return res, err
			},
			method: "POST", path: "/api/v1/users/00u1/lifecycle/unsuspend", status: 200,
		},
		{
			name: "expire password",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.ExpirePassword(ctx, "00ub0oNGTSWTBKOLGLNR")
				return u, err
			},
			method: "POST", path: "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/expire_password", status: 200,
			answer: strings.Replace(userJSON, `"status": "ACTIVE"`, `"status": "PASSWORD_EXPIRED"`, 1),
			check: func(t *testing.T, got any) {
				if u := got.(*okta.User); u.Status != okta.StatusPasswordExpired {
					t.Errorf("status = %s, want PASSWORD_EXPIRED", u.Status)
				}
			},
		},
		{
			name: "list user groups",
			call: func(c *okta.Client) (any, error) {
				g, _, err := c.ListUserGroups(ctx, "00u1")
				return g, err
			},
			method: "GET", path: "/api/v1/users/00u1/groups", status: 200, answer: "[" + groupJSON + "]",
			check: func(t *testing.T, got any) {
				if g := got.([]okta.Group); len(g) != 1 || g[0].ID != "00g1emaKYZTWRYYRRTSK" || g[0].Profile.Name != "West Coast users" {
					t.Errorf("groups = %+v", g)
				}
			},
		},
		{
			name: "list user groups: empty",
			call: func(c *okta.Client) (any, error) {
				g, _, err := c.ListUserGroups(ctx, "00u1")
				return g, err
			},
			method: "GET", path: "/api/v1/users/00u1/groups", status: 200, answer: "null",
			check: func(t *testing.T, got any) {
				if g := got.([]okta.Group); g == nil || len(g) != 0 {
					t.Errorf("groups = %#v, want an empty non-nil slice", g)
				}
			},
		},
		{
			name: "activate user: sendEmail=true is sent as given",
			call: func(c *okta.Client) (any, error) {
				tok, _, err := c.ActivateUser(ctx, "00u1", true)
				return tok, err
			},
			method: "POST", path: "/api/v1/users/00u1/lifecycle/activate", query: url.Values{"sendEmail": {"true"}}, status: 200, answer: `{}`,
		},
		{
			name: "activate user: sendEmail=false is sent as given",
			call: func(c *okta.Client) (any, error) {
				tok, _, err := c.ActivateUser(ctx, "00u1", false)
				return tok, err
			},
			method: "POST", path: "/api/v1/users/00u1/lifecycle/activate", query: url.Values{"sendEmail": {"false"}}, status: 200,
			answer: `{"activationUrl":"https://example.okta.com/welcome/XE6wE17zmphl3KqAPFxO","activationToken":"XE6wE17zmphl3KqAPFxO"}`,
			check: func(t *testing.T, got any) {
				if tok := got.(*okta.UserActivationToken); tok.ActivationToken != "XE6wE17zmphl3KqAPFxO" {
					t.Errorf("token = %q", tok.ActivationToken)
				}
			},
		},
		{
			name: "reset password: sendEmail=true, Okta answers {}",
			call: func(c *okta.Client) (any, error) {
				tok, _, err := c.ResetPassword(ctx, "00u1", true)
				return tok, err
			},
			method: "POST", path: "/api/v1/users/00u1/lifecycle/reset_password", query: url.Values{"sendEmail": {"true"}}, status: 200, answer: `{}`,
			check: func(t *testing.T, got any) {
				if tok := got.(*okta.ResetPasswordToken); tok == nil || tok.ResetPasswordURL != "" {
					t.Errorf("token = %#v", tok)
				}
			},
		},
		{
			name: "reset password: sendEmail=false returns the link",
			call: func(c *okta.Client) (any, error) {
				tok, _, err := c.ResetPassword(ctx, "00ub0oNGTSWTBKOLGLNR", false)
				return tok, err
			},
			method: "POST", path: "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/reset_password", query: url.Values{"sendEmail": {"false"}}, status: 200,
			answer: `{"resetPasswordUrl":"https://example.okta.com/reset_password/XE6wE17zmphl3KqAPFxO"}`,
			check: func(t *testing.T, got any) {
				tok := got.(*okta.ResetPasswordToken)
				if tok.ResetPasswordURL != "https://example.okta.com/reset_password/XE6wE17zmphl3KqAPFxO" {
					t.Errorf("link = %q", tok.ResetPasswordURL)
				}
				var logged strings.Builder
				slog.New(slog.NewTextHandler(&logged, nil)).Info("reset", "token", tok)
				if s := fmt.Sprint(tok) + fmt.Sprintf("%+v %v", *tok, tok) + logged.String(); strings.Contains(s, "XE6wE17") {
					t.Errorf("the link leaks: %s", s)
				}
			},
		},
		{
			name: "user id is path-escaped",
			call: func(c *okta.Client) (any, error) {
				res, err := c.SuspendUser(ctx, "00u 1?x")
				return res, err
			},
			method: "POST", path: "/api/v1/users/00u%201%3Fx/lifecycle/suspend", status: 200,
		},
	}
	org := newFakeOrg(t)
	c := org.client(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
				if tt.answer != "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tt.status)
				writeBody(w, tt.answer)
			})
			got, err := tt.call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			req := org.last(t)
			if req.Method != tt.method || req.RawPath != tt.path {
				t.Errorf("request = %s %s, want %s %s", req.Method, req.RawPath, tt.method, tt.path)
			}
			wantQuery := tt.query
			if wantQuery == nil {
				wantQuery = url.Values{}
			}
			if !reflect.DeepEqual(url.Values(req.Query), wantQuery) {
				t.Errorf("query = %v, want %v", req.Query, wantQuery)
			}
			if got := req.Header.Get("Authorization"); got != "SSWS "+testToken {
				t.Errorf("Authorization = %q", got)
			}
			if tt.body == "" {
				if len(req.Body) != 0 || req.Header.Get("Content-Type") != "" {
					t.Errorf("unexpected body %q (Content-Type %q)", req.Body, req.Header.Get("Content-Type"))
				}
			} else {
				if req.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Content-Type = %q", req.Header.Get("Content-Type"))
				}
				sameJSON(t, tt.name, req.Body, tt.body)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func TestLifecycleBadArgumentsAreRefusedBeforeAnyRequest(t *testing.T) {
	org := newFakeOrg(t)
	c := org.client(t)
	ctx := context.Background()
	profile := okta.UserProfile{"title": "x"}
	calls := map[string]func() error{
		"update: empty id": func() error { _, _, err := c.UpdateUser(ctx, "", okta.UpdateUserRequest{Profile: profile}); return err },
		"update: blank id": func() error {
			_, _, err := c.UpdateUser(ctx, "  ", okta.UpdateUserRequest{Profile: profile})
			return err
		},
		"update: dot-dot id": func() error {
			_, _, err := c.UpdateUser(ctx, "..", okta.UpdateUserRequest{Profile: profile})
			return err
		},
		"update: empty body":  func() error { _, _, err := c.UpdateUser(ctx, "00u1", okta.UpdateUserRequest{}); return err },
		"suspend: empty id":   func() error { _, err := c.SuspendUser(ctx, ""); return err },
		"suspend: dot id":     func() error { _, err := c.SuspendUser(ctx, "."); return err },
		"unsuspend: empty id": func() error { _, err := c.UnsuspendUser(ctx, " "); return err },
		"expire: empty id":    func() error { _, _, err := c.ExpirePassword(ctx, ""); return err },
		"expire: dot-dot id":  func() error { _, _, err := c.ExpirePassword(ctx, ".."); return err },
		"groups: empty id":    func() error { _, _, err := c.ListUserGroups(ctx, ""); return err },
		"activate: empty id":  func() error { _, _, err := c.ActivateUser(ctx, "", true); return err },
		"reset: empty id":     func() error { _, _, err := c.ResetPassword(ctx, "", true); return err },
		"reset: dot-dot id":   func() error { _, _, err := c.ResetPassword(ctx, "..", false); return err },
	}
	for name, f := range calls {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := len(org.requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

// TestUpdateUserErrorsNeverShowTheHash: a server that echoes the request
// (hash, salt, password, recovery answer, token) into its error body, or
// into an HTML page, or an answer the client cannot decode, never gets a
// secret into an error message, and the request's fmt and slog forms hide
// them too.
func TestUpdateUserErrorsNeverShowTheHash(t *testing.T) {
	hash := okta.PasswordHash{Algorithm: okta.AlgorithmBcrypt, WorkFactor: 10, Salt: "Upd4teSaltUpd4teSaltUp", Value: "upd4tedHashValueupd4tedHashVal1"}
	secrets := []string{testToken, hash.Value, hash.Salt, "Plaintext-Passw0rd!", "my-recovery-answer"}
	org := newFakeOrg(t)
	echo := func(status int, contentType string) func(w http.ResponseWriter, r *http.Request) {
		return func(w http.ResponseWriter, r *http.Request) {
			echoed := strings.ReplaceAll(fmt.Sprintf("%s %s %s", r.Header.Get("Authorization"), r.URL, org.requestsBodyOf(r)), `"`, `'`)
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			switch {
			case contentType == "application/json" && status >= 400:
				fmt.Fprintf(w, `{"errorCode":"E0000001","errorSummary":"Api validation failed: %s","errorId":"oaeX","errorCauses":[{"errorSummary":"password: An imported password may only be specified for a user with status: STAGED %s"}]}`, echoed, echoed)
			case contentType == "application/json":
				fmt.Fprintf(w, `{"id": 42, "echo": "%s"}`, echoed) // undecodable: id is not a string
			default:
				fmt.Fprint(w, "<html>"+echoed+"</html>")
			}
		}
	}
	c := org.client(t)
	ctx := context.Background()
	reqs := []okta.UpdateUserRequest{
		{Profile: okta.UserProfile{"title": "x"}, Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: &hash}}},
		{Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: "Plaintext-Passw0rd!"},
			RecoveryQuestion: &okta.RecoveryQuestionCredential{Question: "q?", Answer: "my-recovery-answer"}}},
	}
	var texts []string
	for _, answer := range []func(w http.ResponseWriter, r *http.Request){echo(400, "application/json"), echo(502, "text/html"), echo(200, "application/json")} {
		org.setAnswer(answer)
		for _, body := range reqs {
			_, _, err := c.UpdateUser(ctx, "00u1", body)
			if err == nil {
				t.Fatal("want an error")
			}
			texts = append(texts, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
			if e, ok := okta.AsError(err); ok {
				texts = append(texts, strings.Join(e.Causes(), " "))
			}
		}
	}
	if !strings.Contains(texts[0], "[REDACTED]") {
		t.Errorf("echoed error %q shows no redaction: is the echo working?", texts[0])
	}
	if !okta.IsValidation(func() error {
		org.setAnswer(echo(400, "application/json"))
		_, _, err := c.UpdateUser(ctx, "00u1", reqs[0])
		return err
	}()) {
		t.Error("a 400 E0000001 to an update is not IsValidation")
	}
	for _, r := range reqs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			texts = append(texts, fmt.Sprintf(verb, r), fmt.Sprintf(verb, &r))
		}
		var logged strings.Builder
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "req", r)
		slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "req", r)
		texts = append(texts, logged.String())
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%q leaks %q", text, s)
			}
		}
	}
}
