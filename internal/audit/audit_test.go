package audit_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/logging"
)

// credential stands for any record with a secret that must never be logged.
type credential struct {
	Name     string `json:"name"`
	Password string `json:"-"`
	Token    string `json:"-"`
	Count    int    `json:"count"`
	Version  int64  `json:"version"`
}

func mustRecord(t *testing.T, ctx context.Context, d *db.DB, c audit.Change) {
	t.Helper()
	if err := d.Transaction(ctx, func(tx *gorm.DB) error { return audit.Record(ctx, tx, c) }); err != nil {
		t.Fatalf("record %+v: %v", c, err)
	}
}

func mustFind(t *testing.T, r *audit.Reader, f audit.Filter) ([]audit.Entry, bool) {
	t.Helper()
	entries, more, err := r.FindEntries(context.Background(), f)
	if err != nil {
		t.Fatalf("find %+v: %v", f, err)
	}
	return entries, more
}

func TestRecordWritesWhoWhenWhatAndNoSecrets(t *testing.T) {
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	ctx := logging.WithRequestID(audit.WithActor(context.Background(), audit.Actor{ID: 42, Name: "Lea Lead"}), "req-7")
	before := &credential{Name: "old", Password: "hunter2-before", Token: "ferry_secretbefore", Count: 1, Version: 1}
	after := credential{Name: "new", Password: "hunter2-after", Token: "ferry_secretafter", Count: 2, Version: 2}
	mustRecord(t, ctx, d, audit.Change{ProjectID: 9, Action: audit.ActionUpdate, EntityType: "thing", EntityID: 5, Label: "the thing", Before: before, After: after})

	entries, more := mustFind(t, audit.NewReader(d.Read), audit.Filter{})
	if len(entries) != 1 || more {
		t.Fatalf("entries = %d, more = %v; want 1, false", len(entries), more)
	}
	e := entries[0]
	if e.ActorID == nil || *e.ActorID != 42 || e.ActorName != "Lea Lead" {
		t.Errorf("actor = %v %q, want 42 Lea Lead", e.ActorID, e.ActorName)
	}
	if e.ProjectID == nil || *e.ProjectID != 9 {
		t.Errorf("project = %v, want 9", e.ProjectID)
	}
	if e.Action != "update" || e.EntityType != "thing" || e.EntityID != 5 || e.EntityLabel != "the thing" || e.RequestID != "req-7" {
		t.Errorf("entry = %+v", e)
	}
	if !e.CreatedAt.Equal(clock.Now()) {
		t.Errorf("created at %v, want the clock's %v", e.CreatedAt, clock.Now())
	}
	if e.BeforeJSON != `{"name":"old","count":1,"version":1}` {
		t.Errorf("before = %s", e.BeforeJSON)
	}
	if e.AfterJSON != `{"name":"new","count":2,"version":2}` {
		t.Errorf("after = %s", e.AfterJSON)
	}
	var raw []string
	if err := d.Read.Raw("SELECT before_json || after_json || entity_label FROM audit_entries").Scan(&raw).Error; err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "ferry_secret"} {
		if strings.Contains(strings.Join(raw, ""), secret) {
			t.Errorf("the stored entry contains the secret %q", secret)
		}
	}
}

