package plandoc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
)

// Signing roles: who signs a version. The web layer decides who may sign
// as which (the project lead as lead, the legal reviewer as legal).
const (
	RoleLead  = "lead"
	RoleLegal = "legal"
)

// SignRoles lists the signing roles in the order documents show them.
func SignRoles() []string { return []string{RoleLead, RoleLegal} }

// SignRoleLabel is a signing role for people.
func SignRoleLabel(role string) string {
	switch role {
	case RoleLead:
		return "Project lead"
	case RoleLegal:
		return "Legal reviewer"
	}
	return role
}

// MaxNoteLen bounds a version's note, in characters.
const MaxNoteLen = 2000

// PlanVersion is the plan frozen at one moment, numbered per project.
type PlanVersion struct {
	ID        int64 `gorm:"column:id;primaryKey"`
	ProjectID int64 `gorm:"column:project_id"`
	// Number is the version's number in its project: 1, 2…
	Number       int       `gorm:"column:number"`
	Note         string    `gorm:"column:note"`
	FrozenByID   *int64    `gorm:"column:frozen_by_id"`
	FrozenByName string    `gorm:"column:frozen_by_name"`
	FrozenAt     time.Time `gorm:"column:frozen_at"`
	// PlanJSON is the plan file (Encode's bytes); List leaves it empty.
	PlanJSON string `gorm:"column:plan_json"`
	// FactsJSON are the documents' derived facts as they were; List leaves it empty.
	FactsJSON string `gorm:"column:facts_json"`
	// Digest is the SHA-256 of PlanJSON, in hex.
	Digest string `gorm:"column:digest"`
	// Signatures are the version's signatures, in SignRoles order.
	Signatures []PlanSignature `gorm:"-"`
}

// TableName is the table versions live in.
func (PlanVersion) TableName() string { return "plan_versions" }

// Label is the version for people: v1, v2…
func (v *PlanVersion) Label() string { return fmt.Sprintf("v%d", v.Number) }

// Plan decodes the frozen plan.
func (v *PlanVersion) Plan() (*Plan, error) {
	if v.PlanJSON == "" {
		return nil, fmt.Errorf("plan version %d: loaded without its plan", v.Number)
	}
	p, err := Decode(strings.NewReader(v.PlanJSON))
	if err != nil {
		return nil, fmt.Errorf("plan version %d: %w", v.Number, err)
	}
	return p, nil
}

// Signature returns the version's signature for role, or nil.
func (v *PlanVersion) Signature(role string) *PlanSignature {
	for i := range v.Signatures {
		if v.Signatures[i].Role == role {
			return &v.Signatures[i]
		}
	}
	return nil
}

// PlanSignature is one person's signature of a version.
type PlanSignature struct {
	ID           int64     `gorm:"column:id;primaryKey"`
	VersionID    int64     `gorm:"column:version_id"`
	Role         string    `gorm:"column:role"`
	SignedByID   *int64    `gorm:"column:signed_by_id"`
	SignedByName string    `gorm:"column:signed_by_name"`
	SignedAt     time.Time `gorm:"column:signed_at"`
}

// TableName is the table signatures live in.
func (PlanSignature) TableName() string { return "plan_signatures" }

// RoleLabel is the signature's role for people.
func (s *PlanSignature) RoleLabel() string { return SignRoleLabel(s.Role) }

// RoleSignOff is where one signing role stands: the newest version the
// role signed.
type RoleSignOff struct {
	Role string
	// Signature is the role's signature of Version; nil (and Version nil)
	// when the role signed no version yet.
	Signature *PlanSignature
	Version   *PlanVersion
	// Older: Version is not the newest version.
	Older bool
	// Changed: the live plan is no longer the plan Version froze.
	Changed bool
}

// SignOffStatus says where the sign-off of a project's plan stands.
type SignOffStatus struct {
	// Newest is the newest version, nil when none was frozen.
	Newest *PlanVersion
	// Roles are the signing roles, in SignRoles order.
	Roles []RoleSignOff
	// LiveDigest is the SHA-256 of the live plan's file.
	LiveDigest string
	// LiveIsNewest: the live plan is exactly the newest version.
	LiveIsNewest bool
	// ChangedSinceSigned: the live plan differs from the version of the
	// most recent signature (there is one).
	ChangedSinceSigned bool
	// LatestSignature is the most recent signature, nil when there is none;
	// LatestSigned the version it signs.
	LatestSignature *PlanSignature
	LatestSigned    *PlanVersion
}

// Role returns the status of one signing role.
func (s *SignOffStatus) Role(role string) *RoleSignOff {
	for i := range s.Roles {
		if s.Roles[i].Role == role {
			return &s.Roles[i]
		}
	}
	return nil
}

// VersionService freezes plans as numbered versions and keeps their
// signatures.
type VersionService struct {
	db    *db.DB
	build func(ctx context.Context, projectID int64) (*Plan, error)
	facts func(ctx context.Context, projectID int64) ([]byte, error)
	now   func() time.Time
}

