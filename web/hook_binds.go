package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/templates"
)

// HookBinds keeps the sources' LDAP bind verification (hook.Service).
type HookBinds interface {
	FindBindSettings(ctx context.Context, projectID, sourceID int64) (*hook.BindSettings, error)
	SaveBindSettings(ctx context.Context, projectID, sourceID, version int64, in hook.BindInput) (*hook.BindSettings, error)
	RemoveBindSettings(ctx context.Context, projectID, sourceID int64) error
	TestBindConnection(ctx context.Context, in hook.BindInput) (hook.BindTest, error)
}

// hookBindPath is a source's bind settings page inside a project.
func hookBindPath(sourceID int64) string {
	return hookSettingsPath + "/sources/" + strconv.FormatInt(sourceID, 10)
}

// hookSources lists the project's sources with how the hook checks their
// passwords.
func (s *Server) hookSources(ctx context.Context, projectID int64) ([]templates.HookSourceRow, error) {
	sources, err := s.plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	binds, _ := s.hookAdmin.(HookBinds)
	out := make([]templates.HookSourceRow, 0, len(sources))
	for _, src := range sources {
		row := templates.HookSourceRow{ID: src.ID, Name: src.Name}
		if binds != nil {
			if row.Bind, err = binds.FindBindSettings(ctx, projectID, src.ID); err != nil {
				return nil, err
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// bindSource finds the source of the path, in the project.
func (s *Server) bindSource(c echo.Context) (*plan.Source, HookBinds, error) {
	binds, ok := s.hookAdmin.(HookBinds)
	if !ok {
		return nil, nil, apperr.NotFound("password import hook")
	}
	id, err := pathID(c, "sid", "source")
	if err != nil {
		return nil, nil, err
	}
	src, err := s.plan.FindSourceByID(c.Request().Context(), project(c).ID, id)
	if err != nil {
		return nil, nil, err
	}
	return src, binds, nil
}

// bindForm fills the form from saved settings, or the defaults.
func bindForm(b *hook.BindSettings) templates.Form {
	form := templates.NewForm()
	if b == nil {
		form.Values["bind_template"] = "{dn}"
		form.Values["lockout_threshold"] = "5"
		form.Values["lockout_window_minutes"] = "30"
		form.Values["max_concurrent"] = "4"
		form.Values["timeout_ms"] = "1500"
		form.Values["version"] = "0"
		return form
	}
	form.Values["url"] = b.URL
	form.Values["bind_template"] = b.BindTemplate
	form.Values["ca_cert_pem"] = b.CACertPEM
	form.Values["lockout_threshold"] = strconv.FormatInt(b.LockoutThreshold, 10)
	form.Values["lockout_window_minutes"] = strconv.FormatInt(b.LockoutWindowMinutes, 10)
	form.Values["max_concurrent"] = strconv.FormatInt(b.MaxConcurrent, 10)
	form.Values["timeout_ms"] = strconv.FormatInt(b.TimeoutMS, 10)
	form.Values["version"] = strconv.FormatInt(b.Version, 10)
	for name, on := range map[string]bool{"enabled": b.Enabled, "start_tls": b.StartTLS, "insecure_skip_verify": b.InsecureSkipVerify} {
		if on {
			form.Values[name] = "true"
		}
	}
	return form
}

// readBindForm reads the bind settings form.
func readBindForm(f *formReader) hook.BindInput {
	in := hook.BindInput{Enabled: *f.bool("enabled"), URL: strings.TrimSpace(*f.text("url")), StartTLS: *f.bool("start_tls"),
		InsecureSkipVerify: *f.bool("insecure_skip_verify"), CACertPEM: strings.TrimSpace(*f.text("ca_cert_pem")),
		BindTemplate: strings.TrimSpace(*f.text("bind_template"))}
	for name, dst := range map[string]*int{"lockout_threshold": &in.LockoutThreshold, "lockout_window_minutes": &in.LockoutWindowMinutes,
		"max_concurrent": &in.MaxConcurrent, "timeout_ms": &in.TimeoutMS} {
		if n := f.int(name, bindFieldLabels[name]); n != nil {
			*dst = *n
		}
	}
	return in
}

var bindFieldLabels = map[string]string{"lockout_threshold": "The lockout threshold", "lockout_window_minutes": "The lockout window",
	"max_concurrent": "The binds at once", "timeout_ms": "The timeout"}

func (s *Server) renderBindPage(c echo.Context, status int, src *plan.Source, form templates.Form, saved *hook.BindSettings, test *hook.BindTest) error {
	return s.render(c, status, templates.HookBindPage(s.chrome(c, "LDAP bind: "+src.Name, "hook"), templates.HookBindView{
		Source: src, Form: form, Saved: saved, Test: test, CanEdit: can(c, auth.PermSourceEdit)}))
}

func (s *Server) hookBindPage(c echo.Context) error {
	src, binds, err := s.bindSource(c)
	if err != nil {
		return err
	}
	saved, err := binds.FindBindSettings(c.Request().Context(), project(c).ID, src.ID)
	if err != nil {
		return err
	}
	return s.renderBindPage(c, http.StatusOK, src, bindForm(saved), saved, nil)
}

func (s *Server) saveHookBind(c echo.Context) error {
	src, binds, err := s.bindSource(c)
	if err != nil {
		return err
	}
	p := project(c)
	ctx := c.Request().Context()
	f := newFormReader(c)
	in := readBindForm(f)
	version := f.version()
	saved, ferr := binds.FindBindSettings(ctx, p.ID, src.ID)
	if ferr != nil {
		return ferr
	}
	if err := f.parseErr(); err != nil {
		return s.renderBindPage(c, http.StatusUnprocessableEntity, src, *f.failed(err), saved, nil)
	}
	if _, err := binds.SaveBindSettings(ctx, p.ID, src.ID, version, in); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderBindPage(c, statusForForm(err), src, *form, saved, nil)
	}
	msg := "LDAP bind settings saved for " + src.Name + ": the hook checks its users' passwords against the directory."
	if !in.Enabled {
		msg = "LDAP bind settings saved for " + src.Name + ", switched off: the hook checks the staged hashes."
	}
	return s.redirectWithFlash(c, projectURL(p, hookBindPath(src.ID)), msg)
}

// testHookBind connects to the directory as the form says (TLS included)
// without binding anyone: a test that never counts as a failed sign-in.
func (s *Server) testHookBind(c echo.Context) error {
	src, binds, err := s.bindSource(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := newFormReader(c)
	in := readBindForm(f)
	saved, err := binds.FindBindSettings(ctx, project(c).ID, src.ID)
	if err != nil {
		return err
	}
	if err := f.parseErr(); err != nil {
		return s.renderBindPage(c, http.StatusUnprocessableEntity, src, *f.failed(err), saved, nil)
	}
	res, err := binds.TestBindConnection(ctx, in)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderBindPage(c, statusForForm(err), src, *form, saved, nil)
	}
	f.version() // keep the version the form was loaded with
	return s.renderBindPage(c, http.StatusOK, src, f.form, saved, &res)
}

// removeHookBindConfirm says what removing a source's bind settings does.
func (s *Server) removeHookBindConfirm(c echo.Context) error {
	src, binds, err := s.bindSource(c)
	if err != nil {
		return err
	}
	p := project(c)
	saved, err := binds.FindBindSettings(c.Request().Context(), p.ID, src.ID)
	if err != nil {
		return err
	}
	if saved == nil {
		s.setFlash(c, "warn", src.Name+" has no LDAP bind settings: there is nothing to remove.")
		return c.Redirect(http.StatusSeeOther, projectURL(p, hookBindPath(src.ID)))
	}
	return s.render(c, http.StatusOK, templates.ConfirmPage(s.chrome(c, "Remove the LDAP bind settings", "hook"), templates.ConfirmView{
		Heading: "Remove the LDAP bind settings of " + src.Name + "?",
		Consequences: []string{
			"forget the directory (" + saved.URL + "), the bind template and the lockout settings",
			"check this source's passwords against its staged hashes from the next sign-in on: users without one get UNVERIFIED",
		},
		Action: projectURL(p, hookBindPath(src.ID)+"/remove"),
		Cancel: projectURL(p, hookBindPath(src.ID)),
		Button: "Remove the bind settings",
		Form:   templates.NewForm(),
	}))
}

func (s *Server) removeHookBind(c echo.Context) error {
	src, binds, err := s.bindSource(c)
	if err != nil {
		return err
	}
	p := project(c)
	if err := binds.RemoveBindSettings(c.Request().Context(), p.ID, src.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, hookSettingsPath), "LDAP bind settings of "+src.Name+" removed: the hook checks its staged hashes.")
}
