package plandoc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// Import creates a new project from p, with leadID as its project lead,
// named name (p's name when empty), and everything in it, through the
// services, so that their validation and audit apply (the actor is the one
// in ctx; a privacy decision and the sign-off are recorded under the names
// of the people who made them, at their times). The file is validated
// first: a broken reference creates nothing. The services cannot share one
// transaction, so when a step fails the half-created project is deleted,
// and the error says which step failed (and if the deletion failed too).
func Import(ctx context.Context, svc Services, p *Plan, leadID int64, name string) (int64, error) {
	if err := Validate(p); err != nil {
		return 0, err
	}
	Normalise(p)
	if strings.TrimSpace(name) == "" {
		name = p.Project.Name
	}
	name = strings.TrimSpace(name)
	projects, err := svc.Plan.FindProjects(ctx, nil)
	if err != nil {
		return 0, err
	}
	for _, pr := range projects {
		if key(pr.Name) == key(name) {
			return 0, apperr.Invalid(fmt.Sprintf("A project called %q exists already on this console: import under another name.", pr.Name),
				map[string]string{"name": "Another project already has this name."})
		}
	}
	proj, err := svc.Plan.CreateProject(ctx, leadID, plan.ProjectInput{Name: &name, Description: &p.Project.Description,
		MigrationType: &p.Project.MigrationType, UserCreationRateLimit: &p.Project.UserCreationRateLimit,
		LoadRateSharePercent: &p.Project.LoadRateSharePercent})
	if err != nil {
		return 0, stepErr("create the project", err)
	}
	im := &importer{svc: svc, p: p, projectID: proj.ID}
	if err := im.run(ctx); err != nil {
		// Even when ctx was cancelled, leave no half-made project behind.
		if derr := svc.Plan.DeleteProject(context.WithoutCancel(ctx), proj.ID, proj.Name); derr != nil {
			return 0, errors.Join(err, fmt.Errorf("and the half-imported project %q could not be deleted (delete it by hand): %w", proj.Name, derr))
		}
		return 0, fmt.Errorf("%w (nothing was kept: the half-imported project was deleted)", err)
	}
	return proj.ID, nil
}

// importError is a failed import step; Unwrap gives the service's error.
type importError struct {
	step string
	err  error
}

func (e *importError) Error() string {
	if ae := apperr.As(e.err); ae != nil && ae.Code != apperr.CodeInternal {
		return "import: " + e.step + ": " + ae.Detail()
	}
	return "import: " + e.step + ": " + e.err.Error()
}

func (e *importError) Unwrap() error { return e.err }

func stepErr(step string, err error) error { return &importError{step: step, err: err} }

type importer struct {
	svc       Services
	p         *Plan
	projectID int64
	userTypes map[string]int64 // name key → id
	sources   map[string]int64
	fields    map[string]int64 // source key \x00 field key → id
}

