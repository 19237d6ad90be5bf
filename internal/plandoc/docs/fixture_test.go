package docs_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/demo"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/oktasim"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/plandoc"
	"github.com/ferry-migrate/ferry/internal/plandoc/docs"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/secrets"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// The fixture follows internal/plandoc's tests: one console (a database and
// its real services) on a fixed clock, the demo project seeded into it, and
// what the demo leaves empty added through the services.

// orgToken is the Okta API token of the fixture's org: no document may hold it.
const orgToken = "00aSecretOktaTokenValue-DoNotPrint-42"

// legacyPassword is a password whose bcrypt hash is staged: no document may
// hold the hash.
const legacyPassword = "Legacy-Passw0rd!"

type world struct {
	clock   *dbtest.Clock
	db      *db.DB
	auth    *auth.Service
	plan    *plan.Service
	schema  *schema.Service
	mapping *mapping.Service
	privacy *privacy.Service
	staging *staging.Service
	quality *quality.Service
	creds   *credentials.Service
	loads   *load.Service
	defects *defects.Service
	orgs    *orgs.Service
	svc     plandoc.Services
	facts   docs.FactServices
	admin   *auth.Account
	ctx     context.Context
	// hashes are the staged password hashes.
	hashes []string
	sealer *secrets.Sealer
}

// sandboxToken is the token of the fixture's Okta sandbox.
const sandboxToken = "sandbox-token-never-in-a-document"

// sandboxOrg is the project's org as a load sees it: Ferry's sandbox.
type sandboxOrg struct{ url string }

func (o sandboxOrg) Find(ctx context.Context, projectID int64) (*orgs.Connection, error) {
	return &orgs.Connection{ProjectID: projectID, OrgURL: o.url, Sandbox: true}, nil
}

func (o sandboxOrg) Token(ctx context.Context, projectID int64) (string, error) {
	return sandboxToken, nil
}

