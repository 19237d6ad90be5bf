package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/sheet"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/web"
)

// dataWorld is a project whose one source has its fields mapped, ready for
// an extract: mail (personal data) feeds login and email, givenName,
// sn and c feed firstName, lastName and countryCode.
type dataWorld struct {
	app                           *testApp
	lead, engineer, viewer, legal *auth.Account
	p                             *plan.Project
	src                           *plan.Source
	asLead, asEngineer, asViewer  *browser
}

// hrCSV has four people: one fine, one with a malformed email (login and
// email), one without a last name, one with a country that is not a code.
const hrCSV = "employeeID,mail,givenName,sn,c\r\n" +
	"E1,ada@example.com,Ada,Lovelace,GB\r\n" +
	"E2,not-an-email,Grace,Hopper,US\r\n" +
	"E3,alan@example.com,Alan,,GB\r\n" +
	"E4,linus@example.com,Linus,Torvalds,England\r\n"

func newDataWorld(t *testing.T, opts web.Options) *dataWorld {
	t.Helper()
	app := newTestAppWith(t, opts)
	w := &dataWorld{app: app}
	w.lead = app.mustAccount("lead@example.com", "Lea Lead", false)
	w.engineer = app.mustAccount("engineer@example.com", "Eve Engineer", false)
	w.viewer = app.mustAccount("viewer@example.com", "Vic Viewer", false)
	w.legal = app.mustAccount("legal@example.com", "Liz Legal", false)
	w.p = app.mustProject(w.lead, "Acme")
	app.mustMember(w.p, w.engineer, auth.RoleEngineer)
	app.mustMember(w.p, w.viewer, auth.RoleViewer)
	app.mustMember(w.p, w.legal, auth.RoleLegalReviewer)
	w.src = seedSource(t, app, w.lead, w.p, "HR export")
	ctx := asActor(w.lead)
	targets := map[string][]string{"mail": {"login", "email"}, "givenName": {"firstName"}, "sn": {"lastName"}, "c": {"countryCode"}}
	for _, name := range []string{"employeeID", "mail", "givenName", "sn", "c"} {
		in := mapping.FieldInput{Name: pval(name), PII: pval(mapping.PIINo)}
		if name == "mail" {
			in.PII, in.PIICategory = pval(mapping.PIIYes), pval("contact")
		}
		f, err := app.Map.CreateField(ctx, w.p.ID, w.src.ID, in)
		if err != nil {
			t.Fatalf("field %s: %v", name, err)
		}
		for _, target := range targets[name] {
			if _, err := app.Map.CreateRow(ctx, w.p.ID, mapping.RowInput{SourceFieldID: &f.ID, TargetAttribute: pval(target)}); err != nil {
				t.Fatalf("map %s to %s: %v", name, target, err)
			}
		}
		if len(targets[name]) == 0 {
			if _, err := app.Map.CreateRow(ctx, w.p.ID, mapping.RowInput{SourceFieldID: &f.ID, Status: pval(mapping.StatusIgnored)}); err != nil {
				t.Fatalf("leave %s out: %v", name, err)
			}
		}
	}
	w.asLead, w.asEngineer, w.asViewer = app.signedIn(w.lead), app.signedIn(w.engineer), app.signedIn(w.viewer)
	return w
}

func (w *dataWorld) path(rest string) string { return projectPath(w.p, rest) }

func (w *dataWorld) uploadPath() string {
	return w.path(fmt.Sprintf("/data/sources/%d/extracts", w.src.ID))
}

// multipartPart is one part of a hand-made multipart body.
type multipartPart struct {
	name, filename, content string
	file                    bool
}

