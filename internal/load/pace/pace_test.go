package pace

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
)

func TestNewRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"negative share", Config{Share: -0.1}, "Share is -0.1"},
		{"share above 1", Config{Share: 1.5}, "(0,1]"},
		{"NaN share", Config{Share: math.NaN()}, "Share is NaN"},
		{"negative in flight", Config{MaxInFlight: -1}, "MaxInFlight is -1"},
		{"too many in flight", Config{MaxInFlight: 1001}, "want 1 to 1000"},
		{"negative rate waits", Config{MaxRateWaits: -1}, "MaxRateWaits"},
		{"negative base backoff", Config{BaseBackoff: -time.Second}, "BaseBackoff is negative"},
		{"negative max backoff", Config{MaxBackoff: -time.Second}, "MaxBackoff is negative"},
		{"max below base", Config{BaseBackoff: time.Second, MaxBackoff: time.Millisecond}, "below BaseBackoff"},
		{"negative window", Config{Window: -time.Minute}, "Window is negative"},
		{"negative margin", Config{ResetMargin: -1}, "ResetMargin is negative"},
		{"negative recover", Config{RecoverAfter: -1}, "RecoverAfter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.cfg)
			if err == nil || p != nil {
				t.Fatalf("New(%+v) = %v, %v; want an error", tc.cfg, p, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "pace: ") {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}

	p := mustNew(t, Config{})
	if s := p.Stats(); s.InFlightLimit != DefaultMaxInFlight || s.InFlight != 0 || len(s.Buckets) != 0 {
		t.Errorf("default Stats = %+v", s)
	}
	if p.share != DefaultShare || p.maxRateWaits != DefaultMaxRateWaits || p.base != DefaultBaseBackoff ||
		p.maxB != DefaultMaxBackoff || p.window != time.Minute || p.margin != DefaultResetMargin {
		t.Errorf("defaults not applied: %+v", p)
	}
	for _, s := range []float64{0, -1, 1.01, math.NaN(), math.Inf(1)} {
		if err := p.SetShare(s); err == nil {
			t.Errorf("SetShare(%v) accepted", s)
		}
	}
	for _, n := range []int{0, -3, 1001} {
		if err := p.SetMaxInFlight(n); err == nil {
			t.Errorf("SetMaxInFlight(%d) accepted", n)
		}
	}
	if err := p.SetShare(1); err != nil {
		t.Errorf("SetShare(1): %v", err)
	}
	if _, err := p.Send(context.Background(), "users", nil); err == nil {
		t.Error("Send with a nil func succeeded")
	}
}

// Once an answer told the limit, requests go every Window/(Share×Limit).
func TestEvenPacing(t *testing.T) {
	clock := newFakeClock()
	srv := newServer(clock, 600, 0)
	p := mustNew(t, Config{Share: 0.5, Clock: clock})
	var calls []time.Time
	send := func() {
		t.Helper()
		_, err := p.Send(context.Background(), "users", func(context.Context) (okta.Response, error) {
			calls = append(calls, clock.Now())
			return srv.handle()
		})
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	for range 30 {
		send()
	}
	// The first request goes at once and brings the headers; the second
	// goes at once too; then 600×0.5 a minute, every 200 ms.
	for i, c := range calls {
		want := t0
		if i > 0 {
			want = t0.Add(time.Duration(i-1) * 200 * time.Millisecond)
		}
		if !c.Equal(want) {
			t.Fatalf("call %d at %s; want %s", i, c.Sub(t0), want.Sub(t0))
		}
	}

	// A live change of the share: after the slot already granted, every
	// 100 ms.
	if err := p.SetShare(1); err != nil {
		t.Fatal(err)
	}
	calls = nil
	for range 10 {
		send()
	}
	for i := 2; i < len(calls); i++ {
		if gap := calls[i].Sub(calls[i-1]); gap != 100*time.Millisecond {
			t.Fatalf("after SetShare(1), gap %d is %s; want 100ms", i, gap)
		}
	}
	if ok, tooMany := srv.counted(t0, clock.Now().Add(time.Hour)); ok != 40 || tooMany != 0 {
		t.Errorf("server saw %d ok, %d 429", ok, tooMany)
	}
	b := p.Stats().Buckets["users"]
	if b.Limit != 600 || b.Remaining != 560 || b.Headroom != 560.0/600 {
		t.Errorf("bucket stats %+v; want limit 600, 560 left", b)
	}
}

// When the estimate reaches the reserve, requests wait for the window's
// reset as the server's clock tells it, whatever the local clock says.
func TestReserveWaitsForResetByServerClock(t *testing.T) {
	for _, skew := range []time.Duration{0, 5 * time.Hour, -(3*time.Hour + 17*time.Minute)} {
		t.Run(skew.String(), func(t *testing.T) {
			clock := newFakeClock()
			// The server's window resets 20 s after the first request,
			// and the org's other traffic has already used 3 of 10.
			serverStart := time.Date(2031, 3, 4, 9, 0, 40, 0, time.UTC).Add(skew)
			srv := newServer(clock, 10, serverStart.Sub(t0))
			srv.other = 3
			p := mustNew(t, Config{Share: 0.5, Clock: clock})
			var calls []time.Duration
			for range 5 {
				_, err := p.Send(context.Background(), "users", func(context.Context) (okta.Response, error) {
					calls = append(calls, clock.Now().Sub(t0))
					return srv.handle()
				})
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
			}
			// 1st: unknown, goes; it says 6 left, reserve 5: one more may
			// go. 3rd waits for the reset (20 s by the server's clock)
			// plus 250 ms. 4th is paced (60 s / 5 = 12 s). 5th waits for
			// the next reset: 60 s after the 3rd answer's Date, which
			// was truncated to 20 s, so 80.25 s, plus 250 ms.
			want := []time.Duration{0, 0, 20250 * time.Millisecond, 32250 * time.Millisecond, 80500 * time.Millisecond}
			if len(calls) != len(want) {
				t.Fatalf("calls %v", calls)
			}
			for i := range want {
				if calls[i] != want[i] {
					t.Fatalf("calls at %v; want %v", calls, want)
				}
			}
			if _, tooMany := srv.counted(t0, clock.Now().Add(time.Hour)); tooMany != 0 {
				t.Errorf("%d 429s", tooMany)
			}
			b := p.Stats().Buckets["users"]
			wantReset := serverStart.Add(140 * time.Second).Truncate(time.Second)
			if !b.Reset.Equal(wantReset) || b.Limit != 10 || b.Remaining != 6 {
				t.Errorf("bucket %+v; want Reset %s (server clock), 6 of 10 left", b, wantReset)
			}
		})
	}
}

// A rate 429 is waited out until Reset − Date (server clock) plus the
// margin, then the request is sent again.
func TestRate429WaitedOut(t *testing.T) {
	clock := newFakeClock()
	date := t0.Add(3*time.Hour + 1234*time.Millisecond).Truncate(time.Second)
	limited := rateErr(okta.RateLimit{Present: true, Limit: 600, Remaining: 0, Reset: date.Add(7 * time.Second), Date: date})
	good := okta.Response{StatusCode: http.StatusCreated, RequestID: "req-2",
		RateLimit: okta.RateLimit{Present: true, Limit: 600, Remaining: 599, Reset: date.Add(67 * time.Second), Date: date.Add(7 * time.Second)}}
	sc := &script{clock: clock, steps: []func() (okta.Response, error){
		func() (okta.Response, error) { return limited.Response, limited },
		func() (okta.Response, error) { return good, nil },
	}}
	p := mustNew(t, Config{Clock: clock})
	resp, err := p.Send(context.Background(), "users", sc.fn)
	if err != nil || resp != good {
		t.Fatalf("Send = %+v, %v; want the second answer", resp, err)
	}
	if len(sc.calls) != 2 {
		t.Fatalf("fn called %d times; want 2", len(sc.calls))
	}
	if gap := sc.calls[1].Sub(sc.calls[0]); gap != 7250*time.Millisecond {
		t.Errorf("retried after %s; want 7.25s (Reset − Date + 250ms)", gap)
	}
	if s := p.Stats(); s.RateWaits != 1 || s.ConcurrencyWaits != 0 || s.InFlight != 0 {
		t.Errorf("stats %+v", s)
	}
}

// A storm of 429s: after MaxRateWaits waits the 429 goes back to the caller.
func TestRate429StormGivesUp(t *testing.T) {
	t.Run("with headers", func(t *testing.T) {
		clock := newFakeClock()
		var last *okta.Error
		sc := &script{clock: clock, steps: []func() (okta.Response, error){func() (okta.Response, error) {
			date := clock.Now().Add(time.Hour).Truncate(time.Second)
			last = rateErr(okta.RateLimit{Present: true, Limit: 600, Remaining: 0, Reset: date.Add(2 * time.Second), Date: date})
			return last.Response, last
		}}}
		p := mustNew(t, Config{Clock: clock, MaxRateWaits: 3})
		resp, err := p.Send(context.Background(), "users", sc.fn)
		if len(sc.calls) != 4 {
			t.Errorf("fn called %d times; want 1 + 3 waits", len(sc.calls))
		}
		if err != last || !okta.IsRateLimited(err) || resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("Send = %+v, %v; want the last 429 as is", resp, err)
		}
		if s := p.Stats(); s.RateWaits != 3 {
			t.Errorf("RateWaits %d; want 3", s.RateWaits)
		}
	})
	t.Run("without headers", func(t *testing.T) {
		clock := newFakeClock()
		e := &okta.Error{Op: "x", StatusCode: http.StatusTooManyRequests}
		sc := &script{clock: clock, steps: []func() (okta.Response, error){func() (okta.Response, error) { return okta.Response{}, e }}}
		p := mustNew(t, Config{Clock: clock, MaxRateWaits: 2, Rand: func() float64 { return 0.5 }})
		_, err := p.Send(context.Background(), "users", sc.fn)
		if err != e || len(sc.calls) != 3 {
			t.Errorf("Send: %v after %d calls; want the 429 after 3", err, len(sc.calls))
		}
		for _, d := range clock.Sleeps() {
			if d != 375*time.Millisecond { // Backoff(1) with jitter 0.5
				t.Errorf("slept %s without a reset to go by; want a backoff of 375ms", d)
			}
		}
	})
}

// A concurrency 429 halves the in-flight limit, never below 1, retries after
// a jittered pause; the limit creeps back up by one per run of successes,
// never above MaxInFlight.
func TestConcurrency429(t *testing.T) {
	clock := newFakeClock()
	p := mustNew(t, Config{Clock: clock, MaxInFlight: 8, RecoverAfter: 5, Rand: func() float64 { return 0.5 }})
	limitedOnce := func() *script {
		return &script{clock: clock, steps: []func() (okta.Response, error){
			func() (okta.Response, error) { e := concErr(clock.Now()); return e.Response, e },
			func() (okta.Response, error) { return okta.Response{StatusCode: http.StatusOK}, nil },
		}}
	}
	for i, want := range []int{4, 2, 1, 1} {
		sc := limitedOnce()
		resp, err := p.Send(context.Background(), "users", sc.fn)
		if err != nil || resp.StatusCode != http.StatusOK || len(sc.calls) != 2 {
			t.Fatalf("Send = %v, %v after %d calls", resp, err, len(sc.calls))
		}
		if gap := sc.calls[1].Sub(sc.calls[0]); gap != 375*time.Millisecond {
			t.Errorf("retried after %s; want Backoff(1) = 375ms", gap)
		}
		s := p.Stats()
		if s.InFlightLimit != want || s.ConcurrencyWaits != int64(i+1) || s.RateWaits != 0 {
			t.Fatalf("after %d concurrency 429s: %+v; want limit %d", i+1, s, want)
		}
		if len(s.Buckets) != 0 {
			t.Errorf("learnt the concurrency 429's counters as the bucket's: %+v", s.Buckets)
		}
	}
	// One success came after the last 429; 4 more make a run of 5.
	want := 1
	for i := range 60 {
		if _, err := p.Send(context.Background(), "users", ok); err != nil {
			t.Fatal(err)
		}
		if (i+2)%5 == 0 && want < 8 {
			want++
		}
		if got := p.Stats().InFlightLimit; got != want {
			t.Fatalf("after %d successes the limit is %d; want %d", i+2, got, want)
		}
	}
}

// Requests in flight together that all meet a concurrency 429 halve the
// limit once, not once each.
func TestConcurrency429BurstHalvesOnce(t *testing.T) {
	clock := newFakeClock()
	p := mustNew(t, Config{Clock: clock, MaxInFlight: 8})
	var arrived sync.WaitGroup
	arrived.Add(4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			_, err := p.Send(context.Background(), "users", func(context.Context) (okta.Response, error) {
				if first {
					first = false
					arrived.Done()
					arrived.Wait() // all four in flight at once
					e := concErr(t0)
					return e.Response, e
				}
				return okta.Response{StatusCode: http.StatusOK}, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if s := p.Stats(); s.InFlightLimit != 4 || s.ConcurrencyWaits != 4 {
		t.Errorf("stats %+v; want the limit halved once (4) after 4 waits", s)
	}
}

// Under many concurrent Send calls the number in flight never exceeds the
// limit, even while concurrency 429s lower it.
func TestInFlightNeverExceedsLimit(t *testing.T) {
	clock := newFakeClock()
	const maxInFlight = 3
	p := mustNew(t, Config{Clock: clock, MaxInFlight: maxInFlight, RecoverAfter: 3})
	var cur, peak, calls atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				_, err := p.Send(context.Background(), "users", func(context.Context) (okta.Response, error) {
					n := cur.Add(1)
					defer cur.Add(-1)
					for {
						m := peak.Load()
						if n <= m || peak.CompareAndSwap(m, n) {
							break
						}
					}
					if s := p.Stats(); s.InFlight > maxInFlight {
						t.Errorf("Stats.InFlight %d", s.InFlight)
					}
					if calls.Add(1)%7 == 0 {
						e := concErr(t0)
						return e.Response, e
					}
					return okta.Response{StatusCode: http.StatusOK}, nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if m := peak.Load(); m > maxInFlight || m < 1 {
		t.Errorf("peak in flight %d; want 1..%d", m, maxInFlight)
	}
	if s := p.Stats(); s.InFlight != 0 || s.InFlightLimit < 1 || s.InFlightLimit > maxInFlight {
		t.Errorf("stats after the run %+v", s)
	}
}

// Raising MaxInFlight live wakes a request waiting for a slot; lowering it
// or concurrency 429s keep the limit within it.
func TestSetMaxInFlight(t *testing.T) {
	clock := newFakeClock()
	p := mustNew(t, Config{Clock: clock, MaxInFlight: 1})
	hold, inA := make(chan struct{}), make(chan struct{})
	aDone := make(chan struct{})
	go func() {
		defer close(aDone)
		p.Send(context.Background(), "users", func(context.Context) (okta.Response, error) {
			close(inA)
			<-hold
			return okta.Response{StatusCode: http.StatusOK}, nil
		})
	}()
	<-inA
	bDone := make(chan error, 1)
	go func() {
		_, err := p.Send(context.Background(), "users", ok)
		bDone <- err
	}()
	for p.waiting() == 0 { // B is waiting for the slot A holds
		time.Sleep(time.Millisecond)
	}
	if err := p.SetMaxInFlight(2); err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil { // went while A still holds its slot
		t.Fatalf("B: %v", err)
	}
	close(hold)
	<-aDone

	for _, step := range []struct {
		set, want int
		limited   bool
	}{
		{set: 10, want: 10},
		{limited: true, want: 5},
		{set: 20, want: 5}, // a limit lowered by 429s stays
		{set: 3, want: 3},
		{set: 8, want: 8}, // not lowered by 429s: follows MaxInFlight
	} {
		if step.limited {
			sc := &script{clock: clock, steps: []func() (okta.Response, error){
				func() (okta.Response, error) { e := concErr(t0); return e.Response, e },
				func() (okta.Response, error) { return okta.Response{StatusCode: http.StatusOK}, nil },
			}}
			if _, err := p.Send(context.Background(), "users", sc.fn); err != nil {
				t.Fatal(err)
			}
		} else if err := p.SetMaxInFlight(step.set); err != nil {
			t.Fatal(err)
		}
		if got := p.Stats().InFlightLimit; got != step.want {
			t.Fatalf("after %+v the limit is %d; want %d", step, got, step.want)
		}
	}
}

// waiting says whether a request waits for a slot (for tests).
func (p *Pacer) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.changed != nil {
		return 1
	}
	return 0
}

// Cancelling the context ends every kind of wait at once with ctx.Err().
func TestCancelDuringWait(t *testing.T) {
	t.Run("rate wait", func(t *testing.T) {
		clock := &blockClock{sleeping: make(chan time.Duration, 1)}
		p := mustNew(t, Config{Clock: clock})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		calls := 0
		done := make(chan error, 1)
		go func() {
			_, err := p.Send(ctx, "users", func(context.Context) (okta.Response, error) {
				calls++
				e := rateErr(okta.RateLimit{Present: true, Limit: 600, Remaining: 0, Reset: t0.Add(30 * time.Second), Date: t0})
				return e.Response, e
			})
			done <- err
		}()
		if d := <-clock.sleeping; d != 30250*time.Millisecond {
			t.Errorf("waiting %s; want 30.25s", d)
		}
		cancel()
		if err := <-done; err != context.Canceled {
			t.Errorf("Send = %v; want context.Canceled", err)
		}
		if calls != 1 {
			t.Errorf("fn called %d times; want once", calls)
		}
	})
	t.Run("system clock", func(t *testing.T) {
		p := mustNew(t, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		_, err := p.Send(ctx, "users", func(context.Context) (okta.Response, error) {
			calls++
			now := time.Now().UTC().Truncate(time.Second)
			e := rateErr(okta.RateLimit{Present: true, Limit: 600, Remaining: 0, Reset: now.Add(time.Hour), Date: now})
			time.AfterFunc(5*time.Millisecond, cancel) // while Send waits the hour
			return e.Response, e
		})
		if err != context.Canceled || calls != 1 {
			t.Errorf("Send = %v after %d calls; want context.Canceled after 1", err, calls)
		}
	})
	t.Run("slot wait", func(t *testing.T) {
		p := mustNew(t, Config{Clock: newFakeClock(), MaxInFlight: 1})
		hold, inA, aDone := make(chan struct{}), make(chan struct{}), make(chan struct{})
		go func() {
			defer close(aDone)
			p.Send(context.Background(), "users", func(context.Context) (okta.Response, error) {
				close(inA)
				<-hold
				return okta.Response{StatusCode: http.StatusOK}, nil
			})
		}()
		<-inA
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := p.Send(ctx, "groups", func(context.Context) (okta.Response, error) {
				t.Error("fn called without a free slot")
				return okta.Response{}, nil
			})
			done <- err
		}()
		for p.waiting() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Send = %v; want context.Canceled", err)
		}
		close(hold)
		<-aDone
		if s := p.Stats(); s.InFlight != 0 {
			t.Errorf("in flight after the run: %d", s.InFlight)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		p := mustNew(t, Config{Clock: newFakeClock()})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := p.Send(ctx, "users", func(context.Context) (okta.Response, error) {
			t.Error("fn called with a cancelled context")
			return okta.Response{}, nil
		})
		if err != context.Canceled {
			t.Errorf("Send = %v", err)
		}
		if err := p.Sleep(ctx, time.Hour); err != context.Canceled {
			t.Errorf("Sleep = %v", err)
		}
		if err := SystemClock().Sleep(ctx, time.Hour); err != context.Canceled {
			t.Errorf("SystemClock().Sleep = %v", err)
		}
	})
}

// Answers other than 429 go back to the caller untouched, once, after their
// headers are learnt.
func TestOtherAnswersReturnedUntouched(t *testing.T) {
	date := t0.Add(-2 * time.Hour)
	rl := okta.RateLimit{Present: true, Limit: 600, Remaining: 500, Reset: date.Add(30 * time.Second), Date: date}
	for _, tc := range []struct {
		name string
		resp okta.Response
		err  error
	}{
		{"201", okta.Response{StatusCode: 201, RateLimit: rl, RequestID: "r1"}, nil},
		{"404", okta.Response{StatusCode: 404, RateLimit: rl}, &okta.Error{Op: "getUser", StatusCode: 404, ErrorBody: okta.ErrorBody{ErrorCode: okta.CodeNotFound}, RateLimit: rl}},
		{"400 duplicate", okta.Response{StatusCode: 400, RateLimit: rl}, &okta.Error{Op: "createUser", StatusCode: 400, ErrorBody: okta.ErrorBody{ErrorCode: okta.CodeValidation}, RateLimit: rl}},
		{"500", okta.Response{StatusCode: 500, RateLimit: rl}, &okta.Error{Op: "createUser", StatusCode: 500, ErrorBody: okta.ErrorBody{ErrorCode: okta.CodeInternal}, RateLimit: rl}},
		{"503 read-only", okta.Response{StatusCode: 503, RateLimit: rl}, &okta.Error{Op: "createUser", StatusCode: 503, ErrorBody: okta.ErrorBody{ErrorCode: okta.CodeReadOnly}, RateLimit: rl}},
		{"502 from a proxy", okta.Response{StatusCode: 502}, &okta.Error{Op: "createUser", StatusCode: 502, Detail: "text/html body"}},
		{"timeout", okta.Response{}, &okta.TransportError{Op: "createUser", Msg: "no answer within the timeout", Err: context.DeadlineExceeded}},
		{"dropped", okta.Response{}, &okta.TransportError{Op: "createUser", Msg: "connection reset by peer", Err: errors.New("read: connection reset by peer")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			p := mustNew(t, Config{Clock: clock})
			calls := 0
			resp, err := p.Send(context.Background(), "users", func(context.Context) (okta.Response, error) {
				calls++
				return tc.resp, tc.err
			})
			if calls != 1 || resp != tc.resp || err != tc.err {
				t.Errorf("Send = %+v, %v after %d calls; want %+v, %v after 1", resp, err, calls, tc.resp, tc.err)
			}
			if len(clock.Sleeps()) != 0 {
				t.Errorf("slept %v", clock.Sleeps())
			}
			b, learnt := p.Stats().Buckets["users"]
			if tc.resp.RateLimit.Present != learnt || (learnt && (b.Limit != 600 || b.Remaining != 500 || !b.Reset.Equal(rl.Reset))) {
				t.Errorf("bucket %+v (learnt %v)", b, learnt)
			}
			if s := p.Stats(); s.InFlight != 0 || s.InFlightLimit != DefaultMaxInFlight {
				t.Errorf("stats %+v", s)
			}
		})
	}
}

// Buckets keep their own rate state: a bucket out of room does not hold
// another one back.
func TestBucketsAreIndependent(t *testing.T) {
	clock := newFakeClock()
	users := newServer(clock, 600, 30*time.Second) // resets 30 s after t0
	users.other = 598
	groups := newServer(clock, 500, 0)
	p := mustNew(t, Config{Clock: clock, Share: 1})
	send := func(bucket string, srv *server) time.Duration {
		t.Helper()
		var at time.Time
		if _, err := p.Send(context.Background(), bucket, func(context.Context) (okta.Response, error) {
			at = clock.Now()
			return srv.handle()
		}); err != nil {
			t.Fatal(err)
		}
		return at.Sub(t0)
	}
	if at := send("users", users); at != 0 { // 1 left
		t.Fatalf("users 1 at %s", at)
	}
	if at := send("users", users); at != 0 { // none left
		t.Fatalf("users 2 at %s", at)
	}
	if at := send("groups", groups); at != 0 {
		t.Errorf("groups waited for users: at %s", at)
	}
	if at := send("users", users); at != 30250*time.Millisecond {
		t.Errorf("users 3 at %s; want after the reset, 30.25s", at)
	}
	s := p.Stats()
	if s.Buckets["users"].Limit != 600 || s.Buckets["groups"].Limit != 500 || s.Buckets["groups"].Remaining != 499 {
		t.Errorf("buckets %+v", s.Buckets)
	}
}

func TestBackoff(t *testing.T) {
	var r float64
	p := mustNew(t, Config{Clock: newFakeClock(), Rand: func() float64 { return r }})
	at := func(n int, rr float64) time.Duration { r = rr; return p.Backoff(n) }
	const hi = 0.999999

	if got := at(1, 0); got != 250*time.Millisecond {
		t.Errorf("Backoff(1) at jitter 0 = %s; want 250ms", got)
	}
	if got := at(0, 0); got != 250*time.Millisecond {
		t.Errorf("Backoff(0) = %s; want Backoff(1)", got)
	}
	if a, b := at(3, 0.1), at(3, 0.9); a == b || a < time.Second || b >= 2*time.Second {
		t.Errorf("Backoff(3) = %s and %s for two jitters; want different values in [1s,2s)", a, b)
	}
	// Grows: while uncapped, the least delay of retry n+1 is at least the
	// greatest of retry n, and the middle never shrinks.
	for n := 1; n < 40; n++ {
		if n <= 5 && at(n+1, 0) < at(n, hi) { // 500ms×2^n ≤ 30s
			t.Errorf("Backoff(%d) min %s < Backoff(%d) max %s", n+1, at(n+1, 0), n, at(n, hi))
		}
		if at(n+1, 0.5) < at(n, 0.5) {
			t.Errorf("Backoff(%d) shrank", n+1)
		}
	}
	// Capped, even for absurd n; out-of-range jitter is clamped.
	for _, n := range []int{7, 8, 50, 1000, math.MaxInt} {
		for _, rr := range []float64{-1, 0, 0.5, hi, 1, 7, math.NaN()} {
			if got := at(n, rr); got > DefaultMaxBackoff || got < DefaultMaxBackoff/2 {
				t.Errorf("Backoff(%d) at jitter %v = %s; want in [15s,30s]", n, rr, got)
			}
		}
	}
	// The default source jitters.
	p = mustNew(t, Config{BaseBackoff: time.Second, MaxBackoff: 4 * time.Second})
	seen := map[time.Duration]bool{}
	for range 50 {
		d := p.Backoff(10)
		if d < 2*time.Second || d > 4*time.Second {
			t.Fatalf("Backoff(10) = %s; want within [2s,4s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct delays in 50", len(seen))
	}
}
