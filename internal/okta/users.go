package okta

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// CreateUserOptions are createUser's query parameters. Activate is always
// sent, because Okta's default (true) would activate users, and email those
// without a password, on a forgotten flag.
type CreateUserOptions struct {
	// Activate: true gives ACTIVE for a user with a password, hash or hook;
	// false gives STAGED.
	Activate bool
	// Provider is set when credentials.provider is FEDERATION or SOCIAL.
	Provider bool
	// NextLogin is "" or NextLoginChangePassword (needs Activate and a password).
	NextLogin string
}

// CreateUser creates a user (POST /api/v1/users, createUser).
func (c *Client) CreateUser(ctx context.Context, body CreateUserRequest, opts CreateUserOptions) (*User, Response, error) {
	q := url.Values{"activate": {boolString(opts.Activate)}}
	if opts.Provider {
		q.Set("provider", "true")
	}
	if opts.NextLogin != "" {
		q.Set("nextLogin", opts.NextLogin)
	}
	var u User
	res, _, err := c.do(ctx, call{op: "createUser", method: http.MethodPost, tmpl: "/api/v1/users",
		path: "/api/v1/users", query: q, body: body, secrets: credentialSecrets(body.Credentials)}, &u)
	if err != nil {
		return nil, res, err
	}
	return &u, res, nil
}

// credentialSecrets are the strings of a request that must not reach an
// error message, even if a server echoes them back.
func credentialSecrets(cr *UserCredentials) []string {
	if cr == nil {
		return nil
	}
	var out []string
	if p := cr.Password; p != nil {
		if p.Value != "" {
			out = append(out, p.Value)
		}
		if h := p.Hash; h != nil {
			out = append(out, h.Value, h.Salt)
		}
	}
	if r := cr.RecoveryQuestion; r != nil && r.Answer != "" {
		out = append(out, r.Answer)
	}
	return out
}

// GetUser reads a user by id or login (GET /api/v1/users/{id}, getUser).
// A login containing "/" can only be found with FindUserByLogin.
func (c *Client) GetUser(ctx context.Context, idOrLogin string) (*User, Response, error) {
	if err := needID("getUser", "user", idOrLogin); err != nil {
		return nil, Response{}, err
	}
	if strings.Contains(idOrLogin, "/") {
		return nil, Response{}, errors.New("okta: getUser: a login containing \"/\" cannot be read by login; use FindUserByLogin")
	}
	// Okta's 404 summary echoes what was asked for ("Resource not found:
	// <login> (User)"): a login is PII and, like the path, stays out of the
	// message. Fixed after the sandbox integration tests showed the leak.
	var secrets []string
	if !strings.HasPrefix(idOrLogin, "00u") || strings.Contains(idOrLogin, "@") {
		secrets = []string{idOrLogin}
	}
	var u User
	res, _, err := c.do(ctx, call{op: "getUser", method: http.MethodGet, tmpl: "/api/v1/users/{id}",
		path: "/api/v1/users/" + url.PathEscape(idOrLogin), secrets: secrets}, &u)
	if err != nil {
		return nil, res, err
	}
	return &u, res, nil
}

// UserQuery selects users for ListUsers (listUsers). Set at most one of
// Search, Filter and Q.
type UserQuery struct {
	// Search is a search expression (eventually consistent; includes
	// DEPROVISIONED users), e.g. `profile.department eq "Sales"`.
	Search string
	// Filter is a filter expression on status, lastUpdated, id,
	// profile.login, profile.email, profile.firstName or profile.lastName
	// (includes DEPROVISIONED users).
	Filter string
	// Q is a prefix match on firstName, lastName or email; not paginated.
	Q string
	// Limit is the page size; Okta's default (200) when zero.
	Limit int
	// SortBy and SortOrder ("asc", "desc") apply to Search only.
	SortBy, SortOrder string
}

