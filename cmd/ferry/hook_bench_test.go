// The password import hook's latency benchmark: a real `ferry serve` in its
// own process, on a database prepared through the services, called the way
// Okta calls it, at a constant arrival rate.

package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// Okta waits this long for the hook, then gives up (and retries once).
const oktaHookTimeout = 3 * time.Second

// hookUser is a staged user whose legacy password is known.
type hookUser struct{ login, password string }

// hookWorld is a data directory whose database has a project connected to
// its Okta org, a source with bcrypt password settings, its users staged and
// validated, and the org's password import hook with a known secret.
type hookWorld struct {
	dir, orgKey, header, secret string
	users                       []hookUser
}

// newHookWorld prepares the world with n users whose passwords are stored as
// bcrypt hashes of the given cost.
func newHookWorld(tb testing.TB, n, cost int) *hookWorld {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	getenv := func(k string) string { return map[string]string{"FERRY_DATA_DIR": dir}[k] }
	a, err := openWithDatabaseFlags(ctx, dir, "", getenv, io.Discard)
	if err != nil {
		tb.Fatal(err)
	}
	defer a.db.Close() // `ferry serve` owns the database from here
	lead, err := a.auth.CreateAccount(ctx, auth.AccountInput{Email: "lead@example.com", Name: "Lena Lead",
		Password: "correct horse battery", IsAdmin: true})
	if err != nil {
		tb.Fatal(err)
	}
	ctx = audit.WithActor(ctx, audit.Actor{ID: lead.ID, Name: lead.Name})
	name, srcName, kind, yes, format := "Hook bench", "Shop DB", "database", plan.DecisionYes, "bcrypt"
	p, err := a.plan.CreateProject(ctx, lead.ID, plan.ProjectInput{Name: &name})
	if err != nil {
		tb.Fatal(err)
	}
	src, err := a.plan.CreateSource(ctx, p.ID, plan.SourceInput{Name: &srcName, Kind: &kind, MigrateCredentials: &yes, PasswordHashFormat: &format})
	if err != nil {
		tb.Fatal(err)
	}

	// bcrypt at cost 10 takes tens of milliseconds a hash: hash on every core.
	users := make([]hookUser, n)
	hashed := make([]string, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range work {
				users[i] = hookUser{login: fmt.Sprintf("user%04d@example.com", i), password: fmt.Sprintf("Legacy-%04d-%x", i, rand.Uint32())}
				h, err := bcrypt.GenerateFromPassword([]byte(users[i].password), cost)
				if err != nil {
					tb.Error(err)
				}
				hashed[i] = string(h)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	if tb.Failed() {
		tb.FailNow()
	}

	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write([]string{"uid", "mail", "givenName", "sn", "userPassword"})
	for i, u := range users {
		_ = cw.Write([]string{fmt.Sprintf("u%04d", i), u.login, "Given", fmt.Sprintf("Family%04d", i), hashed[i]})
	}
	cw.Flush()
	r, fmtName, err := staging.OpenReader(&buf, "")
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := a.staging.Stage(ctx, p.ID, src.ID, r, staging.Meta{FileName: "users.csv", Format: fmtName, KeyAttribute: "uid"}, nil); err != nil {
		tb.Fatal(err)
	}
	fields, err := a.mapping.FindFields(ctx, p.ID, src.ID)
	if err != nil {
		tb.Fatal(err)
	}
	targets := map[string][]string{"mail": {"login", "email"}, "givenName": {"firstName"}, "sn": {"lastName"}}
	for _, f := range fields {
		for _, target := range targets[f.Name] {
			id, tgt := f.ID, target
			if _, err := a.mapping.CreateRow(ctx, p.ID, mapping.RowInput{SourceFieldID: &id, TargetAttribute: &tgt}); err != nil {
				tb.Fatalf("map %s → %s: %v", f.Name, target, err)
			}
		}
	}
	if _, err := a.credentials.Save(ctx, p.ID, src.ID, 0, credentials.Input{Attribute: "userPassword", Formats: []string{"bcrypt"}, Default: "bcrypt"}); err != nil {
		tb.Fatalf("password settings: %v", err)
	}
	// Validation computes the login keys the hook finds users by.
	run, err := a.quality.Validate(ctx, p.ID, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if run.Valid != int64(n) {
		tb.Fatalf("validation: %d of %d users valid (%v)", run.Valid, n, run.Counts.ByCode)
	}
	token := "00hookbenchtoken0123456789"
	if _, err := a.orgs.Save(ctx, p.ID, 0, orgs.Input{OrgURL: "https://hookbench.okta.com", AuthScheme: orgs.SchemeSSWS, Token: &token}); err != nil {
		tb.Fatal(err)
	}
	secret := "hook-bench-secret-0123456789abcdef"
	cfg, _, err := a.passwordHook.SaveConfig(ctx, p.ID, 0, hook.ConfigInput{Secret: &secret})
	if err != nil {
		tb.Fatal(err)
	}
	return &hookWorld{dir: dir, orgKey: cfg.OrgKey, header: cfg.HeaderName, secret: secret, users: users}
}

// startServeProcess runs `ferry serve` on the world's data directory in its
// own process and returns its base URL, once it answers.
func startServeProcess(tb testing.TB, bin, dir string) (base string, pid int) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "FERRY_DATA_DIR="+dir, "FERRY_ADDR="+addr, "FERRY_DEMO=false", "FERRY_SANDBOX_ADDR=")
	logFile, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); logFile.Close() })
	base = "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return base, cmd.Process.Pid
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("ferry serve did not answer: %v; its log:\n%s", err, tail(filepath.Join(dir, "serve.log")))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// hookCall is one request of the load and how it ended.
type hookCall struct {
	right    bool          // the password sent is the user's
	latency  time.Duration // from the moment it was due
	lag      time.Duration // how late the client sent it
	status   int           // 0: no answer
	timedOut bool          // no answer within Okta's timeout
	verdict  string        // VERIFIED or UNVERIFIED, on a 200
	cause    string        // the cause a 503 names
	err      error
}

