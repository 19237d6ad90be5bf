package apperr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// fieldsOf returns the field messages of the error a Check produced, or nil
// when it produced none; it fails the test when the error is of another kind.
func fieldsOf(t *testing.T, c *apperr.Check) map[string]string {
	t.Helper()
	err := c.Err()
	if err == nil {
		if !c.OK() {
			t.Fatalf("Err() is nil but OK() is false")
		}
		return nil
	}
	if c.OK() {
		t.Fatalf("Err() = %v but OK() is true", err)
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("Err() = %T %v, want *apperr.Error", err, err)
	}
	if ae.Code != apperr.CodeInvalid {
		t.Fatalf("code = %q, want %q", ae.Code, apperr.CodeInvalid)
	}
	if ae.Message == "" {
		t.Fatalf("invalid error has no message")
	}
	return ae.Fields
}

func TestCheckText(t *testing.T) {
	tests := []struct {
		name     string
		value    string
		required bool
		max      int
		want     string // substring of the field message; "" means accepted
	}{
		{"empty optional text is accepted", "", false, 10, ""},
		{"empty required text is refused", "", true, 10, "Notes is required."},
		{"blank required text is refused", " \t\n ", true, 10, "Notes is required."},
		{"plain text is accepted", "hello", true, 10, ""},
		{"text at the cap is accepted", strings.Repeat("a", 10), true, 10, ""},
		{"text one over the cap is refused with both numbers", strings.Repeat("a", 11), true, 10, "at most 10 characters, this has 11"},
		{"cap counts characters not bytes", strings.Repeat("é", 10), true, 10, ""},
		{"multi-byte text over the cap is refused", strings.Repeat("日", 11), true, 10, "this has 11"},
		{"invalid UTF-8 is refused", "ab\xffcd", false, 10, "not valid UTF-8"},
		{"truncated UTF-8 sequence is refused", "\xe6\x97", true, 10, "not valid UTF-8"},
		{"NUL byte is refused", "a\x00b", false, 10, "control characters"},
		{"escape character is refused", "a\x1b[31mb", false, 20, "control characters"},
		{"bell is refused", "ding\a", false, 10, "control characters"},
		{"DEL is refused", "a\x7fb", false, 10, "control characters"},
		{"C1 control NEL is refused", "a\u0085b", false, 10, "control characters"},
		{"newlines and tabs are accepted", "a\nb\r\nc\td", false, 10, ""},
		{"HTML and script are accepted as data", `<script>alert("x")</script><b onmouseover=x>`, true, 100, ""},
		{"SQL-looking text is accepted as data", `Robert'); DROP TABLE accounts;--`, true, 100, ""},
		{"emoji are accepted", "team 🚀", true, 10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := apperr.NewCheck()
			c.Text("notes", "Notes", tt.value, tt.required, tt.max)
			fields := fieldsOf(t, c)
			got := fields["notes"]
			if tt.want == "" {
				if fields != nil {
					t.Fatalf("refused with %v, want accepted", fields)
				}
				return
			}
			if !strings.Contains(got, tt.want) {
				t.Fatalf("message = %q, want it to contain %q", got, tt.want)
			}
			if len(fields) != 1 {
				t.Fatalf("fields = %v, want only notes", fields)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	long := strings.Repeat("n", apperr.MaxNameLen)
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{"a short name is accepted", "Employees", ""},
		{"a name at the cap is accepted", long, ""},
		{"a name over the cap is refused", long + "n", fmt.Sprintf("at most %d characters", apperr.MaxNameLen)},
		{"an empty name is required", "", "Name is required."},
		{"a name of spaces is required", "   ", "Name is required."},
		{"a name with a newline must be a single line", "first\nsecond", "must be a single line"},
		{"a name with a carriage return must be a single line", "first\rsecond", "must be a single line"},
		{"a name with a tab is accepted", "first\tsecond", ""},
		{"a name with a control character is refused", "a\x01b", "control characters"},
		{"a name in invalid UTF-8 is refused", "\xc3\x28", "not valid UTF-8"},
		{"a name with markup is data", "<img src=x onerror=alert(1)>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := apperr.NewCheck()
			c.Name("name", "Name", tt.value)
			fields := fieldsOf(t, c)
			if tt.want == "" {
				if fields != nil {
					t.Fatalf("refused with %v", fields)
				}
				return
			}
			if !strings.Contains(fields["name"], tt.want) {
				t.Fatalf("message = %q, want it to contain %q", fields["name"], tt.want)
			}
		})
	}
}

func TestCheckCount(t *testing.T) {
	tests := []struct {
		name  string
		value int64
		want  string
	}{
		{"zero is accepted", 0, ""},
		{"a plausible count is accepted", 999, ""},
		{"the maximum is accepted", 1000, ""},
		{"one over the maximum is refused", 1001, "1001 is more than the 1000 allowed"},
		{"a negative count is refused", -1, "cannot be negative"},
		{"the smallest int64 is refused", -1 << 63, "cannot be negative"},
		{"the largest int64 is refused", 1<<63 - 1, "more than the 1000 allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := apperr.NewCheck()
			c.Count("user_count", "Number of users", tt.value, 1000)
			fields := fieldsOf(t, c)
			if tt.want == "" {
				if fields != nil {
					t.Fatalf("refused with %v", fields)
				}
				return
			}
			if !strings.Contains(fields["user_count"], tt.want) || !strings.HasPrefix(fields["user_count"], "Number of users") {
				t.Fatalf("message = %q, want the label and %q", fields["user_count"], tt.want)
			}
		})
	}
}

