package oktasim_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

func ids(t *testing.T, r response) []string {
	t.Helper()
	var out []string
	for _, m := range r.list(t) {
		out = append(out, m["id"].(string))
	}
	return out
}

func TestGroupAppsAreListedPagedAndGoWithTheGroup(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	gid := o.mustGroup("Sales")
	other := o.mustGroup("Support")
	var apps []string
	for _, a := range []struct{ label, mode string }{{"Salesforce", "SAML_2_0"}, {"Wiki", "BOOKMARK"}, {"Expenses", "AUTO_LOGIN"}} {
		id := o.sim.AddApp(a.label, a.mode)
		if !strings.HasPrefix(id, "0oa") || len(id) != 20 {
			t.Fatalf("app id %q", id)
		}
		if err := o.sim.AssignAppToGroup(id, gid); err != nil {
			t.Fatal(err)
		}
		apps = append(apps, id)
	}
	if err := o.sim.AssignAppToGroup(apps[0], gid); err != nil {
		t.Errorf("assigning twice: %v", err)
	}
	if err := o.sim.AssignAppToGroup(apps[0], "00gnothere0000000000"); err == nil {
		t.Error("an unknown group was accepted")
	}
	if err := o.sim.AssignAppToGroup("0oanothere0000000000", gid); err == nil {
		t.Error("an unknown app was accepted")
	}

	r := o.do("GET", "/api/v1/groups/"+gid+"/apps", nil)
	want(t, r, 200, "list apps")
	got := r.list(t)
	if len(got) != 3 {
		t.Fatalf("apps = %s", r.Body)
	}
	a := got[0]
	if a["id"] != apps[0] || a["label"] != "Salesforce" || a["status"] != "ACTIVE" || a["signOnMode"] != "SAML_2_0" ||
		!strings.Contains(a["name"].(string), "salesforce") || a["created"] == nil || path(a, "_links", "self", "href") == nil {
		t.Errorf("app = %v", a)
	}
	if got[1]["name"] != "bookmark" {
		t.Errorf("a bookmark app's key name = %v, want the spec's fixed bookmark", got[1]["name"])
	}
	if h := r.Header.Get("X-Rate-Limit-Limit"); h != "1200" {
		t.Errorf("X-Rate-Limit-Limit = %q, want the /api/v1 bucket's 1200", h)
	}

	// Paging with limit and after, and a Link rel="next".
	var seen []string
	next := "/api/v1/groups/" + gid + "/apps?limit=2"
	for pages := 0; next != ""; pages++ {
		if pages > 3 {
			t.Fatal("paging does not end")
		}
		r := o.do("GET", next, nil)
		want(t, r, 200, "page")
		seen = append(seen, ids(t, r)...)
		next = strings.TrimPrefix(links(t, r)["next"], o.srv.URL)
	}
	if !slices.Equal(seen, apps) {
		t.Errorf("paged %v, want %v", seen, apps)
	}
	wantError(t, o.do("GET", "/api/v1/groups/"+gid+"/apps?limit=0", nil), 400, "E0000001")

	if got := o.do("GET", "/api/v1/groups/"+other+"/apps", nil).list(t); len(got) != 0 {
		t.Errorf("a group with no apps lists %v", got)
	}
	wantError(t, o.do("GET", "/api/v1/groups/00gnothere0000000000/apps", nil), 404, "E0000007")

	// Deleting the group removes its assignments: a group of the same
	// name is a new group with no apps.
	want(t, o.do("DELETE", "/api/v1/groups/"+gid, nil), 204, "delete group")
	wantError(t, o.do("GET", "/api/v1/groups/"+gid+"/apps", nil), 404, "E0000007")
	again := o.mustGroup("Sales")
	if got := o.do("GET", "/api/v1/groups/"+again+"/apps", nil).list(t); len(got) != 0 {
		t.Errorf("a new group has apps %v", got)
	}
}

func TestAddAppRefusesAnUnknownSignOnMode(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	defer func() {
		if recover() == nil {
			t.Error("AddApp accepted signOnMode SAML3")
		}
	}()
	o.sim.AddApp("x", "SAML3")
}

