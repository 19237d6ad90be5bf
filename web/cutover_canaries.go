package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/templates"
)

// Canary accounts: marked from a record's page with their known password
// (sealed by the service, never echoed back, never logged), listed and
// removed on the Cut-over page.

// ctxCanaryForm carries the refused "mark as canary" form to the record
// page that re-renders it.
const ctxCanaryForm = "ferry.canaryForm"

// ctxCutoverMessage carries a refusal without a field to the Cut-over page.
const ctxCutoverMessage = "ferry.cutoverMessage"

// canaryMarkView is the "mark as canary" form of a record's page, offered
// to those who may run loads.
func canaryMarkView(c echo.Context, recordID int64) *templates.CanaryMarkView {
	if !can(c, auth.PermRun) {
		return nil
	}
	form, ok := c.Get(ctxCanaryForm).(templates.Form)
	if !ok {
		form = templates.NewForm()
	}
	delete(form.Values, "password") // never echoed back
	return &templates.CanaryMarkView{Action: projectURL(project(c), "/cutover/canaries"), RecordID: recordID, Form: form}
}

func (s *Server) markCanary(c echo.Context) error {
	p := project(c)
	ctx := c.Request().Context()
	raw := strings.TrimSpace(c.FormValue("record"))
	// The password is read once, handed to the service and forgotten: it
	// never enters the form that is re-rendered, a log line or a message.
	password := c.FormValue("password")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return s.canaryRecordUnknown(c)
	}
	rec, ex, err := s.staging.FindRecordByID(ctx, p.ID, id)
	if apperr.Is(err, apperr.CodeNotFound) {
		return s.canaryRecordUnknown(c)
	}
	if err != nil {
		return err
	}
	k, err := s.loads.MarkCanary(ctx, p.ID, rec.ID, password)
	if err != nil {
		ae := apperr.As(err)
		if ae == nil || ae.Code != apperr.CodeInvalid {
			return err
		}
		form := templates.NewForm().WithError(ae)
		if len(ae.Fields) > 0 {
			form.Message = ae.Message
		}
		c.Set(ctxCanaryForm, form)
		if ex.Status != staging.StatusReady {
			return s.canaryRecordUnknown(c)
		}
		return s.renderEditRecord(c, http.StatusUnprocessableEntity, rec, ex, editRecordForm(rec.Version), nil)
	}
	return s.redirectWithFlash(c, projectURL(p, fmt.Sprintf("/data/records/%d/edit#mark-canary", rec.ID)),
		fmt.Sprintf("The record is now a canary account (%s): runs take it first.", k.HashFormat))
}

func editRecordForm(version int64) templates.Form {
	f := templates.NewForm()
	f.Values["version"] = strconv.FormatInt(version, 10)
	return f
}

// canaryRecordUnknown answers a "mark as canary" form whose record is not
// a staged record of the project (a stale page, or a forged id).
func (s *Server) canaryRecordUnknown(c echo.Context) error {
	st, err := s.loads.FindSettings(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	c.Set(ctxCutoverMessage, "That record is not a current staged record of this project (it may have been staged again): open it from the Data section and mark it again.")
	return s.renderCutover(c, http.StatusUnprocessableEntity, leaversForm(st), reconcileFormDefaults())
}

func (s *Server) pathCanary(c echo.Context) (templates.CanaryRow, error) {
	p := project(c)
	id, err := pathID(c, "cid", "canary")
	if err != nil {
		return templates.CanaryRow{}, err
	}
	list, err := s.loads.ListCanaries(c.Request().Context(), p.ID)
	if err != nil {
		return templates.CanaryRow{}, err
	}
	for _, k := range list {
		if k.ID == id {
			names, err := s.plan.SourceNames(c.Request().Context(), p.ID)
			if err != nil {
				return templates.CanaryRow{}, err
			}
			rows, err := s.canaryRows(c, []load.Canary{k}, names)
			if err != nil {
				return templates.CanaryRow{}, err
			}
			return rows[0], nil
		}
	}
	return templates.CanaryRow{}, apperr.NotFound("canary")
}

func (s *Server) removeCanaryConfirm(c echo.Context) error {
	k, err := s.pathCanary(c)
	if err != nil {
		return err
	}
	return s.renderPage(c, templates.RemoveCanaryPage(s.chrome(c, "Remove a canary", sectionCutover), k))
}

func (s *Server) removeCanary(c echo.Context) error {
	p := project(c)
	k, err := s.pathCanary(c)
	if err != nil {
		return err
	}
	if err := s.loads.RemoveCanary(c.Request().Context(), p.ID, k.Canary.ID); err != nil {
		return err
	}
	return s.redirectWithFlash(c, projectURL(p, "/cutover#canaries"), "The canary "+k.Login+" is removed: its password is forgotten.")
}
