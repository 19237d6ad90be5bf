package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/templates"
)

// checkTimeout bounds a connection check: a person waits for its answer.
const checkTimeout = 30 * time.Second

// oktaOrgForm fills the form from the saved connection, or, before there
// is one, from the org URL the project's settings may name. Never a token.
func oktaOrgForm(conn *orgs.Connection, p *plan.Project) templates.Form {
	form := templates.NewForm()
	if conn == nil {
		form.Values["url"] = p.OktaOrgURL
		form.Values["auth_scheme"] = orgs.SchemeSSWS
		form.Values["version"] = "0"
		return form
	}
	form.Values["url"] = conn.OrgURL
	form.Values["auth_scheme"] = conn.AuthScheme
	form.Values["version"] = strconv.FormatInt(conn.Version, 10)
	return form
}

func (s *Server) renderOktaOrg(c echo.Context, status int, form templates.Form, conn *orgs.Connection, tokenTyped bool) error {
	delete(form.Values, "token") // never back to the browser
	return s.render(c, status, templates.OktaOrgPage(s.chrome(c, "Okta org", "okta"), templates.OktaOrgView{
		Form: form, Conn: conn, CanEdit: can(c, auth.PermPlanEdit), CheckAvailable: s.checker != nil, TokenTyped: tokenTyped}))
}

func (s *Server) oktaOrgPage(c echo.Context) error {
	p := project(c)
	conn, err := s.orgs.Find(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	return s.renderOktaOrg(c, http.StatusOK, oktaOrgForm(conn, p), conn, false)
}

func (s *Server) saveOktaOrg(c echo.Context) error {
	p := project(c)
	ctx := c.Request().Context()
	f := newFormReader(c)
	in := orgs.Input{OrgURL: *f.text("url"), AuthScheme: *f.text("auth_scheme")}
	// Read apart from the form reader, so that it is never remembered for
	// re-rendering. An empty field keeps the saved token.
	if token := c.FormValue("token"); token != "" {
		in.Token = &token
	}
	version := f.version()
	_, err := s.orgs.Save(ctx, p.ID, version, in)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		if ae := apperr.As(err); ae.Code == apperr.CodeConflict && ae.CurrentVersion == 0 {
			form.Values["version"] = "0" // removed meanwhile: saving again connects anew
		}
		conn, ferr := s.orgs.Find(ctx, p.ID)
		if ferr != nil {
			return ferr
		}
		return s.renderOktaOrg(c, statusForForm(err), *form, conn, in.Token != nil)
	}
	msg := "Okta org connection saved."
	if s.checker != nil {
		msg += " Check the connection to make sure Ferry can reach the org."
	}
	return s.redirectWithFlash(c, projectURL(p, "/settings/okta"), msg)
}

// checkOktaOrg asks the checker whether the saved org answers and accepts
// the token, and remembers the answer.
func (s *Server) checkOktaOrg(c echo.Context) error {
	p := project(c)
	ctx := c.Request().Context()
	back := projectURL(p, "/settings/okta")
	conn, err := s.orgs.Find(ctx, p.ID)
	if err != nil {
		return err
	}
	if conn == nil {
		s.setFlash(c, "warn", "Connect the Okta org before checking the connection.")
		return c.Redirect(http.StatusSeeOther, back)
	}
	if s.checker == nil {
		s.setFlash(c, "warn", "Checking the connection is not available yet in this version of Ferry.")
		return c.Redirect(http.StatusSeeOther, back)
	}
	token, err := s.orgs.Token(ctx, p.ID)
	if err != nil {
		if ae := apperr.As(err); ae.Code == apperr.CodeConflict {
			s.setFlash(c, "error", ae.Message)
			return c.Redirect(http.StatusSeeOther, back)
		}
		return err
	}
	checkCtx, cancel := context.WithTimeout(ctx, checkTimeout)
	res, err := s.checker.Check(checkCtx, conn.OrgURL, conn.AuthScheme, token)
	cancel()
	if err != nil {
		// The cause is the checker's; it must not carry the token into the
		// log or the page, whatever it quotes.
		cause := strings.ReplaceAll(err.Error(), token, "[token]")
		s.log.WarnContext(ctx, "okta org check failed", "project_id", p.ID, "org_url", conn.OrgURL, "error", cause)
		res = orgs.CheckResult{OK: false, Message: "Ferry could not check the org: " + cause}
	}
	res.Message = strings.ReplaceAll(res.Message, token, "[token]")
	saved, err := s.orgs.RecordCheck(ctx, p.ID, conn.Version, res.OK, res.Sandbox, res.Message)
	if err != nil {
		if ae := apperr.As(err); ae.Code == apperr.CodeConflict {
			s.setFlash(c, "error", ae.Message)
			return c.Redirect(http.StatusSeeOther, back)
		}
		return err
	}
	switch {
	case saved.CheckOK && saved.Sandbox:
		s.setFlash(c, "ok", "Connected to Ferry's sandbox. "+saved.CheckMessage)
	case saved.CheckOK:
		s.setFlash(c, "ok", "Connected to the Okta org. "+saved.CheckMessage)
	default:
		s.setFlash(c, "error", "The connection check failed: "+saved.CheckMessage)
	}
	return c.Redirect(http.StatusSeeOther, back)
}

