package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/mapping/transform"
	"github.com/ferry-migrate/ferry/internal/sheet"
	"github.com/ferry-migrate/ferry/templates"
)

// matrixState loads the matrix with the privacy findings merged in by field.
// It reuses the request's project state, so that the page and its
// navigation marks build the matrix once.
func (s *Server) matrixState(c echo.Context) (*mapping.Matrix, map[int64][]mapping.Problem, error) {
	st, err := s.loadProjectState(c)
	if err != nil {
		return nil, nil, err
	}
	byField := map[int64][]mapping.Problem{}
	for _, pr := range st.register.Problems() {
		byField[pr.FieldID] = append(byField[pr.FieldID], pr)
	}
	return st.matrix, byField, nil
}

func (s *Server) sourceChoices(c echo.Context) ([]templates.Choice, error) {
	sources, err := s.plan.FindSources(c.Request().Context(), project(c).ID)
	if err != nil {
		return nil, err
	}
	out := make([]templates.Choice, len(sources))
	for i, src := range sources {
		out[i] = templates.Choice{Value: strconv.FormatInt(src.ID, 10), Label: src.Name}
	}
	return out, nil
}

func (s *Server) matrixPage(c echo.Context) error {
	m, extra, err := s.matrixState(c)
	if err != nil {
		return err
	}
	sources, err := s.sourceChoices(c)
	if err != nil {
		return err
	}
	f := templates.MatrixFilter{PII: c.QueryParam("pii"), Show: c.QueryParam("show")}
	f.SourceID, _ = strconv.ParseInt(c.QueryParam("source"), 10, 64)
	if f.Show == "problems" {
		// Privacy findings count as problems too.
		for i := range m.Lines {
			m.Lines[i].Problems = append(m.Lines[i].Problems, extra[m.Lines[i].Field.ID]...)
		}
		extra = nil
	}
	v := templates.MatrixView{Matrix: m, Sources: sources, Filter: f, CanEdit: can(c, auth.PermPlanEdit), FieldProblems: extra}
	for _, l := range m.Lines {
		if f.Matches(l) {
			v.Lines = append(v.Lines, l)
		}
	}
	for _, pr := range m.Problems {
		if pr.FieldID == 0 {
			v.ProjectWide = append(v.ProjectWide, pr)
		}
	}
	v.Suggestions = m.Suggestions()
	return s.renderPage(c, templates.MatrixPage(s.chrome(c, "Attribute mapping", "matrix"), v))
}

func (s *Server) acceptSuggestions(c echo.Context) error {
	p := project(c)
	var ids []int64
	if raw := c.FormValue("field_id"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return apperr.Invalid("That suggestion does not exist.", nil)
		}
		ids = []int64{id}
	}
	n, err := s.mapping.AcceptSuggestions(c.Request().Context(), p.ID, ids)
	if err != nil {
		if ae := apperr.As(err); ae.Code == apperr.CodeInvalid {
			s.setFlash(c, "error", ae.Detail())
			return c.Redirect(http.StatusSeeOther, projectURL(p, "/matrix"))
		}
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/matrix"), fmt.Sprintf("%d suggested mapping(s) accepted. Check the rows they added.", n))
}

// rowForm is the edit form of a row, filled from the stored row.
func rowForm(r *mapping.Row) templates.Form {
	form := templates.NewForm()
	form.Values["status"] = mapping.StatusMapped
	form.Values["priority"] = "1"
	if r != nil {
		form.Values["status"] = r.Status
		form.Values["target_attribute"] = r.TargetAttribute
		form.Values["priority"] = strconv.Itoa(r.Priority)
		form.Values["transform"] = prettyTransform(r.Transform)
		form.Values["notes"] = r.Notes
		form.Values["version"] = strconv.FormatInt(r.Version, 10)
		form.Values["source_field_id"] = strconv.FormatInt(r.SourceFieldID, 10)
	}
	return form
}

// prettyTransform shows one step per line, which is easier to edit.
func prettyTransform(def string) string {
	p, err := transform.Parse([]byte(def))
	if err != nil || len(p) == 0 {
		return def
	}
	var lines []string
	for _, step := range p {
		b, err := transform.Pipeline{step}.MarshalJSON()
		if err != nil {
			return def
		}
		lines = append(lines, strings.TrimSuffix(strings.TrimPrefix(string(b), "["), "]"))
	}
	return "[\n  " + strings.Join(lines, ",\n  ") + "\n]"
}

