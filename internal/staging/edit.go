package staging

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// MaxEditValueLen bounds one edited value.
const MaxEditValueLen = 10_000

// EditRecord fixes a staged record in Ferry: each attribute in edits gets
// the given value (an empty value clears Ferry's edit, and the source's value
// counts again). The edit is audited and survives a re-staging of the source.
func (s *Service) EditRecord(ctx context.Context, projectID, recordID, version int64, edits map[string]string) (*StagedRecord, error) {
	c := apperr.NewCheck()
	if len(edits) == 0 {
		c.Add("edits", "Change at least one attribute.")
	}
	for name, v := range edits {
		c.Text("edits", "Attribute name", name, true, 200)
		c.Text("edits", fmt.Sprintf("The value of %s", name), v, false, MaxEditValueLen)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	var out StagedRecord
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var rec StagedRecord
		err := tx.Joins("JOIN extracts ON extracts.id = staged_records.extract_id").
			Where("staged_records.id = ? AND extracts.project_id = ? AND extracts.status = ?", recordID, projectID, StatusReady).First(&rec).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.NotFound("staged record")
		}
		if err != nil {
			return err
		}
		if rec.Version != version {
			return apperr.VersionConflict("record", rec.Version, nil)
		}
		before := map[string][]string{}
		for k, v := range rec.Edits {
			before[k] = v
		}
		if rec.Edits == nil {
			rec.Edits = map[string][]string{}
		}
		for name, v := range edits {
			if strings.TrimSpace(v) == "" {
				delete(rec.Edits, name)
			} else {
				rec.Edits[name] = []string{v}
			}
		}
		rec.Edited = len(rec.Edits) > 0
		res := tx.Model(&StagedRecord{}).Where("id = ? AND version = ?", rec.ID, version).
			Updates(map[string]any{"edits_json": mustJSON(rec.Edits), "edited": rec.Edited, "version": version + 1})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.VersionConflict("record", 0, nil)
		}
		rec.Version = version + 1
		out = rec
		// The audit log keeps which attributes changed, not their values: they may be personal data.
		names := make([]string, 0, len(edits))
		for name := range edits {
			names = append(names, name)
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "staged_record", EntityID: rec.ID,
			Label: "record " + rec.SourceKey, Before: map[string]any{"edited": keys(before)}, After: map[string]any{"edited": keys(rec.Edits), "changed": names}})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// RecordPIIView audits that the actor in ctx was shown a source's staged
// records with their personal data unmasked; where names the page or export.
func (s *Service) RecordPIIView(ctx context.Context, projectID, sourceID int64, where string) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionView, EntityType: "source", EntityID: sourceID,
			Label: "unmasked personal data in " + truncate(where, 200), After: map[string]any{"where": truncate(where, 200)}})
	}))
}
