package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/web"
)

// Browser tests drive Debian's headless Chromium through chromedp. They skip
// when no browser is installed, except on CI (CI=true), where a missing
// browser is a failure: the workflows they cover must never go untested
// there by accident.

// chromeStepTimeout bounds one step (a page load, a click and the page it
// leads to). It is a guard against a hung browser, not an expectation: a
// step takes about a second and a half.
const chromeStepTimeout = 45 * time.Second

// findChromium returns the browser to drive, or skips (fails on CI) the test.
func findChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	var msg string
	if p := os.Getenv("FERRY_CHROMIUM"); p != "" {
		path, err := exec.LookPath(p)
		if err == nil {
			return path
		}
		msg = fmt.Sprintf("FERRY_CHROMIUM=%q is not an executable browser: %v", p, err)
	} else {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if path, err := exec.LookPath(name); err == nil {
				return path
			}
		}
		msg = "no Chromium found on PATH (looked for chromium, chromium-browser, google-chrome; FERRY_CHROMIUM is not set)"
	}
	msg += ". Install Debian's browser with `apt-get install -y chromium`, or set FERRY_CHROMIUM to its path."
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and the browser tests cannot run: %s", msg)
	}
	t.Skip("browser test skipped: " + msg)
	return ""
}

// chromeTab is one headless Chromium tab pointed at a test console. It
// records every JavaScript error, uncaught exception and browser log error
// (CSP violations, failed requests) the pages produce.
type chromeTab struct {
	t    *testing.T
	ctx  context.Context // has run once: the browser and the tab are up
	base string

	mu       sync.Mutex
	problems []string
}

func newChromeTab(t *testing.T, app *testApp) *chromeTab {
	t.Helper()
	exe := findChromium(t)
	dataDir, err := os.MkdirTemp("", "ferry-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(dataDir),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser to exit
		// Chromium's helper processes can write into the profile a moment
		// after the browser exits; retry briefly.
		for i := 0; ; i++ {
			if err := os.RemoveAll(dataDir); err == nil || i == 50 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	tab := &chromeTab{t: t, ctx: ctx, base: app.HTTP.URL}
	// The first action starts the browser, whose life is bound to the context
	// of that call: it must carry no timeout. A watchdog stops a browser that
	// never comes up instead.
	watchdog := time.AfterFunc(2*time.Minute, cancelTab)
	err = chromedp.Do(ctx)
	watchdog.Stop()
	if err != nil {
		t.Fatalf("start Chromium (%s): %v", exe, err)
	}
	if err := chromedp.Listen(ctx, tab.record); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	return tab
}

// record runs in the tab's event loop: it must be quick and run no command.
func (b *chromeTab) record(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		problem = "uncaught exception: " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			problem += " " + d.Exception.Description
		}
		problem += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				if a.Description != "" {
					args = append(args, a.Description)
				} else {
					args = append(args, string(a.Value))
				}
			}
			problem = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
		}
	case *log.EventEntryAdded:
		// CSP violations ("Refused to apply inline style …") and failed
		// requests arrive as browser log entries.
		if e := ev.Entry; e.Level == log.EntryLevelError || e.Level == log.EntryLevelWarning {
			problem = fmt.Sprintf("browser log %s (%s): %s %s", e.Level, e.Source, e.Text, e.URL)
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

// takeProblems returns and forgets what the pages reported so far.
func (b *chromeTab) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// assertClean fails the test when a page reported an error since the last check.
func (b *chromeTab) assertClean(during string) {
	b.t.Helper()
	if p := b.takeProblems(); len(p) > 0 {
		b.t.Fatalf("%s: the page reported %d problem(s) (JavaScript errors, CSP violations, failed requests):\n  %s",
			during, len(p), strings.Join(p, "\n  "))
	}
}

// run runs one action with its own timeout, derived from the started tab.
func run[T any](b *chromeTab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s (page %s): %v", what, loc, err)
	}
	return v
}

func (b *chromeTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	run(b, what, chromedp.Steps(steps...))
}

// open loads a path of the console and expects it to answer 200.
func (b *chromeTab) open(path string) {
	b.t.Helper()
	res := run(b, "open "+path, chromedp.NavigateResponse(b.base+path))
	if res.Status != 200 {
		b.t.Fatalf("open %s: status %d", path, res.Status)
	}
}

// follow clicks what sel names and waits for the page it leads to, which must
// answer 200 (a form that fails validation answers 422: its messages are shown).
func (b *chromeTab) follow(sel chromedp.CSS) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, chromedp.Click(sel))
	if err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
	if res.Status != 200 {
		errs, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](
			`Array.from(document.querySelectorAll(".error, .flash")).map(e => e.innerText.trim()).join(" | ")`))
		b.t.Fatalf("click %s: %s answered %d; messages on the page: %s", sel, res.URL, res.Status, errs)
	}
}