// NewVersionService returns the service. buildPlan reads a project's live
// plan (Build over the app's services); gatherFacts returns the JSON of the
// documents' derived facts (docs.GatherFacts, encoded), nil for none; now
// (time.Now when nil) dates versions and signatures.
func NewVersionService(database *db.DB, buildPlan func(ctx context.Context, projectID int64) (*Plan, error),
	gatherFacts func(ctx context.Context, projectID int64) ([]byte, error), now func() time.Time) *VersionService {
	if now == nil {
		now = time.Now
	}
	return &VersionService{db: database, build: buildPlan, facts: gatherFacts, now: now}
}

// what names a version in messages.
const versionWhat = "plan version"

// Audit log entity types.
const (
	versionEntity   = "plan_version"
	signatureEntity = "plan_signature"
)

// LivePlan builds the project's live plan and returns it with its file's
// bytes and their digest.
func (s *VersionService) LivePlan(ctx context.Context, projectID int64) (*Plan, []byte, string, error) {
	p, err := s.build(ctx, projectID)
	if err != nil {
		return nil, nil, "", err
	}
	var b bytes.Buffer
	if err := Encode(&b, p); err != nil {
		return nil, nil, "", apperr.Internal(fmt.Errorf("encode the plan: %w", err))
	}
	return p, b.Bytes(), Digest(b.Bytes()), nil
}

// Digest is the SHA-256 of a plan file, in hex.
func Digest(planJSON []byte) string {
	sum := sha256.Sum256(planJSON)
	return hex.EncodeToString(sum[:])
}

// validNote cleans a note (surrounding white space, CRLF line ends) and
// checks it: required, at most MaxNoteLen characters, no control
// characters but line breaks and tabs.
func validNote(note string) (string, error) {
	note = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(note, "\r\n", "\n"), "\r", "\n"))
	c := apperr.NewCheck()
	c.Text("note", "Note", note, true, MaxNoteLen)
	return note, c.Err()
}

// Freeze saves the project's live plan, and the documents' facts, as the
// next numbered version, by the actor in ctx, with note (what the version
// is for: "for the legal review", "after test batch 3").
func (s *VersionService) Freeze(ctx context.Context, projectID int64, note string) (*PlanVersion, error) {
	note, err := validNote(note)
	if err != nil {
		return nil, err
	}
	// Read before the write transaction: building the plan and the facts
	// are reads, and SQLite has one writer.
	_, planJSON, digest, err := s.LivePlan(ctx, projectID)
	if err != nil {
		return nil, err
	}
	facts := []byte("{}")
	if s.facts != nil {
		f, err := s.facts(ctx, projectID)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(f)) > 0 {
			facts = f
		}
	}
	actor := audit.ActorFrom(ctx)
	v := PlanVersion{ProjectID: projectID, Note: note, FrozenByName: actor.Name, FrozenAt: s.now().UTC().Truncate(time.Second),
		PlanJSON: string(planJSON), FactsJSON: string(facts), Digest: digest}
	if actor.ID != 0 {
		id := actor.ID
		v.FrozenByID = &id
	}
	// Numbered inside the transaction, again when it lost a race for the
	// number (PostgreSQL's transactions run side by side).
	for range 3 {
		err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
			v.ID = 0
			var last int64
			if err := tx.Model(&PlanVersion{}).Select("COALESCE(MAX(number), 0)").Where("project_id = ?", projectID).
				Scan(&last).Error; err != nil {
				return err
			}
			v.Number = int(last) + 1
			if err := tx.Create(&v).Error; err != nil {
				if errors.Is(err, gorm.ErrForeignKeyViolated) {
					return apperr.NotFound("project")
				}
				return err
			}
			return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: versionEntity,
				EntityID: v.ID, Label: "Plan " + v.Label(), After: versionRecord(&v)})
		})
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			break
		}
	}
	if err != nil {
		return nil, versionErr(err)
	}
	return &v, nil
}

// versionRecord is what the audit log keeps of a version: not the plan
// (which the version itself keeps), its digest.
func versionRecord(v *PlanVersion) map[string]any {
	return map[string]any{"number": v.Number, "note": v.Note, "frozenBy": v.FrozenByName, "frozenAt": v.FrozenAt, "digest": v.Digest}
}

func versionErr(err error) error {
	if apperr.As(err) != nil {
		return err
	}
	return apperr.Internal(err)
}

