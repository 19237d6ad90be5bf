package web

import (
	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
)

// Sections beyond the inventory's, for readiness items and navigation marks.
const (
	sectionMatrix  = "matrix"
	sectionPrivacy = "privacy"
)

// projectState is everything the readiness checklist and the navigation
// marks are computed from, loaded once per request.
type projectState struct {
	inv       *plan.Inventory
	matrix    *mapping.Matrix
	register  *privacy.Register
	readiness plan.Readiness
	started   map[string]bool
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
	st := &projectState{inv: inv, matrix: m, register: reg, readiness: inv.Readiness(), started: inv.Started()}
	st.started[sectionMatrix] = m.Fields > 0
	st.started[sectionPrivacy] = len(reg.Entries) > 0 || reg.SignOff != nil
	st.readiness.Add(
		plan.ReadinessItem{Section: sectionMatrix, Label: "Attribute mapping complete: every source field mapped or deliberately left out, no blocking problem",
			Done: m.Complete(), Missing: missingUnless(m.Complete(), plan.Ref{Kind: sectionMatrix, Label: "Open the matrix's problems"})},
		plan.ReadinessItem{Section: sectionPrivacy, Label: "PII register signed off by a legal reviewer",
			Done: reg.SignedOff, Missing: missingUnless(reg.SignedOff, plan.Ref{Kind: sectionPrivacy, Label: "Open the PII register"})},
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

// marks is the navigation's status mark of each section.
func (st *projectState) marks() map[string]string {
	out := map[string]string{}
	for _, sec := range []string{plan.SectionPeople, plan.SectionSources, plan.SectionApplications, plan.SectionGoals, sectionMatrix, sectionPrivacy} {
		out[sec] = st.readiness.SectionStatus(sec, st.started[sec])
	}
	return out
}
