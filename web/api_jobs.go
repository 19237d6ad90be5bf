package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/jobs"
)

// apiUploadRoute receives an extract as the request body. Like the
// console's upload, it is exempt from the generic body limit: the upload
// limit applies while the body is spooled.
const apiUploadRoute = "/api/v1/projects/:pid/sources/:sid/extracts"

// jobLocation is a job's API path.
func jobLocation(j *jobs.Job) string {
	return fmt.Sprintf("/api/v1/projects/%d/jobs/%d", j.ProjectID, j.ID)
}

// acceptedJob answers a submitted job: 202 with the job and its Location.
func acceptedJob(c echo.Context, j *jobs.Job) error {
	c.Response().Header().Set(echo.HeaderLocation, jobLocation(j))
	return c.JSON(http.StatusAccepted, j)
}

// emptyBody accepts no body, or an empty JSON object: the action takes no
// input, and anything else is refused as the API refuses unknown fields.
func emptyBody(c echo.Context) error {
	req := c.Request()
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return jsonError(err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	return decodeJSON(c, &struct{}{})
}

// apiStageExtract stages the request body as a new extract of a source, in
// a job: the query names the file (fileName, required), forces a format
// (format) and names the record key (key). The body is spooled (measured,
// hashed, limited to the upload limit) and checked as far as can be done at
// once, then the answer is 202 with the job, which a client polls.
func (s *Server) apiStageExtract(c echo.Context) error {
	p := project(c)
	ctx := c.Request().Context()
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	fields := map[string]string{}
	fileName := strings.TrimSpace(c.QueryParam("fileName"))
	switch {
	case fileName == "":
		fields["fileName"] = "fileName is required: the name the extract is shown under, such as hr.csv."
	case utf8.RuneCountInString(fileName) > 255 || strings.ContainsFunc(fileName, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		fields["fileName"] = "fileName is at most 255 characters, on one line."
	}
	up := uploadFields{format: strings.TrimSpace(c.QueryParam("format")), key: strings.TrimSpace(c.QueryParam("key"))}
	if err := checkUploadFields(up); err != nil {
		var ref *uploadRefusal
		if errors.As(err, &ref) {
			fields[apiUploadField(ref.field)] = ref.message
		}
	}
	if len(fields) > 0 {
		return apperr.Invalid("Please correct the listed fields.", fields)
	}
	// One staging per source at a time: refused before a byte is read.
	if active, err := s.newestJob(ctx, p.ID, jobs.Filter{SourceID: src.ID, Kinds: stagingKinds, Active: true}); err != nil {
		return err
	} else if active != nil {
		return apperr.Conflict(fmt.Sprintf("Job %d is already %s: wait for it to finish, or cancel it, then send the extract again. Nothing was staged.",
			active.ID, active.Label()))
	}
	req := c.Request()
	if req.ContentLength > s.opts.MaxExtractBytes {
		return apiUploadError(s.tooLarge())
	}
	rc := http.NewResponseController(c.Response())
	_ = rc.SetReadDeadline(time.Now().Add(uploadDeadline))
	req.Body = http.MaxBytesReader(c.Response(), req.Body, s.opts.MaxExtractBytes+1)
	sp, err := s.spool(req.Body)
	if err != nil {
		return apiUploadError(err)
	}
	format, key, err := checkSpooled(sp.path, up.format, up.key)
	if err != nil {
		_ = os.Remove(sp.path)
		return apiUploadError(err)
	}
	j, err := s.jobs.StageFile(ctx, p.ID, jobs.StageFileInput{SourceID: src.ID, SourceName: src.Name, Path: sp.path, FileName: fileName,
		Format: format, KeyAttribute: key, SizeBytes: sp.size, Checksum: sp.checksum})
	if err != nil {
		return err
	}
	return acceptedJob(c, j)
}

// apiUploadField is the API's name of an upload form field.
func apiUploadField(form string) string {
	if form == "key_attribute" {
		return "key"
	}
	return form
}

// apiUploadError turns an upload's refusal into the API's error: a problem
// of a query parameter names it; a problem of the file is the message.
func apiUploadError(err error) error {
	var ref *uploadRefusal
	if !errors.As(err, &ref) {
		return err
	}
	if ref.field == "file" {
		return apperr.Invalid(ref.message, nil)
	}
	return apperr.Invalid("Please correct the listed fields.", map[string]string{apiUploadField(ref.field): ref.message})
}

// apiValidate validates the project's staged data, in a job.
func (s *Server) apiValidate(c echo.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	j, err := s.jobs.Validate(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return acceptedJob(c, j)
}

// apiConfirmImports starts the read-back of the migration program's users
// Okta has not confirmed yet, in a job ("Check with Okta now").
func (s *Server) apiConfirmImports(c echo.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	j, err := s.jobs.ConfirmImports(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return acceptedJob(c, j)
}

// apiListJobs lists the project's newest jobs, newest first.
func (s *Server) apiListJobs(c echo.Context) error {
	items, err := s.jobs.FindJobs(c.Request().Context(), project(c).ID, jobs.Filter{Limit: 100})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(items))
}

func (s *Server) apiGetJob(c echo.Context) error {
	j, err := s.findJob(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

// apiCancelJob cancels a queued or running job (see jobs.Runner.Cancel).
func (s *Server) apiCancelJob(c echo.Context) error {
	if err := emptyBody(c); err != nil {
		return err
	}
	id, err := pathID(c, "id", "job")
	if err != nil {
		return err
	}
	j, err := s.jobs.Cancel(c.Request().Context(), project(c).ID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}
