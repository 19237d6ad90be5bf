// Package credentials keeps how each source's stored passwords are read —
// the attribute that holds the stored value, a separate salt attribute, the
// formats the source allows and the one it declares, how a separate salt is
// encoded and where it goes, iterations, a pepper — and proves those
// settings with a test account's known password before any load.
//
// Nothing here stores, logs or returns a password or a stored hash: the
// settings hold names and choices only, and a proof keeps (and audits) its
// outcome alone.
package credentials

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// what names the record in messages.
const what = "password settings"

// MaxAttributeLen bounds an attribute name.
const MaxAttributeLen = 200

// Settings is how one source's stored passwords are read.
type Settings struct {
	SourceID  int64 `gorm:"column:source_id;primaryKey;autoIncrement:false" json:"sourceId"`
	ProjectID int64 `gorm:"column:project_id" json:"projectId"`
	// Attribute is the staged attribute (column) holding the stored value.
	Attribute string `gorm:"column:attribute" json:"attribute"`
	// SaltAttribute is the attribute holding a separate salt, or "".
	SaltAttribute string `gorm:"column:salt_attribute" json:"saltAttribute"`
	// Formats the source allows, in order of preference (empty: every
	// format Ferry can tell from the value alone).
	Formats []string `gorm:"column:formats_json;serializer:json" json:"formats"`
	// Default is the format the source is declared to hold, or "".
	Default      string    `gorm:"column:default_format" json:"default"`
	SaltEncoding string    `gorm:"column:salt_encoding" json:"saltEncoding"`
	SaltOrder    string    `gorm:"column:salt_order" json:"saltOrder"`
	Iterations   int       `gorm:"column:iterations" json:"iterations"`
	Pepper       bool      `gorm:"column:pepper" json:"pepper"`
	Version      int64     `gorm:"column:version" json:"version"`
	CreatedAt    time.Time `gorm:"column:created_at" json:"createdAt"`
	UpdatedAt    time.Time `gorm:"column:updated_at" json:"updatedAt"`
}

// TableName is the table the settings live in.
func (Settings) TableName() string { return "password_settings" }

// Source is the settings as internal/hashes reads them.
func (s *Settings) Source() hashes.Source {
	out := hashes.Source{Default: hashes.Format(s.Default), SaltEncoding: hashes.SaltEncoding(s.SaltEncoding),
		SaltOrder: s.SaltOrder, Iterations: s.Iterations, Pepper: s.Pepper}
	for _, f := range s.Formats {
		out.Formats = append(out.Formats, hashes.Format(f))
	}
	return out
}

// Stored reads a staged record's stored value and salt.
func (s *Settings) Stored(attrs map[string][]string) (hashes.Stored, bool) {
	v, ok := Attr(attrs, s.Attribute)
	st := hashes.Stored{Value: v}
	if s.SaltAttribute != "" {
		st.Salt, _ = Attr(attrs, s.SaltAttribute)
	}
	return st, ok && v != ""
}

// Attr returns the first value of the attribute name, matched exactly or
// else ignoring case (LDAP attribute names are case-insensitive).
func Attr(attrs map[string][]string, name string) (string, bool) {
	if v, ok := attrs[name]; ok {
		if len(v) == 0 {
			return "", true
		}
		return v[0], true
	}
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			if len(v) == 0 {
				return "", true
			}
			return v[0], true
		}
	}
	return "", false
}

// Input saves the whole settings of a source.
type Input struct {
	Attribute     string
	SaltAttribute string
	Formats       []string
	Default       string
	SaltEncoding  string
	SaltOrder     string
	Iterations    int
	Pepper        bool
}

// FormatOptions lists the formats a source may allow, for forms.
func FormatOptions() []plan.Option {
	var out []plan.Option
	for _, f := range hashes.Formats() {
		out = append(out, plan.Option{Value: string(f), Label: string(f)})
	}
	return out
}

