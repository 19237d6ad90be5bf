package oktasim

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
)

// The side effects of a group that a load's pre-flight lists: the apps
// assigned to it (GET /api/v1/groups/{groupId}/apps,
// listAssignedApplicationsForGroup) and the group rules that assign users to
// it (GET /api/v1/groups/rules, listGroupRules). The sandbox has no API to
// create them; tests and demos seed them with AddApp, AssignAppToGroup and
// AddGroupRule.

// app is an app instance (Application) and the groups assigned to it.
type app struct {
	ID, Name, Label, Status, SignOnMode string
	Created, LastUpdated                time.Time
	Groups                              map[string]bool
	seq                                 uint64
}

// groupRule is a group rule (GroupRule) with an Okta expression.
type groupRule struct {
	ID, Name, Status, Expression string
	GroupIDs                     []string
	Created, LastUpdated         time.Time
	seq                          uint64
}

// appKeyNames are the key names (Application.name) the spec fixes per
// signOnMode; the other modes (custom SWA and SAML apps) get a key
// generated from the label, as Okta does for custom app instances.
var appKeyNames = map[string]string{
	"BOOKMARK":              "bookmark",
	"BASIC_AUTH":            "template_basic_auth",
	"BROWSER_PLUGIN":        "template_swa",
	"OPENID_CONNECT":        "oidc_client",
	"SECURE_PASSWORD_STORE": "template_sps",
	"WS_FEDERATION":         "template_wsfed",
	"AUTO_LOGIN":            "",
	"SAML_1_1":              "",
	"SAML_2_0":              "",
}

// appKey derives a custom app's key name from its label, like Okta's
// "{org}_{label}_{n}": lower-case letters and digits, other runs as "_".
func appKey(label string, n int) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(label) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	key := strings.TrimSuffix(b.String(), "_")
	if key == "" {
		key = "app"
	}
	return fmt.Sprintf("oktasim_%s_%d", key, n)
}

