package hook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/orgs"
)

// Registration is what Ferry knows of the hook's registration in the org:
// the inline hook's and the event hook's Okta ids and the last test Okta
// ran against Ferry's endpoint.
type Registration struct {
	HookID          int64      `gorm:"column:id;primaryKey"`
	OktaHookID      string     `gorm:"column:okta_hook_id"`
	OktaEventHookID string     `gorm:"column:okta_event_hook_id"`
	RegisteredAt    *time.Time `gorm:"column:registered_at"`
	TestedAt        *time.Time `gorm:"column:tested_at"`
	// TestResult says what the last test found, in a sentence; it starts
	// with "ok:" when Okta reached Ferry and read its answer.
	TestResult string    `gorm:"column:test_result"`
	UpdatedAt  time.Time `gorm:"column:updated_at"`
}

// TableName: the registration is a few columns of the hook's row.
func (Registration) TableName() string { return "password_hooks" }

// TestPassed reports whether the last test through Okta succeeded.
func (r *Registration) TestPassed() bool { return strings.HasPrefix(r.TestResult, "ok:") }

// Stale reports whether the hook's settings changed after it was
// registered: Okta still sends the old secret until it is registered again.
func (r *Registration) Stale(c *Config) bool {
	return r.RegisteredAt != nil && c != nil && c.UpdatedAt.After(*r.RegisteredAt)
}

// OrgTokens opens a project's Okta API token (orgs.Service). The hook's
// org finder usually is one; registration needs it.
type OrgTokens interface {
	Token(ctx context.Context, projectID int64) (string, error)
}

// oktaCallTimeout bounds each call Ferry makes to the org while a person
// waits on the settings page.
const oktaCallTimeout = 20 * time.Second

// FindRegistration reads the registration of the hook serving the project
// (nil when the project has no hook).
func (s *Service) FindRegistration(ctx context.Context, projectID int64) (*Registration, error) {
	c, err := s.FindConfig(ctx, projectID)
	if err != nil || c == nil {
		return nil, err
	}
	var out []Registration
	if err := s.db.Read.WithContext(ctx).Where("id = ?", c.ID).Limit(1).Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	return &out[0], nil
}

// EndpointURL is the hook's address on Ferry's public URL.
func EndpointURL(publicURL string, c *Config) string {
	return strings.TrimRight(publicURL, "/") + c.Path()
}

