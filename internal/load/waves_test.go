package load

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// activationLog records every activation request the sandbox receives:
// the user's id and its sendEmail query.
type activationLog struct {
	mu    sync.Mutex
	calls map[string][]string
}

func (a *activationLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/lifecycle/activate") {
			id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/users/"), "/lifecycle/activate")
			a.mu.Lock()
			if a.calls == nil {
				a.calls = map[string][]string{}
			}
			a.calls[id] = append(a.calls[id], r.URL.Query().Get("sendEmail"))
			a.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (a *activationLog) of(id string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.calls[id])
}

// waveWorld is a fixture with STAGED users of Ferry's: three with bcrypt
// hashes in source A (user type 1; a001 in Sales) and two without a
// password in source B (user type 2; b001 in Sales).
type waveWorld struct {
	*fixture
	srcA, srcB int64
	hashed     []string
	bare       []string
	log        *activationLog
	records    map[string]int64
}

const wavePassword = "Right-Horse-7"

func newWaveWorld(t *testing.T, o fxOptions) *waveWorld {
	t.Helper()
	log := &activationLog{}
	inner := o.Wrap
	o.Wrap = func(h http.Handler) http.Handler {
		if inner != nil {
			h = inner(h)
		}
		return log.wrap(h)
	}
	f := newFixture(t, o)
	w := &waveWorld{fixture: f, log: log, records: map[string]int64{}}
	f.plan.mu.Lock()
	f.plan.types = []plan.UserType{{ID: 1, ProjectID: f.projectID, Name: "Employees"}, {ID: 2, ProjectID: f.projectID, Name: "Contractors"}}
	f.plan.mu.Unlock()
	w.srcA = f.addSource("LDAP", false, 1)
	w.srcB = f.addSource("HR", false, 2)
	settings := &credentials.Settings{SourceID: w.srcA, ProjectID: f.projectID, Attribute: "userPassword"}
	f.pw.readings[w.srcA] = credentials.Reading{Settings: settings, Source: settings.Source()}
	hash, err := bcrypt.GenerateFromPassword([]byte(wavePassword), 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range []string{"a001@example.com", "a002@example.com", "a003@example.com"} {
		prof := map[string]string{"department": "Engineering"}
		if i == 0 {
			prof["department"] = "Sales"
		}
		w.records[l] = f.addRecord(w.srcA, l, map[string][]string{"userPassword": {string(hash)}}, prof)
		w.hashed = append(w.hashed, l)
	}
	for i, l := range []string{"b001@example.com", "b002@example.com"} {
		prof := map[string]string{"department": "Support"}
		if i == 0 {
			prof["department"] = "sales"
		}
		w.records[l] = f.addRecord(w.srcB, l, nil, prof)
		w.bare = append(w.bare, l)
	}
	return w
}

// stage loads every user STAGED (hash mode for A, no password for B).
func (w *waveWorld) stage() {
	w.t.Helper()
	r1 := w.start(NewRun{Mode: ModeHash, Population: Population{SourceIDs: []int64{w.srcA}}})
	w.mustExecute(r1.ID)
	w.assertLoaded(r1.ID, w.hashed, 0)
	r2 := w.start(NewRun{Population: Population{SourceIDs: []int64{w.srcB}}})
	w.mustExecute(r2.ID)
	for _, l := range append(slices.Clone(w.hashed), w.bare...) {
		if u := w.oktaUser(l); u == nil || u.Status != okta.StatusStaged {
			w.t.Fatalf("%s not STAGED after the load: %+v", l, u)
		}
	}
}

func (w *waveWorld) plan(in NewWave) *WavePlan {
	w.t.Helper()
	if in.Name == "" {
		in.Name = "Wave"
	}
	p, err := w.svc.PlanWave(w.t.Context(), w.projectID, in)
	if err != nil {
		w.t.Fatalf("PlanWave: %v", err)
	}
	return p
}

func (w *waveWorld) provenanceStatus(login string) string {
	w.t.Helper()
	for _, u := range w.oktaUsers() {
		if u.Login == login && u.RemovedAt == nil {
			return u.Status
		}
	}
	return ""
}

func sortedLogins(p *WavePlan) []string {
	out := p.Logins()
	slices.Sort(out)
	return out
}

func TestWaveSelection(t *testing.T) {
	w := newWaveWorld(t, fxOptions{})
	w.stage()
	all := w.plan(NewWave{})
	if all.Users != 5 || all.WithCredentials != 3 || all.WithoutCredentials != 2 || !all.Sandbox || !all.GateOpen {
		t.Fatalf("whole org: %+v", all)
	}
	text := strings.Join(all.Sentences, " ")
	for _, want := range []string{"activates 5 users", "3 have a password", "without Okta's activation email", "2 have no password",
		"Okta emails each of them its activation link", "PROVISIONED"} {
		if !strings.Contains(text, want) {
			t.Errorf("sentences lack %q: %s", want, text)
		}
	}
	if got := sortedLogins(w.plan(NewWave{SourceIDs: []int64{w.srcA}})); !slices.Equal(got, w.hashed) {
		t.Errorf("by source: %v", got)
	}
	if got := sortedLogins(w.plan(NewWave{UserTypeIDs: []int64{2}})); !slices.Equal(got, w.bare) {
		t.Errorf("by user type: %v", got)
	}
	sales := w.plan(NewWave{Subgroup: &Filter{Attribute: "department", Op: "equals", Value: "Sales"}})
	if got := sortedLogins(sales); !slices.Equal(got, []string{"a001@example.com", "b001@example.com"}) {
		t.Errorf("by subgroup: %v", got)
	}
	if sales.WithCredentials != 1 || sales.WithoutCredentials != 1 {
		t.Errorf("subgroup counts: %+v", sales)
	}
	salesOfType1 := w.plan(NewWave{UserTypeIDs: []int64{1}, Subgroup: &Filter{Attribute: "department", Op: "equals", Value: "sales"}})
	if got := salesOfType1.Logins(); !slices.Equal(got, []string{"a001@example.com"}) {
		t.Errorf("subgroup of a user type: %v", got)
	}
	list := w.plan(NewWave{Logins: []string{"A002@example.com", "b002@example.com", "nobody@example.com"}})
	if got := sortedLogins(list); !slices.Equal(got, []string{"a002@example.com", "b002@example.com"}) || !slices.Equal(list.Unmatched, []string{"nobody@example.com"}) {
		t.Errorf("by list: %v unmatched %v", got, list.Unmatched)
	}
}

func TestWaveActivatesWithAndWithoutEmail(t *testing.T) {
	w := newWaveWorld(t, fxOptions{})
	w.stage()
	run, p, err := w.svc.StartWave(t.Context(), w.projectID, NewWave{Name: "Everyone"})
	if err != nil {
		t.Fatal(err)
	}
	if run.Kind != KindActivate || run.Name != "Everyone" || run.Total != 5 || p.Users != 5 || run.Label() != "Activation wave Everyone (run 3)" {
		t.Fatalf("run %+v plan %+v", run, p)
	}
	run = w.mustExecute(run.ID)
	if run.Status != StatusDone || !strings.Contains(run.Message, "5 activated") {
		t.Fatalf("wave ended %s: %s", run.Status, run.Message)
	}
	for _, it := range w.items(run.ID) {
		if it.State != StateActivated || it.Action != ActionActivate || it.Attempts != 1 {
			t.Errorf("%s: %s (%s %s) attempts %d", it.Login, it.State, it.ErrorCode, it.ErrorSummary, it.Attempts)
		}
	}
	for _, l := range w.hashed {
		u := w.oktaUser(l)
		if u.Status != okta.StatusActive {
			t.Errorf("%s: %s, want ACTIVE", l, u.Status)
		}
		if got := w.log.of(u.ID); !slices.Equal(got, []string{"false"}) {
			t.Errorf("%s: activations %v, want one with sendEmail=false", l, got)
		}
		if n := w.sim.ActivationEmails(l); n != 0 {
			t.Errorf("%s got %d activation emails", l, n)
		}
		if st := w.provenanceStatus(l); st != okta.StatusActive {
			t.Errorf("%s provenance status %q", l, st)
		}
	}
	for _, l := range w.bare {
		u := w.oktaUser(l)
		if u.Status != okta.StatusProvisioned {
			t.Errorf("%s: %s, want PROVISIONED", l, u.Status)
		}
		if got := w.log.of(u.ID); !slices.Equal(got, []string{"true"}) {
			t.Errorf("%s: activations %v, want one with sendEmail=true", l, got)
		}
		if n := w.sim.ActivationEmails(l); n != 1 {
			t.Errorf("%s got %d activation emails, want 1", l, n)
		}
		if st := w.provenanceStatus(l); st != okta.StatusProvisioned {
			t.Errorf("%s provenance status %q", l, st)
		}
	}
	// Activated users are no longer STAGED: the next wave finds nobody.
	if p := w.plan(NewWave{}); p.Users != 0 {
		t.Errorf("after the wave: %d users still to activate", p.Users)
	}
	if _, _, err := w.svc.StartWave(t.Context(), w.projectID, NewWave{Name: "Again"}); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("an empty wave: %v", err)
	}
}

