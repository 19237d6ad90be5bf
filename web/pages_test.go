package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// ---- helpers shared by the page, bad-input and security tests ----

// asActor is a context whose changes the audit log attributes to acct.
func asActor(acct *auth.Account) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{ID: acct.ID, Name: acct.Name + " <" + acct.Email + ">"})
}

func pval[T any](v T) *T { return &v }

// seedUserType creates a user type directly through the service.
func seedUserType(t testing.TB, app *testApp, by *auth.Account, p *plan.Project, name string, count int64, subgroups ...plan.SubgroupInput) *plan.UserType {
	t.Helper()
	u, err := app.Plan.CreateUserType(asActor(by), p.ID, plan.UserTypeInput{Kind: pval("customer"), Name: &name, UserCount: &count, Subgroups: &subgroups})
	if err != nil {
		t.Fatalf("create user type %s: %v", name, err)
	}
	return u
}

// seedSource creates a source system directly through the service.
func seedSource(t testing.TB, app *testApp, by *auth.Account, p *plan.Project, name string, userTypeIDs ...int64) *plan.Source {
	t.Helper()
	s, err := app.Plan.CreateSource(asActor(by), p.ID, plan.SourceInput{Name: &name, Kind: pval("active_directory"), UserTypeIDs: &userTypeIDs})
	if err != nil {
		t.Fatalf("create source %s: %v", name, err)
	}
	return s
}

// seedApplication creates an application directly through the service.
func seedApplication(t testing.TB, app *testApp, by *auth.Account, p *plan.Project, name string, userTypeIDs ...int64) *plan.Application {
	t.Helper()
	a, err := app.Plan.CreateApplication(asActor(by), p.ID, plan.ApplicationInput{Name: &name, AccessMethod: pval("saml"),
		AssignmentBasis: pval("group"), UserTypeIDs: &userTypeIDs})
	if err != nil {
		t.Fatalf("create application %s: %v", name, err)
	}
	return a
}

// wantRedirect checks a Post/Redirect/Get answer and returns the page it leads to.
func wantRedirect(t testing.TB, b *browser, res response, to string) response {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303 to %s: %.500s", res.StatusCode, to, res.Body)
	}
	loc := res.Header.Get("Location")
	if to != "" && loc != to {
		t.Fatalf("redirected to %q, want %q", loc, to)
	}
	return b.get(loc)
}

// flashText is the one-time message a page shows after a change.
func flashText(t testing.TB, res response) string {
	t.Helper()
	return strings.TrimSpace(res.doc(t).Find(`div.flash[role=status]`).Text())
}

// formMessage is the message shown above a form (validation summary, conflict).
func formMessage(t testing.TB, res response) string {
	t.Helper()
	return strings.TrimSpace(res.doc(t).Find(`div.flash.error[role=alert] > p`).First().Text())
}

// hiddenVersion is the record version a page's form was loaded with.
func hiddenVersion(t testing.TB, res response, formAction string) string {
	t.Helper()
	sel := `input[name=version]`
	if formAction != "" {
		sel = fmt.Sprintf(`form[action=%q] input[name=version]`, formAction)
	}
	v, ok := res.doc(t).Find(sel).First().Attr("value")
	if !ok {
		t.Fatalf("no version field (%s) in the page", sel)
	}
	return v
}

func pageTitle(t testing.TB, res response) string {
	t.Helper()
	return strings.TrimSpace(res.doc(t).Find("head > title").Text())
}

func projectPath(p *plan.Project, rest string) string {
	return fmt.Sprintf("/projects/%d%s", p.ID, rest)
}

// ---- every page renders ----

type pageCase struct {
	name   string
	as     func(w *roleWorld) *auth.Account // nil: anonymous
	path   func(w *roleWorld) string
	title  string // the <title> before " · Ferry"
	h1     string
	action string // CSS selector of the page's primary action
	label  string // its text
}