// SaltEncodings lists how a separate salt may be encoded, for forms.
func SaltEncodings() []plan.Option {
	return []plan.Option{
		{Value: string(hashes.SaltText), Label: "text: the salt as stored was hashed"},
		{Value: string(hashes.SaltBase64), Label: "base64: its decoded bytes were hashed"},
		{Value: string(hashes.SaltHex), Label: "hex: its decoded bytes were hashed"},
	}
}

// SaltOrders lists where a separate salt goes, for forms.
func SaltOrders() []plan.Option {
	return []plan.Option{
		{Value: okta.SaltPrefix, Label: "PREFIX: salt before the password"},
		{Value: okta.SaltPostfix, Label: "POSTFIX: salt after the password"},
	}
}

// inventoryFormats maps the inventory's password-hash formats
// (plan.PasswordHashFormats) to a format Ferry reads, where one fits
// unambiguously: "pbkdf2" may be any of four string formats, "crypt" any
// crypt(3) or an iterated digest, "ad_nt" cannot be exported at all.
var inventoryFormats = map[string]hashes.Format{
	"bcrypt": hashes.FormatBcrypt, "sha512": hashes.FormatSHA512, "sha256": hashes.FormatSHA256, "sha1": hashes.FormatSHA1,
	"md5": hashes.FormatMD5, "ldap_ssha": hashes.FormatLDAP, "argon2": hashes.FormatArgon2, "scrypt": hashes.FormatScrypt,
}

// DefaultFor is the format the inventory's declared password-hash format
// stands for, or "" when it is ambiguous or unknown.
func DefaultFor(inventoryFormat string) string { return string(inventoryFormats[inventoryFormat]) }

// SourceFinder finds the project's sources (plan.Service).
type SourceFinder interface {
	FindSourceByID(ctx context.Context, projectID, id int64) (*plan.Source, error)
	FindSources(ctx context.Context, projectID int64) ([]plan.Source, error)
}

// RecordFinder finds a staged record by its key or line (staging.Service).
type RecordFinder interface {
	FindSourceRecord(ctx context.Context, projectID, sourceID int64, ref string) (*staging.StagedRecord, error)
}

// Options tune the service; zero values take the defaults.
type Options struct {
	Now func() time.Time
	// ProofsPerMinute bounds the proofs of one project per minute (a
	// proof is a password oracle); default 10.
	ProofsPerMinute int
}

// Service keeps the sources' password settings and proves them.
type Service struct {
	db      *db.DB
	sources SourceFinder
	records RecordFinder
	now     func() time.Time
	limiter *limiter
}

// NewService returns the service.
func NewService(database *db.DB, sources SourceFinder, records RecordFinder, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ProofsPerMinute <= 0 {
		opts.ProofsPerMinute = 10
	}
	return &Service{db: database, sources: sources, records: records, now: opts.Now,
		limiter: newLimiter(opts.ProofsPerMinute, time.Minute, opts.Now)}
}

