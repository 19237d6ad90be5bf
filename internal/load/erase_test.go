package load

import (
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/credentials"
)

// At the end of a migration program, what the loads keep of the legacy
// hashes goes too: the sealed hashes of users a run did not create and
// every digest of a hash. It waits for a run that may still send hashes
// (a resumed run would create its users without a password), and leaves
// the one-time links of password resets alone.
func TestErasePasswordHashesAtTheEndOfTheProgram(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("LDAP", false)
	settings := &credentials.Settings{SourceID: src, ProjectID: f.projectID, Attribute: "userPassword"}
	f.pw.readings[src] = credentials.Reading{Settings: settings, Source: settings.Source()}
	hash := bcryptOf(t, "Old-Passw0rd-1")
	for _, login := range []string{"ada@example.com", "grace@example.com", "alan@example.com"} {
		f.addRecord(src, login, map[string][]string{"userPassword": {hash}}, map[string]string{"title": "Engineer"})
	}
	loaded := f.mustExecute(f.start(NewRun{Mode: ModeHash, Activate: true}).ID)
	if loaded.Status != StatusDone {
		t.Fatalf("the load %s: %s", loaded.Status, loaded.Message)
	}
	// Two more people, in a run that has not sent them yet.
	for _, login := range []string{"linus@example.com", "barbara@example.com"} {
		f.addRecord(src, login, map[string][]string{"userPassword": {hash}}, map[string]string{"title": "Engineer"})
	}
	waiting := f.start(NewRun{Mode: ModeHash, Activate: true, OnExisting: OnExistingSkip})
	// A reset run whose one-time link is sealed in the same column.
	reset := f.insert(`INSERT INTO load_runs (project_id, number, kind, org_url, mode, status, total, created_by_name, created_at, updated_at)
		VALUES (?, 99, ?, ?, '', ?, 1, 'test', ?, ?) RETURNING id`, f.projectID, KindResetPassword, f.url, StatusDone, f.clock.Now(), f.clock.Now())
	f.exec(`INSERT INTO load_items (run_id, seq, login, state, credential_sealed) VALUES (?, 1, 'ada@example.com', ?, 'sealed-link')`, reset, StateReset)

	count := func(q string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := f.db.ReadSQL().QueryRow(f.db.Bind(q), args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	sealedOf := func(runID int64) int64 {
		return count(`SELECT COUNT(*) FROM load_items WHERE run_id = ? AND credential_sealed <> ''`, runID)
	}
	digests := func() int64 {
		return count(`SELECT COUNT(*) FROM load_items i JOIN load_runs r ON r.id = i.run_id WHERE r.project_id = ? AND i.hash_digest <> ''`, f.projectID) +
			count(`SELECT COUNT(*) FROM okta_users WHERE project_id = ? AND hash_digest <> ''`, f.projectID)
	}
	if n := sealedOf(waiting.ID); n != 2 {
		t.Fatalf("%d sealed hashes wait to be sent, want 2", n)
	}
	if sealedOf(loaded.ID) != 0 || count(`SELECT COUNT(*) FROM okta_users WHERE project_id = ? AND hash_digest <> ''`, f.projectID) != 3 {
		t.Fatal("the loaded users' hashes are not as the load leaves them (sealed hashes dropped, digests kept)")
	}
	before := digests()

	runs, err := f.svc.UnfinishedHashRuns(t.Context(), f.projectID)
	if err != nil || len(runs) != 1 || runs[0] != waiting.Label()+", queued" {
		t.Fatalf("unfinished runs %q %v", runs, err)
	}
	if _, err := f.svc.ErasePasswordHashes(t.Context(), f.projectID); !apperr.Is(err, apperr.CodeConflict) || !strings.Contains(err.Error(), waiting.Label()) {
		t.Fatalf("an erase beside a run that may send hashes: %v", err)
	}
	if sealedOf(waiting.ID) != 2 || digests() != before {
		t.Fatal("a refused erase changed something")
	}

	if _, err := f.svc.Cancel(t.Context(), f.projectID, waiting.ID); err != nil {
		t.Fatal(err)
	}
	if r := f.mustExecute(waiting.ID); r.Status != StatusCancelled {
		t.Fatalf("the cancelled run %s", r.Status)
	}
	if runs, err := f.svc.UnfinishedHashRuns(t.Context(), f.projectID); err != nil || len(runs) != 0 {
		t.Fatalf("unfinished runs after the cancel %q %v", runs, err)
	}
	got, err := f.svc.ErasePasswordHashes(t.Context(), f.projectID)
	if err != nil || got.SealedHashes != 2 || got.Digests != before {
		t.Fatalf("erase %+v %v, want 2 sealed hashes and %d digests", got, err, before)
	}
	if sealedOf(waiting.ID) != 0 || digests() != 0 {
		t.Error("hashes or digests are left")
	}
	if sealedOf(reset) != 1 {
		t.Error("a reset's one-time link was erased")
	}
	if again, err := f.svc.ErasePasswordHashes(t.Context(), f.projectID); err != nil || again != (HashErasure{}) {
		t.Errorf("a second erase %+v %v", again, err)
	}
}
