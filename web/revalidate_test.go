package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/web"
)

// Until the staged data is validated against the matrix as it is, the
// pages say the validation is out of date (here the matrix changes behind
// the console's back, so no validation starts by itself).
func TestAValidationOlderThanTheMatrixIsShownOutOfDate(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	ctx := context.Background()
	w.mustStage(t, "hr.csv", hrCSV)
	w.mustValidate(t)
	page := w.asEngineer.get(w.path("/quality"))
	if got := text(page.doc(t).Find(".flash.warn")); strings.Contains(got, "out of date") {
		t.Fatalf("a current validation is shown out of date: %q", got)
	}
	rows, err := w.app.Map.FindRows(ctx, w.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.TargetAttribute == "firstName" {
			if _, err := w.app.Map.UpdateRow(ctx, w.p.ID, r.ID, r.Version, mapping.RowInput{Transform: pval(`[{"op":"upper"}]`)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	page = w.asEngineer.get(w.path("/quality"))
	if got := text(page.doc(t).Find(".flash.warn")); !strings.Contains(got, "the matrix, the profile rules or the password settings changed since the last validation") {
		t.Errorf("the quality page does not say the validation is out of date: %q", got)
	}
	data := w.asEngineer.get(w.path("/data"))
	if got := text(data.doc(t).Find(".badge.warn")); !strings.Contains(got, "out of date") {
		t.Errorf("the data page does not say the validation is out of date: %q", got)
	}
}

// Once the job has run, the profiles follow the new matrix and the run is current.
func TestTheRevalidationJobMakesTheRunCurrent(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	ctx := context.Background()
	w.mustStage(t, "hr.csv", hrCSV)
	w.mustValidate(t)
	before := w.app.newestJob(w.p.ID, jobs.Filter{Kinds: []string{jobs.KindValidate}})
	// A change that cannot alter a profile (a row's notes) starts nothing.
	rows, _ := w.app.Map.FindRows(ctx, w.p.ID)
	token := w.app.mustToken(w.lead)
	res := w.app.api(token, "PATCH", fmt.Sprintf("/api/v1/projects/%d/matrix/rows/%d", w.p.ID, rows[0].ID), map[string]any{"version": rows[0].Version, "notes": "checked"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PATCH notes = %d %s", res.StatusCode, res.Body)
	}
	if j := w.app.newestJob(w.p.ID, jobs.Filter{Kinds: []string{jobs.KindValidate}}); j.ID != before.ID {
		t.Fatalf("a change of notes started validation job %d", j.ID)
	}
	rows, _ = w.app.Map.FindRows(ctx, w.p.ID)
	for _, r := range rows {
		if r.TargetAttribute == "firstName" {
			res := w.app.api(token, "PATCH", fmt.Sprintf("/api/v1/projects/%d/matrix/rows/%d", w.p.ID, r.ID),
				map[string]any{"version": r.Version, "transform": `[{"op":"upper"}]`})
			if res.StatusCode != http.StatusOK {
				t.Fatalf("PATCH row = %d %s", res.StatusCode, res.Body)
			}
		}
	}
	j := w.app.waitValidation(w.p.ID)
	if j.ID == before.ID || j.Status != jobs.StatusSucceeded {
		t.Fatalf("validation job after the change: %+v (before: %d)", j, before.ID)
	}
	runs, _ := w.app.Quality.LatestRuns(ctx, w.p.ID, 1)
	current, _ := w.app.Quality.CurrentDigest(ctx, w.p.ID)
	if len(runs) != 1 || runs[0].MatrixDigest != current {
		t.Fatalf("the newest run is not current: %+v, digest now %q", runs, current)
	}
	rec := w.recordWithKey(t, "E1")
	profile, err := w.app.Staging.FindProfileJSON(ctx, rec.ID)
	if err != nil || !strings.Contains(profile, `"firstName":"ADA"`) {
		t.Fatalf("E1's profile %q (%v)", profile, err)
	}
	page := w.asEngineer.get(w.path("/quality"))
	if strings.Contains(text(page.doc(t).Find(".flash.warn")), "out of date") {
		t.Errorf("the quality page still says out of date")
	}
}
