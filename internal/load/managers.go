package load

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// The manager pass (docs/loads.md): once the users exist, each user's
// managerId and manager are set to the Okta id and display name of the
// manager its source record references. A reference is resolved against the
// project's current extracts and Ferry's own records of the users it
// created; a reference that does not lead to exactly one user Ferry created
// in the org is reported (a skipped item, FERRY_MANAGER_UNRESOLVED), never
// guessed.

// NewManagerPass is what a person chooses for a manager pass.
type NewManagerPass struct {
	// SourceIDs narrows the pass to the users loaded from these sources
	// (empty: every source).
	SourceIDs []int64
	// MaxInFlight (default 10) and RateShare (default 0.8) pace the run.
	MaxInFlight int
	RateShare   float64
	// Window limits the run to hours of the day (nil: any time).
	Window *Window
	// Claim makes the new run this process's at once (the CLI).
	Claim bool
	// OrgURL and Token override the project's org; empty: the project's.
	OrgURL, Token string
}

// Kinds of manager reference (the cut-over settings' ManagerKind).
const (
	mrefDN         = ManagerKindDN
	mrefEmployeeID = ManagerKindEmployeeID
	mrefLogin      = ManagerKindLogin
)

// Why a manager reference did not resolve.
const (
	unresolvedNotFound   = "not_found"   // no record of the current extracts has it
	unresolvedAmbiguous  = "ambiguous"   // it leads to several users Ferry created
	unresolvedNotCreated = "not_created" // the record's user was not created by Ferry in this org
	unresolvedSelf       = "self"        // it names the user themself
)

// CodeManagerUnresolved marks a manager-pass item whose reference did not
// resolve (skipped).
const CodeManagerUnresolved = "FERRY_MANAGER_UNRESOLVED"

// ManagerPlan says what a manager pass would do.
type ManagerPlan struct {
	OrgURL string `json:"orgUrl"`
	// Users are the users Ferry created in the org (of the chosen sources)
	// and that are still there.
	Users int `json:"users"`
	// WithReference have a manager reference in their current record;
	// Resolved of them lead to one user Ferry created (AlreadySet of those
	// already carry it: no item), Unresolved do not.
	WithReference int `json:"withReference"`
	Resolved      int `json:"resolved"`
	AlreadySet    int `json:"alreadySet"`
	Unresolved    int `json:"unresolved"`
	// UnresolvedByKind lists the unresolved references by kind of reference
	// and reason, with a few masked examples.
	UnresolvedByKind []UnresolvedReferences `json:"unresolvedByKind"`
	// WithoutReference have none; NoSetting are users of sources whose
	// manager attribute is not set (cut-over settings); NoRecord are users
	// whose record is no longer in the current extracts.
	WithoutReference int `json:"withoutReference"`
	NoSetting        int `json:"noSetting"`
	NoRecord         int `json:"noRecord"`

	items []Item
}

// UnresolvedReferences counts the references of one kind that did not
// resolve for one reason.
type UnresolvedReferences struct {
	// Kind is dn, employee_id or login; Label says it for people.
	Kind  string `json:"kind"`
	Label string `json:"label"`
	// Reason is not_found, ambiguous, not_created or self; Summary says it.
	Reason  string `json:"reason"`
	Summary string `json:"summary"`
	Count   int    `json:"count"`
	// Examples are a few of the references, masked.
	Examples []string `json:"examples"`
}

// managerSetting is where a source keeps its manager references.
type managerSetting struct {
	attribute, kind string
}

