package auth_test

import (
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/auth"
)

var allPermissions = []auth.Permission{
	auth.PermProjectRead, auth.PermPlanEdit, auth.PermSourceEdit, auth.PermPrivacyReview, auth.PermRun, auth.PermPIIRead,
	auth.PermAuditRead, auth.PermMembersRead, auth.PermMembersManage, auth.PermProjectDelete,
}

func TestCanMatrix(t *testing.T) {
	tests := []struct {
		name    string
		isAdmin bool
		role    auth.Role
		perm    auth.Permission
		want    bool
	}{
		{"a viewer can read the plan", false, auth.RoleViewer, auth.PermProjectRead, true},
		{"a viewer cannot edit the plan", false, auth.RoleViewer, auth.PermPlanEdit, false},
		{"a viewer cannot edit sources", false, auth.RoleViewer, auth.PermSourceEdit, false},
		{"a viewer cannot read the audit log", false, auth.RoleViewer, auth.PermAuditRead, false},
		{"a viewer cannot manage members", false, auth.RoleViewer, auth.PermMembersManage, false},
		{"a project lead edits the plan", false, auth.RoleProjectLead, auth.PermPlanEdit, true},
		{"a project lead manages members", false, auth.RoleProjectLead, auth.PermMembersManage, true},
		{"a project lead deletes the project", false, auth.RoleProjectLead, auth.PermProjectDelete, true},
		{"a project lead does not sign off personal data", false, auth.RoleProjectLead, auth.PermPrivacyReview, false},
		{"a legal reviewer signs off personal data", false, auth.RoleLegalReviewer, auth.PermPrivacyReview, true},
		{"a legal reviewer reads the audit log", false, auth.RoleLegalReviewer, auth.PermAuditRead, true},
		{"a legal reviewer cannot edit the plan", false, auth.RoleLegalReviewer, auth.PermPlanEdit, false},
		{"an engineer runs loads", false, auth.RoleEngineer, auth.PermRun, true},
		{"an engineer edits sources", false, auth.RoleEngineer, auth.PermSourceEdit, true},
		{"an engineer cannot edit the plan", false, auth.RoleEngineer, auth.PermPlanEdit, false},
		{"an engineer sees staged personal data", false, auth.RoleEngineer, auth.PermPIIRead, true},
		{"a project lead sees staged personal data", false, auth.RoleProjectLead, auth.PermPIIRead, true},
		{"a viewer sees staged personal data masked", false, auth.RoleViewer, auth.PermPIIRead, false},
		{"a legal reviewer sees staged personal data masked", false, auth.RoleLegalReviewer, auth.PermPIIRead, false},
		{"an admin who is not a member sees no personal data", true, "", auth.PermPIIRead, false},
		{"an engineer cannot delete the project", false, auth.RoleEngineer, auth.PermProjectDelete, false},
		{"an admin who is not a member cannot read the plan", true, "", auth.PermProjectRead, false},
		{"an admin who is not a member cannot read the audit log", true, "", auth.PermAuditRead, false},
		{"an admin who is not a member can manage members", true, "", auth.PermMembersManage, true},
		{"an admin who is not a member can delete the project", true, "", auth.PermProjectDelete, true},
		{"an admin who is a viewer reads the plan but cannot edit it", true, auth.RoleViewer, auth.PermPlanEdit, false},
		{"a non-member cannot read", false, "", auth.PermProjectRead, false},
		{"an unknown role grants nothing", false, auth.Role("owner"), auth.PermProjectRead, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.Can(tt.isAdmin, tt.role, tt.perm); got != tt.want {
				t.Fatalf("Can(%v, %q, %q) = %v, want %v", tt.isAdmin, tt.role, tt.perm, got, tt.want)
			}
		})
	}
}

func TestMatrixInvariants(t *testing.T) {
	described := map[auth.Permission]bool{}
	for _, p := range auth.Permissions() {
		if p.Description == "" {
			t.Errorf("%s has no description", p.Perm)
		}
		described[p.Perm] = true
	}
	for _, p := range allPermissions {
		if !described[p] {
			t.Errorf("%s is missing from Permissions()", p)
		}
	}
	if len(described) != len(allPermissions) {
		t.Errorf("Permissions() lists %d permissions, this test knows %d: add the new one to allPermissions", len(described), len(allPermissions))
	}
	for _, r := range auth.Roles() {
		if !r.Valid() || r.Label() == string(r) || r.Label() == "" {
			t.Errorf("role %q: valid %v, label %q", r, r.Valid(), r.Label())
		}
		if !auth.Can(false, r, auth.PermProjectRead) || !auth.Can(false, r, auth.PermMembersRead) {
			t.Errorf("a %s cannot read the project they belong to", r)
		}
	}
	for _, p := range allPermissions {
		if auth.Can(false, "", p) {
			t.Errorf("a non-member non-admin may %s", p)
		}
		n := 0
		for _, r := range auth.Roles() {
			if auth.Can(false, r, p) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no role may %s", p)
		}
	}
	// Only legal reviewers sign off personal data, so that nobody bypasses them.
	for _, r := range auth.Roles() {
		if auth.Can(true, r, auth.PermPrivacyReview) != (r == auth.RoleLegalReviewer) {
			t.Errorf("%s (admin): privacy review = %v", r, auth.Can(true, r, auth.PermPrivacyReview))
		}
	}
	if auth.Role("").Valid() || auth.Role("Project_Lead").Valid() {
		t.Errorf("unknown roles are valid")
	}
}

func TestRolesMarkdownShowsTheMatrix(t *testing.T) {
	md := auth.RolesMarkdown()
	for _, r := range auth.Roles() {
		if !strings.Contains(md, "| "+r.Label()+" |") {
			t.Errorf("roles.md has no column for %s", r.Label())
		}
	}
	for _, p := range allPermissions {
		var row string
		for _, line := range strings.Split(md, "\n") {
			if strings.HasPrefix(line, "| `"+string(p)+"` |") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("roles.md has no row for %s", p)
			continue
		}
		cells := strings.Split(strings.Trim(row, "|"), "|")
		// permission, description, one cell per role, admin.
		if len(cells) != 2+len(auth.Roles())+1 {
			t.Errorf("row %q has %d cells", row, len(cells))
			continue
		}
		for i, r := range auth.Roles() {
			want := auth.Can(false, r, p)
			if got := strings.TrimSpace(cells[2+i]) == "yes"; got != want {
				t.Errorf("%s / %s: roles.md says %v, Can says %v", p, r, got, want)
			}
		}
		if got := strings.TrimSpace(cells[len(cells)-1]) == "yes"; got != auth.Can(true, "", p) {
			t.Errorf("%s / admin: roles.md says %v", p, got)
		}
	}
}
