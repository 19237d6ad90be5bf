package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// sandboxCommand is `ferry sandbox`: the Okta sandbox (internal/oktasim)
// as a standalone server, so that a migration can be rehearsed, by Ferry or
// by any Okta client, with no Okta org. State lives in memory and is gone
// when it stops.
func sandboxCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:9090", "address to listen on")
	token := fs.String("token", getenv("FERRY_SANDBOX_TOKEN"), "API token clients send as 'SSWS TOKEN' or 'Bearer TOKEN' (default FERRY_SANDBOX_TOKEN)")
	usersPerMinute := fs.Int("users-per-minute", 0, "limit of the list/create users bucket per minute (default 600, Okta's)")
	concurrency := fs.Int("concurrency", 0, "requests in flight before 429s (default 75, Okta's)")
	errorRate := fs.Float64("fault-5xx", 0, "share of requests answered with a 500/503, 0 to 1")
	latency := fs.Duration("fault-latency", 0, "latency added to every request, e.g. 200ms")
	dropRate := fs.Float64("fault-drop", 0, "share of requests whose connection is closed unanswered, 0 to 1")
	lostRate := fs.Float64("fault-lost-response", 0, "share of requests processed but left unanswered, 0 to 1")
	failLogins := fs.String("fault-fail-logins", "", "comma-separated logins whose creation always fails with 500 E0000009, e.g. a@x.com,b@y.com")
	readOnly := fs.Bool("read-only", false, "the org is in read-only mode: a password the import hook verified is not saved (provider stays IMPORT, the event is a FAILURE)")
	noLimits := fs.Bool("no-limits", false, "lift the rate and concurrency limits (every bucket 1,000,000,000 per minute, concurrency 1,000,000), for benchmarks")
	if err := fs.Parse(args); err != nil {
		return err
	}
	const usage = "usage: ferry sandbox --token TOKEN [--addr 127.0.0.1:9090] [--users-per-minute N] [--concurrency N] [--no-limits] [--read-only] [--fault-fail-logins a@x.com,b@y.com]"
	if *token == "" || fs.NArg() != 0 {
		return errors.New(usage)
	}
	for name, rate := range map[string]float64{"--fault-5xx": *errorRate, "--fault-drop": *dropRate, "--fault-lost-response": *lostRate} {
		if rate < 0 || rate > 1 {
			return fmt.Errorf("%s must be between 0 and 1", name)
		}
	}
	if *usersPerMinute < 0 || *concurrency < 0 || *latency < 0 {
		return errors.New("--users-per-minute, --concurrency and --fault-latency cannot be negative")
	}
	if *noLimits && (*usersPerMinute != 0 || *concurrency != 0) {
		return errors.New("--no-limits cannot be combined with --users-per-minute or --concurrency")
	}
	var failing []string
	if *failLogins != "" {
		for _, l := range strings.Split(*failLogins, ",") {
			l = strings.TrimSpace(l)
			if l == "" {
				return errors.New("--fault-fail-logins has an empty login")
			}
			failing = append(failing, l)
		}
	}
	limits, conc := oktasim.Limits{Users: *usersPerMinute}, *concurrency
	if *noLimits {
		limits, conc = unlimitedLimits, unlimitedConcurrency
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	sim := oktasim.New(oktasim.Options{
		Token:       *token,
		Limits:      limits,
		Concurrency: conc,
		Faults: oktasim.Faults{ServerErrorRate: *errorRate, Latency: *latency, DropRate: *dropRate, LostResponseRate: *lostRate,
			FailCreateLogins: failing},
		Logger: logger,
	})
	sim.SetReadOnly(*readOnly)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "Okta sandbox listening at http://%s (in memory; use it as the Okta org URL with the token you gave)\n", ln.Addr())
	if *noLimits {
		fmt.Fprintln(stdout, "Rate and concurrency limits lifted (for benchmarks): a real Okta org answers 429s long before this")
	}
	if len(failing) > 0 {
		fmt.Fprintf(stdout, "Creating %d login(s) will always fail with 500 E0000009 (--fault-fail-logins)\n", len(failing))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// --no-limits: every bucket and the concurrency limit so high that a
// benchmark measures Ferry, not the sandbox's Okta limits.
const (
	unlimitedPerMinute   = 1_000_000_000
	unlimitedConcurrency = 1_000_000
)

var unlimitedLimits = oktasim.Limits{Users: unlimitedPerMinute, UserGet: unlimitedPerMinute, UserUpdate: unlimitedPerMinute,
	Groups: unlimitedPerMinute, Group: unlimitedPerMinute, Other: unlimitedPerMinute}
