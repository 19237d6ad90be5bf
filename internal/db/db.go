// Package db opens Ferry's database through gorm (SQLite by default,
// PostgreSQL when a postgres:// URL is given) and applies the versioned,
// embedded schema migrations.
//
// SQLite gets two pools: one writer connection whose transactions start with
// BEGIN IMMEDIATE, so that concurrent writers queue instead of failing with
// "database is locked", and a small pool of read-only connections.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// sqliteDriver is mattn/go-sqlite3 with Ferry's per-connection settings
// that its DSN cannot express.
const sqliteDriver = "sqlite3_ferry"

// walCheckpointBytes lets the write-ahead log grow to 64 MiB (SQLite's
// default is 1000 pages, 4 MiB at 4 KiB a page) before it is copied into the
// database. Each checkpoint syncs the disk and rewrites the index pages
// dirtied since the last one; staging a million records made thousands of
// them at the default.
const walCheckpointBytes = 64 << 20

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		pageSize := int64(4096)
		if rows, err := c.Query("PRAGMA page_size", nil); err == nil {
			dest := []driver.Value{nil}
			if rows.Next(dest) == nil {
				if n, ok := dest[0].(int64); ok && n > 0 {
					pageSize = n
				}
			}
			rows.Close()
		}
		_, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walCheckpointBytes/pageSize), nil)
		return err
	}})
}

// Dialect names the database engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options configure Open.
type Options struct {
	// URL is a postgres:// URL, a SQLite file path, or a "file:" DSN. Empty
	// means DataDir/ferry.db.
	URL     string
	DataDir string
	// Now is the clock gorm uses for CreatedAt/UpdatedAt.
	Now    func() time.Time
	Logger *slog.Logger
	// SlowQuery is the threshold above which gorm logs a query as slow.
	SlowQuery time.Duration
	// NoMigrate leaves the schema as it is (tests of the migrations use it).
	NoMigrate bool
}

// DB holds the write and read handles of one database.
type DB struct {
	// Write is the only handle that may change data.
	Write *gorm.DB
	// Read serves queries that change nothing; on PostgreSQL it is Write.
	Read    *gorm.DB
	Dialect Dialect
	// Location is the database shown to operators (file path or host), never a password.
	Location string
	sqlDBs   []*sql.DB
}

// Open connects, checks the connection and applies pending migrations. Any
// failure is returned as one error that says what could not be done.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.SlowQuery == 0 {
		opts.SlowQuery = 500 * time.Millisecond
	}
	gcfg := func() *gorm.Config {
		return &gorm.Config{
			TranslateError: true,
			NowFunc:        func() time.Time { return opts.Now().UTC() },
			Logger: logger.NewSlogLogger(opts.Logger.With(slog.String("component", "gorm")), logger.Config{
				SlowThreshold:             opts.SlowQuery,
				LogLevel:                  logger.Warn,
				IgnoreRecordNotFoundError: true,
				ParameterizedQueries:      true, // never log values: they may be PII or secrets
			}),
		}
	}

	d := &DB{}
	var err error
	if isPostgresURL(opts.URL) {
		d.Dialect = Postgres
		d.Location = redactURL(opts.URL)
		d.Write, err = gorm.Open(postgres.Open(opts.URL), gcfg())
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL database %s: %w", d.Location, err)
		}
		d.Read = d.Write
	} else {
		d.Dialect = SQLite
		path, params, perr := sqlitePath(opts.URL, opts.DataDir)
		if perr != nil {
			return nil, perr
		}
		d.Location = path
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create database directory %s: %w", dir, err)
			}
		}
		// A 32 MiB page cache per connection (SQLite's default is 2 MiB):
		// staging writes the key indexes of a million records in random order.
		common := "_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_synchronous=NORMAL&_cache_size=-32768"
		if params != "" {
			common += "&" + params
		}
		if _, serr := os.Stat(path); errors.Is(serr, os.ErrNotExist) {
			if err := createSQLite(path); err != nil {
				return nil, fmt.Errorf("create SQLite database %s: %w", path, err)
			}
		}
		writeDSN := "file:" + path + "?" + common + "&_txlock=immediate"
		readDSN := "file:" + path + "?" + common + "&_query_only=true"
		d.Write, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: writeDSN}), gcfg())
		if err != nil {
			return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
		}
		d.Read, err = gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: readDSN}), gcfg())
		if err != nil {
			return nil, fmt.Errorf("open SQLite database %s for reading: %w", path, err)
		}
	}
	for i, g := range []*gorm.DB{d.Write, d.Read} {
		if i == 1 && d.Read == d.Write {
			break
		}
		sqlDB, err := g.DB()
		if err != nil {
			d.Close()
			return nil, err
		}
		d.sqlDBs = append(d.sqlDBs, sqlDB)
	}
	if d.Dialect == SQLite {
		d.sqlDBs[0].SetMaxOpenConns(1)
		d.sqlDBs[1].SetMaxOpenConns(4)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.Ping(pingCtx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect to database %s: %w", d.Location, err)
	}
	if opts.NoMigrate {
		return d, nil
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// sqlitePageSize is the page size of a new SQLite database (SQLite's
// default is 4 KiB). Staged records and profiles are about 600 bytes each:
// larger pages mean fewer pages to write to the log, to copy back into the
// database at each checkpoint and to read again, for the same bytes.
// An existing database keeps the page size it was created with.
const sqlitePageSize = 16384

// createSQLite creates an empty SQLite database file with Ferry's page size
// (which cannot change once the database is in WAL mode).
func createSQLite(path string) error {
	c, err := sql.Open(sqliteDriver, "file:"+path+"?_journal_mode=DELETE")
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Exec(fmt.Sprintf("PRAGMA page_size = %d", sqlitePageSize)); err != nil {
		return err
	}
	_, err = c.Exec("VACUUM")
	return err
}

// Ping checks that every pool can reach the database.
func (d *DB) Ping(ctx context.Context) error {
	for _, s := range d.sqlDBs {
		if err := s.PingContext(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Close releases every connection.
func (d *DB) Close() error {
	var errs []error
	for _, s := range d.sqlDBs {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// Transaction runs fn in one write transaction.
func (d *DB) Transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return d.Write.WithContext(ctx).Transaction(fn)
}

func isPostgresURL(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// sqlitePath turns the configured URL into a file path and extra DSN
// parameters. Accepted: "", a plain path, "file:path?params", "sqlite://path".
func sqlitePath(raw, dataDir string) (path, params string, err error) {
	switch {
	case raw == "":
		if dataDir == "" {
			dataDir = "data"
		}
		return filepath.Join(dataDir, "ferry.db"), "", nil
	case strings.HasPrefix(raw, "sqlite://"):
		raw = strings.TrimPrefix(raw, "sqlite://")
	case strings.HasPrefix(raw, "file:"):
		raw = strings.TrimPrefix(raw, "file:")
	case strings.Contains(raw, "://"):
		return "", "", fmt.Errorf("database URL %q: unsupported scheme (use a SQLite file path or postgres://)", redactURL(raw))
	}
	path, params, _ = strings.Cut(raw, "?")
	if path == "" || path == ":memory:" {
		return "", "", errors.New("database URL: a SQLite file path is required (in-memory databases cannot be shared between connections)")
	}
	return path, params, nil
}

// redactURL hides a password in a database URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
