package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/templates"
)

// The Cut-over pages: the lifecycle that follows a load of everyone as
// STAGED (docs/loads.md): settings per source, the leaver policy, a
// refresh, activation waves, the manager pass, a reconciliation, and the
// canary accounts. Every step is a run of the load engine, shown on the
// run page of the Loads section.

const sectionCutover = "cutover"

// Limits of the cut-over forms (the service checks the rest).
const (
	maxWindowText   = 20
	maxTimeZoneText = 64
	maxValuesText   = 64 << 10
	maxCutoverRuns  = 500
)

// ---- the Cut-over page ----

func (s *Server) cutoverPage(c echo.Context) error {
	st, err := s.loads.FindSettings(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return s.renderCutover(c, http.StatusOK, leaversForm(st), reconcileFormDefaults())
}

func leaversForm(st load.Settings) templates.Form {
	f := templates.NewForm()
	f.Values["leavers"] = st.Leavers
	if f.Values["leavers"] == "" {
		f.Values["leavers"] = load.LeaversReport
	}
	if st.Version > 0 {
		f.Values["version"] = strconv.FormatInt(st.Version, 10)
	}
	return f
}

func reconcileFormDefaults() templates.Form {
	f := templates.NewForm()
	f.Values["max_in_flight"] = strconv.Itoa(load.DefaultMaxInFlight)
	f.Values["rate_share"] = strconv.Itoa(int(load.DefaultRateShare * 100))
	return f
}

// cutoverKind reports whether a run is one of the cut-over's.
func cutoverKind(kind string) bool {
	return kind == load.KindRefresh || kind == load.KindActivate || kind == load.KindManagers || kind == load.KindReconcile
}

func (s *Server) renderCutover(c echo.Context, status int, leavers, reconcile templates.Form) error {
	p := project(c)
	ctx := c.Request().Context()
	runs, err := s.loads.FindRuns(ctx, p.ID, maxCutoverRuns)
	if err != nil {
		return err
	}
	v := templates.CutoverView{LeaversForm: leavers, ReconcileForm: reconcile, CanRun: can(c, auth.PermRun),
		CanEditSources: can(c, auth.PermSourceEdit)}
	v.Message, _ = c.Get(ctxCutoverMessage).(string)
	// Runs come newest first: the first of a kind is its latest.
	for i := range runs {
		r := &runs[i]
		switch r.Kind {
		case load.KindLoad:
			if v.StagedLoad == nil && !r.Activate && r.Status == load.StatusDone {
				v.StagedLoad = r
			}
		case load.KindRefresh:
			if v.Refresh == nil {
				v.Refresh = r
			}
		case load.KindManagers:
			if v.Managers == nil {
				v.Managers = r
			}
		case load.KindReconcile:
			if v.Reconcile == nil {
				v.Reconcile = r
			}
		case load.KindActivate:
			counts, err := s.loads.CountItems(ctx, r.ID)
			if err != nil {
				return err
			}
			v.Waves = append(v.Waves, templates.CutoverRunRow{Run: *r, Counts: counts})
		}
		// What is still STAGED, by the runs' own counts: created STAGED by
		// loads, test batches and refreshes, less those activated by waves
		// and removed by rollbacks.
		switch {
		case (r.Kind == load.KindLoad || r.Kind == load.KindTestBatch || r.Kind == load.KindRefresh) && !r.Activate:
			counts, err := s.loads.CountItems(ctx, r.ID)
			if err != nil {
				return err
			}
			v.StillStaged += counts.Of(load.StateCreated)
		case r.Kind == load.KindRollback:
			counts, err := s.loads.CountItems(ctx, r.ID)
			if err != nil {
				return err
			}
			v.StillStaged -= counts.Of(load.StateRemoved) + counts.Of(load.StateDeactivated)
		case r.Kind == load.KindActivate:
			v.StillStaged -= v.Waves[len(v.Waves)-1].Counts.Of(load.StateActivated)
		}
		if r.Kind != load.KindRollback && r.Kind != load.KindReconcile && !r.Active() {
			v.TargetRuns = append(v.TargetRuns, templates.Option{Value: strconv.FormatInt(r.ID, 10), Label: r.Label()})
		}
	}
	v.StillStaged = max(v.StillStaged, 0)
	if conn, err := s.orgs.Find(ctx, p.ID); err != nil {
		return err
	} else if conn != nil {
		v.OrgConnected = true
	}
	sources, err := s.plan.FindSources(ctx, p.ID)
	if err != nil {
		return err
	}
	settings, err := s.loads.FindCutovers(ctx, p.ID)
	if err != nil {
		return err
	}
	hierarchies, err := s.loads.FindHierarchies(ctx, p.ID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, src := range sources {
		names[src.ID] = src.Name
		st := settings[src.ID]
		if st == nil {
			st = load.DefaultCutover(p.ID, src.ID)
		}
		v.Sources = append(v.Sources, templates.CutoverSourceRow{Source: src, Settings: st, Hierarchy: hierarchies[src.ID]})
	}
	canaries, err := s.loads.ListCanaries(ctx, p.ID)
	if err != nil {
		return err
	}
	rows, err := s.canaryRows(c, canaries, names)
	if err != nil {
		return err
	}
	v.Canaries = rows
	return s.render(c, status, templates.CutoverPage(s.chrome(c, "Cut-over", sectionCutover), v))
}

// canaryRows masks the canaries' logins for those who do not see personal
// data; an unmasked view is audited once per source.
func (s *Server) canaryRows(c echo.Context, list []load.Canary, names map[int64]string) ([]templates.CanaryRow, error) {
	ctx := c.Request().Context()
	pii := can(c, auth.PermPIIRead)
	audited := map[int64]bool{}
	var out []templates.CanaryRow
	for _, k := range list {
		login := k.Login
		if !pii {
			login = mapping.MaskValue(login)
		} else if !audited[k.SourceID] {
			audited[k.SourceID] = true
			if err := s.staging.RecordPIIView(ctx, k.ProjectID, k.SourceID, c.Request().URL.Path); err != nil {
				return nil, err
			}
		}
		out = append(out, templates.CanaryRow{Canary: k, Login: login, SourceName: names[k.SourceID]})
	}
	return out, nil
}

// saveLeavers saves the project's leaver policy.
func (s *Server) saveLeavers(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	policy := *f.text("leavers")
	version := f.version()
	if _, err := s.loads.SaveLeavers(c.Request().Context(), p.ID, version, policy); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		if apperr.Is(err, apperr.CodeInvalid) {
			form.Errors["leavers"] = "Choose one of the policies listed."
		}
		return s.renderCutover(c, statusForForm(err), *form, reconcileFormDefaults())
	}
	return s.redirectWithFlash(c, projectURL(p, "/cutover#leavers"), "The leaver policy is saved.")
}

// ---- the pace and the window of a run ----

// readPace reads the requests in flight and the share of the rate limit.
func readPace(f *formReader) (int, float64) {
	var inFlight int
	if n := f.int("max_in_flight", "Requests in flight"); n != nil {
		if *n < 1 || *n > load.MaxMaxInFlight {
			f.check.Add("max_in_flight", fmt.Sprintf("Requests in flight: between 1 and %d (Okta's concurrency limit).", load.MaxMaxInFlight))
		} else {
			inFlight = *n
		}
	}
	var share float64
	if v := f.percent("rate_share", "The share of the rate limit", 1, 100); v > 0 {
		share = v / 100
	}
	return inFlight, share
}

// readWindow reads the working hours and their time zone (nil: any time).
func readWindow(f *formReader) *load.Window {
	text, tz := strings.TrimSpace(*f.text("window")), strings.TrimSpace(*f.text("window_tz"))
	bad := false
	switch {
	case utf8.RuneCountInString(text) > maxWindowText || hasControl(text, false):
		f.check.Add("window", "Write the working hours as two times of day, such as 22:00-06:00.")
		bad = true
	case utf8.RuneCountInString(tz) > maxTimeZoneText || hasControl(tz, false):
		f.check.Add("window_tz", "Give an IANA time zone such as Europe/Berlin.")
		bad = true
	}
	if bad {
		return nil
	}
	if text == "" && tz != "" {
		if _, err := load.ParseWindow("00:00-00:01", tz); err != nil {
			addFieldErrors(f, err, nil)
		}
		return nil
	}
	w, err := load.ParseWindow(text, tz)
	if err != nil {
		addFieldErrors(f, err, nil)
		return nil
	}
	return w
}

// addFieldErrors copies an invalid error's field messages into the form's
// check, renaming fields the service names otherwise; a message without a
// field goes to fallback (when given).
func addFieldErrors(f *formReader, err error, rename map[string]string) {
	ae := apperr.As(err)
	if ae == nil {
		return
	}
	if len(ae.Fields) == 0 {
		f.check.Add("population", ae.Message)
		return
	}
	for k, msg := range ae.Fields {
		if to, ok := rename[k]; ok {
			k = to
		}
		f.check.Add(k, msg)
	}
}

// startedCutover hands a new run to the runner and shows its page.
func (s *Server) startedCutover(c echo.Context, run *load.Run, msg string) error {
	s.launch(run.ID)
	return s.redirectWithFlash(c, templates.LoadRunURL(run.ProjectID, run.ID), run.Label()+" started: "+msg)
}

// ---- refresh ----

func paceDefaults() templates.Form {
	f := templates.NewForm()
	f.Values["max_in_flight"] = strconv.Itoa(load.DefaultMaxInFlight)
	f.Values["rate_share"] = strconv.Itoa(int(load.DefaultRateShare * 100))
	return f
}

func (s *Server) refreshPlan(c echo.Context) error {
	return s.renderRefresh(c, http.StatusOK, paceDefaults(), nil)
}

// renderRefresh plans the refresh (plan given: the one a refused start
// returned) and shows it with the form.
func (s *Server) renderRefresh(c echo.Context, status int, form templates.Form, p *load.RefreshPlan) error {
	if p == nil {
		var err error
		p, err = s.loads.PlanRefresh(c.Request().Context(), project(c).ID, load.NewRefresh{})
		if p, err = planOrRefusal(&form, p, err); err != nil {
			return err
		}
	}
	return s.render(c, status, templates.RefreshPlanPage(s.chrome(c, "Refresh", sectionCutover), templates.RefreshPlanView{Plan: p, Form: form}))
}

func (s *Server) startRefresh(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	inFlight, share := readPace(f)
	window := readWindow(f)
	if err := f.parseErr(); err != nil {
		return s.renderRefresh(c, http.StatusUnprocessableEntity, *f.failed(err), nil)
	}
	run, plan, err := s.loads.StartRefresh(c.Request().Context(), p.ID, load.NewRefresh{MaxInFlight: inFlight, RateShare: share, Window: window})
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderRefresh(c, statusForForm(err), *form, plan)
	}
	return s.startedCutover(c, run, "its progress is shown below.")
}

