package load

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// Population is who a run loads: valid, non-excluded staged records of the
// chosen sources and user types, narrowed by a filter or an explicit list,
// or the failed users of an earlier run. Test batches take Size records by
// Priority among those not loaded yet.
type Population struct {
	SourceIDs   []int64 `json:"sourceIds,omitempty"`
	UserTypeIDs []int64 `json:"userTypeIds,omitempty"`
	Filter      *Filter `json:"filter,omitempty"`
	// Logins is an explicit list of Okta logins (compared as Okta does).
	Logins []string `json:"logins,omitempty"`
	// FailedOfRun loads the users that failed in that run (of this project).
	FailedOfRun int64 `json:"failedOfRun,omitempty"`
	// Size and Priority choose a test batch's sample.
	Size     int    `json:"size,omitempty"`
	Priority string `json:"priority,omitempty"`
}

// Filter keeps the records whose Okta profile attribute matches.
type Filter struct {
	Attribute string `json:"attribute"`
	// Op is equals, not_equals, contains or starts_with (case-insensitive).
	Op    string `json:"op"`
	Value string `json:"value"`
}

// Filter operators.
func FilterOps() []plan.Option {
	return []plan.Option{{Value: "equals", Label: "equals"}, {Value: "not_equals", Label: "does not equal"},
		{Value: "contains", Label: "contains"}, {Value: "starts_with", Label: "starts with"}}
}

// Test-data priorities of the guidance, offered when picking a batch.
const (
	PrioritySpread   = "spread"
	PriorityTailEnd  = "tail_end"
	PriorityExternal = "external"
	PriorityRegulate = "regulated"
	PriorityRevenue  = "revenue"
)

// Priorities lists the ways a test batch picks its users.
func Priorities() []plan.Option {
	return []plan.Option{
		{Value: PrioritySpread, Label: "Spread: an even sample of every source"},
		{Value: PriorityTailEnd, Label: "Tail-end data: unusual records first (non-ASCII text, the longest values, the most gaps)"},
		{Value: PriorityExternal, Label: "Externally facing data: customers, partners and contractors first"},
		{Value: PriorityRegulate, Label: "Regulated data: records carrying the most personal data (addresses, phones, ids) first"},
		{Value: PriorityRevenue, Label: "Revenue-impacting data: customers and the user types with the most applications first"},
	}
}

// Limits on what a person can ask for.
const (
	MaxLogins      = 100_000
	MaxFilterValue = 1000
)

// Validate checks the population's own fields.
func (p *Population) Validate() error {
	check := apperr.NewCheck()
	if f := p.Filter; f != nil {
		if f.Attribute == "" {
			p.Filter = nil
		} else {
			check.Name("filter_attribute", "Filter attribute", f.Attribute)
			check.OneOf("filter_op", "Filter operator", f.Op, values(FilterOps()), false)
			check.Text("filter_value", "Filter value", f.Value, false, MaxFilterValue)
		}
	}
	if len(p.Logins) > MaxLogins {
		check.Add("logins", fmt.Sprintf("At most %d logins in a list; this has %d.", MaxLogins, len(p.Logins)))
	}
	for i, l := range p.Logins {
		if !utf8.ValidString(l) || strings.ContainsFunc(l, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			check.Add("logins", fmt.Sprintf("Login %d is not readable text.", i+1))
			break
		}
	}
	if p.Priority != "" {
		check.OneOf("priority", "Priority", p.Priority, values(Priorities()), false)
	}
	if p.Size < 0 || p.Size > MaxBatchSize {
		check.Add("size", fmt.Sprintf("A batch has between 1 and %d users.", MaxBatchSize))
	}
	return check.Err()
}

// ParseLogins reads a pasted list: one login per line or separated by
// commas or semicolons; blanks and duplicates (as Okta compares logins) are
// dropped.
func ParseLogins(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' || r == ';' }) {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k := schema.LoginKey(f)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}

func values(opts []plan.Option) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Value
	}
	return out
}

// candidate is one staged record a run may take.
type candidate struct {
	RecordID   int64
	SourceID   int64
	SourceKey  string
	Login      string
	Profile    map[string]string
	Attributes []byte
	Edits      []byte
	// LoadedBy is the run that already created this record's user in the
	// org (0: none).
	LoadedBy int64
}

// Selection is a population resolved against the staged data.
type Selection struct {
	Candidates []candidate
	// AlreadyLoaded counts the chosen records Ferry has already created in
	// the org (kept in a load as skipped items; left out of a test batch).
	AlreadyLoaded int
	// Unmatched are the explicit logins no valid record has.
	Unmatched []string
	// ValidationRunID is the validation the records passed.
	ValidationRunID int64
}

// errNotValidated explains why nothing can be loaded yet.
func errNotValidated(msg string) error {
	return apperr.Invalid(msg, map[string]string{"population": msg})
}

