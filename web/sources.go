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

// userTypeChoices returns the project's user types as checkbox options and as a name lookup.
func (s *Server) userTypeChoices(c echo.Context) ([]plan.Option, map[int64]string, error) {
	uts, err := s.plan.FindUserTypes(c.Request().Context(), project(c).ID)
	if err != nil {
		return nil, nil, err
	}
	opts := make([]plan.Option, len(uts))
	names := make(map[int64]string, len(uts))
	for i, u := range uts {
		opts[i] = plan.Option{Value: strconv.FormatInt(u.ID, 10), Label: u.Name}
		names[u.ID] = u.Name
	}
	return opts, names, nil
}

func idStrings(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	return out
}

func (s *Server) sourcesPage(c echo.Context) error {
	p := project(c)
	sources, err := s.plan.FindSources(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	_, names, err := s.userTypeChoices(c)
	if err != nil {
		return err
	}
	return s.renderPage(c, templates.SourcesPage(s.chrome(c, "Sources", "sources"),
		templates.SourcesView{Sources: sources, UserTypes: names, CanEdit: can(c, auth.PermSourceEdit)}))
}

func sourceForm(src *plan.Source) templates.Form {
	form := templates.NewForm()
	form.Values["access_status"] = plan.AccessNotRequested
	form.Values["migrate_credentials"] = plan.DecisionUndecided
	form.Values["migrate_groups"] = plan.DecisionUndecided
	form.Values["migrate_memberships"] = plan.DecisionUndecided
	if src == nil {
		return form
	}
	for k, v := range map[string]string{"name": src.Name, "kind": src.Kind, "access_owner": src.AccessOwner, "access_status": src.AccessStatus,
		"access_status_date": src.AccessStatusDate, "access_reference": src.AccessReference, "migrate_credentials": src.MigrateCredentials,
		"migrate_groups": src.MigrateGroups, "migrate_memberships": src.MigrateMemberships, "password_hash_format": src.PasswordHashFormat,
		"notes": src.Notes, "version": strconv.FormatInt(src.Version, 10)} {
		form.Values[k] = v
	}
	form.Multi["user_type_ids"] = idStrings(src.UserTypeIDs)
	return form
}

func readSourceForm(f *formReader) plan.SourceInput {
	return plan.SourceInput{
		Name: f.text("name"), Kind: f.text("kind"), UserTypeIDs: f.ids("user_type_ids", "user types"),
		AccessOwner: f.text("access_owner"), AccessStatus: f.text("access_status"), AccessStatusDate: f.text("access_status_date"),
		AccessReference: f.text("access_reference"), MigrateCredentials: f.text("migrate_credentials"),
		MigrateGroups: f.text("migrate_groups"), MigrateMemberships: f.text("migrate_memberships"),
		PasswordHashFormat: f.text("password_hash_format"), Notes: f.text("notes"),
	}
}

func (s *Server) renderSourceForm(c echo.Context, status int, form templates.Form, src *plan.Source) error {
	opts, _, err := s.userTypeChoices(c)
	if err != nil {
		return err
	}
	p := project(c)
	v := templates.RecordFormView{Form: form, UserTypes: opts, IsNew: src == nil, Action: projectURL(p, "/sources")}
	title := "Add source system"
	if src != nil {
		v.Action = projectURL(p, fmt.Sprintf("/sources/%d", src.ID))
		title = "Edit " + src.Name
	}
	return s.render(c, status, templates.SourceFormPage(s.chrome(c, title, "sources"), v))
}

func (s *Server) sourceNewForm(c echo.Context) error {
	return s.renderSourceForm(c, http.StatusOK, sourceForm(nil), nil)
}

func (s *Server) createSource(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	in := readSourceForm(f)
	err := f.parseErr()
	var src *plan.Source
	if err == nil {
		src, err = s.plan.CreateSource(c.Request().Context(), p.ID, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderSourceForm(c, statusForForm(err), *form, nil)
	}
	return s.redirectWithFlash(c, projectURL(p, "/sources"), fmt.Sprintf("Source system %q added.", src.Name))
}

func (s *Server) findSource(c echo.Context) (*plan.Source, error) {
	id, err := pathID(c, "id", "source")
	if err != nil {
		return nil, err
	}
	return s.plan.FindSourceByID(c.Request().Context(), project(c).ID, id)
}

func (s *Server) sourceEditForm(c echo.Context) error {
	src, err := s.findSource(c)
	if err != nil {
		return err
	}
	return s.renderSourceForm(c, http.StatusOK, sourceForm(src), src)
}

func (s *Server) updateSource(c echo.Context) error {
	p := project(c)
	src, err := s.findSource(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in := readSourceForm(f)
	version := f.version()
	err = f.parseErr()
	if err == nil {
		_, err = s.plan.UpdateSource(c.Request().Context(), p.ID, src.ID, version, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderSourceForm(c, statusForForm(err), *form, src)
	}
	return s.redirectWithFlash(c, projectURL(p, "/sources"), fmt.Sprintf("Source system %q saved.", *in.Name))
}

func (s *Server) deleteSourceConfirm(c echo.Context) error {
	src, err := s.findSource(c)
	if err != nil {
		return err
	}
	p := project(c)
	return s.confirmDelete(c, "sources", fmt.Sprintf("Delete the source system %q?", src.Name),
		[]string{fmt.Sprintf("delete %s with its owner, access status and migration decisions", src.Name)},
		projectURL(p, fmt.Sprintf("/sources/%d/delete", src.ID)), projectURL(p, "/sources"))
}

func (s *Server) deleteSource(c echo.Context) error {
	src, err := s.findSource(c)
	if err != nil {
		return err
	}
	p := project(c)
	if err := s.plan.DeleteSource(c.Request().Context(), p.ID, src.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/sources"), fmt.Sprintf("Source system %q deleted.", src.Name))
}
