package hook

import (
	"context"
	"errors"
	"sync"
	"time"
)

// The pool's refusals.
var (
	// errOverloaded: the pool cannot start the work in time (queue full,
	// or the expected wait exceeds what is left of the budget).
	errOverloaded = errors.New("verification pool overloaded")
	// errTimeout: the budget ran out while the work waited or ran.
	errTimeout = errors.New("verification budget exceeded")
)

// pool bounds the CPU-heavy verifications (bcrypt, PBKDF2, argon2, scrypt):
// at most workers run at once and at most queue wait. Admission is decided
// at once: when the queue is full, or when the expected wait (the work
// ahead divided among the workers, times the observed average duration)
// would not leave time to run before the deadline, the work is refused, so
// that a burst degrades into fast refusals rather than timeouts.
//
// A verification cannot be interrupted: when the caller's deadline passes
// while it runs, the caller gets errTimeout and the work finishes in the
// background, still holding its slot, so that the bound holds.
type pool struct {
	slots   chan struct{}
	workers int
	queue   int

	mu      sync.Mutex
	waiting int
	running int
	avg     time.Duration // moving average of a verification's duration
}

func newPool(workers, queue int) *pool {
	return &pool{slots: make(chan struct{}, workers), workers: workers, queue: queue}
}

// expectedWait is how long new work would wait for a slot. Callers hold mu.
func (p *pool) expectedWait() time.Duration {
	ahead := p.waiting + p.running
	if ahead < p.workers {
		return 0
	}
	return time.Duration((ahead-p.workers)/p.workers+1) * p.avg
}

// run runs fn within ctx's deadline, or refuses.
func (p *pool) run(ctx context.Context, fn func() (bool, error)) (bool, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultBudget)
	}
	p.mu.Lock()
	if p.waiting >= p.queue && p.running >= p.workers {
		p.mu.Unlock()
		return false, errOverloaded
	}
	if time.Now().Add(p.expectedWait() + p.avg).After(deadline) {
		p.mu.Unlock()
		return false, errOverloaded
	}
	p.waiting++
	p.mu.Unlock()

	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		p.mu.Lock()
		p.waiting--
		p.mu.Unlock()
		return false, errTimeout
	}
	p.mu.Lock()
	p.waiting--
	p.running++
	p.mu.Unlock()

	type result struct {
		ok  bool
		err error
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		ok, err := fn()
		took := time.Since(start)
		p.mu.Lock()
		p.running--
		if p.avg == 0 {
			p.avg = took
		} else {
			p.avg = (p.avg*7 + took) / 8
		}
		p.mu.Unlock()
		<-p.slots
		done <- result{ok, err}
	}()
	select {
	case r := <-done:
		return r.ok, r.err
	case <-ctx.Done():
		return false, errTimeout
	}
}
