package load

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// Reconciliation (docs/loads.md): after any run, Ferry reads back every
// user it created, paced like a load, and compares the profile, the status
// and the group memberships with what it sent (its provenance, okta_users).
// Each user ends matched, different (detail_json lists the differences) or
// gone; the differences become defects, one per kind of difference, whose
// summaries carry counts and attribute names, never values.

// NewReconcile is what a person chooses for a reconciliation.
type NewReconcile struct {
	// TargetRunID reads back the users that run created; 0: every user
	// Ferry created in the org.
	TargetRunID int64
	// MaxInFlight (default 10) and RateShare (default 0.8) pace the run.
	MaxInFlight int
	RateShare   float64
	// Claim makes the new run this process's at once (the CLI).
	Claim bool
	// OrgURL and Token override the project's org (without a target run);
	// empty: the project's.
	OrgURL, Token string
}

// Kinds of difference (Diff.Kind). DiffExtraGroup is information, not a
// difference: a group Ferry did not put the user in (a group rule's, say).
const (
	DiffProfile    = "profile"
	DiffStatus     = "status"
	DiffGroup      = "group"
	DiffMissing    = "missing"
	DiffExtraGroup = "extraGroup"
)

// Defect codes of a reconciliation, one defect per kind of difference.
const (
	CodeDiffProfile = "FERRY_DIFF_PROFILE"
	CodeDiffStatus  = "FERRY_DIFF_STATUS"
	CodeDiffGroups  = "FERRY_DIFF_GROUPS"
	CodeDiffMissing = "FERRY_DIFF_MISSING"
)

// Diff is one difference (or, for DiffExtraGroup, one piece of information)
// between a user in Okta and what Ferry sent. Sent and Found are personal
// data: pages mask them for people without the PII permission.
type Diff struct {
	Kind string `json:"kind"`
	// Attribute is the profile attribute (DiffProfile).
	Attribute string `json:"attribute,omitempty"`
	// Sent and Found are the attribute's values (nil: absent or null), or
	// the expected and the found status.
	Sent  any `json:"sent,omitempty"`
	Found any `json:"found,omitempty"`
	// GroupID and GroupName name the group (DiffGroup, DiffExtraGroup).
	GroupID   string `json:"groupId,omitempty"`
	GroupName string `json:"groupName,omitempty"`
}

// Info reports whether the entry is information rather than a difference.
func (d Diff) Info() bool { return d.Kind == DiffExtraGroup }

// Difference is one user of a reconciliation that differs from what Ferry
// sent (or is gone).
type Difference struct {
	ItemID     int64  `json:"itemId"`
	Seq        int64  `json:"seq"`
	Login      string `json:"login"`
	OktaUserID string `json:"oktaUserId"`
	State      string `json:"state"`
	// Diffs are the differences; Info what else was noticed (groups Ferry
	// did not add).
	Diffs []Diff `json:"diffs"`
	Info  []Diff `json:"info,omitempty"`
}

