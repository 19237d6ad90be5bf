package web

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// The staged data in the API: extracts, their records and quarantined rows.
// Values of personal data are masked as on the console's record pages (see
// recordMasker), and every unmasked view is audited.

// extractSummaryJSON is an extract as GET /extracts lists it.
type extractSummaryJSON struct {
	ID            int64      `json:"id"`
	ProjectID     int64      `json:"projectId"`
	SourceID      int64      `json:"sourceId"`
	Status        string     `json:"status"`
	FileName      string     `json:"fileName"`
	Format        string     `json:"format"`
	SizeBytes     int64      `json:"sizeBytes"`
	Checksum      string     `json:"checksum"`
	KeyAttribute  string     `json:"keyAttribute"`
	Records       int64      `json:"records"`
	Quarantined   int64      `json:"quarantined"`
	CarriedOver   int64      `json:"carriedOver"`
	LostEdits     int64      `json:"lostEdits"`
	Warnings      []string   `json:"warnings"`
	Error         string     `json:"error"`
	CreatedByID   *int64     `json:"createdById"`
	CreatedByName string     `json:"createdByName"`
	CreatedAt     time.Time  `json:"createdAt"`
	FinishedAt    *time.Time `json:"finishedAt"`
}

// extractJSON is one extract with its columns' statistics.
type extractJSON struct {
	extractSummaryJSON
	Columns []extractColumnJSON `json:"columns"`
}

type extractColumnJSON struct {
	Name           string   `json:"name"`
	Filled         int64    `json:"filled"`
	Distinct       int64    `json:"distinct"`
	DistinctCapped bool     `json:"distinctCapped"`
	MaxLength      int      `json:"maxLength"`
	MultiValued    bool     `json:"multiValued"`
	Type           string   `json:"type"`
	Samples        []string `json:"samples"`
	Masked         bool     `json:"masked"`
}

func extractSummaryOf(ex *staging.Extract) extractSummaryJSON {
	out := extractSummaryJSON{ID: ex.ID, ProjectID: ex.ProjectID, SourceID: ex.SourceID, Status: ex.Status, FileName: ex.FileName,
		Format: ex.Format, SizeBytes: ex.SizeBytes, Checksum: ex.Checksum, KeyAttribute: ex.KeyAttribute, Records: ex.Records,
		Quarantined: ex.Quarantined, CarriedOver: ex.CarriedOver, LostEdits: ex.LostEdits, Warnings: ex.Warnings, Error: ex.Error,
		CreatedByID: ex.CreatedByID, CreatedByName: ex.CreatedByName, CreatedAt: ex.CreatedAt, FinishedAt: ex.FinishedAt}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	return out
}

// stagedRecordJSON is one staged record: its attributes with Ferry's edits
// applied, and for each edited attribute what the source said.
type stagedRecordJSON struct {
	ID            int64               `json:"id"`
	ExtractID     int64               `json:"extractId"`
	SourceID      int64               `json:"sourceId"`
	Position      int64               `json:"position"`
	Key           string              `json:"key"`
	Attributes    map[string][]string `json:"attributes"`
	SourceValues  map[string][]string `json:"sourceValues"`
	Masked        []string            `json:"masked"`
	Edited        bool                `json:"edited"`
	Excluded      bool                `json:"excluded"`
	ExcludeReason string              `json:"excludeReason"`
	Version       int64               `json:"version"`
}

func recordJSONOf(rec *staging.StagedRecord, ex *staging.Extract, mk recordMasker) stagedRecordJSON {
	eff := rec.Effective()
	out := stagedRecordJSON{ID: rec.ID, ExtractID: rec.ExtractID, SourceID: ex.SourceID, Position: rec.Position,
		Attributes: make(map[string][]string, len(eff)), SourceValues: map[string][]string{}, Masked: []string{},
		Edited: rec.Edited, Excluded: rec.Excluded, ExcludeReason: rec.ExcludeReason, Version: rec.Version}
	if ex.KeyAttribute != "" {
		out.Key = mk.value(ex.KeyAttribute, eff[ex.KeyAttribute])
	}
	for name, vals := range eff {
		out.Attributes[name] = mk.values(name, vals)
		if mk.masks(name) {
			out.Masked = append(out.Masked, name)
		}
	}
	for name := range rec.Edits {
		out.SourceValues[name] = mk.values(name, rec.Attributes[name])
	}
	sort.Strings(out.Masked)
	return out
}

// quarantinedJSON is a row of an extract that its reader could not take.
type quarantinedJSON struct {
	ID        int64  `json:"id"`
	ExtractID int64  `json:"extractId"`
	Position  int64  `json:"position"`
	Message   string `json:"message"`
}

