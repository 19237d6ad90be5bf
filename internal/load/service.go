package load

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/load/pace"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/secrets"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// The services a load needs from the rest of Ferry, as small interfaces so
// that tests can stand in for them.
type (
	// Orgs finds the project's Okta org and opens its token.
	Orgs interface {
		Find(ctx context.Context, projectID int64) (*orgs.Connection, error)
		Token(ctx context.Context, projectID int64) (string, error)
	}
	// Gate is the legal gate on personal data (privacy.Service).
	Gate interface {
		LoadGate(ctx context.Context, projectID int64, sandbox bool) (privacy.GateResult, error)
	}
	// Validation says which validation the staged data passed (quality.Service).
	Validation interface {
		LatestRuns(ctx context.Context, projectID int64, n int) ([]quality.Run, error)
		CurrentDigest(ctx context.Context, projectID int64) (string, error)
	}
	// Extracts lists the current extract of every source (staging.Service).
	Extracts interface {
		CurrentExtracts(ctx context.Context, projectID int64) ([]staging.Extract, error)
	}
	// Plan reads the sources and user types (plan.Service).
	Plan interface {
		FindSources(ctx context.Context, projectID int64) ([]plan.Source, error)
		FindUserTypes(ctx context.Context, projectID int64) ([]plan.UserType, error)
	}
	// Matrix loads the attribute-mapping matrix (mapping.Service).
	Matrix interface {
		LoadMatrix(ctx context.Context, projectID int64) (*mapping.Matrix, error)
	}
	// Passwords says how each source's stored passwords are read (credentials.Service).
	Passwords interface {
		Readings(ctx context.Context, projectID int64) (map[int64]credentials.Reading, error)
	}
	// Defects turns a run's failures into defects (defects.Service).
	Defects interface {
		RecordFailures(ctx context.Context, projectID, runID int64, runLabel string, failures []ErrorCount) error
	}
)

// Deps are the services a Service uses.
type Deps struct {
	Orgs       Orgs
	Gate       Gate
	Validation Validation
	Extracts   Extracts
	Plan       Plan
	Matrix     Matrix
	Passwords  Passwords
	// Defects is optional: without it, failures are not logged as defects.
	Defects Defects
	// Sealer seals the password hashes of a run's snapshot.
	Sealer *secrets.Sealer
}

// Options tune a Service; zero values are the defaults.
type Options struct {
	// Now is the clock (time.Now).
	Now func() time.Time
	// Owner names this process in leases (hostname:pid and a random part).
	Owner string
	// Lease is how long a run's lease lasts without renewal (30 s); it is
	// renewed every third of it.
	Lease time.Duration
	// Version goes into the Okta client's User-Agent.
	Version string
	// HTTPTimeout bounds one Okta request (okta.DefaultTimeout when zero).
	HTTPTimeout time.Duration
	// Clock is the pacer's clock (pace.SystemClock()); tests share a fake
	// one with the sandbox so that waits for rate limits take no time.
	Clock pace.Clock
}

// Service creates, runs and reports loads, test batches and rollbacks.
type Service struct {
	// schemaMu keeps this process's schema changes one at a time: Okta's
	// schema API loses concurrent changes.
	schemaMu sync.Mutex
	db       *db.DB
	deps     Deps
	opts     Options
	now      func() time.Time
	owner    string
}

// NewService returns the service.
func NewService(database *db.DB, deps Deps, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), randomID(6))
	}
	return &Service{db: database, deps: deps, opts: opts, now: opts.Now, owner: opts.Owner}
}

// Owner is the name this process holds leases under.
func (s *Service) Owner() string { return s.owner }

