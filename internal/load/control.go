package load

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// Pause asks the run to stop sending after the requests in flight; it can
// be resumed. A queued run is paused at once.
func (s *Service) Pause(ctx context.Context, projectID, runID int64) (*Run, error) {
	return s.control(ctx, projectID, runID, "pause", func(tx *gorm.DB, r *Run) error {
		switch r.Status {
		case StatusQueued:
			return tx.Model(r).Updates(map[string]any{"status": StatusPaused, "message": "Paused before it started.", "updated_at": s.now().UTC()}).Error
		case StatusRunning:
			return tx.Model(r).Updates(map[string]any{"requested": RequestPause, "message": "Pausing after the requests in flight…", "updated_at": s.now().UTC()}).Error
		}
		return apperr.Conflict(r.Label() + " is " + r.Status + ": only a queued or running run can be paused.")
	})
}

// Resume queues a paused run again; the caller launches it.
func (s *Service) Resume(ctx context.Context, projectID, runID int64) (*Run, error) {
	return s.control(ctx, projectID, runID, "resume", func(tx *gorm.DB, r *Run) error {
		if r.Status != StatusPaused && r.Status != StatusFailed {
			return apperr.Conflict(r.Label() + " is " + r.Status + ": only a paused or failed run can be resumed.")
		}
		if !r.Sandbox && r.Kind != KindRollback {
			gate, err := s.deps.Gate.LoadGate(tx.Statement.Context, r.ProjectID, false)
			if err != nil {
				return err
			}
			if !gate.Open {
				return apperr.Conflict("The legal gate is closed: " + joinReasons(gate.Reasons))
			}
		}
		return tx.Model(r).Updates(map[string]any{"status": StatusQueued, "requested": RequestNone, "finished_at": nil,
			"message": "Resumed: waiting to start.", "updated_at": s.now().UTC()}).Error
	})
}

// Cancel stops a run for good: users in flight are looked up, those not
// sent are recorded as skipped. The caller launches a queued run to settle.
func (s *Service) Cancel(ctx context.Context, projectID, runID int64) (*Run, error) {
	return s.control(ctx, projectID, runID, "cancel", func(tx *gorm.DB, r *Run) error {
		switch r.Status {
		case StatusRunning:
			return tx.Model(r).Updates(map[string]any{"requested": RequestCancel, "message": "Cancelling…", "updated_at": s.now().UTC()}).Error
		case StatusQueued, StatusPaused, StatusFailed:
			return tx.Model(r).Updates(map[string]any{"status": StatusQueued, "requested": RequestCancel, "message": "Cancelling…", "updated_at": s.now().UTC()}).Error
		}
		return apperr.Conflict(r.Label() + " is " + r.Status + ": there is nothing to cancel.")
	})
}

func joinReasons(rs []string) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += " "
		}
		out += r
	}
	return out
}

func (s *Service) control(ctx context.Context, projectID, runID int64, action string, fn func(tx *gorm.DB, r *Run) error) (*Run, error) {
	var out Run
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("project_id = ? AND id = ?", projectID, runID).First(&out).Error; err != nil {
			return err
		}
		if err := fn(tx, &out); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "load_run",
			EntityID: runID, Label: out.Label() + ": " + action, After: map[string]any{"action": action}})
	})
	if err != nil {
		// apperr.As never returns nil: look for a missing run first.
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, apperr.NotFound("run")
		}
		return nil, apperr.As(err)
	}
	return s.FindRun(ctx, projectID, runID)
}

// Runner runs loads in the console's process: it launches runs, and a
// watcher resumes queued runs and takes over those whose owner died (its
// lease ran out), but never a run a live `ferry load` owns.
type Runner struct {
	s       *Service
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.Mutex
	running map[int64]bool
	wg      sync.WaitGroup
	// Every is how often the watcher looks for runs to take (15 s).
	Every time.Duration
}

// NewRunner returns a runner; Start begins its watcher.
func NewRunner(s *Service, log *slog.Logger) *Runner {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{s: s, log: log, ctx: ctx, cancel: cancel, running: map[int64]bool{}, Every: 15 * time.Second}
}

// Start runs the watcher until Stop.
func (r *Runner) Start() {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.sweep()
		t := time.NewTicker(r.Every)
		defer t.Stop()
		for {
			select {
			case <-r.ctx.Done():
				return
			case <-t.C:
				r.sweep()
			}
		}
	}()
}

// sweep launches every queued run and every running run whose lease ran out.
func (r *Runner) sweep() {
	var ids []int64
	now := r.s.now().UTC()
	err := r.s.db.Read.WithContext(r.ctx).Model(&Run{}).
		Where("status = ? OR (status = ? AND (lease_until IS NULL OR lease_until < ?))", StatusQueued, StatusRunning, now).
		Order("id").Pluck("id", &ids).Error
	if err != nil {
		if r.ctx.Err() == nil {
			r.log.Warn("looking for load runs to resume failed", "error", err)
		}
		return
	}
	for _, id := range ids {
		r.Launch(id)
	}
}

// Launch works on a run in the background unless this process already does.
func (r *Runner) Launch(runID int64) {
	r.mu.Lock()
	if r.running[runID] || r.ctx.Err() != nil {
		r.mu.Unlock()
		return
	}
	r.running[runID] = true
	r.wg.Add(1)
	r.mu.Unlock()
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			delete(r.running, runID)
			r.mu.Unlock()
		}()
		ctx := audit.WithActor(r.ctx, audit.System)
		if err := r.s.Execute(ctx, runID, ExecOptions{}); err != nil && r.ctx.Err() == nil {
			r.log.Info("load run stopped", "run", runID, "error", err)
		}
	}()
}

// Busy reports whether this process works on the run now.
func (r *Runner) Busy(runID int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running[runID]
}

// Stop cancels every run this process works on (each keeps its state and
// is resumed by the next start) and waits for them.
func (r *Runner) Stop() {
	r.cancel()
	r.wg.Wait()
}
