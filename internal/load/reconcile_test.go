package load

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/okta"
)

func TestReconcileFindsChangesBehindFerrysBack(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("AD", true)
	var logins []string
	for i := 1; i <= 6; i++ {
		l := fmt.Sprintf("rc%d@example.com", i)
		f.addRecord(src, l, map[string][]string{"memberOf": {"CN=Staff,OU=Groups,DC=acme"}}, nil)
		logins = append(logins, l)
	}
	load := f.start(NewRun{Activate: true})
	f.mustExecute(load.ID)
	f.assertLoaded(load.ID, logins, 0)

	// A clean load matches everything.
	rec, err := f.svc.StartReconcile(t.Context(), f.projectID, NewReconcile{TargetRunID: load.ID, MaxInFlight: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rec.Kind != KindReconcile || rec.Total != 6 || rec.TargetRunID == nil || *rec.TargetRunID != load.ID {
		t.Fatalf("reconciliation: %+v", rec)
	}
	got := f.mustExecute(rec.ID)
	if c := f.counts(rec.ID); c.Of(StateMatched) != 6 || got.Message != "6 matched, 0 different, 0 gone." {
		t.Fatalf("clean reconciliation: %+v %q", c.State, got.Message)
	}
	if d, err := f.svc.Differences(t.Context(), rec.ID); err != nil || len(d) != 0 {
		t.Errorf("differences after a clean load: %+v %v", d, err)
	}
	if len(f.defects.calls) != 0 {
		t.Errorf("defects after a clean load: %+v", f.defects.calls)
	}
	for _, it := range f.items(rec.ID) {
		if it.Action != ActionRead || it.DetailJSON != "[]" {
			t.Errorf("%s: action %s detail %s", it.Login, it.Action, it.DetailJSON)
		}
	}

	// Behind Ferry's back: a profile attribute, a status, a membership, a
	// deleted user; a group Ferry did not add (information only); and an
	// activation the person finished (PROVISIONED → ACTIVE: expected).
	prov := map[string]OktaUser{}
	for _, u := range f.oktaUsers() {
		prov[u.Login] = u
	}
	var groups []string
	_ = json.Unmarshal([]byte(prov[logins[2]].GroupsJSON), &groups)
	if len(groups) != 2 || prov[logins[0]].Status != okta.StatusProvisioned {
		t.Fatalf("provenance: groups %v status %s", groups, prov[logins[0]].Status)
	}
	if err := f.sim.Tamper(logins[0], map[string]any{"firstName": "Mallory"}, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.sim.Tamper(logins[1], nil, okta.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if err := f.sim.RemoveFromGroup(logins[2], groups[1]); err != nil {
		t.Fatal(err)
	}
	gone := prov[logins[3]].OktaUserID
	if _, err := f.client.DeactivateUser(t.Context(), gone, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.DeleteUser(t.Context(), gone, false); err != nil {
		t.Fatal(err)
	}
	extra, _, err := f.client.CreateGroup(t.Context(), okta.GroupProfile{Name: "Added by a rule"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.AddGroupMember(t.Context(), extra.ID, prov[logins[4]].OktaUserID); err != nil {
		t.Fatal(err)
	}
	if err := f.sim.Tamper(logins[5], nil, okta.StatusActive); err != nil {
		t.Fatal(err)
	}

	// Every user Ferry created in the org.
	rec2, err := f.svc.StartReconcile(t.Context(), f.projectID, NewReconcile{})
	if err != nil {
		t.Fatal(err)
	}
	got = f.mustExecute(rec2.ID)
	c := f.counts(rec2.ID)
	if c.Of(StateMatched) != 2 || c.Of(StateDifferent) != 3 || c.Of(StateGone) != 1 || got.Message != "2 matched, 3 different, 1 gone." {
		t.Errorf("reconciliation: %+v %q", c.State, got.Message)
	}
	diffs, err := f.svc.Differences(t.Context(), rec2.ID)
	if err != nil {
		t.Fatal(err)
	}
	byLogin := map[string]Difference{}
	for _, d := range diffs {
		byLogin[d.Login] = d
	}
	if len(diffs) != 4 {
		t.Fatalf("differences: %+v", diffs)
	}
	if d := byLogin[logins[0]]; d.State != StateDifferent || len(d.Diffs) != 1 || d.Diffs[0].Kind != DiffProfile ||
		d.Diffs[0].Attribute != "firstName" || d.Diffs[0].Found != "Mallory" || d.Diffs[0].Sent == "Mallory" {
		t.Errorf("profile difference: %+v", d)
	}
	if d := byLogin[logins[1]]; len(d.Diffs) != 1 || d.Diffs[0].Kind != DiffStatus || d.Diffs[0].Sent != okta.StatusProvisioned ||
		d.Diffs[0].Found != okta.StatusSuspended {
		t.Errorf("status difference: %+v", d)
	}
	if d := byLogin[logins[2]]; len(d.Diffs) != 1 || d.Diffs[0].Kind != DiffGroup || d.Diffs[0].GroupID != groups[1] ||
		d.Diffs[0].GroupName != "Staff" {
		t.Errorf("group difference: %+v", d)
	}
	if d := byLogin[logins[3]]; d.State != StateGone || len(d.Diffs) != 1 || d.Diffs[0].Kind != DiffMissing {
		t.Errorf("missing user: %+v", d)
	}
	// The extra group is information on a matched user.
	for _, it := range f.items(rec2.ID) {
		if it.Login != logins[4] {
			continue
		}
		var entries []Diff
		_ = json.Unmarshal([]byte(it.DetailJSON), &entries)
		if it.State != StateMatched || len(entries) != 1 || entries[0].Kind != DiffExtraGroup || entries[0].GroupName != "Added by a rule" {
			t.Errorf("extra group: %s %s", it.State, it.DetailJSON)
		}
	}

	// The differences are defects, one per kind, without personal data.
	if len(f.defects.calls) != 1 {
		t.Fatalf("defect calls: %+v", f.defects.calls)
	}
	codes := map[string]ErrorCount{}
	for _, e := range f.defects.calls[0] {
		codes[e.Code] = e
		for _, pii := range append(slices.Clone(logins), "Mallory", "First", prov[logins[0]].OktaUserID, groups[1]) {
			if strings.Contains(e.Summary, pii) {
				t.Errorf("defect %s carries %q: %q", e.Code, pii, e.Summary)
			}
		}
	}
	for _, code := range []string{CodeDiffProfile, CodeDiffStatus, CodeDiffGroups, CodeDiffMissing} {
		if codes[code].Count != 1 {
			t.Errorf("defect %s: %+v", code, codes[code])
		}
	}
	if !strings.Contains(codes[CodeDiffProfile].Summary, "firstName differs on 1 user") {
		t.Errorf("profile defect: %q", codes[CodeDiffProfile].Summary)
	}
}

func TestReconcileComparesJSONValuesAndNulls(t *testing.T) {
	found := okta.UserProfile{"login": "a@example.com", "count": float64(3), "flag": true, "list": []any{"x"}, "gone": nil}
	sent := `{"login":"a@example.com","count":3,"flag":true,"list":["x"],"gone":null,"absent":null}`
	if d := compareProfile(sent, found); len(d) != 0 {
		t.Errorf("equal values differ: %+v", d)
	}
	found["count"], found["absent"], found["flag"] = float64(4), "now set", "true"
	d := compareProfile(sent, found)
	var attrs []string
	for _, e := range d {
		attrs = append(attrs, e.Attribute)
	}
	if !slices.Equal(attrs, []string{"absent", "count", "flag"}) {
		t.Errorf("differences: %+v", d)
	}
}

func TestReconcileBadInput(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	f.addRecords(src, "bi", 3)
	if _, err := f.svc.StartReconcile(t.Context(), f.projectID, NewReconcile{}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("nothing created: %v", err)
	}
	load := f.start(NewRun{Activate: true})
	f.mustExecute(load.ID)
	if _, err := f.svc.StartReconcile(t.Context(), f.projectID, NewReconcile{TargetRunID: load.ID + 1000}); apperr.CodeOf(err) != apperr.CodeNotFound {
		t.Errorf("unknown target run: %v", err)
	}
	if _, err := f.svc.StartReconcile(t.Context(), f.projectID, NewReconcile{TargetRunID: load.ID, RateShare: 2}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("bad pace: %v", err)
	}
	rec, err := f.svc.StartReconcile(t.Context(), f.projectID, NewReconcile{TargetRunID: load.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartReconcile(t.Context(), f.projectID, NewReconcile{TargetRunID: rec.ID}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("a reconciliation as target: %v", err)
	}
	f.mustExecute(rec.ID)
	rb, err := f.svc.StartRollback(t.Context(), f.projectID, NewRollback{TargetRunID: load.ID, Confirm: "Acme", ProjectName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartReconcile(t.Context(), f.projectID, NewReconcile{TargetRunID: rb.ID}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("a rollback as target: %v", err)
	}
	// The load's target while a rollback is queued is fine; once rolled
	// back, there is nothing left to reconcile.
	f.mustExecute(rb.ID)
	if _, err := f.svc.StartReconcile(t.Context(), f.projectID, NewReconcile{TargetRunID: load.ID}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("a rolled-back run: %v", err)
	}
}