func TestGroupRulesAreListedSearchedAndForgetDeletedGroups(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	sales := o.mustGroup("Sales")
	emea := o.mustGroup("EMEA")
	r1, err := o.sim.AddGroupRule("Sales department", `user.department=="Sales"`, []string{sales, emea}, true)
	if err != nil || !strings.HasPrefix(r1, "0pr") {
		t.Fatalf("AddGroupRule = %q, %v", r1, err)
	}
	r2, err := o.sim.AddGroupRule("Everyone in EMEA", `user.countryCode=="FR"`, []string{emea}, false)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]struct {
		name   string
		groups []string
	}{
		"empty name":    {"", []string{sales}},
		"long name":     {strings.Repeat("x", 51), []string{sales}},
		"no group":      {"r", nil},
		"unknown group": {"r", []string{"00gnothere0000000000"}},
	} {
		if _, err := o.sim.AddGroupRule(bad.name, "true", bad.groups, true); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	// The route is not taken for a group called "rules".
	r := o.do("GET", "/api/v1/groups/rules", nil)
	want(t, r, 200, "list rules")
	got := r.list(t)
	if len(got) != 2 {
		t.Fatalf("rules = %s", r.Body)
	}
	g := got[0]
	if g["id"] != r1 || g["type"] != "group_rule" || g["status"] != "ACTIVE" || g["name"] != "Sales department" ||
		path(g, "conditions", "expression", "value") != `user.department=="Sales"` ||
		path(g, "conditions", "expression", "type") != "urn:okta:expression:1.0" {
		t.Errorf("rule = %v", g)
	}
	if gids, _ := path(g, "actions", "assignUserToGroups", "groupIds").([]any); len(gids) != 2 || gids[0] != sales || gids[1] != emea {
		t.Errorf("groupIds = %v", gids)
	}
	if got[1]["status"] != "INACTIVE" || got[1]["_embedded"] != nil {
		t.Errorf("second rule = %v", got[1])
	}
	if h := r.Header.Get("X-Rate-Limit-Limit"); h != "1200" {
		t.Errorf("X-Rate-Limit-Limit = %q, want the /api/v1 bucket's 1200", h)
	}

	// search is a keyword in the name, ignoring case; the next link keeps it.
	q := url.Values{"search": {"emea"}}
	if got := ids(t, o.do("GET", "/api/v1/groups/rules?"+q.Encode(), nil)); !slices.Equal(got, []string{r2}) {
		t.Errorf("search emea = %v", got)
	}
	r = o.do("GET", "/api/v1/groups/rules?limit=1&search=e", nil)
	if got := ids(t, r); !slices.Equal(got, []string{r1}) {
		t.Errorf("first page = %v", got)
	}
	n := links(t, r)["next"]
	if !strings.Contains(n, "search=e") || !strings.Contains(n, "after="+r1) {
		t.Errorf("next link %q", n)
	}
	if got := ids(t, o.do("GET", strings.TrimPrefix(n, o.srv.URL), nil)); !slices.Equal(got, []string{r2}) {
		t.Errorf("second page = %v", got)
	}
	wantError(t, o.do("GET", "/api/v1/groups/rules?limit=x", nil), 400, "E0000001")

	// expand=groupIdToGroupNameMap embeds the names.
	g = o.do("GET", "/api/v1/groups/rules?expand=groupIdToGroupNameMap", nil).list(t)[0]
	if path(g, "_embedded", "groupIdToGroupNameMap", sales) != "Sales" || path(g, "_embedded", "groupIdToGroupNameMap", emea) != "EMEA" {
		t.Errorf("expanded rule = %v", g)
	}

	// Deleting a group takes its id out of the rules.
	want(t, o.do("DELETE", "/api/v1/groups/"+emea, nil), 204, "delete group")
	got = o.do("GET", "/api/v1/groups/rules", nil).list(t)
	if gids, _ := path(got[0], "actions", "assignUserToGroups", "groupIds").([]any); len(gids) != 1 || gids[0] != sales {
		t.Errorf("after deleting EMEA, rule 1 assigns to %v", gids)
	}
	if gids, _ := path(got[1], "actions", "assignUserToGroups", "groupIds").([]any); gids == nil || len(gids) != 0 {
		t.Errorf("after deleting EMEA, rule 2 assigns to %v, want []", gids)
	}
}
