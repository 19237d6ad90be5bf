package staging

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// ProfileUpdate is a record's computed Okta profile and its uniqueness keys.
type ProfileUpdate struct {
	RecordID int64
	Profile  map[string]string
	LoginKey string
	EmailKey string
}

// SaveProfiles stores computed profiles in one short transaction, many rows
// per statement (UPDATE … FROM VALUES, which SQLite and PostgreSQL accept):
// one statement per record would make validation of a million records crawl.
func (s *Service) SaveProfiles(ctx context.Context, updates []ProfileUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	const perStatement = 200
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		for start := 0; start < len(updates); start += perStatement {
			chunk := updates[start:min(start+perStatement, len(updates))]
			var sql strings.Builder
			sql.WriteString("UPDATE staged_records SET profile_json = v.column2, login_key = v.column3, email_key = v.column4 FROM (VALUES ")
			args := make([]any, 0, 4*len(chunk))
			for i, u := range chunk {
				if i > 0 {
					sql.WriteString(", ")
				}
				sql.WriteString("(CAST(? AS BIGINT), ?, ?, ?)")
				args = append(args, u.RecordID, mustJSON(u.Profile), u.LoginKey, u.EmailKey)
			}
			sql.WriteString(") AS v WHERE staged_records.id = v.column1")
			if err := tx.Exec(sql.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	}))
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
