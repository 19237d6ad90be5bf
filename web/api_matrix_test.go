package web_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// apiMatrixLine and apiMatrix are the matrix as GET /matrix answers it.
type apiMatrixLine struct {
	RowID           int64             `json:"rowId"`
	SourceFieldID   int64             `json:"sourceFieldId"`
	Source          string            `json:"source"`
	Field           string            `json:"field"`
	TargetAttribute string            `json:"targetAttribute"`
	Status          string            `json:"status"`
	Priority        int               `json:"priority"`
	Transform       string            `json:"transform"`
	Notes           string            `json:"notes"`
	Version         int64             `json:"version"`
	Problems        []mapping.Problem `json:"problems"`
}

type apiMatrix struct {
	Complete                                               bool
	Fields, Mapped, Ignored, Undecided, Blocking, Warnings int
	Lines                                                  []apiMatrixLine
	Problems                                               []mapping.Problem
}

// newAPIMatrixWorld is an API world with one source, "Corporate AD".
func newAPIMatrixWorld(t *testing.T) (*apiWorld, plan.Source) {
	t.Helper()
	w := newAPIWorld(t)
	src := apiDecode[plan.Source](t, w.call("POST", "/sources", map[string]any{"name": "Corporate AD", "kind": "active_directory"}), http.StatusCreated)
	return w, src
}

func (w *apiWorld) mustField(t *testing.T, sourceID int64, body map[string]any) mapping.SourceField {
	t.Helper()
	return apiDecode[mapping.SourceField](t, w.call("POST", fmt.Sprintf("/sources/%d/fields", sourceID), body), http.StatusCreated)
}

func (w *apiWorld) mustRow(t *testing.T, body map[string]any) mapping.Row {
	t.Helper()
	return apiDecode[mapping.Row](t, w.call("POST", "/matrix/rows", body), http.StatusCreated)
}

func (w *apiWorld) matrix(t *testing.T) apiMatrix {
	t.Helper()
	return apiDecode[apiMatrix](t, w.call("GET", "/matrix", nil), http.StatusOK)
}

func TestAPIMatrixAttributesListBaseThenCustom(t *testing.T) {
	w := newAPIWorld(t)
	if _, err := w.app.Schema.CreateCustomAttribute(asActor(w.lead), w.p.ID, schema.CustomAttributeInput{Name: pval("badgeNumber"),
		Title: pval("Badge number"), Type: pval("string"), MaxLength: schema.SetInt(12), Enum: &[]string{}}); err != nil {
		t.Fatal(err)
	}
	attrs := apiDecode[struct{ Items []schema.Attribute }](t, w.call("GET", "/attributes", nil), http.StatusOK).Items
	if len(attrs) != 32 {
		t.Fatalf("%d attributes, want Okta's 31 base ones and the custom one", len(attrs))
	}
	for i, a := range attrs[:31] {
		if !a.Base || a.Name != schema.Base()[i].Name {
			t.Fatalf("attribute %d = %s (base %v), want %s first, in the catalog's order", i, a.Name, a.Base, schema.Base()[i].Name)
		}
	}
	login := attrs[0]
	if login.Name != "login" || !login.Required || !login.Unique || login.MinLength == nil || *login.MinLength != 5 || *login.MaxLength != 100 {
		t.Fatalf("login = %+v", login)
	}
	custom := attrs[31]
	if custom.Name != "badgeNumber" || custom.Base || custom.MaxLength == nil || *custom.MaxLength != 12 || custom.Enum == nil {
		t.Fatalf("custom attribute = %+v", custom)
	}
}

