// Package plan owns a migration project and its inventory, the "gather
// information" part of Okta's planning guidance: user types and subgroups,
// source systems, applications, goals and strategy, and the readiness
// checklist and load estimate computed from them.
package plan

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db"
)

// Limits that keep numbers plausible: a bigger figure is a typo.
const (
	MaxUserCount     = 1_000_000_000
	MaxSubgroups     = 50
	MaxRateLimit     = 1_000_000
	maxLinkedRecords = 200
)

// MemberAdder makes the creator of a project its lead, inside the project's
// creation transaction.
type MemberAdder interface {
	AddMemberTx(ctx context.Context, tx *gorm.DB, projectID, accountID int64, role auth.Role) (*auth.Membership, error)
}

// Service is the plan service.
type Service struct {
	db      *db.DB
	members MemberAdder
}

// NewService returns a plan service.
func NewService(database *db.DB, members MemberAdder) *Service {
	return &Service{db: database, members: members}
}

// nameKey is the form of a name that uniqueness is checked on.
func nameKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// str returns *p or def.
func str(p *string, def string) string {
	if p == nil {
		return def
	}
	return strings.TrimSpace(*p)
}

// field is one editable field of a record, for version-conflict reports.
type field struct {
	name, label, value string
}

// conflictChanges lists, among the fields the caller sent, those whose stored
// value differs from the caller's.
func conflictChanges(stored, yours []field, sent map[string]bool) []apperr.FieldChange {
	var out []apperr.FieldChange
	for i, f := range stored {
		if sent[f.name] && f.value != yours[i].value {
			out = append(out, apperr.FieldChange{Field: f.name, Label: f.label, Stored: f.value, Yours: yours[i].value})
		}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func notFoundOr(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.NotFound(what)
	}
	return err
}

// wrap passes application errors through and turns anything else into an internal error.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return apperr.Internal(err)
}

// duplicateName turns a unique-index violation on a name into a field message.
func duplicateName(err error, what string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		where := " in this project"
		if what == "project" {
			where = "" // project names are unique across the console
		}
		return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"name": "Another " + what + where + " already has this name."})
	}
	return err
}

// linkedUserTypes checks that every id names a user type of projectID and
// returns them deduplicated, so that no record links across projects.
func linkedUserTypes(tx *gorm.DB, projectID int64, ids []int64) ([]int64, error) {
	seen := map[int64]bool{}
	var unique []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	// In id order, as they are read back, so that a write answers what a read returns.
	slices.Sort(unique)
	if len(unique) > maxLinkedRecords {
		return nil, apperr.Invalid("Please correct the highlighted fields.", map[string]string{"user_type_ids": "Too many user types selected."})
	}
	if len(unique) == 0 {
		return []int64{}, nil // a list in JSON, never null
	}
	var n int64
	if err := tx.Model(&UserType{}).Where("project_id = ? AND id IN ?", projectID, unique).Count(&n).Error; err != nil {
		return nil, err
	}
	if int(n) != len(unique) {
		return nil, apperr.Invalid("Please correct the highlighted fields.", map[string]string{"user_type_ids": "One of the selected user types does not belong to this project."})
	}
	return unique, nil
}

// lostRace is the conflict when another transaction saved the same version
// between our read and our write (possible on PostgreSQL, where writers do not
// queue as they do on SQLite): the conditional UPDATE matched no row.
func lostRace(what string) error {
	return apperr.VersionConflict(what, 0, nil)
}
