package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// xlsxReader reads one worksheet of an XLSX workbook with archive/zip and a
// streaming XML decoder, so that it can count what the zip unpacks to, stop
// at the limits, and see formulas (a library that evaluates or formats cells
// would hide both).
type xlsxReader struct {
	name  string
	lim   Limits
	parts map[string]*zip.File // by lower-cased part name: OPC names ignore case
	left  int64                // bytes the parts may still unpack to
}

// errUnzipBudget is returned by a part reader once the workbook has unpacked
// to more than Limits.MaxUnzippedBytes.
var errUnzipBudget = errors.New("sheet: unzip budget exhausted")

func readXLSX(data []byte, name, sheet string, lim Limits) (Table, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return Table{}, notSpreadsheet(name, "it is a damaged zip archive")
	}
	x := &xlsxReader{name: name, lim: lim, parts: make(map[string]*zip.File, len(zr.File)), left: lim.MaxUnzippedBytes}
	for _, f := range zr.File {
		x.parts[strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/"))] = f
	}
	if x.parts["[content_types].xml"] == nil || x.parts["xl/workbook.xml"] == nil {
		return Table{}, notSpreadsheet(name, x.describeZip())
	}

	wb, err := x.workbook()
	if err != nil {
		return Table{}, err
	}
	if len(wb.sheets) == 0 {
		return Table{}, x.damaged("the workbook lists no worksheets")
	}
	rels, err := x.relationships("xl/_rels/workbook.xml.rels")
	if err != nil {
		return Table{}, err
	}
	chosen := wb.sheets[0]
	if sheet != "" {
		found := false
		for _, s := range wb.sheets {
			if strings.EqualFold(s.name, sheet) {
				chosen, found = s, true
				break
			}
		}
		if !found {
			var names []string
			for _, s := range wb.sheets {
				names = append(names, fmt.Sprintf("%q", s.name))
			}
			return Table{}, &Error{Message: fmt.Sprintf("%s has no sheet called %q; its sheets are %s", fileLabel(name), sheet, strings.Join(names, ", "))}
		}
	}
	rel, ok := rels[chosen.rid]
	if !ok {
		return Table{}, x.damaged(fmt.Sprintf("sheet %q points to a part that is not there", chosen.name))
	}
	if !strings.HasSuffix(rel.typ, "/worksheet") {
		return Table{}, &Error{Message: fmt.Sprintf("sheet %q of %s is a chart or a dialog, not a table of cells", chosen.name, fileLabel(name))}
	}

	sharedPart, stylesPart := "xl/sharedStrings.xml", "xl/styles.xml"
	for _, r := range rels {
		switch {
		case strings.HasSuffix(r.typ, "/sharedStrings"):
			sharedPart = r.target
		case strings.HasSuffix(r.typ, "/styles"):
			stylesPart = r.target
		}
	}
	shared, err := x.sharedStrings(sharedPart)
	if err != nil {
		return Table{}, err
	}
	styles, err := x.styles(stylesPart)
	if err != nil {
		return Table{}, err
	}
	t, err := x.worksheet(rel.target, shared, styles, wb.date1904)
	if err != nil {
		return Table{}, err
	}
	t.Sheet = chosen.name
	return t, nil
}

// describeZip says what a zip that is not an XLSX workbook probably is.
func (x *xlsxReader) describeZip() string {
	switch {
	case x.parts["xl/workbook.bin"] != nil:
		return "it is an Excel binary workbook (.xlsb): save it as .xlsx"
	case x.parts["mimetype"] != nil && x.parts["content.xml"] != nil:
		return "it is an OpenDocument file (.ods or .odt): save it as .xlsx"
	case x.parts["word/document.xml"] != nil:
		return "it is a Word document"
	case x.parts["ppt/presentation.xml"] != nil:
		return "it is a PowerPoint presentation"
	}
	return "it is a zip archive but not an XLSX workbook"
}

func (x *xlsxReader) damaged(why string) error {
	return &Error{Message: fmt.Sprintf("%s is a damaged XLSX workbook (%s): open it in a spreadsheet, save it again and upload it again", fileLabel(x.name), why)}
}

func (x *xlsxReader) tooBig() error {
	return &Error{Message: fmt.Sprintf("%s unpacks to more than %s, which a table of its size never needs: it is damaged or a zip bomb", fileLabel(x.name), byteSize(x.lim.MaxUnzippedBytes))}
}

