package oktasim_test

// The Okta client (internal/okta) against the sandbox (internal/oktasim),
// together: every endpoint the client has, every error Ferry classifies,
// pagination, rate and concurrency limits, injected faults and the password
// import hook flow. Each package has its own tests against hand-written
// fakes; these check that the two agree with each other.
//
// No assertion depends on timing: clocks are injected, slow things are
// released by channels, and the deadlines below only stop a hang.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

const itToken = "00integration-token"

// itOrg is a sandbox and a client of it.
type itOrg struct {
	t   *testing.T
	srv *httptest.Server
	sim *oktasim.Server
	c   *okta.Client
	ctx context.Context
}

// newItOrg starts a sandbox (opts.Token defaults to itToken) and a client
// with that token.
func newItOrg(t *testing.T, opts oktasim.Options) *itOrg {
	t.Helper()
	if opts.Token == "" {
		opts.Token = itToken
	}
	srv, sim := oktasim.NewTestServer(t, opts)
	return &itOrg{t: t, srv: srv, sim: sim, c: itClient(t, okta.Config{OrgURL: srv.URL, APIToken: opts.Token}), ctx: itCtx(t)}
}

// itClient makes a client; the timeout is generous, against hangs only.
func itClient(t *testing.T, cfg okta.Config) *okta.Client {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	c, err := okta.New(cfg)
	if err != nil {
		t.Fatalf("okta.New: %v", err)
	}
	return c
}

// itCtx is the test's context with a deadline against hangs.
func itCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// on is o for a subtest: its helpers fail t, not the parent test.
func (o *itOrg) on(t *testing.T) *itOrg {
	c := *o
	c.t = t
	return &c
}

func itProfile(login string) okta.UserProfile {
	return okta.UserProfile{"login": login, "email": login, "firstName": "Isaac", "lastName": "Brock"}
}

// createUser creates a user through the client and fails the test on error.
func (o *itOrg) createUser(body okta.CreateUserRequest, opts okta.CreateUserOptions) *okta.User {
	o.t.Helper()
	u, res, err := o.c.CreateUser(o.ctx, body, opts)
	if err != nil {
		o.t.Fatalf("CreateUser(%s): %v", body.Profile.Login(), err)
	}
	if res.StatusCode != http.StatusOK || u.ID == "" {
		o.t.Fatalf("CreateUser(%s): status %d, user %+v", body.Profile.Login(), res.StatusCode, u)
	}
	return u
}

func (o *itOrg) getUser(idOrLogin string) *okta.User {
	o.t.Helper()
	u, _, err := o.c.GetUser(o.ctx, idOrLogin)
	if err != nil {
		o.t.Fatalf("GetUser: %v", err)
	}
	return u
}

// signIn is a Classic sign-in (POST /api/v1/authn). The client has no
// authn call, and Okta's authn is public: no API token is sent.
func (o *itOrg) signIn(username, password string) (int, map[string]any) {
	o.t.Helper()
	b, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, err := http.NewRequestWithContext(o.ctx, http.MethodPost, o.srv.URL+"/api/v1/authn", bytes.NewReader(b))
	if err != nil {
		o.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatalf("POST /api/v1/authn: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		o.t.Fatal(err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		o.t.Fatalf("authn answered %d with a body that is not a JSON object: %s", res.StatusCode, raw)
	}
	return res.StatusCode, body
}

// wantSignedIn fails unless the sign-in succeeds as userID.
func (o *itOrg) wantSignedIn(username, password, userID string) {
	o.t.Helper()
	status, body := o.signIn(username, password)
	if status != http.StatusOK || body["status"] != "SUCCESS" || body["sessionToken"] == "" || path(body, "_embedded", "user", "id") != userID {
		o.t.Fatalf("sign-in of %s with the right password: %d %v, want 200 SUCCESS as %s", username, status, body, userID)
	}
}

// wantRefused fails unless the sign-in is refused with 401 E0000004.
func (o *itOrg) wantRefused(username, password string) {
	o.t.Helper()
	status, body := o.signIn(username, password)
	if status != http.StatusUnauthorized || body["errorCode"] != "E0000004" {
		o.t.Fatalf("sign-in of %s: %d %v, want 401 E0000004", username, status, body)
	}
}

// wantOktaError fails unless err is an *okta.Error with status and code,
// answered by the sandbox.
func wantOktaError(t *testing.T, err error, status int, code string) *okta.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %d %s", status, code)
	}
	e, ok := okta.AsError(err)
	if !ok {
		t.Fatalf("error %T %v is not an *okta.Error (want %d %s)", err, err, status, code)
	}
	if e.StatusCode != status || e.ErrorCode != code {
		t.Fatalf("error %v: status %d code %s, want %d %s", err, e.StatusCode, e.ErrorCode, status, code)
	}
	if !e.Response.Sandbox || e.Response.RequestID == "" || !e.RateLimit.Present {
		t.Errorf("error response %+v: want the sandbox flag, a request id and rate-limit headers", e.Response)
	}
	return e
}

func hashCreds(h okta.PasswordHash) *okta.UserCredentials {
	return &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: &h}}
}

func hookCreds() *okta.UserCredentials {
	return &okta.UserCredentials{Password: &okta.PasswordCredential{Hook: &okta.PasswordCredentialHook{Type: okta.PasswordHookDefault}}}
}

// sha512Vector is Okta's support-article SHA-512 example (NOTES §1), whose
// password is s3cr3tp@ssw0rd.
var sha512Vector = okta.PasswordHash{Algorithm: okta.AlgorithmSHA512, Salt: "JipHQUgqQU8qQUwpQUYjUChBSEcjQQ==", SaltOrder: okta.SaltPostfix,
	Value: "Zz6KwLGDm7ospSipwpDmxAjBWHKPLgGh1roGzI267h6txr/ihTI/R4K2eYrpyc0R24qCSF6DRqNl110vZZtj4A=="}

func TestClientSeesTheSandbox(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	_, res, err := o.c.GetUserSchema(o.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Sandbox || res.StatusCode != 200 || res.RequestID == "" || !res.RateLimit.Present || res.RateLimit.Date.IsZero() {
		t.Errorf("response %+v: want Sandbox, 200, a request id, rate-limit headers and a Date", res)
	}
	// Errors carry the flag too.
	_, _, err = o.c.GetUser(o.ctx, "00unobodyatall000000")
	wantOktaError(t, err, 404, okta.CodeNotFound)
}

func TestClientCreateUserStatusPerTheSpecTable(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	hash := sha512Vector
	tests := []struct {
		name                     string
		creds                    *okta.UserCredentials
		opts                     okta.CreateUserOptions
		wantStatus, wantProvider string
	}{
		{"nothing, activate=false", nil, okta.CreateUserOptions{}, okta.StatusStaged, okta.ProviderOkta},
		{"nothing, activate=true", nil, okta.CreateUserOptions{Activate: true}, okta.StatusProvisioned, okta.ProviderOkta},
		{"recovery question, activate=false", &okta.UserCredentials{RecoveryQuestion: &okta.RecoveryQuestionCredential{Question: "Who?", Answer: "Me, myself"}},
			okta.CreateUserOptions{}, okta.StatusStaged, okta.ProviderOkta},
		{"recovery question, activate=true", &okta.UserCredentials{RecoveryQuestion: &okta.RecoveryQuestionCredential{Question: "Who?", Answer: "Me, myself"}},
			okta.CreateUserOptions{Activate: true}, okta.StatusProvisioned, okta.ProviderOkta},
		{"password, activate=false", &okta.UserCredentials{Password: &okta.PasswordCredential{Value: "Tr0ub4dor&3x"}}, okta.CreateUserOptions{}, okta.StatusStaged, okta.ProviderOkta},
		{"password, activate=true", &okta.UserCredentials{Password: &okta.PasswordCredential{Value: "Tr0ub4dor&3x"}}, okta.CreateUserOptions{Activate: true}, okta.StatusActive, okta.ProviderOkta},
		{"password and question, activate=true", &okta.UserCredentials{Password: &okta.PasswordCredential{Value: "Tr0ub4dor&3x"},
			RecoveryQuestion: &okta.RecoveryQuestionCredential{Question: "Who?", Answer: "Me, myself"}}, okta.CreateUserOptions{Activate: true}, okta.StatusActive, okta.ProviderOkta},
		{"hash, activate=false", hashCreds(hash), okta.CreateUserOptions{}, okta.StatusStaged, okta.ProviderImport},
		{"hash, activate=true", hashCreds(hash), okta.CreateUserOptions{Activate: true}, okta.StatusActive, okta.ProviderImport},
		{"hook, activate=false", hookCreds(), okta.CreateUserOptions{}, okta.StatusStaged, okta.ProviderImport},
		{"hook, activate=true", hookCreds(), okta.CreateUserOptions{Activate: true}, okta.StatusActive, okta.ProviderImport},
		{"federation, activate=true", &okta.UserCredentials{Provider: &okta.AuthenticationProvider{Type: okta.ProviderFederation, Name: okta.ProviderFederation}},
			okta.CreateUserOptions{Activate: true, Provider: true}, okta.StatusActive, okta.ProviderFederation},
		{"federation, activate=false", &okta.UserCredentials{Provider: &okta.AuthenticationProvider{Type: okta.ProviderFederation, Name: okta.ProviderFederation}},
			okta.CreateUserOptions{Provider: true}, okta.StatusStaged, okta.ProviderFederation},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := o.on(t)
			login := fmt.Sprintf("table-%d@example.com", i)
			u := o.createUser(okta.CreateUserRequest{Profile: itProfile(login), Credentials: tt.creds}, tt.opts)
			check := func(what string, u *okta.User) {
				t.Helper()
				if u.Status != tt.wantStatus {
					t.Errorf("%s: status %s, want %s", what, u.Status, tt.wantStatus)
				}
				if u.Credentials == nil || u.Credentials.Provider == nil || u.Credentials.Provider.Type != tt.wantProvider || u.Credentials.Provider.Name != tt.wantProvider {
					t.Errorf("%s: credentials %+v, want provider %s", what, u.Credentials, tt.wantProvider)
				}
				if u.Credentials != nil && u.Credentials.Password != nil && (u.Credentials.Password.Hash != nil || u.Credentials.Password.Value != "" || u.Credentials.Password.Hook != nil) {
					t.Errorf("%s: the password came back: %v", what, u.Credentials.Password)
				}
				if u.Profile.Login() != login {
					t.Errorf("%s: login %q", what, u.Profile.Login())
				}
			}
			check("create", u)
			check("get by id", o.getUser(u.ID))
		})
	}
}

