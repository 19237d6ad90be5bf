package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/templates"
)

// HookSettings keeps the password import hook's settings and registers it
// in the org (hook.Service).
type HookSettings interface {
	FindConfig(ctx context.Context, projectID int64) (*hook.Config, error)
	SaveConfig(ctx context.Context, projectID, version int64, in hook.ConfigInput) (*hook.Config, string, error)
	RemoveConfig(ctx context.Context, projectID int64) error
	FindRegistration(ctx context.Context, projectID int64) (*hook.Registration, error)
	RegisterInOkta(ctx context.Context, projectID int64, publicURL string) (*hook.Registration, error)
	TestInOkta(ctx context.Context, projectID int64) (*hook.Registration, error)
	RegisterEventHook(ctx context.Context, projectID int64, publicURL string) (*hook.Registration, error)
}

// hookSettingsPath is the page's path inside a project.
const hookSettingsPath = "/settings/hook"

// publicURL is the address Okta and people reach Ferry at: the configured
// one, or the request's own scheme and host (right when nothing rewrites
// them on the way in).
func (s *Server) publicURL(c echo.Context) string {
	if s.opts.PublicURL != "" {
		return s.opts.PublicURL
	}
	return c.Scheme() + "://" + c.Request().Host
}

// hookForm fills the settings form from the saved hook, or the defaults.
func hookForm(cfg *hook.Config) templates.Form {
	form := templates.NewForm()
	form.Values["secret_choice"] = "keep"
	if cfg == nil {
		form.Values["header_name"] = hook.DefaultHeaderName
		form.Values["auth_type"] = hook.AuthHeader
		form.Values["budget_ms"] = strconv.FormatInt(hook.DefaultBudget.Milliseconds(), 10)
		form.Values["version"] = "0"
		form.Values["secret_choice"] = "generate"
		return form
	}
	form.Values["header_name"] = cfg.HeaderName
	form.Values["budget_ms"] = strconv.FormatInt(cfg.BudgetMS, 10)
	form.Values["auth_type"] = cfg.AuthType
	form.Values["oauth_issuer"] = cfg.OAuthIssuer
	form.Values["oauth_audience"] = cfg.OAuthAudience
	form.Values["oauth_jwks_url"] = cfg.OAuthJWKSURL
	form.Values["oauth_client_id"] = cfg.OAuthClientID
	form.Values["oauth_scope"] = cfg.OAuthScope
	form.Values["version"] = strconv.FormatInt(cfg.Version, 10)
	return form
}

