package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/plandoc"
	"github.com/ferry-migrate/ferry/internal/plandoc/docs"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/web"
)

// testDocuments wires the plan versions and the documents' facts as
// cmd/ferry does.
func testDocuments(d *db.DB, clock *dbtest.Clock, planSvc *plan.Service, schemaSvc *schema.Service, mappingSvc *mapping.Service,
	privacySvc *privacy.Service, credsSvc *credentials.Service, loadsSvc *load.Service, defectsSvc *defects.Service,
	qualitySvc *quality.Service, orgsSvc *orgs.Service) web.Documents {
	planServices := plandoc.Services{Plan: planSvc, Schema: schemaSvc, Mapping: mappingSvc, Privacy: privacySvc, Passwords: credsSvc,
		Load: loadsSvc, Defects: defectsSvc}
	factServices := docs.FactServices{Plan: planSvc, Quality: qualitySvc, Load: loadsSvc, Defects: defectsSvc, Gate: privacySvc, Orgs: orgsSvc}
	gather := func(ctx context.Context, projectID int64) (*docs.Facts, error) {
		return docs.GatherFacts(ctx, factServices, projectID)
	}
	versions := plandoc.NewVersionService(d, func(ctx context.Context, projectID int64) (*plandoc.Plan, error) {
		return plandoc.Build(ctx, planServices, projectID)
	}, func(ctx context.Context, projectID int64) ([]byte, error) {
		f, err := gather(ctx, projectID)
		if err != nil {
			return nil, err
		}
		return json.Marshal(f)
	}, clock.Now)
	return web.Documents{Versions: versions, Facts: gather, Now: clock.Now}
}

// ensureVersion freezes the role world's plan once, as the engineer, and
// returns the version's number.
func (w *roleWorld) ensureVersion() (int, error) {
	list, err := w.app.Versions.List(context.Background(), w.project.ID)
	if err != nil {
		return 0, err
	}
	if len(list) > 0 {
		return list[0].Number, nil
	}
	v, err := w.app.Versions.Freeze(asActor(w.engineer), w.project.ID, "For the role test")
	if err != nil {
		return 0, err
	}
	return v.Number, nil
}

// documentsPath is a path under the role world's Documents page.
func documentsPath(w *roleWorld, rest string) string {
	return fmt.Sprintf("/projects/%d/documents%s", w.project.ID, rest)
}