// RegisterInOkta registers the hook in the project's org through the API
// (POST /api/v1/inlineHooks), or, when the org's password import hook is
// already Ferry's, replaces its channel so that Okta sends the current
// secret (PUT — no moment without a hook), and activates it. An org has one
// password import hook: one calling another address is never replaced.
// publicURL is the address Okta reaches Ferry at.
func (s *Service) RegisterInOkta(ctx context.Context, projectID int64, publicURL string) (*Registration, error) {
	c, client, err := s.orgHook(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if err := checkPublicURL(publicURL, c.OrgURL); err != nil {
		return nil, err
	}
	if c.AuthType == AuthOAuth {
		// Ferry verifies Okta's tokens but never holds the OAuth client's
		// secret or hook key Okta signs with: those are entered in Okta.
		return nil, apperr.Conflict("The hook authenticates Okta with OAuth 2.0: register it by hand with the settings shown below (the client's credentials are entered in Okta, never in Ferry).")
	}
	secret, err := s.deps.Sealer.Open(c.SecretSealed)
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("hook: open the shared secret: %w", err))
	}
	uri := EndpointURL(publicURL, c)
	channel := okta.InlineHookChannel{Type: okta.InlineHookChannelHTTP, Version: "1.0.0", Config: &okta.InlineHookChannelConfig{
		URI: uri, Method: "POST", AuthScheme: &okta.InlineHookAuthScheme{Type: okta.InlineHookAuthHeader, Key: c.HeaderName, Value: secret}}}
	reg, err := s.FindRegistration(ctx, projectID)
	if err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, oktaCallTimeout)
	defer cancel()
	hooks, _, err := client.ListInlineHooks(callCtx, okta.InlineHookTypePasswordImport)
	if err != nil {
		return nil, oktaProblem("read the org's inline hooks", err)
	}
	var mine *okta.InlineHook
	for i := range hooks {
		h := &hooks[i]
		if h.Type != okta.InlineHookTypePasswordImport {
			continue
		}
		calls := ""
		if h.Channel.Config != nil {
			calls = h.Channel.Config.URI
		}
		if calls != uri && (reg == nil || h.ID != reg.OktaHookID) {
			return nil, apperr.Conflict(fmt.Sprintf("The org already has a password import inline hook, %q, calling %s. An org has only one: "+
				"remove it in the Admin Console (Workflow → Inline Hooks) or point it at Ferry by hand, then register again.", h.Name, orNone(calls)))
		}
		mine = h
	}
	action := "registered in Okta"
	var hook *okta.InlineHook
	if mine == nil {
		hook, _, err = client.CreateInlineHook(callCtx, okta.InlineHookCreate{Name: hookName, Type: okta.InlineHookTypePasswordImport, Version: "1.0.0", Channel: channel})
		if err != nil {
			return nil, oktaProblem("register the hook", err)
		}
	} else {
		action = "registration in Okta renewed (current address and secret)"
		hook, _, err = client.ReplaceInlineHook(callCtx, mine.ID, okta.InlineHookReplace{Name: mine.Name, Version: "1.0.0", Channel: channel})
		if err != nil {
			return nil, oktaProblem("update the registered hook", err)
		}
	}
	if hook.Status != okta.InlineHookStatusActive {
		if hook, _, err = client.ActivateInlineHook(callCtx, hook.ID); err != nil {
			return nil, oktaProblem("activate the hook", err)
		}
	}
	now := s.now().UTC()
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Registration{}).Where("id = ?", c.ID).Updates(map[string]any{"okta_hook_id": hook.ID, "registered_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.NotFound(what)
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "password_hook", EntityID: c.ID,
			Label: "password import hook of " + c.OrgURL + ": " + action,
			After: map[string]string{"oktaHookId": hook.ID, "uri": uri, "status": hook.Status, "secret": "ending in …" + c.SecretHint}})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return s.FindRegistration(ctx, projectID)
}

// hookName is the name Ferry gives the hook in the org.
const hookName = "Ferry legacy passwords"

// orgHook finds the project's hook and opens a client on its org.
func (s *Service) orgHook(ctx context.Context, projectID int64) (*Config, *okta.Client, error) {
	c, err := s.FindConfig(ctx, projectID)
	if err != nil {
		return nil, nil, err
	}
	if c == nil {
		return nil, nil, apperr.Conflict("Set up the password import hook first.")
	}
	if c.OrgMoved {
		return nil, nil, apperr.Conflict("The project's Okta org connection names another org than the hook serves: save the hook settings again first.")
	}
	tokens, ok := s.deps.Orgs.(OrgTokens)
	if !ok {
		return nil, nil, apperr.Internal(errors.New("hook: the org finder cannot open tokens"))
	}
	conn, err := s.deps.Orgs.Find(ctx, projectID)
	if err != nil {
		return nil, nil, err
	}
	token, err := tokens.Token(ctx, projectID)
	if err != nil {
		return nil, nil, err
	}
	cfg := okta.Config{OrgURL: c.OrgURL, APIToken: token, Timeout: oktaCallTimeout}
	if conn != nil && conn.AuthScheme == orgs.SchemeBearer {
		cfg.APIToken, cfg.AccessToken = "", token
	}
	client, err := okta.New(cfg)
	if err != nil {
		return nil, nil, apperr.Invalid(err.Error(), nil)
	}
	return c, client, nil
}

// checkPublicURL refuses an address Okta would not call: Okta calls only
// https://, except Ferry's sandbox on this machine, which is told apart by
// its own http:// loopback URL.
func checkPublicURL(publicURL, orgURL string) error {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return apperr.Invalid(fmt.Sprintf("Ferry's public URL %q is not an http(s) address: set FERRY_BASE_URL to the address Okta reaches Ferry at.", publicURL), nil)
	}
	if u.Scheme == "https" {
		return nil
	}
	org, _ := url.Parse(orgURL)
	if org != nil && org.Scheme == "http" && onThisMachine(org.Hostname()) && onThisMachine(u.Hostname()) {
		return nil
	}
	return apperr.Invalid(fmt.Sprintf("Okta calls only https:// addresses, and Ferry's public URL is %s: serve Ferry over TLS (behind your reverse proxy) and set FERRY_BASE_URL to its https:// address.", publicURL), nil)
}

