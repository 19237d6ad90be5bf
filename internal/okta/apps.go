package okta

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Application is an app instance (Application), as much of it as Ferry
// reads: which apps a group gives its members.
type Application struct {
	ID          string                     `json:"id"`
	Name        string                     `json:"name,omitempty"`
	Label       string                     `json:"label"`
	Status      string                     `json:"status,omitempty"`
	SignOnMode  string                     `json:"signOnMode"`
	Created     time.Time                  `json:"created,omitzero"`
	LastUpdated time.Time                  `json:"lastUpdated,omitzero"`
	Links       map[string]json.RawMessage `json:"_links,omitempty"`
}

// App statuses (ApplicationLifecycleStatus).
const (
	AppStatusActive   = "ACTIVE"
	AppStatusInactive = "INACTIVE"
)

// GroupRule is a group rule (GroupRule): users matching
// Conditions.Expression.Value are added to Actions.AssignUserToGroups.GroupIDs.
type GroupRule struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Status      string              `json:"status,omitempty"`
	Type        string              `json:"type,omitempty"`
	Created     time.Time           `json:"created,omitzero"`
	LastUpdated time.Time           `json:"lastUpdated,omitzero"`
	Conditions  GroupRuleConditions `json:"conditions"`
	Actions     GroupRuleAction     `json:"actions"`
}

// GroupRuleConditions are a rule's conditions (GroupRuleConditions).
type GroupRuleConditions struct {
	Expression GroupRuleExpression `json:"expression"`
}

// GroupRuleExpression is a rule's Okta expression (GroupRuleExpression),
// e.g. Value `user.department=="Sales"`, Type "urn:okta:expression:1.0".
type GroupRuleExpression struct {
	Value string `json:"value"`
	Type  string `json:"type,omitempty"`
}

// GroupRuleAction is what a rule does (GroupRuleAction).
type GroupRuleAction struct {
	AssignUserToGroups GroupRuleGroupAssignment `json:"assignUserToGroups"`
}

// GroupRuleGroupAssignment names the groups a rule adds users to
// (GroupRuleGroupAssignment).
type GroupRuleGroupAssignment struct {
	GroupIDs []string `json:"groupIds"`
}

// Group rule statuses (GroupRuleStatus).
const (
	GroupRuleActive   = "ACTIVE"
	GroupRuleInactive = "INACTIVE"
	GroupRuleInvalid  = "INVALID"
)

// ListGroupApps reads the first page of the apps assigned to a group
// (GET /api/v1/groups/{groupId}/apps, listAssignedApplicationsForGroup).
// limit 0 sends 200 (Okta's default is 20). An unknown group is a 404
// (IsNotFound).
func (c *Client) ListGroupApps(ctx context.Context, groupID string, limit int) (*Page[Application], error) {
	const op = "listAssignedApplicationsForGroup"
	if err := needID(op, "group", groupID); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, errors.New("okta: " + op + ": negative limit")
	}
	if limit == 0 {
		limit = 200
	}
	return fetchPage[Application](ctx, c, call{op: op, method: http.MethodGet, tmpl: "/api/v1/groups/{groupId}/apps",
		path: "/api/v1/groups/" + url.PathEscape(groupID) + "/apps", query: url.Values{"limit": {strconv.Itoa(limit)}}})
}

// ListGroupRules reads the first page of the org's group rules
// (GET /api/v1/groups/rules, listGroupRules). limit 0 sends 200, the most
// Okta allows (its default is 50).
func (c *Client) ListGroupRules(ctx context.Context, limit int) (*Page[GroupRule], error) {
	const op = "listGroupRules"
	if limit < 0 || limit > 200 {
		return nil, errors.New("okta: " + op + ": limit must be between 1 and 200 (0 for 200)")
	}
	if limit == 0 {
		limit = 200
	}
	return fetchPage[GroupRule](ctx, c, call{op: op, method: http.MethodGet, tmpl: "/api/v1/groups/rules",
		path: "/api/v1/groups/rules", query: url.Values{"limit": {strconv.Itoa(limit)}}})
}
