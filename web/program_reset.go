package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/templates"
)

// StragglerResets plans and starts the stragglers' password reset
// (load.Service).
type StragglerResets interface {
	PlanStragglerReset(ctx context.Context, projectID int64, in load.NewStragglerReset) (*load.StragglerResetPlan, error)
	StartStragglerReset(ctx context.Context, projectID int64, in load.NewStragglerReset) (*load.Run, *load.StragglerResetPlan, error)
}

func (s *Server) stragglerResets() (StragglerResets, error) {
	r, ok := s.loads.(StragglerResets)
	if !ok {
		return nil, apperr.NotFound("stragglers' reset")
	}
	return r, nil
}

func resetFormDefaults() templates.Form {
	f := paceDefaults()
	f.Values["send_email"] = "true"
	return f
}

func (s *Server) resetStragglersPlan(c echo.Context) error {
	return s.renderResetPlan(c, http.StatusOK, resetFormDefaults(), nil)
}

// renderResetPlan plans the reset (plan given: the one a refused start
// returned) and shows it with the form.
func (s *Server) renderResetPlan(c echo.Context, status int, form templates.Form, p *load.StragglerResetPlan) error {
	resets, err := s.stragglerResets()
	if err != nil {
		return err
	}
	if p == nil {
		send := form.V("send_email") == "true"
		p, err = resets.PlanStragglerReset(c.Request().Context(), project(c).ID, load.NewStragglerReset{SendEmail: &send})
		if p, err = planOrRefusal(&form, p, err); err != nil {
			return err
		}
	}
	return s.render(c, status, templates.StragglerResetPage(s.chrome(c, "Reset the stragglers' passwords", "program"),
		templates.StragglerResetView{Plan: p, Form: form}))
}

// startStragglerReset starts the run, after the project's name was typed:
// it sends every straggler a password reset, which cannot be taken back.
func (s *Server) startStragglerReset(c echo.Context) error {
	resets, err := s.stragglerResets()
	if err != nil {
		return err
	}
	p := project(c)
	f := newFormReader(c)
	inFlight, share := readPace(f)
	window := readWindow(f)
	send := *f.bool("send_email")
	if strings.TrimSpace(*f.text("confirm_name")) != p.Name {
		f.check.Add("confirm_name", "Type the project's name exactly to send the resets.")
	}
	if err := f.parseErr(); err != nil {
		return s.renderResetPlan(c, http.StatusUnprocessableEntity, *f.failed(err), nil)
	}
	run, plan, err := resets.StartStragglerReset(c.Request().Context(), p.ID, load.NewStragglerReset{SendEmail: &send,
		MaxInFlight: inFlight, RateShare: share, Window: window})
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderResetPlan(c, statusForForm(err), *form, plan)
	}
	return s.startedCutover(c, run, "its progress is shown below.")
}

// confirmImports starts the read-back of the hook users Okta has not
// confirmed yet, as a background job the program page follows: paced at a
// quarter of the rate limit, it takes minutes for thousands of users.
func (s *Server) confirmImports(c echo.Context) error {
	p := project(c)
	back := projectURL(p, "/program#confirm-job")
	j, err := s.jobs.ConfirmImports(c.Request().Context(), p.ID)
	if err != nil {
		if ae := apperr.As(err); ae.Code == apperr.CodeInvalid || ae.Code == apperr.CodeConflict {
			s.setFlash(c, "error", ae.Message)
			return c.Redirect(http.StatusSeeOther, back)
		}
		return err
	}
	return s.redirectWithFlash(c, back, fmt.Sprintf("Checking with Okta which passwords it holds (job %d): this page shows how far it has come.", j.ID))
}
