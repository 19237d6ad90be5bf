package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract"
)

// world is a project with two sources, the real staging and quality
// services, and a spool directory.
type world struct {
	db      *db.DB
	clock   *dbtest.Clock
	staging *staging.Service
	quality *quality.Service
	ctx     context.Context // as the engineer
	other   context.Context // as another member
	p, q    *plan.Project
	src     *plan.Source
	src2    *plan.Source
	spool   string
	logger  *slog.Logger
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	authSvc := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	planSvc := plan.NewService(d, authSvc)
	schemaSvc := schema.NewService(d)
	mappingSvc := mapping.NewService(d, schemaSvc, planSvc)
	privacySvc := privacy.NewService(d, mappingSvc, planSvc, clock.Now)
	stagingSvc := staging.NewService(d, clock.Now, mappingSvc)
	w := &world{db: d, clock: clock, staging: stagingSvc, quality: quality.NewService(d, mappingSvc, stagingSvc, privacySvc, clock.Now),
		spool: filepath.Join(t.TempDir(), "uploads"), logger: slog.New(slog.DiscardHandler)}
	if err := os.MkdirAll(w.spool, 0o700); err != nil {
		t.Fatal(err)
	}
	eng, err := authSvc.CreateAccount(context.Background(), auth.AccountInput{Email: "eve@example.com", Name: "Eve Engineer", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	w.ctx = audit.WithActor(context.Background(), audit.Actor{ID: eng.ID, Name: eng.Name})
	w.other = audit.WithActor(context.Background(), audit.Actor{ID: eng.ID, Name: "Carl Canceller"})
	mk := func(name string) *plan.Project {
		p, err := planSvc.CreateProject(w.ctx, eng.ID, plan.ProjectInput{Name: &name})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	w.p, w.q = mk("Acme"), mk("Other Co")
	src := func(name string) *plan.Source {
		kind := "hr_system"
		s, err := planSvc.CreateSource(w.ctx, w.p.ID, plan.SourceInput{Name: &name, Kind: &kind})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	w.src, w.src2 = src("HR export"), src("Corporate AD")
	return w
}

// runner returns a started runner on the world's database, shut down when the test ends.
func (w *world) runner(t *testing.T, opts jobs.Options) *jobs.Runner {
	t.Helper()
	opts.Now, opts.Logger, opts.SpoolDir = w.clock.Now, w.logger, w.spool
	if opts.Staging == nil {
		opts.Staging = w.staging
	}
	if opts.Quality == nil {
		opts.Quality = w.quality
	}
	r := jobs.NewRunner(w.db, opts)
	r.Start()
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return r
}

// spoolFile writes an upload into the spool directory, as the console does.
func (w *world) spoolFile(t *testing.T, content string) string {
	t.Helper()
	f, err := os.CreateTemp(w.spool, jobs.SpoolPattern)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(f, content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// waitFor polls the job until cond holds. The deadline is generous: it
// guards against a hang, it is not an expectation of speed.
func waitFor(t *testing.T, r *jobs.Runner, projectID, id int64, what string, cond func(jobs.Job) bool) jobs.Job {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		j, err := r.FindJob(context.Background(), projectID, id)
		if err != nil {
			t.Fatalf("find job %d: %v", id, err)
		}
		if cond(*j) {
			return *j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d never got %s: %+v", id, what, j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ended(t *testing.T, r *jobs.Runner, projectID, id int64) jobs.Job {
	t.Helper()
	return waitFor(t, r, projectID, id, "to an end", func(j jobs.Job) bool { return !j.Active() })
}

// blocker is work that runs until released or cancelled.
type blocker struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
	// sawCancel is closed when the work's context was done.
	sawCancel chan struct{}
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}), release: make(chan struct{}), sawCancel: make(chan struct{})}
}

func (b *blocker) work(ctx context.Context, p *jobs.Progress) (jobs.Outcome, error) {
	close(b.started)
	select {
	case <-b.release:
		return jobs.Outcome{Message: "Released."}, nil
	case <-ctx.Done():
		close(b.sawCancel)
		return jobs.Outcome{}, apperr.Invalid("Stopped.", nil)
	}
}

func (b *blocker) free() { b.once.Do(func() { close(b.release) }) }

func auditEntries(t *testing.T, w *world, entity string, id int64) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	if err := w.db.Read.Where("entity_type = ? AND entity_id = ?", entity, id).Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func TestASubmittedJobRunsAndRecordsItsOutcome(t *testing.T) {
	w := newWorld(t)
	r := w.runner(t, jobs.Options{})
	j, err := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, Kind: jobs.KindValidate}, func(ctx context.Context, p *jobs.Progress) (jobs.Outcome, error) {
		if got := audit.ActorFrom(ctx).Name; got != "Eve Engineer" {
			return jobs.Outcome{}, fmt.Errorf("the work runs as %q, want the submitter", got)
		}
		p.Set(3, 3)
		return jobs.Outcome{Message: "All done.", Result: jobs.Result{ValidationRunID: 42}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != jobs.StatusQueued || j.CreatedByName != "Eve Engineer" || j.ID == 0 {
		t.Fatalf("submitted job %+v", j)
	}
	got := ended(t, r, w.p.ID, j.ID)
	if got.Status != jobs.StatusSucceeded || got.Message != "All done." || got.Result.ValidationRunID != 42 || got.Done != 3 || got.Total != 3 ||
		got.StartedAt == nil || got.FinishedAt == nil || got.Error != "" {
		t.Fatalf("finished job %+v", got)
	}

	// A job whose work fails says why; an internal failure names a reference only.
	fail, _ := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, Kind: "other"}, func(context.Context, *jobs.Progress) (jobs.Outcome, error) {
		return jobs.Outcome{}, apperr.Invalid("The file is not a CSV file.", nil)
	})
	if got := ended(t, r, w.p.ID, fail.ID); got.Status != jobs.StatusFailed || got.Error != "The file is not a CSV file." || got.Message != got.Error {
		t.Errorf("failed job %+v", got)
	}
	broken, _ := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, Kind: "other"}, func(context.Context, *jobs.Progress) (jobs.Outcome, error) {
		return jobs.Outcome{}, errors.New("disk on fire at /var/secret/path")
	})
	if got := ended(t, r, w.p.ID, broken.ID); got.Status != jobs.StatusFailed || strings.Contains(got.Error, "secret") ||
		got.Error != fmt.Sprintf("Something went wrong (reference: job-%d).", broken.ID) {
		t.Errorf("internal failure %+v", got)
	}
	panicky, _ := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, Kind: "other"}, func(context.Context, *jobs.Progress) (jobs.Outcome, error) {
		panic("a bug")
	})
	if got := ended(t, r, w.p.ID, panicky.ID); got.Status != jobs.StatusFailed {
		t.Errorf("a panicking job %+v", got)
	}

	// Jobs are listed newest first, and only within their project.
	list, err := r.FindJobs(w.ctx, w.p.ID, jobs.Filter{})
	if err != nil || len(list) != 4 || list[0].ID != panicky.ID {
		t.Fatalf("jobs of the project: %v %+v", err, list)
	}
	if list, _ := r.FindJobs(w.ctx, w.q.ID, jobs.Filter{}); len(list) != 0 {
		t.Errorf("another project lists %d jobs", len(list))
	}
	if _, err := r.FindJob(w.ctx, w.q.ID, j.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("a job found under another project: %v", err)
	}
}

