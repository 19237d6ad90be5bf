package quality

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// Task statuses.
const (
	TaskOpen       = "open"
	TaskInProgress = "in_progress"
	TaskDone       = "done"
	TaskWontFix    = "wont_fix"
)

// TaskStatuses lists the statuses with their labels.
func TaskStatuses() [][2]string {
	return [][2]string{{TaskOpen, "Open"}, {TaskInProgress, "In progress"}, {TaskDone, "Done"}, {TaskWontFix, "Won't fix"}}
}

// Task is remediation work on an issue type or on chosen records.
type Task struct {
	ID         int64     `gorm:"primaryKey" json:"id"`
	ProjectID  int64     `json:"projectId"`
	Title      string    `json:"title"`
	IssueCode  string    `json:"issueCode"`
	RecordIDs  []int64   `gorm:"column:record_ids_json;serializer:json" json:"recordIds"`
	AssigneeID *int64    `json:"assigneeId,omitempty"`
	Status     string    `json:"status"`
	DueDate    string    `json:"dueDate"`
	Notes      string    `json:"notes"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

func (Task) TableName() string { return "remediation_tasks" }

// TaskInput creates or changes a task; nil fields keep their value.
type TaskInput struct {
	Title      *string  `json:"title"`
	IssueCode  *string  `json:"issueCode"`
	RecordIDs  *[]int64 `json:"recordIds"`
	AssigneeID *int64   `json:"assigneeId"` // 0 unassigns
	Status     *string  `json:"status"`
	DueDate    *string  `json:"dueDate"`
	Notes      *string  `json:"notes"`
}

// MaxTaskRecords bounds the records one task names.
const MaxTaskRecords = 10_000

func (t *Task) apply(in TaskInput) {
	if in.Title != nil {
		t.Title = strings.TrimSpace(*in.Title)
	}
	if in.IssueCode != nil {
		t.IssueCode = strings.TrimSpace(*in.IssueCode)
	}
	if in.RecordIDs != nil {
		t.RecordIDs = *in.RecordIDs
	}
	if in.AssigneeID != nil {
		if *in.AssigneeID == 0 {
			t.AssigneeID = nil
		} else {
			id := *in.AssigneeID
			t.AssigneeID = &id
		}
	}
	if in.Status != nil {
		t.Status = strings.TrimSpace(*in.Status)
	}
	if in.DueDate != nil {
		t.DueDate = strings.TrimSpace(*in.DueDate)
	}
	if in.Notes != nil {
		t.Notes = strings.TrimSpace(*in.Notes)
	}
	if t.RecordIDs == nil {
		t.RecordIDs = []int64{}
	}
}

func (t *Task) validate() error {
	c := apperr.NewCheck()
	c.Name("title", "Title", t.Title)
	if t.IssueCode != "" && TypeOf(t.IssueCode).Description == "" {
		c.Add("issue_code", "Choose an issue type from the catalog.")
	}
	var statuses []string
	for _, s := range TaskStatuses() {
		statuses = append(statuses, s[0])
	}
	c.OneOf("status", "Status", t.Status, statuses, false)
	if t.DueDate != "" {
		if _, err := time.Parse("2006-01-02", t.DueDate); err != nil {
			c.Add("due_date", "Due date must be a calendar date (YYYY-MM-DD).")
		}
	}
	if len(t.RecordIDs) > MaxTaskRecords {
		c.Add("record_ids", fmt.Sprintf("A task can name at most %d records; use an issue type instead.", MaxTaskRecords))
	}
	c.Text("notes", "Notes", t.Notes, false, apperr.MaxTextLen)
	return c.Err()
}

// MemberChecker tells whether an account is a member of a project (tasks are
// assigned to the project's members only).
type MemberChecker interface {
	IsMember(ctx context.Context, projectID, accountID int64) (bool, error)
}

// CreateTask records remediation work.
func (s *Service) CreateTask(ctx context.Context, projectID int64, members MemberChecker, in TaskInput) (*Task, error) {
	t := &Task{ProjectID: projectID, Status: TaskOpen, Version: 1}
	t.apply(in)
	if err := s.checkTask(ctx, t, members); err != nil {
		return nil, err
	}
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "remediation_task", EntityID: t.ID, Label: t.Title, After: t})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return t, nil
}

func (s *Service) checkTask(ctx context.Context, t *Task, members MemberChecker) error {
	if err := t.validate(); err != nil {
		return err
	}
	if t.AssigneeID != nil && members != nil {
		ok, err := members.IsMember(ctx, t.ProjectID, *t.AssigneeID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"assignee_id": "Assign the task to a member of the project."})
		}
	}
	return nil
}

// UpdateTask changes a task if it is still at version.
func (s *Service) UpdateTask(ctx context.Context, projectID, id, version int64, members MemberChecker, in TaskInput) (*Task, error) {
	var out Task
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var t Task
		if err := tx.Where("project_id = ? AND id = ?", projectID, id).First(&t).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return apperr.NotFound("task")
			}
			return err
		}
		if t.Version != version {
			return apperr.VersionConflict("task", t.Version, nil)
		}
		before := t
		t.apply(in)
		if err := s.checkTask(ctx, &t, members); err != nil {
			return err
		}
		t.Version++
		res := tx.Model(&t).Where("id = ? AND version = ?", id, version).
			Select("title", "issue_code", "record_ids_json", "assignee_id", "status", "due_date", "notes", "version", "updated_at").Updates(&t)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.VersionConflict("task", 0, nil)
		}
		out = t
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "remediation_task", EntityID: id, Label: t.Title, Before: before, After: t})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}

// FindTasks lists a project's tasks, open ones first.
func (s *Service) FindTasks(ctx context.Context, projectID int64) ([]Task, error) {
	var out []Task
	err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).
		Order("CASE status WHEN 'open' THEN 0 WHEN 'in_progress' THEN 1 ELSE 2 END, id").Find(&out).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}
