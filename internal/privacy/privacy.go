// Package privacy is the legal review of personal data: the register of every
// source field that carries PII, the reviewer's decision on each (migrate as
// is, migrate transformed, or do not migrate), the sign-off of the whole
// register, and the gate that keeps a real load from starting while any of it
// is open.
package privacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/mapping"
)

// Review statuses.
const (
	StatusPending          = "pending"
	StatusApproved         = "approved"
	StatusChangesRequested = "changes_requested"
	// StatusChanged is derived: approved, but the field or its mapping changed since.
	StatusChanged = "changed"
)

// Decisions on a PII field.
const (
	DecisionMigrate   = "migrate"
	DecisionTransform = "transform"
	DecisionDrop      = "drop"
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

// Statuses a reviewer can set.
func Statuses() []Option {
	return []Option{{StatusPending, "Pending"}, {StatusApproved, "Approved"}, {StatusChangesRequested, "Changes requested"}}
}

// Decisions a reviewer can take.
func Decisions() []Option {
	return []Option{
		{DecisionMigrate, "Migrate as is"},
		{DecisionTransform, "Migrate transformed"},
		{DecisionDrop, "Do not migrate"},
	}
}

// TransformMethods say how a field is transformed for privacy.
func TransformMethods() []Option {
	return []Option{{"masked", "Masked"}, {"hashed", "Hashed"}, {"truncated", "Truncated"}}
}

// LawfulBases are GDPR Art. 6(1)'s grounds for processing.
func LawfulBases() []Option {
	return []Option{
		{"consent", "Consent (Art. 6(1)(a))"},
		{"contract", "Contract (Art. 6(1)(b))"},
		{"legal_obligation", "Legal obligation (Art. 6(1)(c))"},
		{"vital_interests", "Vital interests (Art. 6(1)(d))"},
		{"public_task", "Public task (Art. 6(1)(e))"},
		{"legitimate_interests", "Legitimate interests (Art. 6(1)(f))"},
	}
}

// Review is the legal decision on one PII field.
type Review struct {
	ID              int64      `gorm:"primaryKey" json:"id"`
	ProjectID       int64      `json:"projectId"`
	SourceFieldID   int64      `json:"sourceFieldId"`
	Status          string     `json:"status"`
	Decision        string     `json:"decision"`
	TransformMethod string     `json:"transformMethod"`
	LawfulBasis     string     `json:"lawfulBasis"`
	RetentionNote   string     `json:"retentionNote"`
	Comment         string     `json:"comment"`
	DecidedByID     *int64     `json:"decidedById,omitempty"`
	DecidedByName   string     `json:"decidedByName"`
	DecidedAt       *time.Time `json:"decidedAt,omitempty"`
	// ApprovedSnapshot is the field (and its mapping) as it was approved.
	ApprovedSnapshot string    `gorm:"column:approved_snapshot_json" json:"-"`
	ReopenedReason   string    `json:"reopenedReason"`
	Version          int64     `json:"version"`
	CreatedAt        time.Time `json:"createdAt"`
	UpdatedAt        time.Time `json:"updatedAt"`
}

func (Review) TableName() string { return "pii_reviews" }

// SignOff is a reviewer's sign-off of the whole register.
type SignOff struct {
	ID            int64      `gorm:"primaryKey" json:"id"`
	ProjectID     int64      `json:"projectId"`
	SignedByID    *int64     `json:"signedById,omitempty"`
	SignedByName  string     `json:"signedByName"`
	SignedAt      time.Time  `json:"signedAt"`
	FieldCount    int        `json:"fieldCount"`
	RegisterHash  string     `json:"-"`
	RevokedAt     *time.Time `json:"revokedAt,omitempty"`
	RevokedReason string     `json:"revokedReason,omitempty"`
}

func (SignOff) TableName() string { return "pii_signoffs" }

// FieldReader is what privacy needs of the matrix.
type FieldReader interface {
	FindFields(ctx context.Context, projectID, sourceID int64) ([]mapping.SourceField, error)
	FindRows(ctx context.Context, projectID int64) ([]mapping.Row, error)
}

// SourceNamer names a project's sources.
type SourceNamer interface {
	SourceNames(ctx context.Context, projectID int64) (map[int64]string, error)
}

// Service is the privacy service.
type Service struct {
	db      *db.DB
	fields  FieldReader
	sources SourceNamer
	now     func() time.Time
}

// NewService returns a privacy service.
func NewService(database *db.DB, fields FieldReader, sources SourceNamer, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: database, fields: fields, sources: sources, now: now}
}

