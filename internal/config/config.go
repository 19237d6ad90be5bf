// Package config reads Ferry's typed configuration from command-line flags
// and FERRY_* environment variables (flags win), applies defaults that work
// on a fresh machine, and validates it once at start-up.
package config

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/secrets"
)

// Config is everything `ferry serve` needs.
type Config struct {
	Addr        string
	BaseURL     string
	DataDir     string
	DatabaseURL string
	LogFormat   string
	LogLevel    string
	// AdminEmail and AdminPassword create the first admin for scripted setups.
	AdminEmail    string
	AdminPassword string
	SessionTTL    time.Duration
	// InsecureCookies drops the Secure flag, for plain-HTTP hosts other than localhost.
	InsecureCookies bool
	// MaxUploadMB caps an extract uploaded through the browser, in MiB.
	MaxUploadMB int64
	// Demo creates the demo project on a database without projects (make run sets it).
	Demo bool
	// JobWorkers is how many background jobs (stagings, validations) run at once.
	JobWorkers int
	// HookFailuresPerUsername and HookFailuresPerAddress are the failed
	// attempts the password import hook allows per username and per end-user
	// address in 15 minutes before it stops checking (answering "try again
	// later", never "wrong password").
	HookFailuresPerUsername, HookFailuresPerAddress int
	// HookReadBack is how often Ferry reads back from Okta the users the
	// password import hook verified and Okta has not confirmed (the event
	// hook may have missed them); 0 turns it off.
	HookReadBack time.Duration
	// LoadLease is how long a process owns a load run without renewing its
	// lease: after a crash, another process takes the run over once it ends.
	LoadLease time.Duration
	// SandboxAddr, when set, starts Ferry's Okta sandbox on that loopback
	// address beside the console (make run sets it).
	SandboxAddr string
	// TLSCert and TLSKey, when set, make Ferry serve HTTPS itself with this
	// certificate (PEM chain) and key, instead of behind a TLS terminator:
	// Okta calls the password import hook only over https.
	TLSCert, TLSKey string
	// SecretKey seals stored secrets (Okta API tokens): base64 or hex of 32
	// bytes. Empty means the key file SecretKeyFile (created on first start).
	SecretKey string
}

// SecretKeyFile is where the secret key lives when FERRY_SECRET_KEY is empty.
func (c *Config) SecretKeyFile() string { return filepath.Join(c.DataDir, "secret.key") }

// setting describes one configuration value: its flag, environment variable,
// default and help text. docs/configuration.md is written from the same list.
type setting struct {
	flag, env, def, help string
	set                  func(c *Config, v string) error
}