// ---- activation waves ----

func waveFormDefaults() templates.Form { return paceDefaults() }

func (s *Server) newWaveForm(c echo.Context) error {
	return s.renderWaveForm(c, http.StatusOK, waveFormDefaults(), nil)
}

func (s *Server) renderWaveForm(c echo.Context, status int, form templates.Form, p *load.WavePlan) error {
	ctx := c.Request().Context()
	pid := project(c).ID
	v := templates.WaveFormView{Form: form, Plan: p}
	sources, err := s.plan.FindSources(ctx, pid)
	if err != nil {
		return err
	}
	for _, src := range sources {
		v.Sources = append(v.Sources, templates.Option{Value: strconv.FormatInt(src.ID, 10), Label: src.Name})
	}
	types, err := s.plan.FindUserTypes(ctx, pid)
	if err != nil {
		return err
	}
	for _, ut := range types {
		v.UserTypes = append(v.UserTypes, templates.Option{Value: strconv.FormatInt(ut.ID, 10), Label: ut.Name})
	}
	return s.render(c, status, templates.WaveFormPage(s.chrome(c, "Activation wave", sectionCutover), v))
}

// waveFieldNames maps the service's population fields to the wave form's.
var waveFieldNames = map[string]string{"filter_attribute": "subgroup_attribute", "filter_value": "subgroup_value", "filter_op": "subgroup_attribute"}

