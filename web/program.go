package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/templates"
)

// ProgramService is what the web layer needs of the migration program
// around the password import hook (hook.Program).
type ProgramService interface {
	Now() time.Time
	Dashboard(ctx context.Context, projectID int64, now time.Time) (*hook.Dashboard, error)
	SaveProgram(ctx context.Context, projectID, version, periodDays int64) (*hook.ProgramSettings, error)
	EraseStagedHashes(ctx context.Context, projectID int64, actor audit.Actor, in hook.EraseInput) (*hook.EraseResult, error)
}

// The program page's permissions. Reading is PermProjectRead; the period is
// a setting of the engineers' work, like the load ladder (PermRun). Erasing
// the staged hashes is a decision about the sources' credentials, like
// their password settings: PermSourceEdit, held by the project lead and the
// engineers (see the routes).
const (
	permProgramEdit  = auth.PermRun
	permProgramErase = auth.PermSourceEdit
)

// StragglerLister lists the program's stragglers (load.Service): the page
// shows their count and the first of them, the CSV holds them all.
type StragglerLister interface {
	Stragglers(ctx context.Context, projectID int64, q load.StragglerQuery) (*load.StragglerPage, error)
	WriteStragglersCSV(ctx context.Context, projectID int64, q load.StragglerQuery, w io.Writer) error
}

// stragglersShown is how many stragglers the page lists.
const stragglersShown = 50

// stragglerLister is the load service's stragglers, when it has them.
func (s *Server) stragglerLister() StragglerLister {
	st, _ := s.loads.(StragglerLister)
	return st
}

func (s *Server) programAvailable() error {
	if s.program == nil {
		return apperr.NotFound("migration program")
	}
	return nil
}

func (s *Server) programPage(c echo.Context) error {
	if err := s.programAvailable(); err != nil {
		return err
	}
	return s.renderProgram(c, http.StatusOK, templates.NewForm())
}

// renderProgram renders the dashboard with the period form (form holds a
// failed save's values and messages).
func (s *Server) renderProgram(c echo.Context, status int, form templates.Form) error {
	p := project(c)
	ctx := c.Request().Context()
	// The read-back job is read before the counts it changes (see renderDataWith).
	var confirmJob *templates.JobView
	if j, err := s.newestJob(ctx, p.ID, jobs.Filter{Kinds: []string{jobs.KindConfirmImports}}); err != nil {
		return err
	} else if j != nil {
		view := s.jobView(c, *j)
		confirmJob = &view
	}
	now := s.program.Now()
	d, err := s.program.Dashboard(ctx, p.ID, now)
	if err != nil {
		return err
	}
	check := d.End
	// A fresh form shows the saved period; a failed one what was typed.
	if _, typed := form.Values["period_days"]; !typed {
		form.Values["period_days"] = strconv.FormatInt(d.Settings.PeriodDays, 10)
	}
	if _, typed := form.Values["version"]; !typed {
		form.Values["version"] = strconv.FormatInt(d.Settings.Version, 10)
	}
	stragglers, err := s.programStragglers(c, d, now)
	if err != nil {
		return err
	}
	return s.render(c, status, templates.ProgramPage(s.chrome(c, "Migration program", "program"), templates.ProgramView{
		Dashboard: d, Check: check, Form: form, CanEdit: can(c, permProgramEdit), CanErase: can(c, permProgramErase),
		Stragglers: stragglers, ShowLogins: can(c, auth.PermPIIRead), ConfirmJob: confirmJob}))
}

