package web

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/plan"
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
			if inv, err := s.plan.FindInventory(c.Request().Context(), p.ID); err == nil {
				ch.Project.Marks = sectionMarks(inv)
			}
		}
	}
	return ch
}

// sectionMarks computes the navigation's status mark of each plan section.
func sectionMarks(inv *plan.Inventory) map[string]string {
	r := inv.Readiness()
	started := inv.Started()
	marks := map[string]string{}
	for _, sec := range []string{plan.SectionPeople, plan.SectionSources, plan.SectionApplications, plan.SectionGoals} {
		marks[sec] = r.SectionStatus(sec, started[sec])
	}
	return marks
}

// renderPage renders a page with status 200.
func (s *Server) renderPage(c echo.Context, component templ.Component) error {
	return s.render(c, http.StatusOK, component)
}
