package load

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// Activation waves (docs/loads.md): the users a load created STAGED are
// activated in waves chosen by user type, source, subgroup or a list. Users
// with credentials (an imported hash or the password hook) are activated
// without Okta's activation email (sendEmail=false): they sign in with
// their current password. Users without are activated with it: they stay
// PROVISIONED until they set a password. Each wave is a run: paced,
// resumable, with its own progress and results; its canaries come first
// and are signed in as after it.

// StateActivated: a wave activated the user (or found it already active).
const StateActivated = "activated"

// MaxWaveName bounds a wave's name.
const MaxWaveName = 100

func init() {
	finalStates[StateActivated] = true
	kindWorks[KindActivate] = func(ctx context.Context, x *execution) error { return x.sendEach(ctx, x.activateOne) }
	kindSummaries[KindActivate] = func(c Counts) string {
		return fmt.Sprintf("%d activated, %d failed, %d skipped.", c.Of(StateActivated), c.Of(StateFailed), c.Of(StateSkipped))
	}
}

// NewWave is what a person chooses for an activation wave.
type NewWave struct {
	// Name names the wave (required, at most 100 characters).
	Name        string
	SourceIDs   []int64
	UserTypeIDs []int64
	// Subgroup is a subgroup of a user type chosen by a profile attribute,
	// e.g. department equals Sales (compared with the profile Ferry sent).
	Subgroup *Filter
	// Logins is an explicit list of Okta logins.
	Logins []string
	// MaxInFlight (default 10) and RateShare (default 0.8) pace the wave.
	MaxInFlight int
	RateShare   float64
	// Window limits the wave to hours of the day (nil: any time).
	Window *Window
	// Claim makes the new run this process's at once (the CLI).
	Claim bool
	// OrgURL and Token override the project's org; empty: the project's.
	OrgURL, Token string
}

// WavePlan is who a wave activates and what happens to them, for the page
// shown before the wave starts.
type WavePlan struct {
	OrgURL  string `json:"orgUrl"`
	Sandbox bool   `json:"sandbox"`
	// Users is how many users the wave activates.
	Users int `json:"users"`
	// WithCredentials have an imported hash or the hook: activated with
	// sendEmail=false. WithoutCredentials get Okta's activation email and
	// stay PROVISIONED until they set a password.
	WithCredentials    int `json:"withCredentials"`
	WithoutCredentials int `json:"withoutCredentials"`
	Canaries           int `json:"canaries"`
	// Suspend and ChangePassword are the legacy-status follow-ups after
	// activation.
	Suspend        int `json:"suspend"`
	ChangePassword int `json:"changePassword"`
	// Unmatched are the listed logins that are no staged user of Ferry's.
	Unmatched []string `json:"unmatched,omitempty"`
	RunOutlook
	// Sentences say all of it plainly, for the page.
	Sentences []string `json:"sentences"`
	users     []waveUser
}

// Logins lists the logins the wave activates, in its order (canaries first).
func (p *WavePlan) Logins() []string {
	out := make([]string, len(p.users))
	for i, u := range p.users {
		out[i] = u.login
	}
	return out
}

// waveUser is one STAGED user of Ferry's a wave may activate.
type waveUser struct {
	oktaID, login, sourceKey, password string
	recordID, sourceID                 *int64
	profile                            map[string]string
	accountStatus, statusAction        string
	canary                             bool
	loadRunID                          int64
}

// waveDetail is what a wave's item keeps of its user (DetailJSON).
type waveDetail struct {
	// Password is how the user was given its password (PasswordHash …).
	Password  string `json:"password"`
	LoadRunID int64  `json:"loadRunId,omitempty"`
}

func waveDetailOf(it *Item) waveDetail {
	var d waveDetail
	_ = json.Unmarshal([]byte(it.DetailJSON), &d)
	if d.Password == "" {
		d.Password = PasswordNone
	}
	return d
}

