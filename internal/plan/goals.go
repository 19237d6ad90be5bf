package plan

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// Goals are the project's answers to the guidance's "create a migration plan"
// questions, and the chosen approach with its rationale. One row per project.
type Goals struct {
	ID                   int64     `gorm:"primaryKey" json:"-"`
	ProjectID            int64     `json:"projectId"`
	UserExperience       string    `json:"userExperience"`
	AcceptableImpact     string    `json:"acceptableImpact"`
	ArchiveLegacyData    string    `json:"archiveLegacyData"`
	PoliciesAndStandards string    `json:"policiesAndStandards"`
	OneShotAcceptable    string    `json:"oneShotAcceptable"`
	StagesPreferred      string    `json:"stagesPreferred"`
	Approach             string    `json:"approach"`
	Rationale            string    `json:"rationale"`
	Version              int64     `json:"version"`
	CreatedAt            time.Time `json:"createdAt"`
	UpdatedAt            time.Time `json:"updatedAt"`
}

// GoalsInput changes the goals; nil fields keep their value.
type GoalsInput struct {
	UserExperience       *string `json:"userExperience"`
	AcceptableImpact     *string `json:"acceptableImpact"`
	ArchiveLegacyData    *string `json:"archiveLegacyData"`
	PoliciesAndStandards *string `json:"policiesAndStandards"`
	OneShotAcceptable    *string `json:"oneShotAcceptable"`
	StagesPreferred      *string `json:"stagesPreferred"`
	Approach             *string `json:"approach"`
	Rationale            *string `json:"rationale"`
}

// GoalQuestion is one of the guidance's questions, with the form field that answers it.
type GoalQuestion struct {
	Field    string
	Question string
	Hint     string
}

// GoalQuestions are the guidance's questions, in its order.
func GoalQuestions() []GoalQuestion {
	return []GoalQuestion{
		{"user_experience", "How do you want your users to experience the migration?", "For example: nobody notices; one password reset email; a banner a week before."},
		{"acceptable_impact", "How much and what kind of user impact is acceptable?", "Downtime, forced password resets, new MFA enrolment, support calls."},
		{"archive_legacy_data", "Will you archive your legacy data?", "Where, for how long, and who may read it."},
		{"policies_and_standards", "Are there any company policies or standards that you have to consider?", "Security, retention, change management, regulations such as GDPR."},
		{"one_shot_acceptable", "Is it acceptable to perform a \"one-shot\" migration?", "Short downtime, a simpler plan."},
		{"stages_preferred", "Is it preferable to perform the migration in stages?", "Fewer interruptions, a more complex plan."},
	}
}

// Answer returns the answer stored for a question's field.
func (g *Goals) Answer(field string) string {
	switch field {
	case "user_experience":
		return g.UserExperience
	case "acceptable_impact":
		return g.AcceptableImpact
	case "archive_legacy_data":
		return g.ArchiveLegacyData
	case "policies_and_standards":
		return g.PoliciesAndStandards
	case "one_shot_acceptable":
		return g.OneShotAcceptable
	case "stages_preferred":
		return g.StagesPreferred
	}
	return ""
}

// Unanswered lists the questions with no answer yet.
func (g *Goals) Unanswered() []GoalQuestion {
	var out []GoalQuestion
	for _, q := range GoalQuestions() {
		if g.Answer(q.Field) == "" {
			out = append(out, q)
		}
	}
	return out
}

func (g *Goals) apply(in GoalsInput) {
	g.UserExperience = str(in.UserExperience, g.UserExperience)
	g.AcceptableImpact = str(in.AcceptableImpact, g.AcceptableImpact)
	g.ArchiveLegacyData = str(in.ArchiveLegacyData, g.ArchiveLegacyData)
	g.PoliciesAndStandards = str(in.PoliciesAndStandards, g.PoliciesAndStandards)
	g.OneShotAcceptable = str(in.OneShotAcceptable, g.OneShotAcceptable)
	g.StagesPreferred = str(in.StagesPreferred, g.StagesPreferred)
	g.Approach = str(in.Approach, g.Approach)
	g.Rationale = str(in.Rationale, g.Rationale)
}

func (g *Goals) validate() error {
	c := apperr.NewCheck()
	for _, q := range GoalQuestions() {
		c.Text(q.Field, "The answer", g.Answer(q.Field), false, apperr.MaxTextLen)
	}
	c.OneOf("approach", "Approach", g.Approach, Values(Approaches()), true)
	c.Text("rationale", "Rationale", g.Rationale, false, apperr.MaxTextLen)
	if g.Approach != "" && g.Rationale == "" {
		c.Add("rationale", "Say why this approach was chosen.")
	}
	return c.Err()
}

func (g *Goals) fields() []field {
	return []field{
		{"userExperience", "User experience", g.UserExperience},
		{"acceptableImpact", "Acceptable impact", g.AcceptableImpact},
		{"archiveLegacyData", "Archive legacy data", g.ArchiveLegacyData},
		{"policiesAndStandards", "Policies and standards", g.PoliciesAndStandards},
		{"oneShotAcceptable", "One-shot acceptable", g.OneShotAcceptable},
		{"stagesPreferred", "Stages preferred", g.StagesPreferred},
		{"approach", "Approach", LabelOf(Approaches(), g.Approach)},
		{"rationale", "Rationale", g.Rationale},
	}
}

func (in GoalsInput) sent() map[string]bool {
	return map[string]bool{"userExperience": in.UserExperience != nil, "acceptableImpact": in.AcceptableImpact != nil,
		"archiveLegacyData": in.ArchiveLegacyData != nil, "policiesAndStandards": in.PoliciesAndStandards != nil,
		"oneShotAcceptable": in.OneShotAcceptable != nil, "stagesPreferred": in.StagesPreferred != nil,
		"approach": in.Approach != nil, "rationale": in.Rationale != nil}
}

// FindGoals returns a project's goals.
func (s *Service) FindGoals(ctx context.Context, projectID int64) (*Goals, error) {
	var g Goals
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).First(&g).Error; err != nil {
		return nil, wrap(notFoundOr(err, "project"))
	}
	return &g, nil
}

// UpdateGoals applies in if the goals are still at version.
func (s *Service) UpdateGoals(ctx context.Context, projectID, version int64, in GoalsInput) (*Goals, error) {
	var out Goals
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var g Goals
		if err := tx.Where("project_id = ?", projectID).First(&g).Error; err != nil {
			return notFoundOr(err, "project")
		}
		before := g
		g.apply(in)
		if before.Version != version {
			return apperr.VersionConflict("goals page", before.Version, conflictChanges(before.fields(), g.fields(), in.sent()))
		}
		if err := g.validate(); err != nil {
			return err
		}
		g.Version++
		// The record is the model, so that the updated_at gorm writes is the one answered.
		res := tx.Model(&g).Where("id = ? AND version = ?", g.ID, version).
			Select("user_experience", "acceptable_impact", "archive_legacy_data", "policies_and_standards", "one_shot_acceptable",
				"stages_preferred", "approach", "rationale", "version", "updated_at").Updates(&g)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return lostRace("goals page")
		}
		out = g
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "goals", EntityID: g.ID, Label: "Goals and strategy", Before: before, After: g})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}
