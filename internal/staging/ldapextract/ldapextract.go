// Package ldapextract pulls users from a live LDAP or Active Directory server
// as an extract: one record per entry, read page by page with the paged
// results control (RFC 2696), so that only one page of entries is ever in
// memory, whatever the size of the directory.
//
// A record holds the entry's attributes under the names the server gives
// them, plus "dn". Values that are not text are base64-encoded under the
// attribute's name with a ";binary" suffix ("objectGUID;binary",
// "jpegPhoto;binary"): the attributes known to be binary always (so that an
// objectGUID whose 16 bytes happen to be valid UTF-8 does not change column),
// any other attribute when one of its values in that entry is not valid
// UTF-8. objectGUID and objectSid are kept rather than dropped because they
// are the stable keys of Active Directory users.
//
// Every failure that refuses the pull (cannot connect, TLS, bind refused,
// base DN not found, a size limit, a lost connection) is an *extract.Error
// whose message says what to check; none ever contains the bind password.
package ldapextract

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// Defaults for a Config's zero fields.
const (
	DefaultFilter   = "(objectClass=person)"
	DefaultPageSize = 500
	DefaultTimeout  = 30 * time.Second
)

// Config says where to pull users from. Validate reports what is wrong with
// it, field by field.
type Config struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection to TLS before binding.
	StartTLS bool
	// InsecureSkipVerify accepts any server certificate. For tests and labs
	// only: it lets anyone on the path read the bind password.
	InsecureSkipVerify bool
	// CACertPEM, when set, is the only CA trusted for the server's
	// certificate (PEM, one or more certificates); otherwise the system's.
	CACertPEM []byte
	// BindDN and BindPassword authenticate with a simple bind; both empty
	// means an anonymous search. Active Directory also accepts
	// user@domain as the bind DN.
	BindDN       string
	BindPassword string
	// BaseDN is where the search starts (the whole subtree is searched).
	BaseDN string
	// Filter selects the users; default (objectClass=person). On Active
	// Directory, (&(objectCategory=person)(objectClass=user)) leaves out
	// computers and contacts.
	Filter string
	// Attributes to read; empty reads all user attributes.
	Attributes []string
	// PageSize is the number of entries per page; default 500. Active
	// Directory serves at most 1,000 (MaxPageSize).
	PageSize uint32
	// Timeout bounds each step: connecting, the TLS handshake, the bind and
	// each page of results; default 30 s.
	Timeout time.Duration
}

