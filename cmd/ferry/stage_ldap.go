package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract"
)

// ldapPasswordEnv holds the bind password of `ferry stage --ldap-url`: a flag
// would show it to everyone who can run ps.
const ldapPasswordEnv = "FERRY_LDAP_PASSWORD"

// ldapFlags are the flags of `ferry stage` that pull from a live directory.
type ldapFlags struct {
	url, bindDN, baseDN, filter, attributes, caCert string
	startTLS, insecureSkipVerify, passwordStdin     bool
	pageSize                                        uint
}

// ldapOnly are the flags that make sense only with --ldap-url.
var ldapOnly = []string{"start-tls", "insecure-skip-verify", "ca-cert", "bind-dn", "base-dn", "filter", "attributes", "page-size", "password-stdin"}

func addLDAPFlags(fs *flag.FlagSet) *ldapFlags {
	lf := &ldapFlags{}
	fs.StringVar(&lf.url, "ldap-url", "", "pull from a live directory instead of a FILE: ldap://host[:port] or ldaps://host[:port]")
	fs.BoolVar(&lf.startTLS, "start-tls", false, "upgrade an ldap:// connection to TLS before binding")
	fs.BoolVar(&lf.insecureSkipVerify, "insecure-skip-verify", false, "accept any server certificate (labs only: anyone on the path can read the password)")
	fs.StringVar(&lf.caCert, "ca-cert", "", "PEM file of the CA that signed the server's certificate (default: the system's CAs)")
	fs.StringVar(&lf.bindDN, "bind-dn", "", "DN (or user@domain on Active Directory) to bind as; the password comes from "+ldapPasswordEnv+", a prompt or --password-stdin (default: anonymous)")
	fs.StringVar(&lf.baseDN, "base-dn", "", "where the search starts, e.g. ou=people,dc=example,dc=com (required)")
	fs.StringVar(&lf.filter, "filter", "", "LDAP filter of the users (default "+ldapextract.DefaultFilter+")")
	fs.StringVar(&lf.attributes, "attributes", "", "comma-separated attributes to read (default: all user attributes)")
	fs.UintVar(&lf.pageSize, "page-size", 0, fmt.Sprintf("entries per page (default %d; Active Directory serves at most 1000)", ldapextract.DefaultPageSize))
	fs.BoolVar(&lf.passwordStdin, "password-stdin", false, "read the bind password from the first line of standard input (a pipe, not a terminal)")
	return lf
}

const stageUsage = `usage: ferry stage --project NAME --source NAME [--format csv|ldif|json] [--key ATTRIBUTE] FILE
   or: ferry stage --project NAME --source NAME --ldap-url ldap[s]://HOST[:PORT] --base-dn DN [--bind-dn DN]
       [--start-tls] [--ca-cert FILE] [--insecure-skip-verify] [--filter F] [--attributes a,b,c] [--page-size N]
       [--key ATTRIBUTE] [--password-stdin]`

// checkStageArgs refuses the combinations of arguments that cannot work,
// before anything is opened.
func checkStageArgs(fs *flag.FlagSet, lf *ldapFlags, project, source, format string) error {
	if project == "" || source == "" {
		return errors.New(stageUsage)
	}
	if lf.url == "" {
		var stray []string
		fs.Visit(func(f *flag.Flag) {
			for _, name := range ldapOnly {
				if f.Name == name {
					stray = append(stray, "--"+name)
				}
			}
		})
		if len(stray) > 0 {
			return fmt.Errorf("%s only apply to a pull from a directory: add --ldap-url ldap://HOST, or leave them out to stage a FILE", strings.Join(stray, ", "))
		}
		if fs.NArg() != 1 {
			return errors.New(stageUsage)
		}
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("give either a FILE (%s) or --ldap-url, not both", fs.Arg(0))
	}
	if format != "" {
		return errors.New("--format is for files; a directory pull needs none")
	}
	if lf.passwordStdin && lf.bindDN == "" {
		return errors.New("--password-stdin reads the password of --bind-dn: give --bind-dn too")
	}
	return nil
}

// config builds the connection settings, without the password.
func (lf *ldapFlags) config() (ldapextract.Config, error) {
	cfg := ldapextract.Config{URL: lf.url, StartTLS: lf.startTLS, InsecureSkipVerify: lf.insecureSkipVerify,
		BindDN: strings.TrimSpace(lf.bindDN), BaseDN: strings.TrimSpace(lf.baseDN), Filter: lf.filter}
	for _, a := range strings.Split(lf.attributes, ",") {
		if a = strings.TrimSpace(a); a != "" {
			cfg.Attributes = append(cfg.Attributes, a)
		}
	}
	if lf.pageSize > 1_000_000 {
		return cfg, fmt.Errorf("--page-size %d is too large: use at most 1000 on Active Directory, a few thousand elsewhere", lf.pageSize)
	}
	cfg.PageSize = uint32(lf.pageSize)
	if lf.caCert != "" {
		pem, err := os.ReadFile(lf.caCert)
		if err != nil {
			return cfg, fmt.Errorf("--ca-cert: %w", err)
		}
		cfg.CACertPEM = pem
	}
	return cfg, nil
}

