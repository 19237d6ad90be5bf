package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/logging"
)

// Defaults for the zero fields of Options.
const (
	DefaultWorkers       = 2
	DefaultFlushInterval = 500 * time.Millisecond
	// cancelWait is how long Cancel waits for a running job to stop, so that
	// its answer usually shows the job cancelled rather than stopping.
	cancelWait = 10 * time.Second
)

// Work is what a job does. It reports its progress through p and must
// return soon after ctx is done. The outcome's message is what a person
// reads when the job succeeded; an error's message (an *apperr.Error's, safe
// to show) is what they read when it failed.
type Work func(ctx context.Context, p *Progress) (Outcome, error)

// Outcome is what a job that succeeded says and produced.
type Outcome struct {
	Message string
	Result  Result
}

// Spec describes a job to submit.
type Spec struct {
	ProjectID int64
	// SourceID is the source a staging job stages into (0: none).
	SourceID int64
	Kind     string
	Params   Params
	// InputFile is a file the job reads; the runner removes it when the job
	// ends in any way (and keeps it while the job may still be resumed).
	InputFile string
}

// Options configure a Runner.
type Options struct {
	// Workers is how many jobs run at once (DefaultWorkers when 0).
	Workers int
	// FlushInterval is the most often a running job's progress is written
	// to its row (DefaultFlushInterval when 0).
	FlushInterval time.Duration
	// Now is the clock of the jobs' timestamps.
	Now    func() time.Time
	Logger *slog.Logger
	// Staging, Quality and OpenDirectory do the work of the kinds Ferry
	// runs (see work.go); a nil one makes its kinds unavailable.
	Staging       Stager
	Quality       Validator
	OpenDirectory DirectoryOpener
	// Confirmer reads the migration program's users back from Okta
	// (KindConfirmImports); nil makes the kind unavailable.
	Confirmer ImportConfirmer
	// SpoolDir holds the files uploads are spooled to (see UploadDir):
	// Recover removes those that no job needs any more.
	SpoolDir string
}

// Runner executes jobs on a bounded pool of workers.
type Runner struct {
	db   *db.DB
	opts Options
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*task
	tasks   map[int64]*task // queued and running jobs this runner holds
	started bool
	closed  bool
	wg      sync.WaitGroup
}

// task is a job held in memory: its work and how to stop it.
type task struct {
	job    Job
	work   Work
	ctx    context.Context
	cancel context.CancelCauseFunc
	// running is set once a worker has taken the task.
	running bool
	// cancelledBy names the person who cancelled it.
	cancelledBy string
	done        chan struct{}
}

// Why a job's context was cancelled.
var (
	errShutdown  = errors.New("ferry is stopping")
	errCancelled = errors.New("cancelled by a person")
)

// NewRunner returns a runner; call Recover, then Start.
func NewRunner(database *db.DB, opts Options) *Runner {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.OpenDirectory == nil {
		opts.OpenDirectory = openLDAP
	}
	r := &Runner{db: database, opts: opts, log: opts.Logger.With(slog.String("component", "jobs")), now: opts.Now, tasks: map[int64]*task{}}
	r.cond = sync.NewCond(&r.mu)
	return r
}

// Start launches the workers. Jobs submitted before wait in the queue.
func (r *Runner) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || r.closed {
		return
	}
	r.started = true
	for range r.opts.Workers {
		r.wg.Add(1)
		go r.worker()
	}
}

