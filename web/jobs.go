package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract"
	"github.com/ferry-migrate/ferry/templates"
)

// JobService is what the web layer needs of background jobs.
type JobService interface {
	StageFile(ctx context.Context, projectID int64, in jobs.StageFileInput) (*jobs.Job, error)
	StageDirectory(ctx context.Context, projectID int64, in jobs.DirectoryInput) (*jobs.Job, error)
	Validate(ctx context.Context, projectID int64) (*jobs.Job, error)
	// ConfirmImports reads the migration program's unconfirmed users back from Okta.
	ConfirmImports(ctx context.Context, projectID int64) (*jobs.Job, error)
	Cancel(ctx context.Context, projectID, id int64) (*jobs.Job, error)
	FindJob(ctx context.Context, projectID, id int64) (*jobs.Job, error)
	FindJobs(ctx context.Context, projectID int64, f jobs.Filter) ([]jobs.Job, error)
}

// stagingKinds are the kinds of job that stage into a source.
var stagingKinds = []string{jobs.KindStageFile, jobs.KindStageDirectory}

// jobView is a job as its panel shows it to the current viewer.
func (s *Server) jobView(c echo.Context, j jobs.Job) templates.JobView {
	p := project(c)
	v := templates.JobView{Job: j, PollURL: projectURL(p, fmt.Sprintf("/jobs/%d/progress", j.ID)), PageURL: jobPageURL(p, j)}
	if j.Active() && can(c, auth.PermRun) {
		v.CancelURL = projectURL(p, fmt.Sprintf("/jobs/%d/cancel", j.ID))
	}
	return v
}

// jobPageURL is the page a job's panel is on.
func jobPageURL(p *plan.Project, j jobs.Job) string {
	switch j.Kind {
	case jobs.KindValidate:
		return projectURL(p, "/quality#validation-job")
	case jobs.KindConfirmImports:
		return projectURL(p, "/program#confirm-job")
	}
	if j.SourceID != nil {
		return projectURL(p, fmt.Sprintf("/data#source-%d", *j.SourceID))
	}
	return projectURL(p, "/data")
}

// newestJob returns the newest job that matches f, or nil.
func (s *Server) newestJob(ctx context.Context, projectID int64, f jobs.Filter) (*jobs.Job, error) {
	f.Limit = 1
	list, err := s.jobs.FindJobs(ctx, projectID, f)
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[0], nil
}

func (s *Server) findJob(c echo.Context) (*jobs.Job, error) {
	id, err := pathID(c, "id", "job")
	if err != nil {
		return nil, err
	}
	return s.jobs.FindJob(c.Request().Context(), project(c).ID, id)
}

// jobProgress answers a job's panel alone: the page's script polls it while
// the job is active.
func (s *Server) jobProgress(c echo.Context) error {
	j, err := s.findJob(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, templates.JobPanel(s.jobView(c, *j)))
}

func (s *Server) cancelJobConfirm(c echo.Context) error {
	j, err := s.findJob(c)
	if err != nil {
		return err
	}
	p := project(c)
	if !j.Active() {
		s.setFlash(c, "error", fmt.Sprintf("Job %d (%s) has already ended (%s): there is nothing to cancel.", j.ID, j.Label(), j.Status))
		return c.Redirect(http.StatusSeeOther, jobPageURL(p, *j))
	}
	return s.renderPage(c, templates.CancelJobPage(s.chrome(c, "Cancel a job", sectionData), templates.CancelJobView{Job: *j, Back: jobPageURL(p, *j)}))
}