func (in *NewWave) normalise() error {
	check := apperr.NewCheck()
	in.Name = strings.TrimSpace(in.Name)
	check.Text("name", "Wave name", in.Name, true, MaxWaveName)
	if strings.ContainsAny(in.Name, "\r\n\t") {
		check.Add("name", "Wave name must be a single line.")
	}
	if in.MaxInFlight == 0 {
		in.MaxInFlight = DefaultMaxInFlight
	}
	if in.MaxInFlight < 1 || in.MaxInFlight > MaxMaxInFlight {
		check.Add("max_in_flight", fmt.Sprintf("Requests in flight: between 1 and %d (Okta's concurrency limit).", MaxMaxInFlight))
	}
	if in.RateShare == 0 {
		in.RateShare = DefaultRateShare
	}
	if math.IsNaN(in.RateShare) || in.RateShare <= 0 || in.RateShare > 1 {
		check.Add("rate_share", "Share of the rate limit: more than 0 % and at most 100 %.")
	}
	if err := check.Err(); err != nil {
		return err
	}
	p := in.population()
	if err := p.Validate(); err != nil {
		return err
	}
	in.Subgroup = p.Filter
	return nil
}

func (in *NewWave) population() Population {
	return Population{SourceIDs: in.SourceIDs, UserTypeIDs: in.UserTypeIDs, Filter: in.Subgroup, Logins: in.Logins}
}

// PlanWave says who a wave would activate and how: the STAGED users Ferry
// created in the project's org (not removed), narrowed by sources, user
// types (their sources), a subgroup and a list of logins.
func (s *Service) PlanWave(ctx context.Context, projectID int64, in NewWave) (*WavePlan, error) {
	if err := in.normalise(); err != nil {
		return nil, err
	}
	return s.planWave(ctx, projectID, &in)
}

func (s *Service) planWave(ctx context.Context, projectID int64, in *NewWave) (*WavePlan, error) {
	keep, err := s.waveSources(ctx, projectID, in)
	if err != nil {
		return nil, err
	}
	client, orgURL, err := s.orgClient(ctx, projectID, in.OrgURL, in.Token)
	if err != nil {
		return nil, err
	}
	p := &WavePlan{OrgURL: orgURL}
	// One read proves the token, tells the sandbox and gives the rate limit.
	page, lerr := client.ListUsers(ctx, okta.UserQuery{Limit: 1})
	switch {
	case lerr == nil:
		p.Sandbox = page.Response.Sandbox
		if rl := page.Response.RateLimit; rl.Present && rl.Limit > 0 {
			p.RateLimit = rl.Limit
		}
	case okta.IsBadToken(lerr):
		return nil, apperr.Invalid("Okta refused the token (invalid, expired or revoked): save a new one on the Okta org page.", nil)
	case okta.IsForbidden(lerr):
		return nil, apperr.Invalid("The token's admin may not manage users: use a Super or Org Administrator's token (docs/okta.md).", nil)
	default:
		return nil, apperr.Invalid(fmt.Sprintf("Okta could not be reached: %v", lerr), nil)
	}
	users, err := s.stagedUsers(ctx, projectID, orgURL)
	if err != nil {
		return nil, err
	}
	var logins map[string]bool
	matched := map[string]bool{}
	if len(in.Logins) > 0 {
		logins = map[string]bool{}
		for _, l := range in.Logins {
			logins[schema.LoginKey(l)] = true
		}
	}
	narrowed := len(in.SourceIDs) > 0 || len(in.UserTypeIDs) > 0
	for _, u := range users {
		if narrowed && (u.sourceID == nil || !keep[*u.sourceID]) {
			continue
		}
		if logins != nil {
			k := schema.LoginKey(u.login)
			if !logins[k] {
				continue
			}
			matched[k] = true
		}
		if in.Subgroup != nil && !in.Subgroup.matches(u.profile) {
			continue
		}
		p.users = append(p.users, u)
	}
	for _, l := range in.Logins {
		if !matched[schema.LoginKey(l)] {
			p.Unmatched = append(p.Unmatched, l)
		}
	}
	// Canaries first, the rest in the order Ferry created them.
	slices.SortStableFunc(p.users, func(a, b waveUser) int {
		switch {
		case a.canary && !b.canary:
			return -1
		case b.canary && !a.canary:
			return 1
		}
		return 0
	})
	requests := 0
	for _, u := range p.users {
		requests++
		if u.password == PasswordNone {
			p.WithoutCredentials++
		} else {
			p.WithCredentials++
		}
		if u.canary {
			p.Canaries++
		}
		switch u.statusAction {
		case StatusSuspend:
			p.Suspend++
			requests++
		case StatusChangePassword:
			p.ChangePassword++
			requests++
		}
	}
	p.Users = len(p.users)
	ids := make([]string, len(p.users))
	for i, u := range p.users {
		ids[i] = u.oktaID
	}
	if err := s.outlook(ctx, projectID, orgURL, KindActivate, nil, ids, p.Sandbox, requests, in.RateShare, in.Window, &p.RunOutlook); err != nil {
		return nil, err
	}
	p.Sentences = p.sentences(in)
	return p, nil
}

