package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/templates"
)

// healthz answers 200 when the database answers, 503 when it does not.
func (s *Server) healthz(c echo.Context) error {
	if err := s.health.Ping(c.Request().Context()); err != nil {
		s.log.WarnContext(c.Request().Context(), "health check failed", "error", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}

func (s *Server) home(c echo.Context) error {
	if account(c) == nil {
		return c.Redirect(http.StatusSeeOther, "/signin")
	}
	return c.Redirect(http.StatusSeeOther, "/projects")
}

// safeNext keeps redirects after sign-in on this site. Control characters
// are refused because browsers drop tabs and newlines from a Location, which
// turns "/\t/evil.example" into "//evil.example".
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || len(next) > 1000 ||
		strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/projects"
	}
	return next
}

func (s *Server) signInForm(c echo.Context) error {
	if account(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/projects")
	}
	ch := s.chrome(c, "Sign in", "")
	if n, err := s.auth.CountAccounts(c.Request().Context()); err == nil && n == 0 {
		// Shown on this page itself: a flash cookie would only appear on the next one.
		ch.Flash = templates.Flash{Kind: "warn", Message: "No account exists yet. Use the setup link printed in Ferry's terminal to create the first admin."}
	}
	return s.renderPage(c, templates.SignInPage(ch, templates.NewForm(), safeNext(c.QueryParam("next"))))
}

func (s *Server) signIn(c echo.Context) error {
	form := templates.NewForm()
	email := c.FormValue("email")
	form.Values["email"] = email
	next := safeNext(c.FormValue("next"))
	token, _, err := s.auth.SignIn(c.Request().Context(), email, c.FormValue("password"), c.Request().UserAgent(), c.RealIP())
	if err != nil {
		ae := apperr.As(err)
		if ae.Code == apperr.CodeInternal {
			return err
		}
		form.Message = ae.Message
		return s.render(c, http.StatusUnauthorized, templates.SignInPage(s.chrome(c, "Sign in", ""), form, next))
	}
	s.setCookie(c, sessionCookie, token, s.opts.SessionTTL)
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) signOut(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.auth.SignOut(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	s.clearCookie(c, sessionCookie)
	s.setFlash(c, "ok", "You are signed out.")
	return c.Redirect(http.StatusSeeOther, "/signin")
}

func (s *Server) setupAllowed(c echo.Context, secret string) error {
	n, err := s.auth.CountAccounts(c.Request().Context())
	if err != nil {
		return err
	}
	if n > 0 {
		return apperr.NotFound("page")
	}
	if !s.auth.SetupSecretValid(secret) {
		return apperr.Forbidden("This setup link is not valid. Use the link Ferry printed in its terminal when it started.")
	}
	return nil
}

func (s *Server) setupForm(c echo.Context) error {
	secret := c.QueryParam("secret")
	if err := s.setupAllowed(c, secret); err != nil {
		return err
	}
	return s.renderPage(c, templates.SetupPage(s.chrome(c, "Set up Ferry", ""), templates.NewForm(), secret))
}

func (s *Server) setup(c echo.Context) error {
	secret := c.FormValue("secret")
	if err := s.setupAllowed(c, secret); err != nil {
		return err
	}
	f := newFormReader(c)
	in := auth.AccountInput{Name: *f.text("name"), Email: *f.text("email"), Password: c.FormValue("password")}
	ctx := c.Request().Context()
	if _, err := s.auth.CreateFirstAdmin(ctx, secret, in); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, templates.SetupPage(s.chrome(c, "Set up Ferry", ""), *form, secret))
	}
	token, _, err := s.auth.SignIn(ctx, in.Email, in.Password, c.Request().UserAgent(), c.RealIP())
	if err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, token, s.opts.SessionTTL)
	return s.redirectWithFlash(c, "/projects", "Ferry is set up and you are its admin. Create the accounts of your team under Accounts, then create a project.")
}

func (s *Server) passwordForm(c echo.Context) error {
	return s.renderPage(c, templates.ChangePasswordPage(s.chrome(c, "Change your password", ""), templates.NewForm(), account(c).MustChangePassword))
}

func (s *Server) changePassword(c echo.Context) error {
	a := account(c)
	f := newFormReader(c)
	if err := s.auth.ChangePassword(c.Request().Context(), a.ID, c.FormValue("current_password"), c.FormValue("password")); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, templates.ChangePasswordPage(s.chrome(c, "Change your password", ""), *form, a.MustChangePassword))
	}
	return s.redirectWithFlash(c, "/projects", "Your password is changed.")
}

func (s *Server) rolesPage(c echo.Context) error {
	return s.renderPage(c, templates.RolesPage(s.chrome(c, "Roles and permissions", ""), auth.Permissions()))
}
