package quality

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// MaxPageSize bounds one page of runs or occurrences.
const MaxPageSize = 1000

// FindRuns pages through the project's validation runs of every status,
// newest first (keyset: older than beforeID, when it is not 0), at most limit.
func (s *Service) FindRuns(ctx context.Context, projectID, beforeID int64, limit int) ([]Run, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = 100
	}
	q := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	var out []Run
	if err := q.Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// FindRunByID returns one validation run of the project.
func (s *Service) FindRunByID(ctx context.Context, projectID, id int64) (*Run, error) {
	var r Run
	err := s.db.Read.WithContext(ctx).Where("project_id = ? AND id = ?", projectID, id).First(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound("validation run")
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return &r, nil
}

// FindTaskByID returns one remediation task of the project.
func (s *Service) FindTaskByID(ctx context.Context, projectID, id int64) (*Task, error) {
	var t Task
	err := s.db.Read.WithContext(ctx).Where("project_id = ? AND id = ?", projectID, id).First(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound("task")
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	if t.RecordIDs == nil {
		t.RecordIDs = []int64{}
	}
	return &t, nil
}

// TaskChanges lists, among the fields in, those whose stored value differs
// from what in would make of the task (JSON names), for a version conflict.
func TaskChanges(stored *Task, in TaskInput) []apperr.FieldChange {
	yours := *stored
	yours.apply(in)
	ids := func(v []int64) string {
		out := make([]string, len(v))
		for i, id := range v {
			out[i] = strconv.FormatInt(id, 10)
		}
		return strings.Join(out, ", ")
	}
	assignee := func(id *int64) string {
		if id == nil {
			return ""
		}
		return strconv.FormatInt(*id, 10)
	}
	status := func(v string) string {
		for _, st := range TaskStatuses() {
			if st[0] == v {
				return st[1]
			}
		}
		return v
	}
	var out []apperr.FieldChange
	add := func(sent bool, field, label, a, b string) {
		if sent && a != b {
			out = append(out, apperr.FieldChange{Field: field, Label: label, Stored: a, Yours: b})
		}
	}
	add(in.Title != nil, "title", "Title", stored.Title, yours.Title)
	add(in.IssueCode != nil, "issueCode", "Issue type", stored.IssueCode, yours.IssueCode)
	add(in.RecordIDs != nil, "recordIds", "Records", ids(stored.RecordIDs), ids(yours.RecordIDs))
	add(in.AssigneeID != nil, "assigneeId", "Assignee", assignee(stored.AssigneeID), assignee(yours.AssigneeID))
	add(in.Status != nil, "status", "Status", status(stored.Status), status(yours.Status))
	add(in.DueDate != nil, "dueDate", "Due date", stored.DueDate, yours.DueDate)
	add(in.Notes != nil, "notes", "Notes", stored.Notes, yours.Notes)
	return out
}
