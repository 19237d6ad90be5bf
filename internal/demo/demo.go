// Package demo creates the console's demo project: the plan of a fictional
// company's move to Okta (user types, sources with their owners,
// applications, goals, profile settings, PII decisions), with synthetic
// extracts from internal/gen staged, the matrix suggestions accepted and one
// validation run, so that a newcomer's first `make run` opens on pages that
// are filled in. Everything goes through the domain services, as a person's
// edits would, and is labelled as demo data.
//
// The demo is created once per database: an audit entry records it, and
// Pending looks for that entry, so that a restart, or a demo the admin
// deleted, does not bring it back.
package demo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/gen"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// ProjectName is the demo project's name; it says that it is a demo.
const ProjectName = "Acme Corp → Okta (demo)"

// MarkerEntity is the audit entity type of the entry that records that the
// demo was created.
const MarkerEntity = "demo_data"

// Actor is who the demo's records are attributed to.
var Actor = audit.Actor{Name: "Ferry demo data"}

// Planner is what the demo needs of the plan.
type Planner interface {
	FindProjects(ctx context.Context, ids []int64) ([]plan.Project, error)
	CreateProject(ctx context.Context, leadID int64, in plan.ProjectInput) (*plan.Project, error)
	DeleteProject(ctx context.Context, id int64, confirmName string) error
	CreateUserType(ctx context.Context, projectID int64, in plan.UserTypeInput) (*plan.UserType, error)
	CreateSource(ctx context.Context, projectID int64, in plan.SourceInput) (*plan.Source, error)
	CreateApplication(ctx context.Context, projectID int64, in plan.ApplicationInput) (*plan.Application, error)
	FindGoals(ctx context.Context, projectID int64) (*plan.Goals, error)
	UpdateGoals(ctx context.Context, projectID, version int64, in plan.GoalsInput) (*plan.Goals, error)
}

// ProfileSettings is what the demo needs of the Okta profile schema.
type ProfileSettings interface {
	FindSettings(ctx context.Context, projectID int64) (*schema.Settings, error)
	UpdateSettings(ctx context.Context, projectID, version int64, in schema.SettingsInput) (*schema.Settings, error)
}

// Matrix is what the demo needs of the attribute-mapping matrix.
type Matrix interface {
	FindFields(ctx context.Context, projectID, sourceID int64) ([]mapping.SourceField, error)
	UpdateField(ctx context.Context, projectID, id, version int64, in mapping.FieldInput) (*mapping.SourceField, error)
	CreateRow(ctx context.Context, projectID int64, in mapping.RowInput) (*mapping.Row, error)
	AcceptSuggestions(ctx context.Context, projectID int64, fieldIDs []int64) (int, error)
}

// PrivacyReview is what the demo needs of the legal review.
type PrivacyReview interface {
	Decide(ctx context.Context, projectID, fieldID, version int64, in privacy.DecisionInput) (*privacy.Review, error)
}

// Stager stages extracts. It is expected to add an extract's columns to the
// matrix as staging.Service does with a field discoverer.
type Stager interface {
	Stage(ctx context.Context, projectID, sourceID int64, r extract.Reader, meta staging.Meta, progress staging.Progress) (*staging.Extract, error)
	SetFileFacts(ctx context.Context, extractID, sizeBytes int64, checksum string) error
}

// Validator validates staged data.
type Validator interface {
	Validate(ctx context.Context, projectID int64, progress quality.Progress) (*quality.Run, error)
}

// AuditLog reads the audit log and appends the marker entry.
type AuditLog interface {
	FindEntries(ctx context.Context, f audit.Filter) ([]audit.Entry, bool, error)
}

// Transactor runs fn in a write transaction (db.DB does).
type Transactor interface {
	Transaction(ctx context.Context, fn func(tx *gorm.DB) error) error
}

// Services are the domain services the demo is created through.
type Services struct {
	Plan     Planner
	Schema   ProfileSettings
	Mapping  Matrix
	Privacy  PrivacyReview
	Staging  Stager
	Quality  Validator
	Audit    AuditLog
	Database Transactor
}

// Options size the demo.
type Options struct {
	// HRUsers and DirectoryUsers are the rows of the two generated extracts;
	// zero means 2,400 and 900.
	HRUsers, DirectoryUsers int
	// Now is the clock (dates in the plan are relative to it); nil is time.Now.
	Now func() time.Time
}

// Seeder creates the demo project.
type Seeder struct {
	svc  Services
	opts Options
}