func TestClientUserLifecycle(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	staged := o.createUser(okta.CreateUserRequest{Profile: itProfile("Lifecycle@Example.com"), Credentials: hashCreds(sha512Vector)}, okta.CreateUserOptions{})
	if staged.Status != okta.StatusStaged {
		t.Fatalf("status %s, want STAGED", staged.Status)
	}
	// By login, ignoring case.
	if u := o.getUser("lifecycle@example.com"); u.ID != staged.ID {
		t.Fatalf("GetUser by login found %s, want %s", u.ID, staged.ID)
	}
	// FindUserByLogin filters, and Okta's filter compares values with case
	// (spec, listUsers filter): the login as it was sent finds the user.
	found, _, err := o.c.FindUserByLogin(o.ctx, "Lifecycle@Example.com")
	if err != nil || found == nil || found.ID != staged.ID {
		t.Fatalf("FindUserByLogin = %+v, %v; want %s", found, err, staged.ID)
	}
	if none, _, err := o.c.FindUserByLogin(o.ctx, "nobody@example.com"); err != nil || none != nil {
		t.Fatalf("FindUserByLogin(nobody) = %+v, %v; want nil, nil", none, err)
	}

	// A STAGED user cannot sign in; once activated, the imported hash works.
	o.wantRefused("lifecycle@example.com", "s3cr3tp@ssw0rd")
	tok, _, err := o.c.ActivateUser(o.ctx, staged.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ActivationToken == "" || tok.ActivationURL == "" {
		t.Errorf("ActivateUser(sendEmail=false) = %+v, want the activation link", tok)
	}
	if u := o.getUser(staged.ID); u.Status != okta.StatusActive || u.Credentials.Provider.Type != okta.ProviderImport {
		t.Fatalf("after activate: %s / %+v, want ACTIVE / IMPORT", u.Status, u.Credentials.Provider)
	}
	o.wantSignedIn("lifecycle@example.com", "s3cr3tp@ssw0rd", staged.ID)
	o.wantRefused("lifecycle@example.com", "s3cr3tp@ssw0rd!")
	_, _, err = o.c.ActivateUser(o.ctx, staged.ID, true)
	wantOktaError(t, err, 403, okta.CodeAlreadyActive)

	// A user without a password activates to PROVISIONED.
	bare := o.createUser(okta.CreateUserRequest{Profile: itProfile("bare@example.com")}, okta.CreateUserOptions{})
	if tok, _, err := o.c.ActivateUser(o.ctx, bare.ID, true); err != nil || tok.ActivationToken != "" {
		t.Fatalf("ActivateUser(sendEmail=true) = %+v, %v; want no link", tok, err)
	}
	if u := o.getUser(bare.ID); u.Status != okta.StatusProvisioned {
		t.Fatalf("after activate: %s, want PROVISIONED", u.Status)
	}

	// Deactivate, then delete.
	if _, err := o.c.DeactivateUser(o.ctx, staged.ID, false); err != nil {
		t.Fatal(err)
	}
	if u := o.getUser(staged.ID); u.Status != okta.StatusDeprovisioned {
		t.Fatalf("after deactivate: %s", u.Status)
	}
	o.wantRefused("lifecycle@example.com", "s3cr3tp@ssw0rd")
	if _, err := o.c.DeleteUser(o.ctx, staged.ID, false); err != nil {
		t.Fatal(err)
	}
	_, _, err = o.c.GetUser(o.ctx, staged.ID)
	if !okta.IsNotFound(err) {
		t.Fatalf("GetUser after delete: %v, want not found", err)
	}

	// The first DELETE of an active user deactivates it, the second deletes.
	active := o.createUser(okta.CreateUserRequest{Profile: itProfile("twice@example.com"), Credentials: hashCreds(sha512Vector)}, okta.CreateUserOptions{Activate: true})
	res, err := o.c.DeleteUser(o.ctx, active.ID, false)
	if err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("first DeleteUser: %d, %v", res.StatusCode, err)
	}
	if u := o.getUser(active.ID); u.Status != okta.StatusDeprovisioned {
		t.Fatalf("after the first DELETE: %s, want DEPROVISIONED", u.Status)
	}
	// Still found by login (filter includes DEPROVISIONED users) …
	if u, _, err := o.c.FindUserByLogin(o.ctx, "twice@example.com"); err != nil || u == nil || u.Status != okta.StatusDeprovisioned {
		t.Fatalf("FindUserByLogin of a deactivated user = %+v, %v", u, err)
	}
	// … but not in a plain list.
	p, err := o.c.ListUsers(o.ctx, okta.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range p.Items {
		if u.ID == active.ID || u.ID == staged.ID {
			t.Errorf("a plain list shows %s (%s)", u.ID, u.Status)
		}
	}
	if res, err := o.c.DeleteUser(o.ctx, active.ID, false); err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("second DeleteUser: %d, %v", res.StatusCode, err)
	}
	if _, _, err := o.c.GetUser(o.ctx, active.ID); !okta.IsNotFound(err) {
		t.Fatalf("GetUser after the second DELETE: %v, want not found", err)
	}
	if u, _, err := o.c.FindUserByLogin(o.ctx, "twice@example.com"); err != nil || u != nil {
		t.Fatalf("FindUserByLogin after delete = %+v, %v", u, err)
	}
	// The login is free again.
	o.createUser(okta.CreateUserRequest{Profile: itProfile("twice@example.com")}, okta.CreateUserOptions{})
}

func TestClientDuplicateLoginIgnoresCase(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	first := o.createUser(okta.CreateUserRequest{Profile: itProfile("isaac.brock@example.com")}, okta.CreateUserOptions{})
	for _, login := range []string{"isaac.brock@example.com", "Isaac.Brock@EXAMPLE.com", "ISAAC.BROCK@example.com", "isáàc.bröck@example.com"} {
		_, _, err := o.c.CreateUser(o.ctx, okta.CreateUserRequest{Profile: itProfile(login), Credentials: hashCreds(sha512Vector)}, okta.CreateUserOptions{Activate: true})
		e := wantOktaError(t, err, 400, okta.CodeValidation)
		if !okta.IsDuplicateLogin(err) || okta.IsValidation(err) {
			t.Errorf("%s: IsDuplicateLogin %v, IsValidation %v; want true, false", login, okta.IsDuplicateLogin(err), okta.IsValidation(err))
		}
		if !slices.Contains(e.Causes(), okta.DuplicateLoginCause) {
			t.Errorf("%s: causes %q lack %q", login, e.Causes(), okta.DuplicateLoginCause)
		}
		if okta.IsTemporary(err) {
			t.Errorf("%s: a duplicate login is not temporary", login)
		}
		// No secret of the request in the message.
		if strings.Contains(err.Error(), sha512Vector.Value) || strings.Contains(err.Error(), sha512Vector.Salt) {
			t.Errorf("the error shows the hash: %v", err)
		}
	}
	if u := o.getUser("ISAAC.BROCK@EXAMPLE.COM"); u.ID != first.ID {
		t.Errorf("GetUser by login in another case = %s, want %s", u.ID, first.ID)
	}
}

