package plan_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// Many people saving at once: every create succeeds, each with its audit entry.
func TestConcurrentCreatesAllSucceed(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	before := f.auditCount(t)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := f.plan.CreateUserType(f.ctx, p.ID, plan.UserTypeInput{Kind: ptr("customer"), Name: ptr(fmt.Sprint("type ", i)), UserCount: ptr(int64(i)),
				Subgroups: &[]plan.SubgroupInput{{Name: "a", UserCount: 1}}})
			if err != nil {
				errs <- err
				return
			}
			if _, err := f.plan.CreateSource(f.ctx, p.ID, plan.SourceInput{Name: ptr(fmt.Sprint("source ", i)), Kind: ptr("ldap"), UserTypeIDs: &[]int64{u.ID}}); err != nil {
				errs <- err
			}
			if _, err := f.plan.FindInventory(context.Background(), p.ID); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent create: %v", err)
	}
	uts, _ := f.plan.FindUserTypes(context.Background(), p.ID)
	srcs, _ := f.plan.FindSources(context.Background(), p.ID)
	if len(uts) != n || len(srcs) != n {
		t.Fatalf("user types %d, sources %d; want %d each", len(uts), len(srcs), n)
	}
	if got := f.auditCount(t) - before; got != 2*n {
		t.Fatalf("audit entries = %d, want %d", got, 2*n)
	}
}

// Many people saving the same version at once: exactly one wins, the others
// get a conflict, and exactly one update is recorded.
func TestConcurrentUpdatesOfOneVersionLetOneWin(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	u := f.mustUserType(t, p.ID, "Staff", 1)
	const n = 16
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.plan.UpdateUserType(f.ctx, p.ID, u.ID, 1, plan.UserTypeInput{UserCount: ptr(int64(100 + i))})
			results <- err
		}()
	}
	wg.Wait()
	close(results)
	wins, conflicts := 0, 0
	for err := range results {
		switch {
		case err == nil:
			wins++
		case apperr.Is(err, apperr.CodeConflict):
			conflicts++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 || conflicts != n-1 {
		t.Fatalf("wins %d, conflicts %d; want 1 and %d", wins, conflicts, n-1)
	}
	stored, _ := f.plan.FindUserTypeByID(context.Background(), p.ID, u.ID)
	if stored.Version != 2 {
		t.Fatalf("version = %d, want 2", stored.Version)
	}
	if h := f.history(t, "user_type", u.ID); len(h) != 2 {
		t.Fatalf("history = %d entries, want create and one update", len(h))
	}
}
