package web_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/web"
)

// The test account's password, and the salt its legacy system hashed it
// with (the value is built here, independently of internal/hashes).
const (
	proofPassword = "Known-Test-Passw0rd!"
	proofSalt     = "\x07salt-bytes\x00\xfe"
)

// passwordWorld is a project whose source migrates credentials, with an
// extract of mixed stored passwords staged.
type passwordWorld struct {
	app              *testApp
	lead, eng, view  *auth.Account
	p                *plan.Project
	src              *plan.Source
	sha512, bcrypted string
}

func newPasswordWorld(t *testing.T, app *testApp) *passwordWorld {
	t.Helper()
	w := &passwordWorld{app: app}
	w.lead = app.mustAccount("lead@example.com", "Lea Lead", false)
	w.eng = app.mustAccount("eng@example.com", "Eve Engineer", false)
	w.view = app.mustAccount("viewer@example.com", "Vic Viewer", false)
	w.p = app.mustProject(w.lead, "Shop migration")
	app.mustMember(w.p, w.eng, auth.RoleEngineer)
	app.mustMember(w.p, w.view, auth.RoleViewer)
	var err error
	w.src, err = app.Plan.CreateSource(asActor(w.lead), w.p.ID, plan.SourceInput{Name: pval("Shop DB"), Kind: pval("database"),
		MigrateCredentials: pval(plan.DecisionYes), PasswordHashFormat: pval("sha512")})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512([]byte(proofPassword + proofSalt))
	w.sha512 = base64.StdEncoding.EncodeToString(sum[:])
	bc, err := bcrypt.GenerateFromPassword([]byte("another one"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	w.bcrypted = string(bc)
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.WriteAll([][]string{{"customer_no", "mail", "givenName", "sn", "password_hash", "password_salt"},
		{"C-100", "test.account@example.com", "Test", "Account", w.sha512, base64.StdEncoding.EncodeToString([]byte(proofSalt))},
		{"C-101", "bob@example.com", "Bob", "Bcrypt", w.bcrypted, ""},
		{"C-102", "mal@example.com", "Mal", "Formed", "{SSHA}bm90IGJhc2U2NA@@", ""},
		{"C-103", "nop@example.com", "No", "Password", "", ""},
	})
	r, format, err := staging.OpenReader(&buf, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Staging.Stage(asActor(w.eng), w.p.ID, w.src.ID, r, staging.Meta{FileName: "shop.csv", Format: format, KeyAttribute: "customer_no"}, nil); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *passwordWorld) path(rest string) string {
	return projectPath(w.p, fmt.Sprintf("/sources/%d/credentials%s", w.src.ID, rest))
}

func settingsForm(version string, change func(url.Values)) url.Values {
	v := url.Values{"attribute": {"password_hash"}, "salt_attribute": {"password_salt"}, "formats": {"sha512, bcrypt, ldap"},
		"default_format": {"sha512"}, "salt_encoding": {"base64"}, "salt_order": {"POSTFIX"}, "iterations": {""}, "version": {version}}
	if change != nil {
		change(v)
	}
	return v
}

func TestPasswordSettingsPageSavesAndProvesWithoutEverShowingThePassword(t *testing.T) {
	app, logs := newProductionLikeApp(t, web.Options{})
	w := newPasswordWorld(t, app)
	eng := app.signedIn(w.eng)

	// Before any settings: prefilled from the inventory, nothing saved.
	res := eng.get(w.path(""))
	doc := res.doc(t)
	if res.StatusCode != http.StatusOK || doc.Find("#f-default_format option[selected]").AttrOr("value", "") != "sha512" || doc.Find("#prefilled").Length() != 1 {
		t.Fatalf("first visit: %d, default %q", res.StatusCode, doc.Find("#f-default_format option[selected]").AttrOr("value", ""))
	}
	if doc.Find("#prove-form").Length() != 0 {
		t.Error("the proof is offered before the settings are saved")
	}

	// Bad input: the messages next to the fields, what was typed kept.
	res = eng.post(w.path(""), settingsForm("0", func(v url.Values) { v.Set("iterations", "lots") }))
	if doc = res.doc(t); res.StatusCode != http.StatusUnprocessableEntity || doc.Find("#f-iterations-error").Length() != 1 {
		t.Fatalf("iterations not a number: %d %s", res.StatusCode, doc.Find(".error").Text())
	}
	res = eng.post(w.path(""), settingsForm("0", func(v url.Values) {
		v.Set("attribute", "")
		v.Set("salt_order", "MIDDLE<script>")
		v.Set("formats", "sha512, rot13")
	}))
	doc = res.doc(t)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad input: %d", res.StatusCode)
	}
	for _, id := range []string{"#f-attribute-error", "#f-salt_order-error", "#f-formats-error"} {
		if doc.Find(id).Length() != 1 {
			t.Errorf("no message at %s: %s", id, doc.Find(".error").Text())
		}
	}
	if doc.Find("#f-formats").AttrOr("value", "") != "sha512, rot13" || strings.Contains(res.Body, "<script>") {
		t.Errorf("the form lost what was typed, or echoes markup")
	}
	if s, _ := app.Creds.Find(asActor(w.eng), w.p.ID, w.src.ID); s != nil {
		t.Fatal("refused settings were saved")
	}

	// Saved.
	res = eng.post(w.path(""), settingsForm("0", nil))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, res.doc(t).Find(".error, .flash").Text())
	}
	doc = eng.get(w.path("")).doc(t)
	if doc.Find("#f-attribute").AttrOr("value", "") != "password_hash" || doc.Find("#f-formats").AttrOr("value", "") != "sha512, bcrypt, ldap" {
		t.Fatalf("saved form shows %q / %q", doc.Find("#f-attribute").AttrOr("value", ""), doc.Find("#f-formats").AttrOr("value", ""))
	}

	prove := func(record, password string) (response, string) {
		res := eng.post(w.path("/prove"), url.Values{"record": {record}, "password": {password}})
		if strings.Contains(res.Body, password) && password != "" {
			t.Errorf("the page after proving with %q shows the password", record)
		}
		if v, ok := res.doc(t).Find("#f-password").Attr("value"); ok && v != "" {
			t.Error("the password field comes back filled")
		}
		return res, strings.TrimSpace(res.doc(t).Find("#verdict").Text())
	}
	res, verdict := prove("c-100", proofPassword)
	if res.StatusCode != http.StatusOK || !strings.Contains(verdict, "proven") || strings.Contains(verdict, "not proven") ||
		!strings.Contains(verdict, "Okta hash") {
		t.Fatalf("right password: %d %q", res.StatusCode, verdict)
	}
	_, verdict = prove("2", proofPassword+"x")
	if !strings.Contains(verdict, "not proven") {
		t.Fatalf("wrong password: %q", verdict)
	}
	// The salt read as text: Prove says which setting works.
	res = eng.post(w.path(""), settingsForm("1", func(v url.Values) { v.Set("salt_encoding", "text") }))
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save text encoding: %d", res.StatusCode)
	}
	res, verdict = prove("C-100", proofPassword)
	if fits := res.doc(t).Find("#fits li").Text(); !strings.Contains(verdict, "not proven") || !strings.Contains(fits, "base64") || !strings.Contains(fits, "POSTFIX") {
		t.Fatalf("wrong salt encoding: %q, fits %q", verdict, fits)
	}
	// An unknown record: the message next to the field.
	res, _ = prove("nobody", proofPassword)
	if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("#f-record-error").Length() != 1 {
		t.Fatalf("unknown record: %d", res.StatusCode)
	}

	// A viewer reads the settings, and may neither change nor prove them.
	vdoc := app.signedIn(w.view).get(w.path("")).doc(t)
	if vdoc.Find("#credentials-form").Length() != 0 || vdoc.Find("#prove-form").Length() != 0 || !strings.Contains(vdoc.Find("#credentials-facts").Text(), "password_hash") {
		t.Fatal("the viewer's page offers to change or prove the settings, or does not show them")
	}

	// Neither the password nor a stored hash reaches the log (every query
	// is logged here) or the audit log; the proofs' outcomes are audited.
	for _, secret := range []string{proofPassword, w.sha512} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds a secret (%.6s…)", secret)
		}
	}
	var entries []audit.Entry
	if err := app.DB.Read.Find(&entries).Error; err != nil {
		t.Fatal(err)
	}
	proofs := 0
	for _, e := range entries {
		text := e.EntityLabel + e.BeforeJSON + e.AfterJSON
		if strings.Contains(text, proofPassword) || strings.Contains(text, w.sha512) || strings.Contains(text, w.bcrypted) {
			t.Errorf("audit entry %s %s holds a secret", e.Action, e.EntityType)
		}
		if e.Action == credentials.ActionProve {
			proofs++
		}
	}
	if proofs != 3 {
		t.Errorf("%d proofs audited, want 3 (the unknown record is not a proof)", proofs)
	}
}

