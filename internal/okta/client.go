package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds one request (sending it and reading the whole answer)
// when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// maxBody caps how much of an answer the client reads: a page of 200 users is
// well under it, and a misbehaving proxy cannot make the client buffer without
// end.
const maxBody = 64 << 20

// Config is what a Client needs. Its fmt and slog forms never show the token.
type Config struct {
	// OrgURL is the org's base URL, e.g. https://acme.okta.com. It must be
	// https, except http on a loopback host (Ferry's sandbox); no path, query
	// or credentials. Trailing slashes are dropped.
	OrgURL string
	// APIToken is an SSWS API token (Authorization: SSWS …). Set it or
	// AccessToken, not both.
	APIToken string
	// AccessToken is an OAuth 2.0 access token for a service app
	// (Authorization: Bearer …), with the scopes docs/okta.md lists.
	AccessToken string
	// Version goes into User-Agent: ferry/<Version>. Default "dev".
	Version string
	// Timeout bounds each request; DefaultTimeout when zero.
	Timeout time.Duration
	// HTTPClient is used when set (its Timeout and transport); the client
	// never follows redirects whatever its CheckRedirect says.
	HTTPClient *http.Client
}

// Format prints the configuration with the tokens hidden, for every verb.
func (c Config) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{OrgURL:%s Auth:%s Version:%s Timeout:%s}", c.OrgURL, c.authKind(), c.Version, c.Timeout)
}

// LogValue keeps the tokens out of slog.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("org_url", c.OrgURL), slog.String("auth", c.authKind()),
		slog.String("version", c.Version), slog.Duration("timeout", c.Timeout))
}

func (c Config) authKind() string {
	switch {
	case c.APIToken != "" && c.AccessToken != "":
		return "SSWS+Bearer " + redacted
	case c.APIToken != "":
		return "SSWS " + redacted
	case c.AccessToken != "":
		return "Bearer " + redacted
	}
	return "none"
}

// Client calls one Okta org's management API. It is safe for concurrent use.
// It does not pace, retry or log: every answer's rate-limit headers come back
// in a Response (or in an *Error) for the caller to act on.
type Client struct {
	base *url.URL
	// The token is kept inside closures: fmt prints a func as an address,
	// so even a Client copied by value and dumped with %#v shows no token.
	authScheme string
	auth       func() string // the whole Authorization header value
	token      func() string
	userAgent  string
	timeout    time.Duration
	http       *http.Client
}

// New validates cfg and returns a client for its org.
func New(cfg Config) (*Client, error) {
	base, err := ParseOrgURL(cfg.OrgURL)
	if err != nil {
		return nil, err
	}
	c := &Client{base: base, timeout: cfg.Timeout}
	switch {
	case cfg.APIToken != "" && cfg.AccessToken != "":
		return nil, errors.New("okta: set either an API token (SSWS) or an OAuth access token, not both")
	case cfg.APIToken != "":
		c.authScheme = "SSWS"
		c.token = func() string { return cfg.APIToken }
	case cfg.AccessToken != "":
		c.authScheme = "Bearer"
		c.token = func() string { return cfg.AccessToken }
	default:
		return nil, errors.New("okta: no credentials: set an API token (SSWS) or an OAuth access token")
	}
	c.auth = func() string { return c.authScheme + " " + c.token() }
	if strings.ContainsFunc(c.token(), func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("okta: the token contains spaces or control characters (pasted with a newline?)")
	}
	if c.timeout < 0 {
		return nil, fmt.Errorf("okta: negative timeout %s", c.timeout)
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	c.userAgent = "ferry/" + version
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	// A copy, so that the caller's client keeps its own redirect policy: an
	// Okta API never redirects, and following one could send the token to
	// another host.
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &cp
	return c, nil
}

// OrgURL is the normalised org URL, without a trailing slash.
func (c *Client) OrgURL() string { return c.base.String() }

// Format prints the org and the kind of auth, never the token.
func (c *Client) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "okta.Client{OrgURL:%s Auth:%s %s}", c.base, c.authScheme, redacted)
}

// LogValue keeps the token out of slog.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("org_url", c.base.String()), slog.String("auth", c.authScheme))
}

