package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Classic sign-in transaction statuses (Authentication API, POST /api/v1/authn).
const (
	AuthnSuccess         = "SUCCESS"
	AuthnPasswordExpired = "PASSWORD_EXPIRED"
	AuthnLockedOut       = "LOCKED_OUT"
	AuthnMFARequired     = "MFA_REQUIRED"
	AuthnMFAEnroll       = "MFA_ENROLL"
)

// AuthnResult is what Ferry keeps of a Classic sign-in transaction: its
// status and expiry. The session token and state token are never kept, so
// that neither can reach a log or a page.
type AuthnResult struct {
	Status    string    `json:"status"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Authenticate signs in as a user with a password through Okta's Classic
// Authentication API (POST /api/v1/authn, primary authentication): status
// SUCCESS, PASSWORD_EXPIRED (the right password of a user who must change
// it), LOCKED_OUT, MFA_REQUIRED …; a wrong password (or a user who cannot
// sign in: STAGED, PROVISIONED, SUSPENDED …) is a 401 E0000004 error.
//
// The API is public: the request carries no API token (a token would make
// it a trusted application's request, which Okta treats differently). The
// password never reaches an error message.
func (c *Client) Authenticate(ctx context.Context, username, password string) (*AuthnResult, Response, error) {
	k := call{op: "authenticate", method: http.MethodPost, tmpl: "/api/v1/authn", path: "/api/v1/authn"}
	if username == "" || password == "" {
		return nil, Response{}, fmt.Errorf("okta: %s: username and password are required", k.what())
	}
	secrets := []string{password, c.token()}
	b, err := json.Marshal(map[string]string{"username": username, "password": password})
	if err != nil {
		return nil, Response{}, fmt.Errorf("okta: %s: encode request: %v", k.what(), scrub(err.Error(), secrets))
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.String()+k.path, bytes.NewReader(b))
	if err != nil {
		return nil, Response{}, fmt.Errorf("okta: %s: %v", k.what(), scrub(err.Error(), secrets))
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	res, err := c.http.Do(req)
	if err != nil {
		return nil, Response{}, c.transportError(ctx, k, err, secrets)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	meta := readResponse(res.Header, res.StatusCode)
	if err != nil {
		return nil, meta, c.transportError(ctx, k, err, secrets)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return nil, meta, newError(k, meta, res.Header.Get("Content-Type"), raw, secrets)
	}
	if !isJSON(res.Header.Get("Content-Type")) {
		return nil, meta, fmt.Errorf("okta: %s: %d answer is %s, not JSON", k.what(), res.StatusCode, contentKind(res.Header.Get("Content-Type")))
	}
	var out AuthnResult
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, meta, fmt.Errorf("okta: %s: decode %d answer: %v", k.what(), res.StatusCode, scrub(err.Error(), secrets))
	}
	return &out, meta, nil
}

// IsAuthFailed reports whether err is Okta's answer to a failed sign-in
// (401 E0000004: wrong password, unknown user, or a user who cannot sign in).
func IsAuthFailed(err error) bool {
	e, ok := AsError(err)
	return ok && e.ErrorCode == CodeAuthFailed
}
