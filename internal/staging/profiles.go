package staging

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/db"
)

// Validation computes each record's Okta profile through the matrix and
// keeps it in staged_profiles with the uniqueness keys, indexed. These are
// the raw reads and writes it needs: it goes through millions of records.

// ValidationInput is a staged record as validation reads it: attributes and
// edits still encoded, with the profile stored by the last validation.
type ValidationInput struct {
	RecordID   int64
	Position   int64
	Attributes []byte
	Edits      []byte
	Excluded   bool
	Stored     StoredProfile
}

// StoredProfile is a record's profile as the last validation stored it
// (Present false: none yet).
type StoredProfile struct {
	Present  bool
	JSON     string
	LoginKey string
	EmailKey string
}

// ReadForValidation returns up to limit records of an extract after the
// given id, in id order (keyset paging: no read transaction stays open
// between pages).
func (s *Service) ReadForValidation(ctx context.Context, extractID, afterID int64, limit int) ([]ValidationInput, error) {
	rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT r.id, r.position, r.attributes_json, r.edits_json, r.excluded,
		p.record_id IS NOT NULL, COALESCE(p.profile_json, ''), COALESCE(p.login_key, ''), COALESCE(p.email_key, '')
		FROM staged_records r LEFT JOIN staged_profiles p ON p.record_id = r.id
		WHERE r.extract_id = ? AND r.id > ? ORDER BY r.id LIMIT ?`), extractID, afterID, limit)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	defer rows.Close()
	out := make([]ValidationInput, 0, limit)
	for rows.Next() {
		var in ValidationInput
		if err := rows.Scan(&in.RecordID, &in.Position, &in.Attributes, &in.Edits, &in.Excluded, &in.Stored.Present,
			&in.Stored.JSON, &in.Stored.LoginKey, &in.Stored.EmailKey); err != nil {
			return nil, apperr.Internal(err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// ProfileWrite is a record's newly computed profile.
type ProfileWrite struct {
	RecordID int64
	JSON     string
	LoginKey string
	EmailKey string
}

var profileUpsert = db.Bulk{Table: "staged_profiles",
	Columns: []string{"record_id", "profile_json", "login_key", "email_key"},
	Suffix:  "ON CONFLICT (record_id) DO UPDATE SET profile_json = excluded.profile_json, login_key = excluded.login_key, email_key = excluded.email_key"}

// WriteProfiles stores profiles (inserted, or replacing the stored ones) in
// the caller's transaction.
func (s *Service) WriteProfiles(ctx context.Context, tx *sql.Tx, profiles []ProfileWrite) error {
	if len(profiles) == 0 {
		return nil
	}
	values := make([]any, 0, len(profiles)*len(profileUpsert.Columns))
	for _, p := range profiles {
		values = append(values, p.RecordID, p.JSON, p.LoginKey, p.EmailKey)
	}
	return s.db.InsertBulk(ctx, tx, profileUpsert, values)
}

// FindProfileJSON returns a record's Okta profile (JSON) as the last
// validation computed it, or "" when none has yet. Whether it is current is
// the validation run's business: see quality.Run.MatrixDigest.
func (s *Service) FindProfileJSON(ctx context.Context, recordID int64) (string, error) {
	var out string
	err := s.db.ReadSQL().QueryRowContext(ctx, s.db.Bind("SELECT profile_json FROM staged_profiles WHERE record_id = ?"), recordID).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", apperr.Internal(err)
	}
	return out, nil
}

// RecordRef names a staged record for a duplicate report.
type RecordRef struct {
	RecordID int64
	SourceID int64
	Position int64
	Key      string
}

// DuplicateKeys finds the records of the project's current extracts, not
// excluded, whose stored profile shares a login key (column "login") or an
// email key ("email") with another one. It runs on the indexed key columns.
func (s *Service) DuplicateKeys(ctx context.Context, projectID int64, column string) ([]RecordRef, error) {
	var col string
	switch column {
	case "login":
		col = "login_key"
	case "email":
		col = "email_key"
	default:
		return nil, apperr.Internal(errors.New("staging: no uniqueness key " + column))
	}
	// The keys shared within the project's current extracts, then their
	// records. The key condition repeats the partial index's, so that the
	// index serves the query.
	live := "r.extract_id IN (SELECT id FROM extracts WHERE project_id = ? AND status = ?) AND r.excluded = ? AND p." + col + " <> ''"
	query := `SELECT p.record_id, e.source_id, r.position, p.` + col + `
		FROM staged_profiles p JOIN staged_records r ON r.id = p.record_id JOIN extracts e ON e.id = r.extract_id
		WHERE ` + live + ` AND p.` + col + ` IN (
			SELECT p.` + col + ` FROM staged_profiles p JOIN staged_records r ON r.id = p.record_id
			WHERE ` + live + ` GROUP BY p.` + col + ` HAVING COUNT(*) > 1)
		ORDER BY p.` + col + `, p.record_id`
	rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(query), projectID, StatusReady, false, projectID, StatusReady, false)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	defer rows.Close()
	var out []RecordRef
	for rows.Next() {
		var r RecordRef
		if err := rows.Scan(&r.RecordID, &r.SourceID, &r.Position, &r.Key); err != nil {
			return nil, apperr.Internal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
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
