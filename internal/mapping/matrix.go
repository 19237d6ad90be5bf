package mapping

import (
	"context"
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"

	"github.com/ferry-migrate/ferry/internal/mapping/transform"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// Severity of a problem: blocking problems keep the matrix from being complete.
const (
	SeverityBlocking = "blocking"
	SeverityWarning  = "warning"
)

// Problem codes, one per check.
const (
	ProblemRequiredUnmapped = "required_unmapped"
	ProblemFieldUndecided   = "field_undecided"
	ProblemLengthExceeds    = "length_exceeds"
	ProblemTypeIncompatible = "type_incompatible"
	ProblemUniqueNotKnown   = "unique_not_known"
	ProblemNoSourceOfTruth  = "no_source_of_truth"
	ProblemUndefinedTarget  = "undefined_target"
	ProblemLoginNotEmail    = "login_not_email"
	ProblemMultiIntoSingle  = "multi_into_single"
	ProblemTransformInvalid = "transform_invalid"
	ProblemPIIUndecided     = "pii_undecided"
)

// Problem is one finding of the matrix checks. RowID/FieldID point at the
// row or field it concerns (0 for project-wide findings such as a required
// attribute nobody maps).
type Problem struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	RowID    int64  `json:"rowId,omitempty"`
	FieldID  int64  `json:"fieldId,omitempty"`
	Target   string `json:"target,omitempty"`
}

// MatrixLine is one line of the matrix as shown: a row with its field, or a
// field that has no row yet (Row is nil).
type MatrixLine struct {
	Row        *Row
	Field      SourceField
	SourceName string
	Target     *schema.Attribute
	Summary    string // the transformation in words
	// Preview is the transformation applied to the samples; it is computed
	// for the login row only (the check that logins are emails needs it).
	Preview  []transform.PreviewRow
	Problems []Problem
}

// Matrix is the whole matrix of a project with the findings of every check.
type Matrix struct {
	Lines []MatrixLine
	// AllFields, AllRows and SourceNames are what the matrix was built from.
	AllFields   []SourceField
	AllRows     []Row
	SourceNames map[int64]string
	Problems    []Problem // every finding, project-wide ones included
	Attributes  []schema.Attribute
	Settings    schema.Settings
	Fields      int
	Mapped      int
	Ignored     int
	Undecided   int
	Blocking    int
	Warnings    int
}

// Complete reports whether every field is decided and no blocking problem is left.
func (m *Matrix) Complete() bool { return m.Fields > 0 && m.Undecided == 0 && m.Blocking == 0 }

