package auth

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// Membership gives an account a role in one project.
type Membership struct {
	ID        int64     `gorm:"primaryKey" json:"id"`
	ProjectID int64     `json:"projectId"`
	AccountID int64     `json:"accountId"`
	Role      Role      `json:"role"`
	Version   int64     `json:"version"`
	Account   *Account  `json:"account,omitempty" gorm:"foreignKey:AccountID"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// RoleIn returns accountID's role in projectID, or "" when not a member.
func (s *Service) RoleIn(ctx context.Context, accountID, projectID int64) (Role, error) {
	var m Membership
	err := s.db.Read.WithContext(ctx).Select("role").Where("account_id = ? AND project_id = ?", accountID, projectID).First(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	if err != nil {
		return "", apperr.Internal(err)
	}
	return m.Role, nil
}

// RolesOf maps each project accountID is a member of to the role held there.
func (s *Service) RolesOf(ctx context.Context, accountID int64) (map[int64]Role, error) {
	var ms []Membership
	if err := s.db.Read.WithContext(ctx).Where("account_id = ?", accountID).Find(&ms).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	out := make(map[int64]Role, len(ms))
	for _, m := range ms {
		out[m.ProjectID] = m.Role
	}
	return out, nil
}

// FindMembers lists a project's members with their accounts, by name.
func (s *Service) FindMembers(ctx context.Context, projectID int64) ([]Membership, error) {
	var ms []Membership
	err := s.db.Read.WithContext(ctx).Joins("Account").Where("memberships.project_id = ?", projectID).
		Order(clause.OrderByColumn{Column: clause.Column{Table: "Account", Name: "name"}}).Find(&ms).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return ms, nil
}

// AddMemberTx makes accountID a member of projectID inside the caller's
// transaction (project creation uses it to make the creator the lead).
func (s *Service) AddMemberTx(ctx context.Context, tx *gorm.DB, projectID, accountID int64, role Role) (*Membership, error) {
	if !role.Valid() {
		return nil, apperr.Invalid("Please correct the highlighted fields.", map[string]string{"role": "Choose one of the roles."})
	}
	m := &Membership{ProjectID: projectID, AccountID: accountID, Role: role, Version: 1}
	if err := tx.Create(m).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, apperr.Invalid("Please correct the highlighted fields.", map[string]string{"email": "This person is already a member of the project."})
		}
		return nil, err
	}
	var a Account
	if err := tx.First(&a, accountID).Error; err != nil {
		return nil, notFoundOr(err, "account")
	}
	m.Account = &a
	if err := audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "membership",
		EntityID: m.ID, Label: a.Email, After: memberView(m)}); err != nil {
		return nil, err
	}
	return m, nil
}

// AddMember adds the account with email to the project with role.
func (s *Service) AddMember(ctx context.Context, projectID int64, email string, role Role) (*Membership, error) {
	a, err := s.FindAccountByEmail(ctx, email)
	if apperr.Is(err, apperr.CodeNotFound) {
		return nil, apperr.Invalid("Please correct the highlighted fields.", map[string]string{"email": "No account has this email. Ask an admin to create it first."})
	}
	if err != nil {
		return nil, err
	}
	if a.Disabled() {
		return nil, apperr.Invalid("Please correct the highlighted fields.", map[string]string{"email": "This account is disabled."})
	}
	var m *Membership
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var err error
		m, err = s.AddMemberTx(ctx, tx, projectID, a.ID, role)
		return err
	})
	return m, wrap(err)
}

// UpdateMemberRole changes a member's role if the membership is still at
// version; the project always keeps at least one project lead.
func (s *Service) UpdateMemberRole(ctx context.Context, projectID, membershipID, version int64, role Role) error {
	if !role.Valid() {
		return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"role": "Choose one of the roles."})
	}
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		m, err := findMembership(tx, projectID, membershipID)
		if err != nil {
			return err
		}
		if m.Version != version {
			return apperr.VersionConflict("membership", m.Version, []apperr.FieldChange{{Field: "role", Label: "Role", Stored: m.Role.Label(), Yours: role.Label()}})
		}
		if m.Role == RoleProjectLead && role != RoleProjectLead {
			if err := ensureAnotherLead(tx, projectID, m.ID); err != nil {
				return err
			}
		}
		before := memberView(m)
		m.Role = role
		m.Version++
		res := tx.Model(&Membership{}).Where("id = ? AND version = ?", m.ID, version).Updates(map[string]any{"role": role, "version": m.Version})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.VersionConflict("membership", 0, nil)
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "membership",
			EntityID: m.ID, Label: m.Account.Email, Before: before, After: memberView(m)})
	}))
}

// RemoveMember removes a membership; the last project lead cannot be removed.
func (s *Service) RemoveMember(ctx context.Context, projectID, membershipID int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		m, err := findMembership(tx, projectID, membershipID)
		if err != nil {
			return err
		}
		if m.Role == RoleProjectLead {
			if err := ensureAnotherLead(tx, projectID, m.ID); err != nil {
				return err
			}
		}
		if err := tx.Delete(&Membership{}, m.ID).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "membership",
			EntityID: m.ID, Label: m.Account.Email, Before: memberView(m)})
	}))
}

func findMembership(tx *gorm.DB, projectID, id int64) (*Membership, error) {
	var m Membership
	if err := tx.Joins("Account").Where("memberships.id = ? AND memberships.project_id = ?", id, projectID).First(&m).Error; err != nil {
		return nil, notFoundOr(err, "member")
	}
	return &m, nil
}

func ensureAnotherLead(tx *gorm.DB, projectID, exceptID int64) error {
	var n int64
	if err := tx.Model(&Membership{}).Where("project_id = ? AND role = ? AND id <> ?", projectID, RoleProjectLead, exceptID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return apperr.Invalid("A project needs at least one project lead: make someone else lead first.", nil)
	}
	return nil
}

// memberView is what the audit log keeps of a membership.
func memberView(m *Membership) map[string]any {
	v := map[string]any{"role": string(m.Role), "accountId": m.AccountID}
	if m.Account != nil {
		v["email"] = m.Account.Email
		v["name"] = m.Account.Name
	}
	return v
}

// IsMember reports whether accountID holds a role in projectID.
func (s *Service) IsMember(ctx context.Context, projectID, accountID int64) (bool, error) {
	r, err := s.RoleIn(ctx, accountID, projectID)
	return r != "", err
}