func TestClientValidationErrors(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	noLast := itProfile("nolast@example.com")
	delete(noLast, "lastName")
	badHash := sha512Vector
	badHash.Value = "c2hvcnQ="
	badBcrypt := okta.PasswordHash{Algorithm: okta.AlgorithmBcrypt, WorkFactor: 21, Salt: "qRRx8rli7Lvs2h2CNgCQ2O", Value: "mVA2NDdomRGoGFrAXDZcno0OZ6CoOU2"}
	lowPBKDF2 := okta.PasswordHash{Algorithm: okta.AlgorithmPBKDF2, Salt: "RBDXRWs9", Value: "eKe8/dcL5gvRsMmp7WwxZq0Y7WAodielIcLaelLlgNs=",
		IterationCount: 1000, KeySize: 32, DigestAlgorithm: okta.DigestSHA512}
	notEmail := itProfile("not-an-email")
	notEmail["email"] = "valid@example.com"
	tests := []struct {
		name  string
		body  okta.CreateUserRequest
		cause string // a cause to find ("" = any)
	}{
		{"missing lastName", okta.CreateUserRequest{Profile: noLast}, "lastName: The field cannot be left blank"},
		{"login not an email", okta.CreateUserRequest{Profile: notEmail}, "login: Username must be in the form of an email address"},
		{"hash value of the wrong size", okta.CreateUserRequest{Profile: itProfile("badhash@example.com"), Credentials: hashCreds(badHash)}, ""},
		{"bcrypt workFactor 21", okta.CreateUserRequest{Profile: itProfile("bcrypt21@example.com"), Credentials: hashCreds(badBcrypt)}, ""},
		{"PBKDF2 below 4096 iterations", okta.CreateUserRequest{Profile: itProfile("pbkdf2@example.com"), Credentials: hashCreds(lowPBKDF2)}, ""},
		{"password against the policy", okta.CreateUserRequest{Profile: itProfile("weak@example.com"),
			Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: "weak"}}}, ""},
		{"hash and hook at once", okta.CreateUserRequest{Profile: itProfile("both@example.com"),
			Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: &sha512Vector, Hook: &okta.PasswordCredentialHook{Type: okta.PasswordHookDefault}}}}, ""},
		{"unknown custom attribute", okta.CreateUserRequest{Profile: okta.UserProfile{"login": "custom@example.com", "email": "custom@example.com",
			"firstName": "A", "lastName": "B", "favouriteColour": "teal"}}, "Property name 'favouriteColour' is not defined in profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := o.c.CreateUser(o.ctx, tt.body, okta.CreateUserOptions{Activate: true})
			e := wantOktaError(t, err, 400, okta.CodeValidation)
			if !okta.IsValidation(err) || okta.IsDuplicateLogin(err) || okta.IsTemporary(err) {
				t.Errorf("IsValidation %v, IsDuplicateLogin %v, IsTemporary %v; want true, false, false",
					okta.IsValidation(err), okta.IsDuplicateLogin(err), okta.IsTemporary(err))
			}
			if len(e.Causes()) == 0 || (tt.cause != "" && !slices.Contains(e.Causes(), tt.cause)) {
				t.Errorf("causes %q, want %q", e.Causes(), tt.cause)
			}
			if c := tt.body.Credentials; c != nil && c.Password != nil {
				for _, secret := range []string{c.Password.Value} {
					if secret != "" && strings.Contains(err.Error(), secret) {
						t.Errorf("the error shows the password: %v", err)
					}
				}
				if h := c.Password.Hash; h != nil && (strings.Contains(err.Error(), h.Value) || strings.Contains(err.Error(), h.Salt)) {
					t.Errorf("the error shows the hash: %v", err)
				}
			}
		})
	}
	// Nothing was created.
	p, err := o.c.ListUsers(o.ctx, okta.UserQuery{})
	if err != nil || len(p.Items) != 0 {
		t.Fatalf("ListUsers after refused creates = %d users, %v", len(p.Items), err)
	}
}

func TestClientGroupIDsAtCreate(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	var ids []string
	for i := range 21 {
		g, _, err := o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: fmt.Sprintf("Team %02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	_, _, err := o.c.CreateUser(o.ctx, okta.CreateUserRequest{Profile: itProfile("many@example.com"), GroupIDs: ids}, okta.CreateUserOptions{})
	e := wantOktaError(t, err, 400, okta.CodeTooManyGroups)
	if !okta.IsTooManyGroups(err) || okta.IsValidation(err) || okta.IsDuplicateLogin(err) {
		t.Errorf("IsTooManyGroups %v, IsValidation %v", okta.IsTooManyGroups(err), okta.IsValidation(err))
	}
	if !slices.Contains(e.Causes(), "The number of group targets is too large") {
		t.Errorf("causes %q", e.Causes())
	}
	// Twenty is fine, and the user is in each group.
	u := o.createUser(okta.CreateUserRequest{Profile: itProfile("many@example.com"), GroupIDs: ids[:20]}, okta.CreateUserOptions{})
	for _, gid := range []string{ids[0], ids[19]} {
		p, err := o.c.ListGroupMembers(o.ctx, gid, 0)
		if err != nil || len(p.Items) != 1 || p.Items[0].ID != u.ID {
			t.Fatalf("members of %s = %+v, %v", gid, p, err)
		}
	}
	p, err := o.c.ListGroupMembers(o.ctx, ids[20], 0)
	if err != nil || len(p.Items) != 0 {
		t.Fatalf("members of the 21st group = %d, %v", len(p.Items), err)
	}
	// A groupId that names no group.
	_, _, err = o.c.CreateUser(o.ctx, okta.CreateUserRequest{Profile: itProfile("ghost@example.com"), GroupIDs: []string{"00gnosuchgroup000000"}}, okta.CreateUserOptions{})
	wantOktaError(t, err, 404, okta.CodeNotFound)
}

func TestClientNotFound(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	u := o.createUser(okta.CreateUserRequest{Profile: itProfile("real@example.com")}, okta.CreateUserOptions{})
	g, _, err := o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: "Real"})
	if err != nil {
		t.Fatal(err)
	}
	const noUser, noGroup, noHook = "00unosuchuser0000000", "00gnosuchgroup000000", "calnosuchhook0000000"
	calls := map[string]func() error{
		"GetUser":                      func() error { _, _, err := o.c.GetUser(o.ctx, noUser); return err },
		"GetUser by unknown login":     func() error { _, _, err := o.c.GetUser(o.ctx, "nobody@example.com"); return err },
		"ActivateUser":                 func() error { _, _, err := o.c.ActivateUser(o.ctx, noUser, false); return err },
		"DeactivateUser":               func() error { _, err := o.c.DeactivateUser(o.ctx, noUser, false); return err },
		"DeleteUser":                   func() error { _, err := o.c.DeleteUser(o.ctx, noUser, false); return err },
		"GetGroup":                     func() error { _, _, err := o.c.GetGroup(o.ctx, noGroup); return err },
		"DeleteGroup":                  func() error { _, err := o.c.DeleteGroup(o.ctx, noGroup); return err },
		"AddGroupMember unknown group": func() error { _, err := o.c.AddGroupMember(o.ctx, noGroup, u.ID); return err },
		"AddGroupMember unknown user":  func() error { _, err := o.c.AddGroupMember(o.ctx, g.ID, noUser); return err },
		"RemoveGroupMember":            func() error { _, err := o.c.RemoveGroupMember(o.ctx, noGroup, u.ID); return err },
		"ListGroupMembers":             func() error { _, err := o.c.ListGroupMembers(o.ctx, noGroup, 0); return err },
		"ActivateInlineHook":           func() error { _, _, err := o.c.ActivateInlineHook(o.ctx, noHook); return err },
		"GetUserSchema":                func() error { _, _, err := o.c.GetUserSchema(o.ctx, "oty0nosuchtype000000"); return err },
		"UpdateCustomProperties": func() error {
			_, _, err := o.c.UpdateCustomProperties(o.ctx, "oty0nosuchtype000000", map[string]*okta.UserSchemaAttribute{"x": {Title: "X", Type: okta.AttrString}})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			wantOktaError(t, err, 404, okta.CodeNotFound)
			if !okta.IsNotFound(err) || okta.IsTemporary(err) || okta.IsValidation(err) {
				t.Errorf("IsNotFound %v, IsTemporary %v", okta.IsNotFound(err), okta.IsTemporary(err))
			}
			if strings.Contains(err.Error(), "nobody@example.com") {
				t.Errorf("the message shows the login: %v", err)
			}
		})
	}
}

// stripAuth removes the Authorization header: a request with no token.
type stripAuth struct{}

func (stripAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	return http.DefaultTransport.RoundTrip(r)
}