// runTestBatches runs the first two test batches against Ferry's sandbox
// and rolls the second back, through the real load engine.
func runTestBatches(t *testing.T, w *world, pid int64) {
	t.Helper()
	sim := oktasim.New(oktasim.Options{Token: sandboxToken, Now: w.clock.Now})
	ts := httptest.NewServer(sim)
	t.Cleanup(ts.Close)
	svc := load.NewService(w.db, load.Deps{Orgs: sandboxOrg{ts.URL}, Gate: w.privacy, Validation: w.quality, Extracts: w.staging, Plan: w.plan,
		Matrix: w.mapping, Passwords: w.creds, Sealer: w.sealer}, load.Options{Now: w.clock.Now, Owner: "docs-test"})
	run := func(in load.NewRun) *load.Run {
		r, rep, err := svc.Start(w.ctx, pid, in)
		if err != nil {
			var reasons []string
			if rep != nil {
				reasons = rep.BlockingReasons()
			}
			t.Fatalf("start: %v %v", err, reasons)
		}
		if err := svc.Execute(w.ctx, r.ID, load.ExecOptions{}); err != nil {
			t.Fatalf("execute: %v", err)
		}
		w.clock.Advance(time.Minute)
		return r
	}
	run(load.NewRun{Kind: load.KindTestBatch, Rung: 1, Population: load.Population{Priority: load.PriorityTailEnd}})
	second := run(load.NewRun{Kind: load.KindTestBatch, Rung: 2, Population: load.Population{Priority: load.PriorityRegulate}})
	p := must(w.plan.FindProjectByID(w.ctx, pid))
	rb, err := svc.StartRollback(w.ctx, pid, load.NewRollback{TargetRunID: second.ID, Action: load.RollbackDeactivate, Confirm: p.Name, ProjectName: p.Name})
	if err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if err := svc.Execute(w.ctx, rb.ID, load.ExecOptions{}); err != nil {
		t.Fatalf("execute the rollback: %v", err)
	}
	w.clock.Advance(time.Minute)

	// The load ahead of the cut-over, STAGED, in office hours of Berlin.
	window, err := load.ParseWindow("08:00-18:00", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	run(load.NewRun{Kind: load.KindLoad, Window: window, MaxInFlight: 1})
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{clock: dbtest.NewClock()}
	w.db = dbtest.MustOpen(t, w.clock)
	w.auth = auth.NewService(w.db, auth.Options{Now: w.clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	w.plan = plan.NewService(w.db, w.auth)
	w.schema = schema.NewService(w.db)
	w.mapping = mapping.NewService(w.db, w.schema, w.plan)
	w.privacy = privacy.NewService(w.db, w.mapping, w.plan, w.clock.Now)
	w.staging = staging.NewService(w.db, w.clock.Now, w.mapping)
	w.quality = quality.NewService(w.db, w.mapping, w.staging, w.privacy, w.clock.Now)
	w.creds = credentials.NewService(w.db, w.plan, w.staging, credentials.Options{Now: w.clock.Now})
	w.quality.WithPasswords(w.creds)
	w.loads = load.NewService(w.db, load.Deps{Plan: w.plan, Matrix: w.mapping, Passwords: w.creds, Gate: w.privacy}, load.Options{Now: w.clock.Now})
	w.defects = defects.NewService(w.db, w.clock.Now)
	key := bytes.Repeat([]byte{7}, 32)
	sealer, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	w.sealer = sealer
	w.orgs = orgs.NewService(w.db, sealer, w.clock.Now)
	w.svc = plandoc.Services{Plan: w.plan, Schema: w.schema, Mapping: w.mapping, Privacy: w.privacy, Passwords: w.creds, Load: w.loads, Defects: w.defects}
	w.facts = docs.FactServices{Plan: w.plan, Quality: w.quality, Load: w.loads, Defects: w.defects, Gate: w.privacy, Orgs: w.orgs}
	w.admin, err = w.auth.CreateAccount(context.Background(), auth.AccountInput{Email: "admin@example.com", Name: "Ada Admin",
		Password: "correct horse battery", IsAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	w.ctx = audit.WithActor(context.Background(), audit.Actor{Name: "docs test"})
	return w
}

func ptr[T any](v T) *T { return &v }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// seedFixedPlan builds the demo project and adds what the demo leaves empty:
// custom attributes, password and cut-over settings, a source with staged
// password hashes, a test plan, defects and the Okta org with its token.
// name, when set, renames the project (hostile names).
func seedFixedPlan(t *testing.T, w *world, name string) int64 {
	t.Helper()
	res, err := demo.New(demo.Services{Plan: w.plan, Schema: w.schema, Mapping: w.mapping, Privacy: w.privacy, Staging: w.staging,
		Quality: w.quality, Audit: audit.NewReader(w.db.Read), Database: w.db}, demo.Options{HRUsers: 60, DirectoryUsers: 40, Now: w.clock.Now}).Seed(w.ctx, w.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	pid := res.Project.ID
	ctx := w.ctx
	if name != "" {
		p := must(w.plan.FindProjectByID(ctx, pid))
		must(w.plan.UpdateProject(ctx, pid, p.Version, plan.ProjectInput{Name: &name}))
	}
	must(w.orgs.Save(ctx, pid, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: "ssws", Token: ptr(orgToken)}))
	must(w.schema.CreateCustomAttribute(ctx, pid, schema.CustomAttributeInput{Name: ptr("costCentre"), Title: ptr("Cost centre"),
		Type: ptr("string"), MaxLength: schema.SetInt(12), Pattern: ptr("[A-Z0-9-]+"), Enum: &[]string{}}))
	must(w.schema.CreateCustomAttribute(ctx, pid, schema.CustomAttributeInput{Name: ptr("badgeColour"), Title: ptr(`Badge "colour"`),
		Type: ptr("string"), Enum: &[]string{"red", "green", "blue"}}))
	for _, s := range must(w.plan.FindSources(ctx, pid)) {
		if s.Kind == "active_directory" || strings.Contains(strings.ToLower(s.Name), "globex") {
			must(w.loads.SaveCutover(ctx, pid, s.ID, 0, load.CutoverInput{StatusAttribute: "userAccountControl",
				ManagerAttribute: "manager", ManagerKind: load.ManagerKindDN}))
		}
	}

	// A legacy portal whose users keep their passwords: bcrypt hashes staged.
	legacy := must(w.plan.CreateSource(ctx, pid, plan.SourceInput{Name: ptr("Legacy portal"), Kind: ptr("database"),
		AccessOwner: ptr("Pat Portal"), AccessStatus: ptr(plan.AccessGranted), MigrateCredentials: ptr(plan.DecisionYes),
		MigrateGroups: ptr(plan.DecisionNo), MigrateMemberships: ptr(plan.DecisionNo), PasswordHashFormat: ptr("bcrypt")}))
	must(w.creds.Save(ctx, pid, legacy.ID, 0, credentials.Input{Attribute: "userPassword", Formats: []string{"bcrypt"}, Default: "bcrypt"}))
	var csv strings.Builder
	csv.WriteString("mail,givenName,sn,userPassword\n")
	for i := 1; i <= 3; i++ {
		h := must(bcrypt.GenerateFromPassword([]byte(legacyPassword), bcrypt.MinCost))
		w.hashes = append(w.hashes, string(h))
		fmt.Fprintf(&csv, "portal.user%d@legacy.example,Portal%d,Userson,%s\n", i, i, h)
	}
	csv.WriteString("portal.user4@legacy.example,Portal4,Userson,\n")
	r, _, err := staging.OpenReader(strings.NewReader(csv.String()), "csv")
	if err != nil {
		t.Fatal(err)
	}
	must(w.staging.Stage(ctx, pid, legacy.ID, r, staging.Meta{FileName: "portal.csv", Format: "csv"}, nil))
	w.clock.Advance(time.Minute)
	must(w.quality.Validate(ctx, pid, nil))

	st := must(w.loads.SaveSettings(ctx, pid, 0, []int{5, 50, 500}, 0.02))
	must(w.loads.SaveLeavers(ctx, pid, st.Version, load.LeaversDeactivate))
	must(w.defects.Create(ctx, pid, "Erin Engineer", defects.Input{UseCase: "UC-7 sign-in after migration",
		Description: "Users with an apostrophe in the surname fail the login pattern.", Priority: defects.PriorityHigh, Category: defects.CategoryHR,
		Notes: "Proposed: relax the pattern."}))
	must(w.defects.Create(ctx, pid, "Erin Engineer", defects.Input{Description: "Second defect | with a pipe", TicketStatus: defects.TicketClosed}))
	runTestBatches(t, w, pid)
	return pid
}

// document builds the plan and its facts as the console would.
func document(t *testing.T, w *world, pid int64) *docs.Document {
	t.Helper()
	p, err := plandoc.Build(w.ctx, w.svc, pid)
	if err != nil {
		t.Fatal(err)
	}
	f, err := docs.GatherFacts(w.ctx, w.facts, pid)
	if err != nil {
		t.Fatal(err)
	}
	return &docs.Document{Plan: p, Facts: f, Generated: w.clock.Now(),
		Version: &docs.Version{Number: 3, Note: "for the CAB", FrozenBy: "Lee Lead", FrozenAt: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)},
		Signatures: []docs.Signature{
			{Role: docs.RoleLead, Name: "Lee Lead", SignedAt: time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC), Version: 3, Current: true},
			{Role: docs.RoleLegal, Name: "Lena Legal", SignedAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Version: 2, Current: false},
		}}
}
