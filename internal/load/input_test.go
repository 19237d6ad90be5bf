package load

import (
	"math"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

func TestNewRunRejectsBadInput(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	f.addRecords(src, "u", 2)
	cases := []struct {
		name  string
		in    NewRun
		field string
	}{
		{"max in flight negative", NewRun{MaxInFlight: -1}, "max_in_flight"},
		{"max in flight above Okta's limit", NewRun{MaxInFlight: MaxMaxInFlight + 1}, "max_in_flight"},
		{"rate share negative", NewRun{RateShare: -0.1}, "rate_share"},
		{"rate share above 1", NewRun{RateShare: 1.01}, "rate_share"},
		{"rate share NaN", NewRun{RateShare: math.NaN()}, "rate_share"},
		{"unknown mode", NewRun{Mode: "plaintext"}, "mode"},
		{"unknown on-existing", NewRun{OnExisting: "overwrite"}, "on_existing"},
		{"unknown kind", NewRun{Kind: KindRollback}, "kind"},
		{"test batch without rung", NewRun{Kind: KindTestBatch}, "rung"},
		{"bad population", NewRun{Population: Population{Logins: []string{"a\x00b@example.com"}}}, "logins"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := f.svc.Start(t.Context(), f.projectID, c.in)
			ae := apperr.As(err)
			if err == nil || ae.Code != apperr.CodeInvalid {
				t.Fatalf("Start(%+v) = %v, want invalid", c.in, err)
			}
			if _, ok := ae.Fields[c.field]; !ok {
				t.Errorf("fields %v lack %q", ae.Fields, c.field)
			}
		})
	}
	if runs, _ := f.svc.FindRuns(t.Context(), f.projectID, 0); len(runs) != 0 {
		t.Errorf("refused runs were recorded: %d", len(runs))
	}
	// The defaults are filled in.
	in := NewRun{}
	if err := in.normalise(); err != nil {
		t.Fatal(err)
	}
	if in.Kind != KindLoad || in.Mode != ModeNone || in.OnExisting != OnExistingSkip || in.MaxInFlight != DefaultMaxInFlight || in.RateShare != DefaultRateShare {
		t.Errorf("defaults: %+v", in)
	}
}

func TestPopulationValidate(t *testing.T) {
	many := make([]string, MaxLogins+1)
	for i := range many {
		many[i] = "x@example.com"
	}
	bad := []struct {
		name  string
		p     Population
		field string
	}{
		{"too many logins", Population{Logins: many}, "logins"},
		{"NUL in a login", Population{Logins: []string{"ok@example.com", "a\x00@example.com"}}, "logins"},
		{"newline in a login", Population{Logins: []string{"a\n@example.com"}}, "logins"},
		{"DEL in a login", Population{Logins: []string{"a\x7f@example.com"}}, "logins"},
		{"invalid UTF-8", Population{Logins: []string{"a\xff@example.com"}}, "logins"},
		{"unknown filter operator", Population{Filter: &Filter{Attribute: "department", Op: "regex", Value: "x"}}, "filter_op"},
		{"control character in the filter value", Population{Filter: &Filter{Attribute: "department", Op: "equals", Value: "a\x01"}}, "filter_value"},
		{"oversized filter value", Population{Filter: &Filter{Attribute: "department", Op: "equals", Value: strings.Repeat("v", MaxFilterValue+1)}}, "filter_value"},
		{"unknown priority", Population{Priority: "random"}, "priority"},
		{"negative size", Population{Size: -1}, "size"},
		{"oversized size", Population{Size: MaxBatchSize + 1}, "size"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			err := c.p.Validate()
			ae := apperr.As(err)
			if err == nil || ae.Code != apperr.CodeInvalid {
				t.Fatalf("Validate = %v, want invalid", err)
			}
			if _, ok := ae.Fields[c.field]; !ok {
				t.Errorf("fields %v lack %q", ae.Fields, c.field)
			}
		})
	}
	ok := Population{Logins: make([]string, MaxLogins), Filter: &Filter{Attribute: "department", Op: "contains", Value: "sales"}, Priority: PriorityTailEnd, Size: 10}
	for i := range ok.Logins {
		ok.Logins[i] = "üser@example.com"
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid population refused: %v", err)
	}
	empty := Population{Filter: &Filter{}}
	if err := empty.Validate(); err != nil || empty.Filter != nil {
		t.Errorf("an empty filter is dropped: %v %+v", err, empty.Filter)
	}
}

func TestParseLogins(t *testing.T) {
	got := ParseLogins("a@example.com\r\nB@Example.com; a@EXAMPLE.com,,\n  c@example.com  \n\nb@example.com")
	want := []string{"a@example.com", "B@Example.com", "c@example.com"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ParseLogins = %q, want %q", got, want)
	}
}

