package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/mapping"
)

func (s *Server) apiAttributes(c echo.Context) error {
	attrs, err := s.schema.Attributes(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(attrs))
}

// matrixLineJSON is one line of the matrix in the API.
type matrixLineJSON struct {
	RowID           int64             `json:"rowId,omitempty"`
	SourceFieldID   int64             `json:"sourceFieldId"`
	Source          string            `json:"source"`
	Field           string            `json:"field"`
	TargetAttribute string            `json:"targetAttribute"`
	Status          string            `json:"status"`
	Priority        int               `json:"priority,omitempty"`
	Transform       string            `json:"transform"`
	Notes           string            `json:"notes"`
	Version         int64             `json:"version,omitempty"`
	Problems        []mapping.Problem `json:"problems"`
}

type matrixJSON struct {
	Complete  bool              `json:"complete"`
	Fields    int               `json:"fields"`
	Mapped    int               `json:"mapped"`
	Ignored   int               `json:"ignored"`
	Undecided int               `json:"undecided"`
	Blocking  int               `json:"blocking"`
	Warnings  int               `json:"warnings"`
	Lines     []matrixLineJSON  `json:"lines"`
	Problems  []mapping.Problem `json:"problems"`
}

func (s *Server) apiMatrix(c echo.Context) error {
	m, extra, err := s.matrixState(c)
	if err != nil {
		return err
	}
	out := matrixJSON{Complete: m.Complete(), Fields: m.Fields, Mapped: m.Mapped, Ignored: m.Ignored, Undecided: m.Undecided,
		Blocking: m.Blocking, Warnings: m.Warnings, Lines: []matrixLineJSON{}, Problems: []mapping.Problem{}}
	for _, l := range m.Lines {
		line := matrixLineJSON{SourceFieldID: l.Field.ID, Source: l.SourceName, Field: l.Field.Name, Status: "undecided",
			Problems: append(append([]mapping.Problem{}, l.Problems...), extra[l.Field.ID]...)}
		if r := l.Row; r != nil {
			line.RowID, line.TargetAttribute, line.Status, line.Priority = r.ID, r.TargetAttribute, r.Status, r.Priority
			line.Transform, line.Notes, line.Version = r.Transform, r.Notes, r.Version
		}
		out.Lines = append(out.Lines, line)
	}
	for _, p := range m.Problems {
		if p.FieldID == 0 {
			out.Problems = append(out.Problems, p)
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiCreateRow(c echo.Context) error {
	var in mapping.RowInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := s.mapping.CreateRow(c.Request().Context(), project(c).ID, in)
	if err != nil {
		return apiFieldNames(err)
	}
	return created(c, fmt.Sprintf("/api/v1/projects/%d/matrix/rows/%d", r.ProjectID, r.ID), r)
}

func (s *Server) apiUpdateRow(c echo.Context) error {
	id, err := pathID(c, "id", "matrix row")
	if err != nil {
		return err
	}
	var body struct {
		Version *int64 `json:"version"`
		mapping.RowInput
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	r, err := s.mapping.UpdateRow(c.Request().Context(), project(c).ID, id, version, body.RowInput)
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Server) apiDeleteRow(c echo.Context) error {
	id, err := pathID(c, "id", "matrix row")
	if err != nil {
		return err
	}
	if err := s.mapping.DeleteRow(c.Request().Context(), project(c).ID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiListFields(c echo.Context) error {
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	fields, err := s.mapping.FindFields(c.Request().Context(), project(c).ID, src.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(fields))
}

func (s *Server) apiCreateField(c echo.Context) error {
	src, err := s.pathSource(c)
	if err != nil {
		return err
	}
	var body struct {
		mapping.FieldInput
		MaxLength optionalLength `json:"maxLength"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	f, err := s.mapping.CreateField(c.Request().Context(), project(c).ID, src.ID, body.MaxLength.into(body.FieldInput))
	if err != nil {
		return apiFieldNames(err)
	}
	return created(c, fmt.Sprintf("/api/v1/projects/%d/fields/%d", f.ProjectID, f.ID), f)
}

func (s *Server) apiGetField(c echo.Context) error {
	id, err := pathID(c, "id", "source field")
	if err != nil {
		return err
	}
	f, err := s.mapping.FindFieldByID(c.Request().Context(), project(c).ID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

func (s *Server) apiUpdateField(c echo.Context) error {
	id, err := pathID(c, "id", "source field")
	if err != nil {
		return err
	}
	var body struct {
		Version *int64 `json:"version"`
		mapping.FieldInput
		MaxLength optionalLength `json:"maxLength"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	f, err := s.mapping.UpdateField(c.Request().Context(), project(c).ID, id, version, body.MaxLength.into(body.FieldInput))
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, f)
}

func (s *Server) apiDeleteField(c echo.Context) error {
	id, err := pathID(c, "id", "source field")
	if err != nil {
		return err
	}
	if err := s.mapping.DeleteField(c.Request().Context(), project(c).ID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// optionalLength is a field's maxLength in a JSON body. FieldInput's **int
// cannot tell null (clear the length) from a missing key (keep it): JSON null
// sets only the outer pointer, to nil.
type optionalLength struct {
	set   bool
	value *int
}

func (o *optionalLength) UnmarshalJSON(b []byte) error {
	o.set, o.value = true, nil
	if string(b) == "null" {
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return err // the decoder names the field
	}
	o.value = &n
	return nil
}

// into puts the length, when sent, into in.
func (o optionalLength) into(in mapping.FieldInput) mapping.FieldInput {
	if o.set {
		v := o.value
		in.MaxLength = &v
	}
	return in
}