func TestWaveResumesAfterCrash(t *testing.T) {
	for _, tc := range []struct {
		step string
		nth  int64
	}{{"claimed", 1}, {"activated", 3}} {
		t.Run(tc.step, func(t *testing.T) {
			w := newWaveWorld(t, fxOptions{})
			w.stage()
			run, _, err := w.svc.StartWave(t.Context(), w.projectID, NewWave{Name: "Crash", MaxInFlight: 2})
			if err != nil {
				t.Fatal(err)
			}
			fired := crashOnce(t, tc.step, tc.nth)
			if err := w.execute(w.svc, run.ID); !errors.Is(err, errCrashed) || !fired.Load() {
				t.Fatalf("Execute = %v, want the simulated crash", err)
			}
			sentBefore := 0
			for _, it := range w.items(run.ID) {
				sentBefore += len(w.log.of(it.OktaUserID))
			}
			// Workers in flight may send one more before the process dies.
			if lo, hi := map[string]int{"claimed": 0, "activated": 3}[tc.step], map[string]int{"claimed": 0, "activated": 4}[tc.step]; sentBefore < lo || sentBefore > hi {
				t.Fatalf("%d activations sent before the crash, want %d to %d", sentBefore, lo, hi)
			}
			resumeAfterCrash(t, w.fixture, run.ID)
			for _, it := range w.items(run.ID) {
				if it.State != StateActivated {
					t.Errorf("%s: %s (%s %s)", it.Login, it.State, it.ErrorCode, it.ErrorSummary)
				}
				if n := len(w.log.of(it.OktaUserID)); n != 1 {
					t.Errorf("%s activated %d times", it.Login, n)
				}
			}
			for _, l := range w.bare {
				if n := w.sim.ActivationEmails(l); n != 1 {
					t.Errorf("%s got %d activation emails", l, n)
				}
			}
			for _, l := range append(slices.Clone(w.hashed), w.bare...) {
				if st := w.provenanceStatus(l); st == okta.StatusStaged || st == "" {
					t.Errorf("%s provenance status %q after the resume", l, st)
				}
			}
		})
	}
}