// snapshot is what an approval covers: the field as described and where it goes.
type snapshot struct {
	Name     string   `json:"name"`
	Source   string   `json:"source"`
	DataType string   `json:"dataType"`
	Category string   `json:"category"`
	Targets  []string `json:"targets"`
}

func makeSnapshot(f mapping.SourceField, source string, rows []mapping.Row) snapshot {
	s := snapshot{Name: f.Name, Source: source, DataType: f.DataType, Category: f.PIICategory, Targets: []string{}}
	for _, r := range rows {
		if r.SourceFieldID != f.ID {
			continue
		}
		if r.Status == mapping.StatusIgnored {
			s.Targets = append(s.Targets, "(not migrated)")
			continue
		}
		t := r.TargetAttribute
		if r.Transform != "" {
			t += " via " + r.Transform
		}
		s.Targets = append(s.Targets, t)
	}
	sort.Strings(s.Targets)
	return s
}

func (s snapshot) json() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Change is one difference between what was approved and what is there now.
type Change struct {
	What, Approved, Now string
}

func (s snapshot) diff(now snapshot) []Change {
	var out []Change
	add := func(what, a, b string) {
		if a != b {
			out = append(out, Change{What: what, Approved: a, Now: b})
		}
	}
	add("Field name", s.Name, now.Name)
	add("Source", s.Source, now.Source)
	add("Data type", s.DataType, now.DataType)
	add("Category", mapping.LabelOf(mapping.PIICategories(), s.Category), mapping.LabelOf(mapping.PIICategories(), now.Category))
	add("Mapped to", strings.Join(s.Targets, "; "), strings.Join(now.Targets, "; "))
	return out
}

// Entry is one line of the PII register.
type Entry struct {
	Field      mapping.SourceField
	SourceName string
	Targets    []string
	Review     *Review
	// Status is the effective status: pending when there is no review yet,
	// changed when the field or its mapping moved since approval.
	Status  string
	Changes []Change
}

// Open reports whether the entry still needs the reviewer.
func (e Entry) Open() bool { return e.Status != StatusApproved }

// Register is a project's PII register with its sign-off state.
type Register struct {
	Entries []Entry
	// Unconfirmed are fields Ferry suggests as PII that nobody has confirmed or denied.
	Unconfirmed []mapping.SourceField
	SignOff     *SignOff // the newest sign-off, if any
	// SignedOff is true while the newest sign-off still covers the register as it is.
	SignedOff bool
	Pending   int
	Approved  int
	hash      string
}

