package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// Active Directory nests groups: a user in Sales is, for access, also in
// Staff when Sales is a member of Staff. Okta groups do not nest, so a
// source's hierarchy (an export of its groups) can be flattened: every load
// then also puts each user in the groups its groups are nested in.

// Hierarchy is a source's imported group hierarchy.
type Hierarchy struct {
	SourceID       int64     `gorm:"column:source_id;primaryKey;autoIncrement:false" json:"sourceId"`
	ProjectID      int64     `gorm:"column:project_id" json:"projectId"`
	Flatten        bool      `gorm:"column:flatten" json:"flatten"`
	FileName       string    `gorm:"column:file_name" json:"fileName"`
	Groups         int64     `gorm:"column:groups" json:"groups"`
	ImportedByName string    `gorm:"column:imported_by_name" json:"importedBy"`
	ImportedAt     time.Time `gorm:"column:imported_at" json:"importedAt"`
}

// TableName is the table hierarchies live in.
func (Hierarchy) TableName() string { return "group_hierarchies" }

// Limits of an import (groups in a file; parents of one group).
const (
	MaxHierarchyGroups = 200_000
	maxGroupParents    = 5_000
)

// groupEntry is one group read from a hierarchy export.
type groupEntry struct {
	key, name string
	parents   []string
}

// ImportHierarchy reads a source's groups from an export and replaces its
// hierarchy whole (or changes nothing when the file cannot be read): an
// LDIF of groups (dn, cn, memberOf — as ldifde or ldapsearch export them),
// or a CSV with the columns group and parent (one row per nesting; a group
// nested in several has several rows).
func (s *Service) ImportHierarchy(ctx context.Context, projectID, sourceID int64, r io.Reader, fileName string) (*Hierarchy, error) {
	if err := s.sourceOfProject(ctx, projectID, sourceID); err != nil {
		return nil, err
	}
	rd, format, err := staging.OpenReader(r, "")
	if err != nil {
		return nil, hierarchyError(err)
	}
	entries, err := readGroups(rd, format)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, apperr.Invalid("The file holds no group: give an LDIF of groups (dn, cn, memberOf) or a CSV with the columns group and parent.",
			map[string]string{"file": "No group found."})
	}
	actor := audit.ActorFrom(ctx)
	h := &Hierarchy{SourceID: sourceID, ProjectID: projectID, FileName: cleanFileName(fileName), Groups: int64(len(entries)),
		ImportedByName: actor.Name, ImportedAt: s.now().UTC()}
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var old Hierarchy
		switch ferr := tx.Where("source_id = ?", sourceID).First(&old).Error; {
		case ferr == nil:
			h.Flatten = old.Flatten
			if err := tx.Exec(`DELETE FROM source_groups WHERE source_id = ?`, sourceID).Error; err != nil {
				return err
			}
			if err := tx.Save(h).Error; err != nil {
				return err
			}
		case errors.Is(ferr, gorm.ErrRecordNotFound):
			if err := tx.Create(h).Error; err != nil {
				return err
			}
		default:
			return ferr
		}
		rows := make([]map[string]any, 0, 500)
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			err := tx.Table("source_groups").Create(rows).Error
			rows = rows[:0]
			return err
		}
		for _, e := range entries {
			rows = append(rows, map[string]any{"source_id": sourceID, "key": e.key, "name": e.name, "parents_json": jsonString(e.parents)})
			if len(rows) == cap(rows) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "group_hierarchy",
			EntityID: sourceID, Label: "Group hierarchy of source " + fmt.Sprint(sourceID), After: h})
	})
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return h, nil
}

func hierarchyError(err error) error {
	if ae := apperr.As(err); ae.Code != apperr.CodeInternal {
		return ae
	}
	return apperr.Invalid("The file cannot be read: "+err.Error(), map[string]string{"file": err.Error()})
}

func cleanFileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if len(name) > 255 {
		name = name[:255]
	}
	return name
}

