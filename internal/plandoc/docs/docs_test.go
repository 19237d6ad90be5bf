package docs_test

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/PuerkitoBio/goquery"
	"github.com/xuri/excelize/v2"

	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plandoc/docs"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.md from the fixed plan")

// TestTheDocumentsOfTheFixedPlan seeds the fixed plan once (the demo, test
// batches run against the sandbox, a rollback) and checks every format.
func TestTheDocumentsOfTheFixedPlan(t *testing.T) {
	w := newWorld(t)
	pid := seedFixedPlan(t, w, "")
	for _, c := range []struct {
		name string
		test func(*testing.T, *world, int64)
	}{
		{"TheMarkdownOfAFixedPlanMatchesTheGoldenFiles", testTheMarkdownOfAFixedPlanMatchesTheGoldenFiles},
		{"TheDocumentsSayWhichVersionAndWhoSigned", testTheDocumentsSayWhichVersionAndWhoSigned},
		{"MarkdownKeepsHostileNamesAsText", testMarkdownKeepsHostileNamesAsText},
		{"HTMLIsOneSafeWellFormedPage", testHTMLIsOneSafeWellFormedPage},
		{"ThePDFHasATitlePageNumberedPagesAndReadsBack", testThePDFHasATitlePageNumberedPagesAndReadsBack},
		{"TheWorkbooksReadBack", testTheWorkbooksReadBack},
		{"TerraformDeclaresTheAttributesAndGroups", testTerraformDeclaresTheAttributesAndGroups},
		{"NoDocumentHoldsSecretsOrStagedValues", testNoDocumentHoldsSecretsOrStagedValues},
		{"FrozenFactsRenderTheSame", testFrozenFactsRenderTheSame},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, w, pid) })
	}
}

func render(t *testing.T, d *docs.Document, format string, k docs.Kind) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "md":
		err = docs.Markdown(&b, d, k)
	case "html":
		err = docs.HTML(&b, d, k)
	case "pdf":
		err = docs.PDF(&b, d, k)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", format, k, err)
	}
	return b.Bytes()
}

func xlsx(t *testing.T, d *docs.Document, s docs.Sheet) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := docs.XLSX(&b, d, s); err != nil {
		t.Fatalf("xlsx %s: %v", s, err)
	}
	return b.Bytes()
}

func testTheMarkdownOfAFixedPlanMatchesTheGoldenFiles(t *testing.T, w *world, pid int64) {
	d := document(t, w, pid)
	for _, k := range docs.Kinds() {
		got := render(t, d, "md", k)
		golden := filepath.Join("testdata", string(k)+".golden.md")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/plandoc/docs/ -run Golden -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (run with -update if the change is intended):\n%s", k, golden, firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + x + "\nwant: " + y
		}
	}
	return ""
}

func testTheDocumentsSayWhichVersionAndWhoSigned(t *testing.T, w *world, pid int64) {
	d := document(t, w, pid)
	md := string(render(t, d, "md", docs.Migration))
	for _, want := range []string{
		"Version 3, frozen by Lee Lead on 2026-03-02 08:00 UTC (for the CAB)",
		"Project lead: signed by Lee Lead, version 3, on 2026-03-02 08:30 UTC (current)",
		"Legal reviewer: signed by Lena Legal, version 2, on 2026-03-01 09:00 UTC; the plan has changed since",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the migration plan does not say %q", want)
		}
	}
	d.Version, d.Signatures = nil, nil
	md = string(render(t, d, "md", docs.Rollback))
	for _, want := range []string{"Live plan, not frozen", "Project lead: not signed", "Legal reviewer: not signed"} {
		if !strings.Contains(md, want) {
			t.Errorf("the live rollback plan does not say %q", want)
		}
	}
}

func testMarkdownKeepsHostileNamesAsText(t *testing.T, w *world, pid int64) {
	d := document(t, w, pid)
	d.Plan.Project.Name = "# x | y"
	md := string(render(t, d, "md", docs.Test))
	first, _, _ := strings.Cut(md, "\n")
	if first != `# Test plan: \# x \| y` {
		t.Errorf("the title line = %q", first)
	}
	// Every table row has as many cells as its header.
	var width int
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			width = 0
			continue
		}
		n := strings.Count(line, "|") - strings.Count(line, `\|`)
		if width == 0 {
			width = n
		} else if n != width {
			t.Errorf("a table row has %d cell borders, its header %d: %s", n, width, line)
		}
	}
	if !strings.Contains(md, `Second defect \| with a pipe`) {
		t.Error("the defect with a pipe is not escaped")
	}
}

