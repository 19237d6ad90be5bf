package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// mustOpen opens opts and closes the database when the test ends.
func mustOpen(t *testing.T, opts db.Options) *db.DB {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet()
	}
	d, err := db.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open %+v: %v", opts, err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestOpenAcceptsEachFormOfSQLiteLocation(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		opts     db.Options
		wantPath string
	}{
		{"the data directory, created when missing", db.Options{DataDir: filepath.Join(dir, "a", "b")}, filepath.Join(dir, "a", "b", "ferry.db")},
		{"a plain file path", db.Options{URL: filepath.Join(dir, "plain.db")}, filepath.Join(dir, "plain.db")},
		{"a sqlite:// URL", db.Options{URL: "sqlite://" + filepath.Join(dir, "scheme.db")}, filepath.Join(dir, "scheme.db")},
		{"a file: DSN with parameters", db.Options{URL: "file:" + filepath.Join(dir, "dsn.db") + "?_cache_size=-2000"}, filepath.Join(dir, "dsn.db")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustOpen(t, tt.opts)
			if d.Dialect != db.SQLite {
				t.Errorf("dialect = %q, want sqlite", d.Dialect)
			}
			if d.Location != tt.wantPath {
				t.Errorf("location = %q, want %q", d.Location, tt.wantPath)
			}
			if _, err := os.Stat(tt.wantPath); err != nil {
				t.Errorf("database file: %v", err)
			}
			if err := d.Ping(context.Background()); err != nil {
				t.Errorf("ping: %v", err)
			}
			cur, newest, err := d.SchemaVersion(context.Background())
			if err != nil || cur != newest || newest == 0 {
				t.Errorf("schema version = %d of %d (%v), want migrated", cur, newest, err)
			}
		})
	}
}

func TestOpenRefusesWithOneClearError(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "not-a-dir")
	if err := os.WriteFile(regular, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("this is not a database\n", 200)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		url  string
		want []string // substrings of the error
		deny []string // must not appear in the error
	}{
		{"a path under a regular file", filepath.Join(regular, "sub", "ferry.db"),
			[]string{"create database directory", filepath.Join(regular, "sub")}, nil},
		{"a file that is not a database", garbage,
			[]string{garbage}, nil},
		{"an unsupported scheme, without its password", "mysql://ferry:hunter2@db.example.com/ferry",
			[]string{"unsupported scheme", "mysql://", "db.example.com"}, []string{"hunter2"}},
		{"an in-memory database", ":memory:",
			[]string{"file path is required"}, nil},
		{"an in-memory file: DSN", "file::memory:?cache=shared",
			[]string{"file path is required"}, nil},
		{"an unreachable PostgreSQL server, without its password", "postgres://ferry:hunter2@127.0.0.1:1/ferry?sslmode=disable&connect_timeout=5",
			[]string{"PostgreSQL", "127.0.0.1:1"}, []string{"hunter2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := db.Open(context.Background(), db.Options{URL: tt.url, Logger: quiet()})
			if err == nil {
				_ = d.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.url)
			}
			if d != nil {
				t.Errorf("Open returned a database along with the error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans several lines: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			for _, w := range tt.deny {
				if strings.Contains(msg, w) {
					t.Errorf("error %q reveals %q", msg, w)
				}
			}
		})
	}
}

