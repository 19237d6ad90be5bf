package docs

import (
	_ "embed"
	"fmt"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"
)

// The PDF's font is DejaVu Sans Condensed, which go-pdf/fpdf ships in its
// module's font directory (free license: fonts/LICENSE.txt); fpdf embeds
// only the glyphs a document uses. It covers Latin, Greek and Cyrillic
// text; a character it lacks is printed as "?".
var (
	//go:embed fonts/DejaVuSansCondensed.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSansCondensed-Bold.ttf
	fontBold []byte
)

const (
	pdfFont   = "DejaVu"
	pdfMargin = 15.0 // mm, every side
	pdfFooter = 14.0 // mm kept free at the bottom for the page number
	pdfPad    = 1.2  // mm inside table cells
)

// PDF writes the document k as an A4 PDF: a title page (document, project,
// version, signatures), then the sections with real tables whose header row
// repeats on every page they run over, and "Page N of M" at the foot of
// every page.
func PDF(w io.Writer, d *Document, k Kind) error {
	o, err := build(d, k)
	if err != nil {
		return err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes(pdfFont, "", fontRegular)
	pdf.AddUTF8FontFromBytes(pdfFont, "B", fontBold)
	if !d.Generated.IsZero() {
		// A fixed date makes the same document the same bytes.
		pdf.SetCreationDate(d.Generated.UTC())
		pdf.SetModificationDate(d.Generated.UTC())
	}
	pdf.SetCatalogSort(true)
	title := o.Title + ": " + o.Project
	pdf.SetTitle(title, true)
	pdf.SetSubject(o.Title, true)
	pdf.SetAuthor("Ferry", true)
	pdf.SetCreator("Ferry", true)
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfFooter+4)
	pdf.AliasNbPages("{nb}")
	r := &pdfRenderer{pdf: pdf}
	footer := r.clean(o.Project)
	if len([]rune(footer)) > 60 {
		footer = string([]rune(footer)[:59]) + "…"
	}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfFooter)
		pdf.SetFont(pdfFont, "", 8)
		pdf.SetTextColor(100, 110, 120)
		pdf.CellFormat(0, 5, r.clean(o.Title)+" · "+footer, "", 0, "L", false, 0, "")
		pdf.SetX(pdfMargin)
		pdf.CellFormat(0, 5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})

	// Title page.
	pdf.AddPage()
	pdf.SetY(70)
	pdf.SetFont(pdfFont, "B", 26)
	pdf.MultiCell(0, 11, r.clean(o.Title), "", "L", false)
	pdf.Ln(2)
	pdf.SetFont(pdfFont, "", 16)
	pdf.MultiCell(0, 8, r.clean(o.Project), "", "L", false)
	pdf.Ln(8)
	pdf.SetFont(pdfFont, "", 11)
	for _, m := range o.Meta {
		pdf.MultiCell(0, 6, r.clean(m), "", "L", false)
	}

	pdf.AddPage()
	for _, s := range o.Sections {
		r.heading(s)
		for _, b := range s.Blocks {
			switch b := b.(type) {
			case para:
				pdf.SetFont(pdfFont, "", 9.5)
				pdf.MultiCell(0, 4.8, r.clean(b.Text), "", "L", false)
				pdf.Ln(1.5)
			case bullets:
				pdf.SetFont(pdfFont, "", 9.5)
				for _, it := range b.Items {
					pdf.SetX(pdfMargin)
					pdf.CellFormat(5, 4.8, "•", "", 0, "L", false, 0, "")
					pdf.MultiCell(0, 4.8, r.clean(it), "", "L", false)
				}
				pdf.Ln(1.5)
			case table:
				r.table(b)
				pdf.Ln(2)
			}
		}
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return pdf.Output(w)
}

type pdfRenderer struct {
	pdf *fpdf.Fpdf
}

// clean makes text printable with the font: control characters become
// spaces (a line break stays), and characters outside the font's range "?".
func (r *pdfRenderer) clean(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c == '\n':
			return c
		case c == '\t' || c == '\r':
			return ' '
		case c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0):
			return ' '
		case c > 0xffff || (c >= 0xd800 && c <= 0xdfff):
			return '?'
		}
		return c
	}, s)
}

func (r *pdfRenderer) pageBottom() float64 {
	_, h := r.pdf.GetPageSize()
	return h - pdfFooter - 4
}

func (r *pdfRenderer) heading(s section) {
	pdf := r.pdf
	size, lh := 15.0, 8.0
	if s.Level > 1 {
		size, lh = 11.5, 6.5
	}
	// Keep a heading with what follows it.
	if pdf.GetY()+lh+20 > r.pageBottom() {
		pdf.AddPage()
	}
	pdf.Ln(3)
	pdf.SetFont(pdfFont, "B", size)
	pdf.MultiCell(0, lh, r.clean(s.Title), "", "L", false)
	pdf.Ln(1)
}

