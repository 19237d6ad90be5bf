package docs

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/ferry-migrate/ferry/internal/load"
	"github.com/ferry-migrate/ferry/internal/plandoc"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// Terraform writes the Okta configuration the plan needs as Terraform for
// the Okta provider (okta/okta): an okta_user_schema_property for each
// custom profile attribute and an okta_group for each source's group
// ("Ferry: <source>"), the group a load puts the source's users in and a
// rollback finds them by. Membership groups come from the sources' data, not
// from the plan, and are not written. Resource names are sanitised and
// unique; every string is escaped for HCL (quotes, backslashes, line breaks,
// and the ${ and %{ of templates).
func Terraform(w io.Writer, p *plandoc.Plan) error {
	if p == nil {
		return fmt.Errorf("docs: no plan")
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# Okta configuration of the migration plan %s, written by Ferry.\n", hclComment(p.Project.Name))
	bw.WriteString("# Apply it with the Okta provider (registry.terraform.io/providers/okta/okta) before the first load.\n")
	bw.WriteString("\nterraform {\n  required_providers {\n    okta = {\n      source = \"okta/okta\"\n    }\n  }\n}\n")

	names := map[string]bool{}
	unique := func(base string) string {
		n := base
		for i := 2; names[n]; i++ {
			n = base + "_" + strconv.Itoa(i)
		}
		names[n] = true
		return n
	}

	for _, c := range p.Profile.CustomAttributes {
		fmt.Fprintf(bw, "\nresource \"okta_user_schema_property\" %s {\n", hclString(unique(resourceName(c.Name))))
		attr := func(k, v string) { fmt.Fprintf(bw, "  %-11s = %s\n", k, v) }
		attr("index", hclString(c.Name))
		title := c.Title
		if title == "" {
			title = c.Name
		}
		attr("title", hclString(title))
		attr("type", hclString(c.Type))
		if c.Type == schema.TypeArray {
			attr("array_type", hclString("string"))
		}
		if c.Description != "" {
			attr("description", hclString(c.Description))
		}
		attr("required", strconv.FormatBool(c.Required))
		if c.Unique {
			attr("unique", hclString("UNIQUE_VALIDATED"))
		} else {
			attr("unique", hclString("NOT_UNIQUE"))
		}
		if c.MinLength != nil {
			attr("min_length", strconv.Itoa(*c.MinLength))
		}
		if c.MaxLength != nil {
			attr("max_length", strconv.Itoa(*c.MaxLength))
		}
		if c.Pattern != "" {
			attr("pattern", hclString(c.Pattern))
		}
		attr("scope", hclString("NONE"))
		attr("permissions", hclString("READ_ONLY"))
		attr("master", hclString("PROFILE_MASTER"))
		if len(c.Enum) > 0 {
			enumKey, oneOfKey := "enum", "one_of"
			if c.Type == schema.TypeArray {
				enumKey, oneOfKey = "array_enum", "array_one_of"
			}
			vals := make([]string, len(c.Enum))
			for i, v := range c.Enum {
				vals[i] = hclString(v)
			}
			attr(enumKey, "["+strings.Join(vals, ", ")+"]")
			for _, v := range c.Enum {
				fmt.Fprintf(bw, "  %s {\n    const = %s\n    title = %s\n  }\n", oneOfKey, hclString(v), hclString(v))
			}
		}
		bw.WriteString("}\n")
	}

	for _, s := range p.Sources {
		name := load.SourceGroupName(s.Name)
		fmt.Fprintf(bw, "\nresource \"okta_group\" %s {\n", hclString(unique(resourceName("ferry_"+s.Name))))
		fmt.Fprintf(bw, "  name        = %s\n", hclString(name))
		fmt.Fprintf(bw, "  description = %s\n", hclString("Users Ferry loaded from the source "+s.Name+"; a rollback finds them through Ferry's records."))
		bw.WriteString("}\n")
	}
	return bw.Flush()
}

// resourceName makes a Terraform resource name: letters, digits,
// underscores and dashes, starting with a letter or an underscore.
func resourceName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-'):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	n := strings.Trim(b.String(), "_")
	for strings.Contains(n, "__") {
		n = strings.ReplaceAll(n, "__", "_")
	}
	if n == "" {
		n = "unnamed"
	}
	if c := n[0]; !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
		n = "_" + n
	}
	return n
}

// hclString quotes s as an HCL string literal: backslashes, quotes and
// control characters escaped, and template sequences (${, %{) doubled so
// that they stay literal text.
func hclString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case (r == '$' || r == '%') && i+1 < len(rs) && rs[i+1] == '{':
			b.WriteRune(r)
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hclComment makes s safe inside a one-line comment.
func hclComment(s string) string { return strconv.Quote(mdSpace(s)) }
