package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
)

func TestCreateAccountValidation(t *testing.T) {
	tests := []struct {
		name  string
		in    auth.AccountInput
		field string
		want  string
	}{
		{"email is required", auth.AccountInput{Email: "", Name: "A", Password: goodPassword}, "email", "Email is required."},
		{"email without at sign", auth.AccountInput{Email: "not-an-email", Name: "A", Password: goodPassword}, "email", "name@example.com"},
		{"email with a display name", auth.AccountInput{Email: "Lea <lea@example.com>", Name: "A", Password: goodPassword}, "email", "name@example.com"},
		{"email with two addresses", auth.AccountInput{Email: "a@example.com, b@example.com", Name: "A", Password: goodPassword}, "email", "name@example.com"},
		{"email with markup", auth.AccountInput{Email: "<script>@example.com", Name: "A", Password: goodPassword}, "email", "name@example.com"},
		{"email overlong", auth.AccountInput{Email: strings.Repeat("a", 250) + "@example.com", Name: "A", Password: goodPassword}, "email", "too long"},
		{"email with a control character", auth.AccountInput{Email: "a\x00@example.com", Name: "A", Password: goodPassword}, "email", "control characters"},
		{"name is required", auth.AccountInput{Email: "a@example.com", Name: "  ", Password: goodPassword}, "name", "Name is required."},
		{"name overlong", auth.AccountInput{Email: "a@example.com", Name: strings.Repeat("n", 201), Password: goodPassword}, "name", "at most 200 characters"},
		{"name with a newline", auth.AccountInput{Email: "a@example.com", Name: "Lea\nLead", Password: goodPassword}, "name", "single line"},
		{"name in invalid UTF-8", auth.AccountInput{Email: "a@example.com", Name: "L\xffa", Password: goodPassword}, "name", "UTF-8"},
		{"password empty", auth.AccountInput{Email: "a@example.com", Name: "A", Password: ""}, "password", "at least 12 characters"},
		{"password one short", auth.AccountInput{Email: "a@example.com", Name: "A", Password: strings.Repeat("p", 11)}, "password", "at least 12 characters"},
		{"password counts characters, not bytes", auth.AccountInput{Email: "a@example.com", Name: "A", Password: strings.Repeat("é", 11)}, "password", "at least 12 characters"},
		{"password overlong", auth.AccountInput{Email: "a@example.com", Name: "A", Password: strings.Repeat("p", 257)}, "password", "at most 256 characters"},
		{"password in invalid UTF-8", auth.AccountInput{Email: "a@example.com", Name: "A", Password: strings.Repeat("p", 12) + "\xff"}, "password", "UTF-8"},
		{"password equal to the email", auth.AccountInput{Email: "longname@example.com", Name: "A", Password: "LongName@Example.com"}, "password", "must not be your email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, auth.Options{})
			_, err := f.auth.CreateAccount(context.Background(), tt.in)
			wantField(t, err, tt.field, tt.want)
			if n := f.count(t, "SELECT COUNT(*) FROM accounts"); n != 0 {
				t.Fatalf("accounts = %d after a refused create", n)
			}
			if n := f.count(t, "SELECT COUNT(*) FROM audit_entries"); n != 0 {
				t.Fatalf("audit entries = %d after a refused create", n)
			}
		})
	}
}

func TestCreateAccountPasswordBounds(t *testing.T) {
	f := newFixture(t, auth.Options{})
	for i, pw := range []string{strings.Repeat("p", 12), strings.Repeat("p", 256), strings.Repeat("日", 12)} {
		email := string(rune('a'+i)) + "@example.com"
		if _, err := f.auth.CreateAccount(context.Background(), auth.AccountInput{Email: email, Name: "A", Password: pw}); err != nil {
			t.Fatalf("password of %d characters refused: %v", len([]rune(pw)), err)
		}
		f.mustSignIn(t, email, pw)
	}
}