// Shutdown stops the workers: running jobs are cancelled and left to be
// resumed at the next start when they can be (marked interrupted otherwise);
// queued ones stay queued. It returns once every worker has stopped, or
// when ctx is done.
func (r *Runner) Shutdown(ctx context.Context) error {
	r.mu.Lock()
	r.closed = true
	for _, t := range r.tasks {
		t.cancel(errShutdown)
	}
	r.cond.Broadcast()
	r.mu.Unlock()
	stopped := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Submit records a job as queued and hands its work to the pool. At most one
// job per source stages at a time, and one validation per project: another
// one is refused with a conflict naming the job that is active.
func (r *Runner) Submit(ctx context.Context, spec Spec, work Work) (*Job, error) {
	if spec.ProjectID == 0 || spec.Kind == "" || work == nil {
		return nil, apperr.Internal(fmt.Errorf("jobs: incomplete job %+v", spec))
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, apperr.Conflict("Ferry is stopping: start the job again once it is back.")
	}
	actor := audit.ActorFrom(ctx)
	now := r.now().UTC()
	j := &Job{ProjectID: spec.ProjectID, Kind: spec.Kind, Status: StatusQueued, LockKey: lockKey(spec.Kind, spec.SourceID),
		Params: spec.Params, InputFile: spec.InputFile, Message: "Waiting for a free worker.", CreatedByName: actor.Name,
		CreatedAt: now, UpdatedAt: now}
	if spec.SourceID != 0 {
		sid := spec.SourceID
		j.SourceID = &sid
	}
	if actor.ID != 0 {
		id := actor.ID
		j.CreatedByID = &id
	}
	err := r.db.Transaction(ctx, func(tx *gorm.DB) error {
		if j.LockKey != "" {
			active, err := activeWithLock(tx, j.ProjectID, j.LockKey)
			if err != nil {
				return err
			}
			if active != nil {
				return busy(active)
			}
		}
		return tx.Create(j).Error
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Another submit won the race between the check and the insert.
		if active, _ := activeWithLock(r.db.Read.WithContext(ctx), j.ProjectID, j.LockKey); active != nil {
			err = busy(active)
		}
	}
	if err != nil {
		return nil, wrap(err)
	}
	r.enqueue(j, actor, work)
	return j, nil
}

func activeWithLock(tx *gorm.DB, projectID int64, key string) (*Job, error) {
	var active Job
	err := tx.Where("project_id = ? AND lock_key = ? AND status IN ?", projectID, key, []string{StatusQueued, StatusRunning}).
		Order("id").First(&active).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &active, nil
}

// busy refuses a job because another one on the same subject is active.
func busy(active *Job) error {
	how := "started"
	if active.Status == StatusQueued {
		how = "queued"
	}
	who := ""
	if active.CreatedByName != "" {
		who = " by " + active.CreatedByName
	}
	return apperr.Conflict(fmt.Sprintf("Job %d is already %s (%s%s): wait for it to finish, or cancel it, then try again.",
		active.ID, active.Label(), how, who))
}

// enqueue puts a recorded job in the queue.
func (r *Runner) enqueue(j *Job, actor audit.Actor, work Work) {
	// The job's own context: not the request's, which ends with the answer.
	// Its changes are attributed to the person who submitted it, and its log
	// lines carry "job-ID" where a request's carry the request id.
	ctx := audit.WithActor(logging.WithRequestID(context.Background(), fmt.Sprintf("job-%d", j.ID)), actor)
	ctx, cancel := context.WithCancelCause(ctx)
	t := &task{job: *j, work: work, ctx: ctx, cancel: cancel, done: make(chan struct{})}
	r.mu.Lock()
	r.tasks[j.ID] = t
	r.queue = append(r.queue, t)
	if r.closed {
		cancel(errShutdown)
	}
	r.cond.Signal()
	r.mu.Unlock()
}

func (r *Runner) worker() {
	defer r.wg.Done()
	for {
		t := r.next()
		if t == nil {
			return
		}
		r.run(t)
	}
}

// next waits for a queued task; nil once the runner is closed.
func (r *Runner) next() *task {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.queue) == 0 && !r.closed {
		r.cond.Wait()
	}
	if r.closed {
		return nil
	}
	t := r.queue[0]
	r.queue = r.queue[1:]
	t.running = true
	return t
}

// bookkeeping is a context for the runner's own writes: not the job's,
// which may have been cancelled.
func bookkeeping() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func (r *Runner) run(t *task) {
	defer r.forget(t)
	id := t.job.ID
	ctx, cancel := bookkeeping()
	now := r.now().UTC()
	res := r.db.Write.WithContext(ctx).Model(&Job{}).Where("id = ? AND status = ?", id, StatusQueued).
		Updates(map[string]any{"status": StatusRunning, "started_at": now, "updated_at": now, "message": "Started.", "done": 0, "total": 0, "error": ""})
	cancel()
	if res.Error != nil || res.RowsAffected == 0 {
		// Cancelled (or deleted with its project) before it could start.
		if res.Error != nil {
			r.log.ErrorContext(t.ctx, "start a job", slog.Int64("job", id), slog.Any("error", res.Error))
		}
		r.removeInput(t.job)
		return
	}
	r.log.InfoContext(t.ctx, "job started", slog.Int64("job", id), slog.String("kind", t.job.Kind), slog.Int64("project", t.job.ProjectID))

	p := &Progress{}
	stop, flushed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(flushed)
		tick := time.NewTicker(r.opts.FlushInterval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				r.flush(id, p)
			}
		}
	}()
	out, err := r.safely(t, p)
	close(stop)
	<-flushed
	r.finish(t, p, out, err)
}

