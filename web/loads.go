package web

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/templates"
)

// The Loads pages: the test-batch ladder, the new-run form and its
// pre-flight, a run's live progress and its users, pausing, resuming and
// cancelling it, and rolling it back.

const sectionLoads = "loads"

// Limits of the new-run form.
const (
	// maxLoginsBytes caps the logins textarea (load.MaxLogins logins fit).
	maxLoginsBytes = 2 << 20
	// loadFormBodyBytes caps the whole form of the routes that carry the
	// logins textarea (the console's general body limit is smaller); a list
	// between 2 and 8 MB gets a message next to the field.
	loadFormBodyBytes = 8 << 20
	// itemsPage is the number of users the run page shows at once.
	itemsPage = 100
)

// ---- the Loads page ----

func (s *Server) loadsPage(c echo.Context) error {
	st, err := s.loads.FindSettings(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return s.renderLoadsPage(c, http.StatusOK, ladderForm(st))
}

func ladderForm(st load.Settings) templates.Form {
	f := templates.NewForm()
	parts := make([]string, len(st.Ladder))
	for i, n := range st.Ladder {
		parts[i] = strconv.Itoa(n)
	}
	f.Values["ladder"] = strings.Join(parts, ", ")
	f.Values["error_threshold"] = strconv.FormatFloat(st.ErrorThreshold*100, 'f', -1, 64)
	if st.Version > 0 {
		f.Values["version"] = strconv.FormatInt(st.Version, 10)
	}
	return f
}

func (s *Server) renderLoadsPage(c echo.Context, status int, form templates.Form) error {
	p := project(c)
	ctx := c.Request().Context()
	ladder, err := s.loads.Ladder(ctx, p.ID)
	if err != nil {
		return err
	}
	runs, err := s.loads.FindRuns(ctx, p.ID, 100)
	if err != nil {
		return err
	}
	v := templates.LoadsView{Ladder: ladder, SettingsForm: form, CanRun: can(c, auth.PermRun)}
	for _, r := range runs {
		counts, err := s.loads.CountItems(ctx, r.ID)
		if err != nil {
			return err
		}
		v.Runs = append(v.Runs, templates.LoadRunRow{Run: r, Counts: counts})
	}
	if conn, err := s.orgs.Find(ctx, p.ID); err != nil {
		return err
	} else if conn != nil {
		v.OrgConnected, v.OrgSandbox = true, conn.Sandbox
	}
	sources, err := s.plan.FindSources(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, src := range sources {
		v.Sources = append(v.Sources, templates.Option{Value: strconv.FormatInt(src.ID, 10), Label: src.Name})
	}
	return s.render(c, status, templates.LoadsPage(s.chrome(c, "Loads", sectionLoads), v))
}

// saveLoadSettings saves the ladder ("10, 100, 1000") and the threshold (in %).
func (s *Server) saveLoadSettings(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	raw := strings.TrimSpace(*f.text("ladder"))
	var ladder []int
	for part := range strings.SplitSeq(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(part, "_", ""))
		if err != nil {
			f.check.Add("ladder", fmt.Sprintf("%q is not a whole number: give sizes such as 10, 100, 1000.", truncateRunes(part, 20)))
			break
		}
		ladder = append(ladder, n)
	}
	threshold := f.percent("error_threshold", "The error threshold", 0, 99.9)
	version := f.version()
	if err := f.parseErr(); err != nil {
		return s.renderLoadsPage(c, http.StatusUnprocessableEntity, *f.failed(err))
	}
	if _, err := s.loads.SaveSettings(c.Request().Context(), p.ID, version, ladder, threshold/100); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderLoadsPage(c, statusForForm(err), *form)
	}
	return s.redirectWithFlash(c, projectURL(p, "/loads"), "The test-batch ladder is saved.")
}