// String shows the config without its password, so that logging one by
// mistake leaks nothing.
func (c Config) String() string {
	pw := ""
	if c.BindPassword != "" {
		pw = "[set]"
	}
	return fmt.Sprintf("ldapextract.Config{URL:%q StartTLS:%t InsecureSkipVerify:%t CACertPEM:%d bytes BindDN:%q BindPassword:%s BaseDN:%q Filter:%q Attributes:%q PageSize:%d Timeout:%s}",
		c.URL, c.StartTLS, c.InsecureSkipVerify, len(c.CACertPEM), c.BindDN, pw, c.BaseDN, c.Filter, c.Attributes, c.PageSize, c.Timeout)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// LogValue is String, for log/slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// attributeName is an attribute description (RFC 4512): a name or an OID,
// with options such as ";binary"; "*" and "+" ask for all user or all
// operational attributes.
var attributeName = regexp.MustCompile(`^(\*|\+|[A-Za-z][A-Za-z0-9-]*|[0-9]+(\.[0-9]+)+)(;[A-Za-z0-9-]+)*$`)

// Validate checks the config, with a message per field (url, start_tls,
// ca_cert_pem, bind_dn, bind_password, base_dn, filter, attributes,
// timeout), as an apperr invalid error.
func (c Config) Validate() error {
	fields := c.Endpoint().Problems()
	switch {
	case c.BindDN != "" && c.BindPassword == "":
		fields["bind_password"] = "Give the password of the bind DN: a bind DN without a password is an unauthenticated bind, which servers accept and then show nothing."
	case c.BindDN == "" && c.BindPassword != "":
		fields["bind_dn"] = "Give the bind DN this password belongs to."
	}
	if strings.TrimSpace(c.BaseDN) == "" {
		fields["base_dn"] = "Give the base DN to search under, such as ou=people,dc=example,dc=com."
	} else if _, err := ldap.ParseDN(c.BaseDN); err != nil {
		fields["base_dn"] = "This is not a DN: write it as ou=people,dc=example,dc=com."
	}
	if _, err := ldap.CompileFilter(c.filter()); err != nil {
		fields["filter"] = fmt.Sprintf("This filter does not parse (%s): write it as (objectClass=person) or (&(objectClass=user)(mail=*)).", filterProblem(err))
	}
	for _, a := range c.Attributes {
		if !attributeName.MatchString(a) {
			fields["attributes"] = fmt.Sprintf("%q is not an attribute name.", a)
			break
		}
	}
	if c.Timeout < 0 {
		fields["timeout"] = "The timeout cannot be negative."
	}
	if len(fields) > 0 {
		return apperr.Invalid("The LDAP connection settings are not complete.", fields)
	}
	return nil
}

func schemeOf(raw string) string {
	if i := strings.Index(raw, "://"); i > 0 {
		return raw[:i+3]
	}
	return fmt.Sprintf("%q", raw)
}

func validPort(p string) bool {
	var n int
	_, err := fmt.Sscanf(p, "%d", &n)
	return err == nil && n >= 1 && n <= 65535 && fmt.Sprint(n) == p
}

func filterProblem(err error) string {
	var le *ldap.Error
	if errors.As(err, &le) && le.Err != nil {
		return le.Err.Error()
	}
	return err.Error()
}

func (c Config) filter() string {
	if strings.TrimSpace(c.Filter) == "" {
		return DefaultFilter
	}
	return c.Filter
}

func (c Config) pageSize() uint32 {
	if c.PageSize == 0 {
		return DefaultPageSize
	}
	return c.PageSize
}

func (c Config) timeout() time.Duration {
	if c.Timeout == 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// binaryAttributes are always base64-encoded, lower-cased.
var binaryAttributes = map[string]bool{
	"objectguid": true, "objectsid": true, "jpegphoto": true, "thumbnailphoto": true, "photo": true,
	"usercertificate": true, "cacertificate": true, "usersmimecertificate": true, "userpkcs12": true,
	"audio": true, "msexchmailboxguid": true, "msexchmasteraccountsid": true, "sidhistory": true,
	"ms-ds-consistencyguid": true, "logonhours": true, "msds-generationid": true, "tokengroups": true,
}

// Reader streams the users of one search. It implements extract.Reader.
// Close it when done.
type Reader struct {
	cfg  Config
	ctx  context.Context
	c    *Conn      // the connection, closed when the context is cancelled
	conn *ldap.Conn // c's
	host string

	req    *ldap.SearchRequest
	paging *ldap.ControlPaging
	page   []*ldap.Entry
	next   int // index in page
	n      int // entries returned so far
	last   bool
	err    error

	closeOnce sync.Once
	timedOut  atomic.Bool

	columns   []string
	seen      map[string]struct{}
	warnings  []string
	referrals int
}

var _ extract.Reader = (*Reader)(nil)

// Open validates cfg, connects, binds and reads the first page. ctx bounds
// the whole pull: cancelling it stops the search and closes the connection,
// and Next then returns an error wrapping ctx.Err().
func Open(ctx context.Context, cfg Config) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Reader{cfg: cfg, ctx: ctx, seen: map[string]struct{}{}}
	if err := r.connect(); err != nil {
		return nil, err
	}
	if err := r.bind(); err != nil {
		r.Close()
		return nil, err
	}
	r.paging = ldap.NewControlPaging(cfg.pageSize())
	// Aliases are not followed: they would return a user twice.
	r.req = ldap.NewSearchRequest(cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		cfg.filter(), cfg.Attributes, []ldap.Control{criticalPaging{r.paging}})
	if err := r.fetch(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// connect dials the server (TLS handshake and StartTLS included).
func (r *Reader) connect() error {
	c, err := Dial(r.ctx, r.cfg.Endpoint(), r.cfg.timeout())
	if err != nil {
		if r.ctx.Err() != nil {
			return r.stopped()
		}
		return err // no password in it: nothing was sent yet
	}
	r.c, r.conn, r.host = c, c.Conn, c.Addr
	return nil
}

// bind authenticates, unless the config asks for an anonymous search.
func (r *Reader) bind() error {
	if r.cfg.BindDN == "" {
		return nil
	}
	err := r.guard(func() error { return r.conn.Bind(r.cfg.BindDN, r.cfg.BindPassword) })
	if err == nil {
		return nil
	}
	if r.ctx.Err() != nil {
		return r.stopped()
	}
	if r.timedOut.Load() {
		return r.refuse(fmt.Sprintf("the LDAP server at %s did not answer the bind within %s", r.host, r.cfg.timeout()))
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.LDAPResultInvalidCredentials:
			detail := "invalid credentials"
			if d := diagnostic(le); d != "" {
				detail += ": " + d // Active Directory says why: "… data 52e" (bad password), "data 775" (locked out) …
			}
			return r.refuse(fmt.Sprintf("the LDAP server refused the bind DN %q and its password (%s): check both", r.cfg.BindDN, detail))
		case ldap.LDAPResultConfidentialityRequired, ldap.LDAPResultStrongAuthRequired:
			return r.refuse(fmt.Sprintf("the LDAP server refuses to check a password over an unencrypted connection (%s): use ldaps:// or StartTLS",
				ldapProblem(le)))
		}
		if le.ResultCode != ldap.ErrorNetwork {
			return r.refuse(fmt.Sprintf("the LDAP server refused the bind as %q (%s)", r.cfg.BindDN, ldapProblem(le)))
		}
	}
	return r.refuse(fmt.Sprintf("the connection to the LDAP server at %s failed during the bind: %s", r.host, r.scrub(err.Error())))
}

// guard runs one request with the timeout: when it runs out, the connection
// is closed, which ends the request with an error.
func (r *Reader) guard(f func() error) error {
	t := time.AfterFunc(r.cfg.timeout(), func() {
		r.timedOut.Store(true)
		r.c.Interrupt()
	})
	err := f()
	t.Stop()
	return err
}

// criticalPaging is the paged-results control marked critical: a server
// that cannot page refuses the search rather than sending every entry in one
// response, which would all sit in memory.
type criticalPaging struct{ *ldap.ControlPaging }

func (c criticalPaging) Encode() *ber.Packet {
	p := c.ControlPaging.Encode() // SEQUENCE { type, value }
	out := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Control")
	out.AppendChild(p.Children[0])
	out.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, true, "Criticality"))
	out.AppendChild(p.Children[1])
	return out
}

