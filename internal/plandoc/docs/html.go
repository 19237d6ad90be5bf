package docs

import (
	"bufio"
	"html"
	"io"
	"strconv"
	"strings"
)

// htmlStyle is the page's whole style: calm on screen, tidy on paper (table
// headers repeat on every printed page, rows do not split).
const htmlStyle = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2933;max-width:72rem;margin:2rem auto;padding:0 1.5rem;line-height:1.45}
h1{font-size:1.7rem;margin-bottom:.2rem}h2{font-size:1.3rem;margin-top:2rem;border-bottom:1px solid #cbd2d9;padding-bottom:.2rem}h3{font-size:1.08rem;margin-top:1.4rem}
.meta{list-style:none;padding:0;color:#52606d;font-size:.92rem}.meta li{margin:.1rem 0}
table{border-collapse:collapse;width:100%;margin:.6rem 0;font-size:.88rem}
th,td{border:1px solid #d9e2ec;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}h3{break-after:avoid}thead{display:table-header-group}tr{break-inside:avoid}a{color:inherit}
@page{size:A4;margin:15mm}}
`

// HTML writes the document k as one self-contained, printable HTML page:
// inline style with print rules, no script, no external resource, every
// value escaped.
func HTML(w io.Writer, d *Document, k Kind) error {
	o, err := build(d, k)
	if err != nil {
		return err
	}
	e := html.EscapeString
	bw := bufio.NewWriter(w)
	title := o.Title + ": " + o.Project
	bw.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	bw.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	bw.WriteString("<meta name=\"generator\" content=\"Ferry\">\n")
	bw.WriteString("<title>" + e(title) + "</title>\n<style>" + htmlStyle + "</style>\n</head>\n<body>\n")
	bw.WriteString("<header>\n<h1>" + e(title) + "</h1>\n<ul class=\"meta\">\n")
	for _, m := range o.Meta {
		bw.WriteString("<li>" + e(m) + "</li>\n")
	}
	bw.WriteString("</ul>\n</header>\n<main>\n")
	for i, s := range o.Sections {
		tag := "h" + strconv.Itoa(s.Level+1)
		bw.WriteString("<section id=\"s" + strconv.Itoa(i+1) + "\">\n<" + tag + ">" + e(s.Title) + "</" + tag + ">\n")
		for _, b := range s.Blocks {
			switch b := b.(type) {
			case para:
				bw.WriteString("<p>" + e(b.Text) + "</p>\n")
			case bullets:
				bw.WriteString("<ul>\n")
				for _, it := range b.Items {
					bw.WriteString("<li>" + e(it) + "</li>\n")
				}
				bw.WriteString("</ul>\n")
			case table:
				htmlTable(bw, b)
			}
		}
		bw.WriteString("</section>\n")
	}
	bw.WriteString("</main>\n</body>\n</html>\n")
	return bw.Flush()
}

func htmlTable(bw *bufio.Writer, t table) {
	class := func(i int) string {
		if i < len(t.Numeric) && t.Numeric[i] {
			return ` class="num"`
		}
		return ""
	}
	bw.WriteString("<table>\n")
	keyValue := allEmpty(t.Header)
	if !keyValue {
		bw.WriteString("<thead><tr>")
		for i, h := range t.Header {
			bw.WriteString("<th scope=\"col\"" + class(i) + ">" + html.EscapeString(h) + "</th>")
		}
		bw.WriteString("</tr></thead>\n")
	}
	bw.WriteString("<tbody>\n")
	for _, r := range t.Rows {
		bw.WriteString("<tr>")
		for i := range t.Header {
			c := ""
			if i < len(r) {
				c = r[i]
			}
			c = strings.ReplaceAll(html.EscapeString(c), "\n", "<br>")
			if keyValue && i == 0 {
				bw.WriteString("<th scope=\"row\">" + c + "</th>")
			} else {
				bw.WriteString("<td" + class(i) + ">" + c + "</td>")
			}
		}
		bw.WriteString("</tr>\n")
	}
	bw.WriteString("</tbody>\n</table>\n")
}
