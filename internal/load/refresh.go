package load

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// A refresh (docs/loads.md, "Load ahead, then refresh at cut-over") brings
// the users Ferry created up to date with the latest extract, in one run
// of kind KindRefresh whose items are:
//
//   - ActionUpdate: a user Ferry created (a live okta_users row of this
//     org) whose record is still valid, matched by (source_id, source_key)
//     (record ids change when a source is staged again), else by login,
//     and whose typed profile differs from the one Ferry last sent
//     (okta_users.profile_json) or whose password hash changed (the digest
//     of the hash sealed as the load seals it, for users loaded with a
//     hash). The item carries only the changed attributes (JSON null for an
//     attribute gone at the source) and the new hash only while the user is
//     STAGED as far as Ferry knows: Okta accepts an imported hash only then.
//     If Okta refuses the hash anyway (the user was activated since), the
//     profile change is sent without it and the item says so. On success
//     the provenance row takes the new profile, digest and status.
//   - ActionCreate: a joiner, a valid record with no live okta_users row,
//     created as the latest load of the org created its users (password
//     mode, activation, what to do with an existing login) with its groups
//     and its legacy account status.
//   - ActionLeave: a leaver, a live okta_users row whose (source_id,
//     source_key) is absent from its source's current extract. A record
//     still in the extract but excluded or failing validation is NOT a
//     leaver: the person still exists at the source, and deactivating
//     someone because of a data-quality problem (or a person's exclusion
//     for the migration) would lock a current employee out at cut-over.
//     Such users are "held": left as Ferry last sent them and listed as
//     skipped items (FERRY_HELD) so that people see them. So are users of a
//     source that has no current extract (or was removed from the project),
//     and rows without a source. Under the project's leaver policy a leaver
//     is deactivated (DEPROVISIONED) or only reported (a skipped item,
//     FERRY_LEAVER: nothing is sent).
//
// Unchanged users get no item and no request. Users whose only change is a
// hash that can no longer be sent (not STAGED) are skipped items
// (FERRY_HASH_NOT_STAGED).

// Item codes of a refresh.
const (
	codeLeaver        = "FERRY_LEAVER"
	codeHeld          = "FERRY_HELD"
	codeHashNotStaged = "FERRY_HASH_NOT_STAGED"
	codeGone          = "FERRY_GONE"
)

func init() {
	kindWorks[KindRefresh] = workRefresh
	kindSummaries[KindRefresh] = func(c Counts) string {
		return fmt.Sprintf("%d updated, %d joiners created, %d leavers deactivated, %d skipped (leavers reported, users held or not loaded: see each user), %d already existed, %d failed.",
			c.Of(StateUpdated), c.Of(StateCreated), c.Of(StateDeactivated), c.Of(StateSkipped), c.Of(StateExisted), c.Of(StateFailed))
	}
}

// NewRefresh is what a person chooses for a refresh.
type NewRefresh struct {
	// MaxInFlight (default 10) and RateShare (default 0.8) pace the run.
	MaxInFlight int
	RateShare   float64
	// Window limits the run to hours of the day (nil: any time).
	Window *Window
	// Claim makes the new run this process's at once (see NewRun.Claim).
	Claim bool
	// OrgURL and Token override the project's org (the CLI).
	OrgURL, Token string
}

