package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// paramKind is the JSON type of a step parameter.
type paramKind int

const (
	kindString paramKind = iota
	kindBool
	kindInt
	kindStringList
	kindTable
)

// paramSpec describes one parameter of an op.
type paramSpec struct {
	name     string
	kind     paramKind
	required bool
	// hint completes the message when the parameter is missing.
	hint string
}

// paramsOf returns the parameters of op in the order they are written, and
// whether op exists.
func paramsOf(op Op) ([]paramSpec, bool) {
	switch op {
	case OpTrim, OpLower, OpUpper, OpTitle, OpCountryAlpha2:
		return nil, true
	case OpConcat:
		return []paramSpec{
			{name: "fields", kind: kindStringList, required: true, hint: `list the fields to join, such as ["givenName","sn"]`},
			{name: "separator", kind: kindString, required: true, hint: `give "" to join the fields without one`},
			{name: "skipEmpty", kind: kindBool},
		}, true
	case OpTemplate:
		return []paramSpec{{name: "template", kind: kindString, required: true, hint: `such as "{givenName}.{sn}@example.com"`}}, true
	case OpSplit:
		return []paramSpec{
			{name: "separator", kind: kindString, required: true, hint: `such as ";"`},
			{name: "index", kind: kindInt, required: true, hint: "0 takes the first part, -1 the last"},
		}, true
	case OpRegexReplace:
		return []paramSpec{
			{name: "pattern", kind: kindString, required: true, hint: "give the regular expression to find"},
			{name: "replacement", kind: kindString, required: true, hint: `give "" to delete what the pattern finds`},
		}, true
	case OpDefault:
		return []paramSpec{{name: "value", kind: kindString, required: true, hint: "give the value to use when the field is empty"}}, true
	case OpLookup:
		return []paramSpec{
			{name: "table", kind: kindTable, required: true, hint: `such as {"FIN":"Finance"}`},
			{name: "fallback", kind: kindString, required: true, hint: "say what to do with a value not in the table: keep, empty or error"},
			{name: "caseInsensitive", kind: kindBool},
		}, true
	case OpDate:
		return []paramSpec{
			{name: "from", kind: kindString, required: true, hint: "give the layout of the source dates, such as dd/mm/yyyy"},
			{name: "to", kind: kindString, required: true, hint: "give the layout to write, such as yyyy-mm-dd"},
		}, true
	case OpPhoneE164:
		return []paramSpec{{name: "defaultRegion", kind: kindString}}, true
	case OpEmailDomain:
		return []paramSpec{
			{name: "from", kind: kindString, required: true, hint: "give the domain to rewrite, such as old.example.com"},
			{name: "to", kind: kindString, required: true, hint: "give the new domain, such as new.example.com"},
		}, true
	}
	return nil, false
}

// Parse reads a pipeline from its JSON definition, strictly: unknown ops and
// parameters, missing or duplicate parameters, values of the wrong type, more
// than MaxSteps steps, definitions larger than MaxDefinitionBytes and invalid
// parameter values are all refused with a *DefinitionError. Empty input and
// JSON null are the empty pipeline. Parse does not check that the fields a
// step reads exist: Validate does, given the fields that do.
func Parse(data []byte) (Pipeline, error) {
	if len(data) > MaxDefinitionBytes {
		return nil, &DefinitionError{Message: fmt.Sprintf("the transformation is larger than %d KiB", MaxDefinitionBytes>>10)}
	}
	if !utf8.Valid(data) {
		return nil, &DefinitionError{Message: "the transformation is not valid UTF-8 text"}
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, &DefinitionError{Message: `the transformation must be a JSON list of steps, such as [{"op":"trim"}]`}
	}
	p := Pipeline{}
	for dec.More() {
		if len(p) == MaxSteps {
			return nil, &DefinitionError{Message: fmt.Sprintf("the transformation has more than %d steps", MaxSteps)}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonError(err)
		}
		s, derr := decodeStep(raw, len(p)+1)
		if derr != nil {
			return nil, derr
		}
		p = append(p, s)
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &DefinitionError{Message: "the transformation has text after its list of steps"}
	}
	if err := p.check(nil); err != nil {
		return nil, err
	}
	return p, nil
}

func jsonError(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &DefinitionError{Message: fmt.Sprintf("the transformation is not valid JSON: %s (at character %d)", se.Error(), se.Offset)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &DefinitionError{Message: "the transformation is not valid JSON: it ends too early"}
	}
	return &DefinitionError{Message: "the transformation is not valid JSON: " + err.Error()}
}

// member is one key and value of a JSON object, in the order written.
type member struct {
	key   string
	value json.RawMessage
}

// errDuplicateKey carries the key written twice.
type errDuplicateKey string

func (e errDuplicateKey) Error() string { return fmt.Sprintf("has the key %q twice", string(e)) }

var errNotObject = errors.New("not a JSON object")

