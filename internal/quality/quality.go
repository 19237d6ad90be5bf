package quality

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/mapping/transform"
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
}

// Run is one validation of a project's staged data.
type Run struct {
	ID            int64      `gorm:"primaryKey" json:"id"`
	ProjectID     int64      `json:"projectId"`
	Status        string     `json:"status"`
	Records       int64      `json:"records"`
	Valid         int64      `json:"valid"`
	Invalid       int64      `json:"invalid"`
	Excluded      int64      `json:"excluded"`
	Occurrences   int64      `json:"occurrences"`
	Counts        Counts     `gorm:"column:counts_json;serializer:json" json:"counts"`
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

// Records reads and annotates the staged records.
type Records interface {
	CurrentExtracts(ctx context.Context, projectID int64) ([]staging.Extract, error)
	FindRecords(ctx context.Context, extractID, afterID int64, limit int) ([]staging.StagedRecord, error)
	SaveKeys(ctx context.Context, updates []staging.KeyUpdate) error
	DuplicateKeys(ctx context.Context, projectID int64, column string) ([]staging.RecordRef, error)
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
}

// NewService returns a quality service.
func NewService(database *db.DB, matrix MatrixLoader, records Records, dropped DroppedFields, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: database, matrix: matrix, records: records, dropped: dropped, now: now}
}

// pageSize is how many records one page of validation reads and writes.
const pageSize = 1000

// Progress is told how many records have been validated.
type Progress func(done, total int64)

