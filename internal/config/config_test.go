package config_test

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsWorkOnAFreshMachine(t *testing.T) {
	c, err := config.Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DataDir != "./data" || c.LogFormat != "text" || c.SessionTTL != 12*time.Hour || c.InsecureCookies ||
		c.MaxUploadMB != 2048 || c.Demo || c.JobWorkers != 2 || c.HookReadBack != 24*time.Hour {
		t.Fatalf("unexpected defaults: %+v", c)
	}
	if got := c.PublicURL(); got != "http://localhost:8080" {
		t.Fatalf("PublicURL = %q", got)
	}
}

// The scheduled read-back can be turned off with 0.
func TestTheReadBackCanBeTurnedOff(t *testing.T) {
	for in, want := range map[string]time.Duration{"0": 0, "6h": 6 * time.Hour, " 720h ": 720 * time.Hour} {
		c, err := config.Load(nil, env(map[string]string{"FERRY_HOOK_READ_BACK": in}))
		if err != nil {
			t.Errorf("FERRY_HOOK_READ_BACK=%q: %v", in, err)
		} else if c.HookReadBack != want {
			t.Errorf("FERRY_HOOK_READ_BACK=%q: %v, want %v", in, c.HookReadBack, want)
		}
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	c, err := config.Load([]string{"-addr", "127.0.0.1:9000"}, env(map[string]string{"FERRY_ADDR": ":7000", "FERRY_LOG_FORMAT": "json", "FERRY_DATABASE_URL": "postgres://u@h/db"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.LogFormat != "json" || c.DatabaseURL != "postgres://u@h/db" {
		t.Fatalf("got %+v", c)
	}
	if c.PublicURL() != "http://127.0.0.1:9000" {
		t.Fatalf("PublicURL = %q", c.PublicURL())
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"address without port", map[string]string{"FERRY_ADDR": "localhost"}, nil, "FERRY_ADDR"},
		{"port out of range", map[string]string{"FERRY_ADDR": ":70000"}, nil, "FERRY_ADDR"},
		{"unknown log format", map[string]string{"FERRY_LOG_FORMAT": "xml"}, nil, "FERRY_LOG_FORMAT"},
		{"unknown log level", map[string]string{"FERRY_LOG_LEVEL": "loud"}, nil, "FERRY_LOG_LEVEL"},
		{"admin email without password", map[string]string{"FERRY_ADMIN_EMAIL": "a@example.com"}, nil, "FERRY_ADMIN_PASSWORD"},
		{"session TTL not a duration", map[string]string{"FERRY_SESSION_TTL": "forever"}, nil, "FERRY_SESSION_TTL"},
		{"session TTL too short", map[string]string{"FERRY_SESSION_TTL": "1s"}, nil, "FERRY_SESSION_TTL"},
		{"insecure cookies not a boolean", map[string]string{"FERRY_INSECURE_COOKIES": "maybe"}, nil, "FERRY_INSECURE_COOKIES"},
		{"demo not a boolean", map[string]string{"FERRY_DEMO": "yes please"}, nil, "FERRY_DEMO"},
		{"job workers not a number", map[string]string{"FERRY_JOB_WORKERS": "many"}, nil, "FERRY_JOB_WORKERS"},
		{"no job worker", nil, []string{"-job-workers", "0"}, "FERRY_JOB_WORKERS"},
		{"upload limit not a number", map[string]string{"FERRY_MAX_UPLOAD_MB": "2GB"}, nil, "FERRY_MAX_UPLOAD_MB"},
		{"upload limit zero", nil, []string{"-max-upload-mb", "0"}, "FERRY_MAX_UPLOAD_MB"},
		{"base URL not http", map[string]string{"FERRY_BASE_URL": "ftp://x"}, nil, "FERRY_BASE_URL"},
		{"empty data dir", nil, []string{"-data-dir", ""}, "FERRY_DATA_DIR"},
		{"stray argument", nil, []string{"extra"}, "unexpected argument"},
		{"secret key too short", map[string]string{"FERRY_SECRET_KEY": "c2hvcnQ="}, nil, "FERRY_SECRET_KEY"},
		{"secret key not base64 or hex", nil, []string{"-secret-key", "not a key at all"}, "FERRY_SECRET_KEY"},
		{"hook failures per username not a number", map[string]string{"FERRY_HOOK_FAILURES_PER_USERNAME": "ten"}, nil, "FERRY_HOOK_FAILURES_PER_USERNAME"},
		{"hook failures per username zero", nil, []string{"-hook-failures-per-username", "0"}, "FERRY_HOOK_FAILURES_PER_USERNAME"},
		{"hook failures per address too many", map[string]string{"FERRY_HOOK_FAILURES_PER_ADDRESS": "1000001"}, nil, "FERRY_HOOK_FAILURES_PER_ADDRESS"},
		{"read-back not a duration", map[string]string{"FERRY_HOOK_READ_BACK": "daily"}, nil, "FERRY_HOOK_READ_BACK"},
		{"read-back too often", nil, []string{"-hook-read-back", "30m"}, "FERRY_HOOK_READ_BACK"},
		{"read-back too rare", map[string]string{"FERRY_HOOK_READ_BACK": "1000h"}, nil, "FERRY_HOOK_READ_BACK"},
		{"read-back negative", map[string]string{"FERRY_HOOK_READ_BACK": "-24h"}, nil, "FERRY_HOOK_READ_BACK"},
		{"TLS certificate without key", map[string]string{"FERRY_TLS_CERT": "cert.pem"}, nil, "FERRY_TLS_KEY"},
		{"TLS files that do not exist", map[string]string{"FERRY_TLS_CERT": "/nonexistent/cert.pem", "FERRY_TLS_KEY": "/nonexistent/key.pem"}, nil, "FERRY_TLS_CERT"},
		{"TLS files that are not PEM", map[string]string{"FERRY_TLS_CERT": "config_test.go", "FERRY_TLS_KEY": "config_test.go"}, nil, "FERRY_TLS_CERT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load(tt.args, env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// docs/configuration.md carries the generated settings table; it must never drift.
func TestConfigurationDocIsCurrent(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "-->\n", "<!-- END GENERATED -->"
	doc := string(b)
	i := strings.Index(doc, "<!-- BEGIN GENERATED")
	j := strings.Index(doc, end)
	if i < 0 || j < 0 {
		t.Fatal("docs/configuration.md lost its generated-section markers")
	}
	got := doc[i+strings.Index(doc[i:], begin)+len(begin) : j]
	if got != config.Markdown() {
		t.Fatalf("the settings table in docs/configuration.md differs from internal/config; replace it with:\n%s", config.Markdown())
	}
}

func TestTheSecretKeyComesFromTheEnvironmentOrTheKeyFile(t *testing.T) {
	key := strings.Repeat("ab", 32) // 32 bytes in hex
	c, err := config.Load(nil, env(map[string]string{"FERRY_SECRET_KEY": key, "FERRY_DATA_DIR": "/srv/ferry"}))
	if err != nil || c.SecretKey != key {
		t.Fatalf("SecretKey = %q, %v", c.SecretKey, err)
	}
	if got := c.SecretKeyFile(); got != "/srv/ferry/secret.key" {
		t.Fatalf("SecretKeyFile = %q", got)
	}
	// A bad key is refused without being repeated: it is a secret.
	const bad = "this-is-not-a-key-but-a-secret-anyway"
	if _, err := config.Load(nil, env(map[string]string{"FERRY_SECRET_KEY": bad})); err == nil || strings.Contains(err.Error(), bad) {
		t.Fatalf("error = %v, want one that does not repeat the value", err)
	}
}

// -h prints each flag's default; a secret set in the environment is not
// one of them, though it still applies (and a flag still wins over it).
func TestHelpNeverPrintsSecretsFromTheEnvironment(t *testing.T) {
	env := map[string]string{"FERRY_ADMIN_EMAIL": "a@example.com", "FERRY_ADMIN_PASSWORD": "env-password-123456",
		"FERRY_SECRET_KEY": "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
	getenv := func(k string) string { return env[k] }
	old := os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stderr = w
	_, herr := config.Load([]string{"-h"}, getenv)
	w.Close()
	os.Stderr = old
	help, _ := io.ReadAll(r)
	if herr == nil || strings.Contains(string(help), "env-password") || strings.Contains(string(help), "3q2+7w") {
		t.Fatalf("-h printed a secret (or did not stop): %v\n%s", herr, help)
	}
	c, err := config.Load(nil, getenv)
	if err != nil || c.AdminPassword != "env-password-123456" || c.SecretKey == "" {
		t.Fatalf("the environment's secrets no longer apply: %+v %v", c, err)
	}
	c, err = config.Load([]string{"-admin-password", "flag-password-123456"}, getenv)
	if err != nil || c.AdminPassword != "flag-password-123456" {
		t.Fatalf("the flag does not win: %v", err)
	}
}