// New returns a Seeder.
func New(svc Services, opts Options) *Seeder {
	if opts.HRUsers == 0 {
		opts.HRUsers = 2400
	}
	if opts.DirectoryUsers == 0 {
		opts.DirectoryUsers = 900
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Seeder{svc: svc, opts: opts}
}

// Pending reports whether the demo is still to be created: the database has
// no project, and its audit log has no record of a demo created before
// (which the admin may have deleted since).
func (s *Seeder) Pending(ctx context.Context) (bool, error) {
	projects, err := s.svc.Plan.FindProjects(ctx, nil)
	if err != nil {
		return false, err
	}
	if len(projects) > 0 {
		return false, nil
	}
	entries, _, err := s.svc.Audit.FindEntries(ctx, audit.Filter{EntityType: MarkerEntity, Limit: 1})
	if err != nil {
		return false, err
	}
	return len(entries) == 0, nil
}

// Result says what Seed created.
type Result struct {
	Project  *plan.Project
	Extracts []*staging.Extract
	Run      *quality.Run
}

// Records is the number of staged records.
func (r *Result) Records() int64 {
	var n int64
	for _, ex := range r.Extracts {
		n += ex.Records
	}
	return n
}

// Seed creates the demo project with leadID as its project lead, and records
// that it did. When a step fails, the half-made project is deleted, nothing
// is recorded, and the error is returned: the next start tries again.
func (s *Seeder) Seed(ctx context.Context, leadID int64) (*Result, error) {
	ctx = audit.WithActor(ctx, Actor)
	res := &Result{}
	err := s.seed(ctx, leadID, res)
	if err != nil {
		if res.Project != nil {
			// Even when ctx was cancelled (Ctrl-C during start-up), leave no half-made demo behind.
			cleanup := context.WithoutCancel(ctx)
			if derr := s.svc.Plan.DeleteProject(cleanup, res.Project.ID, res.Project.Name); derr != nil {
				err = errors.Join(err, fmt.Errorf("and the half-made demo project could not be deleted: %w", derr))
			}
		}
		return nil, fmt.Errorf("demo project: %w", err)
	}
	return res, nil
}

// demoDescription says what the project is, so that nobody mistakes it for real data.
const demoDescription = "DEMO DATA, generated by Ferry. Acme Corp, a fictional company, moves its workforce into Okta: " +
	"its own people from the HR system, and the people of Globex, a company it acquired, from Globex's Active Directory. " +
	"Every person in the staged extracts is synthetic, and about one record in twelve carries a data-quality problem " +
	"on purpose, so that the Data and Quality pages have something to show. Explore and change anything; delete the " +
	"project (\"Delete project…\" on its settings page) when you start your own. It is not created again."

func (s *Seeder) seed(ctx context.Context, leadID int64, res *Result) error {
	p, err := s.svc.Plan.CreateProject(ctx, leadID, plan.ProjectInput{
		Name:        ptr(ProjectName),
		Description: ptr(demoDescription),
	})
	if err != nil {
		return fmt.Errorf("create the project: %w", err)
	}
	res.Project = p
	types, err := s.userTypes(ctx, p.ID)
	if err != nil {
		return err
	}
	hr, dir, err := s.sources(ctx, p.ID, types)
	if err != nil {
		return err
	}
	if err := s.applications(ctx, p.ID, types); err != nil {
		return err
	}
	if err := s.goals(ctx, p.ID); err != nil {
		return err
	}
	// Acme signs people up for some apps itself, which makes Okta keep emails unique.
	st, err := s.svc.Schema.FindSettings(ctx, p.ID)
	if err != nil {
		return err
	}
	if _, err := s.svc.Schema.UpdateSettings(ctx, p.ID, st.Version, schema.SettingsInput{EmailUnique: ptr(true)}); err != nil {
		return fmt.Errorf("profile settings: %w", err)
	}

	// Different seeds and domains: two companies, no person in both.
	extracts := []struct {
		src    *plan.Source
		name   string
		format string
		cfg    gen.Config
		write  func(io.Writer, gen.Config) (gen.Report, error)
	}{
		{hr, "acme-hr-workers.csv", staging.FormatCSV, gen.Config{Seed: 2026, Users: s.opts.HRUsers, Domain: "acme.example", Rates: gen.DefaultRates()}, gen.WriteCSV},
		{dir, "globex-ad-people.ldif", staging.FormatLDIF, gen.Config{Seed: 1994, Users: s.opts.DirectoryUsers, Domain: "globex.example", Rates: gen.DefaultRates()}, gen.WriteLDIF},
	}
	for _, e := range extracts {
		ex, err := s.stage(ctx, p.ID, e.src.ID, e.name, e.format, func(w io.Writer) error { _, err := e.write(w, e.cfg); return err })
		if err != nil {
			return fmt.Errorf("stage the %s extract: %w", e.src.Name, err)
		}
		res.Extracts = append(res.Extracts, ex)
	}

	if _, err := s.svc.Mapping.AcceptSuggestions(ctx, p.ID, nil); err != nil {
		return fmt.Errorf("accept the matrix suggestions: %w", err)
	}
	if err := s.matrixAndPrivacy(ctx, p.ID, hr.ID); err != nil {
		return err
	}
	run, err := s.svc.Quality.Validate(ctx, p.ID, nil)
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	res.Run = run

	return s.svc.Database.Transaction(ctx, func(tx *gorm.DB) error {
		return audit.Record(ctx, tx, audit.Change{ProjectID: p.ID, Action: audit.ActionCreate, EntityType: MarkerEntity, EntityID: p.ID,
			Label: p.Name, After: map[string]any{
				"note":    "Ferry created this demo project on its first start (FERRY_DEMO); it is not created again, even if deleted.",
				"records": res.Records(),
			}})
	})
}

// stage streams a generated extract into the staging area, with the size and
// checksum a file upload would have.
func (s *Seeder) stage(ctx context.Context, projectID, sourceID int64, name, format string, write func(io.Writer) error) (*staging.Extract, error) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	hash := sha256.New()
	var size countingWriter
	go func() {
		defer close(done)
		pw.CloseWithError(write(io.MultiWriter(pw, hash, &size)))
	}()
	var ex *staging.Extract
	r, _, err := staging.OpenReader(pr, format)
	if err == nil {
		ex, err = s.svc.Staging.Stage(ctx, projectID, sourceID, r, staging.Meta{FileName: name, Format: format}, nil)
	}
	// Unblock the generator if staging stopped reading early.
	_ = pr.CloseWithError(errors.New("staging stopped reading"))
	<-done
	if err != nil {
		return nil, err
	}
	if err := s.svc.Staging.SetFileFacts(ctx, ex.ID, int64(size), hex.EncodeToString(hash.Sum(nil))); err != nil {
		return nil, err
	}
	ex.SizeBytes, ex.Checksum = int64(size), hex.EncodeToString(hash.Sum(nil))
	return ex, nil
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

func ptr[T any](v T) *T { return &v }
