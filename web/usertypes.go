package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/templates"
)

// emptySubgroupRows is how many blank subgroup rows the form offers, so that
// subgroups can be added without JavaScript.
const emptySubgroupRows = 3

func (s *Server) peoplePage(c echo.Context) error {
	p := project(c)
	uts, err := s.plan.FindUserTypes(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	v := templates.PeopleView{UserTypes: uts, CanEdit: can(c, "plan.edit")}
	byKind := map[string]*templates.KindTotal{}
	for _, u := range uts {
		t, ok := byKind[u.Kind]
		if !ok {
			t = &templates.KindTotal{Kind: u.Kind}
			byKind[u.Kind] = t
		}
		t.Types++
		t.Users += u.UserCount
		v.Total += u.UserCount
	}
	for _, k := range plan.UserTypeKinds() {
		if t, ok := byKind[k.Value]; ok {
			v.Totals = append(v.Totals, *t)
		}
	}
	return s.renderPage(c, templates.PeoplePage(s.chrome(c, "People", "people"), v))
}

func userTypeForm(u *plan.UserType) (templates.Form, []templates.SubgroupRow) {
	form := templates.NewForm()
	var rows []templates.SubgroupRow
	if u != nil {
		form.Values["kind"] = u.Kind
		form.Values["name"] = u.Name
		form.Values["user_count"] = strconv.FormatInt(u.UserCount, 10)
		form.Values["notes"] = u.Notes
		form.Values["version"] = strconv.FormatInt(u.Version, 10)
		for _, sg := range u.Subgroups {
			rows = append(rows, templates.SubgroupRow{Name: sg.Name, Count: strconv.FormatInt(sg.UserCount, 10)})
		}
	}
	for range emptySubgroupRows {
		rows = append(rows, templates.SubgroupRow{})
	}
	return form, rows
}

// readUserTypeForm reads the user type form. Subgroup rows come as parallel
// subgroup_name/subgroup_count lists; fully empty rows are skipped.
func readUserTypeForm(f *formReader) (plan.UserTypeInput, []templates.SubgroupRow) {
	in := plan.UserTypeInput{Kind: f.text("kind"), Name: f.text("name"), UserCount: f.int64("user_count", "Number of users"), Notes: f.text("notes")}
	params, _ := f.c.FormParams()
	names, counts := params["subgroup_name"], params["subgroup_count"]
	var rows []templates.SubgroupRow
	subgroups := []plan.SubgroupInput{}
	for i := 0; i < len(names) || i < len(counts); i++ {
		var row templates.SubgroupRow
		if i < len(names) {
			row.Name = names[i]
		}
		if i < len(counts) {
			row.Count = strings.TrimSpace(counts[i])
		}
		if strings.TrimSpace(row.Name) == "" && row.Count == "" {
			continue
		}
		var n int64
		if row.Count != "" {
			var err error
			if n, err = strconv.ParseInt(strings.ReplaceAll(row.Count, ",", ""), 10, 64); err != nil {
				row.CountError = "Must be a whole number."
				f.check.Add("subgroups", "A subgroup count is not a whole number.")
			}
		}
		rows = append(rows, row)
		subgroups = append(subgroups, plan.SubgroupInput{Name: row.Name, UserCount: n})
	}
	in.Subgroups = &subgroups
	return in, rows
}

// withSubgroupErrors attaches the service's per-subgroup messages
// ("subgroups.N.name") to the rows and pads the blank rows back.
func withSubgroupErrors(form templates.Form, rows []templates.SubgroupRow) []templates.SubgroupRow {
	for i := range rows {
		if msg := form.E(fmt.Sprintf("subgroups.%d.name", i)); msg != "" {
			rows[i].NameError = msg
		}
		if msg := form.E(fmt.Sprintf("subgroups.%d.user_count", i)); msg != "" {
			rows[i].CountError = msg
		}
	}
	for range emptySubgroupRows {
		rows = append(rows, templates.SubgroupRow{})
	}
	return rows
}

func (s *Server) userTypeNewForm(c echo.Context) error {
	form, rows := userTypeForm(nil)
	p := project(c)
	return s.renderPage(c, templates.UserTypeFormPage(s.chrome(c, "Add user type", "people"),
		templates.UserTypeFormView{Form: form, Subgroups: rows, IsNew: true, Action: projectURL(p, "/people")}))
}

func (s *Server) createUserType(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	in, rows := readUserTypeForm(f)
	err := f.parseErr()
	var u *plan.UserType
	if err == nil {
		u, err = s.plan.CreateUserType(c.Request().Context(), p.ID, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, templates.UserTypeFormPage(s.chrome(c, "Add user type", "people"),
			templates.UserTypeFormView{Form: *form, Subgroups: withSubgroupErrors(*form, rows), IsNew: true, Action: projectURL(p, "/people")}))
	}
	return s.redirectWithFlash(c, projectURL(p, "/people"), fmt.Sprintf("User type %q added.", u.Name))
}

func (s *Server) findUserType(c echo.Context) (*plan.UserType, error) {
	id, err := pathID(c, "id", "user type")
	if err != nil {
		return nil, err
	}
	return s.plan.FindUserTypeByID(c.Request().Context(), project(c).ID, id)
}

func (s *Server) userTypeEditForm(c echo.Context) error {
	u, err := s.findUserType(c)
	if err != nil {
		return err
	}
	form, rows := userTypeForm(u)
	return s.renderPage(c, templates.UserTypeFormPage(s.chrome(c, "Edit "+u.Name, "people"),
		templates.UserTypeFormView{Form: form, Subgroups: rows, Action: projectURL(project(c), fmt.Sprintf("/people/%d", u.ID))}))
}

func (s *Server) updateUserType(c echo.Context) error {
	p := project(c)
	u, err := s.findUserType(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in, rows := readUserTypeForm(f)
	version := f.version()
	err = f.parseErr()
	if err == nil {
		_, err = s.plan.UpdateUserType(c.Request().Context(), p.ID, u.ID, version, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.render(c, statusForForm(err), templates.UserTypeFormPage(s.chrome(c, "Edit "+u.Name, "people"),
			templates.UserTypeFormView{Form: *form, Subgroups: withSubgroupErrors(*form, rows), Action: projectURL(p, fmt.Sprintf("/people/%d", u.ID))}))
	}
	return s.redirectWithFlash(c, projectURL(p, "/people"), fmt.Sprintf("User type %q saved.", *in.Name))
}

func (s *Server) deleteUserTypeConfirm(c echo.Context) error {
	u, err := s.findUserType(c)
	if err != nil {
		return err
	}
	p := project(c)
	return s.confirmDelete(c, "people", fmt.Sprintf("Delete the user type %q?", u.Name),
		[]string{fmt.Sprintf("delete %s with its %d subgroups and its count of %s users", u.Name, len(u.Subgroups), plan.Thousands(u.UserCount)),
			"unlink it from the sources and applications that name it"},
		projectURL(p, fmt.Sprintf("/people/%d/delete", u.ID)), projectURL(p, "/people"))
}

func (s *Server) deleteUserType(c echo.Context) error {
	u, err := s.findUserType(c)
	if err != nil {
		return err
	}
	p := project(c)
	if err := s.plan.DeleteUserType(c.Request().Context(), p.ID, u.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/people"), fmt.Sprintf("User type %q deleted.", u.Name))
}

// confirmDelete renders the confirmation page of a deletion.
func (s *Server) confirmDelete(c echo.Context, section, heading string, consequences []string, action, cancel string) error {
	return s.renderPage(c, templates.ConfirmPage(s.chrome(c, "Confirm deletion", section), templates.ConfirmView{
		Heading: heading, Consequences: consequences, Action: action, Cancel: cancel, Button: "Delete", Form: templates.NewForm(),
	}))
}
