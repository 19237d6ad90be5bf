package plan_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/plan"
)

func (f *fixture) readiness(t *testing.T, projectID int64) (plan.Readiness, *plan.Inventory) {
	t.Helper()
	inv, err := f.plan.FindInventory(context.Background(), projectID)
	if err != nil {
		t.Fatal(err)
	}
	return inv.Readiness(), inv
}

// item returns the checklist item whose label starts with prefix.
func item(t *testing.T, r plan.Readiness, prefix string) plan.ReadinessItem {
	t.Helper()
	for _, it := range r.Items {
		if strings.HasPrefix(it.Label, prefix) {
			return it
		}
	}
	t.Fatalf("no checklist item %q", prefix)
	return plan.ReadinessItem{}
}

func refs(rs []plan.Ref) string {
	var out []string
	for _, r := range rs {
		out = append(out, fmt.Sprintf("%s/%d/%s", r.Kind, r.ID, r.Label))
	}
	return strings.Join(out, ",")
}

func TestReadinessIsComputedFromTheData(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	f.mustProject(t, "Noise") // another project's data must not count
	ctx := f.ctx

	r, inv := f.readiness(t, p.ID)
	if r.Total != 11 || r.Done != 0 || r.Percent != 0 || len(r.Items) != r.Total {
		t.Fatalf("empty project: %d of %d done (%d%%)", r.Done, r.Total, r.Percent)
	}
	if got := refs(item(t, r, "At least one user type").Missing); got != "people/0/Add a user type" {
		t.Fatalf("missing user types ref = %s", got)
	}
	if got := refs(item(t, r, "At least one source").Missing); got != "sources/0/Add a source system" {
		t.Fatalf("missing sources ref = %s", got)
	}
	if got := refs(item(t, r, "Applications are identified").Missing); got != "applications/0/Add an application" {
		t.Fatalf("missing applications ref = %s", got)
	}
	if n := len(item(t, r, "Every goal question").Missing); n != 6 {
		t.Fatalf("unanswered goal refs = %d, want 6", n)
	}
	for section, started := range inv.Started() {
		if started || r.SectionStatus(section, started) != plan.StatusNotStarted {
			t.Fatalf("section %s started on an empty project", section)
		}
	}

	last := r.Percent
	step := func(name string) plan.Readiness {
		t.Helper()
		r, _ := f.readiness(t, p.ID)
		if r.Percent <= last {
			t.Fatalf("%s: readiness %d%%, want more than %d%%", name, r.Percent, last)
		}
		if r.Percent != r.Done*100/r.Total {
			t.Fatalf("%s: %d%% for %d of %d", name, r.Percent, r.Done, r.Total)
		}
		last = r.Percent
		return r
	}

	staff := f.mustUserType(t, p.ID, "Staff", 0)
	partners := f.mustUserType(t, p.ID, "Partners", 50)
	r = step("user types listed")
	if got := refs(item(t, r, "Every user type has a number").Missing); got != fmt.Sprintf("user_type/%d/Staff", staff.ID) {
		t.Fatalf("user types without count = %s", got)
	}
	_, inv = f.readiness(t, p.ID)
	if st := r.SectionStatus(plan.SectionPeople, inv.Started()[plan.SectionPeople]); st != plan.StatusAttention {
		t.Fatalf("people section = %s, want attention", st)
	}

	if _, err := f.plan.UpdateUserType(ctx, p.ID, staff.ID, 1, plan.UserTypeInput{UserCount: ptr(int64(100))}); err != nil {
		t.Fatal(err)
	}
	r = step("every user type counted")
	if st := r.SectionStatus(plan.SectionPeople, true); st != plan.StatusDone {
		t.Fatalf("people section = %s, want done", st)
	}

	ad := f.mustSource(t, p.ID, "AD", staff.ID)
	r = step("a source recorded")
	adRef := fmt.Sprintf("source/%d/AD", ad.ID)
	for _, prefix := range []string{"Every source has a person", "Access to every source", "Credentials, groups and memberships"} {
		if got := refs(item(t, r, prefix).Missing); got != adRef {
			t.Fatalf("%s: missing = %s, want %s", prefix, got, adRef)
		}
	}
	if got := refs(item(t, r, "Every user type has a source").Missing); got != fmt.Sprintf("user_type/%d/Partners", partners.ID) {
		t.Fatalf("user types without source = %s", got)
	}

	if _, err := f.plan.UpdateSource(ctx, p.ID, ad.ID, 1, plan.SourceInput{AccessOwner: ptr("Olga"), AccessStatus: ptr(plan.AccessGranted)}); err != nil {
		t.Fatal(err)
	}
	r = step("owner and access")
	// Credentials migrate but the hash format is not known yet: not decided.
	if _, err := f.plan.UpdateSource(ctx, p.ID, ad.ID, 2, plan.SourceInput{MigrateCredentials: ptr("yes"), PasswordHashFormat: ptr("unknown"), MigrateGroups: ptr("yes"), MigrateMemberships: ptr("yes")}); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.readiness(t, p.ID); item(t, r, "Credentials, groups").Done || r.Percent != last {
		t.Fatalf("an unknown hash format counts as decided")
	}
	if _, err := f.plan.UpdateSource(ctx, p.ID, ad.ID, 3, plan.SourceInput{PasswordHashFormat: ptr("bcrypt")}); err != nil {
		t.Fatal(err)
	}
	step("decisions made")
	if _, err := f.plan.UpdateSource(ctx, p.ID, ad.ID, 4, plan.SourceInput{UserTypeIDs: &[]int64{staff.ID, partners.ID}}); err != nil {
		t.Fatal(err)
	}
	r = step("every user type held by a source")
	if st := r.SectionStatus(plan.SectionSources, true); st != plan.StatusDone {
		t.Fatalf("sources section = %s", st)
	}

	wiki := f.mustApplication(t, p.ID, "Wiki")
	r = step("an application identified")
	if got := refs(item(t, r, "Every application names").Missing); got != fmt.Sprintf("application/%d/Wiki", wiki.ID) {
		t.Fatalf("incomplete applications = %s", got)
	}
	if _, err := f.plan.UpdateApplication(ctx, p.ID, wiki.ID, 1, plan.ApplicationInput{UserTypeIDs: &[]int64{staff.ID}}); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.readiness(t, p.ID); item(t, r, "Every application names").Done {
		t.Fatalf("an application with an unchecked OIN status counts as complete")
	}
	if _, err := f.plan.UpdateApplication(ctx, p.ID, wiki.ID, 2, plan.ApplicationInput{OINStatus: ptr("no")}); err != nil {
		t.Fatal(err)
	}
	step("the application is complete")

	answers := plan.GoalsInput{UserExperience: ptr("a"), AcceptableImpact: ptr("b"), ArchiveLegacyData: ptr("c"), PoliciesAndStandards: ptr("d"), OneShotAcceptable: ptr("e")}
	if _, err := f.plan.UpdateGoals(ctx, p.ID, 1, answers); err != nil {
		t.Fatal(err)
	}
	r, inv = f.readiness(t, p.ID)
	if got := item(t, r, "Every goal question").Missing; len(got) != 1 || got[0].Kind != "goals" || got[0].Label != plan.GoalQuestions()[5].Question {
		t.Fatalf("unanswered = %s, want only the last question", refs(got))
	}
	if !inv.Started()[plan.SectionGoals] || r.SectionStatus(plan.SectionGoals, true) != plan.StatusAttention {
		t.Fatalf("goals section not started or not needing attention")
	}
	if _, err := f.plan.UpdateGoals(ctx, p.ID, 2, plan.GoalsInput{StagesPreferred: ptr("f")}); err != nil {
		t.Fatal(err)
	}
	step("every question answered")
	if _, err := f.plan.UpdateGoals(ctx, p.ID, 3, plan.GoalsInput{Approach: ptr("staged"), Rationale: ptr("less risk")}); err != nil {
		t.Fatal(err)
	}
	r = step("approach chosen")
	if r.Percent != 100 || r.Done != r.Total {
		t.Fatalf("complete plan: %d of %d (%d%%)", r.Done, r.Total, r.Percent)
	}
	for _, it := range r.Items {
		if !it.Done || len(it.Missing) != 0 {
			t.Fatalf("item %q not done: %s", it.Label, refs(it.Missing))
		}
	}

	// A new, empty source brings the sources items back, pointing at it alone.
	ldap := f.mustSource(t, p.ID, "LDAP")
	r, _ = f.readiness(t, p.ID)
	if r.Percent >= 100 {
		t.Fatalf("readiness stayed at %d%% with an incomplete source", r.Percent)
	}
	ldapRef := fmt.Sprintf("source/%d/LDAP", ldap.ID)
	for _, prefix := range []string{"Every source has a person", "Access to every source", "Credentials, groups and memberships"} {
		if got := refs(item(t, r, prefix).Missing); got != ldapRef {
			t.Fatalf("%s: missing = %s, want %s", prefix, got, ldapRef)
		}
	}
	if !item(t, r, "Every user type has a source").Done {
		t.Fatalf("a source without user types made user types orphans")
	}
}

