package load

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/okta"
)

func TestAccountStatus(t *testing.T) {
	uac := &CutoverSettings{StatusAttribute: "userAccountControl", DisabledValues: []string{"514"}}
	list := &CutoverSettings{StatusAttribute: "accountStatus", DisabledValues: []string{"Disabled", "off"},
		LockedValues: []string{"LOCKED"}, ExpiredValues: []string{"expired"}}
	for _, c := range []struct {
		name string
		set  *CutoverSettings
		rec  map[string][]string
		want string
	}{
		{"no settings", nil, map[string][]string{"userAccountControl": {"514"}}, AccountActive},
		{"no attribute", &CutoverSettings{}, map[string][]string{"userAccountControl": {"514"}}, AccountActive},
		{"no value", uac, map[string][]string{"cn": {"x"}}, AccountActive},
		{"blank value", uac, map[string][]string{"userAccountControl": {" "}}, AccountActive},
		{"normal account", uac, map[string][]string{"userAccountControl": {"512"}}, AccountActive},
		{"disabled bit", uac, map[string][]string{"userAccountControl": {"514"}}, AccountDisabled},
		{"attribute name ignoring case", uac, map[string][]string{"useraccountcontrol": {"66050"}}, AccountDisabled},
		{"lockout bit", uac, map[string][]string{"userAccountControl": {"528"}}, AccountLocked},
		{"password expired bit", uac, map[string][]string{"userAccountControl": {"8389120"}}, AccountExpired},
		{"hexadecimal", uac, map[string][]string{"userAccountControl": {"0x800200"}}, AccountExpired},
		{"disabled wins", uac, map[string][]string{"userAccountControl": {"8389138"}}, AccountDisabled},
		{"not a number: the lists", uac, map[string][]string{"userAccountControl": {"514 "}}, AccountDisabled},
		{"list disabled", list, map[string][]string{"accountStatus": {"disabled"}}, AccountDisabled},
		{"list second value", list, map[string][]string{"AccountStatus": {"OFF"}}, AccountDisabled},
		{"list locked", list, map[string][]string{"accountStatus": {"Locked"}}, AccountLocked},
		{"list expired", list, map[string][]string{"accountStatus": {"EXPIRED"}}, AccountExpired},
		{"list other", list, map[string][]string{"accountStatus": {"active"}}, AccountActive},
		{"multi-valued", list, map[string][]string{"accountStatus": {"active", "locked"}}, AccountLocked},
	} {
		if got := accountStatus(c.set, c.rec); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	set := &CutoverSettings{DisabledAction: StatusDeprovision, LockedAction: StatusCreate, ExpiredAction: StatusSkip}
	for status, want := range map[string]string{AccountActive: StatusCreate, AccountDisabled: StatusDeprovision,
		AccountLocked: StatusCreate, AccountExpired: StatusSkip} {
		if got := statusActionOf(set, status); got != want {
			t.Errorf("%s → %s, want %s", status, got, want)
		}
	}
	if statusActionOf(nil, AccountLocked) != StatusSuspend {
		t.Error("default of locked")
	}
}

// requestLog records the requests that reach the sandbox.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		q := ""
		if r.URL.RawQuery != "" {
			q = "?" + r.URL.RawQuery
		}
		l.reqs = append(l.reqs, r.Method+" "+r.URL.Path+q)
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// matching lists the requests whose "METHOD path?query" contains every part.
func (l *requestLog) matching(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.reqs {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(r, p)
		}
		if ok {
			out = append(out, r)
		}
	}
	return out
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.reqs = nil
	l.mu.Unlock()
}

// statusFixture: an AD source whose userAccountControl says the status,
// with hashed passwords, one user per status.
func statusFixture(t *testing.T, log *requestLog, set CutoverInput) (*fixture, int64) {
	t.Helper()
	o := fxOptions{}
	if log != nil {
		o.Wrap = log.wrap
	}
	f := newFixture(t, o)
	src := f.addSource("AD", false)
	settings := &credentials.Settings{SourceID: src, ProjectID: f.projectID, Attribute: "userPassword"}
	f.pw.readings[src] = credentials.Reading{Settings: settings, Source: settings.Source()}
	hash, err := bcrypt.GenerateFromPassword([]byte("Correct-Horse-9"), 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]string{{"locked@example.com", "528"}, {"expired@example.com", "8389120"},
		{"active@example.com", "512"}, {"disabled@example.com", "514"}} {
		f.addRecord(src, r[0], map[string][]string{"userPassword": {string(hash)}, "userAccountControl": {r[1]}}, nil)
	}
	set.StatusAttribute = "userAccountControl"
	if _, err := f.svc.SaveCutover(t.Context(), f.projectID, src, 0, set); err != nil {
		t.Fatal(err)
	}
	return f, src
}