// readGroups reads every group of a hierarchy export.
func readGroups(rd extract.Reader, format string) ([]groupEntry, error) {
	byKey := map[string]*groupEntry{}
	var order []string
	add := func(key, name string, parents ...string) error {
		if key == "" {
			return nil
		}
		e := byKey[key]
		if e == nil {
			if len(byKey) >= MaxHierarchyGroups {
				return apperr.Invalid(fmt.Sprintf("More than %d groups: split the export.", MaxHierarchyGroups), map[string]string{"file": "Too many groups."})
			}
			e = &groupEntry{key: key, name: name}
			byKey[key] = e
			order = append(order, key)
		}
		if e.name == "" || e.name == key {
			e.name = name
		}
		for _, p := range parents {
			if p = strings.TrimSpace(p); p != "" && groupKey(p) != key && len(e.parents) < maxGroupParents && !containsString(e.parents, p) {
				e.parents = append(e.parents, p) // as written: the name of a group not in the file comes from it
			}
		}
		return nil
	}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *extract.RecordError
		if errors.As(err, &re) {
			return nil, apperr.Invalid(fmt.Sprintf("Line %d cannot be read: %v", re.Position, re), map[string]string{"file": re.Error()})
		}
		if err != nil {
			return nil, hierarchyError(err)
		}
		switch format {
		case staging.FormatLDIF, staging.FormatJSON:
			dn := first(rec.Attributes, "dn")
			if dn == "" {
				continue
			}
			name := first(rec.Attributes, "cn")
			if name == "" {
				name = groupNameOf(dn)
			}
			parents := all(rec.Attributes, "memberOf")
			if err := add(groupKey(dn), strings.TrimSpace(name), parents...); err != nil {
				return nil, err
			}
		default: // CSV: group, parent
			g := strings.TrimSpace(first(rec.Attributes, "group"))
			if g == "" {
				if len(rd.Columns()) > 0 && !containsFold(rd.Columns(), "group") {
					return nil, apperr.Invalid("The CSV needs the columns group and parent.", map[string]string{"file": "No column named group."})
				}
				continue
			}
			p := strings.TrimSpace(first(rec.Attributes, "parent"))
			if err := add(groupKey(g), groupNameOf(g)); err != nil {
				return nil, err
			}
			if p != "" {
				if err := add(groupKey(p), groupNameOf(p)); err != nil {
					return nil, err
				}
				if err := add(groupKey(g), groupNameOf(g), p); err != nil {
					return nil, err
				}
			}
		}
	}
	out := make([]groupEntry, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out, nil
}

// groupKey is how groups are matched: a DN without case or spaces after
// its commas, or a name without case.
func groupKey(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	return strings.ReplaceAll(v, ", ", ",")
}

func first(attrs map[string][]string, name string) string {
	if v := all(attrs, name); len(v) > 0 {
		return v[0]
	}
	return ""
}

func all(attrs map[string][]string, name string) []string {
	for k, v := range attrs {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func containsString(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// SetFlatten says whether loads flatten the source's hierarchy.
func (s *Service) SetFlatten(ctx context.Context, projectID, sourceID int64, flatten bool) error {
	return s.db.Transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Hierarchy{}).Where("project_id = ? AND source_id = ?", projectID, sourceID).Update("flatten", flatten)
		if res.Error != nil {
			return apperr.Internal(res.Error)
		}
		if res.RowsAffected == 0 {
			return apperr.Invalid("Import the source's groups first.", map[string]string{"flatten": "No group hierarchy for this source."})
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "group_hierarchy",
			EntityID: sourceID, Label: "Group hierarchy of source " + fmt.Sprint(sourceID), After: map[string]bool{"flatten": flatten}})
	})
}

// FindHierarchies lists the project's imported hierarchies by source.
func (s *Service) FindHierarchies(ctx context.Context, projectID int64) (map[int64]*Hierarchy, error) {
	var list []Hierarchy
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Find(&list).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	out := map[int64]*Hierarchy{}
	for i := range list {
		out[list[i].SourceID] = &list[i]
	}
	return out, nil
}

