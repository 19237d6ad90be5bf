package schema_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/schema"
)

func TestValidatePatternAcceptsWhatGoAndJavaShare(t *testing.T) {
	for _, p := range []string{
		"", ".+", "[a-z13579\\.]+", "[-a-zA-Z0-9]+", `[a-z0-9._%+-]+@example\.com`, `E[0-9]{4}`, `(?i)[a-z]+`,
		`\p{L}+`, `\p{Lu}\p{Ll}*`, `\p{Greek}+`, `(?<year>[0-9]{4})-[0-9]{2}`, `\Qa.b[c]\E+`, `[\[\]]+`, `[]a]+`, `[^]a]+`,
		`\x{41}`, `a{1000}`, `(?:ab)+|c`, `(?<User>x)`, `^abc$`, `[a-c&]+`, `a\\b`,
	} {
		if err := schema.ValidatePattern(p); err != nil {
			t.Errorf("ValidatePattern(%q) = %v, want it accepted", p, err)
		}
	}
}

func TestValidatePatternExplainsWhatItRefuses(t *testing.T) {
	tests := []struct {
		pattern, want string
	}{
		{"[a-z", "a [ has no closing ]"},
		{"(ab", "a ( has no closing )"},
		{"ab)", "a ) has no opening ("},
		{"*a", "nothing to repeat"},
		{`a\`, "lone backslash"},
		{"[z-a]", "invalid character range"},
		{"(?=a)b", "lookahead"},
		{"(?!a)b", "lookahead"},
		{"(?<=a)b", "lookbehind"},
		{"(?<!a)b", "lookbehind"},
		{"(?>a)", "atomic group"},
		{`(a)\1`, "backreference"},
		{`(?<n>a)\k<n>`, "backreference"},
		{"a++", "possessive quantifier"},
		{"a*+", "possessive quantifier"},
		{"a{2}+", "possessive quantifier"},
		{`\p{javaLowerCase}`, `\p{javaLowerCase}`},
		{`\p{IsAlphabetic}`, "Java-only classes"},
		{`\p{InGreek}`, "Java-only classes"},
		{`\Z`, `escape \Z`},
		{`\h+`, `escape \h`},
		{"(?x) a b", "unsupported group or flag"},
		{"a{1001}", "counts go up to 1000"},
		{"a{3,2}", "minimum may not exceed the maximum"},
		{"[a-z&&[^aeiou]]", "intersection (&&)"},
		{"[a-z&&b]", "intersection (&&)"},
		{"[[:alpha:]]+", "[ inside a character class"},
		{"(?U)a+", "flag U"},
		{"(?P<n>a)", "(?P<name>"},
		{"a\nb", "single line"},
		{"a\x01", "control characters"},
		{"a\xff", "not valid UTF-8"},
		{strings.Repeat("a", schema.MaxPatternLen+1), "too long"},
	}
	for _, tt := range tests {
		err := schema.ValidatePattern(tt.pattern)
		var pe *schema.PatternError
		if !errors.As(err, &pe) {
			t.Errorf("ValidatePattern(%q) = %v, want a PatternError", tt.pattern, err)
			continue
		}
		if !strings.Contains(pe.Phrase, tt.want) || !strings.HasPrefix(err.Error(), "pattern ") {
			t.Errorf("ValidatePattern(%q) = %q, want it to mention %q", tt.pattern, pe.Phrase, tt.want)
		}
	}
}

func TestLoginPatternForm(t *testing.T) {
	for p, want := range map[string]string{
		"":                 schema.LoginFormEmail,
		".+":               schema.LoginFormAny,
		"[a-z13579\\.]+":   schema.LoginFormCharset,
		"[-a-zA-Z0-9]+":    schema.LoginFormCharset,
		"[a-z]":            schema.LoginFormOther,
		"[a-z]+@x\\.com":   schema.LoginFormOther,
		"[a-z]+[0-9]+":     schema.LoginFormOther,
		"[]+":              schema.LoginFormOther,
		"E[0-9]{4}":        schema.LoginFormOther,
		"[a-z][0-9]+":      schema.LoginFormOther,
		"[[:alpha:]]+":     schema.LoginFormOther,
		".*":               schema.LoginFormOther,
		"[a-z.@_-]+":       schema.LoginFormCharset,
		"[\\p{L}0-9._-]+":  schema.LoginFormCharset,
		"[a-z0-9._%+-]+@.": schema.LoginFormOther,
	} {
		if got := schema.LoginPatternForm(p); got != want {
			t.Errorf("LoginPatternForm(%q) = %s, want %s", p, got, want)
		}
	}
}
