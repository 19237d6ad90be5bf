package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// withHookUsersOneSignedIn is a load world whose three users were loaded
// with the password import hook (no event hook registered), the first of
// whom has signed in through the sandbox: Okta holds that password, and
// only a read-back can tell Ferry so.
func withHookUsersOneSignedIn(t *testing.T) *loadWorld {
	t.Helper()
	w := newLoadWorld(t)
	w.connectSandbox(t)
	w.stageWithHashes(t, 3)
	ctx := asActor(w.engineer)
	if _, _, err := w.app.Hook.SaveConfig(ctx, w.p.ID, 0, hook.ConfigInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Hook.RegisterInOkta(ctx, w.p.ID, w.app.HTTP.URL); err != nil {
		t.Fatal(err)
	}
	run, rep, err := w.app.Loads.Start(ctx, w.p.ID, load.NewRun{Kind: load.KindLoad, Mode: load.ModeHook, Activate: true, OnExisting: load.OnExistingSkip})
	if err != nil {
		t.Fatalf("load: %v %v", err, rep)
	}
	w.app.LoadRunner.Launch(run.ID)
	if run = w.waitRun(t, run.ID); run.Status != load.StatusDone {
		t.Fatalf("load %s: %s", run.Status, run.Message)
	}
	org, err := okta.New(okta.Config{OrgURL: w.simURL, APIToken: loadSandboxToken})
	if err != nil {
		t.Fatal(err)
	}
	if got, _, err := org.Authenticate(context.Background(), "user01@example.com", canaryPassword); err != nil || got.Status != okta.AuthnSuccess {
		t.Fatalf("sign in: %+v %v", got, err)
	}
	return w
}

// Without the event hook, Okta's confirmation never arrives: "Check with
// Okta now" reads the users back and counts the one whose provider turned
// OKTA as migrated, the others as still waiting.
func TestCheckWithOktaNowConfirmsImportsTheEventHookMissed(t *testing.T) {
	w := withHookUsersOneSignedIn(t)
	eng := w.app.signedIn(w.engineer)
	page := eng.get(w.path("/program"))
	if got := strings.TrimSpace(page.doc(t).Find("#count-migrated .total-value").Text()); got != "0" {
		t.Fatalf("migrated before any confirmation: %q (a VERIFIED answer is not proof)", got)
	}
	res := eng.post(w.path("/program/confirm"), url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != w.path("/program#confirm-job") {
		t.Fatalf("check with Okta: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// The read-back is a job the page follows (paced reads take minutes for
	// thousands of users); its panel counts the users read.
	list, err := w.app.Jobs.FindJobs(context.Background(), w.p.ID, jobs.Filter{Kinds: []string{jobs.KindConfirmImports}})
	if err != nil || len(list) != 1 {
		t.Fatalf("read-back jobs: %v %v", list, err)
	}
	page = eng.get(w.path("/program"))
	if got := page.doc(t).Find(`.flash[role="status"]`).Text(); !strings.Contains(got, fmt.Sprintf("Checking with Okta which passwords it holds (job %d)", list[0].ID)) {
		t.Errorf("flash: %q", got)
	}
	done := w.app.waitJob(w.p.ID, list[0].ID)
	if done.Status != jobs.StatusSucceeded || done.Done != 3 || done.Total != 3 {
		t.Fatalf("read-back job: %+v", done)
	}
	page = eng.get(w.path("/program"))
	doc := page.doc(t)
	if got := doc.Find("#confirm-job .job-message").Text(); !strings.Contains(got, "Read 3 user(s) back from Okta: 1 confirmed migrated, 2 still waiting, 0 no longer in Okta, 0 could not be read.") {
		t.Errorf("the page says of the read-back: %q", got)
	}
	if _, follows := doc.Find(fmt.Sprintf("#job-%d", done.ID)).Attr("data-job-poll"); follows {
		t.Error("the page still follows an ended read-back")
	}
	if doc.Find("#program-confirm button").Length() != 1 {
		t.Error("the page does not offer to check again")
	}
	if got := strings.TrimSpace(doc.Find("#count-migrated .total-value").Text()); got != "1" {
		t.Errorf("migrated after the read-back: %q", got)
	}
	var via []string
	w.app.DB.Read.Table("okta_users").Where("project_id = ? AND password_imported_at IS NOT NULL", w.p.ID).Pluck("imported_via", &via)
	if len(via) != 1 || via[0] != hook.ImportedViaProvider {
		t.Errorf("confirmed: %v", via)
	}
	// A viewer may not ask Okta.
	if res := w.app.signedIn(w.viewer).post(w.path("/program/confirm"), url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's read-back: %d", res.StatusCode)
	}
}

// In a real browser: the engineer asks Okta from the program's page, which
// follows the read-back's job and then shows what it found.
func TestBrowserEngineerChecksWithOktaWhichPasswordsItHolds(t *testing.T) {
	findChromium(t)
	w := withHookUsersOneSignedIn(t)
	b := newChromeTab(t, w.app)
	b.signIn(w.engineer.Email)
	b.open(w.path("/program"))
	if got := b.text("#count-migrated .total-value"); got != "0" {
		t.Fatalf("migrated before the read-back: %q", got)
	}
	b.assertClean("the program page")
	b.do("check with Okta", chromedp.Click("#program-confirm button"))
	j := b.waitForJob(w.app, w.p.ID, jobs.Filter{Kinds: []string{jobs.KindConfirmImports}}, 0)
	if j.Status != jobs.StatusSucceeded {
		t.Fatalf("the read-back %+v", j)
	}
	if got := b.text(chromedp.CSS(fmt.Sprintf("#job-%d .job-message", j.ID))); !strings.Contains(got, "1 confirmed migrated, 2 still waiting") {
		t.Errorf("the page says of the read-back: %q", got)
	}
	if got := b.text("#count-migrated .total-value"); got != "1" {
		t.Errorf("migrated after the read-back: %q", got)
	}
	b.screenshot(screenshotDir(t), "program-checked-with-okta.png")
	b.assertClean("check with Okta")
}

// A read-back can be cancelled from its panel: the page says what that
// keeps, and the program's page shows the job cancelled.
func TestCancellingAReadBackKeepsWhatItConfirmed(t *testing.T) {
	w := withHookUsersOneSignedIn(t)
	eng := w.app.signedIn(w.engineer)
	j := blockingJob(t, w.app, w.p.ID, 0, jobs.KindConfirmImports)
	page := eng.get(w.path(fmt.Sprintf("/jobs/%d/cancel", j.ID)))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "stop reading users back from Okta") ||
		!strings.Contains(page.Body, "keep the users it found migrated counted as migrated") {
		t.Fatalf("cancel page: %d %.400s", page.StatusCode, page.Body)
	}
	if back, _ := page.doc(t).Find(`a.btn[href]`).Last().Attr("href"); back != w.path("/program#confirm-job") {
		t.Errorf("Keep it running leads to %q", back)
	}
	res := eng.post(w.path(fmt.Sprintf("/jobs/%d/cancel", j.ID)), url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != w.path("/program#confirm-job") {
		t.Fatalf("cancel: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	done := w.app.waitJob(w.p.ID, j.ID)
	if done.Status != jobs.StatusCancelled || !strings.Contains(done.Message, "the users read before stay confirmed") {
		t.Errorf("the cancelled read-back %+v", done)
	}
	if got := eng.get(w.path("/program")).doc(t).Find(fmt.Sprintf("#confirm-job #job-%d", j.ID)).Length(); got != 1 {
		t.Error("the program's page does not show the cancelled read-back")
	}
}

// In a real browser, two months on: the engineer sends the stragglers a
// password reset from the program's page (the plan first, the project's
// name typed, a wrong one refused next to the field), then ends the
// program once the end check is ready, and the staged hashes are gone.
func TestBrowserEngineerResetsTheStragglersAndEndsTheProgram(t *testing.T) {
	findChromium(t)
	w := withHookUsersOneSignedIn(t)
	// Two months pass (the users were created two months earlier too).
	w.app.Clock.Advance(61 * 24 * time.Hour)
	if err := w.app.DB.Write.Exec(`UPDATE okta_users SET created_at = ? WHERE project_id = ?`, w.app.Clock.Now().Add(-61*24*time.Hour), w.p.ID).Error; err != nil {
		t.Fatal(err)
	}
	b := newChromeTab(t, w.app)
	b.signIn(w.engineer.Email)
	b.open(w.path("/program"))
	b.follow(`#stragglers-reset a.btn`)
	if got := b.text("#reset-sentences"); !strings.Contains(got, "3 users Ferry loaded with the password import hook") {
		t.Errorf("the reset's plan says: %q", got)
	}
	b.assertClean("the reset's plan")
	b.typeInto("f-confirm_name", "Not the project")
	b.do("send the resets with the wrong name", chromedp.Click("#start"), chromedp.WaitVisible(".field.invalid #f-confirm_name"))
	// The refusal answers 422, which the browser logs; anything else is a problem.
	for _, p := range b.takeProblems() {
		if !strings.Contains(p, "status of 422") {
			t.Errorf("the refused reset reported: %s", p)
		}
	}
	b.replaceValue("f-confirm_name", w.p.Name)
	b.follow("#start")
	var runID int64
	if err := w.app.DB.Read.Model(&load.Run{}).Where("project_id = ? AND kind = ?", w.p.ID, load.KindResetPassword).Pluck("id", &runID).Error; err != nil || runID == 0 {
		t.Fatalf("no reset run was started (%v)", err)
	}
	if run := w.waitRun(t, runID); run.Status != load.StatusDone {
		t.Fatalf("the reset run %s: %s", run.Status, run.Message)
	}

	b.open(w.path("/program"))
	b.follow("#program-erase-link")
	// The reset read the one who signed in first and found the password in
	// Okta (confirmed); the others were sent a reset: nothing is in the way.
	if got := b.text("#erase-ready"); !strings.Contains(got, "found nothing in the way") {
		t.Errorf("the end check: %q", got)
	}
	b.assertClean("the erase's confirmation")
	b.typeInto("f-confirm_name", w.p.Name)
	b.follow(`#erase-form button.danger`)
	if got := b.flash(); !strings.Contains(got, "The staged password hashes are erased: 3 records changed.") {
		t.Errorf("after the erase: %q", got)
	}
	var withHash int64
	if err := w.app.DB.Read.Table("staged_records").Where("attributes_json LIKE ?", "%userPassword%").Count(&withHash).Error; err != nil || withHash != 0 {
		t.Errorf("%d staged records still hold the hash (%v)", withHash, err)
	}
	b.assertClean("the erase")
}