func TestInventoryEstimate(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	f.mustUserType(t, p.ID, "Customers", 100000, plan.SubgroupInput{Name: "EU", UserCount: 60000}, plan.SubgroupInput{Name: "US", UserCount: 40000})
	f.mustUserType(t, p.ID, "Partners", 20000)
	q := f.mustProject(t, "Other")
	f.mustUserType(t, q.ID, "Elsewhere", 999999)

	_, inv := f.readiness(t, p.ID)
	if inv.TotalUsers() != 120000 {
		t.Fatalf("total users = %d, want 120000 (subgroups are part of their user type)", inv.TotalUsers())
	}
	if got := inv.Estimate().String(); got != "120,000 users ≈ 4 h 10 min at 480 of 600/min" {
		t.Fatalf("estimate = %q", got)
	}
	// An Integrator Free org allows 100 a minute.
	if _, err := f.plan.UpdateProject(f.ctx, p.ID, 1, plan.ProjectInput{UserCreationRateLimit: ptr(100)}); err != nil {
		t.Fatal(err)
	}
	_, inv = f.readiness(t, p.ID)
	if got := inv.Estimate().String(); got != "120,000 users ≈ 1 d 1 h at 80 of 100/min" {
		t.Fatalf("estimate = %q", got)
	}
	_, err := f.plan.FindInventory(context.Background(), 9999)
	wantCode(t, err, apperr.CodeNotFound)
}

