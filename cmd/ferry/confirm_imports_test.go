package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// `ferry confirm-imports` from the command line: five users loaded with
// the password import hook, two of whom sign in (a stand-in hook says
// VERIFIED); the event hook is not there, so only the read-back counts them
// as migrated, and a second read-back finds only the three still waiting.
func TestConfirmImportsCommand(t *testing.T) {
	const token = "cli-confirm-token-0123456789"
	sim := oktasim.New(oktasim.Options{Token: token})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	verified := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}]}`))
	}))
	t.Cleanup(verified.Close)
	client, err := okta.New(okta.Config{OrgURL: srv.URL, APIToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := client.RegisterPasswordImportHook(t.Context(), okta.PasswordImportHook{URI: verified.URL + "/hook", AuthValue: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	w := newLoadWorld(t, 20, 5, srv.URL, token)
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "test"})
	if _, _, err := w.a.passwordHook.SaveConfig(ctx, w.projectID, 0, hook.ConfigInput{}); err != nil {
		t.Fatal(err)
	}
	logins := w.validLogins(t, 5)
	list := filepath.Join(w.dir, "hook.txt")
	if err := os.WriteFile(list, []byte(strings.Join(logins, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"load", "--project", w.project, "--mode", "hook", "--activate", "--logins-file", list,
		"--yes", "--quiet", "--data-dir", w.dir}, w.getenv, &out, &errOut); err != nil {
		t.Fatalf("load: %v\n%s%s", err, out.String(), errOut.String())
	}
	for _, l := range logins[:2] {
		if got, _, err := client.Authenticate(t.Context(), l, "Whatever-the-legacy-had-1"); err != nil || got.Status != okta.AuthnSuccess {
			t.Fatalf("sign in as %s: %+v %v", l, got, err)
		}
	}
	cli := func(args ...string) (stdout, stderr string, err error) {
		var out, errOut bytes.Buffer
		err = confirmImportsCommand(context.Background(), append(args, "--data-dir", w.dir), w.getenv, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	for _, bad := range [][]string{{}, {"--project", w.project, "--limit", "-1"}, {"--project", w.project, "extra"}} {
		if _, _, err := cli(bad...); err == nil || !strings.Contains(err.Error(), "usage: ferry confirm-imports") {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, _, err := cli("--project", "No such project"); err == nil {
		t.Error("an unknown project was accepted")
	}
	// One user at most: the read stops there.
	o, _, err := cli("--project", w.project, "--limit", "1", "--quiet")
	if err != nil || !strings.Contains(o, "Read 1 user(s)") {
		t.Fatalf("--limit 1: %v\n%s", err, o)
	}
	o, bar, err := cli("--project", w.project)
	if err != nil || !strings.Contains(o, "no longer in Okta, 0 could not be read") {
		t.Fatalf("read-back: %v\n%s", err, o)
	}
	if !strings.Contains(bar, "users read back from Okta") {
		t.Errorf("no progress bar on stderr: %q", bar)
	}
	var confirmed int64
	if err := w.a.db.Read.Table("okta_users").Where("project_id = ? AND password_imported_at IS NOT NULL", w.projectID).Count(&confirmed).Error; err != nil || confirmed != 2 {
		t.Fatalf("%d user(s) confirmed, want the 2 who signed in (%v)", confirmed, err)
	}
	o, _, err = cli("--project", w.project, "--quiet")
	if err != nil || !strings.Contains(o, "Read 3 user(s): 0 now confirmed migrated (provider OKTA), 3 still waiting") {
		t.Errorf("second read-back: %v\n%s", err, o)
	}
}
