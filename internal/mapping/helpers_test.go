package mapping_test

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/logging"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// fixture is a fresh database with the services the matrix needs, a project
// lead, and a project with one source ("AD").
type fixture struct {
	db      *db.DB
	clock   *dbtest.Clock
	plan    *plan.Service
	schema  *schema.Service
	mapping *mapping.Service
	lead    *auth.Account
	// ctx attributes changes to lead.
	ctx     context.Context
	project *plan.Project
	ad      *plan.Source
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	as := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	lead, err := as.CreateAccount(context.Background(), auth.AccountInput{Email: "lea@example.com", Name: "Lea Lead", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	planSvc := plan.NewService(d, as)
	schemaSvc := schema.NewService(d)
	f := &fixture{
		db: d, clock: clock, plan: planSvc, schema: schemaSvc, mapping: mapping.NewService(d, schemaSvc, planSvc), lead: lead,
		ctx: logging.WithRequestID(audit.WithActor(context.Background(), audit.Actor{ID: lead.ID, Name: lead.Name}), "req-1"),
	}
	f.project = f.mustProject(t, "Acme")
	f.ad = f.mustSource(t, f.project.ID, "AD")
	return f
}

func (f *fixture) mustProject(t *testing.T, name string) *plan.Project {
	t.Helper()
	p, err := f.plan.CreateProject(f.ctx, f.lead.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatalf("create project %q: %v", name, err)
	}
	return p
}

func (f *fixture) mustSource(t *testing.T, projectID int64, name string) *plan.Source {
	t.Helper()
	s, err := f.plan.CreateSource(f.ctx, projectID, plan.SourceInput{Name: &name, Kind: ptr("ldap")})
	if err != nil {
		t.Fatalf("create source %q: %v", name, err)
	}
	return s
}

// mustField creates a field of the fixture's project; in's Name is set to name.
func (f *fixture) mustField(t *testing.T, sourceID int64, name string, in mapping.FieldInput) *mapping.SourceField {
	t.Helper()
	in.Name = &name
	sf, err := f.mapping.CreateField(f.ctx, f.project.ID, sourceID, in)
	if err != nil {
		t.Fatalf("create field %q: %v", name, err)
	}
	return sf
}

// mustRow maps a field of the fixture's project to target.
func (f *fixture) mustRow(t *testing.T, fieldID int64, target string, in mapping.RowInput) *mapping.Row {
	t.Helper()
	in.SourceFieldID = &fieldID
	if in.TargetAttribute == nil && in.Status == nil {
		in.TargetAttribute = &target
	}
	r, err := f.mapping.CreateRow(f.ctx, f.project.ID, in)
	if err != nil {
		t.Fatalf("create row %d → %s: %v", fieldID, target, err)
	}
	return r
}

func (f *fixture) matrix(t *testing.T) *mapping.Matrix {
	t.Helper()
	m, err := f.mapping.LoadMatrix(f.ctx, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// state is everything an import could change: the fields, the rows and the
// size of the audit log.
type state struct {
	Fields []mapping.SourceField
	Rows   []mapping.Row
	Audit  int64
}

func (f *fixture) state(t *testing.T) state {
	t.Helper()
	fields, err := f.mapping.FindFields(f.ctx, f.project.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.mapping.FindRows(f.ctx, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	return state{Fields: fields, Rows: rows, Audit: f.auditCount(t)}
}

// wantUnchanged fails when the matrix or the audit log differ from before.
func (f *fixture) wantUnchanged(t *testing.T, before state) {
	t.Helper()
	after := f.state(t)
	if !reflect.DeepEqual(before.Fields, after.Fields) {
		t.Errorf("fields changed:\nbefore %+v\nafter  %+v", before.Fields, after.Fields)
	}
	if !reflect.DeepEqual(before.Rows, after.Rows) {
		t.Errorf("rows changed:\nbefore %+v\nafter  %+v", before.Rows, after.Rows)
	}
	if before.Audit != after.Audit {
		t.Errorf("audit entries: %d before, %d after", before.Audit, after.Audit)
	}
}

func ptr[T any](v T) *T { return &v }

func lenp(n int) **int { p := &n; return &p }

func wantCode(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", code)
	}
	if got := apperr.CodeOf(err); got != code {
		t.Fatalf("err = %v (code %s), want code %s", err, got, code)
	}
	return apperr.As(err)
}

// wantField checks err is invalid with a message for field containing substr.
func wantField(t *testing.T, err error, field, substr string) {
	t.Helper()
	e := wantCode(t, err, apperr.CodeInvalid)
	msg, ok := e.Fields[field]
	if !ok {
		t.Fatalf("fields = %v, want a message for %q", e.Fields, field)
	}
	if !strings.Contains(msg, substr) {
		t.Fatalf("%s: message %q, want it to contain %q", field, msg, substr)
	}
}

func (f *fixture) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Read.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (f *fixture) auditCount(t *testing.T) int64 {
	t.Helper()
	return f.count(t, "SELECT COUNT(*) FROM audit_entries")
}

// history returns the audit entries of one record, newest first.
func (f *fixture) history(t *testing.T, entityType string, id int64) []audit.Entry {
	t.Helper()
	entries, _, err := audit.NewReader(f.db.Read).FindEntries(context.Background(), audit.Filter{EntityType: entityType, EntityID: id})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// checkEntry checks an audit entry's who, what and which record.
func (f *fixture) checkEntry(t *testing.T, e audit.Entry, action, entityType string, entityID int64, label string) {
	t.Helper()
	if e.ProjectID == nil || *e.ProjectID != f.project.ID || e.Action != action || e.EntityType != entityType || e.EntityID != entityID {
		t.Fatalf("entry = project %v %s %s %d, want project %d %s %s %d", e.ProjectID, e.Action, e.EntityType, e.EntityID, f.project.ID, action, entityType, entityID)
	}
	if e.ActorID == nil || *e.ActorID != f.lead.ID || e.ActorName != f.lead.Name || e.RequestID != "req-1" {
		t.Fatalf("entry actor %v %q request %q, want the lead and req-1", e.ActorID, e.ActorName, e.RequestID)
	}
	if label != "" && e.EntityLabel != label {
		t.Fatalf("entry label %q, want %q", e.EntityLabel, label)
	}
	if !e.CreatedAt.Equal(f.clock.Now()) {
		t.Fatalf("entry time %v, want %v", e.CreatedAt, f.clock.Now())
	}
}

// diff renders an entry's changed fields as "field: before → after".
func diff(e audit.Entry) map[string]string {
	out := map[string]string{}
	for _, d := range e.Diff() {
		out[d.Field] = d.Before + " → " + d.After
	}
	return out
}

// codes lists the problem codes, sorted.
func codes(ps []mapping.Problem) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Code)
	}
	sort.Strings(out)
	return out
}
