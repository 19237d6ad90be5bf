package web

import (
	"fmt"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// Staged records as the console's record pages and the JSON API both show
// and change them: who sees personal data masked, and what a typed value does.

// newRecordMasker returns the masker of a source's records for the current
// viewer, without auditing: see auditUnmasked.
func (s *Server) newRecordMasker(c echo.Context, sourceID int64) (recordMasker, error) {
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
	return mk, nil
}

// auditUnmasked records that the current viewer is shown the source's
// personal data unmasked, when mk shows it: every access to unmasked
// personal data is audited (DESIGN).
func (s *Server) auditUnmasked(c echo.Context, sourceID int64, mk recordMasker) error {
	if !mk.show || len(mk.pii) == 0 {
		return nil
	}
	return s.staging.RecordPIIView(c.Request().Context(), project(c).ID, sourceID, c.Request().URL.Path)
}

// planRecordEdits turns the values typed for a record's attributes (by
// attribute name; the fix form and PATCH /records/{id} both send them) into
// the edits EditRecord saves: a value that differs from what the record holds
// now becomes Ferry's edit; an emptied value, or the source's value typed
// back, drops the edit. problems holds a message per attribute that cannot
// be changed so: one the record does not have, one the viewer sees masked,
// or a value emptied that Ferry never set.
func planRecordEdits(rec *staging.StagedRecord, ex *staging.Extract, mk recordMasker, typed map[string]string) (edits, problems map[string]string) {
	edits, problems = map[string]string{}, map[string]string{}
	fields := map[string]bool{}
	for _, name := range recordFields(rec, ex) {
		fields[name] = true
	}
	eff := rec.Effective()
	names := make([]string, 0, len(typed))
	for name := range typed {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !fields[name] {
			problems[name] = fmt.Sprintf("The record has no attribute %q: its attributes are the extract's columns.", name)
			continue
		}
		if mk.masks(name) {
			problems[name] = "Personal data: your role sees it masked and cannot change it."
			continue
		}
		v := strings.TrimSpace(typed[name])
		current := strings.Join(eff[name], "; ")
		_, edited := rec.Edits[name]
		switch {
		case v == current:
		case edited && (v == "" || v == strings.Join(rec.Attributes[name], "; ")):
			edits[name] = "" // back to the source's value
		case v == "":
			problems[name] = "A value cannot be emptied in Ferry; fix it at the source, or exclude the record."
		default:
			edits[name] = v
		}
	}
	return edits, problems
}

// values masks each of a column's values for a viewer who does not see it.
func (mk recordMasker) values(column string, vals []string) []string {
	out := make([]string, len(vals))
	masks, secret := mk.masks(column), staging.IsCredentialAttribute(column)
	for i, v := range vals {
		switch {
		case secret && v != "":
			v = hiddenCredential
		case masks:
			v = mapping.MaskValue(v)
		}
		out[i] = v
	}
	return out
}
