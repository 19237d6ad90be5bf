package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/templates"
)

func (s *Server) renderTokens(c echo.Context, status int, form templates.Form, newToken string) error {
	tokens, err := s.auth.FindAPITokens(c.Request().Context(), account(c).ID)
	if err != nil {
		return err
	}
	return s.render(c, status, templates.TokensPage(s.chrome(c, "My API tokens", "tokens"),
		templates.TokensView{Tokens: tokens, Form: form, NewToken: newToken}))
}

func (s *Server) tokensPage(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, templates.NewForm(), "")
}

// createToken shows the new token on the response itself rather than after
// a redirect: it must never be stored anywhere, not even in a flash cookie.
func (s *Server) createToken(c echo.Context) error {
	f := newFormReader(c)
	value, _, err := s.auth.CreateAPIToken(c.Request().Context(), account(c).ID, *f.text("name"))
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderTokens(c, http.StatusUnprocessableEntity, *form, "")
	}
	return s.renderTokens(c, http.StatusCreated, templates.NewForm(), value)
}

func (s *Server) findOwnToken(c echo.Context) (int64, string, error) {
	id, err := pathID(c, "id", "API token")
	if err != nil {
		return 0, "", err
	}
	tokens, err := s.auth.FindAPITokens(c.Request().Context(), account(c).ID)
	if err != nil {
		return 0, "", err
	}
	for _, t := range tokens {
		if t.ID == id {
			return id, t.Name, nil
		}
	}
	return 0, "", apperr.NotFound("API token")
}

func (s *Server) revokeTokenConfirm(c echo.Context) error {
	id, name, err := s.findOwnToken(c)
	if err != nil {
		return err
	}
	return s.renderPage(c, templates.ConfirmPage(s.chrome(c, "Revoke token", "tokens"), templates.ConfirmView{
		Heading:      fmt.Sprintf("Revoke the token %q?", name),
		Consequences: []string{"make every script that uses this token fail with 401 at once"},
		Action:       fmt.Sprintf("/tokens/%d/revoke", id),
		Cancel:       "/tokens",
		Button:       "Revoke token",
		Form:         templates.NewForm(),
	}))
}

func (s *Server) revokeToken(c echo.Context) error {
	id, name, err := s.findOwnToken(c)
	if err != nil {
		return err
	}
	if err := s.auth.RevokeAPIToken(c.Request().Context(), account(c).ID, id); err != nil {
		return err
	}
	return s.redirectWithFlash(c, "/tokens", fmt.Sprintf("Token %q revoked.", name))
}
