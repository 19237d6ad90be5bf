package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/sheet"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/templates"
)

// occurrencesPageSize is how many occurrences one page of the table shows.
const occurrencesPageSize = 100

// occurrenceFilterFrom reads the occurrences filter from a query string or
// a form (the task form repeats the filter it was shown with).
func occurrenceFilterFrom(get func(string) string, prefix string) templates.OccurrenceFilter {
	f := templates.OccurrenceFilter{Code: strings.TrimSpace(get(prefix + "code")), Attribute: strings.TrimSpace(get(prefix + "attribute"))}
	f.SourceID, _ = strconv.ParseInt(get(prefix+"source"), 10, 64)
	if f.SourceID < 0 {
		f.SourceID = 0
	}
	return f
}

func (s *Server) qualityPage(c echo.Context) error {
	after, _ := strconv.ParseInt(c.QueryParam("after"), 10, 64)
	return s.renderQuality(c, http.StatusOK, occurrenceFilterFrom(c.QueryParam, ""), max(after, 0), nil, nil)
}

// qualityURL is the quality page with a filter, at an anchor.
func qualityURL(p *plan.Project, f templates.OccurrenceFilter, after int64, anchor string) string {
	q := f.Query()
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	u := projectURL(p, "/quality")
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	if anchor != "" {
		u += "#" + anchor
	}
	return u
}

