// Package load moves staged users into an Okta org: test batches of growing
// size, production loads and rollbacks. A run works on a snapshot of its
// users taken when it starts, keeps each user's state in the database
// (pending → sending → created / existed / failed / skipped), is owned by
// one process at a time through a lease, paces itself by the org's rate
// limits (internal/load/pace) and can be killed at any moment and resumed
// without losing or doubling a user: a user whose request was in flight is
// looked up by login before it is sent again.
//
// Ferry records the Okta id of every user and group it creates (tables
// okta_users and okta_groups); a rollback acts on those records, never on a
// search, so that users who existed before Ferry are never touched.
package load

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ferry-migrate/ferry/internal/plan"
)

// Run kinds.
const (
	KindLoad      = "load"
	KindTestBatch = "test_batch"
	KindRollback  = "rollback"
	// The cut-over (docs/loads.md): a refresh brings the users Ferry created
	// up to date with the latest extract (changed profiles and hashes,
	// joiners, leavers); a wave activates staged users; the manager pass sets
	// managerId and manager; a reconciliation reads users back and compares.
	KindRefresh   = "refresh"
	KindActivate  = "activate"
	KindManagers  = "managers"
	KindReconcile = "reconcile"
	// The end of a migration program (stragglers.go, reset.go): a password
	// reset for the hook users who never signed in within its period.
	KindResetPassword = "reset_password"
)

// Item actions: what a run does to one user.
const (
	ActionCreate   = "create"
	ActionUpdate   = "update"
	ActionLeave    = "leave"
	ActionActivate = "activate"
	ActionManager  = "manager"
	ActionRead     = "read"
	ActionRemove   = "remove" // a rollback
	// ActionResetPassword: lifecycle/reset_password for a straggler.
	ActionResetPassword = "reset_password"
)

// Legacy account statuses read from a source, and what becomes of them.
const (
	AccountActive   = "active"
	AccountDisabled = "disabled"
	AccountLocked   = "locked"
	AccountExpired  = "expired"

	StatusSkip           = "skip"            // not loaded (a skipped item)
	StatusCreate         = "create"          // loaded as any other user
	StatusSuspend        = "suspend"         // SUSPENDED once active
	StatusDeprovision    = "deprovision"     // DEPROVISIONED (deactivated)
	StatusChangePassword = "change_password" // must change the password at first sign-in
)

// Leaver policies of a refresh.
const (
	LeaversReport     = "report"
	LeaversDeactivate = "deactivate"
)

// Password kinds Ferry records for each user it created.
const (
	PasswordHash = "hash"
	PasswordHook = "hook"
	PasswordNone = "none"
)

// Run statuses.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusPaused    = "paused"
	StatusCancelled = "cancelled"
	StatusDone      = "done"
	StatusFailed    = "failed"
)

// Requests a person (or the legal gate) makes of a run's owner.
const (
	RequestNone   = ""
	RequestPause  = "pause"
	RequestCancel = "cancel"
)

// Password modes of a load.
const (
	ModeHash = "hash" // the imported hash objects of internal/hashes
	ModeHook = "hook" // credentials.password.hook: Okta asks Ferry's hook at first sign-in
	ModeNone = "none" // no password
)

// What a load does when the login already exists in Okta.
const (
	OnExistingSkip = "skip"
	OnExistingFail = "fail"
)

// Rollback actions.
const (
	RollbackDelete     = "delete"     // deactivate, then delete
	RollbackDeactivate = "deactivate" // deactivate only
)

// Item states. Loads use pending, sending, created, existed, failed and
// skipped; rollbacks pending, exported, sending, removed, deactivated, gone,
// failed and skipped.
const (
	StatePending     = "pending"
	StateSending     = "sending"
	StateCreated     = "created"
	StateExisted     = "existed"
	StateFailed      = "failed"
	StateSkipped     = "skipped"
	StateExported    = "exported"
	StateRemoved     = "removed"
	StateDeactivated = "deactivated"
	StateGone        = "gone"
	// The manager pass: the user's managerId and manager were set.
	StateUpdated = "updated"
	// Reconciliation: the user in Okta is as Ferry sent it, or differs
	// (detail_json lists how); a user no longer in Okta is StateGone.
	StateMatched   = "matched"
	StateDifferent = "different"
)

