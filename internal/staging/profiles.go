package staging

import (
	"context"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/db"
)

// KeyUpdate is a record's uniqueness keys, computed by validation from its
// Okta profile (login compared as Okta does; email only when the org
// enforces unique emails).
type KeyUpdate struct {
	RecordID int64
	LoginKey string
	EmailKey string
}

// SaveKeys stores uniqueness keys in one short transaction through one
// prepared statement: per-row updates by primary key stay linear, where
// SQLite's UPDATE … FROM scans the whole table once per statement.
func (s *Service) SaveKeys(ctx context.Context, updates []KeyUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	sqlDB, err := s.db.Write.DB()
	if err != nil {
		return apperr.Internal(err)
	}
	query := "UPDATE staged_records SET login_key = ?, email_key = ? WHERE id = ?"
	if s.db.Dialect == db.Postgres {
		query = "UPDATE staged_records SET login_key = $1, email_key = $2 WHERE id = $3"
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return apperr.Internal(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return apperr.Internal(err)
	}
	defer stmt.Close()
	for _, u := range updates {
		if _, err := stmt.ExecContext(ctx, u.LoginKey, u.EmailKey, u.RecordID); err != nil {
			return apperr.Internal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return apperr.Internal(err)
	}
	return nil
}

// RecordRef names a staged record for a duplicate report.
type RecordRef struct {
	RecordID int64
	SourceID int64
	Position int64
	Key      string
}

// DuplicateKeys finds the records of the project's current extracts, not
// excluded, that share a login key (column "login") or an email key
// ("email") with another one. It runs on the indexed key columns.
func (s *Service) DuplicateKeys(ctx context.Context, projectID int64, column string) ([]RecordRef, error) {
	var col string
	switch column {
	case "login":
		col = "login_key"
	case "email":
		col = "email_key"
	default:
		return nil, apperr.Internal(nil)
	}
	current := s.db.Read.Model(&Extract{}).Select("id").Where("project_id = ? AND status = ?", projectID, StatusReady)
	dupKeys := s.db.Read.Model(&StagedRecord{}).Select(col).
		Where("extract_id IN (?) AND excluded = ? AND "+col+" <> ''", current, false).
		Group(col).Having("COUNT(*) > 1")
	var out []RecordRef
	err := s.db.Read.WithContext(ctx).Table("staged_records").
		Select("staged_records.id AS record_id, extracts.source_id AS source_id, staged_records.position AS position, staged_records."+col+" AS key").
		Joins("JOIN extracts ON extracts.id = staged_records.extract_id").
		Where("staged_records.extract_id IN (?) AND staged_records.excluded = ? AND staged_records."+col+" IN (?)", current, false, dupKeys).
		Order("staged_records." + col + ", staged_records.id").Scan(&out).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// CurrentExtracts lists the project's current extracts, one per source at most.
func (s *Service) CurrentExtracts(ctx context.Context, projectID int64) ([]Extract, error) {
	var out []Extract
	if err := s.db.Read.WithContext(ctx).Where("project_id = ? AND status = ?", projectID, StatusReady).Order("source_id").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}
