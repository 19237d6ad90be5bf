package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/hook"
)

// confirmImportsCommand is `ferry confirm-imports`: it reads back, in the
// project's org, the hook users Okta has not confirmed yet and counts as
// migrated those whose provider turned OKTA — the fallback when the event
// hook missed user.import.password events (docs/hook.md, "Confirmation").
// Reads are paced at a quarter of the org's rate limit.
func confirmImportsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const usage = "usage: ferry confirm-imports --project NAME [--limit N] [--quiet]"
	fs := flag.NewFlagSet("confirm-imports", flag.ContinueOnError)
	fs.SetOutput(stderr)
	project := fs.String("project", "", "name of the project")
	limit := fs.Int("limit", 0, "read at most this many users (default: all that are not confirmed)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	dataDir := fs.String("data-dir", "", "data directory (default FERRY_DATA_DIR or ./data)")
	dbURL := fs.String("database-url", "", "database DSN (default FERRY_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 || *project == "" || *limit < 0 {
		return errors.New(usage)
	}
	a, err := openWithDatabaseFlags(ctx, *dataDir, *dbURL, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	p, err := findProject(ctx, a.plan, *project)
	if err != nil {
		return err
	}
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ferry confirm-imports (CLI)"})
	var progress func(done, total int)
	if !*quiet {
		var bar *progressbar.ProgressBar
		progress = func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("users read back from Okta"),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			}
			bar.ChangeMax(total)
			_ = bar.Set(done)
		}
	}
	res, err := a.passwordHook.ConfirmWithOkta(ctx, p.ID, hook.ConfirmOptions{Limit: *limit, Progress: progress})
	fmt.Fprintf(stdout, "Read %d user(s): %d now confirmed migrated (provider OKTA), %d still waiting (provider IMPORT), %d no longer in Okta, %d could not be read.\n",
		res.Checked, res.Confirmed, res.Pending, res.Gone, res.Failed)
	if err != nil {
		return cliError("read the users back", err)
	}
	return nil
}
