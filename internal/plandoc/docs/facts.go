package docs

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
)

// Facts are what the documents show beyond the portable plan: derived from
// the project's data when a document is made (and frozen with a version).
// They hold counts, statuses, labels and times — never a staged value, a
// login, a hash or a token. Every list has a fixed order, so that the same
// data gives the same JSON.
type Facts struct {
	// OrgHost is the host of the project's Okta org ("" when none).
	OrgHost string `json:"orgHost"`
	// Quality is the latest finished validation (nil: never validated).
	Quality *QualityFacts `json:"quality"`
	// Passwords are the stored passwords of each source whose credentials
	// migrate, from the latest validation, by source name.
	Passwords []PasswordFacts `json:"passwords"`
	// TestBatches are the rungs of the ladder with their latest run.
	TestBatches []TestBatch `json:"testBatches"`
	// Runs are the project's runs other than test batches (loads, refreshes,
	// activation waves, manager passes, reconciliations, rollbacks), oldest
	// first.
	Runs []RunFacts `json:"runs"`
	// Estimates are the load durations at the org's rate limit.
	Estimates []Estimate `json:"estimates"`
	// Readiness is the plan checklist's unfinished items.
	ReadinessDone  int             `json:"readinessDone"`
	ReadinessTotal int             `json:"readinessTotal"`
	Unfinished     []ReadinessItem `json:"unfinished"`
	// Gate says why no real load may start yet (the legal gate's reasons).
	Gate []string `json:"gate"`
	// OpenDefects counts the defects whose ticket is not closed nor won't fix.
	OpenDefects int `json:"openDefects"`
}

// QualityFacts summarise one validation run.
type QualityFacts struct {
	Run         int64         `json:"run"`
	FinishedAt  time.Time     `json:"finishedAt"`
	Records     int64         `json:"records"`
	Valid       int64         `json:"valid"`
	Invalid     int64         `json:"invalid"`
	Excluded    int64         `json:"excluded"`
	Occurrences int64         `json:"occurrences"`
	Issues      []IssueFacts  `json:"issues"`
	Tasks       []TaskSummary `json:"tasks"`
}

// IssueFacts are the occurrences of one issue type.
type IssueFacts struct {
	Code     string `json:"code"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Count    int64  `json:"count"`
}

// TaskSummary counts the remediation tasks of one issue type ("" for tasks
// on chosen records) by status.
type TaskSummary struct {
	IssueCode  string `json:"issueCode"`
	Open       int    `json:"open"`
	InProgress int    `json:"inProgress"`
	Done       int    `json:"done"`
	WontFix    int    `json:"wontFix"`
}

// PasswordFacts are one source's stored passwords in the latest validation.
type PasswordFacts struct {
	Source       string  `json:"source"`
	Unconfigured bool    `json:"unconfigured"`
	ByWay        []Count `json:"byWay"`    // in quality.PasswordWays order
	ByFormat     []Count `json:"byFormat"` // by format name
}

// Count is a named count.
type Count struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
}

// TestBatch is one rung of the ladder and its latest run.
type TestBatch struct {
	Rung int `json:"rung"`
	Size int `json:"size"`
	// Run is the latest run's label ("" when the batch never ran).
	Run       string    `json:"run"`
	Status    string    `json:"status"`
	Priority  string    `json:"priority"`
	Target    string    `json:"target"` // "sandbox" or the org's host
	Users     int64     `json:"users"`
	Failed    int64     `json:"failed"`
	ErrorRate float64   `json:"errorRate"`
	Threshold float64   `json:"threshold"`
	Errors    []Count   `json:"errors"` // by code
	Passed    bool      `json:"passed"`
	Finished  time.Time `json:"finished"`
}

// RunFacts are one run of the cut-over or a rollback.
type RunFacts struct {
	Number int64  `json:"number"`
	Kind   string `json:"kind"`
	Label  string `json:"label"`
	Status string `json:"status"`
	Target string `json:"target"`
	// Window is the time window ("22:00–06:00 Europe/Berlin"), "" for none.
	Window   string    `json:"window"`
	Users    int64     `json:"users"`
	ByState  []Count   `json:"byState"`
	Errors   []Count   `json:"errors"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished"`
}

// Estimate is how long loading some users takes at the org's limit.
type Estimate struct {
	// Basis says what is counted: "planned" (the user types' counts) or
	// "valid" (the valid records of the latest validation).
	Basis   string `json:"basis"`
	Users   int64  `json:"users"`
	Limit   int    `json:"limit"`
	Share   int    `json:"share"`
	Rate    int    `json:"rate"`
	Minutes int64  `json:"minutes"`
}

// ReadinessItem is an unfinished item of the plan's checklist.
type ReadinessItem struct {
	Section string   `json:"section"`
	Label   string   `json:"label"`
	Missing []string `json:"missing"`
}

