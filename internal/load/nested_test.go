package load

import (
	"slices"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

const groupsLDIF = `version: 1

# Sales is in Staff, Staff in Everyone; Loop A and Loop B contain each other.
dn: CN=Sales,OU=Groups,DC=acme,DC=example
cn: Sales
memberOf: CN=Staff,OU=Groups,DC=acme,DC=example

dn: CN=Staff,OU=Groups,DC=acme,DC=example
cn: Staff
memberOf: CN=Everyone,OU=Groups,DC=acme,DC=example

dn: CN=Everyone,OU=Groups,DC=acme,DC=example
cn: Everyone

dn: CN=Loop A,OU=Groups,DC=acme,DC=example
cn: Loop A
memberOf: CN=Loop B,OU=Groups,DC=acme,DC=example

dn: CN=Loop B,OU=Groups,DC=acme,DC=example
cn: Loop B
memberOf: CN=Loop A,OU=Groups,DC=acme,DC=example
`

// A user in Sales is also put in Staff and Everyone when the source's
// hierarchy is flattened, and the pre-flight says so first.
func TestNestedGroupsFlattened(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("AD", true)
	f.addRecord(src, "sally@example.com", map[string][]string{"memberOf": {"CN=Sales, OU=Groups, DC=acme, DC=example"}}, nil)
	f.addRecord(src, "lou@example.com", map[string][]string{"memberOf": {"CN=Loop A,OU=Groups,DC=acme,DC=example"}}, nil)
	h, err := f.svc.ImportHierarchy(t.Context(), f.projectID, src, strings.NewReader(groupsLDIF), "groups.ldif")
	if err != nil || h.Groups != 5 || h.Flatten {
		t.Fatalf("import: %+v %v", h, err)
	}
	// Not flattened yet: direct memberships only.
	rep, err := f.svc.Preflight(t.Context(), f.projectID, NewRun{})
	if err != nil || rep.Nesting != nil {
		t.Fatalf("preflight before flattening: %+v %v", rep, err)
	}
	if err := f.svc.SetFlatten(t.Context(), f.projectID, src, true); err != nil {
		t.Fatal(err)
	}
	rep, err = f.svc.Preflight(t.Context(), f.projectID, NewRun{})
	if err != nil || rep.Nesting == nil || rep.Nesting.Added != 3 || rep.Nesting.UsersGaining() != 2 {
		t.Fatalf("preflight: %+v %v", rep.Nesting, err)
	}
	if c := checkNamed(rep, "Nested groups"); !strings.Contains(c.Detail, "adds 3 group membership(s) to 2 of 2 users") {
		t.Errorf("nested groups check: %q", c.Detail)
	}
	run := f.start(NewRun{Activate: true})
	f.mustExecute(run.ID)
	if got := f.userGroups(f.oktaUser("sally@example.com").ID); !slices.Equal(got, []string{"Everyone", "Ferry: AD", "Sales", "Staff"}) {
		t.Errorf("sally's groups: %v", got)
	}
	if got := f.userGroups(f.oktaUser("lou@example.com").ID); !slices.Equal(got, []string{"Ferry: AD", "Loop A", "Loop B"}) {
		t.Errorf("lou's groups (a cycle): %v", got)
	}
}

func TestImportHierarchyCSVAndBadFiles(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("AD", true)
	csv := "group,parent\nSales,Staff\nSales,Emea\nStaff,\n"
	h, err := f.svc.ImportHierarchy(t.Context(), f.projectID, src, strings.NewReader(csv), "groups.csv")
	if err != nil || h.Groups != 3 {
		t.Fatalf("CSV import: %+v %v", h, err)
	}
	n, err := f.svc.nestingsToFlatten(t.Context(), f.projectID)
	if err != nil || len(n) != 0 {
		t.Fatalf("not flattened: %v %v", n, err)
	}
	_ = f.svc.SetFlatten(t.Context(), f.projectID, src, true)
	n, _ = f.svc.nestingsToFlatten(t.Context(), f.projectID)
	if got := n[src].expand([]string{"sales"}); !slices.Equal(got, []string{"Sales", "Staff", "Emea"}) {
		t.Errorf("expand: %v", got)
	}
	for name, body := range map[string]string{
		"empty":           "",
		"no group column": "name,parent\nSales,Staff\n",
		"binary":          "\x00\x01\x02\xff\xfe",
		"unterminated":    "group,parent\n\"Sales,Staff\n",
	} {
		_, err := f.svc.ImportHierarchy(t.Context(), f.projectID, src, strings.NewReader(body), "bad")
		if apperr.CodeOf(err) != apperr.CodeInvalid {
			t.Errorf("%s: %v, want a clear refusal", name, err)
		}
	}
	// The refused files changed nothing.
	n, _ = f.svc.nestingsToFlatten(t.Context(), f.projectID)
	if got := n[src].expand([]string{"Sales"}); len(got) != 3 {
		t.Errorf("after refused imports: %v", got)
	}
	if _, err := f.svc.ImportHierarchy(t.Context(), f.projectID, 9999, strings.NewReader(csv), "x"); apperr.CodeOf(err) != apperr.CodeNotFound {
		t.Errorf("unknown source: %v", err)
	}
	if err := f.svc.SetFlatten(t.Context(), f.projectID, 9999, true); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("flatten without a hierarchy: %v", err)
	}
}
