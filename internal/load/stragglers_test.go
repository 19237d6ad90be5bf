package load

import (
	"bytes"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// resetLog records every reset_password request the sandbox acted on (a
// 429 is not): the user's id and its sendEmail query.
type resetLog struct {
	mu    sync.Mutex
	calls map[string][]string
}

func (l *resetLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/lifecycle/reset_password") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests {
			return
		}
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/users/"), "/lifecycle/reset_password")
		l.mu.Lock()
		if l.calls == nil {
			l.calls = map[string][]string{}
		}
		l.calls[id] = append(l.calls[id], r.URL.Query().Get("sendEmail"))
		l.mu.Unlock()
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (l *resetLog) of(id string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls[id])
}

// stragglerWorld is a fixture whose org has Ferry's password import hook
// (a test server that says VERIFIED to any password) and hook users of
// source "LDAP" loaded ACTIVE, then 61 days of waiting.
type stragglerWorld struct {
	*fixture
	src      int64
	hook     []string // the hook users' logins
	log      *resetLog
	loadedAt time.Time // when the users were loaded
}

const loadedDays = 61

func newStragglerWorld(t *testing.T, n int, o fxOptions) *stragglerWorld {
	t.Helper()
	log := &resetLog{}
	inner := o.Wrap
	o.Wrap = func(h http.Handler) http.Handler {
		if inner != nil {
			h = inner(h)
		}
		return log.wrap(h)
	}
	f := newFixture(t, o)
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}]}`)
	}))
	t.Cleanup(hookSrv.Close)
	if _, _, _, err := f.client.RegisterPasswordImportHook(t.Context(), okta.PasswordImportHook{URI: hookSrv.URL + "/hook", AuthValue: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	w := &stragglerWorld{fixture: f, log: log, loadedAt: f.clock.Now()}
	w.src = f.addSource("LDAP", false)
	w.hook = f.addRecords(w.src, "hook", n)
	run := f.start(NewRun{Mode: ModeHook, Activate: true, Population: Population{SourceIDs: []int64{w.src}}})
	f.mustExecute(run.ID)
	f.assertLoaded(run.ID, w.hook, 0)
	f.clock.Advance(loadedDays * 24 * time.Hour)
	return w
}

// signIn signs the user in through the sandbox (the hook says VERIFIED):
// Okta then holds the password (provider OKTA).
func (w *stragglerWorld) signIn(login string) {
	w.t.Helper()
	if code := w.simJSON("POST", "/api/v1/authn", map[string]string{"username": login, "password": "Whatever-1"}, nil); code != 200 {
		w.t.Fatalf("sign-in of %s: %d", login, code)
	}
	if u := w.oktaUser(login); u.Credentials.Provider.Type != okta.ProviderOkta {
		w.t.Fatalf("%s after the sign-in: provider %s", login, u.Credentials.Provider.Type)
	}
}

func (w *stragglerWorld) stragglerLogins(q StragglerQuery) []string {
	w.t.Helper()
	q.Limit = MaxStragglerPage
	p, err := w.svc.Stragglers(w.t.Context(), w.projectID, q)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, s := range p.Items {
		out = append(out, s.Login)
	}
	slices.Sort(out)
	return out
}

func (w *stragglerWorld) provenance(login string) OktaUser {
	w.t.Helper()
	for _, u := range w.oktaUsers() {
		if u.Login == login {
			return u
		}
	}
	w.t.Fatalf("no provenance for %s", login)
	return OktaUser{}
}

func (w *stragglerWorld) resetAt(login string) *time.Time {
	w.t.Helper()
	var at sql.NullTime
	if err := w.db.ReadSQL().QueryRowContext(w.t.Context(), w.db.Bind(`SELECT reset_at FROM okta_users WHERE login = ?`), login).Scan(&at); err != nil {
		w.t.Fatal(err)
	}
	if !at.Valid {
		return nil
	}
	return &at.Time
}

func (w *stragglerWorld) startReset(in NewStragglerReset) (*Run, *StragglerResetPlan) {
	w.t.Helper()
	run, p, err := w.svc.StartStragglerReset(w.t.Context(), w.projectID, in)
	if err != nil {
		w.t.Fatalf("StartStragglerReset: %v", err)
	}
	return run, p
}

// addAttempt records a call of the hook for a user's provenance row.
func (w *stragglerWorld) addAttempt(login, outcome, cause string, at time.Time) {
	w.t.Helper()
	var hookID int64
	_ = w.db.Read.Raw(`SELECT id FROM password_hooks WHERE org_url = ?`, "https://org.example.com").Scan(&hookID)
	if hookID == 0 {
		now := w.clock.Now()
		hookID = w.insert(`INSERT INTO password_hooks (org_url, org_key, header_name, secret_sealed, secret_hint, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, "https://org.example.com", "k3y", "Authorization", "sealed", "cret", now, now)
	}
	w.exec(`INSERT INTO hook_attempts (hook_id, project_id, outcome, cause, at, okta_user_ref) VALUES (?, ?, ?, ?, ?, ?)`,
		hookID, w.projectID, outcome, cause, at.UTC(), w.provenance(login).ID)
}