func TestPingFailsOnceClosed(t *testing.T) {
	d, err := db.Open(context.Background(), db.Options{URL: filepath.Join(t.TempDir(), "f.db"), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Ping(context.Background()); err != nil {
		t.Fatalf("ping an open database: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := d.Ping(context.Background()); err == nil {
		t.Fatalf("ping a closed database succeeded")
	}
}

func TestReadHandleCannotWrite(t *testing.T) {
	d := dbtest.MustOpen(t, nil)
	if d.Dialect != db.SQLite {
		t.Skip("only SQLite has a separate read-only pool; on PostgreSQL Read is Write")
	}
	err := d.Read.Exec("INSERT INTO sign_in_failures (email, failures, last_failure_at) VALUES ('a@example.com', 1, '2026-03-02 09:00:00')").Error
	if err == nil {
		t.Fatalf("the read handle wrote a row")
	}
	var n int64
	if err := d.Read.Raw("SELECT COUNT(*) FROM sign_in_failures").Scan(&n).Error; err != nil || n != 0 {
		t.Fatalf("rows = %d (%v), want 0", n, err)
	}
}

// A read-modify-write in many goroutines at once: every transaction must
// succeed (no "database is locked") and no increment may be lost.
func TestConcurrentWritersAreSerialised(t *testing.T) {
	d := dbtest.MustOpen(t, nil)
	if d.Dialect != db.SQLite {
		t.Skip("SQLite's single writer serialises whole transactions; PostgreSQL relies on the services' version checks and row locks instead")
	}
	ctx := context.Background()
	if err := d.Write.Exec("INSERT INTO sign_in_failures (email, failures, last_failure_at) VALUES ('counter', 0, '2026-03-02 09:00:00')").Error; err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 32, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker*2)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				err := d.Transaction(ctx, func(tx *gorm.DB) error {
					var n int
					if err := tx.Raw("SELECT failures FROM sign_in_failures WHERE email = 'counter'").Scan(&n).Error; err != nil {
						return err
					}
					if err := tx.Exec("INSERT INTO audit_entries (actor_name, action, entity_type, entity_id, created_at) VALUES (?, 'create', 'test', ?, '2026-03-02 09:00:00')",
						fmt.Sprintf("worker %d", w), i).Error; err != nil {
						return err
					}
					return tx.Exec("UPDATE sign_in_failures SET failures = ? WHERE email = 'counter'", n+1).Error
				})
				if err != nil {
					errs <- err
				}
				// Readers run alongside the writers.
				var c int64
				if err := d.Read.Raw("SELECT COUNT(*) FROM audit_entries").Scan(&c).Error; err != nil {
					errs <- fmt.Errorf("read: %w", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	var n int
	if err := d.Read.Raw("SELECT failures FROM sign_in_failures WHERE email = 'counter'").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != workers*perWorker {
		t.Fatalf("counter = %d, want %d: increments were lost", n, workers*perWorker)
	}
	var rows int64
	if err := d.Read.Raw("SELECT COUNT(*) FROM audit_entries WHERE entity_type = 'test'").Scan(&rows).Error; err != nil || rows != workers*perWorker {
		t.Fatalf("rows = %d (%v), want %d", rows, err, workers*perWorker)
	}
}

func TestTransactionRollsBackOnError(t *testing.T) {
	d := dbtest.MustOpen(t, nil)
	err := d.Transaction(context.Background(), func(tx *gorm.DB) error {
		if err := tx.Exec("INSERT INTO sign_in_failures (email, failures, last_failure_at) VALUES ('x', 1, '2026-03-02 09:00:00')").Error; err != nil {
			return err
		}
		return fmt.Errorf("changed my mind")
	})
	if err == nil || !strings.Contains(err.Error(), "changed my mind") {
		t.Fatalf("err = %v", err)
	}
	var n int64
	if err := d.Read.Raw("SELECT COUNT(*) FROM sign_in_failures").Scan(&n).Error; err != nil || n != 0 {
		t.Fatalf("rows = %d (%v), want the insert rolled back", n, err)
	}
}

func TestForeignKeysAreEnforced(t *testing.T) {
	d := dbtest.MustOpen(t, nil)
	err := d.Write.Exec("INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ('h', 999, '2026-03-02 09:00:00', '2026-03-02 10:00:00')").Error
	if err == nil {
		t.Fatalf("a session for a missing account was stored: foreign keys are off")
	}
}

func TestGormUsesTheInjectedClock(t *testing.T) {
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	if got := d.Write.NowFunc(); !got.Equal(clock.Now()) {
		t.Fatalf("NowFunc = %v, want the fixed clock %v", got, clock.Now())
	}
}

// A new SQLite database gets 16 KiB pages; one created before keeps its
// own. Either way the log is checkpointed at about 64 MiB.
func TestNewSQLiteDatabasesHaveLargePages(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.db")
	{
		c, err := sql.Open("sqlite3", "file:"+old+"?_journal_mode=WAL")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exec("CREATE TABLE t (x)"); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	for _, tt := range []struct {
		path                 string
		pageSize, checkpoint int64
	}{{filepath.Join(dir, "new.db"), 16384, 4096}, {old, 4096, 16384}} {
		d := mustOpen(t, db.Options{URL: tt.path})
		for _, s := range []*sql.DB{d.WriteSQL(), d.ReadSQL()} {
			var size, ckpt int64
			if err := s.QueryRow("PRAGMA page_size").Scan(&size); err != nil {
				t.Fatal(err)
			}
			if err := s.QueryRow("PRAGMA wal_autocheckpoint").Scan(&ckpt); err != nil {
				t.Fatal(err)
			}
			if size != tt.pageSize || ckpt != tt.checkpoint {
				t.Errorf("%s: page size %d, checkpoint every %d pages; want %d, %d", filepath.Base(tt.path), size, ckpt, tt.pageSize, tt.checkpoint)
			}
		}
	}
}
