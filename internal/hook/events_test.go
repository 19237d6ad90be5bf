package hook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/plan"
)

// someone is an extract of one, for tests that need a hook but no sign-in.
var someone = []user{{uid: "someone", email: "someone.else@example.com", pw: isaacHash}}

// addOktaUser records an Okta user as a load would (okta_users) and returns
// its row id.
func (w *world) addOktaUser(projectID int64, orgURL, oktaID, login string) int64 {
	w.t.Helper()
	if err := w.db.Write.Exec(`INSERT INTO okta_users (project_id, org_url, okta_user_id, login, run_id, created_at, password, status)
		VALUES (?, ?, ?, ?, 0, ?, 'hook', 'ACTIVE')`, projectID, orgURL, oktaID, login, w.clock.Now().UTC()).Error; err != nil {
		w.t.Fatal(err)
	}
	var id int64
	if err := w.db.Read.Raw("SELECT id FROM okta_users WHERE org_url = ? AND okta_user_id = ?", orgURL, oktaID).Scan(&id).Error; err != nil {
		w.t.Fatal(err)
	}
	return id
}

// importState is what Ferry knows of a user's import.
type importState struct {
	PasswordImportedAt *time.Time
	ImportedVia        string
}

func (w *world) importOf(rowID int64) importState {
	w.t.Helper()
	var out []importState
	if err := w.db.Read.Table("okta_users").Select("password_imported_at, imported_via").Where("id = ?", rowID).Find(&out).Error; err != nil || len(out) != 1 {
		w.t.Fatalf("okta_users %d: %v", rowID, err)
	}
	return out[0]
}

func (w *world) count(table string) int64 {
	w.t.Helper()
	var n int64
	if err := w.db.Read.Table(table).Count(&n).Error; err != nil {
		w.t.Fatal(err)
	}
	return n
}

// logEvent is a System Log event as Okta delivers it.
func logEvent(uuid, eventType, userID, result, published string) map[string]any {
	return map[string]any{"uuid": uuid, "published": published, "eventType": eventType, "version": "0", "severity": "INFO",
		"displayMessage": "Import user password", "actor": map[string]any{"id": userID, "type": "User", "alternateId": "someone@example.com"},
		"outcome": map[string]any{"result": result, "reason": nil},
		"target":  []any{map[string]any{"id": userID, "type": "User", "alternateId": "someone@example.com", "displayName": "Some One"}}}
}

func deliveryOf(events ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"eventType": hook.DeliveryType, "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
		"source": "https://acme.okta.com/api/v1/eventHooks/who8tsqyrhCdmetzx1e6", "eventId": "b5a188b9-5ece-4636-b041-482ffda96311",
		"eventTime": "2026-11-29T08:00:00.000Z", "contentType": "application/json", "data": map[string]any{"events": events}})
	return b
}

func (w *world) deliver(body []byte) (int, string) {
	status, resp := w.svc.ReceiveEvents(context.Background(), w.config.OrgKey, w.header(), body)
	return status, string(resp)
}

// Okta's one-time verification: the challenge comes back as JSON (escaped),
// with the shared secret only; a missing, long or binary challenge is a 400.
func TestEventHookAnswersTheChallenge(t *testing.T) {
	w := newWorld(t, someone, worldOptions{settings: credentials.Input{Attribute: "pw"}})
	challenge := `p8x"Qb\<script>&` + strings.Repeat("A", 40)
	h := w.header()
	h.Set(hook.ChallengeHeader, challenge)
	status, body := w.svc.AnswerChallenge(context.Background(), w.config.OrgKey, h)
	var got map[string]string
	if status != http.StatusOK || json.Unmarshal(body, &got) != nil || got["verification"] != challenge || len(got) != 1 {
		t.Fatalf("%d %s", status, body)
	}
	for name, value := range map[string]string{"10 KB": strings.Repeat("x", 10<<10), "binary": "ab\x01cd", "empty": ""} {
		h := w.header()
		h.Set(hook.ChallengeHeader, value)
		if status, body := w.svc.AnswerChallenge(context.Background(), w.config.OrgKey, h); status != http.StatusBadRequest || bytes.Contains(body, []byte("xxxxxxxx")) {
			t.Errorf("%s challenge: %d %s", name, status, body)
		}
	}
	forged := http.Header{}
	forged.Set(hook.ChallengeHeader, challenge)
	if status, _ := w.svc.AnswerChallenge(context.Background(), w.config.OrgKey, forged); status != http.StatusUnauthorized {
		t.Fatalf("a challenge without the secret: %d", status)
	}
	w.noSecretsStored(w.secret)
}