func TestSaveSettings(t *testing.T) {
	f := newFixture(t, fxOptions{})
	ctx := t.Context()
	st, err := f.svc.FindSettings(ctx, f.projectID)
	if err != nil || st.Version != 0 || len(st.Ladder) != 4 || st.ErrorThreshold != 0.01 {
		t.Fatalf("defaults: %+v %v", st, err)
	}
	bad := []struct {
		name      string
		ladder    []int
		threshold float64
		field     string
	}{
		{"empty ladder", nil, 0.01, "ladder"},
		{"too many rungs", []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0.01, "ladder"},
		{"zero batch", []int{0, 10}, 0.01, "ladder"},
		{"oversized batch", []int{10, MaxBatchSize + 1}, 0.01, "ladder"},
		{"not increasing", []int{10, 10, 100}, 0.01, "ladder"},
		{"decreasing", []int{100, 10}, 0.01, "ladder"},
		{"threshold 100 %", []int{10}, 1, "error_threshold"},
		{"negative threshold", []int{10}, -0.01, "error_threshold"},
		{"NaN threshold", []int{10}, math.NaN(), "error_threshold"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.svc.SaveSettings(ctx, f.projectID, 0, c.ladder, c.threshold)
			ae := apperr.As(err)
			if err == nil || ae.Code != apperr.CodeInvalid {
				t.Fatalf("SaveSettings = %v, want invalid", err)
			}
			if _, ok := ae.Fields[c.field]; !ok {
				t.Errorf("fields %v lack %q", ae.Fields, c.field)
			}
		})
	}
	saved, err := f.svc.SaveSettings(ctx, f.projectID, 0, []int{5, 50}, 0.05)
	if err != nil || saved.Version != 1 {
		t.Fatalf("save: %+v %v", saved, err)
	}
	if _, err := f.svc.SaveSettings(ctx, f.projectID, 0, []int{5, 60}, 0.05); apperr.CodeOf(err) != apperr.CodeConflict {
		t.Errorf("stale version 0: %v, want conflict", err)
	}
	again, err := f.svc.SaveSettings(ctx, f.projectID, 1, []int{2, 20, 200}, 0.1)
	if err != nil || again.Version != 2 {
		t.Fatalf("second save: %+v %v", again, err)
	}
	if _, err := f.svc.SaveSettings(ctx, f.projectID, 1, []int{3}, 0.1); apperr.CodeOf(err) != apperr.CodeConflict {
		t.Errorf("stale version 1: %v, want conflict", err)
	}
	st, err = f.svc.FindSettings(ctx, f.projectID)
	if err != nil || st.Version != 2 || len(st.Ladder) != 3 || st.Ladder[2] != 200 || st.ErrorThreshold != 0.1 {
		t.Errorf("stored: %+v %v", st, err)
	}
}

func TestStartRollbackRequiresTypedProjectName(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	f.addRecords(src, "u", 2)
	run := f.start(NewRun{Activate: true})
	f.mustExecute(run.ID)
	for _, confirm := range []string{"", "acme", "Acme!", "Acm"} {
		_, err := f.svc.StartRollback(t.Context(), f.projectID, NewRollback{TargetRunID: run.ID, Confirm: confirm, ProjectName: "Acme"})
		ae := apperr.As(err)
		if err == nil || ae.Code != apperr.CodeInvalid || ae.Fields["confirm"] == "" {
			t.Errorf("confirm %q: %v, want invalid confirm", confirm, err)
		}
	}
	for _, in := range []NewRollback{
		{TargetRunID: run.ID, Confirm: "Acme", ProjectName: "Acme", Action: "purge"},
		{TargetRunID: run.ID, Confirm: "Acme", ProjectName: "Acme", MaxInFlight: MaxMaxInFlight + 1},
		{TargetRunID: run.ID, Confirm: "Acme", ProjectName: "Acme", RateShare: 2},
		{Confirm: "Acme", ProjectName: "Acme"},
	} {
		if _, err := f.svc.StartRollback(t.Context(), f.projectID, in); apperr.CodeOf(err) != apperr.CodeInvalid {
			t.Errorf("%+v: %v, want invalid", in, err)
		}
	}
	if f.sim.UserCount() != 2 {
		t.Errorf("a refused rollback touched the org")
	}
	rb, err := f.svc.StartRollback(t.Context(), f.projectID, NewRollback{TargetRunID: run.ID, Confirm: " Acme ", ProjectName: "Acme"})
	if err != nil || rb.Status != StatusQueued || rb.Total != 2 {
		t.Fatalf("confirmed rollback: %+v %v", rb, err)
	}
	if _, err := f.svc.StartRollback(t.Context(), f.projectID, NewRollback{TargetRunID: rb.ID, Confirm: "Acme", ProjectName: "Acme"}); apperr.CodeOf(err) != apperr.CodeInvalid {
		t.Errorf("rolling back a rollback: %v, want invalid", err)
	}
}

// A run started with the defaults records them: a load, no password, existing
// logins skipped, the default pace.
func TestStartRecordsTheDefaults(t *testing.T) {
	f := newFixture(t, fxOptions{})
	src := f.addSource("HR", false)
	f.addRecords(src, "df", 2)
	run := f.start(NewRun{})
	if run.Kind != KindLoad || run.Mode != ModeNone || run.OnExisting != OnExistingSkip ||
		run.MaxInFlight != DefaultMaxInFlight || run.RateShare != DefaultRateShare {
		t.Errorf("defaults not recorded: kind %q mode %q on-existing %q in flight %d share %v",
			run.Kind, run.Mode, run.OnExisting, run.MaxInFlight, run.RateShare)
	}
	if r := f.mustExecute(run.ID); r.Status != StatusDone || r.Label() != "Load (run 1)" {
		t.Errorf("after the run: %s %q", r.Status, r.Label())
	}
}
