package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/load"
)

// The migration program through the JSON API (docs/api.md, "The migration
// program"): what its page shows and does, for scripts. The read-back from
// Okta is a job (apiConfirmImports); the stragglers' password reset is a
// load run, started from the console or with ferry reset-stragglers.

// apiProgram answers the program's dashboard: where the hook users stand,
// the chart's series, latency, errors by cause, the staged hashes' age per
// source and the end check.
func (s *Server) apiProgram(c echo.Context) error {
	if err := s.programAvailable(); err != nil {
		return err
	}
	d, err := s.program.Dashboard(c.Request().Context(), project(c).ID, s.program.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// apiPutProgramSettings changes the program's period.
func (s *Server) apiPutProgramSettings(c echo.Context) error {
	if err := s.programAvailable(); err != nil {
		return err
	}
	var body struct {
		Version    *int64 `json:"version"`
		PeriodDays *int64 `json:"periodDays"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	if body.PeriodDays == nil {
		return apperr.Invalid("Please correct the listed fields.", map[string]string{"periodDays": "periodDays is required: the program's period in days."})
	}
	saved, err := s.program.SaveProgram(c.Request().Context(), project(c).ID, version, *body.PeriodDays)
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, saved)
}

// apiStragglers lists the users past the program's period who never
// migrated, a page at a time. Their logins are personal data: the route
// needs PermPIIRead, and each page's sources are audited as the page's are.
func (s *Server) apiStragglers(c echo.Context) error {
	st := s.stragglerLister()
	if err := s.programAvailable(); err != nil || st == nil {
		return apperr.NotFound("stragglers")
	}
	pg, err := readPage(c)
	if err != nil {
		return err
	}
	page, err := st.Stragglers(c.Request().Context(), project(c).ID, load.StragglerQuery{Now: s.program.Now(), After: pg.after,
		Limit: min(pg.limit, load.MaxStragglerPage)})
	if err != nil {
		return err
	}
	if err := s.auditStragglerSources(c, page.Items); err != nil {
		return err
	}
	out := apiStragglerPage{OrgURL: page.OrgURL, PeriodDays: page.PeriodDays, Cutoff: page.Cutoff, Total: page.Total, Items: page.Items}
	if page.Next != 0 {
		q := c.Request().URL.Query()
		q.Set("after", strconv.FormatInt(page.Next, 10))
		q.Set("limit", strconv.Itoa(pg.limit))
		out.Next = c.Request().URL.Path + "?" + q.Encode()
	}
	return c.JSON(http.StatusOK, out)
}

// apiStragglerPage is a page of stragglers as the API's long lists are:
// Next is the path of the following page, absent on the last one.
type apiStragglerPage struct {
	OrgURL     string           `json:"orgUrl"`
	PeriodDays int              `json:"periodDays"`
	Cutoff     time.Time        `json:"cutoff"`
	Total      int64            `json:"total"`
	Items      []load.Straggler `json:"items"`
	Next       string           `json:"next,omitempty"`
}

// apiEraseHashes erases the staged hashes at the end of the program: the
// project's name must be sent as confirm, and the end check must be ready
// unless override is true (and no reason is blocking).
func (s *Server) apiEraseHashes(c echo.Context) error {
	if err := s.programAvailable(); err != nil {
		return err
	}
	var body struct {
		Confirm  *string `json:"confirm"`
		Override bool    `json:"override"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if body.Confirm == nil {
		return apperr.Invalid("Please correct the listed fields.", map[string]string{"confirm": "confirm is required: the project's exact name."})
	}
	res, err := s.program.EraseStagedHashes(c.Request().Context(), project(c).ID, eraseActor(c), hook.EraseInput{Confirm: *body.Confirm, Override: body.Override})
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, res)
}
