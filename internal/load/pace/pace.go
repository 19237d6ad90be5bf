// Package pace paces requests to an Okta org: it is the part of Ferry's load
// engine that decides when a request may go.
//
// A Pacer enforces two things before it lets a request go:
//
//   - the number of requests in flight stays under a limit, which halves
//     when Okta answers with a concurrency 429 (X-Rate-Limit-Limit: 0) and
//     creeps back up by one after a run of answers without one;
//   - each rate-limit bucket (an opaque name chosen by the caller, such as
//     "users" or "groups") is spent at no more than Share of its limit:
//     requests are spaced evenly at Share×Limit per window, and a local
//     estimate of the requests left in the current window (corrected from
//     every answer's X-Rate-Limit-Remaining) keeps (1−Share)×Limit in
//     reserve for the org's other traffic, waiting for the window's reset
//     when only the reserve is left.
//
// Times told by Okta are read on the server's clock: the wait until a reset
// is X-Rate-Limit-Reset − Date, counted from the local time the answer
// arrived, so a skewed local clock does not matter (NOTES §3).
//
// A 429 is waited out and the request sent again, since Okta did not act on
// it. Every other answer (2xx, 4xx, 5xx, a transport error) goes back to the
// caller unchanged; Backoff gives the caller a jittered delay for retrying
// 5xx answers and transport failures itself.
//
// The Pacer starts no goroutine; all its state is guarded by one mutex, and
// every wait ends early when the request's context ends.
package pace

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// Defaults of Config.
const (
	// DefaultMaxInFlight is Okta's advice for bulk loads ("even large bulk
	// loads rarely require more than 10 simultaneous transactions").
	DefaultMaxInFlight = 10
	// DefaultShare leaves a fifth of every bucket to the org's other traffic.
	DefaultShare        = 0.8
	DefaultMaxRateWaits = 20
	DefaultBaseBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff   = 30 * time.Second
	// DefaultWindow is the length of Okta's rate-limit windows.
	DefaultWindow = time.Minute
	// DefaultResetMargin is waited past a window's reset before counting on
	// the new window.
	DefaultResetMargin = 250 * time.Millisecond
	// DefaultRecoverAfter is the run of answers without a concurrency 429
	// after which the in-flight limit grows by one.
	DefaultRecoverAfter = 20
	// MaxMaxInFlight bounds MaxInFlight; Okta's largest default concurrency
	// limit is 75, so anything near this is a typo.
	MaxMaxInFlight = 1000
)

// Clock is the time source of a Pacer; tests use a fake one.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx ends (returns ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real clock.
func SystemClock() Clock { return systemClock{} }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Config tunes a Pacer. The zero value of every field means its default.
type Config struct {
	// MaxInFlight is the most requests in flight at once; default 10
	// (Okta's advice). The caller caps it at the org's concurrency limit.
	// At most 1000.
	MaxInFlight int
	// Share is the share of each bucket's rate limit this run may use, in
	// (0,1]; default 0.8, leaving room for the org's other traffic.
	Share float64
	// MaxRateWaits is how many 429s in a row one request may wait out
	// before Send gives up and returns the 429; default 20.
	MaxRateWaits int
	// BaseBackoff and MaxBackoff shape Backoff, the jittered exponential
	// delay for 5xx answers, timeouts and dropped connections; defaults
	// 500ms and 30s.
	BaseBackoff, MaxBackoff time.Duration
	// Clock is the time source; default SystemClock().
	Clock Clock
	// Rand returns a number in [0,1) for jitter; default math/rand/v2. It
	// may be called from several goroutines, never at once.
	Rand func() float64
	// Window is the length of Okta's rate-limit window: it spaces requests
	// (Window / (Share×Limit)) and stands in for the next reset while no
	// answer has told it; default 1 minute.
	Window time.Duration
	// ResetMargin is waited past a window's reset before sending into the
	// new window; default 250ms.
	ResetMargin time.Duration
	// RecoverAfter is the number of answers in a row without a concurrency
	// 429 after which the in-flight limit grows by one (up to
	// MaxInFlight); default 20.
	RecoverAfter int
}

