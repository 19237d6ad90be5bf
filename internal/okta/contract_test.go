package okta_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	verrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/ferry-migrate/ferry/internal/okta"
	"github.com/ferry-migrate/ferry/internal/okta/oktaspec"
)

// The document is modelled once per test binary.
var spec struct {
	once   sync.Once
	loaded *oktaspec.Loaded
	err    error
}

func oktaSpec(t *testing.T) validator.Validator {
	t.Helper()
	spec.once.Do(func() {
		spec.loaded, spec.err = oktaspec.Load(clientPaths, config.WithFormatAssertions(), config.WithStrictMode(),
			// Strict mode does not follow the discriminator of
			// InlineHookChannelCreate (HTTP → InlineHookChannelHttpCreate) nor
			// see the additionalProperties map of custom attributes, and
			// would call those declared fields undeclared. They are still
			// validated, without the strict check of unknown fields.
			// Likewise Application's discriminator (signOnMode → the
			// template's schema, which declares name) and the appLinks map
			// of ApplicationVisibility.
			config.WithStrictIgnorePaths("$.body.channel.config", "$.body.channel.config.**",
				"$.body.definitions.custom.properties.*", "$.body.definitions.custom.properties.**",
				"$.body[*].name", "$.body[*].visibility.appLinks.*"))
	})
	if errors.Is(spec.err, oktaspec.ErrMissing) {
		t.Skipf("%v: contract not checked", spec.err)
	}
	if spec.err != nil {
		t.Fatal(spec.err)
	}
	t.Logf("spec %s loaded in %s", spec.loaded.Path, spec.loaded.Took)
	if spec.loaded.BuildErr != nil {
		t.Logf("libopenapi reported while building the model: %v", spec.loaded.BuildErr)
	}
	return spec.loaded.Validator
}

func describe(errs []*verrors.ValidationError) string { return oktaspec.Describe(errs) }

