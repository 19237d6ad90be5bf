package load

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// The stragglers' password reset (docs/loads.md, "Stragglers"): a run of
// kind KindResetPassword whose items are the stragglers when it started
// (stragglers.go). Each user is read first (GET /api/v1/users/{id}): one
// who signed in since (provider no longer IMPORT) is skipped, not reset;
// the others get POST /api/v1/users/{id}/lifecycle/reset_password, with
// Okta's email or (sendEmail=false) a one-time link kept sealed in the
// item. On success okta_users.reset_at is set and the provenance status
// becomes RECOVERY, so that the user is no longer a straggler.
//
// A reset is not idempotent for people (a second one sends a second email
// and voids the first link), so a user whose request may have reached Okta
// (a crash, a timeout, a 5xx) is read before anything is sent again: one
// in RECOVERY, or no longer on provider IMPORT, was reset and counts as
// done.

// StateReset: the user's password reset was sent (or found sent).
const StateReset = "reset"

// Item codes of a reset.
const (
	codeImported   = "FERRY_IMPORTED"    // signed in meanwhile: skipped
	codeInRecovery = "FERRY_IN_RECOVERY" // already in RECOVERY (reset outside Ferry): skipped
	codeLinkLost   = "FERRY_LINK_LOST"   // reset, but its one-time link was not recorded
)

func init() {
	finalStates[StateReset] = true
	kindWorks[KindResetPassword] = func(ctx context.Context, x *execution) error { return x.sendEach(ctx, x.resetOne) }
	kindSummaries[KindResetPassword] = func(c Counts) string {
		return fmt.Sprintf("%d passwords reset, %d skipped (signed in meanwhile, already in recovery or not sent: see each user), %d failed.",
			c.Of(StateReset), c.Of(StateSkipped), c.Of(StateFailed))
	}
	cancelSettlers[ActionResetPassword] = settleReset
}