func readRowForm(f *formReader, withField bool) mapping.RowInput {
	in := mapping.RowInput{TargetAttribute: f.text("target_attribute"), Status: f.text("status"), Transform: f.text("transform"), Notes: f.text("notes")}
	if f.c.FormValue("priority") != "" || !f.c.Request().PostForm.Has("status") {
		in.Priority = f.int("priority", "Priority")
	}
	if withField {
		if id := f.int64("source_field_id", "Source field"); id != nil {
			in.SourceFieldID = id
		}
	}
	return in
}

// previewFor runs a transformation on the samples of the field's source.
func (s *Server) previewFor(c echo.Context, fieldID int64, def string) ([]transform.PreviewRow, string) {
	ctx := c.Request().Context()
	p := project(c)
	field, err := s.mapping.FindFieldByID(ctx, p.ID, fieldID)
	if err != nil {
		return nil, ""
	}
	siblings, err := s.mapping.FindFields(ctx, p.ID, field.SourceID)
	if err != nil {
		return nil, ""
	}
	pipeline, err := transform.Parse([]byte(def))
	if strings.TrimSpace(def) == "" {
		pipeline, err = nil, nil
	}
	names := make([]string, len(siblings))
	for i, f := range siblings {
		names[i] = f.Name
	}
	if err == nil && pipeline != nil {
		err = pipeline.Validate(names)
	}
	if err != nil {
		return nil, "Transformation: " + err.Error()
	}
	var records []transform.Record
	for i := 0; ; i++ {
		rec := transform.MapRecord{}
		any := false
		for _, f := range siblings {
			if i < len(f.Samples) {
				rec[f.Name], any = f.Samples[i], true
			}
		}
		if !any {
			break
		}
		records = append(records, rec)
	}
	return transform.Preview(pipeline, records, field.Name), ""
}

func (s *Server) renderRowForm(c echo.Context, status int, form templates.Form, row *mapping.Row, fieldID int64) error {
	ctx := c.Request().Context()
	p := project(c)
	attrs, err := s.schema.Attributes(ctx, p.ID)
	if err != nil {
		return err
	}
	v := templates.RowFormView{Form: form, Attributes: attrs, IsNew: row == nil, Action: projectURL(p, "/matrix/rows")}
	if row != nil {
		v.Action = projectURL(p, fmt.Sprintf("/matrix/rows/%d", row.ID))
		v.DeleteURL = projectURL(p, fmt.Sprintf("/matrix/rows/%d/delete", row.ID))
		fieldID = row.SourceFieldID
	}
	names, err := s.plan.SourceNames(ctx, p.ID)
	if err != nil {
		return err
	}
	if fieldID != 0 {
		if f, err := s.mapping.FindFieldByID(ctx, p.ID, fieldID); err == nil {
			v.Field, v.SourceName = *f, names[f.SourceID]
		}
		v.Preview, v.PreviewErr = s.previewFor(c, fieldID, form.V("transform"))
	}
	if row == nil {
		fields, err := s.mapping.FindFields(ctx, p.ID, 0)
		if err != nil {
			return err
		}
		for _, f := range fields {
			v.Fields = append(v.Fields, templates.Choice{Value: strconv.FormatInt(f.ID, 10), Label: names[f.SourceID] + "." + f.Name})
		}
		sort.Slice(v.Fields, func(i, j int) bool { return strings.ToLower(v.Fields[i].Label) < strings.ToLower(v.Fields[j].Label) })
	}
	return s.render(c, status, templates.RowFormPage(s.chrome(c, "Map a field", "matrix"), v))
}

func (s *Server) rowNewForm(c echo.Context) error {
	form := rowForm(nil)
	fieldID, _ := strconv.ParseInt(c.QueryParam("field"), 10, 64)
	if fieldID != 0 {
		form.Values["source_field_id"] = strconv.FormatInt(fieldID, 10)
		if f, err := s.mapping.FindFieldByID(c.Request().Context(), project(c).ID, fieldID); err == nil {
			if sg, ok := mapping.SuggestTarget(f.Name); ok {
				form.Values["target_attribute"] = sg.Target
				form.Values["transform"] = prettyTransform(sg.Transform)
			}
		}
	}
	return s.renderRowForm(c, http.StatusOK, form, nil, fieldID)
}

// isPreview reports whether the form asks for a preview rather than a save.
func isPreview(c echo.Context) bool { return c.FormValue("action") == "preview" }