// RefreshPlan is what a refresh would do, shown before it runs.
type RefreshPlan struct {
	OrgURL  string `json:"orgUrl"`
	Sandbox bool   `json:"sandbox"`
	Checks  Checks `json:"checks"`
	// How joiners are created: as the latest load of the org did.
	Mode     string `json:"mode"`
	Activate bool   `json:"activate"`
	// ProfilesChanged counts users whose profile changed at the source;
	// HashesChanged those whose password hash changed, of which
	// HashesNotSendable cannot be sent (the user is no longer STAGED).
	ProfilesChanged   int `json:"profilesChanged"`
	HashesChanged     int `json:"hashesChanged"`
	HashesNotSendable int `json:"hashesNotSendable"`
	// Updates counts the users to update (a profile or a hash to send).
	Updates int `json:"updates"`
	Joiners int `json:"joiners"`
	// JoinersSkipped are joiners not created (legacy status skip, no
	// importable hash).
	JoinersSkipped int `json:"joinersSkipped"`
	Leavers        int `json:"leavers"`
	// LeaverPolicy is LeaversReport or LeaversDeactivate.
	LeaverPolicy string `json:"leaverPolicy"`
	// AlreadyDeactivated are leavers Ferry already deactivated.
	AlreadyDeactivated int `json:"alreadyDeactivated"`
	// Held are users still at the source but excluded or not valid now (or
	// of a source without a current extract): left as they are.
	Held      int `json:"held"`
	Unchanged int `json:"unchanged"`
	// ValidationRunID is the validation the records passed.
	ValidationRunID int64 `json:"validationRunId"`
	items           []Item
	onExisting      string
	threshold       float64
	// records are the provenance rows whose record id changed (re-staged).
	records map[int64]int64
}

// Blocked reports whether a blocking check failed.
func (p *RefreshPlan) Blocked() bool { return p.Checks.Blocked() }

// BlockingReasons lists the failed blocking checks.
func (p *RefreshPlan) BlockingReasons() []string { return p.Checks.BlockingReasons() }

func (p *RefreshPlan) add(name string, ok, blocking bool, format string, args ...any) {
	p.Checks.add(name, ok, blocking, format, args...)
}

func (in *NewRefresh) normalise() error {
	r := NewRun{Kind: KindLoad, MaxInFlight: in.MaxInFlight, RateShare: in.RateShare}
	if err := r.normalise(); err != nil {
		return err
	}
	in.MaxInFlight, in.RateShare = r.MaxInFlight, r.RateShare
	return nil
}

// PlanRefresh says what a refresh would do now (nothing is recorded).
func (s *Service) PlanRefresh(ctx context.Context, projectID int64, in NewRefresh) (*RefreshPlan, error) {
	if err := in.normalise(); err != nil {
		return nil, err
	}
	return s.planRefresh(ctx, projectID, in)
}