func TestProgressIsWrittenToTheJobWhileItRuns(t *testing.T) {
	w := newWorld(t)
	r := w.runner(t, jobs.Options{FlushInterval: 20 * time.Millisecond})
	b := newBlocker()
	t.Cleanup(b.free)
	j, err := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, Kind: jobs.KindValidate}, func(ctx context.Context, p *jobs.Progress) (jobs.Outcome, error) {
		for i := int64(1); i <= 500; i++ {
			p.Set(i, 1000) // as often as the work likes: the runner writes the latest
		}
		p.Note("500 of 1,000 record(s) validated so far.")
		return b.work(ctx, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	running := waitFor(t, r, w.p.ID, j.ID, "its progress written", func(j jobs.Job) bool { return j.Done == 500 })
	if running.Status != jobs.StatusRunning || running.Total != 1000 || running.Message != "500 of 1,000 record(s) validated so far." {
		t.Fatalf("a running job's row %+v", running)
	}
	b.free()
	if got := ended(t, r, w.p.ID, j.ID); got.Status != jobs.StatusSucceeded || got.Done != 500 || got.Total != 1000 || got.Message != "Released." {
		t.Fatalf("finished %+v", got)
	}
}

func TestCancelStopsAQueuedJobAtOnceAndARunningOneWhenItsWorkReturns(t *testing.T) {
	w := newWorld(t)
	r := w.runner(t, jobs.Options{Workers: 1})
	running, waiting := newBlocker(), newBlocker()
	t.Cleanup(running.free)
	t.Cleanup(waiting.free)
	a, err := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, SourceID: w.src.ID, Kind: jobs.KindStageDirectory,
		Params: jobs.Params{URL: "ldap://dc1", SourceName: "HR export"}}, running.work)
	if err != nil {
		t.Fatal(err)
	}
	<-running.started
	input := w.spoolFile(t, "mail\na@example.com\n")
	bj, err := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, SourceID: w.src2.ID, Kind: jobs.KindStageFile, InputFile: input,
		Params: jobs.Params{FileName: "ad.csv", SourceName: "Corporate AD"}}, waiting.work)
	if err != nil {
		t.Fatal(err)
	}

	// Queued (the one worker is busy): cancelled at once, its file removed, its work never run.
	got, err := r.Cancel(w.other, w.p.ID, bj.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != jobs.StatusCancelled || got.FinishedAt == nil || !strings.Contains(got.Message, "Cancelled by Carl Canceller") {
		t.Fatalf("cancelled queued job %+v", got)
	}
	if _, err := os.Stat(input); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the cancelled job's spooled file is still there: %v", err)
	}
	select {
	case <-waiting.started:
		t.Error("the work of a job cancelled while queued ran")
	default:
	}

	// Running: its context is cancelled and it ends cancelled, not failed.
	if _, err := r.Cancel(w.other, w.p.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	<-running.sawCancel
	if got := ended(t, r, w.p.ID, a.ID); got.Status != jobs.StatusCancelled || got.Error != "" || !strings.Contains(got.Message, "Cancelled by Carl Canceller") {
		t.Fatalf("cancelled running job %+v", got)
	}

	// Both cancellations are in the audit log, with who asked.
	for _, id := range []int64{a.ID, bj.ID} {
		entries := auditEntries(t, w, "job", id)
		if len(entries) != 1 || entries[0].ActorName != "Carl Canceller" || entries[0].ProjectID == nil || *entries[0].ProjectID != w.p.ID ||
			!strings.Contains(entries[0].AfterJSON, `"cancelled"`) {
			t.Errorf("audit of the cancellation of job %d: %+v", id, entries)
		}
	}

	// An ended job cannot be cancelled; another project's job is not found.
	if _, err := r.Cancel(w.other, w.p.ID, a.ID); !apperr.Is(err, apperr.CodeConflict) || !strings.Contains(err.Error(), "already ended") {
		t.Errorf("cancel an ended job: %v", err)
	}
	if _, err := r.Cancel(w.other, w.q.ID, a.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Errorf("cancel through another project: %v", err)
	}
	if n := len(auditEntries(t, w, "job", a.ID)); n != 1 {
		t.Errorf("refused cancellations wrote %d audit entries", n-1)
	}

	// The worker is free again: the next job runs.
	done, err := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, Kind: "other"}, func(context.Context, *jobs.Progress) (jobs.Outcome, error) {
		return jobs.Outcome{Message: "ok"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ended(t, r, w.p.ID, done.ID); got.Status != jobs.StatusSucceeded {
		t.Errorf("the next job %+v", got)
	}
}

func TestOneStagingPerSourceAndOneValidationPerProject(t *testing.T) {
	w := newWorld(t)
	r := w.runner(t, jobs.Options{})
	b := newBlocker()
	t.Cleanup(b.free)
	first, err := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, SourceID: w.src.ID, Kind: jobs.KindStageDirectory,
		Params: jobs.Params{URL: "ldap://dc1", SourceName: "HR export"}}, b.work)
	if err != nil {
		t.Fatal(err)
	}
	input := w.spoolFile(t, "mail\na@example.com\n")
	_, err = r.StageFile(w.ctx, w.p.ID, jobs.StageFileInput{SourceID: w.src.ID, SourceName: "HR export", Path: input, FileName: "hr.csv"})
	if !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("a second staging of the source: %v", err)
	}
	want := fmt.Sprintf("Job %d is already pulling users from ldap://dc1 into HR export", first.ID)
	if msg := apperr.As(err).Message; !strings.Contains(msg, want) || !strings.Contains(msg, "Eve Engineer") {
		t.Errorf("refusal %q does not name the job that runs (want %q)", msg, want)
	}
	if _, err := os.Stat(input); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused staging left its spooled file behind")
	}
	// Another source stages meanwhile.
	other := w.spoolFile(t, "mail\na@example.com\n")
	j2, err := r.StageFile(w.ctx, w.p.ID, jobs.StageFileInput{SourceID: w.src2.ID, SourceName: "Corporate AD", Path: other, FileName: "ad.csv"})
	if err != nil {
		t.Fatalf("staging another source: %v", err)
	}
	if got := ended(t, r, w.p.ID, j2.ID); got.Status != jobs.StatusSucceeded {
		t.Fatalf("staging of the other source %+v", got)
	}

	// Validations: one at a time per project.
	vb := newBlocker()
	t.Cleanup(vb.free)
	v1, err := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, Kind: jobs.KindValidate}, vb.work)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Validate(w.ctx, w.p.ID); !apperr.Is(err, apperr.CodeConflict) || !strings.Contains(err.Error(), fmt.Sprintf("Job %d is already validating", v1.ID)) {
		t.Errorf("a second validation: %v", err)
	}
	if _, err := r.Validate(w.ctx, w.q.ID); !apperr.Is(err, apperr.CodeInvalid) || !strings.Contains(err.Error(), "Nothing to validate") {
		t.Errorf("validating a project with nothing staged: %v", err)
	}

	// Once the first ends, the source takes a new staging.
	b.free()
	ended(t, r, w.p.ID, first.ID)
	again := w.spoolFile(t, "mail\nb@example.com\n")
	j3, err := r.StageFile(w.ctx, w.p.ID, jobs.StageFileInput{SourceID: w.src.ID, SourceName: "HR export", Path: again, FileName: "hr.csv"})
	if err != nil {
		t.Fatalf("staging after the first ended: %v", err)
	}
	if got := ended(t, r, w.p.ID, j3.ID); got.Status != jobs.StatusSucceeded || got.Message != "Staged hr.csv: 1 record(s) from HR export. Validate the data to see its issues." ||
		got.Result.ExtractID == 0 {
		t.Errorf("staging after the first ended: %+v", got)
	}
	if _, err := os.Stat(again); !errors.Is(err, os.ErrNotExist) {
		t.Error("a finished staging left its spooled file behind")
	}
}