func TestEveryPageRendersWithTitleAndPrimaryAction(t *testing.T) {
	lead := func(w *roleWorld) *auth.Account { return w.lead }
	admin := func(w *roleWorld) *auth.Account { return w.admin }
	engineer := func(w *roleWorld) *auth.Account { return w.engineer }
	fixed := func(p string) func(*roleWorld) string { return func(*roleWorld) string { return p } }
	inProject := func(rest string) func(*roleWorld) string {
		return func(w *roleWorld) string { return projectPath(w.project, rest) }
	}
	headAction := ".page-head .actions a.btn.primary"
	headButton := ".page-head .actions button.primary"
	submit := "form button.primary[type=submit]"
	danger := "form button.danger[type=submit]"
	tests := []pageCase{
		{"sign-in page", nil, fixed("/signin"), "Sign in", "Sign in to Ferry", submit, "Sign in"},
		{"projects list", lead, fixed("/projects"), "Projects", "Projects", headAction, "New project"},
		{"new project form", lead, fixed("/projects/new"), "New project", "New project", submit, "Create project"},
		{"change password form", lead, fixed("/account/password"), "Change your password", "Change your password", submit, "Change password"},
		{"roles and permissions", lead, fixed("/roles"), "Roles and permissions", "Roles and permissions", "table.data th", "Permission"},
		{"my API tokens", lead, fixed("/tokens"), "My API tokens", "My API tokens", submit, "Create token"},
		{"revoke token confirmation", lead, func(w *roleWorld) string { return fmt.Sprintf("/tokens/%d/revoke", w.leadTokenID) },
			"Revoke token", `Revoke the token "lead script"?`, danger, "Revoke token"},
		{"accounts list", admin, fixed("/accounts"), "Accounts", "Accounts", headAction, "New account"},
		{"new account form", admin, fixed("/accounts/new"), "New account", "New account", submit, "Create account"},
		{"account management", admin, func(w *roleWorld) string { return fmt.Sprintf("/accounts/%d", w.spare.ID) },
			"Sam Spare", "Sam Spare", submit, "Save account"},
		{"project overview", lead, inProject(""), roleProjectName, roleProjectName, headAction, "Next: "},
		{"project settings", lead, inProject("/settings"), "Settings", "Settings", submit, "Save settings"},
		{"okta org", lead, inProject("/settings/okta"), "Okta org", "Okta org", submit, "Save the connection"},
		{"remove okta org confirmation", lead, inProject("/settings/okta/remove"), "Remove the Okta org connection",
			"Remove the Okta org connection?", danger, "Remove the connection"},
		{"delete project confirmation", lead, inProject("/delete"), "Delete project", `Delete the project "` + roleProjectName + `"?`, danger, "Delete project"},
		{"people", lead, inProject("/people"), "People", "People", headAction, "Add user type"},
		{"new user type", lead, inProject("/people/new"), "Add user type", "Add user type", submit, "Add user type"},
		{"edit user type", lead, func(w *roleWorld) string {
			return projectPath(w.project, fmt.Sprintf("/people/%d/edit", w.userType.ID))
		},
			"Edit Retail customers", "Edit user type", submit, "Save user type"},
		{"delete user type confirmation", lead, func(w *roleWorld) string {
			return projectPath(w.project, fmt.Sprintf("/people/%d/delete", w.userType.ID))
		}, "Confirm deletion", `Delete the user type "Retail customers"?`, danger, "Delete"},
		{"sources", lead, inProject("/sources"), "Sources", "Sources", headAction, "Add source system"},
		{"new source", lead, inProject("/sources/new"), "Add source system", "Add source system", submit, "Add source system"},
		{"edit source", lead, func(w *roleWorld) string { return projectPath(w.project, fmt.Sprintf("/sources/%d/edit", w.source.ID)) },
			"Edit Corporate AD", "Edit source system", submit, "Save source system"},
		{"delete source confirmation", lead, func(w *roleWorld) string {
			return projectPath(w.project, fmt.Sprintf("/sources/%d/delete", w.source.ID))
		}, "Confirm deletion", `Delete the source system "Corporate AD"?`, danger, "Delete"},
		{"applications", lead, inProject("/applications"), "Applications", "Applications", headAction, "Add application"},
		{"new application", lead, inProject("/applications/new"), "Add application", "Add application", submit, "Add application"},
		{"edit application", lead, func(w *roleWorld) string {
			return projectPath(w.project, fmt.Sprintf("/applications/%d/edit", w.application.ID))
		}, "Edit Payroll", "Edit application", submit, "Save application"},
		{"delete application confirmation", lead, func(w *roleWorld) string {
			return projectPath(w.project, fmt.Sprintf("/applications/%d/delete", w.application.ID))
		}, "Confirm deletion", `Delete the application "Payroll"?`, danger, "Delete"},
		{"goals and strategy", lead, inProject("/goals"), "Goals and strategy", "Goals and strategy", submit, "Save goals"},
		{"members", lead, inProject("/members"), "Members", "Members", submit, "Add member"},
		{"remove member confirmation", lead, func(w *roleWorld) string {
			return projectPath(w.project, fmt.Sprintf("/members/%d/remove", w.spareMembershipID))
		}, "Remove member", `Remove Sam Spare from "` + roleProjectName + `"?`, danger, "Remove member"},
		{"audit log", lead, inProject("/audit"), "Audit log", "Audit log", "main form button[type=submit]", "Filter"},
		{"data", engineer, inProject("/data"), "Data", "Data", headButton, "Validate the staged data"},
		{"records of an extract", lead, func(w *roleWorld) string {
			return projectPath(w.project, fmt.Sprintf("/data/records?extract=%d", w.extract.ID))
		},
			"Records of ad.csv", "Records of ad.csv", "#records th", "Line"},
		{"exclude a record confirmation", engineer, func(w *roleWorld) string {
			return projectPath(w.project, fmt.Sprintf("/data/records/%d/exclude", w.record.ID))
		}, "Exclude a record", "Exclude the record on line 2 (ada@example.com)?", danger, "Exclude the record"},
		{"fix a record", engineer, func(w *roleWorld) string {
			return projectPath(w.project, fmt.Sprintf("/data/records/%d/edit", w.record.ID))
		}, "Fix a record", "Fix the record on line 2 (ada@example.com)", submit, "Save the fix"},
		{"data quality", engineer, inProject("/quality"), "Data quality", "Data quality", headButton, "Validate the staged data"},
		{"migration program", engineer, inProject("/program"), "Migration program", "Migration program", submit, "Save the period"},
		{"erase the staged hashes confirmation", engineer, inProject("/program/erase"), "Erase the staged hashes",
			`Erase the staged password hashes of "` + roleProjectName + `"?`, danger, "Erase the staged hashes"},
		{"a missing page", lead, fixed("/no-such-page"), "Error", "page not found", "a.btn", "Go to your projects"},
	}
	w := newRoleWorld(t)
	browsers := map[*auth.Account]*browser{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := w.app.browser()
			if tt.as != nil {
				acct := tt.as(w)
				if browsers[acct] == nil {
					browsers[acct] = w.app.signedIn(acct)
				}
				b = browsers[acct]
			}
			res := b.get(tt.path(w))
			wantStatus := http.StatusOK
			if tt.name == "a missing page" {
				wantStatus = http.StatusNotFound
			}
			if res.StatusCode != wantStatus {
				t.Fatalf("status %d, want %d: %.300s", res.StatusCode, wantStatus, res.Body)
			}
			if got := pageTitle(t, res); got != tt.title+" · Ferry" {
				t.Errorf("title %q, want %q", got, tt.title+" · Ferry")
			}
			doc := res.doc(t)
			if h1s := doc.Find("h1"); h1s.Length() != 1 || strings.TrimSpace(h1s.Text()) != tt.h1 {
				t.Errorf("h1 %q (%d of them), want exactly one %q", strings.TrimSpace(h1s.Text()), h1s.Length(), tt.h1)
			}
			action := strings.TrimSpace(doc.Find(tt.action).First().Text())
			if !strings.HasPrefix(action, tt.label) {
				t.Errorf("primary action %s is %q, want %q", tt.action, action, tt.label)
			}
			// Every input has a label, by id or around it.
			doc.Find("input:not([type=hidden]), select, textarea").Each(func(_ int, s *goquery.Selection) {
				id, _ := s.Attr("id")
				if s.ParentsFiltered("label").Length() == 0 && (id == "" || doc.Find(fmt.Sprintf(`label[for=%q]`, id)).Length() == 0) {
					name, _ := s.Attr("name")
					t.Errorf("input %q (id %q) has no label", name, id)
				}
			})
		})
	}
}

func TestEmptyPagesSayWhatTheyAreForAndOfferTheFirstStep(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	viewer := app.mustAccount("viewer@example.com", "Vic Viewer", false)
	loner := app.mustAccount("loner@example.com", "Lo Ner", false)
	p := app.mustProject(lead, "Empty Co")
	app.mustMember(p, viewer, auth.RoleViewer)
	asLead, asViewer, asLoner := app.signedIn(lead), app.signedIn(viewer), app.signedIn(loner)

	tests := []struct {
		name    string
		b       *browser
		path    string
		heading string
		cta     string // href of the call to action; "" when the visitor may not act
	}{
		{"no projects offers to create one", asLoner, "/projects", "No projects yet", "/projects/new"},
		{"no tokens explains what they are for", asLoner, "/tokens", "No tokens yet", ""},
		{"no user types offers the first one to the lead", asLead, projectPath(p, "/people"), "No user types yet", projectPath(p, "/people/new")},
		{"no sources offers the first one to the lead", asLead, projectPath(p, "/sources"), "No source systems yet", projectPath(p, "/sources/new")},
		{"no applications offers the first one to the lead", asLead, projectPath(p, "/applications"), "No applications yet", projectPath(p, "/applications/new")},
		{"a viewer sees the empty state without the action", asViewer, projectPath(p, "/people"), "No user types yet", ""},
		{"an unknown record has no history", asLead, projectPath(p, "/audit?entity=user_type&id=999"), "Nothing recorded here yet", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.b.get(tt.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d", res.StatusCode)
			}
			empty := res.doc(t).Find(".panel.empty")
			if got := strings.TrimSpace(empty.Find("h2").Text()); got != tt.heading {
				t.Fatalf("empty state %q, want %q", got, tt.heading)
			}
			if len(strings.TrimSpace(empty.Find("p").First().Text())) < 30 {
				t.Errorf("the empty state does not say what the thing is for: %q", empty.Text())
			}
			cta, has := empty.Find("a.btn.primary").Attr("href")
			switch {
			case tt.cta == "" && has:
				t.Errorf("empty state offers %s to someone who may not act", cta)
			case tt.cta != "" && cta != tt.cta:
				t.Errorf("call to action %q, want %q", cta, tt.cta)
			}
		})
	}

	t.Run("an empty overview explains the estimate and links the first steps", func(t *testing.T) {
		res := asLead.get(projectPath(p, ""))
		doc := res.doc(t)
		if !strings.Contains(doc.Find("#estimate-h").Parent().Text(), "Add user types with their numbers of users") {
			t.Error("the empty estimate does not say what to add")
		}
		if got := strings.TrimSpace(doc.Find("#readiness-percent").Text()); got != "0%" {
			t.Errorf("readiness %q, want 0%%", got)
		}
		next, _ := doc.Find(".page-head a.btn.primary").Attr("href")
		if next != projectPath(p, "/people/new") {
			t.Errorf("next step %q, want the new user type form", next)
		}
	})
}

// ---- first run ----

