package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLeadCreatesProjectAndUserType(t *testing.T) {
	app := newTestApp(t)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	b := app.signedIn(lead)

	res := b.post("/projects", url.Values{"name": {"Acme"}, "migration_type": {"one_time"}, "status": {"planning"},
		"user_creation_rate_limit": {"600"}, "load_rate_share_percent": {"80"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create project: %d %s", res.StatusCode, res.Body)
	}
	loc := res.Header.Get("Location")
	res = b.get(loc)
	if res.StatusCode != 200 || !strings.Contains(res.Body, "Acme") {
		t.Fatalf("overview: %d", res.StatusCode)
	}
	res = b.post(loc+"/people", url.Values{"kind": {"customer"}, "name": {"Retail"}, "user_count": {"120000"},
		"subgroup_name": {"EU", "US", ""}, "subgroup_count": {"70000", "50000", ""}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create user type: %d %s", res.StatusCode, res.Body)
	}
	res = b.get(loc)
	if !strings.Contains(res.Body, "120,000 users ≈ 4 h 10 min at 480 of 600/min") {
		t.Fatalf("overview lacks the estimate:\n%s", res.Body)
	}
}