func TestClientBadToken(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	wrong := itClient(t, okta.Config{OrgURL: o.srv.URL, APIToken: "00wrong-token"})
	missing := itClient(t, okta.Config{OrgURL: o.srv.URL, APIToken: itToken, HTTPClient: &http.Client{Transport: stripAuth{}}})
	wrongBearer := itClient(t, okta.Config{OrgURL: o.srv.URL, AccessToken: "eyJwrong"})
	for name, c := range map[string]*okta.Client{"wrong SSWS token": wrong, "no token": missing, "wrong Bearer token": wrongBearer} {
		t.Run(name, func(t *testing.T) {
			checks := map[string]error{}
			_, _, checks["CreateUser"] = c.CreateUser(o.ctx, okta.CreateUserRequest{Profile: itProfile("x@example.com")}, okta.CreateUserOptions{})
			_, checks["ListUsers"] = c.ListUsers(o.ctx, okta.UserQuery{})
			_, _, checks["GetUserSchema"] = c.GetUserSchema(o.ctx, "")
			_, _, checks["CreateGroup"] = c.CreateGroup(o.ctx, okta.GroupProfile{Name: "G"})
			_, _, checks["ListInlineHooks"] = c.ListInlineHooks(o.ctx, "")
			for call, err := range checks {
				wantOktaError(t, err, 401, okta.CodeInvalidToken)
				if !okta.IsBadToken(err) || okta.IsTemporary(err) {
					t.Errorf("%s: IsBadToken %v, IsTemporary %v", call, okta.IsBadToken(err), okta.IsTemporary(err))
				}
				if strings.Contains(err.Error(), "00wrong-token") || strings.Contains(err.Error(), itToken) {
					t.Errorf("%s: the message shows a token: %v", call, err)
				}
			}
		})
	}
	// The right token as an OAuth access token works too.
	bearer := itClient(t, okta.Config{OrgURL: o.srv.URL, AccessToken: itToken})
	if _, res, err := bearer.GetUserSchema(o.ctx, ""); err != nil || !res.Sandbox {
		t.Fatalf("Bearer with the right token: %v", err)
	}
	// Nothing was created by the refused calls.
	if p, err := o.c.ListUsers(o.ctx, okta.UserQuery{}); err != nil || len(p.Items) != 0 {
		t.Fatalf("users after refused creates: %v, %v", p, err)
	}
}

func TestClientPagination(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	var want []string
	for i := range 7 {
		lastName := "Even"
		if i%2 == 1 {
			lastName = "Odd"
		}
		p := itProfile(fmt.Sprintf("page-%d@example.com", i))
		p["lastName"] = lastName
		want = append(want, o.createUser(okta.CreateUserRequest{Profile: p}, okta.CreateUserOptions{Activate: i < 3}).ID)
	}
	// all reads every page; it returns the ids per page.
	all := func(t *testing.T, p *okta.Page[okta.User], err error) [][]string {
		t.Helper()
		var pages [][]string
		for {
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, u := range p.Items {
				ids = append(ids, u.ID)
			}
			pages = append(pages, ids)
			if !p.HasNext() {
				return pages
			}
			if len(pages) > 20 {
				t.Fatal("the pages do not end")
			}
			p, err = p.Next(o.ctx)
		}
	}
	t.Run("users", func(t *testing.T) {
		p, err := o.c.ListUsers(o.ctx, okta.UserQuery{Limit: 3})
		pages := all(t, p, err)
		if len(pages) != 3 || len(pages[0]) != 3 || len(pages[1]) != 3 || len(pages[2]) != 1 {
			t.Fatalf("pages %v, want 3+3+1", pages)
		}
		if got := slices.Concat(pages...); !slices.Equal(got, want) {
			t.Fatalf("ids %v, want %v in creation order", got, want)
		}
		// A saved NextURL resumes.
		first, err := o.c.ListUsers(o.ctx, okta.UserQuery{Limit: 3})
		if err != nil || !first.HasNext() {
			t.Fatal(err)
		}
		resumed, err := okta.ResumePage[okta.User](o.ctx, o.c, first.NextURL)
		if err != nil || len(resumed.Items) != 3 || resumed.Items[0].ID != want[3] || !resumed.Response.Sandbox {
			t.Fatalf("ResumePage = %+v, %v", resumed, err)
		}
	})
	t.Run("search keeps its expression across pages", func(t *testing.T) {
		p, err := o.c.ListUsers(o.ctx, okta.UserQuery{Search: `profile.lastName eq "odd"`, Limit: 2})
		pages := all(t, p, err)
		if got := slices.Concat(pages...); !slices.Equal(got, []string{want[1], want[3], want[5]}) || len(pages) != 2 {
			t.Fatalf("search pages %v, want the three Odd users in 2 pages", pages)
		}
	})
	t.Run("filter", func(t *testing.T) {
		p, err := o.c.ListUsers(o.ctx, okta.UserQuery{Filter: `status eq "STAGED"`, Limit: 2})
		pages := all(t, p, err)
		if got := slices.Concat(pages...); !slices.Equal(got, want[3:]) {
			t.Fatalf("filter pages %v, want the 4 STAGED users", pages)
		}
	})
	t.Run("q is not paginated", func(t *testing.T) {
		p, err := o.c.ListUsers(o.ctx, okta.UserQuery{Q: "page-"})
		if err != nil || len(p.Items) != 7 || p.HasNext() {
			t.Fatalf("q = %d users, next %q, %v", len(p.Items), p.NextURL, err)
		}
	})
	t.Run("groups and members", func(t *testing.T) {
		var gids []string
		for i := range 5 {
			g, _, err := o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: fmt.Sprintf("Paged %d", i)})
			if err != nil {
				t.Fatal(err)
			}
			gids = append(gids, g.ID)
		}
		var got []string
		p, err := o.c.ListGroups(o.ctx, okta.GroupQuery{Limit: 2})
		for n := 0; ; n++ {
			if err != nil || n > 10 {
				t.Fatalf("ListGroups: %v (page %d)", err, n)
			}
			for _, g := range p.Items {
				got = append(got, g.ID)
			}
			if !p.HasNext() {
				break
			}
			p, err = p.Next(o.ctx)
		}
		if !slices.Equal(got, gids) {
			t.Fatalf("groups %v, want %v", got, gids)
		}
		for _, id := range want {
			if _, err := o.c.AddGroupMember(o.ctx, gids[0], id); err != nil {
				t.Fatal(err)
			}
		}
		m, err := o.c.ListGroupMembers(o.ctx, gids[0], 3)
		if pages := all(t, m, err); !slices.Equal(slices.Concat(pages...), want) || len(pages) != 3 {
			t.Fatalf("member pages %v", pages)
		}
	})
	t.Run("the last page has no next", func(t *testing.T) {
		p, err := o.c.ListUsers(o.ctx, okta.UserQuery{Limit: 200})
		if err != nil || p.HasNext() || len(p.Items) != 7 {
			t.Fatalf("one big page: %d, next %q, %v", len(p.Items), p.NextURL, err)
		}
		if _, err := p.Next(o.ctx); err == nil {
			t.Fatal("Next after the last page did not fail")
		}
	})
}

func TestClientRateLimitWithAnInjectedClock(t *testing.T) {
	clock := newFakeClock()
	o := newItOrg(t, oktasim.Options{Now: clock.Now, Limits: oktasim.Limits{Users: 3}})
	start := clock.Now()
	for i := range 3 {
		var res okta.Response
		var err error
		if i == 1 { // GET and POST /api/v1/users share a bucket
			_, res, err = o.c.CreateUser(o.ctx, okta.CreateUserRequest{Profile: itProfile("bucket@example.com")}, okta.CreateUserOptions{})
		} else {
			var p *okta.Page[okta.User]
			p, err = o.c.ListUsers(o.ctx, okta.UserQuery{})
			if p != nil {
				res = p.Response
			}
		}
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		rl := res.RateLimit
		if !rl.Present || rl.Limit != 3 || rl.Remaining != 2-i || !rl.Date.Equal(start) || rl.ResetIn() != time.Minute {
			t.Fatalf("request %d: rate limit %+v, want limit 3, remaining %d, reset a minute after the server's Date", i, rl, 2-i)
		}
	}
	_, err := o.c.ListUsers(o.ctx, okta.UserQuery{})
	e := wantOktaError(t, err, 429, okta.CodeRateLimited)
	if !okta.IsRateLimited(err) || okta.IsConcurrencyLimited(err) || !okta.IsTemporary(err) {
		t.Errorf("IsRateLimited %v, IsConcurrencyLimited %v, IsTemporary %v; want true, false, true",
			okta.IsRateLimited(err), okta.IsConcurrencyLimited(err), okta.IsTemporary(err))
	}
	if e.RateLimit.Limit != 3 || e.RateLimit.Remaining != 0 || e.RateLimit.ResetIn() != time.Minute {
		t.Errorf("429 rate limit %+v", e.RateLimit)
	}
	_, _, err = o.c.CreateUser(o.ctx, okta.CreateUserRequest{Profile: itProfile("late@example.com")}, okta.CreateUserOptions{})
	if !okta.IsRateLimited(err) {
		t.Errorf("create in an exhausted bucket: %v", err)
	}
	// Other buckets are counted apart.
	if _, res, err := o.c.GetUser(o.ctx, "bucket@example.com"); err != nil || res.RateLimit.Limit != oktasim.DefaultLimits.UserGet {
		t.Fatalf("GetUser while /api/v1/users is exhausted: %+v, %v", res.RateLimit, err)
	}
	// The 429 did not create the user.
	clock.Advance(30 * time.Second)
	_, err = o.c.ListUsers(o.ctx, okta.UserQuery{})
	if e := wantOktaError(t, err, 429, okta.CodeRateLimited); e.RateLimit.ResetIn() != 30*time.Second {
		t.Errorf("half a window later ResetIn = %s, want 30s", e.RateLimit.ResetIn())
	}
	// Waiting as the headers say opens a new window.
	clock.Advance(e.RateLimit.ResetIn())
	p, err := o.c.ListUsers(o.ctx, okta.UserQuery{})
	if err != nil {
		t.Fatalf("after the reset: %v", err)
	}
	if p.Response.RateLimit.Remaining != 2 || len(p.Items) != 1 {
		t.Errorf("after the reset: remaining %d, %d users (want 2, 1)", p.Response.RateLimit.Remaining, len(p.Items))
	}
}

