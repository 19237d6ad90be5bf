package plan_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/plan"
)

func TestGoalQuestionsAreAnsweredByTheirFields(t *testing.T) {
	qs := plan.GoalQuestions()
	if len(qs) != 6 {
		t.Fatalf("%d questions, want the guidance's six", len(qs))
	}
	var g plan.Goals
	for i, q := range qs {
		if q.Question == "" || !strings.HasSuffix(q.Question, "?") {
			t.Errorf("question %d %q", i, q.Question)
		}
		// Answering one question through its field removes exactly that one from Unanswered.
		g = plan.Goals{}
		answer := "answer " + q.Field
		switch q.Field {
		case "user_experience":
			g.UserExperience = answer
		case "acceptable_impact":
			g.AcceptableImpact = answer
		case "archive_legacy_data":
			g.ArchiveLegacyData = answer
		case "policies_and_standards":
			g.PoliciesAndStandards = answer
		case "one_shot_acceptable":
			g.OneShotAcceptable = answer
		case "stages_preferred":
			g.StagesPreferred = answer
		default:
			t.Fatalf("unknown question field %q", q.Field)
		}
		if g.Answer(q.Field) != answer {
			t.Errorf("Answer(%q) = %q", q.Field, g.Answer(q.Field))
		}
		un := g.Unanswered()
		if len(un) != len(qs)-1 {
			t.Errorf("answering %s leaves %d unanswered", q.Field, len(un))
		}
		for _, u := range un {
			if u.Field == q.Field {
				t.Errorf("%s answered but listed as unanswered", q.Field)
			}
		}
	}
	if g.Answer("nonsense") != "" {
		t.Errorf("an unknown field has an answer")
	}
}

func TestUpdateGoals(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	g, err := f.plan.FindGoals(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.plan.UpdateGoals(f.ctx, p.ID, g.Version, plan.GoalsInput{UserExperience: ptr("Nobody notices"), AcceptableImpact: ptr(script + "\n\tone reset")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.UserExperience != "Nobody notices" || got.AcceptableImpact != script+"\n\tone reset" || got.Approach != "" {
		t.Fatalf("updated = %+v", got)
	}
	stored, _ := f.plan.FindGoals(context.Background(), p.ID)
	if stored.UserExperience != "Nobody notices" || stored.AcceptableImpact != script+"\n\tone reset" || stored.Version != 2 || len(stored.Unanswered()) != 4 {
		t.Fatalf("stored = %+v", stored)
	}
	if _, err := f.plan.UpdateGoals(f.ctx, p.ID, 2, plan.GoalsInput{Approach: ptr("staged"), Rationale: ptr("Fewer interruptions")}); err != nil {
		t.Fatal(err)
	}
	stored, _ = f.plan.FindGoals(context.Background(), p.ID)
	if stored.UserExperience != "Nobody notices" || stored.Approach != "staged" || stored.Rationale != "Fewer interruptions" || stored.Version != 3 {
		t.Fatalf("stored = %+v; unsent answers must be kept", stored)
	}

	entries := f.history(t, "goals", g.ID)
	if len(entries) != 2 {
		t.Fatalf("goals entries = %d", len(entries))
	}
	f.checkEntry(t, entries[1], p.ID, "update", "goals", g.ID)
	if d := diff(entries[1]); len(d) != 2 || d["userExperience"] != " → Nobody notices" {
		t.Fatalf("diff = %v", d)
	}
	if d := diff(entries[0]); len(d) != 2 || d["approach"] != " → staged" || d["rationale"] != " → Fewer interruptions" {
		t.Fatalf("diff = %v", d)
	}
}

func TestGoalsValidation(t *testing.T) {
	tests := []struct {
		name  string
		in    plan.GoalsInput
		field string
		want  string
	}{
		{"overlong answer", plan.GoalsInput{ArchiveLegacyData: ptr(strings.Repeat("a", 10001))}, "archive_legacy_data", "too long"},
		{"answer with a control character", plan.GoalsInput{StagesPreferred: ptr("yes\x00")}, "stages_preferred", "control characters"},
		{"answer in invalid UTF-8", plan.GoalsInput{PoliciesAndStandards: ptr("GDPR \xff")}, "policies_and_standards", "UTF-8"},
		{"unknown approach", plan.GoalsInput{Approach: ptr("big_bang"), Rationale: ptr("why not")}, "approach", "must be one of: one_shot, staged"},
		{"approach without rationale", plan.GoalsInput{Approach: ptr("one_shot")}, "rationale", "Say why"},
		{"approach with a blank rationale", plan.GoalsInput{Approach: ptr("one_shot"), Rationale: ptr("   ")}, "rationale", "Say why"},
		{"overlong rationale", plan.GoalsInput{Approach: ptr("staged"), Rationale: ptr(strings.Repeat("r", 10001))}, "rationale", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.mustProject(t, "Acme")
			before := f.auditCount(t)
			_, err := f.plan.UpdateGoals(f.ctx, p.ID, 1, tt.in)
			wantField(t, err, tt.field, tt.want)
			stored, _ := f.plan.FindGoals(context.Background(), p.ID)
			if stored.Version != 1 || len(stored.Unanswered()) != 6 || stored.Approach != "" || f.auditCount(t) != before {
				t.Fatalf("a refused update was written: %+v", stored)
			}
		})
	}
}

func TestUpdateGoalsVersionConflict(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	if _, err := f.plan.UpdateGoals(f.ctx, p.ID, 1, plan.GoalsInput{OneShotAcceptable: ptr("Yes"), Approach: ptr("one_shot"), Rationale: ptr("small")}); err != nil {
		t.Fatal(err)
	}
	before := f.auditCount(t)
	_, err := f.plan.UpdateGoals(f.ctx, p.ID, 1, plan.GoalsInput{OneShotAcceptable: ptr("No"), Approach: ptr("staged"), Rationale: ptr("small"), UserExperience: ptr("")})
	e := wantCode(t, err, apperr.CodeConflict)
	if e.CurrentVersion != 2 || !strings.Contains(e.Message, "goals") {
		t.Fatalf("conflict = %+v", e)
	}
	ch := changed(t, err)
	if len(ch) != 2 || ch["oneShotAcceptable"] != "Yes → No" || ch["approach"] != "One-shot migration → Migration in stages" {
		t.Fatalf("changes = %v", ch)
	}
	stored, _ := f.plan.FindGoals(context.Background(), p.ID)
	if stored.OneShotAcceptable != "Yes" || stored.Approach != "one_shot" || stored.Version != 2 || f.auditCount(t) != before {
		t.Fatalf("a refused update was written: %+v", stored)
	}
}

func TestGoalsOfAMissingProjectAreNotFound(t *testing.T) {
	f := newFixture(t)
	_, err := f.plan.FindGoals(context.Background(), 9999)
	wantCode(t, err, apperr.CodeNotFound)
	_, err = f.plan.UpdateGoals(f.ctx, 9999, 1, plan.GoalsInput{UserExperience: ptr("x")})
	wantCode(t, err, apperr.CodeNotFound)
}