// Find returns a source's settings, or nil when it has none yet. The
// source must be the project's.
func (s *Service) Find(ctx context.Context, projectID, sourceID int64) (*Settings, error) {
	if _, err := s.sources.FindSourceByID(ctx, projectID, sourceID); err != nil {
		return nil, err
	}
	var out []Settings
	if err := s.db.Read.WithContext(ctx).Where("project_id = ? AND source_id = ?", projectID, sourceID).Limit(1).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// Suggest returns the settings a form starts from before any are saved:
// the inventory's declared format as the default, where it maps
// unambiguously.
func Suggest(src *plan.Source) Settings {
	out := Settings{SourceID: src.ID, ProjectID: src.ProjectID, Formats: []string{}}
	if d := DefaultFor(src.PasswordHashFormat); d != "" {
		out.Default = d
		out.Formats = []string{d}
	}
	return out
}

// Save creates a source's settings (version 0) or replaces them if they
// are still at version.
func (s *Service) Save(ctx context.Context, projectID, sourceID, version int64, in Input) (*Settings, error) {
	src, err := s.sources.FindSourceByID(ctx, projectID, sourceID)
	if err != nil {
		return nil, err
	}
	var out Settings
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var found []Settings
		if err := tx.Where("source_id = ?", sourceID).Limit(1).Find(&found).Error; err != nil {
			return err
		}
		exists := len(found) > 0
		next := Settings{SourceID: sourceID, ProjectID: projectID}
		if exists {
			next = found[0]
		}
		before := next
		next.apply(in)
		switch {
		case !exists && version != 0:
			return apperr.VersionConflict(what, 0, nil)
		case exists && version != before.Version:
			return apperr.VersionConflict(what, before.Version, conflictChanges(&before, &next))
		}
		if err := next.validate(); err != nil {
			return err
		}
		if !exists {
			next.Version = 1
			if err := tx.Create(&next).Error; err != nil {
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					return apperr.VersionConflict(what, 0, nil)
				}
				return err
			}
		} else {
			next.Version++
			res := tx.Model(&next).Where("source_id = ? AND version = ?", sourceID, version).
				Select("attribute", "salt_attribute", "formats_json", "default_format", "salt_encoding", "salt_order", "iterations",
					"pepper", "version", "updated_at").Updates(&next)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return apperr.VersionConflict(what, 0, nil)
			}
		}
		out = next
		change := audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "password_settings", EntityID: sourceID,
			Label: "password settings of " + src.Name, After: &next}
		if exists {
			change.Action, change.Before = audit.ActionUpdate, &before
		}
		return audit.Record(ctx, tx, change)
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}

func (s *Settings) apply(in Input) {
	s.Attribute = strings.TrimSpace(in.Attribute)
	s.SaltAttribute = strings.TrimSpace(in.SaltAttribute)
	s.Formats = []string{}
	for _, f := range in.Formats {
		if f = strings.TrimSpace(f); f != "" {
			s.Formats = append(s.Formats, f)
		}
	}
	s.Default = strings.TrimSpace(in.Default)
	s.SaltEncoding = strings.TrimSpace(in.SaltEncoding)
	s.SaltOrder = strings.ToUpper(strings.TrimSpace(in.SaltOrder))
	s.Iterations = in.Iterations
	s.Pepper = in.Pepper
}

