package staging_test

import (
	"context"
	"testing"
)

// Erasing attributes removes them for good from every extract of the
// source (records and column samples), edits included, matched ignoring case; versions move on; a
// second erase changes nothing; other attributes stay.
func TestEraseAttributesRemovesThemFromEveryExtract(t *testing.T) {
	f := newFixture(t)
	first, err := f.stage(t, &fakeReader{records: users(3, "example.com")})
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.stage(t, &fakeReader{records: users(2, "example.com")})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := f.svc.FindRecords(context.Background(), second.ID, 0, 10)
	if _, err := f.svc.EditRecord(f.ctx, f.p.ID, recs[0].ID, recs[0].Version, map[string]string{"age": "99"}); err != nil {
		t.Fatal(err)
	}
	records, extracts, err := f.svc.EraseAttributes(f.ctx, f.p.ID, f.src.ID, []string{"AGE"})
	// Re-staging dropped the first extract's records; the extract itself
	// (its column samples) is still gone through.
	if err != nil || records != 2 || extracts != 2 {
		t.Fatalf("erased %d records in %d extracts (%v), want 2 in 2", records, extracts, err)
	}
	for _, ex := range []int64{first.ID, second.ID} {
		got, _ := f.svc.FindRecords(context.Background(), ex, 0, 10)
		for _, r := range got {
			if _, ok := r.Effective()["age"]; ok {
				t.Fatalf("record %d still has age: %v", r.ID, r.Effective())
			}
			if r.Effective()["mail"] == nil || r.Version < 2 {
				t.Fatalf("record %d: %v, version %d", r.ID, r.Effective(), r.Version)
			}
		}
	}
	exs, err := f.svc.FindExtracts(context.Background(), f.p.ID, f.src.ID)
	if err != nil || len(exs) != 2 {
		t.Fatalf("extracts %d (%v)", len(exs), err)
	}
	for _, ex := range exs {
		for _, col := range ex.Columns {
			if col.Name == "age" && len(col.Samples) > 0 {
				t.Fatalf("extract %d keeps samples of age: %v", ex.ID, col.Samples)
			}
			if col.Name == "mail" && len(col.Samples) == 0 {
				t.Fatalf("extract %d lost the samples of mail", ex.ID)
			}
		}
	}
	if records, _, err := f.svc.EraseAttributes(f.ctx, f.p.ID, f.src.ID, []string{"age"}); err != nil || records != 0 {
		t.Fatalf("a second erase changed %d records (%v)", records, err)
	}
	if records, extracts, err := f.svc.EraseAttributes(f.ctx, f.p.ID, f.src.ID+1000, []string{"age"}); err != nil || records != 0 || extracts != 0 {
		t.Fatalf("another source: %d, %d, %v", records, extracts, err)
	}
}
