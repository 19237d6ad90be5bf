package hook

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/load/pace"
	"github.com/ferry-migrate/ferry/internal/okta"
	"gorm.io/gorm"
)

// UserReader reads one Okta user (okta.Client).
type UserReader interface {
	GetUser(ctx context.Context, idOrLogin string) (*okta.User, okta.Response, error)
}

// ConfirmOptions tune ConfirmByProvider; zero values take the defaults.
type ConfirmOptions struct {
	// Share is the share of the org's GET /api/v1/users/{id} rate limit the
	// read-back may use (default 0.25: it runs beside loads and sign-ins).
	Share float64
	// MaxInFlight is the number of reads at once (default 2).
	MaxInFlight int
	// Limit stops after this many users (0: all of them).
	Limit int
	// Clock paces the reads (default the system clock; tests pass a fake).
	Clock pace.Clock
	// Progress, if set, is told after each user how many have been read of
	// how many the read-back will read (counted when it starts).
	Progress func(done, total int)
	// VerifiedOnly reads only the users the hook answered VERIFIED for: the
	// imports whose user.import.password event may have been missed (the
	// scheduled read-back). Otherwise every unconfirmed user is read, which
	// also finds those who set a password in Okta another way.
	VerifiedOnly bool
}

// ConfirmResult counts what a read-back found.
type ConfirmResult struct {
	// Checked users were read; Confirmed had provider OKTA and are now
	// marked imported via provider; Pending are still on IMPORT (or
	// another provider).
	Checked, Confirmed, Pending int
	// Gone users no longer exist in Okta; Failed could not be read (the
	// read-back goes on without them).
	Gone, Failed int
}

// confirmPage is how many users one query of the read-back reads.
const confirmPage = 200