// finalStates are the states an item does not leave.
var finalStates = map[string]bool{StateCreated: true, StateExisted: true, StateFailed: true, StateSkipped: true,
	StateRemoved: true, StateDeactivated: true, StateGone: true, StateUpdated: true, StateMatched: true, StateDifferent: true}

// IsFinal reports whether an item in state is finished.
func IsFinal(state string) bool { return finalStates[state] }

// Modes lists the password modes with what each does to people.
func Modes() []plan.Option {
	return []plan.Option{
		{Value: ModeHash, Label: "Hashed credentials: users sign in with their current password from day one (the hash is imported)"},
		{Value: ModeHook, Label: "Password import hook: at each user's first sign-in Okta asks Ferry to check the password (a migration program)"},
		{Value: ModeNone, Label: "No password: users set one through Okta's activation email or a reset"},
	}
}

// OnExistingOptions lists what a load can do about an existing login.
func OnExistingOptions() []plan.Option {
	return []plan.Option{
		{Value: OnExistingSkip, Label: "Skip the user and record the existing Okta account (it is never added to Ferry's groups or rolled back)"},
		{Value: OnExistingFail, Label: "Fail the user (counts as an error of the run)"},
	}
}

// Run is one test batch, load or rollback.
type Run struct {
	ID             int64      `gorm:"primaryKey" json:"id"`
	ProjectID      int64      `json:"projectId"`
	Number         int64      `json:"number"`
	Kind           string     `json:"kind"`
	Rung           int        `json:"rung"`
	OrgURL         string     `json:"orgUrl"`
	Sandbox        bool       `json:"sandbox"`
	Mode           string     `json:"mode"`
	Activate       bool       `json:"activate"`
	OnExisting     string     `json:"onExisting"`
	RollbackAction string     `json:"rollbackAction,omitempty"`
	TargetRunID    *int64     `json:"targetRunId,omitempty"`
	PopulationJSON string     `gorm:"column:population_json" json:"-"`
	MaxInFlight    int        `json:"maxInFlight"`
	RateShare      float64    `json:"rateShare"`
	ErrorThreshold float64    `json:"errorThreshold"`
	Status         string     `json:"status"`
	Requested      string     `json:"requested,omitempty"`
	Message        string     `json:"message"`
	Total          int64      `json:"total"`
	PaceJSON       string     `gorm:"column:pace_json" json:"-"`
	Owner          string     `json:"-"`
	LeaseUntil     *time.Time `json:"-"`
	CreatedByID    *int64     `json:"-"`
	CreatedByName  string     `json:"createdBy"`
	CreatedAt      time.Time  `json:"createdAt"`
	StartedAt      *time.Time `json:"startedAt,omitempty"`
	FinishedAt     *time.Time `json:"finishedAt,omitempty"`
	UpdatedAt      time.Time  `json:"updatedAt"`
	ActiveSeconds  float64    `json:"activeSeconds"`
	// Name names an activation wave.
	Name string `json:"name,omitempty"`
	// WindowStart and WindowEnd are minutes of the day (in WindowTZ) between
	// which the run may work; nil: any time. End before start spans midnight.
	WindowStart *int   `json:"windowStart,omitempty"`
	WindowEnd   *int   `json:"windowEnd,omitempty"`
	WindowTZ    string `gorm:"column:window_tz" json:"windowTz,omitempty"`
}

// TableName is the table runs live in.
func (Run) TableName() string { return "load_runs" }

