package load

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// Canary accounts (docs/loads.md): staged test accounts whose passwords are
// known, one per source and hash format. A run takes them first; after it,
// Ferry signs in as each of them against its sandbox (the right password
// must succeed, a wrong one must fail), proving the hash conversion before
// the next rung. Against a real org the run's report lists them to try by
// hand, with a place to record the result.

// Canary check outcomes.
const (
	CanaryPassed   = "passed"
	CanaryFailed   = "failed"
	CanaryUntested = "untested"
)

// MaxCanaryPassword bounds a canary's password (characters).
const MaxCanaryPassword = 1000

// Canary is one canary account. Its password is sealed with the console's
// key and never leaves the service.
type Canary struct {
	ID        int64  `gorm:"primaryKey" json:"id"`
	ProjectID int64  `json:"projectId"`
	SourceID  int64  `json:"sourceId"`
	SourceKey string `json:"sourceKey"`
	Login     string `json:"login"`
	// HashFormat is the format of the record's stored password as the
	// source's password settings read it (bcrypt, sha256 …).
	HashFormat     string    `json:"hashFormat"`
	PasswordSealed string    `json:"-"`
	CreatedByName  string    `json:"createdBy"`
	CreatedAt      time.Time `json:"createdAt"`
}

// TableName is the table canaries live in.
func (Canary) TableName() string { return "canaries" }

// CanaryCheck is a canary's result in one run, with the canary's facts for
// the run's page.
type CanaryCheck struct {
	ID            int64      `json:"id"`
	RunID         int64      `json:"runId"`
	CanaryID      int64      `json:"canaryId"`
	Outcome       string     `json:"outcome"`
	Detail        string     `json:"detail"`
	CheckedByName string     `json:"checkedBy"`
	CheckedAt     *time.Time `json:"checkedAt,omitempty"`
	Login         string     `json:"login"`
	SourceID      int64      `json:"sourceId"`
	HashFormat    string     `json:"hashFormat"`
}

// MarkCanary makes a current staged record a canary account with its known
// password. The password is sealed, never logged, audited or returned; the
// record's hash format is read with the source's password settings.
// Marking a record again replaces its password.
func (s *Service) MarkCanary(ctx context.Context, projectID, recordID int64, password string) (*Canary, error) {
	switch {
	case password == "":
		return nil, apperr.Invalid("Give the account's password.", map[string]string{"password": "Give the account's password."})
	case !utf8.ValidString(password):
		return nil, apperr.Invalid("The password is not valid text.", map[string]string{"password": "The password is not valid text."})
	case utf8.RuneCountInString(password) > MaxCanaryPassword:
		msg := fmt.Sprintf("The password is too long: at most %d characters.", MaxCanaryPassword)
		return nil, apperr.Invalid(msg, map[string]string{"password": msg})
	}
	if s.deps.Sealer == nil {
		return nil, apperr.Internal(errors.New("load: no sealer to keep a canary's password"))
	}
	rec, err := s.currentRecord(ctx, projectID, recordID)
	if err != nil {
		return nil, err
	}
	readings, err := s.deps.Passwords.Readings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	noHash := func(why string) error {
		return apperr.Invalid("A canary proves the hash conversion: "+why, map[string]string{"record": why})
	}
	r, ok := readings[rec.SourceID]
	if !ok || r.Settings == nil {
		return nil, noHash("this record's source has no password settings (its credentials do not migrate, or are not set up yet).")
	}
	stored, ok := r.Settings.Stored(recordAttributes(rec))
	if !ok {
		return nil, noHash("this record has no stored password.")
	}
	res, err := r.Source.Convert(stored)
	if err != nil {
		return nil, noHash("the record's stored password cannot be read: " + err.Error())
	}
	sealed, err := s.deps.Sealer.Seal(password)
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("load: seal a canary's password: %w", err))
	}
	actor := audit.ActorFrom(ctx)
	c := &Canary{ProjectID: projectID, SourceID: rec.SourceID, SourceKey: rec.SourceKey, Login: rec.Login,
		HashFormat: string(res.Hash.Format), PasswordSealed: sealed, CreatedByName: actor.Name, CreatedAt: s.now().UTC()}
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var cur Canary
		ferr := tx.Where("project_id = ? AND source_id = ? AND source_key = ?", projectID, c.SourceID, c.SourceKey).First(&cur).Error
		action := audit.ActionCreate
		var before any
		switch {
		case ferr == nil:
			action, before = audit.ActionUpdate, canaryAuditView(&cur)
			c.ID = cur.ID
			if err := tx.Model(&Canary{}).Where("id = ?", cur.ID).Updates(map[string]any{"login": c.Login, "hash_format": c.HashFormat,
				"password_sealed": c.PasswordSealed, "created_by_name": c.CreatedByName, "created_at": c.CreatedAt}).Error; err != nil {
				return err
			}
		case errors.Is(ferr, gorm.ErrRecordNotFound):
			if err := tx.Create(c).Error; err != nil {
				return err
			}
		default:
			return ferr
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: action, EntityType: "canary", EntityID: c.ID,
			Label: "Canary " + c.Login, Before: before, After: canaryAuditView(c)})
	})
	if err != nil {
		return nil, apperr.Internal(err)
	}
	out := *c
	out.PasswordSealed = ""
	return &out, nil
}