// StartRefresh checks and plans a refresh, refuses it with the reasons
// when a check blocks, and otherwise records it with its items, queued.
func (s *Service) StartRefresh(ctx context.Context, projectID int64, in NewRefresh) (*Run, *RefreshPlan, error) {
	if err := in.normalise(); err != nil {
		return nil, nil, err
	}
	for _, r := range s.activeRuns(ctx, projectID) {
		switch r.Kind {
		case KindLoad, KindTestBatch, KindRefresh, KindRollback:
			return nil, nil, apperr.Conflict(r.Label() + " is still " + r.Status + ": let it finish (or cancel it) before a refresh.")
		}
	}
	p, err := s.planRefresh(ctx, projectID, in)
	if err != nil {
		return nil, nil, err
	}
	if p.Blocked() {
		return nil, p, apperr.Invalid("The checks refuse this refresh: "+strings.Join(p.BlockingReasons(), " "), nil)
	}
	if len(p.items) == 0 {
		return nil, p, apperr.Invalid("Nothing changed at the source since the load: there is nothing to refresh.", nil)
	}
	actor := audit.ActorFrom(ctx)
	now := s.now().UTC()
	run := &Run{ProjectID: projectID, Kind: KindRefresh, OrgURL: p.OrgURL, Sandbox: p.Sandbox, Mode: p.Mode, Activate: p.Activate,
		OnExisting: p.onExisting, PopulationJSON: jsonString(map[string]string{"leavers": p.LeaverPolicy}), MaxInFlight: in.MaxInFlight,
		RateShare: in.RateShare, ErrorThreshold: p.threshold, Status: StatusQueued, PaceJSON: "{}", CreatedByName: actor.Name,
		CreatedAt: now, UpdatedAt: now, Total: int64(len(p.items))}
	if actor.ID != 0 {
		id := actor.ID
		run.CreatedByID = &id
	}
	if in.Claim {
		until := now.Add(s.opts.Lease)
		run.Owner, run.LeaseUntil = s.owner, &until
	}
	setWindow(run, in.Window)
	if err := s.insertRun(ctx, run, p.items); err != nil {
		return nil, p, err
	}
	// Re-staged records: the provenance follows the record's new id, so
	// that loads know these users are already in the org.
	if len(p.records) > 0 {
		err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
			for rowID, recID := range p.records {
				if _, err := tx.ExecContext(ctx, s.db.Bind(`UPDATE okta_users SET record_id = ? WHERE id = ?`), recID, rowID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, p, apperr.Internal(err)
		}
	}
	return run, p, nil
}

// sourceKey identifies a source record across re-staging.
type sourceKey struct {
	sourceID int64
	key      string
}

// planRefresh compares the current extracts with what Ferry sent.
func (s *Service) planRefresh(ctx context.Context, projectID int64, in NewRefresh) (*RefreshPlan, error) {
	settings, err := s.FindSettings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	client, orgURL, err := s.orgClient(ctx, projectID, in.OrgURL, in.Token)
	if err != nil {
		return nil, err
	}
	p := &RefreshPlan{OrgURL: orgURL, LeaverPolicy: orDefault(settings.Leavers, LeaversReport), threshold: settings.ErrorThreshold,
		records: map[int64]int64{}}

	// The token, the custom attributes and the legal gate, as a load's
	// pre-flight checks them.
	schemaDoc, res, terr := client.GetUserSchema(ctx, okta.DefaultSchemaID)
	switch {
	case terr == nil:
		p.Sandbox = res.Sandbox
		p.add("Okta API token", true, true, "The token is valid and may read the user schema of %s.", orgURL)
	case okta.IsBadToken(terr):
		p.add("Okta API token", false, true, "Okta refused the token (invalid, expired or revoked): save a new one on the Okta org page.")
	case okta.IsForbidden(terr):
		p.add("Okta API token", false, true, "The token's admin may not manage users and the schema: use a Super or Org Administrator's token (docs/okta.md).")
	default:
		p.add("Okta API token", false, true, "Okta could not be reached: %v", terr)
	}
	if schemaDoc != nil {
		rep := &Report{}
		if err := s.checkAttributes(ctx, projectID, schemaDoc, rep); err != nil {
			return nil, err
		}
		p.Checks = append(p.Checks, rep.Checks...)
	}
	gate, err := s.deps.Gate.LoadGate(ctx, projectID, p.Sandbox)
	switch {
	case err != nil:
		return nil, err
	case p.Sandbox:
		p.add("Legal sign-off", true, true, "Not needed for Ferry's sandbox.")
	case gate.Open:
		p.add("Legal sign-off", true, true, "Every personal-data decision is approved and the register is signed off.")
	default:
		p.add("Legal sign-off", false, true, "%s", strings.Join(gate.Reasons, " "))
	}

	// The records: valid in the latest validation, which must be current.
	sel, err := s.resolve(ctx, projectID, orgURL, Population{})
	if err != nil {
		if ae := apperr.As(err); ae.Code == apperr.CodeInvalid {
			p.add("Users", false, true, "%s", ae.Message)
			return p, nil
		}
		return nil, err
	}
	p.ValidationRunID = sel.ValidationRunID
	if err := s.refreshItems(ctx, projectID, orgURL, sel, p); err != nil {
		return nil, err
	}
	p.add("Users", true, true, "%d to update (%d profiles, %d hashes changed), %d joiners, %d leavers (%s), %d unchanged.",
		p.Updates, p.ProfilesChanged, p.HashesChanged, p.Joiners, p.Leavers, p.LeaverPolicy, p.Unchanged)
	if p.HashesNotSendable > 0 {
		p.add("Password hashes", true, false, "%d changed hashes cannot be sent: those users are no longer STAGED (Okta accepts an imported hash only then); they keep their previous password.", p.HashesNotSendable)
	}
	if p.Held > 0 {
		p.add("Held users", true, false, "%d users Ferry created are still at the source but excluded or not valid now (or their source has no current extract): they are left as they are, not treated as leavers.", p.Held)
	}
	return p, nil
}

// loadLike is how the org's latest load created its users; a refresh
// creates its joiners the same way.
func (s *Service) loadLike(ctx context.Context, projectID int64, orgURL string) (mode string, activate bool, onExisting string, err error) {
	var last Run
	err = s.db.Read.WithContext(ctx).Where("project_id = ? AND org_url = ? AND kind IN (?, ?)", projectID, orgURL, KindLoad, KindTestBatch).
		Order("id DESC").First(&last).Error
	switch {
	case err == nil:
		return last.Mode, last.Activate, orDefault(last.OnExisting, OnExistingSkip), nil
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return "", false, "", apperr.Internal(err)
	}
	// No load yet: staged users, with their hashes where the source has
	// password settings.
	readings, err := s.deps.Passwords.Readings(ctx, projectID)
	if err != nil {
		return "", false, "", err
	}
	for _, r := range readings {
		if r.Settings != nil {
			return ModeHash, false, OnExistingSkip, nil
		}
	}
	return ModeNone, false, OnExistingSkip, nil
}

// refreshItems builds the items of a refresh into p.
func (s *Service) refreshItems(ctx context.Context, projectID int64, orgURL string, sel *Selection, p *RefreshPlan) error {
	mode, activate, onExisting, err := s.loadLike(ctx, projectID, orgURL)
	if err != nil {
		return err
	}
	p.Mode, p.Activate, p.onExisting = mode, activate, onExisting
	m, err := s.deps.Matrix.LoadMatrix(ctx, projectID)
	if err != nil {
		return err
	}
	types := attributeTypes(m)
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return err
	}
	memberships := map[int64]bool{}
	for _, src := range sources {
		memberships[src.ID] = src.MigrateMemberships == plan.DecisionYes
	}
	var readings map[int64]credentials.Reading
	if mode == ModeHash {
		if readings, err = s.deps.Passwords.Readings(ctx, projectID); err != nil {
			return err
		}
	}
	cutovers, err := s.FindCutovers(ctx, projectID)
	if err != nil {
		return err
	}
	nest, err := s.nestingsToFlatten(ctx, projectID)
	if err != nil {
		return err
	}

	// What Ferry created in this org and has not removed.
	var rows []OktaUser
	if err := s.db.Read.WithContext(ctx).Where("project_id = ? AND org_url = ? AND removed_at IS NULL", projectID, orgURL).
		Order("id").Find(&rows).Error; err != nil {
		return apperr.Internal(err)
	}
	byKey := map[sourceKey]*OktaUser{}
	byLogin := map[string]*OktaUser{}
	for i := range rows {
		r := &rows[i]
		if r.SourceID != nil && r.SourceKey != "" {
			byKey[sourceKey{*r.SourceID, r.SourceKey}] = r // the latest row wins
		}
		byLogin[schema.LoginKey(r.Login)] = r
	}

	var updates, joiners, leavers, held []Item
	matched := map[int64]bool{}
	for _, c := range sel.Candidates {
		row := byKey[sourceKey{c.SourceID, c.SourceKey}]
		if row == nil {
			row = byLogin[schema.LoginKey(c.Login)]
		}
		if row != nil && matched[row.ID] {
			continue // two records for one Okta user: the first one counts
		}
		var rec map[string][]string
		needRec := memberships[c.SourceID] || readings != nil || cutovers[c.SourceID].readsStatus()
		if needRec {
			rec = recordAttributes(c)
		}
		if row == nil {
			it := Item{Login: c.Login, State: StatePending, GroupsJSON: "[]", Action: ActionCreate, SourceKey: c.SourceKey, DetailJSON: "{}"}
			rid, sid := c.RecordID, c.SourceID
			it.RecordID, it.SourceID = &rid, &sid
			it.ProfileJSON = jsonString(typedProfile(c.Profile, types))
			if memberships[c.SourceID] {
				gs := membershipGroups(rec)
				if n := nest[c.SourceID]; n != nil {
					gs = n.expand(directMemberships(rec))
				}
				if len(gs) > 0 {
					it.GroupsJSON = jsonString(gs)
				}
			}
			if readings != nil {
				if r, ok := readings[c.SourceID]; ok && r.Settings != nil {
					sealed, digest, why := s.sealHash(r, rec)
					if why != "" {
						it.State, it.ErrorCode, it.ErrorSummary = StateSkipped, "FERRY_NO_HASH", why
					}
					it.CredentialSealed, it.HashDigest = sealed, digest
				}
			}
			setAccountStatus(&it, cutovers[c.SourceID], rec)
			if it.State == StatePending {
				p.Joiners++
			} else {
				p.JoinersSkipped++
			}
			joiners = append(joiners, it)
			continue
		}
		matched[row.ID] = true
		if row.RecordID == nil || *row.RecordID != c.RecordID {
			p.records[row.ID] = c.RecordID
		}
		changed := profileChanges(row.ProfileJSON, typedProfile(c.Profile, types))
		var sealed, digest string
		hashChanged := false
		if readings != nil && row.Password == PasswordHash {
			if r, ok := readings[c.SourceID]; ok && r.Settings != nil {
				var why string
				sealed, digest, why = s.sealHash(r, rec)
				hashChanged = why == "" && digest != row.HashDigest
			}
		}
		if len(changed) == 0 && !hashChanged {
			p.Unchanged++
			continue
		}
		sendable := hashChanged && row.Status == okta.StatusStaged
		names := make([]string, 0, len(changed))
		for k := range changed {
			names = append(names, k)
		}
		slices.Sort(names)
		rid, sid := c.RecordID, c.SourceID
		it := Item{RecordID: &rid, SourceID: &sid, Login: c.Login, OktaUserID: row.OktaUserID, State: StatePending, GroupsJSON: "[]",
			Action: ActionUpdate, SourceKey: c.SourceKey, ProfileJSON: jsonString(changed),
			DetailJSON: jsonString(map[string]any{"changed": names, "hashChanged": hashChanged, "hashSent": sendable, "status": row.Status})}
		if len(changed) > 0 {
			p.ProfilesChanged++
		}
		if hashChanged {
			p.HashesChanged++
			if sendable {
				it.CredentialSealed, it.HashDigest = sealed, digest
			} else {
				p.HashesNotSendable++
			}
		}
		if len(changed) == 0 && !sendable {
			it.State, it.ErrorCode = StateSkipped, codeHashNotStaged
			it.ErrorSummary = "The password hash changed at the source, but the user is " + orDefault(row.Status, "not STAGED") +
				" in Okta, which accepts an imported hash only while a user is STAGED: it keeps its previous password."
		} else {
			p.Updates++
		}
		updates = append(updates, it)
	}

	// Leavers: users Ferry created whose record is gone from the source.
	present, err := s.presentRecords(ctx, projectID)
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		if matched[r.ID] {
			continue
		}
		it := Item{RecordID: r.RecordID, SourceID: r.SourceID, Login: r.Login, OktaUserID: r.OktaUserID, State: StatePending,
			ProfileJSON: "{}", GroupsJSON: "[]", Action: ActionLeave, SourceKey: r.SourceKey, DetailJSON: "{}"}
		var pr *presence
		if r.SourceID != nil {
			pr = present[*r.SourceID]
		}
		switch {
		case pr == nil:
			p.Held++
			it.State, it.ErrorCode = StateSkipped, codeHeld
			it.ErrorSummary = "Its source has no current extract (or is no longer in the project): left as it is, not treated as a leaver."
			held = append(held, it)
			continue
		case (r.SourceKey != "" && pr.keys[r.SourceKey]) || (r.SourceKey == "" && pr.logins[schema.LoginKey(r.Login)]):
			p.Held++
			it.State, it.ErrorCode = StateSkipped, codeHeld
			it.ErrorSummary = "Still in the source's extract, but excluded or failing validation now: left as Ferry last sent it (not updated, not treated as a leaver)."
			held = append(held, it)
			continue
		case r.Status == okta.StatusDeprovisioned:
			p.AlreadyDeactivated++
			continue
		}
		p.Leavers++
		it.DetailJSON = jsonString(map[string]string{"policy": p.LeaverPolicy})
		if p.LeaverPolicy != LeaversDeactivate {
			it.State, it.ErrorCode = StateSkipped, codeLeaver
			it.ErrorSummary = "Gone from the source's current extract: left in Okta as it is, as the project's leaver policy says (report). Deactivate or keep it by hand."
		}
		leavers = append(leavers, it)
	}
	// Updates first (hashes are accepted only while users are STAGED),
	// then joiners, leavers and the users held.
	var items []Item
	for _, l := range [][]Item{updates, joiners, leavers, held} {
		items = append(items, l...)
	}
	for i := range items {
		items[i].Seq = int64(i + 1)
	}
	p.items = items
	return nil
}