// open opens a part for reading, charging what it unpacks to against the
// budget. A missing part gives (nil, nil).
func (x *xlsxReader) open(name string) (io.ReadCloser, error) {
	f := x.parts[strings.ToLower(name)]
	if f == nil {
		return nil, nil
	}
	if f.UncompressedSize64 > uint64(x.left) {
		return nil, x.tooBig()
	}
	rc, err := f.Open()
	if err != nil {
		return nil, x.damaged(fmt.Sprintf("cannot unpack %s", name))
	}
	return &budgetReader{rc: rc, x: x}, nil
}

type budgetReader struct {
	rc io.ReadCloser
	x  *xlsxReader
}

func (b *budgetReader) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.x.left -= int64(n)
	if b.x.left < 0 {
		return n, errUnzipBudget
	}
	return n, err
}

func (b *budgetReader) Close() error { return b.rc.Close() }

// decode walks the XML of part, calling fn for every token. A missing part is
// not an error when optional.
func (x *xlsxReader) decode(part string, optional bool, fn func(d *xml.Decoder, tok xml.Token) error) error {
	rc, err := x.open(part)
	if err != nil {
		return err
	}
	if rc == nil {
		if optional {
			return nil
		}
		return x.damaged(fmt.Sprintf("the part %s is missing", part))
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if errors.Is(err, errUnzipBudget) {
				return x.tooBig()
			}
			var se *Error
			if errors.As(err, &se) {
				return err
			}
			return x.damaged(fmt.Sprintf("%s is not valid XML", part))
		}
		if err := fn(d, tok); err != nil {
			var se *Error
			if errors.As(err, &se) {
				return err
			}
			if errors.Is(err, errUnzipBudget) {
				return x.tooBig()
			}
			return x.damaged(fmt.Sprintf("%s is not valid XML", part))
		}
	}
}

func attr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

type workbookSheet struct{ name, rid string }

type workbookInfo struct {
	sheets   []workbookSheet
	date1904 bool
}

func (x *xlsxReader) workbook() (workbookInfo, error) {
	var wb workbookInfo
	err := x.decode("xl/workbook.xml", false, func(_ *xml.Decoder, tok xml.Token) error {
		e, ok := tok.(xml.StartElement)
		if !ok {
			return nil
		}
		switch e.Name.Local {
		case "workbookPr":
			v := attr(e, "date1904")
			wb.date1904 = v == "1" || v == "true"
		case "sheet":
			s := workbookSheet{name: attr(e, "name")}
			for _, a := range e.Attr {
				if a.Name.Local == "id" && strings.Contains(a.Name.Space, "relationships") {
					s.rid = a.Value
				}
			}
			wb.sheets = append(wb.sheets, s)
		}
		return nil
	})
	return wb, err
}

type relationship struct{ typ, target string }