func (s *Server) createRow(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	in := readRowForm(f, true)
	fieldID := int64(0)
	if in.SourceFieldID != nil {
		fieldID = *in.SourceFieldID
	}
	if isPreview(c) {
		return s.renderRowForm(c, http.StatusOK, f.form, nil, fieldID)
	}
	err := f.parseErr()
	if err == nil {
		_, err = s.mapping.CreateRow(c.Request().Context(), p.ID, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderRowForm(c, statusForForm(err), *form, nil, fieldID)
	}
	return s.redirectWithFlash(c, projectURL(p, "/matrix"), "Mapping added.")
}

func (s *Server) findRow(c echo.Context) (*mapping.Row, error) {
	id, err := pathID(c, "id", "matrix row")
	if err != nil {
		return nil, err
	}
	return s.mapping.FindRowByID(c.Request().Context(), project(c).ID, id)
}

func (s *Server) rowEditForm(c echo.Context) error {
	r, err := s.findRow(c)
	if err != nil {
		return err
	}
	return s.renderRowForm(c, http.StatusOK, rowForm(r), r, 0)
}

// updateRow saves a row from its edit page or in place from the matrix. An
// in-place save (fetch with X-Requested-With) gets the re-rendered line back.
func (s *Server) updateRow(c echo.Context) error {
	p := project(c)
	r, err := s.findRow(c)
	if err != nil {
		return err
	}
	inline := c.Request().Header.Get("X-Requested-With") == "fetch"
	f := newFormReader(c)
	in := readRowForm(f, false)
	if inline || !c.Request().PostForm.Has("transform") {
		// The matrix line edits target, mapping and priority only.
		in.Transform, in.Notes = nil, nil
	}
	if isPreview(c) {
		return s.renderRowForm(c, http.StatusOK, f.form, r, 0)
	}
	version := f.version()
	err = f.parseErr()
	if err == nil {
		_, err = s.mapping.UpdateRow(c.Request().Context(), p.ID, r.ID, version, in)
	}
	if inline {
		return s.renderMatrixLine(c, r.ID, err)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderRowForm(c, statusForForm(err), *form, r, 0)
	}
	if !c.Request().PostForm.Has("transform") {
		return s.redirectWithFlash(c, projectURL(p, "/matrix")+"#row-"+strconv.FormatInt(r.ID, 10), "Row saved.")
	}
	return s.redirectWithFlash(c, projectURL(p, "/matrix"), "Row saved.")
}

// renderMatrixLine answers an in-place edit with the line as it is now, and
// the error (if any) in a header the script shows next to the line.
func (s *Server) renderMatrixLine(c echo.Context, rowID int64, saveErr error) error {
	status := http.StatusOK
	if saveErr != nil {
		ae := apperr.As(saveErr)
		if ae.Code == apperr.CodeInternal {
			return saveErr
		}
		status = statusForForm(saveErr)
		c.Response().Header().Set("X-Ferry-Error", strings.ReplaceAll(ae.Detail(), "\n", " "))
	}
	m, extra, err := s.matrixState(c)
	if err != nil {
		return err
	}
	for _, l := range m.Lines {
		if l.Row != nil && l.Row.ID == rowID {
			return s.render(c, status, templates.MatrixRow(s.chrome(c, "", "matrix"), l, extra[l.Field.ID], can(c, auth.PermPlanEdit)))
		}
	}
	return apperr.NotFound("matrix row")
}

// previewTransform renders the preview of a transformation being typed.
func (s *Server) previewTransform(c echo.Context) error {
	fieldID, _ := strconv.ParseInt(c.FormValue("source_field_id"), 10, 64)
	rows, msg := s.previewFor(c, fieldID, c.FormValue("transform"))
	return s.render(c, http.StatusOK, templates.TransformPreview(rows, msg))
}

func (s *Server) deleteRowConfirm(c echo.Context) error {
	r, err := s.findRow(c)
	if err != nil {
		return err
	}
	p := project(c)
	what := "the row marking this field as not migrated"
	if r.Status == mapping.StatusMapped {
		what = "the mapping to " + r.TargetAttribute
	}
	return s.confirmDelete(c, "matrix", "Delete this matrix row?", []string{"delete " + what + ", its transformation and notes"},
		projectURL(p, fmt.Sprintf("/matrix/rows/%d/delete", r.ID)), projectURL(p, fmt.Sprintf("/matrix/rows/%d/edit", r.ID)))
}

func (s *Server) deleteRow(c echo.Context) error {
	r, err := s.findRow(c)
	if err != nil {
		return err
	}
	p := project(c)
	if err := s.mapping.DeleteRow(c.Request().Context(), p.ID, r.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/matrix"), "Row deleted.")
}

// ---- spreadsheets ----

func (s *Server) exportMatrix(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		m, err := s.mapping.LoadMatrix(c.Request().Context(), project(c).ID)
		if err != nil {
			return err
		}
		return s.sendTable(c, mapping.MatrixTable(m), "matrix", format)
	}
}

// sendTable writes a table as a CSV or XLSX download, buffered so that a
// failure is an error page rather than half a file.
func (s *Server) sendTable(c echo.Context, t sheet.Table, name, format string) error {
	var buf bytes.Buffer
	var ctype string
	switch format {
	case "csv":
		ctype = "text/csv; charset=utf-8"
		if err := sheet.WriteCSV(&buf, t); err != nil {
			return err
		}
	case "xlsx":
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		if err := sheet.WriteXLSX(&buf, t); err != nil {
			return err
		}
	default:
		return apperr.NotFound("export format")
	}
	p := project(c)
	filename := fmt.Sprintf("%s-%s.%s", slug(p.Name), name, format)
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, filename))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}