func TestCheckOneOf(t *testing.T) {
	allowed := []string{"saml", "oidc"}
	tests := []struct {
		name     string
		value    string
		optional bool
		refused  bool
	}{
		{"an allowed value is accepted", "oidc", false, false},
		{"an unknown value is refused", "kerberos", false, true},
		{"values are case-sensitive", "SAML", false, true},
		{"empty is refused when required", "", false, true},
		{"empty is accepted when optional", "", true, false},
		{"an unknown value is refused even when optional", "x", true, true},
		{"markup is refused", "<script>", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := apperr.NewCheck()
			c.OneOf("access_method", "Access method", tt.value, allowed, tt.optional)
			fields := fieldsOf(t, c)
			if !tt.refused {
				if fields != nil {
					t.Fatalf("refused with %v", fields)
				}
				return
			}
			if want := "Access method must be one of: saml, oidc."; fields["access_method"] != want {
				t.Fatalf("message = %q, want %q", fields["access_method"], want)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  string
	}{
		{"empty is accepted (the field is optional)", "", ""},
		{"an https URL is accepted", "https://example.okta.com", ""},
		{"an http URL is accepted", "http://localhost:8080/path?q=1", ""},
		{"a bare host is refused", "example.okta.com", "full web address"},
		{"a javascript URL is refused", "javascript:alert(1)", "full web address"},
		{"a data URL is refused", "data:text/html,<script>alert(1)</script>", "full web address"},
		{"an ftp URL is refused", "ftp://example.com", "full web address"},
		{"a scheme without host is refused", "https://", "full web address"},
		{"a URL with a space in the host is refused", "https://exa mple.com", "full web address"},
		{"a relative path is refused", "/admin", "full web address"},
		{"an overlong URL is refused", "https://example.com/" + strings.Repeat("a", apperr.MaxShortLen), "too long"},
		{"a URL with a control character is refused", "https://example.com/\x01", "control characters"},
		{"a URL in invalid UTF-8 is refused", "https://example.com/\xff", "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := apperr.NewCheck()
			c.URL("okta_org_url", "Okta org URL", tt.value)
			fields := fieldsOf(t, c)
			if tt.want == "" {
				if fields != nil {
					t.Fatalf("refused with %v", fields)
				}
				return
			}
			if !strings.Contains(fields["okta_org_url"], tt.want) {
				t.Fatalf("message = %q, want it to contain %q", fields["okta_org_url"], tt.want)
			}
		})
	}
}

func TestCheckKeepsTheFirstMessagePerFieldAndEveryField(t *testing.T) {
	c := apperr.NewCheck()
	if !c.OK() || c.Err() != nil {
		t.Fatalf("a new check is not OK")
	}
	c.Add("name", "first")
	c.Add("name", "second")
	c.Text("notes", "Notes", "", true, 10)
	fields := fieldsOf(t, c)
	if fields["name"] != "first" {
		t.Fatalf("name = %q, want the first message", fields["name"])
	}
	if fields["notes"] != "Notes is required." {
		t.Fatalf("notes = %q", fields["notes"])
	}
	if len(fields) != 2 {
		t.Fatalf("fields = %v, want two", fields)
	}
}

func TestErrorHelpers(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name    string
		err     error
		code    apperr.Code
		message string
	}{
		{"invalid", apperr.Invalid("Fix it.", nil), apperr.CodeInvalid, "Fix it."},
		{"not found names the record", apperr.NotFound("source"), apperr.CodeNotFound, "source not found"},
		{"conflict", apperr.Conflict("Taken."), apperr.CodeConflict, "Taken."},
		{"forbidden", apperr.Forbidden("No."), apperr.CodeForbidden, "No."},
		{"unauthorized", apperr.Unauthorized("Sign in."), apperr.CodeUnauthorized, "Sign in."},
		{"internal hides the cause from the message", apperr.Internal(cause), apperr.CodeInternal, "Something went wrong"},
		{"a foreign error is internal", cause, apperr.CodeInternal, "Something went wrong"},
		{"a wrapped application error keeps its code", fmt.Errorf("context: %w", apperr.NotFound("project")), apperr.CodeNotFound, "project not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := apperr.CodeOf(tt.err); got != tt.code {
				t.Fatalf("CodeOf = %q, want %q", got, tt.code)
			}
			if !apperr.Is(tt.err, tt.code) && tt.err != cause {
				t.Fatalf("Is(%q) = false", tt.code)
			}
			if got := apperr.As(tt.err).Message; got != tt.message {
				t.Fatalf("message = %q, want %q", got, tt.message)
			}
		})
	}
	if apperr.Is(cause, apperr.CodeInternal) {
		t.Errorf("Is reports a foreign error as an application error")
	}
	if apperr.CodeOf(nil) != "" {
		t.Errorf("CodeOf(nil) = %q, want empty", apperr.CodeOf(nil))
	}
	internal := apperr.Internal(cause)
	if !errors.Is(internal, cause) {
		t.Errorf("Internal does not unwrap to its cause")
	}
	if !strings.Contains(internal.Error(), "disk on fire") {
		t.Errorf("Error() = %q, want the cause for logs", internal.Error())
	}
	vc := apperr.VersionConflict("source", 7, []apperr.FieldChange{{Field: "name"}})
	if vc.Code != apperr.CodeConflict || vc.CurrentVersion != 7 || len(vc.Changes) != 1 || !strings.Contains(vc.Message, "source") {
		t.Errorf("VersionConflict = %+v", vc)
	}
	inv := apperr.Invalid("x", map[string]string{"b": "1", "a": "2", "c": "3"})
	if got := strings.Join(inv.SortedFields(), ","); got != "a,b,c" {
		t.Errorf("SortedFields = %q", got)
	}
}
