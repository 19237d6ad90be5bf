package hook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// EventType is the type of Okta's password import request.
const EventType = "com.okta.user.credential.password.import"

// Limits of a request's values.
const (
	// MaxUsernameLen bounds the username (Okta's logins are 100 characters).
	MaxUsernameLen = 1024
	// MaxPasswordLen bounds the password: a longer one is answered
	// UNVERIFIED without being checked (no legacy system stores such).
	MaxPasswordLen = 1024
	maxOrgKeyLen   = 64
)

// Outcomes of an attempt, as recorded.
const (
	OutcomeVerified   = "verified"
	OutcomeUnverified = "unverified"
	OutcomeError      = "error"
)

// Causes of an attempt that was not verified, as recorded.
const (
	CauseNoUser        = "no_user"
	CauseNoCredential  = "no_credential"
	CauseWrongPassword = "wrong_password"
	// CauseAmbiguous: the username is the source key of records of
	// different people (different logins): no credential is tried.
	CauseAmbiguous    = "ambiguous"
	CauseThrottled    = "throttled"
	CauseOverloaded   = "overloaded"
	CauseTimeout      = "timeout"
	CauseBadRequest   = "bad_request"
	CauseUnauthorized = "unauthorized"
	// CauseInternal: the database failed; nothing was decided.
	CauseInternal = "internal"
	// Causes of the bind check against the legacy directory (ldapbind.go).
	// CauseLegacyUnreachable: no connection, TLS failed, or no answer in time.
	CauseLegacyUnreachable = "legacy_unreachable"
	// CauseLegacyLocked: the legacy account is locked (AD data 775).
	CauseLegacyLocked = "legacy_locked"
	// CauseLegacyDisabled: disabled, expired or restricted account (AD data
	// 533, 701, 530, 531).
	CauseLegacyDisabled = "legacy_disabled"
	// CauseLegacyExpired: the password expired or must be changed (AD data
	// 532, 773).
	CauseLegacyExpired = "legacy_expired"
	// CauseLegacyRefused: another refusal; the password was not checked.
	CauseLegacyRefused = "legacy_refused"
	// CauseLockoutGuard: Ferry stopped binding the account before the
	// directory would lock it out.
	CauseLockoutGuard = "lockout_guard"
)

// ActionRefused is the audit action of a request refused for its
// authentication.
const ActionRefused = "hook_refused"

// The answers. Okta reads only the verdict; the bodies of the errors are
// for people reading Okta's logs.
var (
	verifiedBody   = []byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}]}`)
	unverifiedBody = []byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"UNVERIFIED"}}]}`)
)

func errorBody(summary string) []byte {
	b, _ := json.Marshal(map[string]string{"errorSummary": summary})
	return b
}

// request is the part of Okta's PasswordImportRequest the hook reads.
type request struct {
	EventType string `json:"eventType"`
	Data      *struct {
		Context *struct {
			Request *struct {
				IPAddress string `json:"ipAddress"`
			} `json:"request"`
			Credential *struct {
				Username *string `json:"username"`
				Password *string `json:"password"`
			} `json:"credential"`
		} `json:"context"`
	} `json:"data"`
}

// attempt is one call, as recorded in hook_attempts.
type attempt struct {
	ID           int64  `gorm:"column:id;primaryKey"`
	HookID       int64  `gorm:"column:hook_id"`
	ProjectID    *int64 `gorm:"column:project_id"`
	SourceID     *int64 `gorm:"column:source_id"`
	LoginKeyHash string `gorm:"column:login_key_hash"`
	// OktaUserRef is the okta_users row of the Okta user Ferry created for
	// the record the attempt was about, when there is one.
	OktaUserRef *int64    `gorm:"column:okta_user_ref"`
	Outcome     string    `gorm:"column:outcome"`
	Cause       string    `gorm:"column:cause"`
	DurationMS  int64     `gorm:"column:duration_ms"`
	At          time.Time `gorm:"column:at"`
}

func (attempt) TableName() string { return "hook_attempts" }

// verdict is what one call decided.
type verdict struct {
	status    int
	body      []byte
	outcome   string
	cause     string
	projectID int64
	sourceID  int64
	// recordID is the staged record the verdict is about (0: none).
	recordID int64
}