func TestSetupCreatesTheFirstAdminOnceWithTheSecretLink(t *testing.T) {
	app := newTestApp(t)
	secret := app.Auth.NewSetupSecret()
	b := app.browser()
	ctx := context.Background()
	accounts := func() int64 {
		n, err := app.Auth.CountAccounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	admin := url.Values{"secret": {secret}, "name": {"Ada Admin"}, "email": {"ada@example.com"}, "password": {testPassword}}

	t.Run("the sign-in page points to the setup link", func(t *testing.T) {
		res := b.get("/signin")
		if !strings.Contains(flashText(t, res), "setup link") {
			t.Fatalf("flash %q does not mention the setup link", flashText(t, res))
		}
	})
	t.Run("a wrong secret is refused", func(t *testing.T) {
		res := b.get("/setup?secret=wrong")
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "This setup link is not valid") {
			t.Fatalf("status %d: %.300s", res.StatusCode, res.Body)
		}
		bad := url.Values{}
		for k, v := range admin {
			bad[k] = v
		}
		bad.Set("secret", "wrong")
		if res := b.post("/setup", bad); res.StatusCode != http.StatusForbidden {
			t.Fatalf("POST with a wrong secret: %d", res.StatusCode)
		}
		if n := accounts(); n != 0 {
			t.Fatalf("%d accounts after a wrong secret", n)
		}
	})
	t.Run("the form shows with the right secret", func(t *testing.T) {
		res := b.get("/setup?secret=" + url.QueryEscape(secret))
		if res.StatusCode != http.StatusOK || pageTitle(t, res) != "Set up Ferry · Ferry" {
			t.Fatalf("status %d title %q", res.StatusCode, pageTitle(t, res))
		}
		if v, _ := res.doc(t).Find("input[name=secret]").Attr("value"); v != secret {
			t.Fatal("the form does not carry the secret")
		}
	})
	t.Run("a short password is refused next to the field", func(t *testing.T) {
		weak := url.Values{"secret": {secret}, "name": {"Ada Admin"}, "email": {"ada@example.com"}, "password": {"short"}}
		res := b.post("/setup", weak)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status %d", res.StatusCode)
		}
		if msg := fieldError(t, res, "password"); !strings.Contains(msg, "at least 12 characters") {
			t.Fatalf("password message %q", msg)
		}
		if n := accounts(); n != 0 {
			t.Fatalf("%d accounts after a refused setup", n)
		}
	})
	t.Run("the first admin is created and signed in", func(t *testing.T) {
		res := b.post("/setup", admin)
		page := wantRedirect(t, b, res, "/projects")
		if !strings.Contains(flashText(t, page), "Ferry is set up") {
			t.Fatalf("flash %q", flashText(t, page))
		}
		a, err := app.Auth.FindAccountByEmail(ctx, "ada@example.com")
		if err != nil || !a.IsAdmin {
			t.Fatalf("first account %+v, %v: want an admin", a, err)
		}
	})
	t.Run("the setup page is gone once an account exists", func(t *testing.T) {
		other := app.browser()
		if res := other.get("/setup?secret=" + url.QueryEscape(secret)); res.StatusCode != http.StatusNotFound {
			t.Fatalf("GET setup afterwards: %d", res.StatusCode)
		}
		again := url.Values{"secret": {secret}, "name": {"Eve"}, "email": {"eve@example.com"}, "password": {testPassword}}
		if res := other.post("/setup", again); res.StatusCode != http.StatusNotFound {
			t.Fatalf("POST setup afterwards: %d", res.StatusCode)
		}
		// Even a fresh secret does not reopen it.
		fresh := app.Auth.NewSetupSecret()
		again.Set("secret", fresh)
		if res := other.post("/setup", again); res.StatusCode != http.StatusNotFound {
			t.Fatalf("POST setup with a fresh secret: %d", res.StatusCode)
		}
		if n := accounts(); n != 1 {
			t.Fatalf("%d accounts, want 1", n)
		}
	})
}

// ---- sign in and out ----

func TestSignInAndOut(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	p := app.mustProject(lead, "Acme")
	b := app.browser()

	res := b.get(projectPath(p, "/people"))
	wantLoc := "/signin?next=" + url.QueryEscape(projectPath(p, "/people"))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != wantLoc {
		t.Fatalf("anonymous visit: %d to %q, want 303 to %q", res.StatusCode, res.Header.Get("Location"), wantLoc)
	}
	form := b.get(wantLoc)
	if next, _ := form.doc(t).Find("input[name=next]").Attr("value"); next != projectPath(p, "/people") {
		t.Fatalf("the sign-in form keeps next=%q", next)
	}
	res = b.post("/signin", url.Values{"email": {"LEAD@example.com "}, "password": {testPassword}, "next": {projectPath(p, "/people")}})
	page := wantRedirect(t, b, res, projectPath(p, "/people"))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.doc(t).Find("header nav").Text(), "Lea Lead") {
		t.Fatalf("after sign-in: %d, header %q", page.StatusCode, page.doc(t).Find("header nav").Text())
	}
	u, _ := url.Parse(app.HTTP.URL)
	var session string
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == "ferry_session" {
			session = ck.Value
		}
	}
	if session == "" {
		t.Fatal("no session cookie")
	}

	res = b.post("/signout", url.Values{})
	page = wantRedirect(t, b, res, "/signin")
	if flashText(t, page) != "You are signed out." {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if res := b.get("/projects"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after sign-out /projects answered %d", res.StatusCode)
	}
	// The old cookie value is dead on the server too, not only forgotten by the browser.
	stolen := app.browser()
	stolen.c.Jar.SetCookies(u, []*http.Cookie{{Name: "ferry_session", Value: session, Path: "/"}})
	if res := stolen.get("/projects"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
		t.Fatalf("the signed-out session still works: %d", res.StatusCode)
	}
}

func TestWrongPasswordSaysSoWithoutSayingWhich(t *testing.T) {
	app := newTestApp(t)
	app.mustAccount("lead@example.com", "Lea Lead", false)
	tests := []struct {
		name, email, password string
	}{
		{"wrong password", "lead@example.com", "not the password at all"},
		{"unknown email", "nobody@example.com", testPassword},
		{"empty password", "lead@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := app.browser()
			res := b.post("/signin", url.Values{"email": {tt.email}, "password": {tt.password}})
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d", res.StatusCode)
			}
			if msg := formMessage(t, res); msg != "Email or password is incorrect." {
				t.Fatalf("message %q", msg)
			}
			doc := res.doc(t)
			if v, _ := doc.Find("#f-email").Attr("value"); v != tt.email {
				t.Errorf("email field %q, want it kept as %q", v, tt.email)
			}
			if v, _ := doc.Find("#f-password").Attr("value"); v != "" {
				t.Error("the password is sent back in the page")
			}
			if res := b.get("/projects"); res.StatusCode != http.StatusSeeOther {
				t.Error("a failed sign-in signed the browser in")
			}
		})
	}
}

func TestRepeatedFailedSignInsAreSlowedDown(t *testing.T) {
	app := newTestApp(t)
	app.mustAccount("lead@example.com", "Lea Lead", false)
	b := app.browser()
	for i := range 5 {
		res := b.post("/signin", url.Values{"email": {"lead@example.com"}, "password": {fmt.Sprintf("wrong guess %d", i)}})
		if msg := formMessage(t, res); msg != "Email or password is incorrect." {
			t.Fatalf("attempt %d: %q", i+1, msg)
		}
	}
	// Even the right password now has to wait.
	res := b.post("/signin", url.Values{"email": {"lead@example.com"}, "password": {testPassword}})
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want the sign-in refused while throttled", res.StatusCode)
	}
	if msg := formMessage(t, res); msg != "Too many failed sign-ins for this email. Try again in 1 second." {
		t.Fatalf("message %q", msg)
	}
	app.Clock.Advance(2e9)
	res = b.post("/signin", url.Values{"email": {"lead@example.com"}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after waiting: %d %s", res.StatusCode, formMessage(t, res))
	}
}

// ---- accounts ----

