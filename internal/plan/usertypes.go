package plan

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// UserType is one of the plan's categories of people (employees, customers,
// partners…). It is not Okta's User Types feature nor the userType profile
// attribute.
type UserType struct {
	ID        int64      `gorm:"primaryKey" json:"id"`
	ProjectID int64      `json:"projectId"`
	Kind      string     `json:"kind"`
	Name      string     `json:"name"`
	NameKey   string     `json:"-"`
	UserCount int64      `json:"userCount"`
	Notes     string     `json:"notes"`
	Subgroups []Subgroup `json:"subgroups" gorm:"foreignKey:UserTypeID"`
	Version   int64      `json:"version"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
}

// Subgroup is a part of a user type with its own count (sales, marketing…).
type Subgroup struct {
	ID         int64  `gorm:"primaryKey" json:"-"`
	UserTypeID int64  `json:"-"`
	Position   int    `json:"-"`
	Name       string `json:"name"`
	UserCount  int64  `json:"userCount"`
}

// SubgroupInput is one subgroup as entered.
type SubgroupInput struct {
	Name      string `json:"name"`
	UserCount int64  `json:"userCount"`
}

// UserTypeInput creates or changes a user type; nil fields keep their value.
// Subgroups, when sent, replace the whole list.
type UserTypeInput struct {
	Kind      *string          `json:"kind"`
	Name      *string          `json:"name"`
	UserCount *int64           `json:"userCount"`
	Notes     *string          `json:"notes"`
	Subgroups *[]SubgroupInput `json:"subgroups"`
}

func (u *UserType) apply(in UserTypeInput) {
	u.Kind = str(in.Kind, u.Kind)
	u.Name = str(in.Name, u.Name)
	u.NameKey = nameKey(u.Name)
	if in.UserCount != nil {
		u.UserCount = *in.UserCount
	}
	u.Notes = str(in.Notes, u.Notes)
	if in.Subgroups != nil {
		u.Subgroups = []Subgroup{}
		for i, sg := range *in.Subgroups {
			u.Subgroups = append(u.Subgroups, Subgroup{Position: i, Name: strings.TrimSpace(sg.Name), UserCount: sg.UserCount})
		}
	}
}

func (u *UserType) validate() error {
	c := apperr.NewCheck()
	c.OneOf("kind", "Kind", u.Kind, Values(UserTypeKinds()), false)
	c.Name("name", "Name", u.Name)
	c.Count("user_count", "Number of users", u.UserCount, MaxUserCount)
	c.Text("notes", "Notes", u.Notes, false, apperr.MaxTextLen)
	if len(u.Subgroups) > MaxSubgroups {
		c.Add("subgroups", fmt.Sprintf("At most %d subgroups per user type.", MaxSubgroups))
	}
	seen := map[string]bool{}
	for i, sg := range u.Subgroups {
		key := fmt.Sprintf("subgroups.%d", i)
		c.Name(key+".name", fmt.Sprintf("Subgroup %d name", i+1), sg.Name)
		c.Count(key+".user_count", fmt.Sprintf("Subgroup %d count", i+1), sg.UserCount, MaxUserCount)
		if seen[nameKey(sg.Name)] {
			c.Add(key+".name", fmt.Sprintf("Subgroup %q appears twice.", sg.Name))
		}
		seen[nameKey(sg.Name)] = true
	}
	return c.Err()
}

// listsNotNull makes an empty subgroup list [] in JSON rather than null.
func (u *UserType) listsNotNull() {
	if u.Subgroups == nil {
		u.Subgroups = []Subgroup{}
	}
}

// SubgroupTotal is the sum of the subgroup counts.
func (u *UserType) SubgroupTotal() int64 {
	var n int64
	for _, sg := range u.Subgroups {
		n += sg.UserCount
	}
	return n
}

func (u *UserType) fields() []field {
	var sgs []string
	for _, sg := range u.Subgroups {
		sgs = append(sgs, fmt.Sprintf("%s (%d)", sg.Name, sg.UserCount))
	}
	return []field{
		{"kind", "Kind", LabelOf(UserTypeKinds(), u.Kind)},
		{"name", "Name", u.Name},
		{"userCount", "Number of users", itoa(u.UserCount)},
		{"notes", "Notes", u.Notes},
		{"subgroups", "Subgroups", strings.Join(sgs, ", ")},
	}
}

func (in UserTypeInput) sent() map[string]bool {
	return map[string]bool{"kind": in.Kind != nil, "name": in.Name != nil, "userCount": in.UserCount != nil,
		"notes": in.Notes != nil, "subgroups": in.Subgroups != nil}
}

// CreateUserType adds a user type to a project.
func (s *Service) CreateUserType(ctx context.Context, projectID int64, in UserTypeInput) (*UserType, error) {
	u := &UserType{ProjectID: projectID, Subgroups: []Subgroup{}, Version: 1}
	u.apply(in)
	if err := u.validate(); err != nil {
		return nil, err
	}
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Omit("Subgroups").Create(u).Error; err != nil {
			return duplicateName(err, "user type")
		}
		if err := saveSubgroups(tx, u); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "user_type", EntityID: u.ID, Label: u.Name, After: u})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return u, nil
}

func saveSubgroups(tx *gorm.DB, u *UserType) error {
	if err := tx.Where("user_type_id = ?", u.ID).Delete(&Subgroup{}).Error; err != nil {
		return err
	}
	for i := range u.Subgroups {
		u.Subgroups[i].UserTypeID = u.ID
		u.Subgroups[i].ID = 0
	}
	if len(u.Subgroups) == 0 {
		return nil
	}
	return tx.Create(&u.Subgroups).Error
}

// FindUserTypeByID returns one user type of a project, with its subgroups.
func (s *Service) FindUserTypeByID(ctx context.Context, projectID, id int64) (*UserType, error) {
	return findUserType(s.db.Read.WithContext(ctx), projectID, id)
}

func findUserType(q *gorm.DB, projectID, id int64) (*UserType, error) {
	var u UserType
	err := q.Preload("Subgroups", func(db *gorm.DB) *gorm.DB { return db.Order("position") }).
		Where("project_id = ? AND id = ?", projectID, id).First(&u).Error
	if err != nil {
		return nil, wrap(notFoundOr(err, "user type"))
	}
	u.listsNotNull()
	return &u, nil
}

// FindUserTypes lists a project's user types by name, with subgroups.
func (s *Service) FindUserTypes(ctx context.Context, projectID int64) ([]UserType, error) {
	var out []UserType
	err := s.db.Read.WithContext(ctx).Preload("Subgroups", func(db *gorm.DB) *gorm.DB { return db.Order("position") }).
		Where("project_id = ?", projectID).Order("name_key").Find(&out).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	for i := range out {
		out[i].listsNotNull()
	}
	return out, nil
}

// UpdateUserType applies in if the user type is still at version.
func (s *Service) UpdateUserType(ctx context.Context, projectID, id, version int64, in UserTypeInput) (*UserType, error) {
	var out *UserType
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		u, err := findUserType(tx, projectID, id)
		if err != nil {
			return err
		}
		before := *u
		before.Subgroups = append([]Subgroup(nil), u.Subgroups...)
		u.apply(in)
		if before.Version != version {
			return apperr.VersionConflict("user type", before.Version, conflictChanges(before.fields(), u.fields(), in.sent()))
		}
		if err := u.validate(); err != nil {
			return err
		}
		u.Version++
		// The record is the model, so that the updated_at gorm writes is the one answered.
		res := tx.Model(u).Where("id = ? AND version = ?", id, version).
			Select("kind", "name", "name_key", "user_count", "notes", "version", "updated_at").Updates(u)
		if res.Error != nil {
			return duplicateName(res.Error, "user type")
		}
		if res.RowsAffected == 0 {
			return lostRace("user type")
		}
		if in.Subgroups != nil {
			if err := saveSubgroups(tx, u); err != nil {
				return err
			}
		}
		out = u
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "user_type", EntityID: id, Label: u.Name, Before: before, After: u})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// DeleteUserType deletes a user type (and its links to sources and applications).
func (s *Service) DeleteUserType(ctx context.Context, projectID, id int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		u, err := findUserType(tx, projectID, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(&UserType{}, id).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "user_type", EntityID: id, Label: u.Name, Before: u})
	}))
}
