package web

import (
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// PasswordHook answers Okta's password import inline hook (hook.Service).
type PasswordHook interface {
	Verify(ctx context.Context, orgKey string, header http.Header, body []byte) (int, []byte)
	MaxBodyBytes() int
}

// passwordHook is the endpoint Okta calls at a hook user's sign-in. It is
// public: the request is authenticated by the org's shared secret, which
// the service checks (and audits when it fails). The answer is Okta's
// response shape, or an error status Okta treats as "cannot verify".
func (s *Server) passwordHook(c echo.Context) error {
	if s.hook == nil {
		return apperr.NotFound("password import hook")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, int64(s.hook.MaxBodyBytes())+1))
	if err != nil {
		return c.JSONBlob(http.StatusBadRequest, []byte(`{"errorSummary":"The request could not be read."}`))
	}
	status, resp := s.hook.Verify(c.Request().Context(), c.Param("orgKey"), c.Request().Header, body)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONBlob(status, resp)
}
