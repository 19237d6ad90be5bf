package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/web"
)

// canaryPassword is the known password of every staged person of the
// cut-over tests; the tests look for it where it must never be.
const canaryPassword = "Canary-Horse-42!"

// stageWithHashes stages n people with a bcrypt hash of canaryPassword in
// userPassword, sets the source's password settings and validates them.
func (w *loadWorld) stageWithHashes(t *testing.T, n int) {
	t.Helper()
	src, err := w.app.Plan.UpdateSource(asActor(w.lead), w.p.ID, w.src.ID, w.src.Version, plan.SourceInput{MigrateCredentials: pval(plan.DecisionYes)})
	if err != nil {
		t.Fatal(err)
	}
	w.src = src
	if _, err := w.app.Creds.Save(asActor(w.lead), w.p.ID, w.src.ID, 0, credentials.Input{Attribute: "userPassword"}); err != nil {
		t.Fatal(err)
	}
	w.stageHashCSV(t, n, "")
}

// stageHashCSV stages the people again (user03 renamed when rename is
// set: a change at the source) and validates them.
func (w *loadWorld) stageHashCSV(t *testing.T, n int, rename string) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(canaryPassword), 4)
	if err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("employeeID,mail,givenName,sn,c,userPassword\r\n")
	for i := 1; i <= n; i++ {
		given := fmt.Sprintf("User%d", i)
		if i == 3 && rename != "" {
			given = rename
		}
		fmt.Fprintf(&csv, "E%d,user%02d@example.com,%s,Tester,GB,%s\r\n", i, i, given, hash)
	}
	ctx := asActor(w.engineer)
	r, format, err := staging.OpenReader(strings.NewReader(csv.String()), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Staging.Stage(ctx, w.p.ID, w.src.ID, r, staging.Meta{FileName: "hr.csv", Format: format}, nil); err != nil {
		t.Fatal(err)
	}
	w.app.Clock.Advance(time.Minute)
	if _, err := w.app.Quality.Validate(ctx, w.p.ID, nil); err != nil {
		t.Fatal(err)
	}
}

// loadStaged loads everyone STAGED through the service (with their hashes
// when mode is load.ModeHash) and waits for the load.
func (w *loadWorld) loadStaged(t *testing.T, mode string) *load.Run {
	t.Helper()
	run, rep, err := w.app.Loads.Start(asActor(w.engineer), w.p.ID, load.NewRun{Kind: load.KindLoad, Mode: mode,
		OnExisting: load.OnExistingSkip})
	if err != nil {
		if rep != nil {
			t.Fatalf("load everyone STAGED: %v: %v", err, rep.BlockingReasons())
		}
		t.Fatalf("load everyone STAGED: %v", err)
	}
	w.app.LoadRunner.Launch(run.ID)
	run = w.waitRun(t, run.ID)
	if run.Status != load.StatusDone {
		t.Fatalf("the STAGED load is %s: %s", run.Status, run.Message)
	}
	return run
}