// LoadRegister builds the register from the matrix and the reviews.
func (s *Service) LoadRegister(ctx context.Context, projectID int64) (*Register, error) {
	fields, err := s.fields.FindFields(ctx, projectID, 0)
	if err != nil {
		return nil, err
	}
	rows, err := s.fields.FindRows(ctx, projectID)
	if err != nil {
		return nil, err
	}
	names, err := s.sources.SourceNames(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return s.RegisterOf(ctx, projectID, fields, rows, names)
}

// RegisterOf builds the register from fields and rows the caller already
// loaded (the matrix page has them), reading only the reviews and sign-offs.
func (s *Service) RegisterOf(ctx context.Context, projectID int64, fields []mapping.SourceField, rows []mapping.Row, names map[int64]string) (*Register, error) {
	var reviews []Review
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Find(&reviews).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	byField := map[int64]*Review{}
	for i := range reviews {
		byField[reviews[i].SourceFieldID] = &reviews[i]
	}
	var signOff SignOff
	err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Order("id DESC").First(&signOff).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.Internal(err)
	}
	reg := &Register{}
	if err == nil {
		reg.SignOff = &signOff
	}
	hashInput := []string{}
	for _, f := range fields {
		if f.PII != mapping.PIIYes {
			if f.PII == mapping.PIIUnknown && f.PIISuggestion != "" {
				reg.Unconfirmed = append(reg.Unconfirmed, f)
			}
			continue
		}
		snap := makeSnapshot(f, names[f.SourceID], rows)
		e := Entry{Field: f, SourceName: names[f.SourceID], Targets: snap.Targets, Review: byField[f.ID], Status: StatusPending}
		if e.Review != nil {
			e.Status = e.Review.Status
			if e.Status == StatusApproved {
				var approved snapshot
				_ = json.Unmarshal([]byte(e.Review.ApprovedSnapshot), &approved)
				if e.Changes = approved.diff(snap); len(e.Changes) > 0 {
					e.Status = StatusChanged
				}
			}
		}
		if e.Open() {
			reg.Pending++
		} else {
			reg.Approved++
			hashInput = append(hashInput, fmt.Sprintf("%d|%s|%s|%s|%s", f.ID, e.Review.Decision, e.Review.TransformMethod, e.Review.LawfulBasis, e.Review.ApprovedSnapshot))
		}
		reg.Entries = append(reg.Entries, e)
	}
	sort.Strings(hashInput)
	sum := sha256.Sum256([]byte(strings.Join(hashInput, "\n") + fmt.Sprintf("\n%d", len(reg.Entries))))
	reg.hash = hex.EncodeToString(sum[:])
	reg.SignedOff = reg.SignOff != nil && reg.SignOff.RevokedAt == nil && reg.Pending == 0 && reg.SignOff.RegisterHash == reg.hash
	return reg, nil
}

// Entry returns the register entry of one field.
func (r *Register) Entry(fieldID int64) (*Entry, bool) {
	for i := range r.Entries {
		if r.Entries[i].Field.ID == fieldID {
			return &r.Entries[i], true
		}
	}
	return nil, false
}

// DecisionInput is a reviewer's decision on one field.
type DecisionInput struct {
	Status          string `json:"status"`
	Decision        string `json:"decision"`
	TransformMethod string `json:"transformMethod"`
	LawfulBasis     string `json:"lawfulBasis"`
	RetentionNote   string `json:"retentionNote"`
	Comment         string `json:"comment"`
}

func (in *DecisionInput) validate() error {
	in.Status, in.Decision = strings.TrimSpace(in.Status), strings.TrimSpace(in.Decision)
	in.TransformMethod, in.LawfulBasis = strings.TrimSpace(in.TransformMethod), strings.TrimSpace(in.LawfulBasis)
	in.RetentionNote, in.Comment = strings.TrimSpace(in.RetentionNote), strings.TrimSpace(in.Comment)
	c := apperr.NewCheck()
	c.OneOf("status", "Status", in.Status, values(Statuses()), false)
	c.OneOf("decision", "Decision", in.Decision, values(Decisions()), true)
	c.OneOf("transform_method", "How it is transformed", in.TransformMethod, values(TransformMethods()), true)
	c.OneOf("lawful_basis", "Lawful basis", in.LawfulBasis, values(LawfulBases()), true)
	c.Text("retention_note", "Retention note", in.RetentionNote, false, apperr.MaxShortLen)
	c.Text("comment", "Comment", in.Comment, false, apperr.MaxTextLen)
	if in.Status == StatusApproved {
		if in.Decision == "" {
			c.Add("decision", "Choose a decision before approving.")
		}
		if in.Decision != DecisionDrop && in.LawfulBasis == "" {
			c.Add("lawful_basis", "Name the lawful basis for migrating this personal data.")
		}
	}
	if in.Decision == DecisionTransform && in.TransformMethod == "" {
		c.Add("transform_method", "Say how the field is transformed: masked, hashed or truncated.")
	}
	if in.Decision != DecisionTransform {
		in.TransformMethod = ""
	}
	if in.Status == StatusChangesRequested && in.Comment == "" {
		c.Add("comment", "Say what must change.")
	}
	return c.Err()
}

