package plandoc

import (
	"context"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/defects"
	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// PlanService is what plandoc needs of plan.Service.
type PlanService interface {
	FindProjectByID(ctx context.Context, id int64) (*plan.Project, error)
	FindProjects(ctx context.Context, ids []int64) ([]plan.Project, error)
	CreateProject(ctx context.Context, leadID int64, in plan.ProjectInput) (*plan.Project, error)
	DeleteProject(ctx context.Context, id int64, confirmName string) error
	FindGoals(ctx context.Context, projectID int64) (*plan.Goals, error)
	UpdateGoals(ctx context.Context, projectID, version int64, in plan.GoalsInput) (*plan.Goals, error)
	FindUserTypes(ctx context.Context, projectID int64) ([]plan.UserType, error)
	CreateUserType(ctx context.Context, projectID int64, in plan.UserTypeInput) (*plan.UserType, error)
	FindSources(ctx context.Context, projectID int64) ([]plan.Source, error)
	CreateSource(ctx context.Context, projectID int64, in plan.SourceInput) (*plan.Source, error)
	FindApplications(ctx context.Context, projectID int64) ([]plan.Application, error)
	CreateApplication(ctx context.Context, projectID int64, in plan.ApplicationInput) (*plan.Application, error)
}

// SchemaService is what plandoc needs of schema.Service.
type SchemaService interface {
	FindSettings(ctx context.Context, projectID int64) (*schema.Settings, error)
	UpdateSettings(ctx context.Context, projectID, version int64, in schema.SettingsInput) (*schema.Settings, error)
	FindCustomAttributes(ctx context.Context, projectID int64) ([]schema.CustomAttribute, error)
	CreateCustomAttribute(ctx context.Context, projectID int64, in schema.CustomAttributeInput) (*schema.CustomAttribute, error)
}

// MappingService is what plandoc needs of mapping.Service.
type MappingService interface {
	FindFields(ctx context.Context, projectID, sourceID int64) ([]mapping.SourceField, error)
	CreateField(ctx context.Context, projectID, sourceID int64, in mapping.FieldInput) (*mapping.SourceField, error)
	FindRows(ctx context.Context, projectID int64) ([]mapping.Row, error)
	CreateRow(ctx context.Context, projectID int64, in mapping.RowInput) (*mapping.Row, error)
}

// PrivacyService is what plandoc needs of privacy.Service.
type PrivacyService interface {
	LoadRegister(ctx context.Context, projectID int64) (*privacy.Register, error)
	Decide(ctx context.Context, projectID, fieldID, version int64, in privacy.DecisionInput) (*privacy.Review, error)
	SignOffRegister(ctx context.Context, projectID int64) (*privacy.SignOff, error)
}

// PasswordService is what plandoc needs of credentials.Service.
type PasswordService interface {
	Find(ctx context.Context, projectID, sourceID int64) (*credentials.Settings, error)
	Save(ctx context.Context, projectID, sourceID, version int64, in credentials.Input) (*credentials.Settings, error)
}

// LoadService is what plandoc needs of load.Service: the test plan and the
// cut-over settings, never runs.
type LoadService interface {
	FindSettings(ctx context.Context, projectID int64) (load.Settings, error)
	SaveSettings(ctx context.Context, projectID, version int64, ladder []int, threshold float64) (load.Settings, error)
	SaveLeavers(ctx context.Context, projectID, version int64, leavers string) (load.Settings, error)
	FindCutovers(ctx context.Context, projectID int64) (map[int64]*load.CutoverSettings, error)
	SaveCutover(ctx context.Context, projectID, sourceID, version int64, in load.CutoverInput) (*load.CutoverSettings, error)
}

// DefectService is what plandoc needs of defects.Service.
type DefectService interface {
	List(ctx context.Context, projectID int64, f defects.Filter) ([]defects.Defect, error)
	Create(ctx context.Context, projectID int64, actorName string, in defects.Input) (*defects.Defect, error)
}

// Services are the domain services a plan is read from and written through.
type Services struct {
	Plan      PlanService
	Schema    SchemaService
	Mapping   MappingService
	Privacy   PrivacyService
	Passwords PasswordService
	Load      LoadService
	Defects   DefectService
	// PrivacyAt returns a privacy service whose clock reads t, so that an
	// imported decision or sign-off keeps the time it was made (the
	// service dates them with its own clock). Nil: Privacy, dated now.
	PrivacyAt func(t time.Time) PrivacyService
}

// Build reads a project's whole plan through the services.
func Build(ctx context.Context, svc Services, projectID int64) (*Plan, error) {
	p := &Plan{Format: Format, Version: FormatVersion}
	proj, err := svc.Plan.FindProjectByID(ctx, projectID)
	if err != nil {
		return nil, err
	}
	p.Project = Project{Name: proj.Name, Description: proj.Description, MigrationType: proj.MigrationType,
		UserCreationRateLimit: proj.UserCreationRateLimit, LoadRateSharePercent: proj.LoadRateSharePercent}

	g, err := svc.Plan.FindGoals(ctx, projectID)
	if err != nil {
		return nil, err
	}
	p.Goals = Goals{UserExperience: g.UserExperience, AcceptableImpact: g.AcceptableImpact, ArchiveLegacyData: g.ArchiveLegacyData,
		PoliciesAndStandards: g.PoliciesAndStandards, OneShotAcceptable: g.OneShotAcceptable, StagesPreferred: g.StagesPreferred,
		Approach: g.Approach, Rationale: g.Rationale}

	types, err := svc.Plan.FindUserTypes(ctx, projectID)
	if err != nil {
		return nil, err
	}
	typeNames := map[int64]string{}
	for _, u := range types {
		typeNames[u.ID] = u.Name
		ut := UserType{Name: u.Name, Kind: u.Kind, UserCount: u.UserCount, Notes: u.Notes, Subgroups: []Subgroup{}}
		for _, sg := range u.Subgroups {
			ut.Subgroups = append(ut.Subgroups, Subgroup{Name: sg.Name, UserCount: sg.UserCount})
		}
		p.UserTypes = append(p.UserTypes, ut)
	}
	namesOf := func(ids []int64) ([]string, error) {
		out := []string{}
		for _, id := range ids {
			n, ok := typeNames[id]
			if !ok {
				return nil, fmt.Errorf("plan: user type %d is linked but not in the project", id)
			}
			out = append(out, n)
		}
		return out, nil
	}

	sources, err := svc.Plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	cutovers, err := svc.Load.FindCutovers(ctx, projectID)
	if err != nil {
		return nil, err
	}
	sourceNames := map[int64]string{}
	sourceIndex := map[int64]int{}
	for _, s := range sources {
		ut, err := namesOf(s.UserTypeIDs)
		if err != nil {
			return nil, err
		}
		src := Source{Name: s.Name, Kind: s.Kind, UserTypes: ut, AccessOwner: s.AccessOwner, AccessStatus: s.AccessStatus,
			AccessStatusDate: s.AccessStatusDate, AccessReference: s.AccessReference, MigrateCredentials: s.MigrateCredentials,
			MigrateGroups: s.MigrateGroups, MigrateMemberships: s.MigrateMemberships, PasswordHashFormat: s.PasswordHashFormat,
			Notes: s.Notes, Fields: []Field{}}
		pw, err := svc.Passwords.Find(ctx, projectID, s.ID)
		if err != nil {
			return nil, err
		}
		if pw != nil {
			src.Passwords = &PasswordSettings{Attribute: pw.Attribute, SaltAttribute: pw.SaltAttribute, Formats: append([]string{}, pw.Formats...),
				Default: pw.Default, SaltEncoding: pw.SaltEncoding, SaltOrder: pw.SaltOrder, Iterations: pw.Iterations, Pepper: pw.Pepper}
		}
		co := cutovers[s.ID]
		if co == nil {
			co = load.DefaultCutover(projectID, s.ID)
		}
		src.Cutover = cutoverOf(co)
		sourceNames[s.ID] = s.Name
		sourceIndex[s.ID] = len(p.Sources)
		p.Sources = append(p.Sources, src)
	}

	fields, err := svc.Mapping.FindFields(ctx, projectID, 0)
	if err != nil {
		return nil, err
	}
	fieldByID := map[int64]mapping.SourceField{}
	for _, f := range fields {
		i, ok := sourceIndex[f.SourceID]
		if !ok {
			return nil, fmt.Errorf("plan: field %d belongs to no source of the project", f.ID)
		}
		fieldByID[f.ID] = f
		// Samples and Ferry's PII guess are left out: they come from staged
		// data (docs/plan.md).
		p.Sources[i].Fields = append(p.Sources[i].Fields, Field{Name: f.Name, DataType: f.DataType, MaxLength: copyInt(f.MaxLength),
			MultiValued: f.MultiValued, KnownUnique: f.KnownUnique, PII: f.PII, PIICategory: f.PIICategory, Notes: f.Notes})
	}

	apps, err := svc.Plan.FindApplications(ctx, projectID)
	if err != nil {
		return nil, err
	}
	for _, a := range apps {
		ut, err := namesOf(a.UserTypeIDs)
		if err != nil {
			return nil, err
		}
		p.Applications = append(p.Applications, Application{Name: a.Name, AccessMethod: a.AccessMethod, UserTypes: ut,
			AssignmentBasis: a.AssignmentBasis, OINStatus: a.OINStatus, OINLink: a.OINLink, Notes: a.Notes})
	}

	st, err := svc.Schema.FindSettings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	p.Profile = Profile{LoginPattern: st.LoginPattern, EmailUnique: st.EmailUnique, SecondEmailUnique: st.SecondEmailUnique}
	custom, err := svc.Schema.FindCustomAttributes(ctx, projectID)
	if err != nil {
		return nil, err
	}
	for _, c := range custom {
		p.Profile.CustomAttributes = append(p.Profile.CustomAttributes, CustomAttribute{Name: c.Name, Title: c.Title, Description: c.Description,
			Type: c.Type, MinLength: copyInt(c.MinLength), MaxLength: copyInt(c.MaxLength), Pattern: c.Pattern,
			Enum: append([]string{}, c.Enum...), Required: c.Required, Unique: c.Unique})
	}

	rows, err := svc.Mapping.FindRows(ctx, projectID)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		f, ok := fieldByID[r.SourceFieldID]
		if !ok {
			return nil, fmt.Errorf("plan: matrix row %d maps a field that is not in the project", r.ID)
		}
		row := MatrixRow{Source: sourceNames[f.SourceID], Field: f.Name, Status: r.Status, Target: r.TargetAttribute,
			Priority: r.Priority, Notes: r.Notes}
		if r.Transform != "" {
			row.Transform = RawJSON(r.Transform)
		}
		p.Matrix = append(p.Matrix, row)
	}

	reg, err := svc.Privacy.LoadRegister(ctx, projectID)
	if err != nil {
		return nil, err
	}
	for _, e := range reg.Entries {
		if e.Review == nil {
			continue // no decision yet: nothing but the field's PII flag, which the field holds
		}
		r := e.Review
		d := PrivacyDecision{Source: e.SourceName, Field: e.Field.Name, Status: e.Status, Decision: r.Decision,
			TransformMethod: r.TransformMethod, LawfulBasis: r.LawfulBasis, RetentionNote: r.RetentionNote, Comment: r.Comment,
			DecidedBy: r.DecidedByName}
		if r.DecidedAt != nil {
			d.DecidedAt = *r.DecidedAt
		}
		p.Privacy.Decisions = append(p.Privacy.Decisions, d)
	}
	if reg.SignedOff && reg.SignOff != nil {
		p.Privacy.SignOff = &SignOff{SignedBy: reg.SignOff.SignedByName, SignedAt: reg.SignOff.SignedAt, FieldCount: reg.SignOff.FieldCount}
	}

	ls, err := svc.Load.FindSettings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	p.Testing = Testing{Ladder: append([]int{}, ls.Ladder...), ErrorThreshold: ls.ErrorThreshold, Leavers: ls.Leavers}
	if p.Testing.Leavers == "" {
		p.Testing.Leavers = load.LeaversReport
	}

	log, err := svc.Defects.List(ctx, projectID, defects.Filter{})
	if err != nil {
		return nil, err
	}
	for _, d := range log {
		p.Defects = append(p.Defects, Defect{Number: d.Number, UseCase: d.UseCase, Description: d.Description, TestStatus: d.TestStatus,
			TicketStatus: d.TicketStatus, Priority: d.Priority, Category: d.Category, Notes: d.Notes, CreatedBy: d.CreatedByName})
	}
	Normalise(p)
	return p, nil
}

func cutoverOf(c *load.CutoverSettings) Cutover {
	return Cutover{StatusAttribute: c.StatusAttribute, DisabledValues: append([]string{}, c.DisabledValues...),
		LockedValues: append([]string{}, c.LockedValues...), ExpiredValues: append([]string{}, c.ExpiredValues...),
		DisabledAction: c.DisabledAction, LockedAction: c.LockedAction, ExpiredAction: c.ExpiredAction,
		ManagerAttribute: c.ManagerAttribute, ManagerKind: c.ManagerKind}
}

func copyInt(p *int) *int {
	if p == nil {
		return nil
	}
	n := *p
	return &n
}