func (q UserQuery) values() (url.Values, error) {
	v := url.Values{}
	n := 0
	for _, p := range []struct{ k, v string }{{"search", q.Search}, {"filter", q.Filter}, {"q", q.Q}} {
		if p.v != "" {
			v.Set(p.k, p.v)
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("okta: set at most one of search, filter and q")
	}
	if q.Limit < 0 {
		return nil, fmt.Errorf("okta: negative limit %d", q.Limit)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.SortBy != "" {
		v.Set("sortBy", q.SortBy)
	}
	if q.SortOrder != "" {
		v.Set("sortOrder", q.SortOrder)
	}
	return v, nil
}

// ListUsers reads the first page of users (GET /api/v1/users, listUsers);
// Page.Next follows the Link header. With no query Okta omits DEPROVISIONED
// users.
func (c *Client) ListUsers(ctx context.Context, q UserQuery) (*Page[User], error) {
	v, err := q.values()
	if err != nil {
		return nil, err
	}
	return fetchPage[User](ctx, c, call{op: "listUsers", method: http.MethodGet, tmpl: "/api/v1/users", path: "/api/v1/users", query: v})
}

// FindUserByLogin returns the user whose login is login, or nil (and no error)
// when there is none. It filters on profile.login, which, unlike search, is
// not eventually consistent and includes DEPROVISIONED users, but compares
// the login as given, case included: Okta holds a login unique ignoring
// case, so a caller that may hold another spelling of it (a loader after a
// lost response sends the same one) should also try GetUser with it.
func (c *Client) FindUserByLogin(ctx context.Context, login string) (*User, Response, error) {
	if login == "" {
		return nil, Response{}, errors.New("okta: findUserByLogin: empty login")
	}
	p, err := c.ListUsers(ctx, UserQuery{Filter: `profile.login eq ` + quote(login), Limit: 2})
	if err != nil {
		var res Response
		if e, ok := AsError(err); ok {
			res = e.Response
		}
		return nil, res, err
	}
	for i := range p.Items {
		// The filter already matched; comparing again guards against a
		// server that ignores it.
		if strings.EqualFold(p.Items[i].Profile.Login(), login) {
			return &p.Items[i], p.Response, nil
		}
	}
	return nil, p.Response, nil
}

// quote makes s a filter/search string literal.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// ActivateUser activates a STAGED or DEPROVISIONED user
// (POST /api/v1/users/{id}/lifecycle/activate, activateUser). Activation is
// asynchronous. With sendEmail false Okta returns the activation link instead
// of emailing it; never send it to users with an imported password or hook.
func (c *Client) ActivateUser(ctx context.Context, userID string, sendEmail bool) (*UserActivationToken, Response, error) {
	if err := needID("activateUser", "user", userID); err != nil {
		return nil, Response{}, err
	}
	var t UserActivationToken
	res, _, err := c.do(ctx, call{op: "activateUser", method: http.MethodPost, tmpl: "/api/v1/users/{id}/lifecycle/activate",
		path: "/api/v1/users/" + url.PathEscape(userID) + "/lifecycle/activate", query: url.Values{"sendEmail": {boolString(sendEmail)}}}, &t)
	if err != nil {
		return nil, res, err
	}
	return &t, res, nil
}

// DeactivateUser deactivates a user (POST /api/v1/users/{id}/lifecycle/deactivate,
// deactivateUser): status DEPROVISIONED, deprovisioned from every app.
func (c *Client) DeactivateUser(ctx context.Context, userID string, sendEmail bool) (Response, error) {
	if err := needID("deactivateUser", "user", userID); err != nil {
		return Response{}, err
	}
	res, _, err := c.do(ctx, call{op: "deactivateUser", method: http.MethodPost, tmpl: "/api/v1/users/{id}/lifecycle/deactivate",
		path: "/api/v1/users/" + url.PathEscape(userID) + "/lifecycle/deactivate", query: url.Values{"sendEmail": {boolString(sendEmail)}}}, nil)
	return res, err
}

// DeleteUser deletes a DEPROVISIONED user (DELETE /api/v1/users/{id},
// deleteUser). On a user not yet deactivated the same call only deactivates
// it: a rollback deactivates first or deletes twice.
func (c *Client) DeleteUser(ctx context.Context, userID string, sendEmail bool) (Response, error) {
	if err := needID("deleteUser", "user", userID); err != nil {
		return Response{}, err
	}
	res, _, err := c.do(ctx, call{op: "deleteUser", method: http.MethodDelete, tmpl: "/api/v1/users/{id}",
		path: "/api/v1/users/" + url.PathEscape(userID), query: url.Values{"sendEmail": {boolString(sendEmail)}}}, nil)
	return res, err
}

// needID refuses an empty id, which would turn a call on one object into a
// call on the collection.
func needID(op, what, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("okta: %s: empty %s id", op, what)
	}
	if id == "." || id == ".." {
		return fmt.Errorf("okta: %s: %q is not a %s id", op, id, what)
	}
	return nil
}
