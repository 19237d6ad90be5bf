package oktasim_test

// The client's cut-over calls (updateUser, activation waves, suspend,
// unsuspend, expire_password, listUserGroups) against the sandbox, and the
// sandbox's hooks for changing an org behind Ferry's back.

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// sha256Prefix is an Okta SHA-256 hash of password with salt prefixed.
func sha256Prefix(password, salt string) okta.PasswordHash {
	d := sha256.Sum256([]byte(salt + password))
	return okta.PasswordHash{Algorithm: okta.AlgorithmSHA256, Salt: base64.StdEncoding.EncodeToString([]byte(salt)), SaltOrder: okta.SaltPrefix,
		Value: base64.StdEncoding.EncodeToString(d[:])}
}

func (o *itOrg) wantStatus(id, status string) *okta.User {
	o.t.Helper()
	u := o.getUser(id)
	if u.Status != status {
		o.t.Fatalf("user %s is %s, want %s", id, u.Status, status)
	}
	return u
}

// TestClientRefreshActivateExpireSuspend: a user loaded STAGED with a hash
// gets a fresher hash, is activated without an email, signs in with the new
// password only, is suspended and unsuspended, and has its password expired.
func TestClientRefreshActivateExpireSuspend(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	const login, oldPW, newPW = "refresh@example.com", "s3cr3tp@ssw0rd", "n3w-s3cr3t-from-the-legacy-db"
	staged := o.createUser(okta.CreateUserRequest{Profile: itProfile(login), Credentials: hashCreds(sha512Vector)}, okta.CreateUserOptions{Activate: false})
	if staged.Status != okta.StatusStaged {
		t.Fatalf("created %s, want STAGED", staged.Status)
	}

	// Refresh: the profile (a manager reference) and the hash, in one
	// partial update, while STAGED.
	fresh := sha256Prefix(newPW, "fresh-salt")
	u, res, err := o.c.UpdateUser(o.ctx, staged.ID, okta.UpdateUserRequest{
		Profile:     okta.UserProfile{"managerId": "00umanager0000000000", "manager": "Jane Doe", "department": "Ops"},
		Credentials: hashCreds(fresh),
	})
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("UpdateUser while STAGED: %d %v", res.StatusCode, err)
	}
	if u.Status != okta.StatusStaged || u.Profile.String("managerId") != "00umanager0000000000" || u.Profile.String("firstName") != "Isaac" ||
		u.Credentials == nil || u.Credentials.Provider == nil || u.Credentials.Provider.Type != okta.ProviderImport {
		t.Fatalf("after UpdateUser: %+v", u)
	}
	// Clearing an attribute with null.
	if u, _, err := o.c.UpdateUser(o.ctx, staged.ID, okta.UpdateUserRequest{Profile: okta.UserProfile{"department": nil}}); err != nil || u.Profile["department"] != nil {
		t.Fatalf("UpdateUser with a null: %v, %v", u, err)
	}

	// Activation wave: with a password, no email; the link comes back.
	tok, _, err := o.c.ActivateUser(o.ctx, staged.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if tok.ActivationToken == "" || tok.ActivationURL == "" {
		t.Errorf("ActivateUser(sendEmail=false) = %+v, want the link", tok)
	}
	o.wantStatus(staged.ID, okta.StatusActive)
	if n := o.sim.ActivationEmails(login); n != 0 {
		t.Errorf("%d activation emails sent to a user with a password and sendEmail=false", n)
	}
	o.wantSignedIn(login, newPW, staged.ID)
	o.wantRefused(login, oldPW)

	// Now ACTIVE: a hash is refused, with Okta's cause, and the hash
	// never reaches the message.
	_, _, err = o.c.UpdateUser(o.ctx, staged.ID, okta.UpdateUserRequest{Credentials: hashCreds(sha256Prefix("yet-another-pw", "other-salt"))})
	e := wantOktaError(t, err, http.StatusBadRequest, okta.CodeValidation)
	if !okta.IsValidation(err) || !slices.Contains(e.Causes(), "password: An imported password may only be specified for a user with status: STAGED") {
		t.Errorf("hash update of an ACTIVE user: %v", err)
	}
	if h := sha256Prefix("yet-another-pw", "other-salt"); strings.Contains(err.Error(), h.Value) || strings.Contains(err.Error(), h.Salt) {
		t.Errorf("error %q shows the hash", err)
	}
	o.wantSignedIn(login, newPW, staged.ID)

	// Suspend: sign-in refused even with the right password; twice is 400.
	if res, err := o.c.SuspendUser(o.ctx, staged.ID); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("SuspendUser: %d %v", res.StatusCode, err)
	}
	o.wantStatus(staged.ID, okta.StatusSuspended)
	o.wantRefused(login, newPW)
	_, err = o.c.SuspendUser(o.ctx, staged.ID)
	wantOktaError(t, err, http.StatusBadRequest, okta.CodeValidation)
	if res, err := o.c.UnsuspendUser(o.ctx, staged.ID); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("UnsuspendUser: %d %v", res.StatusCode, err)
	}
	o.wantStatus(staged.ID, okta.StatusActive)
	o.wantSignedIn(login, newPW, staged.ID)
	_, err = o.c.UnsuspendUser(o.ctx, staged.ID)
	wantOktaError(t, err, http.StatusBadRequest, okta.CodeValidation)

	// Expire the password: the user keeps it but must change it.
	exp, _, err := o.c.ExpirePassword(o.ctx, staged.ID)
	if err != nil || exp.Status != okta.StatusPasswordExpired || exp.ID != staged.ID {
		t.Fatalf("ExpirePassword = %+v, %v", exp, err)
	}
	status, body := o.signIn(login, newPW)
	if status != http.StatusOK || body["status"] != okta.StatusPasswordExpired || body["sessionToken"] != nil || body["stateToken"] == nil {
		t.Fatalf("sign-in with an expired password: %d %v, want a PASSWORD_EXPIRED transaction", status, body)
	}
	o.wantRefused(login, oldPW)
	// Okta suspends only ACTIVE users (spec, suspendUser).
	_, err = o.c.SuspendUser(o.ctx, staged.ID)
	wantOktaError(t, err, http.StatusBadRequest, okta.CodeValidation)
	o.wantStatus(staged.ID, okta.StatusPasswordExpired)
}