// Projects is what GatherFacts needs of plan.Service.
type Projects interface {
	FindProjectByID(ctx context.Context, id int64) (*plan.Project, error)
	FindSources(ctx context.Context, projectID int64) ([]plan.Source, error)
	FindInventory(ctx context.Context, projectID int64) (*plan.Inventory, error)
}

// Validations is what GatherFacts needs of quality.Service.
type Validations interface {
	LatestRuns(ctx context.Context, projectID int64, n int) ([]quality.Run, error)
	FindTasks(ctx context.Context, projectID int64) ([]quality.Task, error)
}

// Loads is what GatherFacts needs of load.Service.
type Loads interface {
	Ladder(ctx context.Context, projectID int64) (*load.LadderState, error)
	FindRuns(ctx context.Context, projectID int64, limit int) ([]load.Run, error)
	CountItems(ctx context.Context, runID int64) (load.Counts, error)
}

// Defects is what GatherFacts needs of defects.Service.
type Defects interface {
	List(ctx context.Context, projectID int64, f defects.Filter) ([]defects.Defect, error)
}

// Gate is what GatherFacts needs of privacy.Service.
type Gate interface {
	LoadGate(ctx context.Context, projectID int64, sandbox bool) (privacy.GateResult, error)
}

// Orgs is what GatherFacts needs of orgs.Service.
type Orgs interface {
	Find(ctx context.Context, projectID int64) (*orgs.Connection, error)
}

// FactServices are the services facts are read from. Gate and Orgs may be
// nil (no gate reasons; the org host from the project's settings).
type FactServices struct {
	Plan    Projects
	Quality Validations
	Load    Loads
	Defects Defects
	Gate    Gate
	Orgs    Orgs
}

// maxRuns bounds the runs the documents list (load.Service's own limit).
const maxRuns = 500

// GatherFacts reads the facts of a project's data.
func GatherFacts(ctx context.Context, svc FactServices, projectID int64) (*Facts, error) {
	f := &Facts{Passwords: []PasswordFacts{}, TestBatches: []TestBatch{}, Runs: []RunFacts{}, Unfinished: []ReadinessItem{}, Gate: []string{}}
	proj, err := svc.Plan.FindProjectByID(ctx, projectID)
	if err != nil {
		return nil, err
	}
	orgURL := proj.OktaOrgURL
	if svc.Orgs != nil {
		conn, err := svc.Orgs.Find(ctx, projectID)
		if err != nil {
			return nil, err
		}
		if conn != nil && conn.OrgURL != "" {
			orgURL = conn.OrgURL
		}
	}
	f.OrgHost = hostOf(orgURL)

	sources, err := svc.Plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	sourceName := map[int64]string{}
	for _, s := range sources {
		sourceName[s.ID] = s.Name
	}

	inv, err := svc.Plan.FindInventory(ctx, projectID)
	if err != nil {
		return nil, err
	}
	rd := inv.Readiness()
	f.ReadinessDone, f.ReadinessTotal = rd.Done, rd.Total
	for _, it := range rd.Items {
		if it.Done {
			continue
		}
		item := ReadinessItem{Section: it.Section, Label: it.Label, Missing: []string{}}
		for _, m := range it.Missing {
			item.Missing = append(item.Missing, m.Label)
		}
		f.Unfinished = append(f.Unfinished, item)
	}
	est := inv.Estimate()
	f.Estimates = []Estimate{estimateOf("planned", est)}

	runs, err := svc.Quality.LatestRuns(ctx, projectID, 1)
	if err != nil {
		return nil, err
	}
	tasks, err := svc.Quality.FindTasks(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if len(runs) > 0 {
		r := runs[0]
		q := &QualityFacts{Run: r.ID, Records: r.Records, Valid: r.Valid, Invalid: r.Invalid, Excluded: r.Excluded,
			Occurrences: r.Occurrences, Issues: []IssueFacts{}, Tasks: taskSummaries(tasks)}
		if r.FinishedAt != nil {
			q.FinishedAt = r.FinishedAt.UTC()
		}
		for code, n := range r.Counts.ByCode {
			t := quality.TypeOf(code)
			q.Issues = append(q.Issues, IssueFacts{Code: code, Title: t.Title, Severity: t.Severity, Count: n})
		}
		slices.SortFunc(q.Issues, func(a, b IssueFacts) int {
			return cmp.Or(cmp.Compare(severityRank(a.Severity), severityRank(b.Severity)), cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code))
		})
		f.Quality = q
		for id, pc := range r.Counts.Passwords {
			if pc == nil {
				continue
			}
			name := sourceName[id]
			if name == "" {
				continue // deleted since the run
			}
			pf := PasswordFacts{Source: name, Unconfigured: pc.Unconfigured, ByWay: []Count{}, ByFormat: sortedCounts(pc.ByFormat)}
			for _, w := range quality.PasswordWays() {
				if n := pc.ByWay[w]; n > 0 {
					pf.ByWay = append(pf.ByWay, Count{Name: w, Count: n})
				}
			}
			f.Passwords = append(f.Passwords, pf)
		}
		slices.SortFunc(f.Passwords, func(a, b PasswordFacts) int { return cmp.Compare(strings.ToLower(a.Source), strings.ToLower(b.Source)) })
		f.Estimates = append(f.Estimates, estimateOf("valid", plan.EstimateLoad(r.Valid, proj.UserCreationRateLimit, proj.LoadRateSharePercent)))
	}

	ladder, err := svc.Load.Ladder(ctx, projectID)
	if err != nil {
		return nil, err
	}
	for _, r := range ladder.Rungs {
		tb := TestBatch{Rung: r.Number, Size: r.Size, Threshold: ladder.Settings.ErrorThreshold, Errors: []Count{}, Passed: r.Passed}
		if r.Latest != nil {
			run := r.Latest
			tb.Run, tb.Status, tb.Priority, tb.Target = run.Label(), run.Status, run.Population().Priority, targetOf(run)
			tb.Users, tb.Failed, tb.ErrorRate, tb.Threshold = r.Counts.Total, r.Counts.Of(load.StateFailed), r.Counts.ErrorRate(), run.ErrorThreshold
			tb.Errors = errorCounts(r.Counts.Errors)
			if run.FinishedAt != nil {
				tb.Finished = run.FinishedAt.UTC()
			}
		}
		f.TestBatches = append(f.TestBatches, tb)
	}

	all, err := svc.Load.FindRuns(ctx, projectID, maxRuns)
	if err != nil {
		return nil, err
	}
	for i := len(all) - 1; i >= 0; i-- { // oldest first
		run := &all[i]
		if run.Kind == load.KindTestBatch {
			continue
		}
		c, err := svc.Load.CountItems(ctx, run.ID)
		if err != nil {
			return nil, err
		}
		rf := RunFacts{Number: run.Number, Kind: run.Kind, Label: run.Label(), Status: run.Status, Target: targetOf(run),
			Window: windowOf(run), Users: c.Total, ByState: sortedCounts(c.State), Errors: errorCounts(c.Errors), Created: run.CreatedAt.UTC()}
		if run.FinishedAt != nil {
			rf.Finished = run.FinishedAt.UTC()
		}
		f.Runs = append(f.Runs, rf)
	}

	log, err := svc.Defects.List(ctx, projectID, defects.Filter{})
	if err != nil {
		return nil, err
	}
	for i := range log {
		if !log[i].Done() {
			f.OpenDefects++
		}
	}

	if svc.Gate != nil {
		g, err := svc.Gate.LoadGate(ctx, projectID, false)
		if err != nil {
			return nil, err
		}
		f.Gate = append(f.Gate, g.Reasons...)
	}
	return f, nil
}

