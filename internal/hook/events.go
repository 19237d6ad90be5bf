package hook

// Okta's confirmation that it holds a password. A VERIFIED answer is not
// proof: in read-only mode Okta may not save the password and calls the
// hook again next time. Ferry counts a user as migrated only when Okta
// confirms it, in one of two ways:
//
//   - the System Log event user.import.password with outcome SUCCESS,
//     delivered to Ferry's event hook endpoint (this file), which Okta
//     calls with the same shared secret as the inline hook;
//   - the user read back with credentials.provider OKTA (confirm.go), for
//     users whose event was missed.
//
// Okta's event hooks: a one-time GET verification that must echo the
// X-Okta-Verification-Challenge header as {"verification": …}, then POSTs of
// {"eventType":"com.okta.event_hook", "data":{"events":[LogEvent…]}},
// answered 200 at once (Okta waits 3 s and retries once on a timeout or a
// 5xx; it may deliver an event twice, so the event's uuid is the key).

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// EventsPathPrefix is where the event hook endpoint lives; the org's key
// follows it (the same key as the password import endpoint's).
const EventsPathPrefix = "/api/hooks/okta/events/"

// Event hook facts and limits.
const (
	// ChallengeHeader carries Okta's one-time verification challenge.
	ChallengeHeader = "X-Okta-Verification-Challenge"
	// MaxChallengeLen bounds the challenge Ferry echoes (Okta's are ~40
	// characters).
	MaxChallengeLen = 256
	// MaxEventsBodyBytes bounds a delivery (Okta batches up to 50 events
	// of a few KiB each).
	MaxEventsBodyBytes = 1 << 20
	// DeliveryType is the eventType of an event hook delivery.
	DeliveryType = "com.okta.event_hook"
	// EventImportPassword is the System Log event of a password import.
	EventImportPassword = "user.import.password"
	// ImportedViaEvent and ImportedViaProvider are okta_users.imported_via.
	ImportedViaEvent    = "event"
	ImportedViaProvider = "provider"
	// eventsWriteBudget bounds the write of one delivery: Okta waits 3 s.
	eventsWriteBudget = 2 * time.Second
	maxUUIDLen        = 100
	maxOktaIDLen      = 64
)

// delivery is the part of an event hook delivery Ferry reads.
type delivery struct {
	EventType *string `json:"eventType"`
	Data      *struct {
		Events *[]json.RawMessage `json:"events"`
	} `json:"data"`
}

