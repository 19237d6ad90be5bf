package orgs_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/secrets"
)

// token is what Okta API tokens look like: 42 characters starting with 00.
const token = "00aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789-_wx"

type fixture struct {
	db      *db.DB
	clock   *dbtest.Clock
	orgs    *orgs.Service
	plan    *plan.Service
	project *plan.Project
	ctx     context.Context
}

func mustSealer(t testing.TB, b byte) *secrets.Sealer {
	t.Helper()
	s, err := secrets.New(bytes.Repeat([]byte{b}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	as := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	lead, err := as.CreateAccount(context.Background(), auth.AccountInput{Email: "lea@example.com", Name: "Lea Lead", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: lead.ID, Name: lead.Name})
	ps := plan.NewService(d, as)
	name := "Acme"
	p, err := ps.CreateProject(ctx, lead.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: d, clock: clock, orgs: orgs.NewService(d, mustSealer(t, 7), clock.Now), plan: ps, project: p, ctx: ctx}
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) mustSave(t *testing.T, version int64, in orgs.Input) *orgs.Connection {
	t.Helper()
	c, err := f.orgs.Save(f.ctx, f.project.ID, version, in)
	if err != nil {
		t.Fatalf("save %+v: %v", in.OrgURL, err)
	}
	return c
}

func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	if !apperr.Is(err, apperr.CodeInvalid) {
		t.Fatalf("error = %v, want invalid", err)
	}
	return apperr.As(err).Fields
}

// rawRows returns every value of every row of a table as text, for
// searching the database for something that must not be there.
func rawRows(t *testing.T, d *db.DB, table string) string {
	t.Helper()
	rows, err := d.Read.Raw("SELECT * FROM " + table).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%v\t", v)
		}
		b.WriteString("\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestNoConnectionIsNilNotAnError(t *testing.T) {
	f := newFixture(t)
	c, err := f.orgs.Find(f.ctx, f.project.ID)
	if err != nil || c != nil {
		t.Fatalf("Find = %+v, %v; want nil, nil", c, err)
	}
	if _, err := f.orgs.Token(f.ctx, f.project.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("Token without a connection: %v, want not found", err)
	}
	if err := f.orgs.Clear(f.ctx, f.project.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("Clear without a connection: %v, want not found", err)
	}
}

func TestTheTokenIsSealedAtRestAndOpensForOktaCalls(t *testing.T) {
	f := newFixture(t)
	c := f.mustSave(t, 0, orgs.Input{OrgURL: "https://Acme.Okta.com/", AuthScheme: orgs.SchemeSSWS, Token: ptr("  " + token + "\n")})
	if c.OrgURL != "https://acme.okta.com" || c.AuthScheme != "ssws" || c.TokenHint != token[len(token)-4:] || !c.TokenSet() || c.Version != 1 || c.Sandbox {
		t.Fatalf("saved %+v", c)
	}
	raw := rawRows(t, f.db, "okta_orgs")
	if strings.Contains(raw, token) || strings.Contains(raw, token[:20]) || strings.Contains(raw, token[20:]) {
		t.Fatalf("the token is in the database in clear: %s", raw)
	}
	var sealed string
	if err := f.db.Read.Raw("SELECT token_sealed FROM okta_orgs WHERE project_id = ?", f.project.ID).Scan(&sealed).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, "ferry-sealed-v1:") {
		t.Fatalf("token_sealed = %q, want a sealed value", sealed)
	}
	got, err := f.orgs.Token(f.ctx, f.project.ID)
	if err != nil || got != token {
		t.Fatalf("Token = %q, %v (surrounding spaces trimmed, nothing else)", got, err)
	}
	// The JSON of a connection never carries the sealed value.
	found, _ := f.orgs.Find(f.ctx, f.project.ID)
	if found.TokenSealed == "" {
		t.Fatal("Find lost the sealed token")
	}
}

