package credentials_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// The test account's password and the salt its legacy system hashed it
// with; the stored values are built here, independently of internal/hashes.
const (
	knownPassword = "Tr0ub4dor&3-known"
	rawSalt       = "\x01\x02pepperless\xff"
)

// sha512Postfix is base64(SHA-512(password‖salt)), the salt stored as base64.
func sha512Postfix(password, salt string) (value, storedSalt string) {
	sum := sha512.Sum512([]byte(password + salt))
	return base64.StdEncoding.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString([]byte(salt))
}

type world struct {
	db     *db.DB
	clock  *dbtest.Clock
	ctx    context.Context
	plan   *plan.Service
	svc    *credentials.Service
	p      *plan.Project
	src    *plan.Source
	stored string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	as := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	acct, err := as.CreateAccount(context.Background(), auth.AccountInput{Email: "eng@example.com", Name: "Eli", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: d, clock: clock, ctx: audit.WithActor(context.Background(), audit.Actor{ID: acct.ID, Name: acct.Name})}
	w.plan = plan.NewService(d, as)
	ms := mapping.NewService(d, schema.NewService(d), w.plan)
	st := staging.NewService(d, clock.Now, ms)
	w.svc = credentials.NewService(d, w.plan, st, credentials.Options{Now: clock.Now})
	name, srcName, kind, yes, sha := "Acme", "Shop DB", "database", plan.DecisionYes, "sha512"
	if w.p, err = w.plan.CreateProject(w.ctx, acct.ID, plan.ProjectInput{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if w.src, err = w.plan.CreateSource(w.ctx, w.p.ID, plan.SourceInput{Name: &srcName, Kind: &kind, MigrateCredentials: &yes, PasswordHashFormat: &sha}); err != nil {
		t.Fatal(err)
	}
	value, salt := sha512Postfix(knownPassword, rawSalt)
	w.stored = value
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.WriteAll([][]string{{"customer_no", "email", "pw_digest", "pw_salt"},
		{"C-100", "test.account@example.com", value, salt},
		{"4711", "other@example.com", "", ""},
	})
	r, format, err := staging.OpenReader(&buf, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Stage(w.ctx, w.p.ID, w.src.ID, r, staging.Meta{FileName: "shop.csv", Format: format, KeyAttribute: "customer_no"}, nil); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) save(t *testing.T, version int64, in credentials.Input) *credentials.Settings {
	t.Helper()
	s, err := w.svc.Save(w.ctx, w.p.ID, w.src.ID, version, in)
	if err != nil {
		t.Fatalf("save %+v: %v", in, err)
	}
	return s
}

var goodInput = credentials.Input{Attribute: "pw_digest", SaltAttribute: "pw_salt", Formats: []string{"sha512"}, Default: "sha512",
	SaltEncoding: "base64", SaltOrder: "POSTFIX"}

func TestSettingsAreSavedVersionedAndAudited(t *testing.T) {
	w := newWorld(t)
	if s, err := w.svc.Find(w.ctx, w.p.ID, w.src.ID); err != nil || s != nil {
		t.Fatalf("before saving: %+v, %v", s, err)
	}
	// The inventory's declared sha512 is suggested as the default.
	if s := credentials.Suggest(w.src); s.Default != "sha512" || fmt.Sprint(s.Formats) != "[sha512]" {
		t.Fatalf("suggested %+v", s)
	}
	for inv, want := range map[string]string{"pbkdf2": "", "crypt": "", "ad_nt": "", "unknown": "", "ldap_ssha": "ldap", "bcrypt": "bcrypt"} {
		if got := credentials.DefaultFor(inv); got != want {
			t.Errorf("DefaultFor(%s) = %q, want %q", inv, got, want)
		}
	}
	s := w.save(t, 0, goodInput)
	if s.Version != 1 || s.SaltOrder != "POSTFIX" || s.Attribute != "pw_digest" {
		t.Fatalf("saved %+v", s)
	}
	// Saving again from version 0, or from a stale version, is a conflict
	// that names what differs; nothing changes.
	in := goodInput
	in.SaltEncoding = "text"
	if _, err := w.svc.Save(w.ctx, w.p.ID, w.src.ID, 0, in); !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("create twice: %v", err)
	}
	w.save(t, 1, in)
	_, err := w.svc.Save(w.ctx, w.p.ID, w.src.ID, 1, goodInput)
	ae := apperr.As(err)
	if ae == nil || ae.Code != apperr.CodeConflict || len(ae.Changes) != 1 || ae.Changes[0].Field != "salt_encoding" {
		t.Fatalf("stale save: %+v", ae)
	}
	got, err := w.svc.Find(w.ctx, w.p.ID, w.src.ID)
	if err != nil || got.Version != 2 || got.SaltEncoding != "text" {
		t.Fatalf("after the conflict: %+v, %v", got, err)
	}
	var entries []audit.Entry
	if err := w.db.Read.Where("entity_type = ?", "password_settings").Order("id").Find(&entries).Error; err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Action != audit.ActionCreate || entries[1].Action != audit.ActionUpdate {
		t.Fatalf("audit entries %+v", entries)
	}
	// Another project's source is not found.
	name := "Other"
	other, err := w.plan.CreateProject(w.ctx, 1, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Find(w.ctx, other.ID, w.src.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("find across projects: %v", err)
	}
	if _, err := w.svc.Save(w.ctx, other.ID, w.src.ID, 0, goodInput); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("save across projects: %v", err)
	}
}

func TestHostileOrInconsistentSettingsAreRefusedNextToTheField(t *testing.T) {
	w := newWorld(t)
	with := func(f func(*credentials.Input)) credentials.Input {
		in := goodInput
		in.Formats = append([]string(nil), goodInput.Formats...)
		f(&in)
		return in
	}
	long := strings.Repeat("a", credentials.MaxAttributeLen+1)
	tests := []struct {
		name, field, message string
		in                   credentials.Input
	}{
		{"no attribute", "attribute", "is required", with(func(in *credentials.Input) { in.Attribute = "  " })},
		{"attribute too long", "attribute", "too long", with(func(in *credentials.Input) { in.Attribute = long })},
		{"attribute with a control character", "attribute", "control characters", with(func(in *credentials.Input) { in.Attribute = "pw\x00x" })},
		{"attribute on two lines", "attribute", "single line", with(func(in *credentials.Input) { in.Attribute = "pw\nx" })},
		{"invalid UTF-8", "salt_attribute", "UTF-8", with(func(in *credentials.Input) { in.SaltAttribute = "\xff\xfe" })},
		{"salt from the value's own attribute", "salt_attribute", "another attribute", with(func(in *credentials.Input) { in.SaltAttribute = "PW_DIGEST" })},
		{"unknown format", "formats", "must each be one of", with(func(in *credentials.Input) { in.Formats = []string{"sha512", "<script>rot13</script>"} })},
		{"a format twice", "formats", "listed twice", with(func(in *credentials.Input) { in.Formats = []string{"sha512", "sha512"} })},
		{"unknown default", "default_format", "must be one of", with(func(in *credentials.Input) { in.Default = "des'; DROP TABLE sources;--" })},
		{"default not allowed", "default_format", "among the formats|one of the formats", with(func(in *credentials.Input) { in.Default = "bcrypt" })},
		{"unknown salt encoding", "salt_encoding", "must be one of", with(func(in *credentials.Input) { in.SaltEncoding = "rot13" })},
		{"unknown salt order", "salt_order", "must be one of", with(func(in *credentials.Input) { in.SaltOrder = "MIDDLE" })},
		{"salt without encoding", "salt_encoding", "how the salt", with(func(in *credentials.Input) { in.SaltEncoding = "" })},
		{"salt without order", "salt_order", "before (PREFIX)", with(func(in *credentials.Input) { in.SaltOrder = "" })},
		{"negative iterations", "iterations", "negative", with(func(in *credentials.Input) { in.Iterations = -5 })},
		{"iterations without an iterated digest", "iterations", "only to the iterated-digest", with(func(in *credentials.Input) { in.Iterations = 1000 })},
		{"iterated digest once", "iterations", "at least 2", with(func(in *credentials.Input) { in.Formats = []string{"iterated-digest"}; in.Default = "" })},
		{"absurd iterations", "iterations", "at most", with(func(in *credentials.Input) {
			in.Formats = []string{"iterated-digest"}
			in.Default, in.Iterations = "", 1<<40
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.svc.Save(w.ctx, w.p.ID, w.src.ID, 0, tt.in)
			ae := apperr.As(err)
			if ae == nil || ae.Code != apperr.CodeInvalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			msg := ae.Fields[tt.field]
			ok := false
			for _, want := range strings.Split(tt.message, "|") {
				ok = ok || strings.Contains(msg, want)
			}
			if !ok {
				t.Fatalf("fields %v: want %q on %s", ae.Fields, tt.message, tt.field)
			}
			for _, hostile := range []string{"<script>", "DROP TABLE", "rot13</"} {
				if strings.Contains(msg, hostile) {
					t.Errorf("the message %q repeats the hostile input", msg)
				}
			}
		})
	}
	if s, err := w.svc.Find(w.ctx, w.p.ID, w.src.ID); err != nil || s != nil {
		t.Fatalf("refused settings were saved: %+v, %v", s, err)
	}
	// An iterated digest with its count is fine.
	in := goodInput
	in.Formats, in.Default, in.Iterations = []string{"iterated-digest", "sha512"}, "iterated-digest", 1000
	w.save(t, 0, in)
}

func TestProveTellsRightFromWrongAndFindsTheSaltSettingThatWorks(t *testing.T) {
	w := newWorld(t)
	s := w.save(t, 0, goodInput)

	out, err := w.svc.Prove(w.ctx, w.p.ID, w.src.ID, "c-100", knownPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Proven || !out.Legacy || !out.Okta || out.Format != "sha512" || out.Way != "import" || out.Position != 2 {
		t.Fatalf("right password: %+v", out)
	}
	// By line, with the wrong password.
	out, err = w.svc.Prove(w.ctx, w.p.ID, w.src.ID, "2", knownPassword+"!")
	if err != nil {
		t.Fatal(err)
	}
	if out.Proven || out.Legacy || len(out.Fits) != 0 || !strings.Contains(out.Message, "Not proven") {
		t.Fatalf("wrong password: %+v", out)
	}
	// The salt read as text: not proven, and Prove names the setting that works.
	in := goodInput
	in.SaltEncoding = "text"
	w.save(t, s.Version, in)
	out, err = w.svc.Prove(w.ctx, w.p.ID, w.src.ID, "C-100", knownPassword)
	if err != nil {
		t.Fatal(err)
	}
	if out.Proven || len(out.Fits) != 1 || out.Fits[0] != (credentials.Fit{SaltEncoding: "base64", SaltOrder: "POSTFIX"}) ||
		!strings.Contains(out.Message, "salt encoding base64 with salt order POSTFIX") {
		t.Fatalf("wrong salt encoding: %+v", out)
	}
	// A record without a value, an unknown record, no password.
	out, err = w.svc.Prove(w.ctx, w.p.ID, w.src.ID, "4711", knownPassword)
	if err != nil || out.Proven || !strings.Contains(out.Message, "no value in pw_digest") {
		t.Fatalf("record without a value: %+v, %v", out, err)
	}
	if _, err := w.svc.Prove(w.ctx, w.p.ID, w.src.ID, "nobody", knownPassword); apperr.As(err) == nil || apperr.As(err).Fields["record"] == "" {
		t.Fatalf("unknown record: %v", err)
	}
	if _, err := w.svc.Prove(w.ctx, w.p.ID, w.src.ID, "C-100", ""); apperr.As(err) == nil || apperr.As(err).Fields["password"] == "" {
		t.Fatalf("no password: %v", err)
	}

	// The password is nowhere in the database; the audit log has each
	// outcome, and never the stored value either.
	for table, text := range dumpTables(t, w.db) {
		if strings.Contains(text, knownPassword) {
			t.Errorf("table %s holds the known password", table)
		}
		if table == "audit_entries" && strings.Contains(text, w.stored) {
			t.Errorf("the audit log holds the stored hash: %.2000s", text)
		}
	}
	var proofs []audit.Entry
	if err := w.db.Read.Where("action = ?", credentials.ActionProve).Order("id").Find(&proofs).Error; err != nil {
		t.Fatal(err)
	}
	// Four proofs reached a record (the unknown record and the empty
	// password did not).
	if len(proofs) != 4 || !strings.Contains(proofs[0].EntityLabel, "proven with the record on line 2") ||
		!strings.Contains(proofs[1].EntityLabel, "not proven") || !strings.Contains(proofs[0].AfterJSON, `"proven":true`) {
		t.Fatalf("proof audit entries: %+v", proofs)
	}
}

func TestProofsAreThrottledPerProject(t *testing.T) {
	w := newWorld(t)
	w.save(t, 0, goodInput)
	for i := range 10 {
		if _, err := w.svc.Prove(w.ctx, w.p.ID, w.src.ID, "C-100", fmt.Sprintf("guess %d", i)); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	_, err := w.svc.Prove(w.ctx, w.p.ID, w.src.ID, "C-100", knownPassword)
	var te *credentials.ThrottledError
	if !errors.As(err, &te) || te.RetryAfter <= 0 || te.RetryAfter > time.Minute || !strings.Contains(err.Error(), "Too many") {
		t.Fatalf("11th attempt: %v", err)
	}
	w.clock.Advance(61 * time.Second)
	if out, err := w.svc.Prove(w.ctx, w.p.ID, w.src.ID, "C-100", knownPassword); err != nil || !out.Proven {
		t.Fatalf("a minute later: %+v, %v", out, err)
	}
}

func TestProveNeedsSavedSettings(t *testing.T) {
	w := newWorld(t)
	if _, err := w.svc.Prove(w.ctx, w.p.ID, w.src.ID, "C-100", knownPassword); !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("prove without settings: %v", err)
	}
}

// dumpTables renders every row of every table as text.
func dumpTables(t *testing.T, d *db.DB) map[string]string {
	t.Helper()
	var tables []string
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if d.Dialect == db.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	if err := d.Read.Raw(q).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, table := range tables {
		var rows []map[string]any
		if err := d.Read.Table(table).Find(&rows).Error; err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		var b strings.Builder
		for _, r := range rows {
			for _, v := range r {
				switch x := v.(type) {
				case []byte:
					b.Write(x)
				default:
					fmt.Fprint(&b, x)
				}
				b.WriteByte('\t')
			}
		}
		out[table] = b.String()
	}
	return out
}
