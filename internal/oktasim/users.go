package oktasim

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/okta"
)

// oktaBcryptCost is the cost of the sandbox's own password copies: the
// lowest, because they guard rehearsal data and a load of thousands of
// users with plain passwords must not spend seconds per user.
const oktaBcryptCost = bcrypt.MinCost

// passwordCredential is credentials.password in requests (PasswordCredential).
type passwordCredential struct {
	Value *string            `json:"value"`
	Hash  *okta.PasswordHash `json:"hash"`
	Hook  *struct {
		Type string `json:"type"`
	} `json:"hook"`
}

type credentialsRequest struct {
	Password *passwordCredential `json:"password"`
	Provider *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"provider"`
	RecoveryQuestion *struct {
		Question string `json:"question"`
		Answer   string `json:"answer"`
	} `json:"recovery_question"`
}

// createUserRequest is the body of POST /api/v1/users (CreateUserRequest).
type createUserRequest struct {
	Profile     map[string]any      `json:"profile"`
	Credentials *credentialsRequest `json:"credentials"`
	GroupIDs    []string            `json:"groupIds"`
	Type        *struct {
		ID string `json:"id"`
	} `json:"type"`
	RealmID string `json:"realmId"`
}

const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTimeP(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := formatTime(*t)
	return &s
}

func boolParam(r *http.Request, name string, def bool) bool {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def
	}
	return b
}

// userJSON is a user as Okta renders it (User).
type userJSON struct {
	ID              string          `json:"id"`
	Status          string          `json:"status"`
	Created         string          `json:"created"`
	Activated       *string         `json:"activated"`
	StatusChanged   *string         `json:"statusChanged"`
	LastLogin       *string         `json:"lastLogin"`
	LastUpdated     string          `json:"lastUpdated"`
	PasswordChanged *string         `json:"passwordChanged"`
	Type            map[string]any  `json:"type"`
	Profile         map[string]any  `json:"profile"`
	Credentials     credentialsJSON `json:"credentials"`
	Links           map[string]any  `json:"_links"`
}

type credentialsJSON struct {
	Password         *struct{}         `json:"password,omitempty"`
	RecoveryQuestion map[string]string `json:"recovery_question,omitempty"`
	Provider         map[string]string `json:"provider"`
}

func href(base, path string) map[string]any { return map[string]any{"href": base + path} }

func (s *Server) renderUser(base string, u *user) userJSON {
	out := userJSON{ID: u.ID, Status: u.Status, Created: formatTime(u.Created), Activated: formatTimeP(u.Activated),
		StatusChanged: formatTimeP(u.StatusChanged), LastLogin: formatTimeP(u.LastLogin), LastUpdated: formatTime(u.LastUpdated),
		PasswordChanged: formatTimeP(u.PasswordChanged), Type: map[string]any{"id": s.store.typeID},
		Profile:     maps.Clone(u.Profile),
		Credentials: credentialsJSON{Provider: map[string]string{"type": u.ProviderType, "name": u.ProviderName}}}
	if u.hasPassword() {
		out.Credentials.Password = &struct{}{}
	}
	if u.RecoveryQ != "" {
		out.Credentials.RecoveryQuestion = map[string]string{"question": u.RecoveryQ}
	}
	self := "/api/v1/users/" + u.ID
	links := map[string]any{"self": href(base, self)}
	lifecycle := func(name, action string) {
		links[name] = map[string]any{"href": base + self + "/lifecycle/" + action, "method": "POST"}
	}
	switch u.Status {
	case StatusStaged, StatusDeprovisioned:
		lifecycle("activate", "activate")
	default:
		lifecycle("deactivate", "deactivate")
	}
	switch u.Status {
	case StatusActive:
		lifecycle("suspend", "suspend")
		if u.hasPassword() {
			lifecycle("expirePassword", "expire_password")
		}
	case StatusSuspended:
		lifecycle("unsuspend", "unsuspend")
	}
	links["type"] = href(base, "/api/v1/meta/types/user/"+s.store.typeID)
	links["schema"] = href(base, "/api/v1/meta/schemas/user/default")
	out.Links = links
	return out
}

// cleanProfile drops null values: Okta stores an unset attribute, not a
// null one, and never answers with nulls the spec forbids.
func cleanProfile(p map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range p {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

// validatePassword checks credentials.password: exactly one of value, hash
// and hook, each well-formed.
func validatePassword(pw *passwordCredential, login string, v *validationError) {
	n := 0
	if pw.Value != nil {
		n++
	}
	if pw.Hash != nil {
		n++
	}
	if pw.Hook != nil {
		n++
	}
	if n > 1 {
		v.add("password", "password: Only one of value, hash and hook may be specified")
		return
	}
	switch {
	case pw.Value != nil:
		if !meetsDefaultPolicy(*pw.Value, login) {
			v.add("password", "password: Password requirements were not met. Password requirements: at least 8 characters, a lowercase letter, an uppercase letter, a number, no parts of your username.")
		}
	case pw.Hash != nil:
		// Okta's import rules, checked by the code that proves Ferry's conversions.
		if err := hashes.CheckOkta(*pw.Hash); err != nil {
			v.add("password", "password: "+strings.TrimPrefix(err.Error(), "okta hash: "))
		}
	case pw.Hook != nil:
		if pw.Hook.Type != "default" {
			v.add("password", "password: hook.type must be default")
		}
	}
}

// meetsDefaultPolicy is Okta's default password policy.
func meetsDefaultPolicy(pw, login string) bool {
	if len([]rune(pw)) < 8 {
		return false
	}
	var lower, upper, digit bool
	for _, r := range pw {
		lower = lower || unicode.IsLower(r)
		upper = upper || unicode.IsUpper(r)
		digit = digit || unicode.IsDigit(r)
	}
	local := login
	if at := strings.IndexByte(login, '@'); at > 0 {
		local = login[:at]
	}
	if len(local) >= 3 && strings.Contains(strings.ToLower(pw), strings.ToLower(local)) {
		return false
	}
	return lower && upper && digit
}

// applyPassword sets u's credentials from a validated password object.
func (s *Server) applyPassword(u *user, pw *passwordCredential, now time.Time) error {
	switch {
	case pw.Value != nil:
		h, err := bcrypt.GenerateFromPassword([]byte(*pw.Value), oktaBcryptCost)
		if err != nil {
			return err
		}
		u.PasswordHash, u.ImportedHash, u.Hook = h, nil, false
		u.ProviderType, u.ProviderName = ProviderOkta, ProviderOkta
	case pw.Hash != nil:
		h := *pw.Hash
		u.ImportedHash, u.PasswordHash, u.Hook = &h, nil, false
		u.ProviderType, u.ProviderName = ProviderImport, ProviderImport
	case pw.Hook != nil:
		u.Hook, u.ImportedHash, u.PasswordHash = true, nil, nil
		u.ProviderType, u.ProviderName = ProviderImport, ProviderImport
	default:
		return nil
	}
	u.PasswordChanged = &now
	return nil
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, _ params) {
	var req createUserRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if len(req.GroupIDs) > 20 {
		writeError(w, http.StatusBadRequest, "E0000093", "Target count limit exceeded", "The number of group targets is too large")
		return
	}
	activate := boolParam(r, "activate", true)
	if req.Profile == nil {
		req.Profile = map[string]any{}
	}
	var v validationError
	login, _ := req.Profile["login"].(string)
	if s.currentFaults().failsCreate(login) {
		writeError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error")
		return
	}
	var pw *passwordCredential
	providerType := ProviderOkta
	if c := req.Credentials; c != nil {
		pw = c.Password
		if pw != nil {
			validatePassword(pw, login, &v)
		}
		if c.Provider != nil && c.Provider.Type != "" && c.Provider.Type != ProviderOkta {
			switch c.Provider.Type {
			case ProviderFederated, ProviderSocial:
				if !boolParam(r, "provider", false) {
					v.add("provider", "provider: Use provider=true to create a user with an authentication provider")
				} else if pw != nil {
					v.add("password", "password: A user with provider "+c.Provider.Type+" cannot have a password")
				}
				providerType = c.Provider.Type
			default:
				v.add("provider", "provider.type: Does not match an allowed value")
			}
		}
	}

	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	profile := cleanProfile(req.Profile)
	st.schema.validateProfile(profile, &v)
	if login != "" && st.byLogin[foldLogin(login)] != nil {
		v.add("login", "login: An object with this field already exists in the current organization")
	}
	if !v.empty() {
		v.write(w)
		return
	}
	for _, gid := range req.GroupIDs {
		if st.groups[gid] == nil {
			notFound(w, gid)
			return
		}
	}
	now := s.now()
	u := &user{ID: newID("00u", 20), Created: now, LastUpdated: now, Profile: profile, ProviderType: providerType, ProviderName: providerType}
	if c := req.Credentials; c != nil && c.RecoveryQuestion != nil {
		u.RecoveryQ = c.RecoveryQuestion.Question
	}
	if pw != nil {
		if err := s.applyPassword(u, pw, now); err != nil {
			writeError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error")
			return
		}
	}
	// The spec's "User creation details and outcomes" table.
	switch {
	case !activate:
		u.Status = StatusStaged
	case u.hasPassword() || providerType == ProviderFederated || providerType == ProviderSocial:
		u.Status = StatusActive
		u.Activated, u.StatusChanged = &now, &now
	default:
		// Okta emails the activation link to a user it cannot activate
		// outright (the table's "activation email / one-time token").
		u.Status = StatusProvisioned
		u.Activated, u.StatusChanged = &now, &now
		u.ActivationEmails++
	}
	st.addUser(u)
	for _, gid := range req.GroupIDs {
		g := st.groups[gid]
		g.Members[u.ID] = true
		g.LastMembershipUpdated = now
	}
	writeJSON(w, http.StatusOK, s.renderUser(baseURL(r), u))
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u := st.findUser(p["id"])
	if u == nil {
		notFound(w, p["id"])
		return
	}
	writeJSON(w, http.StatusOK, s.renderUser(baseURL(r), u))
}

// updateUser is POST (partial) or PUT (replace) /api/v1/users/{id}.
func (s *Server) updateUser(replace bool) func(http.ResponseWriter, *http.Request, params) {
	return func(w http.ResponseWriter, r *http.Request, p params) {
		var req createUserRequest
		if !decodeBody(w, r, &req) {
			return
		}
		st := s.store
		st.mu.Lock()
		defer st.mu.Unlock()
		u := st.users[p["id"]]
		if u == nil {
			notFound(w, p["id"])
			return
		}
		profile := maps.Clone(u.Profile)
		if replace {
			profile = map[string]any{}
		}
		maps.Copy(profile, req.Profile)
		profile = cleanProfile(profile)
		var v validationError
		st.schema.validateProfile(profile, &v)
		newLogin, _ := profile["login"].(string)
		if other := st.byLogin[foldLogin(newLogin)]; other != nil && other != u {
			v.add("login", "login: An object with this field already exists in the current organization")
		}
		var pw *passwordCredential
		if req.Credentials != nil && req.Credentials.Password != nil {
			pw = req.Credentials.Password
			if (pw.Hash != nil || pw.Hook != nil) && u.Status != StatusStaged {
				v.add("password", "password: An imported password may only be specified for a user with status: STAGED")
			} else {
				validatePassword(pw, newLogin, &v)
			}
		}
		if !v.empty() {
			v.write(w)
			return
		}
		now := s.now()
		if pw != nil {
			if err := s.applyPassword(u, pw, now); err != nil {
				writeError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error")
				return
			}
		}
		delete(st.byLogin, foldLogin(u.login()))
		u.Profile = profile
		st.byLogin[foldLogin(u.login())] = u
		if req.Credentials != nil && req.Credentials.RecoveryQuestion != nil {
			u.RecoveryQ = req.Credentials.RecoveryQuestion.Question
		}
		u.LastUpdated = now
		writeJSON(w, http.StatusOK, s.renderUser(baseURL(r), u))
	}
}

func (s *Server) activateUser(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u := st.users[p["id"]]
	if u == nil {
		notFound(w, p["id"])
		return
	}
	if u.Status != StatusStaged && u.Status != StatusDeprovisioned {
		writeError(w, http.StatusForbidden, "E0000016", "Activation failed because the user is already active")
		return
	}
	now := s.now()
	u.Status = StatusProvisioned
	if u.hasPassword() || u.ProviderType == ProviderFederated || u.ProviderType == ProviderSocial {
		u.Status = StatusActive
	}
	u.Activated, u.StatusChanged, u.LastUpdated = &now, &now, now
	if boolParam(r, "sendEmail", true) {
		// Okta emails the activation link whatever the user's
		// credentials (the spec warns not to send one to users with an
		// imported password or a hook): every such email is counted.
		u.ActivationEmails++
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	token := newID("", 20)
	writeJSON(w, http.StatusOK, map[string]string{"activationToken": token, "activationUrl": baseURL(r) + "/welcome/" + token})
}

// lifecycleRefused is Okta's answer to a lifecycle call on a user whose
// status does not allow it: 400 E0000001 for suspend and unsuspend (the old
// Users API reference: "Passing an id that is not in the ACTIVE state
// returns a 400 Bad Request status code with error code E0000001"). The
// summary and cause texts are the sandbox's own: Okta's are not documented.
func lifecycleRefused(w http.ResponseWriter, cause string) {
	writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: status", cause)
}

// suspendUser: ACTIVE → SUSPENDED only.
func (s *Server) suspendUser(w http.ResponseWriter, r *http.Request, p params) {
	s.transition(w, p, StatusActive, StatusSuspended, func(w http.ResponseWriter) {
		lifecycleRefused(w, "Cannot suspend a user that is not active")
	})
}

// unsuspendUser: SUSPENDED → ACTIVE only.
func (s *Server) unsuspendUser(w http.ResponseWriter, r *http.Request, p params) {
	s.transition(w, p, StatusSuspended, StatusActive, func(w http.ResponseWriter) {
		lifecycleRefused(w, "Cannot unsuspend a user that is not suspended")
	})
}

// transition moves the user p["id"] from status from to status to and
// answers 200 with no body (suspendUser, unsuspendUser), or calls refuse.
func (s *Server) transition(w http.ResponseWriter, p params, from, to string, refuse func(http.ResponseWriter)) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u := st.users[p["id"]]
	if u == nil {
		notFound(w, p["id"])
		return
	}
	if u.Status != from {
		refuse(w)
		return
	}
	now := s.now()
	u.Status = to
	u.StatusChanged, u.LastUpdated = &now, now
	w.WriteHeader(http.StatusOK)
}

// expirePassword: an ACTIVE (or already PASSWORD_EXPIRED) user with a
// password becomes PASSWORD_EXPIRED and keeps the password, which it must
// change at the next sign-in. Any other status gets 403 E0000038, the code
// Okta uses for an operation the user's status does not allow (the spec
// documents no error for this call).
func (s *Server) expirePassword(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u := st.users[p["id"]]
	if u == nil {
		notFound(w, p["id"])
		return
	}
	if (u.Status != StatusActive && u.Status != StatusPasswordExpired) || !u.hasPassword() {
		writeError(w, http.StatusForbidden, "E0000038", "This operation is not allowed in the user's current status.")
		return
	}
	now := s.now()
	if u.Status != StatusPasswordExpired {
		u.Status = StatusPasswordExpired
		u.StatusChanged = &now
	}
	u.LastUpdated = now
	writeJSON(w, http.StatusOK, s.renderUser(baseURL(r), u))
}

func (s *Server) deactivateUser(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u := st.users[p["id"]]
	if u == nil {
		notFound(w, p["id"])
		return
	}
	s.deactivate(u)
	w.WriteHeader(http.StatusOK)
}

func (s *Server) deactivate(u *user) {
	if u.Status == StatusDeprovisioned {
		return
	}
	now := s.now()
	u.Status = StatusDeprovisioned
	u.StatusChanged, u.LastUpdated = &now, now
}

// deleteUser: the first DELETE of a user that is not DEPROVISIONED
// deactivates it; the second deletes it.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u := st.users[p["id"]]
	if u == nil {
		notFound(w, p["id"])
		return
	}
	if u.Status != StatusDeprovisioned {
		s.deactivate(u)
	} else {
		st.removeUser(u)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listUserGroups(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	u := st.users[p["id"]]
	if u == nil {
		notFound(w, p["id"])
		return
	}
	out := []groupJSON{}
	for _, g := range st.gorder {
		if g.Members[u.ID] {
			out = append(out, renderGroup(baseURL(r), g))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// page is one page of a list and the cursor of the next one.
type pageParams struct {
	limit int
	after string
}

func parsePage(r *http.Request, def, max int) (pageParams, bool) {
	q := r.URL.Query()
	pp := pageParams{limit: def, after: q.Get("after")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return pp, false
		}
		pp.limit = min(n, max)
	}
	return pp, true
}

// setLinks writes Okta's Link header: rel="self" and, when more remains,
// rel="next" with the after cursor.
func setLinks(w http.ResponseWriter, r *http.Request, path string, keep url.Values, limit int, nextAfter string) {
	base := baseURL(r) + path
	self := url.Values{}
	maps.Copy(self, keep)
	self.Set("limit", strconv.Itoa(limit))
	if a := r.URL.Query().Get("after"); a != "" {
		self.Set("after", a)
	}
	w.Header().Add("Link", "<"+base+"?"+self.Encode()+">; rel=\"self\"")
	if nextAfter != "" {
		next := url.Values{}
		maps.Copy(next, keep)
		next.Set("limit", strconv.Itoa(limit))
		next.Set("after", nextAfter)
		w.Header().Add("Link", "<"+base+"?"+next.Encode()+">; rel=\"next\"")
	}
}

// seqAfter is the position after cursor (a user or group id); ids of
// deleted objects still place the cursor.
func (st *store) seqOfCursor(after string) uint64 {
	if after == "" {
		return 0
	}
	if u := st.users[after]; u != nil {
		return u.seq
	}
	if g := st.groups[after]; g != nil {
		return g.seq
	}
	if a := st.apps[after]; a != nil {
		return a.seq
	}
	if gr := st.rules[after]; gr != nil {
		return gr.seq
	}
	if n, ok := st.cursors[after]; ok {
		return n
	}
	return 0
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, _ params) {
	q := r.URL.Query()
	search, filter, qq := q.Get("search"), q.Get("filter"), q.Get("q")
	def := 200
	if qq != "" && search == "" && filter == "" {
		def = 10
	}
	pp, ok := parsePage(r, def, 200)
	if !ok {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: Invalid limit")
		return
	}
	var match func(*user) bool
	switch {
	case search != "":
		e, err := parseExpr(search, false)
		if err != nil {
			writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", err.Error())
			return
		}
		match = func(u *user) bool { return e.eval(u) }
	case filter != "":
		e, err := parseExpr(filter, true)
		if err != nil {
			writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", err.Error())
			return
		}
		match = func(u *user) bool { return e.eval(u) }
	case qq != "":
		prefix := strings.ToLower(qq)
		match = func(u *user) bool {
			if u.Status == StatusDeprovisioned {
				return false
			}
			for _, k := range []string{"firstName", "lastName", "email"} {
				if s, _ := u.Profile[k].(string); strings.HasPrefix(strings.ToLower(s), prefix) {
					return true
				}
			}
			return false
		}
	default:
		match = func(u *user) bool { return u.Status != StatusDeprovisioned }
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	base := baseURL(r)
	out := []userJSON{}
	from := st.seqOfCursor(pp.after)
	i, _ := slices.BinarySearchFunc(st.order, from+1, func(x *user, s uint64) int { return cmpU(x.seq, s) })
	next := ""
	for ; i < len(st.order); i++ {
		u := st.order[i]
		if !match(u) {
			continue
		}
		if len(out) == pp.limit {
			next = out[len(out)-1].ID
			break
		}
		out = append(out, s.renderUser(base, u))
	}
	keep := url.Values{}
	for _, k := range []string{"search", "filter", "q"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	if qq != "" && search == "" && filter == "" {
		next = "" // q is not paginated
	}
	setLinks(w, r, "/api/v1/users", keep, pp.limit, next)
	writeJSON(w, http.StatusOK, out)
}
