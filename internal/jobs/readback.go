package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// The scheduled read-back of the migration program (docs/hook.md,
// "Confirmation"): Okta confirms each import of a password with a
// user.import.password event, which Ferry's event hook receives. An event
// that never arrives (the event hook not registered, down, or its delivery
// given up) leaves the user "verified, not confirmed", which holds up the
// end of the program. So Ferry, on its own, reads those users back from Okta
// now and then: only those the hook answered VERIFIED for, a few reads paced
// at a quarter of the rate limit.

// ReadBackCandidates lists the projects with users the hook verified and
// Okta has not confirmed (hook.Service).
type ReadBackCandidates interface {
	ProjectsAwaitingConfirmation(ctx context.Context) ([]int64, error)
}

// readBackActor is who the scheduled read-backs are started by.
var readBackActor = audit.Actor{Name: "Ferry (scheduled read-back)"}

// ScheduleReadBacks starts a read-back of the verified, unconfirmed users
// of each candidate project whose newest read-back (scheduled or asked for)
// was created at least every ago, or that has none. A project whose
// read-back is active is left alone. It returns the jobs it started.
func (r *Runner) ScheduleReadBacks(ctx context.Context, candidates ReadBackCandidates, every time.Duration) ([]Job, error) {
	if r.opts.Confirmer == nil {
		return nil, nil
	}
	ids, err := candidates.ProjectsAwaitingConfirmation(ctx)
	if err != nil {
		return nil, err
	}
	now := r.now().UTC()
	var started []Job
	for _, pid := range ids {
		last, err := r.FindJobs(ctx, pid, Filter{Kinds: []string{KindConfirmImports}, Limit: 1})
		if err != nil {
			return started, err
		}
		if len(last) > 0 && (last[0].Active() || now.Sub(last[0].CreatedAt) < every) {
			continue
		}
		params := Params{VerifiedOnly: true}
		j, err := r.Submit(audit.WithActor(ctx, readBackActor), Spec{ProjectID: pid, Kind: KindConfirmImports, Params: params},
			r.confirmImportsWork(pid, params))
		if apperr.Is(err, apperr.CodeConflict) {
			continue // a person started one meanwhile
		}
		if err != nil {
			return started, err
		}
		started = append(started, *j)
	}
	return started, nil
}

// ReadBackCheckInterval is how often RunReadBackSchedule looks for
// projects due a read-back.
const ReadBackCheckInterval = 10 * time.Minute

// RunReadBackSchedule calls ScheduleReadBacks every ReadBackCheckInterval
// (and once at the start) until ctx ends; every 0 turns it off. Failures are
// logged and tried again at the next check.
func (r *Runner) RunReadBackSchedule(ctx context.Context, candidates ReadBackCandidates, every time.Duration) {
	if every <= 0 || r.opts.Confirmer == nil {
		return
	}
	tick := time.NewTicker(ReadBackCheckInterval)
	defer tick.Stop()
	for {
		started, err := r.ScheduleReadBacks(ctx, candidates, every)
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			r.log.WarnContext(ctx, "scheduled read-back: cannot start", slog.Any("error", err))
		case len(started) > 0:
			r.log.InfoContext(ctx, "scheduled read-back started", slog.Int("projects", len(started)))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
