package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/load"
)

// The cut-over commands: refresh, activation waves, the manager pass and
// reconciliation run on the load engine, in this process, like ferry load
// (docs/loads.md, "The cut-over").

// cutoverFlags are the flags every cut-over command takes.
type cutoverFlags struct {
	fs                      *flag.FlagSet
	project                 *string
	resume                  *int64
	inFlight                *int
	share                   *float64
	window, windowTZ        *string
	yes, quiet              *bool
	dataDir, dbURL, oktaURL *string
	sources, types          multiFlag
}

func newCutoverFlags(name string, stderr io.Writer) *cutoverFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &cutoverFlags{fs: fs}
	f.project = fs.String("project", "", "name of the project")
	f.resume = fs.Int64("resume", 0, "resume the run with this id")
	f.inFlight = fs.Int("max-in-flight", load.DefaultMaxInFlight, "requests in flight at most")
	f.share = fs.Float64("rate-share", load.DefaultRateShare, "share of the org's rate limit to use, 0 to 1")
	f.window = fs.String("window", "", "work only between these times of day, e.g. 22:00-06:00")
	f.windowTZ = fs.String("window-tz", "UTC", "the time zone of --window (IANA, e.g. Europe/Berlin)")
	f.yes = fs.Bool("yes", false, "start without asking")
	f.quiet = fs.Bool("quiet", false, "no progress bar")
	f.dataDir = fs.String("data-dir", "", "data directory (default FERRY_DATA_DIR or ./data)")
	f.dbURL = fs.String("database-url", "", "database DSN (default FERRY_DATABASE_URL)")
	f.oktaURL = fs.String("okta-url", "", "Okta org URL (default: the project's)")
	return f
}

// open parses the flags and opens the app; it returns the project id (0
// with --resume) and the parsed window.
func (f *cutoverFlags) open(ctx context.Context, args []string, usage string, getenv func(string) string, stderr io.Writer) (*app, int64, *load.Window, error) {
	if err := f.fs.Parse(args); err != nil {
		return nil, 0, nil, err
	}
	if f.fs.NArg() != 0 || (*f.resume == 0) == (*f.project == "") {
		return nil, 0, nil, errors.New(usage)
	}
	w, err := load.ParseWindow(*f.window, *f.windowTZ)
	if err != nil {
		return nil, 0, nil, cliError("--window", err)
	}
	a, err := openWithDatabaseFlags(ctx, *f.dataDir, *f.dbURL, getenv, stderr)
	if err != nil {
		return nil, 0, nil, err
	}
	if *f.resume != 0 {
		return a, 0, w, nil
	}
	p, err := findProject(ctx, a.plan, *f.project)
	if err != nil {
		a.db.Close()
		return nil, 0, nil, err
	}
	return a, p.ID, w, nil
}

// resumeRun resumes a run of the given kind with --resume.
func resumeRun(ctx context.Context, a *app, runID int64, kind, token string, quiet bool, stdout, stderr io.Writer) error {
	run, err := a.loads.FindRunByID(ctx, runID)
	if err != nil {
		return cliError("find the run", err)
	}
	if run.Kind != kind {
		return fmt.Errorf("run %d is a %s, not a %s", run.ID, run.Kind, kind)
	}
	if run.Status == load.StatusPaused || run.Status == load.StatusFailed {
		if run, err = a.loads.Resume(ctx, run.ProjectID, run.ID); err != nil {
			return cliError("resume", err)
		}
	}
	return executeRun(ctx, a, run, token, quiet, stdout, stderr)
}

// refreshCommand is `ferry refresh`.
func refreshCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	const usage = "usage: ferry refresh --project NAME [--window 22:00-06:00 --window-tz ZONE] [--max-in-flight N] [--rate-share S] [--yes]\n       ferry refresh --resume RUN"
	f := newCutoverFlags("refresh", stderr)
	a, projectID, w, err := f.open(ctx, args, usage, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ferry refresh (CLI)"})
	token := strings.TrimSpace(getenv("FERRY_OKTA_TOKEN"))
	if *f.resume != 0 {
		return resumeRun(ctx, a, *f.resume, load.KindRefresh, token, *f.quiet, stdout, stderr)
	}
	in := load.NewRefresh{MaxInFlight: *f.inFlight, RateShare: *f.share, Window: w, Claim: true, OrgURL: *f.oktaURL, Token: token}
	plan, err := a.loads.PlanRefresh(ctx, projectID, in)
	if err != nil {
		return cliError("plan the refresh", err)
	}
	fmt.Fprintf(stdout, "Refresh of %s: %d profile(s) changed, %d hash(es) changed (%d cannot be sent: no longer STAGED), %d joiner(s), %d leaver(s) (%s), %d held, %d unchanged.\n",
		plan.OrgURL, plan.ProfilesChanged, plan.HashesChanged, plan.HashesNotSendable, plan.Joiners, plan.Leavers, plan.LeaverPolicy, plan.Held, plan.Unchanged)
	for _, c := range plan.Checks {
		if !c.OK {
			fmt.Fprintf(stdout, "  [%s] %s: %s\n", map[bool]string{true: "FAIL", false: "warn"}[c.Blocking], c.Name, c.Detail)
		}
	}
	if plan.Blocked() {
		return errors.New("the refresh is refused: " + strings.Join(plan.BlockingReasons(), " "))
	}
	if !*f.yes && !confirm(stdin, stdout, "Start the refresh? Type yes: ") {
		return errors.New("not started")
	}
	run, _, err := a.loads.StartRefresh(ctx, projectID, in)
	if err != nil {
		return cliError("start the refresh", err)
	}
	fmt.Fprintf(stdout, "Started %s (id %d).\n", run.Label(), run.ID)
	return executeRun(ctx, a, run, token, *f.quiet, stdout, stderr)
}

