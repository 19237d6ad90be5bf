package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/load"
)

// multiFlag collects a repeated flag (--source A --source B).
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

const loadUsage = `usage: ferry load --project NAME [--source NAME]... [--user-type NAME]... [--mode hash|hook|none]
                  [--activate] [--on-existing skip|fail] [--okta-url URL] [--logins-file FILE] [--failed-of RUN]
                  [--max-in-flight N] [--rate-share 0.8] [--yes]
       ferry load --resume RUN
The API token comes from FERRY_OKTA_TOKEN, or else the project's stored token.`

// loadCommand is `ferry load`: the pre-flight, then the run in this process
// (which owns it: the console does not touch it while it runs), with a
// progress bar and a final summary. Ctrl-C stops it; --resume carries on.
func loadCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	projectName := fs.String("project", "", "name of the project")
	var sourceNames, typeNames multiFlag
	fs.Var(&sourceNames, "source", "load only this source (repeatable)")
	fs.Var(&typeNames, "user-type", "load only the sources of this user type (repeatable)")
	mode := fs.String("mode", load.ModeNone, "password: hash (import the hashes), hook (password import hook) or none")
	activate := fs.Bool("activate", false, "create users ACTIVE (default STAGED); without a password, Okta emails each an activation link")
	onExisting := fs.String("on-existing", load.OnExistingSkip, "when the login already exists in Okta: skip (and record) or fail")
	oktaURL := fs.String("okta-url", "", "Okta org URL (default: the project's)")
	loginsFile := fs.String("logins-file", "", "load only the logins listed in this file (one per line)")
	failedOf := fs.Int64("failed-of", 0, "load the users that failed in this run (its number)")
	maxInFlight := fs.Int("max-in-flight", load.DefaultMaxInFlight, "requests in flight at most")
	rateShare := fs.Float64("rate-share", load.DefaultRateShare, "share of the org's rate limit to use, 0 to 1")
	yes := fs.Bool("yes", false, "start without asking once the pre-flight passes")
	resume := fs.Int64("resume", 0, "resume the run with this id")
	quiet := fs.Bool("quiet", false, "no progress bar")
	dataDir := fs.String("data-dir", "", "data directory (default FERRY_DATA_DIR or ./data)")
	dbURL := fs.String("database-url", "", "database DSN (default FERRY_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || (*resume == 0 && *projectName == "") || (*resume != 0 && *projectName != "") {
		return errors.New(loadUsage)
	}
	a, err := openWithDatabaseFlags(ctx, *dataDir, *dbURL, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ferry load (CLI)"})
	token := strings.TrimSpace(getenv("FERRY_OKTA_TOKEN"))
	if *resume != 0 {
		run, err := a.loads.FindRunByID(ctx, *resume)
		if err != nil {
			return cliError("find the run", err)
		}
		if run.Kind == load.KindRollback {
			return fmt.Errorf("run %d is a rollback: resume it with ferry rollback --resume %d", run.ID, run.ID)
		}
		if run.Status == load.StatusPaused || run.Status == load.StatusFailed {
			if run, err = a.loads.Resume(ctx, run.ProjectID, run.ID); err != nil {
				return cliError("resume", err)
			}
		}
		return executeRun(ctx, a, run, token, *quiet, stdout, stderr)
	}

	p, err := findProject(ctx, a.plan, *projectName)
	if err != nil {
		return err
	}
	in := load.NewRun{Kind: load.KindLoad, Mode: *mode, Activate: *activate, OnExisting: *onExisting, OrgURL: *oktaURL, Token: token,
		MaxInFlight: *maxInFlight, RateShare: *rateShare, Claim: true}
	if in.Population.SourceIDs, err = sourceIDsByName(ctx, a, p.ID, sourceNames); err != nil {
		return err
	}
	if in.Population.UserTypeIDs, err = userTypeIDsByName(ctx, a, p.ID, typeNames); err != nil {
		return err
	}
	if *loginsFile != "" {
		b, err := os.ReadFile(*loginsFile)
		if err != nil {
			return fmt.Errorf("read --logins-file: %w", err)
		}
		if in.Population.Logins = load.ParseLogins(string(b)); len(in.Population.Logins) == 0 {
			return fmt.Errorf("--logins-file %s lists no login", *loginsFile)
		}
	}
	if *failedOf != 0 {
		id, err := runIDByNumber(ctx, a, p.ID, *failedOf)
		if err != nil {
			return err
		}
		in.Population.FailedOfRun = id
	}
	rep, err := a.loads.Preflight(ctx, p.ID, in)
	if err != nil {
		return cliError("pre-flight", err)
	}
	printPreflight(stdout, rep)
	if rep.Blocked() {
		return errors.New("the pre-flight refuses this run; fix what it says and try again")
	}
	if !*yes && !confirm(stdin, stdout, fmt.Sprintf("Load %d users into %s? Type yes to start: ", rep.Users, rep.OrgURL)) {
		return errors.New("not started")
	}
	run, _, err := a.loads.Start(ctx, p.ID, in)
	if err != nil {
		return cliError("start the load", err)
	}
	fmt.Fprintf(stdout, "Started run %d (id %d).\n", run.Number, run.ID)
	return executeRun(ctx, a, run, token, *quiet, stdout, stderr)
}