// Decide records the reviewer's decision on a PII field. version is the
// review's version the reviewer saw (0 when there was no review yet).
func (s *Service) Decide(ctx context.Context, projectID, fieldID, version int64, in DecisionInput) (*Review, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	reg, err := s.LoadRegister(ctx, projectID)
	if err != nil {
		return nil, err
	}
	entry, ok := reg.Entry(fieldID)
	if !ok {
		return nil, apperr.NotFound("personal-data field")
	}
	rows, err := s.fields.FindRows(ctx, projectID)
	if err != nil {
		return nil, err
	}
	snap := makeSnapshot(entry.Field, entry.SourceName, rows)
	actor := audit.ActorFrom(ctx)
	now := s.now().UTC()
	var out Review
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var r Review
		err := tx.Where("source_field_id = ? AND project_id = ?", fieldID, projectID).First(&r).Error
		isNew := errors.Is(err, gorm.ErrRecordNotFound)
		if err != nil && !isNew {
			return err
		}
		if !isNew && r.Version != version || isNew && version != 0 {
			return apperr.VersionConflict("decision", r.Version, nil)
		}
		before := r
		r.ProjectID, r.SourceFieldID = projectID, fieldID
		r.Status, r.Decision, r.TransformMethod = in.Status, in.Decision, in.TransformMethod
		r.LawfulBasis, r.RetentionNote, r.Comment = in.LawfulBasis, in.RetentionNote, in.Comment
		if actor.ID != 0 {
			id := actor.ID
			r.DecidedByID = &id
		}
		r.DecidedByName, r.DecidedAt = actor.Name, &now
		r.ReopenedReason = ""
		if in.Status == StatusApproved {
			r.ApprovedSnapshot = snap.json()
		} else {
			r.ApprovedSnapshot = ""
		}
		if isNew {
			r.Version = 1
			if err := tx.Create(&r).Error; err != nil {
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					return apperr.VersionConflict("decision", 0, nil)
				}
				return err
			}
		} else {
			r.Version++
			res := tx.Model(&r).Where("id = ? AND version = ?", r.ID, version).Select("*").Updates(&r)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return apperr.VersionConflict("decision", 0, nil)
			}
		}
		out = r
		label := entry.SourceName + "." + entry.Field.Name
		var b any
		if !isNew {
			b = before
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: map[bool]string{true: audit.ActionCreate, false: audit.ActionUpdate}[isNew],
			EntityType: "pii_review", EntityID: r.ID, Label: label, Before: b, After: r})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}

// SignOffRegister signs off the whole register as the actor in ctx. It is
// refused while any entry is open.
func (s *Service) SignOffRegister(ctx context.Context, projectID int64) (*SignOff, error) {
	reg, err := s.LoadRegister(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if len(reg.Entries) == 0 {
		return nil, apperr.Invalid("There is no personal data to sign off: mark the fields that carry PII in the matrix first.", nil)
	}
	if reg.Pending > 0 {
		return nil, apperr.Invalid(fmt.Sprintf("%d personal-data field(s) still need an approved decision before the register can be signed off.", reg.Pending), nil)
	}
	if reg.SignedOff {
		return nil, apperr.Invalid("The register is already signed off as it is.", nil)
	}
	actor := audit.ActorFrom(ctx)
	so := &SignOff{ProjectID: projectID, SignedByName: actor.Name, SignedAt: s.now().UTC(), FieldCount: len(reg.Entries), RegisterHash: reg.hash}
	if actor.ID != 0 {
		id := actor.ID
		so.SignedByID = &id
	}
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(so).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "pii_signoff", EntityID: so.ID,
			Label: fmt.Sprintf("PII register (%d fields)", so.FieldCount), After: so})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return so, nil
}

