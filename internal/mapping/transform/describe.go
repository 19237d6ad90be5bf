package transform

import (
	"fmt"
	"strconv"
	"strings"
)

// Describe summarises the pipeline in a short line for a person, such as
// "trim, then lower case, then lookup (12 entries)"; the empty pipeline is
// "copy as is".
func (p Pipeline) Describe() string {
	if len(p) == 0 {
		return "copy as is"
	}
	parts := make([]string, len(p))
	for i, s := range p {
		parts[i] = s.describe()
	}
	return strings.Join(parts, ", then ")
}

// describe summarises one step; long parameters are shortened.
func (s Step) describe() string {
	q := func(v string) string { return strconv.Quote(truncate(v, 30)) }
	switch s.Op {
	case OpTrim:
		return "trim"
	case OpLower:
		return "lower case"
	case OpUpper:
		return "upper case"
	case OpTitle:
		return "title case"
	case OpConcat:
		fields := s.Fields
		more := ""
		if len(fields) > 4 {
			fields, more = fields[:4], fmt.Sprintf(" and %d more", len(s.Fields)-4)
		}
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = truncate(f, 30)
		}
		out := fmt.Sprintf("join %s%s with %s", strings.Join(names, ", "), more, q(s.Separator))
		if s.SkipEmpty {
			out += " (skipping empty ones)"
		}
		return out
	case OpTemplate:
		return "template " + q(s.Template)
	case OpSplit:
		return fmt.Sprintf("split on %s and take the %s part", q(s.Separator), ordinal(s.Index))
	case OpRegexReplace:
		return fmt.Sprintf("replace /%s/ with %s", truncate(s.Pattern, 30), q(s.Replacement))
	case OpDefault:
		return "default " + q(s.Value) + " when empty"
	case OpLookup:
		out := fmt.Sprintf("lookup (%s)", plural(len(s.Table), "entry", "entries"))
		switch s.Fallback {
		case FallbackEmpty:
			out += ", others emptied"
		case FallbackError:
			out += ", others refused"
		}
		if s.CaseInsensitive {
			out += ", ignoring case"
		}
		return out
	case OpDate:
		return fmt.Sprintf("date from %s to %s", truncate(s.From, 30), truncate(s.To, 30))
	case OpPhoneE164:
		if s.DefaultRegion == "" {
			return "phone number to E.164"
		}
		return fmt.Sprintf("phone number to E.164 (national numbers from %s)", truncate(s.DefaultRegion, 10))
	case OpCountryAlpha2:
		return "country to ISO alpha-2 code"
	case OpEmailDomain:
		return fmt.Sprintf("email domain %s to %s", truncate(s.From, 40), truncate(s.To, 40))
	}
	return strconv.Quote(truncate(string(s.Op), 30))
}

// ordinal names a split index for a person: 0 is "first", -1 "last".
func ordinal(i int) string {
	switch {
	case i == 0:
		return "first"
	case i == -1:
		return "last"
	case i > 0:
		return nth(i + 1)
	default:
		return nth(-i) + " to last"
	}
}

func nth(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Fields returns the record fields the pipeline reads besides the mapped
// field (concat fields and template placeholders, other than value), each
// once, in the order they first appear.
func (p Pipeline) Fields() []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range p {
		for _, f := range stepFields(s) {
			if !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}
