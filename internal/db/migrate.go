package db

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strings"
	"text/template"

	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// primaryKey is the DDL of an id column in each dialect.
var primaryKey = map[Dialect]string{
	SQLite:   "INTEGER PRIMARY KEY AUTOINCREMENT",
	Postgres: "BIGSERIAL PRIMARY KEY",
}

// migrations reads the embedded SQL files (named NNNNN_description.sql) as
// goose Go migrations. Each file is a text/template run for the dialect:
// {{pk}} is an id column's DDL, and {{if postgres}}…{{else}}…{{end}} holds
// what only one engine can do (SQLite cannot drop every column PostgreSQL
// can). Each file runs in its own transaction.
func migrations(dialect Dialect) ([]*goose.Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var out []*goose.Migration
	for _, e := range entries {
		version, err := goose.NumericComponent(e.Name())
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		body, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(e.Name()).Funcs(template.FuncMap{
			"pk":       func() string { return primaryKey[dialect] },
			"postgres": func() bool { return dialect == Postgres },
		}).Parse(string(body))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		var sb strings.Builder
		if err := tmpl.Execute(&sb, nil); err != nil {
			return nil, fmt.Errorf("migration %s: %w", e.Name(), err)
		}
		script := sb.String()
		out = append(out, goose.NewGoMigration(version, &goose.GoFunc{
			RunTx: func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, script)
				return err
			},
		}, nil))
	}
	return out, nil
}

func (d *DB) provider() (*goose.Provider, error) {
	sqlDB, err := d.Write.DB()
	if err != nil {
		return nil, err
	}
	ms, err := migrations(d.Dialect)
	if err != nil {
		return nil, err
	}
	gooseDialect := goose.DialectSQLite3
	if d.Dialect == Postgres {
		gooseDialect = goose.DialectPostgres
	}
	return goose.NewProvider(gooseDialect, sqlDB, nil,
		goose.WithGoMigrations(ms...),
		goose.WithDisableGlobalRegistry(true),
		goose.WithSlog(slog.New(slog.DiscardHandler)),
	)
}

// Migrate applies every pending migration.
func (d *DB) Migrate(ctx context.Context) error {
	p, err := d.provider()
	if err != nil {
		return fmt.Errorf("prepare database migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate database %s: %w", d.Location, err)
	}
	return nil
}

// MigrateUpTo applies migrations up to and including version only, so that
// tests can build a previous release's schema and then upgrade it.
func (d *DB) MigrateUpTo(ctx context.Context, version int64) error {
	p, err := d.provider()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// SchemaVersion returns the applied and the newest known migration versions.
func (d *DB) SchemaVersion(ctx context.Context) (current, newest int64, err error) {
	p, err := d.provider()
	if err != nil {
		return 0, 0, err
	}
	return p.GetVersions(ctx)
}