func TestAWrongKeyGivesAClearErrorAndANewTokenRepairsIt(t *testing.T) {
	f := newFixture(t)
	c := f.mustSave(t, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr(token)})
	other := orgs.NewService(f.db, mustSealer(t, 8), f.clock.Now)
	_, err := other.Token(f.ctx, f.project.ID)
	ae := apperr.As(err)
	if ae.Code != apperr.CodeConflict || !strings.Contains(ae.Message, "another secret key") || !strings.Contains(ae.Message, "FERRY_SECRET_KEY") {
		t.Fatalf("wrong key: %v, want a conflict naming the key", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Fatal("the error shows the token")
	}
	// The URL can still be changed under the wrong key (the token is kept
	// sealed as it was) and a new token replaces the unreadable one.
	c, err = other.Save(f.ctx, f.project.ID, c.Version, orgs.Input{OrgURL: "https://acme.oktapreview.com", AuthScheme: orgs.SchemeSSWS})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Token(f.ctx, f.project.ID); !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("token still under the old key: %v", err)
	}
	if _, err := other.Save(f.ctx, f.project.ID, c.Version, orgs.Input{OrgURL: c.OrgURL, AuthScheme: orgs.SchemeSSWS, Token: ptr("00newtoken-0123456789")}); err != nil {
		t.Fatal(err)
	}
	if got, err := other.Token(f.ctx, f.project.ID); err != nil || got != "00newtoken-0123456789" {
		t.Fatalf("after a new token: %q, %v", got, err)
	}
	// A damaged value is refused with a message of its own.
	if err := f.db.Write.Exec("UPDATE okta_orgs SET token_sealed = 'garbage'").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := other.Token(f.ctx, f.project.ID); !apperr.Is(err, apperr.CodeConflict) || !strings.Contains(apperr.As(err).Message, "damaged") {
		t.Fatalf("damaged token: %v", err)
	}
}

func TestEveryOrgURLRule(t *testing.T) {
	tests := []struct {
		name, url string
		want      string // the normalised URL, or a part of the field message
		ok        bool
	}{
		{"an Okta org", "https://acme.okta.com", "https://acme.okta.com", true},
		{"trailing slash and capitals normalised", " HTTPS://Acme.OktaPreview.com/ ", "https://acme.oktapreview.com", true},
		{"a custom domain with a port", "https://login.acme.example:8443", "https://login.acme.example:8443", true},
		{"the sandbox on localhost", "http://localhost:8089", "http://localhost:8089", true},
		{"the sandbox on 127.0.0.1", "http://127.0.0.1:8089/", "http://127.0.0.1:8089", true},
		{"the sandbox on ::1", "http://[::1]:8089", "http://[::1]:8089", true},
		{"empty", "", "is required", false},
		{"blank", "   ", "is required", false},
		{"no scheme", "acme.okta.com", "starting with https://", false},
		{"javascript", "javascript:alert(1)", "starting with https://", false},
		{"javascript with slashes", "javascript://acme.okta.com/%0aalert(1)", "must start with https://", false},
		{"data URL", "data:text/html,<script>alert(1)</script>", "starting with https://", false},
		{"ftp", "ftp://acme.okta.com", "must start with https://", false},
		{"http on a public host", "http://acme.okta.com", "plain http:// is only for Ferry's sandbox", false},
		{"http on a private address", "http://10.0.0.5:8089", "plain http:// is only for Ferry's sandbox", false},
		{"http on a host named like localhost", "http://localhost.evil.example", "plain http:// is only for Ferry's sandbox", false},
		{"the admin console", "https://acme-admin.okta.com", "https://acme.okta.com", false},
		{"the admin console of a preview org", "https://dev-123-admin.oktapreview.com/admin/dashboard", "without a path", false},
		{"the admin console, address only", "https://dev-123-admin.oktapreview.com", "Use the org URL, without -admin: https://dev-123.oktapreview.com", false},
		{"user and password", "https://admin:hunter2@acme.okta.com", "user name or password", false},
		{"user only", "https://admin@acme.okta.com", "user name or password", false},
		{"a path", "https://acme.okta.com/api/v1", "without a path", false},
		{"a query", "https://acme.okta.com?x=1", "without a path, ? or #", false},
		{"an empty query", "https://acme.okta.com?", "without a path, ? or #", false},
		{"a fragment", "https://acme.okta.com#top", "without a path, ? or #", false},
		{"an empty fragment", "https://acme.okta.com/#", "without a path, ? or #", false},
		{"spaces inside", "https://acme .okta.com", "spaces", false},
		{"a backslash", `https://acme.okta.com\@evil.example`, "backslashes", false},
		{"a line break", "https://acme.okta.com\n.evil.example", "line breaks", false},
		{"a NUL", "https://acme.okta.com\x00", "control characters", false},
		{"a unicode host", "https://acmé.okta.com", "not valid", false},
		{"a homoglyph host", "https://аcme.okta.com", "not valid", false}, // Cyrillic а
		{"an empty label", "https://acme..okta.com", "not valid", false},
		{"a port out of range", "https://acme.okta.com:99999", "", false},
		{"an empty port", "https://acme.okta.com:", "empty port", false},
		{"no host", "https://", "", false},
		{"overlong", "https://" + strings.Repeat("a", 600) + ".okta.com", "too long", false},
		{"invalid UTF-8", "https://acme\xff.okta.com", "UTF-8", false},
		{"markup", `https://acme.okta.com"><script>alert(1)</script>`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			c, err := f.orgs.Save(f.ctx, f.project.ID, 0, orgs.Input{OrgURL: tt.url, AuthScheme: orgs.SchemeSSWS, Token: ptr(token)})
			if tt.ok {
				if err != nil || c.OrgURL != tt.want {
					t.Fatalf("Save(%q) = %+v, %v; want %q", tt.url, c, err, tt.want)
				}
				return
			}
			msg := fieldsOf(t, err)["url"]
			if msg == "" || !strings.Contains(msg, tt.want) {
				t.Fatalf("Save(%q): url message %q, want it to contain %q", tt.url, msg, tt.want)
			}
			if n := countRows(t, f.db, "okta_orgs"); n != 0 {
				t.Fatalf("a refused save wrote %d row(s)", n)
			}
		})
	}
}

