package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/templates"
)

func (s *Server) accountsPage(c echo.Context) error {
	accounts, err := s.auth.FindAccounts(c.Request().Context())
	if err != nil {
		return err
	}
	return s.renderPage(c, templates.AccountsPage(s.chrome(c, "Accounts", "accounts"), templates.AccountsView{Accounts: accounts}))
}

func (s *Server) accountNewForm(c echo.Context) error {
	return s.renderPage(c, templates.AccountNewPage(s.chrome(c, "New account", "accounts"), templates.NewForm()))
}

func (s *Server) createAccount(c echo.Context) error {
	f := newFormReader(c)
	in := auth.AccountInput{Name: *f.text("name"), Email: *f.text("email"), Password: c.FormValue("password"),
		IsAdmin: *f.bool("is_admin"), MustChangePassword: true}
	a, err := s.auth.CreateAccount(c.Request().Context(), in)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, templates.AccountNewPage(s.chrome(c, "New account", "accounts"), *form))
	}
	return s.redirectWithFlash(c, "/accounts", fmt.Sprintf("Account %s created. They must choose their own password when they first sign in.", a.Email))
}

func accountForm(a *auth.Account) templates.Form {
	form := templates.NewForm()
	form.Values["name"] = a.Name
	form.Values["version"] = strconv.FormatInt(a.Version, 10)
	if a.IsAdmin {
		form.Values["is_admin"] = "true"
	}
	if a.Disabled() {
		form.Values["disabled"] = "true"
	}
	return form
}

func (s *Server) accountEditView(c echo.Context) (*auth.Account, templates.AccountEditView, error) {
	id, err := pathID(c, "id", "account")
	if err != nil {
		return nil, templates.AccountEditView{}, err
	}
	a, err := s.auth.FindAccountByID(c.Request().Context(), id)
	if err != nil {
		return nil, templates.AccountEditView{}, err
	}
	return a, templates.AccountEditView{Account: *a, Form: accountForm(a), ResetForm: templates.NewForm(), IsSelf: a.ID == account(c).ID}, nil
}

func (s *Server) accountEditForm(c echo.Context) error {
	a, v, err := s.accountEditView(c)
	if err != nil {
		return err
	}
	return s.renderPage(c, templates.AccountEditPage(s.chrome(c, a.Name, "accounts"), v))
}

func (s *Server) updateAccount(c echo.Context) error {
	a, v, err := s.accountEditView(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	upd := auth.AccountUpdate{Name: f.text("name"), IsAdmin: f.bool("is_admin"), Disabled: f.bool("disabled")}
	if v.IsSelf {
		upd.IsAdmin, upd.Disabled = nil, nil
	}
	if _, err := s.auth.UpdateAccount(c.Request().Context(), a.ID, f.version(), upd); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		v.Form = *form
		return s.render(c, statusForForm(err), templates.AccountEditPage(s.chrome(c, a.Name, "accounts"), v))
	}
	return s.redirectWithFlash(c, "/accounts", fmt.Sprintf("Account %s saved.", a.Email))
}

func (s *Server) resetPassword(c echo.Context) error {
	a, v, err := s.accountEditView(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	if err := s.auth.ResetPassword(c.Request().Context(), a.ID, c.FormValue("password")); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		v.ResetForm = *form
		return s.render(c, http.StatusUnprocessableEntity, templates.AccountEditPage(s.chrome(c, a.Name, "accounts"), v))
	}
	return s.redirectWithFlash(c, fmt.Sprintf("/accounts/%d", a.ID), fmt.Sprintf("Password of %s reset; they are signed out and must choose a new one at next sign-in.", a.Email))
}