// A SUCCESS event marks the user Ferry created in the hook's projects and
// org, once, at the event's time; a redelivery, a second event and a
// FAILURE change nothing; other orgs, other projects and unknown users are
// not touched; other event types are ignored.
func TestImportEventMarksTheUserOnce(t *testing.T) {
	w := newWorld(t, someone, worldOptions{settings: credentials.Input{Attribute: "pw"}})
	org := w.config.OrgURL
	isaac := w.addOktaUser(w.project.ID, org, "00uisaac0000000000001", "isaac.brock@example.com")
	jane := w.addOktaUser(w.project.ID, org, "00ujane00000000000001", "jane@example.com")
	elsewhere := w.addOktaUser(w.project.ID, "https://other.okta.com", "00uisaac0000000000001", "isaac.brock@example.com")
	otherName := "Not served"
	other, err := w.plan.CreateProject(w.ctx, w.account, plan.ProjectInput{Name: &otherName})
	if err != nil {
		t.Fatal(err)
	}
	notServed := w.addOktaUser(other.ID, org, "00uother000000000001", "other@example.com")

	body := deliveryOf(
		logEvent("e-1", hook.EventImportPassword, "00uisaac0000000000001", "SUCCESS", "2026-11-29T07:01:02.345Z"),
		logEvent("e-2", hook.EventImportPassword, "00ujane00000000000001", "FAILURE", "2026-11-29T07:01:03.000Z"),
		logEvent("e-3", "user.session.start", "00ujane00000000000001", "SUCCESS", "2026-11-29T07:01:04.000Z"),
		logEvent("e-4", hook.EventImportPassword, "00uunknown00000000001", "SUCCESS", "2026-11-29T07:01:05.000Z"),
		logEvent("e-5", hook.EventImportPassword, "00uother000000000001", "SUCCESS", "2026-11-29T07:01:06.000Z"),
	)
	if status, resp := w.deliver(body); status != http.StatusOK || resp != "" {
		t.Fatalf("delivery: %d %s", status, resp)
	}
	got := w.importOf(isaac)
	want := time.Date(2026, 11, 29, 7, 1, 2, 345e6, time.UTC)
	if got.PasswordImportedAt == nil || !got.PasswordImportedAt.Equal(want) || got.ImportedVia != hook.ImportedViaEvent {
		t.Fatalf("isaac: %+v, want imported at %s via event", got, want)
	}
	for name, id := range map[string]int64{"jane (FAILURE)": jane, "another org": elsewhere, "a project the hook does not serve": notServed} {
		if s := w.importOf(id); s.PasswordImportedAt != nil || s.ImportedVia != "" {
			t.Errorf("%s was marked: %+v", name, s)
		}
	}
	if n := w.count("hook_events"); n != 4 {
		t.Fatalf("%d events kept, want the 4 imports (not the session event)", n)
	}
	var rows []hook.HookEvent
	if err := w.db.Read.Order("event_uuid").Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	if rows[1].EventUUID != "e-2" || rows[1].Outcome != "FAILURE" || rows[1].OktaUserID != "00ujane00000000000001" || rows[1].HookID != w.config.ID {
		t.Errorf("kept %+v", rows[1])
	}

	// Okta delivers again (and once more in a batch of its own, with a
	// later time): nothing changes.
	if status, _ := w.deliver(body); status != http.StatusOK {
		t.Fatal(status)
	}
	again := deliveryOf(logEvent("e-1", hook.EventImportPassword, "00uisaac0000000000001", "SUCCESS", "2026-12-01T00:00:00Z"),
		logEvent("e-6", hook.EventImportPassword, "00uisaac0000000000001", "SUCCESS", "2026-12-02T00:00:00Z"),
		logEvent("e-6", hook.EventImportPassword, "00uisaac0000000000001", "SUCCESS", "2026-12-02T00:00:00Z"))
	if status, _ := w.deliver(again); status != http.StatusOK {
		t.Fatal(status)
	}
	if n := w.count("hook_events"); n != 5 {
		t.Errorf("%d events kept after redeliveries, want 5", n)
	}
	if s := w.importOf(isaac); !s.PasswordImportedAt.Equal(want) {
		t.Errorf("a redelivery moved the import time to %s", s.PasswordImportedAt)
	}
	found, err := w.svc.FindEvents(w.ctx, w.project.ID, 10)
	if err != nil || len(found) != 5 || found[0].EventUUID != "e-6" {
		t.Errorf("FindEvents: %v %d", err, len(found))
	}
	if !strings.Contains(w.logs.String(), "ignored=1") {
		t.Errorf("the ignored event is not counted in the log: %s", w.logs.String())
	}
	w.noSecretsStored(w.secret, "someone@example.com")
}

