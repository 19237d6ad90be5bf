package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// setManagerRef saves a source's manager attribute and kind.
func (f *fixture) setManagerRef(sourceID int64, attribute, kind string) {
	f.t.Helper()
	if _, err := f.svc.SaveCutover(f.t.Context(), f.projectID, sourceID, 0, CutoverInput{ManagerAttribute: attribute, ManagerKind: kind}); err != nil {
		f.t.Fatalf("SaveCutover: %v", err)
	}
}

// provenanceOf is the okta_users row of a login.
func (f *fixture) provenanceOf(login string) OktaUser {
	f.t.Helper()
	for _, u := range f.oktaUsers() {
		if u.Login == login {
			return u
		}
	}
	f.t.Fatalf("no provenance for %s", login)
	return OktaUser{}
}

func TestManagerPassResolvesReferences(t *testing.T) {
	f := newFixture(t, fxOptions{})
	ad := f.addSource("AD", false)
	hr := f.addSource("HR", false)
	partners := f.addSource("Partners", false)
	f.setManagerRef(ad, "manager", ManagerKindDN)
	f.setManagerRef(hr, "managerNumber", ManagerKindEmployeeID)
	f.setManagerRef(partners, "sponsor", ManagerKindLogin)

	// AD: the boss, two reports by distinguished name (spelt differently),
	// one whose manager is in no extract, one whose manager Ferry never
	// created (its record is invalid, so never loaded), one without a manager.
	f.addRecord(ad, "boss@example.com", map[string][]string{"distinguishedName": {"CN=Bea Boss,OU=People,DC=acme,DC=com"}},
		map[string]string{"firstName": "Bea", "lastName": "Boss"})
	f.addRecord(ad, "ann@example.com", map[string][]string{"manager": {"cn=bea boss, ou=people, dc=acme, dc=com"}}, nil)
	f.addRecord(ad, "al@example.com", map[string][]string{"Manager": {"CN=Bea Boss,OU=People,DC=acme,DC=com"}}, nil)
	f.addRecord(ad, "lost@example.com", map[string][]string{"manager": {"CN=Nobody Known,OU=People,DC=acme,DC=com"}}, nil)
	out := f.addRecord(ad, "outsider@example.com", map[string][]string{"dn": {"CN=Otto Outsider,OU=People,DC=acme,DC=com"}}, nil)
	f.markInvalid(out, ad)
	f.addRecord(ad, "orphan@example.com", map[string][]string{"manager": {"CN=Otto Outsider,OU=People,DC=acme,DC=com"}}, nil)
	f.addRecord(ad, "free@example.com", nil, nil)
	// HR: by employee number.
	f.addRecord(hr, "hboss@example.com", map[string][]string{"employeeID": {"E100"}}, map[string]string{"firstName": "Hal", "lastName": "Head"})
	f.addRecord(hr, "hank@example.com", map[string][]string{"managerNumber": {"E100"}, "employeeNumber": {"E101"}}, nil)
	// Partners: by login, in another source, spelt in another case.
	f.addRecord(partners, "pat@example.com", map[string][]string{"sponsor": {"BOSS@Example.com"}}, nil)

	load := f.start(NewRun{Activate: true})
	f.mustExecute(load.ID)
	if c := f.counts(load.ID); c.Of(StateCreated) != 9 {
		for _, it := range f.items(load.ID) {
			t.Logf("%s %s %s %s", it.Login, it.State, it.ErrorCode, it.ErrorSummary)
		}
		t.Fatalf("load: %+v", c.State)
	}

	plan, err := f.svc.PlanManagers(t.Context(), f.projectID, NewManagerPass{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Users != 9 || plan.WithReference != 6 || plan.Resolved != 4 || plan.Unresolved != 2 || plan.WithoutReference != 3 || plan.AlreadySet != 0 {
		t.Errorf("plan: %+v", plan)
	}
	if len(plan.UnresolvedByKind) != 2 {
		t.Fatalf("unresolved by kind: %+v", plan.UnresolvedByKind)
	}
	reasons := map[string]UnresolvedReferences{}
	for _, u := range plan.UnresolvedByKind {
		reasons[u.Reason] = u
		if u.Kind != ManagerKindDN || u.Count != 1 || len(u.Examples) != 1 {
			t.Errorf("unresolved group %+v", u)
		}
		for _, ex := range u.Examples {
			if strings.Contains(ex, "Nobody") || strings.Contains(ex, "Otto") {
				t.Errorf("example not masked: %q", ex)
			}
		}
	}
	if _, ok := reasons[unresolvedNotFound]; !ok {
		t.Errorf("no not-found group: %+v", plan.UnresolvedByKind)
	}
	if _, ok := reasons[unresolvedNotCreated]; !ok {
		t.Errorf("no not-created group: %+v", plan.UnresolvedByKind)
	}

	run, _, err := f.svc.StartManagerPass(t.Context(), f.projectID, NewManagerPass{MaxInFlight: 2})
	if err != nil {
		t.Fatal(err)
	}
	if run.Kind != KindManagers || run.Total != 6 || run.Label() != fmt.Sprintf("Manager pass (run %d)", run.Number) {
		t.Fatalf("run: %+v", run)
	}
	got := f.mustExecute(run.ID)
	if got.Status != StatusDone || !strings.Contains(got.Message, "4 managers set, 2 skipped") {
		t.Errorf("run ended %s: %q", got.Status, got.Message)
	}
	boss, hboss := f.oktaUser("boss@example.com"), f.oktaUser("hboss@example.com")
	want := map[string][2]string{
		"ann@example.com":  {boss.ID, "Bea Boss"},
		"al@example.com":   {boss.ID, "Bea Boss"},
		"hank@example.com": {hboss.ID, "Hal Head"},
		"pat@example.com":  {boss.ID, "Bea Boss"},
	}
	for login, w := range want {
		u := f.oktaUser(login)
		if u.Profile.String("managerId") != w[0] || u.Profile.String("manager") != w[1] {
			t.Errorf("%s: managerId %q manager %q, want %v", login, u.Profile.String("managerId"), u.Profile.String("manager"), w)
		}
		if u.Profile.String("firstName") == "" || u.Profile.Login() != login {
			t.Errorf("%s: the partial update lost the profile: %v", login, u.Profile)
		}
		var sent map[string]any
		_ = json.Unmarshal([]byte(f.provenanceOf(login).ProfileJSON), &sent)
		if sent["managerId"] != w[0] || sent["manager"] != w[1] || sent["login"] != login {
			t.Errorf("%s: provenance profile %v", login, sent)
		}
	}
	// Unresolved references are skipped and reported, never guessed.
	for _, login := range []string{"lost@example.com", "orphan@example.com", "free@example.com", "boss@example.com"} {
		if u := f.oktaUser(login); u.Profile["managerId"] != nil || u.Profile["manager"] != nil {
			t.Errorf("%s got a manager: %v", login, u.Profile)
		}
	}
	for _, it := range f.items(run.ID) {
		switch it.Login {
		case "lost@example.com", "orphan@example.com":
			if it.State != StateSkipped || it.ErrorCode != CodeManagerUnresolved || !strings.Contains(it.ErrorSummary, "distinguished name") {
				t.Errorf("%s: %s %s %q", it.Login, it.State, it.ErrorCode, it.ErrorSummary)
			}
			if strings.Contains(it.ErrorSummary, "Nobody") || strings.Contains(it.ErrorSummary, "Otto") {
				t.Errorf("%s: the summary carries the reference: %q", it.Login, it.ErrorSummary)
			}
			if it.Login == "orphan@example.com" && !strings.Contains(it.ErrorSummary, "did not create") {
				t.Errorf("orphan: %q", it.ErrorSummary)
			}
		default:
			if it.State != StateUpdated || it.Action != ActionManager || it.Attempts != 1 {
				t.Errorf("%s: %s (%s) attempts %d", it.Login, it.State, it.ErrorSummary, it.Attempts)
			}
		}
	}
	if len(f.defects.calls) != 0 {
		t.Errorf("defects: %+v", f.defects.calls)
	}

	// Run again: the managers already set are left alone; only the
	// unresolved are reported again.
	plan2, err := f.svc.PlanManagers(t.Context(), f.projectID, NewManagerPass{})
	if err != nil {
		t.Fatal(err)
	}
	if plan2.AlreadySet != 4 || plan2.Unresolved != 2 {
		t.Errorf("second plan: %+v", plan2)
	}
	// One source only: nothing left to set there.
	if _, _, err := f.svc.StartManagerPass(t.Context(), f.projectID, NewManagerPass{SourceIDs: []int64{hr}}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("pass with everything set: %v", err)
	}
}

func TestManagerPassBadInput(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("AD", false)
	f.addRecords(src, "u", 2)
	// Nothing created yet.
	if _, _, err := f.svc.StartManagerPass(t.Context(), f.projectID, NewManagerPass{}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("no users: %v", err)
	}
	f.mustExecute(f.start(NewRun{Activate: true}).ID)
	// No manager attribute.
	if _, _, err := f.svc.StartManagerPass(t.Context(), f.projectID, NewManagerPass{}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("no setting: %v", err)
	}
	if _, err := f.svc.PlanManagers(t.Context(), f.projectID, NewManagerPass{SourceIDs: []int64{src + 100}}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("unknown source: %v", err)
	}
	if _, err := f.svc.PlanManagers(t.Context(), f.projectID, NewManagerPass{MaxInFlight: 1000}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("pace: %v", err)
	}
	// A manager attribute that nobody fills.
	f.setManagerRef(src, "manager", ManagerKindDN)
	if _, _, err := f.svc.StartManagerPass(t.Context(), f.projectID, NewManagerPass{}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("no references: %v", err)
	}
}

// countUpdates counts POST /api/v1/users/{id} by user id.
type countUpdates struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countUpdates) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/v1/users/") && strings.Count(r.URL.Path, "/") == 4 {
			c.mu.Lock()
			c.n[strings.TrimPrefix(r.URL.Path, "/api/v1/users/")]++
			c.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func TestManagerPassResumesAfterCrash(t *testing.T) {
	updates := &countUpdates{n: map[string]int{}}
	f := newFixture(t, fxOptions{Wrap: updates.wrap})
	src := f.addSource("AD", false)
	f.setManagerRef(src, "managerLogin", ManagerKindLogin)
	f.addRecord(src, "boss@example.com", nil, map[string]string{"firstName": "Bea", "lastName": "Boss"})
	var reports []string
	for i := 1; i <= 6; i++ {
		l := fmt.Sprintf("r%d@example.com", i)
		f.addRecord(src, l, map[string][]string{"managerLogin": {"boss@example.com"}}, nil)
		reports = append(reports, l)
	}
	f.mustExecute(f.start(NewRun{Activate: true}).ID)
	provBefore := len(f.oktaUsers())

	run, _, err := f.svc.StartManagerPass(t.Context(), f.projectID, NewManagerPass{MaxInFlight: 1})
	if err != nil {
		t.Fatal(err)
	}
	fired := crashOnce(t, "managerSet", 3)
	if err := f.execute(f.svc, run.ID); !errors.Is(err, errCrashed) || !fired.Load() {
		t.Fatalf("Execute = %v, want the simulated crash", err)
	}
	resumeAfterCrash(t, f, run.ID)
	if c := f.counts(run.ID); c.Of(StateUpdated) != 6 || c.Total != 6 {
		t.Errorf("after the resume: %+v", c.State)
	}
	if n := len(f.oktaUsers()); n != provBefore {
		t.Errorf("provenance rows %d, were %d", n, provBefore)
	}
	boss := f.oktaUser("boss@example.com")
	twice := 0
	for _, l := range reports {
		u := f.oktaUser(l)
		if u.Profile.String("managerId") != boss.ID || u.Profile.String("manager") != "Bea Boss" {
			t.Errorf("%s: %v", l, u.Profile)
		}
		switch updates.n[u.ID] {
		case 1:
		case 2:
			// Sent before the crash, its result not yet written: sent
			// again (harmless), never a third time.
			twice++
		default:
			t.Errorf("%s updated %d times", l, updates.n[u.ID])
		}
	}
	if twice < 1 || twice > 3 {
		t.Errorf("%d users updated twice, want those sent before the crash (at most 3)", twice)
	}
}
