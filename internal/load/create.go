package load

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// NewRun is what a person chooses for a test batch or a load.
type NewRun struct {
	// Kind is KindLoad or KindTestBatch.
	Kind string
	// Rung is the ladder rung of a test batch (1-based); its size comes
	// from the project's ladder.
	Rung       int
	Population Population
	Mode       string
	Activate   bool
	OnExisting string
	// MaxInFlight (default 10) and RateShare (default 0.8) pace the run.
	MaxInFlight int
	RateShare   float64
	// OrgURL and Token override the project's org (the CLI's --okta-url and
	// FERRY_OKTA_TOKEN); empty: the project's.
	OrgURL string
	Token  string
	// Window limits the run to hours of the day (nil: any time).
	Window *Window
	// Name names an activation wave.
	Name string
	// Claim makes the new run this process's at once (its lease taken), so
	// that the console's watcher cannot pick it up before the caller runs
	// it (the CLI).
	Claim bool
}

// Pace limits.
const (
	DefaultMaxInFlight = 10
	MaxMaxInFlight     = 75 // Okta's default concurrency limit for a Workforce org
	DefaultRateShare   = 0.8
)

func (in *NewRun) normalise() error {
	check := apperr.NewCheck()
	if in.Kind == "" {
		in.Kind = KindLoad
	}
	check.OneOf("kind", "Kind", in.Kind, []string{KindLoad, KindTestBatch}, false)
	if in.Mode == "" {
		in.Mode = ModeNone
	}
	check.OneOf("mode", "Password", in.Mode, values(Modes()), false)
	if in.OnExisting == "" {
		in.OnExisting = OnExistingSkip
	}
	check.OneOf("on_existing", "When the login exists", in.OnExisting, values(OnExistingOptions()), false)
	if in.MaxInFlight == 0 {
		in.MaxInFlight = DefaultMaxInFlight
	}
	if in.MaxInFlight < 1 || in.MaxInFlight > MaxMaxInFlight {
		check.Add("max_in_flight", fmt.Sprintf("Requests in flight: between 1 and %d (Okta's concurrency limit).", MaxMaxInFlight))
	}
	if in.RateShare == 0 {
		in.RateShare = DefaultRateShare
	}
	if math.IsNaN(in.RateShare) || in.RateShare <= 0 || in.RateShare > 1 {
		check.Add("rate_share", "Share of the rate limit: more than 0 % and at most 100 %.")
	}
	if in.Kind == KindTestBatch && in.Rung < 1 {
		check.Add("rung", "Choose the test batch to run.")
	}
	if err := check.Err(); err != nil {
		return err
	}
	return in.Population.Validate()
}

// Start checks a new run (the pre-flight), refuses it with the reasons when
// a check blocks, and otherwise records it with the snapshot of its users,
// queued. The caller then runs it (Execute, or the console's Runner).
func (s *Service) Start(ctx context.Context, projectID int64, in NewRun) (*Run, *Report, error) {
	if err := in.normalise(); err != nil {
		return nil, nil, err
	}
	rep, err := s.Preflight(ctx, projectID, in)
	if err != nil {
		return nil, nil, err
	}
	if rep.Blocked() {
		return nil, rep, apperr.Invalid("The pre-flight checks refuse this run: "+strings.Join(rep.BlockingReasons(), " "), nil)
	}
	run, err := s.create(ctx, projectID, in, rep)
	return run, rep, err
}