func verified(projectID, sourceID int64) verdict {
	return verdict{status: http.StatusOK, body: verifiedBody, outcome: OutcomeVerified, projectID: projectID, sourceID: sourceID}
}

func unverified(cause string) verdict {
	return verdict{status: http.StatusOK, body: unverifiedBody, outcome: OutcomeUnverified, cause: cause}
}

// unavailable is the answer when Ferry could not check: a 503 makes Okta
// fail this sign-in without importing anything (and retry once), and call
// the hook again at the next sign-in. The person is not told their password
// is wrong.
func unavailable(cause string) verdict {
	return verdict{status: http.StatusServiceUnavailable, body: errorBody("The password could not be checked now (" + cause + "); try again later."),
		outcome: OutcomeError, cause: cause}
}

func badRequest(summary string) verdict {
	return verdict{status: http.StatusBadRequest, body: errorBody(summary), outcome: OutcomeError, cause: CauseBadRequest}
}

var unauthorizedBody = errorBody("Authentication failed.")

// Verify answers one call of Okta's password import hook on the endpoint of
// orgKey: it authenticates the request with the org's shared secret, reads
// the username and password, finds the legacy identity and checks the
// password within the hook's time budget. It returns the HTTP status and
// body to send (application/json). The password is used for the check only:
// never logged, stored or audited.
func (s *Service) Verify(ctx context.Context, orgKey string, header http.Header, body []byte) (int, []byte) {
	start := time.Now()
	c, refused := s.authenticateAs(ctx, orgKey, header, true)
	if refused != nil {
		return refused.status, refused.body
	}
	budget := c.Budget()
	if budget <= 0 {
		budget = DefaultBudget
	}
	// The budget counts from the request's arrival: authentication (an
	// OAuth key fetch, rarely) spends it too.
	vctx, cancel := context.WithDeadline(ctx, start.Add(budget))
	defer cancel()
	loginKey, v := s.decide(vctx, c, body)
	s.record(ctx, c, loginKey, v, time.Since(start))
	return v.status, v.body
}

// authenticate finds the org's hook and checks the shared secret, whatever
// the inline hook's scheme: Okta's event hooks know only the header scheme.
func (s *Service) authenticate(ctx context.Context, orgKey string, header http.Header) (*Config, bool) {
	c, refused := s.authenticateAs(ctx, orgKey, header, false)
	return c, refused == nil
}

// authenticateAs finds the org's hook and checks the caller: the shared
// secret in constant time, or, for an inline hook call (inline) of an OAuth
// hook, the access token (oauth.go). A failure is audited (without any
// secret or token) and answered 401 whether the org key or the credential
// was wrong. When Ferry cannot check a token (the issuer's keys are out of
// reach) the answer is 503, as for any other failure of Ferry's. refused is
// the answer when the caller is not let in.
func (s *Service) authenticateAs(ctx context.Context, orgKey string, header http.Header, inline bool) (c *Config, refused *verdict) {
	start := time.Now()
	if validOrgKey(orgKey) {
		var found []Config
		if err := s.db.Read.WithContext(ctx).Where("org_key = ?", orgKey).Limit(1).Find(&found).Error; err != nil {
			s.log.ErrorContext(ctx, "password import hook: cannot read the hook", slog.String("error", err.Error()))
		} else if len(found) > 0 {
			c = &found[0]
		}
	}
	reason := "unknown endpoint"
	switch {
	case c != nil && inline && c.AuthType == AuthOAuth:
		err := s.oauth.verify(ctx, c, header, keyFetchTimeout(c.Budget()))
		var refusal *tokenRefusal
		switch {
		case err == nil:
			return c, nil
		case errors.As(err, &refusal):
			reason = "OAuth access token refused: " + refusal.reason
		default:
			// Not the caller's fault: Ferry cannot check, so Okta must not
			// read this as a wrong credential.
			s.log.ErrorContext(ctx, "password import hook: cannot check the OAuth access token", slog.Int64("hook", c.ID),
				slog.String("error", err.Error()))
			v := unavailable(CauseInternal)
			s.record(ctx, c, "", v, time.Since(start))
			return nil, &v
		}
	case c != nil:
		secret, err := s.deps.Sealer.Open(c.SecretSealed)
		if err != nil {
			s.log.ErrorContext(ctx, "password import hook: the shared secret cannot be opened (another secret key?)",
				slog.Int64("hook", c.ID), slog.String("error", err.Error()))
			reason = "the saved secret cannot be opened"
		} else {
			got := header.Values(c.HeaderName)
			given := ""
			if len(got) == 1 {
				given = got[0]
			}
			a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(secret))
			if subtle.ConstantTimeCompare(a[:], b[:]) == 1 && given != "" {
				return c, nil
			}
			reason = "no shared secret"
			if len(got) > 0 {
				reason = "wrong shared secret"
			}
		}
	}
	var hookID int64
	if c != nil {
		hookID = c.ID
	}
	s.log.WarnContext(ctx, "password import hook: request refused", slog.Int64("hook", hookID), slog.String("reason", reason))
	// A flood of forged requests writes a bounded number of rows.
	if s.audits.take(orgKeyBucket(orgKey, c)) {
		if c != nil {
			s.record(ctx, c, "", verdict{outcome: OutcomeError, cause: CauseUnauthorized}, 0)
		}
		actx := audit.WithActor(ctx, audit.System)
		err := s.db.Transaction(actx, func(tx *gorm.DB) error {
			return audit.Record(actx, tx, audit.Change{Action: ActionRefused, EntityType: "password_hook", EntityID: hookID,
				Label: "password import hook: request refused (" + reason + ")", After: map[string]any{"reason": reason, "knownEndpoint": c != nil}})
		})
		if err != nil {
			s.log.ErrorContext(ctx, "password import hook: cannot audit a refused request", slog.String("error", err.Error()))
		}
	}
	return nil, &verdict{status: http.StatusUnauthorized, body: unauthorizedBody, outcome: OutcomeError, cause: CauseUnauthorized}
}

