package web

import (
	"context"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/sheet"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
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
	DroppedFields(ctx context.Context, projectID int64) (map[int64]bool, error)
}

// StagingService is what the web layer needs of the staging area.
type StagingService interface {
	Stage(ctx context.Context, projectID, sourceID int64, r extract.Reader, meta staging.Meta, progress staging.Progress) (*staging.Extract, error)
	SetFileFacts(ctx context.Context, extractID, sizeBytes int64, checksum string) error
	FindExtracts(ctx context.Context, projectID, sourceID int64) ([]staging.Extract, error)
	CurrentExtracts(ctx context.Context, projectID int64) ([]staging.Extract, error)
	FindRecords(ctx context.Context, extractID, afterID int64, limit int) ([]staging.StagedRecord, error)
	FindRecordByID(ctx context.Context, projectID, recordID int64) (*staging.StagedRecord, *staging.Extract, error)
	FindQuarantined(ctx context.Context, extractID int64) ([]staging.QuarantinedRow, error)
	ExcludeRecord(ctx context.Context, projectID, recordID, version int64, exclude bool, reason string) error
	EditRecord(ctx context.Context, projectID, recordID, version int64, edits map[string]string) (*staging.StagedRecord, error)
	RecordPIIView(ctx context.Context, projectID, sourceID int64, where string) error
	FindProfileJSON(ctx context.Context, recordID int64) (string, error)
	// For the API (internal/staging/find.go).
	FindExtractByID(ctx context.Context, projectID, id int64) (*staging.Extract, error)
	FindQuarantinedPage(ctx context.Context, extractID, afterID int64, limit int) ([]staging.QuarantinedRow, error)
	ProjectRecordIDs(ctx context.Context, projectID int64, ids []int64) ([]int64, error)
}

// QualityService is what the web layer needs of validation and remediation.
type QualityService interface {
	Validate(ctx context.Context, projectID int64, progress quality.Progress) (*quality.Run, error)
	LatestRuns(ctx context.Context, projectID int64, n int) ([]quality.Run, error)
	CurrentDigest(ctx context.Context, projectID int64) (string, error)
	DigestOf(ctx context.Context, projectID int64, m *mapping.Matrix, dropped map[int64]bool) (string, error)
	FindOccurrences(ctx context.Context, f quality.OccurrenceFilter) ([]quality.Occurrence, error)
	CreateTask(ctx context.Context, projectID int64, members quality.MemberChecker, in quality.TaskInput) (*quality.Task, error)
	UpdateTask(ctx context.Context, projectID, id, version int64, members quality.MemberChecker, in quality.TaskInput) (*quality.Task, error)
	FindTasks(ctx context.Context, projectID int64) ([]quality.Task, error)
	// For the API (internal/quality/find.go).
	FindRuns(ctx context.Context, projectID, beforeID int64, limit int) ([]quality.Run, error)
	FindRunByID(ctx context.Context, projectID, id int64) (*quality.Run, error)
	FindTaskByID(ctx context.Context, projectID, id int64) (*quality.Task, error)
}

// OrgService is what the web layer needs of the projects' Okta org connections.
type OrgService interface {
	Find(ctx context.Context, projectID int64) (*orgs.Connection, error)
	Save(ctx context.Context, projectID, version int64, in orgs.Input) (*orgs.Connection, error)
	Token(ctx context.Context, projectID int64) (string, error)
	RecordCheck(ctx context.Context, projectID, version int64, ok, sandbox bool, message string) (*orgs.Connection, error)
	Clear(ctx context.Context, projectID int64) error
}

// OrgChecker checks that an Okta org (or Ferry's sandbox) answers at orgURL
// and accepts the token, sent with scheme (orgs.SchemeSSWS or
// orgs.SchemeBearer). internal/okta's client provides it; without one, the
// page says that the check is not available yet.
type OrgChecker interface {
	Check(ctx context.Context, orgURL, scheme, token string) (orgs.CheckResult, error)
}

// CredentialService is what the web layer needs of the sources' password
// settings and their proof.
type CredentialService interface {
	Find(ctx context.Context, projectID, sourceID int64) (*credentials.Settings, error)
	Save(ctx context.Context, projectID, sourceID, version int64, in credentials.Input) (*credentials.Settings, error)
	Prove(ctx context.Context, projectID, sourceID int64, record, password string) (*credentials.Outcome, error)
}
