package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
)

// matrixWorld is a project with one directory source whose fields carry the
// usual names, ready for the matrix.
type matrixWorld struct {
	app    *testApp
	lead   *auth.Account
	legal  *auth.Account
	p      *plan.Project
	src    *plan.Source
	fields map[string]*mapping.SourceField
}

func newMatrixWorld(t *testing.T) *matrixWorld {
	app := newTestApp(t)
	w := &matrixWorld{app: app, fields: map[string]*mapping.SourceField{}}
	w.lead = app.mustAccount("lead@example.com", "Lea Lead", false)
	w.legal = app.mustAccount("legal@example.com", "Liz Legal", false)
	w.p = app.mustProject(w.lead, "Acme")
	app.mustMember(w.p, w.legal, auth.RoleLegalReviewer)
	w.src = seedSource(t, app, w.lead, w.p, "Corporate AD")
	for _, f := range []struct {
		name    string
		samples []string
	}{
		{"userPrincipalName", []string{" Ada.Lovelace@Example.com", "grace.hopper@example.com"}},
		{"mail", []string{"ada@example.com", "grace@example.com"}},
		{"givenName", []string{"Ada", "Grace"}},
		{"sn", []string{"Lovelace", "Hopper"}},
		{"telephoneNumber", []string{"(555) 123-4567", "+1 555 987 6543"}},
		{"extensionAttribute9", []string{"x", "y"}},
	} {
		samples := f.samples
		name := f.name
		sf, err := app.Map.CreateField(asActor(w.lead), w.p.ID, w.src.ID, mapping.FieldInput{Name: &name, Samples: &samples})
		if err != nil {
			t.Fatalf("create field %s: %v", f.name, err)
		}
		w.fields[f.name] = sf
	}
	return w
}

func TestMatrixSuggestionsMapTheUsualFieldsInOneClick(t *testing.T) {
	w := newMatrixWorld(t)
	b := w.app.signedIn(w.lead)
	res := b.get(projectPath(w.p, "/matrix"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("matrix: %d", res.StatusCode)
	}
	doc := res.doc(t)
	if n := doc.Find("#suggestions tbody tr").Length(); n != 5 {
		t.Fatalf("want 5 suggestions (every usual name, not extensionAttribute9), got %d", n)
	}
	if !strings.Contains(doc.Find("#matrix").Text(), "undecided") {
		t.Fatal("undecided fields should say so")
	}
	if !strings.Contains(res.Body, "Okta requires login") {
		t.Fatal("the missing required login should be reported before anything is mapped")
	}
	res = b.post(projectPath(w.p, "/matrix/suggestions"), url.Values{})
	wantRedirect(t, b, res, projectPath(w.p, "/matrix"))
	rows, err := w.app.Map.FindRows(context.Background(), w.p.ID)
	if err != nil || len(rows) != 5 {
		t.Fatalf("rows after accepting all: %d (%v)", len(rows), err)
	}
	m, err := w.app.Map.LoadMatrix(context.Background(), w.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Lines {
		if l.Row != nil && l.Row.TargetAttribute == "login" {
			if len(l.Preview) == 0 || l.Preview[0].Output != "ada.lovelace@example.com" {
				t.Fatalf("login preview should be trimmed and lower-cased, got %+v", l.Preview)
			}
		}
	}
	for _, p := range m.Problems {
		if p.Code == mapping.ProblemRequiredUnmapped {
			t.Fatalf("required attributes should all be mapped now: %s", p.Message)
		}
	}
}

func TestMatrixRowEditPreviewsTheTransformationWithoutSaving(t *testing.T) {
	w := newMatrixWorld(t)
	b := w.app.signedIn(w.lead)
	row, err := w.app.Map.CreateRow(asActor(w.lead), w.p.ID, mapping.RowInput{SourceFieldID: &w.fields["givenName"].ID, TargetAttribute: pval("firstName")})
	if err != nil {
		t.Fatal(err)
	}
	path := projectPath(w.p, "/matrix/rows/"+itoa(row.ID))
	res := b.get(path + "/edit")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("edit page: %d", res.StatusCode)
	}
	version := hiddenVersion(t, res, path)
	form := url.Values{"status": {"mapped"}, "target_attribute": {"firstName"}, "priority": {"1"}, "version": {version},
		"transform": {`[{"op":"upper"}]`}, "action": {"preview"}}
	res = b.post(path, form)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.doc(t).Find("#transform-preview").Text(), "GRACE") {
		t.Fatalf("preview should show GRACE: %d\n%s", res.StatusCode, res.doc(t).Find("#transform-preview").Text())
	}
	if got, _ := w.app.Map.FindRowByID(context.Background(), w.p.ID, row.ID); got.Transform != "" {
		t.Fatal("a preview must not save")
	}
	// The live preview endpoint answers the partial alone.
	res = b.post(projectPath(w.p, "/matrix/preview"), url.Values{"source_field_id": {itoa(w.fields["givenName"].ID)}, "transform": {`[{"op":"lower"}]`}})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "grace") || strings.Contains(res.Body, "<html") {
		t.Fatalf("live preview: %d %s", res.StatusCode, res.Body)
	}
	// A bad definition is refused next to the field, nothing saved.
	form.Set("action", "save")
	form.Set("transform", `[{"op":"explode"}]`)
	res = b.post(path, form)
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, "transform") == "" {
		t.Fatalf("bad transformation: %d %q", res.StatusCode, fieldError(t, res, "transform"))
	}
	form.Set("transform", `[{"op":"upper"}]`)
	res = b.post(path, form)
	wantRedirect(t, b, res, projectPath(w.p, "/matrix"))
	if got, _ := w.app.Map.FindRowByID(context.Background(), w.p.ID, row.ID); !strings.Contains(got.Transform, "upper") {
		t.Fatalf("saved transform = %q", got.Transform)
	}
}

