package quality

import (
	"context"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// MarkInterrupted marks the validation runs that a crash left running as
// failed, saying so, and removes the occurrences they had written. Call it
// at start-up, before anything validates. It returns how many it marked.
func (s *Service) MarkInterrupted(ctx context.Context) (int, error) {
	var ids []int64
	if err := s.db.Read.WithContext(ctx).Model(&Run{}).Where("status = ?", RunRunning).Pluck("id", &ids).Error; err != nil {
		return 0, apperr.Internal(err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if err := s.db.Write.WithContext(ctx).Where("run_id IN ?", ids).Delete(&Occurrence{}).Error; err != nil {
		return 0, apperr.Internal(err)
	}
	err := s.db.Write.WithContext(ctx).Model(&Run{}).Where("id IN ? AND status = ?", ids, RunRunning).
		Updates(map[string]any{"status": RunFailed, "error": "Ferry stopped while this validation ran; validate again.", "finished_at": s.now().UTC()}).Error
	if err != nil {
		return 0, apperr.Internal(err)
	}
	return len(ids), nil
}
