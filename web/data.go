package web

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/templates"
)

// uploadRoute is the extract upload, which streams its body itself: the
// generic body limit and CSRF middleware would read it whole first.
const uploadRoute = "/projects/:pid/data/sources/:sid/extracts"

// uploadDeadline bounds one upload and its staging, which run within the
// request and may outlast the server's usual read and write timeouts.
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
	ctx := c.Request().Context()
	p := project(c)
	st, err := s.loadProjectState(c)
	if err != nil {
		return err
	}
	all, err := s.staging.FindExtracts(ctx, p.ID, 0)
	if err != nil {
		return err
	}
	v := templates.DataView{CanRun: can(c, auth.PermRun), MaxBytes: s.opts.MaxExtractBytes, Staged: len(st.extracts)}
	if len(st.runs) > 0 {
		v.Run = &st.runs[0]
		v.Stale = isStale(st)
	}
	for _, src := range st.inv.Sources {
		ds := templates.DataSource{Source: src, Form: templates.NewForm()}
		if f, ok := forms[src.ID]; ok {
			ds.Form = f
		}
		for _, ex := range all {
			if ex.SourceID != src.ID {
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
		v.Sources = append(v.Sources, ds)
	}
	return s.render(c, status, templates.DataPage(s.chrome(c, "Data", sectionData), v))
}

// isStale reports whether an extract was staged after the newest validation.
func isStale(st *projectState) bool {
	if len(st.runs) == 0 {
		return false
	}
	for _, ex := range st.extracts {
		if ex.FinishedAt == nil || st.runs[0].StartedAt.Before(*ex.FinishedAt) {
			return true
		}
	}
	return false
}

// ---- uploading an extract ----

// uploadFields are the small fields sent before the file.
type uploadFields struct {
	token, format, key string
}

// errUploadTooLarge stops the reader of a file over the upload limit.
var errUploadTooLarge = errors.New("the file is larger than the upload limit")

// uploadMeter counts, hashes and limits the file as the staging reads it, so
// that the file is read once, never held whole in memory nor written to disk.
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

// uploadExtract stages the uploaded file of a source. The multipart body is
// read as a stream: the CSRF token and options first, then the file, which
// goes straight into the extract reader while it is measured and hashed.
func (s *Server) uploadExtract(c echo.Context) error {
	p := project(c)
	sid, err := pathID(c, "sid", "source")
	if err != nil {
		return err
	}
	src, err := s.plan.FindSourceByID(c.Request().Context(), p.ID, sid)
	if err != nil {
		return err
	}
	form := templates.NewForm()
	ex, warning, err := s.streamExtract(c, src, &form)
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
		default:
			return err
		}
		form.Message = "The extract was not staged; nothing was changed."
		// The page's script (which uploads with a progress bar) takes the
		// form from this page and puts it in place of its own.
		return s.renderData(c, http.StatusUnprocessableEntity, map[int64]templates.Form{src.ID: form})
	}
	msg := fmt.Sprintf("Staged %s: %s record(s) from %s.", ex.FileName, plan.Thousands(ex.Records), src.Name)
	if ex.Quarantined > 0 {
		msg += fmt.Sprintf(" %s row(s) could not be read and are listed with their line.", plan.Thousands(ex.Quarantined))
	}
	if ex.CarriedOver+ex.LostEdits > 0 {
		msg += fmt.Sprintf(" %s exclusion(s) and fix(es) carried over, %s lost (their records are gone).", plan.Thousands(ex.CarriedOver), plan.Thousands(ex.LostEdits))
	}
	msg += " Validate the data to see its issues."
	kind := "ok"
	if warning != "" {
		kind, msg = "warn", msg+" "+warning
	}
	s.setFlash(c, kind, msg)
	to := projectURL(p, "/data") + fmt.Sprintf("#source-%d", src.ID)
	if c.Request().Header.Get("X-Requested-With") == "fetch" {
		// The page's script uploads with a progress bar; it goes where it is told.
		c.Response().Header().Set("X-Ferry-Location", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

func (s *Server) streamExtract(c echo.Context, src *plan.Source, form *templates.Form) (*staging.Extract, string, error) {
	req := c.Request()
	// A large file and its staging take longer than an ordinary request.
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Now().Add(uploadDeadline))
	_ = rc.SetWriteDeadline(time.Now().Add(uploadDeadline))
	limit := s.opts.MaxExtractBytes
	// Room for the other fields and the multipart framing beyond the file.
	bodyLimit := limit + 64<<10
	if req.ContentLength > bodyLimit {
		// Refused before a byte is read: nothing is changed, so the token
		// need not be checked first.
		return nil, "", s.tooLarge()
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
			return nil, "", err
		}
		return nil, "", refuse("file", "Choose an extract file to upload.")
	}
	var fields uploadFields
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			if err := s.checkCSRF(c, fields.token); err != nil {
				return nil, "", err
			}
			return nil, "", refuse("file", "Choose an extract file to upload.")
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, "", s.tooLarge()
			}
			if err := s.checkCSRF(c, fields.token); err != nil {
				return nil, "", err
			}
			return nil, "", refuse("file", "The upload could not be read (it was interrupted or is not a form upload); nothing was staged. Try again.")
		}
		if part.FormName() == "file" {
			// Nothing is read of the file before the token is checked: the
			// form sends the token first.
			if err := s.checkCSRF(c, fields.token); err != nil {
				return nil, "", err
			}
			if err := checkUploadFields(fields); err != nil {
				return nil, "", err
			}
			if part.FileName() == "" {
				return nil, "", refuse("file", "Choose an extract file to upload.")
			}
			return s.stagePart(c, src, part, fields)
		}
		value, err := io.ReadAll(io.LimitReader(part, 4<<10+1))
		if err != nil || len(value) > 4<<10 {
			if err := s.checkCSRF(c, fields.token); err != nil {
				return nil, "", err
			}
			return nil, "", refuse("file", "The form sent a field that is far too long; nothing was staged.")
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

// stagePart stages the file part. It returns the extract and, when the
// extract is staged but something around it failed, a warning.
func (s *Server) stagePart(c echo.Context, src *plan.Source, part *multipart.Part, f uploadFields) (*staging.Extract, string, error) {
	ctx := c.Request().Context()
	p := project(c)
	meter := &uploadMeter{r: part, limit: s.opts.MaxExtractBytes, hash: sha256.New()}
	failed := func(err error) error {
		switch {
		case meter.tooLarge:
			return s.tooLarge()
		case meter.err != nil:
			return refuse("file", "The upload was interrupted before the end of the file; nothing was staged. Try again.")
		}
		return err
	}
	reader, detected, err := staging.OpenReader(meter, f.format)
	if err != nil {
		return nil, "", failed(err)
	}
	if cols := reader.Columns(); f.key != "" && len(cols) > 0 {
		// A reader that knows its columns from the start (CSV's header):
		// the key must be one of them, spelled as the file spells it.
		key := ""
		for _, col := range cols {
			if strings.EqualFold(col, f.key) {
				key = col
			}
		}
		if key == "" {
			return nil, "", refuse("key_attribute", fmt.Sprintf("The file has no column %q; its columns are %s. Nothing was staged.", f.key, listColumns(cols)))
		}
		f.key = key
	}
	meta := staging.Meta{FileName: part.FileName(), Format: detected, KeyAttribute: f.key}
	ex, err := s.staging.Stage(ctx, p.ID, src.ID, reader, meta, nil)
	if err != nil {
		if ex != nil && ex.Status == staging.StatusReady {
			// Staged; only the discovery of its columns failed.
			s.log.WarnContext(ctx, "extract staged, discovery failed", "extract", ex.ID, "error", err)
			return ex, "Its columns could not be added to the matrix; add them on the source's fields page.", nil
		}
		return nil, "", failed(err)
	}
	// Whatever follows the last record (a trailing newline) belongs to the
	// file's size and checksum too.
	if _, err := io.Copy(io.Discard, meter); err != nil && !meter.tooLarge {
		s.log.WarnContext(ctx, "reading the end of an upload", "error", err)
	}
	if err := s.staging.SetFileFacts(ctx, ex.ID, meter.n, hex.EncodeToString(meter.hash.Sum(nil))); err != nil {
		return nil, "", err
	}
	ex.SizeBytes, ex.Checksum = meter.n, hex.EncodeToString(meter.hash.Sum(nil))
	if f.key != "" {
		found := false
		for _, col := range ex.Columns {
			found = found || col.Name == f.key
		}
		if !found {
			return ex, fmt.Sprintf("No record has the record key %q: exclusions cannot follow these records to the next extract.", f.key), nil
		}
	}
	return ex, "", nil
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
	ctx := c.Request().Context()
	extracts, err := s.staging.CurrentExtracts(ctx, p.ID)
	if err != nil {
		return err
	}
	if len(extracts) == 0 {
		s.setFlash(c, "error", "Nothing to validate: stage an extract of a source first.")
		return c.Redirect(http.StatusSeeOther, projectURL(p, "/data"))
	}
	run, err := s.quality.Validate(ctx, p.ID, nil)
	if err != nil {
		if ae := apperr.As(err); ae.Code == apperr.CodeInvalid {
			s.setFlash(c, "error", "Validation did not finish: "+ae.Message)
			return c.Redirect(http.StatusSeeOther, projectURL(p, "/quality"))
		}
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/quality"), fmt.Sprintf("Validated %s record(s): %s valid, %s invalid, %s excluded; %s issue occurrence(s).",
		plan.Thousands(run.Records), plan.Thousands(run.Valid), plan.Thousands(run.Invalid), plan.Thousands(run.Excluded), plan.Thousands(run.Occurrences)))
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

func (s *Server) maskerFor(c echo.Context, sourceID int64) (recordMasker, error) {
	mk := recordMasker{show: can(c, auth.PermPIIRead), pii: map[string]bool{}, known: map[string]bool{}}
	st, err := s.loadProjectState(c)
	if err != nil {
		return mk, err
	}
	for _, f := range st.matrix.AllFields {
		if f.SourceID != sourceID {
			continue
		}
		key := strings.ToLower(f.Name)
		mk.known[key] = true
		if f.PII == mapping.PIIYes || (f.PII != mapping.PIINo && f.PIISuggestion != "") {
			mk.pii[key] = true
		}
	}
	if mk.show && len(mk.pii) > 0 {
		// Every access to unmasked personal data is audited (DESIGN).
		if err := s.staging.RecordPIIView(c.Request().Context(), project(c).ID, sourceID, c.Request().URL.Path); err != nil {
			return mk, err
		}
	}
	return mk, nil
}

func (mk recordMasker) masks(column string) bool {
	key := strings.ToLower(column)
	return !mk.show && (mk.pii[key] || !mk.known[key])
}

func (mk recordMasker) value(column string, vals []string) string {
	v := strings.Join(vals, "; ")
	if mk.masks(column) {
		return mapping.MaskValue(v)
	}
	return v
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
	cols := extractColumns(ex)
	seen := map[string]bool{}
	for _, col := range cols {
		seen[col] = true
	}
	var extra []string
	for name := range eff {
		if !seen[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, col := range append(cols, extra...) {
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
	eff := rec.Effective()
	typed := map[string]string{}
	edits := map[string]string{}
	params, err := c.FormParams()
	if err != nil {
		return apperr.Invalid("The form could not be read.", nil)
	}
	for _, name := range recordFields(rec, ex) {
		if mk.masks(name) {
			continue // not shown, so not changed
		}
		vals, sent := params[editInput(name)]
		if !sent || len(vals) == 0 {
			continue
		}
		v := strings.TrimSpace(vals[0])
		typed[name] = v
		current := strings.Join(eff[name], "; ")
		_, edited := rec.Edits[name]
		switch {
		case v == current:
		case edited && (v == "" || v == strings.Join(rec.Attributes[name], "; ")):
			edits[name] = "" // back to the source's value
		case v == "":
			f.check.Add(editInput(name), "A value cannot be emptied in Ferry; fix it at the source, or exclude the record.")
		default:
			edits[name] = v
		}
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
