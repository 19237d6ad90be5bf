package transform

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
)

// Bounds on a regex_replace beyond the pattern's length. RE2 runs in time
// linear in the input times the program size; capping the program keeps the
// worst case at a fraction of a second on a MaxValueBytes value.
const (
	maxRegexInsts    = 1000
	maxPipelineInsts = 2000 // all regex_replace steps of one pipeline together
	maxRegexGroups   = 20
	maxRegexMatches  = 10000
)

// replacementPart is literal text (group < 0) or a reference to a group.
type replacementPart struct {
	text  string
	group int
}

func compileRegexReplace(s Step, bad badFunc) (stepFunc, *DefinitionError) {
	if s.Pattern == "" {
		return bad("pattern", `"pattern" is empty; give the regular expression to find`)
	}
	if len(s.Pattern) > MaxPatternBytes {
		return bad("pattern", `"pattern" is longer than %d characters`, MaxPatternBytes)
	}
	if len(s.Replacement) > MaxReplacementBytes {
		return bad("replacement", `"replacement" is longer than %d characters`, MaxReplacementBytes)
	}
	re, err := regexp.Compile(s.Pattern)
	if err != nil {
		return bad("pattern", `"pattern" is not a valid regular expression: %s`, regexMessage(err))
	}
	if regexSize(s.Pattern) > maxRegexInsts {
		return bad("pattern", `"pattern" is too complex (large repetition counts such as {500} make it so); simplify it`)
	}
	if re.NumSubexp() > maxRegexGroups {
		return bad("pattern", `"pattern" has more than %d groups in parentheses; use (?:…) for those you do not refer to`, maxRegexGroups)
	}
	parts, msg := parseReplacement(s.Replacement, re)
	if msg != "" {
		return bad("replacement", "%s", msg)
	}
	return func(_ Record, v string) (string, error) {
		matches := re.FindAllStringSubmatchIndex(v, maxRegexMatches+1)
		if len(matches) > maxRegexMatches {
			return "", fmt.Errorf("the pattern matches more than %d times in the value", maxRegexMatches)
		}
		var b limitedBuilder
		last := 0
		for _, m := range matches {
			b.WriteString(v[last:m[0]])
			for _, p := range parts {
				if p.group < 0 {
					b.WriteString(p.text)
				} else if i := 2 * p.group; m[i] >= 0 {
					b.WriteString(v[m[i]:m[i+1]])
				}
			}
			last = m[1]
		}
		b.WriteString(v[last:])
		return b.result()
	}, nil
}

// regexSize is the number of instructions of a pattern's compiled program,
// which its matching time is proportional to; an invalid pattern is
// infinitely large.
func regexSize(pattern string) int {
	parsed, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return math.MaxInt
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return math.MaxInt
	}
	return len(prog.Inst)
}

// regexMessage turns a regexp compile error into plain words.
func regexMessage(err error) string {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	msg := fmt.Sprintf("%s in %s", se.Code, strconv.Quote(truncate(se.Expr, 40)))
	switch se.Code {
	case syntax.ErrInvalidPerlOp, syntax.ErrInvalidEscape:
		msg += " (Go's RE2 syntax has no look-ahead, look-behind or back-references)"
	case syntax.ErrInvalidRepeatSize, syntax.ErrLarge, syntax.ErrNestingDepth:
		msg += "; simplify it"
	}
	return msg
}

// parseReplacement reads a replacement with the syntax of regexp's Expand
// ($1, ${1}, $name, ${name}, $$), but refuses what Expand would silently
// turn into nothing: references to groups the pattern lacks (such as $1x,
// which Expand reads as the group named "1x") and a lone $.
func parseReplacement(repl string, re *regexp.Regexp) ([]replacementPart, string) {
	var parts []replacementPart
	var lit strings.Builder
	for len(repl) > 0 {
		i := strings.IndexByte(repl, '$')
		if i < 0 {
			lit.WriteString(repl)
			break
		}
		lit.WriteString(repl[:i])
		repl = repl[i+1:]
		if strings.HasPrefix(repl, "$") {
			lit.WriteByte('$')
			repl = repl[1:]
			continue
		}
		name, rest, ok := extractGroupName(repl)
		if !ok {
			return nil, `"replacement" has a $ that is not followed by a group such as $1 or ${name}; write $$ for a dollar sign`
		}
		group := groupIndex(re, name)
		if group < 0 {
			hint := ""
			if n := leadingDigits(name); n != "" && n != name {
				hint = fmt.Sprintf("; to follow group %s by text, write ${%s}%s", n, n, strings.TrimPrefix(name, n))
			}
			return nil, fmt.Sprintf(`"replacement" refers to group %s, which the pattern does not have (it has %d)%s`,
				strconv.Quote(truncate(name, 40)), re.NumSubexp(), hint)
		}
		if lit.Len() > 0 {
			parts = append(parts, replacementPart{text: lit.String(), group: -1})
			lit.Reset()
		}
		parts = append(parts, replacementPart{group: group})
		repl = rest
	}
	if lit.Len() > 0 {
		parts = append(parts, replacementPart{text: lit.String(), group: -1})
	}
	return parts, ""
}

// extractGroupName reads the name after a $: a run of letters, digits and
// underscores, or any text in braces.
func extractGroupName(s string) (name, rest string, ok bool) {
	if strings.HasPrefix(s, "{") {
		end := strings.IndexByte(s, '}')
		if end < 2 {
			return "", "", false
		}
		name = s[1:end]
		for _, r := range name {
			if !isNameRune(r) {
				return "", "", false
			}
		}
		return name, s[end+1:], true
	}
	i := 0
	for i < len(s) && isNameRune(rune(s[i])) {
		i++
	}
	if i == 0 {
		return "", "", false
	}
	return s[:i], s[i:], true
}

func isNameRune(r rune) bool {
	return r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
}

// groupIndex resolves a group reference as Expand does, or returns -1.
func groupIndex(re *regexp.Regexp, name string) int {
	if leadingDigits(name) == name {
		if len(name) > 1 && name[0] == '0' {
			return -1
		}
		n, err := strconv.Atoi(name)
		if err != nil || n > re.NumSubexp() {
			return -1
		}
		return n
	}
	return re.SubexpIndex(name)
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return s[:i]
}