// uploadParts posts the parts in the order given, as a browser sends a form.
func (b *browser) uploadParts(path string, parts ...multipartPart) response {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		var wr io.Writer
		var err error
		if p.file {
			wr, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			wr, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			b.t.Fatal(err)
		}
		if _, err := io.WriteString(wr, p.content); err != nil {
			b.t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		b.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, b.app.HTTP.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// uploadExtract sends the data page's upload form: the token, the format
// and the key, then the file.
func (b *browser) uploadExtract(path, format, name, content string) response {
	b.t.Helper()
	return b.uploadParts(path, multipartPart{name: "_csrf", content: b.csrf()}, multipartPart{name: "format", content: format},
		multipartPart{name: "key_attribute"}, multipartPart{name: "file", filename: name, content: content, file: true})
}

// mustStage uploads an extract through the form, waits for the job that
// stages it to succeed, and opens the data page the upload led to.
func (w *dataWorld) mustStage(t *testing.T, name, content string) response {
	t.Helper()
	res := w.asEngineer.uploadExtract(w.uploadPath(), "", name, content)
	to := w.path("/data") + fmt.Sprintf("#source-%d", w.src.ID)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != to {
		t.Fatalf("upload of %s: %d to %q, want 303 to %s: %.500s", name, res.StatusCode, res.Header.Get("Location"), to, res.Body)
	}
	if j := w.app.waitStaging(w.p.ID, w.src.ID); j.Status != jobs.StatusSucceeded {
		t.Fatalf("the staging of %s did not succeed: %+v", name, j)
	}
	return w.asEngineer.get(to)
}

// mustValidate validates through the form, the clock a minute later than
// the staging, waits for the validation job to succeed, and opens the
// quality page the button led to.
func (w *dataWorld) mustValidate(t *testing.T) response {
	t.Helper()
	w.app.Clock.Advance(time.Minute)
	res := w.asEngineer.post(w.path("/data/validate"), url.Values{})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != w.path("/quality") {
		t.Fatalf("validate: %d to %q: %.500s", res.StatusCode, res.Header.Get("Location"), res.Body)
	}
	if j := w.app.waitValidation(w.p.ID); j.Status != jobs.StatusSucceeded {
		t.Fatalf("the validation did not succeed: %+v", j)
	}
	return w.asEngineer.get(w.path("/quality"))
}

func (w *dataWorld) extracts(t *testing.T) []staging.Extract {
	t.Helper()
	all, err := w.app.Staging.FindExtracts(context.Background(), w.p.ID, w.src.ID)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func (w *dataWorld) current(t *testing.T) *staging.Extract {
	t.Helper()
	ex, err := w.app.Staging.CurrentExtract(context.Background(), w.p.ID, w.src.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func (w *dataWorld) records(t *testing.T) []staging.StagedRecord {
	t.Helper()
	ex := w.current(t)
	if ex == nil {
		t.Fatal("no current extract")
	}
	recs, err := w.app.Staging.FindRecords(context.Background(), ex.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func (w *dataWorld) recordWithKey(t *testing.T, key string) staging.StagedRecord {
	t.Helper()
	for _, r := range w.records(t) {
		if r.SourceKey == strings.ToLower(key) {
			return r
		}
	}
	t.Fatalf("no record with key %s", key)
	return staging.StagedRecord{}
}

func text(s *goquery.Selection) string { return strings.Join(strings.Fields(s.Text()), " ") }

// navMark is the status mark of a navigation entry.
func navMark(t *testing.T, res response, section string) string {
	t.Helper()
	cls, _ := res.doc(t).Find(fmt.Sprintf(`nav.side a[href$="/%s"] .mark`, section)).Attr("class")
	return strings.TrimSpace(strings.TrimPrefix(cls, "mark"))
}

func TestDataPagesSayWhatTheyAreForBeforeAnythingIsStaged(t *testing.T) {
	t.Run("without a source", func(t *testing.T) {
		app := newTestApp(t)
		lead := app.mustAccount("lead@example.com", "Lea Lead", false)
		p := app.mustProject(lead, "Empty Co")
		res := app.signedIn(lead).get(projectPath(p, "/data"))
		empty := res.doc(t).Find(".panel.empty")
		if res.StatusCode != http.StatusOK || text(empty.Find("h2")) != "No source systems yet" {
			t.Fatalf("%d: empty state %q", res.StatusCode, text(empty))
		}
		if href, _ := empty.Find("a.btn.primary").Attr("href"); href != projectPath(p, "/sources/new") {
			t.Errorf("call to action %q", href)
		}
	})
	w := newDataWorld(t, web.Options{})
	res := w.asEngineer.get(w.path("/data"))
	doc := res.doc(t)
	empty := doc.Find(".panel.empty")
	if text(empty.Find("h2")) != "No extracts staged yet" || !strings.Contains(text(empty), "LDIF export of Active Directory") {
		t.Fatalf("empty state %q", text(empty))
	}
	cta, _ := empty.Find("a.btn.primary").Attr("href")
	if cta != fmt.Sprintf("#upload-%d-form", w.src.ID) || doc.Find(fmt.Sprintf("form#upload-%d-form", w.src.ID)).Length() != 1 {
		t.Errorf("the first step %q does not lead to the upload form", cta)
	}
	if doc.Find("#validate").Length() != 0 {
		t.Error("nothing is staged, yet the page offers to validate")
	}
	if got := navMark(t, res, "data"); got != "not_started" {
		t.Errorf("the Data entry's mark is %q, want not_started", got)
	}
	res = w.asViewer.get(w.path("/data"))
	if doc := res.doc(t); doc.Find(".panel.empty a.btn.primary").Length() != 0 || doc.Find("form[data-upload]").Length() != 0 {
		t.Error("a viewer is offered the upload")
	}
	res = w.asEngineer.get(w.path("/quality"))
	if got := text(res.doc(t).Find(".panel.empty h2")); res.StatusCode != http.StatusOK || got != "Not validated yet" {
		t.Errorf("quality page: %d %q", res.StatusCode, got)
	}
	if href, _ := res.doc(t).Find(".panel.empty a.btn.primary").Attr("href"); href != w.path("/data") {
		t.Errorf("the quality page's first step is %q", href)
	}
	if got := text(res.doc(t).Find("#tasks .empty h3")); got != "No remediation tasks yet" {
		t.Errorf("tasks empty state %q", got)
	}
	// Validating nothing says so.
	res = w.asEngineer.post(w.path("/data/validate"), url.Values{})
	if res = wantRedirect(t, w.asEngineer, res, w.path("/data")); !strings.Contains(res.Body, "Nothing to validate") {
		t.Error("validating without an extract does not say why nothing happened")
	}
}

func TestAnEngineerStagesAnExtractAndSeesItsSummary(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	res := w.mustStage(t, "hr.csv", hrCSV)
	if got := flashText(t, res); !strings.HasPrefix(got, fmt.Sprintf("Uploaded hr.csv (%d bytes): job ", len(hrCSV))) {
		t.Errorf("flash %q", got)
	}
	if got := sourceJobMessage(t, res, w.src.ID); got != "Staged hr.csv: 4 record(s) from HR export. Validate the data to see its issues." {
		t.Errorf("the staging job's message %q", got)
	}
	sum := sha256.Sum256([]byte(hrCSV))
	ex := w.current(t)
	if ex == nil || ex.Records != 4 || ex.SizeBytes != int64(len(hrCSV)) || ex.Checksum != hex.EncodeToString(sum[:]) || ex.Format != "csv" ||
		ex.KeyAttribute != "employeeID" || ex.CreatedByName != "Eve Engineer <engineer@example.com>" {
		t.Fatalf("extract = %+v", ex)
	}
	doc := res.doc(t)
	section := doc.Find(fmt.Sprintf("#source-%d", w.src.ID))
	summary := text(section.Find("dl.extract-summary"))
	for _, want := range []string{"hr.csv", "csv", fmt.Sprintf("%d bytes", len(hrCSV)), hex.EncodeToString(sum[:])[:12], "employeeID", "Eve Engineer"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary %q lacks %q", summary, want)
		}
	}
	if got := text(section.Find(".extract-records")) + "/" + text(section.Find(".extract-quarantined")); got != "4/0" {
		t.Errorf("records/quarantined = %s, want 4/0", got)
	}
	if got := text(section.Find("table.history tbody tr")); !strings.Contains(got, "current") || !strings.Contains(got, "hr.csv") {
		t.Errorf("history %q", got)
	}
	if doc.Find("#validate").Length() != 1 {
		t.Error("the page does not offer to validate the staged data")
	}
	if got := navMark(t, res, "data"); got != "attention" {
		t.Errorf("the Data entry's mark is %q after staging, want attention", got)
	}

	// The page's script uploads with a progress bar: it is told where to go.
	req, _ := http.NewRequest(http.MethodPost, w.app.HTTP.URL+w.uploadPath(), strings.NewReader(""))
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("_csrf", w.asEngineer.csrf())
	fw, _ := mw.CreateFormFile("file", "hr.csv")
	_, _ = io.WriteString(fw, hrCSV)
	_ = mw.Close()
	req.Body, req.ContentLength = io.NopCloser(&body), int64(body.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-Requested-With", "fetch")
	res = w.asEngineer.do(req)
	if res.StatusCode != http.StatusNoContent || res.Header.Get("X-Ferry-Location") != w.path("/data")+fmt.Sprintf("#source-%d", w.src.ID) {
		t.Errorf("an upload from the page's script: %d, X-Ferry-Location %q", res.StatusCode, res.Header.Get("X-Ferry-Location"))
	}
	if got := flashText(t, w.asEngineer.get(w.path("/data"))); !strings.Contains(got, "Uploaded hr.csv") {
		t.Errorf("the flash after a scripted upload: %q", got)
	}
	w.app.waitStaging(w.p.ID, w.src.ID)

	// A ragged row is quarantined with its line; the rest is staged and replaces the current extract.
	ragged := hrCSV + "E5,too,many,fields,here,really\r\n"
	for i := 6; i <= 120; i++ {
		ragged += fmt.Sprintf("E%d,p%d@example.com,P,Q,DE\r\n", i, i)
	}
	res = w.mustStage(t, "hr-2.csv", ragged)
	section = res.doc(t).Find(fmt.Sprintf("#source-%d", w.src.ID))
	if got := text(section.Find("table.quarantine tbody tr")); !strings.Contains(got, "6 ") || !strings.Contains(got, "6 fields where the header has 5") {
		t.Errorf("quarantined rows %q", got)
	}
	if got := text(section.Find("table.history tbody")); strings.Count(got, "replaced") != 2 || !strings.Contains(got, "current") {
		t.Errorf("history after a second extract %q", got)
	}
	if n := w.current(t).Records; n != 119 {
		t.Errorf("%d records, want 119", n)
	}

	// A record key chosen in the form, spelled as one likes.
	res = w.asEngineer.uploadParts(w.uploadPath(), multipartPart{name: "_csrf", content: w.asEngineer.csrf()},
		multipartPart{name: "format", content: "csv"}, multipartPart{name: "key_attribute", content: "MAIL"},
		multipartPart{name: "file", filename: "hr.csv", content: hrCSV, file: true})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("staging with the key MAIL: %d", res.StatusCode)
	}
	if j := w.app.waitStaging(w.p.ID, w.src.ID); j.Status != jobs.StatusSucceeded || w.current(t).KeyAttribute != "mail" {
		t.Errorf("staging with the key MAIL: %+v, key %q", j, w.current(t).KeyAttribute)
	}
}

func TestARefusedUploadStagesNothingAndSaysWhyNextToTheFile(t *testing.T) {
	w := newDataWorld(t, web.Options{MaxExtractBytes: 2048})
	w.mustStage(t, "hr.csv", hrCSV)
	first := w.current(t)
	fileError := func(res response) string {
		return text(res.doc(t).Find(fmt.Sprintf("#upload-%d-file-error", w.src.ID)))
	}
	big := "employeeID,mail\r\n" + strings.Repeat("E0,someone@example.com\r\n", 200)
	tests := []struct {
		name  string
		send  func(b *browser) response
		field string // the field the message is next to
		want  string
		// job says that the upload is accepted and its staging job fails
		// with want: what only reading the whole file can find.
		job bool
	}{
		{"no file chosen", func(b *browser) response {
			return b.uploadParts(w.uploadPath(), multipartPart{name: "_csrf", content: b.csrf()}, multipartPart{name: "format"},
				multipartPart{name: "file", filename: "", file: true})
		}, "file", "Choose an extract file to upload.", false},
		{"no file part at all", func(b *browser) response {
			return b.uploadParts(w.uploadPath(), multipartPart{name: "_csrf", content: b.csrf()})
		}, "file", "Choose an extract file to upload.", false},
		{"not a multipart form", func(b *browser) response { return b.post(w.uploadPath(), url.Values{"format": {"csv"}}) }, "file", "Choose an extract file", false},
		{"a file over the limit", func(b *browser) response { return b.uploadExtract(w.uploadPath(), "", "big.csv", big) }, "file",
			"The file is larger than 2 KB", false},
		{"a request far over the limit, refused before it is read", func(b *browser) response {
			return b.uploadExtract(w.uploadPath(), "", "huge.csv", "employeeID\r\n"+strings.Repeat("E0\r\n", 40<<10))
		}, "file", "The file is larger than 2 KB", false},
		{"an unterminated quote", func(b *browser) response {
			return b.uploadExtract(w.uploadPath(), "", "broken.csv", "employeeID,mail\r\nE1,ada@example.com\r\nE2,\"grace@example.com\r\nE3,x@example.com\r\n")
		}, "file", "The extract cannot be staged; nothing was changed: line 3: a quoted field starts here and is never closed", true},
		{"a broken first record", func(b *browser) response {
			return b.uploadExtract(w.uploadPath(), "", "broken.csv", "employeeID,mail\r\nE2,\"grace@example.com\r\n")
		}, "file", "line 2: a quoted field starts here and is never closed", false},
		{"an empty file", func(b *browser) response { return b.uploadExtract(w.uploadPath(), "", "empty.csv", "") }, "file", "empty", false},
		{"a CSV forced to be read as LDIF", func(b *browser) response { return b.uploadExtract(w.uploadPath(), "ldif", "hr.csv", hrCSV) }, "file",
			"cannot be", false},
		{"an unknown format", func(b *browser) response { return b.uploadExtract(w.uploadPath(), "xml", "hr.xml", "<users/>") }, "format",
			"Choose one of the formats listed.", false},
		{"a record key that is not a column", func(b *browser) response {
			return b.uploadParts(w.uploadPath(), multipartPart{name: "_csrf", content: b.csrf()}, multipartPart{name: "key_attribute", content: "objectGUID"},
				multipartPart{name: "file", filename: "hr.csv", content: hrCSV, file: true})
		}, "key_attribute", `The file has no column "objectGUID"; its columns are employeeID, mail, givenName, sn, c.`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(w.extracts(t))
			res := tt.send(w.asEngineer)
			if tt.job {
				if res.StatusCode != http.StatusSeeOther {
					t.Fatalf("status %d, want 303 (accepted): %.300s", res.StatusCode, res.Body)
				}
				j := w.app.waitStaging(w.p.ID, w.src.ID)
				if j.Status != jobs.StatusFailed || !strings.Contains(j.Error, tt.want) {
					t.Errorf("the staging job %+v, want failed with %q", j, tt.want)
				}
				page := w.asEngineer.get(w.path("/data"))
				panel := page.doc(t).Find(fmt.Sprintf("#source-%d .job", w.src.ID))
				if got := text(panel); !strings.Contains(got, "failed") || !strings.Contains(got, tt.want) {
					t.Errorf("the data page says of the job: %q", got)
				}
				if cur := w.current(t); cur == nil || cur.ID != first.ID || cur.Records != 4 {
					t.Errorf("the current extract changed: %+v", cur)
				}
				return
			}
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %.300s", res.StatusCode, res.Body)
			}
			msg := fileError(res)
			if tt.field != "file" {
				msg = text(res.doc(t).Find(fmt.Sprintf("#upload-%d-%s-error", w.src.ID, tt.field)))
			}
			if !strings.Contains(msg, tt.want) {
				t.Errorf("message next to the %s: %q, want %q", tt.field, msg, tt.want)
			}
			if got := text(res.doc(t).Find(fmt.Sprintf("#upload-%d-form .flash.error", w.src.ID))); got != "The extract was not staged; nothing was changed." {
				t.Errorf("form message %q", got)
			}
			if cur := w.current(t); cur == nil || cur.ID != first.ID || cur.Records != 4 {
				t.Errorf("the current extract changed: %+v", cur)
			}
			for _, ex := range w.extracts(t)[:len(w.extracts(t))-before] {
				if ex.Status != staging.StatusFailed {
					t.Errorf("a refused upload left extract %+v", ex)
				}
			}
		})
	}
	// A refused file read by the stager is in the history, failed, with its reason.
	res := w.asEngineer.get(w.path("/data"))
	var failed []string
	res.doc(t).Find("table.history tbody tr").Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "failed") {
			failed = append(failed, text(s))
		}
	})
	if len(failed) == 0 || !strings.Contains(strings.Join(failed, " | "), "line 3") {
		t.Errorf("failed extracts in the history: %q", failed)
	}

	t.Run("the CSRF token is checked before the file is read", func(t *testing.T) {
		before := len(w.extracts(t))
		for name, res := range map[string]response{
			"no token": w.asEngineer.uploadParts(w.uploadPath(), multipartPart{name: "file", filename: "hr.csv", content: hrCSV, file: true}),
			"forged": w.asEngineer.uploadParts(w.uploadPath(), multipartPart{name: "_csrf", content: "forged-token-value"},
				multipartPart{name: "file", filename: "hr.csv", content: hrCSV, file: true}),
			"token after the file": w.asEngineer.uploadParts(w.uploadPath(), multipartPart{name: "file", filename: "hr.csv", content: hrCSV, file: true},
				multipartPart{name: "_csrf", content: w.asEngineer.csrf()}),
		} {
			wantErrorPage(t, res, http.StatusForbidden)
			if !strings.Contains(res.Body, "Your form expired or came from another site") {
				t.Errorf("%s: not the CSRF refusal", name)
			}
		}
		if after := len(w.extracts(t)); after != before {
			t.Errorf("%d extracts recorded by forged uploads", after-before)
		}
	})
}

func TestAViewerCannotStageValidateOrExclude(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	w.mustStage(t, "hr.csv", hrCSV)
	rec := w.recordWithKey(t, "E2")
	before := len(w.extracts(t))
	for name, res := range map[string]response{
		"upload":          w.asViewer.uploadExtract(w.uploadPath(), "", "hr.csv", hrCSV),
		"validate":        w.asViewer.post(w.path("/data/validate"), url.Values{}),
		"exclude (page)":  w.asViewer.get(w.path(fmt.Sprintf("/data/records/%d/exclude", rec.ID))),
		"exclude":         w.asViewer.post(w.path(fmt.Sprintf("/data/records/%d/exclude", rec.ID)), url.Values{"exclude": {"true"}, "reason": {"x"}, "version": {"1"}}),
		"create a task":   w.asViewer.post(w.path("/quality/tasks"), url.Values{"title": {"x"}}),
		"upload (legal)":  w.app.signedIn(w.legal).uploadExtract(w.uploadPath(), "", "hr.csv", hrCSV),
		"exclude (legal)": w.app.signedIn(w.legal).post(w.path(fmt.Sprintf("/data/records/%d/exclude", rec.ID)), url.Values{"exclude": {"true"}, "reason": {"x"}, "version": {"1"}}),
	} {
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, res.StatusCode)
		}
	}
	if after := len(w.extracts(t)); after != before {
		t.Error("a viewer's upload was staged")
	}
	if got := w.recordWithKey(t, "E2"); got.Excluded || got.Version != rec.Version {
		t.Error("a viewer's exclusion was stored")
	}
	res := w.asViewer.get(w.path("/data/records"))
	if doc := res.doc(t); doc.Find("#records a[href$=\"/exclude\"]").Length() != 0 {
		t.Error("a viewer is offered to exclude records")
	}
}

