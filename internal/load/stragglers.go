package load

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// The stragglers of a migration program (docs/loads.md, "Stragglers"):
// users Ferry created with the password import hook who have not signed in
// (Okta has not confirmed their password) within the program's period.
// Okta's guidance is to run the hook for a fixed period, e.g. 60 days, and
// then force a password reset for the users still on provider IMPORT
// (NOTES §2). This file lists them (for the page and a CSV export) and is
// the selection of the reset run (reset.go).

// DefaultPeriodDays is a program's period when the project chose none.
const DefaultPeriodDays = 60

// MaxPeriodDays bounds a program's period (ten years).
const MaxPeriodDays = 3650

// MaxStragglerPage bounds one page of stragglers.
const MaxStragglerPage = 1000

// Straggler is one hook user who has not signed in within the period.
type Straggler struct {
	// Ref is the user's provenance row (okta_users.id), the keyset of pages.
	Ref        int64  `json:"ref"`
	OktaUserID string `json:"oktaUserId"`
	Login      string `json:"login"`
	RecordID   *int64 `json:"-"`
	SourceID   *int64 `json:"sourceId,omitempty"`
	// Source is the source's name ("" when the source is gone).
	Source    string `json:"source"`
	SourceKey string `json:"-"`
	// Created is when Ferry created the user; DaysWaiting the whole days
	// since then.
	Created     time.Time `json:"created"`
	DaysWaiting int       `json:"daysWaiting"`
	// Status is the status Ferry expects the user to have (its provenance).
	Status string `json:"status"`
	// LastAttempt is the hook's last verification for this user (nil: Okta
	// never called the hook for it).
	LastAttempt *HookAttempt `json:"lastAttempt,omitempty"`
}

// HookAttempt is one call of the password import hook as Ferry recorded it.
type HookAttempt struct {
	// Outcome is verified, unverified or error; Cause says why (no
	// password, a bind refused …), never the password.
	Outcome string    `json:"outcome"`
	Cause   string    `json:"cause,omitempty"`
	At      time.Time `json:"at"`
}

// StragglerQuery chooses stragglers; zero values are the defaults.
type StragglerQuery struct {
	// PeriodDays is the program's period (0: the project's, from
	// hook_programs, else DefaultPeriodDays).
	PeriodDays int
	// Now is the time the period is counted back from (zero: now).
	Now time.Time
	// After is the Ref of the last straggler of the previous page.
	After int64
	// Limit is the page size (0: 100, at most MaxStragglerPage).
	Limit int
}

// StragglerPage is one page of stragglers with their count.
type StragglerPage struct {
	OrgURL     string `json:"orgUrl"`
	PeriodDays int    `json:"periodDays"`
	// Cutoff: users created after it are still within the period.
	Cutoff time.Time `json:"cutoff"`
	// Total counts every straggler (not only this page).
	Total int64       `json:"total"`
	Items []Straggler `json:"items"`
	// Next is the After of the next page (0: this is the last one).
	Next int64 `json:"next,omitempty"`
}

// ProgramPeriod is the project's program period in days (hook_programs,
// DefaultPeriodDays when none is saved).
func (s *Service) ProgramPeriod(ctx context.Context, projectID int64) (int, error) {
	var days int64
	err := s.db.ReadSQL().QueryRowContext(ctx, s.db.Bind(`SELECT period_days FROM hook_programs WHERE project_id = ?`), projectID).Scan(&days)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return DefaultPeriodDays, nil
	case err != nil:
		return 0, apperr.Internal(err)
	case days < 1 || days > MaxPeriodDays:
		return DefaultPeriodDays, nil
	}
	return int(days), nil
}

// stragglerScope is what a query of stragglers resolved: the org, the
// period and the cutoff.
type stragglerScope struct {
	orgURL string
	period int
	now    time.Time
	cutoff time.Time
}

