// Package orgs keeps each project's connection to its Okta org: the org's
// URL, how Ferry authenticates to it (an SSWS API token or an OAuth 2.0
// bearer token) and the token itself, sealed with Ferry's secret key so that
// the database never holds it in clear. Only Token opens it, for the code
// that talks to Okta; everything else (pages, the API, the audit log) sees
// the last four characters at most. The connection also remembers the last
// connection check, and whether that check found Ferry's sandbox rather
// than a real Okta org.
package orgs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/secrets"
)

// How Ferry sends the token to Okta.
const (
	// SchemeSSWS is an Okta API token, sent as "Authorization: SSWS <token>".
	SchemeSSWS = "ssws"
	// SchemeBearer is an OAuth 2.0 access token, sent as "Authorization: Bearer <token>".
	SchemeBearer = "bearer"
)

// Limits of the stored values.
const (
	MinTokenLen = 10
	// MaxTokenLen caps an API token (Okta's are 42 characters).
	MaxTokenLen = 200
	// MaxBearerTokenLen caps an OAuth 2.0 access token: Okta's are signed
	// JWTs of several hundred characters, which MaxTokenLen would refuse.
	MaxBearerTokenLen = 4096
	// MaxCheckMessageLen caps what a connection check may leave to show.
	MaxCheckMessageLen = 500
	// hintLen is how much of a token people are shown: its end, never more.
	hintLen = 4
)

// AuthSchemes lists the ways Ferry can authenticate to Okta, for forms.
func AuthSchemes() []plan.Option {
	return []plan.Option{
		{Value: SchemeSSWS, Label: "API token (SSWS)"},
		{Value: SchemeBearer, Label: "OAuth 2.0 access token (Bearer)"},
	}
}

// CheckResult is what a connection check found.
type CheckResult struct {
	// OK: Okta (or the sandbox) answered and accepted the token.
	OK bool
	// Sandbox: the org is Ferry's sandbox (internal/oktasim), not a real Okta org.
	Sandbox bool
	// Message says what was found, or why the check failed, for people.
	Message string
}

// Connection is a project's Okta org. TokenSealed never leaves the package
// but through Token; it has no JSON name, so that no encoder (the audit
// log's included) ever writes it.
type Connection struct {
	ProjectID   int64  `gorm:"column:project_id;primaryKey;autoIncrement:false" json:"projectId"`
	OrgURL      string `gorm:"column:org_url" json:"url"`
	AuthScheme  string `gorm:"column:auth_scheme" json:"authScheme"`
	TokenSealed string `gorm:"column:token_sealed" json:"-"`
	// TokenHint is the token's last four characters.
	TokenHint string `gorm:"column:token_hint" json:"tokenHint"`
	// Sandbox is set only by a successful check that found Ferry's sandbox.
	Sandbox      bool       `gorm:"column:sandbox" json:"sandbox"`
	CheckedAt    *time.Time `gorm:"column:checked_at" json:"checkedAt"`
	CheckOK      bool       `gorm:"column:check_ok" json:"checkOk"`
	CheckMessage string     `gorm:"column:check_message" json:"checkMessage"`
	Version      int64      `gorm:"column:version" json:"version"`
	CreatedAt    time.Time  `gorm:"column:created_at" json:"createdAt"`
	UpdatedAt    time.Time  `gorm:"column:updated_at" json:"updatedAt"`
}

// TableName is the table the connection lives in.
func (Connection) TableName() string { return "okta_orgs" }

// TokenSet reports whether a token is saved (always, for a saved connection).
func (c *Connection) TokenSet() bool { return c != nil && c.TokenSealed != "" }

// SchemeLabel is the auth scheme's name for people.
func (c *Connection) SchemeLabel() string { return plan.LabelOf(AuthSchemes(), c.AuthScheme) }

// Input saves a connection. The URL and scheme are always sent (the form
// and the API's PUT send the whole connection); Token is nil to keep the
// saved token, and the empty string is refused rather than read as "keep".
type Input struct {
	OrgURL     string
	AuthScheme string
	Token      *string
}

// Service keeps the projects' Okta org connections.
type Service struct {
	db     *db.DB
	sealer *secrets.Sealer
	now    func() time.Time
}

// NewService returns the service; sealer seals and opens the tokens, now
// (time.Now when nil) dates the connection checks.
func NewService(database *db.DB, sealer *secrets.Sealer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: database, sealer: sealer, now: now}
}

