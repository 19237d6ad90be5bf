package staging

import (
	"context"
	"strconv"
	"strings"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// FindSourceRecord finds one record of the source's current extract by the
// reference a person gives: its key as staged (ignoring case and spaces
// around it), or else, when ref is a whole number, its line. A key wins over
// a line, so that a numeric key (an employee number) is never mistaken.
func (s *Service) FindSourceRecord(ctx context.Context, projectID, sourceID int64, ref string) (*StagedRecord, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, apperr.NotFound("staged record")
	}
	ex, err := s.CurrentExtract(ctx, projectID, sourceID)
	if err != nil {
		return nil, err
	}
	if ex == nil {
		return nil, apperr.NotFound("staged record")
	}
	var out []StagedRecord
	q := s.db.Read.WithContext(ctx)
	if err := q.Where("extract_id = ? AND source_key = ?", ex.ID, keyOf(ref)).Order("id").Limit(1).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	if len(out) == 0 {
		line, err := strconv.ParseInt(strings.TrimPrefix(ref, "#"), 10, 64)
		if err != nil || line <= 0 {
			return nil, apperr.NotFound("staged record")
		}
		if err := q.Where("extract_id = ? AND position = ?", ex.ID, line).Order("id").Limit(1).Find(&out).Error; err != nil {
			return nil, apperr.Internal(err)
		}
	}
	if len(out) == 0 {
		return nil, apperr.NotFound("staged record")
	}
	return &out[0], nil
}
