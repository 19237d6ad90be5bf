package schema

import (
	_ "embed"
	"fmt"
	"math"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // time zone names are checked against the same database on every machine
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Rules a value can break, so that data validation can count issues by kind.
const (
	RuleRequired = "required"
	RuleEncoding = "encoding" // not valid UTF-8
	RuleControl  = "control"  // control characters other than tab and line breaks
	RuleTooShort = "too_short"
	RuleTooLong  = "too_long"
	RuleType     = "type"
	RuleFormat   = "format"
	RulePattern  = "pattern"
	RuleEnum     = "enum"
)

// ValueError is a value Okta would refuse. Message is safe to show and to log:
// it never repeats the value, which may be personal data.
type ValueError struct {
	Attribute string
	Rule      string
	Message   string
}

func (e *ValueError) Error() string { return e.Attribute + ": " + e.Message }

// Checker checks values of one attribute; Compile once, Check many times.
type Checker struct {
	attr    Attribute
	pattern *regexp.Regexp
	enum    map[string]bool
	// loginEmail: login without a pattern must be an email address (Okta's default).
	loginEmail bool
	// formatMemo remembers the verdicts of the costlier format checks (a
	// time-zone lookup reads the zone database) for values that repeat, as
	// countries, locales and time zones do across a million records.
	memoMu     sync.Mutex
	formatMemo map[string]string
}

// maxFormatMemo bounds the remembered verdicts per checker.
const maxFormatMemo = 10_000

// format checks v's format, remembering the verdict for repeated values.
func (c *Checker) format(v string) string {
	switch c.attr.Format {
	case FormatTimezone, FormatLanguageCode, FormatLocale, FormatCountryCode:
	default:
		return checkFormat(c.attr.Format, v)
	}
	c.memoMu.Lock()
	msg, ok := c.formatMemo[v]
	c.memoMu.Unlock()
	if ok {
		return msg
	}
	msg = checkFormat(c.attr.Format, v)
	c.memoMu.Lock()
	if c.formatMemo == nil {
		c.formatMemo = map[string]string{}
	}
	if len(c.formatMemo) < maxFormatMemo {
		c.formatMemo[v] = msg
	}
	c.memoMu.Unlock()
	return msg
}

// Compile prepares the checks of a; it fails when a's pattern or enum cannot
// be used (a custom attribute saved through this package never fails).
func Compile(a Attribute) (*Checker, error) {
	c := &Checker{attr: a}
	switch a.Type {
	case TypeString, TypeBoolean, TypeInteger, TypeNumber, TypeArray:
	default:
		return nil, fmt.Errorf("attribute %s: unknown type %q", a.Name, a.Type)
	}
	if a.Pattern != "" {
		re, err := compileFull(a.Pattern)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", a.Name, err)
		}
		c.pattern = re
	}
	c.loginEmail = a.Base && a.Name == "login" && a.Pattern == ""
	if len(a.Enum) > 0 {
		c.enum = map[string]bool{}
		for _, v := range a.Enum {
			k, ok := enumKey(elementType(a), v)
			if !ok {
				return nil, fmt.Errorf("attribute %s: enum value %q is not of type %s", a.Name, v, elementType(a))
			}
			c.enum[k] = true
		}
	}
	return c, nil
}

// ValidateValue checks one value of a as Okta would (see Checker.Check). It
// compiles a's pattern on every call: use Compile for many values.
func ValidateValue(a Attribute, v string) error {
	c, err := Compile(a)
	if err != nil {
		return err
	}
	return c.Check(v)
}

