package load

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// TestRehearsalOfTheCutOver rehearses a whole cut-over against the sandbox:
// everyone loaded ahead STAGED with their hashes, the source changes (a
// profile, a hash, a joiner, a leaver), a refresh, two activation waves, the
// manager pass with one reference that resolves to nobody, a canary signing
// in, and a reconciliation that finds a change made in the org behind
// Ferry's back.
func TestRehearsalOfTheCutOver(t *testing.T) {
	f := newFixture(t, fxOptions{})
	ctx := t.Context()
	src := f.addSource("AD", false)
	settings := &credentials.Settings{SourceID: src, ProjectID: f.projectID, Attribute: "userPassword"}
	f.pw.readings[src] = credentials.Reading{Settings: settings, Source: settings.Source()}
	if _, err := f.svc.SaveCutover(ctx, f.projectID, src, 0, CutoverInput{ManagerAttribute: "manager", ManagerKind: ManagerKindDN}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.SaveLeavers(ctx, f.projectID, 0, LeaversDeactivate); err != nil {
		t.Fatal(err)
	}
	dn := func(name string) string { return "CN=" + name + ",OU=Staff,DC=acme,DC=example" }
	people := []struct{ login, cn, manager, password string }{
		{"boss@example.com", "Boss", "", "Boss-Passw0rd"},
		{"ann@example.com", "Ann", dn("Boss"), "Ann-Passw0rd"},
		{"bob@example.com", "Bob", dn("Boss"), "Bob-Passw0rd"},
		{"cat@example.com", "Cat", dn("Ann"), "Cat-Passw0rd"},
		{"dan@example.com", "Dan", dn("Nobody Here"), "Dan-Passw0rd"}, // resolves to nobody
		{"eve@example.com", "Eve", dn("Boss"), "Eve-Passw0rd"},        // leaves before the cut-over
	}
	records := map[string]int64{}
	addPerson := func(login, cn, manager, password string) int64 {
		attrs := map[string][]string{"dn": {dn(cn)}, "userPassword": {bcryptOf(t, password)}}
		if manager != "" {
			attrs["manager"] = []string{manager}
		}
		id := f.addRecord(src, login, attrs, map[string]string{"title": "Engineer", "firstName": cn, "lastName": "Example"})
		records[login] = id
		return id
	}
	for _, p := range people {
		addPerson(p.login, p.cn, p.manager, p.password)
	}
	// Ann is the canary: her password is known.
	if _, err := f.svc.MarkCanary(ctx, f.projectID, records["ann@example.com"], "Ann-Passw0rd"); err != nil {
		t.Fatal(err)
	}

	// 1. Load ahead: everyone STAGED, with their hashes.
	ahead := f.start(NewRun{Mode: ModeHash, Activate: false})
	f.mustExecute(ahead.ID)
	for _, p := range people {
		if u := f.oktaUser(p.login); u == nil || u.Status != okta.StatusStaged {
			t.Fatalf("%s after the load ahead: %+v", p.login, u)
		}
	}
	if items := f.items(ahead.ID); !items[0].Canary || items[0].Login != "ann@example.com" {
		t.Errorf("the canary does not come first: %+v", items[0])
	}

	// 2. The source changes before the cut-over.
	setProfile := func(login, attr, value string) {
		var pj string
		if err := f.db.ReadSQL().QueryRow(f.db.Bind(`SELECT profile_json FROM staged_profiles WHERE record_id = ?`), records[login]).Scan(&pj); err != nil {
			t.Fatal(err)
		}
		p := map[string]string{}
		_ = json.Unmarshal([]byte(pj), &p)
		p[attr] = value
		b, _ := json.Marshal(p)
		f.exec(`UPDATE staged_profiles SET profile_json = ? WHERE record_id = ?`, string(b), records[login])
	}
	setProfile("bob@example.com", "title", "Team Lead") // a changed profile
	newHash, _ := json.Marshal(map[string][]string{"mail": {"cat@example.com"}, "dn": {dn("Cat")}, "manager": {dn("Ann")},
		"userPassword": {bcryptOf(t, "Cat-New-Passw0rd")}})
	f.exec(`UPDATE staged_records SET attributes_json = ? WHERE id = ?`, string(newHash), records["cat@example.com"]) // a changed hash
	addPerson("joe@example.com", "Joe", dn("Boss"), "Joe-Passw0rd")                                                   // a joiner
	f.exec(`DELETE FROM staged_profiles WHERE record_id = ?`, records["eve@example.com"])                             // a leaver
	f.exec(`DELETE FROM staged_records WHERE id = ?`, records["eve@example.com"])

	// 3. The refresh at cut-over.
	plan, err := f.svc.PlanRefresh(ctx, f.projectID, NewRefresh{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.ProfilesChanged != 1 || plan.HashesChanged != 1 || plan.Joiners != 1 || plan.Leavers != 1 || plan.LeaverPolicy != LeaversDeactivate {
		t.Fatalf("refresh plan: %+v", plan)
	}
	refresh, _, err := f.svc.StartRefresh(ctx, f.projectID, NewRefresh{})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.mustExecute(refresh.ID); r.Status != StatusDone {
		t.Fatalf("refresh: %s %q", r.Status, r.Message)
	}
	if u := f.oktaUser("bob@example.com"); u.Profile["title"] != "Team Lead" {
		t.Errorf("bob's title after the refresh: %v", u.Profile["title"])
	}
	if u := f.oktaUser("joe@example.com"); u == nil || u.Status != okta.StatusStaged {
		t.Errorf("the joiner: %+v", u)
	}
	if u := f.oktaUser("eve@example.com"); u == nil || u.Status != okta.StatusDeprovisioned {
		t.Errorf("the leaver: %+v", u)
	}

	// 4. Two activation waves: the canary's first, then everyone else.
	wave1, wplan, err := f.svc.StartWave(ctx, f.projectID, NewWave{Name: "Pilot", Logins: []string{"ann@example.com", "cat@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if wplan.Users != 2 || wplan.WithCredentials != 2 || wplan.Canaries != 1 {
		t.Errorf("wave 1 plan: %+v", wplan)
	}
	f.mustExecute(wave1.ID)
	wave2, wplan2, err := f.svc.StartWave(ctx, f.projectID, NewWave{Name: "Everyone else"})
	if err != nil {
		t.Fatal(err)
	}
	if wplan2.Users != 4 { // boss, bob, dan, joe (eve is gone, ann and cat are active)
		t.Errorf("wave 2 plan: %+v", wplan2)
	}
	f.mustExecute(wave2.ID)
	for _, l := range []string{"boss", "ann", "bob", "cat", "dan", "joe"} {
		if u := f.oktaUser(l + "@example.com"); u.Status != okta.StatusActive {
			t.Errorf("%s after the waves: %s", l, u.Status)
		}
	}
	// The refreshed hash is the one Okta checks; the canary signed in.
	signIn := func(login, password string) string {
		var out struct {
			Status string `json:"status"`
		}
		if code := f.simJSON("POST", "/api/v1/authn", map[string]string{"username": login, "password": password}, &out); code != 200 {
			return ""
		}
		return out.Status
	}
	if signIn("cat@example.com", "Cat-New-Passw0rd") != "SUCCESS" || signIn("cat@example.com", "Cat-Passw0rd") != "" {
		t.Error("cat's refreshed hash is not the one Okta checks")
	}
	checks, err := f.svc.CanaryChecks(ctx, wave1.ID)
	if err != nil || len(checks) != 1 || checks[0].Outcome != CanaryPassed {
		t.Errorf("the canary's check after wave 1: %+v %v", checks, err)
	}

	// 5. The manager pass: Dan's manager resolves to nobody.
	mplan, err := f.svc.PlanManagers(ctx, f.projectID, NewManagerPass{})
	if err != nil {
		t.Fatal(err)
	}
	if mplan.Resolved != 4 || mplan.Unresolved != 1 {
		t.Errorf("manager plan: %+v", mplan)
	}
	mrun, _, err := f.svc.StartManagerPass(ctx, f.projectID, NewManagerPass{})
	if err != nil {
		t.Fatal(err)
	}
	f.mustExecute(mrun.ID)
	boss := f.oktaUser("boss@example.com")
	if u := f.oktaUser("bob@example.com"); u.Profile["managerId"] != boss.ID || u.Profile["manager"] != "Boss Example" {
		t.Errorf("bob's manager: %v %v", u.Profile["managerId"], u.Profile["manager"])
	}
	if u := f.oktaUser("cat@example.com"); u.Profile["managerId"] != f.oktaUser("ann@example.com").ID {
		t.Errorf("cat's manager: %v", u.Profile["managerId"])
	}
	if u := f.oktaUser("dan@example.com"); u.Profile["managerId"] != nil {
		t.Errorf("dan's manager was guessed: %v", u.Profile["managerId"])
	}
	dan := slices.IndexFunc(f.items(mrun.ID), func(it Item) bool { return it.Login == "dan@example.com" })
	if dan < 0 || f.items(mrun.ID)[dan].ErrorCode != CodeManagerUnresolved {
		t.Errorf("dan's unresolved reference is not reported: %+v", f.items(mrun.ID))
	}

	// 6. Someone changes a user in the org behind Ferry's back; the
	// reconciliation finds it and logs a defect.
	if err := f.sim.Tamper("joe@example.com", map[string]any{"title": "Changed by hand"}, ""); err != nil {
		t.Fatal(err)
	}
	rec, err := f.svc.StartReconcile(ctx, f.projectID, NewReconcile{})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.mustExecute(rec.ID); r.Status != StatusDone {
		t.Fatalf("reconciliation: %s %q", r.Status, r.Message)
	}
	diffs, err := f.svc.Differences(ctx, rec.ID)
	if err != nil || len(diffs) != 1 || diffs[0].Login != "joe@example.com" || diffs[0].Diffs[0].Attribute != "title" {
		t.Fatalf("differences: %+v %v", diffs, err)
	}
	found := false
	f.defects.mu.Lock()
	calls := slices.Clone(f.defects.calls)
	f.defects.mu.Unlock()
	for _, call := range calls {
		for _, e := range call {
			if e.Code == CodeDiffProfile && strings.Contains(e.Summary, "title") && !strings.Contains(e.Summary, "joe") {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the difference did not become a defect: %+v", calls)
	}
}
