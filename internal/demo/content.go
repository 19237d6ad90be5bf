package demo

import (
	"context"
	"fmt"

	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
)

// The demo's plan: what a project lead of Acme Corp would have written down.

type userTypes struct {
	employees, contractors, temporary *plan.UserType
}

func (u userTypes) all() []int64 { return []int64{u.employees.ID, u.contractors.ID, u.temporary.ID} }

// share splits total by percentages, the last part taking the remainder.
func share(total int64, percents ...int64) []int64 {
	out := make([]int64, len(percents))
	var used int64
	for i, p := range percents {
		if i == len(percents)-1 {
			out[i] = total - used
			break
		}
		out[i] = total * p / 100
		used += out[i]
	}
	return out
}

func (s *Seeder) userTypes(ctx context.Context, projectID int64) (userTypes, error) {
	// The generator's mix of employee types: about 76% employees, 17%
	// contractors and vendors, 7% interns and temporary staff.
	total := int64(s.opts.HRUsers + s.opts.DirectoryUsers)
	counts := share(total, 76, 17, 7)
	type spec struct {
		kind, name, notes string
		subgroups         []string
		percents          []int64
	}
	specs := []spec{
		{"full_time_employee", "Employees", "Acme's own staff (in the HR system) and Globex's (in its Active Directory). They sign in to everything.",
			[]string{"Sales and marketing", "Engineering and product", "Operations and support", "Corporate functions"}, []int64{30, 35, 20, 15}},
		{"contractor", "Contractors and vendors", "Time-limited accounts, sponsored by a manager; they reach Salesforce and the wiki, not Workday.",
			[]string{"IT and engineering contractors", "Facilities and other vendors"}, []int64{70, 30}},
		{"part_time_employee", "Interns and temporary staff", "Short contracts; accounts must end on the contract's last day.",
			[]string{"Interns", "Temporary staff"}, []int64{40, 60}},
	}
	var made []*plan.UserType
	for i, sp := range specs {
		parts := share(counts[i], sp.percents...)
		sgs := make([]plan.SubgroupInput, len(sp.subgroups))
		for j, name := range sp.subgroups {
			sgs[j] = plan.SubgroupInput{Name: name, UserCount: parts[j]}
		}
		ut, err := s.svc.Plan.CreateUserType(ctx, projectID, plan.UserTypeInput{Kind: ptr(sp.kind), Name: ptr(sp.name),
			UserCount: ptr(counts[i]), Notes: ptr(sp.notes), Subgroups: &sgs})
		if err != nil {
			return userTypes{}, fmt.Errorf("user type %s: %w", sp.name, err)
		}
		made = append(made, ut)
	}
	return userTypes{employees: made[0], contractors: made[1], temporary: made[2]}, nil
}

