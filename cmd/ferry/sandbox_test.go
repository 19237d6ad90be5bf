package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSandboxCommandServesAnOktaOrg(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--token", "tok", "--users-per-minute", "7", "--concurrency", "3"},
			func(string) string { return "" }, &out, &errOut)
	}()
	re := regexp.MustCompile(`listening at (http://\S+)`)
	var base string
	deadline := time.After(30 * time.Second)
	for base == "" {
		select {
		case err := <-done:
			t.Fatalf("sandbox stopped: %v\n%s%s", err, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("sandbox did not start: %s", out.String())
		case <-time.After(10 * time.Millisecond):
			if m := re.FindStringSubmatch(out.String()); m != nil {
				base = m[1]
			}
		}
	}
	req, _ := http.NewRequest("GET", base+"/api/v1/users", nil)
	req.Header.Set("Authorization", "SSWS tok")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("X-Rate-Limit-Limit") != "7" {
		t.Errorf("GET /api/v1/users = %d, X-Rate-Limit-Limit %q; want 200 and the --users-per-minute 7", res.StatusCode, res.Header.Get("X-Rate-Limit-Limit"))
	}
	res, err = http.Get(base + "/api/v1/users")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Errorf("without the token: %d, want 401", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("sandbox stopped with %v", err)
	}
}

func TestSandboxCommandNeedsAToken(t *testing.T) {
	var out, errOut syncBuffer
	err := run(context.Background(), []string{"sandbox", "--addr", "127.0.0.1:0"}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--token") {
		t.Errorf("no token: err = %v, want the usage", err)
	}
	err = run(context.Background(), []string{"sandbox", "--token", "t", "--fault-5xx", "2"}, func(string) string { return "" }, &out, &errOut)
	if err == nil {
		t.Error("a fault share of 2 was accepted")
	}
}

func TestSandboxCommandNoLimitsAndFailingLogins(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"sandbox", "--addr", "127.0.0.1:0", "--token", "tok", "--no-limits", "--fault-fail-logins", "Doomed@example.com, other@example.com"},
			func(string) string { return "" }, &out, &errOut)
	}()
	re := regexp.MustCompile(`listening at (http://\S+)`)
	var base string
	deadline := time.After(30 * time.Second)
	for base == "" {
		select {
		case err := <-done:
			t.Fatalf("sandbox stopped: %v\n%s%s", err, out.String(), errOut.String())
		case <-deadline:
			t.Fatalf("sandbox did not start: %s", out.String())
		case <-time.After(10 * time.Millisecond):
			if m := re.FindStringSubmatch(out.String()); m != nil {
				base = m[1]
			}
		}
	}
	if !strings.Contains(out.String(), "limits lifted") {
		t.Errorf("output does not say the limits are lifted: %s", out.String())
	}
	send := func(method, path, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "SSWS tok")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	for _, p := range []string{"/api/v1/users", "/api/v1/groups", "/api/v1/inlineHooks"} {
		if res := send("GET", p, ""); res.StatusCode != 200 || res.Header.Get("X-Rate-Limit-Limit") != "1000000000" {
			t.Errorf("GET %s = %d, X-Rate-Limit-Limit %q; want 200 and 1000000000", p, res.StatusCode, res.Header.Get("X-Rate-Limit-Limit"))
		}
	}
	profile := func(login string) string {
		return `{"profile":{"login":"` + login + `","email":"` + login + `","firstName":"A","lastName":"B"}}`
	}
	if res := send("POST", "/api/v1/users?activate=false", profile("doomed@example.com")); res.StatusCode != 500 {
		t.Errorf("creating a failing login: %d, want 500", res.StatusCode)
	}
	if res := send("POST", "/api/v1/users?activate=false", profile("fine@example.com")); res.StatusCode != 200 {
		t.Errorf("creating another login: %d, want 200", res.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("sandbox stopped with %v", err)
	}
}

func TestSandboxCommandRefusesBadLimitAndFaultFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--no-limits", "--users-per-minute", "5"},
		{"--no-limits", "--concurrency", "5"},
		{"--fault-fail-logins", "a@example.com,,b@example.com"},
	} {
		var out, errOut syncBuffer
		err := run(context.Background(), append([]string{"sandbox", "--addr", "127.0.0.1:0", "--token", "t"}, args...), func(string) string { return "" }, &out, &errOut)
		if err == nil {
			t.Errorf("%v was accepted", args)
		}
	}
}
