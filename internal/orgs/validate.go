package orgs

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// validate checks in field by field and returns the normalised URL, the
// scheme and the token to save (nil: keep the saved one). tokenRequired is
// set when there is no saved token to keep. The messages never quote the
// token.
func validate(in Input, tokenRequired bool) (orgURL, scheme string, token *string, err error) {
	c := apperr.NewCheck()
	orgURL = checkOrgURL(c, "url", in.OrgURL)
	scheme = strings.TrimSpace(in.AuthScheme)
	c.OneOf("auth_scheme", "Authentication", scheme, plan.Values(AuthSchemes()), false)
	switch {
	case in.Token != nil:
		t := strings.TrimSpace(*in.Token) // a pasted token often brings a line break
		checkToken(c, "token", t, scheme)
		token = &t
	case tokenRequired:
		c.Add("token", "Enter the token Ferry uses to reach this org.")
	}
	return orgURL, scheme, token, c.Err()
}

// checkOrgURL checks an Okta org URL and returns it normalised: scheme and
// host in lower case, no trailing slash. https:// is required, except for
// the loopback addresses where Ferry's sandbox runs (`ferry sandbox`). The
// org URL is the address and nothing else: no path, query, fragment, user
// name or password.
func checkOrgURL(c *apperr.Check, field, raw string) string {
	value := strings.TrimSpace(raw)
	const label = "Okta org URL"
	c.Text(field, label, value, true, apperr.MaxShortLen)
	if !c.OK() {
		return value
	}
	const example = " For example https://acme.okta.com."
	if strings.ContainsAny(value, " \t\r\n\\") {
		c.Add(field, label+" must not contain spaces, line breaks or backslashes."+example)
		return value
	}
	u, err := url.Parse(value)
	if err != nil || u.Opaque != "" || !strings.Contains(value, "://") {
		c.Add(field, label+" must be a full web address starting with https://."+example)
		return value
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		c.Add(field, label+" must start with https://."+example)
	case u.User != nil:
		c.Add(field, label+" must not contain a user name or password: the token is entered on its own."+example)
	case host == "":
		c.Add(field, label+" has no host name."+example)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.ForceQuery, u.Fragment != "", strings.Contains(value, "#"):
		c.Add(field, label+" is the org's address only, without a path, ? or #."+example)
	case !validHost(host):
		c.Add(field, label+" has a host name that is not valid: use letters, digits, dots and hyphens (an internationalised name in its xn-- form)."+example)
	case strings.Contains(host, "-admin."):
		c.Add(field, fmt.Sprintf("This is the Admin Console's address. Use the org URL, without -admin: %s://%s.",
			u.Scheme, strings.Replace(host, "-admin.", ".", 1)))
	case u.Scheme == "http" && !isLoopback(host):
		c.Add(field, label+" must start with https://: plain http:// is only for Ferry's sandbox on this machine (localhost or 127.0.0.1).")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			c.Add(field, label+" has a port that is not between 1 and 65535.")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		c.Add(field, label+" has an empty port.")
	}
	if !c.OK() {
		return value
	}
	hostPort := host
	if strings.Contains(host, ":") { // an IPv6 literal
		hostPort = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		hostPort += ":" + p
	}
	return u.Scheme + "://" + hostPort
}

// validHost accepts a DNS name of ASCII labels, or an IP address.
func validHost(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	if len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// isLoopback reports whether host names this machine: where `ferry
// sandbox` listens.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkToken checks a token: printable ASCII without spaces (more exactly,
// the characters of a bearer token), of a plausible length for its scheme.
func checkToken(c *apperr.Check, field, token, scheme string) {
	max := MaxTokenLen
	if scheme == SchemeBearer {
		max = MaxBearerTokenLen
	}
	switch {
	case token == "":
		c.Add(field, "The token must not be empty: leave the field out to keep the saved token.")
	case !tokenChars(token):
		c.Add(field, "The token may hold only letters, digits and - . _ ~ + / = (no spaces, no other characters), as Okta issues them: copy it again from Okta.")
	case len(token) < MinTokenLen:
		c.Add(field, fmt.Sprintf("The token is too short to be an Okta token: at least %d characters, this has %d.", MinTokenLen, len(token)))
	case len(token) > max:
		c.Add(field, fmt.Sprintf("The token is too long: at most %d characters, this has %d.", max, len(token)))
	}
}

// tokenChars accepts the characters of an HTTP bearer token (RFC 6750's
// b64token), which Okta's API tokens and access tokens (JWTs) are made of: a
// subset of printable ASCII without spaces, quotes or markup.
func tokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("-._~+/=", b) >= 0) {
			return false
		}
	}
	return true
}
