package oktasim

// The Hook Keys API (/api/v1/hook-keys): key pairs the org keeps for
// inline hooks. The private key never leaves the sandbox: it signs the
// client assertions of OAUTH hooks using private_key_jwt (oauth.go); the
// API shows the public key only.

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"
)

// maxHookKeys is Okta's limit of keys per org.
const maxHookKeys = 50

type hookKey struct {
	id, keyID, name      string
	created, lastUpdated time.Time
	private              *rsa.PrivateKey
	seq                  uint64
}

func (s *Server) hookKeyRoutes() []route {
	r := func(method, pattern string, h func(http.ResponseWriter, *http.Request, params)) route {
		return route{method: method, pattern: strings.Split(strings.Trim(pattern, "/"), "/"), bucket: BucketOther, handle: h}
	}
	return []route{
		r("GET", "/api/v1/hook-keys", s.listHookKeys),
		r("POST", "/api/v1/hook-keys", s.createHookKey),
		r("GET", "/api/v1/hook-keys/public/{keyId}", s.getHookPublicKey),
		r("GET", "/api/v1/hook-keys/{id}", s.getHookKey),
		r("PUT", "/api/v1/hook-keys/{id}", s.replaceHookKey),
		r("DELETE", "/api/v1/hook-keys/{id}", s.deleteHookKey),
	}
}

// publicJWK is a hook key's public part as the API shows it (_embedded):
// Okta's examples give alg "RSA" and use null.
func (k *hookKey) publicJWK() map[string]any {
	pub := k.private.PublicKey
	return map[string]any{"kty": "RSA", "alg": "RSA", "kid": k.keyID, "use": nil,
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes())}
}

// render is a HookKey; withPublic adds _embedded (DetailedHookKeyInstance).
func (k *hookKey) render(used, withPublic bool) map[string]any {
	out := map[string]any{"id": k.id, "keyId": k.keyID, "name": k.name, "created": formatTime(k.created),
		"lastUpdated": formatTime(k.lastUpdated), "isUsed": "false"}
	if used {
		out["isUsed"] = "true"
	}
	if withPublic {
		out["_embedded"] = k.publicJWK()
	}
	return out
}

// usedHookKeys are the ids of the hook keys OAUTH hooks name; st.mu held.
func (st *store) usedHookKeys() map[string]bool {
	used := map[string]bool{}
	for _, h := range st.hooks {
		if h.OAuth != nil && h.OAuth.HookKeyID != "" {
			used[h.OAuth.HookKeyID] = true
		}
	}
	return used
}

func hookKeyNotFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+id+" (HookKey)")
}

type hookKeyRequest struct {
	Name *string `json:"name"`
}

// validName checks a key's name; o.mu held.
func (o *oauthState) validName(v *validationError, name *string, except string) string {
	if name == nil || strings.TrimSpace(*name) == "" {
		v.add("name", "name: The field cannot be left blank")
		return ""
	}
	n := *name
	if len(n) > 255 {
		v.add("name", "name: The field is too long (255 characters at most)")
	}
	for _, k := range o.keys {
		if k.id != except && k.name == n {
			v.add("name", "name: A key with this name already exists")
			break
		}
	}
	return n
}

func (s *Server) createHookKey(w http.ResponseWriter, r *http.Request, _ params) {
	var req hookKeyRequest
	if !decodeBody(w, r, &req) {
		return
	}
	// Generated before the lock: RSA key generation takes a while.
	private, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error")
		return
	}
	o := &s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init()
	var v validationError
	name := o.validName(&v, req.Name, "")
	if len(o.keys) >= maxHookKeys {
		v.add("hookKey", "The maximum number of keys (50) has been reached")
	}
	if !v.empty() {
		v.write(w)
		return
	}
	now := s.now()
	o.keySeq++
	k := &hookKey{id: newID("HKY", 20), keyID: uuid(), name: name, created: now, lastUpdated: now, private: private, seq: o.keySeq}
	o.keys[k.id] = k
	writeJSON(w, http.StatusOK, k.render(false, true))
}

func (s *Server) listHookKeys(w http.ResponseWriter, _ *http.Request, _ params) {
	s.store.mu.Lock()
	used := s.store.usedHookKeys()
	s.store.mu.Unlock()
	o := &s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init()
	keys := make([]*hookKey, 0, len(o.keys))
	for _, k := range o.keys {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b *hookKey) int { return cmpU(a.seq, b.seq) })
	out := make([]map[string]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.render(used[k.id], false))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getHookKey(w http.ResponseWriter, r *http.Request, p params) {
	s.store.mu.Lock()
	used := s.store.usedHookKeys()
	s.store.mu.Unlock()
	o := &s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init()
	k := o.keys[p["id"]]
	if k == nil {
		hookKeyNotFound(w, p["id"])
		return
	}
	writeJSON(w, http.StatusOK, k.render(used[k.id], r.URL.Query().Get("expand") == "publickey"))
}

func (s *Server) getHookPublicKey(w http.ResponseWriter, _ *http.Request, p params) {
	o := &s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init()
	for _, k := range o.keys {
		if k.keyID == p["keyId"] {
			writeJSON(w, http.StatusOK, map[string]any{"_embedded": k.publicJWK()})
			return
		}
	}
	hookKeyNotFound(w, p["keyId"])
}

func (s *Server) replaceHookKey(w http.ResponseWriter, r *http.Request, p params) {
	var req hookKeyRequest
	if !decodeBody(w, r, &req) {
		return
	}
	s.store.mu.Lock()
	used := s.store.usedHookKeys()
	s.store.mu.Unlock()
	o := &s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init()
	k := o.keys[p["id"]]
	if k == nil {
		hookKeyNotFound(w, p["id"])
		return
	}
	var v validationError
	name := o.validName(&v, req.Name, k.id)
	if !v.empty() {
		v.write(w)
		return
	}
	k.name, k.lastUpdated = name, s.now()
	writeJSON(w, http.StatusOK, k.render(used[k.id], true))
}

// deleteHookKey deletes a key no inline hook uses.
func (s *Server) deleteHookKey(w http.ResponseWriter, _ *http.Request, p params) {
	// The store's lock first, then the keys': a hook cannot start using
	// the key while it is deleted.
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	o := &s.oauth
	o.mu.Lock()
	defer o.mu.Unlock()
	o.init()
	k := o.keys[p["id"]]
	if k == nil {
		hookKeyNotFound(w, p["id"])
		return
	}
	if s.store.usedHookKeys()[k.id] {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: hookKey", "hookKey: The key is used by an inline hook and cannot be deleted")
		return
	}
	delete(o.keys, k.id)
	w.WriteHeader(http.StatusNoContent)
}

// uuid is a random version 4 UUID, the form of Okta's key ids.
func uuid() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexDigits = "0123456789abcdef"
	var sb strings.Builder
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			sb.WriteByte('-')
		}
		sb.WriteByte(hexDigits[c>>4])
		sb.WriteByte(hexDigits[c&0x0f])
	}
	return sb.String()
}
