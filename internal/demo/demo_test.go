package demo_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/demo"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
)

type world struct {
	auth    *auth.Service
	plan    *plan.Service
	mapping *mapping.Service
	privacy *privacy.Service
	staging *staging.Service
	quality *quality.Service
	audit   *audit.Reader
	svc     demo.Services
	admin   *auth.Account
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	w := &world{auth: auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})}
	w.plan = plan.NewService(d, w.auth)
	ss := schema.NewService(d)
	w.mapping = mapping.NewService(d, ss, w.plan)
	w.privacy = privacy.NewService(d, w.mapping, w.plan, clock.Now)
	w.staging = staging.NewService(d, clock.Now, w.mapping)
	w.quality = quality.NewService(d, w.mapping, w.staging, w.privacy, clock.Now)
	w.audit = audit.NewReader(d.Read)
	w.svc = demo.Services{Plan: w.plan, Schema: ss, Mapping: w.mapping, Privacy: w.privacy, Staging: w.staging, Quality: w.quality,
		Audit: w.audit, Database: d}
	var err error
	w.admin, err = w.auth.CreateAccount(context.Background(), auth.AccountInput{Email: "admin@example.com", Name: "Ada Admin",
		Password: "correct horse battery", IsAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// small keeps the tests quick; the default size is exercised by cmd/ferry.
var small = demo.Options{HRUsers: 300, DirectoryUsers: 120}

func TestSeedingAnEmptyDatabaseCreatesAFilledInDemoProject(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	s := demo.New(w.svc, small)
	if pending, err := s.Pending(ctx); err != nil || !pending {
		t.Fatalf("an empty database: pending = %v, %v", pending, err)
	}
	res, err := s.Seed(ctx, w.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := res.Project
	if p.Name != demo.ProjectName || !strings.Contains(p.Name, "demo") || !strings.HasPrefix(p.Description, "DEMO DATA") {
		t.Errorf("the project is not labelled as a demo: %q / %q", p.Name, p.Description)
	}
	if role, err := w.auth.RoleIn(ctx, w.admin.ID, p.ID); err != nil || role != auth.RoleProjectLead {
		t.Errorf("the admin's role = %q, %v; want project lead", role, err)
	}

	types, err := w.plan.FindUserTypes(ctx, p.ID)
	if err != nil || len(types) != 3 {
		t.Fatalf("user types: %d, %v", len(types), err)
	}
	var people int64
	for _, ut := range types {
		people += ut.UserCount
		if len(ut.Subgroups) < 2 || ut.SubgroupTotal() != ut.UserCount {
			t.Errorf("user type %s: subgroups %v do not add up to %d", ut.Name, ut.Subgroups, ut.UserCount)
		}
	}
	if people != 420 {
		t.Errorf("user types count %d people, the extracts 420", people)
	}
	sources, err := w.plan.FindSources(ctx, p.ID)
	if err != nil || len(sources) != 2 {
		t.Fatalf("sources: %d, %v", len(sources), err)
	}
	for _, src := range sources {
		if src.AccessOwner == "" || src.AccessStatus != plan.AccessGranted || len(src.UserTypeIDs) != 3 {
			t.Errorf("source %s is not filled in: %+v", src.Name, src)
		}
		ex, err := w.staging.CurrentExtract(ctx, p.ID, src.ID)
		if err != nil || ex == nil {
			t.Fatalf("source %s has no current extract: %v", src.Name, err)
		}
		if ex.Records < 100 || ex.Checksum == "" || ex.SizeBytes == 0 {
			t.Errorf("source %s: extract %+v", src.Name, ex)
		}
	}
	if res.Records() != 420 {
		t.Errorf("staged %d records, want 420", res.Records())
	}
	apps, err := w.plan.FindApplications(ctx, p.ID)
	if err != nil || len(apps) < 3 {
		t.Fatalf("applications: %d, %v", len(apps), err)
	}
	goals, err := w.plan.FindGoals(ctx, p.ID)
	if err != nil || len(goals.Unanswered()) != 0 || goals.Approach == "" {
		t.Fatalf("goals: %+v, %v", goals, err)
	}

	m, err := w.mapping.LoadMatrix(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Mapped < 20 {
		t.Errorf("only %d matrix rows are mapped: the suggestions were not accepted", m.Mapped)
	}
	reg, err := w.privacy.LoadRegister(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if reg.Approved == 0 || reg.Pending == 0 {
		t.Errorf("the PII register should be part-reviewed: %d approved, %d pending", reg.Approved, reg.Pending)
	}

	runs, err := w.quality.LatestRuns(ctx, p.ID, 5)
	if err != nil || len(runs) != 1 {
		t.Fatalf("validation runs: %d, %v", len(runs), err)
	}
	run := runs[0]
	if run.Status != quality.RunDone || run.Records != 420 || run.Invalid == 0 || run.Valid == 0 {
		t.Fatalf("run: %+v", run)
	}
	// The injected problems are found.
	for _, code := range []string{"required_missing", "duplicate_email"} {
		if run.Counts.ByCode[code] == 0 {
			t.Errorf("no %s issue found: %v", code, run.Counts.ByCode)
		}
	}

	if pending, err := s.Pending(ctx); err != nil || pending {
		t.Fatalf("after seeding: pending = %v, %v", pending, err)
	}
	entries, _, err := w.audit.FindEntries(ctx, audit.Filter{ProjectID: p.ID, EntityType: demo.MarkerEntity})
	if err != nil || len(entries) != 1 || entries[0].ActorName != demo.Actor.Name {
		t.Fatalf("marker entries: %+v, %v", entries, err)
	}
}

func TestADeletedDemoIsNotCreatedAgain(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	s := demo.New(w.svc, small)
	res, err := s.Seed(ctx, w.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	actx := audit.WithActor(ctx, audit.Actor{ID: w.admin.ID, Name: w.admin.Name})
	if err := w.plan.DeleteProject(actx, res.Project.ID, res.Project.Name); err != nil {
		t.Fatal(err)
	}
	if pending, err := s.Pending(ctx); err != nil || pending {
		t.Fatalf("after the admin deleted the demo: pending = %v, %v", pending, err)
	}
}

func TestADatabaseWithAProjectGetsNoDemo(t *testing.T) {
	w := newWorld(t)
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: w.admin.ID, Name: w.admin.Name})
	name := "Real migration"
	if _, err := w.plan.CreateProject(ctx, w.admin.ID, plan.ProjectInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if pending, err := demo.New(w.svc, small).Pending(ctx); err != nil || pending {
		t.Fatalf("pending = %v, %v", pending, err)
	}
}

// failingValidator fails the last step, to check that nothing half-made stays.
type failingValidator struct{}

func (failingValidator) Validate(context.Context, int64, quality.Progress) (*quality.Run, error) {
	return nil, errors.New("disk full")
}

func TestAFailedSeedingLeavesNothingBehindAndIsTriedAgain(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	svc := w.svc
	svc.Quality = failingValidator{}
	_, err := demo.New(svc, small).Seed(ctx, w.admin.ID)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
	projects, err := w.plan.FindProjects(ctx, nil)
	if err != nil || len(projects) != 0 {
		t.Fatalf("a half-made demo is left: %v, %v", projects, err)
	}
	if pending, err := demo.New(w.svc, small).Pending(ctx); err != nil || !pending {
		t.Fatalf("after a failure: pending = %v, %v", pending, err)
	}
}
