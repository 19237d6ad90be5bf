package oktasim_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// TestClientResetPassword: the end of a migration program. A hook user who
// never signed in is reset (RECOVERY, the hook no longer called, provider
// OKTA, one reset email); sendEmail=false returns the link and emails
// nobody; statuses that do not allow a reset get Okta's 403 E0000038.
func TestClientResetPassword(t *testing.T) {
	const right = "Legacy-Passw0rd"
	hs := newItHook(t, func(w http.ResponseWriter, r *http.Request, username, password string) {
		answerVerdict(w, password == right)
	})
	o := newItOrg(t, oktasim.Options{HookTimeout: 30 * time.Second})
	o.registerHook(hs)

	straggler := o.createUser(okta.CreateUserRequest{Profile: itProfile("straggler@example.com"), Credentials: hookCreds()}, okta.CreateUserOptions{Activate: true})
	tok, res, err := o.c.ResetPassword(o.ctx, straggler.ID, true)
	if err != nil || res.StatusCode != http.StatusOK || tok == nil || tok.ResetPasswordURL != "" {
		t.Fatalf("ResetPassword(sendEmail=true) = %+v %d %v, want {} and 200", tok, res.StatusCode, err)
	}
	u := o.wantStatus(straggler.ID, okta.StatusRecovery)
	if u.Credentials == nil || u.Credentials.Provider == nil || u.Credentials.Provider.Type != okta.ProviderOkta {
		t.Errorf("after the reset: credentials %+v, want provider OKTA", u.Credentials)
	}
	if n := o.sim.ResetEmails("straggler@example.com"); n != 1 {
		t.Errorf("%d reset emails, want 1", n)
	}
	if n := o.sim.ActivationEmails("straggler@example.com"); n != 0 {
		t.Errorf("%d activation emails, want 0", n)
	}
	// In RECOVERY nobody signs in, and the hook is never asked again.
	o.wantRefused("straggler@example.com", right)
	if n := hs.callsFor("straggler@example.com"); n != 0 {
		t.Errorf("the hook was called %d times after the reset", n)
	}
	// Once the user is back to ACTIVE (the reset flow done, simulated),
	// the old password is gone: still no hook call.
	if err := o.sim.Tamper("straggler@example.com", nil, oktasim.StatusActive); err != nil {
		t.Fatal(err)
	}
	o.wantRefused("straggler@example.com", right)
	if n := hs.callsFor("straggler@example.com"); n != 0 {
		t.Errorf("the hook was called %d times for a reset user", n)
	}

	// sendEmail=false: the link, no email; a second reset while in RECOVERY
	// is allowed and gives a new link.
	quiet := o.createUser(okta.CreateUserRequest{Profile: itProfile("quiet@example.com"), Credentials: hookCreds()}, okta.CreateUserOptions{Activate: true})
	first, _, err := o.c.ResetPassword(o.ctx, quiet.ID, false)
	if err != nil || !strings.HasPrefix(first.ResetPasswordURL, o.srv.URL+"/reset_password/") {
		t.Fatalf("ResetPassword(sendEmail=false) = %+v, %v", first, err)
	}
	second, _, err := o.c.ResetPassword(o.ctx, quiet.ID, false)
	if err != nil || second.ResetPasswordURL == first.ResetPasswordURL {
		t.Fatalf("second reset = %+v, %v; want a new link", second, err)
	}
	o.wantStatus(quiet.ID, okta.StatusRecovery)
	if n := o.sim.ResetEmails("quiet@example.com"); n != 0 {
		t.Errorf("%d reset emails with sendEmail=false", n)
	}

	// A user who signed in through the hook (provider OKTA) can be reset
	// too; Ferry does not, but Okta allows it.
	signedIn := o.createUser(okta.CreateUserRequest{Profile: itProfile("signed-in@example.com"), Credentials: hookCreds()}, okta.CreateUserOptions{Activate: true})
	o.wantSignedIn("signed-in@example.com", right, signedIn.ID)
	if u := o.getUser(signedIn.ID); u.Credentials.Provider.Type != okta.ProviderOkta {
		t.Fatalf("after the hook's sign-in: provider %s", u.Credentials.Provider.Type)
	}

	for _, tc := range []struct {
		name, status string
	}{{"staged", ""}, {"provisioned", oktasim.StatusProvisioned}, {"suspended", oktasim.StatusSuspended}, {"deprovisioned", oktasim.StatusDeprovisioned}} {
		t.Run(tc.name, func(t *testing.T) {
			o := o.on(t)
			login := tc.name + "@example.com"
			u := o.createUser(okta.CreateUserRequest{Profile: itProfile(login), Credentials: hookCreds()}, okta.CreateUserOptions{Activate: tc.status != ""})
			if tc.status != "" {
				if err := o.sim.Tamper(login, nil, tc.status); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := o.c.ResetPassword(o.ctx, u.ID, true)
			e := wantOktaError(t, err, http.StatusForbidden, "E0000038")
			if e.ErrorSummary != "This operation is not allowed in the user's current status." {
				t.Errorf("summary %q", e.ErrorSummary)
			}
			after := o.getUser(u.ID)
			if after.Status == okta.StatusRecovery || after.Credentials.Provider.Type != okta.ProviderImport || o.sim.ResetEmails(login) != 0 {
				t.Errorf("a refused reset changed the user: %s %+v, %d emails", after.Status, after.Credentials.Provider, o.sim.ResetEmails(login))
			}
		})
	}
	_, _, err = o.c.ResetPassword(o.ctx, "00unobodyatall000000", true)
	wantOktaError(t, err, http.StatusNotFound, "E0000007")
}