// what names the record in messages.
const what = "Okta org connection"

// Find returns the project's connection, or nil when none is saved.
func (s *Service) Find(ctx context.Context, projectID int64) (*Connection, error) {
	var c Connection
	err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).First(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return &c, nil
}

// Save creates the project's connection (version 0) or changes it if it is
// still at version. Changing the URL, the scheme or the token forgets the
// last check, and with it that the org is the sandbox.
func (s *Service) Save(ctx context.Context, projectID, version int64, in Input) (*Connection, error) {
	var out Connection
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var stored Connection
		exists := true
		if ferr := tx.Where("project_id = ?", projectID).First(&stored).Error; errors.Is(ferr, gorm.ErrRecordNotFound) {
			exists = false
		} else if ferr != nil {
			return ferr
		}
		orgURL, scheme, token, invalid := validate(in, !exists)
		switch {
		case !exists && version != 0:
			removed := apperr.VersionConflict(what, 0, nil)
			removed.Message = "Someone else removed this Okta org connection while you were editing it. Your changes are kept below; save again to connect the org anew."
			return removed
		case exists && version != stored.Version:
			return apperr.VersionConflict(what, stored.Version, conflictChanges(&stored, orgURL, scheme, in.Token != nil))
		}
		if invalid != nil {
			return invalid
		}
		c := stored
		if !exists {
			c = Connection{ProjectID: projectID}
		}
		tokenChanged := false
		if token != nil {
			if old, oerr := s.sealer.Open(stored.TokenSealed); !exists || oerr != nil || old != *token {
				tokenChanged = true
				sealed, serr := s.sealer.Seal(*token)
				if serr != nil {
					return serr
				}
				c.TokenSealed, c.TokenHint = sealed, hint(*token)
			}
		}
		if c.OrgURL != orgURL || c.AuthScheme != scheme || tokenChanged {
			// What was checked is no longer what is saved.
			c.Sandbox, c.CheckOK, c.CheckedAt, c.CheckMessage = false, false, nil, ""
		}
		c.OrgURL, c.AuthScheme = orgURL, scheme
		if !exists {
			c.Version = 1
			if cerr := tx.Create(&c).Error; cerr != nil {
				if errors.Is(cerr, gorm.ErrForeignKeyViolated) {
					return apperr.NotFound("project")
				}
				if errors.Is(cerr, gorm.ErrDuplicatedKey) {
					return lostRace()
				}
				return cerr
			}
		} else {
			c.Version++
			res := tx.Model(&c).Where("project_id = ? AND version = ?", projectID, version).
				Select("org_url", "auth_scheme", "token_sealed", "token_hint", "sandbox", "checked_at", "check_ok", "check_message", "version", "updated_at").
				Updates(&c)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return lostRace()
			}
		}
		out = c
		change := audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "okta_org", EntityID: projectID,
			Label: "Okta org " + c.OrgURL, After: auditViewOf(&c, tokenChanged)}
		if exists {
			change.Before = auditViewOf(&stored, false)
		} else {
			change.Action = audit.ActionCreate
		}
		return audit.Record(ctx, tx, change)
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}

// Token opens the project's saved token, for the code that calls Okta.
func (s *Service) Token(ctx context.Context, projectID int64) (string, error) {
	c, err := s.Find(ctx, projectID)
	if err != nil {
		return "", err
	}
	if c == nil {
		return "", apperr.NotFound(what)
	}
	return s.open(c.TokenSealed)
}

func (s *Service) open(sealed string) (string, error) {
	token, err := s.sealer.Open(sealed)
	switch {
	case errors.Is(err, secrets.ErrWrongKey):
		return "", &apperr.Error{Code: apperr.CodeConflict, Err: err, Message: "The saved Okta token was sealed with another secret key than the one Ferry runs with now " +
			"(FERRY_SECRET_KEY, or the key file secret.key in the data directory). Enter the token again, or restart Ferry with the key it was saved with."}
	case err != nil:
		return "", &apperr.Error{Code: apperr.CodeConflict, Err: err, Message: "The saved Okta token cannot be read: it is damaged. Enter the token again."}
	}
	return token, nil
}