// gatedStager stages through the real service but holds the reader after
// the given number of records until the gate opens (or the job is cancelled).
type gatedStager struct {
	*staging.Service
	after   int
	reached chan struct{}
	gate    chan struct{}
}

func (g *gatedStager) Stage(ctx context.Context, projectID, sourceID int64, r extract.Reader, meta staging.Meta, progress staging.Progress) (*staging.Extract, error) {
	return g.Service.Stage(ctx, projectID, sourceID, &gatedReader{Reader: r, g: g, ctx: ctx}, meta, progress)
}

type gatedReader struct {
	extract.Reader
	g   *gatedStager
	ctx context.Context
	n   int
}

func (r *gatedReader) Next() (extract.Record, error) {
	if r.n == r.g.after {
		close(r.g.reached)
		select {
		case <-r.g.gate:
		case <-r.ctx.Done():
			return extract.Record{}, r.ctx.Err()
		}
	}
	r.n++
	return r.Reader.Next()
}

func hrFile(n int) string {
	var b strings.Builder
	b.WriteString("employeeID,mail\n")
	for i := range n {
		fmt.Fprintf(&b, "E%05d,user%d@example.com\n", i, i)
	}
	return b.String()
}

func TestAStagingLeftRunningByACrashIsStagedAgainAtTheNextStart(t *testing.T) {
	w := newWorld(t)
	// The first Ferry stages 12,000 rows and "crashes" after 10,000: its row
	// says running, and staging has written the first batches of records.
	gated := &gatedStager{Service: w.staging, after: 10000, reached: make(chan struct{}), gate: make(chan struct{})}
	crashed := jobs.NewRunner(w.db, jobs.Options{Now: w.clock.Now, Logger: w.logger, Staging: gated, Quality: w.quality, SpoolDir: w.spool})
	crashed.Start()
	// The crashed process never returns; at the end of the test its goroutine is let go.
	t.Cleanup(func() { _ = crashed.Shutdown(context.Background()) })
	input := w.spoolFile(t, hrFile(12000))
	j, err := crashed.StageFile(w.ctx, w.p.ID, jobs.StageFileInput{SourceID: w.src.ID, SourceName: "HR export", Path: input, FileName: "hr.csv",
		SizeBytes: int64(len(hrFile(12000))), Checksum: "abc123"})
	if err != nil {
		t.Fatal(err)
	}
	<-gated.reached
	all, err := w.staging.FindExtracts(w.ctx, w.p.ID, w.src.ID)
	if err != nil || len(all) != 1 || all[0].Status != staging.StatusLoading {
		t.Fatalf("half-staged extracts %+v %v", all, err)
	}
	half := all[0]
	// Staging writes its batches as it reads: some are written by now.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if recs, _ := w.staging.FindRecords(w.ctx, half.ID, 0, 10); len(recs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the crash left no partial records behind: the test does not test recovery")
		}
	}
	// A stray upload (a crash while receiving one) is in the spool too.
	stray := w.spoolFile(t, "half an upload")

	// The next start: unfinished extracts are discarded, then the jobs recovered.
	n, err := w.staging.DiscardUnfinished(context.Background())
	if err != nil || n != 1 {
		t.Fatalf("discard unfinished extracts: %d, %v", n, err)
	}
	all, _ = w.staging.FindExtracts(w.ctx, w.p.ID, w.src.ID)
	if all[0].Status != staging.StatusFailed || !strings.Contains(all[0].Error, "Ferry stopped") {
		t.Errorf("the half-staged extract after the restart: %+v", all[0])
	}
	if recs, _ := w.staging.FindRecords(w.ctx, half.ID, 0, 10); len(recs) != 0 {
		t.Errorf("%d records of the half-staged extract are left", len(recs))
	}
	next := jobs.NewRunner(w.db, jobs.Options{Now: w.clock.Now, Logger: w.logger, Staging: w.staging, Quality: w.quality, SpoolDir: w.spool})
	rec, err := next.Recover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Resumed) != 1 || rec.Resumed[0].ID != j.ID || len(rec.Interrupted) != 0 {
		t.Fatalf("recovery %+v", rec)
	}
	if _, err := os.Stat(stray); !errors.Is(err, os.ErrNotExist) {
		t.Error("a stray spooled upload survived the recovery")
	}
	queued, _ := next.FindJob(w.ctx, w.p.ID, j.ID)
	if queued.Status != jobs.StatusQueued || !strings.Contains(queued.Message, "Resumed after Ferry restarted") {
		t.Errorf("the recovered job before the workers start: %+v", queued)
	}
	next.Start()
	t.Cleanup(func() { _ = next.Shutdown(context.Background()) })
	got := ended(t, next, w.p.ID, j.ID)
	if got.Status != jobs.StatusSucceeded || !strings.HasPrefix(got.Message, "Staged hr.csv: 12,000 record(s) from HR export.") {
		t.Fatalf("the resumed staging %+v", got)
	}
	ex, err := w.staging.CurrentExtract(w.ctx, w.p.ID, w.src.ID)
	if err != nil || ex == nil || ex.ID != got.Result.ExtractID || ex.Records != 12000 || ex.Checksum != "abc123" || ex.CreatedByName != "Eve Engineer" {
		t.Fatalf("the extract staged after the restart %+v %v", ex, err)
	}
	if _, err := os.Stat(input); !errors.Is(err, os.ErrNotExist) {
		t.Error("the spooled upload is still there after its staging")
	}
}