func itemsByLogin(f *fixture, runID int64) map[string]Item {
	out := map[string]Item{}
	for _, it := range f.items(runID) {
		out[it.Login] = it
	}
	return out
}

func provenanceByLogin(f *fixture) map[string]OktaUser {
	out := map[string]OktaUser{}
	for _, u := range f.oktaUsers() {
		out[u.Login] = u
	}
	return out
}

// An ACTIVE load: disabled accounts skipped, locked ones suspended, expired
// ones created with nextLogin=changePassword and PASSWORD_EXPIRED.
func TestLegacyStatusActiveLoad(t *testing.T) {
	log := &requestLog{}
	f, _ := statusFixture(t, log, CutoverInput{})
	run := f.start(NewRun{Mode: ModeHash, Activate: true})
	byLogin := itemsByLogin(f, run.ID)
	d := byLogin["disabled@example.com"]
	if d.State != StateSkipped || d.ErrorCode != "FERRY_STATUS_SKIP" || !strings.Contains(d.ErrorSummary, "disabled") ||
		d.CredentialSealed != "" || d.AccountStatus != AccountDisabled || d.StatusAction != StatusSkip {
		t.Fatalf("disabled item: %+v", d)
	}
	for login, want := range map[string][2]string{"active@example.com": {AccountActive, StatusCreate},
		"locked@example.com": {AccountLocked, StatusSuspend}, "expired@example.com": {AccountExpired, StatusChangePassword}} {
		if it := byLogin[login]; it.State != StatePending || it.AccountStatus != want[0] || it.StatusAction != want[1] {
			t.Errorf("%s: %s %s %s", login, it.State, it.AccountStatus, it.StatusAction)
		}
	}
	f.mustExecute(run.ID)
	f.assertLoaded(run.ID, []string{"active@example.com", "locked@example.com", "expired@example.com"}, 0)
	if f.oktaUser("disabled@example.com") != nil {
		t.Error("a disabled account was created")
	}
	prov := provenanceByLogin(f)
	for login, want := range map[string]string{"active@example.com": okta.StatusActive, "locked@example.com": okta.StatusSuspended,
		"expired@example.com": okta.StatusPasswordExpired} {
		if u := f.oktaUser(login); u.Status != want {
			t.Errorf("%s is %s in the sandbox, want %s", login, u.Status, want)
		}
		if prov[login].Status != want {
			t.Errorf("%s provenance status %s, want %s", login, prov[login].Status, want)
		}
	}
	if got := log.matching("POST /api/v1/users?", "nextLogin=changePassword"); len(got) != 1 {
		t.Errorf("creates with nextLogin=changePassword: %v", got)
	}
	if got := log.matching("POST /api/v1/users?", "activate=true"); len(got) != 3 {
		t.Errorf("creates: %v", got)
	}
	if it := itemsByLogin(f, run.ID)["locked@example.com"]; !strings.Contains(it.ErrorSummary, "SUSPENDED") || it.ErrorCode != "" {
		t.Errorf("locked item: %s %q", it.ErrorCode, it.ErrorSummary)
	}
	// The expired user signs in with its migrated password, and must change it.
	var authn struct {
		Status string `json:"status"`
	}
	if code := f.simJSON("POST", "/api/v1/authn", map[string]string{"username": "expired@example.com", "password": "Correct-Horse-9"}, &authn); code != 200 || authn.Status != "PASSWORD_EXPIRED" {
		t.Errorf("sign-in of the expired user: %d %s", code, authn.Status)
	}
}