// create records the run and its snapshot in one transaction.
func (s *Service) create(ctx context.Context, projectID int64, in NewRun, rep *Report) (*Run, error) {
	sel := rep.selection
	m, err := s.deps.Matrix.LoadMatrix(ctx, projectID)
	if err != nil {
		return nil, err
	}
	types := attributeTypes(m)
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	memberships := map[int64]bool{}
	for _, src := range sources {
		memberships[src.ID] = src.MigrateMemberships == plan.DecisionYes
	}
	var readings map[int64]credentials.Reading
	if in.Mode == ModeHash {
		if readings, err = s.deps.Passwords.Readings(ctx, projectID); err != nil {
			return nil, err
		}
	}
	nest, err := s.nestingsToFlatten(ctx, projectID)
	if err != nil {
		return nil, err
	}
	// The legacy account status of each source (status.go).
	cutovers, err := s.FindCutovers(ctx, projectID)
	if err != nil {
		return nil, err
	}
	actor := audit.ActorFrom(ctx)
	now := s.now().UTC()
	run := &Run{ProjectID: projectID, Kind: in.Kind, Rung: in.Rung, OrgURL: rep.OrgURL, Sandbox: rep.Sandbox, Mode: in.Mode,
		Activate: in.Activate, OnExisting: in.OnExisting, PopulationJSON: jsonString(in.Population), MaxInFlight: in.MaxInFlight,
		RateShare: in.RateShare, ErrorThreshold: rep.ErrorThreshold, Status: StatusQueued, PaceJSON: "{}", CreatedByName: actor.Name,
		CreatedAt: now, UpdatedAt: now, Total: int64(len(sel.Candidates))}
	if actor.ID != 0 {
		id := actor.ID
		run.CreatedByID = &id
	}
	if in.Claim {
		until := now.Add(s.opts.Lease)
		run.Owner, run.LeaseUntil = s.owner, &until
	}
	run.Name = in.Name
	setWindow(run, in.Window)
	items := make([]Item, 0, len(sel.Candidates))
	for i, c := range sel.Candidates {
		it := Item{Seq: int64(i + 1), Login: c.Login, State: StatePending, GroupsJSON: "[]", Action: ActionCreate, SourceKey: c.SourceKey,
			DetailJSON: "{}"}
		rid, sid := c.RecordID, c.SourceID
		it.RecordID, it.SourceID = &rid, &sid
		it.ProfileJSON = jsonString(typedProfile(c.Profile, types))
		var rec map[string][]string
		if memberships[c.SourceID] || readings != nil || cutovers[c.SourceID].readsStatus() {
			rec = recordAttributes(c)
		}
		if memberships[c.SourceID] {
			gs := membershipGroups(rec)
			if n := nest[c.SourceID]; n != nil {
				gs = n.expand(directMemberships(rec)) // nested groups flattened
			}
			if len(gs) > 0 {
				it.GroupsJSON = jsonString(gs)
			}
		}
		switch {
		case c.LoadedBy != 0:
			it.State, it.ErrorCode = StateSkipped, "FERRY_LOADED"
			it.ErrorSummary = fmt.Sprintf("Already created in this org by run %s; it stays as it is.", runNumber(ctx, s, c.LoadedBy))
		case readings != nil:
			if r, ok := readings[c.SourceID]; ok && r.Settings != nil {
				sealed, digest, why := s.sealHash(r, rec)
				if why != "" {
					it.State, it.ErrorCode, it.ErrorSummary = StateSkipped, "FERRY_NO_HASH", why
				}
				it.CredentialSealed, it.HashDigest = sealed, digest
			}
		}
		setAccountStatus(&it, cutovers[c.SourceID], rec) // skipped, suspended … (status.go)
		items = append(items, it)
	}
	// Canary accounts (canaries.go) go first.
	if items, err = s.canariesFirst(ctx, projectID, items); err != nil {
		return nil, err
	}
	if err := s.insertRun(ctx, run, items); err != nil {
		return nil, err
	}
	return run, nil
}

// insertRun records a new run, numbered next in its project, with its
// items and an audit entry, in one transaction. Two runs started at once on
// PostgreSQL can draw the same number: the loser tries again.
func (s *Service) insertRun(ctx context.Context, run *Run, items []Item) error {
	var err error
	for range 3 {
		err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
			var maxNumber int64
			if err := tx.Model(&Run{}).Where("project_id = ?", run.ProjectID).Select("COALESCE(MAX(number), 0)").Scan(&maxNumber).Error; err != nil {
				return err
			}
			run.ID, run.Number = 0, maxNumber+1
			if err := tx.Create(run).Error; err != nil {
				return err
			}
			for i := range items {
				items[i].ID, items[i].RunID = 0, run.ID
			}
			if len(items) > 0 {
				if err := tx.CreateInBatches(items, 500).Error; err != nil {
					return err
				}
			}
			return audit.Record(ctx, tx, audit.Change{ProjectID: run.ProjectID, Action: audit.ActionCreate, EntityType: "load_run",
				EntityID: run.ID, Label: run.Label(), After: runAuditView(run)})
		})
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			break
		}
	}
	if err != nil {
		return apperr.Internal(err)
	}
	return nil
}

func runNumber(ctx context.Context, s *Service, runID int64) string {
	r, err := s.FindRunByID(ctx, runID)
	if err != nil {
		return "#" + strconv.FormatInt(runID, 10)
	}
	return strconv.FormatInt(r.Number, 10)
}

// setWindow records a window on a new run.
func setWindow(run *Run, w *Window) {
	if w == nil {
		return
	}
	start, end := w.Start, w.End
	run.WindowStart, run.WindowEnd, run.WindowTZ = &start, &end, w.Location.String()
}

// runAuditView is what the audit log keeps of a run.
func runAuditView(r *Run) map[string]any {
	return map[string]any{"kind": r.Kind, "rung": r.Rung, "org": r.OrgURL, "mode": r.Mode, "activate": r.Activate,
		"onExisting": r.OnExisting, "users": r.Total, "population": r.Population(), "maxInFlight": r.MaxInFlight, "rateShare": r.RateShare,
		"rollbackAction": r.RollbackAction, "targetRunId": r.TargetRunID, "name": r.Name, "window": r.windowOf().String()}
}