// TestClientActivationWaveEmails: users without a password are activated
// with the email, users with one without it; the sandbox counts the emails.
func TestClientActivationWaveEmails(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	withPW := o.createUser(okta.CreateUserRequest{Profile: itProfile("wave-hash@example.com"), Credentials: hashCreds(sha512Vector)}, okta.CreateUserOptions{})
	withHook := o.createUser(okta.CreateUserRequest{Profile: itProfile("wave-hook@example.com"), Credentials: hookCreds()}, okta.CreateUserOptions{})
	bare := o.createUser(okta.CreateUserRequest{Profile: itProfile("wave-bare@example.com")}, okta.CreateUserOptions{})
	for _, u := range []*okta.User{withPW, withHook} {
		if _, _, err := o.c.ActivateUser(o.ctx, u.ID, false); err != nil {
			t.Fatal(err)
		}
		o.wantStatus(u.ID, okta.StatusActive)
	}
	tok, _, err := o.c.ActivateUser(o.ctx, bare.ID, true)
	if err != nil || tok.ActivationToken != "" {
		t.Fatalf("ActivateUser(sendEmail=true) = %+v, %v", tok, err)
	}
	o.wantStatus(bare.ID, okta.StatusProvisioned)
	for login, n := range map[string]int{"wave-hash@example.com": 0, "wave-hook@example.com": 0, "wave-bare@example.com": 1} {
		if got := o.sim.ActivationEmails(login); got != n {
			t.Errorf("ActivationEmails(%s) = %d, want %d", login, got, n)
		}
	}
	// A PROVISIONED user cannot sign in, nor be suspended.
	o.wantRefused("wave-bare@example.com", "anything-at-all")
	_, err = o.c.SuspendUser(o.ctx, bare.ID)
	wantOktaError(t, err, http.StatusBadRequest, okta.CodeValidation)
	_, _, err = o.c.ExpirePassword(o.ctx, bare.ID)
	wantOktaError(t, err, http.StatusForbidden, okta.CodeWrongStatus)
	_, _, err = o.c.ExpirePassword(o.ctx, "00unobodyatall000000")
	wantOktaError(t, err, http.StatusNotFound, okta.CodeNotFound)
}

// TestClientSeesChangesBehindItsBack: what Tamper and RemoveFromGroup do to
// the sandbox, the client reads back: the raw material of reconciliation.
func TestClientSeesChangesBehindItsBack(t *testing.T) {
	o := newItOrg(t, oktasim.Options{})
	u := o.createUser(okta.CreateUserRequest{Profile: itProfile("drift@example.com"), Credentials: hashCreds(sha512Vector)}, okta.CreateUserOptions{Activate: true})
	g1, _, err := o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: "Drift A"})
	if err != nil {
		t.Fatal(err)
	}
	g2, _, err := o.c.CreateGroup(o.ctx, okta.GroupProfile{Name: "Drift B"})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []*okta.Group{g1, g2} {
		if _, err := o.c.AddGroupMember(o.ctx, g.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	groups, res, err := o.c.ListUserGroups(o.ctx, u.ID)
	if err != nil || res.StatusCode != http.StatusOK || len(groups) != 2 {
		t.Fatalf("ListUserGroups = %+v, %v", groups, err)
	}

	if err := o.sim.Tamper("drift@example.com", map[string]any{"managerId": "00usomeoneelse000000", "title": "Changed in Okta"}, okta.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if err := o.sim.RemoveFromGroup("drift@example.com", g1.ID); err != nil {
		t.Fatal(err)
	}
	got := o.wantStatus(u.ID, okta.StatusSuspended)
	if got.Profile.String("managerId") != "00usomeoneelse000000" || got.Profile.String("title") != "Changed in Okta" {
		t.Errorf("profile after Tamper: %v", got.Profile)
	}
	groups, _, err = o.c.ListUserGroups(o.ctx, u.ID)
	if err != nil || len(groups) != 1 || groups[0].ID != g2.ID {
		t.Errorf("ListUserGroups after RemoveFromGroup = %+v, %v; want only %s", groups, err, g2.ID)
	}
	o.wantRefused("drift@example.com", "s3cr3tp@ssw0rd")
	_, _, err = o.c.ListUserGroups(o.ctx, "00unobodyatall000000")
	wantOktaError(t, err, http.StatusNotFound, okta.CodeNotFound)
}
