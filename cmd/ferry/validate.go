package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"

	"github.com/schollz/progressbar/v3"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/quality"
)

// validateCommand is `ferry validate --project NAME [--json]`.
func validateCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	projectName := fs.String("project", "", "name of the project")
	asJSON := fs.Bool("json", false, "print one JSON object instead of a table")
	quiet := fs.Bool("quiet", false, "no progress bar")
	dataDir := fs.String("data-dir", "", "data directory (default FERRY_DATA_DIR or ./data)")
	dbURL := fs.String("database-url", "", "database DSN (default FERRY_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *projectName == "" || fs.NArg() != 0 {
		return errors.New("usage: ferry validate --project NAME [--json]")
	}
	a, err := openWithDatabaseFlags(ctx, *dataDir, *dbURL, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	p, err := findProject(ctx, a.plan, *projectName)
	if err != nil {
		return err
	}
	ctx = audit.WithActor(ctx, audit.Actor{Name: "ferry validate (CLI)"})
	var bar *progressbar.ProgressBar
	progress := func(done, total int64) {}
	if !*quiet && !*asJSON {
		progress = func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("validating"),
					progressbar.OptionClearOnFinish())
			}
			_ = bar.Set64(done)
		}
	}
	run, err := a.quality.Validate(ctx, p.ID, progress)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return cliError("validate", err)
	}
	if *asJSON {
		out := map[string]any{"project": p.Name, "run": run.ID, "records": run.Records, "valid": run.Valid, "invalid": run.Invalid,
			"excluded": run.Excluded, "occurrences": run.Occurrences, "byIssueType": run.Counts.ByCode}
		enc := json.NewEncoder(stdout)
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "Validated %s: %d records — %d valid, %d invalid, %d excluded\n", p.Name, run.Records, run.Valid, run.Invalid, run.Excluded)
	codes := make([]string, 0, len(run.Counts.ByCode))
	for c := range run.Counts.ByCode {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool { return run.Counts.ByCode[codes[i]] > run.Counts.ByCode[codes[j]] })
	if len(codes) == 0 {
		fmt.Fprintln(stdout, "No issues found.")
	}
	for _, c := range codes {
		fmt.Fprintf(stdout, "  %8d  %-22s %s\n", run.Counts.ByCode[c], c, quality.TypeOf(c).Title)
	}
	return nil
}