func (s *Service) stragglerScope(ctx context.Context, projectID int64, period int, now time.Time, orgURL string) (stragglerScope, error) {
	if period < 0 || period > MaxPeriodDays {
		msg := fmt.Sprintf("The period is a number of days between 1 and %d.", MaxPeriodDays)
		return stragglerScope{}, apperr.Invalid(msg, map[string]string{"period_days": msg})
	}
	if period == 0 {
		p, err := s.ProgramPeriod(ctx, projectID)
		if err != nil {
			return stragglerScope{}, err
		}
		period = p
	}
	if now.IsZero() {
		now = s.now()
	}
	if orgURL == "" {
		conn, err := s.deps.Orgs.Find(ctx, projectID)
		if err != nil {
			return stragglerScope{}, err
		}
		if conn == nil {
			return stragglerScope{}, apperr.Invalid("The project has no Okta org: connect one on the project's Okta org page.", nil)
		}
		orgURL = conn.OrgURL
	}
	// okta_users keeps the org URL as the client normalised it.
	if u, err := okta.ParseOrgURL(orgURL); err == nil {
		orgURL = u.String()
	}
	now = now.UTC()
	return stragglerScope{orgURL: orgURL, period: period, now: now, cutoff: now.AddDate(0, 0, -period)}, nil
}

// stragglerWhere selects the stragglers of a scope: hook users of the org,
// not removed, whose password Okta has not confirmed, created before the
// cutoff, not reset yet. Users Ferry knows to be STAGED (never activated:
// they could not sign in; an activation wave is their next step) or
// DEPROVISIONED (a leaver) are not stragglers.
const stragglerWhere = `u.project_id = ? AND u.org_url = ? AND u.password = ? AND u.removed_at IS NULL
	AND u.password_imported_at IS NULL AND u.reset_at IS NULL AND u.created_at <= ? AND u.status NOT IN (?, ?)`

func (sc stragglerScope) args(projectID int64) []any {
	return []any{projectID, sc.orgURL, PasswordHook, sc.cutoff, okta.StatusStaged, okta.StatusDeprovisioned}
}

// Stragglers lists the project's stragglers in its current org, a page at
// a time (keyset on Ref), with their count and each one's last hook
// attempt.
func (s *Service) Stragglers(ctx context.Context, projectID int64, q StragglerQuery) (*StragglerPage, error) {
	sc, err := s.stragglerScope(ctx, projectID, q.PeriodDays, q.Now, "")
	if err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxStragglerPage)
	page := &StragglerPage{OrgURL: sc.orgURL, PeriodDays: sc.period, Cutoff: sc.cutoff, Items: []Straggler{}}
	if err := s.db.ReadSQL().QueryRowContext(ctx, s.db.Bind(`SELECT COUNT(*) FROM okta_users u WHERE `+stragglerWhere),
		sc.args(projectID)...).Scan(&page.Total); err != nil {
		return nil, apperr.Internal(err)
	}
	items, err := s.stragglers(ctx, projectID, sc, q.After, limit+1)
	if err != nil {
		return nil, err
	}
	if len(items) > limit {
		items = items[:limit]
		page.Next = items[limit-1].Ref
	}
	if items != nil {
		page.Items = items
	}
	return page, nil
}

