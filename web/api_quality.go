package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/quality"
)

// Validation and remediation in the API: validation runs with their counts
// and occurrences, the catalog of issue types, and remediation tasks.

// runJSON is one validation of the project's staged data.
type runJSON struct {
	ID            int64      `json:"id"`
	ProjectID     int64      `json:"projectId"`
	Status        string     `json:"status"`
	Records       int64      `json:"records"`
	Valid         int64      `json:"valid"`
	Invalid       int64      `json:"invalid"`
	Excluded      int64      `json:"excluded"`
	Occurrences   int64      `json:"occurrences"`
	Counts        countsJSON `json:"counts"`
	Error         string     `json:"error"`
	CreatedByName string     `json:"createdByName"`
	StartedAt     time.Time  `json:"startedAt"`
	FinishedAt    *time.Time `json:"finishedAt"`
}

type countsJSON struct {
	ByCode      map[string]int64 `json:"byCode"`
	BySource    map[string]int64 `json:"bySource"`
	ByAttribute map[string]int64 `json:"byAttribute"`
	// ByFormat and Passwords: the stored passwords of the sources whose
	// credentials migrate (absent when none was checked).
	ByFormat  map[string]int64                   `json:"byFormat,omitempty"`
	Passwords map[string]*quality.PasswordCounts `json:"passwords,omitempty"`
}

func runJSONOf(r *quality.Run) runJSON {
	out := runJSON{ID: r.ID, ProjectID: r.ProjectID, Status: r.Status, Records: r.Records, Valid: r.Valid, Invalid: r.Invalid,
		Excluded: r.Excluded, Occurrences: r.Occurrences, Error: r.Error, CreatedByName: r.CreatedByName, StartedAt: r.StartedAt,
		FinishedAt: r.FinishedAt, Counts: countsJSON{ByCode: map[string]int64{}, BySource: map[string]int64{}, ByAttribute: map[string]int64{}}}
	for k, n := range r.Counts.ByCode {
		out.Counts.ByCode[k] = n
	}
	for id, n := range r.Counts.BySource {
		out.Counts.BySource[strconv.FormatInt(id, 10)] = n
	}
	for k, n := range r.Counts.ByAttribute {
		out.Counts.ByAttribute[k] = n
	}
	if len(r.Counts.ByFormat) > 0 {
		out.Counts.ByFormat = r.Counts.ByFormat
	}
	for id, pc := range r.Counts.Passwords {
		if out.Counts.Passwords == nil {
			out.Counts.Passwords = map[string]*quality.PasswordCounts{}
		}
		out.Counts.Passwords[strconv.FormatInt(id, 10)] = pc
	}
	return out
}