// ParseOrgURL validates and normalises an org URL: https://host[:port], or
// http:// on a loopback host for Ferry's sandbox.
func ParseOrgURL(raw string) (*url.URL, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, errors.New("okta: the org URL is empty (want e.g. https://acme.okta.com)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("okta: org URL %q is not a URL: %v", raw, err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("okta: org URL %q needs a scheme and a host (e.g. https://acme.okta.com)", raw)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("okta: org URL %q must use https (http is allowed only on localhost, for the sandbox)", raw)
		}
	default:
		return nil, fmt.Errorf("okta: org URL %q: scheme %q is not https", raw, u.Scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("okta: the org URL must not carry credentials; put the token in the token setting")
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("okta: org URL %q must be only the org's address, e.g. %s://%s (no path like /admin)", raw, u.Scheme, u.Host)
	}
	if strings.HasSuffix(u.Hostname(), "-admin.okta.com") || strings.HasSuffix(u.Hostname(), "-admin.oktapreview.com") {
		return nil, fmt.Errorf("okta: %q is the Admin Console's address; use the org URL without -admin", u.Host)
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host)}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RateLimit is what one answer said about the org's rate limits (NOTES §3).
type RateLimit struct {
	// Present says X-Rate-Limit-Limit was sent and parsed; the other
	// counters mean nothing without it.
	Present bool
	// Limit is the ceiling of the endpoint's bucket for the current window;
	// 0 on a 429 means the concurrency limit, not the rate limit.
	Limit int
	// Remaining is the number of requests left in the current window.
	Remaining int
	// Reset is when the window resets (X-Rate-Limit-Reset, epoch seconds).
	Reset time.Time
	// Date is the server's clock (Date header); compare Reset with it, not
	// with the local clock.
	Date time.Time
}

// ResetIn is how long until the window resets by the server's clock
// (Reset − Date), or 0 when either is missing or already past. Okta's SDK
// waits ResetIn + 1 s after a 429.
func (r RateLimit) ResetIn() time.Duration {
	if r.Reset.IsZero() || r.Date.IsZero() || !r.Reset.After(r.Date) {
		return 0
	}
	return r.Reset.Sub(r.Date)
}

// Response is what the client read from an answer besides its body.
type Response struct {
	StatusCode int
	RateLimit  RateLimit
	// RequestID is X-Okta-Request-Id, to quote to Okta Support.
	RequestID string
	// Sandbox is set when the answer came from Ferry's sandbox.
	Sandbox bool
}

func readResponse(h http.Header, status int) Response {
	r := Response{StatusCode: status, RequestID: h.Get(HeaderRequestID), Sandbox: h.Get(HeaderFerrySandbox) != ""}
	if v, err := strconv.Atoi(strings.TrimSpace(h.Get(HeaderRateLimitLimit))); err == nil {
		r.RateLimit.Present = true
		r.RateLimit.Limit = v
	}
	if v, err := strconv.Atoi(strings.TrimSpace(h.Get(HeaderRateLimitRemaining))); err == nil {
		r.RateLimit.Remaining = v
	}
	if v, err := strconv.ParseInt(strings.TrimSpace(h.Get(HeaderRateLimitReset)), 10, 64); err == nil && v > 0 {
		r.RateLimit.Reset = time.Unix(v, 0).UTC()
	}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		r.RateLimit.Date = d.UTC()
	}
	return r
}

// call is one API request. op is the spec's operationId and tmpl the spec's
// path template: error messages quote those, never the actual path or
// query, which can hold a login or a search term (PII).
type call struct {
	op, method, tmpl string
	path             string // the escaped path; or
	next             string // an absolute URL from a Link header
	query            url.Values
	body             any
	secrets          []string // request-specific secrets to scrub (password hash …)
}

