package auth_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// mustProject creates a project led by lead, through the plan service as the console does.
func (f *fixture) mustProject(t *testing.T, lead *auth.Account, name string) *plan.Project {
	t.Helper()
	p, err := plan.NewService(f.db, f.auth).CreateProject(as(lead), lead.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatalf("create project %s: %v", name, err)
	}
	return p
}

func TestMemberships(t *testing.T) {
	f := newFixture(t, auth.Options{})
	lea := f.mustAccount(t, "lea@example.com", "Lea", false)
	vic := f.mustAccount(t, "vic@example.com", "Vic", false)
	eng := f.mustAccount(t, "eng@example.com", "Eng", false)
	p := f.mustProject(t, lea, "Acme")
	other := f.mustProject(t, vic, "Other")
	ctx := as(lea)

	if role, err := f.auth.RoleIn(context.Background(), lea.ID, p.ID); err != nil || role != auth.RoleProjectLead {
		t.Fatalf("creator's role = %q, %v; want project lead", role, err)
	}
	if role, err := f.auth.RoleIn(context.Background(), vic.ID, p.ID); err != nil || role != "" {
		t.Fatalf("non-member's role = %q, %v; want none", role, err)
	}

	vm, err := f.auth.AddMember(ctx, p.ID, "  VIC@example.com", auth.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if vm.Role != auth.RoleViewer || vm.AccountID != vic.ID || vm.Version != 1 || vm.Account == nil || vm.Account.Email != "vic@example.com" {
		t.Fatalf("membership = %+v", vm)
	}

	t.Run("adding refuses bad input", func(t *testing.T) {
		_, err := f.auth.AddMember(ctx, p.ID, "nobody@example.com", auth.RoleViewer)
		wantField(t, err, "email", "No account has this email")
		_, err = f.auth.AddMember(ctx, p.ID, "Vic@Example.com", auth.RoleEngineer)
		wantField(t, err, "email", "already a member")
		_, err = f.auth.AddMember(ctx, p.ID, "eng@example.com", auth.Role("owner"))
		wantField(t, err, "role", "Choose one of the roles")
		_, err = f.auth.AddMember(ctx, p.ID, "eng@example.com", "")
		wantField(t, err, "role", "Choose one of the roles")
		if role, _ := f.auth.RoleIn(context.Background(), vic.ID, p.ID); role != auth.RoleViewer {
			t.Fatalf("a refused duplicate changed the role to %q", role)
		}
	})

	t.Run("members are listed by name with their accounts", func(t *testing.T) {
		if _, err := f.auth.AddMember(ctx, p.ID, "eng@example.com", auth.RoleEngineer); err != nil {
			t.Fatal(err)
		}
		ms, err := f.auth.FindMembers(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range ms {
			if m.Account == nil || m.ProjectID != p.ID {
				t.Fatalf("membership without account or of another project: %+v", m)
			}
			names = append(names, m.Account.Name+":"+string(m.Role))
		}
		if got := strings.Join(names, ","); got != "Eng:engineer,Lea:project_lead,Vic:viewer" {
			t.Fatalf("members = %s", got)
		}
		roles, err := f.auth.RolesOf(context.Background(), vic.ID)
		if err != nil || len(roles) != 2 || roles[p.ID] != auth.RoleViewer || roles[other.ID] != auth.RoleProjectLead {
			t.Fatalf("RolesOf(vic) = %v, %v", roles, err)
		}
	})

	leadMembership := func() auth.Membership {
		ms, _ := f.auth.FindMembers(context.Background(), p.ID)
		for _, m := range ms {
			if m.AccountID == lea.ID {
				return m
			}
		}
		t.Fatalf("lead membership missing")
		return auth.Membership{}
	}

	t.Run("the only project lead cannot step down or be removed", func(t *testing.T) {
		lm := leadMembership()
		wantMessage(t, f.auth.UpdateMemberRole(ctx, p.ID, lm.ID, lm.Version, auth.RoleViewer), apperr.CodeInvalid, "at least one project lead")
		wantMessage(t, f.auth.RemoveMember(ctx, p.ID, lm.ID), apperr.CodeInvalid, "at least one project lead")
		if role, _ := f.auth.RoleIn(context.Background(), lea.ID, p.ID); role != auth.RoleProjectLead {
			t.Fatalf("role after refused changes = %q", role)
		}
	})

	t.Run("role changes check the version and the role", func(t *testing.T) {
		wantField(t, f.auth.UpdateMemberRole(ctx, p.ID, vm.ID, 1, auth.Role("root")), "role", "Choose one of the roles")
		if err := f.auth.UpdateMemberRole(ctx, p.ID, vm.ID, 1, auth.RoleProjectLead); err != nil {
			t.Fatal(err)
		}
		err := f.auth.UpdateMemberRole(ctx, p.ID, vm.ID, 1, auth.RoleEngineer)
		e := wantCode(t, err, apperr.CodeConflict)
		if e.CurrentVersion != 2 || len(e.Changes) != 1 || e.Changes[0].Field != "role" || e.Changes[0].Stored != "Project lead" || e.Changes[0].Yours != "Engineer" {
			t.Fatalf("conflict = %+v", e)
		}
		if role, _ := f.auth.RoleIn(context.Background(), vic.ID, p.ID); role != auth.RoleProjectLead {
			t.Fatalf("a conflicting change was written: role %q", role)
		}
		// A membership of another project is not found through this one.
		om, _ := f.auth.FindMembers(context.Background(), other.ID)
		wantCode(t, f.auth.UpdateMemberRole(ctx, p.ID, om[0].ID, om[0].Version, auth.RoleViewer), apperr.CodeNotFound)
		wantCode(t, f.auth.RemoveMember(ctx, p.ID, om[0].ID), apperr.CodeNotFound)
	})

	t.Run("with a second lead, the first may step down and be removed", func(t *testing.T) {
		lm := leadMembership()
		if err := f.auth.UpdateMemberRole(ctx, p.ID, lm.ID, lm.Version, auth.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if err := f.auth.RemoveMember(ctx, p.ID, lm.ID); err != nil {
			t.Fatal(err)
		}
		if role, _ := f.auth.RoleIn(context.Background(), lea.ID, p.ID); role != "" {
			t.Fatalf("removed member still has role %q", role)
		}
		// Vic is now the only lead.
		wantMessage(t, f.auth.RemoveMember(ctx, p.ID, vm.ID), apperr.CodeInvalid, "at least one project lead")
	})

	t.Run("every membership change is audited in the project", func(t *testing.T) {
		entries := f.auditEntries(t, "membership", 0)
		counts := map[string]int{}
		for _, e := range entries {
			if e.ProjectID == nil {
				t.Fatalf("membership entry without project: %+v", e)
			}
			if *e.ProjectID == p.ID {
				counts[e.Action]++
			}
		}
		// create: Lea (with the project), Vic, Eng; update: Vic→lead, Lea→viewer; delete: Lea.
		if counts["create"] != 3 || counts["update"] != 2 || counts["delete"] != 1 {
			t.Fatalf("membership audit counts in the project = %v", counts)
		}
	})

	t.Run("a disabled account cannot be added", func(t *testing.T) {
		admin := f.mustAccount(t, "admin@example.com", "Admin", true)
		if _, err := f.auth.UpdateAccount(as(admin), eng.ID, 1, auth.AccountUpdate{Disabled: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		_, err := f.auth.AddMember(ctx, other.ID, "eng@example.com", auth.RoleEngineer)
		wantField(t, err, "email", "disabled")
	})
}