// TestRequestsMatchOktasOpenAPIDocument sends every operation through the
// client to a recording server and validates each request as sent (method,
// path, query, headers, body) against Okta's document, in strict mode, so an
// undocumented or misspelt query parameter or body field fails. The canned
// answers are validated too, so the fixtures the other tests rely on are
// shapes Okta documents.
func TestRequestsMatchOktasOpenAPIDocument(t *testing.T) {
	v := oktaSpec(t)
	ctx := context.Background()
	answers := map[string]string{
		"POST /api/v1/users":       userJSON,
		"GET /api/v1/users/":       userJSON,
		"GET /api/v1/users":        "[" + userJSON + "]",
		"POST /lifecycle/activate": `{"activationUrl":"https://example.okta.com/welcome/XE6wE17zmphl3KqAPFxO","activationToken":"XE6wE17zmphl3KqAPFxO"}`,
		"POST /api/v1/groups":      groupJSON,
		"GET /api/v1/groups/":      groupJSON,
		"GET /api/v1/groups":       "[" + groupJSON + "]",
		"GET /users":               "[" + userJSON + "]",
		// UserSchemaAttribute.unique is a boolean in the document, though
		// its description (and Okta) answer "UNIQUE_VALIDATED"; the
		// endpoint test covers the string.
		"GET /api/v1/meta/schemas/user/":    schemaWithBoolUnique,
		"POST /api/v1/meta/schemas/user/":   schemaWithBoolUnique,
		"GET /api/v1/inlineHooks":           "[]",
		"POST /api/v1/inlineHooks":          hookJSON,
		"POST /api/v1/inlineHooks/activate": hookJSON,
		"GET /apps":                         "[" + appJSON + "]",
		"GET /api/v1/groups/rules":          "[" + groupRuleJSON + "]",
		"POST /api/v1/users/":               userJSON,
		"POST /lifecycle/expire_password":   strings.Replace(userJSON, `"status": "ACTIVE"`, `"status": "PASSWORD_EXPIRED"`, 1),
		"GET /groups":                       "[" + groupJSON + "]",
	}
	pick := func(r *http.Request) (int, string) {
		p := r.URL.Path
		switch {
		case strings.HasPrefix(p, "/api/v1/inlineHooks/") && (r.Method == "PUT" || r.Method == "GET"):
			return 200, answers["POST /api/v1/inlineHooks"]
		case r.Method == "DELETE" || r.Method == "PUT":
			return 204, ""
		case strings.HasSuffix(p, "/lifecycle/deactivate"), strings.HasSuffix(p, "/lifecycle/suspend"), strings.HasSuffix(p, "/lifecycle/unsuspend"):
			return 200, ""
		case strings.HasSuffix(p, "/lifecycle/reset_password"):
			return 200, `{"resetPasswordUrl":"https://example.okta.com/reset_password/XE6wE17zmphl3KqAPFxO"}`
		case strings.HasSuffix(p, "/lifecycle/expire_password"):
			return 200, answers["POST /lifecycle/expire_password"]
		case r.Method == "GET" && strings.HasSuffix(p, "/groups") && strings.HasPrefix(p, "/api/v1/users/"):
			return 200, answers["GET /groups"]
		case strings.HasPrefix(p, "/api/v1/inlineHooks/") && strings.HasSuffix(p, "/lifecycle/activate"):
			return 200, answers["POST /api/v1/inlineHooks/activate"]
		case strings.HasSuffix(p, "/lifecycle/activate"):
			return 200, answers["POST /lifecycle/activate"]
		case r.Method == "GET" && strings.HasSuffix(p, "/users") && strings.HasPrefix(p, "/api/v1/groups/"):
			return 200, answers["GET /users"]
		case r.Method == "GET" && strings.HasSuffix(p, "/apps") && strings.HasPrefix(p, "/api/v1/groups/"):
			return 200, answers["GET /apps"]
		}
		if a, ok := answers[r.Method+" "+p]; ok {
			return 200, a
		}
		for _, prefix := range []string{"/api/v1/users/", "/api/v1/groups/", "/api/v1/meta/schemas/user/"} {
			if strings.HasPrefix(p, prefix) {
				return 200, answers[r.Method+" "+prefix]
			}
		}
		t.Errorf("no canned answer for %s %s", r.Method, p)
		return 500, ""
	}
	type exchange struct {
		req    *http.Request
		body   []byte
		status int
		answer string
	}
	var mu sync.Mutex
	var seen []exchange
	org := newFakeOrg(t)
	org.setAnswer(func(w http.ResponseWriter, r *http.Request) {
		status, answer := pick(r)
		mu.Lock()
		seen = append(seen, exchange{req: r.Clone(context.Background()), body: []byte(org.requestsBodyOf(r)), status: status, answer: answer})
		mu.Unlock()
		if answer != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, answer)
	})
	max := 20
	calls := map[string]func(c *okta.Client) error{
		"createUser with hash": func(c *okta.Client) error {
			_, _, err := c.CreateUser(ctx, okta.CreateUserRequest{
				Profile:     okta.UserProfile{"firstName": "Isaac", "lastName": "Brock", "email": "isaac.brock@example.com", "login": "isaac.brock@example.com", "mobilePhone": "555-415-1337"},
				Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: bcryptHash()}},
				GroupIDs:    []string{"00g1emaKYZTWRYYRRTSK"},
			}, okta.CreateUserOptions{Activate: false})
			return err
		},
		"createUser with PBKDF2 hash": func(c *okta.Client) error {
			_, _, err := c.CreateUser(ctx, okta.CreateUserRequest{
				Profile: okta.UserProfile{"firstName": "Isaac", "lastName": "Brock", "email": "isaac.brock@example.com", "login": "isaac.brock@example.com"},
				Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: &okta.PasswordHash{Algorithm: okta.AlgorithmPBKDF2, Salt: "RBDXRWs9",
					Value: "eKe8/dcL5gvRsMmp7WwxZq0Y7WAodielIcLaelLlgNs=", IterationCount: 4096, KeySize: 32, DigestAlgorithm: okta.DigestSHA512}}},
			}, okta.CreateUserOptions{Activate: true})
			return err
		},
		"createUser with salted SHA-512": func(c *okta.Client) error {
			_, _, err := c.CreateUser(ctx, okta.CreateUserRequest{
				Profile: okta.UserProfile{"login": "isaac.brock@example.com", "email": "isaac.brock@example.com", "firstName": "I", "lastName": "B"},
				Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: &okta.PasswordHash{Algorithm: okta.AlgorithmSHA512, Salt: "TXlTYWx0", SaltOrder: okta.SaltPrefix,
					Value: "QrozP8a+KfoHu6mPFysxLoO5LMQsd2Fw6IclZUf8xQjetJOCGS93vm68h+VaFX0LHSiF/GxQkykq1vofmx6NGA=="}}},
			}, okta.CreateUserOptions{Activate: false})
			return err
		},
		"createUser with hook": func(c *okta.Client) error {
			_, _, err := c.CreateUser(ctx, okta.CreateUserRequest{
				Profile:     okta.UserProfile{"firstName": "Isaac", "lastName": "Brock", "email": "isaac.brock@example.com", "login": "isaac.brock@example.com"},
				Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hook: &okta.PasswordCredentialHook{Type: okta.PasswordHookDefault}}},
			}, okta.CreateUserOptions{Activate: true, NextLogin: okta.NextLoginChangePassword, Provider: true})
			return err
		},
		"getUser": func(c *okta.Client) error { _, _, err := c.GetUser(ctx, "isaac.brock@example.com"); return err },
		"listUsers search": func(c *okta.Client) error {
			_, err := c.ListUsers(ctx, okta.UserQuery{Search: `profile.login eq "isaac.brock@example.com"`, Limit: 200, SortBy: "id", SortOrder: "asc"})
			return err
		},
		"listUsers q": func(c *okta.Client) error {
			_, err := c.ListUsers(ctx, okta.UserQuery{Q: "Isaac", Limit: 10})
			return err
		},
		"findUserByLogin (filter)": func(c *okta.Client) error { _, _, err := c.FindUserByLogin(ctx, "isaac.brock@example.com"); return err },
		"activateUser":             func(c *okta.Client) error { _, _, err := c.ActivateUser(ctx, "00u1", false); return err },
		"deactivateUser":           func(c *okta.Client) error { _, err := c.DeactivateUser(ctx, "00u1", false); return err },
		"deleteUser":               func(c *okta.Client) error { _, err := c.DeleteUser(ctx, "00u1", false); return err },
		"updateUser with hash and manager": func(c *okta.Client) error {
			_, _, err := c.UpdateUser(ctx, "00u1", okta.UpdateUserRequest{Profile: okta.UserProfile{"managerId": "00u2", "manager": "Jane Doe", "title": nil},
				Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Hash: bcryptHash()}}})
			return err
		},
		"updateUser profile only": func(c *okta.Client) error {
			_, _, err := c.UpdateUser(ctx, "00u1", okta.UpdateUserRequest{Profile: okta.UserProfile{"department": "Sales"}})
			return err
		},
		"activateUser sendEmail=true": func(c *okta.Client) error { _, _, err := c.ActivateUser(ctx, "00u1", true); return err },
		"suspendUser":                 func(c *okta.Client) error { _, err := c.SuspendUser(ctx, "00u1"); return err },
		"unsuspendUser":               func(c *okta.Client) error { _, err := c.UnsuspendUser(ctx, "00u1"); return err },
		"expirePassword":              func(c *okta.Client) error { _, _, err := c.ExpirePassword(ctx, "00u1"); return err },
		"resetPassword":               func(c *okta.Client) error { _, _, err := c.ResetPassword(ctx, "00u1", true); return err },
		"listUserGroups":              func(c *okta.Client) error { _, _, err := c.ListUserGroups(ctx, "00u1"); return err },
		"addGroup": func(c *okta.Client) error {
			_, _, err := c.CreateGroup(ctx, okta.GroupProfile{Name: "Ferry wave 1", Description: "d"})
			return err
		},
		"getGroup":                 func(c *okta.Client) error { _, _, err := c.GetGroup(ctx, "00g1"); return err },
		"findGroupByName (search)": func(c *okta.Client) error { _, _, err := c.FindGroupByName(ctx, "West Coast users"); return err },
		"listGroups filter": func(c *okta.Client) error {
			_, err := c.ListGroups(ctx, okta.GroupQuery{Filter: `type eq "OKTA_GROUP"`, Limit: 200})
			return err
		},
		"listGroups q":                     func(c *okta.Client) error { _, err := c.ListGroups(ctx, okta.GroupQuery{Q: "West"}); return err },
		"deleteGroup":                      func(c *okta.Client) error { _, err := c.DeleteGroup(ctx, "00g1"); return err },
		"assignUserToGroup":                func(c *okta.Client) error { _, err := c.AddGroupMember(ctx, "00g1", "00u1"); return err },
		"unassignUserFromGroup":            func(c *okta.Client) error { _, err := c.RemoveGroupMember(ctx, "00g1", "00u1"); return err },
		"listGroupUsers":                   func(c *okta.Client) error { _, err := c.ListGroupMembers(ctx, "00g1", 0); return err },
		"listAssignedApplicationsForGroup": func(c *okta.Client) error { _, err := c.ListGroupApps(ctx, "00g1", 0); return err },
		"listGroupRules":                   func(c *okta.Client) error { _, err := c.ListGroupRules(ctx, 0); return err },
		"getUserSchema":                    func(c *okta.Client) error { _, _, err := c.GetUserSchema(ctx, ""); return err },
		"updateUserProfile (add)": func(c *okta.Client) error {
			_, _, err := c.CreateCustomProperty(ctx, "employeeId", okta.UserSchemaAttribute{Title: "Employee id", Type: okta.AttrString, MaxLength: &max,
				Unique: &okta.Uniqueness{Unique: true}, Permissions: []okta.UserSchemaAttributePermission{{Principal: okta.PrincipalSelf, Action: okta.PermissionReadOnly}}})
			return err
		},
		"updateUserProfile (remove)": func(c *okta.Client) error {
			_, _, err := c.UpdateCustomProperties(ctx, "", map[string]*okta.UserSchemaAttribute{"legacyRoles": nil})
			return err
		},
		"listInlineHooks + createInlineHook": func(c *okta.Client) error {
			_, _, _, err := c.RegisterPasswordImportHook(ctx, okta.PasswordImportHook{URI: "https://ferry.example.com/hooks/password-import", AuthValue: "s3cret"})
			return err
		},
		"activateInlineHook": func(c *okta.Client) error { _, _, err := c.ActivateInlineHook(ctx, "calr0dvWvbMQJHZCM0g3"); return err },
		"getInlineHook":      func(c *okta.Client) error { _, _, err := c.GetInlineHook(ctx, "calr0dvWvbMQJHZCM0g3"); return err },
		"replaceInlineHook": func(c *okta.Client) error {
			_, _, err := c.ReplaceInlineHook(ctx, "calr0dvWvbMQJHZCM0g3", okta.InlineHookReplace{Name: "Ferry", Version: "1.0.0",
				Channel: okta.InlineHookChannel{Type: okta.InlineHookChannelHTTP, Version: "1.0.0", Config: &okta.InlineHookChannelConfig{
					URI: "https://ferry.example.com/api/hooks/okta/password-import/k3y", Method: "POST",
					AuthScheme: &okta.InlineHookAuthScheme{Type: okta.InlineHookAuthHeader, Key: "Authorization", Value: "n3w-s3cret"}}}})
			return err
		},
	}
	for _, auth := range []func(*okta.Config){
		func(cfg *okta.Config) {},
		func(cfg *okta.Config) { cfg.APIToken, cfg.AccessToken = "", "eyJ.access.token" },
	} {
		c := org.client(t, auth)
		for name, call := range calls {
			if err := call(c); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if len(seen) < 2*len(calls) {
		t.Fatalf("%d requests for %d calls", len(seen), len(calls))
	}
	ops := map[string]bool{}
	for _, ex := range seen {
		req := ex.req
		req.URL.Scheme, req.URL.Host = "https", "example.okta.com"
		req.Host = "example.okta.com"
		req.RequestURI = ""
		req.Body = io.NopCloser(bytes.NewReader(ex.body))
		what := req.Method + " " + req.URL.Path + "?" + req.URL.RawQuery
		if ok, errs := v.ValidateHttpRequest(req); !ok && !onlyNullRemovals(errs) {
			t.Errorf("%s: Okta's document does not accept the request:%s\nbody: %s", what, describe(errs), ex.body)
		}
		ops[req.Method+" "+req.URL.Path] = true

		// The canned answer, as Okta would send it.
		req.Body = io.NopCloser(bytes.NewReader(ex.body))
		h := http.Header{}
		if ex.answer != "" {
			h.Set("Content-Type", "application/json")
		}
		res := &http.Response{StatusCode: ex.status, Header: h, Body: io.NopCloser(strings.NewReader(ex.answer)), Request: req}
		if ok, errs := v.ValidateHttpResponse(req, res); !ok {
			t.Errorf("%s → %d: the canned answer does not match Okta's document:%s", what, ex.status, describe(errs))
		}
	}
	t.Logf("%d requests over %d distinct method+path validated", len(seen), len(ops))

	// Controls: the validator does reject what a wrong client would send.
	for name, bad := range map[string]struct{ method, target, body string }{
		"misspelt body field":    {"POST", "/api/v1/users?activate=false", `{"profile":{"login":"a@example.com"},"groupIDs":["00g1"]}`},
		"bad boolean in query":   {"POST", "/api/v1/users?activate=yes", `{"profile":{"login":"a@example.com"}}`},
		"unknown query":          {"POST", "/api/v1/users/00u1/lifecycle/deactivate?send_email=false", ""},
		"unknown hash algorithm": {"POST", "/api/v1/users?activate=false", `{"profile":{"login":"a@example.com"},"credentials":{"password":{"hash":{"algorithm":"ARGON2","value":"x"}}}}`},
		"unknown path":           {"GET", "/api/v1/user/00u1", ""},
		"unknown hook type":      {"GET", "/api/v1/inlineHooks?type=com.okta.password.import", ""},
	} {
		var body io.Reader = http.NoBody
		if bad.body != "" {
			body = strings.NewReader(bad.body)
		}
		req, err := http.NewRequest(bad.method, "https://example.okta.com"+bad.target, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "SSWS x")
		req.Header.Set("Accept", "application/json")
		if bad.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if ok, _ := v.ValidateHttpRequest(req); ok {
			t.Errorf("control %q: the validator accepted a wrong request", name)
		}
	}
}

// clientPaths are the spec paths this client calls.
var clientPaths = []string{
	"/api/v1/users", "/api/v1/users/{id}", "/api/v1/users/{id}/lifecycle/activate", "/api/v1/users/{id}/lifecycle/deactivate",
	"/api/v1/groups", "/api/v1/groups/{groupId}", "/api/v1/groups/{groupId}/users", "/api/v1/groups/{groupId}/users/{userId}",
	"/api/v1/meta/schemas/user/{schemaId}", "/api/v1/inlineHooks", "/api/v1/inlineHooks/{inlineHookId}/lifecycle/activate",
	"/api/v1/groups/{groupId}/apps", "/api/v1/groups/rules",
	"/api/v1/users/{id}/lifecycle/suspend", "/api/v1/users/{id}/lifecycle/unsuspend", "/api/v1/users/{id}/lifecycle/expire_password",
	"/api/v1/users/{id}/lifecycle/reset_password",
	"/api/v1/users/{id}/groups", "/api/v1/inlineHooks/{inlineHookId}",
}

var schemaWithBoolUnique = strings.Replace(schemaJSON, `"unique": "UNIQUE_VALIDATED"`, `"unique": true`, 1)

// onlyNullRemovals says errs only object to null custom attributes: the
// document marks UserSchemaAttribute x-okta-allow-null-property-value-for-updates
// and says "set properties explicitly to null to remove them", which JSON
// Schema cannot express.
func onlyNullRemovals(errs []*verrors.ValidationError) bool {
	for _, e := range errs {
		if len(e.SchemaValidationErrors) == 0 {
			return false
		}
		for _, f := range e.SchemaValidationErrors {
			if !strings.HasPrefix(f.Reason, "got null") || !strings.Contains(f.FieldPath, "definitions.custom.properties.") {
				return false
			}
		}
	}
	return true
}
