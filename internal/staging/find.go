package staging

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// MaxPageSize bounds one page of records or quarantined rows.
const MaxPageSize = 1000

// FindExtractByID returns one extract of the project.
func (s *Service) FindExtractByID(ctx context.Context, projectID, id int64) (*Extract, error) {
	var ex Extract
	err := s.db.Read.WithContext(ctx).Where("project_id = ? AND id = ?", projectID, id).First(&ex).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound("extract")
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return &ex, nil
}

// FindQuarantinedPage pages through the rows a reader could not take, in
// the order they were met (keyset: after the given id), at most limit.
func (s *Service) FindQuarantinedPage(ctx context.Context, extractID, afterID int64, limit int) ([]QuarantinedRow, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = 100
	}
	var out []QuarantinedRow
	err := s.db.Read.WithContext(ctx).Where("extract_id = ? AND id > ?", extractID, afterID).Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// idChunk bounds the ids of one IN list, well below the bind-parameter
// limits of SQLite and PostgreSQL.
const idChunk = 500

// ProjectRecordIDs returns those of ids that are staged records of the
// project (of any of its extracts that still holds records).
func (s *Service) ProjectRecordIDs(ctx context.Context, projectID int64, ids []int64) ([]int64, error) {
	var out []int64
	for start := 0; start < len(ids); start += idChunk {
		chunk := ids[start:min(start+idChunk, len(ids))]
		var found []int64
		err := s.db.Read.WithContext(ctx).Model(&StagedRecord{}).
			Joins("JOIN extracts ON extracts.id = staged_records.extract_id").
			Where("staged_records.id IN ? AND extracts.project_id = ?", chunk, projectID).
			Order("staged_records.id").Pluck("staged_records.id", &found).Error
		if err != nil {
			return nil, apperr.Internal(err)
		}
		out = append(out, found...)
	}
	return out, nil
}