func testHTMLIsOneSafeWellFormedPage(t *testing.T, w *world, pid int64) {
	hostile := `<script>alert(1)</script>`
	d := document(t, w, pid)
	d.Plan.Project.Name = hostile
	for _, k := range docs.Kinds() {
		page := render(t, d, "html", k)
		doc, err := goquery.NewDocumentFromReader(bytes.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		if n := doc.Find("script").Length(); n != 0 {
			t.Errorf("%s: %d script elements", k, n)
		}
		if bytes.Contains(page, []byte(hostile)) {
			t.Errorf("%s: the project name is not escaped", k)
		}
		if got := doc.Find("h1").Text(); got != k.Title()+": "+hostile {
			t.Errorf("%s: h1 = %q", k, got)
		}
		if doc.Find("title").Text() != k.Title()+": "+hostile {
			t.Errorf("%s: title = %q", k, doc.Find("title").Text())
		}
		if doc.Find("link, img, iframe, object").Length() != 0 || bytes.Contains(page, []byte("http://")) {
			t.Errorf("%s: the page refers to something outside itself", k)
		}
		if !strings.Contains(doc.Find("style").Text(), "@media print") {
			t.Errorf("%s: no print styles", k)
		}
		if doc.Find("table thead th").Length() == 0 {
			t.Errorf("%s: no table with a header", k)
		}
	}
	page := render(t, d, "html", docs.Migration)
	doc, _ := goquery.NewDocumentFromReader(bytes.NewReader(page))
	var headings []string
	doc.Find("h2").Each(func(_ int, s *goquery.Selection) { headings = append(headings, s.Text()) })
	for _, want := range []string{"Scope and goals", "User types", "Source systems", "Applications", "Attribute-mapping matrix", "PII register",
		"Data quality", "Password strategy", "Test plan", "Rollback plan", "Cut-over schedule", "Open risks"} {
		found := false
		for _, h := range headings {
			found = found || h == want
		}
		if !found {
			t.Errorf("the migration plan has no heading %q (has %q)", want, headings)
		}
	}
}

var (
	pdfStream = regexp.MustCompile(`(?s)stream\r?\n(.*?)endstream`)
	pdfShow   = regexp.MustCompile(`\(((?:\\.|[^\\)])*)\)Tj`)
)

// pdfText extracts the text the PDF shows: fpdf writes UTF-8 fonts' text
// as UTF-16BE strings in zlib-compressed content streams.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	var out strings.Builder
	for _, m := range pdfStream.FindAllSubmatch(pdf, -1) {
		r, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue
		}
		content, err := io.ReadAll(r)
		if err != nil || !bytes.Contains(content, []byte("BT")) {
			continue
		}
		for _, sm := range pdfShow.FindAllSubmatch(content, -1) {
			var raw []byte
			for i := 0; i < len(sm[1]); i++ {
				c := sm[1][i]
				if c == '\\' && i+1 < len(sm[1]) {
					i++
					switch sm[1][i] {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					default:
						c = sm[1][i]
					}
				}
				raw = append(raw, c)
			}
			u := make([]uint16, len(raw)/2)
			for i := range u {
				u[i] = uint16(raw[2*i])<<8 | uint16(raw[2*i+1])
			}
			out.WriteString(string(utf16.Decode(u)))
			out.WriteByte('\n')
		}
	}
	return out.String()
}

var pageObject = regexp.MustCompile(`/Type /Page\b[^s]`)

func testThePDFHasATitlePageNumberedPagesAndReadsBack(t *testing.T, w *world, pid int64) {
	d := document(t, w, pid)
	d.Plan.Project.Name = "Ærø → Okta"
	for _, k := range docs.Kinds() {
		pdf := render(t, d, "pdf", k)
		if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) || !bytes.Contains(pdf[len(pdf)-32:], []byte("%%EOF")) {
			t.Fatalf("%s: not a PDF", k)
		}
		pages := len(pageObject.FindAll(pdf, -1))
		m := regexp.MustCompile(`/Type /Pages\s*/Kids \[[^\]]*\]\s*/Count (\d+)`).FindSubmatch(pdf)
		if m == nil {
			t.Fatalf("%s: no page tree", k)
		}
		count, _ := strconv.Atoi(string(m[1]))
		if count != pages || pages < 2 {
			t.Errorf("%s: %d page objects, /Count %d (want a title page and more)", k, pages, count)
		}
		if k == docs.Migration && pages < 4 {
			t.Errorf("the migration plan has only %d pages", pages)
		}
		if !bytes.Contains(pdf, []byte("/FontFile2")) {
			t.Errorf("%s: the UTF-8 font is not embedded", k)
		}
		text := pdfText(t, pdf)
		for _, want := range []string{k.Title(), "Ærø → Okta", "Version 3, frozen by Lee Lead", fmt.Sprintf("Page 1 of %d", pages), fmt.Sprintf("Page %d of %d", pages, pages)} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the PDF does not show %q", k, want)
			}
		}
		if k == docs.Test && (!strings.Contains(text, "Test batches") || !strings.Contains(text, "Defect log")) {
			t.Errorf("the test plan's PDF lacks its sections:\n%s", text)
		}
		if again := render(t, d, "pdf", k); !bytes.Equal(pdf, again) {
			t.Errorf("%s: the same document gives different PDF bytes", k)
		}
	}
}