func countRows(t *testing.T, d *db.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := d.Read.Raw("SELECT COUNT(*) FROM " + table).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEveryTokenAndSchemeRule(t *testing.T) {
	tests := []struct {
		name   string
		scheme string
		token  *string
		field  string
		want   string // part of the message; "" means accepted
	}{
		{"an API token", "ssws", ptr(token), "", ""},
		{"an OAuth access token (a JWT)", "bearer", ptr("eyJ" + strings.Repeat("a", 900) + ".eyJ" + strings.Repeat("b", 300) + ".sig"), "", ""},
		{"ten characters", "ssws", ptr("0123456789"), "", ""},
		{"two hundred characters", "ssws", ptr(strings.Repeat("x", 200)), "", ""},
		{"no token on a new connection", "ssws", nil, "token", "Enter the token"},
		{"an empty token", "ssws", ptr(""), "token", "must not be empty"},
		{"a blank token", "ssws", ptr("   "), "token", "must not be empty"},
		{"nine characters", "ssws", ptr("012345678"), "token", "too short"},
		{"201 characters", "ssws", ptr(strings.Repeat("x", 201)), "token", "at most 200"},
		{"10 KB", "ssws", ptr(strings.Repeat("x", 10240)), "token", "at most 200 characters, this has 10240"},
		{"10 KB as a bearer token", "bearer", ptr(strings.Repeat("x", 10240)), "token", "at most 4096"},
		{"a space inside", "ssws", ptr("00abc def0123456"), "token", "only letters, digits"},
		{"a tab inside", "ssws", ptr("00abc\tdef0123456"), "token", "only letters, digits"},
		{"a line break inside", "ssws", ptr("00abc\ndef0123456"), "token", "only letters, digits"},
		{"a NUL", "ssws", ptr("00abcdef\x000123456"), "token", "only letters, digits"},
		{"an escape sequence", "ssws", ptr("00abc\x1b[31mdef0123456"), "token", "only letters, digits"},
		{"DEL", "ssws", ptr("00abcdef\x7f0123456"), "token", "only letters, digits"},
		{"unicode", "ssws", ptr("00abcdéf0123456789"), "token", "only letters, digits"},
		{"a zero-width space", "ssws", ptr("00abcdef\u200b0123456789"), "token", "only letters, digits"},
		{"invalid UTF-8", "ssws", ptr("00abcdef\xff0123456789"), "token", "only letters, digits"},
		{"every character a bearer token may hold", "bearer", ptr("aZ09-._~+/=="), "", ""},
		{"markup", "ssws", ptr(`00"><script>alert(1)</script>`), "token", "only letters, digits"},
		{"quotes", "ssws", ptr(`00abc'def"0123456`), "token", "only letters, digits"},
		{"a header injection", "ssws", ptr("00abcdef0123\r\nX-Evil: 1"), "token", "only letters, digits"},
		{"no scheme", "", ptr(token), "auth_scheme", "must be one of"},
		{"an unknown scheme", "basic", ptr(token), "auth_scheme", "must be one of"},
		{"a scheme in capitals", "SSWS", ptr(token), "auth_scheme", "must be one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			_, err := f.orgs.Save(f.ctx, f.project.ID, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: tt.scheme, Token: tt.token})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			fields := fieldsOf(t, err)
			if !strings.Contains(fields[tt.field], tt.want) {
				t.Fatalf("%s message %q, want it to contain %q (all: %v)", tt.field, fields[tt.field], tt.want, fields)
			}
			if tt.token != nil && len(*tt.token) > 4 {
				for _, msg := range fields {
					if strings.Contains(msg, strings.TrimSpace(*tt.token)) {
						t.Fatalf("a message quotes the token: %q", msg)
					}
				}
			}
		})
	}
}