func TestAPIMatrixFieldsAndRowsLifecycle(t *testing.T) {
	w, src := newAPIMatrixWorld(t)
	mail := w.mustField(t, src.ID, map[string]any{"name": " mail ", "maxLength": 256, "knownUnique": true,
		"samples": []string{" Ada@Example.com", ""}, "notes": "Primary address."})
	if mail.Name != "mail" || mail.DataType != "string" || mail.MaxLength == nil || *mail.MaxLength != 256 || mail.PII != mapping.PIIUnknown ||
		mail.PIISuggestion != "contact" || len(mail.Samples) != 1 || mail.Version != 1 || mail.SourceID != src.ID {
		t.Fatalf("created field = %+v", mail)
	}
	res := w.call("POST", fmt.Sprintf("/sources/%d/fields", src.ID), map[string]any{"name": "givenName"})
	given := apiDecode[mapping.SourceField](t, res, http.StatusCreated)
	if loc := res.Header.Get("Location"); loc != w.path(fmt.Sprintf("/fields/%d", given.ID)) {
		t.Fatalf("Location = %q", loc)
	}
	list := apiDecode[struct{ Items []mapping.SourceField }](t, w.call("GET", fmt.Sprintf("/sources/%d/fields", src.ID), nil), http.StatusOK).Items
	if len(list) != 2 || list[0].Name != "givenName" || list[1].Name != "mail" {
		t.Fatalf("fields = %+v, want givenName and mail, by name", list)
	}

	// PATCH changes only what is sent; maxLength null clears the length.
	patched := apiDecode[mapping.SourceField](t, w.call("PATCH", fmt.Sprintf("/fields/%d", mail.ID),
		map[string]any{"version": 1, "pii": "yes", "piiCategory": "contact"}), http.StatusOK)
	if patched.Version != 2 || patched.PII != "yes" || patched.PIICategory != "contact" || patched.MaxLength == nil || *patched.MaxLength != 256 || patched.Notes != "Primary address." {
		t.Fatalf("patched field = %+v", patched)
	}
	cleared := apiDecode[mapping.SourceField](t, w.call("PATCH", fmt.Sprintf("/fields/%d", mail.ID), map[string]any{"version": 2, "maxLength": nil}), http.StatusOK)
	if cleared.MaxLength != nil {
		t.Fatalf("maxLength null left %d", *cleared.MaxLength)
	}
	if got := apiDecode[mapping.SourceField](t, w.call("GET", fmt.Sprintf("/fields/%d", mail.ID), nil), http.StatusOK); got.MaxLength != nil || got.Version != 3 {
		t.Fatalf("GET after clearing = %+v", got)
	}

	// Undecided fields are lines without a row.
	m := w.matrix(t)
	if m.Fields != 2 || m.Undecided != 2 || m.Complete || len(m.Lines) != 2 || m.Lines[0].RowID != 0 || m.Lines[0].Status != "undecided" {
		t.Fatalf("matrix of two undecided fields = %+v", m)
	}
	if len(m.Problems) == 0 || m.Problems[0].Code != mapping.ProblemRequiredUnmapped {
		t.Fatalf("project-wide problems = %+v, want login (and the other required attributes) unmapped", m.Problems)
	}

	res = w.call("POST", "/matrix/rows", map[string]any{"sourceFieldId": mail.ID, "targetAttribute": "email",
		"transform": `[ {"op": "trim"}, {"op": "lower"} ]`})
	row := apiDecode[mapping.Row](t, res, http.StatusCreated)
	if loc := res.Header.Get("Location"); loc != w.path(fmt.Sprintf("/matrix/rows/%d", row.ID)) {
		t.Fatalf("Location = %q", loc)
	}
	if row.Status != mapping.StatusMapped || row.Priority != 1 || row.Transform != `[{"op":"trim"},{"op":"lower"}]` || row.Version != 1 {
		t.Fatalf("created row = %+v, want mapped, priority 1, the transformation re-encoded", row)
	}
	ignored := w.mustRow(t, map[string]any{"sourceFieldId": given.ID, "status": "ignored", "targetAttribute": "firstName", "transform": `[{"op":"trim"}]`})
	if ignored.TargetAttribute != "" || ignored.Transform != "" {
		t.Fatalf("an ignored row keeps no target or transformation: %+v", ignored)
	}
	row = apiDecode[mapping.Row](t, w.call("PATCH", fmt.Sprintf("/matrix/rows/%d", row.ID), map[string]any{"version": 1, "notes": "Checked."}), http.StatusOK)
	if row.Version != 2 || row.Notes != "Checked." || row.TargetAttribute != "email" {
		t.Fatalf("patched row = %+v", row)
	}
	m = w.matrix(t)
	if m.Mapped != 1 || m.Ignored != 1 || m.Undecided != 0 {
		t.Fatalf("matrix counts = %+v", m)
	}
	var mailLine *apiMatrixLine
	for i := range m.Lines {
		if m.Lines[i].Field == "mail" {
			mailLine = &m.Lines[i]
		}
	}
	if mailLine == nil || mailLine.RowID != row.ID || mailLine.Version != 2 || mailLine.Source != "Corporate AD" || mailLine.TargetAttribute != "email" {
		t.Fatalf("mail's line = %+v", mailLine)
	}
	pii := false
	for _, p := range mailLine.Problems {
		pii = pii || p.Code == mapping.ProblemPIIUndecided && p.FieldID == mail.ID && p.Severity == mapping.SeverityBlocking
	}
	if !pii {
		t.Fatalf("mail is personal data without a legal decision, and its line does not say so: %+v", mailLine.Problems)
	}

	// Deleting the row leaves the field undecided; deleting the field takes its rows.
	if res := w.call("DELETE", fmt.Sprintf("/matrix/rows/%d", row.ID), nil); res.StatusCode != http.StatusNoContent || res.Body != "" {
		t.Fatalf("DELETE row = %d %s", res.StatusCode, res.Body)
	}
	if m = w.matrix(t); m.Undecided != 1 {
		t.Fatalf("after deleting mail's row: %+v", m)
	}
	if res := w.call("DELETE", fmt.Sprintf("/fields/%d", given.ID), nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE field = %d %s", res.StatusCode, res.Body)
	}
	apiWantError(t, w.call("GET", fmt.Sprintf("/fields/%d", given.ID), nil), http.StatusNotFound, "not_found")
	apiWantError(t, w.call("PATCH", fmt.Sprintf("/matrix/rows/%d", ignored.ID), map[string]any{"version": 1, "notes": "x"}), http.StatusNotFound, "not_found")
	if m = w.matrix(t); m.Fields != 1 || len(m.Lines) != 1 {
		t.Fatalf("after deleting givenName: %+v", m)
	}
}

