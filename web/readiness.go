package web

import (
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// Sections beyond the inventory's, for readiness items and navigation marks.
const (
	sectionMatrix  = "matrix"
	sectionPrivacy = "privacy"
	sectionData    = "data"
	// refQuality points a readiness item at the quality page.
	refQuality = "quality"
)

// projectState is everything the readiness checklist and the navigation
// marks are computed from, loaded once per request.
type projectState struct {
	inv       *plan.Inventory
	matrix    *mapping.Matrix
	register  *privacy.Register
	readiness plan.Readiness
	started   map[string]bool
	// extracts are the current extracts, one per source at most; runs the
	// newest validation runs (newest first, at most two: for the trend).
	extracts []staging.Extract
	runs     []quality.Run
	// stale says why the newest run is out of date, or is empty.
	stale string
}

const ctxProjectState = "ferry.projectState"

// loadProjectState computes the readiness of the current project, including
// the matrix and the legal review, at most once per request.
func (s *Server) loadProjectState(c echo.Context) (*projectState, error) {
	if st, ok := c.Get(ctxProjectState).(*projectState); ok {
		return st, nil
	}
	ctx := c.Request().Context()
	p := project(c)
	inv, err := s.plan.FindInventory(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	m, err := s.mapping.LoadMatrix(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	reg, err := s.privacy.RegisterOf(ctx, p.ID, m.AllFields, m.AllRows, m.SourceNames)
	if err != nil {
		return nil, err
	}
	extracts, err := s.staging.CurrentExtracts(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	runs, err := s.quality.LatestRuns(ctx, p.ID, 2)
	if err != nil {
		return nil, err
	}
	st := &projectState{inv: inv, matrix: m, register: reg, readiness: inv.Readiness(), started: inv.Started(), extracts: extracts, runs: runs}
	if len(runs) > 0 {
		dropped, err := s.privacy.DroppedFields(ctx, p.ID)
		if err != nil {
			return nil, err
		}
		digest, err := s.quality.DigestOf(ctx, p.ID, m, dropped)
		if err != nil {
			return nil, err
		}
		st.stale = staleReason(extracts, runs[0], digest)
	}
	st.started[sectionMatrix] = m.Fields > 0
	st.started[sectionPrivacy] = len(reg.Entries) > 0 || reg.SignOff != nil
	st.started[sectionData] = len(extracts) > 0 || len(runs) > 0
	dataMissing := dataReadiness(extracts, runs, st.stale)
	st.readiness.Add(
		plan.ReadinessItem{Section: sectionMatrix, Label: "Attribute mapping complete: every source field mapped or deliberately left out, no blocking problem",
			Done: m.Complete(), Missing: missingUnless(m.Complete(), plan.Ref{Kind: sectionMatrix, Label: "Open the matrix's problems"})},
		plan.ReadinessItem{Section: sectionPrivacy, Label: "PII register signed off by a legal reviewer",
			Done: reg.SignedOff, Missing: missingUnless(reg.SignedOff, plan.Ref{Kind: sectionPrivacy, Label: "Open the PII register"})},
		plan.ReadinessItem{Section: sectionData, Label: "Data staged and validated, no blocking issue open",
			Done: len(dataMissing) == 0, Missing: dataMissing},
	)
	c.Set(ctxProjectState, st)
	return st, nil
}

func missingUnless(done bool, ref plan.Ref) []plan.Ref {
	if done {
		return nil
	}
	return []plan.Ref{ref}
}

// dataReadiness says what keeps the staged data from being ready: an extract
// for at least one source, a current validation run (see staleReason), and
// no invalid record in it.
func dataReadiness(extracts []staging.Extract, runs []quality.Run, stale string) []plan.Ref {
	if len(extracts) == 0 {
		return []plan.Ref{{Kind: sectionData, Label: "Stage an extract of a source"}}
	}
	if len(runs) == 0 {
		return []plan.Ref{{Kind: sectionData, Label: "Validate the staged data"}}
	}
	run := runs[0]
	if stale != "" {
		return []plan.Ref{{Kind: sectionData, Label: "Validate again: " + stale}}
	}
	switch {
	case run.Records == 0:
		return []plan.Ref{{Kind: sectionData, Label: "Stage an extract with records"}}
	case run.Invalid > 0:
		return []plan.Ref{{Kind: refQuality, Label: fmt.Sprintf("Fix or exclude the %s invalid record(s)", plan.Thousands(run.Invalid))}}
	}
	return nil
}

// marks is the navigation's status mark of each section.
func (st *projectState) marks() map[string]string {
	out := map[string]string{}
	for _, sec := range []string{plan.SectionPeople, plan.SectionSources, plan.SectionApplications, plan.SectionGoals, sectionMatrix, sectionPrivacy, sectionData} {
		out[sec] = st.readiness.SectionStatus(sec, st.started[sec])
	}
	return out
}

// staleReason says why run no longer describes the staged data (an extract
// staged after it, or a matrix whose digest differs from the run's), or "".
func staleReason(extracts []staging.Extract, run quality.Run, digest string) string {
	for _, ex := range extracts {
		if ex.FinishedAt == nil || run.StartedAt.Before(*ex.FinishedAt) {
			return "an extract was staged after the last validation"
		}
	}
	if run.MatrixDigest != digest {
		return "the matrix, the profile rules or the password settings changed since the last validation"
	}
	return ""
}