func TestCreateAccountStoresANormalisedEmailAndAnArgon2idHash(t *testing.T) {
	f := newFixture(t, auth.Options{})
	ctx := as(&auth.Account{ID: 77, Name: "Admin"})
	a, err := f.auth.CreateAccount(ctx, auth.AccountInput{Email: "  Lea.Lead@Example.COM ", Name: "  Lea <b>Lead</b> ", Password: goodPassword, MustChangePassword: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.Email != "lea.lead@example.com" || a.Name != "Lea <b>Lead</b>" || a.Version != 1 || !a.MustChangePassword || a.IsAdmin {
		t.Fatalf("account = %+v", a)
	}
	if !a.CreatedAt.Equal(f.clock.Now()) {
		t.Errorf("created at %v, want the clock's %v", a.CreatedAt, f.clock.Now())
	}
	var hash string
	if err := f.db.Read.Raw("SELECT password_hash FROM accounts WHERE id = ?", a.ID).Scan(&hash).Error; err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(hash, goodPassword) {
		t.Fatalf("stored hash = %q, want argon2id with the configured parameters", hash)
	}
	// The same password hashes differently for another account (a random salt).
	b := f.mustAccount(t, "b@example.com", "B", false)
	var hashB string
	if err := f.db.Read.Raw("SELECT password_hash FROM accounts WHERE id = ?", b.ID).Scan(&hashB).Error; err != nil {
		t.Fatal(err)
	}
	if hashB == hash {
		t.Fatalf("two accounts with the same password have the same hash")
	}
	// Lookup ignores case and surrounding space.
	got, err := f.auth.FindAccountByEmail(context.Background(), " LEA.lead@example.com")
	if err != nil || got.ID != a.ID {
		t.Fatalf("find by email: %v %v", got, err)
	}
	// The audit entry names the actor and never holds the hash.
	entries := f.auditEntries(t, "account", a.ID)
	if len(entries) != 1 || entries[0].Action != "create" || entries[0].ActorID == nil || *entries[0].ActorID != 77 {
		t.Fatalf("audit = %+v", entries)
	}
	if strings.Contains(entries[0].AfterJSON, "argon2") || strings.Contains(entries[0].AfterJSON, goodPassword) || !strings.Contains(entries[0].AfterJSON, "lea.lead@example.com") {
		t.Fatalf("audit after = %s", entries[0].AfterJSON)
	}
}

func TestCreateAccountRefusesADuplicateEmailInAnyCase(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.mustAccount(t, "lea@example.com", "Lea", false)
	for _, email := range []string{"lea@example.com", "LEA@Example.com", " Lea@example.com "} {
		_, err := f.auth.CreateAccount(context.Background(), auth.AccountInput{Email: email, Name: "Other", Password: goodPassword})
		wantField(t, err, "email", "already exists")
	}
	if n := f.count(t, "SELECT COUNT(*) FROM accounts"); n != 1 {
		t.Fatalf("accounts = %d, want 1", n)
	}
	if n, err := f.auth.CountAccounts(context.Background()); err != nil || n != 1 {
		t.Fatalf("CountAccounts = %d, %v", n, err)
	}
}

func TestPasswordVerificationAcceptsArgon2idAndBcrypt(t *testing.T) {
	f := newFixture(t, auth.Options{})
	a := f.mustAccount(t, "a@example.com", "A", false)

	// A hash made with other argon2id parameters still verifies: the
	// parameters are read from the stored hash.
	other := auth.NewService(f.db, auth.Options{Now: f.clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 128, Time: 2, Threads: 2}})
	if _, _, err := other.SignIn(context.Background(), "a@example.com", goodPassword, "", ""); err != nil {
		t.Fatalf("argon2id hash with other parameters: %v", err)
	}

	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		t.Run("bcrypt "+prefix, func(t *testing.T) {
			h, err := bcrypt.GenerateFromPassword([]byte("legacy password 1"), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			hash := prefix + string(h[4:])
			if err := f.db.Write.Exec("UPDATE accounts SET password_hash = ? WHERE id = ?", hash, a.ID).Error; err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.auth.SignIn(context.Background(), "a@example.com", "legacy password 1", "", ""); err != nil {
				t.Fatalf("sign in with the bcrypt password: %v", err)
			}
			_, _, err = f.auth.SignIn(context.Background(), "a@example.com", "legacy password 2", "", "")
			wantMessage(t, err, apperr.CodeInvalid, "Email or password is incorrect.")
		})
	}

	for _, hash := range []string{"", "plaintext", goodPassword, "$argon2id$v=19$garbage", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!!$aGFzaA", "$2a$10$short", "$md5$abc"} {
		t.Run("unusable hash "+hash, func(t *testing.T) {
			if err := f.db.Write.Exec("UPDATE accounts SET password_hash = ? WHERE id = ?", hash, a.ID).Error; err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(24 * time.Hour) // stay clear of throttling
			_, _, err := f.auth.SignIn(context.Background(), "a@example.com", goodPassword, "", "")
			wantMessage(t, err, apperr.CodeInvalid, "Email or password is incorrect.")
		})
	}
}

func TestFindAccounts(t *testing.T) {
	f := newFixture(t, auth.Options{})
	ctx := context.Background()
	b := f.mustAccount(t, "b@example.com", "B", false)
	a := f.mustAccount(t, "a@example.com", "A", true)
	list, err := f.auth.FindAccounts(ctx)
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("FindAccounts = %+v, %v; want a then b", list, err)
	}
	if got, err := f.auth.FindAccountByID(ctx, b.ID); err != nil || got.Email != "b@example.com" {
		t.Fatalf("FindAccountByID = %+v, %v", got, err)
	}
	_, err = f.auth.FindAccountByID(ctx, 9999)
	wantCode(t, err, apperr.CodeNotFound)
	_, err = f.auth.FindAccountByEmail(ctx, "nobody@example.com")
	wantCode(t, err, apperr.CodeNotFound)
}

