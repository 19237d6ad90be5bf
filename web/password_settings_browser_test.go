package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An engineer sets a source's password settings with a wrong salt
// encoding, proves them with a test account (refused, with the encoding that
// works), fixes them and proves them again; the password never stays in the
// page.
func TestBrowserEngineerSetsAndProvesPasswordSettings(t *testing.T) {
	findChromium(t)
	app := newTestApp(t)
	w := newPasswordWorld(t, app)
	b := newChromeTab(t, app)
	b.signIn(w.eng.Email)

	b.open(w.path(""))
	if got := b.text("#prove .muted"); got != "Save the settings first." {
		t.Errorf("prove before any settings: %q", got)
	}
	b.do("clear the form", chromedp.Clear(chromedp.ID("f-attribute")), chromedp.Clear(chromedp.ID("f-salt_attribute")), chromedp.Clear(chromedp.ID("f-formats")))
	b.typeInto("f-attribute", "password_hash")
	b.typeInto("f-salt_attribute", "password_salt")
	b.typeInto("f-formats", "sha512, bcrypt")
	b.choose("f-default_format", "sha512")
	b.choose("f-salt_encoding", "text") // wrong: the stored salt is base64
	b.choose("f-salt_order", "POSTFIX")
	b.follow("#save-credentials")
	if got := b.flash(); !strings.HasPrefix(got, `Password settings of "Shop DB" saved.`) {
		t.Fatalf("flash after saving %q", got)
	}

	prove := func() {
		t.Helper()
		b.typeInto("f-record", "C-100")
		b.typeInto("f-password", proofPassword)
		b.follow("#prove-button")
		if got := run(b, "read the password input", chromedp.Value(chromedp.ID("f-password"))); got != "" {
			t.Fatal("the password came back into the form")
		}
		if html := run(b, "read the page", chromedp.Evaluate[string]("document.documentElement.outerHTML")); strings.Contains(html, proofPassword) {
			t.Fatal("the page holds the password")
		}
	}
	prove()
	if got := b.text("#verdict .badge"); got != "not proven" {
		t.Fatalf("verdict with the wrong salt encoding: %q", got)
	}
	if got := b.text("#fits"); !strings.Contains(got, "salt encoding base64, salt order POSTFIX") {
		t.Errorf("the settings that would work: %q", got)
	}
	b.assertClean("a refused proof")

	b.choose("f-salt_encoding", "base64")
	b.follow("#save-credentials")
	prove()
	if got := b.text("#verdict .badge"); got != "proven" {
		t.Fatalf("verdict with the right settings: %q (%s)", got, b.text("#verdict"))
	}
	b.assertClean("a proof")
}
