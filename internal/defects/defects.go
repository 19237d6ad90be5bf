// Package defects keeps each project's defect log: what failed in a test
// batch or a load, with the fields Okta's migration guidance asks a defect
// log to hold (use case number, issue description, test status, ticket
// status, priority, error category — AD, Okta, HR or other — and notes or a
// proposed resolution). People add and edit defects by hand; the load engine
// turns the failed items of a run into defects, one per run and error code
// (RecordRunFailures). Defects are closed (or marked won't fix), never
// deleted, so that the log stays a record of what went wrong. No defect
// holds a user's login or other personal data: a run's defects count users,
// they never name them.
package defects

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// Test statuses: where testing of the defect's case stands.
const (
	TestNotRun = "not_run"
	TestFailed = "failed"
	TestPassed = "passed"
	TestRetest = "retest"
)

// Ticket statuses: where fixing the defect stands. Closed and won't fix end
// a defect's life; there is no deleting.
const (
	TicketOpen       = "open"
	TicketInProgress = "in_progress"
	TicketResolved   = "resolved"
	TicketClosed     = "closed"
	TicketWontFix    = "wont_fix"
)

// Priorities.
const (
	PriorityCritical = "critical"
	PriorityHigh     = "high"
	PriorityMedium   = "medium"
	PriorityLow      = "low"
)

// Error categories, as the guidance names them: where the cause lies.
const (
	CategoryAD    = "ad"
	CategoryOkta  = "okta"
	CategoryHR    = "hr"
	CategoryOther = "other"
)

// Limits of the text fields, in characters.
const (
	MaxUseCaseLen     = 100
	MaxDescriptionLen = 2000
	MaxNotesLen       = apperr.MaxTextLen
)

// TestStatuses lists the test statuses with their labels, for forms and exports.
func TestStatuses() []plan.Option {
	return []plan.Option{{Value: TestNotRun, Label: "Not run"}, {Value: TestFailed, Label: "Failed"},
		{Value: TestPassed, Label: "Passed"}, {Value: TestRetest, Label: "Retest"}}
}

// TicketStatuses lists the ticket statuses with their labels.
func TicketStatuses() []plan.Option {
	return []plan.Option{{Value: TicketOpen, Label: "Open"}, {Value: TicketInProgress, Label: "In progress"},
		{Value: TicketResolved, Label: "Resolved"}, {Value: TicketClosed, Label: "Closed"}, {Value: TicketWontFix, Label: "Won't fix"}}
}

// Priorities lists the priorities with their labels, most urgent first.
func Priorities() []plan.Option {
	return []plan.Option{{Value: PriorityCritical, Label: "Critical"}, {Value: PriorityHigh, Label: "High"},
		{Value: PriorityMedium, Label: "Medium"}, {Value: PriorityLow, Label: "Low"}}
}

// Categories lists the error categories with their labels.
func Categories() []plan.Option {
	return []plan.Option{{Value: CategoryAD, Label: "AD"}, {Value: CategoryOkta, Label: "Okta"},
		{Value: CategoryHR, Label: "HR"}, {Value: CategoryOther, Label: "Other"}}
}

// Defect is one entry of the log.
type Defect struct {
	ID        int64 `gorm:"column:id;primaryKey" json:"id"`
	ProjectID int64 `gorm:"column:project_id" json:"projectId"`
	// Number is the defect's number in its project, shown as D-1, D-2…
	Number       int64  `gorm:"column:number" json:"number"`
	UseCase      string `gorm:"column:use_case" json:"useCase"`
	Description  string `gorm:"column:description" json:"description"`
	TestStatus   string `gorm:"column:test_status" json:"testStatus"`
	TicketStatus string `gorm:"column:ticket_status" json:"ticketStatus"`
	Priority     string `gorm:"column:priority" json:"priority"`
	Category     string `gorm:"column:category" json:"category"`
	// Notes holds the notes and the proposed resolution.
	Notes string `gorm:"column:notes" json:"notes"`
	// ErrorCode is the Okta error code (E0000001) or Ferry's code of a run's
	// failures; "" for a defect added by hand.
	ErrorCode string `gorm:"column:error_code" json:"errorCode"`
	// LoadRunID is the run the defect was recorded from, nil for one added by hand.
	LoadRunID *int64 `gorm:"column:load_run_id" json:"loadRunId"`
	// Affected counts the users of the run that failed with ErrorCode.
	Affected      int64     `gorm:"column:affected" json:"affected"`
	CreatedByName string    `gorm:"column:created_by_name" json:"createdByName"`
	Version       int64     `gorm:"column:version" json:"version"`
	CreatedAt     time.Time `gorm:"column:created_at" json:"createdAt"`
	UpdatedAt     time.Time `gorm:"column:updated_at" json:"updatedAt"`
}

