package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/load"
)

// resetStragglersCommand is `ferry reset-stragglers`: the end of a
// migration program, a password reset for the hook users who never signed
// in within its period (docs/loads.md, "Stragglers"). It shows the plan,
// asks (unless --yes) and runs on the load engine in this process.
func resetStragglersCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	const usage = "usage: ferry reset-stragglers --project NAME [--period-days N] [--no-email] [--window 22:00-06:00 --window-tz ZONE]\n" +
		"                              [--max-in-flight N] [--rate-share S] [--yes]\n       ferry reset-stragglers --resume RUN"
	f := newCutoverFlags("reset-stragglers", stderr)
	period := f.fs.Int("period-days", 0, "the program's period in days (default: the project's, else 60)")
	noEmail := f.fs.Bool("no-email", false, "Okta returns one-time links instead of emailing them (download them from the run's page)")
	a, projectID, w, err := f.open(ctx, args, usage, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ferry reset-stragglers (CLI)"})
	token := strings.TrimSpace(getenv("FERRY_OKTA_TOKEN"))
	if *f.resume != 0 {
		return resumeRun(ctx, a, *f.resume, load.KindResetPassword, token, *f.quiet, stdout, stderr)
	}
	sendEmail := !*noEmail
	in := load.NewStragglerReset{PeriodDays: *period, SendEmail: &sendEmail, MaxInFlight: *f.inFlight, RateShare: *f.share, Window: w,
		Claim: true, OrgURL: *f.oktaURL, Token: token}
	plan, err := a.loads.PlanStragglerReset(ctx, projectID, in)
	if err != nil {
		return cliError("plan the reset", err)
	}
	fmt.Fprintf(stdout, "Password reset of stragglers in %s (period %d days): %d user(s).\n", plan.OrgURL, plan.PeriodDays, plan.Users)
	for _, s := range plan.Sentences {
		fmt.Fprintln(stdout, "  "+s)
	}
	switch {
	case plan.Users == 0:
		return nil // nothing to do is not a failure (a scheduled run)
	case plan.Overlap > 0:
		return fmt.Errorf("%d of these users are already in an unfinished reset (run %s): finish or cancel it first", plan.Overlap, strings.Join(plan.OverlapRuns, ", "))
	case !plan.GateOpen:
		return errors.New("the legal gate refuses this reset: " + strings.Join(plan.GateReasons, " "))
	}
	if !*f.yes && !confirm(stdin, stdout, fmt.Sprintf("Reset the passwords of %d user(s)? Type yes: ", plan.Users)) {
		return errors.New("not started")
	}
	run, _, err := a.loads.StartStragglerReset(ctx, projectID, in)
	if err != nil {
		return cliError("start the reset", err)
	}
	fmt.Fprintf(stdout, "Started %s (id %d).\n", run.Label(), run.ID)
	return executeRun(ctx, a, run, token, *f.quiet, stdout, stderr)
}
