package web

import (
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/hook"
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

// eventHookRoute is Okta's event hook endpoint: Okta delivers the System
// Log's user.import.password events there, which confirm that it saved a
// password the inline hook verified.
const eventHookRoute = "/api/hooks/okta/events/:orgKey"

// EventHook takes Okta's event hook calls (hook.Service). The password hook
// service provides it; a PasswordHook without it leaves the endpoint 404.
type EventHook interface {
	AnswerChallenge(ctx context.Context, orgKey string, header http.Header) (int, []byte)
	ReceiveEvents(ctx context.Context, orgKey string, header http.Header, body []byte) (int, []byte)
}

func (s *Server) eventHook() (EventHook, error) {
	if eh, ok := s.hook.(EventHook); ok && s.hook != nil {
		return eh, nil
	}
	return nil, apperr.NotFound("event hook")
}

// eventHookChallenge answers Okta's one-time verification of the event
// hook (the X-Okta-Verification-Challenge header echoed as JSON).
func (s *Server) eventHookChallenge(c echo.Context) error {
	eh, err := s.eventHook()
	if err != nil {
		return err
	}
	status, resp := eh.AnswerChallenge(c.Request().Context(), c.Param("orgKey"), c.Request().Header)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONBlob(status, resp)
}

// eventHookDelivery takes one delivery of events. The body is cut one byte
// past the service's limit, so that the service can refuse it with a 400.
func (s *Server) eventHookDelivery(c echo.Context) error {
	eh, err := s.eventHook()
	if err != nil {
		return err
	}
	body, err := hook.ReadBody(c.Request().Body, hook.MaxEventsBodyBytes)
	if err != nil {
		return c.JSONBlob(http.StatusBadRequest, []byte(`{"errorSummary":"The request could not be read."}`))
	}
	status, resp := eh.ReceiveEvents(c.Request().Context(), c.Param("orgKey"), c.Request().Header, body)
	c.Response().Header().Set("Cache-Control", "no-store")
	if len(resp) == 0 {
		return c.NoContent(status)
	}
	return c.JSONBlob(status, resp)
}
