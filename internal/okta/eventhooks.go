package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Event hooks (EventHook, EventHookVerificationStatus, EventSubscriptionType)
// and the System Log event that confirms a password import.
const (
	EventHookStatusActive     = "ACTIVE"
	EventHookStatusInactive   = "INACTIVE"
	EventHookVerified         = "VERIFIED"
	EventHookUnverified       = "UNVERIFIED"
	EventHookChannelHTTP      = "HTTP"
	EventSubscriptionTypeList = "EVENT_TYPE"
	// EventTypeUserImportPassword is logged when Okta saved (SUCCESS) or
	// failed to save a password a password import inline hook verified.
	EventTypeUserImportPassword = "user.import.password"
)

// EventHookCreate is the body of POST /api/v1/eventHooks (EventHook, the
// writable fields). Its fmt and slog forms hide the secret and header values.
type EventHookCreate struct {
	Name        string             `json:"name"`
	Description string             `json:"description,omitempty"`
	Events      EventSubscriptions `json:"events"`
	Channel     EventHookChannel   `json:"channel"`
}

// EventSubscriptions is the events an event hook delivers
// (EventSubscriptions): Type EVENT_TYPE and the event types.
type EventSubscriptions struct {
	Type  string   `json:"type"`
	Items []string `json:"items"`
}

// EventHookChannel is how Okta reaches the event hook (EventHookChannel).
type EventHookChannel struct {
	Type    string                 `json:"type"`
	Version string                 `json:"version"`
	Config  EventHookChannelConfig `json:"config"`
}

// EventHookChannelConfig is channel.config: Okta calls URI (https only)
// with "AuthScheme.Key: AuthScheme.Value" and the extra headers.
type EventHookChannelConfig struct {
	URI        string                `json:"uri"`
	Method     string                `json:"method,omitempty"` // read-only: POST
	Headers    []InlineHookHeader    `json:"headers,omitempty"`
	AuthScheme *InlineHookAuthScheme `json:"authScheme,omitempty"`
}

// EventHook is a registered event hook (EventHook). Okta never returns the
// auth secret.
type EventHook struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Status is ACTIVE or INACTIVE; VerificationStatus UNVERIFIED until
	// the endpoint answered Okta's one-time challenge. Only ACTIVE and
	// VERIFIED hooks receive events.
	Status             string                     `json:"status,omitempty"`
	VerificationStatus string                     `json:"verificationStatus,omitempty"`
	Created            time.Time                  `json:"created,omitzero"`
	CreatedBy          string                     `json:"createdBy,omitempty"`
	LastUpdated        time.Time                  `json:"lastUpdated,omitzero"`
	Events             EventSubscriptions         `json:"events"`
	Channel            EventHookChannel           `json:"channel"`
	Links              map[string]json.RawMessage `json:"_links,omitempty"`
}

// Receives reports whether Okta delivers events to the hook.
func (h *EventHook) Receives() bool {
	return h.Status == EventHookStatusActive && h.VerificationStatus == EventHookVerified
}

// ListEventHooks lists the org's event hooks (GET /api/v1/eventHooks,
// listEventHooks). The list is not paginated.
func (c *Client) ListEventHooks(ctx context.Context) ([]EventHook, Response, error) {
	hooks := []EventHook{}
	res, _, err := c.do(ctx, call{op: "listEventHooks", method: http.MethodGet, tmpl: "/api/v1/eventHooks", path: "/api/v1/eventHooks"}, &hooks)
	if err != nil {
		return nil, res, err
	}
	return hooks, res, nil
}

// CreateEventHook registers an event hook (POST /api/v1/eventHooks,
// createEventHook). Okta creates it ACTIVE and UNVERIFIED: call
// VerifyEventHook once the endpoint answers the challenge.
func (c *Client) CreateEventHook(ctx context.Context, body EventHookCreate) (*EventHook, Response, error) {
	var secrets []string
	if a := body.Channel.Config.AuthScheme; a != nil && a.Value != "" {
		secrets = append(secrets, a.Value)
	}
	for _, h := range body.Channel.Config.Headers {
		secrets = append(secrets, h.Value)
	}
	var h EventHook
	res, _, err := c.do(ctx, call{op: "createEventHook", method: http.MethodPost, tmpl: "/api/v1/eventHooks",
		path: "/api/v1/eventHooks", body: body, secrets: secrets}, &h)
	if err != nil {
		return nil, res, err
	}
	return &h, res, nil
}

// GetEventHook reads an event hook (GET /api/v1/eventHooks/{eventHookId}).
func (c *Client) GetEventHook(ctx context.Context, hookID string) (*EventHook, Response, error) {
	return c.eventHookCall(ctx, "getEventHook", http.MethodGet, hookID, "")
}