// programStragglers is the first page of the stragglers, or nil when the
// load service does not list them or no hook serves the project. Their
// logins are personal data: shown only with PermPIIRead, and audited.
func (s *Server) programStragglers(c echo.Context, d *hook.Dashboard, now time.Time) (*load.StragglerPage, error) {
	st := s.stragglerLister()
	if st == nil || !d.HookConfigured {
		return nil, nil
	}
	p := project(c)
	page, err := st.Stragglers(c.Request().Context(), p.ID, load.StragglerQuery{Now: now, Limit: stragglersShown})
	if apperr.Is(err, apperr.CodeInvalid) { // no Okta org connection any more
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if can(c, auth.PermPIIRead) {
		if err := s.auditStragglerSources(c, page.Items); err != nil {
			return nil, err
		}
	}
	return page, nil
}

// auditStragglerSources records that the viewer sees the logins of these
// stragglers' sources unmasked.
func (s *Server) auditStragglerSources(c echo.Context, items []load.Straggler) error {
	seen := map[int64]bool{}
	for _, it := range items {
		if it.SourceID == nil || seen[*it.SourceID] {
			continue
		}
		seen[*it.SourceID] = true
		if err := s.staging.RecordPIIView(c.Request().Context(), project(c).ID, *it.SourceID, c.Request().URL.Path); err != nil {
			return err
		}
	}
	return nil
}

// exportStragglers downloads every straggler as a CSV (logins: personal
// data, PermPIIRead, audited per source), buffered so that a failure is an
// error page rather than half a file.
func (s *Server) exportStragglers(c echo.Context) error {
	st := s.stragglerLister()
	if st == nil || s.program == nil {
		return apperr.NotFound("stragglers")
	}
	p := project(c)
	ctx := c.Request().Context()
	q := load.StragglerQuery{Now: s.program.Now(), Limit: load.MaxStragglerPage}
	for {
		page, err := st.Stragglers(ctx, p.ID, q)
		if err != nil {
			return err
		}
		if err := s.auditStragglerSources(c, page.Items); err != nil {
			return err
		}
		if page.Next == 0 {
			break
		}
		q.After = page.Next
	}
	var buf bytes.Buffer
	if err := st.WriteStragglersCSV(ctx, p.ID, load.StragglerQuery{Now: q.Now}, &buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-stragglers.csv"`, slug(p.Name)))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func (s *Server) saveProgram(c echo.Context) error {
	if err := s.programAvailable(); err != nil {
		return err
	}
	p := project(c)
	f := newFormReader(c)
	version := f.version()
	days := f.int64("period_days", "The period")
	if err := f.parseErr(); err != nil {
		return s.renderProgram(c, http.StatusUnprocessableEntity, f.form.WithError(apperr.As(err)))
	}
	if _, err := s.program.SaveProgram(c.Request().Context(), p.ID, version, *days); err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderProgram(c, statusForForm(err), *form)
	}
	return s.redirectWithFlash(c, projectURL(p, "/program"), fmt.Sprintf("The program's period is now %d days.", *days))
}

func (s *Server) eraseHashesConfirm(c echo.Context) error {
	if err := s.programAvailable(); err != nil {
		return err
	}
	return s.renderErase(c, http.StatusOK, templates.NewForm())
}

func (s *Server) renderErase(c echo.Context, status int, form templates.Form) error {
	p := project(c)
	ctx := c.Request().Context()
	now := s.program.Now()
	d, err := s.program.Dashboard(ctx, p.ID, now)
	if err != nil {
		return err
	}
	check := d.End
	return s.render(c, status, templates.ProgramErasePage(s.chrome(c, "Erase the staged hashes", "program"), templates.ProgramEraseView{
		ProjectName: p.Name, Dashboard: d, Check: check, Form: form}))
}

// eraseActor is who erases the hashes, as the erase records them: the
// signed-in account (or the API token's), else the request's actor.
func eraseActor(c echo.Context) audit.Actor {
	if a := account(c); a != nil {
		return audit.Actor{ID: a.ID, Name: a.Name}
	}
	return audit.ActorFrom(c.Request().Context())
}

func (s *Server) eraseHashes(c echo.Context) error {
	if err := s.programAvailable(); err != nil {
		return err
	}
	p := project(c)
	f := newFormReader(c)
	confirm := f.text("confirm_name")
	override := f.bool("override")
	res, err := s.program.EraseStagedHashes(c.Request().Context(), p.ID, eraseActor(c), hook.EraseInput{Confirm: *confirm, Override: *override})
	if err != nil {
		form := f.failed(err)
		if form == nil {
			return err
		}
		return s.renderErase(c, statusForForm(err), *form)
	}
	msg := fmt.Sprintf("The staged password hashes are erased: %s records changed.", templates.Num(res.Records))
	if res.Records == 0 {
		msg = "No staged record held a password hash any more."
	}
	if res.SealedHashes+res.Digests > 0 {
		msg += fmt.Sprintf(" The loads' own copies are gone too: %s sealed hash(es) of users not created, %s digest(s).",
			templates.Num(res.SealedHashes), templates.Num(res.Digests))
	} else if res.Records == 0 {
		msg = "No staged record held a password hash any more, nor did the loads: nothing to erase."
	}
	return s.redirectWithFlash(c, projectURL(p, "/program"), strings.TrimSpace(msg))
}
