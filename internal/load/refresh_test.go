package load

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// refreshFixture loads five users STAGED with their hashes: keep, prof,
// hash, gone and excl (@example.com), with a request log.
type refreshFx struct {
	*fixture
	log     *requestLog
	src     int64
	records map[string]int64
	load    *Run
}

func bcryptOf(t *testing.T, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), 4)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func newRefreshFx(t *testing.T, o fxOptions) *refreshFx {
	t.Helper()
	log := &requestLog{}
	wrap := o.Wrap
	o.Wrap = log.wrap
	if wrap != nil {
		o.Wrap = func(h http.Handler) http.Handler { return log.wrap(wrap(h)) }
	}
	f := newFixture(t, o)
	rf := &refreshFx{fixture: f, log: log, records: map[string]int64{}}
	rf.src = f.addSource("LDAP", false)
	settings := &credentials.Settings{SourceID: rf.src, ProjectID: f.projectID, Attribute: "userPassword"}
	f.pw.readings[rf.src] = credentials.Reading{Settings: settings, Source: settings.Source()}
	old := bcryptOf(t, "Old-Passw0rd-1")
	for _, l := range []string{"keep", "prof", "hash", "gone", "excl"} {
		login := l + "@example.com"
		rf.records[login] = f.addRecord(rf.src, login, map[string][]string{"userPassword": {old}}, map[string]string{"title": "Engineer"})
	}
	rf.load = f.start(NewRun{Mode: ModeHash, Activate: false})
	f.mustExecute(rf.load.ID)
	f.assertLoaded(rf.load.ID, []string{"keep@example.com", "prof@example.com", "hash@example.com", "gone@example.com", "excl@example.com"}, 0)
	return rf
}

// setProfile replaces a record's validated profile attributes (nil: removed).
func (rf *refreshFx) setProfile(login string, changes map[string]*string) {
	rf.t.Helper()
	var pj string
	if err := rf.db.ReadSQL().QueryRow(rf.db.Bind(`SELECT profile_json FROM staged_profiles WHERE record_id = ?`), rf.records[login]).Scan(&pj); err != nil {
		rf.t.Fatal(err)
	}
	p := map[string]string{}
	_ = json.Unmarshal([]byte(pj), &p)
	for k, v := range changes {
		if v == nil {
			delete(p, k)
		} else {
			p[k] = *v
		}
	}
	b, _ := json.Marshal(p)
	rf.exec(`UPDATE staged_profiles SET profile_json = ? WHERE record_id = ?`, string(b), rf.records[login])
}

func (rf *refreshFx) setPassword(login, hash string) {
	rf.t.Helper()
	b, _ := json.Marshal(map[string][]string{"mail": {login}, "userPassword": {hash}})
	rf.exec(`UPDATE staged_records SET attributes_json = ? WHERE id = ?`, string(b), rf.records[login])
}

func (rf *refreshFx) remove(login string) {
	rf.t.Helper()
	rf.exec(`DELETE FROM staged_profiles WHERE record_id = ?`, rf.records[login])
	rf.exec(`DELETE FROM staged_records WHERE id = ?`, rf.records[login])
	delete(rf.records, login)
}

func strp(s string) *string { return &s }

func (rf *refreshFx) startRefresh(in NewRefresh) (*Run, *RefreshPlan) {
	rf.t.Helper()
	run, p, err := rf.svc.StartRefresh(rf.t.Context(), rf.projectID, in)
	if err != nil {
		var reasons []string
		if p != nil {
			reasons = p.BlockingReasons()
		}
		rf.t.Fatalf("StartRefresh: %v %v", err, reasons)
	}
	return run, p
}

// authn signs in through the sandbox and returns Okta's status ("" when refused).
func (rf *refreshFx) authn(login, password string) string {
	var out struct {
		Status string `json:"status"`
	}
	if code := rf.simJSON("POST", "/api/v1/authn", map[string]string{"username": login, "password": password}, &out); code != 200 {
		return ""
	}
	return out.Status
}