// fetch reads the next page.
func (r *Reader) fetch() error {
	if err := r.ctx.Err(); err != nil {
		return r.stopped()
	}
	res, err := r.searchPage()
	if err != nil {
		return err
	}
	r.page, r.next = res.Entries, 0
	if n := len(res.Referrals); n > 0 {
		if r.referrals == 0 {
			r.warnings = append(r.warnings, fmt.Sprintf("the server referred part of the search to other servers, which were not followed (%s)", res.Referrals[0]))
		}
		r.referrals += n
	}
	cookie := []byte(nil)
	if c, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging); ok {
		cookie = c.Cookie
	}
	if len(cookie) == 0 {
		r.last = true
		return nil
	}
	r.paging.SetCookie(cookie)
	return nil
}

func (r *Reader) searchPage() (*ldap.SearchResult, error) {
	var res *ldap.SearchResult
	err := r.guard(func() error {
		var err error
		res, err = r.conn.Search(r.req)
		return err
	})
	if err == nil {
		return res, nil
	}
	if r.ctx.Err() != nil {
		return nil, r.stopped()
	}
	if r.timedOut.Load() {
		return nil, r.refuse(fmt.Sprintf("the LDAP server at %s sent no page of results within %s (after %d entries)", r.host, r.cfg.timeout(), r.n))
	}
	var le *ldap.Error
	if errors.As(err, &le) {
		switch le.ResultCode {
		case ldap.LDAPResultNoSuchObject:
			if le.MatchedDN != "" {
				return nil, r.refuse(fmt.Sprintf("the base DN %q does not exist on the server (the closest entry that does is %q)", r.cfg.BaseDN, le.MatchedDN))
			}
			// Servers answer the same when the entry is there but hidden.
			return nil, r.refuse(fmt.Sprintf("the base DN %q does not exist on the server, or %s may not see it", r.cfg.BaseDN, r.who()))
		case ldap.LDAPResultSizeLimitExceeded:
			got := r.n
			if res != nil {
				got += len(res.Entries)
			}
			return nil, r.refuse(fmt.Sprintf("the server stopped the search at its size limit, after %d entries: it does not let %s page past it; ask its administrators to lift the limit for this account (Active Directory: MaxResultSetSize; OpenLDAP: limits … size.prtotal), or narrow the base DN or filter",
				got, r.who()))
		case ldap.LDAPResultTimeLimitExceeded:
			return nil, r.refuse(fmt.Sprintf("the server stopped the search at its time limit, after %d entries; narrow the base DN or filter, or ask its administrators to lift the limit", r.n))
		case ldap.LDAPResultInsufficientAccessRights:
			return nil, r.refuse(fmt.Sprintf("%s may not search under %q (%s)", r.who(), r.cfg.BaseDN, ldapProblem(le)))
		case ldap.LDAPResultUnavailableCriticalExtension:
			return nil, r.refuse("the server does not support paged results (RFC 2696), which a pull of all users needs")
		case ldap.ErrorNetwork:
		default:
			return nil, r.refuse(fmt.Sprintf("the LDAP search failed after %d entries (%s)", r.n, ldapProblem(le)))
		}
	}
	return nil, r.refuse(fmt.Sprintf("the connection to the LDAP server at %s was lost after %d entries: %s", r.host, r.n, r.scrub(err.Error())))
}

