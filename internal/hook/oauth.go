package hook

// OAuth 2.0 authentication of Okta's calls. With channel.type OAUTH, Okta
// acts as an OAuth client: it gets an access token from the token URL
// registered with the hook (client credentials; client_secret_post or
// private_key_jwt) and sends it as "Authorization: Bearer <JWT>". Ferry is
// the resource server: it checks the token's signature with the issuer's
// published keys (JWKS) and its claims (iss, aud, exp/nbf/iat, cid, scp).

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
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
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// How Okta authenticates its calls (password_hooks.auth_type).
const (
	// AuthHeader: a shared secret in a header (channel HTTP, authScheme HEADER).
	AuthHeader = "header"
	// AuthOAuth: an OAuth 2.0 access token (channel OAUTH).
	AuthOAuth = "oauth"
)

// Limits of OAuth verification.
const (
	// MaxTokenBytes bounds an access token; Okta's are about 1 KiB.
	MaxTokenBytes = 8 << 10
	// TokenLeeway is the clock skew allowed on exp, nbf and iat.
	TokenLeeway = 60 * time.Second
	// keyRefetchInterval: a token signed by an unknown key makes Ferry
	// fetch the key set again at most this often, so that forged tokens
	// with random key ids cannot turn Ferry against the issuer.
	keyRefetchInterval = time.Minute
	// keyRetryInterval: after a failed fetch, the next try waits this long.
	keyRetryInterval = 5 * time.Second
	// keyMaxAge: keys are fetched again after this long, so that a key the
	// issuer withdrew stops being trusted.
	keyMaxAge = time.Hour
	// maxKeyDocBytes bounds a metadata or key set document.
	maxKeyDocBytes = 256 << 10
	maxKeys        = 100
	minRSABits     = 2048
	maxOAuthURLLen = 1024
	maxOAuthIDLen  = 256
)

// allowedAlgs are the signature algorithms Ferry accepts: asymmetric only,
// so that neither "none" nor an HMAC keyed with a public key can pass.
var allowedAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384}

// OAuthSettings are the checks of an OAuth hook's access tokens.
type OAuthSettings struct {
	// Issuer is the authorization server (the tokens' iss), for instance
	// https://acme.okta.com/oauth2/default. Required.
	Issuer string
	// Audience must be among the tokens' aud (api://default on Okta's
	// default authorization server). Required.
	Audience string
	// JWKSURL is where the issuer publishes its keys; empty: discovered
	// from the issuer's metadata.
	JWKSURL string
	// ClientID, when set, must be the tokens' cid (or client_id): the
	// client Okta's hook authenticates as.
	ClientID string
	// Scope, when set, must be among the tokens' scp (or scope).
	Scope string
}

// errKeysUnavailable: Ferry cannot get the issuer's keys, so it cannot
// check the token. Not the caller's fault: 503, not 401.
var errKeysUnavailable = errors.New("the OAuth issuer's keys cannot be fetched")

// tokenRefusal is a token Ferry checked and refused. The reason is safe to
// log and audit: it never quotes the token or its claims.
type tokenRefusal struct{ reason string }

func (r *tokenRefusal) Error() string { return r.reason }

func refuse(reason string) error { return &tokenRefusal{reason: reason} }

// oauthVerifier checks access tokens, with one key cache per hook.
type oauthVerifier struct {
	client *http.Client
	now    func() time.Time
	log    *slog.Logger
	mu     sync.Mutex
	caches map[int64]*keyCache
}

// keyCache is one hook's view of its issuer's keys.
type keyCache struct {
	// source is the issuer and JWKS URL the keys were fetched for; new
	// settings start a new cache.
	source string
	// mu serialises fetches: concurrent requests wait for one fetch.
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	jwksURL string    // the URL the keys came from (configured or discovered)
	fetched time.Time // last successful fetch; zero: never
	tried   time.Time // last fetch attempt
	failed  bool      // the last attempt failed
}

