// Package hook is Ferry's side of Okta's password import inline hook: when
// a user created with credentials.password.hook signs in to Okta for the
// first time, Okta posts what the person typed to Ferry, and Ferry answers
// VERIFIED or UNVERIFIED after checking the password against the legacy
// credential it staged — in every format internal/hashes verifies, including
// those Okta cannot import (argon2, scrypt, crypt(3), iterated digests).
// A source may instead be checked by a bind against its legacy LDAP or
// Active Directory server (ldapbind.go), without ever locking an account out.
//
// Okta allows one password import hook per org, so a hook belongs to an Okta
// org and serves every project that targets that org (hook_projects); its
// endpoint carries the org's key, a random id, never the org's URL. Okta
// authenticates with a shared secret in a header (the HTTP "HEADER" auth
// scheme), sealed at rest with Ferry's secret key like the Okta API tokens,
// or with an OAuth 2.0 access token (the OAUTH channel) that Ferry verifies
// with the issuer's published keys (oauth.go).
//
// What the package promises: never slower than Okta allows (a time budget,
// 2 s by default, and a bounded verification pool that refuses at once when
// it cannot answer in time); never "wrong password" when Ferry could not
// check (it answers 503, so that Okta fails this attempt without importing
// and calls the hook again next time); passwords never logged, stored or
// audited; attempts throttled per username and per end-user address.
package hook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/db"
	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/orgs"
	"github.com/ferry-migrate/ferry/internal/secrets"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// PathPrefix is where the endpoint lives; the org's key follows it. It is
// under /api/ because Okta, not a browser, calls it: no session, no CSRF
// token, JSON errors.
const PathPrefix = "/api/hooks/okta/password-import/"

// Limits of the configuration.
const (
	DefaultHeaderName = "Authorization"
	// DefaultBudget is how long the hook gives itself to answer.
	DefaultBudget = 2 * time.Second
	// MinBudget and MaxBudget bound a hook's budget: Okta waits 3 s, and
	// recording the attempt comes after the verdict.
	MinBudget = 200 * time.Millisecond
	MaxBudget = 2500 * time.Millisecond
	// MinSecretLen and MaxSecretLen bound a shared secret given by hand.
	MinSecretLen = 16
	MaxSecretLen = 512
	// MaxHeaderNameLen bounds the header's name.
	MaxHeaderNameLen = 100
	hintLen          = 4
)

// what names the record in messages.
const what = "password import hook"

// Config is the password import hook of one Okta org. SecretSealed has no
// JSON name, so that no encoder (the audit log's included) writes it.
type Config struct {
	ID     int64  `gorm:"column:id;primaryKey" json:"id"`
	OrgURL string `gorm:"column:org_url" json:"orgUrl"`
	// OrgKey is the random id in the endpoint's path.
	OrgKey string `gorm:"column:org_key" json:"orgKey"`
	// AuthType is AuthHeader (the shared secret) or AuthOAuth (an access
	// token checked with the OAuth* settings).
	AuthType     string `gorm:"column:auth_type" json:"authType"`
	HeaderName   string `gorm:"column:header_name" json:"headerName"`
	SecretSealed string `gorm:"column:secret_sealed" json:"-"`
	// SecretHint is the secret's last four characters.
	SecretHint    string    `gorm:"column:secret_hint" json:"secretHint"`
	OAuthIssuer   string    `gorm:"column:oauth_issuer" json:"oauthIssuer"`
	OAuthAudience string    `gorm:"column:oauth_audience" json:"oauthAudience"`
	OAuthJWKSURL  string    `gorm:"column:oauth_jwks_url" json:"oauthJwksUrl"`
	OAuthClientID string    `gorm:"column:oauth_client_id" json:"oauthClientId"`
	OAuthScope    string    `gorm:"column:oauth_scope" json:"oauthScope"`
	BudgetMS      int64     `gorm:"column:budget_ms" json:"budgetMs"`
	Version       int64     `gorm:"column:version" json:"version"`
	CreatedAt     time.Time `gorm:"column:created_at" json:"createdAt"`
	UpdatedAt     time.Time `gorm:"column:updated_at" json:"updatedAt"`
	// ProjectIDs are the projects the hook serves.
	ProjectIDs []int64 `gorm:"-" json:"projectIds"`
	// OrgMoved is set by FindConfig when the project's Okta org connection
	// now names another org than the hook serves: save the config again.
	OrgMoved bool `gorm:"-" json:"orgMoved"`
}

