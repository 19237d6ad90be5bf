package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/config"
)

// planConsole is an empty console (its own data directory) with one admin.
func planConsole(t *testing.T) (getenv func(string) string) {
	t.Helper()
	dir := t.TempDir()
	getenv = func(k string) string { return map[string]string{"FERRY_DATA_DIR": dir, "FERRY_LOG_LEVEL": "error"}[k] }
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a, err := open(context.Background(), cfg, &logs)
	if err != nil {
		t.Fatal(err)
	}
	defer a.db.Close()
	if _, err := a.auth.CreateAccount(context.Background(), auth.AccountInput{Email: "admin@example.com", Name: "Ada", Password: "correct horse battery", IsAdmin: true}); err != nil {
		t.Fatal(err)
	}
	return getenv
}

func projectCount(t *testing.T, getenv func(string) string) int {
	t.Helper()
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	a, err := open(context.Background(), cfg, &logs)
	if err != nil {
		t.Fatal(err)
	}
	defer a.db.Close()
	ps, err := a.plan.FindProjects(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return len(ps)
}

func TestPlanExportAndImportMoveAPlanToAnotherConsole(t *testing.T) {
	dir, getenv := stageFixture(t)
	ctx := context.Background()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"plan", "export", "--project", "acme"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("export: %v (%s)", err, errOut.String())
	}
	stdoutCopy := out.String()
	if !strings.Contains(stdoutCopy, `"format": "ferry-plan"`) || !strings.Contains(stdoutCopy, `"name": "HR"`) || !strings.HasSuffix(stdoutCopy, "}\n") {
		t.Fatalf("export wrote:\n%s", stdoutCopy)
	}
	file := filepath.Join(dir, "plan.json")
	out.Reset()
	if err := run(ctx, []string{"plan", "export", "--project", "Acme", "--out", file}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(file)
	if err != nil || string(written) != stdoutCopy {
		t.Fatalf("--out wrote something else than standard output: %v", err)
	}

	other := planConsole(t)
	out.Reset()
	if err := run(ctx, []string{"plan", "import", file}, other, &out, &errOut); err != nil {
		t.Fatalf("import: %v", err)
	}
	if !strings.Contains(out.String(), `project "Acme": /projects/`) {
		t.Errorf("import printed %q", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"plan", "export", "--project", "Acme"}, other, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if out.String() != stdoutCopy {
		t.Errorf("the other console exports another plan:\n%s", out.String())
	}

	// The same name again is refused, and nothing is created.
	err = run(ctx, []string{"plan", "import", file}, other, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("a second import under the same name: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"plan", "import", "--name", "Acme rehearsal", "--lead", "admin@example.com", file}, other, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if n := projectCount(t, other); n != 2 {
		t.Errorf("%d projects on the other console, want 2", n)
	}
}

func TestPlanImportRefusesABadFileAndCreatesNothing(t *testing.T) {
	getenv := planConsole(t)
	dir := t.TempDir()
	for name, content := range map[string]string{
		"newer.json":    `{"format":"ferry-plan","version":99}`,
		"broken.json":   `{"format":"ferry-plan",`,
		"dangling.json": `{"format":"ferry-plan","version":1,"project":{"name":"X"},"matrix":[{"source":"Nope","field":"f","status":"mapped","target":"email","priority":1}]}`,
	} {
		path := writeFile(t, dir, name, content)
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"plan", "import", path}, getenv, &out, &errOut)
		if err == nil {
			t.Errorf("%s was imported", name)
			continue
		}
		t.Logf("%s: %v", name, err)
	}
	if n := projectCount(t, getenv); n != 0 {
		t.Errorf("%d projects after bad imports", n)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"plan", "export", "--project", "Nope"}, getenv, &out, &errOut); err == nil {
		t.Error("the export of an unknown project succeeded")
	}
}