// bars turns counts into chart bars, largest first.
func bars[K comparable](counts map[K]int64, label func(K) string, href func(K) string) []templates.Bar {
	out := make([]templates.Bar, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			out = append(out, templates.Bar{Label: label(k), Count: n, Href: href(k)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Label < out[j].Label
	})
	return out
}

// renderQuality renders the quality page. taskForm is the new-task form to
// show again after a refusal; taskForms a task's status form, by task id.
func (s *Server) renderQuality(c echo.Context, status int, filter templates.OccurrenceFilter, after int64, taskForm *templates.Form, taskForms map[int64]templates.Form) error {
	ctx := c.Request().Context()
	p := project(c)
	v := templates.QualityView{CanRun: can(c, auth.PermRun), Filter: filter}
	// The validation job is read before the run it produces (see renderDataWith).
	if j, err := s.newestJob(ctx, p.ID, jobs.Filter{Kinds: []string{jobs.KindValidate}}); err != nil {
		return err
	} else if j != nil {
		view := s.jobView(c, *j)
		v.Job = &view
	}
	st, err := s.loadProjectState(c)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, src := range st.inv.Sources {
		names[src.ID] = src.Name
	}
	currentBySource := map[int64]staging.Extract{}
	for _, ex := range st.extracts {
		currentBySource[ex.SourceID] = ex
	}
	v.Staged = len(st.extracts)
	if len(st.runs) > 0 {
		run := st.runs[0]
		v.Run = &run
		if len(st.runs) > 1 {
			prev := st.runs[1]
			v.Prev = &prev
		}
		v.Stale = st.stale
		if err := s.fillRun(ctx, p, &v, names, currentBySource, after); err != nil {
			return err
		}
	}

	// Remediation tasks.
	members, err := s.auth.FindMembers(ctx, p.ID)
	if err != nil {
		return err
	}
	memberNames := map[int64]string{}
	for _, m := range members {
		if m.Account == nil {
			continue
		}
		memberNames[m.AccountID] = m.Account.Name
		v.Members = append(v.Members, templates.Option{Value: strconv.FormatInt(m.AccountID, 10), Label: m.Account.Name + " (" + m.Role.Label() + ")"})
	}
	tasks, err := s.quality.FindTasks(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		row := templates.TaskRow{Task: t, Form: templates.NewForm()}
		if t.AssigneeID != nil {
			row.Assignee = memberNames[*t.AssigneeID]
			if row.Assignee == "" {
				row.Assignee = "a former member"
			}
		}
		if t.IssueCode != "" {
			row.IssueTitle = quality.TypeOf(t.IssueCode).Title
		}
		row.Form.Values["status"] = t.Status
		row.Form.Values["version"] = strconv.FormatInt(t.Version, 10)
		if f, ok := taskForms[t.ID]; ok {
			row.Form = f
		}
		v.Tasks = append(v.Tasks, row)
	}
	if taskForm != nil {
		v.TaskForm = *taskForm
	} else {
		v.TaskForm = templates.NewForm()
		if filter.Code != "" {
			v.TaskForm.Values["issue_code"] = filter.Code
			v.TaskForm.Values["title"] = "Fix: " + quality.TypeOf(filter.Code).Title
		}
	}
	return s.render(c, status, templates.QualityPage(s.chrome(c, "Data quality", sectionData), v))
}

// fillRun adds the newest run's totals, counts, catalog and occurrences.
func (s *Server) fillRun(ctx context.Context, p *plan.Project, v *templates.QualityView, names map[int64]string,
	currentBySource map[int64]staging.Extract, after int64) error {
	run, prev := v.Run, v.Prev
	total := func(id, label string, value int64, prevValue func(*quality.Run) int64, upIsGood bool) templates.Total {
		t := templates.Total{ID: id, Label: label, Value: value, UpIsGood: upIsGood, Neutral: id == "records" || id == "excluded"}
		if prev != nil {
			t.HasPrev, t.Delta = true, value-prevValue(prev)
		}
		return t
	}
	v.Totals = []templates.Total{
		total("records", "Records", run.Records, func(r *quality.Run) int64 { return r.Records }, true),
		total("valid", "Valid", run.Valid, func(r *quality.Run) int64 { return r.Valid }, true),
		total("invalid", "Invalid", run.Invalid, func(r *quality.Run) int64 { return r.Invalid }, false),
		total("excluded", "Excluded", run.Excluded, func(r *quality.Run) int64 { return r.Excluded }, false),
	}
	sourceName := func(id int64) string {
		if n, ok := names[id]; ok {
			return n
		}
		return fmt.Sprintf("source %d", id)
	}
	v.ByType = bars(run.Counts.ByCode, func(code string) string { return quality.TypeOf(code).Title },
		func(code string) string {
			return qualityURL(p, templates.OccurrenceFilter{Code: code}, 0, "occurrences")
		})
	v.BySource = bars(run.Counts.BySource, sourceName,
		func(id int64) string {
			return qualityURL(p, templates.OccurrenceFilter{SourceID: id}, 0, "occurrences")
		})
	v.ByAttribute = bars(run.Counts.ByAttribute, func(a string) string { return a },
		func(a string) string {
			return qualityURL(p, templates.OccurrenceFilter{Attribute: a}, 0, "occurrences")
		})

	// The catalog: the types found now, and those found before (to show they are gone).
	listed := map[string]bool{}
	addEntry := func(t quality.IssueType) {
		if listed[t.Code] {
			return
		}
		e := templates.CatalogEntry{Type: t, Count: run.Counts.ByCode[t.Code]}
		if prev != nil {
			e.HasPrev, e.Delta = true, e.Count-prev.Counts.ByCode[t.Code]
		}
		if e.Count == 0 && (prev == nil || prev.Counts.ByCode[t.Code] == 0) {
			return
		}
		listed[t.Code] = true
		v.Catalog = append(v.Catalog, e)
		v.TypeOptions = append(v.TypeOptions, templates.Option{Value: t.Code, Label: fmt.Sprintf("%s (%s)", t.Title, plan.Thousands(e.Count))})
	}
	for _, t := range quality.IssueTypes() {
		addEntry(t)
	}
	var unknown []string
	for code := range run.Counts.ByCode {
		unknown = append(unknown, code)
	}
	sort.Strings(unknown)
	for _, code := range unknown {
		addEntry(quality.TypeOf(code))
	}

	for id, n := range run.Counts.BySource {
		v.SourceOptions = append(v.SourceOptions, templates.Option{Value: strconv.FormatInt(id, 10), Label: fmt.Sprintf("%s (%s)", sourceName(id), plan.Thousands(n))})
		if ex, ok := currentBySource[id]; ok && n > 0 {
			v.InvalidExports = append(v.InvalidExports, templates.Link{Label: sourceName(id) + ": records with issues, in the columns of " + ex.FileName,
				URL: projectURL(p, fmt.Sprintf("/quality/invalid.csv?source=%d", id))})
		}
	}
	sort.Slice(v.SourceOptions, func(i, j int) bool { return v.SourceOptions[i].Label < v.SourceOptions[j].Label })
	sort.Slice(v.InvalidExports, func(i, j int) bool { return v.InvalidExports[i].Label < v.InvalidExports[j].Label })
	for a, n := range run.Counts.ByAttribute {
		v.AttributeOptions = append(v.AttributeOptions, templates.Option{Value: a, Label: fmt.Sprintf("%s (%s)", a, plan.Thousands(n))})
	}
	sort.Slice(v.AttributeOptions, func(i, j int) bool { return v.AttributeOptions[i].Value < v.AttributeOptions[j].Value })

	v.Passwords = passwordSections(p, run, sourceName)

	occ, err := s.quality.FindOccurrences(ctx, quality.OccurrenceFilter{RunID: run.ID, Code: v.Filter.Code, SourceID: v.Filter.SourceID,
		Attribute: v.Filter.Attribute, AfterID: after, Limit: occurrencesPageSize + 1})
	if err != nil {
		return err
	}
	if len(occ) > occurrencesPageSize {
		occ = occ[:occurrencesPageSize]
		v.Next = qualityURL(p, v.Filter, occ[len(occ)-1].ID, "occurrences")
	}
	for _, o := range occ {
		row := templates.OccurrenceRow{Occurrence: o, SourceName: sourceName(o.SourceID), Title: quality.TypeOf(o.Code).Title}
		if ex, ok := currentBySource[o.SourceID]; ok {
			if v.CanRun {
				row.RecordURL = projectURL(p, fmt.Sprintf("/data/records/%d/exclude", o.RecordID))
				row.FixURL = projectURL(p, fmt.Sprintf("/data/records/%d/edit", o.RecordID))
			} else {
				row.RecordURL = recordsNextURL(p, ex.ID, o.RecordID-1) + fmt.Sprintf("#record-%d", o.RecordID)
			}
		}
		v.Occurrences = append(v.Occurrences, row)
	}
	if v.Filter.Active() {
		ids, err := s.filteredRecordIDs(ctx, run.ID, v.Filter)
		if err != nil {
			return err
		}
		v.FilteredRecords = len(ids)
	}
	return nil
}

// filteredRecordIDs lists the distinct records of a run's filtered
// occurrences, at most one more than a task may name.
func (s *Server) filteredRecordIDs(ctx context.Context, runID int64, f templates.OccurrenceFilter) ([]int64, error) {
	seen := map[int64]bool{}
	var out []int64
	var after int64
	for len(out) <= quality.MaxTaskRecords {
		page, err := s.quality.FindOccurrences(ctx, quality.OccurrenceFilter{RunID: runID, Code: f.Code, SourceID: f.SourceID, Attribute: f.Attribute,
			AfterID: after, Limit: 10000})
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			break
		}
		for _, o := range page {
			if !seen[o.RecordID] {
				seen[o.RecordID] = true
				out = append(out, o.RecordID)
			}
		}
		after = page[len(page)-1].ID
	}
	return out, nil
}