func (s *Seeder) sources(ctx context.Context, projectID int64, ut userTypes) (hr, dir *plan.Source, err error) {
	day := func(daysAgo int) *string { return ptr(s.opts.Now().AddDate(0, 0, -daysAgo).Format("2006-01-02")) }
	all := ut.all()
	hr, err = s.svc.Plan.CreateSource(ctx, projectID, plan.SourceInput{
		Name:               ptr("HR system (Workday)"),
		Kind:               ptr("hr_system"),
		UserTypeIDs:        &all,
		AccessOwner:        ptr("Priya Raman, HRIS lead"),
		AccessStatus:       ptr(plan.AccessGranted),
		AccessStatusDate:   day(21),
		AccessReference:    ptr("CHG-20417"),
		MigrateCredentials: ptr(plan.DecisionNo),
		MigrateGroups:      ptr(plan.DecisionNo),
		MigrateMemberships: ptr(plan.DecisionNo),
		Notes:              ptr("Nightly CSV export of every active worker. The source of truth for names, titles, departments and managers; it holds no passwords."),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("source HR system: %w", err)
	}
	dir, err = s.svc.Plan.CreateSource(ctx, projectID, plan.SourceInput{
		Name:               ptr("Active Directory (Globex)"),
		Kind:               ptr("active_directory"),
		UserTypeIDs:        &all,
		AccessOwner:        ptr("Marcus Webb, Globex IT"),
		AccessStatus:       ptr(plan.AccessGranted),
		AccessStatusDate:   day(9),
		AccessReference:    ptr("GLX-8812"),
		MigrateCredentials: ptr(plan.DecisionNo),
		MigrateGroups:      ptr(plan.DecisionYes),
		MigrateMemberships: ptr(plan.DecisionYes),
		Notes:              ptr("The acquired company's directory, exported with ldifde. Active Directory cannot export password hashes: Globex people set a password at their first Okta sign-in."),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("source Active Directory: %w", err)
	}
	return hr, dir, nil
}

func (s *Seeder) applications(ctx context.Context, projectID int64, ut userTypes) error {
	apps := []plan.ApplicationInput{
		{Name: ptr("Salesforce"), AccessMethod: ptr("saml"), UserTypeIDs: &[]int64{ut.employees.ID, ut.contractors.ID},
			AssignmentBasis: ptr("group"), OINStatus: ptr("yes"), Notes: ptr("Sales and support teams; assigned through the Okta group of each team.")},
		{Name: ptr("Workday"), AccessMethod: ptr("saml"), UserTypeIDs: &[]int64{ut.employees.ID, ut.temporary.ID},
			AssignmentBasis: ptr("user_type"), OINStatus: ptr("yes"), Notes: ptr("Every employee, intern and temporary worker; contractors are not in Workday.")},
		{Name: ptr("Confluence (team wiki)"), AccessMethod: ptr("saml"), UserTypeIDs: ptr(ut.all()),
			AssignmentBasis: ptr("group"), OINStatus: ptr("yes")},
		{Name: ptr("Globex intranet (legacy)"), AccessMethod: ptr("header"), UserTypeIDs: &[]int64{ut.employees.ID},
			AssignmentBasis: ptr("attribute"), OINStatus: ptr("no"),
			Notes: ptr("In-house portal behind a reverse proxy that trusts a REMOTE_USER header. Needs Okta Access Gateway (or a rewrite) before Globex moves.")},
	}
	for _, in := range apps {
		if _, err := s.svc.Plan.CreateApplication(ctx, projectID, in); err != nil {
			return fmt.Errorf("application %s: %w", *in.Name, err)
		}
	}
	return nil
}

func (s *Seeder) goals(ctx context.Context, projectID int64) error {
	g, err := s.svc.Plan.FindGoals(ctx, projectID)
	if err != nil {
		return err
	}
	_, err = s.svc.Plan.UpdateGoals(ctx, projectID, g.Version, plan.GoalsInput{
		UserExperience: ptr("People sign in to Okta with the email address they use today. Acme staff get one email with a link to set " +
			"their password on the first day; Globex staff set one at their first sign-in. Nobody should have to call the help desk."),
		AcceptableImpact: ptr("One password-setting email per person and MFA enrolment at the first sign-in. No downtime of Salesforce or " +
			"Workday in business hours; a one-hour window on a Saturday morning is acceptable."),
		ArchiveLegacyData: ptr("Globex's Active Directory stays read-only for twelve months after its last wave, then is exported to the " +
			"legal archive and switched off. The HR system stays the source of truth."),
		PoliciesAndStandards: ptr("GDPR: only attributes with a lawful basis migrate, and personal mobile numbers only with consent. " +
			"Every production load needs an approved change (CAB)."),
		OneShotAcceptable: ptr(fmt.Sprintf("For Acme's own %d people, yes: one weekend is well within Okta's rate limits.", s.opts.HRUsers)),
		StagesPreferred:   ptr("For Globex, yes: department by department, once its legacy intranet works with Okta."),
		Approach:          ptr("staged"),
		Rationale: ptr("Two populations that are not equally ready: Acme in one wave first, then Globex in waves by department, so that " +
			"the help desk only ever sees a small share of people at once."),
	})
	if err != nil {
		return fmt.Errorf("goals: %w", err)
	}
	return nil
}

// Directory bookkeeping that is not part of anyone's profile.
var notMigrated = map[string]string{
	"dn":          "The entry's name in Globex's directory: Okta does not need it.",
	"objectClass": "LDAP schema bookkeeping, not a profile attribute.",
	"uid":         "Same value as employeeID, which is already mapped.",
}

// The HR fields legal has approved; the rest of the register is still open.
var approved = map[string]privacy.DecisionInput{
	"employeeID":        {Status: privacy.StatusApproved, Decision: privacy.DecisionMigrate, LawfulBasis: "contract"},
	"userPrincipalName": {Status: privacy.StatusApproved, Decision: privacy.DecisionMigrate, LawfulBasis: "contract"},
	"mail":              {Status: privacy.StatusApproved, Decision: privacy.DecisionMigrate, LawfulBasis: "contract"},
	"givenName":         {Status: privacy.StatusApproved, Decision: privacy.DecisionMigrate, LawfulBasis: "contract"},
	"sn":                {Status: privacy.StatusApproved, Decision: privacy.DecisionMigrate, LawfulBasis: "contract"},
	"displayName":       {Status: privacy.StatusApproved, Decision: privacy.DecisionMigrate, LawfulBasis: "contract"},
	"telephoneNumber": {Status: privacy.StatusApproved, Decision: privacy.DecisionMigrate, LawfulBasis: "legitimate_interests",
		Comment: "Office numbers only; they are in the company directory anyway."},
	"mobile": {Status: privacy.StatusChangesRequested,
		Comment: "Personal mobile numbers: migrate only for people who agreed to receive MFA codes on them. Please add the consent flag to the HR export."},
}

// matrixAndPrivacy finishes the matrix (directory bookkeeping is not
// migrated), confirms Ferry's personal-data suggestions and records legal's
// first decisions on the HR fields.
func (s *Seeder) matrixAndPrivacy(ctx context.Context, projectID, hrSourceID int64) error {
	fields, err := s.svc.Mapping.FindFields(ctx, projectID, 0)
	if err != nil {
		return err
	}
	for _, f := range fields {
		if note, ok := notMigrated[f.Name]; ok && f.SourceID != hrSourceID {
			if _, err := s.svc.Mapping.CreateRow(ctx, projectID, mapping.RowInput{SourceFieldID: ptr(f.ID), Status: ptr(mapping.StatusIgnored),
				Priority: ptr(1), Notes: ptr(note)}); err != nil {
				return fmt.Errorf("matrix row for %s: %w", f.Name, err)
			}
		}
		if f.PIISuggestion == "" || f.PII != mapping.PIIUnknown {
			continue
		}
		if _, err := s.svc.Mapping.UpdateField(ctx, projectID, f.ID, f.Version, mapping.FieldInput{PII: ptr(mapping.PIIYes),
			PIICategory: ptr(f.PIISuggestion)}); err != nil {
			return fmt.Errorf("personal data of %s: %w", f.Name, err)
		}
		if d, ok := approved[f.Name]; ok && f.SourceID == hrSourceID {
			if _, err := s.svc.Privacy.Decide(ctx, projectID, f.ID, 0, d); err != nil {
				return fmt.Errorf("privacy decision on %s: %w", f.Name, err)
			}
		}
	}
	return nil
}