// activateCommand is `ferry activate`: one activation wave.
func activateCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	const usage = "usage: ferry activate --project NAME --wave NAME [--source NAME]... [--user-type NAME]... [--subgroup ATTRIBUTE=VALUE]\n" +
		"                      [--logins-file FILE] [--window 22:00-06:00 --window-tz ZONE] [--max-in-flight N] [--rate-share S] [--yes]\n       ferry activate --resume RUN"
	f := newCutoverFlags("activate", stderr)
	wave := f.fs.String("wave", "", "the wave's name")
	subgroup := f.fs.String("subgroup", "", "only users whose profile attribute has this value, e.g. department=Sales")
	loginsFile := f.fs.String("logins-file", "", "only the logins listed in this file")
	f.fs.Var(&f.sources, "source", "only this source's users (repeatable)")
	f.fs.Var(&f.types, "user-type", "only the users of this user type (repeatable)")
	a, projectID, w, err := f.open(ctx, args, usage, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ferry activate (CLI)"})
	token := strings.TrimSpace(getenv("FERRY_OKTA_TOKEN"))
	if *f.resume != 0 {
		return resumeRun(ctx, a, *f.resume, load.KindActivate, token, *f.quiet, stdout, stderr)
	}
	in := load.NewWave{Name: *wave, MaxInFlight: *f.inFlight, RateShare: *f.share, Window: w, Claim: true, OrgURL: *f.oktaURL, Token: token}
	if in.SourceIDs, err = sourceIDsByName(ctx, a, projectID, f.sources); err != nil {
		return err
	}
	if in.UserTypeIDs, err = userTypeIDsByName(ctx, a, projectID, f.types); err != nil {
		return err
	}
	if *subgroup != "" {
		attr, value, ok := strings.Cut(*subgroup, "=")
		if !ok || strings.TrimSpace(attr) == "" {
			return errors.New("--subgroup is ATTRIBUTE=VALUE, e.g. department=Sales")
		}
		in.Subgroup = &load.Filter{Attribute: strings.TrimSpace(attr), Op: "equals", Value: strings.TrimSpace(value)}
	}
	if *loginsFile != "" {
		b, err := os.ReadFile(*loginsFile)
		if err != nil {
			return fmt.Errorf("read --logins-file: %w", err)
		}
		in.Logins = load.ParseLogins(string(b))
	}
	plan, err := a.loads.PlanWave(ctx, projectID, in)
	if err != nil {
		return cliError("plan the wave", err)
	}
	fmt.Fprintf(stdout, "Wave %q in %s: %d user(s).\n", in.Name, plan.OrgURL, plan.Users)
	for _, s := range plan.Sentences {
		fmt.Fprintln(stdout, "  "+s)
	}
	if !*f.yes && !confirm(stdin, stdout, "Start the wave? Type yes: ") {
		return errors.New("not started")
	}
	run, _, err := a.loads.StartWave(ctx, projectID, in)
	if err != nil {
		return cliError("start the wave", err)
	}
	fmt.Fprintf(stdout, "Started %s (id %d).\n", run.Label(), run.ID)
	return executeRun(ctx, a, run, token, *f.quiet, stdout, stderr)
}