// issueTypeJSON is one entry of the catalog of issue types.
type issueTypeJSON struct {
	Code        string `json:"code"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Remediation string `json:"remediation"`
	Severity    string `json:"severity"`
}

// ---- validation runs ----

func (s *Server) apiListRuns(c echo.Context) error {
	ctx := c.Request().Context()
	pg, err := readPage(c)
	if err != nil {
		return err
	}
	// Newest first: the cursor is the last (oldest) run of the previous
	// page, and the next page holds older ones; 0 starts at the newest.
	runs, next, err := fetchPage(c, pg, func(after int64, n int) ([]quality.Run, error) {
		return s.quality.FindRuns(ctx, project(c).ID, after, n)
	}, func(r quality.Run) int64 { return r.ID })
	if err != nil {
		return err
	}
	out := pageResponse[runJSON]{Items: make([]runJSON, len(runs)), Next: next}
	for i := range runs {
		out.Items[i] = runJSONOf(&runs[i])
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiRun(c echo.Context) (*quality.Run, error) {
	id, err := pathID(c, "id", "validation run")
	if err != nil {
		return nil, err
	}
	return s.quality.FindRunByID(c.Request().Context(), project(c).ID, id)
}

func (s *Server) apiGetRun(c echo.Context) error {
	run, err := s.apiRun(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, runJSONOf(run))
}

func (s *Server) apiListOccurrences(c echo.Context) error {
	ctx := c.Request().Context()
	run, err := s.apiRun(c)
	if err != nil {
		return err
	}
	f := quality.OccurrenceFilter{RunID: run.ID, Code: strings.TrimSpace(c.QueryParam("code")), Attribute: strings.TrimSpace(c.QueryParam("attribute"))}
	fields := map[string]string{}
	if f.Code != "" && quality.TypeOf(f.Code).Description == "" {
		fields["code"] = "code must be the code of an issue type of the catalog (GET …/issue-types)."
	}
	if utf8.RuneCountInString(f.Attribute) > 200 {
		fields["attribute"] = "attribute must be the name of an Okta attribute: at most 200 characters."
	}
	if raw := c.QueryParam("source"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			fields["source"] = "source must be the id of one of the project's sources."
		} else if _, err := s.plan.FindSourceByID(ctx, project(c).ID, id); err != nil {
			if !apperr.Is(err, apperr.CodeNotFound) {
				return err
			}
			fields["source"] = fmt.Sprintf("The project has no source %d.", id)
		}
		f.SourceID = id
	}
	pg, err := readPage(c)
	if err != nil {
		if ae := apperr.As(err); ae.Code == apperr.CodeInvalid {
			for k, v := range ae.Fields {
				fields[k] = v
			}
		} else {
			return err
		}
	}
	if len(fields) > 0 {
		return apperr.Invalid("Please correct the listed fields.", fields)
	}
	occ, next, err := fetchPage(c, pg, func(after int64, n int) ([]quality.Occurrence, error) {
		q := f
		q.AfterID, q.Limit = after, n
		return s.quality.FindOccurrences(ctx, q)
	}, func(o quality.Occurrence) int64 { return o.ID })
	if err != nil {
		return err
	}
	if occ == nil {
		occ = []quality.Occurrence{} // an empty page is [], not null
	}
	// An occurrence's value is stored masked already (see quality.Occurrence).
	return c.JSON(http.StatusOK, pageResponse[quality.Occurrence]{Items: occ, Next: next})
}

func (s *Server) apiIssueTypes(c echo.Context) error {
	types := quality.IssueTypes()
	out := make([]issueTypeJSON, len(types))
	for i, t := range types {
		out[i] = issueTypeJSON{Code: t.Code, Title: t.Title, Description: t.Description, Remediation: t.Remediation, Severity: t.Severity}
	}
	return c.JSON(http.StatusOK, list(out))
}

// ---- remediation tasks ----

// optionalID is an account id in a JSON body: null (clear it) is told apart
// from a missing key (keep it), which a *int64 cannot do.
type optionalID struct {
	set   bool
	value int64
}

func (o *optionalID) UnmarshalJSON(b []byte) error {
	o.set, o.value = true, 0
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &o.value) // the decoder names the field
}

// into puts the assignee, when sent, into in: null (or 0) unassigns.
func (o optionalID) into(in quality.TaskInput) quality.TaskInput {
	if o.set {
		v := o.value
		in.AssigneeID = &v
	}
	return in
}

// taskJSON is a task as the API answers it: recordIds always a list.
func taskJSON(t *quality.Task) *quality.Task {
	if t.RecordIDs == nil {
		t.RecordIDs = []int64{}
	}
	return t
}

// checkTaskRecords refuses record ids that are not staged records of the
// project: a task names the project's records only.
func (s *Server) checkTaskRecords(c echo.Context, in quality.TaskInput) error {
	if in.RecordIDs == nil || len(*in.RecordIDs) == 0 || len(*in.RecordIDs) > quality.MaxTaskRecords {
		return nil // none, or too many: the service says so
	}
	found, err := s.staging.ProjectRecordIDs(c.Request().Context(), project(c).ID, *in.RecordIDs)
	if err != nil {
		return err
	}
	have := make(map[int64]bool, len(found))
	for _, id := range found {
		have[id] = true
	}
	for _, id := range *in.RecordIDs {
		if !have[id] {
			return apperr.Invalid("Please correct the listed fields.", map[string]string{"recordIds": fmt.Sprintf("Record %d is not a staged record of this project.", id)})
		}
	}
	return nil
}

func (s *Server) apiListTasks(c echo.Context) error {
	tasks, err := s.quality.FindTasks(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	for i := range tasks {
		taskJSON(&tasks[i])
	}
	return c.JSON(http.StatusOK, list(tasks))
}

func (s *Server) apiCreateTask(c echo.Context) error {
	var body struct {
		quality.TaskInput
		AssigneeID optionalID `json:"assigneeId"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	in := body.AssigneeID.into(body.TaskInput)
	if err := s.checkTaskRecords(c, in); err != nil {
		return err
	}
	t, err := s.quality.CreateTask(c.Request().Context(), project(c).ID, s.auth, in)
	if err != nil {
		return apiFieldNames(err)
	}
	return created(c, fmt.Sprintf("/api/v1/projects/%d/tasks/%d", t.ProjectID, t.ID), taskJSON(t))
}

func (s *Server) apiGetTask(c echo.Context) error {
	id, err := pathID(c, "id", "task")
	if err != nil {
		return err
	}
	t, err := s.quality.FindTaskByID(c.Request().Context(), project(c).ID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, taskJSON(t))
}

func (s *Server) apiUpdateTask(c echo.Context) error {
	id, err := pathID(c, "id", "task")
	if err != nil {
		return err
	}
	var body struct {
		Version *int64 `json:"version"`
		quality.TaskInput
		AssigneeID optionalID `json:"assigneeId"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	pid := project(c).ID
	in := body.AssigneeID.into(body.TaskInput)
	stored, err := s.quality.FindTaskByID(ctx, pid, id)
	if err != nil {
		return err
	}
	if stored.Version != version {
		return apperr.VersionConflict("task", stored.Version, quality.TaskChanges(stored, in))
	}
	if err := s.checkTaskRecords(c, in); err != nil {
		return err
	}
	t, err := s.quality.UpdateTask(ctx, pid, id, version, s.auth, in)
	if err != nil {
		if apperr.Is(err, apperr.CodeConflict) {
			if now, ferr := s.quality.FindTaskByID(ctx, pid, id); ferr == nil {
				return apperr.VersionConflict("task", now.Version, quality.TaskChanges(now, in))
			}
		}
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, taskJSON(t))
}
