// Package auth owns accounts, password hashing, sign-in throttling, sessions,
// personal API tokens, project memberships and the permission matrix.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/db"
)

// Account is a person who can sign in to the console.
type Account struct {
	ID                 int64      `gorm:"primaryKey" json:"id"`
	Email              string     `json:"email"`
	Name               string     `json:"name"`
	PasswordHash       string     `json:"-"`
	IsAdmin            bool       `json:"isAdmin"`
	DisabledAt         *time.Time `json:"disabledAt,omitempty"`
	MustChangePassword bool       `json:"mustChangePassword"`
	Version            int64      `json:"version"`
	CreatedAt          time.Time  `json:"createdAt"`
	UpdatedAt          time.Time  `json:"updatedAt"`
}

// Disabled reports whether the account may no longer sign in.
func (a Account) Disabled() bool { return a.DisabledAt != nil }

// Session is a signed-in browser. Only the hash of its cookie value is stored.
type Session struct {
	ID        int64 `gorm:"primaryKey"`
	TokenHash string
	AccountID int64
	CreatedAt time.Time
	ExpiresAt time.Time
	UserAgent string
	RemoteIP  string
}

// APIToken is a personal token for scripts. Only its hash is stored; the
// prefix identifies it in lists.
type APIToken struct {
	ID          int64      `gorm:"primaryKey" json:"id"`
	AccountID   int64      `json:"accountId"`
	Name        string     `json:"name"`
	TokenHash   string     `json:"-"`
	TokenPrefix string     `json:"prefix"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastUsedAt  *time.Time `json:"lastUsedAt,omitempty"`
	RevokedAt   *time.Time `json:"revokedAt,omitempty"`
}

func (APIToken) TableName() string { return "api_tokens" }

type signInFailure struct {
	Email         string `gorm:"primaryKey"`
	Failures      int
	LastFailureAt time.Time
}

func (signInFailure) TableName() string { return "sign_in_failures" }

// Options configure the service.
type Options struct {
	Now        func() time.Time
	Argon2     Argon2Params
	SessionTTL time.Duration
	// FreeFailures is the number of failed sign-ins allowed before each
	// further attempt must wait, doubling from one second up to MaxWait.
	FreeFailures int
	MaxWait      time.Duration
}

// Service is the auth service.
type Service struct {
	db   *db.DB
	opts Options

	mu              sync.Mutex
	setupSecretHash string
}

// NewService returns a Service; zero options take sensible defaults.
func NewService(database *db.DB, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Argon2 == (Argon2Params{}) {
		opts.Argon2 = DefaultArgon2()
	}
	if opts.SessionTTL == 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.FreeFailures == 0 {
		opts.FreeFailures = 5
	}
	if opts.MaxWait == 0 {
		opts.MaxWait = 15 * time.Minute
	}
	return &Service{db: database, opts: opts}
}

// SessionTTL is how long a session lasts.
func (s *Service) SessionTTL() time.Duration { return s.opts.SessionTTL }

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// NormalizeEmail lower-cases and trims an email address for storage and lookup.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomToken(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // the OS has no entropy: nothing safe to do
	}
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ---- accounts ----

// AccountInput creates an account.
type AccountInput struct {
	Email    string
	Name     string
	Password string
	IsAdmin  bool
	// MustChangePassword asks the person to choose their own password at first sign-in.
	MustChangePassword bool
}

func (s *Service) checkAccount(in AccountInput) error {
	c := apperr.NewCheck()
	c.Text("email", "Email", in.Email, true, 254)
	if in.Email != "" {
		if addr, err := mail.ParseAddress(in.Email); err != nil || addr.Address != strings.TrimSpace(in.Email) {
			c.Add("email", "Email must be an address such as name@example.com.")
		}
	}
	c.Name("name", "Name", in.Name)
	if msg := checkPasswordRules(in.Password, in.Email); msg != "" {
		c.Add("password", msg)
	}
	return c.Err()
}

// CreateAccount creates an account; the email must be unused.
func (s *Service) CreateAccount(ctx context.Context, in AccountInput) (*Account, error) {
	return s.createAccount(ctx, in, false)
}

// createAccount creates an account; with onlyFirst, only while no account exists.
func (s *Service) createAccount(ctx context.Context, in AccountInput, onlyFirst bool) (*Account, error) {
	in.Name = strings.TrimSpace(in.Name)
	if err := s.checkAccount(in); err != nil {
		return nil, err
	}
	hash, err := hashPassword(in.Password, s.opts.Argon2)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	a := &Account{Email: NormalizeEmail(in.Email), Name: in.Name, PasswordHash: hash, IsAdmin: in.IsAdmin,
		MustChangePassword: in.MustChangePassword, Version: 1}
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if onlyFirst {
			// Counted in the same write transaction, so two setup requests cannot both win.
			var n int64
			if err := tx.Model(&Account{}).Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				return apperr.Forbidden("Ferry is already set up. Sign in instead.")
			}
		}
		if err := tx.Create(a).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"email": "An account with this email already exists."})
			}
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: audit.ActionCreate, EntityType: "account", EntityID: a.ID, Label: a.Email, After: a})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return a, nil
}

// CountAccounts returns how many accounts exist.
func (s *Service) CountAccounts(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.Read.WithContext(ctx).Model(&Account{}).Count(&n).Error; err != nil {
		return 0, apperr.Internal(err)
	}
	return n, nil
}

// FindAccountByID returns one account.
func (s *Service) FindAccountByID(ctx context.Context, id int64) (*Account, error) {
	var a Account
	if err := s.db.Read.WithContext(ctx).First(&a, id).Error; err != nil {
		return nil, notFoundOr(err, "account")
	}
	return &a, nil
}

// FindAccountByEmail returns the account with email (any case).
func (s *Service) FindAccountByEmail(ctx context.Context, email string) (*Account, error) {
	var a Account
	if err := s.db.Read.WithContext(ctx).Where("email = ?", NormalizeEmail(email)).First(&a).Error; err != nil {
		return nil, notFoundOr(err, "account")
	}
	return &a, nil
}

// FindAccounts lists every account by email.
func (s *Service) FindAccounts(ctx context.Context) ([]Account, error) {
	var out []Account
	if err := s.db.Read.WithContext(ctx).Order("email").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// AccountUpdate changes an account; nil fields are left alone.
type AccountUpdate struct {
	Name     *string
	IsAdmin  *bool
	Disabled *bool
}

// UpdateAccount applies upd to the account if it is still at version. An
// admin cannot remove their own admin right or disable themselves, and the
// last active admin stays an admin.
func (s *Service) UpdateAccount(ctx context.Context, id, version int64, upd AccountUpdate) (*Account, error) {
	actor := audit.ActorFrom(ctx)
	var out Account
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var a Account
		if err := tx.First(&a, id).Error; err != nil {
			return notFoundOr(err, "account")
		}
		if a.Version != version {
			return apperr.VersionConflict("account", a.Version, accountChanges(a, upd))
		}
		before := a
		c := apperr.NewCheck()
		if upd.Name != nil {
			c.Name("name", "Name", strings.TrimSpace(*upd.Name))
			a.Name = strings.TrimSpace(*upd.Name)
		}
		if err := c.Err(); err != nil {
			return err
		}
		if upd.IsAdmin != nil {
			if !*upd.IsAdmin && actor.ID == a.ID && a.IsAdmin {
				return apperr.Invalid("You cannot remove your own admin rights; ask another admin.", nil)
			}
			a.IsAdmin = *upd.IsAdmin
		}
		if upd.Disabled != nil {
			if *upd.Disabled && actor.ID == a.ID {
				return apperr.Invalid("You cannot disable your own account.", nil)
			}
			if *upd.Disabled && a.DisabledAt == nil {
				t := s.now()
				a.DisabledAt = &t
			} else if !*upd.Disabled {
				a.DisabledAt = nil
			}
		}
		if before.IsAdmin && !before.Disabled() && (!a.IsAdmin || a.Disabled()) {
			var admins int64
			if err := tx.Model(&Account{}).Where("is_admin = ? AND disabled_at IS NULL", true).Count(&admins).Error; err != nil {
				return err
			}
			if admins <= 1 {
				return apperr.Invalid("This is the last active admin; make someone else an admin first.", nil)
			}
		}
		a.Version++
		res := tx.Model(&Account{}).Where("id = ? AND version = ?", id, version).Select("name", "is_admin", "disabled_at", "version", "updated_at").Updates(&a)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.VersionConflict("account", 0, nil)
		}
		if a.Disabled() {
			// A disabled account is signed out everywhere at once.
			if err := tx.Where("account_id = ?", a.ID).Delete(&Session{}).Error; err != nil {
				return err
			}
		}
		out = a
		return audit.Record(ctx, tx, audit.Change{Action: audit.ActionUpdate, EntityType: "account", EntityID: a.ID, Label: a.Email, Before: before, After: a})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return &out, nil
}

// accountChanges lists, for a version conflict, the fields of upd whose
// stored value differs from what the caller sent.
func accountChanges(stored Account, upd AccountUpdate) []apperr.FieldChange {
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	var out []apperr.FieldChange
	if upd.Name != nil && strings.TrimSpace(*upd.Name) != stored.Name {
		out = append(out, apperr.FieldChange{Field: "name", Label: "Name", Stored: stored.Name, Yours: strings.TrimSpace(*upd.Name)})
	}
	if upd.IsAdmin != nil && *upd.IsAdmin != stored.IsAdmin {
		out = append(out, apperr.FieldChange{Field: "is_admin", Label: "Admin", Stored: yesNo(stored.IsAdmin), Yours: yesNo(*upd.IsAdmin)})
	}
	if upd.Disabled != nil && *upd.Disabled != stored.Disabled() {
		out = append(out, apperr.FieldChange{Field: "disabled", Label: "Disabled", Stored: yesNo(stored.Disabled()), Yours: yesNo(*upd.Disabled)})
	}
	return out
}

// ResetPassword sets a new password chosen by an admin; the person must
// change it at next sign-in, and every session of theirs ends.
func (s *Service) ResetPassword(ctx context.Context, id int64, newPassword string) error {
	return s.setPassword(ctx, id, newPassword, true)
}

// ChangePassword lets a person replace their own password after proving the current one.
func (s *Service) ChangePassword(ctx context.Context, id int64, current, newPassword string) error {
	a, err := s.FindAccountByID(ctx, id)
	if err != nil {
		return err
	}
	ok, err := verifyPassword(a.PasswordHash, current)
	if err != nil || !ok {
		return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"current_password": "Current password is incorrect."})
	}
	if current == newPassword {
		return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"password": "Choose a password different from the current one."})
	}
	return s.setPassword(ctx, id, newPassword, false)
}

func (s *Service) setPassword(ctx context.Context, id int64, password string, mustChange bool) error {
	a, err := s.FindAccountByID(ctx, id)
	if err != nil {
		return err
	}
	if msg := checkPasswordRules(password, a.Email); msg != "" {
		return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"password": msg})
	}
	hash, err := hashPassword(password, s.opts.Argon2)
	if err != nil {
		return apperr.Internal(err)
	}
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&Account{}).Where("id = ?", id).Updates(map[string]any{
			"password_hash": hash, "must_change_password": mustChange, "version": gorm.Expr("version + 1"), "updated_at": s.now(),
		}).Error; err != nil {
			return err
		}
		if mustChange {
			if err := tx.Where("account_id = ?", id).Delete(&Session{}).Error; err != nil {
				return err
			}
		}
		action := "password changed"
		if mustChange {
			action = "password reset by an admin"
		}
		return audit.Record(ctx, tx, audit.Change{Action: audit.ActionUpdate, EntityType: "account", EntityID: id, Label: a.Email,
			Before: map[string]string{"password": "(previous)"}, After: map[string]string{"password": action}})
	}))
}

// ---- first run ----

// NewSetupSecret creates the one-time secret of the first-run setup page and
// returns it; it is valid only while no account exists, and only the latest
// one is valid.
func (s *Service) NewSetupSecret() string {
	secret := randomToken("")
	s.mu.Lock()
	s.setupSecretHash = hashToken(secret)
	s.mu.Unlock()
	return secret
}

// SetupSecretValid reports whether secret is the current setup secret.
func (s *Service) SetupSecretValid(secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.setupSecretHash != "" && secret != "" &&
		subtle.ConstantTimeCompare([]byte(hashToken(secret)), []byte(s.setupSecretHash)) == 1
}

// CreateFirstAdmin creates the first admin through the setup page. It is
// refused once any account exists, and the secret is spent on success.
func (s *Service) CreateFirstAdmin(ctx context.Context, secret string, in AccountInput) (*Account, error) {
	if !s.SetupSecretValid(secret) {
		return nil, apperr.Forbidden("This setup link is no longer valid. Restart Ferry to print a new one, or sign in.")
	}
	in.IsAdmin = true
	a, err := s.createAccount(ctx, in, true)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.setupSecretHash = ""
	s.mu.Unlock()
	return a, nil
}

// ---- sign-in and sessions ----

// SignIn checks email and password and starts a session, returning the
// cookie value. Failed attempts for an email are counted; past the free
// allowance each attempt must wait longer, whether or not the account exists.
func (s *Service) SignIn(ctx context.Context, email, password, userAgent, remoteIP string) (string, *Account, error) {
	key := NormalizeEmail(email)
	bad := apperr.Invalid("Email or password is incorrect.", nil)
	if key == "" || password == "" || len(key) > 254 || len(password) > MaxPasswordLen*4 {
		return "", nil, bad
	}
	// The attempt is counted before the password is checked, in one write
	// transaction with the throttle check, so that parallel guesses cannot
	// slip past the limit; a successful sign-in clears the count.
	if wait, err := s.reserveAttempt(ctx, key); err != nil {
		return "", nil, err
	} else if wait > 0 {
		return "", nil, apperr.Invalid(fmt.Sprintf("Too many failed sign-ins for this email. Try again in %s.", humanWait(wait)), nil)
	}
	var a Account
	err := s.db.Read.WithContext(ctx).Where("email = ?", key).First(&a).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil, apperr.Internal(err)
	}
	ok := false
	if err == nil {
		ok, _ = verifyPassword(a.PasswordHash, password)
	} else {
		// Spend the same time as a real check so that timing does not reveal which emails exist.
		_, _ = hashPassword(password, s.opts.Argon2)
	}
	if !ok {
		return "", nil, bad
	}
	if a.Disabled() {
		return "", nil, apperr.Forbidden("This account is disabled. Ask an admin to enable it.")
	}
	token := randomToken("")
	now := s.now()
	sess := Session{TokenHash: hashToken(token), AccountID: a.ID, CreatedAt: now, ExpiresAt: now.Add(s.opts.SessionTTL),
		UserAgent: truncate(userAgent, 200), RemoteIP: truncate(remoteIP, 64)}
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("email = ?", key).Delete(&signInFailure{}).Error; err != nil {
			return err
		}
		// Expired sessions are swept here so that the table does not grow forever.
		if err := tx.Where("expires_at < ?", now).Delete(&Session{}).Error; err != nil {
			return err
		}
		return tx.Create(&sess).Error
	})
	if err != nil {
		return "", nil, apperr.Internal(err)
	}
	return token, &a, nil
}

// reserveAttempt counts one sign-in attempt for key, unless the key must
// still wait after earlier failures, in which case it returns the time left.
func (s *Service) reserveAttempt(ctx context.Context, key string) (time.Duration, error) {
	var remaining time.Duration
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		// Make sure the row exists, then lock it with a no-op update: on SQLite
		// the write transaction is already exclusive; on PostgreSQL the row lock
		// queues parallel attempts for the same email.
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&signInFailure{Email: key, Failures: 0, LastFailureAt: s.now()}).Error; err != nil {
			return err
		}
		if err := tx.Exec("UPDATE sign_in_failures SET failures = failures WHERE email = ?", key).Error; err != nil {
			return err
		}
		var f signInFailure
		if err := tx.Where("email = ?", key).First(&f).Error; err != nil {
			return err
		}
		if f.Failures >= s.opts.FreeFailures {
			wait := time.Duration(math.Pow(2, float64(f.Failures-s.opts.FreeFailures))) * time.Second
			if wait > s.opts.MaxWait || wait <= 0 {
				wait = s.opts.MaxWait
			}
			if remaining = f.LastFailureAt.Add(wait).Sub(s.now()); remaining > 0 {
				return nil
			}
			remaining = 0
		}
		return tx.Model(&signInFailure{}).Where("email = ?", key).
			Updates(map[string]any{"failures": f.Failures + 1, "last_failure_at": s.now()}).Error
	})
	if err != nil {
		return 0, apperr.Internal(err)
	}
	return remaining, nil
}

func humanWait(d time.Duration) string {
	secs := int(math.Ceil(d.Seconds()))
	if secs < 60 {
		if secs == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", secs)
	}
	mins := int(math.Ceil(d.Minutes()))
	if mins == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", mins)
}

// FindSession returns the account signed in with the cookie value token.
// Expired sessions and disabled accounts are refused.
func (s *Service) FindSession(ctx context.Context, token string) (*Account, *Session, error) {
	if token == "" || len(token) > 200 {
		return nil, nil, apperr.Unauthorized("Please sign in.")
	}
	var sess Session
	err := s.db.Read.WithContext(ctx).Where("token_hash = ?", hashToken(token)).First(&sess).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !sess.ExpiresAt.After(s.now())) {
		return nil, nil, apperr.Unauthorized("Your session has expired. Please sign in again.")
	}
	if err != nil {
		return nil, nil, apperr.Internal(err)
	}
	a, err := s.FindAccountByID(ctx, sess.AccountID)
	if err != nil {
		return nil, nil, err
	}
	if a.Disabled() {
		return nil, nil, apperr.Unauthorized("This account is disabled.")
	}
	return a, &sess, nil
}

// SignOut ends the session with the cookie value token.
func (s *Service) SignOut(ctx context.Context, token string) error {
	return wrap(s.db.Write.WithContext(ctx).Where("token_hash = ?", hashToken(token)).Delete(&Session{}).Error)
}

// ---- API tokens ----

// TokenPrefix starts every Ferry API token, so that leaked tokens are recognisable.
const TokenPrefix = "ferry_"

// CreateAPIToken creates a token for accountID and returns its value, which
// is shown once and never stored.
func (s *Service) CreateAPIToken(ctx context.Context, accountID int64, name string) (string, *APIToken, error) {
	name = strings.TrimSpace(name)
	c := apperr.NewCheck()
	c.Name("name", "Token name", name)
	if err := c.Err(); err != nil {
		return "", nil, err
	}
	a, err := s.FindAccountByID(ctx, accountID)
	if err != nil {
		return "", nil, err
	}
	if a.Disabled() {
		return "", nil, apperr.Invalid("This account is disabled; it cannot have API tokens.", nil)
	}
	value := randomToken(TokenPrefix)
	t := &APIToken{AccountID: accountID, Name: name, TokenHash: hashToken(value), TokenPrefix: value[:len(TokenPrefix)+6]}
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: audit.ActionCreate, EntityType: "api_token", EntityID: t.ID, Label: t.Name + " (" + a.Email + ")", After: t})
	})
	if err != nil {
		return "", nil, wrap(err)
	}
	return value, t, nil
}

// FindAPITokens lists an account's tokens, newest first, revoked ones included.
func (s *Service) FindAPITokens(ctx context.Context, accountID int64) ([]APIToken, error) {
	var out []APIToken
	if err := s.db.Read.WithContext(ctx).Where("account_id = ?", accountID).Order("id DESC").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// RevokeAPIToken revokes one of accountID's tokens.
func (s *Service) RevokeAPIToken(ctx context.Context, accountID, tokenID int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var t APIToken
		if err := tx.Where("id = ? AND account_id = ?", tokenID, accountID).First(&t).Error; err != nil {
			return notFoundOr(err, "API token")
		}
		if t.RevokedAt != nil {
			return nil
		}
		before := t
		now := s.now()
		t.RevokedAt = &now
		if err := tx.Model(&APIToken{}).Where("id = ?", t.ID).Update("revoked_at", now).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: audit.ActionUpdate, EntityType: "api_token", EntityID: t.ID, Label: t.Name, Before: before, After: t})
	}))
}

// AuthenticateToken returns the account that owns an unrevoked token value.
func (s *Service) AuthenticateToken(ctx context.Context, value string) (*Account, error) {
	unauthorized := apperr.Unauthorized("The API token is missing, revoked or not valid. Send Authorization: Bearer <token>.")
	if !strings.HasPrefix(value, TokenPrefix) || len(value) > 200 {
		return nil, unauthorized
	}
	var t APIToken
	err := s.db.Read.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", hashToken(value)).First(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, unauthorized
	}
	if err != nil {
		return nil, apperr.Internal(err)
	}
	a, err := s.FindAccountByID(ctx, t.AccountID)
	if err != nil || a.Disabled() {
		return nil, unauthorized
	}
	// Last use is informative; losing one update under load is harmless.
	_ = s.db.Write.WithContext(ctx).Model(&APIToken{}).Where("id = ?", t.ID).Update("last_used_at", s.now()).Error
	return a, nil
}

// ---- helpers ----

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func notFoundOr(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.NotFound(what)
	}
	return apperr.Internal(err)
}

// wrap passes application errors through and turns anything else into an internal error.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		return ae
	}
	return apperr.Internal(err)
}