func newOAuthVerifier(client *http.Client, now func() time.Time, log *slog.Logger) *oauthVerifier {
	if client == nil {
		client = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if !allowedKeyURL(req.URL) {
				return errors.New("redirected to a URL that is not https")
			}
			return nil
		}}
	}
	return &oauthVerifier{client: client, now: now, log: log, caches: map[int64]*keyCache{}}
}

// keyFetchTimeout is how long fetching keys may take for a hook whose
// budget is budget: what Okta's 3 s leave after the budget and the
// attempt's record, between 100 and 500 ms. A fetch happens on the first
// call, on a key rotation and hourly, not on every call.
func keyFetchTimeout(budget time.Duration) time.Duration {
	return min(max(3*time.Second-300*time.Millisecond-budget, 100*time.Millisecond), 500*time.Millisecond)
}

// verify checks the request's bearer token against the hook's settings. It
// returns nil, a *tokenRefusal, or an error wrapping errKeysUnavailable.
func (v *oauthVerifier) verify(ctx context.Context, c *Config, header http.Header, fetchTimeout time.Duration) error {
	if c.OAuthIssuer == "" || c.OAuthAudience == "" {
		return refuse("the hook's OAuth settings are incomplete")
	}
	values := header.Values("Authorization")
	switch {
	case len(values) == 0:
		return refuse("no Authorization header")
	case len(values) > 1:
		return refuse("more than one Authorization header")
	}
	scheme, token, ok := strings.Cut(values[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return refuse("the Authorization header is not a Bearer token")
	}
	switch {
	case token == "" || strings.ContainsAny(token, " \t"):
		return refuse("malformed bearer token")
	case len(token) > MaxTokenBytes:
		return refuse("bearer token larger than 8 KiB")
	}
	tok, err := jwt.ParseSigned(token, allowedAlgs)
	if err != nil {
		return refuse("not a signed JWT with an allowed algorithm (RS256, RS384, RS512, ES256, ES384)")
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return refuse("the token names no signing key (kid)")
	}
	h := tok.Headers[0]
	key, err := v.key(ctx, c, h.KeyID, fetchTimeout)
	if err != nil {
		return err
	}
	if key.Algorithm != "" && key.Algorithm != h.Algorithm {
		return refuse("the token's algorithm is not its key's")
	}
	var std jwt.Claims
	var okta oktaClaims
	if err := tok.Claims(key.Key, &std, &okta); err != nil {
		return refuse("the signature does not verify")
	}
	if std.Expiry == nil {
		return refuse("the token has no expiry (exp)")
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: c.OAuthIssuer, AnyAudience: jwt.Audience{c.OAuthAudience}, Time: v.now()}, TokenLeeway)
	switch {
	case errors.Is(err, jwt.ErrExpired):
		return refuse("the token has expired")
	case errors.Is(err, jwt.ErrNotValidYet):
		return refuse("the token is not valid yet (nbf)")
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return refuse("the token is issued in the future (iat)")
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return refuse("wrong issuer (iss)")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return refuse("wrong audience (aud)")
	case err != nil:
		return refuse("the token's claims are not valid")
	}
	if c.OAuthClientID != "" {
		if okta.Cid == "" && okta.ClientID == "" {
			return refuse("the token names no client (cid)")
		}
		if (okta.Cid != "" && okta.Cid != c.OAuthClientID) || (okta.ClientID != "" && okta.ClientID != c.OAuthClientID) {
			return refuse("wrong client (cid)")
		}
	}
	if c.OAuthScope != "" && !slices.Contains(okta.scopes(), c.OAuthScope) {
		return refuse("the token lacks the scope " + strconv.Quote(c.OAuthScope))
	}
	return nil
}

// oktaClaims are the claims of Okta's access tokens beyond RFC 7519's:
// cid is the client id, scp the granted scopes (an array). client_id and
// scope (a space-separated string) are RFC 9068's names for the same.
type oktaClaims struct {
	Cid      string          `json:"cid"`
	ClientID string          `json:"client_id"`
	Scp      json.RawMessage `json:"scp"`
	Scope    string          `json:"scope"`
}

