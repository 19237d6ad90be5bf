package load

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// Window is the hours of the day a run may work (off-peak hours, say): it
// pauses outside them by itself and carries on when the window opens again.
type Window struct {
	// Start and End are minutes of the day; End before Start spans midnight
	// (22:00–06:00). Start == End is refused.
	Start, End int
	Location   *time.Location
}

// ParseWindow reads "22:00-06:00" in the IANA time zone tz (UTC when
// empty). The empty string is no window.
func ParseWindow(text, tz string) (*Window, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	from, to, ok := strings.Cut(text, "-")
	if !ok {
		from, to, ok = strings.Cut(text, "–")
	}
	if !ok {
		return nil, windowError("Write the window as two times of day, such as 22:00-06:00.")
	}
	start, err1 := parseClock(from)
	end, err2 := parseClock(to)
	if err1 != nil || err2 != nil {
		return nil, windowError("Times of day are HH:MM from 00:00 to 23:59, such as 22:00-06:00.")
	}
	if start == end {
		return nil, windowError("The window must not start and end at the same time (no window means any time).")
	}
	loc := time.UTC
	if tz = strings.TrimSpace(tz); tz != "" {
		if loc, err1 = time.LoadLocation(tz); err1 != nil || strings.ContainsAny(tz, " \t") {
			return nil, apperr.Invalid("Unknown time zone.", map[string]string{"window_tz": fmt.Sprintf("%q is not an IANA time zone such as Europe/Berlin.", tz)})
		}
	}
	return &Window{Start: start, End: end, Location: loc}, nil
}

func windowError(msg string) error {
	return apperr.Invalid(msg, map[string]string{"window": msg})
}

func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return 0, fmt.Errorf("no colon")
	}
	hh, err := strconv.Atoi(h)
	if err != nil || hh < 0 || hh > 23 || len(h) > 2 {
		return 0, fmt.Errorf("hour")
	}
	mm, err := strconv.Atoi(m)
	if err != nil || mm < 0 || mm > 59 || len(m) != 2 {
		return 0, fmt.Errorf("minute")
	}
	return hh*60 + mm, nil
}

// String is the window as people write it: "22:00–06:00 Europe/Berlin".
func (w *Window) String() string {
	if w == nil {
		return "any time"
	}
	return fmt.Sprintf("%02d:%02d–%02d:%02d %s", w.Start/60, w.Start%60, w.End/60, w.End%60, w.Location)
}

// minuteOf is t's minute of the day in the window's zone.
func (w *Window) minuteOf(t time.Time) int {
	lt := t.In(w.Location)
	return lt.Hour()*60 + lt.Minute()
}

// Open reports whether the run may work at t.
func (w *Window) Open(t time.Time) bool {
	if w == nil {
		return true
	}
	m := w.minuteOf(t)
	if w.Start < w.End {
		return m >= w.Start && m < w.End
	}
	return m >= w.Start || m < w.End
}

// NextOpen is the first moment at or after t when the window is open.
func (w *Window) NextOpen(t time.Time) time.Time {
	if w.Open(t) {
		return t
	}
	lt := t.In(w.Location)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, w.Location)
	for i := 0; i < 3; i++ {
		open := day.AddDate(0, 0, i).Add(time.Duration(w.Start) * time.Minute)
		if !open.Before(t) {
			return open
		}
	}
	return t // unreachable: a window opens every day
}

// nextClose is the first moment after t (open) when the window closes.
func (w *Window) nextClose(t time.Time) time.Time {
	lt := t.In(w.Location)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, w.Location)
	for i := 0; i < 3; i++ {
		closeAt := day.AddDate(0, 0, i).Add(time.Duration(w.End) * time.Minute)
		if closeAt.After(t) {
			return closeAt
		}
	}
	return t
}

// FinishAt estimates when work of duration d that starts at t ends, working
// only while the window is open.
func (w *Window) FinishAt(t time.Time, d time.Duration) time.Time {
	if w == nil {
		return t.Add(d)
	}
	for d > 0 {
		t = w.NextOpen(t)
		slot := w.nextClose(t).Sub(t)
		if slot >= d {
			return t.Add(d)
		}
		d -= slot
		t = t.Add(slot)
	}
	return t
}

// windowOf is a run's window (nil: any time).
func (r *Run) windowOf() *Window {
	if r.WindowStart == nil || r.WindowEnd == nil {
		return nil
	}
	loc, err := time.LoadLocation(r.WindowTZ)
	if err != nil || r.WindowTZ == "" {
		loc = time.UTC
	}
	return &Window{Start: *r.WindowStart, End: *r.WindowEnd, Location: loc}
}

// Window is the run's window, for pages (nil: any time).
func (r *Run) Window() *Window { return r.windowOf() }

// waitForWindow holds the run while its window is closed, saying so on the
// run; it returns ctx's error when the run stops meanwhile.
func (x *execution) waitForWindow(ctx context.Context) error {
	w := x.window
	now := x.s.now()
	if w.Open(now) {
		return nil
	}
	next := w.NextOpen(now)
	x.noteMessage(ctx, fmt.Sprintf("Waiting for its window (%s): carries on at %s.", w, next.In(w.Location).Format("Mon 15:04")))
	if err := x.pacer.Sleep(ctx, next.Sub(now)); err != nil {
		return err
	}
	x.noteMessage(ctx, "Working (inside its window "+w.String()+").")
	return nil
}

// noteMessage sets the run's message for people.
func (x *execution) noteMessage(ctx context.Context, msg string) {
	_, _ = x.s.db.WriteSQL().ExecContext(background(ctx), x.s.db.Bind(`UPDATE load_runs SET message = ?, updated_at = ? WHERE id = ?`),
		msg, x.s.now().UTC(), x.run.ID)
}
