package load

import (
	"testing"
)

func TestLoadHappyPath(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	logins := f.addRecords(src, "user", 12)
	run := f.start(NewRun{Kind: KindLoad, Activate: true})
	if run.Status != StatusQueued || run.Total != 12 || !run.Sandbox {
		t.Fatalf("new run: %+v", run)
	}
	got := f.mustExecute(run.ID)
	if got.Status != StatusDone {
		t.Fatalf("status %s: %s", got.Status, got.Message)
	}
	f.assertLoaded(run.ID, logins, 0)
}
