package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-migrate/ferry/internal/auth"
)

// Parallel guesses must not slip past the limit: the check and the count
// happen in one write transaction.
func TestParallelWrongPasswordsAreThrottledTogether(t *testing.T) {
	f := newFixture(t, auth.Options{FreeFailures: 3})
	f.mustAccount(t, "target@example.com", "Target", false)
	const attempts = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	var incorrect, throttled int
	for range attempts {
		wg.Go(func() {
			_, _, err := f.auth.SignIn(context.Background(), "target@example.com", "wrong password guess", "", "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				t.Error("a wrong password signed in")
			case strings.Contains(err.Error(), "Too many failed sign-ins"):
				throttled++
			case strings.Contains(err.Error(), "incorrect"):
				incorrect++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	wg.Wait()
	if incorrect != 3 || throttled != attempts-3 {
		t.Fatalf("incorrect=%d throttled=%d; want exactly 3 checked guesses and %d throttled", incorrect, throttled, attempts-3)
	}
}
