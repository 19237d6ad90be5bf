package hook

// The migration program around the hook: the dashboard of a project's hook
// users (who migrated, who is waiting, who failed and why), the hook's
// latency against Okta's 3-second limit, the age of the staged hashes, the
// program's period, and its end — the check that says when the legacy
// hashes may go, and the erase that removes them from the staging area for
// good.
//
// A VERIFIED answer is not proof that Okta kept the password (the sign-in
// may still fail after it, or Okta may not have imported): a user counts as
// migrated only once Okta confirms it (okta_users.password_imported_at, set
// from Okta's user.import.password event or the user's provider read back
// as OKTA).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// Limits of the program.
const (
	// OktaLimit is how long Okta waits for the hook's answer.
	OktaLimit = 3 * time.Second
	// DefaultPeriodDays is a new program's period; MinPeriodDays and
	// MaxPeriodDays bound it.
	DefaultPeriodDays = 60
	MinPeriodDays     = 7
	MaxPeriodDays     = 365
	// StaleAfter is the age past which the staged hashes of a source are
	// shown as stale: people change passwords in the legacy system while
	// the program runs, and the hook checks against what was staged.
	StaleAfter = 30 * 24 * time.Hour
	// QuietDays is how long the hook must have had no call of the
	// project's users before the hashes may be erased.
	QuietDays = 7
	// maxSeriesDays bounds the chart (the newest days are kept).
	maxSeriesDays = 366
	// maxLatencySamples bounds the durations one latency window reads (the
	// newest are kept): percentiles of a busy week stay a bounded sort.
	maxLatencySamples = 200_000
	// pageSize is how many users or records one query or write transaction
	// handles.
	pageSize = 500
)

// programWhat names the settings in messages.
const programWhat = "migration program"

// User states on the dashboard.
const (
	StateMigrated    = "migrated"
	StateUnconfirmed = "verified_unconfirmed"
	StateFailed      = "failed"
	StateWaiting     = "waiting"
)

// ActionEraseHashes is the audit action of the erase.
const ActionEraseHashes = "erase_staged_hashes"

// ProgramSettings is a project's program: its period and its end.
type ProgramSettings struct {
	ProjectID  int64 `gorm:"column:project_id;primaryKey;autoIncrement:false" json:"projectId"`
	PeriodDays int64 `gorm:"column:period_days" json:"periodDays"`
	// HashesErasedAt is when the staged hashes were last erased (nil: never).
	HashesErasedAt     *time.Time `gorm:"column:hashes_erased_at" json:"hashesErasedAt"`
	HashesErasedByName string     `gorm:"column:hashes_erased_by_name" json:"hashesErasedBy"`
	// HashesErasedCount is how many staged records lost a stored value, over
	// every erase.
	HashesErasedCount int64 `gorm:"column:hashes_erased_count" json:"hashesErasedCount"`
	// Version is 0 while the project keeps the defaults (no row yet).
	Version   int64     `gorm:"column:version" json:"version"`
	UpdatedAt time.Time `gorm:"column:updated_at" json:"updatedAt,omitzero"`
}

// TableName is the table the programs live in.
func (ProgramSettings) TableName() string { return "hook_programs" }

// Period is the program's period.
func (p ProgramSettings) Period() time.Duration { return time.Duration(p.PeriodDays) * 24 * time.Hour }

// ProjectFinder finds a project (plan.Service).
type ProjectFinder interface {
	FindProjectByID(ctx context.Context, id int64) (*plan.Project, error)
}

// SourceLister lists a project's sources (plan.Service).
type SourceLister interface {
	FindSources(ctx context.Context, projectID int64) ([]plan.Source, error)
}

// ProgramDeps are the services the program reads.
type ProgramDeps struct {
	Projects  ProjectFinder
	Sources   SourceLister
	Extracts  ProgramExtracts
	Passwords PasswordSettings
	Loads     ProgramLoads
}

// ProgramLoads is what the end of the program needs of the loads
// (load.Service, which owns their items): the runs that may still send
// password hashes, and the erase of what the loads keep of them (the sealed
// hashes of users not created, the digests of hashes).
type ProgramLoads interface {
	UnfinishedHashRuns(ctx context.Context, projectID int64) ([]string, error)
	ErasePasswordHashes(ctx context.Context, projectID int64) (load.HashErasure, error)
}

// ProgramExtracts finds a project's extracts (current, or all of them) and
// erases attributes from a source's staged records (staging.Service, which
// owns them).
type ProgramExtracts interface {
	ExtractFinder
	FindExtracts(ctx context.Context, projectID, sourceID int64) ([]staging.Extract, error)
	EraseAttributes(ctx context.Context, projectID, sourceID int64, names []string) (records, extracts int64, err error)
}

// Program is the migration program's service: the dashboard, the period
// setting, the end check and the erase of the staged hashes.
type Program struct {
	db   *db.DB
	deps ProgramDeps
	now  func() time.Time
}

// NewProgram returns the service; now is the clock of the records it
// writes (time.Now when nil).
func NewProgram(database *db.DB, deps ProgramDeps, now func() time.Time) *Program {
	if now == nil {
		now = time.Now
	}
	return &Program{db: database, deps: deps, now: now}
}

