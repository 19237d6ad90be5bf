package csvextract_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/staging/csvextract"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// --- good files -------------------------------------------------------------

func TestDelimiters(t *testing.T) {
	for _, d := range []string{",", ";", "\t", "|"} {
		t.Run(fmt.Sprintf("%q", d), func(t *testing.T) {
			in := strings.Join([]string{"email", "first name", "last"}, d) + "\n" +
				strings.Join([]string{"ann@example.com", "Ann", "Brock"}, d) + "\n" +
				strings.Join([]string{`"bob@example.com"`, `"Bob` + d + ` Jr"`, `"O""Neil"`}, d) + "\n"
			res := readString(t, in, csvextract.Options{}).ok(t)
			equal(t, res.reader.Delimiter(), rune(d[0]))
			equal(t, res.cols, []string{"email", "first name", "last"})
			equal(t, res.values(), [][]string{{"ann@example.com", "Ann", "Brock"}, {"bob@example.com", "Bob" + d + " Jr", `O"Neil`}})
			equal(t, res.positions(), []int{2, 3})
			equal(t, res.reader.Encoding(), "UTF-8")
			if len(res.warnings) != 0 {
				t.Fatalf("warnings %q", res.warnings)
			}
		})
	}
}

func TestDelimiterDetection(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   rune
	}{
		{`"last, first, middle";email;phone`, ';'}, // commas inside quotes do not count
		{"Name, First;Email;Phone", ';'},           // the most frequent wins
		{"a,b;c", ','},                             // a tie goes to , ; TAB | in that order
		{"a|b|c\tx", '|'},
		{"email", ','}, // one column
	} {
		res := readString(t, tc.header+"\n", csvextract.Options{}).ok(t)
		if got := res.reader.Delimiter(); got != tc.want {
			t.Errorf("%q: delimiter %q, want %q", tc.header, got, tc.want)
		}
	}
	res := readString(t, "a;b,c\n1;2,3\n", csvextract.Options{Delimiter: ','}).ok(t)
	equal(t, res.cols, []string{"a;b", "c"})
	equal(t, res.values(), [][]string{{"1;2", "3"}})

	if _, err := csvextract.NewReader(strings.NewReader("a\n"), csvextract.Options{Delimiter: '"'}); err == nil {
		t.Fatal("a quote as the delimiter was accepted")
	}
}

func TestLineEndings(t *testing.T) {
	want := [][]string{{"1", "Ann"}, {"2", ""}, {"3", "Carl"}}
	for name, in := range map[string]string{
		"LF":                "id,name\n1,Ann\n2,\n3,Carl\n",
		"CRLF":              "id,name\r\n1,Ann\r\n2,\r\n3,Carl\r\n",
		"mixed":             "id,name\r\n1,Ann\n2,\r\n3,Carl\n",
		"no final newline":  "id,name\r\n1,Ann\r\n2,\r\n3,Carl",
		"quoted at the end": "id,name\r\n\"1\",\"Ann\"\r\n\"2\",\"\"\r\n\"3\",\"Carl\"",
	} {
		t.Run(name, func(t *testing.T) {
			res := readString(t, in, csvextract.Options{}).ok(t)
			equal(t, res.cols, []string{"id", "name"})
			equal(t, res.values(), want)
			equal(t, res.positions(), []int{2, 3, 4})
		})
	}
}

func TestQuotedFieldsAndPositions(t *testing.T) {
	in := "id,name,address\n" + // 1
		"1,Ann,\"1 Main St\n" + // 2
		"Springfield\"\n" + // 3
		"2,Bob,plain\n" + // 4
		"\n" + // 5: blank, skipped
		"3,\"Carl \"\"CJ\"\"\",\"a,b\"\r\n" + // 6
		"4,Dee,\"x\r\ny\"\r\n" + // 7-8: the CRLF inside quotes is data
		"\r\n" + // 9
		"5,\"\",\"\"\"\"\n" + // 10
		"6,\"multi\n\nline\n\",z\n" + // 11-14
		"7,last,row" // 15
	res := readString(t, in, csvextract.Options{}).ok(t)
	equal(t, res.values(), [][]string{
		{"1", "Ann", "1 Main St\nSpringfield"},
		{"2", "Bob", "plain"},
		{"3", `Carl "CJ"`, "a,b"},
		{"4", "Dee", "x\r\ny"},
		{"5", "", `"`},
		{"6", "multi\n\nline\n", "z"},
		{"7", "last", "row"},
	})
	equal(t, res.positions(), []int{2, 4, 6, 7, 10, 11, 15})
}