func TestPersonalDataInRecordsIsMaskedForRolesThatDoNotSeeIt(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	w.mustStage(t, "hr.csv", hrCSV)
	rowOf := func(b *browser) string {
		t.Helper()
		res := b.get(w.path("/data/records"))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("records page: %d", res.StatusCode)
		}
		return text(res.doc(t).Find("#records tbody tr").First())
	}
	for _, tt := range []struct {
		name   string
		b      *browser
		masked bool
	}{
		{"engineer", w.asEngineer, false},
		{"project lead", w.asLead, false},
		{"viewer", w.asViewer, true},
		{"legal reviewer", w.app.signedIn(w.legal), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			row := rowOf(tt.b)
			if !strings.Contains(row, "Ada") || !strings.Contains(row, "Lovelace") {
				t.Errorf("row %q lacks the values that are not personal data", row)
			}
			if got := strings.Contains(row, "ada@example.com"); got == tt.masked {
				t.Errorf("row %q: mail shown unmasked = %v, want %v", row, got, !tt.masked)
			}
			if tt.masked && !strings.Contains(row, "a**@e******.***") {
				t.Errorf("row %q lacks the masked mail", row)
			}
		})
	}
	// The invalid records export masks the same way.
	w.mustValidate(t)
	export := func(b *browser) string {
		res := b.get(w.path(fmt.Sprintf("/quality/invalid.csv?source=%d", w.src.ID)))
		if res.StatusCode != http.StatusOK {
			t.Fatalf("invalid.csv: %d %.200s", res.StatusCode, res.Body)
		}
		return res.Body
	}
	if got := export(w.asViewer); strings.Contains(got, "alan@example.com") || !strings.Contains(got, "a***@e******.***") {
		t.Errorf("a viewer's export: %q", got)
	}
	if got := export(w.asEngineer); !strings.Contains(got, "alan@example.com") {
		t.Errorf("an engineer's export: %q", got)
	}
}