func TestClientRateLimitWithAShortWindow(t *testing.T) {
	o := newItOrg(t, oktasim.Options{Window: 200 * time.Millisecond, Limits: oktasim.Limits{Groups: 2}})
	// Within one window the third request is refused; whether the window
	// turns over between two requests on a slow machine is not asserted:
	// the loop only needs to see a 429 and then a success.
	saw429 := false
	deadline := time.Now().Add(30 * time.Second)
	for !saw429 && time.Now().Before(deadline) {
		_, err := o.c.ListGroups(o.ctx, okta.GroupQuery{})
		switch {
		case err == nil:
		case okta.IsRateLimited(err) && !okta.IsConcurrencyLimited(err):
			saw429 = true
		default:
			t.Fatal(err)
		}
	}
	if !saw429 {
		t.Fatal("no 429 within the deadline")
	}
	for {
		_, err := o.c.ListGroups(o.ctx, okta.GroupQuery{})
		if err == nil {
			break
		}
		if !okta.IsRateLimited(err) || time.Now().After(deadline) {
			t.Fatalf("after the window: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// itHook is a test password import hook: answer decides per request.
type itHook struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	calls  map[string]int // per username
	bad    atomic.Int32   // requests without the secret
	answer func(w http.ResponseWriter, r *http.Request, username, password string)
}

func newItHook(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, username, password string)) *itHook {
	h := &itHook{secret: "hook-shared-secret", calls: map[string]int{}, answer: answer}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != h.secret || r.Method != http.MethodPost {
			h.bad.Add(1)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		var body struct {
			EventType string `json:"eventType"`
			Data      struct {
				Context struct {
					Credential struct {
						Username string `json:"username"`
						Password string `json:"password"`
					} `json:"credential"`
				} `json:"context"`
				Action struct {
					Credential string `json:"credential"`
				} `json:"action"`
			} `json:"data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.EventType != okta.InlineHookTypePasswordImport || body.Data.Action.Credential != "UNVERIFIED" {
			h.bad.Add(1)
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		cred := body.Data.Context.Credential
		h.mu.Lock()
		h.calls[cred.Username]++
		h.mu.Unlock()
		h.answer(w, r, cred.Username, cred.Password)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *itHook) callsFor(username string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[username]
}

func answerVerdict(w http.ResponseWriter, verified bool) {
	v := "UNVERIFIED"
	if verified {
		v = "VERIFIED"
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"commands":[{"type":"com.okta.action.update","value":{"credential":%q}}]}`, v)
}

// registerHook registers h through the client and checks the result.
func (o *itOrg) registerHook(h *itHook) *okta.InlineHook {
	o.t.Helper()
	hook, created, res, err := o.c.RegisterPasswordImportHook(o.ctx, okta.PasswordImportHook{URI: h.srv.URL + "/ferry/password-import", AuthValue: h.secret})
	if err != nil {
		o.t.Fatalf("RegisterPasswordImportHook: %v", err)
	}
	if !created || hook.Status != okta.InlineHookStatusActive || hook.Type != okta.InlineHookTypePasswordImport || !res.Sandbox {
		o.t.Fatalf("RegisterPasswordImportHook = %+v, created %v", hook, created)
	}
	return hook
}

func TestClientPasswordImportHookFlow(t *testing.T) {
	const right = "Legacy-Passw0rd"
	hs := newItHook(t, func(w http.ResponseWriter, r *http.Request, username, password string) {
		switch {
		case strings.HasPrefix(username, "verified"):
			answerVerdict(w, password == right)
		case strings.HasPrefix(username, "unverified"):
			answerVerdict(w, false)
		case strings.HasPrefix(username, "empty"):
			w.WriteHeader(http.StatusNoContent)
		default:
			http.Error(w, "unexpected user", http.StatusBadRequest)
		}
	})
	o := newItOrg(t, oktasim.Options{HookTimeout: 30 * time.Second})

	hook := o.registerHook(hs)
	t.Run("registration is idempotent and keeps the secret", func(t *testing.T) {
		o := o.on(t)
		again, created, _, err := o.c.RegisterPasswordImportHook(o.ctx, okta.PasswordImportHook{URI: hs.srv.URL + "/ferry/password-import", AuthValue: hs.secret})
		if err != nil || created || again.ID != hook.ID {
			t.Fatalf("second registration = %+v, created %v, %v; want the same hook", again, created, err)
		}
		hooks, _, err := o.c.ListInlineHooks(o.ctx, okta.InlineHookTypePasswordImport)
		if err != nil || len(hooks) != 1 || hooks[0].ID != hook.ID {
			t.Fatalf("ListInlineHooks = %+v, %v", hooks, err)
		}
		cfg := hooks[0].Channel.Config
		if cfg == nil || cfg.URI != hs.srv.URL+"/ferry/password-import" || cfg.AuthScheme == nil || cfg.AuthScheme.Key != "Authorization" || cfg.AuthScheme.Value != "" {
			t.Fatalf("listed hook config %+v: want the URI, the key and no secret", cfg)
		}
		// An org has one password import hook: another URI is refused.
		if _, _, _, err := o.c.RegisterPasswordImportHook(o.ctx, okta.PasswordImportHook{URI: "https://hooks.example.com/other", AuthValue: "s"}); err == nil ||
			strings.Contains(err.Error(), hs.secret) {
			t.Fatalf("registering another URI: %v", err)
		}
		// Creating a second one directly is refused by the sandbox.
		_, _, err = o.c.CreateInlineHook(o.ctx, okta.InlineHookCreate{Name: "second", Type: okta.InlineHookTypePasswordImport, Version: "1.0.0",
			Channel: okta.InlineHookChannel{Type: okta.InlineHookChannelHTTP, Version: "1.0.0", Config: &okta.InlineHookChannelConfig{
				URI: "https://hooks.example.com/second", Method: http.MethodPost,
				AuthScheme: &okta.InlineHookAuthScheme{Type: okta.InlineHookAuthHeader, Key: "Authorization", Value: "second-secret"}}}})
		if e := wantOktaError(t, err, 400, okta.CodeValidation); strings.Contains(e.Error(), "second-secret") {
			t.Errorf("the error shows the secret: %v", e)
		}
	})

	t.Run("VERIFIED imports the password and the hook is not called again", func(t *testing.T) {
		o := o.on(t)
		u := o.createUser(okta.CreateUserRequest{Profile: itProfile("verified@example.com"), Credentials: hookCreds()}, okta.CreateUserOptions{Activate: true})
		if u.Status != okta.StatusActive || u.Credentials.Provider.Type != okta.ProviderImport {
			t.Fatalf("hook user: %s / %+v", u.Status, u.Credentials.Provider)
		}
		o.wantRefused("verified@example.com", "not-it")
		if n := hs.callsFor("verified@example.com"); n != 1 {
			t.Fatalf("hook calls after a wrong password: %d, want 1", n)
		}
		if got := o.getUser(u.ID); got.Credentials.Provider.Type != okta.ProviderImport {
			t.Fatalf("after UNVERIFIED the provider is %s, want IMPORT", got.Credentials.Provider.Type)
		}
		o.wantSignedIn("verified@example.com", right, u.ID)
		if n := hs.callsFor("verified@example.com"); n != 2 {
			t.Fatalf("hook calls: %d, want 2", n)
		}
		got := o.getUser(u.ID)
		if got.Credentials.Provider.Type != okta.ProviderOkta || got.PasswordChanged.IsZero() || got.LastLogin.IsZero() {
			t.Fatalf("after VERIFIED: provider %+v, passwordChanged %v, lastLogin %v", got.Credentials.Provider, got.PasswordChanged, got.LastLogin)
		}
		// Okta keeps the password: the hook is never called again.
		o.wantSignedIn("verified@example.com", right, u.ID)
		o.wantSignedIn("VERIFIED@example.com", right, u.ID)
		o.wantRefused("verified@example.com", "not-it")
		if n := hs.callsFor("verified@example.com"); n != 2 {
			t.Fatalf("hook called again after VERIFIED: %d calls", n)
		}
	})

	for _, login := range []string{"unverified@example.com", "empty204@example.com"} {
		t.Run(login, func(t *testing.T) {
			o := o.on(t)
			u := o.createUser(okta.CreateUserRequest{Profile: itProfile(login), Credentials: hookCreds()}, okta.CreateUserOptions{Activate: true})
			o.wantRefused(login, right)
			o.wantRefused(login, right)
			// Each sign-in asks the hook again: nothing was imported.
			if n := hs.callsFor(login); n != 2 {
				t.Fatalf("hook calls: %d, want 2", n)
			}
			if got := o.getUser(u.ID); got.Credentials.Provider.Type != okta.ProviderImport || !got.LastLogin.IsZero() {
				t.Fatalf("after refusals: provider %s, lastLogin %v", got.Credentials.Provider.Type, got.LastLogin)
			}
		})
	}

	t.Run("a STAGED hook user cannot sign in and the hook is not called", func(t *testing.T) {
		o := o.on(t)
		o.createUser(okta.CreateUserRequest{Profile: itProfile("verified-staged@example.com"), Credentials: hookCreds()}, okta.CreateUserOptions{})
		o.wantRefused("verified-staged@example.com", right)
		if n := hs.callsFor("verified-staged@example.com"); n != 0 {
			t.Fatalf("hook called %d times for a STAGED user", n)
		}
	})

	t.Run("an inactive hook is reactivated by registration", func(t *testing.T) {
		o := o.on(t)
		req, _ := http.NewRequestWithContext(o.ctx, http.MethodPost, o.srv.URL+"/api/v1/inlineHooks/"+hook.ID+"/lifecycle/deactivate", nil)
		req.Header.Set("Authorization", "SSWS "+itToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("deactivate: %v %v", res, err)
		}
		res.Body.Close()
		u := o.createUser(okta.CreateUserRequest{Profile: itProfile("verified-later@example.com"), Credentials: hookCreds()}, okta.CreateUserOptions{Activate: true})
		// No active hook: the sign-in fails and nothing is called.
		o.wantRefused("verified-later@example.com", right)
		if n := hs.callsFor("verified-later@example.com"); n != 0 {
			t.Fatalf("an inactive hook was called %d times", n)
		}
		again, created, _, err := o.c.RegisterPasswordImportHook(o.ctx, okta.PasswordImportHook{URI: hs.srv.URL + "/ferry/password-import", AuthValue: hs.secret})
		if err != nil || created || again.ID != hook.ID || again.Status != okta.InlineHookStatusActive {
			t.Fatalf("re-registration = %+v, created %v, %v", again, created, err)
		}
		o.wantSignedIn("verified-later@example.com", right, u.ID)
	})

	if n := hs.bad.Load(); n != 0 {
		t.Errorf("%d hook requests lacked the secret or Okta's payload", n)
	}
}

func TestClientPasswordImportHookTooSlow(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	hs := newItHook(t, func(w http.ResponseWriter, r *http.Request, _, _ string) {
		// Answers VERIFIED, but only after Okta has stopped waiting.
		select {
		case <-r.Context().Done():
			return
		case <-release:
		}
		answerVerdict(w, true)
	})
	o := newItOrg(t, oktasim.Options{HookTimeout: 50 * time.Millisecond})
	o.registerHook(hs)
	u := o.createUser(okta.CreateUserRequest{Profile: itProfile("slow@example.com"), Credentials: hookCreds()}, okta.CreateUserOptions{Activate: true})
	o.wantRefused("slow@example.com", "whatever-it-is")
	// Okta retries a timed-out call once, no more. (How many calls reached
	// the hook before each timeout depends on the machine: not asserted.)
	if n := hs.callsFor("slow@example.com"); n > 2 {
		t.Errorf("hook calls: %d, want at most 2 (one retry)", n)
	}
	if got := o.getUser(u.ID); got.Credentials.Provider.Type != okta.ProviderImport || got.Status != okta.StatusActive {
		t.Fatalf("after a slow hook: %s / %s, want ACTIVE / IMPORT", got.Status, got.Credentials.Provider.Type)
	}
}

func TestClientConcurrencyLimit(t *testing.T) {
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	hs := newItHook(t, func(w http.ResponseWriter, r *http.Request, _, _ string) {
		entered <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		answerVerdict(w, true)
	})
	clock := newFakeClock()
	o := newItOrg(t, oktasim.Options{Concurrency: 1, Now: clock.Now, HookTimeout: time.Minute})
	o.registerHook(hs)
	u := o.createUser(okta.CreateUserRequest{Profile: itProfile("inflight@example.com"), Credentials: hookCreds()}, okta.CreateUserOptions{Activate: true})

	type result struct {
		status int
		body   map[string]any
	}
	done := make(chan result, 1)
	go func() {
		// o.signIn may not call t.Fatal off the test goroutine: a plain request.
		b, _ := json.Marshal(map[string]string{"username": "inflight@example.com", "password": "pw-from-legacy"})
		res, err := http.Post(o.srv.URL+"/api/v1/authn", "application/json", bytes.NewReader(b))
		if err != nil {
			done <- result{}
			return
		}
		defer res.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(res.Body).Decode(&body)
		done <- result{res.StatusCode, body}
	}()
	select {
	case <-entered: // the sign-in is in flight, waiting on the hook
	case <-o.ctx.Done():
		t.Fatal("the hook was never called")
	}
	_, err := o.c.ListUsers(o.ctx, okta.UserQuery{})
	e := wantOktaError(t, err, 429, okta.CodeRateLimited)
	if !okta.IsConcurrencyLimited(err) || !okta.IsRateLimited(err) || !okta.IsTemporary(err) {
		t.Errorf("IsConcurrencyLimited %v, IsRateLimited %v, IsTemporary %v", okta.IsConcurrencyLimited(err), okta.IsRateLimited(err), okta.IsTemporary(err))
	}
	if e.RateLimit.Limit != 0 || e.RateLimit.Remaining != 0 || e.RateLimit.ResetIn() <= 0 {
		t.Errorf("concurrency 429 rate limit %+v: want Limit 0, Remaining 0, a Reset ahead", e.RateLimit)
	}
	_, _, err = o.c.CreateUser(o.ctx, okta.CreateUserRequest{Profile: itProfile("blocked@example.com")}, okta.CreateUserOptions{})
	if !okta.IsConcurrencyLimited(err) {
		t.Errorf("create while one request is in flight: %v", err)
	}
	close(release)
	r := <-done
	if r.status != 200 || path(r.body, "_embedded", "user", "id") != u.ID {
		t.Fatalf("the slow sign-in: %d %v", r.status, r.body)
	}
	if _, err := o.c.ListUsers(o.ctx, okta.UserQuery{}); err != nil {
		t.Fatalf("after the in-flight request ended: %v", err)
	}
	if u, _, _ := o.c.FindUserByLogin(o.ctx, "blocked@example.com"); u != nil {
		t.Error("a create refused by the concurrency limit created the user")
	}
}

// seqRand returns the values in turn, for deterministic fault injection.
func seqRand(vals ...float64) func() float64 {
	var mu sync.Mutex
	i := 0
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		v := vals[i%len(vals)]
		i++
		return v
	}
}

func TestClientFaults(t *testing.T) {
	t.Run("5xx", func(t *testing.T) {
		// Each request draws: error? (< rate), then 500 (< 0.5) or 503.
		o := newItOrg(t, oktasim.Options{Faults: oktasim.Faults{ServerErrorRate: 0.5}, Rand: seqRand(0.1, 0.2, 0.1, 0.9, 0.9)})
		_, err := o.c.ListUsers(o.ctx, okta.UserQuery{})
		e := wantOktaError(t, err, 500, okta.CodeInternal)
		if !okta.IsTemporary(err) || okta.IsReadOnly(err) || !strings.Contains(e.Error(), "500") {
			t.Errorf("500: IsTemporary %v, IsReadOnly %v, message %q", okta.IsTemporary(err), okta.IsReadOnly(err), e.Error())
		}
		_, _, err = o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: "During the outage"})
		wantOktaError(t, err, 503, okta.CodeReadOnly)
		if !okta.IsTemporary(err) || !okta.IsReadOnly(err) {
			t.Errorf("503: IsTemporary %v, IsReadOnly %v", okta.IsTemporary(err), okta.IsReadOnly(err))
		}
		// 0.9: no fault. The failed create did nothing.
		if g, _, err := o.c.FindGroupByName(o.ctx, "During the outage"); err != nil || g != nil {
			t.Fatalf("after a 503 the group exists: %+v, %v", g, err)
		}
	})
	t.Run("dropped connection", func(t *testing.T) {
		o := newItOrg(t, oktasim.Options{Faults: oktasim.Faults{DropRate: 1}})
		_, _, err := o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: "Dropped"})
		var te *okta.TransportError
		if !errors.As(err, &te) || te.Timeout() || !okta.IsTemporary(err) {
			t.Fatalf("dropped connection: %T %v, want a *okta.TransportError, temporary, not a timeout", err, err)
		}
		if _, ok := okta.AsError(err); ok {
			t.Errorf("a dropped connection is not an Okta answer: %v", err)
		}
		_, err = o.c.ListUsers(o.ctx, okta.UserQuery{})
		if !errors.As(err, &te) {
			t.Fatalf("dropped GET: %T %v", err, err)
		}
	})
	t.Run("lost response: look up before retrying", func(t *testing.T) {
		var lose atomic.Bool
		lose.Store(true)
		o := newItOrg(t, oktasim.Options{Faults: oktasim.Faults{LostResponseRate: 0.5}, Rand: func() float64 {
			if lose.Load() {
				return 0
			}
			return 0.99
		}})
		body := okta.CreateUserRequest{Profile: itProfile("lost@example.com"), Credentials: hashCreds(sha512Vector)}
		_, _, err := o.c.CreateUser(o.ctx, body, okta.CreateUserOptions{Activate: true})
		var te *okta.TransportError
		if !errors.As(err, &te) || !okta.IsTemporary(err) {
			t.Fatalf("lost response: %T %v", err, err)
		}
		if strings.Contains(err.Error(), sha512Vector.Value) || strings.Contains(err.Error(), "lost@example.com") {
			t.Errorf("the transport error shows the request: %v", err)
		}
		lose.Store(false)
		u, _, err := o.c.FindUserByLogin(o.ctx, "lost@example.com")
		if err != nil || u == nil || u.Status != okta.StatusActive {
			t.Fatalf("the user was created all the same: %+v, %v", u, err)
		}
		_, _, err = o.c.CreateUser(o.ctx, body, okta.CreateUserOptions{Activate: true})
		if !okta.IsDuplicateLogin(err) {
			t.Fatalf("a blind retry: %v, want a duplicate login", err)
		}
		o.wantSignedIn("lost@example.com", "s3cr3tp@ssw0rd", u.ID)
	})
	t.Run("client timeout", func(t *testing.T) {
		o := newItOrg(t, oktasim.Options{Faults: oktasim.Faults{Latency: time.Minute}})
		c := itClient(t, okta.Config{OrgURL: o.srv.URL, APIToken: itToken, Timeout: 50 * time.Millisecond})
		_, err := c.ListUsers(o.ctx, okta.UserQuery{})
		var te *okta.TransportError
		if !errors.As(err, &te) || !te.Timeout() || !errors.Is(err, context.DeadlineExceeded) || !okta.IsTemporary(err) {
			t.Fatalf("timeout: %T %v", err, err)
		}
		// Cancellation is not temporary.
		ctx, cancel := context.WithCancel(o.ctx)
		cancel()
		_, err = c.ListUsers(ctx, okta.UserQuery{})
		if !errors.Is(err, context.Canceled) || okta.IsTemporary(err) {
			t.Fatalf("cancelled: %v", err)
		}
	})
}

