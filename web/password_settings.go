package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/logging"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/templates"
)

// credentialsForm fills the settings form from the saved settings or, before
// there are any, from the inventory's declared format.
func credentialsForm(set *credentials.Settings) templates.Form {
	form := templates.NewForm()
	form.Values["attribute"] = set.Attribute
	form.Values["salt_attribute"] = set.SaltAttribute
	form.Values["formats"] = strings.Join(set.Formats, ", ")
	form.Values["default_format"] = set.Default
	form.Values["salt_encoding"] = set.SaltEncoding
	form.Values["salt_order"] = set.SaltOrder
	if set.Iterations > 0 {
		form.Values["iterations"] = strconv.Itoa(set.Iterations)
	}
	if set.Pepper {
		form.Values["pepper"] = "true"
	}
	form.Values["version"] = strconv.FormatInt(set.Version, 10)
	return form
}

// findCredentialSource is the :sid source with its saved settings (or nil).
func (s *Server) findCredentialSource(c echo.Context) (*plan.Source, *credentials.Settings, error) {
	ctx := c.Request().Context()
	src, err := s.pathSource(c)
	if err != nil {
		return nil, nil, err
	}
	if s.creds == nil {
		return nil, nil, apperr.NotFound("password settings")
	}
	set, err := s.creds.Find(ctx, project(c).ID, src.ID)
	return src, set, err
}

// renderCredentials renders the page; form and proveForm nil take the saved state.
func (s *Server) renderCredentials(c echo.Context, status int, src *plan.Source, set *credentials.Settings, form, proveForm *templates.Form,
	outcome *credentials.Outcome) error {
	v := templates.CredentialsView{Source: *src, Settings: set, Outcome: outcome, CanEdit: can(c, auth.PermSourceEdit), CanProve: can(c, auth.PermRun)}
	switch {
	case form != nil:
		v.Form = *form
	case set != nil:
		v.Form = credentialsForm(set)
	default:
		suggested := credentials.Suggest(src)
		v.Form = credentialsForm(&suggested)
		if suggested.Default != "" {
			v.Prefilled = fmt.Sprintf("Prefilled from the source's declared password-hash format (%s). Nothing is saved yet.",
				plan.LabelOf(plan.PasswordHashFormats(), src.PasswordHashFormat))
		}
	}
	if set != nil {
		for _, a := range []string{set.Attribute, set.SaltAttribute} {
			if a != "" && !staging.IsCredentialAttribute(a) {
				v.Unhidden = append(v.Unhidden, a)
			}
		}
	}
	v.ProveForm = templates.NewForm()
	if proveForm != nil {
		v.ProveForm = *proveForm
	}
	delete(v.ProveForm.Values, "password") // never back to the browser
	extracts, err := s.staging.CurrentExtracts(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	for i := range extracts {
		if extracts[i].SourceID == src.ID {
			v.Columns = extractColumns(&extracts[i])
		}
	}
	return s.render(c, status, templates.CredentialsPage(s.chrome(c, "Passwords of "+src.Name, "sources"), v))
}

func (s *Server) credentialsPage(c echo.Context) error {
	src, set, err := s.findCredentialSource(c)
	if err != nil {
		return err
	}
	return s.renderCredentials(c, http.StatusOK, src, set, nil, nil, nil)
}

// splitFormats reads a list of formats typed with commas or spaces.
func splitFormats(raw string) []string {
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == ';' })
}

func (s *Server) saveCredentials(c echo.Context) error {
	p := project(c)
	src, set, err := s.findCredentialSource(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in := credentials.Input{Attribute: *f.text("attribute"), SaltAttribute: *f.text("salt_attribute"), Formats: splitFormats(*f.text("formats")),
		Default: *f.text("default_format"), SaltEncoding: *f.text("salt_encoding"), SaltOrder: *f.text("salt_order"), Pepper: *f.bool("pepper")}
	if raw := strings.TrimSpace(c.FormValue("iterations")); raw != "" {
		if n := f.int("iterations", "Iterations"); n != nil {
			in.Iterations = *n
		}
	}
	version := f.version()
	err = f.parseErr()
	if err == nil {
		_, err = s.creds.Save(c.Request().Context(), p.ID, src.ID, version, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderCredentials(c, statusForForm(err), src, set, form, nil, nil)
	}
	return s.redirectWithFlash(c, projectURL(p, fmt.Sprintf("/sources/%d/credentials", src.ID)),
		fmt.Sprintf("Password settings of %q saved. Prove them with a test account before any load; staged data validated before is validated again with them.", src.Name))
}

// proveCredentials runs a proof. The password is read apart from the form
// reader, so that nothing remembers it; the page shows the verdict.
func (s *Server) proveCredentials(c echo.Context) error {
	p := project(c)
	src, set, err := s.findCredentialSource(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	record := *f.text("record")
	out, err := s.creds.Prove(c.Request().Context(), p.ID, src.ID, record, c.FormValue("password"))
	if err != nil {
		var te *credentials.ThrottledError
		if errors.As(err, &te) {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Round(time.Second)/time.Second)+1))
			form := f.form
			form.Message = te.Error()
			return s.renderCredentials(c, http.StatusTooManyRequests, src, set, nil, &form, nil)
		}
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderCredentials(c, statusForForm(err), src, set, nil, form, nil)
	}
	return s.renderCredentials(c, http.StatusOK, src, set, nil, &f.form, out)
}