// Check checks v, the text of one value: the empty string is no value; a
// boolean is true or false; integers and numbers are JSON numbers (integers
// fit Java's 64-bit long); for an array, v is one element. Strings are
// checked for encoding, length in characters (Unicode code points, not
// bytes), format, pattern (matching the whole value) and enumeration. Login
// with no pattern must be an email address, as in Okta's default schema. It
// returns nil or a *ValueError.
func (c *Checker) Check(v string) error {
	a := c.attr
	fail := func(rule, format string, args ...any) error {
		return &ValueError{Attribute: a.Name, Rule: rule, Message: fmt.Sprintf(format, args...)}
	}
	if v == "" {
		if a.Required {
			return fail(RuleRequired, "is required")
		}
		return nil
	}
	if !utf8.ValidString(v) {
		return fail(RuleEncoding, "is not valid UTF-8 text")
	}
	if hasControl(v) {
		return fail(RuleControl, "contains control characters")
	}
	typ := elementType(a)
	switch typ {
	case TypeBoolean:
		if v != "true" && v != "false" {
			return fail(RuleType, "must be true or false")
		}
	case TypeInteger:
		if _, ok := parseInteger(v); !ok {
			return fail(RuleType, "must be a whole number between -9223372036854775808 and 9223372036854775807")
		}
	case TypeNumber:
		if _, ok := parseNumber(v); !ok {
			return fail(RuleType, "must be a number such as 42 or 3.14")
		}
	case TypeString:
		if a.Type == TypeString { // lengths bound a string, not an array's elements
			n := utf8.RuneCountInString(v)
			if a.MinLength != nil && n < *a.MinLength {
				return fail(RuleTooShort, "is too short: at least %d characters, this has %d", *a.MinLength, n)
			}
			if a.MaxLength != nil && n > *a.MaxLength {
				return fail(RuleTooLong, "is too long: at most %d characters, this has %d", *a.MaxLength, n)
			}
		}
		if c.loginEmail {
			if msg := checkEmail(v); msg != "" {
				return fail(RuleFormat, "must be an email address unless a login pattern is set: %s", msg)
			}
		}
		if msg := c.format(v); msg != "" {
			return fail(RuleFormat, "%s", msg)
		}
		if c.pattern != nil && !c.pattern.MatchString(v) {
			return fail(RulePattern, "does not match the pattern %s", a.Pattern)
		}
	}
	if c.enum != nil {
		if k, _ := enumKey(typ, v); !c.enum[k] {
			return fail(RuleEnum, "must be one of: %s", strings.Join(a.Enum, ", "))
		}
	}
	return nil
}

// elementType is the type one value of a has: an array's element type.
func elementType(a Attribute) string {
	if a.Type == TypeArray {
		if a.ItemsType == "" {
			return TypeString
		}
		return a.ItemsType
	}
	return a.Type
}

// enumKey is the form in which enum values of typ compare: numbers by value.
func enumKey(typ, v string) (string, bool) {
	switch typ {
	case TypeInteger:
		n, ok := parseInteger(v)
		return strconv.FormatInt(n, 10), ok
	case TypeNumber:
		f, ok := parseNumber(v)
		return strconv.FormatFloat(f, 'g', -1, 64), ok
	case TypeBoolean:
		return v, v == "true" || v == "false"
	}
	return v, utf8.ValidString(v)
}

var (
	jsonInteger = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)
	jsonNumber  = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
)

