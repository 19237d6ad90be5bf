// Package jobs runs Ferry's long work in the background: staging an uploaded
// extract, pulling users from a directory, validating the staged data,
// reading the migration program's users back from Okta. A
// bounded pool of workers executes the jobs; a job's row in the database is
// the truth about it — its state, its progress counters and its outcome — so
// that every page and API client can show where it stands, a person can
// cancel it, and a job that a crash left queued or running is resumed (or
// marked interrupted, with what to do) at the next start, never silently
// forgotten.
//
// The Runner is generic (Submit takes any Work); the kinds Ferry knows,
// with their resumption after a crash, are in work.go.
package jobs

import (
	"fmt"
	"time"
)

// Kinds of job.
const (
	KindStageFile      = "stage_file"
	KindStageDirectory = "stage_directory"
	KindValidate       = "validate"
	// KindConfirmImports reads the migration program's users back from
	// Okta to confirm the imports of their passwords (see ImportConfirmer).
	KindConfirmImports = "confirm_imports"
)

// Kinds lists the kinds Ferry runs.
func Kinds() []string {
	return []string{KindStageFile, KindStageDirectory, KindValidate, KindConfirmImports}
}

// Statuses of a job. Queued and running jobs are active; the others are final.
const (
	StatusQueued      = "queued"
	StatusRunning     = "running"
	StatusSucceeded   = "succeeded"
	StatusFailed      = "failed"
	StatusCancelled   = "cancelled"
	StatusInterrupted = "interrupted"
)

// Statuses lists every status, active ones first.
func Statuses() []string {
	return []string{StatusQueued, StatusRunning, StatusSucceeded, StatusFailed, StatusCancelled, StatusInterrupted}
}

// Job is one piece of background work.
type Job struct {
	ID        int64  `gorm:"primaryKey" json:"id"`
	ProjectID int64  `json:"projectId"`
	SourceID  *int64 `json:"sourceId"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	// LockKey keeps a second active job of the same subject out (see lockKey).
	LockKey string `json:"-"`
	Params  Params `gorm:"column:params_json;serializer:json" json:"params"`
	// InputFile is a file the job reads, removed when the job ends. A server
	// path: never shown.
	InputFile string `json:"-"`
	// Done and Total count the job's progress in its kind's unit: bytes of
	// the file for stage_file, entries for stage_directory (Total 0: not
	// known in advance), records for validate, users for confirm_imports.
	Done  int64 `json:"done"`
	Total int64 `json:"total"`
	// Message is what a person reads: the progress while the job runs, the
	// result (or what to do) when it has ended.
	Message       string     `json:"message"`
	Result        Result     `gorm:"column:result_json;serializer:json" json:"result"`
	Error         string     `json:"error"`
	CreatedByID   *int64     `json:"createdById"`
	CreatedByName string     `json:"createdByName"`
	CreatedAt     time.Time  `json:"createdAt"`
	StartedAt     *time.Time `json:"startedAt"`
	FinishedAt    *time.Time `json:"finishedAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

// Params say what a job was asked to do. They are stored and shown as they
// are, so they never hold a secret: a directory pull's bind password is not
// among them (it lives in memory only, for the job's life).
type Params struct {
	// SourceName is the source a staging job stages into, as named when it started.
	SourceName string `json:"sourceName,omitempty"`

	// stage_file: the uploaded file, measured and hashed as it was received.
	FileName     string `json:"fileName,omitempty"`
	Format       string `json:"format,omitempty"`
	KeyAttribute string `json:"keyAttribute,omitempty"`
	SizeBytes    int64  `json:"sizeBytes,omitempty"`
	Checksum     string `json:"checksum,omitempty"`

	// stage_directory: where and what to read (ldapextract.Config without the password).
	URL                string   `json:"url,omitempty"`
	StartTLS           bool     `json:"startTls,omitempty"`
	InsecureSkipVerify bool     `json:"insecureSkipVerify,omitempty"`
	BindDN             string   `json:"bindDn,omitempty"`
	BaseDN             string   `json:"baseDn,omitempty"`
	Filter             string   `json:"filter,omitempty"`
	Attributes         []string `json:"attributes,omitempty"`
	PageSize           uint32   `json:"pageSize,omitempty"`

	// confirm_imports: only the users the hook answered VERIFIED for (the
	// scheduled read-back), not every unconfirmed user.
	VerifiedOnly bool `json:"verifiedOnly,omitempty"`
}

// Result is what a finished job produced.
type Result struct {
	// ExtractID is the extract a staging job staged.
	ExtractID int64 `json:"extractId,omitempty"`
	// ValidationRunID is the validation run a validate job recorded.
	ValidationRunID int64 `json:"validationRunId,omitempty"`
}

// Active reports whether the job is queued or running.
func (j Job) Active() bool { return j.Status == StatusQueued || j.Status == StatusRunning }

// Label names the job for people: "staging hr.csv into HR export".
func (j Job) Label() string {
	switch j.Kind {
	case KindStageFile:
		if j.Params.SourceName != "" {
			return fmt.Sprintf("staging %s into %s", j.Params.FileName, j.Params.SourceName)
		}
		return "staging " + j.Params.FileName
	case KindStageDirectory:
		what := "pulling users from " + j.Params.URL
		if j.Params.SourceName != "" {
			what += " into " + j.Params.SourceName
		}
		return what
	case KindValidate:
		return "validating the staged data"
	case KindConfirmImports:
		if j.Params.VerifiedOnly {
			return "checking with Okta the imports it has not confirmed (scheduled)"
		}
		return "checking with Okta which passwords it holds"
	}
	return j.Kind
}

// lockKey is the subject of which at most one job may be active per project:
// the source of a staging, the project's data for a validation.
func lockKey(kind string, sourceID int64) string {
	switch kind {
	case KindStageFile, KindStageDirectory:
		return fmt.Sprintf("source:%d", sourceID)
	case KindValidate:
		return "validate"
	case KindConfirmImports:
		return "confirm_imports"
	}
	return ""
}
