package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// HookKey is a key pair Okta keeps for inline hooks (HookKey,
// DetailedHookKeyInstance): Okta signs with the private key (the
// client_assertion of an OAUTH hook's private_key_jwt), which never leaves
// Okta; the public key is registered with the authorization server that
// issues the hook's access tokens.
type HookKey struct {
	// ID is the key record's id (HKY…): hookKeyId in an OAUTH channel.
	ID string `json:"id"`
	// KeyID is the public key's alias, its kid.
	KeyID       string    `json:"keyId"`
	Name        string    `json:"name"`
	Created     time.Time `json:"created,omitzero"`
	LastUpdated time.Time `json:"lastUpdated,omitzero"`
	// IsUsed is Okta's "true"/"false" (a string in the document).
	IsUsed string `json:"isUsed,omitempty"`
	// PublicKey is in the answer of CreateHookKey (_embedded).
	PublicKey *HookPublicKey `json:"_embedded,omitempty"`
}

// HookPublicKey is a hook key's public part (_embedded), an RSA JWK.
type HookPublicKey struct {
	Kty string  `json:"kty"`
	Alg string  `json:"alg"`
	Kid string  `json:"kid"`
	Use *string `json:"use"`
	E   string  `json:"e"`
	N   string  `json:"n"`
}

// CreateHookKey creates a hook key named name (POST /api/v1/hook-keys,
// createHookKey). Names are unique; an org holds 50 keys at most.
func (c *Client) CreateHookKey(ctx context.Context, name string) (*HookKey, Response, error) {
	if strings.TrimSpace(name) == "" || len(name) > 255 {
		return nil, Response{}, errors.New("okta: createHookKey: a key's name is 1 to 255 characters")
	}
	var k HookKey
	res, _, err := c.do(ctx, call{op: "createHookKey", method: http.MethodPost, tmpl: "/api/v1/hook-keys",
		path: "/api/v1/hook-keys", body: map[string]string{"name": name}}, &k)
	if err != nil {
		return nil, res, err
	}
	return &k, res, nil
}

// GetHookKey reads a hook key by its id (GET /api/v1/hook-keys/{id},
// getHookKey), without the public key.
func (c *Client) GetHookKey(ctx context.Context, id string) (*HookKey, Response, error) {
	if err := needID("getHookKey", "hook key", id); err != nil {
		return nil, Response{}, err
	}
	var k HookKey
	res, _, err := c.do(ctx, call{op: "getHookKey", method: http.MethodGet, tmpl: "/api/v1/hook-keys/{id}",
		path: "/api/v1/hook-keys/" + url.PathEscape(id)}, &k)
	if err != nil {
		return nil, res, err
	}
	return &k, res, nil
}

// InlineHookOAuthConfig is the OAuth 2.0 part of an OAUTH channel's config
// (InlineHookOAuthClientSecretConfigCreate, InlineHookOAuthPrivateKeyJwtConfig):
// Okta gets an access token from TokenURL as client ClientID and calls the
// hook with it as a Bearer token. Okta never returns ClientSecret; fmt and
// slog hide it.
type InlineHookOAuthConfig struct {
	// AuthType is InlineHookOAuthClientSecretPost (ClientSecret) or
	// InlineHookOAuthPrivateKeyJWT (HookKeyID, a HookKey's id).
	AuthType     string `json:"authType"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret,omitempty"`
	HookKeyID    string `json:"hookKeyId,omitempty"`
	TokenURL     string `json:"tokenUrl"`
	// Scope is optional (null in Okta's answers when not set).
	Scope string `json:"scope,omitempty"`
}

// MarshalJSON writes an OAUTH channel's config as one object: Config's
// uri, method and headers with OAuth's fields.
func (ch InlineHookChannel) MarshalJSON() ([]byte, error) {
	type plain InlineHookChannel
	if ch.OAuth == nil {
		return json.Marshal(plain(ch))
	}
	config := map[string]json.RawMessage{}
	var parts []any
	if ch.Config != nil {
		parts = append(parts, ch.Config)
	}
	for _, part := range append(parts, ch.OAuth) {
		b, err := json.Marshal(part)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &config); err != nil {
			return nil, err
		}
	}
	return json.Marshal(struct {
		Type    string                     `json:"type"`
		Version string                     `json:"version"`
		Config  map[string]json.RawMessage `json:"config"`
	}{ch.Type, ch.Version, config})
}

// UnmarshalJSON reads OAuth's fields too when the channel is OAUTH.
func (ch *InlineHookChannel) UnmarshalJSON(b []byte) error {
	type plain InlineHookChannel
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*ch = InlineHookChannel(p)
	if ch.Type != InlineHookChannelOAuth {
		return nil
	}
	var raw struct {
		Config *InlineHookOAuthConfig `json:"config"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	ch.OAuth = raw.Config
	return nil
}

// Format hides the client secret.
func (o InlineHookOAuthConfig) Format(f fmt.State, _ rune) {
	secret := ""
	if o.ClientSecret != "" {
		secret = redacted
	}
	fmt.Fprintf(f, "{AuthType:%s ClientID:%s ClientSecret:%s HookKeyID:%s TokenURL:%s Scope:%s}", o.AuthType, o.ClientID, secret, o.HookKeyID, o.TokenURL, o.Scope)
}

// LogValue hides the client secret.
func (o InlineHookOAuthConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("auth_type", o.AuthType), slog.String("client_id", o.ClientID),
		slog.String("client_secret", redacted), slog.String("hook_key_id", o.HookKeyID), slog.String("token_url", o.TokenURL),
		slog.String("scope", o.Scope))
}
