package load

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/load/pace"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// Bucket names the pacer keeps, one per Okta rate-limit bucket a run uses.
const (
	bucketUsers      = "users"      // POST /api/v1/users (and list)
	bucketUserGet    = "user"       // GET /api/v1/users/{id or login}
	bucketUserUpdate = "userUpdate" // DELETE /api/v1/users/{id}
	bucketGroups     = "groups"     // POST and list /api/v1/groups
	bucketGroup      = "group"      // GET /api/v1/groups/{id}
	bucketOther      = "other"      // lifecycle, memberships, schema, hooks
)

// Tuning of the engine.
const (
	// maxAttempts is how many times one user is tried through 5xx answers,
	// timeouts and dropped connections before it is recorded as failed.
	maxAttempts = 5
	// claimChunk is how many pending users are marked sending at once.
	claimChunk = 200
	// flushEvery bounds how long a result waits before it is written.
	flushEvery = 200 * time.Millisecond
	// flushSize is the most results written in one transaction.
	flushSize = 500
	// createdMargin is the slack when telling a user Ferry created (found
	// after an unanswered request) from one that existed before: Okta's
	// created time is compared with the time the request was sent, both by
	// the org's clock, whose Date header has one-second resolution.
	createdMargin = 5 * time.Second
	// maxGroupIDsAtCreate is Okta's limit on groupIds in createUser.
	maxGroupIDsAtCreate = 20
)

// Errors of Execute.
var (
	// ErrLeaseHeld: another live process owns the run.
	ErrLeaseHeld = errors.New("load: another process is running this run")
	// errLeaseLost: this process no longer owns the run (it was taken over).
	errLeaseLost = errors.New("load: the run's lease was lost")
	errPaused    = errors.New("load: paused")
	errCancelled = errors.New("load: cancelled")
	// errCrashed: a test made the process "die" (see crashHook).
	errCrashed = errors.New("load: the process died (simulated)")
)

// crashHook, set only by tests, is called at named steps of a run
// ("claimed": users marked sending, nothing sent yet; "created": Okta
// created a user, nothing recorded yet; "exported": a rollback exported a
// user, nothing removed yet). When it returns true the process "dies"
// there: it stops at once and writes nothing more, as a SIGKILL would.
var crashHook func(step string) bool

// ExecOptions are what a process brings to a run besides the database.
type ExecOptions struct {
	// Token overrides the project's stored token (FERRY_OKTA_TOKEN).
	Token string
	// Progress, when set, is called about twice a second while the run works.
	Progress func(Progress)
}

// Progress is a run's state as it works.
type Progress struct {
	Run    *Run
	Counts Counts
	Pace   PaceView
	// PerMinute is the throughput so far (users finished per minute of work).
	PerMinute float64
}

// execution is one process working on one run.
type execution struct {
	s      *Service
	run    *Run
	client *okta.Client
	pacer  *pace.Pacer
	// clockOffset is the org's clock minus the local one, learnt from Date.
	clockOffset atomic.Int64
	results     chan result
	groups      map[string]string // group name → Okta id
	sourceGroup map[int64]string  // source id → Okta id of its group
	counts      sync.Mutex
	byState     map[string]int64
	// requestCtx carries the requests: the process's context, which a
	// pause or a cancel does not end (see send).
	requestCtx context.Context
	// window is the hours the run may work (nil: any time).
	window *Window
	// dead is set when a test simulates the process dying.
	dead        atomic.Bool
	stop        context.CancelCauseFunc
	started     time.Time
	activeSoFar float64
}

// result is what became of one item.
type result struct {
	item        *Item
	state       string
	oktaID      string
	code        string
	summary     string
	memberships bool // memberships still to add
	exportJSON  string
	ours        bool // Ferry created the user (provenance)
	removed     bool // a rollback removed the user (provenance)
	// sent is what Ferry sent for a user it created: its provenance row
	// (profile, groups, hash digest, password kind, expected status).
	sent *sentState
}

