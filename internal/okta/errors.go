package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// Error is a non-2xx answer from Okta: its HTTP status, Okta's error document
// when there was one, and the rate-limit headers of that answer. Its message
// names the operation and the spec's path template, never the actual path,
// query, token or credentials.
type Error struct {
	// Op is the operation, e.g. "createUser (POST /api/v1/users)".
	Op         string
	StatusCode int
	// ErrorBody is Okta's error document; empty when the body was not JSON
	// (a proxy's HTML page), in which case Detail says what came instead.
	ErrorBody
	Detail    string
	Response  Response
	RateLimit RateLimit
}

func newError(k call, meta Response, contentType string, raw []byte, secrets []string) *Error {
	e := &Error{Op: k.what(), StatusCode: meta.StatusCode, Response: meta, RateLimit: meta.RateLimit}
	var body ErrorBody
	if isJSON(contentType) || (contentType == "" && len(raw) > 0 && raw[0] == '{') {
		if err := json.Unmarshal(raw, &body); err == nil && body.ErrorCode != "" {
			body.ErrorSummary = scrub(body.ErrorSummary, secrets)
			for i := range body.ErrorCauses {
				body.ErrorCauses[i].ErrorSummary = scrub(body.ErrorCauses[i].ErrorSummary, secrets)
			}
			e.ErrorBody = body
			return e
		}
	}
	switch {
	case len(raw) == 0:
		e.Detail = "empty body"
	default:
		e.Detail = fmt.Sprintf("%s body, not an Okta error: %q", contentKind(contentType), snippet(scrub(string(raw), secrets)))
	}
	return e
}

// snippet is the start of a body, flattened to one short line.
func snippet(s string) string {
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	if r := []rune(s); len(r) > 120 {
		return string(r[:120]) + "…"
	}
	return s
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "okta: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.ErrorCode == "" {
		b.WriteString(": " + e.Detail)
		return b.String()
	}
	fmt.Fprintf(&b, ": %s %s", e.ErrorCode, e.ErrorSummary)
	if len(e.ErrorCauses) > 0 {
		causes := make([]string, 0, len(e.ErrorCauses))
		for _, c := range e.ErrorCauses {
			causes = append(causes, c.ErrorSummary)
		}
		b.WriteString(" (" + strings.Join(causes, "; ") + ")")
	}
	if e.ErrorID != "" {
		b.WriteString(" [errorId " + e.ErrorID + "]")
	}
	return b.String()
}

// Causes returns the errorCauses' summaries.
func (e *Error) Causes() []string {
	out := make([]string, 0, len(e.ErrorCauses))
	for _, c := range e.ErrorCauses {
		out = append(out, c.ErrorSummary)
	}
	return out
}

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func hasCode(err error, code string) bool {
	e, ok := AsError(err)
	return ok && e.ErrorCode == code
}

// IsDuplicateLogin says Okta refused a user because its login is taken:
// E0000001 with the cause "login: An object with this field already exists
// in the current organization".
func IsDuplicateLogin(err error) bool {
	e, ok := AsError(err)
	if !ok || e.ErrorCode != CodeValidation {
		return false
	}
	for _, c := range e.ErrorCauses {
		s := strings.ToLower(c.ErrorSummary)
		if strings.HasPrefix(s, "login:") && strings.Contains(s, "already exists") {
			return true
		}
	}
	return false
}

// IsValidation says Okta refused the record itself (E0000001 other than a
// duplicate login: a bad profile field, a bad hash …); sending it again
// unchanged will fail again.
func IsValidation(err error) bool {
	return hasCode(err, CodeValidation) && !IsDuplicateLogin(err)
}

// IsRateLimited says the request hit a rate limit or the concurrency limit
// (E0000047, or any 429). IsConcurrencyLimited tells the two apart.
func IsRateLimited(err error) bool {
	e, ok := AsError(err)
	return ok && (e.ErrorCode == CodeRateLimited || e.StatusCode == http.StatusTooManyRequests)
}

// IsConcurrencyLimited says the 429 came from the org's concurrency limit (too
// many requests in flight), which Okta signals with X-Rate-Limit-Limit: 0;
// its Reset is only an estimate. The remedy is fewer workers, not waiting
// for a window.
func IsConcurrencyLimited(err error) bool {
	e, ok := AsError(err)
	return ok && e.StatusCode == http.StatusTooManyRequests && e.RateLimit.Present && e.RateLimit.Limit == 0
}

// IsBadToken says the token is wrong, expired or revoked: E0000011, or a
// 401 without an Okta error document (an OAuth "invalid_token" answer).
func IsBadToken(err error) bool {
	e, ok := AsError(err)
	return ok && (e.ErrorCode == CodeInvalidToken || (e.StatusCode == http.StatusUnauthorized && e.ErrorCode == ""))
}

// IsForbidden says the token's admin lacks the role or scope (E0000006).
func IsForbidden(err error) bool { return hasCode(err, CodeForbidden) }

// IsNotFound says the user, group, schema or hook does not exist (E0000007).
func IsNotFound(err error) bool { return hasCode(err, CodeNotFound) }

// IsTooManyGroups says a create named more than 20 groupIds (E0000093).
func IsTooManyGroups(err error) bool { return hasCode(err, CodeTooManyGroups) }

// IsStillActivating says the user is still being activated (E0000112); try
// again in a few minutes.
func IsStillActivating(err error) bool { return hasCode(err, CodeStillActivating) }

// IsReadOnly says the org is in read-only mode (E0000010); retry later.
func IsReadOnly(err error) bool { return hasCode(err, CodeReadOnly) }

// IsTemporary says the same request may succeed later: a rate or concurrency
// limit, read-only mode, a user still activating, a 5xx or a transport
// failure other than cancellation. For a create after a transport failure,
// look the user up first: Okta may have created it.
func IsTemporary(err error) bool {
	if IsRateLimited(err) || IsReadOnly(err) || IsStillActivating(err) {
		return true
	}
	if e, ok := AsError(err); ok {
		return e.StatusCode >= 500
	}
	var te *TransportError
	return errors.As(err, &te) && !errors.Is(te.Err, context.Canceled)
}
