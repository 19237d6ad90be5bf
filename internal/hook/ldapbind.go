package hook

// Verification by a bind against the legacy LDAP / Active Directory server,
// per source (table hook_ldap_binds): instead of the staged hash, Ferry
// binds as the person's legacy account with the password they typed.
//
// A failed bind is a failed sign-in for the directory: Active Directory
// counts it towards the account's lockout. So Ferry never retries a bind,
// binds at most once per account and call, and stops binding an account
// (answering 503 lockout_guard) after lockout_threshold−2 failures in the
// lockout window, counted in the process: its own attempts can never lock
// anybody out. When the directory cannot answer, or answers something other
// than "wrong password", the answer is 503 (never UNVERIFIED): the person is
// not told a right password is wrong.

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract"
)

// Defaults and limits of the bind settings.
const (
	DefaultLockoutThreshold     = 5
	DefaultLockoutWindowMinutes = 30
	DefaultBindConcurrency      = 4
	DefaultBindTimeout          = 1500 * time.Millisecond
	MinBindTimeout              = 200 * time.Millisecond
	MaxBindTimeout              = 2500 * time.Millisecond
	MaxBindTemplateLen          = 512
	maxLockoutWindowMinutes     = 1440
	maxCACertPEMLen             = 64 << 10
	maxBindIdentityLen          = 2048
)

const bindWhat = "LDAP bind check"

// BindSettings says how to verify the passwords of one source's people with
// a bind against the legacy directory. No service account is kept: the bind
// is the person's own.
type BindSettings struct {
	SourceID           int64  `gorm:"column:source_id;primaryKey;autoIncrement:false" json:"sourceId"`
	ProjectID          int64  `gorm:"column:project_id" json:"projectId"`
	Enabled            bool   `gorm:"column:enabled" json:"enabled"`
	URL                string `gorm:"column:url" json:"url"`
	StartTLS           bool   `gorm:"column:start_tls" json:"startTls"`
	InsecureSkipVerify bool   `gorm:"column:insecure_skip_verify" json:"insecureSkipVerify"`
	CACertPEM          string `gorm:"column:ca_cert_pem" json:"caCertPem"`
	// BindTemplate names the account from the record: {dn}, {login},
	// {source_key}, {attr:NAME}.
	BindTemplate         string    `gorm:"column:bind_template" json:"bindTemplate"`
	LockoutThreshold     int64     `gorm:"column:lockout_threshold" json:"lockoutThreshold"`
	LockoutWindowMinutes int64     `gorm:"column:lockout_window_minutes" json:"lockoutWindowMinutes"`
	MaxConcurrent        int64     `gorm:"column:max_concurrent" json:"maxConcurrent"`
	TimeoutMS            int64     `gorm:"column:timeout_ms" json:"timeoutMs"`
	Version              int64     `gorm:"column:version" json:"version"`
	UpdatedAt            time.Time `gorm:"column:updated_at" json:"updatedAt"`
}

// TableName is the table the settings live in.
func (BindSettings) TableName() string { return "hook_ldap_binds" }

// AllowedFailures is how many failed binds per account and lockout window
// Ferry allows itself: two fewer than the directory's threshold (at least
// one), so that the person keeps attempts of their own.
func (b *BindSettings) AllowedFailures() int { return allowedFailures(b.LockoutThreshold) }

func allowedFailures(threshold int64) int { return int(max(threshold-2, 1)) }

func (b *BindSettings) endpoint() ldapextract.Endpoint {
	return ldapextract.Endpoint{URL: b.URL, StartTLS: b.StartTLS, InsecureSkipVerify: b.InsecureSkipVerify, CACertPEM: []byte(b.CACertPEM)}
}