// Execute works on a run in this process until it is done, paused,
// cancelled or failed; it returns ErrLeaseHeld when another live process
// owns the run. It may be called again for the same run after a crash.
func (s *Service) Execute(ctx context.Context, runID int64, opts ExecOptions) (err error) {
	run, err := s.acquire(ctx, runID)
	if err != nil {
		return err
	}
	x := &execution{s: s, run: run, groups: map[string]string{}, sourceGroup: map[int64]string{},
		started: s.now()}
	x.activeSoFar = run.ActiveSeconds
	x.window = run.windowOf()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("load: run %d stopped on an internal error: %v", run.ID, r)
			x.finish(StatusFailed, "Stopped on an internal error: "+fmt.Sprint(r)+". Resume it to carry on.")
		}
	}()
	token := opts.Token
	if token == "" {
		if token, err = s.deps.Orgs.Token(ctx, run.ProjectID); err != nil {
			x.finish(StatusFailed, "No Okta API token: save one on the project's Okta org page.")
			return err
		}
	}
	if x.client, err = okta.New(okta.Config{OrgURL: run.OrgURL, APIToken: token, Version: s.opts.Version, Timeout: s.opts.HTTPTimeout}); err != nil {
		x.finish(StatusFailed, err.Error())
		return err
	}
	clock := s.opts.Clock
	if clock == nil {
		clock = pace.SystemClock()
	}
	if x.pacer, err = pace.New(pace.Config{MaxInFlight: run.MaxInFlight, Share: run.RateShare, Clock: clock}); err != nil {
		x.finish(StatusFailed, err.Error())
		return err
	}
	if err := x.loadCounts(ctx); err != nil {
		x.release()
		return err
	}

	workCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	x.stop = stop
	x.requestCtx = ctx
	switch run.Requested {
	case RequestCancel:
		stop(errCancelled) // cancelled while queued or paused: only settle it
	case RequestPause:
		stop(errPaused) // paused while its owner was gone
	}
	keeperDone := make(chan struct{})
	go func() { defer close(keeperDone); x.keepLease(workCtx, stop, opts.Progress) }()

	werr := x.work(workCtx)
	stop(nil)
	<-keeperDone
	cause := context.Cause(workCtx)
	switch {
	case x.dead.Load():
		return errCrashed
	case werr == nil:
		counts, _ := s.CountItems(background(ctx), run.ID)
		x.finish(StatusDone, summarize(run, counts))
		x.recordDefects(background(ctx), counts)
		x.report(opts.Progress)
		return nil
	case errors.Is(cause, errPaused):
		x.finish(StatusPaused, x.pauseMessage(ctx))
		x.report(opts.Progress)
		return nil
	case errors.Is(cause, errCancelled):
		x.cancelRest(background(ctx))
		counts, _ := s.CountItems(background(ctx), run.ID)
		x.finish(StatusCancelled, "Cancelled. "+summarize(run, counts))
		x.recordDefects(background(ctx), counts)
		x.report(opts.Progress)
		return nil
	case errors.Is(cause, errLeaseLost):
		return fmt.Errorf("load: run %d: another process took it over", run.ID)
	case ctx.Err() != nil:
		// The process is stopping: the lease runs out and the run is
		// resumed by the next process (or the console's watcher).
		x.release()
		return ctx.Err()
	default:
		x.finish(StatusFailed, "Stopped: "+werr.Error()+". Fix the cause and resume the run.")
		return werr
	}
}

// acquire takes the run's lease when it is free (no owner, ours, or run out).
func (s *Service) acquire(ctx context.Context, runID int64) (*Run, error) {
	now := s.now().UTC()
	res, err := s.db.WriteSQL().ExecContext(ctx, s.db.Bind(`UPDATE load_runs SET owner = ?, lease_until = ?, status = ?,
		started_at = COALESCE(started_at, ?), updated_at = ?
		WHERE id = ? AND status IN (?, ?) AND (owner = '' OR owner = ? OR lease_until IS NULL OR lease_until < ?)`),
		s.owner, now.Add(s.opts.Lease), StatusRunning, now, now, runID, StatusQueued, StatusRunning, s.owner, now)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		r, ferr := s.FindRunByID(ctx, runID)
		if ferr != nil {
			return nil, ferr
		}
		if r.Active() && r.Status != StatusPaused {
			return nil, fmt.Errorf("%w (%s, lease until %s)", ErrLeaseHeld, r.Owner, r.LeaseUntil.Local().Format(time.TimeOnly))
		}
		return nil, apperr.Conflict(fmt.Sprintf("%s is %s: there is nothing to run.", r.Label(), r.Status))
	}
	return s.FindRunByID(ctx, runID)
}

// keepLease renews the lease, publishes progress and obeys pause and cancel
// requests and the legal gate, until ctx ends.
func (x *execution) keepLease(ctx context.Context, stop context.CancelCauseFunc, progress func(Progress)) {
	renew := time.NewTicker(x.s.opts.Lease / 3)
	defer renew.Stop()
	// A person's pause or cancel is read every second, so that the button
	// takes effect at once, not at the next renewal.
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	ticks := 0
	obey := func(requested string) bool {
		switch requested {
		case RequestPause:
			x.noteStopping(ctx, "Pausing: the requests in flight finish first.")
			stop(errPaused)
			return true
		case RequestCancel:
			x.noteStopping(ctx, "Cancelling: the requests in flight finish first.")
			stop(errCancelled)
			return true
		}
		return false
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			x.report(progress)
			if ticks++; ticks%2 == 0 {
				var requested string
				err := x.s.db.ReadSQL().QueryRowContext(ctx, x.s.db.Bind(`SELECT requested FROM load_runs WHERE id = ?`), x.run.ID).Scan(&requested)
				if err == nil && obey(requested) {
					return
				}
			}
		case <-renew.C:
			requested, err := x.renew(ctx)
			switch {
			case errors.Is(err, errLeaseLost):
				stop(errLeaseLost)
				return
			case err != nil:
				continue // a busy database: the next renewal tries again
			case obey(requested):
				return
			}
			if !x.run.Sandbox && x.run.Kind != KindRollback {
				gate, gerr := x.s.deps.Gate.LoadGate(ctx, x.run.ProjectID, false)
				if gerr == nil && !gate.Open {
					x.s.setRequest(background(ctx), x.run.ID, RequestPause,
						"Paused by the legal gate (the requests in flight finish first): "+strings.Join(gate.Reasons, " "))
					stop(errPaused)
					return
				}
			}
		}
	}
}

