package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/sheet"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/static"
)

// The role test visits every route the server registers as every kind of
// visitor and checks the answer against the route's access rule and the
// permission matrix (auth.Can). routeTable pins, independently of
// web/routes.go, the rule each route must have: a route added without a rule,
// a rule weakened in routes.go, or a rule that the middleware does not
// enforce all make it fail.

// roleWorld is one project with a record of every kind, and an account for
// every kind of visitor.
type roleWorld struct {
	app                              *testApp
	lead, legal, engineer, viewer    *auth.Account
	outsider, admin, spare, newcomer *auth.Account
	project                          *plan.Project
	userType                         *plan.UserType
	source                           *plan.Source
	application                      *plan.Application
	spareMembershipID, leadTokenID   int64
	assetPath                        string
	// The matrix and the legal review: a custom attribute; mail, personal
	// data mapped to email with an approved decision (the register is not
	// signed off yet); givenName, a field without a row.
	custom          *schema.CustomAttribute
	field, unmapped *mapping.SourceField
	row             *mapping.Row
	// Staged data: an extract of the source, validated, its first record
	// and a remediation task.
	extract *staging.Extract
	record  *staging.StagedRecord
	task    *quality.Task
	run     *quality.Run
	// A directory pull of a second source that runs (it waits for a
	// server that never answers) until it is cancelled or the test ends.
	directory *plan.Source
	job       *jobs.Job
	// A defect of the defect log, added by hand.
	defect *defects.Defect
	// A finished load with a failed user, and a finished rollback (see
	// seedLoadRuns in loads_test.go): nothing in them reaches for Okta.
	loadRun, rollbackRun *load.Run
}

// projectName is distinctive so that a 404 can be checked not to leak it.
const roleProjectName = "Northwind Secret Merger"

