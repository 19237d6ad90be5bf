package load

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// NewRollback is what a person chooses for a rollback: the users of one
// run, or every user Ferry loaded from one source (its source group).
type NewRollback struct {
	TargetRunID int64
	SourceID    int64
	// Action is RollbackDelete (default) or RollbackDeactivate.
	Action string
	// Confirm must be the project's name, typed by the person.
	Confirm     string
	ProjectName string
	MaxInFlight int
	RateShare   float64
}

// RollbackScope says who a rollback would remove, for the confirmation.
type RollbackScope struct {
	Users  int
	OrgURL string
	What   string
}

// RollbackScopeOf counts the users a rollback would act on: those Ferry
// created (its records), never users that existed before.
func (s *Service) RollbackScopeOf(ctx context.Context, projectID int64, in NewRollback) (*RollbackScope, error) {
	users, orgURL, what, err := s.rollbackUsers(ctx, projectID, in)
	if err != nil {
		return nil, err
	}
	return &RollbackScope{Users: len(users), OrgURL: orgURL, What: what}, nil
}

func (s *Service) rollbackUsers(ctx context.Context, projectID int64, in NewRollback) ([]OktaUser, string, string, error) {
	var users []OktaUser
	var orgURL, what string
	q := s.db.Read.WithContext(ctx).Where("project_id = ? AND removed_at IS NULL", projectID)
	switch {
	case in.TargetRunID != 0:
		r, err := s.FindRun(ctx, projectID, in.TargetRunID)
		if err != nil {
			return nil, "", "", err
		}
		if !r.CreatesUsers() {
			return nil, "", "", apperr.Invalid(r.Label()+" created no user: only loads, test batches and refreshes can be rolled back.", nil)
		}
		orgURL, what = r.OrgURL, "the users "+r.Label()+" created"
		q = q.Where("run_id = ? AND org_url = ?", r.ID, r.OrgURL)
	case in.SourceID != 0:
		conn, err := s.deps.Orgs.Find(ctx, projectID)
		if err != nil {
			return nil, "", "", err
		}
		if conn == nil {
			return nil, "", "", apperr.Invalid("The project has no Okta org.", nil)
		}
		sources, err := s.deps.Plan.FindSources(ctx, projectID)
		if err != nil {
			return nil, "", "", err
		}
		name := ""
		for _, src := range sources {
			if src.ID == in.SourceID {
				name = src.Name
			}
		}
		if name == "" {
			return nil, "", "", apperr.NotFound("source")
		}
		orgURL, what = conn.OrgURL, "every user Ferry loaded from "+name+" (group "+SourceGroupName(name)+")"
		q = q.Where("source_id = ? AND org_url = ?", in.SourceID, conn.OrgURL)
	default:
		return nil, "", "", apperr.Invalid("Choose a run or a source to roll back.", nil)
	}
	if err := q.Order("id").Find(&users).Error; err != nil {
		return nil, "", "", apperr.Internal(err)
	}
	return users, orgURL, what, nil
}

// StartRollback records a rollback, queued, after the person confirmed it by
// typing the project's name.
func (s *Service) StartRollback(ctx context.Context, projectID int64, in NewRollback) (*Run, error) {
	if in.Action == "" {
		in.Action = RollbackDelete
	}
	check := apperr.NewCheck()
	check.OneOf("action", "Action", in.Action, []string{RollbackDelete, RollbackDeactivate}, false)
	if strings.TrimSpace(in.Confirm) != in.ProjectName {
		check.Add("confirm", "Type the project's name exactly to confirm the rollback.")
	}
	if in.MaxInFlight == 0 {
		in.MaxInFlight = DefaultMaxInFlight
	}
	if in.RateShare == 0 {
		in.RateShare = DefaultRateShare
	}
	if in.MaxInFlight < 1 || in.MaxInFlight > MaxMaxInFlight || in.RateShare <= 0 || in.RateShare > 1 {
		check.Add("max_in_flight", "The pace is out of range.")
	}
	if err := check.Err(); err != nil {
		return nil, err
	}
	users, orgURL, _, err := s.rollbackUsers(ctx, projectID, in)
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, apperr.Invalid("Ferry created no user there that is still in the org: there is nothing to roll back.", nil)
	}
	for _, r := range s.activeRuns(ctx, projectID) {
		if in.TargetRunID != 0 && r.ID == in.TargetRunID {
			return nil, apperr.Conflict(r.Label() + " is still " + r.Status + ": cancel it before rolling it back.")
		}
	}
	actor := audit.ActorFrom(ctx)
	now := s.now().UTC()
	run := &Run{ProjectID: projectID, Kind: KindRollback, OrgURL: orgURL, RollbackAction: in.Action, MaxInFlight: in.MaxInFlight,
		RateShare: in.RateShare, Status: StatusQueued, PaceJSON: "{}", PopulationJSON: jsonString(map[string]int64{"sourceId": in.SourceID}),
		CreatedByName: actor.Name, CreatedAt: now, UpdatedAt: now, Total: int64(len(users))}
	if in.TargetRunID != 0 {
		t := in.TargetRunID
		run.TargetRunID = &t
	}
	if actor.ID != 0 {
		id := actor.ID
		run.CreatedByID = &id
	}
	if conn, err := s.deps.Orgs.Find(ctx, projectID); err == nil && conn != nil && conn.OrgURL == orgURL {
		run.Sandbox = conn.Sandbox
	}
	items := make([]Item, len(users))
	for i, u := range users {
		items[i] = Item{Seq: int64(i + 1), RecordID: u.RecordID, SourceID: u.SourceID, Login: u.Login, OktaUserID: u.OktaUserID,
			State: StatePending, ProfileJSON: "{}", GroupsJSON: "[]", Action: ActionRemove, DetailJSON: "{}", SourceKey: u.SourceKey}
	}
	if err := s.insertRun(ctx, run, items); err != nil {
		return nil, err
	}
	return run, nil
}