// Pacer decides when a request may go. It is safe for concurrent use.
type Pacer struct {
	clock        Clock
	maxRateWaits int
	base, maxB   time.Duration
	window       time.Duration
	margin       time.Duration
	recoverAfter int

	randMu sync.Mutex
	rand   func() float64

	mu       sync.Mutex
	share    float64
	max      int // MaxInFlight
	limit    int // current in-flight limit, 1..max
	inflight int
	gen      uint64 // bumped whenever the limit is lowered
	okRun    int    // answers in a row without a concurrency 429
	changed  chan struct{}
	buckets  map[string]*bucket

	rateWaits, concWaits int64
}

// New checks cfg and returns a Pacer.
func New(cfg Config) (*Pacer, error) {
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if err := checkMaxInFlight(cfg.MaxInFlight); err != nil {
		return nil, err
	}
	if cfg.Share == 0 {
		cfg.Share = DefaultShare
	}
	if err := checkShare(cfg.Share); err != nil {
		return nil, err
	}
	switch {
	case cfg.MaxRateWaits < 0:
		return nil, fmt.Errorf("pace: MaxRateWaits is %d; want 0 (default %d) or more", cfg.MaxRateWaits, DefaultMaxRateWaits)
	case cfg.BaseBackoff < 0:
		return nil, fmt.Errorf("pace: BaseBackoff is negative (%s)", cfg.BaseBackoff)
	case cfg.MaxBackoff < 0:
		return nil, fmt.Errorf("pace: MaxBackoff is negative (%s)", cfg.MaxBackoff)
	case cfg.Window < 0:
		return nil, fmt.Errorf("pace: Window is negative (%s)", cfg.Window)
	case cfg.ResetMargin < 0:
		return nil, fmt.Errorf("pace: ResetMargin is negative (%s)", cfg.ResetMargin)
	case cfg.RecoverAfter < 0:
		return nil, fmt.Errorf("pace: RecoverAfter is %d; want 0 (default %d) or more", cfg.RecoverAfter, DefaultRecoverAfter)
	}
	if cfg.MaxRateWaits == 0 {
		cfg.MaxRateWaits = DefaultMaxRateWaits
	}
	if cfg.BaseBackoff == 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = max(DefaultMaxBackoff, cfg.BaseBackoff)
	}
	if cfg.MaxBackoff < cfg.BaseBackoff {
		return nil, fmt.Errorf("pace: MaxBackoff (%s) is below BaseBackoff (%s)", cfg.MaxBackoff, cfg.BaseBackoff)
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.ResetMargin == 0 {
		cfg.ResetMargin = DefaultResetMargin
	}
	if cfg.RecoverAfter == 0 {
		cfg.RecoverAfter = DefaultRecoverAfter
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock()
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Float64
	}
	return &Pacer{
		clock:        cfg.Clock,
		maxRateWaits: cfg.MaxRateWaits,
		base:         cfg.BaseBackoff,
		maxB:         cfg.MaxBackoff,
		window:       cfg.Window,
		margin:       cfg.ResetMargin,
		recoverAfter: cfg.RecoverAfter,
		rand:         cfg.Rand,
		share:        cfg.Share,
		max:          cfg.MaxInFlight,
		limit:        cfg.MaxInFlight,
		buckets:      make(map[string]*bucket),
	}, nil
}

func checkShare(s float64) error {
	if !(s > 0 && s <= 1) { // also refuses NaN
		return fmt.Errorf("pace: Share is %v; want a share of the rate limit in (0,1], e.g. 0.8 for 80%%", s)
	}
	return nil
}

func checkMaxInFlight(n int) error {
	if n < 1 || n > MaxMaxInFlight {
		return fmt.Errorf("pace: MaxInFlight is %d; want 1 to %d requests in flight (Okta advises %d, and the org's concurrency limit is 15 to 75)",
			n, MaxMaxInFlight, DefaultMaxInFlight)
	}
	return nil
}

// SetShare changes the share of every bucket's rate limit, live.
func (p *Pacer) SetShare(s float64) error {
	if err := checkShare(s); err != nil {
		return err
	}
	p.mu.Lock()
	p.share = s
	p.mu.Unlock()
	return nil
}

