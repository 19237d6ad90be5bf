// Package plandoc is a migration plan as one document: everything a project's
// plan holds — settings, goals, user types, sources with their fields and
// settings, applications, the Okta profile, the matrix, the privacy review,
// the test plan and the defect log — with references by name, never by
// database id. It is the portable file of `ferry plan export` and `ferry plan
// import`, and the one model that rendered documents (Markdown, HTML, PDF,
// XLSX, Terraform) and frozen plan versions are made from.
//
// What is deliberately not in it (docs/plan.md): staged data and anything
// derived from it (validation runs, issues, remediation tasks, sample values
// of source fields, Ferry's PII guesses), load runs and their results, group
// hierarchies imported from a source, the Okta org connection and its token,
// accounts and memberships, and bookkeeping (ids, versions, created/updated
// times). People appear as the names the services stored.
package plandoc

import "time"

// Format is the value of Plan.Format: what the file is.
const Format = "ferry-plan"

// FormatVersion is the newest plan format this Ferry writes and reads.
// Raise it when a change means an older Ferry would misread a file; an
// added optional field an older Ferry can refuse cleanly (as an unknown
// field) needs no new version.
const FormatVersion = 1

// Plan is a whole migration plan. Every list is sorted by a stable key (see
// Normalise), so that the same plan always encodes as the same bytes.
type Plan struct {
	Format       string        `json:"format"`
	Version      int           `json:"version"`
	Project      Project       `json:"project"`
	Goals        Goals         `json:"goals"`
	UserTypes    []UserType    `json:"userTypes"`
	Sources      []Source      `json:"sources"`
	Applications []Application `json:"applications"`
	Profile      Profile       `json:"profile"`
	// Matrix is the attribute-mapping matrix, by source, field, status and target.
	Matrix  []MatrixRow `json:"matrix"`
	Privacy Privacy     `json:"privacy"`
	Testing Testing     `json:"testing"`
	// Defects is the defect log, by number.
	Defects []Defect `json:"defects"`
}

// Project holds the project's own settings (not its status, which says where
// one console's migration stands, nor its Okta org, which is a connection).
type Project struct {
	Name          string `json:"name"`
	Description   string `json:"description"`
	MigrationType string `json:"migrationType"` // plan.MigrationOneTime or plan.MigrationProgram
	// UserCreationRateLimit is the org's user-creation limit per minute;
	// LoadRateSharePercent the share of it a load may use.
	UserCreationRateLimit int `json:"userCreationRateLimit"`
	LoadRateSharePercent  int `json:"loadRateSharePercent"`
}

// Goals are the answers to the guidance's "create a migration plan"
// questions and the chosen approach (plan.Goals).
type Goals struct {
	UserExperience       string `json:"userExperience"`
	AcceptableImpact     string `json:"acceptableImpact"`
	ArchiveLegacyData    string `json:"archiveLegacyData"`
	PoliciesAndStandards string `json:"policiesAndStandards"`
	OneShotAcceptable    string `json:"oneShotAcceptable"`
	StagesPreferred      string `json:"stagesPreferred"`
	Approach             string `json:"approach"` // "", one_shot or staged
	Rationale            string `json:"rationale"`
}

// UserType is a category of people with its count and subgroups (in the
// order people gave them).
type UserType struct {
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	UserCount int64      `json:"userCount"`
	Notes     string     `json:"notes"`
	Subgroups []Subgroup `json:"subgroups"`
}

// Subgroup is a part of a user type.
type Subgroup struct {
	Name      string `json:"name"`
	UserCount int64  `json:"userCount"`
}

// Source is a system that holds users today, with its fields and the
// settings that say how its users are loaded.
type Source struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// UserTypes names the user types whose people it holds.
	UserTypes          []string `json:"userTypes"`
	AccessOwner        string   `json:"accessOwner"`
	AccessStatus       string   `json:"accessStatus"`
	AccessStatusDate   string   `json:"accessStatusDate"` // YYYY-MM-DD, a plan fact
	AccessReference    string   `json:"accessReference"`
	MigrateCredentials string   `json:"migrateCredentials"`
	MigrateGroups      string   `json:"migrateGroups"`
	MigrateMemberships string   `json:"migrateMemberships"`
	PasswordHashFormat string   `json:"passwordHashFormat"`
	Notes              string   `json:"notes"`
	// Fields are the source's attributes, by name.
	Fields []Field `json:"fields"`
	// Passwords says how its stored passwords are read (nil: not set up).
	// It holds attribute names and formats, never a hash, salt or pepper.
	Passwords *PasswordSettings `json:"passwords"`
	// Cutover is how account status and managers are read at cut-over (the
	// defaults when the source saved none).
	Cutover Cutover `json:"cutover"`
}

// Field is one attribute of a source as people described it.
type Field struct {
	Name        string `json:"name"`
	DataType    string `json:"dataType"`
	MaxLength   *int   `json:"maxLength"`
	MultiValued bool   `json:"multiValued"`
	KnownUnique bool   `json:"knownUnique"`
	// PII is what a person confirmed: unknown, yes or no; PIICategory the
	// category when yes.
	PII         string `json:"pii"`
	PIICategory string `json:"piiCategory"`
	Notes       string `json:"notes"`
}