func (im *importer) run(ctx context.Context) error {
	for _, step := range []func(context.Context) error{
		im.goals, im.profile, im.userTypeList, im.sourceList, im.applications, im.fieldList, im.matrix,
		im.sourceSettings, im.testing, im.privacy, im.defectLog,
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (im *importer) goals(ctx context.Context) error {
	g := im.p.Goals
	if g == (Goals{}) {
		return nil
	}
	cur, err := im.svc.Plan.FindGoals(ctx, im.projectID)
	if err != nil {
		return stepErr("goals", err)
	}
	_, err = im.svc.Plan.UpdateGoals(ctx, im.projectID, cur.Version, plan.GoalsInput{UserExperience: &g.UserExperience,
		AcceptableImpact: &g.AcceptableImpact, ArchiveLegacyData: &g.ArchiveLegacyData, PoliciesAndStandards: &g.PoliciesAndStandards,
		OneShotAcceptable: &g.OneShotAcceptable, StagesPreferred: &g.StagesPreferred, Approach: &g.Approach, Rationale: &g.Rationale})
	return stepErr2("goals", err)
}

func (im *importer) profile(ctx context.Context) error {
	pr := im.p.Profile
	if pr.LoginPattern != "" || pr.EmailUnique || pr.SecondEmailUnique {
		cur, err := im.svc.Schema.FindSettings(ctx, im.projectID)
		if err != nil {
			return stepErr("profile settings", err)
		}
		if _, err := im.svc.Schema.UpdateSettings(ctx, im.projectID, cur.Version, schema.SettingsInput{LoginPattern: &pr.LoginPattern,
			EmailUnique: &pr.EmailUnique, SecondEmailUnique: &pr.SecondEmailUnique}); err != nil {
			return stepErr("profile settings", err)
		}
	}
	for i, c := range pr.CustomAttributes {
		enum := append([]string{}, c.Enum...)
		in := schema.CustomAttributeInput{Name: &c.Name, Title: &c.Title, Description: &c.Description, Type: &c.Type,
			Pattern: &c.Pattern, Enum: &enum, Required: &c.Required, Unique: &c.Unique}
		if c.MinLength != nil {
			in.MinLength = schema.SetInt(*c.MinLength)
		}
		if c.MaxLength != nil {
			in.MaxLength = schema.SetInt(*c.MaxLength)
		}
		if _, err := im.svc.Schema.CreateCustomAttribute(ctx, im.projectID, in); err != nil {
			return stepErr(fmt.Sprintf("profile.customAttributes[%d] (%s)", i, c.Name), err)
		}
	}
	return nil
}

func (im *importer) userTypeList(ctx context.Context) error {
	im.userTypes = map[string]int64{}
	for i, u := range im.p.UserTypes {
		sgs := make([]plan.SubgroupInput, 0, len(u.Subgroups))
		for _, sg := range u.Subgroups {
			sgs = append(sgs, plan.SubgroupInput{Name: sg.Name, UserCount: sg.UserCount})
		}
		created, err := im.svc.Plan.CreateUserType(ctx, im.projectID, plan.UserTypeInput{Kind: &u.Kind, Name: &u.Name,
			UserCount: &u.UserCount, Notes: &u.Notes, Subgroups: &sgs})
		if err != nil {
			return stepErr(fmt.Sprintf("userTypes[%d] (%s)", i, u.Name), err)
		}
		im.userTypes[key(u.Name)] = created.ID
	}
	return nil
}

func (im *importer) typeIDs(names []string) []int64 {
	ids := make([]int64, 0, len(names))
	for _, n := range names {
		ids = append(ids, im.userTypes[key(n)]) // Validate made sure each is there
	}
	return ids
}

func (im *importer) sourceList(ctx context.Context) error {
	im.sources = map[string]int64{}
	for i, s := range im.p.Sources {
		ids := im.typeIDs(s.UserTypes)
		created, err := im.svc.Plan.CreateSource(ctx, im.projectID, plan.SourceInput{Name: &s.Name, Kind: &s.Kind, UserTypeIDs: &ids,
			AccessOwner: &s.AccessOwner, AccessStatus: &s.AccessStatus, AccessStatusDate: &s.AccessStatusDate,
			AccessReference: &s.AccessReference, MigrateCredentials: &s.MigrateCredentials, MigrateGroups: &s.MigrateGroups,
			MigrateMemberships: &s.MigrateMemberships, PasswordHashFormat: &s.PasswordHashFormat, Notes: &s.Notes})
		if err != nil {
			return stepErr(fmt.Sprintf("sources[%d] (%s)", i, s.Name), err)
		}
		im.sources[key(s.Name)] = created.ID
	}
	return nil
}

func (im *importer) applications(ctx context.Context) error {
	for i, a := range im.p.Applications {
		ids := im.typeIDs(a.UserTypes)
		if _, err := im.svc.Plan.CreateApplication(ctx, im.projectID, plan.ApplicationInput{Name: &a.Name, AccessMethod: &a.AccessMethod,
			UserTypeIDs: &ids, AssignmentBasis: &a.AssignmentBasis, OINStatus: &a.OINStatus, OINLink: &a.OINLink, Notes: &a.Notes}); err != nil {
			return stepErr(fmt.Sprintf("applications[%d] (%s)", i, a.Name), err)
		}
	}
	return nil
}

func (im *importer) fieldList(ctx context.Context) error {
	im.fields = map[string]int64{}
	for i, s := range im.p.Sources {
		sourceID := im.sources[key(s.Name)]
		for j, f := range s.Fields {
			maxLength := copyInt(f.MaxLength)
			none := []string{}
			created, err := im.svc.Mapping.CreateField(ctx, im.projectID, sourceID, mapping.FieldInput{Name: &f.Name, DataType: &f.DataType,
				MaxLength: &maxLength, MultiValued: &f.MultiValued, KnownUnique: &f.KnownUnique, Samples: &none, PII: &f.PII,
				PIICategory: &f.PIICategory, Notes: &f.Notes})
			if err != nil {
				return stepErr(fmt.Sprintf("sources[%d].fields[%d] (%s.%s)", i, j, s.Name, f.Name), err)
			}
			im.fields[key(s.Name)+"\x00"+key(f.Name)] = created.ID
		}
	}
	return nil
}

func (im *importer) matrix(ctx context.Context) error {
	for i, r := range im.p.Matrix {
		fieldID := im.fields[key(r.Source)+"\x00"+key(r.Field)]
		transform := string(r.Transform)
		if _, err := im.svc.Mapping.CreateRow(ctx, im.projectID, mapping.RowInput{SourceFieldID: &fieldID, TargetAttribute: &r.Target,
			Status: &r.Status, Priority: &r.Priority, Transform: &transform, Notes: &r.Notes}); err != nil {
			return stepErr(fmt.Sprintf("matrix[%d] (%s.%s)", i, r.Source, r.Field), err)
		}
	}
	return nil
}

func (im *importer) sourceSettings(ctx context.Context) error {
	for i, s := range im.p.Sources {
		sourceID := im.sources[key(s.Name)]
		if pw := s.Passwords; pw != nil {
			if _, err := im.svc.Passwords.Save(ctx, im.projectID, sourceID, 0, credentials.Input{Attribute: pw.Attribute,
				SaltAttribute: pw.SaltAttribute, Formats: append([]string{}, pw.Formats...), Default: pw.Default, SaltEncoding: pw.SaltEncoding,
				SaltOrder: pw.SaltOrder, Iterations: pw.Iterations, Pepper: pw.Pepper}); err != nil {
				return stepErr(fmt.Sprintf("sources[%d].passwords (%s)", i, s.Name), err)
			}
		}
		if !cutoverEqual(s.Cutover, cutoverOf(load.DefaultCutover(im.projectID, sourceID))) {
			c := s.Cutover
			if _, err := im.svc.Load.SaveCutover(ctx, im.projectID, sourceID, 0, load.CutoverInput{StatusAttribute: c.StatusAttribute,
				DisabledValues: c.DisabledValues, LockedValues: c.LockedValues, ExpiredValues: c.ExpiredValues,
				DisabledAction: c.DisabledAction, LockedAction: c.LockedAction, ExpiredAction: c.ExpiredAction,
				ManagerAttribute: c.ManagerAttribute, ManagerKind: c.ManagerKind}); err != nil {
				return stepErr(fmt.Sprintf("sources[%d].cutover (%s)", i, s.Name), err)
			}
		}
	}
	return nil
}

func cutoverEqual(a, b Cutover) bool {
	return a.StatusAttribute == b.StatusAttribute && slices.Equal(a.DisabledValues, b.DisabledValues) &&
		slices.Equal(a.LockedValues, b.LockedValues) && slices.Equal(a.ExpiredValues, b.ExpiredValues) &&
		a.DisabledAction == b.DisabledAction && a.LockedAction == b.LockedAction && a.ExpiredAction == b.ExpiredAction &&
		a.ManagerAttribute == b.ManagerAttribute && a.ManagerKind == b.ManagerKind
}

func (im *importer) testing(ctx context.Context) error {
	t := im.p.Testing
	def := load.DefaultSettings(im.projectID)
	var version int64
	if !slices.Equal(t.Ladder, def.Ladder) || t.ErrorThreshold != def.ErrorThreshold {
		st, err := im.svc.Load.SaveSettings(ctx, im.projectID, 0, t.Ladder, t.ErrorThreshold)
		if err != nil {
			return stepErr("testing", err)
		}
		version = st.Version
	}
	if t.Leavers != def.Leavers {
		if _, err := im.svc.Load.SaveLeavers(ctx, im.projectID, version, t.Leavers); err != nil {
			return stepErr("testing.leavers", err)
		}
	}
	return nil
}

// privacy restores the legal decisions and the sign-off under the names of
// the people who made them and at their times: they are the plan's record
// of the legal review. An approval that was already outdated in the file
// ("changed") comes back pending, so that a reviewer looks again.
func (im *importer) privacy(ctx context.Context) error {
	at := func(t time.Time) PrivacyService {
		if im.svc.PrivacyAt == nil || t.IsZero() {
			return im.svc.Privacy
		}
		return im.svc.PrivacyAt(t)
	}
	for i, d := range im.p.Privacy.Decisions {
		fieldID := im.fields[key(d.Source)+"\x00"+key(d.Field)]
		status := d.Status
		if status == privacy.StatusChanged {
			status = privacy.StatusPending
		}
		actx := audit.WithActor(ctx, audit.Actor{Name: d.DecidedBy})
		if _, err := at(d.DecidedAt).Decide(actx, im.projectID, fieldID, 0, privacy.DecisionInput{Status: status, Decision: d.Decision,
			TransformMethod: d.TransformMethod, LawfulBasis: d.LawfulBasis, RetentionNote: d.RetentionNote, Comment: d.Comment}); err != nil {
			return stepErr(fmt.Sprintf("privacy.decisions[%d] (%s.%s)", i, d.Source, d.Field), err)
		}
	}
	if so := im.p.Privacy.SignOff; so != nil {
		actx := audit.WithActor(ctx, audit.Actor{Name: so.SignedBy})
		if _, err := at(so.SignedAt).SignOffRegister(actx, im.projectID); err != nil {
			return stepErr("privacy.signOff", err)
		}
	}
	return nil
}

func (im *importer) defectLog(ctx context.Context) error {
	for i, d := range im.p.Defects {
		if _, err := im.svc.Defects.Create(ctx, im.projectID, d.CreatedBy, defects.Input{UseCase: d.UseCase, Description: d.Description,
			TestStatus: d.TestStatus, TicketStatus: d.TicketStatus, Priority: d.Priority, Category: d.Category, Notes: d.Notes}); err != nil {
			return stepErr(fmt.Sprintf("defects[%d] (D-%d)", i, d.Number), err)
		}
	}
	return nil
}

func stepErr2(step string, err error) error {
	if err == nil {
		return nil
	}
	return stepErr(step, err)
}