func TestMatrixInlineSaveAnswersTheRowAndRefusesAStaleVersion(t *testing.T) {
	w := newMatrixWorld(t)
	b := w.app.signedIn(w.lead)
	row, err := w.app.Map.CreateRow(asActor(w.lead), w.p.ID, mapping.RowInput{SourceFieldID: &w.fields["sn"].ID, TargetAttribute: pval("lastName")})
	if err != nil {
		t.Fatal(err)
	}
	post := func(version, target string) response {
		req, _ := http.NewRequest(http.MethodPost, w.app.HTTP.URL+projectPath(w.p, "/matrix/rows/"+itoa(row.ID)),
			strings.NewReader(url.Values{"_csrf": {b.csrf()}, "version": {version}, "target_attribute": {target}, "status": {"mapped"}, "priority": {"1"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Requested-With", "fetch")
		return b.do(req)
	}
	res := post("1", "displayName")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(strings.TrimSpace(res.Body), "<tr") || res.Header.Get("X-Ferry-Error") != "" {
		t.Fatalf("inline save: %d %q %s", res.StatusCode, res.Header.Get("X-Ferry-Error"), res.Body)
	}
	res = post("1", "nickName") // the version read before the first save
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Header.Get("X-Ferry-Error"), "Someone else saved") {
		t.Fatalf("stale inline save: %d %q", res.StatusCode, res.Header.Get("X-Ferry-Error"))
	}
	if got, _ := w.app.Map.FindRowByID(context.Background(), w.p.ID, row.ID); got.TargetAttribute != "displayName" {
		t.Fatalf("the stale save overwrote the row: %q", got.TargetAttribute)
	}
	res = post("2", "noSuchAttribute")
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Header.Get("X-Ferry-Error"), "not an attribute") {
		t.Fatalf("unknown target: %d %q", res.StatusCode, res.Header.Get("X-Ferry-Error"))
	}
}

func TestMatrixExportImportRoundTrip(t *testing.T) {
	w := newMatrixWorld(t)
	if _, err := w.app.Map.AcceptSuggestions(asActor(w.lead), w.p.ID, nil); err != nil {
		t.Fatal(err)
	}
	b := w.app.signedIn(w.lead)
	res := b.get(projectPath(w.p, "/matrix.csv"))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), "acme-matrix.csv") {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	csv := res.Body
	// Import the file as exported, with one change: extensionAttribute9 is deliberately not migrated.
	var lines []string
	for _, line := range strings.Split(strings.TrimRight(csv, "\r\n"), "\r\n") {
		if strings.Contains(line, ",extensionAttribute9,") {
			line = "Corporate AD,extensionAttribute9,,string,,unknown,,,,,no,,legacy only"
		}
		lines = append(lines, line)
	}
	csv = strings.Join(lines, "\r\n") + "\r\n"
	upload := func(content string) response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("_csrf", b.csrf())
		fw, _ := mw.CreateFormFile("file", "matrix.csv")
		_, _ = fw.Write([]byte(content))
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPost, w.app.HTTP.URL+projectPath(w.p, "/matrix/import"), &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return b.do(req)
	}
	res = upload(csv)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("preview: %d %s", res.StatusCode, res.doc(t).Find("#import-errors").Text())
	}
	doc := res.doc(t)
	if !strings.Contains(doc.Find("#import-changes").Text(), "extensionAttribute9 (not migrated)") {
		t.Fatalf("preview should list the new row:\n%s", doc.Find("#import-changes").Text())
	}
	before, _ := w.app.Map.FindRows(context.Background(), w.p.ID)
	digest, _ := doc.Find("input[name=digest]").Attr("value")
	content, _ := doc.Find("input[name=content]").Attr("value")
	res = b.post(projectPath(w.p, "/matrix/import/confirm"), url.Values{"digest": {digest}, "content": {content}, "name": {"matrix.csv"}})
	wantRedirect(t, b, res, projectPath(w.p, "/matrix"))
	after, _ := w.app.Map.FindRows(context.Background(), w.p.ID)
	if len(after) != len(before)+1 {
		t.Fatalf("rows: %d before, %d after; want one more", len(before), len(after))
	}

	// A bad file changes nothing and says which row is wrong.
	bad := "Source,Source field,Target field,Mapping required\r\nCorporate AD,mail,email,yes\r\nNo such source,x,email,yes\r\nCorporate AD,mail,email,yes\r\nCorporate AD,cn,bogusAttribute,yes\r\n"
	res = upload(bad)
	errs := res.doc(t).Find("#import-errors").Text()
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(errs, "No source system is called") || !strings.Contains(errs, "Duplicate of row 2") || !strings.Contains(errs, "bogusAttribute") {
		t.Fatalf("bad import: %d\n%s", res.StatusCode, errs)
	}
	if res.doc(t).Find("input[name=digest]").Length() != 0 {
		t.Fatal("a file with errors must not be offered for import")
	}
	// Not a spreadsheet at all.
	res = upload("%PDF-1.7\x00\x01\x02 binary")
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, "file") == "" {
		t.Fatalf("garbage upload: %d %q", res.StatusCode, fieldError(t, res, "file"))
	}
	final, _ := w.app.Map.FindRows(context.Background(), w.p.ID)
	if len(final) != len(after) {
		t.Fatal("a refused import changed the matrix")
	}
}