// resolve finds the records of a population: valid in the latest
// validation (which must be current), not excluded, of the chosen sources.
func (s *Service) resolve(ctx context.Context, projectID int64, orgURL string, p Population) (*Selection, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	runs, err := s.deps.Validation.LatestRuns(ctx, projectID, 1)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, errNotValidated("The staged data has not been validated: validate it on the Quality page first.")
	}
	vrun := runs[0]
	digest, err := s.deps.Validation.CurrentDigest(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if digest != vrun.MatrixDigest {
		return nil, errNotValidated("The matrix or the password settings changed since the last validation: validate again before loading.")
	}
	extracts, err := s.deps.Extracts.CurrentExtracts(ctx, projectID)
	if err != nil {
		return nil, err
	}
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	wanted := map[int64]bool{}
	for _, id := range p.SourceIDs {
		wanted[id] = true
	}
	byType := map[int64]bool{}
	for _, id := range p.UserTypeIDs {
		byType[id] = true
	}
	keep := map[int64]bool{}
	for _, src := range sources {
		if len(wanted) > 0 && !wanted[src.ID] {
			continue
		}
		if len(byType) > 0 && !slices.ContainsFunc(src.UserTypeIDs, func(id int64) bool { return byType[id] }) {
			continue
		}
		keep[src.ID] = true
	}
	for id := range wanted {
		if !slices.ContainsFunc(sources, func(src plan.Source) bool { return src.ID == id }) {
			return nil, apperr.Invalid("A chosen source is not in this project.", map[string]string{"sources": "Choose the project's sources."})
		}
	}
	var failedOf map[int64]bool
	if p.FailedOfRun != 0 {
		if failedOf, err = s.failedRecords(ctx, projectID, p.FailedOfRun); err != nil {
			return nil, err
		}
	}
	loaded, err := s.loadedRecords(ctx, projectID, orgURL)
	if err != nil {
		return nil, err
	}
	var logins map[string]bool
	if len(p.Logins) > 0 {
		logins = map[string]bool{}
		for _, l := range p.Logins {
			logins[schema.LoginKey(l)] = true
		}
	}
	sel := &Selection{ValidationRunID: vrun.ID}
	matchedLogins := map[string]bool{}
	for _, ex := range extracts {
		if !keep[ex.SourceID] {
			continue
		}
		err := s.scanValid(ctx, ex.ID, vrun.ID, func(c candidate) {
			c.SourceID = ex.SourceID
			if failedOf != nil && !failedOf[c.RecordID] {
				return
			}
			if logins != nil {
				k := schema.LoginKey(c.Login)
				if !logins[k] {
					return
				}
				matchedLogins[k] = true
			}
			if p.Filter != nil && !p.Filter.matches(c.Profile) {
				return
			}
			c.LoadedBy = loaded[c.RecordID]
			if c.LoadedBy != 0 {
				sel.AlreadyLoaded++
			}
			sel.Candidates = append(sel.Candidates, c)
		})
		if err != nil {
			return nil, err
		}
	}
	for _, l := range p.Logins {
		if !matchedLogins[schema.LoginKey(l)] {
			sel.Unmatched = append(sel.Unmatched, l)
		}
	}
	return sel, nil
}

func (f *Filter) matches(profile map[string]string) bool {
	v := strings.ToLower(profile[f.Attribute])
	want := strings.ToLower(f.Value)
	switch f.Op {
	case "equals":
		return v == want
	case "not_equals":
		return v != want
	case "contains":
		return strings.Contains(v, want)
	case "starts_with":
		return strings.HasPrefix(v, want)
	}
	return false
}