// SetMaxInFlight changes MaxInFlight, live. A limit lowered by concurrency
// 429s stays where it is (or drops to n); otherwise the limit becomes n.
func (p *Pacer) SetMaxInFlight(n int) error {
	if err := checkMaxInFlight(n); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.limit >= p.max || p.limit > n {
		p.limit = n
	}
	p.max = n
	p.okRun = 0
	p.notify()
	return nil
}

// Sleep waits d on the Pacer's clock, or until ctx ends (returns ctx.Err()).
func (p *Pacer) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	return p.clock.Sleep(ctx, d)
}

// Backoff is the jittered delay before retry n (1-based) of a 5xx, a timeout
// or a dropped connection: "equal jitter" on BaseBackoff×2^(n−1) capped at
// MaxBackoff, i.e. a random delay in [c/2, c) for that capped c. The lower
// end of retry n+1 is the upper end of retry n until the cap.
func (p *Pacer) Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	c := p.base
	for i := 1; i < n && c < p.maxB; i++ {
		c *= 2
	}
	c = min(c, p.maxB)
	half := c / 2
	return half + time.Duration(p.random()*float64(c-half))
}

func (p *Pacer) random() float64 {
	p.randMu.Lock()
	r := p.rand()
	p.randMu.Unlock()
	switch {
	case !(r >= 0): // negative or NaN
		return 0
	case r >= 1:
		return math.Nextafter(1, 0)
	}
	return r
}

// Stats is a snapshot of a Pacer's state.
type Stats struct {
	// InFlight is the number of requests in flight now, InFlightLimit the
	// current limit (MaxInFlight unless concurrency 429s lowered it).
	InFlight, InFlightLimit int
	// RateWaits and ConcurrencyWaits count the 429s waited out.
	RateWaits, ConcurrencyWaits int64
	// Buckets holds every bucket an answer has told the limit of.
	Buckets map[string]BucketStats
}

// BucketStats is what the Pacer knows of one bucket.
type BucketStats struct {
	// Limit is the bucket's limit per window; Remaining the estimate of
	// the requests left in the current window once those in flight land
	// (never below 0).
	Limit, Remaining int
	// Reset is when the current window resets, on the server's clock (the
	// X-Rate-Limit-Reset last seen).
	Reset time.Time
	// Headroom is Remaining/Limit.
	Headroom float64
}

// Stats returns a snapshot of the Pacer's state.
func (p *Pacer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{InFlight: p.inflight, InFlightLimit: p.limit, RateWaits: p.rateWaits, ConcurrencyWaits: p.concWaits,
		Buckets: make(map[string]BucketStats, len(p.buckets))}
	for name, b := range p.buckets {
		if !b.known {
			continue
		}
		bs := BucketStats{Limit: b.limit, Remaining: max(b.est, 0), Reset: b.resetSrv}
		if b.limit > 0 {
			bs.Headroom = float64(bs.Remaining) / float64(b.limit)
		}
		s.Buckets[name] = bs
	}
	return s
}

// errNilFunc is returned by Send when given no function to call.
var errNilFunc = errors.New("pace: Send needs a function to call")

// Send calls fn when it may go: when a slot is free under the in-flight
// limit and bucket's rate allows it. Buckets are opaque names chosen by the
// caller, each with its own rate state.
//
// A 429 is waited out and fn called again, since Okta did not act on it: a
// rate 429 holds the whole bucket until the reset the answer gave, by the
// server's clock (Reset − Date) plus ResetMargin; a concurrency 429
// (X-Rate-Limit-Limit: 0) halves the in-flight limit (never below 1) and
// retries after a jittered pause (Backoff). After MaxRateWaits 429s in a row
// the last one is returned. Every other answer (2xx, 4xx, 5xx, transport
// error) is returned as is, after its rate-limit headers are learnt.
//
// When ctx ends during a wait Send returns ctx.Err() at once.
func (p *Pacer) Send(ctx context.Context, bucket string, fn func(ctx context.Context) (okta.Response, error)) (okta.Response, error) {
	if fn == nil {
		return okta.Response{}, errNilFunc
	}
	for waits, concWaits := 0, 0; ; {
		gen, err := p.acquire(ctx, bucket)
		if err != nil {
			return okta.Response{}, err
		}
		resp, ferr := fn(ctx)
		kind := p.release(bucket, gen, resp, ferr, waits < p.maxRateWaits)
		if kind == answerOther || waits >= p.maxRateWaits {
			return resp, ferr
		}
		waits++
		if kind == answerConcurrency {
			// The rate 429's wait is the bucket's (release set it); this
			// one is the request's own.
			concWaits++
			if err := p.Sleep(ctx, p.Backoff(concWaits)); err != nil {
				return okta.Response{}, err
			}
		}
	}
}