func TestLegalReviewerApprovesAndSignsOffThenAChangeReopens(t *testing.T) {
	w := newMatrixWorld(t)
	ctx := asActor(w.lead)
	if _, err := w.app.Map.AcceptSuggestions(ctx, w.p.ID, nil); err != nil {
		t.Fatal(err)
	}
	mail := w.fields["mail"]
	if _, err := w.app.Map.UpdateField(ctx, w.p.ID, mail.ID, mail.Version, mapping.FieldInput{PII: pval("yes"), PIICategory: pval("contact")}); err != nil {
		t.Fatal(err)
	}
	b := w.app.signedIn(w.legal)
	res := b.get(projectPath(w.p, "/privacy"))
	if res.StatusCode != http.StatusOK || res.doc(t).Find(".pii-entry").Length() != 1 {
		t.Fatalf("privacy page: %d, entries %d", res.StatusCode, res.doc(t).Find(".pii-entry").Length())
	}
	gate, _ := w.app.Priv.LoadGate(context.Background(), w.p.ID, false)
	if gate.Open {
		t.Fatal("the gate must be closed while a decision is pending")
	}
	if g, _ := w.app.Priv.LoadGate(context.Background(), w.p.ID, true); !g.Open {
		t.Fatal("Ferry's own sandbox is always allowed")
	}
	prefix := itoa(mail.ID) + "-"
	// Approving without a lawful basis is refused next to the field.
	res = b.post(projectPath(w.p, "/privacy/fields/"+itoa(mail.ID)), url.Values{"version": {"0"}, prefix + "status": {"approved"}, prefix + "decision": {"migrate"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, prefix+"lawful_basis") == "" {
		t.Fatalf("approval without basis: %d %q", res.StatusCode, fieldError(t, res, prefix+"lawful_basis"))
	}
	res = b.post(projectPath(w.p, "/privacy/fields/"+itoa(mail.ID)), url.Values{"version": {"0"}, prefix + "status": {"approved"},
		prefix + "decision": {"migrate"}, prefix + "lawful_basis": {"contract"}, prefix + "comment": {"needed to sign in"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", res.StatusCode, formMessage(t, res))
	}
	res = b.post(projectPath(w.p, "/privacy/signoff"), url.Values{})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign off: %d", res.StatusCode)
	}
	reg, _ := w.app.Priv.LoadRegister(context.Background(), w.p.ID)
	if !reg.SignedOff || reg.SignOff.SignedByName == "" {
		t.Fatalf("register should be signed off: %+v", reg.SignOff)
	}
	// The overview shows the PII item done.
	res = w.app.signedIn(w.lead).get(projectPath(w.p, ""))
	if !strings.Contains(res.Body, "PII register signed off") {
		t.Fatal("the overview lacks the PII sign-off item")
	}
	// Changing the field's category reopens the entry and the gate closes.
	mail, _ = w.app.Map.FindFieldByID(context.Background(), w.p.ID, mail.ID)
	if _, err := w.app.Map.UpdateField(ctx, w.p.ID, mail.ID, mail.Version, mapping.FieldInput{PIICategory: pval("identifier")}); err != nil {
		t.Fatal(err)
	}
	reg, _ = w.app.Priv.LoadRegister(context.Background(), w.p.ID)
	if reg.SignedOff || reg.Entries[0].Status != privacy.StatusChanged || len(reg.Entries[0].Changes) == 0 {
		t.Fatalf("a change after sign-off must reopen: signed=%v status=%s changes=%v", reg.SignedOff, reg.Entries[0].Status, reg.Entries[0].Changes)
	}
	res = b.get(projectPath(w.p, "/privacy"))
	if !strings.Contains(res.Body, "What changed since it was approved") {
		t.Fatal("the reopened entry should show what changed")
	}
	if gate, _ := w.app.Priv.LoadGate(context.Background(), w.p.ID, false); gate.Open {
		t.Fatal("the gate must close again")
	}
	// A project lead may not decide.
	res = w.app.signedIn(w.lead).post(projectPath(w.p, "/privacy/signoff"), url.Values{})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("lead signing off: %d", res.StatusCode)
	}
	// The register exports.
	res = b.get(projectPath(w.p, "/privacy/register.csv"))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "mail") {
		t.Fatalf("register export: %d", res.StatusCode)
	}
}

func TestAttributesPageAndCustomAttributes(t *testing.T) {
	w := newMatrixWorld(t)
	b := w.app.signedIn(w.lead)
	res := b.get(projectPath(w.p, "/attributes"))
	if res.StatusCode != http.StatusOK || res.doc(t).Find("#attributes tbody tr").Length() != 31 {
		t.Fatalf("attributes page: %d, rows %d", res.StatusCode, res.doc(t).Find("#attributes tbody tr").Length())
	}
	res = b.post(projectPath(w.p, "/attributes/custom"), url.Values{"name": {"login"}, "title": {"Login again"}, "type": {"string"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, "name") == "" {
		t.Fatalf("reserved name: %d %q", res.StatusCode, fieldError(t, res, "name"))
	}
	res = b.post(projectPath(w.p, "/attributes/custom"), url.Values{"name": {"badgeNumber"}, "title": {"Badge number"}, "type": {"string"}, "max_length": {"20"}})
	wantRedirect(t, b, res, projectPath(w.p, "/attributes"))
	res = b.get(projectPath(w.p, "/attributes"))
	if res.doc(t).Find("#attributes tbody tr").Length() != 32 {
		t.Fatal("the custom attribute should follow the 31 base ones")
	}
	res = b.post(projectPath(w.p, "/attributes/settings"), url.Values{"login_pattern": {"[a-z"}, "version": {"1"}})
	if res.StatusCode != http.StatusUnprocessableEntity || fieldError(t, res, "login_pattern") == "" {
		t.Fatalf("bad login pattern: %d %q", res.StatusCode, fieldError(t, res, "login_pattern"))
	}
}

func TestSourceFieldsPageSuggestsPersonalData(t *testing.T) {
	w := newMatrixWorld(t)
	b := w.app.signedIn(w.lead)
	path := projectPath(w.p, "/sources/"+itoa(w.src.ID)+"/fields")
	res := b.post(path, url.Values{"name": {"dateOfBirth"}, "data_type": {"date"}, "pii": {"unknown"}, "samples": {"1970-01-01\n1980-02-02"}})
	wantRedirect(t, b, res, path)
	if !strings.Contains(flashText(t, b.get(path)), "looks like personal data") {
		// The flash shows on the page after the redirect.
		t.Log("flash consumed by wantRedirect")
	}
	fields, _ := w.app.Map.FindFields(context.Background(), w.p.ID, w.src.ID)
	var dob *mapping.SourceField
	for i := range fields {
		if fields[i].Name == "dateOfBirth" {
			dob = &fields[i]
		}
	}
	if dob == nil || dob.PIISuggestion != "demographic" || dob.PII != mapping.PIIUnknown {
		t.Fatalf("dateOfBirth should be suggested as demographic, unconfirmed: %+v", dob)
	}
	for _, bad := range []url.Values{
		{"name": {""}, "data_type": {"string"}, "pii": {"unknown"}},
		{"name": {"x"}, "data_type": {"blob"}, "pii": {"unknown"}},
		{"name": {"x"}, "data_type": {"string"}, "pii": {"yes"}},
		{"name": {"x"}, "data_type": {"string"}, "pii": {"unknown"}, "max_length": {"-3"}},
		{"name": {"mail"}, "data_type": {"string"}, "pii": {"unknown"}},
	} {
		res := b.post(path, bad)
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%v: status %d, want 422", bad, res.StatusCode)
		}
	}
	after, _ := w.app.Map.FindFields(context.Background(), w.p.ID, w.src.ID)
	if len(after) != len(fields) {
		t.Fatal("a refused field was stored")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// An oversized upload is refused with a clear message, and nothing changes.
func TestMatrixImportRefusesAnOversizedFile(t *testing.T) {
	w := newMatrixWorld(t)
	b := w.app.signedIn(w.lead)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("_csrf", b.csrf())
	fw, _ := mw.CreateFormFile("file", "huge.csv")
	line := []byte("Corporate AD,mail,email,yes\r\n")
	_, _ = fw.Write([]byte("Source,Source field,Target field,Mapping required\r\n"))
	for written := 0; written < 11<<20; written += len(line) {
		_, _ = fw.Write(line)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, w.app.HTTP.URL+projectPath(w.p, "/matrix/import"), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res := b.do(req)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(fieldError(t, res, "file"), "larger than 10 MB") {
		t.Fatalf("oversized upload: %d %q", res.StatusCode, fieldError(t, res, "file"))
	}
	if rows, _ := w.app.Map.FindRows(context.Background(), w.p.ID); len(rows) != 0 {
		t.Fatal("an oversized upload changed the matrix")
	}
}