func TestPasswordSettingsAPIAndTheRunsPasswordCounts(t *testing.T) {
	app := newTestApp(t)
	spec, _ := servedOpenAPI(t, app)
	c := &contract{t: t, app: app, v: newOpenAPIValidator(t, spec), seen: map[string]bool{}}
	w := newPasswordWorld(t, app)
	engTok, leadTok, viewTok := app.mustToken(w.eng), app.mustToken(w.lead), app.mustToken(w.view)
	outsider := app.mustAccount("out@example.com", "Otto", false)
	const settings, prove = "/api/v1/projects/{pid}/sources/{sid}/credentials", "/api/v1/projects/{pid}/sources/{sid}/credentials/prove"
	call := func(tok, method, tmpl string, body any) apiCall {
		return apiCall{token: tok, method: method, tmpl: tmpl, pid: w.p.ID, sid: w.src.ID, body: body}
	}

	got := c.want(c.do(call(viewTok, "GET", settings, nil)), 200, "unconfigured settings")
	if got["configured"] != false || got["default"] != "sha512" || got["version"].(float64) != 0 {
		t.Fatalf("unconfigured: %v", got)
	}
	c.want(c.do(call("", "GET", settings, nil)), 401, "no token")
	c.want(c.do(call(app.mustToken(outsider), "GET", settings, nil)), 404, "not a member")
	c.want(c.do(apiCall{token: engTok, method: "GET", tmpl: settings, pid: w.p.ID, sid: 999999}), 404, "no such source")
	c.want(c.do(call(engTok, "POST", prove, map[string]any{"record": "C-100", "password": proofPassword})), 409, "prove before saving")

	body := map[string]any{"version": 0, "attribute": "password_hash", "saltAttribute": "password_salt", "formats": []string{"sha512", "bcrypt", "ldap"},
		"default": "sha512", "saltEncoding": "base64", "saltOrder": "POSTFIX"}
	c.want(c.do(call(viewTok, "PUT", settings, body)), 403, "a viewer saves")
	bad := c.want(c.do(call(engTok, "PUT", settings, map[string]any{"version": 0, "attribute": "password_hash", "saltAttribute": "password_salt",
		"saltOrder": "MIDDLE"})), 422, "bad settings")
	fields, _ := bad["error"].(map[string]any)["fields"].(map[string]any)
	if fields["saltOrder"] == nil || fields["saltEncoding"] == nil {
		t.Fatalf("field messages %v, want saltOrder and saltEncoding", fields)
	}
	saved := c.want(c.do(apiCall{token: engTok, method: "PUT", tmpl: settings, pid: w.p.ID, sid: w.src.ID, body: body, validRequest: true}), 200, "save")
	if saved["configured"] != true || saved["version"].(float64) != 1 || saved["attribute"] != "password_hash" {
		t.Fatalf("saved: %v", saved)
	}
	c.want(c.do(call(leadTok, "PUT", settings, body)), 409, "a stale save")

	c.want(c.do(call(leadTok, "POST", prove, map[string]any{"record": "C-100", "password": proofPassword})), 403, "a lead proves (engineers run proofs)")
	res := c.do(apiCall{token: engTok, method: "POST", tmpl: prove, pid: w.p.ID, sid: w.src.ID, validRequest: true,
		body: map[string]any{"record": "C-100", "password": proofPassword}})
	proof := c.want(res, 200, "prove")
	if proof["proven"] != true || proof["format"] != "sha512" || proof["way"] != "import" || strings.Contains(res.Body, proofPassword) {
		t.Fatalf("proof: %s", res.Body)
	}
	c.want(c.do(call(engTok, "POST", prove, map[string]any{"record": "C-100"})), 422, "no password")

	// Validation counts the formats and ways; the run's JSON has them.
	run, err := app.Quality.Validate(asActor(w.eng), w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	res = c.do(apiCall{token: viewTok, method: "GET", tmpl: "/api/v1/projects/{pid}/validations/{id}", pid: w.p.ID, id: run.ID, validRequest: true})
	var out struct {
		Counts struct {
			ByFormat  map[string]int64 `json:"byFormat"`
			Passwords map[string]struct {
				ByWay map[string]int64 `json:"byWay"`
			} `json:"passwords"`
		} `json:"counts"`
	}
	if res.StatusCode != 200 || json.Unmarshal([]byte(res.Body), &out) != nil {
		t.Fatalf("run: %d %s", res.StatusCode, res.Body)
	}
	ways := out.Counts.Passwords[fmt.Sprint(w.src.ID)].ByWay
	if out.Counts.ByFormat["sha512"] != 1 || out.Counts.ByFormat["bcrypt"] != 1 || out.Counts.ByFormat["ldap"] != 1 ||
		ways["import"] != 2 || ways["malformed"] != 1 || ways["missing"] != 1 {
		t.Fatalf("run counts: %s", res.Body)
	}
	for _, secret := range []string{w.sha512, w.bcrypted, "bm90IGJhc2U2NA"} {
		occ := app.api(viewTok, "GET", fmt.Sprintf("/api/v1/projects/%d/validations/%d/occurrences", w.p.ID, run.ID), nil)
		if occ.StatusCode != 200 || strings.Contains(occ.Body, secret) {
			t.Fatalf("occurrences (%d) hold a stored value", occ.StatusCode)
		}
	}

	// The quality page: a Passwords section with its table and chart.
	doc := app.signedIn(w.view).get(projectPath(w.p, "/quality")).doc(t)
	sec := doc.Find(fmt.Sprintf("#passwords-%d", w.src.ID))
	if sec.Length() != 1 || sec.Find("svg").Length() != 2 || !strings.Contains(sec.Find("table.password-ways").Text(), "import") ||
		!strings.Contains(sec.Find("table.password-formats").Text(), "sha512") {
		t.Fatalf("passwords section: %q", sec.Text())
	}
	if strings.Contains(doc.Text(), w.sha512) || strings.Contains(doc.Text(), w.bcrypted) {
		t.Fatal("the quality page shows a stored hash")
	}

	// Throttled: ten proofs a minute per project.
	var last response
	for i := 0; i < 10; i++ {
		last = c.do(call(engTok, "POST", prove, map[string]any{"record": "C-100", "password": fmt.Sprintf("guess %d", i)}))
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("after eleven proofs: %d %s", last.StatusCode, last.Body)
	}
}

func TestTheQualityPageNotesASourceWithoutPasswordSettings(t *testing.T) {
	app := newTestApp(t)
	w := newPasswordWorld(t, app)
	run, err := app.Quality.Validate(asActor(w.eng), w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if run.Counts.Passwords[w.src.ID] == nil || !run.Counts.Passwords[w.src.ID].Unconfigured || len(run.Counts.ByFormat) != 0 {
		t.Fatalf("counts %+v", run.Counts)
	}
	doc := app.signedIn(w.view).get(projectPath(w.p, "/quality")).doc(t)
	note := doc.Find(fmt.Sprintf("#passwords-%d .flash", w.src.ID))
	if !strings.Contains(note.Text(), "no password settings") || note.Find("a").AttrOr("href", "") != w.path("") {
		t.Fatalf("note %q", note.Text())
	}
}

// describePasswordSettingsAnswers drives the password settings operations
// to the answers the generic provocations of TestOpenAPIDescribesEveryAnswer
// do not reach (200s, a PUT's 409 and 422, a proof's 409 and 429) on a
// source of its own, and names the engineer as the proofs' writer.
func describePasswordSettingsAnswers(t *testing.T, c *contract, p *plan.Project, validBody map[string]any, writerFor map[string]string) {
	t.Helper()
	const settings, prove = "/api/v1/projects/{pid}/sources/{sid}/credentials", "/api/v1/projects/{pid}/sources/{sid}/credentials/prove"
	app := c.app
	eng := app.mustAccount("password-engineer@example.com", "Pat Engineer", false)
	app.mustMember(p, eng, auth.RoleEngineer)
	engTok := app.mustToken(eng)
	writerFor[prove] = engTok
	src, err := app.Plan.CreateSource(asActor(eng), p.ID, plan.SourceInput{Name: pval("Shop DB"), Kind: pval("database"), MigrateCredentials: pval(plan.DecisionYes)})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha512.Sum512([]byte(proofPassword + proofSalt))
	r, format, err := staging.OpenReader(strings.NewReader("customer_no,password_hash,password_salt\nC-1,"+base64.StdEncoding.EncodeToString(sum[:])+","+
		base64.StdEncoding.EncodeToString([]byte(proofSalt))+"\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Staging.Stage(asActor(eng), p.ID, src.ID, r, staging.Meta{FileName: "shop.csv", Format: format, KeyAttribute: "customer_no"}, nil); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"version": 0, "attribute": "password_hash", "saltAttribute": "password_salt", "formats": []string{"sha512"},
		"default": "sha512", "saltEncoding": "base64", "saltOrder": "POSTFIX", "iterations": 0, "pepper": false}
	validBody["PUT "+settings] = body
	validBody["POST "+prove] = map[string]any{"record": "C-1", "password": proofPassword}
	do := func(method, tmpl string, body any, valid bool) response {
		return c.do(apiCall{token: engTok, method: method, tmpl: tmpl, pid: p.ID, sid: src.ID, body: body, validRequest: valid})
	}
	c.want(do("GET", settings, nil, true), 200, "settings not saved yet")
	c.want(do("POST", prove, validBody["POST "+prove], true), 409, "a proof without settings")
	c.want(do("PUT", settings, map[string]any{"version": 0, "attribute": "password_hash", "formats": []string{"sha512"}, "iterations": 5}, false), 422, "iterations without an iterated digest")
	c.want(do("PUT", settings, body, true), 200, "save the settings")
	c.want(do("GET", settings, nil, true), 200, "saved settings")
	c.want(do("PUT", settings, body, false), 409, "a stale save")
	c.want(do("POST", prove, validBody["POST "+prove], true), 200, "a proof")
	for i := 0; i < 9; i++ {
		c.want(do("POST", prove, map[string]any{"record": "C-1", "password": "a wrong guess"}, true), 200, "a wrong guess")
	}
	c.want(do("POST", prove, validBody["POST "+prove], true), 429, "the eleventh proof in a minute")
}

func TestThePageWarnsWhenTheStoredValueColumnIsNotHiddenByItsName(t *testing.T) {
	app := newTestApp(t)
	w := newPasswordWorld(t, app)
	eng := app.signedIn(w.eng)
	if res := eng.post(w.path(""), settingsForm("0", nil)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	if n := eng.get(w.path("")).doc(t).Find("#unhidden").Length(); n != 0 {
		t.Fatal("a warning for password_hash, which Ferry hides")
	}
	if res := eng.post(w.path(""), settingsForm("1", func(v url.Values) { v.Set("attribute", "legacy_blob") })); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", res.StatusCode)
	}
	if note := eng.get(w.path("")).doc(t).Find("#unhidden").Text(); !strings.Contains(note, "legacy_blob") {
		t.Fatalf("no warning for legacy_blob: %q", note)
	}
}