func settings() []setting {
	str := func(dst func(c *Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error { *dst(c) = v; return nil }
	}
	return []setting{
		{"addr", "FERRY_ADDR", ":8080", "listen address (host:port)", str(func(c *Config) *string { return &c.Addr })},
		{"base-url", "FERRY_BASE_URL", "", "public URL of the console, used in printed links (default http://localhost:PORT)", str(func(c *Config) *string { return &c.BaseURL })},
		{"data-dir", "FERRY_DATA_DIR", "./data", "directory for the embedded SQLite database and other files (created if missing)", str(func(c *Config) *string { return &c.DataDir })},
		{"database-url", "FERRY_DATABASE_URL", "", "database DSN overriding the SQLite file: a SQLite path, file:PATH, or postgres://user:pass@host/db", str(func(c *Config) *string { return &c.DatabaseURL })},
		{"log-format", "FERRY_LOG_FORMAT", "text", "log format: text or json", str(func(c *Config) *string { return &c.LogFormat })},
		{"log-level", "FERRY_LOG_LEVEL", "info", "log level: debug, info, warn or error", str(func(c *Config) *string { return &c.LogLevel })},
		{"admin-email", "FERRY_ADMIN_EMAIL", "", "email of the first admin, created at start-up when no account exists", str(func(c *Config) *string { return &c.AdminEmail })},
		{"admin-password", "FERRY_ADMIN_PASSWORD", "", "password of that first admin (at least 12 characters); prefer the environment variable to the flag", str(func(c *Config) *string { return &c.AdminPassword })},
		{"session-ttl", "FERRY_SESSION_TTL", "12h", "how long a sign-in lasts (Go duration, 5m to 720h)", func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("not a duration such as 12h or 30m")
			}
			c.SessionTTL = d
			return nil
		}},
		{"insecure-cookies", "FERRY_INSECURE_COOKIES", "false", "send cookies without the Secure flag (only for plain HTTP on a host other than localhost)", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("must be true or false")
			}
			c.InsecureCookies = b
			return nil
		}},
		{"max-upload-mb", "FERRY_MAX_UPLOAD_MB", "2048", "largest extract (CSV, LDIF, JSON) uploaded through the browser, in MiB (1 to 1048576)", func(c *Config, v string) error {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a whole number of MiB such as 2048", v)
			}
			c.MaxUploadMB = n
			return nil
		}},
		{"demo", "FERRY_DEMO", "false", "on a start with no project yet, create a demo project with generated, staged data (once per database; `make run` sets it to true)", func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("must be true or false")
			}
			c.Demo = b
			return nil
		}},
		{"job-workers", "FERRY_JOB_WORKERS", "2", "how many background jobs (stagings, directory pulls, validations) run at once (1 to 32); the others wait their turn", func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a whole number such as 2", v)
			}
			c.JobWorkers = n
			return nil
		}},
		{"hook-failures-per-username", "FERRY_HOOK_FAILURES_PER_USERNAME", "10", "failed sign-ins the password import hook allows per username in 15 minutes before it stops checking that username (1 to 1000); it then answers \"try again later\", never \"wrong password\"", func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a whole number such as 10", v)
			}
			c.HookFailuresPerUsername = n
			return nil
		}},
		{"hook-failures-per-address", "FERRY_HOOK_FAILURES_PER_ADDRESS", "50", "failed sign-ins the password import hook allows per end-user IP address (as Okta reports it) in 15 minutes (1 to 100000); raise it when many people sign in from one address (a NAT or a proxy)", func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a whole number such as 50", v)
			}
			c.HookFailuresPerAddress = n
			return nil
		}},
		{"hook-read-back", "FERRY_HOOK_READ_BACK", "24h", "how often Ferry reads back from Okta the users the password import hook answered VERIFIED for and Okta has not confirmed yet (their user.import.password event may have been missed), paced at a quarter of the rate limit: 1h to 720h, or 0 to turn it off", func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v == "0" {
				c.HookReadBack = 0
				return nil
			}
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 24h (or 0 to turn it off)", v)
			}
			c.HookReadBack = d
			return nil
		}},
		{"load-lease", "FERRY_LOAD_LEASE", "30s", "how long a process owns a load run without renewing its lease (renewed every third of it, 3s to 10m): when the process dies, the console or `ferry load --resume` takes the run over once the lease has run out", func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 30s", v)
			}
			c.LoadLease = d
			return nil
		}},
		{"tls-cert", "FERRY_TLS_CERT", "", "PEM file of the certificate (with its chain) to serve HTTPS with, set with FERRY_TLS_KEY; empty: plain HTTP, for a TLS-terminating proxy in front (Okta calls the password hook only over https)", str(func(c *Config) *string { return &c.TLSCert })},
		{"tls-key", "FERRY_TLS_KEY", "", "PEM file of the certificate's private key (set with FERRY_TLS_CERT)", str(func(c *Config) *string { return &c.TLSKey })},
		{"sandbox-addr", "FERRY_SANDBOX_ADDR", "", "loopback address (such as 127.0.0.1:8081) on which to run Ferry's Okta sandbox beside the console, for rehearsals and the demo (`make run` sets it); its token is kept in sandbox.token in the data directory. Empty: no sandbox", str(func(c *Config) *string { return &c.SandboxAddr })},
		{"secret-key", "FERRY_SECRET_KEY", "", "key that seals stored secrets such as Okta API tokens: 32 random bytes in base64 or hex, for instance from openssl rand -base64 32; empty: the key file secret.key in the data directory, created on first start and readable by Ferry's user only. Back it up apart from the database: without it, saved tokens must be entered again. Prefer the environment variable to the flag", str(func(c *Config) *string { return &c.SecretKey })},
	}
}

// secretSettings are never shown as a flag's default in -h.
var secretSettings = map[string]bool{"FERRY_ADMIN_PASSWORD": true, "FERRY_SECRET_KEY": true}