// List returns the project's versions, newest first, with their
// signatures but without their plan and facts.
func (s *VersionService) List(ctx context.Context, projectID int64) ([]PlanVersion, error) {
	var out []PlanVersion
	err := s.db.Read.WithContext(ctx).Omit("plan_json", "facts_json").Where("project_id = ?", projectID).
		Order("number DESC").Find(&out).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	if err := s.withSignatures(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// withSignatures loads the signatures of versions.
func (s *VersionService) withSignatures(ctx context.Context, versions []PlanVersion) error {
	if len(versions) == 0 {
		return nil
	}
	ids := make([]int64, len(versions))
	index := map[int64]int{}
	for i, v := range versions {
		ids[i] = v.ID
		index[v.ID] = i
	}
	var sigs []PlanSignature
	if err := s.db.Read.WithContext(ctx).Where("version_id IN ?", ids).Find(&sigs).Error; err != nil {
		return apperr.Internal(err)
	}
	for _, role := range SignRoles() {
		for _, sig := range sigs {
			if sig.Role == role {
				v := &versions[index[sig.VersionID]]
				v.Signatures = append(v.Signatures, sig)
			}
		}
	}
	return nil
}

// Find returns one version of the project, with its plan, facts and signatures.
func (s *VersionService) Find(ctx context.Context, projectID int64, number int) (*PlanVersion, error) {
	if number < 1 {
		return nil, apperr.NotFound(versionWhat)
	}
	var v PlanVersion
	err := s.db.Read.WithContext(ctx).Where("project_id = ? AND number = ?", projectID, number).First(&v).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, apperr.NotFound(versionWhat)
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	list := []PlanVersion{v}
	if err := s.withSignatures(ctx, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// Sign records the actor in ctx's signature of version number as role
// (RoleLead or RoleLegal), replacing the role's earlier signature of that
// version. Any version may be signed, the newest or an older one; that the
// person holds the role is the caller's to check.
func (s *VersionService) Sign(ctx context.Context, projectID int64, number int, role string) (*PlanSignature, error) {
	c := apperr.NewCheck()
	c.OneOf("role", "Signing role", role, SignRoles(), false)
	if err := c.Err(); err != nil {
		return nil, err
	}
	actor := audit.ActorFrom(ctx)
	sig := PlanSignature{Role: role, SignedByName: actor.Name, SignedAt: s.now().UTC().Truncate(time.Second)}
	if actor.ID != 0 {
		id := actor.ID
		sig.SignedByID = &id
	}
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var v PlanVersion
		err := tx.Omit("plan_json", "facts_json").Where("project_id = ? AND number = ?", projectID, number).First(&v).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.NotFound(versionWhat)
		}
		if err != nil {
			return err
		}
		sig.VersionID = v.ID
		var before []PlanSignature
		if err := tx.Where("version_id = ? AND role = ?", v.ID, role).Find(&before).Error; err != nil {
			return err
		}
		action := audit.ActionCreate
		var prev any
		if len(before) > 0 {
			action, prev = audit.ActionUpdate, signatureRecord(&v, &before[0])
			if err := tx.Where("id = ?", before[0].ID).Delete(&PlanSignature{}).Error; err != nil {
				return err
			}
		}
		if err := tx.Create(&sig).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: action, EntityType: signatureEntity, EntityID: sig.ID,
			Label: fmt.Sprintf("Plan %s: %s's signature", v.Label(), strings.ToLower(SignRoleLabel(role))), Before: prev,
			After: signatureRecord(&v, &sig)})
	})
	if err != nil {
		return nil, versionErr(err)
	}
	return &sig, nil
}

func signatureRecord(v *PlanVersion, s *PlanSignature) map[string]any {
	return map[string]any{"version": v.Number, "role": s.Role, "signedBy": s.SignedByName, "signedAt": s.SignedAt, "digest": v.Digest}
}

// Status says, for each signing role, which version it signed last and
// whether the live plan (built and encoded now) is still that version,
// byte for byte.
func (s *VersionService) Status(ctx context.Context, projectID int64) (*SignOffStatus, error) {
	_, _, live, err := s.LivePlan(ctx, projectID)
	if err != nil {
		return nil, err
	}
	versions, err := s.List(ctx, projectID)
	if err != nil {
		return nil, err
	}
	return StatusOf(versions, live), nil
}

// StatusOf is Status from the project's versions (newest first, as List
// returns them) and the live plan's digest.
func StatusOf(versions []PlanVersion, liveDigest string) *SignOffStatus {
	st := &SignOffStatus{LiveDigest: liveDigest}
	if len(versions) > 0 {
		st.Newest = &versions[0]
		st.LiveIsNewest = versions[0].Digest == liveDigest
	}
	for _, role := range SignRoles() {
		rs := RoleSignOff{Role: role}
		for i := range versions {
			if sig := versions[i].Signature(role); sig != nil {
				rs.Signature, rs.Version = sig, &versions[i]
				rs.Older = i > 0
				rs.Changed = versions[i].Digest != liveDigest
				break
			}
		}
		if rs.Signature != nil && (st.LatestSignature == nil || rs.Signature.SignedAt.After(st.LatestSignature.SignedAt) ||
			(rs.Signature.SignedAt.Equal(st.LatestSignature.SignedAt) && rs.Signature.ID > st.LatestSignature.ID)) {
			st.LatestSignature, st.LatestSigned = rs.Signature, rs.Version
		}
		st.Roles = append(st.Roles, rs)
	}
	st.ChangedSinceSigned = st.LatestSigned != nil && st.LatestSigned.Digest != liveDigest
	return st
}
