package plan

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Sections of the plan, as the navigation shows them.
const (
	SectionPeople       = "people"
	SectionSources      = "sources"
	SectionApplications = "applications"
	SectionGoals        = "goals"
)

// Status of a section or of the whole plan, computed from the data.
const (
	StatusDone       = "done"
	StatusAttention  = "attention"
	StatusNotStarted = "not_started"
)

// Ref points at the record (or section, when ID is 0) that an unfinished item needs.
type Ref struct {
	Kind  string // "user_type", "source", "application", "goals", or a section name for "add one"
	ID    int64
	Label string
}

// ReadinessItem is one line of the checklist.
type ReadinessItem struct {
	Section string
	Label   string
	Done    bool
	// Missing names each record that keeps the item from being done.
	Missing []Ref
}

// Readiness is the computed checklist. Nobody ticks it by hand.
type Readiness struct {
	Items   []ReadinessItem
	Done    int
	Total   int
	Percent int
}

// SectionStatus says whether a section is done, needs attention or has not started.
func (r Readiness) SectionStatus(section string, started bool) string {
	if !started {
		return StatusNotStarted
	}
	for _, it := range r.Items {
		if it.Section == section && !it.Done {
			return StatusAttention
		}
	}
	return StatusDone
}

// Inventory is everything the checklist and estimate are computed from.
type Inventory struct {
	Project      Project
	UserTypes    []UserType
	Sources      []Source
	Applications []Application
	Goals        Goals
}

// FindInventory loads a project's whole inventory.
func (s *Service) FindInventory(ctx context.Context, projectID int64) (*Inventory, error) {
	p, err := s.FindProjectByID(ctx, projectID)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{Project: *p}
	if inv.UserTypes, err = s.FindUserTypes(ctx, projectID); err != nil {
		return nil, err
	}
	if inv.Sources, err = s.FindSources(ctx, projectID); err != nil {
		return nil, err
	}
	if inv.Applications, err = s.FindApplications(ctx, projectID); err != nil {
		return nil, err
	}
	g, err := s.FindGoals(ctx, projectID)
	if err != nil {
		return nil, err
	}
	inv.Goals = *g
	return inv, nil
}

// Readiness computes the checklist from the inventory.
func (inv *Inventory) Readiness() Readiness {
	var items []ReadinessItem
	add := func(section, label string, missing []Ref, done bool) {
		items = append(items, ReadinessItem{Section: section, Label: label, Done: done && len(missing) == 0, Missing: missing})
	}

	// People.
	add(SectionPeople, "At least one user type is listed", missingIf(len(inv.UserTypes) == 0, Ref{Kind: SectionPeople, Label: "Add a user type"}), true)
	var noCount []Ref
	for _, u := range inv.UserTypes {
		if u.UserCount == 0 {
			noCount = append(noCount, Ref{Kind: "user_type", ID: u.ID, Label: u.Name})
		}
	}
	add(SectionPeople, "Every user type has a number of users", noCount, len(inv.UserTypes) > 0)

	// Sources.
	add(SectionSources, "At least one source system is recorded", missingIf(len(inv.Sources) == 0, Ref{Kind: SectionSources, Label: "Add a source system"}), true)
	var noOwner, noAccess, undecided []Ref
	held := map[int64]bool{}
	for _, s := range inv.Sources {
		ref := Ref{Kind: "source", ID: s.ID, Label: s.Name}
		if s.AccessOwner == "" {
			noOwner = append(noOwner, ref)
		}
		if s.AccessStatus != AccessGranted {
			noAccess = append(noAccess, ref)
		}
		if s.MigrateCredentials == DecisionUndecided || s.MigrateGroups == DecisionUndecided || s.MigrateMemberships == DecisionUndecided ||
			(s.MigrateCredentials == DecisionYes && (s.PasswordHashFormat == "" || s.PasswordHashFormat == "unknown")) {
			undecided = append(undecided, ref)
		}
		for _, id := range s.UserTypeIDs {
			held[id] = true
		}
	}
	has := len(inv.Sources) > 0
	add(SectionSources, "Every source has a person responsible for access", noOwner, has)
	add(SectionSources, "Access to every source is granted", noAccess, has)
	add(SectionSources, "Credentials, groups and memberships decided for every source (with the hash format when credentials migrate)", undecided, has)
	var orphans []Ref
	for _, u := range inv.UserTypes {
		if !held[u.ID] {
			orphans = append(orphans, Ref{Kind: "user_type", ID: u.ID, Label: u.Name})
		}
	}
	add(SectionSources, "Every user type has a source that holds its people", orphans, has && len(inv.UserTypes) > 0)

	// Applications.
	add(SectionApplications, "Applications are identified", missingIf(len(inv.Applications) == 0, Ref{Kind: SectionApplications, Label: "Add an application"}), true)
	var appsIncomplete []Ref
	for _, a := range inv.Applications {
		if len(a.UserTypeIDs) == 0 || a.OINStatus == "unknown" {
			appsIncomplete = append(appsIncomplete, Ref{Kind: "application", ID: a.ID, Label: a.Name})
		}
	}
	add(SectionApplications, "Every application names its user types and whether an OIN integration exists", appsIncomplete, len(inv.Applications) > 0)

	// Goals.
	var unanswered []Ref
	for _, q := range inv.Goals.Unanswered() {
		unanswered = append(unanswered, Ref{Kind: "goals", Label: q.Question})
	}
	add(SectionGoals, "Every goal question is answered", unanswered, true)
	var noApproach []Ref
	if inv.Goals.Approach == "" {
		noApproach = []Ref{{Kind: "goals", Label: "Choose one-shot or staged, and say why"}}
	}
	add(SectionGoals, "The approach (one-shot or staged) is chosen with its rationale", noApproach, true)

	r := Readiness{Items: items, Total: len(items)}
	for _, it := range items {
		if it.Done {
			r.Done++
		}
	}
	r.Percent = r.Done * 100 / r.Total
	return r
}