func TestTheDocumentsPageRendersWithoutAndWithVersions(t *testing.T) {
	w := newRoleWorld(t)
	b := w.app.signedIn(w.viewer)
	res := b.get(documentsPath(w, ""))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %.300s", res.StatusCode, res.Body)
	}
	doc := res.doc(t)
	if doc.Find("#versions-empty").Length() != 1 || doc.Find("#freeze-form").Length() != 0 {
		t.Error("a viewer without versions: want the empty state and no freeze form")
	}
	if n := doc.Find("#live-downloads a").Length(); n != 14 {
		t.Errorf("%d live downloads, want 14", n)
	}
	if strings.TrimSpace(doc.Find(`nav.side a[aria-current="page"]`).Text()) != "Documents" {
		t.Error("the navigation does not mark Documents")
	}

	must(w.app.Versions.Freeze(asActor(w.engineer), w.project.ID, "First draft"))
	must(w.app.Versions.Sign(asActor(w.lead), w.project.ID, 1, plandoc.RoleLead))
	doc = b.get(documentsPath(w, "")).doc(t)
	row := doc.Find("#version-1")
	if !strings.Contains(row.Text(), "First draft") || !strings.Contains(row.Find(".sig-lead").Text(), "Lea Lead") ||
		!strings.Contains(row.Find(".sig-legal").Text(), "Not signed") || !strings.Contains(row.Text(), "live plan") {
		t.Errorf("version row: %q", row.Text())
	}
	if n := doc.Find("#version-1-downloads a").Length(); n != 14 {
		t.Errorf("%d downloads of version 1, want 14", n)
	}
	if doc.Find("button.sign").Length() != 0 || doc.Find("#changed-since-signed").Length() != 0 {
		t.Error("a viewer sees a sign button, or a banner while the plan is as signed")
	}
	// The engineer freezes, the lead and the legal reviewer sign, each their own role only.
	if d := w.app.signedIn(w.engineer).get(documentsPath(w, "")).doc(t); d.Find("#freeze-form").Length() != 1 || d.Find("button.sign").Length() != 0 {
		t.Error("the engineer: want the freeze form and no sign button")
	}
	lead := w.app.signedIn(w.lead).get(documentsPath(w, "")).doc(t)
	if f := lead.Find("#version-1-detail form"); f.AttrOr("action", "") != documentsPath(w, "/versions/1/sign/lead") ||
		!strings.Contains(f.Text(), "again as Project lead") {
		t.Errorf("the lead's sign form: %q %q", f.AttrOr("action", ""), f.Text())
	}
	if f := w.app.signedIn(w.legal).get(documentsPath(w, "")).doc(t).Find("#version-1-detail form"); f.AttrOr("action", "") != documentsPath(w, "/versions/1/sign/legal") {
		t.Errorf("the legal reviewer's sign form: %q", f.AttrOr("action", ""))
	}

	// A change after signing: the banner says so and links to the comparison.
	seedUserType(t, w.app, w.lead, w.project, "Contractors", 12)
	doc = b.get(documentsPath(w, "")).doc(t)
	banner := doc.Find("#changed-since-signed")
	if !strings.Contains(banner.Text(), "changed since Project lead") || banner.Find("a").AttrOr("href", "") != documentsPath(w, "/compare?from=1&to=live") {
		t.Errorf("banner %q", banner.Text())
	}
	if !strings.Contains(doc.Find("#version-1 .sig-lead").Text(), "the plan changed since") {
		t.Error("the version's signature does not say the plan changed since")
	}
}

// must returns v, or stops the test by panicking (it takes a call's two results).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestFreezingWithABadNoteShowsTheFieldErrorAndFreezesNothing(t *testing.T) {
	w := newRoleWorld(t)
	b := w.app.signedIn(w.engineer)
	for _, tc := range []struct{ name, note, want string }{
		{"empty", "", "Note is required."},
		{"oversized", strings.Repeat("n", plandoc.MaxNoteLen+1), "too long"},
		{"control characters", "bell\x07", "control characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := b.post(documentsPath(w, "/versions"), url.Values{"note": {tc.note}})
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", res.StatusCode)
			}
			doc := res.doc(t)
			if msg := doc.Find("#freeze-form .field.invalid").Text(); !strings.Contains(msg, tc.want) {
				t.Errorf("field error %q, want %q", msg, tc.want)
			}
			if tc.name == "oversized" && doc.Find("#freeze-form textarea[name=note]").Text() != tc.note {
				t.Error("the note was lost")
			}
		})
	}
	if list := must(w.app.Versions.List(context.Background(), w.project.ID)); len(list) != 0 {
		t.Fatalf("bad notes froze %d version(s)", len(list))
	}
	res := b.post(documentsPath(w, "/versions"), url.Values{"note": {"For the legal review"}})
	page := wantRedirect(t, b, res, documentsPath(w, "#version-1"))
	if !strings.Contains(page.Body, "Version 1 frozen") {
		t.Errorf("no flash message: %.300s", page.Body)
	}
}