// TableName is the table defects live in.
func (Defect) TableName() string { return "defects" }

// Ref is the defect's reference for people: D-1, D-2…
func (d *Defect) Ref() string { return "D-" + strconv.FormatInt(d.Number, 10) }

// TestStatusLabel is the test status for people.
func (d *Defect) TestStatusLabel() string { return plan.LabelOf(TestStatuses(), d.TestStatus) }

// TicketStatusLabel is the ticket status for people.
func (d *Defect) TicketStatusLabel() string { return plan.LabelOf(TicketStatuses(), d.TicketStatus) }

// PriorityLabel is the priority for people.
func (d *Defect) PriorityLabel() string { return plan.LabelOf(Priorities(), d.Priority) }

// CategoryLabel is the error category for people.
func (d *Defect) CategoryLabel() string { return plan.LabelOf(Categories(), d.Category) }

// FromRun reports whether the defect was recorded from a run's failures.
func (d *Defect) FromRun() bool { return d.LoadRunID != nil }

// Done reports whether the defect's ticket is over (closed or won't fix).
func (d *Defect) Done() bool {
	return d.TicketStatus == TicketClosed || d.TicketStatus == TicketWontFix
}

// Input is what a person sets on a defect. The form sends every field;
// Create fills empty statuses with defaults (see Create), Update requires them.
type Input struct {
	UseCase      string
	Description  string
	TestStatus   string
	TicketStatus string
	Priority     string
	Category     string
	Notes        string
}

// Filter selects defects for List. Empty fields do not filter.
type Filter struct {
	TicketStatus string
	Category     string
	Priority     string
	// RunID selects the defects recorded from one run.
	RunID int64
}

// Service keeps the projects' defect logs.
type Service struct {
	db  *db.DB
	now func() time.Time
}

// NewService returns the service; now (time.Now when nil) dates what the
// service writes outside gorm's clock.
func NewService(database *db.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: database, now: now}
}

// what names the record in messages.
const what = "defect"

// entityType is the audit log's name for a defect.
const entityType = "defect"

