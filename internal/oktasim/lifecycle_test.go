package oktasim_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

const stagedOnlyCause = "password: An imported password may only be specified for a user with status: STAGED"

// userIn creates a user with a plain password and brings it to status
// through the API (or Tamper, for LOCKED_OUT and RECOVERY, which the
// sandbox has no endpoint for).
func (o *org) userIn(login, pw, status string) string {
	o.t.Helper()
	body := map[string]any{"profile": profile(login)}
	if pw != "" {
		body["credentials"] = map[string]any{"password": map[string]any{"value": pw}}
	}
	id := o.mustUser("?activate=false", body)["id"].(string)
	lc := func(action string) {
		o.t.Helper()
		want(o.t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/"+action, nil), 200, action)
	}
	switch status {
	case "STAGED":
	case "ACTIVE":
		lc("activate?sendEmail=false")
	case "PROVISIONED":
		if pw != "" {
			// A user with a password activates to ACTIVE: put it in
			// PROVISIONED behind the sandbox's back.
			if err := o.sim.Tamper(login, nil, status); err != nil {
				o.t.Fatal(err)
			}
		} else {
			lc("activate?sendEmail=false")
		}
	case "SUSPENDED":
		lc("activate?sendEmail=false")
		lc("suspend")
	case "PASSWORD_EXPIRED":
		lc("activate?sendEmail=false")
		lc("expire_password")
	case "DEPROVISIONED":
		lc("deactivate")
	default:
		if err := o.sim.Tamper(login, nil, status); err != nil {
			o.t.Fatal(err)
		}
	}
	if g := want(o.t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get"); g["status"] != status {
		o.t.Fatalf("user %s is %v, want %s", login, g["status"], status)
	}
	return id
}

func (o *org) statusOf(id string) any {
	o.t.Helper()
	return want(o.t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get")["status"]
}

func TestSuspendAndUnsuspend(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	pw := "Tr0ub4dor&3x"
	id := o.userIn("sus@example.com", pw, "ACTIVE")
	gid := o.mustGroup("kept")
	want(t, o.do("PUT", "/api/v1/groups/"+gid+"/users/"+id, nil), 204, "add member")

	r := o.do("POST", "/api/v1/users/"+id+"/lifecycle/suspend", nil)
	want(t, r, 200, "suspend")
	if o.statusOf(id) != "SUSPENDED" {
		t.Fatalf("after suspend: %v", o.statusOf(id))
	}
	g := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get")
	if path(g, "_links", "unsuspend", "href") == nil || path(g, "_links", "suspend") != nil {
		t.Errorf("links of a SUSPENDED user: %v", g["_links"])
	}
	// Group assignments are retained.
	if l := o.do("GET", "/api/v1/users/"+id+"/groups", nil).list(t); len(l) != 1 || l[0]["id"] != gid {
		t.Errorf("groups of a suspended user = %v", l)
	}
	wantError(t, o.signIn("sus@example.com", pw), 401, "E0000004")
	wantError(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/suspend", nil), 400, "E0000001", "Cannot suspend a user that is not active")

	want(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/unsuspend", nil), 200, "unsuspend")
	if o.statusOf(id) != "ACTIVE" {
		t.Fatalf("after unsuspend: %v", o.statusOf(id))
	}
	wantSignIn(t, o.signIn("sus@example.com", pw), id)
	wantError(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/unsuspend", nil), 400, "E0000001", "Cannot unsuspend a user that is not suspended")

	// Every status but ACTIVE refuses suspend; every status but SUSPENDED
	// refuses unsuspend; the status does not change.
	for i, st := range []string{"STAGED", "PROVISIONED", "PASSWORD_EXPIRED", "DEPROVISIONED", "LOCKED_OUT", "RECOVERY"} {
		uid := o.userIn("sus"+string(rune('a'+i))+"@example.com", pw, st)
		if st == "PROVISIONED" {
			uid = o.userIn("nopw"+string(rune('a'+i))+"@example.com", "", st)
		}
		wantError(t, o.do("POST", "/api/v1/users/"+uid+"/lifecycle/suspend", nil), 400, "E0000001", "Cannot suspend a user that is not active")
		wantError(t, o.do("POST", "/api/v1/users/"+uid+"/lifecycle/unsuspend", nil), 400, "E0000001", "Cannot unsuspend a user that is not suspended")
		if got := o.statusOf(uid); got != st {
			t.Errorf("a refused suspend changed %s to %v", st, got)
		}
	}
	wantError(t, o.do("POST", "/api/v1/users/00unothere0000000000/lifecycle/suspend", nil), 404, "E0000007")
	wantError(t, o.do("POST", "/api/v1/users/00unothere0000000000/lifecycle/unsuspend", nil), 404, "E0000007")

	// A suspended user can be deactivated.
	want(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/suspend", nil), 200, "suspend")
	want(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/deactivate", nil), 200, "deactivate")
	if o.statusOf(id) != "DEPROVISIONED" {
		t.Errorf("deactivate of a suspended user: %v", o.statusOf(id))
	}
}

func TestExpirePassword(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	pw := "Tr0ub4dor&3x"
	id := o.userIn("exp@example.com", pw, "ACTIVE")
	u := want(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/expire_password", nil), 200, "expire")
	if u["status"] != "PASSWORD_EXPIRED" || u["id"] != id || path(u, "credentials", "password") == nil {
		t.Fatalf("expire_password answered %v, want the user, PASSWORD_EXPIRED, with a password", u)
	}
	// Again: still PASSWORD_EXPIRED.
	if u := want(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/expire_password", nil), 200, "expire again"); u["status"] != "PASSWORD_EXPIRED" {
		t.Errorf("second expire: %v", u["status"])
	}
	// The password is kept: the right one gives a PASSWORD_EXPIRED
	// transaction, the wrong one 401.
	b := want(t, o.signIn("exp@example.com", pw), 200, "sign-in with an expired password")
	if b["status"] != "PASSWORD_EXPIRED" || b["stateToken"] == nil || b["sessionToken"] != nil || path(b, "_embedded", "user", "id") != id ||
		path(b, "_links", "next", "name") != "changePassword" {
		t.Errorf("authn of a PASSWORD_EXPIRED user = %v", b)
	}
	wantError(t, o.signIn("exp@example.com", pw+"x"), 401, "E0000004")
	if g := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get"); g["lastLogin"] != nil {
		t.Errorf("an unfinished (PASSWORD_EXPIRED) sign-in set lastLogin: %v", g["lastLogin"])
	}

	// Statuses that cannot have their password expired.
	for i, st := range []string{"STAGED", "PROVISIONED", "SUSPENDED", "DEPROVISIONED"} {
		p := pw
		if st == "PROVISIONED" {
			p = ""
		}
		uid := o.userIn("noexp"+string(rune('a'+i))+"@example.com", p, st)
		wantError(t, o.do("POST", "/api/v1/users/"+uid+"/lifecycle/expire_password", nil), 403, "E0000038")
		if got := o.statusOf(uid); got != st {
			t.Errorf("a refused expire changed %s to %v", st, got)
		}
	}
	wantError(t, o.do("POST", "/api/v1/users/00unothere0000000000/lifecycle/expire_password", nil), 404, "E0000007")
}

// TestHashUpdateOnlyWhileStaged: credentials.password.hash in an update
// (POST or PUT) is refused, with Okta's exact cause, for every status but
// STAGED; while STAGED a new hash replaces the old one.
func TestHashUpdateOnlyWhileStaged(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	const oldPW, newPW = "old correct horse", "new battery staple"
	salt := []byte("s4lt")
	newHash := map[string]any{"password": map[string]any{"hash": saltedHash("SHA-512", sha512.New, newPW, salt, "PREFIX")}}
	for i, st := range []string{"ACTIVE", "PROVISIONED", "SUSPENDED", "PASSWORD_EXPIRED", "DEPROVISIONED", "LOCKED_OUT", "RECOVERY"} {
		p := "Tr0ub4dor&3x"
		if st == "PROVISIONED" {
			p = ""
		}
		uid := o.userIn("h"+string(rune('a'+i))+"@example.com", p, st)
		for _, method := range []string{"POST", "PUT"} {
			body := map[string]any{"credentials": newHash}
			if method == "PUT" {
				body["profile"] = profile("h" + string(rune('a'+i)) + "@example.com")
			}
			e := wantError(t, o.do(method, "/api/v1/users/"+uid, body), 400, "E0000001", stagedOnlyCause)
			if e["errorSummary"] != "Api validation failed: password" {
				t.Errorf("%s %s: summary %v", method, st, e["errorSummary"])
			}
		}
		if got := o.statusOf(uid); got != st {
			t.Errorf("a refused hash update changed %s to %v", st, got)
		}
	}

	// STAGED: the new hash replaces the old one, with a profile change in
	// the same partial update.
	oldHash := map[string]any{"password": map[string]any{"hash": saltedHash("SHA-256", sha256.New, oldPW, salt, "POSTFIX")}}
	u := o.mustUser("?activate=false", map[string]any{"profile": profile("rehash@example.com"), "credentials": oldHash})
	id := u["id"].(string)
	got := want(t, o.do("POST", "/api/v1/users/"+id, map[string]any{"profile": map[string]any{"managerId": "00umanager0000000000", "title": nil},
		"credentials": newHash}), 200, "hash update while STAGED")
	if got["status"] != "STAGED" || path(got, "credentials", "provider", "type") != "IMPORT" || path(got, "profile", "managerId") != "00umanager0000000000" ||
		path(got, "profile", "firstName") != "Isaac" {
		t.Errorf("after the update: %v", got)
	}
	want(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/activate?sendEmail=false", nil), 200, "activate")
	wantError(t, o.signIn("rehash@example.com", oldPW), 401, "E0000004")
	wantSignIn(t, o.signIn("rehash@example.com", newPW), id)

	// A bad hash while STAGED is a validation error about the hash.
	bad := o.mustUser("?activate=false", map[string]any{"profile": profile("badhash@example.com")})
	r := o.do("POST", "/api/v1/users/"+bad["id"].(string), map[string]any{"credentials": map[string]any{"password": map[string]any{"hash": map[string]any{"algorithm": "ARGON2", "value": "x"}}}})
	wantError(t, r, 400, "E0000001")
	if strings.Contains(string(r.Body), "STAGED") {
		t.Errorf("a bad hash on a STAGED user is reported as a status problem: %s", r.Body)
	}
	// Profile validation as on create.
	wantError(t, o.do("POST", "/api/v1/users/"+id, map[string]any{"profile": map[string]any{"email": "not-an-email"}}), 400, "E0000001")
	wantError(t, o.do("POST", "/api/v1/users/"+id, map[string]any{"profile": map[string]any{"undeclared": "x"}}), 400, "E0000001")
}

// TestSignInForEveryStatus: only ACTIVE signs in, PASSWORD_EXPIRED gets a
// transaction, every other status gets 401 E0000004 with the right password.
func TestSignInForEveryStatus(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	pw := "Tr0ub4dor&3x"
	for i, st := range []string{"STAGED", "PROVISIONED", "ACTIVE", "SUSPENDED", "PASSWORD_EXPIRED", "DEPROVISIONED", "LOCKED_OUT", "RECOVERY"} {
		login := "s" + string(rune('a'+i)) + "@example.com"
		// Every user has the password, so only the status decides.
		id := o.userIn(login, pw, st)
		switch st {
		case "ACTIVE":
			wantSignIn(t, o.signIn(login, pw), id)
		case "PASSWORD_EXPIRED":
			if b := want(t, o.signIn(login, pw), 200, "sign-in"); b["status"] != "PASSWORD_EXPIRED" {
				t.Errorf("%s: authn status %v", st, b["status"])
			}
		default:
			wantError(t, o.signIn(login, pw), 401, "E0000004")
		}
		wantError(t, o.signIn(login, pw+"x"), 401, "E0000004")
	}
}

func TestActivationEmailsAreCounted(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	// createUser activate=true without a password: PROVISIONED, emailed.
	o.mustUser("?activate=true", map[string]any{"profile": profile("created@example.com")})
	// createUser activate=true with a password: ACTIVE, no email.
	o.mustUser("?activate=true", map[string]any{"profile": profile("withpw@example.com"), "credentials": map[string]any{"password": map[string]any{"value": "Tr0ub4dor&3x"}}})
	// A wave: STAGED users with a hash activated silently, users without a
	// password activated with the email.
	hash := map[string]any{"password": map[string]any{"hash": saltedHash("SHA-512", sha512.New, "pw pw pw pw", []byte("s"), "PREFIX")}}
	h := o.mustUser("?activate=false", map[string]any{"profile": profile("hashed@example.com"), "credentials": hash})
	tok := want(t, o.do("POST", "/api/v1/users/"+h["id"].(string)+"/lifecycle/activate?sendEmail=false", nil), 200, "activate hashed")
	if tok["activationToken"] == nil {
		t.Errorf("sendEmail=false answered %v, want the token", tok)
	}
	n := o.mustUser("?activate=false", map[string]any{"profile": profile("nopw@example.com")})
	if e := want(t, o.do("POST", "/api/v1/users/"+n["id"].(string)+"/lifecycle/activate?sendEmail=true", nil), 200, "activate nopw"); len(e) != 0 {
		t.Errorf("sendEmail=true answered %v, want {}", e)
	}
	// sendEmail=false without a password: the link comes back, no email.
	l := o.mustUser("?activate=false", map[string]any{"profile": profile("link@example.com")})
	tok = want(t, o.do("POST", "/api/v1/users/"+l["id"].(string)+"/lifecycle/activate?sendEmail=false", nil), 200, "activate link")
	if tok["activationToken"] == nil || !strings.Contains(tok["activationUrl"].(string), tok["activationToken"].(string)) {
		t.Errorf("sendEmail=false without a password answered %v, want activationUrl and activationToken", tok)
	}
	// The default sendEmail is true (spec): deactivate and activate again.
	want(t, o.do("POST", "/api/v1/users/"+n["id"].(string)+"/lifecycle/deactivate", nil), 200, "deactivate")
	want(t, o.do("POST", "/api/v1/users/"+n["id"].(string)+"/lifecycle/activate", nil), 200, "reactivate")
	// A hashed user activated with sendEmail=true is emailed too (the
	// spec: don't send one to imported-password users), and counted.
	h2 := o.mustUser("?activate=false", map[string]any{"profile": profile("hashed2@example.com"), "credentials": hash})
	want(t, o.do("POST", "/api/v1/users/"+h2["id"].(string)+"/lifecycle/activate?sendEmail=true", nil), 200, "activate hashed2")
	if o.statusOf(h2["id"].(string)) != "ACTIVE" {
		t.Errorf("hashed2: %v", o.statusOf(h2["id"].(string)))
	}
	for login, n := range map[string]int{"created@example.com": 1, "withpw@example.com": 0, "hashed@example.com": 0, "NOPW@example.com": 2,
		"link@example.com": 0, "hashed2@example.com": 1, "nobody@example.com": 0, n["id"].(string): 2} {
		if got := o.sim.ActivationEmails(login); got != n {
			t.Errorf("ActivationEmails(%s) = %d, want %d", login, got, n)
		}
	}
}

func TestTamperAndRemoveFromGroup(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	u := o.mustUser("", map[string]any{"profile": profile("tamper@example.com"), "credentials": map[string]any{"password": map[string]any{"value": "Tr0ub4dor&3x"}}})
	id := u["id"].(string)
	o.mustUser("", map[string]any{"profile": profile("other@example.com")})

	if err := o.sim.Tamper("TAMPER@example.com", map[string]any{"department": "Sales", "firstName": nil, "managerId": "00umanager0000000000"}, "SUSPENDED"); err != nil {
		t.Fatal(err)
	}
	g := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get")
	if g["status"] != "SUSPENDED" || path(g, "profile", "department") != "Sales" || path(g, "profile", "firstName") != nil ||
		path(g, "profile", "managerId") != "00umanager0000000000" || path(g, "profile", "lastName") != "Brock" {
		t.Errorf("after Tamper: %v", g)
	}
	if g["statusChanged"] == nil {
		t.Errorf("Tamper of the status left statusChanged %v", g["statusChanged"])
	}
	// By id; the login can change and the old one is free.
	if err := o.sim.Tamper(id, map[string]any{"login": "renamed@example.com"}, ""); err != nil {
		t.Fatal(err)
	}
	if g := want(t, o.do("GET", "/api/v1/users/renamed%40example.com", nil), 200, "get by new login"); g["id"] != id || g["status"] != "SUSPENDED" {
		t.Errorf("by the new login: %v", g)
	}
	wantError(t, o.do("GET", "/api/v1/users/tamper%40example.com", nil), 404, "E0000007")
	for name, err := range map[string]error{
		"bad status":   o.sim.Tamper(id, nil, "SLEEPING"),
		"unknown user": o.sim.Tamper("nobody@example.com", nil, "ACTIVE"),
		"taken login":  o.sim.Tamper(id, map[string]any{"login": "OTHER@example.com"}, ""),
		"no login":     o.sim.Tamper(id, map[string]any{"login": nil}, ""),
	} {
		if err == nil {
			t.Errorf("Tamper %s: no error", name)
		}
	}

	gid := o.mustGroup("Wave 1")
	want(t, o.do("PUT", "/api/v1/groups/"+gid+"/users/"+id, nil), 204, "add member")
	if l := o.do("GET", "/api/v1/users/"+id+"/groups", nil).list(t); len(l) != 1 {
		t.Fatalf("groups = %v", l)
	}
	if err := o.sim.RemoveFromGroup("renamed@example.com", gid); err != nil {
		t.Fatal(err)
	}
	if l := o.do("GET", "/api/v1/users/"+id+"/groups", nil).list(t); len(l) != 0 {
		t.Errorf("groups after RemoveFromGroup = %v", l)
	}
	if m := o.do("GET", "/api/v1/groups/"+gid+"/users", nil).list(t); len(m) != 0 {
		t.Errorf("members after RemoveFromGroup = %v", m)
	}
	for name, err := range map[string]error{
		"not a member":  o.sim.RemoveFromGroup(id, gid),
		"unknown group": o.sim.RemoveFromGroup(id, "00gnothere0000000000"),
		"unknown user":  o.sim.RemoveFromGroup("nobody@example.com", gid),
	} {
		if err == nil {
			t.Errorf("RemoveFromGroup %s: no error", name)
		}
	}
}

func TestLifecycleResponsesMatchOktasOpenAPIDocument(t *testing.T) {
	v := oktaSpec(t)
	o := mustOrg(t, oktasim.Options{})
	u := o.mustUser("", map[string]any{"profile": profile("contract-lc@example.com"), "credentials": map[string]any{"password": map[string]any{"value": "Tr0ub4dor&3x"}}})
	id := u["id"].(string)
	gid := o.mustGroup("Contract LC")
	want(t, o.do("PUT", "/api/v1/groups/"+gid+"/users/"+id, nil), 204, "add member")
	contractCall(t, v, o, "GET", "/api/v1/users/"+id+"/groups", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/users/"+id+"/lifecycle/suspend", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/users/"+id+"/lifecycle/suspend", nil, 400)
	contractCall(t, v, o, "POST", "/api/v1/users/"+id+"/lifecycle/unsuspend", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/users/"+id+"/lifecycle/unsuspend", nil, 400)
	contractCall(t, v, o, "POST", "/api/v1/users/"+id+"/lifecycle/expire_password", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/users/"+id, map[string]any{"profile": map[string]any{"managerId": "00umanager0000000000", "manager": "Jane"}}, 200)
	contractCall(t, v, o, "POST", "/api/v1/users/"+id, map[string]any{"credentials": map[string]any{"password": map[string]any{"hash": map[string]any{
		"algorithm": "BCRYPT", "workFactor": 10, "salt": "rwh3vH166HCH/NT9XV5FYu", "value": "qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"}}}}, 400)
	s := o.mustUser("?activate=false", map[string]any{"profile": profile("contract-lc2@example.com")})
	contractCall(t, v, o, "POST", "/api/v1/users/"+s["id"].(string)+"/lifecycle/expire_password", nil, 403)
	contractCall(t, v, o, "POST", "/api/v1/users/00unothere0000000000/lifecycle/suspend", nil, 404)
	contractCall(t, v, o, "GET", "/api/v1/users/00unothere0000000000/groups", nil, 404)
}
