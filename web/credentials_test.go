package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/web"
)

// hashCSV has a password hash column, as an application's user table does.
const hashCSV = "employeeID,mail,givenName,sn,c,userPassword\r\n" +
	"E1,ada@example.com,Ada,Lovelace,GB,{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g3Rqwd\r\n" +
	"E2,not-an-email,Grace,Hopper,US,$2a$10$qRRx8rli7Lvs2h2CNgCQ2OmVA2NDdomRGoGFrAXDZcno0OZ6CoOU2\r\n"

// Password hashes are never shown, to any role: not in the records, the
// fix page, the API, nor the column's sample values. Only the invalid-records
// file, made to be fixed and staged again, keeps them, for a role that sees
// personal data.
func TestPasswordHashesAreNeverShown(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	res := w.mustStage(t, "app.csv", hashCSV)
	const bcrypt = "qRRx8rli7Lvs2h2CNgCQ2O"
	const ssha = "W6ph5Mm5Pz8GgiULbPgzG37mj9g3Rqwd"
	noHash := func(where string, body string) {
		t.Helper()
		if strings.Contains(body, bcrypt) || strings.Contains(body, ssha) {
			t.Errorf("%s shows a password hash", where)
		}
	}
	noHash("the data page", res.Body)
	ex := w.current(t)
	for _, col := range ex.Columns {
		if col.Name == "userPassword" && len(col.Samples) != 0 {
			t.Errorf("the hash column keeps sample values: %q", col.Samples)
		}
	}
	records := w.asEngineer.get(w.path(fmt.Sprintf("/data/records?extract=%d", ex.ID)))
	noHash("the records page", records.Body)
	if !strings.Contains(records.Body, "password hash: never shown") {
		t.Error("the records page does not say the hash is hidden")
	}
	rec := w.recordWithKey(t, "E2")
	fix := w.asEngineer.get(w.path(fmt.Sprintf("/data/records/%d/edit", rec.ID)))
	noHash("the fix page", fix.Body)
	if fix.doc(t).Find(`input[name="attr.userPassword"]`).AttrOr("disabled", "no") == "no" {
		t.Error("the hash can be edited on the fix page")
	}
	token := w.app.mustToken(w.engineer)
	api := w.app.api(token, "GET", fmt.Sprintf("/api/v1/projects/%d/records/%d", w.p.ID, rec.ID), nil)
	if api.StatusCode != http.StatusOK {
		t.Fatalf("GET record = %d %s", api.StatusCode, api.Body)
	}
	noHash("the API", api.Body)
	extractAPI := w.app.api(token, "GET", fmt.Sprintf("/api/v1/projects/%d/extracts/%d", w.p.ID, ex.ID), nil)
	noHash("the extract's API summary", extractAPI.Body)

	w.mustValidate(t)
	export := w.asEngineer.get(w.path(fmt.Sprintf("/quality/invalid.csv?source=%d", w.src.ID)))
	if export.StatusCode != http.StatusOK || !strings.Contains(export.Body, bcrypt) {
		t.Errorf("the invalid-records file loses the hash a re-staging needs: %d %.300s", export.StatusCode, export.Body)
	}
	asViewer := w.asViewer.get(w.path(fmt.Sprintf("/quality/invalid.csv?source=%d", w.src.ID)))
	if asViewer.StatusCode == http.StatusOK {
		noHash("the viewer's invalid-records file", asViewer.Body)
	}
}