// CauseCount is the number of attempts (or users) of one cause.
type CauseCount struct {
	Cause string `json:"cause"`
	Label string `json:"label"`
	// Last24h and Total count attempts; for users, Total alone.
	Last24h int64 `json:"last24h"`
	Total   int64 `json:"total"`
}

// Population is where the project's hook users stand.
type Population struct {
	// Total is every hook user (okta_users with password hook, not removed).
	Total int64 `json:"total"`
	// Migrated: Okta confirmed the import.
	Migrated int64 `json:"migrated"`
	// Unconfirmed: the hook answered VERIFIED last, Okta has not confirmed.
	Unconfirmed int64 `json:"unconfirmed"`
	// Failed: the last attempt was not verified; FailedByCause says why.
	Failed        int64        `json:"failed"`
	FailedByCause []CauseCount `json:"failedByCause"`
	// Waiting: no attempt yet (never signed in).
	Waiting int64 `json:"waiting"`
	// Of the users not migrated (unconfirmed, failed or waiting):
	// ResetSent were sent a password reset; NotActivated are still STAGED
	// in Okta (they cannot sign in); InPeriod are still inside the period;
	// Stragglers are past it with no reset sent.
	ResetSent    int64 `json:"resetSent"`
	NotActivated int64 `json:"notActivated"`
	InPeriod     int64 `json:"inPeriod"`
	Stragglers   int64 `json:"stragglers"`
	// LastPeriodEnd is when the period of the newest unmigrated user ends.
	LastPeriodEnd *time.Time `json:"lastPeriodEnd,omitempty"`
}

// Percent is n as a whole percentage of the population.
func (p Population) Percent(n int64) int64 {
	if p.Total == 0 {
		return 0
	}
	return (n*100 + p.Total/2) / p.Total
}

// Day is one day of the chart.
type Day struct {
	Date time.Time `json:"date"`
	// Migrated counts the users confirmed by the end of the day.
	Migrated int64 `json:"migrated"`
	// Attempts of the day by outcome.
	Verified   int64 `json:"verified"`
	Unverified int64 `json:"unverified"`
	Errors     int64 `json:"errors"`
}

// Latency is the hook's answer times over a window, in milliseconds.
type Latency struct {
	Label  string        `json:"label"`
	Window time.Duration `json:"-"`
	// WindowSeconds is Window for JSON readers.
	WindowSeconds int64 `json:"windowSeconds"`
	// Count is the calls measured; Truncated says that only the newest
	// maxLatencySamples were.
	Count     int64 `json:"count"`
	Truncated bool  `json:"truncated"`
	MedianMS  int64 `json:"medianMs"`
	P99MS     int64 `json:"p99Ms"`
	MaxMS     int64 `json:"maxMs"`
	// OverLimit counts the calls that took Okta's 3 s or more.
	OverLimit int64 `json:"overLimit"`
}

// SourceHashes is one source's hook users and the age of its staged hashes.
type SourceHashes struct {
	SourceID   int64  `json:"sourceId"`
	SourceName string `json:"sourceName"`
	HookUsers  int64  `json:"hookUsers"`
	// HasSettings: the source has password settings (a hash to check);
	// Attributes are the attributes they name (the stored value, the salt).
	HasSettings bool     `json:"hasSettings"`
	Attributes  []string `json:"attributes"`
	// StagedAt is when the current extract was staged (nil: none).
	StagedAt *time.Time    `json:"stagedAt,omitempty"`
	Age      time.Duration `json:"-"` // since StagedAt
	// AgeDays is Age in whole days, for JSON readers.
	AgeDays int64  `json:"ageDays"`
	Stale   bool   `json:"stale"`
	Hint    string `json:"hint"`
}

// Dashboard is the program of one project as it stands at Now.
type Dashboard struct {
	ProjectID int64     `json:"projectId"`
	Now       time.Time `json:"now"`
	// HookConfigured: a password import hook serves the project (OrgURL,
	// BudgetMS are its).
	HookConfigured bool   `json:"hookConfigured"`
	OrgURL         string `json:"orgUrl,omitempty"`
	BudgetMS       int64  `json:"budgetMs"`
	// LimitMS is Okta's limit.
	LimitMS  int64           `json:"limitMs"`
	Settings ProgramSettings `json:"settings"`
	// StartedAt is when the first hook user was created.
	StartedAt  *time.Time     `json:"startedAt,omitempty"`
	Population Population     `json:"population"`
	Series     []Day          `json:"series"`
	Latency    []Latency      `json:"latency"`
	Errors     []CauseCount   `json:"errors"`
	Sources    []SourceHashes `json:"sources"`
	// End says whether the staged hashes may be deleted yet.
	End *EndCheck `json:"end"`
}

// EndCheck says whether the staged hashes may be deleted.
type EndCheck struct {
	Ready bool `json:"ready"`
	// Reasons why not yet, as sentences (counts, never a person).
	Reasons []string `json:"reasons"`
	// Blocking: a reason no override can set aside (a run that may still
	// send hashes would create users without a password).
	Blocking bool `json:"blocking"`
	// Settings carries when the hashes were last erased.
	Settings ProgramSettings `json:"settings"`
}