// recordIDOf finds the staged record of a login.
func (w *loadWorld) recordIDOf(t *testing.T, login string) int64 {
	t.Helper()
	exs, err := w.app.Staging.FindExtracts(context.Background(), w.p.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exs {
		recs, err := w.app.Staging.FindRecords(context.Background(), ex.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if ex.Status == staging.StatusReady && len(r.Attributes["mail"]) > 0 && strings.EqualFold(r.Attributes["mail"][0], login) {
				return r.ID
			}
		}
	}
	t.Fatalf("no staged record of %s", login)
	return 0
}

// waveForm is the wave form as the page sends it.
func waveForm(name string, logins ...string) url.Values {
	return url.Values{"name": {name}, "logins": {strings.Join(logins, "\n")}, "max_in_flight": {"10"}, "rate_share": {"80"}}
}

func TestTheCutoverPageSaysToLoadEveryoneStagedFirst(t *testing.T) {
	w := newLoadWorld(t)
	for name, b := range map[string]*browser{"engineer": w.asEngineer, "viewer": w.asViewer} {
		res := b.get(w.path("/cutover"))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d: %.500s", name, res.StatusCode, res.Body)
		}
		doc := res.doc(t)
		if got := text(doc.Find("#cutover-empty")); !strings.Contains(got, "Load everyone STAGED first") || !strings.Contains(got, "STAGED") {
			t.Errorf("%s: empty state: %q", name, got)
		}
		if doc.Find(`nav.side a[href="`+w.path("/cutover")+`"]`).Length() == 0 {
			t.Errorf("%s: no Cut-over entry in the project navigation", name)
		}
		steps := text(doc.Find("#cutover-steps"))
		for _, want := range []string{"Refresh", "Activation waves", "Manager pass", "Reconciliation"} {
			if !strings.Contains(steps, want) {
				t.Errorf("%s: the lifecycle lacks %q: %s", name, want, steps)
			}
		}
		if got := text(doc.Find("#cutover-sources")); !strings.Contains(got, "HR export") {
			t.Errorf("%s: sources: %q", name, got)
		}
		starts := doc.Find("#plan-refresh, #plan-managers, #reconcile-form, #leavers-form").Length()
		if (starts > 0) != (name == "engineer") {
			t.Errorf("%s: %d start forms or links", name, starts)
		}
		if doc.Find("#canaries-none").Length() != 1 {
			t.Errorf("%s: no empty canary list", name)
		}
	}
	for _, path := range []string{"/cutover/refresh", "/cutover/waves/new", "/cutover/managers"} {
		if res := w.asViewer.get(w.path(path)); res.StatusCode != http.StatusForbidden {
			t.Errorf("a viewer opens %s: %d", path, res.StatusCode)
		}
	}
	// Without an org, the plans say so instead of failing.
	for _, path := range []string{"/cutover/refresh", "/cutover/managers"} {
		res := w.asEngineer.get(w.path(path))
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "Okta org") {
			t.Errorf("%s without an org: %d: %.300s", path, res.StatusCode, res.Body)
		}
		if _, ok := res.doc(t).Find("#start").Attr("disabled"); !ok {
			t.Errorf("%s: Start is not disabled without a plan", path)
		}
	}
}