// readWaveForm reads the wave form, checking ids against the project.
func (s *Server) readWaveForm(c echo.Context, f *formReader) (load.NewWave, error) {
	ctx := c.Request().Context()
	pid := project(c).ID
	var in load.NewWave
	in.Name = *f.text("name")
	if hasControl(in.Name, false) {
		f.check.Add("name", "The wave name holds control characters.")
	} else if utf8.RuneCountInString(strings.TrimSpace(in.Name)) > load.MaxWaveName {
		f.check.Add("name", fmt.Sprintf("The wave name is too long: at most %d characters.", load.MaxWaveName))
	}
	sources, err := s.plan.FindSources(ctx, pid)
	if err != nil {
		return in, err
	}
	in.SourceIDs = knownIDs(f, "source_ids", "sources", func(id int64) bool {
		return slices.ContainsFunc(sources, func(src plan.Source) bool { return src.ID == id })
	})
	types, err := s.plan.FindUserTypes(ctx, pid)
	if err != nil {
		return in, err
	}
	in.UserTypeIDs = knownIDs(f, "user_type_ids", "user types", func(id int64) bool {
		return slices.ContainsFunc(types, func(ut plan.UserType) bool { return ut.ID == id })
	})
	attr, val := strings.TrimSpace(*f.text("subgroup_attribute")), strings.TrimSpace(*f.text("subgroup_value"))
	switch {
	case hasControl(attr, false) || utf8.RuneCountInString(attr) > 100:
		f.check.Add("subgroup_attribute", "Give a profile attribute name such as department, on one line.")
	case hasControl(val, false):
		f.check.Add("subgroup_value", "The subgroup value holds control characters.")
	case utf8.RuneCountInString(val) > load.MaxFilterValue:
		f.check.Add("subgroup_value", fmt.Sprintf("The subgroup value is too long: at most %d characters.", load.MaxFilterValue))
	case attr == "" && val != "":
		f.check.Add("subgroup_attribute", "Name the profile attribute the value is of, such as department.")
	case attr != "":
		in.Subgroup = &load.Filter{Attribute: attr, Op: "equals", Value: val}
	}
	logins := *f.text("logins")
	switch {
	case len(logins) > maxLoginsBytes:
		f.check.Add("logins", fmt.Sprintf("The list is %s: at most %d MB. Split it into several waves.", humanBytes(len(logins)), maxLoginsBytes>>20))
	case !utf8.ValidString(logins) || hasControl(logins, true):
		f.check.Add("logins", "The list holds control characters or bytes that are not text: paste plain text, one login per line.")
	default:
		in.Logins = load.ParseLogins(logins)
		if len(in.Logins) > load.MaxLogins {
			f.check.Add("logins", fmt.Sprintf("At most %s logins in a list; this has %s.", plan.Thousands(load.MaxLogins), plan.Thousands(int64(len(in.Logins)))))
		}
	}
	in.MaxInFlight, in.RateShare = readPace(f)
	in.Window = readWindow(f)
	return in, nil
}

