package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
)

// cheapArgon2 keeps password hashing fast in tests.
var cheapArgon2 = auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

const goodPassword = "correct horse battery"

type fixture struct {
	db    *db.DB
	clock *dbtest.Clock
	auth  *auth.Service
}

func newFixture(t *testing.T, opts auth.Options) *fixture {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	opts.Now = clock.Now
	if opts.Argon2 == (auth.Argon2Params{}) {
		opts.Argon2 = cheapArgon2
	}
	return &fixture{db: d, clock: clock, auth: auth.NewService(d, opts)}
}

func (f *fixture) mustAccount(t *testing.T, email, name string, admin bool) *auth.Account {
	t.Helper()
	a, err := f.auth.CreateAccount(context.Background(), auth.AccountInput{Email: email, Name: name, Password: goodPassword, IsAdmin: admin})
	if err != nil {
		t.Fatalf("create account %s: %v", email, err)
	}
	return a
}

func (f *fixture) mustSignIn(t *testing.T, email, password string) string {
	t.Helper()
	token, _, err := f.auth.SignIn(context.Background(), email, password, "test-agent", "127.0.0.1")
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	return token
}

// as returns a context whose changes are attributed to a.
func as(a *auth.Account) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{ID: a.ID, Name: a.Name})
}

func wantCode(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", code)
	}
	if got := apperr.CodeOf(err); got != code {
		t.Fatalf("err = %v (code %s), want code %s", err, got, code)
	}
	return apperr.As(err)
}

// wantField checks err is invalid with a message for field containing substr.
func wantField(t *testing.T, err error, field, substr string) {
	t.Helper()
	e := wantCode(t, err, apperr.CodeInvalid)
	msg, ok := e.Fields[field]
	if !ok {
		t.Fatalf("fields = %v, want a message for %q", e.Fields, field)
	}
	if !strings.Contains(msg, substr) {
		t.Fatalf("%s: message %q, want it to contain %q", field, msg, substr)
	}
}

// wantMessage checks err has code and a message containing substr.
func wantMessage(t *testing.T, err error, code apperr.Code, substr string) {
	t.Helper()
	e := wantCode(t, err, code)
	if !strings.Contains(e.Message, substr) {
		t.Fatalf("message %q, want it to contain %q", e.Message, substr)
	}
}

func (f *fixture) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.Read.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (f *fixture) auditEntries(t *testing.T, entityType string, entityID int64) []audit.Entry {
	t.Helper()
	entries, _, err := audit.NewReader(f.db.Read).FindEntries(context.Background(), audit.Filter{EntityType: entityType, EntityID: entityID})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

func ptr[T any](v T) *T { return &v }