// noteStopping tells people the run has seen their request and is
// waiting for its requests in flight (a message the legal gate set stays).
func (x *execution) noteStopping(ctx context.Context, msg string) {
	_, _ = x.s.db.WriteSQL().ExecContext(background(ctx), x.s.db.Bind(`UPDATE load_runs SET message = ?, updated_at = ?
		WHERE id = ? AND message NOT LIKE 'Paused by%'`), msg, x.s.now().UTC(), x.run.ID)
}

// renew extends the lease and saves the pacer's view; it returns what a
// person asked of the run.
func (x *execution) renew(ctx context.Context) (string, error) {
	now := x.s.now().UTC()
	st := x.pacer.Stats()
	view := paceView(st)
	res, err := x.s.db.WriteSQL().ExecContext(ctx, x.s.db.Bind(`UPDATE load_runs SET lease_until = ?, pace_json = ?, active_seconds = ?, updated_at = ?
		WHERE id = ? AND owner = ?`), now.Add(x.s.opts.Lease), jsonString(view), x.activeSeconds(), now, x.run.ID, x.s.owner)
	if err != nil {
		return "", err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", errLeaseLost
	}
	var requested string
	err = x.s.db.WriteSQL().QueryRowContext(ctx, x.s.db.Bind(`SELECT requested FROM load_runs WHERE id = ?`), x.run.ID).Scan(&requested)
	return requested, err
}

func (x *execution) activeSeconds() float64 {
	return x.activeSoFar + x.s.now().Sub(x.started).Seconds()
}

func paceView(st pace.Stats) PaceView {
	v := PaceView{InFlight: st.InFlight, InFlightLimit: st.InFlightLimit, RateWaits: st.RateWaits, Concurrency: st.ConcurrencyWaits}
	if b, ok := st.Buckets[bucketUsers]; ok {
		v.Limit, v.Remaining, v.Headroom = b.Limit, b.Remaining, b.Headroom
	}
	return v
}

// report calls progress with the run's current counts.
func (x *execution) report(progress func(Progress)) {
	if progress == nil {
		return
	}
	x.counts.Lock()
	c := Counts{State: make(map[string]int64, len(x.byState))}
	for k, v := range x.byState {
		c.State[k] = v
		c.Total += v
	}
	x.counts.Unlock()
	p := Progress{Run: x.run, Counts: c, Pace: paceView(x.pacer.Stats())}
	if secs := x.activeSeconds(); secs > 0 {
		p.PerMinute = float64(c.Done()) / secs * 60
	}
	progress(p)
}

func (x *execution) loadCounts(ctx context.Context) error {
	c, err := x.s.CountItems(ctx, x.run.ID)
	if err != nil {
		return err
	}
	x.byState = c.State
	return nil
}

func (x *execution) moveCount(from, to string) {
	x.counts.Lock()
	x.byState[from]--
	x.byState[to]++
	x.counts.Unlock()
}

// finish records the run's end (or pause) and gives up the lease.
func (x *execution) finish(status, message string) {
	if x.dead.Load() {
		return
	}
	now := x.s.now().UTC()
	var finished *time.Time
	if status != StatusPaused {
		finished = &now
	}
	_, _ = x.s.db.WriteSQL().ExecContext(context.Background(), x.s.db.Bind(`UPDATE load_runs SET status = ?, message = ?, requested = '',
		owner = '', lease_until = NULL, finished_at = ?, active_seconds = ?, pace_json = ?, updated_at = ? WHERE id = ? AND owner = ?`),
		status, message, finished, x.activeSeconds(), x.paceJSON(), now, x.run.ID, x.s.owner)
	x.run.Status, x.run.Message = status, message
}

func (x *execution) paceJSON() string {
	if x.pacer == nil {
		return "{}"
	}
	return jsonString(paceView(x.pacer.Stats()))
}

// release gives up the lease without changing the status, so that the next
// process resumes the run at once.
func (x *execution) release() {
	if x.dead.Load() {
		return
	}
	_, _ = x.s.db.WriteSQL().ExecContext(context.Background(), x.s.db.Bind(`UPDATE load_runs SET owner = '', lease_until = NULL,
		active_seconds = ?, updated_at = ? WHERE id = ? AND owner = ?`), x.activeSeconds(), x.s.now().UTC(), x.run.ID, x.s.owner)
}