func TestRefresh(t *testing.T) {
	rf := newRefreshFx(t, fxOptions{})
	ctx := t.Context()
	provBefore := provenanceByLogin(rf.fixture)
	newHash := bcryptOf(t, "New-Passw0rd-2")

	// At the source since the load: prof re-staged (a new record id) with
	// a new first name and no title; hash's password changed; gone left;
	// excl excluded; a joiner.
	oldProf := rf.records["prof@example.com"]
	rf.remove("prof@example.com")
	rf.records["prof@example.com"] = rf.addRecord(rf.src, "prof@example.com", map[string][]string{"userPassword": {bcryptOf(t, "Old-Passw0rd-1")}},
		map[string]string{"firstName": "Renamed"})
	// A new bcrypt of the same password would be another hash (and
	// digest): keep the loaded one, so that only the profile changed.
	rf.setPassword("prof@example.com", oldHashOf(t, rf, "keep@example.com"))
	rf.setPassword("hash@example.com", newHash)
	rf.remove("gone@example.com")
	rf.exec(`UPDATE staged_records SET excluded = TRUE WHERE id = ?`, rf.records["excl@example.com"])
	rf.addRecord(rf.src, "new@example.com", map[string][]string{"userPassword": {newHash}}, nil)

	p, err := rf.svc.PlanRefresh(ctx, rf.projectID, NewRefresh{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Blocked() || p.ProfilesChanged != 1 || p.HashesChanged != 1 || p.HashesNotSendable != 0 || p.Updates != 2 || p.Joiners != 1 ||
		p.Leavers != 1 || p.Held != 1 || p.Unchanged != 1 || p.LeaverPolicy != LeaversReport || p.Mode != ModeHash || p.Activate {
		t.Fatalf("plan: %+v %v", p, p.BlockingReasons())
	}
	if rf.sim.UserCount() != 5 {
		t.Fatal("the plan sent something")
	}

	rf.log.reset()
	run, _ := rf.startRefresh(NewRefresh{})
	if run.Kind != KindRefresh || run.Total != 5 || run.Mode != ModeHash || run.Activate {
		t.Fatalf("run %+v", run)
	}
	items := itemsByLogin(rf.fixture, run.ID)
	if it := items["prof@example.com"]; it.Action != ActionUpdate || it.State != StatePending || it.CredentialSealed != "" ||
		!strings.Contains(it.DetailJSON, `"firstName"`) || !strings.Contains(it.ProfileJSON, `"title":null`) || strings.Contains(it.ProfileJSON, "login") {
		t.Errorf("prof item: %+v", it)
	}
	if it := items["hash@example.com"]; it.Action != ActionUpdate || it.CredentialSealed == "" || it.ProfileJSON != "{}" ||
		!strings.Contains(it.DetailJSON, `"hashChanged":true`) {
		t.Errorf("hash item: %+v", it)
	}
	if it := items["gone@example.com"]; it.Action != ActionLeave || it.State != StateSkipped || it.ErrorCode != "FERRY_LEAVER" {
		t.Errorf("leaver item: %+v", it)
	}
	if it := items["excl@example.com"]; it.State != StateSkipped || it.ErrorCode != "FERRY_HELD" {
		t.Errorf("held item: %+v", it)
	}
	if it := items["new@example.com"]; it.Action != ActionCreate || it.State != StatePending {
		t.Errorf("joiner item: %+v", it)
	}
	if _, ok := items["keep@example.com"]; ok {
		t.Error("an unchanged user has an item")
	}
	// The provenance follows the re-staged record.
	if got := provenanceByLogin(rf.fixture)["prof@example.com"]; got.RecordID == nil || *got.RecordID != rf.records["prof@example.com"] || *got.RecordID == oldProf {
		t.Errorf("provenance record id %v", got.RecordID)
	}

	done := rf.mustExecute(run.ID)
	if done.Status != StatusDone || !strings.Contains(done.Message, "2 updated, 1 joiners created") {
		t.Fatalf("run: %s %s", done.Status, done.Message)
	}
	items = itemsByLogin(rf.fixture, run.ID)
	for _, l := range []string{"prof@example.com", "hash@example.com"} {
		if it := items[l]; it.State != StateUpdated || it.CredentialSealed != "" || it.Attempts != 1 {
			t.Errorf("%s: %s %s %q attempts %d", l, it.State, it.ErrorCode, it.ErrorSummary, it.Attempts)
		}
	}
	if it := items["new@example.com"]; it.State != StateCreated {
		t.Errorf("joiner: %s %s %s", it.State, it.ErrorCode, it.ErrorSummary)
	}
	// Requests: one update per changed user, one create, none for the
	// unchanged, held or reported users.
	for login, n := range map[string]int{"prof@example.com": 1, "hash@example.com": 1, "keep@example.com": 0, "gone@example.com": 0, "excl@example.com": 0} {
		id := provBefore[login].OktaUserID
		if got := rf.log.matching(" /api/v1/users/" + id); len(got) != n {
			t.Errorf("%s: requests %v, want %d", login, got, n)
		}
	}
	if got := rf.log.matching("POST /api/v1/users?"); len(got) != 1 {
		t.Errorf("creates %v", got)
	}
	u := rf.oktaUser("prof@example.com")
	if u.Profile["firstName"] != "Renamed" || u.Profile["title"] != nil || u.Status != okta.StatusStaged {
		t.Errorf("prof in the sandbox: %s %v", u.Status, u.Profile)
	}
	if u := rf.oktaUser("new@example.com"); u == nil || u.Status != okta.StatusStaged {
		t.Errorf("joiner in the sandbox: %+v", u)
	}
	if u := rf.oktaUser("gone@example.com"); u.Status != okta.StatusStaged {
		t.Errorf("reported leaver touched: %s", u.Status)
	}
	prov := provenanceByLogin(rf.fixture)
	if len(rf.oktaUsers()) != 6 {
		t.Errorf("provenance rows %d, want 6", len(rf.oktaUsers()))
	}
	var sent map[string]any
	_ = json.Unmarshal([]byte(prov["prof@example.com"].ProfileJSON), &sent)
	if sent["firstName"] != "Renamed" || sent["title"] != nil || sent["login"] != "prof@example.com" || prov["prof@example.com"].UpdatedAt == nil {
		t.Errorf("prof provenance %s", prov["prof@example.com"].ProfileJSON)
	}
	if prov["hash@example.com"].HashDigest == provBefore["hash@example.com"].HashDigest || prov["hash@example.com"].HashDigest != items["hash@example.com"].HashDigest {
		t.Error("the hash digest was not updated")
	}
	// The new hash is in Okta: after activation the new password signs in.
	if st := rf.authn("hash@example.com", "New-Passw0rd-2"); st != "" {
		t.Errorf("a STAGED user signed in: %s", st)
	}
	if _, _, err := rf.client.ActivateUser(ctx, prov["hash@example.com"].OktaUserID, false); err != nil {
		t.Fatal(err)
	}
	if st := rf.authn("hash@example.com", "New-Passw0rd-2"); st != "SUCCESS" {
		t.Errorf("sign-in with the new password: %q", st)
	}
	if st := rf.authn("hash@example.com", "Old-Passw0rd-1"); st != "" {
		t.Errorf("sign-in with the old password: %q", st)
	}

	// A second refresh: the leaver is now deactivated under the
	// project's policy; nothing else is sent.
	if _, err := rf.svc.SaveLeavers(ctx, rf.projectID, 0, LeaversDeactivate); err != nil {
		t.Fatal(err)
	}
	rf.log.reset()
	run2, p2 := rf.startRefresh(NewRefresh{})
	if p2.Updates != 0 || p2.Joiners != 0 || p2.Leavers != 1 || p2.LeaverPolicy != LeaversDeactivate || p2.Unchanged != 4 {
		t.Fatalf("second plan: %+v", p2)
	}
	rf.mustExecute(run2.ID)
	if it := itemsByLogin(rf.fixture, run2.ID)["gone@example.com"]; it.State != StateDeactivated {
		t.Errorf("leaver: %s %s %s", it.State, it.ErrorCode, it.ErrorSummary)
	}
	if u := rf.oktaUser("gone@example.com"); u.Status != okta.StatusDeprovisioned {
		t.Errorf("leaver in the sandbox: %s", u.Status)
	}
	if got := provenanceByLogin(rf.fixture)["gone@example.com"]; got.Status != okta.StatusDeprovisioned || got.RemovedAt != nil {
		t.Errorf("leaver provenance: %+v", got)
	}
	if got := rf.log.matching("POST /api/v1/users/"); len(got) != 1 || !strings.Contains(got[0], "/lifecycle/deactivate") {
		t.Errorf("second refresh requests %v", got)
	}
	// A third: the leaver was deactivated already; only the held user is listed.
	_, p3, err := rf.svc.StartRefresh(ctx, rf.projectID, NewRefresh{})
	if err != nil || p3.Leavers != 0 || p3.AlreadyDeactivated != 1 || p3.Held != 1 {
		t.Errorf("third: %v %+v", err, p3)
	}
}

// oldHashOf reads the hash a record holds.
func oldHashOf(t *testing.T, rf *refreshFx, login string) string {
	t.Helper()
	var a string
	if err := rf.db.ReadSQL().QueryRow(rf.db.Bind(`SELECT attributes_json FROM staged_records WHERE id = ?`), rf.records[login]).Scan(&a); err != nil {
		t.Fatal(err)
	}
	var attrs map[string][]string
	_ = json.Unmarshal([]byte(a), &attrs)
	return attrs["userPassword"][0]
}

// A hash changes after the user left STAGED: Ferry knows (not sent at
// all), or Okta tells (the profile still goes, the item says so).
func TestRefreshHashNoLongerStaged(t *testing.T) {
	rf := newRefreshFx(t, fxOptions{})
	prov := provenanceByLogin(rf.fixture)
	// keep: Ferry knows it is ACTIVE (an activation wave recorded it).
	rf.exec(`UPDATE okta_users SET status = ? WHERE okta_user_id = ?`, okta.StatusActive, prov["keep@example.com"].OktaUserID)
	if _, _, err := rf.client.ActivateUser(t.Context(), prov["keep@example.com"].OktaUserID, false); err != nil {
		t.Fatal(err)
	}
	// hash: activated behind Ferry's back.
	if _, _, err := rf.client.ActivateUser(t.Context(), prov["hash@example.com"].OktaUserID, false); err != nil {
		t.Fatal(err)
	}
	newHash := bcryptOf(t, "New-Passw0rd-2")
	rf.setPassword("keep@example.com", newHash)
	rf.setPassword("hash@example.com", newHash)
	rf.setProfile("hash@example.com", map[string]*string{"title": strp("Manager")})
	p, err := rf.svc.PlanRefresh(t.Context(), rf.projectID, NewRefresh{})
	if err != nil {
		t.Fatal(err)
	}
	if p.HashesChanged != 2 || p.HashesNotSendable != 1 || p.Updates != 1 || p.ProfilesChanged != 1 {
		t.Fatalf("plan %+v", p)
	}
	rf.log.reset()
	run, _ := rf.startRefresh(NewRefresh{})
	items := itemsByLogin(rf.fixture, run.ID)
	if it := items["keep@example.com"]; it.State != StateSkipped || it.ErrorCode != "FERRY_HASH_NOT_STAGED" || it.CredentialSealed != "" {
		t.Errorf("keep: %+v", it)
	}
	rf.mustExecute(run.ID)
	it := itemsByLogin(rf.fixture, run.ID)["hash@example.com"]
	if it.State != StateUpdated || !strings.Contains(it.ErrorSummary, "not sent") {
		t.Errorf("hash: %s %q", it.State, it.ErrorSummary)
	}
	if u := rf.oktaUser("hash@example.com"); u.Profile["title"] != "Manager" {
		t.Errorf("profile not updated: %v", u.Profile)
	}
	if st := rf.authn("hash@example.com", "Old-Passw0rd-1"); st != "SUCCESS" {
		t.Errorf("the old password no longer works: %q", st)
	}
	after := provenanceByLogin(rf.fixture)["hash@example.com"]
	if after.HashDigest != prov["hash@example.com"].HashDigest || after.Status != okta.StatusActive {
		t.Errorf("provenance: digest changed %v, status %s", after.HashDigest != prov["hash@example.com"].HashDigest, after.Status)
	}
	if got := rf.log.matching("POST /api/v1/users/" + prov["keep@example.com"].OktaUserID); len(got) != 0 {
		t.Errorf("keep got %v", got)
	}
}

// A crash in the middle of a refresh: the resume finishes it, and nothing
// is doubled (one create per joiner, one provenance row per user).
func TestRefreshCrashAndResume(t *testing.T) {
	for _, step := range []string{"updated", "created", "claimed"} {
		t.Run(step, func(t *testing.T) {
			rf := newRefreshFx(t, fxOptions{})
			for _, l := range []string{"keep", "prof", "hash", "excl", "gone"} {
				rf.setProfile(l+"@example.com", map[string]*string{"title": strp("Lead " + l)})
			}
			var joiners []string
			pw := bcryptOf(t, "Joiner-Passw0rd-3")
			for _, l := range []string{"join1@example.com", "join2@example.com", "join3@example.com"} {
				rf.addRecord(rf.src, l, map[string][]string{"userPassword": {pw}}, nil)
				joiners = append(joiners, l)
			}
			run, _ := rf.startRefresh(NewRefresh{MaxInFlight: 2})
			nth := int64(2)
			if step == "claimed" {
				nth = 1
			}
			fired := crashOnce(t, step, nth)
			if err := rf.execute(rf.svc, run.ID); !errors.Is(err, errCrashed) || !fired.Load() {
				t.Fatalf("Execute = %v", err)
			}
			resumeAfterCrash(t, rf.fixture, run.ID)
			c := rf.counts(run.ID)
			if c.Of(StateUpdated) != 5 || c.Of(StateCreated) != 3 || c.Total != 8 {
				t.Errorf("counts %+v", c.State)
			}
			if rf.sim.UserCount() != 8 || len(rf.oktaUsers()) != 8 {
				t.Errorf("sandbox %d users, %d provenance rows", rf.sim.UserCount(), len(rf.oktaUsers()))
			}
			if got := rf.log.matching("POST /api/v1/users?"); len(got) != 5+3 {
				t.Errorf("creates %d, want 8 (5 loaded, 3 joiners)", len(got))
			}
			for _, l := range []string{"keep", "prof", "hash", "excl", "gone"} {
				if u := rf.oktaUser(l + "@example.com"); u.Profile["title"] != "Lead "+l {
					t.Errorf("%s: %v", l, u.Profile["title"])
				}
			}
			for _, l := range joiners {
				if rf.oktaUser(l) == nil {
					t.Errorf("joiner %s missing", l)
				}
			}
		})
	}
}

func TestRefreshBadInput(t *testing.T) {
	rf := newRefreshFx(t, fxOptions{})
	ctx := t.Context()
	for _, in := range []NewRefresh{{MaxInFlight: 1000}, {RateShare: 2}, {MaxInFlight: -1}} {
		if _, _, err := rf.svc.StartRefresh(ctx, rf.projectID, in); !apperr.Is(err, apperr.CodeInvalid) {
			t.Errorf("%+v: %v", in, err)
		}
	}
	// Nothing changed.
	if _, _, err := rf.svc.StartRefresh(ctx, rf.projectID, NewRefresh{}); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("nothing to refresh: %v", err)
	}
	// The validation is no longer current.
	rf.setProfile("keep@example.com", map[string]*string{"title": strp("Boss")})
	rf.val.mu.Lock()
	rf.val.current = "changed"
	rf.val.mu.Unlock()
	p, err := rf.svc.PlanRefresh(ctx, rf.projectID, NewRefresh{})
	if err != nil || !p.Blocked() || !strings.Contains(strings.Join(p.BlockingReasons(), " "), "validate again") {
		t.Errorf("stale validation: %v %+v", err, p)
	}
	if _, _, err := rf.svc.StartRefresh(ctx, rf.projectID, NewRefresh{}); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("start with a stale validation: %v", err)
	}
	rf.val.mu.Lock()
	rf.val.current = "d"
	rf.val.mu.Unlock()
	// Another run in the project.
	rf.addRecord(rf.src, "other@example.com", nil, nil)
	rf.start(NewRun{Mode: ModeNone, Population: Population{Logins: []string{"other@example.com"}}})
	if _, _, err := rf.svc.StartRefresh(ctx, rf.projectID, NewRefresh{}); !apperr.Is(err, apperr.CodeConflict) {
		t.Errorf("with a load queued: %v", err)
	}
}