// logEvent is the part of a System Log event (LogEvent) Ferry reads.
type logEvent struct {
	UUID      string `json:"uuid"`
	EventType string `json:"eventType"`
	Published string `json:"published"`
	Outcome   *struct {
		Result string `json:"result"`
	} `json:"outcome"`
	Target []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"target"`
}

// HookEvent is one System Log event received through the event hook
// (hook_events), kept once per uuid.
type HookEvent struct {
	ID         int64      `gorm:"column:id;primaryKey" json:"id"`
	HookID     int64      `gorm:"column:hook_id" json:"hookId"`
	EventUUID  string     `gorm:"column:event_uuid" json:"uuid"`
	EventType  string     `gorm:"column:event_type" json:"eventType"`
	OktaUserID string     `gorm:"column:okta_user_id" json:"oktaUserId"`
	Outcome    string     `gorm:"column:outcome" json:"outcome"`
	Published  *time.Time `gorm:"column:published" json:"published"`
	ReceivedAt time.Time  `gorm:"column:received_at" json:"receivedAt"`
}

// TableName is the table events live in.
func (HookEvent) TableName() string { return "hook_events" }

// DeliveryResult counts what one delivery held.
type DeliveryResult struct {
	Events int
	// Imports are user.import.password events (new ones; Duplicates were
	// received before), Succeeded those with outcome SUCCESS.
	Imports, Duplicates, Succeeded int
	// Marked are the okta_users rows marked imported.
	Marked int64
	// Ignored are events of other types; Unreadable events without a uuid
	// or a user (skipped, so that one odd event does not lose the batch).
	Ignored, Unreadable int
}

// AnswerChallenge answers Okta's one-time verification of the event hook
// (GET on the endpoint of orgKey): authenticated like every call, it echoes
// the challenge header as {"verification": …}. It returns the status and
// body to send (application/json).
func (s *Service) AnswerChallenge(ctx context.Context, orgKey string, header http.Header) (int, []byte) {
	c, ok := s.authenticate(ctx, orgKey, header)
	if !ok {
		return http.StatusUnauthorized, unauthorizedBody
	}
	got := header.Values(ChallengeHeader)
	if len(got) != 1 || got[0] == "" {
		return http.StatusBadRequest, errorBody("The request has no " + ChallengeHeader + " header.")
	}
	challenge := got[0]
	if len(challenge) > MaxChallengeLen || !printableASCII(challenge) {
		s.log.WarnContext(ctx, "event hook: verification refused", slog.Int64("hook", c.ID), slog.Int("challenge_len", len(challenge)))
		return http.StatusBadRequest, errorBody("The verification challenge is longer than 256 characters or not printable ASCII.")
	}
	b, _ := json.Marshal(map[string]string{"verification": challenge})
	s.log.InfoContext(ctx, "event hook: verification answered", slog.Int64("hook", c.ID))
	return http.StatusOK, b
}

// ReceiveEvents takes one event hook delivery on the endpoint of orgKey.
// Every user.import.password event is kept once (its uuid is the key: a
// redelivery changes nothing); one with outcome SUCCESS marks the Okta
// user, as Ferry recorded it in the projects the hook serves and the hook's
// org, as imported (password_imported_at = the event's time, imported_via
// event) unless already marked. Other event types are counted and ignored;
// a user Ferry did not create is kept as an event and otherwise ignored.
// The answer is 200 with no body, 400 for a body that is not a delivery,
// 401 for a failed authentication, 503 when the database failed (Okta
// retries once).
func (s *Service) ReceiveEvents(ctx context.Context, orgKey string, header http.Header, body []byte) (int, []byte) {
	c, ok := s.authenticate(ctx, orgKey, header)
	if !ok {
		return http.StatusUnauthorized, unauthorizedBody
	}
	events, problem := parseDelivery(body)
	if problem != "" {
		s.log.WarnContext(ctx, "event hook: delivery refused", slog.Int64("hook", c.ID), slog.String("reason", problem))
		return http.StatusBadRequest, errorBody(problem)
	}
	wctx, cancel := context.WithTimeout(ctx, eventsWriteBudget)
	defer cancel()
	res, err := s.storeEvents(wctx, c, events)
	if err != nil {
		s.log.ErrorContext(ctx, "event hook: cannot keep a delivery", slog.Int64("hook", c.ID), slog.String("error", err.Error()))
		return http.StatusServiceUnavailable, errorBody("The events could not be kept now; deliver them again.")
	}
	s.log.InfoContext(ctx, "event hook: delivery", slog.Int64("hook", c.ID), slog.Int("events", res.Events),
		slog.Int("imports", res.Imports), slog.Int("succeeded", res.Succeeded), slog.Int("duplicates", res.Duplicates),
		slog.Int64("marked", res.Marked), slog.Int("ignored", res.Ignored), slog.Int("unreadable", res.Unreadable))
	return http.StatusOK, nil
}

// parseDelivery checks the envelope and returns its events, or what is
// wrong with it (a message for Okta's logs).
func parseDelivery(body []byte) ([]json.RawMessage, string) {
	if len(body) > MaxEventsBodyBytes {
		return nil, "The delivery is larger than 1 MiB."
	}
	if !utf8.Valid(body) {
		return nil, "The delivery is not UTF-8."
	}
	var d delivery
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&d); err != nil || dec.More() {
		return nil, "The delivery is not one JSON object."
	}
	if d.EventType != nil && *d.EventType != DeliveryType {
		return nil, "The delivery is not an event hook delivery (eventType " + DeliveryType + ")."
	}
	if d.Data == nil || d.Data.Events == nil {
		return nil, "The delivery has no data.events list."
	}
	return *d.Data.Events, ""
}

// storeEvents keeps a delivery's import events and marks the users, in one
// short write transaction (all or nothing: a failure is answered 503 and
// Okta's retry finds nothing half-kept).
func (s *Service) storeEvents(ctx context.Context, c *Config, raw []json.RawMessage) (DeliveryResult, error) {
	res := DeliveryResult{Events: len(raw)}
	now := s.now().UTC()
	var keep []HookEvent
	seen := map[string]bool{}
	for _, r := range raw {
		var e logEvent
		if err := json.Unmarshal(r, &e); err != nil {
			res.Unreadable++
			continue
		}
		if e.EventType != EventImportPassword {
			res.Ignored++
			continue
		}
		userID := ""
		for _, t := range e.Target {
			if t.Type == "User" {
				userID = t.ID
				break
			}
		}
		if e.UUID == "" || len(e.UUID) > maxUUIDLen || !validOktaID(userID) {
			res.Unreadable++
			continue
		}
		if seen[e.UUID] {
			res.Duplicates++
			continue
		}
		seen[e.UUID] = true
		ev := HookEvent{HookID: c.ID, EventUUID: e.UUID, EventType: e.EventType, OktaUserID: userID, ReceivedAt: now}
		if e.Outcome != nil && len(e.Outcome.Result) <= 32 {
			ev.Outcome = e.Outcome.Result
		}
		if t, err := time.Parse(time.RFC3339Nano, e.Published); err == nil {
			t = t.UTC()
			ev.Published = &t
		}
		keep = append(keep, ev)
	}
	if len(keep) == 0 {
		return res, nil
	}
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		var projectIDs []int64
		if err := tx.Model(&hookProject{}).Where("hook_id = ?", c.ID).Pluck("project_id", &projectIDs).Error; err != nil {
			return err
		}
		for i := range keep {
			ev := &keep[i]
			ins := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "event_uuid"}}, DoNothing: true}).Create(ev)
			if ins.Error != nil {
				return ins.Error
			}
			if ins.RowsAffected == 0 {
				res.Duplicates++
				continue
			}
			res.Imports++
			if ev.Outcome != "SUCCESS" {
				continue
			}
			res.Succeeded++
			if len(projectIDs) == 0 {
				continue
			}
			at := now
			if ev.Published != nil {
				at = *ev.Published
			}
			upd := tx.Table("okta_users").
				Where("okta_user_id = ? AND org_url = ? AND project_id IN ? AND password_imported_at IS NULL", ev.OktaUserID, c.OrgURL, projectIDs).
				Updates(map[string]any{"password_imported_at": at, "imported_via": ImportedViaEvent})
			if upd.Error != nil {
				return upd.Error
			}
			res.Marked += upd.RowsAffected
		}
		return nil
	})
	if err != nil {
		return DeliveryResult{}, err
	}
	return res, nil
}

// validOktaID reports whether id could be an Okta object id (letters and
// digits), so that nothing else reaches a query or a row.
func validOktaID(id string) bool {
	if id == "" || len(id) > maxOktaIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !(b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z') {
			return false
		}
	}
	return true
}

// FindEvents returns the newest events received for the hook serving the
// project (at most limit, newest first), for the dashboard.
func (s *Service) FindEvents(ctx context.Context, projectID int64, limit int) ([]HookEvent, error) {
	c, err := s.FindConfig(ctx, projectID)
	if err != nil || c == nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []HookEvent
	if err := s.db.Read.WithContext(ctx).Where("hook_id = ?", c.ID).Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// ServeEvents serves the event hook endpoint at EventsPathPrefix+orgKey for
// a plain net/http server (tests, a dedicated listener); the console's
// router calls AnswerChallenge and ReceiveEvents.
func (s *Service) ServeEvents(w http.ResponseWriter, r *http.Request) {
	orgKey, ok := strings.CutPrefix(r.URL.Path, EventsPathPrefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	var status int
	var resp []byte
	switch r.Method {
	case http.MethodGet:
		status, resp = s.AnswerChallenge(r.Context(), orgKey, r.Header)
	case http.MethodPost:
		body, err := ReadBody(r.Body, MaxEventsBodyBytes)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		status, resp = s.ReceiveEvents(r.Context(), orgKey, r.Header, body)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "GET or POST only", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if len(resp) > 0 {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp)
}