func newRoleWorld(t testing.TB) *roleWorld {
	t.Helper()
	app := newTestApp(t)
	w := &roleWorld{app: app}
	w.lead = app.mustAccount("lead@example.com", "Lea Lead", false)
	w.legal = app.mustAccount("legal@example.com", "Lou Legal", false)
	w.engineer = app.mustAccount("engineer@example.com", "Eve Engineer", false)
	w.viewer = app.mustAccount("viewer@example.com", "Vic Viewer", false)
	w.outsider = app.mustAccount("outsider@example.com", "Otto Outsider", false)
	w.admin = app.mustAccount("admin@example.com", "Ada Admin", true)
	w.spare = app.mustAccount("spare@example.com", "Sam Spare", false)
	w.newcomer = app.mustAccount("newcomer@example.com", "Nia Newcomer", false)
	w.project = app.mustProject(w.lead, roleProjectName)
	app.mustMember(w.project, w.legal, auth.RoleLegalReviewer)
	app.mustMember(w.project, w.engineer, auth.RoleEngineer)
	app.mustMember(w.project, w.viewer, auth.RoleViewer)
	m, err := app.Auth.AddMember(context.Background(), w.project.ID, w.spare.Email, auth.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	w.spareMembershipID = m.ID
	w.userType = seedUserType(t, app, w.lead, w.project, "Retail customers", 1000)
	w.source = seedSource(t, app, w.lead, w.project, "Corporate AD")
	w.application = seedApplication(t, app, w.lead, w.project, "Payroll")
	w.seedMatrix(t)
	w.seedData(t)
	w.seedOktaOrg(t)
	w.seedHook(t)
	w.seedDefect(t)
	w.seedLoadRuns(t)
	_, tok, err := app.Auth.CreateAPIToken(context.Background(), w.lead.ID, "lead script")
	if err != nil {
		t.Fatal(err)
	}
	w.leadTokenID = tok.ID
	assets, err := static.New("/static")
	if err != nil {
		t.Fatal(err)
	}
	w.assetPath = strings.TrimPrefix(assets.URL("css/app.css"), "/static/")
	return w
}

// seedMatrix gives the role world's project a custom attribute, two source
// fields, a matrix row and an approved legal decision.
func (w *roleWorld) seedMatrix(t testing.TB) {
	t.Helper()
	app, ctx, pid := w.app, asActor(w.lead), w.project.ID
	var err error
	if w.custom, err = app.Schema.CreateCustomAttribute(ctx, pid, schema.CustomAttributeInput{Name: pval("badgeNumber"),
		Title: pval("Badge number"), Type: pval("string"), Enum: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	if w.field, err = app.Map.CreateField(ctx, pid, w.source.ID, mapping.FieldInput{Name: pval("mail"), KnownUnique: pval(true),
		Samples: &[]string{"ada@example.com"}, PII: pval(mapping.PIIYes), PIICategory: pval("contact")}); err != nil {
		t.Fatal(err)
	}
	if w.unmapped, err = app.Map.CreateField(ctx, pid, w.source.ID, mapping.FieldInput{Name: pval("givenName"), PII: pval(mapping.PIINo),
		Samples: &[]string{"Ada"}}); err != nil {
		t.Fatal(err)
	}
	if w.row, err = app.Map.CreateRow(ctx, pid, mapping.RowInput{SourceFieldID: &w.field.ID, TargetAttribute: pval("email")}); err != nil {
		t.Fatal(err)
	}
	if _, err = app.Priv.Decide(asActor(w.legal), pid, w.field.ID, 0, privacy.DecisionInput{Status: privacy.StatusApproved,
		Decision: privacy.DecisionMigrate, LawfulBasis: "contract"}); err != nil {
		t.Fatal(err)
	}
}

// roleExtractCSV is an extract of the role world's source: its columns are
// the source's fields already, so staging it adds none to the matrix.
const roleExtractCSV = "mail,givenName\nada@example.com,Ada\nnot-an-email,Grace\n"

// seedData stages an extract of the role world's source, validates it and
// records a remediation task.
func (w *roleWorld) seedData(t testing.TB) {
	t.Helper()
	app, ctx, pid := w.app, asActor(w.engineer), w.project.ID
	r, format, err := staging.OpenReader(strings.NewReader(roleExtractCSV), "")
	if err != nil {
		t.Fatal(err)
	}
	if w.extract, err = app.Staging.Stage(ctx, pid, w.source.ID, r, staging.Meta{FileName: "ad.csv", Format: format}, nil); err != nil {
		t.Fatal(err)
	}
	recs, err := app.Staging.FindRecords(ctx, w.extract.ID, 0, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("staged records: %v %v", recs, err)
	}
	w.record = &recs[0]
	if w.run, err = app.Quality.Validate(ctx, pid, nil); err != nil {
		t.Fatal(err)
	}
	if w.task, err = app.Quality.CreateTask(ctx, pid, app.Auth, quality.TaskInput{Title: pval("Fix the malformed emails"),
		IssueCode: pval(quality.IssueBadEmail)}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Creds.Save(ctx, pid, w.source.ID, 0, credentials.Input{Attribute: "userPassword"}); err != nil {
		t.Fatal(err)
	}
	w.directory = seedSource(t, app, w.lead, w.project, "Legacy LDAP")
	w.job, err = app.Jobs.Submit(ctx, jobs.Spec{ProjectID: pid, SourceID: w.directory.ID, Kind: jobs.KindStageDirectory,
		Params: jobs.Params{SourceName: w.directory.Name, URL: "ldap://ldap.example.com", BaseDN: "dc=example,dc=com"}},
		func(ctx context.Context, _ *jobs.Progress) (jobs.Outcome, error) {
			<-ctx.Done()
			return jobs.Outcome{}, ctx.Err()
		})
	if err != nil {
		t.Fatal(err)
	}
}

// roleImportCSV adds a field to the role world's source and maps it.
const roleImportCSV = "Source,Source field,Target field,Mapping required\nCorporate AD,employeeID,employeeNumber,yes\n"

// importDigest is the digest of the import preview of roleImportCSV, which
// the confirmation must repeat.
func (w *roleWorld) importDigest() string {
	table, err := sheet.Read(strings.NewReader(roleImportCSV), "matrix.csv", 1<<20)
	if err != nil {
		panic(err)
	}
	plan, err := w.app.Map.PlanImport(context.Background(), w.project.ID, table)
	if err != nil || len(plan.Errors) > 0 {
		panic(fmt.Sprintf("import plan: %v %+v", err, plan))
	}
	return plan.Digest
}

// roleVisitor is one kind of person visiting a route.
type roleVisitor struct {
	name      string
	anonymous bool
	admin     bool
	role      auth.Role // "" when not a member of the project
}

func roleVisitors() []roleVisitor {
	return []roleVisitor{
		{name: "anonymous", anonymous: true},
		{name: "signed-in non-member"},
		{name: "non-member admin", admin: true},
		{name: "project lead", role: auth.RoleProjectLead},
		{name: "legal reviewer", role: auth.RoleLegalReviewer},
		{name: "engineer", role: auth.RoleEngineer},
		{name: "viewer", role: auth.RoleViewer},
	}
}

func (w *roleWorld) accountOf(v roleVisitor) *auth.Account {
	switch {
	case v.anonymous:
		return nil
	case v.admin:
		return w.admin
	}
	switch v.role {
	case auth.RoleProjectLead:
		return w.lead
	case auth.RoleLegalReviewer:
		return w.legal
	case auth.RoleEngineer:
		return w.engineer
	case auth.RoleViewer:
		return w.viewer
	}
	return w.outsider
}

// fillPath puts real ids into a route's path parameters. tokenID is the
// visitor's own API token (the tokens pages only show one's own).
func (w *roleWorld) fillPath(path string, tokenID int64) (string, error) {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		switch {
		case s == ":pid":
			segs[i] = fmt.Sprint(w.project.ID)
		case s == ":sid":
			segs[i] = fmt.Sprint(w.source.ID)
		case s == "*":
			segs[i] = w.assetPath
		case s == ":rid": // a rollback's exports are of the rollback
			segs[i] = fmt.Sprint(w.loadRun.ID)
			if i+1 < len(segs) && strings.HasPrefix(segs[i+1], "export.") {
				segs[i] = fmt.Sprint(w.rollbackRun.ID)
			}
		case s == ":cid": // no canary: the role world's source has no password settings to mark one
			segs[i] = "999999"
		case s == ":name": // a custom attribute the matrix does not have: refused before Okta is asked
			segs[i] = "notAnAttribute"
		case s == ":number": // a plan version, frozen on first use
			n, err := w.ensureVersion()
			if err != nil {
				return "", err
			}
			segs[i] = fmt.Sprint(n)
		case s == ":orgKey": // not the seeded hook's key: refused (401) before anything is read
			segs[i] = "notAnOrgKey"
		case s == ":doc":
			segs[i] = "migration-plan.pdf"
		case s == ":id":
			var id int64
			switch segs[i-1] {
			case "people", "user-types":
				id = w.userType.ID
			case "sources":
				id = w.source.ID
			case "applications":
				id = w.application.ID
			case "members":
				id = w.spareMembershipID
			case "accounts":
				id = w.spare.ID
			case "tokens":
				id = tokenID
			case "custom":
				id = w.custom.ID
			case "fields": // a source's, the API's and the legal review's
				id = w.field.ID
			case "rows":
				id = w.row.ID
			case "records":
				id = w.record.ID
			case "tasks":
				id = w.task.ID
			case "extracts":
				id = w.extract.ID
			case "validations":
				id = w.run.ID
			case "jobs":
				id = w.job.ID
			case "defects":
				id = w.defect.ID
			default:
				return "", fmt.Errorf("no fixture for :id after %q", segs[i-1])
			}
			segs[i] = fmt.Sprint(id)
		case strings.HasPrefix(s, ":"):
			return "", fmt.Errorf("no fixture for path parameter %s", s)
		}
	}
	return strings.Join(segs, "/"), nil
}

// routeCase is what the test knows about one route: the access rule it must
// have, the status it answers when the visitor may use it, and a valid request.
type routeCase struct {
	rule string // "public", "signed-in", "admin" or "project <permission>"
	// status is the answer to an allowed visitor; 0 accepts any 2xx or 3xx.
	status int
	form   func(w *roleWorld, me *auth.Account) url.Values
	json   func(w *roleWorld) any
	query  func(w *roleWorld) string
	// upload sends the form as multipart with this file as "file".
	upload func(w *roleWorld) (name, content string)
	// audited says that an allowed visit changes something, and so writes to
	// the audit log: for handlers that answer a refusal with the same
	// redirect as a success (a flash message says which).
	audited bool
}

const newPassphrase = "a completely new passphrase 42"

func projectFormValues(name string, version int64) url.Values {
	v := url.Values{"name": {name}, "description": {"d"}, "migration_type": {"one_time"}, "status": {"planning"},
		"user_creation_rate_limit": {"600"}, "load_rate_share_percent": {"80"}}
	if version > 0 {
		v.Set("version", fmt.Sprint(version))
	}
	return v
}

func routeTable() map[string]routeCase {
	read := "project " + string(auth.PermProjectRead)
	planEdit := "project " + string(auth.PermPlanEdit)
	sourceEdit := "project " + string(auth.PermSourceEdit)
	del := "project " + string(auth.PermProjectDelete)
	membersRead := "project " + string(auth.PermMembersRead)
	membersManage := "project " + string(auth.PermMembersManage)
	auditRead := "project " + string(auth.PermAuditRead)
	privacyReview := "project " + string(auth.PermPrivacyReview)
	run := "project " + string(auth.PermRun)
	piiRead := "project " + string(auth.PermPIIRead)
	rollbackForm := func(*roleWorld, *auth.Account) url.Values {
		return url.Values{"action": {"delete"}, "confirm": {roleProjectName}}
	}
	sourceQuery := func(w *roleWorld) string { return fmt.Sprintf("?source=%d", w.source.ID) }
	form := func(f func(w *roleWorld, me *auth.Account) url.Values) func(*roleWorld, *auth.Account) url.Values {
		return f
	}
	userTypeForm := form(func(w *roleWorld, _ *auth.Account) url.Values {
		return url.Values{"kind": {"partner"}, "name": {"Resellers"}, "user_count": {"12"}, "version": {"1"}}
	})
	sourceForm := form(func(w *roleWorld, _ *auth.Account) url.Values {
		return url.Values{"name": {"HR feed"}, "kind": {"hr_system"}, "access_status": {"requested"}, "migrate_credentials": {"no"},
			"migrate_groups": {"no"}, "migrate_memberships": {"no"}, "version": {"1"}}
	})
	appForm := form(func(w *roleWorld, _ *auth.Account) url.Values {
		return url.Values{"name": {"Intranet"}, "access_method": {"oidc"}, "assignment_basis": {"group"}, "oin_status": {"unknown"}, "version": {"1"}}
	})
	defectForm := form(func(*roleWorld, *auth.Account) url.Values {
		return url.Values{"use_case": {"UC-2"}, "description": {"Okta rejects the badge number"}, "test_status": {"retest"},
			"ticket_status": {"in_progress"}, "priority": {"high"}, "category": {"okta"}, "notes": {"Fix the mapping."}, "version": {"1"}}
	})
	return map[string]routeCase{
		// An unknown org key: 401, whoever asks (Okta's secret is the
		// only credential).
		"POST /api/hooks/okta/password-import/:orgKey": {rule: "public", status: 401},
		"GET /api/hooks/okta/events/:orgKey":           {rule: "public", status: 401},
		"POST /api/hooks/okta/events/:orgKey":          {rule: "public", status: 401},
		"GET /healthz":                                 {rule: "public", status: 200},
		"GET /static/*":                                {rule: "public", status: 200},
		"GET /":                                        {rule: "public", status: 303},
		"GET /signin":                                  {rule: "public"},
		"POST /signin": {rule: "public", status: 303, form: func(w *roleWorld, me *auth.Account) url.Values {
			if me == nil {
				me = w.spare
			}
			return url.Values{"email": {me.Email}, "password": {testPassword}}
		}},
		"POST /signout": {rule: "signed-in", status: 303},
		// Once an account exists, the setup page is gone for everyone.
		"GET /setup":            {rule: "public", status: 404},
		"POST /setup":           {rule: "public", status: 404, form: form(func(*roleWorld, *auth.Account) url.Values { return url.Values{"secret": {"x"}} })},
		"GET /account/password": {rule: "signed-in", status: 200},
		"POST /account/password": {rule: "signed-in", status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"current_password": {testPassword}, "password": {newPassphrase}}
		})},
		"GET /roles":              {rule: "signed-in", status: 200},
		"GET /tokens":             {rule: "signed-in", status: 200},
		"POST /tokens":            {rule: "signed-in", status: 201, form: form(func(*roleWorld, *auth.Account) url.Values { return url.Values{"name": {"nightly"}} })},
		"GET /tokens/:id/revoke":  {rule: "signed-in", status: 200},
		"POST /tokens/:id/revoke": {rule: "signed-in", status: 303},
		"GET /accounts":           {rule: "admin", status: 200},
		"GET /accounts/new":       {rule: "admin", status: 200},
		"GET /audit":              {rule: "admin", status: 200},
		"POST /accounts": {rule: "admin", status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"name": {"Fred New"}, "email": {"fred@example.com"}, "password": {newPassphrase}}
		})},
		"GET /accounts/:id": {rule: "admin", status: 200},
		"POST /accounts/:id": {rule: "admin", status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"name": {"Sam Renamed"}, "version": {"1"}}
		})},
		"POST /accounts/:id/password": {rule: "admin", status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"password": {newPassphrase}}
		})},

		"GET /projects":     {rule: "signed-in", status: 200},
		"GET /projects/new": {rule: "signed-in", status: 200},
		"POST /projects": {rule: "signed-in", status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return projectFormValues("Another project", 0)
		})},
		"GET /projects/:pid":          {rule: read, status: 200},
		"GET /projects/:pid/settings": {rule: read, status: 200},
		"POST /projects/:pid/settings": {rule: planEdit, status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return projectFormValues(roleProjectName, 1)
		})},
		"GET /projects/:pid/settings/okta": {rule: read, status: 200},
		"POST /projects/:pid/settings/okta": {rule: planEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"url": {"https://northwind.okta.com"}, "auth_scheme": {"ssws"}, "token": {"00role-test-token-0123456789"}, "version": {"1"}}
		})},
		// The fake checker answers; the check's result is recorded (and audited).
		"POST /projects/:pid/settings/okta/check":  {rule: planEdit, status: 303, audited: true},
		"GET /projects/:pid/settings/okta/remove":  {rule: planEdit, status: 200},
		"POST /projects/:pid/settings/okta/remove": {rule: planEdit, status: 303, audited: true},
		"GET /projects/:pid/settings/hook":         {rule: read, status: 200},
		// Saving with a generated secret shows it on the answer, once.
		"POST /projects/:pid/settings/hook": {rule: sourceEdit, status: 200, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"header_name": {"Authorization"}, "budget_ms": {"1500"}, "secret_choice": {"generate"}, "version": {"1"}}
		})},
		"GET /projects/:pid/settings/hook/remove": {rule: sourceEdit, status: 200},
		"POST /projects/:pid/settings/hook/remove": {rule: sourceEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"confirm_name": {roleProjectName}}
		})},
		// The role world's org is not reachable: the page says why (303 with
		// a message), nothing is recorded.
		"POST /projects/:pid/settings/hook/register": {rule: run, status: 303},
		// Not registered yet: the page says so; nothing is recorded.
		"POST /projects/:pid/settings/hook/test": {rule: run, status: 303},
		// The role world's org is not reachable: a message, nothing recorded.
		"POST /projects/:pid/settings/hook/events/register": {rule: run, status: 303},
		"GET /projects/:pid/settings/hook/sources/:sid":     {rule: read, status: 200},
		"POST /projects/:pid/settings/hook/sources/:sid": {rule: sourceEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"enabled": {"true"}, "url": {"ldap://127.0.0.1:389"}, "bind_template": {"{dn}"}, "lockout_threshold": {"5"},
				"lockout_window_minutes": {"30"}, "max_concurrent": {"4"}, "timeout_ms": {"1500"}, "version": {"1"}}
		})},
		// Nothing listens on port 1: the page says the connection failed;
		// nothing is saved.
		"POST /projects/:pid/settings/hook/sources/:sid/test": {rule: sourceEdit, status: 200, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"url": {"ldap://127.0.0.1:1"}, "bind_template": {"{dn}"}, "lockout_threshold": {"5"},
				"lockout_window_minutes": {"30"}, "max_concurrent": {"4"}, "timeout_ms": {"500"}, "version": {"1"}}
		})},
		"GET /projects/:pid/settings/hook/sources/:sid/remove":  {rule: sourceEdit, status: 200},
		"POST /projects/:pid/settings/hook/sources/:sid/remove": {rule: sourceEdit, status: 303, audited: true},
		"GET /projects/:pid/delete":                             {rule: del, status: 200},
		"POST /projects/:pid/delete": {rule: del, status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"confirm_name": {roleProjectName}}
		})},

		"GET /projects/:pid/people":             {rule: read, status: 200},
		"GET /projects/:pid/people/new":         {rule: planEdit, status: 200},
		"POST /projects/:pid/people":            {rule: planEdit, status: 303, form: userTypeForm},
		"GET /projects/:pid/people/:id/edit":    {rule: planEdit, status: 200},
		"POST /projects/:pid/people/:id":        {rule: planEdit, status: 303, form: userTypeForm},
		"GET /projects/:pid/people/:id/delete":  {rule: planEdit, status: 200},
		"POST /projects/:pid/people/:id/delete": {rule: planEdit, status: 303},

		"GET /projects/:pid/sources":             {rule: read, status: 200},
		"GET /projects/:pid/sources/new":         {rule: sourceEdit, status: 200},
		"POST /projects/:pid/sources":            {rule: sourceEdit, status: 303, form: sourceForm},
		"GET /projects/:pid/sources/:id/edit":    {rule: sourceEdit, status: 200},
		"POST /projects/:pid/sources/:id":        {rule: sourceEdit, status: 303, form: sourceForm},
		"GET /projects/:pid/sources/:id/delete":  {rule: sourceEdit, status: 200},
		"POST /projects/:pid/sources/:id/delete": {rule: sourceEdit, status: 303},

		"GET /projects/:pid/sources/:sid/credentials": {rule: read, status: 200},
		"POST /projects/:pid/sources/:sid/credentials": {rule: sourceEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"attribute": {"userPassword"}, "formats": {"ldap, bcrypt"}, "default_format": {"ldap"}, "version": {"1"}}
		})},
		// The record has no stored value: the proof says so, and its outcome is audited.
		"POST /projects/:pid/sources/:sid/credentials/prove": {rule: run, status: 200, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"record": {"2"}, "password": {"the test account's password"}}
		})},

		"GET /projects/:pid/applications":             {rule: read, status: 200},
		"GET /projects/:pid/applications/new":         {rule: planEdit, status: 200},
		"POST /projects/:pid/applications":            {rule: planEdit, status: 303, form: appForm},
		"GET /projects/:pid/applications/:id/edit":    {rule: planEdit, status: 200},
		"POST /projects/:pid/applications/:id":        {rule: planEdit, status: 303, form: appForm},
		"GET /projects/:pid/applications/:id/delete":  {rule: planEdit, status: 200},
		"POST /projects/:pid/applications/:id/delete": {rule: planEdit, status: 303},

		"GET /projects/:pid/goals": {rule: read, status: 200},
		"POST /projects/:pid/goals": {rule: planEdit, status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"user_experience": {"Nobody notices."}, "version": {"1"}}
		})},

		"GET /projects/:pid/members": {rule: membersRead, status: 200},
		"POST /projects/:pid/members": {rule: membersManage, status: 303, form: func(w *roleWorld, _ *auth.Account) url.Values {
			return url.Values{"email": {w.newcomer.Email}, "role": {"viewer"}}
		}},
		"POST /projects/:pid/members/:id": {rule: membersManage, status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"role": {"engineer"}, "version": {"1"}}
		})},
		"GET /projects/:pid/members/:id/remove":  {rule: membersManage, status: 200},
		"POST /projects/:pid/members/:id/remove": {rule: membersManage, status: 303},

		"GET /projects/:pid/audit": {rule: auditRead, status: 200},

		"GET /projects/:pid/attributes": {rule: read, status: 200},
		"POST /projects/:pid/attributes/settings": {rule: planEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"login_pattern": {""}, "email_unique": {"true"}, "version": {"1"}}
		})},
		"GET /projects/:pid/attributes/custom/new": {rule: planEdit, status: 200},
		"POST /projects/:pid/attributes/custom": {rule: planEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"name": {"costCode"}, "title": {"Cost code"}, "type": {"string"}, "max_length": {"20"}}
		})},
		"GET /projects/:pid/attributes/custom/:id/edit": {rule: planEdit, status: 200},
		"POST /projects/:pid/attributes/custom/:id": {rule: planEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"name": {"badgeNumber"}, "title": {"Badge"}, "type": {"string"}, "version": {"1"}}
		})},
		"GET /projects/:pid/attributes/custom/:id/delete":  {rule: planEdit, status: 200},
		"POST /projects/:pid/attributes/custom/:id/delete": {rule: planEdit, status: 303, audited: true},

		"GET /projects/:pid/sources/:sid/fields": {rule: read, status: 200},
		"POST /projects/:pid/sources/:sid/fields": {rule: planEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"name": {"employeeID"}, "data_type": {"string"}, "max_length": {"10"}, "pii": {"unknown"}}
		})},
		"GET /projects/:pid/sources/:sid/fields/:id/edit": {rule: planEdit, status: 200},
		"POST /projects/:pid/sources/:sid/fields/:id": {rule: planEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"name": {"mail"}, "data_type": {"string"}, "max_length": {"256"}, "known_unique": {"true"},
				"samples": {"ada@example.com"}, "pii": {"yes"}, "pii_category": {"contact"}, "version": {"1"}}
		})},
		"GET /projects/:pid/sources/:sid/fields/:id/delete":  {rule: planEdit, status: 200},
		"POST /projects/:pid/sources/:sid/fields/:id/delete": {rule: planEdit, status: 303, audited: true},

		"GET /projects/:pid/matrix":              {rule: read, status: 200},
		"GET /projects/:pid/matrix.csv":          {rule: read, status: 200},
		"GET /projects/:pid/matrix.xlsx":         {rule: read, status: 200},
		"POST /projects/:pid/matrix/suggestions": {rule: planEdit, status: 303, audited: true},
		"GET /projects/:pid/matrix/rows/new":     {rule: planEdit, status: 200},
		"POST /projects/:pid/matrix/rows": {rule: planEdit, status: 303, audited: true, form: func(w *roleWorld, _ *auth.Account) url.Values {
			return url.Values{"source_field_id": {fmt.Sprint(w.unmapped.ID)}, "status": {"mapped"}, "target_attribute": {"firstName"},
				"priority": {"1"}, "transform": {`[{"op":"trim"}]`}, "notes": {""}}
		}},
		"POST /projects/:pid/matrix/preview": {rule: planEdit, status: 200, form: func(w *roleWorld, _ *auth.Account) url.Values {
			return url.Values{"source_field_id": {fmt.Sprint(w.field.ID)}, "transform": {`[{"op":"upper"}]`}}
		}},
		"GET /projects/:pid/matrix/rows/:id/edit": {rule: planEdit, status: 200},
		"POST /projects/:pid/matrix/rows/:id": {rule: planEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"status": {"mapped"}, "target_attribute": {"email"}, "priority": {"1"}, "transform": {`[{"op":"lower"}]`},
				"notes": {"Lower-cased."}, "version": {"1"}}
		})},
		"GET /projects/:pid/matrix/rows/:id/delete":  {rule: planEdit, status: 200},
		"POST /projects/:pid/matrix/rows/:id/delete": {rule: planEdit, status: 303, audited: true},
		"GET /projects/:pid/matrix/import":           {rule: planEdit, status: 200},
		"POST /projects/:pid/matrix/import": {rule: planEdit, status: 200, upload: func(*roleWorld) (string, string) {
			return "matrix.csv", roleImportCSV
		}},
		"POST /projects/:pid/matrix/import/confirm": {rule: planEdit, status: 303, audited: true, form: func(w *roleWorld, _ *auth.Account) url.Values {
			return url.Values{"content": {base64.StdEncoding.EncodeToString([]byte(roleImportCSV))}, "name": {"matrix.csv"}, "digest": {w.importDigest()}}
		}},

		"GET /projects/:pid/privacy":               {rule: read, status: 200},
		"GET /projects/:pid/privacy/register.csv":  {rule: read, status: 200},
		"GET /projects/:pid/privacy/register.xlsx": {rule: read, status: 200},
		"POST /projects/:pid/privacy/fields/:id": {rule: privacyReview, status: 303, audited: true, form: func(w *roleWorld, _ *auth.Account) url.Values {
			prefix := fmt.Sprintf("%d-", w.field.ID)
			return url.Values{prefix + "status": {"approved"}, prefix + "decision": {"transform"}, prefix + "transform_method": {"hashed"},
				prefix + "lawful_basis": {"legitimate_interests"}, prefix + "retention_note": {"7 years"}, "version": {"1"}}
		}},
		"POST /projects/:pid/privacy/fields/:id/classify": {rule: privacyReview, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"pii": {"yes"}, "category": {"identifier"}, "version": {"1"}}
		})},
		// Every personal-data field is approved: the sign-off succeeds.
		"POST /projects/:pid/privacy/signoff": {rule: privacyReview, status: 303, audited: true},

		"GET /projects/:pid/data": {rule: read, status: 200},
		// A new extract of the source is staged by a job (whose staging writes the audit entry, later).
		"POST /projects/:pid/data/sources/:sid/extracts": {rule: run, status: 303, upload: func(*roleWorld) (string, string) {
			return "ad-2.csv", roleExtractCSV + "grace@example.com,Grace\n"
		}},
		"POST /projects/:pid/data/validate": {rule: run, status: 303},
		// A pull from a server that is not there: the job starts, then fails.
		"POST /projects/:pid/data/sources/:sid/directory": {rule: run, status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"url": {"ldap://127.0.0.1:1"}, "base_dn": {"dc=example,dc=com"}, "bind_dn": {"cn=reader,dc=example,dc=com"},
				"bind_password": {"reader-secret"}}
		})},
		"GET /projects/:pid/jobs/:id/progress": {rule: read, status: 200},
		"GET /projects/:pid/jobs/:id/cancel":   {rule: run, status: 200},
		"POST /projects/:pid/jobs/:id/cancel":  {rule: run, status: 303, audited: true},
		"GET /projects/:pid/data/records": {rule: read, status: 200, query: func(w *roleWorld) string {
			return fmt.Sprintf("?extract=%d", w.extract.ID)
		}},
		"GET /projects/:pid/data/records/:id/exclude": {rule: run, status: 200},
		"POST /projects/:pid/data/records/:id/exclude": {rule: run, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"exclude": {"true"}, "reason": {"A test account."}, "version": {"1"}}
		})},
		"GET /projects/:pid/data/records/:id/edit": {rule: run, status: 200},
		"POST /projects/:pid/data/records/:id": {rule: run, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"attr.givenName": {"Adele"}, "version": {"1"}}
		})},
		"GET /projects/:pid/quality":                 {rule: read, status: 200},
		"GET /projects/:pid/quality/occurrences.csv": {rule: read, status: 200},
		"GET /projects/:pid/quality/invalid.csv": {rule: read, status: 200, query: func(w *roleWorld) string {
			return fmt.Sprintf("?source=%d", w.source.ID)
		}},
		"POST /projects/:pid/quality/tasks": {rule: run, status: 303, audited: true, form: func(w *roleWorld, _ *auth.Account) url.Values {
			return url.Values{"title": {"Fix the logins"}, "issue_code": {"required_missing"}, "assignee_id": {fmt.Sprint(w.engineer.ID)},
				"due_date": {"2026-04-01"}, "notes": {"Map a field to login."}}
		}},
		"POST /projects/:pid/quality/tasks/:id": {rule: run, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"status": {"in_progress"}, "version": {"1"}}
		})},

		"GET /api/v1/openapi.json": {rule: "public", status: 200},
		"GET /api/v1/projects":     {rule: "signed-in", status: 200},
		"POST /api/v1/projects": {rule: "signed-in", status: 201, json: func(*roleWorld) any {
			return map[string]any{"name": "Scripted project"}
		}},
		"GET /api/v1/projects/:pid": {rule: read, status: 200},
		"PATCH /api/v1/projects/:pid": {rule: planEdit, status: 200, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "description": "patched"}
		}},
		"DELETE /api/v1/projects/:pid": {rule: del, status: 204, query: func(*roleWorld) string {
			return "?confirm=" + url.QueryEscape(roleProjectName)
		}},
		"GET /api/v1/projects/:pid/readiness": {rule: read, status: 200},
		"GET /api/v1/projects/:pid/okta":      {rule: read, status: 200},
		"PUT /api/v1/projects/:pid/okta": {rule: planEdit, status: 200, audited: true, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "url": "https://northwind.oktapreview.com", "authScheme": "ssws"}
		}},
		"DELETE /api/v1/projects/:pid/okta": {rule: planEdit, status: 204, audited: true},

		"GET /api/v1/projects/:pid/user-types": {rule: read, status: 200},
		"POST /api/v1/projects/:pid/user-types": {rule: planEdit, status: 201, json: func(*roleWorld) any {
			return map[string]any{"kind": "partner", "name": "Resellers", "userCount": 12}
		}},
		"GET /api/v1/projects/:pid/user-types/:id": {rule: read, status: 200},
		"PATCH /api/v1/projects/:pid/user-types/:id": {rule: planEdit, status: 200, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "userCount": 2000}
		}},
		"DELETE /api/v1/projects/:pid/user-types/:id": {rule: planEdit, status: 204},

		"GET /api/v1/projects/:pid/sources": {rule: read, status: 200},
		"POST /api/v1/projects/:pid/sources": {rule: sourceEdit, status: 201, json: func(*roleWorld) any {
			return map[string]any{"name": "HR feed", "kind": "hr_system"}
		}},
		"GET /api/v1/projects/:pid/sources/:id": {rule: read, status: 200},
		"PATCH /api/v1/projects/:pid/sources/:id": {rule: sourceEdit, status: 200, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "accessOwner": "Jane Roe"}
		}},
		"DELETE /api/v1/projects/:pid/sources/:id": {rule: sourceEdit, status: 204},

		"GET /api/v1/projects/:pid/sources/:sid/credentials": {rule: read, status: 200},
		"PUT /api/v1/projects/:pid/sources/:sid/credentials": {rule: sourceEdit, status: 200, audited: true, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "attribute": "userPassword", "formats": []string{"ldap"}}
		}},
		"POST /api/v1/projects/:pid/sources/:sid/credentials/prove": {rule: run, status: 200, audited: true, json: func(*roleWorld) any {
			return map[string]any{"record": "2", "password": "the test account's password"}
		}},

		"GET /api/v1/projects/:pid/applications": {rule: read, status: 200},
		"POST /api/v1/projects/:pid/applications": {rule: planEdit, status: 201, json: func(*roleWorld) any {
			return map[string]any{"name": "Intranet", "accessMethod": "oidc", "assignmentBasis": "group"}
		}},
		"GET /api/v1/projects/:pid/applications/:id": {rule: read, status: 200},
		"PATCH /api/v1/projects/:pid/applications/:id": {rule: planEdit, status: 200, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "notes": "patched"}
		}},
		"DELETE /api/v1/projects/:pid/applications/:id": {rule: planEdit, status: 204},

		"GET /api/v1/projects/:pid/goals": {rule: read, status: 200},
		"PATCH /api/v1/projects/:pid/goals": {rule: planEdit, status: 200, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "approach": "staged", "rationale": "Fewer interruptions."}
		}},

		"GET /api/v1/projects/:pid/attributes":          {rule: read, status: 200},
		"GET /api/v1/projects/:pid/sources/:sid/fields": {rule: read, status: 200},
		"POST /api/v1/projects/:pid/sources/:sid/fields": {rule: planEdit, status: 201, audited: true, json: func(*roleWorld) any {
			return map[string]any{"name": "employeeID", "maxLength": 10}
		}},
		"GET /api/v1/projects/:pid/fields/:id": {rule: read, status: 200},
		"PATCH /api/v1/projects/:pid/fields/:id": {rule: planEdit, status: 200, audited: true, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "maxLength": 256, "notes": "patched"}
		}},
		"DELETE /api/v1/projects/:pid/fields/:id": {rule: planEdit, status: 204, audited: true},
		"GET /api/v1/projects/:pid/matrix":        {rule: read, status: 200},
		"GET /api/v1/projects/:pid/matrix.csv":    {rule: read, status: 200},
		"GET /api/v1/projects/:pid/matrix.xlsx":   {rule: read, status: 200},
		"POST /api/v1/projects/:pid/matrix/rows": {rule: planEdit, status: 201, audited: true, json: func(w *roleWorld) any {
			return map[string]any{"sourceFieldId": w.unmapped.ID, "targetAttribute": "firstName"}
		}},
		"PATCH /api/v1/projects/:pid/matrix/rows/:id": {rule: planEdit, status: 200, audited: true, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "notes": "patched"}
		}},
		"DELETE /api/v1/projects/:pid/matrix/rows/:id": {rule: planEdit, status: 204, audited: true},

		"GET /api/v1/projects/:pid/extracts":                 {rule: read, status: 200},
		"GET /api/v1/projects/:pid/extracts/:id":             {rule: read, status: 200},
		"GET /api/v1/projects/:pid/extracts/:id/records":     {rule: read, status: 200},
		"GET /api/v1/projects/:pid/extracts/:id/quarantined": {rule: read, status: 200},
		"GET /api/v1/projects/:pid/records/:id":              {rule: read, status: 200},
		"PATCH /api/v1/projects/:pid/records/:id": {rule: run, status: 200, audited: true, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "attributes": map[string]any{"givenName": "Adele"}}
		}},
		"POST /api/v1/projects/:pid/records/:id/exclude": {rule: run, status: 200, audited: true, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "exclude": true, "reason": "A test account."}
		}},
		"GET /api/v1/projects/:pid/validations":                 {rule: read, status: 200},
		"GET /api/v1/projects/:pid/validations/:id":             {rule: read, status: 200},
		"GET /api/v1/projects/:pid/validations/:id/occurrences": {rule: read, status: 200},
		"GET /api/v1/projects/:pid/issue-types":                 {rule: read, status: 200},
		"GET /api/v1/projects/:pid/tasks":                       {rule: read, status: 200},
		"POST /api/v1/projects/:pid/tasks": {rule: run, status: 201, audited: true, json: func(w *roleWorld) any {
			return map[string]any{"title": "Fix the logins", "issueCode": "required_missing", "assigneeId": w.engineer.ID,
				"dueDate": "2026-04-01", "notes": "Map a field to login.", "recordIds": []int64{w.record.ID}}
		}},
		"GET /api/v1/projects/:pid/tasks/:id": {rule: read, status: 200},
		"PATCH /api/v1/projects/:pid/tasks/:id": {rule: run, status: 200, audited: true, json: func(*roleWorld) any {
			return map[string]any{"version": 1, "status": "in_progress"}
		}},

		// The request body is the extract itself.
		"POST /api/v1/projects/:pid/sources/:sid/extracts": {rule: run, status: 202, query: func(*roleWorld) string { return "?fileName=ad-3.csv" },
			json: func(*roleWorld) any { return roleExtractCSV }},
		"POST /api/v1/projects/:pid/validations":           {rule: run, status: 202},
		"POST /api/v1/projects/:pid/program/confirmations": {rule: run, status: 202},
		// The migration program through the API (as its pages, above).
		"GET /api/v1/projects/:pid/program": {rule: read, status: 200},
		"PUT /api/v1/projects/:pid/program/settings": {rule: run, status: 200, audited: true, json: func(*roleWorld) any {
			return map[string]any{"version": 0, "periodDays": 90}
		}},
		"GET /api/v1/projects/:pid/program/stragglers": {rule: piiRead, status: 200},
		"POST /api/v1/projects/:pid/program/erase": {rule: sourceEdit, status: 200, audited: true, json: func(*roleWorld) any {
			return map[string]any{"confirm": roleProjectName, "override": true}
		}},
		"GET /api/v1/projects/:pid/jobs":             {rule: read, status: 200},
		"GET /api/v1/projects/:pid/jobs/:id":         {rule: read, status: 200},
		"POST /api/v1/projects/:pid/jobs/:id/cancel": {rule: run, status: 200, audited: true},

		"GET /projects/:pid/defects":      {rule: read, status: 200},
		"GET /projects/:pid/defects.csv":  {rule: read, status: 200},
		"GET /projects/:pid/defects.xlsx": {rule: read, status: 200},
		"GET /projects/:pid/defects/new":  {rule: run, status: 200},
		"POST /projects/:pid/defects":     {rule: run, status: 303, audited: true, form: defectForm},
		"GET /projects/:pid/defects/:id":  {rule: read, status: 200},
		"POST /projects/:pid/defects/:id": {rule: run, status: 303, audited: true, form: defectForm},

		// Loads. The role world's org is not reachable: the forms that would
		// ask Okta are sent invalid (422), the controls meet a finished run
		// (303 with a message) and the rollbacks find nothing to roll back.
		"GET /projects/:pid/loads": {rule: read, status: 200},
		"POST /projects/:pid/loads/settings": {rule: run, status: 303, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"ladder": {"5, 50"}, "error_threshold": {"2"}}
		})},
		"GET /projects/:pid/loads/new":               {rule: run, status: 200},
		"POST /projects/:pid/loads/preflight":        {rule: run, status: 422},
		"POST /projects/:pid/loads/attributes/:name": {rule: run, status: 422},
		"POST /projects/:pid/loads":                  {rule: run, status: 422},
		"GET /projects/:pid/loads/:rid":              {rule: read, status: 200},
		"GET /projects/:pid/loads/:rid/progress":     {rule: read, status: 200},
		"POST /projects/:pid/loads/:rid/pause":       {rule: run, status: 303},
		"POST /projects/:pid/loads/:rid/resume":      {rule: run, status: 303},
		"GET /projects/:pid/loads/:rid/cancel":       {rule: run, status: 303},
		"POST /projects/:pid/loads/:rid/cancel":      {rule: run, status: 303},
		"GET /projects/:pid/loads/:rid/failed.csv":   {rule: piiRead, status: 200, audited: true},
		"GET /projects/:pid/loads/:rid/export.json":  {rule: piiRead, status: 200, audited: true},
		"GET /projects/:pid/loads/:rid/export.csv":   {rule: piiRead, status: 200, audited: true},
		"GET /projects/:pid/loads/:rid/rollback":     {rule: run, status: 200},
		"POST /projects/:pid/loads/:rid/rollback":    {rule: run, status: 422, form: rollbackForm},
		"GET /projects/:pid/rollback":                {rule: run, status: 200, query: sourceQuery},
		"POST /projects/:pid/rollback":               {rule: run, status: 422, query: sourceQuery, form: rollbackForm},

		// The cut-over. The plans ask the role world's unreachable org (their
		// checks say so); the starts are sent without a pace (422); the role
		// world has no canary (404) and its source no password settings, so
		// marking its record as a canary is refused (422).
		"GET /projects/:pid/cutover": {rule: read, status: 200},
		"POST /projects/:pid/cutover/leavers": {rule: run, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"leavers": {load.LeaversDeactivate}}
		})},
		"GET /projects/:pid/cutover/sources/:sid": {rule: read, status: 200},
		"POST /projects/:pid/cutover/sources/:sid": {rule: sourceEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"status_attribute": {"accountStatus"}, "disabled_values": {"disabled\nDISABLED"}}
		})},
		"POST /projects/:pid/cutover/sources/:sid/hierarchy": {rule: sourceEdit, status: 303, audited: true,
			upload: func(*roleWorld) (string, string) { return "groups.csv", "group,parent\r\nSales,Staff\r\n" }},
		"POST /projects/:pid/cutover/sources/:sid/flatten": {rule: sourceEdit, status: 422, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"flatten": {"true"}}
		})},
		"GET /projects/:pid/cutover/refresh":               {rule: run, status: 200},
		"POST /projects/:pid/cutover/refresh":              {rule: run, status: 422},
		"GET /projects/:pid/cutover/waves/new":             {rule: run, status: 200},
		"POST /projects/:pid/cutover/waves/plan":           {rule: run, status: 422},
		"POST /projects/:pid/cutover/waves":                {rule: run, status: 422},
		"GET /projects/:pid/cutover/managers":              {rule: run, status: 200},
		"POST /projects/:pid/cutover/managers":             {rule: run, status: 422},
		"POST /projects/:pid/cutover/reconcile":            {rule: run, status: 422},
		"GET /projects/:pid/cutover/canaries/:cid/remove":  {rule: run, status: 404},
		"POST /projects/:pid/cutover/canaries/:cid/remove": {rule: run, status: 404},

		// The migration program (web/program.go): the period is PermRun; the
		// erase is PermSourceEdit. The role world has no hook users, so the
		// end check is not ready: the erase needs the override (audited).
		"GET /projects/:pid/program":       {rule: read, status: 200},
		"GET /projects/:pid/program/reset": {rule: run, status: 200},
		// The role world's org is not reachable: a message, nothing changed.
		"POST /projects/:pid/program/confirm": {rule: run, status: 303},
		// No hook user in the role world: nothing to reset, the form says so.
		"POST /projects/:pid/program/reset": {rule: run, status: 422, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"send_email": {"true"}, "max_in_flight": {"10"}, "rate_share": {"80"}, "confirm_name": {roleProjectName}}
		})},
		"POST /projects/:pid/program/settings": {rule: run, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"period_days": {"90"}, "version": {"0"}}
		})},
		"GET /projects/:pid/program/erase": {rule: sourceEdit, status: 200},
		// No straggler in the role world: the CSV has its header only.
		"GET /projects/:pid/program/stragglers.csv": {rule: piiRead, status: 200},
		"POST /projects/:pid/program/erase": {rule: sourceEdit, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"confirm_name": {roleProjectName}, "override": {"true"}}
		})},
		"POST /projects/:pid/loads/:rid/canaries/:cid": {rule: run, status: 404, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"outcome": {load.CanaryPassed}}
		})},
		// Documents and plan versions. Freezing and signing change something
		// (audited); each signing route admits only its role's holders.
		"GET /projects/:pid/documents":         {rule: read, status: 200},
		"GET /projects/:pid/documents/compare": {rule: read, status: 200},
		// Downloads, not pages (status 0: the page tests skip them).
		"GET /projects/:pid/documents/live/:doc":             {rule: read},
		"GET /projects/:pid/documents/versions/:number/:doc": {rule: read},
		"POST /projects/:pid/documents/versions": {rule: run, status: 303, audited: true, form: form(func(*roleWorld, *auth.Account) url.Values {
			return url.Values{"note": {"For the legal review"}}
		})},
		"POST /projects/:pid/documents/versions/:number/sign/lead":  {rule: planEdit, status: 303, audited: true},
		"POST /projects/:pid/documents/versions/:number/sign/legal": {rule: privacyReview, status: 303, audited: true},
		"POST /projects/:pid/cutover/canaries": {rule: run, status: 422, form: form(func(w *roleWorld, _ *auth.Account) url.Values {
			return url.Values{"record": {fmt.Sprint(w.record.ID)}, "password": {"Canary-pass-1"}}
		})},
	}
}

