package hook_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// saltedSettings read a salted SHA-512 with a separate salt attribute, so
// that the erase has two attributes to remove.
var saltedSettings = credentials.Input{Attribute: "pw", SaltAttribute: "salt", Formats: []string{"sha512"}, SaltEncoding: "text", SaltOrder: "POSTFIX"}

func salted(password, salt string) string {
	sum := sha512.Sum512([]byte(password + salt))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// programUsers are the staged users of the program tests: each has the
// right password with a salt of their own.
func programUsers(names ...string) []user {
	var out []user
	for _, n := range names {
		salt := "salt-of-" + n
		out = append(out, user{uid: n, email: n + "@example.com", pw: salted(rightPassword, salt), salt: salt})
	}
	return out
}

type programWorld struct {
	*world
	prog *hook.Program
}

func newProgramWorld(t *testing.T, names ...string) *programWorld {
	t.Helper()
	w := newWorld(t, programUsers(names...), worldOptions{settings: saltedSettings})
	loads := load.NewService(w.db, load.Deps{}, load.Options{Now: w.clock.Now})
	prog := hook.NewProgram(w.db, hook.ProgramDeps{Projects: w.plan, Sources: w.plan, Extracts: w.staging, Passwords: w.creds, Loads: loads}, w.clock.Now)
	return &programWorld{world: w, prog: prog}
}

// hookUser records a user Ferry created in Okta with the password hook
// (as internal/load does) and returns its okta_users id.
func (w *programWorld) hookUser(login, password string, created time.Time, imported, reset *time.Time, removed bool) int64 {
	w.t.Helper()
	var removedAt *time.Time
	if removed {
		removedAt = &created
	}
	err := w.db.Write.Exec(`INSERT INTO okta_users (project_id, org_url, okta_user_id, login, source_id, run_id, created_at, removed_at, password, status, password_imported_at, imported_via, reset_at)
		VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, 'ACTIVE', ?, ?, ?)`,
		w.project.ID, w.config.OrgURL, "00u"+login, login, w.source.ID, created.UTC(), removedAt, password, utcPtr(imported), via(imported), utcPtr(reset)).Error
	if err != nil {
		w.t.Fatal(err)
	}
	var id []int64
	if err := w.db.Read.Table("okta_users").Where("login = ?", login).Pluck("id", &id).Error; err != nil || len(id) != 1 {
		w.t.Fatalf("okta user %s: %v", login, err)
	}
	return id[0]
}

func (w *programWorld) setStatus(login, status string) {
	w.t.Helper()
	if err := w.db.Write.Exec("UPDATE okta_users SET status = ? WHERE login = ?", status, login).Error; err != nil {
		w.t.Fatal(err)
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func via(imported *time.Time) string {
	if imported == nil {
		return ""
	}
	return "event"
}

// attempt records a call of the hook as Verify would.
type seededAttempt struct {
	at         time.Time
	outcome    string
	cause      string
	durationMS int64
	noProject  bool
	userRef    int64
	login      string
}

func (w *programWorld) attempt(a seededAttempt) {
	w.t.Helper()
	var project, ref any
	if !a.noProject {
		project = w.project.ID
	}
	if a.userRef != 0 {
		ref = a.userRef
	}
	hash := ""
	if a.login != "" {
		sum := sha256.Sum256([]byte(schema.LoginKey(a.login)))
		hash = hex.EncodeToString(sum[:])
	}
	if err := w.db.Write.Exec(`INSERT INTO hook_attempts (hook_id, project_id, login_key_hash, outcome, cause, duration_ms, at, okta_user_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		w.config.ID, project, hash, a.outcome, a.cause, a.durationMS, a.at.UTC(), ref).Error; err != nil {
		w.t.Fatal(err)
	}
}

func tp(t time.Time) *time.Time { return &t }

// seedProgram builds a program with a user in every state. The hook's real
// answers come first (at t0, ten days before now), then the clock moves on
// and the attempts of known durations are recorded.
func seedProgram(t *testing.T) (*programWorld, time.Time) {
	w := newProgramWorld(t, "ann", "bob", "cat", "dan", "eve", "fay", "gus")
	t0 := w.clock.Now()
	day := 24 * time.Hour
	// bob signs in with the right password, cat with a wrong one.
	w.expect("bob@example.com", rightPassword, anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	w.expect("cat@example.com", wrongPassword, anIP, http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseWrongPassword)
	w.clock.Advance(10 * day)
	now := w.clock.Now()
	w.hookUser("ann@example.com", "hook", t0.Add(-day), tp(now.Add(-2*day)), nil, false)
	w.hookUser("bob@example.com", "hook", t0.Add(-day), nil, nil, false)
	w.hookUser("cat@example.com", "hook", t0.Add(-day), nil, nil, false)
	dan := w.hookUser("dan@example.com", "hook", t0.Add(-day), nil, nil, false)
	w.hookUser("eve@example.com", "hook", now.Add(-70*day), nil, nil, false)
	w.hookUser("fay@example.com", "hook", now.Add(-5*day), nil, nil, false)
	w.hookUser("gus@example.com", "hook", now.Add(-70*day), nil, tp(now.Add(-3*day)), false)
	// hal was never activated (STAGED): waiting, but no straggler.
	w.hookUser("hal@example.com", "hook", now.Add(-70*day), nil, nil, false)
	w.setStatus("hal@example.com", "STAGED")
	// Not part of the program: a removed hook user, a deactivated one (a
	// leaver), a user loaded with its hash.
	w.hookUser("old@example.com", "hook", now.Add(-80*day), nil, nil, true)
	w.hookUser("ivy@example.com", "hook", now.Add(-80*day), nil, nil, false)
	w.setStatus("ivy@example.com", "DEPROVISIONED")
	w.hookUser("hash@example.com", "hash", now.Add(-80*day), nil, nil, false)
	// dan: a verified answer found by the login's hash, then a newer
	// timeout found by the user's reference; the newer one counts.
	w.attempt(seededAttempt{at: now.Add(-9 * day), outcome: hook.OutcomeVerified, durationMS: 5, login: "dan@example.com"})
	w.attempt(seededAttempt{at: now.Add(-8 * day), outcome: hook.OutcomeError, cause: hook.CauseTimeout, durationMS: 7, userRef: dan})
	// The last 24 hours: 10 ms … 90 ms and one over Okta's limit; a
	// refused request (not measured).
	hour := now.Add(-time.Hour)
	w.attempt(seededAttempt{at: hour, outcome: hook.OutcomeUnverified, cause: hook.CauseNoUser, durationMS: 10, noProject: true})
	for ms := int64(20); ms <= 90; ms += 10 {
		w.attempt(seededAttempt{at: hour, outcome: hook.OutcomeVerified, durationMS: ms})
	}
	w.attempt(seededAttempt{at: hour, outcome: hook.OutcomeError, cause: hook.CauseTimeout, durationMS: 3500})
	w.attempt(seededAttempt{at: hour, outcome: hook.OutcomeError, cause: hook.CauseUnauthorized, noProject: true})
	// Three days ago.
	w.attempt(seededAttempt{at: now.Add(-3 * day), outcome: hook.OutcomeUnverified, cause: hook.CauseWrongPassword, durationMS: 1000})
	w.attempt(seededAttempt{at: now.Add(-3 * day), outcome: hook.OutcomeVerified, durationMS: 2000})
	return w, now
}

func TestProgramDashboardCountsEveryState(t *testing.T) {
	w, now := seedProgram(t)
	d, err := w.prog.Dashboard(w.ctx, w.project.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	p := d.Population
	if p.Total != 8 || p.Migrated != 1 || p.Unconfirmed != 1 || p.Failed != 2 || p.Waiting != 4 {
		t.Errorf("population %+v", p)
	}
	if p.InPeriod != 4 || p.Stragglers != 1 || p.ResetSent != 1 || p.NotActivated != 1 {
		t.Errorf("in period %d, stragglers %d, reset sent %d, not activated %d", p.InPeriod, p.Stragglers, p.ResetSent, p.NotActivated)
	}
	if p.LastPeriodEnd == nil || !p.LastPeriodEnd.Equal(now.Add(55*24*time.Hour)) {
		t.Errorf("last period end %v", p.LastPeriodEnd)
	}
	if len(p.FailedByCause) != 2 || p.FailedByCause[0].Cause != hook.CauseTimeout || p.FailedByCause[1].Cause != hook.CauseWrongPassword ||
		p.FailedByCause[0].Total != 1 || p.FailedByCause[1].Total != 1 {
		t.Errorf("failed by cause %+v", p.FailedByCause)
	}
	if !d.HookConfigured || d.Settings.PeriodDays != hook.DefaultPeriodDays || d.LimitMS != 3000 {
		t.Errorf("hook %v, period %d, limit %d", d.HookConfigured, d.Settings.PeriodDays, d.LimitMS)
	}
	if d.StartedAt == nil || !d.StartedAt.Equal(now.Add(-70*24*time.Hour)) {
		t.Errorf("started %v", d.StartedAt)
	}
}

func TestProgramDashboardMeasuresLatencyAgainstOktasLimit(t *testing.T) {
	w, now := seedProgram(t)
	d, err := w.prog.Dashboard(w.ctx, w.project.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Latency) != 2 {
		t.Fatalf("latency windows %+v", d.Latency)
	}
	// 24 h: 10 … 90 and 3500 (ten calls): the median is the 5th, p99 the 10th.
	want := []hook.Latency{
		{Label: "Last 24 hours", Window: 24 * time.Hour, WindowSeconds: 86400, Count: 10, MedianMS: 50, P99MS: 3500, MaxMS: 3500, OverLimit: 1},
		// 7 days adds 1000 and 2000 (twelve calls): the 6th and the 12th.
		{Label: "Last 7 days", Window: 7 * 24 * time.Hour, WindowSeconds: 604800, Count: 12, MedianMS: 60, P99MS: 3500, MaxMS: 3500, OverLimit: 1},
	}
	for i, l := range d.Latency {
		if l != want[i] {
			t.Errorf("window %d: %+v, want %+v", i, l, want[i])
		}
	}
}

func TestProgramDashboardCountsErrorsByCauseAndDays(t *testing.T) {
	w, now := seedProgram(t)
	d, err := w.prog.Dashboard(w.ctx, w.project.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []hook.CauseCount{
		{Cause: hook.CauseTimeout, Last24h: 1, Total: 2},
		{Cause: hook.CauseWrongPassword, Last24h: 0, Total: 2},
		{Cause: hook.CauseNoUser, Last24h: 1, Total: 1},
		{Cause: hook.CauseUnauthorized, Last24h: 1, Total: 1},
	}
	if len(d.Errors) != len(want) {
		t.Fatalf("errors %+v", d.Errors)
	}
	for i, e := range d.Errors {
		if e.Cause != want[i].Cause || e.Last24h != want[i].Last24h || e.Total != want[i].Total || e.Label == "" {
			t.Errorf("error %d: %+v, want %+v", i, e, want[i])
		}
	}
	// The chart: from the first hook user (70 days ago) to today.
	if len(d.Series) != 71 {
		t.Fatalf("%d days", len(d.Series))
	}
	byDate := map[string]hook.Day{}
	for _, day := range d.Series {
		byDate[day.Date.Format(time.DateOnly)] = day
	}
	check := func(date string, migrated, verified, unverified, errs int64) {
		t.Helper()
		got := byDate[date]
		if got.Migrated != migrated || got.Verified != verified || got.Unverified != unverified || got.Errors != errs {
			t.Errorf("%s: %+v, want migrated %d, %d/%d/%d", date, got, migrated, verified, unverified, errs)
		}
	}
	today := now.Format(time.DateOnly)
	check("2026-03-02", 0, 1, 1, 0) // bob and cat
	check("2026-03-03", 0, 1, 0, 0) // dan, verified
	check("2026-03-04", 0, 0, 0, 1) // dan, timeout
	check("2026-03-09", 0, 1, 1, 0)
	check("2026-03-10", 1, 0, 0, 0) // ann confirmed
	check(today, 1, 8, 1, 2)
	if d.Series[0].Date.Format(time.DateOnly) != "2026-01-01" {
		t.Errorf("first day %s", d.Series[0].Date)
	}
}

func TestProgramDashboardShowsTheAgeOfTheStagedHashes(t *testing.T) {
	w, now := seedProgram(t)
	d, err := w.prog.Dashboard(w.ctx, w.project.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sources) != 1 {
		t.Fatalf("sources %+v", d.Sources)
	}
	s := d.Sources[0]
	if s.SourceID != w.source.ID || s.HookUsers != 8 || !s.HasSettings || s.StagedAt == nil || s.Age != 10*24*time.Hour || s.Stale ||
		!strings.Contains(s.Hint, "Re-stage") {
		t.Errorf("source %+v", s)
	}
	// Three weeks on, the hashes are stale; a re-stage refreshes them.
	w.clock.Advance(21 * 24 * time.Hour)
	if d, err = w.prog.Dashboard(w.ctx, w.project.ID, w.clock.Now()); err != nil || !d.Sources[0].Stale {
		t.Fatalf("not stale after 31 days: %+v %v", d.Sources, err)
	}
	w.stage(w.project.ID, w.source.ID, programUsers("ann"))
	if d, err = w.prog.Dashboard(w.ctx, w.project.ID, w.clock.Now()); err != nil || d.Sources[0].Stale || d.Sources[0].Age != 0 {
		t.Fatalf("a re-stage does not refresh: %+v %v", d.Sources, err)
	}
}

func TestProgramDashboardOfAProjectWithoutHook(t *testing.T) {
	w := newProgramWorld(t, "ann")
	if err := w.svc.RemoveConfig(w.ctx, w.project.ID); err != nil {
		t.Fatal(err)
	}
	d, err := w.prog.Dashboard(w.ctx, w.project.ID, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if d.HookConfigured || d.Population.Total != 0 || len(d.Latency) != 0 || len(d.Series) != 1 {
		t.Errorf("%+v", d)
	}
	check, err := w.prog.EndCheck(w.ctx, w.project.ID, w.clock.Now())
	if err != nil || check.Ready || !strings.Contains(strings.Join(check.Reasons, " "), "No user has been loaded") {
		t.Errorf("end check %+v %v", check, err)
	}
}

func TestProgramPercentileIsTheNearestRank(t *testing.T) {
	for _, tt := range []struct {
		values []int64
		pct    float64
		want   int64
	}{
		{nil, 50, 0},
		{[]int64{7}, 50, 7},
		{[]int64{7}, 99, 7},
		{[]int64{4, 1, 3, 2}, 50, 2},
		{[]int64{5, 1, 4, 2, 3}, 50, 3},
		{[]int64{5, 1, 4, 2, 3}, 100, 5},
		{seq(100), 99, 99},
		{seq(100), 50, 50},
		{seq(101), 99, 100},
		{seq(1000), 99, 990},
	} {
		if got := hook.Percentile(tt.values, tt.pct); got != tt.want {
			t.Errorf("p%v of %d values: %d, want %d", tt.pct, len(tt.values), got, tt.want)
		}
	}
}

func seq(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(n - i) // descending: Percentile sorts
	}
	return out
}

func TestProgramPeriodIsSavedWithItsVersion(t *testing.T) {
	w := newProgramWorld(t, "ann")
	if _, err := w.prog.SaveProgram(w.ctx, w.project.ID, 0, 6); !apperr.Is(err, apperr.CodeInvalid) || apperr.As(err).Fields["period_days"] == "" {
		t.Fatalf("6 days: %v", err)
	}
	if _, err := w.prog.SaveProgram(w.ctx, w.project.ID, 0, 366); !apperr.Is(err, apperr.CodeInvalid) {
		t.Fatalf("366 days: %v", err)
	}
	s, err := w.prog.SaveProgram(w.ctx, w.project.ID, 0, 90)
	if err != nil || s.PeriodDays != 90 || s.Version != 1 {
		t.Fatalf("save: %+v %v", s, err)
	}
	if _, err := w.prog.SaveProgram(w.ctx, w.project.ID, 0, 30); !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("stale version: %v", err)
	}
	if s, err = w.prog.SaveProgram(w.ctx, w.project.ID, 1, 7); err != nil || s.PeriodDays != 7 || s.Version != 2 {
		t.Fatalf("second save: %+v %v", s, err)
	}
	found, err := w.prog.FindSettings(w.ctx, w.project.ID)
	if err != nil || found.PeriodDays != 7 {
		t.Fatalf("find: %+v %v", found, err)
	}
	var n int64
	w.db.Read.Model(&audit.Entry{}).Where("entity_type = ? AND action = ?", "hook_program", audit.ActionUpdate).Count(&n)
	if n != 2 {
		t.Errorf("%d audit entries, want 2", n)
	}
}

func TestProgramEndCheckSaysWhyNotYet(t *testing.T) {
	w, now := seedProgram(t)
	check, err := w.prog.EndCheck(w.ctx, w.project.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if check.Ready || len(check.Reasons) != 5 {
		t.Fatalf("%+v", check)
	}
	// The dashboard carries the same check, over the users it counted.
	d, err := w.prog.Dashboard(w.ctx, w.project.ID, now)
	if err != nil || d.End == nil || strings.Join(d.End.Reasons, "|") != strings.Join(check.Reasons, "|") {
		t.Fatalf("the dashboard's end check %+v differs from %+v (%v)", d.End, check, err)
	}
	for i, want := range []string{
		"4 users have not migrated yet", "1 user was never activated in Okta (STAGED)", "1 user past the program's period has never migrated", "1 user was answered VERIFIED but Okta has not confirmed",
		"answered 11 sign-ins for the project's users in the last 7 days",
	} {
		if !strings.Contains(check.Reasons[i], want) {
			t.Errorf("reason %d: %q, want %q", i, check.Reasons[i], want)
		}
	}
	if !strings.Contains(check.Reasons[0], "ends on 6 May 2026") {
		t.Errorf("no end date: %q", check.Reasons[0])
	}
}

// endedProgram is a program whose end check is ready: ann migrated, bob
// past the period with a reset sent, no call in the last week.
func endedProgram(t *testing.T) *programWorld {
	w := newProgramWorld(t, "ann", "bob")
	w.expect("ann@example.com", rightPassword, anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	w.clock.Advance(90 * 24 * time.Hour)
	now := w.clock.Now()
	w.hookUser("ann@example.com", "hook", now.Add(-91*24*time.Hour), tp(now.Add(-89*24*time.Hour)), nil, false)
	w.hookUser("bob@example.com", "hook", now.Add(-91*24*time.Hour), nil, tp(now.Add(-20*24*time.Hour)), false)
	return w
}

// storedValues counts the staged records of the project that still hold a
// value of pw or salt (any case), in attributes or edits, in any extract.
func (w *programWorld) storedValues() int {
	w.t.Helper()
	var recs []staging.StagedRecord
	if err := w.db.Read.Joins("JOIN extracts ON extracts.id = staged_records.extract_id").Where("extracts.project_id = ?", w.project.ID).
		Find(&recs).Error; err != nil {
		w.t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		for _, m := range []map[string][]string{r.Attributes, r.Edits} {
			for k := range m {
				if strings.EqualFold(k, "pw") || strings.EqualFold(k, "salt") {
					n++
				}
			}
		}
	}
	return n
}

func TestProgramEraseRemovesTheStagedHashesForGood(t *testing.T) {
	w := endedProgram(t)
	now := w.clock.Now()
	check, err := w.prog.EndCheck(w.ctx, w.project.ID, now)
	if err != nil || !check.Ready || len(check.Reasons) != 0 {
		t.Fatalf("end check %+v %v", check, err)
	}
	// An edit holds a value too (in another case), and a failed extract
	// left a record behind.
	if err := w.db.Write.Exec("UPDATE staged_records SET edits_json = ?, edited = ? WHERE source_key = ?", `{"PW":["edited-value"]}`, true, "bob").Error; err != nil {
		t.Fatal(err)
	}
	failed := staging.Extract{ProjectID: w.project.ID, SourceID: w.source.ID, Status: staging.StatusFailed, FileName: "broken.csv", CreatedAt: now,
		Columns: []staging.ColumnStats{}, Warnings: []string{}}
	if err := w.db.Write.Create(&failed).Error; err != nil {
		t.Fatal(err)
	}
	if err := w.db.Write.Create(&staging.StagedRecord{ExtractID: failed.ID, SourceKey: "x", Attributes: map[string][]string{"Pw": {"left-behind"}, "uid": {"x"}}, Edits: map[string][]string{}}).Error; err != nil {
		t.Fatal(err)
	}
	if n := w.storedValues(); n != 6 {
		t.Fatalf("%d stored values before, want 6", n)
	}
	actor := audit.Actor{ID: w.account, Name: "Eli"}
	// The project's name must be typed.
	for _, typed := range []string{"", "acme", "Acme Corp", "<script>Acme</script>"} {
		if _, err := w.prog.EraseStagedHashes(w.ctx, w.project.ID, actor, hook.EraseInput{Confirm: typed}); !apperr.Is(err, apperr.CodeInvalid) ||
			apperr.As(err).Fields["confirm_name"] == "" {
			t.Fatalf("confirm %q: %v", typed, err)
		}
	}
	if n := w.storedValues(); n != 6 {
		t.Fatalf("a refused erase changed %d values", 6-n)
	}
	res, err := w.prog.EraseStagedHashes(w.ctx, w.project.ID, actor, hook.EraseInput{Confirm: " Acme "})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 3 || res.Sources != 1 || res.Extracts != 2 || res.Overridden {
		t.Errorf("result %+v", res)
	}
	if n := w.storedValues(); n != 0 {
		t.Fatalf("%d stored values left", n)
	}
	// Other attributes stay; the salt column's samples are gone.
	var ex staging.Extract
	if err := w.db.Read.Where("project_id = ? AND status = ?", w.project.ID, staging.StatusReady).First(&ex).Error; err != nil {
		t.Fatal(err)
	}
	for _, c := range ex.Columns {
		if (c.Name == "salt" || c.Name == "pw") && len(c.Samples) > 0 {
			t.Errorf("column %s keeps samples %v", c.Name, c.Samples)
		}
		if c.Name == "email" && len(c.Samples) == 0 {
			t.Error("the email samples are gone too")
		}
	}
	recs, _ := w.staging.FindRecords(w.ctx, ex.ID, 0, 10)
	if len(recs) != 2 || recs[0].Attributes["email"][0] != "ann@example.com" {
		t.Errorf("records %+v", recs)
	}
	// The program records it.
	s, err := w.prog.FindSettings(w.ctx, w.project.ID)
	if err != nil || s.HashesErasedAt == nil || s.HashesErasedByName != "Eli" || s.HashesErasedCount != 3 {
		t.Fatalf("settings %+v %v", s, err)
	}
	// The hook can no longer check: UNVERIFIED, no credential.
	w.expect("ann@example.com", rightPassword, anIP, http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseNoCredential)
	w.expect("bob@example.com", rightPassword, anIP, http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseNoCredential)
	// Erasing twice is harmless (and audited again).
	w.clock.Advance(8 * 24 * time.Hour)
	res, err = w.prog.EraseStagedHashes(w.ctx, w.project.ID, actor, hook.EraseInput{Confirm: "Acme"})
	if err != nil || res.Records != 0 {
		t.Fatalf("second erase %+v %v", res, err)
	}
	if s, _ = w.prog.FindSettings(w.ctx, w.project.ID); s.HashesErasedCount != 3 {
		t.Errorf("count %d after the second erase", s.HashesErasedCount)
	}
	var entries []audit.Entry
	if err := w.db.Read.Where("action = ?", hook.ActionEraseHashes).Order("id").Find(&entries).Error; err != nil || len(entries) != 2 {
		t.Fatalf("audit entries %d %v", len(entries), err)
	}
	if !strings.Contains(entries[0].AfterJSON, `"records":3`) || entries[0].ActorName != "Eli" || !strings.Contains(entries[0].AfterJSON, `"override":false`) {
		t.Errorf("audit %+v", entries[0])
	}
	w.noSecretsStored(rightPassword, salted(rightPassword, "salt-of-ann"), "salt-of-ann", "left-behind", "edited-value", "ann@example.com")
	var all []audit.Entry
	w.db.Read.Where("action = ?", hook.ActionEraseHashes).Find(&all)
	for _, e := range all {
		for _, secret := range []string{"salt-of", "ann@", "edited-value"} {
			if strings.Contains(e.AfterJSON+e.BeforeJSON+e.EntityLabel, secret) {
				t.Errorf("the erase's audit entry holds %q", secret)
			}
		}
	}
}

func TestProgramEraseIsRefusedUntilTheEndCheckIsReady(t *testing.T) {
	w, now := seedProgram(t)
	actor := audit.Actor{ID: w.account, Name: "Eli"}
	_, err := w.prog.EraseStagedHashes(w.ctx, w.project.ID, actor, hook.EraseInput{Confirm: "Acme"})
	if !apperr.Is(err, apperr.CodeConflict) || !strings.Contains(err.Error(), "not confirmed") {
		t.Fatalf("not ready: %v", err)
	}
	if n := w.storedValues(); n != 14 {
		t.Fatalf("a refused erase changed the records (%d values)", n)
	}
	// An explicit override erases, and the audit log says so with the
	// reasons then outstanding.
	res, err := w.prog.EraseStagedHashes(w.ctx, w.project.ID, actor, hook.EraseInput{Confirm: "Acme", Override: true})
	if err != nil || !res.Overridden || res.Records != 7 {
		t.Fatalf("override: %+v %v", res, err)
	}
	if n := w.storedValues(); n != 0 {
		t.Fatalf("%d values left", n)
	}
	var e audit.Entry
	if err := w.db.Read.Where("action = ?", hook.ActionEraseHashes).First(&e).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.AfterJSON, `"override":true`) || !strings.Contains(e.AfterJSON, "not confirmed the import") {
		t.Errorf("audit %s", e.AfterJSON)
	}
	d, err := w.prog.Dashboard(w.ctx, w.project.ID, now)
	if err != nil || d.Sources[0].StagedAt != nil || !strings.Contains(d.Sources[0].Hint, "Erased") {
		t.Errorf("dashboard after the erase: %+v %v", d.Sources, err)
	}
}

// A run that may still send password hashes blocks the erase, override or
// not: a resumed run whose hashes were erased would create its users
// without a password. Once it has ended, the erase also removes what the
// loads kept of the hashes.
func TestProgramEraseWaitsForARunThatMayStillSendHashes(t *testing.T) {
	w, now := seedProgram(t)
	actor := audit.Actor{ID: w.account, Name: "Eli"}
	var runID int64
	if err := w.db.Write.Raw(`INSERT INTO load_runs (project_id, number, kind, org_url, mode, status, total, created_by_name, created_at, updated_at)
		VALUES (?, 7, ?, ?, ?, ?, 1, 'test', ?, ?) RETURNING id`, w.project.ID, load.KindLoad, "https://acme.okta.com", load.ModeHash, load.StatusPaused, now, now).
		Scan(&runID).Error; err != nil {
		t.Fatal(err)
	}
	if err := w.db.Write.Exec(`INSERT INTO load_items (run_id, seq, login, state, credential_sealed, hash_digest) VALUES (?, 1, 'late@example.com', ?, 'sealed-hash', 'digest')`,
		runID, load.StatePending).Error; err != nil {
		t.Fatal(err)
	}
	check, err := w.prog.EndCheck(w.ctx, w.project.ID, now)
	if err != nil || check.Ready || !check.Blocking || !strings.Contains(strings.Join(check.Reasons, " "), "Load (run 7), paused") {
		t.Fatalf("end check %+v %v", check, err)
	}
	if _, err := w.prog.EraseStagedHashes(w.ctx, w.project.ID, actor, hook.EraseInput{Confirm: "Acme", Override: true}); !apperr.Is(err, apperr.CodeConflict) ||
		!strings.Contains(err.Error(), "may still send password hashes") {
		t.Fatalf("an override beside a paused hash load: %v", err)
	}
	if n := w.storedValues(); n != 14 {
		t.Fatalf("a refused erase changed the records (%d values)", n)
	}
	if err := w.db.Write.Exec(`UPDATE load_runs SET status = ? WHERE id = ?`, load.StatusCancelled, runID).Error; err != nil {
		t.Fatal(err)
	}
	res, err := w.prog.EraseStagedHashes(w.ctx, w.project.ID, actor, hook.EraseInput{Confirm: "Acme", Override: true})
	if err != nil || res.SealedHashes != 1 || res.Digests != 1 || res.Records != 7 {
		t.Fatalf("erase after the run was cancelled %+v %v", res, err)
	}
	var left int64
	w.db.Read.Table("load_items").Where("run_id = ? AND (credential_sealed <> '' OR hash_digest <> '')", runID).Count(&left)
	if left != 0 {
		t.Error("the run's sealed hash or digest is left")
	}
	var e audit.Entry
	if err := w.db.Read.Where("action = ?", hook.ActionEraseHashes).First(&e).Error; err != nil || !strings.Contains(e.AfterJSON, `"sealedHashes":1`) {
		t.Errorf("audit %s %v", e.AfterJSON, err)
	}
}

// An extract still being staged holds up the end: its records would miss
// the erase.
func TestProgramEndWaitsForAnExtractBeingStaged(t *testing.T) {
	w, now := seedProgram(t)
	ready := func() []string {
		t.Helper()
		check, err := w.prog.EndCheck(w.ctx, w.project.ID, now)
		if err != nil {
			t.Fatal(err)
		}
		return check.Reasons
	}
	reason := "An extract is being staged"
	if strings.Contains(strings.Join(ready(), " "), reason) {
		t.Fatal("the end check sees an extract being staged before there is one")
	}
	if err := w.db.Write.Exec(`INSERT INTO extracts (project_id, source_id, status, format, file_name, created_at) VALUES (?, ?, ?, 'csv', 'late.csv', ?)`,
		w.project.ID, w.source.ID, staging.StatusLoading, now).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(ready(), " "), reason) {
		t.Errorf("the end check does not wait for the extract being staged: %q", ready())
	}
}
