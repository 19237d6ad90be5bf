package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/config"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// A start after a crash: the extract the crash left half-staged is
// discarded, the upload whose file is still there is staged again, and the
// directory pull (whose bind password was never stored) is marked
// interrupted with what to do. Nothing is silently forgotten.
func TestServeRecoversWhatACrashLeftUnfinished(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg, err := config.Load([]string{"-data-dir", dir}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	a, err := open(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	lead, err := a.auth.CreateAccount(ctx, auth.AccountInput{Email: "lead@example.com", Name: "Lea Lead", Password: "a long enough password", IsAdmin: true})
	if err != nil {
		t.Fatal(err)
	}
	actx := audit.WithActor(ctx, audit.Actor{ID: lead.ID, Name: lead.Name})
	name := "Acme"
	p, err := a.plan.CreateProject(actx, lead.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	source := func(name string) *plan.Source {
		kind := "hr_system"
		s, err := a.plan.CreateSource(actx, p.ID, plan.SourceInput{Name: &name, Kind: &kind})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hr, ad := source("HR export"), source("Corporate AD")

	// What the crash left: a half-staged extract, a staging job whose
	// spooled upload is still there, and a directory pull, both "running".
	half := &staging.Extract{ProjectID: p.ID, SourceID: hr.ID, Status: staging.StatusLoading, FileName: "hr.csv", Format: "csv",
		Columns: []staging.ColumnStats{}, Warnings: []string{}, CreatedAt: time.Now().UTC()}
	if err := a.db.Write.Create(half).Error; err != nil {
		t.Fatal(err)
	}
	if err := a.db.Write.Exec(`INSERT INTO staged_records (extract_id, position, source_key, attributes_json) VALUES (?, 2, 'e1', '{"mail":["a@example.com"]}')`,
		half.ID).Error; err != nil {
		t.Fatal(err)
	}
	spool := jobs.UploadDir(dir)
	if err := os.MkdirAll(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	upload := filepath.Join(spool, "extract-crashed.upload")
	if err := os.WriteFile(upload, []byte("employeeID,mail\nE1,a@example.com\nE2,b@example.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	hrID, adID := hr.ID, ad.ID
	staged := &jobs.Job{ProjectID: p.ID, SourceID: &hrID, Kind: jobs.KindStageFile, Status: jobs.StatusRunning, LockKey: "source:hr",
		Params: jobs.Params{SourceName: "HR export", FileName: "hr.csv"}, InputFile: upload, CreatedByName: "Lea Lead", CreatedAt: now, StartedAt: &now, UpdatedAt: now}
	pull := &jobs.Job{ProjectID: p.ID, SourceID: &adID, Kind: jobs.KindStageDirectory, Status: jobs.StatusRunning, LockKey: "source:ad",
		Params: jobs.Params{SourceName: "Corporate AD", URL: "ldaps://dc1.example.com", BaseDN: "dc=example,dc=com"}, CreatedByName: "Lea Lead",
		CreatedAt: now, StartedAt: &now, UpdatedAt: now}
	for _, j := range []*jobs.Job{staged, pull} {
		if err := a.db.Write.Create(j).Error; err != nil {
			t.Fatal(err)
		}
	}
	_ = a.db.Close()

	out, err := serveUntil(t, map[string]string{"FERRY_DATA_DIR": dir}, "Sign in at")
	if err != nil {
		t.Fatalf("serve: %v\n%s", err, out)
	}
	if !strings.Contains(out, "1 half-staged extract(s) discarded, 0 unfinished validation(s) closed, 1 job(s) resumed from the start, 1 job(s) marked interrupted") {
		t.Errorf("the start does not say what it recovered:\n%s", out)
	}

	a, err = open(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer a.db.Close()
	var ex staging.Extract
	if err := a.db.Read.First(&ex, half.ID).Error; err != nil {
		t.Fatal(err)
	}
	var left int64
	a.db.Read.Model(&staging.StagedRecord{}).Where("extract_id = ?", half.ID).Count(&left)
	if ex.Status != staging.StatusFailed || left != 0 {
		t.Errorf("the half-staged extract: %s with %d record(s) left, want failed with none", ex.Status, left)
	}
	var got jobs.Job
	if err := a.db.Read.First(&got, pull.ID).Error; err != nil {
		t.Fatal(err)
	}
	if got.Status != jobs.StatusInterrupted || !strings.Contains(got.Message, "pull again") {
		t.Errorf("the directory pull after the restart: %+v", got)
	}
	got = jobs.Job{}
	if err := a.db.Read.First(&got, staged.ID).Error; err != nil {
		t.Fatal(err)
	}
	// The console stopped right after its start: the resumed staging either
	// finished, or was stopped again and waits (queued, its file kept) for
	// the next start.
	_, statErr := os.Stat(upload)
	switch {
	case got.Status == jobs.StatusSucceeded && os.IsNotExist(statErr) && strings.HasPrefix(got.Message, "Staged hr.csv: 2 record(s)"):
	case got.Status == jobs.StatusQueued && statErr == nil:
	default:
		t.Errorf("the resumed staging after the restart: %+v (file: %v)", got, statErr)
	}
}