// PasswordSettings are a source's password settings (credentials.Settings).
type PasswordSettings struct {
	Attribute     string   `json:"attribute"`
	SaltAttribute string   `json:"saltAttribute"`
	Formats       []string `json:"formats"` // in order of preference
	Default       string   `json:"default"`
	SaltEncoding  string   `json:"saltEncoding"`
	SaltOrder     string   `json:"saltOrder"`
	Iterations    int      `json:"iterations"`
	// Pepper says that the source uses one; the pepper itself is never stored.
	Pepper bool `json:"pepper"`
}

// Cutover are a source's cut-over settings (load.CutoverSettings).
type Cutover struct {
	StatusAttribute  string   `json:"statusAttribute"`
	DisabledValues   []string `json:"disabledValues"`
	LockedValues     []string `json:"lockedValues"`
	ExpiredValues    []string `json:"expiredValues"`
	DisabledAction   string   `json:"disabledAction"`
	LockedAction     string   `json:"lockedAction"`
	ExpiredAction    string   `json:"expiredAction"`
	ManagerAttribute string   `json:"managerAttribute"`
	ManagerKind      string   `json:"managerKind"`
}

// Application is an app that signs in through Okta.
type Application struct {
	Name            string   `json:"name"`
	AccessMethod    string   `json:"accessMethod"`
	UserTypes       []string `json:"userTypes"`
	AssignmentBasis string   `json:"assignmentBasis"`
	OINStatus       string   `json:"oinStatus"`
	OINLink         string   `json:"oinLink"`
	Notes           string   `json:"notes"`
}

// Profile is the target Okta profile: the org settings that change what Okta
// accepts, and the custom attributes (the 31 base attributes are Okta's and
// not repeated).
type Profile struct {
	// LoginPattern is the org's login pattern; empty means email addresses.
	LoginPattern      string            `json:"loginPattern"`
	EmailUnique       bool              `json:"emailUnique"`
	SecondEmailUnique bool              `json:"secondEmailUnique"`
	CustomAttributes  []CustomAttribute `json:"customAttributes"`
}

// CustomAttribute is a custom profile attribute (schema.CustomAttribute).
type CustomAttribute struct {
	Name        string   `json:"name"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Type        string   `json:"type"`
	MinLength   *int     `json:"minLength"`
	MaxLength   *int     `json:"maxLength"`
	Pattern     string   `json:"pattern"`
	Enum        []string `json:"enum"` // in the order people gave them
	Required    bool     `json:"required"`
	Unique      bool     `json:"unique"`
}

// MatrixRow maps one source field to an Okta attribute, or marks it as not
// migrated.
type MatrixRow struct {
	Source string `json:"source"`
	Field  string `json:"field"`
	Status string `json:"status"` // mapped or ignored
	// Target is the Okta attribute ("" when ignored).
	Target string `json:"target"`
	// Priority orders the rows feeding one attribute: 1 is the source of truth.
	Priority int `json:"priority"`
	// Transform is the transformation pipeline (mapping/transform), null for none.
	Transform RawJSON `json:"transform"`
	Notes     string  `json:"notes"`
}

// Privacy is the legal review of the personal data: one decision per field
// confirmed as PII, and the register's sign-off while it still holds.
type Privacy struct {
	// Decisions are by source and field.
	Decisions []PrivacyDecision `json:"decisions"`
	// SignOff is the sign-off that covers the register as it is (nil when
	// it was never signed off, or changed since: an outdated sign-off is
	// history, kept in the audit log, not part of the plan).
	SignOff *SignOff `json:"signOff"`
}

// PrivacyDecision is a legal reviewer's decision on one PII field. Who
// decided and when are part of the plan: they are what a legal review is.
type PrivacyDecision struct {
	Source string `json:"source"`
	Field  string `json:"field"`
	// Status is pending, approved or changes_requested; "changed" when it
	// was approved but the field or its mapping changed since (such a
	// decision imports as pending: a reviewer must look again).
	Status          string    `json:"status"`
	Decision        string    `json:"decision"`
	TransformMethod string    `json:"transformMethod"`
	LawfulBasis     string    `json:"lawfulBasis"`
	RetentionNote   string    `json:"retentionNote"`
	Comment         string    `json:"comment"`
	DecidedBy       string    `json:"decidedBy"`
	DecidedAt       time.Time `json:"decidedAt"`
}

// SignOff is the legal sign-off of the whole PII register.
type SignOff struct {
	SignedBy   string    `json:"signedBy"`
	SignedAt   time.Time `json:"signedAt"`
	FieldCount int       `json:"fieldCount"`
}

// Testing is the test plan: the ladder of test batches of growing size, the
// error rate under which a batch passes, and what a refresh does with
// leavers.
type Testing struct {
	Ladder         []int   `json:"ladder"`
	ErrorThreshold float64 `json:"errorThreshold"`
	Leavers        string  `json:"leavers"`
}

// Defect is one entry of the defect log. A defect recorded from a run's
// failures keeps its description (which names the run, the error code and
// how many users failed) but not its link to the run, which is not part of
// the plan.
type Defect struct {
	Number       int64  `json:"number"`
	UseCase      string `json:"useCase"`
	Description  string `json:"description"`
	TestStatus   string `json:"testStatus"`
	TicketStatus string `json:"ticketStatus"`
	Priority     string `json:"priority"`
	Category     string `json:"category"`
	Notes        string `json:"notes"`
	CreatedBy    string `json:"createdBy"`
}