// StartReconcile records a reconciliation, queued: one item per user Ferry
// created (in the target run, or in the org) that no rollback removed.
func (s *Service) StartReconcile(ctx context.Context, projectID int64, in NewReconcile) (*Run, error) {
	check := apperr.NewCheck()
	checkPace(check, &in.MaxInFlight, &in.RateShare)
	if in.TargetRunID < 0 {
		check.Add("target_run", "Choose a run, or every user Ferry created.")
	}
	if err := check.Err(); err != nil {
		return nil, err
	}
	var orgURL string
	var sandbox bool
	q := s.db.Read.WithContext(ctx).Where("project_id = ? AND removed_at IS NULL", projectID)
	if in.TargetRunID != 0 {
		target, err := s.FindRun(ctx, projectID, in.TargetRunID)
		if err != nil {
			return nil, err
		}
		switch target.Kind {
		case KindRollback:
			return nil, apperr.Invalid("A rollback created no user to reconcile: choose a load, a test batch or a refresh.",
				map[string]string{"target_run": "Choose a run that created users."})
		case KindReconcile:
			return nil, apperr.Invalid("A reconciliation created no user to reconcile: choose a load, a test batch or a refresh.",
				map[string]string{"target_run": "Choose a run that created users."})
		}
		if target.Active() {
			return nil, apperr.Conflict(target.Label() + " is still " + target.Status + ": reconcile it once it has finished.")
		}
		orgURL, sandbox = target.OrgURL, target.Sandbox
		q = q.Where("run_id = ? AND org_url = ?", target.ID, target.OrgURL)
	} else {
		var err error
		if orgURL, sandbox, err = s.cutoverOrg(ctx, projectID, in.OrgURL, in.Token); err != nil {
			return nil, err
		}
		q = q.Where("org_url = ?", orgURL)
	}
	var users []OktaUser
	if err := q.Order("id").Find(&users).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	if len(users) == 0 {
		return nil, apperr.Invalid("Ferry created no user there that is still in the org: there is nothing to reconcile.", nil)
	}
	actor := audit.ActorFrom(ctx)
	now := s.now().UTC()
	run := &Run{ProjectID: projectID, Kind: KindReconcile, OrgURL: orgURL, Sandbox: sandbox, MaxInFlight: in.MaxInFlight,
		RateShare: in.RateShare, Status: StatusQueued, PaceJSON: "{}", PopulationJSON: "{}", CreatedByName: actor.Name,
		CreatedAt: now, UpdatedAt: now, Total: int64(len(users))}
	if in.TargetRunID != 0 {
		t := in.TargetRunID
		run.TargetRunID = &t
	}
	if actor.ID != 0 {
		id := actor.ID
		run.CreatedByID = &id
	}
	if in.Claim {
		until := now.Add(s.opts.Lease)
		run.Owner, run.LeaseUntil = s.owner, &until
	}
	items := make([]Item, len(users))
	for i, u := range users {
		items[i] = Item{Seq: int64(i + 1), RecordID: u.RecordID, SourceID: u.SourceID, Login: u.Login, OktaUserID: u.OktaUserID,
			State: StatePending, ProfileJSON: "{}", GroupsJSON: "[]", Action: ActionRead, DetailJSON: "[]", SourceKey: u.SourceKey}
	}
	if err := s.insertRun(ctx, run, items); err != nil {
		return nil, err
	}
	return run, nil
}

// reconcileOne reads one user and its groups back and compares them with
// its provenance. Reading is harmless: a user left in flight is read again.
func (x *execution) reconcileOne(ctx context.Context, it *Item) result {
	var prov OktaUser
	err := x.s.db.Read.WithContext(ctx).Where("org_url = ? AND okta_user_id = ?", x.run.OrgURL, it.OktaUserID).First(&prov).Error
	if err != nil {
		if ctx.Err() != nil {
			return result{state: StatePending}
		}
		return result{state: StateFailed, oktaID: it.OktaUserID, code: "FERRY_PROVENANCE",
			summary: "Ferry's record of what it sent to this user cannot be read: " + err.Error()}
	}
	var user *okta.User
	r, ok := x.readBack(ctx, it, bucketUserGet, func(ctx context.Context) (okta.Response, error) {
		u, res, err := x.client.GetUser(ctx, it.OktaUserID)
		user = u
		return res, err
	})
	if !ok {
		return r
	}
	if user == nil { // 404
		return x.reconciled(ctx, it, StateGone, []Diff{{Kind: DiffMissing}})
	}
	var groups []okta.Group
	r, ok = x.readBack(ctx, it, bucketOther, func(ctx context.Context) (okta.Response, error) {
		g, res, err := x.client.ListUserGroups(ctx, it.OktaUserID)
		groups = g
		return res, err
	})
	if !ok {
		return r
	}
	if groups == nil { // deleted between the two reads
		return x.reconciled(ctx, it, StateGone, []Diff{{Kind: DiffMissing}})
	}
	diffs := compareProfile(prov.ProfileJSON, user.Profile)
	if d, ok := x.compareStatus(ctx, &prov, user); !ok {
		diffs = append(diffs, d)
	}
	diffs = append(diffs, x.compareGroups(ctx, prov.GroupsJSON, groups)...)
	state := StateMatched
	if slices.ContainsFunc(diffs, func(d Diff) bool { return !d.Info() }) {
		state = StateDifferent
	}
	return x.reconciled(ctx, it, state, diffs)
}

