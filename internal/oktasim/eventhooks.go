package oktasim

// Event hooks (/api/v1/eventHooks) and the System Log event the sandbox
// delivers through them: user.import.password, logged when a hook user's
// password, verified by the password import inline hook, was saved
// (outcome SUCCESS) or not (FAILURE, in read-only mode). Okta's facts: an
// event hook is created ACTIVE and UNVERIFIED; verifying it sends a GET
// with X-Okta-Verification-Challenge that the endpoint must echo as
// {"verification": …}; only ACTIVE and VERIFIED hooks receive events;
// deliveries are asynchronous POSTs (3 s timeout, one retry after a timeout,
// a network error or a 5xx).

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Event hook facts.
const (
	eventHookActive        = "ACTIVE"
	eventHookInactive      = "INACTIVE"
	eventHookVerified      = "VERIFIED"
	eventHookUnverified    = "UNVERIFIED"
	maxActiveEventHooks    = 25
	eventTypeImport        = "user.import.password"
	eventHookDeliveryType  = "com.okta.event_hook"
	challengeHeader        = "X-Okta-Verification-Challenge"
	maxVerificationBodyLen = 64 << 10
)

// eventTypeRe is the shape of a System Log event type (user.import.password).
var eventTypeRe = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$`)

// eventHook is a registered event hook. AuthValue is the HEADER secret the
// sandbox sends and never shows.
type eventHook struct {
	ID, Name, Description string
	Status, Verification  string
	Events                []string
	URI                   string
	AuthKey, AuthValue    string
	Headers               []hookHeader
	Created, LastUpdated  time.Time
	seq                   uint64
}

// eventHooks is the org's event hooks, the read-only switch and the
// deliveries in flight; it has its own lock, apart from the store's.
type eventHooks struct {
	mu    sync.Mutex
	seq   uint64
	hooks map[string]*eventHook
	// readOnly: the org is in read-only mode, where a password the inline
	// hook verified is not saved.
	readOnly atomic.Bool
	inflight sync.WaitGroup
	// delivered counts deliveries answered 2xx, failed those that were not
	// (after the retry).
	delivered, failed atomic.Int64
}

func newEventHooks() *eventHooks { return &eventHooks{hooks: map[string]*eventHook{}} }

// SetReadOnly puts the org in read-only mode (or takes it out). In read-only
// mode a password the password import inline hook verified is not saved:
// the sign-in succeeds, the user's provider stays IMPORT, the hook is called
// again at the next sign-in, and the user.import.password event's outcome
// is FAILURE (NOTES §2, "After a successful verification").
func (s *Server) SetReadOnly(on bool) { s.events.readOnly.Store(on) }

// ReadOnly reports whether the org is in read-only mode.
func (s *Server) ReadOnly() bool { return s.events.readOnly.Load() }

// WaitEventDeliveries waits until every event hook delivery started so far
// has finished (retry included), or ctx ends.
func (s *Server) WaitEventDeliveries(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.events.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// EventDeliveries returns how many event hook deliveries were answered 2xx
// and how many failed, retry included.
func (s *Server) EventDeliveries() (delivered, failed int64) {
	return s.events.delivered.Load(), s.events.failed.Load()
}

// eventHookRequest is the body of POST /api/v1/eventHooks (EventHook).
type eventHookRequest struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
	Events      *struct {
		Type  string   `json:"type"`
		Items []string `json:"items"`
	} `json:"events"`
	Channel *struct {
		Type    string `json:"type"`
		Version string `json:"version"`
		Config  *struct {
			URI        string       `json:"uri"`
			Headers    []hookHeader `json:"headers"`
			AuthScheme *struct {
				Type  string `json:"type"`
				Key   string `json:"key"`
				Value string `json:"value"`
			} `json:"authScheme"`
		} `json:"config"`
	} `json:"channel"`
}

func renderEventHook(base string, h *eventHook) map[string]any {
	self := base + "/api/v1/eventHooks/" + h.ID
	post := map[string]any{"allow": []string{"POST"}}
	links := map[string]any{"self": map[string]any{"href": self},
		"verify": map[string]any{"href": self + "/lifecycle/verify", "hints": post}}
	if h.Status == eventHookActive {
		links["deactivate"] = map[string]any{"href": self + "/lifecycle/deactivate", "hints": post}
	} else {
		links["activate"] = map[string]any{"href": self + "/lifecycle/activate", "hints": post}
	}
	config := map[string]any{"uri": h.URI, "headers": h.Headers, "method": http.MethodPost}
	if h.Headers == nil {
		config["headers"] = []hookHeader{}
	}
	if h.AuthKey != "" {
		config["authScheme"] = map[string]string{"type": "HEADER", "key": h.AuthKey}
	}
	var description any
	if h.Description != "" {
		description = h.Description
	}
	return map[string]any{"id": h.ID, "status": h.Status, "verificationStatus": h.Verification, "name": h.Name,
		"description": description, "created": formatTime(h.Created), "createdBy": sandboxAdminID,
		"lastUpdated": formatTime(h.LastUpdated),
		"events":      map[string]any{"type": "EVENT_TYPE", "items": h.Events, "filter": nil},
		"channel":     map[string]any{"type": "HTTP", "version": "1.0.0", "config": config},
		"_links":      links}
}

// sandboxAdminID is the administrator the sandbox says created things.
const sandboxAdminID = "00u1sandboxadmin0000"

func eventHookNotFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+id+" (EventHook)")
}

func (s *Server) createEventHook(w http.ResponseWriter, r *http.Request, _ params) {
	var req eventHookRequest
	if !decodeBody(w, r, &req) {
		return
	}
	var v validationError
	if strings.TrimSpace(req.Name) == "" {
		v.add("name", "name: The field cannot be left blank")
	} else if len(req.Name) > 255 {
		v.add("name", "name: The field is too long")
	}
	if req.Events == nil || len(req.Events.Items) == 0 {
		v.add("events", "events: The field cannot be left blank")
	} else {
		if req.Events.Type != "EVENT_TYPE" {
			v.add("events.type", "events.type: Does not match an allowed value")
		}
		for _, t := range req.Events.Items {
			if !eventTypeRe.MatchString(t) {
				v.add("events.items", "events.items: "+t+" is not an eligible event type")
			}
		}
	}
	var uri *url.URL
	if req.Channel == nil || req.Channel.Config == nil {
		v.add("channel", "channel: The field cannot be left blank")
	} else {
		c := req.Channel.Config
		if req.Channel.Type != "HTTP" {
			v.add("channel.type", "channel.type: Does not match an allowed value")
		}
		if req.Channel.Version != "1.0.0" {
			v.add("channel.version", "channel.version: The version is not supported")
		}
		u, err := url.Parse(c.URI)
		switch {
		case c.URI == "" || err != nil || strings.ContainsAny(c.URI, " \t\r\n") || len(c.URI) > 1024 || u.Host == "":
			v.add("channel.config.uri", "channel.config.uri: The URI is not valid")
		case u.Scheme == "https":
			uri = u
		case u.Scheme == "http" && isLoopback(u.Hostname()):
			uri = u
			// As for inline hooks: a local rehearsal needs no certificate.
			s.log.Warn("oktasim: accepting an http:// event hook on loopback; Okta accepts https:// only", "uri", c.URI)
		default:
			v.add("channel.config.uri", "channel.config.uri: The URI must begin with https://")
		}
		if a := c.AuthScheme; a != nil {
			if !strings.EqualFold(a.Type, "HEADER") {
				v.add("channel.config.authScheme", "channel.config.authScheme.type: Supported type: HEADER")
			} else if a.Key == "" || a.Value == "" {
				v.add("channel.config.authScheme", "channel.config.authScheme: key and value are required")
			}
		}
	}
	eh := s.events
	eh.mu.Lock()
	defer eh.mu.Unlock()
	active := 0
	for _, h := range eh.hooks {
		if h.Status == eventHookActive {
			active++
		}
	}
	if active >= maxActiveEventHooks {
		v.add("eventHook", fmt.Sprintf("The maximum number of active event hooks (%d) has been reached", maxActiveEventHooks))
	}
	if !v.empty() {
		v.write(w)
		return
	}
	now := s.now()
	eh.seq++
	c := req.Channel.Config
	h := &eventHook{ID: newID("who", 20), Name: req.Name, Status: eventHookActive, Verification: eventHookUnverified,
		Events: slices.Clone(req.Events.Items), URI: uri.String(), Headers: c.Headers, Created: now, LastUpdated: now, seq: eh.seq}
	if req.Description != nil {
		h.Description = *req.Description
	}
	if a := c.AuthScheme; a != nil {
		h.AuthKey, h.AuthValue = a.Key, a.Value
	}
	eh.hooks[h.ID] = h
	writeJSON(w, http.StatusOK, renderEventHook(baseURL(r), h))
}

func (s *Server) listEventHooks(w http.ResponseWriter, r *http.Request, _ params) {
	eh := s.events
	eh.mu.Lock()
	defer eh.mu.Unlock()
	hooks := make([]*eventHook, 0, len(eh.hooks))
	for _, h := range eh.hooks {
		hooks = append(hooks, h)
	}
	slices.SortFunc(hooks, func(a, b *eventHook) int { return cmpU(a.seq, b.seq) })
	out := make([]map[string]any, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, renderEventHook(baseURL(r), h))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getEventHook(w http.ResponseWriter, r *http.Request, p params) {
	eh := s.events
	eh.mu.Lock()
	defer eh.mu.Unlock()
	h := eh.hooks[p["eventHookId"]]
	if h == nil {
		eventHookNotFound(w, p["eventHookId"])
		return
	}
	writeJSON(w, http.StatusOK, renderEventHook(baseURL(r), h))
}

func (s *Server) deleteEventHook(w http.ResponseWriter, _ *http.Request, p params) {
	eh := s.events
	eh.mu.Lock()
	defer eh.mu.Unlock()
	h := eh.hooks[p["eventHookId"]]
	if h == nil {
		eventHookNotFound(w, p["eventHookId"])
		return
	}
	if h.Status == eventHookActive {
		writeError(w, http.StatusForbidden, "E0000038", "This operation is not allowed in the current status.", "Deactivate the event hook before deleting it")
		return
	}
	delete(eh.hooks, h.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) setEventHookStatus(status string) func(http.ResponseWriter, *http.Request, params) {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		eh := s.events
		eh.mu.Lock()
		defer eh.mu.Unlock()
		h := eh.hooks[p["eventHookId"]]
		if h == nil {
			eventHookNotFound(w, p["eventHookId"])
			return
		}
		h.Status = status
		h.LastUpdated = s.now()
		writeJSON(w, http.StatusOK, renderEventHook(baseURL(r), h))
	}
}

// verifyEventHook sends the one-time verification request: a GET to the
// hook's URI with its headers, its auth header and a random challenge; the
// endpoint must answer 2xx with {"verification": <the challenge>}. A
// timeout, a network error or a 5xx is retried once, as Okta does. Failure
// is 400 E0000001, and the hook stays as it was.
func (s *Server) verifyEventHook(w http.ResponseWriter, r *http.Request, p params) {
	eh := s.events
	eh.mu.Lock()
	h := eh.hooks[p["eventHookId"]]
	var hk eventHook
	if h != nil {
		hk = *h
	}
	eh.mu.Unlock()
	if h == nil {
		eventHookNotFound(w, p["eventHookId"])
		return
	}
	challenge := randomChallenge()
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var retry bool
		retry, err = s.challengeOnce(r.Context(), hk, challenge)
		if err == nil || !retry || r.Context().Err() != nil {
			break
		}
	}
	if err != nil {
		s.log.Warn("oktasim: event hook verification failed", "event_hook", hk.ID, "error", err)
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: verifyEventHook",
			"Event hook verification failed: "+err.Error())
		return
	}
	eh.mu.Lock()
	defer eh.mu.Unlock()
	h = eh.hooks[hk.ID]
	if h == nil {
		eventHookNotFound(w, hk.ID)
		return
	}
	h.Verification = eventHookVerified
	h.LastUpdated = s.now()
	writeJSON(w, http.StatusOK, renderEventHook(baseURL(r), h))
}

func randomChallenge() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}

func (s *Server) challengeOnce(ctx context.Context, h eventHook, challenge string) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.HookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URI, nil)
	if err != nil {
		return false, err
	}
	setEventHookHeaders(req, h)
	req.Header.Set(challengeHeader, challenge)
	res, err := s.hookHTTP.Do(req)
	if err != nil {
		return true, errors.New("the endpoint did not answer")
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxVerificationBodyLen))
	switch {
	case err != nil:
		return true, errors.New("the answer could not be read")
	case res.StatusCode >= 500:
		return true, fmt.Errorf("the endpoint answered %d", res.StatusCode)
	case res.StatusCode < 200 || res.StatusCode >= 300:
		return false, fmt.Errorf("the endpoint answered %d", res.StatusCode)
	}
	var out struct {
		Verification *string `json:"verification"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Verification == nil {
		return false, errors.New("the answer is not JSON with a verification value")
	}
	if *out.Verification != challenge {
		return false, errors.New("the verification value is not the challenge")
	}
	return false, nil
}

