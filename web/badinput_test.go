package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/PuerkitoBio/goquery"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// badWorld is a project with one record of each kind, a second project of
// the same lead, and the browsers that edit them.
type badWorld struct {
	app               *testApp
	lead, admin       *auth.Account
	project, other    *plan.Project
	userType, otherUT *plan.UserType
	source, otherSrc  *plan.Source
	application       *plan.Application
	otherApp          *plan.Application
	asLead, asAdmin   *browser
	otherMembershipID int64
}

func newBadWorld(t testing.TB) *badWorld {
	t.Helper()
	app := newTestApp(t)
	w := &badWorld{app: app}
	w.lead = app.mustAccount("lead@example.com", "Lea Lead", false)
	w.admin = app.mustAccount("admin@example.com", "Ada Admin", true)
	member := app.mustAccount("member@example.com", "Max Member", false)
	w.project = app.mustProject(w.lead, "Acme")
	w.other = app.mustProject(w.lead, "Globex")
	w.userType = seedUserType(t, app, w.lead, w.project, "Retail", 100)
	w.otherUT = seedUserType(t, app, w.lead, w.other, "Wholesale", 50)
	w.source = seedSource(t, app, w.lead, w.project, "Corporate AD")
	w.otherSrc = seedSource(t, app, w.lead, w.other, "Globex LDAP")
	w.application = seedApplication(t, app, w.lead, w.project, "Payroll")
	w.otherApp = seedApplication(t, app, w.lead, w.other, "Globex CRM")
	m, err := app.Auth.AddMember(context.Background(), w.other.ID, member.Email, auth.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	w.otherMembershipID = m.ID
	w.asLead = app.signedIn(w.lead)
	w.asAdmin = app.signedIn(w.admin)
	return w
}

// state is everything a bad request could have written, as one comparable string.
func (w *badWorld) state(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	var parts []any
	for _, p := range []*plan.Project{w.project, w.other} {
		inv, err := w.app.Plan.FindInventory(ctx, p.ID)
		if err != nil {
			parts = append(parts, err.Error())
		} else {
			parts = append(parts, inv)
		}
		members, _ := w.app.Auth.FindMembers(ctx, p.ID)
		parts = append(parts, members)
	}
	projects, _ := w.app.Plan.FindProjects(ctx, nil)
	accounts, _ := w.app.Auth.FindAccounts(ctx)
	tokens, _ := w.app.Auth.FindAPITokens(ctx, w.lead.ID)
	parts = append(parts, projects, accounts, tokens, countAudit(t, w.app))
	b, err := json.Marshal(parts)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func with(base url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range base {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

func userTypeValues() url.Values {
	return url.Values{"kind": {"customer"}, "name": {"Partners"}, "user_count": {"100"}}
}

func sourceValues() url.Values {
	return url.Values{"name": {"HR feed"}, "kind": {"hr_system"}, "access_status": {"requested"},
		"migrate_credentials": {"undecided"}, "migrate_groups": {"undecided"}, "migrate_memberships": {"undecided"}}
}

func applicationValues() url.Values {
	return url.Values{"name": {"Intranet"}, "access_method": {"oidc"}, "assignment_basis": {"group"}, "oin_status": {"unknown"}}
}

func accountValues() url.Values {
	return url.Values{"name": {"Nora New"}, "email": {"nora@example.com"}, "password": {"temporary passphrase 1"}}
}

func TestBadFormInputIsRefusedNextToTheFieldAndWritesNothing(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	subgroups := func(n int) url.Values {
		v := userTypeValues()
		for i := range n {
			v.Add("subgroup_name", fmt.Sprintf("Group %d", i))
			v.Add("subgroup_count", "1")
		}
		return v
	}
	type badCase struct {
		name    string
		admin   bool
		path    func(w *badWorld) string
		form    func(w *badWorld) url.Values
		field   string
		message string // the message next to the field, or its start
	}
	people := func(w *badWorld) string { return projectPath(w.project, "/people") }
	sources := func(w *badWorld) string { return projectPath(w.project, "/sources") }
	apps := func(w *badWorld) string { return projectPath(w.project, "/applications") }
	goals := func(w *badWorld) string { return projectPath(w.project, "/goals") }
	members := func(w *badWorld) string { return projectPath(w.project, "/members") }
	settings := func(w *badWorld) string { return projectPath(w.project, "/settings") }
	editUT := func(w *badWorld) string { return projectPath(w.project, fmt.Sprintf("/people/%d", w.userType.ID)) }
	fixed := func(p string) func(*badWorld) string { return func(*badWorld) string { return p } }
	v := func(base url.Values, kv ...string) func(*badWorld) url.Values {
		return func(*badWorld) url.Values { return with(base, kv...) }
	}
	newProject := projectFormValues("New project", 0)
	tests := []badCase{
		// Projects.
		{"empty project name", false, fixed("/projects"), v(newProject, "name", ""), "name", "Name is required."},
		{"blank project name", false, fixed("/projects"), v(newProject, "name", "   "), "name", "Name is required."},
		{"overlong project name", false, fixed("/projects"), v(newProject, "name", long(201)), "name", "Name is too long: at most 200 characters, this has 201."},
		{"project name with a line break", false, fixed("/projects"), v(newProject, "name", "Acme\nWest"), "name", "Name must be a single line."},
		{"project name with a control character", false, fixed("/projects"), v(newProject, "name", "Acme\x07"), "name", "Name contains control characters."},
		{"project name with a NUL byte", false, fixed("/projects"), v(newProject, "name", "Ac\x00me"), "name", "Name contains control characters."},
		{"project name that is not UTF-8", false, fixed("/projects"), v(newProject, "name", "Acme \xff\xfe"), "name", "Name is not valid UTF-8 text."},
		{"overlong description", false, fixed("/projects"), v(newProject, "description", long(10001)), "description", "Description is too long: at most 10000 characters, this has 10001."},
		{"okta org URL that is not a web address", false, fixed("/projects"), v(newProject, "okta_org_url", "javascript:alert(1)"), "okta_org_url", "Okta org URL must be a full web address starting with https://."},
		{"overlong okta org URL", false, fixed("/projects"), v(newProject, "okta_org_url", "https://acme.okta.com/"+long(500)), "okta_org_url", "Okta org URL is too long"},
		{"unknown migration type", false, fixed("/projects"), v(newProject, "migration_type", "forever"), "migration_type", "Migration type must be one of: one_time, program."},
		{"unknown project status", false, fixed("/projects"), v(newProject, "status", "sunk"), "status", "Status must be one of:"},
		{"zero rate limit", false, fixed("/projects"), v(newProject, "user_creation_rate_limit", "0"), "user_creation_rate_limit", "User-creation rate limit must be between 1 and 1000000 per minute."},
		{"negative rate limit", false, fixed("/projects"), v(newProject, "user_creation_rate_limit", "-600"), "user_creation_rate_limit", "User-creation rate limit must be between 1 and 1000000 per minute."},
		{"absurd rate limit", false, fixed("/projects"), v(newProject, "user_creation_rate_limit", "99999999999"), "user_creation_rate_limit", "User-creation rate limit is far too large."},
		{"non-numeric rate limit", false, fixed("/projects"), v(newProject, "user_creation_rate_limit", "six hundred"), "user_creation_rate_limit", "User-creation rate limit must be a whole number."},
		{"missing rate limit", false, fixed("/projects"), v(newProject, "user_creation_rate_limit", ""), "user_creation_rate_limit", "User-creation rate limit is required."},
		{"share above 100%", false, fixed("/projects"), v(newProject, "load_rate_share_percent", "101"), "load_rate_share_percent", "Share of the rate limit must be between 1 and 100 percent."},
		{"fractional share", false, fixed("/projects"), v(newProject, "load_rate_share_percent", "80.5"), "load_rate_share_percent", "Share of the rate limit must be a whole number."},
		{"duplicate project name in another case", false, fixed("/projects"), v(newProject, "name", " GLOBEX "), "name", "Another project already has this name."},
		{"settings with an empty name", false, settings, v(projectFormValues("", 1)), "name", "Name is required."},

		// User types.
		{"empty user type name", false, people, v(userTypeValues(), "name", ""), "name", "Name is required."},
		{"unknown user type kind", false, people, v(userTypeValues(), "kind", "superuser"), "kind", "Kind must be one of: full_time_employee, part_time_employee, customer, partner, contractor, other."},
		{"no user type kind", false, people, v(userTypeValues(), "kind", ""), "kind", "Kind must be one of:"},
		{"negative count", false, people, v(userTypeValues(), "user_count", "-1"), "user_count", "Number of users cannot be negative."},
		{"absurd count", false, people, v(userTypeValues(), "user_count", "1000000001"), "user_count", "Number of users looks wrong: 1000000001 is more than the 1000000000 allowed."},
		{"count beyond 64 bits", false, people, v(userTypeValues(), "user_count", "99999999999999999999"), "user_count", "Number of users must be a whole number."},
		{"non-numeric count", false, people, v(userTypeValues(), "user_count", "12abc"), "user_count", "Number of users must be a whole number."},
		{"missing count", false, people, v(userTypeValues(), "user_count", ""), "user_count", "Number of users is required."},
		{"overlong notes", false, people, v(userTypeValues(), "notes", long(10001)), "notes", "Notes is too long: at most 10000 characters, this has 10001."},
		{"notes with terminal escapes", false, people, v(userTypeValues(), "notes", "red \x1b[31m text"), "notes", "Notes contains control characters."},
		{"non-numeric subgroup count", false, people, v(with(userTypeValues(), "subgroup_name", "EU", "subgroup_count", "many")), "subgroups", "A subgroup count is not a whole number."},
		{"too many subgroups", false, people, func(*badWorld) url.Values { return subgroups(51) }, "subgroups", "At most 50 subgroups per user type."},
		{"duplicate user type name in another case", false, people, v(userTypeValues(), "name", "rETAIL "), "name", "Another user type in this project already has this name."},
		{"edit with a negative count", false, editUT, v(userTypeValues(), "user_count", "-5", "version", "1"), "user_count", "Number of users cannot be negative."},
		{"edit to a duplicate name", false, editUT, func(w *badWorld) url.Values {
			seedUserType(t, w.app, w.lead, w.project, "Staff", 1)
			return with(userTypeValues(), "name", "STAFF", "version", "1")
		}, "name", "Another user type in this project already has this name."},

		// Sources.
		{"empty source name", false, sources, v(sourceValues(), "name", ""), "name", "Name is required."},
		{"unknown source kind", false, sources, v(sourceValues(), "kind", "mainframe"), "kind", "Kind must be one of:"},
		{"unknown access status", false, sources, v(sourceValues(), "access_status", "maybe"), "access_status", "Access status must be one of: not_requested, requested, granted, denied."},
		{"date in the wrong format", false, sources, v(sourceValues(), "access_status_date", "20/02/2026"), "access_status_date", "Date must be a calendar date (YYYY-MM-DD)."},
		{"date that does not exist", false, sources, v(sourceValues(), "access_status_date", "2026-02-30"), "access_status_date", "Date must be a calendar date (YYYY-MM-DD)."},
		{"overlong access owner", false, sources, v(sourceValues(), "access_owner", long(201)), "access_owner", "Person responsible for access is too long: at most 200 characters"},
		{"overlong reference", false, sources, v(sourceValues(), "access_reference", long(501)), "access_reference", "Reference is too long: at most 500 characters"},
		{"unknown credentials decision", false, sources, v(sourceValues(), "migrate_credentials", "perhaps"), "migrate_credentials", "Migrate credentials must be one of: undecided, yes, no."},
		{"unknown hash format", false, sources, v(sourceValues(), "migrate_credentials", "yes", "password_hash_format", "rot13"), "password_hash_format", "Password-hash format must be one of:"},
		{"hash format without migrating credentials", false, sources, v(sourceValues(), "migrate_credentials", "no", "password_hash_format", "bcrypt"), "password_hash_format", "A password-hash format only applies when credentials are migrated."},
		{"memberships without groups", false, sources, v(sourceValues(), "migrate_groups", "no", "migrate_memberships", "yes"), "migrate_memberships", "Group memberships can only migrate along with the groups."},
		{"user type id that is not a number", false, sources, v(sourceValues(), "user_type_ids", "abc"), "user_type_ids", "One of the selected user types is not valid."},
		{"user type of another project", false, sources, func(w *badWorld) url.Values {
			return with(sourceValues(), "user_type_ids", fmt.Sprint(w.otherUT.ID))
		}, "user_type_ids", "One of the selected user types does not belong to this project."},
		{"user type that does not exist", false, sources, v(sourceValues(), "user_type_ids", "987654"), "user_type_ids", "One of the selected user types does not belong to this project."},
		{"duplicate source name", false, sources, v(sourceValues(), "name", "corporate ad"), "name", "Another source in this project already has this name."},

		// Applications.
		{"overlong application name", false, apps, v(applicationValues(), "name", long(201)), "name", "Name is too long"},
		{"unknown access method", false, apps, v(applicationValues(), "access_method", "telepathy"), "access_method", "Access method must be one of: saml, oidc, ws_fed, swa, header, ldap, other."},
		{"unknown assignment basis", false, apps, v(applicationValues(), "assignment_basis", "lottery"), "assignment_basis", "How access is assigned must be one of:"},
		{"unknown OIN status", false, apps, v(applicationValues(), "oin_status", "maybe"), "oin_status", "OIN integration must be one of: unknown, yes, no."},
		{"OIN link that is not a web address", false, apps, v(applicationValues(), "oin_link", "ftp://okta.example/app"), "oin_link", "OIN link must be a full web address starting with https://."},
		{"application notes that are not UTF-8", false, apps, v(applicationValues(), "notes", "caf\xe9"), "notes", "Notes is not valid UTF-8 text."},
		{"application for a user type of another project", false, apps, func(w *badWorld) url.Values {
			return with(applicationValues(), "user_type_ids", fmt.Sprint(w.otherUT.ID))
		}, "user_type_ids", "One of the selected user types does not belong to this project."},
		{"duplicate application name", false, apps, v(applicationValues(), "name", "PAYROLL"), "name", "Another application in this project already has this name."},

		// Goals.
		{"overlong goal answer", false, goals, v(url.Values{"version": {"1"}}, "user_experience", long(10001)), "user_experience", "The answer is too long"},
		{"unknown approach", false, goals, v(url.Values{"version": {"1"}}, "approach", "yolo", "rationale", "why not"), "approach", "Approach must be one of: one_shot, staged."},
		{"approach without a rationale", false, goals, v(url.Values{"version": {"1"}}, "approach", "staged"), "rationale", "Say why this approach was chosen."},

		// Members.
		{"member email without an account", false, members, v(url.Values{"email": {"ghost@example.com"}, "role": {"viewer"}}), "email", "No account has this email. Ask an admin to create it first."},
		{"unknown role", false, members, v(url.Values{"email": {"admin@example.com"}, "role": {"owner"}}), "role", "Choose one of the roles."},
		{"someone who is already a member", false, members, v(url.Values{"email": {"LEAD@example.com"}, "role": {"viewer"}}), "email", "This person is already a member of the project."},

		// Accounts and tokens.
		{"account without a name", true, fixed("/accounts"), v(accountValues(), "name", ""), "name", "Name is required."},
		{"account with a malformed email", true, fixed("/accounts"), v(accountValues(), "email", "nora at example"), "email", "Email must be an address such as name@example.com."},
		{"account with a display-name email", true, fixed("/accounts"), v(accountValues(), "email", "Nora <nora@example.com>"), "email", "Email must be an address such as name@example.com."},
		{"account with a short password", true, fixed("/accounts"), v(accountValues(), "password", "short"), "password", "Password must have at least 12 characters."},
		{"account whose password is the email", true, fixed("/accounts"), v(accountValues(), "password", "nora@example.com"), "password", "Password must not be your email address."},
		{"account with a taken email in another case", true, fixed("/accounts"), v(accountValues(), "email", "Lead@Example.com"), "email", "An account with this email already exists."},
		{"account renamed to nothing", true, func(w *badWorld) string { return fmt.Sprintf("/accounts/%d", w.lead.ID) }, v(url.Values{"name": {" "}, "version": {"1"}}), "name", "Name is required."},
		{"reset to a short password", true, func(w *badWorld) string { return fmt.Sprintf("/accounts/%d/password", w.lead.ID) }, v(url.Values{"password": {"short"}}), "password", "Password must have at least 12 characters."},
		{"token without a name", false, fixed("/tokens"), v(url.Values{"name": {""}}), "name", "Token name is required."},
		{"overlong token name", false, fixed("/tokens"), v(url.Values{"name": {long(201)}}), "name", "Token name is too long"},
		{"password change to a short one", false, fixed("/account/password"), v(url.Values{"current_password": {testPassword}, "password": {"short"}}), "password", "Password must have at least 12 characters."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newBadWorld(t)
			b := w.asLead
			if tt.admin {
				b = w.asAdmin
			}
			form := tt.form(w)
			before := w.state(t)
			res := b.post(tt.path(w), form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %.300s", res.StatusCode, res.Body)
			}
			if msg := fieldError(t, res, tt.field); !strings.HasPrefix(msg, tt.message) {
				t.Errorf("message next to %s: %q, want %q", tt.field, msg, tt.message)
			}
			doc := res.doc(t)
			if input := doc.Find("#f-" + tt.field); input.Length() == 1 {
				if inv, _ := input.Attr("aria-invalid"); inv != "true" {
					t.Errorf("the %s field is not marked invalid", tt.field)
				}
			}
			if msg := formMessage(t, res); msg == "" {
				t.Error("no message above the form")
			}
			// What was typed is kept, so that nothing is lost; passwords are never sent back.
			for _, name := range []string{"name", "notes", "description", "access_owner", "email"} {
				sent, field := form.Get(name), doc.Find("#f-"+name)
				if sent == "" || field.Length() == 0 || !utf8.ValidString(sent) || strings.ContainsAny(sent, "\x00\x07\x1b") {
					continue
				}
				if got := field.AttrOr("value", field.Text()); got != sent {
					t.Errorf("%s shows %.40q after the failed save, want what was typed (%.40q)", name, got, sent)
				}
			}
			doc.Find("input[type=password]").Each(func(_ int, s *goquery.Selection) {
				if s.AttrOr("value", "") != "" {
					t.Error("a password is sent back in the page")
				}
			})
			if after := w.state(t); after != before {
				t.Errorf("a refused form changed what is stored:\nbefore %.400s\nafter  %.400s", before, after)
			}
		})
	}
}

func TestSubgroupMessagesAreShownOnTheirRow(t *testing.T) {
	w := newBadWorld(t)
	before := w.state(t)
	form := with(userTypeValues())
	form["subgroup_name"] = []string{"EU", "eu", "", "Asia"}
	form["subgroup_count"] = []string{"10", "20", "5", "-3"}
	res := w.asLead.post(projectPath(w.project, "/people"), form)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", res.StatusCode)
	}
	doc := res.doc(t)
	rowError := func(i int) string {
		return strings.Join(strings.Fields(doc.Find(".sg-row").Eq(i).Find(".error").Text()), " ")
	}
	tests := []struct {
		row  int
		want string
	}{
		{0, ""},
		{1, `Subgroup "eu" appears twice.`},
		{2, "Subgroup 3 name is required."},
		{3, "Subgroup 4 count cannot be negative."},
	}
	for _, tt := range tests {
		if got := rowError(tt.row); got != tt.want {
			t.Errorf("row %d: %q, want %q", tt.row+1, got, tt.want)
		}
	}
	if v, _ := doc.Find("#sg-count-4").Attr("value"); v != "-3" {
		t.Errorf("row 4 count shows %q, want what was typed", v)
	}
	if w.state(t) != before {
		t.Error("a refused user type changed what is stored")
	}
}

// xss is typed into every text field; it must come back as text, never as markup.
const xss = `<script>alert("x")</script><img src=x onerror=alert(1)>`

func assertEscaped(t *testing.T, what string, res response) {
	t.Helper()
	if res.StatusCode >= 500 {
		t.Fatalf("%s: status %d", what, res.StatusCode)
	}
	if strings.Contains(res.Body, "<script>alert") || strings.Contains(res.Body, "<img src=x") {
		i := strings.Index(res.Body, "<script>alert")
		if i < 0 {
			i = strings.Index(res.Body, "<img src=x")
		}
		t.Errorf("%s renders the markup unescaped: …%s…", what, res.Body[max(0, i-80):min(len(res.Body), i+80)])
	}
	doc := res.doc(t)
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("src"); !ok {
			t.Errorf("%s has an inline script: %q", what, s.Text())
		}
	})
	if n := doc.Find("[onerror]").Length(); n > 0 {
		t.Errorf("%s has %d elements with an onerror handler", what, n)
	}
}