// executeRun works on a run in this process with a progress bar, then
// prints the summary.
func executeRun(ctx context.Context, a *app, run *load.Run, token string, quiet bool, stdout, stderr io.Writer) error {
	var bar *progressbar.ProgressBar
	opts := load.ExecOptions{Token: token}
	if !quiet {
		bar = progressbar.NewOptions64(run.Total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(run.Label()),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		opts.Progress = func(p load.Progress) {
			_ = bar.Set64(p.Counts.Done())
			bar.Describe(fmt.Sprintf("%s · %.0f users/min · %d failed", run.Label(), p.PerMinute, p.Counts.Of(load.StateFailed)))
		}
	}
	err := a.loads.Execute(ctx, run.ID, opts)
	if errors.Is(err, load.ErrLeaseHeld) {
		// The owner may have died (a crash, a kill): its lease runs out
		// within FERRY_LOAD_LEASE, and then this process takes the run.
		fmt.Fprintf(stdout, "%s is owned by another process (%v); waiting up to %s for its lease to run out…\n", run.Label(), err, a.cfg.LoadLease+5*time.Second)
		deadline := time.Now().Add(a.cfg.LoadLease + 5*time.Second)
		for errors.Is(err, load.ErrLeaseHeld) && time.Now().Before(deadline) && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			err = a.loads.Execute(ctx, run.ID, opts)
		}
		if errors.Is(err, load.ErrLeaseHeld) {
			return fmt.Errorf("%w: another live process is running it (the console or another ferry load); pause it there first", err)
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		fmt.Fprintf(stdout, "Stopped. Nothing is lost: resume with  ferry %s --resume %d\n", commandOf(run), run.ID)
		return errors.New("interrupted")
	}
	if err != nil {
		return cliError("run "+strconv.FormatInt(run.Number, 10), err)
	}
	return printRunSummary(ctx, a, run.ProjectID, run.ID, stdout)
}

func commandOf(run *load.Run) string {
	switch run.Kind {
	case load.KindRollback:
		return "rollback"
	case load.KindResetPassword:
		return "reset-stragglers"
	}
	return "load"
}

// printRunSummary prints how a run ended: counts by state, errors by code.
func printRunSummary(ctx context.Context, a *app, projectID, runID int64, stdout io.Writer) error {
	run, err := a.loads.FindRun(ctx, projectID, runID)
	if err != nil {
		return cliError("read the run", err)
	}
	c, err := a.loads.CountItems(ctx, runID)
	if err != nil {
		return cliError("count the run's users", err)
	}
	fmt.Fprintf(stdout, "%s: %s — %s\n", run.Label(), run.Status, run.Message)
	for _, st := range []string{load.StateCreated, load.StateExisted, load.StateRemoved, load.StateDeactivated, load.StateGone,
		load.StateReset, load.StateFailed, load.StateSkipped, load.StatePending, load.StateSending, load.StateExported} {
		if n := c.Of(st); n > 0 {
			fmt.Fprintf(stdout, "  %-12s %d\n", st, n)
		}
	}
	for _, e := range c.Errors {
		fmt.Fprintf(stdout, "  error %s × %d: %s\n", e.Code, e.Count, e.Summary)
	}
	if run.Status == load.StatusPaused || run.Status == load.StatusFailed {
		fmt.Fprintf(stdout, "Resume with  ferry %s --resume %d\n", commandOf(run), run.ID)
	}
	return nil
}

func printPreflight(w io.Writer, rep *load.Report) {
	fmt.Fprintf(w, "Pre-flight for %s:\n", rep.OrgURL)
	for _, c := range rep.Checks {
		mark := "ok  "
		switch {
		case !c.OK && c.Blocking:
			mark = "FAIL"
		case !c.OK:
			mark = "warn"
		}
		fmt.Fprintf(w, "  [%s] %s: %s\n", mark, c.Name, c.Detail)
	}
	for _, g := range rep.Groups {
		if len(g.Apps)+len(g.Rules) > 0 {
			fmt.Fprintf(w, "  group %s: applications %s; group rules %s\n", g.Name, strings.Join(g.Apps, ", "), strings.Join(g.Rules, ", "))
		}
	}
}

// confirm asks a yes/no question on the terminal.
func confirm(stdin io.Reader, stdout io.Writer, question string) bool {
	fmt.Fprint(stdout, question)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	return strings.EqualFold(strings.TrimSpace(line), "yes")
}

func sourceIDsByName(ctx context.Context, a *app, projectID int64, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	sources, err := a.plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, cliError("read the sources", err)
	}
	var ids []int64
	for _, n := range names {
		found := false
		for _, s := range sources {
			if strings.EqualFold(s.Name, n) {
				ids, found = append(ids, s.ID), true
			}
		}
		if !found {
			return nil, fmt.Errorf("no source %q in the project", n)
		}
	}
	return ids, nil
}

