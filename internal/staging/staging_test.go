package staging_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// fakeReader yields the given records, then the given error (io.EOF when nil).
type fakeReader struct {
	records []extract.Record
	errs    map[int]error // an error returned instead of the record at this index
	end     error
	i       int
	columns []string
}

func (f *fakeReader) Next() (extract.Record, error) {
	if err, ok := f.errs[f.i]; ok {
		f.i++
		return extract.Record{}, err
	}
	if f.i >= len(f.records) {
		if f.end != nil {
			return extract.Record{}, f.end
		}
		return extract.Record{}, io.EOF
	}
	r := f.records[f.i]
	f.i++
	return r, nil
}
func (f *fakeReader) Columns() []string  { return f.columns }
func (f *fakeReader) Warnings() []string { return nil }

func users(n int, mailDomain string) []extract.Record {
	out := make([]extract.Record, n)
	for i := range out {
		out[i] = extract.Record{Position: i + 2, Attributes: map[string][]string{
			"employeeID": {fmt.Sprintf("E%05d", i)},
			"mail":       {fmt.Sprintf("user%d@%s", i, mailDomain)},
			"givenName":  {"Ada"},
			"age":        {fmt.Sprint(20 + i%50)},
		}}
	}
	return out
}

type fixture struct {
	svc *staging.Service
	ctx context.Context
	p   *plan.Project
	src *plan.Source
}

func newFixture(t *testing.T) *fixture {
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	authSvc := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	planSvc := plan.NewService(d, authSvc)
	lead, err := authSvc.CreateAccount(context.Background(), auth.AccountInput{Email: "eng@example.com", Name: "Eli", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: lead.ID, Name: lead.Name})
	name := "Acme"
	p, err := planSvc.CreateProject(ctx, lead.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	srcName, kind := "HR", "hr_system"
	src, err := planSvc.CreateSource(ctx, p.ID, plan.SourceInput{Name: &srcName, Kind: &kind})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: staging.NewService(d, clock.Now, nil), ctx: ctx, p: p, src: src}
}

func (f *fixture) stage(t *testing.T, r extract.Reader) (*staging.Extract, error) {
	t.Helper()
	return f.svc.Stage(f.ctx, f.p.ID, f.src.ID, r, staging.Meta{FileName: "hr.csv", Format: "csv"}, nil)
}

func TestStagingWritesEveryRecordInBatchesAndObservesColumns(t *testing.T) {
	f := newFixture(t)
	var progress []int64
	ex, err := f.svc.Stage(f.ctx, f.p.ID, f.src.ID, &fakeReader{records: users(25500, "example.com"), columns: []string{"employeeID", "mail", "givenName", "age"}},
		staging.Meta{FileName: "hr.csv", Format: "csv"}, func(n int64) { progress = append(progress, n) })
	if err != nil {
		t.Fatal(err)
	}
	if ex.Status != staging.StatusReady || ex.Records != 25500 || ex.KeyAttribute != "employeeID" {
		t.Fatalf("extract = %+v", ex)
	}
	if len(progress) < 3 || progress[len(progress)-1] != 25500 {
		t.Fatalf("progress = %v, want one report per batch ending at 25500", progress)
	}
	cols := map[string]staging.ColumnStats{}
	for _, c := range ex.Columns {
		cols[c.Name] = c
	}
	if c := cols["age"]; c.Type != "integer" || c.Distinct != 50 || c.Filled != 25500 {
		t.Fatalf("age stats = %+v", c)
	}
	if c := cols["mail"]; c.Type != "string" || c.Distinct != 25500 || len(c.Samples) != 5 {
		t.Fatalf("mail stats = %+v", c)
	}
	var n int
	var after int64
	for {
		page, err := f.svc.FindRecords(context.Background(), ex.ID, after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		n += len(page)
		after = page[len(page)-1].ID
	}
	if n != 25500 {
		t.Fatalf("%d records stored, want 25500", n)
	}
}

func TestAnUnreadableExtractStagesNothingAndKeepsTheCurrentOne(t *testing.T) {
	f := newFixture(t)
	first, err := f.stage(t, &fakeReader{records: users(10, "example.com"), columns: []string{"employeeID", "mail"}})
	if err != nil {
		t.Fatal(err)
	}
	// The broken file fails after two full batches have been written.
	broken := &fakeReader{records: users(2500, "example.com"), errs: map[int]error{2100: &extract.Error{Position: 2102, Unit: "line", Message: "unterminated quote"}}}
	ex, err := f.stage(t, broken)
	if !apperr.Is(err, apperr.CodeInvalid) || !strings.Contains(err.Error(), "line 2102: unterminated quote") {
		t.Fatalf("err = %v", err)
	}
	if ex.Status != staging.StatusFailed {
		t.Fatalf("status = %s", ex.Status)
	}
	if recs, _ := f.svc.FindRecords(context.Background(), ex.ID, 0, 10); len(recs) != 0 {
		t.Fatal("a failed extract left records behind")
	}
	cur, err := f.svc.CurrentExtract(context.Background(), f.p.ID, f.src.ID)
	if err != nil || cur == nil || cur.ID != first.ID {
		t.Fatalf("the current extract should still be the first one: %+v %v", cur, err)
	}
}

func TestACancelledStagingStagesNothing(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(f.ctx)
	r := &cancellingReader{fakeReader: fakeReader{records: users(5000, "example.com")}, after: 1500, cancel: cancel}
	ex, err := f.svc.Stage(ctx, f.p.ID, f.src.ID, r, staging.Meta{Format: "csv"}, nil)
	if err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("err = %v", err)
	}
	if recs, _ := f.svc.FindRecords(context.Background(), ex.ID, 0, 10); len(recs) != 0 {
		t.Fatal("a cancelled extract left records behind")
	}
}

