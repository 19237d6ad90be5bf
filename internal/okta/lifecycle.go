package okta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
)

// UpdateUserRequest is the body of POST /api/v1/users/{id} (updateUser,
// UpdateUserRequest): a partial update, so only the profile attributes given
// change (a nil value, sent as JSON null, clears one), and credentials are
// set only when given. credentials.password.hash is accepted by Okta only
// while the user is STAGED ("password: An imported password may only be
// specified for a user with status: STAGED" otherwise).
type UpdateUserRequest struct {
	Profile     UserProfile      `json:"profile,omitempty"`
	Credentials *UserCredentials `json:"credentials,omitempty"`
}

// LogValue keeps credentials and the profile (PII) out of slog: only the
// shape of the request is logged.
func (r UpdateUserRequest) LogValue() slog.Value {
	var cred any = "none"
	if r.Credentials != nil {
		cred = *r.Credentials
	}
	return slog.GroupValue(slog.Int("profile_attributes", len(r.Profile)), slog.Any("credentials", cred))
}

// UpdateUser updates a user's profile and/or credentials with partial
// semantics (POST /api/v1/users/{id}, updateUser). An imported hash
// (Credentials.Password.Hash) is accepted only while the user is STAGED; a
// new hash replaces the old one. The hash, salt, password value and recovery
// answer never reach an error message.
func (c *Client) UpdateUser(ctx context.Context, userID string, body UpdateUserRequest) (*User, Response, error) {
	if err := needID("updateUser", "user", userID); err != nil {
		return nil, Response{}, err
	}
	if len(body.Profile) == 0 && body.Credentials == nil {
		return nil, Response{}, errors.New("okta: updateUser: nothing to update (no profile attribute and no credentials)")
	}
	var u User
	res, _, err := c.do(ctx, call{op: "updateUser", method: http.MethodPost, tmpl: "/api/v1/users/{id}",
		path: "/api/v1/users/" + url.PathEscape(userID), body: body, secrets: credentialSecrets(body.Credentials)}, &u)
	if err != nil {
		return nil, res, err
	}
	return &u, res, nil
}

// SuspendUser suspends an ACTIVE user (POST /api/v1/users/{id}/lifecycle/suspend,
// suspendUser): status SUSPENDED, sign-in refused, group and app assignments
// kept. Okta answers 400 E0000001 for a user that is not ACTIVE.
func (c *Client) SuspendUser(ctx context.Context, userID string) (Response, error) {
	return c.lifecycle(ctx, "suspendUser", "suspend", userID, nil)
}

// UnsuspendUser returns a SUSPENDED user to ACTIVE
// (POST /api/v1/users/{id}/lifecycle/unsuspend, unsuspendUser). Okta answers
// 400 E0000001 for a user that is not SUSPENDED.
func (c *Client) UnsuspendUser(ctx context.Context, userID string) (Response, error) {
	return c.lifecycle(ctx, "unsuspendUser", "unsuspend", userID, nil)
}

// ExpirePassword expires a user's password
// (POST /api/v1/users/{id}/lifecycle/expire_password, expirePassword): status
// PASSWORD_EXPIRED; the user keeps the password but must change it at the
// next sign-in.
func (c *Client) ExpirePassword(ctx context.Context, userID string) (*User, Response, error) {
	var u User
	res, err := c.lifecycle(ctx, "expirePassword", "expire_password", userID, &u)
	if err != nil {
		return nil, res, err
	}
	return &u, res, nil
}

// ResetPasswordToken is the answer of resetPassword (ResetPasswordToken):
// with sendEmail=false, the one-time link with which the user sets a new
// password; with sendEmail=true Okta emails it and answers {}. The link
// lets anyone set the user's password, so its fmt and slog forms hide it.
type ResetPasswordToken struct {
	ResetPasswordURL string `json:"resetPasswordUrl,omitempty"`
}

// Format hides the link from fmt.
func (t ResetPasswordToken) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{ResetPasswordURL:%s}", redacted)
}

// LogValue hides the link from slog.
func (t ResetPasswordToken) LogValue() slog.Value { return slog.StringValue(redacted) }

// ResetPassword starts a password reset
// (POST /api/v1/users/{id}/lifecycle/reset_password?sendEmail=, resetPassword):
// the user goes to RECOVERY and cannot sign in until it has set a new
// password through the one-time link, which Okta emails (sendEmail true) or
// returns. A user still on the password import hook (provider IMPORT) loses
// it: the migration program's way to reach people who never signed in
// (NOTES §2). Okta answers 403 E0000038 for a status that does not allow
// it (STAGED, DEPROVISIONED …).
func (c *Client) ResetPassword(ctx context.Context, userID string, sendEmail bool) (*ResetPasswordToken, Response, error) {
	if err := needID("resetPassword", "user", userID); err != nil {
		return nil, Response{}, err
	}
	var t ResetPasswordToken
	res, _, err := c.do(ctx, call{op: "resetPassword", method: http.MethodPost, tmpl: "/api/v1/users/{id}/lifecycle/reset_password",
		path: "/api/v1/users/" + url.PathEscape(userID) + "/lifecycle/reset_password", query: url.Values{"sendEmail": {boolString(sendEmail)}}}, &t)
	if err != nil {
		return nil, res, err
	}
	return &t, res, nil
}

func (c *Client) lifecycle(ctx context.Context, op, action, userID string, out any) (Response, error) {
	if err := needID(op, "user", userID); err != nil {
		return Response{}, err
	}
	res, _, err := c.do(ctx, call{op: op, method: http.MethodPost, tmpl: "/api/v1/users/{id}/lifecycle/" + action,
		path: "/api/v1/users/" + url.PathEscape(userID) + "/lifecycle/" + action}, out)
	return res, err
}

// ListUserGroups lists the groups a user is a member of
// (GET /api/v1/users/{id}/groups, listUserGroups). Okta does not paginate
// this list.
func (c *Client) ListUserGroups(ctx context.Context, userID string) ([]Group, Response, error) {
	if err := needID("listUserGroups", "user", userID); err != nil {
		return nil, Response{}, err
	}
	groups := []Group{}
	res, _, err := c.do(ctx, call{op: "listUserGroups", method: http.MethodGet, tmpl: "/api/v1/users/{id}/groups",
		path: "/api/v1/users/" + url.PathEscape(userID) + "/groups"}, &groups)
	if err != nil {
		return nil, res, err
	}
	if groups == nil {
		groups = []Group{}
	}
	return groups, res, nil
}
