package web

import (
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/templates"
)

// auditPageSize is how many entries one page of the log shows.
const auditPageSize = 50

// auditPage is a project's audit log.
func (s *Server) auditPage(c echo.Context) error {
	p := project(c)
	return s.renderAudit(c, audit.Filter{ProjectID: p.ID}, projectURL(p, "/audit"), "audit")
}

// consoleAuditPage is the log of console-wide records (accounts, API tokens), for admins.
func (s *Server) consoleAuditPage(c echo.Context) error {
	return s.renderAudit(c, audit.Filter{ConsoleOnly: true}, "/audit", "accounts")
}

func (s *Server) renderAudit(c echo.Context, f audit.Filter, base, section string) error {
	ctx := c.Request().Context()
	f.EntityType = c.QueryParam("entity")
	f.Limit = auditPageSize
	// Malformed filter values are ignored rather than refused: this is a read-only page.
	f.ActorID, _ = strconv.ParseInt(c.QueryParam("actor"), 10, 64)
	f.EntityID, _ = strconv.ParseInt(c.QueryParam("id"), 10, 64)
	f.BeforeID, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	if len(f.EntityType) > 50 {
		f.EntityType = ""
	}
	entries, more, err := s.audit.FindEntries(ctx, f)
	if err != nil {
		return err
	}
	actors, err := s.audit.FindActors(ctx, f.ProjectID)
	if err != nil {
		return err
	}
	v := templates.AuditView{Entries: entries, Actors: actors, ActorID: f.ActorID, EntityType: f.EntityType, EntityID: f.EntityID,
		Base: base, Console: f.ConsoleOnly}
	if more {
		q := url.Values{}
		for k, val := range map[string]string{"entity": f.EntityType, "actor": c.QueryParam("actor"), "id": c.QueryParam("id")} {
			if val != "" {
				q.Set(k, val)
			}
		}
		q.Set("before", strconv.FormatInt(entries[len(entries)-1].ID, 10))
		v.Older = base + "?" + q.Encode()
	}
	return s.renderPage(c, templates.AuditPage(s.chrome(c, "Audit log", section), v))
}