// NewStragglerReset is what a person chooses for the stragglers' reset.
type NewStragglerReset struct {
	// PeriodDays is the program's period (0: the project's, else 60).
	PeriodDays int
	// SendEmail: Okta emails each user the link to set a new password
	// (nil: true). With false Okta returns the links, which the run keeps
	// sealed for WriteResetLinksCSV.
	SendEmail *bool
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

func (in *NewStragglerReset) sendEmail() bool { return in.SendEmail == nil || *in.SendEmail }

func (in *NewStragglerReset) normalise() error {
	r := NewRun{Kind: KindLoad, MaxInFlight: in.MaxInFlight, RateShare: in.RateShare}
	if err := r.normalise(); err != nil {
		return err
	}
	in.MaxInFlight, in.RateShare = r.MaxInFlight, r.RateShare
	if in.PeriodDays < 0 || in.PeriodDays > MaxPeriodDays {
		msg := fmt.Sprintf("The period is a number of days between 1 and %d.", MaxPeriodDays)
		return apperr.Invalid(msg, map[string]string{"period_days": msg})
	}
	return nil
}

// StragglerResetSpec is what a reset run was started with (kept in the
// run's population_json).
type StragglerResetSpec struct {
	PeriodDays int       `json:"periodDays"`
	Cutoff     time.Time `json:"cutoff"`
	SendEmail  bool      `json:"sendEmail"`
}

// StragglerReset is the spec of a reset run (zero for other kinds).
func (r *Run) StragglerReset() StragglerResetSpec {
	var sp StragglerResetSpec
	if r.Kind == KindResetPassword {
		_ = json.Unmarshal([]byte(r.PopulationJSON), &sp)
	}
	return sp
}

// StragglerResetPlan is who the reset reaches and how, shown before it
// starts.
type StragglerResetPlan struct {
	OrgURL     string    `json:"orgUrl"`
	Sandbox    bool      `json:"sandbox"`
	PeriodDays int       `json:"periodDays"`
	Cutoff     time.Time `json:"cutoff"`
	SendEmail  bool      `json:"sendEmail"`
	// Users is how many stragglers the run resets; of them NeverTried have
	// no hook attempt on record, Refused had their last one refused
	// (unverified or an error), and Unconfirmed were verified by the hook
	// but Okta's confirmation never reached Ferry (the run reads each user
	// first and skips those Okta holds the password of).
	Users       int `json:"users"`
	NeverTried  int `json:"neverTried"`
	Refused     int `json:"refused"`
	Unconfirmed int `json:"unconfirmed"`
	// Staged counts hook users still STAGED (never activated): not
	// stragglers, left out.
	Staged int `json:"staged"`
	RunOutlook
	// Sentences say all of it plainly, for the page and the CLI.
	Sentences []string `json:"sentences"`
	users     []Straggler
}

// Logins lists the logins the run resets, in its order.
func (p *StragglerResetPlan) Logins() []string {
	out := make([]string, len(p.users))
	for i, u := range p.users {
		out[i] = u.Login
	}
	return out
}

// PlanStragglerReset says who a reset would reach now and how (nothing is
// recorded).
func (s *Service) PlanStragglerReset(ctx context.Context, projectID int64, in NewStragglerReset) (*StragglerResetPlan, error) {
	if err := in.normalise(); err != nil {
		return nil, err
	}
	return s.planStragglerReset(ctx, projectID, &in)
}

func (s *Service) planStragglerReset(ctx context.Context, projectID int64, in *NewStragglerReset) (*StragglerResetPlan, error) {
	client, orgURL, err := s.orgClient(ctx, projectID, in.OrgURL, in.Token)
	if err != nil {
		return nil, err
	}
	sc, err := s.stragglerScope(ctx, projectID, in.PeriodDays, time.Time{}, orgURL)
	if err != nil {
		return nil, err
	}
	p := &StragglerResetPlan{OrgURL: sc.orgURL, PeriodDays: sc.period, Cutoff: sc.cutoff, SendEmail: in.sendEmail()}
	// One read proves the token, tells the sandbox and gives the limit of
	// the /api/v1 bucket, which the lifecycle calls count against.
	_, res, terr := client.GetUserSchema(ctx, okta.DefaultSchemaID)
	switch {
	case terr == nil:
		p.Sandbox = res.Sandbox
		if rl := res.RateLimit; rl.Present && rl.Limit > 0 {
			p.RateLimit = rl.Limit
		}
	case okta.IsBadToken(terr):
		return nil, apperr.Invalid("Okta refused the token (invalid, expired or revoked): save a new one on the Okta org page.", nil)
	case okta.IsForbidden(terr):
		return nil, apperr.Invalid("The token's admin may not manage users: use a Super or Org Administrator's token (docs/okta.md).", nil)
	default:
		return nil, apperr.Invalid(fmt.Sprintf("Okta could not be reached: %v", terr), nil)
	}
	if p.users, err = s.allStragglers(ctx, projectID, sc); err != nil {
		return nil, err
	}
	p.Users = len(p.users)
	for _, u := range p.users {
		switch {
		case u.LastAttempt == nil:
			p.NeverTried++
		case u.LastAttempt.Outcome != "verified":
			p.Refused++
		default:
			p.Unconfirmed++
		}
	}
	err = s.db.ReadSQL().QueryRowContext(ctx, s.db.Bind(`SELECT COUNT(*) FROM okta_users WHERE project_id = ? AND org_url = ? AND password = ?
		AND removed_at IS NULL AND password_imported_at IS NULL AND reset_at IS NULL AND status = ?`),
		projectID, sc.orgURL, PasswordHook, okta.StatusStaged).Scan(&p.Staged)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	ids := make([]string, len(p.users))
	for i, u := range p.users {
		ids[i] = u.OktaUserID
	}
	// One reset per user in the /api/v1 bucket; the read before it counts
	// against the user-by-id bucket, which is larger.
	if err := s.outlook(ctx, projectID, sc.orgURL, KindResetPassword, []string{StatePending, StateSending}, ids, p.Sandbox,
		p.Users, in.RateShare, in.Window, &p.RunOutlook); err != nil {
		return nil, err
	}
	p.Sentences = p.sentences(in)
	return p, nil
}

// sentences say the plan plainly, before the reset starts.
func (p *StragglerResetPlan) sentences(in *NewStragglerReset) []string {
	var out []string
	since := p.Cutoff.Format("2 Jan 2006")
	if p.Users == 0 {
		out = append(out, fmt.Sprintf("No user Ferry loaded with the password import hook into %s has waited %d days (since %s) without signing in: there is nobody to reset.",
			p.OrgURL, p.PeriodDays, since))
	} else {
		out = append(out, fmt.Sprintf("%d users Ferry loaded with the password import hook into %s have not signed in since they were created %d or more days ago (on or before %s).",
			p.Users, p.OrgURL, p.PeriodDays, since))
		if p.Refused > 0 {
			out = append(out, fmt.Sprintf("%d of them tried, but the hook refused their last attempt (see each one's cause); %d never tried.", p.Refused, p.NeverTried))
		}
		if p.Unconfirmed > 0 {
			out = append(out, fmt.Sprintf("%d were verified by the hook, but Okta's confirmation never reached Ferry: if Okta holds their password they are skipped.", p.Unconfirmed))
		}
		if p.SendEmail {
			out = append(out, "Okta emails each of them a link to set a new password; until they use it they are in RECOVERY and cannot sign in.")
		} else {
			out = append(out, "Okta emails nobody: it returns a one-time link for each user, which the run keeps sealed for you to download and hand out; until they use it they are in RECOVERY and cannot sign in.")
		}
		out = append(out, "The password they had at the source is no longer asked for: the hook is not called for them again.")
		out = append(out, "Each user is read first: one who signed in since (Okta holds the password) is skipped, not reset.")
	}
	if p.Staged > 0 {
		out = append(out, fmt.Sprintf("%d hook users are still STAGED (never activated): they are not stragglers; activate them in a wave first.", p.Staged))
	}
	if p.Overlap > 0 {
		out = append(out, fmt.Sprintf("%d of these users are already in an unfinished reset (run %s): finish or cancel it first.", p.Overlap, strings.Join(p.OverlapRuns, ", ")))
	}
	if !p.GateOpen {
		out = append(out, "The legal gate is closed: "+joinReasons(p.GateReasons))
	}
	switch {
	case p.Users == 0:
	case p.RateLimit == 0:
		out = append(out, "The org did not say its rate limit; the run paces itself by the answers.")
	case in.Window != nil:
		out = append(out, fmt.Sprintf("About %s at %.0f %% of the org's rate limit; working only %s, it would finish about %s.",
			humanDuration(p.Estimate), in.RateShare*100, in.Window, p.FinishAt.In(in.Window.Location).Format("Mon 2 Jan 15:04")))
	default:
		out = append(out, fmt.Sprintf("About %s at %.0f %% of the org's rate limit.", humanDuration(p.Estimate), in.RateShare*100))
	}
	return out
}

// resetDetail is what a reset's item keeps of its straggler (DetailJSON).
type resetDetail struct {
	Ref         int64 `json:"ref"`
	DaysWaiting int   `json:"daysWaiting"`
}

// StartStragglerReset records the stragglers' password reset, queued, with
// the stragglers as its items; it refuses nobody to reset, users an
// unfinished reset holds, and a real org whose legal gate is closed. The
// actor is the context's (audit.ActorFrom). The caller runs it.
func (s *Service) StartStragglerReset(ctx context.Context, projectID int64, in NewStragglerReset) (*Run, *StragglerResetPlan, error) {
	if err := in.normalise(); err != nil {
		return nil, nil, err
	}
	p, err := s.planStragglerReset(ctx, projectID, &in)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case p.Users == 0:
		msg := fmt.Sprintf("No hook user has waited %d days without signing in: there is nobody to reset.", p.PeriodDays)
		return nil, p, apperr.Invalid(msg, map[string]string{"period_days": msg})
	case p.Overlap > 0:
		return nil, p, apperr.Conflict(fmt.Sprintf("%d of these users are already in an unfinished reset (run %s): finish or cancel it first.",
			p.Overlap, strings.Join(p.OverlapRuns, ", ")))
	case !p.GateOpen:
		return nil, p, apperr.Invalid("The legal gate refuses this reset: "+joinReasons(p.GateReasons), nil)
	}
	settings, err := s.FindSettings(ctx, projectID)
	if err != nil {
		return nil, nil, err
	}
	actor := audit.ActorFrom(ctx)
	now := s.now().UTC()
	run := &Run{ProjectID: projectID, Kind: KindResetPassword, OrgURL: p.OrgURL, Sandbox: p.Sandbox, OnExisting: OnExistingSkip,
		PopulationJSON: jsonString(StragglerResetSpec{PeriodDays: p.PeriodDays, Cutoff: p.Cutoff, SendEmail: p.SendEmail}),
		MaxInFlight:    in.MaxInFlight, RateShare: in.RateShare, ErrorThreshold: settings.ErrorThreshold, Status: StatusQueued, PaceJSON: "{}",
		CreatedByName: actor.Name, CreatedAt: now, UpdatedAt: now, Total: int64(len(p.users))}
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
		items = append(items, Item{Seq: int64(i + 1), RecordID: u.RecordID, SourceID: u.SourceID, Login: u.Login, ProfileJSON: "{}",
			GroupsJSON: "[]", State: StatePending, OktaUserID: u.OktaUserID, Action: ActionResetPassword, SourceKey: u.SourceKey,
			DetailJSON: jsonString(resetDetail{Ref: u.Ref, DaysWaiting: u.DaysWaiting})})
	}
	if err := s.insertRun(ctx, run, items); err != nil {
		return nil, nil, err
	}
	return run, p, nil
}