// Hostile deliveries: no secret (401, audited, nothing kept), not JSON, not
// UTF-8, too large, another envelope, no events list: a 400 that says
// why. An event without a uuid or a user is skipped, not the batch.
func TestEventHookRefusesBadDeliveries(t *testing.T) {
	w := newWorld(t, someone, worldOptions{settings: credentials.Input{Attribute: "pw"}})
	row := w.addOktaUser(w.project.ID, w.config.OrgURL, "00uisaac0000000000001", "isaac.brock@example.com")
	good := deliveryOf(logEvent("e-1", hook.EventImportPassword, "00uisaac0000000000001", "SUCCESS", "2026-11-29T07:01:02Z"))

	forged := http.Header{"Content-Type": {"application/json"}}
	if status, _ := w.svc.ReceiveEvents(context.Background(), w.config.OrgKey, forged, good); status != http.StatusUnauthorized {
		t.Fatalf("forged delivery: %d", status)
	}
	wrong := w.header()
	wrong.Set("Authorization", "not-the-secret-at-all")
	if status, _ := w.svc.ReceiveEvents(context.Background(), w.config.OrgKey, wrong, good); status != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", status)
	}
	if status, _ := w.svc.ReceiveEvents(context.Background(), "unknownKey", w.header(), good); status != http.StatusUnauthorized {
		t.Fatalf("unknown endpoint: %d", status)
	}
	var audited int64
	w.db.Read.Table("audit_entries").Where("action = ?", hook.ActionRefused).Count(&audited)
	if audited < 2 || w.count("hook_events") != 0 || w.importOf(row).PasswordImportedAt != nil {
		t.Fatalf("forged deliveries: %d audited, %d events kept", audited, w.count("hook_events"))
	}

	huge := deliveryOf(logEvent("e-9", hook.EventImportPassword, "00uisaac0000000000001", "SUCCESS", strings.Repeat("9", hook.MaxEventsBodyBytes)))
	for name, tc := range map[string]struct {
		body []byte
		want string
	}{
		"not JSON":       {[]byte(`{"data":`), "not one JSON object"},
		"two objects":    {[]byte(`{} {}`), "not one JSON object"},
		"not UTF-8":      {[]byte("{\"data\":{\"events\":[]},\"x\":\"\xff\xfe\"}"), "not UTF-8"},
		"too large":      {huge, "larger than 1 MiB"},
		"inline request": {payload("a@example.com", "pw", anIP), "not an event hook delivery"},
		"no events":      {[]byte(`{"eventType":"com.okta.event_hook","data":{}}`), "no data.events"},
		"events object":  {[]byte(`{"eventType":"com.okta.event_hook","data":{"events":{}}}`), "not one JSON object"},
	} {
		status, resp := w.deliver(tc.body)
		if status != http.StatusBadRequest || !strings.Contains(resp, tc.want) {
			t.Errorf("%s: %d %s, want 400 %q", name, status, resp, tc.want)
		}
	}
	odd := deliveryOf(logEvent("", hook.EventImportPassword, "00uisaac0000000000001", "SUCCESS", "2026-11-29T07:01:02Z"),
		logEvent("e-2", hook.EventImportPassword, "00u'; DROP TABLE okta_users;--", "SUCCESS", "2026-11-29T07:01:02Z"),
		map[string]any{"uuid": 42}, logEvent("e-3", hook.EventImportPassword, "00uisaac0000000000001", "SUCCESS", "yesterday"))
	if status, resp := w.deliver(odd); status != http.StatusOK {
		t.Fatalf("odd events: %d %s", status, resp)
	}
	// e-3 has no readable time: the user is marked at the time received.
	if s := w.importOf(row); s.PasswordImportedAt == nil || !s.PasswordImportedAt.Equal(w.clock.Now().UTC()) || w.count("hook_events") != 1 {
		t.Errorf("odd events: %+v, %d kept", s, w.count("hook_events"))
	}
	if !strings.Contains(w.logs.String(), "unreadable=3") {
		t.Errorf("unreadable events are not counted in the log")
	}
	w.noSecretsStored(w.secret, "not-the-secret-at-all")
}

// The plain net/http endpoint: GET verifies, POST delivers (bounded), the
// rest is 405.
func TestServeEvents(t *testing.T) {
	w := newWorld(t, someone, worldOptions{settings: credentials.Input{Attribute: "pw"}})
	srv := httptest.NewServer(http.HandlerFunc(w.svc.ServeEvents))
	t.Cleanup(srv.Close)
	url := srv.URL + hook.EventsPathPrefix + w.config.OrgKey
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header = w.header()
	req.Header.Set(hook.ChallengeHeader, "abc123")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	_ = json.NewDecoder(res.Body).Decode(&got)
	res.Body.Close()
	if res.StatusCode != 200 || got["verification"] != "abc123" || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET: %d %v", res.StatusCode, got)
	}
	for _, tc := range []struct {
		method string
		body   []byte
		want   int
	}{
		{http.MethodPost, deliveryOf(logEvent("e-1", "user.session.start", "00uabc", "SUCCESS", "2026-11-29T07:00:00Z")), 200},
		{http.MethodPost, bytes.Repeat([]byte(" "), hook.MaxEventsBodyBytes+10), 400},
		{http.MethodPut, nil, 405},
	} {
		req, _ := http.NewRequest(tc.method, url, bytes.NewReader(tc.body))
		req.Header = w.header()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s %d bytes: %d, want %d", tc.method, len(tc.body), res.StatusCode, tc.want)
		}
	}
}