func userTypeIDsByName(ctx context.Context, a *app, projectID int64, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	types, err := a.plan.FindUserTypes(ctx, projectID)
	if err != nil {
		return nil, cliError("read the user types", err)
	}
	var ids []int64
	for _, n := range names {
		found := false
		for _, t := range types {
			if strings.EqualFold(t.Name, n) {
				ids, found = append(ids, t.ID), true
			}
		}
		if !found {
			return nil, fmt.Errorf("no user type %q in the project", n)
		}
	}
	return ids, nil
}

// runIDByNumber finds a run of the project by the number people see.
func runIDByNumber(ctx context.Context, a *app, projectID, number int64) (int64, error) {
	runs, err := a.loads.FindRuns(ctx, projectID, 500)
	if err != nil {
		return 0, cliError("read the runs", err)
	}
	for _, r := range runs {
		if r.Number == number {
			return r.ID, nil
		}
	}
	return 0, fmt.Errorf("the project has no run %d", number)
}

const rollbackUsage = `usage: ferry rollback --run RUN [--deactivate-only] --confirm PROJECT-NAME
       ferry rollback --project NAME --source NAME [--deactivate-only] --confirm PROJECT-NAME
       ferry rollback --resume RUN
Exports the users first (kept in Ferry), then deactivates and deletes them. RUN is the run's id.`

// rollbackCommand is `ferry rollback`.
func rollbackCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rollback", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runID := fs.Int64("run", 0, "roll back the users this run (id) created")
	projectName := fs.String("project", "", "with --source: the project")
	sourceName := fs.String("source", "", "roll back every user Ferry loaded from this source")
	deactivateOnly := fs.Bool("deactivate-only", false, "deactivate the users, do not delete them")
	confirmName := fs.String("confirm", "", "the project's name, typed to confirm")
	resume := fs.Int64("resume", 0, "resume the rollback with this id")
	quiet := fs.Bool("quiet", false, "no progress bar")
	dataDir := fs.String("data-dir", "", "data directory (default FERRY_DATA_DIR or ./data)")
	dbURL := fs.String("database-url", "", "database DSN (default FERRY_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || (*resume == 0 && *runID == 0 && (*projectName == "" || *sourceName == "")) {
		return errors.New(rollbackUsage)
	}
	a, err := openWithDatabaseFlags(ctx, *dataDir, *dbURL, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ferry rollback (CLI)"})
	token := strings.TrimSpace(getenv("FERRY_OKTA_TOKEN"))
	if *resume != 0 {
		run, err := a.loads.FindRunByID(ctx, *resume)
		if err != nil {
			return cliError("find the rollback", err)
		}
		if run.Kind != load.KindRollback {
			return fmt.Errorf("run %d is not a rollback: resume it with ferry load --resume %d", run.ID, run.ID)
		}
		if run.Status == load.StatusPaused || run.Status == load.StatusFailed {
			if run, err = a.loads.Resume(ctx, run.ProjectID, run.ID); err != nil {
				return cliError("resume", err)
			}
		}
		return executeRun(ctx, a, run, token, *quiet, stdout, stderr)
	}
	in := load.NewRollback{TargetRunID: *runID, Confirm: *confirmName, Action: load.RollbackDelete}
	if *deactivateOnly {
		in.Action = load.RollbackDeactivate
	}
	var projectID int64
	if *runID != 0 {
		target, err := a.loads.FindRunByID(ctx, *runID)
		if err != nil {
			return cliError("find the run", err)
		}
		projectID = target.ProjectID
	} else {
		p, err := findProject(ctx, a.plan, *projectName)
		if err != nil {
			return err
		}
		projectID = p.ID
		ids, err := sourceIDsByName(ctx, a, projectID, []string{*sourceName})
		if err != nil {
			return err
		}
		in.SourceID = ids[0]
	}
	p, err := a.plan.FindProjectByID(ctx, projectID)
	if err != nil {
		return cliError("find the project", err)
	}
	in.ProjectName = p.Name
	scope, err := a.loads.RollbackScopeOf(ctx, projectID, in)
	if err != nil {
		return cliError("rollback", err)
	}
	fmt.Fprintf(stdout, "This rollback removes %s: %d user(s) from %s (users that existed before Ferry are never touched).\n",
		scope.What, scope.Users, scope.OrgURL)
	fmt.Fprintln(stdout, "Application assignments are outside a data rollback: disable provisioning to applications during the migration.")
	run, err := a.loads.StartRollback(ctx, projectID, in)
	if err != nil {
		return cliError("rollback", err)
	}
	fmt.Fprintf(stdout, "Started rollback run %d (id %d).\n", run.Number, run.ID)
	return executeRun(ctx, a, run, token, *quiet, stdout, stderr)
}
