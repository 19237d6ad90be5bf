package transform

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// maxSplitIndex bounds a split's index.
const maxSplitIndex = 1000

// compileStep checks one step's parameters and returns the function that
// runs it; n is the step's 1-based number for messages.
func compileStep(s Step, n int) (stepFunc, *DefinitionError) {
	bad := func(param, format string, args ...any) (stepFunc, *DefinitionError) {
		return nil, &DefinitionError{Step: n, Op: s.Op, Param: param, Message: fmt.Sprintf(format, args...)}
	}
	specs, ok := paramsOf(s.Op)
	if !ok {
		if s.Op == "" {
			return nil, &DefinitionError{Step: n, Param: "op", Message: `has no "op": say which operation it is, such as "trim"`}
		}
		return nil, &DefinitionError{Step: n, Param: "op", Message: fmt.Sprintf("%q is not an operation; the operations are %s", truncate(string(s.Op), 40), opList())}
	}
	// A parameter of another op would be silently dropped when the step is
	// saved: refuse it, as Parse does.
	for _, spec := range allSpecs() {
		if _, set := paramValue(s, spec.name); set {
			if _, mine := findSpec(specs, spec.name); !mine {
				return bad(spec.name, "%q is not a parameter of %s", spec.name, s.Op)
			}
		}
	}
	switch s.Op {
	case OpTrim:
		return func(_ Record, v string) (string, error) { return trimSpace(v), nil }, nil
	case OpLower:
		return func(_ Record, v string) (string, error) { return lower(v), nil }, nil
	case OpUpper:
		return func(_ Record, v string) (string, error) { return upper(v), nil }, nil
	case OpTitle:
		return func(_ Record, v string) (string, error) { return cases.Title(language.Und).String(v), nil }, nil
	case OpConcat:
		return compileConcat(s, bad)
	case OpTemplate:
		if s.Template == "" {
			return bad("template", `"template" is empty; write the text to produce, such as "{givenName}.{sn}@example.com"`)
		}
		parts, msg := parseTemplate(s.Template)
		if msg != "" {
			return bad("template", "%s", msg)
		}
		return func(rec Record, v string) (string, error) { return runTemplate(parts, rec, v) }, nil
	case OpSplit:
		if s.Separator == "" {
			return bad("separator", `"separator" must not be empty`)
		}
		if s.Index < -maxSplitIndex || s.Index > maxSplitIndex {
			return bad("index", `"index" must be between %d and %d (0 takes the first part, -1 the last)`, -maxSplitIndex, maxSplitIndex)
		}
		sep, idx := s.Separator, s.Index
		return func(_ Record, v string) (string, error) { return splitPart(v, sep, idx), nil }, nil
	case OpRegexReplace:
		return compileRegexReplace(s, bad)
	case OpDefault:
		if s.Value == "" {
			return bad("value", `"value" is empty, so the step would change nothing`)
		}
		if len(s.Value) > MaxValueBytes {
			return bad("value", `"value" is longer than %d KiB`, MaxValueBytes>>10)
		}
		def := s.Value
		return func(_ Record, v string) (string, error) {
			if trimSpace(v) == "" {
				return def, nil
			}
			return v, nil
		}, nil
	case OpLookup:
		return compileLookup(s, bad)
	case OpDate:
		return compileDate(s, bad)
	case OpPhoneE164:
		return compilePhone(s, bad)
	case OpCountryAlpha2:
		return func(_ Record, v string) (string, error) { return countryAlpha2(v) }, nil
	case OpEmailDomain:
		return compileEmailDomain(s, bad)
	}
	return bad("op", "%q is not an operation", s.Op)
}

type badFunc func(param, format string, args ...any) (stepFunc, *DefinitionError)

// trimSpace removes white space, including the invisible zero-width space
// and byte-order mark that copy and paste leaves behind.
func trimSpace(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
	})
}

