package oktasim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// groupJSON is a group as Okta renders it (Group).
type groupJSON struct {
	ID                    string            `json:"id"`
	Created               string            `json:"created"`
	LastUpdated           string            `json:"lastUpdated"`
	LastMembershipUpdated string            `json:"lastMembershipUpdated"`
	ObjectClass           []string          `json:"objectClass"`
	Type                  string            `json:"type"`
	Profile               map[string]string `json:"profile"`
	Links                 map[string]any    `json:"_links"`
}

func renderGroup(base string, g *group) groupJSON {
	self := "/api/v1/groups/" + g.ID
	return groupJSON{ID: g.ID, Created: formatTime(g.Created), LastUpdated: formatTime(g.LastUpdated),
		LastMembershipUpdated: formatTime(g.LastMembershipUpdated), ObjectClass: []string{"okta:user_group"}, Type: "OKTA_GROUP",
		Profile: map[string]string{"name": g.Name, "description": g.Description},
		Links:   map[string]any{"self": href(base, self), "users": href(base, self+"/users"), "apps": href(base, self+"/apps")}}
}

type groupRequest struct {
	Profile *struct {
		Name        *string `json:"name"`
		Description string  `json:"description"`
	} `json:"profile"`
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, _ params) {
	var req groupRequest
	if !decodeBody(w, r, &req) {
		return
	}
	var v validationError
	if req.Profile == nil || req.Profile.Name == nil || strings.TrimSpace(*req.Profile.Name) == "" {
		v.add("name", "name: The field cannot be left blank")
		v.write(w)
		return
	}
	name := *req.Profile.Name
	if len([]rune(name)) > 255 {
		v.add("name", "name: The field cannot exceed 255 characters")
		v.write(w)
		return
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, g := range st.gorder {
		if strings.EqualFold(g.Name, name) {
			v.add("name", "name: An object with this field already exists in the current organization")
			v.write(w)
			return
		}
	}
	now := s.now()
	g := &group{ID: newID("00g", 20), Created: now, LastUpdated: now, LastMembershipUpdated: now, Name: name,
		Description: req.Profile.Description, Members: map[string]bool{}, seq: st.next()}
	st.groups[g.ID] = g
	st.gorder = append(st.gorder, g)
	writeJSON(w, http.StatusOK, renderGroup(baseURL(r), g))
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[p["groupId"]]
	if g == nil {
		notFound(w, p["groupId"])
		return
	}
	writeJSON(w, http.StatusOK, renderGroup(baseURL(r), g))
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, p params) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[p["groupId"]]
	if g == nil {
		notFound(w, p["groupId"])
		return
	}
	st.removeGroup(g)
	// As in Okta, the group's app assignments go with it, and the rules
	// that assigned users to it no longer name it.
	st.forgetGroup(g.ID, s.now())
	w.WriteHeader(http.StatusNoContent)
}

// groupMatcher understands the group searches a migration uses:
// profile.name / profile.description / id / type with eq, sw, co.
func groupMatcher(expression string, filter bool) (func(*group) bool, error) {
	toks, err := tokenize(expression)
	if err != nil {
		return nil, err
	}
	// Reuse the user parser by evaluating against a stand-in user.
	e, err := (&parser{toks: toks}).or()
	if err != nil {
		return nil, err
	}
	return func(g *group) bool {
		u := &user{ID: g.ID, Status: "OKTA_GROUP", Created: g.Created, LastUpdated: g.LastUpdated,
			Profile: map[string]any{"name": g.Name, "description": g.Description}}
		return evalGroup(e, u, filter)
	}, nil
}

// evalGroup maps group attributes (type) onto the stand-in user's fields.
func evalGroup(e expr, u *user, filter bool) bool {
	switch x := e.(type) {
	case andExpr:
		return evalGroup(x.l, u, filter) && evalGroup(x.r, u, filter)
	case orExpr:
		return evalGroup(x.l, u, filter) || evalGroup(x.r, u, filter)
	case cmpExpr:
		if x.attr == "type" {
			x.attr = "status"
		}
		x.fold = !filter
		return x.eval(u)
	}
	return false
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, _ params) {
	q := r.URL.Query()
	search, filter, qq := q.Get("search"), q.Get("filter"), q.Get("q")
	def := 10000
	if qq != "" {
		def = 300
	}
	pp, ok := parsePage(r, def, 10000)
	if !ok {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: Invalid limit")
		return
	}
	match := func(*group) bool { return true }
	for _, e := range []struct {
		expr   string
		filter bool
	}{{search, false}, {filter, true}} {
		if e.expr == "" {
			continue
		}
		m, err := groupMatcher(e.expr, e.filter)
		if err != nil {
			writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.", err.Error())
			return
		}
		prev := match
		match = func(g *group) bool { return prev(g) && m(g) }
	}
	if qq != "" {
		prefix := strings.ToLower(qq)
		prev := match
		match = func(g *group) bool { return prev(g) && strings.HasPrefix(strings.ToLower(g.Name), prefix) }
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	from := st.seqOfCursor(pp.after)
	i, _ := slices.BinarySearchFunc(st.gorder, from+1, func(x *group, s uint64) int { return cmpU(x.seq, s) })
	out := []groupJSON{}
	next := ""
	base := baseURL(r)
	for ; i < len(st.gorder); i++ {
		g := st.gorder[i]
		if !match(g) {
			continue
		}
		if len(out) == pp.limit {
			next = out[len(out)-1].ID
			break
		}
		out = append(out, renderGroup(base, g))
	}
	keep := url.Values{}
	for _, k := range []string{"search", "filter", "q"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	if qq != "" {
		next = ""
	}
	setLinks(w, r, "/api/v1/groups", keep, pp.limit, next)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listGroupUsers(w http.ResponseWriter, r *http.Request, p params) {
	pp, ok := parsePage(r, 1000, 10000)
	if !ok {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: Invalid limit")
		return
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[p["groupId"]]
	if g == nil {
		notFound(w, p["groupId"])
		return
	}
	from := st.seqOfCursor(pp.after)
	i, _ := slices.BinarySearchFunc(st.order, from+1, func(x *user, s uint64) int { return cmpU(x.seq, s) })
	out := []userJSON{}
	next := ""
	base := baseURL(r)
	for ; i < len(st.order); i++ {
		u := st.order[i]
		if !g.Members[u.ID] {
			continue
		}
		if len(out) == pp.limit {
			next = out[len(out)-1].ID
			break
		}
		out = append(out, s.renderUser(base, u))
	}
	setLinks(w, r, "/api/v1/groups/"+g.ID+"/users", nil, pp.limit, next)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) membership(w http.ResponseWriter, p params, add bool) {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[p["groupId"]]
	if g == nil {
		notFound(w, p["groupId"])
		return
	}
	u := st.users[p["userId"]]
	if u == nil {
		notFound(w, p["userId"])
		return
	}
	if add {
		g.Members[u.ID] = true
	} else {
		delete(g.Members, u.ID)
	}
	g.LastMembershipUpdated = s.now()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) addGroupUser(w http.ResponseWriter, r *http.Request, p params) {
	s.membership(w, p, true)
}

func (s *Server) removeGroupUser(w http.ResponseWriter, r *http.Request, p params) {
	s.membership(w, p, false)
}
