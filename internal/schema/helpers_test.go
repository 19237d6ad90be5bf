package schema_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/logging"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
)

type fixture struct {
	db     *db.DB
	clock  *dbtest.Clock
	plan   *plan.Service
	schema *schema.Service
	lead   *auth.Account
	// ctx attributes changes to lead.
	ctx context.Context
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
	return &fixture{
		db: d, clock: clock, plan: plan.NewService(d, as), schema: schema.NewService(d), lead: lead,
		ctx: logging.WithRequestID(audit.WithActor(context.Background(), audit.Actor{ID: lead.ID, Name: lead.Name}), "req-1"),
	}
}

func (f *fixture) mustProject(t *testing.T, name string) *plan.Project {
	t.Helper()
	p, err := f.plan.CreateProject(f.ctx, f.lead.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatalf("create project %q: %v", name, err)
	}
	return p
}

// attr returns a valid input for a string attribute called name.
func attr(name string) schema.CustomAttributeInput {
	return schema.CustomAttributeInput{Name: ptr(name), Title: ptr("Title of " + name), Type: ptr("string")}
}

func (f *fixture) mustCustom(t *testing.T, projectID int64, in schema.CustomAttributeInput) *schema.CustomAttribute {
	t.Helper()
	c, err := f.schema.CreateCustomAttribute(f.ctx, projectID, in)
	if err != nil {
		t.Fatalf("create custom attribute %v: %v", in.Name, err)
	}
	return c
}

func ptr[T any](v T) *T { return &v }

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

// changed returns the fields of a version conflict as "field: stored → yours".
func changed(t *testing.T, err error) map[string]string {
	t.Helper()
	e := wantCode(t, err, apperr.CodeConflict)
	out := map[string]string{}
	for _, c := range e.Changes {
		if c.Label == "" {
			t.Errorf("change of %s has no label", c.Field)
		}
		out[c.Field] = c.Stored + " → " + c.Yours
	}
	return out
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

// diff renders an entry's changed fields as "field: before → after".
func diff(e audit.Entry) map[string]string {
	out := map[string]string{}
	for _, d := range e.Diff() {
		out[d.Field] = d.Before + " → " + d.After
	}
	return out
}

// checkEntry checks an audit entry's who, what and which record.
func (f *fixture) checkEntry(t *testing.T, e audit.Entry, projectID int64, action, entityType string, entityID int64) {
	t.Helper()
	if e.ProjectID == nil || *e.ProjectID != projectID || e.Action != action || e.EntityType != entityType || e.EntityID != entityID {
		t.Fatalf("entry = project %v %s %s %d, want project %d %s %s %d", e.ProjectID, e.Action, e.EntityType, e.EntityID, projectID, action, entityType, entityID)
	}
	if e.ActorID == nil || *e.ActorID != f.lead.ID || e.ActorName != f.lead.Name || e.RequestID != "req-1" {
		t.Fatalf("entry actor %v %q request %q, want the lead and req-1", e.ActorID, e.ActorName, e.RequestID)
	}
	if !e.CreatedAt.Equal(f.clock.Now()) {
		t.Fatalf("entry time %v, want %v", e.CreatedAt, f.clock.Now())
	}
}
