package load

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// Manager reference kinds: what the manager attribute of a source holds.
const (
	ManagerKindDN         = "dn"          // the manager's distinguished name (Active Directory, LDAP)
	ManagerKindEmployeeID = "employee_id" // the manager's employee number
	ManagerKindLogin      = "login"       // the manager's login (or email)
)

// Limits of the cut-over settings.
const (
	MaxStatusValues    = 50
	MaxStatusValueLen  = 200
	MaxAttributeName   = 200
	userAccountControl = "userAccountControl"
)

// CutoverSettings are a source's cut-over settings: how the legacy account
// status is read and what each status becomes in Okta, and how the manager
// reference is read. A source that saved none has DefaultCutover's (no
// status attribute: every account is active).
type CutoverSettings struct {
	SourceID  int64 `gorm:"column:source_id;primaryKey;autoIncrement:false" json:"sourceId"`
	ProjectID int64 `gorm:"column:project_id" json:"projectId"`
	// StatusAttribute holds the legacy status; userAccountControl (Active
	// Directory) is read by its bits, any other attribute by the value lists.
	StatusAttribute string   `gorm:"column:status_attribute" json:"statusAttribute"`
	DisabledValues  []string `gorm:"column:disabled_values;serializer:json" json:"disabledValues"`
	LockedValues    []string `gorm:"column:locked_values;serializer:json" json:"lockedValues"`
	ExpiredValues   []string `gorm:"column:expired_values;serializer:json" json:"expiredValues"`
	// What each status becomes: StatusSkip, StatusCreate, StatusSuspend,
	// StatusDeprovision or StatusChangePassword.
	DisabledAction string `gorm:"column:disabled_action" json:"disabledAction"`
	LockedAction   string `gorm:"column:locked_action" json:"lockedAction"`
	ExpiredAction  string `gorm:"column:expired_action" json:"expiredAction"`
	// ManagerAttribute holds the manager reference, of kind ManagerKind
	// (ManagerKindDN …); both empty: no manager is set.
	ManagerAttribute string    `gorm:"column:manager_attribute" json:"managerAttribute"`
	ManagerKind      string    `gorm:"column:manager_kind" json:"managerKind"`
	Version          int64     `gorm:"column:version" json:"version"`
	UpdatedAt        time.Time `gorm:"column:updated_at" json:"updatedAt"`
}

// TableName is the table cut-over settings live in.
func (CutoverSettings) TableName() string { return "cutover_settings" }

// DefaultCutover are the settings of a source that saved none (version 0).
func DefaultCutover(projectID, sourceID int64) *CutoverSettings {
	return &CutoverSettings{SourceID: sourceID, ProjectID: projectID, DisabledValues: []string{}, LockedValues: []string{},
		ExpiredValues: []string{}, DisabledAction: StatusSkip, LockedAction: StatusSuspend, ExpiredAction: StatusChangePassword}
}

// CutoverInput is what a person saves for a source.
type CutoverInput struct {
	StatusAttribute string
	DisabledValues  []string
	LockedValues    []string
	ExpiredValues   []string
	// Empty actions take the defaults (skip, suspend, change_password).
	DisabledAction   string
	LockedAction     string
	ExpiredAction    string
	ManagerAttribute string
	ManagerKind      string
}

// StatusActions lists what a legacy status can become, with what each does
// to people.
func StatusActions() []plan.Option {
	return []plan.Option{
		{Value: StatusSkip, Label: "Skip: the person is not created in Okta (listed as skipped)"},
		{Value: StatusCreate, Label: "Create as any other user: the person can sign in as before"},
		{Value: StatusSuspend, Label: "Create, then suspend: the person cannot sign in until an admin unsuspends them (applied once the user is active)"},
		{Value: StatusDeprovision, Label: "Create deactivated (DEPROVISIONED): kept in Okta for the record, cannot sign in, no applications"},
		{Value: StatusChangePassword, Label: "Create and require a new password: the person must change the password at the first sign-in"},
	}
}

// ManagerKinds lists what a manager attribute can hold.
func ManagerKinds() []plan.Option {
	return []plan.Option{
		{Value: ManagerKindDN, Label: "Distinguished name of the manager's entry (CN=…,OU=…): matched to the manager's record in the same source"},
		{Value: ManagerKindEmployeeID, Label: "Employee number of the manager: matched to the user whose employeeNumber it is"},
		{Value: ManagerKindLogin, Label: "Login of the manager: matched to the user with that Okta login"},
	}
}

// LeaverPolicies lists what a refresh can do with people gone from the source.
func LeaverPolicies() []plan.Option {
	return []plan.Option{
		{Value: LeaversReport, Label: "Leave them and report: they keep their Okta account as it is, and the refresh lists them for you to decide"},
		{Value: LeaversDeactivate, Label: "Deactivate them: their Okta account becomes DEPROVISIONED (no sign-in, applications deprovisioned); it can be reactivated"},
	}
}