// waveFailed re-renders the wave form after a refusal: field errors next
// to their fields, a refusal without a field above the form.
func (s *Server) waveFailed(c echo.Context, f *formReader, err error, p *load.WavePlan) error {
	ae := apperr.As(err)
	if ae == nil || (ae.Code != apperr.CodeInvalid && ae.Code != apperr.CodeConflict) {
		return err
	}
	form := f.form
	if len(ae.Fields) > 0 {
		for k, msg := range ae.Fields {
			if to, ok := waveFieldNames[k]; ok {
				k = to
			}
			form.Errors[k] = msg
		}
		form.Message = "Please correct the highlighted fields."
		if _, ok := ae.Fields["population"]; ok {
			form.Message = ae.Message
		}
	} else {
		form.Message = ae.Message
	}
	return s.renderWaveForm(c, statusForForm(err), form, p)
}

func (s *Server) planWave(c echo.Context) error {
	if err := limitLoadForm(c); err != nil {
		form := waveFormDefaults()
		form.Message, form.Errors["logins"] = apperr.As(err).Message, apperr.As(err).Message
		return s.renderWaveForm(c, http.StatusRequestEntityTooLarge, form, nil)
	}
	f := newFormReader(c)
	in, err := s.readWaveForm(c, f)
	if err != nil {
		return err
	}
	if err := f.parseErr(); err != nil {
		return s.renderWaveForm(c, http.StatusUnprocessableEntity, *f.failed(err), nil)
	}
	p, err := s.loads.PlanWave(c.Request().Context(), project(c).ID, in)
	if err != nil {
		return s.waveFailed(c, f, err, nil)
	}
	return s.renderWaveForm(c, http.StatusOK, f.form, p)
}

