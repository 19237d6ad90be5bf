package oktasim_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

func TestTokenIsRequiredAsSSWSOrBearer(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	o.token = ""
	r := o.do("GET", "/api/v1/users", nil)
	wantError(t, r, 401, "E0000011")
	if r.Header.Get("X-Rate-Limit-Limit") == "" || r.Header.Get("Date") == "" || r.Header.Get("X-Okta-Request-Id") == "" {
		t.Errorf("a 401 lacks the rate-limit, Date or request id headers: %v", r.Header)
	}
	o.token = "wrong"
	wantError(t, o.do("GET", "/api/v1/users", nil), 401, "E0000011")
	wantError(t, o.do("GET", "/api/v1/users", nil, "Authorization", "Basic "+testToken), 401, "E0000011")
	o.token = testToken
	want(t, o.do("GET", "/api/v1/users", nil), 200, "SSWS token")
	o.scheme = "Bearer"
	want(t, o.do("GET", "/api/v1/users", nil), 200, "Bearer token")
}

func TestUnknownPathsAndMethodsAnswerAsOkta(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	wantError(t, o.do("PATCH", "/api/v1/users", map[string]any{}), 405, "E0000022")
	wantError(t, o.do("GET", "/api/v1/nothing", nil), 404, "E0000007")
	wantError(t, o.do("POST", "/api/v1/users", "{not json"), 400, "E0000003")
}

// The spec's "User creation details and outcomes" table, with NOTES §1:
// a hash or a hook counts as a password and gives provider IMPORT.
func TestCreateUserStatusAndProvider(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	hash := map[string]any{"algorithm": "SHA-256", "salt": "TXlTYWx0", "saltOrder": "PREFIX", "value": sha256B64("MySaltpw")}
	tests := []struct {
		name         string
		query        string
		credentials  map[string]any
		wantStatus   string
		wantProvider string
		wantPassword bool
	}{
		{"no credentials, activate=false", "?activate=false", nil, "STAGED", "OKTA", false},
		{"no credentials, activate by default", "", nil, "PROVISIONED", "OKTA", false},
		{"no credentials, activate=true", "?activate=true", nil, "PROVISIONED", "OKTA", false},
		{"recovery question only, activate=false", "?activate=false", map[string]any{"recovery_question": map[string]any{"question": "q?", "answer": "a long answer"}}, "STAGED", "OKTA", false},
		{"password, activate=false", "?activate=false", map[string]any{"password": map[string]any{"value": "Tr0ub4dor&3x"}}, "STAGED", "OKTA", true},
		{"password, activate=true", "?activate=true", map[string]any{"password": map[string]any{"value": "Tr0ub4dor&3x"}}, "ACTIVE", "OKTA", true},
		{"hash, activate=true", "?activate=true", map[string]any{"password": map[string]any{"hash": hash}}, "ACTIVE", "IMPORT", true},
		{"hash, activate by default", "", map[string]any{"password": map[string]any{"hash": hash}}, "ACTIVE", "IMPORT", true},
		{"hash, activate=false", "?activate=false", map[string]any{"password": map[string]any{"hash": hash}}, "STAGED", "IMPORT", true},
		{"hook, activate=true", "?activate=true", map[string]any{"password": map[string]any{"hook": map[string]any{"type": "default"}}}, "ACTIVE", "IMPORT", true},
		{"hook, activate=false", "?activate=false", map[string]any{"password": map[string]any{"hook": map[string]any{"type": "default"}}}, "STAGED", "IMPORT", true},
		{"federation provider, activate=true", "?activate=true&provider=true", map[string]any{"provider": map[string]any{"type": "FEDERATION", "name": "FEDERATION"}}, "ACTIVE", "FEDERATION", false},
		{"federation provider, activate=false", "?activate=false&provider=true", map[string]any{"provider": map[string]any{"type": "FEDERATION", "name": "FEDERATION"}}, "STAGED", "FEDERATION", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"profile": profile(fmt.Sprintf("user%d@example.com", i))}
			if tt.credentials != nil {
				body["credentials"] = tt.credentials
			}
			r := o.do("POST", "/api/v1/users"+tt.query, body)
			u := want(t, r, 200, "create")
			if u["status"] != tt.wantStatus {
				t.Errorf("status = %v, want %s", u["status"], tt.wantStatus)
			}
			if got := path(u, "credentials", "provider", "type"); got != tt.wantProvider {
				t.Errorf("provider.type = %v, want %s", got, tt.wantProvider)
			}
			if got := path(u, "credentials", "provider", "name"); got != tt.wantProvider {
				t.Errorf("provider.name = %v, want %s", got, tt.wantProvider)
			}
			pw, has := path(u, "credentials").(map[string]any)["password"]
			if has != tt.wantPassword {
				t.Fatalf("credentials.password present = %v, want %v: %s", has, tt.wantPassword, r.Body)
			}
			if has {
				if m, ok := pw.(map[string]any); !ok || len(m) != 0 {
					t.Errorf("credentials.password = %v, want {}", pw)
				}
				if strings.Contains(string(r.Body), "Tr0ub4dor") || strings.Contains(string(r.Body), "hash") {
					t.Errorf("the response leaks the password or hash: %s", r.Body)
				}
			}
			id, _ := u["id"].(string)
			if !strings.HasPrefix(id, "00u") || len(id) != 20 {
				t.Errorf("id = %q, want 00u + 17 characters", id)
			}
			// GET shows the same.
			g := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get")
			if g["status"] != tt.wantStatus || path(g, "credentials", "provider", "type") != tt.wantProvider {
				t.Errorf("GET = %v", g)
			}
		})
	}
}

