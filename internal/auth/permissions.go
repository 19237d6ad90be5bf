package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Role is what a member may do within one project.
type Role string

const (
	RoleProjectLead   Role = "project_lead"
	RoleLegalReviewer Role = "legal_reviewer"
	RoleEngineer      Role = "engineer"
	RoleViewer        Role = "viewer"
)

// Roles lists every project role, most powerful first.
func Roles() []Role {
	return []Role{RoleProjectLead, RoleLegalReviewer, RoleEngineer, RoleViewer}
}

// Label is the role's name for people.
func (r Role) Label() string {
	switch r {
	case RoleProjectLead:
		return "Project lead"
	case RoleLegalReviewer:
		return "Legal reviewer"
	case RoleEngineer:
		return "Engineer"
	case RoleViewer:
		return "Viewer"
	}
	return string(r)
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Permission is one thing a person may do inside a project.
type Permission string

const (
	// PermProjectRead: see the project's plan pages and API resources.
	PermProjectRead Permission = "project.read"
	// PermPlanEdit: edit the project, user types, applications and goals.
	PermPlanEdit Permission = "plan.edit"
	// PermSourceEdit: edit source systems (access, credentials, hash formats).
	PermSourceEdit Permission = "source.edit"
	// PermPrivacyReview: decide on and sign off personal data.
	PermPrivacyReview Permission = "privacy.review"
	// PermRun: stage extracts, validate, run test batches, loads and rollbacks.
	PermRun Permission = "run"
	// PermPIIRead: see personal data in staged records unmasked.
	PermPIIRead Permission = "pii.read"
	// PermAuditRead: read the project's audit log.
	PermAuditRead Permission = "audit.read"
	// PermMembersRead: see who is a member of the project.
	PermMembersRead Permission = "members.read"
	// PermMembersManage: add and remove members and change their roles.
	PermMembersManage Permission = "members.manage"
	// PermProjectDelete: delete the project and everything in it.
	PermProjectDelete Permission = "project.delete"
)

// PermissionInfo describes a permission for people (the roles page, docs/roles.md).
type PermissionInfo struct {
	Perm        Permission
	Description string
}

// Permissions lists every project permission with its description.
func Permissions() []PermissionInfo {
	return []PermissionInfo{
		{PermProjectRead, "Read the project: overview, people, sources, applications, goals"},
		{PermPlanEdit, "Edit the project settings, user types, applications and goals"},
		{PermSourceEdit, "Edit source systems: owners, access, credential and group decisions"},
		{PermPrivacyReview, "Decide on personal data and sign off the PII review"},
		{PermRun, "Stage extracts, validate data, run test batches, loads and rollbacks"},
		{PermPIIRead, "See personal data in staged records unmasked (others see it masked)"},
		{PermAuditRead, "Read the project's audit log"},
		{PermMembersRead, "See the project's members and their roles"},
		{PermMembersManage, "Add and remove members, change their roles"},
		{PermProjectDelete, "Delete the project and everything in it"},
	}
}

// rolePermissions is the permission matrix: the one place that says which
// role may do what. Everything else asks Can.
func rolePermissions(r Role) []Permission {
	switch r {
	case RoleProjectLead:
		return []Permission{PermProjectRead, PermPlanEdit, PermSourceEdit, PermPIIRead, PermAuditRead, PermMembersRead, PermMembersManage, PermProjectDelete}
	case RoleLegalReviewer:
		return []Permission{PermProjectRead, PermPrivacyReview, PermAuditRead, PermMembersRead}
	case RoleEngineer:
		return []Permission{PermProjectRead, PermSourceEdit, PermRun, PermPIIRead, PermAuditRead, PermMembersRead}
	case RoleViewer:
		return []Permission{PermProjectRead, PermMembersRead}
	}
	return nil
}

// adminProjectPermissions are what a console admin may do in any project,
// member or not: enough to repair membership (and so grant themselves a role,
// which is audited), never to read the plan's data unseen.
func adminProjectPermissions() []Permission {
	return []Permission{PermMembersRead, PermMembersManage, PermProjectDelete}
}

// Can reports whether an account holding role in a project (role is "" for a
// non-member) may exercise perm there.
func Can(isAdmin bool, role Role, perm Permission) bool {
	if slices.Contains(rolePermissions(role), perm) {
		return true
	}
	return isAdmin && slices.Contains(adminProjectPermissions(), perm)
}

// RolesMarkdown renders the permission matrix as docs/roles.md.
func RolesMarkdown() string {
	var b strings.Builder
	b.WriteString("# Roles and permissions\n\n")
	b.WriteString("<!-- Generated from internal/auth/permissions.go by `make docs`; a test fails when this file differs. -->\n\n")
	b.WriteString("An account is a console **admin** or not. Admins create, disable and reset accounts. ")
	b.WriteString("Within each project, every member holds one role. Any signed-in account may create a project and becomes its project lead.\n\n")
	b.WriteString("| permission | what it allows |")
	for _, r := range Roles() {
		b.WriteString(" " + r.Label() + " |")
	}
	b.WriteString(" Admin (not a member) |\n|---|---|")
	for range Roles() {
		b.WriteString("---|")
	}
	b.WriteString("---|\n")
	mark := func(ok bool) string {
		if ok {
			return " yes |"
		}
		return " – |"
	}
	for _, p := range Permissions() {
		fmt.Fprintf(&b, "| `%s` | %s |", p.Perm, p.Description)
		for _, r := range Roles() {
			b.WriteString(mark(Can(false, r, p.Perm)))
		}
		b.WriteString(mark(Can(true, "", p.Perm)))
		b.WriteString("\n")
	}
	b.WriteString("\nConsole-wide actions: creating a project (any signed-in account), managing your own API tokens (any signed-in account), ")
	b.WriteString("managing accounts (admins only). The server enforces this matrix on every page, form and API call; ")
	b.WriteString("every route names the permission it needs in `web/routes.go`.\n")
	return b.String()
}
