package quality_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"

	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// countingRecords counts the profiles validation writes.
type countingRecords struct {
	*staging.Service
	written int
}

func (c *countingRecords) WriteProfiles(ctx context.Context, tx *sql.Tx, ps []staging.ProfileWrite) error {
	c.written += len(ps)
	return c.Service.WriteProfiles(ctx, tx, ps)
}

func profileOf(t *testing.T, w *world, recordID int64) map[string]string {
	t.Helper()
	p, err := w.staging.FindProfileJSON(w.ctx, recordID)
	if err != nil || p == "" {
		t.Fatalf("profile of record %d: %q %v", recordID, p, err)
	}
	var out map[string]string
	if err := json.Unmarshal([]byte(p), &out); err != nil {
		t.Fatalf("profile JSON %q: %v", p, err)
	}
	return out
}

// Validation stores each record's Okta profile as the matrix computes it;
// a re-validation rewrites exactly the profiles that changed: none when
// nothing did, the edited record's after an edit, all of them after a
// matrix change (whose digest the run records).
func TestValidationStoresProfilesAndRewritesOnlyWhatChanged(t *testing.T) {
	w := newWorld(t)
	w.stage(t,
		person(2, "E1", "ann@example.com", "Ann", "Lee", "US"),
		person(3, "E2", "bob@example.com", "Bob", "Ray", "GB"),
		person(4, "E3", "cy@example.com", "Cy", "Fox", "FR"),
	)
	w.mapAll(t)
	counter := &countingRecords{Service: w.staging}
	svc := quality.NewService(w.db, w.mapping, counter, w.privacy, nil)
	first, err := svc.Validate(w.ctx, w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if counter.written != 3 || first.MatrixDigest == "" {
		t.Fatalf("first run wrote %d profiles (want 3), digest %q", counter.written, first.MatrixDigest)
	}
	ex, _ := w.staging.CurrentExtract(w.ctx, w.p.ID, w.src.ID)
	recs, _ := w.staging.FindRecords(w.ctx, ex.ID, 0, 10)
	if got := profileOf(t, w, recs[0].ID); got["login"] != "ann@example.com" || got["firstName"] != "Ann" || got["countryCode"] != "US" {
		t.Fatalf("profile = %v", got)
	}

	counter.written = 0
	if _, err := svc.Validate(w.ctx, w.p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if counter.written != 0 {
		t.Fatalf("an unchanged re-validation wrote %d profiles, want 0", counter.written)
	}

	if _, err := w.staging.EditRecord(w.ctx, w.p.ID, recs[1].ID, recs[1].Version, map[string]string{"givenName": "Robert"}); err != nil {
		t.Fatal(err)
	}
	counter.written = 0
	if _, err := svc.Validate(w.ctx, w.p.ID, nil); err != nil {
		t.Fatal(err)
	}
	if counter.written != 1 || profileOf(t, w, recs[1].ID)["firstName"] != "Robert" {
		t.Fatalf("after an edit: %d profiles written, profile %v", counter.written, profileOf(t, w, recs[1].ID))
	}

	// A transformation on the first name changes every profile and the digest.
	rows, err := w.mapping.FindRows(w.ctx, w.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.TargetAttribute == "firstName" {
			upper := `[{"op":"upper"}]`
			if _, err := w.mapping.UpdateRow(w.ctx, w.p.ID, r.ID, r.Version, mapping.RowInput{Transform: &upper}); err != nil {
				t.Fatal(err)
			}
		}
	}
	counter.written = 0
	third, err := svc.Validate(w.ctx, w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if counter.written != 3 || third.MatrixDigest == first.MatrixDigest || profileOf(t, w, recs[2].ID)["firstName"] != "CY" {
		t.Fatalf("after a matrix change: %d written, digest %q (was %q), profile %v", counter.written, third.MatrixDigest, first.MatrixDigest, profileOf(t, w, recs[2].ID))
	}
}

func dupLogins(t *testing.T, w *world) int64 {
	t.Helper()
	run, err := w.quality.Validate(w.ctx, w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	return run.Counts.ByCode[quality.IssueDuplicateLogin]
}

// The uniqueness keys follow the records through edits, exclusions and
// inclusions, and are rebuilt whole after a run that did not finish.
func TestUniquenessKeysFollowEditsExclusionsAndUnfinishedRuns(t *testing.T) {
	w := newWorld(t)
	w.stage(t,
		person(2, "E1", "sam@example.com", "Sam", "Lee", "US"),
		person(3, "E2", "SAM@example.com", "Sam", "Ray", "GB"),
		person(4, "E3", "kim@example.com", "Kim", "Fox", "FR"),
	)
	w.mapAll(t)
	if n := dupLogins(t, w); n != 2 {
		t.Fatalf("%d duplicate-login occurrences, want 2", n)
	}
	ex, _ := w.staging.CurrentExtract(w.ctx, w.p.ID, w.src.ID)
	recs, _ := w.staging.FindRecords(w.ctx, ex.ID, 0, 10)

	// Excluded: no longer a duplicate; included again: a duplicate again.
	if err := w.staging.ExcludeRecord(w.ctx, w.p.ID, recs[1].ID, recs[1].Version, true, "test account"); err != nil {
		t.Fatal(err)
	}
	if n := dupLogins(t, w); n != 0 {
		t.Fatalf("with one excluded: %d duplicate occurrences", n)
	}
	recs, _ = w.staging.FindRecords(w.ctx, ex.ID, 0, 10)
	if err := w.staging.ExcludeRecord(w.ctx, w.p.ID, recs[1].ID, recs[1].Version, false, ""); err != nil {
		t.Fatal(err)
	}
	if n := dupLogins(t, w); n != 2 {
		t.Fatalf("included again: %d duplicate occurrences, want 2", n)
	}

	// Fixed by an edit: the old key goes, the new one collides with Kim's.
	recs, _ = w.staging.FindRecords(w.ctx, ex.ID, 0, 10)
	if _, err := w.staging.EditRecord(w.ctx, w.p.ID, recs[1].ID, recs[1].Version, map[string]string{"mail": "Kim@Example.com"}); err != nil {
		t.Fatal(err)
	}
	run, err := w.quality.Validate(w.ctx, w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	occ, _ := w.quality.FindOccurrences(w.ctx, quality.OccurrenceFilter{RunID: run.ID, Code: quality.IssueDuplicateLogin})
	if len(occ) != 2 || occ[0].RecordID != recs[1].ID || occ[1].RecordID != recs[2].ID {
		t.Fatalf("after the edit: duplicates %+v, want records %d and %d", occ, recs[1].ID, recs[2].ID)
	}

	// A run that stopped between its profiles and its keys: the keys are
	// lost here, and the next run writes them all again.
	if err := w.db.Write.Exec("DELETE FROM staged_keys").Error; err != nil {
		t.Fatal(err)
	}
	if err := w.db.Write.Model(&quality.Run{}).Where("id = ?", run.ID).Update("status", quality.RunFailed).Error; err != nil {
		t.Fatal(err)
	}
	if n := dupLogins(t, w); n != 2 {
		t.Fatalf("after an unfinished run: %d duplicate occurrences, want 2", n)
	}
}