// stepFields returns the record fields a step reads, other than the value.
func stepFields(s Step) []string {
	var out []string
	switch s.Op {
	case OpConcat:
		for _, f := range s.Fields {
			if f != ValueParam {
				out = append(out, f)
			}
		}
	case OpTemplate:
		parts, _ := parseTemplate(s.Template)
		for _, p := range parts {
			if p.field && p.text != ValueParam {
				out = append(out, p.text)
			}
		}
	}
	return out
}

func compileConcat(s Step, bad badFunc) (stepFunc, *DefinitionError) {
	if len(s.Fields) == 0 {
		return bad("fields", `"fields" must list at least one field`)
	}
	if len(s.Fields) > MaxFieldRefs {
		return bad("fields", `"fields" lists more than %d fields`, MaxFieldRefs)
	}
	for _, f := range s.Fields {
		if trimSpace(f) == "" {
			return bad("fields", `"fields" has an empty field name`)
		}
	}
	fields := append([]string(nil), s.Fields...)
	sep, skip := s.Separator, s.SkipEmpty
	return func(rec Record, v string) (string, error) {
		var b limitedBuilder
		first := true
		for _, f := range fields {
			x := v
			if f != ValueParam {
				var err error
				if x, err = readField(rec, f); err != nil {
					return "", err
				}
			}
			if skip && trimSpace(x) == "" {
				continue
			}
			if !first {
				b.WriteString(sep)
			}
			first = false
			b.WriteString(x)
		}
		return b.result()
	}, nil
}

// templatePart is literal text or a placeholder's field name.
type templatePart struct {
	text  string
	field bool
}

// parseTemplate splits a template into literal text and placeholders, or
// returns a message saying what is wrong with it.
func parseTemplate(t string) ([]templatePart, string) {
	var parts []templatePart
	var lit strings.Builder
	fields := 0
	for i := 0; i < len(t); {
		switch t[i] {
		case '{':
			if strings.HasPrefix(t[i:], "{{") {
				lit.WriteByte('{')
				i += 2
				continue
			}
			end := strings.IndexAny(t[i+1:], "{}")
			if end < 0 || t[i+1+end] == '{' {
				return nil, `"template" has a { that is not closed; write {{ for a literal brace`
			}
			name := t[i+1 : i+1+end]
			if name == "" {
				return nil, `"template" has an empty placeholder {}; write {{}} for literal braces`
			}
			if fields++; fields > MaxFieldRefs {
				return nil, fmt.Sprintf(`"template" has more than %d placeholders`, MaxFieldRefs)
			}
			if lit.Len() > 0 {
				parts = append(parts, templatePart{text: lit.String()})
				lit.Reset()
			}
			parts = append(parts, templatePart{text: name, field: true})
			i += end + 2
		case '}':
			if strings.HasPrefix(t[i:], "}}") {
				lit.WriteByte('}')
				i += 2
				continue
			}
			return nil, `"template" has a } without its {; write }} for a literal brace`
		default:
			lit.WriteByte(t[i])
			i++
		}
	}
	if lit.Len() > 0 {
		parts = append(parts, templatePart{text: lit.String()})
	}
	return parts, ""
}

func runTemplate(parts []templatePart, rec Record, v string) (string, error) {
	var b limitedBuilder
	for _, p := range parts {
		switch {
		case !p.field:
			b.WriteString(p.text)
		case p.text == ValueParam:
			b.WriteString(v)
		default:
			x, err := readField(rec, p.text)
			if err != nil {
				return "", err
			}
			b.WriteString(x)
		}
	}
	return b.result()
}

// splitPart returns part idx of v split at sep (negative from the end), or
// "" when there is no such part.
func splitPart(v, sep string, idx int) string {
	if idx >= 0 {
		for range idx {
			i := strings.Index(v, sep)
			if i < 0 {
				return ""
			}
			v = v[i+len(sep):]
		}
		if i := strings.Index(v, sep); i >= 0 {
			return v[:i]
		}
		return v
	}
	for range -idx - 1 {
		i := strings.LastIndex(v, sep)
		if i < 0 {
			return ""
		}
		v = v[:i]
	}
	if i := strings.LastIndex(v, sep); i >= 0 {
		return v[i+len(sep):]
	}
	return v
}