// managersCommand is `ferry managers`: the manager pass.
func managersCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	const usage = "usage: ferry managers --project NAME [--source NAME]... [--window …] [--max-in-flight N] [--rate-share S] [--yes]\n       ferry managers --resume RUN"
	f := newCutoverFlags("managers", stderr)
	f.fs.Var(&f.sources, "source", "only this source's users (repeatable)")
	a, projectID, w, err := f.open(ctx, args, usage, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ferry managers (CLI)"})
	token := strings.TrimSpace(getenv("FERRY_OKTA_TOKEN"))
	if *f.resume != 0 {
		return resumeRun(ctx, a, *f.resume, load.KindManagers, token, *f.quiet, stdout, stderr)
	}
	in := load.NewManagerPass{MaxInFlight: *f.inFlight, RateShare: *f.share, Window: w, Claim: true, OrgURL: *f.oktaURL, Token: token}
	if in.SourceIDs, err = sourceIDsByName(ctx, a, projectID, f.sources); err != nil {
		return err
	}
	plan, err := a.loads.PlanManagers(ctx, projectID, in)
	if err != nil {
		return cliError("plan the manager pass", err)
	}
	fmt.Fprintf(stdout, "Manager pass in %s: %d user(s) with a reference, %d resolved (%d already set), %d unresolved (reported, not guessed).\n",
		plan.OrgURL, plan.WithReference, plan.Resolved, plan.AlreadySet, plan.Unresolved)
	for _, u := range plan.UnresolvedByKind {
		fmt.Fprintf(stdout, "  unresolved %s: %d — %s\n", u.Label, u.Count, u.Reason)
	}
	if !*f.yes && !confirm(stdin, stdout, "Start the manager pass? Type yes: ") {
		return errors.New("not started")
	}
	run, _, err := a.loads.StartManagerPass(ctx, projectID, in)
	if err != nil {
		return cliError("start the manager pass", err)
	}
	fmt.Fprintf(stdout, "Started %s (id %d).\n", run.Label(), run.ID)
	return executeRun(ctx, a, run, token, *f.quiet, stdout, stderr)
}

// reconcileCommand is `ferry reconcile`.
func reconcileCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: ferry reconcile --project NAME [--run N] [--max-in-flight N] [--rate-share S]\n       ferry reconcile --resume RUN"
	f := newCutoverFlags("reconcile", stderr)
	target := f.fs.Int64("run", 0, "read back only the users of this run (its number); default: every user Ferry created")
	a, projectID, _, err := f.open(ctx, args, usage, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ferry reconcile (CLI)"})
	token := strings.TrimSpace(getenv("FERRY_OKTA_TOKEN"))
	if *f.resume != 0 {
		return resumeRun(ctx, a, *f.resume, load.KindReconcile, token, *f.quiet, stdout, stderr)
	}
	in := load.NewReconcile{MaxInFlight: *f.inFlight, RateShare: *f.share, Claim: true, OrgURL: *f.oktaURL, Token: token}
	if *target != 0 {
		if in.TargetRunID, err = runIDByNumber(ctx, a, projectID, *target); err != nil {
			return err
		}
	}
	run, err := a.loads.StartReconcile(ctx, projectID, in)
	if err != nil {
		return cliError("start the reconciliation", err)
	}
	fmt.Fprintf(stdout, "Started %s (id %d).\n", run.Label(), run.ID)
	if err := executeRun(ctx, a, run, token, *f.quiet, stdout, stderr); err != nil {
		return err
	}
	diffs, err := a.loads.Differences(ctx, run.ID)
	if err != nil {
		return cliError("read the differences", err)
	}
	for _, d := range diffs {
		var kinds []string
		for _, x := range d.Diffs {
			k := x.Kind
			if x.Attribute != "" {
				k += " " + x.Attribute
			}
			kinds = append(kinds, k)
		}
		fmt.Fprintf(stdout, "  different: user %s (%s): %s\n", d.OktaUserID, d.State, strings.Join(kinds, ", "))
	}
	return nil
}

// groupsCommand is `ferry groups import`: a source's group hierarchy.
func groupsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: ferry groups import --project NAME --source NAME [--flatten] FILE   (an LDIF of groups with memberOf, or a CSV group,parent)"
	if len(args) == 0 || args[0] != "import" {
		return errors.New(usage)
	}
	fs := flag.NewFlagSet("groups import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	projectName := fs.String("project", "", "name of the project")
	sourceName := fs.String("source", "", "name of the source")
	flatten := fs.Bool("flatten", false, "flatten the hierarchy in loads from now on")
	dataDir := fs.String("data-dir", "", "data directory (default FERRY_DATA_DIR or ./data)")
	dbURL := fs.String("database-url", "", "database DSN (default FERRY_DATABASE_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 || *projectName == "" || *sourceName == "" {
		return errors.New(usage)
	}
	file, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("open %s: %w", fs.Arg(0), err)
	}
	defer file.Close()
	a, err := openWithDatabaseFlags(ctx, *dataDir, *dbURL, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ferry groups (CLI)"})
	p, src, err := findProjectSource(ctx, a.plan, *projectName, *sourceName)
	if err != nil {
		return err
	}
	h, err := a.loads.ImportHierarchy(ctx, p.ID, src.ID, file, filepath.Base(fs.Arg(0)))
	if err != nil {
		return cliError("import the groups", err)
	}
	if *flatten {
		if err := a.loads.SetFlatten(ctx, p.ID, src.ID, true); err != nil {
			return cliError("flatten", err)
		}
		h.Flatten = true
	}
	fmt.Fprintf(stdout, "Imported %d group(s) of %s; nested groups are %s in loads.\n", h.Groups, src.Name,
		map[bool]string{true: "flattened", false: "not flattened (direct memberships only)"}[h.Flatten])
	return nil
}
