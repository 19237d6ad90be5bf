package oktasim_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	validator "github.com/pb33f/libopenapi-validator"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/ferry-migrate/ferry/internal/okta/oktaspec"
	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// servedPaths are the spec paths the contract test calls.
var servedPaths = []string{
	"/api/v1/users", "/api/v1/users/{id}", "/api/v1/users/{id}/lifecycle/activate", "/api/v1/users/{id}/lifecycle/deactivate",
	"/api/v1/groups", "/api/v1/groups/{groupId}", "/api/v1/groups/{groupId}/users", "/api/v1/groups/{groupId}/users/{userId}",
	"/api/v1/meta/schemas/user/{schemaId}", "/api/v1/inlineHooks", "/api/v1/inlineHooks/{inlineHookId}",
	"/api/v1/inlineHooks/{inlineHookId}/lifecycle/activate", "/api/v1/inlineHooks/{inlineHookId}/lifecycle/deactivate",
	"/api/v1/groups/{groupId}/apps", "/api/v1/groups/rules",
	"/api/v1/users/{id}/lifecycle/suspend", "/api/v1/users/{id}/lifecycle/unsuspend", "/api/v1/users/{id}/lifecycle/expire_password",
	"/api/v1/users/{id}/groups", "/api/v1/users/{id}/lifecycle/reset_password",
}

var spec struct {
	once   sync.Once
	loaded *oktaspec.Loaded
	err    error
}

// oktaSpec models the part of Okta's document the test calls, once per
// test binary; without the document, the test skips.
func oktaSpec(t *testing.T) validator.Validator {
	t.Helper()
	spec.once.Do(func() { spec.loaded, spec.err = oktaspec.Load(servedPaths) })
	if errors.Is(spec.err, oktaspec.ErrMissing) {
		t.Skipf("%v: the sandbox's contract is not checked", spec.err)
	}
	if spec.err != nil {
		t.Fatalf("Okta's OpenAPI document: %v", spec.err)
	}
	return spec.loaded.Validator
}

func describe(errs []*verrors.ValidationError) string { return oktaspec.Describe(errs) }

