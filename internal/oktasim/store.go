package oktasim

import (
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/ferry-migrate/ferry/internal/okta"
)

// User statuses and provider types (UserStatus, AuthenticationProviderType).
const (
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
	StatusActive          = "ACTIVE"
	StatusDeprovisioned   = "DEPROVISIONED"
	StatusSuspended       = "SUSPENDED"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusRecovery        = "RECOVERY"

	ProviderOkta      = "OKTA"
	ProviderImport    = "IMPORT"
	ProviderFederated = "FEDERATION"
	ProviderSocial    = "SOCIAL"
)

// user is one user of the org. Profile holds only non-null values.
type user struct {
	ID              string
	Status          string
	Created         time.Time
	LastUpdated     time.Time
	Activated       *time.Time
	StatusChanged   *time.Time
	LastLogin       *time.Time
	PasswordChanged *time.Time
	Profile         map[string]any
	ProviderType    string
	ProviderName    string
	// ImportedHash is the hash imported at creation (provider IMPORT).
	ImportedHash *okta.PasswordHash
	// Hook: the password is verified by the password import inline hook.
	Hook bool
	// PasswordHash is Okta's own (bcrypt) copy of the password: set as a
	// plain value, or saved after the hook said VERIFIED.
	PasswordHash []byte
	RecoveryQ    string
	// ActivationEmails counts the activation emails Okta would have sent
	// this user (createUser with activate=true and no password, activateUser
	// with sendEmail=true).
	ActivationEmails int
	// ResetEmails counts the password reset emails Okta would have sent
	// (resetPassword with sendEmail=true).
	ResetEmails int
	seq         uint64
}

func (u *user) hasPassword() bool {
	return u.ImportedHash != nil || u.Hook || u.PasswordHash != nil
}

func (u *user) login() string {
	s, _ := u.Profile["login"].(string)
	return s
}

type group struct {
	ID                    string
	Created, LastUpdated  time.Time
	LastMembershipUpdated time.Time
	Name, Description     string
	Members               map[string]bool
	seq                   uint64
}

// inlineHook is a registered inline hook. AuthValue is the HEADER secret
// the sandbox sends and never shows.
type inlineHook struct {
	ID, Name, Type, Version, Status string
	URI, Method                     string
	AuthType, AuthKey, AuthValue    string
	// OAuth is set for an OAUTH channel (oauth.go).
	OAuth                *hookOAuth
	Headers              []hookHeader
	Created, LastUpdated time.Time
	seq                  uint64
}

type hookHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// store is the org's state, behind one mutex.
type store struct {
	mu      sync.Mutex
	seq     uint64
	users   map[string]*user
	byLogin map[string]*user // folded login → user
	order   []*user          // by seq
	groups  map[string]*group
	gorder  []*group
	hooks   map[string]*inlineHook
	apps    map[string]*app
	aorder  []*app // by seq
	rules   map[string]*groupRule
	rorder  []*groupRule // by seq
	schema  *userSchema
	typeID  string
	// cursors keeps the position of deleted users and groups, so that an
	// after cursor naming one still pages on.
	cursors map[string]uint64
}

func newStore(now time.Time) *store {
	return &store{users: map[string]*user{}, byLogin: map[string]*user{}, groups: map[string]*group{},
		hooks: map[string]*inlineHook{}, apps: map[string]*app{}, rules: map[string]*groupRule{}, cursors: map[string]uint64{}, schema: newUserSchema(now), typeID: newID("oty", 20)}
}

func (st *store) next() uint64 {
	st.seq++
	return st.seq
}

// foldLogin is the key of Okta's login uniqueness: case and diacritical
// marks do not count (Isaac.Brock@… equals isáàc.bröck@…).
func foldLogin(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}

// findUser looks a user up by id, login, or login short name (the part
// before the @, when it is unique), as GET /api/v1/users/{idOrLogin} does.
func (st *store) findUser(idOrLogin string) *user {
	if u := st.users[idOrLogin]; u != nil {
		return u
	}
	if u := st.byLogin[foldLogin(idOrLogin)]; u != nil {
		return u
	}
	if strings.Contains(idOrLogin, "@") {
		return nil
	}
	var found *user
	short := foldLogin(idOrLogin)
	for _, u := range st.order {
		l := foldLogin(u.login())
		if at := strings.IndexByte(l, '@'); at > 0 && l[:at] == short {
			if found != nil {
				return nil // ambiguous
			}
			found = u
		}
	}
	return found
}

func (st *store) addUser(u *user) {
	u.seq = st.next()
	st.users[u.ID] = u
	st.byLogin[foldLogin(u.login())] = u
	st.order = append(st.order, u)
}

func (st *store) removeUser(u *user) {
	delete(st.users, u.ID)
	st.cursors[u.ID] = u.seq
	delete(st.byLogin, foldLogin(u.login()))
	if i, ok := slices.BinarySearchFunc(st.order, u.seq, func(x *user, s uint64) int { return cmpU(x.seq, s) }); ok {
		st.order = slices.Delete(st.order, i, i+1)
	}
	for _, g := range st.groups {
		delete(g.Members, u.ID)
	}
}

func (st *store) removeGroup(g *group) {
	delete(st.groups, g.ID)
	st.cursors[g.ID] = g.seq
	if i, ok := slices.BinarySearchFunc(st.gorder, g.seq, func(x *group, s uint64) int { return cmpU(x.seq, s) }); ok {
		st.gorder = slices.Delete(st.gorder, i, i+1)
	}
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// userCount is the number of users in the org, whatever their status.
func (st *store) userCount() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.users)
}

// passwordImportHook is the org's active password import hook, if any.
func (st *store) passwordImportHook() *inlineHook {
	for _, h := range st.hooks {
		if h.Type == hookTypePasswordImport && h.Status == "ACTIVE" {
			return h
		}
	}
	return nil
}