// BindInput saves a source's bind settings; zero numbers take the defaults.
type BindInput struct {
	Enabled bool
	// URL is ldap://host[:port] or ldaps://host[:port]. A plain ldap://
	// URL needs StartTLS unless the host is the loopback: the bind carries
	// the person's password.
	URL                string
	StartTLS           bool
	InsecureSkipVerify bool
	// CACertPEM, when set, is the only CA trusted for the server.
	CACertPEM string
	// BindTemplate: a DN such as uid={attr:uid},ou=people,dc=example,dc=com
	// (values are DN-escaped), {dn} alone (the record's DN), or a logon name
	// such as {login}, {attr:userPrincipalName} or EXAMPLE\{source_key}.
	BindTemplate string
	// LockoutThreshold is the directory's lockout threshold (2–100, default
	// 5); LockoutWindowMinutes its observation window (1–1440, default 30).
	LockoutThreshold     int
	LockoutWindowMinutes int
	// MaxConcurrent binds at once against the directory (1–32, default 4).
	MaxConcurrent int
	// TimeoutMS bounds a bind, connection included (200–2500, default 1500),
	// and never exceeds what is left of the hook's time budget.
	TimeoutMS int
}

func (in BindInput) withDefaults() BindInput {
	if in.LockoutThreshold == 0 {
		in.LockoutThreshold = DefaultLockoutThreshold
	}
	if in.LockoutWindowMinutes == 0 {
		in.LockoutWindowMinutes = DefaultLockoutWindowMinutes
	}
	if in.MaxConcurrent == 0 {
		in.MaxConcurrent = DefaultBindConcurrency
	}
	if in.TimeoutMS == 0 {
		in.TimeoutMS = int(DefaultBindTimeout.Milliseconds())
	}
	in.URL = strings.TrimSpace(in.URL)
	in.BindTemplate = strings.TrimSpace(in.BindTemplate)
	return in
}

func (in BindInput) endpoint() ldapextract.Endpoint {
	return ldapextract.Endpoint{URL: in.URL, StartTLS: in.StartTLS, InsecureSkipVerify: in.InsecureSkipVerify, CACertPEM: []byte(in.CACertPEM)}
}