func TestCutoverSourceSettingsSaveAndRefuseBadInput(t *testing.T) {
	w := newLoadWorld(t)
	page := w.path(fmt.Sprintf("/cutover/sources/%d", w.src.ID))
	res := w.asViewer.get(page)
	if res.StatusCode != http.StatusOK || res.doc(t).Find("#save-cutover").Length() != 0 {
		t.Fatalf("a viewer's settings page: %d, save button shown", res.StatusCode)
	}
	doc := w.asLead.get(page).doc(t)
	if got := text(doc.Find("#action-help")); !strings.Contains(got, "not created in Okta") || !strings.Contains(got, "change the password") {
		t.Errorf("the actions are not explained: %s", got)
	}
	good := url.Values{"status_attribute": {"accountStatus"}, "disabled_values": {"disabled\r\nDISABLED\r\noff"},
		"locked_values": {"locked"}, "expired_values": {"expired"}, "disabled_action": {load.StatusSkip},
		"locked_action": {load.StatusSuspend}, "expired_action": {load.StatusChangePassword},
		"manager_attribute": {"manager"}, "manager_kind": {load.ManagerKindEmployeeID}}
	bad := map[string]struct {
		field, value, errField, want string
	}{
		"control characters in the attribute": {"status_attribute", "account\x01Status", "status_attribute", ""},
		"an attribute too long":               {"status_attribute", strings.Repeat("a", 201), "status_attribute", ""},
		"an unknown action":                   {"locked_action", "explode", "locked_action", ""},
		"a value with a control character":    {"expired_values", "exp\x07ired", "expired_values", "control characters"},
		"too many values":                     {"disabled_values", strings.Repeat("v\n", 0) + manyValues(51), "disabled_values", "at most 50"},
		"a manager kind without an attribute": {"manager_attribute", "", "manager_attribute", ""},
		"an unknown manager kind":             {"manager_kind", "guess", "manager_kind", ""},
		"an oversized list":                   {"locked_values", strings.Repeat("x", 70<<10), "locked_values", "too long"},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range good {
				form[k] = v
			}
			form.Set(tc.field, tc.value)
			res := w.asLead.post(page, form)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %.300s", res.StatusCode, res.Body)
			}
			msg := fieldError(t, res, tc.errField)
			if msg == "" || (tc.want != "" && !strings.Contains(msg, tc.want)) {
				t.Errorf("message next to %s: %q", tc.errField, msg)
			}
			if got, _ := res.doc(t).Find("#f-manager_attribute").Attr("value"); tc.field != "manager_attribute" && got != "manager" {
				t.Errorf("the typed manager attribute is lost: %q", got)
			}
		})
	}
	res = w.asLead.post(page, good)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d: %.500s", res.StatusCode, res.Body)
	}
	st, err := w.app.Loads.FindCutover(context.Background(), w.p.ID, w.src.ID)
	if err != nil || st.StatusAttribute != "accountStatus" || len(st.DisabledValues) != 2 || st.ManagerKind != load.ManagerKindEmployeeID {
		t.Fatalf("saved: %+v %v", st, err)
	}
	if got := text(w.asViewer.get(w.path("/cutover")).doc(t).Find("#cutover-sources")); !strings.Contains(got, "accountStatus") || !strings.Contains(got, "employee id") {
		t.Errorf("the overview does not show the settings: %s", got)
	}
	// A stale form (version 0 while 1 is stored) is a conflict, the typed values kept.
	stale := url.Values{}
	for k, v := range good {
		stale[k] = v
	}
	stale.Set("status_attribute", "userAccountControl")
	res = w.asLead.post(page, stale)
	if res.StatusCode != http.StatusConflict {
		t.Fatalf("stale save: %d", res.StatusCode)
	}
	if got, _ := res.doc(t).Find("#f-status_attribute").Attr("value"); got != "userAccountControl" {
		t.Errorf("the typed value is lost after a conflict: %q", got)
	}
	// An unknown source is a 404.
	if res := w.asLead.post(w.path("/cutover/sources/999999"), good); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown source: %d", res.StatusCode)
	}
	// The leaver policy.
	res = w.asEngineer.post(w.path("/cutover/leavers"), url.Values{"leavers": {"vanish"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, "leavers") == "" {
		t.Errorf("unknown leaver policy: %d %q", res.StatusCode, fieldError(t, res, "leavers"))
	}
	if res := w.asEngineer.post(w.path("/cutover/leavers"), url.Values{"leavers": {load.LeaversDeactivate}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save the leaver policy: %d", res.StatusCode)
	}
	if res := w.asEngineer.post(w.path("/cutover/leavers"), url.Values{"leavers": {load.LeaversReport}}); res.StatusCode != http.StatusConflict {
		t.Errorf("a stale leaver policy: %d", res.StatusCode)
	}
}

func manyValues(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "value%d\n", i)
	}
	return b.String()
}

