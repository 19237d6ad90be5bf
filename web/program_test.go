package web_test

import (
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// programWorld is a project with a lead (who views the program and may
// erase), an engineer (who sets the period and may erase) and a viewer.
type programWorld struct {
	app                          *testApp
	lead, engineer, viewer       *auth.Account
	p                            *plan.Project
	source                       *plan.Source
	asLead, asEngineer, asViewer *browser
	hookConfig                   *hook.Config
}

// programProjectName is hostile: the pages must escape it, and the erase
// must be confirmed with it typed exactly.
const programProjectName = `Acme <script>alert("p")</script>`

func newProgramWorld(t *testing.T) *programWorld {
	t.Helper()
	app := newTestApp(t)
	w := &programWorld{app: app}
	w.lead = app.mustAccount("lead@example.com", "Lea Lead", false)
	w.engineer = app.mustAccount("engineer@example.com", "Eve Engineer", false)
	w.viewer = app.mustAccount("viewer@example.com", "Vic Viewer", false)
	w.p = app.mustProject(w.lead, programProjectName)
	app.mustMember(w.p, w.engineer, auth.RoleEngineer)
	app.mustMember(w.p, w.viewer, auth.RoleViewer)
	w.asLead, w.asEngineer, w.asViewer = app.signedIn(w.lead), app.signedIn(w.engineer), app.signedIn(w.viewer)
	w.source = seedSource(t, app, w.lead, w.p, `Shop <b>DB</b>`)
	return w
}

func programHash(password, salt string) string {
	sum := sha512.Sum512([]byte(password + salt))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// withHook stages the source's users with their salted hashes, saves its
// password settings, connects the org and attaches the hook.
func (w *programWorld) withHook(t *testing.T, logins ...string) {
	t.Helper()
	app, ctx := w.app, asActor(w.engineer)
	var b strings.Builder
	b.WriteString("uid,email,pw,salt\n")
	for i, l := range logins {
		salt := fmt.Sprintf("salt%d", i)
		fmt.Fprintf(&b, "u%d,%s,%s,%s\n", i, l, programHash("s3cret-pass", salt), salt)
	}
	r, format, err := staging.OpenReader(strings.NewReader(b.String()), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Staging.Stage(ctx, w.p.ID, w.source.ID, r, staging.Meta{FileName: "shop.csv", Format: format, KeyAttribute: "uid"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Creds.Save(ctx, w.p.ID, w.source.ID, 0, credentials.Input{Attribute: "pw", SaltAttribute: "salt", Formats: []string{"sha512"},
		SaltEncoding: "text", SaltOrder: "POSTFIX"}); err != nil {
		t.Fatal(err)
	}
	token := "00abcdefghijklmnopqrstuvwxyz"
	if _, err := app.Orgs.Save(asActor(w.lead), w.p.ID, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: &token}); err != nil {
		t.Fatal(err)
	}
	svc := hook.NewService(app.DB, hook.Deps{Orgs: app.Orgs, Extracts: app.Staging, Passwords: app.Creds, Sealer: mustTestSealer(t)}, hook.Options{Now: app.Clock.Now})
	if w.hookConfig, _, err = svc.SaveConfig(ctx, w.p.ID, 0, hook.ConfigInput{}); err != nil {
		t.Fatal(err)
	}
}

// hookUser records a user created in Okta with the hook (as a load would).
func (w *programWorld) hookUser(t *testing.T, login string, created time.Time, imported *time.Time) int64 {
	t.Helper()
	if err := w.app.DB.Write.Exec(`INSERT INTO okta_users (project_id, org_url, okta_user_id, login, source_id, run_id, created_at, password, status, password_imported_at)
		VALUES (?, ?, ?, ?, ?, 1, ?, 'hook', 'ACTIVE', ?)`, w.p.ID, w.hookConfig.OrgURL, "00u"+login, login, w.source.ID, created.UTC(), imported).Error; err != nil {
		t.Fatal(err)
	}
	var id []int64
	w.app.DB.Read.Table("okta_users").Where("login = ?", login).Pluck("id", &id)
	return id[0]
}

func (w *programWorld) attempt(t *testing.T, at time.Time, outcome, cause string, ms int64, userRef int64) {
	t.Helper()
	var ref any
	if userRef != 0 {
		ref = userRef
	}
	if err := w.app.DB.Write.Exec(`INSERT INTO hook_attempts (hook_id, project_id, outcome, cause, duration_ms, at, okta_user_ref) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		w.hookConfig.ID, w.p.ID, outcome, cause, ms, at.UTC(), ref).Error; err != nil {
		t.Fatal(err)
	}
}

// programText is the text of a selection with its whitespace collapsed, a
// table row's cells separated by a space.
func programText(sel *goquery.Selection) string {
	if cells := sel.Find("th, td"); cells.Length() > 0 {
		return strings.Join(cells.Map(func(_ int, c *goquery.Selection) string { return strings.Join(strings.Fields(c.Text()), " ") }), " ")
	}
	return strings.Join(strings.Fields(sel.Text()), " ")
}

func TestProgramPageWithoutHookSaysWhatToDo(t *testing.T) {
	w := newProgramWorld(t)
	res := w.asViewer.get(projectPath(w.p, "/program"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %.300s", res.StatusCode, res.Body)
	}
	if strings.Contains(res.Body, `<script>alert("p")</script>`) {
		t.Fatal("the project's name is not escaped")
	}
	doc := res.doc(t)
	empty := programText(doc.Find("#program-no-hook"))
	if !strings.Contains(empty, "No password import hook") || doc.Find(`#program-no-hook a[href$="/settings/hook"]`).Length() != 1 {
		t.Errorf("empty state %q", empty)
	}
	if doc.Find(`nav.side a[href$="/program"][aria-current="page"]`).Length() != 1 {
		t.Error("the navigation has no current Migration program entry")
	}
	// The source has no password settings and no hook users: not listed.
	if doc.Find("#program-sources-none").Length() != 1 || doc.Find("#stragglers").Length() != 1 || doc.Find("#program-end-reasons li").Length() != 1 {
		t.Error("sources, stragglers or end sections missing")
	}
	// A viewer neither sets the period nor erases.
	if doc.Find("#program-period-form").Length() != 0 || doc.Find("#program-erase-link").Length() != 0 {
		t.Error("a viewer is offered to change the program")
	}
	// The engineer sets the period and may erase; the lead may erase only.
	edoc := w.asEngineer.get(projectPath(w.p, "/program")).doc(t)
	if edoc.Find("#program-period-form input[name=period_days]").Length() != 1 || edoc.Find("#program-erase-link").Length() != 1 {
		t.Error("the engineer is not offered the period form and the erase")
	}
	ldoc := w.asLead.get(projectPath(w.p, "/program")).doc(t)
	if ldoc.Find("#program-period-form").Length() != 0 || ldoc.Find("#program-erase-link").Length() != 1 {
		t.Error("the lead: no period form, but the erase")
	}
}

func TestProgramPageWithoutHookUsersSaysHowToLoadThem(t *testing.T) {
	w := newProgramWorld(t)
	w.withHook(t, "ann@example.com")
	doc := w.asViewer.get(projectPath(w.p, "/program")).doc(t)
	if got := programText(doc.Find("#program-no-users")); !strings.Contains(got, "No hook users loaded yet") || !strings.Contains(got, "acme.okta.com") {
		t.Errorf("empty state %q", got)
	}
	if doc.Find("#program-counts").Length() != 0 || doc.Find("#program-latency").Length() != 1 {
		t.Error("counts without users, or no latency with a hook")
	}
	if row := programText(doc.Find(fmt.Sprintf("#source-%d", w.source.ID))); !strings.Contains(row, "Fresh") || !strings.Contains(row, "Re-stage") {
		t.Errorf("source row %q", row)
	}
}

func TestProgramPageShowsTheDashboard(t *testing.T) {
	w := newProgramWorld(t)
	w.withHook(t, "ann@example.com", "bob@example.com", "cat@example.com", "dan@example.com")
	now := w.app.Clock.Now()
	day := 24 * time.Hour
	imported := now.Add(-day)
	w.hookUser(t, "ann@example.com", now.Add(-3*day), &imported)
	bob := w.hookUser(t, "bob@example.com", now.Add(-3*day), nil)
	cat := w.hookUser(t, "cat@example.com", now.Add(-3*day), nil)
	w.hookUser(t, "dan@example.com", now.Add(-3*day), nil)
	w.attempt(t, now.Add(-2*day), hook.OutcomeVerified, "", 100, bob)
	w.attempt(t, now.Add(-time.Hour), hook.OutcomeUnverified, hook.CauseWrongPassword, 300, cat)
	w.attempt(t, now.Add(-time.Hour), hook.OutcomeError, hook.CauseTimeout, 3100, 0)
	w.attempt(t, now.Add(-time.Hour), hook.OutcomeVerified, "", 200, 0)
	doc := w.asViewer.get(projectPath(w.p, "/program")).doc(t)
	for id, want := range map[string]string{"#count-migrated": "1", "#count-unconfirmed": "1", "#count-failed": "1", "#count-waiting": "1"} {
		if got := strings.TrimSpace(doc.Find(id + " .total-value").Text()); got != want {
			t.Errorf("%s: %q, want %s", id, got, want)
		}
	}
	if got := programText(doc.Find("#failed-wrong_password")); got != "Wrong password 1" {
		t.Errorf("failed by cause %q", got)
	}
	// Latency: 300, 3100, 200 in the last 24 h (median 300, p99 3100); the
	// week adds 100.
	rows := doc.Find("#program-latency tbody tr")
	if rows.Length() != 2 {
		t.Fatalf("%d latency rows", rows.Length())
	}
	if got := programText(rows.Eq(0)); got != "Last 24 hours 3 300 ms 3,100 ms 3,100 ms 1 Over Okta's limit" {
		t.Errorf("24 h: %q", got)
	}
	if got := programText(rows.Eq(1)); got != "Last 7 days 4 200 ms 3,100 ms 3,100 ms 1 Over Okta's limit" {
		t.Errorf("7 days: %q", got)
	}
	if got := programText(doc.Find("#error-timeout")); got != "Timed out (could not check) 1 1" {
		t.Errorf("errors: %q", got)
	}
	// The chart, and the same figures in a table.
	svg := doc.Find("#program-chart svg")
	if svg.Length() != 1 || svg.AttrOr("role", "") != "img" || !strings.Contains(svg.AttrOr("aria-label", ""), "1 of 4") ||
		svg.Find("rect").Length() < 3 || svg.Find("polyline").Length() != 1 {
		t.Errorf("chart: %d rects, label %q", svg.Find("rect").Length(), svg.AttrOr("aria-label", ""))
	}
	series := doc.Find("#program-series tbody tr")
	if series.Length() != 4 {
		t.Fatalf("%d days in the table, want 4", series.Length())
	}
	if got := programText(series.Last()); got != now.Format(time.DateOnly)+" 1 1 1 1" {
		t.Errorf("today: %q", got)
	}
	// The source's hashes, escaped.
	if row := doc.Find(fmt.Sprintf("#source-%d", w.source.ID)); !strings.Contains(programText(row), "Shop <b>DB</b>") || row.Find("b").Length() != 0 {
		t.Errorf("source row %q", programText(row))
	}
	reasons := programText(doc.Find("#program-end-reasons"))
	for _, want := range []string{"3 users have not migrated yet", "1 user was answered VERIFIED", "answered 4 sign-ins"} {
		if !strings.Contains(reasons, want) {
			t.Errorf("reasons %q lack %q", reasons, want)
		}
	}
}

func TestProgramPeriodFormRefusesBadInput(t *testing.T) {
	w := newProgramWorld(t)
	path := projectPath(w.p, "/program/settings")
	for _, tc := range []struct {
		days, version string
		status        int
		message       string
	}{
		{"", "0", 422, "The period is required."},
		{"abc", "0", 422, "The period must be a whole number."},
		{`<script>alert(1)</script>`, "0", 422, "must be a whole number"},
		{"6", "0", 422, "between 7 and 365"},
		{"366", "0", 422, "between 7 and 365"},
		{"99999999999999999999", "0", 422, "whole number"},
		{"30", "4", 409, "Someone else saved"},
	} {
		res := w.asEngineer.post(path, url.Values{"period_days": {tc.days}, "version": {tc.version}})
		if res.StatusCode != tc.status || !strings.Contains(res.Body, tc.message) {
			t.Errorf("%q v%s: %d, want %d with %q", tc.days, tc.version, res.StatusCode, tc.status, tc.message)
			continue
		}
		if strings.Contains(res.Body, "<script>alert(1)</script>") {
			t.Errorf("%q is not escaped", tc.days)
		}
		doc := res.doc(t)
		if tc.status == 422 && doc.Find("#program-period-form .field.invalid #f-period_days").Length() != 1 {
			t.Errorf("%q: the error is not next to the field", tc.days)
		}
		if got := doc.Find("#f-period_days").AttrOr("value", ""); got != tc.days && tc.status == 422 {
			t.Errorf("%q: the form shows %q (input lost)", tc.days, got)
		}
	}
	res := w.asEngineer.post(path, url.Values{"period_days": {"90"}, "version": {"0"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != projectPath(w.p, "/program") {
		t.Fatalf("save: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	page := w.asEngineer.get(projectPath(w.p, "/program"))
	if !strings.Contains(page.Body, "The program&#39;s period is now 90 days.") && !strings.Contains(page.Body, "The program's period is now 90 days.") {
		t.Error("no flash after saving")
	}
	doc := page.doc(t)
	if doc.Find("#f-period_days").AttrOr("value", "") != "90" || doc.Find(`#program-period-form input[name=version]`).AttrOr("value", "") != "1" {
		t.Error("the saved period or its version is not shown")
	}
	// A viewer may not save.
	if res := w.asViewer.post(path, url.Values{"period_days": {"30"}, "version": {"1"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("viewer: %d", res.StatusCode)
	}
}

func TestProgramEraseNeedsTheProjectsNameAndTheEndCheck(t *testing.T) {
	w := newProgramWorld(t)
	w.withHook(t, "ann@example.com", "bob@example.com")
	now := w.app.Clock.Now()
	bob := w.hookUser(t, "bob@example.com", now.Add(-3*24*time.Hour), nil)
	w.attempt(t, now.Add(-time.Hour), hook.OutcomeVerified, "", 100, bob)
	path := projectPath(w.p, "/program/erase")
	res := w.asLead.get(path)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("confirm page: %d", res.StatusCode)
	}
	doc := res.doc(t)
	if got := programText(doc.Find("#erase-consequences")); !strings.Contains(got, "pw and salt") || !strings.Contains(got, "Shop <b>DB</b>") {
		t.Errorf("consequences %q", got)
	}
	if doc.Find("#erase-reasons li").Length() == 0 || doc.Find("#f-override").Length() != 1 || doc.Find("#f-confirm_name").Length() != 1 {
		t.Error("the reasons, the override or the name field are missing")
	}
	stored := func() int {
		var n int64
		w.app.DB.Read.Model(&staging.StagedRecord{}).Where("attributes_json LIKE ?", `%"pw"%`).Count(&n)
		return int(n)
	}
	// A wrong or hostile name: refused, next to the field, nothing erased.
	for _, typed := range []string{"", "Acme", `<script>alert("p")</script>`} {
		res := w.asLead.post(path, url.Values{"confirm_name": {typed}, "override": {"true"}})
		if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find(".field.invalid #f-confirm_name").Length() != 1 {
			t.Errorf("name %q: %d", typed, res.StatusCode)
		}
		if strings.Contains(res.Body, `<script>alert("p")</script>`) {
			t.Errorf("name %q is not escaped", typed)
		}
	}
	// Not ready, no override: refused with the reasons.
	res = w.asLead.post(path, url.Values{"confirm_name": {programProjectName}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.doc(t).Find(".flash.error").Text(), "cannot be erased yet") {
		t.Errorf("not ready: %d %.300s", res.StatusCode, res.Body)
	}
	if stored() != 2 {
		t.Fatalf("a refused erase erased (%d left)", stored())
	}
	// A viewer may not erase.
	if res := w.asViewer.post(path, url.Values{"confirm_name": {programProjectName}, "override": {"true"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("viewer: %d", res.StatusCode)
	}
	res = w.asLead.post(path, url.Values{"confirm_name": {programProjectName}, "override": {"true"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != projectPath(w.p, "/program") {
		t.Fatalf("erase: %d %.300s", res.StatusCode, res.Body)
	}
	if stored() != 0 {
		t.Fatalf("%d records keep their hash", stored())
	}
	page := w.asLead.get(projectPath(w.p, "/program"))
	if !strings.Contains(page.Body, "The staged password hashes are erased: 2 records changed.") {
		t.Error("no flash after the erase")
	}
	if got := programText(page.doc(t).Find("#program-erased")); !strings.Contains(got, "by Lea Lead") || !strings.Contains(got, "(2 records)") {
		t.Errorf("erased: %q", got)
	}
	var entries []audit.Entry
	w.app.DB.Read.Where("action = ?", hook.ActionEraseHashes).Find(&entries)
	if len(entries) != 1 || entries[0].ActorName != "Lea Lead" || !strings.Contains(entries[0].AfterJSON, `"override":true`) ||
		strings.Contains(entries[0].AfterJSON, "salt0") {
		t.Errorf("audit %+v", entries)
	}
	// Erasing again is harmless.
	res = w.asEngineer.post(path, url.Values{"confirm_name": {programProjectName}, "override": {"true"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second erase: %d", res.StatusCode)
	}
	if !strings.Contains(w.asEngineer.get(projectPath(w.p, "/program")).Body, "nothing to erase") {
		t.Error("the second erase does not say that nothing was left")
	}
}

func TestProgramPageListsTheStragglers(t *testing.T) {
	w := newProgramWorld(t)
	w.withHook(t, "ann@example.com", "bob@example.com", "cat@example.com")
	now := w.app.Clock.Now()
	day := 24 * time.Hour
	w.hookUser(t, "ann@example.com", now.Add(-70*day), nil)
	bob := w.hookUser(t, "bob@example.com", now.Add(-70*day), nil)
	w.hookUser(t, "cat@example.com", now.Add(-5*day), nil) // inside the period
	w.attempt(t, now.Add(-60*day), hook.OutcomeUnverified, hook.CauseWrongPassword, 100, bob)
	// The viewer sees the count and the list, logins masked, and no CSV.
	doc := w.asViewer.get(projectPath(w.p, "/program")).doc(t)
	if got := programText(doc.Find("#stragglers-count")); !strings.HasPrefix(got, "2 hook users in https://acme.okta.com") {
		t.Errorf("count %q", got)
	}
	rows := doc.Find("#stragglers-list tbody tr")
	if rows.Length() != 2 || strings.Contains(rows.Text(), "@example.com") || !strings.Contains(rows.Text(), "masked") {
		t.Errorf("viewer's list: %q", rows.Text())
	}
	if !strings.Contains(programText(rows.Eq(1)), "Wrong password on") || !strings.Contains(programText(rows.Eq(0)), "Never signed in") {
		t.Errorf("last attempts: %q / %q", programText(rows.Eq(0)), programText(rows.Eq(1)))
	}
	if doc.Find("#stragglers-csv").Length() != 0 || doc.Find("#stragglers-reset").Length() != 1 {
		t.Error("the viewer is offered the CSV, or the reset's place is missing")
	}
	if res := w.asViewer.get(projectPath(w.p, "/program/stragglers.csv")); res.StatusCode != http.StatusForbidden {
		t.Errorf("viewer's CSV: %d", res.StatusCode)
	}
	// The lead sees the logins (audited) and downloads them all.
	views := func() int64 {
		var n int64
		w.app.DB.Read.Model(&audit.Entry{}).Where("action = ? AND entity_type = ? AND entity_id = ?", audit.ActionView, "source", w.source.ID).Count(&n)
		return n
	}
	before := views()
	ldoc := w.asLead.get(projectPath(w.p, "/program")).doc(t)
	if got := ldoc.Find("#stragglers-list tbody").Text(); !strings.Contains(got, "ann@example.com") || !strings.Contains(got, "bob@example.com") || strings.Contains(got, "cat@") {
		t.Errorf("lead's list: %q", got)
	}
	if views() != before+1 {
		t.Errorf("showing the logins is not audited (%d → %d)", before, views())
	}
	res := w.asLead.get(projectPath(w.p, "/program/stragglers.csv"))
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(res.Body, "ann@example.com") || strings.Contains(res.Body, "cat@example.com") {
		t.Fatalf("CSV: %d %q", res.StatusCode, res.Body)
	}
	if views() != before+2 {
		t.Errorf("the CSV download is not audited")
	}
}

// A hash load that is paused may still send password hashes: the erase page
// says so and offers no form, and an override sent anyway is refused with
// nothing erased.
func TestProgramEraseWaitsForAPausedHashLoad(t *testing.T) {
	w := newProgramWorld(t)
	w.withHook(t, "ann@example.com", "bob@example.com")
	now := w.app.Clock.Now()
	var runID int64
	if err := w.app.DB.Write.Raw(`INSERT INTO load_runs (project_id, number, kind, org_url, mode, status, total, created_by_name, created_at, updated_at)
		VALUES (?, 4, ?, ?, ?, ?, 1, 'test', ?, ?) RETURNING id`, w.p.ID, load.KindLoad, "https://acme.okta.com", load.ModeHash, load.StatusPaused, now, now).
		Scan(&runID).Error; err != nil {
		t.Fatal(err)
	}
	if err := w.app.DB.Write.Exec(`INSERT INTO load_items (run_id, seq, login, state, credential_sealed) VALUES (?, 1, 'late@example.com', ?, 'sealed')`,
		runID, load.StatePending).Error; err != nil {
		t.Fatal(err)
	}
	path := projectPath(w.p, "/program/erase")
	doc := w.asLead.get(path).doc(t)
	if got := programText(doc.Find("#erase-reasons")); !strings.Contains(got, "Load (run 4), paused") {
		t.Errorf("reasons %q", got)
	}
	if doc.Find("#erase-blocked").Length() != 1 || doc.Find("#erase-form").Length() != 0 {
		t.Error("the page offers the erase beside a run that may still send hashes")
	}
	res := w.asLead.post(path, url.Values{"confirm_name": {programProjectName}, "override": {"true"}})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.doc(t).Find(".flash.error").Text(), "may still send password hashes") {
		t.Fatalf("override beside a paused hash load: %d %.300s", res.StatusCode, res.Body)
	}
	var sealed int64
	w.app.DB.Read.Table("load_items").Where("run_id = ? AND credential_sealed <> ''", runID).Count(&sealed)
	if sealed != 1 {
		t.Error("the refused erase removed the run's sealed hash")
	}
}

// The program through the JSON API: the dashboard's figures, the
// stragglers with their logins (the read audited), the period, the erase
// (refused before the end, then with an override).
func TestProgramThroughTheAPI(t *testing.T) {
	w := newProgramWorld(t)
	w.withHook(t, "ann@example.com", "bob@example.com", "cy@example.com", "dan@example.com")
	now := w.app.Clock.Now()
	w.hookUser(t, "ann@example.com", now.Add(-10*24*time.Hour), &now)
	bob := w.hookUser(t, "bob@example.com", now.Add(-3*24*time.Hour), nil)
	w.hookUser(t, "cy@example.com", now.Add(-90*24*time.Hour), nil)
	w.hookUser(t, "dan@example.com", now.Add(-80*24*time.Hour), nil)
	w.attempt(t, now.Add(-time.Hour), hook.OutcomeUnverified, hook.CauseWrongPassword, 120, bob)
	tok := w.app.mustToken(w.engineer)
	base := fmt.Sprintf("/api/v1/projects/%d/program", w.p.ID)

	d := apiDecode[hook.Dashboard](t, w.app.api(tok, "GET", base, nil), http.StatusOK)
	if p := d.Population; p.Total != 4 || p.Migrated != 1 || p.Failed != 1 || p.Waiting != 2 || p.Stragglers != 2 || p.InPeriod != 1 {
		t.Errorf("population %+v", p)
	}
	if len(d.Latency) != 2 || d.Latency[0].WindowSeconds != 86400 || d.Latency[0].MaxMS != 120 || len(d.Errors) != 1 || d.Errors[0].Cause != hook.CauseWrongPassword {
		t.Errorf("latency %+v, errors %+v", d.Latency, d.Errors)
	}
	if d.End == nil || d.End.Ready || len(d.End.Reasons) == 0 {
		t.Errorf("end check %+v", d.End)
	}

	type stragglerPage struct {
		OrgURL     string           `json:"orgUrl"`
		PeriodDays int              `json:"periodDays"`
		Cutoff     time.Time        `json:"cutoff"`
		Total      int64            `json:"total"`
		Items      []load.Straggler `json:"items"`
		Next       string           `json:"next"`
	}
	page := apiDecode[stragglerPage](t, w.app.api(tok, "GET", base+"/stragglers?limit=1", nil), http.StatusOK)
	if page.Total != 2 || len(page.Items) != 1 || page.Items[0].Login != "cy@example.com" || page.Items[0].DaysWaiting != 90 || page.Next == "" {
		t.Fatalf("stragglers, first page %+v", page)
	}
	page = apiDecode[stragglerPage](t, w.app.api(tok, "GET", page.Next, nil), http.StatusOK)
	if page.Total != 2 || len(page.Items) != 1 || page.Items[0].Login != "dan@example.com" || page.Next != "" {
		t.Errorf("stragglers, second page %+v", page)
	}
	var views int64
	if err := w.app.DB.Read.Model(&audit.Entry{}).Where("action = ? AND entity_type = ? AND entity_id = ?", audit.ActionView, "source", w.source.ID).
		Count(&views).Error; err != nil {
		t.Fatal(err)
	}
	if views != 2 {
		t.Errorf("%d audited reads of the stragglers' logins, want one a page", views)
	}
	if res := w.app.api(w.app.mustToken(w.viewer), "GET", base+"/stragglers", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer reads the stragglers: %d", res.StatusCode)
	}

	// A longer period: Cy and Dan are inside it, and no straggler is left.
	saved := apiDecode[hook.ProgramSettings](t, w.app.api(tok, "PUT", base+"/settings", map[string]any{"version": 0, "periodDays": 120}), http.StatusOK)
	if saved.PeriodDays != 120 || saved.Version != 1 {
		t.Errorf("saved %+v", saved)
	}
	if page := apiDecode[stragglerPage](t, w.app.api(tok, "GET", base+"/stragglers", nil), http.StatusOK); page.Total != 0 || len(page.Items) != 0 {
		t.Errorf("stragglers after a longer period %+v", page)
	}
	res := w.app.api(tok, "PUT", base+"/settings", map[string]any{"version": 0, "periodDays": 30})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, `"stored":"120"`) {
		t.Errorf("a stale period: %d %s", res.StatusCode, res.Body)
	}

	stored := func() int64 {
		var n int64
		w.app.DB.Read.Model(&staging.StagedRecord{}).Where("attributes_json LIKE ?", `%"pw"%`).Count(&n)
		return n
	}
	res = w.app.api(tok, "POST", base+"/erase", map[string]any{"confirm": programProjectName})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, "cannot be erased yet") || stored() != 4 {
		t.Fatalf("an erase before the end: %d %s (%d records keep their hash)", res.StatusCode, res.Body, stored())
	}
	res = w.app.api(tok, "POST", base+"/erase", map[string]any{"confirm": "Acme", "override": true})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `"confirm"`) || stored() != 4 {
		t.Fatalf("an erase with the wrong name: %d %s", res.StatusCode, res.Body)
	}
	erased := apiDecode[hook.EraseResult](t, w.app.api(tok, "POST", base+"/erase", map[string]any{"confirm": programProjectName, "override": true}), http.StatusOK)
	if erased.Records != 4 || !erased.Overridden || stored() != 0 {
		t.Errorf("erase %+v, %d records keep their hash", erased, stored())
	}
	var e audit.Entry
	if err := w.app.DB.Read.Where("action = ?", hook.ActionEraseHashes).First(&e).Error; err != nil || e.ActorName != "Eve Engineer" {
		t.Errorf("the erase's audit entry %+v %v", e, err)
	}
}
