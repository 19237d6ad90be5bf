// Package staging reads extracts of source systems into the staging area:
// streaming, in short batched transactions, all-or-nothing per extract. A new
// extract of a source replaces the current one only once it has been read
// whole; the edits and exclusions made on the old one are carried over to the
// same records, matched by their key.
package staging

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/staging/attrjson"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// Extract statuses.
const (
	StatusLoading  = "loading"
	StatusReady    = "ready"
	StatusReplaced = "replaced"
	StatusFailed   = "failed"
)

// batchSize is how many records one write transaction holds: large enough
// that few commits rewrite the same pages of the key index (keys such as
// directory GUIDs come in random order), small enough that other writers
// wait a fraction of a second at most.
const batchSize = 10_000

// Extract is one file (or directory pull) of one source.
type Extract struct {
	ID            int64         `gorm:"primaryKey" json:"id"`
	ProjectID     int64         `json:"projectId"`
	SourceID      int64         `json:"sourceId"`
	Status        string        `json:"status"`
	FileName      string        `json:"fileName"`
	Format        string        `json:"format"`
	SizeBytes     int64         `json:"sizeBytes"`
	Checksum      string        `json:"checksum"`
	KeyAttribute  string        `json:"keyAttribute"`
	Records       int64         `json:"records"`
	Quarantined   int64         `json:"quarantined"`
	CarriedOver   int64         `json:"carriedOver"`
	LostEdits     int64         `json:"lostEdits"`
	Columns       []ColumnStats `gorm:"column:columns_json;serializer:json" json:"columns"`
	Warnings      []string      `gorm:"column:warnings_json;serializer:json" json:"warnings"`
	Error         string        `json:"error,omitempty"`
	CreatedByID   *int64        `json:"createdById,omitempty"`
	CreatedByName string        `json:"createdByName"`
	CreatedAt     time.Time     `json:"createdAt"`
	FinishedAt    *time.Time    `json:"finishedAt,omitempty"`
}

// StagedRecord is one user of an extract. Edits made in Ferry are kept apart
// from what the source said, so that a re-staged record keeps them.
type StagedRecord struct {
	ID            int64               `gorm:"primaryKey" json:"id"`
	ExtractID     int64               `json:"extractId"`
	Position      int64               `json:"position"`
	SourceKey     string              `json:"sourceKey"`
	Attributes    map[string][]string `gorm:"column:attributes_json;serializer:json" json:"attributes"`
	Edits         map[string][]string `gorm:"column:edits_json;serializer:json" json:"edits"`
	Excluded      bool                `json:"excluded"`
	ExcludeReason string              `json:"excludeReason"`
	Edited        bool                `json:"edited"`
	Version       int64               `json:"version"`
}

// Effective returns the record's attributes with Ferry's edits applied.
func (r StagedRecord) Effective() map[string][]string {
	out := make(map[string][]string, len(r.Attributes)+len(r.Edits))
	for k, v := range r.Attributes {
		out[k] = v
	}
	for k, v := range r.Edits {
		out[k] = v
	}
	return out
}

// QuarantinedRow is a record the reader could not take.
type QuarantinedRow struct {
	ID        int64  `gorm:"primaryKey" json:"id"`
	ExtractID int64  `json:"extractId"`
	Position  int64  `json:"position"`
	Message   string `json:"message"`
}

// ColumnStats is what staging observed of one column.
type ColumnStats struct {
	Name string `json:"name"`
	// Filled counts the records with a non-empty value.
	Filled int64 `json:"filled"`
	// Distinct counts distinct values, up to distinctCap (DistinctCapped then).
	Distinct       int64    `json:"distinct"`
	DistinctCapped bool     `json:"distinctCapped"`
	MaxLength      int      `json:"maxLength"`
	MultiValued    bool     `json:"multiValued"`
	Type           string   `json:"type"`
	Samples        []string `json:"samples"`
}

// FillRate is the share of records that have the column, 0..1.
func (c ColumnStats) FillRate(records int64) float64 {
	if records == 0 {
		return 0
	}
	return float64(c.Filled) / float64(records)
}

