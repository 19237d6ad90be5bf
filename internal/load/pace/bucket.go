package pace

import (
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// bucket is the rate state of one rate-limit bucket. All of it is guarded by
// Pacer.mu.
//
// est is the number of requests left in the current window once every
// request sent has landed: it goes down by one when a request is sent and
// is corrected from every answer of the same window to
// min(est, Remaining − others in flight), others in flight being counted as
// not yet seen by the server (the safe side). An answer with a later Reset
// starts a new window from its Remaining. When est would drop into the
// reserve, requests wait for the window's reset.
type bucket struct {
	known    bool // an answer has told the limit
	limit    int
	est      int
	inflight int

	// resetSrv is the current window's X-Rate-Limit-Reset (server clock);
	// zero when no answer had one.
	resetSrv time.Time
	// resetLocal is the same instant on the local clock: the earliest of
	// arrival + (Reset − Date) over the window's answers, each of which is
	// late by the answer's trip back and the Date's truncation to the
	// second, never early. Zero when unknown.
	resetLocal time.Time
	// rolled says resetLocal passed and est was refilled before an answer
	// of the new window came; late answers of the old window are then
	// ignored.
	rolled bool

	next    time.Time // earliest local time the next request may go
	blocked time.Time // no request before this (a rate 429's wait)
}

func (p *Pacer) bucket(name string) *bucket {
	b := p.buckets[name]
	if b == nil {
		b = &bucket{}
		p.buckets[name] = b
	}
	return b
}

// interval spaces requests evenly at Share×Limit per window.
func (p *Pacer) interval(b *bucket) time.Duration {
	return time.Duration(float64(p.window) / (p.share * float64(b.limit)))
}

// reserve is the part of the window's limit this run leaves to others:
// (1−Share)×Limit, rounded so that at least one request per window is ours.
func (p *Pacer) reserve(b *bucket) int {
	ours := max(1, int(p.share*float64(b.limit)+1e-9))
	return max(0, b.limit-ours)
}

// gate says how long a request of b must wait at now; 0 means it may go.
func (p *Pacer) gate(b *bucket, now time.Time) time.Duration {
	var wait time.Duration
	if now.Before(b.blocked) {
		wait = b.blocked.Sub(now)
	}
	if !b.known { // before any answer: the first answers bring the headers
		return wait
	}
	p.roll(b, now)
	if now.Before(b.next) {
		wait = max(wait, b.next.Sub(now))
	}
	if b.est <= p.reserve(b) {
		if b.resetLocal.IsZero() { // no reset told: assume a window from now
			b.resetLocal = now.Add(p.window)
		}
		wait = max(wait, b.resetLocal.Add(p.margin).Sub(now))
	}
	return wait
}

// roll starts a new window on the local estimate once the current one's
// reset (plus the margin) has passed. Requests still in flight may land in
// the new window, so they are taken off it.
func (p *Pacer) roll(b *bucket, now time.Time) {
	if b.resetLocal.IsZero() || now.Before(b.resetLocal.Add(p.margin)) {
		return
	}
	b.est = b.limit - b.inflight
	b.rolled = true
	// Until an answer tells the new window's reset, guess one window on.
	next := b.resetLocal.Add(p.window)
	if !next.After(now) {
		next = now.Add(p.window)
	}
	b.resetLocal = next
}

// sent counts a request of b going at now.
func (p *Pacer) sent(b *bucket, now time.Time) {
	b.inflight++
	if !b.known {
		return
	}
	b.est--
	iv := p.interval(b)
	// Spacing runs from the previous slot, so that a request woken a little
	// late (less than half an interval) does not push every later one back;
	// after a longer pause it runs from now.
	base := b.next
	if now.Sub(base) > iv/2 {
		base = now
	}
	b.next = base.Add(iv)
}

// learn takes in an answer's rate-limit headers, arrived at now; b.inflight
// no longer counts the answered request.
func (p *Pacer) learn(b *bucket, rl okta.RateLimit, now time.Time) {
	// No headers, or a concurrency 429, whose counters (Limit 0, Remaining
	// 0, an estimated Reset) are not the bucket's.
	if !rl.Present || rl.Limit <= 0 {
		return
	}
	left := rl.Remaining - b.inflight
	resetLocal, hasReset := p.localReset(rl, now)
	switch {
	case !b.known:
		b.known = true
		b.next = now
		b.limit, b.est = rl.Limit, left
		b.resetSrv, b.resetLocal, b.rolled = rl.Reset, resetLocal, false
	case rl.Reset.IsZero(): // no window to tell apart: just correct
		b.limit, b.est = rl.Limit, min(b.est, left)
	case rl.Reset.After(b.resetSrv): // a new window
		b.limit, b.est = rl.Limit, left
		b.resetSrv, b.resetLocal, b.rolled = rl.Reset, resetLocal, false
	case rl.Reset.Equal(b.resetSrv) && !b.rolled: // the same window
		b.limit, b.est = rl.Limit, min(b.est, left)
		if hasReset && (b.resetLocal.IsZero() || resetLocal.Before(b.resetLocal)) {
			b.resetLocal = resetLocal
		}
	default: // a late answer of a window already over
	}
}

// localReset converts rl's Reset to the local clock: the arrival time plus
// Reset − Date, both on the server's clock. Without a Date it falls back on
// the local clock, bounded to one window.
func (p *Pacer) localReset(rl okta.RateLimit, now time.Time) (time.Time, bool) {
	switch {
	case rl.Reset.IsZero():
		return time.Time{}, false
	case !rl.Date.IsZero():
		return now.Add(rl.ResetIn()), true
	}
	in := min(max(rl.Reset.Sub(now), 0), p.window)
	return now.Add(in), true
}