// objectMembers reads a JSON object's members in order, refusing duplicate
// keys (which encoding/json would silently let the last one win).
func objectMembers(raw []byte, limit int) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errNotObject
	}
	var out []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errNotObject
		}
		if seen[key] {
			return nil, errDuplicateKey(key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{key: key, value: v})
		if limit > 0 && len(out) > limit {
			return out, nil
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeStep reads one step strictly; n is its 1-based number (0 when unknown).
func decodeStep(raw []byte, n int) (Step, *DefinitionError) {
	fail := func(op Op, param, format string, args ...any) (Step, *DefinitionError) {
		return Step{}, &DefinitionError{Step: n, Op: op, Param: param, Message: fmt.Sprintf(format, args...)}
	}
	members, err := objectMembers(raw, 0)
	if err != nil {
		var dup errDuplicateKey
		if errors.As(err, &dup) {
			return fail("", string(dup), "%s", dup.Error())
		}
		return fail("", "", `must be an object such as {"op":"trim"}`)
	}
	var op Op
	found := false
	for _, m := range members {
		if m.key != "op" {
			continue
		}
		var s string
		if isNull(m.value) || json.Unmarshal(m.value, &s) != nil {
			return fail("", "op", `"op" must be the name of an operation, such as "trim"`)
		}
		op, found = Op(s), true
	}
	if !found {
		return fail("", "op", `has no "op": say which operation it is, such as "trim"`)
	}
	specs, ok := paramsOf(op)
	if !ok {
		msg := fmt.Sprintf("%q is not an operation; the operations are %s", truncate(string(op), 40), opList())
		if s := suggest(string(op), opNames()); s != "" {
			msg = fmt.Sprintf("%q is not an operation (did you mean %q?)", truncate(string(op), 40), s)
		}
		return Step{}, &DefinitionError{Step: n, Param: "op", Message: msg}
	}
	s := Step{Op: op}
	given := map[string]bool{}
	for _, m := range members {
		if m.key == "op" {
			continue
		}
		spec, ok := findSpec(specs, m.key)
		if !ok {
			if len(specs) == 0 {
				return fail(op, m.key, "%q is not a parameter of %s, which takes none", truncate(m.key, 40), op)
			}
			return fail(op, m.key, "%q is not a parameter of %s; its parameters are %s", truncate(m.key, 40), op, specNames(specs))
		}
		given[m.key] = true
		if derr := setParam(&s, spec, m.value); derr != nil {
			derr.Step = n
			return Step{}, derr
		}
	}
	for _, spec := range specs {
		if spec.required && !given[spec.name] {
			return fail(op, spec.name, "%q is missing: %s", spec.name, spec.hint)
		}
	}
	return s, nil
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

func findSpec(specs []paramSpec, name string) (paramSpec, bool) {
	for _, s := range specs {
		if s.name == name {
			return s, true
		}
	}
	return paramSpec{}, false
}

func specNames(specs []paramSpec) string {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = strconv.Quote(s.name)
	}
	return strings.Join(names, ", ")
}

func opNames() []string {
	var out []string
	for _, op := range Ops() {
		out = append(out, string(op))
	}
	return out
}

func opList() string { return strings.Join(opNames(), ", ") }

// setParam decodes one parameter value into s.
func setParam(s *Step, spec paramSpec, raw json.RawMessage) *DefinitionError {
	bad := func(format string, args ...any) *DefinitionError {
		return &DefinitionError{Op: s.Op, Param: spec.name, Message: fmt.Sprintf(format, args...)}
	}
	null := isNull(raw)
	switch spec.kind {
	case kindString:
		var v string
		if null || json.Unmarshal(raw, &v) != nil {
			return bad("%q must be a string", spec.name)
		}
		switch spec.name {
		case "separator":
			s.Separator = v
		case "template":
			s.Template = v
		case "pattern":
			s.Pattern = v
		case "replacement":
			s.Replacement = v
		case "value":
			s.Value = v
		case "fallback":
			s.Fallback = Fallback(v)
		case "from":
			s.From = v
		case "to":
			s.To = v
		case "defaultRegion":
			s.DefaultRegion = v
		}
	case kindBool:
		var v bool
		if null || json.Unmarshal(raw, &v) != nil {
			return bad("%q must be true or false", spec.name)
		}
		switch spec.name {
		case "skipEmpty":
			s.SkipEmpty = v
		case "caseInsensitive":
			s.CaseInsensitive = v
		}
	case kindInt:
		var num json.Number
		trimmed := bytes.TrimSpace(raw)
		if null || len(trimmed) == 0 || trimmed[0] == '"' || json.Unmarshal(raw, &num) != nil {
			return bad("%q must be a whole number (%s)", spec.name, spec.hint)
		}
		v, err := strconv.ParseInt(num.String(), 10, 32)
		if err != nil || v < -maxSplitIndex || v > maxSplitIndex {
			return bad("%q must be a whole number between %d and %d (%s)", spec.name, -maxSplitIndex, maxSplitIndex, spec.hint)
		}
		s.Index = int(v)
	case kindStringList:
		var v []string
		if null || json.Unmarshal(raw, &v) != nil {
			return bad("%q must be a list of field names, such as [\"givenName\",\"sn\"]", spec.name)
		}
		s.Fields = v
	case kindTable:
		members, err := objectMembers(raw, MaxLookupEntries)
		if err != nil {
			var dup errDuplicateKey
			if errors.As(err, &dup) {
				return bad("%q has the value %q twice", spec.name, truncate(string(dup), 40))
			}
			return bad("%q must be an object that maps values to their replacement, such as {\"FIN\":\"Finance\"}", spec.name)
		}
		if len(members) > MaxLookupEntries {
			return bad("%q has more than %d entries", spec.name, MaxLookupEntries)
		}
		t := make(map[string]string, len(members))
		for _, m := range members {
			var v string
			if isNull(m.value) || json.Unmarshal(m.value, &v) != nil {
				return bad("%q maps %q to something that is not a string", spec.name, truncate(m.key, 40))
			}
			t[m.key] = v
		}
		s.Table = t
	}
	return nil
}

// UnmarshalJSON reads a pipeline with Parse, so that a pipeline embedded in
// a larger JSON document is held to the same rules.
func (p *Pipeline) UnmarshalJSON(data []byte) error {
	parsed, err := Parse(data)
	if err != nil {
		return err
	}
	*p = parsed
	return nil
}

// MarshalJSON writes the pipeline as its JSON definition; Parse reads it
// back to an equal pipeline. The empty pipeline is written as [].
func (p Pipeline) MarshalJSON() ([]byte, error) {
	if p == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]Step(p))
}