// stragglers reads up to limit stragglers after ref, with their sources'
// names and last hook attempts.
func (s *Service) stragglers(ctx context.Context, projectID int64, sc stragglerScope, after int64, limit int) ([]Straggler, error) {
	rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT u.id, u.okta_user_id, u.login, u.record_id, u.source_id, u.source_key,
		u.created_at, u.status FROM okta_users u WHERE `+stragglerWhere+` AND u.id > ? ORDER BY u.id LIMIT ?`),
		append(sc.args(projectID), after, limit)...)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	var out []Straggler
	for rows.Next() {
		var st Straggler
		if err := rows.Scan(&st.Ref, &st.OktaUserID, &st.Login, &st.RecordID, &st.SourceID, &st.SourceKey, &st.Created, &st.Status); err != nil {
			rows.Close()
			return nil, apperr.Internal(err)
		}
		st.Created = st.Created.UTC()
		st.DaysWaiting = int(sc.now.Sub(st.Created) / (24 * time.Hour))
		out = append(out, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, apperr.Internal(err)
	}
	if len(out) == 0 {
		return out, nil
	}
	sources, err := s.deps.Plan.FindSources(ctx, projectID)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(sources))
	for _, src := range sources {
		names[src.ID] = src.Name
	}
	refs := make([]int64, len(out))
	for i := range out {
		refs[i] = out[i].Ref
		if out[i].SourceID != nil {
			out[i].Source = names[*out[i].SourceID]
		}
	}
	last, err := s.lastHookAttempts(ctx, refs)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].LastAttempt = last[out[i].Ref]
	}
	return out, nil
}

// allStragglers lists every straggler of a scope (the snapshot of a run).
func (s *Service) allStragglers(ctx context.Context, projectID int64, sc stragglerScope) ([]Straggler, error) {
	var all []Straggler
	var after int64
	for {
		page, err := s.stragglers(ctx, projectID, sc, after, MaxStragglerPage)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < MaxStragglerPage {
			return all, nil
		}
		after = page[len(page)-1].Ref
	}
}

// lastHookAttempts finds the latest hook attempt of each provenance row.
func (s *Service) lastHookAttempts(ctx context.Context, refs []int64) (map[int64]*HookAttempt, error) {
	out := map[int64]*HookAttempt{}
	const chunk = 500
	for start := 0; start < len(refs); start += chunk {
		part := refs[start:min(start+chunk, len(refs))]
		args := make([]any, len(part))
		for i, r := range part {
			args[i] = r
		}
		rows, err := s.db.ReadSQL().QueryContext(ctx, s.db.Bind(`SELECT okta_user_ref, outcome, cause, at FROM hook_attempts
			WHERE okta_user_ref IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")+`) ORDER BY okta_user_ref, at DESC, id DESC`), args...)
		if err != nil {
			return nil, apperr.Internal(err)
		}
		for rows.Next() {
			var ref int64
			var a HookAttempt
			if err := rows.Scan(&ref, &a.Outcome, &a.Cause, &a.At); err != nil {
				rows.Close()
				return nil, apperr.Internal(err)
			}
			if _, seen := out[ref]; !seen {
				a.At = a.At.UTC()
				out[ref] = &a
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, apperr.Internal(err)
		}
	}
	return out, nil
}

// WriteStragglersCSV writes every straggler of the project (q's period and
// time; its paging is ignored) as a CSV: login, source, created, days
// waiting, status, the last hook attempt. It holds logins: the caller
// checks the personal-data permission and audits the download.
func (s *Service) WriteStragglersCSV(ctx context.Context, projectID int64, q StragglerQuery, w io.Writer) error {
	sc, err := s.stragglerScope(ctx, projectID, q.PeriodDays, q.Now, "")
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"login", "okta_user_id", "source", "created", "days_waiting", "status",
		"last_attempt_outcome", "last_attempt_cause", "last_attempt_at"}); err != nil {
		return err
	}
	var after int64
	for {
		page, err := s.stragglers(ctx, projectID, sc, after, MaxStragglerPage)
		if err != nil {
			return err
		}
		for _, st := range page {
			line := []string{safeCell(st.Login), safeCell(st.OktaUserID), safeCell(st.Source), st.Created.Format(time.RFC3339),
				strconv.Itoa(st.DaysWaiting), safeCell(st.Status), "", "", ""}
			if a := st.LastAttempt; a != nil {
				line[6], line[7], line[8] = safeCell(a.Outcome), safeCell(a.Cause), a.At.Format(time.RFC3339)
			}
			if err := cw.Write(line); err != nil {
				return err
			}
		}
		if len(page) < MaxStragglerPage {
			break
		}
		after = page[len(page)-1].Ref
	}
	cw.Flush()
	return cw.Error()
}