func TestRecordWithoutActorIsTheSystemAndConsoleWide(t *testing.T) {
	d := dbtest.MustOpen(t, nil)
	ctx := context.Background()
	mustRecord(t, ctx, d, audit.Change{Action: audit.ActionCreate, EntityType: "account", EntityID: 1, After: map[string]string{"email": "a@example.com"}})
	mustRecord(t, ctx, d, audit.Change{Action: audit.ActionDelete, EntityType: "account", EntityID: 1, Before: map[string]string{"email": "a@example.com"}, After: (*credential)(nil)})
	entries, _ := mustFind(t, audit.NewReader(d.Read), audit.Filter{})
	if len(entries) != 2 {
		t.Fatalf("entries = %d", len(entries))
	}
	for _, e := range entries {
		if e.ActorID != nil || e.ActorName != audit.System.Name || e.ProjectID != nil || e.RequestID != "" {
			t.Errorf("entry %d: actor %v %q, project %v, request %q; want system, console-wide", e.ID, e.ActorID, e.ActorName, e.ProjectID, e.RequestID)
		}
	}
	del, create := entries[0], entries[1]
	if create.BeforeJSON != "" || create.AfterJSON != `{"email":"a@example.com"}` {
		t.Errorf("create: before %q after %q", create.BeforeJSON, create.AfterJSON)
	}
	if del.AfterJSON != "" {
		t.Errorf("a nil pointer After is stored as %q, want empty", del.AfterJSON)
	}
	if a := audit.ActorFrom(context.Background()); a != audit.System {
		t.Errorf("ActorFrom(empty) = %+v", a)
	}
	if id := logging.RequestID(context.Background()); id != "" {
		t.Errorf("RequestIDFrom(empty) = %q", id)
	}
}

func TestRecordFailureLeavesNothingBehind(t *testing.T) {
	d := dbtest.MustOpen(t, nil)
	ctx := context.Background()
	err := d.Transaction(ctx, func(tx *gorm.DB) error {
		if err := audit.Record(ctx, tx, audit.Change{Action: audit.ActionCreate, EntityType: "ok", EntityID: 1, After: 1}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: audit.ActionCreate, EntityType: "bad", EntityID: 2, After: make(chan int)})
	})
	if err == nil {
		t.Fatalf("recording a value that cannot be encoded succeeded")
	}
	entries, _ := mustFind(t, audit.NewReader(d.Read), audit.Filter{})
	if len(entries) != 0 {
		t.Fatalf("entries = %d, want the transaction rolled back", len(entries))
	}
}

