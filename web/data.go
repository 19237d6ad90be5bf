package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/mapping/transform"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/templates"
)

// uploadRoute is the extract upload, which streams its body itself: the
// generic body limit and CSRF middleware would read it whole first.
const uploadRoute = "/projects/:pid/data/sources/:sid/extracts"

// uploadDeadline bounds the receiving of one upload, which may outlast the
// server's usual read and write timeouts (its staging is a job).
const uploadDeadline = 2 * time.Hour

// recordsPageSize is how many records one page of the records table shows.
const recordsPageSize = 50

// recordColumns is how many attributes the records table shows besides the key.
const recordColumns = 6

// ---- the data page ----

func (s *Server) dataPage(c echo.Context) error {
	return s.renderData(c, http.StatusOK, nil)
}

// renderData renders the data page; forms holds an upload form to show
// again (after a refusal) by source id.
func (s *Server) renderData(c echo.Context, status int, forms map[int64]templates.Form) error {
	return s.renderDataWith(c, status, forms, nil)
}

// renderDataWith is renderData with, besides the upload forms, the
// directory pull forms to show again by source id.
func (s *Server) renderDataWith(c echo.Context, status int, forms, directory map[int64]templates.Form) error {
	ctx := c.Request().Context()
	p := project(c)
	// The jobs are read before the data they produce. A job ends only once
	// its extract or run is committed, so a job read as ended comes with its
	// result and one read as running keeps the page following it. Read the
	// other way round, a job that ended in between would show as ended beside
	// the data from before it, and the page would stop following it.
	sources, err := s.plan.FindSources(ctx, p.ID)
	if err != nil {
		return err
	}
	v := templates.DataView{CanRun: can(c, auth.PermRun), MaxBytes: s.opts.MaxExtractBytes}
	for _, src := range sources {
		ds := templates.DataSource{Source: src, Form: templates.NewForm()}
		if f, ok := forms[src.ID]; ok {
			ds.Form = f
		}
		if err := s.fillSourceJobs(c, &ds, directory); err != nil {
			return err
		}
		v.Sources = append(v.Sources, ds)
	}
	vj, err := s.newestJob(ctx, p.ID, jobs.Filter{Kinds: []string{jobs.KindValidate}, Active: true})
	if err != nil {
		return err
	}
	if vj != nil {
		view := s.jobView(c, *vj)
		v.ValidateJob = &view
	}
	st, err := s.loadProjectState(c)
	if err != nil {
		return err
	}
	all, err := s.staging.FindExtracts(ctx, p.ID, 0)
	if err != nil {
		return err
	}
	v.Staged = len(st.extracts)
	if len(st.runs) > 0 {
		v.Run = &st.runs[0]
		v.Stale = st.stale
	}
	for i := range v.Sources {
		ds := &v.Sources[i]
		for _, ex := range all {
			if ex.SourceID != ds.Source.ID {
				continue
			}
			if len(ds.History) < 20 {
				ds.History = append(ds.History, ex)
			}
			if ex.Status == staging.StatusReady && ds.Current == nil {
				cur := ex
				ds.Current = &cur
			}
		}
		if ds.Current != nil && ds.Current.Quarantined > 0 {
			q, err := s.staging.FindQuarantined(ctx, ds.Current.ID)
			if err != nil {
				return err
			}
			ds.Quarantined = q[:min(len(q), 100)]
		}
	}
	return s.render(c, status, templates.DataPage(s.chrome(c, "Data", sectionData), v))
}

// ---- uploading an extract ----

// uploadFields are the small fields sent before the file.
type uploadFields struct {
	token, format, key string
}

// errUploadTooLarge stops the reader of a file over the upload limit.
var errUploadTooLarge = errors.New("the file is larger than the upload limit")

// uploadMeter counts, hashes and limits the file as it is spooled, so that
// the file is read once and never held whole in memory.
type uploadMeter struct {
	r        io.Reader
	limit    int64
	n        int64
	hash     hash.Hash
	tooLarge bool
	// err is a read error other than the end of the file (the browser went away).
	err error
}