// acquire waits until a request of bucket may go and counts it as sent. It
// returns the in-flight limit's generation at that moment.
func (p *Pacer) acquire(ctx context.Context, name string) (uint64, error) {
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		p.mu.Lock()
		if p.inflight >= p.limit {
			if p.changed == nil {
				p.changed = make(chan struct{})
			}
			ch := p.changed
			p.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
		now := p.clock.Now()
		b := p.bucket(name)
		if wait := p.gate(b, now); wait > 0 {
			p.mu.Unlock()
			if err := p.clock.Sleep(ctx, wait); err != nil {
				return 0, err
			}
			continue
		}
		p.sent(b, now)
		p.inflight++
		gen := p.gen
		p.mu.Unlock()
		return gen, nil
	}
}

// notify wakes the requests waiting for a slot; p.mu is held.
func (p *Pacer) notify() {
	if p.changed != nil {
		close(p.changed)
		p.changed = nil
	}
}

type answerKind int

const (
	answerOther answerKind = iota
	answerRate
	answerConcurrency
)

// release ends a request sent at generation gen: it frees its slot, learns
// the answer's rate-limit headers and classifies it. willWait says Send
// will wait out a 429 (only then is the bucket held until the reset).
func (p *Pacer) release(name string, gen uint64, resp okta.Response, err error, willWait bool) answerKind {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.notify()
	now := p.clock.Now()
	b := p.bucket(name)
	p.inflight--
	b.inflight--

	rl, status := resp.RateLimit, resp.StatusCode
	if e, ok := okta.AsError(err); ok {
		if !rl.Present {
			rl = e.RateLimit
		}
		status = e.StatusCode
	}
	p.learn(b, rl, now)

	var te *okta.TransportError
	switch {
	case status == http.StatusTooManyRequests && rl.Present && rl.Limit == 0:
		if gen == p.gen { // not yet lowered for this burst of 429s
			p.limit = max(1, p.limit/2)
			p.gen++
		}
		p.okRun = 0
		if willWait {
			p.concWaits++
		}
		return answerConcurrency
	case status == http.StatusTooManyRequests || okta.IsRateLimited(err):
		if willWait {
			p.rateWaits++
			until := now.Add(p.rateWait(b, rl, now))
			if until.After(b.blocked) {
				b.blocked = until
			}
		}
		return answerRate
	case status >= 500 || errors.As(err, &te) || (err != nil && status == 0):
		return answerOther // says nothing about concurrency
	}
	p.okRun++
	if p.limit >= p.max {
		p.okRun = 0
	} else if p.okRun >= p.recoverAfter {
		p.limit++
		p.okRun = 0
	}
	return answerOther
}

// rateWait is how long a rate 429 holds its bucket: until the reset by the
// server's clock plus the margin; when the answer told no usable reset, the
// reset the bucket knows, or else a backoff.
func (p *Pacer) rateWait(b *bucket, rl okta.RateLimit, now time.Time) time.Duration {
	if !rl.Reset.IsZero() && !rl.Date.IsZero() {
		return rl.ResetIn() + p.margin // 0 + margin when the reset has passed
	}
	if !b.resetLocal.IsZero() && b.resetLocal.After(now) {
		return b.resetLocal.Sub(now) + p.margin
	}
	return p.Backoff(1)
}