func TestEntryDiff(t *testing.T) {
	tests := []struct {
		name          string
		before, after string
		want          []audit.FieldDiff
	}{
		{"a create lists every field as new", "", `{"name":"Acme","count":3}`,
			[]audit.FieldDiff{{"count", "", "3"}, {"name", "", "Acme"}}},
		{"a delete lists every field as gone", `{"name":"Acme"}`, "",
			[]audit.FieldDiff{{"name", "Acme", ""}}},
		{"an update lists only changed fields, sorted", `{"b":"same","z":"old","a":1}`, `{"b":"same","z":"new","a":2}`,
			[]audit.FieldDiff{{"a", "1", "2"}, {"z", "old", "new"}}},
		{"bookkeeping fields are left out", `{"version":1,"updatedAt":"t1","createdAt":"t0","name":"x"}`, `{"version":2,"updatedAt":"t2","createdAt":"t0","name":"x"}`,
			nil},
		{"non-string values are shown as JSON", `{"ids":[1,2],"on":false,"obj":{"k":"v"}}`, `{"ids":[1,3],"on":true,"obj":{"k":"v"}}`,
			[]audit.FieldDiff{{"ids", "[1,2]", "[1,3]"}, {"on", "false", "true"}}},
		{"a field that appears is a change from empty", `{"a":"x"}`, `{"a":"x","b":"y"}`,
			[]audit.FieldDiff{{"b", "", "y"}}},
		{"null and missing are the same", `{"a":null}`, `{}`, nil},
		{"markup is kept verbatim", `{"n":"a"}`, `{"n":"<script>alert(1)</script>"}`,
			[]audit.FieldDiff{{"n", "a", "<script>alert(1)</script>"}}},
		{"unreadable JSON gives no diff rather than a panic", `{not json`, `[1,2]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := audit.Entry{BeforeJSON: tt.before, AfterJSON: tt.after}.Diff()
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Diff = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// seedLog writes 15 entries: 10 in project 1, 4 in project 2 and one
// console-wide, by Alice (1), Bob (2) and the system.
func seedLog(t *testing.T, d *db.DB) {
	t.Helper()
	alice := audit.WithActor(context.Background(), audit.Actor{ID: 1, Name: "Alice"})
	bob := audit.WithActor(context.Background(), audit.Actor{ID: 2, Name: "Bob"})
	system := context.Background()
	// Project 1: 5 by Alice on source 10, 3 by Bob on user type 20, 2 by the system.
	for i := range 5 {
		mustRecord(t, alice, d, audit.Change{ProjectID: 1, Action: audit.ActionUpdate, EntityType: "source", EntityID: 10, Label: fmt.Sprint("s", i)})
	}
	for i := range 3 {
		mustRecord(t, bob, d, audit.Change{ProjectID: 1, Action: audit.ActionUpdate, EntityType: "user_type", EntityID: 20, Label: fmt.Sprint("u", i)})
	}
	for range 2 {
		mustRecord(t, system, d, audit.Change{ProjectID: 1, Action: audit.ActionCreate, EntityType: "source", EntityID: 11})
	}
	// Project 2: 4 by Bob on source 10 (same id, other project).
	for range 4 {
		mustRecord(t, bob, d, audit.Change{ProjectID: 2, Action: audit.ActionUpdate, EntityType: "source", EntityID: 10})
	}
	// Console-wide: 1 by Alice.
	mustRecord(t, alice, d, audit.Change{Action: audit.ActionCreate, EntityType: "account", EntityID: 3})
}

func TestFindEntriesFilters(t *testing.T) {
	d := dbtest.MustOpen(t, nil)
	seedLog(t, d)
	r := audit.NewReader(d.Read)
	tests := []struct {
		name string
		f    audit.Filter
		want int
	}{
		{"no filter returns everything", audit.Filter{}, 15},
		{"by project", audit.Filter{ProjectID: 1}, 10},
		{"by actor across projects", audit.Filter{ActorID: 2}, 7},
		{"by project and actor", audit.Filter{ProjectID: 1, ActorID: 2}, 3},
		{"by entity type in a project", audit.Filter{ProjectID: 1, EntityType: "source"}, 7},
		{"by record: one record's history", audit.Filter{ProjectID: 1, EntityType: "source", EntityID: 10}, 5},
		{"by record in the other project", audit.Filter{ProjectID: 2, EntityType: "source", EntityID: 10}, 4},
		{"an unknown project has no entries", audit.Filter{ProjectID: 99}, 0},
		{"an unknown entity type has no entries", audit.Filter{EntityType: "nope"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, more := mustFind(t, r, tt.f)
			if len(entries) != tt.want || more {
				t.Fatalf("entries = %d (more %v), want %d", len(entries), more, tt.want)
			}
			for i, e := range entries {
				if i > 0 && e.ID >= entries[i-1].ID {
					t.Fatalf("entries are not newest first: %d after %d", e.ID, entries[i-1].ID)
				}
				if tt.f.ProjectID != 0 && (e.ProjectID == nil || *e.ProjectID != tt.f.ProjectID) {
					t.Fatalf("entry %d of project %v", e.ID, e.ProjectID)
				}
				if tt.f.ActorID != 0 && (e.ActorID == nil || *e.ActorID != tt.f.ActorID) {
					t.Fatalf("entry %d by actor %v", e.ID, e.ActorID)
				}
				if tt.f.EntityType != "" && e.EntityType != tt.f.EntityType {
					t.Fatalf("entry %d of type %q", e.ID, e.EntityType)
				}
				if tt.f.EntityID != 0 && e.EntityID != tt.f.EntityID {
					t.Fatalf("entry %d of record %d", e.ID, e.EntityID)
				}
			}
		})
	}
}

func TestFindEntriesKeysetPaging(t *testing.T) {
	d := dbtest.MustOpen(t, nil)
	seedLog(t, d)
	r := audit.NewReader(d.Read)

	all, _ := mustFind(t, r, audit.Filter{ProjectID: 1})
	var paged []audit.Entry
	f := audit.Filter{ProjectID: 1, Limit: 3}
	pages := 0
	for {
		entries, more := mustFind(t, r, f)
		pages++
		if len(entries) > 3 {
			t.Fatalf("page %d has %d entries, limit 3", pages, len(entries))
		}
		paged = append(paged, entries...)
		if !more {
			break
		}
		if len(entries) == 0 || pages > 10 {
			t.Fatalf("page %d: more is set but the page is empty or paging does not end", pages)
		}
		f.BeforeID = entries[len(entries)-1].ID
	}
	if pages != 4 {
		t.Errorf("pages = %d, want 4 (3+3+3+1)", pages)
	}
	if len(paged) != len(all) {
		t.Fatalf("paged %d entries, want %d", len(paged), len(all))
	}
	for i := range all {
		if paged[i].ID != all[i].ID {
			t.Fatalf("entry %d: paged id %d, want %d", i, paged[i].ID, all[i].ID)
		}
	}

	// An exact fit reports no more.
	if entries, more := mustFind(t, r, audit.Filter{ProjectID: 1, Limit: 10}); len(entries) != 10 || more {
		t.Errorf("limit 10 of 10: %d entries, more %v", len(entries), more)
	}
	// Zero and absurd limits fall back to the default page.
	for _, limit := range []int{0, -5, 100000} {
		if entries, more := mustFind(t, r, audit.Filter{Limit: limit}); len(entries) != 15 || more {
			t.Errorf("limit %d: %d entries, more %v", limit, len(entries), more)
		}
	}
}

func TestFindEntriesDefaultPageIsBounded(t *testing.T) {
	d := dbtest.MustOpen(t, nil)
	ctx := context.Background()
	if err := d.Transaction(ctx, func(tx *gorm.DB) error {
		for i := range 101 {
			if err := audit.Record(ctx, tx, audit.Change{ProjectID: 1, Action: audit.ActionCreate, EntityType: "x", EntityID: int64(i + 1)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	entries, more := mustFind(t, audit.NewReader(d.Read), audit.Filter{ProjectID: 1})
	if len(entries) != 100 || !more {
		t.Fatalf("entries = %d, more = %v; want 100, true", len(entries), more)
	}
	if entries[0].EntityID != 101 {
		t.Fatalf("first entry is record %d, want the newest (101)", entries[0].EntityID)
	}
}

func TestFindActors(t *testing.T) {
	d := dbtest.MustOpen(t, nil)
	seedLog(t, d)
	// Bob renamed himself: the filter still shows one entry for him.
	mustRecord(t, audit.WithActor(context.Background(), audit.Actor{ID: 2, Name: "Bob B."}), d, audit.Change{ProjectID: 1, Action: audit.ActionUpdate, EntityType: "x", EntityID: 1})
	r := audit.NewReader(d.Read)
	ctx := context.Background()

	got, err := r.FindActors(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ActorID != 1 || got[0].ActorName != "Alice" || got[1].ActorID != 2 || !strings.HasPrefix(got[1].ActorName, "Bob") {
		t.Fatalf("actors of project 1 = %+v, want Alice then Bob, without the system", got)
	}
	got, err = r.FindActors(ctx, 2)
	if err != nil || len(got) != 1 || got[0].ActorID != 2 {
		t.Fatalf("actors of project 2 = %+v (%v), want only Bob", got, err)
	}
	got, err = r.FindActors(ctx, 99)
	if err != nil || len(got) != 0 {
		t.Fatalf("actors of an unknown project = %+v (%v)", got, err)
	}
}

func TestEntriesKeepTheirTimeInOrder(t *testing.T) {
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	ctx := context.Background()
	mustRecord(t, ctx, d, audit.Change{ProjectID: 1, Action: audit.ActionCreate, EntityType: "x", EntityID: 1})
	clock.Advance(90 * time.Minute)
	mustRecord(t, ctx, d, audit.Change{ProjectID: 1, Action: audit.ActionDelete, EntityType: "x", EntityID: 1})
	entries, _ := mustFind(t, audit.NewReader(d.Read), audit.Filter{ProjectID: 1, EntityType: "x", EntityID: 1})
	if len(entries) != 2 || entries[0].Action != "delete" || entries[1].Action != "create" {
		t.Fatalf("history = %+v", entries)
	}
	if gap := entries[0].CreatedAt.Sub(entries[1].CreatedAt); gap != 90*time.Minute {
		t.Fatalf("gap between entries = %v, want 1h30m", gap)
	}
}