func testTheWorkbooksReadBack(t *testing.T, w *world, pid int64) {
	d := document(t, w, pid)
	cases := []struct {
		sheet   docs.Sheet
		names   []string
		header  []string
		find    []string // cells of one row that must be there
		rowsMin int
	}{
		{docs.SheetMatrix, []string{"Matrix"}, docs.MatrixHeader, []string{"Active Directory (Globex)", "c", "Text", "Yes, personal data", "mapped", "countryCode", "1", "country to ISO alpha-2 code"}, 5},
		{docs.SheetPII, []string{"PII register", "Sign-off"}, docs.PIIHeader, nil, 1},
		{docs.SheetDefects, []string{"Defect log"}, docs.DefectHeader, []string{"D-1", "UC-7 sign-in after migration", "Users with an apostrophe in the surname fail the login pattern."}, 2},
	}
	for _, c := range cases {
		f, err := excelize.OpenReader(bytes.NewReader(xlsx(t, d, c.sheet)))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.GetSheetList(); strings.Join(got, ",") != strings.Join(c.names, ",") {
			t.Errorf("%s: sheets %q, want %q", c.sheet, got, c.names)
		}
		rows, err := f.GetRows(c.names[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) < c.rowsMin+1 || strings.Join(rows[0], "|") != strings.Join(c.header, "|") {
			t.Fatalf("%s: %d rows, header %q", c.sheet, len(rows), rows[0])
		}
		if c.find != nil {
			found := false
			for _, r := range rows[1:] {
				if len(r) >= len(c.find) && strings.Join(r[:len(c.find)], "|") == strings.Join(c.find, "|") {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no row starts with %q", c.sheet, c.find)
			}
		}
		f.Close()
	}
	// A known cell of the PII register: every field confirmed as personal
	// data is a row, and the sign-off sheet says whether it is signed off.
	f, _ := excelize.OpenReader(bytes.NewReader(xlsx(t, d, docs.SheetPII)))
	defer f.Close()
	var pii int
	for _, s := range d.Plan.Sources {
		for _, fl := range s.Fields {
			if fl.PII == mapping.PIIYes {
				pii++
			}
		}
	}
	rows, _ := f.GetRows("PII register")
	if len(rows)-1 != pii {
		t.Errorf("the register has %d rows; the plan has %d PII fields", len(rows)-1, pii)
	}
	if v, _ := f.GetCellValue("Sign-off", "A2"); v != "Sign-off" {
		t.Errorf("Sign-off!A2 = %q", v)
	}
}

func testTerraformDeclaresTheAttributesAndGroups(t *testing.T, w *world, pid int64) {
	d := document(t, w, pid)
	var b bytes.Buffer
	if err := docs.Terraform(&b, d.Plan); err != nil {
		t.Fatal(err)
	}
	tf := b.String()
	for _, want := range []string{
		`resource "okta_user_schema_property" "costCentre" {`,
		`  index       = "costCentre"`,
		`  max_length  = 12`,
		`  pattern     = "[A-Z0-9-]+"`,
		`resource "okta_user_schema_property" "badgeColour" {`,
		`  title       = "Badge \"colour\""`,
		`  enum        = ["red", "green", "blue"]`,
		"  one_of {\n    const = \"red\"\n    title = \"red\"\n  }",
		`resource "okta_group" "ferry_Legacy_portal" {`,
		`  name        = "Ferry: Legacy portal"`,
	} {
		if !strings.Contains(tf, want) {
			t.Errorf("the Terraform lacks %q:\n%s", want, tf)
		}
	}
	if n := strings.Count(tf, `resource "okta_group"`); n != len(d.Plan.Sources) {
		t.Errorf("%d groups for %d sources", n, len(d.Plan.Sources))
	}
	// Resource names are unique even when names clash after sanitising.
	d.Plan.Sources = append(d.Plan.Sources, d.Plan.Sources[len(d.Plan.Sources)-1])
	d.Plan.Sources[len(d.Plan.Sources)-1].Name = "Legacy/portal ${x}"
	b.Reset()
	if err := docs.Terraform(&b, d.Plan); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `resource "okta_group" "ferry_Legacy_portal_x" {`) && !strings.Contains(b.String(), `"ferry_Legacy_portal_2"`) {
		t.Errorf("clashing names are not made unique:\n%s", b.String())
	}
	if !strings.Contains(b.String(), `"Ferry: Legacy/portal $${x}"`) {
		t.Errorf("a template sequence is not escaped:\n%s", b.String())
	}
}

// Every format of every document: no token, no password hash, no staged
// value of a personal-data field.
func testNoDocumentHoldsSecretsOrStagedValues(t *testing.T, w *world, pid int64) {
	d := document(t, w, pid)
	if d.Facts.OrgHost != "acme.okta.com" {
		t.Errorf("org host = %q", d.Facts.OrgHost)
	}
	outputs := map[string][]byte{}
	for _, k := range docs.Kinds() {
		for _, f := range []string{"md", "html", "pdf"} {
			outputs[string(k)+"."+f] = render(t, d, f, k)
		}
		outputs[string(k)+".pdf.text"] = []byte(pdfText(t, outputs[string(k)+".pdf"]))
	}
	for _, s := range docs.Sheets() {
		f, err := excelize.OpenReader(bytes.NewReader(xlsx(t, d, s)))
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		for _, name := range f.GetSheetList() {
			rows, _ := f.GetRows(name)
			for _, r := range rows {
				text.WriteString(strings.Join(r, "\t") + "\n")
			}
		}
		f.Close()
		outputs[string(s)+".xlsx"] = []byte(text.String())
	}
	var tf bytes.Buffer
	if err := docs.Terraform(&tf, d.Plan); err != nil {
		t.Fatal(err)
	}
	outputs["plan.tf"] = tf.Bytes()
	facts, _ := json.Marshal(d.Facts)
	outputs["facts.json"] = facts

	bad := []string{orgToken, legacyPassword, "$2a$", "$2b$", "{SSHA", "$argon2", "@acme.example", "@globex.example", "@legacy.example"}
	bad = append(bad, w.hashes...)
	// The staged values of every personal-data field.
	piiField := map[string]bool{}
	for _, s := range d.Plan.Sources {
		for _, f := range s.Fields {
			if f.PII == mapping.PIIYes {
				piiField[s.Name+"\x00"+f.Name] = true
			}
		}
	}
	sourceName := map[int64]string{}
	for _, s := range must(w.plan.FindSources(w.ctx, pid)) {
		sourceName[s.ID] = s.Name
	}
	values := 0
	for _, ex := range must(w.staging.FindExtracts(w.ctx, pid, 0)) {
		recs := must(w.staging.FindRecords(w.ctx, ex.ID, 0, 50))
		for _, r := range recs {
			for attr, vals := range r.Attributes {
				if !piiField[sourceName[ex.SourceID]+"\x00"+attr] {
					continue
				}
				for _, v := range vals {
					if len(v) >= 6 {
						bad = append(bad, v)
						values++
					}
				}
			}
		}
	}
	if values == 0 {
		t.Fatal("no staged personal-data value was checked")
	}
	for name, out := range outputs {
		for _, b := range bad {
			if bytes.Contains(out, []byte(b)) {
				t.Errorf("%s holds %q", name, b)
			}
		}
	}
	if !bytes.Contains(outputs["rollback.md"], []byte("acme.okta.com")) {
		t.Error("the rollback plan does not name the org")
	}
}

// A frozen version keeps its facts as JSON: rendered from the JSON, the
// documents are the same.
func testFrozenFactsRenderTheSame(t *testing.T, w *world, pid int64) {
	d := document(t, w, pid)
	raw, err := json.Marshal(d.Facts)
	if err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(must(docs.GatherFacts(w.ctx, w.facts, pid)))
	if err != nil || !bytes.Equal(raw, again) {
		t.Fatalf("the facts are not deterministic (%v)", err)
	}
	var frozen docs.Facts
	if err := json.Unmarshal(raw, &frozen); err != nil {
		t.Fatal(err)
	}
	thawed := *d
	thawed.Facts = &frozen
	for _, k := range docs.Kinds() {
		if a, b := render(t, d, "md", k), render(t, &thawed, "md", k); !bytes.Equal(a, b) {
			t.Errorf("%s from frozen facts differs:\n%s", k, firstDiff(b, a))
		}
	}
}