// Label names the run for people: "Test batch 2 (run 5)", "Load (run 6)".
func (r *Run) Label() string {
	switch r.Kind {
	case KindTestBatch:
		return "Test batch " + itoa(int64(r.Rung)) + " (run " + itoa(r.Number) + ")"
	case KindRollback:
		return "Rollback (run " + itoa(r.Number) + ")"
	case KindRefresh:
		return "Refresh (run " + itoa(r.Number) + ")"
	case KindActivate:
		if r.Name != "" {
			return "Activation wave " + r.Name + " (run " + itoa(r.Number) + ")"
		}
		return "Activation wave (run " + itoa(r.Number) + ")"
	case KindManagers:
		return "Manager pass (run " + itoa(r.Number) + ")"
	case KindReconcile:
		return "Reconciliation (run " + itoa(r.Number) + ")"
	case KindResetPassword:
		return "Password reset of stragglers (run " + itoa(r.Number) + ")"
	}
	return "Load (run " + itoa(r.Number) + ")"
}

// CreatesUsers reports whether the run can create Okta users (a load, a
// test batch, a refresh's joiners): the runs a rollback can undo.
func (r *Run) CreatesUsers() bool {
	return r.Kind == KindLoad || r.Kind == KindTestBatch || r.Kind == KindRefresh
}

// Active reports whether the run still has work to do (queued, running or paused).
func (r *Run) Active() bool {
	return r.Status == StatusQueued || r.Status == StatusRunning || r.Status == StatusPaused
}

// Population decodes the run's population.
func (r *Run) Population() Population {
	var p Population
	_ = json.Unmarshal([]byte(r.PopulationJSON), &p)
	return p
}

// Pace decodes the pacer's last view.
func (r *Run) Pace() PaceView {
	var p PaceView
	_ = json.Unmarshal([]byte(r.PaceJSON), &p)
	return p
}

// PaceView is what the run's page shows of the pacer.
type PaceView struct {
	InFlight      int     `json:"inFlight"`
	InFlightLimit int     `json:"inFlightLimit"`
	Limit         int     `json:"limit"`
	Remaining     int     `json:"remaining"`
	Headroom      float64 `json:"headroom"`
	RateWaits     int64   `json:"rateWaits"`
	Concurrency   int64   `json:"concurrencyWaits"`
}

// Item is one user of a run.
type Item struct {
	ID                 int64      `gorm:"primaryKey" json:"id"`
	RunID              int64      `json:"runId"`
	Seq                int64      `json:"seq"`
	RecordID           *int64     `json:"recordId,omitempty"`
	SourceID           *int64     `json:"sourceId,omitempty"`
	Login              string     `json:"login"`
	ProfileJSON        string     `gorm:"column:profile_json" json:"-"`
	CredentialSealed   string     `json:"-"`
	GroupsJSON         string     `gorm:"column:groups_json" json:"-"`
	State              string     `json:"state"`
	OktaUserID         string     `json:"oktaUserId,omitempty"`
	MembershipsPending bool       `json:"-"`
	Attempts           int        `json:"attempts"`
	ErrorCode          string     `json:"errorCode,omitempty"`
	ErrorSummary       string     `json:"errorSummary,omitempty"`
	ExportJSON         string     `gorm:"column:export_json" json:"-"`
	SentAt             *time.Time `json:"sentAt,omitempty"`
	FinishedAt         *time.Time `json:"finishedAt,omitempty"`
	DurationMS         int64      `gorm:"column:duration_ms" json:"durationMs"`
	// Action is what the run does to this user (ActionCreate …).
	Action string `json:"action"`
	// DetailJSON says what changed (refresh), the manager reference, or the
	// differences found (reconciliation).
	DetailJSON string `gorm:"column:detail_json" json:"-"`
	// SourceKey is the source record's key, stable across re-staging.
	SourceKey string `json:"-"`
	// HashDigest fingerprints the imported hash (never the hash itself).
	HashDigest    string `json:"-"`
	AccountStatus string `json:"accountStatus,omitempty"`
	StatusAction  string `json:"statusAction,omitempty"`
	Canary        bool   `json:"canary,omitempty"`
}

// TableName is the table items live in.
func (Item) TableName() string { return "load_items" }