// checkSource makes sure the source is one of the project's and returns its name.
func (s *Service) checkSource(ctx context.Context, projectID, sourceID int64) (string, error) {
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return "", err
	}
	for _, src := range sources {
		if src.ID == sourceID {
			return src.Name, nil
		}
	}
	return "", apperr.NotFound("source")
}

// FindCutover returns a source's cut-over settings (the defaults when none
// are saved).
func (s *Service) FindCutover(ctx context.Context, projectID, sourceID int64) (*CutoverSettings, error) {
	if _, err := s.checkSource(ctx, projectID, sourceID); err != nil {
		return nil, err
	}
	var st CutoverSettings
	err := s.db.Read.WithContext(ctx).Where("project_id = ? AND source_id = ?", projectID, sourceID).First(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DefaultCutover(projectID, sourceID), nil
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	st.fill()
	return &st, nil
}

// FindCutovers returns the cut-over settings of every source of the
// project, by source id (the defaults for those that saved none).
func (s *Service) FindCutovers(ctx context.Context, projectID int64) (map[int64]*CutoverSettings, error) {
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	var saved []CutoverSettings
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Find(&saved).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	out := make(map[int64]*CutoverSettings, len(sources))
	for _, src := range sources {
		out[src.ID] = DefaultCutover(projectID, src.ID)
	}
	for i := range saved {
		st := saved[i]
		st.fill()
		out[st.SourceID] = &st
	}
	return out, nil
}

// fill replaces nil lists (an empty column) with empty ones.
func (st *CutoverSettings) fill() {
	if st.DisabledValues == nil {
		st.DisabledValues = []string{}
	}
	if st.LockedValues == nil {
		st.LockedValues = []string{}
	}
	if st.ExpiredValues == nil {
		st.ExpiredValues = []string{}
	}
}

// normalise trims the input, fills the default actions and checks it.
func (in *CutoverInput) normalise() error {
	check := apperr.NewCheck()
	in.StatusAttribute = strings.TrimSpace(in.StatusAttribute)
	in.ManagerAttribute = strings.TrimSpace(in.ManagerAttribute)
	in.ManagerKind = strings.TrimSpace(in.ManagerKind)
	attributeName(check, "status_attribute", "Status attribute", in.StatusAttribute)
	attributeName(check, "manager_attribute", "Manager attribute", in.ManagerAttribute)
	def := DefaultCutover(0, 0)
	actions := values(StatusActions())
	for _, a := range []struct {
		field, label string
		v            *string
		def          string
	}{
		{"disabled_action", "Disabled accounts", &in.DisabledAction, def.DisabledAction},
		{"locked_action", "Locked accounts", &in.LockedAction, def.LockedAction},
		{"expired_action", "Expired passwords", &in.ExpiredAction, def.ExpiredAction},
	} {
		*a.v = strings.TrimSpace(*a.v)
		if *a.v == "" {
			*a.v = a.def
		}
		check.OneOf(a.field, a.label, *a.v, actions, false)
	}
	in.DisabledValues = statusValues(check, "disabled_values", "Disabled values", in.DisabledValues)
	in.LockedValues = statusValues(check, "locked_values", "Locked values", in.LockedValues)
	in.ExpiredValues = statusValues(check, "expired_values", "Expired values", in.ExpiredValues)
	switch {
	case in.ManagerAttribute == "" && in.ManagerKind != "":
		check.Add("manager_attribute", "Name the attribute that holds the manager reference, or clear what it holds.")
	case in.ManagerAttribute != "":
		check.OneOf("manager_kind", "What the manager attribute holds", in.ManagerKind, values(ManagerKinds()), false)
	}
	return check.Err()
}

// attributeName checks an optional attribute name: one line of at most
// MaxAttributeName characters, no control characters.
func attributeName(check *apperr.Check, field, label, v string) {
	if v == "" {
		return
	}
	check.Text(field, label, v, false, MaxAttributeName)
	if strings.ContainsAny(v, "\r\n\t") {
		check.Add(field, label+" must be a single line.")
	}
}

// statusValues checks a value list and returns it trimmed, without blanks
// and duplicates (compared ignoring case, as records are).
func statusValues(check *apperr.Check, field, label string, in []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for i, v := range in {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			check.Add(field, fmt.Sprintf("%s: value %d contains control characters.", label, i+1))
			continue
		}
		if n := utf8.RuneCountInString(v); n > MaxStatusValueLen {
			check.Add(field, fmt.Sprintf("%s: value %d is too long (at most %d characters, it has %d).", label, i+1, MaxStatusValueLen, n))
			continue
		}
		if k := strings.ToLower(v); !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	if len(out) > MaxStatusValues {
		check.Add(field, fmt.Sprintf("%s: at most %d values; this has %d.", label, MaxStatusValues, len(out)))
	}
	return out
}

// SaveCutover saves a source's cut-over settings if the stored ones are
// still at version (0 for none saved yet), with an audit entry.
func (s *Service) SaveCutover(ctx context.Context, projectID, sourceID, version int64, in CutoverInput) (*CutoverSettings, error) {
	if err := in.normalise(); err != nil {
		return nil, err
	}
	name, err := s.checkSource(ctx, projectID, sourceID)
	if err != nil {
		return nil, err
	}
	var out CutoverSettings
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var cur CutoverSettings
		ferr := tx.Where("project_id = ? AND source_id = ?", projectID, sourceID).First(&cur).Error
		exists := ferr == nil
		if ferr != nil && !errors.Is(ferr, gorm.ErrRecordNotFound) {
			return ferr
		}
		if (exists && cur.Version != version) || (!exists && version != 0) {
			return apperr.VersionConflict("cut-over settings", cur.Version, nil)
		}
		out = CutoverSettings{SourceID: sourceID, ProjectID: projectID, StatusAttribute: in.StatusAttribute,
			DisabledValues: in.DisabledValues, LockedValues: in.LockedValues, ExpiredValues: in.ExpiredValues,
			DisabledAction: in.DisabledAction, LockedAction: in.LockedAction, ExpiredAction: in.ExpiredAction,
			ManagerAttribute: in.ManagerAttribute, ManagerKind: in.ManagerKind, Version: cur.Version + 1, UpdatedAt: s.now().UTC()}
		change := audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "cutover_settings", EntityID: sourceID,
			Label: "Cut-over settings of " + name, After: out}
		if !exists {
			change.Action = audit.ActionCreate
			if err := tx.Create(&out).Error; err != nil {
				return err
			}
		} else {
			cur.fill()
			change.Before = cur
			res := tx.Model(&CutoverSettings{}).Where("source_id = ? AND version = ?", sourceID, version).Updates(map[string]any{
				"status_attribute": out.StatusAttribute, "disabled_values": jsonString(out.DisabledValues),
				"locked_values": jsonString(out.LockedValues), "expired_values": jsonString(out.ExpiredValues),
				"disabled_action": out.DisabledAction, "locked_action": out.LockedAction, "expired_action": out.ExpiredAction,
				"manager_attribute": out.ManagerAttribute, "manager_kind": out.ManagerKind, "version": out.Version,
				"updated_at": out.UpdatedAt})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return apperr.VersionConflict("cut-over settings", cur.Version, nil)
			}
		}
		return audit.Record(ctx, tx, change)
	})
	if err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, apperr.VersionConflict("cut-over settings", 0, nil)
		}
		if ae := apperr.As(err); ae.Code != apperr.CodeInternal {
			return nil, ae
		}
		return nil, apperr.Internal(err)
	}
	return &out, nil
}

