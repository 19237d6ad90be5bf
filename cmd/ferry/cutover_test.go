package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// The cut-over from the command line: everyone loaded STAGED, a first wave
// activated from a list, the rest left staged, then a reconciliation that
// finds everything as sent.
func TestCutoverCommands(t *testing.T) {
	const token = "cli-cutover-token-0123456789"
	sim := oktasim.New(oktasim.Options{Token: token})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	w := newLoadWorld(t, 60, 10, srv.URL, token)
	logins := w.validLogins(t, 40)
	list := filepath.Join(w.dir, "wave1.txt")
	if err := os.WriteFile(list, []byte(strings.Join(logins[:10], "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	all := filepath.Join(w.dir, "all.txt")
	if err := os.WriteFile(all, []byte(strings.Join(logins, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append(args, "--data-dir", w.dir), w.getenv, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	if out, err := cli("load", "--project", w.project, "--logins-file", all, "--yes", "--quiet"); err != nil {
		t.Fatalf("load: %v\n%s", err, out)
	}
	if sim.UserCount() != 40 {
		t.Fatalf("%d users in the sandbox after the load", sim.UserCount())
	}
	out, err := cli("activate", "--project", w.project, "--wave", "First", "--logins-file", list, "--yes", "--quiet")
	if err != nil {
		t.Fatalf("activate: %v\n%s", err, out)
	}
	if !strings.Contains(out, "10 user(s)") || !strings.Contains(out, "Okta emails each of them") {
		t.Errorf("the wave's plan does not say plainly what happens:\n%s", out)
	}
	if _, err := cli("activate", "--project", w.project, "--yes", "--quiet"); err == nil {
		t.Error("a wave without a name is accepted")
	}
	if _, err := cli("activate", "--project", w.project, "--wave", "Bad", "--subgroup", "nonsense", "--yes"); err == nil {
		t.Error("a malformed --subgroup is accepted")
	}
	if _, err := cli("refresh", "--project", w.project, "--window", "25:00-06:00", "--yes"); err == nil {
		t.Error("a malformed --window is accepted")
	}
	out, err = cli("reconcile", "--project", w.project, "--quiet")
	if err != nil {
		t.Fatalf("reconcile: %v\n%s", err, out)
	}
	if strings.Contains(out, "different:") || !strings.Contains(out, "40 matched") {
		t.Errorf("reconciliation after a clean load and wave:\n%s", out)
	}
}