// percent parses a share in % between lo and hi; 0 when it is not one.
func (f *formReader) percent(name, label string, lo, hi float64) float64 {
	raw := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f.c.FormValue(name)), "%"))
	f.form.Values[name] = raw
	v, err := strconv.ParseFloat(strings.ReplaceAll(raw, ",", "."), 64)
	switch {
	case raw == "":
		f.check.Add(name, label+" is required.")
	case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
		f.check.Add(name, label+" must be a number, for example 1 or 0.5.")
	case v < lo || v > hi:
		f.check.Add(name, fmt.Sprintf("%s is between %s %% and %s %%.", label, strconv.FormatFloat(lo, 'f', -1, 64), strconv.FormatFloat(hi, 'f', -1, 64)))
	default:
		return v
	}
	return 0
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// ---- the new-run form and its pre-flight ----

// loadFormDefaults is the form of a new run of kind (and rung).
func loadFormDefaults(kind, rung string) templates.Form {
	f := templates.NewForm()
	f.Values["kind"], f.Values["rung"] = kind, rung
	f.Values["mode"], f.Values["activate"], f.Values["on_existing"] = load.ModeNone, "false", load.OnExistingSkip
	f.Values["priority"] = load.PrioritySpread
	f.Values["filter_op"] = "equals"
	f.Values["max_in_flight"] = strconv.Itoa(load.DefaultMaxInFlight)
	f.Values["rate_share"] = strconv.Itoa(int(load.DefaultRateShare * 100))
	return f
}

func (s *Server) newLoadForm(c echo.Context) error {
	kind := c.QueryParam("kind")
	if kind != load.KindTestBatch {
		kind = load.KindLoad
	}
	rung := ""
	if kind == load.KindTestBatch {
		rung = c.QueryParam("rung")
		if n, err := strconv.Atoi(rung); err != nil || n < 1 || n > load.MaxLadderRungs {
			rung = "1"
		}
	}
	return s.renderLoadForm(c, http.StatusOK, loadFormDefaults(kind, rung), nil, "")
}

func (s *Server) renderLoadForm(c echo.Context, status int, form templates.Form, rep *load.Report, created string) error {
	p := project(c)
	ctx := c.Request().Context()
	v := templates.LoadFormView{Form: form, Kind: form.V("kind"), Report: rep, Created: created}
	if v.Kind != load.KindTestBatch {
		v.Kind = load.KindLoad
	} else {
		v.Rung, _ = strconv.Atoi(form.V("rung"))
		if st, err := s.loads.FindSettings(ctx, p.ID); err == nil && v.Rung >= 1 && v.Rung <= len(st.Ladder) {
			v.RungSize = st.Ladder[v.Rung-1]
		}
	}
	sources, err := s.plan.FindSources(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, src := range sources {
		v.Sources = append(v.Sources, templates.Option{Value: strconv.FormatInt(src.ID, 10), Label: src.Name})
	}
	types, err := s.plan.FindUserTypes(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, ut := range types {
		v.UserTypes = append(v.UserTypes, templates.Option{Value: strconv.FormatInt(ut.ID, 10), Label: ut.Name})
	}
	failed, err := s.runsWithFailures(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, r := range failed {
		v.FailedRuns = append(v.FailedRuns, templates.Option{Value: strconv.FormatInt(r.run.ID, 10),
			Label: fmt.Sprintf("The %s failed users of %s", plan.Thousands(r.failed), r.run.Label())})
	}
	title := "New load"
	if v.Kind == load.KindTestBatch {
		title = "Test batch " + strconv.Itoa(v.Rung)
	}
	return s.render(c, status, templates.LoadFormPage(s.chrome(c, title, sectionLoads), v))
}

type failedRun struct {
	run    load.Run
	failed int64
}

// runsWithFailures lists the project's loads and test batches with failed users.
func (s *Server) runsWithFailures(ctx context.Context, projectID int64) ([]failedRun, error) {
	runs, err := s.loads.FindRuns(ctx, projectID, 100)
	if err != nil {
		return nil, err
	}
	var out []failedRun
	for _, r := range runs {
		if r.Kind == load.KindRollback {
			continue
		}
		counts, err := s.loads.CountItems(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		if n := counts.Of(load.StateFailed); n > 0 {
			out = append(out, failedRun{run: r, failed: n})
		}
	}
	return out, nil
}

// loadFormRoutes are the routes whose form carries the logins textarea
// (up to 2 MB): they have a body limit of their own (loadFormBodyLimit)
// instead of the console's general one, so that an oversized list is
// answered with a message next to the field.
var loadFormRoutes = map[string]bool{"/projects/:pid/loads/preflight": true, "/projects/:pid/loads": true,
	"/projects/:pid/loads/attributes/:name": true, "/projects/:pid/cutover/waves/plan": true, "/projects/:pid/cutover/waves": true}

func isLoadFormRoute(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && loadFormRoutes[c.Path()]
}

// loadFormBodyLimit caps the body of the new-run routes.
func loadFormBodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isLoadFormRoute(c) {
			req := c.Request()
			req.Body = http.MaxBytesReader(c.Response(), req.Body, loadFormBodyBytes)
		}
		return next(c)
	}
}

// limitLoadForm reads the new-run form; a body over the limit is refused
// with a message, not a broken page.
func limitLoadForm(c echo.Context) error {
	if err := c.Request().ParseForm(); err != nil {
		return apperr.Invalid(fmt.Sprintf("The form is too large: the logins list holds at most %d MB.", maxLoginsBytes>>20), nil)
	}
	return nil
}

// hasControl reports characters a person cannot have typed on purpose
// (line breaks and tabs are allowed where multi-line text is).
func hasControl(s string, multiline bool) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			return false
		}
		return r < ' ' || r == 0x7f || r == utf8.RuneError
	})
}

