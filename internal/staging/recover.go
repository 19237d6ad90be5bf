package staging

import (
	"context"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// DiscardUnfinished deals with the extracts that a crash left half-staged:
// each extract still "loading" is marked failed, with a message that says
// so, and the records and quarantined rows it had written are removed. The
// source's current extract stays current. Call it at start-up, before
// anything stages: it takes every loading extract for one that a crash left
// behind (a `ferry stage` running at that moment against the same database
// would lose its extract). It returns how many extracts it discarded.
func (s *Service) DiscardUnfinished(ctx context.Context) (int, error) {
	var ids []int64
	if err := s.db.Read.WithContext(ctx).Model(&Extract{}).Where("status = ?", StatusLoading).Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, apperr.Internal(err)
	}
	for _, id := range ids {
		// In batches, each its own short transaction: a crashed extract may
		// hold millions of records, and readers must not wait on one huge
		// delete. A crash in between leaves the extract loading: the next
		// start goes on.
		for {
			res := s.db.Write.WithContext(ctx).Where("id IN (?)", s.db.Write.Model(&StagedRecord{}).Select("id").
				Where("extract_id = ?", id).Limit(batchSize)).Delete(&StagedRecord{})
			if res.Error != nil {
				return 0, apperr.Internal(res.Error)
			}
			if res.RowsAffected == 0 {
				break
			}
		}
		err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
			if err := tx.Where("extract_id = ?", id).Delete(&QuarantinedRow{}).Error; err != nil {
				return err
			}
			now := s.now().UTC()
			return tx.Model(&Extract{}).Where("id = ? AND status = ?", id, StatusLoading).Updates(map[string]any{"status": StatusFailed,
				"error": "Ferry stopped while this extract was being staged; nothing of it was kept. Stage it again.", "finished_at": now}).Error
		})
		if err != nil {
			return 0, apperr.Internal(err)
		}
	}
	return len(ids), nil
}