// validOrgKey reports whether key could be an org key (URL-safe base64),
// so that anything else is refused without a query.
func validOrgKey(key string) bool {
	if key == "" || len(key) > maxOrgKeyLen {
		return false
	}
	for _, r := range key {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func orgKeyBucket(orgKey string, c *Config) string {
	if c != nil {
		return orgKey
	}
	return "" // every unknown endpoint shares one allowance
}

// decide reads the request and checks the password.
func (s *Service) decide(ctx context.Context, c *Config, body []byte) (loginKey string, v verdict) {
	if len(body) > s.maxBody {
		return "", badRequest("The request is too large.")
	}
	if !utf8.Valid(body) {
		return "", badRequest("The request is not UTF-8.")
	}
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil || dec.More() {
		return "", badRequest("The request is not a JSON object.")
	}
	if req.EventType != "" && req.EventType != EventType {
		return "", badRequest("The request is not a password import request (eventType " + EventType + ").")
	}
	if req.Data == nil || req.Data.Context == nil || req.Data.Context.Credential == nil ||
		req.Data.Context.Credential.Username == nil || req.Data.Context.Credential.Password == nil {
		return "", badRequest("The request has no data.context.credential.username and password.")
	}
	username, password := *req.Data.Context.Credential.Username, *req.Data.Context.Credential.Password
	if username == "" || len(username) > MaxUsernameLen {
		return "", badRequest("The username is empty or too long.")
	}
	address := ""
	if r := req.Data.Context.Request; r != nil && len(r.IPAddress) <= 64 {
		address = r.IPAddress
	}
	loginKey = schema.LoginKey(username)
	if s.throttle.blocked(loginKey, address) {
		return loginKey, unavailable(CauseThrottled)
	}
	if password == "" || len(password) > MaxPasswordLen {
		s.throttle.fail(loginKey, address)
		return loginKey, unverified(CauseBadRequest)
	}
	v = s.check(ctx, c, username, loginKey, password)
	if v.outcome == OutcomeUnverified {
		s.throttle.fail(loginKey, address)
	}
	return loginKey, v
}

// check finds the candidates and verifies the password against theirs.
func (s *Service) check(ctx context.Context, c *Config, username, loginKey, password string) verdict {
	cands, cause, err := s.candidates(ctx, c, username, loginKey)
	if err != nil {
		if ctx.Err() != nil {
			return unavailable(CauseTimeout)
		}
		s.log.ErrorContext(ctx, "password import hook: cannot look the user up", slog.Int64("hook", c.ID), slog.String("error", err.Error()))
		return unavailable(CauseInternal)
	}
	if cause != "" {
		return unverified(cause)
	}
	v := unverified(CauseNoCredential)
	var pending *verdict // a bind that could not check: 503 unless another candidate verifies
	bound := map[[32]byte]verdict{}
	for _, cand := range cands {
		if bv, ok := s.bindCheck(ctx, c, cand, password, bound); ok {
			bv = bv.about(cand)
			switch bv.outcome {
			case OutcomeVerified:
				return bv
			case OutcomeError:
				pending = &bv
			default:
				if v.cause == CauseNoCredential || bv.cause == CauseWrongPassword {
					v = bv
				}
			}
			continue
		}
		if cand.hash == nil {
			continue
		}
		h := *cand.hash
		ok, err := s.pool.run(ctx, func() (bool, error) { return s.verify(h, password) })
		switch {
		case errors.Is(err, errOverloaded):
			return unavailable(CauseOverloaded)
		case errors.Is(err, errTimeout):
			return unavailable(CauseTimeout)
		case err != nil:
			// The stored value cannot be checked (pepper, beyond the limits):
			// the package's messages hold no secret.
			s.log.WarnContext(ctx, "password import hook: a stored credential cannot be verified", slog.Int64("hook", c.ID),
				slog.Int64("source", cand.sourceID), slog.Int64("record", cand.recordID), slog.String("error", err.Error()))
			continue
		case ok:
			return verified(cand.projectID, cand.sourceID).about(cand)
		}
		v = unverified(CauseWrongPassword).about(cand)
	}
	if pending != nil {
		return *pending
	}
	if v.cause == CauseNoCredential && len(cands) > 0 {
		v = v.about(cands[0])
	}
	return v
}

// about says which staged record a verdict is about, for the attempt's
// project, source and Okta user.
func (v verdict) about(cand candidate) verdict {
	v.projectID, v.sourceID, v.recordID = cand.projectID, cand.sourceID, cand.recordID
	return v
}

// oktaUserOf finds the Okta user Ferry created for a staged record: the
// same source key in the same source and org (record ids change with each
// extract, source keys do not). 0 when Ferry created none.
func (s *Service) oktaUserOf(ctx context.Context, c *Config, v verdict) int64 {
	if v.recordID == 0 || v.projectID == 0 {
		return 0
	}
	var ids []int64
	err := s.db.Read.WithContext(ctx).Table("okta_users").
		Where("project_id = ? AND org_url = ? AND source_id = ? AND removed_at IS NULL AND source_key = (SELECT source_key FROM staged_records WHERE id = ?)",
			v.projectID, c.OrgURL, v.sourceID, v.recordID).Order("id DESC").Limit(1).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return 0
	}
	return ids[0]
}

// record keeps the attempt (never the login or the password) and logs it.
// It runs after the verdict with a short deadline of its own: a busy
// database costs a missing row and a log line, not Okta's timeout.
func (s *Service) record(ctx context.Context, c *Config, loginKey string, v verdict, took time.Duration) {
	a := attempt{HookID: c.ID, Outcome: v.outcome, Cause: v.cause, DurationMS: took.Milliseconds(), At: s.now().UTC()}
	if loginKey != "" {
		sum := sha256.Sum256([]byte(loginKey))
		a.LoginKeyHash = hex.EncodeToString(sum[:])
	}
	if v.projectID != 0 {
		a.ProjectID = &v.projectID
	}
	if v.sourceID != 0 {
		a.SourceID = &v.sourceID
	}
	level := slog.LevelInfo
	if v.outcome == OutcomeError {
		level = slog.LevelWarn
	}
	if v.cause != CauseUnauthorized {
		s.log.LogAttrs(ctx, level, "password import hook", slog.Int64("hook", c.ID), slog.String("outcome", v.outcome),
			slog.String("cause", v.cause), slog.Int64("project", v.projectID), slog.Int64("source", v.sourceID),
			slog.String("login_key_hash", a.LoginKeyHash), slog.Duration("duration", took))
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 300*time.Millisecond)
	defer cancel()
	if ref := s.oktaUserOf(wctx, c, v); ref != 0 {
		a.OktaUserRef = &ref
	}
	if err := s.db.Write.WithContext(wctx).Create(&a).Error; err != nil {
		s.log.WarnContext(ctx, "password import hook: cannot record the attempt", slog.Int64("hook", c.ID),
			slog.String("outcome", v.outcome), slog.String("cause", v.cause), slog.String("error", err.Error()))
	}
}