func TestValidationShowsTheIssuesAndAnExclusionChangesTheCounts(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	w.mustStage(t, "hr.csv", hrCSV)
	res := w.mustValidate(t)
	if got := validationJobMessage(t, res); got != "Validated 4 record(s): 1 valid, 3 invalid, 0 excluded; 4 issue occurrence(s)." {
		t.Errorf("the validation job's message %q", got)
	}
	doc := res.doc(t)
	total := func(doc *goquery.Document, id string) string { return text(doc.Find("#total-" + id + " .total-value")) }
	for id, want := range map[string]string{"records": "4", "valid": "1", "invalid": "3", "excluded": "0"} {
		if got := total(doc, id); got != want {
			t.Errorf("total %s = %q, want %s", id, got, want)
		}
	}
	if got := text(doc.Find("#total-invalid .trend")); got != "first validation" {
		t.Errorf("trend of the first run %q", got)
	}
	// The charts: one bar per issue type, source and attribute, with its count.
	bars := func(doc *goquery.Document, chart string) map[string]string {
		out := map[string]string{}
		doc.Find("#" + chart + " g.bar").Each(func(_ int, s *goquery.Selection) {
			out[text(s.Find("text.bar-label"))] = s.Find("text.bar-count").AttrOr("data-count", "")
		})
		return out
	}
	wantTypes := map[string]string{"Login is not an email": "1", "Malformed email": "1", "Required value missing": "1", "Country code not ISO 3166": "1"}
	if got := bars(doc, "chart-type"); fmt.Sprint(got) != fmt.Sprint(wantTypes) {
		t.Errorf("issue-type chart %v, want %v", got, wantTypes)
	}
	if got := bars(doc, "chart-source"); got["HR export"] != "4" {
		t.Errorf("source chart %v", got)
	}
	if got := bars(doc, "chart-attribute"); got["lastName"] != "1" || got["countryCode"] != "1" || got["email"] != "1" || got["login"] != "1" {
		t.Errorf("attribute chart %v", got)
	}
	doc.Find("svg rect").Each(func(_ int, s *goquery.Selection) {
		if _, ok := s.Attr("style"); ok {
			t.Error("a chart uses an inline style")
		}
	})
	// The catalog explains each issue found and how to fix it.
	catalog := text(doc.Find("#issue-bad_country_code"))
	if !strings.Contains(catalog, quality.TypeOf(quality.IssueBadCountryCode).Description) || !strings.Contains(catalog, "country_alpha2") {
		t.Errorf("catalog entry %q", catalog)
	}
	if n := doc.Find("#occurrence-table tbody tr").Length(); n != 4 {
		t.Errorf("%d occurrences listed, want 4", n)
	}
	if got := navMark(t, res, "data"); got != "attention" {
		t.Errorf("Data mark with invalid records: %q", got)
	}

	// Filter the occurrences by type.
	res = w.asEngineer.get(w.path("/quality?code=bad_country_code"))
	rows := res.doc(t).Find("#occurrence-table tbody tr")
	if rows.Length() != 1 || !strings.Contains(text(rows), "countryCode") || !strings.Contains(text(rows), "Country code not ISO 3166") {
		t.Fatalf("filtered occurrences: %q", text(rows))
	}

	// Exclude E2 (the malformed email) through the confirmation page.
	rec := w.recordWithKey(t, "E2")
	confirmPath := w.path(fmt.Sprintf("/data/records/%d/exclude", rec.ID))
	if href, _ := res.doc(t).Find(`#occurrence-table a[href$="/exclude"]`).First().Attr("href"); href != w.path(fmt.Sprintf("/data/records/%d/exclude", w.recordWithKey(t, "E4").ID)) {
		t.Errorf("an occurrence links %q, not the exclusion of its record", href)
	}
	res = w.asEngineer.get(confirmPath)
	if res.StatusCode != http.StatusOK || text(res.doc(t).Find("h1")) != "Exclude the record on line 3 (E2)?" {
		t.Fatalf("confirmation: %d %q", res.StatusCode, text(res.doc(t).Find("h1")))
	}
	if got := text(res.doc(t).Find("table.record-detail")); !strings.Contains(got, "not-an-email") || !strings.Contains(got, "Grace") {
		t.Errorf("the confirmation does not show the record: %q", got)
	}
	form := formOf(t, res, confirmPath)
	if form.Get("version") != "1" || form.Get("exclude") != "true" {
		t.Fatalf("confirmation form %v", form)
	}
	// Without a reason: refused next to the field.
	form.Set("reason", "  ")
	res = w.asEngineer.post(confirmPath, form)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, res, "reason"), "Reason") {
		t.Fatalf("no reason: %d %q", res.StatusCode, fieldError(t, res, "reason"))
	}
	// With a stale version: a conflict, the reason kept.
	form.Set("reason", "A test account.")
	form.Set("version", "7")
	res = w.asEngineer.post(confirmPath, form)
	if res.StatusCode != http.StatusConflict || res.doc(t).Find("#f-reason").AttrOr("value", "") != "A test account." {
		t.Fatalf("stale version: %d, reason kept %q", res.StatusCode, res.doc(t).Find("#f-reason").AttrOr("value", ""))
	}
	form.Set("version", "1")
	res = w.asEngineer.post(confirmPath, form)
	res = wantRedirect(t, w.asEngineer, res, w.path(fmt.Sprintf("/data/records?after=%d&extract=%d#record-%d", rec.ID-1, rec.ExtractID, rec.ID)))
	if got := flashText(t, res); !strings.Contains(got, "The record on line 3 is excluded") {
		t.Errorf("flash %q", got)
	}
	if got := text(res.doc(t).Find(fmt.Sprintf("#record-%d", rec.ID))); !strings.Contains(got, "excluded") || !strings.Contains(got, "A test account.") {
		t.Errorf("the record's row %q", got)
	}
	if got := w.recordWithKey(t, "E2"); !got.Excluded || got.ExcludeReason != "A test account." {
		t.Fatalf("stored record %+v", got)
	}

	// Validate again: the counts change, with their trend.
	res = w.mustValidate(t)
	doc = res.doc(t)
	for id, want := range map[string]string{"records": "4", "valid": "1", "invalid": "2", "excluded": "1"} {
		if got := total(doc, id); got != want {
			t.Errorf("after the exclusion, total %s = %q, want %s", id, got, want)
		}
	}
	if got := text(doc.Find("#total-invalid .trend")); got != "▼ 1 since the previous run" {
		t.Errorf("invalid trend %q", got)
	}
	if cls := doc.Find("#total-invalid .trend").AttrOr("class", ""); !strings.Contains(cls, "good") {
		t.Errorf("fewer invalid records is good news, class %q", cls)
	}
	if got := text(doc.Find("#issue-bad_email .issue-count")); got != "0" {
		t.Errorf("the malformed email is gone but the catalog says %q", got)
	}

	// Include it again.
	res = w.asEngineer.get(confirmPath)
	if text(res.doc(t).Find("h1")) != "Include the record on line 3 (E2) again?" {
		t.Errorf("heading %q", text(res.doc(t).Find("h1")))
	}
	res = w.asEngineer.post(confirmPath, formOf(t, res, confirmPath))
	if res.StatusCode != http.StatusSeeOther || w.recordWithKey(t, "E2").Excluded {
		t.Fatalf("include again: %d", res.StatusCode)
	}

	// Staging a clean extract and validating it completes the readiness item.
	w.app.Clock.Advance(time.Minute)
	w.mustStage(t, "hr-fixed.csv", "employeeID,mail,givenName,sn,c\r\nE1,ada@example.com,Ada,Lovelace,GB\r\n")
	res = w.mustValidate(t)
	if got := navMark(t, res, "data"); got != "done" {
		t.Errorf("Data mark after clean data: %q", got)
	}
	if res := w.asEngineer.get(w.path("")); !strings.Contains(text(res.doc(t).Find("ul.checklist")), "Data staged and validated, no blocking issue open") {
		t.Error("the overview's checklist lacks the data item")
	}
}

