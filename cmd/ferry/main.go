// Command ferry is Ferry's one binary: `ferry serve` runs the console, and
// the other subcommands script the tasks an engineer runs from a terminal.
// All wiring of the application happens here.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/config"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/demo"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/logging"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/plandoc"
	"github.com/ferry-migrate/ferry/internal/plandoc/docs"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/secrets"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/static"
	"github.com/ferry-migrate/ferry/web"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `Ferry plans and runs the migration of an organisation's users into Okta.

Usage:
  ferry serve [flags]                              run the web console (see ferry serve -h)
  ferry token create --user EMAIL --name NAME      create a personal API token and print it once
  ferry stage --project NAME --source NAME FILE    stage an extract (CSV, LDIF, JSON/NDJSON) of a source
  ferry stage --project NAME --source NAME --ldap-url URL --base-dn DN [--bind-dn DN]
                                                   pull a source's users from a live LDAP/AD directory
  ferry validate --project NAME [--json]           validate the staged data and print the issues by type
  ferry sandbox --token TOKEN [--addr 127.0.0.1:9090] [--users-per-minute N] [--concurrency N]
                                                   run the Okta sandbox, a local stand-in org (docs/sandbox.md)
  ferry load --project NAME [--mode hash|hook|none] [--source NAME] [--okta-url URL]
                                                   load valid staged users into Okta (pre-flight first; docs/loads.md)
  ferry load --resume RUN                          resume a paused, failed or interrupted load
  ferry rollback --run RUN --confirm PROJECT-NAME  export, then deactivate and delete the users a run created
  ferry refresh --project NAME                     at cut-over: update changed profiles and hashes, create joiners, handle leavers
  ferry activate --project NAME --wave NAME [--source NAME] [--user-type NAME] [--subgroup ATTR=VALUE]
                                                   activate staged users in a wave
  ferry managers --project NAME                    set managerId and manager from the sources' references
  ferry reconcile --project NAME [--run N]         read back the users Ferry created and list the differences
  ferry reset-stragglers --project NAME [--period-days N] [--no-email]
                                                   reset the passwords of hook users who never signed in
  ferry confirm-imports --project NAME [--limit N] read hook users back from Okta; count those with provider OKTA as migrated
  ferry groups import --project NAME --source NAME [--flatten] FILE
                                                   import a source's nested group hierarchy
  ferry plan export --project NAME [--out FILE]    write the whole plan as one JSON file (docs/plan.md)
  ferry plan import [--name NEW-NAME] [--lead EMAIL] FILE
                                                   create a new project from a plan file
  ferry version                                    print the version

Configuration comes from flags and FERRY_* environment variables; see docs/configuration.md.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ferry:", err)
		os.Exit(1)
	}
}

// cliError turns an application error into one line a person can act on:
// the message and each field's message, never an internal cause's details.
func cliError(context string, err error) error {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return fmt.Errorf("%s: %w", context, err)
	}
	if ae.Code == apperr.CodeInternal {
		return fmt.Errorf("%s: %w", context, ae.Err)
	}
	return fmt.Errorf("%s: %s", context, ae.Detail())
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "token":
		return tokenCommand(ctx, args[1:], getenv, stdout, stderr)
	case "stage":
		return stageCommand(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "validate":
		return validateCommand(ctx, args[1:], getenv, stdout, stderr)
	case "sandbox":
		return sandboxCommand(ctx, args[1:], getenv, stdout, stderr)
	case "load":
		return loadCommand(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "rollback":
		return rollbackCommand(ctx, args[1:], getenv, stdout, stderr)
	case "refresh":
		return refreshCommand(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "activate":
		return activateCommand(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "managers":
		return managersCommand(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "reconcile":
		return reconcileCommand(ctx, args[1:], getenv, stdout, stderr)
	case "reset-stragglers":
		return resetStragglersCommand(ctx, args[1:], getenv, os.Stdin, stdout, stderr)
	case "confirm-imports":
		return confirmImportsCommand(ctx, args[1:], getenv, stdout, stderr)
	case "groups":
		return groupsCommand(ctx, args[1:], getenv, stdout, stderr)
	case "plan":
		return planCommand(ctx, args[1:], getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "ferry", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// app is the wired application shared by the subcommands.
type app struct {
	cfg     *config.Config
	log     *slog.Logger
	db      *db.DB
	auth    *auth.Service
	plan    *plan.Service
	schema  *schema.Service
	mapping *mapping.Service
	privacy *privacy.Service
	staging *staging.Service
	quality *quality.Service
	// orgs keeps the projects' Okta org connections, their tokens sealed with the secret key.
	orgs *orgs.Service
	// credentials keeps the sources' password settings and proves them.
	credentials *credentials.Service
	// defects keeps the projects' defect logs (the load engine records run failures in it).
	defects *defects.Service
	// loads runs test batches, loads and rollbacks into Okta.
	loads *load.Service
	// passwordHook answers Okta's password import inline hook.
	passwordHook *hook.Service
}

func open(ctx context.Context, cfg *config.Config, stderr io.Writer) (*app, error) {
	logger, err := logging.New(stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	database, err := db.Open(ctx, db.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("cannot start: %w", err)
	}
	sealer, err := openSealer(cfg)
	if err != nil {
		database.Close()
		return nil, fmt.Errorf("cannot start: %w", err)
	}
	authSvc := auth.NewService(database, auth.Options{SessionTTL: cfg.SessionTTL})
	planSvc := plan.NewService(database, authSvc)
	schemaSvc := schema.NewService(database)
	mappingSvc := mapping.NewService(database, schemaSvc, planSvc)
	privacySvc := privacy.NewService(database, mappingSvc, planSvc, nil)
	stagingSvc := staging.NewService(database, nil, mappingSvc)
	credentialsSvc := credentials.NewService(database, planSvc, stagingSvc, credentials.Options{})
	qualitySvc := quality.NewService(database, mappingSvc, stagingSvc, privacySvc, nil).WithPasswords(credentialsSvc)
	orgsSvc := orgs.NewService(database, sealer, nil)
	defectsSvc := defects.NewService(database, nil)
	loadsSvc := load.NewService(database, load.Deps{Orgs: orgsSvc, Gate: privacySvc, Validation: qualitySvc, Extracts: stagingSvc,
		Plan: planSvc, Matrix: mappingSvc, Passwords: credentialsSvc, Defects: defectLog{defectsSvc}, Sealer: sealer},
		load.Options{Version: version, Lease: cfg.LoadLease})
	return &app{cfg: cfg, log: logger, db: database, auth: authSvc, plan: planSvc, schema: schemaSvc, mapping: mappingSvc,
		privacy: privacySvc, staging: stagingSvc, quality: qualitySvc, orgs: orgsSvc, credentials: credentialsSvc,
		defects: defectsSvc, loads: loadsSvc,
		passwordHook: hook.NewService(database, hook.Deps{Orgs: orgsSvc, Extracts: stagingSvc, Passwords: credentialsSvc, Sealer: sealer},
			hook.Options{Logger: logger.With("component", "password_hook"),
				FailuresPerUsername: cfg.HookFailuresPerUsername, FailuresPerAddress: cfg.HookFailuresPerAddress})}, nil
}

// documents are the plan versions and the facts the plan documents show:
// a version freezes the plan as Build reads it and the facts as
// GatherFacts reads them.
func (a *app) documents() web.Documents {
	factServices := docs.FactServices{Plan: a.plan, Quality: a.quality, Load: a.loads, Defects: a.defects, Gate: a.privacy, Orgs: a.orgs}
	gather := func(ctx context.Context, projectID int64) (*docs.Facts, error) {
		return docs.GatherFacts(ctx, factServices, projectID)
	}
	versions := plandoc.NewVersionService(a.db, func(ctx context.Context, projectID int64) (*plandoc.Plan, error) {
		return plandoc.Build(ctx, a.planServices(), projectID)
	}, func(ctx context.Context, projectID int64) ([]byte, error) {
		f, err := gather(ctx, projectID)
		if err != nil {
			return nil, err
		}
		return json.Marshal(f)
	}, nil)
	return web.Documents{Versions: versions, Facts: gather}
}

// defectLog records a run's failures in the project's defect log, one
// defect per error code: Okta's codes are Okta defects, Ferry's own
// (transport failures, unimportable hashes) "other".
type defectLog struct{ svc *defects.Service }

func (d defectLog) RecordFailures(ctx context.Context, projectID, runID int64, runLabel string, failures []load.ErrorCount) error {
	out := make([]defects.RunFailure, 0, len(failures))
	for _, f := range failures {
		category := defects.CategoryOther
		if strings.HasPrefix(f.Code, "E0") {
			category = defects.CategoryOkta
		}
		out = append(out, defects.RunFailure{Code: f.Code, Summary: f.Summary, Count: int(f.Count), Category: category})
	}
	_, err := d.svc.RecordRunFailures(ctx, projectID, runID, runLabel, out)
	return err
}

// openSealer builds the sealer of stored secrets from FERRY_SECRET_KEY or,
// when it is empty, from the key file in the data directory (created, owner
// only, on the first start).
func openSealer(cfg *config.Config) (*secrets.Sealer, error) {
	var key []byte
	var err error
	if cfg.SecretKey != "" {
		key, err = secrets.ParseKey(cfg.SecretKey)
		if err != nil {
			return nil, fmt.Errorf("FERRY_SECRET_KEY: %w", err)
		}
	} else if key, err = secrets.LoadOrCreateKeyFile(cfg.SecretKeyFile()); err != nil {
		return nil, fmt.Errorf("secret key (set FERRY_SECRET_KEY or fix the key file): %w", err)
	}
	return secrets.New(key)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	a, err := open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()

	// Background jobs: what a crash left unfinished is dealt with before
	// anything else runs; the workers stop (and the jobs they run are left
	// to resume) before the database closes.
	runner := jobs.NewRunner(a.db, jobs.Options{Workers: cfg.JobWorkers, Logger: a.log, Staging: a.staging, Quality: a.quality,
		Confirmer: a.passwordHook, SpoolDir: jobs.UploadDir(cfg.DataDir)})
	if err := recoverJobs(ctx, a, runner, stdout); err != nil {
		return err
	}
	runner.Start()
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := runner.Shutdown(stopCtx); err != nil {
			a.log.Warn("background jobs did not stop in time; they are resumed or marked at the next start", "error", err)
		}
	}()
	// The read-back of imports Okta has not confirmed, now and then, as jobs
	// (stopped before the workers are).
	readBackCtx, stopReadBacks := context.WithCancel(ctx)
	go runner.RunReadBackSchedule(readBackCtx, a.passwordHook, cfg.HookReadBack)
	defer stopReadBacks()

	// Loads into Okta: the runner resumes queued runs and takes over those
	// whose owner died; a run a live `ferry load` owns is left to it.
	loadRunner := load.NewRunner(a.loads, a.log.With("component", "load"))
	loadRunner.Start()
	defer loadRunner.Stop()

	assets, err := static.New("/static")
	if err != nil {
		return err
	}
	// Ferry's Okta sandbox beside the console, when asked for (make run).
	checker := orgs.OktaChecker{Version: version}
	var sandbox *embeddedSandbox
	if cfg.SandboxAddr != "" {
		if sandbox, err = startSandbox(a, a.log); err != nil {
			return err
		}
		defer func() {
			stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = sandbox.Shutdown(stopCtx)
		}()
	}
	demoData := newDemoSeeding(a, stdout, demo.Options{})
	demoData.sandbox, demoData.checker = sandbox, checker
	srv := web.New(web.Services{Auth: demoData.authService(), Plan: a.plan, Audit: audit.NewReader(a.db.Read), Health: a.db,
		Schema: a.schema, Mapping: a.mapping, Privacy: a.privacy, Staging: a.staging, Quality: a.quality, Jobs: runner, Orgs: a.orgs, OrgChecker: checker,
		Credentials: a.credentials, Defects: a.defects, Loads: a.loads, LoadRunner: loadRunner, Documents: a.documents(),
		PasswordHook: a.passwordHook, HookSettings: a.passwordHook, Program: a.program()}, assets, a.log, web.Options{
		SecureCookies: !cfg.InsecureCookies, SessionTTL: cfg.SessionTTL, Version: version, MaxExtractBytes: cfg.MaxUploadMB << 20,
		DataDir: cfg.DataDir, PublicURL: cfg.BaseURL,
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (set FERRY_ADDR to another address): %w", cfg.Addr, err)
	}
	httpServer := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 5 * time.Minute,
		WriteTimeout: 5 * time.Minute, IdleTimeout: 2 * time.Minute}

	fmt.Fprintf(stdout, "Ferry %s is running at %s (database: %s)\n", version, cfg.PublicURL(), a.db.Location)
	if sandbox != nil {
		fmt.Fprintf(stdout, "Ferry's Okta sandbox is running at %s (its token is in %s; its users live in memory)\n",
			sandbox.URL, filepath.Join(cfg.DataDir, "sandbox.token"))
	}
	if err := firstRun(ctx, a, stdout); err != nil {
		return err
	}
	demoData.start(ctx)

	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCert != "" {
			httpServer.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			errc <- httpServer.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
			return
		}
		errc <- httpServer.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "Shutting down…")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return httpServer.Shutdown(shutdownCtx)
}

// openWithDatabaseFlags opens the app for a command that takes the
// --data-dir and --database-url flags (empty: the environment's or the
// default) over the rest of the configuration.
func openWithDatabaseFlags(ctx context.Context, dataDir, dbURL string, getenv func(string) string, stderr io.Writer) (*app, error) {
	var cfgArgs []string
	if dataDir != "" {
		cfgArgs = append(cfgArgs, "-data-dir", dataDir)
	}
	if dbURL != "" {
		cfgArgs = append(cfgArgs, "-database-url", dbURL)
	}
	cfg, err := config.Load(cfgArgs, getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return open(ctx, cfg, stderr)
}

// recoverJobs deals with the work a crash (or a kill) left unfinished,
// before anything runs: extracts left half-staged are discarded, validation
// runs left running are closed as failed, then each
// job left queued or running is queued again to run from the start, or
// marked interrupted with what to do (see jobs.Runner.Recover).
func recoverJobs(ctx context.Context, a *app, runner *jobs.Runner, stdout io.Writer) error {
	discarded, err := a.staging.DiscardUnfinished(ctx)
	if err != nil {
		return cliError("discard the extracts a crash left half-staged", err)
	}
	runs, err := a.quality.MarkInterrupted(ctx)
	if err != nil {
		return cliError("mark the validations a crash left running", err)
	}
	rec, err := runner.Recover(ctx)
	if err != nil {
		return cliError("recover the background jobs", err)
	}
	if discarded+runs+len(rec.Resumed)+len(rec.Interrupted) > 0 {
		fmt.Fprintf(stdout, "Ferry did not stop cleanly last time: %d half-staged extract(s) discarded, %d unfinished validation(s) closed, %d job(s) resumed from the start, %d job(s) marked interrupted (their pages say what to do).\n",
			discarded, runs, len(rec.Resumed), len(rec.Interrupted))
	}
	return nil
}

// firstRun makes sure somebody can sign in: it creates the first admin from
// FERRY_ADMIN_EMAIL/FERRY_ADMIN_PASSWORD, or prints a one-time setup link.
func firstRun(ctx context.Context, a *app, stdout io.Writer) error {
	n, err := a.auth.CountAccounts(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(stdout, "Sign in at %s/signin\n", a.cfg.PublicURL())
		return nil
	}
	if a.cfg.AdminEmail != "" {
		acct, err := a.auth.CreateAccount(audit.WithActor(ctx, audit.System), auth.AccountInput{
			Email: a.cfg.AdminEmail, Name: "Administrator", Password: a.cfg.AdminPassword, IsAdmin: true})
		if err != nil {
			return cliError("create the first admin from FERRY_ADMIN_EMAIL and FERRY_ADMIN_PASSWORD", err)
		}
		fmt.Fprintf(stdout, "Created the first admin %s from FERRY_ADMIN_EMAIL. Sign in at %s/signin\n", acct.Email, a.cfg.PublicURL())
		return nil
	}
	secret := a.auth.NewSetupSecret()
	fmt.Fprintf(stdout, "\nNo account exists yet. Create the first admin here (the link works once, until Ferry restarts):\n\n    %s/setup?secret=%s\n\n", a.cfg.PublicURL(), secret)
	return nil
}

func tokenCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: ferry token create --user EMAIL --name NAME")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "email of the account the token acts as")
	name := fs.String("name", "", "what the token is for, e.g. 'nightly staging script'")
	dataDir := fs.String("data-dir", "", "data directory (default FERRY_DATA_DIR or ./data)")
	dbURL := fs.String("database-url", "", "database DSN (default FERRY_DATABASE_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *user == "" || strings.TrimSpace(*name) == "" {
		return errors.New("both --user and --name are required")
	}
	a, err := openWithDatabaseFlags(ctx, *dataDir, *dbURL, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	acct, err := a.auth.FindAccountByEmail(ctx, *user)
	if err != nil {
		return fmt.Errorf("no account with email %q", *user)
	}
	ctx = audit.WithActor(ctx, audit.Actor{ID: acct.ID, Name: acct.Name + " <" + acct.Email + "> (CLI)"})
	value, _, err := a.auth.CreateAPIToken(ctx, acct.ID, *name)
	if err != nil {
		return cliError("create the token", err)
	}
	fmt.Fprintf(stderr, "Created API token %q for %s. It is shown once; store it now:\n", *name, acct.Email)
	fmt.Fprintln(stdout, value)
	return nil
}
