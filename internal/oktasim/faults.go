package oktasim

import (
	"net/http"
	"strings"
	"time"
)

// Faults inject the failures of a real network and a real org. Rates are
// shares of requests in [0,1]; each request draws independently.
type Faults struct {
	// ServerErrorRate is the share of requests answered with a 5xx and
	// Okta's error body (500 E0000009 or 503 E0000010) before any work.
	ServerErrorRate float64
	// Latency is added to every request (while it counts as in flight).
	Latency time.Duration
	// DropRate is the share of requests whose connection is closed without
	// an answer, before any work is done.
	DropRate float64
	// LostResponseRate is the share of requests that are processed (a user
	// is created…) but whose connection is then closed without an answer.
	LostResponseRate float64
	// FailCreateLogins are logins (compared ignoring case) whose creation
	// (POST /api/v1/users) always fails with 500 E0000009 and creates
	// nothing: a deterministic failure for tests of retries and failure
	// records.
	FailCreateLogins []string
}

// failsCreate says whether creating login is made to fail.
func (f Faults) failsCreate(login string) bool {
	if login == "" {
		return false
	}
	for _, l := range f.FailCreateLogins {
		if strings.EqualFold(l, login) {
			return true
		}
	}
	return false
}

// injectFaults applies the configured faults. done means the request is
// answered (or dropped); dropAfter means handle it, then drop the answer.
func (s *Server) injectFaults(w http.ResponseWriter, r *http.Request) (dropAfter, done bool) {
	f := s.currentFaults()
	sleep(r.Context(), f.Latency)
	if f.DropRate > 0 && s.random() < f.DropRate {
		dropConnection(w)
		return false, true
	}
	if f.ServerErrorRate > 0 && s.random() < f.ServerErrorRate {
		if s.random() < 0.5 {
			writeError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error")
		} else {
			writeError(w, http.StatusServiceUnavailable, "E0000010", "Service is in read only mode")
		}
		return false, true
	}
	return f.LostResponseRate > 0 && s.random() < f.LostResponseRate, false
}

// dropConnection closes the client's connection without an HTTP answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2 or a recorder: abort the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}