// profileChanges lists the attributes of the new typed profile that differ
// from the profile Ferry last sent, and those gone from it (nil: JSON null,
// which clears them in Okta).
func profileChanges(sentJSON string, now okta.UserProfile) map[string]any {
	var sent map[string]any
	if err := json.Unmarshal([]byte(sentJSON), &sent); err != nil || sent == nil {
		sent = map[string]any{}
	}
	out := map[string]any{}
	for k, v := range now {
		old, ok := sent[k]
		if !ok || jsonString(old) != jsonString(v) {
			out[k] = v
		}
	}
	for k, v := range sent {
		if _, ok := now[k]; !ok && v != nil && !managerAttributes[k] {
			out[k] = nil
		}
	}
	return out
}

// managerAttributes are set by the manager pass, not by the matrix: a
// profile without them does not mean the source removed them.
var managerAttributes = map[string]bool{"managerId": true, "manager": true}

// presence is what a source's current extract holds, valid or not.
type presence struct {
	keys   map[string]bool
	logins map[string]bool
}

// presentRecords lists, per source with a current extract, the keys and
// logins of every record in it (excluded and invalid ones included).
func (s *Service) presentRecords(ctx context.Context, projectID int64) (map[int64]*presence, error) {
	extracts, err := s.deps.Extracts.CurrentExtracts(ctx, projectID)
	if err != nil {
		return nil, err
	}
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	inProject := map[int64]bool{}
	for _, src := range sources {
		inProject[src.ID] = true
	}
	out := map[int64]*presence{}
	const page = 5000
	for _, ex := range extracts {
		if !inProject[ex.SourceID] {
			continue
		}
		pr := out[ex.SourceID]
		if pr == nil {
			pr = &presence{keys: map[string]bool{}, logins: map[string]bool{}}
			out[ex.SourceID] = pr
		}
		var after int64
		for {
			rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT r.id, r.source_key, p.profile_json
				FROM staged_records r LEFT JOIN staged_profiles p ON p.record_id = r.id
				WHERE r.extract_id = ? AND r.id > ? ORDER BY r.id LIMIT ?`), ex.ID, after, page)
			if err != nil {
				return nil, apperr.Internal(err)
			}
			n := 0
			for rows.Next() {
				var key string
				var profile sql.NullString
				if err := rows.Scan(&after, &key, &profile); err != nil {
					rows.Close()
					return nil, apperr.Internal(err)
				}
				n++
				if key != "" {
					pr.keys[key] = true
				}
				if profile.Valid {
					var prof map[string]string
					if json.Unmarshal([]byte(profile.String), &prof) == nil && prof["login"] != "" {
						pr.logins[schema.LoginKey(prof["login"])] = true
					}
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, apperr.Internal(err)
			}
			if n < page {
				break
			}
		}
	}
	return out, nil
}

// workRefresh: the groups first (joiners need theirs), then every user by
// its action, then the memberships that could not be added at creation.
func workRefresh(ctx context.Context, x *execution) error {
	if err := x.ensureGroups(ctx); err != nil {
		return err
	}
	if err := x.sendEach(ctx, x.refreshOne); err != nil {
		return err
	}
	return x.addPendingMemberships(ctx)
}

// refreshOne takes one refresh item to a final state (or leaves it sending
// when the run stops mid-request: updates and deactivations are safe to
// send again, a joiner is looked up as a load's user is).
func (x *execution) refreshOne(ctx context.Context, it *Item) result {
	switch it.Action {
	case ActionCreate:
		return x.createUser(ctx, it)
	case ActionUpdate:
		return x.updateOne(ctx, it)
	case ActionLeave:
		return x.leaveOne(ctx, it)
	}
	return result{state: StateFailed, code: "FERRY_ACTION", summary: "A refresh does not know the action " + it.Action + "."}
}

// isHashRefused: Okta refused an imported hash because the user is not
// STAGED ("password: An imported password may only be specified for a user
// with status: STAGED").
func isHashRefused(err error) bool {
	e, ok := okta.AsError(err)
	if !ok || e.ErrorCode != okta.CodeValidation {
		return false
	}
	for _, c := range e.ErrorCauses {
		s := strings.ToLower(c.ErrorSummary)
		if strings.HasPrefix(s, "password") && strings.Contains(s, "staged") {
			return true
		}
	}
	return strings.Contains(strings.ToLower(e.ErrorSummary), "staged")
}

// updateOne sends the changed attributes (and the new hash while the user
// is STAGED) with POST /api/v1/users/{id}, then records them in the
// provenance. Sending it again after a crash is harmless.
func (x *execution) updateOne(ctx context.Context, it *Item) result {
	var profile okta.UserProfile
	if err := json.Unmarshal([]byte(it.ProfileJSON), &profile); err != nil {
		return result{state: StateFailed, code: "FERRY_SNAPSHOT", summary: "The snapshot of this user is damaged: " + err.Error()}
	}
	var cred *okta.UserCredentials
	if it.CredentialSealed != "" {
		raw, err := x.s.deps.Sealer.Open(it.CredentialSealed)
		if err != nil {
			return result{state: StateFailed, code: "FERRY_SNAPSHOT", summary: "The password hash of this user cannot be opened with this console's secret key: " + err.Error()}
		}
		var h okta.PasswordHash
		if err := json.Unmarshal([]byte(raw), &h); err != nil {
			return result{state: StateFailed, code: "FERRY_SNAPSHOT", summary: "The password hash of this user is damaged: " + err.Error()}
		}
		cred = &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: &h}}
	}
	if len(profile) == 0 && cred == nil {
		// Sent before a crash, its provenance recorded: nothing left.
		return result{state: StateUpdated, oktaID: it.OktaUserID, summary: "Updated."}
	}
	hashRefused := false
	var user *okta.User
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return result{state: StateSending}
		}
		body := okta.UpdateUserRequest{Profile: profile, Credentials: cred}
		err := x.send(ctx, bucketUserUpdate, func(ctx context.Context) (okta.Response, error) {
			it.Attempts++
			u, res, err := x.client.UpdateUser(ctx, it.OktaUserID, body)
			user = u
			return res, err
		})
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return result{state: StateSending}
		case cred != nil && isHashRefused(err):
			// Activated since Ferry last knew: the profile still goes.
			cred, hashRefused = nil, true
			if len(profile) == 0 {
				x.recordUpdate(ctx, it, nil, false, "")
				return result{state: StateSkipped, code: codeHashNotStaged, oktaID: it.OktaUserID,
					summary: "The password hash changed at the source, but Okta refused it: the user is no longer STAGED (an imported hash is accepted only then). It keeps its previous password."}
			}
			continue
		case okta.IsNotFound(err):
			return result{state: StateFailed, code: codeGone, oktaID: it.OktaUserID,
				summary: "The user Ferry created is no longer in the Okta org (deleted outside Ferry): nothing was updated."}
		case okta.IsTemporary(err) && attempt < maxAttempts:
			if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
				return result{state: StateSending}
			}
			continue
		default:
			r := failure(err)
			r.oktaID = it.OktaUserID
			return r
		}
		break
	}
	if x.crashAt("updated") {
		return result{state: StateSending}
	}
	status := ""
	if user != nil {
		status = user.Status
	}
	if err := x.recordUpdate(ctx, it, profile, cred != nil, status); err != nil {
		return result{state: StateSending} // sent again on resume: harmless
	}
	var names []string
	for k := range profile {
		names = append(names, k)
	}
	slices.Sort(names)
	summary := "Updated"
	if len(names) > 0 {
		summary += ": " + strings.Join(names, ", ")
	}
	switch {
	case cred != nil:
		summary += "; new password hash sent."
	case hashRefused:
		summary += ". The new password hash was not sent: the user is no longer STAGED in Okta (an imported hash is accepted only then); it keeps its previous password."
	default:
		summary += "."
	}
	return result{state: StateUpdated, oktaID: it.OktaUserID, summary: summary}
}

// recordUpdate merges what was sent into the user's provenance (the
// digest only when the hash went through, the status Okta answered) and
// drops the item's sealed hash, in one transaction.
func (x *execution) recordUpdate(ctx context.Context, it *Item, profile okta.UserProfile, hashSent bool, status string) error {
	ctx = background(ctx)
	s := x.s
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		merged, found, err := s.mergedProvenanceProfile(ctx, tx, x.run.OrgURL, it.OktaUserID, profile)
		if err != nil || !found {
			return err
		}
		login := it.Login
		if _, ok := profile["login"]; !ok {
			login = ""
		}
		if _, err := tx.ExecContext(ctx, s.db.Bind(`UPDATE okta_users SET profile_json = ?,
			login = CASE WHEN ? = '' THEN login ELSE ? END,
			hash_digest = CASE WHEN ? THEN ? ELSE hash_digest END,
			status = CASE WHEN ? = '' THEN status ELSE ? END, updated_at = ?
			WHERE org_url = ? AND okta_user_id = ?`),
			merged, login, login, hashSent, it.HashDigest, status, status, s.now().UTC(), x.run.OrgURL, it.OktaUserID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.db.Bind(`UPDATE load_items SET credential_sealed = '' WHERE id = ?`), it.ID)
		return err
	})
	if err != nil {
		return apperr.Internal(err)
	}
	it.CredentialSealed = ""
	return nil
}

// leaveOne deactivates a leaver (the leaver policy deactivate; reported
// leavers are skipped items from the start). Deactivating again is harmless.
func (x *execution) leaveOne(ctx context.Context, it *Item) result {
	err := x.retrySend(ctx, bucketOther, func(ctx context.Context) (okta.Response, error) {
		it.Attempts++
		return x.client.DeactivateUser(ctx, it.OktaUserID, false)
	})
	switch {
	case err == nil || isAlreadyDeactivated(err):
	case ctx.Err() != nil:
		return result{state: StateSending}
	case okta.IsNotFound(err):
		return result{state: StateGone, oktaID: it.OktaUserID, removed: true, summary: "Gone from the source, and already deleted from the Okta org."}
	default:
		r := failure(err)
		r.oktaID = it.OktaUserID
		return r
	}
	if _, err := x.s.db.WriteSQL().ExecContext(background(ctx), x.s.db.Bind(`UPDATE okta_users SET status = ?, updated_at = ?
		WHERE org_url = ? AND okta_user_id = ?`), okta.StatusDeprovisioned, x.s.now().UTC(), x.run.OrgURL, it.OktaUserID); err != nil {
		return result{state: StateSending} // deactivated again on resume: harmless
	}
	return result{state: StateDeactivated, oktaID: it.OktaUserID,
		summary: "Gone from the source's current extract: deactivated (DEPROVISIONED), as the project's leaver policy says."}
}