func TestSavesAreVersionedAndConflictsNeverShowTheToken(t *testing.T) {
	f := newFixture(t)
	c := f.mustSave(t, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr(token)})
	// Creating again (version 0) when someone created it meanwhile.
	_, err := f.orgs.Save(f.ctx, f.project.ID, 0, orgs.Input{OrgURL: "https://other.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr("00another-token-12345")})
	if ae := apperr.As(err); ae.Code != apperr.CodeConflict || ae.CurrentVersion != 1 {
		t.Fatalf("create over an existing connection: %v", err)
	}
	// A partial update: nil keeps the saved token.
	c2 := f.mustSave(t, 1, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeBearer})
	if c2.Version != 2 || c2.AuthScheme != "bearer" || c2.TokenHint != c.TokenHint {
		t.Fatalf("after update: %+v", c2)
	}
	if got, _ := f.orgs.Token(f.ctx, f.project.ID); got != token {
		t.Fatal("a save without a token lost the saved token")
	}
	// A stale save: nothing written, the changes named, the token not shown.
	newToken := "00stale-token-0123456789"
	_, err = f.orgs.Save(f.ctx, f.project.ID, 1, orgs.Input{OrgURL: "https://acme2.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr(newToken)})
	ae := apperr.As(err)
	if ae.Code != apperr.CodeConflict || ae.CurrentVersion != 2 || len(ae.Changes) != 3 {
		t.Fatalf("stale save: %v %+v", err, ae.Changes)
	}
	for _, ch := range ae.Changes {
		if strings.Contains(ch.Stored+ch.Yours, newToken) || strings.Contains(ch.Stored+ch.Yours, token) {
			t.Fatalf("the conflict shows a token: %+v", ch)
		}
	}
	if got, _ := f.orgs.Find(f.ctx, f.project.ID); got.Version != 2 || got.OrgURL != "https://acme.okta.com" {
		t.Fatalf("a stale save changed the connection: %+v", got)
	}
	// Removed while being edited.
	if err := f.orgs.Clear(f.ctx, f.project.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.orgs.Save(f.ctx, f.project.ID, 2, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS})
	if ae := apperr.As(err); ae.Code != apperr.CodeConflict || !strings.Contains(ae.Message, "removed") {
		t.Fatalf("save after removal: %v", err)
	}
	// An invalid save on a stale version reports the conflict first, as other forms do.
	f.mustSave(t, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr(token)})
	if _, err := f.orgs.Save(f.ctx, f.project.ID, 7, orgs.Input{OrgURL: "javascript:alert(1)", AuthScheme: "x"}); !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("stale and invalid: %v", err)
	}
	// The project must exist.
	if _, err := f.orgs.Save(f.ctx, 999999, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr(token)}); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("unknown project: %v", err)
	}
}