func TestWaveOverlapRefused(t *testing.T) {
	w := newWaveWorld(t, fxOptions{})
	w.stage()
	first, _, err := w.svc.StartWave(t.Context(), w.projectID, NewWave{Name: "Type 2", UserTypeIDs: []int64{2}})
	if err != nil {
		t.Fatal(err)
	}
	p := w.plan(NewWave{Name: "Everyone"})
	if p.Overlap != 2 || !strings.Contains(strings.Join(p.Sentences, " "), "unfinished wave") {
		t.Errorf("plan of an overlapping wave: %+v", p)
	}
	if _, _, err := w.svc.StartWave(t.Context(), w.projectID, NewWave{Name: "Everyone"}); !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("overlapping wave: %v, want a conflict", err)
	}
	// A wave of other users may run alongside.
	if _, _, err := w.svc.StartWave(t.Context(), w.projectID, NewWave{Name: "Type 1", UserTypeIDs: []int64{1}}); err != nil {
		t.Fatalf("disjoint wave: %v", err)
	}
	// Once the first wave is done, its users are no longer STAGED.
	w.mustExecute(first.ID)
	if p := w.plan(NewWave{UserTypeIDs: []int64{2}}); p.Users != 0 || p.Overlap != 0 {
		t.Errorf("after the first wave: %+v", p)
	}
}

