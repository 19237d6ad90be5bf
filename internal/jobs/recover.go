package jobs

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// Recovery is what Recover did.
type Recovery struct {
	// Resumed jobs run again from the start.
	Resumed []Job
	// Interrupted jobs could not be resumed; their message says what to do.
	Interrupted []Job
}

// Recover deals with the jobs that a crash (or a stop) left queued or
// running: each one is queued again to run from the start when it can be (a
// staging whose spooled file is still there, a validation), or marked
// interrupted with a message that says what to do (a directory pull, whose
// bind password was never stored). Spooled uploads that no job needs any
// more are removed. Call it once at start-up, before serving and before
// Start: it assumes that no other Ferry process runs jobs on the database.
//
// Staging leaves the records of an extract it did not finish behind; call
// the staging service's DiscardUnfinished first.
func (r *Runner) Recover(ctx context.Context) (*Recovery, error) {
	var left []Job
	if err := r.db.Read.WithContext(ctx).Where("status IN ?", []string{StatusQueued, StatusRunning}).Order("id").Find(&left).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	rec := &Recovery{}
	keep := map[string]bool{}
	for _, j := range left {
		r.mu.Lock()
		_, held := r.tasks[j.ID]
		r.mu.Unlock()
		if held {
			keep[absPath(j.InputFile)] = true
			continue
		}
		now := r.now().UTC()
		work, why := r.work(j)
		if why != nil {
			msg := why.Error()
			res := r.db.Write.WithContext(ctx).Model(&Job{}).Where("id = ? AND status IN ?", j.ID, []string{StatusQueued, StatusRunning}).
				Updates(map[string]any{"status": StatusInterrupted, "message": msg, "error": msg, "finished_at": now, "updated_at": now})
			if res.Error != nil {
				return rec, apperr.Internal(res.Error)
			}
			r.removeInput(j)
			j.Status, j.Message, j.Error, j.FinishedAt = StatusInterrupted, msg, msg, &now
			rec.Interrupted = append(rec.Interrupted, j)
			r.log.WarnContext(ctx, "job interrupted by a restart", slog.Int64("job", j.ID), slog.String("kind", j.Kind))
			continue
		}
		msg := "Resumed after Ferry restarted: it runs again from the start."
		res := r.db.Write.WithContext(ctx).Model(&Job{}).Where("id = ? AND status IN ?", j.ID, []string{StatusQueued, StatusRunning}).
			Updates(map[string]any{"status": StatusQueued, "message": msg, "started_at": nil, "done": 0, "total": 0, "updated_at": now})
		if res.Error != nil {
			return rec, apperr.Internal(res.Error)
		}
		j.Status, j.Message, j.StartedAt, j.Done, j.Total = StatusQueued, msg, nil, 0, 0
		actor := audit.Actor{Name: j.CreatedByName}
		if j.CreatedByID != nil {
			actor.ID = *j.CreatedByID
		}
		keep[absPath(j.InputFile)] = true
		r.enqueue(&j, actor, work)
		rec.Resumed = append(rec.Resumed, j)
		r.log.InfoContext(ctx, "job resumed after a restart", slog.Int64("job", j.ID), slog.String("kind", j.Kind))
	}
	r.removeStraySpool(ctx, keep)
	return rec, nil
}

// removeStraySpool deletes spooled uploads that no active job reads: what an
// upload interrupted by a crash left behind.
func (r *Runner) removeStraySpool(ctx context.Context, keep map[string]bool) {
	if r.opts.SpoolDir == "" {
		return
	}
	paths, err := filepath.Glob(filepath.Join(r.opts.SpoolDir, SpoolPattern))
	if err != nil {
		return
	}
	for _, p := range paths {
		if keep[absPath(p)] {
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			r.log.WarnContext(ctx, "remove a stray upload", slog.String("file", filepath.Base(p)), slog.Any("error", err))
		}
	}
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return filepath.Clean(p)
}
