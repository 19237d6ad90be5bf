// Package dbtest gives tests a fresh, migrated database of their own and a
// fixed clock, so that no test sees another's data.
package dbtest

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/db"
)

// Clock is a fixed, manually advanced clock for tests.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock stopped at 2026-03-02 09:00 UTC.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// MustOpen returns a migrated SQLite database in a temporary directory,
// closed when the test ends.
func MustOpen(tb testing.TB, clock *Clock) *db.DB {
	tb.Helper()
	if clock == nil {
		clock = NewClock()
	}
	d, err := db.Open(context.Background(), db.Options{
		URL:    filepath.Join(tb.TempDir(), "ferry.db"),
		Now:    clock.Now,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(func() { _ = d.Close() })
	return d
}