// seedDefect adds a defect by hand to the role world's project.
func (w *roleWorld) seedDefect(t testing.TB) {
	t.Helper()
	var err error
	if w.defect, err = w.app.Defects.Create(asActor(w.engineer), w.project.ID, w.engineer.Name, defects.Input{UseCase: "UC-1",
		Description: "Contractors have no manager"}); err != nil {
		t.Fatal(err)
	}
}

// registeredRoutes lists the server's routes as "METHOD path", skipping
// echo's internal ones.
func registeredRoutes(t testing.TB, app *testApp) []string {
	t.Helper()
	var out []string
	for _, r := range app.Server.Echo().Routes() {
		if strings.HasPrefix(r.Method, "echo_") {
			continue
		}
		out = append(out, r.Method+" "+r.Path)
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatal("the server registers no routes")
	}
	return out
}

func ruleString(scope string, perm auth.Permission) string {
	if scope == "project" {
		return "project " + string(perm)
	}
	return scope
}

func TestEveryRouteHasTheAccessRuleItMustHave(t *testing.T) {
	app := newTestApp(t)
	table := routeTable()
	seen := map[string]bool{}
	for _, key := range registeredRoutes(t, app) {
		seen[key] = true
		method, path, _ := strings.Cut(key, " ")
		scope, perm, ok := app.Server.AccessRule(method, path)
		if !ok {
			t.Errorf("%s has no access rule: register it through routes.go with one", key)
			continue
		}
		want, known := table[key]
		if !known {
			t.Errorf("%s (rule %q) is not in the role test's route table: add it with the rule it must have", key, ruleString(scope, perm))
			continue
		}
		if got := ruleString(scope, perm); got != want.rule {
			t.Errorf("%s has rule %q, want %q", key, got, want.rule)
		}
		if scope == "project" && !strings.Contains(path, ":pid") {
			t.Errorf("%s is project-scoped but has no :pid", key)
		}
	}
	for key := range table {
		if !seen[key] {
			t.Errorf("%s is in the route table but the server does not register it", key)
		}
	}
}

