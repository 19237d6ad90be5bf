package okta

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// ListInlineHooks lists the org's inline hooks, all or of one type
// (GET /api/v1/inlineHooks, listInlineHooks). The list is not paginated.
func (c *Client) ListInlineHooks(ctx context.Context, hookType string) ([]InlineHook, Response, error) {
	var q url.Values
	if hookType != "" {
		q = url.Values{"type": {hookType}}
	}
	hooks := []InlineHook{}
	res, _, err := c.do(ctx, call{op: "listInlineHooks", method: http.MethodGet, tmpl: "/api/v1/inlineHooks",
		path: "/api/v1/inlineHooks", query: q}, &hooks)
	if err != nil {
		return nil, res, err
	}
	return hooks, res, nil
}

// CreateInlineHook registers an inline hook (POST /api/v1/inlineHooks,
// createInlineHook); Okta creates it ACTIVE.
func (c *Client) CreateInlineHook(ctx context.Context, body InlineHookCreate) (*InlineHook, Response, error) {
	var h InlineHook
	res, _, err := c.do(ctx, call{op: "createInlineHook", method: http.MethodPost, tmpl: "/api/v1/inlineHooks",
		path: "/api/v1/inlineHooks", body: body, secrets: body.Channel.secrets()}, &h)
	if err != nil {
		return nil, res, err
	}
	return &h, res, nil
}

// ActivateInlineHook activates an inline hook
// (POST /api/v1/inlineHooks/{inlineHookId}/lifecycle/activate, activateInlineHook).
func (c *Client) ActivateInlineHook(ctx context.Context, hookID string) (*InlineHook, Response, error) {
	if err := needID("activateInlineHook", "inline hook", hookID); err != nil {
		return nil, Response{}, err
	}
	var h InlineHook
	res, _, err := c.do(ctx, call{op: "activateInlineHook", method: http.MethodPost, tmpl: "/api/v1/inlineHooks/{inlineHookId}/lifecycle/activate",
		path: "/api/v1/inlineHooks/" + url.PathEscape(hookID) + "/lifecycle/activate"}, &h)
	if err != nil {
		return nil, res, err
	}
	return &h, res, nil
}

// PasswordImportHook is what RegisterPasswordImportHook needs: Ferry's hook
// endpoint and the shared secret Okta sends in a header.
type PasswordImportHook struct {
	Name string
	// URI is the hook endpoint: https only (Okta calls nothing else), or
	// http on localhost when the org itself is the local sandbox.
	URI string
	// AuthKey is the header Okta sends the secret in (default Authorization).
	AuthKey string
	// AuthValue is the shared secret; never an Okta token.
	AuthValue string
}

// Format hides the shared secret.
func (h PasswordImportHook) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Name:%s URI:%s AuthKey:%s AuthValue:%s}", h.Name, h.URI, h.AuthKey, redacted)
}

// RegisterPasswordImportHook makes sure the org's password import inline hook
// is Ferry's and active: an org has at most one. If a hook of that type
// already calls h.URI it is activated when needed and returned (Okta never
// returns the secret, so it is not compared); if one calls another URI the
// call fails rather than replace it; otherwise the hook is created (HTTP
// channel, HEADER auth). created says which.
func (c *Client) RegisterPasswordImportHook(ctx context.Context, h PasswordImportHook) (hook *InlineHook, created bool, res Response, err error) {
	u, perr := url.Parse(h.URI)
	sandbox := perr == nil && u.Scheme == "http" && c.base.Scheme == "http" && isLoopback(u.Hostname())
	if perr != nil || (u.Scheme != "https" && !sandbox) || u.Host == "" || strings.ContainsAny(h.URI, " \t\r\n") || len(h.URI) > 1024 {
		return nil, false, Response{}, fmt.Errorf("okta: password import hook URI %q: Okta calls only https:// URLs without spaces, up to 1024 characters", h.URI)
	}
	if h.AuthValue == "" {
		return nil, false, Response{}, errors.New("okta: password import hook: no shared secret (AuthValue)")
	}
	if h.Name == "" {
		h.Name = "Ferry password import"
	}
	if h.AuthKey == "" {
		h.AuthKey = "Authorization"
	}
	hooks, res, err := c.ListInlineHooks(ctx, InlineHookTypePasswordImport)
	if err != nil {
		return nil, false, res, err
	}
	for i := range hooks {
		ex := &hooks[i]
		if ex.Type != InlineHookTypePasswordImport {
			continue
		}
		if ex.Channel.Config == nil || ex.Channel.Config.URI != h.URI {
			uri := "(none)"
			if ex.Channel.Config != nil {
				uri = ex.Channel.Config.URI
			}
			return nil, false, res, fmt.Errorf("okta: the org already has a password import inline hook %q (%s) calling %s; an org has only one: remove it or point Ferry at it", ex.Name, ex.ID, uri)
		}
		if ex.Status == InlineHookStatusActive {
			return ex, false, res, nil
		}
		act, res, err := c.ActivateInlineHook(ctx, ex.ID)
		return act, false, res, err
	}
	hook, res, err = c.CreateInlineHook(ctx, InlineHookCreate{
		Name: h.Name, Type: InlineHookTypePasswordImport, Version: "1.0.0",
		Channel: InlineHookChannel{Type: InlineHookChannelHTTP, Version: "1.0.0", Config: &InlineHookChannelConfig{
			URI: h.URI, Method: http.MethodPost,
			AuthScheme: &InlineHookAuthScheme{Type: InlineHookAuthHeader, Key: h.AuthKey, Value: h.AuthValue},
		}},
	})
	if err != nil {
		return nil, false, res, err
	}
	if hook.Status != "" && hook.Status != InlineHookStatusActive {
		act, res, err := c.ActivateInlineHook(ctx, hook.ID)
		return act, true, res, err
	}
	return hook, true, res, nil
}

// LogValue hides the shared secret.
func (h PasswordImportHook) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", h.Name), slog.String("uri", h.URI), slog.String("auth_key", h.AuthKey), slog.String("auth_value", redacted))
}

// secrets are the channel's secrets, scrubbed from error messages: the
// shared secret, or the OAuth client secret.
func (ch InlineHookChannel) secrets() []string {
	var out []string
	if cfg := ch.Config; cfg != nil && cfg.AuthScheme != nil && cfg.AuthScheme.Value != "" {
		out = append(out, cfg.AuthScheme.Value)
	}
	if o := ch.OAuth; o != nil && o.ClientSecret != "" {
		out = append(out, o.ClientSecret)
	}
	return out
}