func setEventHookHeaders(req *http.Request, h eventHook) {
	for _, hd := range h.Headers {
		req.Header.Set(hd.Key, hd.Value)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	if h.AuthKey != "" {
		req.Header.Set(h.AuthKey, h.AuthValue)
	}
}

// importVerifiedPassword is called when the inline hook verified a hook
// user's password: it saves the password as Okta's own (provider OKTA, the
// hook never called again for the user) unless the org is read-only, and
// logs user.import.password with outcome SUCCESS or FAILURE to the event
// hooks. It reports whether the sign-in may go on (false only when the
// password could not be hashed). password is used for the hash only.
func (s *Server) importVerifiedPassword(r *http.Request, requestID, id, password string) bool {
	readOnly := s.ReadOnly()
	var hash []byte
	if !readOnly {
		var err error
		if hash, err = bcrypt.GenerateFromPassword([]byte(password), oktaBcryptCost); err != nil {
			s.log.Warn("oktasim: cannot hash a verified password", "user", id, "error", err)
			return false
		}
	}
	now := s.now()
	st := s.store
	st.mu.Lock()
	cur := st.users[id]
	if cur == nil || !cur.Hook {
		// Deleted meanwhile, or imported by a concurrent sign-in.
		st.mu.Unlock()
		return cur != nil
	}
	if !readOnly {
		cur.Hook = false
		cur.PasswordHash = hash
		cur.ProviderType, cur.ProviderName = ProviderOkta, ProviderOkta
		cur.PasswordChanged, cur.LastUpdated = &now, now
	}
	target := map[string]any{"id": cur.ID, "type": "User", "alternateId": cur.login(), "displayName": displayName(cur), "detailEntry": nil}
	st.mu.Unlock()
	outcome := map[string]any{"result": "SUCCESS", "reason": nil}
	severity := "INFO"
	if readOnly {
		outcome = map[string]any{"result": "FAILURE", "reason": "Password not saved: the org is in read-only mode"}
		severity = "WARN"
	}
	if requestID == "" {
		requestID = newID("", 20)
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	s.emit(baseURL(r), map[string]any{
		"uuid": newUUID(), "published": formatTime(now), "eventType": eventTypeImport, "version": "0",
		"displayMessage": "Import user password", "severity": severity, "legacyEventType": "core.user.import.password",
		"actor":        target,
		"client":       map[string]any{"ipAddress": ip, "userAgent": map[string]any{"rawUserAgent": r.UserAgent()}, "zone": "null", "device": "Unknown"},
		"outcome":      outcome,
		"target":       []any{target},
		"transaction":  map[string]any{"type": "WEB", "id": requestID, "detail": map[string]any{}},
		"debugContext": map[string]any{"debugData": map[string]any{"requestUri": "/api/v1/authn"}},
	})
	return true
}

func displayName(u *user) string {
	first, _ := u.Profile["firstName"].(string)
	last, _ := u.Profile["lastName"].(string)
	return strings.TrimSpace(first + " " + last)
}

// newUUID is a random (version 4) UUID, the shape of System Log uuids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// emit delivers one System Log event to every ACTIVE and VERIFIED event
// hook subscribed to its type, each in its own goroutine: the flow that
// logged it does not wait, as in Okta.
func (s *Server) emit(base string, event map[string]any) {
	typ, _ := event["eventType"].(string)
	eh := s.events
	eh.mu.Lock()
	var targets []eventHook
	for _, h := range eh.hooks {
		if h.Status == eventHookActive && h.Verification == eventHookVerified && slices.Contains(h.Events, typ) {
			targets = append(targets, *h)
		}
	}
	eh.mu.Unlock()
	for _, h := range targets {
		body, _ := json.Marshal(map[string]any{
			"eventType": eventHookDeliveryType, "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
			"source": base + "/api/v1/eventHooks/" + h.ID, "eventId": newUUID(), "eventTime": formatTime(s.now()),
			"contentType": "application/json", "data": map[string]any{"events": []any{event}},
		})
		eh.inflight.Add(1)
		go func() {
			defer eh.inflight.Done()
			s.deliver(h, body)
		}()
	}
}

// deliver posts one delivery; a timeout, a network error or a 5xx is
// retried once. A failed delivery is lost, as in Okta (which logs it).
func (s *Server) deliver(h eventHook, body []byte) {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var retry bool
		retry, err = s.deliverOnce(h, body)
		if err == nil || !retry {
			break
		}
	}
	if err != nil {
		s.events.failed.Add(1)
		s.log.Warn("oktasim: event hook delivery failed", "event_hook", h.ID, "error", err)
		return
	}
	s.events.delivered.Add(1)
}

func (s *Server) deliverOnce(h eventHook, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.HookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URI, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	setEventHookHeaders(req, h)
	res, err := s.hookHTTP.Do(req)
	if err != nil {
		return true, errors.New("the endpoint did not answer")
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return false, nil
	case res.StatusCode >= 500:
		return true, fmt.Errorf("the endpoint answered %d", res.StatusCode)
	}
	return false, fmt.Errorf("the endpoint answered %d", res.StatusCode)
}