// contractCall sends a request and checks the response against the spec.
func contractCall(t *testing.T, v validator.Validator, o *org, method, p string, body any, status int) response {
	t.Helper()
	req := o.request(method, p, body)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, p, err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", method, p, res.StatusCode, status, b)
	}
	checked := &http.Response{StatusCode: res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(b)), Request: o.request(method, p, body)}
	if ok, errs := v.ValidateHttpResponse(o.request(method, p, body), checked); !ok {
		t.Errorf("%s %s → %d does not match Okta's spec:%s\nbody: %s", method, p, res.StatusCode, describe(errs), b)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func TestResponsesMatchOktasOpenAPIDocument(t *testing.T) {
	v := oktaSpec(t)
	o := mustOrg(t, oktasim.Options{Limits: oktasim.Limits{Group: 3}})
	gid := contractCall(t, v, o, "POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "Contract", "description": "d"}}, 200).obj(t)["id"].(string)
	contractCall(t, v, o, "GET", "/api/v1/groups/"+gid, nil, 200)
	contractCall(t, v, o, "GET", "/api/v1/groups?q=Con", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"description": "no name"}}, 400)

	hash := map[string]any{"algorithm": "BCRYPT", "workFactor": 10, "salt": "rwh3vH166HCH/NT9XV5FYu", "value": "qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"}
	p := profile("isaac.brock@example.com")
	p["mobilePhone"] = "555-415-1337"
	u := contractCall(t, v, o, "POST", "/api/v1/users?activate=true", map[string]any{"profile": p, "credentials": map[string]any{"password": map[string]any{"hash": hash}}, "groupIds": []string{gid}}, 200).obj(t)
	uid := u["id"].(string)
	staged := contractCall(t, v, o, "POST", "/api/v1/users?activate=false", map[string]any{"profile": profile("staged@example.com")}, 200).obj(t)["id"].(string)
	contractCall(t, v, o, "POST", "/api/v1/users", map[string]any{"profile": profile("hook@example.com"), "credentials": map[string]any{"password": map[string]any{"hook": map[string]any{"type": "default"}}}}, 200)
	contractCall(t, v, o, "POST", "/api/v1/users", map[string]any{"profile": profile("isaac.brock@example.com")}, 400)
	many := make([]string, 21)
	for i := range many {
		many[i] = gid
	}
	contractCall(t, v, o, "POST", "/api/v1/users", map[string]any{"profile": profile("many@example.com"), "groupIds": many}, 400)
	reset := contractCall(t, v, o, "POST", "/api/v1/users", map[string]any{"profile": profile("reset@example.com"),
		"credentials": map[string]any{"password": map[string]any{"hook": map[string]any{"type": "default"}}}}, 200).obj(t)["id"].(string)
	contractCall(t, v, o, "POST", "/api/v1/users/"+reset+"/lifecycle/reset_password?sendEmail=true", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/users/"+reset+"/lifecycle/reset_password?sendEmail=false", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/users/"+staged+"/lifecycle/reset_password?sendEmail=true", nil, 403)
	contractCall(t, v, o, "POST", "/api/v1/users/00unothere0000000000/lifecycle/reset_password?sendEmail=true", nil, 404)
	contractCall(t, v, o, "GET", "/api/v1/users/"+uid, nil, 200)
	contractCall(t, v, o, "GET", "/api/v1/users/isaac.brock%40example.com", nil, 200)
	contractCall(t, v, o, "GET", "/api/v1/users/00unothere0000000000", nil, 404)
	contractCall(t, v, o, "GET", "/api/v1/users?limit=1", nil, 200)
	contractCall(t, v, o, "GET", "/api/v1/users?search=profile.login+sw+%22isaac%22", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/users/"+uid, map[string]any{"profile": map[string]any{"title": "Singer"}}, 200)
	contractCall(t, v, o, "POST", "/api/v1/users/"+uid, map[string]any{"profile": map[string]any{"nope": "x"}}, 400)
	contractCall(t, v, o, "GET", "/api/v1/groups/"+gid+"/users", nil, 200)
	contractCall(t, v, o, "DELETE", "/api/v1/groups/"+gid+"/users/"+uid, nil, 204)
	contractCall(t, v, o, "PUT", "/api/v1/groups/"+gid+"/users/"+uid, nil, 204)
	contractCall(t, v, o, "POST", "/api/v1/users/"+uid+"/lifecycle/deactivate", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/users/"+uid+"/lifecycle/activate?sendEmail=false", nil, 200)
	contractCall(t, v, o, "DELETE", "/api/v1/users/"+uid, nil, 204)
	contractCall(t, v, o, "DELETE", "/api/v1/users/"+uid, nil, 204)

	contractCall(t, v, o, "GET", "/api/v1/meta/schemas/user/default", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/meta/schemas/user/default", map[string]any{"definitions": map[string]any{"custom": map[string]any{
		"id": "#custom", "type": "object", "required": []string{},
		"properties": map[string]any{"salesforceUserName": map[string]any{"title": "Salesforce username", "type": "string", "required": false,
			"minLength": 1, "maxLength": 20, "permissions": []map[string]string{{"principal": "SELF", "action": "READ_WRITE"}}}}}}}, 200)

	hook := contractCall(t, v, o, "POST", "/api/v1/inlineHooks", map[string]any{"name": "Passwords", "type": "com.okta.user.credential.password.import", "version": "1.0.0",
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{"uri": "https://hooks.example.com/pw", "method": "POST",
			"headers": []map[string]string{{"key": "x-any-key", "value": "v"}}, "authScheme": map[string]string{"type": "HEADER", "key": "Authorization", "value": "s"}}}}, 200).obj(t)
	hid := hook["id"].(string)
	contractCall(t, v, o, "GET", "/api/v1/inlineHooks", nil, 200)
	contractCall(t, v, o, "GET", "/api/v1/inlineHooks/"+hid, nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/inlineHooks/"+hid+"/lifecycle/deactivate", nil, 200)
	contractCall(t, v, o, "POST", "/api/v1/inlineHooks/"+hid+"/lifecycle/activate", nil, 200)

	for _, mode := range []string{"BOOKMARK", "SAML_2_0", "OPENID_CONNECT"} {
		if err := o.sim.AssignAppToGroup(o.sim.AddApp("Contract "+mode, mode), gid); err != nil {
			t.Fatal(err)
		}
	}
	contractCall(t, v, o, "GET", "/api/v1/groups/"+gid+"/apps", nil, 200)
	contractCall(t, v, o, "GET", "/api/v1/groups/"+gid+"/apps?limit=1", nil, 200)
	contractCall(t, v, o, "GET", "/api/v1/groups/00gnothere0000000000/apps", nil, 404)
	if _, err := o.sim.AddGroupRule("Contract rule", `user.department=="Sales"`, []string{gid}, true); err != nil {
		t.Fatal(err)
	}
	contractCall(t, v, o, "GET", "/api/v1/groups/rules", nil, 200)
	contractCall(t, v, o, "GET", "/api/v1/groups/rules?limit=1&search=contract&expand=groupIdToGroupNameMap", nil, 200)

	contractCall(t, v, o, "DELETE", "/api/v1/groups/"+gid, nil, 204)
	contractCall(t, v, o, "GET", "/api/v1/groups/"+gid, nil, 404)
	contractCall(t, v, o, "GET", "/api/v1/groups/"+gid, nil, 429)
}