func (m *uploadMeter) Read(p []byte) (int, error) {
	if m.tooLarge {
		return 0, errUploadTooLarge
	}
	n, err := m.r.Read(p)
	m.n += int64(n)
	m.hash.Write(p[:n])
	if m.n > m.limit {
		m.tooLarge = true
		return n, errUploadTooLarge
	}
	if err != nil && !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			m.tooLarge = true
			return n, errUploadTooLarge
		}
		m.err = err
	}
	return n, err
}

// uploadRefusal is an upload refused with a message for one field.
type uploadRefusal struct {
	field, message string
}

func (e *uploadRefusal) Error() string { return e.message }

func refuse(field, message string) error { return &uploadRefusal{field: field, message: message} }

// checkCSRF applies to the upload the rule the CSRF middleware applies to
// every other form (see csrf): a browser that sends Sec-Fetch-Site is
// trusted for same-origin requests and refused for cross-site ones;
// otherwise the form's token must match the CSRF cookie. The page rendered
// in answer gets the token its forms need.
func (s *Server) checkCSRF(c echo.Context, token string) error {
	switch c.Request().Header.Get(echo.HeaderSecFetchSite) {
	case "same-origin", "none":
		c.Set(ctxCSRF, middleware.CSRFUsingSecFetchSite)
		return nil
	case "cross-site":
		return errCSRF
	}
	ck, err := c.Cookie(csrfCookie)
	if err != nil || ck.Value == "" || token == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(token)) != 1 {
		return errCSRF
	}
	c.Set(ctxCSRF, ck.Value)
	return nil
}

// setPageCSRF gives a page rendered in answer to an upload refused before
// its token was read the token its forms need: the browser's own.
func (s *Server) setPageCSRF(c echo.Context) {
	switch c.Request().Header.Get(echo.HeaderSecFetchSite) {
	case "same-origin", "none":
		c.Set(ctxCSRF, middleware.CSRFUsingSecFetchSite)
		return
	}
	if ck, err := c.Cookie(csrfCookie); err == nil {
		c.Set(ctxCSRF, ck.Value)
	}
}

func (s *Server) tooLarge() error {
	return refuse("file", fmt.Sprintf("The file is larger than %s, the most this console takes: nothing was staged. Stage it with `ferry stage`, or raise FERRY_MAX_UPLOAD_MB.",
		templates.Bytes(s.opts.MaxExtractBytes)))
}

// uploadExtract receives the uploaded file of a source and hands it to a
// staging job. The multipart body is read as a stream: the CSRF token and
// options first, then the file, which is spooled to the uploads directory
// while it is measured and hashed (never held in memory), checked as far
// as can be done at once (its format, its first record, its record key),
// and staged in the background: the data page shows the job's progress.
func (s *Server) uploadExtract(c echo.Context) error {
	p := project(c)
	ctx := c.Request().Context()
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	to := projectURL(p, "/data") + fmt.Sprintf("#source-%d", src.ID)
	// One staging per source at a time: refused before a byte is read.
	active, err := s.newestJob(ctx, p.ID, jobs.Filter{SourceID: src.ID, Kinds: stagingKinds, Active: true})
	if err != nil {
		return err
	}
	if active != nil {
		s.setFlash(c, "error", fmt.Sprintf("Job %d is already %s: wait for it to finish, or cancel it, then upload again. Nothing was staged.", active.ID, active.Label()))
		return uploadGoTo(c, to)
	}
	form := templates.NewForm()
	j, err := s.streamExtract(c, src, &form)
	if err != nil {
		if _, ok := c.Get(ctxCSRF).(string); !ok {
			// Refused before the token was read (the file is too large):
			// the page's forms still need one.
			s.setPageCSRF(c)
		}
		var ref *uploadRefusal
		ae := apperr.As(err)
		switch {
		case errors.As(err, &ref):
			form.Errors[ref.field] = ref.message
		case ae.Code == apperr.CodeInvalid:
			form.Errors["file"] = ae.Message
		case ae.Code == apperr.CodeConflict:
			// Another staging of the source started meanwhile.
			s.setFlash(c, "error", ae.Message+" Nothing was staged.")
			return uploadGoTo(c, to)
		default:
			return err
		}
		form.Message = "The extract was not staged; nothing was changed."
		// The page's script (which uploads with a progress bar) takes the
		// form from this page and puts it in place of its own.
		return s.renderData(c, http.StatusUnprocessableEntity, map[int64]templates.Form{src.ID: form})
	}
	s.setFlash(c, "ok", fmt.Sprintf("Uploaded %s (%s): job %d is staging it; its progress is shown below.",
		j.Params.FileName, templates.Bytes(j.Params.SizeBytes), j.ID))
	return uploadGoTo(c, to)
}

