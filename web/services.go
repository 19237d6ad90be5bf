package web

import (
	"context"

	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/sheet"
)

// SchemaService is what the web layer needs of the project's Okta profile schema.
type SchemaService interface {
	Attributes(ctx context.Context, projectID int64) ([]schema.Attribute, error)
	FindSettings(ctx context.Context, projectID int64) (*schema.Settings, error)
	UpdateSettings(ctx context.Context, projectID, version int64, in schema.SettingsInput) (*schema.Settings, error)
	FindCustomAttributes(ctx context.Context, projectID int64) ([]schema.CustomAttribute, error)
	FindCustomAttributeByID(ctx context.Context, projectID, id int64) (*schema.CustomAttribute, error)
	CreateCustomAttribute(ctx context.Context, projectID int64, in schema.CustomAttributeInput) (*schema.CustomAttribute, error)
	UpdateCustomAttribute(ctx context.Context, projectID, id, version int64, in schema.CustomAttributeInput) (*schema.CustomAttribute, error)
	DeleteCustomAttribute(ctx context.Context, projectID, id int64) error
}

// MappingService is what the web layer needs of the attribute-mapping matrix.
type MappingService interface {
	FindFields(ctx context.Context, projectID, sourceID int64) ([]mapping.SourceField, error)
	FindFieldByID(ctx context.Context, projectID, id int64) (*mapping.SourceField, error)
	CreateField(ctx context.Context, projectID, sourceID int64, in mapping.FieldInput) (*mapping.SourceField, error)
	UpdateField(ctx context.Context, projectID, id, version int64, in mapping.FieldInput) (*mapping.SourceField, error)
	DeleteField(ctx context.Context, projectID, id int64) error
	FindRows(ctx context.Context, projectID int64) ([]mapping.Row, error)
	FindRowByID(ctx context.Context, projectID, id int64) (*mapping.Row, error)
	CreateRow(ctx context.Context, projectID int64, in mapping.RowInput) (*mapping.Row, error)
	UpdateRow(ctx context.Context, projectID, id, version int64, in mapping.RowInput) (*mapping.Row, error)
	DeleteRow(ctx context.Context, projectID, id int64) error
	LoadMatrix(ctx context.Context, projectID int64) (*mapping.Matrix, error)
	AcceptSuggestions(ctx context.Context, projectID int64, fieldIDs []int64) (int, error)
	PlanImport(ctx context.Context, projectID int64, t sheet.Table) (*mapping.ImportPlan, error)
	ApplyImport(ctx context.Context, projectID int64, t sheet.Table, digest string) (*mapping.ImportPlan, error)
}

// PrivacyService is what the web layer needs of the legal review.
type PrivacyService interface {
	LoadRegister(ctx context.Context, projectID int64) (*privacy.Register, error)
	RegisterOf(ctx context.Context, projectID int64, fields []mapping.SourceField, rows []mapping.Row, names map[int64]string) (*privacy.Register, error)
	Decide(ctx context.Context, projectID, fieldID, version int64, in privacy.DecisionInput) (*privacy.Review, error)
	SignOffRegister(ctx context.Context, projectID int64) (*privacy.SignOff, error)
	LoadGate(ctx context.Context, projectID int64, sandbox bool) (privacy.GateResult, error)
}