// EraseInput confirms an erase.
type EraseInput struct {
	// Confirm must be the project's name, typed.
	Confirm string
	// Override erases although the end check is not ready (unless a reason
	// is blocking); the reasons then outstanding are kept in the audit log.
	Override bool
}

// EraseResult is what an erase did.
type EraseResult struct {
	// Records lost at least one stored value; Sources were looked at.
	Records  int64 `json:"records"`
	Sources  int   `json:"sources"`
	Extracts int   `json:"extracts"`
	// SealedHashes and Digests are what the loads kept of the hashes: the
	// sealed hashes of users not created, the digests of hashes.
	SealedHashes int64 `json:"sealedHashes"`
	Digests      int64 `json:"digests"`
	// Overridden: the end check was not ready.
	Overridden bool      `json:"overridden"`
	At         time.Time `json:"at"`
}

// causeLabels names the causes for people.
var causeLabels = map[string]string{
	CauseWrongPassword: "Wrong password",
	CauseNoCredential:  "No legacy credential",
	CauseNoUser:        "User not found in the staged extracts",
	CauseAmbiguous:     "Short name of several people",
	CauseThrottled:     "Throttled after repeated failures",
	CauseOverloaded:    "Ferry overloaded (could not check)",
	CauseTimeout:       "Timed out (could not check)",
	CauseInternal:      "Database failure (could not check)",
	CauseBadRequest:    "Malformed request",
	CauseUnauthorized:  "Refused: wrong or missing shared secret",
	// LDAP bind verification (ldapbind.go).
	"legacy_unreachable": "Legacy system unreachable (could not check)",
	"legacy_locked":      "Legacy account locked",
	"legacy_disabled":    "Legacy account disabled or expired",
	"legacy_expired":     "Legacy password expired",
	"legacy_refused":     "Refused by the legacy system",
	"lockout_guard":      "Stopped before the legacy lockout",
}

// CauseLabel names a recorded cause for people; a cause this version does
// not know (one a newer verifier records) is shown as recorded.
func CauseLabel(cause string) string {
	if l, ok := causeLabels[cause]; ok {
		return l
	}
	if cause == "" {
		return "Unknown"
	}
	return strings.ReplaceAll(cause, "_", " ")
}

// hookOf returns the hook serving the project, or nil.
func (p *Program) hookOf(ctx context.Context, projectID int64) (*Config, error) {
	var link []hookProject
	if err := p.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Limit(1).Find(&link).Error; err != nil {
		return nil, err
	}
	if len(link) == 0 {
		return nil, nil
	}
	var out []Config
	if err := p.db.Read.WithContext(ctx).Where("id = ?", link[0].HookID).Limit(1).Find(&out).Error; err != nil || len(out) == 0 {
		return nil, err
	}
	return &out[0], nil
}

// Now is the program's clock: the pages show the dashboard as of it.
func (p *Program) Now() time.Time { return p.now().UTC() }

// FindSettings returns the project's program settings (the defaults, at
// version 0, when none were saved).
func (p *Program) FindSettings(ctx context.Context, projectID int64) (*ProgramSettings, error) {
	s, err := findSettings(p.db.Read.WithContext(ctx), projectID)
	return s, wrap(err)
}

func findSettings(q *gorm.DB, projectID int64) (*ProgramSettings, error) {
	var out []ProgramSettings
	if err := q.Where("project_id = ?", projectID).Limit(1).Find(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return &ProgramSettings{ProjectID: projectID, PeriodDays: DefaultPeriodDays}, nil
	}
	return &out[0], nil
}

// SaveProgram sets the program's period (7 to 365 days) if the settings are
// still at version (0 for the defaults). Audited.
func (p *Program) SaveProgram(ctx context.Context, projectID, version, periodDays int64) (*ProgramSettings, error) {
	if periodDays < MinPeriodDays || periodDays > MaxPeriodDays {
		return nil, apperr.Invalid("Please correct the highlighted fields.", map[string]string{
			"period_days": fmt.Sprintf("The period is a whole number of days between %d and %d.", MinPeriodDays, MaxPeriodDays)})
	}
	var out *ProgramSettings
	err := p.db.Transaction(ctx, func(tx *gorm.DB) error {
		cur, err := findSettings(tx, projectID)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return apperr.VersionConflict(programWhat, cur.Version, []apperr.FieldChange{{Field: "period_days", Label: "Period (days)",
				Stored: strconv.FormatInt(cur.PeriodDays, 10), Yours: strconv.FormatInt(periodDays, 10)}})
		}
		before := *cur
		next := *cur
		next.PeriodDays, next.Version, next.UpdatedAt = periodDays, cur.Version+1, p.now().UTC()
		if cur.Version == 0 {
			if err := tx.Create(&next).Error; err != nil {
				switch {
				case errors.Is(err, gorm.ErrDuplicatedKey):
					return apperr.VersionConflict(programWhat, 0, nil)
				case errors.Is(err, gorm.ErrForeignKeyViolated):
					return apperr.NotFound("project")
				}
				return err
			}
		} else {
			res := tx.Model(&ProgramSettings{}).Where("project_id = ? AND version = ?", projectID, cur.Version).
				Updates(map[string]any{"period_days": next.PeriodDays, "version": next.Version, "updated_at": next.UpdatedAt})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return apperr.VersionConflict(programWhat, cur.Version, nil)
			}
		}
		out = &next
		change := audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "hook_program", EntityID: projectID,
			Label: "migration program", Before: map[string]any{"periodDays": before.PeriodDays},
			After: map[string]any{"periodDays": next.PeriodDays}}
		return audit.Record(ctx, tx, change)
	})
	if err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// hookUser is the part of okta_users the program reads.
