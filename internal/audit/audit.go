// Package audit is Ferry's append-only record of every change: who did it,
// when, to which record, and the values before and after. Services write an
// entry inside the same transaction as the change it describes, so that a
// change and its record are committed, or lost, together.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/logging"
)

// Actions recorded in the log.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionDelete = "delete"
	// ActionView records a read of unmasked personal data.
	ActionView = "view"
)

// Actor is the person (or system) making a change.
type Actor struct {
	ID   int64
	Name string
}

// System is the actor for changes Ferry makes by itself (first-run setup, CLI).
var System = Actor{Name: "system"}

type actorKey struct{}

// WithActor returns ctx carrying the actor that changes made under it are attributed to.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx, or System.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return System
}

// Entry is one row of the audit log.
type Entry struct {
	ID          int64 `gorm:"primaryKey"`
	ProjectID   *int64
	ActorID     *int64
	ActorName   string
	Action      string
	EntityType  string
	EntityID    int64
	EntityLabel string
	BeforeJSON  string `gorm:"column:before_json"`
	AfterJSON   string `gorm:"column:after_json"`
	RequestID   string
	CreatedAt   time.Time
}

func (Entry) TableName() string { return "audit_entries" }

// Change describes one change for Record. Before is nil for a create, After
// nil for a delete. Values are stored as JSON; fields tagged json:"-" (secrets)
// never reach the log.
type Change struct {
	ProjectID  int64 // 0 for console-wide records (accounts)
	Action     string
	EntityType string
	EntityID   int64
	Label      string
	Before     any
	After      any
}

// Record appends one entry in tx, attributed to the actor in ctx.
func Record(ctx context.Context, tx *gorm.DB, c Change) error {
	actor := ActorFrom(ctx)
	e := Entry{
		ActorName:   actor.Name,
		Action:      c.Action,
		EntityType:  c.EntityType,
		EntityID:    c.EntityID,
		EntityLabel: c.Label,
		RequestID:   logging.RequestID(ctx),
	}
	if actor.ID != 0 {
		id := actor.ID
		e.ActorID = &id
	}
	if c.ProjectID != 0 {
		id := c.ProjectID
		e.ProjectID = &id
	}
	var err error
	if e.BeforeJSON, err = toJSON(c.Before); err != nil {
		return err
	}
	if e.AfterJSON, err = toJSON(c.After); err != nil {
		return err
	}
	if err := tx.WithContext(ctx).Create(&e).Error; err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}

func toJSON(v any) (string, error) {
	if v == nil || (reflect.ValueOf(v).Kind() == reflect.Pointer && reflect.ValueOf(v).IsNil()) {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("audit: encode value: %w", err)
	}
	return string(b), nil
}

// FieldDiff is one field's value before and after a change, as shown in the log.
type FieldDiff struct {
	Field  string
	Before string
	After  string
}

// bookkeeping fields change on every save and say nothing to a reader.
var bookkeeping = map[string]bool{"version": true, "updatedAt": true, "createdAt": true}

// Diff lists the fields whose values differ between before and after.
func (e Entry) Diff() []FieldDiff {
	before, after := decode(e.BeforeJSON), decode(e.AfterJSON)
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	var out []FieldDiff
	for k := range keys {
		if bookkeeping[k] {
			continue
		}
		b, a := render(before[k]), render(after[k])
		if b != a {
			out = append(out, FieldDiff{Field: k, Before: b, After: a})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

func decode(s string) map[string]any {
	m := map[string]any{}
	if s != "" {
		_ = json.Unmarshal([]byte(s), &m)
	}
	return m
}

func render(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// Filter selects entries for FindEntries. Zero fields do not filter.
type Filter struct {
	ProjectID int64
	// ConsoleOnly selects the entries that belong to no project (accounts, API tokens).
	ConsoleOnly bool
	ActorID     int64
	EntityType  string
	EntityID    int64
	// BeforeID pages backwards: only entries with a smaller id (keyset paging).
	BeforeID int64
	Limit    int
}

// Reader reads the log; it never changes it.
type Reader struct {
	db *gorm.DB
}

// NewReader returns a Reader over the read handle.
func NewReader(read *gorm.DB) *Reader { return &Reader{db: read} }

// FindEntries returns the newest entries matching f, newest first, and
// whether older ones exist.
func (r *Reader) FindEntries(ctx context.Context, f Filter) ([]Entry, bool, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := r.db.WithContext(ctx).Model(&Entry{})
	if f.ProjectID != 0 {
		q = q.Where("project_id = ?", f.ProjectID)
	}
	if f.ConsoleOnly {
		q = q.Where("project_id IS NULL")
	}
	if f.ActorID != 0 {
		q = q.Where("actor_id = ?", f.ActorID)
	}
	if f.EntityType != "" {
		q = q.Where("entity_type = ?", f.EntityType)
	}
	if f.EntityID != 0 {
		q = q.Where("entity_id = ?", f.EntityID)
	}
	if f.BeforeID != 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	var entries []Entry
	if err := q.Order("id DESC").Limit(f.Limit + 1).Find(&entries).Error; err != nil {
		return nil, false, apperr.Internal(err)
	}
	more := len(entries) > f.Limit
	if more {
		entries = entries[:f.Limit]
	}
	return entries, more, nil
}

// ActorOption is a person who appears in a project's log, for filters.
type ActorOption struct {
	ActorID   int64
	ActorName string
}

// FindActors lists the distinct actors of a project's log (projectID 0: of
// the console-wide entries).
func (r *Reader) FindActors(ctx context.Context, projectID int64) ([]ActorOption, error) {
	var out []ActorOption
	q := r.db.WithContext(ctx).Model(&Entry{}).Select("actor_id, MAX(actor_name) AS actor_name")
	if projectID == 0 {
		q = q.Where("project_id IS NULL AND actor_id IS NOT NULL")
	} else {
		q = q.Where("project_id = ? AND actor_id IS NOT NULL", projectID)
	}
	err := q.
		Group("actor_id").Order("actor_name").Scan(&out).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}
