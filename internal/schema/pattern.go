package schema

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// MaxPatternLen caps a pattern's length in characters.
const MaxPatternLen = apperr.MaxShortLen

// PatternError says why a regular expression cannot be used. Phrase completes
// a sentence that starts with the field's label ("Login pattern …").
type PatternError struct {
	Phrase string
}

func (e *PatternError) Error() string { return "pattern " + e.Phrase }

// ValidatePattern checks a pattern for Okta's schema. Okta evaluates patterns
// as Java regular expressions; Ferry checks values with Go's regexp, so it
// accepts the patterns Go parses and that mean the same to Java, and refuses
// the rest with a message that names the construct: Java-only features Go
// cannot parse (lookaround, backreferences, possessive quantifiers, atomic
// groups, Java's \p classes) and the few that Go parses but Java reads
// differently (nested classes and POSIX [:alpha:], && intersections, (?U),
// (?P<name>…)). The empty pattern means "no pattern" and is valid.
func ValidatePattern(p string) error {
	if p == "" {
		return nil
	}
	if !utf8.ValidString(p) {
		return &PatternError{"is not valid UTF-8 text"}
	}
	if n := utf8.RuneCountInString(p); n > MaxPatternLen {
		return &PatternError{fmt.Sprintf("is too long: at most %d characters, this has %d", MaxPatternLen, n)}
	}
	if strings.ContainsAny(p, "\r\n") {
		return &PatternError{"must be a single line"}
	}
	if hasControl(p) {
		return &PatternError{"contains control characters"}
	}
	if _, err := syntax.Parse(p, syntax.Perl); err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return &PatternError{explainSyntax(se)}
		}
		return &PatternError{"is not a valid regular expression"}
	}
	if phrase := javaDivergence(p); phrase != "" {
		return &PatternError{phrase}
	}
	return nil
}

// compileFull compiles a valid pattern so that it must match the whole value,
// as Java's String.matches does.
func compileFull(p string) (*regexp.Regexp, error) {
	if err := ValidatePattern(p); err != nil {
		return nil, err
	}
	return regexp.Compile(`^(?:` + p + `)$`)
}

func explainSyntax(se *syntax.Error) string {
	expr := se.Expr
	switch se.Code {
	case syntax.ErrInvalidPerlOp:
		switch {
		case strings.HasPrefix(expr, "(?=") || strings.HasPrefix(expr, "(?!"):
			return "uses lookahead ((?=…) or (?!…)), a Java feature Ferry cannot check; rewrite it without lookaround"
		case strings.HasPrefix(expr, "(?>"):
			return "uses an atomic group ((?>…)), a Java feature Ferry cannot check; use an ordinary group (?:…)"
		}
		return fmt.Sprintf("uses an unsupported group or flag %q; the flags Ferry accepts are i, m and s", expr)
	case syntax.ErrInvalidNamedCapture:
		if strings.HasPrefix(expr, "(?<=") || strings.HasPrefix(expr, "(?<!") {
			return "uses lookbehind ((?<=…) or (?<!…)), a Java feature Ferry cannot check; rewrite it without lookaround"
		}
		return fmt.Sprintf("has an invalid group name in %q", expr)
	case syntax.ErrInvalidEscape:
		if len(expr) == 2 && (expr[1] >= '1' && expr[1] <= '9' || expr[1] == 'k') {
			return fmt.Sprintf("uses a backreference (%s), a Java feature Ferry cannot check", expr)
		}
		return fmt.Sprintf("uses the escape %s, which Ferry does not support (write the character itself, or \\x{…} for a code point)", expr)
	case syntax.ErrInvalidRepeatOp:
		if strings.HasSuffix(expr, "+") {
			return fmt.Sprintf("uses a possessive quantifier (%s), a Java feature Ferry cannot check; drop the second +", expr)
		}
		return fmt.Sprintf("is not a valid regular expression: %s %q", se.Code, expr)
	case syntax.ErrInvalidRepeatSize:
		return fmt.Sprintf("has an invalid repetition count %s: counts go up to 1000 and the minimum may not exceed the maximum", expr)
	case syntax.ErrInvalidCharRange:
		if strings.HasPrefix(expr, `\p`) || strings.HasPrefix(expr, `\P`) {
			return fmt.Sprintf("uses the character class %s, which Ferry does not know (Java-only classes such as \\p{javaLowerCase}, \\p{IsAlphabetic} or \\p{InGreek} are not supported; use \\p{L}, \\p{Lu}, \\p{Greek}…)", expr)
		}
		return fmt.Sprintf("has an invalid character range %q: the first character must not come after the second", expr)
	case syntax.ErrMissingBracket:
		return fmt.Sprintf("is not a valid regular expression: a [ has no closing ] in %q", expr)
	case syntax.ErrMissingParen:
		return fmt.Sprintf("is not a valid regular expression: a ( has no closing ) in %q", expr)
	case syntax.ErrUnexpectedParen:
		return fmt.Sprintf("is not a valid regular expression: a ) has no opening ( in %q", expr)
	case syntax.ErrMissingRepeatArgument:
		return fmt.Sprintf("is not a valid regular expression: %s has nothing to repeat", expr)
	case syntax.ErrTrailingBackslash:
		return "is not a valid regular expression: it ends with a lone backslash"
	}
	if expr == "" {
		return fmt.Sprintf("is not a valid regular expression: %s", se.Code)
	}
	return fmt.Sprintf("is not a valid regular expression: %s in %q", se.Code, expr)
}

// javaDivergence finds constructs that Go parses but Java reads differently,
// in a pattern Go accepted.
func javaDivergence(p string) string {
	inClass := false
	classStart := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if strings.HasPrefix(p[i:], `\Q`) {
				end := strings.Index(p[i+2:], `\E`)
				if end < 0 {
					return ""
				}
				i += 2 + end + 1
				continue
			}
			i++ // the escaped character is literal
		case inClass:
			switch {
			case c == ']' && i > classStart:
				inClass = false
			case c == '[':
				return "has a [ inside a character class (a nested class, or POSIX [:alpha:]), which Java reads differently; escape it as \\["
			case c == '&' && i+1 < len(p) && p[i+1] == '&':
				return "uses a character-class intersection (&&), a Java feature Ferry cannot check"
			}
		case c == '[':
			inClass = true
			classStart = i + 1
			if strings.HasPrefix(p[classStart:], "^") {
				classStart++
			}
		case c == '(' && strings.HasPrefix(p[i:], "(?P<"):
			return "uses (?P<name>…), which Java does not accept; write (?<name>…)"
		case c == '(' && strings.HasPrefix(p[i:], "(?"):
			flags := p[i+2:]
			end := strings.IndexAny(flags, ":)")
			if end >= 0 && strings.Trim(flags[:end], "imsU-") == "" && strings.ContainsRune(flags[:end], 'U') {
				return "uses the flag U, which means ungreedy to Go but Unicode classes to Java"
			}
		}
	}
	return ""
}