func TestValuesKeptAsRead(t *testing.T) {
	in := "name ,title\n" +
		"  Ann  , \"Chief\" \n" + // a quote not at the start of a field is a character
		"O\"Brien,5\" floppy\n" +
		"\tTab\t,\v\n"
	res := readString(t, in, csvextract.Options{}).ok(t)
	equal(t, res.cols, []string{"name ", "title"})
	equal(t, res.values(), [][]string{{"  Ann  ", ` "Chief" `}, {`O"Brien`, `5" floppy`}, {"\tTab\t", "\v"}})
	if _, ok := res.records[0].Attributes["name"]; ok {
		t.Fatal("header names are not trimmed, so name is not a column")
	}
}

func TestByteOrderMark(t *testing.T) {
	res := readString(t, "\xEF\xBB\xBFemail;name\nann@example.com;Zoë\n", csvextract.Options{}).ok(t)
	equal(t, res.cols, []string{"email", "name"})
	equal(t, res.values(), [][]string{{"ann@example.com", "Zoë"}})
	equal(t, res.reader.Encoding(), "UTF-8 with BOM")
	if len(res.warnings) != 0 {
		t.Fatalf("warnings %q", res.warnings)
	}
}

func TestUTF16(t *testing.T) {
	text := "email\tname\r\nzoe@example.com\t\"Zoë 𝔘\"\r\nli@example.com\t\"李\r\n明\"\r\n"
	for _, big := range []bool{false, true} {
		res := read(t, bytes.NewReader(utf16File(text, big)), csvextract.Options{}).ok(t)
		equal(t, res.cols, []string{"email", "name"})
		equal(t, res.values(), [][]string{{"zoe@example.com", "Zoë 𝔘"}, {"li@example.com", "李\r\n明"}})
		equal(t, res.positions(), []int{2, 3})
		want := map[bool]string{false: "UTF-16LE", true: "UTF-16BE"}[big]
		equal(t, res.reader.Encoding(), want)
		if len(res.warnings) != 0 {
			t.Fatalf("warnings %q", res.warnings)
		}
	}
}

func TestWindows1252(t *testing.T) {
	in := "email;first;last;note\r\n" +
		"jose@example.com;Jos\xE9;M\xFCller;\x80 \x93quoted\x94\r\n" +
		"ana@example.com;Ana;\xC5str\xF6m;\r\n"
	res := readString(t, in, csvextract.Options{}).ok(t)
	equal(t, res.values(), [][]string{
		{"jose@example.com", "José", "Müller", "€ “quoted”"},
		{"ana@example.com", "Ana", "Åström", ""},
	})
	equal(t, res.warnings, []string{"converted from Windows-1252"})
	equal(t, res.reader.Encoding(), "Windows-1252")
}

// A file that is plain ASCII for longer than the detection window is decided
// where its first non-ASCII byte is: nothing before it reads differently.
func TestEncodingDecidedLate(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("id,name\n")
	for i := range 10_000 {
		fmt.Fprintf(&b, "%d,Plain Name %d\n", i, i)
	}
	ascii := b.Len()
	if ascii < 128<<10 {
		t.Fatalf("only %d bytes of ASCII", ascii)
	}
	t.Run("Windows-1252", func(t *testing.T) {
		in := b.String() + "10000,Jos\xE9\n10001,Fran\xE7ois\n"
		res := readString(t, in, csvextract.Options{}).ok(t)
		equal(t, len(res.records), 10_002)
		equal(t, res.values()[10_000:], [][]string{{"10000", "José"}, {"10001", "François"}})
		equal(t, res.records[10_001].Position, 10_003)
		equal(t, res.warnings, []string{"converted from Windows-1252"})
	})
	t.Run("UTF-8", func(t *testing.T) {
		res := readString(t, b.String()+"10000,José\n", csvextract.Options{}).ok(t)
		equal(t, res.values()[10_000:], [][]string{{"10000", "José"}})
		if len(res.warnings) != 0 {
			t.Fatalf("warnings %q", res.warnings)
		}
	})
}

func TestHeaderOnly(t *testing.T) {
	for _, in := range []string{"email,name\n", "email,name", "email,name\r\n\r\n\n"} {
		res := readString(t, in, csvextract.Options{}).ok(t)
		equal(t, res.cols, []string{"email", "name"})
		if len(res.records)+len(res.ragged) != 0 {
			t.Fatalf("%q: records %v", in, res.records)
		}
	}
}