// Meta describes the extract being staged.
type Meta struct {
	FileName string
	Format   string
	Size     int64
	Checksum string
	// KeyAttribute names the attribute that identifies a record within the
	// source (matched across extracts); empty picks a usual one (see KeyCandidates).
	KeyAttribute string
}

// KeyCandidates are the attributes tried, in order, as a record's key when
// none is configured: immutable directory ids first, then names.
func KeyCandidates() []string {
	return []string{"objectGUID", "objectGUID;binary", "entryUUID", "dn", "distinguishedName", "employeeID", "employeeNumber", "id", "uid",
		"sAMAccountName", "userPrincipalName", "login", "mail", "email"}
}

// Progress is told how many records have been staged so far.
type Progress func(records int64)

// FieldDiscoverer makes an extract's columns the source's fields in the matrix.
type FieldDiscoverer interface {
	EnsureFields(ctx context.Context, projectID, sourceID int64, observed []mapping.ObservedField) (int, error)
}

// Service stages extracts.
type Service struct {
	db       *db.DB
	now      func() time.Time
	discover FieldDiscoverer
}

// NewService returns a staging service; discover may be nil (no discovery).
func NewService(database *db.DB, now func() time.Time, discover FieldDiscoverer) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: database, now: now, discover: discover}
}

// Stage reads r whole into a new extract of the source. Records are written
// in batches; if the reader refuses the file, the context is cancelled or a
// write fails, everything written is removed and the current extract stays
// current. On success the new extract replaces the current one, carrying over
// exclusions and edits.
func (s *Service) Stage(ctx context.Context, projectID, sourceID int64, r extract.Reader, meta Meta, progress Progress) (*Extract, error) {
	actor := audit.ActorFrom(ctx)
	ex := &Extract{ProjectID: projectID, SourceID: sourceID, Status: StatusLoading, FileName: truncate(meta.FileName, 255),
		Format: meta.Format, SizeBytes: meta.Size, Checksum: meta.Checksum, KeyAttribute: meta.KeyAttribute,
		Columns: []ColumnStats{}, Warnings: []string{}, CreatedByName: actor.Name, CreatedAt: s.now().UTC()}
	if actor.ID != 0 {
		id := actor.ID
		ex.CreatedByID = &id
	}
	if err := s.db.Write.WithContext(ctx).Create(ex).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	stats := newStatsCollector()
	err := s.readAll(ctx, ex, r, stats, progress)
	if err != nil {
		s.discard(ex, err)
		var ee *extract.Error
		if errors.As(err, &ee) {
			return ex, apperr.Invalid("The extract cannot be staged; nothing was changed: "+ee.Error(), nil)
		}
		if ctx.Err() != nil {
			return ex, apperr.Invalid("Staging was stopped; nothing was changed.", nil)
		}
		return ex, wrap(err)
	}
	ex.Columns = stats.result(r.Columns())
	ex.Warnings = append([]string{}, r.Warnings()...)
	if err := s.finish(ctx, ex); err != nil {
		s.discard(ex, err)
		return ex, wrap(err)
	}
	if s.discover != nil {
		observed := make([]mapping.ObservedField, len(ex.Columns))
		for i, c := range ex.Columns {
			observed[i] = mapping.ObservedField{Name: c.Name, DataType: c.Type, MaxLength: c.MaxLength, MultiValued: c.MultiValued, Samples: c.Samples}
		}
		// The extract is staged either way; a discovery failure is reported, not undone.
		if _, err := s.discover.EnsureFields(ctx, ex.ProjectID, ex.SourceID, observed); err != nil {
			return ex, fmt.Errorf("the extract is staged, but its columns could not be added to the matrix: %w", err)
		}
	}
	return ex, nil
}

// recordInsert writes staged records; edits start empty.
var recordInsert = db.Bulk{Table: "staged_records", Columns: []string{"extract_id", "position", "source_key", "attributes_json", "edits_json", "version"},
	Text: []bool{false, false, false, true, false, false}}

var quarantineInsert = db.Bulk{Table: "quarantined_rows", Columns: []string{"extract_id", "position", "message"}}