// safely runs the work, turning a panic into an internal error: one broken
// job must not take the console down.
func (r *Runner) safely(t *task, p *Progress) (out Outcome, err error) {
	defer func() {
		if v := recover(); v != nil {
			r.log.ErrorContext(t.ctx, "job panicked", slog.Int64("job", t.job.ID), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			err = apperr.Internal(fmt.Errorf("panic: %v", v))
		}
	}()
	return t.work(t.ctx, p)
}

// flush writes the job's progress, if it changed.
func (r *Runner) flush(id int64, p *Progress) {
	done, total, note, changed := p.take()
	if !changed {
		return
	}
	upd := map[string]any{"done": done, "total": total, "updated_at": r.now().UTC()}
	if note != "" {
		upd["message"] = note
	}
	ctx, cancel := bookkeeping()
	defer cancel()
	if err := r.db.Write.WithContext(ctx).Model(&Job{}).Where("id = ? AND status = ?", id, StatusRunning).Updates(upd).Error; err != nil {
		r.log.WarnContext(ctx, "write a job's progress", slog.Int64("job", id), slog.Any("error", err))
	}
}

// finish records how the job ended.
func (r *Runner) finish(t *task, p *Progress, out Outcome, workErr error) {
	j := t.job
	done, total, _, _ := p.take()
	now := r.now().UTC()
	upd := map[string]any{"done": done, "total": total, "updated_at": now, "finished_at": now}
	cause := context.Cause(t.ctx)
	r.mu.Lock()
	by := t.cancelledBy
	r.mu.Unlock()
	switch {
	case workErr == nil:
		// Done, even if a cancel arrived too late to stop it: the work is there.
		upd["status"], upd["message"] = StatusSucceeded, out.Message
		b, _ := json.Marshal(out.Result)
		upd["result_json"] = string(b)
	case errors.Is(cause, errShutdown) && resumable(j):
		upd["status"], upd["message"] = StatusQueued, "Ferry stopped before this job finished; it runs again from the start when Ferry is back."
		upd["started_at"], upd["finished_at"], upd["done"], upd["total"] = nil, nil, 0, 0
	case errors.Is(cause, errShutdown):
		msg := interruptedMessage(j)
		upd["status"], upd["message"], upd["error"] = StatusInterrupted, msg, msg
	case by != "" || errors.Is(cause, errCancelled):
		upd["status"], upd["message"] = StatusCancelled, cancelledMessage(j, by)
	default:
		msg := r.failure(t, workErr)
		upd["status"], upd["message"], upd["error"] = StatusFailed, msg, msg
	}
	ctx, cancel := bookkeeping()
	defer cancel()
	if err := r.db.Write.WithContext(ctx).Model(&Job{}).Where("id = ? AND status = ?", j.ID, StatusRunning).Updates(upd).Error; err != nil {
		r.log.ErrorContext(t.ctx, "record a job's end", slog.Int64("job", j.ID), slog.Any("error", err))
	}
	r.log.InfoContext(t.ctx, "job ended", slog.Int64("job", j.ID), slog.String("kind", j.Kind), slog.Any("status", upd["status"]))
	if upd["status"] != StatusQueued {
		r.removeInput(j)
	}
}

// failure is the message of a failed job: an application error's own
// message, or a reference to the log for anything else.
func (r *Runner) failure(t *task, err error) string {
	ae := apperr.As(err)
	if ae.Code == apperr.CodeInternal {
		r.log.ErrorContext(t.ctx, "job failed", slog.Int64("job", t.job.ID), slog.String("kind", t.job.Kind), slog.Any("error", err))
		return fmt.Sprintf("Something went wrong (reference: job-%d).", t.job.ID)
	}
	return ae.Detail()
}

// forget drops a task that has ended.
func (r *Runner) forget(t *task) {
	r.mu.Lock()
	if r.tasks[t.job.ID] == t {
		delete(r.tasks, t.job.ID)
	}
	r.mu.Unlock()
	t.cancel(context.Canceled)
	close(t.done)
}

// removeInput deletes the file a job read, once nothing needs it.
func (r *Runner) removeInput(j Job) {
	if j.InputFile == "" {
		return
	}
	if err := os.Remove(j.InputFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.log.Warn("remove a job's input file", slog.Int64("job", j.ID), slog.Any("error", err))
	}
}

// Cancel stops a job: a queued one is cancelled at once, a running one is
// told to stop (its work's context is cancelled) and is cancelled when its
// work returns, which Cancel waits a little for. The cancellation is
// recorded in the audit log with who asked for it. A job that has ended
// already is refused with a conflict.
func (r *Runner) Cancel(ctx context.Context, projectID, id int64) (*Job, error) {
	j, err := r.FindJob(ctx, projectID, id)
	if err != nil {
		return nil, err
	}
	if !j.Active() {
		return nil, apperr.Conflict(fmt.Sprintf("Job %d (%s) has already ended (%s): there is nothing to cancel.", j.ID, j.Label(), j.Status))
	}
	actor := audit.ActorFrom(ctx)
	change := audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "job", EntityID: j.ID, Label: j.Label(),
		Before: map[string]any{"status": j.Status}, After: map[string]any{"status": StatusCancelled}}

	r.mu.Lock()
	t := r.tasks[id]
	if t != nil && t.running {
		first := t.cancelledBy == ""
		if first {
			t.cancelledBy = actor.Name
			t.cancel(errCancelled)
		}
		r.mu.Unlock()
		if first {
			err := r.db.Transaction(ctx, func(tx *gorm.DB) error {
				if err := tx.Model(&Job{}).Where("id = ? AND status = ?", id, StatusRunning).
					Updates(map[string]any{"message": "Stopping: cancelled by " + actor.Name + ".", "updated_at": r.now().UTC()}).Error; err != nil {
					return err
				}
				return audit.Record(ctx, tx, change)
			})
			if err != nil {
				return nil, wrap(err)
			}
		}
		wait := time.NewTimer(cancelWait)
		defer wait.Stop()
		select {
		case <-t.done:
		case <-wait.C:
		case <-ctx.Done():
		}
		return r.FindJob(ctx, projectID, id)
	}
	// Queued here, or active in the database only (left by another process):
	// cancelled at once.
	if t != nil {
		r.dequeue(t)
	}
	r.mu.Unlock()
	now := r.now().UTC()
	var changed int64
	err = r.db.Transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Job{}).Where("id = ? AND status IN ?", id, []string{StatusQueued, StatusRunning}).
			Updates(map[string]any{"status": StatusCancelled, "message": cancelledMessage(*j, actor.Name), "finished_at": now, "updated_at": now})
		if res.Error != nil || res.RowsAffected == 0 {
			changed = res.RowsAffected
			return res.Error
		}
		changed = res.RowsAffected
		return audit.Record(ctx, tx, change)
	})
	if err != nil || changed == 0 {
		if t != nil {
			// Not cancelled after all: back to the head of the queue.
			r.mu.Lock()
			r.queue = append([]*task{t}, r.queue...)
			r.cond.Signal()
			r.mu.Unlock()
		}
		if err != nil {
			return nil, wrap(err)
		}
		return r.Cancel(ctx, projectID, id) // it changed meanwhile: answer for its new state
	}
	r.removeInput(*j)
	if t != nil {
		r.forget(t)
	}
	return r.FindJob(ctx, projectID, id)
}

