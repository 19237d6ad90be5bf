package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract/ldaptest"
	"github.com/ferry-migrate/ferry/web"
)

// spooled lists the files waiting in the uploads directory.
func spooled(t *testing.T, dataDir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(jobs.UploadDir(dataDir), "*"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// progressJob submits a staging of the world's source that reports half
// its progress, then runs until it is cancelled.
func (w *dataWorld) progressJob(t *testing.T) *jobs.Job {
	t.Helper()
	j, err := w.app.Jobs.Submit(asActor(w.engineer), jobs.Spec{ProjectID: w.p.ID, SourceID: w.src.ID, Kind: jobs.KindStageFile,
		Params: jobs.Params{SourceName: w.src.Name, FileName: "big.csv", SizeBytes: 10 << 20}},
		func(ctx context.Context, p *jobs.Progress) (jobs.Outcome, error) {
			p.Set(5<<20, 10<<20)
			p.Note("1,000 record(s) staged so far.")
			<-ctx.Done()
			return jobs.Outcome{}, ctx.Err()
		})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(jobDeadline)
	for {
		got, err := w.app.Jobs.FindJob(context.Background(), w.p.ID, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Done == 5<<20 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job's progress was never written: %+v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAnUploadIsStagedByAJobWhoseOutcomeThePageShows(t *testing.T) {
	dataDir := t.TempDir()
	w := newDataWorld(t, web.Options{DataDir: dataDir})
	res := w.asEngineer.uploadExtract(w.uploadPath(), "", "hr.csv", hrCSV)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %.300s", res.StatusCode, res.Body)
	}
	j := w.app.newestJob(w.p.ID, jobs.Filter{SourceID: w.src.ID})
	if j.Kind != jobs.KindStageFile || j.Params.FileName != "hr.csv" || j.Params.SizeBytes != int64(len(hrCSV)) || len(j.Params.Checksum) != 64 ||
		j.CreatedByName != "Eve Engineer <engineer@example.com>" {
		t.Fatalf("the staging job %+v", j)
	}
	page := w.asEngineer.get(w.path("/data"))
	panel := page.doc(t).Find(fmt.Sprintf("#source-%d #job-%d", w.src.ID, j.ID))
	if panel.Length() != 1 {
		t.Fatalf("the data page does not show the job: %.2000s", page.Body)
	}

	ended := w.app.waitJob(w.p.ID, j.ID)
	if ended.Status != jobs.StatusSucceeded || ended.Done != ended.Total || ended.Total != int64(len(hrCSV)) {
		t.Fatalf("the job ended %+v", ended)
	}
	if ex := w.current(t); ex == nil || ex.ID != ended.Result.ExtractID || ex.Records != 4 || ex.Checksum != j.Params.Checksum {
		t.Fatalf("the staged extract %+v", ex)
	}
	if left := spooled(t, dataDir); len(left) != 0 {
		t.Errorf("the uploaded file stays in the uploads directory: %v", left)
	}
	// The progress fragment, as the page's script polls it: the outcome, and no more polling.
	frag := w.asViewer.get(w.path(fmt.Sprintf("/jobs/%d/progress", j.ID)))
	doc := frag.doc(t)
	if frag.StatusCode != http.StatusOK || doc.Find("nav, title").Length() != 0 {
		t.Fatalf("progress fragment: %d %.500s", frag.StatusCode, frag.Body)
	}
	div := doc.Find(fmt.Sprintf("div#job-%d", j.ID))
	if _, polls := div.Attr("data-job-poll"); polls || div.AttrOr("data-job-status", "") != jobs.StatusSucceeded {
		t.Errorf("an ended job's fragment still polls, or has the wrong status: %.500s", frag.Body)
	}
	if got := text(div.Find(".job-message")); got != "Staged hr.csv: 4 record(s) from HR export. Validate the data to see its issues." {
		t.Errorf("the fragment's message %q", got)
	}
	if got := text(div.Find(".badge")); got != "done" {
		t.Errorf("badge %q", got)
	}
	page = w.asEngineer.get(w.path("/data"))
	if got := sourceJobMessage(t, page, w.src.ID); !strings.HasPrefix(got, "Staged hr.csv: 4 record(s)") {
		t.Errorf("the data page says of the ended job: %q", got)
	}
	if page.doc(t).Find(fmt.Sprintf("form#upload-%d-form", w.src.ID)).Length() != 1 {
		t.Error("once the job has ended, the upload form is back")
	}
}

func TestARunningStagingShowsLiveProgressAndCanBeCancelled(t *testing.T) {
	dataDir := t.TempDir()
	w := newDataWorld(t, web.Options{DataDir: dataDir})
	w.mustStage(t, "hr.csv", hrCSV)
	first := w.current(t)
	j := w.progressJob(t)

	// The page: the running job with its progress and a way to cancel it,
	// and no second upload meanwhile.
	page := w.asEngineer.get(w.path("/data"))
	doc := page.doc(t)
	panel := doc.Find(fmt.Sprintf("#source-%d #job-%d", w.src.ID, j.ID))
	if poll := panel.AttrOr("data-job-poll", ""); poll != w.path(fmt.Sprintf("/jobs/%d/progress", j.ID)) {
		t.Errorf("the running job's panel polls %q", poll)
	}
	if v := panel.Find("progress").AttrOr("value", ""); v != "50" {
		t.Errorf("progress value %q, want 50", v)
	}
	if got := text(panel.Find(".job-message")); !strings.Contains(got, "1,000 record(s) staged so far.") || !strings.Contains(got, "5.0 MB of 10.0 MB read, 50%") {
		t.Errorf("the running job's message %q", got)
	}
	cancelURL := w.path(fmt.Sprintf("/jobs/%d/cancel", j.ID))
	if href := panel.Find("a.job-cancel").AttrOr("href", ""); href != cancelURL {
		t.Errorf("cancel link %q", href)
	}
	if doc.Find(fmt.Sprintf("form#upload-%d-form", w.src.ID)).Length() != 0 || doc.Find(fmt.Sprintf("#ldap-%d-form", w.src.ID)).Length() != 0 {
		t.Error("the page offers a second staging of the source while one runs")
	}
	// A viewer sees the progress, not the cancel.
	frag := w.asViewer.get(w.path(fmt.Sprintf("/jobs/%d/progress", j.ID)))
	if frag.StatusCode != http.StatusOK || frag.doc(t).Find("a.job-cancel").Length() != 0 || frag.doc(t).Find("progress").Length() != 1 {
		t.Errorf("a viewer's progress fragment: %d %.500s", frag.StatusCode, frag.Body)
	}

	// An upload meanwhile is refused before the file is read.
	res := w.asEngineer.uploadExtract(w.uploadPath(), "", "hr-2.csv", hrCSV)
	res = wantRedirect(t, w.asEngineer, res, w.path(fmt.Sprintf("/data#source-%d", w.src.ID)))
	if got := text(res.doc(t).Find(".flash.error")); !strings.Contains(got, fmt.Sprintf("Job %d is already staging big.csv into HR export", j.ID)) {
		t.Errorf("the refusal %q does not name the running job", got)
	}
	if left := spooled(t, dataDir); len(left) != 0 {
		t.Errorf("a refused upload was spooled: %v", left)
	}

	// Cancel: a confirmation page, then the job stops and says so.
	confirm := w.asEngineer.get(cancelURL)
	if confirm.StatusCode != http.StatusOK || !strings.Contains(text(confirm.doc(t).Find("h1")), "Cancel staging big.csv into HR export?") ||
		confirm.doc(t).Find("form button#cancel-job").Length() != 1 {
		t.Fatalf("the confirmation page: %d %.500s", confirm.StatusCode, confirm.Body)
	}
	if res := w.asViewer.post(cancelURL, url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's cancel: %d", res.StatusCode)
	}
	if res := w.asEngineer.postRaw(cancelURL, url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a cancel without the CSRF token: %d", res.StatusCode)
	}
	if got, _ := w.app.Jobs.FindJob(context.Background(), w.p.ID, j.ID); !got.Active() {
		t.Fatal("a refused cancel stopped the job")
	}
	res = w.asEngineer.post(cancelURL, url.Values{})
	res = wantRedirect(t, w.asEngineer, res, w.path(fmt.Sprintf("/data#source-%d", w.src.ID)))
	if got := flashText(t, res); !strings.Contains(got, "Cancelled by Eve Engineer") {
		t.Errorf("flash after cancelling %q", got)
	}
	ended := w.app.waitJob(w.p.ID, j.ID)
	if ended.Status != jobs.StatusCancelled {
		t.Fatalf("the cancelled job %+v", ended)
	}
	if got := sourceJobMessage(t, w.asEngineer.get(w.path("/data")), w.src.ID); !strings.Contains(got, "nothing of it was staged; the source's current extract stays current") {
		t.Errorf("the page says of the cancelled job: %q", got)
	}
	if cur := w.current(t); cur == nil || cur.ID != first.ID {
		t.Errorf("the current extract changed: %+v", cur)
	}
	var entries []audit.Entry
	if err := w.app.DB.Read.Where("entity_type = ? AND entity_id = ?", "job", j.ID).Find(&entries).Error; err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].ActorName != "Eve Engineer <engineer@example.com>" || entries[0].Action != audit.ActionUpdate {
		t.Errorf("the audit log of the cancellation: %+v", entries)
	}

	// Cancelling what has ended says so, and changes nothing.
	res = w.asEngineer.post(cancelURL, url.Values{})
	res = wantRedirect(t, w.asEngineer, res, w.path(fmt.Sprintf("/data#source-%d", w.src.ID)))
	if got := text(res.doc(t).Find(".flash.error")); !strings.Contains(got, "has already ended (cancelled): there is nothing to cancel") {
		t.Errorf("cancelling an ended job: %q", got)
	}
	res = w.asEngineer.get(cancelURL)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("the confirmation page of an ended job: %d", res.StatusCode)
	}
	var after int64
	w.app.DB.Read.Model(&audit.Entry{}).Where("entity_type = ? AND entity_id = ?", "job", j.ID).Count(&after)
	if after != 1 {
		t.Errorf("refused cancellations wrote %d audit entries", after-1)
	}
}

func TestJobsOfAnotherProjectAreNotFound(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	other := w.app.mustProject(w.engineer, "Other Co")
	otherSrc := seedSource(t, w.app, w.engineer, other, "Elsewhere")
	j := blockingJob(t, w.app, other.ID, otherSrc.ID, jobs.KindStageDirectory)
	for _, path := range []string{fmt.Sprintf("/jobs/%d/progress", j.ID), fmt.Sprintf("/jobs/%d/cancel", j.ID), "/jobs/abc/progress", "/jobs/999999/cancel"} {
		if res := w.asEngineer.get(w.path(path)); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
	if res := w.asEngineer.post(w.path(fmt.Sprintf("/jobs/%d/cancel", j.ID)), url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("cancel another project's job: %d, want 404", res.StatusCode)
	}
	if got, _ := w.app.Jobs.FindJob(context.Background(), other.ID, j.ID); !got.Active() {
		t.Error("another project's job was cancelled")
	}
}

func TestValidationRunsAsAJobShownOnTheQualityPage(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	w.mustStage(t, "hr.csv", hrCSV)

	// One validation at a time.
	running := blockingJob(t, w.app, w.p.ID, 0, jobs.KindValidate)
	page := w.asEngineer.get(w.path("/quality"))
	if page.doc(t).Find(fmt.Sprintf("#validation-job #job-%d[data-job-poll]", running.ID)).Length() != 1 || page.doc(t).Find("#validate").Length() != 0 {
		t.Errorf("the quality page during a validation: %.1500s", page.Body)
	}
	if page := w.asEngineer.get(w.path("/data")); page.doc(t).Find(fmt.Sprintf("#validation #job-%d", running.ID)).Length() != 1 {
		t.Error("the data page does not show the running validation")
	}
	res := w.asEngineer.post(w.path("/data/validate"), url.Values{})
	res = wantRedirect(t, w.asEngineer, res, w.path("/quality"))
	if got := text(res.doc(t).Find(".flash.error")); !strings.Contains(got, fmt.Sprintf("Job %d is already validating the staged data", running.ID)) {
		t.Errorf("a second validation: %q", got)
	}
	if _, err := w.app.Jobs.Cancel(asActor(w.engineer), w.p.ID, running.ID); err != nil {
		t.Fatal(err)
	}
	page = w.asEngineer.get(w.path("/quality"))
	if got := validationJobMessage(t, page); !strings.Contains(got, "Cancelled by Eve Engineer") || !strings.Contains(got, "the previous validation (if any) stays the newest.") {
		t.Errorf("the quality page after a cancelled validation: %q", got)
	}

	res = w.mustValidate(t)
	if got := flashText(t, res); !strings.HasPrefix(got, "Validating the staged data (job ") {
		t.Errorf("flash %q", got)
	}
	if got := validationJobMessage(t, res); got != "Validated 4 record(s): 1 valid, 3 invalid, 0 excluded; 4 issue occurrence(s)." {
		t.Errorf("the validation job's message %q", got)
	}
	if res.doc(t).Find("#validate").Length() != 1 {
		t.Error("once the validation has ended, the page offers to validate again")
	}
}

// directoryPath is where the data world's source's directory pull form posts.
func (w *dataWorld) directoryPath() string {
	return w.path(fmt.Sprintf("/data/sources/%d/directory", w.src.ID))
}

func TestADirectoryPullWithBadSettingsSaysWhatIsWrongNextToEachField(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	const password = "hunter2-but-longer"
	res := w.asEngineer.post(w.directoryPath(), url.Values{"url": {"http://dc1.example.com"}, "base_dn": {"dc=example,dc=com"},
		"bind_dn": {"cn=reader,dc=example,dc=com"}, "bind_password": {password}, "page_size": {"many"}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %.300s", res.StatusCode, res.Body)
	}
	doc := res.doc(t)
	fieldErr := func(name string) string { return text(doc.Find(fmt.Sprintf("#ldap-%d-%s-error", w.src.ID, name))) }
	if got := fieldErr("url"); !strings.Contains(got, "must start with ldap:// or ldaps://") {
		t.Errorf("message next to the URL %q", got)
	}
	if got := fieldErr("page_size"); !strings.Contains(got, "whole number") {
		t.Errorf("message next to the page size %q", got)
	}
	if got := text(doc.Find(fmt.Sprintf("#ldap-%d-form .flash.error", w.src.ID))); !strings.Contains(got, "The pull did not start; nothing was changed.") {
		t.Errorf("form message %q", got)
	}
	if _, open := doc.Find(fmt.Sprintf("#ldap-%d-details", w.src.ID)).Attr("open"); !open {
		t.Error("the refused form is folded away")
	}
	if v := doc.Find(fmt.Sprintf("#ldap-%d-bind_dn", w.src.ID)).AttrOr("value", ""); v != "cn=reader,dc=example,dc=com" {
		t.Errorf("what was typed is lost: bind DN %q", v)
	}
	if strings.Contains(res.Body, password) {
		t.Error("the form shows the bind password again")
	}
	// A bind DN without a password, and an empty base DN.
	res = w.asEngineer.post(w.directoryPath(), url.Values{"url": {"ldaps://dc1.example.com"}, "bind_dn": {"cn=reader,dc=example,dc=com"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(text(res.doc(t).Find(fmt.Sprintf("#ldap-%d-bind_password-error", w.src.ID))), "password") ||
		!strings.Contains(text(res.doc(t).Find(fmt.Sprintf("#ldap-%d-base_dn-error", w.src.ID))), "base DN") {
		t.Errorf("missing password and base DN: %d", res.StatusCode)
	}
	if list, _ := w.app.Jobs.FindJobs(context.Background(), w.p.ID, jobs.Filter{}); len(list) != 0 {
		t.Errorf("refused settings started %d job(s)", len(list))
	}
	if res := w.asViewer.post(w.directoryPath(), url.Values{"url": {"ldap://dc1"}, "base_dn": {"dc=x"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("a viewer's pull: %d", res.StatusCode)
	}

	// A server that is not there: the job starts and fails, saying why;
	// the form is prefilled from it, without the password.
	res = w.asEngineer.post(w.directoryPath(), url.Values{"url": {"ldap://127.0.0.1:1"}, "base_dn": {"dc=example,dc=com"},
		"bind_dn": {"cn=reader,dc=example,dc=com"}, "bind_password": {password}, "start_tls": {"true"}, "attributes": {"uid, mail ,cn"}, "page_size": {"50"}})
	res = wantRedirect(t, w.asEngineer, res, w.path(fmt.Sprintf("/data#source-%d", w.src.ID)))
	j := w.app.waitStaging(w.p.ID, w.src.ID)
	if j.Status != jobs.StatusFailed || !strings.Contains(j.Error, "The directory pull failed; nothing was staged") || !strings.Contains(j.Error, "127.0.0.1:1") {
		t.Fatalf("the pull from nowhere %+v", j)
	}
	page := w.asEngineer.get(w.path("/data"))
	doc = page.doc(t)
	for name, want := range map[string]string{"url": "ldap://127.0.0.1:1", "base_dn": "dc=example,dc=com", "bind_dn": "cn=reader,dc=example,dc=com",
		"attributes": "uid, mail, cn", "page_size": "50"} {
		if got := doc.Find(fmt.Sprintf("#ldap-%d-%s", w.src.ID, name)).AttrOr("value", ""); got != want {
			t.Errorf("prefilled %s = %q, want %q", name, got, want)
		}
	}
	if _, on := doc.Find(fmt.Sprintf("#ldap-%d-start_tls", w.src.ID)).Attr("checked"); !on {
		t.Error("StartTLS is not prefilled")
	}
	if strings.Contains(page.Body, password) {
		t.Error("the page shows the bind password")
	}
	if !strings.Contains(sourceJobMessage(t, page, w.src.ID), "The directory pull failed") {
		t.Errorf("the page says of the failed pull: %q", sourceJobMessage(t, page, w.src.ID))
	}
	assertNowhere(t, w.app, password)
}

// assertNowhere fails when a secret is stored anywhere it could be read
// back: the jobs, the audit log, the extracts, or the log.
func assertNowhere(t *testing.T, app *testApp, secret string) {
	t.Helper()
	for _, q := range []string{"SELECT params_json || message || error || result_json FROM jobs", "SELECT before_json || after_json || entity_label FROM audit_entries",
		"SELECT file_name || error || warnings_json FROM extracts"} {
		var rows []string
		if err := app.DB.Read.Raw(q).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if strings.Contains(r, secret) {
				t.Errorf("%s holds the secret: %s", q, r)
			}
		}
	}
	if strings.Contains(app.Logs.String(), secret) {
		t.Error("the log holds the secret")
	}
}

func TestAnEngineerPullsASourceFromALiveDirectory(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{People: 25})
	w := newDataWorld(t, web.Options{})
	res := w.asEngineer.post(w.directoryPath(), url.Values{"url": {srv.URL}, "bind_dn": {ldaptest.ReaderDN}, "bind_password": {ldaptest.ReaderPassword},
		"base_dn": {ldaptest.PeopleDN}, "filter": {"(objectClass=inetOrgPerson)"}, "attributes": {"uid, mail, givenName, sn, cn, employeeNumber"},
		"page_size": {"10"}})
	res = wantRedirect(t, w.asEngineer, res, w.path(fmt.Sprintf("/data#source-%d", w.src.ID)))
	if got := flashText(t, res); !strings.Contains(got, "Pulling the users of HR export from "+srv.URL) {
		t.Errorf("flash %q", got)
	}
	j := w.app.waitStaging(w.p.ID, w.src.ID)
	name := srv.URL + "/" + ldaptest.PeopleDN
	if j.Status != jobs.StatusSucceeded || j.Message != "Pulled 25 user(s) from "+name+" into HR export. Validate the data to see its issues." ||
		j.Done != 25 || j.Params.BindDN != ldaptest.ReaderDN || j.Params.PageSize != 10 {
		t.Fatalf("the pull %+v", j)
	}
	ex := w.current(t)
	if ex == nil || ex.ID != j.Result.ExtractID || ex.Records != 25 || ex.Format != jobs.FormatLDAP || ex.FileName != name || ex.KeyAttribute != "dn" {
		t.Fatalf("the pulled extract %+v", ex)
	}
	var mails []string
	for _, r := range w.records(t) {
		mails = append(mails, r.Attributes["mail"]...)
	}
	if want := ldaptest.MakePerson(3).Mail[1]; !strings.Contains(strings.Join(mails, " "), want) {
		t.Errorf("the staged records lack %s: %v", want, mails)
	}
	page := w.asEngineer.get(w.path("/data"))
	if got := text(page.doc(t).Find(fmt.Sprintf("#source-%d dl.extract-summary", w.src.ID))); !strings.Contains(got, "ldap") || !strings.Contains(got, "25") {
		t.Errorf("the extract's summary %q", got)
	}
	assertNowhere(t, w.app, ldaptest.ReaderPassword)

	// A wrong password: the job fails and says to check the credentials.
	res = w.asEngineer.post(w.directoryPath(), url.Values{"url": {srv.URL}, "bind_dn": {ldaptest.ReaderDN}, "bind_password": {"not-the-password"},
		"base_dn": {ldaptest.PeopleDN}})
	wantRedirect(t, w.asEngineer, res, w.path(fmt.Sprintf("/data#source-%d", w.src.ID)))
	if j := w.app.waitStaging(w.p.ID, w.src.ID); j.Status != jobs.StatusFailed || !strings.Contains(j.Error, "refused the bind DN") {
		t.Errorf("a pull with a wrong password %+v", j)
	}
	if cur := w.current(t); cur == nil || cur.ID != ex.ID {
		t.Errorf("a failed pull changed the current extract: %+v", cur)
	}
}

func TestAStagingJobsExtractIsWhatTheUploadSent(t *testing.T) {
	// A JSON upload whose record key is in no record: staged, with a warning in the job's message.
	w := newDataWorld(t, web.Options{})
	res := w.asEngineer.uploadParts(w.uploadPath(), multipartPart{name: "_csrf", content: w.asEngineer.csrf()}, multipartPart{name: "format", content: "json"},
		multipartPart{name: "key_attribute", content: "objectGUID"},
		multipartPart{name: "file", filename: "hr.json", content: `[{"mail": "ada@example.com"}, {"mail": "grace@example.com"}]`, file: true})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d %.300s", res.StatusCode, res.Body)
	}
	j := w.app.waitStaging(w.p.ID, w.src.ID)
	if j.Status != jobs.StatusSucceeded || !strings.Contains(j.Message, `No record has the record key "objectGUID"`) || j.Params.Format != staging.FormatJSON {
		t.Errorf("the staging %+v", j)
	}
}

// The role test's route table names who may reach the job routes; this
// checks what a legal reviewer (who reads but does not run) gets.
func TestALegalReviewerSeesJobsButCannotStartOrCancelThem(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	j := w.progressJob(t)
	legal := w.app.signedIn(w.legal)
	if res := legal.get(w.path(fmt.Sprintf("/jobs/%d/progress", j.ID))); res.StatusCode != http.StatusOK {
		t.Errorf("progress: %d", res.StatusCode)
	}
	for _, res := range []response{
		legal.get(w.path(fmt.Sprintf("/jobs/%d/cancel", j.ID))),
		legal.post(w.path(fmt.Sprintf("/jobs/%d/cancel", j.ID)), url.Values{}),
		legal.post(w.directoryPath(), url.Values{"url": {"ldap://dc1"}, "base_dn": {"dc=x"}}),
	} {
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("status %d, want 403", res.StatusCode)
		}
	}
	if !auth.Can(false, auth.RoleLegalReviewer, auth.PermProjectRead) || auth.Can(false, auth.RoleLegalReviewer, auth.PermRun) {
		t.Fatal("the permission matrix changed: revisit this test")
	}
}

// The console as cmd/ferry wires it (every query logged, the jobs' log
// lines too): a directory pull's bind password reaches neither the log nor
// the database, whether the pull is refused, fails or is cancelled.
func TestABindPasswordIsNeverLoggedNorStored(t *testing.T) {
	app, logs := newProductionLikeApp(t, web.Options{})
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	eng := app.mustAccount("engineer@example.com", "Eve Engineer", false)
	p := app.mustProject(lead, "Acme")
	app.mustMember(p, eng, auth.RoleEngineer)
	src := seedSource(t, app, lead, p, "Corporate AD")
	b := app.signedIn(eng)
	const password = "s3cret-bind-passphrase"
	path := projectPath(p, fmt.Sprintf("/data/sources/%d/directory", src.ID))
	// Refused (no base DN), then started against a server that is not there.
	if res := b.post(path, url.Values{"url": {"ldap://127.0.0.1:1"}, "bind_dn": {"cn=reader,dc=example,dc=com"}, "bind_password": {password}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("refused pull: %d", res.StatusCode)
	}
	res := b.post(path, url.Values{"url": {"ldap://127.0.0.1:1"}, "bind_dn": {"cn=reader,dc=example,dc=com"}, "bind_password": {password},
		"base_dn": {"dc=example,dc=com"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pull: %d", res.StatusCode)
	}
	if j := app.waitStaging(p.ID, src.ID); j.Status != jobs.StatusFailed {
		t.Fatalf("the pull %+v", j)
	}
	out := logs.String()
	if !strings.Contains(out, "job started") || !strings.Contains(out, "request_id=job-") {
		t.Fatalf("the log does not hold the job's lines; the test proves nothing:\n%.2000s", out)
	}
	if strings.Contains(out, password) {
		t.Error("the log holds the bind password")
	}
	assertNowhere(t, app, password)
}