// LoadMatrix builds the matrix of a project and runs every check.
func (s *Service) LoadMatrix(ctx context.Context, projectID int64) (*Matrix, error) {
	fields, err := s.FindFields(ctx, projectID, 0)
	if err != nil {
		return nil, err
	}
	rows, err := s.FindRows(ctx, projectID)
	if err != nil {
		return nil, err
	}
	attrs, err := s.schema.Attributes(ctx, projectID)
	if err != nil {
		return nil, err
	}
	settings, err := s.schema.FindSettings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	names, err := s.sources.SourceNames(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return BuildMatrix(fields, rows, attrs, *settings, names), nil
}

// BuildMatrix assembles the matrix from its parts and runs the checks. It
// is pure, so that every check can be tested without a database.
func BuildMatrix(fields []SourceField, rows []Row, attrs []schema.Attribute, settings schema.Settings, sourceNames map[int64]string) *Matrix {
	m := &Matrix{Attributes: attrs, Settings: settings, Fields: len(fields), AllFields: fields, AllRows: rows, SourceNames: sourceNames}
	byField := map[int64][]*Row{}
	for i := range rows {
		byField[rows[i].SourceFieldID] = append(byField[rows[i].SourceFieldID], &rows[i])
	}
	// Sort a copy (the caller's slice stays as it is) before taking pointers
	// into it: pointers taken before sorting would point at other fields.
	fields = slices.Clone(fields)
	sort.SliceStable(fields, func(i, j int) bool {
		a, b := sourceNames[fields[i].SourceID], sourceNames[fields[j].SourceID]
		if a != b {
			return strings.ToLower(a) < strings.ToLower(b)
		}
		return fields[i].NameKey < fields[j].NameKey
	})
	bySource := map[int64][]*SourceField{}
	for i := range fields {
		bySource[fields[i].SourceID] = append(bySource[fields[i].SourceID], &fields[i])
	}
	intoTarget := map[string][]*Row{}
	pipelines := pipelineCache{}
	// Sample records are built once per source: every row of the source previews on them.
	samplesBySource := map[int64][]transform.Record{}
	fieldNamesBySource := map[int64][]string{}
	for id, fs := range bySource {
		samplesBySource[id] = sampleRecords(fs)
		fieldNamesBySource[id] = fieldNames(fs)
	}
	for i := range fields {
		f := fields[i]
		fieldRows := byField[f.ID]
		if len(fieldRows) == 0 {
			m.Undecided++
			line := MatrixLine{Field: f, SourceName: sourceNames[f.SourceID]}
			line.Problems = append(line.Problems, Problem{Code: ProblemFieldUndecided, Severity: SeverityWarning, FieldID: f.ID,
				Message: "Not decided: map this field to an Okta attribute, or mark it as not migrated."})
			m.Lines = append(m.Lines, line)
			continue
		}
		samples := samplesBySource[f.SourceID]
		for _, r := range fieldRows {
			line := MatrixLine{Row: r, Field: f, SourceName: sourceNames[f.SourceID]}
			if r.Status == StatusIgnored {
				m.Ignored++
				m.Lines = append(m.Lines, line)
				continue
			}
			m.Mapped++
			line.Target = findAttribute(attrs, r.TargetAttribute)
			intoTarget[r.TargetAttribute] = append(intoTarget[r.TargetAttribute], r)
			pc := pipelines.get(r.Transform, f.SourceID, fieldNamesBySource[f.SourceID])
			p, perr := pc.pipeline, pc.err
			if perr != nil {
				line.Problems = append(line.Problems, Problem{Code: ProblemTransformInvalid, Severity: SeverityBlocking,
					Message: "The transformation is no longer valid: " + perr.Error()})
			} else {
				line.Summary = pc.summary
				// Only the login check needs the preview here; the row's own page
				// previews on demand, which keeps a 2,000-row matrix fast.
				if len(samples) > 0 && r.TargetAttribute == "login" {
					line.Preview = transform.Preview(p, samples, f.Name)
				}
			}
			line.Problems = append(line.Problems, checkLine(&line, settings)...)
			m.Lines = append(m.Lines, line)
		}
	}
	// Checks across rows: required attributes and sources of truth.
	for _, a := range attrs {
		if a.Required && len(intoTarget[a.Name]) == 0 {
			m.Problems = append(m.Problems, Problem{Code: ProblemRequiredUnmapped, Severity: SeverityBlocking, Target: a.Name,
				Message: fmt.Sprintf("Okta requires %s, and no field maps to it.", a.Name)})
		}
	}
	for i := range m.Lines {
		line := &m.Lines[i]
		if line.Row == nil || line.Row.Status != StatusMapped {
			continue
		}
		feeding := intoTarget[line.Row.TargetAttribute]
		if len(feeding) > 1 && !singleSourceOfTruth(feeding) {
			line.Problems = append(line.Problems, Problem{Code: ProblemNoSourceOfTruth, Severity: SeverityBlocking,
				Message: fmt.Sprintf("%d fields feed %s: give exactly one of them priority 1 (the source of truth) and the others distinct priorities.", len(feeding), line.Row.TargetAttribute)})
		}
	}
	for i := range m.Lines {
		for j := range m.Lines[i].Problems {
			p := &m.Lines[i].Problems[j]
			p.FieldID = m.Lines[i].Field.ID
			if m.Lines[i].Row != nil {
				p.RowID = m.Lines[i].Row.ID
				p.Target = m.Lines[i].Row.TargetAttribute
			}
		}
		m.Problems = append(m.Problems, m.Lines[i].Problems...)
	}
	for _, p := range m.Problems {
		if p.Severity == SeverityBlocking {
			m.Blocking++
		} else {
			m.Warnings++
		}
	}
	return m
}

func singleSourceOfTruth(rows []*Row) bool {
	seen := map[int]bool{}
	first := 0
	for _, r := range rows {
		if seen[r.Priority] {
			return false
		}
		seen[r.Priority] = true
		if r.Priority == 1 {
			first++
		}
	}
	return first == 1
}

func fieldNames(fields []*SourceField) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	return out
}

// sampleRecords lines up the sample values of a source's fields by position,
// so that a transformation reading several fields can be previewed.
func sampleRecords(fields []*SourceField) []transform.Record {
	n := 0
	for _, f := range fields {
		n = max(n, len(f.Samples))
	}
	out := make([]transform.Record, n)
	for i := range n {
		rec := transform.MapRecord{}
		for _, f := range fields {
			if i < len(f.Samples) {
				rec[f.Name] = f.Samples[i]
			}
		}
		out[i] = rec
	}
	return out
}