// uploadGoTo ends an upload with a redirect, or, for the page's script
// (which uploads with a progress bar), with where it should go.
func uploadGoTo(c echo.Context, to string) error {
	if c.Request().Header.Get("X-Requested-With") == "fetch" {
		c.Response().Header().Set("X-Ferry-Location", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

func (s *Server) streamExtract(c echo.Context, src *plan.Source, form *templates.Form) (*jobs.Job, error) {
	req := c.Request()
	// A large file takes longer to receive than an ordinary request.
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Now().Add(uploadDeadline))
	_ = rc.SetWriteDeadline(time.Now().Add(uploadDeadline))
	limit := s.opts.MaxExtractBytes
	// Room for the other fields and the multipart framing beyond the file.
	bodyLimit := limit + 64<<10
	if req.ContentLength > bodyLimit {
		// Refused before a byte is read: nothing is changed, so the token
		// need not be checked first.
		return nil, s.tooLarge()
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, bodyLimit)

	mr, err := req.MultipartReader()
	if err != nil {
		// Not a file upload: a plain form (Go reads at most 10 MB of it) or nothing.
		token := req.Header.Get("X-CSRF-Token")
		if token == "" && req.ParseForm() == nil {
			token = req.PostForm.Get("_csrf")
		}
		if err := s.checkCSRF(c, token); err != nil {
			return nil, err
		}
		return nil, refuse("file", "Choose an extract file to upload.")
	}
	var fields uploadFields
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			if err := s.checkCSRF(c, fields.token); err != nil {
				return nil, err
			}
			return nil, refuse("file", "Choose an extract file to upload.")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, s.tooLarge()
			}
			if err := s.checkCSRF(c, fields.token); err != nil {
				return nil, err
			}
			return nil, refuse("file", "The upload could not be read (it was interrupted or is not a form upload); nothing was staged. Try again.")
		}
		if part.FormName() == "file" {
			// Nothing is read of the file before the token is checked: the
			// form sends the token first.
			if err := s.checkCSRF(c, fields.token); err != nil {
				return nil, err
			}
			if err := checkUploadFields(fields); err != nil {
				return nil, err
			}
			if part.FileName() == "" {
				return nil, refuse("file", "Choose an extract file to upload.")
			}
			return s.stagePart(c, src, part, fields)
		}
		value, err := io.ReadAll(io.LimitReader(part, 4<<10+1))
		if err != nil || len(value) > 4<<10 {
			if err := s.checkCSRF(c, fields.token); err != nil {
				return nil, err
			}
			return nil, refuse("file", "The form sent a field that is far too long; nothing was staged.")
		}
		switch part.FormName() {
		case "_csrf":
			fields.token = string(value)
		case "format":
			fields.format = strings.TrimSpace(string(value))
			form.Values["format"] = fields.format
		case "key_attribute":
			fields.key = strings.TrimSpace(string(value))
			form.Values["key_attribute"] = fields.key
		}
	}
}

func checkUploadFields(f uploadFields) error {
	known := false
	for _, o := range templates.ExtractFormats() {
		known = known || o.Value == f.format
	}
	if !known {
		return refuse("format", "Choose one of the formats listed.")
	}
	if len([]rune(f.key)) > 100 || strings.ContainsAny(f.key, "\r\n\t") {
		return refuse("key_attribute", "The record key is the name of one attribute: at most 100 characters on one line.")
	}
	return nil
}