func TestTheLeadAndTheLegalReviewerSignEachTheirOwnRole(t *testing.T) {
	w := newRoleWorld(t)
	ctx := context.Background()
	must(w.app.Versions.Freeze(asActor(w.engineer), w.project.ID, "one"))
	must(w.app.Versions.Freeze(asActor(w.engineer), w.project.ID, "two"))

	lead := w.app.signedIn(w.lead)
	page := wantRedirect(t, lead, lead.post(documentsPath(w, "/versions/1/sign/lead"), url.Values{}), documentsPath(w, "#version-1"))
	if !strings.Contains(page.Body, "You signed version 1 as project lead") || !strings.Contains(page.Body, "not the newest version") {
		t.Errorf("flash after signing an older version: %.400s", page.Body)
	}
	legal := w.app.signedIn(w.legal)
	wantRedirect(t, legal, legal.post(documentsPath(w, "/versions/2/sign/legal"), url.Values{}), documentsPath(w, "#version-2"))

	// The wrong role is refused, and nothing is signed.
	for _, tc := range []struct {
		b    *browser
		path string
	}{
		{legal, "/versions/2/sign/lead"}, {lead, "/versions/2/sign/legal"},
		{w.app.signedIn(w.engineer), "/versions/2/sign/lead"}, {w.app.signedIn(w.viewer), "/versions/2/sign/legal"},
	} {
		if res := tc.b.post(documentsPath(w, tc.path), url.Values{}); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.path, res.StatusCode)
		}
	}
	if res := lead.post(documentsPath(w, "/versions/9/sign/lead"), url.Values{}); res.StatusCode != http.StatusNotFound {
		t.Errorf("signing an unknown version: %d, want 404", res.StatusCode)
	}
	v1 := must(w.app.Versions.Find(ctx, w.project.ID, 1))
	v2 := must(w.app.Versions.Find(ctx, w.project.ID, 2))
	if len(v1.Signatures) != 1 || v1.Signatures[0].Role != plandoc.RoleLead || !strings.HasPrefix(v1.Signatures[0].SignedByName, "Lea Lead") {
		t.Errorf("version 1 signatures: %+v", v1.Signatures)
	}
	if len(v2.Signatures) != 1 || v2.Signatures[0].Role != plandoc.RoleLegal || !strings.HasPrefix(v2.Signatures[0].SignedByName, "Lou Legal") {
		t.Errorf("version 2 signatures: %+v", v2.Signatures)
	}
	// The signatures are in the documents of the version.
	md := w.app.signedIn(w.viewer).get(documentsPath(w, "/versions/2/migration-plan.md"))
	if !strings.Contains(md.Body, "Lou Legal") || !strings.Contains(md.Body, "Project lead: not signed") {
		t.Errorf("version 2's migration plan does not show its signatures:\n%.1500s", md.Body)
	}
}

func TestCompareShowsWhatWasAddedRemovedAndChanged(t *testing.T) {
	w := newRoleWorld(t)
	ctx := asActor(w.lead)
	b := w.app.signedIn(w.viewer)
	if doc := b.get(documentsPath(w, "/compare")).doc(t); doc.Find("#compare-empty").Length() != 1 {
		t.Error("compare without versions: want the empty state")
	}
	must(w.app.Versions.Freeze(asActor(w.engineer), w.project.ID, "before"))
	seedUserType(t, w.app, w.lead, w.project, "Contractors", 12)
	if err := w.app.Plan.DeleteApplication(ctx, w.project.ID, w.application.ID); err != nil {
		t.Fatal(err)
	}
	must(w.app.Map.UpdateRow(ctx, w.project.ID, w.row.ID, w.row.Version, mapping.RowInput{Transform: pval(`[{"op":"lower"}]`)}))
	must(w.app.Versions.Freeze(asActor(w.engineer), w.project.ID, "after"))

	res := b.get(documentsPath(w, "/compare?from=1&to=2"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %.300s", res.StatusCode, res.Body)
	}
	doc := res.doc(t)
	if got := doc.Find("#compare-title").Text(); got != "From version 1 to version 2" {
		t.Errorf("title %q", got)
	}
	if got := doc.Find("#diff-user_types .added li").Text(); got != "Contractors" {
		t.Errorf("added user types %q", got)
	}
	if got := doc.Find("#diff-applications .removed li").Text(); got != "Payroll" {
		t.Errorf("removed applications %q", got)
	}
	changed := doc.Find("#diff-matrix table.changed")
	if changed.Find("caption").Text() != "Corporate AD › mail → email" || changed.Find("td.after").Text() != `[{"op":"lower"}]` {
		t.Errorf("changed matrix row %q: %q", changed.Find("caption").Text(), changed.Find("td.after").Text())
	}
	if doc.Find("#diff-goals").Text() == "" || !strings.Contains(doc.Find("#diff-goals").Text(), "No change.") {
		t.Error("the unchanged goals section does not say so")
	}
	// The live plan is the second version; the default compares the newest with it.
	if doc := b.get(documentsPath(w, "/compare")).doc(t); doc.Find("#compare-same").Length() != 1 ||
		doc.Find("#compare-title").Text() != "From version 2 to the live plan" {
		t.Errorf("default comparison: %q", doc.Find("#compare-title").Text())
	}
	// Bad choices are answered next to the field.
	res = b.get(documentsPath(w, "/compare?from=7&to=banana"))
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bad choices: status %d", res.StatusCode)
	}
	doc = res.doc(t)
	if doc.Find("#compare-from-error").Text() != "There is no version 7." || doc.Find("#compare-to-error").Text() != "Choose a version or the live plan." {
		t.Errorf("errors %q %q", doc.Find("#compare-from-error").Text(), doc.Find("#compare-to-error").Text())
	}
}

