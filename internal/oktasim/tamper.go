package oktasim

import (
	"fmt"
	"slices"
)

// Changes behind Ferry's back: what an Okta admin, a workflow or a group
// rule may do to an org between two of Ferry's runs. Reconciliation tests
// inject them and check that Ferry finds them. They bypass the API (no rate
// limit, no fault, no token) and, except for login uniqueness, the profile
// schema.

// statuses are the user statuses Okta has (UserStatus).
var statuses = []string{StatusStaged, StatusProvisioned, StatusActive, StatusRecovery, StatusLockedOut,
	StatusPasswordExpired, StatusSuspended, StatusDeprovisioned}

// ActivationEmails is the number of activation emails the org would have
// sent the user with this login (or id): one for a createUser with
// activate=true that left the user PROVISIONED (no password), one for each
// activateUser with sendEmail=true. 0 for an unknown user.
func (s *Server) ActivationEmails(login string) int {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if u := st.findUser(login); u != nil {
		return u.ActivationEmails
	}
	return 0
}

// Tamper changes the user with this login (or id) directly: each profile
// attribute given is set (a nil value removes it), and status, when not
// empty, replaces the status (one of Okta's UserStatus values). lastUpdated
// (and statusChanged) move as they would in Okta.
func (s *Server) Tamper(login string, profile map[string]any, status string) error {
	if status != "" && !slices.Contains(statuses, status) {
		return fmt.Errorf("oktasim: tamper: %q is not an Okta user status", status)
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u := st.findUser(login)
	if u == nil {
		return fmt.Errorf("oktasim: tamper: no user %q", login)
	}
	next := map[string]any{}
	for k, v := range u.Profile {
		next[k] = v
	}
	for k, v := range profile {
		if v == nil {
			delete(next, k)
		} else {
			next[k] = v
		}
	}
	newLogin, _ := next["login"].(string)
	if newLogin == "" {
		return fmt.Errorf("oktasim: tamper: the login cannot be removed or made a non-string")
	}
	if other := st.byLogin[foldLogin(newLogin)]; other != nil && other != u {
		return fmt.Errorf("oktasim: tamper: login %q is taken by %s", newLogin, other.ID)
	}
	now := s.now()
	delete(st.byLogin, foldLogin(u.login()))
	u.Profile = next
	st.byLogin[foldLogin(u.login())] = u
	if status != "" && status != u.Status {
		u.Status = status
		u.StatusChanged = &now
		if status == StatusActive && u.Activated == nil {
			u.Activated = &now
		}
	}
	u.LastUpdated = now
	return nil
}

// RemoveFromGroup removes the user with this login (or id) from a group, as
// an admin would in the Admin Console. It is an error when the user or the
// group does not exist, or the user is not a member.
func (s *Server) RemoveFromGroup(login, groupID string) error {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u := st.findUser(login)
	if u == nil {
		return fmt.Errorf("oktasim: remove from group: no user %q", login)
	}
	g := st.groups[groupID]
	if g == nil {
		return fmt.Errorf("oktasim: remove from group: no group %q", groupID)
	}
	if !g.Members[u.ID] {
		return fmt.Errorf("oktasim: remove from group: %q is not a member of %s", login, groupID)
	}
	delete(g.Members, u.ID)
	g.LastMembershipUpdated = s.now()
	return nil
}
