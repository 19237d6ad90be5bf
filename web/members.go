package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/templates"
)

func (s *Server) renderMembers(c echo.Context, status int, form templates.Form) error {
	members, err := s.auth.FindMembers(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return s.render(c, status, templates.MembersPage(s.chrome(c, "Members", "members"),
		templates.MembersView{Members: members, CanManage: can(c, auth.PermMembersManage), Form: form}))
}

func (s *Server) membersPage(c echo.Context) error {
	form := templates.NewForm()
	form.Values["role"] = string(auth.RoleViewer)
	return s.renderMembers(c, http.StatusOK, form)
}

func (s *Server) addMember(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	m, err := s.auth.AddMember(c.Request().Context(), p.ID, *f.text("email"), auth.Role(*f.text("role")))
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderMembers(c, statusForForm(err), *form)
	}
	return s.redirectWithFlash(c, projectURL(p, "/members"), fmt.Sprintf("%s is now %s of this project.", m.Account.Name, m.Role.Label()))
}

// findMember returns the membership named by :id in the current project.
func (s *Server) findMember(c echo.Context) (*auth.Membership, error) {
	id, err := pathID(c, "id", "member")
	if err != nil {
		return nil, err
	}
	members, err := s.auth.FindMembers(c.Request().Context(), project(c).ID)
	if err != nil {
		return nil, err
	}
	for i := range members {
		if members[i].ID == id {
			return &members[i], nil
		}
	}
	return nil, apperr.NotFound("member")
}

func (s *Server) updateMember(c echo.Context) error {
	p := project(c)
	m, err := s.findMember(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	newRole := auth.Role(*f.text("role"))
	if err := s.auth.UpdateMemberRole(c.Request().Context(), p.ID, m.ID, f.version(), newRole); err != nil {
		ae := apperr.As(err)
		if ae.Code == apperr.CodeInternal || ae.Code == apperr.CodeNotFound {
			return err
		}
		s.setFlash(c, "error", ae.Message)
		return c.Redirect(http.StatusSeeOther, projectURL(p, "/members"))
	}
	return s.redirectWithFlash(c, projectURL(p, "/members"), fmt.Sprintf("%s is now %s.", m.Account.Name, newRole.Label()))
}

func (s *Server) removeMemberConfirm(c echo.Context) error {
	m, err := s.findMember(c)
	if err != nil {
		return err
	}
	p := project(c)
	return s.renderPage(c, templates.ConfirmPage(s.chrome(c, "Remove member", "members"), templates.ConfirmView{
		Heading:      fmt.Sprintf("Remove %s from %q?", m.Account.Name, p.Name),
		Consequences: []string{fmt.Sprintf("take away %s's access to this project (their account stays)", m.Account.Email)},
		Action:       projectURL(p, fmt.Sprintf("/members/%d/remove", m.ID)),
		Cancel:       projectURL(p, "/members"),
		Button:       "Remove member",
		Form:         templates.NewForm(),
	}))
}

func (s *Server) removeMember(c echo.Context) error {
	p := project(c)
	m, err := s.findMember(c)
	if err != nil {
		return err
	}
	if err := s.auth.RemoveMember(c.Request().Context(), p.ID, m.ID); err != nil {
		ae := apperr.As(err)
		if ae.Code != apperr.CodeInvalid {
			return err
		}
		s.setFlash(c, "error", ae.Message)
		return c.Redirect(http.StatusSeeOther, projectURL(p, "/members"))
	}
	to := projectURL(p, "/members")
	if m.AccountID == account(c).ID && !account(c).IsAdmin {
		to = "/projects" // they just removed themselves
	}
	return s.redirectWithFlash(c, to, fmt.Sprintf("%s removed from the project.", m.Account.Name))
}
