package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// The stragglers from the command line: users loaded with the password
// import hook, one of whom signs in; after the period, the plan, a refused
// confirmation, the reset, and nobody left.
func TestResetStragglersCommand(t *testing.T) {
	const token = "cli-stragglers-token-0123456789"
	sim := oktasim.New(oktasim.Options{Token: token})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	hook := httptest.NewServer(nil) // never called: nobody signs in
	t.Cleanup(hook.Close)
	client, err := okta.New(okta.Config{OrgURL: srv.URL, APIToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := client.RegisterPasswordImportHook(t.Context(), okta.PasswordImportHook{URI: hook.URL + "/hook", AuthValue: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	w := newLoadWorld(t, 20, 5, srv.URL, token)
	logins := w.validLogins(t, 5)
	list := filepath.Join(w.dir, "hook.txt")
	if err := os.WriteFile(list, []byte(strings.Join(logins, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(stdin string, args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := resetStragglersCommand(context.Background(), append(args, "--data-dir", w.dir), w.getenv, strings.NewReader(stdin), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"load", "--project", w.project, "--mode", "hook", "--activate", "--logins-file", list,
		"--yes", "--quiet", "--data-dir", w.dir}, w.getenv, &out, &errOut); err != nil {
		t.Fatalf("load: %v\n%s%s", err, out.String(), errOut.String())
	}
	// Within the period there is nobody to reset, and that is no error.
	o, err := cli("", "--project", w.project, "--yes", "--quiet")
	if err != nil || !strings.Contains(o, "0 user(s)") || !strings.Contains(o, "nobody to reset") {
		t.Fatalf("within the period: %v\n%s", err, o)
	}
	// 61 days later (the load's provenance is moved back).
	if err := w.a.db.Write.Exec(`UPDATE okta_users SET created_at = ?`, time.Now().UTC().AddDate(0, 0, -61)).Error; err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		{"--project", w.project, "--period-days", "-3", "--yes"},
		{"--project", w.project, "--window", "25:00-06:00", "--yes"},
		{"--project", w.project, "--resume", "1"},
		{},
	} {
		if _, err := cli("", bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := cli("", "--resume", "1"); err == nil || !strings.Contains(err.Error(), "not a reset_password") {
		t.Errorf("resuming a load as a reset: %v", err)
	}
	o, err = cli("no\n", "--project", w.project)
	if err == nil || !strings.Contains(o, "5 user(s)") || !strings.Contains(o, "Okta emails each of them a link") || !strings.Contains(o, "Type yes") {
		t.Fatalf("refused confirmation: %v\n%s", err, o)
	}
	for _, l := range logins {
		if n := sim.ResetEmails(l); n != 0 {
			t.Fatalf("%s reset without a confirmation", l)
		}
	}
	o, err = cli("yes\n", "--project", w.project, "--quiet")
	if err != nil || !strings.Contains(o, "Password reset of stragglers (run") || !strings.Contains(o, "5 passwords reset") {
		t.Fatalf("reset: %v\n%s", err, o)
	}
	for _, l := range logins {
		u, _, err := client.GetUser(t.Context(), l)
		if err != nil || u.Status != okta.StatusRecovery || sim.ResetEmails(l) != 1 {
			t.Errorf("%s after the reset: %+v %v, %d emails", l, u, err, sim.ResetEmails(l))
		}
	}
	o, err = cli("", "--project", w.project, "--yes", "--quiet")
	if err != nil || !strings.Contains(o, "0 user(s)") {
		t.Errorf("after the reset: %v\n%s", err, o)
	}
}
