package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/web"
)

// apiUpload sends an extract as the request body, as a script would.
func (a *testApp) apiUpload(token, path, contentType, body string) response {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.HTTP.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Transport: testTransport}).Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{StatusCode: res.StatusCode, Header: res.Header, Body: string(b)}
}

func decodeJob(t *testing.T, res response) jobs.Job {
	t.Helper()
	var j jobs.Job
	if err := json.Unmarshal([]byte(res.Body), &j); err != nil {
		t.Fatalf("not a job: %v: %s", err, res.Body)
	}
	return j
}

func apiFields(t *testing.T, res response) (string, map[string]string) {
	t.Helper()
	var body struct {
		Error struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Fields  map[string]string `json:"fields"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
		t.Fatalf("not an error body: %v: %s", err, res.Body)
	}
	return body.Error.Message, body.Error.Fields
}

func TestAScriptStagesValidatesAndFollowsItsJobs(t *testing.T) {
	w := newDataWorld(t, web.Options{MaxExtractBytes: 4096})
	engTok, viewerTok := w.app.mustToken(w.engineer), w.app.mustToken(w.viewer)
	outsider := w.app.mustAccount("outsider@example.com", "Otto Outsider", false)
	outTok := w.app.mustToken(outsider)
	stage := fmt.Sprintf("/api/v1/projects/%d/sources/%d/extracts", w.p.ID, w.src.ID)

	// Nothing staged: nothing to validate.
	res := w.app.api(engTok, "POST", fmt.Sprintf("/api/v1/projects/%d/validations", w.p.ID), nil)
	wantAPIError(t, res, http.StatusUnprocessableEntity, "invalid")
	if msg, _ := apiFields(t, res); !strings.Contains(msg, "Nothing to validate") {
		t.Errorf("validate nothing: %q", msg)
	}

	// Who may stage, and what is refused before a byte is staged.
	wantAPIError(t, w.app.apiUpload("", stage+"?fileName=hr.csv", "text/csv", hrCSV), http.StatusUnauthorized, "unauthorized")
	wantAPIError(t, w.app.apiUpload(viewerTok, stage+"?fileName=hr.csv", "text/csv", hrCSV), http.StatusForbidden, "forbidden")
	wantAPIError(t, w.app.apiUpload(outTok, stage+"?fileName=hr.csv", "text/csv", hrCSV), http.StatusNotFound, "not_found")
	other := w.app.mustProject(w.engineer, "Other Co")
	otherSrc := seedSource(t, w.app, w.engineer, other, "Elsewhere")
	wantAPIError(t, w.app.apiUpload(engTok, fmt.Sprintf("/api/v1/projects/%d/sources/%d/extracts?fileName=hr.csv", w.p.ID, otherSrc.ID), "text/csv", hrCSV),
		http.StatusNotFound, "not_found")
	for name, tt := range map[string]struct {
		query, body, field, message string
	}{
		"no file name":             {"", hrCSV, "fileName", ""},
		"a file name on two lines": {"?fileName=a%0Ab.csv", hrCSV, "fileName", ""},
		"an unknown format":        {"?fileName=hr.xml&format=xml", "<users/>", "format", ""},
		"a key that is no column":  {"?fileName=hr.csv&key=objectGUID", hrCSV, "key", ""},
		"a file over the limit":    {"?fileName=big.csv", "employeeID\n" + strings.Repeat("E0\n", 2000), "", "larger than 4 KB"},
		"an empty file":            {"?fileName=empty.csv", "", "", "empty"},
		"not what it claims":       {"?fileName=hr.csv&format=ldif", hrCSV, "", "cannot be"},
	} {
		t.Run(name, func(t *testing.T) {
			res := w.app.apiUpload(engTok, stage+tt.query, "text/csv", tt.body)
			wantAPIError(t, res, http.StatusUnprocessableEntity, "invalid")
			msg, fields := apiFields(t, res)
			if tt.field != "" && fields[tt.field] == "" {
				t.Errorf("no message for %s: %s", tt.field, res.Body)
			}
			if tt.message != "" && !strings.Contains(msg, tt.message) {
				t.Errorf("message %q, want %q", msg, tt.message)
			}
		})
	}
	if list, _ := w.app.Jobs.FindJobs(t.Context(), w.p.ID, jobs.Filter{}); len(list) != 0 {
		t.Fatalf("refused uploads started %d job(s)", len(list))
	}

	// Staged: 202 and the job, polled to its end.
	res = w.app.apiUpload(engTok, stage+"?fileName=hr.csv&key=employeeid", "text/csv", hrCSV)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("stage: %d %s", res.StatusCode, res.Body)
	}
	j := decodeJob(t, res)
	if loc := res.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/projects/%d/jobs/%d", w.p.ID, j.ID) || j.Kind != jobs.KindStageFile ||
		j.Params.KeyAttribute != "employeeID" || j.Params.SizeBytes != int64(len(hrCSV)) || j.SourceID == nil || *j.SourceID != w.src.ID {
		t.Fatalf("the accepted job %+v (Location %q)", j, loc)
	}
	w.app.waitJob(w.p.ID, j.ID)
	res = w.app.api(w.app.mustToken(w.viewer), "GET", res.Header.Get("Location"), nil)
	if got := decodeJob(t, res); res.StatusCode != http.StatusOK || got.Status != jobs.StatusSucceeded || got.Result.ExtractID == 0 ||
		!strings.HasPrefix(got.Message, "Staged hr.csv: 4 record(s) from HR export.") {
		t.Fatalf("the job, read by a viewer: %d %+v", res.StatusCode, got)
	}
	if ex := w.current(t); ex == nil || ex.Records != 4 {
		t.Fatalf("staged %+v", ex)
	}

	// Validate: 202, and the run it recorded.
	res = w.app.api(engTok, "POST", fmt.Sprintf("/api/v1/projects/%d/validations", w.p.ID), nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("validate: %d %s", res.StatusCode, res.Body)
	}
	v := w.app.waitJob(w.p.ID, decodeJob(t, res).ID)
	if v.Status != jobs.StatusSucceeded || v.Result.ValidationRunID == 0 || !strings.HasPrefix(v.Message, "Validated 4 record(s)") {
		t.Fatalf("the validation %+v", v)
	}
	wantAPIError(t, w.app.api(engTok, "POST", fmt.Sprintf("/api/v1/projects/%d/validations", w.p.ID), `{"now": true}`),
		http.StatusUnprocessableEntity, "invalid")

	// The list, newest first; another project's job is not found here.
	res = w.app.api(viewerTok, "GET", fmt.Sprintf("/api/v1/projects/%d/jobs", w.p.ID), nil)
	var listed struct {
		Items []jobs.Job `json:"items"`
	}
	if err := json.Unmarshal([]byte(res.Body), &listed); err != nil || len(listed.Items) != 2 || listed.Items[0].ID != v.ID {
		t.Fatalf("the list: %d %s", res.StatusCode, res.Body)
	}
	elsewhere := blockingJob(t, w.app, other.ID, otherSrc.ID, jobs.KindStageDirectory)
	wantAPIError(t, w.app.api(engTok, "GET", fmt.Sprintf("/api/v1/projects/%d/jobs/%d", w.p.ID, elsewhere.ID), nil), http.StatusNotFound, "not_found")
	wantAPIError(t, w.app.api(engTok, "POST", fmt.Sprintf("/api/v1/projects/%d/jobs/%d/cancel", w.p.ID, elsewhere.ID), nil), http.StatusNotFound, "not_found")

	// Cancel: a running job stops; an ended one cannot be cancelled; a viewer may not.
	running := blockingJob(t, w.app, w.p.ID, w.src.ID, jobs.KindStageDirectory)
	res = w.app.apiUpload(engTok, stage+"?fileName=hr.csv", "text/csv", hrCSV)
	wantAPIError(t, res, http.StatusConflict, "conflict")
	if msg, _ := apiFields(t, res); !strings.Contains(msg, fmt.Sprintf("Job %d is already", running.ID)) {
		t.Errorf("the refusal does not name the running job: %q", msg)
	}
	cancel := fmt.Sprintf("/api/v1/projects/%d/jobs/%d/cancel", w.p.ID, running.ID)
	wantAPIError(t, w.app.api(viewerTok, "POST", cancel, nil), http.StatusForbidden, "forbidden")
	res = w.app.api(engTok, "POST", cancel, nil)
	if got := decodeJob(t, res); res.StatusCode != http.StatusOK || got.Status != jobs.StatusCancelled || !strings.Contains(got.Message, "Cancelled by Eve Engineer") {
		t.Fatalf("cancel: %d %s", res.StatusCode, res.Body)
	}
	wantAPIError(t, w.app.api(engTok, "POST", cancel, nil), http.StatusConflict, "conflict")
	wantAPIError(t, w.app.api(engTok, "POST", fmt.Sprintf("/api/v1/projects/%d/jobs/%d/cancel", w.p.ID, j.ID), "x"),
		http.StatusUnprocessableEntity, "invalid")
}