// hookLoad drives the hook at a constant arrival rate.
type hookLoad struct {
	w      *hookWorld
	url    string
	client *http.Client
	rng    *rand.Rand
	next   int // the next user, round robin: failures spread over users
}

func newHookLoad(w *hookWorld, base string) *hookLoad {
	return &hookLoad{w: w, url: base + hook.PathPrefix + w.orgKey, rng: rand.New(rand.NewPCG(1, 2)),
		client: &http.Client{Timeout: oktaHookTimeout, Transport: &http.Transport{MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}}}
}

// request builds the next call: a third of them with a wrong password, some
// typed in another case, each from one of 500 end-user addresses, so that
// no throttling limit (10 failures a username, 50 an address) is reached.
func (l *hookLoad) request() (body []byte, right bool) {
	u := l.w.users[l.next%len(l.w.users)]
	l.next++
	username, password, right := u.login, u.password, l.rng.IntN(3) != 0
	if !right {
		password += "?"
	}
	if l.rng.IntN(4) == 0 {
		username = strings.ToUpper(username[:1]) + username[1:]
	}
	ip := fmt.Sprintf("203.0.%d.%d", 113+l.rng.IntN(2), 1+l.rng.IntN(250))
	return oktaHookPayload(username, password, ip, l.rng), right
}

// oktaHookPayload is the body Okta sends (docs: PasswordImportPayloadExample;
// internal/oktasim's passwordImportPayload).
func oktaHookPayload(username, password, ip string, rng *rand.Rand) []byte {
	b, _ := json.Marshal(map[string]any{
		"eventId": fmt.Sprintf("%022x", rng.Uint64()), "eventTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventType": hook.EventType, "eventTypeVersion": "1.0", "contentType": "application/json", "cloudEventVersion": "0.1",
		"source": "https://hookbench.okta.com/api/v1/inlineHooks/cbl2ad6phv9fsPLcF0g7",
		"data": map[string]any{
			"context": map[string]any{
				"request": map[string]any{"id": fmt.Sprintf("%x", rng.Uint64()), "method": "POST",
					"url": map[string]string{"value": "/idp/idx/challenge/answer"}, "ipAddress": ip},
				"credential": map[string]string{"username": username, "password": password},
			},
			"action": map[string]string{"credential": "UNVERIFIED"},
		},
	})
	return b
}