func TestOccurrencesAndRecordsPageByKeyset(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	var b strings.Builder
	b.WriteString("employeeID,mail,givenName,sn,c\n")
	for i := 1; i <= 130; i++ {
		fmt.Fprintf(&b, "E%03d,person%d@example.com,P,Q,Nowhere\n", i, i) // every country is wrong
	}
	w.mustStage(t, "many.csv", b.String())
	w.mustValidate(t)

	res := w.asViewer.get(w.path("/quality"))
	rows := res.doc(t).Find("#occurrence-table tbody tr")
	next, ok := res.doc(t).Find(`#occurrences a[rel=next]`).Attr("href")
	if rows.Length() != 100 || !ok {
		t.Fatalf("first page: %d rows, next %q", rows.Length(), next)
	}
	if strings.Contains(res.Body, "Exclude…") {
		t.Error("a viewer is offered to exclude")
	}
	res = w.asViewer.get(next)
	if n := res.doc(t).Find("#occurrence-table tbody tr").Length(); n != 30 || res.doc(t).Find(`#occurrences a[rel=next]`).Length() != 0 {
		t.Errorf("second page: %d rows", n)
	}
	if first := text(res.doc(t).Find("#occurrence-table tbody tr").First()); !strings.Contains(first, "102") { // line 102: the 101st record
		t.Errorf("the second page starts with %q", first)
	}

	res = w.asViewer.get(w.path("/data/records"))
	if n := res.doc(t).Find("#records tbody tr").Length(); n != 50 {
		t.Fatalf("records page: %d rows", n)
	}
	pages := 1
	for {
		href, ok := res.doc(t).Find(`a[rel=next]`).Attr("href")
		if !ok {
			break
		}
		res = w.asViewer.get(href)
		pages++
		if pages > 5 {
			t.Fatal("the records pages never end")
		}
	}
	if n := res.doc(t).Find("#records tbody tr").Length(); pages != 3 || n != 30 {
		t.Errorf("%d pages, the last with %d rows; want 3 pages, 30 on the last", pages, n)
	}
	for _, bad := range []string{"/data/records?extract=999999", "/data/records?extract=abc", "/data/records/999999/exclude"} {
		if res := w.asEngineer.get(w.path(bad)); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, res.StatusCode)
		}
	}
	// Another project's extract is not found either.
	other := w.app.mustProject(w.engineer, "Other")
	if res := w.asEngineer.get(projectPath(other, fmt.Sprintf("/data/records?extract=%d", w.current(t).ID))); res.StatusCode != http.StatusNotFound {
		t.Errorf("another project's extract: %d", res.StatusCode)
	}
}