func (o oktaClaims) scopes() []string {
	var out []string
	if len(o.Scp) > 0 {
		var list []string
		var one string
		if json.Unmarshal(o.Scp, &list) == nil {
			out = append(out, list...)
		} else if json.Unmarshal(o.Scp, &one) == nil {
			out = append(out, strings.Fields(one)...)
		}
	}
	return append(out, strings.Fields(o.Scope)...)
}

// key returns the issuer's key kid, fetching the key set when it is not
// cached (at most once a minute), when the cache is an hour old, or when
// nothing was ever fetched.
func (v *oauthVerifier) key(ctx context.Context, c *Config, kid string, timeout time.Duration) (*jose.JSONWebKey, error) {
	kc := v.cache(c)
	kc.mu.Lock()
	defer kc.mu.Unlock()
	now := v.now()
	k := findKey(kc.keys, kid)
	stale := !kc.fetched.IsZero() && now.Sub(kc.fetched) >= keyMaxAge
	if k != nil && !stale {
		return k, nil
	}
	wait := keyRefetchInterval
	if kc.failed {
		wait = keyRetryInterval
	}
	if kc.tried.IsZero() || now.Sub(kc.tried) >= wait || now.Before(kc.tried) {
		kc.tried = now
		keys, from, err := v.fetch(ctx, c, kc.jwksURL, timeout)
		if err == nil {
			kc.keys, kc.jwksURL, kc.fetched, kc.failed = keys, from, now, false
			if k = findKey(keys, kid); k != nil {
				return k, nil
			}
			return nil, refuse("the token is signed by a key the issuer does not publish")
		}
		kc.failed = true
		if c.OAuthJWKSURL == "" {
			kc.jwksURL = "" // discover again next time
		}
		v.log.WarnContext(ctx, "password import hook: cannot fetch the OAuth issuer's keys", slog.Int64("hook", c.ID), slog.String("error", err.Error()))
		if k != nil {
			return k, nil // the issuer is out of reach: keep trusting the keys it published
		}
		return nil, fmt.Errorf("%w: %v", errKeysUnavailable, err)
	}
	switch {
	case k != nil:
		return k, nil
	case kc.failed || kc.fetched.IsZero():
		return nil, errKeysUnavailable
	}
	return nil, refuse("the token is signed by a key the issuer does not publish")
}

// cache is the hook's key cache, a new one when its settings changed.
func (v *oauthVerifier) cache(c *Config) *keyCache {
	source := c.OAuthIssuer + "\n" + c.OAuthJWKSURL
	v.mu.Lock()
	defer v.mu.Unlock()
	kc := v.caches[c.ID]
	if kc == nil || kc.source != source {
		kc = &keyCache{source: source}
		v.caches[c.ID] = kc
	}
	return kc
}

func findKey(keys []jose.JSONWebKey, kid string) *jose.JSONWebKey {
	for i := range keys {
		if keys[i].KeyID == kid {
			return &keys[i]
		}
	}
	return nil
}

// fetch gets the key set: from the configured URL, the one discovered
// before, or one discovered now from the issuer's metadata.
func (v *oauthVerifier) fetch(ctx context.Context, c *Config, known string, timeout time.Duration) ([]jose.JSONWebKey, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	from := c.OAuthJWKSURL
	if from == "" {
		from = known
	}
	if from == "" {
		var err error
		if from, err = v.discover(ctx, c.OAuthIssuer); err != nil {
			return nil, "", err
		}
	}
	body, err := v.get(ctx, from)
	if err != nil {
		return nil, "", err
	}
	keys, err := parseKeySet(body)
	if err != nil {
		return nil, "", fmt.Errorf("key set at %s: %w", from, err)
	}
	return keys, from, nil
}