// ldapFlagOf names the flag that sets each of ldapextract.Config's fields,
// so that a validation message points at what to change on the command line.
var ldapFlagOf = map[string]string{
	"url": "--ldap-url", "start_tls": "--start-tls", "ca_cert_pem": "--ca-cert", "bind_dn": "--bind-dn",
	"bind_password": ldapPasswordEnv, "base_dn": "--base-dn", "filter": "--filter", "attributes": "--attributes",
}

// checkLDAPConfig validates the settings before the password is asked for,
// so that a typo in the URL does not cost a prompt.
func checkLDAPConfig(cfg ldapextract.Config) error {
	if cfg.BindDN != "" {
		cfg.BindPassword = "placeholder: the real one is read later"
	}
	err := cfg.Validate()
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return err
	}
	names := make([]string, 0, len(ae.Fields))
	for f := range ae.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	var lines []string
	for _, f := range names {
		flagName := ldapFlagOf[f]
		if flagName == "" {
			flagName = f
		}
		lines = append(lines, flagName+": "+ae.Fields[f])
	}
	return errors.New(strings.Join(lines, " "))
}

// readBindPassword gets the bind password from FERRY_LDAP_PASSWORD, from the
// first line of stdin with --password-stdin, or from a prompt without echo
// when stdin is a terminal. It never puts the password in an error.
func readBindPassword(lf *ldapFlags, getenv func(string) string, stdin io.Reader, stderr io.Writer) (string, error) {
	env := getenv(ldapPasswordEnv)
	if lf.bindDN == "" {
		if env != "" {
			return "", fmt.Errorf("%s is set but --bind-dn is not: give the DN the password belongs to, or unset %s for an anonymous search", ldapPasswordEnv, ldapPasswordEnv)
		}
		return "", nil
	}
	stdinFile, isFile := stdin.(*os.File)
	onTerminal := isFile && term.IsTerminal(int(stdinFile.Fd()))
	switch {
	case lf.passwordStdin && env != "":
		return "", fmt.Errorf("the bind password comes either from %s or from --password-stdin, not both", ldapPasswordEnv)
	case lf.passwordStdin && onTerminal:
		return "", errors.New("--password-stdin reads a pipe (printf '%s\\n' \"$PW\" | ferry stage …); on a terminal leave it out to be prompted without echo")
	case lf.passwordStdin:
		line, err := bufio.NewReaderSize(stdin, 4096).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", errors.New("--password-stdin: standard input ended before a line with the password")
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", errors.New("--password-stdin: the first line of standard input is empty")
		}
		return pw, nil
	case env != "":
		return env, nil
	case onTerminal:
		fmt.Fprintf(stderr, "Password for %s: ", lf.bindDN)
		b, err := term.ReadPassword(int(stdinFile.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", errors.New("could not read the password from the terminal")
		}
		if len(b) == 0 {
			return "", errors.New("no password given")
		}
		return string(b), nil
	}
	return "", fmt.Errorf("--bind-dn needs its password: set %s, or pipe it in with --password-stdin (standard input is not a terminal, so Ferry cannot prompt)", ldapPasswordEnv)
}

// stageLDAP pulls the users of a live directory into a new extract of src,
// with a counter (a directory does not say how many users it holds) and the
// same summary as a file.
func stageLDAP(ctx context.Context, a *app, p *plan.Project, src *plan.Source, lf *ldapFlags, cfg ldapextract.Config, key string,
	quiet bool, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	pw, err := readBindPassword(lf, getenv, stdin, stderr)
	if err != nil {
		return err
	}
	cfg.BindPassword = pw
	where := strings.TrimRight(strings.TrimSpace(cfg.URL), "/") + " (" + cfg.BaseDN + ")"
	r, err := ldapextract.Open(ctx, cfg)
	if err != nil {
		return scrubbed(cliError("pull from "+where, err), pw)
	}
	defer r.Close()
	var bar *progressbar.ProgressBar
	var progress staging.Progress
	if !quiet {
		// A spinner with the number of users so far: the total is not known.
		bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("users pulled from "+cfg.URL),
			progressbar.OptionShowCount(), progressbar.OptionShowTotalBytes(false), progressbar.OptionThrottle(200_000_000),
			progressbar.OptionClearOnFinish())
		progress = func(records int64) { _ = bar.Set64(records) }
	}
	meta := staging.Meta{FileName: where, Format: "ldap", KeyAttribute: key}
	ex, err := a.staging.Stage(ctx, p.ID, src.ID, r, meta, progress)
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return scrubbed(cliError("pull from "+where, err), pw)
	}
	printStageSummary(stdout, fmt.Sprintf("Pulled %d users from %s into %s / %s", ex.Records, where, p.Name, src.Name), ex)
	return nil
}

// scrubbed removes the password from an error's text, should a server or a
// library ever echo it; ldapextract already does, this is the second lock.
func scrubbed(err error, pw string) error {
	if err == nil || len(pw) < 3 || !strings.Contains(err.Error(), pw) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), pw, "[password]"))
}
