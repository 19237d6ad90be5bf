package quality_test

import (
	"context"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/db/dbtest"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// findWorld is two projects (nothing staged: a validation of nothing is a
// run all the same).
type findWorld struct {
	quality  *quality.Service
	ctx      context.Context
	clock    *dbtest.Clock
	projects [2]*plan.Project
}

func newFindWorld(t *testing.T) *findWorld {
	t.Helper()
	clock := dbtest.NewClock()
	d := dbtest.MustOpen(t, clock)
	as := auth.NewService(d, auth.Options{Now: clock.Now, Argon2: auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}})
	acct, err := as.CreateAccount(context.Background(), auth.AccountInput{Email: "eng@example.com", Name: "Eli", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	ps := plan.NewService(d, as)
	ms := mapping.NewService(d, schema.NewService(d), ps)
	w := &findWorld{ctx: audit.WithActor(context.Background(), audit.Actor{ID: acct.ID, Name: acct.Name}), clock: clock}
	w.quality = quality.NewService(d, ms, staging.NewService(d, clock.Now, ms), privacy.NewService(d, ms, ps, clock.Now), clock.Now)
	for i, name := range []string{"Acme", "Other"} {
		if w.projects[i], err = ps.CreateProject(w.ctx, acct.ID, plan.ProjectInput{Name: &name}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func TestRunsAreListedNewestFirstByKeyset(t *testing.T) {
	w := newFindWorld(t)
	var ids []int64
	for range 5 {
		w.clock.Advance(time.Minute)
		run, err := w.quality.Validate(w.ctx, w.projects[0].ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, run.ID)
	}
	if _, err := w.quality.Validate(w.ctx, w.projects[1].ID, nil); err != nil {
		t.Fatal(err)
	}
	var got []int64
	var before int64
	for {
		page, err := w.quality.FindRuns(w.ctx, w.projects[0].ID, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if r.ProjectID != w.projects[0].ID || r.Status != quality.RunDone {
				t.Fatalf("run = %+v", r)
			}
			got = append(got, r.ID)
		}
		before = page[len(page)-1].ID
	}
	if len(got) != 5 || got[0] != ids[4] || got[4] != ids[0] {
		t.Fatalf("runs = %v, want %v newest first", got, ids)
	}
	run, err := w.quality.FindRunByID(w.ctx, w.projects[0].ID, ids[2])
	if err != nil || run.ID != ids[2] || run.StartedAt.IsZero() {
		t.Fatalf("FindRunByID = %+v, %v", run, err)
	}
	if _, err := w.quality.FindRunByID(w.ctx, w.projects[1].ID, ids[2]); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("another project's run: err = %v", err)
	}
}

func TestATaskIsFoundByIDOnlyInItsProject(t *testing.T) {
	w := newFindWorld(t)
	title := "Fix the emails"
	task, err := w.quality.CreateTask(w.ctx, w.projects[0].ID, nil, quality.TaskInput{Title: &title})
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.quality.FindTaskByID(w.ctx, w.projects[0].ID, task.ID)
	if err != nil || got.Title != title || got.RecordIDs == nil || got.Version != 1 {
		t.Fatalf("FindTaskByID = %+v, %v", got, err)
	}
	if _, err := w.quality.FindTaskByID(w.ctx, w.projects[1].ID, task.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("another project's task: err = %v", err)
	}
}

func TestTaskChangesListWhatDiffersAmongTheFieldsSent(t *testing.T) {
	assignee := int64(7)
	stored := &quality.Task{Title: "Fix", IssueCode: quality.IssueBadEmail, RecordIDs: []int64{1, 2}, AssigneeID: &assignee,
		Status: quality.TaskDone, DueDate: "2026-04-01", Notes: "n"}
	none, other := int64(0), int64(9)
	for _, c := range []struct {
		name string
		in   quality.TaskInput
		want []apperr.FieldChange
	}{
		{"nothing sent", quality.TaskInput{}, nil},
		{"the same values, spaces aside", quality.TaskInput{Title: taskPtr(" Fix "), Status: taskPtr("done"), RecordIDs: &[]int64{1, 2}}, nil},
		{"a status, by its label", quality.TaskInput{Status: taskPtr(quality.TaskWontFix)},
			[]apperr.FieldChange{{Field: "status", Label: "Status", Stored: "Done", Yours: "Won't fix"}}},
		{"unassigning", quality.TaskInput{AssigneeID: &none}, []apperr.FieldChange{{Field: "assigneeId", Label: "Assignee", Stored: "7", Yours: ""}}},
		{"every field", quality.TaskInput{Title: taskPtr("Fix all"), IssueCode: taskPtr(""), RecordIDs: &[]int64{3}, AssigneeID: &other,
			DueDate: taskPtr(""), Notes: taskPtr("m")}, []apperr.FieldChange{
			{Field: "title", Label: "Title", Stored: "Fix", Yours: "Fix all"},
			{Field: "issueCode", Label: "Issue type", Stored: quality.IssueBadEmail, Yours: ""},
			{Field: "recordIds", Label: "Records", Stored: "1, 2", Yours: "3"},
			{Field: "assigneeId", Label: "Assignee", Stored: "7", Yours: "9"},
			{Field: "dueDate", Label: "Due date", Stored: "2026-04-01", Yours: ""},
			{Field: "notes", Label: "Notes", Stored: "n", Yours: "m"},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := quality.TaskChanges(stored, c.in)
			if len(got) != len(c.want) {
				t.Fatalf("changes = %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("change %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}
	if stored.Title != "Fix" || len(stored.RecordIDs) != 2 || *stored.AssigneeID != 7 {
		t.Fatalf("TaskChanges changed the stored task: %+v", stored)
	}
}

func taskPtr[T any](v T) *T { return &v }
