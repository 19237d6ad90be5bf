package hook

import (
	"io"
	"net/http"
	"strings"
)

// ServeHTTP serves the endpoint at PathPrefix+orgKey for a plain net/http
// server (tests, a dedicated listener); the console's router calls Verify.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	orgKey, ok := strings.CutPrefix(r.URL.Path, PathPrefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, err := ReadBody(r.Body, s.maxBody)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	status, resp := s.Verify(r.Context(), orgKey, r.Header, body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(resp)
}

// ReadBody reads a request body up to limit bytes and one more, so that
// Verify can tell an oversized request (answered 400) from a whole one.
func ReadBody(r io.Reader, limit int) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, int64(limit)+1))
}