// AddApp adds an ACTIVE app instance to the org and returns its id (0oa…).
// signOnMode is one of the spec's ApplicationSignOnMode values ("" means
// BOOKMARK); the app's key name (Application.name) is the spec's fixed one
// for template modes (bookmark, template_basic_auth, oidc_client, …) and is
// derived from the label for custom AUTO_LOGIN and SAML apps. An unknown
// signOnMode is a programming error and panics.
func (s *Server) AddApp(label, signOnMode string) string {
	if signOnMode == "" {
		signOnMode = "BOOKMARK"
	}
	name, ok := appKeyNames[signOnMode]
	if !ok {
		panic("oktasim: AddApp: unknown signOnMode " + signOnMode)
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if name == "" {
		name = appKey(label, len(st.aorder)+1)
	}
	now := s.now()
	a := &app{ID: newID("0oa", 20), Name: name, Label: label, Status: "ACTIVE", SignOnMode: signOnMode,
		Created: now, LastUpdated: now, Groups: map[string]bool{}, seq: st.next()}
	st.apps[a.ID] = a
	st.aorder = append(st.aorder, a)
	return a.ID
}

// AssignAppToGroup assigns an app to a group (as PUT
// /api/v1/apps/{appId}/groups/{groupId} does in Okta). Assigning twice is
// not an error.
func (s *Server) AssignAppToGroup(appID, groupID string) error {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	a := st.apps[appID]
	if a == nil {
		return fmt.Errorf("oktasim: no app %q", appID)
	}
	if st.groups[groupID] == nil {
		return fmt.Errorf("oktasim: no group %q", groupID)
	}
	a.Groups[groupID] = true
	a.LastUpdated = s.now()
	return nil
}

// AddGroupRule adds a group rule that assigns users matching expression (an
// Okta expression, e.g. `user.department=="Sales"`, not evaluated by the
// sandbox) to groupIDs, ACTIVE or INACTIVE, and returns its id (0pr…). The
// name must be 1 to 50 characters and every group must exist.
func (s *Server) AddGroupRule(name, expression string, groupIDs []string, active bool) (string, error) {
	if n := len([]rune(name)); n < 1 || n > 50 {
		return "", fmt.Errorf("oktasim: a group rule name has 1 to 50 characters, not %d", n)
	}
	if len(groupIDs) == 0 {
		return "", fmt.Errorf("oktasim: a group rule needs at least one group")
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, gid := range groupIDs {
		if st.groups[gid] == nil {
			return "", fmt.Errorf("oktasim: no group %q", gid)
		}
	}
	status := "INACTIVE"
	if active {
		status = "ACTIVE"
	}
	now := s.now()
	gr := &groupRule{ID: newID("0pr", 20), Name: name, Status: status, Expression: expression,
		GroupIDs: slices.Clone(groupIDs), Created: now, LastUpdated: now, seq: st.next()}
	st.rules[gr.ID] = gr
	st.rorder = append(st.rorder, gr)
	return gr.ID, nil
}

// forgetGroup removes a deleted group's app assignments and its id from the
// rules that assign users to it. Called with st.mu held.
func (st *store) forgetGroup(groupID string, now time.Time) {
	for _, a := range st.apps {
		if a.Groups[groupID] {
			delete(a.Groups, groupID)
			a.LastUpdated = now
		}
	}
	for _, gr := range st.rules {
		if i := slices.Index(gr.GroupIDs, groupID); i >= 0 {
			gr.GroupIDs = slices.Delete(gr.GroupIDs, i, i+1)
			gr.LastUpdated = now
		}
	}
}

// appJSON is an app as Okta renders it (Application; settings and
// credentials, which depend on the app's template, are left out).
type appJSON struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Label         string         `json:"label"`
	Status        string         `json:"status"`
	Created       string         `json:"created"`
	LastUpdated   string         `json:"lastUpdated"`
	SignOnMode    string         `json:"signOnMode"`
	Features      []string       `json:"features"`
	Accessibility map[string]any `json:"accessibility"`
	Visibility    map[string]any `json:"visibility"`
	Links         map[string]any `json:"_links"`
}

func renderApp(base string, a *app) appJSON {
	self := "/api/v1/apps/" + a.ID
	return appJSON{ID: a.ID, Name: a.Name, Label: a.Label, Status: a.Status, Created: formatTime(a.Created),
		LastUpdated: formatTime(a.LastUpdated), SignOnMode: a.SignOnMode, Features: []string{},
		Accessibility: map[string]any{"selfService": false},
		Visibility:    map[string]any{"autoSubmitToolbar": false, "hide": map[string]bool{"iOS": false, "web": false}, "appLinks": map[string]bool{}},
		Links: map[string]any{"self": href(base, self), "users": href(base, self+"/users"), "groups": href(base, self+"/groups"),
			"deactivate": href(base, self+"/lifecycle/deactivate")}}
}

// groupRuleJSON is a group rule as Okta renders it (GroupRule).
type groupRuleJSON struct {
	Type        string         `json:"type"`
	ID          string         `json:"id"`
	Status      string         `json:"status"`
	Name        string         `json:"name"`
	Created     string         `json:"created"`
	LastUpdated string         `json:"lastUpdated"`
	Conditions  map[string]any `json:"conditions"`
	Actions     map[string]any `json:"actions"`
	Embedded    map[string]any `json:"_embedded,omitempty"`
}

func (st *store) renderRule(gr *groupRule, expandNames bool) groupRuleJSON {
	out := groupRuleJSON{Type: "group_rule", ID: gr.ID, Status: gr.Status, Name: gr.Name,
		Created: formatTime(gr.Created), LastUpdated: formatTime(gr.LastUpdated),
		Conditions: map[string]any{
			"people":     map[string]any{"users": map[string]any{"exclude": []string{}}, "groups": map[string]any{"exclude": []string{}}},
			"expression": map[string]string{"value": gr.Expression, "type": "urn:okta:expression:1.0"},
		},
		Actions: map[string]any{"assignUserToGroups": map[string]any{"groupIds": append([]string{}, gr.GroupIDs...)}}}
	if expandNames {
		names := map[string]string{}
		for _, gid := range gr.GroupIDs {
			if g := st.groups[gid]; g != nil {
				names[gid] = g.Name
			}
		}
		out.Embedded = map[string]any{"groupIdToGroupNameMap": names}
	}
	return out
}

// listGroupApps is GET /api/v1/groups/{groupId}/apps: the apps assigned to
// a group, by creation, limit default 20, after an app id.
func (s *Server) listGroupApps(w http.ResponseWriter, r *http.Request, p params) {
	pp, ok := parsePage(r, 20, 200)
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
	i, _ := slices.BinarySearchFunc(st.aorder, from+1, func(x *app, s uint64) int { return cmpU(x.seq, s) })
	out := []appJSON{}
	next := ""
	base := baseURL(r)
	for ; i < len(st.aorder); i++ {
		a := st.aorder[i]
		if !a.Groups[g.ID] {
			continue
		}
		if len(out) == pp.limit {
			next = out[len(out)-1].ID
			break
		}
		out = append(out, renderApp(base, a))
	}
	setLinks(w, r, "/api/v1/groups/"+g.ID+"/apps", nil, pp.limit, next)
	writeJSON(w, http.StatusOK, out)
}

// listGroupRules is GET /api/v1/groups/rules: limit (default 50, at most
// 200), after a rule id, search (a keyword: rules whose name contains it,
// ignoring case) and expand=groupIdToGroupNameMap.
func (s *Server) listGroupRules(w http.ResponseWriter, r *http.Request, _ params) {
	q := r.URL.Query()
	pp, ok := parsePage(r, 50, 200)
	if !ok {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: Invalid limit")
		return
	}
	expand := q.Get("expand")
	if expand != "" && expand != "groupIdToGroupNameMap" {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: expand", "expand: Invalid value")
		return
	}
	keyword := strings.ToLower(q.Get("search"))
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	from := st.seqOfCursor(pp.after)
	i, _ := slices.BinarySearchFunc(st.rorder, from+1, func(x *groupRule, s uint64) int { return cmpU(x.seq, s) })
	out := []groupRuleJSON{}
	next := ""
	for ; i < len(st.rorder); i++ {
		gr := st.rorder[i]
		if keyword != "" && !strings.Contains(strings.ToLower(gr.Name), keyword) {
			continue
		}
		if len(out) == pp.limit {
			next = out[len(out)-1].ID
			break
		}
		out = append(out, st.renderRule(gr, expand != ""))
	}
	keep := url.Values{}
	for _, k := range []string{"search", "expand"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	setLinks(w, r, "/api/v1/groups/rules", keep, pp.limit, next)
	writeJSON(w, http.StatusOK, out)
}
