package staging

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"unsafe"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/db"
)

// Validation computes each record's Okta profile through the matrix and
// keeps it in staged_profiles with the uniqueness keys, indexed. These are
// the raw reads and writes it needs: it goes through millions of records.

// ValidationInput is a staged record as validation reads it: attributes and
// edits still encoded, with the profile stored by the last validation.
type ValidationInput struct {
	RecordID int64
	Position int64
	// Attributes and Edits are read-only: they share the memory of strings.
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
		// Scanned as strings, which the drivers hand over as they are; a
		// []byte would be one more copy of every record.
		var attrs, edits string
		if err := rows.Scan(&in.RecordID, &in.Position, &attrs, &edits, &in.Excluded, &in.Stored.Present,
			&in.Stored.JSON, &in.Stored.LoginKey, &in.Stored.EmailKey); err != nil {
			return nil, apperr.Internal(err)
		}
		in.Attributes, in.Edits = readOnlyBytes(attrs), readOnlyBytes(edits)
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// readOnlyBytes returns the bytes of s without a copy; they must never be
// modified.
func readOnlyBytes(s string) []byte {
	if s == "" {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// ProfileWrite is a record's newly computed profile.
type ProfileWrite struct {
	RecordID int64
	// JSON is the profile as AppendProfile encodes it (never nil); the
	// writer hands it to the driver without a copy.
	JSON     []byte
	LoginKey string
	EmailKey string
}

var profileUpsert = db.Bulk{Table: "staged_profiles",
	Columns: []string{"record_id", "profile_json", "login_key", "email_key"},
	Text:    []bool{false, true, false, false},
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

// Key kinds in staged_keys.
const (
	KeyLogin = "login"
	KeyEmail = "email"
)

// KeyEntry is one uniqueness key of one record.
type KeyEntry struct {
	ExtractID int64
	Kind      string
	Key       string
	RecordID  int64
}

func compareKeys(a, b KeyEntry) int {
	if c := cmp.Compare(a.ExtractID, b.ExtractID); c != 0 {
		return c
	}
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Key, b.Key); c != 0 {
		return c
	}
	return cmp.Compare(a.RecordID, b.RecordID)
}

var keyInsert = db.Bulk{Table: "staged_keys", Columns: []string{"extract_id", "kind", "key", "record_id"}}

// keyBatch is how many keys one transaction writes.
const keyBatch = 50_000

// SortKeys sorts keys in the order ReplaceKeys writes them.
func SortKeys(keys []KeyEntry) { slices.SortFunc(keys, compareKeys) }

// ReplaceKeys removes the given keys and adds others, in index order and
// in large transactions: the first validation of a million records adds a
// million keys, which in random order would rewrite most of the index at
// every commit. The keys to add come as runs (a page's each, say), each
// sorted in place unless it already is (SortKeys), then merged; remove is
// sorted in place.
func (s *Service) ReplaceKeys(ctx context.Context, remove []KeyEntry, add [][]KeyEntry) error {
	slices.SortFunc(remove, compareKeys)
	del := s.db.Bind("DELETE FROM staged_keys WHERE extract_id = ? AND kind = ? AND key = ? AND record_id = ?")
	for len(remove) > 0 {
		n := min(len(remove), keyBatch)
		err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			stmt, err := tx.PrepareContext(ctx, del)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, k := range remove[:n] {
				if _, err := stmt.ExecContext(ctx, k.ExtractID, k.Kind, k.Key, k.RecordID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return apperr.Internal(err)
		}
		remove = remove[n:]
	}
	// The merge runs on its own goroutine, a batch ahead of the inserts.
	m := newKeyMerge(add)
	batches := make(chan []any, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(batches)
		for m.len > 0 {
			n := min(m.len, keyBatch)
			values := make([]any, 0, n*len(keyInsert.Columns))
			for range n {
				k := m.next()
				values = append(values, k.ExtractID, k.Kind, k.Key, k.RecordID)
			}
			select {
			case batches <- values:
			case <-stop:
				return
			}
		}
	}()
	for values := range batches {
		if err := s.db.WriteTx(ctx, func(tx *sql.Tx) error { return s.db.InsertBulk(ctx, tx, keyInsert, values) }); err != nil {
			return apperr.Internal(err)
		}
	}
	return nil
}

// keyMerge yields the keys of sorted runs in order: a binary heap of the
// runs by their first key.
type keyMerge struct {
	runs [][]KeyEntry // the heap, non-empty runs only
	len  int          // keys left
}

func newKeyMerge(runs [][]KeyEntry) *keyMerge {
	m := &keyMerge{}
	for _, r := range runs {
		if len(r) == 0 {
			continue
		}
		if !slices.IsSortedFunc(r, compareKeys) {
			slices.SortFunc(r, compareKeys)
		}
		m.runs = append(m.runs, r)
		m.len += len(r)
	}
	for i := len(m.runs)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return m
}

// next returns the smallest key left; m.len must be positive.
func (m *keyMerge) next() KeyEntry {
	k := m.runs[0][0]
	m.len--
	if m.runs[0] = m.runs[0][1:]; len(m.runs[0]) == 0 {
		last := len(m.runs) - 1
		m.runs[0] = m.runs[last]
		m.runs[last] = nil
		m.runs = m.runs[:last]
	}
	if len(m.runs) > 0 {
		m.down(0)
	}
	return k
}

func (m *keyMerge) down(i int) {
	for {
		least := i
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < len(m.runs) && compareKeys(m.runs[c][0], m.runs[least][0]) < 0 {
				least = c
			}
		}
		if least == i {
			return
		}
		m.runs[i], m.runs[least] = m.runs[least], m.runs[i]
		i = least
	}
}

// RemoveKeys removes every uniqueness key of the extracts.
func (s *Service) RemoveKeys(ctx context.Context, extractIDs []int64) error {
	for _, id := range extractIDs {
		if _, err := s.db.WriteSQL().ExecContext(ctx, s.db.Bind("DELETE FROM staged_keys WHERE extract_id = ?"), id); err != nil {
			return apperr.Internal(err)
		}
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
// excluded, that share a key of the kind (KeyLogin, KeyEmail) with another
// such record, ordered by key. It runs on staged_keys' index.
func (s *Service) DuplicateKeys(ctx context.Context, projectID int64, kind string) ([]RecordRef, error) {
	if kind != KeyLogin && kind != KeyEmail {
		return nil, apperr.Internal(errors.New("staging: no uniqueness key " + kind))
	}
	// Keys held more than once (excluded records included: the index alone
	// answers), then their records, of which the excluded ones are dropped
	// below along with the keys that are then left with one record.
	current := "SELECT id FROM extracts WHERE project_id = ? AND status = ?"
	query := `SELECT k.record_id, e.source_id, r.position, k.key, r.excluded
		FROM staged_keys k JOIN staged_records r ON r.id = k.record_id JOIN extracts e ON e.id = k.extract_id
		WHERE k.extract_id IN (` + current + `) AND k.kind = ? AND k.key IN (
			SELECT key FROM staged_keys WHERE extract_id IN (` + current + `) AND kind = ? GROUP BY key HAVING COUNT(*) > 1)
		ORDER BY k.key, k.record_id`
	rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(query), projectID, StatusReady, kind, projectID, StatusReady, kind)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	defer rows.Close()
	var live []RecordRef
	for rows.Next() {
		var r RecordRef
		var excluded bool
		if err := rows.Scan(&r.RecordID, &r.SourceID, &r.Position, &r.Key, &excluded); err != nil {
			return nil, apperr.Internal(err)
		}
		if !excluded {
			live = append(live, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internal(err)
	}
	out := live[:0]
	for i := 0; i < len(live); {
		j := i
		for j < len(live) && live[j].Key == live[i].Key {
			j++
		}
		if j-i > 1 {
			out = append(out, live[i:j]...)
		}
		i = j
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