type hookUser struct {
	ID                 int64
	Login              string
	SourceID           *int64
	CreatedAt          time.Time
	PasswordImportedAt *time.Time
	ResetAt            *time.Time
	Status             string
}

// usersQuery selects the project's hook users (of the hook's org when one
// serves the project: a project that moved orgs keeps the old org's users
// on record, and the hook does not serve them). Users rolled back or
// deactivated (leavers) have left the program.
func (p *Program) usersQuery(ctx context.Context, projectID int64, c *Config) *gorm.DB {
	q := p.db.Read.WithContext(ctx).Table("okta_users").
		Where("project_id = ? AND password = ? AND removed_at IS NULL AND status <> ?", projectID, "hook", okta.StatusDeprovisioned)
	if c != nil {
		q = q.Where("org_url = ?", c.OrgURL)
	}
	return q
}

// latestAttempt is a user's newest attempt.
type latestAttempt struct {
	Outcome, Cause string
}

// population sorts every hook user into a state, page by page (keyset on
// okta_users.id), finding each unconfirmed user's newest attempt by the
// user's reference or, for attempts recorded before the reference was
// known, by the hash of the login key (as Verify records it).
func (p *Program) population(ctx context.Context, projectID int64, c *Config, settings *ProgramSettings, now time.Time) (Population, *time.Time, error) {
	var pop Population
	var started *time.Time
	failed := map[string]int64{}
	period := settings.Period()
	var after int64
	for {
		var users []hookUser
		if err := p.usersQuery(ctx, projectID, c).Select("id, login, source_id, created_at, password_imported_at, reset_at, status").
			Where("id > ?", after).Order("id").Limit(pageSize).Scan(&users).Error; err != nil {
			return pop, nil, err
		}
		if len(users) == 0 {
			break
		}
		after = users[len(users)-1].ID
		var open []hookUser
		for _, u := range users {
			pop.Total++
			if started == nil || u.CreatedAt.Before(*started) {
				t := u.CreatedAt
				started = &t
			}
			if u.PasswordImportedAt != nil {
				pop.Migrated++
				continue
			}
			open = append(open, u)
		}
		latest, err := p.latestAttempts(ctx, c, open)
		if err != nil {
			return pop, nil, err
		}
		for _, u := range open {
			a, tried := latest[u.ID]
			switch {
			case tried && a.Outcome == OutcomeVerified:
				// Not migrated until Okta confirms: still counted below, as
				// the stragglers' reset counts them (it skips a user Okta
				// turns out to hold the password of).
				pop.Unconfirmed++
			case tried:
				pop.Failed++
				failed[a.Cause]++
			default:
				pop.Waiting++
			}
			end := u.CreatedAt.Add(period)
			switch {
			case u.ResetAt != nil:
				pop.ResetSent++
			case u.Status == okta.StatusStaged:
				pop.NotActivated++
			case now.Before(end):
				pop.InPeriod++
				if pop.LastPeriodEnd == nil || end.After(*pop.LastPeriodEnd) {
					pop.LastPeriodEnd = &end
				}
			default:
				pop.Stragglers++
			}
		}
		if len(users) < pageSize {
			break
		}
	}
	for cause, n := range failed {
		pop.FailedByCause = append(pop.FailedByCause, CauseCount{Cause: cause, Label: CauseLabel(cause), Total: n})
	}
	sortCauses(pop.FailedByCause)
	return pop, started, nil
}

// latestAttempts finds the newest attempt of each user.
func (p *Program) latestAttempts(ctx context.Context, c *Config, users []hookUser) (map[int64]latestAttempt, error) {
	out := map[int64]latestAttempt{}
	if c == nil || len(users) == 0 {
		return out, nil
	}
	ids := make([]int64, len(users))
	byHash := map[string]int64{}
	hashes := make([]string, 0, len(users))
	for i, u := range users {
		ids[i] = u.ID
		h := loginKeyHash(schema.LoginKey(u.Login))
		byHash[h] = u.ID
		hashes = append(hashes, h)
	}
	q := p.db.Read.WithContext(ctx)
	newest := map[int64]int64{} // user → attempt id
	var byRef []struct {
		OktaUserRef int64
		ID          int64
	}
	if err := q.Table("hook_attempts").Select("okta_user_ref, MAX(id) AS id").
		Where("hook_id = ? AND okta_user_ref IN ?", c.ID, ids).Group("okta_user_ref").Scan(&byRef).Error; err != nil {
		return nil, err
	}
	for _, r := range byRef {
		newest[r.OktaUserRef] = r.ID
	}
	var byLogin []struct {
		LoginKeyHash string
		ID           int64
	}
	if err := q.Table("hook_attempts").Select("login_key_hash, MAX(id) AS id").
		Where("hook_id = ? AND okta_user_ref IS NULL AND login_key_hash IN ?", c.ID, hashes).Group("login_key_hash").Scan(&byLogin).Error; err != nil {
		return nil, err
	}
	for _, r := range byLogin {
		u := byHash[r.LoginKeyHash]
		if r.ID > newest[u] {
			newest[u] = r.ID
		}
	}
	if len(newest) == 0 {
		return out, nil
	}
	attemptIDs := make([]int64, 0, len(newest))
	owner := map[int64]int64{}
	for u, id := range newest {
		attemptIDs = append(attemptIDs, id)
		owner[id] = u
	}
	var rows []struct {
		ID      int64
		Outcome string
		Cause   string
	}
	if err := q.Table("hook_attempts").Select("id, outcome, cause").Where("id IN ?", attemptIDs).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[owner[r.ID]] = latestAttempt{Outcome: r.Outcome, Cause: r.Cause}
	}
	return out, nil
}

