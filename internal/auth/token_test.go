package auth_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
)

func TestAPITokens(t *testing.T) {
	f := newFixture(t, auth.Options{})
	admin := f.mustAccount(t, "admin@example.com", "Admin", true)
	lea := f.mustAccount(t, "lea@example.com", "Lea", false)
	ctx := as(lea)

	value, tok, err := f.auth.CreateAPIToken(ctx, lea.ID, "  CI pipeline ")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(value, auth.TokenPrefix) || !strings.HasPrefix(value, "ferry_") || len(value) < len("ferry_")+40 {
		t.Fatalf("token value %q", value)
	}
	if tok.Name != "CI pipeline" || tok.AccountID != lea.ID || tok.TokenPrefix != value[:len("ferry_")+6] || tok.RevokedAt != nil {
		t.Fatalf("token = %+v", tok)
	}

	t.Run("the value is stored only as a hash", func(t *testing.T) {
		var rows []string
		if err := f.db.Read.Raw("SELECT name || '|' || token_hash || '|' || token_prefix FROM api_tokens").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 {
			t.Fatalf("rows = %v", rows)
		}
		secretPart := value[len(tok.TokenPrefix):]
		if strings.Contains(rows[0], value) || strings.Contains(rows[0], secretPart) {
			t.Fatalf("the stored row %q contains the token value", rows[0])
		}
		var audit []string
		if err := f.db.Read.Raw("SELECT entity_label || before_json || after_json FROM audit_entries WHERE entity_type = 'api_token'").Scan(&audit).Error; err != nil {
			t.Fatal(err)
		}
		if len(audit) != 1 || strings.Contains(audit[0], secretPart) || strings.Contains(audit[0], "Hash") {
			t.Fatalf("audit = %v", audit)
		}
	})

	t.Run("the value authenticates its owner and records the use", func(t *testing.T) {
		f.clock.Advance(time.Minute)
		a, err := f.auth.AuthenticateToken(context.Background(), value)
		if err != nil || a.ID != lea.ID {
			t.Fatalf("authenticate = %+v, %v", a, err)
		}
		list, err := f.auth.FindAPITokens(context.Background(), lea.ID)
		if err != nil || len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(f.clock.Now()) {
			t.Fatalf("tokens = %+v, %v; want last use now", list, err)
		}
	})

	t.Run("anything else is refused", func(t *testing.T) {
		for _, v := range []string{"", value[:len(value)-1], value + "x", strings.TrimPrefix(value, "ferry_"), "ferry_" + strings.Repeat("a", 52), "Bearer " + value, "ferry_" + strings.Repeat("a", 300)} {
			_, err := f.auth.AuthenticateToken(context.Background(), v)
			wantCode(t, err, apperr.CodeUnauthorized)
		}
	})

	t.Run("a second token differs and both are listed newest first", func(t *testing.T) {
		v2, tok2, err := f.auth.CreateAPIToken(ctx, lea.ID, "laptop")
		if err != nil {
			t.Fatal(err)
		}
		if v2 == value {
			t.Fatalf("two tokens have the same value")
		}
		list, _ := f.auth.FindAPITokens(context.Background(), lea.ID)
		if len(list) != 2 || list[0].ID != tok2.ID || list[1].ID != tok.ID {
			t.Fatalf("tokens = %+v", list)
		}
		if others, _ := f.auth.FindAPITokens(context.Background(), admin.ID); len(others) != 0 {
			t.Fatalf("the admin sees %d tokens of Lea's", len(others))
		}
	})

	t.Run("revoking is per owner and final", func(t *testing.T) {
		wantCode(t, f.auth.RevokeAPIToken(as(admin), admin.ID, tok.ID), apperr.CodeNotFound)
		if _, err := f.auth.AuthenticateToken(context.Background(), value); err != nil {
			t.Fatalf("another account's revoke took effect: %v", err)
		}
		if err := f.auth.RevokeAPIToken(ctx, lea.ID, tok.ID); err != nil {
			t.Fatal(err)
		}
		_, err := f.auth.AuthenticateToken(context.Background(), value)
		wantCode(t, err, apperr.CodeUnauthorized)
		if err := f.auth.RevokeAPIToken(ctx, lea.ID, tok.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		list, _ := f.auth.FindAPITokens(context.Background(), lea.ID)
		if list[1].RevokedAt == nil || !list[1].RevokedAt.Equal(f.clock.Now()) {
			t.Fatalf("revoked token = %+v", list[1])
		}
		if n := f.count(t, "SELECT COUNT(*) FROM audit_entries WHERE entity_type = 'api_token' AND action = 'update'"); n != 1 {
			t.Fatalf("revoke audit entries = %d, want 1", n)
		}
		wantCode(t, f.auth.RevokeAPIToken(ctx, lea.ID, 9999), apperr.CodeNotFound)
	})
}

func TestAPITokenOfADisabledAccountIsRefused(t *testing.T) {
	f := newFixture(t, auth.Options{})
	admin := f.mustAccount(t, "admin@example.com", "Admin", true)
	lea := f.mustAccount(t, "lea@example.com", "Lea", false)
	value, _, err := f.auth.CreateAPIToken(as(lea), lea.ID, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.auth.UpdateAccount(as(admin), lea.ID, 1, auth.AccountUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	_, err = f.auth.AuthenticateToken(context.Background(), value)
	wantCode(t, err, apperr.CodeUnauthorized)
	_, _, err = f.auth.CreateAPIToken(as(admin), lea.ID, "another")
	wantMessage(t, err, apperr.CodeInvalid, "disabled")
}

func TestCreateAPITokenValidation(t *testing.T) {
	f := newFixture(t, auth.Options{})
	lea := f.mustAccount(t, "lea@example.com", "Lea", false)
	for _, tt := range []struct{ name, value, want string }{
		{"empty name", "  ", "required"},
		{"overlong name", strings.Repeat("n", 201), "too long"},
		{"name with a newline", "a\nb", "single line"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.auth.CreateAPIToken(as(lea), lea.ID, tt.value)
			wantField(t, err, "name", tt.want)
		})
	}
	_, _, err := f.auth.CreateAPIToken(as(lea), 9999, "ci")
	wantCode(t, err, apperr.CodeNotFound)
	if n := f.count(t, "SELECT COUNT(*) FROM api_tokens"); n != 0 {
		t.Fatalf("tokens = %d after refused creates", n)
	}
}