func parseInteger(v string) (int64, bool) {
	if !jsonInteger.MatchString(v) {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

func parseNumber(v string) (float64, bool) {
	if !jsonNumber.MatchString(v) {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return true
		}
	}
	return false
}

// checkFormat returns why v does not have format, or "".
func checkFormat(format, v string) string {
	switch format {
	case FormatEmail:
		if msg := checkEmail(v); msg != "" {
			return "must be an email address: " + msg
		}
	case FormatCountryCode:
		return checkCountryCode(v)
	case FormatLocale:
		return checkLocale(v)
	case FormatLanguageCode:
		return checkLanguages(v)
	case FormatTimezone:
		return checkTimezone(v)
	case FormatURI:
		return checkURI(v)
	}
	// ref-id (managerId) holds whatever id the org uses for managers: Okta
	// does not check it against its users, so neither does Ferry.
	return ""
}

// checkEmail checks an RFC 5322 addr-spec (with RFC 6531/6532 UTF-8) the way
// a mail system that must deliver to it would: a bare address (no display
// name, angle brackets, comments or quoted local part), a local part of at
// most 64 bytes (RFC 5321), and a domain that is a valid, fully qualified
// host name (IDNA, at least two labels, no IP literal).
func checkEmail(v string) string {
	if !plainAddress(v) { // the usual address needs no parser (a million of them, some allocations each)
		addr, err := mail.ParseAddress(v)
		if err != nil || addr.Name != "" || addr.Address != v {
			return "use the form name@example.com, with nothing around it"
		}
	}
	at := strings.LastIndexByte(v, '@')
	local, domain := v[:at], v[at+1:]
	if len(local) > 64 {
		return "the part before @ is longer than 64 bytes"
	}
	return domainVerdict(domain)
}

// plainAddress reports whether v is local@domain made of dot-atoms of
// letters, digits and ._%+- only (no dot first, last or doubled in either
// part, the domain without % or +), which mail.ParseAddress always accepts
// as an address equal to v with no name. False says nothing.
func plainAddress(v string) bool {
	at := strings.IndexByte(v, '@')
	if at <= 0 || at == len(v)-1 {
		return false
	}
	return plainDotAtom(v[:at], true) && plainDotAtom(v[at+1:], false)
}

func plainDotAtom(s string, local bool) bool {
	prev := byte('.') // a dot may not come first
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.':
			if prev == '.' {
				return false
			}
		case local && (c == '%' || c == '+'):
		default:
			return false
		}
		prev = c
	}
	return prev != '.'
}

// domainVerdicts remembers checkDomain's verdicts: a million addresses
// share a few domains, and the IDNA conversion is most of an address's
// check. Bounded by maxDomainVerdicts entries.
var (
	domainVerdicts     sync.Map
	domainVerdictCount atomic.Int64
)

const maxDomainVerdicts = 10_000

func domainVerdict(domain string) string {
	if msg, ok := domainVerdicts.Load(domain); ok {
		return msg.(string)
	}
	msg := checkDomain(domain)
	if domainVerdictCount.Load() < maxDomainVerdicts {
		if _, loaded := domainVerdicts.LoadOrStore(strings.Clone(domain), msg); !loaded {
			domainVerdictCount.Add(1)
		}
	}
	return msg
}

// checkDomain returns why an email address's domain is not a host name Okta
// accepts, or "".
func checkDomain(domain string) string {
	if strings.HasPrefix(domain, "[") {
		return "the domain must be a host name, not an IP address"
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "the domain is not a valid host name"
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return "the domain needs a dot, as in example.com"
	}
	if len(ascii) > 253 {
		return "the domain is longer than 253 characters"
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "the domain is not a valid host name"
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "the domain must end in a top-level domain, not a number"
	}
	return ""
}

// countryCodes is ISO 3166-1 alpha-2: the 249 officially assigned codes,
// separated by white space (Kosovo's XK and the reserved UK, EU, etc. are
// not assigned and Okta's Java runtime does not know them either).
//
//go:embed countries.txt
var countryCodes string

// CountryCodes returns the ISO 3166-1 alpha-2 codes, in alphabetical order.
func CountryCodes() []string { return strings.Fields(countryCodes) }

// IsCountryCode reports whether s is an assigned ISO 3166-1 alpha-2 code, in capitals.
func IsCountryCode(s string) bool {
	if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	// Every code is two letters between white space, so any two adjacent
	// letters of the list are a whole code.
	return strings.Contains(countryCodes, s)
}

func checkCountryCode(v string) string {
	if IsCountryCode(v) {
		return ""
	}
	if IsCountryCode(strings.ToUpper(v)) {
		return "must be an ISO 3166-1 alpha-2 country code in capitals, such as " + strings.ToUpper(v)
	}
	return "must be an ISO 3166-1 alpha-2 country code, such as US, DE or FR"
}

var localeShape = regexp.MustCompile(`^[a-z]{2}_[A-Z]{2}$`)

