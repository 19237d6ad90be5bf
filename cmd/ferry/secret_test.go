package main

import (
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/config"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// openWith opens the application as `ferry serve` would with env.
func openWith(t *testing.T, env map[string]string) (*app, error) {
	t.Helper()
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(context.Background(), cfg, io.Discard)
	if err == nil {
		t.Cleanup(func() { _ = a.db.Close() })
	}
	return a, err
}

// saveOktaToken connects a new project to an org with token.
func saveOktaToken(t *testing.T, a *app, token string) int64 {
	t.Helper()
	ctx := context.Background()
	lead, err := a.auth.CreateAccount(ctx, auth.AccountInput{Email: "lead@example.com", Name: "Lea Lead", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	actx := audit.WithActor(ctx, audit.Actor{ID: lead.ID, Name: lead.Name})
	name := "Acme"
	p, err := a.plan.CreateProject(actx, lead.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.orgs.Save(actx, p.ID, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: &token}); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func TestWithoutASecretKeyTheKeyFileIsCreatedOwnerOnlyAndKept(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"FERRY_DATA_DIR": dir}
	a, err := openWith(t, env)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "secret.key")
	info, err := os.Stat(keyFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v (mode %v), want one with mode 0600", err, info.Mode().Perm())
	}
	const token = "00Zq8vK3-secretOktaToken_4b9XwLmNpQrStUv7"
	pid := saveOktaToken(t, a, token)
	_ = a.db.Close()

	// The next start reads the same key: the token opens.
	again, err := openWith(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.orgs.Token(context.Background(), pid); err != nil || got != token {
		t.Fatalf("after a restart: %.6q, %v", got, err)
	}
	_ = again.db.Close()

	// A key file others can read stops start-up, saying what to do.
	if err := os.Chmod(keyFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := openWith(t, env); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key file others can read: %v", err)
	}
}

func TestASecretKeyFromTheEnvironmentIsUsedAndAnotherOneIsRefusedClearly(t *testing.T) {
	dir := t.TempDir()
	key := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
	a, err := openWith(t, map[string]string{"FERRY_DATA_DIR": dir, "FERRY_SECRET_KEY": key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "secret.key")); !os.IsNotExist(err) {
		t.Fatalf("a key file was created although FERRY_SECRET_KEY is set: %v", err)
	}
	pid := saveOktaToken(t, a, "00Zq8vK3-secretOktaToken_4b9XwLmNpQrStUv7")
	_ = a.db.Close()

	other := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("o", 32)))
	b, err := openWith(t, map[string]string{"FERRY_DATA_DIR": dir, "FERRY_SECRET_KEY": other})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.orgs.Token(context.Background(), pid)
	if ae := apperr.As(err); ae.Code != apperr.CodeConflict || !strings.Contains(ae.Message, "another secret key") {
		t.Fatalf("another key: %v", err)
	}
}

func TestABadSecretKeyStopsStartUpWithoutShowingIt(t *testing.T) {
	const bad = "not-a-key-but-still-secret"
	_, err := serveUntil(t, map[string]string{"FERRY_DATA_DIR": t.TempDir(), "FERRY_SECRET_KEY": bad}, "never printed")
	if err == nil || !strings.Contains(err.Error(), "FERRY_SECRET_KEY") || strings.Contains(err.Error(), bad) {
		t.Fatalf("err = %v", err)
	}
}
