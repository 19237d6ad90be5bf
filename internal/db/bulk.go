package db

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
)

// The hot paths of staging and validation write and read millions of rows;
// through gorm's reflection each row costs several times what the database
// itself spends on it. These helpers let such paths use database/sql
// directly, with one query text for both engines.

// WriteSQL returns the writer pool for raw statements (one connection on SQLite).
func (d *DB) WriteSQL() *sql.DB { return d.sqlDBs[0] }

// ReadSQL returns the reader pool for raw queries (the writer's on PostgreSQL).
func (d *DB) ReadSQL() *sql.DB { return d.sqlDBs[len(d.sqlDBs)-1] }

// Bind rewrites a query written with ? placeholders for the engine: $1, $2…
// on PostgreSQL. Queries given to it hold no literal question marks.
func (d *DB) Bind(query string) string {
	if d.Dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 64)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// WriteTx runs fn in one transaction on the writer pool: committed when fn
// returns nil, rolled back otherwise.
func (d *DB) WriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.WriteSQL().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Bulk describes a multi-row INSERT: rows are sent bulkRows at a time
// through one prepared statement, which costs one round trip (and, on
// SQLite, one cgo call) per hundred rows instead of one per row.
type Bulk struct {
	Table   string
	Columns []string
	// Suffix follows the VALUES list, for instance an ON CONFLICT clause.
	Suffix string
	// Text, parallel to Columns (or nil), marks the text columns whose
	// values may be given as []byte. The SQLite driver copies every string
	// it binds into a new []byte before SQLite copies it again; a []byte it
	// binds as it is, as a BLOB, which the statement casts back to TEXT (the
	// same bytes, stored with the column's type). On PostgreSQL such values
	// are sent as strings.
	Text []bool
}

// textParam is the placeholder of a Text column on SQLite.
const textParam = "CAST(? AS TEXT)"

// bulkRows keeps every statement far below both engines' parameter limits
// (32,766 on SQLite, 65,535 on PostgreSQL) for tables of up to 300 columns.
const bulkRows = 100

func (d *DB) bulkQuery(b Bulk, rows int) string {
	var q strings.Builder
	q.WriteString("INSERT INTO ")
	q.WriteString(b.Table)
	q.WriteString(" (")
	q.WriteString(strings.Join(b.Columns, ", "))
	q.WriteString(") VALUES ")
	params := make([]string, len(b.Columns))
	for i := range params {
		params[i] = "?"
		if d.Dialect == SQLite && i < len(b.Text) && b.Text[i] {
			params[i] = textParam
		}
	}
	tuple := "(" + strings.Join(params, ", ") + ")"
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(tuple)
	}
	if b.Suffix != "" {
		q.WriteString(" ")
		q.WriteString(b.Suffix)
	}
	return d.Bind(q.String())
}

// InsertBulk inserts rows given as one flat list of values, len(b.Columns)
// per row, in the transaction. On PostgreSQL it may replace the []byte
// values of Text columns in the list by strings.
func (d *DB) InsertBulk(ctx context.Context, tx *sql.Tx, b Bulk, values []any) error {
	width := len(b.Columns)
	if width == 0 || len(values)%width != 0 {
		return errors.New("db: InsertBulk needs a whole number of rows")
	}
	rows := len(values) / width
	if rows == 0 {
		return nil
	}
	if d.Dialect != SQLite && len(b.Text) > 0 {
		for i, v := range values {
			if t, ok := v.([]byte); ok && i%width < len(b.Text) && b.Text[i%width] {
				values[i] = string(t)
			}
		}
	}
	if rows >= bulkRows {
		stmt, err := tx.PrepareContext(ctx, d.bulkQuery(b, bulkRows))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for rows >= bulkRows {
			if _, err := stmt.ExecContext(ctx, values[:bulkRows*width]...); err != nil {
				return err
			}
			values, rows = values[bulkRows*width:], rows-bulkRows
		}
	}
	if rows > 0 {
		if _, err := tx.ExecContext(ctx, d.bulkQuery(b, rows), values...); err != nil {
			return err
		}
	}
	return nil
}