func (s *Server) cancelJob(c echo.Context) error {
	id, err := pathID(c, "id", "job")
	if err != nil {
		return err
	}
	p := project(c)
	j, err := s.jobs.Cancel(c.Request().Context(), p.ID, id)
	if apperr.Is(err, apperr.CodeConflict) {
		// It ended meanwhile: say so where it is shown.
		if ended, ferr := s.jobs.FindJob(c.Request().Context(), p.ID, id); ferr == nil {
			s.setFlash(c, "error", apperr.As(err).Message)
			return c.Redirect(http.StatusSeeOther, jobPageURL(p, *ended))
		}
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Job %d (%s): %s", j.ID, j.Label(), j.Message)
	if j.Active() {
		msg = fmt.Sprintf("Job %d (%s) is stopping; its panel shows when it has.", j.ID, j.Label())
	}
	return s.redirectWithFlash(c, jobPageURL(p, *j), msg)
}

// ---- pulling a source's users from a directory ----

// directoryFormFrom prefills the directory pull form from a pull's
// parameters (which never hold its password).
func directoryFormFrom(j *jobs.Job) templates.Form {
	f := templates.NewForm()
	if j == nil {
		return f
	}
	pp := j.Params
	f.Values["url"], f.Values["bind_dn"], f.Values["base_dn"], f.Values["filter"] = pp.URL, pp.BindDN, pp.BaseDN, pp.Filter
	f.Values["attributes"] = strings.Join(pp.Attributes, ", ")
	if pp.StartTLS {
		f.Values["start_tls"] = "true"
	}
	if pp.InsecureSkipVerify {
		f.Values["insecure_skip_verify"] = "true"
	}
	if pp.PageSize != 0 {
		f.Values["page_size"] = strconv.FormatUint(uint64(pp.PageSize), 10)
	}
	return f
}

// pullDirectory starts a job that pulls a source's users from a directory.
// The bind password goes to the job, in memory: never to the database, a
// log, or the form shown again.
func (s *Server) pullDirectory(c echo.Context) error {
	p := project(c)
	ctx := c.Request().Context()
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	form := templates.NewForm()
	text := func(name string) string {
		v := strings.TrimSpace(c.FormValue(name))
		form.Values[name] = v
		return v
	}
	flag := func(name string) bool {
		on := c.FormValue(name) == "true"
		if on {
			form.Values[name] = "true"
		}
		return on
	}
	cfg := ldapextract.Config{URL: text("url"), StartTLS: flag("start_tls"), InsecureSkipVerify: flag("insecure_skip_verify"),
		BindDN: text("bind_dn"), BindPassword: c.FormValue("bind_password"), BaseDN: text("base_dn"), Filter: text("filter")}
	for _, a := range strings.Split(text("attributes"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.Attributes = append(cfg.Attributes, a)
		}
	}
	if raw := text("page_size"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 32)
		if err != nil || n == 0 {
			form.Errors["page_size"] = fmt.Sprintf("The page size is a whole number of entries, from 1 to %s.", plan.Thousands(jobs.MaxPageSize))
		}
		cfg.PageSize = uint32(n)
	}
	var j *jobs.Job
	if len(form.Errors) > 0 {
		// Show every other problem too, and start nothing.
		if verr := cfg.Validate(); verr != nil {
			for k, v := range apperr.As(verr).Fields {
				form.Errors[k] = v
			}
		}
		err = apperr.Invalid("The directory settings are not complete.", form.Errors)
	} else {
		j, err = s.jobs.StageDirectory(ctx, p.ID, jobs.DirectoryInput{SourceID: src.ID, SourceName: src.Name, Config: cfg})
	}
	if err != nil {
		ae := apperr.As(err)
		switch ae.Code {
		case apperr.CodeConflict:
			s.setFlash(c, "error", ae.Message)
			return c.Redirect(http.StatusSeeOther, projectURL(p, fmt.Sprintf("/data#source-%d", src.ID)))
		case apperr.CodeInvalid:
			form = form.WithError(ae)
			form.Message = "The pull did not start; nothing was changed. " + ae.Message
			return s.renderDataWith(c, http.StatusUnprocessableEntity, nil, map[int64]templates.Form{src.ID: form})
		}
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, fmt.Sprintf("/data#source-%d", src.ID)),
		fmt.Sprintf("Pulling the users of %s from %s (job %d): its progress is shown below.", src.Name, j.Params.URL, j.ID))
}

// fillSourceJobs gives a source of the data page its newest staging job and
// its directory pull form: the one to show again after a refusal, or one
// prefilled from the source's last pull.
func (s *Server) fillSourceJobs(c echo.Context, ds *templates.DataSource, directory map[int64]templates.Form) error {
	ctx := c.Request().Context()
	pid := project(c).ID
	newest, err := s.newestJob(ctx, pid, jobs.Filter{SourceID: ds.Source.ID, Kinds: stagingKinds})
	if err != nil {
		return err
	}
	if newest != nil {
		v := s.jobView(c, *newest)
		ds.Job = &v
	}
	if f, ok := directory[ds.Source.ID]; ok {
		ds.DirectoryForm = f
		return nil
	}
	last := newest
	if last == nil || last.Kind != jobs.KindStageDirectory {
		if last, err = s.newestJob(ctx, pid, jobs.Filter{SourceID: ds.Source.ID, Kinds: []string{jobs.KindStageDirectory}}); err != nil {
			return err
		}
	}
	ds.DirectoryForm = directoryFormFrom(last)
	return nil
}