// hookView gathers what the page shows.
func (s *Server) hookView(c echo.Context, form templates.Form, shownSecret string) (templates.HookSettingsView, error) {
	p := project(c)
	ctx := c.Request().Context()
	v := templates.HookSettingsView{Form: form, ShownSecret: shownSecret, Available: s.hookAdmin != nil,
		CanEdit: can(c, auth.PermSourceEdit), CanRegister: can(c, auth.PermRun), PublicURL: s.publicURL(c), PublicURLSet: s.opts.PublicURL != ""}
	conn, err := s.orgs.Find(ctx, p.ID)
	if err != nil {
		return v, err
	}
	if conn != nil {
		v.OrgURL = conn.OrgURL
	}
	if s.hookAdmin == nil {
		return v, nil
	}
	if v.Config, err = s.hookAdmin.FindConfig(ctx, p.ID); err != nil {
		return v, err
	}
	if v.Config != nil {
		if v.Registration, err = s.hookAdmin.FindRegistration(ctx, p.ID); err != nil {
			return v, err
		}
		v.EndpointURL = hook.EndpointURL(v.PublicURL, v.Config)
		v.EventsURL = hook.EventsURL(v.PublicURL, v.Config)
		if v.Sources, err = s.hookSources(ctx, p.ID); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (s *Server) renderHookSettings(c echo.Context, status int, form templates.Form, shownSecret string) error {
	delete(form.Values, "secret") // a typed secret never goes back to the browser
	v, err := s.hookView(c, form, shownSecret)
	if err != nil {
		return err
	}
	if shownSecret != "" {
		// The secret is on this page once: no cache may keep it.
		c.Response().Header().Set("Cache-Control", "no-store")
	}
	return s.render(c, status, templates.HookSettingsPage(s.chrome(c, "Password import hook", "hook"), v))
}

func (s *Server) hookSettingsPage(c echo.Context) error {
	if s.hookAdmin == nil {
		return s.renderHookSettings(c, http.StatusOK, templates.NewForm(), "")
	}
	cfg, err := s.hookAdmin.FindConfig(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return s.renderHookSettings(c, http.StatusOK, hookForm(cfg), "")
}

// saveHookSettings creates the org's hook or changes its settings. A new
// or generated secret is shown on the answer to this request, once.
func (s *Server) saveHookSettings(c echo.Context) error {
	if s.hookAdmin == nil {
		return apperr.NotFound("password import hook")
	}
	p := project(c)
	ctx := c.Request().Context()
	f := newFormReader(c)
	in := hook.ConfigInput{HeaderName: strings.TrimSpace(*f.text("header_name")), AuthType: *f.text("auth_type")}
	if in.AuthType == hook.AuthOAuth {
		in.OAuth = &hook.OAuthSettings{Issuer: strings.TrimSpace(*f.text("oauth_issuer")), Audience: strings.TrimSpace(*f.text("oauth_audience")),
			JWKSURL: strings.TrimSpace(*f.text("oauth_jwks_url")), ClientID: strings.TrimSpace(*f.text("oauth_client_id")),
			Scope: strings.TrimSpace(*f.text("oauth_scope"))}
	}
	if ms := f.int64("budget_ms", "The time budget"); ms != nil {
		if *ms < hook.MinBudget.Milliseconds() || *ms > hook.MaxBudget.Milliseconds() {
			f.check.Add("budget_ms", "The time budget must be between "+strconv.FormatInt(hook.MinBudget.Milliseconds(), 10)+
				" and "+strconv.FormatInt(hook.MaxBudget.Milliseconds(), 10)+" ms: Okta waits 3 seconds.")
		} else {
			in.Budget = time.Duration(*ms) * time.Millisecond
		}
	}
	switch choice := *f.text("secret_choice"); choice {
	case "keep", "":
	case "generate":
		in.RotateSecret = true
	case "manual":
		// Read apart from the form reader, so that it is never re-rendered.
		secret := c.FormValue("secret")
		if secret == "" {
			f.check.Add("secret", "Type the shared secret already entered in Okta, or let Ferry generate one.")
		}
		in.Secret = &secret
	default:
		f.check.Add("secret_choice", "Choose what to do with the shared secret.")
	}
	version := f.version()
	if err := f.parseErr(); err != nil {
		return s.renderHookSettings(c, http.StatusUnprocessableEntity, *f.failed(err), "")
	}
	_, shown, err := s.hookAdmin.SaveConfig(ctx, p.ID, version, in)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderHookSettings(c, statusForForm(err), *form, "")
	}
	cfg, err := s.hookAdmin.FindConfig(ctx, p.ID)
	if err != nil {
		return err
	}
	if shown != "" {
		return s.renderHookSettings(c, http.StatusOK, hookForm(cfg), shown)
	}
	return s.redirectWithFlash(c, projectURL(p, hookSettingsPath), "Password import hook settings saved.")
}

func (s *Server) removeHookConfirm(c echo.Context) error {
	p := project(c)
	if s.hookAdmin == nil {
		return apperr.NotFound("password import hook")
	}
	cfg, err := s.hookAdmin.FindConfig(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	if cfg == nil {
		s.setFlash(c, "warn", "This project has no password import hook: there is nothing to remove.")
		return c.Redirect(http.StatusSeeOther, projectURL(p, hookSettingsPath))
	}
	consequences := []string{
		"stop the hook checking passwords for this project's users: at their first sign-in Okta gets no answer for them, and they cannot sign in until a hook serves them again",
	}
	if len(cfg.ProjectIDs) <= 1 {
		consequences = append(consequences, "delete the org's hook settings, its shared secret and its recorded attempts (the hook serves no other project)",
			"leave the hook registered in Okta, calling an address that now answers 401: remove it there too (Workflow → Inline Hooks)")
	} else {
		consequences = append(consequences, "keep the hook for the org's other projects ("+strconv.Itoa(len(cfg.ProjectIDs)-1)+")")
	}
	return s.render(c, http.StatusOK, templates.ConfirmPage(s.chrome(c, "Remove the password import hook", "hook"), templates.ConfirmView{
		Heading:      "Stop serving this project's users with the password import hook?",
		Consequences: consequences,
		Action:       projectURL(p, hookSettingsPath+"/remove"),
		Cancel:       projectURL(p, hookSettingsPath),
		Button:       "Remove the hook from this project",
		TypeName:     p.Name,
		Form:         templates.NewForm(),
	}))
}

func (s *Server) removeHook(c echo.Context) error {
	p := project(c)
	if s.hookAdmin == nil {
		return apperr.NotFound("password import hook")
	}
	if strings.TrimSpace(c.FormValue("confirm_name")) != p.Name {
		s.setFlash(c, "error", "The project's name was not typed exactly: nothing was removed.")
		return c.Redirect(http.StatusSeeOther, projectURL(p, hookSettingsPath+"/remove"))
	}
	if err := s.hookAdmin.RemoveConfig(c.Request().Context(), p.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, hookSettingsPath), "The password import hook no longer serves this project.")
}

// hookOrgAction runs one of the actions that call the org (register, test,
// register the event hook) and comes back to the page with what happened:
// a refusal or Okta's error is a message there, not an error page.
func (s *Server) hookOrgAction(c echo.Context, act func(ctx context.Context, projectID int64) (string, error)) error {
	p := project(c)
	back := projectURL(p, hookSettingsPath)
	if s.hookAdmin == nil {
		return apperr.NotFound("password import hook")
	}
	msg, err := act(c.Request().Context(), p.ID)
	if err != nil {
		if ae := apperr.As(err); ae.Code == apperr.CodeInvalid || ae.Code == apperr.CodeConflict {
			s.setFlash(c, "error", ae.Message)
			return c.Redirect(http.StatusSeeOther, back)
		}
		return err
	}
	if msg == "" { // the action set its own message
		return c.Redirect(http.StatusSeeOther, back)
	}
	return s.redirectWithFlash(c, back, msg)
}

// registerHook registers (or renews) the hook in the project's org.
func (s *Server) registerHook(c echo.Context) error {
	return s.hookOrgAction(c, func(ctx context.Context, projectID int64) (string, error) {
		reg, err := s.hookAdmin.RegisterInOkta(ctx, projectID, s.publicURL(c))
		if err != nil {
			return "", err
		}
		return "The hook is registered and active in the org (Okta id " + reg.OktaHookID + "). Test it through Okta next.", nil
	})
}

// testHook has Okta call the registered hook with a made-up user.
func (s *Server) testHook(c echo.Context) error {
	return s.hookOrgAction(c, func(ctx context.Context, projectID int64) (string, error) {
		reg, err := s.hookAdmin.TestInOkta(ctx, projectID)
		if err != nil {
			return "", err
		}
		if !reg.TestPassed() {
			s.setFlash(c, "error", "The test failed: "+strings.TrimPrefix(reg.TestResult, "failed: "))
			return "", nil
		}
		return "Test passed: " + strings.TrimPrefix(reg.TestResult, "ok: "), nil
	})
}

// registerEventHook registers the event hook that confirms imports.
func (s *Server) registerEventHook(c echo.Context) error {
	return s.hookOrgAction(c, func(ctx context.Context, projectID int64) (string, error) {
		reg, err := s.hookAdmin.RegisterEventHook(ctx, projectID, s.publicURL(c))
		if err != nil {
			return "", err
		}
		return "The event hook is registered, verified and active (Okta id " + reg.OktaEventHookID + "): Okta now tells Ferry each time it saves an imported password.", nil
	})
}