func onThisMachine(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// oktaProblem turns a failed call into a message a person can act on,
// with Okta's own summary.
func oktaProblem(doing string, err error) error {
	var ae *okta.Error
	if errors.As(err, &ae) {
		return apperr.Invalid(fmt.Sprintf("Okta refused to %s: %v", doing, ae), nil)
	}
	return apperr.Invalid(fmt.Sprintf("Ferry could not %s: %v", doing, err), nil)
}

func orNone(s string) string {
	if s == "" {
		return "(no address)"
	}
	return s
}

// TestInOkta asks Okta to call the registered hook (POST
// /api/v1/inlineHooks/{id}/execute) with a made-up user and password, and
// records what came back: Okta reached Ferry's endpoint, was let in with the
// secret it holds, and read an answer (UNVERIFIED, since nobody has that
// login). Nothing about a real user is sent.
func (s *Service) TestInOkta(ctx context.Context, projectID int64) (*Registration, error) {
	c, client, err := s.orgHook(ctx, projectID)
	if err != nil {
		return nil, err
	}
	reg, err := s.FindRegistration(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if reg == nil || reg.OktaHookID == "" {
		return nil, apperr.Conflict("Register the hook in Okta first: the test asks Okta to call it.")
	}
	login, err := randomText(12)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	password, err := randomText(18)
	if err != nil {
		return nil, apperr.Internal(err)
	}
	payload := map[string]any{
		"eventType": "com.okta.user.credential.password.import", "eventTypeVersion": "1.0", "contentType": "application/json",
		"cloudEventVersion": "0.1", "source": c.OrgURL + "/api/v1/inlineHooks/" + reg.OktaHookID,
		"data": map[string]any{
			"context": map[string]any{"credential": map[string]string{"username": "ferry-hook-test-" + strings.ToLower(login) + "@invalid.example", "password": password}},
			"action":  map[string]string{"credential": "UNVERIFIED"},
		},
	}
	callCtx, cancel := context.WithTimeout(ctx, oktaCallTimeout)
	defer cancel()
	started := time.Now()
	answer, _, err := client.ExecuteInlineHook(callCtx, reg.OktaHookID, payload, password)
	took := time.Since(started).Round(time.Millisecond)
	var result string
	switch {
	case err != nil:
		result = fmt.Sprintf("failed: Okta could not get an answer from Ferry's endpoint: %v. Check that Okta reaches Ferry at the registered address and that the secret in Okta is the current one (register again).", err)
	default:
		switch verdict := commandVerdict(answer); verdict {
		case "UNVERIFIED":
			result = fmt.Sprintf("ok: Okta reached Ferry's endpoint, was let in with its secret and read the answer (UNVERIFIED for a made-up user) in %s.", took)
		case "":
			result = "failed: Okta reached an endpoint, but its answer is not a password import hook's answer: check the registered address."
		default:
			result = "failed: the endpoint answered " + verdict + " for a made-up user: it is not Ferry's hook for this org."
		}
	}
	now := s.now().UTC()
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&Registration{}).Where("id = ?", c.ID).Updates(map[string]any{"tested_at": now, "test_result": result}).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "password_hook", EntityID: c.ID,
			Label: "password import hook of " + c.OrgURL + ": tested through Okta", After: map[string]string{"result": result}})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return s.FindRegistration(ctx, projectID)
}

// commandVerdict reads the credential verdict of a hook's answer ("" when
// the answer is not one).
func commandVerdict(answer []byte) string {
	var out struct {
		Commands []struct {
			Type  string `json:"type"`
			Value struct {
				Credential string `json:"credential"`
			} `json:"value"`
		} `json:"commands"`
	}
	if json.Unmarshal(answer, &out) != nil {
		return ""
	}
	for _, cmd := range out.Commands {
		if cmd.Type == "com.okta.action.update" && cmd.Value.Credential != "" {
			return cmd.Value.Credential
		}
	}
	return ""
}

// eventHookName is the name Ferry gives its event hook in the org.
const eventHookName = "Ferry password import confirmations"

// EventsURL is the event hook's address on Ferry's public URL.
func EventsURL(publicURL string, c *Config) string {
	return strings.TrimRight(publicURL, "/") + EventsPathPrefix + c.OrgKey
}

