package quality

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// Run statuses.
const (
	RunRunning = "running"
	RunDone    = "done"
	RunFailed  = "failed"
)

// Counts are a run's occurrence counts.
type Counts struct {
	ByCode      map[string]int64 `json:"byCode"`
	BySource    map[int64]int64  `json:"bySource"`
	ByAttribute map[string]int64 `json:"byAttribute"`
	// ByFormat counts the stored passwords of the sources whose
	// credentials migrate, by detected format (every source together).
	ByFormat map[string]int64 `json:"byFormat,omitempty"`
	// Passwords are the password counts of each such source, or the note
	// that it has no password settings.
	Passwords map[int64]*PasswordCounts `json:"passwords,omitempty"`
}

// Run is one validation of a project's staged data.
type Run struct {
	ID          int64  `gorm:"primaryKey" json:"id"`
	ProjectID   int64  `json:"projectId"`
	Status      string `json:"status"`
	Records     int64  `json:"records"`
	Valid       int64  `json:"valid"`
	Invalid     int64  `json:"invalid"`
	Excluded    int64  `json:"excluded"`
	Occurrences int64  `json:"occurrences"`
	Counts      Counts `gorm:"column:counts_json;serializer:json" json:"counts"`
	// MatrixDigest fingerprints the matrix the profiles were computed with
	// (see mapping.Profiler.Digest).
	MatrixDigest  string     `json:"matrixDigest"`
	Error         string     `json:"error,omitempty"`
	CreatedByName string     `json:"createdByName"`
	StartedAt     time.Time  `json:"startedAt"`
	FinishedAt    *time.Time `json:"finishedAt,omitempty"`
}

func (Run) TableName() string { return "validation_runs" }

// Occurrence is one issue found on one record.
type Occurrence struct {
	ID        int64  `gorm:"primaryKey" json:"id"`
	RunID     int64  `json:"runId"`
	RecordID  int64  `json:"recordId"`
	SourceID  int64  `json:"sourceId"`
	Position  int64  `json:"position"`
	Code      string `json:"code"`
	Severity  string `json:"severity"`
	Attribute string `json:"attribute"`
	// Value is what the record holds, masked when the attribute's field is personal data.
	Value   string `json:"value"`
	Message string `json:"message"`
}

func (Occurrence) TableName() string { return "issue_occurrences" }

// MatrixLoader gives the project's matrix.
type MatrixLoader interface {
	LoadMatrix(ctx context.Context, projectID int64) (*mapping.Matrix, error)
}

// Records reads the staged records and keeps their profiles.
type Records interface {
	CurrentExtracts(ctx context.Context, projectID int64) ([]staging.Extract, error)
	ReadForValidation(ctx context.Context, extractID, afterID int64, limit int) ([]staging.ValidationInput, error)
	WriteProfiles(ctx context.Context, tx *sql.Tx, profiles []staging.ProfileWrite) error
	ReplaceKeys(ctx context.Context, remove []staging.KeyEntry, add [][]staging.KeyEntry) error
	RemoveKeys(ctx context.Context, extractIDs []int64) error
	DuplicateKeys(ctx context.Context, projectID int64, kind string) ([]staging.RecordRef, error)
}

// DroppedFields lists the fields legal decided not to migrate.
type DroppedFields interface {
	DroppedFields(ctx context.Context, projectID int64) (map[int64]bool, error)
}

// Service validates staged data.
type Service struct {
	db      *db.DB
	matrix  MatrixLoader
	records Records
	dropped DroppedFields
	now     func() time.Time
	// passwords, when set, says how to read stored passwords (WithPasswords).
	passwords PasswordReadings
}

// NewService returns a quality service.
func NewService(database *db.DB, matrix MatrixLoader, records Records, dropped DroppedFields, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: database, matrix: matrix, records: records, dropped: dropped, now: now}
}

// issueCode names the issue of a failed attribute rule.
func issueCode(a schema.Attribute, rule string) string {
	if a.Format == schema.FormatCountryCode && (rule == schema.RuleTooLong || rule == schema.RuleTooShort) {
		return IssueBadCountryCode // "England" is not too long, it is not a code
	}
	switch rule {
	case schema.RuleRequired:
		return IssueRequiredMissing
	case schema.RuleTooLong:
		return IssueTooLong
	case schema.RuleTooShort:
		return IssueTooShort
	case schema.RuleType:
		return IssueWrongType
	case schema.RulePattern:
		return IssuePattern
	case schema.RuleEnum:
		return IssueNotInEnum
	case schema.RuleEncoding, schema.RuleControl:
		return IssueBadText
	case schema.RuleFormat:
		switch {
		case a.Name == "login":
			return IssueLoginNotEmail
		case a.Format == schema.FormatEmail:
			return IssueBadEmail
		case a.Format == schema.FormatCountryCode:
			return IssueBadCountryCode
		case a.Format == schema.FormatLocale:
			return IssueBadLocale
		case a.Format == schema.FormatTimezone:
			return IssueBadTimezone
		case a.Format == schema.FormatLanguageCode:
			return IssueBadLanguage
		}
	}
	return IssueBadFormat
}

// LatestRuns returns the project's newest runs, newest first.
func (s *Service) LatestRuns(ctx context.Context, projectID int64, n int) ([]Run, error) {
	var out []Run
	if err := s.db.Read.WithContext(ctx).Where("project_id = ? AND status = ?", projectID, RunDone).Order("id DESC").Limit(n).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// OccurrenceFilter selects occurrences of a run.
type OccurrenceFilter struct {
	RunID     int64
	Code      string
	SourceID  int64
	Attribute string
	AfterID   int64
	Limit     int
}

// FindOccurrences pages through a run's occurrences (keyset on id).
func (s *Service) FindOccurrences(ctx context.Context, f OccurrenceFilter) ([]Occurrence, error) {
	if f.Limit <= 0 || f.Limit > 10000 {
		f.Limit = 100
	}
	q := s.db.Read.WithContext(ctx).Where("run_id = ? AND id > ?", f.RunID, f.AfterID)
	if f.Code != "" {
		q = q.Where("code = ?", f.Code)
	}
	if f.SourceID != 0 {
		q = q.Where("source_id = ?", f.SourceID)
	}
	if f.Attribute != "" {
		q = q.Where("attribute = ?", f.Attribute)
	}
	var out []Occurrence
	if err := q.Order("id").Limit(f.Limit).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, context.Canceled) {
		return apperr.Invalid("Validation was stopped.", nil)
	}
	return apperr.Internal(err)
}
