package okta_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/okta"
)

const userJSON = `{
  "id": "00ub0oNGTSWTBKOLGLNR",
  "status": "ACTIVE",
  "created": "2013-07-02T21:36:25.344Z",
  "activated": null,
  "statusChanged": null,
  "lastLogin": null,
  "lastUpdated": "2013-07-02T21:36:25.344Z",
  "passwordChanged": "2013-07-02T21:36:25.344Z",
  "type": {"id": "otymq4ydbRxVdYnAO0g4"},
  "profile": {"firstName": "Isaac", "lastName": "Brock", "email": "isaac.brock@example.com",
              "login": "isaac.brock@example.com", "mobilePhone": "555-415-1337", "costCenter": null},
  "credentials": {"password": {}, "provider": {"type": "IMPORT", "name": "IMPORT"}},
  "_links": {"self": {"href": "https://example.okta.com/api/v1/users/00ub0oNGTSWTBKOLGLNR"}}
}`

const groupJSON = `{
  "id": "00g1emaKYZTWRYYRRTSK",
  "created": "2015-02-06T10:11:28.000Z",
  "lastUpdated": "2015-10-05T19:16:43.000Z",
  "lastMembershipUpdated": "2015-11-28T19:15:32.000Z",
  "objectClass": ["okta:user_group"],
  "type": "OKTA_GROUP",
  "profile": {"name": "West Coast users", "description": "All users West of The Rockies"},
  "_links": {"users": {"href": "https://example.okta.com/api/v1/groups/00g1emaKYZTWRYYRRTSK/users"}}
}`

const schemaJSON = `{
  "id": "https://example.okta.com/meta/schemas/user/default",
  "$schema": "http://json-schema.org/draft-04/schema#",
  "name": "user", "title": "Default Okta User", "type": "object",
  "created": "2025-05-20T20:04:26.000Z", "lastUpdated": "2025-05-20T20:04:26.000Z",
  "definitions": {
    "base": {"id": "#base", "type": "object", "required": ["login", "firstName", "lastName", "email"],
      "properties": {
        "login": {"title": "Username", "type": "string", "required": true, "minLength": 5, "maxLength": 100,
                  "permissions": [{"principal": "SELF", "action": "READ_WRITE"}]},
        "email": {"title": "Primary email", "type": "string", "required": true, "format": "email",
                  "permissions": [{"principal": "SELF", "action": "READ_WRITE"}]}}},
    "custom": {"id": "#custom", "type": "object", "required": [],
      "properties": {
        "employeeId": {"title": "Employee id", "type": "string", "unique": "UNIQUE_VALIDATED", "maxLength": 20,
                       "permissions": [{"principal": "SELF", "action": "READ_ONLY"}]},
        "legacyRoles": {"title": "Legacy roles", "type": "array", "items": {"type": "string"}, "unique": false}}}},
  "properties": {"profile": {"allOf": [{"$ref": "#/definitions/base"}, {"$ref": "#/definitions/custom"}]}}
}`

const hookJSON = `{
  "id": "calr0dvWvbMQJHZCM0g3",
  "status": "ACTIVE",
  "name": "Ferry password import",
  "type": "com.okta.user.credential.password.import",
  "version": "1.0.0",
  "channel": {"type": "HTTP", "version": "1.0.0",
    "config": {"uri": "https://ferry.example.com/hooks/password-import", "method": "POST",
               "authScheme": {"type": "HEADER", "key": "Authorization"}}},
  "created": "2018-05-15T01:23:08.000Z",
  "lastUpdated": "2018-05-15T01:23:08.000Z"
}`

// appJSON is the spec's list-apps-example entry, without its
// "errorRedirectUrl": null, which the spec's own schema (a string) refuses.
const appJSON = `{
  "id": "0oafwvZDWJKVLDCUWUAC",
  "name": "template_basic_auth",
  "label": "Sample Basic Auth App",
  "status": "ACTIVE",
  "lastUpdated": "2013-09-30T00:56:52.000Z",
  "created": "2013-09-30T00:56:52.000Z",
  "accessibility": {"selfService": false},
  "visibility": {"autoSubmitToolbar": false, "hide": {"iOS": false, "web": false}, "appLinks": {"login": true}},
  "features": [],
  "signOnMode": "BASIC_AUTH",
  "_links": {"users": {"href": "https://example.okta.com/api/v1/apps/0oafwvZDWJKVLDCUWUAC/users"}}
}`

