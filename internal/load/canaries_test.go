package load

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

func (w *waveWorld) mark(login, password string) *Canary {
	w.t.Helper()
	c, err := w.svc.MarkCanary(w.t.Context(), w.projectID, w.records[login], password)
	if err != nil {
		w.t.Fatalf("MarkCanary %s: %v", login, err)
	}
	return c
}

func (w *waveWorld) checks(runID int64) map[string]CanaryCheck {
	w.t.Helper()
	list, err := w.svc.CanaryChecks(w.t.Context(), runID)
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string]CanaryCheck{}
	for _, c := range list {
		out[c.Login] = c
	}
	return out
}

// assertNoSecret checks that no stored text holds the password.
func (w *waveWorld) assertNoSecret(secret string) {
	w.t.Helper()
	for _, q := range []string{`SELECT COALESCE(before_json, '') || COALESCE(after_json, '') FROM audit_entries`,
		`SELECT detail FROM canary_checks`, `SELECT password_sealed FROM canaries`, `SELECT detail_json || error_summary FROM load_items`} {
		rows, err := w.db.ReadSQL().Query(q)
		if err != nil {
			w.t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				w.t.Fatal(err)
			}
			if strings.Contains(s, secret) {
				w.t.Errorf("%s holds the password: %s", q, s)
			}
		}
		rows.Close()
	}
}

