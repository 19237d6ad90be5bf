package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// programPeople are the rehearsal's users: legacy hashes Okta cannot
// import (argon2id, SHA-crypt, scrypt) beside ones it could, each with the
// password that opens it.
var programPeople = []struct {
	login, hash, password string
}{
	{"user01@example.com", "", "Bcrypt-Horse-1"}, // bcrypt, made at run time
	{"user02@example.com", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!"},
	{"user03@example.com", "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE", "correct horse"},
	{"user04@example.com", "pbkdf2_sha256$4096$seasalt$zHd5RYFxjPPHtcyvFSF8qXKeIldCmyz1cMw32MducLw=", "correct horse"},
	{"user05@example.com", "", "Never-Signs-In-5"},
	{"user06@example.com", "", "Never-Signs-In-6"},
	{"user07@example.com", "", "Never-Signs-In-7"},
}

// A migration program from start to end, as the people in DESIGN.md run
// it: the engineer sets up the hook in the console, registers it and the
// event hook in the org (the sandbox) and tests it through Okta; a load
// creates the users with the hook; people sign in with their legacy
// passwords (formats Okta cannot import among them) and Okta's
// confirmations arrive; after the period the stragglers get a password
// reset; the end check passes and the staged hashes are erased.
func TestRehearsalOfTheMigrationProgram(t *testing.T) {
	w := newLoadWorld(t)
	// The load engine stamps what it creates with the real time; the
	// console's clock is a test clock: both start now.
	w.app.Clock.Advance(-time.Until(w.app.Clock.Now()))
	sim := w.connectSandbox(t)
	ctx := context.Background()
	eng := w.app.signedIn(w.engineer)
	base := "/projects/" + itoa(w.p.ID)

	// The legacy hashes, staged and validated.
	src, err := w.app.Plan.UpdateSource(asActor(w.lead), w.p.ID, w.src.ID, w.src.Version, plan.SourceInput{MigrateCredentials: pval(plan.DecisionYes)})
	if err != nil {
		t.Fatal(err)
	}
	w.src = src
	if _, err := w.app.Creds.Save(asActor(w.lead), w.p.ID, w.src.ID, 0, credentials.Input{Attribute: "userPassword"}); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("employeeID,mail,givenName,sn,c,userPassword\r\n")
	for i, p := range programPeople {
		hash := p.hash
		if hash == "" {
			b, err := bcrypt.GenerateFromPassword([]byte(p.password), 4)
			if err != nil {
				t.Fatal(err)
			}
			hash = string(b)
		}
		fmt.Fprintf(&csv, "E%d,%s,User%d,Tester,GB,\"%s\"\r\n", i+1, p.login, i+1, hash)
	}
	r, format, err := staging.OpenReader(strings.NewReader(csv.String()), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Staging.Stage(asActor(w.engineer), w.p.ID, w.src.ID, r, staging.Meta{FileName: "legacy.csv", Format: format}, nil); err != nil {
		t.Fatal(err)
	}
	w.app.Clock.Advance(time.Minute)
	if _, err := w.app.Quality.Validate(asActor(w.engineer), w.p.ID, nil); err != nil {
		t.Fatal(err)
	}

	// The hook, set up and registered from its page, tested through Okta,
	// and the event hook that confirms imports.
	res := eng.post(base+"/settings/hook", url.Values{"header_name": {"Authorization"}, "auth_type": {"header"}, "budget_ms": {"2000"},
		"secret_choice": {"generate"}, "version": {"0"}})
	m := shownSecret.FindStringSubmatch(res.Body)
	if res.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("set up the hook: %d", res.StatusCode)
	}
	secret := m[1]
	for _, action := range []string{"/register", "/test", "/events/register"} {
		if res := eng.post(base+"/settings/hook"+action, url.Values{}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d", action, res.StatusCode)
		}
	}
	reg, err := w.app.Hook.FindRegistration(ctx, w.p.ID)
	if err != nil || reg.OktaHookID == "" || !reg.TestPassed() || reg.OktaEventHookID == "" {
		t.Fatalf("registration %+v (%v)", reg, err)
	}

	// The load: everyone created ACTIVE with the password import hook.
	run, rep, err := w.app.Loads.Start(asActor(w.engineer), w.p.ID, load.NewRun{Kind: load.KindLoad, Mode: load.ModeHook, Activate: true,
		OnExisting: load.OnExistingSkip})
	if err != nil {
		if rep != nil {
			t.Fatalf("load: %v: %v", err, rep.BlockingReasons())
		}
		t.Fatalf("load: %v", err)
	}
	w.app.LoadRunner.Launch(run.ID)
	if run = w.waitRun(t, run.ID); run.Status != load.StatusDone || run.Total != int64(len(programPeople)) {
		t.Fatalf("load %s, %d users: %s", run.Status, run.Total, run.Message)
	}

	// Sign-ins at Okta (the sandbox), which calls Ferry's hook: a wrong
	// password fails and imports nothing; the right ones sign in.
	org, err := okta.New(okta.Config{OrgURL: w.simURL, APIToken: loadSandboxToken})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := org.Authenticate(ctx, "USER01@example.com", "not the password"); err == nil {
		t.Fatal("a wrong legacy password signed in")
	}
	for _, p := range programPeople[:4] {
		got, _, err := org.Authenticate(ctx, strings.ToUpper(p.login[:1])+p.login[1:], p.password)
		if err != nil || got.Status != okta.AuthnSuccess {
			t.Fatalf("%s with the legacy password: %+v %v", p.login, got, err)
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := sim.WaitEventDeliveries(waitCtx); err != nil {
		t.Fatal(err)
	}

	// Okta's confirmations reached Ferry: the four are migrated (by the
	// event, not by the VERIFIED answer), and every attempt names its user.
	var imported []string
	if err := w.app.DB.Read.Table("okta_users").Where("project_id = ? AND imported_via = ?", w.p.ID, hook.ImportedViaEvent).
		Order("login").Pluck("login", &imported).Error; err != nil {
		t.Fatal(err)
	}
	if strings.Join(imported, ",") != "user01@example.com,user02@example.com,user03@example.com,user04@example.com" {
		t.Fatalf("confirmed by Okta: %v", imported)
	}
	var unnamed int64
	w.app.DB.Read.Table("hook_attempts").Where("project_id = ? AND okta_user_ref IS NULL", w.p.ID).Count(&unnamed)
	if unnamed != 0 {
		t.Errorf("%d attempts do not name their Okta user", unnamed)
	}
	page := eng.get(base + "/program")
	for id, want := range map[string]string{"count-migrated": "4", "count-waiting": "3"} {
		if got := strings.TrimSpace(page.doc(t).Find("#" + id + " .total-value").Text()); !strings.HasPrefix(got, want) {
			t.Errorf("%s shows %q, want %s", id, got, want)
		}
	}

	// After the period: the three who never signed in are stragglers, and
	// get a password reset — guarded by the project's name.
	// Two months pass: the console's clock moves on, and the users were
	// created two months before the real time the load engine reads.
	w.app.Clock.Advance(61 * 24 * time.Hour)
	var users []load.OktaUser
	if err := w.app.DB.Read.Where("project_id = ?", w.p.ID).Find(&users).Error; err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if err := w.app.DB.Write.Model(&u).Update("created_at", u.CreatedAt.Add(-61*24*time.Hour)).Error; err != nil {
			t.Fatal(err)
		}
	}
	eng = w.app.signedIn(w.engineer) // a new session, two months on
	plan := eng.get(base + "/program/reset")
	if plan.StatusCode != http.StatusOK || plan.doc(t).Find("#reset-nothing").Length() != 0 || plan.doc(t).Find("#start[disabled]").Length() != 0 {
		t.Fatalf("reset plan: %d", plan.StatusCode)
	}
	form := url.Values{"send_email": {"true"}, "max_in_flight": {"10"}, "rate_share": {"80"}, "confirm_name": {"Not the project"}}
	if res := eng.post(base+"/program/reset", form); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a reset without the project's name: %d", res.StatusCode)
	}
	form.Set("confirm_name", w.p.Name)
	res = eng.post(base+"/program/reset", form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("start the reset: %d %s", res.StatusCode, res.Body)
	}
	resetRun := w.waitRun(t, w.runIDFrom(t, res))
	if resetRun.Status != load.StatusDone || resetRun.Total != 3 {
		t.Fatalf("reset run %s, %d users: %s", resetRun.Status, resetRun.Total, resetRun.Message)
	}
	for _, p := range programPeople[4:] {
		u, _, err := org.GetUser(ctx, p.login)
		if err != nil || u.Status != "RECOVERY" || sim.ResetEmails(p.login) != 1 {
			t.Errorf("%s after the reset: %+v, %d emails (%v)", p.login, u, sim.ResetEmails(p.login), err)
		}
	}
	for _, p := range programPeople[:4] {
		if n := sim.ResetEmails(p.login); n != 0 {
			t.Errorf("%s migrated, yet got %d reset emails", p.login, n)
		}
	}

	// The end: the check is ready, the hashes are erased for good.
	if body := eng.get(base + "/program").Body; !strings.Contains(body, `id="program-end"`) {
		t.Fatal("no end-of-program section")
	}
	var before int64
	w.app.DB.Read.Table("staged_records").Where("attributes_json LIKE ?", "%userPassword%").Count(&before)
	if before != int64(len(programPeople)) {
		t.Fatalf("%d staged records hold the hash attribute before the erase", before)
	}
	if res := eng.post(base+"/program/erase", url.Values{"confirm_name": {w.p.Name}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("erase: %d %s", res.StatusCode, res.Body)
	}
	var withHash int64
	w.app.DB.Read.Table("staged_records").Where("attributes_json LIKE ?", "%userPassword%").Count(&withHash)
	if withHash != 0 {
		t.Errorf("%d staged records still hold the legacy hash attribute", withHash)
	}
	// The hook finds no credential any more (asked directly, as Okta would).
	body, _ := json.Marshal(map[string]any{"eventType": hook.EventType, "data": map[string]any{"context": map[string]any{
		"credential": map[string]string{"username": programPeople[4].login, "password": programPeople[4].password}}}})
	cfg, _ := w.app.Hook.FindConfig(ctx, w.p.ID)
	req, _ := http.NewRequest(http.MethodPost, w.app.HTTP.URL+cfg.Path(), bytes.NewReader(body))
	req.Header.Set("Authorization", secret)
	req.Header.Set("Content-Type", "application/json")
	hres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer bytes.Buffer
	_, _ = answer.ReadFrom(hres.Body)
	hres.Body.Close()
	if hres.StatusCode != http.StatusOK || !strings.Contains(answer.String(), `"UNVERIFIED"`) {
		t.Fatalf("after the erase the hook answered %d %s", hres.StatusCode, answer.String())
	}
	// No password, secret or hash ever reached the logs.
	logs := w.app.Logs.String()
	for _, p := range programPeople {
		if strings.Contains(logs, p.password) {
			t.Errorf("a legacy password is in the logs")
		}
	}
	if regexp.MustCompile(regexp.QuoteMeta(secret)).MatchString(logs) {
		t.Error("the hook's secret is in the logs")
	}
}