// resetOne resets one straggler's password, after reading it: a user who
// signed in since is skipped; one whose earlier request may have reached
// Okta (Attempts ≥ 1) and is in RECOVERY, or off provider IMPORT, was
// reset and is not sent again.
func (x *execution) resetOne(ctx context.Context, it *Item) result {
	sendEmail := x.run.StragglerReset().SendEmail
	uncertain := it.Attempts > 0
	sent := false
	stopped := func() result {
		if !uncertain && !sent {
			return result{state: StatePending}
		}
		return result{state: StateSending}
	}
	if it.OktaUserID == "" {
		return result{state: StateFailed, code: "FERRY_SNAPSHOT", summary: "The run does not know this user's Okta id."}
	}
	for tries := 1; ; tries++ {
		if ctx.Err() != nil {
			return stopped()
		}
		user, r, ok := x.readForReset(ctx, it)
		switch {
		case !ok:
			return stopped()
		case r != nil:
			return *r
		}
		if r, done := x.resetSettled(ctx, it, user, uncertain); done {
			return r
		}
		var tok *okta.ResetPasswordToken
		err := x.send(ctx, bucketOther, func(ctx context.Context) (okta.Response, error) {
			sent = true
			it.Attempts++
			t, res, err := x.client.ResetPassword(ctx, it.OktaUserID, sendEmail)
			tok = t
			return res, err
		})
		switch {
		case err == nil:
			if x.crashAt("reset") {
				return result{state: StateSending}
			}
			return x.resetDone(ctx, it, tok)
		case ctx.Err() != nil:
			return stopped()
		case okta.IsTemporary(err) && tries < maxAttempts:
			// A 429 the pacer gave up on was not acted on; a 5xx, a
			// timeout or a dropped connection may have been: the next
			// read tells.
			if !okta.IsRateLimited(err) {
				uncertain = true
			}
			if x.pacer.Sleep(ctx, x.pacer.Backoff(tries)) != nil {
				return stopped()
			}
		case okta.IsTemporary(err):
			// No clear answer after the last try: the user's state says
			// whether a request took effect.
			uncertain = true
			user, r, ok := x.readForReset(ctx, it)
			switch {
			case !ok:
				return result{state: StateSending}
			case r != nil:
				return *r
			}
			if r, done := x.resetSettled(ctx, it, user, true); done {
				return r
			}
			f := failure(err)
			f.oktaID = it.OktaUserID
			return f
		default:
			f := failure(err)
			f.oktaID = it.OktaUserID
			return f
		}
	}
}