type cancellingReader struct {
	fakeReader
	after  int
	cancel func()
}

func (c *cancellingReader) Next() (extract.Record, error) {
	if c.i == c.after {
		c.cancel()
	}
	return c.fakeReader.Next()
}

func TestRaggedRowsAreQuarantinedWithTheirLine(t *testing.T) {
	f := newFixture(t)
	r := &fakeReader{records: users(20, "example.com"), errs: map[int]error{
		3: &extract.RecordError{Position: 5, Unit: "line", Message: "4 fields, the header has 5"},
	}}
	ex, err := f.stage(t, r)
	if err != nil {
		t.Fatal(err)
	}
	q, err := f.svc.FindQuarantined(context.Background(), ex.ID)
	if err != nil || len(q) != 1 || q[0].Position != 5 || ex.Quarantined != 1 {
		t.Fatalf("quarantine = %+v (%v), extract %+v", q, err, ex)
	}
}

func TestANewExtractReplacesTheOldAndCarriesOverExclusions(t *testing.T) {
	f := newFixture(t)
	first, err := f.stage(t, &fakeReader{records: users(5, "example.com")})
	if err != nil {
		t.Fatal(err)
	}
	// Exclude two records of the first extract: one that the next extract keeps, one it drops.
	recs, _ := f.svc.FindRecords(context.Background(), first.ID, 0, 10)
	if err := f.svc.ExcludeRecord(f.ctx, f.p.ID, recs[0].ID, recs[0].Version, true, "test account"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ExcludeRecord(f.ctx, f.p.ID, recs[4].ID, recs[4].Version, true, "left the company"); err != nil {
		t.Fatal(err)
	}
	second, err := f.stage(t, &fakeReader{records: users(4, "new.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if second.CarriedOver != 1 || second.LostEdits != 1 {
		t.Fatalf("carried over %d, lost %d; want 1 and 1", second.CarriedOver, second.LostEdits)
	}
	all, _ := f.svc.FindExtracts(context.Background(), f.p.ID, f.src.ID)
	if all[1].Status != staging.StatusReplaced || all[0].Status != staging.StatusReady {
		t.Fatalf("statuses = %s, %s", all[0].Status, all[1].Status)
	}
	now, _ := f.svc.FindRecords(context.Background(), second.ID, 0, 10)
	if !now[0].Excluded || now[0].ExcludeReason != "test account" || now[0].Attributes["mail"][0] != "user0@new.example.com" {
		t.Fatalf("record 0 = %+v", now[0])
	}
}

func TestExcludingNeedsAReason(t *testing.T) {
	f := newFixture(t)
	ex, err := f.stage(t, &fakeReader{records: users(1, "example.com")})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := f.svc.FindRecords(context.Background(), ex.ID, 0, 1)
	err = f.svc.ExcludeRecord(f.ctx, f.p.ID, recs[0].ID, recs[0].Version, true, "  ")
	if !apperr.Is(err, apperr.CodeInvalid) {
		t.Fatalf("err = %v", err)
	}
	err = f.svc.ExcludeRecord(f.ctx, f.p.ID, recs[0].ID, recs[0].Version+1, true, "stale")
	if !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("stale version: err = %v", err)
	}
	if err := f.svc.ExcludeRecord(f.ctx, f.p.ID+1, recs[0].ID, recs[0].Version, true, "other project"); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("other project: err = %v", err)
	}

}

func TestARecordIsFoundByIDOnlyInItsProject(t *testing.T) {
	f := newFixture(t)
	ex, err := f.stage(t, &fakeReader{records: users(2, "example.com")})
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := f.svc.FindRecords(context.Background(), ex.ID, 0, 2)
	rec, got, err := f.svc.FindRecordByID(f.ctx, f.p.ID, recs[1].ID)
	if err != nil || rec.ID != recs[1].ID || got.ID != ex.ID || got.SourceID != f.src.ID {
		t.Fatalf("FindRecordByID = %+v, %+v, %v", rec, got, err)
	}
	if _, _, err := f.svc.FindRecordByID(f.ctx, f.p.ID+1, recs[1].ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("another project's record: err = %v", err)
	}
	if err := f.svc.SetFileFacts(f.ctx, ex.ID, 1234, "abc123"); err != nil {
		t.Fatal(err)
	}
	cur, err := f.svc.CurrentExtract(f.ctx, f.p.ID, f.src.ID)
	if err != nil || cur.SizeBytes != 1234 || cur.Checksum != "abc123" {
		t.Fatalf("after SetFileFacts: %+v, %v", cur, err)
	}
}