func estimateOf(basis string, e plan.Estimate) Estimate {
	return Estimate{Basis: basis, Users: e.Users, Limit: e.Limit, Share: e.Share, Rate: e.Rate, Minutes: int64(e.Duration / time.Minute)}
}

// hostOf is the URL's host, without credentials, path or query.
func hostOf(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		u, err = url.Parse("https://" + raw)
		if err != nil {
			return ""
		}
	}
	return u.Hostname()
}

func targetOf(r *load.Run) string {
	if r.Sandbox {
		return "sandbox"
	}
	return hostOf(r.OrgURL)
}

func windowOf(r *load.Run) string {
	if r.WindowStart == nil || r.WindowEnd == nil {
		return ""
	}
	clock := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	w := clock(*r.WindowStart) + "–" + clock(*r.WindowEnd)
	if r.WindowTZ != "" {
		w += " " + r.WindowTZ
	} else {
		w += " UTC"
	}
	return w
}

func taskSummaries(tasks []quality.Task) []TaskSummary {
	by := map[string]*TaskSummary{}
	for _, t := range tasks {
		s := by[t.IssueCode]
		if s == nil {
			s = &TaskSummary{IssueCode: t.IssueCode}
			by[t.IssueCode] = s
		}
		switch t.Status {
		case quality.TaskOpen:
			s.Open++
		case quality.TaskInProgress:
			s.InProgress++
		case quality.TaskDone:
			s.Done++
		case quality.TaskWontFix:
			s.WontFix++
		}
	}
	out := []TaskSummary{}
	for _, s := range by {
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b TaskSummary) int { return cmp.Compare(a.IssueCode, b.IssueCode) })
	return out
}

func severityRank(s string) int {
	if s == quality.SeverityBlocking {
		return 0
	}
	return 1
}

func sortedCounts[K ~string](m map[K]int64) []Count {
	out := []Count{}
	for k, v := range m {
		out = append(out, Count{Name: string(k), Count: v})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func errorCounts(errs []load.ErrorCount) []Count {
	out := []Count{}
	for _, e := range errs {
		out = append(out, Count{Name: e.Code, Count: e.Count})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Name, b.Name)) })
	return out
}
