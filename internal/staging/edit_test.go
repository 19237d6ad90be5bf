package staging_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

func TestAnEditedRecordKeepsItsFixAcrossReStaging(t *testing.T) {
	f := newFixture(t)
	ex, err := f.stage(t, &fakeReader{records: users(3, "example.com")})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := f.svc.FindRecords(context.Background(), ex.ID, 0, 3)
	rec, err := f.svc.EditRecord(f.ctx, f.p.ID, recs[1].ID, recs[1].Version, map[string]string{"mail": "fixed@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Effective()["mail"][0]; got != "fixed@example.com" || !rec.Edited {
		t.Fatalf("effective mail = %q, edited %v", got, rec.Edited)
	}
	// Bad edits are refused with nothing written.
	for _, bad := range []map[string]string{nil, {"": "x"}, {"mail": strings.Repeat("x", 10_001)}, {"mail": "bad\x00"}} {
		if _, err := f.svc.EditRecord(f.ctx, f.p.ID, recs[1].ID, rec.Version, bad); !apperr.Is(err, apperr.CodeInvalid) {
			t.Errorf("%v: err = %v", bad, err)
		}
	}
	if _, err := f.svc.EditRecord(f.ctx, f.p.ID, recs[1].ID, recs[1].Version, map[string]string{"mail": "stale@example.com"}); !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("stale edit: err = %v", err)
	}
	second, err := f.stage(t, &fakeReader{records: users(3, "new.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	now, _ := f.svc.FindRecords(context.Background(), second.ID, 0, 3)
	if got := now[1].Effective()["mail"][0]; got != "fixed@example.com" || now[0].Effective()["mail"][0] != "user0@new.example.com" {
		t.Fatalf("after re-staging: %q / %q", got, now[0].Effective()["mail"][0])
	}
	// Clearing the edit gives the source's value back.
	if _, err := f.svc.EditRecord(f.ctx, f.p.ID, now[1].ID, now[1].Version, map[string]string{"mail": ""}); err != nil {
		t.Fatal(err)
	}
	again, _ := f.svc.FindRecords(context.Background(), second.ID, 0, 3)
	if got := again[1].Effective()["mail"][0]; got != "user1@new.example.com" || again[1].Edited {
		t.Fatalf("after clearing: %q edited=%v", got, again[1].Edited)
	}
}
