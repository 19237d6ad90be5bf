package plan

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// Source is a system that holds user profile data today.
type Source struct {
	ID        int64  `gorm:"primaryKey" json:"id"`
	ProjectID int64  `json:"projectId"`
	Name      string `json:"name"`
	NameKey   string `json:"-"`
	Kind      string `json:"kind"`
	// UserTypeIDs are the user types whose people this source holds.
	UserTypeIDs []int64 `gorm:"-" json:"userTypeIds"`
	// AccessOwner is the person responsible for access to the system.
	AccessOwner        string    `json:"accessOwner"`
	AccessStatus       string    `json:"accessStatus"`
	AccessStatusDate   string    `json:"accessStatusDate"` // YYYY-MM-DD
	AccessReference    string    `json:"accessReference"`
	MigrateCredentials string    `json:"migrateCredentials"`
	MigrateGroups      string    `json:"migrateGroups"`
	MigrateMemberships string    `json:"migrateMemberships"`
	PasswordHashFormat string    `json:"passwordHashFormat"`
	Notes              string    `json:"notes"`
	Version            int64     `json:"version"`
	CreatedAt          time.Time `json:"createdAt"`
	UpdatedAt          time.Time `json:"updatedAt"`
}

// SourceInput creates or changes a source; nil fields keep their value.
type SourceInput struct {
	Name               *string  `json:"name"`
	Kind               *string  `json:"kind"`
	UserTypeIDs        *[]int64 `json:"userTypeIds"`
	AccessOwner        *string  `json:"accessOwner"`
	AccessStatus       *string  `json:"accessStatus"`
	AccessStatusDate   *string  `json:"accessStatusDate"`
	AccessReference    *string  `json:"accessReference"`
	MigrateCredentials *string  `json:"migrateCredentials"`
	MigrateGroups      *string  `json:"migrateGroups"`
	MigrateMemberships *string  `json:"migrateMemberships"`
	PasswordHashFormat *string  `json:"passwordHashFormat"`
	Notes              *string  `json:"notes"`
}

func (s *Source) apply(in SourceInput) {
	s.Name = str(in.Name, s.Name)
	s.NameKey = nameKey(s.Name)
	s.Kind = str(in.Kind, s.Kind)
	if in.UserTypeIDs != nil {
		s.UserTypeIDs = *in.UserTypeIDs
	}
	s.AccessOwner = str(in.AccessOwner, s.AccessOwner)
	s.AccessStatus = str(in.AccessStatus, s.AccessStatus)
	s.AccessStatusDate = str(in.AccessStatusDate, s.AccessStatusDate)
	s.AccessReference = str(in.AccessReference, s.AccessReference)
	s.MigrateCredentials = str(in.MigrateCredentials, s.MigrateCredentials)
	s.MigrateGroups = str(in.MigrateGroups, s.MigrateGroups)
	s.MigrateMemberships = str(in.MigrateMemberships, s.MigrateMemberships)
	s.PasswordHashFormat = str(in.PasswordHashFormat, s.PasswordHashFormat)
	s.Notes = str(in.Notes, s.Notes)
}

func (s *Source) validate() error {
	c := apperr.NewCheck()
	c.Name("name", "Name", s.Name)
	c.OneOf("kind", "Kind", s.Kind, Values(SourceKinds()), false)
	c.Text("access_owner", "Person responsible for access", s.AccessOwner, false, apperr.MaxNameLen)
	c.OneOf("access_status", "Access status", s.AccessStatus, Values(AccessStatuses()), false)
	if s.AccessStatusDate != "" {
		if _, err := time.Parse("2006-01-02", s.AccessStatusDate); err != nil {
			c.Add("access_status_date", "Date must be a calendar date (YYYY-MM-DD).")
		}
	}
	c.Text("access_reference", "Reference", s.AccessReference, false, apperr.MaxShortLen)
	c.OneOf("migrate_credentials", "Migrate credentials", s.MigrateCredentials, Values(Decisions()), false)
	c.OneOf("migrate_groups", "Migrate groups", s.MigrateGroups, Values(Decisions()), false)
	c.OneOf("migrate_memberships", "Migrate group memberships", s.MigrateMemberships, Values(Decisions()), false)
	c.OneOf("password_hash_format", "Password-hash format", s.PasswordHashFormat, Values(PasswordHashFormats()), true)
	if s.MigrateCredentials != DecisionYes && s.PasswordHashFormat != "" {
		c.Add("password_hash_format", "A password-hash format only applies when credentials are migrated.")
	}
	if s.MigrateMemberships == DecisionYes && s.MigrateGroups == DecisionNo {
		c.Add("migrate_memberships", "Group memberships can only migrate along with the groups.")
	}
	c.Text("notes", "Notes", s.Notes, false, apperr.MaxTextLen)
	return c.Err()
}