// readLoadForm reads the new-run form into a load.NewRun, checking every
// field against what this project has; type errors are in f.check.
func (s *Server) readLoadForm(c echo.Context, f *formReader) (load.NewRun, error) {
	ctx := c.Request().Context()
	p := project(c)
	var in load.NewRun
	kind := *f.text("kind")
	switch kind {
	case load.KindLoad, load.KindTestBatch:
		in.Kind = kind
	default:
		f.check.Add("kind", "Choose a load or a test batch.")
	}
	if kind == load.KindTestBatch {
		raw := strings.TrimSpace(*f.text("rung"))
		n, err := strconv.Atoi(raw)
		st, serr := s.loads.FindSettings(ctx, p.ID)
		if serr != nil {
			return in, serr
		}
		if err != nil || n < 1 || n > len(st.Ladder) {
			f.check.Add("rung", fmt.Sprintf("The ladder has test batches 1 to %d.", len(st.Ladder)))
		} else {
			in.Rung = n
		}
		prio := *f.text("priority")
		if prio == "" {
			prio = load.PrioritySpread
		}
		if !slices.ContainsFunc(load.Priorities(), func(o plan.Option) bool { return o.Value == prio }) {
			f.check.Add("priority", "Choose one of the priorities listed.")
		} else {
			in.Population.Priority = prio
		}
	}
	sources, err := s.plan.FindSources(ctx, p.ID)
	if err != nil {
		return in, err
	}
	in.Population.SourceIDs = knownIDs(f, "source_ids", "sources", func(id int64) bool {
		return slices.ContainsFunc(sources, func(src plan.Source) bool { return src.ID == id })
	})
	types, err := s.plan.FindUserTypes(ctx, p.ID)
	if err != nil {
		return in, err
	}
	in.Population.UserTypeIDs = knownIDs(f, "user_type_ids", "user types", func(id int64) bool {
		return slices.ContainsFunc(types, func(ut plan.UserType) bool { return ut.ID == id })
	})
	attr, op, val := strings.TrimSpace(*f.text("filter_attribute")), *f.text("filter_op"), *f.text("filter_value")
	switch {
	case hasControl(attr, false):
		f.check.Add("filter_attribute", "The attribute name holds control characters.")
	case hasControl(val, false):
		f.check.Add("filter_value", "The filter value holds control characters.")
	case attr != "":
		in.Population.Filter = &load.Filter{Attribute: attr, Op: op, Value: val}
	}
	logins := *f.text("logins")
	switch {
	case len(logins) > maxLoginsBytes:
		f.check.Add("logins", fmt.Sprintf("The list is %s: at most %d MB. Split it into several runs.", humanBytes(len(logins)), maxLoginsBytes>>20))
	case !utf8.ValidString(logins) || hasControl(logins, true):
		f.check.Add("logins", "The list holds control characters or bytes that are not text: paste plain text, one login per line.")
	default:
		in.Population.Logins = load.ParseLogins(logins)
		if len(in.Population.Logins) > load.MaxLogins {
			f.check.Add("logins", fmt.Sprintf("At most %s logins in a list; this has %s.", plan.Thousands(load.MaxLogins), plan.Thousands(int64(len(in.Population.Logins)))))
		}
	}
	if raw := strings.TrimSpace(*f.text("failed_of_run")); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		failed, ferr := s.runsWithFailures(ctx, p.ID)
		if ferr != nil {
			return in, ferr
		}
		if err != nil || !slices.ContainsFunc(failed, func(r failedRun) bool { return r.run.ID == id }) {
			f.check.Add("failed_of_run", "Choose one of the runs listed: that run has no failed users in this project.")
		} else {
			in.Population.FailedOfRun = id
		}
	}
	in.Mode = *f.text("mode")
	if !slices.ContainsFunc(load.Modes(), func(o plan.Option) bool { return o.Value == in.Mode }) {
		f.check.Add("mode", "Choose how passwords are handled.")
	}
	switch *f.text("activate") {
	case "true":
		in.Activate = true
	case "false", "":
		f.form.Values["activate"] = "false"
	default:
		f.check.Add("activate", "Choose STAGED or ACTIVE.")
	}
	in.OnExisting = *f.text("on_existing")
	if !slices.ContainsFunc(load.OnExistingOptions(), func(o plan.Option) bool { return o.Value == in.OnExisting }) {
		f.check.Add("on_existing", "Choose what happens to a login that already exists.")
	}
	if n := f.int("max_in_flight", "Requests in flight"); n != nil {
		if *n < 1 || *n > load.MaxMaxInFlight {
			f.check.Add("max_in_flight", fmt.Sprintf("Requests in flight: between 1 and %d (Okta's concurrency limit).", load.MaxMaxInFlight))
		} else {
			in.MaxInFlight = *n
		}
	}
	if share := f.percent("rate_share", "The share of the rate limit", 1, 100); share > 0 {
		in.RateShare = share / 100
	}
	in.Window = readWindow(f)
	return in, nil
}

