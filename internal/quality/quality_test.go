package quality_test

import (
	"context"
	"io"
	"testing"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

type sliceReader struct {
	recs []extract.Record
	i    int
}

func (r *sliceReader) Next() (extract.Record, error) {
	if r.i >= len(r.recs) {
		return extract.Record{}, io.EOF
	}
	r.i++
	return r.recs[r.i-1], nil
}
func (r *sliceReader) Columns() []string {
	return []string{"employeeID", "mail", "givenName", "sn", "c"}
}
func (r *sliceReader) Warnings() []string { return nil }

func person(line int, id, mail, given, sn, country string) extract.Record {
	return extract.Record{Position: line, Attributes: map[string][]string{
		"employeeID": {id}, "mail": {mail}, "givenName": {given}, "sn": {sn}, "c": {country},
	}}
}

type world struct {
	db      *db.DB
	privacy *privacy.Service
	ctx     context.Context
	p       *plan.Project
	src     *plan.Source
	mapping *mapping.Service
	staging *staging.Service
	quality *quality.Service
}

func newWorld(t testing.TB) *world {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	as := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	acct, err := as.CreateAccount(context.Background(), auth.AccountInput{Email: "eng@example.com", Name: "Eli", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{ctx: audit.WithActor(context.Background(), audit.Actor{ID: acct.ID, Name: acct.Name})}
	ps := plan.NewService(d, as)
	ss := schema.NewService(d)
	w.mapping = mapping.NewService(d, ss, ps)
	w.staging = staging.NewService(d, clock.Now, w.mapping)
	w.db = d
	w.privacy = privacy.NewService(d, w.mapping, ps, clock.Now)
	w.quality = quality.NewService(d, w.mapping, w.staging, w.privacy, clock.Now)
	name, srcName, kind := "Acme", "HR", "hr_system"
	if w.p, err = ps.CreateProject(w.ctx, acct.ID, plan.ProjectInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if w.src, err = ps.CreateSource(w.ctx, w.p.ID, plan.SourceInput{Name: &srcName, Kind: &kind}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) stage(t *testing.T, recs ...extract.Record) {
	t.Helper()
	if _, err := w.staging.Stage(w.ctx, w.p.ID, w.src.ID, &sliceReader{recs: recs}, staging.Meta{FileName: "hr.csv", Format: "csv"}, nil); err != nil {
		t.Fatal(err)
	}
}

func (w *world) mapAll(t *testing.T) {
	t.Helper()
	fields, err := w.mapping.FindFields(w.ctx, w.p.ID, w.src.ID)
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string][]string{"mail": {"login", "email"}, "givenName": {"firstName"}, "sn": {"lastName"}, "c": {"countryCode"}, "employeeID": {"employeeNumber"}}
	for _, f := range fields {
		for _, target := range targets[f.Name] {
			id, tgt := f.ID, target
			if _, err := w.mapping.CreateRow(w.ctx, w.p.ID, mapping.RowInput{SourceFieldID: &id, TargetAttribute: &tgt}); err != nil {
				t.Fatalf("map %s → %s: %v", f.Name, target, err)
			}
		}
	}
}

func TestValidationFindsExactlyTheInjectedProblems(t *testing.T) {
	w := newWorld(t)
	w.stage(t,
		person(2, "E1", "isaac.brock@example.com", "Isaac", "Brock", "US"),
		person(3, "E2", "Isáac.Bröck@example.com", "Isaac", "Brock", "US"), // the same login for Okta
		person(4, "E3", "grace@example.com", "Grace", "", "GB"),            // no last name
		person(5, "E4", "ada@example.com", "Ada", "Lovelace", "England"),   // not ISO 3166
		person(6, "E5", "not-an-email", "Alan", "Turing", "GB"),            // login and email malformed
		person(7, "E6", "linus@example.com", "Linus", "Torvalds", "FI"),    // fine
	)
	w.mapAll(t)
	run, err := w.quality.Validate(w.ctx, w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		quality.IssueDuplicateLogin:  2,
		quality.IssueRequiredMissing: 1,
		quality.IssueBadCountryCode:  1,
		quality.IssueLoginNotEmail:   1,
		quality.IssueBadEmail:        1,
	}
	for code, n := range want {
		if run.Counts.ByCode[code] != n {
			t.Errorf("%s: %d occurrences, want %d (all: %v)", code, run.Counts.ByCode[code], n, run.Counts.ByCode)
		}
	}
	if len(run.Counts.ByCode) != len(want) {
		t.Errorf("unexpected issue types: %v", run.Counts.ByCode)
	}
	if run.Records != 6 || run.Invalid != 5 || run.Valid != 1 || run.Excluded != 0 {
		t.Errorf("run = records %d, valid %d, invalid %d, excluded %d", run.Records, run.Valid, run.Invalid, run.Excluded)
	}
	occ, err := w.quality.FindOccurrences(w.ctx, quality.OccurrenceFilter{RunID: run.ID, Code: quality.IssueBadCountryCode})
	if err != nil || len(occ) != 1 || occ[0].Position != 5 || occ[0].Attribute != "countryCode" || occ[0].Value != "E******" { // masked: "c" looks like address data
		t.Fatalf("country occurrence = %+v (%v)", occ, err)
	}
}

func TestExcludingARecordAndRevalidatingShowsTheChange(t *testing.T) {
	w := newWorld(t)
	w.stage(t,
		person(2, "E1", "dup@example.com", "A", "B", "US"),
		person(3, "E2", "DUP@example.com", "C", "D", "US"),
	)
	w.mapAll(t)
	first, err := w.quality.Validate(w.ctx, w.p.ID, nil)
	if err != nil || first.Counts.ByCode[quality.IssueDuplicateLogin] != 2 {
		t.Fatalf("first run: %+v %v", first, err)
	}
	ex, _ := w.staging.CurrentExtract(w.ctx, w.p.ID, w.src.ID)
	recs, _ := w.staging.FindRecords(w.ctx, ex.ID, 0, 10)
	if err := w.staging.ExcludeRecord(w.ctx, w.p.ID, recs[1].ID, recs[1].Version, true, "duplicate account"); err != nil {
		t.Fatal(err)
	}
	second, err := w.quality.Validate(w.ctx, w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if second.Counts.ByCode[quality.IssueDuplicateLogin] != 0 || second.Excluded != 1 || second.Valid != 1 {
		t.Fatalf("second run: %+v", second)
	}
	runs, _ := w.quality.LatestRuns(w.ctx, w.p.ID, 5)
	if len(runs) != 2 || runs[0].ID != second.ID {
		t.Fatalf("runs = %+v", runs)
	}
}

func TestPersonalValuesAreMaskedInOccurrences(t *testing.T) {
	w := newWorld(t)
	w.stage(t, person(2, "E1", "broken@@example.com", "A", "B", "US"))
	w.mapAll(t)
	run, err := w.quality.Validate(w.ctx, w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	occ, _ := w.quality.FindOccurrences(w.ctx, quality.OccurrenceFilter{RunID: run.ID, Code: quality.IssueBadEmail})
	if len(occ) != 1 || occ[0].Value == "broken@@example.com" || occ[0].Value == "" {
		t.Fatalf("the email (personal data) must be shown masked: %+v", occ)
	}
}

type memberSet map[int64]bool

func (m memberSet) IsMember(_ context.Context, _ int64, accountID int64) (bool, error) {
	return m[accountID], nil
}

func TestRemediationTasksAreValidatedAssignedAndVersioned(t *testing.T) {
	w := newWorld(t)
	me := audit.ActorFrom(w.ctx).ID
	members := memberSet{me: true}
	bad := []quality.TaskInput{
		{Title: ptr("")},
		{Title: ptr("x"), IssueCode: ptr("no_such_issue")},
		{Title: ptr("x"), Status: ptr("someday")},
		{Title: ptr("x"), DueDate: ptr("next week")},
		{Title: ptr("x"), AssigneeID: ptr(int64(99))}, // not a member
	}
	for _, in := range bad {
		if _, err := w.quality.CreateTask(w.ctx, w.p.ID, members, in); err == nil {
			t.Errorf("%+v: want a validation error", in)
		}
	}
	task, err := w.quality.CreateTask(w.ctx, w.p.ID, members, quality.TaskInput{Title: ptr("Fix duplicate logins"), IssueCode: ptr(quality.IssueDuplicateLogin),
		AssigneeID: ptr(me), DueDate: ptr("2026-04-01")})
	if err != nil {
		t.Fatal(err)
	}
	if task.Status != quality.TaskOpen {
		t.Fatalf("status = %s", task.Status)
	}
	if _, err := w.quality.UpdateTask(w.ctx, w.p.ID, task.ID, task.Version, members, quality.TaskInput{Status: ptr(quality.TaskDone)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.quality.UpdateTask(w.ctx, w.p.ID, task.ID, task.Version, members, quality.TaskInput{Status: ptr(quality.TaskWontFix)}); err == nil {
		t.Fatal("a stale version must be refused")
	}
	tasks, _ := w.quality.FindTasks(w.ctx, w.p.ID)
	if len(tasks) != 1 || tasks[0].Status != quality.TaskDone {
		t.Fatalf("tasks = %+v", tasks)
	}
}

func ptr[T any](v T) *T { return &v }

// A value from a field whose personal-data status is undecided (and for
// which nothing was suggested) is masked, as the records page masks it;
// once the field is decided not personal, the next run shows it.
func TestUndecidedFieldsAreMaskedUntilDecidedNotPersonal(t *testing.T) {
	w := newWorld(t)
	rec := person(2, "E1", "ok@example.com", "A", "B", "US")
	rec.Attributes["site"] = []string{"Narnia"}
	w.stage(t, rec)
	fields, _ := w.mapping.FindFields(w.ctx, w.p.ID, w.src.ID)
	var site *mapping.SourceField
	for i := range fields {
		if fields[i].Name == "site" {
			site = &fields[i]
		}
	}
	if site == nil || site.PII != mapping.PIIUnknown || site.PIISuggestion != "" {
		t.Fatalf("site field = %+v", site)
	}
	target := "countryCode"
	if _, err := w.mapping.CreateRow(w.ctx, w.p.ID, mapping.RowInput{SourceFieldID: &site.ID, TargetAttribute: &target}); err != nil {
		t.Fatal(err)
	}
	shown := func() string {
		t.Helper()
		run, err := w.quality.Validate(w.ctx, w.p.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		occ, _ := w.quality.FindOccurrences(w.ctx, quality.OccurrenceFilter{RunID: run.ID, Code: quality.IssueBadCountryCode})
		if len(occ) != 1 {
			t.Fatalf("country occurrences = %+v", occ)
		}
		return occ[0].Value
	}
	if v := shown(); v == "Narnia" {
		t.Fatalf("an undecided field's value is shown: %q", v)
	}
	no := mapping.PIINo
	if _, err := w.mapping.UpdateField(w.ctx, w.p.ID, site.ID, site.Version, mapping.FieldInput{PII: &no}); err != nil {
		t.Fatal(err)
	}
	if v := shown(); v != "Narnia" {
		t.Fatalf("a field decided not personal is masked: %q", v)
	}
}

// A run a crash left running is closed at start-up, its occurrences removed.
func TestRunsLeftRunningByACrashAreMarkedFailed(t *testing.T) {
	w := newWorld(t)
	w.stage(t, person(2, "E1", "bad", "A", "B", "US"))
	w.mapAll(t)
	run, err := w.quality.Validate(w.ctx, w.p.ID, nil)
	if err != nil || run.Occurrences == 0 {
		t.Fatalf("run %+v %v", run, err)
	}
	// As if Ferry had died before the end of the run.
	if err := w.db.Write.Model(&quality.Run{}).Where("id = ?", run.ID).Update("status", quality.RunRunning).Error; err != nil {
		t.Fatal(err)
	}
	n, err := w.quality.MarkInterrupted(w.ctx)
	if err != nil || n != 1 {
		t.Fatalf("marked %d (%v), want 1", n, err)
	}
	var after quality.Run
	if err := w.db.Read.First(&after, run.ID).Error; err != nil || after.Status != quality.RunFailed || after.Error == "" || after.FinishedAt == nil {
		t.Fatalf("run after = %+v (%v)", after, err)
	}
	if occ, _ := w.quality.FindOccurrences(w.ctx, quality.OccurrenceFilter{RunID: run.ID}); len(occ) != 0 {
		t.Fatalf("%d occurrences left", len(occ))
	}
	if n, err := w.quality.MarkInterrupted(w.ctx); err != nil || n != 0 {
		t.Fatalf("second call marked %d (%v)", n, err)
	}
}