func (s *Source) fields() []field {
	return []field{
		{"name", "Name", s.Name},
		{"kind", "Kind", LabelOf(SourceKinds(), s.Kind)},
		{"userTypeIds", "User types", fmt.Sprint(s.UserTypeIDs)},
		{"accessOwner", "Person responsible for access", s.AccessOwner},
		{"accessStatus", "Access status", LabelOf(AccessStatuses(), s.AccessStatus)},
		{"accessStatusDate", "Access status date", s.AccessStatusDate},
		{"accessReference", "Reference", s.AccessReference},
		{"migrateCredentials", "Migrate credentials", LabelOf(Decisions(), s.MigrateCredentials)},
		{"migrateGroups", "Migrate groups", LabelOf(Decisions(), s.MigrateGroups)},
		{"migrateMemberships", "Migrate group memberships", LabelOf(Decisions(), s.MigrateMemberships)},
		{"passwordHashFormat", "Password-hash format", LabelOf(PasswordHashFormats(), s.PasswordHashFormat)},
		{"notes", "Notes", s.Notes},
	}
}

func (in SourceInput) sent() map[string]bool {
	return map[string]bool{"name": in.Name != nil, "kind": in.Kind != nil, "userTypeIds": in.UserTypeIDs != nil,
		"accessOwner": in.AccessOwner != nil, "accessStatus": in.AccessStatus != nil, "accessStatusDate": in.AccessStatusDate != nil,
		"accessReference": in.AccessReference != nil, "migrateCredentials": in.MigrateCredentials != nil,
		"migrateGroups": in.MigrateGroups != nil, "migrateMemberships": in.MigrateMemberships != nil,
		"passwordHashFormat": in.PasswordHashFormat != nil, "notes": in.Notes != nil}
}

// CreateSource adds a source system to a project.
func (s *Service) CreateSource(ctx context.Context, projectID int64, in SourceInput) (*Source, error) {
	src := &Source{ProjectID: projectID, AccessStatus: AccessNotRequested, MigrateCredentials: DecisionUndecided,
		MigrateGroups: DecisionUndecided, MigrateMemberships: DecisionUndecided, Version: 1}
	src.apply(in)
	if err := src.validate(); err != nil {
		return nil, err
	}
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		ids, err := linkedUserTypes(tx, projectID, src.UserTypeIDs)
		if err != nil {
			return err
		}
		src.UserTypeIDs = ids
		if err := tx.Create(src).Error; err != nil {
			return duplicateName(err, "source")
		}
		if err := sourceLinks().replace(tx, src.ID, ids); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "source", EntityID: src.ID, Label: src.Name, After: src})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return src, nil
}

// FindSourceByID returns one source of a project.
func (s *Service) FindSourceByID(ctx context.Context, projectID, id int64) (*Source, error) {
	return findSource(s.db.Read.WithContext(ctx), projectID, id)
}

func findSource(q *gorm.DB, projectID, id int64) (*Source, error) {
	out, err := findWithUserTypes[Source](q, sourceLinks(), "project_id = ? AND id = ?", projectID, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, apperr.NotFound("source")
	}
	return &out[0], nil
}

// FindSources lists a project's sources by name.
func (s *Service) FindSources(ctx context.Context, projectID int64) ([]Source, error) {
	return findWithUserTypes[Source](s.db.Read.WithContext(ctx), sourceLinks(), "project_id = ?", projectID)
}

// UpdateSource applies in if the source is still at version.
func (s *Service) UpdateSource(ctx context.Context, projectID, id, version int64, in SourceInput) (*Source, error) {
	var out *Source
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		src, err := findSource(tx, projectID, id)
		if err != nil {
			return err
		}
		before := *src
		src.apply(in)
		if before.Version != version {
			return apperr.VersionConflict("source", before.Version, conflictChanges(before.fields(), src.fields(), in.sent()))
		}
		if err := src.validate(); err != nil {
			return err
		}
		ids, err := linkedUserTypes(tx, projectID, src.UserTypeIDs)
		if err != nil {
			return err
		}
		src.UserTypeIDs = ids
		src.Version++
		// The record is the model, so that the updated_at gorm writes is the one answered.
		res := tx.Model(src).Where("id = ? AND version = ?", id, version).
			Select("name", "name_key", "kind", "access_owner", "access_status", "access_status_date", "access_reference",
				"migrate_credentials", "migrate_groups", "migrate_memberships", "password_hash_format", "notes", "version", "updated_at").
			Updates(src)
		if res.Error != nil {
			return duplicateName(res.Error, "source")
		}
		if res.RowsAffected == 0 {
			return lostRace("source")
		}
		if err := sourceLinks().replace(tx, id, ids); err != nil {
			return err
		}
		out = src
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "source", EntityID: id, Label: src.Name, Before: before, After: src})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// DeleteSource deletes a source system.
func (s *Service) DeleteSource(ctx context.Context, projectID, id int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		src, err := findSource(tx, projectID, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(&Source{}, id).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "source", EntityID: id, Label: src.Name, Before: src})
	}))
}

// SourceNames maps the ids of a project's sources to their names.
func (s *Service) SourceNames(ctx context.Context, projectID int64) (map[int64]string, error) {
	var rows []struct {
		ID   int64
		Name string
	}
	if err := s.db.Read.WithContext(ctx).Model(&Source{}).Select("id, name").Where("project_id = ?", projectID).Scan(&rows).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}