func TestAPIMatrixRefusesBadInputAndWritesNothing(t *testing.T) {
	w, src := newAPIMatrixWorld(t)
	mail := w.mustField(t, src.ID, map[string]any{"name": "mail", "samples": []string{"ada@example.com"}})
	w.mustField(t, src.ID, map[string]any{"name": "sn"})
	row := w.mustRow(t, map[string]any{"sourceFieldId": mail.ID, "targetAttribute": "email"})
	before := apiAuditCount(t, w.app)

	fields := fmt.Sprintf("/sources/%d/fields", src.ID)
	rowPath := fmt.Sprintf("/matrix/rows/%d", row.ID)
	for _, c := range []struct {
		name, method, path string
		body               any
		field, want        string
	}{
		{"an unknown target attribute", "POST", "/matrix/rows", map[string]any{"sourceFieldId": mail.ID, "targetAttribute": "badgeNumber"},
			"targetAttribute", `"badgeNumber" is not an attribute of this project's Okta profile`},
		{"an unknown target attribute in a change", "PATCH", rowPath, map[string]any{"version": 1, "targetAttribute": "Email"},
			"targetAttribute", "is not an attribute"},
		{"a mapped row without a target", "POST", "/matrix/rows", map[string]any{"sourceFieldId": mail.ID},
			"targetAttribute", "Choose the Okta attribute"},
		{"a transformation that is not JSON", "POST", "/matrix/rows", map[string]any{"sourceFieldId": mail.ID, "targetAttribute": "login",
			"transform": `[{"op":"trim"}`}, "transform", "not valid JSON"},
		{"a transformation step without its parameter", "PATCH", rowPath, map[string]any{"version": 1,
			"transform": `[{"op":"trim"},{"op":"split","separator":"@"}]`}, "transform", "step 2 (split)"},
		{"a transformation with an unknown operation", "PATCH", rowPath, map[string]any{"version": 1,
			"transform": `[{"op":"trim"},{"op":"lower"},{"op":"uppercase"}]`}, "transform", "step 3"},
		{"a transformation reading a field the source lacks", "PATCH", rowPath, map[string]any{"version": 1,
			"transform": `[{"op":"concat","fields":["givenName","sn"],"separator":" "}]`}, "transform", "givenName"},
		{"a priority out of range", "PATCH", rowPath, map[string]any{"version": 1, "priority": 100}, "priority", "between 1"},
		{"an unknown status", "PATCH", rowPath, map[string]any{"version": 1, "status": "skipped"}, "status", "mapped, ignored"},
		{"a row without a field", "POST", "/matrix/rows", map[string]any{"targetAttribute": "email"}, "sourceFieldId", "Choose a field"},
		{"the same mapping twice", "POST", "/matrix/rows", map[string]any{"sourceFieldId": mail.ID, "targetAttribute": "email"},
			"targetAttribute", "already mapped"},
		{"a field without a name", "POST", fields, map[string]any{"dataType": "string"}, "name", "required"},
		{"a field with a duplicate name", "POST", fields, map[string]any{"name": "MAIL"}, "name", "already has a field"},
		{"an unknown data type", "POST", fields, map[string]any{"name": "x", "dataType": "text"}, "dataType", "Data type must be one of"},
		{"personal data without a category", "PATCH", fmt.Sprintf("/fields/%d", mail.ID), map[string]any{"version": 1, "pii": "yes"},
			"piiCategory", "must be one of"},
		{"a zero length", "POST", fields, map[string]any{"name": "x", "maxLength": 0}, "maxLength", "between 1"},
		{"a length that is not a number", "POST", fields, map[string]any{"name": "x", "maxLength": "ten"}, "maxLength", "must be a number"},
		{"too many samples", "POST", fields, map[string]any{"name": "x", "samples": strings.Split(strings.Repeat("s,", 21)+"s", ",")},
			"samples", "At most 20"},
		{"a field id of the wrong type", "POST", "/matrix/rows", map[string]any{"sourceFieldId": "1", "targetAttribute": "email"},
			"sourceFieldId", "must be a number"},
		{"an unknown key", "PATCH", rowPath, map[string]any{"version": 1, "target": "email"}, "target", "Unknown field"},
		{"no version", "PATCH", rowPath, map[string]any{"notes": "x"}, "version", "version is required"},
	} {
		t.Run(c.name, func(t *testing.T) {
			apiWantField(t, w.call(c.method, c.path, c.body), c.field, c.want)
		})
	}
	if after := apiAuditCount(t, w.app); after != before {
		t.Fatalf("refused requests wrote %d audit entries", after-before)
	}
	if got := apiDecode[mapping.Row](t, w.call("PATCH", rowPath, map[string]any{"version": 1}), http.StatusOK); got.Version != 2 || got.Transform != "" {
		t.Fatalf("the row after the refusals = %+v, want it as created", got)
	}
}