// ---- extracts ----

func (s *Server) apiListExtracts(c echo.Context) error {
	ctx := c.Request().Context()
	p := project(c)
	var sourceID int64
	if raw := c.QueryParam("source"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return apperr.Invalid("Please correct the listed fields.", map[string]string{"source": "source must be the id of one of the project's sources."})
		}
		if _, err := s.plan.FindSourceByID(ctx, p.ID, id); err != nil {
			if apperr.Is(err, apperr.CodeNotFound) {
				return apperr.Invalid("Please correct the listed fields.", map[string]string{"source": fmt.Sprintf("The project has no source %d.", id)})
			}
			return err
		}
		sourceID = id
	}
	all, err := s.staging.FindExtracts(ctx, p.ID, sourceID)
	if err != nil {
		return err
	}
	out := make([]extractSummaryJSON, len(all))
	for i := range all {
		out[i] = extractSummaryOf(&all[i])
	}
	return c.JSON(http.StatusOK, list(out))
}

// apiExtract returns the extract named by the path's :id.
func (s *Server) apiExtract(c echo.Context) (*staging.Extract, error) {
	id, err := pathID(c, "id", "extract")
	if err != nil {
		return nil, err
	}
	return s.staging.FindExtractByID(c.Request().Context(), project(c).ID, id)
}