// readBack makes one read with retries. ok is false when r is the item's
// result already (the run stops, or Okta refused); a 404 is ok with
// nothing read.
func (x *execution) readBack(ctx context.Context, it *Item, bucket string, call func(ctx context.Context) (okta.Response, error)) (r result, ok bool) {
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return result{state: StatePending}, false
		}
		it.Attempts++
		err := x.send(ctx, bucket, call)
		switch {
		case err == nil:
			return result{}, true
		case ctx.Err() != nil:
			return result{state: StatePending}, false
		case okta.IsNotFound(err):
			return result{}, true
		case okta.IsTemporary(err) && attempt < maxAttempts:
			if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
				return result{state: StatePending}, false
			}
		default:
			r := failure(err)
			r.oktaID = it.OktaUserID
			return r, false
		}
	}
}

// reconciled records the differences on the item (detail_json, written at
// once: results carry no detail) and says how it ended.
func (x *execution) reconciled(ctx context.Context, it *Item, state string, diffs []Diff) result {
	if diffs == nil {
		diffs = []Diff{}
	}
	if _, err := x.s.db.WriteSQL().ExecContext(background(ctx), x.s.db.Bind(`UPDATE load_items SET detail_json = ? WHERE id = ?`),
		jsonString(diffs), it.ID); err != nil {
		return result{state: StateFailed, oktaID: it.OktaUserID, code: "FERRY_DB", summary: "The differences could not be recorded: " + err.Error()}
	}
	r := result{state: state, oktaID: it.OktaUserID}
	switch state {
	case StateGone:
		r.code, r.summary = CodeDiffMissing, "The user is no longer in the org."
	case StateDifferent:
		r.code, r.summary = "FERRY_DIFF", "Differs from what Ferry sent: "+describeDiffs(diffs)+"."
	}
	return r
}

// describeDiffs says which differences an item has, without values.
func describeDiffs(diffs []Diff) string {
	var attrs []string
	var status bool
	groups := 0
	for _, d := range diffs {
		switch d.Kind {
		case DiffProfile:
			attrs = append(attrs, d.Attribute)
		case DiffStatus:
			status = true
		case DiffGroup:
			groups++
		}
	}
	var parts []string
	if len(attrs) > 0 {
		parts = append(parts, "profile ("+strings.Join(attrs, ", ")+")")
	}
	if status {
		parts = append(parts, "status")
	}
	if groups == 1 {
		parts = append(parts, "1 group membership missing")
	} else if groups > 1 {
		parts = append(parts, fmt.Sprintf("%d group memberships missing", groups))
	}
	return strings.Join(parts, ", ")
}

// compareProfile compares every attribute Ferry sent with Okta's: values as
// JSON values (numbers, booleans, arrays), an attribute sent as null must be
// absent or null.
func compareProfile(sentJSON string, found okta.UserProfile) []Diff {
	var sent map[string]any
	_ = json.Unmarshal([]byte(sentJSON), &sent)
	names := make([]string, 0, len(sent))
	for k := range sent {
		names = append(names, k)
	}
	sort.Strings(names)
	var out []Diff
	for _, k := range names {
		want, got := sent[k], found[k]
		if !jsonEqual(want, got) {
			out = append(out, Diff{Kind: DiffProfile, Attribute: k, Sent: want, Found: got})
		}
	}
	return out
}

// jsonEqual compares two values as JSON (1 and 1.0 are equal; nil is null).
func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(normalJSON(a))
	jb, err2 := json.Marshal(normalJSON(b))
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// normalJSON decodes a value's JSON again, so that numbers of any Go type
// become float64.
func normalJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// expectedStatuses are the statuses that match the one Ferry expects: the
// person may since have finished an activation (PROVISIONED → ACTIVE),
// changed an expired password (PASSWORD_EXPIRED → ACTIVE) or set a new one
// after a straggler's reset (RECOVERY → ACTIVE).
var expectedStatuses = map[string][]string{
	okta.StatusProvisioned:     {okta.StatusProvisioned, okta.StatusActive},
	okta.StatusPasswordExpired: {okta.StatusPasswordExpired, okta.StatusActive},
	okta.StatusRecovery:        {okta.StatusRecovery, okta.StatusActive},
}