// SaveLeavers saves the project's leaver policy (LeaversReport or
// LeaversDeactivate) if its settings are still at version (0 for none saved
// yet), keeping the ladder and the error threshold, with an audit entry.
func (s *Service) SaveLeavers(ctx context.Context, projectID, version int64, leavers string) (Settings, error) {
	check := apperr.NewCheck()
	check.OneOf("leavers", "Leavers", leavers, values(LeaverPolicies()), false)
	if err := check.Err(); err != nil {
		return Settings{}, err
	}
	var out Settings
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var cur Settings
		ferr := tx.Where("project_id = ?", projectID).First(&cur).Error
		exists := ferr == nil
		if ferr != nil && !errors.Is(ferr, gorm.ErrRecordNotFound) {
			return ferr
		}
		if (exists && cur.Version != version) || (!exists && version != 0) {
			return apperr.VersionConflict("leaver policy", cur.Version, nil)
		}
		before := cur.Leavers
		if !exists {
			cur = DefaultSettings(projectID)
			before = ""
		}
		out = cur
		out.Leavers, out.Version, out.UpdatedAt = leavers, cur.Version+1, s.now().UTC()
		if !exists {
			if err := tx.Create(&out).Error; err != nil {
				return err
			}
		} else {
			res := tx.Model(&Settings{}).Where("project_id = ? AND version = ?", projectID, version).
				Updates(map[string]any{"leavers": leavers, "version": out.Version, "updated_at": out.UpdatedAt})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return apperr.VersionConflict("leaver policy", cur.Version, nil)
			}
		}
		var beforeView any
		if before != "" {
			beforeView = map[string]string{"leavers": before}
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "load_settings",
			EntityID: projectID, Label: "Leaver policy", Before: beforeView, After: map[string]string{"leavers": leavers}})
	})
	if err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return Settings{}, apperr.VersionConflict("leaver policy", 0, nil)
		}
		if ae := apperr.As(err); ae.Code != apperr.CodeInternal {
			return Settings{}, ae
		}
		return Settings{}, apperr.Internal(err)
	}
	return out, nil
}
