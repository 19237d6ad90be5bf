// Package dbtest gives tests a fresh, migrated database of their own and a
// fixed clock, so that no test sees another's data.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver, for creating test schemas

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

// PostgresEnv names the variable that, when set to a postgres:// URL, makes
// every test database a fresh schema on that server instead of a SQLite file.
const PostgresEnv = "FERRY_TEST_POSTGRES_URL"

// MustOpen returns a migrated database of the test's own, dropped or deleted
// when the test ends: a SQLite file in a temporary directory, or a fresh
// PostgreSQL schema when FERRY_TEST_POSTGRES_URL is set.
func MustOpen(tb testing.TB, clock *Clock) *db.DB {
	tb.Helper()
	return mustOpen(tb, clock, false)
}

// MustOpenEmpty is MustOpen without the migrations, for migration tests.
func MustOpenEmpty(tb testing.TB, clock *Clock) *db.DB {
	tb.Helper()
	return mustOpen(tb, clock, true)
}

func mustOpen(tb testing.TB, clock *Clock, noMigrate bool) *db.DB {
	tb.Helper()
	if clock == nil {
		clock = NewClock()
	}
	url := filepath.Join(tb.TempDir(), "ferry.db")
	if pg := os.Getenv(PostgresEnv); pg != "" {
		url = postgresSchema(tb, pg)
	}
	d, err := db.Open(context.Background(), db.Options{
		URL:       url,
		Now:       clock.Now,
		Logger:    slog.New(slog.DiscardHandler),
		NoMigrate: noMigrate,
	})
	if err != nil {
		tb.Fatalf("open test database: %v", err)
	}
	tb.Cleanup(func() { _ = d.Close() })
	return d
}

// postgresSchema creates a schema of the test's own on the server at base and
// returns a URL whose search_path points at it; the schema is dropped when
// the test ends.
func postgresSchema(tb testing.TB, base string) string {
	tb.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("connect to %s: %v", PostgresEnv, err)
	}
	tb.Cleanup(func() { _ = admin.Close() })
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("create test schema: %v", err)
	}
	tb.Cleanup(func() { _, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}
