package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// openAPIDoc is the part of the OpenAPI document the route checks read.
type openAPIDoc struct {
	OpenAPI  string                                `json:"openapi"`
	Security []map[string][]string                 `json:"security"`
	Paths    map[string]map[string]json.RawMessage `json:"paths"`
}

type openAPIOperation struct {
	Security  *[]map[string][]string    `json:"security"`
	Responses map[string]map[string]any `json:"responses"`
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations lists "METHOD /path" → operation for every operation of the document.
func (d openAPIDoc) operations(t testing.TB) map[string]openAPIOperation {
	t.Helper()
	out := map[string]openAPIOperation{}
	for path, item := range d.Paths {
		for key, raw := range item {
			if !slices.Contains(openAPIMethods, key) {
				continue
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			out[strings.ToUpper(key)+" "+path] = op
		}
	}
	return out
}

// servedOpenAPI fetches the document the way a client does: without a token.
func servedOpenAPI(t *testing.T, app *testApp) ([]byte, openAPIDoc) {
	t.Helper()
	res := app.api("", http.MethodGet, "/api/v1/openapi.json", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/openapi.json without a token = %d %s, want 200 JSON: the document is public", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var doc openAPIDoc
	if err := json.Unmarshal([]byte(res.Body), &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	return []byte(res.Body), doc
}

func newOpenAPIValidator(t *testing.T, spec []byte) validator.Validator {
	t.Helper()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatalf("libopenapi cannot read openapi.json: %v", err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		t.Fatalf("openapi.json does not build into a model (unresolved $ref?): %v", errs)
	}
	return v
}

func describeValidationErrors(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s at %s (%s)", f.Reason, f.FieldPath, f.KeywordLocation)
		}
	}
	return b.String()
}

func TestOpenAPIDocumentIsValidOpenAPI303(t *testing.T) {
	app := newTestApp(t)
	spec, doc := servedOpenAPI(t, app)
	onDisk, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(spec, onDisk) {
		t.Fatal("the served document differs from web/openapi.json")
	}
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	v := newOpenAPIValidator(t, spec)
	if ok, errs := v.ValidateDocument(); !ok {
		t.Fatalf("openapi.json is not a valid OpenAPI 3.0 document:%s", describeValidationErrors(errs))
	}

	// Bearer tokens everywhere, except on the document itself.
	if len(doc.Security) != 1 || doc.Security[0]["bearerAuth"] == nil {
		t.Fatalf("global security = %v, want bearerAuth", doc.Security)
	}
	for key, op := range doc.operations(t) {
		public := key == "GET /api/v1/openapi.json"
		switch {
		case public && (op.Security == nil || len(*op.Security) != 0):
			t.Errorf("%s: want security: [] (public)", key)
		case !public && op.Security != nil:
			t.Errorf("%s overrides the global bearer security", key)
		}
	}

	// Every object schema closes its properties, so that a field the server
	// sends but the document lacks (or a misspelt one) fails the contract test.
	var full struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(spec, &full); err != nil {
		t.Fatal(err)
	}
	for name, s := range full.Components.Schemas {
		if s["type"] == "object" && s["additionalProperties"] != false {
			t.Errorf("schema %s: want additionalProperties: false", name)
		}
	}
}

// openAPIPath turns an echo route path (/projects/:pid) into an OpenAPI path (/projects/{pid}).
func openAPIPath(echoPath string) string {
	parts := strings.Split(echoPath, "/")
	for i, p := range parts {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			parts[i] = "{" + name + "}"
		}
	}
	return strings.Join(parts, "/")
}

func TestOpenAPIPathsMatchTheServersRoutes(t *testing.T) {
	app := newTestApp(t)
	_, doc := servedOpenAPI(t, app)

	registered := map[string]bool{}
	for _, r := range app.Server.Echo().Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") {
			registered[r.Method+" "+openAPIPath(r.Path)] = true
		}
	}
	documented := map[string]bool{}
	for key := range doc.operations(t) {
		documented[key] = true
	}
	if len(registered) == 0 {
		t.Fatal("no /api/v1 routes registered")
	}
	for _, key := range sortedKeys(registered) {
		if !documented[key] {
			t.Errorf("route %s is registered but missing from openapi.json", key)
		}
	}
	for _, key := range sortedKeys(documented) {
		if !registered[key] {
			t.Errorf("openapi.json documents %s, which the server does not register", key)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// contract calls the API and validates every answer against openapi.json,
// remembering which status each documented operation has answered.
type contract struct {
	t    *testing.T
	app  *testApp
	v    validator.Validator
	seen map[string]bool // "METHOD /api/v1/path/{pid} status"
}

// apiCall is one request: tmpl is the documented path, with {pid}, {sid} and {id}.
type apiCall struct {
	token        string
	method       string
	tmpl         string
	pid, sid, id int64
	query        string
	body         any // a string is sent as is; anything else as JSON
	// contentType overrides the body's Content-Type (application/json).
	contentType string
	// validRequest also checks the request against the document: set it for
	// requests a correct client would send.
	validRequest bool
}

func (c *contract) do(call apiCall) response {
	c.t.Helper()
	path := strings.NewReplacer("{pid}", strconv.FormatInt(call.pid, 10), "{sid}", strconv.FormatInt(call.sid, 10),
		"{id}", strconv.FormatInt(call.id, 10)).Replace(call.tmpl) + call.query
	var payload []byte
	if call.body != nil {
		if s, ok := call.body.(string); ok {
			payload = []byte(s)
		} else {
			var err error
			if payload, err = json.Marshal(call.body); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	newRequest := func() *http.Request {
		var rd io.Reader
		if call.body != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequest(call.method, c.app.HTTP.URL+path, rd)
		if err != nil {
			c.t.Fatal(err)
		}
		if call.body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if call.contentType != "" {
			req.Header.Set("Content-Type", call.contentType)
		}
		if call.token != "" {
			req.Header.Set("Authorization", "Bearer "+call.token)
		}
		return req
	}
	res, err := http.DefaultClient.Do(newRequest())
	if err != nil {
		c.t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	out := response{StatusCode: res.StatusCode, Header: res.Header, Body: string(body)}

	what := fmt.Sprintf("%s %s → %d", call.method, path, res.StatusCode)
	req := newRequest()
	checked := &http.Response{StatusCode: res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	if ok, errs := c.v.ValidateHttpResponse(req, checked); !ok {
		c.t.Errorf("%s: the response does not match openapi.json:%s\nbody: %s", what, describeValidationErrors(errs), body)
	}
	if call.validRequest {
		if ok, errs := c.v.ValidateHttpRequest(newRequest()); !ok {
			c.t.Errorf("%s: openapi.json does not accept this correct request:%s\nrequest body: %s", what, describeValidationErrors(errs), payload)
		}
	}
	c.seen[fmt.Sprintf("%s %s %d", call.method, call.tmpl, res.StatusCode)] = true
	return out
}

// want fails unless r has status; it returns r's body decoded as JSON.
func (c *contract) want(r response, status int, what string) map[string]any {
	c.t.Helper()
	if r.StatusCode != status {
		c.t.Fatalf("%s: status %d, want %d: %s", what, r.StatusCode, status, r.Body)
	}
	var out map[string]any
	if r.Body != "" {
		if err := json.Unmarshal([]byte(r.Body), &out); err != nil {
			c.t.Fatalf("%s: body is not a JSON object: %v: %s", what, err, r.Body)
		}
	}
	return out
}

func idOf(t testing.TB, v map[string]any) int64 {
	t.Helper()
	id, ok := v["id"].(float64)
	if !ok {
		t.Fatalf("no id in %v", v)
	}
	return int64(id)
}

// TestOpenAPIDescribesEveryAnswer drives every documented operation to every
// status it documents and validates each answer (and each correct request)
// against openapi.json with libopenapi-validator; it fails when a documented
// status never happens, as well as when an answer differs from the document.
func TestOpenAPIDescribesEveryAnswer(t *testing.T) {
	app := newTestApp(t)
	spec, doc := servedOpenAPI(t, app)
	c := &contract{t: t, app: app, v: newOpenAPIValidator(t, spec), seen: map[string]bool{}}

	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	viewer := app.mustAccount("viewer@example.com", "Vic Viewer", false)
	outsider := app.mustAccount("outsider@example.com", "Otto Outsider", false)
	admin := app.mustAccount("admin@example.com", "Ada Admin", true)
	leadTok, viewerTok, outsiderTok, adminTok := app.mustToken(lead), app.mustToken(viewer), app.mustToken(outsider), app.mustToken(admin)
	p := app.mustProject(lead, "Acme <b>Corp</b>")
	app.mustMember(p, viewer, auth.RoleViewer)

	const (
		projects     = "/api/v1/projects"
		project      = "/api/v1/projects/{pid}"
		readiness    = "/api/v1/projects/{pid}/readiness"
		userTypes    = "/api/v1/projects/{pid}/user-types"
		userType     = "/api/v1/projects/{pid}/user-types/{id}"
		sources      = "/api/v1/projects/{pid}/sources"
		source       = "/api/v1/projects/{pid}/sources/{id}"
		applications = "/api/v1/projects/{pid}/applications"
		application  = "/api/v1/projects/{pid}/applications/{id}"
		goals        = "/api/v1/projects/{pid}/goals"
		attributes   = "/api/v1/projects/{pid}/attributes"
		fields       = "/api/v1/projects/{pid}/sources/{sid}/fields"
		field        = "/api/v1/projects/{pid}/fields/{id}"
		matrix       = "/api/v1/projects/{pid}/matrix"
		matrixCSV    = "/api/v1/projects/{pid}/matrix.csv"
		matrixXLSX   = "/api/v1/projects/{pid}/matrix.xlsx"
		rows         = "/api/v1/projects/{pid}/matrix/rows"
		row          = "/api/v1/projects/{pid}/matrix/rows/{id}"
	)

	// The happy path, on project p: every operation's success answer.
	c.want(c.do(apiCall{method: "GET", tmpl: "/api/v1/openapi.json", validRequest: true}), 200, "document")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: projects, validRequest: true}), 200, "list projects")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: project, pid: p.ID, validRequest: true}), 200, "get project")
	c.want(c.do(apiCall{token: leadTok, method: "PATCH", tmpl: project, pid: p.ID, validRequest: true,
		body: map[string]any{"version": 1, "description": "Move everyone.\nSoon.", "oktaOrgUrl": "https://acme.okta.com", "migrationType": "program",
			"status": "rehearsing", "userCreationRateLimit": 100, "loadRateSharePercent": 50}}), 200, "patch project")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: readiness, pid: p.ID, validRequest: true}), 200, "empty readiness")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: userTypes, pid: p.ID, validRequest: true}), 200, "no user types")

	staff := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: userTypes, pid: p.ID, validRequest: true,
		body: map[string]any{"kind": "full_time_employee", "name": "Staff", "userCount": 1200, "notes": "<script>alert(1)</script>",
			"subgroups": []map[string]any{{"name": "Sales", "userCount": 300}, {"name": "Ops"}}}}), 201, "create user type")
	bare := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: userTypes, pid: p.ID, validRequest: true,
		body: map[string]any{"kind": "customer", "name": "Customers"}}), 201, "create user type without subgroups")
	staffID, bareID := idOf(t, staff), idOf(t, bare)
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: userType, pid: p.ID, id: staffID, validRequest: true}), 200, "get user type")
	c.want(c.do(apiCall{token: leadTok, method: "PATCH", tmpl: userType, pid: p.ID, id: bareID, validRequest: true,
		body: map[string]any{"version": 1, "userCount": 5000, "subgroups": []any{}}}), 200, "patch user type")

	src := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: sources, pid: p.ID, validRequest: true,
		body: map[string]any{"name": "Corporate AD", "kind": "active_directory", "userTypeIds": []int64{bareID, staffID}, "accessOwner": "Ann Admin",
			"accessStatus": "granted", "accessStatusDate": "2026-02-27", "accessReference": "CHG-1", "migrateCredentials": "yes",
			"migrateGroups": "yes", "migrateMemberships": "yes", "passwordHashFormat": "bcrypt", "notes": ""}}), 201, "create source")
	bareSrc := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: sources, pid: p.ID, validRequest: true,
		body: map[string]any{"name": "HR export", "kind": "file_export"}}), 201, "create source without user types")
	srcID := idOf(t, src)
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: sources, pid: p.ID, validRequest: true}), 200, "list sources")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: source, pid: p.ID, id: srcID, validRequest: true}), 200, "get source")
	c.want(c.do(apiCall{token: leadTok, method: "PATCH", tmpl: source, pid: p.ID, id: idOf(t, bareSrc), validRequest: true,
		body: map[string]any{"version": 1, "migrateCredentials": "no", "migrateGroups": "no", "migrateMemberships": "no", "passwordHashFormat": ""}}), 200, "patch source")

	app1 := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: applications, pid: p.ID, validRequest: true,
		body: map[string]any{"name": "Wiki", "accessMethod": "saml", "assignmentBasis": "group", "userTypeIds": []int64{staffID},
			"oinStatus": "yes", "oinLink": "https://www.okta.com/integrations/confluence/", "notes": "n"}}), 201, "create application")
	app2 := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: applications, pid: p.ID, validRequest: true,
		body: map[string]any{"name": "Mail", "accessMethod": "oidc", "assignmentBasis": "user_type"}}), 201, "create application without user types")
	appID := idOf(t, app1)
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: applications, pid: p.ID, validRequest: true}), 200, "list applications")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: application, pid: p.ID, id: appID, validRequest: true}), 200, "get application")
	c.want(c.do(apiCall{token: leadTok, method: "PATCH", tmpl: application, pid: p.ID, id: idOf(t, app2), validRequest: true,
		body: map[string]any{"version": 1, "oinStatus": "no", "userTypeIds": []int64{}}}), 200, "patch application")

	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: goals, pid: p.ID, validRequest: true}), 200, "get goals")
	c.want(c.do(apiCall{token: leadTok, method: "PATCH", tmpl: goals, pid: p.ID, validRequest: true,
		body: map[string]any{"version": 1, "userExperience": "Nobody notices.", "acceptableImpact": "One reset email.", "archiveLegacyData": "Yes, 7 years.",
			"policiesAndStandards": "GDPR", "oneShotAcceptable": "No", "stagesPreferred": "Yes", "approach": "staged", "rationale": "Fewer interruptions."}}), 200, "patch goals")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: readiness, pid: p.ID, validRequest: true}), 200, "readiness with records")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: userTypes, pid: p.ID, validRequest: true}), 200, "list user types")

	// The Okta profile, source fields and the matrix. The records the error
	// statuses are provoked on come from the services; the API creates its own.
	ctx := asActor(lead)
	if _, err := app.Schema.CreateCustomAttribute(ctx, p.ID, schema.CustomAttributeInput{Name: pval("badgeNumber"), Title: pval("Badge number"),
		Type: pval("string"), MaxLength: schema.SetInt(12), Enum: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	seeded, err := app.Map.CreateField(ctx, p.ID, srcID, mapping.FieldInput{Name: pval("employeeID"), KnownUnique: pval(true), Samples: &[]string{"E1", "E2"}})
	if err != nil {
		t.Fatal(err)
	}
	seededRow, err := app.Map.CreateRow(ctx, p.ID, mapping.RowInput{SourceFieldID: &seeded.ID, TargetAttribute: pval("employeeNumber")})
	if err != nil {
		t.Fatal(err)
	}
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: attributes, pid: p.ID, validRequest: true}), 200, "list attributes")
	mail := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: fields, pid: p.ID, sid: srcID, validRequest: true,
		body: map[string]any{"name": "mail", "dataType": "string", "maxLength": 256, "multiValued": false, "knownUnique": true,
			"samples": []string{"ada@example.com", "=HYPERLINK(\"http://x\")", "+4930123456"}, "pii": "yes", "piiCategory": "contact", "notes": "Primary address."}}), 201, "create field")
	given := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: fields, pid: p.ID, sid: srcID, validRequest: true,
		body: map[string]any{"name": "givenName"}}), 201, "create field with a name only")
	mailID, givenID := idOf(t, mail), idOf(t, given)
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: fields, pid: p.ID, sid: srcID, validRequest: true}), 200, "list fields")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: field, pid: p.ID, id: mailID, validRequest: true}), 200, "get field")
	c.want(c.do(apiCall{token: leadTok, method: "PATCH", tmpl: field, pid: p.ID, id: givenID, validRequest: true,
		body: map[string]any{"version": 1, "maxLength": nil, "dataType": "string", "pii": "yes", "piiCategory": "identifier"}}), 200, "patch field")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: matrix, pid: p.ID, validRequest: true}), 200, "matrix with undecided fields")
	mapped := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: rows, pid: p.ID, validRequest: true,
		body: map[string]any{"sourceFieldId": mailID, "targetAttribute": "email", "status": "mapped", "priority": 1,
			"transform": `[{"op":"trim"},{"op":"lower"}]`, "notes": "As is."}}), 201, "create row")
	c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: rows, pid: p.ID, validRequest: true,
		body: map[string]any{"sourceFieldId": givenID, "status": "ignored"}}), 201, "create ignored row")
	c.want(c.do(apiCall{token: leadTok, method: "PATCH", tmpl: row, pid: p.ID, id: idOf(t, mapped), validRequest: true,
		body: map[string]any{"version": 1, "priority": 2, "transform": "", "notes": "Lower-cased by Okta anyway."}}), 200, "patch row")
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: matrix, pid: p.ID, validRequest: true}), 200, "matrix with rows and problems")
	c.do(apiCall{token: leadTok, method: "GET", tmpl: matrixCSV, pid: p.ID, validRequest: true})
	c.do(apiCall{token: leadTok, method: "GET", tmpl: matrixXLSX, pid: p.ID, validRequest: true})
	if _, err := app.Priv.Decide(asActor(lead), p.ID, mailID, 0, privacy.DecisionInput{Status: privacy.StatusApproved,
		Decision: privacy.DecisionMigrate, LawfulBasis: "contract"}); err != nil {
		t.Fatal(err)
	}
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: readiness, pid: p.ID, validRequest: true}), 200, "readiness with the matrix and the PII register")

	// Every documented error status, for every operation, against p and its records.
	idFor := map[string]int64{userType: staffID, source: srcID, application: appID, field: seeded.ID, row: seededRow.ID}
	validBody := map[string]any{
		"POST " + projects:      map[string]any{"name": "Another"},
		"PATCH " + project:      map[string]any{"version": 2, "status": "loading"},
		"POST " + userTypes:     map[string]any{"kind": "partner", "name": "Partners"},
		"PATCH " + userType:     map[string]any{"version": 1, "userCount": 1},
		"POST " + sources:       map[string]any{"name": "LDAP", "kind": "ldap"},
		"PATCH " + source:       map[string]any{"version": 1, "accessOwner": "Someone"},
		"POST " + applications:  map[string]any{"name": "CRM", "accessMethod": "swa", "assignmentBasis": "individual"},
		"PATCH " + application:  map[string]any{"version": 1, "notes": "x"},
		"PATCH " + goals:        map[string]any{"version": 2, "rationale": "x"},
		"DELETE " + project:     nil,
		"DELETE " + userType:    nil,
		"DELETE " + source:      nil,
		"DELETE " + application: nil,
		"POST " + fields:        map[string]any{"name": "department"},
		"PATCH " + field:        map[string]any{"version": 1, "notes": "x"},
		"POST " + rows:          map[string]any{"sourceFieldId": seeded.ID, "targetAttribute": "badgeNumber"},
		"PATCH " + row:          map[string]any{"version": 1, "notes": "x"},
		"DELETE " + field:       nil,
		"DELETE " + row:         nil,
	}
	staleBody := map[string]any{
		project: map[string]any{"version": 99, "name": "Renamed elsewhere"}, userType: map[string]any{"version": 99, "name": "Renamed elsewhere"},
		source: map[string]any{"version": 99, "name": "Renamed elsewhere"}, application: map[string]any{"version": 99, "name": "Renamed elsewhere"},
		goals: map[string]any{"version": 99, "rationale": "Changed elsewhere"},
		field: map[string]any{"version": 99, "notes": "Changed elsewhere"}, row: map[string]any{"version": 99, "notes": "Changed elsewhere"},
	}
	// writerFor names, by path, a token of a role that may write there when
	// the project lead's may not (staged data is an engineer's).
	writerFor := describeDataAnswers(t, c, dataContractWorld{app: app, p: p, lead: lead, srcID: srcID, leadTok: leadTok,
		idFor: idFor, validBody: validBody, staleBody: staleBody})
	for path, tok := range describeJobAnswers(t, c, jobsContractWorld{app: app, p: p, idFor: idFor, validBody: validBody}) {
		writerFor[path] = tok
	}
	describeOktaOrgAnswers(t, c, p, leadTok, validBody)
	describePasswordSettingsAnswers(t, c, p, validBody, writerFor)
	describeProgramAnswers(t, c, p, leadTok, validBody, writerFor)
	// The provocations come from the routes' shape, not from the document,
	// so that a status the document forgot fails validation.
	ops := doc.operations(t)
	for _, key := range sortedKeys(ops) {
		method, tmpl, _ := strings.Cut(key, " ")
		if tmpl == "/api/v1/openapi.json" {
			continue
		}
		base := apiCall{method: method, tmpl: tmpl, pid: p.ID, sid: srcID, id: idFor[tmpl], body: validBody[key]}
		writer := leadTok
		if tok, ok := writerFor[tmpl]; ok && method != "GET" {
			writer = tok
		}
		if method == "DELETE" && tmpl == project {
			base.query = "?confirm=" + strings.ReplaceAll(p.Name, " ", "%20")
		}
		with := func(change func(*apiCall)) apiCall {
			call := base
			change(&call)
			return call
		}
		provoke := map[int]apiCall{401: with(func(c *apiCall) { c.token = "" })}
		if strings.HasPrefix(tmpl, project) {
			provoke[404] = with(func(c *apiCall) {
				c.token = outsiderTok // not a member
				if c.id != 0 {
					c.token, c.id = writer, 999999
				}
			})
			if method == "GET" {
				provoke[403] = with(func(c *apiCall) { c.token = adminTok }) // admins manage members, they do not read plans
			} else {
				provoke[403] = with(func(c *apiCall) { c.token = viewerTok })
			}
		}
		if method == "PATCH" {
			provoke[409] = with(func(c *apiCall) { c.token, c.body = writer, staleBody[tmpl] })
		}
		if method == "POST" || method == "PATCH" {
			provoke[422] = with(func(c *apiCall) { c.token, c.body = writer, map[string]any{"version": 1, "colour": "blue"} })
		}
		if method == "DELETE" && tmpl == project {
			provoke[422] = with(func(c *apiCall) { c.token, c.query = leadTok, "?confirm=not+the+name" })
		}
		for _, status := range []int{401, 403, 404, 409, 422} {
			call, ok := provoke[status]
			if !ok {
				continue
			}
			e := c.want(c.do(call), status, fmt.Sprintf("%s for status %d", key, status))
			if body, _ := e["error"].(map[string]any); status == 409 && (body["currentVersion"] == nil || body["changes"] == nil) {
				t.Errorf("%s: a version conflict without currentVersion and changes: %v", key, e)
			}
		}
	}

	// The success answers of the deletes, on their own records.
	c.want(c.do(apiCall{token: leadTok, method: "DELETE", tmpl: row, pid: p.ID, id: seededRow.ID, validRequest: true}), 204, "delete row")
	c.want(c.do(apiCall{token: leadTok, method: "DELETE", tmpl: field, pid: p.ID, id: seeded.ID, validRequest: true}), 204, "delete field")
	c.want(c.do(apiCall{token: leadTok, method: "DELETE", tmpl: application, pid: p.ID, id: appID, validRequest: true}), 204, "delete application")
	c.want(c.do(apiCall{token: leadTok, method: "DELETE", tmpl: source, pid: p.ID, id: srcID, validRequest: true}), 204, "delete source")
	c.want(c.do(apiCall{token: leadTok, method: "DELETE", tmpl: userType, pid: p.ID, id: staffID, validRequest: true}), 204, "delete user type")
	created := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: projects, validRequest: true,
		body: map[string]any{"name": "Doomed", "description": "d", "oktaOrgUrl": "", "migrationType": "one_time", "status": "on_hold",
			"userCreationRateLimit": 600, "loadRateSharePercent": 80}}), 201, "create project")
	c.want(c.do(apiCall{token: leadTok, method: "DELETE", tmpl: project, pid: idOf(t, created), query: "?confirm=Doomed", validRequest: true}), 204, "delete project")

	// A database that stops answering: every operation answers 500 with the error body.
	if err := app.DB.Close(); err != nil {
		t.Fatal(err)
	}
	for _, key := range sortedKeys(ops) {
		method, tmpl, _ := strings.Cut(key, " ")
		if _, documented := ops[key].Responses["500"]; !documented {
			continue
		}
		e := c.want(c.do(apiCall{token: leadTok, method: method, tmpl: tmpl, pid: p.ID, sid: srcID, id: idFor[tmpl], body: validBody[key]}), 500, key+" on a closed database")
		if msg, _ := e["error"].(map[string]any)["message"].(string); !strings.HasPrefix(msg, "Something went wrong (reference: ") {
			t.Errorf("%s: internal error message %q should name the reference only", key, msg)
		}
	}

	for _, key := range sortedKeys(ops) {
		method, tmpl, _ := strings.Cut(key, " ")
		for status := range ops[key].Responses {
			if !c.seen[method+" "+tmpl+" "+status] {
				t.Errorf("%s documents status %s, which the test never saw it answer", key, status)
			}
		}
	}
}

