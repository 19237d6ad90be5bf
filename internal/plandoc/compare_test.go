package plandoc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/plandoc"
)

// comparePlan is a plan with something in every section.
func comparePlan() *plandoc.Plan {
	return &plandoc.Plan{Format: plandoc.Format, Version: plandoc.FormatVersion,
		Project: plandoc.Project{Name: "Acme", MigrationType: "one_time", UserCreationRateLimit: 600, LoadRateSharePercent: 80},
		Goals:   plandoc.Goals{Approach: "staged", Rationale: "Less risk."},
		UserTypes: []plandoc.UserType{{Name: "Staff", Kind: "full_time_employee", UserCount: 100,
			Subgroups: []plandoc.Subgroup{{Name: "EU", UserCount: 60}, {Name: "US", UserCount: 40}}}},
		Sources: []plandoc.Source{{Name: "AD", Kind: "active_directory", UserTypes: []string{"Staff"},
			Fields:    []plandoc.Field{{Name: "mail", DataType: "string", PII: "yes", PIICategory: "contact"}, {Name: "cn", DataType: "string"}},
			Passwords: &plandoc.PasswordSettings{Attribute: "userPassword", Formats: []string{"bcrypt"}},
			Cutover:   plandoc.Cutover{StatusAttribute: "userAccountControl", DisabledAction: "suspend"}}},
		Applications: []plandoc.Application{{Name: "Payroll", AccessMethod: "saml"}, {Name: "Wiki", AccessMethod: "oidc"}},
		Profile:      plandoc.Profile{CustomAttributes: []plandoc.CustomAttribute{{Name: "costCentre", Type: "string"}}},
		Matrix: []plandoc.MatrixRow{
			{Source: "AD", Field: "mail", Status: "mapped", Target: "email", Priority: 1},
			{Source: "AD", Field: "mail", Status: "mapped", Target: "login", Priority: 1},
			{Source: "AD", Field: "cn", Status: "mapped", Target: "displayName", Priority: 1},
		},
		Privacy: plandoc.Privacy{Decisions: []plandoc.PrivacyDecision{{Source: "AD", Field: "mail", Status: "approved", Decision: "migrate",
			DecidedBy: "Lou Legal", DecidedAt: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}},
		Testing: plandoc.Testing{Ladder: []int{10, 100}, ErrorThreshold: 0.02, Leavers: "report"},
		Defects: []plandoc.Defect{{Number: 1, Description: "Apostrophes", TestStatus: "failed", TicketStatus: "open", Priority: "high", Category: "hr"}},
	}
}

func TestCompareListsAddedRemovedAndChangedFieldsInEverySection(t *testing.T) {
	a, b := comparePlan(), comparePlan()
	b.Project.LoadRateSharePercent = 50
	b.Goals.Approach = "one_shot"
	b.UserTypes[0].Subgroups = []plandoc.Subgroup{{Name: "EU", UserCount: 70}}
	b.UserTypes[0].Name = "STAFF " // the same user type, as the services compare names
	b.Sources[0].Passwords = nil
	b.Sources[0].Cutover.DisabledAction = "deactivate"
	b.Sources[0].Fields = []plandoc.Field{{Name: "mail", DataType: "string", PII: "no"}, {Name: "uid", DataType: "string"}}
	b.Applications = []plandoc.Application{{Name: "Wiki", AccessMethod: "saml"}, {Name: "Zoom", AccessMethod: "oidc"}}
	b.Profile.EmailUnique = true
	b.Profile.CustomAttributes = nil
	// cn's only row changes target (one changed row); mail's two rows lose one.
	b.Matrix = []plandoc.MatrixRow{
		{Source: "AD", Field: "mail", Status: "mapped", Target: "email", Priority: 1, Transform: plandoc.RawJSON(`[ {"op": "lower"} ]`)},
		{Source: "AD", Field: "cn", Status: "mapped", Target: "nickName", Priority: 1},
	}
	b.Privacy.SignOff = &plandoc.SignOff{SignedBy: "Lou Legal", SignedAt: time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC), FieldCount: 1}
	b.Testing.Ladder = []int{10, 100, 1000}
	b.Defects[0].TicketStatus = "closed"
	b.Defects = append(b.Defects, plandoc.Defect{Number: 2, Description: "Managers"})

	diffs := plandoc.Compare(a, b)
	got := map[string]plandoc.SectionDiff{}
	for _, d := range diffs {
		got[d.Key] = d
	}
	change := func(key, item, field string) plandoc.FieldChange {
		t.Helper()
		for _, c := range got[key].Changed {
			if c.Item == item {
				return fieldChange(t, c, field)
			}
		}
		t.Fatalf("%s: %q did not change: %+v", key, item, got[key])
		return plandoc.FieldChange{}
	}
	checks := []struct {
		name       string
		have, want plandoc.FieldChange
	}{
		{"project", change("project", "Project settings", "load rate share percent"), plandoc.FieldChange{"load rate share percent", "80", "50"}},
		{"goals", change("goals", "Goals", "approach"), plandoc.FieldChange{"approach", "staged", "one_shot"}},
		{"subgroups", change("user_types", "STAFF ", "subgroups"), plandoc.FieldChange{"subgroups", "EU (60), US (40)", "EU (70)"}},
		{"renamed in case only", change("user_types", "STAFF ", "name"), plandoc.FieldChange{"name", "Staff", "STAFF "}},
		{"password settings removed", change("sources", "AD", "passwords"), plandoc.FieldChange{"passwords", "set", "not set"}},
		{"password attribute", change("sources", "AD", "passwords: attribute"), plandoc.FieldChange{"passwords: attribute", "userPassword", ""}},
		{"cut-over", change("sources", "AD", "cutover: disabled action"), plandoc.FieldChange{"cutover: disabled action", "suspend", "deactivate"}},
		{"field", change("source_fields", "AD › mail", "pii"), plandoc.FieldChange{"pii", "yes", "no"}},
		{"application", change("applications", "Wiki", "access method"), plandoc.FieldChange{"access method", "oidc", "saml"}},
		{"profile", change("profile", "Profile settings", "email unique"), plandoc.FieldChange{"email unique", "no", "yes"}},
		{"matrix transform", change("matrix", "AD › mail → email", "transform"), plandoc.FieldChange{"transform", "", `[{"op":"lower"}]`}},
		{"matrix target", change("matrix", "AD › cn", "target"), plandoc.FieldChange{"target", "displayName", "nickName"}},
		{"sign-off", change("privacy", "Register sign-off", "sign off: signed by"), plandoc.FieldChange{"sign off: signed by", "", "Lou Legal"}},
		{"testing", change("testing", "Test plan", "ladder"), plandoc.FieldChange{"ladder", "10, 100", "10, 100, 1000"}},
		{"defect", change("defects", "D-1", "ticket status"), plandoc.FieldChange{"ticket status", "open", "closed"}},
	}
	for _, c := range checks {
		if c.have != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, c.have, c.want)
		}
	}
	lists := []struct {
		key, added, removed string
	}{
		{"source_fields", "AD › uid", "AD › cn"},
		{"applications", "Zoom", "Payroll"},
		{"profile", "", "custom attribute costCentre"},
		{"matrix", "", "AD › mail → login"},
		{"defects", "D-2", ""},
		{"user_types", "", ""},
	}
	for _, l := range lists {
		d := got[l.key]
		if strings.Join(d.Added, "|") != l.added || strings.Join(d.Removed, "|") != l.removed {
			t.Errorf("%s: added %q removed %q, want %q and %q", l.key, d.Added, d.Removed, l.added, l.removed)
		}
	}
	if a.Sources[0].Fields == nil || len(a.Matrix) != 3 {
		t.Error("Compare changed the plans it compared")
	}
	// The order of the input does not matter.
	b.Applications[0], b.Applications[1] = b.Applications[1], b.Applications[0]
	if !equalDiffs(plandoc.Compare(a, b), diffs) {
		t.Error("the answer depends on the order of the plan's lists")
	}
}

func TestCompareWithNothingListsEverythingAsAdded(t *testing.T) {
	diffs := plandoc.Compare(nil, comparePlan())
	for _, d := range diffs {
		if d.Key == "applications" && strings.Join(d.Added, "|") != "Payroll|Wiki" {
			t.Errorf("applications: %+v", d)
		}
		if d.Key == "matrix" && len(d.Added) != 3 {
			t.Errorf("matrix: %+v", d)
		}
	}
	if plandoc.Unchanged(diffs) {
		t.Error("a plan compared with nothing is unchanged")
	}
}