func TestTheCheckIsRememberedAndForgottenWhenTheConnectionChanges(t *testing.T) {
	f := newFixture(t)
	c := f.mustSave(t, 0, orgs.Input{OrgURL: "http://127.0.0.1:8089", AuthScheme: orgs.SchemeSSWS, Token: ptr(token)})
	f.clock.Advance(time.Minute)
	checked, err := f.orgs.RecordCheck(f.ctx, f.project.ID, c.Version, true, true, "Connected to Ferry's sandbox.\n\x1b[31m")
	if err != nil {
		t.Fatal(err)
	}
	if !checked.Sandbox || !checked.CheckOK || checked.CheckedAt == nil || !checked.CheckedAt.Equal(f.clock.Now()) ||
		checked.CheckMessage != "Connected to Ferry's sandbox. [31m" || checked.Version != c.Version {
		t.Fatalf("after a sandbox check: %+v", checked)
	}
	// Saving the same URL, scheme and token keeps the check.
	c = f.mustSave(t, c.Version, orgs.Input{OrgURL: "http://127.0.0.1:8089/", AuthScheme: orgs.SchemeSSWS, Token: ptr(token)})
	if !c.Sandbox || !c.CheckOK {
		t.Fatalf("an unchanged save forgot the check: %+v", c)
	}
	// A new token, a new URL or a new scheme forgets it.
	for _, in := range []orgs.Input{
		{OrgURL: "http://127.0.0.1:8089", AuthScheme: orgs.SchemeSSWS, Token: ptr("00other-token-0123456789")},
		{OrgURL: "http://localhost:8089", AuthScheme: orgs.SchemeSSWS},
		{OrgURL: "http://localhost:8089", AuthScheme: orgs.SchemeBearer},
	} {
		if _, err := f.orgs.RecordCheck(f.ctx, f.project.ID, c.Version, true, true, "sandbox"); err != nil {
			t.Fatal(err)
		}
		c = f.mustSave(t, c.Version, in)
		if c.Sandbox || c.CheckOK || c.CheckedAt != nil || c.CheckMessage != "" {
			t.Fatalf("saving %+v kept the check: %+v", in, c)
		}
	}
	// A failed check never marks the sandbox.
	failed, err := f.orgs.RecordCheck(f.ctx, f.project.ID, c.Version, false, true, "401 Invalid token provided")
	if err != nil || failed.Sandbox || failed.CheckOK || failed.CheckMessage != "401 Invalid token provided" {
		t.Fatalf("failed check: %+v, %v", failed, err)
	}
	// A check of a connection that changed since it started is refused.
	if _, err := f.orgs.RecordCheck(f.ctx, f.project.ID, c.Version-1, true, true, "sandbox"); !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("stale check: %v", err)
	}
	if got, _ := f.orgs.Find(f.ctx, f.project.ID); got.Sandbox {
		t.Fatal("a stale check marked the sandbox")
	}
	// A long message is cut; a message quoting the token does not store it.
	got, err := f.orgs.RecordCheck(f.ctx, f.project.ID, c.Version, false, false, "bad token 00other-token-0123456789 "+strings.Repeat("é", 1000))
	if err != nil || strings.Contains(got.CheckMessage, "00other-token") || len([]rune(got.CheckMessage)) != orgs.MaxCheckMessageLen {
		t.Fatalf("message %q, %v", got.CheckMessage, err)
	}
}

func TestTheAuditLogNeverHoldsTheToken(t *testing.T) {
	f := newFixture(t)
	second := "00second-token-abcdefghij"
	c := f.mustSave(t, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr(token)})
	c = f.mustSave(t, c.Version, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr(second)})
	if _, err := f.orgs.RecordCheck(f.ctx, f.project.ID, c.Version, false, false, "Okta refused "+second); err != nil {
		t.Fatal(err)
	}
	// Refused saves write nothing, the typed token included.
	_, _ = f.orgs.Save(f.ctx, f.project.ID, c.Version, orgs.Input{OrgURL: "http://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr("00refused-token-abcdefgh")})
	_, _ = f.orgs.Save(f.ctx, f.project.ID, 99, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr("00stale-tokenxx-abcdefgh")})
	if err := f.orgs.Clear(f.ctx, f.project.ID); err != nil {
		t.Fatal(err)
	}
	log := rawRows(t, f.db, "audit_entries")
	for _, secret := range []string{token, second, "00refused-token", "00stale-tokenxx", "ferry-sealed-v1"} {
		if strings.Contains(log, secret) {
			t.Fatalf("the audit log holds %q:\n%s", secret, log)
		}
	}
	entries, _, err := audit.NewReader(f.db.Read).FindEntries(f.ctx, audit.Filter{ProjectID: f.project.ID, EntityType: "okta_org"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		if e.ActorName != "Lea Lead" || e.EntityID != f.project.ID {
			t.Errorf("entry %+v", e)
		}
	}
	if got := strings.Join(actions, ","); got != "delete,update,update,create" {
		t.Fatalf("actions (newest first) = %s", got)
	}
	var tokenDiff string
	for _, d := range entries[2].Diff() {
		if d.Field == "token" {
			tokenDiff = d.Before + " → " + d.After
		}
	}
	if tokenDiff != "saved, ending in …"+token[len(token)-4:]+" → changed, now ending in …"+second[len(second)-4:] {
		t.Fatalf("the token change reads %q", tokenDiff)
	}
}

func TestDeletingTheProjectDeletesItsConnection(t *testing.T) {
	f := newFixture(t)
	f.mustSave(t, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: ptr(token)})
	if err := f.plan.DeleteProject(f.ctx, f.project.ID, f.project.Name); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, f.db, "okta_orgs"); n != 0 {
		t.Fatalf("%d connection(s) left after the project's deletion", n)
	}
}