// UnmarshalJSON reads one step as strictly as Parse does.
func (s *Step) UnmarshalJSON(data []byte) error {
	step, derr := decodeStep(data, 0)
	if derr != nil {
		return derr
	}
	if _, derr := compileStep(step, 0); derr != nil {
		return derr
	}
	*s = step
	return nil
}

// MarshalJSON writes the step as {"op":…} followed by the parameters of its
// op, required ones always and optional ones when set.
func (s Step) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"op":`)
	writeJSON(&b, string(s.Op))
	specs, ok := paramsOf(s.Op)
	if !ok {
		// An unknown op: write every parameter that is set, so that nothing is
		// lost and Parse reports the problem.
		specs = allSpecs()
	}
	for _, spec := range specs {
		v, set := paramValue(s, spec.name)
		if !set && (!ok || !spec.required) {
			continue
		}
		b.WriteByte(',')
		writeJSON(&b, spec.name)
		b.WriteByte(':')
		writeJSON(&b, v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)       // strings, bools, ints, []string and map[string]string always encode
	b.Truncate(b.Len() - 1) // Encode's newline
}

// allSpecs lists every parameter name once.
func allSpecs() []paramSpec {
	return []paramSpec{
		{name: "fields"}, {name: "separator"}, {name: "skipEmpty"}, {name: "template"}, {name: "index"},
		{name: "pattern"}, {name: "replacement"}, {name: "value"}, {name: "table"}, {name: "fallback"},
		{name: "caseInsensitive"}, {name: "from"}, {name: "to"}, {name: "defaultRegion"},
	}
}

// paramValue returns a parameter's value for JSON and whether it is set
// (not its zero value).
func paramValue(s Step, name string) (any, bool) {
	switch name {
	case "fields":
		f := s.Fields
		if f == nil {
			f = []string{}
		}
		return f, len(s.Fields) > 0
	case "separator":
		return s.Separator, s.Separator != ""
	case "skipEmpty":
		return s.SkipEmpty, s.SkipEmpty
	case "template":
		return s.Template, s.Template != ""
	case "index":
		return s.Index, s.Index != 0
	case "pattern":
		return s.Pattern, s.Pattern != ""
	case "replacement":
		return s.Replacement, s.Replacement != ""
	case "value":
		return s.Value, s.Value != ""
	case "table":
		t := s.Table
		if t == nil {
			t = map[string]string{}
		}
		return t, len(s.Table) > 0
	case "fallback":
		return string(s.Fallback), s.Fallback != ""
	case "caseInsensitive":
		return s.CaseInsensitive, s.CaseInsensitive
	case "from":
		return s.From, s.From != ""
	case "to":
		return s.To, s.To != ""
	case "defaultRegion":
		return s.DefaultRegion, s.DefaultRegion != ""
	}
	return nil, false
}

// truncate shortens s to at most n runes for a message.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// suggest returns the candidate closest to name when it is close enough to
// be a typing mistake, or "".
func suggest(name string, candidates []string) string {
	if len(name) > 100 {
		return ""
	}
	best, bestDist := "", 3
	lower := strings.ToLower(name)
	for _, c := range candidates {
		if strings.EqualFold(c, name) {
			return c
		}
	}
	// "lowercase" for lower, "regex" for regex_replace.
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if len(lower) >= 3 && len(lc) >= 3 && (strings.HasPrefix(lower, lc) || strings.HasPrefix(lc, lower)) {
			return c
		}
	}
	for _, c := range candidates {
		if d := editDistance(lower, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between short strings.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