// attemptsQuery selects the attempts the project's dashboard shows: its
// own and those the hook could not attribute to any project (an unknown
// user, a malformed or refused request), which every project the hook
// serves sees.
func (p *Program) attemptsQuery(ctx context.Context, projectID int64, c *Config) *gorm.DB {
	return p.db.Read.WithContext(ctx).Table("hook_attempts").Where("hook_id = ? AND (project_id = ? OR project_id IS NULL)", c.ID, projectID)
}

// dayExpr is the UTC calendar day of a timestamp column as YYYY-MM-DD.
// Timestamps are stored in UTC; SQLite keeps them as text that starts with
// the date, PostgreSQL formats them.
func (p *Program) dayExpr(column string) string {
	if p.db.Dialect == db.Postgres {
		return "to_char(" + column + ", 'YYYY-MM-DD')"
	}
	return "substr(" + column + ", 1, 10)"
}

// series is the chart: one day per day from the program's start (or the
// first attempt) to now, at most maxSeriesDays.
func (p *Program) series(ctx context.Context, projectID int64, c *Config, started *time.Time, now time.Time) ([]Day, error) {
	today := now.UTC().Truncate(24 * time.Hour)
	start := today
	if started != nil && started.Before(start) {
		start = started.UTC().Truncate(24 * time.Hour)
	}
	if c != nil {
		var first []time.Time
		if err := p.attemptsQuery(ctx, projectID, c).Order("id").Limit(1).Pluck("at", &first).Error; err != nil {
			return nil, err
		}
		if len(first) > 0 && first[0].Before(start) {
			start = first[0].UTC().Truncate(24 * time.Hour)
		}
	}
	if oldest := today.AddDate(0, 0, -(maxSeriesDays - 1)); start.Before(oldest) {
		start = oldest
	}
	n := int(today.Sub(start)/(24*time.Hour)) + 1
	days := make([]Day, n)
	index := map[string]int{}
	for i := range days {
		days[i].Date = start.AddDate(0, 0, i)
		index[days[i].Date.Format(time.DateOnly)] = i
	}
	end := today.Add(24 * time.Hour)
	// Confirmations: those before the chart's first day are its base.
	var base int64
	if err := p.usersQuery(ctx, projectID, c).Where("password_imported_at IS NOT NULL AND password_imported_at < ?", start).Count(&base).Error; err != nil {
		return nil, err
	}
	var confirmed []struct {
		Day string
		N   int64
	}
	expr := p.dayExpr("password_imported_at")
	if err := p.usersQuery(ctx, projectID, c).Select(expr+" AS day, COUNT(*) AS n").
		Where("password_imported_at >= ? AND password_imported_at < ?", start, end).Group(expr).Scan(&confirmed).Error; err != nil {
		return nil, err
	}
	perDay := make([]int64, n)
	for _, r := range confirmed {
		if i, ok := index[r.Day]; ok {
			perDay[i] += r.N
		}
	}
	cum := base
	for i := range days {
		cum += perDay[i]
		days[i].Migrated = cum
	}
	if c == nil {
		return days, nil
	}
	var attempts []struct {
		Day     string
		Outcome string
		N       int64
	}
	expr = p.dayExpr("at")
	if err := p.attemptsQuery(ctx, projectID, c).Select(expr+" AS day, outcome, COUNT(*) AS n").
		Where("at >= ? AND at < ?", start, end).Group(expr + ", outcome").Scan(&attempts).Error; err != nil {
		return nil, err
	}
	for _, r := range attempts {
		i, ok := index[r.Day]
		if !ok {
			continue
		}
		switch r.Outcome {
		case OutcomeVerified:
			days[i].Verified += r.N
		case OutcomeUnverified:
			days[i].Unverified += r.N
		default:
			days[i].Errors += r.N
		}
	}
	return days, nil
}