func TestMultiValue(t *testing.T) {
	in := "email,groups,title\n" +
		"ann@example.com,Sales;Marketing,VP;Sales\n" +
		"bob@example.com,,Engineer\n" +
		"carl@example.com,Sales;;Ops;,\n"
	res := readString(t, in, csvextract.Options{MultiValueSeparator: ";"}).ok(t)
	equal(t, res.records[0].Attributes, map[string][]string{"email": {"ann@example.com"}, "groups": {"Sales", "Marketing"}, "title": {"VP", "Sales"}})
	equal(t, res.records[1].Attributes["groups"], []string{""})
	equal(t, res.records[2].Attributes["groups"], []string{"Sales", "", "Ops", ""})

	res = readString(t, in, csvextract.Options{MultiValueSeparator: ";", MultiValueColumns: []string{"groups"}}).ok(t)
	equal(t, res.records[0].Attributes["groups"], []string{"Sales", "Marketing"})
	equal(t, res.records[0].Attributes["title"], []string{"VP;Sales"})

	res = readString(t, in, csvextract.Options{}).ok(t)
	equal(t, res.records[0].Attributes["groups"], []string{"Sales;Marketing"})
}

// Records keep their values once the reader has moved on, with buffers
// small enough that every line is read in pieces.
func TestRecordsDoNotAlias(t *testing.T) {
	defer csvextract.SetBufferSizes(16, 16)()
	var b []byte
	b = append(b, userHeader...)
	for i := range 500 {
		b = appendUser(b, i)
	}
	res := read(t, bytes.NewReader(b), csvextract.Options{Delimiter: ','}).ok(t)
	if len(res.records) != 500 {
		t.Fatalf("%d records", len(res.records))
	}
	for i, rec := range res.records {
		line := string(appendUser(nil, i))
		if got := rec.Attributes["email"][0]; got != fmt.Sprintf("user%d@example.com", i) {
			t.Fatalf("record %d: email %q (line %q)", i, got, line)
		}
		first, last := firstNames[i%len(firstNames)], lastNames[i%len(lastNames)]
		if got := rec.Attributes["displayName"][0]; got != last+", "+first {
			t.Fatalf("record %d: displayName %q", i, got)
		}
		if got := rec.Attributes["locale"][0]; got != "en_US" {
			t.Fatalf("record %d: locale %q", i, got)
		}
		if rec.Position != i+2 {
			t.Fatalf("record %d at line %d", i, rec.Position)
		}
	}
}

// Whatever encoding/csv writes, the reader reads back, with each delimiter
// and line ending, and with buffers of any size.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "Zoë", "𝔘", " ", ",", ";", "\t", "|", `"`, "\n", "\r\n", "\r", "x y", "李"}
	for round := range 60 {
		delim := []rune{',', ';', '\t', '|'}[round%4]
		crlf := round%3 == 0
		ncols := 2 + rng.IntN(5)
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Comma, w.UseCRLF = delim, crlf
		header := make([]string, ncols)
		for i := range header {
			header[i] = fmt.Sprintf("c%d", i)
		}
		_ = w.Write(header)
		var want [][]string
		for range 1 + rng.IntN(40) {
			row := make([]string, ncols)
			for i := range row {
				var s strings.Builder
				for range rng.IntN(6) {
					s.WriteString(pieces[rng.IntN(len(pieces))])
				}
				row[i] = s.String()
			}
			_ = w.Write(row)
			if crlf { // encoding/csv drops CRs and writes newlines as CRLF
				for i, v := range row {
					row[i] = strings.ReplaceAll(strings.ReplaceAll(v, "\r", ""), "\n", "\r\n")
				}
			}
			want = append(want, row)
		}
		w.Flush()
		for _, sizes := range [][2]int{{0, 0}, {16, 16}, {17, 64}} {
			restore := csvextract.SetBufferSizes(sizes[0], sizes[1])
			res := read(t, bytes.NewReader(buf.Bytes()), csvextract.Options{}).ok(t)
			restore()
			equal(t, res.cols, header)
			equal(t, res.values(), want)
		}
	}
}

// --- bad files ---------------------------------------------------------------

func TestEmpty(t *testing.T) {
	for _, in := range []string{"", "\xEF\xBB\xBF", "\n\n\r\n", string(utf16File("", false))} {
		res := readString(t, in, csvextract.Options{})
		refused(t, res.err, 0, "the file is empty")
	}
}

