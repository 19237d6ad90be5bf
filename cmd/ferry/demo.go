package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/demo"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/web"
)

// demoSeeding creates the demo project of internal/demo when FERRY_DEMO is
// on and the database has no project yet (and never had the demo). The demo
// needs a project lead, so that someone sees it: an admin who exists at
// start-up (the first admin from FERRY_ADMIN_EMAIL, or the first admin of the
// database), or else the first admin created through the setup link, right
// after the setup form creates them.
type demoSeeding struct {
	a      *app
	seeder *demo.Seeder
	stdout io.Writer
	// waiting is set while the demo waits for the first admin's setup.
	waiting atomic.Bool
	// sandbox, when Ferry runs one, becomes the demo project's Okta org,
	// checked with checker.
	sandbox *embeddedSandbox
	checker orgs.OktaChecker
}

func newDemoSeeding(a *app, stdout io.Writer, opts demo.Options) *demoSeeding {
	svc := demo.Services{Plan: a.plan, Schema: a.schema, Mapping: a.mapping, Privacy: a.privacy, Staging: a.staging,
		Quality: a.quality, Audit: audit.NewReader(a.db.Read), Database: a.db}
	return &demoSeeding{a: a, seeder: demo.New(svc, opts), stdout: stdout}
}

// authService is the auth service for the web server: a.auth, whose
// CreateFirstAdmin also creates the demo when it waits for the first admin.
func (d *demoSeeding) authService() web.AuthService {
	return firstAdminDemo{Service: d.a.auth, demo: d}
}

// start creates the demo now if it is due and someone can lead it, or
// arranges for it to follow the first admin's setup. A demo that cannot be
// created is logged and does not stop the console.
func (d *demoSeeding) start(ctx context.Context) {
	if !d.a.cfg.Demo {
		return
	}
	pending, err := d.seeder.Pending(ctx)
	if err != nil {
		d.a.log.Error("cannot tell whether the demo project is due", "error", err)
		return
	}
	if !pending {
		return
	}
	lead, err := d.lead(ctx)
	if err != nil {
		d.a.log.Error("cannot find a lead for the demo project", "error", err)
		return
	}
	if lead == nil {
		n, err := d.a.auth.CountAccounts(ctx)
		if err != nil {
			d.a.log.Error("cannot count the accounts", "error", err)
			return
		}
		if n > 0 {
			// Every account is disabled: no setup link comes, and nobody could see the demo.
			d.a.log.Warn("no enabled account can lead the demo project; it is not created")
			return
		}
		d.waiting.Store(true)
		fmt.Fprintf(d.stdout, "The demo project %q will be created with the first admin.\n", demo.ProjectName)
		return
	}
	d.seed(ctx, lead)
}

// lead is the account that leads the demo: the first admin still enabled,
// else the first enabled account, else nil.
func (d *demoSeeding) lead(ctx context.Context) (*auth.Account, error) {
	accounts, err := d.a.auth.FindAccounts(ctx)
	if err != nil {
		return nil, err
	}
	var best *auth.Account
	for i := range accounts {
		acct := &accounts[i]
		if acct.Disabled() {
			continue
		}
		if best == nil || acct.IsAdmin && !best.IsAdmin || acct.IsAdmin == best.IsAdmin && acct.ID < best.ID {
			best = acct
		}
	}
	return best, nil
}

func (d *demoSeeding) seed(ctx context.Context, lead *auth.Account) {
	res, err := d.seeder.Seed(ctx, lead.ID)
	if err != nil {
		d.a.log.Error("the demo project could not be created; Ferry tries again at its next start", "error", err)
		return
	}
	if d.sandbox != nil {
		// Quick, and part of the demo: finished even when Ferry is asked to stop meanwhile.
		if err := d.connectSandbox(context.WithoutCancel(ctx), res.Project.ID); err != nil {
			d.a.log.Error("the demo project could not be connected to the Okta sandbox; set its Okta org by hand", "error", err)
		}
	}
	fmt.Fprintf(d.stdout, "Created the demo project %q with %d generated users staged and validated; %s leads it: %s/projects/%d\n",
		res.Project.Name, res.Records(), lead.Email, d.a.cfg.PublicURL(), res.Project.ID)
}

// connectSandbox makes Ferry's sandbox the project's Okta org, and checks
// the connection as the console's button does (which is how the project
// learns that its org is the sandbox).
func (d *demoSeeding) connectSandbox(ctx context.Context, projectID int64) error {
	token := d.sandbox.Token
	conn, err := d.a.orgs.Save(ctx, projectID, 0, orgs.Input{OrgURL: d.sandbox.URL, AuthScheme: orgs.SchemeSSWS, Token: &token})
	if err != nil {
		return err
	}
	res, err := d.checker.Check(ctx, d.sandbox.URL, orgs.SchemeSSWS, token)
	if err != nil {
		return err
	}
	_, err = d.a.orgs.RecordCheck(ctx, projectID, conn.Version, res.OK, res.Sandbox, res.Message)
	return err
}

// firstAdminDemo is the auth service whose CreateFirstAdmin creates the
// waiting demo project with the new admin as its lead, before the setup page
// sends them on to the projects.
type firstAdminDemo struct {
	*auth.Service
	demo *demoSeeding
}

func (f firstAdminDemo) CreateFirstAdmin(ctx context.Context, secret string, in auth.AccountInput) (*auth.Account, error) {
	acct, err := f.Service.CreateFirstAdmin(ctx, secret, in)
	if err == nil && f.demo.waiting.CompareAndSwap(true, false) {
		// The admin exists whatever happens to the demo; a closed browser tab must not stop it half-way.
		f.demo.seed(context.WithoutCancel(ctx), acct)
	}
	return acct, err
}
