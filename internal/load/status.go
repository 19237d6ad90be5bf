package load

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// Legacy account status (docs/loads.md, "Legacy account status").
//
// Each source's CutoverSettings say which attribute holds the status and
// what each status becomes. The snapshot of a load (or a refresh's joiners)
// records it on the item (AccountStatus, StatusAction); StatusSkip makes the
// item skipped (FERRY_STATUS_SKIP). At creation:
//
//   - StatusDeprovision: created, then deactivated (DEPROVISIONED), from
//     STAGED or ACTIVE alike.
//   - StatusSuspend: in an ACTIVE load, created then suspended (Okta
//     suspends only ACTIVE users: a user without a password is PROVISIONED,
//     cannot be suspended, and its item fails with FERRY_STATUS_NOT_APPLIED).
//     In a STAGED load, applied at activation (applyStatusAfterActivation).
//   - StatusChangePassword: in an ACTIVE load with a password, created with
//     nextLogin=changePassword and its password expired (PASSWORD_EXPIRED);
//     without a password there is nothing to expire (said in the item's
//     summary). In a STAGED load, applied at activation.
//
// Every follow-up call is safe to repeat after a crash: deactivating a
// DEPROVISIONED user is accepted, and a refused suspend or expire is
// checked by reading the user back (already SUSPENDED / PASSWORD_EXPIRED:
// done). A follow-up that cannot be applied leaves the item failed with
// FERRY_STATUS_NOT_APPLIED, its Okta user recorded as Ferry's (so that a
// rollback finds it) with the status it actually has.

// User account control bits of Active Directory.
const (
	uacAccountDisable    = 0x2
	uacLockout           = 0x10
	uacPasswordExpired   = 0x800000
	codeStatusSkip       = "FERRY_STATUS_SKIP"
	codeStatusNotApplied = "FERRY_STATUS_NOT_APPLIED"
)

// readsStatus reports whether the settings read a legacy status at all.
func (set *CutoverSettings) readsStatus() bool { return set != nil && set.StatusAttribute != "" }

// accountStatus reads a record's legacy status: AccountActive when the
// settings name no attribute or the record has no value for it;
// userAccountControl by its bits (disabled, then locked, then expired);
// any other attribute by comparing its values, ignoring case, with the
// disabled, locked and expired lists, in that order.
func accountStatus(set *CutoverSettings, rec map[string][]string) string {
	if !set.readsStatus() {
		return AccountActive
	}
	var vals []string
	for k, v := range rec {
		if strings.EqualFold(k, set.StatusAttribute) {
			for _, s := range v {
				if s = strings.TrimSpace(s); s != "" {
					vals = append(vals, s)
				}
			}
		}
	}
	if len(vals) == 0 {
		return AccountActive
	}
	if strings.EqualFold(set.StatusAttribute, userAccountControl) {
		if flags, ok := parseUAC(vals[0]); ok {
			switch {
			case flags&uacAccountDisable != 0:
				return AccountDisabled
			case flags&uacLockout != 0:
				return AccountLocked
			case flags&uacPasswordExpired != 0:
				return AccountExpired
			}
			return AccountActive
		}
	}
	for _, l := range []struct {
		status string
		list   []string
	}{{AccountDisabled, set.DisabledValues}, {AccountLocked, set.LockedValues}, {AccountExpired, set.ExpiredValues}} {
		for _, v := range vals {
			for _, want := range l.list {
				if strings.EqualFold(v, strings.TrimSpace(want)) {
					return l.status
				}
			}
		}
	}
	return AccountActive
}

// parseUAC reads userAccountControl: decimal, as directories give it (a
// 0x-prefixed hexadecimal value is accepted too).
func parseUAC(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	base := 10
	if strings.HasPrefix(v, "0x") || strings.HasPrefix(v, "0X") {
		v, base = v[2:], 16
	}
	n, err := strconv.ParseInt(v, base, 64)
	return n, err == nil
}

