package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/templates"
)

func goalsForm(g *plan.Goals) templates.Form {
	form := templates.NewForm()
	for _, q := range plan.GoalQuestions() {
		form.Values[q.Field] = g.Answer(q.Field)
	}
	form.Values["approach"] = g.Approach
	form.Values["rationale"] = g.Rationale
	form.Values["version"] = strconv.FormatInt(g.Version, 10)
	return form
}

func (s *Server) renderGoals(c echo.Context, status int, form templates.Form) error {
	return s.render(c, status, templates.GoalsPage(s.chrome(c, "Goals and strategy", "goals"),
		templates.GoalsView{Form: form, CanEdit: can(c, auth.PermPlanEdit)}))
}

func (s *Server) goalsPage(c echo.Context) error {
	g, err := s.plan.FindGoals(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return s.renderGoals(c, http.StatusOK, goalsForm(g))
}

func (s *Server) updateGoals(c echo.Context) error {
	p := project(c)
	f := newFormReader(c)
	in := plan.GoalsInput{
		UserExperience: f.text("user_experience"), AcceptableImpact: f.text("acceptable_impact"),
		ArchiveLegacyData: f.text("archive_legacy_data"), PoliciesAndStandards: f.text("policies_and_standards"),
		OneShotAcceptable: f.text("one_shot_acceptable"), StagesPreferred: f.text("stages_preferred"),
		Approach: f.text("approach"), Rationale: f.text("rationale"),
	}
	if _, err := s.plan.UpdateGoals(c.Request().Context(), p.ID, f.version(), in); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderGoals(c, statusForForm(err), *form)
	}
	return s.redirectWithFlash(c, projectURL(p, "/goals"), "Goals and strategy saved.")
}