// stagePart spools the file part, checks what can be checked at once, and
// submits the job that stages it.
func (s *Server) stagePart(c echo.Context, src *plan.Source, part *multipart.Part, f uploadFields) (*jobs.Job, error) {
	sp, err := s.spool(part)
	if err != nil {
		return nil, err
	}
	format, key, err := checkSpooled(sp.path, f.format, f.key)
	if err != nil {
		_ = os.Remove(sp.path)
		return nil, err
	}
	// The job owns the spooled file from here on, refused or not.
	return s.jobs.StageFile(c.Request().Context(), project(c).ID, jobs.StageFileInput{SourceID: src.ID, SourceName: src.Name, Path: sp.path,
		FileName: uploadName(part.FileName()), Format: format, KeyAttribute: key, SizeBytes: sp.size, Checksum: sp.checksum})
}

// listColumns names the first few columns of a file, for a message.
func listColumns(cols []string) string {
	const most = 8
	shown := cols[:min(len(cols), most)]
	out := strings.Join(shown, ", ")
	if len(cols) > most {
		out += fmt.Sprintf(" and %d more", len(cols)-most)
	}
	return out
}

// ---- validation ----

func (s *Server) validateData(c echo.Context) error {
	p := project(c)
	j, err := s.jobs.Validate(c.Request().Context(), p.ID)
	if err != nil {
		switch ae := apperr.As(err); ae.Code {
		case apperr.CodeInvalid: // nothing staged
			s.setFlash(c, "error", ae.Message)
			return c.Redirect(http.StatusSeeOther, projectURL(p, "/data"))
		case apperr.CodeConflict: // a validation runs already
			s.setFlash(c, "error", ae.Message)
			return c.Redirect(http.StatusSeeOther, projectURL(p, "/quality"))
		}
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/quality"), fmt.Sprintf("Validating the staged data (job %d): its progress is shown below.", j.ID))
}

// ---- personal data in staged records ----

// recordMasker masks the values of a source's personal-data columns for a
// viewer whose role does not see personal data.
type recordMasker struct {
	show bool
	// pii and known hold lower-cased column names: the fields the matrix
	// says carry personal data (confirmed, or suggested and not ruled
	// out), and every field it knows. Unknown columns count as personal.
	pii, known map[string]bool
}

// maskerFor returns the masker of a source's records for the current viewer
// and audits the view when it shows personal data unmasked.
func (s *Server) maskerFor(c echo.Context, sourceID int64) (recordMasker, error) {
	mk, err := s.newRecordMasker(c, sourceID)
	if err != nil {
		return mk, err
	}
	return mk, s.auditUnmasked(c, sourceID, mk)
}

func (mk recordMasker) masks(column string) bool {
	key := strings.ToLower(column)
	return staging.IsCredentialAttribute(column) || (!mk.show && (mk.pii[key] || !mk.known[key]))
}

// hiddenCredential stands for a password hash, which no role is shown.
const hiddenCredential = "(password hash: never shown)"

func (mk recordMasker) value(column string, vals []string) string {
	v := strings.Join(vals, "; ")
	switch {
	case staging.IsCredentialAttribute(column):
		if v == "" {
			return ""
		}
		return hiddenCredential
	case mk.masks(column):
		return mapping.MaskValue(v)
	}
	return v
}

// exportValue is a value in the invalid-records file, which is made to be
// fixed and staged again: password hashes stay in it for a role that sees
// personal data (the download is audited as such), and are left out
// otherwise.
func (mk recordMasker) exportValue(column string, vals []string) string {
	if staging.IsCredentialAttribute(column) {
		if mk.show {
			return strings.Join(vals, "; ")
		}
		return ""
	}
	return mk.value(column, vals)
}

// extractColumns lists an extract's columns in file order.
func extractColumns(ex *staging.Extract) []string {
	out := make([]string, len(ex.Columns))
	for i, col := range ex.Columns {
		out[i] = col.Name
	}
	return out
}

// ---- the records of an extract ----

// findExtract returns one of the project's extracts.
func (s *Server) findExtract(c echo.Context, id int64) (*staging.Extract, error) {
	all, err := s.staging.FindExtracts(c.Request().Context(), project(c).ID, 0)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].ID == id {
			return &all[i], nil
		}
	}
	return nil, apperr.NotFound("extract")
}