func TestMarkCanary(t *testing.T) {
	w := newWaveWorld(t, fxOptions{})
	ctx := t.Context()
	bad := map[string]struct {
		record   int64
		password string
	}{
		"unknown record":      {99999, wavePassword},
		"empty password":      {w.records["a001@example.com"], ""},
		"long password":       {w.records["a001@example.com"], strings.Repeat("p", MaxCanaryPassword+1)},
		"no password setting": {w.records["b001@example.com"], wavePassword},
	}
	for name, tc := range bad {
		if _, err := w.svc.MarkCanary(ctx, w.projectID, tc.record, tc.password); !apperr.Is(err, apperr.CodeInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	// Another project's record is not a current staged record of this one.
	other := w.insert(`INSERT INTO projects (name, name_key, migration_type, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, "Other", "other", "workforce", "active", w.clock.Now(), w.clock.Now())
	if _, err := w.svc.MarkCanary(ctx, other, w.records["a001@example.com"], wavePassword); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("another project's record: %v", err)
	}
	w.exec(`UPDATE staged_records SET excluded = TRUE WHERE id = ?`, w.records["a003@example.com"])
	if _, err := w.svc.MarkCanary(ctx, w.projectID, w.records["a003@example.com"], wavePassword); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("an excluded record: %v", err)
	}

	c := w.mark("a002@example.com", wavePassword)
	if c.ID == 0 || c.Login != "a002@example.com" || c.SourceID != w.srcA || c.HashFormat != "bcrypt" || c.PasswordSealed != "" {
		t.Fatalf("canary %+v", c)
	}
	b, _ := json.Marshal(c)
	if strings.Contains(string(b), wavePassword) || strings.Contains(string(b), "asswordSealed") {
		t.Errorf("canary JSON: %s", b)
	}
	again := w.mark("a002@example.com", strings.Repeat("p", MaxCanaryPassword))
	if again.ID != c.ID {
		t.Errorf("marking again made a new canary %d (was %d)", again.ID, c.ID)
	}
	list, err := w.svc.ListCanaries(ctx, w.projectID)
	if err != nil || len(list) != 1 || list[0].PasswordSealed != "" || list[0].HashFormat != "bcrypt" {
		t.Fatalf("ListCanaries = %+v, %v", list, err)
	}
	w.assertNoSecret(wavePassword)
	var audits int
	_ = w.db.ReadSQL().QueryRow(`SELECT COUNT(*) FROM audit_entries WHERE entity_type = 'canary'`).Scan(&audits)
	if audits != 2 {
		t.Errorf("%d audit entries for canaries, want 2", audits)
	}
	if err := w.svc.RemoveCanary(ctx, w.projectID, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.RemoveCanary(ctx, w.projectID, c.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("removing twice: %v", err)
	}
	if list, _ := w.svc.ListCanaries(ctx, w.projectID); len(list) != 0 {
		t.Errorf("after removal: %+v", list)
	}
}

// A load with activation signs in as its canaries: the right password
// passes, and a canary marked with a password that does not match its
// staged hash (a wrong conversion, as far as Ferry can tell) fails.
func TestCanariesFirstAndSignedIn(t *testing.T) {
	w := newWaveWorld(t, fxOptions{})
	w.mark("a003@example.com", wavePassword)
	w.mark("a002@example.com", "Not-The-Staged-Password-1")
	run := w.start(NewRun{Mode: ModeHash, Activate: true, Population: Population{SourceIDs: []int64{w.srcA}}})
	items := w.items(run.ID)
	var order []string
	for _, it := range items {
		order = append(order, it.Login)
		if it.Canary != (it.Login != "a001@example.com") {
			t.Errorf("%s canary %v", it.Login, it.Canary)
		}
	}
	if strings.Join(order, " ") != "a002@example.com a003@example.com a001@example.com" {
		t.Errorf("order %v, want the canaries first", order)
	}
	w.mustExecute(run.ID)
	w.assertLoaded(run.ID, w.hashed, 0)
	checks := w.checks(run.ID)
	if c := checks["a003@example.com"]; c.Outcome != CanaryPassed || c.CheckedByName != "Ferry" || c.CheckedAt == nil ||
		!strings.Contains(c.Detail, "wrong one was refused") {
		t.Errorf("right password: %+v", c)
	}
	if c := checks["a002@example.com"]; c.Outcome != CanaryFailed || !strings.Contains(c.Detail, "refused the right password") {
		t.Errorf("wrong conversion: %+v", c)
	}
	if len(checks) != 2 {
		t.Errorf("%d checks, want 2", len(checks))
	}
	w.assertNoSecret(wavePassword)
	w.assertNoSecret("Not-The-Staged-Password-1")
}

// A STAGED load cannot sign in: its canaries wait for the activation wave,
// whose check signs in.
func TestCanaryStagedThenWave(t *testing.T) {
	w := newWaveWorld(t, fxOptions{})
	w.mark("a003@example.com", wavePassword)
	w.stage()
	runs, _ := w.svc.FindRuns(t.Context(), w.projectID, 0)
	load := runs[len(runs)-1] // the first load: source A
	if c := w.checks(load.ID)["a003@example.com"]; c.Outcome != CanaryUntested || !strings.Contains(c.Detail, "after the activation wave") {
		t.Errorf("staged load's canary: %+v", c)
	}
	p := w.plan(NewWave{})
	if p.Canaries != 1 || p.Logins()[0] != "a003@example.com" {
		t.Errorf("wave plan: canaries %d, order %v", p.Canaries, p.Logins())
	}
	wave, _, err := w.svc.StartWave(t.Context(), w.projectID, NewWave{Name: "All"})
	if err != nil {
		t.Fatal(err)
	}
	if it := w.items(wave.ID)[0]; it.Login != "a003@example.com" || !it.Canary || it.Seq != 1 {
		t.Errorf("first item of the wave: %+v", it)
	}
	w.mustExecute(wave.ID)
	if c := w.checks(wave.ID)["a003@example.com"]; c.Outcome != CanaryPassed {
		t.Errorf("wave's canary: %+v", c)
	}
}

// Against a real org the canaries are listed to try by hand, and a person
// records the result.
func TestCanaryRealOrg(t *testing.T) {
	w := newWaveWorld(t, fxOptions{Wrap: hideSandbox})
	c := w.mark("a003@example.com", wavePassword)
	run := w.start(NewRun{Mode: ModeHash, Activate: true, Population: Population{SourceIDs: []int64{w.srcA}}})
	if run.Sandbox {
		t.Fatal("the org should look real")
	}
	w.mustExecute(run.ID)
	chk := w.checks(run.ID)["a003@example.com"]
	if chk.Outcome != CanaryUntested || !strings.Contains(chk.Detail, "Try it by hand") || chk.CheckedAt != nil {
		t.Fatalf("real org canary: %+v", chk)
	}
	ctx := t.Context()
	if err := w.svc.RecordCanaryResult(ctx, w.projectID, run.ID, c.ID, "maybe", ""); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("bad outcome: %v", err)
	}
	if err := w.svc.RecordCanaryResult(ctx, w.projectID, run.ID, c.ID, CanaryPassed, "bad\x00note"); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("bad note: %v", err)
	}
	if err := w.svc.RecordCanaryResult(ctx, w.projectID, run.ID, 99999, CanaryPassed, ""); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("unknown canary: %v", err)
	}
	if err := w.svc.RecordCanaryResult(ctx, w.projectID, run.ID, c.ID, CanaryPassed, "Signed in at 10:02, wrong password refused."); err != nil {
		t.Fatal(err)
	}
	chk = w.checks(run.ID)["a003@example.com"]
	if chk.Outcome != CanaryPassed || chk.Detail != "Signed in at 10:02, wrong password refused." || chk.CheckedAt == nil {
		t.Errorf("recorded result: %+v", chk)
	}
	var audits int
	_ = w.db.ReadSQL().QueryRow(`SELECT COUNT(*) FROM audit_entries WHERE entity_type = 'canary_check'`).Scan(&audits)
	if audits != 1 {
		t.Errorf("%d audit entries for the result, want 1", audits)
	}
	w.assertNoSecret(wavePassword)
}

// A test batch always takes the canaries not loaded yet, keeping its size.
func TestWithCanariesInBatches(t *testing.T) {
	all := []candidate{{RecordID: 1, SourceID: 1, SourceKey: "a"}, {RecordID: 2, SourceID: 1, SourceKey: "b"},
		{RecordID: 3, SourceID: 1, SourceKey: "c"}, {RecordID: 4, SourceID: 1, SourceKey: "d", LoadedBy: 9}}
	canaries := map[canaryKey]Canary{{1, "c"}: {}, {1, "d"}: {}}
	got := withCanaries(all, all[:2], canaries)
	if len(got) != 2 || got[0].RecordID != 3 || got[1].RecordID != 1 {
		t.Errorf("batch with canaries: %+v", got)
	}
	if got := withCanaries(all, all[:2], nil); len(got) != 2 || got[0].RecordID != 1 {
		t.Errorf("no canaries: %+v", got)
	}
}