// TableName is the table the hooks live in.
func (Config) TableName() string { return "password_hooks" }

// Path is the endpoint's path on Ferry's public URL.
func (c *Config) Path() string { return PathPrefix + c.OrgKey }

// Budget is the hook's time budget.
func (c *Config) Budget() time.Duration { return time.Duration(c.BudgetMS) * time.Millisecond }

// hookProject attaches a project to the hook of its org.
type hookProject struct {
	ProjectID int64     `gorm:"column:project_id;primaryKey;autoIncrement:false"`
	HookID    int64     `gorm:"column:hook_id"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (hookProject) TableName() string { return "hook_projects" }

// ConfigInput saves a project's hook settings. The org is the project's
// Okta org connection (internal/orgs): the hook serves the org the project
// loads into.
type ConfigInput struct {
	// HeaderName is the header Okta sends the secret in ("" keeps it, or
	// Authorization for a new hook).
	HeaderName string
	// Secret sets the shared secret by hand (the one already entered in
	// Okta); nil keeps the saved one, or generates one for a new hook.
	Secret *string
	// RotateSecret generates a new secret (shown once).
	RotateSecret bool
	// Budget is the time budget (0 keeps it, or DefaultBudget).
	Budget time.Duration
	// AuthType is how Okta authenticates the inline hook's calls:
	// AuthHeader or AuthOAuth ("" keeps it, or AuthHeader for a new hook).
	// OAuth needs an issuer and an audience. The shared secret stays: the
	// event hook is authenticated by it whatever AuthType says.
	AuthType string
	// OAuth replaces the access token checks (nil keeps the saved ones).
	OAuth *OAuthSettings
}

// OrgFinder finds a project's Okta org connection (orgs.Service).
type OrgFinder interface {
	Find(ctx context.Context, projectID int64) (*orgs.Connection, error)
}

// ExtractFinder lists a project's current extracts and reads one staged
// record with its profile (staging.Service).
type ExtractFinder interface {
	CurrentExtracts(ctx context.Context, projectID int64) ([]staging.Extract, error)
	FindRecordByID(ctx context.Context, projectID, recordID int64) (*staging.StagedRecord, *staging.Extract, error)
	FindProfileJSON(ctx context.Context, recordID int64) (string, error)
}

// PasswordSettings finds a source's password settings (credentials.Service).
type PasswordSettings interface {
	Find(ctx context.Context, projectID, sourceID int64) (*credentials.Settings, error)
}

// Verifier checks a password against a parsed legacy hash (hashes.Verify).
type Verifier func(h hashes.Hash, password string) (bool, error)

// Deps are the services the hook reads.
type Deps struct {
	Orgs      OrgFinder
	Extracts  ExtractFinder
	Passwords PasswordSettings
	Sealer    *secrets.Sealer
}

// Options tune the service; zero values take the defaults.
type Options struct {
	// Now is the clock of the records and the throttle (time.Now). The
	// budget is measured on the monotonic clock, whatever Now says.
	Now    func() time.Time
	Logger *slog.Logger
	// Workers verify passwords at once (default: the number of cores);
	// Queue more may wait (default 4 per worker).
	Workers, Queue int
	// Verifier checks passwords (default hashes.Verify).
	Verifier Verifier
	// FailuresPerUsername and FailuresPerAddress are the failed attempts
	// allowed per ThrottleWindow before the hook stops checking (defaults
	// 10 and 50 per 15 minutes).
	FailuresPerUsername, FailuresPerAddress int
	ThrottleWindow                          time.Duration
	// MaxBodyBytes bounds a request (default 64 KiB; Okta's are ~1 KiB).
	MaxBodyBytes int
	// OAuthClient fetches OAuth issuers' metadata and keys (default: a
	// client following at most three redirects, to https only).
	OAuthClient *http.Client
}

// Service keeps the hooks' configuration and answers Okta's calls.
type Service struct {
	db       *db.DB
	deps     Deps
	now      func() time.Time
	log      *slog.Logger
	verify   Verifier
	pool     *pool
	throttle *throttle
	// audits bounds the audit entries refused requests may write, so that
	// a flood of forged requests cannot flood the audit log.
	audits  *window
	maxBody int
	// ldap is the state of the bind checks (ldapbind.go).
	ldap  binds
	oauth *oauthVerifier
}

// NewService returns the service.
func NewService(database *db.DB, deps Deps, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.Queue <= 0 {
		opts.Queue = 4 * opts.Workers
	}
	if opts.Verifier == nil {
		opts.Verifier = hashes.Verify
	}
	if opts.FailuresPerUsername <= 0 {
		opts.FailuresPerUsername = 10
	}
	if opts.FailuresPerAddress <= 0 {
		opts.FailuresPerAddress = 50
	}
	if opts.ThrottleWindow <= 0 {
		opts.ThrottleWindow = 15 * time.Minute
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 64 << 10
	}
	return &Service{db: database, deps: deps, now: opts.Now, log: opts.Logger, verify: opts.Verifier,
		pool:     newPool(opts.Workers, opts.Queue),
		throttle: newThrottle(opts.FailuresPerUsername, opts.FailuresPerAddress, opts.ThrottleWindow, opts.Now),
		audits:   newWindow(20, time.Minute, opts.Now), maxBody: opts.MaxBodyBytes,
		oauth: newOAuthVerifier(opts.OAuthClient, opts.Now, opts.Logger)}
}

// MaxBodyBytes is the largest request the hook reads.
func (s *Service) MaxBodyBytes() int { return s.maxBody }

// FindConfig returns the hook serving the project, or nil when none does.
func (s *Service) FindConfig(ctx context.Context, projectID int64) (*Config, error) {
	var link []hookProject
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Limit(1).Find(&link).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	if len(link) == 0 {
		return nil, nil
	}
	c, err := s.loadHook(ctx, s.db.Read, "id = ?", link[0].HookID)
	if err != nil || c == nil {
		return c, err
	}
	if s.deps.Orgs != nil {
		if conn, err := s.deps.Orgs.Find(ctx, projectID); err == nil && (conn == nil || conn.OrgURL != c.OrgURL) {
			c.OrgMoved = true
		}
	}
	return c, nil
}

// loadHook reads one hook and its projects.
func (s *Service) loadHook(ctx context.Context, q *gorm.DB, where string, arg any) (*Config, error) {
	var out []Config
	if err := q.WithContext(ctx).Where(where, arg).Limit(1).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	c := &out[0]
	if err := q.WithContext(ctx).Model(&hookProject{}).Where("hook_id = ?", c.ID).Order("project_id").Pluck("project_id", &c.ProjectIDs).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return c, nil
}

// SaveConfig makes the hook of the project's Okta org serve the project,
// creating the hook when the org has none, and applies the settings. version
// is the version of the hook the project is served by (0 when none). When a
// secret is generated (a new hook, or RotateSecret) it is returned in clear
// this once; it is never shown again. Settings are the org's: they change
// the hook for every project it serves.
func (s *Service) SaveConfig(ctx context.Context, projectID, version int64, in ConfigInput) (*Config, string, error) {
	if s.deps.Orgs == nil || s.deps.Sealer == nil {
		return nil, "", apperr.Internal(errors.New("hook: no org finder or sealer"))
	}
	conn, err := s.deps.Orgs.Find(ctx, projectID)
	if err != nil {
		return nil, "", err
	}
	if conn == nil {
		return nil, "", apperr.Conflict("Connect the project to its Okta org first: the password import hook serves that org.")
	}
	if err := in.validate(); err != nil {
		return nil, "", err
	}
	var out *Config
	var shown string
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var link []hookProject
		if err := tx.Where("project_id = ?", projectID).Limit(1).Find(&link).Error; err != nil {
			return err
		}
		var current int64
		if len(link) > 0 {
			var v []int64
			if err := tx.Model(&Config{}).Where("id = ?", link[0].HookID).Pluck("version", &v).Error; err != nil {
				return err
			}
			if len(v) > 0 {
				current = v[0]
			}
		}
		if version != current {
			return apperr.VersionConflict(what, current, nil)
		}
		found, err := s.loadHook(ctx, tx, "org_url = ?", conn.OrgURL)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		c := found
		exists := c != nil
		var before Config
		if !exists {
			key, err := randomText(18)
			if err != nil {
				return err
			}
			c = &Config{OrgURL: conn.OrgURL, OrgKey: key, AuthType: AuthHeader, HeaderName: DefaultHeaderName, BudgetMS: DefaultBudget.Milliseconds(), Version: 0, CreatedAt: now}
		} else {
			before = *c
		}
		if in.AuthType != "" {
			c.AuthType = in.AuthType
		}
		if o := in.OAuth; o != nil {
			c.OAuthIssuer, c.OAuthAudience, c.OAuthJWKSURL, c.OAuthClientID, c.OAuthScope = o.Issuer, o.Audience, o.JWKSURL, o.ClientID, o.Scope
		}
		if c.AuthType == AuthOAuth && (c.OAuthIssuer == "" || c.OAuthAudience == "") {
			fields := map[string]string{}
			if c.OAuthIssuer == "" {
				fields["oauth_issuer"] = "OAuth needs the issuer: the authorization server that signs Okta's access tokens (for instance https://acme.okta.com/oauth2/default)."
			}
			if c.OAuthAudience == "" {
				fields["oauth_audience"] = "OAuth needs the audience: the aud claim of the access tokens (api://default on Okta's default authorization server)."
			}
			return apperr.Invalid("Please correct the highlighted fields.", fields)
		}
		secretChanged := false
		switch {
		case in.Secret != nil:
			secretChanged = true
			if err := s.setSecret(c, *in.Secret); err != nil {
				return err
			}
		// OAuth hooks have a secret too: Okta's event hooks, which confirm
		// the imports, know only the header scheme.
		case in.RotateSecret || !exists:
			secret, err := randomText(32)
			if err != nil {
				return err
			}
			secretChanged, shown = true, secret
			if err := s.setSecret(c, secret); err != nil {
				return err
			}
		}
		if in.HeaderName != "" {
			c.HeaderName = in.HeaderName
		}
		if in.Budget != 0 {
			c.BudgetMS = in.Budget.Milliseconds()
		}
		c.Version++
		c.UpdatedAt = now
		if !exists {
			if err := tx.Create(c).Error; err != nil {
				if errors.Is(err, gorm.ErrDuplicatedKey) {
					return apperr.VersionConflict(what, 0, nil)
				}
				return err
			}
		} else {
			res := tx.Model(c).Where("id = ? AND version = ?", c.ID, before.Version).
				Select("auth_type", "header_name", "secret_sealed", "secret_hint", "oauth_issuer", "oauth_audience",
					"oauth_jwks_url", "oauth_client_id", "oauth_scope", "budget_ms", "version", "updated_at").Updates(c)
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return apperr.VersionConflict(what, 0, nil)
			}
		}
		if len(link) == 0 || link[0].HookID != c.ID {
			if err := tx.Where("project_id = ?", projectID).Delete(&hookProject{}).Error; err != nil {
				return err
			}
			if err := tx.Create(&hookProject{ProjectID: projectID, HookID: c.ID, CreatedAt: now}).Error; err != nil {
				if errors.Is(err, gorm.ErrForeignKeyViolated) {
					return apperr.NotFound("project")
				}
				return err
			}
			if len(link) > 0 {
				if err := dropOrphan(tx, link[0].HookID); err != nil {
					return err
				}
			}
		}
		reloaded, err := s.loadHook(ctx, tx, "id = ?", c.ID)
		if err != nil {
			return err
		}
		out = reloaded
		change := audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "password_hook", EntityID: c.ID,
			Label: "password import hook of " + c.OrgURL, After: auditViewOf(out, secretChanged)}
		if exists {
			change.Before = auditViewOf(&before, false)
		} else {
			change.Action = audit.ActionCreate
		}
		return audit.Record(ctx, tx, change)
	})
	if err != nil {
		return nil, "", wrap(err)
	}
	return out, shown, nil
}

// RemoveConfig stops the hook serving the project; a hook left serving no
// project is deleted with its attempts.
func (s *Service) RemoveConfig(ctx context.Context, projectID int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var link []hookProject
		if err := tx.Where("project_id = ?", projectID).Limit(1).Find(&link).Error; err != nil {
			return err
		}
		if len(link) == 0 {
			return apperr.NotFound(what)
		}
		c, err := s.loadHook(ctx, tx, "id = ?", link[0].HookID)
		if err != nil {
			return err
		}
		if err := tx.Where("project_id = ?", projectID).Delete(&hookProject{}).Error; err != nil {
			return err
		}
		if err := dropOrphan(tx, link[0].HookID); err != nil {
			return err
		}
		label := "password import hook"
		if c != nil {
			label += " of " + c.OrgURL
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "password_hook",
			EntityID: link[0].HookID, Label: label, Before: auditViewOf(c, false)})
	}))
}

// dropOrphan deletes a hook that serves no project any more.
func dropOrphan(tx *gorm.DB, hookID int64) error {
	var n int64
	if err := tx.Model(&hookProject{}).Where("hook_id = ?", hookID).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	return tx.Where("id = ?", hookID).Delete(&Config{}).Error
}

func (s *Service) setSecret(c *Config, secret string) error {
	sealed, err := s.deps.Sealer.Seal(secret)
	if err != nil {
		return err
	}
	c.SecretSealed, c.SecretHint = sealed, secret[len(secret)-hintLen:]
	return nil
}

func (in ConfigInput) validate() error {
	fields := map[string]string{}
	if in.HeaderName != "" && (len(in.HeaderName) > MaxHeaderNameLen || !headerToken(in.HeaderName)) {
		fields["header_name"] = "A header name is letters, digits and - only (for instance Authorization or X-Ferry-Hook-Secret)."
	}
	if in.Secret != nil {
		switch sec := *in.Secret; {
		case len(sec) < MinSecretLen || len(sec) > MaxSecretLen:
			fields["secret"] = "A shared secret is 16 to 512 characters long."
		case strings.TrimSpace(sec) != sec || !printableASCII(sec):
			fields["secret"] = "A shared secret is printable ASCII without spaces around it (it travels in an HTTP header)."
		}
	}
	if in.Budget != 0 && (in.Budget < MinBudget || in.Budget > MaxBudget) {
		fields["budget"] = "The time budget is between 200 and 2500 milliseconds: Okta waits 3 seconds at most."
	}
	if in.AuthType != "" && in.AuthType != AuthHeader && in.AuthType != AuthOAuth {
		fields["auth_type"] = "Okta authenticates with a shared secret in a header (header) or an OAuth 2.0 access token (oauth)."
	}
	if in.OAuth != nil {
		in.OAuth.validate(fields)
	}
	if len(fields) > 0 {
		return apperr.Invalid("Please correct the highlighted fields.", fields)
	}
	return nil
}

func headerToken(s string) bool {
	for _, r := range s {
		if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return s != ""
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// randomText is n random bytes as unpadded URL-safe base64.
func randomText(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// auditView is what the audit log keeps of a hook: the secret only as
// whether it changed and its last four characters. The OAuth settings are
// not secrets (Okta keeps the client secret and the private key).
type auditView struct {
	OrgURL        string `json:"orgUrl"`
	Path          string `json:"path"`
	AuthType      string `json:"authType"`
	HeaderName    string `json:"headerName"`
	Secret        string `json:"secret"`
	OAuthIssuer   string `json:"oauthIssuer,omitempty"`
	OAuthAudience string `json:"oauthAudience,omitempty"`
	OAuthJWKSURL  string `json:"oauthJwksUrl,omitempty"`
	OAuthClientID string `json:"oauthClientId,omitempty"`
	OAuthScope    string `json:"oauthScope,omitempty"`
	BudgetMS      int64  `json:"budgetMs"`
	Version       int64  `json:"version"`
}

func auditViewOf(c *Config, secretChanged bool) *auditView {
	if c == nil {
		return nil
	}
	secret := "saved, ending in …" + c.SecretHint
	if secretChanged {
		secret = "changed, now ending in …" + c.SecretHint
	}
	return &auditView{OrgURL: c.OrgURL, Path: c.Path(), AuthType: c.AuthType, HeaderName: c.HeaderName, Secret: secret,
		OAuthIssuer: c.OAuthIssuer, OAuthAudience: c.OAuthAudience, OAuthJWKSURL: c.OAuthJWKSURL, OAuthClientID: c.OAuthClientID,
		OAuthScope: c.OAuthScope, BudgetMS: c.BudgetMS, Version: c.Version}
}

// wrap passes application errors through and turns anything else into an
// internal error.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	if ae := apperr.As(err); ae != nil {
		return ae
	}
	return apperr.Internal(err)
}