// ---- API ----

// credentialsJSON is the API's view of a source's password settings: names
// and choices only, never a password or a stored value.
type credentialsJSON struct {
	SourceID      int64      `json:"sourceId"`
	Configured    bool       `json:"configured"`
	Attribute     string     `json:"attribute"`
	SaltAttribute string     `json:"saltAttribute"`
	Formats       []string   `json:"formats"`
	Default       string     `json:"default"`
	SaltEncoding  string     `json:"saltEncoding"`
	SaltOrder     string     `json:"saltOrder"`
	Iterations    int        `json:"iterations"`
	Pepper        bool       `json:"pepper"`
	Version       int64      `json:"version"`
	UpdatedAt     *time.Time `json:"updatedAt"`
}

func credentialsOut(src *plan.Source, set *credentials.Settings) credentialsJSON {
	if set == nil {
		// Not saved yet: what the inventory suggests, at version 0.
		sug := credentials.Suggest(src)
		return credentialsJSON{SourceID: src.ID, Formats: sug.Formats, Default: sug.Default}
	}
	out := credentialsJSON{SourceID: src.ID, Configured: true, Attribute: set.Attribute, SaltAttribute: set.SaltAttribute, Formats: set.Formats,
		Default: set.Default, SaltEncoding: set.SaltEncoding, SaltOrder: set.SaltOrder, Iterations: set.Iterations, Pepper: set.Pepper,
		Version: set.Version, UpdatedAt: &set.UpdatedAt}
	if out.Formats == nil {
		out.Formats = []string{}
	}
	return out
}

func (s *Server) apiGetCredentials(c echo.Context) error {
	src, set, err := s.findCredentialSource(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, credentialsOut(src, set))
}

// apiPutCredentials saves the whole settings; version 0 creates them.
func (s *Server) apiPutCredentials(c echo.Context) error {
	var body struct {
		Version       *int64    `json:"version"`
		Attribute     *string   `json:"attribute"`
		SaltAttribute *string   `json:"saltAttribute"`
		Formats       *[]string `json:"formats"`
		Default       *string   `json:"default"`
		SaltEncoding  *string   `json:"saltEncoding"`
		SaltOrder     *string   `json:"saltOrder"`
		Iterations    *int      `json:"iterations"`
		Pepper        *bool     `json:"pepper"`
	}
	src, _, err := s.findCredentialSource(c)
	if err != nil {
		return err
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	val := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	in := credentials.Input{Attribute: val(body.Attribute), SaltAttribute: val(body.SaltAttribute), Default: val(body.Default),
		SaltEncoding: val(body.SaltEncoding), SaltOrder: val(body.SaltOrder)}
	if body.Formats != nil {
		in.Formats = *body.Formats
	}
	if body.Iterations != nil {
		in.Iterations = *body.Iterations
	}
	if body.Pepper != nil {
		in.Pepper = *body.Pepper
	}
	set, err := s.creds.Save(c.Request().Context(), project(c).ID, src.ID, version, in)
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, credentialsOut(src, set))
}

// apiProveCredentials proves the settings with a test account's password;
// the answer is the outcome only. 429 beyond the project's allowance.
func (s *Server) apiProveCredentials(c echo.Context) error {
	var body struct {
		Record   *string `json:"record"`
		Password *string `json:"password"`
	}
	src, _, err := s.findCredentialSource(c)
	if err != nil {
		return err
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	record, password := "", ""
	if body.Record != nil {
		record = *body.Record
	}
	if body.Password != nil {
		password = *body.Password
	}
	out, err := s.creds.Prove(c.Request().Context(), project(c).ID, src.ID, record, password)
	if err != nil {
		var te *credentials.ThrottledError
		if errors.As(err, &te) {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(te.RetryAfter.Round(time.Second)/time.Second)+1))
			return c.JSON(http.StatusTooManyRequests, apiError{Error: apiErrorBody{Code: "too_many_requests", Message: te.Error(),
				RequestID: logging.RequestID(c.Request().Context())}})
		}
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, out)
}