func TestCreateUserRejectsBadPasswordObjects(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	cases := map[string]map[string]any{
		"unknown algorithm":     {"hash": map[string]any{"algorithm": "SHA-3", "value": "x"}},
		"bcrypt salt too short": {"hash": map[string]any{"algorithm": "BCRYPT", "workFactor": 10, "salt": "abc", "value": "qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"}},
		"bcrypt work factor":    {"hash": map[string]any{"algorithm": "BCRYPT", "workFactor": 21, "salt": "rwh3vH166HCH/NT9XV5FYu", "value": "qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"}},
		"pbkdf2 iterations":     {"hash": map[string]any{"algorithm": "PBKDF2", "salt": "RBDXRWs9", "value": "eKe8/dcL5gvRsMmp7WwxZq0Y7WAodielIcLaelLlgNs=", "iterationCount": 1000, "keySize": 32, "digestAlgorithm": "SHA512_HMAC"}},
		"sha value not digest":  {"hash": map[string]any{"algorithm": "SHA-512", "salt": "TXlTYWx0", "saltOrder": "PREFIX", "value": "AAAA"}},
		"hook type":             {"hook": map[string]any{"type": "other"}},
		"hash and value":        {"value": "Tr0ub4dor&3x", "hash": map[string]any{"algorithm": "MD5", "value": "jqACjUUFXM1XE6NiLALAbA=="}},
		"weak plain password":   {"value": "password"},
	}
	for name, pw := range cases {
		t.Run(name, func(t *testing.T) {
			r := o.do("POST", "/api/v1/users", map[string]any{"profile": profile("bad.pw@example.com"), "credentials": map[string]any{"password": pw}})
			e := wantError(t, r, 400, "E0000001")
			if e["errorSummary"] != "Api validation failed: password" {
				t.Errorf("errorSummary = %v", e["errorSummary"])
			}
		})
	}
	// Okta's own example hash is accepted.
	o.mustUser("", map[string]any{"profile": profile("isaac.brock@example.com"), "credentials": map[string]any{"password": map[string]any{"hash": map[string]any{
		"algorithm": "BCRYPT", "workFactor": 10, "salt": "rwh3vH166HCH/NT9XV5FYu", "value": "qaMqvAPULkbiQzkTCWo5XDcvzpk8Tna"}}}})
}

