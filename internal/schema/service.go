package schema

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/db"
)

// Service keeps each project's profile settings and custom attributes.
type Service struct {
	db *db.DB
}

// NewService returns a schema service.
func NewService(database *db.DB) *Service {
	return &Service{db: database}
}

// Attributes returns the project's target attributes: the 31 base ones in
// catalog order, then the custom ones by name, with the project's settings
// applied (email and secondEmail unique when configured, login's pattern).
func (s *Service) Attributes(ctx context.Context, projectID int64) ([]Attribute, error) {
	settings, err := s.FindSettings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	custom, err := s.FindCustomAttributes(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := make([]Attribute, 0, 31+len(custom))
	for _, a := range Base() {
		out = append(out, settings.apply(a))
	}
	for _, c := range custom {
		out = append(out, c.Attribute())
	}
	return out, nil
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

// lostRace is the conflict when another transaction saved the same version
// between our read and our write: the conditional UPDATE matched no row.
func lostRace(what string) error {
	return apperr.VersionConflict(what, 0, nil)
}

// projectExists reports whether the project is there (profile settings and
// custom attributes hang off it).
func projectExists(q *gorm.DB, projectID int64) (bool, error) {
	var n int64
	if err := q.Table("projects").Where("id = ?", projectID).Count(&n).Error; err != nil {
		return false, err
	}
	return n > 0, nil
}