func TestAccessRuleReportsUnregisteredRoutes(t *testing.T) {
	app := newTestApp(t)
	for _, r := range []struct{ method, path string }{
		{"GET", "/not-a-route"},
		{"DELETE", "/projects/:pid"},     // only the API deletes with DELETE
		{"POST", "/projects/:pid/audit"}, // the audit log is read-only
	} {
		if scope, _, ok := app.Server.AccessRule(r.method, r.path); ok {
			t.Errorf("AccessRule(%s %s) = %q, want no rule", r.method, r.path, scope)
		}
	}
}

// roleOutcome is what a visitor should get from a route.
type roleOutcome string

const (
	outcomeAllowed   roleOutcome = "allowed"
	outcomeSignIn    roleOutcome = "redirect to sign-in"
	outcomeNoToken   roleOutcome = "401 JSON"
	outcomeForbidden roleOutcome = "403"
	outcomeHidden    roleOutcome = "404"
)

func expectedOutcome(scope string, perm auth.Permission, isAPI bool, v roleVisitor) roleOutcome {
	if scope == "public" {
		return outcomeAllowed
	}
	if v.anonymous {
		if isAPI {
			return outcomeNoToken
		}
		return outcomeSignIn
	}
	switch scope {
	case "signed-in":
		return outcomeAllowed
	case "admin":
		if v.admin {
			return outcomeAllowed
		}
		return outcomeForbidden
	case "project":
		if v.role == "" && !v.admin {
			return outcomeHidden
		}
		if auth.Can(v.admin, v.role, perm) {
			return outcomeAllowed
		}
		return outcomeForbidden
	}
	return "unknown scope " + roleOutcome(scope)
}

