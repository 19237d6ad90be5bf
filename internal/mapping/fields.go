// Package mapping owns the attribute-mapping matrix: the fields of each source
// system, the rows that map them to Okta profile attributes (with
// transformations and the source of truth when several feed one attribute),
// the checks that catch mistakes, the suggestions for usual directory and HR
// field names, and the spreadsheet round trip.
package mapping

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// Limits that keep a field's description small.
const (
	MaxSamples      = 20
	MaxSampleLen    = 1000
	MaxFieldLength  = 1_000_000
	maxFieldsPerSrc = 5000
)

// PII states of a source field: what a person confirmed.
const (
	PIIUnknown = "unknown"
	PIIYes     = "yes"
	PIINo      = "no"
)

// Option is an allowed value with its label.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

func values(opts []Option) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Value
	}
	return out
}

// LabelOf returns the label of value in opts, or value itself.
func LabelOf(opts []Option, value string) string {
	for _, o := range opts {
		if o.Value == value {
			return o.Label
		}
	}
	return value
}

// DataTypes are the kinds of value a source field holds.
func DataTypes() []Option {
	return []Option{
		{"string", "Text"}, {"integer", "Whole number"}, {"number", "Number"}, {"boolean", "Yes/no"},
		{"date", "Date"}, {"datetime", "Date and time"}, {"binary", "Binary"},
	}
}

// PIICategories classify personal data for the legal review.
func PIICategories() []Option {
	return []Option{
		{"identifier", "Identifier (name, login, employee number)"},
		{"contact", "Contact (email, phone, address)"},
		{"demographic", "Demographic (birth date, gender, language)"},
		{"special", "Special category (GDPR Art. 9: health, religion, ethnicity…)"},
		{"government_id", "Government identifier (national ID, passport, SSN)"},
		{"financial", "Financial (bank account, salary, card)"},
		{"credential", "Credential (password hash, secret answer, token)"},
		{"other", "Other personal data"},
	}
}

// PIIStates are the answers to "does this field carry personal data?".
func PIIStates() []Option {
	return []Option{{PIIUnknown, "Not decided"}, {PIIYes, "Yes, personal data"}, {PIINo, "No"}}
}