// providerOf is the user's credentials provider type ("" when none).
func providerOf(u *okta.User) string {
	if u.Credentials == nil || u.Credentials.Provider == nil {
		return ""
	}
	return u.Credentials.Provider.Type
}

// resetSettled decides a user from its read, before a request: reset
// already (an earlier request of this run took effect), signed in since
// (skipped), or in RECOVERY through someone else (skipped). done is false
// when the reset is still to send.
func (x *execution) resetSettled(ctx context.Context, it *Item, u *okta.User, uncertain bool) (result, bool) {
	provider := providerOf(u)
	switch {
	case uncertain && (u.Status == okta.StatusRecovery || provider != okta.ProviderImport):
		return x.resetDone(ctx, it, nil), true
	case provider != okta.ProviderImport:
		if provider == okta.ProviderOkta {
			x.markImported(ctx, it.OktaUserID)
		}
		return result{state: StateSkipped, oktaID: it.OktaUserID, code: codeImported,
			summary: fmt.Sprintf("Signed in since the run started: Okta holds the password (provider %s), so it was not reset.", orDefault(provider, "none"))}, true
	case u.Status == okta.StatusRecovery:
		// A reset sent outside this run: another would void its link.
		x.markReset(ctx, it.OktaUserID)
		return result{state: StateSkipped, oktaID: it.OktaUserID, code: codeInRecovery,
			summary: "Already in RECOVERY (a password reset was sent outside this run): not sent again."}, true
	}
	return result{}, false
}