// RegisterEventHook registers Ferry's event hook in the org for the System
// Log event user.import.password (POST /api/v1/eventHooks), has Okta verify
// it (Okta sends a one-time challenge Ferry echoes) and activates it: how
// Ferry learns that Okta saved an imported password. An event hook of
// Ferry's already registered at that address is replaced by a new one
// carrying the current secret.
func (s *Service) RegisterEventHook(ctx context.Context, projectID int64, publicURL string) (*Registration, error) {
	c, client, err := s.orgHook(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if err := checkPublicURL(publicURL, c.OrgURL); err != nil {
		return nil, err
	}
	secret, err := s.deps.Sealer.Open(c.SecretSealed)
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("hook: open the shared secret: %w", err))
	}
	uri := EventsURL(publicURL, c)
	callCtx, cancel := context.WithTimeout(ctx, oktaCallTimeout)
	defer cancel()
	existing, _, err := client.ListEventHooks(callCtx)
	if err != nil {
		return nil, oktaProblem("read the org's event hooks", err)
	}
	// An old registration of Ferry's at the same address holds a secret
	// that may be stale: it goes, the new one comes.
	for i := range existing {
		h := &existing[i]
		if h.Channel.Config.URI != uri {
			continue
		}
		if h.Status == okta.EventHookStatusActive {
			if _, _, err := client.DeactivateEventHook(callCtx, h.ID); err != nil {
				return nil, oktaProblem("deactivate Ferry's previous event hook", err)
			}
		}
		if _, err := client.DeleteEventHook(callCtx, h.ID); err != nil {
			return nil, oktaProblem("delete Ferry's previous event hook", err)
		}
	}
	created, _, err := client.CreateEventHook(callCtx, okta.EventHookCreate{Name: eventHookName,
		Description: "Tells Ferry when Okta saved a password its password import hook verified.",
		Events:      okta.EventSubscriptions{Type: okta.EventSubscriptionTypeList, Items: []string{okta.EventTypeUserImportPassword}},
		Channel: okta.EventHookChannel{Type: okta.EventHookChannelHTTP, Version: "1.0.0", Config: okta.EventHookChannelConfig{URI: uri,
			AuthScheme: &okta.InlineHookAuthScheme{Type: okta.InlineHookAuthHeader, Key: c.HeaderName, Value: secret}}}})
	if err != nil {
		return nil, oktaProblem("register the event hook", err)
	}
	hook := created
	if hook.VerificationStatus != okta.EventHookVerified {
		if hook, _, err = client.VerifyEventHook(callCtx, created.ID); err != nil {
			return nil, oktaProblem("verify the event hook (Okta sends a one-time challenge to Ferry's endpoint)", err)
		}
	}
	if hook.Status != okta.EventHookStatusActive {
		if hook, _, err = client.ActivateEventHook(callCtx, created.ID); err != nil {
			return nil, oktaProblem("activate the event hook", err)
		}
	}
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&Registration{}).Where("id = ?", c.ID).Update("okta_event_hook_id", hook.ID).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "password_hook", EntityID: c.ID,
			Label: "password import hook of " + c.OrgURL + ": event hook registered in Okta",
			After: map[string]string{"oktaEventHookId": hook.ID, "uri": uri, "status": hook.Status, "verification": hook.VerificationStatus}})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return s.FindRegistration(ctx, projectID)
}

// ConfirmWithOkta reads back, in the project's org, the hook users Okta has
// not confirmed yet (up to opts.Limit; 0: all of them) and marks those whose
// provider turned OKTA as migrated: the fallback when the event hook was
// not registered or missed events (ConfirmByProvider with opts: Limit,
// Progress and VerifiedOnly are the caller's; the pace is the default).
func (s *Service) ConfirmWithOkta(ctx context.Context, projectID int64, opts ConfirmOptions) (ConfirmResult, error) {
	_, client, err := s.orgHook(ctx, projectID)
	if err != nil {
		return ConfirmResult{}, err
	}
	return s.ConfirmByProvider(ctx, projectID, client, ConfirmOptions{Limit: opts.Limit, Progress: opts.Progress, VerifiedOnly: opts.VerifiedOnly})
}
