package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
)

func TestSignIn(t *testing.T) {
	f := newFixture(t, auth.Options{})
	lea := f.mustAccount(t, "lea@example.com", "Lea", false)
	ctx := context.Background()

	token, a, err := f.auth.SignIn(ctx, "  LEA@example.com ", goodPassword, strings.Repeat("agent", 100), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != lea.ID || token == "" {
		t.Fatalf("signed in as %+v with token %q", a, token)
	}
	got, sess, err := f.auth.FindSession(ctx, token)
	if err != nil || got.ID != lea.ID || sess.AccountID != lea.ID {
		t.Fatalf("FindSession = %+v %+v %v", got, sess, err)
	}
	if !sess.ExpiresAt.Equal(f.clock.Now().Add(12*time.Hour)) || f.auth.SessionTTL() != 12*time.Hour {
		t.Fatalf("session expires at %v, want 12 h from now", sess.ExpiresAt)
	}
	if len(sess.UserAgent) != 200 || sess.RemoteIP != "192.0.2.1" {
		t.Fatalf("user agent of %d bytes, ip %q", len(sess.UserAgent), sess.RemoteIP)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM sessions WHERE token_hash = ? OR token_hash LIKE ?", token, "%"+token+"%"); n != 0 {
		t.Fatalf("the session cookie value is stored in clear")
	}

	bad := []struct {
		name, email, password string
	}{
		{"wrong password", "lea@example.com", "wrong password!"},
		{"unknown email", "nobody@example.com", goodPassword},
		{"empty email", "", goodPassword},
		{"empty password", "lea@example.com", ""},
		{"password in another case", "lea@example.com", strings.ToUpper(goodPassword)},
		{"huge password", "lea@example.com", strings.Repeat("p", 5000)},
		{"huge email", strings.Repeat("e", 300) + "@example.com", goodPassword},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.Advance(time.Hour) // keep clear of throttling
			token, a, err := f.auth.SignIn(ctx, tt.email, tt.password, "", "")
			e := wantCode(t, err, apperr.CodeInvalid)
			// Every failure reads the same, so that nobody learns which emails exist.
			if e.Message != "Email or password is incorrect." || token != "" || a != nil {
				t.Fatalf("message %q, token %q, account %v", e.Message, token, a)
			}
		})
	}
}

func TestSignInIsThrottledAfterFreeFailures(t *testing.T) {
	f := newFixture(t, auth.Options{FreeFailures: 3, MaxWait: time.Minute})
	f.mustAccount(t, "lea@example.com", "Lea", false)
	f.mustAccount(t, "max@example.com", "Max", false)
	ctx := context.Background()
	fail := func(email string) error {
		_, _, err := f.auth.SignIn(ctx, email, "wrong password!", "", "")
		return err
	}
	for range 3 {
		wantMessage(t, fail("lea@example.com"), apperr.CodeInvalid, "incorrect")
	}
	// The fourth attempt within a second is refused, even with the right password.
	_, _, err := f.auth.SignIn(ctx, "lea@example.com", goodPassword, "", "")
	wantMessage(t, err, apperr.CodeInvalid, "Too many failed sign-ins for this email. Try again in 1 second.")
	// The email's case does not get around it; another email is not affected.
	_, _, err = f.auth.SignIn(ctx, "LEA@example.com", goodPassword, "", "")
	wantMessage(t, err, apperr.CodeInvalid, "Too many failed sign-ins")
	f.mustSignIn(t, "max@example.com", goodPassword)

	// After the wait, one more failure doubles it.
	f.clock.Advance(time.Second)
	wantMessage(t, fail("lea@example.com"), apperr.CodeInvalid, "incorrect")
	f.clock.Advance(time.Second)
	wantMessage(t, fail("lea@example.com"), apperr.CodeInvalid, "Try again in 1 second.")
	f.clock.Advance(time.Second)
	// A success clears the count: three free failures again.
	f.mustSignIn(t, "lea@example.com", goodPassword)
	for range 3 {
		wantMessage(t, fail("lea@example.com"), apperr.CodeInvalid, "incorrect")
	}
	wantMessage(t, fail("lea@example.com"), apperr.CodeInvalid, "Too many failed sign-ins")

	// The wait grows to MaxWait and no further.
	for range 8 {
		f.clock.Advance(time.Hour)
		wantMessage(t, fail("lea@example.com"), apperr.CodeInvalid, "incorrect")
	}
	wantMessage(t, fail("lea@example.com"), apperr.CodeInvalid, "Try again in 1 minute.")
	f.clock.Advance(59 * time.Second)
	wantMessage(t, fail("lea@example.com"), apperr.CodeInvalid, "Try again in 1 second.")
	f.clock.Advance(time.Second)
	f.mustSignIn(t, "lea@example.com", goodPassword)
}

func TestSignInThrottlesUnknownEmailsToo(t *testing.T) {
	f := newFixture(t, auth.Options{FreeFailures: 2})
	ctx := context.Background()
	for range 2 {
		_, _, err := f.auth.SignIn(ctx, "ghost@example.com", "whatever password", "", "")
		wantMessage(t, err, apperr.CodeInvalid, "incorrect")
	}
	_, _, err := f.auth.SignIn(ctx, "ghost@example.com", "whatever password", "", "")
	wantMessage(t, err, apperr.CodeInvalid, "Too many failed sign-ins")
}

func TestFindSessionExpiresAndSignOutEnds(t *testing.T) {
	f := newFixture(t, auth.Options{SessionTTL: time.Hour})
	f.mustAccount(t, "lea@example.com", "Lea", false)
	ctx := context.Background()
	first := f.mustSignIn(t, "lea@example.com", goodPassword)
	second := f.mustSignIn(t, "lea@example.com", goodPassword)
	if first == second {
		t.Fatalf("two sign-ins got the same token")
	}

	f.clock.Advance(time.Hour - time.Second)
	if _, _, err := f.auth.FindSession(ctx, first); err != nil {
		t.Fatalf("a session one second before expiry: %v", err)
	}
	if err := f.auth.SignOut(ctx, second); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.auth.FindSession(ctx, second)
	wantCode(t, err, apperr.CodeUnauthorized)
	if _, _, err := f.auth.FindSession(ctx, first); err != nil {
		t.Fatalf("signing out one session ended another: %v", err)
	}

	f.clock.Advance(time.Second)
	_, _, err = f.auth.FindSession(ctx, first)
	wantMessage(t, err, apperr.CodeUnauthorized, "expired")

	// The next sign-in sweeps expired sessions away.
	if n := f.count(t, "SELECT COUNT(*) FROM sessions"); n != 1 {
		t.Fatalf("sessions before the sweep = %d, want 1", n)
	}
	f.clock.Advance(time.Second)
	f.mustSignIn(t, "lea@example.com", goodPassword)
	if n := f.count(t, "SELECT COUNT(*) FROM sessions"); n != 1 {
		t.Fatalf("sessions after the sweep = %d, want only the new one", n)
	}

	for _, tok := range []string{"", "nonsense", strings.Repeat("x", 201)} {
		_, _, err := f.auth.FindSession(ctx, tok)
		wantCode(t, err, apperr.CodeUnauthorized)
	}
	if err := f.auth.SignOut(ctx, "unknown token"); err != nil {
		t.Fatalf("signing out an unknown session: %v", err)
	}
}
