package load

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// SourceGroupPrefix starts the name of the Okta group of a source's users:
// "Ferry: HR export". The group is how people (and a rollback "for a source
// group") find the users Ferry loaded from a source.
const SourceGroupPrefix = "Ferry: "

// SourceGroupName is the Okta group of a source's users.
func SourceGroupName(sourceName string) string { return SourceGroupPrefix + sourceName }

// groupNeed is one group a run puts users in.
type groupNeed struct {
	name     string
	kind     string
	sourceID *int64
}

// groupsOfRun lists the groups a run's items need: one per source, then the
// memberships the snapshot carries.
func (s *Service) groupsOfRun(ctx context.Context, run *Run) ([]groupNeed, error) {
	sources, err := s.deps.Plan.FindSources(ctx, run.ProjectID)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, src := range sources {
		names[src.ID] = src.Name
	}
	var sourceIDs []int64
	if err := s.db.Read.WithContext(ctx).Model(&Item{}).Where("run_id = ? AND source_id IS NOT NULL", run.ID).
		Distinct("source_id").Pluck("source_id", &sourceIDs).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	var needs []groupNeed
	for _, id := range sourceIDs {
		if names[id] == "" {
			continue // the source was deleted since the snapshot
		}
		id := id
		needs = append(needs, groupNeed{name: SourceGroupName(names[id]), kind: GroupSource, sourceID: &id})
	}
	var lists []string
	if err := s.db.Read.WithContext(ctx).Model(&Item{}).Where("run_id = ? AND groups_json <> '[]'", run.ID).
		Distinct("groups_json").Pluck("groups_json", &lists).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	seen := map[string]bool{}
	for _, l := range lists {
		var gs []string
		_ = json.Unmarshal([]byte(l), &gs)
		for _, g := range gs {
			if !seen[g] {
				seen[g] = true
				needs = append(needs, groupNeed{name: g, kind: GroupMembership})
			}
		}
	}
	return needs, nil
}

// ensureGroups finds or creates every group the run needs, by the id Ferry
// stored when it created (or first found) the group; a search by name is
// made only for a group Ferry has never seen, since Okta's search lags.
func (x *execution) ensureGroups(ctx context.Context) error {
	needs, err := x.s.groupsOfRun(ctx, x.run)
	if err != nil {
		return err
	}
	for _, n := range needs {
		id, err := x.ensureGroup(ctx, n)
		// A 5xx, a timeout or a dropped connection is retried as users
		// are: each step of ensureGroup is safe to repeat (a group whose
		// creation went unanswered is found by name and adopted).
		for attempt := 1; err != nil && okta.IsTemporary(err) && attempt < maxAttempts && ctx.Err() == nil; attempt++ {
			if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
				break
			}
			id, err = x.ensureGroup(ctx, n)
		}
		if err != nil {
			return fmt.Errorf("group %q: %w", n.name, err)
		}
		x.groups[n.name] = id
		if n.kind == GroupSource {
			x.sourceGroup[*n.sourceID] = id
		}
	}
	return nil
}

func (x *execution) ensureGroup(ctx context.Context, n groupNeed) (string, error) {
	var known OktaGroup
	err := x.s.db.Read.WithContext(ctx).Where("project_id = ? AND org_url = ? AND name = ?", x.run.ProjectID, x.run.OrgURL, n.name).First(&known).Error
	switch {
	case err == nil:
		var g *okta.Group
		gerr := x.send(ctx, bucketGroup, func(ctx context.Context) (okta.Response, error) {
			grp, res, err := x.client.GetGroup(ctx, known.OktaGroupID)
			g = grp
			return res, err
		})
		if gerr == nil {
			return g.ID, nil
		}
		if !okta.IsNotFound(gerr) {
			return "", gerr
		}
		// Deleted in Okta since: forget it and make it again.
		if err := x.s.db.Write.WithContext(ctx).Delete(&OktaGroup{}, known.ID).Error; err != nil {
			return "", apperr.Internal(err)
		}
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return "", apperr.Internal(err)
	}
	// Never seen: adopt an existing group of that name, or create it.
	var found *okta.Group
	if err := x.send(ctx, bucketGroups, func(ctx context.Context) (okta.Response, error) {
		g, res, err := x.client.FindGroupByName(ctx, n.name)
		found = g
		return res, err
	}); err != nil {
		return "", err
	}
	if found != nil {
		return found.ID, x.s.recordGroup(ctx, x.run, n, found.ID, false)
	}
	var created *okta.Group
	err = x.send(ctx, bucketGroups, func(ctx context.Context) (okta.Response, error) {
		desc := "Users Ferry migrated"
		if n.kind == GroupSource {
			desc = "Users Ferry loaded from the source " + strings.TrimPrefix(n.name, SourceGroupPrefix) + "; a rollback finds them through Ferry's records."
		}
		g, res, err := x.client.CreateGroup(ctx, okta.GroupProfile{Name: n.name, Description: desc})
		created = g
		return res, err
	})
	if err != nil {
		return "", err
	}
	return created.ID, x.s.recordGroup(ctx, x.run, n, created.ID, true)
}

// recordGroup stores a group's id (and whether this run created it).
func (s *Service) recordGroup(ctx context.Context, run *Run, n groupNeed, oktaID string, created bool) error {
	var by *int64
	if created {
		by = &run.ID
	}
	return s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.db.Bind(`INSERT INTO okta_groups (project_id, org_url, okta_group_id, name, kind, source_id, created_by_run_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, org_url, name) DO UPDATE SET okta_group_id = excluded.okta_group_id`),
			run.ProjectID, run.OrgURL, oktaID, n.name, n.kind, n.sourceID, by, s.now().UTC())
		return err
	})
}

// FindGroups lists the groups Ferry created or adopted in the project's org.
func (s *Service) FindGroups(ctx context.Context, projectID int64, orgURL string) ([]OktaGroup, error) {
	var out []OktaGroup
	if err := s.db.Read.WithContext(ctx).Where("project_id = ? AND org_url = ?", projectID, orgURL).Order("kind DESC, name").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}