func TestUpdateAccount(t *testing.T) {
	f := newFixture(t, auth.Options{})
	admin := f.mustAccount(t, "admin@example.com", "Admin", true)
	lea := f.mustAccount(t, "lea@example.com", "Lea", false)
	ctx := as(admin)

	got, err := f.auth.UpdateAccount(ctx, lea.ID, 1, auth.AccountUpdate{Name: ptr("  Lea Lead  "), IsAdmin: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Lea Lead" || !got.IsAdmin || got.Version != 2 {
		t.Fatalf("updated = %+v", got)
	}
	stored, _ := f.auth.FindAccountByID(context.Background(), lea.ID)
	if stored.Name != "Lea Lead" || !stored.IsAdmin || stored.Version != 2 {
		t.Fatalf("stored = %+v", stored)
	}
	entries := f.auditEntries(t, "account", lea.ID)
	if len(entries) != 2 || entries[0].Action != "update" || entries[0].ActorID == nil || *entries[0].ActorID != admin.ID {
		t.Fatalf("audit = %+v", entries)
	}
	diff := map[string]string{}
	for _, d := range entries[0].Diff() {
		diff[d.Field] = d.Before + "→" + d.After
	}
	if diff["name"] != "Lea→Lea Lead" || diff["isAdmin"] != "false→true" || len(diff) != 2 {
		t.Fatalf("diff = %v", diff)
	}
	if strings.Contains(entries[0].BeforeJSON+entries[0].AfterJSON, "argon2") {
		t.Fatalf("the audit entry holds the password hash")
	}

	t.Run("a stale version is a conflict and writes nothing", func(t *testing.T) {
		_, err := f.auth.UpdateAccount(ctx, lea.ID, 1, auth.AccountUpdate{Name: ptr("Stale")})
		e := wantCode(t, err, apperr.CodeConflict)
		if e.CurrentVersion != 2 {
			t.Fatalf("current version = %d, want 2", e.CurrentVersion)
		}
		stored, _ := f.auth.FindAccountByID(context.Background(), lea.ID)
		if stored.Name != "Lea Lead" || stored.Version != 2 {
			t.Fatalf("stored = %+v", stored)
		}
	})
	t.Run("an unknown account is not found", func(t *testing.T) {
		_, err := f.auth.UpdateAccount(ctx, 9999, 1, auth.AccountUpdate{Name: ptr("X")})
		wantCode(t, err, apperr.CodeNotFound)
	})
	for _, tt := range []struct {
		name, value, want string
	}{
		{"an empty name is refused", " ", "required"},
		{"an overlong name is refused", strings.Repeat("x", 201), "too long"},
		{"a name with a newline is refused", "a\nb", "single line"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.auth.UpdateAccount(ctx, lea.ID, 2, auth.AccountUpdate{Name: ptr(tt.value)})
			wantField(t, err, "name", tt.want)
			stored, _ := f.auth.FindAccountByID(context.Background(), lea.ID)
			if stored.Version != 2 || stored.Name != "Lea Lead" {
				t.Fatalf("stored = %+v", stored)
			}
		})
	}
}