// SourceField is one attribute of a source system.
type SourceField struct {
	ID          int64    `gorm:"primaryKey" json:"id"`
	ProjectID   int64    `json:"projectId"`
	SourceID    int64    `json:"sourceId"`
	Name        string   `json:"name"`
	NameKey     string   `json:"-"`
	DataType    string   `json:"dataType"`
	MaxLength   *int     `json:"maxLength"`
	MultiValued bool     `json:"multiValued"`
	KnownUnique bool     `json:"knownUnique"`
	Samples     []string `gorm:"column:samples_json;serializer:json" json:"samples"`
	// PII is what a person confirmed: unknown, yes or no.
	PII         string `gorm:"column:pii" json:"pii"`
	PIICategory string `gorm:"column:pii_category" json:"piiCategory"`
	// PIISuggestion is Ferry's guess of a category; it counts only once confirmed.
	PIISuggestion string    `gorm:"column:pii_suggestion" json:"piiSuggestion"`
	Notes         string    `json:"notes"`
	Version       int64     `json:"version"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// FieldInput creates or changes a source field; nil fields keep their value.
type FieldInput struct {
	Name        *string   `json:"name"`
	DataType    *string   `json:"dataType"`
	MaxLength   **int     `json:"maxLength"`
	MultiValued *bool     `json:"multiValued"`
	KnownUnique *bool     `json:"knownUnique"`
	Samples     *[]string `json:"samples"`
	PII         *string   `json:"pii"`
	PIICategory *string   `json:"piiCategory"`
	Notes       *string   `json:"notes"`
}

func trimmed(p *string, def string) string {
	if p == nil {
		return def
	}
	return strings.TrimSpace(*p)
}

func (f *SourceField) apply(in FieldInput) {
	f.Name = trimmed(in.Name, f.Name)
	f.NameKey = strings.ToLower(f.Name)
	f.DataType = trimmed(in.DataType, f.DataType)
	if in.MaxLength != nil {
		f.MaxLength = *in.MaxLength
	}
	if in.MultiValued != nil {
		f.MultiValued = *in.MultiValued
	}
	if in.KnownUnique != nil {
		f.KnownUnique = *in.KnownUnique
	}
	if in.Samples != nil {
		f.Samples = []string{}
		for _, s := range *in.Samples {
			if s = strings.TrimRight(s, "\r\n"); s != "" {
				f.Samples = append(f.Samples, s)
			}
		}
	}
	f.PII = trimmed(in.PII, f.PII)
	f.PIICategory = trimmed(in.PIICategory, f.PIICategory)
	if f.PII != PIIYes {
		f.PIICategory = ""
	}
	f.Notes = trimmed(in.Notes, f.Notes)
	if f.Samples == nil {
		f.Samples = []string{}
	}
}

func (f *SourceField) validate() error {
	c := apperr.NewCheck()
	c.Name("name", "Field name", f.Name)
	c.OneOf("data_type", "Data type", f.DataType, values(DataTypes()), false)
	if f.MaxLength != nil && (*f.MaxLength < 1 || *f.MaxLength > MaxFieldLength) {
		c.Add("max_length", fmt.Sprintf("Data length must be between 1 and %d characters.", MaxFieldLength))
	}
	if len(f.Samples) > MaxSamples {
		c.Add("samples", fmt.Sprintf("At most %d sample values.", MaxSamples))
	}
	for i, s := range f.Samples {
		c.Text("samples", fmt.Sprintf("Sample %d", i+1), s, false, MaxSampleLen)
	}
	c.OneOf("pii", "Personal data", f.PII, values(PIIStates()), false)
	if f.PII == PIIYes {
		c.OneOf("pii_category", "Category of personal data", f.PIICategory, values(PIICategories()), false)
	}
	c.Text("notes", "Notes", f.Notes, false, apperr.MaxTextLen)
	return c.Err()
}

// label names the field in the audit log: "Source.field".
func (f *SourceField) label(sourceName string) string { return sourceName + "." + f.Name }

// Service is the mapping service.
type Service struct {
	db      *db.DB
	schema  AttributeCatalog
	sources SourceFinder
}

// AttributeCatalog gives the project's Okta attributes and profile settings.
type AttributeCatalog interface {
	Attributes(ctx context.Context, projectID int64) ([]schema.Attribute, error)
	FindSettings(ctx context.Context, projectID int64) (*schema.Settings, error)
}

// SourceFinder names a project's source systems.
type SourceFinder interface {
	SourceNames(ctx context.Context, projectID int64) (map[int64]string, error)
}

// NewService returns a mapping service.
func NewService(database *db.DB, catalog AttributeCatalog, sources SourceFinder) *Service {
	return &Service{db: database, schema: catalog, sources: sources}
}

func (s *Service) sourceName(ctx context.Context, projectID, sourceID int64) (string, error) {
	names, err := s.sources.SourceNames(ctx, projectID)
	if err != nil {
		return "", err
	}
	name, ok := names[sourceID]
	if !ok {
		return "", apperr.NotFound("source")
	}
	return name, nil
}

// FindFields lists the fields of one source (sourceID 0: of every source), by name.
func (s *Service) FindFields(ctx context.Context, projectID, sourceID int64) ([]SourceField, error) {
	q := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID)
	if sourceID != 0 {
		q = q.Where("source_id = ?", sourceID)
	}
	var out []SourceField
	if err := q.Order("source_id, name_key").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// FindFieldByID returns one field of a project.
func (s *Service) FindFieldByID(ctx context.Context, projectID, id int64) (*SourceField, error) {
	return findField(s.db.Read.WithContext(ctx), projectID, id)
}

func findField(q *gorm.DB, projectID, id int64) (*SourceField, error) {
	var f SourceField
	if err := q.Where("project_id = ? AND id = ?", projectID, id).First(&f).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, apperr.NotFound("source field")
		}
		return nil, apperr.Internal(err)
	}
	return &f, nil
}

// CreateField adds a field to a source; Ferry suggests whether it carries
// personal data from its name and samples.
func (s *Service) CreateField(ctx context.Context, projectID, sourceID int64, in FieldInput) (*SourceField, error) {
	srcName, err := s.sourceName(ctx, projectID, sourceID)
	if err != nil {
		return nil, err
	}
	f := &SourceField{ProjectID: projectID, SourceID: sourceID, DataType: "string", PII: PIIUnknown, Version: 1}
	f.apply(in)
	if err := f.validate(); err != nil {
		return nil, err
	}
	f.PIISuggestion = SuggestPII(f.Name, f.Samples)
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		return createField(ctx, tx, f, srcName)
	})
	if err != nil {
		return nil, wrap(err)
	}
	return f, nil
}

func createField(ctx context.Context, tx *gorm.DB, f *SourceField, srcName string) error {
	var n int64
	if err := tx.Model(&SourceField{}).Where("source_id = ?", f.SourceID).Count(&n).Error; err != nil {
		return err
	}
	if n >= maxFieldsPerSrc {
		return apperr.Invalid(fmt.Sprintf("A source can have at most %d fields.", maxFieldsPerSrc), nil)
	}
	if err := tx.Create(f).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"name": "This source already has a field with this name."})
		}
		return err
	}
	return audit.Record(ctx, tx, audit.Change{ProjectID: f.ProjectID, Action: audit.ActionCreate, EntityType: "source_field", EntityID: f.ID, Label: f.label(srcName), After: f})
}

// UpdateField applies in if the field is still at version.
func (s *Service) UpdateField(ctx context.Context, projectID, id, version int64, in FieldInput) (*SourceField, error) {
	var out *SourceField
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		f, err := findField(tx, projectID, id)
		if err != nil {
			return err
		}
		if f.Version != version {
			return apperr.VersionConflict("source field", f.Version, fieldChanges(f, in))
		}
		srcName, err := s.sourceName(ctx, projectID, f.SourceID)
		if err != nil {
			return err
		}
		before := *f
		f.apply(in)
		if err := f.validate(); err != nil {
			return err
		}
		if in.Name != nil || in.Samples != nil {
			f.PIISuggestion = SuggestPII(f.Name, f.Samples)
		}
		f.Version++
		res := tx.Model(f).Where("id = ? AND version = ?", id, version).
			Select("name", "name_key", "data_type", "max_length", "multi_valued", "known_unique", "samples_json", "pii", "pii_category",
				"pii_suggestion", "notes", "version", "updated_at").Updates(f)
		if res.Error != nil {
			if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
				return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"name": "This source already has a field with this name."})
			}
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.VersionConflict("source field", 0, nil)
		}
		out = f
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "source_field", EntityID: id, Label: f.label(srcName), Before: before, After: f})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// fieldChanges lists, among the fields the caller sent, those whose stored
// value differs from the caller's (JSON names, as rowChanges does).
func fieldChanges(stored *SourceField, in FieldInput) []apperr.FieldChange {
	yours := *stored
	yours.apply(in)
	length := func(n *int) string {
		if n == nil {
			return ""
		}
		return strconv.Itoa(*n)
	}
	var out []apperr.FieldChange
	add := func(sent bool, field, label, a, b string) {
		if sent && a != b {
			out = append(out, apperr.FieldChange{Field: field, Label: label, Stored: a, Yours: b})
		}
	}
	add(in.Name != nil, "name", "Field name", stored.Name, yours.Name)
	add(in.DataType != nil, "dataType", "Data type", stored.DataType, yours.DataType)
	add(in.MaxLength != nil, "maxLength", "Data length", length(stored.MaxLength), length(yours.MaxLength))
	add(in.MultiValued != nil, "multiValued", "Multi-valued", strconv.FormatBool(stored.MultiValued), strconv.FormatBool(yours.MultiValued))
	add(in.KnownUnique != nil, "knownUnique", "Known to be unique", strconv.FormatBool(stored.KnownUnique), strconv.FormatBool(yours.KnownUnique))
	add(in.Samples != nil, "samples", "Sample values", strings.Join(stored.Samples, "\n"), strings.Join(yours.Samples, "\n"))
	add(in.PII != nil, "pii", "Personal data", stored.PII, yours.PII)
	add(in.PIICategory != nil, "piiCategory", "Category of personal data", stored.PIICategory, yours.PIICategory)
	add(in.Notes != nil, "notes", "Notes", stored.Notes, yours.Notes)
	return out
}

// DeleteField deletes a field and the matrix rows that map it.
func (s *Service) DeleteField(ctx context.Context, projectID, id int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		f, err := findField(tx, projectID, id)
		if err != nil {
			return err
		}
		srcName, err := s.sourceName(ctx, projectID, f.SourceID)
		if err != nil {
			return err
		}
		// The rows go with the field (ON DELETE CASCADE); each deletion is
		// recorded, so that no row leaves the matrix without a trace.
		var rows []Row
		if err := tx.Where("source_field_id = ?", id).Order("id").Find(&rows).Error; err != nil {
			return err
		}
		for i := range rows {
			if err := audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "mapping_row", EntityID: rows[i].ID,
				Label: rowLabel(f, &rows[i]), Before: &rows[i]}); err != nil {
				return err
			}
		}
		if err := tx.Delete(&SourceField{}, id).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "source_field", EntityID: id, Label: f.label(srcName), Before: f})
	}))
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
