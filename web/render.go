package web

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/templates"
)

// render writes component as a complete response. It renders into a buffer
// first, so that a failing template yields a clean error page instead of half
// a page with a 200 status.
func (s *Server) render(c echo.Context, status int, component templ.Component) error {
	var buf bytes.Buffer
	if err := component.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(status, echo.MIMETextHTMLCharsetUTF8, buf.Bytes())
}

// chrome builds the layout's view model for the current request.
func (s *Server) chrome(c echo.Context, title, section string) templates.Chrome {
	ch := templates.Chrome{Title: title, Section: section, Account: account(c), Assets: s.assets}
	ch.CSRF, _ = c.Get(ctxCSRF).(string)
	ch.Flash.Kind, ch.Flash.Message = s.takeFlash(c)
	if p := project(c); p != nil && ch.Account != nil {
		ch.Project = &templates.ProjectNav{ID: p.ID, Name: p.Name, Role: role(c), IsAdmin: ch.Account.IsAdmin}
		if can(c, "project.read") {
			if st, err := s.loadProjectState(c); err == nil {
				ch.Project.Marks = st.marks()
			} else {
				s.log.WarnContext(c.Request().Context(), "navigation marks", "error", err)
			}
		}
	}
	return ch
}

// renderPage renders a page with status 200.
func (s *Server) renderPage(c echo.Context, component templ.Component) error {
	return s.render(c, http.StatusOK, component)
}