func TestUpdateAccountProtectsAdmins(t *testing.T) {
	f := newFixture(t, auth.Options{})
	admin := f.mustAccount(t, "admin@example.com", "Admin", true)
	other := f.mustAccount(t, "other@example.com", "Other", false)
	ver := func(a *auth.Account) int64 {
		stored, err := f.auth.FindAccountByID(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return stored.Version
	}

	// The only admin cannot be demoted or disabled, whoever asks.
	_, err := f.auth.UpdateAccount(as(other), admin.ID, ver(admin), auth.AccountUpdate{IsAdmin: ptr(false)})
	wantMessage(t, err, apperr.CodeInvalid, "last active admin")
	_, err = f.auth.UpdateAccount(as(other), admin.ID, ver(admin), auth.AccountUpdate{Disabled: ptr(true)})
	wantMessage(t, err, apperr.CodeInvalid, "last active admin")
	// Nobody removes their own admin right or disables themselves.
	_, err = f.auth.UpdateAccount(as(admin), admin.ID, ver(admin), auth.AccountUpdate{IsAdmin: ptr(false)})
	wantMessage(t, err, apperr.CodeInvalid, "your own admin rights")
	_, err = f.auth.UpdateAccount(as(admin), admin.ID, ver(admin), auth.AccountUpdate{Disabled: ptr(true)})
	wantMessage(t, err, apperr.CodeInvalid, "disable your own account")
	if stored, _ := f.auth.FindAccountByID(context.Background(), admin.ID); !stored.IsAdmin || stored.Disabled() || stored.Version != 1 {
		t.Fatalf("admin changed by refused updates: %+v", stored)
	}

	// With a second admin, one may be demoted.
	if _, err := f.auth.UpdateAccount(as(admin), other.ID, ver(other), auth.AccountUpdate{IsAdmin: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.UpdateAccount(as(other), admin.ID, ver(admin), auth.AccountUpdate{IsAdmin: ptr(false)}); err != nil {
		t.Fatalf("demote one of two admins: %v", err)
	}
	// A disabled admin does not count as an active one.
	if _, err := f.auth.UpdateAccount(as(other), admin.ID, ver(admin), auth.AccountUpdate{IsAdmin: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.UpdateAccount(as(other), admin.ID, ver(admin), auth.AccountUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatalf("disable one of two admins: %v", err)
	}
	third := f.mustAccount(t, "third@example.com", "Third", false)
	_, err = f.auth.UpdateAccount(as(third), other.ID, ver(other), auth.AccountUpdate{IsAdmin: ptr(false)})
	wantMessage(t, err, apperr.CodeInvalid, "last active admin")
}

func TestDisablingAnAccountEndsItsSessionsAndSignIns(t *testing.T) {
	f := newFixture(t, auth.Options{})
	admin := f.mustAccount(t, "admin@example.com", "Admin", true)
	lea := f.mustAccount(t, "lea@example.com", "Lea", false)
	token := f.mustSignIn(t, "lea@example.com", goodPassword)
	adminToken := f.mustSignIn(t, "admin@example.com", goodPassword)

	got, err := f.auth.UpdateAccount(as(admin), lea.ID, 1, auth.AccountUpdate{Disabled: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if got.DisabledAt == nil || !got.DisabledAt.Equal(f.clock.Now()) {
		t.Fatalf("disabled at %v, want the clock's time", got.DisabledAt)
	}
	_, _, err = f.auth.FindSession(context.Background(), token)
	wantCode(t, err, apperr.CodeUnauthorized)
	if _, _, err := f.auth.FindSession(context.Background(), adminToken); err != nil {
		t.Fatalf("the admin's own session ended too: %v", err)
	}
	_, _, err = f.auth.SignIn(context.Background(), "lea@example.com", goodPassword, "", "")
	wantMessage(t, err, apperr.CodeForbidden, "disabled")
	// A wrong password for a disabled account says nothing about the account.
	_, _, err = f.auth.SignIn(context.Background(), "lea@example.com", "wrong password!", "", "")
	wantMessage(t, err, apperr.CodeInvalid, "Email or password is incorrect.")

	if _, err := f.auth.UpdateAccount(as(admin), lea.ID, 2, auth.AccountUpdate{Disabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	f.mustSignIn(t, "lea@example.com", goodPassword)
}

func TestResetPasswordEndsSessionsAndAsksForANewOne(t *testing.T) {
	f := newFixture(t, auth.Options{})
	admin := f.mustAccount(t, "admin@example.com", "Admin", true)
	lea := f.mustAccount(t, "lea@example.com", "Lea", false)
	t1 := f.mustSignIn(t, "lea@example.com", goodPassword)
	t2 := f.mustSignIn(t, "lea@example.com", goodPassword)
	adminToken := f.mustSignIn(t, "admin@example.com", goodPassword)

	wantField(t, f.auth.ResetPassword(as(admin), lea.ID, "short"), "password", "at least 12")
	wantField(t, f.auth.ResetPassword(as(admin), lea.ID, "LEA@example.com"), "password", "email")
	wantCode(t, f.auth.ResetPassword(as(admin), 9999, "a new password 1"), apperr.CodeNotFound)
	if _, _, err := f.auth.FindSession(context.Background(), t1); err != nil {
		t.Fatalf("a refused reset ended the session: %v", err)
	}

	if err := f.auth.ResetPassword(as(admin), lea.ID, "a new password 1"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{t1, t2} {
		_, _, err := f.auth.FindSession(context.Background(), tok)
		wantCode(t, err, apperr.CodeUnauthorized)
	}
	if _, _, err := f.auth.FindSession(context.Background(), adminToken); err != nil {
		t.Fatalf("the admin's session ended: %v", err)
	}
	stored, _ := f.auth.FindAccountByID(context.Background(), lea.ID)
	if !stored.MustChangePassword || stored.Version != 2 {
		t.Fatalf("after reset: %+v", stored)
	}
	_, _, err := f.auth.SignIn(context.Background(), "lea@example.com", goodPassword, "", "")
	wantCode(t, err, apperr.CodeInvalid)
	f.mustSignIn(t, "lea@example.com", "a new password 1")

	entries := f.auditEntries(t, "account", lea.ID)
	if len(entries) != 2 || entries[0].ActorID == nil || *entries[0].ActorID != admin.ID || !strings.Contains(entries[0].AfterJSON, "reset") {
		t.Fatalf("audit = %+v", entries)
	}
	if strings.Contains(entries[0].BeforeJSON+entries[0].AfterJSON, "a new password") {
		t.Fatalf("the audit entry holds the password")
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t, auth.Options{})
	lea := f.mustAccount(t, "lea@example.com", "Lea", false)
	ctx := as(lea)
	token := f.mustSignIn(t, "lea@example.com", goodPassword)
	if err := f.db.Write.Exec("UPDATE accounts SET must_change_password = TRUE WHERE id = ?", lea.ID).Error; err != nil {
		t.Fatal(err)
	}

	wantField(t, f.auth.ChangePassword(ctx, lea.ID, "wrong password!", "a new password 1"), "current_password", "incorrect")
	wantField(t, f.auth.ChangePassword(ctx, lea.ID, goodPassword, goodPassword), "password", "different")
	wantField(t, f.auth.ChangePassword(ctx, lea.ID, goodPassword, "short"), "password", "at least 12")
	wantCode(t, f.auth.ChangePassword(ctx, 9999, goodPassword, "a new password 1"), apperr.CodeNotFound)

	if err := f.auth.ChangePassword(ctx, lea.ID, goodPassword, "a new password 1"); err != nil {
		t.Fatal(err)
	}
	stored, _ := f.auth.FindAccountByID(context.Background(), lea.ID)
	if stored.MustChangePassword || stored.Version != 2 {
		t.Fatalf("after change: %+v", stored)
	}
	// The person's own session continues.
	if _, _, err := f.auth.FindSession(context.Background(), token); err != nil {
		t.Fatalf("session after changing the password: %v", err)
	}
	_, _, err := f.auth.SignIn(context.Background(), "lea@example.com", goodPassword, "", "")
	wantCode(t, err, apperr.CodeInvalid)
	f.mustSignIn(t, "lea@example.com", "a new password 1")
}

func TestSetupSecretAndFirstAdmin(t *testing.T) {
	f := newFixture(t, auth.Options{})
	ctx := context.Background()
	in := auth.AccountInput{Email: "first@example.com", Name: "First", Password: goodPassword}

	if f.auth.SetupSecretValid("") || f.auth.SetupSecretValid("anything") {
		t.Fatalf("a secret is valid before one was made")
	}
	_, err := f.auth.CreateFirstAdmin(ctx, "", in)
	wantCode(t, err, apperr.CodeForbidden)

	old := f.auth.NewSetupSecret()
	secret := f.auth.NewSetupSecret()
	if secret == "" || secret == old {
		t.Fatalf("secrets %q and %q", old, secret)
	}
	if f.auth.SetupSecretValid(old) {
		t.Fatalf("an older secret is still valid")
	}
	if !f.auth.SetupSecretValid(secret) || f.auth.SetupSecretValid(secret+"x") || f.auth.SetupSecretValid(strings.ToUpper(secret)) {
		t.Fatalf("only the exact latest secret is valid")
	}

	_, err = f.auth.CreateFirstAdmin(ctx, old, in)
	wantCode(t, err, apperr.CodeForbidden)

	// Bad input is refused and does not spend the secret.
	_, err = f.auth.CreateFirstAdmin(ctx, secret, auth.AccountInput{Email: "first@example.com", Name: "First", Password: "short"})
	wantField(t, err, "password", "at least 12")
	if !f.auth.SetupSecretValid(secret) {
		t.Fatalf("a refused setup spent the secret")
	}

	a, err := f.auth.CreateFirstAdmin(ctx, secret, in)
	if err != nil {
		t.Fatal(err)
	}
	if !a.IsAdmin {
		t.Fatalf("the first account is not an admin")
	}
	if f.auth.SetupSecretValid(secret) {
		t.Fatalf("the secret is still valid after use")
	}
	_, err = f.auth.CreateFirstAdmin(ctx, secret, auth.AccountInput{Email: "second@example.com", Name: "Second", Password: goodPassword})
	wantCode(t, err, apperr.CodeForbidden)

	// A fresh secret does not reopen setup once an account exists.
	again := f.auth.NewSetupSecret()
	_, err = f.auth.CreateFirstAdmin(ctx, again, auth.AccountInput{Email: "second@example.com", Name: "Second", Password: goodPassword})
	wantMessage(t, err, apperr.CodeForbidden, "already set up")
	if n := f.count(t, "SELECT COUNT(*) FROM accounts"); n != 1 {
		t.Fatalf("accounts = %d, want 1", n)
	}
}

func TestFirstAdminIsRefusedWhenAnAccountAlreadyExists(t *testing.T) {
	f := newFixture(t, auth.Options{})
	f.mustAccount(t, "scripted@example.com", "Scripted", true)
	secret := f.auth.NewSetupSecret()
	_, err := f.auth.CreateFirstAdmin(context.Background(), secret, auth.AccountInput{Email: "intruder@example.com", Name: "I", Password: goodPassword})
	wantMessage(t, err, apperr.CodeForbidden, "already set up")
	if _, err := f.auth.FindAccountByEmail(context.Background(), "intruder@example.com"); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("the intruder's account exists: %v", err)
	}
}
