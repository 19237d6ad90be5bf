package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/templates"
)

func (s *Server) applicationsPage(c echo.Context) error {
	p := project(c)
	apps, err := s.plan.FindApplications(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	_, names, err := s.userTypeChoices(c)
	if err != nil {
		return err
	}
	return s.renderPage(c, templates.ApplicationsPage(s.chrome(c, "Applications", "applications"),
		templates.ApplicationsView{Applications: apps, UserTypes: names, CanEdit: can(c, auth.PermPlanEdit)}))
}

func applicationForm(a *plan.Application) templates.Form {
	form := templates.NewForm()
	form.Values["oin_status"] = "unknown"
	if a == nil {
		return form
	}
	for k, v := range map[string]string{"name": a.Name, "access_method": a.AccessMethod, "assignment_basis": a.AssignmentBasis,
		"oin_status": a.OINStatus, "oin_link": a.OINLink, "notes": a.Notes, "version": strconv.FormatInt(a.Version, 10)} {
		form.Values[k] = v
	}
	form.Multi["user_type_ids"] = idStrings(a.UserTypeIDs)
	return form
}

func readApplicationForm(f *formReader) plan.ApplicationInput {
	return plan.ApplicationInput{
		Name: f.text("name"), AccessMethod: f.text("access_method"), UserTypeIDs: f.ids("user_type_ids", "user types"),
		AssignmentBasis: f.text("assignment_basis"), OINStatus: f.text("oin_status"), OINLink: f.text("oin_link"), Notes: f.text("notes"),
	}
}

func (s *Server) renderApplicationForm(c echo.Context, status int, form templates.Form, a *plan.Application) error {
	opts, _, err := s.userTypeChoices(c)
	if err != nil {
		return err
	}
	p := project(c)
	v := templates.RecordFormView{Form: form, UserTypes: opts, IsNew: a == nil, Action: projectURL(p, "/applications")}
	title := "Add application"
	if a != nil {
		v.Action = projectURL(p, fmt.Sprintf("/applications/%d", a.ID))
		title = "Edit " + a.Name
	}
	return s.render(c, status, templates.ApplicationFormPage(s.chrome(c, title, "applications"), v))
}

func (s *Server) applicationNewForm(c echo.Context) error {
	return s.renderApplicationForm(c, http.StatusOK, applicationForm(nil), nil)
}

func (s *Server) createApplication(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	in := readApplicationForm(f)
	err := f.parseErr()
	var a *plan.Application
	if err == nil {
		a, err = s.plan.CreateApplication(c.Request().Context(), p.ID, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderApplicationForm(c, statusForForm(err), *form, nil)
	}
	return s.redirectWithFlash(c, projectURL(p, "/applications"), fmt.Sprintf("Application %q added.", a.Name))
}

func (s *Server) findApplication(c echo.Context) (*plan.Application, error) {
	id, err := pathID(c, "id", "application")
	if err != nil {
		return nil, err
	}
	return s.plan.FindApplicationByID(c.Request().Context(), project(c).ID, id)
}

func (s *Server) applicationEditForm(c echo.Context) error {
	a, err := s.findApplication(c)
	if err != nil {
		return err
	}
	return s.renderApplicationForm(c, http.StatusOK, applicationForm(a), a)
}

func (s *Server) updateApplication(c echo.Context) error {
	p := project(c)
	a, err := s.findApplication(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in := readApplicationForm(f)
	version := f.version()
	err = f.parseErr()
	if err == nil {
		_, err = s.plan.UpdateApplication(c.Request().Context(), p.ID, a.ID, version, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderApplicationForm(c, statusForForm(err), *form, a)
	}
	return s.redirectWithFlash(c, projectURL(p, "/applications"), fmt.Sprintf("Application %q saved.", *in.Name))
}

func (s *Server) deleteApplicationConfirm(c echo.Context) error {
	a, err := s.findApplication(c)
	if err != nil {
		return err
	}
	p := project(c)
	return s.confirmDelete(c, "applications", fmt.Sprintf("Delete the application %q?", a.Name),
		[]string{fmt.Sprintf("delete %s with its access method, user types and OIN status", a.Name)},
		projectURL(p, fmt.Sprintf("/applications/%d/delete", a.ID)), projectURL(p, "/applications"))
}

func (s *Server) deleteApplication(c echo.Context) error {
	a, err := s.findApplication(c)
	if err != nil {
		return err
	}
	p := project(c)
	if err := s.plan.DeleteApplication(c.Request().Context(), p.ID, a.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/applications"), fmt.Sprintf("Application %q deleted.", a.Name))
}
