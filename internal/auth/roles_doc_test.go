package auth_test

import (
	"flag"
	"os"
	"testing"

	"github.com/ferry-migrate/ferry/internal/auth"
)

var update = flag.Bool("update", false, "rewrite docs/roles.md from the permission matrix")

// docs/roles.md is generated from the permission matrix; it must never drift.
func TestRolesDocIsCurrent(t *testing.T) {
	const path = "../../docs/roles.md"
	want := auth.RolesMarkdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (run `make docs`)", path, err)
	}
	if string(got) != want {
		t.Fatalf("%s differs from the permission matrix in internal/auth/permissions.go; run `make docs` and commit it", path)
	}
}