func TestHTMLInEveryTextFieldIsShownEscaped(t *testing.T) {
	app := newTestApp(t)
	admin := app.mustAccount("admin@example.com", "Ada Admin", true)
	asAdmin := app.signedIn(admin)
	ctx := context.Background()

	// An account whose name is markup, created through the form.
	res := asAdmin.post("/accounts", url.Values{"name": {"Lea " + xss}, "email": {"lead@example.com"}, "password": {testPassword}})
	assertEscaped(t, "account created", wantRedirect(t, asAdmin, res, "/accounts"))
	lead, err := app.Auth.FindAccountByEmail(ctx, "lead@example.com")
	if err != nil || lead.Name != "Lea "+xss {
		t.Fatalf("stored name %q, %v: the text must be kept as typed", lead.Name, err)
	}
	asLead := app.browser()
	asLead.post("/signin", url.Values{"email": {"lead@example.com"}, "password": {testPassword}})
	asLead.post("/account/password", url.Values{"current_password": {testPassword}, "password": {"another passphrase 7"}})

	res = asLead.post("/projects", with(projectFormValues("Project "+xss, 0), "description", "Description "+xss,
		"okta_org_url", `https://acme.okta.com/?q="><script>alert("x")</script>`))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create project: %d %.300s", res.StatusCode, res.Body)
	}
	base := res.Header.Get("Location")
	assertEscaped(t, "project created", asLead.get(base))

	res = asLead.post(base+"/people", url.Values{"kind": {"customer"}, "name": {"Type " + xss}, "user_count": {"5"}, "notes": {"Notes " + xss},
		"subgroup_name": {"Subgroup " + xss}, "subgroup_count": {"5"}})
	assertEscaped(t, "user type added", wantRedirect(t, asLead, res, base+"/people"))
	projects, _ := app.Plan.FindProjects(ctx, nil)
	p := projects[0]
	uts, _ := app.Plan.FindUserTypes(ctx, p.ID)
	ut := uts[0]

	res = asLead.post(base+"/sources", with(sourceValues(), "name", "Source "+xss, "access_owner", "Owner "+xss, "access_reference", "Ref "+xss,
		"notes", "Notes "+xss, "user_type_ids", fmt.Sprint(ut.ID)))
	assertEscaped(t, "source added", wantRedirect(t, asLead, res, base+"/sources"))
	res = asLead.post(base+"/applications", with(applicationValues(), "name", "App "+xss, "notes", "Notes "+xss, "oin_status", "yes",
		"oin_link", `https://www.okta.com/"><script>alert("x")</script>`, "user_type_ids", fmt.Sprint(ut.ID)))
	assertEscaped(t, "application added", wantRedirect(t, asLead, res, base+"/applications"))
	goals := url.Values{"version": {"1"}, "approach": {"staged"}, "rationale": {"Rationale " + xss}}
	for _, q := range plan.GoalQuestions() {
		goals.Set(q.Field, q.Field+" "+xss)
	}
	assertEscaped(t, "goals saved", wantRedirect(t, asLead, asLead.post(base+"/goals", goals), base+"/goals"))
	res = asLead.post("/tokens", url.Values{"name": {"Token " + xss}})
	assertEscaped(t, "token created", res)
	tokens, _ := app.Auth.FindAPITokens(ctx, lead.ID)

	srcs, _ := app.Plan.FindSources(ctx, p.ID)
	apps, _ := app.Plan.FindApplications(ctx, p.ID)
	ms, _ := app.Auth.FindMembers(ctx, p.ID)
	pages := []struct {
		b    *browser
		path string
	}{
		{asLead, "/projects"},
		{asLead, base},
		{asLead, base + "/settings"},
		{asLead, base + "/delete"},
		{asLead, base + "/people"},
		{asLead, fmt.Sprintf("%s/people/%d/edit", base, ut.ID)},
		{asLead, fmt.Sprintf("%s/people/%d/delete", base, ut.ID)},
		{asLead, base + "/sources"},
		{asLead, fmt.Sprintf("%s/sources/%d/edit", base, srcs[0].ID)},
		{asLead, fmt.Sprintf("%s/sources/%d/delete", base, srcs[0].ID)},
		{asLead, base + "/applications"},
		{asLead, fmt.Sprintf("%s/applications/%d/edit", base, apps[0].ID)},
		{asLead, fmt.Sprintf("%s/applications/%d/delete", base, apps[0].ID)},
		{asLead, base + "/goals"},
		{asLead, base + "/members"},
		{asLead, fmt.Sprintf("%s/members/%d/remove", base, ms[0].ID)},
		{asLead, base + "/audit"},
		{asLead, "/tokens"},
		{asLead, fmt.Sprintf("/tokens/%d/revoke", tokens[0].ID)},
		{asAdmin, "/accounts"},
		{asAdmin, fmt.Sprintf("/accounts/%d", lead.ID)},
	}
	for _, pg := range pages {
		t.Run(pg.path, func(t *testing.T) {
			res := pg.b.get(pg.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			assertEscaped(t, pg.path, res)
		})
	}
	t.Run("the text is shown as typed", func(t *testing.T) {
		res := asLead.get(base + "/people")
		if got := res.doc(t).Find("#user-types tbody td").First().Text(); got != "Type "+xss {
			t.Fatalf("user type name shows %q", got)
		}
		if !strings.Contains(res.Body, "&lt;script&gt;") {
			t.Fatal("the markup is not shown escaped")
		}
		app := asLead.get(base + "/applications")
		if href, _ := app.doc(t).Find(`#applications a[rel~=noopener]`).Attr("href"); strings.Contains(href, `">`) && !strings.HasPrefix(href, "https://") {
			t.Fatalf("OIN link href %q", href)
		}
	})
	t.Run("a refused form echoes markup escaped", func(t *testing.T) {
		res := asLead.post(base+"/people", url.Values{"kind": {"nope"}, "name": {"Again " + xss}, "user_count": {"x"}, "notes": {xss}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", res.StatusCode)
		}
		assertEscaped(t, "refused user type form", res)
		if v, _ := res.doc(t).Find("#f-name").Attr("value"); v != "Again "+xss {
			t.Fatalf("name kept as %q", v)
		}
	})
}

func TestIDsOfAnotherProjectInTheURLAreNotFound(t *testing.T) {
	w := newBadWorld(t)
	a := func(rest string, id int64) string { return projectPath(w.project, fmt.Sprintf(rest, id)) }
	tests := []struct {
		name   string
		method string
		path   func() string
		form   url.Values
	}{
		{"edit another project's user type", "GET", func() string { return a("/people/%d/edit", w.otherUT.ID) }, nil},
		{"save another project's user type", "POST", func() string { return a("/people/%d", w.otherUT.ID) }, with(userTypeValues(), "version", "1")},
		{"confirm deleting another project's user type", "GET", func() string { return a("/people/%d/delete", w.otherUT.ID) }, nil},
		{"delete another project's user type", "POST", func() string { return a("/people/%d/delete", w.otherUT.ID) }, url.Values{}},
		{"edit another project's source", "GET", func() string { return a("/sources/%d/edit", w.otherSrc.ID) }, nil},
		{"save another project's source", "POST", func() string { return a("/sources/%d", w.otherSrc.ID) }, with(sourceValues(), "version", "1")},
		{"delete another project's source", "POST", func() string { return a("/sources/%d/delete", w.otherSrc.ID) }, url.Values{}},
		{"edit another project's application", "GET", func() string { return a("/applications/%d/edit", w.otherApp.ID) }, nil},
		{"save another project's application", "POST", func() string { return a("/applications/%d", w.otherApp.ID) }, with(applicationValues(), "version", "1")},
		{"delete another project's application", "POST", func() string { return a("/applications/%d/delete", w.otherApp.ID) }, url.Values{}},
		{"change the role of another project's member", "POST", func() string { return a("/members/%d", w.otherMembershipID) }, url.Values{"role": {"engineer"}, "version": {"1"}}},
		{"remove another project's member", "POST", func() string { return a("/members/%d/remove", w.otherMembershipID) }, url.Values{}},
		{"a user type id that does not exist", "GET", func() string { return a("/people/%d/edit", 987654) }, nil},
		{"a user type id that is not a number", "GET", func() string { return projectPath(w.project, "/people/abc/edit") }, nil},
		{"a negative source id", "POST", func() string { return a("/sources/%d/delete", -1) }, url.Values{}},
		{"a project that does not exist", "GET", func() string { return "/projects/987654/people" }, nil},
		{"a project id that is not a number", "GET", func() string { return "/projects/acme/people" }, nil},
		{"a project id beyond 64 bits", "POST", func() string { return "/projects/99999999999999999999/people" }, userTypeValues()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := w.state(t)
			var res response
			if tt.method == "GET" {
				res = w.asLead.get(tt.path())
			} else {
				res = w.asLead.post(tt.path(), tt.form)
			}
			wantErrorPage(t, res, http.StatusNotFound)
			if strings.Contains(res.Body, "Globex") || strings.Contains(res.Body, "Wholesale") {
				t.Error("the 404 page shows the other project's data")
			}
			if w.state(t) != before {
				t.Error("the request changed what is stored")
			}
		})
	}
}