func TestQualityExportsAreSpreadsheetsInTheExtractsColumns(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	if res := w.asEngineer.get(w.path("/quality/occurrences.csv")); res.StatusCode != http.StatusNotFound {
		t.Errorf("occurrences before any validation: %d, want 404", res.StatusCode)
	}
	w.mustStage(t, "hr.csv", hrCSV)
	w.mustValidate(t)
	read := func(res response) sheet.Table {
		t.Helper()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		tbl, err := sheet.Read(strings.NewReader(res.Body), "x.csv", 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		return tbl
	}
	occ := read(w.asViewer.get(w.path("/quality/occurrences.csv")))
	if strings.Join(occ.Header, ",") != "Source,Line,Record ID,Issue code,Issue,Severity,Attribute,Value,Message" || len(occ.Rows) != 4 {
		t.Fatalf("occurrences: %v, %d rows", occ.Header, len(occ.Rows))
	}
	filtered := read(w.asViewer.get(w.path("/quality/occurrences.csv?code=required_missing")))
	if len(filtered.Rows) != 1 || filtered.Rows[0][1] != "4" || filtered.Rows[0][6] != "lastName" {
		t.Errorf("filtered occurrences %v", filtered.Rows)
	}
	res := w.asEngineer.get(w.path(fmt.Sprintf("/quality/invalid.csv?source=%d", w.src.ID)))
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "acme-hr-export-invalid-records.csv") {
		t.Errorf("Content-Disposition %q", cd)
	}
	inv := read(res)
	if strings.Join(inv.Header, ",") != "employeeID,mail,givenName,sn,c" || len(inv.Rows) != 3 {
		t.Fatalf("invalid records: %v %v", inv.Header, inv.Rows)
	}
	var ids []string
	for _, r := range inv.Rows {
		ids = append(ids, r[0])
	}
	if strings.Join(ids, ",") != "E2,E3,E4" {
		t.Errorf("invalid records %v, want E2, E3 and E4", ids)
	}
	for _, bad := range []string{"/quality/invalid.csv", "/quality/invalid.csv?source=999999", "/quality/invalid.csv?source=x"} {
		if res := w.asEngineer.get(w.path(bad)); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, res.StatusCode)
		}
	}
}