// waveSources are the sources a wave's choice keeps (by source and by user type).
func (s *Service) waveSources(ctx context.Context, projectID int64, in *NewWave) (map[int64]bool, error) {
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	for _, id := range in.SourceIDs {
		if !slices.ContainsFunc(sources, func(src plan.Source) bool { return src.ID == id }) {
			return nil, apperr.Invalid("A chosen source is not in this project.", map[string]string{"sources": "Choose the project's sources."})
		}
	}
	if len(in.UserTypeIDs) > 0 {
		types, err := s.deps.Plan.FindUserTypes(ctx, projectID)
		if err != nil {
			return nil, err
		}
		for _, id := range in.UserTypeIDs {
			if !slices.ContainsFunc(types, func(t plan.UserType) bool { return t.ID == id }) {
				return nil, apperr.Invalid("A chosen user type is not in this project.", map[string]string{"user_types": "Choose the project's user types."})
			}
		}
	}
	keep := map[int64]bool{}
	for _, src := range sources {
		if len(in.SourceIDs) > 0 && !slices.Contains(in.SourceIDs, src.ID) {
			continue
		}
		if len(in.UserTypeIDs) > 0 && !slices.ContainsFunc(src.UserTypeIDs, func(id int64) bool { return slices.Contains(in.UserTypeIDs, id) }) {
			continue
		}
		keep[src.ID] = true
	}
	return keep, nil
}