// table draws t with wrapped cells; the header row is drawn again at the
// top of every page the table runs onto.
func (r *pdfRenderer) table(t table) {
	pdf := r.pdf
	n := len(t.Header)
	if n == 0 {
		return
	}
	size, lh := 8.5, 4.0
	if n >= 7 {
		size, lh = 7.5, 3.6
	}
	keyValue := allEmpty(t.Header)
	pageW, _ := pdf.GetPageSize()
	widths := r.columnWidths(t, pageW-2*pdfMargin, size)

	cellText := func(row []string, i int) string {
		if i < len(row) {
			return r.clean(row[i])
		}
		return ""
	}
	lines := func(text string, w float64) []string {
		if text == "" {
			return []string{""}
		}
		var out []string
		for _, part := range strings.Split(text, "\n") {
			l := pdf.SplitText(part, w-2*pdfPad+2*pdf.GetCellMargin())
			if len(l) == 0 {
				l = []string{""}
			}
			out = append(out, l...)
		}
		return out
	}
	drawRow := func(row []string, header bool) {
		style := ""
		if header {
			style = "B"
		}
		pdf.SetFont(pdfFont, style, size)
		cells := make([][]string, n)
		height := 0.0
		for i := range n {
			if keyValue && i == 0 {
				pdf.SetFont(pdfFont, "B", size)
			}
			cells[i] = lines(cellText(row, i), widths[i])
			if keyValue && i == 0 {
				pdf.SetFont(pdfFont, style, size)
			}
			height = max(height, float64(len(cells[i]))*lh+2*pdfPad)
		}
		x, y := pdfMargin, pdf.GetY()
		for i := range n {
			if header {
				pdf.SetFillColor(232, 237, 242)
				pdf.Rect(x, y, widths[i], height, "FD")
			} else {
				pdf.Rect(x, y, widths[i], height, "D")
			}
			if keyValue && i == 0 {
				pdf.SetFont(pdfFont, "B", size)
			}
			align := "L"
			if !header && i < len(t.Numeric) && t.Numeric[i] {
				align = "R"
			}
			for j, line := range cells[i] {
				pdf.SetXY(x+pdfPad-pdf.GetCellMargin(), y+pdfPad+float64(j)*lh)
				pdf.CellFormat(widths[i]-2*pdfPad+2*pdf.GetCellMargin(), lh, line, "", 0, align, false, 0, "")
			}
			if keyValue && i == 0 {
				pdf.SetFont(pdfFont, style, size)
			}
			x += widths[i]
		}
		pdf.SetXY(pdfMargin, y+height)
	}
	rowHeight := func(row []string) float64 {
		pdf.SetFont(pdfFont, "", size)
		h := 0.0
		for i := range n {
			h = max(h, float64(len(lines(cellText(row, i), widths[i])))*lh+2*pdfPad)
		}
		return h
	}

	_, bottomMargin := pdf.GetAutoPageBreak()
	pdf.SetAutoPageBreak(false, bottomMargin)
	defer pdf.SetAutoPageBreak(true, bottomMargin)
	pdf.SetDrawColor(190, 200, 210)
	defer pdf.SetDrawColor(0, 0, 0)
	pdf.SetLineWidth(0.2)

	headerH := 0.0
	if !keyValue {
		headerH = rowHeight(t.Header)
	}
	first := 0.0
	if len(t.Rows) > 0 {
		first = rowHeight(t.Rows[0])
	}
	if pdf.GetY()+headerH+first > r.pageBottom() {
		pdf.AddPage()
	}
	if !keyValue {
		drawRow(t.Header, true)
	}
	for _, row := range t.Rows {
		if h := rowHeight(row); pdf.GetY()+h > r.pageBottom() {
			pdf.AddPage()
			if !keyValue {
				drawRow(t.Header, true)
			}
		}
		drawRow(row, false)
	}
}

// columnWidths shares width among the columns: each gets at least its
// longest word (when the page allows) and the rest goes to the columns with
// the most text.
func (r *pdfRenderer) columnWidths(t table, width, size float64) []float64 {
	pdf := r.pdf
	n := len(t.Header)
	minW, maxW := make([]float64, n), make([]float64, n)
	measure := func(i int, text string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		pdf.SetFont(pdfFont, style, size)
		text = r.clean(text)
		for _, line := range strings.Split(text, "\n") {
			maxW[i] = max(maxW[i], pdf.GetStringWidth(line)+2*pdfPad+1)
			for _, word := range strings.Fields(line) {
				minW[i] = max(minW[i], pdf.GetStringWidth(word)+2*pdfPad+1)
			}
		}
	}
	for i, h := range t.Header {
		measure(i, h, true)
	}
	for k, row := range t.Rows {
		if k == 500 {
			break // enough to judge a column
		}
		for i := 0; i < n && i < len(row); i++ {
			measure(i, row[i], false)
		}
	}
	out := make([]float64, n)
	var sumMin, sumMax float64
	for i := range n {
		minW[i] = min(max(minW[i], 8), width/2)
		maxW[i] = max(maxW[i], minW[i])
		sumMin += minW[i]
		sumMax += maxW[i]
	}
	switch {
	case sumMax <= width:
		for i := range n {
			out[i] = maxW[i] * width / sumMax
		}
	case sumMin >= width:
		for i := range n {
			out[i] = minW[i] * width / sumMin
		}
	default:
		extra := width - sumMin
		for i := range n {
			out[i] = minW[i] + extra*(maxW[i]-minW[i])/(sumMax-sumMin)
		}
	}
	return out
}