// stagedBatch is batchSize records ready to be written: the flat values of
// their rows, and the rows the reader quarantined meanwhile.
type stagedBatch struct {
	records    []any
	quarantine []any
	// staged is how many records the extract holds once this batch is written.
	staged int64
}

// readAll reads the extract in one goroutine (parsing, statistics, encoding)
// while the calling one writes the batches, so that the two halves of the
// work overlap. It returns the first error of either.
func (s *Service) readAll(ctx context.Context, ex *Extract, r extract.Reader, stats *statsCollector, progress Progress) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan stagedBatch, 2)
	readErr := make(chan error, 1)
	go func() {
		defer close(batches)
		readErr <- s.readBatches(ctx, ex, r, stats, batches)
	}()
	var writeErr error
	for b := range batches {
		if writeErr != nil {
			continue // drain, so that the reader can finish
		}
		writeErr = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			if err := s.db.InsertBulk(ctx, tx, recordInsert, b.records); err != nil {
				return err
			}
			return s.db.InsertBulk(ctx, tx, quarantineInsert, b.quarantine)
		})
		if writeErr != nil {
			cancel()
			continue
		}
		if progress != nil {
			progress(b.staged)
		}
	}
	if err := <-readErr; err != nil && (writeErr == nil || !errors.Is(err, context.Canceled)) {
		return err
	}
	return writeErr
}

// parsedChunk is up to chunkSize records as the reader gave them, on their
// way from the parsing goroutine to the encoding one.
type parsedChunk struct {
	recs []extract.Record
	// rows and positions replace recs for a rowReader: each record's values
	// by column (the columns are names, order their sorted order).
	rows      [][][]string
	positions []int
	names     []string
	order     []int
	keys      []string // each record's key, normalised
	// quarantine holds the rows quarantined since the previous chunk.
	quarantine []any
	// cols are the reader's columns, sorted, as of the chunk's last record
	// (a superset of any earlier record's: see attrjson.AppendSorted).
	cols []string
	// staged is how many records the extract holds once this chunk is written.
	staged int64
}

// chunkSize is how many records a parsedChunk holds.
const chunkSize = 1000

// readBatches reads every record of r into batches; ex's counters follow.
// Parsing stays on the calling goroutine (a reader is not safe for
// concurrent use); the column statistics and the encoding are done on
// another, so that on two cores they overlap the parsing. Records wait in
// chunks until encoded: a reader must hand out a new map with each record
// (every reader of the extract packages does).
func (s *Service) readBatches(ctx context.Context, ex *Extract, r extract.Reader, stats *statsCollector, out chan<- stagedBatch) error {
	chunks := make(chan parsedChunk, 4)
	encodeErr := make(chan error, 1)
	go func() {
		err := s.encodeBatches(ctx, ex.ID, stats, chunks, out)
		if err != nil {
			for range chunks { // drain, so that the parser can finish
			}
		}
		encodeErr <- err
	}()
	var err error
	if rr, ok := r.(rowReader); ok && len(r.Columns()) > 0 {
		err = s.parseRows(ctx, ex, rr, r.Columns(), chunks)
	} else {
		err = s.parseChunks(ctx, ex, r, chunks)
	}
	close(chunks)
	if eerr := <-encodeErr; err == nil {
		err = eerr
	}
	return err
}

