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