// slug makes a file-name-safe version of a name.
func slug(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "project"
	}
	if len(out) > 60 {
		out = out[:60]
	}
	return out
}

func (s *Server) importForm(c echo.Context) error {
	return s.renderPage(c, templates.ImportPage(s.chrome(c, "Import the matrix", "matrix"), templates.ImportView{Form: templates.NewForm()}))
}

// readUpload reads the uploaded file, refusing anything over the upload limit
// without reading it all.
func (s *Server) readUpload(c echo.Context) ([]byte, string, error) {
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, s.opts.MaxUploadBytes+1<<20)
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, "", apperr.Invalid("Please correct the highlighted fields.", map[string]string{"file": fmt.Sprintf("The file is larger than %d MB.", s.opts.MaxUploadBytes>>20)})
		}
		return nil, "", apperr.Invalid("Please correct the highlighted fields.", map[string]string{"file": "Choose a CSV or XLSX file to import."})
	}
	if fh.Size > s.opts.MaxUploadBytes {
		return nil, "", apperr.Invalid("Please correct the highlighted fields.", map[string]string{"file": fmt.Sprintf("The file is larger than %d MB.", s.opts.MaxUploadBytes>>20)})
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, s.opts.MaxUploadBytes+1))
	if err != nil {
		return nil, "", err
	}
	return data, fh.Filename, nil
}

func (s *Server) renderImportError(c echo.Context, err error) error {
	ae := apperr.As(err)
	if ae.Code != apperr.CodeInvalid {
		return err
	}
	form := templates.NewForm()
	form.Errors["file"] = ae.Message
	if msg, ok := ae.Fields["file"]; ok {
		form.Errors["file"] = msg
	}
	form.Message = "The file cannot be imported; nothing was changed."
	return s.render(c, http.StatusUnprocessableEntity, templates.ImportPage(s.chrome(c, "Import the matrix", "matrix"), templates.ImportView{Form: form}))
}

// parseTable reads a spreadsheet, turning its errors into a message for the form.
func (s *Server) parseTable(data []byte, name string) (sheet.Table, error) {
	t, err := sheet.Read(bytes.NewReader(data), name, s.opts.MaxUploadBytes)
	if err != nil {
		return sheet.Table{}, apperr.Invalid(err.Error(), nil)
	}
	return t, nil
}

func (s *Server) importPreview(c echo.Context) error {
	data, name, err := s.readUpload(c)
	if err != nil {
		return s.renderImportError(c, err)
	}
	t, err := s.parseTable(data, name)
	if err != nil {
		return s.renderImportError(c, err)
	}
	plan, err := s.mapping.PlanImport(c.Request().Context(), project(c).ID, t)
	if err != nil {
		return s.renderImportError(c, err)
	}
	status := http.StatusOK
	if len(plan.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return s.render(c, status, templates.ImportPage(s.chrome(c, "Import the matrix", "matrix"),
		templates.ImportView{Plan: plan, Content: base64.StdEncoding.EncodeToString(data), Name: name}))
}

func (s *Server) importConfirm(c echo.Context) error {
	p := project(c)
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, s.opts.MaxUploadBytes*4/3+1<<20)
	data, err := base64.StdEncoding.DecodeString(c.FormValue("content"))
	if err != nil || len(data) == 0 {
		return s.renderImportError(c, apperr.Invalid("The confirmed file is missing or damaged; upload it again.", nil))
	}
	t, err := s.parseTable(data, c.FormValue("name"))
	if err != nil {
		return s.renderImportError(c, err)
	}
	plan, err := s.mapping.ApplyImport(c.Request().Context(), p.ID, t, c.FormValue("digest"))
	if err != nil {
		if apperr.Is(err, apperr.CodeConflict) {
			s.setFlash(c, "error", apperr.As(err).Message)
			return c.Redirect(http.StatusSeeOther, projectURL(p, "/matrix/import"))
		}
		return s.renderImportError(c, err)
	}
	changed := 0
	for _, ch := range plan.Changes {
		if ch.Kind != "unchanged" {
			changed++
		}
	}
	return s.redirectWithFlash(c, projectURL(p, "/matrix"), fmt.Sprintf("Imported %s: %d change(s).", c.FormValue("name"), changed))
}