// parseChunks reads r into chunks; ex's counters follow.
func (s *Service) parseChunks(ctx context.Context, ex *Extract, r extract.Reader, chunks chan<- parsedChunk) error {
	var sortedCols []string // the reader's columns, sorted: the order the JSON is written in
	c := parsedChunk{recs: make([]extract.Record, 0, chunkSize), keys: make([]string, 0, chunkSize)}
	send := func() error {
		// Columns are only ever added, so those known after the chunk's
		// last record cover every record of it. (Columns copies them: once
		// a chunk, not once a record.)
		if cols := r.Columns(); len(cols) != len(sortedCols) {
			sortedCols = slices.Sorted(slices.Values(cols))
		}
		c.cols, c.staged = sortedCols, ex.Records
		select {
		case chunks <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		c = parsedChunk{recs: make([]extract.Record, 0, chunkSize), keys: make([]string, 0, chunkSize)}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var re *extract.RecordError
			if errors.As(err, &re) {
				ex.Quarantined++
				c.quarantine = append(c.quarantine, ex.ID, int64(re.Position), truncate(re.Message, 1000))
				continue
			}
			return err
		}
		if ex.KeyAttribute == "" {
			cols := r.Columns()
			if len(cols) == 0 { // a reader that learns columns as it goes (LDIF, JSON)
				for name := range rec.Attributes {
					cols = append(cols, name)
				}
				sort.Strings(cols)
			}
			ex.KeyAttribute = pickKey(cols)
		}
		key, _ := rec.Get(ex.KeyAttribute)
		ex.Records++
		c.recs = append(c.recs, rec)
		c.keys = append(c.keys, keyOf(key))
		if len(c.recs) >= chunkSize {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if len(c.recs) > 0 || len(c.quarantine) > 0 {
		return send()
	}
	return nil
}

// rowReader is a reader that can also give its records as values by
// column of a fixed list (csvextract: see its NextRow), which spares staging
// a map per record.
type rowReader interface {
	NextRow() (position int, values [][]string, err error)
}

// parseRows is parseChunks for a rowReader whose columns are names.
func (s *Service) parseRows(ctx context.Context, ex *Extract, r rowReader, names []string, chunks chan<- parsedChunk) error {
	order := attrjson.SortedOrder(names)
	keyIdx := -2 // not yet known: the key attribute is picked at the first record, as parseChunks does
	newChunk := func() parsedChunk {
		return parsedChunk{rows: make([][][]string, 0, chunkSize), positions: make([]int, 0, chunkSize), keys: make([]string, 0, chunkSize),
			names: names, order: order}
	}
	c := newChunk()
	send := func() error {
		c.staged = ex.Records
		select {
		case chunks <- c:
		case <-ctx.Done():
			return ctx.Err()
		}
		c = newChunk()
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		pos, values, err := r.NextRow()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var re *extract.RecordError
			if errors.As(err, &re) {
				ex.Quarantined++
				c.quarantine = append(c.quarantine, ex.ID, int64(re.Position), truncate(re.Message, 1000))
				continue
			}
			return err
		}
		if keyIdx == -2 {
			if ex.KeyAttribute == "" {
				ex.KeyAttribute = pickKey(names)
			}
			keyIdx = slices.Index(names, ex.KeyAttribute)
		}
		var key string // as extract.Record.Get gives it
		if keyIdx >= 0 && len(values[keyIdx]) > 0 {
			key = values[keyIdx][0]
		}
		ex.Records++
		c.rows = append(c.rows, values)
		c.positions = append(c.positions, pos)
		c.keys = append(c.keys, keyOf(key))
		if len(c.rows) >= chunkSize {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if len(c.rows) > 0 || len(c.quarantine) > 0 {
		return send()
	}
	return nil
}

// encodeBatches gathers the statistics of the chunks' records and encodes
// them into batches of batchSize records.
func (s *Service) encodeBatches(ctx context.Context, extractID int64, stats *statsCollector, chunks <-chan parsedChunk, out chan<- stagedBatch) error {
	width := len(recordInsert.Columns)
	b := stagedBatch{records: make([]any, 0, batchSize*width)}
	var buf []byte
	// The encoded attributes of a batch are copied into large shared
	// chunks, handed to the driver as []byte (see db.Bulk.Text): no string
	// and no copy of the driver per record.
	var arena []byte
	send := func() error {
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		b = stagedBatch{records: make([]any, 0, batchSize*width)}
		return nil
	}
	var states []*columnState // for rows: the columns' statistics, by column
	for c := range chunks {
		b.quarantine = append(b.quarantine, c.quarantine...)
		if len(c.rows) > 0 && len(states) != len(c.names) {
			states = make([]*columnState, len(c.names))
			for i, name := range c.names {
				states[i] = stats.column(name)
			}
		}
		for i, values := range c.rows {
			stats.addRow(states, values)
			buf = attrjson.AppendColumns(buf[:0], c.names, c.order, values)
			if cap(arena)-len(arena) < len(buf) {
				arena = make([]byte, 0, max(arenaChunk, len(buf)))
			}
			start := len(arena)
			arena = append(arena, buf...)
			b.records = append(b.records, extractID, int64(c.positions[i]), c.keys[i], arena[start:len(arena):len(arena)], "{}", int64(1))
		}
		for i, rec := range c.recs {
			stats.add(rec)
			buf = appendAttributes(buf[:0], c.cols, rec.Attributes)
			if cap(arena)-len(arena) < len(buf) {
				arena = make([]byte, 0, max(arenaChunk, len(buf)))
			}
			start := len(arena)
			arena = append(arena, buf...)
			b.records = append(b.records, extractID, int64(rec.Position), c.keys[i], arena[start:len(arena):len(arena)], "{}", int64(1))
		}
		b.staged = c.staged
		if len(b.records) >= batchSize*width {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if len(b.records) > 0 || len(b.quarantine) > 0 {
		return send()
	}
	return nil
}

// arenaChunk is the size of the chunks encoded attributes are copied into.
const arenaChunk = 1 << 20

// pickKey chooses the first usual key attribute among the columns.
func pickKey(columns []string) string {
	for _, want := range KeyCandidates() {
		for _, c := range columns {
			if strings.EqualFold(c, want) {
				return c
			}
		}
	}
	return ""
}

// keyOf normalises a key value so that matching ignores case and spaces around it.
func keyOf(v string) string { return strings.ToLower(strings.TrimSpace(v)) }

// finish makes the new extract current: it carries over the previous one's
// exclusions and edits, marks it replaced, and records the change.
func (s *Service) finish(ctx context.Context, ex *Extract) error {
	return s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var prev Extract
		err := tx.Where("source_id = ? AND status = ?", ex.SourceID, StatusReady).Order("id DESC").First(&prev).Error
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		if err == nil {
			if err := carryOver(tx, &prev, ex); err != nil {
				return err
			}
			if err := tx.Model(&Extract{}).Where("id = ?", prev.ID).Update("status", StatusReplaced).Error; err != nil {
				return err
			}
			// The replaced extract's records are no longer needed: its summary stays.
			if err := tx.Exec("DELETE FROM staged_keys WHERE extract_id = ?", prev.ID).Error; err != nil {
				return err
			}
			if err := tx.Where("extract_id = ?", prev.ID).Delete(&StagedRecord{}).Error; err != nil {
				return err
			}
		}
		now := s.now().UTC()
		ex.Status, ex.FinishedAt = StatusReady, &now
		if err := tx.Model(ex).Select("status", "key_attribute", "records", "quarantined", "carried_over", "lost_edits", "columns_json",
			"warnings_json", "finished_at").Updates(ex).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: ex.ProjectID, Action: audit.ActionCreate, EntityType: "extract", EntityID: ex.ID,
			Label: fmt.Sprintf("%s (%d records)", ex.FileName, ex.Records), After: ex})
	})
}

// carryOver applies the previous extract's exclusions and edits to the new
// records with the same key; those whose record is gone are counted as lost.
func carryOver(tx *gorm.DB, prev, ex *Extract) error {
	var touched []StagedRecord
	if err := tx.Where("extract_id = ? AND (excluded = ? OR edited = ?)", prev.ID, true, true).Find(&touched).Error; err != nil {
		return err
	}
	for _, old := range touched {
		if old.SourceKey == "" {
			ex.LostEdits++
			continue
		}
		res := tx.Model(&StagedRecord{}).Where("extract_id = ? AND source_key = ?", ex.ID, old.SourceKey).Updates(map[string]any{
			"excluded": old.Excluded, "exclude_reason": old.ExcludeReason, "edited": old.Edited,
			"edits_json": mustJSON(old.Edits),
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			ex.LostEdits++
		} else {
			ex.CarriedOver++
		}
	}
	return nil
}

// discard removes what a failed staging wrote and records why it failed.
func (s *Service) discard(ex *Extract, cause error) {
	// A fresh context: the request's may be what was cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM staged_keys WHERE extract_id = ?", ex.ID).Error; err != nil {
			return err
		}
		if err := tx.Where("extract_id = ?", ex.ID).Delete(&StagedRecord{}).Error; err != nil {
			return err
		}
		if err := tx.Where("extract_id = ?", ex.ID).Delete(&QuarantinedRow{}).Error; err != nil {
			return err
		}
		now := s.now().UTC()
		return tx.Model(&Extract{}).Where("id = ?", ex.ID).Updates(map[string]any{"status": StatusFailed,
			"error": truncate(cause.Error(), 2000), "finished_at": now}).Error
	})
	ex.Status = StatusFailed
}