// A real org (the sandbox hidden) needs the legal gate open.
func TestRefreshLegalGate(t *testing.T) {
	rf := newRefreshFx(t, fxOptions{Wrap: hideSandbox})
	rf.setProfile("keep@example.com", map[string]*string{"title": strp("Boss")})
	p, err := rf.svc.PlanRefresh(t.Context(), rf.projectID, NewRefresh{})
	if err != nil || p.Blocked() || p.Sandbox || p.Updates != 1 {
		t.Fatalf("gate open: %v %+v", err, p)
	}
	rf.gate.set(false, "The register is not signed off.")
	p, err = rf.svc.PlanRefresh(t.Context(), rf.projectID, NewRefresh{})
	if err != nil || !p.Blocked() || !strings.Contains(strings.Join(p.BlockingReasons(), " "), "not signed off") {
		t.Fatalf("gate closed: %v %+v", err, p)
	}
	if _, _, err := rf.svc.StartRefresh(t.Context(), rf.projectID, NewRefresh{}); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("start with the gate closed: %v", err)
	}
}

// The manager pass's attributes are not the matrix's: a refresh leaves them.
func TestProfileChangesKeepManagers(t *testing.T) {
	sent := `{"login":"a@x","title":"Eng","managerId":"00u9","manager":"Max Boss"}`
	got := profileChanges(sent, map[string]any{"login": "a@x"})
	if len(got) != 1 || got["title"] != nil {
		t.Errorf("changes: %v", got)
	}
	if _, ok := got["title"]; !ok {
		t.Errorf("a removed title is not sent as null: %v", got)
	}
	got = profileChanges(sent, map[string]any{"login": "a@x", "title": "Eng", "managerId": "00u7"})
	if len(got) != 1 || got["managerId"] != "00u7" {
		t.Errorf("a manager set by the matrix is sent: %v", got)
	}
}