func TestClientSchemaAndCustomAttributes(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	s, _, err := o.c.GetUserSchema(o.ctx, okta.DefaultSchemaID)
	if err != nil {
		t.Fatal(err)
	}
	base := s.Definitions.Base
	if base == nil || len(base.Properties) != 31 || base.Properties["login"] == nil {
		t.Fatalf("base schema: %+v", base)
	}
	for _, r := range []string{"login", "firstName", "lastName", "email"} {
		if !slices.Contains(base.Required, r) {
			t.Errorf("base.required %v lacks %s", base.Required, r)
		}
	}
	if c := s.Definitions.Custom; c != nil && len(c.Properties) != 0 {
		t.Fatalf("a new org has custom attributes: %v", c.Properties)
	}

	maxLen := 8
	s, _, err = o.c.CreateCustomProperty(o.ctx, "costCentre", okta.UserSchemaAttribute{Title: "Cost centre", Type: okta.AttrString, MaxLength: &maxLen})
	if err != nil {
		t.Fatal(err)
	}
	if a := s.Definitions.Custom.Properties["costCentre"]; a == nil || a.Type != okta.AttrString || a.Title != "Cost centre" || a.MaxLength == nil || *a.MaxLength != 8 {
		t.Fatalf("costCentre after create: %+v", a)
	}
	if _, _, err := o.c.UpdateCustomProperties(o.ctx, "", map[string]*okta.UserSchemaAttribute{
		"badge": {Title: "Badge", Type: okta.AttrInteger}, "contractor": {Title: "Contractor", Type: okta.AttrBoolean}}); err != nil {
		t.Fatal(err)
	}
	s, _, err = o.c.GetUserSchema(o.ctx, "")
	if err != nil || len(s.Definitions.Custom.Properties) != 3 {
		t.Fatalf("custom after update: %v, %v", s.Definitions.Custom, err)
	}
	// A definition Okta refuses.
	_, _, err = o.c.CreateCustomProperty(o.ctx, "untitled", okta.UserSchemaAttribute{Type: okta.AttrString})
	if !okta.IsValidation(err) {
		t.Fatalf("an untitled attribute: %v", err)
	}
	_, _, err = o.c.CreateCustomProperty(o.ctx, "Email", okta.UserSchemaAttribute{Title: "Email", Type: okta.AttrString})
	if e := wantOktaError(t, err, 400, okta.CodeValidation); !okta.IsValidation(err) {
		t.Fatalf("a custom attribute named like a base one: %v", e)
	}

	p := itProfile("custom@example.com")
	p["costCentre"], p["badge"], p["contractor"] = "CC-42", 1234, true
	u := o.createUser(okta.CreateUserRequest{Profile: p}, okta.CreateUserOptions{})
	got := o.getUser(u.ID)
	if got.Profile.String("costCentre") != "CC-42" || got.Profile["contractor"] != true || fmt.Sprint(got.Profile["badge"]) != "1234" {
		t.Fatalf("custom attributes read back: %v", got.Profile)
	}

	for name, value := range map[string]any{"favouriteColour": "teal", "costCentre": "CC-4242-too-long", "badge": "not a number"} {
		p := itProfile("refused-" + strings.ToLower(name) + "@example.com")
		p[name] = value
		_, _, err := o.c.CreateUser(o.ctx, okta.CreateUserRequest{Profile: p}, okta.CreateUserOptions{})
		wantOktaError(t, err, 400, okta.CodeValidation)
		if !okta.IsValidation(err) {
			t.Errorf("%s=%v: %v", name, value, err)
		}
	}

	// Removing the attribute makes it unknown again.
	if _, _, err := o.c.UpdateCustomProperties(o.ctx, "", map[string]*okta.UserSchemaAttribute{"costCentre": nil}); err != nil {
		t.Fatal(err)
	}
	p = itProfile("after-removal@example.com")
	p["costCentre"] = "CC-1"
	_, _, err = o.c.CreateUser(o.ctx, okta.CreateUserRequest{Profile: p}, okta.CreateUserOptions{})
	if e := wantOktaError(t, err, 400, okta.CodeValidation); !slices.Contains(e.Causes(), "Property name 'costCentre' is not defined in profile") {
		t.Fatalf("causes %q", e.Causes())
	}
}