func (r *Reader) who() string {
	if r.cfg.BindDN == "" {
		return "an anonymous search (no bind DN)"
	}
	return fmt.Sprintf("%q", r.cfg.BindDN)
}

// Next returns the next user, io.EOF after the last one, an *extract.Error
// when the pull failed, or an error wrapping ctx.Err() once the context is
// done.
func (r *Reader) Next() (extract.Record, error) {
	if r.err != nil {
		return extract.Record{}, r.err
	}
	if err := r.ctx.Err(); err != nil {
		r.err = r.stopped()
		return extract.Record{}, r.err
	}
	for r.next >= len(r.page) {
		if r.last {
			return extract.Record{}, io.EOF
		}
		if err := r.fetch(); err != nil {
			r.err = err
			return extract.Record{}, err
		}
	}
	e := r.page[r.next]
	r.page[r.next] = nil
	r.next++
	r.n++
	return extract.Record{Position: r.n, Attributes: r.attributes(e)}, nil
}

// attributes turns an entry into a record's attributes.
func (r *Reader) attributes(e *ldap.Entry) map[string][]string {
	attrs := make(map[string][]string, len(e.Attributes)+1)
	attrs["dn"] = []string{e.DN}
	r.see("dn")
	for _, a := range e.Attributes {
		if len(a.ByteValues) == 0 {
			continue
		}
		name := a.Name
		if isBinary(a) {
			if !strings.HasSuffix(strings.ToLower(name), ";binary") {
				name += ";binary"
			}
			values := make([]string, len(a.ByteValues))
			for i, v := range a.ByteValues {
				values[i] = base64.StdEncoding.EncodeToString(v)
			}
			attrs[name] = values
		} else {
			attrs[name] = a.Values
		}
		r.see(name)
	}
	return attrs
}