// do sends c and decodes a 2xx answer into out (nil: ignore the body).
func (c *Client) do(ctx context.Context, k call, out any) (Response, http.Header, error) {
	target, err := url.Parse(c.base.String() + k.path)
	if err != nil {
		return Response{}, nil, fmt.Errorf("okta: %s: bad path: %v", k.what(), err)
	}
	if k.next != "" {
		u, err := c.checkNext(k.next)
		if err != nil {
			return Response{}, nil, err
		}
		target = u
	} else if len(k.query) > 0 {
		target.RawQuery = k.query.Encode()
	}
	secrets := append(slices.Clone(k.secrets), c.token())
	var body io.Reader
	if k.body != nil {
		b, err := json.Marshal(k.body)
		if err != nil {
			return Response{}, nil, fmt.Errorf("okta: %s: encode request: %w", k.what(), err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, k.method, target.String(), body)
	if err != nil {
		return Response{}, nil, fmt.Errorf("okta: %s: %v", k.what(), scrub(err.Error(), secrets))
	}
	req.Header.Set("Authorization", c.auth())
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if k.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return Response{}, nil, c.transportError(ctx, k, err, secrets)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	meta := readResponse(res.Header, res.StatusCode)
	if err != nil {
		return meta, res.Header, c.transportError(ctx, k, err, secrets)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return meta, res.Header, newError(k, meta, res.Header.Get("Content-Type"), raw, secrets)
	}
	if out != nil && res.StatusCode != http.StatusNoContent {
		if !isJSON(res.Header.Get("Content-Type")) {
			return meta, res.Header, fmt.Errorf("okta: %s: %d answer is %s, not JSON", k.what(), res.StatusCode, contentKind(res.Header.Get("Content-Type")))
		}
		if err := json.Unmarshal(raw, out); err != nil {
			return meta, res.Header, fmt.Errorf("okta: %s: decode %d answer: %v", k.what(), res.StatusCode, scrub(err.Error(), secrets))
		}
	}
	return meta, res.Header, nil
}

func (k call) what() string { return k.op + " (" + k.method + " " + k.tmpl + ")" }

// transportError explains a request that got no complete answer, keeping
// ctx's errors reachable through errors.Is and the URL (PII) out.
func (c *Client) transportError(ctx context.Context, k call, err error, secrets []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return &TransportError{Op: k.what(), Msg: fmt.Sprintf("no answer within the timeout (%s)", c.timeout), Err: context.DeadlineExceeded}
	}
	if errors.Is(err, context.Canceled) {
		return &TransportError{Op: k.what(), Msg: "cancelled", Err: context.Canceled}
	}
	return &TransportError{Op: k.what(), Msg: scrub(err.Error(), secrets), Err: err}
}

// TransportError is a request that got no complete answer: timeout,
// cancellation, connection refused or dropped. errors.Is(err,
// context.DeadlineExceeded) and context.Canceled work through it. Whether Okta
// acted on the request is unknown: look the object up before retrying a
// create.
type TransportError struct {
	Op  string
	Msg string
	Err error
}

func (e *TransportError) Error() string { return "okta: " + e.Op + ": " + e.Msg }

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// Timeout says the request hit the client's timeout.
func (e *TransportError) Timeout() bool { return errors.Is(e.Err, context.DeadlineExceeded) }

// checkNext accepts a pagination link only on the configured org: a Link
// header pointing elsewhere would make the client send the token there.
func (c *Client) checkNext(next string) (*url.URL, error) {
	u, err := url.Parse(next)
	if err != nil {
		return nil, fmt.Errorf("okta: next-page link is not a URL: %v", err)
	}
	u = c.base.ResolveReference(u)
	if !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) {
		return nil, fmt.Errorf("okta: refusing next-page link to %s://%s: it is not the configured org %s", u.Scheme, u.Host, c.base)
	}
	if u.User != nil || !strings.HasPrefix(u.Path, "/api/v1/") {
		return nil, fmt.Errorf("okta: refusing next-page link outside %s/api/v1/", c.base)
	}
	u.Fragment = ""
	return u, nil
}

func isJSON(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0]))
	return ct == "application/json" || strings.HasSuffix(ct, "+json")
}

func contentKind(contentType string) string {
	ct := strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0])
	if ct == "" {
		return "without a Content-Type"
	}
	return ct
}

// scrub removes every secret from s.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, redacted)
		}
	}
	return s
}

func boolString(b bool) string { return strconv.FormatBool(b) }