func TestEachDownloadHasItsContentTypeAndFileName(t *testing.T) {
	w := newRoleWorld(t)
	must(w.app.Versions.Freeze(asActor(w.engineer), w.project.ID, "v1"))
	b := w.app.signedIn(w.viewer)
	const name = "northwind-secret-merger"
	files := map[string]string{
		"migration-plan.pdf": "application/pdf", "migration-plan.html": "text/html; charset=utf-8", "migration-plan.md": "text/markdown; charset=utf-8",
		"test-plan.pdf": "application/pdf", "test-plan.html": "text/html; charset=utf-8", "test-plan.md": "text/markdown; charset=utf-8",
		"rollback-plan.pdf": "application/pdf", "rollback-plan.html": "text/html; charset=utf-8", "rollback-plan.md": "text/markdown; charset=utf-8",
		"matrix.xlsx": xlsxType, "pii-register.xlsx": xlsxType, "defect-log.xlsx": xlsxType,
		"plan.json": "application/json", "okta.tf": "text/plain; charset=utf-8",
	}
	for file, ctype := range files {
		for _, tc := range []struct{ path, want string }{
			{"/live/" + file, name + "-" + strings.Replace(file, ".", ".", 1)},
			{"/versions/1/" + file, name + "-" + strings.Replace(file, ".", "-v1.", 1)},
		} {
			res := b.get(documentsPath(w, tc.path))
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d: %.200s", tc.path, res.StatusCode, res.Body)
				continue
			}
			if got := res.Header.Get("Content-Type"); got != ctype {
				t.Errorf("%s: Content-Type %q, want %q", tc.path, got, ctype)
			}
			if got, want := res.Header.Get("Content-Disposition"), `attachment; filename="`+tc.want+`"`; got != want {
				t.Errorf("%s: Content-Disposition %q, want %q", tc.path, got, want)
			}
			switch {
			case strings.HasSuffix(file, ".pdf") && !strings.HasPrefix(res.Body, "%PDF-"):
				t.Errorf("%s is not a PDF", tc.path)
			case strings.HasSuffix(file, ".xlsx") && !strings.HasPrefix(res.Body, "PK"):
				t.Errorf("%s is not a workbook", tc.path)
			case strings.HasSuffix(file, ".json") && !strings.Contains(res.Body, `"format": "ferry-plan"`):
				t.Errorf("%s is not a plan file", tc.path)
			}
		}
	}
	// The version's plan file is the frozen one, byte for byte.
	v := must(w.app.Versions.Find(context.Background(), w.project.ID, 1))
	if got := b.get(documentsPath(w, "/versions/1/plan.json")).Body; got != v.PlanJSON {
		t.Error("the version's plan file is not the frozen plan")
	}
	for _, path := range []string{"/live/secrets.txt", "/versions/1/../../x", "/versions/2/plan.json", "/versions/0/plan.json", "/versions/one/plan.json"} {
		if res := b.get(documentsPath(w, path)); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, res.StatusCode)
		}
	}
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