// canaryAuditView is what the audit log keeps of a canary: never its password.
func canaryAuditView(c *Canary) map[string]any {
	return map[string]any{"login": c.Login, "sourceId": c.SourceID, "sourceKey": c.SourceKey, "hashFormat": c.HashFormat}
}

// currentRecord finds a record of the project's current extracts that is
// not excluded and has a validated profile with a login.
func (s *Service) currentRecord(ctx context.Context, projectID, recordID int64) (candidate, error) {
	var c candidate
	extracts, err := s.deps.Extracts.CurrentExtracts(ctx, projectID)
	if err != nil {
		return c, err
	}
	sourceOf := map[int64]int64{}
	for _, ex := range extracts {
		sourceOf[ex.ID] = ex.SourceID
	}
	var extractID int64
	var profile string
	var excluded bool
	err = s.db.ReadSQL().QueryRowContext(ctx, s.db.Bind(`SELECT r.id, r.extract_id, r.source_key, r.excluded, r.attributes_json, r.edits_json,
		COALESCE(p.profile_json, '')
		FROM staged_records r JOIN extracts e ON e.id = r.extract_id LEFT JOIN staged_profiles p ON p.record_id = r.id
		WHERE r.id = ? AND e.project_id = ?`), recordID, projectID).
		Scan(&c.RecordID, &extractID, &c.SourceKey, &excluded, &c.Attributes, &c.Edits, &profile)
	notFound := apperr.Invalid("Choose a record of the current staged data.", map[string]string{"record": "Choose a record of the current staged data."})
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound
	}
	if err != nil {
		return c, apperr.Internal(err)
	}
	src, ok := sourceOf[extractID]
	if !ok {
		return c, notFound // another project's, or of an extract replaced since
	}
	c.SourceID = src
	if excluded {
		return c, apperr.Invalid("This record is excluded from the migration.", map[string]string{"record": "This record is excluded from the migration."})
	}
	_ = json.Unmarshal([]byte(profile), &c.Profile)
	if c.Login = c.Profile["login"]; c.Login == "" {
		msg := "This record has no validated Okta profile yet: validate the staged data first."
		return c, apperr.Invalid(msg, map[string]string{"record": msg})
	}
	return c, nil
}

// ListCanaries lists the project's canaries by login (their passwords stay sealed).
func (s *Service) ListCanaries(ctx context.Context, projectID int64) ([]Canary, error) {
	var out []Canary
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Order("login, id").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	for i := range out {
		out[i].PasswordSealed = ""
	}
	return out, nil
}