// latency measures the newest calls of the window. Refused requests
// (unauthorized) are left out: they are answered before any work.
func (p *Program) latency(ctx context.Context, projectID int64, c *Config, label string, window time.Duration, now time.Time) (Latency, error) {
	out := Latency{Label: label, Window: window, WindowSeconds: int64(window / time.Second)}
	var ms []int64
	if err := p.attemptsQuery(ctx, projectID, c).Where("at >= ? AND at <= ? AND cause <> ?", now.Add(-window), now, CauseUnauthorized).
		Order("id DESC").Limit(maxLatencySamples+1).Pluck("duration_ms", &ms).Error; err != nil {
		return out, err
	}
	if len(ms) > maxLatencySamples {
		ms, out.Truncated = ms[:maxLatencySamples], true
	}
	out.Count = int64(len(ms))
	out.MedianMS, out.P99MS, out.MaxMS = Percentile(ms, 50), Percentile(ms, 99), Percentile(ms, 100)
	for _, d := range ms {
		if d >= OktaLimit.Milliseconds() {
			out.OverLimit++
		}
	}
	return out, nil
}

// Percentile is the nearest-rank percentile (0 < pct ≤ 100) of values: the
// smallest value that at least pct per cent of the values do not exceed.
// The median of an even count is therefore the lower middle value. values
// is sorted in place; 0 when empty.
func Percentile(values []int64, pct float64) int64 {
	if len(values) == 0 || pct <= 0 {
		return 0
	}
	if !slices.IsSorted(values) {
		slices.Sort(values)
	}
	// rank = ceil(pct/100 × n), in integers to avoid rounding 0.99×100 up.
	n := int64(len(values))
	rank := (int64(pct*100)*n + 9999) / 10000
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	return values[rank-1]
}

// errorsByCause counts the attempts not verified, by cause, over all time
// and the last 24 hours.
func (p *Program) errorsByCause(ctx context.Context, projectID int64, c *Config, now time.Time) ([]CauseCount, error) {
	type row struct {
		Cause string
		N     int64
	}
	var all, recent []row
	if err := p.attemptsQuery(ctx, projectID, c).Select("cause, COUNT(*) AS n").Where("outcome <> ?", OutcomeVerified).
		Group("cause").Scan(&all).Error; err != nil {
		return nil, err
	}
	if err := p.attemptsQuery(ctx, projectID, c).Select("cause, COUNT(*) AS n").Where("outcome <> ? AND at >= ?", OutcomeVerified, now.Add(-24*time.Hour)).
		Group("cause").Scan(&recent).Error; err != nil {
		return nil, err
	}
	byCause := map[string]*CauseCount{}
	var out []CauseCount
	for _, r := range all {
		out = append(out, CauseCount{Cause: r.Cause, Label: CauseLabel(r.Cause), Total: r.N})
	}
	for i := range out {
		byCause[out[i].Cause] = &out[i]
	}
	for _, r := range recent {
		if cc := byCause[r.Cause]; cc != nil {
			cc.Last24h = r.N
		}
	}
	sortCauses(out)
	return out, nil
}

// sortCauses orders by count, most first, then by cause.
func sortCauses(cs []CauseCount) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Total != cs[j].Total {
			return cs[i].Total > cs[j].Total
		}
		return cs[i].Cause < cs[j].Cause
	})
}