func TestClientGroups(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	g, res, err := o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: "Engineering", Description: "Builders"})
	if err != nil || !res.Sandbox {
		t.Fatal(err)
	}
	if g.ID == "" || g.Type != okta.GroupTypeOkta || g.Profile.Name != "Engineering" || g.Profile.Description != "Builders" || g.Created.IsZero() {
		t.Fatalf("created group %+v", g)
	}
	other, _, err := o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: "Engineering Managers"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := o.c.GetGroup(o.ctx, g.ID); err != nil || got.Profile.Name != "Engineering" {
		t.Fatalf("GetGroup = %+v, %v", got, err)
	}
	// Exact name, not a prefix.
	if got, _, err := o.c.FindGroupByName(o.ctx, "Engineering"); err != nil || got == nil || got.ID != g.ID {
		t.Fatalf("FindGroupByName = %+v, %v", got, err)
	}
	if got, _, err := o.c.FindGroupByName(o.ctx, "Engineering Managers"); err != nil || got == nil || got.ID != other.ID {
		t.Fatalf("FindGroupByName(managers) = %+v, %v", got, err)
	}
	if got, _, err := o.c.FindGroupByName(o.ctx, "Sales"); err != nil || got != nil {
		t.Fatalf("FindGroupByName(missing) = %+v, %v", got, err)
	}
	if p, err := o.c.ListGroups(o.ctx, okta.GroupQuery{Q: "engin"}); err != nil || len(p.Items) != 2 {
		t.Fatalf("ListGroups(q) = %v, %v", p, err)
	}
	if p, err := o.c.ListGroups(o.ctx, okta.GroupQuery{Filter: `id eq "` + other.ID + `"`}); err != nil || len(p.Items) != 1 || p.Items[0].ID != other.ID {
		t.Fatalf("ListGroups(filter id) = %v, %v", p, err)
	}

	a := o.createUser(okta.CreateUserRequest{Profile: itProfile("ada@example.com")}, okta.CreateUserOptions{})
	b := o.createUser(okta.CreateUserRequest{Profile: itProfile("bob@example.com")}, okta.CreateUserOptions{})
	for _, id := range []string{a.ID, b.ID, a.ID} { // adding twice is not an error
		if res, err := o.c.AddGroupMember(o.ctx, g.ID, id); err != nil || res.StatusCode != http.StatusNoContent {
			t.Fatalf("AddGroupMember: %d, %v", res.StatusCode, err)
		}
	}
	members := func() []string {
		t.Helper()
		p, err := o.c.ListGroupMembers(o.ctx, g.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, u := range p.Items {
			ids = append(ids, u.ID)
		}
		return ids
	}
	if got := members(); !slices.Equal(got, []string{a.ID, b.ID}) {
		t.Fatalf("members %v, want %v", got, []string{a.ID, b.ID})
	}
	if _, err := o.c.RemoveGroupMember(o.ctx, g.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	if got := members(); !slices.Equal(got, []string{b.ID}) {
		t.Fatalf("members after removal %v", got)
	}
	// Deleting a user removes it from its groups.
	for range 2 {
		if _, err := o.c.DeleteUser(o.ctx, b.ID, false); err != nil {
			t.Fatal(err)
		}
	}
	if got := members(); len(got) != 0 {
		t.Fatalf("members after the user's deletion %v", got)
	}
	if res, err := o.c.DeleteGroup(o.ctx, g.ID); err != nil || res.StatusCode != http.StatusNoContent {
		t.Fatalf("DeleteGroup: %d, %v", res.StatusCode, err)
	}
	if _, _, err := o.c.GetGroup(o.ctx, g.ID); !okta.IsNotFound(err) {
		t.Fatalf("GetGroup after delete: %v", err)
	}
	if got, _, err := o.c.FindGroupByName(o.ctx, "Engineering"); err != nil || got != nil {
		t.Fatalf("FindGroupByName after delete = %+v, %v", got, err)
	}
	// A blank name is refused by the client before any request; the
	// sandbox refuses a name that is only spaces.
	if _, _, err := o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: "   "}); !okta.IsValidation(err) {
		t.Fatalf("a blank group name: %v", err)
	}
}