// readForReset reads the user by id. r is set when the read settles the
// item (the user is gone, or the read failed for good); ok is false when
// the run stops first.
func (x *execution) readForReset(ctx context.Context, it *Item) (user *okta.User, r *result, ok bool) {
	for attempt := 1; ; attempt++ {
		err := x.send(ctx, bucketUserGet, func(ctx context.Context) (okta.Response, error) {
			u, res, err := x.client.GetUser(ctx, it.OktaUserID)
			user = u
			return res, err
		})
		switch {
		case err == nil:
			return user, nil, true
		case ctx.Err() != nil:
			return nil, nil, false
		case okta.IsNotFound(err):
			f := failure(err)
			f.oktaID, f.summary = it.OktaUserID, "The user is no longer in the org (deleted outside Ferry). "+f.summary
			return nil, &f, true
		case okta.IsTemporary(err) && attempt < maxAttempts:
			if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
				return nil, nil, false
			}
		default:
			f := failure(err)
			f.oktaID = it.OktaUserID
			return nil, &f, true
		}
	}
}

// resetDone records a reset: reset_at and the status Ferry expects
// (RECOVERY) on the provenance, and the one-time link, sealed, when Okta
// returned one instead of emailing it. tok is nil when the reset was found
// done by a read (its answer, and any link, were lost).
func (x *execution) resetDone(ctx context.Context, it *Item, tok *okta.ResetPasswordToken) result {
	now := x.s.now().UTC()
	_, _ = x.s.db.WriteSQL().ExecContext(background(ctx), x.s.db.Bind(`UPDATE okta_users SET reset_at = COALESCE(reset_at, ?), status = ?,
		updated_at = ? WHERE org_url = ? AND okta_user_id = ?`), now, okta.StatusRecovery, now, x.run.OrgURL, it.OktaUserID)
	r := result{state: StateReset, oktaID: it.OktaUserID}
	if x.run.StragglerReset().SendEmail {
		return r
	}
	if tok == nil || tok.ResetPasswordURL == "" || x.s.deps.Sealer == nil {
		r.code, r.summary = codeLinkLost, "Reset, but its one-time link was not recorded (the answer was lost): send a new reset from Okta's Admin Console."
		return r
	}
	sealed, err := x.s.deps.Sealer.Seal(tok.ResetPasswordURL)
	if err == nil {
		_, err = x.s.db.WriteSQL().ExecContext(background(ctx), x.s.db.Bind(`UPDATE load_items SET credential_sealed = ? WHERE id = ?`), sealed, it.ID)
	}
	if err != nil {
		r.code, r.summary = codeLinkLost, "Reset, but its one-time link could not be kept: send a new reset from Okta's Admin Console."
	}
	return r
}