// latestRun returns the project's newest validation, or a not-found error.
func (s *Server) latestRun(c echo.Context) (*quality.Run, error) {
	st, err := s.loadProjectState(c)
	if err != nil {
		return nil, err
	}
	if len(st.runs) == 0 {
		return nil, apperr.NotFound("validation run")
	}
	return &st.runs[0], nil
}

// ---- remediation tasks ----

func (s *Server) createTask(c echo.Context) error {
	p := project(c)
	ctx := c.Request().Context()
	f := newFormReader(c)
	filter := occurrenceFilterFrom(c.FormValue, "filter_")
	in := quality.TaskInput{Title: f.text("title"), IssueCode: f.text("issue_code"), DueDate: f.text("due_date"), Notes: f.text("notes")}
	if raw := strings.TrimSpace(c.FormValue("assignee_id")); raw != "" {
		in.AssigneeID = f.int64("assignee_id", "Assignee")
	}
	run, err := s.latestRun(c)
	if err != nil {
		return err
	}
	if c.FormValue("records") == "filtered" {
		f.form.Values["records"] = "filtered"
		if !filter.Active() {
			f.check.Add("record_ids", "Filter the occurrences first: the task names the records of those shown.")
		} else {
			ids, err := s.filteredRecordIDs(ctx, run.ID, filter)
			if err != nil {
				return err
			}
			in.RecordIDs = &ids
		}
	}
	err = f.parseErr()
	var task *quality.Task
	if err == nil {
		task, err = s.quality.CreateTask(ctx, p.ID, s.auth, in)
	}
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderQuality(c, statusForForm(err), filter, 0, form, nil)
	}
	msg := fmt.Sprintf("Task %q created", task.Title)
	if n := len(task.RecordIDs); n > 0 {
		msg += fmt.Sprintf(" for %s record(s)", plan.Thousands(int64(n)))
	}
	return s.redirectWithFlash(c, qualityURL(p, filter, 0, fmt.Sprintf("task-%d", task.ID)), msg+".")
}