// relationships reads a .rels part, resolving targets against the folder of
// the part the relationships belong to.
func (x *xlsxReader) relationships(part string) (map[string]relationship, error) {
	base := path.Dir(path.Dir(part)) // xl/_rels/workbook.xml.rels → xl
	rels := make(map[string]relationship)
	err := x.decode(part, false, func(_ *xml.Decoder, tok xml.Token) error {
		e, ok := tok.(xml.StartElement)
		if !ok || e.Name.Local != "Relationship" || attr(e, "TargetMode") == "External" {
			return nil
		}
		target := strings.ReplaceAll(attr(e, "Target"), `\`, "/")
		if strings.HasPrefix(target, "/") {
			target = strings.TrimPrefix(target, "/")
		} else {
			target = path.Join(base, target)
		}
		rels[attr(e, "Id")] = relationship{typ: attr(e, "Type"), target: target}
		return nil
	})
	return rels, err
}

// text gathers the character data of the element just started, up to its
// end, skipping phonetic runs (<rPh>), as the text of a string item.
func text(d *xml.Decoder) (string, error) {
	var b strings.Builder
	depth, skip, inT := 1, 0, 0
	for depth > 0 {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case t.Name.Local == "rPh" || t.Name.Local == "phoneticPr":
				skip++
			case t.Name.Local == "t" && skip == 0:
				inT++
			}
		case xml.EndElement:
			depth--
			switch {
			case t.Name.Local == "rPh" || t.Name.Local == "phoneticPr":
				skip--
			case t.Name.Local == "t" && skip == 0 && inT > 0:
				inT--
			}
		case xml.CharData:
			if inT > 0 && skip == 0 {
				b.Write(t)
			}
		}
	}
	return b.String(), nil
}

// chars gathers all character data up to the end of the element just started.
func chars(d *xml.Decoder) (string, error) {
	var b strings.Builder
	for depth := 1; depth > 0; {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			b.Write(t)
		}
	}
	return b.String(), nil
}

func (x *xlsxReader) sharedStrings(part string) ([]string, error) {
	var out []string
	err := x.decode(part, true, func(d *xml.Decoder, tok xml.Token) error {
		e, ok := tok.(xml.StartElement)
		if !ok || e.Name.Local != "si" {
			return nil
		}
		s, err := text(d)
		if err != nil {
			return err
		}
		out = append(out, unescapeXString(s))
		return nil
	})
	return out, err
}

// numberKind is how a numeric cell's style asks it to be shown.
type numberKind uint8

const (
	plainNumber numberKind = iota
	dateNumber
	timeNumber
	dateTimeNumber
)

// styles reads, for each cell format (the s attribute of a cell), whether its
// number format shows a date, a time or both.
func (x *xlsxReader) styles(part string) ([]numberKind, error) {
	custom := map[int]string{}
	var formats []int
	inCellXfs := false
	err := x.decode(part, true, func(_ *xml.Decoder, tok xml.Token) error {
		switch e := tok.(type) {
		case xml.StartElement:
			switch e.Name.Local {
			case "numFmt":
				if id, err := strconv.Atoi(attr(e, "numFmtId")); err == nil {
					custom[id] = attr(e, "formatCode")
				}
			case "cellXfs":
				inCellXfs = true
			case "xf":
				if inCellXfs {
					id, _ := strconv.Atoi(attr(e, "numFmtId"))
					formats = append(formats, id)
				}
			}
		case xml.EndElement:
			if e.Name.Local == "cellXfs" {
				inCellXfs = false
			}
		}
		return nil
	})
	kinds := make([]numberKind, len(formats))
	for i, id := range formats {
		if code, ok := custom[id]; ok {
			kinds[i] = formatKind(code)
		} else {
			kinds[i] = builtinKind(id)
		}
	}
	return kinds, err
}

func builtinKind(id int) numberKind {
	switch {
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id >= 34 && id <= 36, id >= 50 && id <= 54, id == 57, id == 58:
		return dateNumber
	case id >= 18 && id <= 21, id == 32, id == 33, id == 45, id == 47, id == 55, id == 56:
		return timeNumber
	case id == 22:
		return dateTimeNumber
	}
	return plainNumber // 46, [h]:mm:ss, is a duration: left a number
}

// formatKind classifies a custom number format code by the date and time
// tokens of its first section, outside quotes, escapes and brackets.
func formatKind(code string) numberKind {
	var date, time, month bool
	for i := 0; i < len(code); i++ {
		switch c := code[i] | 0x20; { // ASCII lower case
		case code[i] == ';':
			i = len(code)
		case code[i] == '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(code)
			}
		case code[i] == '\\', code[i] == '_', code[i] == '*':
			i++
		case code[i] == '[':
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				return plainNumber
			}
			switch strings.Trim(strings.ToLower(code[i+1:i+j]), "hms") {
			case "": // [h], [mm], [ss]: an elapsed duration, not a time of day
				return plainNumber
			}
			i += j
		case c == 'y' || c == 'd':
			date = true
		case c == 'h' || c == 's':
			time = true
		case c == 'm':
			month = true
		}
	}
	if month && !time {
		date = true
	}
	switch {
	case date && time:
		return dateTimeNumber
	case date:
		return dateNumber
	case time:
		return timeNumber
	}
	return plainNumber
}

// formatNumber turns a numeric cell's stored text into what it holds for a
// person: a plain decimal to 15 significant digits (Excel's precision, so
// 0.1+0.2 reads "0.3"), or an ISO 8601 date or time.
func formatNumber(raw string, kind numberKind, date1904 bool) string {
	f, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return raw
	}
	if kind != plainNumber {
		if s, ok := formatSerial(f, kind, date1904); ok {
			return s
		}
	}
	f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	if a := math.Abs(f); f == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.FormatFloat(f+0, 'f', -1, 64) // +0 turns -0 into 0
	}
	return strconv.FormatFloat(f, 'E', -1, 64)
}

func formatSerial(f float64, kind numberKind, date1904 bool) (string, bool) {
	if f < 0 || f >= 2958466 { // past 9999-12-31
		return "", false
	}
	epoch := time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	switch {
	case date1904:
		epoch = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
	case f < 61:
		// Excel counts a 29 February 1900 that never was (Lotus 1-2-3's bug):
		// serials before it are one day later than the usual epoch gives.
		epoch = epoch.AddDate(0, 0, 1)
	}
	t := epoch.Add(time.Duration(math.Round(f*86400)) * time.Second)
	switch kind {
	case dateNumber:
		return t.Format("2006-01-02"), true
	case timeNumber:
		return t.Format("15:04:05"), true
	}
	return t.Format("2006-01-02 15:04:05"), true
}

// unescapeXString decodes the _xHHHH_ escapes with which OOXML stores
// characters XML cannot hold (and _x005F_ for a literal underscore).
func unescapeXString(s string) string {
	if !strings.Contains(s, "_x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if u, ok := xEscape(s[i:]); ok {
			if u >= 0xD800 && u < 0xDC00 {
				if lo, ok := xEscape(s[i+7:]); ok && lo >= 0xDC00 && lo < 0xE000 {
					b.WriteRune(rune((u-0xD800)<<10 | (lo - 0xDC00) + 0x10000))
					i += 14
					continue
				}
			}
			if u < 0xD800 || u >= 0xE000 {
				b.WriteRune(rune(u))
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func xEscape(s string) (uint32, bool) {
	if len(s) < 7 || s[0] != '_' || s[1] != 'x' || s[6] != '_' {
		return 0, false
	}
	u, err := strconv.ParseUint(s[2:6], 16, 16)
	return uint32(u), err == nil
}

// cellRef parses "C7" into column 3, row 7.
func cellRef(ref string) (col, row int, ok bool) {
	i := 0
	for i < len(ref) && ((ref[i] >= 'A' && ref[i] <= 'Z') || (ref[i] >= 'a' && ref[i] <= 'z')) {
		col = col*26 + int(ref[i]|0x20-'a') + 1
		i++
		if col > 16384 {
			return 0, 0, false
		}
	}
	if i == 0 || i == len(ref) {
		return 0, 0, false
	}
	row, err := strconv.Atoi(ref[i:])
	if err != nil || row < 1 || row > 1_048_576 {
		return 0, 0, false
	}
	return col, row, true
}

// worksheet streams the sheet part into a Table.
func (x *xlsxReader) worksheet(part string, shared []string, styles []numberKind, date1904 bool) (Table, error) {
	lim := x.lim
	var (
		t       Table
		width   = -1 // fixed once the header row is done
		header  []string
		rowNum  int      // the current row
		current []string // cells of the current data row, nil while all empty
		kept    int      // data rows kept in t.Rows (rows 2 .. kept+1)
		colNum  int      // the current cell's column
		inData  bool     // inside <sheetData>
		inRow   bool     // inside one of its <row>s
	)
	fixHeader := func() error {
		if width >= 0 {
			return nil
		}
		if err := checkHeader(header, lim.MaxColumns); err != nil {
			if len(header) == 0 {
				return &Error{Row: 1, Message: "the header row is missing: row 1 is empty, but it must hold the column names"}
			}
			return err
		}
		t.Header, width = header, len(header)
		return nil
	}
	endRow := func() error {
		if rowNum == 1 {
			return fixHeader()
		}
		if current == nil {
			return nil
		}
		for kept < rowNum-2 {
			t.Rows = append(t.Rows, make([]string, width))
			kept++
		}
		t.Rows = append(t.Rows, current)
		kept++
		current = nil
		return nil
	}

	err := x.decode(part, false, func(d *xml.Decoder, tok xml.Token) error {
		e, ok := tok.(xml.StartElement)
		if !ok {
			if end, ok := tok.(xml.EndElement); ok && inData {
				switch end.Name.Local {
				case "row":
					inRow = false
					return endRow()
				case "sheetData":
					inData = false
				}
			}
			return nil
		}
		if e.Name.Local == "sheetData" {
			inData = true
			return nil
		}
		if !inData {
			return nil
		}
		switch e.Name.Local {
		case "row":
			next := rowNum + 1
			if r := attr(e, "r"); r != "" {
				n, err := strconv.Atoi(r)
				if err != nil || n < next || n > 1_048_576 {
					return x.damaged(fmt.Sprintf("its rows are out of order at row %q", r))
				}
				next = n
			}
			if next > 1 {
				if err := fixHeader(); err != nil {
					return err
				}
			}
			rowNum, colNum, inRow = next, 0, true
			return nil
		case "c":
			if !inRow {
				return x.damaged("a cell lies outside any row")
			}
			return x.cell(d, e, rowNum, &colNum, shared, styles, date1904, func(col int, v string) error {
				if rowNum == 1 {
					if col > lim.MaxColumns {
						return &Error{Row: 1, Column: col, Message: fmt.Sprintf("the header row has more than %d columns; at most %d are allowed", lim.MaxColumns, lim.MaxColumns)}
					}
					for len(header) < col {
						header = append(header, "")
					}
					header[col-1] = v
					return nil
				}
				if col > width {
					return raggedError(rowNum, col, width)
				}
				if rowNum-1 > lim.MaxRows {
					return tooManyRows(rowNum, lim.MaxRows)
				}
				if (rowNum-1)*width > lim.MaxCells {
					return tooManyCells(rowNum, width, lim.MaxCells)
				}
				if current == nil {
					current = make([]string, width)
				}
				current[col-1] = v
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return Table{}, err
	}
	if err := fixHeader(); err != nil {
		return Table{}, err
	}
	return t, nil
}

// cell reads one <c> element and hands a non-empty value to set. A formula
// refuses the file.
func (x *xlsxReader) cell(d *xml.Decoder, e xml.StartElement, row int, colNum *int, shared []string, styles []numberKind, date1904 bool, set func(col int, v string) error) error {
	col := *colNum + 1
	if r := attr(e, "r"); r != "" {
		c, rr, ok := cellRef(r)
		if !ok || rr != row || c < col {
			return x.damaged(fmt.Sprintf("the cell reference %q is out of place", r))
		}
		col = c
	}
	*colNum = col
	typ := attr(e, "t")
	style, _ := strconv.Atoi(attr(e, "s"))

	var value string
	var hasValue bool
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var err error
			switch t.Name.Local {
			case "f":
				formula, err := chars(d)
				if err != nil {
					return err
				}
				return formulaError(row, col, formula)
			case "v":
				value, err = chars(d)
				hasValue = true
			case "is":
				value, err = text(d)
				hasValue = true
			default:
				err = d.Skip()
			}
			if err != nil {
				return err
			}
		case xml.EndElement:
			if !hasValue {
				return nil
			}
			v, err := x.cellValue(typ, value, style, row, col, shared, styles, date1904)
			if err != nil || v == "" {
				return err
			}
			if !utf8.ValidString(v) {
				return &Error{Row: row, Column: col, Message: "the cell's text is not valid UTF-8"}
			}
			if n := utf16Len(v); n > x.lim.MaxCellChars {
				return tooLongCell(row, col, n, x.lim.MaxCellChars)
			}
			return set(col, v)
		}
	}
}

func (x *xlsxReader) cellValue(typ, value string, style, row, col int, shared []string, styles []numberKind, date1904 bool) (string, error) {
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || i < 0 || i >= len(shared) {
			return "", x.damaged(fmt.Sprintf("cell %s%d refers to a text that is not there", ColumnName(col), row))
		}
		return shared[i], nil
	case "inlineStr", "str":
		return unescapeXString(value), nil
	case "b":
		switch strings.TrimSpace(value) {
		case "1", "true":
			return "TRUE", nil
		case "0", "false":
			return "FALSE", nil
		}
		return value, nil
	case "e", "d":
		return value, nil
	}
	kind := plainNumber
	if style >= 0 && style < len(styles) {
		kind = styles[style]
	}
	return formatNumber(value, kind, date1904), nil
}

func formulaError(row, col int, formula string) error {
	what := "a formula"
	if f := strings.TrimSpace(formula); f != "" {
		if utf16Len(f) > 60 {
			r := []rune(f)
			f = string(r[:min(len(r), 57)]) + "…"
		}
		what = fmt.Sprintf("the formula =%s", f)
	}
	return &Error{Row: row, Column: col, Message: fmt.Sprintf("cell %s%d holds %s; Ferry never imports formulas: replace them with their values (copy, then paste values only) and upload the file again", ColumnName(col), row, what)}
}