func TestEstimateLoad(t *testing.T) {
	tests := []struct {
		name         string
		users        int64
		limit, share int
		wantRate     int
		wantDuration time.Duration
		wantString   string
	}{
		{"the guidance's example", 120000, 600, 80, 480, 250 * time.Minute, "120,000 users ≈ 4 h 10 min at 480 of 600/min"},
		{"no users", 0, 600, 80, 480, 0, "0 users ≈ 0 min at 480 of 600/min"},
		{"one user takes a minute", 1, 600, 80, 480, time.Minute, "1 user ≈ 1 min at 480 of 600/min"},
		{"a partial minute rounds up", 481, 600, 80, 480, 2 * time.Minute, "481 users ≈ 2 min at 480 of 600/min"},
		{"an exact hour", 28800, 600, 80, 480, time.Hour, "28,800 users ≈ 1 h at 480 of 600/min"},
		{"the whole limit", 6000, 600, 100, 600, 10 * time.Minute, "6,000 users ≈ 10 min at 600 of 600/min"},
		{"days", 1000000, 100, 80, 80, 12500 * time.Minute, "1,000,000 users ≈ 8 d 16 h at 80 of 100/min"},
		{"a rate below one is one", 10, 1, 1, 1, 10 * time.Minute, "10 users ≈ 10 min at 1 of 1/min"},
		{"a large limit", 5000000, 1000000, 50, 500000, 10 * time.Minute, "5,000,000 users ≈ 10 min at 500,000 of 1,000,000/min"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := plan.EstimateLoad(tt.users, tt.limit, tt.share)
			if e.Users != tt.users || e.Limit != tt.limit || e.Share != tt.share || e.Rate != tt.wantRate || e.Duration != tt.wantDuration {
				t.Fatalf("estimate = %+v, want rate %d and %v", e, tt.wantRate, tt.wantDuration)
			}
			if got := e.String(); got != tt.wantString {
				t.Fatalf("String() = %q, want %q", got, tt.wantString)
			}
		})
	}
}

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0 min"},
		{59 * time.Second, "0 min"},
		{time.Minute, "1 min"},
		{59 * time.Minute, "59 min"},
		{time.Hour, "1 h"},
		{61 * time.Minute, "1 h 1 min"},
		{250 * time.Minute, "4 h 10 min"},
		{23*time.Hour + 59*time.Minute, "23 h 59 min"},
		{24 * time.Hour, "1 d 0 h"},
		{25*time.Hour + 30*time.Minute, "1 d 1 h"},
		{74 * time.Hour, "3 d 2 h"},
		{400 * 24 * time.Hour, "400 d 0 h"},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := plan.HumanDuration(tt.d); got != tt.want {
				t.Fatalf("HumanDuration(%v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestThousands(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0"},
		{7, "7"},
		{999, "999"},
		{1000, "1,000"},
		{12345, "12,345"},
		{120000, "120,000"},
		{999999, "999,999"},
		{1000000, "1,000,000"},
		{-1, "-1"},
		{-999, "-999"},
		{-1000, "-1,000"},
		{-123456, "-123,456"},
		{math.MaxInt64, "9,223,372,036,854,775,807"},
		{math.MinInt64, "-9,223,372,036,854,775,808"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			if got := plan.Thousands(tt.n); got != tt.want {
				t.Fatalf("Thousands(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestOptionsAndLabels(t *testing.T) {
	lists := map[string][]plan.Option{
		"migration types": plan.MigrationTypes(), "statuses": plan.ProjectStatuses(), "user type kinds": plan.UserTypeKinds(),
		"source kinds": plan.SourceKinds(), "access statuses": plan.AccessStatuses(), "decisions": plan.Decisions(),
		"hash formats": plan.PasswordHashFormats(), "access methods": plan.AccessMethods(), "assignment": plan.AssignmentBases(),
		"OIN statuses": plan.OINStatuses(), "approaches": plan.Approaches(),
	}
	for name, opts := range lists {
		seen := map[string]bool{}
		for _, o := range opts {
			if o.Value == "" || o.Label == "" || seen[o.Value] {
				t.Errorf("%s: bad or duplicate option %+v", name, o)
			}
			seen[o.Value] = true
			if plan.LabelOf(opts, o.Value) != o.Label {
				t.Errorf("%s: LabelOf(%q) = %q", name, o.Value, plan.LabelOf(opts, o.Value))
			}
		}
		if len(plan.Values(opts)) != len(opts) {
			t.Errorf("%s: Values has %d entries", name, len(plan.Values(opts)))
		}
	}
	if got := plan.LabelOf(plan.Decisions(), "<b>x</b>"); got != "<b>x</b>" {
		t.Errorf("LabelOf(unknown) = %q, want the value itself", got)
	}
	if kinds := strings.Join(plan.Values(plan.UserTypeKinds()), ","); kinds != "full_time_employee,part_time_employee,customer,partner,contractor,other" {
		t.Errorf("user type kinds = %s", kinds)
	}
}
