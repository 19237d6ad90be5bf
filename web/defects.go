package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/templates"
)

// DefectService is what the web layer needs of the projects' defect logs.
type DefectService interface {
	Find(ctx context.Context, projectID, id int64) (*defects.Defect, error)
	List(ctx context.Context, projectID int64, f defects.Filter) ([]defects.Defect, error)
	CountByTicketStatus(ctx context.Context, projectID int64) (map[string]int64, error)
	Create(ctx context.Context, projectID int64, actorName string, in defects.Input) (*defects.Defect, error)
	Update(ctx context.Context, projectID, id, version int64, in defects.Input) (*defects.Defect, error)
}

// defectFilter reads the log's filters from the query; an unknown value is
// dropped (and so shows everything) rather than answered with an error page.
func defectFilter(c echo.Context) defects.Filter {
	pick := func(name string, opts []templates.Option) string {
		v := c.QueryParam(name)
		for _, o := range opts {
			if o.Value == v {
				return v
			}
		}
		return ""
	}
	return defects.Filter{TicketStatus: pick("ticket_status", defects.TicketStatuses()),
		Category: pick("category", defects.Categories()), Priority: pick("priority", defects.Priorities())}
}

func (s *Server) defectsPage(c echo.Context) error {
	p := project(c)
	ctx := c.Request().Context()
	f := defectFilter(c)
	list, err := s.defects.List(ctx, p.ID, f)
	if err != nil {
		return err
	}
	counts, err := s.defects.CountByTicketStatus(ctx, p.ID)
	if err != nil {
		return err
	}
	var total int64
	for _, n := range counts {
		total += n
	}
	return s.renderPage(c, templates.DefectsPage(s.chrome(c, "Defect log", "defects"), templates.DefectsView{
		Defects: list, Filter: f, Counts: counts, Total: total, CanEdit: can(c, auth.PermRun)}))
}

func defectForm(d *defects.Defect) templates.Form {
	form := templates.NewForm()
	if d == nil {
		form.Values["test_status"] = defects.TestFailed
		form.Values["ticket_status"] = defects.TicketOpen
		form.Values["priority"] = defects.PriorityMedium
		form.Values["category"] = defects.CategoryOther
		return form
	}
	for k, v := range map[string]string{"use_case": d.UseCase, "description": d.Description, "test_status": d.TestStatus,
		"ticket_status": d.TicketStatus, "priority": d.Priority, "category": d.Category, "notes": d.Notes,
		"version": strconv.FormatInt(d.Version, 10)} {
		form.Values[k] = v
	}
	return form
}

func readDefectForm(f *formReader) defects.Input {
	return defects.Input{UseCase: *f.text("use_case"), Description: *f.text("description"), TestStatus: *f.text("test_status"),
		TicketStatus: *f.text("ticket_status"), Priority: *f.text("priority"), Category: *f.text("category"), Notes: *f.text("notes")}
}

func (s *Server) renderDefectForm(c echo.Context, status int, form templates.Form, d *defects.Defect) error {
	p := project(c)
	v := templates.DefectFormView{Form: form, Defect: d, Action: projectURL(p, "/defects"), CanEdit: can(c, auth.PermRun)}
	title := "Add defect"
	if d != nil {
		v.Action = projectURL(p, fmt.Sprintf("/defects/%d", d.ID))
		title = "Defect " + d.Ref()
	}
	return s.render(c, status, templates.DefectFormPage(s.chrome(c, title, "defects"), v))
}

func (s *Server) defectNewForm(c echo.Context) error {
	return s.renderDefectForm(c, http.StatusOK, defectForm(nil), nil)
}

func (s *Server) createDefect(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	in := readDefectForm(f)
	name := ""
	if a := account(c); a != nil {
		name = a.Name
	}
	d, err := s.defects.Create(c.Request().Context(), p.ID, name, in)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderDefectForm(c, statusForForm(err), *form, nil)
	}
	return s.redirectWithFlash(c, projectURL(p, "/defects"), fmt.Sprintf("Defect %s added.", d.Ref()))
}

// pathDefect is the :id defect of the project.
func (s *Server) pathDefect(c echo.Context) (*defects.Defect, error) {
	id, err := pathID(c, "id", "defect")
	if err != nil {
		return nil, err
	}
	return s.defects.Find(c.Request().Context(), project(c).ID, id)
}

func (s *Server) defectEditForm(c echo.Context) error {
	d, err := s.pathDefect(c)
	if err != nil {
		return err
	}
	return s.renderDefectForm(c, http.StatusOK, defectForm(d), d)
}

func (s *Server) updateDefect(c echo.Context) error {
	p := project(c)
	d, err := s.pathDefect(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in := readDefectForm(f)
	version := f.version()
	saved, err := s.defects.Update(c.Request().Context(), p.ID, d.ID, version, in)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		// After a conflict the form carries the stored version (WithError):
		// saving again, after reviewing what changed, overwrites it knowingly.
		return s.renderDefectForm(c, statusForForm(err), *form, d)
	}
	return s.redirectWithFlash(c, projectURL(p, "/defects"), fmt.Sprintf("Defect %s saved.", saved.Ref()))
}

// exportDefects sends the whole log (filters are for the page) as a CSV or
// XLSX download, buffered so that a failure is an error page rather than
// half a file.
func (s *Server) exportDefects(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := project(c)
		list, err := s.defects.List(c.Request().Context(), p.ID, defects.Filter{})
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		var ctype string
		switch format {
		case "csv":
			ctype = "text/csv; charset=utf-8"
			err = defects.WriteCSV(&buf, list)
		case "xlsx":
			ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
			err = defects.WriteXLSX(&buf, p.Name, list)
		default:
			return apperr.NotFound("export format")
		}
		if err != nil {
			return err
		}
		filename := fmt.Sprintf("%s-defect-log.%s", slug(p.Name), format)
		c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, filename))
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.Blob(http.StatusOK, ctype, buf.Bytes())
	}
}