// FindExtracts lists a source's extracts (sourceID 0: the project's), newest first.
func (s *Service) FindExtracts(ctx context.Context, projectID, sourceID int64) ([]Extract, error) {
	q := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID)
	if sourceID != 0 {
		q = q.Where("source_id = ?", sourceID)
	}
	var out []Extract
	if err := q.Order("id DESC").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// CurrentExtract returns the source's current extract, or nil.
func (s *Service) CurrentExtract(ctx context.Context, projectID, sourceID int64) (*Extract, error) {
	var ex Extract
	err := s.db.Read.WithContext(ctx).Where("project_id = ? AND source_id = ? AND status = ?", projectID, sourceID, StatusReady).
		Order("id DESC").First(&ex).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return &ex, nil
}

// FindRecords pages through an extract's records in id order (keyset: after
// the given id), at most limit.
func (s *Service) FindRecords(ctx context.Context, extractID, afterID int64, limit int) ([]StagedRecord, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var out []StagedRecord
	err := s.db.Read.WithContext(ctx).Where("extract_id = ? AND id > ?", extractID, afterID).Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// FindQuarantined lists the rows a reader could not take.
func (s *Service) FindQuarantined(ctx context.Context, extractID int64) ([]QuarantinedRow, error) {
	var out []QuarantinedRow
	if err := s.db.Read.WithContext(ctx).Where("extract_id = ?", extractID).Order("position").Limit(10000).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// ---- column statistics ----

// distinctCap bounds the memory spent counting distinct values per column.
const distinctCap = 100_000

type statsCollector struct {
	cols map[string]*columnState
	seed maphash.Seed
}

type columnState struct {
	ColumnStats
	// seen holds 64-bit hashes of the distinct values, not the values: a
	// map without pointers costs the garbage collector nothing to scan, and
	// a collision among 100,000 values has odds of about one in 10^9.
	seen map[uint64]struct{}
	kind typeGuess
	// credential: the column holds credentials, of which no sample is kept.
	credential bool
}

func newStatsCollector() *statsCollector {
	return &statsCollector{cols: map[string]*columnState{}, seed: maphash.MakeSeed()}
}

func (sc *statsCollector) add(rec extract.Record) {
	for name, vals := range rec.Attributes {
		sc.column(name).observe(sc.seed, vals)
	}
}

// addRow is add for a record held as values by column (see rowReader);
// cols are the columns' states, sc.column of each name.
func (sc *statsCollector) addRow(cols []*columnState, values [][]string) {
	for i, c := range cols {
		c.observe(sc.seed, values[i])
	}
}

// column returns the state of a column, new if it has none yet.
func (sc *statsCollector) column(name string) *columnState {
	c, ok := sc.cols[name]
	if !ok {
		c = &columnState{ColumnStats: ColumnStats{Name: name, Samples: []string{}}, seen: map[uint64]struct{}{},
			credential: IsCredentialAttribute(name)}
		sc.cols[name] = c
	}
	return c
}

// observe counts one record's values of the column.
func (c *columnState) observe(seed maphash.Seed, vals []string) {
	if len(vals) > 1 {
		c.MultiValued = true
	}
	filled := false
	for _, v := range vals {
		if v == "" {
			continue
		}
		filled = true
		if n := utf8.RuneCountInString(v); n > c.MaxLength {
			c.MaxLength = n
		}
		c.kind.observe(v)
		if !c.DistinctCapped {
			// One probe of the map: insert, and see whether it grew.
			n := len(c.seen)
			c.seen[maphash.String(seed, v)] = struct{}{}
			if len(c.seen) > n && n >= distinctCap { // a new value past the cap
				c.DistinctCapped = true
				c.seen = nil
			}
		}
		if len(c.Samples) < 5 && !c.credential && !containsString(c.Samples, v) {
			c.Samples = append(c.Samples, truncate(v, 200))
		}
	}
	if filled {
		c.Filled++
	}
}

// result returns the statistics in the extract's column order.
func (sc *statsCollector) result(order []string) []ColumnStats {
	out := make([]ColumnStats, 0, len(sc.cols))
	done := map[string]bool{}
	emit := func(name string) {
		c, ok := sc.cols[name]
		if !ok || done[name] {
			return
		}
		done[name] = true
		if !c.DistinctCapped {
			c.Distinct = int64(len(c.seen))
		} else {
			c.Distinct = distinctCap
		}
		c.Type = c.kind.name()
		out = append(out, c.ColumnStats)
	}
	for _, name := range order {
		emit(name)
	}
	rest := make([]string, 0)
	for name := range sc.cols {
		if !done[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range rest {
		emit(name)
	}
	return out
}

func containsString(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return apperr.Internal(err)
}

// ExcludeRecord excludes a record from every load (or includes it again),
// with the reason why. The exclusion survives a re-staging of the source.
func (s *Service) ExcludeRecord(ctx context.Context, projectID, recordID, version int64, exclude bool, reason string) error {
	reason = strings.TrimSpace(reason)
	c := apperr.NewCheck()
	if exclude {
		c.Text("reason", "Reason", reason, true, apperr.MaxShortLen)
	}
	if err := c.Err(); err != nil {
		return err
	}
	if !exclude {
		reason = ""
	}
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var rec StagedRecord
		err := tx.Joins("JOIN extracts ON extracts.id = staged_records.extract_id").
			Where("staged_records.id = ? AND extracts.project_id = ?", recordID, projectID).First(&rec).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.NotFound("staged record")
		}
		if err != nil {
			return err
		}
		if rec.Version != version {
			return apperr.VersionConflict("record", rec.Version, nil)
		}
		before := map[string]any{"excluded": rec.Excluded, "reason": rec.ExcludeReason}
		res := tx.Model(&StagedRecord{}).Where("id = ? AND version = ?", rec.ID, version).
			Updates(map[string]any{"excluded": exclude, "exclude_reason": reason, "version": version + 1})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.VersionConflict("record", 0, nil)
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "staged_record", EntityID: rec.ID,
			Label: "record " + rec.SourceKey, Before: before, After: map[string]any{"excluded": exclude, "reason": reason}})
	}))
}

