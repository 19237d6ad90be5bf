package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/config"
	"github.com/ferry-migrate/ferry/internal/demo"
)

// openApp opens the application on dir as serve would, with env on top.
func openApp(t *testing.T, dir string, env map[string]string) *app {
	t.Helper()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return map[string]string{"FERRY_DATA_DIR": dir, "FERRY_LOG_LEVEL": "error"}[k]
	}
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(context.Background(), cfg, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.db.Close() })
	return a
}

var smallDemo = demo.Options{HRUsers: 200, DirectoryUsers: 80}

func TestServeCreatesTheDemoProjectOnce(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"FERRY_DATA_DIR": dir, "FERRY_DEMO": "true",
		"FERRY_ADMIN_EMAIL": "admin@example.com", "FERRY_ADMIN_PASSWORD": "a long enough password"}
	out, err := serveUntil(t, env, "Created the demo project")
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	if !strings.Contains(out, `Created the demo project "`+demo.ProjectName+`" with 3300 generated users staged and validated; admin@example.com leads it`) {
		t.Fatalf("unexpected output:\n%s", out)
	}

	ctx := context.Background()
	a := openApp(t, dir, nil)
	projects, err := a.plan.FindProjects(ctx, nil)
	if err != nil || len(projects) != 1 || projects[0].Name != demo.ProjectName {
		t.Fatalf("projects: %v, %v", projects, err)
	}
	p := projects[0]
	admin, err := a.auth.FindAccountByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if role, err := a.auth.RoleIn(ctx, admin.ID, p.ID); err != nil || role != auth.RoleProjectLead {
		t.Fatalf("the first admin's role in the demo = %q, %v", role, err)
	}
	runs, err := a.quality.LatestRuns(ctx, p.ID, 1)
	if err != nil || len(runs) != 1 || runs[0].Records != 3300 || runs[0].Invalid == 0 {
		t.Fatalf("validation runs: %+v, %v", runs, err)
	}

	// A second start does not create it again, nor a start after the admin deleted it.
	var again bytes.Buffer
	newDemoSeeding(a, &again, smallDemo).start(ctx)
	actx := audit.WithActor(ctx, audit.Actor{ID: admin.ID, Name: admin.Name})
	if err := a.plan.DeleteProject(actx, p.ID, p.Name); err != nil {
		t.Fatal(err)
	}
	newDemoSeeding(a, &again, smallDemo).start(ctx)
	if again.Len() != 0 {
		t.Fatalf("a later start printed %q", again.String())
	}
	if projects, err := a.plan.FindProjects(ctx, nil); err != nil || len(projects) != 0 {
		t.Fatalf("the demo came back: %v, %v", projects, err)
	}
}

func TestNoDemoWhenDisabled(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"by default":        {},
		"FERRY_DEMO=false":  {"FERRY_DEMO": "false"},
		"-demo=false (CLI)": {"FERRY_DEMO": "true"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a := openApp(t, t.TempDir(), env)
			if name == "-demo=false (CLI)" {
				cfg, err := config.Load([]string{"-demo=false"}, func(k string) string { return env[k] })
				if err != nil {
					t.Fatal(err)
				}
				a.cfg.Demo = cfg.Demo
			}
			if _, err := a.auth.CreateAccount(ctx, auth.AccountInput{Email: "admin@example.com", Name: "Ada", Password: "a long enough password", IsAdmin: true}); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			newDemoSeeding(a, &out, smallDemo).start(ctx)
			if projects, err := a.plan.FindProjects(ctx, nil); err != nil || len(projects) != 0 || out.Len() != 0 {
				t.Fatalf("projects %v, %v; output %q", projects, err, out.String())
			}
		})
	}
}

func TestTheDemoWaitsForTheFirstAdminOfTheSetupLink(t *testing.T) {
	ctx := context.Background()
	a := openApp(t, t.TempDir(), map[string]string{"FERRY_DEMO": "true"})
	var out bytes.Buffer
	d := newDemoSeeding(a, &out, smallDemo)
	d.start(ctx)
	if !strings.Contains(out.String(), "will be created with the first admin") {
		t.Fatalf("output: %q", out.String())
	}
	if projects, err := a.plan.FindProjects(ctx, nil); err != nil || len(projects) != 0 {
		t.Fatalf("a demo without a lead: %v, %v", projects, err)
	}

	// The setup page calls CreateFirstAdmin on the web server's auth service.
	secret := a.auth.NewSetupSecret()
	acct, err := d.authService().CreateFirstAdmin(ctx, secret, auth.AccountInput{Email: "first@example.com", Name: "First", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	projects, err := a.plan.FindProjects(ctx, nil)
	if err != nil || len(projects) != 1 {
		t.Fatalf("projects after setup: %v, %v", projects, err)
	}
	if role, err := a.auth.RoleIn(ctx, acct.ID, projects[0].ID); err != nil || role != auth.RoleProjectLead {
		t.Fatalf("the first admin's role in the demo = %q, %v", role, err)
	}
	if !strings.Contains(out.String(), "Created the demo project") || !strings.Contains(out.String(), "first@example.com leads it") {
		t.Fatalf("output: %q", out.String())
	}

	// A refused setup (the link is spent) creates nothing more.
	if _, err := d.authService().CreateFirstAdmin(ctx, secret, auth.AccountInput{Email: "second@example.com", Name: "Second", Password: "a long enough password"}); err == nil {
		t.Fatal("a spent setup link worked twice")
	}
	if projects, _ := a.plan.FindProjects(ctx, nil); len(projects) != 1 {
		t.Fatalf("%d projects", len(projects))
	}
}

func TestTheDemoIsLedByTheFirstEnabledAdmin(t *testing.T) {
	ctx := context.Background()
	a := openApp(t, t.TempDir(), map[string]string{"FERRY_DEMO": "true"})
	mk := func(email string, admin bool) *auth.Account {
		acct, err := a.auth.CreateAccount(ctx, auth.AccountInput{Email: email, Name: email, Password: "a long enough password", IsAdmin: admin})
		if err != nil {
			t.Fatal(err)
		}
		return acct
	}
	mk("aaron@example.com", false) // not an admin, although first by email
	disabled := mk("first-admin@example.com", true)
	lead := mk("zoe@example.com", true)
	mk("zz-later-admin@example.com", true)
	yes := true
	if _, err := a.auth.UpdateAccount(ctx, disabled.ID, disabled.Version, auth.AccountUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	newDemoSeeding(a, &out, smallDemo).start(ctx)
	projects, err := a.plan.FindProjects(ctx, nil)
	if err != nil || len(projects) != 1 {
		t.Fatalf("projects: %v, %v (output %q)", projects, err, out.String())
	}
	if role, _ := a.auth.RoleIn(ctx, lead.ID, projects[0].ID); role != auth.RoleProjectLead {
		t.Fatalf("zoe's role = %q; output %q", role, out.String())
	}
}
