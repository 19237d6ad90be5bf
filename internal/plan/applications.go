package plan

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// Application is an app that some user types reach and that will sign in through Okta.
type Application struct {
	ID              int64     `gorm:"primaryKey" json:"id"`
	ProjectID       int64     `json:"projectId"`
	Name            string    `json:"name"`
	NameKey         string    `json:"-"`
	AccessMethod    string    `json:"accessMethod"`
	UserTypeIDs     []int64   `gorm:"-" json:"userTypeIds"`
	AssignmentBasis string    `json:"assignmentBasis"`
	OINStatus       string    `gorm:"column:oin_status" json:"oinStatus"`
	OINLink         string    `gorm:"column:oin_link" json:"oinLink"`
	Notes           string    `json:"notes"`
	Version         int64     `json:"version"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// ApplicationInput creates or changes an application; nil fields keep their value.
type ApplicationInput struct {
	Name            *string  `json:"name"`
	AccessMethod    *string  `json:"accessMethod"`
	UserTypeIDs     *[]int64 `json:"userTypeIds"`
	AssignmentBasis *string  `json:"assignmentBasis"`
	OINStatus       *string  `json:"oinStatus"`
	OINLink         *string  `json:"oinLink"`
	Notes           *string  `json:"notes"`
}

func (a *Application) apply(in ApplicationInput) {
	a.Name = str(in.Name, a.Name)
	a.NameKey = nameKey(a.Name)
	a.AccessMethod = str(in.AccessMethod, a.AccessMethod)
	if in.UserTypeIDs != nil {
		a.UserTypeIDs = *in.UserTypeIDs
	}
	a.AssignmentBasis = str(in.AssignmentBasis, a.AssignmentBasis)
	a.OINStatus = str(in.OINStatus, a.OINStatus)
	a.OINLink = str(in.OINLink, a.OINLink)
	a.Notes = str(in.Notes, a.Notes)
}

func (a *Application) validate() error {
	c := apperr.NewCheck()
	c.Name("name", "Name", a.Name)
	c.OneOf("access_method", "Access method", a.AccessMethod, Values(AccessMethods()), false)
	c.OneOf("assignment_basis", "How access is assigned", a.AssignmentBasis, Values(AssignmentBases()), false)
	c.OneOf("oin_status", "OIN integration", a.OINStatus, Values(OINStatuses()), false)
	c.URL("oin_link", "OIN link", a.OINLink)
	c.Text("notes", "Notes", a.Notes, false, apperr.MaxTextLen)
	return c.Err()
}

func (a *Application) fields() []field {
	return []field{
		{"name", "Name", a.Name},
		{"accessMethod", "Access method", LabelOf(AccessMethods(), a.AccessMethod)},
		{"userTypeIds", "User types", fmt.Sprint(a.UserTypeIDs)},
		{"assignmentBasis", "How access is assigned", LabelOf(AssignmentBases(), a.AssignmentBasis)},
		{"oinStatus", "OIN integration", LabelOf(OINStatuses(), a.OINStatus)},
		{"oinLink", "OIN link", a.OINLink},
		{"notes", "Notes", a.Notes},
	}
}

func (in ApplicationInput) sent() map[string]bool {
	return map[string]bool{"name": in.Name != nil, "accessMethod": in.AccessMethod != nil, "userTypeIds": in.UserTypeIDs != nil,
		"assignmentBasis": in.AssignmentBasis != nil, "oinStatus": in.OINStatus != nil, "oinLink": in.OINLink != nil, "notes": in.Notes != nil}
}

// CreateApplication adds an application to a project.
func (s *Service) CreateApplication(ctx context.Context, projectID int64, in ApplicationInput) (*Application, error) {
	a := &Application{ProjectID: projectID, OINStatus: "unknown", Version: 1}
	a.apply(in)
	if err := a.validate(); err != nil {
		return nil, err
	}
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		ids, err := linkedUserTypes(tx, projectID, a.UserTypeIDs)
		if err != nil {
			return err
		}
		a.UserTypeIDs = ids
		if err := tx.Create(a).Error; err != nil {
			return duplicateName(err, "application")
		}
		if err := applicationLinks().replace(tx, a.ID, ids); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "application", EntityID: a.ID, Label: a.Name, After: a})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return a, nil
}

// FindApplicationByID returns one application of a project.
func (s *Service) FindApplicationByID(ctx context.Context, projectID, id int64) (*Application, error) {
	return findApplication(s.db.Read.WithContext(ctx), projectID, id)
}

func findApplication(q *gorm.DB, projectID, id int64) (*Application, error) {
	out, err := findWithUserTypes[Application](q, applicationLinks(), "project_id = ? AND id = ?", projectID, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, apperr.NotFound("application")
	}
	return &out[0], nil
}

// FindApplications lists a project's applications by name.
func (s *Service) FindApplications(ctx context.Context, projectID int64) ([]Application, error) {
	return findWithUserTypes[Application](s.db.Read.WithContext(ctx), applicationLinks(), "project_id = ?", projectID)
}

// UpdateApplication applies in if the application is still at version.
func (s *Service) UpdateApplication(ctx context.Context, projectID, id, version int64, in ApplicationInput) (*Application, error) {
	var out *Application
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		a, err := findApplication(tx, projectID, id)
		if err != nil {
			return err
		}
		before := *a
		a.apply(in)
		if before.Version != version {
			return apperr.VersionConflict("application", before.Version, conflictChanges(before.fields(), a.fields(), in.sent()))
		}
		if err := a.validate(); err != nil {
			return err
		}
		ids, err := linkedUserTypes(tx, projectID, a.UserTypeIDs)
		if err != nil {
			return err
		}
		a.UserTypeIDs = ids
		a.Version++
		// The record is the model, so that the updated_at gorm writes is the one answered.
		res := tx.Model(a).Where("id = ? AND version = ?", id, version).
			Select("name", "name_key", "access_method", "assignment_basis", "oin_status", "oin_link", "notes", "version", "updated_at").
			Updates(a)
		if res.Error != nil {
			return duplicateName(res.Error, "application")
		}
		if res.RowsAffected == 0 {
			return lostRace("application")
		}
		if err := applicationLinks().replace(tx, id, ids); err != nil {
			return err
		}
		out = a
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "application", EntityID: id, Label: a.Name, Before: before, After: a})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// DeleteApplication deletes an application.
func (s *Service) DeleteApplication(ctx context.Context, projectID, id int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		a, err := findApplication(tx, projectID, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(&Application{}, id).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "application", EntityID: id, Label: a.Name, Before: a})
	}))
}