// knownIDs reads a multi-valued field of ids, each of which must be known.
func knownIDs(f *formReader, name, label string, known func(int64) bool) []int64 {
	ids := *f.ids(name, label)
	var out []int64
	for _, id := range ids {
		if !known(id) {
			f.check.Add(name, "One of the selected "+label+" is not in this project.")
			continue
		}
		out = append(out, id)
	}
	return out
}

func humanBytes(n int) string {
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
}

// preflightLoad checks the chosen run and shows the report above the form.
func (s *Server) preflightLoad(c echo.Context) error {
	return s.runPreflight(c, "")
}

func (s *Server) runPreflight(c echo.Context, created string) error {
	if err := limitLoadForm(c); err != nil {
		return s.renderLoadForm(c, http.StatusRequestEntityTooLarge, loadFormFailed(c, err), nil, "")
	}
	f := newFormReader(c)
	in, err := s.readLoadForm(c, f)
	if err != nil {
		return err
	}
	if err := f.parseErr(); err != nil {
		return s.renderLoadForm(c, http.StatusUnprocessableEntity, *f.failed(err), nil, "")
	}
	rep, err := s.loads.Preflight(c.Request().Context(), project(c).ID, in)
	if err != nil {
		return s.preflightFailed(c, f, err)
	}
	return s.renderLoadForm(c, http.StatusOK, f.form, rep, created)
}

