package load

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// WriteFailedCSV writes the failed users of a run in the staging input
// format (a CSV of the source's own columns, with Ferry's edits applied), so
// that they can be fixed and staged as the next run's input. Password
// columns are left out: a browser download is no place for hashes.
func (s *Service) WriteFailedCSV(ctx context.Context, runID int64, w io.Writer) error {
	var items []Item
	if err := s.db.Read.WithContext(ctx).Where("run_id = ? AND state = ?", runID, StateFailed).Order("seq").Find(&items).Error; err != nil {
		return apperr.Internal(err)
	}
	rows := make([]map[string][]string, 0, len(items))
	columns := map[string]bool{}
	for _, it := range items {
		rec := s.recordOf(ctx, it)
		for k := range rec {
			if !staging.IsCredentialAttribute(k) {
				columns[k] = true
			}
		}
		rows = append(rows, rec)
	}
	header := make([]string, 0, len(columns))
	for k := range columns {
		header = append(header, k)
	}
	sort.Strings(header)
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, rec := range rows {
		line := make([]string, len(header))
		for i, k := range header {
			line[i] = safeCell(strings.Join(rec[k], "; "))
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// recordOf is an item's staged record (attributes with edits), or its Okta
// profile when the record is gone (re-staged since).
func (s *Service) recordOf(ctx context.Context, it Item) map[string][]string {
	if it.RecordID != nil {
		var row struct {
			Attributes []byte `gorm:"column:attributes_json"`
			Edits      []byte `gorm:"column:edits_json"`
		}
		err := s.db.Read.WithContext(ctx).Table("staged_records").Select("attributes_json, edits_json").Where("id = ?", *it.RecordID).Take(&row).Error
		if err == nil {
			return recordAttributes(candidate{Attributes: row.Attributes, Edits: row.Edits})
		}
	}
	var p map[string]any
	_ = json.Unmarshal([]byte(it.ProfileJSON), &p)
	out := map[string][]string{}
	for k, v := range p {
		b, _ := json.Marshal(v)
		out[k] = []string{strings.Trim(string(b), `"`)}
	}
	return out
}

// safeCell keeps a spreadsheet from reading a value as a formula (OWASP's
// advice for CSV injection).
func safeCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// WriteExportJSON writes what a rollback exported: each user as Okta had it.
func (s *Service) WriteExportJSON(ctx context.Context, runID int64, w io.Writer) error {
	items, err := s.ExportedUsers(ctx, runID)
	if err != nil {
		return err
	}
	users := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		users = append(users, json.RawMessage(it.ExportJSON))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{"runId": runID, "users": users})
}

// WriteExportCSV writes what a rollback exported as a CSV: id, status,
// dates and every profile attribute.
func (s *Service) WriteExportCSV(ctx context.Context, runID int64, w io.Writer) error {
	items, err := s.ExportedUsers(ctx, runID)
	if err != nil {
		return err
	}
	users := make([]okta.User, 0, len(items))
	attrs := map[string]bool{}
	for _, it := range items {
		var u okta.User
		if json.Unmarshal([]byte(it.ExportJSON), &u) != nil {
			continue
		}
		for k := range u.Profile {
			attrs[k] = true
		}
		users = append(users, u)
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	// login and email first, then the rest by name.
	slices.SortFunc(names, func(a, b string) int {
		rank := func(s string) int {
			switch s {
			case "login":
				return 0
			case "email":
				return 1
			}
			return 2
		}
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	cw := csv.NewWriter(w)
	header := append([]string{"id", "status", "created"}, names...)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, u := range users {
		line := []string{u.ID, u.Status, u.Created.UTC().Format("2006-01-02T15:04:05Z")}
		for _, k := range names {
			v := ""
			if raw, ok := u.Profile[k]; ok && raw != nil {
				if s, ok := raw.(string); ok {
					v = s
				} else {
					b, _ := json.Marshal(raw)
					v = string(b)
				}
			}
			line = append(line, safeCell(v))
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
