package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/staging/ldapextract/ldaptest"
)

// withEnv returns getenv with extra variables on top.
func withEnv(getenv func(string) string, extra map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := extra[k]; ok {
			return v
		}
		return getenv(k)
	}
}

// stageLDAP runs `ferry stage --project Acme --source HR` with args, reading
// stdin from the given text (never a terminal).
func runStage(getenv func(string) string, stdin string, args ...string) (stdout, stderr string, err error) {
	var out, errOut bytes.Buffer
	args = append([]string{"--project", "Acme", "--source", "HR"}, args...)
	err = stageCommand(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestStagePullsFromALiveDirectory(t *testing.T) {
	const people = 250
	srv := ldaptest.Start(t, ldaptest.Options{People: people, TLS: true})
	dir, getenv := stageFixture(t)
	withPassword := withEnv(getenv, map[string]string{ldapPasswordEnv: ldaptest.ReaderPassword})
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, srv.CACertPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("every user, with the file summary", func(t *testing.T) {
		out, errOut, err := runStage(withPassword, "", "--ldap-url", srv.URL, "--bind-dn", ldaptest.ReaderDN,
			"--base-dn", ldaptest.PeopleDN, "--page-size", "37", "--quiet")
		if err != nil {
			t.Fatalf("stage: %v\n%s", err, errOut)
		}
		for _, want := range []string{"Pulled 250 users from " + srv.URL + " (" + ldaptest.PeopleDN + ") into Acme / HR",
			"records:      250", "quarantined:  0", "record key:   dn", "columns:"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out+errOut, ldaptest.ReaderPassword) {
			t.Fatal("the password was printed")
		}
	})

	t.Run("the password from standard input, a filter and some attributes, with a counter", func(t *testing.T) {
		out, errOut, err := runStage(getenv, ldaptest.ReaderPassword+"\n", "--ldap-url", srv.URL, "--bind-dn", ldaptest.ReaderDN,
			"--password-stdin", "--base-dn", ldaptest.BaseDN, "--filter", "(uid=user0001*)", "--attributes", "uid, mail", "--key", "uid")
		if err != nil {
			t.Fatalf("stage: %v\n%s", err, errOut)
		}
		// user00010 … user00019; dn, uid and mail.
		for _, want := range []string{"records:      10", "record key:   uid", "columns:      3"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out+errOut, ldaptest.ReaderPassword) {
			t.Fatal("the password was printed")
		}
	})

	t.Run("entryUUID, when asked for, is the record key (docs/cli.md says so)", func(t *testing.T) {
		out, errOut, err := runStage(withPassword, "", "--ldap-url", srv.URL, "--bind-dn", ldaptest.ReaderDN,
			"--base-dn", ldaptest.PeopleDN, "--attributes", "*,entryUUID", "--quiet")
		if err != nil || !strings.Contains(out, "record key:   entryUUID") {
			t.Fatalf("%v\n%s%s", err, out, errOut)
		}
	})

	t.Run("StartTLS with the CA, and ldaps without checking the certificate", func(t *testing.T) {
		for _, args := range [][]string{
			{"--ldap-url", srv.URL, "--start-tls", "--ca-cert", caFile},
			{"--ldap-url", srv.LDAPSURL, "--insecure-skip-verify"},
		} {
			args = append(args, "--bind-dn", ldaptest.ReaderDN, "--base-dn", ldaptest.PeopleDN, "--quiet")
			out, errOut, err := runStage(withPassword, "", args...)
			if err != nil || !strings.Contains(out, "records:      250") {
				t.Fatalf("%v: %v\n%s%s", args, err, out, errOut)
			}
		}
	})

	t.Run("ldaps without trusting the server's CA", func(t *testing.T) {
		_, _, err := runStage(withPassword, "", "--ldap-url", srv.LDAPSURL, "--bind-dn", ldaptest.ReaderDN, "--base-dn", ldaptest.PeopleDN, "--quiet")
		if err == nil || !strings.Contains(err.Error(), "not signed by a trusted CA") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("a wrong password is refused clearly and never shown", func(t *testing.T) {
		const wrong = "Wr0ng-but-secret-Passw0rd"
		for name, how := range map[string]struct {
			env   map[string]string
			stdin string
			args  []string
		}{
			"from the environment": {map[string]string{ldapPasswordEnv: wrong}, "", nil},
			"from standard input":  {nil, wrong + "\n", []string{"--password-stdin"}},
		} {
			t.Run(name, func(t *testing.T) {
				args := append([]string{"--ldap-url", srv.URL, "--bind-dn", ldaptest.ReaderDN, "--base-dn", ldaptest.PeopleDN}, how.args...)
				out, errOut, err := runStage(withEnv(getenv, how.env), how.stdin, args...)
				if err == nil {
					t.Fatal("a wrong password was accepted")
				}
				msg := err.Error()
				if !strings.Contains(msg, "refused the bind DN") || !strings.Contains(msg, "invalid credentials") || !strings.Contains(msg, ldaptest.ReaderDN) {
					t.Errorf("unclear message: %s", msg)
				}
				if strings.Contains(msg+out+errOut, wrong) {
					t.Fatalf("the password appears in the output: %s\n%s%s", msg, out, errOut)
				}
				if strings.Contains(out, "Pulled") {
					t.Fatal("a refused pull printed a summary")
				}
			})
		}
	})

	t.Run("a base DN that does not exist", func(t *testing.T) {
		_, _, err := runStage(withPassword, "", "--ldap-url", srv.URL, "--bind-dn", ldaptest.ReaderDN, "--base-dn", "ou=nobody,"+ldaptest.BaseDN, "--quiet")
		if err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("an unreachable server", func(t *testing.T) {
		gone := ldaptest.Start(t, ldaptest.Options{})
		gone.Stop()
		_, _, err := runStage(withPassword, "", "--ldap-url", gone.URL, "--bind-dn", ldaptest.ReaderDN, "--base-dn", ldaptest.PeopleDN, "--quiet")
		if err == nil || !strings.Contains(err.Error(), "cannot connect") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestStageFromLDAPRefusesBadArguments(t *testing.T) {
	dir, getenv := stageFixture(t)
	file := writeFile(t, dir, "hr.csv", "a\n1\n")
	pw := withEnv(getenv, map[string]string{ldapPasswordEnv: "some-password"})
	tests := []struct {
		name   string
		getenv func(string) string
		stdin  string
		args   []string
		want   string
	}{
		{"a FILE and --ldap-url", pw, "", []string{"--ldap-url", "ldap://127.0.0.1", "--base-dn", "dc=x", file}, "either a FILE"},
		{"--format with --ldap-url", pw, "", []string{"--ldap-url", "ldap://127.0.0.1", "--base-dn", "dc=x", "--format", "csv"}, "--format is for files"},
		{"directory flags without --ldap-url", getenv, "", []string{"--bind-dn", "cn=a", "--start-tls", file}, "--bind-dn, --start-tls only apply to a pull"},
		{"neither FILE nor --ldap-url", getenv, "", nil, "usage"},
		{"no project", getenv, "", []string{"--project", ""}, "usage"},
		{"a URL that is not LDAP", pw, "", []string{"--ldap-url", "http://dir.example.com", "--bind-dn", "cn=a", "--base-dn", "dc=x"}, "--ldap-url: The URL must start with ldap:// or ldaps://"},
		{"a URL without a host", pw, "", []string{"--ldap-url", "ldap://", "--bind-dn", "cn=a", "--base-dn", "dc=x"}, "--ldap-url: The URL has no host name"},
		{"a URL with a path", pw, "", []string{"--ldap-url", "ldap://dir.example.com/dc=x", "--base-dn", "dc=x"}, "--ldap-url: Give only the scheme, host and port"},
		{"StartTLS on ldaps", getenv, "", []string{"--ldap-url", "ldaps://dir.example.com", "--start-tls", "--base-dn", "dc=x"}, "--start-tls: StartTLS is for ldap:// URLs"},
		{"no base DN", getenv, "", []string{"--ldap-url", "ldap://dir.example.com"}, "--base-dn: Give the base DN"},
		{"a filter that does not parse", getenv, "", []string{"--ldap-url", "ldap://dir.example.com", "--base-dn", "dc=x", "--filter", "(uid=a"}, "--filter: This filter does not parse"},
		{"an unreadable CA file", getenv, "", []string{"--ldap-url", "ldaps://dir.example.com", "--base-dn", "dc=x", "--ca-cert", filepath.Join(dir, "missing.pem")}, "--ca-cert"},
		{"--password-stdin without --bind-dn", getenv, "pw\n", []string{"--ldap-url", "ldap://127.0.0.1", "--base-dn", "dc=x", "--password-stdin"}, "give --bind-dn too"},
		{"a password from two places", pw, "pw\n", []string{"--ldap-url", "ldap://127.0.0.1", "--base-dn", "dc=x", "--bind-dn", "cn=a", "--password-stdin"}, "not both"},
		{"--password-stdin with nothing on it", getenv, "", []string{"--ldap-url", "ldap://127.0.0.1", "--base-dn", "dc=x", "--bind-dn", "cn=a", "--password-stdin"}, "ended before a line"},
		{"--password-stdin with an empty line", getenv, "\n", []string{"--ldap-url", "ldap://127.0.0.1", "--base-dn", "dc=x", "--bind-dn", "cn=a", "--password-stdin"}, "is empty"},
		{"a bind DN and no way to get its password", getenv, "", []string{"--ldap-url", "ldap://127.0.0.1", "--base-dn", "dc=x", "--bind-dn", "cn=a"}, "set " + ldapPasswordEnv},
		{"a password but no bind DN", pw, "", []string{"--ldap-url", "ldap://127.0.0.1", "--base-dn", "dc=x"}, "--bind-dn is not"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runStage(tt.getenv, tt.stdin, append([]string{"--quiet"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "some-password") {
				t.Fatal("the password appears in the message")
			}
			if out != "" {
				t.Fatalf("a refused pull printed %q", out)
			}
		})
	}
}