// ConfirmByProvider reads back the project's hook users that Okta has not
// confirmed yet (no password_imported_at, not removed), in the org of the
// hook serving the project, with GET /api/v1/users/{id}, and marks those
// whose credentials.provider is OKTA as imported (imported_via provider,
// at Okta's passwordChanged, else now). It is the fallback for users whose
// user.import.password event was missed. Reads are paced well under the
// bucket's limit (pace.Pacer) and stop when ctx ends: the counts so far are
// returned with ctx's error. A bad token or a forbidden answer stops the
// read-back at once.
func (s *Service) ConfirmByProvider(ctx context.Context, projectID int64, client UserReader, opts ConfirmOptions) (ConfirmResult, error) {
	var res ConfirmResult
	c, err := s.FindConfig(ctx, projectID)
	if err != nil {
		return res, err
	}
	if c == nil {
		return res, apperr.Conflict("No password import hook serves this project: there is nothing to confirm.")
	}
	if o, ok := client.(interface{ OrgURL() string }); ok && !sameOrg(o.OrgURL(), c.OrgURL) {
		return res, apperr.Conflict("The Okta client is for another org than the password import hook's (" + c.OrgURL + ").")
	}
	if opts.Share == 0 {
		opts.Share = 0.25
	}
	if opts.MaxInFlight == 0 {
		opts.MaxInFlight = 2
	}
	pacer, err := pace.New(pace.Config{Share: opts.Share, MaxInFlight: opts.MaxInFlight, Clock: opts.Clock})
	if err != nil {
		return res, apperr.Invalid(err.Error(), nil)
	}
	type row struct {
		ID         int64
		OktaUserID string
	}
	unconfirmed := func(after int64) *gorm.DB {
		q := s.db.Read.WithContext(ctx).Table("okta_users").
			Where("project_id = ? AND org_url = ? AND password = ? AND removed_at IS NULL AND password_imported_at IS NULL AND id > ?",
				projectID, c.OrgURL, "hook", after)
		if opts.VerifiedOnly {
			q = q.Where("EXISTS (SELECT 1 FROM hook_attempts a WHERE a.okta_user_ref = okta_users.id AND a.outcome = ?)", OutcomeVerified)
		}
		return q
	}
	var total int64
	if opts.Progress != nil {
		if err := unconfirmed(0).Count(&total).Error; err != nil {
			return res, apperr.Internal(err)
		}
		if opts.Limit > 0 {
			total = min(total, int64(opts.Limit))
		}
	}
	// report tells Progress how many users have been read; at the end the
	// total is what was read (users the event hook confirmed meanwhile drop out).
	report := func(end bool) {
		if opts.Progress == nil {
			return
		}
		done := res.Checked + res.Failed + res.Gone
		if end || int64(done) > total {
			total = int64(done)
		}
		opts.Progress(done, int(total))
	}
	report(false)
	var after int64
	for {
		var rows []row
		q := unconfirmed(after).Select("id, okta_user_id").Order("id").Limit(confirmPage)
		if err := q.Find(&rows).Error; err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			return res, apperr.Internal(err)
		}
		if len(rows) == 0 {
			break
		}
		after = rows[len(rows)-1].ID
		for _, r := range rows {
			if opts.Limit > 0 && res.Checked+res.Failed+res.Gone >= opts.Limit {
				report(true)
				return res, nil
			}
			if res.Checked+res.Failed+res.Gone > 0 {
				report(false)
			}
			var u *okta.User
			_, err := pacer.Send(ctx, "users/{id}", func(ctx context.Context) (okta.Response, error) {
				var resp okta.Response
				var err error
				u, resp, err = client.GetUser(ctx, r.OktaUserID)
				return resp, err
			})
			switch {
			case ctx.Err() != nil:
				return res, ctx.Err()
			case okta.IsNotFound(err):
				res.Gone++
				continue
			case okta.IsBadToken(err) || okta.IsForbidden(err):
				return res, apperr.Conflict("Okta refused to read users with the project's token: check the org connection. " + err.Error())
			case err != nil:
				res.Failed++
				s.log.WarnContext(ctx, "provider read-back: cannot read a user", slog.Int64("project", projectID),
					slog.String("okta_user", r.OktaUserID), slog.String("error", err.Error()))
				continue
			}
			res.Checked++
			if u == nil || u.Credentials == nil || u.Credentials.Provider == nil || u.Credentials.Provider.Type != "OKTA" {
				res.Pending++
				continue
			}
			at := s.now().UTC()
			if !u.PasswordChanged.IsZero() {
				at = u.PasswordChanged.UTC()
			}
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			upd := s.db.Write.WithContext(wctx).Table("okta_users").Where("id = ? AND password_imported_at IS NULL", r.ID).
				Updates(map[string]any{"password_imported_at": at, "imported_via": ImportedViaProvider})
			cancel()
			if upd.Error != nil {
				return res, apperr.Internal(upd.Error)
			}
			if upd.RowsAffected > 0 {
				res.Confirmed++
			}
		}
	}
	report(true)
	s.log.InfoContext(ctx, "provider read-back", slog.Int64("project", projectID), slog.Int("checked", res.Checked),
		slog.Int("confirmed", res.Confirmed), slog.Int("pending", res.Pending), slog.Int("gone", res.Gone), slog.Int("failed", res.Failed))
	return res, nil
}

// sameOrg compares two org URLs as Ferry writes them (case and a trailing
// slash aside).
func sameOrg(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}

// ProjectsAwaitingConfirmation lists the projects served by a password
// import hook that have users the hook answered VERIFIED for and Okta has
// not confirmed yet: those whose user.import.password event may have been
// missed, for the scheduled read-back (jobs.Runner.ScheduleReadBacks).
func (s *Service) ProjectsAwaitingConfirmation(ctx context.Context) ([]int64, error) {
	var ids []int64
	err := s.db.Read.WithContext(ctx).Table("okta_users").Distinct("okta_users.project_id").
		Joins("JOIN hook_projects h ON h.project_id = okta_users.project_id").
		Where("okta_users.password = ? AND okta_users.removed_at IS NULL AND okta_users.password_imported_at IS NULL", "hook").
		Where("EXISTS (SELECT 1 FROM hook_attempts a WHERE a.okta_user_ref = okta_users.id AND a.outcome = ?)", OutcomeVerified).
		Order("okta_users.project_id").Pluck("okta_users.project_id", &ids).Error
	if err != nil {
		return nil, apperr.Internal(err)
	}
	return ids, nil
}