func (s *Server) updateTask(c echo.Context) error {
	p := project(c)
	id, err := pathID(c, "id", "task")
	if err != nil {
		return err
	}
	f := newFormReader(c)
	in := quality.TaskInput{Status: f.text("status")}
	version := f.version()
	task, err := s.quality.UpdateTask(c.Request().Context(), p.ID, id, version, s.auth, in)
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		for _, msg := range form.Errors {
			form.Message += " " + msg
		}
		form.Message = strings.TrimSpace(form.Message)
		return s.renderQuality(c, statusForForm(err), templates.OccurrenceFilter{}, 0, nil, map[int64]templates.Form{id: *form})
	}
	return s.redirectWithFlash(c, projectURL(p, fmt.Sprintf("/quality#task-%d", task.ID)),
		fmt.Sprintf("Task %q: %s.", task.Title, strings.ToLower(labelOfStatus(task.Status))))
}

func labelOfStatus(status string) string {
	for _, st := range quality.TaskStatuses() {
		if st[0] == status {
			return st[1]
		}
	}
	return status
}

// ---- exports ----

// exportOccurrences sends the newest run's occurrences (as filtered) as CSV.
func (s *Server) exportOccurrences(c echo.Context) error {
	ctx := c.Request().Context()
	p := project(c)
	run, err := s.latestRun(c)
	if err != nil {
		return err
	}
	names, err := s.plan.SourceNames(ctx, p.ID)
	if err != nil {
		return err
	}
	f := occurrenceFilterFrom(c.QueryParam, "")
	t := sheet.Table{Sheet: "Occurrences", Header: []string{"Source", "Line", "Record ID", "Issue code", "Issue", "Severity", "Attribute", "Value", "Message"}}
	var after int64
	for {
		page, err := s.quality.FindOccurrences(ctx, quality.OccurrenceFilter{RunID: run.ID, Code: f.Code, SourceID: f.SourceID, Attribute: f.Attribute,
			AfterID: after, Limit: 10000})
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for _, o := range page {
			t.Rows = append(t.Rows, []string{names[o.SourceID], strconv.FormatInt(o.Position, 10), strconv.FormatInt(o.RecordID, 10), o.Code,
				quality.TypeOf(o.Code).Title, o.Severity, o.Attribute, o.Value, o.Message})
		}
		after = page[len(page)-1].ID
	}
	return s.sendTable(c, t, "occurrences", "csv")
}

