package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// listResponse wraps every collection, so that fields can be added later
// (paging) without breaking clients.
type listResponse[T any] struct {
	Items []T `json:"items"`
}

func list[T any](items []T) listResponse[T] {
	if items == nil {
		items = []T{}
	}
	return listResponse[T]{Items: items}
}

// apiFieldNames renames the field messages of a validation error from the
// form names the services use (user_type_ids, subgroups.0.user_count) to the
// JSON names API clients send (userTypeIds, subgroups.0.userCount).
func apiFieldNames(err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) || len(ae.Fields) == 0 {
		return err
	}
	out := *ae
	if out.Message == "Please correct the highlighted fields." {
		out.Message = "Please correct the listed fields."
	}
	out.Fields = make(map[string]string, len(ae.Fields))
	for k, msg := range ae.Fields {
		out.Fields[jsonFieldName(k)] = msg
	}
	return &out
}

func jsonFieldName(form string) string {
	if form == "confirm_name" {
		return "confirm" // DELETE /projects/{pid}?confirm=
	}
	parts := strings.Split(form, ".")
	for i, p := range parts {
		words := strings.Split(p, "_")
		for j := 1; j < len(words); j++ {
			if words[j] != "" {
				words[j] = strings.ToUpper(words[j][:1]) + words[j][1:]
			}
		}
		parts[i] = strings.Join(words, "")
	}
	return strings.Join(parts, ".")
}

// decodeJSON reads a JSON body strictly: one object, no unknown fields, and
// a message that says what is wrong where.
func decodeJSON(c echo.Context, dst any) error {
	req := c.Request()
	if ct := req.Header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return apperr.Invalid("Send the request body as JSON with Content-Type: application/json.", nil)
	}
	dec := json.NewDecoder(req.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			return jsonError(err) // one object, but the body goes on past the limit
		}
		return apperr.Invalid("The request body must hold exactly one JSON object.", nil)
	}
	return nil
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &syntax):
		return apperr.Invalid(fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntax.Offset), nil)
	case errors.As(err, &typeErr):
		field := jsonPath(typeErr.Field)
		if field == "" {
			return apperr.Invalid("The request body must be a JSON object.", nil)
		}
		return apperr.Invalid("Please correct the listed fields.", map[string]string{field: fmt.Sprintf("%s must be a %s, not a JSON %s.", field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)})
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.Invalid("The request body is empty or cut short.", nil)
	case errors.As(err, &maxBytes), errors.Is(err, echo.ErrStatusRequestEntityTooLarge):
		return apperr.Invalid("The request body is too large.", nil)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.Invalid("Please correct the listed fields.", map[string]string{name: "Unknown field " + name + "."})
	}
	return apperr.Invalid("The request body could not be read as JSON.", nil)
}

// jsonPath drops the Go names of embedded structs (SourceInput.userTypeIds)
// from a decoder's field path, leaving the JSON names a client sent.
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	out := parts[:0]
	for _, p := range parts {
		if !strings.HasSuffix(p, "Input") || p == "" || p[0] < 'A' || p[0] > 'Z' {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "int32", "float64":
		return "number"
	case "slice":
		return "list"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	}
	return goKind
}

// requireVersion insists on the version a PATCH was based on.
func requireVersion(v *int64) (int64, error) {
	if v == nil {
		return 0, apperr.Invalid("Please correct the listed fields.", map[string]string{"version": "version is required: send the version you read, so that nobody's change is overwritten."})
	}
	return *v, nil
}

// ---- projects ----

func (s *Server) apiListProjects(c echo.Context) error {
	rows, err := s.visibleProjects(c)
	if err != nil {
		return err
	}
	out := make([]plan.Project, len(rows))
	for i, r := range rows {
		out[i] = r.Project
	}
	return c.JSON(http.StatusOK, list(out))
}