// call sends one request and reads the answer.
func (l *hookLoad) call(body []byte, due time.Time) hookCall {
	var c hookCall
	c.lag = time.Since(due)
	req, _ := http.NewRequest(http.MethodPost, l.url, bytes.NewReader(body))
	req.Header.Set(l.w.header, l.w.secret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	res, err := l.client.Do(req)
	if err == nil {
		var b []byte
		b, err = io.ReadAll(res.Body)
		res.Body.Close()
		c.status = res.StatusCode
		c.verdict, c.cause = readHookAnswer(res.StatusCode, b)
	}
	c.latency = time.Since(due)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.timedOut, c.status = true, 0
			// A timeout counts as at least Okta's timeout, never less.
			c.latency = max(c.latency, oktaHookTimeout)
		} else {
			c.err = err
		}
	}
	return c
}

// readHookAnswer reads a 200's verdict or the cause a 503 names.
func readHookAnswer(status int, b []byte) (verdict, cause string) {
	switch status {
	case http.StatusOK:
		var ans struct {
			Commands []struct {
				Type  string `json:"type"`
				Value struct {
					Credential string `json:"credential"`
				} `json:"value"`
			} `json:"commands"`
		}
		if json.Unmarshal(b, &ans) == nil && len(ans.Commands) == 1 && ans.Commands[0].Type == "com.okta.action.update" {
			return ans.Commands[0].Value.Credential, ""
		}
		return "malformed: " + string(b), ""
	case http.StatusServiceUnavailable:
		var e struct {
			Summary string `json:"errorSummary"`
		}
		_ = json.Unmarshal(b, &e)
		if i, j := strings.Index(e.Summary, "("), strings.Index(e.Summary, ")"); i >= 0 && j > i {
			return "", e.Summary[i+1 : j]
		}
		return "", "unknown"
	}
	return "", ""
}

// drive sends rate requests a second for d, each when it is due whether or
// not the earlier ones were answered (open loop), and waits for them all.
func (l *hookLoad) drive(rate int, d time.Duration) []hookCall {
	n := int(d.Seconds() * float64(rate))
	interval := time.Second / time.Duration(rate)
	calls := make([]hookCall, n)
	var wg sync.WaitGroup
	start := time.Now().Add(50 * time.Millisecond)
	for i := range n {
		body, right := l.request() // built before it is due, off the clock
		due := start.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(due))
		wg.Go(func() {
			calls[i] = l.call(body, due)
			calls[i].right = right
		})
	}
	wg.Wait()
	return calls
}

// hookFigures sums a phase up.
type hookFigures struct {
	n, ok, unavailable, timedOut int
	p50, p99, max, maxLag        time.Duration
	causes                       map[string]int
	verified                     int
}

// judge checks every answer — a right password answered 200 must be
// VERIFIED, a wrong one UNVERIFIED; nothing may be refused for its secret,
// unreadable or throttled (the setup would be wrong) — and sums them up.
func judge(tb testing.TB, calls []hookCall) hookFigures {
	tb.Helper()
	f := hookFigures{n: len(calls), causes: map[string]int{}}
	lat := make([]time.Duration, 0, len(calls))
	for _, c := range calls {
		lat = append(lat, c.latency)
		f.maxLag = max(f.maxLag, c.lag)
		switch {
		case c.err != nil:
			tb.Fatalf("a call failed without an answer: %v", c.err)
		case c.timedOut:
			f.timedOut++
		case c.status == http.StatusOK:
			f.ok++
			want := "UNVERIFIED"
			if c.right {
				want = "VERIFIED"
				f.verified++
			}
			if c.verdict != want {
				tb.Fatalf("a %s password was answered %q", map[bool]string{true: "right", false: "wrong"}[c.right], c.verdict)
			}
		case c.status == http.StatusServiceUnavailable:
			f.unavailable++
			f.causes[c.cause]++
			if c.cause == hook.CauseThrottled {
				tb.Fatal("the hook throttled the load: the benchmark's usernames or addresses hit a limit")
			}
		default:
			tb.Fatalf("the hook answered %d: the setup is wrong", c.status)
		}
	}
	if f.verified == 0 {
		tb.Fatalf("no right password was VERIFIED (%d answers of 200, %d of 503 %v, %d timeouts)", f.ok, f.unavailable, f.causes, f.timedOut)
	}
	slices.Sort(lat)
	f.p50, f.p99, f.max = percentile(lat, 50), percentile(lat, 99), lat[len(lat)-1]
	return f
}