func (s *Server) recordsPage(c echo.Context) error {
	ctx := c.Request().Context()
	p := project(c)
	var ex *staging.Extract
	if raw := c.QueryParam("extract"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return apperr.NotFound("extract")
		}
		if ex, err = s.findExtract(c, id); err != nil {
			return err
		}
	} else {
		// Without a choice: the current extract of the first source that has one.
		st, err := s.loadProjectState(c)
		if err != nil {
			return err
		}
		for _, src := range st.inv.Sources {
			for i := range st.extracts {
				if ex == nil && st.extracts[i].SourceID == src.ID {
					ex = &st.extracts[i]
				}
			}
		}
		if ex == nil {
			return apperr.NotFound("extract")
		}
	}
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	names, err := s.plan.SourceNames(ctx, p.ID)
	if err != nil {
		return err
	}
	mk, err := s.maskerFor(c, ex.SourceID)
	if err != nil {
		return err
	}
	v := templates.RecordsView{SourceName: names[ex.SourceID], Extract: *ex, CanRun: can(c, auth.PermRun), Masked: !mk.show, First: after <= 0}
	for _, col := range extractColumns(ex) {
		if len(v.Columns) == recordColumns {
			break
		}
		if !strings.EqualFold(col, ex.KeyAttribute) {
			v.Columns = append(v.Columns, col)
		}
	}
	if ex.Status == staging.StatusReady {
		recs, err := s.staging.FindRecords(ctx, ex.ID, max(after, 0), recordsPageSize+1)
		if err != nil {
			return err
		}
		if len(recs) > recordsPageSize {
			recs = recs[:recordsPageSize]
			v.Next = recordsNextURL(p, ex.ID, recs[len(recs)-1].ID)
		}
		for _, r := range recs {
			eff := r.Effective()
			row := templates.RecordRow{Record: r}
			if ex.KeyAttribute != "" {
				row.Key = mk.value(ex.KeyAttribute, eff[ex.KeyAttribute])
			}
			for _, col := range v.Columns {
				row.Values = append(row.Values, mk.value(col, eff[col]))
			}
			v.Rows = append(v.Rows, row)
		}
	}
	return s.renderPage(c, templates.RecordsPage(s.chrome(c, "Records of "+ex.FileName, sectionData), v))
}

func recordsNextURL(p *plan.Project, extractID, after int64) string {
	q := url.Values{"extract": {strconv.FormatInt(extractID, 10)}}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	return projectURL(p, "/data/records?"+q.Encode())
}

// ---- excluding a record ----