func TestRemediationTasksAreAssignedAndTracked(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	w.mustStage(t, "hr.csv", hrCSV)
	w.mustValidate(t)

	// The catalog's "Create a task" fills the form for the issue type.
	res := w.asEngineer.get(w.path("/quality?code=bad_country_code"))
	form := formOf(t, res, w.path("/quality/tasks"))
	if form.Get("issue_code") != "bad_country_code" || form.Get("title") != "Fix: Country code not ISO 3166" || form.Get("filter_code") != "bad_country_code" {
		t.Fatalf("prefilled task form %v", form)
	}
	if opts := text(res.doc(t).Find("#f-assignee_id")); !strings.Contains(opts, "Eve Engineer") || !strings.Contains(opts, "Vic Viewer") {
		t.Errorf("assignees offered: %q", opts)
	}

	bad := []struct {
		name, field, value, want string
	}{
		{"no title", "title", "", "Title"},
		{"an assignee who is not a member", "assignee_id", fmt.Sprint(w.app.mustAccount("stranger@example.com", "Stan Stranger", false).ID), "member of the project"},
		{"an assignee that is not a number", "assignee_id", "someone", "Assignee must be a whole number"},
		{"a due date that is not a date", "due_date", "next Friday", "calendar date"},
		{"an issue type not in the catalog", "issue_code", "made_up", "catalog"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("assignee_id", fmt.Sprint(w.viewer.ID))
			f.Set(tt.field, tt.value)
			res := w.asEngineer.post(w.path("/quality/tasks"), f)
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, res, tt.field), tt.want) {
				t.Fatalf("%d, message %q, want %q", res.StatusCode, fieldError(t, res, tt.field), tt.want)
			}
			tasks, _ := w.app.Quality.FindTasks(context.Background(), w.p.ID)
			if len(tasks) != 0 {
				t.Fatal("a refused task was stored")
			}
		})
	}

	// A task for the filtered occurrences' records, assigned with a due date.
	form.Set("records", "filtered")
	form.Set("assignee_id", fmt.Sprint(w.viewer.ID))
	form.Set("due_date", "2026-04-15")
	form.Set("notes", "Ask HR to use ISO codes.")
	res = w.asEngineer.post(w.path("/quality/tasks"), form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d %.300s", res.StatusCode, res.Body)
	}
	res = w.asEngineer.get(res.Header.Get("Location"))
	if got := flashText(t, res); got != `Task "Fix: Country code not ISO 3166" created for 1 record(s).` {
		t.Errorf("flash %q", got)
	}
	tasks, err := w.app.Quality.FindTasks(context.Background(), w.p.ID)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("tasks %v %v", tasks, err)
	}
	task := tasks[0]
	if task.IssueCode != "bad_country_code" || len(task.RecordIDs) != 1 || task.RecordIDs[0] != w.recordWithKey(t, "E4").ID || *task.AssigneeID != w.viewer.ID ||
		task.DueDate != "2026-04-15" {
		t.Fatalf("task %+v", task)
	}
	row := text(res.doc(t).Find(fmt.Sprintf("#task-%d", task.ID)))
	for _, want := range []string{"Fix: Country code not ISO 3166", "Vic Viewer", "2026-04-15", "Ask HR to use ISO codes."} {
		if !strings.Contains(row, want) {
			t.Errorf("task row %q lacks %q", row, want)
		}
	}

	// The status changes with the version the page was loaded with.
	action := w.path(fmt.Sprintf("/quality/tasks/%d", task.ID))
	status := formOf(t, res, action)
	status.Set("status", "in_progress")
	res = w.asEngineer.post(action, status)
	res = wantRedirect(t, w.asEngineer, res, w.path(fmt.Sprintf("/quality#task-%d", task.ID)))
	if got := flashText(t, res); got != `Task "Fix: Country code not ISO 3166": in progress.` {
		t.Errorf("flash %q", got)
	}
	status.Set("status", "done") // the version of the first save: stale now
	res = w.asEngineer.post(action, status)
	if res.StatusCode != http.StatusConflict || !strings.Contains(text(res.doc(t).Find(fmt.Sprintf("#task-%d .error", task.ID))), "changed") {
		t.Fatalf("stale status save: %d %q", res.StatusCode, text(res.doc(t).Find(fmt.Sprintf("#task-%d", task.ID))))
	}
	status = formOf(t, res, action)
	if status.Get("status") != "done" {
		t.Errorf("the status chosen was lost: %v", status)
	}
	res = w.asEngineer.post(action, status)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save again: %d", res.StatusCode)
	}
	status.Set("status", "lost")
	status.Set("version", "3")
	if res := w.asEngineer.post(action, status); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("an unknown status: %d", res.StatusCode)
	}
	if res := w.asEngineer.post(w.path("/quality/tasks/999999"), status); res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown task: %d", res.StatusCode)
	}
	// A viewer sees the status, without the form.
	res = w.asViewer.get(w.path("/quality"))
	if got := text(res.doc(t).Find(fmt.Sprintf("#task-%d", task.ID))); !strings.Contains(got, "Done") || res.doc(t).Find("#new-task").Length() != 0 {
		t.Errorf("viewer's task row %q", got)
	}
}

func TestAnotherProjectsDataIsNotFound(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	w.mustStage(t, "hr.csv", hrCSV)
	w.mustValidate(t)
	task, err := w.app.Quality.CreateTask(asActor(w.engineer), w.p.ID, w.app.Auth, quality.TaskInput{Title: pval("Fix it")})
	if err != nil {
		t.Fatal(err)
	}
	rec := w.recordWithKey(t, "E2")
	other := w.app.mustProject(w.lead, "Globex")
	w.app.mustMember(other, w.engineer, auth.RoleEngineer)
	in := func(rest string, id int64) string { return projectPath(other, fmt.Sprintf(rest, id)) }
	for name, res := range map[string]response{
		"confirm excluding its record": w.asEngineer.get(in("/data/records/%d/exclude", rec.ID)),
		"exclude its record": w.asEngineer.post(in("/data/records/%d/exclude", rec.ID),
			url.Values{"exclude": {"true"}, "reason": {"x"}, "version": {fmt.Sprint(rec.Version)}}),
		"stage into its source":      w.asEngineer.uploadExtract(in("/data/sources/%d/extracts", w.src.ID), "", "hr.csv", hrCSV),
		"change its task":            w.asEngineer.post(in("/quality/tasks/%d", task.ID), url.Values{"status": {"done"}, "version": {"1"}}),
		"export its invalid records": w.asEngineer.get(in("/quality/invalid.csv?source=%d", w.src.ID)),
		"browse its extract":         w.asEngineer.get(in("/data/records?extract=%d", rec.ExtractID)),
	} {
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, res.StatusCode)
		}
		if strings.Contains(res.Body, "not-an-email") || strings.Contains(res.Body, "Fix it") {
			t.Errorf("%s: the answer shows the other project's data", name)
		}
	}
	if got := w.recordWithKey(t, "E2"); got.Excluded {
		t.Error("another project's page excluded the record")
	}
	if n := len(w.extracts(t)); n != 1 {
		t.Errorf("%d extracts, want 1", n)
	}
}