func (x *execution) pauseMessage(ctx context.Context) string {
	var msg string
	_ = x.s.db.WriteSQL().QueryRowContext(background(ctx), x.s.db.Bind(`SELECT message FROM load_runs WHERE id = ?`), x.run.ID).Scan(&msg)
	if strings.HasPrefix(msg, "Paused") {
		return msg
	}
	return "Paused. Resume it to carry on where it stopped."
}

// setRequest asks the owner of a run to pause or cancel.
func (s *Service) setRequest(ctx context.Context, runID int64, req, message string) {
	_, _ = s.db.WriteSQL().ExecContext(ctx, s.db.Bind(`UPDATE load_runs SET requested = ?, message = ?, updated_at = ? WHERE id = ?`),
		req, message, s.now().UTC(), runID)
}

// work does the run's work: groups first, then the users left in flight by
// a crash, then the pending users.
func (x *execution) work(ctx context.Context) error {
	fn, ok := kindWorks[x.run.Kind]
	if !ok {
		return fmt.Errorf("this version of Ferry does not know runs of kind %q", x.run.Kind)
	}
	if err := fn(ctx, x); err != nil {
		return err
	}
	for _, after := range kindAfter[x.run.Kind] {
		if err := after(ctx, x); err != nil {
			return err
		}
	}
	return nil
}

// kindWorks is what a run of each kind does. Kinds whose users are
// independent use sendEach with their per-user function.
var kindWorks = map[string]func(ctx context.Context, x *execution) error{
	KindLoad:      workLoad,
	KindTestBatch: workLoad,
	KindRollback:  func(ctx context.Context, x *execution) error { return x.workRollback(ctx) },
}

// workLoad: the groups first, then every user, then the memberships that
// could not be added right after a create.
func workLoad(ctx context.Context, x *execution) error {
	if err := x.ensureGroups(ctx); err != nil {
		return err
	}
	if err := x.sendEach(ctx, x.loadOne); err != nil {
		return err
	}
	return x.addPendingMemberships(ctx)
}

// sendEach works on every item of the run with fn, MaxInFlight at a time:
// first those a previous process left sending (fn sees Attempts ≥ 1 and
// must find out what became of them before acting again), then the pending
// ones, claimed in chunks. Results are written as they come; it returns
// once every result is written.
func (x *execution) sendEach(ctx context.Context, fn func(ctx context.Context, it *Item) result) error {
	x.results = make(chan result, 1024)
	writerDone := make(chan error, 1)
	go func() { writerDone <- x.writeResults() }()
	work := make(chan *Item)
	var wg sync.WaitGroup
	for range max(x.run.MaxInFlight, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				start := x.s.now()
				r := fn(ctx, it)
				r.item = it
				if r.state != StateSending && r.state != StatePending {
					it.DurationMS = x.s.now().Sub(start).Milliseconds()
				}
				x.results <- r
			}
		}()
	}
	err := x.feed(ctx, work)
	close(work)
	wg.Wait()
	close(x.results)
	if werr := <-writerDone; werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	return ctx.Err()
}

// feed claims items in chunks (marking them sending before any request
// goes out, so that a crash leaves them to be looked up) and hands them out.
func (x *execution) feed(ctx context.Context, work chan<- *Item) error {
	// Items a previous process left in flight: resolved by lookup.
	var after int64
	for {
		items, err := x.s.FindItems(ctx, x.run.ID, StateSending, after, claimChunk)
		if err != nil {
			return err
		}
		for i := range items {
			it := &items[i]
			it.Attempts = max(it.Attempts, 1) // a request went out: look before sending again
			if x.waitForWindow(ctx) != nil {
				return nil
			}
			select {
			case work <- it:
			case <-ctx.Done():
				return nil
			}
			after = it.Seq
		}
		if len(items) < claimChunk {
			break
		}
	}
	for ctx.Err() == nil {
		items, err := x.claim(ctx)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return nil
		}
		for i := range items {
			if x.waitForWindow(ctx) != nil {
				for j := i; j < len(items); j++ {
					x.results <- result{item: &items[j], state: StatePending}
				}
				return nil
			}
			select {
			case work <- &items[i]:
			case <-ctx.Done():
				// Claimed but never handed out: nothing was sent for
				// them, so they go back to pending (no lookup needed).
				for j := i; j < len(items); j++ {
					x.results <- result{item: &items[j], state: StatePending}
				}
				return nil
			}
		}
	}
	return nil
}