// statusActionOf is what the settings make of a legacy status.
func statusActionOf(set *CutoverSettings, status string) string {
	if set == nil {
		set = DefaultCutover(0, 0)
	}
	switch status {
	case AccountDisabled:
		return orDefault(set.DisabledAction, StatusSkip)
	case AccountLocked:
		return orDefault(set.LockedAction, StatusSuspend)
	case AccountExpired:
		return orDefault(set.ExpiredAction, StatusChangePassword)
	}
	return StatusCreate
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// statusLabels name the legacy statuses for people.
var statusLabels = map[string]string{AccountDisabled: "disabled", AccountLocked: "locked", AccountExpired: "password expired"}

// setAccountStatus records a snapshot item's legacy status and what
// becomes of it; StatusSkip makes a pending item skipped (its sealed hash
// dropped). Sources without a status attribute leave the item as it is.
func setAccountStatus(it *Item, set *CutoverSettings, rec map[string][]string) {
	if !set.readsStatus() {
		return
	}
	it.AccountStatus = accountStatus(set, rec)
	it.StatusAction = statusActionOf(set, it.AccountStatus)
	if it.StatusAction == StatusSkip && (it.State == StatePending || it.ErrorCode == "FERRY_NO_HASH") {
		it.State, it.ErrorCode, it.CredentialSealed = StateSkipped, codeStatusSkip, ""
		it.ErrorSummary = fmt.Sprintf("The account is %s at the source (%s): not loaded, as the source's cut-over settings say.",
			statusLabels[it.AccountStatus], set.StatusAttribute)
	}
}

// createOptions are the createUser options of an item: a user whose
// password must be changed is created with nextLogin=changePassword when
// the load activates and sends a password hash.
func (x *execution) createOptions(it *Item) okta.CreateUserOptions {
	opts := okta.CreateUserOptions{Activate: x.run.Activate}
	if it.StatusAction == StatusChangePassword && x.run.Activate && x.run.Mode == ModeHash && it.CredentialSealed != "" {
		opts.NextLogin = okta.NextLoginChangePassword
	}
	return opts
}

// applyStatusAtCreate applies an item's status action right after Ferry
// created (or found, after a crash) its user: r is created's result, whose
// provenance status it corrects.
func (x *execution) applyStatusAtCreate(ctx context.Context, it *Item, r result) result {
	if r.state != StateCreated || r.oktaID == "" || r.sent == nil {
		return r
	}
	hasPassword := r.sent.password != PasswordNone
	var note string
	switch it.StatusAction {
	case StatusDeprovision:
	case StatusSuspend:
		if !x.run.Activate {
			return noteOn(r, "The account is locked at the source: it is suspended when it is activated.")
		}
		if !hasPassword {
			r.state, r.code = StateFailed, codeStatusNotApplied
			r.summary = "Created in Okta (" + r.oktaID + ") without a password, so it is PROVISIONED and Okta cannot suspend it " +
				"(the account is locked at the source): suspend or deactivate it by hand, or roll it back."
			return r
		}
	case StatusChangePassword:
		if !x.run.Activate {
			return noteOn(r, "The password is expired at the source: the user must change it at the first sign-in once activated.")
		}
		if !hasPassword {
			return noteOn(r, "The password is expired at the source, but the user has no password in Okta: there is nothing to expire (it sets one through its activation email).")
		}
	default:
		return r
	}
	status, err := x.applyAccountStatus(ctx, it.StatusAction, r.oktaID)
	if err != nil && ctx.Err() != nil {
		// The run stops: the next process finds the user by its login
		// and applies the status again (every call is safe to repeat).
		return result{state: StateSending}
	}
	if err != nil {
		f := failure(err)
		r.state, r.code = StateFailed, codeStatusNotApplied
		r.summary = fmt.Sprintf("Created in Okta (%s), but its legacy status (%s) could not be applied: %s. Apply it by hand or resume the run.",
			r.oktaID, it.StatusAction, f.summary)
		return r
	}
	if status != "" {
		r.sent.status = status
	}
	switch it.StatusAction {
	case StatusDeprovision:
		note = "The account is disabled at the source: created and deactivated (DEPROVISIONED)."
	case StatusSuspend:
		note = "The account is locked at the source: created and suspended (SUSPENDED)."
	case StatusChangePassword:
		note = "The password is expired at the source: the user must change it at the first sign-in (PASSWORD_EXPIRED)."
	}
	return noteOn(r, note)
}

func noteOn(r result, note string) result {
	if r.summary == "" {
		r.summary = note
	} else {
		r.summary += " " + note
	}
	return r
}

// applyStatusAfterActivation applies an item's legacy status action to a
// user just activated (activation waves of a STAGED load call it right
// after a successful activation): StatusSuspend suspends it, and
// StatusChangePassword expires its password, when hasPassword (the user is
// ACTIVE); StatusDeprovision deactivates it (normally done at creation
// already: repeating it is harmless). It returns the status the user now
// has ("" when nothing was done: StatusCreate, or a password to expire
// without a password) for the provenance (okta_users.status). A user to
// suspend without a password is PROVISIONED, which Okta cannot suspend: an
// error says so. Every call is safe to repeat after a crash (see
// applyAccountStatus).
func (x *execution) applyStatusAfterActivation(ctx context.Context, it *Item, userID string, hasPassword bool) (status string, err error) {
	switch it.StatusAction {
	case StatusDeprovision:
	case StatusSuspend:
		if !hasPassword {
			return "", fmt.Errorf("the account is locked at the source, but the user has no password: it is PROVISIONED and Okta suspends only ACTIVE users")
		}
	case StatusChangePassword:
		if !hasPassword {
			return "", nil
		}
	default:
		return "", nil
	}
	return x.applyAccountStatus(ctx, it.StatusAction, userID)
}

// applyAccountStatus makes one lifecycle call for a status action, retried
// through temporary failures and checked when Okta refuses it: a refused
// suspend or expire is done when the user already has the status it leads
// to (a call repeated after a crash).
func (x *execution) applyAccountStatus(ctx context.Context, action, userID string) (string, error) {
	var call func(ctx context.Context) (okta.Response, error)
	var want string
	switch action {
	case StatusDeprovision:
		want = okta.StatusDeprovisioned
		call = func(ctx context.Context) (okta.Response, error) { return x.client.DeactivateUser(ctx, userID, false) }
	case StatusSuspend:
		want = okta.StatusSuspended
		call = func(ctx context.Context) (okta.Response, error) { return x.client.SuspendUser(ctx, userID) }
	case StatusChangePassword:
		want = okta.StatusPasswordExpired
		call = func(ctx context.Context) (okta.Response, error) {
			_, res, err := x.client.ExpirePassword(ctx, userID)
			return res, err
		}
	default:
		return "", nil
	}
	err := x.retrySend(ctx, bucketOther, call)
	if err == nil {
		return want, nil
	}
	if e, ok := okta.AsError(err); ok && e.StatusCode >= 400 && e.StatusCode < 500 && !okta.IsNotFound(err) && !okta.IsRateLimited(err) {
		// Refused: done already? (a repeat after a crash)
		var u *okta.User
		gerr := x.retrySend(ctx, bucketUserGet, func(ctx context.Context) (okta.Response, error) {
			got, res, err := x.client.GetUser(ctx, userID)
			u = got
			return res, err
		})
		if gerr == nil && u.Status == want {
			return want, nil
		}
	}
	return "", err
}

// retrySend sends a request that is safe to repeat, through 5xx answers,
// timeouts and dropped connections.
func (x *execution) retrySend(ctx context.Context, bucket string, call func(ctx context.Context) (okta.Response, error)) error {
	err := x.send(ctx, bucket, call)
	for attempt := 1; err != nil && okta.IsTemporary(err) && attempt < maxAttempts && ctx.Err() == nil; attempt++ {
		if x.pacer.Sleep(ctx, x.pacer.Backoff(attempt)) != nil {
			break
		}
		err = x.send(ctx, bucket, call)
	}
	return err
}