func TestAPIMatrixStaleVersionIsRefusedWithTheChanges(t *testing.T) {
	w, src := newAPIMatrixWorld(t)
	mail := w.mustField(t, src.ID, map[string]any{"name": "mail"})
	row := w.mustRow(t, map[string]any{"sourceFieldId": mail.ID, "targetAttribute": "email"})

	// Two people read version 1; the first saves, the second is refused.
	rowPath := fmt.Sprintf("/matrix/rows/%d", row.ID)
	apiDecode[mapping.Row](t, w.call("PATCH", rowPath, map[string]any{"version": 1, "notes": "First."}), http.StatusOK)
	e := apiWantError(t, w.call("PATCH", rowPath, map[string]any{"version": 1, "targetAttribute": "secondEmail", "notes": "Second."}), http.StatusConflict, "conflict")
	if e.CurrentVersion != 2 || len(e.Changes) != 2 || e.Changes[0].Field != "targetAttribute" || e.Changes[1].Field != "notes" ||
		e.Changes[1].Stored != "First." || e.Changes[1].Yours != "Second." {
		t.Fatalf("row conflict = %+v", e)
	}
	if got := apiDecode[mapping.Row](t, w.call("PATCH", rowPath, map[string]any{"version": 2}), http.StatusOK); got.TargetAttribute != "email" || got.Notes != "First." {
		t.Fatalf("the refused change was written: %+v", got)
	}

	fieldPath := fmt.Sprintf("/fields/%d", mail.ID)
	apiDecode[mapping.SourceField](t, w.call("PATCH", fieldPath, map[string]any{"version": 1, "maxLength": 100}), http.StatusOK)
	e = apiWantError(t, w.call("PATCH", fieldPath, map[string]any{"version": 1, "maxLength": 256, "notes": ""}), http.StatusConflict, "conflict")
	if e.CurrentVersion != 2 || len(e.Changes) != 1 || e.Changes[0].Field != "maxLength" || e.Changes[0].Stored != "100" || e.Changes[0].Yours != "256" {
		t.Fatalf("field conflict = %+v, want maxLength only (notes is the same)", e)
	}
}

