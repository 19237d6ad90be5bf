package pace

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// simClock is a discrete-event clock for goroutines that wait only in its
// Sleep: once every participant sleeps, time jumps to the earliest wake-up.
type simClock struct {
	mu       sync.Mutex
	now      time.Time
	running  int // participants not asleep
	sleepers []*sleeper
}

type sleeper struct {
	wake time.Time
	ch   chan struct{}
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// join adds participants; leave removes one.
func (c *simClock) join(n int) {
	c.mu.Lock()
	c.running += n
	c.mu.Unlock()
}

func (c *simClock) leave() {
	c.mu.Lock()
	c.running--
	c.advance()
	c.mu.Unlock()
}

func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	c.mu.Lock()
	s := &sleeper{wake: c.now.Add(d), ch: make(chan struct{})}
	c.sleepers = append(c.sleepers, s)
	c.running--
	c.advance()
	c.mu.Unlock()
	select {
	case <-s.ch:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, o := range c.sleepers {
			if o == s { // not woken meanwhile
				c.sleepers = append(c.sleepers[:i], c.sleepers[i+1:]...)
				c.running++
				break
			}
		}
		return ctx.Err()
	}
}

// advance wakes the earliest sleepers once nobody runs; c.mu is held.
func (c *simClock) advance() {
	if c.running > 0 || len(c.sleepers) == 0 {
		return
	}
	next := c.sleepers[0].wake
	for _, s := range c.sleepers {
		if s.wake.Before(next) {
			next = s.wake
		}
	}
	if next.After(c.now) {
		c.now = next
	}
	keep := c.sleepers[:0]
	for _, s := range c.sleepers {
		if s.wake.After(c.now) {
			keep = append(keep, s)
			continue
		}
		close(s.ch)
		c.running++
	}
	clear(c.sleepers[len(keep):])
	c.sleepers = keep
}

// A simulated load: 10 workers send creates through one Pacer for three
// simulated minutes against a server counting per fixed one-minute window
// (limit 600) on a clock hours off the local one, each request taking
// 200–650 ms there and back.
func TestSimulatedLoad(t *testing.T) {
	for _, tc := range []struct {
		name     string
		share    float64
		other    int     // the org's other traffic, at the start of each window
		min, max float64 // achieved requests per minute after the first, over the limit
	}{
		{"share 1", 1, 0, 0.95, 1},
		{"share 0.8", 0.8, 0, 0.76, 0.8},
		{"share 1 with other traffic", 1, 120, 0.95 * 480 / 600, 480.0 / 600},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const (
				limit   = 600
				workers = 10
			)
			start := time.Date(2031, 3, 4, 10, 0, 12, 345_000_000, time.UTC)
			clock := &simClock{now: start}
			srv := newServer(clock, limit, 2*time.Hour+37*time.Minute+41*time.Second+600*time.Millisecond)
			srv.other = tc.other
			p := mustNew(t, Config{Share: tc.share, MaxInFlight: workers, Clock: clock})
			end := start.Add(3 * time.Minute)

			var wg sync.WaitGroup
			clock.join(workers)
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer clock.leave()
					half := time.Duration(100+25*w) * time.Millisecond
					for clock.Now().Before(end) {
						_, err := p.Send(context.Background(), "users", func(ctx context.Context) (okta.Response, error) {
							if err := clock.Sleep(ctx, half); err != nil {
								return okta.Response{}, err
							}
							resp, err := srv.handle()
							if err := clock.Sleep(ctx, half); err != nil {
								return okta.Response{}, err
							}
							return resp, err
						})
						if err != nil && !okta.IsRateLimited(err) {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()

			firstOK, firstTooMany := srv.counted(start, start.Add(time.Minute))
			okN, tooMany := srv.counted(start.Add(time.Minute), end)
			rate := float64(okN) / 2 / limit // two minutes
			s := p.Stats()
			t.Logf("first minute: %d ok, %d 429; then %.1f/min (%.3f of the limit), %d 429; rate waits %d; bucket %+v",
				firstOK, firstTooMany, float64(okN)/2, rate, tooMany, s.RateWaits, s.Buckets["users"])
			if tooMany != 0 {
				t.Errorf("%d 429s after the first minute", tooMany)
			}
			if rate < tc.min || rate > tc.max+0.005 {
				t.Errorf("achieved %.3f of the limit; want %.3f to %.3f", rate, tc.min, tc.max)
			}
			if s.InFlight != 0 {
				t.Errorf("%d still in flight", s.InFlight)
			}
		})
	}
}