// preflightFailed shows why the pre-flight could not even run: field
// errors next to the fields; a refusal without a field (no Okta org, say)
// as a failed check.
func (s *Server) preflightFailed(c echo.Context, f *formReader, err error) error {
	ae := apperr.As(err)
	if ae == nil || ae.Code != apperr.CodeInvalid {
		return err
	}
	if len(ae.Fields) > 0 {
		return s.renderLoadForm(c, http.StatusUnprocessableEntity, *f.failed(err), nil, "")
	}
	name := "Pre-flight"
	if strings.Contains(ae.Message, "Okta org") {
		name = "Okta org"
	}
	rep := &load.Report{Checks: []load.Check{{Name: name, OK: false, Blocking: true, Detail: ae.Message}}}
	return s.renderLoadForm(c, http.StatusOK, f.form, rep, "")
}

// loadFormFailed is the form of a request whose body could not be read.
func loadFormFailed(c echo.Context, err error) templates.Form {
	form := loadFormDefaults(load.KindLoad, "")
	if ae := apperr.As(err); ae != nil {
		form.Message = ae.Message
		form.Errors["logins"] = ae.Message
	}
	return form
}

// createLoadAttribute creates one missing custom attribute in the org's
// schema, then runs the pre-flight again with the same choices.
func (s *Server) createLoadAttribute(c echo.Context) error {
	name := c.Param("name")
	if err := limitLoadForm(c); err != nil {
		return s.renderLoadForm(c, http.StatusRequestEntityTooLarge, loadFormFailed(c, err), nil, "")
	}
	if name == "" || len(name) > 100 || hasControl(name, false) {
		return apperr.NotFound("custom attribute")
	}
	if err := s.loads.CreateAttribute(c.Request().Context(), project(c).ID, name); err != nil {
		ae := apperr.As(err)
		if ae == nil || (ae.Code != apperr.CodeInvalid && ae.Code != apperr.CodeNotFound) {
			return err
		}
		f := newFormReader(c)
		if _, rerr := s.readLoadForm(c, f); rerr != nil {
			return rerr
		}
		form := f.form
		form.Message = ae.Message
		if ae.Code == apperr.CodeNotFound {
			form.Message = "The matrix has no custom attribute " + truncateRunes(name, 100) + " to create."
		}
		return s.renderLoadForm(c, http.StatusUnprocessableEntity, form, nil, "")
	}
	return s.runPreflight(c, name)
}

// startLoad starts the run (the service runs the pre-flight again and
// refuses a blocked run), hands it to this process's runner and shows it.
func (s *Server) startLoad(c echo.Context) error {
	p := project(c)
	if err := limitLoadForm(c); err != nil {
		return s.renderLoadForm(c, http.StatusRequestEntityTooLarge, loadFormFailed(c, err), nil, "")
	}
	f := newFormReader(c)
	in, err := s.readLoadForm(c, f)
	if err != nil {
		return err
	}
	if err := f.parseErr(); err != nil {
		return s.renderLoadForm(c, http.StatusUnprocessableEntity, *f.failed(err), nil, "")
	}
	run, rep, err := s.loads.Start(c.Request().Context(), p.ID, in)
	if err != nil {
		ae := apperr.As(err)
		if ae == nil || ae.Code != apperr.CodeInvalid {
			return err
		}
		if rep != nil {
			form := f.form
			form.Message = ae.Message
			return s.renderLoadForm(c, http.StatusUnprocessableEntity, form, rep, "")
		}
		if len(ae.Fields) > 0 {
			return s.renderLoadForm(c, http.StatusUnprocessableEntity, *f.failed(err), nil, "")
		}
		form := f.form
		form.Message = ae.Message
		return s.renderLoadForm(c, http.StatusUnprocessableEntity, form, nil, "")
	}
	s.launch(run.ID)
	return s.redirectWithFlash(c, templates.LoadRunURL(p.ID, run.ID), run.Label()+" started: its progress is shown below.")
}

