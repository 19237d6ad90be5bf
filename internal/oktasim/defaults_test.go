package oktasim

import (
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	s := New(Options{Token: "t"})
	if s.opts.HookTimeout != 3*time.Second {
		t.Errorf("hook timeout = %v, want Okta's 3 s", s.opts.HookTimeout)
	}
	if s.opts.Concurrency != 75 {
		t.Errorf("concurrency = %d, want 75", s.opts.Concurrency)
	}
	if s.opts.Window != time.Minute {
		t.Errorf("window = %v, want a minute", s.opts.Window)
	}
	want := Limits{Users: 600, UserGet: 2000, UserUpdate: 600, Groups: 500, Group: 1000, Other: 1200}
	if s.limiter.limits != want {
		t.Errorf("limits = %+v, want the Workforce column %+v", s.limiter.limits, want)
	}
	if s.hookHTTP.CheckRedirect == nil {
		t.Error("the hook client follows redirects; Okta does not")
	}
	// Configured limits override only what they set.
	s = New(Options{Limits: Limits{Users: 5}})
	if s.limiter.limits.Users != 5 || s.limiter.limits.Other != 1200 {
		t.Errorf("limits = %+v", s.limiter.limits)
	}
}