// claim marks the next chunk of pending items as sending.
func (x *execution) claim(ctx context.Context) ([]Item, error) {
	var items []Item
	err := x.s.db.Read.WithContext(ctx).Where("run_id = ? AND state = ?", x.run.ID, StatePending).Order("seq").Limit(claimChunk).Find(&items).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	if len(items) == 0 {
		return nil, nil
	}
	sent := x.orgNow()
	ids := make([]any, 0, len(items)+3)
	ids = append(ids, StateSending, sent)
	for _, it := range items {
		ids = append(ids, it.ID)
	}
	ids = append(ids, StatePending)
	q := `UPDATE load_items SET state = ?, sent_at = ? WHERE id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(items)), ", ") + `) AND state = ?`
	if _, err := x.s.db.WriteSQL().ExecContext(ctx, x.s.db.Bind(q), ids...); err != nil {
		return nil, apperr.Internal(err)
	}
	for i := range items {
		items[i].State, items[i].SentAt = StateSending, &sent
		x.moveCount(StatePending, StateSending)
	}
	if x.crashAt("claimed") {
		return nil, nil
	}
	return items, nil
}

// crashAt lets a test kill the process at a step; it reports whether the
// process is dead.
func (x *execution) crashAt(step string) bool {
	if x.dead.Load() {
		return true
	}
	if crashHook != nil && crashHook(step) {
		x.dead.Store(true)
		x.stop(errCrashed)
		return true
	}
	return false
}

// orgNow is the org's clock as learnt from the Date headers.
func (x *execution) orgNow() time.Time {
	return x.s.now().UTC().Add(time.Duration(x.clockOffset.Load()))
}

func (x *execution) learnClock(res okta.Response) {
	if !res.RateLimit.Date.IsZero() {
		x.clockOffset.Store(int64(res.RateLimit.Date.Sub(x.s.now().UTC())))
	}
}

// send runs one request through the pacer.
//
// Waiting for a slot or for the rate stops when ctx ends (a pause, a
// cancel), but a request once sent is seen through to its answer (on the
// process's context): stopping it half-way would leave Okta acting on a
// request whose answer nobody reads, and a cancelled run would not know
// about a user created after it looked.
func (x *execution) send(ctx context.Context, bucket string, fn func(ctx context.Context) (okta.Response, error)) error {
	res, err := x.pacer.Send(ctx, bucket, func(context.Context) (okta.Response, error) { return fn(x.requestCtx) })
	if err == nil {
		x.learnClock(res)
	} else if e, ok := okta.AsError(err); ok {
		x.learnClock(e.Response)
	}
	return err
}

// loadOne takes one user to a final state (or leaves it sending when the
// run stops mid-request).
func (x *execution) loadOne(ctx context.Context, it *Item) result {
	return x.createUser(ctx, it)
}

func (x *execution) createUser(ctx context.Context, it *Item) result {
	body, groupIDs, err := x.requestFor(it)
	if err != nil {
		return result{state: StateFailed, code: "FERRY_SNAPSHOT", summary: err.Error()}
	}
	uncertain := it.Attempts > 0 // a request for it may have reached Okta
	sent := false                // a request went out in this process
	// stopped is the item's state when the run stops before its end: back
	// to pending when nothing was ever sent for it, else sending (looked
	// up before anything is sent again).
	stopped := func() result {
		if !uncertain && !sent {
			return result{state: StatePending}
		}
		return result{state: StateSending}
	}
	sending := result{state: StateSending}
	// lookOr settles a user whose last request may have reached Okta: the
	// user found, else the request's error.
	lookOr := func(err error) result {
		found, r, ok := x.lookUp(ctx, it)
		switch {
		case !ok:
			return sending
		case found:
			return r
		}
		return failure(err)
	}
	for tries := 1; ; tries++ {
		if ctx.Err() != nil {
			return stopped()
		}
		if uncertain {
			found, r, ok := x.lookUp(ctx, it)
			if !ok {
				return sending
			}
			if found {
				return r
			}
		}
		var user *okta.User
		err := x.send(ctx, bucketUsers, func(ctx context.Context) (okta.Response, error) {
			sent = true
			it.Attempts++
			u, res, err := x.client.CreateUser(ctx, body, x.createOptions(it)) // status.go: nextLogin
			user = u
			return res, err
		})
		switch {
		case err == nil:
			if x.crashAt("created") {
				return sending
			}
			return x.created(ctx, it, user.ID, groupIDs)
		case ctx.Err() != nil:
			return stopped()
		case okta.IsDuplicateLogin(err):
			if !uncertain {
				return x.existing(ctx, it, err)
			}
			// An earlier attempt may have created it: the lookup tells
			// Ferry's user from someone else's by its creation time.
			return lookOr(err)
		case okta.IsTemporary(err):
			uncertain = true
			if tries >= maxAttempts {
				// One last look: the request may have created the user.
				return lookOr(err)
			}
			if x.pacer.Sleep(ctx, x.pacer.Backoff(tries)) != nil {
				return sending
			}
		default:
			return failure(err)
		}
	}
}

// failure records an Okta refusal (or a transport failure) on an item.
func failure(err error) result {
	r := result{state: StateFailed, code: "FERRY_TRANSPORT", summary: err.Error()}
	if e, ok := okta.AsError(err); ok {
		r.code = e.ErrorCode
		if r.code == "" {
			r.code = fmt.Sprintf("HTTP_%d", e.StatusCode)
		}
		r.summary = e.ErrorSummary
		if causes := e.Causes(); len(causes) > 0 {
			r.summary += " (" + strings.Join(causes, "; ") + ")"
		}
		if r.summary == "" {
			r.summary = e.Error()
		}
	}
	if len(r.summary) > 1000 {
		r.summary = r.summary[:1000] + "…"
	}
	return r
}

// lookUp finds the user an earlier request may have created, by login
// (GET /api/v1/users/{login}: exact and immediately consistent). ok is false
// when the run stops first.
func (x *execution) lookUp(ctx context.Context, it *Item) (found bool, r result, ok bool) {
	for attempt := 1; ; attempt++ {
		var user *okta.User
		err := x.send(ctx, bucketUserGet, func(ctx context.Context) (okta.Response, error) {
			u, res, err := x.client.GetUser(ctx, it.Login)
			user = u
			return res, err
		})
		switch {
		case err == nil:
			if it.SentAt != nil && !user.Created.IsZero() && user.Created.Before(it.SentAt.Add(-createdMargin)) {
				// Created before Ferry sent anything: someone else's.
				return true, x.existingUser(it, user, nil), true
			}
			return true, x.created(ctx, it, user.ID, nil), true
		case okta.IsNotFound(err):
			return false, result{}, true
		case ctx.Err() != nil:
			return false, result{}, false
		case okta.IsTemporary(err) && attempt < maxAttempts:
			if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
				return false, result{}, false
			}
		default:
			return true, failure(err), true
		}
	}
}

// existing handles a login that exists in the org before Ferry created it.
func (x *execution) existing(ctx context.Context, it *Item, dup error) result {
	if x.run.OnExisting == OnExistingFail {
		r := failure(dup)
		r.summary = "The login already exists in the Okta org. " + r.summary
		return r
	}
	var user *okta.User
	err := x.send(ctx, bucketUserGet, func(ctx context.Context) (okta.Response, error) {
		u, res, err := x.client.GetUser(ctx, it.Login)
		user = u
		return res, err
	})
	if err != nil {
		return x.existingUser(it, nil, err)
	}
	return x.existingUser(it, user, nil)
}

func (x *execution) existingUser(it *Item, user *okta.User, err error) result {
	r := result{state: StateExisted, code: "FERRY_EXISTS", summary: "The login already existed in the Okta org: skipped; the existing user is left as it is."}
	if x.run.OnExisting == OnExistingFail {
		r.state = StateFailed
		r.summary = "The login already exists in the Okta org."
	}
	if user != nil {
		r.oktaID = user.ID
	}
	if err != nil {
		r.summary += " (Its id could not be read: " + err.Error() + ")"
	}
	return r
}

// created records a user Ferry created and adds the memberships that did
// not fit in the create request.
func (x *execution) created(ctx context.Context, it *Item, userID string, groupIDs []string) result {
	r := result{state: StateCreated, oktaID: userID, ours: true, sent: x.sentStateOf(it)}
	var all []string
	if groupIDs == nil {
		// Found after a crash: which memberships it got is unknown; adding
		// them again is harmless (Okta answers 204 to a repeated add).
		all = x.groupIDsOf(it)
	} else if len(groupIDs) > maxGroupIDsAtCreate {
		all = groupIDs[maxGroupIDsAtCreate:]
	}
	for _, gid := range all {
		err := x.send(ctx, bucketOther, func(ctx context.Context) (okta.Response, error) {
			return x.client.AddGroupMember(ctx, gid, userID)
		})
		if err != nil {
			r.memberships = true // added later by addPendingMemberships
			break
		}
	}
	// The legacy account status (status.go): suspend, deactivate or
	// expire the password of the user just created (safe to repeat).
	return x.applyStatusAtCreate(ctx, it, r)
}

// sentState is what Ferry sent for a user it created, kept as its
// provenance (what a refresh compares with and a reconciliation checks).
type sentState struct {
	profile, groups, password, status string
}

// sentStateOf is the provenance of an item's user once created: its
// snapshot's profile, every group Ferry put it in, how its password was
// given and the status the create request leads to (NOTES §1).
func (x *execution) sentStateOf(it *Item) *sentState {
	st := &sentState{profile: it.ProfileJSON, groups: jsonString(x.groupIDsOf(it)), password: PasswordNone}
	switch {
	case x.run.Mode == ModeHook:
		st.password = PasswordHook
	case x.run.Mode == ModeHash && it.CredentialSealed != "":
		st.password = PasswordHash
	}
	switch {
	case !x.run.Activate:
		st.status = okta.StatusStaged
	case st.password == PasswordNone:
		st.status = okta.StatusProvisioned
	default:
		st.status = okta.StatusActive
	}
	if st.groups == "null" {
		st.groups = "[]"
	}
	return st
}

// requestFor builds the create request of an item from its snapshot.
func (x *execution) requestFor(it *Item) (okta.CreateUserRequest, []string, error) {
	var body okta.CreateUserRequest
	if err := json.Unmarshal([]byte(it.ProfileJSON), &body.Profile); err != nil {
		return body, nil, fmt.Errorf("the snapshot of this user is damaged: %v", err)
	}
	switch x.run.Mode {
	case ModeHook:
		body.Credentials = &okta.UserCredentials{Password: &okta.PasswordCredential{Hook: &okta.PasswordCredentialHook{Type: okta.PasswordHookDefault}}}
	case ModeHash:
		if it.CredentialSealed != "" {
			raw, err := x.s.deps.Sealer.Open(it.CredentialSealed)
			if err != nil {
				return body, nil, fmt.Errorf("the password hash of this user cannot be opened with this console's secret key: %v", err)
			}
			var h okta.PasswordHash
			if err := json.Unmarshal([]byte(raw), &h); err != nil {
				return body, nil, fmt.Errorf("the password hash of this user is damaged: %v", err)
			}
			body.Credentials = &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: &h}}
		}
	}
	ids := x.groupIDsOf(it)
	body.GroupIDs = ids
	if len(ids) > maxGroupIDsAtCreate {
		body.GroupIDs = ids[:maxGroupIDsAtCreate]
	}
	return body, ids, nil
}

// groupIDsOf lists an item's groups: its source's group, then its memberships.
func (x *execution) groupIDsOf(it *Item) []string {
	var ids []string
	if it.SourceID != nil {
		if gid := x.sourceGroup[*it.SourceID]; gid != "" {
			ids = append(ids, gid)
		}
	}
	var names []string
	_ = json.Unmarshal([]byte(it.GroupsJSON), &names)
	for _, n := range names {
		if gid := x.groups[n]; gid != "" {
			ids = append(ids, gid)
		}
	}
	return ids
}

// writeResults writes results in batches until the channel closes.
func (x *execution) writeResults() error {
	var batch []result
	var firstErr error
	flush := func() {
		if len(batch) == 0 || x.dead.Load() {
			batch = batch[:0]
			return
		}
		if err := x.s.writeBatch(context.Background(), x.run, batch); err != nil && firstErr == nil {
			firstErr = err
		}
		for _, r := range batch {
			if r.state != StateSending {
				x.moveCount(r.item.State, r.state)
			}
		}
		batch = batch[:0]
	}
	timer := time.NewTicker(flushEvery)
	defer timer.Stop()
	for {
		select {
		case r, ok := <-x.results:
			if !ok {
				flush()
				return firstErr
			}
			if r.state == StateSending {
				continue // left for the lookup of the next resume
			}
			batch = append(batch, r)
			if len(batch) >= flushSize {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// writeBatch records results and the provenance of the users created, in
// one transaction.
func (s *Service) writeBatch(ctx context.Context, run *Run, batch []result) error {
	now := s.now().UTC()
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		upd, err := tx.PrepareContext(ctx, s.db.Bind(`UPDATE load_items SET state = ?, okta_user_id = ?, error_code = ?, error_summary = ?,
			attempts = ?, memberships_pending = ?, export_json = CASE WHEN ? = '' THEN export_json ELSE ? END,
			credential_sealed = CASE WHEN ? THEN '' ELSE credential_sealed END, finished_at = ?, duration_ms = ? WHERE id = ?`))
		if err != nil {
			return err
		}
		defer upd.Close()
		var provenance []any
		for _, r := range batch {
			it := r.item
			var finished *time.Time
			if IsFinal(r.state) {
				finished = &now
			}
			// The hash is no longer needed once Okta holds the user.
			dropCredential := r.state == StateCreated || r.state == StateExisted
			if _, err := upd.ExecContext(ctx, r.state, r.oktaID, r.code, r.summary, it.Attempts, r.memberships,
				r.exportJSON, r.exportJSON, dropCredential, finished, it.DurationMS, it.ID); err != nil {
				return err
			}
			if r.ours {
				st := r.sent
				if st == nil {
					st = &sentState{profile: "{}", groups: "[]"}
				}
				provenance = append(provenance, run.ProjectID, run.OrgURL, r.oktaID, it.Login, it.RecordID, it.SourceID, run.ID, now,
					it.SourceKey, st.profile, st.groups, it.HashDigest, st.password, st.status, now)
			}
			if r.removed {
				if _, err := tx.ExecContext(ctx, s.db.Bind(`UPDATE okta_users SET removed_at = ? WHERE org_url = ? AND okta_user_id = ?`),
					now, run.OrgURL, r.oktaID); err != nil {
					return err
				}
			}
		}
		return s.db.InsertBulk(ctx, tx, provenanceBulk, provenance)
	})
}

var provenanceBulk = db.Bulk{Table: "okta_users",
	Columns: []string{"project_id", "org_url", "okta_user_id", "login", "record_id", "source_id", "run_id", "created_at",
		"source_key", "profile_json", "groups_json", "hash_digest", "password", "status", "updated_at"},
	Suffix: "ON CONFLICT (org_url, okta_user_id) DO NOTHING"}

// addPendingMemberships adds the group memberships that failed after a
// user was created.
func (x *execution) addPendingMemberships(ctx context.Context) error {
	var items []Item
	if err := x.s.db.Read.WithContext(ctx).Where("run_id = ? AND memberships_pending", x.run.ID).Order("seq").Find(&items).Error; err != nil {
		return apperr.Internal(err)
	}
	for i := range items {
		it := &items[i]
		failed := false
		for _, gid := range x.groupIDsOf(it) {
			add := func(ctx context.Context) (okta.Response, error) {
				return x.client.AddGroupMember(ctx, gid, it.OktaUserID)
			}
			err := x.send(ctx, bucketOther, add)
			// Adding a member again is harmless (204): retry 5xx, timeouts
			// and dropped connections rather than lose the membership.
			for attempt := 1; err != nil && okta.IsTemporary(err) && attempt < maxAttempts && ctx.Err() == nil; attempt++ {
				if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
					break
				}
				err = x.send(ctx, bucketOther, add)
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				failed = true
				r := failure(err)
				_, _ = x.s.db.WriteSQL().ExecContext(ctx, x.s.db.Bind(`UPDATE load_items SET error_code = ?, error_summary = ? WHERE id = ?`),
					r.code, "Created, but a group membership could not be added: "+r.summary, it.ID)
				break
			}
		}
		if !failed {
			if _, err := x.s.db.WriteSQL().ExecContext(ctx, x.s.db.Bind(`UPDATE load_items SET memberships_pending = FALSE WHERE id = ?`), it.ID); err != nil {
				return apperr.Internal(err)
			}
		}
	}
	return nil
}

// cancelRest settles a cancelled run: users left in flight are looked up
// (created or not), and those never sent are recorded as skipped.
func (x *execution) cancelRest(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		items, err := x.s.FindItems(ctx, x.run.ID, StateSending, 0, claimChunk)
		if err != nil || len(items) == 0 {
			break
		}
		var batch []result
		for i := range items {
			it := &items[i]
			var r result
			if it.Action == ActionCreate || it.Action == "" {
				found, looked, ok := x.lookUp(ctx, it)
				if !ok {
					return
				}
				r = looked
				if !found {
					r = result{state: StateSkipped, code: "FERRY_CANCELLED", summary: "The run was cancelled before this user was created."}
				}
			} else if settle := cancelSettlers[it.Action]; settle != nil {
				// The kind reads the user to tell whether its request
				// took effect (reset.go).
				settled, ok := settle(ctx, x, it)
				if !ok {
					return
				}
				r = settled
			} else {
				// Not a create: what became of it is the user's state in
				// Okta, which a reconciliation reads; nothing is guessed.
				r = result{state: StateSkipped, code: "FERRY_CANCELLED",
					summary: "The run was cancelled while a request for this user may have been in flight: a reconciliation shows where the user stands."}
			}
			r.item = it
			batch = append(batch, r)
		}
		if err := x.s.writeBatch(ctx, x.run, batch); err != nil {
			return
		}
	}
	_, _ = x.s.db.WriteSQL().ExecContext(ctx, x.s.db.Bind(`UPDATE load_items SET state = ?, error_code = 'FERRY_CANCELLED',
		error_summary = 'The run was cancelled before this user was sent.' WHERE run_id = ? AND state = ?`), StateSkipped, x.run.ID, StatePending)
}

// recordDefects turns the run's failures into defects, one per error code.
func (x *execution) recordDefects(ctx context.Context, c Counts) {
	if x.s.deps.Defects == nil || len(c.Errors) == 0 {
		return
	}
	_ = x.s.deps.Defects.RecordFailures(ctx, x.run.ProjectID, x.run.ID, x.run.Label(), c.Errors)
}

// kindSummaries say how a run of a kind ended, for kinds that are not
// loads or rollbacks (registered by their files).
var kindSummaries = map[string]func(c Counts) string{}

// kindAfter runs after a run of a kind has done its work, before it is
// marked done (canary sign-ins, a reconciliation's defects …).
var kindAfter = map[string][]func(ctx context.Context, x *execution) error{}

// cancelSettlers settle, by item action, a user whose request may have
// been in flight when its run was cancelled; ok is false when the lookup
// could not finish (the user stays sending).
var cancelSettlers = map[string]func(ctx context.Context, x *execution, it *Item) (r result, ok bool){}

// summarize says in one sentence how a run ended.
func summarize(run *Run, c Counts) string {
	if f := kindSummaries[run.Kind]; f != nil {
		return f(c)
	}
	if run.Kind == KindRollback {
		return fmt.Sprintf("%d removed, %d deactivated, %d already gone, %d failed, %d skipped.",
			c.Of(StateRemoved), c.Of(StateDeactivated), c.Of(StateGone), c.Of(StateFailed), c.Of(StateSkipped))
	}
	return fmt.Sprintf("%d created, %d already existed, %d failed, %d skipped.",
		c.Of(StateCreated), c.Of(StateExisted), c.Of(StateFailed), c.Of(StateSkipped))
}