// VerifyEventHook asks Okta to send its one-time verification request to
// the hook's endpoint (POST …/lifecycle/verify, verifyEventHook). Okta
// answers 400 when the endpoint did not echo the challenge.
func (c *Client) VerifyEventHook(ctx context.Context, hookID string) (*EventHook, Response, error) {
	return c.eventHookCall(ctx, "verifyEventHook", http.MethodPost, hookID, "/lifecycle/verify")
}

// ActivateEventHook activates an event hook (POST …/lifecycle/activate).
func (c *Client) ActivateEventHook(ctx context.Context, hookID string) (*EventHook, Response, error) {
	return c.eventHookCall(ctx, "activateEventHook", http.MethodPost, hookID, "/lifecycle/activate")
}

// DeactivateEventHook deactivates an event hook (POST …/lifecycle/deactivate).
func (c *Client) DeactivateEventHook(ctx context.Context, hookID string) (*EventHook, Response, error) {
	return c.eventHookCall(ctx, "deactivateEventHook", http.MethodPost, hookID, "/lifecycle/deactivate")
}

// DeleteEventHook deletes an INACTIVE event hook
// (DELETE /api/v1/eventHooks/{eventHookId}, deleteEventHook).
func (c *Client) DeleteEventHook(ctx context.Context, hookID string) (Response, error) {
	if err := needID("deleteEventHook", "event hook", hookID); err != nil {
		return Response{}, err
	}
	res, _, err := c.do(ctx, call{op: "deleteEventHook", method: http.MethodDelete, tmpl: "/api/v1/eventHooks/{eventHookId}",
		path: "/api/v1/eventHooks/" + url.PathEscape(hookID)}, nil)
	return res, err
}

func (c *Client) eventHookCall(ctx context.Context, op, method, hookID, suffix string) (*EventHook, Response, error) {
	if err := needID(op, "event hook", hookID); err != nil {
		return nil, Response{}, err
	}
	var h EventHook
	res, _, err := c.do(ctx, call{op: op, method: method, tmpl: "/api/v1/eventHooks/{eventHookId}" + suffix,
		path: "/api/v1/eventHooks/" + url.PathEscape(hookID) + suffix}, &h)
	if err != nil {
		return nil, res, err
	}
	return &h, res, nil
}

// ExecuteInlineHook sends payload to an inline hook through Okta and
// returns the hook's answer (POST /api/v1/inlineHooks/{inlineHookId}/execute,
// executeInlineHook): a test of the hook as Okta reaches it. The payload (a
// value to encode, or a JSON document as []byte) must be what Okta would
// send for the hook's type; for a password import hook it holds a password,
// so use a made-up one. secrets are scrubbed from error messages (the
// made-up password, for instance). Okta answers 400 when the hook failed or
// timed out.
func (c *Client) ExecuteInlineHook(ctx context.Context, hookID string, payload any, secrets ...string) (json.RawMessage, Response, error) {
	if err := needID("executeInlineHook", "inline hook", hookID); err != nil {
		return nil, Response{}, err
	}
	if b, ok := payload.([]byte); ok {
		payload = json.RawMessage(b) // a JSON document, not bytes to base64
	}
	var out json.RawMessage
	res, _, err := c.do(ctx, call{op: "executeInlineHook", method: http.MethodPost, tmpl: "/api/v1/inlineHooks/{inlineHookId}/execute",
		path: "/api/v1/inlineHooks/" + url.PathEscape(hookID) + "/execute", body: payload, secrets: secrets}, &out)
	if err != nil {
		return nil, res, err
	}
	return out, res, nil
}

// Format shows the URI and header names, never the secret or header values.
func (c EventHookChannelConfig) Format(f fmt.State, _ rune) {
	keys := make([]string, 0, len(c.Headers))
	for _, h := range c.Headers {
		keys = append(keys, h.Key)
	}
	fmt.Fprintf(f, "{URI:%s Method:%s Headers:%v", c.URI, c.Method, keys)
	if c.AuthScheme != nil {
		fmt.Fprintf(f, " AuthScheme:{Type:%s Key:%s Value:%s}", c.AuthScheme.Type, c.AuthScheme.Key, redacted)
	}
	fmt.Fprint(f, "}")
}

// LogValue keeps the auth secret and the header values out of slog.
func (c EventHookChannelConfig) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("uri", c.URI), slog.Int("headers", len(c.Headers))}
	if c.AuthScheme != nil {
		attrs = append(attrs, slog.Any("auth_scheme", *c.AuthScheme))
	}
	return slog.GroupValue(attrs...)
}

// LogValue keeps the hook's secrets out of slog.
func (h EventHookCreate) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", h.Name), slog.Any("events", h.Events.Items), slog.String("channel", h.Channel.Type),
		slog.Any("config", h.Channel.Config))
}

// Format hides the hook's secrets.
func (h EventHookCreate) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "{Name:%s Events:%v Channel:{Type:%s Version:%s Config:", h.Name, h.Events.Items, h.Channel.Type, h.Channel.Version)
	h.Channel.Config.Format(f, 'v')
	fmt.Fprint(f, "}}")
}
