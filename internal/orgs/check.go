package orgs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// OktaChecker checks a connection with the Okta client: it reads one user
// (the least a migration needs), and tells Ferry's sandbox from a real org
// by the header the sandbox sends.
type OktaChecker struct {
	// Version goes into the client's User-Agent.
	Version string
	// Timeout bounds the check (default 15 s).
	Timeout time.Duration
}

// Check answers whether the org at orgURL accepts the token. An error means
// the check itself could not be made (a bad argument); an org that refuses
// or cannot be reached is a CheckResult with OK false and the reason.
func (c OktaChecker) Check(ctx context.Context, orgURL, scheme, token string) (CheckResult, error) {
	cfg := okta.Config{OrgURL: orgURL, Version: c.Version, Timeout: c.Timeout}
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	switch scheme {
	case SchemeSSWS:
		cfg.APIToken = token
	case SchemeBearer:
		cfg.AccessToken = token
	default:
		return CheckResult{}, fmt.Errorf("orgs: unknown token scheme %q", scheme)
	}
	client, err := okta.New(cfg)
	if err != nil {
		return CheckResult{Message: "The org URL or token cannot be used: " + err.Error()}, nil
	}
	page, err := client.ListUsers(ctx, okta.UserQuery{Limit: 1})
	if err != nil {
		return CheckResult{Message: checkFailure(orgURL, err)}, nil
	}
	if page.Response.Sandbox {
		return CheckResult{OK: true, Sandbox: true, Message: "Ferry's Okta sandbox answered and accepted the token: loads here are rehearsals."}, nil
	}
	return CheckResult{OK: true, Message: "Okta answered and accepted the token (it may read users)."}, nil
}

// checkFailure says in words what a failed check means and what to do.
func checkFailure(orgURL string, err error) string {
	var te *okta.TransportError
	switch {
	case okta.IsBadToken(err):
		return "Okta refused the token (E0000011): it is wrong, expired or revoked. Create a new one and save it here."
	case okta.IsForbidden(err):
		return "Okta accepted the token, but its administrator may not read users (E0000006): give the token's admin a role that can (see docs/okta.md)."
	case okta.IsRateLimited(err), okta.IsConcurrencyLimited(err):
		return "Okta is rate-limiting this org right now (E0000047): check again in a minute."
	case errors.As(err, &te):
		return fmt.Sprintf("%s did not answer: %s. Check the URL and that this machine can reach it.", orgURL, te.Msg)
	}
	if e, ok := okta.AsError(err); ok {
		return fmt.Sprintf("Okta answered with an error (HTTP %d %s): %s", e.StatusCode, e.ErrorCode, e.ErrorSummary)
	}
	return "The check failed: " + err.Error()
}
