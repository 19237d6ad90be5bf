package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/plandoc"
	"github.com/ferry-migrate/ferry/internal/privacy"
)

const planUsage = "usage: ferry plan export --project NAME [--out FILE] | ferry plan import [--name NEW-NAME] [--lead EMAIL] FILE"

// planActor is who the audit log says made the changes of an import.
var planActor = audit.Actor{Name: "ferry plan (CLI)"}

// planCommand is `ferry plan export|import` (docs/plan.md).
func planCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(planUsage)
	}
	switch args[0] {
	case "export":
		return planExport(ctx, args[1:], getenv, stdout, stderr)
	case "import":
		return planImport(ctx, args[1:], getenv, stdout, stderr)
	}
	return errors.New(planUsage)
}

// planServices are the services a plan is read from and written through.
func (a *app) planServices() plandoc.Services {
	return plandoc.Services{Plan: a.plan, Schema: a.schema, Mapping: a.mapping, Privacy: a.privacy, Passwords: a.credentials,
		Load: a.loads, Defects: a.defects,
		PrivacyAt: func(t time.Time) plandoc.PrivacyService {
			return privacy.NewService(a.db, a.mapping, a.plan, func() time.Time { return t })
		}}
}

func planExport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plan export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	projectName := fs.String("project", "", "name of the project")
	out := fs.String("out", "", "file to write (default: standard output)")
	dataDir := fs.String("data-dir", "", "data directory (default FERRY_DATA_DIR or ./data)")
	dbURL := fs.String("database-url", "", "database DSN (default FERRY_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *projectName == "" || fs.NArg() != 0 {
		return errors.New("usage: ferry plan export --project NAME [--out FILE]")
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
	doc, err := plandoc.Build(ctx, a.planServices(), p.ID)
	if err != nil {
		return cliError("read the plan", err)
	}
	// Encoded in memory first, so that a failure leaves no half-written file.
	var b bytes.Buffer
	if err := plandoc.Encode(&b, doc); err != nil {
		return cliError("encode the plan", err)
	}
	if *out == "" {
		_, err := stdout.Write(b.Bytes())
		return err
	}
	if err := writeFileAtomic(*out, b.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	fmt.Fprintf(stderr, "Wrote the plan of %s to %s.\n", p.Name, *out)
	return nil
}

// writeFileAtomic writes data to a temporary file beside name, then renames it.
func writeFileAtomic(name string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), ".ferry-plan-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}

func planImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("plan import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "name of the new project (default: the name in the file)")
	lead := fs.String("lead", "", "email of the account that leads the new project (default: the first admin)")
	dataDir := fs.String("data-dir", "", "data directory (default FERRY_DATA_DIR or ./data)")
	dbURL := fs.String("database-url", "", "database DSN (default FERRY_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: ferry plan import [--name NEW-NAME] [--lead EMAIL] FILE")
	}
	// The file is read and checked before the database is opened: a bad
	// file changes nothing.
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	doc, err := plandoc.Decode(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	a, err := openWithDatabaseFlags(ctx, *dataDir, *dbURL, getenv, stderr)
	if err != nil {
		return err
	}
	defer a.db.Close()
	leadID, err := planLead(ctx, a, *lead)
	if err != nil {
		return err
	}
	ctx = audit.WithActor(ctx, planActor)
	pid, err := plandoc.Import(ctx, a.planServices(), doc, leadID, *name)
	if err != nil {
		return cliError("import the plan", err)
	}
	p, err := a.plan.FindProjectByID(ctx, pid)
	if err != nil {
		return cliError("import the plan", err)
	}
	fmt.Fprintf(stdout, "Imported the plan as project %q: /projects/%d\n", p.Name, pid)
	return nil
}

// planLead is the account with that email, or else the first admin.
func planLead(ctx context.Context, a *app, email string) (int64, error) {
	if email != "" {
		acct, err := a.auth.FindAccountByEmail(ctx, email)
		if err != nil {
			return 0, fmt.Errorf("no account with email %q", email)
		}
		return acct.ID, nil
	}
	accounts, err := a.auth.FindAccounts(ctx)
	if err != nil {
		return 0, cliError("find the first admin", err)
	}
	var first int64
	for _, acct := range accounts {
		if acct.IsAdmin && !acct.Disabled() && (first == 0 || acct.ID < first) {
			first = acct.ID
		}
	}
	if first == 0 {
		return 0, errors.New("no admin account to lead the project: create one first, or name the lead with --lead EMAIL")
	}
	return first, nil
}