func (s *Service) sourceOfProject(ctx context.Context, projectID, sourceID int64) error {
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return err
	}
	for _, src := range sources {
		if src.ID == sourceID {
			return nil
		}
	}
	return apperr.NotFound("source")
}

// nesting is a loaded hierarchy: each group's name and parents.
type nesting struct {
	names   map[string]string
	parents map[string][]string
}

// nestingsToFlatten loads the hierarchies of the project's sources that
// flatten, by source.
func (s *Service) nestingsToFlatten(ctx context.Context, projectID int64) (map[int64]*nesting, error) {
	hs, err := s.FindHierarchies(ctx, projectID)
	if err != nil {
		return nil, err
	}
	out := map[int64]*nesting{}
	for id, h := range hs {
		if !h.Flatten {
			continue
		}
		n := &nesting{names: map[string]string{}, parents: map[string][]string{}}
		rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT key, name, parents_json FROM source_groups WHERE source_id = ?`), id)
		if err != nil {
			return nil, apperr.Internal(err)
		}
		for rows.Next() {
			var key, name, parents string
			if err := rows.Scan(&key, &name, &parents); err != nil {
				rows.Close()
				return nil, apperr.Internal(err)
			}
			n.names[key] = name
			var ps []string
			_ = json.Unmarshal([]byte(parents), &ps)
			n.parents[key] = ps
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, apperr.Internal(err)
		}
		out[id] = n
	}
	return out, nil
}

// expand adds to a user's direct groups (memberOf values) every group they
// are nested in, as Okta group names; cycles are harmless.
func (n *nesting) expand(direct []string) []string {
	seen := map[string]bool{}
	var out []string
	var visit func(group string, depth int)
	visit = func(group string, depth int) {
		key := groupKey(group)
		if seen[key] || depth > 64 {
			return
		}
		seen[key] = true
		name := n.names[key]
		if name == "" {
			name = groupNameOf(group)
		}
		out = append(out, name)
		for _, p := range n.parents[key] {
			visit(p, depth+1)
		}
	}
	for _, d := range direct {
		visit(d, 0)
	}
	// Names compare without case in Okta: keep the first spelling.
	names := map[string]bool{}
	kept := out[:0]
	for _, name := range out {
		if k := strings.ToLower(name); name != "" && !names[k] && len(name) <= maxGroupName {
			names[k] = true
			kept = append(kept, name)
		}
	}
	return kept
}

// directMemberships are a record's memberOf values (DNs) or groups column.
func directMemberships(rec map[string][]string) []string {
	var out []string
	for _, attr := range membershipAttributes {
		for _, v := range all(rec, attr) {
			out = append(out, splitGroups(v)...)
		}
	}
	return out
}

// FlattenPreview says what flattening adds to a population, before a run.
type FlattenPreview struct {
	Users       int
	Direct      int
	Added       int
	Example     string // one group reached only through nesting
	Sources     []string
	usersGained int
}

// UsersGaining is how many users gain a group through nesting.
func (p *FlattenPreview) UsersGaining() int { return p.usersGained }

// previewFlatten counts what flattening adds to candidates' memberships.
func previewFlatten(cands []candidate, nest map[int64]*nesting) *FlattenPreview {
	p := &FlattenPreview{}
	examples := map[string]int{}
	for _, c := range cands {
		n := nest[c.SourceID]
		if n == nil {
			continue
		}
		rec := recordAttributes(c)
		direct := membershipGroups(rec)
		flat := n.expand(directMemberships(rec))
		p.Users++
		p.Direct += len(direct)
		if extra := len(flat) - len(direct); extra > 0 {
			p.Added += extra
			p.usersGained++
			have := map[string]bool{}
			for _, d := range direct {
				have[strings.ToLower(d)] = true
			}
			for _, g := range flat {
				if !have[strings.ToLower(g)] {
					examples[g]++
				}
			}
		}
	}
	best := 0
	keys := make([]string, 0, len(examples))
	for k := range examples {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if examples[k] > best {
			best, p.Example = examples[k], k
		}
	}
	return p
}
