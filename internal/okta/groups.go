package okta

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
)

// CreateGroup creates an OKTA_GROUP (POST /api/v1/groups, addGroup). Okta
// does not promise unique names: look for the group with FindGroupByName
// first.
func (c *Client) CreateGroup(ctx context.Context, profile GroupProfile) (*Group, Response, error) {
	if profile.Name == "" {
		return nil, Response{}, errors.New("okta: addGroup: empty group name")
	}
	var g Group
	res, _, err := c.do(ctx, call{op: "addGroup", method: http.MethodPost, tmpl: "/api/v1/groups",
		path: "/api/v1/groups", body: CreateGroupRequest{Profile: profile}}, &g)
	if err != nil {
		return nil, res, err
	}
	return &g, res, nil
}

// GetGroup reads a group (GET /api/v1/groups/{groupId}, getGroup).
func (c *Client) GetGroup(ctx context.Context, groupID string) (*Group, Response, error) {
	if err := needID("getGroup", "group", groupID); err != nil {
		return nil, Response{}, err
	}
	var g Group
	res, _, err := c.do(ctx, call{op: "getGroup", method: http.MethodGet, tmpl: "/api/v1/groups/{groupId}",
		path: "/api/v1/groups/" + url.PathEscape(groupID)}, &g)
	if err != nil {
		return nil, res, err
	}
	return &g, res, nil
}

// GroupQuery selects groups for ListGroups (listGroups). Set at most one of
// Search, Filter and Q.
type GroupQuery struct {
	// Search is a search expression, e.g. `profile.name eq "Sales"`
	// (eventually consistent).
	Search string
	// Filter is a filter expression on id, type, lastUpdated or
	// lastMembershipUpdated, e.g. `type eq "OKTA_GROUP"`.
	Filter string
	// Q is a name prefix; not paginated (at most 300 results).
	Q string
	// Limit is the page size (Okta recommends at most 200).
	Limit int
}

// ListGroups reads the first page of groups (GET /api/v1/groups, listGroups).
func (c *Client) ListGroups(ctx context.Context, q GroupQuery) (*Page[Group], error) {
	v := url.Values{}
	n := 0
	for _, p := range []struct{ k, v string }{{"search", q.Search}, {"filter", q.Filter}, {"q", q.Q}} {
		if p.v != "" {
			v.Set(p.k, p.v)
			n++
		}
	}
	if n > 1 {
		return nil, errors.New("okta: listGroups: set at most one of search, filter and q")
	}
	if q.Limit < 0 {
		return nil, errors.New("okta: listGroups: negative limit")
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return fetchPage[Group](ctx, c, call{op: "listGroups", method: http.MethodGet, tmpl: "/api/v1/groups", path: "/api/v1/groups", query: v})
}

// FindGroupByName returns the OKTA_GROUP named name (exactly), or nil and no
// error when there is none. It searches, so a group created seconds ago may
// not be found yet (the search index is eventually consistent): remember the
// ids of the groups you create.
func (c *Client) FindGroupByName(ctx context.Context, name string) (*Group, Response, error) {
	if name == "" {
		return nil, Response{}, errors.New("okta: findGroupByName: empty name")
	}
	p, err := c.ListGroups(ctx, GroupQuery{Search: `type eq "OKTA_GROUP" and profile.name eq ` + quote(name), Limit: 200})
	for err == nil {
		for i := range p.Items {
			if p.Items[i].Profile.Name == name {
				return &p.Items[i], p.Response, nil
			}
		}
		if !p.HasNext() {
			return nil, p.Response, nil
		}
		p, err = p.Next(ctx)
	}
	var res Response
	if e, ok := AsError(err); ok {
		res = e.Response
	}
	return nil, res, err
}

// DeleteGroup deletes a group (DELETE /api/v1/groups/{groupId}, deleteGroup).
func (c *Client) DeleteGroup(ctx context.Context, groupID string) (Response, error) {
	if err := needID("deleteGroup", "group", groupID); err != nil {
		return Response{}, err
	}
	res, _, err := c.do(ctx, call{op: "deleteGroup", method: http.MethodDelete, tmpl: "/api/v1/groups/{groupId}",
		path: "/api/v1/groups/" + url.PathEscape(groupID)}, nil)
	return res, err
}

// AddGroupMember adds a user to an OKTA_GROUP
// (PUT /api/v1/groups/{groupId}/users/{userId}, assignUserToGroup); adding a
// member twice is not an error.
func (c *Client) AddGroupMember(ctx context.Context, groupID, userID string) (Response, error) {
	return c.member(ctx, http.MethodPut, "assignUserToGroup", groupID, userID)
}

// RemoveGroupMember removes a user from an OKTA_GROUP
// (DELETE /api/v1/groups/{groupId}/users/{userId}, unassignUserFromGroup).
func (c *Client) RemoveGroupMember(ctx context.Context, groupID, userID string) (Response, error) {
	return c.member(ctx, http.MethodDelete, "unassignUserFromGroup", groupID, userID)
}

func (c *Client) member(ctx context.Context, method, op, groupID, userID string) (Response, error) {
	if err := needID(op, "group", groupID); err != nil {
		return Response{}, err
	}
	if err := needID(op, "user", userID); err != nil {
		return Response{}, err
	}
	res, _, err := c.do(ctx, call{op: op, method: method, tmpl: "/api/v1/groups/{groupId}/users/{userId}",
		path: "/api/v1/groups/" + url.PathEscape(groupID) + "/users/" + url.PathEscape(userID)}, nil)
	return res, err
}

// ListGroupMembers reads the first page of a group's members
// (GET /api/v1/groups/{groupId}/users, listGroupUsers). limit 0 sends 200,
// the page size Okta recommends (its default is 1000).
func (c *Client) ListGroupMembers(ctx context.Context, groupID string, limit int) (*Page[User], error) {
	if err := needID("listGroupUsers", "group", groupID); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, errors.New("okta: listGroupUsers: negative limit")
	}
	if limit == 0 {
		limit = 200
	}
	return fetchPage[User](ctx, c, call{op: "listGroupUsers", method: http.MethodGet, tmpl: "/api/v1/groups/{groupId}/users",
		path: "/api/v1/groups/" + url.PathEscape(groupID) + "/users", query: url.Values{"limit": {strconv.Itoa(limit)}}})
}