// launch hands a run to this process's runner.
func (s *Server) launch(runID int64) {
	if s.runner != nil {
		s.runner.Launch(runID)
	}
}

// ---- a run ----

func (s *Server) pathRun(c echo.Context) (*load.Run, error) {
	id, err := pathID(c, "rid", "run")
	if err != nil {
		return nil, err
	}
	return s.loads.FindRun(c.Request().Context(), project(c).ID, id)
}

func (s *Server) progressView(c echo.Context, r *load.Run) (templates.LoadProgressView, error) {
	counts, err := s.loads.CountItems(c.Request().Context(), r.ID)
	if err != nil {
		return templates.LoadProgressView{}, err
	}
	page := templates.LoadRunURL(r.ProjectID, r.ID)
	v := templates.LoadProgressView{Run: *r, Counts: counts, PollURL: page + "/progress", PageURL: page, CanRun: can(c, auth.PermRun)}
	v.CSRF, _ = c.Get(ctxCSRF).(string)
	if done := counts.Done(); done > 0 && r.ActiveSeconds > 0 {
		v.PerMinute = float64(done) / r.ActiveSeconds * 60
		if remaining := r.Total - done; remaining > 0 {
			v.ETA = time.Duration(float64(remaining) / v.PerMinute * float64(time.Minute)).Round(time.Second)
		}
	}
	return v, nil
}

func (s *Server) runPage(c echo.Context) error {
	return s.renderRunPage(c, http.StatusOK, 0, nil)
}

// renderRunPage shows a run; canaryForm, when set, is the refused result
// form of canary canaryID (cutover.go).
func (s *Server) renderRunPage(c echo.Context, status int, canaryID int64, canaryForm *templates.Form) error {
	ctx := c.Request().Context()
	r, err := s.pathRun(c)
	if err != nil {
		return err
	}
	pv, err := s.progressView(c, r)
	if err != nil {
		return err
	}
	v := templates.LoadRunView{Progress: pv, States: templates.ItemStates(r.Kind), CanRun: can(c, auth.PermRun), CanPII: can(c, auth.PermPIIRead)}
	if st := c.QueryParam("state"); slices.Contains(v.States, st) {
		v.State = st
	}
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	items, err := s.loads.FindItems(ctx, r.ID, v.State, max(after, 0), itemsPage+1)
	if err != nil {
		return err
	}
	if len(items) > itemsPage {
		items = items[:itemsPage]
		v.NextAfter = items[len(items)-1].Seq
	}
	// Logins are personal data: masked for those who do not see it, and an
	// unmasked view is audited (once per source shown).
	audited := map[int64]bool{}
	for _, it := range items {
		login := it.Login
		if !v.CanPII {
			login = mapping.MaskValue(login)
		} else if it.SourceID != nil && !audited[*it.SourceID] {
			audited[*it.SourceID] = true
			if err := s.staging.RecordPIIView(ctx, r.ProjectID, *it.SourceID, c.Request().URL.Path); err != nil {
				return err
			}
		}
		row := templates.LoadItemRow{Item: it, Login: login}
		if cutoverKind(r.Kind) {
			row.Detail = itemDetail(it, v.CanPII)
		}
		v.Items = append(v.Items, row)
	}
	if v.Cutover, err = s.cutoverRunView(c, r, canaryID, canaryForm); err != nil {
		return err
	}
	if r.TargetRunID != nil {
		if t, err := s.loads.FindRun(ctx, r.ProjectID, *r.TargetRunID); err == nil {
			v.Target = t
		}
	}
	return s.render(c, status, templates.LoadRunPage(s.chrome(c, r.Label(), sectionLoads), v))
}

