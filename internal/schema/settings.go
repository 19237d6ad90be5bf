package schema

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// Settings are the org-level profile settings that change what Okta accepts.
// A project without a stored row has the defaults: logins are email
// addresses, and email and secondEmail are not unique (Okta's default;
// households share addresses).
type Settings struct {
	ProjectID int64 `gorm:"primaryKey;autoIncrement:false" json:"projectId"`
	// LoginPattern is the org's login pattern; empty means email addresses.
	LoginPattern string `json:"loginPattern"`
	// EmailUnique and SecondEmailUnique are true when the org enforces them
	// (self-service registration, or email mapped to login).
	EmailUnique       bool      `json:"emailUnique"`
	SecondEmailUnique bool      `json:"secondEmailUnique"`
	Version           int64     `json:"version"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

func (Settings) TableName() string { return "profile_settings" }

// SettingsInput changes the settings; nil fields keep their value.
type SettingsInput struct {
	LoginPattern      *string `json:"loginPattern"`
	EmailUnique       *bool   `json:"emailUnique"`
	SecondEmailUnique *bool   `json:"secondEmailUnique"`
}

// Forms of login pattern that Okta documents (UserSchemaBaseProperties.login).
const (
	LoginFormEmail   = "email"   // no pattern: an email address (RFC 6531)
	LoginFormAny     = "any"     // ".+": any non-empty value; the minimum length of 5 does not apply
	LoginFormCharset = "charset" // "[…]+": characters from one set
	LoginFormOther   = "other"   // any other regular expression: not a documented form
)

// LoginPatternForm classifies a login pattern by Okta's documented forms, so
// that a screen can warn about a pattern Okta may refuse.
func LoginPatternForm(pattern string) string {
	switch {
	case pattern == "":
		return LoginFormEmail
	case pattern == ".+":
		return LoginFormAny
	case len(pattern) > 3 && strings.HasPrefix(pattern, "[") && strings.HasSuffix(pattern, "]+") &&
		!strings.Contains(pattern[1:len(pattern)-2], "[") && !strings.Contains(pattern[1:len(pattern)-2], "]"):
		return LoginFormCharset
	}
	return LoginFormOther
}

// apply returns a base attribute as this project's org has it.
func (s Settings) apply(a Attribute) Attribute {
	switch a.Name {
	case "login":
		if s.LoginPattern != "" {
			a.Pattern = s.LoginPattern
			if s.LoginPattern == ".+" {
				a.MinLength = nil // Okta: ".+" skips the minimum length of five
			}
		}
	case "email":
		a.Unique = s.EmailUnique
	case "secondEmail":
		a.Unique = s.SecondEmailUnique
	}
	return a
}

func (s *Settings) applyInput(in SettingsInput) {
	if in.LoginPattern != nil {
		s.LoginPattern = strings.TrimSpace(*in.LoginPattern)
	}
	if in.EmailUnique != nil {
		s.EmailUnique = *in.EmailUnique
	}
	if in.SecondEmailUnique != nil {
		s.SecondEmailUnique = *in.SecondEmailUnique
	}
}

func (s *Settings) validate() error {
	c := apperr.NewCheck()
	var pe *PatternError
	if err := ValidatePattern(s.LoginPattern); errors.As(err, &pe) {
		c.Add("login_pattern", "Login pattern "+pe.Phrase+".")
	}
	return c.Err()
}

func (s *Settings) fields() []field {
	return []field{
		{"loginPattern", "Login pattern", s.LoginPattern},
		{"emailUnique", "Email unique", strconv.FormatBool(s.EmailUnique)},
		{"secondEmailUnique", "Secondary email unique", strconv.FormatBool(s.SecondEmailUnique)},
	}
}

func (in SettingsInput) sent() map[string]bool {
	return map[string]bool{"loginPattern": in.LoginPattern != nil, "emailUnique": in.EmailUnique != nil, "secondEmailUnique": in.SecondEmailUnique != nil}
}

// FindSettings returns a project's profile settings, or the defaults (at
// version 1) when none were saved.
func (s *Service) FindSettings(ctx context.Context, projectID int64) (*Settings, error) {
	q := s.db.Read.WithContext(ctx)
	var st Settings
	err := q.Where("project_id = ?", projectID).First(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		ok, err := projectExists(q, projectID)
		if err != nil {
			return nil, apperr.Internal(err)
		}
		if !ok {
			return nil, apperr.NotFound("project")
		}
		return &Settings{ProjectID: projectID, Version: 1}, nil
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return &st, nil
}

// UpdateSettings applies in if the settings are still at version (1 for a
// project that has never saved any).
func (s *Service) UpdateSettings(ctx context.Context, projectID, version int64, in SettingsInput) (*Settings, error) {
	var out Settings
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		st, err := lockSettings(tx, projectID)
		if err != nil {
			return err
		}
		before := *st
		st.applyInput(in)
		if before.Version != version {
			return apperr.VersionConflict("profile settings", before.Version, conflictChanges(before.fields(), st.fields(), in.sent()))
		}
		if err := st.validate(); err != nil {
			return err
		}
		st.Version++
		res := tx.Model(st).Where("project_id = ? AND version = ?", projectID, version).
			Select("login_pattern", "email_unique", "second_email_unique", "version", "updated_at").Updates(st)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return lostRace("profile settings")
		}
		out = *st
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "profile_settings",
			EntityID: projectID, Label: "Profile settings", Before: before, After: out})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}

// lockSettings makes sure the project's settings row exists (with the
// defaults) and locks it for the rest of tx, so that writers of one project's
// schema queue: on SQLite the write transaction is already exclusive; on
// PostgreSQL the no-op update holds the row lock. Counting unique custom
// attributes relies on it.
func lockSettings(tx *gorm.DB, projectID int64) (*Settings, error) {
	err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Settings{ProjectID: projectID, Version: 1}).Error
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return nil, apperr.NotFound("project")
	}
	if err != nil {
		return nil, err
	}
	if err := tx.Exec("UPDATE profile_settings SET version = version WHERE project_id = ?", projectID).Error; err != nil {
		return nil, err
	}
	var st Settings
	if err := tx.Where("project_id = ?", projectID).First(&st).Error; err != nil {
		return nil, notFoundOr(err, "project")
	}
	return &st, nil
}
