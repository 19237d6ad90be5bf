package hook_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
)

func TestOneHookPerOrgServesEveryProjectOfTheOrg(t *testing.T) {
	plain := credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}
	w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: "anns-password"}}, worldOptions{settings: plain})
	c := w.config
	if !strings.HasPrefix(c.Path(), hook.PathPrefix) || len(c.OrgKey) < 20 || c.OrgURL != "https://acme.okta.com" ||
		c.HeaderName != "Authorization" || c.BudgetMS != 2000 || c.Version != 1 || c.SecretHint != w.secret[len(w.secret)-4:] {
		t.Fatalf("new hook %+v", c)
	}
	if strings.Contains(c.SecretSealed, w.secret) {
		t.Fatal("the secret is stored in clear")
	}
	// Found again: the secret is not shown, only its hint.
	found, err := w.svc.FindConfig(w.ctx, w.project.ID)
	if err != nil || found == nil || found.OrgKey != c.OrgKey || found.OrgMoved || len(found.ProjectIDs) != 1 {
		t.Fatalf("FindConfig = %+v, %v", found, err)
	}

	// A second project loading into the same org joins the same hook and
	// endpoint; its users are found through it.
	name := "Acme partners"
	p2, err := w.plan.CreateProject(w.ctx, w.account, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	srcName, kind, yes := "Partner DB", "database", plan.DecisionYes
	src2, err := w.plan.CreateSource(w.ctx, p2.ID, plan.SourceInput{Name: &srcName, Kind: &kind, MigrateCredentials: &yes})
	if err != nil {
		t.Fatal(err)
	}
	w.stage(p2.ID, src2.ID, []user{{uid: "p1", email: "pat@partner.example", pw: "pats-password"}})
	if _, err := w.creds.Save(w.ctx, p2.ID, src2.ID, 0, plain); err != nil {
		t.Fatal(err)
	}
	token := "00abcdefghijklmnopqrstuvwxyz"
	if _, err := w.orgs.Save(w.ctx, p2.ID, 0, orgs.Input{OrgURL: "https://acme.okta.com", AuthScheme: orgs.SchemeSSWS, Token: &token}); err != nil {
		t.Fatal(err)
	}
	joined, shown, err := w.svc.SaveConfig(w.ctx, p2.ID, 0, hook.ConfigInput{})
	if err != nil || shown != "" || joined.ID != c.ID || joined.OrgKey != c.OrgKey || len(joined.ProjectIDs) != 2 {
		t.Fatalf("join: %+v shown=%q %v", joined, shown, err)
	}
	w.expect("pat@partner.example", "pats-password", anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	if a := w.lastAttempt(); a.ProjectID == nil || *a.ProjectID != p2.ID {
		t.Fatalf("verified in project %v, want %d", a.ProjectID, p2.ID)
	}

	// Rotating the secret shows the new one once; the old one stops working.
	old := w.secret
	rotated, secret, err := w.svc.SaveConfig(w.ctx, w.project.ID, joined.Version, hook.ConfigInput{RotateSecret: true, Budget: 1500 * time.Millisecond})
	if err != nil || secret == "" || secret == old || rotated.BudgetMS != 1500 {
		t.Fatalf("rotate: %+v %v", rotated, err)
	}
	if status, _ := w.call("ann@example.com", "anns-password", anIP); status != http.StatusUnauthorized {
		t.Fatalf("the old secret answered %d", status)
	}
	w.secret = secret
	w.expect("ann@example.com", "anns-password", anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	// A stale version is a conflict; bad settings are refused by field.
	if _, _, err := w.svc.SaveConfig(w.ctx, w.project.ID, joined.Version, hook.ConfigInput{}); !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("stale version: %v", err)
	}
	short := "short"
	_, _, err = w.svc.SaveConfig(w.ctx, w.project.ID, rotated.Version, hook.ConfigInput{Secret: &short, HeaderName: "Bad Header", Budget: 3 * time.Second})
	if ae := apperr.As(err); ae == nil || ae.Code != apperr.CodeInvalid || ae.Fields["secret"] == "" || ae.Fields["header_name"] == "" || ae.Fields["budget"] == "" {
		t.Fatalf("bad input: %v", err)
	}
	// The audit log has the changes, never the secret.
	var entries []audit.Entry
	w.db.Read.Where("entity_type = ?", "password_hook").Find(&entries)
	if len(entries) < 3 {
		t.Fatalf("%d audit entries", len(entries))
	}
	w.noSecretsStored(old, secret, "anns-password", "pats-password")

	// Removing the first project leaves the hook to the second; removing
	// the second deletes it.
	if err := w.svc.RemoveConfig(w.ctx, w.project.ID); err != nil {
		t.Fatal(err)
	}
	if status, _ := w.call("ann@example.com", "anns-password", anIP); status != http.StatusOK {
		t.Fatalf("after removing project 1: %d", status)
	}
	if a := w.lastAttempt(); a.Cause != hook.CauseNoUser {
		t.Fatalf("project 1's users are still served: %s", a.Cause)
	}
	if err := w.svc.RemoveConfig(w.ctx, p2.ID); err != nil {
		t.Fatal(err)
	}
	if status, _ := w.call("pat@partner.example", "pats-password", anIP); status != http.StatusUnauthorized {
		t.Fatalf("a removed hook answered %d", status)
	}
	if err := w.svc.RemoveConfig(w.ctx, p2.ID); !apperr.Is(err, apperr.CodeNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
}

func TestAHookNeedsTheProjectsOktaOrg(t *testing.T) {
	w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: "x"}}, worldOptions{settings: credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}})
	name := "No org yet"
	p, err := w.plan.CreateProject(w.ctx, w.account, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.svc.SaveConfig(context.Background(), p.ID, 0, hook.ConfigInput{}); !apperr.Is(err, apperr.CodeConflict) {
		t.Fatalf("no org: %v", err)
	}
}
