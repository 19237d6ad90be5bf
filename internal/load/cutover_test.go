package load

import (
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

func TestCutoverSettings(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("AD", false)
	ctx := t.Context()

	st, err := f.svc.FindCutover(ctx, f.projectID, src)
	if err != nil {
		t.Fatal(err)
	}
	if st.Version != 0 || st.StatusAttribute != "" || st.DisabledAction != StatusSkip || st.LockedAction != StatusSuspend ||
		st.ExpiredAction != StatusChangePassword || st.DisabledValues == nil {
		t.Fatalf("defaults: %+v", st)
	}
	if _, err := f.svc.FindCutover(ctx, f.projectID, src+1000); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("another project's source: %v", err)
	}

	in := CutoverInput{StatusAttribute: " accountStatus ", DisabledValues: []string{"Disabled", "disabled", " ", "OFF"},
		LockedValues: []string{"locked"}, DisabledAction: StatusDeprovision, ManagerAttribute: "manager", ManagerKind: ManagerKindDN}
	saved, err := f.svc.SaveCutover(ctx, f.projectID, src, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	if saved.Version != 1 || saved.StatusAttribute != "accountStatus" || strings.Join(saved.DisabledValues, ",") != "Disabled,OFF" ||
		saved.LockedAction != StatusSuspend || saved.ExpiredAction != StatusChangePassword || saved.DisabledAction != StatusDeprovision {
		t.Fatalf("saved: %+v", saved)
	}
	got, err := f.svc.FindCutover(ctx, f.projectID, src)
	if err != nil || got.Version != 1 || got.ManagerKind != ManagerKindDN || len(got.LockedValues) != 1 || len(got.ExpiredValues) != 0 {
		t.Fatalf("read back: %+v %v", got, err)
	}
	all, err := f.svc.FindCutovers(ctx, f.projectID)
	if err != nil || all[src] == nil || all[src].Version != 1 {
		t.Fatalf("FindCutovers: %+v %v", all, err)
	}

	// Optimistic versions: a stale version (or 0 once saved) conflicts.
	for _, v := range []int64{0, 5} {
		_, err := f.svc.SaveCutover(ctx, f.projectID, src, v, in)
		if ae := apperr.As(err); ae == nil || ae.Code != apperr.CodeConflict || ae.CurrentVersion != 1 {
			t.Errorf("version %d: %v", v, err)
		}
	}
	in.LockedAction = StatusSkip
	if saved, err = f.svc.SaveCutover(ctx, f.projectID, src, 1, in); err != nil || saved.Version != 2 || saved.LockedAction != StatusSkip {
		t.Fatalf("second save: %+v %v", saved, err)
	}
	var n int
	if err := f.db.ReadSQL().QueryRow(f.db.Bind(`SELECT COUNT(*) FROM audit_entries WHERE entity_type = 'cutover_settings' AND entity_id = ?`), src).Scan(&n); err != nil || n != 2 {
		t.Errorf("audit entries %d %v", n, err)
	}

	// Bad input.
	many := make([]string, 51)
	for i := range many {
		many[i] = "v" + itoa(int64(i))
	}
	for name, c := range map[string]struct {
		in    CutoverInput
		field string
	}{
		"action":          {CutoverInput{DisabledAction: "delete"}, "disabled_action"},
		"locked action":   {CutoverInput{LockedAction: "SUSPEND"}, "locked_action"},
		"manager kind":    {CutoverInput{ManagerAttribute: "manager", ManagerKind: "email"}, "manager_kind"},
		"no manager kind": {CutoverInput{ManagerAttribute: "manager"}, "manager_kind"},
		"kind alone":      {CutoverInput{ManagerKind: ManagerKindLogin}, "manager_attribute"},
		"long attribute":  {CutoverInput{StatusAttribute: strings.Repeat("a", 201)}, "status_attribute"},
		"control char":    {CutoverInput{StatusAttribute: "status\x01"}, "status_attribute"},
		"two lines":       {CutoverInput{ManagerAttribute: "man\nager", ManagerKind: ManagerKindDN}, "manager_attribute"},
		"too many values": {CutoverInput{StatusAttribute: "s", ExpiredValues: many}, "expired_values"},
		"long value":      {CutoverInput{StatusAttribute: "s", LockedValues: []string{strings.Repeat("x", 201)}}, "locked_values"},
		"control value":   {CutoverInput{StatusAttribute: "s", DisabledValues: []string{"a\x00b"}}, "disabled_values"},
	} {
		_, err := f.svc.SaveCutover(ctx, f.projectID, src, 2, c.in)
		ae := apperr.As(err)
		if ae == nil || ae.Code != apperr.CodeInvalid || ae.Fields[c.field] == "" {
			t.Errorf("%s: %v (fields %v)", name, err, ae.Fields)
		}
	}
	if _, err := f.svc.SaveCutover(ctx, f.projectID, src+1000, 0, CutoverInput{}); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("unknown source: %v", err)
	}
	if len(StatusActions()) != 5 || len(ManagerKinds()) != 3 || len(LeaverPolicies()) != 2 {
		t.Error("option lists")
	}
}

func TestSaveLeavers(t *testing.T) {
	f := newFixture(t, fxOptions{})
	ctx := t.Context()
	st, err := f.svc.FindSettings(ctx, f.projectID)
	if err != nil || st.Leavers != LeaversReport {
		t.Fatalf("default policy: %+v %v", st, err)
	}
	if _, err := f.svc.SaveLeavers(ctx, f.projectID, 0, "delete"); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("bad policy: %v", err)
	}
	st, err = f.svc.SaveLeavers(ctx, f.projectID, 0, LeaversDeactivate)
	if err != nil || st.Version != 1 || st.Leavers != LeaversDeactivate || len(st.Ladder) != 4 || st.ErrorThreshold != 0.01 {
		t.Fatalf("first save: %+v %v", st, err)
	}
	if _, err := f.svc.SaveLeavers(ctx, f.projectID, 0, LeaversReport); !apperr.Is(err, apperr.CodeConflict) {
		t.Errorf("stale version: %v", err)
	}
	// The ladder saved afterwards keeps the policy, and the policy keeps the ladder.
	if st, err = f.svc.SaveSettings(ctx, f.projectID, 1, []int{5, 50}, 0.05); err != nil || st.Leavers != LeaversDeactivate {
		t.Fatalf("ladder: %+v %v", st, err)
	}
	st, err = f.svc.SaveLeavers(ctx, f.projectID, 2, LeaversReport)
	if err != nil || st.Version != 3 || st.Leavers != LeaversReport || len(st.Ladder) != 2 || st.ErrorThreshold != 0.05 {
		t.Fatalf("second save: %+v %v", st, err)
	}
	got, _ := f.svc.FindSettings(ctx, f.projectID)
	if got.Leavers != LeaversReport || got.Version != 3 || len(got.Ladder) != 2 {
		t.Errorf("read back: %+v", got)
	}
}