// RemoveCanary forgets a canary (its password and its checks).
func (s *Service) RemoveCanary(ctx context.Context, projectID, id int64) error {
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var c Canary
		if err := tx.Where("project_id = ? AND id = ?", projectID, id).First(&c).Error; err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM canary_checks WHERE canary_id = ?`, id).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Canary{}, id).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "canary", EntityID: id,
			Label: "Canary " + c.Login, Before: canaryAuditView(&c)})
	})
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.NotFound("canary")
	}
	if err != nil {
		return apperr.Internal(err)
	}
	return nil
}

// canaryKey finds a canary by its record's source and key.
type canaryKey struct {
	sourceID int64
	key      string
}

// canaryMap maps the project's canaries by source and key.
func (s *Service) canaryMap(ctx context.Context, projectID int64) (map[canaryKey]Canary, error) {
	var list []Canary
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Find(&list).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	out := make(map[canaryKey]Canary, len(list))
	for _, c := range list {
		out[canaryKey{c.SourceID, c.SourceKey}] = c
	}
	return out, nil
}

// canariesFirst marks the items that are canaries and puts them first in
// the run's order (seq), the rest keeping theirs.
func (s *Service) canariesFirst(ctx context.Context, projectID int64, items []Item) ([]Item, error) {
	canaries, err := s.canaryMap(ctx, projectID)
	if err != nil || len(canaries) == 0 {
		return items, err
	}
	for i := range items {
		if items[i].SourceID != nil {
			_, items[i].Canary = canaries[canaryKey{*items[i].SourceID, items[i].SourceKey}]
		}
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].Canary && !items[b].Canary })
	for i := range items {
		items[i].Seq = int64(i + 1)
	}
	return items, nil
}

// RecordCanaryResult records what a person found signing in as a canary by
// hand after a run against a real org: outcome passed or failed, with a note.
func (s *Service) RecordCanaryResult(ctx context.Context, projectID, runID, canaryID int64, outcome, detail string) error {
	check := apperr.NewCheck()
	check.OneOf("outcome", "Result", outcome, []string{CanaryPassed, CanaryFailed}, false)
	check.Text("detail", "Note", detail, false, 1000)
	if err := check.Err(); err != nil {
		return err
	}
	run, err := s.FindRun(ctx, projectID, runID)
	if err != nil {
		return err
	}
	if run.Kind != KindLoad && run.Kind != KindTestBatch && run.Kind != KindActivate {
		return apperr.Invalid("Canaries are checked after a load, a test batch or an activation wave.", nil)
	}
	var c Canary
	if err := s.db.Read.WithContext(ctx).Where("project_id = ? AND id = ?", projectID, canaryID).First(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.NotFound("canary")
		}
		return apperr.Internal(err)
	}
	actor := audit.ActorFrom(ctx)
	now := s.now().UTC()
	var before *CanaryCheck
	if checks, err := s.CanaryChecks(ctx, runID); err == nil {
		for i := range checks {
			if checks[i].CanaryID == canaryID {
				before = &checks[i]
			}
		}
	}
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := upsertCanaryCheck(tx, runID, canaryID, outcome, detail, actor.Name, now); err != nil {
			return err
		}
		var b any
		if before != nil {
			b = map[string]any{"outcome": before.Outcome, "detail": before.Detail, "checkedBy": before.CheckedByName}
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "canary_check",
			EntityID: canaryID, Label: "Canary " + c.Login + " in " + run.Label(), Before: b,
			After: map[string]any{"runId": runID, "outcome": outcome, "detail": detail}})
	})
	if err != nil {
		return apperr.Internal(err)
	}
	return nil
}

func upsertCanaryCheck(tx *gorm.DB, runID, canaryID int64, outcome, detail, by string, at time.Time) error {
	return tx.Exec(`INSERT INTO canary_checks (run_id, canary_id, outcome, detail, checked_by_name, checked_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (run_id, canary_id) DO UPDATE SET outcome = excluded.outcome, detail = excluded.detail,
		checked_by_name = excluded.checked_by_name, checked_at = excluded.checked_at`, runID, canaryID, outcome, detail, by, at).Error
}

// CanaryChecks lists a run's canary results with each canary's login, for
// the run's page.
func (s *Service) CanaryChecks(ctx context.Context, runID int64) ([]CanaryCheck, error) {
	rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT k.id, k.run_id, k.canary_id, k.outcome, k.detail, k.checked_by_name,
		k.checked_at, c.login, c.source_id, c.hash_format
		FROM canary_checks k JOIN canaries c ON c.id = k.canary_id WHERE k.run_id = ? ORDER BY c.login, k.id`), runID)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	defer rows.Close()
	var out []CanaryCheck
	for rows.Next() {
		var k CanaryCheck
		var at sql.NullTime
		if err := rows.Scan(&k.ID, &k.RunID, &k.CanaryID, &k.Outcome, &k.Detail, &k.CheckedByName, &at, &k.Login, &k.SourceID, &k.HashFormat); err != nil {
			return nil, apperr.Internal(err)
		}
		if at.Valid {
			t := at.Time
			k.CheckedAt = &t
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

func init() {
	for _, kind := range []string{KindLoad, KindTestBatch, KindActivate} {
		kindAfter[kind] = append(kindAfter[kind], checkCanaries)
	}
}

// checkCanaries signs in as each canary account the run created or
// activated (Ferry's sandbox), or lists it to try by hand (a real org).
func checkCanaries(ctx context.Context, x *execution) error {
	var items []Item
	if err := x.s.db.Read.WithContext(ctx).Where("run_id = ? AND canary AND state IN (?, ?)", x.run.ID, StateCreated, StateActivated).
		Order("seq").Find(&items).Error; err != nil {
		return apperr.Internal(err)
	}
	if len(items) == 0 {
		return nil
	}
	canaries, err := x.s.canaryMap(ctx, x.run.ProjectID)
	if err != nil {
		return err
	}
	for i := range items {
		it := &items[i]
		if it.SourceID == nil {
			continue
		}
		c, ok := canaries[canaryKey{*it.SourceID, it.SourceKey}]
		if !ok {
			continue // removed since the run started
		}
		outcome, detail, err := x.checkCanary(ctx, it, &c)
		if err != nil {
			return err // the run stops (paused, cancelled …): checked again on resume
		}
		by := "Ferry"
		var at *time.Time
		if outcome != CanaryUntested {
			now := x.s.now().UTC()
			at = &now
		} else {
			by = ""
		}
		if err := x.s.db.Transaction(background(ctx), func(tx *gorm.DB) error {
			if at == nil {
				// Never overwrite a result a person recorded.
				return tx.Exec(`INSERT INTO canary_checks (run_id, canary_id, outcome, detail, checked_by_name, checked_at) VALUES (?, ?, ?, ?, '', NULL)
					ON CONFLICT (run_id, canary_id) DO NOTHING`, x.run.ID, c.ID, outcome, detail).Error
			}
			return upsertCanaryCheck(tx, x.run.ID, c.ID, outcome, detail, by, *at)
		}); err != nil {
			return apperr.Internal(err)
		}
	}
	return nil
}

// checkCanary decides one canary's outcome; err only when the run stops.
func (x *execution) checkCanary(ctx context.Context, it *Item, c *Canary) (outcome, detail string, err error) {
	byHand := "Try it by hand: sign in to " + x.run.OrgURL + " as " + c.Login + " with the canary's password (it must succeed) and with a wrong one (it must fail), then record the result here."
	password := passwordOf(x, it)
	switch {
	case (x.run.Kind == KindLoad || x.run.Kind == KindTestBatch) && !x.run.Activate:
		if x.run.Sandbox {
			return CanaryUntested, "Loaded STAGED: a staged user cannot sign in. Ferry signs in as it after the activation wave.", nil
		}
		return CanaryUntested, "Loaded STAGED: sign in after the activation wave. " + byHand, nil
	case password == PasswordNone:
		return CanaryUntested, "Loaded without a password (nothing to prove): the user sets one through Okta's activation email.", nil
	case it.StatusAction == StatusSuspend:
		return CanaryUntested, "Suspended after activation (its legacy account status): a suspended user cannot sign in.", nil
	case it.StatusAction == StatusDeprovision:
		return CanaryUntested, "Deactivated (its legacy account status): a deactivated user cannot sign in.", nil
	case !x.run.Sandbox:
		return CanaryUntested, byHand, nil
	}
	secret, oerr := x.s.deps.Sealer.Open(c.PasswordSealed)
	if oerr != nil {
		return CanaryUntested, "The canary's password cannot be opened with this console's secret key: mark the canary again.", nil
	}
	// The right password.
	res, serr := x.signIn(ctx, c.Login, secret)
	switch {
	case ctx.Err() != nil:
		return "", "", ctx.Err()
	case serr == nil && res.Status == okta.AuthnSuccess:
	case serr == nil && res.Status == okta.AuthnPasswordExpired && it.StatusAction == StatusChangePassword:
	case serr == nil && res.Status == okta.AuthnPasswordExpired:
		return CanaryFailed, "The right password was accepted, but Okta asks for a new one (PASSWORD_EXPIRED) though this account need not change it.", nil
	case serr == nil:
		return CanaryUntested, "The right password was accepted, but the sign-in asks for more (" + res.Status + "): try it by hand.", nil
	case okta.IsAuthFailed(serr):
		return CanaryFailed, fmt.Sprintf("Okta refused the right password (%s hash): the hash conversion or the canary's password is wrong.", formatName(c.HashFormat)), nil
	default:
		return CanaryUntested, "Ferry could not sign in: " + serr.Error() + ". " + byHand, nil
	}
	// A wrong password must be refused.
	_, werr := x.signIn(ctx, c.Login, wrongPassword(secret))
	switch {
	case ctx.Err() != nil:
		return "", "", ctx.Err()
	case werr == nil:
		return CanaryFailed, "Okta accepted a wrong password: the imported hash does not check the password.", nil
	case !okta.IsAuthFailed(werr):
		return CanaryUntested, "The right password was accepted, but the sign-in with a wrong one got no clear answer: " + werr.Error(), nil
	}
	what := "signed in"
	if res.Status == okta.AuthnPasswordExpired {
		what = "accepted (the account must change its password, as its legacy status says)"
	}
	return CanaryPassed, fmt.Sprintf("The right password %s and a wrong one was refused (%s hash).", what, formatName(c.HashFormat)), nil
}

// signIn makes one Classic sign-in through the pacer, retrying answers
// that may succeed later.
func (x *execution) signIn(ctx context.Context, login, password string) (*okta.AuthnResult, error) {
	for attempt := 1; ; attempt++ {
		var out *okta.AuthnResult
		err := x.send(ctx, bucketOther, func(ctx context.Context) (okta.Response, error) {
			r, res, err := x.client.Authenticate(ctx, login, password)
			out = r
			return res, err
		})
		if err == nil || !okta.IsTemporary(err) || attempt >= maxAttempts || ctx.Err() != nil {
			return out, err
		}
		if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
			return nil, ctx.Err()
		}
	}
}

// passwordOf is how the item's user was given its password.
func passwordOf(x *execution, it *Item) string {
	if it.Action == ActionActivate {
		return waveDetailOf(it).Password
	}
	switch {
	case x.run.Mode == ModeHook:
		return PasswordHook
	case x.run.Mode == ModeHash && it.HashDigest != "":
		return PasswordHash
	}
	return PasswordNone
}

// wrongPassword is a password that differs from the right one.
func wrongPassword(right string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return right + "-not-" + hex.EncodeToString(b)
}

func formatName(f string) string {
	if f == "" {
		return "unknown"
	}
	return strings.ToLower(f)
}