func isBinary(a *ldap.EntryAttribute) bool {
	lower := strings.ToLower(a.Name)
	base, _, _ := strings.Cut(lower, ";")
	if binaryAttributes[base] || strings.HasSuffix(lower, ";binary") {
		return true
	}
	for _, v := range a.ByteValues {
		if !utf8.Valid(v) {
			return true
		}
	}
	return false
}

func (r *Reader) see(name string) {
	if _, ok := r.seen[name]; !ok {
		r.seen[name] = struct{}{}
		r.columns = append(r.columns, name)
	}
}

// Columns lists the attribute names seen so far, "dn" first.
func (r *Reader) Columns() []string { return append([]string(nil), r.columns...) }

// Warnings lists referrals that were not followed.
func (r *Reader) Warnings() []string {
	w := append([]string(nil), r.warnings...)
	if r.referrals > 1 {
		w = append(w, fmt.Sprintf("%d referrals in all were not followed", r.referrals))
	}
	return w
}

// Close ends the search and closes the connection. It is safe to call more
// than once.
func (r *Reader) Close() error {
	r.closeOnce.Do(func() {
		if r.c != nil {
			_ = r.c.Close()
		}
		r.page = nil
	})
	return nil
}

func (r *Reader) refuse(msg string) error {
	return &extract.Error{Unit: "entry", Message: r.scrub(msg)}
}

// stopped is the error once ctx is done.
func (r *Reader) stopped() error {
	return fmt.Errorf("ldapextract: the pull stopped after %d entries: %w", r.n, context.Cause(r.ctx))
}

// scrub removes the password from a message, should a server or library
// ever echo it.
func (r *Reader) scrub(msg string) string {
	if pw := r.cfg.BindPassword; len(pw) >= 3 {
		msg = strings.ReplaceAll(msg, pw, "[password]")
	}
	return msg
}

// ldapProblem describes a result code and the server's message.
func ldapProblem(le *ldap.Error) string {
	name := ldap.LDAPResultCodeMap[le.ResultCode]
	if name == "" {
		name = fmt.Sprintf("result code %d", le.ResultCode)
	}
	if d := diagnostic(le); d != "" {
		return fmt.Sprintf("%s: %s", strings.ToLower(name), d)
	}
	return strings.ToLower(name)
}

func diagnostic(le *ldap.Error) string {
	if le.Err == nil {
		return ""
	}
	return strings.TrimSpace(le.Err.Error())
}

func netProblem(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		var se interface{ Unwrap() error }
		inner := op.Err
		if errors.As(inner, &se) && se.Unwrap() != nil {
			inner = se.Unwrap()
		}
		return inner.Error()
	}
	return err.Error()
}

func tlsProblem(host, detail string) string {
	hint := "check that the server speaks TLS on this port"
	switch {
	case strings.Contains(detail, "unknown authority"):
		hint = "the server's certificate is not signed by a trusted CA: give the CA certificate"
	case strings.Contains(detail, "certificate is valid for"), strings.Contains(detail, "doesn't contain any IP SANs"):
		hint = "the server's certificate is for another name: use the host name it names in the URL"
	case strings.Contains(detail, "expired"):
		hint = "the server's certificate has expired"
	case strings.Contains(detail, "first record does not look like a TLS handshake"), detail == "EOF",
		strings.Contains(detail, "connection reset"):
		hint = "the server does not speak TLS on this port: use ldap:// (with StartTLS) or the ldaps:// port"
	}
	return fmt.Sprintf("TLS with the LDAP server at %s failed: %s (%s)", host, hint, detail)
}