// managerSettings reads each source's manager attribute and kind (the
// cut-over settings); sources without one are left out.
func (s *Service) managerSettings(ctx context.Context, projectID int64) (map[int64]managerSetting, error) {
	all, err := s.FindCutovers(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := map[int64]managerSetting{}
	for id, st := range all {
		ms := managerSetting{attribute: strings.TrimSpace(st.ManagerAttribute), kind: strings.TrimSpace(st.ManagerKind)}
		if ms.attribute != "" && slices.Contains([]string{mrefDN, mrefEmployeeID, mrefLogin}, ms.kind) {
			out[id] = ms
		}
	}
	return out, nil
}

// referenceLabel names a kind of reference for people.
func referenceLabel(kind string) string {
	switch kind {
	case mrefDN:
		return "a distinguished name"
	case mrefEmployeeID:
		return "an employee id"
	}
	return "a login"
}

// unresolvedSummary says why a reference of a kind did not resolve (no value).
func unresolvedSummary(kind, reason string) string {
	ref := "The manager reference (" + referenceLabel(kind) + ")"
	switch reason {
	case unresolvedAmbiguous:
		return ref + " matches several users Ferry created; it was not guessed."
	case unresolvedNotCreated:
		return ref + " names a person Ferry did not create in this org; it was not guessed."
	case unresolvedSelf:
		return ref + " names the user themself."
	}
	return ref + " matches no record of the current extracts; it was not guessed."
}

// normalDN compares distinguished names: case-insensitive, blanks around
// the whole and after commas ignored.
func normalDN(dn string) string {
	dn = strings.ToLower(strings.TrimSpace(dn))
	var b strings.Builder
	afterComma := false
	for _, r := range dn {
		if afterComma && (r == ' ' || r == '\t') {
			continue
		}
		afterComma = r == ','
		b.WriteRune(r)
	}
	return b.String()
}

// maskValue keeps the first few characters of a reference.
func maskValue(v string) string {
	n := utf8.RuneCountInString(v)
	keep := min(3, n/3)
	return string([]rune(v)[:keep]) + strings.Repeat("•", max(3, min(n-keep, 8)))
}

// attrValue is the first non-empty value of a record attribute, the name
// compared without case.
func attrValue(rec map[string][]string, names ...string) string {
	for _, name := range names {
		for k, vals := range rec {
			if !strings.EqualFold(k, name) {
				continue
			}
			for _, v := range vals {
				if v = strings.TrimSpace(v); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

// recordKey finds a record by its source and its key.
type recordKey struct {
	sourceID int64
	key      string
}

// managerIndex resolves references to records, and records to the users
// Ferry created.
type managerIndex struct {
	byDN, byEmployee, byLogin map[string][]recordKey
	// reference is each subject record's manager reference ("" : none),
	// by key and by record id (for provenance rows without a key).
	reference   map[recordKey]string
	refByRecord map[int64]string
	keyOfRecord map[int64]recordKey
	hasRecord   map[recordKey]bool
}

// buildManagerIndex reads the current extracts once.
func (s *Service) buildManagerIndex(ctx context.Context, projectID int64, settings map[int64]managerSetting) (*managerIndex, error) {
	extracts, err := s.deps.Extracts.CurrentExtracts(ctx, projectID)
	if err != nil {
		return nil, err
	}
	kinds := map[string]bool{}
	for _, ms := range settings {
		kinds[ms.kind] = true
	}
	ix := &managerIndex{byDN: map[string][]recordKey{}, byEmployee: map[string][]recordKey{}, byLogin: map[string][]recordKey{},
		reference: map[recordKey]string{}, refByRecord: map[int64]string{}, keyOfRecord: map[int64]recordKey{}, hasRecord: map[recordKey]bool{}}
	for _, ex := range extracts {
		ms, subject := settings[ex.SourceID]
		const page = 5000
		var after int64
		for {
			rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT r.id, r.source_key, r.attributes_json, r.edits_json,
				COALESCE(p.profile_json, '')
				FROM staged_records r LEFT JOIN staged_profiles p ON p.record_id = r.id
				WHERE r.extract_id = ? AND r.id > ? ORDER BY r.id LIMIT ?`), ex.ID, after, page)
			if err != nil {
				return nil, apperr.Internal(err)
			}
			n := 0
			for rows.Next() {
				var c candidate
				var profile string
				if err := rows.Scan(&c.RecordID, &c.SourceKey, &c.Attributes, &c.Edits, &profile); err != nil {
					rows.Close()
					return nil, apperr.Internal(err)
				}
				n++
				after = c.RecordID
				rk := recordKey{ex.SourceID, c.SourceKey}
				ix.hasRecord[rk] = true
				ix.keyOfRecord[c.RecordID] = rk
				var rec map[string][]string
				if subject || kinds[mrefDN] || kinds[mrefEmployeeID] {
					rec = recordAttributes(c)
				}
				if subject {
					if ref := attrValue(rec, ms.attribute); ref != "" {
						ix.reference[rk] = ref
						ix.refByRecord[c.RecordID] = ref
					}
				}
				if kinds[mrefDN] {
					if dn := attrValue(rec, "dn", "distinguishedName"); dn != "" {
						k := normalDN(dn)
						ix.byDN[k] = append(ix.byDN[k], rk)
					}
				}
				if kinds[mrefEmployeeID] {
					seen := map[string]bool{}
					for _, name := range []string{"employeeNumber", "employeeId"} {
						if v := attrValue(rec, name); v != "" && !seen[v] {
							seen[v] = true
							ix.byEmployee[v] = append(ix.byEmployee[v], rk)
						}
					}
				}
				if kinds[mrefLogin] && profile != "" {
					var p map[string]string
					if json.Unmarshal([]byte(profile), &p) == nil && p["login"] != "" {
						k := schema.LoginKey(p["login"])
						ix.byLogin[k] = append(ix.byLogin[k], rk)
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
	return ix, nil
}

// cutoverOrg is the org a cut-over run works on (the override or the
// project's), as the Okta client spells it, and whether it is Ferry's sandbox.
func (s *Service) cutoverOrg(ctx context.Context, projectID int64, orgURL, token string) (string, bool, error) {
	_, url, err := s.orgClient(ctx, projectID, orgURL, token)
	if err != nil {
		return "", false, err
	}
	sandbox := false
	if conn, err := s.deps.Orgs.Find(ctx, projectID); err == nil && conn != nil && strings.TrimSuffix(conn.OrgURL, "/") == url {
		sandbox = conn.Sandbox
	}
	return url, sandbox, nil
}

// checkPace fills in and checks a cut-over run's pace.
func checkPace(check *apperr.Check, maxInFlight *int, rateShare *float64) {
	if *maxInFlight == 0 {
		*maxInFlight = DefaultMaxInFlight
	}
	if *maxInFlight < 1 || *maxInFlight > MaxMaxInFlight {
		check.Add("max_in_flight", fmt.Sprintf("Requests in flight: between 1 and %d (Okta's concurrency limit).", MaxMaxInFlight))
	}
	if *rateShare == 0 {
		*rateShare = DefaultRateShare
	}
	if math.IsNaN(*rateShare) || *rateShare <= 0 || *rateShare > 1 {
		check.Add("rate_share", "Share of the rate limit: more than 0 % and at most 100 %.")
	}
}

// ferryUsers lists the users Ferry created in the org that are still there.
func (s *Service) ferryUsers(ctx context.Context, projectID int64, orgURL string) ([]OktaUser, error) {
	var users []OktaUser
	if err := s.db.Read.WithContext(ctx).Where("project_id = ? AND org_url = ? AND removed_at IS NULL", projectID, orgURL).
		Order("id").Find(&users).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return users, nil
}

// displayName is how the manager attribute names a user: the first and
// last names Ferry sent, else the login.
func displayName(u *OktaUser) string {
	var p map[string]any
	_ = json.Unmarshal([]byte(u.ProfileJSON), &p)
	first, _ := p["firstName"].(string)
	last, _ := p["lastName"].(string)
	if name := strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last)); name != "" {
		return name
	}
	return u.Login
}

// PlanManagers says what a manager pass would do, without recording it.
func (s *Service) PlanManagers(ctx context.Context, projectID int64, in NewManagerPass) (*ManagerPlan, error) {
	check := apperr.NewCheck()
	checkPace(check, &in.MaxInFlight, &in.RateShare)
	if err := check.Err(); err != nil {
		return nil, err
	}
	orgURL, _, err := s.cutoverOrg(ctx, projectID, in.OrgURL, in.Token)
	if err != nil {
		return nil, err
	}
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	wanted := map[int64]bool{}
	for _, id := range in.SourceIDs {
		found := false
		for _, src := range sources {
			found = found || src.ID == id
		}
		if !found {
			return nil, apperr.Invalid("A chosen source is not in this project.", map[string]string{"sources": "Choose the project's sources."})
		}
		wanted[id] = true
	}
	settings, err := s.managerSettings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	ix, err := s.buildManagerIndex(ctx, projectID, settings)
	if err != nil {
		return nil, err
	}
	users, err := s.ferryUsers(ctx, projectID, orgURL)
	if err != nil {
		return nil, err
	}
	// Each record's user, by the record's key (or, for rows written
	// before keys were kept, by record id).
	userOf := map[recordKey][]*OktaUser{}
	for i := range users {
		u := &users[i]
		if u.SourceID == nil {
			continue
		}
		rk := recordKey{*u.SourceID, u.SourceKey}
		if u.SourceKey == "" && u.RecordID != nil {
			if k, ok := ix.keyOfRecord[*u.RecordID]; ok {
				rk = k
			}
		}
		userOf[rk] = append(userOf[rk], u)
	}
	p := &ManagerPlan{OrgURL: orgURL}
	groups := map[[2]string]*UnresolvedReferences{}
	var order [][2]string
	unresolved := func(u *OktaUser, kind, reason, ref string) {
		p.Unresolved++
		g := groups[[2]string{kind, reason}]
		if g == nil {
			g = &UnresolvedReferences{Kind: kind, Label: referenceLabel(kind), Reason: reason, Summary: unresolvedSummary(kind, reason)}
			groups[[2]string{kind, reason}] = g
			order = append(order, [2]string{kind, reason})
		}
		g.Count++
		if len(g.Examples) < 5 {
			g.Examples = append(g.Examples, maskValue(ref))
		}
		p.items = append(p.items, Item{RecordID: u.RecordID, SourceID: u.SourceID, Login: u.Login, OktaUserID: u.OktaUserID,
			State: StateSkipped, ErrorCode: CodeManagerUnresolved, ErrorSummary: unresolvedSummary(kind, reason),
			ProfileJSON: "{}", GroupsJSON: "[]", Action: ActionManager, SourceKey: u.SourceKey,
			DetailJSON: jsonString(map[string]string{"kind": kind, "reference": ref, "reason": reason})})
	}
	for i := range users {
		u := &users[i]
		if u.SourceID == nil || (len(wanted) > 0 && !wanted[*u.SourceID]) {
			continue
		}
		p.Users++
		ms, ok := settings[*u.SourceID]
		if !ok {
			p.NoSetting++
			continue
		}
		rk := recordKey{*u.SourceID, u.SourceKey}
		ref, has := ix.reference[rk], ix.hasRecord[rk]
		if u.SourceKey == "" && u.RecordID != nil {
			_, has = ix.keyOfRecord[*u.RecordID]
			ref = ix.refByRecord[*u.RecordID]
		}
		switch {
		case !has:
			p.NoRecord++
			continue
		case ref == "":
			p.WithoutReference++
			continue
		}
		p.WithReference++
		var matches []recordKey
		switch ms.kind {
		case mrefDN:
			matches = ix.byDN[normalDN(ref)]
		case mrefEmployeeID:
			matches = ix.byEmployee[ref]
		case mrefLogin:
			matches = ix.byLogin[schema.LoginKey(ref)]
		}
		if len(matches) == 0 {
			unresolved(u, ms.kind, unresolvedNotFound, ref)
			continue
		}
		var managers []*OktaUser
		for _, m := range matches {
			for _, mu := range userOf[m] {
				if !slices.ContainsFunc(managers, func(x *OktaUser) bool { return x.OktaUserID == mu.OktaUserID }) {
					managers = append(managers, mu)
				}
			}
		}
		switch {
		case len(managers) == 0:
			unresolved(u, ms.kind, unresolvedNotCreated, ref)
			continue
		case len(managers) > 1:
			unresolved(u, ms.kind, unresolvedAmbiguous, ref)
			continue
		case managers[0].OktaUserID == u.OktaUserID:
			unresolved(u, ms.kind, unresolvedSelf, ref)
			continue
		}
		mgr := managers[0]
		p.Resolved++
		want := map[string]any{"managerId": mgr.OktaUserID, "manager": displayName(mgr)}
		var sent map[string]any
		_ = json.Unmarshal([]byte(u.ProfileJSON), &sent)
		if sent["managerId"] == want["managerId"] && sent["manager"] == want["manager"] {
			p.AlreadySet++
			continue
		}
		p.items = append(p.items, Item{RecordID: u.RecordID, SourceID: u.SourceID, Login: u.Login, OktaUserID: u.OktaUserID,
			State: StatePending, ProfileJSON: jsonString(want), GroupsJSON: "[]", Action: ActionManager, SourceKey: u.SourceKey,
			DetailJSON: jsonString(map[string]string{"kind": ms.kind, "reference": ref, "managerLogin": mgr.Login})})
	}
	for _, k := range order {
		p.UnresolvedByKind = append(p.UnresolvedByKind, *groups[k])
	}
	return p, nil
}

// StartManagerPass records a manager pass, queued: an item for each user
// whose reference resolved (its managerId and manager to set) and a
// skipped one for each reference that did not.
func (s *Service) StartManagerPass(ctx context.Context, projectID int64, in NewManagerPass) (*Run, *ManagerPlan, error) {
	check := apperr.NewCheck()
	checkPace(check, &in.MaxInFlight, &in.RateShare)
	if err := check.Err(); err != nil {
		return nil, nil, err
	}
	p, err := s.PlanManagers(ctx, projectID, in)
	if err != nil {
		return nil, nil, err
	}
	_, sandbox, err := s.cutoverOrg(ctx, projectID, in.OrgURL, in.Token)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case p.Users == 0:
		return nil, p, apperr.Invalid("Ferry created no user in this org that is still there: there is no manager to set.", nil)
	case p.WithReference == 0 && p.NoSetting == p.Users:
		return nil, p, apperr.Invalid("No source says where its manager references are: set the manager attribute in the cut-over settings first.", nil)
	case len(p.items) == 0 && p.WithReference == 0:
		return nil, p, apperr.Invalid("No user has a manager reference in its current record: there is nothing to set.", nil)
	case len(p.items) == 0:
		return nil, p, apperr.Invalid("Every manager is already set: there is nothing to do.", nil)
	}
	for _, r := range s.activeRuns(ctx, projectID) {
		if r.Kind == KindManagers && r.OrgURL == p.OrgURL {
			return nil, p, apperr.Conflict(r.Label() + " is still " + r.Status + ": finish or cancel it first.")
		}
	}
	actor := audit.ActorFrom(ctx)
	now := s.now().UTC()
	run := &Run{ProjectID: projectID, Kind: KindManagers, OrgURL: p.OrgURL, Sandbox: sandbox, MaxInFlight: in.MaxInFlight,
		RateShare: in.RateShare, Status: StatusQueued, PaceJSON: "{}", CreatedByName: actor.Name, CreatedAt: now, UpdatedAt: now,
		PopulationJSON: jsonString(Population{SourceIDs: in.SourceIDs}), Total: int64(len(p.items))}
	if actor.ID != 0 {
		id := actor.ID
		run.CreatedByID = &id
	}
	if in.Claim {
		until := now.Add(s.opts.Lease)
		run.Owner, run.LeaseUntil = s.owner, &until
	}
	setWindow(run, in.Window)
	items := p.items
	for i := range items {
		items[i].Seq = int64(i + 1)
		if items[i].State == StateSkipped {
			items[i].FinishedAt = &now
		}
	}
	if err := s.insertRun(ctx, run, items); err != nil {
		return nil, nil, err
	}
	p.items = nil
	return run, p, nil
}

// managerOne sets one user's managerId and manager (a partial update:
// nothing else changes), then records them in the user's provenance.
// Sending it again is harmless, so a user left in flight is simply sent again.
func (x *execution) managerOne(ctx context.Context, it *Item) result {
	var profile okta.UserProfile
	if err := json.Unmarshal([]byte(it.ProfileJSON), &profile); err != nil || len(profile) == 0 {
		return result{state: StateFailed, code: "FERRY_SNAPSHOT", summary: "The manager of this user is missing from the run."}
	}
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return result{state: StatePending} // nothing to look up: sending again is harmless
		}
		err := x.send(ctx, bucketUserUpdate, func(ctx context.Context) (okta.Response, error) {
			it.Attempts++
			_, res, err := x.client.UpdateUser(ctx, it.OktaUserID, okta.UpdateUserRequest{Profile: profile})
			return res, err
		})
		switch {
		case err == nil:
			if x.crashAt("managerSet") {
				return result{state: StateSending}
			}
			if err := x.s.mergeProvenance(background(ctx), x.run.OrgURL, it.OktaUserID, profile); err != nil {
				return result{state: StateFailed, oktaID: it.OktaUserID, code: "FERRY_PROVENANCE",
					summary: "The manager was set in Okta, but Ferry could not record it: " + err.Error()}
			}
			return result{state: StateUpdated, oktaID: it.OktaUserID}
		case ctx.Err() != nil:
			return result{state: StatePending}
		case okta.IsNotFound(err):
			return result{state: StateFailed, oktaID: it.OktaUserID, code: "FERRY_USER_GONE", summary: "The user is no longer in the org."}
		case okta.IsTemporary(err) && attempt < maxAttempts:
			if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
				return result{state: StatePending}
			}
		default:
			r := failure(err)
			r.oktaID = it.OktaUserID
			return r
		}
	}
}

// mergeProvenance records attributes Ferry sent to a user it created over
// the profile it sent before.
func (s *Service) mergeProvenance(ctx context.Context, orgURL, oktaUserID string, attrs map[string]any) error {
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		merged, found, err := s.mergedProvenanceProfile(ctx, tx, orgURL, oktaUserID, attrs)
		if err != nil || !found {
			return err
		}
		_, err = tx.ExecContext(ctx, s.db.Bind(`UPDATE okta_users SET profile_json = ?, updated_at = ? WHERE org_url = ? AND okta_user_id = ?`),
			merged, s.now().UTC(), orgURL, oktaUserID)
		return err
	})
}

// mergedProvenanceProfile is the profile Ferry recorded as sent to a user,
// with changes applied over it (a nil value removes the attribute), as JSON;
// found is false when Ferry has no record of the user.
func (s *Service) mergedProvenanceProfile(ctx context.Context, tx *sql.Tx, orgURL, oktaUserID string, changes map[string]any) (merged string, found bool, err error) {
	var raw string
	err = tx.QueryRowContext(ctx, s.db.Bind(`SELECT profile_json FROM okta_users WHERE org_url = ? AND okta_user_id = ?`),
		orgURL, oktaUserID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	profile := map[string]any{}
	_ = json.Unmarshal([]byte(raw), &profile)
	if profile == nil {
		profile = map[string]any{}
	}
	for k, v := range changes {
		if v == nil {
			delete(profile, k)
		} else {
			profile[k] = v
		}
	}
	return jsonString(profile), true, nil
}

func init() {
	kindWorks[KindManagers] = func(ctx context.Context, x *execution) error { return x.sendEach(ctx, x.managerOne) }
	kindSummaries[KindManagers] = func(c Counts) string {
		return fmt.Sprintf("%d managers set, %d skipped (unresolved references), %d failed.",
			c.Of(StateUpdated), c.Of(StateSkipped), c.Of(StateFailed))
	}
}