func TestDuplicateLoginIgnoresCaseAndDiacritics(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	o.mustUser("?activate=false", map[string]any{"profile": profile("Isaac.Brock@example.com")})
	for _, login := range []string{"Isaac.Brock@example.com", "isaac.brock@EXAMPLE.com", "isáàc.bröck@example.com"} {
		r := o.do("POST", "/api/v1/users?activate=false", map[string]any{"profile": profile(login)})
		e := wantError(t, r, 400, "E0000001", "login: An object with this field already exists in the current organization")
		if e["errorSummary"] != "Api validation failed: login" {
			t.Errorf("%s: errorSummary = %v", login, e["errorSummary"])
		}
	}
}

func TestConcurrentCreatesOfOneLoginCreateOneUser(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 20 {
		wg.Go(func() {
			req := o.request("POST", "/api/v1/users?activate=false", map[string]any{"profile": profile("race@example.com")})
			res, err := httpClient().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			mu.Lock()
			codes[res.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[200] != 1 || codes[400] != 19 {
		t.Fatalf("status counts = %v, want one 200 and nineteen 400", codes)
	}
}

func TestGroupIDsAtCreate(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	var ids []string
	for i := range 21 {
		ids = append(ids, o.mustGroup(fmt.Sprintf("g%d", i)))
	}
	r := o.do("POST", "/api/v1/users", map[string]any{"profile": profile("many@example.com"), "groupIds": ids})
	e := wantError(t, r, 400, "E0000093", "The number of group targets is too large")
	if e["errorSummary"] != "Target count limit exceeded" {
		t.Errorf("errorSummary = %v", e["errorSummary"])
	}
	u := o.mustUser("", map[string]any{"profile": profile("twenty@example.com"), "groupIds": ids[:20]})
	members := want(t, o.do("GET", "/api/v1/groups/"+ids[19]+"/users", nil), 200, "members")
	_ = members
	list := o.do("GET", "/api/v1/groups/"+ids[19]+"/users", nil).list(t)
	if len(list) != 1 || list[0]["id"] != u["id"] {
		t.Errorf("members of the 20th group = %v", list)
	}
	groups := o.do("GET", "/api/v1/users/"+u["id"].(string)+"/groups", nil).list(t)
	if len(groups) != 20 {
		t.Errorf("user's groups = %d, want 20", len(groups))
	}
	wantError(t, o.do("POST", "/api/v1/users", map[string]any{"profile": profile("nogroup@example.com"), "groupIds": []string{"00gnothere0000000000"}}), 404, "E0000007")
}

func TestUnknownIDsAre404(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	gid := o.mustGroup("real")
	uid := o.mustUser("", map[string]any{"profile": profile("real@example.com")})["id"].(string)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/users/00unothere0000000000"},
		{"GET", "/api/v1/users/nobody@example.com"},
		{"POST", "/api/v1/users/00unothere0000000000"},
		{"DELETE", "/api/v1/users/00unothere0000000000"},
		{"POST", "/api/v1/users/00unothere0000000000/lifecycle/activate"},
		{"POST", "/api/v1/users/00unothere0000000000/lifecycle/deactivate"},
		{"GET", "/api/v1/groups/00gnothere0000000000"},
		{"DELETE", "/api/v1/groups/00gnothere0000000000"},
		{"GET", "/api/v1/groups/00gnothere0000000000/users"},
		{"PUT", "/api/v1/groups/00gnothere0000000000/users/" + uid},
		{"PUT", "/api/v1/groups/" + gid + "/users/00unothere0000000000"},
		{"DELETE", "/api/v1/groups/" + gid + "/users/00unothere0000000000"},
		{"GET", "/api/v1/meta/schemas/user/oscnothere"},
		{"GET", "/api/v1/inlineHooks/calnothere0000000000"},
	} {
		var body any
		if c.method == "POST" && !strings.Contains(c.path, "lifecycle") {
			body = map[string]any{"profile": map[string]any{}}
		}
		wantError(t, o.do(c.method, c.path, body), 404, "E0000007")
	}
}

func TestProfileValidation(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	long := strings.Repeat("x", 51)
	cases := []struct {
		name    string
		profile map[string]any
		causes  []string
	}{
		{"empty profile", map[string]any{}, []string{"login: The field cannot be left blank", "email: The field cannot be left blank", "firstName: The field cannot be left blank", "lastName: The field cannot be left blank"}},
		{"login not an email", map[string]any{"login": "isaac.brock", "email": "i@example.com", "firstName": "I", "lastName": "B"}, []string{"login: Username must be in the form of an email address"}},
		{"login too short", map[string]any{"login": "a@b", "email": "i@example.com", "firstName": "I", "lastName": "B"}, []string{"login: The field must be at least 5 characters"}},
		{"firstName too long", map[string]any{"login": "i@example.com", "email": "i@example.com", "firstName": long, "lastName": "B"}, []string{"firstName: The field cannot exceed 50 characters"}},
		{"bad email", map[string]any{"login": "i@example.com", "email": "not an email", "firstName": "I", "lastName": "B"}, []string{"email: Does not match required pattern"}},
		{"country code too long", map[string]any{"login": "i@example.com", "email": "i@example.com", "firstName": "I", "lastName": "B", "countryCode": "USA"}, []string{"countryCode: The field cannot exceed 2 characters"}},
		{"zip code too long", map[string]any{"login": "i@example.com", "email": "i@example.com", "firstName": "I", "lastName": "B", "zipCode": strings.Repeat("1", 51)}, []string{"zipCode: The field cannot exceed 50 characters"}},
		{"bad locale", map[string]any{"login": "i@example.com", "email": "i@example.com", "firstName": "I", "lastName": "B", "locale": "english"}, []string{"locale: Invalid locale"}},
		{"bad timezone", map[string]any{"login": "i@example.com", "email": "i@example.com", "firstName": "I", "lastName": "B", "timezone": "Mars/Olympus"}, []string{"timezone: Invalid time zone"}},
		{"bad profileUrl", map[string]any{"login": "i@example.com", "email": "i@example.com", "firstName": "I", "lastName": "B", "profileUrl": "not a url"}, []string{"profileUrl: Does not match required pattern"}},
		{"non-string base value", map[string]any{"login": "i@example.com", "email": "i@example.com", "firstName": "I", "lastName": "B", "title": 7}, []string{"title: Does not match required type: string"}},
		{"undefined custom attribute", map[string]any{"login": "i@example.com", "email": "i@example.com", "firstName": "I", "lastName": "B", "employeeId": "42"}, []string{"Property name 'employeeId' is not defined in profile"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, o.do("POST", "/api/v1/users", map[string]any{"profile": c.profile}), 400, "E0000001", c.causes...)
		})
	}
	// All 31 base attributes, valid, are accepted.
	full := map[string]any{"login": "full@example.com", "email": "full@example.com", "secondEmail": "other@example.com",
		"firstName": "Isaac", "lastName": "Brock", "middleName": "M", "honorificPrefix": "Dr.", "honorificSuffix": "PhD",
		"title": "Engineer", "displayName": "Isaac Brock", "nickName": "Ike", "profileUrl": "https://example.com/ike",
		"primaryPhone": "+1 555 0100", "mobilePhone": "555-415-1337", "streetAddress": "1 Main St", "city": "Portland",
		"state": "OR", "zipCode": "97201", "countryCode": "US", "postalAddress": "1 Main St, Portland", "preferredLanguage": "en-US",
		"locale": "en_US", "timezone": "America/Los_Angeles", "userType": "Employee", "employeeNumber": "42", "costCenter": "CC1",
		"organization": "Modest Mouse", "division": "R&D", "department": "Eng", "managerId": "00u000", "manager": "Boss"}
	if len(full) != 31 {
		t.Fatalf("the test profile has %d attributes, want 31", len(full))
	}
	u := o.mustUser("", map[string]any{"profile": full})
	if got := path(u, "profile").(map[string]any); len(got) != 31 {
		t.Errorf("profile echoed with %d attributes, want 31", len(got))
	}
}

func TestCustomAttributesMustExistInTheSchemaFirst(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	p := profile("custom@example.com")
	p["employeeId"] = "E-42"
	wantError(t, o.do("POST", "/api/v1/users", map[string]any{"profile": p}), 400, "E0000001", "Property name 'employeeId' is not defined in profile")

	add := map[string]any{"definitions": map[string]any{"custom": map[string]any{"id": "#custom", "type": "object", "properties": map[string]any{
		"employeeId": map[string]any{"title": "Employee id", "type": "string", "maxLength": 10},
		"isManager":  map[string]any{"title": "Manager?", "type": "boolean"},
	}, "required": []string{}}}}
	sc := want(t, o.do("POST", "/api/v1/meta/schemas/user/default", add), 200, "add custom properties")
	if path(sc, "definitions", "custom", "properties", "employeeId", "type") != "string" {
		t.Fatalf("schema after update = %v", path(sc, "definitions", "custom"))
	}
	u := o.mustUser("", map[string]any{"profile": p})
	if path(u, "profile", "employeeId") != "E-42" {
		t.Errorf("custom value not stored: %v", u["profile"])
	}
	p2 := profile("custom2@example.com")
	p2["employeeId"] = strings.Repeat("9", 11)
	p2["isManager"] = "yes"
	wantError(t, o.do("POST", "/api/v1/users", map[string]any{"profile": p2}), 400, "E0000001",
		"employeeId: The field cannot exceed 10 characters", "isManager: Does not match required type: boolean")

	// A custom property cannot shadow a base one; null removes one.
	clash := map[string]any{"definitions": map[string]any{"custom": map[string]any{"properties": map[string]any{"FirstName": map[string]any{"title": "x", "type": "string"}}}}}
	wantError(t, o.do("POST", "/api/v1/meta/schemas/user/default", clash), 400, "E0000001")
	remove := `{"definitions":{"custom":{"properties":{"isManager":null}}}}`
	sc = want(t, o.do("POST", "/api/v1/meta/schemas/user/default", remove), 200, "remove")
	if path(sc, "definitions", "custom", "properties", "isManager") != nil {
		t.Errorf("isManager not removed")
	}
}

func TestSchemaHasThe31BaseAttributes(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	sc := want(t, o.do("GET", "/api/v1/meta/schemas/user/default", nil), 200, "schema")
	base := path(sc, "definitions", "base", "properties").(map[string]any)
	if len(base) != 31 {
		t.Errorf("base properties = %d, want 31", len(base))
	}
	req, _ := json.Marshal(path(sc, "definitions", "base", "required"))
	if string(req) != `["login","firstName","lastName","email"]` {
		t.Errorf("base.required = %s", req)
	}
	if path(sc, "definitions", "base", "properties", "login", "maxLength") != float64(100) ||
		path(sc, "definitions", "base", "properties", "city", "maxLength") != float64(128) {
		t.Errorf("lengths wrong: %v", base["login"])
	}
	// A login pattern lets logins that are not emails in.
	pat := `{"definitions":{"base":{"properties":{"login":{"title":"Username","type":"string","pattern":".+"}}}}}`
	want(t, o.do("POST", "/api/v1/meta/schemas/user/default", pat), 200, "set login pattern")
	p := profile("ibr")
	p["email"] = "ibr@example.com"
	o.mustUser("", map[string]any{"profile": p})
}

func TestHashOnlyAtCreateOrWhileStaged(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	hash := map[string]any{"password": map[string]any{"hash": map[string]any{"algorithm": "MD5", "salt": "TXlTYWx0", "saltOrder": "PREFIX", "value": "jqACjUUFXM1XE6NiLALAbA=="}}}
	active := o.mustUser("", map[string]any{"profile": profile("active@example.com"), "credentials": map[string]any{"password": map[string]any{"value": "Tr0ub4dor&3x"}}})
	r := o.do("POST", "/api/v1/users/"+active["id"].(string), map[string]any{"credentials": hash})
	wantError(t, r, 400, "E0000001", "password: An imported password may only be specified for a user with status: STAGED")

	staged := o.mustUser("?activate=false", map[string]any{"profile": profile("staged@example.com")})
	u := want(t, o.do("POST", "/api/v1/users/"+staged["id"].(string), map[string]any{"credentials": hash}), 200, "hash while STAGED")
	if path(u, "credentials", "provider", "type") != "IMPORT" || u["status"] != "STAGED" {
		t.Errorf("after a hash update: %v", u)
	}
	a := want(t, o.do("POST", "/api/v1/users/"+staged["id"].(string)+"/lifecycle/activate?sendEmail=false", nil), 200, "activate")
	if a == nil {
		t.Fatal("activation answered no body")
	}
	g := want(t, o.do("GET", "/api/v1/users/"+staged["id"].(string), nil), 200, "get")
	if g["status"] != "ACTIVE" {
		t.Errorf("a STAGED user with a hash activates to %v, want ACTIVE", g["status"])
	}
}

func TestUpdateUserProfile(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	u := o.mustUser("", map[string]any{"profile": profile("upd@example.com")})
	id := u["id"].(string)
	got := want(t, o.do("POST", "/api/v1/users/"+id, map[string]any{"profile": map[string]any{"title": "CTO"}}), 200, "partial update")
	if path(got, "profile", "title") != "CTO" || path(got, "profile", "firstName") != "Isaac" {
		t.Errorf("partial update = %v", got["profile"])
	}
	o.mustUser("", map[string]any{"profile": profile("taken@example.com")})
	wantError(t, o.do("POST", "/api/v1/users/"+id, map[string]any{"profile": map[string]any{"login": "TAKEN@example.com"}}), 400, "E0000001",
		"login: An object with this field already exists in the current organization")
	wantError(t, o.do("PUT", "/api/v1/users/"+id, map[string]any{"profile": map[string]any{"login": "upd@example.com"}}), 400, "E0000001",
		"firstName: The field cannot be left blank")
}

func TestGetUserByIDLoginAndShortName(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	u := o.mustUser("", map[string]any{"profile": profile("isaac+ops@example.com")})
	for _, key := range []string{u["id"].(string), url.PathEscape("isaac+ops@example.com"), "ISAAC%2Bops%40example.com", "isaac+ops"} {
		g := want(t, o.do("GET", "/api/v1/users/"+key, nil), 200, "get "+key)
		if g["id"] != u["id"] {
			t.Errorf("GET %s = %v", key, g["id"])
		}
	}
}

func TestLifecycleAndTwoStepDelete(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	staged := o.mustUser("?activate=false", map[string]any{"profile": profile("life@example.com")})
	id := staged["id"].(string)
	tok := want(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/activate?sendEmail=false", nil), 200, "activate")
	if tok["activationToken"] == nil || !strings.Contains(fmt.Sprint(tok["activationUrl"]), fmt.Sprint(tok["activationToken"])) {
		t.Errorf("activate with sendEmail=false = %v, want an activation token and URL", tok)
	}
	if g := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get"); g["status"] != "PROVISIONED" {
		t.Errorf("a user without a password activates to %v, want PROVISIONED", g["status"])
	}
	wantError(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/activate", nil), 403, "E0000016")
	r := o.do("POST", "/api/v1/users/"+id+"/lifecycle/deactivate", nil)
	want(t, r, 200, "deactivate")
	if g := want(t, o.do("GET", "/api/v1/users/"+id, nil), 200, "get"); g["status"] != "DEPROVISIONED" {
		t.Errorf("after deactivate: %v", g["status"])
	}
	e := want(t, o.do("POST", "/api/v1/users/"+id+"/lifecycle/activate", nil), 200, "reactivate a DEPROVISIONED user")
	if len(e) != 0 {
		t.Errorf("activate with sendEmail (default true) = %v, want {}", e)
	}

	active := o.mustUser("", map[string]any{"profile": profile("del@example.com"), "credentials": map[string]any{"password": map[string]any{"value": "Tr0ub4dor&3x"}}})
	aid := active["id"].(string)
	gid := o.mustGroup("delgroup")
	want(t, o.do("PUT", "/api/v1/groups/"+gid+"/users/"+aid, nil), 204, "add member")
	want(t, o.do("DELETE", "/api/v1/users/"+aid, nil), 204, "first delete")
	if g := want(t, o.do("GET", "/api/v1/users/"+aid, nil), 200, "get after first delete"); g["status"] != "DEPROVISIONED" {
		t.Fatalf("the first DELETE left status %v, want DEPROVISIONED", g["status"])
	}
	want(t, o.do("DELETE", "/api/v1/users/"+aid, nil), 204, "second delete")
	wantError(t, o.do("GET", "/api/v1/users/"+aid, nil), 404, "E0000007")
	wantError(t, o.do("DELETE", "/api/v1/users/"+aid, nil), 404, "E0000007")
	if m := o.do("GET", "/api/v1/groups/"+gid+"/users", nil).list(t); len(m) != 0 {
		t.Errorf("a deleted user is still a member: %v", m)
	}
	// The login is free again.
	o.mustUser("", map[string]any{"profile": profile("del@example.com")})
}

// links parses a Link header into rel → URL.
func links(t *testing.T, r response) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, v := range r.Header.Values("Link") {
		parts := strings.SplitN(v, ";", 2)
		if len(parts) != 2 {
			t.Fatalf("bad Link %q", v)
		}
		u := strings.Trim(strings.TrimSpace(parts[0]), "<>")
		rel := strings.TrimSpace(parts[1])
		rel = strings.TrimSuffix(strings.TrimPrefix(rel, `rel="`), `"`)
		out[rel] = u
	}
	return out
}

func TestListUsersPaginatesWithLinkHeaders(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	var ids []string
	for i := range 5 {
		ids = append(ids, o.mustUser("?activate=false", map[string]any{"profile": profile(fmt.Sprintf("page%d@example.com", i))})["id"].(string))
	}
	var seen []string
	next := "/api/v1/users?limit=2"
	pages := 0
	for next != "" {
		r := o.do("GET", next, nil)
		want(t, r, 200, "page")
		for _, u := range r.list(t) {
			seen = append(seen, u["id"].(string))
		}
		l := links(t, r)
		if l["self"] == "" {
			t.Errorf("no rel=self Link on %s", next)
		}
		next = ""
		if n := l["next"]; n != "" {
			next = strings.TrimPrefix(n, o.srv.URL)
		}
		pages++
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	if pages != 3 || strings.Join(seen, ",") != strings.Join(ids, ",") {
		t.Fatalf("paged %d pages, ids %v, want 3 pages of %v", pages, seen, ids)
	}

	// A plain list omits DEPROVISIONED users; search and filter include them.
	want(t, o.do("POST", "/api/v1/users/"+ids[0]+"/lifecycle/deactivate", nil), 200, "deactivate")
	if got := o.do("GET", "/api/v1/users", nil).list(t); len(got) != 4 {
		t.Errorf("plain list = %d users, want 4 (DEPROVISIONED omitted)", len(got))
	}
	q := url.Values{"search": {`status eq "DEPROVISIONED"`}}
	if got := o.do("GET", "/api/v1/users?"+q.Encode(), nil).list(t); len(got) != 1 || got[0]["id"] != ids[0] {
		t.Errorf("search by status = %v", got)
	}
	q = url.Values{"search": {`profile.login eq "PAGE3@example.com"`}}
	if got := o.do("GET", "/api/v1/users?"+q.Encode(), nil).list(t); len(got) != 1 || got[0]["id"] != ids[3] {
		t.Errorf("search is case-insensitive for values: %v", got)
	}
	q = url.Values{"filter": {`profile.login eq "page0@example.com"`}}
	if got := o.do("GET", "/api/v1/users?"+q.Encode(), nil).list(t); len(got) != 1 || got[0]["id"] != ids[0] {
		t.Errorf("filter by login = %v", got)
	}
	q = url.Values{"filter": {`profile.login eq "PAGE0@example.com"`}}
	if got := o.do("GET", "/api/v1/users?"+q.Encode(), nil).list(t); len(got) != 0 {
		t.Errorf("filter is case-sensitive for values: %v", got)
	}
	q = url.Values{"search": {`profile.login sw "page" and (status eq "STAGED" or status eq "ACTIVE")`}}
	r := o.do("GET", "/api/v1/users?limit=3&"+q.Encode(), nil)
	if got := r.list(t); len(got) != 3 {
		t.Errorf("search with and/or = %d users, want 3", len(got))
	}
	if n := links(t, r)["next"]; !strings.Contains(n, "search=") {
		t.Errorf("the next link drops the search: %q", n)
	}
	q = url.Values{"filter": {`profile.department eq "x"`}}
	wantError(t, o.do("GET", "/api/v1/users?"+q.Encode(), nil), 400, "E0000031")
	if got := o.do("GET", "/api/v1/users?q=isa", nil).list(t); len(got) != 4 {
		t.Errorf("q=isa (firstName prefix) = %d users, want 4", len(got))
	}
}

func TestGroups(t *testing.T) {
	o := mustOrg(t, oktasim.Options{})
	r := o.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "Sales EMEA", "description": "d"}})
	g := want(t, r, 200, "create group")
	gid := g["id"].(string)
	if !strings.HasPrefix(gid, "00g") || g["type"] != "OKTA_GROUP" || fmt.Sprint(g["objectClass"]) != "[okta:user_group]" {
		t.Errorf("group = %v", g)
	}
	wantError(t, o.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"description": "no name"}}), 400, "E0000001", "name: The field cannot be left blank")
	wantError(t, o.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "sales emea"}}), 400, "E0000001")
	o.mustGroup("Sales APAC")
	o.mustGroup("Engineering")
	if got := want(t, o.do("GET", "/api/v1/groups/"+gid, nil), 200, "get group"); path(got, "profile", "name") != "Sales EMEA" {
		t.Errorf("get group = %v", got)
	}
	if got := o.do("GET", "/api/v1/groups?q=sales", nil).list(t); len(got) != 2 {
		t.Errorf("q=sales = %d groups, want 2", len(got))
	}
	q := url.Values{"search": {`profile.name eq "Engineering"`}}
	if got := o.do("GET", "/api/v1/groups?"+q.Encode(), nil).list(t); len(got) != 1 {
		t.Errorf("search by name = %v", got)
	}
	q = url.Values{"filter": {`type eq "OKTA_GROUP"`}}
	if got := o.do("GET", "/api/v1/groups?"+q.Encode(), nil).list(t); len(got) != 3 {
		t.Errorf("filter by type = %d groups, want 3", len(got))
	}
	r = o.do("GET", "/api/v1/groups?limit=2", nil)
	if got := r.list(t); len(got) != 2 || links(t, r)["next"] == "" {
		t.Errorf("groups page 1 = %d, links %v", len(got), links(t, r))
	}

	var uids []string
	for i := range 3 {
		uid := o.mustUser("", map[string]any{"profile": profile(fmt.Sprintf("m%d@example.com", i))})["id"].(string)
		uids = append(uids, uid)
		want(t, o.do("PUT", "/api/v1/groups/"+gid+"/users/"+uid, nil), 204, "add member")
	}
	want(t, o.do("PUT", "/api/v1/groups/"+gid+"/users/"+uids[0], nil), 204, "add member again")
	r = o.do("GET", "/api/v1/groups/"+gid+"/users?limit=2", nil)
	if got := r.list(t); len(got) != 2 || links(t, r)["next"] == "" {
		t.Fatalf("members page 1 = %d users, links %v", len(got), links(t, r))
	}
	r2 := o.do("GET", strings.TrimPrefix(links(t, r)["next"], o.srv.URL), nil)
	if got := r2.list(t); len(got) != 1 || got[0]["id"] != uids[2] || links(t, r2)["next"] != "" {
		t.Errorf("members page 2 = %v", got)
	}
	want(t, o.do("DELETE", "/api/v1/groups/"+gid+"/users/"+uids[1], nil), 204, "remove member")
	if got := o.do("GET", "/api/v1/groups/"+gid+"/users", nil).list(t); len(got) != 2 {
		t.Errorf("after removal: %d members", len(got))
	}
	want(t, o.do("DELETE", "/api/v1/groups/"+gid, nil), 204, "delete group")
	wantError(t, o.do("GET", "/api/v1/groups/"+gid, nil), 404, "E0000007")
}