// percentile of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted), i)-1)]
}

// cpuTicks reads the CPU time a process used (pid > 0) or, for pid 0, the
// machine's busy and total time, in clock ticks: the figures are noisy on
// shared cores, and these say how much of the machine the server had.
func cpuTicks(pid int) (busy, total int64) {
	if pid > 0 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, 0
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		var u, s int64
		if len(f) > 12 {
			_, _ = fmt.Sscan(f[11], &u)
			_, _ = fmt.Sscan(f[12], &s)
		}
		return u + s, 0
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	for i, v := range strings.Fields(line)[1:] {
		var n int64
		_, _ = fmt.Sscan(v, &n)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkHookLatency prints hook_p99_ms, the 99th percentile of the
// hook's answer time at 15 requests a second (about half of what two cores
// verify at bcrypt cost 10), and hook_max_ms, the slowest answer at 40 a
// second (beyond capacity, where the budget and the pool's admission turn
// the excess into fast 503s). A timeout counts as 3000 ms or more. Each rate
// runs for 30 s, one after the other, against one `ferry serve` process;
// every answer is checked. Also printed: the median, the shares of 200s and
// 503s, the timeouts and the cores the server had at each rate.
func BenchmarkHookLatency(b *testing.B) {
	bin, err := buildFerry()
	if err != nil {
		b.Fatal(err)
	}
	const phase = 30 * time.Second
	for range b.N {
		b.StopTimer() // the preparation is not measured
		w := newHookWorld(b, 300, 10)
		base, pid := startServeProcess(b, bin, w.dir)
		load := newHookLoad(w, base)
		// Warm up: connections open, the pool has measured a verification.
		warm := judge(b, load.drive(5, 2*time.Second))
		b.Logf("warm-up: %d answers, median %.0f ms", warm.n, ms(warm.p50))
		b.StartTimer()
		for _, rate := range []int{15, 40} {
			time.Sleep(time.Second) // let the previous phase's work finish
			served0, _ := cpuTicks(pid)
			busy0, total0 := cpuTicks(0)
			began := time.Now()
			f := judge(b, load.drive(rate, phase))
			took := time.Since(began)
			served1, _ := cpuTicks(pid)
			busy1, total1 := cpuTicks(0)
			b.Logf("%d rps: %d calls, %d × 200 (%d verified), %d × 503 %v, %d timeouts; p50 %.0f ms, p99 %.0f ms, max %.0f ms; client lag up to %.0f ms",
				rate, f.n, f.ok, f.verified, f.unavailable, f.causes, f.timedOut, ms(f.p50), ms(f.p99), ms(f.max), ms(f.maxLag))
			cores := float64(served1-served0) / 100 / took.Seconds() // clock ticks are 1/100 s
			if total1 > total0 {
				b.Logf("%d rps: ferry serve used %.2f of %d cores; the machine was %.0f %% busy", rate,
					cores, runtime.NumCPU(), 100*float64(busy1-busy0)/float64(total1-total0))
			}
			if rate == 15 {
				fmt.Printf("BENCH hook_p99_ms %.0f ms\n", ms(f.p99))
			} else {
				fmt.Printf("BENCH hook_max_ms %.0f ms\n", ms(f.max))
			}
			fmt.Printf("BENCH hook_median_ms_%drps %.0f ms\n", rate, ms(f.p50))
			fmt.Printf("BENCH hook_200_share_%drps %.3f ratio\n", rate, float64(f.ok)/float64(f.n))
			fmt.Printf("BENCH hook_503_share_%drps %.3f ratio\n", rate, float64(f.unavailable)/float64(f.n))
			fmt.Printf("BENCH hook_timeouts_%drps %d count\n", rate, f.timedOut)
			// The cores the server had: on shared cores, the figures above follow it.
			fmt.Printf("BENCH hook_server_cores_%drps %.2f cores\n", rate, cores)
		}
	}
}