// checkLocale checks Okta's locale: an ISO 639-1 language, an underscore and
// an ISO 3166-1 alpha-2 country (en_US).
func checkLocale(v string) string {
	const want = "must be a locale such as en_US: a two-letter ISO 639-1 language in lower case, an underscore, and a two-letter ISO 3166-1 country in capitals"
	if !localeShape.MatchString(v) {
		return want
	}
	lang, country := v[:2], v[3:]
	if b, err := language.ParseBase(lang); err != nil || b.String() != lang {
		return want + "; " + lang + " is not an ISO 639-1 language"
	}
	if !IsCountryCode(country) {
		return want + "; " + country + " is not an ISO 3166-1 country"
	}
	return ""
}

var (
	tagShape = regexp.MustCompile(`^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`)
	qValue   = regexp.MustCompile(`^[qQ]=(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$`)
)

// checkLanguages checks preferredLanguage: the value of an Accept-Language
// header (RFC 7231 §5.3.5), that is one BCP 47 language tag (en-US) or a
// comma-separated list of them with optional weights (de-CH, de;q=0.9, *;q=0.1).
// Every tag must be well-formed and known to the IANA registry; an underscore
// (en_US, Java's and Okta's locale style) is refused.
func checkLanguages(v string) string {
	const want = "must be a language tag such as en-US, or a list such as de-CH, de;q=0.9"
	for _, item := range strings.Split(v, ",") {
		rng, params, _ := strings.Cut(item, ";")
		rng = strings.Trim(rng, " \t")
		if rng == "" {
			return want
		}
		if params != "" || strings.Contains(item, ";") {
			if !qValue.MatchString(strings.Trim(params, " \t")) {
				return want + "; a weight is written q= and a number from 0 to 1 with at most three decimals"
			}
		}
		if rng == "*" {
			continue
		}
		if strings.Contains(rng, "_") {
			return want + "; use a hyphen, not an underscore"
		}
		if !tagShape.MatchString(rng) {
			return want
		}
		if _, err := language.Parse(rng); err != nil {
			return want + "; " + rng + " is not a known language tag"
		}
	}
	return ""
}

var zoneShape = regexp.MustCompile(`^[A-Z][A-Za-z0-9_+-]*(/[A-Z][A-Za-z0-9_+-]*)*$`)

// checkTimezone checks an IANA time zone name (Europe/Berlin, UTC). Names are
// checked against Go's embedded copy of the database when the system has
// none; the shape check keeps system-only files (posixrules, right/…) out.
func checkTimezone(v string) string {
	const want = "must be an IANA time zone name such as Europe/Berlin or America/New_York"
	if len(v) > 64 || !zoneShape.MatchString(v) || v == "Local" || v == "Factory" {
		return want
	}
	if _, err := time.LoadLocation(v); err != nil {
		return want
	}
	return ""
}

var uriScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// checkURI checks an absolute URI (RFC 3986): a scheme, and for http and
// https a host; no white space.
func checkURI(v string) string {
	const want = "must be a full address with a scheme, such as https://example.com/people/lea"
	if strings.IndexFunc(v, unicode.IsSpace) >= 0 {
		return want + "; spaces are not allowed (write %20)"
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || !uriScheme.MatchString(u.Scheme) {
		return want
	}
	if s := strings.ToLower(u.Scheme); (s == "http" || s == "https") && (u.Host == "" || u.Opaque != "" || u.Hostname() == "") {
		return want
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// LoginKey is the form of a login that Okta's uniqueness compares: case and
// diacritics ignored, so that Isaac.Brock@example.com and
// isáac.bröck@example.com collide. It decomposes (NFD), drops combining marks,
// applies Unicode case folding (ß folds to ss) and recomposes (NFC). Letters
// that are not a base letter plus a mark (ø, ł, æ) stay as they are.
func LoginKey(s string) string {
	if isASCII(s) {
		// Nothing to decompose, and ASCII folds to lower case: the common
		// case, a hundred times cheaper than the Unicode chain.
		return strings.ToLower(s)
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), cases.Fold(), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return strings.ToLower(s)
	}
	return out
}