// OktaUser is the provenance of one user Ferry created.
type OktaUser struct {
	ID         int64      `gorm:"primaryKey"`
	ProjectID  int64      `gorm:"column:project_id"`
	OrgURL     string     `gorm:"column:org_url"`
	OktaUserID string     `gorm:"column:okta_user_id"`
	Login      string     `gorm:"column:login"`
	RecordID   *int64     `gorm:"column:record_id"`
	SourceID   *int64     `gorm:"column:source_id"`
	RunID      int64      `gorm:"column:run_id"`
	CreatedAt  time.Time  `gorm:"column:created_at"`
	RemovedAt  *time.Time `gorm:"column:removed_at"`
	// What Ferry last sent: the profile, the groups (Okta ids), a digest
	// of the hash, the password kind (PasswordHash …) and the status Ferry
	// expects the user to have (STAGED, ACTIVE …).
	SourceKey   string     `gorm:"column:source_key"`
	ProfileJSON string     `gorm:"column:profile_json"`
	GroupsJSON  string     `gorm:"column:groups_json"`
	HashDigest  string     `gorm:"column:hash_digest"`
	Password    string     `gorm:"column:password"`
	Status      string     `gorm:"column:status"`
	UpdatedAt   *time.Time `gorm:"column:updated_at"`
}

// TableName is the provenance table of users.
func (OktaUser) TableName() string { return "okta_users" }

// Group kinds.
const (
	GroupSource     = "source"
	GroupMembership = "membership"
)

// OktaGroup is the provenance of one group Ferry created or adopted.
type OktaGroup struct {
	ID             int64     `gorm:"primaryKey"`
	ProjectID      int64     `gorm:"column:project_id"`
	OrgURL         string    `gorm:"column:org_url"`
	OktaGroupID    string    `gorm:"column:okta_group_id"`
	Name           string    `gorm:"column:name"`
	Kind           string    `gorm:"column:kind"`
	SourceID       *int64    `gorm:"column:source_id"`
	CreatedByRunID *int64    `gorm:"column:created_by_run_id"`
	CreatedAt      time.Time `gorm:"column:created_at"`
}

// TableName is the provenance table of groups.
func (OktaGroup) TableName() string { return "okta_groups" }

// Settings are a project's test-batch ladder and error threshold.
type Settings struct {
	ProjectID      int64   `gorm:"column:project_id;primaryKey;autoIncrement:false" json:"projectId"`
	Ladder         []int   `gorm:"column:ladder_json;serializer:json" json:"ladder"`
	ErrorThreshold float64 `gorm:"column:error_threshold" json:"errorThreshold"`
	// Leavers is what a refresh does with users gone from the source:
	// LeaversReport (default) or LeaversDeactivate.
	Leavers   string    `gorm:"column:leavers" json:"leavers"`
	Version   int64     `gorm:"column:version" json:"version"`
	UpdatedAt time.Time `gorm:"column:updated_at" json:"updatedAt"`
}

// TableName is the table settings live in.
func (Settings) TableName() string { return "load_settings" }

// DefaultSettings are the ladder and threshold of a project that set none.
func DefaultSettings(projectID int64) Settings {
	return Settings{ProjectID: projectID, Ladder: []int{10, 100, 1000, 10000}, ErrorThreshold: 0.01, Leavers: LeaversReport}
}

// Counts are a run's items by state.
type Counts struct {
	Total  int64            `json:"total"`
	State  map[string]int64 `json:"byState"`
	Errors []ErrorCount     `json:"errors"`
}

// Of is the count of one state.
func (c Counts) Of(state string) int64 { return c.State[state] }

// Done is the count of finished items.
func (c Counts) Done() int64 {
	var n int64
	for s, v := range c.State {
		if IsFinal(s) {
			n += v
		}
	}
	return n
}

// ErrorRate is the share of finished items that failed.
func (c Counts) ErrorRate() float64 {
	done := c.Done()
	if done == 0 {
		return 0
	}
	return float64(c.State[StateFailed]) / float64(done)
}

// ErrorCount is one error code among a run's failed items.
type ErrorCount struct {
	Code    string `json:"code"`
	Summary string `json:"summary"`
	Count   int64  `json:"count"`
}

// ctxKey-free helpers.

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// background is a context for bookkeeping that must finish even when the
// run's context is cancelled (recording the state of a user just created).
func background(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
