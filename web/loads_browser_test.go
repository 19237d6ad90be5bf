package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An engineer runs test batch 1 from the Loads page against Ferry's
// sandbox: the pre-flight passes, Start leads to the run's page, whose
// progress updates by itself until the batch has passed; the ladder then
// offers test batch 2.
func TestBrowserEngineerRunsTheFirstTestBatch(t *testing.T) {
	findChromium(t)
	w := newLoadWorld(t)
	w.connectSandbox(t)
	w.stage(t, true)
	b := newChromeTab(t, w.app)
	b.signIn(w.engineer.Email)

	b.open(w.path("/loads"))
	b.follow(`#rung-1 a.run-rung`)
	b.follow("#check")
	if got := b.text("#preflight-users"); got != "10" {
		t.Fatalf("pre-flight users: %q (%s)", got, b.text("#preflight-checks"))
	}
	b.follow("#start")
	if got := b.flash(); !strings.Contains(got, "Test batch 1 (run 1) started") {
		t.Errorf("flash after Start: %q", got)
	}
	// The page polls its progress and reloads once the run has ended.
	b.do("wait for the verdict", chromedp.WaitVisible("#verdict"))
	if got := b.text("#verdict"); !strings.HasPrefix(got, "Passed") {
		t.Fatalf("verdict: %q", got)
	}
	if got := b.text("#run-status"); got != "done" {
		t.Errorf("status: %q", got)
	}
	b.assertClean("a test batch")
	b.open(w.path("/loads"))
	if got := b.text("#rung-2 a.run-rung"); got != "Run test batch 2" {
		t.Errorf("next rung: %q", got)
	}
}