func TestAnEngineerFixesARecordInFerry(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	w.mustStage(t, "hr.csv", hrCSV)
	w.mustValidate(t)
	rec := w.recordWithKey(t, "E3") // no last name
	editPath := w.path(fmt.Sprintf("/data/records/%d/edit", rec.ID))
	action := w.path(fmt.Sprintf("/data/records/%d", rec.ID))

	res := w.asEngineer.get(w.path("/quality?code=required_missing"))
	if href, _ := res.doc(t).Find(`#occurrence-table a[href$="/edit"]`).Attr("href"); href != editPath {
		t.Errorf("the occurrence offers to fix %q, want %q", href, editPath)
	}
	res = w.asEngineer.get(editPath)
	if res.StatusCode != http.StatusOK || text(res.doc(t).Find("h1")) != "Fix the record on line 4 (E3)" {
		t.Fatalf("fix page: %d %q", res.StatusCode, text(res.doc(t).Find("h1")))
	}
	form := formOf(t, res, action)
	if form.Get("attr.mail") != "alan@example.com" || form.Get("attr.sn") != "" || form.Get("version") != "1" {
		t.Fatalf("fix form %v", form)
	}
	profile := func(res response) map[string]string {
		out := map[string]string{}
		res.doc(t).Find("#okta-profile tbody tr").Each(func(_ int, tr *goquery.Selection) {
			out[text(tr.Find("td").First())] = text(tr.Find("td").Last())
		})
		return out
	}
	if p := profile(res); p["login"] != "alan@example.com" || p["firstName"] != "Alan" || p["lastName"] != "" {
		t.Errorf("the record's Okta profile %v", p)
	}
	if note := text(res.doc(t).Find("#okta-profile .flash")); note != "" {
		t.Errorf("a profile as validated has a note: %q", note)
	}

	// Nothing changed: said so, nothing saved.
	res = w.asEngineer.post(action, form)
	if res.StatusCode != http.StatusUnprocessableEntity || formMessage(t, res) != "Change at least one attribute." {
		t.Errorf("no change: %d %q", res.StatusCode, formMessage(t, res))
	}
	// Emptying a value the source gave: refused next to it.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("attr.c", "")
	res = w.asEngineer.post(action, bad)
	if msg := text(res.doc(t).Find(`input[name="attr.c"]`).Parent().Find(".error")); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(msg, "cannot be emptied") {
		t.Errorf("emptied value: %d %q", res.StatusCode, msg)
	}

	form.Set("attr.sn", "Turing")
	res = w.asEngineer.post(action, form)
	res = wantRedirect(t, w.asEngineer, res, w.path(fmt.Sprintf("/data/records?after=%d&extract=%d#record-%d", rec.ID-1, rec.ExtractID, rec.ID)))
	if got := flashText(t, res); got != "The record on line 4 is fixed: 1 attribute(s) changed. Validate again to check it." {
		t.Errorf("flash %q", got)
	}
	if got := text(res.doc(t).Find(fmt.Sprintf("#record-%d", rec.ID))); !strings.Contains(got, "Turing") || !strings.Contains(got, "edited") {
		t.Errorf("the fixed record's row %q", got)
	}
	res = w.asEngineer.get(editPath)
	if p := profile(res); p["lastName"] != "Turing" {
		t.Errorf("the profile after the fix %v", p)
	}
	if note := text(res.doc(t).Find("#okta-profile .flash")); !strings.Contains(note, "validate again") {
		t.Errorf("the profile after the fix has no note to validate again: %q", note)
	}
	// A stale form is a conflict that keeps what was typed.
	form.Set("attr.sn", "Turing-Smith")
	res = w.asEngineer.post(action, form)
	if res.StatusCode != http.StatusConflict || res.doc(t).Find(`input[name="attr.sn"]`).AttrOr("value", "") != "Turing-Smith" {
		t.Errorf("stale fix: %d", res.StatusCode)
	}

	res = w.mustValidate(t)
	if got := text(res.doc(t).Find("#total-invalid .total-value")); got != "2" {
		t.Errorf("invalid records after the fix: %s, want 2", got)
	}

	// The fix page shows what the extract says; emptying the field goes back to it.
	res = w.asEngineer.get(editPath)
	if got := text(res.doc(t).Find("#record-form")); !strings.Contains(got, "fixed in Ferry") || !strings.Contains(got, "Empty the field to use it again") {
		t.Errorf("fix page of a fixed record: %q", got)
	}
	form = formOf(t, res, action)
	form.Set("attr.sn", "")
	if res := w.asEngineer.post(action, form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("drop the fix: %d %.300s", res.StatusCode, res.Body)
	}
	if got := w.recordWithKey(t, "E3"); got.Edited || len(got.Edits) != 0 {
		t.Errorf("after dropping the fix: %+v", got)
	}
}

// Every access to unmasked personal data is audited; masked views are not.
func TestSeeingUnmaskedPersonalDataIsAudited(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	w.mustStage(t, "hr.csv", hrCSV)
	views := func() int {
		t.Helper()
		entries, _, err := audit.NewReader(w.app.DB.Read).FindEntries(context.Background(), audit.Filter{ProjectID: w.p.ID, EntityType: "source"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range entries {
			if e.Action == audit.ActionView {
				n++
			}
		}
		return n
	}
	before := views()
	if res := w.asViewer.get(w.path("/data/records")); res.StatusCode != http.StatusOK {
		t.Fatalf("viewer: %d", res.StatusCode)
	}
	if got := views(); got != before {
		t.Fatalf("a masked view was audited as unmasked (%d → %d)", before, got)
	}
	if res := w.asEngineer.get(w.path("/data/records")); res.StatusCode != http.StatusOK {
		t.Fatalf("engineer: %d", res.StatusCode)
	}
	if got := views(); got != before+1 {
		t.Fatalf("the engineer's unmasked view was not audited (%d → %d)", before, got)
	}
}
