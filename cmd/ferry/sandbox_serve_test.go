package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/ferry-migrate/ferry/internal/demo"
)

// make run's console comes with Ferry's Okta sandbox, and the demo project
// is connected to it, checked and known to be the sandbox; the sandbox's
// token is kept, owner-only, so that the connection survives a restart.
func TestServeRunsTheSandboxAndConnectsTheDemoToIt(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"FERRY_DATA_DIR": dir, "FERRY_DEMO": "true", "FERRY_SANDBOX_ADDR": "127.0.0.1:0",
		"FERRY_ADMIN_EMAIL": "admin@example.com", "FERRY_ADMIN_PASSWORD": "a long enough password"}
	out, err := serveUntil(t, env, "Created the demo project")
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Okta sandbox is running at (http://127\.0\.0\.1:\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no sandbox line in:\n%s", out)
	}
	info, err := os.Stat(filepath.Join(dir, "sandbox.token"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("sandbox token file: %v %v", info, err)
	}

	ctx := context.Background()
	a := openApp(t, dir, nil)
	projects, err := a.plan.FindProjects(ctx, nil)
	if err != nil || len(projects) != 1 || projects[0].Name != demo.ProjectName {
		t.Fatalf("projects: %v, %v", projects, err)
	}
	conn, err := a.orgs.Find(ctx, projects[0].ID)
	if err != nil || conn == nil {
		t.Fatalf("the demo has no Okta org: %v", err)
	}
	if conn.OrgURL != m[1] || !conn.Sandbox {
		t.Fatalf("the demo's org = %+v, want the sandbox at %s", conn, m[1])
	}
	token, err := a.orgs.Token(ctx, projects[0].ID)
	saved, _ := sandboxToken(filepath.Join(dir, "sandbox.token"))
	if err != nil || token != saved {
		t.Fatalf("the demo's token is not the sandbox's: %v", err)
	}
}

func TestASandboxOnAPublicAddressIsRefused(t *testing.T) {
	out, err := serveUntil(t, map[string]string{"FERRY_DATA_DIR": t.TempDir(), "FERRY_SANDBOX_ADDR": "0.0.0.0:8081"}, "never")
	if err == nil || !regexp.MustCompile(`FERRY_SANDBOX_ADDR`).MatchString(err.Error()+out) {
		t.Fatalf("a public sandbox address: %v\n%s", err, out)
	}
}