// validate checks the input (with defaults applied), field by field: url,
// start_tls, ca_cert_pem, bind_template, lockout_threshold,
// lockout_window_minutes, max_concurrent, timeout_ms.
func (in BindInput) validate() error {
	var fields map[string]string
	if len(in.CACertPEM) > maxCACertPEMLen {
		fields = map[string]string{"ca_cert_pem": "The CA certificate is too large (at most 64 KiB of PEM)."}
		in.CACertPEM = ""
	}
	for k, v := range in.endpoint().Problems() {
		if fields == nil {
			fields = map[string]string{}
		}
		fields[k] = v
	}
	if fields == nil {
		fields = map[string]string{}
	}
	if _, bad := fields["url"]; !bad && !in.StartTLS {
		if u, err := url.Parse(in.URL); err == nil && u.Scheme == "ldap" && !loopback(u.Hostname()) {
			fields["start_tls"] = "A bind sends the person's password: over ldap:// turn StartTLS on, or use ldaps://."
		}
	}
	if _, msg := parseBindTemplate(in.BindTemplate); msg != "" {
		fields["bind_template"] = msg
	}
	if in.LockoutThreshold < 2 || in.LockoutThreshold > 100 {
		fields["lockout_threshold"] = "The lockout threshold is the directory's, from 2 to 100 failed sign-ins (Active Directory: \"Account lockout threshold\")."
	}
	if in.LockoutWindowMinutes < 1 || in.LockoutWindowMinutes > maxLockoutWindowMinutes {
		fields["lockout_window_minutes"] = "The lockout window is from 1 to 1440 minutes (Active Directory: \"Reset account lockout counter after\")."
	}
	if in.MaxConcurrent < 1 || in.MaxConcurrent > 32 {
		fields["max_concurrent"] = "From 1 to 32 binds at once."
	}
	if in.TimeoutMS < int(MinBindTimeout.Milliseconds()) || in.TimeoutMS > int(MaxBindTimeout.Milliseconds()) {
		fields["timeout_ms"] = "The bind timeout is between 200 and 2500 milliseconds: Okta waits 3 seconds at most."
	}
	if len(fields) > 0 {
		return apperr.Invalid("Please correct the highlighted fields.", fields)
	}
	return nil
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Placeholders of a bind template.
const (
	phDN        = "dn"
	phLogin     = "login"
	phSourceKey = "source_key"
	phAttr      = "attr"
)

// templatePart is literal text or a placeholder (kind, and attr for attr:NAME).
type templatePart struct {
	literal, kind, attr string
}

// bindTemplate is a parsed bind_template. asDN: the template builds a DN
// (its text has an =), so values are DN-escaped; otherwise it is a logon
// name (user@domain, DOMAIN\user) and values are taken as they are, but
// none may hold an = (it would read as a DN).
type bindTemplate struct {
	parts     []templatePart
	asDN      bool
	wholeDN   bool // {dn} alone
	usesLogin bool
}

var attrPlaceholder = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*(;[A-Za-z0-9-]+)*$`)

// parseBindTemplate parses a template, or returns what is wrong with it.
func parseBindTemplate(t string) (*bindTemplate, string) {
	const use = "use {dn}, {login}, {source_key} or {attr:NAME}"
	switch {
	case t == "":
		return nil, "Give the account to bind as, such as uid={attr:uid},ou=people,dc=example,dc=com or {attr:userPrincipalName}."
	case len(t) > MaxBindTemplateLen:
		return nil, fmt.Sprintf("The template is at most %d characters.", MaxBindTemplateLen)
	case !utf8.ValidString(t) || strings.IndexFunc(t, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return nil, "The template holds control characters."
	}
	bt := &bindTemplate{}
	var unknown []string
	rest := t
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			bt.parts = append(bt.parts, templatePart{literal: rest})
			break
		}
		if rest[open] == '}' {
			return nil, "The template has a } without its {: " + use + "."
		}
		if open > 0 {
			bt.parts = append(bt.parts, templatePart{literal: rest[:open]})
		}
		end := strings.IndexAny(rest[open+1:], "{}")
		if end < 0 || rest[open+1+end] != '}' {
			return nil, "The template has a { without its }: " + use + "."
		}
		name := rest[open+1 : open+1+end]
		rest = rest[open+1+end+1:]
		switch {
		case name == phDN || name == phLogin || name == phSourceKey:
			bt.parts = append(bt.parts, templatePart{kind: name})
			bt.usesLogin = bt.usesLogin || name == phLogin
		case strings.HasPrefix(name, phAttr+":") && attrPlaceholder.MatchString(name[len(phAttr)+1:]):
			bt.parts = append(bt.parts, templatePart{kind: phAttr, attr: name[len(phAttr)+1:]})
		default:
			if !slices.Contains(unknown, "{"+name+"}") {
				unknown = append(unknown, "{"+name+"}")
			}
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Sprintf("Unknown placeholder %s: %s.", strings.Join(unknown, ", "), use)
	}
	placeholders, literal := 0, ""
	for _, p := range bt.parts {
		if p.kind != "" {
			placeholders++
		}
		literal += p.literal
		if p.kind == phDN {
			bt.wholeDN = true
		}
	}
	if placeholders == 0 {
		return nil, "The template names no one: every person would bind as the same account. " + strings.ToUpper(use[:1]) + use[1:] + "."
	}
	if bt.wholeDN && len(bt.parts) != 1 {
		return nil, "{dn} is the record's whole DN: use it alone."
	}
	bt.asDN = strings.Contains(literal, "=")
	if bt.asDN {
		// With every placeholder as a plain value, the template must be a DN.
		if dn, err := ldap.ParseDN(bt.render(func(templatePart) string { return "x" })); err != nil || len(dn.RDNs) == 0 {
			return nil, "This is not a DN template: write it as uid={attr:uid},ou=people,dc=example,dc=com."
		}
	}
	return bt, ""
}

func (bt *bindTemplate) render(value func(templatePart) string) string {
	var b strings.Builder
	for _, p := range bt.parts {
		if p.kind == "" {
			b.WriteString(p.literal)
		} else {
			b.WriteString(value(p))
		}
	}
	return b.String()
}

// errNoIdentity: the record lacks a value the template needs, or holds one
// that cannot be used safely. The message never holds the value.
type errNoIdentity struct{ reason string }

func (e errNoIdentity) Error() string { return "no bind identity: " + e.reason }

// identity renders the bind identity from the record's attributes (Ferry's
// edits applied), its source key and its Okta login.
func (bt *bindTemplate) identity(attrs map[string][]string, sourceKey, login string) (string, error) {
	var fail error
	out := bt.render(func(p templatePart) string {
		var v, name string
		switch p.kind {
		case phDN:
			v, name = attrValue(attrs, "dn"), "dn"
		case phLogin:
			v, name = login, "the login"
		case phSourceKey:
			v, name = sourceKey, "the source key"
		case phAttr:
			v, name = attrValue(attrs, p.attr), p.attr
		}
		switch {
		case fail != nil:
		case v == "":
			fail = errNoIdentity{"the record has no " + name}
		case !utf8.ValidString(v) || strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
			fail = errNoIdentity{"the record's " + name + " holds control characters"}
		case p.kind == phDN:
			// Already a DN: checked below, not escaped.
		case bt.asDN:
			v = ldap.EscapeDN(v)
		case strings.Contains(v, "="):
			// A logon name with an = would be read as a DN by the server.
			fail = errNoIdentity{"the record's " + name + " holds an = (it would name a DN)"}
		}
		return v
	})
	if fail != nil {
		return "", fail
	}
	if len(out) > maxBindIdentityLen {
		return "", errNoIdentity{"the bind identity is too long"}
	}
	if bt.asDN || bt.wholeDN {
		if dn, err := ldap.ParseDN(out); err != nil || len(dn.RDNs) == 0 {
			return "", errNoIdentity{"the record's values do not make a DN"}
		}
	}
	return out, nil
}

// attrValue is the first value of the attribute, its name matched exactly
// or else ignoring case (LDAP names are case-insensitive).
func attrValue(attrs map[string][]string, name string) string {
	if vs := attrs[name]; len(vs) > 0 {
		return vs[0]
	}
	for k, vs := range attrs {
		if strings.EqualFold(k, name) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// FindBindSettings returns the source's bind settings, or nil when it has none.
func (s *Service) FindBindSettings(ctx context.Context, projectID, sourceID int64) (*BindSettings, error) {
	var out []BindSettings
	if err := s.db.Read.WithContext(ctx).Where("source_id = ? AND project_id = ?", sourceID, projectID).Limit(1).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// SaveBindSettings creates (version 0) or updates the source's bind
// settings; version is the one the editor read (optimistic versioning).
// The change is audited with the actor in ctx.
func (s *Service) SaveBindSettings(ctx context.Context, projectID, sourceID, version int64, in BindInput) (*BindSettings, error) {
	in = in.withDefaults()
	if err := in.validate(); err != nil {
		return nil, err
	}
	var out *BindSettings
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		label, err := sourceLabel(tx, projectID, sourceID)
		if err != nil {
			return err
		}
		var found []BindSettings
		if err := tx.Where("source_id = ?", sourceID).Limit(1).Find(&found).Error; err != nil {
			return err
		}
		var current int64
		if len(found) > 0 {
			current = found[0].Version
		}
		if version != current {
			return apperr.VersionConflict(bindWhat, current, nil)
		}
		b := BindSettings{SourceID: sourceID, ProjectID: projectID, Enabled: in.Enabled, URL: in.URL, StartTLS: in.StartTLS,
			InsecureSkipVerify: in.InsecureSkipVerify, CACertPEM: in.CACertPEM, BindTemplate: in.BindTemplate,
			LockoutThreshold: int64(in.LockoutThreshold), LockoutWindowMinutes: int64(in.LockoutWindowMinutes),
			MaxConcurrent: int64(in.MaxConcurrent), TimeoutMS: int64(in.TimeoutMS), Version: current + 1, UpdatedAt: s.now().UTC()}
		change := audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "hook_ldap_bind", EntityID: sourceID,
			Label: bindWhat + " of " + label, After: bindAuditViewOf(&b)}
		if len(found) == 0 {
			change.Action = audit.ActionCreate
			if err := tx.Create(&b).Error; err != nil {
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					return apperr.VersionConflict(bindWhat, 0, nil)
				}
				return err
			}
		} else {
			change.Before = bindAuditViewOf(&found[0])
			res := tx.Model(&BindSettings{}).Where("source_id = ? AND version = ?", sourceID, current).
				Select("enabled", "url", "start_tls", "insecure_skip_verify", "ca_cert_pem", "bind_template", "lockout_threshold",
					"lockout_window_minutes", "max_concurrent", "timeout_ms", "version", "updated_at").Updates(&b)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return apperr.VersionConflict(bindWhat, current, nil)
			}
		}
		out = &b
		return audit.Record(ctx, tx, change)
	})
	if err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// RemoveBindSettings deletes the source's bind settings: its passwords are
// verified against the staged hash again.
func (s *Service) RemoveBindSettings(ctx context.Context, projectID, sourceID int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		label, err := sourceLabel(tx, projectID, sourceID)
		if err != nil {
			return err
		}
		var found []BindSettings
		if err := tx.Where("source_id = ?", sourceID).Limit(1).Find(&found).Error; err != nil {
			return err
		}
		if len(found) == 0 {
			return apperr.NotFound(bindWhat)
		}
		if err := tx.Where("source_id = ?", sourceID).Delete(&BindSettings{}).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "hook_ldap_bind",
			EntityID: sourceID, Label: bindWhat + " of " + label, Before: bindAuditViewOf(&found[0])})
	}))
}

// sourceLabel checks that the source belongs to the project and names it.
func sourceLabel(tx *gorm.DB, projectID, sourceID int64) (string, error) {
	var names []string
	if err := tx.Table("sources").Where("id = ? AND project_id = ?", sourceID, projectID).Limit(1).Pluck("name", &names).Error; err != nil {
		return "", err
	}
	if len(names) == 0 {
		return "", apperr.NotFound("source")
	}
	return "source " + names[0], nil
}

// bindAuditView is what the audit log keeps of the settings (the CA
// certificate only as whether one is set).
type bindAuditView struct {
	Enabled              bool   `json:"enabled"`
	URL                  string `json:"url"`
	StartTLS             bool   `json:"startTls"`
	InsecureSkipVerify   bool   `json:"insecureSkipVerify"`
	CACert               string `json:"caCert"`
	BindTemplate         string `json:"bindTemplate"`
	LockoutThreshold     int64  `json:"lockoutThreshold"`
	LockoutWindowMinutes int64  `json:"lockoutWindowMinutes"`
	MaxConcurrent        int64  `json:"maxConcurrent"`
	TimeoutMS            int64  `json:"timeoutMs"`
	Version              int64  `json:"version"`
}

func bindAuditViewOf(b *BindSettings) *bindAuditView {
	ca := "system CAs"
	if b.CACertPEM != "" {
		sum := sha256.Sum256([]byte(b.CACertPEM))
		ca = fmt.Sprintf("given (SHA-256 of the PEM %x…)", sum[:6])
	}
	return &bindAuditView{Enabled: b.Enabled, URL: b.URL, StartTLS: b.StartTLS, InsecureSkipVerify: b.InsecureSkipVerify, CACert: ca,
		BindTemplate: b.BindTemplate, LockoutThreshold: b.LockoutThreshold, LockoutWindowMinutes: b.LockoutWindowMinutes,
		MaxConcurrent: b.MaxConcurrent, TimeoutMS: b.TimeoutMS, Version: b.Version}
}

// BindTest is the result of TestBindConnection.
type BindTest struct {
	OK bool
	// Message says what happened, or what to check; it is safe to show.
	Message string
}

// TestBindConnection connects to the server of the input (TLS handshake or
// StartTLS included) and disconnects without binding anybody, so that it
// never counts as a failed sign-in. An invalid input is an apperr invalid
// error; a server that cannot be reached is a BindTest that is not OK.
func (s *Service) TestBindConnection(ctx context.Context, in BindInput) (BindTest, error) {
	in = in.withDefaults()
	if err := in.validate(); err != nil {
		return BindTest{}, err
	}
	timeout := time.Duration(in.TimeoutMS) * time.Millisecond
	c, err := ldapextract.Dial(ctx, in.endpoint(), timeout)
	if err != nil {
		if ctx.Err() != nil {
			return BindTest{}, ctx.Err()
		}
		return BindTest{Message: upperFirst(err.Error()) + "."}, nil
	}
	defer c.Close()
	how := "without encryption"
	switch {
	case in.StartTLS:
		how = "over StartTLS"
	case c.TLS:
		how = "over TLS (ldaps://)"
	}
	if c.TLS && in.InsecureSkipVerify {
		how += ", without checking the server's certificate"
	}
	return BindTest{OK: true, Message: fmt.Sprintf("Connected to the LDAP server at %s %s; no account was bound.", c.Addr, how)}, nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// binds is the process's state of the bind checks: a semaphore per
// directory and the failed binds per account. Its zero value is ready.
type binds struct {
	mu   sync.Mutex
	sems map[string]chan struct{}
	// failures holds the times of failed (or unanswered) binds per
	// account, keyed by the SHA-256 of directory and identity, so that no
	// identity stays in memory in clear.
	failures map[[32]byte][]time.Time
	ops      int
}

// slot takes a slot of the directory's semaphore at once, or reports that
// all max are taken. Sources naming the same directory share it.
func (b *binds) slot(dir string, limit int) (release func(), ok bool) {
	b.mu.Lock()
	if b.sems == nil {
		b.sems = map[string]chan struct{}{}
	}
	sem := b.sems[dir]
	if sem == nil || cap(sem) != limit {
		// New settings: the binds in flight release into the old channel.
		sem = make(chan struct{}, limit)
		b.sems[dir] = sem
	}
	b.mu.Unlock()
	select {
	case sem <- struct{}{}:
		return func() { <-sem }, true
	default:
		return nil, false
	}
}

// reserve counts a bind about to be sent as a failure, unless the account
// already has allowed failures within span; it returns the time to cancel
// with when the bind turns out not to have failed. Counting before the bind
// keeps concurrent calls from overshooting.
func (b *binds) reserve(key [32]byte, allowed int, span time.Duration, now time.Time) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures == nil {
		b.failures = map[[32]byte][]time.Time{}
	}
	ts := b.failures[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= span {
		i++
	}
	ts = ts[i:]
	if len(ts) >= allowed {
		b.failures[key] = ts
		return time.Time{}, false
	}
	b.failures[key] = append(ts, now)
	if b.ops++; b.ops%1024 == 0 {
		for k, ts := range b.failures {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= maxLockoutWindowMinutes*time.Minute {
				delete(b.failures, k)
			}
		}
	}
	return now, true
}

// cancel takes back a reservation: the bind was not sent, or did not fail.
func (b *binds) cancel(key [32]byte, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ts := b.failures[key]
	if i := slices.IndexFunc(ts, at.Equal); i >= 0 {
		b.failures[key] = slices.Delete(ts, i, i+1)
	}
	if len(b.failures[key]) == 0 {
		delete(b.failures, key)
	}
}

// forget clears the account's failures: it signed in (the directory resets
// its own counter then too).
func (b *binds) forget(key [32]byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.failures, key)
}

// findEnabledBind returns the source's bind settings when they are enabled.
func (s *Service) findEnabledBind(ctx context.Context, sourceID int64) (*BindSettings, error) {
	var out []BindSettings
	if err := s.db.Read.WithContext(ctx).Where("source_id = ? AND enabled = ?", sourceID, true).Limit(1).Find(&out).Error; err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	b := &out[0]
	// A row written by other means than SaveBindSettings must not switch
	// the guard off (a window of 0) or block every bind (no slot).
	b.LockoutThreshold = clamp(b.LockoutThreshold, 2, 100, DefaultLockoutThreshold)
	b.LockoutWindowMinutes = clamp(b.LockoutWindowMinutes, 1, maxLockoutWindowMinutes, DefaultLockoutWindowMinutes)
	b.MaxConcurrent = clamp(b.MaxConcurrent, 1, 32, DefaultBindConcurrency)
	b.TimeoutMS = clamp(b.TimeoutMS, MinBindTimeout.Milliseconds(), MaxBindTimeout.Milliseconds(), DefaultBindTimeout.Milliseconds())
	return b, nil
}

func clamp(v, lo, hi, def int64) int64 {
	if v < lo || v > hi {
		return def
	}
	return v
}

// bindCheck verifies the password of a candidate whose source checks
// passwords with a bind; handled is false when it does not (the staged
// hash is checked then). done holds the verdicts of the accounts already
// bound in this call: an account is bound at most once per call.
func (s *Service) bindCheck(ctx context.Context, c *Config, cand candidate, password string, done map[[32]byte]verdict) (v verdict, handled bool) {
	defer func() {
		if handled && v.projectID == 0 {
			v.projectID, v.sourceID = cand.projectID, cand.sourceID
		}
	}()
	set, err := s.findEnabledBind(ctx, cand.sourceID)
	if err != nil {
		if ctx.Err() != nil {
			return unavailable(CauseTimeout), true
		}
		s.log.ErrorContext(ctx, "password import hook: cannot read the bind settings", slog.Int64("hook", c.ID), slog.Int64("source", cand.sourceID), slog.String("error", err.Error()))
		return unavailable(CauseInternal), true
	}
	if set == nil {
		return verdict{}, false
	}
	if password == "" {
		// A simple bind with an empty password is an unauthenticated bind,
		// which many servers accept: never send one.
		return unverified(CauseWrongPassword), true
	}
	identity, err := s.bindIdentity(ctx, set, cand)
	if err != nil {
		var no errNoIdentity
		if errors.As(err, &no) {
			s.log.WarnContext(ctx, "password import hook: no account to bind as", slog.Int64("hook", c.ID), slog.Int64("source", cand.sourceID),
				slog.Int64("record", cand.recordID), slog.String("reason", no.reason))
			return unverified(CauseNoCredential), true
		}
		if ctx.Err() != nil {
			return unavailable(CauseTimeout), true
		}
		s.log.ErrorContext(ctx, "password import hook: cannot read the record to bind", slog.Int64("hook", c.ID), slog.String("error", err.Error()))
		return unavailable(CauseInternal), true
	}
	dir := directoryKey(set.URL)
	key := sha256.Sum256([]byte(dir + "\x00" + strings.ToLower(identity)))
	if prev, ok := done[key]; ok {
		return prev, true
	}
	v = s.bind(ctx, c, set, dir, key, identity, password)
	done[key] = v
	return v, true
}

// directoryKey names the directory of a URL (scheme, host and port, lower
// case), so that sources naming it alike share its semaphore and guard.
func directoryKey(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return strings.ToLower(raw)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"ldap": "389", "ldaps": "636"}[u.Scheme]
	}
	return strings.ToLower(u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port))
}

// bindIdentity reads the record (Ferry's edits applied) and renders the
// template over it.
func (s *Service) bindIdentity(ctx context.Context, set *BindSettings, cand candidate) (string, error) {
	bt, msg := parseBindTemplate(set.BindTemplate)
	if bt == nil {
		return "", errNoIdentity{"the saved template is not valid (" + msg + ")"}
	}
	rec, _, err := s.deps.Extracts.FindRecordByID(ctx, cand.projectID, cand.recordID)
	if apperr.Is(err, apperr.CodeNotFound) {
		return "", errNoIdentity{"the record is gone"}
	}
	if err != nil {
		return "", err
	}
	login := ""
	if bt.usesLogin {
		profile, err := s.deps.Extracts.FindProfileJSON(ctx, cand.recordID)
		if err != nil {
			return "", err
		}
		var p struct {
			Login string `json:"login"`
		}
		if profile != "" && json.Unmarshal([]byte(profile), &p) == nil {
			login = p.Login
		}
	}
	return bt.identity(rec.Effective(), rec.SourceKey, login)
}

// bind binds once as identity, within min(the bind timeout, what is left of
// the hook's budget), and classifies the answer. It is never retried.
func (s *Service) bind(ctx context.Context, c *Config, set *BindSettings, dir string, key [32]byte, identity, password string) verdict {
	logAttrs := []any{slog.Int64("hook", c.ID), slog.Int64("source", set.SourceID)}
	if ctx.Err() != nil {
		return unavailable(CauseTimeout) // the lookup spent the budget: nothing sent
	}
	reserved, ok := s.ldap.reserve(key, set.AllowedFailures(), time.Duration(set.LockoutWindowMinutes)*time.Minute, s.now())
	if !ok {
		s.log.WarnContext(ctx, "password import hook: the account has failed too often to bind again before the directory would lock it out", logAttrs...)
		return unavailable(CauseLockoutGuard)
	}
	counted := false
	defer func() {
		if !counted {
			s.ldap.cancel(key, reserved)
		}
	}()
	release, ok := s.ldap.slot(dir, int(set.MaxConcurrent))
	if !ok {
		return unavailable(CauseOverloaded)
	}
	defer release()

	deadline := time.Now().Add(time.Duration(set.TimeoutMS) * time.Millisecond)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	bctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	conn, err := ldapextract.Dial(bctx, set.endpoint(), time.Until(deadline))
	if err != nil {
		// Nothing was sent: the message names the server, not the person.
		s.log.WarnContext(ctx, "password import hook: the legacy directory cannot be reached", append(logAttrs, slog.String("error", err.Error()))...)
		return unavailable(CauseLegacyUnreachable)
	}
	defer conn.Close()
	// Dial closes the connection when bctx ends, which ends the bind.
	_, err = conn.SimpleBind(&ldap.SimpleBindRequest{Username: identity, Password: password})
	if err == nil {
		s.ldap.forget(key)
		counted = true        // nothing left to cancel
		return verified(0, 0) // bindCheck names the source
	}
	var le *ldap.Error
	if errors.As(err, &le) && le.ResultCode == ldap.LDAPResultInvalidCredentials {
		counted = true
		code := adDataCode(le)
		cause, wrong := causeOfDataCode(code)
		if !wrong {
			s.log.WarnContext(ctx, "password import hook: the legacy directory refused the account", append(logAttrs, slog.String("data_code", code))...)
			return unavailable(cause)
		}
		return unverified(cause)
	}
	if bctx.Err() != nil || le == nil || le.ResultCode == ldap.ErrorNetwork {
		// The bind may have reached the server and been counted there.
		counted = true
		reason := "the connection failed during the bind"
		if bctx.Err() != nil {
			reason = "no answer to the bind in time"
		}
		s.log.WarnContext(ctx, "password import hook: the legacy directory cannot be reached", append(logAttrs, slog.String("error", reason))...)
		return unavailable(CauseLegacyUnreachable)
	}
	// Another refusal (confidentiality required, unwilling to perform …):
	// the password was not checked. Only the code is logged: a diagnostic
	// may quote the identity.
	s.log.WarnContext(ctx, "password import hook: the legacy directory refused the bind", append(logAttrs, slog.Int("result_code", int(le.ResultCode)))...)
	return unavailable(CauseLegacyRefused)
}

var dataCode = regexp.MustCompile(`(?i)\bdata ([0-9a-f]{2,8})\b`)

// adDataCode is Active Directory's reason in a failed bind's diagnostic
// ("80090308: LdapErr: …, data 52e, v4563"), lower case; "" when none.
func adDataCode(le *ldap.Error) string {
	if le.Err == nil {
		return ""
	}
	if m := dataCode.FindStringSubmatch(le.Err.Error()); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

// causeOfDataCode maps an invalid-credentials answer to a cause, and
// whether it means the password is wrong (UNVERIFIED). Only "wrong
// password" (52e, or no reason as OpenLDAP answers) and "no such user"
// (525) are UNVERIFIED; Active Directory answers 530–533, 701 and 773 only
// after it checked the password, and 775 whatever the password: those are
// 503, so that a person with the right password is never told it is wrong,
// and nothing the legacy directory refuses is imported.
func causeOfDataCode(code string) (cause string, wrong bool) {
	switch code {
	case "", "52e":
		return CauseWrongPassword, true
	case "525":
		return CauseNoUser, true
	case "775":
		return CauseLegacyLocked, false
	case "533", "701", "530", "531":
		return CauseLegacyDisabled, false
	case "532", "773":
		return CauseLegacyExpired, false
	}
	return CauseLegacyRefused, false
}
