package staging

import (
	"context"
	"encoding/json"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/staging/attrjson"
)

// eraseBatch is how many records one transaction of an erase rewrites.
const eraseBatch = 500

// EraseAttributes removes the named attributes (matched ignoring case) for
// good from every staged record of the source, in every extract — from
// the record's attributes and from Ferry's edits — and from the extracts'
// column samples: the end of a migration program erases the legacy
// password hashes so. Records are rewritten a batch per transaction, so a
// record is rewritten whole or not at all, and each one's version moves on
// (an edit form opened before cannot write a value back unnoticed). An
// interrupted erase is finished by running it again; erasing twice changes
// nothing. It returns how many records lost a value and how many extracts
// were gone through.
func (s *Service) EraseAttributes(ctx context.Context, projectID, sourceID int64, names []string) (records, extracts int64, err error) {
	var ids []int64
	if err := s.db.Read.WithContext(ctx).Model(&Extract{}).Where("project_id = ? AND source_id = ?", projectID, sourceID).
		Order("id").Pluck("id", &ids).Error; err != nil {
		return 0, 0, apperr.Internal(err)
	}
	for _, id := range ids {
		n, err := s.eraseExtract(ctx, id, names)
		if err != nil {
			return records, extracts, apperr.Internal(err)
		}
		records += n
		extracts++
	}
	return records, extracts, nil
}

// dropNamed deletes m's keys that match a name ignoring case.
func dropNamed(m map[string][]string, names []string) bool {
	changed := false
	for k := range m {
		for _, n := range names {
			if strings.EqualFold(k, n) {
				delete(m, k)
				changed = true
				break
			}
		}
	}
	return changed
}

func (s *Service) eraseExtract(ctx context.Context, extractID int64, names []string) (int64, error) {
	var erased, after int64
	for {
		var last, n int64
		err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
			var recs []StagedRecord
			if err := tx.Select("id, attributes_json, edits_json").Where("extract_id = ? AND id > ?", extractID, after).
				Order("id").Limit(eraseBatch).Find(&recs).Error; err != nil {
				return err
			}
			for i := range recs {
				r := &recs[i]
				last = r.ID
				a, e := dropNamed(r.Attributes, names), dropNamed(r.Edits, names)
				if !a && !e {
					continue
				}
				edits := []byte("{}")
				if r.Edits != nil {
					edits = attrjson.Append(nil, r.Edits)
				}
				if err := tx.Model(&StagedRecord{}).Where("id = ?", r.ID).Updates(map[string]any{
					"attributes_json": string(attrjson.Append(nil, r.Attributes)), "edits_json": string(edits),
					"version": gorm.Expr("version + 1")}).Error; err != nil {
					return err
				}
				n++
			}
			if len(recs) < eraseBatch {
				last = 0
			}
			return nil
		})
		if err != nil {
			return erased, err
		}
		erased += n
		if last == 0 {
			break
		}
		after = last
	}
	// Column samples never hold a value of an attribute whose name looks
	// like a credential; the names given may not look like one.
	return erased, s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var ex Extract
		if err := tx.Select("id, columns_json").Where("id = ?", extractID).First(&ex).Error; err != nil {
			return err
		}
		changed := false
		for i, col := range ex.Columns {
			for _, n := range names {
				if strings.EqualFold(col.Name, n) && len(col.Samples) > 0 {
					ex.Columns[i].Samples = []string{}
					changed = true
				}
			}
		}
		if !changed {
			return nil
		}
		b, err := json.Marshal(ex.Columns)
		if err != nil {
			return err
		}
		return tx.Model(&Extract{}).Where("id = ?", extractID).Update("columns_json", string(b)).Error
	})
}
