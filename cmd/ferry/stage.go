package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract"
)

// stageCommand is `ferry stage --project NAME --source NAME FILE`, or
// `… --ldap-url URL` to pull from a live directory: it stages an extract with
// a progress bar and prints a summary at the end.
func stageCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	projectName := fs.String("project", "", "name of the project")
	sourceName := fs.String("source", "", "name of the source system the extract comes from")
	format := fs.String("format", "", "csv, ldif or json (default: detected from the content)")
	key := fs.String("key", "", "attribute that identifies a record across extracts (default: a usual id such as objectGUID, dn or employeeID)")
	as := fs.String("as", "", "email of the account the staging is recorded as (default: the CLI)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	dataDir := fs.String("data-dir", "", "data directory (default FERRY_DATA_DIR or ./data)")
	dbURL := fs.String("database-url", "", "database DSN (default FERRY_DATABASE_URL)")
	lf := addLDAPFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkStageArgs(fs, lf, *projectName, *sourceName, *format); err != nil {
		return err
	}
	var ldapCfg ldapextract.Config
	if lf.url != "" {
		var err error
		if ldapCfg, err = lf.config(); err != nil {
			return err
		}
		if err := checkLDAPConfig(ldapCfg); err != nil {
			return err
		}
	}
	a, err := openWithDatabaseFlags(ctx, *dataDir, *dbURL, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()

	p, src, err := findProjectSource(ctx, a.plan, *projectName, *sourceName)
	if err != nil {
		return err
	}
	actor := audit.Actor{Name: "ferry stage (CLI)"}
	if *as != "" {
		acct, err := a.auth.FindAccountByEmail(ctx, *as)
		if err != nil {
			return fmt.Errorf("no account with email %q", *as)
		}
		actor = audit.Actor{ID: acct.ID, Name: acct.Name + " <" + acct.Email + "> (CLI)"}
	}
	ctx = audit.WithActor(ctx, actor)
	if lf.url != "" {
		return stageLDAP(ctx, a, p, src, lf, ldapCfg, *key, *quiet, getenv, stdin, stdout, stderr)
	}

	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open the extract: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.IsDir() {
		return fmt.Errorf("%s is a directory, not an extract", path)
	}
	hash := sha256.New()
	var in io.Reader = io.TeeReader(f, hash)
	var bar *progressbar.ProgressBar
	if !*quiet {
		bar = progressbar.NewOptions64(info.Size(), progressbar.OptionSetWriter(stderr), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("staging "+filepath.Base(path)), progressbar.OptionThrottle(200_000_000),
			progressbar.OptionClearOnFinish())
		in = io.TeeReader(in, bar)
	}
	reader, detected, err := staging.OpenReader(in, *format)
	if err != nil {
		return cliError("stage "+path, err)
	}
	meta := staging.Meta{FileName: filepath.Base(path), Format: detected, Size: info.Size(), KeyAttribute: *key}
	// The checksum covers the whole file, so it is known only once staging
	// has read it; it is recorded right after.
	ex, err := a.staging.Stage(ctx, p.ID, src.ID, reader, meta, nil)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return cliError("stage "+path, err)
	}
	sum := hex.EncodeToString(hash.Sum(nil))
	if err := a.staging.SetChecksum(ctx, ex.ID, sum); err != nil {
		return err
	}
	printStageSummary(stdout, fmt.Sprintf("Staged %s (%s, %d bytes, sha256 %s…) into %s / %s", meta.FileName, detected, info.Size(), sum[:12], p.Name, src.Name), ex)
	return nil
}

// printStageSummary prints what a staging did, after a first line that says
// what was staged where.
func printStageSummary(stdout io.Writer, headline string, ex *staging.Extract) {
	fmt.Fprintln(stdout, headline)
	fmt.Fprintf(stdout, "  records:      %d\n", ex.Records)
	fmt.Fprintf(stdout, "  quarantined:  %d (rows the reader could not take; see the extract's page)\n", ex.Quarantined)
	fmt.Fprintf(stdout, "  record key:   %s\n", orNone(ex.KeyAttribute))
	if ex.CarriedOver+ex.LostEdits > 0 {
		fmt.Fprintf(stdout, "  carried over: %d exclusions/edits; %d lost (their records are gone)\n", ex.CarriedOver, ex.LostEdits)
	}
	fmt.Fprintf(stdout, "  columns:      %d\n", len(ex.Columns))
	for _, w := range ex.Warnings {
		fmt.Fprintf(stdout, "  warning:      %s\n", w)
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none: exclusions and edits cannot follow records to the next extract)"
	}
	return s
}

// findProject finds a project by name (case-insensitive).
func findProject(ctx context.Context, ps *plan.Service, name string) (*plan.Project, error) {
	projects, err := ps.FindProjects(ctx, nil)
	if err != nil {
		return nil, err
	}
	for i := range projects {
		if strings.EqualFold(strings.TrimSpace(projects[i].Name), strings.TrimSpace(name)) {
			return &projects[i], nil
		}
	}
	return nil, fmt.Errorf("no project is called %q", name)
}

// findProjectSource finds a project and one of its sources by name (case-insensitive).
func findProjectSource(ctx context.Context, ps *plan.Service, projectName, sourceName string) (*plan.Project, *plan.Source, error) {
	p, err := findProject(ctx, ps, projectName)
	if err != nil {
		return nil, nil, err
	}
	sources, err := ps.FindSources(ctx, p.ID)
	if err != nil {
		return nil, nil, err
	}
	var names []string
	for i := range sources {
		if strings.EqualFold(strings.TrimSpace(sources[i].Name), strings.TrimSpace(sourceName)) {
			return p, &sources[i], nil
		}
		names = append(names, sources[i].Name)
	}
	return nil, nil, fmt.Errorf("project %q has no source called %q (its sources: %s)", p.Name, sourceName, strings.Join(names, ", "))
}
