package privacy_test

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
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// fixture is a fresh database with the services the legal review needs, a
// project lead and a legal reviewer, and a project with one source ("AD").
type fixture struct {
	db       *db.DB
	clock    *dbtest.Clock
	plan     *plan.Service
	mapping  *mapping.Service
	privacy  *privacy.Service
	lead     *auth.Account
	reviewer *auth.Account
	// ctx attributes changes to the lead, asReviewer to the reviewer.
	ctx        context.Context
	asReviewer context.Context
	project    *plan.Project
	ad         *plan.Source
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
	reviewer, err := as.CreateAccount(context.Background(), auth.AccountInput{Email: "rita@example.com", Name: "Rita Reviewer", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	planSvc := plan.NewService(d, as)
	schemaSvc := schema.NewService(d)
	mappingSvc := mapping.NewService(d, schemaSvc, planSvc)
	f := &fixture{
		db: d, clock: clock, plan: planSvc, mapping: mappingSvc, privacy: privacy.NewService(d, mappingSvc, planSvc, clock.Now),
		lead: lead, reviewer: reviewer,
		ctx:        logging.WithRequestID(audit.WithActor(context.Background(), audit.Actor{ID: lead.ID, Name: lead.Name}), "req-1"),
		asReviewer: logging.WithRequestID(audit.WithActor(context.Background(), audit.Actor{ID: reviewer.ID, Name: reviewer.Name}), "req-2"),
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

// mustPII creates a field of AD confirmed as personal data of category.
func (f *fixture) mustPII(t *testing.T, name, category string) *mapping.SourceField {
	t.Helper()
	sf, err := f.mapping.CreateField(f.ctx, f.project.ID, f.ad.ID, mapping.FieldInput{Name: &name, PII: ptr(mapping.PIIYes), PIICategory: &category})
	if err != nil {
		t.Fatalf("create field %q: %v", name, err)
	}
	return sf
}

// mustField creates a field of AD with in (Name set to name).
func (f *fixture) mustField(t *testing.T, name string, in mapping.FieldInput) *mapping.SourceField {
	t.Helper()
	in.Name = &name
	sf, err := f.mapping.CreateField(f.ctx, f.project.ID, f.ad.ID, in)
	if err != nil {
		t.Fatalf("create field %q: %v", name, err)
	}
	return sf
}

func (f *fixture) mustRow(t *testing.T, fieldID int64, target string, in mapping.RowInput) *mapping.Row {
	t.Helper()
	in.SourceFieldID = &fieldID
	if in.Status == nil {
		in.TargetAttribute = &target
	}
	r, err := f.mapping.CreateRow(f.ctx, f.project.ID, in)
	if err != nil {
		t.Fatalf("create row → %s: %v", target, err)
	}
	return r
}

// field re-reads a field, for its current version.
func (f *fixture) field(t *testing.T, id int64) *mapping.SourceField {
	t.Helper()
	sf, err := f.mapping.FindFieldByID(f.ctx, f.project.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return sf
}

func (f *fixture) register(t *testing.T) *privacy.Register {
	t.Helper()
	reg, err := f.privacy.LoadRegister(f.ctx, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func (f *fixture) entry(t *testing.T, fieldID int64) *privacy.Entry {
	t.Helper()
	e, ok := f.register(t).Entry(fieldID)
	if !ok {
		t.Fatalf("field %d is not in the register", fieldID)
	}
	return e
}

// approve approves the reviewer's migrate decision on a field, whatever its
// review's version.
func (f *fixture) approve(t *testing.T, fieldID int64, in privacy.DecisionInput) *privacy.Review {
	t.Helper()
	if in.Status == "" {
		in.Status = privacy.StatusApproved
	}
	if in.Decision == "" {
		in.Decision = privacy.DecisionMigrate
	}
	if in.LawfulBasis == "" && in.Decision != privacy.DecisionDrop {
		in.LawfulBasis = "contract"
	}
	var version int64
	if e := f.entry(t, fieldID); e.Review != nil {
		version = e.Review.Version
	}
	r, err := f.privacy.Decide(f.asReviewer, f.project.ID, fieldID, version, in)
	if err != nil {
		t.Fatalf("approve field %d: %v", fieldID, err)
	}
	return r
}

func (f *fixture) signOff(t *testing.T) *privacy.SignOff {
	t.Helper()
	so, err := f.privacy.SignOffRegister(f.asReviewer, f.project.ID)
	if err != nil {
		t.Fatalf("sign off: %v", err)
	}
	return so
}

func (f *fixture) gate(t *testing.T) privacy.GateResult {
	t.Helper()
	g, err := f.privacy.LoadGate(f.ctx, f.project.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	return g
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

func (f *fixture) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Read.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// written counts what the legal review writes: reviews, sign-offs and audit entries.
func (f *fixture) written(t *testing.T) [3]int64 {
	t.Helper()
	return [3]int64{
		f.count(t, "SELECT COUNT(*) FROM pii_reviews"),
		f.count(t, "SELECT COUNT(*) FROM pii_signoffs"),
		f.count(t, "SELECT COUNT(*) FROM audit_entries"),
	}
}

func (f *fixture) wantNothingWritten(t *testing.T, before [3]int64) {
	t.Helper()
	if after := f.written(t); after != before {
		t.Errorf("reviews, sign-offs, audit entries: %v before, %v after", before, after)
	}
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

func planSourceName(name string) plan.SourceInput { return plan.SourceInput{Name: &name} }

func ptrLen(n int) **int { p := &n; return &p }
