package load

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
	"golang.org/x/crypto/bcrypt"
)

// A load goes queued → running → done, its users pending → sending →
// created, and a finished run cannot be run again.
func TestLoadStateTransitions(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	logins := f.addRecords(src, "user", 12)
	run := f.start(NewRun{Kind: KindLoad, Activate: true, MaxInFlight: 3})
	if run.Status != StatusQueued || run.Total != 12 || !run.Sandbox || run.Number != 1 || run.Label() != "Load (run 1)" {
		t.Fatalf("new run: %+v", run)
	}
	for _, it := range f.items(run.ID) {
		if it.State != StatePending || it.SentAt != nil {
			t.Fatalf("new item %s is %s", it.Login, it.State)
		}
	}
	var seen []string
	var progress []Progress
	err := f.svc.Execute(t.Context(), run.ID, ExecOptions{Progress: func(p Progress) {
		progress = append(progress, p)
		seen = append(seen, p.Run.Status)
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := f.run(run.ID)
	if got.Status != StatusDone || got.Owner != "" || got.LeaseUntil != nil || got.StartedAt == nil || got.FinishedAt == nil {
		t.Fatalf("finished run: %+v", got)
	}
	if !strings.Contains(got.Message, "12 created") {
		t.Errorf("message %q", got.Message)
	}
	if len(progress) == 0 || progress[len(progress)-1].Counts.Of(StateCreated) != 12 {
		t.Errorf("last progress: %+v", progress)
	}
	f.assertLoaded(run.ID, logins, 0)
	for _, it := range f.items(run.ID) {
		if it.SentAt == nil || it.FinishedAt == nil || it.Attempts != 1 {
			t.Errorf("item %s: sent %v finished %v attempts %d", it.Login, it.SentAt, it.FinishedAt, it.Attempts)
		}
	}
	u := f.oktaUser(logins[0])
	if u.Status != "PROVISIONED" && u.Status != "ACTIVE" {
		t.Errorf("activated user without a password is %s", u.Status)
	}
	// The source group holds every user.
	if g := f.userGroups(u.ID); !slices.Contains(g, "Ferry: HR") {
		t.Errorf("groups of %s: %v", logins[0], g)
	}
	groups, _ := f.svc.FindGroups(t.Context(), f.projectID, run.OrgURL)
	if len(groups) != 1 || groups[0].Name != "Ferry: HR" || groups[0].CreatedByRunID == nil || *groups[0].CreatedByRunID != run.ID {
		t.Errorf("group provenance: %+v", groups)
	}
	// Done is final.
	err = f.svc.Execute(t.Context(), run.ID, ExecOptions{})
	if apperr.CodeOf(err) != apperr.CodeConflict {
		t.Errorf("executing a done run: %v, want conflict", err)
	}
	if _, err := f.svc.Pause(t.Context(), f.projectID, run.ID); apperr.CodeOf(err) != apperr.CodeConflict {
		t.Errorf("pausing a done run: %v", err)
	}
	if _, err := f.svc.Resume(t.Context(), f.projectID, run.ID); apperr.CodeOf(err) != apperr.CodeConflict {
		t.Errorf("resuming a done run: %v", err)
	}
	if _, err := f.svc.Cancel(t.Context(), f.projectID, run.ID); apperr.CodeOf(err) != apperr.CodeConflict {
		t.Errorf("cancelling a done run: %v", err)
	}
	// A second load of the same population skips what Ferry already created.
	again := f.start(NewRun{Activate: true})
	if again.Number != 2 {
		t.Errorf("second run number %d", again.Number)
	}
	f.mustExecute(again.ID)
	c := f.counts(again.ID)
	if c.Of(StateSkipped) != 12 || c.Total != 12 {
		t.Errorf("second load counts %+v", c.State)
	}
	for _, it := range f.items(again.ID) {
		if it.ErrorCode != "FERRY_LOADED" || !strings.Contains(it.ErrorSummary, "run 1") {
			t.Errorf("second load item: %s %s", it.ErrorCode, it.ErrorSummary)
		}
	}
	if f.sim.UserCount() != 12 {
		t.Errorf("sandbox has %d users", f.sim.UserCount())
	}
}

// A run works on the snapshot taken when it started: later changes to the
// staged data do not change it.
func TestRunWorksOnItsSnapshot(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	logins := f.addRecords(src, "snap", 3)
	run := f.start(NewRun{Activate: false})
	// After the start: a profile changes, a record is added, one is
	// excluded, one becomes invalid.
	f.exec(`UPDATE staged_profiles SET profile_json = ? WHERE record_id = (SELECT id FROM staged_records WHERE source_key = ?)`,
		`{"login":"snap001@example.com","email":"snap001@example.com","firstName":"Changed","lastName":"Later"}`, logins[0])
	late := f.addRecord(src, "late@example.com", nil, nil)
	_ = late
	f.exec(`UPDATE staged_records SET excluded = TRUE WHERE source_key = ?`, logins[1])
	var rid int64
	_ = f.db.WriteSQL().QueryRow(f.db.Bind(`SELECT id FROM staged_records WHERE source_key = ?`), logins[2]).Scan(&rid)
	f.markInvalid(rid, src)

	f.mustExecute(run.ID)
	f.assertLoaded(run.ID, logins, 0)
	u := f.oktaUser(logins[0])
	if u.Profile["firstName"] != "First1" || u.Status != "STAGED" {
		t.Errorf("user loaded from the live data, not the snapshot: %v %s", u.Profile, u.Status)
	}
	if f.oktaUser("late@example.com") != nil {
		t.Error("a record staged after the start was loaded")
	}
}

func TestPopulationChoices(t *testing.T) {
	f := newFixture(t, fxOptions{})
	hr := f.addSource("HR", false, 1)
	crm := f.addSource("CRM", false, 2)
	f.plan.types = nil
	for i := 1; i <= 4; i++ {
		f.addRecord(hr, fmt.Sprintf("hr%d@example.com", i), nil, map[string]string{"department": []string{"Sales", "IT", "Sales", "HR"}[i-1]})
	}
	for i := 1; i <= 3; i++ {
		f.addRecord(crm, fmt.Sprintf("crm%d@example.com", i), nil, nil)
	}
	bad := f.addRecord(hr, "invalid@example.com", nil, nil)
	f.markInvalid(bad, hr)
	ctx := t.Context()
	loginsOf := func(rep *Report) []string {
		var out []string
		for _, c := range rep.selection.Candidates {
			out = append(out, c.Login)
		}
		slices.Sort(out)
		return out
	}
	check := func(name string, p Population, want ...string) *Report {
		t.Helper()
		rep, err := f.svc.Preflight(ctx, f.projectID, NewRun{Population: p})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		slices.Sort(want)
		if got := loginsOf(rep); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
		if rep.Users != len(want) {
			t.Errorf("%s: report says %d users", name, rep.Users)
		}
		return rep
	}
	check("everyone valid", Population{}, "hr1@example.com", "hr2@example.com", "hr3@example.com", "hr4@example.com",
		"crm1@example.com", "crm2@example.com", "crm3@example.com")
	check("one source", Population{SourceIDs: []int64{crm}}, "crm1@example.com", "crm2@example.com", "crm3@example.com")
	check("one user type", Population{UserTypeIDs: []int64{1}}, "hr1@example.com", "hr2@example.com", "hr3@example.com", "hr4@example.com")
	check("source and type that do not meet", Population{SourceIDs: []int64{crm}, UserTypeIDs: []int64{1}})
	check("filter equals", Population{Filter: &Filter{Attribute: "department", Op: "equals", Value: "sales"}}, "hr1@example.com", "hr3@example.com")
	check("filter starts with", Population{Filter: &Filter{Attribute: "login", Op: "starts_with", Value: "CRM"}},
		"crm1@example.com", "crm2@example.com", "crm3@example.com")
	check("filter not equals", Population{SourceIDs: []int64{hr}, Filter: &Filter{Attribute: "department", Op: "not_equals", Value: "Sales"}},
		"hr2@example.com", "hr4@example.com")
	check("filter contains", Population{Filter: &Filter{Attribute: "email", Op: "contains", Value: "m2@"}}, "crm2@example.com")
	rep := check("explicit logins", Population{Logins: []string{"HR2@example.com", "crm3@EXAMPLE.com", "nobody@example.com", "invalid@example.com"}},
		"hr2@example.com", "crm3@example.com")
	if !slices.Equal(rep.Unmatched, []string{"nobody@example.com", "invalid@example.com"}) {
		t.Errorf("unmatched: %v", rep.Unmatched)
	}
	if !strings.Contains(checkNamed(rep, "Users to load").Detail, "2 listed logins match no valid record") {
		t.Errorf("unmatched logins not reported: %+v", rep.Checks)
	}
	rep = check("nothing matches", Population{Logins: []string{"nobody@example.com"}})
	if !rep.Blocked() {
		t.Error("an empty population is not blocked")
	}
	if rep, err := f.svc.Preflight(ctx, f.projectID, NewRun{Population: Population{SourceIDs: []int64{9999}}}); err != nil ||
		!rep.Blocked() || !strings.Contains(checkNamed(rep, "Users to load").Detail, "not in this project") {
		t.Errorf("a foreign source: %v %+v", err, rep)
	}

	// Failed of run N: run 1 fails two users; the retry takes just them.
	f.sim.SetFaults(oktasim.Faults{FailCreateLogins: []string{"hr2@example.com", "crm1@example.com"}})
	run := f.start(NewRun{Activate: true})
	f.mustExecute(run.ID)
	c := f.counts(run.ID)
	if c.Of(StateCreated) != 5 || c.Of(StateFailed) != 2 || len(c.Errors) != 1 || c.Errors[0].Code != "E0000009" || c.Errors[0].Count != 2 {
		t.Fatalf("run 1: %+v %+v", c.State, c.Errors)
	}
	f.sim.SetFaults(oktasim.Faults{})
	check("failed of run 1", Population{FailedOfRun: run.ID}, "hr2@example.com", "crm1@example.com")
	retry := f.start(NewRun{Activate: true, Population: Population{FailedOfRun: run.ID}})
	f.mustExecute(retry.ID)
	f.assertLoaded(retry.ID, []string{"hr2@example.com", "crm1@example.com"}, 5)

	// Unvalidated or stale data is refused.
	f.val.mu.Lock()
	f.val.current = "other"
	f.val.mu.Unlock()
	rep, err := f.svc.Preflight(ctx, f.projectID, NewRun{})
	if err != nil || !rep.Blocked() || !strings.Contains(strings.Join(rep.BlockingReasons(), " "), "validate again") {
		t.Errorf("stale validation: %v %+v", err, rep)
	}
	f.val.mu.Lock()
	f.val.runID = 0
	f.val.mu.Unlock()
	rep, err = f.svc.Preflight(ctx, f.projectID, NewRun{})
	if err != nil || !rep.Blocked() || !strings.Contains(strings.Join(rep.BlockingReasons(), " "), "not been validated") {
		t.Errorf("no validation: %v %+v", err, rep)
	}
	if _, _, err := f.svc.Start(ctx, f.projectID, NewRun{}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("Start without validation: %v", err)
	}
}

func checkNamed(rep *Report, name string) Check {
	for _, c := range rep.Checks {
		if c.Name == name {
			return c
		}
	}
	return Check{}
}

// The ladder: batch 2 opens only once batch 1 passed (error rate under
// the threshold).
func TestTestBatchLadder(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	f.addRecords(src, "lad", 10)
	ctx := t.Context()
	if _, err := f.svc.SaveSettings(ctx, f.projectID, 0, []int{2, 5}, 0.3); err != nil {
		t.Fatal(err)
	}
	_, rep, err := f.svc.Start(ctx, f.projectID, NewRun{Kind: KindTestBatch, Rung: 2})
	if err == nil || !strings.Contains(strings.Join(rep.BlockingReasons(), " "), "opens once batch 1 has passed") {
		t.Fatalf("rung 2 before rung 1: %v %v", err, rep)
	}
	_, rep, err = f.svc.Start(ctx, f.projectID, NewRun{Kind: KindTestBatch, Rung: 3})
	if err == nil || !strings.Contains(strings.Join(rep.BlockingReasons(), " "), "no batch 3") {
		t.Fatalf("rung 3 of 2: %v", err)
	}
	st, _ := f.svc.Ladder(ctx, f.projectID)
	if st.NextRung() != 1 || !st.Rungs[0].Open || st.Rungs[1].Open || st.AllPassed {
		t.Fatalf("fresh ladder: %+v", st)
	}
	// Batch 1 with one of its two users failing: 50 % > 30 %, not passed.
	f.sim.SetFaults(oktasim.Faults{FailCreateLogins: []string{"lad001@example.com"}})
	r1 := f.start(NewRun{Kind: KindTestBatch, Rung: 1, Activate: true})
	if r1.Total != 2 || r1.Label() != "Test batch 1 (run 1)" || r1.ErrorThreshold != 0.3 {
		t.Fatalf("batch 1: %+v", r1)
	}
	f.mustExecute(r1.ID)
	st, _ = f.svc.Ladder(ctx, f.projectID)
	if st.Rungs[0].Passed || st.Rungs[1].Open || st.NextRung() != 1 {
		t.Fatalf("after a failing batch 1: %+v", st.Rungs)
	}
	if _, _, err := f.svc.Start(ctx, f.projectID, NewRun{Kind: KindTestBatch, Rung: 2}); err == nil {
		t.Fatal("batch 2 opened after a failing batch 1")
	}
	if len(f.defects.calls) != 1 || f.defects.calls[0][0].Code != "E0000009" {
		t.Errorf("defects: %+v", f.defects.calls)
	}
	// Batch 1 again, passing: two fresh users (the one created is not taken again).
	f.sim.SetFaults(oktasim.Faults{})
	r1b := f.start(NewRun{Kind: KindTestBatch, Rung: 1, Activate: true})
	for _, it := range f.items(r1b.ID) {
		if it.Login == "lad002@example.com" {
			t.Errorf("batch 1 took again a user created by the first batch 1")
		}
	}
	f.mustExecute(r1b.ID)
	st, _ = f.svc.Ladder(ctx, f.projectID)
	if !st.Rungs[0].Passed || !st.Rungs[1].Open || st.NextRung() != 2 {
		t.Fatalf("after a passing batch 1: %+v", st.Rungs)
	}
	r2 := f.start(NewRun{Kind: KindTestBatch, Rung: 2, Activate: true, Population: Population{Priority: PriorityTailEnd}})
	if r2.Total != 5 {
		t.Errorf("batch 2 size %d", r2.Total)
	}
	f.mustExecute(r2.ID)
	st, _ = f.svc.Ladder(ctx, f.projectID)
	if !st.AllPassed || st.NextRung() != 0 {
		t.Errorf("ladder after batch 2: %+v", st.Rungs)
	}
	if got := f.sim.UserCount(); got != 1+2+5 {
		t.Errorf("sandbox users %d", got)
	}
}

// Hash mode: an importable hash is sent and the sandbox verifies it at
// sign-in; an unimportable one is skipped with FERRY_NO_HASH.
func TestHashMode(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("LDAP", false)
	settings := &credentials.Settings{SourceID: src, ProjectID: f.projectID, Attribute: "userPassword"}
	f.pw.readings[src] = credentials.Reading{Settings: settings, Source: settings.Source()}
	hash, err := bcrypt.GenerateFromPassword([]byte("Correct-Horse-9"), 4)
	if err != nil {
		t.Fatal(err)
	}
	f.addRecord(src, "hash@example.com", map[string][]string{"userPassword": {string(hash)}}, nil)
	f.addRecord(src, "crypt@example.com", map[string][]string{"userPassword": {"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"}}, nil)
	f.addRecord(src, "nopass@example.com", nil, nil)
	run := f.start(NewRun{Mode: ModeHash, Activate: true})
	items := f.items(run.ID)
	byLogin := map[string]Item{}
	for _, it := range items {
		byLogin[it.Login] = it
	}
	if it := byLogin["hash@example.com"]; it.State != StatePending || it.CredentialSealed == "" || strings.Contains(it.CredentialSealed, "$2a$") {
		t.Fatalf("importable hash item: %+v", it)
	}
	for _, l := range []string{"crypt@example.com", "nopass@example.com"} {
		if it := byLogin[l]; it.State != StateSkipped || it.ErrorCode != "FERRY_NO_HASH" || it.CredentialSealed != "" {
			t.Errorf("%s: %s %s %q", l, it.State, it.ErrorCode, it.ErrorSummary)
		}
	}
	f.mustExecute(run.ID)
	f.assertLoaded(run.ID, []string{"hash@example.com"}, 0)
	if f.oktaUser("crypt@example.com") != nil || f.oktaUser("nopass@example.com") != nil {
		t.Error("a user without an importable hash was created")
	}
	u := f.oktaUser("hash@example.com")
	if u.Status != "ACTIVE" || u.Credentials == nil || u.Credentials.Provider == nil || u.Credentials.Provider.Type != "IMPORT" {
		t.Errorf("hash user: %s %+v", u.Status, u.Credentials)
	}
	var ok struct {
		Status string `json:"status"`
	}
	if code := f.simJSON("POST", "/api/v1/authn", map[string]string{"username": "hash@example.com", "password": "Correct-Horse-9"}, &ok); code != 200 || ok.Status != "SUCCESS" {
		t.Errorf("sign-in with the migrated password: %d %q", code, ok.Status)
	}
	if code := f.simJSON("POST", "/api/v1/authn", map[string]string{"username": "hash@example.com", "password": "wrong"}, nil); code != 401 {
		t.Errorf("sign-in with a wrong password: %d", code)
	}
	for _, it := range f.items(run.ID) {
		if it.CredentialSealed != "" {
			t.Errorf("%s keeps its sealed hash after the run", it.Login)
		}
	}
	// A source whose password settings are missing blocks hash mode.
	f.pw.readings[src] = credentials.Reading{}
	rep, err := f.svc.Preflight(t.Context(), f.projectID, NewRun{Mode: ModeHash})
	if err != nil || !rep.Blocked() || !strings.Contains(strings.Join(rep.BlockingReasons(), " "), "password settings") {
		t.Errorf("hash mode without settings: %v %+v", err, rep)
	}
}

// Hook mode needs an active password import hook in the org.
func TestHookModeNeedsActiveHook(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("LDAP", false)
	f.addRecords(src, "hook", 2)
	ctx := t.Context()
	blockedBy := func() string {
		rep, err := f.svc.Preflight(ctx, f.projectID, NewRun{Mode: ModeHook, Activate: true})
		if err != nil {
			t.Fatal(err)
		}
		c := checkNamed(rep, "Password import hook")
		if c.OK {
			return ""
		}
		return c.Detail
	}
	if d := blockedBy(); !strings.Contains(d, "No active password import hook") {
		t.Fatalf("without a hook: %q", d)
	}
	hook, _, _, err := f.client.RegisterPasswordImportHook(ctx, okta.PasswordImportHook{URI: "https://hooks.example.com/import", AuthValue: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if code := f.simJSON("POST", "/api/v1/inlineHooks/"+hook.ID+"/lifecycle/deactivate", nil, nil); code != 200 {
		t.Fatalf("deactivate: %d", code)
	}
	if d := blockedBy(); !strings.Contains(d, "No active password import hook") {
		t.Fatalf("with an inactive hook: %q", d)
	}
	if _, _, err := f.svc.Start(ctx, f.projectID, NewRun{Mode: ModeHook}); err == nil {
		t.Fatal("hook mode started without an active hook")
	}
	if code := f.simJSON("POST", "/api/v1/inlineHooks/"+hook.ID+"/lifecycle/activate", nil, nil); code != 200 {
		t.Fatalf("activate: %d", code)
	}
	if d := blockedBy(); d != "" {
		t.Fatalf("with an active hook: %q", d)
	}
	run := f.start(NewRun{Mode: ModeHook, Activate: true})
	f.mustExecute(run.ID)
	f.assertLoaded(run.ID, []string{"hook001@example.com", "hook002@example.com"}, 0)
	u := f.oktaUser("hook001@example.com")
	if u.Status != "ACTIVE" || u.Credentials == nil || u.Credentials.Provider == nil || u.Credentials.Provider.Type != "IMPORT" {
		t.Errorf("hook user: %s %+v", u.Status, u.Credentials)
	}
}

// None mode creates users without a password: STAGED without activation.
func TestNoneMode(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	logins := f.addRecords(src, "none", 3)
	run := f.start(NewRun{Mode: ModeNone})
	f.mustExecute(run.ID)
	f.assertLoaded(run.ID, logins, 0)
	for _, l := range logins {
		if u := f.oktaUser(l); u.Status != "STAGED" || (u.Credentials != nil && u.Credentials.Provider != nil && u.Credentials.Provider.Type == "IMPORT") {
			t.Errorf("%s: %s %+v", l, u.Status, u.Credentials)
		}
	}
}

// A login that exists in Okta before Ferry: skip records it as existed (no
// provenance, never rolled back); fail records a failure.
func TestExistingLogins(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	logins := f.addRecords(src, "ex", 4)
	pre := f.preCreate(logins[1])
	run := f.start(NewRun{Activate: true, OnExisting: OnExistingSkip})
	f.mustExecute(run.ID)
	c := f.counts(run.ID)
	if c.Of(StateCreated) != 3 || c.Of(StateExisted) != 1 {
		t.Fatalf("skip: %+v", c.State)
	}
	for _, it := range f.items(run.ID) {
		if it.Login == logins[1] && (it.State != StateExisted || it.OktaUserID != pre.ID || it.ErrorCode != "FERRY_EXISTS") {
			t.Errorf("existing user item: %+v", it)
		}
	}
	for _, u := range f.oktaUsers() {
		if u.OktaUserID == pre.ID {
			t.Error("the pre-existing user is in Ferry's provenance")
		}
	}
	if len(f.oktaUsers()) != 3 {
		t.Errorf("provenance rows: %d", len(f.oktaUsers()))
	}

	// fail: another user pre-exists, the load fails it.
	f.addRecord(src, "ex-fail@example.com", nil, nil)
	pre2 := f.preCreate("ex-fail@example.com")
	run2 := f.start(NewRun{Activate: true, OnExisting: OnExistingFail})
	f.mustExecute(run2.ID)
	c = f.counts(run2.ID)
	if c.Of(StateFailed) != 2 || c.Of(StateSkipped) != 3 || c.Of(StateCreated) != 0 {
		t.Fatalf("fail: %+v", c.State)
	}
	for _, it := range f.items(run2.ID) {
		if it.State == StateFailed && !strings.Contains(it.ErrorSummary, "already exists") {
			t.Errorf("failed existing user: %q", it.ErrorSummary)
		}
	}

	// Rolling back run 1 leaves both pre-existing users as they were.
	rb, err := f.svc.StartRollback(t.Context(), f.projectID, NewRollback{TargetRunID: run.ID, Confirm: "Acme", ProjectName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Total != 3 {
		t.Errorf("rollback takes %d users", rb.Total)
	}
	f.mustExecute(rb.ID)
	for _, p := range []*okta.User{pre, pre2} {
		u := f.oktaUser(p.Profile["login"].(string))
		if u == nil || u.ID != p.ID || u.Status != "ACTIVE" {
			t.Errorf("pre-existing user after the rollback: %+v", u)
		}
	}
	if f.sim.UserCount() != 2 {
		t.Errorf("sandbox users after rollback: %d", f.sim.UserCount())
	}
}

// More than 20 groups: the create takes 20, the rest are added after.
func TestMoreThanTwentyGroups(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("AD", true)
	var dns []string
	var want []string
	for i := 1; i <= 25; i++ {
		dns = append(dns, fmt.Sprintf("CN=G%d,OU=Groups,DC=x", i))
		want = append(want, fmt.Sprintf("G%d", i))
	}
	want = append(want, "Ferry: AD")
	slices.Sort(want)
	f.addRecord(src, "many@example.com", map[string][]string{"memberOf": dns}, nil)
	f.addRecord(src, "few@example.com", map[string][]string{"memberOf": {"CN=G1,OU=Groups,DC=x", `CN=Sales\, EMEA,OU=Groups,DC=x`}}, nil)
	run := f.start(NewRun{Activate: true})
	f.mustExecute(run.ID)
	f.assertLoaded(run.ID, []string{"many@example.com", "few@example.com"}, 0)
	if got := f.userGroups(f.oktaUser("many@example.com").ID); !slices.Equal(got, want) {
		t.Errorf("groups of many@: %d %v, want %d", len(got), got, len(want))
	}
	if got := f.userGroups(f.oktaUser("few@example.com").ID); !slices.Equal(got, []string{"Ferry: AD", "G1", "Sales, EMEA"}) {
		t.Errorf("groups of few@: %v", got)
	}
	for _, it := range f.items(run.ID) {
		if it.MembershipsPending {
			t.Errorf("%s: memberships still pending", it.Login)
		}
	}
	groups, _ := f.svc.FindGroups(t.Context(), f.projectID, run.OrgURL)
	if len(groups) != 27 {
		t.Errorf("%d groups recorded, want 27", len(groups))
	}
}

// Preflight lists the groups and the applications and rules they set off.
func TestPreflightGroupsAndEstimate(t *testing.T) {
	f := newFixture(t, fxOptions{Limits: oktasim.Limits{Users: 100}})
	src := f.addSource("HR", false)
	f.addRecords(src, "pf", 3)
	g, _, err := f.client.CreateGroup(t.Context(), okta.GroupProfile{Name: "Ferry: HR"})
	if err != nil {
		t.Fatal(err)
	}
	app := f.sim.AddApp("Payroll", "")
	if err := f.sim.AssignAppToGroup(app, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.AddGroupRule("Everyone to HR", `user.department=="HR"`, []string{g.ID}, true); err != nil {
		t.Fatal(err)
	}
	rep, err := f.svc.Preflight(t.Context(), f.projectID, NewRun{RateShare: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Blocked() {
		t.Fatalf("blocked: %v", rep.BlockingReasons())
	}
	if len(rep.Groups) != 1 || !rep.Groups[0].Exists || !slices.Equal(rep.Groups[0].Apps, []string{"Payroll"}) ||
		!slices.Equal(rep.Groups[0].Rules, []string{"Everyone to HR"}) {
		t.Errorf("groups: %+v", rep.Groups)
	}
	if rep.RateLimit != 100 || rep.Estimate != time.Duration(float64(3)/50*float64(time.Minute)).Round(time.Second) {
		t.Errorf("estimate: limit %d, %s", rep.RateLimit, rep.Estimate)
	}
	run := f.start(NewRun{Activate: true})
	f.mustExecute(run.ID)
	groups, _ := f.svc.FindGroups(t.Context(), f.projectID, run.OrgURL)
	if len(groups) != 1 || groups[0].OktaGroupID != g.ID || groups[0].CreatedByRunID != nil {
		t.Errorf("an existing source group is adopted, not created: %+v", groups)
	}
}