// validate checks each field with a message next to it, then the whole
// with hashes.Source.Validate.
func (s *Settings) validate() error {
	c := apperr.NewCheck()
	c.Text("attribute", "Attribute holding the stored value", s.Attribute, true, MaxAttributeLen)
	if strings.ContainsAny(s.Attribute, "\r\n") {
		c.Add("attribute", "Attribute holding the stored value must be a single line.")
	}
	c.Text("salt_attribute", "Salt attribute", s.SaltAttribute, false, MaxAttributeLen)
	if strings.ContainsAny(s.SaltAttribute, "\r\n") {
		c.Add("salt_attribute", "Salt attribute must be a single line.")
	}
	if s.SaltAttribute != "" && strings.EqualFold(s.SaltAttribute, s.Attribute) {
		c.Add("salt_attribute", "The salt must come from another attribute than the stored value.")
	}
	known := make([]string, 0, len(hashes.Formats()))
	for _, f := range hashes.Formats() {
		known = append(known, string(f))
	}
	seen := map[string]bool{}
	for _, f := range s.Formats {
		if !slices.Contains(known, f) {
			c.Add("formats", "Formats must each be one of: "+strings.Join(known, ", ")+".")
			break
		}
		if seen[f] {
			c.Add("formats", fmt.Sprintf("%s is listed twice.", f))
			break
		}
		seen[f] = true
	}
	c.OneOf("default_format", "Declared format", s.Default, known, true)
	if s.Default != "" && len(s.Formats) > 0 && !seen[s.Default] && slices.Contains(known, s.Default) {
		c.Add("default_format", "The declared format must be one of the formats the source allows.")
	}
	c.OneOf("salt_encoding", "Salt encoding", s.SaltEncoding, []string{string(hashes.SaltText), string(hashes.SaltBase64), string(hashes.SaltHex)}, true)
	c.OneOf("salt_order", "Salt order", s.SaltOrder, []string{okta.SaltPrefix, okta.SaltPostfix}, true)
	if s.SaltAttribute != "" {
		if s.SaltEncoding == "" {
			c.Add("salt_encoding", "Say how the salt attribute is encoded: text, base64 or hex (Prove tells which works).")
		}
		if s.SaltOrder == "" {
			c.Add("salt_order", "Say whether the salt goes before (PREFIX) or after (POSTFIX) the password.")
		}
	}
	iterated := seen[string(hashes.FormatIteratedDigest)] || s.Default == string(hashes.FormatIteratedDigest)
	maxIter := hashes.DefaultLimits().MaxIterations
	switch {
	case s.Iterations < 0:
		c.Add("iterations", "Iterations cannot be negative.")
	case s.Iterations > maxIter:
		c.Add("iterations", fmt.Sprintf("Iterations may be at most %d.", maxIter))
	case iterated && s.Iterations < 2:
		c.Add("iterations", "An iterated digest needs iterations of at least 2 (1 is a plain salted digest).")
	case !iterated && s.Iterations != 0:
		c.Add("iterations", "Iterations apply only to the iterated-digest format: leave them empty or allow that format.")
	}
	if err := c.Err(); err != nil {
		return err
	}
	if err := s.Source().Validate(); err != nil {
		return apperr.Invalid("These password settings do not fit together: "+err.Error(), nil)
	}
	return nil
}

// conflictChanges lists what differs between the stored settings and the caller's.
func conflictChanges(stored, yours *Settings) []apperr.FieldChange {
	var out []apperr.FieldChange
	add := func(field, label, a, b string) {
		if a != b {
			out = append(out, apperr.FieldChange{Field: field, Label: label, Stored: a, Yours: b})
		}
	}
	add("attribute", "Attribute", stored.Attribute, yours.Attribute)
	add("salt_attribute", "Salt attribute", stored.SaltAttribute, yours.SaltAttribute)
	add("formats", "Formats", strings.Join(stored.Formats, ", "), strings.Join(yours.Formats, ", "))
	add("default_format", "Declared format", stored.Default, yours.Default)
	add("salt_encoding", "Salt encoding", stored.SaltEncoding, yours.SaltEncoding)
	add("salt_order", "Salt order", stored.SaltOrder, yours.SaltOrder)
	add("iterations", "Iterations", fmt.Sprint(stored.Iterations), fmt.Sprint(yours.Iterations))
	add("pepper", "Pepper", fmt.Sprint(stored.Pepper), fmt.Sprint(yours.Pepper))
	return out
}

// Reading is how validation reads one source's passwords.
type Reading struct {
	// Settings is nil when the source migrates credentials but has no
	// password settings yet.
	Settings *Settings
	Source   hashes.Source
}

// Readings returns, for each source of the project whose credentials
// migrate, how its stored passwords are read.
func (s *Service) Readings(ctx context.Context, projectID int64) (map[int64]Reading, error) {
	sources, err := s.sources.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	var saved []Settings
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Find(&saved).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	bySource := map[int64]*Settings{}
	for i := range saved {
		bySource[saved[i].SourceID] = &saved[i]
	}
	out := map[int64]Reading{}
	for _, src := range sources {
		if src.MigrateCredentials != plan.DecisionYes {
			continue
		}
		r := Reading{Settings: bySource[src.ID]}
		if r.Settings != nil {
			r.Source = r.Settings.Source()
		}
		out[src.ID] = r
	}
	return out, nil
}

func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	var te *ThrottledError
	if errors.As(err, &te) {
		return te
	}
	return apperr.Internal(fmt.Errorf("password settings: %w", err))
}
