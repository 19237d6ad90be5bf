package oktasim

import (
	"net/http"
	"strings"
)

// replaceHook is PUT /api/v1/inlineHooks/{inlineHookId} (replaceInlineHook):
// the name, version and channel are replaced after the same validation as a
// creation; the type and status stay. It is how a rotated secret reaches a
// registered hook.
func (s *Server) replaceHook(w http.ResponseWriter, r *http.Request, p params) {
	var req hookRequest
	if !decodeBody(w, r, &req) {
		return
	}
	var v validationError
	if strings.TrimSpace(req.Name) == "" {
		v.add("name", "name: The field cannot be left blank")
	}
	if req.Version != "" && req.Version != "1.0.0" {
		v.add("version", "version: The version is not supported")
	}
	uri, oauth := s.validateChannel(&v, &req)
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	h := st.hooks[p["hookId"]]
	if h == nil {
		notFound(w, p["hookId"])
		return
	}
	if req.Type != "" && req.Type != h.Type {
		v.add("type", "type: The type of an inline hook cannot be changed")
	}
	if !v.empty() {
		v.write(w)
		return
	}
	h.Name = req.Name
	h.setChannel(&req, uri, oauth, s.now())
	writeJSON(w, http.StatusOK, renderHook(baseURL(r), h))
}

// InlineHookSecrets returns the shared secret of every inline hook with
// header authentication, by hook id: what the org would send. For tests
// that check a rotated secret reached the org.
func (s *Server) InlineHookSecrets() map[string]string {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	out := map[string]string{}
	for id, h := range st.hooks {
		if h.AuthType == "HEADER" {
			out[id] = h.AuthValue
		}
	}
	return out
}