func TestAPIMatrixKeepsProjectsApart(t *testing.T) {
	w, src := newAPIMatrixWorld(t)
	mine := w.mustField(t, src.ID, map[string]any{"name": "mail"})
	row := w.mustRow(t, map[string]any{"sourceFieldId": mine.ID, "targetAttribute": "email"})

	// Another project of the same lead, so that only the path keeps them apart.
	p2 := w.app.mustProject(w.lead, "Other")
	src2 := apiDecode[plan.Source](t, w.app.api(w.token, "POST", apiProjectPath(p2.ID, "/sources"), map[string]any{"name": "LDAP", "kind": "ldap"}), http.StatusCreated)
	theirs := apiDecode[mapping.SourceField](t, w.app.api(w.token, "POST", apiProjectPath(p2.ID, fmt.Sprintf("/sources/%d/fields", src2.ID)),
		map[string]any{"name": "uid"}), http.StatusCreated)
	theirRow := apiDecode[mapping.Row](t, w.app.api(w.token, "POST", apiProjectPath(p2.ID, "/matrix/rows"),
		map[string]any{"sourceFieldId": theirs.ID, "targetAttribute": "login"}), http.StatusCreated)
	before := apiAuditCount(t, w.app)

	// Another project's records are not found under this project's path.
	for _, c := range []struct{ method, path string }{
		{"GET", fmt.Sprintf("/fields/%d", theirs.ID)},
		{"PATCH", fmt.Sprintf("/fields/%d", theirs.ID)},
		{"DELETE", fmt.Sprintf("/fields/%d", theirs.ID)},
		{"GET", fmt.Sprintf("/sources/%d/fields", src2.ID)},
		{"POST", fmt.Sprintf("/sources/%d/fields", src2.ID)},
		{"PATCH", fmt.Sprintf("/matrix/rows/%d", theirRow.ID)},
		{"DELETE", fmt.Sprintf("/matrix/rows/%d", theirRow.ID)},
	} {
		var body any
		if c.method == "PATCH" {
			body = map[string]any{"version": 1, "notes": "hijacked"}
		} else if c.method == "POST" {
			body = map[string]any{"name": "planted"}
		}
		apiWantError(t, w.call(c.method, c.path, body), http.StatusNotFound, "not_found")
	}
	// A row of this project cannot map another project's field, nor be moved onto one.
	apiWantField(t, w.call("POST", "/matrix/rows", map[string]any{"sourceFieldId": theirs.ID, "targetAttribute": "login"}),
		"sourceFieldId", "Choose a field of one of this project's sources")
	apiWantField(t, w.call("PATCH", fmt.Sprintf("/matrix/rows/%d", row.ID), map[string]any{"version": 1, "sourceFieldId": theirs.ID}),
		"sourceFieldId", "Choose a field")
	if after := apiAuditCount(t, w.app); after != before {
		t.Fatalf("requests across projects wrote %d audit entries", after-before)
	}
	if got := apiDecode[mapping.SourceField](t, w.app.api(w.token, "GET", apiProjectPath(p2.ID, fmt.Sprintf("/fields/%d", theirs.ID)), nil), http.StatusOK); got.Notes != "" || got.Version != 1 {
		t.Fatalf("the other project's field changed: %+v", got)
	}
}