// sealHash converts a record's stored password into the hash Okta imports,
// sealed; why says why there is none.
// The digest is a SHA-256 of the hash object, to tell later whether the
// source's hash changed without keeping the hash.
func (s *Service) sealHash(r credentials.Reading, rec map[string][]string) (sealed, digest, why string) {
	stored, ok := r.Settings.Stored(rec)
	if !ok {
		return "", "", "No stored password in the record: load it with the hook mode, or without a password."
	}
	res, err := r.Source.Convert(stored)
	if err != nil {
		return "", "", "The stored password cannot be read: " + err.Error()
	}
	if res.Way != hashes.WayImport || res.Okta == nil {
		return "", "", "Okta cannot import this hash (" + res.Reason + "): load it with the hook mode, or without a password."
	}
	b, err := json.Marshal(res.Okta)
	if err != nil {
		return "", "", "The hash cannot be encoded: " + err.Error()
	}
	out, err := s.deps.Sealer.Seal(string(b))
	if err != nil {
		return "", "", "The hash cannot be sealed: " + err.Error()
	}
	sum := sha256.Sum256(b)
	return out, hex.EncodeToString(sum[:]), ""
}

// recordAttributes decodes a candidate's attributes with its edits over them.
func recordAttributes(c candidate) map[string][]string {
	attrs, err := staging.DecodeAttributes(c.Attributes)
	if err != nil {
		return map[string][]string{}
	}
	if len(c.Edits) > 2 {
		if edits, err := staging.DecodeAttributes(c.Edits); err == nil {
			for k, v := range edits {
				attrs[k] = v
			}
		}
	}
	return attrs
}

// membershipAttributes hold a record's group memberships: memberOf in a
// directory (distinguished names), groups in a file (names).
var membershipAttributes = []string{"memberOf", "groups"}

// maxGroupName is Okta's limit on a group name.
const maxGroupName = 255

// membershipGroups reads a record's source groups as Okta group names: the
// first RDN's value of a distinguished name (CN=Sales,OU=… → Sales), or the
// names listed (separated by ; or |) in a groups column.
func membershipGroups(rec map[string][]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, attr := range membershipAttributes {
		for k, vals := range rec {
			if !strings.EqualFold(k, attr) {
				continue
			}
			for _, v := range vals {
				for _, part := range splitGroups(v) {
					name := groupNameOf(part)
					if name == "" || len(name) > maxGroupName || seen[strings.ToLower(name)] {
						continue
					}
					seen[strings.ToLower(name)] = true
					out = append(out, name)
				}
			}
		}
	}
	return out
}

func splitGroups(v string) []string {
	if strings.Contains(strings.ToUpper(v), "CN=") || strings.Contains(strings.ToUpper(v), "OU=") {
		return []string{v} // one distinguished name per value
	}
	return strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '|' })
}

func groupNameOf(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, "="); i > 0 && i < 4 {
		rdn := v[i+1:]
		// The first RDN ends at an unescaped comma.
		var b strings.Builder
		for j := 0; j < len(rdn); j++ {
			if rdn[j] == '\\' && j+1 < len(rdn) {
				b.WriteByte(rdn[j+1])
				j++
				continue
			}
			if rdn[j] == ',' {
				break
			}
			b.WriteByte(rdn[j])
		}
		return strings.TrimSpace(b.String())
	}
	return v
}

// attributeTypes maps each Okta attribute to its type.
func attributeTypes(m *mapping.Matrix) map[string]schema.Attribute {
	out := map[string]schema.Attribute{}
	for _, a := range m.Attributes {
		out[a.Name] = a
	}
	return out
}

// typedProfile turns the validated profile (text values) into Okta's JSON
// types: numbers, booleans, arrays of one element. Empty values are left out.
func typedProfile(p map[string]string, types map[string]schema.Attribute) okta.UserProfile {
	out := make(okta.UserProfile, len(p))
	for k, v := range p {
		if v == "" {
			continue
		}
		a := types[k]
		elem := a.Type
		if a.Type == schema.TypeArray {
			elem = a.ItemsType
		}
		var val any = v
		switch elem {
		case schema.TypeInteger:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				val = n
			}
		case schema.TypeNumber:
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				val = f
			}
		case schema.TypeBoolean:
			if b, err := strconv.ParseBool(v); err == nil {
				val = b
			}
		}
		if a.Type == schema.TypeArray {
			val = []any{val}
		}
		out[k] = val
	}
	return out
}
