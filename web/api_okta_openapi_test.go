package web_test

import (
	"context"
	"testing"

	"github.com/ferry-migrate/ferry/internal/plan"
)

// describeOktaOrgAnswers drives the Okta org operations to the answers the
// generic provocations of TestOpenAPIDescribesEveryAnswer do not reach (a
// PUT's 409 and 422, the deletes), and adds their valid bodies to
// validBody for the rest.
func describeOktaOrgAnswers(t *testing.T, c *contract, p *plan.Project, leadTok string, validBody map[string]any) {
	t.Helper()
	const okta = "/api/v1/projects/{pid}/okta"
	validBody["PUT "+okta] = map[string]any{"version": 0, "url": "https://acme.okta.com", "authScheme": "ssws", "token": "00abcdefghijklmnopqrstuvwxyz0123456789-_AB"}

	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: okta, pid: p.ID, validRequest: true}), 200, "no Okta org yet")
	c.want(c.do(apiCall{token: leadTok, method: "PUT", tmpl: okta, pid: p.ID, validRequest: true, body: validBody["PUT "+okta]}), 200, "connect the Okta org")
	c.want(c.do(apiCall{token: leadTok, method: "PUT", tmpl: okta, pid: p.ID, validRequest: true,
		body: map[string]any{"version": 1, "url": "http://127.0.0.1:8089/", "authScheme": "bearer"}}), 200, "change the connection, keeping the token")
	if _, err := c.app.Orgs.RecordCheck(context.Background(), p.ID, 2, true, true, "Ferry's sandbox answered."); err != nil {
		t.Fatal(err)
	}
	c.want(c.do(apiCall{token: leadTok, method: "GET", tmpl: okta, pid: p.ID, validRequest: true}), 200, "a checked connection")
	c.want(c.do(apiCall{token: leadTok, method: "PUT", tmpl: okta, pid: p.ID,
		body: map[string]any{"version": 1, "url": "https://acme.okta.com", "authScheme": "ssws"}}), 409, "a stale PUT")
	c.want(c.do(apiCall{token: leadTok, method: "PUT", tmpl: okta, pid: p.ID,
		body: map[string]any{"version": 2, "url": "https://acme-admin.okta.com", "authScheme": "ssws", "token": "short"}}), 422, "an invalid PUT")
	c.want(c.do(apiCall{token: leadTok, method: "DELETE", tmpl: okta, pid: p.ID, validRequest: true}), 204, "remove the connection")
	c.want(c.do(apiCall{token: leadTok, method: "DELETE", tmpl: okta, pid: p.ID, validRequest: true}), 404, "remove it again")
}