// discover reads the issuer's metadata (RFC 8414, then OpenID Connect
// Discovery) for its jwks_uri. The metadata must name the same issuer.
func (v *oauthVerifier) discover(ctx context.Context, issuer string) (string, error) {
	var errs []error
	for _, doc := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		body, err := v.get(ctx, issuer+doc)
		if err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		var md struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &md); err != nil {
			errs = append(errs, fmt.Errorf("%s%s: not JSON metadata", issuer, doc))
			continue
		}
		if md.Issuer != issuer {
			errs = append(errs, fmt.Errorf("%s%s names another issuer", issuer, doc))
			continue
		}
		u, err := url.Parse(md.JWKSURI)
		if err != nil || !allowedKeyURL(u) {
			errs = append(errs, fmt.Errorf("%s%s: jwks_uri is not an https URL", issuer, doc))
			continue
		}
		return md.JWKSURI, nil
	}
	return "", fmt.Errorf("discovering the key set: %w", errors.Join(errs...))
}

// get reads a small JSON document.
func (v *oauthVerifier) get(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || !allowedKeyURL(u) {
		return nil, fmt.Errorf("%q is not an https URL", raw)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", raw, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxKeyDocBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", raw, err)
	}
	if len(body) > maxKeyDocBytes {
		return nil, fmt.Errorf("GET %s: larger than %d KiB", raw, maxKeyDocBytes>>10)
	}
	return body, nil
}

// parseKeySet keeps the set's usable signing keys (public RSA of 2048 bits
// or more, or EC), skipping the others rather than failing on one key of a
// kind Ferry does not use.
func parseKeySet(body []byte) ([]jose.JSONWebKey, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New("not a JSON key set")
	}
	var keys []jose.JSONWebKey
	for _, raw := range doc.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || k.KeyID == "" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub := k.Public() // a set that leaks private parts is still only used to verify
		if !pub.Valid() {
			continue
		}
		switch key := pub.Key.(type) {
		case *rsa.PublicKey:
			if key.N.BitLen() < minRSABits {
				continue
			}
		case *ecdsa.PublicKey:
		default:
			continue
		}
		keys = append(keys, pub)
		if len(keys) == maxKeys {
			break
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable signing key")
	}
	return keys, nil
}

// allowedKeyURL: https, or http on this machine (the sandbox, tests).
func allowedKeyURL(u *url.URL) bool {
	if u == nil || u.Host == "" || u.User != nil {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && loopbackHost(u.Hostname()))
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validOAuthURL checks an issuer or key set URL as entered.
func validOAuthURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && len(raw) <= maxOAuthURLLen && allowedKeyURL(u) && u.RawQuery == "" && u.Fragment == "" &&
		!strings.ContainsAny(raw, " \t\r\n")
}

// validate adds the settings' problems to fields.
func (o *OAuthSettings) validate(fields map[string]string) {
	if o.Issuer != "" && !validOAuthURL(o.Issuer) {
		fields["oauth_issuer"] = "The issuer is the authorization server's https:// URL without query (for instance https://acme.okta.com/oauth2/default); http:// only on this machine (the sandbox)."
	}
	if len(o.Audience) > maxOAuthURLLen || !printableASCII(o.Audience) || strings.TrimSpace(o.Audience) != o.Audience {
		fields["oauth_audience"] = "The audience is printable text without spaces around it, up to 1024 characters (api://default on Okta's default authorization server)."
	}
	if o.JWKSURL != "" && !validOAuthURL(o.JWKSURL) {
		fields["oauth_jwks_url"] = "The key set URL is https:// (http:// only on this machine), or empty to discover it from the issuer."
	}
	if len(o.ClientID) > maxOAuthIDLen || !printableASCII(o.ClientID) || strings.Contains(o.ClientID, " ") {
		fields["oauth_client_id"] = "A client id is printable characters without spaces, up to 256."
	}
	if len(o.Scope) > maxOAuthIDLen || !printableASCII(o.Scope) || strings.Contains(o.Scope, " ") {
		fields["oauth_scope"] = "One scope without spaces (for instance okta.hooks.passwordImport), or empty."
	}
}