func TestAPIMatrixViewersReadButDoNotWrite(t *testing.T) {
	w, src := newAPIMatrixWorld(t)
	mail := w.mustField(t, src.ID, map[string]any{"name": "mail"})
	row := w.mustRow(t, map[string]any{"sourceFieldId": mail.ID, "targetAttribute": "email"})
	viewer := w.app.mustAccount("viewer@example.com", "Vic Viewer", false)
	engineer := w.app.mustAccount("engineer@example.com", "Eve Engineer", false)
	w.app.mustMember(w.p, viewer, auth.RoleViewer)
	w.app.mustMember(w.p, engineer, auth.RoleEngineer)
	tokens := []string{w.app.mustToken(viewer), w.app.mustToken(engineer)}
	before := apiAuditCount(t, w.app)
	for _, tok := range tokens {
		call := func(method, rest string, body any) response { return w.app.api(tok, method, w.path(rest), body) }
		apiDecode[apiMatrix](t, call("GET", "/matrix", nil), http.StatusOK)
		apiDecode[mapping.SourceField](t, call("GET", fmt.Sprintf("/fields/%d", mail.ID), nil), http.StatusOK)
		apiWantError(t, call("PATCH", fmt.Sprintf("/fields/%d", mail.ID), map[string]any{"version": 1, "notes": "x"}), http.StatusForbidden, "forbidden")
		apiWantError(t, call("PATCH", fmt.Sprintf("/matrix/rows/%d", row.ID), map[string]any{"version": 1, "notes": "x"}), http.StatusForbidden, "forbidden")
		apiWantError(t, call("POST", "/matrix/rows", map[string]any{"sourceFieldId": mail.ID, "targetAttribute": "login"}), http.StatusForbidden, "forbidden")
		apiWantError(t, call("DELETE", fmt.Sprintf("/matrix/rows/%d", row.ID), nil), http.StatusForbidden, "forbidden")
		apiWantError(t, call("POST", fmt.Sprintf("/sources/%d/fields", src.ID), map[string]any{"name": "sn"}), http.StatusForbidden, "forbidden")
	}
	if after := apiAuditCount(t, w.app); after != before {
		t.Fatalf("refused requests wrote %d audit entries", after-before)
	}
}

func TestAPIMatrixExportsCSVAndXLSX(t *testing.T) {
	w, src := newAPIMatrixWorld(t)
	phone := w.mustField(t, src.ID, map[string]any{"name": "telephoneNumber", "maxLength": 30})
	mail := w.mustField(t, src.ID, map[string]any{"name": "mail"})
	w.mustRow(t, map[string]any{"sourceFieldId": phone.ID, "targetAttribute": "primaryPhone", "notes": "+4930123456"})
	w.mustRow(t, map[string]any{"sourceFieldId": mail.ID, "targetAttribute": "email", "notes": `=HYPERLINK("https://evil.example","click")`})

	res := w.call("GET", "/matrix.csv", nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET matrix.csv = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="acme-matrix.csv"` {
		t.Fatalf("Content-Disposition = %q", cd)
	}
	body := strings.TrimPrefix(res.Body, "\ufeff") // a byte-order mark, for spreadsheets that guess the encoding
	header := strings.Join(mapping.MatrixColumns(), ",")
	if !strings.HasPrefix(body, header+"\r\n") && !strings.HasPrefix(body, header+"\n") {
		t.Fatalf("the CSV does not start with the header row %q:\n%s", header, body)
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, body)
	}
	notes := map[string]string{}
	for _, rec := range records[1:] {
		notes[rec[1]] = rec[len(rec)-1]
	}
	if got := notes["mail"]; got != `'=HYPERLINK("https://evil.example","click")` {
		t.Fatalf("a formula-looking cell is written as %q, want it escaped with a leading apostrophe", got)
	}
	if got := notes["telephoneNumber"]; got != "+4930123456" {
		t.Fatalf("an E.164 phone number is written as %q, want it unchanged", got)
	}

	res = w.call("GET", "/matrix.xlsx", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
		t.Fatalf("GET matrix.xlsx = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(bytes.NewReader([]byte(res.Body)), int64(len(res.Body)))
	if err != nil {
		t.Fatalf("the XLSX is not a zip archive: %v", err)
	}
	parts := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s does not decompress: %v", f.Name, err)
		}
		parts[f.Name] = string(b)
	}
	for _, name := range []string{"[Content_Types].xml", "xl/workbook.xml"} {
		if _, ok := parts[name]; !ok {
			t.Fatalf("the XLSX has no %s: %v", name, sortedKeys(parts))
		}
	}
	all := strings.Join(func() []string {
		var out []string
		for _, v := range parts {
			out = append(out, v)
		}
		return out
	}(), "\n")
	if !strings.Contains(all, "HYPERLINK") || strings.Contains(all, "<f>") {
		t.Fatal("the XLSX should hold the formula-looking note as text, never as a formula")
	}
}
