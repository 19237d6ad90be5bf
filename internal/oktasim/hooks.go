package oktasim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const hookTypePasswordImport = "com.okta.user.credential.password.import"

var hookTypes = []string{"com.okta.import.transform", "com.okta.oauth2.tokens.transform", "com.okta.saml.tokens.transform",
	"com.okta.telephony.provider", hookTypePasswordImport, "com.okta.user.pre-registration"}

// hookRequest is the body of POST /api/v1/inlineHooks (InlineHookCreate)
// with an HTTP or an OAUTH channel.
type hookRequest struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Version string `json:"version"`
	Channel *struct {
		Type    string `json:"type"`
		Version string `json:"version"`
		Config  *struct {
			URI        string       `json:"uri"`
			Method     string       `json:"method"`
			Headers    []hookHeader `json:"headers"`
			AuthScheme *struct {
				Type  string `json:"type"`
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"authScheme"`
			oauthChannelFields
		} `json:"config"`
	} `json:"channel"`
}

// hookJSON is an inline hook as Okta renders it: the auth secret is never
// shown.
func renderHook(base string, h *inlineHook) map[string]any {
	self := base + "/api/v1/inlineHooks/" + h.ID
	config := map[string]any{"uri": h.URI, "method": h.Method, "headers": h.Headers}
	if h.AuthType != "" {
		config["authScheme"] = map[string]string{"type": h.AuthType, "key": h.AuthKey}
	}
	if h.Headers == nil {
		config["headers"] = []hookHeader{}
	}
	links := map[string]any{"self": map[string]any{"href": self},
		"execute": map[string]any{"href": self + "/execute", "hints": map[string]any{"allow": []string{"POST"}}}}
	if h.Status == "ACTIVE" {
		links["deactivate"] = map[string]any{"href": self + "/lifecycle/deactivate", "hints": map[string]any{"allow": []string{"POST"}}}
	} else {
		links["activate"] = map[string]any{"href": self + "/lifecycle/activate", "hints": map[string]any{"allow": []string{"POST"}}}
		links["delete"] = map[string]any{"href": self, "hints": map[string]any{"allow": []string{"DELETE"}}}
	}
	channel := "HTTP"
	if h.OAuth != nil {
		channel = "OAUTH"
		h.OAuth.render(config)
	}
	return map[string]any{"id": h.ID, "status": h.Status, "name": h.Name, "type": h.Type, "version": h.Version,
		"channel": map[string]any{"type": channel, "version": "1.0.0", "config": config},
		"created": formatTime(h.Created), "lastUpdated": formatTime(h.LastUpdated), "_links": links}
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) createHook(w http.ResponseWriter, r *http.Request, _ params) {
	var req hookRequest
	if !decodeBody(w, r, &req) {
		return
	}
	var v validationError
	if strings.TrimSpace(req.Name) == "" {
		v.add("name", "name: The field cannot be left blank")
	}
	if !slices.Contains(hookTypes, req.Type) {
		v.add("type", "type: Does not match an allowed value")
	}
	if req.Version != "" && req.Version != "1.0.0" {
		v.add("version", "version: The version is not supported")
	}
	uri, oauth := s.validateChannel(&v, &req)
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.hooks) >= 100 {
		v.add("inlineHook", "The maximum number of inline hooks (100) has been reached")
	}
	if req.Type == hookTypePasswordImport {
		for _, h := range st.hooks {
			if h.Type == hookTypePasswordImport {
				v.add("type", "type: Only one password import inline hook is allowed per org")
				break
			}
		}
	}
	if !v.empty() {
		v.write(w)
		return
	}
	now := s.now()
	h := &inlineHook{ID: newID("cal", 20), Name: req.Name, Type: req.Type, Version: "1.0.0", Status: "ACTIVE", Created: now, seq: st.next()}
	h.setChannel(&req, uri, oauth, now)
	st.hooks[h.ID] = h
	writeJSON(w, http.StatusOK, renderHook(baseURL(r), h))
}

// validateChannel checks a create or replace body's channel as Okta does,
// recording the problems in v; it returns the URI and, for an OAUTH
// channel, its settings.
func (s *Server) validateChannel(v *validationError, req *hookRequest) (*url.URL, *hookOAuth) {
	var uri *url.URL
	var oauth *hookOAuth
	if req.Channel == nil || req.Channel.Config == nil {
		v.add("channel", "channel: The field cannot be left blank")
	} else {
		c := req.Channel.Config
		switch req.Channel.Type {
		case "HTTP":
			if a := c.AuthScheme; a != nil && !strings.EqualFold(a.Type, "HEADER") {
				v.add("channel.config.authScheme", "channel.config.authScheme.type: Supported type: HEADER")
			}
		case "OAUTH":
			oauth = s.validateOAuthChannel(v, c.oauthChannelFields, c.AuthScheme != nil)
		default:
			v.add("channel.type", "channel.type: Does not match an allowed value (HTTP, OAUTH)")
		}
		u, err := url.Parse(c.URI)
		switch {
		case c.URI == "" || err != nil || strings.ContainsAny(c.URI, " \t\r\n") || len(c.URI) > 1024:
			v.add("channel.config.uri", "channel.config.uri: The URI is not valid")
		case u.Scheme == "https":
			uri = u
		case u.Scheme == "http" && isLoopback(u.Hostname()):
			uri = u
			// Okta calls https:// only; the sandbox lets a local hook be
			// plain HTTP so that a rehearsal needs no certificate.
			s.log.Warn("oktasim: accepting an http:// inline hook on loopback; Okta accepts https:// only", "uri", c.URI)
		default:
			v.add("channel.config.uri", "channel.config.uri: The URI must begin with https://")
		}
		if c.Method != "" && c.Method != http.MethodPost {
			v.add("channel.config.method", "channel.config.method: Supported method: POST")
		}
	}
	return uri, oauth
}

// setChannel applies a validated body's channel to the hook.
func (h *inlineHook) setChannel(req *hookRequest, uri *url.URL, oauth *hookOAuth, now time.Time) {
	c := req.Channel.Config
	h.URI, h.Method, h.Headers, h.LastUpdated = uri.String(), http.MethodPost, c.Headers, now
	h.AuthType, h.AuthKey, h.AuthValue = "", "", ""
	if a := c.AuthScheme; a != nil && oauth == nil {
		h.AuthType, h.AuthKey, h.AuthValue = "HEADER", a.Key, a.Value
	}
	h.OAuth = oauth
}

func (s *Server) listHooks(w http.ResponseWriter, r *http.Request, _ params) {
	typ := r.URL.Query().Get("type")
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	hooks := make([]*inlineHook, 0, len(st.hooks))
	for _, h := range st.hooks {
		if typ == "" || h.Type == typ {
			hooks = append(hooks, h)
		}
	}
	slices.SortFunc(hooks, func(a, b *inlineHook) int { return cmpU(a.seq, b.seq) })
	out := make([]map[string]any, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, renderHook(baseURL(r), h))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getHook(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	h := st.hooks[p["hookId"]]
	if h == nil {
		notFound(w, p["hookId"])
		return
	}
	writeJSON(w, http.StatusOK, renderHook(baseURL(r), h))
}

func (s *Server) deleteHook(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	h := st.hooks[p["hookId"]]
	if h == nil {
		notFound(w, p["hookId"])
		return
	}
	if h.Status == "ACTIVE" {
		writeError(w, http.StatusForbidden, "E0000038", "This operation is not allowed in the current status.", "Deactivate the inline hook before deleting it")
		return
	}
	delete(st.hooks, h.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) setHookStatus(status string) func(http.ResponseWriter, *http.Request, params) {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		st := s.store
		st.mu.Lock()
		defer st.mu.Unlock()
		h := st.hooks[p["hookId"]]
		if h == nil {
			notFound(w, p["hookId"])
			return
		}
		h.Status = status
		h.LastUpdated = s.now()
		writeJSON(w, http.StatusOK, renderHook(baseURL(r), h))
	}
}

// Hook verdicts.
const (
	verdictVerified   = "VERIFIED"
	verdictUnverified = "UNVERIFIED"
)

// errHookFailed: the hook timed out, failed or answered nonsense; Okta
// stops the sign-in.
var errHookFailed = errors.New("password import inline hook failed")

// passwordImportPayload is what Okta sends (PasswordImportRequest).
func passwordImportPayload(base, hookID, requestID, username, password, ip string, now time.Time) []byte {
	body := map[string]any{
		"eventId":           newID("", 22),
		"eventTime":         formatTime(now),
		"eventType":         hookTypePasswordImport,
		"eventTypeVersion":  "1.0",
		"contentType":       "application/json",
		"cloudEventVersion": "0.1",
		"source":            base + "/api/v1/inlineHooks/" + hookID,
		"data": map[string]any{
			"context": map[string]any{
				"request": map[string]any{"id": requestID, "method": "POST",
					"url": map[string]string{"value": "/api/v1/authn"}, "ipAddress": ip},
				"credential": map[string]string{"username": username, "password": password},
			},
			"action": map[string]string{"credential": verdictUnverified},
		},
	}
	b, _ := json.Marshal(body)
	return b
}

// callPasswordHook asks the hook about one password, as Okta does: each
// call may take HookTimeout; a timeout, a network error, a redirect or a
// 5xx is retried once; a 2xx or 4xx is final. It returns the verdict.
func (s *Server) callPasswordHook(ctx context.Context, h inlineHook, payload []byte) (string, error) {
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		verdict, retry, err := s.callHookOnce(ctx, h, payload)
		if err == nil {
			return verdict, nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("%w: %v", errHookFailed, lastErr)
}

func (s *Server) callHookOnce(ctx context.Context, h inlineHook, payload []byte) (verdict string, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.HookTimeout)
	defer cancel()
	req, retry, err := s.newHookRequest(ctx, h, payload)
	if err != nil {
		return "", retry, err
	}
	res, err := s.hookHTTP.Do(req)
	if err != nil {
		return "", true, err
	}
	defer res.Body.Close()
	// Responses must be under 256 KB.
	body, err := io.ReadAll(io.LimitReader(res.Body, 256<<10+1))
	if err != nil {
		return "", true, err
	}
	switch {
	case res.StatusCode == http.StatusNoContent:
		return verdictUnverified, false, nil // the default action
	case res.StatusCode >= 400 && res.StatusCode < 500:
		return "", false, fmt.Errorf("hook answered %d", res.StatusCode)
	case res.StatusCode < 200 || res.StatusCode >= 300:
		return "", true, fmt.Errorf("hook answered %d", res.StatusCode)
	case len(body) > 256<<10:
		return "", false, errors.New("hook response is 256 KB or more")
	}
	var out struct {
		Commands []struct {
			Type  string `json:"type"`
			Value struct {
				Credential string `json:"credential"`
			} `json:"value"`
		} `json:"commands"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", false, fmt.Errorf("hook response is not JSON: %w", err)
	}
	verdict = verdictUnverified
	for _, c := range out.Commands {
		if c.Type == "com.okta.action.update" && (c.Value.Credential == verdictVerified || c.Value.Credential == verdictUnverified) {
			verdict = c.Value.Credential
		}
	}
	return verdict, false, nil
}

// newHookRequest is Okta's call of hook h with payload: its extra headers,
// JSON both ways, and its authentication (the shared secret, or an access
// token fetched as the hook's OAuth client; retry says whether a failure to
// get one is worth a second attempt).
func (s *Server) newHookRequest(ctx context.Context, h inlineHook, payload []byte) (req *http.Request, retry bool, err error) {
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, h.URI, bytes.NewReader(payload))
	if err != nil {
		return nil, false, err
	}
	for _, hd := range h.Headers {
		req.Header.Set(hd.Key, hd.Value)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	if retry, err := s.authorizeHookCall(ctx, req, h); err != nil {
		return nil, retry, err
	}
	return req, false, nil
}