// Load parses args (without the command name) over the environment.
func Load(args []string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	values := map[string]*string{}
	fromEnv := map[string]string{}
	for _, s := range settings() {
		def := s.def
		if v := getenv(s.env); v != "" {
			if secretSettings[s.env] {
				// Applied after parsing: a flag's default is printed by -h.
				fromEnv[s.flag] = v
			} else {
				def = v
			}
		}
		values[s.flag] = fs.String(s.flag, def, s.help+" ["+s.env+"]")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, v := range fromEnv {
		if !set[name] {
			*values[name] = v
		}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var errs []error
	for _, s := range settings() {
		if err := s.set(c, *values[s.flag]); err != nil {
			errs = append(errs, fmt.Errorf("%s (-%s): %w", s.env, s.flag, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	var errs []error
	bad := func(env, format string, a ...any) { errs = append(errs, fmt.Errorf(env+": "+format, a...)) }
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("FERRY_ADDR", "%q is not host:port (for example :8080 or 127.0.0.1:8080)", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("FERRY_ADDR", "port %q is not a number between 0 and 65535", port)
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("FERRY_BASE_URL", "%q is not an http(s) URL", c.BaseURL)
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	}
	if c.DataDir == "" {
		bad("FERRY_DATA_DIR", "must not be empty")
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("FERRY_LOG_FORMAT", "%q must be text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("FERRY_LOG_LEVEL", "%q must be debug, info, warn or error", c.LogLevel)
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		bad("FERRY_ADMIN_EMAIL", "FERRY_ADMIN_EMAIL and FERRY_ADMIN_PASSWORD must be set together")
	}
	if c.MaxUploadMB < 1 || c.MaxUploadMB > 1<<20 {
		bad("FERRY_MAX_UPLOAD_MB", "%d must be between 1 and 1048576 (1 TiB)", c.MaxUploadMB)
	}
	if c.HookReadBack != 0 && (c.HookReadBack < time.Hour || c.HookReadBack > 720*time.Hour) {
		bad("FERRY_HOOK_READ_BACK", "%s must be between 1h and 720h, or 0 to turn it off", c.HookReadBack)
	}
	if c.LoadLease < 3*time.Second || c.LoadLease > 10*time.Minute {
		bad("FERRY_LOAD_LEASE", "%s must be between 3s and 10m", c.LoadLease)
	}
	if c.HookFailuresPerUsername < 1 || c.HookFailuresPerUsername > 1000 {
		bad("FERRY_HOOK_FAILURES_PER_USERNAME", "%d must be between 1 and 1000", c.HookFailuresPerUsername)
	}
	if c.HookFailuresPerAddress < 1 || c.HookFailuresPerAddress > 100000 {
		bad("FERRY_HOOK_FAILURES_PER_ADDRESS", "%d must be between 1 and 100000", c.HookFailuresPerAddress)
	}
	if c.JobWorkers < 1 || c.JobWorkers > 32 {
		bad("FERRY_JOB_WORKERS", "%d must be between 1 and 32", c.JobWorkers)
	}
	if c.SandboxAddr != "" {
		host, _, err := net.SplitHostPort(c.SandboxAddr)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			bad("FERRY_SANDBOX_ADDR", "%q must be a loopback host:port such as 127.0.0.1:8081 (the sandbox is for rehearsals on this machine)", c.SandboxAddr)
		}
	}
	if c.SecretKey != "" {
		// The message never repeats the value: it is a secret.
		if _, err := secrets.ParseKey(c.SecretKey); err != nil {
			bad("FERRY_SECRET_KEY", "%v", err)
		}
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		bad("FERRY_TLS_CERT", "FERRY_TLS_CERT and FERRY_TLS_KEY must be set together")
	case c.TLSCert != "":
		// The message names the files, never their contents.
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			bad("FERRY_TLS_CERT", "cannot use the certificate %s with the key %s: %v", c.TLSCert, c.TLSKey, err)
		}
	}
	if c.SessionTTL < 5*time.Minute || c.SessionTTL > 720*time.Hour {
		bad("FERRY_SESSION_TTL", "%s must be between 5m and 720h", c.SessionTTL)
	}
	return errors.Join(errs...)
}

// PublicURL is the URL people use to reach the console.
func (c *Config) PublicURL() string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	host, port, _ := net.SplitHostPort(c.Addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	if c.TLSCert != "" {
		return "https://" + net.JoinHostPort(host, port)
	}
	return "http://" + net.JoinHostPort(host, port)
}

// Markdown renders the settings as the table in docs/configuration.md.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| environment variable | flag | default | meaning |\n|---|---|---|---|\n")
	for _, s := range settings() {
		def := s.def
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | `-%s` | `%s` | %s |\n", s.env, s.flag, def, s.help)
	}
	return b.String()
}
