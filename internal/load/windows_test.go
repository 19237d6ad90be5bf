package load

import (
	"testing"
	"time"
)

func TestParseWindow(t *testing.T) {
	for _, bad := range []string{"22", "22:00", "25:00-06:00", "22:60-06:00", "22:0-06:00", "06:00-06:00", "x-y", "22:00-06:00-07:00"} {
		if w, err := ParseWindow(bad, ""); err == nil {
			t.Errorf("ParseWindow(%q) = %v, want an error", bad, w)
		}
	}
	if _, err := ParseWindow("22:00-06:00", "Mars/Olympus"); err == nil {
		t.Error("an unknown time zone is accepted")
	}
	if w, err := ParseWindow("  ", ""); w != nil || err != nil {
		t.Errorf("empty: %v %v", w, err)
	}
	w, err := ParseWindow("22:00–06:30", "Europe/Berlin")
	if err != nil || w.Start != 22*60 || w.End != 6*60+30 || w.Location.String() != "Europe/Berlin" {
		t.Fatalf("ParseWindow: %+v %v", w, err)
	}
	if got := w.String(); got != "22:00–06:30 Europe/Berlin" {
		t.Errorf("String = %q", got)
	}
}

func TestWindowOpenAndFinish(t *testing.T) {
	night, _ := ParseWindow("22:00-06:00", "UTC")
	day, _ := ParseWindow("09:00-17:00", "UTC")
	at := func(h, m int) time.Time { return time.Date(2026, 3, 2, h, m, 0, 0, time.UTC) }
	cases := []struct {
		w    *Window
		t    time.Time
		open bool
		next time.Time
	}{
		{night, at(23, 0), true, at(23, 0)},
		{night, at(3, 0), true, at(3, 0)},
		{night, at(6, 0), false, at(22, 0)},
		{night, at(12, 0), false, at(22, 0)},
		{day, at(8, 59), false, at(9, 0)},
		{day, at(17, 0), false, at(9, 0).AddDate(0, 0, 1)},
		{nil, at(12, 0), true, at(12, 0)},
	}
	for _, c := range cases {
		if got := c.w.Open(c.t); got != c.open {
			t.Errorf("%v Open(%s) = %v", c.w, c.t.Format("15:04"), got)
		}
		if c.w != nil {
			if got := c.w.NextOpen(c.t); !got.Equal(c.next) {
				t.Errorf("%v NextOpen(%s) = %s, want %s", c.w, c.t.Format("15:04"), got, c.next)
			}
		}
	}
	// 10 hours of work from noon in a night window: 8 hours the first
	// night (22:00–06:00), the last 2 the next night.
	if got, want := night.FinishAt(at(12, 0), 10*time.Hour), at(0, 0).AddDate(0, 0, 2); !got.Equal(want) {
		t.Errorf("FinishAt = %s, want %s", got, want)
	}
	if got, want := (*Window)(nil).FinishAt(at(12, 0), time.Hour), at(13, 0); !got.Equal(want) {
		t.Errorf("no window: FinishAt = %s, want %s", got, want)
	}
}

// A run outside its window waits (by the run's clock) until it opens and
// says so, then loads everyone.
func TestRunWaitsForItsWindow(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	logins := f.addRecords(src, "wn", 3)
	now := f.clock.Now()
	start := now.Add(2 * time.Hour)
	w := &Window{Start: start.Hour()*60 + start.Minute(), End: (start.Hour()*60 + start.Minute() + 60) % (24 * 60), Location: time.UTC}
	run := f.start(NewRun{Window: w})
	if run.WindowStart == nil || *run.WindowStart != w.Start {
		t.Fatalf("window not recorded: %+v", run)
	}
	r := f.mustExecute(run.ID)
	if r.Status != StatusDone {
		t.Fatalf("status %s %q", r.Status, r.Message)
	}
	if f.clock.Now().Before(start) {
		t.Errorf("the run worked before its window opened: clock at %s, window opens %s", f.clock.Now(), start)
	}
	f.assertLoaded(run.ID, logins, 0)
}