func TestFormsWithoutAValidCSRFTokenAreRefused(t *testing.T) {
	tests := []struct {
		name  string
		admin bool
		path  func(w *badWorld) string
		form  url.Values
	}{
		{"create a project", false, func(*badWorld) string { return "/projects" }, projectFormValues("Forged", 0)},
		{"add a user type", false, func(w *badWorld) string { return projectPath(w.project, "/people") }, userTypeValues()},
		{"save settings", false, func(w *badWorld) string { return projectPath(w.project, "/settings") }, projectFormValues("Forged", 1)},
		{"delete a project", false, func(w *badWorld) string { return projectPath(w.project, "/delete") }, url.Values{"confirm_name": {"Acme"}}},
		{"delete a source", false, func(w *badWorld) string {
			return projectPath(w.project, fmt.Sprintf("/sources/%d/delete", w.source.ID))
		}, url.Values{}},
		{"add a member", false, func(w *badWorld) string { return projectPath(w.project, "/members") }, url.Values{"email": {"admin@example.com"}, "role": {"project_lead"}}},
		{"create an API token", false, func(*badWorld) string { return "/tokens" }, url.Values{"name": {"forged"}}},
		{"create an account", true, func(*badWorld) string { return "/accounts" }, accountValues()},
		{"make someone an admin", true, func(w *badWorld) string { return fmt.Sprintf("/accounts/%d", w.lead.ID) }, url.Values{"name": {"Lea Lead"}, "is_admin": {"true"}, "version": {"1"}}},
	}
	for _, tt := range tests {
		for _, token := range []string{"", "forged-token-value"} {
			name := tt.name + "/without a token"
			if token != "" {
				name = tt.name + "/with a forged token"
			}
			t.Run(name, func(t *testing.T) {
				w := newBadWorld(t)
				b := w.asLead
				if tt.admin {
					b = w.asAdmin
				}
				before := w.state(t)
				form := with(tt.form)
				if token != "" {
					form.Set("_csrf", token)
				}
				res := b.postRaw(tt.path(w), form)
				wantErrorPage(t, res, http.StatusForbidden)
				if h := strings.TrimSpace(res.doc(t).Find("h1").Text()); h != "Your form expired or came from another site. Reload the page and try again; nothing was saved." {
					t.Errorf("message %q", h)
				}
				if w.state(t) != before {
					t.Error("a forged form changed what is stored")
				}
			})
		}
	}
	t.Run("signing out needs the token too", func(t *testing.T) {
		w := newBadWorld(t)
		res := w.asLead.postRaw("/signout", url.Values{})
		wantErrorPage(t, res, http.StatusForbidden)
		if res := w.asLead.get("/projects"); res.StatusCode != http.StatusOK {
			t.Fatalf("a forged sign-out signed the browser out: %d", res.StatusCode)
		}
	})
	t.Run("signing in needs the token too", func(t *testing.T) {
		w := newBadWorld(t)
		b := w.app.browser()
		res := b.postRaw("/signin", url.Values{"email": {"lead@example.com"}, "password": {testPassword}})
		wantErrorPage(t, res, http.StatusForbidden)
		if res := b.get("/projects"); res.StatusCode != http.StatusSeeOther {
			t.Fatal("a forged sign-in signed the browser in")
		}
	})
}