// activeRuns lists the project's runs that are not finished.
func (s *Service) activeRuns(ctx context.Context, projectID int64) []Run {
	var out []Run
	_ = s.db.Read.WithContext(ctx).Where("project_id = ? AND status IN (?, ?, ?)", projectID, StatusQueued, StatusRunning, StatusPaused).Find(&out).Error
	return out
}

// workRollback exports every user first (kept in Ferry), then deactivates
// and deletes (or only deactivates) them, paced like a load.
func (x *execution) workRollback(ctx context.Context) error {
	if err := x.rollbackPhase(ctx, StatePending, x.exportOne); err != nil {
		return err
	}
	if err := x.rollbackPhase(ctx, StateExported, x.removeOne); err != nil {
		return err
	}
	return ctx.Err()
}

// rollbackPhase applies fn to every item in state, by workers, and returns
// once every result is written (the next phase reads the states they set).
func (x *execution) rollbackPhase(ctx context.Context, state string, fn func(ctx context.Context, it *Item) result) error {
	x.results = make(chan result, 1024)
	writerDone := make(chan error, 1)
	go func() { writerDone <- x.writeResults() }()
	work := make(chan *Item)
	var wg sync.WaitGroup
	for range max(x.run.MaxInFlight, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range work {
				start := x.s.now()
				r := fn(ctx, it)
				r.item = it
				it.DurationMS += x.s.now().Sub(start).Milliseconds()
				x.results <- r
			}
		}()
	}
	var after int64
	var err error
	for ctx.Err() == nil {
		var items []Item
		if items, err = x.s.FindItems(ctx, x.run.ID, state, after, claimChunk); err != nil {
			break
		}
		for i := range items {
			select {
			case work <- &items[i]:
			case <-ctx.Done():
			}
			after = items[i].Seq
		}
		if len(items) < claimChunk {
			break
		}
	}
	close(work)
	wg.Wait()
	close(x.results)
	if werr := <-writerDone; werr != nil && err == nil {
		err = werr
	}
	return err
}

// exportOne reads the user as Okta has it now, kept before removal.
func (x *execution) exportOne(ctx context.Context, it *Item) result {
	for attempt := 1; ; attempt++ {
		it.Attempts++
		var user *okta.User
		err := x.send(ctx, bucketUserGet, func(ctx context.Context) (okta.Response, error) {
			u, res, err := x.client.GetUser(ctx, it.OktaUserID)
			user = u
			return res, err
		})
		switch {
		case err == nil:
			if x.crashAt("exported") {
				return result{state: StateSending}
			}
			b, _ := json.Marshal(user)
			return result{state: StateExported, oktaID: it.OktaUserID, exportJSON: string(b)}
		case ctx.Err() != nil:
			return result{state: StateSending}
		case okta.IsNotFound(err):
			return result{state: StateGone, oktaID: it.OktaUserID, removed: true, summary: "Already deleted from the org."}
		case okta.IsTemporary(err) && attempt < maxAttempts:
			if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
				return result{state: StateSending}
			}
		default:
			r := failure(err)
			r.oktaID = it.OktaUserID
			return r
		}
	}
}

// removeOne deactivates the user, then deletes it (for a delete rollback).
// Both are safe to repeat: a user already deactivated or gone is fine.
func (x *execution) removeOne(ctx context.Context, it *Item) result {
	steps := []struct {
		bucket string
		call   func(ctx context.Context) (okta.Response, error)
	}{
		{bucketOther, func(ctx context.Context) (okta.Response, error) {
			return x.client.DeactivateUser(ctx, it.OktaUserID, false)
		}},
	}
	if x.run.RollbackAction == RollbackDelete {
		steps = append(steps, struct {
			bucket string
			call   func(ctx context.Context) (okta.Response, error)
		}{bucketUserUpdate, func(ctx context.Context) (okta.Response, error) {
			return x.client.DeleteUser(ctx, it.OktaUserID, false)
		}})
	}
	for i, step := range steps {
		for attempt := 1; ; attempt++ {
			it.Attempts++
			err := x.send(ctx, step.bucket, step.call)
			if err == nil {
				break
			}
			switch {
			case ctx.Err() != nil:
				return result{state: StateSending}
			case okta.IsNotFound(err):
				return result{state: StateGone, oktaID: it.OktaUserID, removed: true, summary: "Already deleted from the org."}
			case i == 0 && isAlreadyDeactivated(err):
			case okta.IsTemporary(err) && attempt < maxAttempts:
				if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
					return result{state: StateSending}
				}
				continue
			default:
				r := failure(err)
				r.oktaID = it.OktaUserID
				return r
			}
			break
		}
	}
	if x.run.RollbackAction == RollbackDelete {
		return result{state: StateRemoved, oktaID: it.OktaUserID, removed: true}
	}
	return result{state: StateDeactivated, oktaID: it.OktaUserID}
}

// isAlreadyDeactivated: deactivating a DEPROVISIONED user is refused with
// a status error; the user is where the rollback wants it.
func isAlreadyDeactivated(err error) bool {
	e, ok := okta.AsError(err)
	return ok && (e.ErrorCode == okta.CodeWrongStatus || e.ErrorCode == okta.CodeAlreadyActive)
}

// ExportedUsers lists what a rollback exported, in order.
func (s *Service) ExportedUsers(ctx context.Context, runID int64) ([]Item, error) {
	var out []Item
	if err := s.db.Read.WithContext(ctx).Where("run_id = ? AND export_json <> ''", runID).Order("seq").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}
