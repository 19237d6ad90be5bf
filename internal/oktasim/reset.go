package oktasim

import "net/http"

// resetPassword is POST /api/v1/users/{id}/lifecycle/reset_password
// (resetPassword): the user goes to RECOVERY and cannot sign in until it
// sets a new password through a one-time link, which Okta emails
// (sendEmail=true, answer {}) or returns (sendEmail=false, answer
// {"resetPasswordUrl": …}). What the user had as a password is gone: an
// imported hash, Okta's own copy, or the password import hook, which is
// therefore never called for this user again (the end of a migration
// program for people who never signed in, NOTES §2). The new password will
// be Okta's own, so the provider becomes OKTA.
//
// The spec marks sendEmail required; the old reference gave it the default
// true, which the sandbox keeps for a request without it. Statuses: ACTIVE,
// RECOVERY (a new link replaces the old one), PASSWORD_EXPIRED and
// LOCKED_OUT may be reset; STAGED, PROVISIONED (not activated yet: resend
// the activation instead), SUSPENDED and DEPROVISIONED get 403 E0000038,
// the code Okta uses for an operation the user's status does not allow.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u := st.users[p["id"]]
	if u == nil {
		notFound(w, p["id"])
		return
	}
	switch u.Status {
	case StatusActive, StatusRecovery, StatusPasswordExpired, StatusLockedOut:
	default:
		writeError(w, http.StatusForbidden, "E0000038", "This operation is not allowed in the user's current status.")
		return
	}
	now := s.now()
	if u.Status != StatusRecovery {
		u.Status = StatusRecovery
		u.StatusChanged = &now
	}
	u.ImportedHash, u.Hook, u.PasswordHash = nil, false, nil
	u.ProviderType, u.ProviderName = ProviderOkta, ProviderOkta
	u.LastUpdated = now
	if boolParam(r, "sendEmail", true) {
		u.ResetEmails++
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"resetPasswordUrl": baseURL(r) + "/reset_password/" + newID("", 20)})
}

// ResetEmails is the number of password reset emails the org would have
// sent the user with this login (or id): one for each resetPassword with
// sendEmail=true. 0 for an unknown user.
func (s *Server) ResetEmails(login string) int {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if u := st.findUser(login); u != nil {
		return u.ResetEmails
	}
	return 0
}