// runProgress answers the live part of a run's page alone (polled).
func (s *Server) runProgress(c echo.Context) error {
	r, err := s.pathRun(c)
	if err != nil {
		return err
	}
	v, err := s.progressView(c, r)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, templates.LoadProgressPanel(v))
}

// controlRun pauses, resumes or cancels a run; resumed and cancelled runs
// are handed to the runner (a cancelled one settles its users).
func (s *Server) controlRun(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := project(c)
		id, err := pathID(c, "rid", "run")
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		var r *load.Run
		switch action {
		case "pause":
			r, err = s.loads.Pause(ctx, p.ID, id)
		case "resume":
			r, err = s.loads.Resume(ctx, p.ID, id)
		case "cancel":
			r, err = s.loads.Cancel(ctx, p.ID, id)
		}
		page := templates.LoadRunURL(p.ID, id)
		if apperr.Is(err, apperr.CodeConflict) {
			s.setFlash(c, "error", apperr.As(err).Message)
			return c.Redirect(http.StatusSeeOther, page)
		}
		if err != nil {
			return err
		}
		msg := r.Label() + ": " + r.Message
		if action != "pause" {
			s.launch(r.ID)
		}
		return s.redirectWithFlash(c, page, msg)
	}
}

func (s *Server) cancelRunConfirm(c echo.Context) error {
	r, err := s.pathRun(c)
	if err != nil {
		return err
	}
	if !r.Active() && r.Status != load.StatusFailed {
		s.setFlash(c, "error", fmt.Sprintf("%s is %s: there is nothing to cancel.", r.Label(), r.Status))
		return c.Redirect(http.StatusSeeOther, templates.LoadRunURL(r.ProjectID, r.ID))
	}
	return s.renderPage(c, templates.CancelRunPage(s.chrome(c, "Cancel a run", sectionLoads), *r))
}

// ---- downloads of personal data ----

// auditRunSources audits an unmasked download of a run's users: once per
// source among the items in the given state ("" for all).
func (s *Server) auditRunSources(c echo.Context, r *load.Run, state string) error {
	ctx := c.Request().Context()
	seen := map[int64]bool{}
	var after int64
	for {
		items, err := s.loads.FindItems(ctx, r.ID, state, after, 1000)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			break
		}
		for _, it := range items {
			if it.SourceID != nil && !seen[*it.SourceID] {
				seen[*it.SourceID] = true
				if err := s.staging.RecordPIIView(ctx, r.ProjectID, *it.SourceID, c.Request().URL.Path); err != nil {
					return err
				}
			}
		}
		after = items[len(items)-1].Seq
	}
	return nil
}

// sendRunFile buffers a download so that a failure is an error page, not
// half a file.
func (s *Server) sendRunFile(c echo.Context, name, ctype string, write func(ctx context.Context, runID int64, w *bytes.Buffer) error, r *load.Run) error {
	var buf bytes.Buffer
	if err := write(c.Request().Context(), r.ID, &buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, name))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}

// failedCSV sends the failed users of a run in the staging input format.
func (s *Server) failedCSV(c echo.Context) error {
	r, err := s.pathRun(c)
	if err != nil {
		return err
	}
	if r.Kind == load.KindRollback {
		return apperr.NotFound("failed users of a load")
	}
	if err := s.auditRunSources(c, r, load.StateFailed); err != nil {
		return err
	}
	name := fmt.Sprintf("%s-run-%d-failed.csv", slug(project(c).Name), r.Number)
	return s.sendRunFile(c, name, "text/csv; charset=utf-8", func(ctx context.Context, id int64, w *bytes.Buffer) error {
		return s.loads.WriteFailedCSV(ctx, id, w)
	}, r)
}