func countAudit(t testing.TB, app *testApp) int64 {
	t.Helper()
	var n int64
	if err := app.DB.Read.Model(&audit.Entry{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEveryRouteAnswersEachVisitorAsTheMatrixSays(t *testing.T) {
	probe := newTestApp(t)
	table := routeTable()
	for _, key := range registeredRoutes(t, probe) {
		method, path, _ := strings.Cut(key, " ")
		scope, perm, ok := probe.Server.AccessRule(method, path)
		if !ok {
			t.Errorf("%s has no access rule", key)
			continue
		}
		rc := table[key] // unknown routes are still visited, with an empty request
		isAPI := strings.HasPrefix(path, "/api/")
		// A world is costly (a migrated schema on PostgreSQL). Visits that
		// change nothing — reads, and refusals, which must change nothing —
		// share one world per route, one after the other (each still checks
		// the audit log around its own request); a visit allowed to change
		// something gets a world of its own.
		var shared []roleVisitor
		for _, v := range roleVisitors() {
			want := expectedOutcome(scope, perm, isAPI, v)
			if method == http.MethodGet || want != outcomeAllowed {
				shared = append(shared, v)
				continue
			}
			t.Run(key+"/"+v.name, func(t *testing.T) {
				t.Parallel()
				visitRoute(t, newRoleWorld(t), method, path, isAPI, rc, v, want)
			})
		}
		t.Run(key+"/unchanging", func(t *testing.T) {
			t.Parallel()
			w := newRoleWorld(t)
			for _, v := range shared {
				t.Run(v.name, func(t *testing.T) {
					visitRoute(t, w, method, path, isAPI, rc, v, expectedOutcome(scope, perm, isAPI, v))
				})
			}
		})
	}
}

func visitRoute(t *testing.T, w *roleWorld, method, path string, isAPI bool, rc routeCase, v roleVisitor, want roleOutcome) {
	app := w.app
	me := w.accountOf(v)
	tokenID := w.leadTokenID
	var b *browser
	var token string
	if me == nil {
		b = app.browser()
	} else {
		b = app.signedIn(me)
		var tok *auth.APIToken
		var err error
		token, tok, err = app.Auth.CreateAPIToken(context.Background(), me.ID, "role test")
		if err != nil {
			t.Fatal(err)
		}
		tokenID = tok.ID
	}
	target, err := w.fillPath(path, tokenID)
	if err != nil {
		t.Fatal(err)
	}
	if rc.query != nil {
		target += rc.query(w)
	}
	if !isAPI && method == http.MethodPost {
		b.csrf() // fetch the token before counting, so that only the request itself counts
	}
	before := countAudit(t, app)

	var res response
	switch {
	case isAPI:
		var body any
		if rc.json != nil {
			body = rc.json(w)
		} else if method == http.MethodPost || method == http.MethodPatch {
			body = map[string]any{}
		}
		res = app.api(token, method, target, body)
	case method == http.MethodGet:
		res = b.get(target)
	case method == http.MethodPost && rc.upload != nil:
		name, content := rc.upload(w)
		res = b.upload(target, name, content)
	case method == http.MethodPost:
		form := url.Values{}
		if rc.form != nil {
			form = rc.form(w, me)
		}
		res = b.post(target, form)
	default:
		t.Fatalf("the role test cannot send %s to an HTML route", method)
	}
	loc := res.Header.Get("Location")
	t.Logf("%s %s as %s: %d %s (want %s)", method, target, v.name, res.StatusCode, loc, want)

	switch want {
	case outcomeAllowed:
		if rc.status != 0 && res.StatusCode != rc.status {
			t.Fatalf("status %d, want %d: %.300s", res.StatusCode, rc.status, res.Body)
		}
		if res.StatusCode >= 400 && rc.status < 400 {
			t.Fatalf("status %d for an allowed visitor: %.300s", res.StatusCode, res.Body)
		}
		if strings.HasPrefix(loc, "/signin?") || loc == "/account/password" {
			t.Fatalf("allowed visitor redirected to %s", loc)
		}
	case outcomeSignIn:
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303 to the sign-in page", res.StatusCode)
		}
		next := "/"
		if method == http.MethodGet {
			next = target
		}
		if wantLoc := "/signin?next=" + url.QueryEscape(next); loc != wantLoc {
			t.Fatalf("redirected to %q, want %q", loc, wantLoc)
		}
	case outcomeNoToken:
		wantAPIError(t, res, http.StatusUnauthorized, "unauthorized")
		if res.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		// A token that is not one of ours is no better than none.
		bogus := app.api("ferry_notarealtoken", method, target, nil)
		wantAPIError(t, bogus, http.StatusUnauthorized, "unauthorized")
	case outcomeForbidden:
		if isAPI {
			wantAPIError(t, res, http.StatusForbidden, "forbidden")
		} else {
			wantErrorPage(t, res, http.StatusForbidden)
		}
	case outcomeHidden:
		if isAPI {
			wantAPIError(t, res, http.StatusNotFound, "not_found")
		} else {
			wantErrorPage(t, res, http.StatusNotFound)
		}
		if strings.Contains(res.Body, roleProjectName) {
			t.Error("the 404 answer names the project it hides")
		}
	default:
		t.Fatalf("no expectation: %s", want)
	}

	if want != outcomeAllowed {
		if after := countAudit(t, app); after != before {
			t.Errorf("a refused request changed something: %d audit entries written", after-before)
		}
	} else if rc.audited && countAudit(t, app) == before {
		t.Errorf("an allowed request changed nothing (no audit entry): was it refused? %.300s", res.Body)
	}
	// Independent of routes.go: a viewer never changes a project.
	if v.role == auth.RoleViewer && method != http.MethodGet && strings.Contains(path, ":pid") && res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's %s %s answered %d, want 403", method, path, res.StatusCode)
	}
}

// upload posts a multipart form with the CSRF token and one file, as the
// import page's form does.
func (b *browser) upload(path, name, content string) response {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("_csrf", b.csrf()); err != nil {
		b.t.Fatal(err)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := io.WriteString(fw, content); err != nil {
		b.t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		b.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, b.app.HTTP.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func wantAPIError(t testing.TB, res response, status int, code string) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d: %.300s", res.StatusCode, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, res.Body)
	}
	if body.Error.Code != code || body.Error.Message == "" {
		t.Fatalf("error %+v, want code %q with a message", body.Error, code)
	}
}

func wantErrorPage(t testing.TB, res response, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("status %d, want %d: %.300s", res.StatusCode, status, res.Body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type %q, want an HTML error page", ct)
	}
	if h := strings.TrimSpace(res.doc(t).Find("h1").Text()); h == "" {
		t.Fatal("error page without a message")
	}
}