// Stragglers are the hook users of the org, not removed, not confirmed
// imported, created at least the period ago and not reset; users without
// the hook, STAGED ones and the rest are left out.
func TestStragglersSelection(t *testing.T) {
	w := newStragglerWorld(t, 8, fxOptions{})
	ctx := t.Context()
	// Users without the hook, loaded at the same time.
	hr := w.addSource("HR", false)
	bare := w.addRecords(hr, "bare", 2)
	w.mustExecute(w.start(NewRun{Mode: ModeNone, Activate: true, Population: Population{SourceIDs: []int64{hr}}}).ID)
	for _, l := range bare {
		w.exec(`UPDATE okta_users SET created_at = ? WHERE login = ?`, w.loadedAt.UTC(), l)
	}
	h := w.hook
	now := w.clock.Now().UTC()
	w.exec(`UPDATE okta_users SET password_imported_at = ?, imported_via = 'event' WHERE login = ?`, now, h[0])
	w.exec(`UPDATE okta_users SET removed_at = ? WHERE login = ?`, now, h[1])
	w.exec(`UPDATE okta_users SET created_at = ? WHERE login = ?`, now.AddDate(0, 0, -59), h[2])
	w.exec(`UPDATE okta_users SET reset_at = ? WHERE login = ?`, now, h[3])
	w.exec(`UPDATE okta_users SET status = ? WHERE login = ?`, okta.StatusStaged, h[4])
	w.exec(`UPDATE sources SET name = ? WHERE id = ?`, "LDAP", w.src)
	w.addAttempt(h[5], "unverified", "wrong password", now.Add(-48*time.Hour))
	w.addAttempt(h[5], "error", "=1+2 directory down", now.Add(-time.Hour))
	w.addAttempt(h[6], "unverified", "older", now.Add(-72*time.Hour))

	want := []string{h[5], h[6], h[7]}
	if got := w.stragglerLogins(StragglerQuery{}); !slices.Equal(got, want) {
		t.Fatalf("stragglers %v, want %v", got, want)
	}
	// A longer period leaves out users who have not waited that long; a
	// shorter one takes in the recent one. The project's period counts
	// when none is given.
	if got := w.stragglerLogins(StragglerQuery{PeriodDays: 62}); len(got) != 0 {
		t.Errorf("62-day period: %v", got)
	}
	if got := w.stragglerLogins(StragglerQuery{PeriodDays: 30}); !slices.Equal(got, []string{h[2], h[5], h[6], h[7]}) {
		t.Errorf("30-day period: %v", got)
	}
	w.exec(`INSERT INTO hook_programs (project_id, period_days, updated_at) VALUES (?, ?, ?)`, w.projectID, 90, now)
	if p, _ := w.svc.ProgramPeriod(ctx, w.projectID); p != 90 {
		t.Errorf("program period %d", p)
	}
	if got := w.stragglerLogins(StragglerQuery{}); len(got) != 0 {
		t.Errorf("with the project's 90-day period: %v", got)
	}
	if got := w.stragglerLogins(StragglerQuery{Now: now.AddDate(0, 0, 30)}); !slices.Equal(got, want) {
		t.Errorf("90 days on: %v", got)
	}
	w.exec(`UPDATE hook_programs SET period_days = 60 WHERE project_id = ?`, w.projectID)

	// Paging with a count; each straggler's facts and last attempt.
	p1, err := w.svc.Stragglers(ctx, w.projectID, StragglerQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p1.Total != 3 || len(p1.Items) != 2 || p1.Next == 0 || p1.PeriodDays != 60 || p1.OrgURL != w.url {
		t.Fatalf("first page: %+v", p1)
	}
	p2, err := w.svc.Stragglers(ctx, w.projectID, StragglerQuery{Limit: 2, After: p1.Next})
	if err != nil {
		t.Fatal(err)
	}
	if p2.Total != 3 || len(p2.Items) != 1 || p2.Next != 0 || p2.Items[0].Ref <= p1.Items[1].Ref || p1.Items[0].Ref >= p1.Items[1].Ref {
		t.Fatalf("second page: %+v", p2)
	}
	byLogin := map[string]Straggler{}
	for _, s := range append(p1.Items, p2.Items...) {
		byLogin[s.Login] = s
	}
	s5 := byLogin[h[5]]
	if s5.Source != "LDAP" || s5.DaysWaiting != loadedDays || !s5.Created.Equal(w.provenance(h[5]).CreatedAt.UTC()) || s5.Status != okta.StatusActive ||
		s5.OktaUserID == "" || s5.LastAttempt == nil || s5.LastAttempt.Outcome != "error" || !s5.LastAttempt.At.Equal(now.Add(-time.Hour)) {
		t.Errorf("straggler %+v (attempt %+v)", s5, s5.LastAttempt)
	}
	if a := byLogin[h[6]].LastAttempt; a == nil || a.Cause != "older" {
		t.Errorf("attempt of %s: %+v", h[6], a)
	}
	if a := byLogin[h[7]].LastAttempt; a != nil {
		t.Errorf("a user the hook never saw has attempt %+v", a)
	}

	// The CSV: every straggler, formula-safe.
	var buf bytes.Buffer
	if err := w.svc.WriteStragglersCSV(ctx, w.projectID, StragglerQuery{Limit: 1}, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || rows[0][0] != "login" {
		t.Fatalf("CSV:\n%v", rows)
	}
	for _, r := range rows[1:] {
		if r[0] == h[5] && (r[2] != "LDAP" || r[4] != fmt.Sprint(loadedDays) || r[6] != "error" || r[7] != "'=1+2 directory down") ||
			r[0] == h[7] && r[6] != "" || !slices.Contains(want, r[0]) {
			t.Errorf("CSV row %v", r)
		}
	}

	for name, q := range map[string]StragglerQuery{"negative period": {PeriodDays: -1}, "huge period": {PeriodDays: MaxPeriodDays + 1}} {
		if _, err := w.svc.Stragglers(ctx, w.projectID, q); !apperr.Is(err, apperr.CodeInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

// The reset end to end: the plan in sentences, every straggler reset once
// with Okta's email, one who signed in since the start skipped, the
// provenance updated, and nobody left to reset.
func TestStragglerResetEndToEnd(t *testing.T) {
	w := newStragglerWorld(t, 5, fxOptions{})
	w.addAttempt(w.hook[0], "unverified", "wrong password", w.clock.Now().Add(-time.Hour))
	w.addAttempt(w.hook[1], "verified", "", w.clock.Now().Add(-time.Hour))
	p, err := w.svc.PlanStragglerReset(t.Context(), w.projectID, NewStragglerReset{})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(p.Sentences, " ")
	for _, want := range []string{"5 users Ferry loaded with the password import hook", "60 or more days ago", "1 of them tried", "1 were verified by the hook",
		"Okta emails each of them a link", "RECOVERY", "skipped, not reset", "About"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q: %s", want, text)
		}
	}
	if p.Users != 5 || !p.SendEmail || !p.Sandbox || p.Refused != 1 || p.NeverTried != 3 || p.Unconfirmed != 1 || p.RateLimit == 0 {
		t.Errorf("plan %+v", p)
	}
	run, _ := w.startReset(NewStragglerReset{})
	if run.Kind != KindResetPassword || run.Total != 5 || run.Label() != "Password reset of stragglers (run 2)" || !run.StragglerReset().SendEmail ||
		run.StragglerReset().PeriodDays != 60 {
		t.Fatalf("run %+v", run)
	}
	// A second reset of the same users is refused while the first is unfinished.
	if _, _, err := w.svc.StartStragglerReset(t.Context(), w.projectID, NewStragglerReset{}); !apperr.Is(err, apperr.CodeConflict) {
		t.Errorf("overlapping reset: %v", err)
	}
	// Signed in after the run started: skipped, and recorded as imported.
	w.signIn(w.hook[4])
	run = w.mustExecute(run.ID)
	if run.Status != StatusDone || !strings.Contains(run.Message, "4 passwords reset") {
		t.Fatalf("run ended %s: %s", run.Status, run.Message)
	}
	for _, it := range w.items(run.ID) {
		u := w.oktaUser(it.Login)
		if it.Login == w.hook[4] {
			if it.State != StateSkipped || it.ErrorCode != codeImported || u.Status != okta.StatusActive || len(w.log.of(u.ID)) != 0 {
				t.Errorf("signed-in user: %s %s %s, %s, resets %v", it.State, it.ErrorCode, it.ErrorSummary, u.Status, w.log.of(u.ID))
			}
			var via string
			_ = w.db.Read.Raw(`SELECT imported_via FROM okta_users WHERE login = ? AND password_imported_at IS NOT NULL`, it.Login).Scan(&via)
			if via != "provider" {
				t.Errorf("signed-in user's import not recorded (%q)", via)
			}
			continue
		}
		if it.State != StateReset || it.Action != ActionResetPassword || it.Attempts != 1 || it.OktaUserID != u.ID {
			t.Errorf("%s: %s (%s %s) attempts %d", it.Login, it.State, it.ErrorCode, it.ErrorSummary, it.Attempts)
		}
		if u.Status != okta.StatusRecovery || u.Credentials.Provider.Type != okta.ProviderOkta {
			t.Errorf("%s in Okta: %s %+v", it.Login, u.Status, u.Credentials.Provider)
		}
		if got := w.log.of(u.ID); !slices.Equal(got, []string{"true"}) {
			t.Errorf("%s: resets %v, want one with sendEmail=true", it.Login, got)
		}
		if n := w.sim.ResetEmails(it.Login); n != 1 {
			t.Errorf("%s got %d reset emails", it.Login, n)
		}
		if w.resetAt(it.Login) == nil || w.provenance(it.Login).Status != okta.StatusRecovery {
			t.Errorf("%s: provenance not updated", it.Login)
		}
	}
	if got := w.stragglerLogins(StragglerQuery{}); len(got) != 0 {
		t.Errorf("stragglers after the reset: %v", got)
	}
	if _, _, err := w.svc.StartStragglerReset(t.Context(), w.projectID, NewStragglerReset{}); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("a reset of nobody: %v", err)
	}
	if len(w.defects.calls) != 0 {
		t.Errorf("defects recorded: %v", w.defects.calls)
	}
	// A reconciliation expects RECOVERY, or ACTIVE once the person has set
	// a new password.
	if err := w.sim.Tamper(w.hook[0], nil, oktasim.StatusActive); err != nil {
		t.Fatal(err)
	}
	rec, err := w.svc.StartReconcile(t.Context(), w.projectID, NewReconcile{})
	if err != nil {
		t.Fatal(err)
	}
	w.mustExecute(rec.ID)
	if c := w.counts(rec.ID); c.Of(StateMatched) != 5 {
		t.Errorf("reconciliation after the reset: %+v", c.State)
	}
}

// Without emails, Okta's one-time links are kept sealed in the run and
// downloaded as a CSV; nobody is emailed.
func TestStragglerResetLinks(t *testing.T) {
	w := newStragglerWorld(t, 3, fxOptions{})
	no := false
	run, p := w.startReset(NewStragglerReset{SendEmail: &no})
	if p.SendEmail || !strings.Contains(strings.Join(p.Sentences, " "), "Okta emails nobody") {
		t.Errorf("plan %+v", p)
	}
	w.mustExecute(run.ID)
	for _, it := range w.items(run.ID) {
		if it.State != StateReset || it.CredentialSealed == "" || strings.Contains(it.CredentialSealed, "reset_password") {
			t.Errorf("%s: %s, sealed %q", it.Login, it.State, it.CredentialSealed)
		}
		if n := w.sim.ResetEmails(it.Login); n != 0 {
			t.Errorf("%s got %d emails", it.Login, n)
		}
	}
	var buf bytes.Buffer
	if err := w.svc.WriteResetLinksCSV(t.Context(), run.ID, &buf); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(&buf).ReadAll()
	if len(rows) != 4 || rows[0][2] != "reset_password_url" {
		t.Fatalf("links CSV %v", rows)
	}
	for _, r := range rows[1:] {
		if !strings.HasPrefix(r[2], w.url+"/reset_password/") || !slices.Contains(w.hook, r[0]) {
			t.Errorf("link row %v", r)
		}
	}
	if err := w.svc.WriteResetLinksCSV(t.Context(), 1, &bytes.Buffer{}); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("links of a load: %v", err)
	}
}

// A crash before and after Okta reset a user: the next process reads the
// users in flight and never resets anyone twice.
func TestStragglerResetResumesAfterCrash(t *testing.T) {
	for _, tc := range []struct {
		step string
		nth  int64
	}{{"claimed", 1}, {"reset", 3}} {
		t.Run(tc.step, func(t *testing.T) {
			w := newStragglerWorld(t, 6, fxOptions{})
			run, _ := w.startReset(NewStragglerReset{MaxInFlight: 2})
			fired := crashOnce(t, tc.step, tc.nth)
			if err := w.execute(w.svc, run.ID); !errors.Is(err, errCrashed) || !fired.Load() {
				t.Fatalf("Execute = %v, want the simulated crash", err)
			}
			before := 0
			for _, it := range w.items(run.ID) {
				before += len(w.log.of(it.OktaUserID))
			}
			if tc.step == "claimed" && before != 0 || tc.step == "reset" && before < 3 {
				t.Fatalf("%d resets before the crash", before)
			}
			resumeAfterCrash(t, w.fixture, run.ID)
			for _, it := range w.items(run.ID) {
				if it.State != StateReset {
					t.Errorf("%s: %s (%s %s)", it.Login, it.State, it.ErrorCode, it.ErrorSummary)
				}
				if n := len(w.log.of(it.OktaUserID)); n != 1 {
					t.Errorf("%s reset %d times", it.Login, n)
				}
				if n := w.sim.ResetEmails(it.Login); n != 1 {
					t.Errorf("%s got %d emails", it.Login, n)
				}
				if w.resetAt(it.Login) == nil {
					t.Errorf("%s: no reset_at", it.Login)
				}
			}
		})
	}
}

// A 429 storm in both buckets the run uses: everybody is reset, once.
func TestStragglerResetRateLimitStorm(t *testing.T) {
	w := newStragglerWorld(t, 12, fxOptions{})
	w.sim.SetLimits(oktasim.Limits{UserGet: 3, Other: 3})
	w.sim.SetConcurrency(1)
	w.sim.SetFaults(oktasim.Faults{Latency: 2 * time.Millisecond})
	run, _ := w.startReset(NewStragglerReset{MaxInFlight: 4})
	run = w.mustExecute(run.ID)
	if run.Status != StatusDone {
		t.Fatalf("%s: %s", run.Status, run.Message)
	}
	if p := run.Pace(); p.RateWaits+p.Concurrency == 0 {
		t.Errorf("no 429 waited out in a storm: %+v", p)
	}
	for _, it := range w.items(run.ID) {
		if it.State != StateReset || len(w.log.of(it.OktaUserID)) != 1 || w.sim.ResetEmails(it.Login) != 1 {
			t.Errorf("%s: %s (%s %s), resets %v", it.Login, it.State, it.ErrorCode, it.ErrorSummary, w.log.of(it.OktaUserID))
		}
	}
}

// 5xx answers and lost responses: a user whose reset may have reached Okta
// is read before it is sent again.
func TestStragglerResetThroughFaults(t *testing.T) {
	w := newStragglerWorld(t, 10, fxOptions{Rand: seeded(11)})
	run, _ := w.startReset(NewStragglerReset{MaxInFlight: 3})
	w.sim.SetFaults(oktasim.Faults{ServerErrorRate: 0.2, LostResponseRate: 0.2})
	for resumes := 0; ; resumes++ {
		_ = w.execute(w.svc, run.ID)
		r := w.run(run.ID)
		if r.Status == StatusDone {
			break
		}
		if r.Status != StatusFailed || resumes >= 3 {
			t.Fatalf("run ended %s: %s", r.Status, r.Message)
		}
		if _, err := w.svc.Resume(t.Context(), w.projectID, run.ID); err != nil {
			t.Fatal(err)
		}
	}
	w.sim.SetFaults(oktasim.Faults{})
	for _, it := range w.items(run.ID) {
		n := w.sim.ResetEmails(it.Login)
		switch it.State {
		case StateReset:
			if n != 1 {
				t.Errorf("%s reset with %d emails", it.Login, n)
			}
		case StateFailed:
			t.Logf("%s failed: %s %s", it.Login, it.ErrorCode, it.ErrorSummary)
			if n != 0 || w.oktaUser(it.Login).Status == okta.StatusRecovery {
				t.Errorf("%s recorded as failed but reset in Okta", it.Login)
			}
		default:
			t.Errorf("%s is %s", it.Login, it.State)
		}
	}
}

// A user deactivated outside Ferry: Okta refuses its reset (403 E0000038),
// the item fails with Okta's words and the failure becomes a defect.
func TestStragglerResetDeprovisionedUser(t *testing.T) {
	w := newStragglerWorld(t, 4, fxOptions{})
	run, _ := w.startReset(NewStragglerReset{})
	if err := w.sim.Tamper(w.hook[1], nil, oktasim.StatusDeprovisioned); err != nil {
		t.Fatal(err)
	}
	// And one an admin reset by hand meanwhile: not sent again.
	if err := w.sim.Tamper(w.hook[3], nil, oktasim.StatusRecovery); err != nil {
		t.Fatal(err)
	}
	run = w.mustExecute(run.ID)
	if run.Status != StatusDone || !strings.Contains(run.Message, "2 passwords reset") || !strings.Contains(run.Message, "1 failed") {
		t.Fatalf("%s: %s", run.Status, run.Message)
	}
	for _, it := range w.items(run.ID) {
		if it.Login == w.hook[3] {
			if it.State != StateSkipped || it.ErrorCode != codeInRecovery || len(w.log.of(it.OktaUserID)) != 0 || w.resetAt(it.Login) == nil {
				t.Errorf("user in recovery: %s %s, resets %v", it.State, it.ErrorCode, w.log.of(it.OktaUserID))
			}
		}
		if it.Login != w.hook[1] {
			continue
		}
		if it.State != StateFailed || it.ErrorCode != "E0000038" || it.ErrorSummary != "This operation is not allowed in the user's current status." {
			t.Errorf("deprovisioned user: %s %s %q", it.State, it.ErrorCode, it.ErrorSummary)
		}
		if w.resetAt(it.Login) != nil {
			t.Error("reset_at set for a refused reset")
		}
	}
	c := w.counts(run.ID)
	if len(c.Errors) != 1 || c.Errors[0].Code != "E0000038" || c.Errors[0].Count != 1 {
		t.Errorf("errors %+v", c.Errors)
	}
	if len(w.defects.calls) != 1 || len(w.defects.calls[0]) != 1 || w.defects.calls[0][0].Code != "E0000038" {
		t.Errorf("defects %+v", w.defects.calls)
	}
	// The user stays a straggler (it was not reset).
	if got := w.stragglerLogins(StragglerQuery{}); !slices.Equal(got, []string{w.hook[1]}) {
		t.Errorf("stragglers after the run: %v", got)
	}
}

// Pause, resume and cancel work as on every run; a cancelled reset leaves
// the users not sent as stragglers.
func TestStragglerResetControl(t *testing.T) {
	w := newStragglerWorld(t, 4, fxOptions{})
	ctx := t.Context()
	run, _ := w.startReset(NewStragglerReset{})
	if r, err := w.svc.Pause(ctx, w.projectID, run.ID); err != nil || r.Status != StatusPaused {
		t.Fatalf("pause: %v %+v", err, r)
	}
	if _, err := w.svc.Resume(ctx, w.projectID, run.ID); err != nil {
		t.Fatal(err)
	}
	if r, err := w.svc.Cancel(ctx, w.projectID, run.ID); err != nil || r.Requested != RequestCancel {
		t.Fatalf("cancel: %v %+v", err, r)
	}
	run = w.mustExecute(run.ID)
	if run.Status != StatusCancelled {
		t.Fatalf("%s: %s", run.Status, run.Message)
	}
	for _, it := range w.items(run.ID) {
		if it.State != StateSkipped || it.ErrorCode != "FERRY_CANCELLED" || len(w.log.of(it.OktaUserID)) != 0 {
			t.Errorf("%s: %s %s", it.Login, it.State, it.ErrorCode)
		}
	}
	if got := w.stragglerLogins(StragglerQuery{}); len(got) != 4 {
		t.Errorf("stragglers after the cancel: %v", got)
	}
	// A new reset may start once the cancelled one is over.
	if _, _, err := w.svc.StartStragglerReset(ctx, w.projectID, NewStragglerReset{}); err != nil {
		t.Errorf("a reset after the cancelled one: %v", err)
	}
}

// A user in flight when the run is cancelled is read: reset or not.
func TestStragglerResetCancelSettlesUsersInFlight(t *testing.T) {
	w := newStragglerWorld(t, 4, fxOptions{})
	run, _ := w.startReset(NewStragglerReset{MaxInFlight: 1})
	fired := crashOnce(t, "reset", 2)
	if err := w.execute(w.svc, run.ID); !errors.Is(err, errCrashed) || !fired.Load() {
		t.Fatalf("Execute = %v", err)
	}
	crashHook = nil
	w.clock.Advance(w.opts.Lease + time.Second)
	if _, err := w.svc.Cancel(t.Context(), w.projectID, run.ID); err != nil {
		t.Fatal(err)
	}
	b := w.service("proc-B")
	if err := w.execute(b, run.ID); err != nil {
		t.Fatal(err)
	}
	c := w.counts(run.ID)
	if w.run(run.ID).Status != StatusCancelled || c.Of(StateReset) != 2 || c.Of(StateSkipped) != 2 {
		t.Fatalf("after the cancel: %s %+v", w.run(run.ID).Status, c.State)
	}
	for _, it := range w.items(run.ID) {
		if n := len(w.log.of(it.OktaUserID)); (it.State == StateReset) != (n == 1) || n > 1 {
			t.Errorf("%s: %s with %d resets", it.Login, it.State, n)
		}
	}
}

func TestStragglerResetBadInput(t *testing.T) {
	w := newStragglerWorld(t, 2, fxOptions{})
	ctx := t.Context()
	for name, in := range map[string]NewStragglerReset{
		"negative period": {PeriodDays: -1},
		"huge period":     {PeriodDays: MaxPeriodDays + 1},
		"in flight":       {MaxInFlight: 1000},
		"rate share":      {RateShare: 2},
		"nobody waited":   {PeriodDays: 365},
	} {
		if _, _, err := w.svc.StartStragglerReset(ctx, w.projectID, in); !apperr.Is(err, apperr.CodeInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if runs, _ := w.svc.FindRuns(ctx, w.projectID, 0); len(runs) != 1 {
		t.Errorf("%d runs recorded, want only the load", len(runs))
	}
}

// A real org's reset needs the legal gate open, like a wave.
func TestStragglerResetLegalGate(t *testing.T) {
	w := newStragglerWorld(t, 2, fxOptions{Wrap: hideSandbox})
	w.gate.set(false, "The register is not signed off.")
	if _, _, err := w.svc.StartStragglerReset(t.Context(), w.projectID, NewStragglerReset{}); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("reset with the gate closed: %v", err)
	}
	w.gate.set(true)
	if _, _, err := w.svc.StartStragglerReset(t.Context(), w.projectID, NewStragglerReset{}); err != nil {
		t.Errorf("reset with the gate open: %v", err)
	}
}