// sourceHashes lists the project's sources that have hook users or
// password settings, with the age of the hashes staged for them: the
// current extract's (the newest ready one, as the hook looks users up in).
func (p *Program) sourceHashes(ctx context.Context, projectID int64, c *Config, settings *ProgramSettings, now time.Time) ([]SourceHashes, error) {
	sources, err := p.deps.Sources.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	var counts []struct {
		SourceID int64
		N        int64
	}
	if err := p.usersQuery(ctx, projectID, c).Select("source_id, COUNT(*) AS n").Where("source_id IS NOT NULL").
		Group("source_id").Scan(&counts).Error; err != nil {
		return nil, err
	}
	users := map[int64]int64{}
	for _, r := range counts {
		users[r.SourceID] = r.N
	}
	current, err := p.deps.Extracts.CurrentExtracts(ctx, projectID)
	if err != nil {
		return nil, err
	}
	stagedAt := map[int64]time.Time{}
	for _, e := range current {
		at := e.CreatedAt
		if e.FinishedAt != nil {
			at = *e.FinishedAt
		}
		// CurrentExtracts may list an older ready extract still being
		// replaced: the newest is the one the hook reads first.
		if prev, ok := stagedAt[e.SourceID]; !ok || at.After(prev) {
			stagedAt[e.SourceID] = at
		}
	}
	var out []SourceHashes
	for _, s := range sources {
		set, err := p.deps.Passwords.Find(ctx, projectID, s.ID)
		if err != nil {
			return nil, err
		}
		row := SourceHashes{SourceID: s.ID, SourceName: s.Name, HookUsers: users[s.ID], HasSettings: set != nil && set.Attribute != "", Attributes: []string{}}
		if row.HasSettings {
			row.Attributes = attributesOf(set)
		}
		if row.HookUsers == 0 && !row.HasSettings {
			continue
		}
		at, staged := stagedAt[s.ID]
		switch {
		case settings.HashesErasedAt != nil && row.HasSettings && (!staged || !at.After(*settings.HashesErasedAt)):
			row.Hint = "Erased at the end of the program: the hook answers UNVERIFIED for this source's users."
		case !row.HasSettings:
			row.Hint = "No password settings: the hook finds no stored value to check for this source's users. Set them on the source's Credentials page."
		case !staged:
			row.Hint = "No extract staged: stage one (Data) before users sign in."
		default:
			t := at.UTC()
			row.StagedAt = &t
			row.Age = now.Sub(at)
			row.AgeDays = int64(row.Age / (24 * time.Hour))
			row.Stale = row.Age > StaleAfter
			row.Hint = "Re-stage the source (Data) to refresh the hashes: people who changed their password in the legacy system since are checked against the old one."
			if settings.HashesErasedAt != nil {
				row.Hint = "Staged again after the hashes were erased: this extract holds hashes; erase them again once it is no longer needed."
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// Dashboard returns the project's program as it stands at now.
func (p *Program) Dashboard(ctx context.Context, projectID int64, now time.Time) (*Dashboard, error) {
	c, err := p.hookOf(ctx, projectID)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	settings, err := findSettings(p.db.Read.WithContext(ctx), projectID)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	d := &Dashboard{ProjectID: projectID, Now: now, Settings: *settings, LimitMS: OktaLimit.Milliseconds()}
	if c != nil {
		d.HookConfigured, d.OrgURL, d.BudgetMS = true, c.OrgURL, c.BudgetMS
	}
	if d.Population, d.StartedAt, err = p.population(ctx, projectID, c, settings, now); err != nil {
		return nil, wrap(err)
	}
	if d.Series, err = p.series(ctx, projectID, c, d.StartedAt, now); err != nil {
		return nil, wrap(err)
	}
	if c != nil {
		for _, w := range []struct {
			label  string
			window time.Duration
		}{{"Last 24 hours", 24 * time.Hour}, {"Last 7 days", 7 * 24 * time.Hour}} {
			l, err := p.latency(ctx, projectID, c, w.label, w.window, now)
			if err != nil {
				return nil, wrap(err)
			}
			d.Latency = append(d.Latency, l)
		}
		if d.Errors, err = p.errorsByCause(ctx, projectID, c, now); err != nil {
			return nil, wrap(err)
		}
	}
	if d.Sources, err = p.sourceHashes(ctx, projectID, c, settings, now); err != nil {
		return nil, wrap(err)
	}
	if d.End, err = p.endCheck(ctx, projectID, c, settings, d.Population, now); err != nil {
		return nil, err
	}
	// Lists are empty, never null, for JSON readers.
	d.Population.FailedByCause = nonNil(d.Population.FailedByCause)
	d.Series, d.Latency, d.Errors, d.Sources = nonNil(d.Series), nonNil(d.Latency), nonNil(d.Errors), nonNil(d.Sources)
	d.End.Reasons = nonNil(d.End.Reasons)
	return d, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// EndCheck says whether the project's staged hashes may be deleted, and if
// not, why not yet.
func (p *Program) EndCheck(ctx context.Context, projectID int64, now time.Time) (*EndCheck, error) {
	c, err := p.hookOf(ctx, projectID)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	settings, err := findSettings(p.db.Read.WithContext(ctx), projectID)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	pop, _, err := p.population(ctx, projectID, c, settings, now)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return p.endCheck(ctx, projectID, c, settings, pop, now)
}

// endCheck is EndCheck over a population already counted (the dashboard's).
func (p *Program) endCheck(ctx context.Context, projectID int64, c *Config, settings *ProgramSettings, pop Population, now time.Time) (*EndCheck, error) {
	out := &EndCheck{Settings: *settings}
	if pop.Total == 0 {
		out.Reasons = append(out.Reasons, "No user has been loaded with the password import hook yet: the staged hashes may still be needed by a load.")
	}
	if pop.InPeriod > 0 {
		until := ""
		if pop.LastPeriodEnd != nil {
			until = "; the last of these periods ends on " + pop.LastPeriodEnd.UTC().Format("2 January 2006")
		}
		out.Reasons = append(out.Reasons, fmt.Sprintf("%s %s not migrated yet (never signed in, failed, or not confirmed by Okta) and the program's period of %d days has not ended for them%s.",
			count(pop.InPeriod), verb(pop.InPeriod, "has", "have"), settings.PeriodDays, until))
	}
	if pop.NotActivated > 0 {
		out.Reasons = append(out.Reasons, fmt.Sprintf("%s never activated in Okta (STAGED): they cannot sign in, so the hook cannot migrate them. Activate them in a wave (Cut-over) or remove them first.",
			count(pop.NotActivated)+" "+verb(pop.NotActivated, "was", "were")))
	}
	if pop.Stragglers > 0 {
		out.Reasons = append(out.Reasons, fmt.Sprintf("%s past the program's period %s never migrated and no password reset was sent to them yet: reset the stragglers first.",
			count(pop.Stragglers), verb(pop.Stragglers, "has", "have")))
	}
	if pop.Unconfirmed > 0 {
		out.Reasons = append(out.Reasons, fmt.Sprintf("%s %s answered VERIFIED but Okta has not confirmed the import yet: a VERIFIED answer is not proof. Wait for Okta's confirmation (the event hook) or check the users in Okta.",
			count(pop.Unconfirmed), verb(pop.Unconfirmed, "was", "were")))
	}
	if c != nil {
		var recent int64
		if err := p.db.Read.WithContext(ctx).Table("hook_attempts").Where("hook_id = ? AND project_id = ? AND at >= ?", c.ID, projectID, now.AddDate(0, 0, -QuietDays)).
			Count(&recent).Error; err != nil {
			return nil, apperr.Internal(err)
		}
		if recent > 0 {
			out.Reasons = append(out.Reasons, fmt.Sprintf("The hook answered %s for the project's users in the last %d days: wait until a week passes without any.",
				plural(recent, "sign-in", "sign-ins"), QuietDays))
		}
	}
	extracts, err := p.deps.Extracts.FindExtracts(ctx, projectID, 0)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(extracts, func(e staging.Extract) bool { return e.Status == staging.StatusLoading }) {
		out.Reasons = append(out.Reasons, "An extract is being staged: wait until it is done, so that the erase reaches its records too.")
	}
	runs, err := p.deps.Loads.UnfinishedHashRuns(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if len(runs) > 0 {
		out.Reasons = append(out.Reasons, "A run may still send password hashes to Okta ("+strings.Join(runs, "; ")+
			"): let it finish, or cancel it, so that no user it creates later is left without a password.")
		out.Blocking = true
	}
	out.Ready = len(out.Reasons) == 0
	return out, nil
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func count(n int64) string { return plural(n, "user", "users") }

func verb(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// EraseStagedHashes removes, for good, the stored password values and
// salts — the attributes each source's password settings name — from every
// staged record of the project's sources, in every extract, and from the
// extracts' column samples. It refuses unless in.Confirm is the project's
// name, and unless the end check is ready or in.Override is set (the
// outstanding reasons are then audited). Records are rewritten in batches,
// one transaction each: a record is rewritten whole or not at all, and an
// interrupted erase is finished by running it again (erasing twice is
// harmless). The audit entry holds counts only. Afterwards the hook finds
// no stored value for these users and answers UNVERIFIED (no_credential).
func (p *Program) EraseStagedHashes(ctx context.Context, projectID int64, actor audit.Actor, in EraseInput) (*EraseResult, error) {
	ctx = audit.WithActor(ctx, actor)
	proj, err := p.deps.Projects.FindProjectByID(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Confirm) != proj.Name {
		return nil, apperr.Invalid("Please correct the highlighted fields.", map[string]string{"confirm_name": "Type the project's name exactly to confirm."})
	}
	now := p.now().UTC()
	check, err := p.EndCheck(ctx, projectID, now)
	if err != nil {
		return nil, err
	}
	if !check.Ready && (!in.Override || check.Blocking) {
		return nil, apperr.Conflict("The staged hashes cannot be erased yet: " + strings.Join(check.Reasons, " "))
	}
	sources, err := p.deps.Sources.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	res := &EraseResult{Overridden: !check.Ready, At: now}
	for _, s := range sources {
		set, err := p.deps.Passwords.Find(ctx, projectID, s.ID)
		if err != nil {
			return nil, err
		}
		if set == nil {
			continue
		}
		names := attributesOf(set)
		if len(names) == 0 {
			continue
		}
		res.Sources++
		records, extracts, err := p.deps.Extracts.EraseAttributes(ctx, projectID, s.ID, names)
		if err != nil {
			return nil, wrap(err)
		}
		res.Records += records
		res.Extracts += int(extracts)
	}
	kept, err := p.deps.Loads.ErasePasswordHashes(ctx, projectID)
	if err != nil {
		return nil, err
	}
	res.SealedHashes, res.Digests = kept.SealedHashes, kept.Digests
	err = p.db.Transaction(ctx, func(tx *gorm.DB) error {
		cur, err := findSettings(tx, projectID)
		if err != nil {
			return err
		}
		next := *cur
		next.HashesErasedAt, next.HashesErasedByName = &now, actor.Name
		next.HashesErasedCount += res.Records
		next.UpdatedAt = now
		if cur.Version == 0 {
			next.Version = 1
			if err := tx.Create(&next).Error; err != nil {
				return err
			}
		} else if err := tx.Model(&ProgramSettings{}).Where("project_id = ?", projectID).Updates(map[string]any{
			"hashes_erased_at": now, "hashes_erased_by_name": actor.Name, "hashes_erased_count": next.HashesErasedCount,
			"version": gorm.Expr("version + 1"), "updated_at": now}).Error; err != nil {
			return err
		}
		after := map[string]any{"records": res.Records, "sources": res.Sources, "extracts": res.Extracts, "override": res.Overridden,
			"sealedHashes": res.SealedHashes, "digests": res.Digests}
		if res.Overridden {
			// The reasons carry counts and dates only.
			after["outstandingReasons"] = check.Reasons
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: ActionEraseHashes, EntityType: "hook_program", EntityID: projectID,
			Label: "staged password hashes erased", After: after})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return res, nil
}

// attributesOf lists the attributes a source's password settings name.
func attributesOf(set *credentials.Settings) []string {
	var out []string
	for _, n := range []string{set.Attribute, set.SaltAttribute} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// loginKeyHash is the pseudonymous reference Verify records for a login
// key (hook_attempts.login_key_hash).
func loginKeyHash(loginKey string) string {
	sum := sha256.Sum256([]byte(loginKey))
	return hex.EncodeToString(sum[:])
}