func compileLookup(s Step, bad badFunc) (stepFunc, *DefinitionError) {
	if len(s.Table) == 0 {
		return bad("table", `"table" has no entries; add at least one, such as {"FIN":"Finance"}`)
	}
	if len(s.Table) > MaxLookupEntries {
		return bad("table", `"table" has more than %d entries`, MaxLookupEntries)
	}
	switch s.Fallback {
	case FallbackKeep, FallbackEmpty, FallbackError:
	case "":
		return bad("fallback", `"fallback" is missing: say what to do with a value not in the table: keep, empty or error`)
	default:
		return bad("fallback", `"fallback" must be keep, empty or error, not %q`, truncate(string(s.Fallback), 40))
	}
	table := make(map[string]string, len(s.Table))
	ci := s.CaseInsensitive
	if ci {
		fold := cases.Fold()
		firstKey := map[string]string{}
		for k, v := range s.Table {
			fk := fold.String(k)
			if prev, dup := table[fk]; dup && prev != v {
				a, b := firstKey[fk], k
				if a > b {
					a, b = b, a
				}
				return bad("table", `"table" has %q and %q, which are the same when case is ignored but map to different values`, truncate(a, 40), truncate(b, 40))
			}
			table[fk] = v
			firstKey[fk] = k
		}
	} else {
		for k, v := range s.Table {
			table[k] = v
		}
	}
	fallback := s.Fallback
	return func(_ Record, v string) (string, error) {
		key := v
		if ci {
			key = cases.Fold().String(v)
		}
		if out, ok := table[key]; ok {
			return out, nil
		}
		if v == "" {
			return "", nil
		}
		switch fallback {
		case FallbackEmpty:
			return "", nil
		case FallbackError:
			return "", errors.New("the value is not in the lookup table")
		}
		return v, nil
	}, nil
}

func compileEmailDomain(s Step, bad badFunc) (stepFunc, *DefinitionError) {
	if msg := checkDomain(s.From); msg != "" {
		return bad("from", `"from" %s`, msg)
	}
	if msg := checkDomain(s.To); msg != "" {
		return bad("to", `"to" %s`, msg)
	}
	if strings.EqualFold(s.From, s.To) {
		return bad("to", `"to" is the same domain as "from", so nothing would change`)
	}
	from, to := s.From, s.To
	return func(_ Record, v string) (string, error) {
		at := strings.LastIndexByte(v, '@')
		if at <= 0 {
			return v, nil
		}
		domain := v[at+1:]
		if strings.EqualFold(domain, from) || strings.EqualFold(strings.TrimSuffix(domain, "."), from) {
			return v[:at+1] + to, nil
		}
		return v, nil
	}, nil
}

// checkDomain returns what is wrong with a domain name, or "".
func checkDomain(d string) string {
	const example = "such as example.com"
	switch {
	case d == "":
		return "must be a domain name, " + example
	case strings.Contains(d, "@"):
		return "must be a domain name without @, " + example
	case len(d) > 253:
		return "is longer than 253 characters, the most a domain name may have"
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" {
			return "must be a domain name, " + example + " (it has an empty part between dots)"
		}
		if len(label) > 63 {
			return "has a part longer than 63 characters, the most a domain name allows"
		}
		if strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return "has a part that starts or ends with a hyphen, which a domain name does not allow"
		}
		for _, r := range label {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && !unicode.Is(unicode.Mn, r) {
				return fmt.Sprintf("must be a domain name, %s (it contains %q)", example, r)
			}
		}
	}
	return ""
}

// lower and upper change case as Unicode says; ASCII text, the usual case,
// takes the standard library's path, which gives the same result for it
// without building a Caser per value (a Caser is not safe to share).
func lower(v string) string {
	if isASCII(v) {
		return strings.ToLower(v)
	}
	return cases.Lower(language.Und).String(v)
}

func upper(v string) string {
	if isASCII(v) {
		return strings.ToUpper(v)
	}
	return cases.Upper(language.Und).String(v)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