// Many workers sharing one client against a small concurrency limit: every
// answer is a user or a concurrency 429, and exactly the answered creates
// exist. How many are refused depends on the machine and is not asserted.
func TestClientConcurrentWorkersAgainstTheConcurrencyLimit(t *testing.T) {
	o := newItOrg(t, oktasim.Options{Concurrency: 2, Faults: oktasim.Faults{Latency: 10 * time.Millisecond}})
	const workers = 12
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created = map[string]string{} // login → id
		refused int
		other   []error
	)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			login := fmt.Sprintf("worker-%02d@example.com", i)
			u, _, err := o.c.CreateUser(o.ctx, okta.CreateUserRequest{Profile: itProfile(login), Credentials: hashCreds(sha512Vector)}, okta.CreateUserOptions{Activate: true})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created[login] = u.ID
			case okta.IsConcurrencyLimited(err) && okta.IsTemporary(err):
				refused++
			default:
				other = append(other, err)
			}
		}()
	}
	wg.Wait()
	if len(other) > 0 {
		t.Fatalf("errors other than the concurrency limit: %v", other)
	}
	t.Logf("%d created, %d refused by the concurrency limit", len(created), refused)
	p, err := o.c.ListUsers(o.ctx, okta.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != len(created) {
		t.Fatalf("%d users exist, %d creates succeeded", len(p.Items), len(created))
	}
	for _, u := range p.Items {
		if created[u.Profile.Login()] != u.ID {
			t.Errorf("user %s (%s) was not reported created", u.Profile.Login(), u.ID)
		}
	}
}

// A load's pre-flight: the apps and group rules a group brings with it.
func TestClientGroupAppsAndRules(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	g, _, err := o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: "Sales"})
	if err != nil {
		t.Fatal(err)
	}
	var apps []string
	for _, label := range []string{"Salesforce", "Gong", "Slack"} {
		id := o.sim.AddApp(label, "SAML_2_0")
		if err := o.sim.AssignAppToGroup(id, g.ID); err != nil {
			t.Fatal(err)
		}
		apps = append(apps, id)
	}
	p, err := o.c.ListGroupApps(o.ctx, g.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 2 || !p.HasNext() {
		t.Fatalf("first page: %+v", p)
	}
	a := p.Items[0]
	if a.ID != apps[0] || a.Label != "Salesforce" || a.Status != okta.AppStatusActive || a.SignOnMode != "SAML_2_0" || a.Name == "" || a.Created.IsZero() {
		t.Errorf("app = %+v", a)
	}
	got := []string{p.Items[0].ID, p.Items[1].ID}
	p, err = p.Next(o.ctx)
	if err != nil || len(p.Items) != 1 || p.HasNext() {
		t.Fatalf("second page: %+v, %v", p, err)
	}
	if got = append(got, p.Items[0].ID); !slices.Equal(got, apps) {
		t.Errorf("apps %v, want %v", got, apps)
	}

	ruleID, err := o.sim.AddGroupRule("Sales by department", `user.department=="Sales"`, []string{g.ID}, true)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := o.c.ListGroupRules(o.ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Items) != 1 || rules.HasNext() {
		t.Fatalf("rules: %+v", rules)
	}
	r := rules.Items[0]
	if r.ID != ruleID || r.Name != "Sales by department" || r.Status != okta.GroupRuleActive || r.Type != "group_rule" ||
		r.Conditions.Expression.Value != `user.department=="Sales"` || !slices.Equal(r.Actions.AssignUserToGroups.GroupIDs, []string{g.ID}) {
		t.Errorf("rule = %+v", r)
	}

	// Bad input: refused by the client, or a 404 from the org.
	if _, err := o.c.ListGroupApps(o.ctx, "", 0); err == nil || okta.IsNotFound(err) {
		t.Errorf("empty group id: %v, want a client-side refusal", err)
	}
	_, err = o.c.ListGroupApps(o.ctx, "00gnothere0000000000", 0)
	wantOktaError(t, err, 404, okta.CodeNotFound)
	if !okta.IsNotFound(err) {
		t.Errorf("unknown group: %v, want IsNotFound", err)
	}

	// Deleting the group takes its assignments and its place in the rule.
	if _, err := o.c.DeleteGroup(o.ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := o.c.ListGroupApps(o.ctx, g.ID, 0); !okta.IsNotFound(err) {
		t.Errorf("apps of a deleted group: %v", err)
	}
	rules, err = o.c.ListGroupRules(o.ctx, 0)
	if err != nil || len(rules.Items) != 1 || len(rules.Items[0].Actions.AssignUserToGroups.GroupIDs) != 0 {
		t.Fatalf("rules after the group's deletion: %+v, %v", rules, err)
	}
}

// FailCreateLogins: the failure a load engine records on purpose. Retries
// get the same 500 E0000009; nothing is created; other users load.
func TestClientFailCreateLogins(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	o.sim.SetFaults(oktasim.Faults{FailCreateLogins: []string{"fail@example.com"}})
	body := okta.CreateUserRequest{Profile: itProfile("FAIL@example.com"), Credentials: hashCreds(sha512Vector)}
	for range 3 {
		_, _, err := o.c.CreateUser(o.ctx, body, okta.CreateUserOptions{Activate: true})
		wantOktaError(t, err, 500, okta.CodeInternal)
		if !okta.IsTemporary(err) {
			t.Errorf("500 E0000009 is not temporary: %v", err)
		}
	}
	o.createUser(okta.CreateUserRequest{Profile: itProfile("ok@example.com")}, okta.CreateUserOptions{Activate: false})
	if u, _, err := o.c.FindUserByLogin(o.ctx, "fail@example.com"); err != nil || u != nil {
		t.Fatalf("the failed user exists: %+v, %v", u, err)
	}
	if n := o.sim.UserCount(); n != 1 {
		t.Errorf("UserCount = %d, want 1", n)
	}
}