// compareStatus compares the user's status (or the one it is moving to)
// with the one Ferry expects; ok when they agree.
func (x *execution) compareStatus(ctx context.Context, prov *OktaUser, user *okta.User) (Diff, bool) {
	want := prov.Status
	if want == "" {
		return Diff{}, true // not recorded (a user created before Ferry kept it)
	}
	accepted := expectedStatuses[want]
	if accepted == nil {
		accepted = []string{want}
	}
	if slices.Contains(accepted, user.Status) || (user.TransitioningToStatus != "" && slices.Contains(accepted, user.TransitioningToStatus)) {
		return Diff{}, true
	}
	// A change-password account: the load expired its password.
	if want == okta.StatusActive && user.Status == okta.StatusPasswordExpired && x.s.changePasswordAccount(ctx, prov) {
		return Diff{}, true
	}
	found := user.Status
	if user.TransitioningToStatus != "" {
		found = user.Status + " → " + user.TransitioningToStatus
	}
	return Diff{Kind: DiffStatus, Sent: want, Found: found}, false
}

// changePasswordAccount reports whether the run that created the user made
// it change its password at the first sign-in.
func (s *Service) changePasswordAccount(ctx context.Context, prov *OktaUser) bool {
	var n int64
	err := s.db.ReadSQL().QueryRowContext(ctx, s.db.Bind(`SELECT COUNT(*) FROM load_items WHERE run_id = ? AND okta_user_id = ? AND status_action = ?`),
		prov.RunID, prov.OktaUserID, StatusChangePassword).Scan(&n)
	return err == nil && n > 0
}

// compareGroups checks that the user is in every group Ferry put it in;
// the other groups it is in (Everyone aside) are information.
func (x *execution) compareGroups(ctx context.Context, sentJSON string, groups []okta.Group) []Diff {
	var sent []string
	_ = json.Unmarshal([]byte(sentJSON), &sent)
	in := map[string]bool{}
	for _, g := range groups {
		in[g.ID] = true
	}
	var out []Diff
	for _, id := range sent {
		if !in[id] {
			out = append(out, Diff{Kind: DiffGroup, GroupID: id, GroupName: x.s.groupName(ctx, x.run, id)})
		}
	}
	for _, g := range groups {
		if g.Type == "BUILT_IN" || slices.Contains(sent, g.ID) {
			continue
		}
		out = append(out, Diff{Kind: DiffExtraGroup, GroupID: g.ID, GroupName: g.Profile.Name})
	}
	return out
}

// groupName is the name Ferry knows a group by ("" when unknown).
func (s *Service) groupName(ctx context.Context, run *Run, groupID string) string {
	var name string
	_ = s.db.ReadSQL().QueryRowContext(ctx, s.db.Bind(`SELECT name FROM okta_groups WHERE project_id = ? AND org_url = ? AND okta_group_id = ?`),
		run.ProjectID, run.OrgURL, groupID).Scan(&name)
	return name
}

