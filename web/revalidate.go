package web

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// Staged records get their Okta profiles recomputed when the matrix
// changes: after a change that can alter profiles or their rules succeeds,
// a validation job starts if the project's newest validation no longer
// matches the matrix. It starts only for a project validated before (the
// first validation is the engineer's call), and a validation already
// running validates again at its end when the matrix moved under it (see
// jobs' validateWork).

// changesProfiles reports whether a route can change what validation
// computes: the matrix, source fields, the profile's attributes and rules,
// legal decisions (a field not to migrate feeds no profile) and the
// sources' password settings.
func changesProfiles(method, path string) bool {
	if method == "GET" {
		return false
	}
	if strings.HasSuffix(path, "/matrix/preview") || strings.HasSuffix(path, "/matrix/import") || strings.HasSuffix(path, "/credentials/prove") {
		return false // previews and proofs change nothing
	}
	for _, part := range []string{"/matrix/", "/fields", "/attributes/", "/privacy/fields/", "/credentials"} {
		if strings.Contains(path, part) {
			return true
		}
	}
	return false
}

// revalidatingAfter wraps a handler of such a route.
func (s *Server) revalidatingAfter(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := h(c)
		if err == nil && c.Response().Status < 400 && s.jobs != nil {
			s.revalidateIfStale(c)
		}
		return err
	}
}

// revalidateIfStale starts a validation when the newest one is out of date
// with the matrix. Failing to start one never fails the change itself.
func (s *Server) revalidateIfStale(c echo.Context) {
	p := project(c)
	if p == nil {
		return
	}
	ctx := c.Request().Context()
	runs, err := s.quality.LatestRuns(ctx, p.ID, 1)
	if err != nil || len(runs) == 0 {
		return
	}
	current, err := s.quality.CurrentDigest(ctx, p.ID)
	if err != nil || current == runs[0].MatrixDigest {
		return
	}
	if _, err := s.jobs.Validate(ctx, p.ID); err != nil {
		if ae := apperr.As(err); ae.Code != apperr.CodeConflict && ae.Code != apperr.CodeInvalid {
			s.log.WarnContext(ctx, "could not start the validation after a matrix change", "project", p.ID, "error", err)
		}
	}
}
