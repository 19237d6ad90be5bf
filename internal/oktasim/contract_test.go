package oktasim_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi/datamodel"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// specPath is Okta's management OpenAPI document: FERRY_OKTA_SPEC, or the
// shared copy beside the repository.
func specPath() string {
	if p := os.Getenv("FERRY_OKTA_SPEC"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "..", "shared", "okta", "management-openapi.yaml")
}

var (
	specOnce sync.Once
	specV    validator.Validator
	specErr  error
)

// oktaSpec builds the validator once per test binary: the document is
// 3.4 MB and takes seconds to model.
func oktaSpec(t *testing.T) validator.Validator {
	t.Helper()
	p := specPath()
	if _, err := os.Stat(p); err != nil {
		t.Skipf("Okta's OpenAPI document is not at %s (set FERRY_OKTA_SPEC to its path to run the contract test): %v", p, err)
	}
	specOnce.Do(func() {
		b, err := os.ReadFile(p)
		if err != nil {
			specErr = err
			return
		}
		// Okta's document (2026.06.3) has one dangling reference, in a
		// schema's example (LogDevice → #/components/examples/LogDeviceObject),
		// that stops the model from building; examples take no part in
		// validation, so that one example is cut before parsing.
		b = bytes.Replace(b, []byte("      example:\n        LogDeviceObject:\n          $ref: '#/components/examples/LogDeviceObject'\n"), nil, 1)
		cfg := datamodel.NewDocumentConfiguration()
		cfg.Logger = slog.New(slog.DiscardHandler)
		doc, err := libopenapi.NewDocumentWithConfiguration(b, cfg)
		if err != nil {
			specErr = err
			return
		}
		m, err := doc.BuildV3Model()
		if err != nil {
			specErr = fmt.Errorf("building the model: %v", err)
			return
		}
		// Warming the schema cache compiles every schema of the 3.4 MB document
		// (over a minute); without it only the schemas the test meets are.
		specV = validator.NewValidatorFromV3Model(&m.Model, config.WithSchemaCache(nil))
	})
	if specErr != nil {
		t.Fatalf("Okta's OpenAPI document: %v", specErr)
	}
	return specV
}

func describe(errs []*verrors.ValidationError) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s: %s", e.Message, e.Reason)
		for _, f := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n      %s at %s (%s)", f.Reason, f.FieldPath, f.KeywordLocation)
		}
	}
	return b.String()
}

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
	contractCall(t, v, o, "POST", "/api/v1/users?activate=false", map[string]any{"profile": profile("staged@example.com")}, 200)
	contractCall(t, v, o, "POST", "/api/v1/users", map[string]any{"profile": profile("hook@example.com"), "credentials": map[string]any{"password": map[string]any{"hook": map[string]any{"type": "default"}}}}, 200)
	contractCall(t, v, o, "POST", "/api/v1/users", map[string]any{"profile": profile("isaac.brock@example.com")}, 400)
	many := make([]string, 21)
	for i := range many {
		many[i] = gid
	}
	contractCall(t, v, o, "POST", "/api/v1/users", map[string]any{"profile": profile("many@example.com"), "groupIds": many}, 400)
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

	contractCall(t, v, o, "DELETE", "/api/v1/groups/"+gid, nil, 204)
	contractCall(t, v, o, "GET", "/api/v1/groups/"+gid, nil, 404)
	contractCall(t, v, o, "GET", "/api/v1/groups/"+gid, nil, 429)
}