func TestHeaderProblems(t *testing.T) {
	res := readString(t, "email,name,email,id,name\n1,2,3,4,5\n", csvextract.Options{})
	refused(t, res.err, 1, `the header names the same column twice: "email" (columns 1 and 3), "name" (columns 2 and 5)`)
	res = readString(t, "email,,name, \n", csvextract.Options{})
	refused(t, res.err, 1, "the header has no name for columns 2, 4")
	res = readString(t, "email,name,\n", csvextract.Options{})
	refused(t, res.err, 1, "the header has no name for column 3")
	res = readString(t, "\n\nemail,email\n", csvextract.Options{})
	refused(t, res.err, 3, `"email" (columns 1 and 2)`)
}

func TestUnterminatedQuote(t *testing.T) {
	in := "id,note\n" +
		"1,fine\n" +
		"2,\"starts here\n" + // 3
		"and runs on\n" +
		"3,to the end\n"
	res := readString(t, in, csvextract.Options{})
	refused(t, res.err, 3, "never closed")
	if len(res.records) != 1 {
		t.Fatalf("%d records before the refusal", len(res.records))
	}

	// A generated file cut in the middle of a quoted display name.
	var b []byte
	b = append(b, userHeader...)
	for i := range 1000 {
		b = appendUser(b, i)
	}
	b = appendUser(b, 1000)
	cut := bytes.LastIndex(b, []byte(`, Isaac"`))
	res = read(t, bytes.NewReader(b[:cut]), csvextract.Options{})
	refused(t, res.err, 1002, "never closed")
}

func TestTextAfterClosingQuote(t *testing.T) {
	res := readString(t, "id,name\n1,\"Ann\"\n2,\"Bob\"by\n", csvextract.Options{})
	refused(t, res.err, 3, "text after the closing quote")
	res = readString(t, "id,name\n1,\"Ann\n\"x,\n", csvextract.Options{})
	refused(t, res.err, 3, "text after the closing quote")
	res = readString(t, "id,name\n1,\"Ann\"\r2\n", csvextract.Options{})
	refused(t, res.err, 2, "text after the closing quote")
}

// A 10 MB field refuses the file at the line it starts on, and is never
// buffered whole.
func TestHugeField(t *testing.T) {
	const huge = 10_000_000
	for _, tc := range []struct {
		name, prefix, suffix string
		want                 string
	}{
		{"unquoted", "id,note\n1,a\n2,", "\n3,c\n", "a field is larger than 1 MiB"},
		{"quoted", "id,note\n1,a\n2,\"", "\"\n3,c\n", "is its closing quote missing?"},
		{"quoted over lines", "id,note\n1,a\n2,\"", "\"\n3,c\n", "is its closing quote missing?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := byte('x')
			if tc.name == "quoted over lines" {
				c = '\n'
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			src := &repeat{prefix: []byte(tc.prefix), c: c, n: huge, suffix: []byte(tc.suffix)}
			res := read(t, src, csvextract.Options{})
			runtime.ReadMemStats(&after)
			refused(t, res.err, 3, tc.want)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Fatalf("allocated %d MiB reading a 10 MB field", alloc>>20)
			}
		})
	}
	// Under the limit it is a value like any other.
	src := &repeat{prefix: []byte("id,note\n1,"), c: 'x', n: huge, suffix: []byte("\n")}
	res := read(t, src, csvextract.Options{MaxFieldBytes: 16 << 20}).ok(t)
	if got := len(res.records[0].Attributes["note"][0]); got != huge {
		t.Fatalf("a value of %d bytes", got)
	}
	// The row limit counts every field.
	res = readString(t, "a,b,c\n1,"+strings.Repeat("x", 600)+","+strings.Repeat("y", 600)+"\n",
		csvextract.Options{MaxFieldBytes: 1000, MaxRecordBytes: 1000})
	refused(t, res.err, 2, "the row is larger than 1000 bytes")
}