// missingIf returns ref as the only missing record when cond holds.
func missingIf(cond bool, ref Ref) []Ref {
	if cond {
		return []Ref{ref}
	}
	return nil
}

// Started reports, per section, whether anything has been entered yet.
func (inv *Inventory) Started() map[string]bool {
	g := inv.Goals
	return map[string]bool{
		SectionPeople:       len(inv.UserTypes) > 0,
		SectionSources:      len(inv.Sources) > 0,
		SectionApplications: len(inv.Applications) > 0,
		SectionGoals:        len(g.Unanswered()) < len(GoalQuestions()) || g.Approach != "",
	}
}

// TotalUsers is the sum of the user types' counts.
func (inv *Inventory) TotalUsers() int64 {
	var n int64
	for _, u := range inv.UserTypes {
		n += u.UserCount
	}
	return n
}

// Estimate is how long loading the users takes at the org's rate limit.
type Estimate struct {
	Users int64
	// Limit is the org's user-creation rate limit per minute; Share the
	// percentage of it a load may use; Rate the resulting users per minute.
	Limit, Share, Rate int
	Duration           time.Duration
}

// EstimateLoad computes the load duration for users at limit per minute,
// using share percent of it.
func EstimateLoad(users int64, limit, share int) Estimate {
	rate := limit * share / 100
	if rate < 1 {
		rate = 1
	}
	minutes := math.Ceil(float64(users) / float64(rate))
	return Estimate{Users: users, Limit: limit, Share: share, Rate: rate, Duration: time.Duration(minutes) * time.Minute}
}

// Estimate computes the load estimate for the inventory.
func (inv *Inventory) Estimate() Estimate {
	return EstimateLoad(inv.TotalUsers(), inv.Project.UserCreationRateLimit, inv.Project.LoadRateSharePercent)
}

// String reads like "120,000 users ≈ 4 h 10 min at 480 of 600/min".
func (e Estimate) String() string {
	users := "users"
	if e.Users == 1 {
		users = "user"
	}
	return fmt.Sprintf("%s %s ≈ %s at %s of %s/min", Thousands(e.Users), users, HumanDuration(e.Duration), Thousands(int64(e.Rate)), Thousands(int64(e.Limit)))
}

// HumanDuration renders whole minutes as "4 h 10 min", "3 d 2 h", "0 min".
func HumanDuration(d time.Duration) string {
	m := int64(d.Minutes())
	days, hours, mins := m/(24*60), (m/60)%24, m%60
	switch {
	case days > 0:
		return fmt.Sprintf("%d d %d h", days, hours)
	case hours > 0 && mins > 0:
		return fmt.Sprintf("%d h %d min", hours, mins)
	case hours > 0:
		return fmt.Sprintf("%d h", hours)
	}
	return fmt.Sprintf("%d min", mins)
}

// Thousands formats n with comma thousands separators: 120000 → "120,000".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Add appends items computed elsewhere (the matrix, the legal review) and
// recomputes the totals.
func (r *Readiness) Add(items ...ReadinessItem) {
	r.Items = append(r.Items, items...)
	r.Done, r.Total = 0, len(r.Items)
	for _, it := range r.Items {
		if it.Done {
			r.Done++
		}
	}
	r.Percent = 0
	if r.Total > 0 {
		r.Percent = r.Done * 100 / r.Total
	}
}
