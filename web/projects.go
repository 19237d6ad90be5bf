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

func projectURL(p *plan.Project, path string) string {
	return fmt.Sprintf("/projects/%d%s", p.ID, path)
}

// visibleProjects lists what the account may see: its projects, or every
// project for admins (who may manage members anywhere).
func (s *Server) visibleProjects(c echo.Context) ([]templates.ProjectRow, error) {
	a := account(c)
	ctx := c.Request().Context()
	roles, err := s.auth.RolesOf(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	var ids []int64
	if !a.IsAdmin {
		ids = []int64{}
		for id := range roles {
			ids = append(ids, id)
		}
	}
	projects, err := s.plan.FindProjects(ctx, ids)
	if err != nil {
		return nil, err
	}
	rows := make([]templates.ProjectRow, len(projects))
	for i, p := range projects {
		rows[i] = templates.ProjectRow{Project: p, Role: roles[p.ID]}
	}
	return rows, nil
}

func (s *Server) projectsPage(c echo.Context) error {
	rows, err := s.visibleProjects(c)
	if err != nil {
		return err
	}
	return s.renderPage(c, templates.ProjectsPage(s.chrome(c, "Projects", "projects"), rows))
}

func projectForm(p *plan.Project) templates.Form {
	form := templates.NewForm()
	form.Values["name"] = p.Name
	form.Values["description"] = p.Description
	form.Values["okta_org_url"] = p.OktaOrgURL
	form.Values["migration_type"] = p.MigrationType
	form.Values["status"] = p.Status
	form.Values["user_creation_rate_limit"] = strconv.Itoa(p.UserCreationRateLimit)
	form.Values["load_rate_share_percent"] = strconv.Itoa(p.LoadRateSharePercent)
	if p.Version != 0 {
		form.Values["version"] = strconv.FormatInt(p.Version, 10)
	}
	return form
}

func readProjectForm(f *formReader) plan.ProjectInput {
	return plan.ProjectInput{
		Name: f.text("name"), Description: f.text("description"), OktaOrgURL: f.text("okta_org_url"),
		MigrationType: f.text("migration_type"), Status: f.text("status"),
		UserCreationRateLimit: f.int("user_creation_rate_limit", "User-creation rate limit"),
		LoadRateSharePercent:  f.int("load_rate_share_percent", "Share of the rate limit"),
	}
}

func (s *Server) projectNewForm(c echo.Context) error {
	defaults := &plan.Project{MigrationType: plan.MigrationOneTime, Status: "planning", UserCreationRateLimit: 600, LoadRateSharePercent: 80}
	return s.renderPage(c, templates.ProjectFormPage(s.chrome(c, "New project", "projects"),
		templates.ProjectFormView{Form: projectForm(defaults), IsNew: true, CanEdit: true, Action: "/projects"}))
}

func (s *Server) createProject(c echo.Context) error {
	f := newFormReader(c)
	in := readProjectForm(f)
	err := f.parseErr()
	var p *plan.Project
	if err == nil {
		p, err = s.plan.CreateProject(c.Request().Context(), account(c).ID, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, templates.ProjectFormPage(s.chrome(c, "New project", "projects"),
			templates.ProjectFormView{Form: *form, IsNew: true, CanEdit: true, Action: "/projects"}))
	}
	return s.redirectWithFlash(c, projectURL(p, ""), fmt.Sprintf("Project %q created; you are its project lead. Start with the people you will move.", p.Name))
}

// refURL is where a readiness item's missing record is fixed.
func refURL(p *plan.Project, r plan.Ref) string {
	switch r.Kind {
	case "user_type":
		return projectURL(p, fmt.Sprintf("/people/%d/edit", r.ID))
	case "source":
		return projectURL(p, fmt.Sprintf("/sources/%d/edit", r.ID))
	case "application":
		return projectURL(p, fmt.Sprintf("/applications/%d/edit", r.ID))
	case plan.SectionPeople:
		return projectURL(p, "/people/new")
	case plan.SectionSources:
		return projectURL(p, "/sources/new")
	case plan.SectionApplications:
		return projectURL(p, "/applications/new")
	case sectionMatrix:
		return projectURL(p, "/matrix?show=problems")
	case sectionPrivacy:
		return projectURL(p, "/privacy")
	case sectionData:
		return projectURL(p, "/data")
	case refQuality:
		return projectURL(p, "/quality")
	}
	return projectURL(p, "/goals")
}

func (s *Server) overviewPage(c echo.Context) error {
	p := project(c)
	st, err := s.loadProjectState(c)
	if err != nil {
		return err
	}
	inv, r := st.inv, st.readiness
	v := templates.OverviewView{Project: *p, Percent: r.Percent, Done: r.Done, Total: r.Total, Estimate: inv.Estimate(),
		UserTypes: len(inv.UserTypes), Sources: len(inv.Sources), Applications: len(inv.Applications)}
	for _, it := range r.Items {
		item := templates.ChecklistItem{Label: it.Label, Done: it.Done}
		for _, m := range it.Missing {
			item.Missing = append(item.Missing, templates.Link{Label: m.Label, URL: refURL(p, m)})
		}
		v.Items = append(v.Items, item)
		if v.Next == nil && !it.Done && len(it.Missing) > 0 && sectionEditable(c, it.Section) {
			v.Next = &templates.Link{Label: "Next: " + it.Label, URL: item.Missing[0].URL}
		}
	}
	return s.renderPage(c, templates.OverviewPage(s.chrome(c, p.Name, "overview"), v))
}

// sectionEditable reports whether the viewer may fix items of a section.
func sectionEditable(c echo.Context, section string) bool {
	switch section {
	case plan.SectionSources:
		return can(c, auth.PermSourceEdit)
	case sectionPrivacy:
		return can(c, auth.PermPrivacyReview)
	case sectionData:
		return can(c, auth.PermRun)
	}
	return can(c, auth.PermPlanEdit)
}

func (s *Server) renderProjectSettings(c echo.Context, status int, form templates.Form) error {
	p := project(c)
	return s.render(c, status, templates.ProjectFormPage(s.chrome(c, "Settings", "settings"), templates.ProjectFormView{
		Form: form, CanEdit: can(c, auth.PermPlanEdit), CanDelete: can(c, auth.PermProjectDelete), Action: projectURL(p, "/settings")}))
}

func (s *Server) projectSettingsForm(c echo.Context) error {
	return s.renderProjectSettings(c, http.StatusOK, projectForm(project(c)))
}

func (s *Server) updateProject(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	in := readProjectForm(f)
	version := f.version()
	err := f.parseErr()
	if err == nil {
		_, err = s.plan.UpdateProject(c.Request().Context(), p.ID, version, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderProjectSettings(c, statusForForm(err), *form)
	}
	return s.redirectWithFlash(c, projectURL(p, "/settings"), "Project settings saved.")
}

func (s *Server) deleteProjectConfirm(c echo.Context) error {
	return s.renderDeleteProject(c, http.StatusOK, templates.NewForm())
}

func (s *Server) renderDeleteProject(c echo.Context, status int, form templates.Form) error {
	p := project(c)
	return s.render(c, status, templates.ConfirmPage(s.chrome(c, "Delete project", "settings"), templates.ConfirmView{
		Heading: fmt.Sprintf("Delete the project %q?", p.Name),
		Consequences: []string{
			"delete its user types, subgroups, source systems, applications and goals",
			"remove every member's access to it",
		},
		Action:   projectURL(p, "/delete"),
		Cancel:   projectURL(p, "/settings"),
		Button:   "Delete project",
		TypeName: p.Name,
		Form:     form,
	}))
}

func (s *Server) deleteProject(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	if err := s.plan.DeleteProject(c.Request().Context(), p.ID, *f.text("confirm_name")); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderDeleteProject(c, http.StatusUnprocessableEntity, *form)
	}
	return s.redirectWithFlash(c, "/projects", fmt.Sprintf("Project %q deleted.", p.Name))
}
