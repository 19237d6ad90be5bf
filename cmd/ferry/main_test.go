package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveUntil runs `ferry serve` until its output contains want (or it exits), then stops it.
func serveUntil(t *testing.T, env map[string]string, want string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, &out, &errOut)
	}()
	// A guard against a hang, not a performance limit: start-up takes milliseconds.
	giveUp := time.After(2 * time.Minute)
	for {
		select {
		case <-giveUp:
			t.Fatalf("serve neither printed %q nor stopped; output so far:\n%s%s", want, out.String(), errOut.String())
		case err := <-done:
			return out.String() + errOut.String(), err
		case <-time.After(20 * time.Millisecond):
			if strings.Contains(out.String(), want) {
				cancel()
				err := <-done
				return out.String(), err
			}
		}
	}
}

func TestFirstRunPrintsAOneTimeSetupLink(t *testing.T) {
	dir := t.TempDir()
	out, err := serveUntil(t, map[string]string{"FERRY_DATA_DIR": dir}, "/setup?secret=")
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	if !strings.Contains(out, "No account exists yet") {
		t.Fatalf("output does not explain the first run:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "ferry.db")); err != nil {
		t.Fatalf("database not created in the data directory: %v", err)
	}
}

func TestFirstAdminFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"FERRY_DATA_DIR": dir, "FERRY_ADMIN_EMAIL": "Admin@Example.com", "FERRY_ADMIN_PASSWORD": "a long enough password"}
	out, err := serveUntil(t, env, "Sign in at")
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	if !strings.Contains(out, "Created the first admin admin@example.com") || strings.Contains(out, "a long enough password") {
		t.Fatalf("unexpected output:\n%s", out)
	}
	// A second start finds the account and prints no setup link.
	out, err = serveUntil(t, map[string]string{"FERRY_DATA_DIR": dir}, "Sign in at")
	if err != nil || strings.Contains(out, "setup?secret") {
		t.Fatalf("second start: %v\n%s", err, out)
	}
}

func TestAWeakAdminPasswordStopsStartUp(t *testing.T) {
	env := map[string]string{"FERRY_DATA_DIR": t.TempDir(), "FERRY_ADMIN_EMAIL": "admin@example.com", "FERRY_ADMIN_PASSWORD": "short"}
	_, err := serveUntil(t, env, "never printed")
	if err == nil || !strings.Contains(err.Error(), "FERRY_ADMIN_EMAIL") {
		t.Fatalf("err = %v", err)
	}
}

func TestAnUnusableDatabaseStopsStartUpWithOneClearMessage(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	// Over a page of text: SQLite treats a file shorter than its header as an empty database.
	if err := os.WriteFile(blocker, bytes.Repeat([]byte("not a database\n"), 500), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := map[string]map[string]string{
		"data dir under a regular file": {"FERRY_DATA_DIR": filepath.Join(blocker, "data")},
		"not a database file":           {"FERRY_DATABASE_URL": blocker},
		"unsupported URL scheme":        {"FERRY_DATABASE_URL": "mysql://localhost/ferry"},
	}
	for name, env := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := serveUntil(t, env, "never printed")
			if err == nil || !strings.Contains(err.Error(), "database") {
				t.Fatalf("err = %v, want a message about the database", err)
			}
			if strings.Count(err.Error(), "\n") > 0 {
				t.Fatalf("want one line, got:\n%v", err)
			}
		})
	}
}

func TestBadConfigurationStopsStartUp(t *testing.T) {
	_, err := serveUntil(t, map[string]string{"FERRY_LOG_FORMAT": "xml"}, "never printed")
	if err == nil || !strings.Contains(err.Error(), "FERRY_LOG_FORMAT") {
		t.Fatalf("err = %v", err)
	}
}

func TestTokenCreatePrintsTheTokenOnce(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"FERRY_DATA_DIR": dir, "FERRY_ADMIN_EMAIL": "admin@example.com", "FERRY_ADMIN_PASSWORD": "a long enough password"}
	if out, err := serveUntil(t, env, "Sign in at"); err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	getenv := func(k string) string { return map[string]string{"FERRY_DATA_DIR": dir}[k] }
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--user", "ADMIN@example.com", "--name", "nightly"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("token create: %v\n%s", err, errOut.String())
	}
	token := strings.TrimSpace(out.String())
	if !strings.HasPrefix(token, "ferry_") || strings.Contains(token, "\n") {
		t.Fatalf("stdout should be the token alone, got %q", out.String())
	}
	if strings.Contains(errOut.String(), token) {
		t.Fatal("the token leaked into standard error")
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown account", []string{"token", "create", "--user", "nobody@example.com", "--name", "x"}, "no account"},
		{"missing name", []string{"token", "create", "--user", "admin@example.com"}, "--name"},
		{"empty name", []string{"token", "create", "--user", "admin@example.com", "--name", " "}, "--name"},
		{"missing subcommand", []string{"token"}, "usage"},
		{"overlong name", []string{"token", "create", "--user", "admin@example.com", "--name", strings.Repeat("n", 300)}, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o, e bytes.Buffer
			err := run(context.Background(), tt.args, getenv, &o, &e)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if o.Len() != 0 {
				t.Fatalf("nothing should be printed on stdout, got %q", o.String())
			}
		})
	}
}

func TestUnknownCommandShowsUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, &out, &errOut); err == nil {
		t.Fatal("want an error")
	}
	if !strings.Contains(errOut.String(), "ferry serve") {
		t.Fatalf("usage not shown: %q", errOut.String())
	}
}
