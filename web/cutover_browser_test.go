package web_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// An engineer, in a real browser, plans two activation waves of the users
// loaded STAGED ahead (the second, the rest, is planned first and read;
// then the first, a pilot of six), reads each plan's sentences, starts the
// pilot and watches it run on the run page (slowed by the sandbox's
// latency and one request in flight, so that the live progress shows) until
// it is done; the Cut-over page then lists the pilot as done and says that
// the rest are still STAGED, to activate in the second wave.
func TestBrowserEngineerPlansTwoWavesAndRunsTheFirst(t *testing.T) {
	findChromium(t)
	w := newLoadWorld(t)
	sim := w.connectSandbox(t)
	w.stage(t, true)
	w.loadStaged(t, load.ModeNone)
	b := newChromeTab(t, w.app)
	b.signIn(w.engineer.Email)

	b.open(w.path("/cutover"))
	if got := b.text("#still-staged"); !strings.Contains(got, "12 users still STAGED") {
		t.Errorf("before any wave: %q", got)
	}
	b.follow("#new-wave")
	b.assertClean("open the wave form")

	logins := func(from, to int) string {
		var out []string
		for i := from; i <= to; i++ {
			out = append(out, fmt.Sprintf("user%02d@example.com", i))
		}
		return strings.Join(out, ",")
	}
	// The second wave: the rest.
	b.replaceValue("f-name", "Wave 2: the rest")
	b.typeInto("f-logins", logins(7, 12)) // empty: nothing to clear
	b.follow("#plan")
	if got := b.text("#plan-users"); got != "6" {
		t.Fatalf("wave 2 plan: %q users (%s)", got, b.text("main"))
	}
	sentences := b.text("#plan-sentences")
	for _, want := range []string{"This wave activates 6 users", "have no password: Okta emails each of them its activation link now, and they stay PROVISIONED until they set a password"} {
		if !strings.Contains(sentences, want) {
			t.Errorf("wave 2's plan does not say %q: %s", want, sentences)
		}
	}
	b.assertClean("plan wave 2")

	// The first wave: a pilot of six, one request at a time.
	b.replaceValue("f-name", "Wave 1: pilot")
	b.replaceValue("f-logins", logins(1, 6))
	b.replaceValue("f-max_in_flight", "1")
	b.follow("#plan")
	if got := b.text("#plan-users"); got != "6" {
		t.Fatalf("wave 1 plan: %q users", got)
	}
	if got := b.text("#plan-sentences"); !strings.Contains(got, "activates 6 users") || !strings.Contains(got, "PROVISIONED") {
		t.Errorf("wave 1's sentences: %s", got)
	}
	b.assertClean("plan wave 1")
	sim.SetFaults(oktasim.Faults{Latency: 300 * time.Millisecond})
	b.follow("#start")
	id := b.runIDOnPage(w)
	if got := b.flash(); !strings.Contains(got, "Activation wave Wave 1: pilot (run 2) started") {
		t.Errorf("flash after Start: %q", got)
	}
	// Live progress: the panel shows users activated while the wave runs.
	b.waitUntil("some users activated", `+(document.querySelector("#count-activated td.num")?.textContent || "0") > 0`)
	b.waitRunEnded()
	if got := b.text("#run-status"); got != "done" {
		t.Fatalf("the wave ended %q: %s", got, b.text("#run-message"))
	}
	if got := b.text("#count-activated td.num"); got != "6" {
		t.Errorf("activated: %q, want 6", got)
	}
	if got := b.text("#run-items"); !strings.Contains(got, "activation email") {
		t.Errorf("the users do not say how they were activated: %.300s", got)
	}
	sim.SetFaults(oktasim.Faults{})
	b.assertClean("run wave 1")

	// Back on the Cut-over page: the pilot is done, the rest still to run.
	b.open(w.path("/cutover"))
	if got := b.text(chromedp.CSS(fmt.Sprintf("#wave-%d", id))); !strings.Contains(got, "Wave 1: pilot") || !strings.Contains(got, "done") {
		t.Errorf("the pilot on the Cut-over page: %q", got)
	}
	if got := b.text("#still-staged"); !strings.Contains(got, "6 users still STAGED") {
		t.Errorf("the second wave is not still to run: %q", got)
	}
	if sim.UserCount() != 12 {
		t.Errorf("%d users in the org", sim.UserCount())
	}
	b.assertClean("the Cut-over page")
}
