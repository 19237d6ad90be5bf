package staging_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// findWorld is two projects, each with a source and a staged extract.
type findWorld struct {
	svc      *staging.Service
	ctx      context.Context
	projects [2]*plan.Project
	extracts [2]*staging.Extract
}

func newFindWorld(t *testing.T, csv string) *findWorld {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	authSvc := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	planSvc := plan.NewService(d, authSvc)
	lead, err := authSvc.CreateAccount(context.Background(), auth.AccountInput{Email: "eng@example.com", Name: "Eli", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	w := &findWorld{svc: staging.NewService(d, clock.Now, nil), ctx: audit.WithActor(context.Background(), audit.Actor{ID: lead.ID, Name: lead.Name})}
	for i, name := range []string{"Acme", "Other"} {
		if w.projects[i], err = planSvc.CreateProject(w.ctx, lead.ID, plan.ProjectInput{Name: &name}); err != nil {
			t.Fatal(err)
		}
		srcName, kind := "HR", "hr_system"
		src, err := planSvc.CreateSource(w.ctx, w.projects[i].ID, plan.SourceInput{Name: &srcName, Kind: &kind})
		if err != nil {
			t.Fatal(err)
		}
		rd, format, err := staging.OpenReader(strings.NewReader(csv), "")
		if err != nil {
			t.Fatal(err)
		}
		if w.extracts[i], err = w.svc.Stage(w.ctx, w.projects[i].ID, src.ID, rd, staging.Meta{FileName: "hr.csv", Format: format}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func TestAnExtractIsFoundByIDOnlyInItsProject(t *testing.T) {
	w := newFindWorld(t, "employeeID,mail\nE1,ada@example.com\n")
	ex, err := w.svc.FindExtractByID(w.ctx, w.projects[0].ID, w.extracts[0].ID)
	if err != nil || ex.ID != w.extracts[0].ID || ex.Records != 1 || ex.Status != staging.StatusReady || len(ex.Columns) != 2 {
		t.Fatalf("FindExtractByID = %+v, %v", ex, err)
	}
	for _, c := range []struct {
		name        string
		project, id int64
	}{
		{"another project's extract", w.projects[0].ID, w.extracts[1].ID},
		{"an extract that does not exist", w.projects[0].ID, 999999},
	} {
		if _, err := w.svc.FindExtractByID(w.ctx, c.project, c.id); !apperr.Is(err, apperr.CodeNotFound) {
			t.Errorf("%s: err = %v, want not found", c.name, err)
		}
	}
}

func TestQuarantinedRowsArePagedByKeyset(t *testing.T) {
	// A line that is not an object is quarantined (a CSV reader tolerates
	// only a small share of ragged rows).
	var b strings.Builder
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&b, "{\"employeeID\": \"E%d\"}\n%d\n", i, i)
	}
	w := newFindWorld(t, b.String())
	ex := w.extracts[0]
	if ex.Quarantined != 7 {
		t.Fatalf("staged %+v, want 7 quarantined lines", ex)
	}
	var seen []int64
	var after int64
	for {
		page, err := w.svc.FindQuarantinedPage(w.ctx, ex.ID, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("a page of %d rows, want at most 3", len(page))
		}
		for _, q := range page {
			if q.ExtractID != ex.ID || q.Message == "" {
				t.Fatalf("row = %+v", q)
			}
			seen = append(seen, q.Position)
		}
		after = page[len(page)-1].ID
	}
	if fmt.Sprint(seen) != "[2 4 6 8 10 12 14]" {
		t.Fatalf("positions = %v, want every second line in order", seen)
	}
	if other, err := w.svc.FindQuarantinedPage(w.ctx, w.extracts[1].ID, 0, staging.MaxPageSize); err != nil || len(other) != 7 {
		t.Fatalf("the other extract's rows = %d, %v", len(other), err)
	}
}

func TestProjectRecordIDsKeepsTheProjectsOwn(t *testing.T) {
	var b strings.Builder
	b.WriteString("employeeID\n")
	for i := 0; i < 1200; i++ {
		fmt.Fprintf(&b, "E%d\n", i)
	}
	w := newFindWorld(t, b.String())
	mine, err := w.svc.FindRecords(w.ctx, w.extracts[0].ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	more, err := w.svc.FindRecords(w.ctx, w.extracts[0].ID, mine[len(mine)-1].ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	mine = append(mine, more...)
	theirs, err := w.svc.FindRecords(w.ctx, w.extracts[1].ID, 0, 10)
	if err != nil || len(mine) != 1200 {
		t.Fatalf("records: %d, %v", len(mine), err)
	}
	// More ids than one IN list holds, mixed with another project's and unknown ones.
	ids := []int64{theirs[0].ID, 999999, -1}
	for _, r := range mine {
		ids = append(ids, r.ID)
	}
	found, err := w.svc.ProjectRecordIDs(w.ctx, w.projects[0].ID, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != len(mine) {
		t.Fatalf("found %d ids, want the project's %d", len(found), len(mine))
	}
	have := map[int64]bool{}
	for _, id := range found {
		have[id] = true
	}
	if have[theirs[0].ID] || have[999999] || !have[mine[0].ID] || !have[mine[1199].ID] {
		t.Fatal("ProjectRecordIDs let another project's record (or an unknown id) through, or lost one of the project's")
	}
	if none, err := w.svc.ProjectRecordIDs(w.ctx, w.projects[0].ID, nil); err != nil || len(none) != 0 {
		t.Fatalf("no ids: %v, %v", none, err)
	}
}
