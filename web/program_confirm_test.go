package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// Without the event hook, Okta's confirmation never arrives: "Check with
// Okta now" reads the users back and counts the one whose provider turned
// OKTA as migrated, the others as still waiting.
func TestCheckWithOktaNowConfirmsImportsTheEventHookMissed(t *testing.T) {
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

	eng := w.app.signedIn(w.engineer)
	page := eng.get(w.path("/program"))
	if got := strings.TrimSpace(page.doc(t).Find("#count-migrated .total-value").Text()); got != "0" {
		t.Fatalf("migrated before any confirmation: %q (a VERIFIED answer is not proof)", got)
	}
	res := eng.post(w.path("/program/confirm"), url.Values{})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("check with Okta: %d", res.StatusCode)
	}
	page = eng.get(w.path("/program"))
	if got := page.doc(t).Find(`.flash[role="status"]`).Text(); !strings.Contains(got, "Read 3 user(s) back from Okta: 1 confirmed migrated, 2 still waiting") {
		t.Errorf("flash: %q", got)
	}
	if got := strings.TrimSpace(page.doc(t).Find("#count-migrated .total-value").Text()); got != "1" {
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