// FindRun returns a run of the project.
func (s *Service) FindRun(ctx context.Context, projectID, runID int64) (*Run, error) {
	var r Run
	err := s.db.Read.WithContext(ctx).Where("project_id = ? AND id = ?", projectID, runID).First(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound("run")
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return &r, nil
}

// FindRunByID returns a run whatever its project (the CLI's --resume RUN).
func (s *Service) FindRunByID(ctx context.Context, runID int64) (*Run, error) {
	var r Run
	err := s.db.Read.WithContext(ctx).Where("id = ?", runID).First(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound("run")
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return &r, nil
}

// FindRuns lists the project's runs, newest first.
func (s *Service) FindRuns(ctx context.Context, projectID int64, limit int) ([]Run, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []Run
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// CountItems counts a run's items by state, with its failures by code.
func (s *Service) CountItems(ctx context.Context, runID int64) (Counts, error) {
	c := Counts{State: map[string]int64{}}
	rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT state, COUNT(*) FROM load_items WHERE run_id = ? GROUP BY state`), runID)
	if err != nil {
		return c, apperr.Internal(err)
	}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return c, apperr.Internal(err)
		}
		c.State[st] = n
		c.Total += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, apperr.Internal(err)
	}
	if c.State[StateFailed] == 0 {
		return c, nil
	}
	rows, err = s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT error_code, MIN(error_summary), COUNT(*) FROM load_items
		WHERE run_id = ? AND state = ? GROUP BY error_code ORDER BY COUNT(*) DESC, error_code`), runID, StateFailed)
	if err != nil {
		return c, apperr.Internal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var e ErrorCount
		if err := rows.Scan(&e.Code, &e.Summary, &e.Count); err != nil {
			return c, apperr.Internal(err)
		}
		c.Errors = append(c.Errors, e)
	}
	if err := rows.Err(); err != nil {
		return c, apperr.Internal(err)
	}
	return c, nil
}

// FindItems lists a run's items after afterSeq in order, optionally of one
// state only.
func (s *Service) FindItems(ctx context.Context, runID int64, state string, afterSeq int64, limit int) ([]Item, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := s.db.Read.WithContext(ctx).Where("run_id = ? AND seq > ?", runID, afterSeq)
	if state != "" {
		q = q.Where("state = ?", state)
	}
	var out []Item
	if err := q.Order("seq").Limit(limit).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// FindSettings returns the project's ladder and threshold (the defaults
// when none are saved).
func (s *Service) FindSettings(ctx context.Context, projectID int64) (Settings, error) {
	var st Settings
	err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).First(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DefaultSettings(projectID), nil
	}
	if err != nil {
		return Settings{}, apperr.Internal(err)
	}
	return st, nil
}

// MaxLadderRungs bounds the ladder; MaxBatchSize one rung.
const (
	MaxLadderRungs = 10
	MaxBatchSize   = 1_000_000
)

// SaveSettings saves the ladder and threshold if the stored ones are still
// at version (0 for none saved yet).
func (s *Service) SaveSettings(ctx context.Context, projectID, version int64, ladder []int, threshold float64) (Settings, error) {
	check := apperr.NewCheck()
	switch {
	case len(ladder) == 0:
		check.Add("ladder", "Give at least one batch size, e.g. 10, 100, 1000, 10000.")
	case len(ladder) > MaxLadderRungs:
		check.Add("ladder", fmt.Sprintf("At most %d batches.", MaxLadderRungs))
	default:
		for i, n := range ladder {
			if n < 1 || n > MaxBatchSize {
				check.Add("ladder", fmt.Sprintf("Batch sizes are between 1 and %d; batch %d is %d.", MaxBatchSize, i+1, n))
				break
			}
			if i > 0 && n <= ladder[i-1] {
				check.Add("ladder", "Each batch must be larger than the one before it.")
				break
			}
		}
	}
	if threshold < 0 || threshold >= 1 || threshold != threshold {
		check.Add("error_threshold", "The error threshold is a share between 0 % and 99.9 %.")
	}
	if err := check.Err(); err != nil {
		return Settings{}, err
	}
	var out Settings
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var cur Settings
		ferr := tx.Where("project_id = ?", projectID).First(&cur).Error
		exists := ferr == nil
		if ferr != nil && !errors.Is(ferr, gorm.ErrRecordNotFound) {
			return ferr
		}
		if (exists && cur.Version != version) || (!exists && version != 0) {
			return apperr.VersionConflict("test-batch settings", cur.Version, nil)
		}
		leavers := cur.Leavers
		if leavers == "" {
			leavers = LeaversReport
		}
		out = Settings{ProjectID: projectID, Ladder: ladder, ErrorThreshold: threshold, Leavers: leavers, Version: cur.Version + 1, UpdatedAt: s.now().UTC()}
		if !exists {
			return tx.Create(&out).Error
		}
		return tx.Model(&Settings{}).Where("project_id = ? AND version = ?", projectID, version).
			Updates(map[string]any{"ladder_json": jsonString(ladder), "error_threshold": threshold, "version": out.Version, "updated_at": out.UpdatedAt}).Error
	})
	if err != nil {
		if ae := apperr.As(err); ae != nil {
			return Settings{}, ae
		}
		return Settings{}, apperr.Internal(err)
	}
	return out, nil
}