// Find returns one defect of the project.
func (s *Service) Find(ctx context.Context, projectID, id int64) (*Defect, error) {
	var d Defect
	err := s.db.Read.WithContext(ctx).Where("project_id = ? AND id = ?", projectID, id).First(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound(what)
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return &d, nil
}

// List returns the project's defects matching f, by number. An unknown
// filter value is refused rather than silently matching nothing.
func (s *Service) List(ctx context.Context, projectID int64, f Filter) ([]Defect, error) {
	check := apperr.NewCheck()
	oneOf(check, "ticket_status", "Ticket status", f.TicketStatus, TicketStatuses(), true)
	oneOf(check, "category", "Error category", f.Category, Categories(), true)
	oneOf(check, "priority", "Priority", f.Priority, Priorities(), true)
	if err := check.Err(); err != nil {
		return nil, err
	}
	q := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID)
	if f.TicketStatus != "" {
		q = q.Where("ticket_status = ?", f.TicketStatus)
	}
	if f.Category != "" {
		q = q.Where("category = ?", f.Category)
	}
	if f.Priority != "" {
		q = q.Where("priority = ?", f.Priority)
	}
	if f.RunID != 0 {
		q = q.Where("load_run_id = ?", f.RunID)
	}
	var out []Defect
	if err := q.Order("number").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// CountByTicketStatus counts the project's defects per ticket status; every
// status is present, zero when no defect has it.
func (s *Service) CountByTicketStatus(ctx context.Context, projectID int64) (map[string]int64, error) {
	var rows []struct {
		TicketStatus string
		N            int64
	}
	err := s.db.Read.WithContext(ctx).Model(&Defect{}).Select("ticket_status, COUNT(*) AS n").
		Where("project_id = ?", projectID).Group("ticket_status").Scan(&rows).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	out := map[string]int64{}
	for _, o := range TicketStatuses() {
		out[o.Value] = 0
	}
	for _, r := range rows {
		out[r.TicketStatus] = r.N
	}
	return out, nil
}

// Create adds a defect by hand, numbered after the project's last one.
// Empty statuses take the values of a newly found defect: test status
// failed, ticket open, priority medium, category other. actorName is who
// is recorded as having added it (the audit actor's name when empty).
func (s *Service) Create(ctx context.Context, projectID int64, actorName string, in Input) (*Defect, error) {
	in = withDefaults(in)
	in, err := validate(in)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(actorName) == "" {
		actorName = audit.ActorFrom(ctx).Name
	}
	d := Defect{ProjectID: projectID, UseCase: in.UseCase, Description: in.Description, TestStatus: in.TestStatus,
		TicketStatus: in.TicketStatus, Priority: in.Priority, Category: in.Category, Notes: in.Notes,
		CreatedByName: cleanLine(actorName, 200), Version: 1}
	err = s.withNumberRetry(ctx, func(tx *gorm.DB) error {
		d.ID = 0
		if err := s.insert(ctx, tx, &d); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: entityType,
			EntityID: d.ID, Label: label(&d), After: d})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &d, nil
}

// Update changes what a person sets on the defect, if it is still at
// version; otherwise it reports what changed meanwhile. The run, error code
// and count of a run's defect stay as the run recorded them.
func (s *Service) Update(ctx context.Context, projectID, id, version int64, in Input) (*Defect, error) {
	in, invalid := validate(in)
	var out Defect
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var stored Defect
		if err := tx.Where("project_id = ? AND id = ?", projectID, id).First(&stored).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return apperr.NotFound(what)
			}
			return err
		}
		if stored.Version != version {
			return apperr.VersionConflict(what, stored.Version, conflictChanges(&stored, in))
		}
		if invalid != nil {
			return invalid
		}
		next := stored
		next.UseCase, next.Description, next.TestStatus, next.TicketStatus = in.UseCase, in.Description, in.TestStatus, in.TicketStatus
		next.Priority, next.Category, next.Notes = in.Priority, in.Category, in.Notes
		next.Version++
		res := tx.Model(&next).Where("project_id = ? AND id = ? AND version = ?", projectID, id, version).
			Select("use_case", "description", "test_status", "ticket_status", "priority", "category", "notes", "version", "updated_at").
			Updates(&next)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.VersionConflict(what, 0, nil)
		}
		out = next
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: entityType,
			EntityID: id, Label: label(&next), Before: stored, After: next})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}

// insert numbers d after the project's last defect and inserts it.
func (s *Service) insert(ctx context.Context, tx *gorm.DB, d *Defect) error {
	var last int64
	if err := tx.WithContext(ctx).Model(&Defect{}).Select("COALESCE(MAX(number), 0)").
		Where("project_id = ?", d.ProjectID).Scan(&last).Error; err != nil {
		return err
	}
	d.Number = last + 1
	if err := tx.WithContext(ctx).Create(d).Error; err != nil {
		if errors.Is(err, gorm.ErrForeignKeyViolated) {
			return apperr.NotFound("project")
		}
		return err
	}
	return nil
}