func TestWaveBadInput(t *testing.T) {
	w := newWaveWorld(t, fxOptions{})
	w.stage()
	ctx := t.Context()
	for name, in := range map[string]NewWave{
		"no name":         {},
		"blank name":      {Name: "   "},
		"control chars":   {Name: "Wave\x00one"},
		"line break":      {Name: "Wave\none"},
		"long name":       {Name: strings.Repeat("w", MaxWaveName+1)},
		"unknown source":  {Name: "W", SourceIDs: []int64{99999}},
		"unknown type":    {Name: "W", UserTypeIDs: []int64{99}},
		"bad filter op":   {Name: "W", Subgroup: &Filter{Attribute: "department", Op: "like", Value: "x"}},
		"bad login":       {Name: "W", Logins: []string{"a\x01b@example.com"}},
		"in flight":       {Name: "W", MaxInFlight: 1000},
		"rate share":      {Name: "W", RateShare: 2},
		"empty selection": {Name: "W", Logins: []string{"nobody@example.com"}},
	} {
		if _, _, err := w.svc.StartWave(ctx, w.projectID, in); !apperr.Is(err, apperr.CodeInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if runs, _ := w.svc.FindRuns(ctx, w.projectID, 0); len(runs) != 2 {
		t.Errorf("%d runs recorded, want only the 2 loads", len(runs))
	}
	if _, _, err := w.svc.StartWave(ctx, w.projectID, NewWave{Name: strings.Repeat("w", MaxWaveName)}); err != nil {
		t.Errorf("a 100-character name: %v", err)
	}
}

// A real org's wave needs the legal gate open, like a load.
func TestWaveLegalGate(t *testing.T) {
	w := newWaveWorld(t, fxOptions{Wrap: hideSandbox})
	w.stage()
	w.gate.set(false, "The register is not signed off.")
	p := w.plan(NewWave{})
	if p.Sandbox || p.GateOpen || !strings.Contains(strings.Join(p.Sentences, " "), "register is not signed off") {
		t.Errorf("plan with the gate closed: %+v", p)
	}
	if _, _, err := w.svc.StartWave(t.Context(), w.projectID, NewWave{Name: "W"}); !apperr.Is(err, apperr.CodeInvalid) {
		t.Errorf("wave with the gate closed: %v", err)
	}
	w.gate.set(true)
	if _, _, err := w.svc.StartWave(t.Context(), w.projectID, NewWave{Name: "W"}); err != nil {
		t.Errorf("wave with the gate open: %v", err)
	}
}

// The legacy account status of a STAGED load is applied after activation:
// a locked account is suspended, an expired one must change its password
// (and its canary signs in with PASSWORD_EXPIRED, counted as passed).
func TestWaveAppliesLegacyStatus(t *testing.T) {
	w := newWaveWorld(t, fxOptions{})
	hash, err := bcrypt.GenerateFromPassword([]byte(wavePassword), 4)
	if err != nil {
		t.Fatal(err)
	}
	for login, status := range map[string]string{"a001@example.com": "locked", "a002@example.com": "expired"} {
		attrs, _ := json.Marshal(map[string][]string{"mail": {login}, "userPassword": {string(hash)}, "accountStatus": {status}})
		w.exec(`UPDATE staged_records SET attributes_json = ? WHERE id = ?`, string(attrs), w.records[login])
	}
	if _, err := w.svc.SaveCutover(t.Context(), w.projectID, w.srcA, 0, CutoverInput{StatusAttribute: "accountStatus",
		LockedValues: []string{"locked"}, ExpiredValues: []string{"expired"}}); err != nil {
		t.Fatal(err)
	}
	w.mark("a002@example.com", wavePassword)
	w.stage()
	p := w.plan(NewWave{SourceIDs: []int64{w.srcA}})
	if p.Users != 3 || p.Suspend != 1 || p.ChangePassword != 1 || p.Canaries != 1 {
		t.Fatalf("plan %+v", p)
	}
	run, _, err := w.svc.StartWave(t.Context(), w.projectID, NewWave{Name: "A", SourceIDs: []int64{w.srcA}})
	if err != nil {
		t.Fatal(err)
	}
	w.mustExecute(run.ID)
	for login, want := range map[string]string{"a001@example.com": okta.StatusSuspended, "a002@example.com": okta.StatusPasswordExpired,
		"a003@example.com": okta.StatusActive} {
		if u := w.oktaUser(login); u.Status != want {
			t.Errorf("%s: %s, want %s", login, u.Status, want)
		}
		if st := w.provenanceStatus(login); st != want {
			t.Errorf("%s provenance %s, want %s", login, st, want)
		}
	}
	for _, it := range w.items(run.ID) {
		if it.State != StateActivated {
			t.Errorf("%s: %s %s %s", it.Login, it.State, it.ErrorCode, it.ErrorSummary)
		}
	}
	if c := w.checks(run.ID)["a002@example.com"]; c.Outcome != CanaryPassed || !strings.Contains(c.Detail, "must change its password") {
		t.Errorf("change-password canary: %+v", c)
	}
}