// checkLine runs the checks that concern one mapped row.
func checkLine(line *MatrixLine, settings schema.Settings) []Problem {
	var out []Problem
	f, r, t := line.Field, line.Row, line.Target
	if t == nil {
		return append(out, Problem{Code: ProblemUndefinedTarget, Severity: SeverityBlocking,
			Message: fmt.Sprintf("%s is not defined in this project's Okta profile: add it as a custom attribute or choose another.", r.TargetAttribute)})
	}
	hasTransform := r.Transform != ""
	if t.MaxLength != nil && f.MaxLength != nil && *f.MaxLength > *t.MaxLength {
		out = append(out, Problem{Code: ProblemLengthExceeds, Severity: SeverityWarning,
			Message: fmt.Sprintf("%s can hold %d characters; Okta's %s takes at most %d. Longer values will be refused.", f.Name, *f.MaxLength, t.Name, *t.MaxLength)})
	}
	if msg, blocking := typeMismatch(f, t, hasTransform); msg != "" {
		sev := SeverityWarning
		if blocking {
			sev = SeverityBlocking
		}
		out = append(out, Problem{Code: ProblemTypeIncompatible, Severity: sev, Message: msg})
	}
	if f.MultiValued && t.Type != "array" {
		out = append(out, Problem{Code: ProblemMultiIntoSingle, Severity: SeverityWarning,
			Message: fmt.Sprintf("%s holds several values; %s holds one. Join them with a transformation or only the first is kept.", f.Name, t.Name)})
	}
	if t.Unique && !f.KnownUnique {
		out = append(out, Problem{Code: ProblemUniqueNotKnown, Severity: SeverityWarning,
			Message: fmt.Sprintf("%s must be unique in Okta, and %s is not known to be unique at the source: confirm it, or expect duplicates to fail.", t.Name, f.Name)})
	}
	if t.Name == "login" && settings.LoginPattern == "" {
		if msg := loginNotEmail(line); msg != "" {
			out = append(out, Problem{Code: ProblemLoginNotEmail, Severity: SeverityBlocking, Message: msg})
		}
	}
	return out
}

// typeMismatch says why a source type does not fit a target type, and
// whether that blocks (a transformation may make it fit: then it warns).
func typeMismatch(f SourceField, t *schema.Attribute, hasTransform bool) (string, bool) {
	ok := true
	switch t.Type {
	case "string":
		ok = f.DataType != "binary"
	case "integer":
		ok = f.DataType == "integer"
	case "number":
		ok = f.DataType == "integer" || f.DataType == "number"
	case "boolean":
		ok = f.DataType == "boolean"
	case "array":
		ok = f.DataType != "binary"
	}
	if ok {
		return "", false
	}
	msg := fmt.Sprintf("%s is %s; Okta's %s is %s.", f.Name, strings.ToLower(LabelOf(DataTypes(), f.DataType)), t.Name, t.Type)
	if hasTransform {
		return msg + " Check that the transformation yields valid values.", false
	}
	return msg + " Add a transformation or map another field.", true
}

// loginNotEmail explains why a login would not be an email address, or "".
func loginNotEmail(line *MatrixLine) string {
	if len(line.Preview) == 0 {
		n := normalise(line.Field.Name)
		if strings.Contains(n, "mail") || n == "userprincipalname" || n == "upn" || line.Row.Transform != "" {
			return ""
		}
		return fmt.Sprintf("Okta logins must be email addresses unless the org sets a login pattern, and %s does not look like one. Add sample values, a transformation, or a login pattern.", line.Field.Name)
	}
	for _, p := range line.Preview {
		// An empty output is a sample this field lacks (samples line up by
		// position across the source's fields), not a login that is no address.
		if p.Err != "" || p.Output == "" {
			continue
		}
		if addr, err := mail.ParseAddress(p.Output); err != nil || addr.Address != p.Output {
			return fmt.Sprintf("Okta logins must be email addresses unless the org sets a login pattern; the sample %q becomes %q.", truncate(p.Input, 60), truncate(p.Output, 60))
		}
	}
	return ""
}

// pipelineCache parses, validates and describes each distinct transformation
// once per source: big matrices repeat the same few definitions.
type pipelineCache map[string]parsedPipeline

type parsedPipeline struct {
	pipeline transform.Pipeline
	summary  string
	err      error
}

func (c pipelineCache) get(def string, sourceID int64, fields []string) parsedPipeline {
	key := fmt.Sprintf("%d\x00%s", sourceID, def)
	if pc, ok := c[key]; ok {
		return pc
	}
	var pc parsedPipeline
	if def != "" {
		pc.pipeline, pc.err = transform.Parse([]byte(def))
		if pc.err == nil {
			pc.err = pc.pipeline.Validate(fields)
		}
		if pc.err == nil {
			pc.summary = pc.pipeline.Describe()
		}
	}
	c[key] = pc
	return pc
}
