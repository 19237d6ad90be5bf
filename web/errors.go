package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/logging"
	"github.com/ferry-migrate/ferry/templates"
)

// statusOf maps an application error code to its HTTP status.
func statusOf(code apperr.Code) int {
	switch code {
	case apperr.CodeInvalid:
		return http.StatusUnprocessableEntity
	case apperr.CodeNotFound:
		return http.StatusNotFound
	case apperr.CodeConflict:
		return http.StatusConflict
	case apperr.CodeForbidden:
		return http.StatusForbidden
	case apperr.CodeUnauthorized:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// fromHTTPError turns echo's own errors (no route, bad method, CSRF, body too
// large) into application errors with messages for people.
func fromHTTPError(he *echo.HTTPError) *apperr.Error {
	switch he.Code {
	case http.StatusNotFound:
		return apperr.NotFound("page")
	case http.StatusMethodNotAllowed:
		return &apperr.Error{Code: apperr.CodeInvalid, Message: "This address does not accept that kind of request."}
	case http.StatusForbidden:
		return errCSRF
	case http.StatusBadRequest:
		return apperr.Invalid("The request could not be understood.", nil)
	case http.StatusRequestEntityTooLarge:
		return apperr.Invalid("The request is too large.", nil)
	}
	return apperr.Internal(he)
}

// errCSRF is the answer to a state-changing request without a valid CSRF token.
var errCSRF = apperr.Forbidden("Your form expired or came from another site. Reload the page and try again; nothing was saved.")

// apiError is the JSON error body of every API failure.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code      apperr.Code          `json:"code"`
	Message   string               `json:"message"`
	Fields    map[string]string    `json:"fields,omitempty"`
	Changes   []apperr.FieldChange `json:"changes,omitempty"`
	Version   int64                `json:"currentVersion,omitempty"`
	RequestID string               `json:"requestId"`
}

// handleError is echo's central error handler: it logs internal errors with
// their cause and shows people a message that is safe, with a reference.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var ae *apperr.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &he):
		ae = fromHTTPError(he)
		if he.Code == http.StatusMethodNotAllowed {
			ae.Code = "method_not_allowed"
		}
	default:
		ae = apperr.Internal(err)
	}
	status := statusOf(ae.Code)
	if ae.Code == "method_not_allowed" {
		status, ae.Code = http.StatusMethodNotAllowed, apperr.CodeInvalid
	}
	reqID := logging.RequestID(c.Request().Context())
	message := ae.Message
	if ae.Code == apperr.CodeInternal {
		s.log.ErrorContext(c.Request().Context(), "request failed", slog.String("path", c.Request().URL.Path), slog.Any("error", err))
		message = "Something went wrong (reference: " + reqID + ")"
	}

	if isAPI(c) {
		if status == http.StatusUnauthorized {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="ferry"`)
		}
		_ = c.JSON(status, apiError{Error: apiErrorBody{Code: ae.Code, Message: message, Fields: ae.Fields, Changes: ae.Changes,
			Version: ae.CurrentVersion, RequestID: reqID}})
		return
	}
	if status == http.StatusUnauthorized {
		next := c.Request().URL.RequestURI()
		if c.Request().Method != http.MethodGet {
			next = "/"
		}
		_ = c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(next))
		return
	}
	ref := ""
	if ae.Code == apperr.CodeInternal {
		ref = reqID
	}
	ch := s.chrome(c, "Error", "")
	if rerr := s.render(c, status, templates.ErrorPage(ch, status, message, ref)); rerr != nil {
		s.log.ErrorContext(c.Request().Context(), "render error page", slog.Any("error", rerr))
		_ = c.String(status, message)
	}
}
