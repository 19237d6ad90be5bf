package hook_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/secrets"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// user is one staged row: its key (uid), its login (email), its stored
// password value and separate salt.
type user struct {
	uid, email, pw, salt string
}

// world is a project with one source whose extract holds the users, the
// source's password settings, the project's Okta org and its hook.
type world struct {
	t       *testing.T
	db      *db.DB
	clock   *dbtest.Clock
	ctx     context.Context
	plan    *plan.Service
	staging *staging.Service
	creds   *credentials.Service
	orgs    *orgs.Service
	sealer  *secrets.Sealer
	project *plan.Project
	source  *plan.Source
	svc     *hook.Service
	config  *hook.Config
	secret  string
	logs    *syncBuffer
	account int64
}

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type worldOptions struct {
	orgURL   string
	settings credentials.Input
	hookOpts hook.Options
	budget   int64 // ms
}

func newWorld(t *testing.T, users []user, o worldOptions) *world {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	as := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	acct, err := as.CreateAccount(context.Background(), auth.AccountInput{Email: "eng@example.com", Name: "Eli", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: d, clock: clock, ctx: audit.WithActor(context.Background(), audit.Actor{ID: acct.ID, Name: acct.Name}), logs: &syncBuffer{}, account: acct.ID}
	w.plan = plan.NewService(d, as)
	ms := mapping.NewService(d, schema.NewService(d), w.plan)
	w.staging = staging.NewService(d, clock.Now, ms)
	w.creds = credentials.NewService(d, w.plan, w.staging, credentials.Options{Now: clock.Now})
	key := bytes.Repeat([]byte{7}, secrets.KeySize)
	if w.sealer, err = secrets.New(key); err != nil {
		t.Fatal(err)
	}
	w.orgs = orgs.NewService(d, w.sealer, clock.Now)
	name, srcName, kind, yes := "Acme", "Shop DB", "database", plan.DecisionYes
	if w.project, err = w.plan.CreateProject(w.ctx, acct.ID, plan.ProjectInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if w.source, err = w.plan.CreateSource(w.ctx, w.project.ID, plan.SourceInput{Name: &srcName, Kind: &kind, MigrateCredentials: &yes}); err != nil {
		t.Fatal(err)
	}
	w.stage(w.project.ID, w.source.ID, users)
	if o.settings.Attribute == "" {
		o.settings = credentials.Input{Attribute: "pw", SaltAttribute: "salt"}
	}
	if _, err := w.creds.Save(w.ctx, w.project.ID, w.source.ID, 0, o.settings); err != nil {
		t.Fatalf("password settings: %v", err)
	}
	if o.orgURL == "" {
		o.orgURL = "https://acme.okta.com"
	}
	token := "00abcdefghijklmnopqrstuvwxyz"
	if _, err := w.orgs.Save(w.ctx, w.project.ID, 0, orgs.Input{OrgURL: o.orgURL, AuthScheme: orgs.SchemeSSWS, Token: &token}); err != nil {
		t.Fatalf("org: %v", err)
	}
	opts := o.hookOpts
	opts.Now = clock.Now
	opts.Logger = slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w.svc = hook.NewService(d, hook.Deps{Orgs: w.orgs, Extracts: w.staging, Passwords: w.creds, Sealer: w.sealer}, opts)
	in := hook.ConfigInput{}
	if o.budget > 0 {
		in.Budget = msDuration(o.budget)
	}
	if w.config, w.secret, err = w.svc.SaveConfig(w.ctx, w.project.ID, 0, in); err != nil {
		t.Fatalf("save hook: %v", err)
	}
	if w.secret == "" {
		t.Fatal("a new hook's secret is not shown")
	}
	return w
}

// stage stages the users as the source's extract and writes their login
// keys as validation would.
func (w *world) stage(projectID, sourceID int64, users []user) {
	t := w.t
	t.Helper()
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"uid", "email", "pw", "salt"})
	for _, u := range users {
		_ = cw.Write([]string{u.uid, u.email, u.pw, u.salt})
	}
	cw.Flush()
	r, format, err := staging.OpenReader(&buf, "")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := w.staging.Stage(w.ctx, projectID, sourceID, r, staging.Meta{FileName: "users.csv", Format: format, KeyAttribute: "uid"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var recs []staging.StagedRecord
	if err := w.db.Read.Where("extract_id = ?", ex.ID).Order("position").Find(&recs).Error; err != nil {
		t.Fatal(err)
	}
	var keys []staging.KeyEntry
	for i, rec := range recs {
		if users[i].email == "" {
			continue
		}
		k := schema.LoginKey(users[i].email)
		keys = append(keys, staging.KeyEntry{ExtractID: ex.ID, Kind: staging.KeyLogin, Key: k, RecordID: rec.ID})
		if err := w.db.Write.Exec("INSERT INTO staged_profiles (record_id, profile_json, login_key, email_key) VALUES (?, ?, ?, '')",
			rec.ID, `{"login":"`+users[i].email+`"}`, k).Error; err != nil {
			t.Fatal(err)
		}
	}
	staging.SortKeys(keys)
	if len(keys) > 0 {
		if err := w.staging.ReplaceKeys(w.ctx, nil, [][]staging.KeyEntry{keys}); err != nil {
			t.Fatal(err)
		}
	}
}

// payload is Okta's request for username and password.
func payload(username, password, ip string) []byte {
	b, _ := json.Marshal(map[string]any{
		"eventId": "3o9jBzq1SmOGmmsDsqyyeQ", "eventTime": "2020-01-17T21:23:56.000Z", "eventType": hook.EventType,
		"eventTypeVersion": "1.0", "contentType": "application/json", "cloudEventVersion": "0.1",
		"source": "https://acme.okta.com/api/v1/inlineHooks/cbl2ad6phv9fsPLcF0g7",
		"data": map[string]any{
			"context": map[string]any{
				"request":    map[string]any{"id": "XiIl6wn7005Rr@fjYqeC7CCDBxw", "method": "POST", "url": map[string]string{"value": "/idp/idx/challenge/answer"}, "ipAddress": ip},
				"credential": map[string]string{"username": username, "password": password},
			},
			"action": map[string]string{"credential": "UNVERIFIED"},
		},
	})
	return b
}

func (w *world) header() http.Header {
	h := http.Header{}
	h.Set("Authorization", w.secret)
	h.Set("Content-Type", "application/json")
	return h
}

// call sends a sign-in attempt from ip.
func (w *world) call(username, password, ip string) (int, string) {
	status, body := w.svc.Verify(context.Background(), w.config.OrgKey, w.header(), payload(username, password, ip))
	return status, string(body)
}

const (
	verifiedJSON   = `{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}]}`
	unverifiedJSON = `{"commands":[{"type":"com.okta.action.update","value":{"credential":"UNVERIFIED"}}]}`
)

// attemptRow is a recorded attempt.
type attemptRow struct {
	ProjectID    *int64
	SourceID     *int64
	LoginKeyHash string
	Outcome      string
	Cause        string
}

// lastAttempt returns the newest recorded attempt.
func (w *world) lastAttempt() attemptRow {
	w.t.Helper()
	var rows []attemptRow
	if err := w.db.Read.Table("hook_attempts").Order("id DESC").Limit(1).Find(&rows).Error; err != nil || len(rows) == 0 {
		w.t.Fatalf("no attempt recorded (%v)", err)
	}
	return rows[0]
}

// expect checks one call's answer and recorded cause.
func (w *world) expect(username, password, ip string, wantStatus int, wantBody, wantOutcome, wantCause string) {
	w.t.Helper()
	status, body := w.call(username, password, ip)
	if status != wantStatus || (wantBody != "" && body != wantBody) {
		w.t.Fatalf("%q: %d %s, want %d %s", username, status, body, wantStatus, wantBody)
	}
	if a := w.lastAttempt(); a.Outcome != wantOutcome || a.Cause != wantCause {
		w.t.Fatalf("%q: recorded %s/%s, want %s/%s", username, a.Outcome, a.Cause, wantOutcome, wantCause)
	}
}

// noSecretsStored fails when any stored row of the hook's tables, the audit
// log or the log output holds one of the secrets.
func (w *world) noSecretsStored(secrets ...string) {
	w.t.Helper()
	var dump strings.Builder
	for _, table := range []string{"hook_attempts", "password_hooks", "audit_entries"} {
		var rows []map[string]any
		q := w.db.Read.Table(table)
		if table == "audit_entries" {
			q = q.Where("entity_type = ?", "password_hook")
		}
		if err := q.Find(&rows).Error; err != nil {
			w.t.Fatal(err)
		}
		b, _ := json.Marshal(rows)
		dump.Write(b)
	}
	logs := w.logs.String()
	for _, s := range secrets {
		if strings.Contains(dump.String(), s) {
			w.t.Errorf("a stored row holds %q", s)
		}
		if strings.Contains(logs, s) {
			w.t.Errorf("the log holds %q", s)
		}
	}
}
