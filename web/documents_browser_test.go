package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// downloaded is what the browser received for a link: fetched with the
// page's own session, as clicking the link would.
type downloaded struct {
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Disposition string `json:"disposition"`
	// Magic are the body's first four bytes, as text.
	Magic string `json:"magic"`
}

// fetchLink fetches the href of the link sel names, with the browser's cookies.
func (b *chromeTab) fetchLink(sel string) downloaded {
	b.t.Helper()
	js := fmt.Sprintf(`(async () => {
		const a = document.querySelector(%q);
		if (!a) return {status: 0, contentType: "", disposition: "", magic: "no such link"};
		const r = await fetch(a.href, {credentials: "same-origin"});
		const bytes = new Uint8Array(await r.arrayBuffer()).slice(0, 4);
		return {status: r.status, contentType: r.headers.get("Content-Type") || "",
			disposition: r.headers.get("Content-Disposition") || "", magic: String.fromCharCode(...bytes)};
	})()`, sel)
	return run(b, "download "+sel, chromedp.Evaluate[downloaded](js, chromedp.EvalAwaitPromise))
}

// An engineer, in a real browser, freezes the plan as version 1 (after a
// note the form refuses), downloads its PDF and its matrix workbook, adds a
// user type (through the People page, as the lead would), freezes
// version 2, and compares the two versions, seeing the new user type.
func TestBrowserEngineerFreezesDownloadsAndComparesVersions(t *testing.T) {
	findChromium(t)
	w := newRoleWorld(t)
	b := newChromeTab(t, w.app)
	b.signIn(w.engineer.Email)
	docsPath := documentsPath(w, "")

	b.open(docsPath)
	if got := b.text("#versions-empty"); !strings.Contains(got, "No version yet") {
		t.Errorf("empty state: %q", got)
	}
	// A note of white space only is refused next to the field, nothing is frozen.
	b.typeInto("f-note", "   ")
	b.do("submit the freeze form", chromedp.Click(chromedp.CSS("#freeze")))
	b.do("wait for the refusal", chromedp.WaitVisible(chromedp.CSS("#freeze-form .field.invalid")))
	if got := b.text("#freeze-form .field.invalid"); !strings.Contains(got, "Note is required") {
		t.Errorf("field error: %q", got)
	}
	b.takeProblems() // the refusal's 422, which the browser logs
	b.do("write the note", chromedp.SetValue(chromedp.ID("f-note"), "For the legal review"))
	b.follow("#freeze")
	if got := b.flash(); !strings.Contains(got, "Version 1 frozen") {
		t.Errorf("flash after freezing: %q", got)
	}
	if got := b.text("#version-1 .version-note"); got != "For the legal review" {
		t.Errorf("version 1's note: %q", got)
	}
	b.assertClean("freeze version 1")

	pdf := b.fetchLink(`#version-1-downloads a[data-doc="migration-plan.pdf"]`)
	if pdf.Status != 200 || pdf.ContentType != "application/pdf" || pdf.Magic != "%PDF" ||
		pdf.Disposition != `attachment; filename="northwind-secret-merger-migration-plan-v1.pdf"` {
		t.Errorf("the PDF download: %+v", pdf)
	}
	xlsx := b.fetchLink(`#version-1-downloads a[data-doc="matrix.xlsx"]`)
	if xlsx.Status != 200 || xlsx.ContentType != xlsxType || !strings.HasPrefix(xlsx.Magic, "PK") ||
		xlsx.Disposition != `attachment; filename="northwind-secret-merger-matrix-v1.xlsx"` {
		t.Errorf("the workbook download: %+v", xlsx)
	}
	b.assertClean("download")

	// A change to the plan: the lead adds a user type on the People page.
	lead := newChromeTab(t, w.app)
	lead.signIn(w.lead.Email)
	lead.open(fmt.Sprintf("/projects/%d/people/new", w.project.ID))
	lead.choose("f-kind", "contractor")
	lead.typeInto("f-name", "Seasonal contractors")
	lead.replaceValue("f-user_count", "40")
	lead.follow(`main form button[type="submit"]`)
	lead.assertClean("add a user type")

	b.open(docsPath)
	b.typeInto("f-note", "With the contractors")
	b.follow("#freeze")
	if got := b.flash(); !strings.Contains(got, "Version 2 frozen") {
		t.Errorf("flash after freezing again: %q", got)
	}

	b.follow(`a[href$="/documents/compare"]`)
	b.choose("compare-from", "1")
	b.choose("compare-to", "2")
	b.follow("#compare")
	if got := b.text("#compare-title"); got != "From version 1 to version 2" {
		t.Errorf("comparison title: %q", got)
	}
	if got := b.text("#diff-user_types .added"); got != "Seasonal contractors" {
		t.Errorf("added user types: %q", got)
	}
	if got := b.text("#diff-applications"); !strings.Contains(got, "No change.") {
		t.Errorf("applications: %q", got)
	}
	b.assertClean("compare")
}
