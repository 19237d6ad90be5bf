package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/templates"
)

// A source's cut-over settings: how its legacy account status is read and
// what each status becomes, its manager reference, and its group hierarchy.

// hierarchyRoute is the group-hierarchy upload: it has the upload limit
// (Options.MaxUploadBytes) instead of the console's general body limit.
const hierarchyRoute = "/projects/:pid/cutover/sources/:sid/hierarchy"

func cutoverForm(st *load.CutoverSettings) templates.Form {
	f := templates.NewForm()
	f.Values["status_attribute"] = st.StatusAttribute
	f.Values["disabled_values"] = strings.Join(st.DisabledValues, "\n")
	f.Values["locked_values"] = strings.Join(st.LockedValues, "\n")
	f.Values["expired_values"] = strings.Join(st.ExpiredValues, "\n")
	f.Values["disabled_action"] = st.DisabledAction
	f.Values["locked_action"] = st.LockedAction
	f.Values["expired_action"] = st.ExpiredAction
	f.Values["manager_attribute"] = st.ManagerAttribute
	f.Values["manager_kind"] = st.ManagerKind
	if st.Version > 0 {
		f.Values["version"] = strconv.FormatInt(st.Version, 10)
	}
	return f
}

func (s *Server) cutoverSourceForm(c echo.Context) error {
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	st, err := s.loads.FindCutover(c.Request().Context(), project(c).ID, src.ID)
	if err != nil {
		return err
	}
	return s.renderCutoverSource(c, http.StatusOK, src, cutoverForm(st), templates.NewForm())
}

func (s *Server) renderCutoverSource(c echo.Context, status int, src *plan.Source, form, hierarchyForm templates.Form) error {
	hs, err := s.loads.FindHierarchies(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	v := templates.CutoverSourceView{Source: *src, Form: form, HierarchyForm: hierarchyForm, Hierarchy: hs[src.ID],
		CanEdit: can(c, auth.PermSourceEdit), MaxUpload: sizeLabel(s.opts.MaxUploadBytes)}
	return s.render(c, status, templates.CutoverSourcePage(s.chrome(c, "Cut-over settings of "+src.Name, sectionCutover), v))
}

// valueLines reads a value list, one value per line.
func valueLines(f *formReader, name, label string) []string {
	raw := *f.text(name)
	if len(raw) > maxValuesText {
		f.check.Add(name, fmt.Sprintf("%s: the list is too long (at most %d values of %d characters).", label, load.MaxStatusValues, load.MaxStatusValueLen))
		return nil
	}
	var out []string
	for line := range strings.SplitSeq(strings.ReplaceAll(raw, "\r\n", "\n"), "\n") {
		out = append(out, line)
	}
	return out
}

func (s *Server) saveCutoverSource(c echo.Context) error {
	p := project(c)
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in := load.CutoverInput{
		StatusAttribute:  *f.text("status_attribute"),
		DisabledValues:   valueLines(f, "disabled_values", "Disabled values"),
		LockedValues:     valueLines(f, "locked_values", "Locked values"),
		ExpiredValues:    valueLines(f, "expired_values", "Expired values"),
		DisabledAction:   *f.text("disabled_action"),
		LockedAction:     *f.text("locked_action"),
		ExpiredAction:    *f.text("expired_action"),
		ManagerAttribute: *f.text("manager_attribute"),
		ManagerKind:      *f.text("manager_kind"),
	}
	version := f.version()
	if err := f.parseErr(); err != nil {
		return s.renderCutoverSource(c, http.StatusUnprocessableEntity, src, *f.failed(err), templates.NewForm())
	}
	if _, err := s.loads.SaveCutover(c.Request().Context(), p.ID, src.ID, version, in); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderCutoverSource(c, statusForForm(err), src, *form, templates.NewForm())
	}
	return s.redirectWithFlash(c, projectURL(p, "/cutover"), "The cut-over settings of "+src.Name+" are saved.")
}

// importHierarchy replaces a source's group hierarchy with an uploaded
// export (all or nothing).
func (s *Server) importHierarchy(c echo.Context) error {
	p := project(c)
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	st, err := s.loads.FindCutover(c.Request().Context(), p.ID, src.ID)
	if err != nil {
		return err
	}
	failed := func(msg string) error {
		form := templates.NewForm()
		form.Errors["file"] = msg
		form.Message = "The file cannot be imported; the hierarchy is unchanged."
		return s.renderCutoverSource(c, http.StatusUnprocessableEntity, src, cutoverForm(st), form)
	}
	limit := s.opts.MaxUploadBytes
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, limit+1<<20)
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return failed("The file is larger than " + sizeLabel(limit) + ".")
		}
		return failed("Choose an LDIF or CSV file of the source's groups.")
	}
	if fh.Size > limit {
		return failed("The file is larger than " + sizeLabel(limit) + ".")
	}
	if fh.Size == 0 {
		return failed("The file is empty: give an LDIF of groups (dn, cn, memberOf) or a CSV with the columns group and parent.")
	}
	file, err := fh.Open()
	if err != nil {
		return err
	}
	defer file.Close()
	h, err := s.loads.ImportHierarchy(c.Request().Context(), p.ID, src.ID, file, fh.Filename)
	if err != nil {
		ae := apperr.As(err)
		if ae == nil || ae.Code != apperr.CodeInvalid {
			return err
		}
		msg := ae.Message
		if m, ok := ae.Fields["file"]; ok && !strings.Contains(msg, m) {
			msg += " " + m
		}
		return failed(msg)
	}
	return s.redirectWithFlash(c, projectURL(p, fmt.Sprintf("/cutover/sources/%d#hierarchy", src.ID)),
		fmt.Sprintf("%s groups of %s imported.", plan.Thousands(h.Groups), src.Name))
}

// setFlatten says whether loads flatten the source's hierarchy.
func (s *Server) setFlatten(c echo.Context) error {
	p := project(c)
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	raw := c.FormValue("flatten")
	if raw != "" && raw != "true" {
		form := templates.NewForm()
		form.Errors["flatten"] = "Tick the box or leave it empty."
		return s.renderFlattenFailed(c, src, form)
	}
	flatten := raw == "true"
	if err := s.loads.SetFlatten(c.Request().Context(), p.ID, src.ID, flatten); err != nil {
		ae := apperr.As(err)
		if ae == nil || ae.Code != apperr.CodeInvalid {
			return err
		}
		form := templates.NewForm()
		form.Message = ae.Message
		for k, v := range ae.Fields {
			form.Errors[k] = v
		}
		return s.renderFlattenFailed(c, src, form)
	}
	msg := "Loads no longer flatten the groups of " + src.Name + "."
	if flatten {
		msg = "Loads now put each user of " + src.Name + " also in the groups its groups are nested in."
	}
	return s.redirectWithFlash(c, projectURL(p, fmt.Sprintf("/cutover/sources/%d#hierarchy", src.ID)), msg)
}

func (s *Server) renderFlattenFailed(c echo.Context, src *plan.Source, form templates.Form) error {
	st, err := s.loads.FindCutover(c.Request().Context(), project(c).ID, src.ID)
	if err != nil {
		return err
	}
	return s.renderCutoverSource(c, http.StatusUnprocessableEntity, src, cutoverForm(st), form)
}

// sizeLabel says a size limit as people read it: "10 MB", "4 KB".
func sizeLabel(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MB"
	}
	if n >= 1<<10 {
		return strconv.FormatInt(n>>10, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