// scanValid calls fn for each record of the extract that has a profile, is
// not excluded and has no blocking occurrence in the validation run.
func (s *Service) scanValid(ctx context.Context, extractID, validationRunID int64, fn func(candidate)) error {
	const page = 5000
	var after int64
	for {
		rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT r.id, r.source_key, p.profile_json, r.attributes_json, r.edits_json
			FROM staged_records r JOIN staged_profiles p ON p.record_id = r.id
			WHERE r.extract_id = ? AND r.id > ? AND NOT r.excluded
			AND NOT EXISTS (SELECT 1 FROM issue_occurrences o WHERE o.run_id = ? AND o.record_id = r.id AND o.severity = 'blocking')
			ORDER BY r.id LIMIT ?`), extractID, after, validationRunID, page)
		if err != nil {
			return apperr.Internal(err)
		}
		n := 0
		for rows.Next() {
			var c candidate
			var profile string
			if err := rows.Scan(&c.RecordID, &c.SourceKey, &profile, &c.Attributes, &c.Edits); err != nil {
				rows.Close()
				return apperr.Internal(err)
			}
			n++
			after = c.RecordID
			if err := json.Unmarshal([]byte(profile), &c.Profile); err != nil {
				continue // not written by validation: never loaded blind
			}
			c.Login = c.Profile["login"]
			if c.Login == "" {
				continue
			}
			fn(c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return apperr.Internal(err)
		}
		if n < page {
			return nil
		}
	}
}

// failedRecords are the records whose users failed in a run of the project.
func (s *Service) failedRecords(ctx context.Context, projectID, runID int64) (map[int64]bool, error) {
	r, err := s.FindRun(ctx, projectID, runID)
	if err != nil {
		return nil, err
	}
	if r.Kind == KindRollback {
		return nil, apperr.Invalid("Choose a load or a test batch, not a rollback.", map[string]string{"failed_of_run": "Choose a load or a test batch."})
	}
	var ids []int64
	if err := s.db.Read.WithContext(ctx).Model(&Item{}).Where("run_id = ? AND state = ? AND record_id IS NOT NULL", runID, StateFailed).
		Pluck("record_id", &ids).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// loadedRecords maps each record whose user Ferry created in the org (and
// no rollback removed) to the run that created it.
func (s *Service) loadedRecords(ctx context.Context, projectID int64, orgURL string) (map[int64]int64, error) {
	rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT record_id, run_id FROM okta_users
		WHERE project_id = ? AND org_url = ? AND removed_at IS NULL AND record_id IS NOT NULL`), projectID, orgURL)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var rec, run int64
		if err := rows.Scan(&rec, &run); err != nil {
			return nil, apperr.Internal(err)
		}
		out[rec] = run
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// sample picks a test batch of n candidates not loaded yet, by priority.
func sample(cands []candidate, n int, priority string, kindOf map[int64]sourceFacts) []candidate {
	fresh := make([]candidate, 0, len(cands))
	for _, c := range cands {
		if c.LoadedBy == 0 {
			fresh = append(fresh, c)
		}
	}
	if n >= len(fresh) {
		return fresh
	}
	score := func(c candidate) int { return 0 }
	switch priority {
	case PriorityTailEnd:
		score = tailEndScore
	case PriorityExternal:
		score = func(c candidate) int { return kindOf[c.SourceID].external }
	case PriorityRevenue:
		score = func(c candidate) int { return kindOf[c.SourceID].revenue }
	case PriorityRegulate:
		score = regulatedScore
	default: // spread: every k-th record, so that every source and the whole file are sampled
		out := make([]candidate, 0, n)
		step := float64(len(fresh)) / float64(n)
		for i := range n {
			out = append(out, fresh[int(float64(i)*step)])
		}
		return out
	}
	scored := make([]int, len(fresh))
	for i, c := range fresh {
		scored[i] = score(c)
	}
	idx := make([]int, len(fresh))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scored[b], scored[a]) })
	out := make([]candidate, 0, n)
	for _, i := range idx[:n] {
		out = append(out, fresh[i])
	}
	slices.SortFunc(out, func(a, b candidate) int { return cmp.Compare(a.RecordID, b.RecordID) })
	return out
}

// sourceFacts ranks a source for the external and revenue priorities.
type sourceFacts struct{ external, revenue int }

// tailEndScore ranks unusual records first: non-ASCII text, long values,
// missing attributes.
func tailEndScore(c candidate) int {
	score := 0
	longest := 0
	for _, v := range c.Profile {
		if v == "" {
			score += 5
			continue
		}
		for _, r := range v {
			if r >= utf8.RuneSelf {
				score += 10
				break
			}
		}
		longest = max(longest, utf8.RuneCountInString(v))
	}
	return score + longest
}

// regulatedAttributes are the base attributes that carry regulated
// personal data (contact details, postal addresses, identifiers).
var regulatedAttributes = []string{"mobilePhone", "primaryPhone", "streetAddress", "postalAddress", "zipCode", "city",
	"state", "employeeNumber", "secondEmail", "countryCode", "manager", "managerId"}

func regulatedScore(c candidate) int {
	n := 0
	for _, a := range regulatedAttributes {
		if c.Profile[a] != "" {
			n++
		}
	}
	return n
}

// factsOfSources ranks sources by the kinds of their user types and the
// applications those user types use.
func factsOfSources(sources []plan.Source, types []plan.UserType, appsPerType map[int64]int) map[int64]sourceFacts {
	kind := map[int64]string{}
	for _, t := range types {
		kind[t.ID] = t.Kind
	}
	out := map[int64]sourceFacts{}
	for _, src := range sources {
		var f sourceFacts
		for _, id := range src.UserTypeIDs {
			switch kind[id] {
			case "customer":
				f.external += 3
				f.revenue += 10
			case "partner":
				f.external += 3
				f.revenue += 3
			case "contractor":
				f.external += 2
			}
			f.revenue += appsPerType[id]
		}
		out[src.ID] = f
	}
	return out
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func jsonString(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}
