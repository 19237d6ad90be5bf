package web_test

import (
	"context"
	"testing"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// describeProgramAnswers drives the migration program's operations to the
// answers the generic provocations do not reach: their successes, a stale
// and an invalid period, a bad page, an erase refused by the end check and
// one with the wrong name. The project has no hook user: its dashboard is
// empty, and only an override erases.
func describeProgramAnswers(t *testing.T, c *contract, p *plan.Project, leadTok string, validBody map[string]any, writerFor map[string]string) {
	t.Helper()
	const (
		program    = "/api/v1/projects/{pid}/program"
		settings   = "/api/v1/projects/{pid}/program/settings"
		stragglers = "/api/v1/projects/{pid}/program/stragglers"
		erase      = "/api/v1/projects/{pid}/program/erase"
	)
	app := c.app
	eng := app.mustAccount("program-engineer@example.com", "Pia Program", false)
	app.mustMember(p, eng, auth.RoleEngineer)
	engTok := app.mustToken(eng)
	writerFor[settings] = engTok
	// The stragglers are counted in the project's Okta org.
	token := "00abcdefghijklmnopqrstuvwxyz0123456789-_AB"
	if _, err := app.Orgs.Save(asActor(eng), p.ID, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: &token}); err != nil {
		t.Fatal(err)
	}
	validBody["PUT "+settings] = map[string]any{"version": 1, "periodDays": 45}
	validBody["POST "+erase] = map[string]any{"confirm": p.Name, "override": true}

	dashboard := c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: program, pid: p.ID, validRequest: true}), 200, "the program's dashboard")
	if dashboard["hookConfigured"] != false {
		t.Errorf("a project without a hook: %v", dashboard)
	}
	saved := c.want(c.do(apiCall{token: engTok, method: "PUT", tmpl: settings, pid: p.ID, validRequest: true,
		body: map[string]any{"version": 0, "periodDays": 90}}), 200, "save the period")
	if saved["periodDays"] != float64(90) || saved["version"] != float64(1) {
		t.Errorf("saved settings %v", saved)
	}
	stale := c.want(c.do(apiCall{token: engTok, method: "PUT", tmpl: settings, pid: p.ID, body: map[string]any{"version": 0, "periodDays": 30}}), 409, "a stale period")
	if e, _ := stale["error"].(map[string]any); e["currentVersion"] != float64(1) || e["changes"] == nil {
		t.Errorf("a stale period's answer %v", stale)
	}
	for _, body := range []any{
		map[string]any{"version": 1, "periodDays": 3},
		map[string]any{"version": 1, "periodDays": 100000},
		map[string]any{"version": 1},
		map[string]any{"periodDays": 30},
		map[string]any{"version": 1, "periodDays": "sixty"},
		map[string]any{"version": 1, "periodDays": 30, "colour": "blue"},
	} {
		c.want(c.do(apiCall{token: engTok, method: "PUT", tmpl: settings, pid: p.ID, body: body}), 422, "an invalid period")
	}

	page := c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: stragglers, pid: p.ID, query: "?limit=10", validRequest: true}), 200, "the stragglers")
	if page["total"] != float64(0) {
		t.Errorf("stragglers of a project without hook users %v", page)
	}
	for _, q := range []string{"?limit=0", "?limit=5000", "?after=-1", "?after=x"} {
		c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: stragglers, pid: p.ID, query: q}), 422, "a bad page "+q)
	}
	// The viewer may not see the stragglers' logins.
	viewer := app.mustAccount("program-viewer@example.com", "Val Viewer", false)
	app.mustMember(p, viewer, auth.RoleViewer)
	c.want(c.do(apiCall{token: app.mustToken(viewer), method: "GET", tmpl: stragglers, pid: p.ID}), 403, "a viewer reads the stragglers")

	c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: erase, pid: p.ID, body: map[string]any{"confirm": p.Name}}), 409, "erase before the end")
	for _, body := range []any{
		map[string]any{"confirm": "not the name", "override": true},
		map[string]any{"override": true},
		map[string]any{"confirm": p.Name, "override": "yes"},
	} {
		c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: erase, pid: p.ID, body: body}), 422, "an erase with the wrong confirmation")
	}
	erased := c.want(c.do(apiCall{token: leadTok, method: "POST", tmpl: erase, pid: p.ID, validRequest: true,
		body: map[string]any{"confirm": p.Name, "override": true}}), 200, "erase with an override")
	if erased["overridden"] != true {
		t.Errorf("erase %v", erased)
	}
	if s, err := app.Program.Dashboard(context.Background(), p.ID, app.Clock.Now()); err != nil || s.Settings.HashesErasedAt == nil {
		t.Errorf("the erase is not recorded: %+v %v", s, err)
	}
}