func TestBrokenEncoding(t *testing.T) {
	t.Run("UTF-8 then Windows-1252 midway", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("id,name\n1,Zoë\n")
		for i := 2; i < 5000; i++ {
			fmt.Fprintf(&b, "%d,Name %d\n", i, i)
		}
		b.WriteString("5000,Jos\xE9\n5001,fine\n") // line 5001
		res := readString(t, b.String(), csvextract.Options{})
		refused(t, res.err, 5001, "broken encoding: byte 0xE9 is not UTF-8")
		if len(res.records) != 4999 {
			t.Fatalf("%d records", len(res.records))
		}
	})
	for _, tc := range []struct {
		name string
		in   []byte
		line int
		want string
	}{
		{"mixed in the first window", []byte("id,name\n1,Zo\xC3\xAB\n2,Jos\xE9\n"), 3, "mixes UTF-8 with another encoding"},
		{"UTF-8 with BOM", []byte("\xEF\xBB\xBFid,name\n1,ok\n2,\xFF\n"), 3, "byte 0xFF is not UTF-8"},
		{"UTF-8 cut in a character", []byte("id,name\n1,Zo\xC3\xAB\n2,Zo\xC3"), 3, "ends in the middle of a UTF-8 character"},
		{"undefined in Windows-1252", []byte("id,name\n1,Jos\xE9\n2,\x81\n"), 3, "byte 0x81 is neither UTF-8 nor Windows-1252"},
		{"UTF-16 unpaired surrogate", append(utf16File("id,name\n1,a\n2,", false), 0x00, 0xD8, 'b', 0, '\n', 0), 3, "unpaired UTF-16 surrogate"},
		{"UTF-16 lone low surrogate", append(utf16File("id,name\n1,a\n", true), 0xDC, 0x00), 3, "unpaired UTF-16 surrogate"},
		{"UTF-16 odd length", append(utf16File("id,name\n1,a\n2,b", false), 'c'), 3, "ends in the middle of a UTF-16 character"},
		{"UTF-32", []byte("\xFF\xFE\x00\x00i\x00\x00\x00"), 1, "UTF-32 is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := read(t, bytes.NewReader(tc.in), csvextract.Options{})
			refused(t, res.err, tc.line, tc.want)
		})
	}
}

func TestNotText(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	noNUL := bytes.ReplaceAll(garbage, []byte{0}, []byte{1})
	pdf := "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n" +
		"2 0 obj\n<< /Length 44 /Filter /FlateDecode >>\nstream\nx\x9c\x0b\xc9\xc8,V\x00\xa2D\x85\x92\xd4\x8a\x12\x00\nendstream\nendobj\n%%EOF\n"
	for _, tc := range []struct {
		name string
		in   []byte
		line int
		want string
	}{
		{"binary garbage", garbage, 1, "not a text file"},
		{"binary garbage without NUL", noNUL, 1, "not a text file (it is full of control characters)"},
		{"PDF", []byte(pdf), 1, "not a text file (it looks like a PDF document)"},
		{"xlsx", []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00"), 1, "an Excel .xlsx workbook?"},
		{"UTF-16 without BOM", []byte("i\x00d\x00,\x00n\x00\n\x00"), 1, "UTF-16 without a byte-order mark"},
		{"NUL midway", []byte("id,name\n1,Ann\n2,B\x00b\n"), 3, "not a text file (it contains a NUL byte)"},
		{"NUL after Windows-1252", []byte("id,name\n1,Jos\xE9\n\n2,\x00\n"), 4, "NUL byte"},
		{"NUL in UTF-16", utf16File("id,name\n1,a\x00\n", false), 2, "NUL byte"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := read(t, bytes.NewReader(tc.in), csvextract.Options{})
			refused(t, res.err, tc.line, tc.want)
		})
	}
}

func TestIOError(t *testing.T) {
	boom := errors.New("connection reset")
	res := read(t, &failing{data: bytes.NewReader([]byte("id,name\n1,Ann\n2,Bo")), err: boom}, csvextract.Options{})
	if !errors.Is(res.err, boom) {
		t.Fatalf("got %v", res.err)
	}
	var e *extract.Error
	if errors.As(res.err, &e) {
		t.Fatalf("an I/O error is not the file's fault: %v", res.err)
	}
	if !strings.Contains(res.err.Error(), "line 3") {
		t.Fatalf("no line: %v", res.err)
	}
}

// --- ragged rows -------------------------------------------------------------

// ragged makes a file of n rows of 3 fields, the rows at the given lines
// having 2 (or 4, every other one).
func ragged(n int, lines ...int) string {
	bad := map[int]bool{}
	for _, l := range lines {
		bad[l] = true
	}
	var b strings.Builder
	b.WriteString("id,name,email\n")
	for line := 2; line < n+2; line++ {
		switch {
		case bad[line] && line%2 == 0:
			fmt.Fprintf(&b, "%d,only two\n", line)
		case bad[line]:
			fmt.Fprintf(&b, "%d,n,e,extra\n", line)
		default:
			fmt.Fprintf(&b, "%d,Name,user%d@example.com\n", line, line)
		}
	}
	return b.String()
}