// formOf collects what a browser would submit from the form posting to action.
func formOf(t testing.TB, res response, action string) url.Values {
	t.Helper()
	form := res.doc(t).Find(fmt.Sprintf("form[action=%q]", action))
	if form.Length() != 1 {
		t.Fatalf("%d forms post to %s", form.Length(), action)
	}
	out := url.Values{}
	form.Find("input, select, textarea").Each(func(_ int, s *goquery.Selection) {
		name, ok := s.Attr("name")
		if !ok || s.Is("[disabled]") {
			return
		}
		switch {
		case s.Is("select"):
			opt := s.Find("option[selected]")
			if opt.Length() == 0 {
				opt = s.Find("option").First()
			}
			out.Add(name, opt.AttrOr("value", ""))
		case s.Is("textarea"):
			out.Add(name, s.Text())
		case s.Is("[type=checkbox], [type=radio]"):
			if s.Is("[checked]") {
				out.Add(name, s.AttrOr("value", "on"))
			}
		case s.Is("[type=submit], [type=button]"):
		default:
			out.Add(name, s.AttrOr("value", ""))
		}
	})
	return out
}

func TestTheSecondOfTwoConcurrentSavesGetsAConflictAndKeepsItsInput(t *testing.T) {
	type conflictCase struct {
		name   string
		edit   func(w *badWorld) string // the page with the form
		action func(w *badWorld) string // where the form posts
		field  string                   // the form field both people change
		label  string                   // its label in the conflict table
		what   string                   // the record, as the message names it
		stored func(w *badWorld) string // its stored value, read through the service
	}
	ctx := context.Background()
	tests := []conflictCase{
		{"user type", func(w *badWorld) string { return projectPath(w.project, fmt.Sprintf("/people/%d/edit", w.userType.ID)) },
			func(w *badWorld) string { return projectPath(w.project, fmt.Sprintf("/people/%d", w.userType.ID)) },
			"notes", "Notes", "user type", func(w *badWorld) string {
				u, _ := w.app.Plan.FindUserTypeByID(ctx, w.project.ID, w.userType.ID)
				return u.Notes
			}},
		{"source", func(w *badWorld) string { return projectPath(w.project, fmt.Sprintf("/sources/%d/edit", w.source.ID)) },
			func(w *badWorld) string { return projectPath(w.project, fmt.Sprintf("/sources/%d", w.source.ID)) },
			"access_owner", "Person responsible for access", "source", func(w *badWorld) string {
				s, _ := w.app.Plan.FindSourceByID(ctx, w.project.ID, w.source.ID)
				return s.AccessOwner
			}},
		{"application", func(w *badWorld) string {
			return projectPath(w.project, fmt.Sprintf("/applications/%d/edit", w.application.ID))
		},
			func(w *badWorld) string {
				return projectPath(w.project, fmt.Sprintf("/applications/%d", w.application.ID))
			},
			"notes", "Notes", "application", func(w *badWorld) string {
				a, _ := w.app.Plan.FindApplicationByID(ctx, w.project.ID, w.application.ID)
				return a.Notes
			}},
		{"project settings", func(w *badWorld) string { return projectPath(w.project, "/settings") },
			func(w *badWorld) string { return projectPath(w.project, "/settings") },
			"description", "Description", "project", func(w *badWorld) string {
				p, _ := w.app.Plan.FindProjectByID(ctx, w.project.ID)
				return p.Description
			}},
		{"goals", func(w *badWorld) string { return projectPath(w.project, "/goals") },
			func(w *badWorld) string { return projectPath(w.project, "/goals") },
			"user_experience", "User experience", "goals page", func(w *badWorld) string {
				g, _ := w.app.Plan.FindGoals(ctx, w.project.ID)
				return g.UserExperience
			}},
		{"account", func(w *badWorld) string { return fmt.Sprintf("/accounts/%d", w.lead.ID) },
			func(w *badWorld) string { return fmt.Sprintf("/accounts/%d", w.lead.ID) },
			"name", "Name", "account", func(w *badWorld) string {
				a, _ := w.app.Auth.FindAccountByID(ctx, w.lead.ID)
				return a.Name
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newBadWorld(t)
			var first, second *browser
			if tt.name == "account" {
				other := w.app.mustAccount("admin2@example.com", "Abe Admin", true)
				first, second = w.asAdmin, w.app.signedIn(other)
			} else {
				colead := w.app.mustAccount("colead@example.com", "Cole Colead", false)
				w.app.mustMember(w.project, colead, auth.RoleProjectLead)
				first, second = w.asLead, w.app.signedIn(colead)
			}
			action := tt.action(w)
			firstForm := formOf(t, first.get(tt.edit(w)), action)
			secondForm := formOf(t, second.get(tt.edit(w)), action)

			firstForm.Set(tt.field, "Saved first")
			if res := first.post(action, firstForm); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("first save: %d %.300s", res.StatusCode, res.Body)
			}

			secondForm.Set(tt.field, "Saved second")
			res := second.post(action, secondForm)
			if res.StatusCode != http.StatusConflict {
				t.Fatalf("second save: status %d, want 409: %.300s", res.StatusCode, formMessage(t, res))
			}
			if want := "Someone else saved this " + tt.what + " while you were editing it."; !strings.HasPrefix(formMessage(t, res), want) {
				t.Errorf("message %q, want it to start %q", formMessage(t, res), want)
			}
			var row []string
			res.doc(t).Find(".conflict table tbody tr").Each(func(_ int, s *goquery.Selection) {
				if strings.TrimSpace(s.Find("td").First().Text()) == tt.label {
					s.Find("td").Each(func(_ int, td *goquery.Selection) { row = append(row, strings.TrimSpace(td.Text())) })
				}
			})
			if len(row) != 3 || row[1] != "Saved first" || row[2] != "Saved second" {
				t.Errorf("conflict table row for %s: %q, want the other person's value and yours", tt.label, row)
			}
			if got := tt.stored(w); got != "Saved first" {
				t.Fatalf("the refused save changed the record: %q", got)
			}
			kept := formOf(t, res, action)
			if kept.Get(tt.field) != "Saved second" {
				t.Fatalf("the form shows %q, want the second person's input kept", kept.Get(tt.field))
			}
			for k := range secondForm {
				if k != "version" && k != "_csrf" && kept.Get(k) != secondForm.Get(k) {
					t.Errorf("field %s shows %q after the conflict, was typed as %q", k, kept.Get(k), secondForm.Get(k))
				}
			}
			if kept.Get("version") == secondForm.Get("version") {
				t.Error("the re-rendered form still carries the stale version")
			}

			res = second.post(action, kept)
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("saving again: %d %.300s", res.StatusCode, formMessage(t, res))
			}
			if got := tt.stored(w); got != "Saved second" {
				t.Fatalf("after saving again the record holds %q", got)
			}
		})
	}
}