func (s *Server) startWave(c echo.Context) error {
	if err := limitLoadForm(c); err != nil {
		form := waveFormDefaults()
		form.Message, form.Errors["logins"] = apperr.As(err).Message, apperr.As(err).Message
		return s.renderWaveForm(c, http.StatusRequestEntityTooLarge, form, nil)
	}
	f := newFormReader(c)
	in, err := s.readWaveForm(c, f)
	if err != nil {
		return err
	}
	if err := f.parseErr(); err != nil {
		return s.renderWaveForm(c, http.StatusUnprocessableEntity, *f.failed(err), nil)
	}
	run, p, err := s.loads.StartWave(c.Request().Context(), project(c).ID, in)
	if err != nil {
		return s.waveFailed(c, f, err, p)
	}
	return s.startedCutover(c, run, "its progress is shown below.")
}

// ---- the manager pass ----

func (s *Server) managersPlan(c echo.Context) error {
	return s.renderManagers(c, http.StatusOK, paceDefaults(), nil)
}

func (s *Server) renderManagers(c echo.Context, status int, form templates.Form, p *load.ManagerPlan) error {
	if p == nil {
		var err error
		p, err = s.loads.PlanManagers(c.Request().Context(), project(c).ID, load.NewManagerPass{})
		if p, err = planOrRefusal(&form, p, err); err != nil {
			return err
		}
	}
	// The service masks the examples already; they are masked again here
	// for those who do not see personal data, whatever it does.
	if p != nil && !can(c, auth.PermPIIRead) {
		for i := range p.UnresolvedByKind {
			for j, e := range p.UnresolvedByKind[i].Examples {
				if !strings.Contains(e, "*") {
					p.UnresolvedByKind[i].Examples[j] = mapping.MaskValue(e)
				}
			}
		}
	}
	return s.render(c, status, templates.ManagerPlanPage(s.chrome(c, "Manager pass", sectionCutover), templates.ManagerPlanView{Plan: p, Form: form}))
}

func (s *Server) startManagers(c echo.Context) error {
	f := newFormReader(c)
	inFlight, share := readPace(f)
	window := readWindow(f)
	if err := f.parseErr(); err != nil {
		return s.renderManagers(c, http.StatusUnprocessableEntity, *f.failed(err), nil)
	}
	run, p, err := s.loads.StartManagerPass(c.Request().Context(), project(c).ID, load.NewManagerPass{MaxInFlight: inFlight, RateShare: share, Window: window})
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderManagers(c, statusForForm(err), *form, p)
	}
	return s.startedCutover(c, run, "its progress is shown below.")
}

// ---- reconciliation ----