// TestOpenAPIEnumsAndLimitsFollowTheServices fails when an option or a limit
// changes in code but not in the document.
func TestOpenAPIEnumsAndLimitsFollowTheServices(t *testing.T) {
	app := newTestApp(t)
	spec, _ := servedOpenAPI(t, app)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum      []string `json:"enum"`
					MaxLength *int     `json:"maxLength"`
					Maximum   *int64   `json:"maximum"`
					MaxItems  *int     `json:"maxItems"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	prop := func(schema, name string) (enum []string, maxLength *int, maximum *int64, maxItems *int) {
		t.Helper()
		s, ok := schemas[schema]
		if !ok {
			t.Fatalf("no schema %s", schema)
		}
		p, ok := s.Properties[name]
		if !ok {
			t.Fatalf("schema %s has no property %s", schema, name)
		}
		return p.Enum, p.MaxLength, p.Maximum, p.MaxItems
	}
	// Every variant of a resource (read, create, update) carries the same rules.
	variants := func(resource string) []string {
		return []string{resource, resource + "Create", resource + "Update"}
	}
	enums := []struct {
		resource, field string
		options         []plan.Option
		optional        bool
	}{
		{"Project", "migrationType", plan.MigrationTypes(), false},
		{"Project", "status", plan.ProjectStatuses(), false},
		{"UserType", "kind", plan.UserTypeKinds(), false},
		{"Source", "kind", plan.SourceKinds(), false},
		{"Source", "accessStatus", plan.AccessStatuses(), false},
		{"Source", "migrateCredentials", plan.Decisions(), false},
		{"Source", "migrateGroups", plan.Decisions(), false},
		{"Source", "migrateMemberships", plan.Decisions(), false},
		{"Source", "passwordHashFormat", plan.PasswordHashFormats(), true},
		{"Application", "accessMethod", plan.AccessMethods(), false},
		{"Application", "assignmentBasis", plan.AssignmentBases(), false},
		{"Application", "oinStatus", plan.OINStatuses(), false},
		{"Goals", "approach", plan.Approaches(), true},
	}
	for _, e := range enums {
		want := plan.Values(e.options)
		if e.optional {
			want = append([]string{""}, want...)
		}
		schemasOf := variants(e.resource)
		if e.resource == "Goals" {
			schemasOf = []string{"Goals", "GoalsUpdate"}
		}
		for _, s := range schemasOf {
			if got, _, _, _ := prop(s, e.field); !slices.Equal(got, want) {
				t.Errorf("%s.%s enum = %q, want %q (internal/plan/options.go)", s, e.field, got, want)
			}
		}
	}

	lengths := []struct {
		resource, field string
		max             int
	}{
		{"Project", "name", apperr.MaxNameLen}, {"Project", "description", apperr.MaxTextLen}, {"Project", "oktaOrgUrl", apperr.MaxShortLen},
		{"UserType", "name", apperr.MaxNameLen}, {"UserType", "notes", apperr.MaxTextLen},
		{"Source", "name", apperr.MaxNameLen}, {"Source", "accessOwner", apperr.MaxNameLen}, {"Source", "accessReference", apperr.MaxShortLen}, {"Source", "notes", apperr.MaxTextLen},
		{"Application", "name", apperr.MaxNameLen}, {"Application", "oinLink", apperr.MaxShortLen}, {"Application", "notes", apperr.MaxTextLen},
		{"Subgroup", "name", apperr.MaxNameLen}, {"SubgroupInput", "name", apperr.MaxNameLen},
	}
	for _, l := range lengths {
		schemasOf := variants(l.resource)
		if strings.HasPrefix(l.resource, "Subgroup") {
			schemasOf = []string{l.resource}
		}
		for _, s := range schemasOf {
			if _, got, _, _ := prop(s, l.field); got == nil || *got != l.max {
				t.Errorf("%s.%s maxLength = %v, want %d", s, l.field, got, l.max)
			}
		}
	}
	for _, q := range []string{"userExperience", "acceptableImpact", "archiveLegacyData", "policiesAndStandards", "oneShotAcceptable", "stagesPreferred", "rationale"} {
		for _, s := range []string{"Goals", "GoalsUpdate"} {
			if _, got, _, _ := prop(s, q); got == nil || *got != apperr.MaxTextLen {
				t.Errorf("%s.%s maxLength = %v, want %d", s, q, got, apperr.MaxTextLen)
			}
		}
	}
	for _, s := range append(variants("UserType"), "Subgroup", "SubgroupInput") {
		if _, _, got, _ := prop(s, "userCount"); got == nil || *got != plan.MaxUserCount {
			t.Errorf("%s.userCount maximum = %v, want %d", s, got, plan.MaxUserCount)
		}
	}
	for _, s := range variants("UserType") {
		if _, _, _, got := prop(s, "subgroups"); got == nil || *got != plan.MaxSubgroups {
			t.Errorf("%s.subgroups maxItems = %v, want %d", s, got, plan.MaxSubgroups)
		}
	}
	for _, s := range variants("Project") {
		if _, _, got, _ := prop(s, "userCreationRateLimit"); got == nil || *got != plan.MaxRateLimit {
			t.Errorf("%s.userCreationRateLimit maximum = %v, want %d", s, got, plan.MaxRateLimit)
		}
	}

	// The matrix's options and limits (internal/mapping, internal/schema).
	mappingValues := func(opts []mapping.Option, optional bool) []string {
		var out []string
		if optional {
			out = append(out, "")
		}
		for _, o := range opts {
			out = append(out, o.Value)
		}
		return out
	}
	matrixEnums := []struct {
		schemas []string
		field   string
		want    []string
	}{
		{variants("SourceField"), "dataType", mappingValues(mapping.DataTypes(), false)},
		{variants("SourceField"), "pii", mappingValues(mapping.PIIStates(), false)},
		{variants("SourceField"), "piiCategory", mappingValues(mapping.PIICategories(), true)},
		{[]string{"SourceField"}, "piiSuggestion", mappingValues(mapping.PIICategories(), true)},
		{variants("MatrixRow"), "status", []string{mapping.StatusMapped, mapping.StatusIgnored}},
		{[]string{"MatrixLine"}, "status", []string{"undecided", mapping.StatusMapped, mapping.StatusIgnored}},
		{[]string{"MatrixProblem"}, "severity", []string{mapping.SeverityBlocking, mapping.SeverityWarning}},
		{[]string{"Attribute"}, "type", schema.Types()},
	}
	for _, e := range matrixEnums {
		for _, s := range e.schemas {
			if got, _, _, _ := prop(s, e.field); !slices.Equal(got, e.want) {
				t.Errorf("%s.%s enum = %q, want %q", s, e.field, got, e.want)
			}
		}
	}
	for _, s := range variants("SourceField") {
		if _, got, _, _ := prop(s, "name"); got == nil || *got != apperr.MaxNameLen {
			t.Errorf("%s.name maxLength = %v, want %d", s, got, apperr.MaxNameLen)
		}
		if _, _, got, _ := prop(s, "maxLength"); got == nil || *got != mapping.MaxFieldLength {
			t.Errorf("%s.maxLength maximum = %v, want %d", s, got, mapping.MaxFieldLength)
		}
		if _, _, _, got := prop(s, "samples"); got == nil || *got != mapping.MaxSamples {
			t.Errorf("%s.samples maxItems = %v, want %d", s, got, mapping.MaxSamples)
		}
	}
	for _, s := range append(variants("SourceField"), variants("MatrixRow")...) {
		if _, got, _, _ := prop(s, "notes"); got == nil || *got != apperr.MaxTextLen {
			t.Errorf("%s.notes maxLength = %v, want %d", s, got, apperr.MaxTextLen)
		}
	}
	for _, s := range append(variants("MatrixRow"), "MatrixLine") {
		if _, _, got, _ := prop(s, "priority"); got == nil || *got != mapping.MaxPriority {
			t.Errorf("%s.priority maximum = %v, want %d", s, got, mapping.MaxPriority)
		}
	}
}