func (b *chromeTab) text(sel chromedp.CSS) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "read "+string(sel), chromedp.Text(sel)))
}

func (b *chromeTab) typeInto(id, text string) {
	b.t.Helper()
	b.do("type into #"+id, chromedp.SendKeys(chromedp.ID(id), text))
}

// choose sets a select's (or a date input's) value.
func (b *chromeTab) choose(id, value string) {
	b.t.Helper()
	b.do("choose #"+id, chromedp.SetValue(chromedp.ID(id), value))
	if got := run(b, "read #"+id, chromedp.Value(chromedp.ID(id))); got != value {
		b.t.Fatalf("#%s: value %q after choosing %q (no such option?)", id, got, value)
	}
}

// tick clicks the label of a checkbox, as a person would.
func (b *chromeTab) tick(label string) {
	b.t.Helper()
	b.do("tick "+label, chromedp.Click(fmt.Sprintf(`//label[normalize-space(.)=%q]`, label)))
}

// flash is the confirmation shown after a change.
func (b *chromeTab) flash() string {
	b.t.Helper()
	return b.text(`.flash[role="status"]`)
}

func (b *chromeTab) location() string {
	b.t.Helper()
	return run(b, "read the location", chromedp.Location())
}

// overview opens the project's overview and reads its readiness percentage.
func (b *chromeTab) overview(projectPath string) int {
	b.t.Helper()
	b.open(projectPath)
	s := b.text("#readiness-percent")
	n, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
	if err != nil {
		b.t.Fatalf("#readiness-percent is %q, not a percentage", s)
	}
	return n
}

func (b *chromeTab) estimateText() string {
	b.t.Helper()
	return b.text(`section[aria-labelledby="estimate-h"]`)
}

func (b *chromeTab) signIn(email string) {
	b.t.Helper()
	b.open("/")
	if got := b.location(); !strings.HasSuffix(got, "/signin") {
		b.t.Fatalf("an anonymous visitor landed on %s, want the sign-in page", got)
	}
	b.typeInto("f-email", email)
	b.typeInto("f-password", testPassword)
	b.follow(`main form button[type="submit"]`)
}

// screenshot saves a full-page PNG into dir and returns its path.
func (b *chromeTab) screenshot(dir, name string) string {
	b.t.Helper()
	png := run(b, "screenshot", chromedp.FullScreenshot(100))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	return path
}

