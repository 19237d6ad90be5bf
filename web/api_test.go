package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// apiErrorBody is the "error" object of every API error answer.
type apiErrorBody struct {
	Code           string            `json:"code"`
	Message        string            `json:"message"`
	Fields         map[string]string `json:"fields"`
	Changes        []apiFieldChange  `json:"changes"`
	CurrentVersion int64             `json:"currentVersion"`
	RequestID      string            `json:"requestId"`
}

type apiFieldChange struct {
	Field, Label, Stored, Yours string
}

// apiDecode decodes a JSON answer of the given status into T.
func apiDecode[T any](t testing.TB, r response, status int) T {
	t.Helper()
	var out T
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d: %.500s", r.StatusCode, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	dec := json.NewDecoder(strings.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("answer does not decode into %T: %v: %s", out, err, r.Body)
	}
	return out
}

// apiWantError checks an error answer: status, JSON body, code, a message,
// and the request id of the X-Request-Id header.
func apiWantError(t testing.TB, r response, status int, code string) apiErrorBody {
	t.Helper()
	body := apiDecode[struct {
		Error apiErrorBody `json:"error"`
	}](t, r, status).Error
	if body.Code != code || body.Message == "" {
		t.Fatalf("error = %+v, want code %q with a message", body, code)
	}
	if body.RequestID == "" || body.RequestID != r.Header.Get("X-Request-Id") {
		t.Fatalf("requestId %q, X-Request-Id %q: want the same, non-empty", body.RequestID, r.Header.Get("X-Request-Id"))
	}
	return body
}

// apiWantField checks a 422 answer with a message for field that contains want.
func apiWantField(t testing.TB, r response, field, want string) apiErrorBody {
	t.Helper()
	e := apiWantError(t, r, http.StatusUnprocessableEntity, "invalid")
	if msg, ok := e.Fields[field]; !ok || !strings.Contains(msg, want) {
		t.Fatalf("fields = %v, want %q to say %q", e.Fields, field, want)
	}
	return e
}

// apiRaw sends a request with exactly the headers given.
func apiRaw(t testing.TB, app *testApp, method, path string, header http.Header, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, app.HTTP.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{StatusCode: res.StatusCode, Header: res.Header, Body: string(b)}
}

func apiAuditCount(t testing.TB, app *testApp) int64 {
	t.Helper()
	var n int64
	if err := app.DB.Read.Raw("SELECT COUNT(*) FROM audit_entries").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func apiProjectPath(id int64, rest string) string {
	return fmt.Sprintf("/api/v1/projects/%d%s", id, rest)
}

// apiWorld is a project with its lead and the lead's API token.
type apiWorld struct {
	app   *testApp
	lead  *auth.Account
	token string
	p     *plan.Project
}

func newAPIWorld(t *testing.T) *apiWorld {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	return &apiWorld{app: app, lead: lead, token: app.mustToken(lead), p: app.mustProject(lead, "Acme")}
}

func (w *apiWorld) path(rest string) string { return apiProjectPath(w.p.ID, rest) }

func (w *apiWorld) call(method, rest string, body any) response {
	return w.app.api(w.token, method, w.path(rest), body)
}

func (w *apiWorld) mustUserType(t *testing.T, name string, count int64) plan.UserType {
	t.Helper()
	return apiDecode[plan.UserType](t, w.call("POST", "/user-types", map[string]any{"kind": "customer", "name": name, "userCount": count}), http.StatusCreated)
}

// ---- authentication ----

func TestAPIRefusesRequestsWithoutAValidToken(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	p := app.mustProject(lead, "Acme")
	ctx := context.Background()
	revoked, tok, err := app.Auth.CreateAPIToken(ctx, lead.ID, "old script")
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Auth.RevokeAPIToken(ctx, lead.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	gone := app.mustAccount("gone@example.com", "Gus Gone", false)
	goneToken := app.mustToken(gone)
	admin := app.mustAccount("admin@example.com", "Ada Admin", true)
	disabled := true
	if _, err := app.Auth.UpdateAccount(ctx, gone.ID, gone.Version, auth.AccountUpdate{Disabled: &disabled}); err != nil {
		t.Fatalf("disable account (as %s): %v", admin.Email, err)
	}
	valid := app.mustToken(lead)

	tests := []struct {
		name          string
		authorization string
	}{
		{"no Authorization header", ""},
		{"a Basic credential", "Basic " + "bGVhZDpwYXNzd29yZA=="},
		{"Bearer without a token", "Bearer "},
		{"a token without the ferry_ prefix", "Bearer " + strings.TrimPrefix(valid, "ferry_")},
		{"a malformed token", "Bearer ferry_not-a-real-token"},
		{"a token with one character changed", "Bearer " + valid[:len(valid)-1] + string(valid[len(valid)-1]^1)},
		{"an overlong token", "Bearer ferry_" + strings.Repeat("a", 5000)},
		{"a revoked token", "Bearer " + revoked},
		{"a disabled account's token", "Bearer " + goneToken},
		{"a misspelt scheme", "Bearerr " + valid},
		{"the token without a scheme", valid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := apiAuditCount(t, app)
			h := http.Header{}
			if tt.authorization != "" {
				h.Set("Authorization", tt.authorization)
			}
			for _, req := range []struct{ method, path, body string }{
				{"GET", "/api/v1/projects", ""},
				{"GET", apiProjectPath(p.ID, ""), ""},
				{"POST", "/api/v1/projects", `{"name":"Sneaky"}`},
				{"PATCH", apiProjectPath(p.ID, ""), `{"version":1,"name":"Hijacked"}`},
				{"DELETE", apiProjectPath(p.ID, "?confirm=Acme"), ""},
			} {
				rh := h.Clone()
				var body io.Reader
				if req.body != "" {
					rh.Set("Content-Type", "application/json")
					body = strings.NewReader(req.body)
				}
				res := apiRaw(t, app, req.method, req.path, rh, body)
				e := apiWantError(t, res, http.StatusUnauthorized, "unauthorized")
				if got := res.Header.Get("WWW-Authenticate"); got != `Bearer realm="ferry"` {
					t.Errorf("%s %s: WWW-Authenticate = %q", req.method, req.path, got)
				}
				if !strings.Contains(e.Message, "Bearer") {
					t.Errorf("%s %s: message %q should say how to authenticate", req.method, req.path, e.Message)
				}
				for _, secret := range []string{valid, revoked, goneToken} {
					if strings.Contains(res.Body, secret) {
						t.Errorf("%s %s: the answer echoes a token", req.method, req.path)
					}
				}
			}
			if got, _ := app.Plan.FindProjectByID(ctx, p.ID); got.Name != "Acme" || got.Version != 1 {
				t.Fatalf("project changed without a valid token: %+v", got)
			}
			if n := apiAuditCount(t, app); n != before {
				t.Fatalf("audit entries %d → %d: something was written", before, n)
			}
		})
	}
	if strings.Contains(app.Logs.String(), revoked) || strings.Contains(app.Logs.String(), valid) {
		t.Fatal("a token reached the log")
	}
	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		t.Run("a valid token with the scheme written "+scheme+" is accepted", func(t *testing.T) {
			res := apiRaw(t, app, "GET", "/api/v1/projects", http.Header{"Authorization": {scheme + " " + valid}}, nil)
			list := apiDecode[struct{ Items []plan.Project }](t, res, http.StatusOK)
			if len(list.Items) != 1 || list.Items[0].ID != p.ID {
				t.Fatalf("items = %+v", list.Items)
			}
		})
	}
}

