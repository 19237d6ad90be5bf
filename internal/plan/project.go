package plan

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
)

// Project is one migration into one Okta org.
type Project struct {
	ID                    int64     `gorm:"primaryKey" json:"id"`
	Name                  string    `json:"name"`
	NameKey               string    `json:"-"`
	Description           string    `json:"description"`
	OktaOrgURL            string    `json:"oktaOrgUrl"`
	MigrationType         string    `json:"migrationType"`
	Status                string    `json:"status"`
	UserCreationRateLimit int       `json:"userCreationRateLimit"`
	LoadRateSharePercent  int       `json:"loadRateSharePercent"`
	Version               int64     `json:"version"`
	CreatedAt             time.Time `json:"createdAt"`
	UpdatedAt             time.Time `json:"updatedAt"`
}

// ProjectInput creates or changes a project; nil fields keep their value (or
// the default, on create).
type ProjectInput struct {
	Name                  *string `json:"name"`
	Description           *string `json:"description"`
	OktaOrgURL            *string `json:"oktaOrgUrl"`
	MigrationType         *string `json:"migrationType"`
	Status                *string `json:"status"`
	UserCreationRateLimit *int    `json:"userCreationRateLimit"`
	LoadRateSharePercent  *int    `json:"loadRateSharePercent"`
}

func (p *Project) apply(in ProjectInput) {
	p.Name = str(in.Name, p.Name)
	p.NameKey = nameKey(p.Name)
	p.Description = str(in.Description, p.Description)
	p.OktaOrgURL = str(in.OktaOrgURL, p.OktaOrgURL)
	p.MigrationType = str(in.MigrationType, p.MigrationType)
	p.Status = str(in.Status, p.Status)
	if in.UserCreationRateLimit != nil {
		p.UserCreationRateLimit = *in.UserCreationRateLimit
	}
	if in.LoadRateSharePercent != nil {
		p.LoadRateSharePercent = *in.LoadRateSharePercent
	}
}

func (p *Project) validate() error {
	c := apperr.NewCheck()
	c.Name("name", "Name", p.Name)
	c.Text("description", "Description", p.Description, false, apperr.MaxTextLen)
	c.URL("okta_org_url", "Okta org URL", p.OktaOrgURL)
	c.OneOf("migration_type", "Migration type", p.MigrationType, Values(MigrationTypes()), false)
	c.OneOf("status", "Status", p.Status, Values(ProjectStatuses()), false)
	if p.UserCreationRateLimit < 1 || p.UserCreationRateLimit > MaxRateLimit {
		c.Add("user_creation_rate_limit", fmt.Sprintf("User-creation rate limit must be between 1 and %d per minute.", MaxRateLimit))
	}
	if p.LoadRateSharePercent < 1 || p.LoadRateSharePercent > 100 {
		c.Add("load_rate_share_percent", "Share of the rate limit must be between 1 and 100 percent.")
	}
	return c.Err()
}

func (p *Project) fields() []field {
	return []field{
		{"name", "Name", p.Name},
		{"description", "Description", p.Description},
		{"oktaOrgUrl", "Okta org URL", p.OktaOrgURL},
		{"migrationType", "Migration type", LabelOf(MigrationTypes(), p.MigrationType)},
		{"status", "Status", LabelOf(ProjectStatuses(), p.Status)},
		{"userCreationRateLimit", "User-creation rate limit", fmt.Sprint(p.UserCreationRateLimit)},
		{"loadRateSharePercent", "Share of the rate limit", fmt.Sprint(p.LoadRateSharePercent)},
	}
}

func (in ProjectInput) sent() map[string]bool {
	return map[string]bool{"name": in.Name != nil, "description": in.Description != nil, "oktaOrgUrl": in.OktaOrgURL != nil,
		"migrationType": in.MigrationType != nil, "status": in.Status != nil,
		"userCreationRateLimit": in.UserCreationRateLimit != nil, "loadRateSharePercent": in.LoadRateSharePercent != nil}
}

// CreateProject creates a project and makes leadID its project lead.
func (s *Service) CreateProject(ctx context.Context, leadID int64, in ProjectInput) (*Project, error) {
	p := &Project{MigrationType: MigrationOneTime, Status: "planning", UserCreationRateLimit: 600, LoadRateSharePercent: 80, Version: 1}
	p.apply(in)
	if err := p.validate(); err != nil {
		return nil, err
	}
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(p).Error; err != nil {
			return duplicateName(err, "project")
		}
		if err := tx.Create(&Goals{ProjectID: p.ID, Version: 1}).Error; err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Change{ProjectID: p.ID, Action: audit.ActionCreate, EntityType: "project", EntityID: p.ID, Label: p.Name, After: p}); err != nil {
			return err
		}
		_, err := s.members.AddMemberTx(ctx, tx, p.ID, leadID, auth.RoleProjectLead)
		return err
	})
	if err != nil {
		return nil, wrap(err)
	}
	return p, nil
}

// FindProjectByID returns one project.
func (s *Service) FindProjectByID(ctx context.Context, id int64) (*Project, error) {
	var p Project
	if err := s.db.Read.WithContext(ctx).First(&p, id).Error; err != nil {
		return nil, wrap(notFoundOr(err, "project"))
	}
	return &p, nil
}

// FindProjects lists projects by name: all of them when ids is nil, else those in ids.
func (s *Service) FindProjects(ctx context.Context, ids []int64) ([]Project, error) {
	q := s.db.Read.WithContext(ctx).Order("name_key")
	if ids != nil {
		if len(ids) == 0 {
			return nil, nil
		}
		q = q.Where("id IN ?", ids)
	}
	var out []Project
	if err := q.Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// UpdateProject applies in if the project is still at version.
func (s *Service) UpdateProject(ctx context.Context, id, version int64, in ProjectInput) (*Project, error) {
	var out Project
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var p Project
		if err := tx.First(&p, id).Error; err != nil {
			return notFoundOr(err, "project")
		}
		before := p
		p.apply(in)
		if before.Version != version {
			return apperr.VersionConflict("project", before.Version, conflictChanges(before.fields(), p.fields(), in.sent()))
		}
		if err := p.validate(); err != nil {
			return err
		}
		p.Version++
		// The record is the model, so that the updated_at gorm writes is the one answered.
		res := tx.Model(&p).Where("id = ? AND version = ?", id, version).
			Select("name", "name_key", "description", "okta_org_url", "migration_type", "status", "user_creation_rate_limit", "load_rate_share_percent", "version", "updated_at").
			Updates(&p)
		if res.Error != nil {
			return duplicateName(res.Error, "project")
		}
		if res.RowsAffected == 0 {
			return lostRace("project")
		}
		out = p
		return audit.Record(ctx, tx, audit.Change{ProjectID: id, Action: audit.ActionUpdate, EntityType: "project", EntityID: id, Label: p.Name, Before: before, After: p})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}

// DeleteProject deletes a project and everything in it. confirmName must
// repeat the project's name, so that nobody deletes the wrong one by a slip.
func (s *Service) DeleteProject(ctx context.Context, id int64, confirmName string) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var p Project
		if err := tx.First(&p, id).Error; err != nil {
			return notFoundOr(err, "project")
		}
		if strings.TrimSpace(confirmName) != p.Name {
			return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"confirm_name": "Type the project's name exactly to confirm."})
		}
		if err := tx.Delete(&Project{}, id).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: id, Action: audit.ActionDelete, EntityType: "project", EntityID: id, Label: p.Name, Before: p})
	}))
}