func (s *Server) startReconcile(c echo.Context) error {
	p := project(c)
	ctx := c.Request().Context()
	f := newFormReader(c)
	var in load.NewReconcile
	if raw := strings.TrimSpace(*f.text("target_run")); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		var target *load.Run
		if err == nil && id > 0 {
			if r, ferr := s.loads.FindRun(ctx, p.ID, id); ferr == nil {
				target = r
			} else if !apperr.Is(ferr, apperr.CodeNotFound) {
				return ferr
			}
		}
		switch {
		case target == nil:
			f.check.Add("target_run", "Choose one of the runs listed: that run is not one of this project's.")
		case target.Kind == load.KindRollback || target.Kind == load.KindReconcile || target.Active():
			f.check.Add("target_run", "Choose a finished load, test batch, refresh, wave or manager pass.")
		default:
			in.TargetRunID = target.ID
		}
	}
	in.MaxInFlight, in.RateShare = readPace(f)
	st, err := s.loads.FindSettings(ctx, p.ID)
	if err != nil {
		return err
	}
	if err := f.parseErr(); err != nil {
		return s.renderCutover(c, http.StatusUnprocessableEntity, leaversForm(st), *f.failed(err))
	}
	run, err := s.loads.StartReconcile(ctx, p.ID, in)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderCutover(c, statusForForm(err), leaversForm(st), *form)
	}
	return s.startedCutover(c, run, "every user is read back and compared with what Ferry sent.")
}

// ---- a cut-over run's page ----

// cutoverRunView is what a run's page shows of the cut-over: the
// differences of a reconciliation and the canary checks (logins and
// values masked without the personal-data permission, an unmasked view
// audited). form, when set, is the canary result form of canaryID after a
// refusal.
func (s *Server) cutoverRunView(c echo.Context, r *load.Run, canaryID int64, form *templates.Form) (templates.CutoverRunView, error) {
	ctx := c.Request().Context()
	pii := can(c, auth.PermPIIRead)
	v := templates.CutoverRunView{CanRecord: can(c, auth.PermRun)}
	if r.Kind == load.KindReconcile {
		diffs, err := s.loads.Differences(ctx, r.ID)
		if err != nil {
			return v, err
		}
		if len(diffs) > 0 && pii {
			if err := s.auditRunSources(c, r, load.StateDifferent); err != nil {
				return v, err
			}
		}
		for _, d := range diffs {
			row := templates.DifferenceRow{Login: d.Login, State: d.State}
			if !pii {
				row.Login = mapping.MaskValue(d.Login)
			}
			for _, x := range d.Diffs {
				row.Diffs = append(row.Diffs, diffRow(x, pii))
			}
			for _, x := range d.Info {
				row.Info = append(row.Info, diffRow(x, pii))
			}
			v.Differences = append(v.Differences, row)
		}
	}
	checks, err := s.loads.CanaryChecks(ctx, r.ID)
	if err != nil {
		return v, err
	}
	audited := map[int64]bool{}
	for _, k := range checks {
		row := templates.CanaryCheckRow{Check: k, Login: k.Login, Form: templates.NewForm()}
		if !pii {
			row.Login = mapping.MaskValue(k.Login)
		} else if !audited[k.SourceID] {
			audited[k.SourceID] = true
			if err := s.staging.RecordPIIView(ctx, r.ProjectID, k.SourceID, c.Request().URL.Path); err != nil {
				return v, err
			}
		}
		if form != nil && k.CanaryID == canaryID {
			row.Form = *form
		}
		v.Canaries = append(v.Canaries, row)
	}
	return v, nil
}

func diffRow(d load.Diff, pii bool) templates.DiffRow {
	row := templates.DiffRow{Kind: d.Kind, Attribute: d.Attribute}
	if d.GroupName != "" || d.GroupID != "" {
		row.Attribute = strings.TrimSpace(d.GroupName + " " + d.GroupID)
	}
	row.Sent, row.Found = diffValue(d.Sent), diffValue(d.Found)
	// A status is not personal data; profile values are.
	if !pii && d.Kind == load.DiffProfile {
		row.Sent, row.Found = mapping.MaskValue(row.Sent), mapping.MaskValue(row.Found)
	}
	return row
}

func diffValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "(none)"
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// itemDetail says in brief what a cut-over run does or did to one user,
// without personal data unless the viewer may see it.
func itemDetail(it load.Item, pii bool) string {
	var parts []string
	if it.Canary {
		parts = append(parts, "canary")
	}
	if it.AccountStatus != "" && it.AccountStatus != load.AccountActive {
		parts = append(parts, "legacy status "+it.AccountStatus+": "+it.StatusAction)
	}
	var d map[string]any
	_ = jsonUnmarshal(it.DetailJSON, &d)
	switch it.Action {
	case load.ActionUpdate:
		if names, ok := d["changed"].([]any); ok && len(names) > 0 {
			var ns []string
			for _, n := range names {
				ns = append(ns, fmt.Sprint(n))
			}
			parts = append(parts, "changed: "+strings.Join(ns, ", "))
		}
		if d["hashChanged"] == true {
			if d["hashSent"] == true {
				parts = append(parts, "new password hash")
			} else {
				parts = append(parts, "password hash changed but not sent (no longer STAGED)")
			}
		}
	case load.ActionLeave:
		if pol, ok := d["policy"].(string); ok {
			parts = append(parts, "leaver: "+pol)
		}
	case load.ActionActivate:
		if pw, ok := d["password"].(string); ok {
			switch pw {
			case load.PasswordNone:
				parts = append(parts, "no password: activation email")
			default:
				parts = append(parts, "password ("+pw+"): no email")
			}
		}
	case load.ActionManager:
		ref, _ := d["reference"].(string)
		if !pii {
			ref = mapping.MaskValue(ref)
		}
		if kind, ok := d["kind"].(string); ok {
			parts = append(parts, "manager "+kind+" "+ref)
		}
		if reason, ok := d["reason"].(string); ok && reason != "" {
			parts = append(parts, "unresolved: "+reason)
		}
	}
	return strings.Join(parts, " · ")
}

// recordCanaryResult reads and records a canary's result by hand.
func (s *Server) recordCanaryResult(c echo.Context) error {
	p := project(c)
	r, err := s.pathRun(c)
	if err != nil {
		return err
	}
	cid, err := pathID(c, "cid", "canary")
	if err != nil {
		return err
	}
	f := newFormReader(c)
	outcome := *f.text("outcome")
	detail := strings.TrimSpace(*f.text("detail"))
	if outcome != load.CanaryPassed && outcome != load.CanaryFailed {
		f.check.Add("outcome", "Choose passed or failed.")
	}
	if hasControl(detail, false) {
		f.check.Add("detail", "The note holds control characters.")
	} else if utf8.RuneCountInString(detail) > 1000 {
		f.check.Add("detail", "The note is too long: at most 1,000 characters.")
	}
	err = f.parseErr()
	if err == nil {
		err = s.loads.RecordCanaryResult(c.Request().Context(), p.ID, r.ID, cid, outcome, detail)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderRunPage(c, statusForForm(err), cid, form)
	}
	return s.redirectWithFlash(c, templates.LoadRunURL(p.ID, r.ID)+"#canary-checks", "The canary's result is recorded.")
}

// jsonUnmarshal reads a detail column; a malformed one reads as empty.
func jsonUnmarshal(raw string, v any) error {
	if raw == "" {
		return nil
	}
	return json.Unmarshal([]byte(raw), v)
}

// planOrRefusal takes a plan's answer: a plan, or — when the service
// refuses to plan (invalid input, nothing to plan from) — no plan and the
// refusal as the form's message (unless it has one); other errors pass.
// The page then shows the form and why there is no plan.
func planOrRefusal[P any](form *templates.Form, p *P, err error) (*P, error) {
	if err == nil {
		return p, nil
	}
	ae := apperr.As(err)
	if ae == nil || ae.Code != apperr.CodeInvalid {
		return nil, err
	}
	if form.Message == "" {
		form.Message = ae.Message
	}
	return nil, nil
}