func (s *Server) apiCreateProject(c echo.Context) error {
	var in plan.ProjectInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.plan.CreateProject(c.Request().Context(), account(c).ID, in)
	if err != nil {
		return apiFieldNames(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/projects/%d", p.ID))
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) apiGetProject(c echo.Context) error {
	return c.JSON(http.StatusOK, project(c))
}

func (s *Server) apiUpdateProject(c echo.Context) error {
	var body struct {
		Version *int64 `json:"version"`
		plan.ProjectInput
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	p, err := s.plan.UpdateProject(c.Request().Context(), project(c).ID, version, body.ProjectInput)
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, p)
}

// apiDeleteProject needs ?confirm=<the project's exact name>, as the page does.
func (s *Server) apiDeleteProject(c echo.Context) error {
	if err := s.plan.DeleteProject(c.Request().Context(), project(c).ID, c.QueryParam("confirm")); err != nil {
		return apiFieldNames(err)
	}
	return c.NoContent(http.StatusNoContent)
}

type readinessJSON struct {
	Percent  int                 `json:"percent"`
	Done     int                 `json:"done"`
	Total    int                 `json:"total"`
	Items    []readinessItemJSON `json:"items"`
	Estimate estimateJSON        `json:"estimate"`
}

type readinessItemJSON struct {
	Section string        `json:"section"`
	Label   string        `json:"label"`
	Done    bool          `json:"done"`
	Missing []missingJSON `json:"missing"`
}

type missingJSON struct {
	Kind  string `json:"kind"`
	ID    int64  `json:"id,omitempty"`
	Label string `json:"label"`
	URL   string `json:"url"`
}

type estimateJSON struct {
	Users         int64  `json:"users"`
	RateLimit     int    `json:"rateLimitPerMinute"`
	SharePercent  int    `json:"sharePercent"`
	RatePerMinute int    `json:"ratePerMinute"`
	Minutes       int64  `json:"minutes"`
	Text          string `json:"text"`
}

func (s *Server) apiReadiness(c echo.Context) error {
	p := project(c)
	st, err := s.loadProjectState(c)
	if err != nil {
		return err
	}
	r, e := st.readiness, st.inv.Estimate()
	out := readinessJSON{Percent: r.Percent, Done: r.Done, Total: r.Total,
		Estimate: estimateJSON{Users: e.Users, RateLimit: e.Limit, SharePercent: e.Share, RatePerMinute: e.Rate, Minutes: int64(e.Duration.Minutes()), Text: e.String()}}
	for _, it := range r.Items {
		item := readinessItemJSON{Section: it.Section, Label: it.Label, Done: it.Done, Missing: []missingJSON{}}
		for _, m := range it.Missing {
			item.Missing = append(item.Missing, missingJSON{Kind: m.Kind, ID: m.ID, Label: m.Label, URL: refURL(p, m)})
		}
		out.Items = append(out.Items, item)
	}
	return c.JSON(http.StatusOK, out)
}

// ---- user types ----

func (s *Server) apiListUserTypes(c echo.Context) error {
	uts, err := s.plan.FindUserTypes(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(uts))
}

func (s *Server) apiCreateUserType(c echo.Context) error {
	var in plan.UserTypeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.plan.CreateUserType(c.Request().Context(), project(c).ID, in)
	if err != nil {
		return apiFieldNames(err)
	}
	return created(c, fmt.Sprintf("/api/v1/projects/%d/user-types/%d", u.ProjectID, u.ID), u)
}

func (s *Server) apiGetUserType(c echo.Context) error {
	u, err := s.findUserType(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) apiUpdateUserType(c echo.Context) error {
	id, err := pathID(c, "id", "user type")
	if err != nil {
		return err
	}
	var body struct {
		Version *int64 `json:"version"`
		plan.UserTypeInput
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	u, err := s.plan.UpdateUserType(c.Request().Context(), project(c).ID, id, version, body.UserTypeInput)
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) apiDeleteUserType(c echo.Context) error {
	id, err := pathID(c, "id", "user type")
	if err != nil {
		return err
	}
	if err := s.plan.DeleteUserType(c.Request().Context(), project(c).ID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- sources ----

func (s *Server) apiListSources(c echo.Context) error {
	sources, err := s.plan.FindSources(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(sources))
}

func (s *Server) apiCreateSource(c echo.Context) error {
	var in plan.SourceInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	src, err := s.plan.CreateSource(c.Request().Context(), project(c).ID, in)
	if err != nil {
		return apiFieldNames(err)
	}
	return created(c, fmt.Sprintf("/api/v1/projects/%d/sources/%d", src.ProjectID, src.ID), src)
}

func (s *Server) apiGetSource(c echo.Context) error {
	src, err := s.findSource(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, src)
}

func (s *Server) apiUpdateSource(c echo.Context) error {
	id, err := pathID(c, "id", "source")
	if err != nil {
		return err
	}
	var body struct {
		Version *int64 `json:"version"`
		plan.SourceInput
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	src, err := s.plan.UpdateSource(c.Request().Context(), project(c).ID, id, version, body.SourceInput)
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, src)
}

func (s *Server) apiDeleteSource(c echo.Context) error {
	id, err := pathID(c, "id", "source")
	if err != nil {
		return err
	}
	if err := s.plan.DeleteSource(c.Request().Context(), project(c).ID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- applications ----

func (s *Server) apiListApplications(c echo.Context) error {
	apps, err := s.plan.FindApplications(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list(apps))
}

func (s *Server) apiCreateApplication(c echo.Context) error {
	var in plan.ApplicationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.plan.CreateApplication(c.Request().Context(), project(c).ID, in)
	if err != nil {
		return apiFieldNames(err)
	}
	return created(c, fmt.Sprintf("/api/v1/projects/%d/applications/%d", a.ProjectID, a.ID), a)
}

func (s *Server) apiGetApplication(c echo.Context) error {
	a, err := s.findApplication(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) apiUpdateApplication(c echo.Context) error {
	id, err := pathID(c, "id", "application")
	if err != nil {
		return err
	}
	var body struct {
		Version *int64 `json:"version"`
		plan.ApplicationInput
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	a, err := s.plan.UpdateApplication(c.Request().Context(), project(c).ID, id, version, body.ApplicationInput)
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) apiDeleteApplication(c echo.Context) error {
	id, err := pathID(c, "id", "application")
	if err != nil {
		return err
	}
	if err := s.plan.DeleteApplication(c.Request().Context(), project(c).ID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- goals ----

func (s *Server) apiGetGoals(c echo.Context) error {
	g, err := s.plan.FindGoals(c.Request().Context(), project(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

func (s *Server) apiUpdateGoals(c echo.Context) error {
	var body struct {
		Version *int64 `json:"version"`
		plan.GoalsInput
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	version, err := requireVersion(body.Version)
	if err != nil {
		return err
	}
	g, err := s.plan.UpdateGoals(c.Request().Context(), project(c).ID, version, body.GoalsInput)
	if err != nil {
		return apiFieldNames(err)
	}
	return c.JSON(http.StatusOK, g)
}

func created(c echo.Context, location string, v any) error {
	c.Response().Header().Set(echo.HeaderLocation, location)
	return c.JSON(http.StatusCreated, v)
}
