package oktasim

import (
	"net"
	"net/http"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// authnRequest is the body of POST /api/v1/authn (Classic primary
// authentication).
type authnRequest struct {
	Username *string `json:"username"`
	Password *string `json:"password"`
}

// authn is a Classic Engine sign-in: username and password give
// status SUCCESS and a session token, or 401 E0000004. It checks imported
// hashes, and calls the password import hook for hook users. Only ACTIVE
// and PASSWORD_EXPIRED users can sign in (STAGED, PROVISIONED, SUSPENDED,
// DEPROVISIONED … get 401 E0000004); a PASSWORD_EXPIRED user with the right
// password gets a PASSWORD_EXPIRED transaction (a stateToken and a
// changePassword link, no session token), as Okta's Authentication API does.
func (s *Server) authn(w http.ResponseWriter, r *http.Request, _ params) {
	var req authnRequest
	if !decodeBody(w, r, &req) {
		return
	}
	var v validationError
	if req.Username == nil || *req.Username == "" {
		v.add("username", "username: The field cannot be left blank")
	}
	if req.Password == nil || *req.Password == "" {
		v.add("password", "password: The field cannot be left blank")
	}
	if !v.empty() {
		v.write(w)
		return
	}
	username, password := *req.Username, *req.Password
	fail := func() { writeError(w, http.StatusUnauthorized, "E0000004", "Authentication failed") }

	st := s.store
	st.mu.Lock()
	u := st.findUser(username)
	if u == nil || (u.Status != StatusActive && u.Status != StatusPasswordExpired) {
		st.mu.Unlock()
		fail()
		return
	}
	id := u.ID
	imported, hook, own := u.ImportedHash, u.Hook, u.PasswordHash
	var hk inlineHook
	var hookFound bool
	if hook {
		if h := st.passwordImportHook(); h != nil {
			hk, hookFound = *h, true
		}
	}
	st.mu.Unlock()

	// Checking a password (or calling the hook) happens outside the lock.
	var ok bool
	switch {
	case own != nil:
		ok = bcrypt.CompareHashAndPassword(own, []byte(password)) == nil
	case imported != nil:
		var err error
		ok, err = s.opts.Verifier(*imported, password)
		if err != nil {
			s.log.Warn("oktasim: cannot verify an imported hash", "user", id, "error", err)
			ok = false
		}
	case hook:
		if !hookFound {
			s.log.Warn("oktasim: sign-in of a hook user, but no active password import inline hook is registered", "user", id)
			fail()
			return
		}
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		payload := passwordImportPayload(baseURL(r), hk.ID, w.Header().Get("X-Okta-Request-Id"), username, password, ip, s.now())
		verdict, err := s.callPasswordHook(r.Context(), hk, payload)
		if err != nil {
			s.log.Warn("oktasim: password import inline hook failed; the sign-in is refused", "user", id, "error", err)
			fail()
			return
		}
		if verdict == verdictVerified {
			// Saved unless the org is read-only; logged as user.import.password.
			if !s.importVerifiedPassword(r, w.Header().Get("X-Okta-Request-Id"), id, password) {
				fail()
				return
			}
			ok = true
		}
	}
	if !ok {
		fail()
		return
	}
	now := s.now()
	st.mu.Lock()
	cur := st.users[id]
	if cur == nil {
		st.mu.Unlock()
		fail()
		return
	}
	expired := cur.Status == StatusPasswordExpired
	if !expired {
		cur.LastLogin = &now
	}
	profile := map[string]any{"login": cur.Profile["login"], "firstName": cur.Profile["firstName"],
		"lastName": cur.Profile["lastName"], "locale": "en_US", "timeZone": "America/Los_Angeles"}
	if l, ok := cur.Profile["locale"]; ok {
		profile["locale"] = l
	}
	if tz, ok := cur.Profile["timezone"]; ok {
		profile["timeZone"] = tz
	}
	changed := formatTimeP(cur.PasswordChanged)
	st.mu.Unlock()
	cancel := map[string]any{"href": baseURL(r) + "/api/v1/authn/cancel", "hints": map[string]any{"allow": []string{"POST"}}}
	if expired {
		writeJSON(w, http.StatusOK, map[string]any{
			"stateToken": newID("00", 42),
			"expiresAt":  formatTime(now.Add(5 * time.Minute)),
			"status":     "PASSWORD_EXPIRED",
			"_embedded": map[string]any{
				"user": map[string]any{"id": id, "passwordChanged": changed, "profile": profile},
				"policy": map[string]any{"complexity": map[string]any{"minLength": 8, "minLowerCase": 1, "minUpperCase": 1,
					"minNumber": 1, "minSymbol": 0, "excludeUsername": true}, "age": map[string]any{"minAgeMinutes": 0, "historyCount": 0}},
			},
			"_links": map[string]any{
				"next":   map[string]any{"name": "changePassword", "href": baseURL(r) + "/api/v1/authn/credentials/change_password", "hints": map[string]any{"allow": []string{"POST"}}},
				"cancel": cancel,
			},
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"expiresAt":    formatTime(now.Add(5 * time.Minute)),
		"status":       "SUCCESS",
		"sessionToken": newID("", 46),
		"_embedded":    map[string]any{"user": map[string]any{"id": id, "passwordChanged": changed, "profile": profile}},
		"_links":       map[string]any{"cancel": cancel},
	})
}