func TestJobsThatCannotResumeAreMarkedInterruptedWithWhatToDo(t *testing.T) {
	w := newWorld(t)
	// A directory pull whose server hangs, and an upload whose spooled file
	// is lost, both left running by a crash; a validation left queued.
	opened := make(chan struct{})
	hang := func(ctx context.Context, cfg ldapextract.Config) (jobs.DirectoryReader, error) {
		close(opened)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	crashed := jobs.NewRunner(w.db, jobs.Options{Now: w.clock.Now, Logger: w.logger, Staging: w.staging, Quality: w.quality, OpenDirectory: hang, Workers: 1})
	crashed.Start()
	t.Cleanup(func() { _ = crashed.Shutdown(context.Background()) })
	pull, err := crashed.StageDirectory(w.ctx, w.p.ID, jobs.DirectoryInput{SourceID: w.src.ID, SourceName: "HR export", Config: ldapextract.Config{
		URL: "ldap://dc1.example.com", BindDN: "cn=reader,dc=example,dc=com", BindPassword: "s3cret-pass", BaseDN: "dc=example,dc=com"}})
	if err != nil {
		t.Fatal(err)
	}
	<-opened
	lost := w.spoolFile(t, "mail\na@example.com\n")
	upload, err := crashed.StageFile(w.ctx, w.p.ID, jobs.StageFileInput{SourceID: w.src2.ID, SourceName: "Corporate AD", Path: lost, FileName: "ad.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(lost); err != nil {
		t.Fatal(err)
	}
	// The password was never written anywhere in the database.
	var raw []string
	if err := w.db.Read.Raw("SELECT params_json FROM jobs").Scan(&raw).Error; err != nil {
		t.Fatal(err)
	}
	if joined := strings.Join(raw, " "); strings.Contains(joined, "s3cret-pass") || !strings.Contains(joined, "cn=reader") {
		t.Errorf("stored params %s", joined)
	}

	next := jobs.NewRunner(w.db, jobs.Options{Now: w.clock.Now, Logger: w.logger, Staging: w.staging, Quality: w.quality})
	rec, err := next.Recover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Interrupted) != 2 || len(rec.Resumed) != 0 {
		t.Fatalf("recovery %+v", rec)
	}
	got, _ := next.FindJob(w.ctx, w.p.ID, pull.ID)
	if got.Status != jobs.StatusInterrupted || got.FinishedAt == nil || !strings.Contains(got.Message, "The bind password is never stored") ||
		!strings.Contains(got.Message, "pull again") {
		t.Errorf("the interrupted pull %+v", got)
	}
	got, _ = next.FindJob(w.ctx, w.p.ID, upload.ID)
	if got.Status != jobs.StatusInterrupted || !strings.Contains(got.Message, "upload it again") {
		t.Errorf("the upload whose file is gone %+v", got)
	}
}

func TestAStopResumesWhatCanResumeAndInterruptsTheRest(t *testing.T) {
	w := newWorld(t)
	opened := make(chan struct{})
	hang := func(ctx context.Context, cfg ldapextract.Config) (jobs.DirectoryReader, error) {
		close(opened)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	r := jobs.NewRunner(w.db, jobs.Options{Now: w.clock.Now, Logger: w.logger, Staging: w.staging, Quality: w.quality, OpenDirectory: hang})
	r.Start()
	pull, err := r.StageDirectory(w.ctx, w.p.ID, jobs.DirectoryInput{SourceID: w.src.ID, SourceName: "HR export", Config: ldapextract.Config{
		URL: "ldaps://dc1.example.com", BaseDN: "dc=example,dc=com"}})
	if err != nil {
		t.Fatal(err)
	}
	<-opened
	b := newBlocker()
	check, err := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, Kind: jobs.KindValidate}, b.work)
	if err != nil {
		t.Fatal(err)
	}
	<-b.started
	if err := r.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.FindJob(w.ctx, w.p.ID, check.ID); got.Status != jobs.StatusQueued || got.StartedAt != nil {
		t.Errorf("a validation stopped by a shutdown %+v, want queued to run again", got)
	}
	if got, _ := r.FindJob(w.ctx, w.p.ID, pull.ID); got.Status != jobs.StatusInterrupted || !strings.Contains(got.Message, "pull again") {
		t.Errorf("a pull stopped by a shutdown %+v", got)
	}
	if _, err := r.Submit(w.ctx, jobs.Spec{ProjectID: w.p.ID, Kind: "other"}, b.work); !apperr.Is(err, apperr.CodeConflict) {
		t.Errorf("a job submitted to a stopped runner: %v", err)
	}
}

func TestDirectorySettingsAreCheckedFieldByField(t *testing.T) {
	w := newWorld(t)
	r := w.runner(t, jobs.Options{})
	_, err := r.StageDirectory(w.ctx, w.p.ID, jobs.DirectoryInput{SourceID: w.src.ID, Config: ldapextract.Config{
		URL: "http://dc1", BindDN: "cn=x", BaseDN: "not a dn", PageSize: 50000}})
	ae := apperr.As(err)
	if ae.Code != apperr.CodeInvalid {
		t.Fatalf("bad settings: %v", err)
	}
	for _, f := range []string{"url", "bind_password", "base_dn", "page_size"} {
		if ae.Fields[f] == "" {
			t.Errorf("no message for %s in %v", f, ae.Fields)
		}
	}
	if list, _ := r.FindJobs(w.ctx, w.p.ID, jobs.Filter{}); len(list) != 0 {
		t.Errorf("refused settings recorded %d job(s)", len(list))
	}
}
