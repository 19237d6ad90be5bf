package hook

import (
	"sync"
	"time"
)

// window counts events per key over a sliding window, keeping at most n
// times per key. Keys whose events have all aged out are swept now and
// then, so that memory follows the recent traffic, not the history.
type window struct {
	mu     sync.Mutex
	n      int
	span   time.Duration
	now    func() time.Time
	events map[string][]time.Time
	ops    int
}

func newWindow(n int, span time.Duration, now func() time.Time) *window {
	return &window{n: n, span: span, now: now, events: map[string][]time.Time{}}
}

// full reports whether key has had n events within the window.
func (w *window) full(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.recent(key, w.now())) >= w.n
}

// add records an event of key.
func (w *window) add(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	kept := w.recent(key, now)
	if len(kept) >= w.n {
		kept = kept[1:]
	}
	w.events[key] = append(kept, now)
	if w.ops++; w.ops%1024 == 0 {
		w.sweep(now)
	}
}

// take records an event of key unless the window is full, and reports
// whether it did.
func (w *window) take(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	kept := w.recent(key, now)
	if len(kept) >= w.n {
		w.events[key] = kept
		return false
	}
	w.events[key] = append(kept, now)
	return true
}

// recent drops key's events older than the window. Callers hold mu.
func (w *window) recent(key string, now time.Time) []time.Time {
	ts := w.events[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= w.span {
		i++
	}
	if i == len(ts) {
		delete(w.events, key)
		return nil
	}
	return ts[i:]
}

func (w *window) sweep(now time.Time) {
	for k := range w.events {
		w.recent(k, now)
	}
}

// throttle counts failed attempts per username (its login key) and per
// end-user address. It lives in the process: with several Ferry instances
// behind one endpoint, each counts its own share.
type throttle struct {
	users, addresses *window
}

func newThrottle(perUser, perAddress int, span time.Duration, now func() time.Time) *throttle {
	return &throttle{users: newWindow(perUser, span, now), addresses: newWindow(perAddress, span, now)}
}

// blocked reports whether the username or the address has failed too often.
func (t *throttle) blocked(loginKey, address string) bool {
	if t.users.full(loginKey) {
		return true
	}
	return address != "" && t.addresses.full(address)
}

// fail records a failed attempt.
func (t *throttle) fail(loginKey, address string) {
	t.users.add(loginKey)
	if address != "" {
		t.addresses.add(address)
	}
}
