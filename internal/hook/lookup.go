package hook

import (
	"context"
	"log/slog"
	"strings"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// maxCandidates bounds the records one username may match (and so the
// verifications one call may cost).
const maxCandidates = 5

// candidate is one staged record that may hold the person's legacy
// credential; hash is nil when it holds none Ferry can check.
type candidate struct {
	projectID, sourceID, recordID int64
	hash                          *hashes.Hash
}

type extractOf struct{ projectID, sourceID int64 }

// candidates maps what the person typed to the legacy identity, over the
// current extracts of every project the hook serves: first by login, as
// Okta compares logins (staged_keys, kind login: case and accents
// ignored); else by the source's key (a short name, an employee number),
// ignoring case. Records that share a login are one person (one Okta user)
// and are all tried; records that share only a source key but have
// different logins are different people, and none is tried (cause
// ambiguous): a password that fits one of them must not open the other's
// account. Excluded records are never candidates.
func (s *Service) candidates(ctx context.Context, c *Config, username, loginKey string) ([]candidate, string, error) {
	var projectIDs []int64
	if err := s.db.Read.WithContext(ctx).Model(&hookProject{}).Where("hook_id = ?", c.ID).Order("project_id").Pluck("project_id", &projectIDs).Error; err != nil {
		return nil, "", err
	}
	extracts := map[int64]extractOf{}
	var ids []int64
	for _, pid := range projectIDs {
		list, err := s.deps.Extracts.CurrentExtracts(ctx, pid)
		if err != nil {
			return nil, "", err
		}
		for _, e := range list {
			extracts[e.ID] = extractOf{projectID: pid, sourceID: e.SourceID}
			ids = append(ids, e.ID)
		}
	}
	if len(ids) == 0 {
		return nil, CauseNoUser, nil
	}
	q := s.db.Read.WithContext(ctx)
	var recordIDs []int64
	if err := q.Table("staged_keys").Where("extract_id IN ? AND kind = ? AND key = ?", ids, staging.KeyLogin, loginKey).
		Order("record_id").Limit(maxCandidates*4).Pluck("record_id", &recordIDs).Error; err != nil {
		return nil, "", err
	}
	byLogin := len(recordIDs) > 0
	if !byLogin {
		keys := []string{strings.ToLower(strings.TrimSpace(username))}
		if loginKey != keys[0] {
			keys = append(keys, loginKey)
		}
		if err := q.Table("staged_records").Where("extract_id IN ? AND source_key IN ? AND excluded = ?", ids, keys, false).
			Order("id").Limit(maxCandidates*4).Pluck("id", &recordIDs).Error; err != nil {
			return nil, "", err
		}
	}
	if len(recordIDs) == 0 {
		return nil, CauseNoUser, nil
	}
	var records []staging.StagedRecord
	if err := q.Where("id IN ? AND excluded = ?", recordIDs, false).Order("id").Find(&records).Error; err != nil {
		return nil, "", err
	}
	if len(records) == 0 {
		return nil, CauseNoUser, nil
	}
	if !byLogin && len(records) > 1 {
		ambiguous, err := s.differentPeople(ctx, records)
		if err != nil {
			return nil, "", err
		}
		if ambiguous {
			return nil, CauseAmbiguous, nil
		}
	}
	if len(records) > maxCandidates {
		records = records[:maxCandidates]
	}
	settings := map[int64]*credentials.Settings{}
	var out []candidate
	for _, r := range records {
		ex := extracts[r.ExtractID]
		cand := candidate{projectID: ex.projectID, sourceID: ex.sourceID, recordID: r.ID}
		set, seen := settings[ex.sourceID]
		if !seen {
			var err error
			if set, err = s.deps.Passwords.Find(ctx, ex.projectID, ex.sourceID); err != nil {
				return nil, "", err
			}
			settings[ex.sourceID] = set
		}
		if set != nil {
			if stored, ok := set.Stored(r.Effective()); ok {
				h, err := set.Source().Parse(stored)
				if err == nil {
					cand.hash = &h
				} else {
					// hashes' messages never hold a password, digest or salt.
					s.log.WarnContext(ctx, "password import hook: a stored credential cannot be read", slog.Int64("hook", c.ID),
						slog.Int64("source", ex.sourceID), slog.Int64("record", r.ID), slog.String("error", err.Error()))
				}
			}
		}
		out = append(out, cand)
	}
	return out, "", nil
}

// differentPeople reports whether records found by a source key have
// different logins (as validation last computed them; a record without a
// computed login counts as a person of its own).
func (s *Service) differentPeople(ctx context.Context, records []staging.StagedRecord) (bool, error) {
	ids := make([]int64, len(records))
	for i, r := range records {
		ids[i] = r.ID
	}
	var rows []struct {
		RecordID int64
		LoginKey string
	}
	if err := s.db.Read.WithContext(ctx).Table("staged_profiles").Select("record_id, login_key").Where("record_id IN ?", ids).Scan(&rows).Error; err != nil {
		return false, err
	}
	logins := map[int64]string{}
	for _, r := range rows {
		logins[r.RecordID] = r.LoginKey
	}
	first, ok := logins[records[0].ID]
	if !ok || first == "" {
		return true, nil
	}
	for _, r := range records[1:] {
		if logins[r.ID] != first {
			return true, nil
		}
	}
	return false, nil
}
