package pace

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// t0 is the local clock's start in the tests, on a whole second.
var t0 = time.Date(2031, 3, 4, 10, 0, 0, 0, time.UTC)

// fakeClock's Sleep advances its time by d at once and records d. Several
// goroutines may use it; their sleeps then add up.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.now = c.now.Add(d)
	}
	return nil
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// blockClock never advances: Sleep says it started on sleeping and then
// blocks until ctx ends.
type blockClock struct {
	sleeping chan time.Duration
}

func (c *blockClock) Now() time.Time { return t0 }

func (c *blockClock) Sleep(ctx context.Context, d time.Duration) error {
	select {
	case c.sleeping <- d:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// server models one Okta bucket counting requests per fixed window on its
// own clock: the local clock shifted by skew. Its answers carry the
// rate-limit headers as Okta sends them: Date truncated to the second,
// Reset in epoch seconds. other requests from the org's other traffic land
// at the start of every window.
type server struct {
	mu     sync.Mutex
	clock  Clock
	skew   time.Duration
	limit  int
	window time.Duration
	other  int
	counts map[int64]int
	// ok and tooMany are the local times of the accepted and refused
	// requests.
	ok, tooMany []time.Time
}

func newServer(clock Clock, limit int, skew time.Duration) *server {
	return &server{clock: clock, skew: skew, limit: limit, window: time.Minute, counts: map[int64]int{}}
}

// handle counts one request now and answers it.
func (s *server) handle() (okta.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	local := s.clock.Now()
	now := local.Add(s.skew)
	idx := now.Unix() / int64(s.window/time.Second)
	if now.Unix() < 0 {
		panic("server time before 1970")
	}
	if _, seen := s.counts[idx]; !seen {
		s.counts[idx] = s.other
	}
	s.counts[idx]++
	n := s.counts[idx]
	rl := okta.RateLimit{
		Present:   true,
		Limit:     s.limit,
		Remaining: max(0, s.limit-n),
		Reset:     time.Unix((idx+1)*int64(s.window/time.Second), 0).UTC(),
		Date:      now.Truncate(time.Second).UTC(),
	}
	if n > s.limit {
		s.tooMany = append(s.tooMany, local)
		return okta.Response{StatusCode: http.StatusTooManyRequests, RateLimit: rl}, rateErr(rl)
	}
	s.ok = append(s.ok, local)
	return okta.Response{StatusCode: http.StatusCreated, RateLimit: rl}, nil
}

func (s *server) counted(from, to time.Time) (ok, tooMany int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := func(ts []time.Time) (n int) {
		for _, t := range ts {
			if !t.Before(from) && t.Before(to) {
				n++
			}
		}
		return n
	}
	return in(s.ok), in(s.tooMany)
}

func rateErr(rl okta.RateLimit) *okta.Error {
	resp := okta.Response{StatusCode: http.StatusTooManyRequests, RateLimit: rl}
	return &okta.Error{
		Op:         "createUser (POST /api/v1/users)",
		StatusCode: http.StatusTooManyRequests,
		ErrorBody: okta.ErrorBody{ErrorCode: okta.CodeRateLimited,
			ErrorSummary: "API call exceeded rate limit due to too many requests."},
		Response:  resp,
		RateLimit: rl,
	}
}

// concErr is a concurrency 429: X-Rate-Limit-Limit 0.
func concErr(date time.Time) *okta.Error {
	return rateErr(okta.RateLimit{Present: true, Limit: 0, Remaining: 0, Reset: date.Add(time.Minute), Date: date})
}

func mustNew(t *testing.T, cfg Config) *Pacer {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// ok is a plain success without rate-limit headers.
func ok(context.Context) (okta.Response, error) {
	return okta.Response{StatusCode: http.StatusOK}, nil
}

// script answers with its steps in turn and records the local times of
// the calls.
type script struct {
	mu    sync.Mutex
	clock Clock
	steps []func() (okta.Response, error)
	calls []time.Time
}

func (s *script) fn(context.Context) (okta.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, s.clock.Now())
	i := min(len(s.calls), len(s.steps)) - 1
	return s.steps[i]()
}