// exportInvalid sends a source's records with a blocking issue in the newest
// run, in the columns of the source's current extract, so that they can be
// fixed and staged again. Personal data is masked for roles that do not see it.
func (s *Server) exportInvalid(c echo.Context) error {
	ctx := c.Request().Context()
	p := project(c)
	sid, err := strconv.ParseInt(c.QueryParam("source"), 10, 64)
	if err != nil || sid <= 0 {
		return apperr.NotFound("source")
	}
	src, err := s.plan.FindSourceByID(ctx, p.ID, sid)
	if err != nil {
		return err
	}
	run, err := s.latestRun(c)
	if err != nil {
		return err
	}
	st, err := s.loadProjectState(c)
	if err != nil {
		return err
	}
	var ex *staging.Extract
	for i := range st.extracts {
		if st.extracts[i].SourceID == src.ID {
			ex = &st.extracts[i]
		}
	}
	if ex == nil {
		return apperr.NotFound("extract")
	}
	invalid := map[int64]bool{}
	var after int64
	for {
		page, err := s.quality.FindOccurrences(ctx, quality.OccurrenceFilter{RunID: run.ID, SourceID: src.ID, AfterID: after, Limit: 10000})
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for _, o := range page {
			if o.Severity == quality.SeverityBlocking {
				invalid[o.RecordID] = true
			}
		}
		after = page[len(page)-1].ID
	}
	mk, err := s.maskerFor(c, src.ID)
	if err != nil {
		return err
	}
	cols := extractColumns(ex)
	t := sheet.Table{Sheet: src.Name, Header: cols}
	after = 0
	for len(invalid) > 0 {
		recs, err := s.staging.FindRecords(ctx, ex.ID, after, 1000)
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			break
		}
		for _, r := range recs {
			if !invalid[r.ID] {
				continue
			}
			eff := r.Effective()
			row := make([]string, len(cols))
			for i, col := range cols {
				row[i] = mk.exportValue(col, eff[col])
			}
			t.Rows = append(t.Rows, row)
		}
		after = recs[len(recs)-1].ID
	}
	return s.sendTable(c, t, slug(src.Name)+"-invalid-records", "csv")
}

// wayLabels name the ways a stored password goes, for the quality page.
var wayLabels = map[string]string{
	quality.WayImport: "import (Okta imports the hash)", quality.WayHook: "hook (verified at first sign-in)",
	quality.WayReset: "reset", quality.WayMissing: "missing (no value)", quality.WayMalformed: "malformed",
	quality.WayNotAllowed: "format not allowed",
}

// passwordSections turns the run's password counts into the page's
// sections, by source name.
func passwordSections(p *plan.Project, run *quality.Run, sourceName func(int64) string) []templates.PasswordSection {
	var out []templates.PasswordSection
	for id, pc := range run.Counts.Passwords {
		if pc == nil {
			continue
		}
		ps := templates.PasswordSection{SourceID: id, SourceName: sourceName(id), Unconfigured: pc.Unconfigured,
			SettingsURL: projectURL(p, fmt.Sprintf("/sources/%d/credentials", id))}
		for _, w := range quality.PasswordWays() {
			if n := pc.ByWay[w]; n > 0 {
				ps.ByWay = append(ps.ByWay, templates.Bar{Label: wayLabels[w], Count: n})
			}
		}
		ps.ByFormat = bars(pc.ByFormat, func(f string) string { return f }, func(string) string { return "" })
		out = append(out, ps)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SourceName < out[j].SourceName })
	return out
}