// Deprovisioned at creation, in STAGED and ACTIVE loads; suspend and change
// password wait for the activation of a STAGED load.
func TestLegacyStatusStagedLoadAndDeprovision(t *testing.T) {
	f, _ := statusFixture(t, nil, CutoverInput{DisabledAction: StatusDeprovision})
	run := f.start(NewRun{Mode: ModeHash, Activate: false})
	f.mustExecute(run.ID)
	want := map[string]string{"active@example.com": okta.StatusStaged, "disabled@example.com": okta.StatusDeprovisioned,
		"locked@example.com": okta.StatusStaged, "expired@example.com": okta.StatusStaged}
	f.assertLoaded(run.ID, []string{"active@example.com", "disabled@example.com", "locked@example.com", "expired@example.com"}, 0)
	prov := provenanceByLogin(f)
	byLogin := itemsByLogin(f, run.ID)
	for login, st := range want {
		if u := f.oktaUser(login); u.Status != st || prov[login].Status != st {
			t.Errorf("%s: sandbox %s, provenance %s, want %s", login, u.Status, prov[login].Status, st)
		}
	}
	if s := byLogin["locked@example.com"].ErrorSummary; !strings.Contains(s, "suspended when it is activated") {
		t.Errorf("locked summary %q", s)
	}
	if s := byLogin["disabled@example.com"].ErrorSummary; !strings.Contains(s, "DEPROVISIONED") {
		t.Errorf("disabled summary %q", s)
	}

	// ACTIVE load, deprovision.
	f2, _ := statusFixture(t, nil, CutoverInput{DisabledAction: StatusDeprovision, LockedAction: StatusCreate, ExpiredAction: StatusCreate})
	run2 := f2.start(NewRun{Mode: ModeHash, Activate: true})
	f2.mustExecute(run2.ID)
	for login, st := range map[string]string{"active@example.com": okta.StatusActive, "disabled@example.com": okta.StatusDeprovisioned,
		"locked@example.com": okta.StatusActive, "expired@example.com": okta.StatusActive} {
		if u := f2.oktaUser(login); u.Status != st {
			t.Errorf("active load %s: %s, want %s", login, u.Status, st)
		}
	}
}

// Without a password there is nothing to expire (noted), and a user to
// suspend is PROVISIONED: it cannot be suspended and its item says so.
func TestLegacyStatusWithoutPassword(t *testing.T) {
	f, _ := statusFixture(t, nil, CutoverInput{})
	run := f.start(NewRun{Mode: ModeNone, Activate: true})
	f.mustExecute(run.ID)
	byLogin := itemsByLogin(f, run.ID)
	if it := byLogin["expired@example.com"]; it.State != StateCreated || !strings.Contains(it.ErrorSummary, "nothing to expire") {
		t.Errorf("expired without a password: %s %q", it.State, it.ErrorSummary)
	}
	if u := f.oktaUser("expired@example.com"); u.Status != okta.StatusProvisioned {
		t.Errorf("expired user %s", u.Status)
	}
	it := byLogin["locked@example.com"]
	if it.State != StateFailed || it.ErrorCode != "FERRY_STATUS_NOT_APPLIED" || it.OktaUserID == "" {
		t.Errorf("locked without a password: %+v", it)
	}
	prov := provenanceByLogin(f)
	if p, ok := prov["locked@example.com"]; !ok || p.Status != okta.StatusProvisioned || p.OktaUserID != it.OktaUserID {
		t.Errorf("the created user is Ferry's (for a rollback): %+v", p)
	}
}

// A crash right after the create of a locked user: the resume finds the
// user and suspends it; a user already suspended (the suspend went out
// before the crash) is refused by Okta and read back: done.
func TestLegacyStatusCrashAfterCreate(t *testing.T) {
	f, _ := statusFixture(t, nil, CutoverInput{})
	run := f.start(NewRun{Mode: ModeHash, Activate: true, MaxInFlight: 1})
	fired := crashOnce(t, "created", 1)
	if err := f.execute(f.svc, run.ID); !errors.Is(err, errCrashed) || !fired.Load() {
		t.Fatalf("Execute = %v", err)
	}
	var crashed string
	for _, it := range f.items(run.ID) {
		if f.oktaUser(it.Login) != nil {
			if crashed != "" {
				t.Fatalf("two users created before the crash: %s, %s", crashed, it.Login)
			}
			crashed = it.Login
		}
	}
	if crashed == "" {
		t.Fatal("no user created before the crash")
	}
	if crashed != "locked@example.com" {
		t.Fatalf("crashed on %s", crashed)
	}
	// Make it look as if its suspend went out before the crash.
	want := map[string]string{"active@example.com": okta.StatusActive, "locked@example.com": okta.StatusSuspended,
		"expired@example.com": okta.StatusPasswordExpired}
	if st := want[crashed]; st != okta.StatusActive {
		if err := f.sim.Tamper(crashed, nil, st); err != nil {
			t.Fatal(err)
		}
	}
	resumeAfterCrash(t, f, run.ID)
	f.assertLoaded(run.ID, []string{"active@example.com", "locked@example.com", "expired@example.com"}, 0)
	prov := provenanceByLogin(f)
	for login, st := range want {
		if u := f.oktaUser(login); u.Status != st || prov[login].Status != st {
			t.Errorf("%s: sandbox %s provenance %s, want %s", login, u.Status, prov[login].Status, st)
		}
	}
}