// GateResult answers "may this project load users into this org?".
type GateResult struct {
	Open    bool
	Reasons []string
}

// LoadGate is the gate the load engine asks before and during a load. Ferry's
// own sandbox is always allowed; any other org (preview orgs included) only
// when every PII decision is approved and the register is signed off as it is.
func (s *Service) LoadGate(ctx context.Context, projectID int64, sandbox bool) (GateResult, error) {
	if sandbox {
		return GateResult{Open: true}, nil
	}
	reg, err := s.LoadRegister(ctx, projectID)
	if err != nil {
		return GateResult{}, err
	}
	var reasons []string
	if len(reg.Unconfirmed) > 0 {
		reasons = append(reasons, fmt.Sprintf("%d field(s) look like personal data and nobody has confirmed whether they are.", len(reg.Unconfirmed)))
	}
	if reg.Pending > 0 {
		reasons = append(reasons, fmt.Sprintf("%d personal-data field(s) have no approved legal decision.", reg.Pending))
	}
	if !reg.SignedOff {
		if reg.SignOff != nil && reg.Pending == 0 {
			reasons = append(reasons, "The PII register changed since it was signed off: a legal reviewer must sign it off again.")
		} else {
			reasons = append(reasons, "The PII register is not signed off by a legal reviewer.")
		}
	}
	return GateResult{Open: len(reasons) == 0, Reasons: reasons}, nil
}

// DroppedFields lists the fields a "do not migrate" decision removes from
// every load.
func (s *Service) DroppedFields(ctx context.Context, projectID int64) (map[int64]bool, error) {
	var ids []int64
	err := s.db.Read.WithContext(ctx).Model(&Review{}).Where("project_id = ? AND decision = ?", projectID, DecisionDrop).Pluck("source_field_id", &ids).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// Problems are the privacy findings shown in the matrix: PII without an
// approved decision, suggestions nobody confirmed, dropped fields still mapped.
func (s *Service) Problems(ctx context.Context, projectID int64) ([]mapping.Problem, error) {
	reg, err := s.LoadRegister(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return reg.Problems(), nil
}

// Problems are the register's findings for the matrix (see Service.Problems).
func (reg *Register) Problems() []mapping.Problem {
	var out []mapping.Problem
	for _, e := range reg.Entries {
		switch e.Status {
		case StatusApproved:
			if e.Review.Decision == DecisionDrop && len(e.Targets) > 0 && !(len(e.Targets) == 1 && e.Targets[0] == "(not migrated)") {
				out = append(out, mapping.Problem{Code: "pii_dropped", Severity: mapping.SeverityWarning, FieldID: e.Field.ID,
					Message: "Legal decided not to migrate this field: no load will send it, whatever this row says."})
			}
		case StatusChanged:
			out = append(out, mapping.Problem{Code: mapping.ProblemPIIUndecided, Severity: mapping.SeverityBlocking, FieldID: e.Field.ID,
				Message: "Personal data changed since the legal reviewer approved it: the decision must be confirmed again."})
		default:
			out = append(out, mapping.Problem{Code: mapping.ProblemPIIUndecided, Severity: mapping.SeverityBlocking, FieldID: e.Field.ID,
				Message: "Personal data without an approved legal decision."})
		}
	}
	for _, f := range reg.Unconfirmed {
		out = append(out, mapping.Problem{Code: "pii_unconfirmed", Severity: mapping.SeverityWarning, FieldID: f.ID,
			Message: fmt.Sprintf("Looks like personal data (%s): confirm whether it is.", mapping.LabelOf(mapping.PIICategories(), f.PIISuggestion))})
	}
	return out
}

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
