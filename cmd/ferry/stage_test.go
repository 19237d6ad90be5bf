package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/config"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// stageFixture is a data directory with a project "Acme" and a source "HR".
func stageFixture(t *testing.T) (dir string, getenv func(string) string) {
	t.Helper()
	dir = t.TempDir()
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
	acct, err := a.auth.CreateAccount(context.Background(), auth.AccountInput{Email: "eng@example.com", Name: "Eli", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: acct.ID, Name: acct.Name})
	name, src, kind := "Acme", "HR", "hr_system"
	p, err := a.plan.CreateProject(ctx, acct.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.plan.CreateSource(ctx, p.ID, plan.SourceInput{Name: &src, Kind: &kind}); err != nil {
		t.Fatal(err)
	}
	return dir, getenv
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStageCommandStagesAFileAndSummarises(t *testing.T) {
	dir, getenv := stageFixture(t)
	var content strings.Builder
	content.WriteString("employeeID;mail;givenName\r\n")
	for i := range 200 {
		fmt.Fprintf(&content, "E%d;user%d@example.com;Ada\r\n", i, i)
	}
	content.WriteString("E999;bad;row;extra\r\n") // one ragged row in 201: under the 1% that refuses a file
	csv := writeFile(t, dir, "hr.csv", content.String())
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"stage", "--project", "acme", "--source", "HR", "--quiet", csv}, getenv, &out, &errOut)
	if err != nil {
		t.Fatalf("stage: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"Staged hr.csv (csv", "records:      200", "quarantined:  1", "record key:   employeeID", "columns:      3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	ldif := writeFile(t, dir, "dir.ldif", "version: 1\n\ndn: uid=ada,dc=example,dc=com\nuid: ada\nmail: ada@example.com\n\n")
	out.Reset()
	if err := run(context.Background(), []string{"stage", "--project", "Acme", "--source", "hr", "--quiet", ldif}, getenv, &out, &errOut); err != nil {
		t.Fatalf("stage LDIF: %v", err)
	}
	if !strings.Contains(out.String(), "(ldif") || !strings.Contains(out.String(), "records:      1") {
		t.Fatalf("LDIF summary:\n%s", out.String())
	}
}

func TestStageCommandRefusesBadInputWithOneClearMessage(t *testing.T) {
	dir, getenv := stageFixture(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unterminated quote", []string{"--project", "Acme", "--source", "HR", writeFile(t, dir, "bad.csv", "a,b\n1,\"open\n")}, "line 2"},
		{"unknown project", []string{"--project", "Nope", "--source", "HR", writeFile(t, dir, "ok.csv", "a\n1\n")}, `no project is called "Nope"`},
		{"unknown source", []string{"--project", "Acme", "--source", "AD", writeFile(t, dir, "ok2.csv", "a\n1\n")}, "its sources: HR"},
		{"missing file", []string{"--project", "Acme", "--source", "HR", filepath.Join(dir, "missing.csv")}, "open the extract"},
		{"a directory", []string{"--project", "Acme", "--source", "HR", dir}, "is a directory"},
		{"empty file", []string{"--project", "Acme", "--source", "HR", writeFile(t, dir, "empty.csv", "")}, "empty"},
		{"unknown format", []string{"--project", "Acme", "--source", "HR", "--format", "xls", writeFile(t, dir, "x.csv", "a\n1\n")}, "Unknown format"},
		{"no file", []string{"--project", "Acme", "--source", "HR"}, "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"stage", "--quiet"}, tt.args...), getenv, &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if strings.Contains(out.String(), "Staged") {
				t.Fatal("a refused extract printed a summary")
			}
		})
	}
}

func TestValidateCommandPrintsCountsAndJSON(t *testing.T) {
	dir, getenv := stageFixture(t)
	csv := writeFile(t, dir, "hr.csv", "employeeID,mail\nE1,a@example.com\nE2,A@example.com\n")
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"stage", "--project", "Acme", "--source", "HR", "--quiet", csv}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"validate", "--project", "Acme", "--quiet"}, getenv, &out, &errOut); err != nil {
		t.Fatalf("validate: %v", err)
	}
	// Nothing is mapped yet: every record lacks the four required attributes.
	for _, want := range []string{"2 records — 0 valid, 2 invalid, 0 excluded", "required_missing"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"validate", "--project", "Acme", "--json"}, getenv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Records     int64            `json:"records"`
		Invalid     int64            `json:"invalid"`
		ByIssueType map[string]int64 `json:"byIssueType"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || got.Records != 2 || got.Invalid != 2 || got.ByIssueType["required_missing"] != 8 {
		t.Fatalf("json = %s (%v)", out.String(), err)
	}
	if err := run(context.Background(), []string{"validate", "--project", "Nope"}, getenv, &out, &errOut); err == nil {
		t.Fatal("an unknown project must fail")
	}
}
