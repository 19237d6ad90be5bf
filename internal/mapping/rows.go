package mapping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/mapping/transform"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// Row statuses: mapped to a target, or deliberately not migrated.
const (
	StatusMapped  = "mapped"
	StatusIgnored = "ignored"
)

// MaxPriority bounds the order of several sources feeding one attribute.
const MaxPriority = 99

// Row is one line of the matrix: a source field mapped to an Okta attribute.
type Row struct {
	ID              int64  `gorm:"primaryKey" json:"id"`
	ProjectID       int64  `json:"projectId"`
	SourceFieldID   int64  `json:"sourceFieldId"`
	TargetAttribute string `json:"targetAttribute"`
	Status          string `json:"status"`
	// Priority orders the rows that feed one attribute: 1 is the source of truth.
	Priority int `json:"priority"`
	// Transform is the transformation pipeline as JSON ("" for none).
	Transform string    `gorm:"column:transform_json" json:"transform"`
	Notes     string    `json:"notes"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func (Row) TableName() string { return "mapping_rows" }

// RowInput creates or changes a row; nil fields keep their value.
type RowInput struct {
	SourceFieldID   *int64  `json:"sourceFieldId"`
	TargetAttribute *string `json:"targetAttribute"`
	Status          *string `json:"status"`
	Priority        *int    `json:"priority"`
	Transform       *string `json:"transform"`
	Notes           *string `json:"notes"`
}

func (r *Row) apply(in RowInput) {
	if in.SourceFieldID != nil {
		r.SourceFieldID = *in.SourceFieldID
	}
	r.TargetAttribute = trimmed(in.TargetAttribute, r.TargetAttribute)
	r.Status = trimmed(in.Status, r.Status)
	if in.Priority != nil {
		r.Priority = *in.Priority
	}
	r.Transform = trimmed(in.Transform, r.Transform)
	r.Notes = trimmed(in.Notes, r.Notes)
	if r.Status == StatusIgnored {
		r.TargetAttribute = ""
		r.Transform = ""
	}
}

// rowContext is what a row is validated against.
type rowContext struct {
	field      *SourceField
	siblings   []string // names of the fields of the same source
	attributes []schema.Attribute
}

func (r *Row) validate(rc rowContext) error {
	c := apperr.NewCheck()
	c.OneOf("status", "Mapping", r.Status, []string{StatusMapped, StatusIgnored}, false)
	if r.Status == StatusMapped {
		if r.TargetAttribute == "" {
			c.Add("target_attribute", "Choose the Okta attribute this field maps to, or mark the field as not migrated.")
		} else if findAttribute(rc.attributes, r.TargetAttribute) == nil {
			c.Add("target_attribute", fmt.Sprintf("%q is not an attribute of this project's Okta profile: define it as a custom attribute first.", truncate(r.TargetAttribute, 80)))
		}
	}
	if r.Priority < 1 || r.Priority > MaxPriority {
		c.Add("priority", fmt.Sprintf("Priority must be between 1 (the source of truth) and %d.", MaxPriority))
	}
	if r.Transform != "" {
		p, err := transform.Parse([]byte(r.Transform))
		if err == nil {
			err = p.Validate(rc.siblings)
		}
		if err != nil {
			c.Add("transform", "Transformation: "+err.Error())
		}
	}
	c.Text("notes", "Notes", r.Notes, false, apperr.MaxTextLen)
	return c.Err()
}

func findAttribute(attrs []schema.Attribute, name string) *schema.Attribute {
	for i := range attrs {
		if attrs[i].Name == name {
			return &attrs[i]
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// Pipeline parses the row's transformation (nil when there is none).
func (r *Row) Pipeline() (transform.Pipeline, error) {
	if r.Transform == "" {
		return nil, nil
	}
	return transform.Parse([]byte(r.Transform))
}

// CanonicalTransform re-encodes a transformation definition, so that the
// same pipeline is always stored as the same text.
func CanonicalTransform(def string) (string, error) {
	if strings.TrimSpace(def) == "" {
		return "", nil
	}
	p, err := transform.Parse([]byte(def))
	if err != nil {
		return "", err
	}
	if len(p) == 0 {
		return "", nil
	}
	b, err := json.Marshal(p)
	return string(b), err
}

func (s *Service) rowContext(ctx context.Context, q *gorm.DB, projectID, fieldID int64) (rowContext, error) {
	f, err := findField(q, projectID, fieldID)
	if apperr.Is(err, apperr.CodeNotFound) {
		return rowContext{}, apperr.Invalid("Please correct the highlighted fields.", map[string]string{"source_field_id": "Choose a field of one of this project's sources."})
	}
	if err != nil {
		return rowContext{}, err
	}
	var siblings []string
	if err := q.Model(&SourceField{}).Where("source_id = ?", f.SourceID).Order("name_key").Pluck("name", &siblings).Error; err != nil {
		return rowContext{}, err
	}
	attrs, err := s.schema.Attributes(ctx, projectID)
	if err != nil {
		return rowContext{}, err
	}
	return rowContext{field: f, siblings: siblings, attributes: attrs}, nil
}

func duplicateRow(err error) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"target_attribute": "This field is already mapped to this attribute (or already marked as not migrated)."})
	}
	return err
}

// CreateRow adds a row to the matrix.
func (s *Service) CreateRow(ctx context.Context, projectID int64, in RowInput) (*Row, error) {
	r := &Row{ProjectID: projectID, Status: StatusMapped, Priority: 1, Version: 1}
	r.apply(in)
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		return s.createRow(ctx, tx, r)
	})
	if err != nil {
		return nil, wrap(err)
	}
	return r, nil
}

func (s *Service) createRow(ctx context.Context, tx *gorm.DB, r *Row) error {
	rc, err := s.rowContext(ctx, tx, r.ProjectID, r.SourceFieldID)
	if err != nil {
		return err
	}
	if err := r.validate(rc); err != nil {
		return err
	}
	if r.Transform, err = CanonicalTransform(r.Transform); err != nil {
		return err
	}
	if err := tx.Create(r).Error; err != nil {
		return duplicateRow(err)
	}
	return audit.Record(ctx, tx, audit.Change{ProjectID: r.ProjectID, Action: audit.ActionCreate, EntityType: "mapping_row", EntityID: r.ID,
		Label: rowLabel(rc.field, r), After: r})
}

func rowLabel(f *SourceField, r *Row) string {
	if r.Status == StatusIgnored {
		return f.Name + " (not migrated)"
	}
	return f.Name + " → " + r.TargetAttribute
}

// FindRowByID returns one row of a project.
func (s *Service) FindRowByID(ctx context.Context, projectID, id int64) (*Row, error) {
	return findRow(s.db.Read.WithContext(ctx), projectID, id)
}

func findRow(q *gorm.DB, projectID, id int64) (*Row, error) {
	var r Row
	if err := q.Where("project_id = ? AND id = ?", projectID, id).First(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, apperr.NotFound("matrix row")
		}
		return nil, apperr.Internal(err)
	}
	return &r, nil
}

// FindRows lists a project's rows.
func (s *Service) FindRows(ctx context.Context, projectID int64) ([]Row, error) {
	var out []Row
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Order("id").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// UpdateRow applies in if the row is still at version. Someone else's save
// in between is refused with what they changed.
func (s *Service) UpdateRow(ctx context.Context, projectID, id, version int64, in RowInput) (*Row, error) {
	var out *Row
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		r, err := findRow(tx, projectID, id)
		if err != nil {
			return err
		}
		before := *r
		r.apply(in)
		if before.Version != version {
			return apperr.VersionConflict("matrix row", before.Version, rowChanges(&before, r, in))
		}
		rc, err := s.rowContext(ctx, tx, projectID, r.SourceFieldID)
		if err != nil {
			return err
		}
		if err := r.validate(rc); err != nil {
			return err
		}
		if r.Transform, err = CanonicalTransform(r.Transform); err != nil {
			return err
		}
		r.Version++
		res := tx.Model(r).Where("id = ? AND version = ?", id, version).
			Select("source_field_id", "target_attribute", "status", "priority", "transform_json", "notes", "version", "updated_at").Updates(r)
		if res.Error != nil {
			return duplicateRow(res.Error)
		}
		if res.RowsAffected == 0 {
			return apperr.VersionConflict("matrix row", 0, nil)
		}
		out = r
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "mapping_row", EntityID: id,
			Label: rowLabel(rc.field, r), Before: before, After: r})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

func rowChanges(stored, yours *Row, in RowInput) []apperr.FieldChange {
	var out []apperr.FieldChange
	add := func(sent bool, field, label, a, b string) {
		if sent && a != b {
			out = append(out, apperr.FieldChange{Field: field, Label: label, Stored: a, Yours: b})
		}
	}
	add(in.TargetAttribute != nil, "targetAttribute", "Okta attribute", stored.TargetAttribute, yours.TargetAttribute)
	add(in.Status != nil, "status", "Mapping", stored.Status, yours.Status)
	add(in.Priority != nil, "priority", "Priority", fmt.Sprint(stored.Priority), fmt.Sprint(yours.Priority))
	add(in.Transform != nil, "transform", "Transformation", stored.Transform, yours.Transform)
	add(in.Notes != nil, "notes", "Notes", stored.Notes, yours.Notes)
	return out
}

// DeleteRow removes a row from the matrix.
func (s *Service) DeleteRow(ctx context.Context, projectID, id int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		r, err := findRow(tx, projectID, id)
		if err != nil {
			return err
		}
		f, err := findField(tx, projectID, r.SourceFieldID)
		if err != nil {
			return err
		}
		if err := tx.Delete(&Row{}, id).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "mapping_row", EntityID: id,
			Label: rowLabel(f, r), Before: r})
	}))
}