// dequeue takes a task out of the queue; r.mu is held.
func (r *Runner) dequeue(t *task) {
	for i, q := range r.queue {
		if q == t {
			r.queue = append(r.queue[:i], r.queue[i+1:]...)
			return
		}
	}
}

// FindJob returns one of the project's jobs.
func (r *Runner) FindJob(ctx context.Context, projectID, id int64) (*Job, error) {
	var j Job
	err := r.db.Read.WithContext(ctx).Where("id = ? AND project_id = ?", id, projectID).First(&j).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound("job")
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return &j, nil
}

// Filter selects a project's jobs.
type Filter struct {
	// SourceID keeps the jobs of one source.
	SourceID int64
	// Kinds keeps the jobs of these kinds.
	Kinds []string
	// Active keeps queued and running jobs.
	Active bool
	// Limit is the most returned (100 when 0, at most 1,000).
	Limit int
}

// FindJobs lists a project's jobs, newest first.
func (r *Runner) FindJobs(ctx context.Context, projectID int64, f Filter) ([]Job, error) {
	q := r.db.Read.WithContext(ctx).Where("project_id = ?", projectID)
	if f.SourceID != 0 {
		q = q.Where("source_id = ?", f.SourceID)
	}
	if len(f.Kinds) > 0 {
		q = q.Where("kind IN ?", f.Kinds)
	}
	if f.Active {
		q = q.Where("status IN ?", []string{StatusQueued, StatusRunning})
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var out []Job
	if err := q.Order("id DESC").Limit(min(f.Limit, 1000)).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return apperr.Internal(err)
}
