package plandoc_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/demo"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/plandoc"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
)

var update = flag.Bool("update", false, "rewrite testdata/plan.golden.json from the fixed plan")

// world is one console: a database and its services.
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
	loads   *load.Service
	defects *defects.Service
	svc     plandoc.Services
	admin   *auth.Account
	ctx     context.Context
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
	creds := credentials.NewService(w.db, w.plan, w.staging, credentials.Options{Now: w.clock.Now})
	w.loads = load.NewService(w.db, load.Deps{Plan: w.plan, Matrix: w.mapping, Passwords: creds, Gate: w.privacy}, load.Options{Now: w.clock.Now})
	w.defects = defects.NewService(w.db, w.clock.Now)
	w.svc = plandoc.Services{Plan: w.plan, Schema: w.schema, Mapping: w.mapping, Privacy: w.privacy, Passwords: creds, Load: w.loads,
		Defects: w.defects, PrivacyAt: func(at time.Time) plandoc.PrivacyService {
			return privacy.NewService(w.db, w.mapping, w.plan, func() time.Time { return at })
		}}
	var err error
	w.admin, err = w.auth.CreateAccount(context.Background(), auth.AccountInput{Email: "admin@example.com", Name: "Ada Admin",
		Password: "correct horse battery", IsAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	w.ctx = audit.WithActor(context.Background(), audit.Actor{Name: "plandoc test"})
	return w
}

func ptr[T any](v T) *T { return &v }

// must returns v, or stops the test (by panicking: it takes a call's two results).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// seedFixedPlan builds the demo project (fixed clock, generated extracts)
// and adds what the demo leaves empty: a custom attribute, password and
// cut-over settings, a test plan and defects.
func seedFixedPlan(t *testing.T, w *world) int64 {
	t.Helper()
	res, err := demo.New(demo.Services{Plan: w.plan, Schema: w.schema, Mapping: w.mapping, Privacy: w.privacy, Staging: w.staging,
		Quality: w.quality, Audit: audit.NewReader(w.db.Read), Database: w.db}, demo.Options{HRUsers: 60, DirectoryUsers: 40, Now: w.clock.Now}).Seed(w.ctx, w.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	pid := res.Project.ID
	ctx := w.ctx
	must(w.schema.CreateCustomAttribute(ctx, pid, schema.CustomAttributeInput{Name: ptr("costCentre"), Title: ptr("Cost centre"),
		Type: ptr("string"), MaxLength: schema.SetInt(12), Pattern: ptr("[A-Z0-9-]+"), Enum: &[]string{}}))
	must(w.schema.CreateCustomAttribute(ctx, pid, schema.CustomAttributeInput{Name: ptr("badgeColour"), Title: ptr("Badge colour"),
		Type: ptr("string"), Enum: &[]string{"red", "green", "blue"}}))
	sources := must(w.plan.FindSources(ctx, pid))
	for _, s := range sources {
		if s.Kind == "active_directory" || strings.Contains(strings.ToLower(s.Name), "globex") {
			must(w.loads.SaveCutover(ctx, pid, s.ID, 0, load.CutoverInput{StatusAttribute: "userAccountControl",
				ManagerAttribute: "manager", ManagerKind: load.ManagerKindDN}))
		}
		if s.Kind == "active_directory" || strings.Contains(strings.ToLower(s.Name), "globex") {
			must(w.svc.Passwords.Save(ctx, pid, s.ID, 0, credentials.Input{Attribute: "userPassword", Formats: []string{"bcrypt"}, Default: "bcrypt"}))
		}
	}
	st := must(w.loads.SaveSettings(ctx, pid, 0, []int{5, 50, 500}, 0.02))
	must(w.loads.SaveLeavers(ctx, pid, st.Version, load.LeaversDeactivate))
	must(w.defects.Create(ctx, pid, "Erin Engineer", defects.Input{UseCase: "UC-7 sign-in after migration",
		Description: "Users with an apostrophe in the surname fail the login pattern.", Priority: defects.PriorityHigh, Category: defects.CategoryHR,
		Notes: "Proposed: relax the pattern."}))
	must(w.defects.Create(ctx, pid, "Erin Engineer", defects.Input{Description: "Second defect", TicketStatus: defects.TicketClosed}))
	return pid
}

func export(t *testing.T, w *world, pid int64) []byte {
	t.Helper()
	p, err := plandoc.Build(w.ctx, w.svc, pid)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := plandoc.Encode(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestThePlanOfAFixedProjectEncodesAsTheGoldenFile(t *testing.T) {
	w := newWorld(t)
	got := export(t, w, seedFixedPlan(t, w))
	golden := filepath.Join("testdata", "plan.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/plandoc/ -run Golden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the plan's JSON differs from %s (run with -update if the change is intended):\n%s", golden, firstDiff(got, want))
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n got: " + x + "\nwant: " + y
		}
	}
	return ""
}

func TestExportImportExportGivesTheSameBytes(t *testing.T) {
	src := newWorld(t)
	first := export(t, src, seedFixedPlan(t, src))

	dst := newWorld(t) // another console
	p, err := plandoc.Decode(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "ferry plan (CLI)"})
	pid, err := plandoc.Import(ctx, dst.svc, p, dst.admin.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	second := export(t, dst, pid)
	if !bytes.Equal(first, second) {
		t.Errorf("export → import → export changed the file:\n%s", firstDiff(second, first))
	}
	if role, err := dst.auth.RoleIn(ctx, dst.admin.ID, pid); err != nil || role != auth.RoleProjectLead {
		t.Errorf("the lead's role = %q, %v", role, err)
	}
}

// A signed-off register travels with its signer and time, and still
// covers the register on the other console.
func TestASignedOffRegisterRoundTrips(t *testing.T) {
	w := newWorld(t)
	ctx := w.ctx
	p := must(w.plan.CreateProject(ctx, w.admin.ID, plan.ProjectInput{Name: ptr("Signed")}))
	src := must(w.plan.CreateSource(ctx, p.ID, plan.SourceInput{Name: ptr("HR"), Kind: ptr("hr_system")}))
	f := must(w.mapping.CreateField(ctx, p.ID, src.ID, mapping.FieldInput{Name: ptr("mail"), PII: ptr(mapping.PIIYes), PIICategory: ptr("contact")}))
	must(w.mapping.CreateRow(ctx, p.ID, mapping.RowInput{SourceFieldID: &f.ID, TargetAttribute: ptr("email"),
		Transform: ptr(`[{"op":"trim"},{"op":"lower"}]`)}))
	legal := audit.WithActor(ctx, audit.Actor{Name: "Lena Legal"})
	must(w.privacy.Decide(legal, p.ID, f.ID, 0, privacy.DecisionInput{Status: privacy.StatusApproved, Decision: privacy.DecisionMigrate, LawfulBasis: "contract"}))
	w.clock.Advance(time.Hour)
	must(w.privacy.SignOffRegister(legal, p.ID))
	first := export(t, w, p.ID)
	if !bytes.Contains(first, []byte(`"signedBy": "Lena Legal"`)) || !bytes.Contains(first, []byte(`"signedAt": "2026-03-02T10:00:00Z"`)) {
		t.Fatalf("the sign-off is not in the file:\n%s", first)
	}
	dst := newWorld(t)
	dst.clock.Advance(30 * 24 * time.Hour)
	pl := must(plandoc.Decode(bytes.NewReader(first)))
	pid := must(plandoc.Import(dst.ctx, dst.svc, pl, dst.admin.ID, "Signed elsewhere"))
	second := export(t, dst, pid)
	if want := bytes.Replace(first, []byte(`"name": "Signed"`), []byte(`"name": "Signed elsewhere"`), 1); !bytes.Equal(second, want) {
		t.Errorf("the round trip changed the file:\n%s", firstDiff(second, want))
	}
	gate := must(dst.privacy.LoadGate(dst.ctx, pid, false))
	if !gate.Open {
		t.Errorf("the imported register does not hold: %v", gate.Reasons)
	}
}

func TestTheFileHoldsNoSecretsNorStagedValues(t *testing.T) {
	w := newWorld(t)
	pid := seedFixedPlan(t, w)
	out := string(export(t, w, pid))
	for _, bad := range []string{"$2a$", "$2b$", "{SSHA", "$argon2", "@acme.example", "@globex.example", "token", "\"id\"", "createdAt", "updatedAt", "\"version\": 2", "samples"} {
		if strings.Contains(out, bad) {
			t.Errorf("the plan file contains %q", bad)
		}
	}
	// Every staged value of a few records must be absent.
	exs := must(w.staging.FindExtracts(w.ctx, pid, 0))
	checked := 0
	for _, ex := range exs {
		recs, err := w.staging.FindRecords(w.ctx, ex.ID, 0, 20)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			for attr, vals := range r.Attributes {
				for _, v := range vals {
					if len(v) >= 6 && strings.Contains(out, `"`+v+`"`) && attr != "objectClass" {
						t.Errorf("staged value %s=%q is in the plan file", attr, v)
					}
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no staged value was checked")
	}
}
