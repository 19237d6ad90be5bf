package docs

import (
	"bufio"
	"io"
	"strings"
)

// Markdown writes the document k as GitHub-flavoured Markdown, for a wiki or
// a repository. Every value is escaped, so that a name like "# x | y" stays
// text and never breaks a heading or a table.
func Markdown(w io.Writer, d *Document, k Kind) error {
	o, err := build(d, k)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString("# " + mdInline(o.Title+": "+o.Project) + "\n\n")
	for _, m := range o.Meta {
		bw.WriteString("- " + mdInline(m) + "\n")
	}
	for _, s := range o.Sections {
		bw.WriteString("\n" + strings.Repeat("#", s.Level+1) + " " + mdInline(s.Title) + "\n")
		for _, b := range s.Blocks {
			bw.WriteString("\n")
			switch b := b.(type) {
			case para:
				bw.WriteString(mdInline(b.Text) + "\n")
			case bullets:
				for _, it := range b.Items {
					bw.WriteString("- " + mdInline(it) + "\n")
				}
			case table:
				mdTable(bw, b)
			}
		}
	}
	return bw.Flush()
}

func mdTable(bw *bufio.Writer, t table) {
	row := func(cells []string) {
		bw.WriteString("|")
		for i := range t.Header {
			c := ""
			if i < len(cells) {
				c = mdInline(cells[i])
			}
			bw.WriteString(" " + c + " |")
		}
		bw.WriteString("\n")
	}
	header := t.Header
	if allEmpty(header) {
		// A key–value table: Markdown needs a header row; name it plainly.
		header = make([]string, len(t.Header))
		header[0] = "Item"
		if len(header) > 1 {
			header[1] = "Value"
		}
	}
	row(header)
	bw.WriteString("|")
	for i := range t.Header {
		if i < len(t.Numeric) && t.Numeric[i] {
			bw.WriteString(" ---: |")
		} else {
			bw.WriteString(" --- |")
		}
	}
	bw.WriteString("\n")
	for _, r := range t.Rows {
		row(r)
	}
}

func allEmpty(ss []string) bool {
	for _, s := range ss {
		if s != "" {
			return false
		}
	}
	return true
}

// mdInline escapes text for one line of Markdown: characters that start
// emphasis, code, links, HTML, headings, lists, quotes or table cells are
// backslash-escaped, and line breaks become spaces (a value never starts a
// block of its own).
func mdInline(s string) string {
	s = mdSpace(s)
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '#', '~':
			b.WriteByte('\\')
		case '-', '+', '=':
			if i == 0 {
				b.WriteByte('\\')
			}
		case '&':
			b.WriteString("&amp;")
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	// "1. x" at the start would read as a numbered list.
	if j := strings.IndexFunc(out, func(r rune) bool { return r < '0' || r > '9' }); j > 0 && (out[j] == '.' || out[j] == ')') &&
		(j+1 == len(out) || out[j+1] == ' ') {
		out = out[:j] + `\` + out[j:]
	}
	return out
}

// mdSpace folds every run of white space, line breaks included, into one space.
func mdSpace(s string) string { return strings.Join(strings.Fields(s), " ") }