const groupRuleJSON = `{
  "type": "group_rule",
  "id": "0pr3f7zMZZHPgUoWO0g4",
  "status": "INACTIVE",
  "name": "Engineering group rule",
  "created": "2016-12-01T14:40:04.000Z",
  "lastUpdated": "2016-12-01T14:40:04.000Z",
  "conditions": {
    "people": {"users": {"exclude": ["00u22w79JPMEeeuLr0g4"]}, "groups": {"exclude": []}},
    "expression": {"value": "user.role==\"Engineer\"", "type": "urn:okta:expression:1.0"}},
  "actions": {"assignUserToGroups": {"groupIds": ["00gjitX9HqABSoqTB0g3"]}}
}`

func bcryptHash() *okta.PasswordHash {
	return &okta.PasswordHash{Algorithm: okta.AlgorithmBcrypt, WorkFactor: 10, Salt: "rwh3vH166HCH/NT9XV5FYu", Value: "qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"}
}

// TestEveryEndpointSendsTheSpecRequestAndParsesTheAnswer checks method, path,
// query, headers and JSON body of each operation, and what the client makes of
// a realistic answer.
func TestEveryEndpointSendsTheSpecRequestAndParsesTheAnswer(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		call   func(c *okta.Client) (any, error)
		method string
		path   string // escaped
		query  url.Values
		body   string // "" = no body
		status int
		answer string
		check  func(t *testing.T, got any)
	}{
		{
			name: "create user with an imported bcrypt hash, staged, in groups",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.CreateUser(ctx, okta.CreateUserRequest{
					Profile:     okta.UserProfile{"firstName": "Isaac", "lastName": "Brock", "email": "isaac.brock@example.com", "login": "isaac.brock@example.com", "costCenter": nil},
					Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: bcryptHash()}},
					GroupIDs:    []string{"00g1", "00g2"},
				}, okta.CreateUserOptions{Activate: false})
				return u, err
			},
			method: "POST", path: "/api/v1/users", query: url.Values{"activate": {"false"}},
			body: `{"profile":{"firstName":"Isaac","lastName":"Brock","email":"isaac.brock@example.com","login":"isaac.brock@example.com","costCenter":null},
			        "credentials":{"password":{"hash":{"algorithm":"BCRYPT","workFactor":10,"salt":"rwh3vH166HCH/NT9XV5FYu","value":"qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"}}},
			        "groupIds":["00g1","00g2"]}`,
			status: 200, answer: userJSON,
			check: func(t *testing.T, got any) {
				u := got.(*okta.User)
				if u.ID != "00ub0oNGTSWTBKOLGLNR" || u.Status != okta.StatusActive || u.Profile.Login() != "isaac.brock@example.com" {
					t.Errorf("user = %+v", u)
				}
				if u.Credentials == nil || u.Credentials.Provider == nil || u.Credentials.Provider.Type != okta.ProviderImport {
					t.Errorf("credentials = %+v, want provider IMPORT", u.Credentials)
				}
				if !u.Created.Equal(time.Date(2013, 7, 2, 21, 36, 25, 344e6, time.UTC)) || !u.Activated.IsZero() {
					t.Errorf("created %v activated %v", u.Created, u.Activated)
				}
				if u.Type == nil || u.Type.ID != "otymq4ydbRxVdYnAO0g4" || u.Profile["costCenter"] != nil {
					t.Errorf("type %+v costCenter %v", u.Type, u.Profile["costCenter"])
				}
			},
		},
		{
			name: "create user with the password import hook, activated",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.CreateUser(ctx, okta.CreateUserRequest{
					Profile:     okta.UserProfile{"firstName": "Isaac", "lastName": "Brock", "email": "isaac.brock@example.com", "login": "isaac.brock@example.com"},
					Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hook: &okta.PasswordCredentialHook{Type: okta.PasswordHookDefault}}},
				}, okta.CreateUserOptions{Activate: true})
				return u, err
			},
			method: "POST", path: "/api/v1/users", query: url.Values{"activate": {"true"}},
			body: `{"profile":{"firstName":"Isaac","lastName":"Brock","email":"isaac.brock@example.com","login":"isaac.brock@example.com"},
			        "credentials":{"password":{"hook":{"type":"default"}}}}`,
			status: 200, answer: userJSON,
		},
		{
			name: "create user with a plaintext password, a federation provider and nextLogin",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.CreateUser(ctx, okta.CreateUserRequest{
					Profile:     okta.UserProfile{"login": "isaac.brock@example.com"},
					Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: "tlpWENT2m"}},
					Type:        &okta.UserTypeRef{ID: "oty1"},
				}, okta.CreateUserOptions{Activate: true, Provider: true, NextLogin: okta.NextLoginChangePassword})
				return u, err
			},
			method: "POST", path: "/api/v1/users", query: url.Values{"activate": {"true"}, "provider": {"true"}, "nextLogin": {"changePassword"}},
			body:   `{"profile":{"login":"isaac.brock@example.com"},"credentials":{"password":{"value":"tlpWENT2m"}},"type":{"id":"oty1"}}`,
			status: 200, answer: userJSON,
		},
		{
			name: "get user by id",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.GetUser(ctx, "00ub0oNGTSWTBKOLGLNR")
				return u, err
			},
			method: "GET", path: "/api/v1/users/00ub0oNGTSWTBKOLGLNR", status: 200, answer: userJSON,
			check: func(t *testing.T, got any) {
				if got.(*okta.User).Profile.Email() != "isaac.brock@example.com" {
					t.Errorf("user = %+v", got)
				}
			},
		},
		{
			name: "get user by login is path-escaped",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.GetUser(ctx, "isaac+brock@example.com")
				return u, err
			},
			method: "GET", path: "/api/v1/users/isaac+brock@example.com", status: 200, answer: userJSON,
		},
		{
			name: "find user by login filters on profile.login",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.FindUserByLogin(ctx, `Isaac.Brock@example.com`)
				return u, err
			},
			method: "GET", path: "/api/v1/users", query: url.Values{"filter": {`profile.login eq "Isaac.Brock@example.com"`}, "limit": {"2"}},
			status: 200, answer: "[" + userJSON + "]",
			check: func(t *testing.T, got any) {
				if u := got.(*okta.User); u == nil || u.ID != "00ub0oNGTSWTBKOLGLNR" {
					t.Errorf("user = %+v, want 00ub0oNGTSWTBKOLGLNR (logins match ignoring case)", got)
				}
			},
		},
		{
			name: "find user by login: none is nil, not an error",
			call: func(c *okta.Client) (any, error) {
				u, _, err := c.FindUserByLogin(ctx, `we"ird@example.com`)
				return u, err
			},
			method: "GET", path: "/api/v1/users", query: url.Values{"filter": {`profile.login eq "we\"ird@example.com"`}, "limit": {"2"}},
			status: 200, answer: "[]",
			check: func(t *testing.T, got any) {
				if u := got.(*okta.User); u != nil {
					t.Errorf("user = %+v, want nil", u)
				}
			},
		},
		{
			name: "list users with search, limit and sort",
			call: func(c *okta.Client) (any, error) {
				p, err := c.ListUsers(ctx, okta.UserQuery{Search: `profile.department eq "Engineering"`, Limit: 200, SortBy: "id", SortOrder: "asc"})
				if err != nil {
					return nil, err
				}
				return p.Items, nil
			},
			method: "GET", path: "/api/v1/users", query: url.Values{"search": {`profile.department eq "Engineering"`}, "limit": {"200"}, "sortBy": {"id"}, "sortOrder": {"asc"}},
			status: 200, answer: "[" + userJSON + "," + userJSON + "]",
			check: func(t *testing.T, got any) {
				if n := len(got.([]okta.User)); n != 2 {
					t.Errorf("%d users, want 2", n)
				}
			},
		},
		{
			name: "list users with q",
			call: func(c *okta.Client) (any, error) {
				p, err := c.ListUsers(ctx, okta.UserQuery{Q: "Isa"})
				if err != nil {
					return nil, err
				}
				return p.Items, nil
			},
			method: "GET", path: "/api/v1/users", query: url.Values{"q": {"Isa"}}, status: 200, answer: "[]",
			check: func(t *testing.T, got any) {
				if items := got.([]okta.User); items == nil || len(items) != 0 {
					t.Errorf("items = %#v, want empty non-nil", items)
				}
			},
		},
		{
			name: "activate user without email returns the activation link",
			call: func(c *okta.Client) (any, error) {
				tok, _, err := c.ActivateUser(ctx, "00ub0oNGTSWTBKOLGLNR", false)
				return tok, err
			},
			method: "POST", path: "/api/v1/users/00ub0oNGTSWTBKOLGLNR/lifecycle/activate", query: url.Values{"sendEmail": {"false"}},
			status: 200, answer: `{"activationUrl":"https://example.okta.com/welcome/XE6wE17zmphl3KqAPFxO","activationToken":"XE6wE17zmphl3KqAPFxO"}`,
			check: func(t *testing.T, got any) {
				if tok := got.(*okta.UserActivationToken); tok.ActivationToken != "XE6wE17zmphl3KqAPFxO" {
					t.Errorf("token = %q", tok.ActivationToken)
				}
			},
		},
		{
			name: "activate user with email",
			call: func(c *okta.Client) (any, error) {
				_, _, err := c.ActivateUser(ctx, "00u1", true)
				return nil, err
			},
			method: "POST", path: "/api/v1/users/00u1/lifecycle/activate", query: url.Values{"sendEmail": {"true"}}, status: 200, answer: `{}`,
		},
		{
			name: "deactivate user",
			call: func(c *okta.Client) (any, error) {
				_, err := c.DeactivateUser(ctx, "00u1", false)
				return nil, err
			},
			method: "POST", path: "/api/v1/users/00u1/lifecycle/deactivate", query: url.Values{"sendEmail": {"false"}}, status: 200,
		},
		{
			name: "delete user",
			call: func(c *okta.Client) (any, error) {
				_, err := c.DeleteUser(ctx, "00u1", false)
				return nil, err
			},
			method: "DELETE", path: "/api/v1/users/00u1", query: url.Values{"sendEmail": {"false"}}, status: 204,
		},
		{
			name: "create group",
			call: func(c *okta.Client) (any, error) {
				g, _, err := c.CreateGroup(ctx, okta.GroupProfile{Name: "West Coast users", Description: "All users West of The Rockies"})
				return g, err
			},
			method: "POST", path: "/api/v1/groups",
			body:   `{"profile":{"name":"West Coast users","description":"All users West of The Rockies"}}`,
			status: 200, answer: groupJSON,
			check: func(t *testing.T, got any) {
				g := got.(*okta.Group)
				if g.ID != "00g1emaKYZTWRYYRRTSK" || g.Type != okta.GroupTypeOkta || g.Profile.Name != "West Coast users" || !reflect.DeepEqual(g.ObjectClass, []string{"okta:user_group"}) {
					t.Errorf("group = %+v", g)
				}
			},
		},
		{
			name: "get group",
			call: func(c *okta.Client) (any, error) {
				g, _, err := c.GetGroup(ctx, "00g1emaKYZTWRYYRRTSK")
				return g, err
			},
			method: "GET", path: "/api/v1/groups/00g1emaKYZTWRYYRRTSK", status: 200, answer: groupJSON,
		},
		{
			name: "find group by name searches OKTA_GROUPs and matches exactly",
			call: func(c *okta.Client) (any, error) {
				g, _, err := c.FindGroupByName(ctx, "West Coast users")
				return g, err
			},
			method: "GET", path: "/api/v1/groups", query: url.Values{"search": {`type eq "OKTA_GROUP" and profile.name eq "West Coast users"`}, "limit": {"200"}},
			status: 200, answer: `[{"id":"00gX","type":"OKTA_GROUP","profile":{"name":"west coast USERS"}},` + groupJSON + `]`,
			check: func(t *testing.T, got any) {
				if g := got.(*okta.Group); g == nil || g.ID != "00g1emaKYZTWRYYRRTSK" {
					t.Errorf("group = %+v, want the exact name", got)
				}
			},
		},
		{
			name: "list groups with filter",
			call: func(c *okta.Client) (any, error) {
				p, err := c.ListGroups(ctx, okta.GroupQuery{Filter: `type eq "OKTA_GROUP"`, Limit: 50})
				if err != nil {
					return nil, err
				}
				return p.Items, nil
			},
			method: "GET", path: "/api/v1/groups", query: url.Values{"filter": {`type eq "OKTA_GROUP"`}, "limit": {"50"}},
			status: 200, answer: "[" + groupJSON + "]",
		},
		{
			name: "delete group",
			call: func(c *okta.Client) (any, error) {
				_, err := c.DeleteGroup(ctx, "00g1")
				return nil, err
			},
			method: "DELETE", path: "/api/v1/groups/00g1", status: 204,
		},
		{
			name: "add group member",
			call: func(c *okta.Client) (any, error) {
				_, err := c.AddGroupMember(ctx, "00g1", "00u1")
				return nil, err
			},
			method: "PUT", path: "/api/v1/groups/00g1/users/00u1", status: 204,
		},
		{
			name: "remove group member",
			call: func(c *okta.Client) (any, error) {
				_, err := c.RemoveGroupMember(ctx, "00g1", "00u1")
				return nil, err
			},
			method: "DELETE", path: "/api/v1/groups/00g1/users/00u1", status: 204,
		},
		{
			name: "list group members asks for 200 a page",
			call: func(c *okta.Client) (any, error) {
				p, err := c.ListGroupMembers(ctx, "00g1", 0)
				if err != nil {
					return nil, err
				}
				return p.Items, nil
			},
			method: "GET", path: "/api/v1/groups/00g1/users", query: url.Values{"limit": {"200"}}, status: 200, answer: "[" + userJSON + "]",
			check: func(t *testing.T, got any) {
				if items := got.([]okta.User); len(items) != 1 || items[0].ID != "00ub0oNGTSWTBKOLGLNR" {
					t.Errorf("members = %+v", items)
				}
			},
		},
		{
			name: "read the default user schema, base and custom",
			call: func(c *okta.Client) (any, error) {
				s, _, err := c.GetUserSchema(ctx, "")
				return s, err
			},
			method: "GET", path: "/api/v1/meta/schemas/user/default", status: 200, answer: schemaJSON,
			check: func(t *testing.T, got any) {
				s := got.(*okta.UserSchema)
				base, custom := s.Definitions.Base, s.Definitions.Custom
				if base == nil || custom == nil {
					t.Fatalf("definitions = %+v", s.Definitions)
				}
				login := base.Properties["login"]
				if login == nil || login.MinLength == nil || *login.MinLength != 5 || *login.MaxLength != 100 || login.Required == nil || !*login.Required {
					t.Errorf("login = %+v", login)
				}
				if !reflect.DeepEqual(base.Required, []string{"login", "firstName", "lastName", "email"}) {
					t.Errorf("base.required = %v", base.Required)
				}
				emp := custom.Properties["employeeId"]
				if emp == nil || emp.Unique == nil || !emp.Unique.Unique || emp.Unique.Status != okta.UniqueValidated || emp.Permissions[0].Action != okta.PermissionReadOnly {
					t.Errorf("employeeId = %+v", emp)
				}
				roles := custom.Properties["legacyRoles"]
				if roles == nil || roles.Items == nil || roles.Items.Type != "string" || roles.Unique == nil || roles.Unique.Unique {
					t.Errorf("legacyRoles = %+v", roles)
				}
			},
		},
		{
			name: "create a custom schema property",
			call: func(c *okta.Client) (any, error) {
				max := 20
				s, _, err := c.CreateCustomProperty(ctx, "employeeId", okta.UserSchemaAttribute{
					Title: "Employee id", Type: okta.AttrString, MaxLength: &max, Unique: &okta.Uniqueness{Unique: true},
					Permissions: []okta.UserSchemaAttributePermission{{Principal: okta.PrincipalSelf, Action: okta.PermissionReadOnly}},
				})
				return s, err
			},
			method: "POST", path: "/api/v1/meta/schemas/user/default",
			body: `{"definitions":{"custom":{"id":"#custom","type":"object","properties":{"employeeId":{"title":"Employee id","type":"string","unique":true,"maxLength":20,
			        "permissions":[{"principal":"SELF","action":"READ_ONLY"}]}}}}}`,
			status: 200, answer: schemaJSON,
		},
		{
			name: "remove a custom property sends null",
			call: func(c *okta.Client) (any, error) {
				s, _, err := c.UpdateCustomProperties(ctx, "osc1", map[string]*okta.UserSchemaAttribute{"legacyRoles": nil})
				return s, err
			},
			method: "POST", path: "/api/v1/meta/schemas/user/osc1",
			body:   `{"definitions":{"custom":{"id":"#custom","type":"object","properties":{"legacyRoles":null}}}}`,
			status: 200, answer: schemaJSON,
		},
		{
			name:   "list the apps assigned to a group",
			call:   func(c *okta.Client) (any, error) { return c.ListGroupApps(ctx, "00g1emaKYZTWRYYRRTSK", 0) },
			method: "GET", path: "/api/v1/groups/00g1emaKYZTWRYYRRTSK/apps", query: url.Values{"limit": {"200"}},
			status: 200, answer: "[" + appJSON + "]",
			check: func(t *testing.T, got any) {
				p := got.(*okta.Page[okta.Application])
				if len(p.Items) != 1 || p.HasNext() {
					t.Fatalf("page = %+v", p)
				}
				a := p.Items[0]
				if a.ID != "0oafwvZDWJKVLDCUWUAC" || a.Name != "template_basic_auth" || a.Label != "Sample Basic Auth App" ||
					a.Status != okta.AppStatusActive || a.SignOnMode != "BASIC_AUTH" || a.Created.IsZero() {
					t.Errorf("app = %+v", a)
				}
			},
		},
		{
			name:   "list group rules",
			call:   func(c *okta.Client) (any, error) { return c.ListGroupRules(ctx, 50) },
			method: "GET", path: "/api/v1/groups/rules", query: url.Values{"limit": {"50"}},
			status: 200, answer: "[" + groupRuleJSON + "]",
			check: func(t *testing.T, got any) {
				p := got.(*okta.Page[okta.GroupRule])
				if len(p.Items) != 1 {
					t.Fatalf("page = %+v", p)
				}
				r := p.Items[0]
				if r.ID != "0pr3f7zMZZHPgUoWO0g4" || r.Name != "Engineering group rule" || r.Status != okta.GroupRuleInactive || r.Type != "group_rule" ||
					r.Conditions.Expression.Value != `user.role=="Engineer"` || !reflect.DeepEqual(r.Actions.AssignUserToGroups.GroupIDs, []string{"00gjitX9HqABSoqTB0g3"}) {
					t.Errorf("rule = %+v", r)
				}
			},
		},
		{
			name: "list inline hooks of a type",
			call: func(c *okta.Client) (any, error) {
				hs, _, err := c.ListInlineHooks(ctx, okta.InlineHookTypePasswordImport)
				return hs, err
			},
			method: "GET", path: "/api/v1/inlineHooks", query: url.Values{"type": {okta.InlineHookTypePasswordImport}},
			status: 200, answer: "[" + hookJSON + "]",
			check: func(t *testing.T, got any) {
				hs := got.([]okta.InlineHook)
				if len(hs) != 1 || hs[0].ID != "calr0dvWvbMQJHZCM0g3" || hs[0].Channel.Config.URI != "https://ferry.example.com/hooks/password-import" || hs[0].Channel.Config.AuthScheme.Key != "Authorization" {
					t.Errorf("hooks = %+v", hs)
				}
			},
		},
		{
			name: "create inline hook",
			call: func(c *okta.Client) (any, error) {
				h, _, err := c.CreateInlineHook(ctx, okta.InlineHookCreate{Name: "Ferry password import", Type: okta.InlineHookTypePasswordImport, Version: "1.0.0",
					Channel: okta.InlineHookChannel{Type: "HTTP", Version: "1.0.0", Config: &okta.InlineHookChannelConfig{
						URI: "https://ferry.example.com/hooks/password-import", Method: "POST",
						Headers:    []okta.InlineHookHeader{{Key: "x-ferry-project", Value: "7"}},
						AuthScheme: &okta.InlineHookAuthScheme{Type: "HEADER", Key: "Authorization", Value: "hook-shared-secret"}}}})
				return h, err
			},
			method: "POST", path: "/api/v1/inlineHooks",
			body: `{"name":"Ferry password import","type":"com.okta.user.credential.password.import","version":"1.0.0",
			        "channel":{"type":"HTTP","version":"1.0.0","config":{"uri":"https://ferry.example.com/hooks/password-import","method":"POST",
			        "headers":[{"key":"x-ferry-project","value":"7"}],"authScheme":{"type":"HEADER","key":"Authorization","value":"hook-shared-secret"}}}}`,
			status: 200, answer: hookJSON,
			check: func(t *testing.T, got any) {
				if h := got.(*okta.InlineHook); h.Status != okta.InlineHookStatusActive || h.Created.IsZero() {
					t.Errorf("hook = %+v", h)
				}
			},
		},
		{
			name: "activate inline hook",
			call: func(c *okta.Client) (any, error) {
				h, _, err := c.ActivateInlineHook(ctx, "calr0dvWvbMQJHZCM0g3")
				return h, err
			},
			method: "POST", path: "/api/v1/inlineHooks/calr0dvWvbMQJHZCM0g3/lifecycle/activate", status: 200, answer: hookJSON,
		},
	}
	org := newFakeOrg(t)
	c := org.client(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
				if tt.answer != "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(tt.status)
				writeBody(w, tt.answer)
			})
			got, err := tt.call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			req := org.last(t)
			if req.Method != tt.method || req.RawPath != tt.path {
				t.Errorf("request = %s %s, want %s %s", req.Method, req.RawPath, tt.method, tt.path)
			}
			wantQuery := tt.query
			if wantQuery == nil {
				wantQuery = url.Values{}
			}
			if !reflect.DeepEqual(url.Values(req.Query), wantQuery) {
				t.Errorf("query = %v, want %v", req.Query, wantQuery)
			}
			if got := req.Header.Get("Authorization"); got != "SSWS "+testToken {
				t.Errorf("Authorization = %q", got)
			}
			if req.Header.Get("Accept") != "application/json" || req.Header.Get("User-Agent") != "ferry/1.2.3" {
				t.Errorf("Accept %q User-Agent %q", req.Header.Get("Accept"), req.Header.Get("User-Agent"))
			}
			if tt.body == "" {
				if len(req.Body) != 0 || req.Header.Get("Content-Type") != "" {
					t.Errorf("unexpected body %q (Content-Type %q)", req.Body, req.Header.Get("Content-Type"))
				}
			} else {
				if req.Header.Get("Content-Type") != "application/json" {
					t.Errorf("Content-Type = %q", req.Header.Get("Content-Type"))
				}
				sameJSON(t, tt.name, req.Body, tt.body)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

func TestBearerTokenAuth(t *testing.T) {
	org := newFakeOrg(t)
	c := org.client(t, func(cfg *okta.Config) {
		cfg.APIToken = ""
		cfg.AccessToken = "eyJraWQiOiJ.access.token"
		cfg.Version = ""
	})
	org.setAnswer(jsonAnswer(200, userJSON))
	if _, _, err := c.GetUser(context.Background(), "00u1"); err != nil {
		t.Fatal(err)
	}
	req := org.last(t)
	if got := req.Header.Get("Authorization"); got != "Bearer eyJraWQiOiJ.access.token" {
		t.Errorf("Authorization = %q", got)
	}
	if got := req.Header.Get("User-Agent"); got != "ferry/dev" {
		t.Errorf("User-Agent = %q, want ferry/dev", got)
	}
}

func TestBadArgumentsAreRefusedBeforeAnyRequest(t *testing.T) {
	org := newFakeOrg(t)
	c := org.client(t)
	ctx := context.Background()
	calls := map[string]func() error{
		"empty user id":     func() error { _, err := c.DeleteUser(ctx, "", false); return err },
		"dot-dot user id":   func() error { _, err := c.DeactivateUser(ctx, "..", false); return err },
		"login with slash":  func() error { _, _, err := c.GetUser(ctx, "a/b@example.com"); return err },
		"empty group id":    func() error { _, err := c.AddGroupMember(ctx, "", "00u1"); return err },
		"empty member id":   func() error { _, err := c.RemoveGroupMember(ctx, "00g1", " "); return err },
		"search and filter": func() error { _, err := c.ListUsers(ctx, okta.UserQuery{Search: "a", Filter: "b"}); return err },
		"group q and search": func() error {
			_, err := c.ListGroups(ctx, okta.GroupQuery{Q: "a", Search: "b"})
			return err
		},
		"bad attribute name": func() error {
			_, _, err := c.CreateCustomProperty(ctx, "has space", okta.UserSchemaAttribute{})
			return err
		},
		"empty group name":             func() error { _, _, err := c.CreateGroup(ctx, okta.GroupProfile{}); return err },
		"group apps: empty group id":   func() error { _, err := c.ListGroupApps(ctx, " ", 0); return err },
		"group apps: dot-dot group id": func() error { _, err := c.ListGroupApps(ctx, "..", 0); return err },
		"group apps: negative limit":   func() error { _, err := c.ListGroupApps(ctx, "00g1", -1); return err },
		"group rules: negative limit":  func() error { _, err := c.ListGroupRules(ctx, -1); return err },
		"group rules: limit over 200":  func() error { _, err := c.ListGroupRules(ctx, 201); return err },
		"http hook uri": func() error {
			_, _, _, err := c.RegisterPasswordImportHook(ctx, okta.PasswordImportHook{URI: "http://ferry.example.com/hook", AuthValue: "s"})
			return err
		},
	}
	for name, f := range calls {
		if err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := len(org.requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}
