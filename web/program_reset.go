package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/hook"
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

// ImportConfirmer reads hook users back from Okta and counts those whose
// provider turned OKTA as migrated (hook.Service).
type ImportConfirmer interface {
	ConfirmWithOkta(ctx context.Context, projectID int64, limit int) (hook.ConfirmResult, error)
}

// confirmBatch is how many users one click reads back: paced reads at a
// quarter of the rate limit keep a person waiting well under a minute.
// The CLI (ferry confirm-imports) reads them all.
const confirmBatch = 100

// confirmImports reads back up to confirmBatch unconfirmed hook users.
func (s *Server) confirmImports(c echo.Context) error {
	p := project(c)
	back := projectURL(p, "/program")
	confirmer, ok := s.hookAdmin.(ImportConfirmer)
	if !ok {
		return apperr.NotFound("password import hook")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Minute)
	defer cancel()
	res, err := confirmer.ConfirmWithOkta(ctx, p.ID, confirmBatch)
	if err != nil {
		if ae := apperr.As(err); ae.Code == apperr.CodeInvalid || ae.Code == apperr.CodeConflict {
			s.setFlash(c, "error", ae.Message)
			return c.Redirect(http.StatusSeeOther, back)
		}
		if ctx.Err() == nil {
			return err
		}
	}
	msg := fmt.Sprintf("Read %d user(s) back from Okta: %d confirmed migrated, %d still waiting, %d no longer in Okta, %d could not be read.",
		res.Checked, res.Confirmed, res.Pending, res.Gone, res.Failed)
	if res.Checked == confirmBatch {
		msg += " More may wait: check again, or run ferry confirm-imports for all of them."
	}
	return s.redirectWithFlash(c, back, msg)
}
