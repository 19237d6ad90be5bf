package oktasim

import "slices"

// Runtime control: tests and benchmarks change faults and limits while
// requests are in flight. Each request reads one consistent copy.

// SetFaults replaces the injected faults; requests that arrive afterwards
// see the new ones. Safe for concurrent use with requests in flight.
func (s *Server) SetFaults(f Faults) {
	f.FailCreateLogins = slices.Clone(f.FailCreateLogins)
	s.ctlMu.Lock()
	s.faults = f
	s.ctlMu.Unlock()
}

// Faults returns a copy of the faults in force.
func (s *Server) Faults() Faults {
	f := s.currentFaults()
	f.FailCreateLogins = slices.Clone(f.FailCreateLogins)
	return f
}

// currentFaults is the faults in force; FailCreateLogins is shared and must
// not be modified.
func (s *Server) currentFaults() Faults {
	s.ctlMu.RLock()
	defer s.ctlMu.RUnlock()
	return s.faults
}

// SetLimits replaces the per-window limit of every bucket (zero fields take
// DefaultLimits' values, as in Options). Requests already counted in the
// current window still count. Safe for concurrent use.
func (s *Server) SetLimits(l Limits) { s.limiter.setLimits(l.withDefaults()) }

// Limits returns the per-window limits in force.
func (s *Server) Limits() Limits { return s.limiter.current() }

// SetConcurrency replaces the number of requests in flight at once before
// 429s (n <= 0 means DefaultConcurrency). Safe for concurrent use.
func (s *Server) SetConcurrency(n int) {
	if n <= 0 {
		n = DefaultConcurrency
	}
	s.concurrency.Store(int64(n))
}

// Concurrency returns the concurrency limit in force.
func (s *Server) Concurrency() int { return int(s.concurrency.Load()) }

// UserCount is the number of users in the org, whatever their status
// (STAGED, ACTIVE, DEPROVISIONED…; deleted users are gone).
func (s *Server) UserCount() int { return s.store.userCount() }