func (s *Server) removeOktaOrgConfirm(c echo.Context) error {
	p := project(c)
	conn, err := s.orgs.Find(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	if conn == nil {
		s.setFlash(c, "warn", "No Okta org is connected: there is nothing to remove.")
		return c.Redirect(http.StatusSeeOther, projectURL(p, "/settings/okta"))
	}
	consequences := []string{
		fmt.Sprintf("forget the Okta org URL %s", conn.OrgURL),
		fmt.Sprintf("delete the saved token ending in …%s (the audit log keeps only those last four characters)", conn.TokenHint),
		"forget the last connection check",
	}
	if conn.Sandbox {
		consequences[2] = "forget the last connection check, and that this org is Ferry's sandbox"
	}
	return s.render(c, http.StatusOK, templates.ConfirmPage(s.chrome(c, "Remove the Okta org connection", "okta"), templates.ConfirmView{
		Heading:      "Remove the Okta org connection?",
		Consequences: consequences,
		Action:       projectURL(p, "/settings/okta/remove"),
		Cancel:       projectURL(p, "/settings/okta"),
		Button:       "Remove the connection",
		Form:         templates.NewForm(),
	}))
}

func (s *Server) removeOktaOrg(c echo.Context) error {
	p := project(c)
	if err := s.orgs.Clear(c.Request().Context(), p.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/settings/okta"), "Okta org connection removed; its token is deleted.")
}

// ---- API ----

// oktaOrgJSON is the API's view of a connection: never the token, and its
// last four characters only to those who may change it.
type oktaOrgJSON struct {
	URL          string     `json:"url"`
	AuthScheme   string     `json:"authScheme"`
	TokenSet     bool       `json:"tokenSet"`
	TokenHint    string     `json:"tokenHint"`
	Sandbox      bool       `json:"sandbox"`
	CheckedAt    *time.Time `json:"checkedAt"`
	CheckOK      bool       `json:"checkOk"`
	CheckMessage string     `json:"checkMessage"`
	Version      int64      `json:"version"`
}

func oktaOrgOut(c echo.Context, conn *orgs.Connection) oktaOrgJSON {
	if conn == nil {
		return oktaOrgJSON{}
	}
	out := oktaOrgJSON{URL: conn.OrgURL, AuthScheme: conn.AuthScheme, TokenSet: conn.TokenSet(), Sandbox: conn.Sandbox,
		CheckedAt: conn.CheckedAt, CheckOK: conn.CheckOK, CheckMessage: conn.CheckMessage, Version: conn.Version}
	if can(c, auth.PermPlanEdit) {
		out.TokenHint = conn.TokenHint
	}
	return out
}

func (s *Server) apiGetOktaOrg(c echo.Context) error {
	conn, err := s.orgs.Find(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, oktaOrgOut(c, conn))
}

// apiPutOktaOrg saves the whole connection: url and authScheme always,
// token to replace the saved one, version 0 to connect an org the first time.
func (s *Server) apiPutOktaOrg(c echo.Context) error {
	var body struct {
		Version    *int64  `json:"version"`
		URL        *string `json:"url"`
		AuthScheme *string `json:"authScheme"`
		Token      *string `json:"token"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	in := orgs.Input{Token: body.Token}
	if body.URL != nil {
		in.OrgURL = *body.URL
	}
	if body.AuthScheme != nil {
		in.AuthScheme = *body.AuthScheme
	}
	conn, err := s.orgs.Save(c.Request().Context(), project(c).ID, version, in)
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, oktaOrgOut(c, conn))
}

func (s *Server) apiDeleteOktaOrg(c echo.Context) error {
	if err := s.orgs.Clear(c.Request().Context(), project(c).ID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