// screenshotDir is the test's temp dir, or FERRY_SCREENSHOT_DIR to keep the
// pictures for a look.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("FERRY_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestBrowserLeadPlansAMigration walks a project lead through the whole
// inventory in a real browser, and watches the overview's readiness grow
// after every step.
func TestBrowserLeadPlansAMigration(t *testing.T) {
	findChromium(t)
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lena Lead", false)
	b := newChromeTab(t, app)
	shots := screenshotDir(t)

	// Sign in through the real form.
	b.signIn(lead.Email)
	if got := b.location(); !strings.HasSuffix(got, "/projects") {
		t.Fatalf("after sign-in the lead is on %s, want /projects", got)
	}
	if got := b.text(`header.top nav`); !strings.Contains(got, "Lena Lead") {
		t.Errorf("header after sign-in = %q, want the lead's name", got)
	}
	b.assertClean("sign in")

	// Create a project through the "New project" form.
	b.follow(`.page-head a.btn.primary[href="/projects/new"]`)
	b.typeInto("f-name", "Acme workforce to Okta")
	b.typeInto("f-description", "Move head office and retail customers off the legacy directory.")
	if v := run(b, "read the rate limit", chromedp.Value(chromedp.ID("f-user_creation_rate_limit"))); v != "600" {
		t.Errorf("default user-creation rate limit = %q, want 600", v)
	}
	b.follow(`main form button.primary[type="submit"]`)
	projectPath := strings.TrimPrefix(b.location(), b.base)
	if !strings.HasPrefix(projectPath, "/projects/") || strings.Count(projectPath, "/") != 2 {
		t.Fatalf("after creating the project the lead is on %s, want its overview", projectPath)
	}
	if got := b.flash(); !strings.Contains(got, "Acme workforce to Okta") {
		t.Errorf("flash after creating the project = %q", got)
	}
	b.assertClean("create the project")

	readiness := b.overview(projectPath)
	if readiness != 0 {
		t.Errorf("a new project is %d%% ready, want 0%%", readiness)
	}
	if got := b.estimateText(); !strings.Contains(got, "Add user types") {
		t.Errorf("estimate of an empty project = %q, want the hint to add user types", got)
	}
	// progressed reads the overview again and insists readiness went up.
	progressed := func(step string) {
		t.Helper()
		now := b.overview(projectPath)
		t.Logf("after %s: %d%% ready", step, now)
		if now <= readiness {
			t.Fatalf("after %s readiness is %d%%, want more than %d%%", step, now, readiness)
		}
		readiness = now
		b.assertClean(step)
	}

	// People: two user types with subgroups.
	b.follow(`nav.side a[href$="/people"]`)
	b.follow(`.page-head a.btn.primary[href$="/people/new"]`)
	b.choose("f-kind", "full_time_employee")
	b.typeInto("f-name", "Head-office staff")
	b.typeInto("f-user_count", "100000")
	for i, sg := range []struct{ name, count string }{{"Sales", "40000"}, {"Marketing", "25000"}, {"Support", "15000"}} {
		b.typeInto(fmt.Sprintf("sg-name-%d", i+1), sg.name)
		b.typeInto(fmt.Sprintf("sg-count-%d", i+1), sg.count)
	}
	// The three blank rows are full: "Add a subgroup" (JavaScript) adds a
	// fourth and moves the focus into it.
	b.do("add a subgroup row", chromedp.Click(chromedp.CSS(`button[data-add-row="subgroup-rows"]`)))
	if got := run(b, "read the focus", chromedp.Evaluate[string](`document.activeElement.id`)); got != "sg-name-4" {
		t.Errorf("after \"Add a subgroup\" the focus is on %q, want the new row's name (sg-name-4)", got)
	}
	if got := b.text(`label[for="sg-name-4"]`); got != "Subgroup 4 name" {
		t.Errorf("label of the added row = %q, want \"Subgroup 4 name\"", got)
	}
	if got := run(b, "read the added row", chromedp.Value(chromedp.ID("sg-count-4"))); got != "" {
		t.Errorf("the added row's count starts as %q, want empty", got)
	}
	b.typeInto("sg-name-4", "Accounting")
	b.typeInto("sg-count-4", "10000")
	b.screenshot(shots, "user-type-form.png")
	b.follow(`main form button.primary[type="submit"]`)
	if got := b.flash(); !strings.Contains(got, "Head-office staff") {
		t.Errorf("flash after adding a user type = %q", got)
	}
	row := b.text(`#user-types tbody tr`)
	for _, want := range []string{"Head-office staff", "Full-time employee", "100,000", "Sales (40,000), Marketing (25,000), Support (15,000), Accounting (10,000)"} {
		if !strings.Contains(row, want) {
			t.Errorf("people table row %q lacks %q", row, want)
		}
	}
	b.assertClean("add the first user type")

	progressed("the first user type")
	est := b.estimateText()
	if got := b.text("#estimate"); got != "3 h 29 min" {
		t.Errorf("#estimate = %q, want 3 h 29 min for 100,000 users at 480/min", got)
	}
	if !strings.Contains(est, "100,000 users ≈ 3 h 29 min at 480 of 600/min") {
		t.Errorf("estimate = %q, want it to reflect 100,000 users", est)
	}

	b.follow(`nav.side a[href$="/people"]`)
	b.follow(`.page-head a.btn.primary[href$="/people/new"]`)
	b.choose("f-kind", "customer")
	b.typeInto("f-name", "Retail customers")
	b.typeInto("f-user_count", "20000")
	b.typeInto("sg-name-1", "Loyalty members")
	b.typeInto("sg-count-1", "15000")
	b.typeInto("sg-name-2", "Guest buyers")
	b.typeInto("sg-count-2", "5000")
	b.follow(`main form button.primary[type="submit"]`)
	if got := b.text("#people-total"); got != "120,000" {
		t.Errorf("people total = %q, want 120,000", got)
	}
	if got := b.text(`#user-types`); !strings.Contains(got, "Loyalty members (15,000)") || !strings.Contains(got, "Guest buyers (5,000)") {
		t.Errorf("people table lacks the second user type's subgroups: %q", got)
	}
	b.screenshot(shots, "people.png")
	b.assertClean("add the second user type")
	// A second counted user type completes no checklist item, but the
	// estimate follows the new total.
	if now := b.overview(projectPath); now < readiness {
		t.Errorf("readiness fell from %d%% to %d%% after a second user type", readiness, now)
	}
	if got := b.text("#estimate"); got != "4 h 10 min" {
		t.Errorf("#estimate = %q, want 4 h 10 min for 120,000 users at 480/min", got)
	}
	if est := b.estimateText(); !strings.Contains(est, "120,000 users ≈ 4 h 10 min at 480 of 600/min") {
		t.Errorf("estimate = %q, want it to reflect 120,000 users", est)
	}
	if got := b.text(`dl.facts`); !strings.Contains(got, "120,000 users") {
		t.Errorf("inventory = %q, want 120,000 users", got)
	}
	b.screenshot(shots, "overview-people-only.png")

	// A source system with an owner, access granted and every decision made.
	b.follow(`nav.side a[href$="/sources"]`)
	b.follow(`.page-head a.btn.primary[href$="/sources/new"]`)
	b.typeInto("f-name", "Corporate AD")
	b.choose("f-kind", "active_directory")
	b.tick("Head-office staff")
	b.tick("Retail customers")
	b.typeInto("f-access_owner", "Jane Roe, IAM team")
	b.choose("f-access_status", "granted")
	b.choose("f-access_status_date", "2026-01-15")
	b.typeInto("f-access_reference", "CHG-1042")
	b.choose("f-migrate_credentials", "yes")
	b.choose("f-password_hash_format", "bcrypt")
	b.choose("f-migrate_groups", "yes")
	b.choose("f-migrate_memberships", "yes")
	b.follow(`main form button.primary[type="submit"]`)
	row = b.text(`#sources tbody tr`)
	for _, want := range []string{"Corporate AD", "Head-office staff, Retail customers", "Jane Roe, IAM team", "Granted", "CHG-1042"} {
		if !strings.Contains(row, want) {
			t.Errorf("sources table row %q lacks %q", row, want)
		}
	}
	b.screenshot(shots, "sources.png")
	progressed("the source system")

	// An application used by both user types, with an OIN integration.
	b.follow(`nav.side a[href$="/applications"]`)
	b.follow(`.page-head a.btn.primary[href$="/applications/new"]`)
	b.typeInto("f-name", "Salesforce")
	b.choose("f-access_method", "saml")
	b.tick("Head-office staff")
	b.tick("Retail customers")
	b.choose("f-assignment_basis", "group")
	b.choose("f-oin_status", "yes")
	b.typeInto("f-oin_link", "https://www.okta.com/integrations/salesforce-com/")
	b.follow(`main form button.primary[type="submit"]`)
	if row := b.text(`#applications tbody tr`); !strings.Contains(row, "Salesforce") || !strings.Contains(row, "SAML") {
		t.Errorf("applications table row = %q", row)
	}
	progressed("the application")

	// The goals questions, then the approach with its rationale.
	b.follow(`nav.side a[href$="/goals"]`)
	for id, answer := range map[string]string{
		"f-user_experience":        "Nobody notices: one email the week before, same password afterwards.",
		"f-acceptable_impact":      "At most one hour without sign-in, out of office hours.",
		"f-archive_legacy_data":    "The directory export is kept read-only for a year.",
		"f-policies_and_standards": "GDPR; change management through the CAB.",
		"f-one_shot_acceptable":    "Yes for head-office staff.",
		"f-stages_preferred":       "Customers move in stages by region.",
	} {
		b.typeInto(id, answer)
	}
	b.follow(`main form button.primary[type="submit"]`)
	if got := b.flash(); !strings.Contains(got, "saved") {
		t.Errorf("flash after saving the goals = %q", got)
	}
	progressed("the goals answers")

	b.follow(`nav.side a[href$="/goals"]`)
	b.choose("f-approach", "staged")
	b.typeInto("f-rationale", "Fewer interruptions for customers outweigh a longer plan.")
	b.follow(`main form button.primary[type="submit"]`)
	progressed("the approach")

	// The attribute-mapping matrix. The source's fields are seeded (staged
	// extracts will list them later); the lead maps them with Ferry's
	// suggestions, then edits a transformation and watches its preview.
	pid, err := strconv.ParseInt(strings.TrimPrefix(projectPath, "/projects/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ctx := asActor(lead)
	sources, err := app.Plan.FindSources(ctx, pid)
	if err != nil || len(sources) != 1 {
		t.Fatalf("sources: %v %v", sources, err)
	}
	var mailID int64
	for _, f := range []struct{ name, pii, category, sample string }{
		{"userPrincipalName", "no", "", " Ada.Lovelace@Example.com"},
		{"mail", "yes", "contact", "ada@example.com"},
		{"givenName", "no", "", "Ada"},
		{"sn", "no", "", "Lovelace"},
	} {
		name, pii, category, samples := f.name, f.pii, f.category, []string{f.sample}
		sf, err := app.Map.CreateField(ctx, pid, sources[0].ID, mapping.FieldInput{Name: &name, PII: &pii, PIICategory: &category, Samples: &samples})
		if err != nil {
			t.Fatalf("seed field %s: %v", name, err)
		}
		if name == "mail" {
			mailID = sf.ID
		}
	}
	b.follow(`nav.side a[href$="/matrix"]`)
	if n := run(b, "count suggestions", chromedp.Evaluate[int](`document.querySelectorAll("#suggestions tbody tr").length`)); n != 4 {
		t.Errorf("%d suggestions, want 4 (one per usual field name)", n)
	}
	b.follow(`#suggestions .page-head button.primary`)
	if got := b.flash(); !strings.Contains(got, "4 suggested mapping(s) accepted") {
		t.Errorf("flash after accepting the suggestions = %q", got)
	}
	b.assertClean("accept the suggestions")
	b.screenshot(shots, "matrix.png")
	editLogin := run(b, "find the login row", chromedp.Evaluate[string](`Array.from(document.querySelectorAll("#matrix tbody tr"))
		.find(tr => tr.cells[1].innerText.trim() === "userPrincipalName").querySelector('a[href$="/edit"]').getAttribute("href")`))
	b.open(editLogin)
	run(b, "clear the transformation", chromedp.Evaluate[bool](`(document.getElementById("f-transform").value = "") === ""`))
	b.typeInto("f-transform", `[{"op":"trim"},{"op":"lower"},{"op":"email_domain","from":"example.com","to":"example.org"}]`)
	b.do("wait for the live preview", chromedp.WaitVisible(`//div[@id="transform-preview"]//td[contains(., "ada.lovelace@example.org")]`))
	b.screenshot(shots, "row-edit.png")
	b.assertClean("preview a transformation")
	b.follow(`#row-form button.primary[value="save"]`)
	progressed("the mapping")

	// The legal reviewer decides on the one personal-data field and signs off.
	legal := app.mustAccount("legal@example.com", "Liz Legal", false)
	proj, err := app.Plan.FindProjectByID(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	app.mustMember(proj, legal, auth.RoleLegalReviewer)
	b.follow(`header.top form button[type="submit"]`)
	b.signIn(legal.Email)
	b.open(projectPath + "/privacy")
	b.choose(fmt.Sprintf("f-%d-decision", mailID), "migrate")
	b.choose(fmt.Sprintf("f-%d-lawful_basis", mailID), "contract")
	b.typeInto(fmt.Sprintf("f-%d-comment", mailID), "Needed for sign-in notices.")
	b.follow(chromedp.CSS(fmt.Sprintf(`#pii-%d form button.primary`, mailID)))
	b.screenshot(shots, "privacy.png")
	b.follow(`#signoff form button.primary`)
	if got := b.flash(); !strings.Contains(got, "signed off") {
		t.Errorf("flash after the sign-off = %q", got)
	}
	b.assertClean("sign off the PII register")
	progressed("the PII sign-off")
	// The plan is complete; an engineer stages the source's extract and
	// validates it (through the services: the browser test of the data pages
	// does it through the forms), which completes the project.
	engineer := app.mustAccount("engineer@example.com", "Eve Engineer", false)
	app.mustMember(proj, engineer, auth.RoleEngineer)
	extract, format, err := staging.OpenReader(strings.NewReader("userPrincipalName,mail,givenName,sn\n Ada.Lovelace@Example.com,ada@example.com,Ada,Lovelace\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Staging.Stage(asActor(engineer), pid, sources[0].ID, extract, staging.Meta{FileName: "ad.csv", Format: format}, nil); err != nil {
		t.Fatal(err)
	}
	app.Clock.Advance(time.Minute)
	if run, err := app.Quality.Validate(asActor(engineer), pid, nil); err != nil || run.Invalid != 0 || run.Valid != 1 {
		t.Fatalf("validate the staged data: %+v, %v", run, err)
	}
	progressed("staging and validating the data")
	checklist := b.text(`ul.checklist`)
	for _, want := range []string{"Attribute mapping complete", "PII register signed off", "Data staged and validated"} {
		if !strings.Contains(checklist, want) {
			t.Errorf("the overview's checklist lacks %q", want)
		}
	}

	if readiness != 100 {
		t.Errorf("a complete plan is %d%% ready, want 100%%", readiness)
	}
	open := run(b, "count unfinished marks", chromedp.Evaluate[int](
		`document.querySelectorAll("nav.side .mark:not(.done), ul.checklist .mark:not(.done)").length`))
	if open != 0 {
		t.Errorf("%d navigation or checklist marks are not done on a complete plan", open)
	}

	path := b.screenshot(shots, "overview.png")
	t.Logf("overview screenshot: %s", path)
	b.assertClean("the finished overview")

	// The problem detector itself: an inline style set from script must be
	// refused by the CSP and reported, or the checks above prove nothing.
	run(b, "break the CSP on purpose", chromedp.Evaluate[chromedp.Void](`document.body.setAttribute("style", "color: red")`))
	deadline := time.Now().Add(chromeStepTimeout)
	for {
		p := b.takeProblems()
		if len(p) > 0 && strings.Contains(strings.Join(p, " "), "Content Security Policy") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an inline style did not show as a CSP violation; reported: %q", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBrowserKeyboardSignIn signs in with the keyboard alone and checks that
// focus is visible.
func TestBrowserKeyboardSignIn(t *testing.T) {
	findChromium(t)
	app := newTestApp(t)
	lead := app.mustAccount("keys@example.com", "Kim Keys", false)
	b := newChromeTab(t, app)
	shots := screenshotDir(t)
	b.open("/signin")
	b.screenshot(shots, "signin.png")

	focused := func() string {
		t.Helper()
		return run(b, "read the focus", chromedp.Evaluate[string](`document.activeElement.id || document.activeElement.tagName`))
	}
	press := func(keys string) {
		t.Helper()
		b.do("press keys", chromedp.KeyEvent(keys))
	}
	// Tab from the top of the page to the email field: past the skip link and
	// the brand, never more than a few stops.
	for i := 0; focused() != "f-email"; i++ {
		if i == 6 {
			t.Fatalf("six Tab presses did not reach the email field; the focus is on %s", focused())
		}
		press("\t")
	}
	press(lead.Email)
	press("\t")
	if got := focused(); got != "f-password" {
		t.Fatalf("Tab after the email field went to %s, want the password field", got)
	}
	press(testPassword)

	// Enter submits the form.
	ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
	res, err := chromedp.RunResponse(ctx, chromedp.KeyEvent("\r"))
	cancel()
	if err != nil {
		t.Fatalf("submit with Enter: %v", err)
	}
	if res.Status != 200 || !strings.HasSuffix(b.location(), "/projects") {
		t.Fatalf("Enter in the password field led to %s (status %d), want the projects page", b.location(), res.Status)
	}
	b.assertClean("sign in with the keyboard")

	type focusStyle struct {
		Tag, Text, OutlineStyle string
		OutlineWidth, Left      float64
	}
	focusedStyle := func() focusStyle {
		t.Helper()
		return run(b, "read the focus style", chromedp.Evaluate[focusStyle](`(() => {
			const el = document.activeElement, cs = getComputedStyle(el);
			return {Tag: el.tagName, Text: el.textContent.trim(), OutlineStyle: cs.outlineStyle,
				OutlineWidth: parseFloat(cs.outlineWidth) || 0, Left: el.getBoundingClientRect().left};
		})()`))
	}
	// The first Tab stop is the skip link: it comes on screen when focused,
	// with the focus outline.
	press("\t")
	st := focusedStyle()
	if st.Tag != "A" || st.Text != "Skip to content" {
		t.Fatalf("the first Tab stop is %s %q, want the \"Skip to content\" link", st.Tag, st.Text)
	}
	if st.OutlineStyle == "none" || st.OutlineWidth < 2 {
		t.Errorf("the focused skip link has no visible outline: style %q, width %.1fpx", st.OutlineStyle, st.OutlineWidth)
	}
	if st.Left < 0 {
		t.Errorf("the focused skip link is off screen (left %.0fpx)", st.Left)
	}
	b.screenshot(shots, "skip-link-focused.png")
	// The next stop, a link on the coloured header, shows the outline too.
	press("\t")
	st = focusedStyle()
	if st.Tag != "A" {
		t.Errorf("the second Tab stop is %s %q, want a link", st.Tag, st.Text)
	}
	if st.OutlineStyle == "none" || st.OutlineWidth < 2 {
		t.Errorf("the focused link %q has no visible outline: style %q, width %.1fpx", st.Text, st.OutlineStyle, st.OutlineWidth)
	}
	b.assertClean("keyboard navigation")
}

// TestBrowserEngineerStagesValidatesAndFixesData is the data workflow
// through the real pages: an engineer uploads an extract through the form
// (a broken one first), sees the issues after validating, assigns a
// remediation task, excludes a record and fixes another, re-validates, and
// sees the counts change.
func TestBrowserEngineerStagesValidatesAndFixesData(t *testing.T) {
	findChromium(t)
	w := newDataWorld(t, web.Options{})
	b := newChromeTab(t, w.app)
	shots := screenshotDir(t)
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	input := fmt.Sprintf("#upload-%d-file", w.src.ID)
	submit := chromedp.CSS(fmt.Sprintf("#upload-%d-submit", w.src.ID))

	b.signIn(w.engineer.Email)
	b.open(w.path("/data"))
	if got := b.text(".panel.empty h2"); got != "No extracts staged yet" {
		t.Fatalf("empty state %q", got)
	}
	if got := run(b, "read the Data mark", chromedp.Evaluate[string](`document.querySelector('nav.side a[aria-current="page"] .mark').className`)); got != "mark not_started" {
		t.Errorf("Data mark %q before anything is staged", got)
	}
	b.do("follow the first step", chromedp.Click(".panel.empty a.btn.primary"))
	b.assertClean("the empty data page")

	// A broken file: the page's script uploads it and shows the refusal next to the file.
	b.do("choose a broken extract", chromedp.SetUploadFiles(input, []string{file("broken.csv",
		"employeeID,mail\r\nE2,\"grace@example.com\r\n")}))
	b.do("upload the broken extract", chromedp.Click(submit), chromedp.WaitVisible(input+"-error"))
	if got := b.text(chromedp.CSS(input + "-error")); !strings.Contains(got, "line 2") || !strings.Contains(got, "never closed") {
		t.Errorf("message next to the file: %q", got)
	}
	if ex := w.current(t); ex != nil {
		t.Fatalf("a broken extract was staged: %+v", ex)
	}
	b.screenshot(shots, "data-refused.png")
	// The refusal is an answer of 422 to the script's request, which the
	// browser logs; anything else is a problem.
	for _, p := range b.takeProblems() {
		if !strings.Contains(p, "status of 422") {
			t.Errorf("the refused upload reported: %s", p)
		}
	}

	// A file broken further on: the upload is accepted, and its staging
	// job, whose progress the page follows, fails with the line.
	b.do("choose an extract broken on line 3", chromedp.SetUploadFiles(input, []string{file("broken-later.csv",
		"employeeID,mail\r\nE1,ada@example.com\r\nE2,\"grace@example.com\r\n")}))
	b.do("upload it", chromedp.Click(submit))
	failed := b.waitForJob(w.app, w.p.ID, stagingOf(w.src.ID), 0)
	if failed.Status != jobs.StatusFailed {
		t.Fatalf("the staging of a broken file %+v", failed)
	}
	if got := b.text(chromedp.CSS(fmt.Sprintf("#job-%d .job-message", failed.ID))); !strings.Contains(got, "line 3") || !strings.Contains(got, "never closed") {
		t.Errorf("the page says of the failed staging: %q", got)
	}
	if ex := w.current(t); ex != nil {
		t.Fatalf("a broken extract was staged: %+v", ex)
	}
	b.assertClean("a staging job that fails")

	// The real extract, through the same form: the page follows its job and shows the extract.
	b.do("choose the extract", chromedp.SetUploadFiles(input, []string{file("hr.csv", hrCSV)}))
	b.do("upload the extract", chromedp.Click(submit))
	staged := b.waitForJob(w.app, w.p.ID, stagingOf(w.src.ID), failed.ID)
	if staged.Status != jobs.StatusSucceeded {
		t.Fatalf("the staging %+v", staged)
	}
	if got := b.text(chromedp.CSS(fmt.Sprintf("#job-%d .job-message", staged.ID))); !strings.Contains(got, "Staged hr.csv: 4 record(s) from HR export.") {
		t.Errorf("the page says of the staging: %q", got)
	}
	if got := b.text(".extract-records"); got != "4" {
		t.Errorf("records in the summary %q", got)
	}
	if ex := w.current(t); ex == nil || ex.SizeBytes != int64(len(hrCSV)) || ex.Checksum == "" {
		t.Fatalf("staged extract %+v", ex)
	}
	b.screenshot(shots, "data.png")
	b.assertClean("upload an extract")

	// Validate: the page follows the job, then shows the issues, counted and charted.
	b.follow("#validate")
	if got := b.flash(); !strings.HasPrefix(got, "Validating the staged data (job ") {
		t.Errorf("flash after validating %q", got)
	}
	checked := b.waitForJob(w.app, w.p.ID, jobs.Filter{Kinds: []string{jobs.KindValidate}}, 0)
	if got := b.text("#validation-job .job-message"); !strings.Contains(got, "Validated 4 record(s): 1 valid, 3 invalid") || checked.Status != jobs.StatusSucceeded {
		t.Errorf("the page says of the validation: %q (%+v)", got, checked)
	}
	totals := func() string {
		return run(b, "read the totals", chromedp.Evaluate[string](`["records","valid","invalid","excluded"].map(id =>
			document.querySelector("#total-" + id + " .total-value").textContent.trim()).join("/")`))
	}
	if got := totals(); got != "4/1/3/0" {
		t.Errorf("totals records/valid/invalid/excluded = %s, want 4/1/3/0", got)
	}
	if n := run(b, "count the bars", chromedp.Evaluate[int](`document.querySelectorAll("#chart-type g.bar").length`)); n != 4 {
		t.Errorf("%d bars by issue type, want 4", n)
	}
	if got := b.text("#issue-bad_country_code"); !strings.Contains(got, "country_alpha2") {
		t.Errorf("the catalog entry does not say how to fix it: %q", got)
	}
	b.screenshot(shots, "quality.png")
	b.assertClean("validate")

	// Assign a remediation task for the bad country codes, from the catalog.
	b.follow(`#issue-bad_country_code a[href*="#new-task"]`)
	b.choose("f-assignee_id", fmt.Sprint(w.engineer.ID))
	b.choose("f-due_date", "2026-04-15")
	b.do("name the filtered records", chromedp.Click("#f-records"))
	b.typeInto("f-notes", "Ask HR for ISO 3166 codes.")
	b.follow("#create-task")
	if got := b.flash(); got != `Task "Fix: Country code not ISO 3166" created for 1 record(s).` {
		t.Errorf("flash after creating the task %q", got)
	}
	if got := b.text("#task-table tbody tr"); !strings.Contains(got, "Eve Engineer") || !strings.Contains(got, "Ask HR") {
		t.Errorf("task row %q", got)
	}
	b.assertClean("assign a task")

	// Exclude the record with the malformed email, from its occurrence.
	b.open(w.path("/quality?code=bad_email"))
	b.follow(`#occurrence-table a[href$="/exclude"]`)
	b.typeInto("f-reason", "A test account.")
	b.screenshot(shots, "exclude.png")
	b.follow(`main form button.danger`)
	if got := b.flash(); !strings.Contains(got, "is excluded") {
		t.Errorf("flash after the exclusion %q", got)
	}
	if got := b.text(`#records tr:has(.badge.warn)`); !strings.Contains(got, "A test account.") {
		t.Errorf("excluded row %q", got)
	}
	b.screenshot(shots, "records.png")
	b.assertClean("exclude a record")

	// Fix the record without a last name, from its occurrence.
	b.open(w.path("/quality?code=required_missing"))
	b.follow(`#occurrence-table a[href$="/edit"]`)
	sn := run(b, "find the sn field", chromedp.Evaluate[string](`document.querySelector('#record-form input[name="attr.sn"]').id`))
	b.typeInto(sn, "Turing")
	b.screenshot(shots, "fix.png")
	b.follow(`#record-form button.primary`)
	if got := b.flash(); !strings.Contains(got, "is fixed: 1 attribute(s) changed") {
		t.Errorf("flash after the fix %q", got)
	}
	b.assertClean("fix a record")

	// Validate again: the counts change.
	b.open(w.path("/data"))
	b.follow("#validate")
	b.waitForJob(w.app, w.p.ID, jobs.Filter{Kinds: []string{jobs.KindValidate}}, checked.ID)
	if got := totals(); got != "4/2/1/1" {
		t.Errorf("after the exclusion and the fix, totals = %s, want 4/2/1/1", got)
	}
	if got := b.text("#total-invalid .trend"); got != "▼ 2 since the previous run" {
		t.Errorf("invalid trend %q", got)
	}
	if got := b.text("#issue-required_missing .issue-count"); got != "0" {
		t.Errorf("missing last names after the fix: %q", got)
	}
	if got := b.text("#issue-bad_email .issue-count"); got != "0" {
		t.Errorf("malformed emails after the exclusion: %q", got)
	}

	// The task is done.
	task := run(b, "find the task", chromedp.Evaluate[string](`document.querySelector("#task-table select").id`))
	b.choose(task, "done")
	b.follow(chromedp.CSS("#task-table button[type=submit]"))
	if got := b.flash(); !strings.Contains(got, "done") {
		t.Errorf("flash after finishing the task %q", got)
	}
	b.screenshot(shots, "quality-after.png")
	b.assertClean("re-validate")
}

func stagingOf(sourceID int64) jobs.Filter {
	return jobs.Filter{SourceID: sourceID, Kinds: []string{jobs.KindStageFile, jobs.KindStageDirectory}}
}

// waitForJob waits for the job that the page just started (the newest one
// that f matches, newer than after) to end as a person sees it: its panel,
// which the page's script refreshes, stops polling and the page reloads to
// show what the job produced. It returns the job as it ended.
func (b *chromeTab) waitForJob(app *testApp, projectID int64, f jobs.Filter, after int64) jobs.Job {
	b.t.Helper()
	deadline := time.Now().Add(jobDeadline) // a guard against a hang, not an expectation
	var id int64
	for id == 0 {
		f.Limit = 1
		list, err := app.Jobs.FindJobs(context.Background(), projectID, f)
		if err != nil {
			b.t.Fatal(err)
		}
		if len(list) > 0 && list[0].ID > after {
			id = list[0].ID
		} else if time.Now().After(deadline) {
			b.t.Fatalf("the page started no job (after job %d)", after)
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Evaluated from here rather than in the page, which reloads meanwhile.
	ended := fmt.Sprintf(`(() => { const p = document.getElementById("job-%d");
		return document.readyState === "complete" && !document.documentElement.hasAttribute("data-job-reloading") &&
			p !== null && !p.hasAttribute("data-job-poll"); })()`, id)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, chromeStepTimeout)
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](ended))
		cancel()
		if err == nil && done {
			return app.waitJob(projectID, id)
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(b.ctx, chromedp.Location())
			b.t.Fatalf("the page (%s) never showed job %d ended: %v", loc, id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
