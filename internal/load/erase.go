package load

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// What the loads keep of legacy password hashes, and its erase at the end of
// a migration program (docs/hook.md, "The end of the program"). A hash-mode
// run seals each user's hash into its item and drops it once the user is
// created; the items of users not created (failed, skipped, never sent) keep
// theirs, and every hash-mode user keeps a digest of its hash (to tell a
// changed hash at a refresh). Once the program's end erases the staged
// hashes, these go too.

// UnfinishedHashRuns names the project's runs that may still send password
// hashes to Okta (a load, a test batch, a refresh's joiners and changed
// hashes): queued, running, paused or stopped on a failure (and so
// resumable), with items not sent yet that hold a sealed hash. The erase of
// the hashes waits until each is finished or cancelled, since a resumed run
// whose hashes were erased would create its users without a password.
func (s *Service) UnfinishedHashRuns(ctx context.Context, projectID int64) ([]string, error) {
	return unfinishedHashRuns(s.db.Read.WithContext(ctx), projectID)
}

func unfinishedHashRuns(tx *gorm.DB, projectID int64) ([]string, error) {
	var runs []Run
	err := tx.Where(`project_id = ? AND kind <> ? AND status IN ? AND EXISTS (SELECT 1 FROM load_items i
		WHERE i.run_id = load_runs.id AND i.credential_sealed <> '' AND i.state IN ?)`,
		projectID, KindResetPassword, []string{StatusQueued, StatusRunning, StatusPaused, StatusFailed}, []string{StatePending, StateSending}).
		Order("number").Find(&runs).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	out := make([]string, 0, len(runs))
	for _, r := range runs {
		out = append(out, fmt.Sprintf("%s, %s", r.Label(), r.Status))
	}
	return out, nil
}

// HashErasure counts what ErasePasswordHashes removed.
type HashErasure struct {
	// SealedHashes are items' sealed hashes (users the runs did not create).
	SealedHashes int64 `json:"sealedHashes"`
	// Digests are the digests of hashes, on items and on Okta users.
	Digests int64 `json:"digests"`
}

// ErasePasswordHashes removes, in one transaction, the sealed hashes of the
// project's load items and every digest of a hash (items and Okta users).
// The one-time links of password resets, sealed in the same column of
// reset_password items, are not hashes and stay. It refuses while a run
// may still send hashes (UnfinishedHashRuns). Erasing twice is harmless.
func (s *Service) ErasePasswordHashes(ctx context.Context, projectID int64) (HashErasure, error) {
	var out HashErasure
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		runs, err := unfinishedHashRuns(tx, projectID)
		if err != nil {
			return err
		}
		if len(runs) > 0 {
			return apperr.Conflict("These runs may still send password hashes to Okta: " + strings.Join(runs, "; ") +
				". Let them finish, or cancel them, before the hashes are erased.")
		}
		ofProject := tx.Model(&Run{}).Select("id").Where("project_id = ? AND kind <> ?", projectID, KindResetPassword)
		res := tx.Table("load_items").Where("run_id IN (?) AND credential_sealed <> ''", ofProject).
			Updates(map[string]any{"credential_sealed": ""})
		if res.Error != nil {
			return res.Error
		}
		out.SealedHashes = res.RowsAffected
		res = tx.Table("load_items").Where("run_id IN (?) AND hash_digest <> ''", ofProject).Updates(map[string]any{"hash_digest": ""})
		if res.Error != nil {
			return res.Error
		}
		out.Digests = res.RowsAffected
		res = tx.Table("okta_users").Where("project_id = ? AND hash_digest <> ''", projectID).Updates(map[string]any{"hash_digest": ""})
		if res.Error != nil {
			return res.Error
		}
		out.Digests += res.RowsAffected
		return nil
	})
	if err != nil {
		if apperr.Is(err, apperr.CodeConflict) {
			return HashErasure{}, err
		}
		return HashErasure{}, apperr.Internal(err)
	}
	return out, nil
}