func TestAPIIgnoresSessionCookies(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	p := app.mustProject(lead, "Acme")
	b := app.signedIn(lead)
	if res := b.get("/projects"); res.StatusCode != http.StatusOK {
		t.Fatalf("the session itself does not work: %d", res.StatusCode)
	}
	apiWantError(t, b.get("/api/v1/projects"), http.StatusUnauthorized, "unauthorized")
	apiWantError(t, b.get(apiProjectPath(p.ID, "/user-types")), http.StatusUnauthorized, "unauthorized")

	// Even with the CSRF token a page would send, a cookie does not write.
	req, _ := http.NewRequest("POST", app.HTTP.URL+"/api/v1/projects", strings.NewReader(`{"name":"By cookie"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf())
	apiWantError(t, b.do(req), http.StatusUnauthorized, "unauthorized")
	if list, _ := app.Plan.FindProjects(context.Background(), nil); len(list) != 1 {
		t.Fatalf("projects = %d, want the cookie refused", len(list))
	}
}

// ---- resources ----

func TestAPIProjectLifecycle(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	token := app.mustToken(lead)

	res := app.api(token, "POST", "/api/v1/projects", map[string]any{"name": "  Northwind  "})
	p := apiDecode[plan.Project](t, res, http.StatusCreated)
	if res.Header.Get("Location") != apiProjectPath(p.ID, "") {
		t.Fatalf("Location = %q", res.Header.Get("Location"))
	}
	if p.Name != "Northwind" || p.MigrationType != "one_time" || p.Status != "planning" || p.UserCreationRateLimit != 600 ||
		p.LoadRateSharePercent != 80 || p.Version != 1 || p.CreatedAt.IsZero() {
		t.Fatalf("created = %+v, want the name trimmed and the defaults", p)
	}
	if role, _ := app.Auth.RoleIn(context.Background(), lead.ID, p.ID); role != auth.RoleProjectLead {
		t.Fatalf("creator's role = %q, want project lead", role)
	}
	if again := app.api(token, "GET", res.Header.Get("Location"), nil); again.StatusCode != http.StatusOK || again.Body != res.Body {
		t.Fatalf("GET Location = %d %s, want what the create answered: %s", again.StatusCode, again.Body, res.Body)
	}
	list := apiDecode[struct{ Items []plan.Project }](t, app.api(token, "GET", "/api/v1/projects", nil), http.StatusOK)
	if len(list.Items) != 1 || list.Items[0].ID != p.ID {
		t.Fatalf("list = %+v", list.Items)
	}

	upd := apiDecode[plan.Project](t, app.api(token, "PATCH", apiProjectPath(p.ID, ""), map[string]any{"version": 1,
		"description": "Everyone into Okta.", "oktaOrgUrl": "https://northwind.okta.com", "migrationType": "program", "status": "rehearsing",
		"userCreationRateLimit": 100, "loadRateSharePercent": 50}), http.StatusOK)
	if upd.Version != 2 || upd.Name != "Northwind" || upd.MigrationType != "program" || upd.UserCreationRateLimit != 100 || upd.OktaOrgURL != "https://northwind.okta.com" {
		t.Fatalf("updated = %+v", upd)
	}
	got := apiDecode[plan.Project](t, app.api(token, "GET", apiProjectPath(p.ID, ""), nil), http.StatusOK)
	if got.Version != 2 || got.Status != "rehearsing" || got.LoadRateSharePercent != 50 {
		t.Fatalf("stored = %+v", got)
	}

	for _, tt := range []struct{ name, query string }{
		{"without confirm", ""},
		{"with another name", "?confirm=Southwind"},
		{"with the name in other case", "?confirm=northwind"},
	} {
		t.Run("delete "+tt.name+" is refused", func(t *testing.T) {
			apiWantField(t, app.api(token, "DELETE", apiProjectPath(p.ID, tt.query), nil), "confirm", "Type the project's name exactly")
			apiDecode[plan.Project](t, app.api(token, "GET", apiProjectPath(p.ID, ""), nil), http.StatusOK)
		})
	}
	res = app.api(token, "DELETE", apiProjectPath(p.ID, "?confirm=Northwind"), nil)
	if res.StatusCode != http.StatusNoContent || res.Body != "" {
		t.Fatalf("delete = %d %q, want 204 and no body", res.StatusCode, res.Body)
	}
	apiWantError(t, app.api(token, "GET", apiProjectPath(p.ID, ""), nil), http.StatusNotFound, "not_found")
	apiWantError(t, app.api(token, "GET", apiProjectPath(p.ID, "/goals"), nil), http.StatusNotFound, "not_found")
	if list := apiDecode[struct{ Items []plan.Project }](t, app.api(token, "GET", "/api/v1/projects", nil), http.StatusOK); len(list.Items) != 0 {
		t.Fatalf("list after delete = %+v", list.Items)
	}
	if res := app.api(token, "GET", "/api/v1/projects", nil); !strings.Contains(res.Body, `"items":[]`) {
		t.Fatalf("an empty list is %s, want items: []", res.Body)
	}
}

func TestAPIUserTypesWithSubgroups(t *testing.T) {
	w := newAPIWorld(t)
	if res := w.call("GET", "/user-types", nil); !strings.Contains(res.Body, `"items":[]`) {
		t.Fatalf("no user types = %s, want items: []", res.Body)
	}
	res := w.call("POST", "/user-types", map[string]any{"kind": "full_time_employee", "name": "Staff", "userCount": 1200, "notes": "HQ and branches",
		"subgroups": []map[string]any{{"name": " Sales ", "userCount": 300}, {"name": "Marketing", "userCount": 200}, {"name": "Accounting"}}})
	u := apiDecode[plan.UserType](t, res, http.StatusCreated)
	if res.Header.Get("Location") != w.path(fmt.Sprintf("/user-types/%d", u.ID)) {
		t.Fatalf("Location = %q", res.Header.Get("Location"))
	}
	if u.ProjectID != w.p.ID || u.Version != 1 || u.UserCount != 1200 || subgroupList(u) != "Sales=300,Marketing=200,Accounting=0" {
		t.Fatalf("created = %+v", u)
	}
	if again := w.call("GET", fmt.Sprintf("/user-types/%d", u.ID), nil); again.Body != res.Body {
		t.Fatalf("GET = %s\nwant what the create answered: %s", again.Body, res.Body)
	}

	// Omitted subgroups are kept; sent ones replace the list; [] removes them.
	u = apiDecode[plan.UserType](t, w.call("PATCH", fmt.Sprintf("/user-types/%d", u.ID), map[string]any{"version": 1, "userCount": 1500}), http.StatusOK)
	if u.Version != 2 || u.UserCount != 1500 || u.Name != "Staff" || subgroupList(u) != "Sales=300,Marketing=200,Accounting=0" {
		t.Fatalf("after a count change = %+v", u)
	}
	u = apiDecode[plan.UserType](t, w.call("PATCH", fmt.Sprintf("/user-types/%d", u.ID), map[string]any{"version": 2,
		"subgroups": []map[string]any{{"name": "Ops", "userCount": 50}}}), http.StatusOK)
	if subgroupList(u) != "Ops=50" {
		t.Fatalf("after replacing subgroups = %s", subgroupList(u))
	}
	res = w.call("PATCH", fmt.Sprintf("/user-types/%d", u.ID), map[string]any{"version": 3, "subgroups": []any{}})
	if u = apiDecode[plan.UserType](t, res, http.StatusOK); len(u.Subgroups) != 0 || !strings.Contains(res.Body, `"subgroups":[]`) {
		t.Fatalf("after removing subgroups = %s", res.Body)
	}
	// A user type created without subgroups shows them as [], never null.
	res = w.call("POST", "/user-types", map[string]any{"kind": "partner", "name": "Partners"})
	if apiDecode[plan.UserType](t, res, http.StatusCreated); !strings.Contains(res.Body, `"subgroups":[]`) {
		t.Fatalf("created without subgroups = %s", res.Body)
	}

	list := apiDecode[struct{ Items []plan.UserType }](t, w.call("GET", "/user-types", nil), http.StatusOK)
	if len(list.Items) != 2 || list.Items[0].Name != "Partners" || list.Items[1].Name != "Staff" {
		t.Fatalf("list = %+v, want both by name", list.Items)
	}

	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
		want  string
	}{
		{"an unnamed subgroup", map[string]any{"subgroups": []map[string]any{{"name": "ok"}, {"name": " "}}}, "subgroups.1.name", "Subgroup 2 name is required"},
		{"a subgroup with a negative count", map[string]any{"subgroups": []map[string]any{{"name": "Sales", "userCount": -5}}}, "subgroups.0.userCount", "cannot be negative"},
		{"the same subgroup twice", map[string]any{"subgroups": []map[string]any{{"name": "Sales"}, {"name": "SALES"}}}, "subgroups.1.name", "appears twice"},
		{"51 subgroups", map[string]any{"subgroups": manySubgroups(51)}, "subgroups", "At most 50"},
		{"a subgroup with an unknown field", map[string]any{"subgroups": []map[string]any{{"name": "Sales", "size": 3}}}, "size", "Unknown field"},
		{"an absurd count", map[string]any{"userCount": int64(plan.MaxUserCount) + 1}, "userCount", "looks wrong"},
		{"a negative count", map[string]any{"userCount": -1}, "userCount", "cannot be negative"},
		{"an empty name", map[string]any{"name": "  "}, "name", "required"},
		{"a name on two lines", map[string]any{"name": "a\nb"}, "name", "single line"},
		{"an overlong name", map[string]any{"name": strings.Repeat("n", 201)}, "name", "at most 200"},
		{"overlong notes", map[string]any{"notes": strings.Repeat("x", 10001)}, "notes", "at most 10000"},
		{"a duplicate name", map[string]any{"name": " partners "}, "name", "already has this name"},
	} {
		t.Run("PATCH with "+tt.name+" is refused", func(t *testing.T) {
			before := w.call("GET", fmt.Sprintf("/user-types/%d", u.ID), nil).Body
			body := map[string]any{"version": u.Version}
			for k, v := range tt.body {
				body[k] = v
			}
			apiWantField(t, w.call("PATCH", fmt.Sprintf("/user-types/%d", u.ID), body), tt.field, tt.want)
			if after := w.call("GET", fmt.Sprintf("/user-types/%d", u.ID), nil).Body; after != before {
				t.Fatalf("a refused PATCH changed the record:\n%s\n%s", before, after)
			}
		})
	}

	res = w.call("DELETE", fmt.Sprintf("/user-types/%d", u.ID), nil)
	if res.StatusCode != http.StatusNoContent || res.Body != "" {
		t.Fatalf("delete = %d %q", res.StatusCode, res.Body)
	}
	apiWantError(t, w.call("GET", fmt.Sprintf("/user-types/%d", u.ID), nil), http.StatusNotFound, "not_found")
	apiWantError(t, w.call("DELETE", fmt.Sprintf("/user-types/%d", u.ID), nil), http.StatusNotFound, "not_found")
	apiWantError(t, w.call("GET", "/user-types/abc", nil), http.StatusNotFound, "not_found")
}

func subgroupList(u plan.UserType) string {
	var out []string
	for _, sg := range u.Subgroups {
		out = append(out, fmt.Sprintf("%s=%d", sg.Name, sg.UserCount))
	}
	return strings.Join(out, ",")
}

func manySubgroups(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"name": fmt.Sprint("group ", i), "userCount": 1}
	}
	return out
}

func TestAPISourcesLinkTheProjectsUserTypes(t *testing.T) {
	w := newAPIWorld(t)
	staff := w.mustUserType(t, "Staff", 100)
	partners := w.mustUserType(t, "Partners", 20)

	res := w.call("POST", "/sources", map[string]any{"name": "Corporate AD", "kind": "active_directory",
		"userTypeIds": []int64{partners.ID, staff.ID, partners.ID}, "accessOwner": "Ann Admin", "accessStatus": "granted",
		"accessStatusDate": "2026-02-27", "accessReference": "CHG-1234", "migrateCredentials": "yes", "migrateGroups": "yes",
		"migrateMemberships": "yes", "passwordHashFormat": "bcrypt", "notes": "Two forests."})
	src := apiDecode[plan.Source](t, res, http.StatusCreated)
	if res.Header.Get("Location") != w.path(fmt.Sprintf("/sources/%d", src.ID)) {
		t.Fatalf("Location = %q", res.Header.Get("Location"))
	}
	if fmt.Sprint(src.UserTypeIDs) != fmt.Sprint([]int64{staff.ID, partners.ID}) || src.AccessStatus != "granted" || src.PasswordHashFormat != "bcrypt" || src.Version != 1 {
		t.Fatalf("created = %+v, want each user type once, in id order", src)
	}
	if again := w.call("GET", fmt.Sprintf("/sources/%d", src.ID), nil); again.Body != res.Body {
		t.Fatalf("GET = %s\nwant what the create answered: %s", again.Body, res.Body)
	}

	res = w.call("POST", "/sources", map[string]any{"name": "HR export", "kind": "file_export"})
	hr := apiDecode[plan.Source](t, res, http.StatusCreated)
	if hr.AccessStatus != "not_requested" || hr.MigrateCredentials != "undecided" || hr.MigrateGroups != "undecided" || !strings.Contains(res.Body, `"userTypeIds":[]`) {
		t.Fatalf("created with defaults = %s", res.Body)
	}

	src = apiDecode[plan.Source](t, w.call("PATCH", fmt.Sprintf("/sources/%d", src.ID), map[string]any{"version": 1, "userTypeIds": []int64{partners.ID}, "accessOwner": "Bo Boss"}), http.StatusOK)
	if fmt.Sprint(src.UserTypeIDs) != fmt.Sprint([]int64{partners.ID}) || src.AccessOwner != "Bo Boss" || src.Name != "Corporate AD" || src.Version != 2 {
		t.Fatalf("updated = %+v", src)
	}
	// Deleting a user type unlinks it.
	if res := w.call("DELETE", fmt.Sprintf("/user-types/%d", partners.ID), nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete user type = %d %s", res.StatusCode, res.Body)
	}
	res = w.call("GET", fmt.Sprintf("/sources/%d", src.ID), nil)
	if src = apiDecode[plan.Source](t, res, http.StatusOK); len(src.UserTypeIDs) != 0 || !strings.Contains(res.Body, `"userTypeIds":[]`) {
		t.Fatalf("after deleting its user type = %s", res.Body)
	}

	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
		want  string
	}{
		{"a hash format without migrating credentials", map[string]any{"migrateCredentials": "no", "passwordHashFormat": "md5"}, "passwordHashFormat", "only applies when credentials are migrated"},
		{"memberships without groups", map[string]any{"migrateGroups": "no", "migrateMemberships": "yes"}, "migrateMemberships", "along with the groups"},
		{"a date that is not a date", map[string]any{"accessStatusDate": "27/02/2026"}, "accessStatusDate", "YYYY-MM-DD"},
		{"an unknown user type id", map[string]any{"userTypeIds": []int64{999999}}, "userTypeIds", "does not belong to this project"},
		{"an overlong access owner", map[string]any{"accessOwner": strings.Repeat("o", 201)}, "accessOwner", "at most 200"},
		{"an overlong reference", map[string]any{"accessReference": strings.Repeat("r", 501)}, "accessReference", "at most 500"},
		{"user type ids as strings", map[string]any{"userTypeIds": []string{"1"}}, "userTypeIds", "must be a number"},
	} {
		t.Run("PATCH with "+tt.name+" is refused", func(t *testing.T) {
			before := w.call("GET", fmt.Sprintf("/sources/%d", src.ID), nil).Body
			body := map[string]any{"version": src.Version}
			for k, v := range tt.body {
				body[k] = v
			}
			apiWantField(t, w.call("PATCH", fmt.Sprintf("/sources/%d", src.ID), body), tt.field, tt.want)
			if after := w.call("GET", fmt.Sprintf("/sources/%d", src.ID), nil).Body; after != before {
				t.Fatalf("a refused PATCH changed the record:\n%s\n%s", before, after)
			}
		})
	}

	list := apiDecode[struct{ Items []plan.Source }](t, w.call("GET", "/sources", nil), http.StatusOK)
	if len(list.Items) != 2 || list.Items[0].Name != "Corporate AD" || list.Items[1].Name != "HR export" {
		t.Fatalf("list = %+v", list.Items)
	}
	if res := w.call("DELETE", fmt.Sprintf("/sources/%d", hr.ID), nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete = %d %s", res.StatusCode, res.Body)
	}
	apiWantError(t, w.call("GET", fmt.Sprintf("/sources/%d", hr.ID), nil), http.StatusNotFound, "not_found")
}

func TestAPIApplications(t *testing.T) {
	w := newAPIWorld(t)
	staff := w.mustUserType(t, "Staff", 100)
	res := w.call("POST", "/applications", map[string]any{"name": "Wiki", "accessMethod": "saml", "assignmentBasis": "group",
		"userTypeIds": []int64{staff.ID}, "oinLink": "https://www.okta.com/integrations/confluence/", "notes": "Confluence"})
	a := apiDecode[plan.Application](t, res, http.StatusCreated)
	if res.Header.Get("Location") != w.path(fmt.Sprintf("/applications/%d", a.ID)) {
		t.Fatalf("Location = %q", res.Header.Get("Location"))
	}
	if a.OINStatus != "unknown" || fmt.Sprint(a.UserTypeIDs) != fmt.Sprint([]int64{staff.ID}) || a.Version != 1 || a.ProjectID != w.p.ID {
		t.Fatalf("created = %+v, want OIN status unknown by default", a)
	}
	if again := w.call("GET", fmt.Sprintf("/applications/%d", a.ID), nil); again.Body != res.Body {
		t.Fatalf("GET = %s\nwant what the create answered: %s", again.Body, res.Body)
	}
	a = apiDecode[plan.Application](t, w.call("PATCH", fmt.Sprintf("/applications/%d", a.ID), map[string]any{"version": 1, "oinStatus": "yes", "userTypeIds": []int64{}}), http.StatusOK)
	if a.OINStatus != "yes" || len(a.UserTypeIDs) != 0 || a.AccessMethod != "saml" || a.Version != 2 {
		t.Fatalf("updated = %+v", a)
	}
	for _, tt := range []struct {
		name  string
		body  map[string]any
		field string
		want  string
	}{
		{"a javascript: link", map[string]any{"oinLink": "javascript:alert(document.cookie)"}, "oinLink", "https://"},
		{"a link without a scheme", map[string]any{"oinLink": "www.okta.com"}, "oinLink", "https://"},
		{"an overlong link", map[string]any{"oinLink": "https://okta.com/" + strings.Repeat("a", 500)}, "oinLink", "at most 500"},
		{"no name", map[string]any{"name": ""}, "name", "required"},
	} {
		t.Run("PATCH with "+tt.name+" is refused", func(t *testing.T) {
			body := map[string]any{"version": a.Version}
			for k, v := range tt.body {
				body[k] = v
			}
			apiWantField(t, w.call("PATCH", fmt.Sprintf("/applications/%d", a.ID), body), tt.field, tt.want)
		})
	}
	apiWantField(t, w.call("POST", "/applications", map[string]any{"name": "Mail"}), "accessMethod", "must be one of")
	list := apiDecode[struct{ Items []plan.Application }](t, w.call("GET", "/applications", nil), http.StatusOK)
	if len(list.Items) != 1 || list.Items[0].ID != a.ID || list.Items[0].Version != 2 {
		t.Fatalf("list = %+v", list.Items)
	}
	if res := w.call("DELETE", fmt.Sprintf("/applications/%d", a.ID), nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("delete = %d %s", res.StatusCode, res.Body)
	}
	apiWantError(t, w.call("PATCH", fmt.Sprintf("/applications/%d", a.ID), map[string]any{"version": 2, "notes": "x"}), http.StatusNotFound, "not_found")
}

func TestAPIGoals(t *testing.T) {
	w := newAPIWorld(t)
	g := apiDecode[plan.Goals](t, w.call("GET", "/goals", nil), http.StatusOK)
	if g.ProjectID != w.p.ID || g.Version != 1 || g.Approach != "" || g.UserExperience != "" {
		t.Fatalf("new goals = %+v", g)
	}
	apiWantField(t, w.call("PATCH", "/goals", map[string]any{"version": 1, "approach": "staged"}), "rationale", "Say why")
	apiWantField(t, w.call("PATCH", "/goals", map[string]any{"version": 1, "approach": "big_bang", "rationale": "fast"}), "approach", "must be one of: one_shot, staged")
	apiWantField(t, w.call("PATCH", "/goals", map[string]any{"version": 1, "acceptableImpact": strings.Repeat("i", 10001)}), "acceptableImpact", "at most 10000")
	g = apiDecode[plan.Goals](t, w.call("PATCH", "/goals", map[string]any{"version": 1, "userExperience": "Nobody notices.",
		"oneShotAcceptable": "No.", "approach": "staged", "rationale": "Fewer interruptions."}), http.StatusOK)
	if g.Version != 2 || g.UserExperience != "Nobody notices." || g.Approach != "staged" || g.AcceptableImpact != "" {
		t.Fatalf("updated = %+v", g)
	}
	if stored := apiDecode[plan.Goals](t, w.call("GET", "/goals", nil), http.StatusOK); stored != g {
		t.Fatalf("stored = %+v, want %+v", stored, g)
	}
	// There is one set of goals per project: no create, no delete.
	for _, method := range []string{"POST", "DELETE", "PUT"} {
		res := w.call(method, "/goals", nil)
		if res.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(res.Body, `"error"`) {
			t.Errorf("%s goals = %d %s, want 405 with a JSON error", method, res.StatusCode, res.Body)
		}
	}
}

// records creates one of each resource in w's project and returns the
// API path of each editable record, keyed by resource.
func (w *apiWorld) records(t *testing.T) map[string]string {
	t.Helper()
	u := w.mustUserType(t, "Staff", 100)
	src := apiDecode[plan.Source](t, w.call("POST", "/sources", map[string]any{"name": "AD", "kind": "active_directory"}), http.StatusCreated)
	app := apiDecode[plan.Application](t, w.call("POST", "/applications", map[string]any{"name": "Wiki", "accessMethod": "saml", "assignmentBasis": "group"}), http.StatusCreated)
	return map[string]string{
		"project":     w.path(""),
		"user type":   w.path(fmt.Sprintf("/user-types/%d", u.ID)),
		"source":      w.path(fmt.Sprintf("/sources/%d", src.ID)),
		"application": w.path(fmt.Sprintf("/applications/%d", app.ID)),
		"goals":       w.path("/goals"),
	}
}

func TestAPIPatchWithoutVersionIsRefused(t *testing.T) {
	w := newAPIWorld(t)
	paths := w.records(t)
	for _, what := range sortedKeys(paths) {
		t.Run(what, func(t *testing.T) {
			before := w.app.api(w.token, "GET", paths[what], nil).Body
			field := map[string]string{"project": "description", "goals": "rationale"}[what]
			if field == "" {
				field = "notes"
			}
			for _, body := range []map[string]any{{field: "x"}, {field: "x", "version": nil}} {
				apiWantField(t, w.app.api(w.token, "PATCH", paths[what], body), "version", "version is required")
			}
			if after := w.app.api(w.token, "GET", paths[what], nil).Body; after != before {
				t.Fatalf("changed:\n%s\n%s", before, after)
			}
		})
	}
}

func TestAPIStaleVersionIsRefusedWithTheChanges(t *testing.T) {
	w := newAPIWorld(t)
	paths := w.records(t)
	tests := map[string]struct {
		theirs, yours map[string]any
		field         string
		stored, sent  string
	}{
		"project":     {map[string]any{"description": "Theirs"}, map[string]any{"description": "Mine", "status": "planning"}, "description", "Theirs", "Mine"},
		"user type":   {map[string]any{"userCount": 120}, map[string]any{"userCount": 90, "name": "Staff"}, "userCount", "120", "90"},
		"source":      {map[string]any{"accessOwner": "Ann"}, map[string]any{"accessOwner": "Bob"}, "accessOwner", "Ann", "Bob"},
		"application": {map[string]any{"oinStatus": "yes"}, map[string]any{"oinStatus": "no"}, "oinStatus", "Yes, in the OIN", "No OIN integration"},
		"goals":       {map[string]any{"userExperience": "Quiet"}, map[string]any{"userExperience": "Loud"}, "userExperience", "Quiet", "Loud"},
	}
	for _, what := range sortedKeys(tests) {
		tt := tests[what]
		t.Run(what, func(t *testing.T) {
			tt.theirs["version"] = 1
			if res := w.app.api(w.token, "PATCH", paths[what], tt.theirs); res.StatusCode != http.StatusOK {
				t.Fatalf("first save = %d %s", res.StatusCode, res.Body)
			}
			before := w.app.api(w.token, "GET", paths[what], nil).Body
			audits := apiAuditCount(t, w.app)

			tt.yours["version"] = 1
			e := apiWantError(t, w.app.api(w.token, "PATCH", paths[what], tt.yours), http.StatusConflict, "conflict")
			if e.CurrentVersion != 2 || !strings.Contains(e.Message, "Someone else saved this") {
				t.Fatalf("conflict = %+v, want current version 2 and a clear message", e)
			}
			if len(e.Changes) != 1 || e.Changes[0].Field != tt.field || e.Changes[0].Stored != tt.stored || e.Changes[0].Yours != tt.sent || e.Changes[0].Label == "" {
				t.Fatalf("changes = %+v, want only %s: %s → %s (unchanged fields are not listed)", e.Changes, tt.field, tt.stored, tt.sent)
			}
			if after := w.app.api(w.token, "GET", paths[what], nil).Body; after != before {
				t.Fatalf("a refused save was written:\n%s\n%s", before, after)
			}
			if apiAuditCount(t, w.app) != audits {
				t.Fatal("a refused save was audited")
			}
			// Sent again with the current version, it is saved.
			tt.yours["version"] = e.CurrentVersion
			if res := w.app.api(w.token, "PATCH", paths[what], tt.yours); res.StatusCode != http.StatusOK || !strings.Contains(res.Body, `"version":3`) {
				t.Fatalf("save with the current version = %d %s", res.StatusCode, res.Body)
			}
		})
	}
}

// chunked hides a reader's length, so that the request has no Content-Length.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestAPIRefusesBodiesThatAreNotOneJSONObject(t *testing.T) {
	w := newAPIWorld(t)
	big := `{"kind":"customer","name":"Big","notes":"` + strings.Repeat("x", 1<<20) + `"}`
	jsonType := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name    string
		header  http.Header
		body    io.Reader
		message string
		field   string // and its message, when the problem is one field's
		fieldIs string
	}{
		{"an unknown field", jsonType, strings.NewReader(`{"kind":"customer","name":"A","colour":"blue"}`), "Please correct the listed fields.", "colour", "Unknown field colour."},
		{"a snake_case field name", jsonType, strings.NewReader(`{"kind":"customer","name":"A","user_count":3}`), "Please correct the listed fields.", "user_count", "Unknown field user_count."},
		{"a string for a number", jsonType, strings.NewReader(`{"kind":"customer","name":"A","userCount":"many"}`), "Please correct the listed fields.", "userCount", "userCount must be a number, not a JSON string."},
		{"a fraction for a count", jsonType, strings.NewReader(`{"kind":"customer","name":"A","userCount":1.5}`), "Please correct the listed fields.", "userCount", "must be a number"},
		{"a number for a name", jsonType, strings.NewReader(`{"kind":"customer","name":42}`), "Please correct the listed fields.", "name", "name must be a string, not a JSON number."},
		{"an object for the subgroups", jsonType, strings.NewReader(`{"kind":"customer","name":"A","subgroups":{"name":"x"}}`), "Please correct the listed fields.", "subgroups", "must be a list"},
		{"invalid JSON", jsonType, strings.NewReader(`{"kind":"customer",}`), "The request body is not valid JSON (at byte 20).", "", ""},
		{"a single quote string", jsonType, strings.NewReader(`{'kind':'customer'}`), "not valid JSON", "", ""},
		{"an empty body", jsonType, strings.NewReader(""), "The request body is empty or cut short.", "", ""},
		{"a body cut short", jsonType, strings.NewReader(`{"kind":"customer","name":"A"`), "empty or cut short", "", ""},
		{"a JSON array", jsonType, strings.NewReader(`[{"kind":"customer","name":"A"}]`), "The request body must be a JSON object.", "", ""},
		{"a JSON string", jsonType, strings.NewReader(`"customer"`), "must be a JSON object", "", ""},
		{"two JSON objects", jsonType, strings.NewReader(`{"kind":"customer","name":"A"}{"kind":"customer","name":"B"}`), "The request body must hold exactly one JSON object.", "", ""},
		{"an object followed by junk", jsonType, strings.NewReader(`{"kind":"customer","name":"A"} junk`), "exactly one JSON object", "", ""},
		{"a form instead of JSON", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, strings.NewReader("kind=customer&name=A"), "Content-Type: application/json", "", ""},
		{"JSON sent as text/plain", http.Header{"Content-Type": {"text/plain"}}, strings.NewReader(`{"kind":"customer","name":"A"}`), "Content-Type: application/json", "", ""},
		{"no Content-Type", http.Header{}, strings.NewReader(`{"kind":"customer","name":"A"}`), "Content-Type: application/json", "", ""},
		{"a body over 1 MiB", jsonType, strings.NewReader(big), "too large", "", ""},
		{"a body over 1 MiB without Content-Length", jsonType, chunked{strings.NewReader(big)}, "too large", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			h := tt.header.Clone()
			h.Set("Authorization", "Bearer "+w.token)
			audits := apiAuditCount(t, w.app)
			e := apiWantError(t, apiRaw(t, w.app, "POST", w.path("/user-types"), h, tt.body), http.StatusUnprocessableEntity, "invalid")
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message = %q, want %q", e.Message, tt.message)
			}
			if tt.field != "" && !strings.Contains(e.Fields[tt.field], tt.fieldIs) {
				t.Errorf("fields = %v, want %s: %q", e.Fields, tt.field, tt.fieldIs)
			}
			if tt.field == "" && len(e.Fields) != 0 {
				t.Errorf("fields = %v, want none", e.Fields)
			}
			if list := apiDecode[struct{ Items []plan.UserType }](t, w.call("GET", "/user-types", nil), http.StatusOK); len(list.Items) != 0 || apiAuditCount(t, w.app) != audits {
				t.Fatalf("a refused body wrote %d user types", len(list.Items))
			}
		})
	}
	t.Run("exactly the body limit's worth of JSON is not too large", func(t *testing.T) {
		h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + w.token}}
		notes := strings.Repeat("x", 9990)
		body := `{"kind":"customer","name":"Padded","notes":"` + notes + `"}`
		body += strings.Repeat(" ", 1<<20-len(body))
		res := apiRaw(t, w.app, "POST", w.path("/user-types"), h, bytes.NewReader([]byte(body)))
		if u := apiDecode[plan.UserType](t, res, http.StatusCreated); u.Notes != notes {
			t.Fatalf("created = %+v", u)
		}
	})
}

func TestAPIRefusesUnknownEnumValues(t *testing.T) {
	w := newAPIWorld(t)
	paths := w.records(t)
	tests := []struct {
		what, field, value, want string
	}{
		{"project", "migrationType", "big_bang", "Migration type must be one of: one_time, program."},
		{"project", "status", "Planning", "Status must be one of: planning, rehearsing, loading, completed, on_hold."},
		{"user type", "kind", "Employee", "Kind must be one of: full_time_employee, part_time_employee, customer, partner, contractor, other."},
		{"source", "kind", "okta", "Kind must be one of: active_directory, ldap"},
		{"source", "accessStatus", "pending", "Access status must be one of: not_requested, requested, granted, denied."},
		{"source", "migrateCredentials", "maybe", "Migrate credentials must be one of: undecided, yes, no."},
		{"source", "migrateGroups", "true", "Migrate groups must be one of"},
		{"source", "migrateMemberships", "1", "Migrate group memberships must be one of"},
		{"application", "accessMethod", "kerberos", "Access method must be one of: saml, oidc, ws_fed, swa, header, ldap, other."},
		{"application", "assignmentBasis", "random", "How access is assigned must be one of: user_type, group, attribute, individual."},
		{"application", "oinStatus", "maybe", "OIN integration must be one of: unknown, yes, no."},
		{"goals", "approach", "big_bang", "Approach must be one of: one_shot, staged."},
	}
	for _, tt := range tests {
		t.Run(tt.what+" "+tt.field+" "+tt.value, func(t *testing.T) {
			before := w.app.api(w.token, "GET", paths[tt.what], nil).Body
			apiWantField(t, w.app.api(w.token, "PATCH", paths[tt.what], map[string]any{"version": 1, tt.field: tt.value}), tt.field, tt.want)
			if after := w.app.api(w.token, "GET", paths[tt.what], nil).Body; after != before {
				t.Fatalf("a refused value was written:\n%s\n%s", before, after)
			}
		})
	}
	t.Run("source passwordHashFormat sha3", func(t *testing.T) {
		apiWantField(t, w.app.api(w.token, "PATCH", paths["source"], map[string]any{"version": 1, "migrateCredentials": "yes", "passwordHashFormat": "sha3"}),
			"passwordHashFormat", "Password-hash format must be one of: bcrypt, pbkdf2")
	})
	t.Run("on create too", func(t *testing.T) {
		apiWantField(t, w.call("POST", "/user-types", map[string]any{"kind": "robot", "name": "Robots"}), "kind", "must be one of")
		apiWantField(t, w.app.api(w.token, "POST", "/api/v1/projects", map[string]any{"name": "B", "migrationType": "ONE_TIME"}), "migrationType", "must be one of")
	})
}

func TestAPIStoresMarkupVerbatimAndEscapesItInJSON(t *testing.T) {
	w := newAPIWorld(t)
	const markup = `<script>alert("x")</script><img src=x onerror=alert(1)> & 'quotes'`
	u := apiDecode[plan.UserType](t, w.call("POST", "/user-types", map[string]any{"kind": "customer", "name": "<b>Bold</b> customers",
		"notes": markup, "subgroups": []map[string]any{{"name": "<i>EU</i>", "userCount": 1}}}), http.StatusCreated)
	tests := []struct {
		name, method, path string
		body               map[string]any
		want               map[string]string // JSON field → value stored
	}{
		{"project", "POST", "/api/v1/projects", map[string]any{"name": "<script>p</script>", "description": markup},
			map[string]string{"name": "<script>p</script>", "description": markup}},
		{"user type", "GET", w.path(fmt.Sprintf("/user-types/%d", u.ID)), nil,
			map[string]string{"name": "<b>Bold</b> customers", "notes": markup}},
		{"source", "POST", w.path("/sources"), map[string]any{"name": "<svg onload=alert(1)>", "kind": "ldap", "accessOwner": "<u>Ann</u>", "accessReference": "</textarea>", "notes": markup},
			map[string]string{"name": "<svg onload=alert(1)>", "accessOwner": "<u>Ann</u>", "accessReference": "</textarea>", "notes": markup}},
		{"application", "POST", w.path("/applications"), map[string]any{"name": "<iframe>", "accessMethod": "oidc", "assignmentBasis": "group", "notes": markup},
			map[string]string{"name": "<iframe>", "notes": markup}},
		{"goals", "PATCH", w.path("/goals"), map[string]any{"version": 1, "userExperience": markup, "policiesAndStandards": "</script><script>x()</script>"},
			map[string]string{"userExperience": markup, "policiesAndStandards": "</script><script>x()</script>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := w.app.api(w.token, tt.method, tt.path, tt.body)
			if res.StatusCode >= 300 {
				t.Fatalf("status %d: %s", res.StatusCode, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("Content-Type %q, X-Content-Type-Options %q: the answer must not be sniffed as HTML", ct, res.Header.Get("X-Content-Type-Options"))
			}
			if strings.ContainsAny(res.Body, "<>") {
				t.Fatalf("the JSON carries raw angle brackets, want them escaped by the encoder: %s", res.Body)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(res.Body), &got); err != nil {
				t.Fatal(err)
			}
			for field, want := range tt.want {
				if got[field] != want {
					t.Errorf("%s = %q, want %q verbatim", field, got[field], want)
				}
			}
		})
	}
	if u.Subgroups[0].Name != "<i>EU</i>" {
		t.Fatalf("subgroup = %q", u.Subgroups[0].Name)
	}
	// The readiness checklist names records by their (escaped) names too.
	if res := w.call("GET", "/readiness", nil); strings.ContainsAny(res.Body, "<>") || !strings.Contains(res.Body, `\u003cb\u003eBold\u003c/b\u003e customers`) {
		t.Fatalf("readiness = %s", res.Body)
	}
}

func TestAPIKeepsProjectsApart(t *testing.T) {
	w := newAPIWorld(t)
	other := w.app.mustProject(w.lead, "Other")
	ours := w.mustUserType(t, "Staff", 10)
	theirs := apiDecode[plan.UserType](t, w.app.api(w.token, "POST", apiProjectPath(other.ID, "/user-types"), map[string]any{"kind": "customer", "name": "Theirs"}), http.StatusCreated)
	src := apiDecode[plan.Source](t, w.call("POST", "/sources", map[string]any{"name": "AD", "kind": "ldap", "userTypeIds": []int64{ours.ID}}), http.StatusCreated)
	app := apiDecode[plan.Application](t, w.call("POST", "/applications", map[string]any{"name": "Wiki", "accessMethod": "saml", "assignmentBasis": "group"}), http.StatusCreated)

	t.Run("another project's user type cannot be linked", func(t *testing.T) {
		audits := apiAuditCount(t, w.app)
		for _, r := range []struct {
			method, path string
			body         map[string]any
		}{
			{"POST", "/sources", map[string]any{"name": "LDAP", "kind": "ldap", "userTypeIds": []int64{theirs.ID}}},
			{"POST", "/sources", map[string]any{"name": "LDAP", "kind": "ldap", "userTypeIds": []int64{ours.ID, theirs.ID}}},
			{"PATCH", fmt.Sprintf("/sources/%d", src.ID), map[string]any{"version": 1, "userTypeIds": []int64{ours.ID, theirs.ID}}},
			{"POST", "/applications", map[string]any{"name": "Mail", "accessMethod": "saml", "assignmentBasis": "group", "userTypeIds": []int64{theirs.ID}}},
			{"PATCH", fmt.Sprintf("/applications/%d", app.ID), map[string]any{"version": 1, "userTypeIds": []int64{theirs.ID}}},
		} {
			apiWantField(t, w.call(r.method, r.path, r.body), "userTypeIds", "does not belong to this project")
		}
		if apiAuditCount(t, w.app) != audits {
			t.Fatal("a refused link was written")
		}
		got := apiDecode[plan.Source](t, w.call("GET", fmt.Sprintf("/sources/%d", src.ID), nil), http.StatusOK)
		if fmt.Sprint(got.UserTypeIDs) != fmt.Sprint([]int64{ours.ID}) || got.Version != 1 {
			t.Fatalf("source = %+v", got)
		}
	})

	t.Run("a record is not found under another project's path", func(t *testing.T) {
		for _, r := range []struct{ method, path string }{
			{"GET", fmt.Sprintf("/sources/%d", src.ID)},
			{"PATCH", fmt.Sprintf("/sources/%d", src.ID)},
			{"DELETE", fmt.Sprintf("/sources/%d", src.ID)},
			{"GET", fmt.Sprintf("/user-types/%d", ours.ID)},
			{"PATCH", fmt.Sprintf("/user-types/%d", ours.ID)},
			{"DELETE", fmt.Sprintf("/user-types/%d", ours.ID)},
			{"GET", fmt.Sprintf("/applications/%d", app.ID)},
			{"PATCH", fmt.Sprintf("/applications/%d", app.ID)},
			{"DELETE", fmt.Sprintf("/applications/%d", app.ID)},
		} {
			var body any
			if r.method == "PATCH" {
				body = map[string]any{"version": 1, "name": "Hijacked"}
			}
			e := apiWantError(t, w.app.api(w.token, r.method, apiProjectPath(other.ID, r.path), body), http.StatusNotFound, "not_found")
			if !strings.HasSuffix(e.Message, "not found") {
				t.Errorf("%s %s: message %q", r.method, r.path, e.Message)
			}
		}
		if got := apiDecode[plan.Source](t, w.call("GET", fmt.Sprintf("/sources/%d", src.ID), nil), http.StatusOK); got.Name != "AD" {
			t.Fatalf("source = %+v", got)
		}
		if list := apiDecode[struct{ Items []plan.UserType }](t, w.call("GET", "/user-types", nil), http.StatusOK); len(list.Items) != 1 {
			t.Fatalf("user types = %+v", list.Items)
		}
	})

	t.Run("an unknown project is not found", func(t *testing.T) {
		for _, path := range []string{"/api/v1/projects/999999", "/api/v1/projects/999999/user-types", "/api/v1/projects/0/goals", "/api/v1/projects/-1/sources", "/api/v1/projects/abc/readiness"} {
			apiWantError(t, w.app.api(w.token, "GET", path, nil), http.StatusNotFound, "not_found")
		}
	})
}

func TestAPIRolesDecideWhoMayChangeWhat(t *testing.T) {
	w := newAPIWorld(t)
	paths := w.records(t)
	viewer := w.app.mustAccount("viewer@example.com", "Vic Viewer", false)
	engineer := w.app.mustAccount("engineer@example.com", "Eve Engineer", false)
	reviewer := w.app.mustAccount("legal@example.com", "Leo Legal", false)
	outsider := w.app.mustAccount("outsider@example.com", "Otto Outsider", false)
	admin := w.app.mustAccount("admin@example.com", "Ada Admin", true)
	spare := apiDecode[plan.Source](t, w.call("POST", "/sources", map[string]any{"name": "Spare", "kind": "other"}), http.StatusCreated)
	w.app.mustMember(w.p, viewer, auth.RoleViewer)
	w.app.mustMember(w.p, engineer, auth.RoleEngineer)
	w.app.mustMember(w.p, reviewer, auth.RoleLegalReviewer)
	tokens := map[string]string{"viewer": w.app.mustToken(viewer), "engineer": w.app.mustToken(engineer), "legal reviewer": w.app.mustToken(reviewer),
		"outsider": w.app.mustToken(outsider), "admin": w.app.mustToken(admin)}

	reads := []string{paths["project"], paths["user type"], paths["source"], paths["application"], paths["goals"],
		w.path("/readiness"), w.path("/user-types"), w.path("/sources"), w.path("/applications")}
	type write struct {
		method, path string
		body         map[string]any
	}
	planWrites := []write{
		{"PATCH", paths["project"], map[string]any{"version": 1, "description": "x"}},
		{"DELETE", paths["project"] + "?confirm=Acme", nil},
		{"POST", w.path("/user-types"), map[string]any{"kind": "other", "name": "New"}},
		{"PATCH", paths["user type"], map[string]any{"version": 1, "userCount": 1}},
		{"DELETE", paths["user type"], nil},
		{"POST", w.path("/applications"), map[string]any{"name": "New", "accessMethod": "saml", "assignmentBasis": "group"}},
		{"PATCH", paths["application"], map[string]any{"version": 1, "notes": "x"}},
		{"DELETE", paths["application"], nil},
		{"PATCH", paths["goals"], map[string]any{"version": 1, "rationale": "x"}},
	}
	sourceWrites := []write{
		{"POST", w.path("/sources"), map[string]any{"name": "New", "kind": "ldap"}},
		{"PATCH", paths["source"], map[string]any{"version": 1, "accessOwner": "Eve"}},
		{"DELETE", w.path(fmt.Sprintf("/sources/%d", spare.ID)), nil},
	}
	state := func() string {
		var b strings.Builder
		for _, p := range reads {
			b.WriteString(w.app.api(w.token, "GET", p, nil).Body)
		}
		return b.String()
	}

	for _, who := range []string{"viewer", "legal reviewer", "engineer"} {
		t.Run("a "+who+" may read", func(t *testing.T) {
			for _, p := range reads {
				if res := w.app.api(tokens[who], "GET", p, nil); res.StatusCode != http.StatusOK {
					t.Errorf("GET %s = %d %s", p, res.StatusCode, res.Body)
				}
			}
		})
		t.Run("a "+who+" may not change the plan", func(t *testing.T) {
			before, audits := state(), apiAuditCount(t, w.app)
			for _, wr := range planWrites {
				e := apiWantError(t, w.app.api(tokens[who], wr.method, wr.path, wr.body), http.StatusForbidden, "forbidden")
				if !strings.Contains(e.Message, "role") {
					t.Errorf("%s %s: message %q should say it is the role", wr.method, wr.path, e.Message)
				}
			}
			if who != "engineer" {
				for _, wr := range sourceWrites {
					apiWantError(t, w.app.api(tokens[who], wr.method, wr.path, wr.body), http.StatusForbidden, "forbidden")
				}
			}
			if state() != before || apiAuditCount(t, w.app) != audits {
				t.Fatal("a refused write changed something")
			}
		})
	}
	t.Run("an engineer may edit sources", func(t *testing.T) {
		for _, wr := range sourceWrites {
			if res := w.app.api(tokens["engineer"], wr.method, wr.path, wr.body); res.StatusCode >= 300 {
				t.Errorf("%s %s = %d %s", wr.method, wr.path, res.StatusCode, res.Body)
			}
		}
	})
	t.Run("a non-member is told the project does not exist", func(t *testing.T) {
		for _, p := range reads {
			apiWantError(t, w.app.api(tokens["outsider"], "GET", p, nil), http.StatusNotFound, "not_found")
		}
		for _, wr := range append(planWrites, sourceWrites...) {
			apiWantError(t, w.app.api(tokens["outsider"], wr.method, wr.path, wr.body), http.StatusNotFound, "not_found")
		}
		list := apiDecode[struct{ Items []plan.Project }](t, w.app.api(tokens["outsider"], "GET", "/api/v1/projects", nil), http.StatusOK)
		if len(list.Items) != 0 {
			t.Fatalf("a non-member lists %+v", list.Items)
		}
	})
	t.Run("an admin who is not a member lists the project but may not read or edit its plan", func(t *testing.T) {
		if list := apiDecode[struct{ Items []plan.Project }](t, w.app.api(tokens["admin"], "GET", "/api/v1/projects", nil), http.StatusOK); len(list.Items) != 1 {
			t.Fatalf("admin lists %+v", list.Items)
		}
		before := state()
		for _, p := range reads {
			apiWantError(t, w.app.api(tokens["admin"], "GET", p, nil), http.StatusForbidden, "forbidden")
		}
		for _, wr := range append(planWrites, sourceWrites...) {
			if wr.method == "DELETE" && wr.path == paths["project"]+"?confirm=Acme" {
				continue // below
			}
			apiWantError(t, w.app.api(tokens["admin"], wr.method, wr.path, wr.body), http.StatusForbidden, "forbidden")
		}
		if state() != before {
			t.Fatal("a refused write changed something")
		}
	})
	t.Run("an admin who is not a member may delete the project", func(t *testing.T) {
		if res := w.app.api(tokens["admin"], "DELETE", paths["project"]+"?confirm=Acme", nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE = %d %s", res.StatusCode, res.Body)
		}
		apiWantError(t, w.app.api(w.token, "GET", paths["project"], nil), http.StatusNotFound, "not_found")
	})
}

func TestAPIReadinessPercentFollowsTheData(t *testing.T) {
	w := newAPIWorld(t)
	type readiness struct {
		Percent, Done, Total int
		Items                []struct {
			Section, Label string
			Done           bool
			Missing        []struct {
				Kind  string
				ID    int64
				Label string
				URL   string
			}
		}
		Estimate struct {
			Users                                           int64
			RateLimitPerMinute, SharePercent, RatePerMinute int
			Minutes                                         int64
			Text                                            string
		}
	}
	read := func() readiness {
		t.Helper()
		r := apiDecode[readiness](t, w.call("GET", "/readiness", nil), http.StatusOK)
		if r.Total != len(r.Items) || r.Percent != r.Done*100/r.Total {
			t.Fatalf("readiness %d%% = %d of %d with %d items", r.Percent, r.Done, r.Total, len(r.Items))
		}
		return r
	}
	r := read()
	last := r.Percent
	if r.Percent == 100 || r.Estimate.Users != 0 || r.Estimate.Text != "0 users ≈ 0 min at 480 of 600/min" {
		t.Fatalf("an empty project's readiness = %+v", r)
	}
	staff := w.mustUserType(t, "Staff", 120000)
	if r = read(); r.Percent <= last {
		t.Fatalf("after a user type with a count: %d%%, want more than %d%%", r.Percent, last)
	}
	last = r.Percent
	steps := []struct {
		name   string
		method string
		path   string
		body   any
	}{
		{"a source that holds it, with an owner, access and decisions", "POST", "/sources", map[string]any{"name": "AD", "kind": "active_directory",
			"userTypeIds": []int64{staff.ID}, "accessOwner": "Ann", "accessStatus": "granted", "migrateCredentials": "no", "migrateGroups": "yes", "migrateMemberships": "yes"}},
		{"an application with its user types and OIN status", "POST", "/applications", map[string]any{"name": "Wiki", "accessMethod": "saml",
			"assignmentBasis": "user_type", "userTypeIds": []int64{staff.ID}, "oinStatus": "yes"}},
		{"the goal questions answered", "PATCH", "/goals", map[string]any{"version": 1, "userExperience": "a", "acceptableImpact": "b",
			"archiveLegacyData": "c", "policiesAndStandards": "d", "oneShotAcceptable": "e", "stagesPreferred": "f"}},
		{"the approach chosen", "PATCH", "/goals", map[string]any{"version": 2, "approach": "one_shot", "rationale": "Small org."}},
	}
	for _, s := range steps {
		if res := w.call(s.method, s.path, s.body); res.StatusCode >= 300 {
			t.Fatalf("%s: %d %s", s.name, res.StatusCode, res.Body)
		}
		r = read()
		if r.Percent <= last {
			t.Fatalf("after %s: %d%%, want more than %d%%", s.name, r.Percent, last)
		}
		last = r.Percent
	}
	item := func(r readiness, section string) (done bool, missing string) {
		t.Helper()
		for _, it := range r.Items {
			if it.Section == section {
				if len(it.Missing) > 0 {
					missing = it.Missing[0].Kind + " " + it.Missing[0].URL
				}
				return it.Done, missing
			}
		}
		t.Fatalf("no readiness item of section %q: %+v", section, r.Items)
		return false, ""
	}

	// The attribute mapping: fields alone are not a mapping, and the item is
	// done only once every field is mapped and Okta's required attributes are fed.
	src := apiDecode[struct{ Items []plan.Source }](t, w.call("GET", "/sources", nil), http.StatusOK).Items[0]
	fieldIDs := map[string]int64{}
	for _, f := range []map[string]any{
		{"name": "mail", "knownUnique": true, "samples": []string{"ada@example.com"}, "pii": "yes", "piiCategory": "contact"},
		{"name": "givenName", "pii": "no"}, {"name": "sn", "pii": "no"},
	} {
		created := apiDecode[mapping.SourceField](t, w.call("POST", fmt.Sprintf("/sources/%d/fields", src.ID), f), http.StatusCreated)
		fieldIDs[f["name"].(string)] = created.ID
	}
	if r = read(); r.Percent != last {
		t.Fatalf("after adding unmapped fields: %d%%, want still %d%%", r.Percent, last)
	}
	if done, missing := item(r, "matrix"); done || missing != fmt.Sprintf("matrix /projects/%d/matrix?show=problems", w.p.ID) {
		t.Fatalf("matrix item with undecided fields: done %v, missing %q", done, missing)
	}
	mappings := []struct{ field, target string }{{"mail", "login"}, {"mail", "email"}, {"givenName", "firstName"}, {"sn", "lastName"}}
	for i, m := range mappings {
		res := w.call("POST", "/matrix/rows", map[string]any{"sourceFieldId": fieldIDs[m.field], "targetAttribute": m.target})
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("map %s to %s: %d %s", m.field, m.target, res.StatusCode, res.Body)
		}
		r = read()
		if done, _ := item(r, "matrix"); done != (i == len(mappings)-1) {
			t.Fatalf("after mapping %s to %s: matrix item done = %v, want done only once lastName is fed too", m.field, m.target, done)
		}
	}
	if r.Percent <= last {
		t.Fatalf("after completing the matrix: %d%%, want more than %d%%", r.Percent, last)
	}
	last = r.Percent

	// The PII register: mail is personal data; only a legal reviewer's
	// approval and sign-off complete the item.
	if done, missing := item(r, "privacy"); done || missing != fmt.Sprintf("privacy /projects/%d/privacy", w.p.ID) {
		t.Fatalf("privacy item before the review: done %v, missing %q", done, missing)
	}
	legal := w.app.mustAccount("legal@example.com", "Lou Legal", false)
	w.app.mustMember(w.p, legal, auth.RoleLegalReviewer)
	if _, err := w.app.Priv.Decide(asActor(legal), w.p.ID, fieldIDs["mail"], 0, privacy.DecisionInput{Status: privacy.StatusApproved,
		Decision: privacy.DecisionMigrate, LawfulBasis: "contract"}); err != nil {
		t.Fatal(err)
	}
	if r = read(); r.Percent != last {
		t.Fatalf("an approved but unsigned register: %d%%, want still %d%%", r.Percent, last)
	}
	if _, err := w.app.Priv.SignOffRegister(asActor(legal), w.p.ID); err != nil {
		t.Fatal(err)
	}
	if r = read(); r.Percent <= last {
		t.Fatalf("after the sign-off: %d%%, want more than %d%%", r.Percent, last)
	}
	last = r.Percent

	// The data: staged, validated after its extract, and without an invalid record.
	if done, missing := item(r, "data"); done || missing != fmt.Sprintf("data /projects/%d/data", w.p.ID) {
		t.Fatalf("data item before staging: done %v, missing %q", done, missing)
	}
	engineer := w.app.mustAccount("engineer@example.com", "Eve Engineer", false)
	w.app.mustMember(w.p, engineer, auth.RoleEngineer)
	stage := func(csv string) {
		t.Helper()
		rd, format, err := staging.OpenReader(strings.NewReader(csv), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.app.Staging.Stage(asActor(engineer), w.p.ID, src.ID, rd, staging.Meta{FileName: "hr.csv", Format: format}, nil); err != nil {
			t.Fatal(err)
		}
	}
	validate := func() *quality.Run {
		t.Helper()
		w.app.Clock.Advance(time.Minute)
		run, err := w.app.Quality.Validate(asActor(engineer), w.p.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		return run
	}
	stage("mail,givenName,sn\nada@example.com,Ada,Lovelace\nnot-an-email,Grace,Hopper\n")
	if done, missing := item(read(), "data"); done || missing != fmt.Sprintf("data /projects/%d/data", w.p.ID) {
		t.Fatalf("data item before validation: done %v, missing %q", done, missing)
	}
	validate()
	if done, missing := item(read(), "data"); done || missing != fmt.Sprintf("quality /projects/%d/quality", w.p.ID) {
		t.Fatalf("data item with an invalid record: done %v, missing %q", done, missing)
	}
	w.app.Clock.Advance(time.Minute)
	stage("mail,givenName,sn\nada@example.com,Ada,Lovelace\ngrace@example.com,Grace,Hopper\n")
	if done, missing := item(read(), "data"); done || missing != fmt.Sprintf("data /projects/%d/data", w.p.ID) {
		t.Fatalf("data item staged after the validation: done %v, missing %q", done, missing)
	}
	if run := validate(); run.Invalid != 0 || run.Valid != 2 {
		t.Fatalf("the fixed extract: %+v", run)
	}
	if r = read(); r.Percent <= last {
		t.Fatalf("after validating clean data: %d%%, want more than %d%%", r.Percent, last)
	}
	last = r.Percent
	if r.Percent != 100 || r.Done != r.Total {
		t.Fatalf("everything filled in: %d%%: %+v", r.Percent, r.Items)
	}
	for _, it := range r.Items {
		if !it.Done || len(it.Missing) != 0 {
			t.Fatalf("item %+v is not done", it)
		}
	}
	if r.Estimate.Users != 120000 || r.Estimate.RatePerMinute != 480 || r.Estimate.Minutes != 250 || r.Estimate.Text != "120,000 users ≈ 4 h 10 min at 480 of 600/min" {
		t.Fatalf("estimate = %+v", r.Estimate)
	}

	// A user type without a count is named as missing, with a link to fix it.
	u := w.mustUserType(t, "Contractors", 0)
	r = read()
	if r.Percent >= last {
		t.Fatalf("adding an uncounted, unsourced user type left readiness at %d%%", r.Percent)
	}
	found := false
	for _, it := range r.Items {
		for _, m := range it.Missing {
			if m.Kind == "user_type" && m.ID == u.ID && m.Label == "Contractors" && m.URL == fmt.Sprintf("/projects/%d/people/%d/edit", w.p.ID, u.ID) {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("the new user type is not listed as missing: %+v", r.Items)
	}
	// The estimate follows the project's rate limit.
	if res := w.call("PATCH", "", map[string]any{"version": 1, "userCreationRateLimit": 100, "loadRateSharePercent": 100}); res.StatusCode != http.StatusOK {
		t.Fatalf("PATCH project = %d %s", res.StatusCode, res.Body)
	}
	if r = read(); r.Estimate.Text != "120,000 users ≈ 20 h at 100 of 100/min" || r.Estimate.Minutes != 1200 {
		t.Fatalf("estimate at 100/min = %+v", r.Estimate)
	}
}

func TestAPIPatchAnswersWhatIsStored(t *testing.T) {
	w := newAPIWorld(t)
	paths := w.records(t)
	bodies := map[string]map[string]any{
		"project": {"description": "d"}, "user type": {"notes": "n"}, "source": {"notes": "n"}, "application": {"notes": "n"}, "goals": {"rationale": "r"},
	}
	for _, what := range sortedKeys(paths) {
		t.Run(what, func(t *testing.T) {
			w.app.Clock.Advance(time.Hour)
			body := bodies[what]
			body["version"] = 1
			res := w.app.api(w.token, "PATCH", paths[what], body)
			var saved struct{ CreatedAt, UpdatedAt time.Time }
			if err := json.Unmarshal([]byte(res.Body), &saved); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("PATCH = %d %s", res.StatusCode, res.Body)
			}
			if !saved.UpdatedAt.After(saved.CreatedAt) {
				t.Errorf("updatedAt %s is not after createdAt %s", saved.UpdatedAt, saved.CreatedAt)
			}
			if again := w.app.api(w.token, "GET", paths[what], nil); again.Body != res.Body {
				t.Errorf("GET after PATCH = %s\nwant what the PATCH answered: %s", again.Body, res.Body)
			}
		})
	}
}
