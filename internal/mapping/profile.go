package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"

	"github.com/ferry-migrate/ferry/internal/mapping/transform"
)

// Profiler computes the Okta profile of a staged record through the matrix:
// for each target attribute, the rows of the record's source that feed it, in
// priority order; the first non-empty value wins.
type Profiler struct {
	bySource map[int64][]compiledRow
}

type compiledRow struct {
	target   string
	field    string
	priority int
	program  *transform.Program // nil: copy the value
	// definition is the transformation as written, for the digest.
	definition string
}

// TransformError is a value a transformation could not produce.
type TransformError struct {
	Target  string
	Field   string
	Message string
}

// Profiler prepares the matrix for computing profiles. Rows of dropped
// fields (a legal "do not migrate" decision) and rows with an invalid
// transformation feed nothing.
func (m *Matrix) Profiler(dropped map[int64]bool) *Profiler {
	p := &Profiler{bySource: map[int64][]compiledRow{}}
	for _, l := range m.Lines {
		if l.Row == nil || l.Row.Status != StatusMapped || dropped[l.Field.ID] || l.Target == nil {
			continue
		}
		cr := compiledRow{target: l.Row.TargetAttribute, field: l.Field.Name, priority: l.Row.Priority, definition: l.Row.Transform}
		if l.Row.Transform != "" {
			pipeline, err := transform.Parse([]byte(l.Row.Transform))
			if err != nil {
				continue
			}
			prog, err := pipeline.Compile()
			if err != nil {
				continue
			}
			cr.program = prog
		}
		p.bySource[l.Field.SourceID] = append(p.bySource[l.Field.SourceID], cr)
	}
	for id := range p.bySource {
		rows := p.bySource[id]
		sort.SliceStable(rows, func(i, j int) bool {
			if rows[i].target != rows[j].target {
				return rows[i].target < rows[j].target
			}
			return rows[i].priority < rows[j].priority
		})
	}
	return p
}

// Digest fingerprints what the profiles depend on: every row that feeds a
// profile, with its transformation. Two profilers with the same digest
// compute the same profiles, so a stored profile with another digest is stale.
func (p *Profiler) Digest() string {
	h := sha256.New()
	sources := make([]int64, 0, len(p.bySource))
	for id := range p.bySource {
		sources = append(sources, id)
	}
	slices.Sort(sources)
	for _, id := range sources {
		for _, r := range p.bySource[id] {
			fmt.Fprintf(h, "%d\x00%q\x00%q\x00%d\x00%q\n", id, r.target, r.field, r.priority, r.definition)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// Targets lists the attributes a source's records get values for.
func (p *Profiler) Targets(sourceID int64) []string {
	var out []string
	for _, r := range p.bySource[sourceID] {
		if len(out) == 0 || out[len(out)-1] != r.target {
			out = append(out, r.target)
		}
	}
	return out
}

// Profile computes one record's profile.
func (p *Profiler) Profile(sourceID int64, rec transform.Record) (map[string]string, []TransformError) {
	return p.ProfileInto(map[string]string{}, sourceID, rec)
}

// ProfileInto computes one record's profile into out, which it clears
// first: a loop over millions of records reuses one map.
func (p *Profiler) ProfileInto(out map[string]string, sourceID int64, rec transform.Record) (map[string]string, []TransformError) {
	clear(out)
	var errs []TransformError
	for _, r := range p.bySource[sourceID] {
		if v, done := out[r.target]; done && v != "" {
			continue // a higher-priority row already gave a value
		}
		var v string
		if r.program == nil {
			v, _ = rec.Get(r.field)
		} else {
			var err error
			v, err = r.program.Apply(rec, r.field)
			if err != nil {
				errs = append(errs, TransformError{Target: r.target, Field: r.field, Message: err.Error()})
				continue
			}
		}
		out[r.target] = v
	}
	return out, errs
}