// markImported records Okta's confirmation read back from the user: its
// provider is OKTA, so Okta holds the password (imported_via 'provider').
func (x *execution) markImported(ctx context.Context, oktaID string) {
	now := x.s.now().UTC()
	_, _ = x.s.db.WriteSQL().ExecContext(background(ctx), x.s.db.Bind(`UPDATE okta_users SET password_imported_at = ?, imported_via = 'provider',
		updated_at = ? WHERE org_url = ? AND okta_user_id = ? AND password_imported_at IS NULL`), now, now, x.run.OrgURL, oktaID)
}

// markReset records a reset found in the org (sent outside Ferry).
func (x *execution) markReset(ctx context.Context, oktaID string) {
	now := x.s.now().UTC()
	_, _ = x.s.db.WriteSQL().ExecContext(background(ctx), x.s.db.Bind(`UPDATE okta_users SET reset_at = COALESCE(reset_at, ?), status = ?,
		updated_at = ? WHERE org_url = ? AND okta_user_id = ?`), now, okta.StatusRecovery, now, x.run.OrgURL, oktaID)
}

// settleReset settles a user in flight when its run was cancelled: read,
// it was reset or not.
func settleReset(ctx context.Context, x *execution, it *Item) (result, bool) {
	user, r, ok := x.readForReset(ctx, it)
	switch {
	case !ok:
		return result{}, false
	case r != nil:
		return *r, true
	case user.Status == okta.StatusRecovery || providerOf(user) != okta.ProviderImport:
		return x.resetDone(ctx, it, nil), true
	}
	return result{state: StateSkipped, oktaID: it.OktaUserID, code: "FERRY_CANCELLED",
		summary: "The run was cancelled before this user's password was reset."}, true
}

// WriteResetLinksCSV writes the one-time reset links a reset run without
// emails kept (login, Okta id, link). Each link lets anyone set the user's
// password until it is used: the caller checks the personal-data
// permission and audits the download.
func (s *Service) WriteResetLinksCSV(ctx context.Context, runID int64, w io.Writer) error {
	run, err := s.FindRunByID(ctx, runID)
	if err != nil {
		return err
	}
	if run.Kind != KindResetPassword {
		return apperr.Invalid(run.Label()+" is not a password reset: it has no reset links.", nil)
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"login", "okta_user_id", "reset_password_url"}); err != nil {
		return err
	}
	var after int64
	for {
		items, err := s.FindItems(ctx, runID, StateReset, after, 1000)
		if err != nil {
			return err
		}
		for _, it := range items {
			if it.CredentialSealed == "" || s.deps.Sealer == nil {
				continue
			}
			link, err := s.deps.Sealer.Open(it.CredentialSealed)
			if err != nil {
				continue // sealed with another key: not readable here
			}
			if err := cw.Write([]string{safeCell(it.Login), safeCell(it.OktaUserID), safeCell(link)}); err != nil {
				return err
			}
		}
		if len(items) < 1000 {
			break
		}
		after = items[len(items)-1].Seq
	}
	cw.Flush()
	return cw.Error()
}