// uploadHierarchy posts a groups file to the hierarchy form.
func (b *browser) uploadHierarchy(path, name, content string) response {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("_csrf", b.csrf())
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.app.HTTP.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func TestGroupHierarchyImportAndFlatten(t *testing.T) {
	w := &loadWorld{dataWorld: newDataWorld(t, web.Options{MaxUploadBytes: 4 << 10})}
	base := w.path(fmt.Sprintf("/cutover/sources/%d", w.src.ID))
	// Flattening before any import is refused.
	if res := w.asLead.post(base+"/flatten", url.Values{"flatten": {"true"}}); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.Body, "Import the source") {
		t.Errorf("flatten without a hierarchy: %d", res.StatusCode)
	}
	for name, tc := range map[string]struct{ file, content, want string }{
		"an oversized file": {"groups.csv", "group,parent\n" + strings.Repeat("Sales,Staff\n", 500), "larger than 4 KB"},
		"an empty file":     {"groups.csv", "", "empty"},
		"a picture":         {"logo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ""},
		"a CSV of people":   {"people.csv", "employeeID,mail\nE1,a@example.com\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			res := w.asLead.uploadHierarchy(base+"/hierarchy", tc.file, tc.content)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %.300s", res.StatusCode, res.Body)
			}
			msg := fieldError(t, res, "file")
			if msg == "" || (tc.want != "" && !strings.Contains(msg, tc.want)) {
				t.Errorf("message: %q", msg)
			}
			if res.doc(t).Find("#hierarchy-none").Length() != 1 {
				t.Error("a refused file left a hierarchy behind")
			}
		})
	}
	res := w.asLead.uploadHierarchy(base+"/hierarchy", "groups.csv", "group,parent\r\nSales,Staff\r\nStaff,Everyone\r\n")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("import: %d: %.500s", res.StatusCode, res.Body)
	}
	doc := w.asLead.get(base).doc(t)
	if got := text(doc.Find("#hierarchy-facts")); !strings.Contains(got, "groups from groups.csv") {
		t.Errorf("hierarchy facts: %q", got)
	}
	if res := w.asLead.post(base+"/flatten", url.Values{"flatten": {"yes please"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a bad checkbox value: %d", res.StatusCode)
	}
	if res := w.asLead.post(base+"/flatten", url.Values{"flatten": {"true"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("flatten: %d", res.StatusCode)
	}
	if got := text(w.asViewer.get(w.path("/cutover")).doc(t).Find("#cutover-sources")); !strings.Contains(got, "flattened") {
		t.Errorf("the overview does not say the groups are flattened: %s", got)
	}
	// A viewer may not import.
	if res := w.asViewer.uploadHierarchy(base+"/hierarchy", "groups.csv", "group,parent\nA,B\n"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer imports: %d", res.StatusCode)
	}
}

func TestCutoverFormsRefuseBadInputAndKeepWhatWasTyped(t *testing.T) {
	w := newLoadWorld(t)
	w.connectSandbox(t)
	w.stage(t, true)
	type tc struct {
		path   string
		form   url.Values
		field  string
		want   string
		status int
	}
	with := func(base url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, v := range base {
			out[k] = append([]string(nil), v...)
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	wave := waveForm("Wave 1", "user01@example.com")
	pace := url.Values{"max_in_flight": {"10"}, "rate_share": {"80"}}
	cases := map[string]tc{
		"wave: requests in flight not a number":        {"/cutover/waves/plan", with(wave, "max_in_flight", "ten"), "max_in_flight", "whole number", 422},
		"wave: requests in flight over 75":             {"/cutover/waves/plan", with(wave, "max_in_flight", "76"), "max_in_flight", "between 1 and 75", 422},
		"wave: share not a number":                     {"/cutover/waves/plan", with(wave, "rate_share", "lots"), "rate_share", "number", 422},
		"wave: share over 100":                         {"/cutover/waves/plan", with(wave, "rate_share", "150"), "rate_share", "between", 422},
		"wave: a bad window":                           {"/cutover/waves/plan", with(wave, "window", "25:00-06:00"), "window", "HH:MM", 422},
		"wave: a window without a dash":                {"/cutover/waves/plan", with(wave, "window", "tonight"), "window", "22:00-06:00", 422},
		"wave: an unknown time zone":                   {"/cutover/waves/plan", with(wave, "window", "22:00-06:00", "window_tz", "Mars/Olympus"), "window_tz", "IANA", 422},
		"wave: a time zone with control chars":         {"/cutover/waves/plan", with(wave, "window_tz", "Europe/\x00Berlin"), "window_tz", "IANA", 422},
		"wave: no name":                                {"/cutover/waves/plan", with(wave, "name", ""), "name", "", 422},
		"wave: a name with control characters":         {"/cutover/waves/plan", with(wave, "name", "Wave\x1b1"), "name", "control", 422},
		"wave: an oversized name":                      {"/cutover/waves/plan", with(wave, "name", strings.Repeat("W", 101)), "name", "too long", 422},
		"wave: an unknown source":                      {"/cutover/waves/plan", with(wave, "source_ids", "999999"), "source_ids", "not in this project", 422},
		"wave: a source id that is not a number":       {"/cutover/waves/plan", with(wave, "source_ids", "abc"), "source_ids", "not valid", 422},
		"wave: an unknown user type":                   {"/cutover/waves/plan", with(wave, "user_type_ids", "999999"), "user_type_ids", "not in this project", 422},
		"wave: logins with control characters":         {"/cutover/waves/plan", with(wave, "logins", "a@example.com\x00"), "logins", "control", 422},
		"wave: a subgroup value without its attribute": {"/cutover/waves/plan", with(wave, "subgroup_value", "Sales"), "subgroup_attribute", "attribute", 422},
		"wave start: a bad window":                     {"/cutover/waves", with(wave, "window", "22:00-22:00"), "window", "same time", 422},
		"refresh: a bad pace":                          {"/cutover/refresh", with(pace, "max_in_flight", "0"), "max_in_flight", "between 1 and 75", 422},
		"refresh: an unknown time zone":                {"/cutover/refresh", with(pace, "window", "01:00-05:00", "window_tz", "Nowhere/Town"), "window_tz", "IANA", 422},
		"managers: a bad share":                        {"/cutover/managers", with(pace, "rate_share", "0"), "rate_share", "between", 422},
		"managers: a bad window":                       {"/cutover/managers", with(pace, "window", "9-5"), "window", "HH:MM", 422},
		"reconcile: an unknown target run":             {"/cutover/reconcile", with(pace, "target_run", "999999"), "target_run", "not one of this project's", 422},
		"reconcile: a target run that is not a number": {"/cutover/reconcile", with(pace, "target_run", "run 1"), "target_run", "not one of this project's", 422},
		"reconcile: a bad pace":                        {"/cutover/reconcile", with(pace, "max_in_flight", "-3"), "max_in_flight", "between 1 and 75", 422},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			res := w.asEngineer.post(w.path(c.path), c.form)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %.500s", res.StatusCode, c.status, res.Body)
			}
			msg := fieldError(t, res, c.field)
			if msg == "" || !strings.Contains(msg, c.want) {
				t.Errorf("message next to %s: %q, want %q", c.field, msg, c.want)
			}
			doc := res.doc(t)
			// What was typed is kept (the faulty value of a text field too).
			for _, f := range []string{"max_in_flight", "rate_share", "name"} {
				if v := c.form.Get(f); v != "" && !strings.ContainsAny(v, "\x00\x1b") {
					if got, ok := doc.Find("#f-" + f).Attr("value"); ok && got != v {
						t.Errorf("%s: shows %q, typed %q", f, got, v)
					}
				}
			}
		})
	}
	runs, _ := w.app.Loads.FindRuns(context.Background(), w.p.ID, 10)
	if len(runs) != 0 {
		t.Errorf("refused forms recorded %d run(s)", len(runs))
	}
	// An oversized logins list is refused next to the field.
	big := with(wave, "logins", strings.Repeat("someone@example.com\n", (3<<20)/20))
	res := w.asEngineer.post(w.path("/cutover/waves/plan"), big)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, res, "logins"), "MB") {
		t.Errorf("an oversized list: %d %q", res.StatusCode, fieldError(t, res, "logins"))
	}
	// Nobody to activate: nothing was loaded STAGED yet.
	res = w.asEngineer.post(w.path("/cutover/waves"), wave)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "nobody to activate") {
		t.Errorf("a wave of nobody: %d: %.300s", res.StatusCode, res.Body)
	}
	// A canary result for a run that is not one of the project's.
	if res := w.asEngineer.post(w.path("/loads/999999/canaries/1"), url.Values{"outcome": {"passed"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown run: %d", res.StatusCode)
	}
}

func TestMarkingACanaryNeverEchoesItsPassword(t *testing.T) {
	w := newLoadWorld(t)
	w.stage(t, true) // no password settings: a canary is refused
	rec := w.recordIDOf(t, "user01@example.com")
	page := w.path(fmt.Sprintf("/data/records/%d/edit", rec))
	doc := w.asEngineer.get(page).doc(t)
	if typ, _ := doc.Find("#mark-canary-form #f-password").Attr("type"); typ != "password" {
		t.Fatalf("the canary password field is of type %q", typ)
	}
	const secret = "Sekrit-Canary-Pass-99"
	res := w.asEngineer.post(w.path("/cutover/canaries"), url.Values{"record": {fmt.Sprint(rec)}, "password": {secret}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a record without a hash: %d: %.300s", res.StatusCode, res.Body)
	}
	if !strings.Contains(res.Body, "password settings") {
		t.Errorf("no reason given: %s", text(res.doc(t).Find("#mark-canary")))
	}
	if strings.Contains(res.Body, secret) || strings.Contains(w.app.Logs.String(), secret) {
		t.Error("the password is echoed back or logged")
	}
	if v, _ := res.doc(t).Find("#f-password").Attr("value"); v != "" {
		t.Errorf("the password field holds %q", v)
	}
	for name, form := range map[string]url.Values{
		"no password":           {"record": {fmt.Sprint(rec)}, "password": {""}},
		"an oversized password": {"record": {fmt.Sprint(rec)}, "password": {strings.Repeat("p", 1001)}},
	} {
		res := w.asEngineer.post(w.path("/cutover/canaries"), form)
		if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, "password") == "" {
			t.Errorf("%s: %d %q", name, res.StatusCode, fieldError(t, res, "password"))
		}
		if strings.Contains(res.Body, strings.Repeat("p", 1001)) {
			t.Errorf("%s: the password is echoed back", name)
		}
	}
	for _, id := range []string{"999999", "abc", ""} {
		res := w.asEngineer.post(w.path("/cutover/canaries"), url.Values{"record": {id}, "password": {secret}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(res.doc(t).Find("#cutover-message")), "not a current staged record") {
			t.Errorf("record %q: %d", id, res.StatusCode)
		}
		if strings.Contains(res.Body, secret) {
			t.Errorf("record %q: the password is echoed back", id)
		}
	}
	if res := w.asViewer.post(w.path("/cutover/canaries"), url.Values{"record": {fmt.Sprint(rec)}, "password": {secret}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer marks a canary: %d", res.StatusCode)
	}
}

// TestAWavePlannedAndStartedRunsToDone goes through the cut-over against
// the sandbox: everyone loaded STAGED with their hashes, a canary marked
// from its record's page, a wave planned (its sentences) and started, run
// to done with the canary's check passed; then a refresh, the manager pass
// and a reconciliation render and run.
func TestAWavePlannedAndStartedRunsToDone(t *testing.T) {
	w := newLoadWorld(t)
	sim := w.connectSandbox(t)
	w.stageWithHashes(t, 12)
	ctx := context.Background()

	// The canary, from its record's page.
	rec := w.recordIDOf(t, "user02@example.com")
	res := w.asEngineer.post(w.path("/cutover/canaries"), url.Values{"record": {fmt.Sprint(rec)}, "password": {canaryPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark the canary: %d: %s", res.StatusCode, text(res.doc(t).Find("#mark-canary")))
	}
	doc := w.asViewer.get(w.path("/cutover")).doc(t)
	if got := text(doc.Find("#canary-list")); !strings.Contains(got, "bcrypt") || strings.Contains(got, "user02@example.com") {
		t.Errorf("the viewer's canary list (masked): %s", got)
	}
	doc = w.asEngineer.get(w.path("/cutover")).doc(t)
	if got := text(doc.Find("#canary-list")); !strings.Contains(got, "user02@example.com") {
		t.Errorf("the engineer's canary list: %s", got)
	}

	staged := w.loadStaged(t, load.ModeHash)
	doc = w.asEngineer.get(w.path("/cutover")).doc(t)
	if doc.Find("#cutover-empty").Length() != 0 || !strings.Contains(text(doc.Find("#step-staged")), staged.Label()) {
		t.Errorf("the overview after the STAGED load: %s", text(doc.Find("#step-staged")))
	}

	// Plan, then start a wave of six.
	var logins []string
	for i := 1; i <= 6; i++ {
		logins = append(logins, fmt.Sprintf("user%02d@example.com", i))
	}
	form := waveForm("Wave 1", logins...)
	res = w.asEngineer.post(w.path("/cutover/waves/plan"), form)
	doc = res.doc(t)
	if res.StatusCode != http.StatusOK || text(doc.Find("#plan-users")) != "6" {
		t.Fatalf("plan: %d %q: %s", res.StatusCode, text(doc.Find("#plan-users")), text(doc.Find(".flash.error")))
	}
	sentences := text(doc.Find("#plan-sentences"))
	for _, want := range []string{"activates 6 users", "without Okta's activation email", "canary"} {
		if !strings.Contains(sentences, want) {
			t.Errorf("the plan does not say %q: %s", want, sentences)
		}
	}
	start := url.Values{}
	doc.Find("#start-form input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		start.Add(name, val)
	})
	if start.Get("name") != "Wave 1" || !strings.Contains(start.Get("logins"), "user06@example.com") {
		t.Fatalf("the Start form lost the choices: %v", start)
	}
	id := w.runIDFrom(t, w.asEngineer.post(w.path("/cutover/waves"), start))
	run := w.waitRun(t, id)
	if run.Status != load.StatusDone || run.Kind != load.KindActivate {
		t.Fatalf("wave: %s %s: %s", run.Kind, run.Status, run.Message)
	}
	counts, _ := w.app.Loads.CountItems(ctx, id)
	if counts.Of(load.StateActivated) != 6 {
		t.Errorf("activated %d, want 6", counts.Of(load.StateActivated))
	}
	page := w.path(fmt.Sprintf("/loads/%d", id))
	doc = w.asEngineer.get(page).doc(t)
	if got := text(doc.Find("#count-activated td.num")); got != "6" {
		t.Errorf("the run page's activated count: %q", got)
	}
	if got := text(doc.Find("#canary-check-list")); !strings.Contains(got, "user02@example.com") || !strings.Contains(got, "passed") {
		t.Errorf("the canary check: %s", got)
	}
	if got := text(doc.Find("#run-items")); !strings.Contains(got, "activate") || !strings.Contains(got, "no email") {
		t.Errorf("items do not say the action and its detail: %.300s", got)
	}
	// Recording a canary's result by hand: a bad result is refused next to
	// the field with the note kept; a good one is recorded.
	canaries, _ := w.app.Loads.ListCanaries(ctx, w.p.ID)
	result := w.path(fmt.Sprintf("/loads/%d/canaries/%d", id, canaries[0].ID))
	res = w.asEngineer.post(result, url.Values{"outcome": {"maybe"}, "detail": {"tried by hand"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, "outcome") == "" {
		t.Errorf("a bad result: %d %q", res.StatusCode, fieldError(t, res, "outcome"))
	}
	if got, _ := res.doc(t).Find("#f-detail").Attr("value"); got != "tried by hand" {
		t.Errorf("the typed note is lost: %q", got)
	}
	if res := w.asEngineer.post(result, url.Values{"outcome": {"passed"}, "detail": {strings.Repeat("n", 1001)}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an oversized note: %d", res.StatusCode)
	}
	if res := w.asEngineer.post(result, url.Values{"outcome": {"passed"}, "detail": {"signed in by hand"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("record the result: %d", res.StatusCode)
	}
	if got := text(w.asEngineer.get(page).doc(t).Find("#canary-check-list")); !strings.Contains(got, "signed in by hand") || !strings.Contains(got, "Eve Engineer") {
		t.Errorf("the recorded result: %s", got)
	}
	doc = w.asViewer.get(page).doc(t)
	if got := text(doc.Find("#canary-check-list")); strings.Contains(got, "user02@example.com") {
		t.Errorf("the viewer sees the canary's login: %s", got)
	}
	// The wave on the overview; a second wave of the same users is refused.
	doc = w.asViewer.get(w.path("/cutover")).doc(t)
	if got := text(doc.Find("#waves")); !strings.Contains(got, "Wave 1") || !strings.Contains(got, "done") {
		t.Errorf("the waves on the overview: %s", got)
	}
	if got := text(doc.Find("#still-staged")); !strings.Contains(got, "6 users still STAGED") {
		t.Errorf("the overview does not say who is still to activate: %q", got)
	}
	if strings.Contains(w.app.Logs.String(), canaryPassword) {
		t.Error("the canary's password is in the log")
	}

	// A refresh: nothing changed at the source yet, then one person renamed.
	doc = w.asEngineer.get(w.path("/cutover/refresh")).doc(t)
	if _, ok := doc.Find("#start").Attr("disabled"); !ok || doc.Find("#refresh-nothing").Length() != 1 {
		t.Errorf("a refresh with nothing to do may start: %s", text(doc.Find("#refresh-plan")))
	}
	w.stageHashCSV(t, 12, "Renamed")
	res = w.asEngineer.get(w.path("/cutover/refresh"))
	doc = res.doc(t)
	if res.StatusCode != http.StatusOK || text(doc.Find("#refresh-profiles")) != "1" {
		t.Fatalf("refresh plan: %d: %s", res.StatusCode, text(doc.Find("#refresh-plan")))
	}
	if got := text(doc.Find("#refresh-leavers")); !strings.Contains(got, "Leave them and report") {
		t.Errorf("the leaver policy is not said: %q", got)
	}
	rid := w.runIDFrom(t, w.asEngineer.post(w.path("/cutover/refresh"), url.Values{"max_in_flight": {"5"}, "rate_share": {"50"}}))
	if r := w.waitRun(t, rid); r.Status != load.StatusDone || r.Kind != load.KindRefresh {
		t.Errorf("refresh: %s %s", r.Status, r.Message)
	}
	if got := text(w.asEngineer.get(w.path(fmt.Sprintf("/loads/%d", rid))).doc(t).Find("#run-items")); !strings.Contains(got, "changed: firstName") {
		t.Errorf("the refresh's items do not say what changed: %.300s", got)
	}
	// The manager pass: no source has a manager attribute.
	res = w.asEngineer.get(w.path("/cutover/managers"))
	if doc = res.doc(t); res.StatusCode != http.StatusOK || text(doc.Find("#managers-users")) == "" {
		t.Errorf("manager plan: %d: %s", res.StatusCode, text(doc.Find("main")))
	}
	// A reconciliation of the STAGED load, after someone changed a user
	// in the org behind Ferry's back.
	if err := sim.Tamper("user05@example.com", map[string]any{"firstName": "Changed by hand"}, ""); err != nil {
		t.Fatal(err)
	}
	rid = w.runIDFrom(t, w.asEngineer.post(w.path("/cutover/reconcile"), url.Values{"target_run": {fmt.Sprint(staged.ID)},
		"max_in_flight": {"5"}, "rate_share": {"50"}}))
	if r := w.waitRun(t, rid); r.Status != load.StatusDone || r.Kind != load.KindReconcile {
		t.Fatalf("reconciliation: %s %s", r.Status, r.Message)
	}
	before := countAudit(t, w.app)
	doc = w.asEngineer.get(w.path(fmt.Sprintf("/loads/%d", rid))).doc(t)
	diffs := text(doc.Find("#difference-list"))
	for _, want := range []string{"user05@example.com", "profile", "firstName", "User5", "Changed by hand"} {
		if !strings.Contains(diffs, want) {
			t.Errorf("the engineer's differences lack %q: %s", want, diffs)
		}
	}
	if doc.Find("#differences-defects").Length() != 1 {
		t.Error("no link to the defect log from the differences")
	}
	if countAudit(t, w.app) == before {
		t.Error("the unmasked differences were not audited")
	}
	diffs = text(w.asViewer.get(w.path(fmt.Sprintf("/loads/%d", rid))).doc(t).Find("#difference-list"))
	if strings.Contains(diffs, "user05@example.com") || strings.Contains(diffs, "Changed by hand") || !strings.Contains(diffs, "firstName") {
		t.Errorf("the viewer's differences are not masked: %s", diffs)
	}
	doc = w.asViewer.get(w.path("/cutover")).doc(t)
	for _, step := range []string{"#step-reconcile", "#step-waves"} {
		if text(doc.Find(step)) == "" {
			t.Errorf("%s is empty", step)
		}
	}
	if !strings.Contains(text(doc.Find("#step-reconcile")), "Reconciliation (run") {
		t.Errorf("the overview does not show the reconciliation: %s", text(doc.Find("#step-reconcile")))
	}
	// Removing the canary asks first.
	list, _ := w.app.Loads.ListCanaries(ctx, w.p.ID)
	if len(list) != 1 {
		t.Fatalf("%d canaries", len(list))
	}
	rm := w.path(fmt.Sprintf("/cutover/canaries/%d/remove", list[0].ID))
	if got := text(w.asEngineer.get(rm).doc(t).Find("main")); !strings.Contains(got, "forgets its password") {
		t.Errorf("the confirmation: %s", got)
	}
	if res := w.asEngineer.post(rm, url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", res.StatusCode)
	}
	if list, _ := w.app.Loads.ListCanaries(ctx, w.p.ID); len(list) != 0 {
		t.Errorf("%d canaries left", len(list))
	}
}