func (s *Server) renderExclude(c echo.Context, status int, rec *staging.StagedRecord, ex *staging.Extract, form templates.Form) error {
	p := project(c)
	names, err := s.plan.SourceNames(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	mk, err := s.maskerFor(c, ex.SourceID)
	if err != nil {
		return err
	}
	eff := rec.Effective()
	v := templates.ExcludeView{SourceName: names[ex.SourceID], Extract: *ex, Record: *rec, Form: form,
		Cancel: recordsNextURL(p, ex.ID, rec.ID-1) + fmt.Sprintf("#record-%d", rec.ID)}
	if ex.KeyAttribute != "" {
		v.Key = mk.value(ex.KeyAttribute, eff[ex.KeyAttribute])
	}
	for _, col := range recordFields(rec, ex) {
		if vals, ok := eff[col]; ok {
			v.Attributes = append(v.Attributes, [2]string{col, mk.value(col, vals)})
		}
	}
	title := "Exclude a record"
	if rec.Excluded {
		title = "Include a record again"
	}
	return s.render(c, status, templates.ExcludePage(s.chrome(c, title, sectionData), v))
}

func (s *Server) findRecord(c echo.Context) (*staging.StagedRecord, *staging.Extract, error) {
	id, err := pathID(c, "id", "staged record")
	if err != nil {
		return nil, nil, err
	}
	return s.staging.FindRecordByID(c.Request().Context(), project(c).ID, id)
}

func (s *Server) excludeRecordConfirm(c echo.Context) error {
	rec, ex, err := s.findRecord(c)
	if err != nil {
		return err
	}
	form := templates.NewForm()
	form.Values["version"] = strconv.FormatInt(rec.Version, 10)
	return s.renderExclude(c, http.StatusOK, rec, ex, form)
}

func (s *Server) excludeRecord(c echo.Context) error {
	p := project(c)
	rec, ex, err := s.findRecord(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	exclude := c.FormValue("exclude") == "true"
	reason := f.text("reason")
	version := f.version()
	err = s.staging.ExcludeRecord(c.Request().Context(), p.ID, rec.ID, version, exclude, *reason)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		if apperr.Is(err, apperr.CodeConflict) {
			// Show the record as it is now; the reason typed is kept.
			if now, nowEx, ferr := s.findRecord(c); ferr == nil {
				rec, ex = now, nowEx
				form.Values["version"] = strconv.FormatInt(rec.Version, 10)
			}
		}
		return s.renderExclude(c, statusForForm(err), rec, ex, *form)
	}
	what := fmt.Sprintf("The record on line %s", plan.Thousands(rec.Position))
	msg := what + " is excluded from validation and loads. Validate again to see the counts change."
	if !exclude {
		msg = what + " is included again. Validate again to check it."
	}
	return s.redirectWithFlash(c, recordsNextURL(p, ex.ID, rec.ID-1)+fmt.Sprintf("#record-%d", rec.ID), msg)
}

// ---- fixing a record ----

// recordFields lists a record's attributes for the fix form: the extract's
// columns in file order, then any other attribute the record has.
func recordFields(rec *staging.StagedRecord, ex *staging.Extract) []string {
	cols := extractColumns(ex)
	seen := map[string]bool{}
	for _, col := range cols {
		seen[col] = true
	}
	var extra []string
	for name := range rec.Attributes {
		if !seen[name] {
			extra = append(extra, name)
		}
	}
	for name := range rec.Edits {
		if !seen[name] && rec.Attributes[name] == nil {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	return append(cols, extra...)
}

// editInput is the form field of an attribute: its name, prefixed so that
// no attribute name collides with the form's own fields.
func editInput(name string) string { return "attr." + name }

// renderEditRecord renders the fix form; typed holds what was typed, by
// attribute, after a refusal.
func (s *Server) renderEditRecord(c echo.Context, status int, rec *staging.StagedRecord, ex *staging.Extract, form templates.Form, typed map[string]string) error {
	p := project(c)
	names, err := s.plan.SourceNames(c.Request().Context(), p.ID)
	if err != nil {
		return err
	}
	mk, err := s.maskerFor(c, ex.SourceID)
	if err != nil {
		return err
	}
	eff := rec.Effective()
	v := templates.EditRecordView{SourceName: names[ex.SourceID], Extract: *ex, Record: *rec, Form: form,
		Cancel: recordsNextURL(p, ex.ID, rec.ID-1) + fmt.Sprintf("#record-%d", rec.ID)}
	if ex.KeyAttribute != "" {
		v.Key = mk.value(ex.KeyAttribute, eff[ex.KeyAttribute])
	}
	for _, name := range recordFields(rec, ex) {
		_, edited := rec.Edits[name]
		f := templates.RecordField{Name: name, Input: editInput(name), Edited: edited, Masked: mk.masks(name),
			Source: mk.value(name, rec.Attributes[name]), Value: mk.value(name, eff[name])}
		if t, ok := typed[name]; ok && !f.Masked {
			f.Value = t
		}
		v.Fields = append(v.Fields, f)
	}
	if err := s.fillProfile(c, rec, ex, mk, &v); err != nil {
		return err
	}
	v.Canary = canaryMarkView(c, rec.ID)
	return s.render(c, status, templates.EditRecordPage(s.chrome(c, "Fix a record", sectionData), v))
}

func (s *Server) recordEditForm(c echo.Context) error {
	rec, ex, err := s.findRecord(c)
	if err != nil {
		return err
	}
	if ex.Status != staging.StatusReady {
		return apperr.NotFound("staged record")
	}
	form := templates.NewForm()
	form.Values["version"] = strconv.FormatInt(rec.Version, 10)
	return s.renderEditRecord(c, http.StatusOK, rec, ex, form, nil)
}

// updateRecord saves the values changed in the fix form: a value that
// differs from what the record holds now becomes Ferry's edit; an emptied
// field (or the source's value typed back) drops the edit.
func (s *Server) updateRecord(c echo.Context) error {
	p := project(c)
	rec, ex, err := s.findRecord(c)
	if err != nil {
		return err
	}
	mk, err := s.maskerFor(c, ex.SourceID)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	version := f.version()
	typed := map[string]string{}
	params, err := c.FormParams()
	if err != nil {
		return apperr.Invalid("The form could not be read.", nil)
	}
	for _, name := range recordFields(rec, ex) {
		if mk.masks(name) {
			continue // not shown, so not changed
		}
		if vals, sent := params[editInput(name)]; sent && len(vals) > 0 {
			typed[name] = strings.TrimSpace(vals[0])
		}
	}
	edits, problems := planRecordEdits(rec, ex, mk, typed)
	for name, msg := range problems {
		f.check.Add(editInput(name), msg)
	}
	err = f.parseErr()
	if err == nil {
		_, err = s.staging.EditRecord(c.Request().Context(), p.ID, rec.ID, version, edits)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		if msg, ok := form.Errors["edits"]; ok {
			form.Message = msg
		}
		if apperr.Is(err, apperr.CodeConflict) {
			if now, nowEx, ferr := s.findRecord(c); ferr == nil {
				rec, ex = now, nowEx
			}
		}
		return s.renderEditRecord(c, statusForForm(err), rec, ex, *form, typed)
	}
	return s.redirectWithFlash(c, recordsNextURL(p, ex.ID, rec.ID-1)+fmt.Sprintf("#record-%d", rec.ID),
		fmt.Sprintf("The record on line %s is fixed: %d attribute(s) changed. Validate again to check it.", plan.Thousands(rec.Position), len(edits)))
}

// fillProfile shows the record's Okta profile: computed now through the
// matrix as it is (with Ferry's fixes), compared with what the last
// validation stored, values masked for a role that does not see personal
// data.
func (s *Server) fillProfile(c echo.Context, rec *staging.StagedRecord, ex *staging.Extract, mk recordMasker, v *templates.EditRecordView) error {
	ctx := c.Request().Context()
	st, err := s.loadProjectState(c)
	if err != nil {
		return err
	}
	dropped, err := s.privacy.DroppedFields(ctx, project(c).ID)
	if err != nil {
		return err
	}
	profile, terrs := st.matrix.Profiler(dropped).Profile(ex.SourceID, recordValues(rec.Effective()))
	if len(profile) == 0 && len(terrs) == 0 {
		return nil // nothing of this source is mapped yet
	}
	names := make([]string, 0, len(profile))
	for name := range profile {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		value := profile[name]
		if !mk.show {
			value = mapping.MaskValue(value)
		}
		v.Profile = append(v.Profile, templates.ProfileValue{Attribute: name, Value: value})
	}
	for _, te := range terrs {
		v.Profile = append(v.Profile, templates.ProfileValue{Attribute: te.Target, Value: "(transformation failed: " + te.Message + ")"})
	}
	stored, err := s.staging.FindProfileJSON(ctx, rec.ID)
	if err != nil {
		return err
	}
	switch now := string(staging.AppendProfile(nil, names, profile)); {
	case stored == "":
		v.ProfileNote = "Not validated yet: validate the staged data to check this profile against Okta's rules."
	case stored != now:
		v.ProfileNote = "The last validation saw another profile (the record or the matrix changed since): validate again to check this one."
	}
	return nil
}

// recordValues presents a record's attributes to the transformations: the
// first value of each.
func recordValues(attrs map[string][]string) transform.MapRecord {
	out := make(transform.MapRecord, len(attrs))
	for k, vals := range attrs {
		if len(vals) > 0 {
			out[k] = vals[0]
		}
	}
	return out
}