func TestRaggedRows(t *testing.T) {
	t.Run("under the threshold", func(t *testing.T) {
		res := readString(t, ragged(200, 50, 151), csvextract.Options{}).ok(t)
		if len(res.records) != 198 || len(res.ragged) != 2 {
			t.Fatalf("%d records, %d ragged", len(res.records), len(res.ragged))
		}
		equal(t, res.ragged[0].Error(), "line 50: 2 fields where the header has 3")
		equal(t, res.ragged[1].Error(), "line 151: 4 fields where the header has 3")
		if !extract.IsRecordError(res.ragged[0]) {
			t.Fatal("not a record error")
		}
		equal(t, res.records[48].Position, 51) // the reader went on
	})
	t.Run("exactly 1%", func(t *testing.T) {
		res := readString(t, ragged(100, 7), csvextract.Options{}).ok(t)
		equal(t, len(res.ragged), 1)
	})
	t.Run("over the threshold", func(t *testing.T) {
		res := readString(t, ragged(100, 7, 9), csvextract.Options{})
		// Every row is read; the end of the file refuses it.
		if len(res.records) != 98 || len(res.ragged) != 2 {
			t.Fatalf("%d records, %d ragged", len(res.records), len(res.ragged))
		}
		refused(t, res.err, 0, "more than 1% of rows have the wrong number of fields: 2 of 100 (the first on line 7)")
	})
	t.Run("configured ratio", func(t *testing.T) {
		res := readString(t, ragged(100, 7, 9), csvextract.Options{MaxRaggedRatio: 0.02}).ok(t)
		equal(t, len(res.ragged), 2)
		res = readString(t, ragged(100, 7, 9, 11), csvextract.Options{MaxRaggedRatio: 0.025})
		refused(t, res.err, 0, "more than 2.5% of rows")
		res = readString(t, ragged(10, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), csvextract.Options{MaxRaggedRatio: 1}).ok(t)
		equal(t, len(res.ragged), 10)
	})
	t.Run("none allowed", func(t *testing.T) {
		res := readString(t, ragged(1000, 7, 9), csvextract.Options{MaxRaggedRatio: -1})
		refused(t, res.err, 0, "a row has the wrong number of fields (line 7) and none may")
		if len(res.ragged) != 0 || len(res.records) != 5 {
			t.Fatalf("%d records, %d ragged", len(res.records), len(res.ragged))
		}
	})
	t.Run("MaxRaggedRows refuses at once", func(t *testing.T) {
		res := readString(t, ragged(10_000, 7, 9, 11, 13), csvextract.Options{MaxRaggedRows: 2, MaxRaggedRatio: 0.5})
		refused(t, res.err, 0, "more than 2 rows have the wrong number of fields (the first on line 7)")
		equal(t, len(res.ragged), 2)
		equal(t, len(res.records), 7) // lines 2-6, 8 and 10; line 11 refused the file
	})
	t.Run("SizeHint refuses early", func(t *testing.T) {
		lines := make([]int, 0, 5000)
		for l := 2; l < 5002; l++ {
			lines = append(lines, l)
		}
		in := ragged(10_000, lines...)
		res := readString(t, in, csvextract.Options{SizeHint: int64(len(in))})
		refused(t, res.err, 0, "already, of at most")
		if n := len(res.ragged); n >= 5000 || n < 100 {
			t.Fatalf("refused after %d ragged rows", n)
		}
		// Without the hint, the end of the file decides.
		res = readString(t, in, csvextract.Options{})
		refused(t, res.err, 0, "5000 of 10000")
		equal(t, len(res.ragged), 5000)
		// A hint never refuses a file the end of the file would accept.
		in = ragged(10_000, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
		res = readString(t, in, csvextract.Options{SizeHint: int64(len(in))}).ok(t)
		equal(t, len(res.ragged), 10)
	})
}

// --- memory ---------------------------------------------------------------------

// Reading a stream of about 100 MB never holds more than a few MiB.
func TestMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 100 MB")
	}
	const rows = 400_000
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, uint64(0)
	r, err := csvextract.NewReader(&generator{rows: rows}, csvextract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n++; n%20_000 == 0 {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
	}
	if n != rows {
		t.Fatalf("%d rows", n)
	}
	if grown := int64(peak) - int64(base); grown > 48<<20 {
		t.Fatalf("the heap grew by %d MiB reading %d rows", grown>>20, rows)
	}
}