func (s *Server) apiGetExtract(c echo.Context) error {
	ex, err := s.apiExtract(c)
	if err != nil {
		return err
	}
	mk, err := s.maskerFor(c, ex.SourceID)
	if err != nil {
		return err
	}
	out := extractJSON{extractSummaryJSON: extractSummaryOf(ex), Columns: make([]extractColumnJSON, len(ex.Columns))}
	for i, col := range ex.Columns {
		out.Columns[i] = extractColumnJSON{Name: col.Name, Filled: col.Filled, Distinct: col.Distinct, DistinctCapped: col.DistinctCapped,
			MaxLength: col.MaxLength, MultiValued: col.MultiValued, Type: col.Type, Samples: mk.values(col.Name, col.Samples), Masked: mk.masks(col.Name)}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiListRecords(c echo.Context) error {
	ctx := c.Request().Context()
	ex, err := s.apiExtract(c)
	if err != nil {
		return err
	}
	pg, err := readPage(c)
	if err != nil {
		return err
	}
	recs, next, err := fetchPage(c, pg, func(after int64, n int) ([]staging.StagedRecord, error) {
		return s.staging.FindRecords(ctx, ex.ID, after, n)
	}, func(r staging.StagedRecord) int64 { return r.ID })
	if err != nil {
		return err
	}
	mk, err := s.newRecordMasker(c, ex.SourceID)
	if err != nil {
		return err
	}
	if len(recs) > 0 {
		if err := s.auditUnmasked(c, ex.SourceID, mk); err != nil {
			return err
		}
	}
	out := pageResponse[stagedRecordJSON]{Items: make([]stagedRecordJSON, len(recs)), Next: next}
	for i := range recs {
		out.Items[i] = recordJSONOf(&recs[i], ex, mk)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiListQuarantined(c echo.Context) error {
	ctx := c.Request().Context()
	ex, err := s.apiExtract(c)
	if err != nil {
		return err
	}
	pg, err := readPage(c)
	if err != nil {
		return err
	}
	rows, next, err := fetchPage(c, pg, func(after int64, n int) ([]staging.QuarantinedRow, error) {
		return s.staging.FindQuarantinedPage(ctx, ex.ID, after, n)
	}, func(r staging.QuarantinedRow) int64 { return r.ID })
	if err != nil {
		return err
	}
	out := pageResponse[quarantinedJSON]{Items: make([]quarantinedJSON, len(rows)), Next: next}
	for i, r := range rows {
		out.Items[i] = quarantinedJSON{ID: r.ID, ExtractID: r.ExtractID, Position: r.Position, Message: r.Message}
	}
	return c.JSON(http.StatusOK, out)
}

// ---- records ----

func (s *Server) apiGetRecord(c echo.Context) error {
	rec, ex, err := s.findRecord(c)
	if err != nil {
		return err
	}
	mk, err := s.maskerFor(c, ex.SourceID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recordJSONOf(rec, ex, mk))
}

// apiUpdateRecord fixes attribute values of a record, as the console's fix
// form does: {"version": 3, "attributes": {"givenName": "Ada"}}. A value that
// differs from the record's becomes Ferry's edit; "" (or the source's value)
// drops Ferry's edit; the source's values stay as they were.
func (s *Server) apiUpdateRecord(c echo.Context) error {
	var body struct {
		Version    *int64            `json:"version"`
		Attributes map[string]string `json:"attributes"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	rec, ex, err := s.findRecord(c)
	if err != nil {
		return err
	}
	if ex.Status != staging.StatusReady {
		return apperr.NotFound("staged record") // as the fix form: only the current extract's records are fixed
	}
	mk, err := s.newRecordMasker(c, ex.SourceID)
	if err != nil {
		return err
	}
	if rec.Version != version {
		return s.recordEditConflict(c, rec, ex, mk, body.Attributes)
	}
	edits, problems := planRecordEdits(rec, ex, mk, body.Attributes)
	if len(problems) > 0 {
		fields := make(map[string]string, len(problems))
		for name, msg := range problems {
			fields["attributes."+name] = msg
		}
		return apperr.Invalid("Please correct the listed fields.", fields)
	}
	saved, err := s.staging.EditRecord(c.Request().Context(), project(c).ID, rec.ID, version, edits)
	if err != nil {
		if apperr.Is(err, apperr.CodeConflict) {
			if now, nowEx, ferr := s.findRecord(c); ferr == nil {
				return s.recordEditConflict(c, now, nowEx, mk, body.Attributes)
			}
		}
		return recordFieldNames(err)
	}
	if err := s.auditUnmasked(c, ex.SourceID, mk); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recordJSONOf(saved, ex, mk))
}

// recordEditConflict answers a stale version with the attributes sent
// whose stored value differs from the one sent.
func (s *Server) recordEditConflict(c echo.Context, rec *staging.StagedRecord, ex *staging.Extract, mk recordMasker, typed map[string]string) error {
	eff := rec.Effective()
	names := make([]string, 0, len(typed))
	for name := range typed {
		names = append(names, name)
	}
	sort.Strings(names)
	var changes []apperr.FieldChange
	for _, name := range names {
		stored, yours := mk.value(name, eff[name]), strings.TrimSpace(typed[name])
		if stored != yours {
			changes = append(changes, apperr.FieldChange{Field: "attributes." + name, Label: name, Stored: stored, Yours: yours})
		}
	}
	if len(changes) > 0 {
		if err := s.auditUnmasked(c, ex.SourceID, mk); err != nil {
			return err
		}
	}
	return apperr.VersionConflict("record", rec.Version, changes)
}

// recordFieldNames names the record edit's fields as the API body does.
func recordFieldNames(err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || len(ae.Fields) == 0 {
		return err
	}
	out := *ae
	out.Message = "Please correct the listed fields."
	out.Fields = make(map[string]string, len(ae.Fields))
	for k, msg := range ae.Fields {
		if k == "edits" {
			k = "attributes"
		}
		out.Fields[k] = msg
	}
	return &out
}

// apiExcludeRecord excludes a record from validation and loads, or includes
// it again: {"version": 3, "exclude": true, "reason": "A test account."}.
func (s *Server) apiExcludeRecord(c echo.Context) error {
	var body struct {
		Version *int64  `json:"version"`
		Exclude *bool   `json:"exclude"`
		Reason  *string `json:"reason"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	if body.Exclude == nil {
		return apperr.Invalid("Please correct the listed fields.", map[string]string{"exclude": "exclude is required: true to exclude the record, false to include it again."})
	}
	reason := ""
	if body.Reason != nil {
		reason = *body.Reason
	}
	rec, ex, err := s.findRecord(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.staging.ExcludeRecord(ctx, project(c).ID, rec.ID, version, *body.Exclude, reason); err != nil {
		if apperr.Is(err, apperr.CodeConflict) {
			if now, _, ferr := s.findRecord(c); ferr == nil {
				yours := reason
				if !*body.Exclude {
					yours = ""
				}
				var changes []apperr.FieldChange
				if now.Excluded != *body.Exclude {
					changes = append(changes, apperr.FieldChange{Field: "exclude", Label: "Excluded", Stored: yesNo(now.Excluded), Yours: yesNo(*body.Exclude)})
				}
				if body.Reason != nil && now.ExcludeReason != strings.TrimSpace(yours) {
					changes = append(changes, apperr.FieldChange{Field: "reason", Label: "Reason", Stored: now.ExcludeReason, Yours: strings.TrimSpace(yours)})
				}
				return apperr.VersionConflict("record", now.Version, changes)
			}
		}
		return apiFieldNames(err)
	}
	rec, ex, err = s.findRecord(c)
	if err != nil {
		return err
	}
	mk, err := s.maskerFor(c, ex.SourceID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, recordJSONOf(rec, ex, mk))
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