// stagedUsers lists the users Ferry created in the org, not removed, whose
// provenance says STAGED, with the legacy status their load read and
// whether they are canaries.
func (s *Service) stagedUsers(ctx context.Context, projectID int64, orgURL string) ([]waveUser, error) {
	canaries, err := s.canaryMap(ctx, projectID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT u.okta_user_id, u.login, u.record_id, u.source_id, u.source_key,
		u.profile_json, u.password, u.run_id, COALESCE(i.account_status, ''), COALESCE(i.status_action, '')
		FROM okta_users u LEFT JOIN load_items i ON i.run_id = u.run_id AND i.okta_user_id = u.okta_user_id
		WHERE u.project_id = ? AND u.org_url = ? AND u.removed_at IS NULL AND u.status = ? ORDER BY u.id`),
		projectID, orgURL, okta.StatusStaged)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	defer rows.Close()
	var out []waveUser
	seen := map[string]bool{}
	for rows.Next() {
		var u waveUser
		var profile string
		if err := rows.Scan(&u.oktaID, &u.login, &u.recordID, &u.sourceID, &u.sourceKey, &profile, &u.password, &u.loadRunID,
			&u.accountStatus, &u.statusAction); err != nil {
			return nil, apperr.Internal(err)
		}
		if seen[u.oktaID] {
			continue
		}
		seen[u.oktaID] = true
		if u.password == "" {
			u.password = PasswordNone
		}
		u.profile = profileText(profile)
		if u.sourceID != nil {
			_, u.canary = canaries[canaryKey{*u.sourceID, u.sourceKey}]
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// profileText reads a sent profile (Okta's JSON types) as text, the way
// filters compare values: arrays by their first element.
func profileText(raw string) map[string]string {
	var m map[string]any
	_ = json.Unmarshal([]byte(raw), &m)
	out := make(map[string]string, len(m))
	for k, v := range m {
		if arr, ok := v.([]any); ok {
			if len(arr) == 0 {
				continue
			}
			v = arr[0]
		}
		switch t := v.(type) {
		case string:
			out[k] = t
		case float64:
			out[k] = strconv.FormatFloat(t, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(t)
		}
	}
	return out
}

// RunOutlook is what a planned run — an activation wave, the stragglers'
// reset — would meet before it starts: the users an unfinished run of its
// kind already holds, how long it would take, and the legal gate. The
// plans embed it (its fields stand in their JSON as their own).
type RunOutlook struct {
	// Overlap is how many of the users an unfinished run of the kind
	// already holds; OverlapRuns names those runs.
	Overlap     int      `json:"overlap"`
	OverlapRuns []string `json:"overlapRuns,omitempty"`
	// Estimate and FinishAt are zero when the org did not say its RateLimit
	// (a minute, of the calls the run makes).
	Estimate    time.Duration `json:"estimate"`
	FinishAt    time.Time     `json:"finishAt"`
	RateLimit   int           `json:"rateLimit"`
	GateOpen    bool          `json:"gateOpen"`
	GateReasons []string      `json:"gateReasons,omitempty"`
}

// outlook fills o (whose RateLimit the caller read from the org) for a run
// of kind over the Okta users ids — held by an unfinished run in the item
// states given, or in any — making requests calls at share of the limit,
// working only in window. The sandbox needs no legal sign-off.
func (s *Service) outlook(ctx context.Context, projectID int64, orgURL, kind string, states, ids []string, sandbox bool,
	requests int, share float64, window *Window, o *RunOutlook) error {
	if len(ids) > 0 {
		var err error
		if o.Overlap, o.OverlapRuns, err = s.overlap(ctx, projectID, orgURL, kind, states, ids); err != nil {
			return err
		}
	}
	gate, err := s.deps.Gate.LoadGate(ctx, projectID, sandbox)
	if err != nil {
		return err
	}
	o.GateOpen = sandbox || gate.Open
	if !o.GateOpen {
		o.GateReasons = gate.Reasons
	}
	if o.RateLimit > 0 {
		o.Estimate = estimate(requests, o.RateLimit, share)
		o.FinishAt = window.FinishAt(s.now(), o.Estimate)
	}
	return nil
}

// estimate is how long requests calls take at share of limit a minute.
func estimate(requests, limit int, share float64) time.Duration {
	return time.Duration(float64(requests) / (float64(limit) * share) * float64(time.Minute)).Round(time.Second)
}

// overlap counts the Okta users (ids) that an unfinished run of the kind
// (queued, running, paused, or stopped on a failure and resumable) already
// holds — in any state, or only in the given item states — and names those
// runs.
func (s *Service) overlap(ctx context.Context, projectID int64, orgURL, kind string, states []string, ids []string) (int, []string, error) {
	query := `SELECT i.okta_user_id, r.id FROM load_items i JOIN load_runs r ON r.id = i.run_id
		WHERE r.project_id = ? AND r.org_url = ? AND r.kind = ? AND r.status IN (?, ?, ?, ?)`
	args := []any{projectID, orgURL, kind, StatusQueued, StatusRunning, StatusPaused, StatusFailed}
	if len(states) > 0 {
		query += " AND i.state IN (?" + strings.Repeat(", ?", len(states)-1) + ")"
		for _, st := range states {
			args = append(args, st)
		}
	}
	rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(query), args...)
	if err != nil {
		return 0, nil, apperr.Internal(err)
	}
	held := map[string]int64{}
	for rows.Next() {
		var id string
		var run int64
		if err := rows.Scan(&id, &run); err != nil {
			rows.Close()
			return 0, nil, apperr.Internal(err)
		}
		held[id] = run
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, nil, apperr.Internal(err)
	}
	n, runs := 0, map[int64]bool{}
	for _, id := range ids {
		if run, ok := held[id]; ok {
			n++
			runs[run] = true
		}
	}
	var names []string
	for id := range runs {
		names = append(names, runNumber(ctx, s, id))
	}
	slices.Sort(names)
	return n, names, nil
}

// sentences say the plan plainly, before the wave starts.
func (p *WavePlan) sentences(in *NewWave) []string {
	var out []string
	if p.Users == 0 {
		out = append(out, "No staged user Ferry created in "+p.OrgURL+" matches this choice: there is nobody to activate.")
	} else {
		out = append(out, fmt.Sprintf("This wave activates %d users in %s.", p.Users, p.OrgURL))
	}
	if p.WithCredentials > 0 {
		out = append(out, fmt.Sprintf("%d have a password (an imported hash or the password hook): they are activated without Okta's activation email and sign in with their current password.", p.WithCredentials))
	}
	if p.WithoutCredentials > 0 {
		out = append(out, fmt.Sprintf("%d have no password: Okta emails each of them its activation link now, and they stay PROVISIONED until they set a password.", p.WithoutCredentials))
	}
	if p.Canaries > 0 {
		if p.Sandbox {
			out = append(out, fmt.Sprintf("%d canary accounts go first; after the wave Ferry signs in as each of them with the right password and with a wrong one.", p.Canaries))
		} else {
			out = append(out, fmt.Sprintf("%d canary accounts go first; after the wave the run lists them for you to try by hand and record the result.", p.Canaries))
		}
	}
	if p.Suspend > 0 {
		out = append(out, fmt.Sprintf("%d are suspended right after activation, as their legacy account status says.", p.Suspend))
	}
	if p.ChangePassword > 0 {
		out = append(out, fmt.Sprintf("%d must change their password at their first sign-in (their password is expired right after activation).", p.ChangePassword))
	}
	if len(p.Unmatched) > 0 {
		out = append(out, fmt.Sprintf("%d listed logins are no STAGED user of Ferry's in this org; they are left out.", len(p.Unmatched)))
	}
	if p.Overlap > 0 {
		out = append(out, fmt.Sprintf("%d of these users are already in an unfinished wave (run %s): finish or cancel it first.", p.Overlap, strings.Join(p.OverlapRuns, ", ")))
	}
	if !p.GateOpen {
		out = append(out, "The legal gate is closed: "+joinReasons(p.GateReasons))
	}
	switch {
	case p.Users == 0:
	case p.RateLimit == 0:
		out = append(out, "The org did not say its rate limit; the wave paces itself by the answers.")
	case in.Window != nil:
		out = append(out, fmt.Sprintf("About %s at %.0f %% of the org's rate limit; working only %s, it would finish about %s.",
			humanDuration(p.Estimate), in.RateShare*100, in.Window, p.FinishAt.In(in.Window.Location).Format("Mon 2 Jan 15:04")))
	default:
		out = append(out, fmt.Sprintf("About %s at %.0f %% of the org's rate limit.", humanDuration(p.Estimate), in.RateShare*100))
	}
	return out
}

// StartWave records an activation wave, queued, with its users (canaries
// first); it refuses an empty selection, users an unfinished wave holds,
// and a real org whose legal gate is closed. The caller runs it.
func (s *Service) StartWave(ctx context.Context, projectID int64, in NewWave) (*Run, *WavePlan, error) {
	if err := in.normalise(); err != nil {
		return nil, nil, err
	}
	p, err := s.planWave(ctx, projectID, &in)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case p.Users == 0:
		msg := "No staged user Ferry created in this org matches this choice: there is nobody to activate."
		return nil, p, apperr.Invalid(msg, map[string]string{"population": msg})
	case p.Overlap > 0:
		return nil, p, apperr.Conflict(fmt.Sprintf("%d of these users are already in an unfinished activation wave (run %s): finish or cancel it first.",
			p.Overlap, strings.Join(p.OverlapRuns, ", ")))
	case !p.GateOpen:
		return nil, p, apperr.Invalid("The legal gate refuses this wave: "+joinReasons(p.GateReasons), nil)
	}
	settings, err := s.FindSettings(ctx, projectID)
	if err != nil {
		return nil, nil, err
	}
	actor := audit.ActorFrom(ctx)
	now := s.now().UTC()
	run := &Run{ProjectID: projectID, Kind: KindActivate, OrgURL: p.OrgURL, Sandbox: p.Sandbox, Mode: "", Activate: true,
		OnExisting: OnExistingSkip, PopulationJSON: jsonString(in.population()), MaxInFlight: in.MaxInFlight, RateShare: in.RateShare,
		ErrorThreshold: settings.ErrorThreshold, Status: StatusQueued, PaceJSON: "{}", CreatedByName: actor.Name, CreatedAt: now,
		UpdatedAt: now, Total: int64(len(p.users)), Name: in.Name}
	if actor.ID != 0 {
		id := actor.ID
		run.CreatedByID = &id
	}
	if in.Claim {
		until := now.Add(s.opts.Lease)
		run.Owner, run.LeaseUntil = s.owner, &until
	}
	setWindow(run, in.Window)
	items := make([]Item, 0, len(p.users))
	for i, u := range p.users {
		items = append(items, Item{Seq: int64(i + 1), RecordID: u.recordID, SourceID: u.sourceID, Login: u.login, ProfileJSON: "{}",
			GroupsJSON: "[]", State: StatePending, OktaUserID: u.oktaID, Action: ActionActivate, SourceKey: u.sourceKey,
			DetailJSON: jsonString(waveDetail{Password: u.password, LoadRunID: u.loadRunID}), AccountStatus: u.accountStatus,
			StatusAction: u.statusAction, Canary: u.canary})
	}
	if err := s.insertRun(ctx, run, items); err != nil {
		return nil, nil, err
	}
	return run, p, nil
}

// activateOne activates one STAGED user: with sendEmail=false when it has
// a password (an imported hash or the hook), with Okta's activation email
// when it has none; then the legacy status follow-up (suspend, expire the
// password); then the provenance's status. A user whose request may have
// gone out before (Attempts ≥ 1) is read first: one already past STAGED is
// not activated again.
func (x *execution) activateOne(ctx context.Context, it *Item) result {
	d := waveDetailOf(it)
	hasPassword := d.Password != PasswordNone
	uncertain := it.Attempts > 0
	sent := false
	stopped := func() result {
		if !uncertain && !sent {
			return result{state: StatePending}
		}
		return result{state: StateSending}
	}
	if it.OktaUserID == "" {
		return result{state: StateFailed, code: "FERRY_SNAPSHOT", summary: "The wave does not know this user's Okta id."}
	}
	for tries := 1; ; tries++ {
		if ctx.Err() != nil {
			return stopped()
		}
		if uncertain {
			status, r, ok := x.readStatus(ctx, it)
			switch {
			case !ok:
				return result{state: StateSending}
			case r != nil:
				return *r
			case status != okta.StatusStaged:
				// Activated by an earlier attempt: never sent again.
				return x.activated(ctx, it, hasPassword, status)
			}
		}
		err := x.send(ctx, bucketOther, func(ctx context.Context) (okta.Response, error) {
			sent = true
			it.Attempts++
			_, res, err := x.client.ActivateUser(ctx, it.OktaUserID, !hasPassword)
			return res, err
		})
		switch {
		case err == nil:
			if x.crashAt("activated") {
				return result{state: StateSending}
			}
			status := okta.StatusActive
			if !hasPassword {
				status = okta.StatusProvisioned
			}
			return x.activated(ctx, it, hasPassword, status)
		case ctx.Err() != nil:
			return stopped()
		case okta.IsNotFound(err):
			r := failure(err)
			r.oktaID, r.summary = it.OktaUserID, "The user is no longer in the org (deleted outside Ferry). "+r.summary
			return r
		case isAlreadyActive(err) || (okta.IsTemporary(err) && tries >= maxAttempts):
			// Activated by someone (an earlier attempt?), or no clear
			// answer after the last try: the user's status settles it.
			status, r, ok := x.readStatus(ctx, it)
			switch {
			case !ok:
				return result{state: StateSending}
			case r != nil:
				return *r
			case status != okta.StatusStaged:
				return x.activated(ctx, it, hasPassword, status)
			}
			r2 := failure(err)
			r2.oktaID = it.OktaUserID
			return r2
		case okta.IsTemporary(err):
			// The request may have activated the user: read it first.
			uncertain = true
			if x.pacer.Sleep(ctx, x.pacer.Backoff(tries)) != nil {
				return result{state: StateSending}
			}
		default:
			r := failure(err)
			r.oktaID = it.OktaUserID
			return r
		}
	}
}

func isAlreadyActive(err error) bool {
	e, ok := okta.AsError(err)
	return ok && e.ErrorCode == okta.CodeAlreadyActive
}

// readStatus reads the user's status in the org. r is set when the item is
// settled by the read (the user is gone, or deactivated outside Ferry, or
// the read failed for good); ok is false when the run stops first.
func (x *execution) readStatus(ctx context.Context, it *Item) (status string, r *result, ok bool) {
	for attempt := 1; ; attempt++ {
		var user *okta.User
		err := x.send(ctx, bucketUserGet, func(ctx context.Context) (okta.Response, error) {
			u, res, err := x.client.GetUser(ctx, it.OktaUserID)
			user = u
			return res, err
		})
		switch {
		case err == nil:
			if user.Status == okta.StatusDeprovisioned {
				return "", &result{state: StateFailed, oktaID: it.OktaUserID, code: "FERRY_DEACTIVATED",
					summary: "The user was deactivated outside the wave: it is left as it is."}, true
			}
			return user.Status, nil, true
		case ctx.Err() != nil:
			return "", nil, false
		case okta.IsNotFound(err):
			rr := failure(err)
			rr.oktaID, rr.summary = it.OktaUserID, "The user is no longer in the org (deleted outside Ferry). "+rr.summary
			return "", &rr, true
		case okta.IsTemporary(err) && attempt < maxAttempts:
			if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
				return "", nil, false
			}
		default:
			rr := failure(err)
			rr.oktaID = it.OktaUserID
			return "", &rr, true
		}
	}
}

// activated finishes a user the wave activated (or found activated): the
// legacy status follow-up (status.go: suspend, expire the password), then
// the provenance's status. A user found SUSPENDED or PASSWORD_EXPIRED after
// a crash had its follow-up already.
func (x *execution) activated(ctx context.Context, it *Item, hasPassword bool, status string) result {
	r := result{state: StateActivated, oktaID: it.OktaUserID}
	if status == okta.StatusActive || status == okta.StatusProvisioned {
		st, err := x.applyStatusAfterActivation(ctx, it, it.OktaUserID, hasPassword)
		switch {
		case err != nil && ctx.Err() != nil:
			// The run stops: the next process reads the user (activated,
			// not sent again) and applies the follow-up again.
			x.setProvenanceStatus(ctx, it.OktaUserID, status)
			return result{state: StateSending}
		case err != nil:
			f := failure(err)
			x.setProvenanceStatus(ctx, it.OktaUserID, status)
			return result{state: StateFailed, oktaID: it.OktaUserID, code: codeStatusNotApplied,
				summary: fmt.Sprintf("Activated (%s), but its legacy account status (%s) could not be applied: %s. Apply it by hand.",
					status, it.StatusAction, f.summary)}
		case st != "":
			status = st
		}
	}
	x.setProvenanceStatus(ctx, it.OktaUserID, status)
	return r
}

// setProvenanceStatus records the status Ferry now expects the user to have.
func (x *execution) setProvenanceStatus(ctx context.Context, oktaID, status string) {
	now := x.s.now().UTC()
	_, _ = x.s.db.WriteSQL().ExecContext(background(ctx), x.s.db.Bind(`UPDATE okta_users SET status = ?, updated_at = ?
		WHERE org_url = ? AND okta_user_id = ?`), status, now, x.run.OrgURL, oktaID)
}