func TestAdminResetForcesAPasswordChange(t *testing.T) {
	app := newTestApp(t)
	admin := app.mustAccount("admin@example.com", "Ada Admin", true)
	user := app.mustAccount("user@example.com", "Uma User", false)
	asAdmin, asUser := app.signedIn(admin), app.signedIn(user)
	const temporary = "temporary passphrase 1"
	const chosen = "my own passphrase 2026"

	res := asAdmin.post(fmt.Sprintf("/accounts/%d/password", user.ID), url.Values{"password": {temporary}})
	page := wantRedirect(t, asAdmin, res, fmt.Sprintf("/accounts/%d", user.ID))
	if !strings.Contains(flashText(t, page), "Password of user@example.com reset") {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if res := asUser.get("/projects"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
		t.Fatalf("the reset did not sign the person out: %d", res.StatusCode)
	}
	if res := asUser.post("/signin", url.Values{"email": {user.Email}, "password": {testPassword}}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the old password still works: %d", res.StatusCode)
	}
	res = asUser.post("/signin", url.Values{"email": {user.Email}, "password": {temporary}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the temporary password: %d", res.StatusCode)
	}
	for _, path := range []string{"/projects", "/tokens", "/projects/new"} {
		if res := asUser.get(path); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/password" {
			t.Fatalf("%s before changing the password: %d to %q", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	form := asUser.get("/account/password")
	if !strings.Contains(form.Body, "An admin reset your password") {
		t.Fatal("the password page does not say why")
	}
	res = asUser.post("/account/password", url.Values{"current_password": {"not it"}, "password": {chosen}})
	if msg := fieldError(t, res, "current_password"); msg != "Current password is incorrect." {
		t.Fatalf("wrong current password: %q", msg)
	}
	res = asUser.post("/account/password", url.Values{"current_password": {temporary}, "password": {temporary}})
	if msg := fieldError(t, res, "password"); msg != "Choose a password different from the current one." {
		t.Fatalf("same password: %q", msg)
	}
	res = asUser.post("/account/password", url.Values{"current_password": {temporary}, "password": {chosen}})
	page = wantRedirect(t, asUser, res, "/projects")
	if page.StatusCode != http.StatusOK || flashText(t, page) != "Your password is changed." {
		t.Fatalf("after the change: %d %q", page.StatusCode, flashText(t, page))
	}
	if res := app.browser().post("/signin", url.Values{"email": {user.Email}, "password": {chosen}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the chosen password does not work: %d", res.StatusCode)
	}
}

func TestAdminCreatesDisablesAndReenablesAccounts(t *testing.T) {
	app := newTestApp(t)
	admin := app.mustAccount("admin@example.com", "Ada Admin", true)
	asAdmin := app.signedIn(admin)
	ctx := context.Background()

	res := asAdmin.post("/accounts", url.Values{"name": {"Nora New"}, "email": {"nora@example.com"}, "password": {"temporary passphrase 1"}})
	page := wantRedirect(t, asAdmin, res, "/accounts")
	if !strings.Contains(flashText(t, page), "Account nora@example.com created") {
		t.Fatalf("flash %q", flashText(t, page))
	}
	row := page.doc(t).Find("#accounts tbody tr").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.Contains(s.Text(), "nora@example.com")
	})
	if !strings.Contains(row.Text(), "must change password") {
		t.Fatalf("new account row %q", strings.TrimSpace(row.Text()))
	}
	nora, err := app.Auth.FindAccountByEmail(ctx, "nora@example.com")
	if err != nil || nora.IsAdmin || !nora.MustChangePassword {
		t.Fatalf("created %+v, %v", nora, err)
	}
	asNora := app.browser()
	if res := asNora.post("/signin", url.Values{"email": {"nora@example.com"}, "password": {"temporary passphrase 1"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("nora signs in: %d", res.StatusCode)
	}
	if res := asNora.post("/account/password", url.Values{"current_password": {"temporary passphrase 1"}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("nora changes her password: %d", res.StatusCode)
	}
	if res := asNora.get("/projects"); res.StatusCode != http.StatusOK {
		t.Fatalf("nora's projects: %d", res.StatusCode)
	}

	edit := asAdmin.get(fmt.Sprintf("/accounts/%d", nora.ID))
	version := hiddenVersion(t, edit, "")
	res = asAdmin.post(fmt.Sprintf("/accounts/%d", nora.ID), url.Values{"name": {"Nora New"}, "version": {version}, "disabled": {"true"}})
	page = wantRedirect(t, asAdmin, res, "/accounts")
	if !strings.Contains(flashText(t, page), "Account nora@example.com saved.") {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if res := asNora.get("/projects"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
		t.Fatalf("a disabled account is still signed in: %d", res.StatusCode)
	}
	res = asNora.post("/signin", url.Values{"email": {"nora@example.com"}, "password": {testPassword}})
	if res.StatusCode != http.StatusUnauthorized || formMessage(t, res) != "This account is disabled. Ask an admin to enable it." {
		t.Fatalf("disabled sign-in: %d %q", res.StatusCode, formMessage(t, res))
	}

	edit = asAdmin.get(fmt.Sprintf("/accounts/%d", nora.ID))
	if _, checked := edit.doc(t).Find(`input[name=disabled]`).Attr("checked"); !checked {
		t.Fatal("the account page does not show the account disabled")
	}
	res = asAdmin.post(fmt.Sprintf("/accounts/%d", nora.ID), url.Values{"name": {"Nora New"}, "version": {hiddenVersion(t, edit, "")}})
	wantRedirect(t, asAdmin, res, "/accounts")
	if res := asNora.post("/signin", url.Values{"email": {"nora@example.com"}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("re-enabled sign-in: %d", res.StatusCode)
	}

	t.Run("an admin cannot disable themselves", func(t *testing.T) {
		edit := asAdmin.get(fmt.Sprintf("/accounts/%d", admin.ID))
		res := asAdmin.post(fmt.Sprintf("/accounts/%d", admin.ID), url.Values{"name": {"Ada Admin"}, "version": {hiddenVersion(t, edit, "")}, "disabled": {"true"}})
		wantRedirect(t, asAdmin, res, "/accounts")
		a, _ := app.Auth.FindAccountByID(ctx, admin.ID)
		if a.Disabled() || !a.IsAdmin {
			t.Fatalf("the admin changed their own rights: %+v", a)
		}
	})
}

// ---- API tokens ----

var tokenRevokeHref = regexp.MustCompile(`^/tokens/(\d+)/revoke$`)

func TestAPITokenIsShownOnceAndCanBeRevoked(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	b := app.signedIn(lead)

	res := b.post("/tokens", url.Values{"name": {"nightly staging script"}})
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d", res.StatusCode)
	}
	value := strings.TrimSpace(res.doc(t).Find("#new-token").Text())
	if !strings.HasPrefix(value, auth.TokenPrefix) || len(value) < 40 {
		t.Fatalf("token shown %q", value)
	}
	if res.Header.Get("Location") != "" || strings.Contains(res.Header.Get("Set-Cookie"), value) {
		t.Fatal("the token travels somewhere else than the page")
	}
	if api := app.api(value, "GET", "/api/v1/projects", nil); api.StatusCode != http.StatusOK {
		t.Fatalf("the new token does not work: %d", api.StatusCode)
	}

	list := b.get("/tokens")
	if strings.Contains(list.Body, value) {
		t.Fatal("the token is shown again")
	}
	row := list.doc(t).Find("#tokens tbody tr").First()
	if !strings.Contains(row.Text(), "nightly staging script") || !strings.Contains(row.Text(), value[:len(auth.TokenPrefix)+6]) || !strings.Contains(row.Text(), "active") {
		t.Fatalf("token row %q", strings.TrimSpace(row.Text()))
	}
	href, _ := row.Find("a").Attr("href")
	if !tokenRevokeHref.MatchString(href) {
		t.Fatalf("revoke link %q", href)
	}

	confirm := b.get(href)
	if h := strings.TrimSpace(confirm.doc(t).Find("h1").Text()); h != `Revoke the token "nightly staging script"?` {
		t.Fatalf("confirmation %q", h)
	}
	if !strings.Contains(confirm.Body, "fail with 401") {
		t.Error("the confirmation does not say what revoking does")
	}
	if api := app.api(value, "GET", "/api/v1/projects", nil); api.StatusCode != http.StatusOK {
		t.Fatal("showing the confirmation revoked the token")
	}
	res = b.post(href, url.Values{})
	page := wantRedirect(t, b, res, "/tokens")
	if flashText(t, page) != `Token "nightly staging script" revoked.` {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if !strings.Contains(page.doc(t).Find("#tokens tbody tr").First().Text(), "revoked") {
		t.Fatal("the list does not show the token revoked")
	}
	if api := app.api(value, "GET", "/api/v1/projects", nil); api.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked token still works: %d", api.StatusCode)
	}

	t.Run("someone else's token cannot be revoked", func(t *testing.T) {
		other := app.mustAccount("other@example.com", "Otto Other", false)
		otherValue, tok, err := app.Auth.CreateAPIToken(context.Background(), other.ID, "theirs")
		if err != nil {
			t.Fatal(err)
		}
		path := fmt.Sprintf("/tokens/%d/revoke", tok.ID)
		if res := b.get(path); res.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		if res := b.post(path, url.Values{}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("POST %s: %d", path, res.StatusCode)
		}
		if api := app.api(otherValue, "GET", "/api/v1/projects", nil); api.StatusCode != http.StatusOK {
			t.Fatal("another person's token was revoked")
		}
	})
}

// ---- projects ----

func TestProjectCreateSettingsAndDeleteWithTypedName(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	b := app.signedIn(lead)
	ctx := context.Background()

	form := b.get("/projects/new")
	doc := form.doc(t)
	if v, _ := doc.Find("#f-user_creation_rate_limit").Attr("value"); v != "600" {
		t.Errorf("default rate limit %q", v)
	}
	if !strings.Contains(doc.Find(".hint").Text(), "Migration program") {
		t.Error("the form does not explain the migration types")
	}
	res := b.post("/projects", projectFormValues("Acme to Okta", 0))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %.300s", res.StatusCode, res.Body)
	}
	loc := res.Header.Get("Location")
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/projects/"), 10, 64)
	if err != nil {
		t.Fatalf("created project at %q", loc)
	}
	page := b.get(loc)
	if !strings.Contains(flashText(t, page), `Project "Acme to Okta" created; you are its project lead.`) {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if role, _ := app.Auth.RoleIn(ctx, lead.ID, id); role != auth.RoleProjectLead {
		t.Fatalf("creator's role %q", role)
	}
	if list := b.get("/projects"); !strings.Contains(list.doc(t).Find("#projects").Text(), "Acme to Okta") {
		t.Fatal("the projects list does not show the new project")
	}

	settings := b.get(loc + "/settings")
	if v, _ := settings.doc(t).Find("#f-name").Attr("value"); v != "Acme to Okta" {
		t.Fatalf("settings name %q", v)
	}
	upd := projectFormValues("Acme to Okta", 0)
	upd.Set("version", hiddenVersion(t, settings, ""))
	upd.Set("description", "Workforce and customers")
	upd.Set("migration_type", "program")
	upd.Set("user_creation_rate_limit", "100")
	res = b.post(loc+"/settings", upd)
	page = wantRedirect(t, b, res, loc+"/settings")
	if flashText(t, page) != "Project settings saved." {
		t.Fatalf("flash %q", flashText(t, page))
	}
	p, err := app.Plan.FindProjectByID(ctx, id)
	if err != nil || p.Description != "Workforce and customers" || p.MigrationType != "program" || p.UserCreationRateLimit != 100 || p.Version != 2 {
		t.Fatalf("saved project %+v, %v", p, err)
	}
	if v, _ := page.doc(t).Find("#f-migration_type option[selected]").Attr("value"); v != "program" {
		t.Fatalf("settings show migration type %q", v)
	}

	confirm := b.get(loc + "/delete")
	if h := strings.TrimSpace(confirm.doc(t).Find("h1").Text()); h != `Delete the project "Acme to Okta"?` {
		t.Fatalf("confirmation %q", h)
	}
	if !strings.Contains(confirm.doc(t).Find("label[for=f-confirm_name]").Text(), "Acme to Okta") {
		t.Fatal("the confirmation does not say what to type")
	}
	for _, typed := range []string{"", "acme to okta", "Acme"} {
		res = b.post(loc+"/delete", url.Values{"confirm_name": {typed}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("typed %q: %d", typed, res.StatusCode)
		}
		if msg := fieldError(t, res, "confirm_name"); msg != "Type the project's name exactly to confirm." {
			t.Fatalf("typed %q: message %q", typed, msg)
		}
		if _, err := app.Plan.FindProjectByID(ctx, id); err != nil {
			t.Fatalf("typed %q deleted the project", typed)
		}
	}
	res = b.post(loc+"/delete", url.Values{"confirm_name": {"Acme to Okta"}})
	page = wantRedirect(t, b, res, "/projects")
	if flashText(t, page) != `Project "Acme to Okta" deleted.` {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if _, err := app.Plan.FindProjectByID(ctx, id); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("after deletion: %v", err)
	}
	if res := b.get(loc); res.StatusCode != http.StatusNotFound {
		t.Fatalf("deleted project's page: %d", res.StatusCode)
	}
}

// ---- the inventory ----

func TestUserTypesWithSubgroups(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	p := app.mustProject(lead, "Acme")
	b := app.signedIn(lead)
	ctx := context.Background()

	res := b.post(projectPath(p, "/people"), url.Values{"kind": {"full_time_employee"}, "name": {"Head office"}, "user_count": {"1,200"},
		"subgroup_name": {"Sales", "Marketing", "", ""}, "subgroup_count": {"700", "500", "", ""}, "notes": {"From HR"}})
	page := wantRedirect(t, b, res, projectPath(p, "/people"))
	if flashText(t, page) != `User type "Head office" added.` {
		t.Fatalf("flash %q", flashText(t, page))
	}
	res = b.post(projectPath(p, "/people"), url.Values{"kind": {"customer"}, "name": {"Shoppers"}, "user_count": {"98800"}})
	page = wantRedirect(t, b, res, projectPath(p, "/people"))

	doc := page.doc(t)
	rows := doc.Find("#user-types tbody tr")
	if rows.Length() != 2 {
		t.Fatalf("%d rows", rows.Length())
	}
	headOffice := rows.First()
	if got := strings.Join(strings.Fields(headOffice.Find("td").Eq(3).Text()), " "); got != "Sales (700), Marketing (500)" {
		t.Errorf("subgroups cell %q", got)
	}
	if got := headOffice.Find("td.num").Text(); got != "1,200" {
		t.Errorf("count %q, want thousands separators", got)
	}
	if got := doc.Find("#people-total").Text(); got != "100,000" {
		t.Errorf("total %q", got)
	}
	if !strings.Contains(doc.Text(), "Full-time employee") || !strings.Contains(doc.Text(), "Customer") {
		t.Error("no totals per kind")
	}

	uts, _ := app.Plan.FindUserTypes(ctx, p.ID)
	u := uts[0]
	if u.Name != "Head office" || u.UserCount != 1200 || len(u.Subgroups) != 2 || u.Subgroups[1].Name != "Marketing" {
		t.Fatalf("stored %+v", u)
	}

	edit := b.get(projectPath(p, fmt.Sprintf("/people/%d/edit", u.ID)))
	ed := edit.doc(t)
	if v, _ := ed.Find("#sg-name-2").Attr("value"); v != "Marketing" {
		t.Fatalf("second subgroup row %q", v)
	}
	if n := ed.Find("input[name=subgroup_name]").Length(); n != 5 {
		t.Errorf("%d subgroup rows, want the 2 stored and 3 blank", n)
	}
	res = b.post(projectPath(p, fmt.Sprintf("/people/%d", u.ID)), url.Values{"kind": {"full_time_employee"}, "name": {"Head office"},
		"user_count": {"1300"}, "subgroup_name": {"Sales", "", "Finance"}, "subgroup_count": {"800", "", "100"}, "version": {hiddenVersion(t, edit, "")}})
	page = wantRedirect(t, b, res, projectPath(p, "/people"))
	if flashText(t, page) != `User type "Head office" saved.` {
		t.Fatalf("flash %q", flashText(t, page))
	}
	got, _ := app.Plan.FindUserTypeByID(ctx, p.ID, u.ID)
	if got.UserCount != 1300 || len(got.Subgroups) != 2 || got.Subgroups[0].Name != "Sales" || got.Subgroups[1].Name != "Finance" || got.Subgroups[1].UserCount != 100 {
		t.Fatalf("after edit %+v", got)
	}

	confirm := b.get(projectPath(p, fmt.Sprintf("/people/%d/delete", u.ID)))
	if !strings.Contains(confirm.Body, "with its 2 subgroups and its count of 1,300 users") {
		t.Fatalf("the confirmation does not name what is lost: %s", confirm.doc(t).Find("ul").Text())
	}
	res = b.post(projectPath(p, fmt.Sprintf("/people/%d/delete", u.ID)), url.Values{})
	page = wantRedirect(t, b, res, projectPath(p, "/people"))
	if flashText(t, page) != `User type "Head office" deleted.` {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if _, err := app.Plan.FindUserTypeByID(ctx, p.ID, u.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func TestSourcesLifecycle(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	p := app.mustProject(lead, "Acme")
	staff := seedUserType(t, app, lead, p, "Staff", 100)
	b := app.signedIn(lead)
	ctx := context.Background()

	form := b.get(projectPath(p, "/sources/new"))
	if form.doc(t).Find(fmt.Sprintf(`input[name=user_type_ids][value="%d"]`, staff.ID)).Length() != 1 {
		t.Fatal("the form does not offer the project's user types")
	}
	res := b.post(projectPath(p, "/sources"), url.Values{"name": {"Corporate AD"}, "kind": {"active_directory"}, "user_type_ids": {fmt.Sprint(staff.ID)},
		"access_owner": {"Jane Roe, IAM"}, "access_status": {"granted"}, "access_status_date": {"2026-02-20"}, "access_reference": {"CHG-1042"},
		"migrate_credentials": {"yes"}, "password_hash_format": {"bcrypt"}, "migrate_groups": {"yes"}, "migrate_memberships": {"yes"}, "notes": {"Read-only bind"}})
	page := wantRedirect(t, b, res, projectPath(p, "/sources"))
	if flashText(t, page) != `Source system "Corporate AD" added.` {
		t.Fatalf("flash %q", flashText(t, page))
	}
	row := page.doc(t).Find("#sources tbody tr").First()
	for _, want := range []string{"Corporate AD", "Active Directory", "Staff", "Jane Roe, IAM", "Granted", "2026-02-20", "CHG-1042", "bcrypt"} {
		if !strings.Contains(row.Text(), want) {
			t.Errorf("source row lacks %q: %q", want, strings.Join(strings.Fields(row.Text()), " "))
		}
	}
	srcs, _ := app.Plan.FindSources(ctx, p.ID)
	src := srcs[0]
	if len(src.UserTypeIDs) != 1 || src.UserTypeIDs[0] != staff.ID || src.PasswordHashFormat != "bcrypt" {
		t.Fatalf("stored %+v", src)
	}

	edit := b.get(projectPath(p, fmt.Sprintf("/sources/%d/edit", src.ID)))
	ed := edit.doc(t)
	if _, checked := ed.Find(fmt.Sprintf(`input[name=user_type_ids][value="%d"]`, staff.ID)).Attr("checked"); !checked {
		t.Error("the edit form does not tick the linked user type")
	}
	if v, _ := ed.Find("#f-access_status option[selected]").Attr("value"); v != "granted" {
		t.Errorf("access status shown %q", v)
	}
	res = b.post(projectPath(p, fmt.Sprintf("/sources/%d", src.ID)), url.Values{"name": {"Corporate AD"}, "kind": {"active_directory"},
		"access_owner": {"John Doe"}, "access_status": {"denied"}, "migrate_credentials": {"no"}, "migrate_groups": {"no"}, "migrate_memberships": {"no"},
		"version": {hiddenVersion(t, edit, "")}})
	page = wantRedirect(t, b, res, projectPath(p, "/sources"))
	if flashText(t, page) != `Source system "Corporate AD" saved.` {
		t.Fatalf("flash %q", flashText(t, page))
	}
	got, _ := app.Plan.FindSourceByID(ctx, p.ID, src.ID)
	if got.AccessOwner != "John Doe" || got.AccessStatus != "denied" || len(got.UserTypeIDs) != 0 || got.PasswordHashFormat != "" {
		t.Fatalf("after edit %+v", got)
	}

	res = b.post(projectPath(p, fmt.Sprintf("/sources/%d/delete", src.ID)), url.Values{})
	page = wantRedirect(t, b, res, projectPath(p, "/sources"))
	if flashText(t, page) != `Source system "Corporate AD" deleted.` || page.doc(t).Find(".panel.empty").Length() != 1 {
		t.Fatalf("after delete: flash %q", flashText(t, page))
	}
}

func TestApplicationsLifecycle(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	p := app.mustProject(lead, "Acme")
	staff := seedUserType(t, app, lead, p, "Staff", 100)
	b := app.signedIn(lead)
	ctx := context.Background()

	res := b.post(projectPath(p, "/applications"), url.Values{"name": {"Salesforce"}, "access_method": {"saml"}, "user_type_ids": {fmt.Sprint(staff.ID)},
		"assignment_basis": {"group"}, "oin_status": {"yes"}, "oin_link": {"https://www.okta.com/integrations/salesforce/"}, "notes": {"SSO today"}})
	page := wantRedirect(t, b, res, projectPath(p, "/applications"))
	if flashText(t, page) != `Application "Salesforce" added.` {
		t.Fatalf("flash %q", flashText(t, page))
	}
	row := page.doc(t).Find("#applications tbody tr").First()
	for _, want := range []string{"Salesforce", "SAML", "Staff", "By group", "Yes, in the OIN"} {
		if !strings.Contains(row.Text(), want) {
			t.Errorf("application row lacks %q: %q", want, strings.Join(strings.Fields(row.Text()), " "))
		}
	}
	if href, _ := row.Find(`a[rel~=noopener]`).Attr("href"); href != "https://www.okta.com/integrations/salesforce/" {
		t.Errorf("OIN link %q", href)
	}
	apps, _ := app.Plan.FindApplications(ctx, p.ID)
	a := apps[0]

	edit := b.get(projectPath(p, fmt.Sprintf("/applications/%d/edit", a.ID)))
	if v, _ := edit.doc(t).Find("#f-oin_link").Attr("value"); v != "https://www.okta.com/integrations/salesforce/" {
		t.Fatalf("edit form OIN link %q", v)
	}
	res = b.post(projectPath(p, fmt.Sprintf("/applications/%d", a.ID)), url.Values{"name": {"Salesforce CRM"}, "access_method": {"oidc"},
		"assignment_basis": {"attribute"}, "oin_status": {"unknown"}, "version": {hiddenVersion(t, edit, "")}})
	page = wantRedirect(t, b, res, projectPath(p, "/applications"))
	if flashText(t, page) != `Application "Salesforce CRM" saved.` {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if !strings.Contains(page.doc(t).Find("#applications").Text(), "none chosen") {
		t.Error("an application without user types is not flagged")
	}
	got, _ := app.Plan.FindApplicationByID(ctx, p.ID, a.ID)
	if got.Name != "Salesforce CRM" || got.AccessMethod != "oidc" || got.OINLink != "" || len(got.UserTypeIDs) != 0 {
		t.Fatalf("after edit %+v", got)
	}
	res = b.post(projectPath(p, fmt.Sprintf("/applications/%d/delete", a.ID)), url.Values{})
	page = wantRedirect(t, b, res, projectPath(p, "/applications"))
	if flashText(t, page) != `Application "Salesforce CRM" deleted.` {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if apps, _ := app.Plan.FindApplications(ctx, p.ID); len(apps) != 0 {
		t.Fatalf("%d applications left", len(apps))
	}
}

func TestGoalsAreAnsweredAndReadinessRises(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	p := app.mustProject(lead, "Acme")
	b := app.signedIn(lead)
	readiness := func() int {
		t.Helper()
		s := strings.TrimSuffix(strings.TrimSpace(b.get(projectPath(p, "")).doc(t).Find("#readiness-percent").Text()), "%")
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("readiness %q", s)
		}
		return n
	}
	before := readiness()

	page := b.get(projectPath(p, "/goals"))
	doc := page.doc(t)
	for _, q := range plan.GoalQuestions() {
		if doc.Find("#f-"+q.Field).Length() != 1 || !strings.Contains(doc.Find(fmt.Sprintf(`label[for="f-%s"]`, q.Field)).Text(), q.Question) {
			t.Errorf("question %q is not asked", q.Question)
		}
	}
	answers := url.Values{"version": {hiddenVersion(t, page, "")}, "approach": {"staged"}, "rationale": {"Fewer interruptions for shops."}}
	for _, q := range plan.GoalQuestions() {
		answers.Set(q.Field, "Answer to "+q.Field)
	}
	res := b.post(projectPath(p, "/goals"), answers)
	page = wantRedirect(t, b, res, projectPath(p, "/goals"))
	if flashText(t, page) != "Goals and strategy saved." {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if got := page.doc(t).Find("#f-stages_preferred").Text(); got != "Answer to stages_preferred" {
		t.Fatalf("saved answer shows %q", got)
	}
	if v, _ := page.doc(t).Find("#f-approach option[selected]").Attr("value"); v != "staged" {
		t.Fatalf("approach shows %q", v)
	}
	if after := readiness(); after <= before {
		t.Fatalf("readiness %d%% after answering the goals, was %d%%", after, before)
	}
	mark, _ := page.doc(t).Find(fmt.Sprintf(`nav.side a[href="%s"] .mark`, projectPath(p, "/goals"))).Attr("class")
	if !strings.Contains(mark, "done") {
		t.Errorf("goals navigation mark %q, want done", mark)
	}
}

// ---- members ----

func TestMembersAddChangeRemoveAndTheLastLead(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	eng := app.mustAccount("eng@example.com", "Eve Engineer", false)
	p := app.mustProject(lead, "Acme")
	b := app.signedIn(lead)
	ctx := context.Background()
	membership := func(acct *auth.Account) auth.Membership {
		t.Helper()
		ms, _ := app.Auth.FindMembers(ctx, p.ID)
		for _, m := range ms {
			if m.AccountID == acct.ID {
				return m
			}
		}
		t.Fatalf("%s is not a member", acct.Email)
		return auth.Membership{}
	}

	res := b.post(projectPath(p, "/members"), url.Values{"email": {" ENG@example.com"}, "role": {"engineer"}})
	page := wantRedirect(t, b, res, projectPath(p, "/members"))
	if flashText(t, page) != "Eve Engineer is now Engineer of this project." {
		t.Fatalf("flash %q", flashText(t, page))
	}
	m := membership(eng)
	if v, _ := page.doc(t).Find(fmt.Sprintf("#role-%d option[selected]", m.ID)).Attr("value"); v != "engineer" {
		t.Fatalf("members page shows role %q", v)
	}

	res = b.post(projectPath(p, fmt.Sprintf("/members/%d", m.ID)), url.Values{"role": {"viewer"}, "version": {fmt.Sprint(m.Version)}})
	page = wantRedirect(t, b, res, projectPath(p, "/members"))
	if flashText(t, page) != "Eve Engineer is now Viewer." {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if role, _ := app.Auth.RoleIn(ctx, eng.ID, p.ID); role != auth.RoleViewer {
		t.Fatalf("role %q", role)
	}

	leadM := membership(lead)
	t.Run("the last lead cannot step down", func(t *testing.T) {
		res := b.post(projectPath(p, fmt.Sprintf("/members/%d", leadM.ID)), url.Values{"role": {"viewer"}, "version": {fmt.Sprint(leadM.Version)}})
		page := wantRedirect(t, b, res, projectPath(p, "/members"))
		if !strings.Contains(flashText(t, page), "A project needs at least one project lead") {
			t.Fatalf("flash %q", flashText(t, page))
		}
		if role, _ := app.Auth.RoleIn(ctx, lead.ID, p.ID); role != auth.RoleProjectLead {
			t.Fatalf("lead's role %q", role)
		}
	})
	t.Run("the last lead cannot be removed", func(t *testing.T) {
		res := b.post(projectPath(p, fmt.Sprintf("/members/%d/remove", leadM.ID)), url.Values{})
		page := wantRedirect(t, b, res, projectPath(p, "/members"))
		if !strings.Contains(flashText(t, page), "A project needs at least one project lead") {
			t.Fatalf("flash %q", flashText(t, page))
		}
		if role, _ := app.Auth.RoleIn(ctx, lead.ID, p.ID); role != auth.RoleProjectLead {
			t.Fatalf("lead's role %q", role)
		}
	})
	t.Run("an unknown email is refused next to the field", func(t *testing.T) {
		res := b.post(projectPath(p, "/members"), url.Values{"email": {"ghost@example.com"}, "role": {"viewer"}})
		if msg := fieldError(t, res, "email"); msg != "No account has this email. Ask an admin to create it first." {
			t.Fatalf("message %q", msg)
		}
	})

	m = membership(eng)
	confirm := b.get(projectPath(p, fmt.Sprintf("/members/%d/remove", m.ID)))
	if h := strings.TrimSpace(confirm.doc(t).Find("h1").Text()); h != `Remove Eve Engineer from "Acme"?` {
		t.Fatalf("confirmation %q", h)
	}
	res = b.post(projectPath(p, fmt.Sprintf("/members/%d/remove", m.ID)), url.Values{})
	page = wantRedirect(t, b, res, projectPath(p, "/members"))
	if flashText(t, page) != "Eve Engineer removed from the project." {
		t.Fatalf("flash %q", flashText(t, page))
	}
	if role, _ := app.Auth.RoleIn(ctx, eng.ID, p.ID); role != "" {
		t.Fatalf("still %q", role)
	}
	if res := app.signedIn(eng).get(projectPath(p, "")); res.StatusCode != http.StatusNotFound {
		t.Fatalf("a removed member still sees the project: %d", res.StatusCode)
	}
}

// ---- audit ----

func auditRows(t testing.TB, res response) *goquery.Selection {
	t.Helper()
	return res.doc(t).Find("#audit tbody tr")
}

func TestAuditLogShowsChangesFiltersAndPages(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	eng := app.mustAccount("eng@example.com", "Eve Engineer", false)
	p := app.mustProject(lead, "Acme")
	app.mustMember(p, eng, auth.RoleEngineer)
	asLead, asEng := app.signedIn(lead), app.signedIn(eng)

	// The lead changes a count through the form; the engineer adds a source.
	wantRedirect(t, asLead, asLead.post(projectPath(p, "/people"), url.Values{"kind": {"customer"}, "name": {"Shoppers"}, "user_count": {"10"}}), "")
	uts, _ := app.Plan.FindUserTypes(context.Background(), p.ID)
	ut := uts[0]
	edit := asLead.get(projectPath(p, fmt.Sprintf("/people/%d/edit", ut.ID)))
	wantRedirect(t, asLead, asLead.post(projectPath(p, fmt.Sprintf("/people/%d", ut.ID)), url.Values{"kind": {"customer"}, "name": {"Shoppers"},
		"user_count": {"20"}, "version": {hiddenVersion(t, edit, "")}}), "")
	wantRedirect(t, asEng, asEng.post(projectPath(p, "/sources"), url.Values{"name": {"Shop DB"}, "kind": {"database"}, "access_status": {"requested"},
		"migrate_credentials": {"undecided"}, "migrate_groups": {"undecided"}, "migrate_memberships": {"undecided"}}), "")

	t.Run("entries show who changed what, before and after", func(t *testing.T) {
		rows := auditRows(t, asLead.get(projectPath(p, "/audit")))
		if rows.Length() < 4 {
			t.Fatalf("%d entries", rows.Length())
		}
		newest := rows.Eq(0)
		if !strings.Contains(newest.Text(), "Eve Engineer") || !strings.Contains(newest.Text(), "create") || !strings.Contains(newest.Text(), "Shop DB") {
			t.Errorf("newest entry %q", strings.Join(strings.Fields(newest.Text()), " "))
		}
		update := rows.Eq(1)
		var diff string
		update.Find("td").Eq(4).Find("div").Each(func(_ int, s *goquery.Selection) {
			if strings.HasPrefix(strings.TrimSpace(s.Text()), "userCount") {
				diff = s.Find("del").Text() + "→" + s.Find("ins").Text()
			}
		})
		if diff != "10→20" || !strings.Contains(update.Text(), "Lea Lead") || !strings.Contains(update.Text(), "update") {
			t.Errorf("update entry %q (userCount diff %q)", strings.Join(strings.Fields(update.Text()), " "), diff)
		}
	})
	t.Run("filter by person", func(t *testing.T) {
		page := asLead.get(projectPath(p, fmt.Sprintf("/audit?actor=%d", eng.ID)))
		rows := auditRows(t, page)
		if rows.Length() != 1 || !strings.Contains(rows.Text(), "Shop DB") {
			t.Fatalf("engineer's entries: %d %q", rows.Length(), rows.Text())
		}
		if v, _ := page.doc(t).Find("#actor option[selected]").Attr("value"); v != fmt.Sprint(eng.ID) {
			t.Errorf("the person filter shows %q", v)
		}
		if n := page.doc(t).Find("#actor option").Length(); n != 3 {
			t.Errorf("%d options in the person filter, want everyone + 2 people", n)
		}
	})
	t.Run("a record's history is one click away", func(t *testing.T) {
		people := asLead.get(projectPath(p, "/people"))
		href, ok := people.doc(t).Find("#user-types a").FilterFunction(func(_ int, s *goquery.Selection) bool {
			return s.Text() == "History"
		}).Attr("href")
		if !ok {
			t.Fatal("no History link on the people page")
		}
		rows := auditRows(t, asLead.get(href))
		if rows.Length() != 2 {
			t.Fatalf("history has %d entries, want create and update", rows.Length())
		}
		rows.Each(func(_ int, s *goquery.Selection) {
			if !strings.Contains(s.Text(), "User type: Shoppers") {
				t.Errorf("history shows another record: %q", strings.Join(strings.Fields(s.Text()), " "))
			}
		})
		// Each entry links to the history of its record.
		link, _ := auditRows(t, asLead.get(projectPath(p, "/audit"))).Eq(0).Find("td").Eq(3).Find("a").Attr("href")
		if link != projectPath(p, "/audit?entity=source&id=1") {
			t.Errorf("entry links to %q", link)
		}
	})
	t.Run("filter by record type", func(t *testing.T) {
		rows := auditRows(t, asLead.get(projectPath(p, "/audit?entity=source")))
		if rows.Length() != 1 {
			t.Fatalf("%d source entries", rows.Length())
		}
	})
}

func TestAuditLogPagesWithOlderEntries(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	p := app.mustProject(lead, "Acme")
	for i := 1; i <= 60; i++ {
		seedUserType(t, app, lead, p, fmt.Sprintf("Type %02d", i), int64(i))
	}
	var total int64
	if err := app.DB.Read.Model(&audit.Entry{}).Where("project_id = ?", p.ID).Count(&total).Error; err != nil {
		t.Fatal(err)
	}
	b := app.signedIn(lead)

	labels := func(res response) []string {
		var out []string
		auditRows(t, res).Each(func(_ int, s *goquery.Selection) {
			out = append(out, strings.TrimSpace(s.Find("td").Eq(3).Text()))
		})
		return out
	}
	first := b.get(projectPath(p, "/audit"))
	page1 := labels(first)
	if len(page1) != 50 || page1[0] != "User type: Type 60" || page1[49] != "User type: Type 11" {
		t.Fatalf("first page: %d entries from %q to %q", len(page1), page1[0], page1[len(page1)-1])
	}
	older, ok := first.doc(t).Find("a.btn").FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "Older entries" }).Attr("href")
	if !ok {
		t.Fatal("no Older entries link")
	}
	second := b.get(older)
	page2 := labels(second)
	if int64(len(page1)+len(page2)) != total {
		t.Fatalf("pages hold %d + %d entries, the log %d", len(page1), len(page2), total)
	}
	if page2[0] != "User type: Type 10" {
		t.Fatalf("second page starts at %q", page2[0])
	}
	seen := map[string]bool{}
	for _, l := range page1 {
		seen[l] = true
	}
	for _, l := range page2 {
		if seen[l] && strings.HasPrefix(l, "User type") {
			t.Errorf("%q is on both pages", l)
		}
	}
	if second.doc(t).Find("a.btn").FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "Older entries" }).Length() != 0 {
		t.Error("the last page offers older entries")
	}

	t.Run("paging keeps the filter", func(t *testing.T) {
		res := b.get(projectPath(p, fmt.Sprintf("/audit?entity=user_type&actor=%d", lead.ID)))
		href, _ := res.doc(t).Find("a.btn").FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "Older entries" }).Attr("href")
		u, err := url.Parse(href)
		if err != nil || u.Query().Get("entity") != "user_type" || u.Query().Get("actor") != fmt.Sprint(lead.ID) || u.Query().Get("before") == "" {
			t.Fatalf("older link %q", href)
		}
		rows := labels(b.get(href))
		if len(rows) != 10 {
			t.Fatalf("second filtered page has %d entries, want 10", len(rows))
		}
	})
}

// The console's own log shows account changes to admins, never their secrets.
func TestConsoleAuditLogShowsAccountChanges(t *testing.T) {
	app := newTestApp(t)
	admin := app.mustAccount("admin@example.com", "Ada Admin", true)
	b := app.signedIn(admin)
	res := b.post("/accounts", url.Values{"name": {"Nina New"}, "email": {"nina@example.com"}, "password": {"temporary password 1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create account: %d", res.StatusCode)
	}
	res = b.get("/audit")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("console audit: %d", res.StatusCode)
	}
	rows := res.doc(t).Find("#audit tbody tr")
	if rows.Length() == 0 || !strings.Contains(rows.First().Text(), "nina@example.com") || !strings.Contains(rows.First().Text(), "Ada Admin") {
		t.Fatalf("newest entry should be Ada creating nina's account, got %q", rows.First().Text())
	}
	if strings.Contains(res.Body, "temporary password 1") || strings.Contains(res.Body, "argon2id") {
		t.Fatal("the console audit log shows a password or its hash")
	}
	// Project entries stay in their project's log.
	p := app.mustProject(admin, "Acme")
	res = b.get("/audit?entity=project")
	if strings.Contains(res.Body, p.Name) {
		t.Fatal("a project's entries leaked into the console log")
	}
}
