package schema_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/schema"
)

func mustOrgSchema(t *testing.T, body string) *schema.OrgSchema {
	t.Helper()
	s, err := schema.ParseOrgSchema([]byte(body))
	if err != nil {
		t.Fatalf("ParseOrgSchema: %v", err)
	}
	return s
}

func TestParseOrgSchema(t *testing.T) {
	body, err := os.ReadFile("testdata/org-user-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	s := mustOrgSchema(t, string(body))
	if s.Name != "user" || s.Schema != "http://json-schema.org/draft-04/schema#" || len(s.Definitions.Base.Properties) != 10 || len(s.Definitions.Custom.Properties) != 7 {
		t.Fatalf("schema = %+v", s)
	}
	login := s.Definitions.Base.Properties["login"]
	if login.Pattern == nil || *login.Pattern != "[a-z0-9._-]+" || *login.MinLength != 5 || !*login.Required || login.Permissions[0].Action != "READ_ONLY" {
		t.Fatalf("login = %+v", login)
	}
	emp := s.Definitions.Custom.Properties["employeeId"]
	if !emp.Unique.Unique || emp.Unique.Pending || emp.Master == nil || emp.Master.Type != "PROFILE_MASTER" {
		t.Fatalf("employeeId = %+v", emp)
	}
	if b := s.Definitions.Custom.Properties["badgeNumber"].Unique; !b.Unique || !b.Pending {
		t.Fatalf("badgeNumber unique = %+v", b)
	}
	grade := s.Definitions.Custom.Properties["grade"]
	if len(grade.Enum) != 3 || grade.Enum[2] != "3" || grade.OneOf[0].Const != "1" || grade.OneOf[0].Title != "One" || grade.Required != nil || grade.MinLength != nil {
		t.Fatalf("grade = %+v", grade)
	}
	roles := s.Definitions.Custom.Properties["roles"]
	if roles.Items == nil || roles.Items.Type != "integer" || len(roles.Items.Enum) != 2 {
		t.Fatalf("roles = %+v", roles)
	}
	if string(s.Definitions.Custom.Properties["CostCentre"].Default) != `"none"` {
		t.Fatal("default not kept")
	}
	if strings.Join(s.Definitions.Base.Required, ",") != "login,firstName,lastName,email" {
		t.Fatalf("required = %v", s.Definitions.Base.Required)
	}
}

func TestParseOrgSchemaRefusesWhatIsNotOne(t *testing.T) {
	for body, want := range map[string]string{
		``:                        "not valid JSON",
		`<html>Sign in</html>`:    "not valid JSON",
		`{"definitions":{"base":`: "not valid JSON",
		`[]`:                      "unexpected value",
		`{}`:                      "not an Okta user schema",
		`{"definitions":{}}`:      "not an Okta user schema",
		`{"definitions":"x"}`:     "unexpected value",
		`{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action"}`: "not an Okta user schema",
		`{"definitions":{"base":{"properties":{"firstName":{}}}}}`:                                             "no login property",
		`{"definitions":{"base":{"properties":{"login":{"unique":5}}}}}`:                                       "neither a boolean nor a string",
		`{"definitions":{"base":{"properties":{"login":{"unique":"MAYBE"}}}}}`:                                 "unknown uniqueness status",
		`{"definitions":{"base":{"properties":{"login":{"enum":[{"a":1}]}}}}}`:                                 "neither a string nor a number",
		`{"definitions":{"base":{"properties":{"login":{"minLength":"five"}}}}}`:                               "unexpected value",
	} {
		_, err := schema.ParseOrgSchema([]byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseOrgSchema(%q) = %v, want %q", body, err, want)
		}
	}
	// Booleans as Okta takes them in requests, and null.
	s := mustOrgSchema(t, `{"definitions":{"base":{"properties":{"login":{"unique":true}}},"custom":{"properties":{"a":{"unique":false},"b":{"unique":null}}}}}`)
	if !s.Definitions.Base.Properties["login"].Unique.Unique || s.Definitions.Custom.Properties["a"].Unique.Unique || s.Definitions.Custom.Properties["b"].Unique.Unique {
		t.Fatalf("unique = %+v", s.Definitions)
	}
}

func TestCompareWithOrg(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	custom := []schema.CustomAttributeInput{
		{Name: ptr("employeeId"), Title: ptr("Employee ID"), Type: ptr("string"), MinLength: schema.SetInt(5), MaxLength: schema.SetInt(5), Pattern: ptr("E[0-9]{4}"), Required: ptr(true), Unique: ptr(true)},
		{Name: ptr("badgeNumber"), Title: ptr("Badge"), Type: ptr("integer"), Unique: ptr(true)},
		{Name: ptr("size"), Title: ptr("Size"), Type: ptr("string"), Enum: &[]string{"S", "M", "L"}, Required: ptr(true)},
		{Name: ptr("grade"), Title: ptr("Grade"), Type: ptr("integer"), Enum: &[]string{"3", "2", "1"}},
		{Name: ptr("roles"), Title: ptr("Roles"), Type: ptr("array"), Enum: &[]string{"user", "admin"}},
		{Name: ptr("costCentre"), Title: ptr("Cost centre"), Type: ptr("string"), MaxLength: schema.SetInt(30)},
		{Name: ptr("region"), Title: ptr("Region"), Type: ptr("string")},
	}
	for _, in := range custom {
		f.mustCustom(t, p.ID, in)
	}
	catalog, err := f.schema.Attributes(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := os.ReadFile("testdata/org-user-schema.json")
	diffs := schema.CompareWithOrg(catalog, *mustOrgSchema(t, string(body)))
	var got []string
	for _, d := range diffs {
		got = append(got, d.Attribute+" "+d.Kind+" ["+d.Project+"|"+d.Org+"]")
		if d.Message == "" {
			t.Errorf("%+v has no message", d)
		}
	}
	want := []string{
		"login login_pattern [|[a-z0-9._-]+]",
		"badgeNumber unique [true|pending]",
		"costCentre name_case [costCentre|CostCentre]",
		"costCentre max_length [30|20]",
		"region missing_in_org [region|]",
		"roles type [array of string|array of integer]",
		"size enum [L, M, S|L, M, S, XL]",
		"size required [true|false]",
		"twitterUserName missing_in_project [|twitterUserName]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("differences:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, d := range diffs {
		switch d.Kind {
		case schema.DiffLoginPattern:
			if !strings.Contains(d.Message, "not set (email addresses)") || !strings.Contains(d.Message, "[a-z0-9._-]+") {
				t.Errorf("message = %q", d.Message)
			}
		case schema.DiffMissingInOrg:
			if !strings.Contains(d.Message, "add it in Okta before loading users") {
				t.Errorf("message = %q", d.Message)
			}
		}
	}

	// Aligning the project removes the differences one by one.
	if _, err := f.schema.UpdateSettings(f.ctx, p.ID, 1, schema.SettingsInput{LoginPattern: ptr("[a-z0-9._-]+")}); err != nil {
		t.Fatal(err)
	}
	catalog, _ = f.schema.Attributes(context.Background(), p.ID)
	for _, d := range schema.CompareWithOrg(catalog, *mustOrgSchema(t, string(body))) {
		if d.Kind == schema.DiffLoginPattern {
			t.Fatalf("login pattern still differs: %+v", d)
		}
	}
}

func TestCompareWithOktasDefaultSchema(t *testing.T) {
	// NOTES.md's example of GET /api/v1/meta/schemas/user/default, with a custom attribute.
	org := mustOrgSchema(t, `{"id":"https://{yourOktaDomain}/meta/schemas/user/default","$schema":"http://json-schema.org/draft-04/schema#",
 "name":"user","title":"Default Okta User",
 "definitions":{
   "base":{"id":"#base","type":"object","properties":{"login":{"title":"Username","type":"string","required":true,"minLength":5,"maxLength":100,"permissions":[{"principal":"SELF","action":"READ_WRITE"}]}},"required":["login","firstName","lastName","email"]},
   "custom":{"id":"#custom","type":"object","properties":{"twitterUserName":{"title":"Twitter username","description":"…","type":"string","required":false,"minLength":1,"maxLength":20,"permissions":[{"principal":"SELF","action":"READ_WRITE"}]}},"required":[]}},
 "type":"object","properties":{"profile":{"allOf":[{"$ref":"#/definitions/base"},{"$ref":"#/definitions/custom"}]}}}`)
	catalog := schema.Base()
	diffs := schema.CompareWithOrg(catalog, *org)
	if len(diffs) != 1 || diffs[0].Kind != schema.DiffMissingInProject || diffs[0].Attribute != "twitterUserName" {
		t.Fatalf("differences = %+v", diffs)
	}
	catalog = append(catalog, schema.Attribute{Name: "twitterUserName", Type: "string", MinLength: ptr(1), MaxLength: ptr(20), Enum: []string{}, Nullable: true})
	if diffs := schema.CompareWithOrg(catalog, *org); len(diffs) != 0 {
		t.Fatalf("an identical attribute differs: %+v", diffs)
	}
	catalog[len(catalog)-1].MinLength = nil
	catalog[len(catalog)-1].Unique = true
	diffs = schema.CompareWithOrg(catalog, *org)
	if len(diffs) != 2 || diffs[0].Kind != schema.DiffMinLength || diffs[0].Project != "" || diffs[0].Org != "1" || diffs[1].Kind != schema.DiffUnique {
		t.Fatalf("differences = %+v", diffs)
	}
	if diffs := schema.CompareWithOrg(nil, schema.OrgSchema{}); diffs == nil || len(diffs) != 0 {
		t.Fatalf("nothing against nothing = %#v, want an empty list", diffs)
	}
}