// withNumberRetry runs fn in a transaction, again when it lost a race for
// the next number: SQLite's writers queue, so only PostgreSQL, whose
// transactions run side by side, can see two take the same number.
func (s *Service) withNumberRetry(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for range 3 {
		err = s.db.Transaction(ctx, fn)
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			return err
		}
	}
	return err
}

func withDefaults(in Input) Input {
	if in.TestStatus == "" {
		in.TestStatus = TestFailed
	}
	if in.TicketStatus == "" {
		in.TicketStatus = TicketOpen
	}
	if in.Priority == "" {
		in.Priority = PriorityMedium
	}
	if in.Category == "" {
		in.Category = CategoryOther
	}
	return in
}

// validate cleans in (surrounding white space, CRLF line ends) and checks
// it; it returns the cleaned input and the field messages, if any.
func validate(in Input) (Input, error) {
	in.UseCase = strings.TrimSpace(in.UseCase)
	in.Description = strings.TrimSpace(normaliseNewlines(in.Description))
	in.Notes = strings.TrimSpace(normaliseNewlines(in.Notes))
	c := apperr.NewCheck()
	c.Text("use_case", "Use case number", in.UseCase, false, MaxUseCaseLen)
	if strings.ContainsAny(in.UseCase, "\r\n") {
		c.Add("use_case", "Use case number must be a single line.")
	}
	c.Text("description", "Issue description", in.Description, true, MaxDescriptionLen)
	c.Text("notes", "Notes / proposed resolution", in.Notes, false, MaxNotesLen)
	oneOf(c, "test_status", "Test status", in.TestStatus, TestStatuses(), false)
	oneOf(c, "ticket_status", "Ticket status", in.TicketStatus, TicketStatuses(), false)
	oneOf(c, "priority", "Priority", in.Priority, Priorities(), false)
	oneOf(c, "category", "Error category", in.Category, Categories(), false)
	return in, c.Err()
}

// oneOf checks an enum value, naming the choices as people see them.
func oneOf(c *apperr.Check, field, label, value string, opts []plan.Option, optional bool) {
	if value == "" && optional {
		return
	}
	for _, o := range opts {
		if o.Value == value {
			return
		}
	}
	labels := make([]string, len(opts))
	for i, o := range opts {
		labels[i] = o.Label
	}
	if value == "" {
		c.Add(field, fmt.Sprintf("Choose a %s: %s.", strings.ToLower(label), strings.Join(labels, ", ")))
		return
	}
	c.Add(field, fmt.Sprintf("%s must be one of: %s.", label, strings.Join(labels, ", ")))
}

func normaliseNewlines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// conflictChanges lists what differs between the stored defect and the caller's.
func conflictChanges(stored *Defect, in Input) []apperr.FieldChange {
	var out []apperr.FieldChange
	add := func(field, label, storedV, yours string) {
		if storedV != yours {
			out = append(out, apperr.FieldChange{Field: field, Label: label, Stored: storedV, Yours: yours})
		}
	}
	add("use_case", "Use case number", stored.UseCase, in.UseCase)
	add("description", "Issue description", stored.Description, in.Description)
	add("test_status", "Test status", stored.TestStatusLabel(), plan.LabelOf(TestStatuses(), in.TestStatus))
	add("ticket_status", "Ticket status", stored.TicketStatusLabel(), plan.LabelOf(TicketStatuses(), in.TicketStatus))
	add("priority", "Priority", stored.PriorityLabel(), plan.LabelOf(Priorities(), in.Priority))
	add("category", "Error category", stored.CategoryLabel(), plan.LabelOf(Categories(), in.Category))
	add("notes", "Notes / proposed resolution", stored.Notes, in.Notes)
	return out
}

// label names a defect in the audit log: its reference and the start of its description.
func label(d *Defect) string {
	return d.Ref() + " " + cleanLine(d.Description, 80)
}

// wrap passes application errors through and turns anything else into an internal error.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return apperr.Internal(fmt.Errorf("defects: %w", err))
}
