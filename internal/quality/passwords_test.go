package quality_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// sshaValue is an LDAP {SSHA}: base64(SHA-1(password‖salt)‖salt).
func sshaValue(password, salt string) string {
	sum := sha1.Sum([]byte(password + salt))
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(sum[:], salt...))
}

func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

// stageCSV stages rows (the first is the header) as a real CSV extract of src.
func (w *world) stageCSV(t *testing.T, src *plan.Source, rows [][]string) *staging.Extract {
	t.Helper()
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	if err := cw.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	r, format, err := staging.OpenReader(&buf, "")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := w.staging.Stage(w.ctx, w.p.ID, src.ID, r, staging.Meta{FileName: "passwords.csv", Format: format}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

// mapProfile maps each source's mail, givenName and sn, so that only
// password issues remain.
func (w *world) mapProfile(t *testing.T, sources ...*plan.Source) {
	t.Helper()
	targets := map[string][]string{"mail": {"login", "email"}, "givenName": {"firstName"}, "sn": {"lastName"}}
	for _, src := range sources {
		fields, err := w.mapping.FindFields(w.ctx, w.p.ID, src.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			for _, target := range targets[f.Name] {
				id, tgt := f.ID, target
				if _, err := w.mapping.CreateRow(w.ctx, w.p.ID, mapping.RowInput{SourceFieldID: &id, TargetAttribute: &tgt}); err != nil {
					t.Fatalf("map %s → %s: %v", f.Name, target, err)
				}
			}
		}
	}
}

func TestValidationJudgesStoredPasswordsPerFormatWithoutVerifyingOrShowingThem(t *testing.T) {
	w := newWorld(t)
	ps := plan.NewService(w.db, nil)
	creds := credentials.NewService(w.db, ps, w.staging, credentials.Options{})
	w.quality.WithPasswords(creds)
	yes, format := plan.DecisionYes, "ldap_ssha"
	if _, err := ps.UpdateSource(w.ctx, w.p.ID, w.src.ID, w.src.Version, plan.SourceInput{MigrateCredentials: &yes, PasswordHashFormat: &format}); err != nil {
		t.Fatal(err)
	}
	name, kind := "Old portal", "database"
	other, err := ps.CreateSource(w.ctx, w.p.ID, plan.SourceInput{Name: &name, Kind: &kind, MigrateCredentials: &yes})
	if err != nil {
		t.Fatal(err)
	}

	bc4, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	// Cost 31: one verification would take days, so the test only ends if
	// validation never verifies (and Okta's hook could not wait: a reset).
	bc31 := strings.Replace(string(bc4), "$04$", "$31$", 1)
	argonID := "$argon2id$v=19$m=65536,t=3,p=4$" + randomB64(16) + "$" + randomB64(32)
	argonD := "$argon2d$v=19$m=65536,t=3,p=4$" + randomB64(16) + "$" + randomB64(32)
	scrypt := "$scrypt$ln=14,r=8,p=1$" + randomB64(16) + "$" + randomB64(32)
	values := map[string]string{
		"ssha": sshaValue("s3cret", "NaCl4you"), "bcrypt4": string(bc4), "bcrypt31": bc31, "argon2id": argonID, "argon2d": argonD,
		"malformed": "$2b$10$" + "abcdefghijklmnopqrstuv" + "tooShort", "scrypt": scrypt,
	}
	rows := [][]string{{"uid", "mail", "givenName", "sn", "userPassword"},
		{"u1", "ann@example.com", "Ann", "One", values["ssha"]},
		{"u2", "bob@example.com", "Bob", "Two", values["bcrypt4"]},
		{"u3", "cid@example.com", "Cid", "Three", values["bcrypt31"]},
		{"u4", "dee@example.com", "Dee", "Four", values["argon2id"]},
		{"u5", "eve@example.com", "Eve", "Five", values["argon2d"]},
		{"u6", "fay@example.com", "Fay", "Six", values["malformed"]},
		{"u7", "gus@example.com", "Gus", "Seven", ""},
		{"u8", "hal@example.com", "Hal", "Eight", values["scrypt"]},
	}
	w.stageCSV(t, w.src, rows)
	w.stageCSV(t, other, [][]string{{"uid", "mail", "givenName", "sn", "pwd"}, {"p1", "ivy@example.com", "Ivy", "Nine", values["ssha"]}})
	w.mapProfile(t, w.src, other)

	// The inventory's ldap_ssha is the suggested default.
	if s := credentials.Suggest(mustSource(t, ps, w, w.src.ID)); s.Default != "ldap" {
		t.Fatalf("suggested default %q, want ldap", s.Default)
	}
	if _, err := creds.Save(w.ctx, w.p.ID, w.src.ID, 0, credentials.Input{Attribute: "userPassword",
		Formats: []string{"ldap", "bcrypt", "argon2"}, Default: "ldap"}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	run, err := w.quality.Validate(w.ctx, w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("validation took %v: something verified a password", d)
	}
	wantCodes := map[string]int64{
		quality.IssueCredentialMissing: 1, quality.IssueCredentialMalformed: 1, quality.IssueCredentialNotAllowed: 1,
		quality.IssueCredentialNeedsHook: 1, quality.IssueCredentialNeedsReset: 2, quality.IssueCredentialFormatDisagrees: 4,
	}
	for code, n := range wantCodes {
		if got := run.Counts.ByCode[code]; got != n {
			t.Errorf("%s: %d occurrences, want %d", code, got, n)
		}
	}
	if len(run.Counts.ByCode) != len(wantCodes) {
		t.Errorf("issue types %v, want only the password ones %v", run.Counts.ByCode, wantCodes)
	}
	// Only malformed and not-allowed values block their record.
	if run.Records != 9 || run.Invalid != 2 || run.Valid != 7 {
		t.Errorf("records %d, invalid %d, valid %d; want 9, 2, 7", run.Records, run.Invalid, run.Valid)
	}
	wantFormats := map[string]int64{"ldap": 1, "bcrypt": 3, "argon2": 2, "scrypt": 1}
	if !sameCounts(run.Counts.ByFormat, wantFormats) {
		t.Errorf("byFormat %v, want %v", run.Counts.ByFormat, wantFormats)
	}
	pc := run.Counts.Passwords[w.src.ID]
	wantWays := map[string]int64{"import": 2, "hook": 1, "reset": 2, "missing": 1, "malformed": 1, "not_allowed": 1}
	if pc == nil || pc.Unconfigured || !sameCounts(pc.ByWay, wantWays) || !sameCounts(pc.ByFormat, wantFormats) {
		t.Errorf("passwords of %s = %+v, want ways %v", w.src.Name, pc, wantWays)
	}
	// The source without settings: one note, no occurrence.
	if oc := run.Counts.Passwords[other.ID]; oc == nil || !oc.Unconfigured || len(oc.ByWay) != 0 {
		t.Errorf("passwords of %s = %+v, want the unconfigured note", other.Name, oc)
	}
	if run.Counts.BySource[other.ID] != 0 {
		t.Errorf("%s has %d occurrences, want none", other.Name, run.Counts.BySource[other.ID])
	}

	occ, err := w.quality.FindOccurrences(w.ctx, quality.OccurrenceFilter{RunID: run.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string][]int64{}
	for _, o := range occ {
		lines[o.Code] = append(lines[o.Code], o.Position)
		if o.Value != "" || o.Attribute != "" {
			t.Errorf("occurrence %s on line %d holds value %q, attribute %q: want both empty", o.Code, o.Position, o.Value, o.Attribute)
		}
		if o.Severity != quality.TypeOf(o.Code).Severity {
			t.Errorf("%s has severity %s, the catalog says %s", o.Code, o.Severity, quality.TypeOf(o.Code).Severity)
		}
		for name, v := range values {
			if tail := v[len(v)-8:]; strings.Contains(o.Message, tail) {
				t.Errorf("%s message %q quotes the %s value", o.Code, o.Message, name)
			}
		}
	}
	// Lines: the header is line 1.
	for code, want := range map[string]string{
		quality.IssueCredentialMalformed: "[7]", quality.IssueCredentialMissing: "[8]", quality.IssueCredentialNotAllowed: "[9]",
		quality.IssueCredentialNeedsHook: "[5]", quality.IssueCredentialNeedsReset: "[4 6]", quality.IssueCredentialFormatDisagrees: "[3 4 5 6]",
	} {
		if got := fmtInts(lines[code]); got != want {
			t.Errorf("%s on lines %s, want %s", code, got, want)
		}
	}
	// The severities are the catalog's.
	for code, sev := range map[string]string{
		quality.IssueCredentialMalformed: quality.SeverityBlocking, quality.IssueCredentialNotAllowed: quality.SeverityBlocking,
		quality.IssueCredentialMissing: quality.SeverityWarning, quality.IssueCredentialNeedsHook: quality.SeverityWarning,
		quality.IssueCredentialNeedsReset: quality.SeverityWarning, quality.IssueCredentialFormatDisagrees: quality.SeverityWarning,
	} {
		if got := quality.TypeOf(code).Severity; got != sev {
			t.Errorf("%s severity %s, want %s", code, got, sev)
		}
	}
	// The stored run keeps the counts (a JSON column).
	runs, err := w.quality.LatestRuns(w.ctx, w.p.ID, 1)
	if err != nil || len(runs) != 1 || !sameCounts(runs[0].Counts.ByFormat, wantFormats) || runs[0].Counts.Passwords[other.ID] == nil {
		t.Fatalf("stored run counts = %+v (%v)", runs, err)
	}
}

func TestSourcesThatKeepTheirPasswordsAreNotChecked(t *testing.T) {
	w := newWorld(t)
	ps := plan.NewService(w.db, nil)
	creds := credentials.NewService(w.db, ps, w.staging, credentials.Options{})
	w.quality.WithPasswords(creds)
	w.stageCSV(t, w.src, [][]string{{"uid", "mail", "givenName", "sn", "userPassword"}, {"u1", "ann@example.com", "Ann", "One", "garbage"}})
	w.mapProfile(t, w.src)
	// Settings saved, but the source does not migrate credentials.
	if _, err := creds.Save(w.ctx, w.p.ID, w.src.ID, 0, credentials.Input{Attribute: "userPassword", Formats: []string{"bcrypt"}}); err != nil {
		t.Fatal(err)
	}
	run, err := w.quality.Validate(w.ctx, w.p.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if run.Occurrences != 0 || len(run.Counts.ByFormat) != 0 || len(run.Counts.Passwords) != 0 {
		t.Fatalf("run = %d occurrences, counts %+v; want no password checks", run.Occurrences, run.Counts)
	}
}

func mustSource(t *testing.T, ps *plan.Service, w *world, id int64) *plan.Source {
	t.Helper()
	src, err := ps.FindSourceByID(w.ctx, w.p.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func sameCounts(got, want map[string]int64) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func fmtInts(xs []int64) string { return fmt.Sprint(xs) }