// recordDifferences turns a reconciliation's differences into defects, one
// per kind, with counts and attribute names but no values.
func recordDifferences(ctx context.Context, x *execution) error {
	if x.s.deps.Defects == nil {
		return nil
	}
	diffs, err := x.s.Differences(ctx, x.run.ID)
	if err != nil {
		return err
	}
	var profileUsers, statusUsers, groupUsers, groupsMissing, gone int64
	attrUsers := map[string]int64{}
	for _, d := range diffs {
		if d.State == StateGone {
			gone++
			continue
		}
		var prof, status, group bool
		for _, e := range d.Diffs {
			switch e.Kind {
			case DiffProfile:
				prof = true
				attrUsers[e.Attribute]++
			case DiffStatus:
				status = true
			case DiffGroup:
				group = true
				groupsMissing++
			}
		}
		if prof {
			profileUsers++
		}
		if status {
			statusUsers++
		}
		if group {
			groupUsers++
		}
	}
	var out []ErrorCount
	if profileUsers > 0 {
		attrs := make([]string, 0, len(attrUsers))
		for a := range attrUsers {
			attrs = append(attrs, a)
		}
		sort.Slice(attrs, func(i, j int) bool {
			if attrUsers[attrs[i]] != attrUsers[attrs[j]] {
				return attrUsers[attrs[i]] > attrUsers[attrs[j]]
			}
			return attrs[i] < attrs[j]
		})
		parts := make([]string, len(attrs))
		for i, a := range attrs {
			parts[i] = fmt.Sprintf("%s differs on %s", a, users(attrUsers[a]))
		}
		out = append(out, ErrorCount{Code: CodeDiffProfile, Count: profileUsers,
			Summary: "Profiles differ from what Ferry sent: " + strings.Join(parts, "; ") + "."})
	}
	if statusUsers > 0 {
		out = append(out, ErrorCount{Code: CodeDiffStatus, Count: statusUsers,
			Summary: "The status differs from the one Ferry expects on " + users(statusUsers) + "."})
	}
	if groupUsers > 0 {
		out = append(out, ErrorCount{Code: CodeDiffGroups, Count: groupUsers,
			Summary: fmt.Sprintf("%d group memberships Ferry added are missing, on %s.", groupsMissing, users(groupUsers))})
	}
	if gone > 0 {
		out = append(out, ErrorCount{Code: CodeDiffMissing, Count: gone,
			Summary: users(gone) + " Ferry created " + verb(gone, "is", "are") + " no longer in the org."})
	}
	if len(out) == 0 {
		return nil
	}
	// A defect log that cannot be written does not undo the reading.
	_ = x.s.deps.Defects.RecordFailures(ctx, x.run.ProjectID, x.run.ID, x.run.Label(), out)
	return nil
}

func users(n int64) string {
	if n == 1 {
		return "1 user"
	}
	return fmt.Sprintf("%d users", n)
}

func verb(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Differences lists the users of a reconciliation that differ from what
// Ferry sent or are gone, in order.
func (s *Service) Differences(ctx context.Context, runID int64) ([]Difference, error) {
	rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT id, seq, login, okta_user_id, state, detail_json FROM load_items
		WHERE run_id = ? AND state IN (?, ?) ORDER BY seq`), runID, StateDifferent, StateGone)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	defer rows.Close()
	var out []Difference
	for rows.Next() {
		var d Difference
		var detail sql.NullString
		if err := rows.Scan(&d.ItemID, &d.Seq, &d.Login, &d.OktaUserID, &d.State, &detail); err != nil {
			return nil, apperr.Internal(err)
		}
		var all []Diff
		_ = json.Unmarshal([]byte(detail.String), &all)
		d.Diffs = []Diff{}
		for _, e := range all {
			if e.Info() {
				d.Info = append(d.Info, e)
			} else {
				d.Diffs = append(d.Diffs, e)
			}
		}
		if d.State == StateGone && len(d.Diffs) == 0 {
			d.Diffs = append(d.Diffs, Diff{Kind: DiffMissing})
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

func init() {
	kindWorks[KindReconcile] = func(ctx context.Context, x *execution) error { return x.sendEach(ctx, x.reconcileOne) }
	kindAfter[KindReconcile] = append(kindAfter[KindReconcile], recordDifferences)
	kindSummaries[KindReconcile] = func(c Counts) string {
		msg := fmt.Sprintf("%d matched, %d different, %d gone", c.Of(StateMatched), c.Of(StateDifferent), c.Of(StateGone))
		if n := c.Of(StateFailed); n > 0 {
			msg += fmt.Sprintf(", %d could not be read", n)
		}
		if n := c.Of(StateSkipped); n > 0 {
			msg += fmt.Sprintf(", %d skipped", n)
		}
		return msg + "."
	}
}