// RecordCheck remembers the result of a connection check of the connection
// at version (the one the checker was given): if the connection changed
// since, the result is refused, so that a check of one org never vouches
// for another. Sandbox is kept only when the check succeeded. The version
// is not incremented: a check changes nothing a person edits.
func (s *Service) RecordCheck(ctx context.Context, projectID, version int64, ok, sandbox bool, message string) (*Connection, error) {
	var out Connection
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var c Connection
		if err := tx.Where("project_id = ?", projectID).First(&c).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return apperr.NotFound(what)
			}
			return err
		}
		if c.Version != version {
			return apperr.Conflict("The Okta org connection changed while it was being checked: check it again.")
		}
		before := c
		now := s.now().UTC()
		if token, err := s.sealer.Open(c.TokenSealed); err == nil && token != "" {
			// A checker that quotes the token in an error must not get it stored.
			message = strings.ReplaceAll(message, token, "[token]")
		}
		msg := cleanMessage(message)
		c.CheckedAt, c.CheckOK, c.Sandbox, c.CheckMessage = &now, ok, ok && sandbox, msg
		res := tx.Model(&c).Where("project_id = ? AND version = ?", projectID, version).
			Select("checked_at", "check_ok", "sandbox", "check_message").Updates(&c)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.Conflict("The Okta org connection changed while it was being checked: check it again.")
		}
		out = c
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "okta_org", EntityID: projectID,
			Label: "Okta org " + c.OrgURL + " (connection check)", Before: auditViewOf(&before, false), After: auditViewOf(&c, false)})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}

// Clear removes the project's connection and its sealed token.
func (s *Service) Clear(ctx context.Context, projectID int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var c Connection
		if err := tx.Where("project_id = ?", projectID).First(&c).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return apperr.NotFound(what)
			}
			return err
		}
		if err := tx.Where("project_id = ?", projectID).Delete(&Connection{}).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "okta_org", EntityID: projectID,
			Label: "Okta org " + c.OrgURL, Before: auditViewOf(&c, false)})
	}))
}

// auditView is what the audit log keeps of a connection: the token only as
// whether it changed and its last four characters.
type auditView struct {
	URL          string `json:"url"`
	AuthScheme   string `json:"authScheme"`
	Token        string `json:"token"`
	Sandbox      bool   `json:"sandbox"`
	CheckOK      bool   `json:"checkOk"`
	CheckMessage string `json:"checkMessage"`
	Version      int64  `json:"version"`
}

func auditViewOf(c *Connection, tokenChanged bool) auditView {
	token := "saved, ending in …" + c.TokenHint
	if tokenChanged {
		token = "changed, now ending in …" + c.TokenHint
	}
	return auditView{URL: c.OrgURL, AuthScheme: c.AuthScheme, Token: token, Sandbox: c.Sandbox, CheckOK: c.CheckOK,
		CheckMessage: c.CheckMessage, Version: c.Version}
}

// conflictChanges lists what differs between the stored connection and the
// caller's; a token is never shown, only that one was sent.
func conflictChanges(stored *Connection, orgURL, scheme string, tokenSent bool) []apperr.FieldChange {
	var out []apperr.FieldChange
	if orgURL != stored.OrgURL {
		out = append(out, apperr.FieldChange{Field: "url", Label: "Okta org URL", Stored: stored.OrgURL, Yours: orgURL})
	}
	if scheme != stored.AuthScheme {
		out = append(out, apperr.FieldChange{Field: "authScheme", Label: "Authentication", Stored: stored.SchemeLabel(),
			Yours: plan.LabelOf(AuthSchemes(), scheme)})
	}
	if tokenSent {
		out = append(out, apperr.FieldChange{Field: "token", Label: "Token", Stored: "saved, ending in …" + stored.TokenHint,
			Yours: "a new token (not shown; type it again)"})
	}
	return out
}

// hint is the end of a token that people may see.
func hint(token string) string {
	if len(token) <= hintLen {
		return ""
	}
	return token[len(token)-hintLen:]
}

// cleanMessage makes a checker's message safe to store and show: valid
// UTF-8, one line, no control characters, bounded.
func cleanMessage(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > MaxCheckMessageLen {
		s = string([]rune(s)[:MaxCheckMessageLen-1]) + "…"
	}
	return s
}

// lostRace is the conflict when another transaction saved between our read
// and our write (possible on PostgreSQL, where writers do not queue).
func lostRace() error { return apperr.VersionConflict(what, 0, nil) }

// wrap passes application errors through and turns anything else into an internal error.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return apperr.Internal(fmt.Errorf("okta org connection: %w", err))
}