// rollbackExport sends what a rollback exported before removing the users.
func (s *Server) rollbackExport(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, err := s.pathRun(c)
		if err != nil {
			return err
		}
		if r.Kind != load.KindRollback {
			return apperr.NotFound("export of a rollback")
		}
		if err := s.auditRunSources(c, r, ""); err != nil {
			return err
		}
		name := fmt.Sprintf("%s-rollback-%d-export.%s", slug(project(c).Name), r.Number, format)
		if format == "json" {
			return s.sendRunFile(c, name, "application/json", func(ctx context.Context, id int64, w *bytes.Buffer) error {
				return s.loads.WriteExportJSON(ctx, id, w)
			}, r)
		}
		return s.sendRunFile(c, name, "text/csv; charset=utf-8", func(ctx context.Context, id int64, w *bytes.Buffer) error {
			return s.loads.WriteExportCSV(ctx, id, w)
		}, r)
	}
}

// ---- rollback ----

// rollbackTarget reads who a rollback page is about: the :rid run, or the
// ?source= (or form field source) source group.
func (s *Server) rollbackTarget(c echo.Context) (load.NewRollback, *load.Run, string, string, error) {
	p := project(c)
	var in load.NewRollback
	if c.Param("rid") != "" {
		r, err := s.pathRun(c)
		if err != nil {
			return in, nil, "", "", err
		}
		if r.Kind == load.KindRollback {
			return in, nil, "", "", apperr.NotFound("run to roll back")
		}
		in.TargetRunID = r.ID
		page := templates.LoadRunURL(p.ID, r.ID)
		return in, r, "", page, nil
	}
	raw := c.QueryParam("source")
	if raw == "" {
		raw = c.FormValue("source")
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return in, nil, "", "", apperr.NotFound("source")
	}
	src, err := s.plan.FindSourceByID(c.Request().Context(), p.ID, id)
	if err != nil {
		return in, nil, "", "", err
	}
	in.SourceID = src.ID
	return in, nil, src.Name, projectURL(p, "/loads"), nil
}

func (s *Server) rollbackAction(c echo.Context, in load.NewRollback) string {
	p := project(c)
	if in.TargetRunID != 0 {
		return templates.LoadRunURL(p.ID, in.TargetRunID) + "/rollback"
	}
	return projectURL(p, fmt.Sprintf("/rollback?source=%d", in.SourceID))
}

func (s *Server) renderRollback(c echo.Context, status int, form templates.Form) error {
	in, target, sourceName, back, err := s.rollbackTarget(c)
	if err != nil {
		return err
	}
	scope, err := s.loads.RollbackScopeOf(c.Request().Context(), project(c).ID, in)
	if err != nil {
		return err
	}
	v := templates.RollbackView{Form: form, Scope: scope, Target: target, SourceName: sourceName, Action: s.rollbackAction(c, in), Back: back}
	return s.render(c, status, templates.RollbackPage(s.chrome(c, "Roll back", sectionLoads), v))
}

func (s *Server) rollbackForm(c echo.Context) error {
	form := templates.NewForm()
	form.Values["action"] = load.RollbackDelete
	return s.renderRollback(c, http.StatusOK, form)
}

func (s *Server) startRollback(c echo.Context) error {
	p := project(c)
	in, _, _, _, err := s.rollbackTarget(c)
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in.Action = *f.text("action")
	in.Confirm = *f.text("confirm")
	in.ProjectName = p.Name
	if in.Action != load.RollbackDelete && in.Action != load.RollbackDeactivate {
		f.check.Add("action", "Choose delete or deactivate only.")
	}
	if len(in.Confirm) > 1000 || hasControl(in.Confirm, false) {
		f.check.Add("confirm", "Type the project's name exactly to confirm the rollback.")
	}
	if err := f.parseErr(); err != nil {
		return s.renderRollback(c, http.StatusUnprocessableEntity, *f.failed(err))
	}
	run, err := s.loads.StartRollback(c.Request().Context(), p.ID, in)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderRollback(c, statusForForm(err), *form)
	}
	s.launch(run.ID)
	return s.redirectWithFlash(c, templates.LoadRunURL(p.ID, run.ID), run.Label()+" started: every user is exported first, then removed.")
}