// SetChecksum records the checksum of an extract's file once it is known
// (the file is hashed while it is read).
func (s *Service) SetChecksum(ctx context.Context, extractID int64, checksum string) error {
	return wrap(s.db.Write.WithContext(ctx).Model(&Extract{}).Where("id = ?", extractID).Update("checksum", checksum).Error)
}

// SetFileFacts records the size and checksum of an extract's file once they
// are known: an upload streamed through the staging is measured and hashed
// as it is read, so both are known only at its end.
func (s *Service) SetFileFacts(ctx context.Context, extractID, sizeBytes int64, checksum string) error {
	return wrap(s.db.Write.WithContext(ctx).Model(&Extract{}).Where("id = ?", extractID).
		Updates(map[string]any{"size_bytes": sizeBytes, "checksum": checksum}).Error)
}

// FindRecordByID returns one staged record of the project with its extract.
func (s *Service) FindRecordByID(ctx context.Context, projectID, recordID int64) (*StagedRecord, *Extract, error) {
	var rec StagedRecord
	err := s.db.Read.WithContext(ctx).Joins("JOIN extracts ON extracts.id = staged_records.extract_id").
		Where("staged_records.id = ? AND extracts.project_id = ?", recordID, projectID).First(&rec).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil, apperr.NotFound("staged record")
	}
	if err != nil {
		return nil, nil, apperr.Internal(err)
	}
	var ex Extract
	if err := s.db.Read.WithContext(ctx).Where("id = ?", rec.ExtractID).First(&ex).Error; err != nil {
		return nil, nil, apperr.Internal(err)
	}
	return &rec, &ex, nil
}