// Validate computes every current record's Okta profile through the matrix
// (the profile itself is not stored: loads compute it again from the matrix
// of their time; only the uniqueness keys are kept, in indexed columns),
// checks it against the attributes' rules and uniqueness, and records the
// run with its occurrences and counts. Earlier runs keep their counts (for
// the trend); only the newest two keep their occurrences.
func (s *Service) Validate(ctx context.Context, projectID int64, progress Progress) (*Run, error) {
	m, err := s.matrix.LoadMatrix(ctx, projectID)
	if err != nil {
		return nil, err
	}
	dropped, err := s.dropped.DroppedFields(ctx, projectID)
	if err != nil {
		return nil, err
	}
	extracts, err := s.records.CurrentExtracts(ctx, projectID)
	if err != nil {
		return nil, err
	}
	checkers := map[string]*schema.Checker{}
	attrs := map[string]schema.Attribute{}
	for _, a := range m.Attributes {
		c, err := schema.Compile(a)
		if err != nil {
			continue
		}
		checkers[a.Name], attrs[a.Name] = c, a
	}
	pii := map[int64]map[string]bool{} // source → field names that carry personal data
	for _, f := range m.AllFields {
		if f.PII == mapping.PIIYes || f.PIISuggestion != "" {
			if pii[f.SourceID] == nil {
				pii[f.SourceID] = map[string]bool{}
			}
			pii[f.SourceID][f.Name] = true
		}
	}
	piiTargets := map[int64]map[string]bool{} // source → targets fed by personal data
	for _, l := range m.Lines {
		if l.Row != nil && l.Row.Status == mapping.StatusMapped && pii[l.Field.SourceID][l.Field.Name] {
			if piiTargets[l.Field.SourceID] == nil {
				piiTargets[l.Field.SourceID] = map[string]bool{}
			}
			piiTargets[l.Field.SourceID][l.Row.TargetAttribute] = true
		}
	}
	profiler := m.Profiler(dropped)
	emailUnique := attrs["email"].Unique

	run := &Run{ProjectID: projectID, Status: RunRunning, CreatedByName: audit.ActorFrom(ctx).Name, StartedAt: s.now().UTC(),
		Counts: Counts{ByCode: map[string]int64{}, BySource: map[int64]int64{}, ByAttribute: map[string]int64{}}}
	if err := s.db.Write.WithContext(ctx).Create(run).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	var total int64
	for _, ex := range extracts {
		total += ex.Records
	}
	invalid := map[int64]bool{}
	var done int64
	record := func(o Occurrence) {
		run.Occurrences++
		run.Counts.ByCode[o.Code]++
		run.Counts.BySource[o.SourceID]++
		if o.Attribute != "" {
			run.Counts.ByAttribute[o.Attribute]++
		}
		if o.Severity == SeverityBlocking {
			invalid[o.RecordID] = true
		}
	}
	fail := func(err error) (*Run, error) {
		now := s.now().UTC()
		_ = s.db.Write.Model(run).Updates(map[string]any{"status": RunFailed, "error": err.Error(), "finished_at": now}).Error
		return run, wrap(err)
	}
	for _, ex := range extracts {
		var after int64
		for {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
			page, err := s.records.FindRecords(ctx, ex.ID, after, pageSize)
			if err != nil {
				return fail(err)
			}
			if len(page) == 0 {
				break
			}
			after = page[len(page)-1].ID
			updates := make([]staging.KeyUpdate, 0, len(page))
			var occ []Occurrence
			for _, rec := range page {
				run.Records++
				if rec.Excluded {
					run.Excluded++
					continue
				}
				profile, terrs := profiler.Profile(ex.SourceID, firstValues(rec.Effective()))
				mask := piiTargets[ex.SourceID]
				for _, te := range terrs {
					occ = append(occ, Occurrence{RunID: run.ID, RecordID: rec.ID, SourceID: ex.SourceID, Position: rec.Position,
						Code: IssueTransformFailed, Severity: SeverityBlocking, Attribute: te.Target, Message: te.Message})
				}
				for name, c := range checkers {
					v, mapped := profile[name]
					if !mapped && !attrs[name].Required {
						continue
					}
					if err := c.Check(v); err != nil {
						var ve *schema.ValueError
						if !errors.As(err, &ve) {
							continue
						}
						shown := v
						if mask[name] {
							shown = mapping.MaskValue(v)
						}
						occ = append(occ, Occurrence{RunID: run.ID, RecordID: rec.ID, SourceID: ex.SourceID, Position: rec.Position,
							Code: issueCode(attrs[name], ve.Rule), Severity: SeverityBlocking, Attribute: name, Value: truncate(shown, 200),
							Message: name + " " + ve.Message})
					}
				}
				u := staging.KeyUpdate{RecordID: rec.ID}
				if login := profile["login"]; login != "" {
					u.LoginKey = schema.LoginKey(login)
				}
				if email := profile["email"]; email != "" && emailUnique {
					u.EmailKey = schema.LoginKey(email)
				}
				if u.LoginKey != rec.LoginKey || u.EmailKey != rec.EmailKey {
					updates = append(updates, u) // re-validations rewrite only what changed
				}
			}
			if err := s.records.SaveKeys(ctx, updates); err != nil {
				return fail(err)
			}
			if err := s.saveOccurrences(ctx, occ); err != nil {
				return fail(err)
			}
			for _, o := range occ {
				record(o)
			}
			done += int64(len(page))
			if progress != nil {
				progress(done, total)
			}
		}
	}
	// Uniqueness, across every source, on the indexed keys.
	uniques := []struct{ column, code, attr string }{{"login", IssueDuplicateLogin, "login"}}
	if a, ok := attrs["email"]; ok && a.Unique {
		uniques = append(uniques, struct{ column, code, attr string }{"email", IssueDuplicateEmail, "email"})
	}
	for _, u := range uniques {
		dups, err := s.records.DuplicateKeys(ctx, projectID, u.column)
		if err != nil {
			return fail(err)
		}
		var occ []Occurrence
		firstOf := map[string]staging.RecordRef{}
		for _, d := range dups {
			first, seen := firstOf[d.Key]
			if !seen {
				firstOf[d.Key] = d
				first = d
			}
			msg := fmt.Sprintf("%s is the same as on line %d (compared as Okta does, ignoring case and accents)", u.attr, first.Position)
			if !seen {
				msg = fmt.Sprintf("%s is used by several records (compared as Okta does, ignoring case and accents)", u.attr)
			}
			occ = append(occ, Occurrence{RunID: run.ID, RecordID: d.RecordID, SourceID: d.SourceID, Position: d.Position, Code: u.code,
				Severity: SeverityBlocking, Attribute: u.attr, Value: mapping.MaskValue(d.Key), Message: msg})
		}
		if err := s.saveOccurrences(ctx, occ); err != nil {
			return fail(err)
		}
		for _, o := range occ {
			record(o)
		}
	}
	run.Invalid = int64(len(invalid))
	run.Valid = run.Records - run.Excluded - run.Invalid
	now := s.now().UTC()
	run.Status, run.FinishedAt = RunDone, &now
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(run).Select("status", "records", "valid", "invalid", "excluded", "occurrences", "counts_json", "finished_at").Updates(run).Error; err != nil {
			return err
		}
		// Keep the occurrences of the newest two runs (this one and the one
		// before, to show what changed); older runs keep their counts.
		var old []int64
		if err := tx.Model(&Run{}).Where("project_id = ? AND id < ?", projectID, run.ID).Order("id DESC").Offset(1).Pluck("id", &old).Error; err != nil {
			return err
		}
		if len(old) > 0 {
			if err := tx.Where("run_id IN ?", old).Delete(&Occurrence{}).Error; err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "validation_run", EntityID: run.ID,
			Label: fmt.Sprintf("validation: %d valid, %d invalid, %d excluded", run.Valid, run.Invalid, run.Excluded),
			After: map[string]any{"records": run.Records, "valid": run.Valid, "invalid": run.Invalid, "excluded": run.Excluded, "occurrences": run.Occurrences}})
	})
	if err != nil {
		return fail(err)
	}
	return run, nil
}

func (s *Service) saveOccurrences(ctx context.Context, occ []Occurrence) error {
	if len(occ) == 0 {
		return nil
	}
	return s.db.Transaction(ctx, func(tx *gorm.DB) error { return tx.CreateInBatches(occ, 500).Error })
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

// firstValues presents a record's attributes to the transformations.
func firstValues(attrs map[string][]string) transform.MapRecord {
	out := make(transform.MapRecord, len(attrs))
	for k, v := range attrs {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
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
