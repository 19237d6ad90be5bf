package okta

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
)

// InlineHookReplace is the body of PUT /api/v1/inlineHooks/{inlineHookId}
// (InlineHookReplace): the hook's name, version and channel replace the
// registered ones; its type cannot change.
type InlineHookReplace struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	Channel InlineHookChannel `json:"channel"`
}

// LogValue hides the channel's secrets.
func (h InlineHookReplace) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", h.Name), slog.Any("channel", h.Channel))
}

// GetInlineHook reads one inline hook (GET /api/v1/inlineHooks/{inlineHookId},
// getInlineHook). Okta never returns the hook's secret.
func (c *Client) GetInlineHook(ctx context.Context, hookID string) (*InlineHook, Response, error) {
	if err := needID("getInlineHook", "inline hook", hookID); err != nil {
		return nil, Response{}, err
	}
	var h InlineHook
	res, _, err := c.do(ctx, call{op: "getInlineHook", method: http.MethodGet, tmpl: "/api/v1/inlineHooks/{inlineHookId}",
		path: "/api/v1/inlineHooks/" + url.PathEscape(hookID)}, &h)
	if err != nil {
		return nil, res, err
	}
	return &h, res, nil
}

// ReplaceInlineHook replaces a hook's name, version and channel (PUT
// /api/v1/inlineHooks/{inlineHookId}, replaceInlineHook): how a rotated
// shared secret reaches Okta without a moment with no hook.
func (c *Client) ReplaceInlineHook(ctx context.Context, hookID string, body InlineHookReplace) (*InlineHook, Response, error) {
	if err := needID("replaceInlineHook", "inline hook", hookID); err != nil {
		return nil, Response{}, err
	}
	var h InlineHook
	res, _, err := c.do(ctx, call{op: "replaceInlineHook", method: http.MethodPut, tmpl: "/api/v1/inlineHooks/{inlineHookId}",
		path: "/api/v1/inlineHooks/" + url.PathEscape(hookID), body: body, secrets: body.Channel.secrets()}, &h)
	if err != nil {
		return nil, res, err
	}
	return &h, res, nil
}
