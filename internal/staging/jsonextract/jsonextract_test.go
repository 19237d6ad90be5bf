package jsonextract_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/staging/extract"
	"github.com/ferry-migrate/ferry/internal/staging/jsonextract"
)

// result is everything a reader gave for one input.
type result struct {
	records []extract.Record
	bad     []*extract.RecordError
	columns []string
	err     error // an *extract.Error, or nil when the reader reached io.EOF
}

func readAll(t testing.TB, data []byte, opts jsonextract.Options) result {
	t.Helper()
	var res result
	r, err := jsonextract.NewReader(bytes.NewReader(data), opts)
	if err != nil {
		res.err = err
		return res
	}
	for i := 0; ; i++ {
		if i > len(data)+10 {
			t.Fatalf("reader does not end")
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *extract.RecordError
		if errors.As(err, &re) {
			res.bad = append(res.bad, re)
			continue
		}
		if err != nil {
			res.err = err
			// The refusal sticks.
			if _, again := r.Next(); again != err {
				t.Fatalf("Next after a refusal = %v, want the same error %v", again, err)
			}
			break
		}
		res.records = append(res.records, rec)
	}
	res.columns = r.Columns()
	return res
}

func mustRead(t *testing.T, data string) result {
	t.Helper()
	res := readAll(t, []byte(data), jsonextract.Options{})
	if res.err != nil {
		t.Fatalf("unexpected refusal: %v", res.err)
	}
	return res
}

func mustFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestArrayOfUsers(t *testing.T) {
	res := readAll(t, mustFile(t, "users-array.json"), jsonextract.Options{})
	if res.err != nil || len(res.bad) > 0 {
		t.Fatalf("err %v, bad %v", res.err, res.bad)
	}
	if len(res.records) != 2 {
		t.Fatalf("got %d records, want 2", len(res.records))
	}
	isaac := res.records[0]
	if isaac.Position != 1 || res.records[1].Position != 2 {
		t.Errorf("positions %d, %d: want the array indexes 1, 2", isaac.Position, res.records[1].Position)
	}
	want := map[string][]string{
		"id":                 {"00u1"},
		"login":              {"isaac.brock@example.com"},
		"firstName":          {"Isaac"},
		"lastName":           {"Brock"},
		"employeeNumber":     {"1042"},
		"active":             {"true"},
		"groups":             {"Everyone", "Engineering"},
		"address.city":       {"Montréal"},
		"address.postalCode": {"H2X 1Y4"},
		"address.geo.lat":    {"45.5"},
		"address.geo.lon":    {"-73.56"},
		"emails.value":       {"isaac.brock@example.com", "isaac@home.example"},
		"emails.type":        {"work", "home"},
		"emails.primary":     {"true", ""},
	}
	if !reflect.DeepEqual(isaac.Attributes, want) {
		t.Errorf("attributes\n got %v\nwant %v", isaac.Attributes, want)
	}
	zoe := res.records[1].Attributes
	if got := zoe["employeeNumber"]; !reflect.DeepEqual(got, []string{"1.5e3"}) {
		t.Errorf("number as written: got %q, want 1.5e3", got)
	}
	if got := zoe["firstName"]; !reflect.DeepEqual(got, []string{"Zoë"}) {
		t.Errorf("UTF-8 kept: got %q", got)
	}
	if _, ok := zoe["groups"]; ok {
		t.Errorf("an empty array is absent, got %q", zoe["groups"])
	}
	if _, ok := isaac.Attributes["manager"]; ok {
		t.Errorf("null is absent")
	}
	wantCols := []string{"id", "login", "firstName", "lastName", "employeeNumber", "active", "groups",
		"address.city", "address.postalCode", "address.geo.lat", "address.geo.lon",
		"emails.value", "emails.type", "emails.primary"}
	if !reflect.DeepEqual(res.columns, wantCols) {
		t.Errorf("columns\n got %v\nwant %v", res.columns, wantCols)
	}
}

func TestNDJSONWithCRLFAndBlankLines(t *testing.T) {
	res := readAll(t, mustFile(t, "users-crlf.ndjson"), jsonextract.Options{})
	if res.err != nil || len(res.bad) > 0 {
		t.Fatalf("err %v, bad %v", res.err, res.bad)
	}
	if len(res.records) != 2 || res.records[0].Position != 1 || res.records[1].Position != 3 {
		t.Fatalf("records %+v: want lines 1 and 3", res.records)
	}
	if got := res.records[0].Attributes["mail"]; !reflect.DeepEqual(got, []string{"a@example.com", "ann@example.com"}) {
		t.Errorf("multi-valued mail: %q", got)
	}
	if got, _ := res.records[1].Get("age"); got != "42" {
		t.Errorf("age %q", got)
	}
}

func TestByteOrderMark(t *testing.T) {
	res := readAll(t, mustFile(t, "bom.json"), jsonextract.Options{})
	if res.err != nil || len(res.records) != 1 {
		t.Fatalf("err %v, records %v", res.err, res.records)
	}
	if got, _ := res.records[0].Get("login"); got != "bom@example.com" {
		t.Errorf("login %q", got)
	}
	// And NDJSON with a BOM, leading blank lines counted.
	res = mustRead(t, "\ufeff\n\n{\"a\":\"1\"}\n")
	if len(res.records) != 1 || res.records[0].Position != 3 {
		t.Fatalf("records %+v: want one on line 3", res.records)
	}
}

func TestDuplicateKeyIsOneBadRecord(t *testing.T) {
	res := readAll(t, mustFile(t, "users.ndjson"), jsonextract.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.records) != 2 || len(res.bad) != 1 {
		t.Fatalf("records %d, bad %v: want 2 and 1", len(res.records), res.bad)
	}
	if got := res.bad[0].Error(); got != `line 2: duplicate key "login"` {
		t.Errorf("message %q", got)
	}
	if res.records[1].Position != 3 {
		t.Errorf("the record after the bad one is on line %d, want 3", res.records[1].Position)
	}
}

func TestRecordErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"duplicate key in a nested object", `[{"a":{"b":1,"b":2}}]`, `object 1: duplicate key "a.b" (line 1)`},
		{"dotted key colliding with a nested object", `{"a.b":"x","a":{"b":"y"}}`, `line 1: attribute "a.b" is given twice (a dotted key and a nested object name the same attribute)`},
		{"too deep", `{"a":{"b":{"c":{"d":1}}}}`, `line 1: "a.b.c" is nested more than 3 levels deep`},
		{"array in array", `{"a":[[1,2]]}`, `line 1: "a" holds an array inside an array: not supported`},
		{"array inside an array of objects", `{"emails":[{"value":"x","tags":["a"]}]}`, `line 1: "emails.tags" is an array inside the array of objects "emails": not supported`},
		{"objects mixed with scalars", `{"a":[1,{"b":2}]}`, `line 1: "a" mixes objects and plain values: not supported`},
		{"not an object in an array", "[\n{\"a\":1},\n\"x\"\n]", `object 2: not a JSON object (a string): each user must be an object (line 3)`},
		{"array line in NDJSON", "{\"a\":1}\n[1,[2]]\n", `line 2: not a JSON object (an array): each user must be an object`},
		{"number line in NDJSON", "{\"a\":1}\n\n42\n", `line 3: not a JSON object (a number): each user must be an object`},
		{"empty key", `{"":1}`, `line 1: empty key in the user object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustRead(t, tt.input)
			if len(res.bad) != 1 {
				t.Fatalf("bad records %v, want one", res.bad)
			}
			if got := res.bad[0].Error(); got != tt.want {
				t.Errorf("message\n got %s\nwant %s", got, tt.want)
			}
		})
	}
	// The reader goes on after a bad record.
	res := mustRead(t, `[{"a":1,"a":2},{"a":3},4,{"a":{"b":{"c":{"d":{}}}}},{"a":5}]`)
	if len(res.records) != 2 || len(res.bad) != 3 {
		t.Fatalf("records %v, bad %v", res.records, res.bad)
	}
	if res.records[0].Position != 2 || res.records[1].Position != 5 {
		t.Errorf("positions %d %d, want 2 5", res.records[0].Position, res.records[1].Position)
	}
}

func TestValueShapes(t *testing.T) {
	res := mustRead(t, `{"n":null,"e":{},"s":"","z":0,"neg":-1.25E-3,"big":123456789012345678901234567890,`+
		`"list":["a",null,"b"],"objs":[null,{"v":"x"},null,{"w":"y"}],"esc":"tab\tq\"\u00e9\ud83d\ude00"}`)
	got := res.records[0].Attributes
	want := map[string][]string{
		"s":      {""},
		"z":      {"0"},
		"neg":    {"-1.25E-3"},
		"big":    {"123456789012345678901234567890"},
		"list":   {"a", "b"},
		"objs.v": {"", "x", "", ""},
		"objs.w": {"", "", "", "y"},
		"esc":    {"tab\tq\"é😀"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
}

func TestDepthOption(t *testing.T) {
	res := readAll(t, []byte(`{"a":{"b":1}}`), jsonextract.Options{MaxDepth: 1})
	if res.err != nil || len(res.bad) != 1 || !strings.Contains(res.bad[0].Message, "nested more than 1 levels") {
		t.Fatalf("err %v bad %v", res.err, res.bad)
	}
	res = readAll(t, []byte(`{"a":{"b":{"c":{"d":{"e":1}}}}}`), jsonextract.Options{MaxDepth: 5})
	if res.err != nil || len(res.records) != 1 || res.records[0].Attributes["a.b.c.d.e"][0] != "1" {
		t.Fatalf("err %v records %v", res.err, res.records)
	}
}

func TestRefusals(t *testing.T) {
	big := `{"a":"` + strings.Repeat("x", 1<<20+1) + `"}`
	huge := "{\"ok\":1}\n{\"a\":\"" + strings.Repeat("y", 10<<20) + "\"}\n"
	hugeNumber := "[\n" + strings.Repeat("1", 10<<20) + "]"
	tests := []struct {
		name  string
		input []byte
		want  string
	}{
		{"empty file", nil, "the file is empty: expected a JSON array of user objects or one JSON object per line"},
		{"only whitespace", []byte(" \n\t\r\n"), "the file is empty: expected a JSON array of user objects or one JSON object per line"},
		{"only a BOM", []byte("\xef\xbb\xbf"), "the file is empty: expected a JSON array of user objects or one JSON object per line"},
		{"binary garbage", mustFile(t, "binary.json"), "line 1: not JSON: the file starts with binary data (byte 0x89)"},
		{"CSV", []byte("login,firstName\na@example.com,Ann\n"), `line 1: not JSON: the file starts with 'l' where a JSON array or object should begin`},
		{"top-level string", []byte(` "hello"`), "line 1: the file holds a single JSON string, not an array of user objects or one object per line"},
		{"top-level number", []byte("\n\n42"), "line 3: the file holds a single JSON number, not an array of user objects or one object per line"},
		{"top-level null", []byte("null"), "line 1: the file holds a single JSON null, not an array of user objects or one object per line"},
		{"UTF-16 LE", []byte("\xff\xfe[\x00]\x00"), "the file is UTF-16: JSON extracts must be UTF-8 (save the file as UTF-8)"},
		{"UTF-16 BE", []byte("\xfe\xff\x00[\x00]"), "the file is UTF-16: JSON extracts must be UTF-8 (save the file as UTF-8)"},
		{"UTF-16 without BOM", []byte("[\x00{\x00}\x00]\x00"), "line 1: binary data (a NUL byte): not a UTF-8 JSON file"},
		{"Latin-1", mustFile(t, "latin1.ndjson"), "line 2: byte 0xE9 is not valid UTF-8: save the file as UTF-8"},
		{"truncated array", mustFile(t, "truncated.json"), "line 3: the file ends inside a user object: it looks truncated"},
		{"array never closed", []byte("[{\"a\":1},\n{\"a\":2}\n"), "line 2: the file ends inside the array: it looks truncated"},
		{"truncated NDJSON", []byte("{\"a\":1}\n{\"a\":"), "line 2: the file ends inside a user object: it looks truncated"},
		{"truncated inside a nested array", []byte("{\"a\":[1,2"), "line 1: the file ends inside a user object: it looks truncated"},
		{"syntax error line", []byte("[\n{\"a\":1},\n{\"a\":2,}\n]"), "line 3: invalid JSON: invalid character '}' looking for beginning of object key string"},
		{"missing comma", []byte("{\"a\":1}\n{\"a\":1 \"b\":2}\n"), "line 2: invalid JSON: invalid character '\"' after object key:value pair"},
		{"trailing comma in array", []byte("[{\"a\":1},\n]"), "line 2: invalid JSON: invalid character ']' looking for beginning of value"},
		{"unquoted key", []byte("{a:1}"), "line 1: invalid JSON: invalid character 'a' looking for beginning of object key string"},
		{"data after the array", []byte("[{\"a\":1}]\n\n{\"b\":2}"), "line 3: unexpected data after the end of the JSON array"},
		{"stray closing brace in NDJSON", []byte("{\"a\":1}\n}\n"), "line 2: invalid JSON: invalid character '}' looking for beginning of value"},
		{"value over the limit", []byte(big), `line 1: the value of "a" is 1048577 bytes long, over the limit of 1048576 bytes`},
		{"10 MB single field", []byte(huge), "line 2: a value longer than the limit of 6291472 bytes"},
		{"10 MB number", []byte(hugeNumber), "line 2: a value longer than the limit of 6291472 bytes"},
		{"raw newline in a string", []byte("{\"a\":\"x\ny\"}"), "line 1: invalid JSON: invalid character '\\n' in string literal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := readAll(t, tt.input, jsonextract.Options{})
			var ee *extract.Error
			if !errors.As(res.err, &ee) {
				t.Fatalf("got %v (%d records, %d bad), want an *extract.Error", res.err, len(res.records), len(res.bad))
			}
			if got := res.err.Error(); got != tt.want {
				t.Errorf("message\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestValueLimitOption(t *testing.T) {
	opts := jsonextract.Options{MaxValueBytes: 10}
	if res := readAll(t, []byte(`{"a":"0123456789"}`), opts); res.err != nil {
		t.Fatalf("10 bytes is within a 10-byte limit: %v", res.err)
	}
	// The limit is on the decoded value: escapes do not count against it.
	if res := readAll(t, []byte(`{"a":"\u00e9\u00e9\u00e9\u00e9\u00e9"}`), opts); res.err != nil {
		t.Fatalf("5 × é is 10 bytes: %v", res.err)
	}
	res := readAll(t, []byte("{\"a\":1}\n{\"b\":\"0123456789A\"}"), opts)
	if res.err == nil || res.err.Error() != `line 2: the value of "b" is 11 bytes long, over the limit of 10 bytes` {
		t.Fatalf("got %v", res.err)
	}
	res = readAll(t, []byte(`{"0123456789AB":1}`), opts)
	if res.err == nil || res.err.Error() != `line 1: a key is 12 bytes long, over the limit of 10 bytes` {
		t.Fatalf("got %v", res.err)
	}
}

// A UTF-8 sequence cut by the decoder's read boundary is not mistaken for
// invalid UTF-8.
func TestMultibyteAcrossReads(t *testing.T) {
	var b strings.Builder
	b.WriteString("[")
	for i := range 3000 {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"cn":"Łukasz Żółć 😀 `)
		b.WriteString(strings.Repeat("é", i%7))
		b.WriteString(`"}`)
	}
	b.WriteString("]")
	r, err := jsonextract.NewReader(oneByteAtATime{strings.NewReader(b.String())}, jsonextract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", n+1, err)
		}
		n++
		if got, want := rec.Attributes["cn"][0], "Łukasz Żółć 😀 "+strings.Repeat("é", (n-1)%7); got != want {
			t.Fatalf("record %d: %q, want %q", n, got, want)
		}
	}
	if n != 3000 {
		t.Fatalf("%d records", n)
	}
}

// oneByteAtATime hands out its data in reads of a few bytes.
type oneByteAtATime struct{ r io.Reader }

func (o oneByteAtATime) Read(p []byte) (int, error) {
	if len(p) > 3 {
		p = p[:3]
	}
	return o.r.Read(p)
}

// A reader error that is not the end of the file refuses the extract.
func TestReadFailure(t *testing.T) {
	r, err := jsonextract.NewReader(io.MultiReader(strings.NewReader(`[{"a":1},`), failing{}), jsonextract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("first record: %v", err)
	}
	_, err = r.Next()
	var ee *extract.Error
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("got %v", err)
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// Many records stream through without the reader keeping them.
func TestStreamsLargeNDJSON(t *testing.T) {
	data := generateNDJSON(20000)
	res := readAll(t, data, jsonextract.Options{})
	if res.err != nil || len(res.bad) != 0 || len(res.records) != 20000 {
		t.Fatalf("err %v bad %d records %d", res.err, len(res.bad), len(res.records))
	}
	last := res.records[len(res.records)-1]
	if last.Position != 20000 {
		t.Errorf("last record on line %d", last.Position)
	}
	if got, _ := last.Get("login"); got != "user19999@example.com" {
		t.Errorf("last login %q", got)
	}
}

// An object with many keys still has its duplicates found.
func TestDuplicateAmongManyKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 100 {
		fmt.Fprintf(&b, `"k%d":%d,`, i, i)
	}
	b.WriteString(`"k7":"again"}`)
	res := mustRead(t, b.String())
	if len(res.bad) != 1 || res.bad[0].Message != `duplicate key "k7"` {
		t.Fatalf("bad %v", res.bad)
	}
	res = mustRead(t, strings.Replace(b.String(), `"k7":"again"`, `"k100":"ok"`, 1))
	if len(res.records) != 1 || len(res.records[0].Attributes) != 101 {
		t.Fatalf("records %v", res.records)
	}
}

// An empty array is an extract without users, not an error (like a CSV file
// with only its header).
func TestEmptyArray(t *testing.T) {
	for _, in := range []string{"[]", " [\n ]\n", "\ufeff[]"} {
		res := mustRead(t, in)
		if len(res.records) != 0 || len(res.bad) != 0 || len(res.columns) != 0 {
			t.Fatalf("%q: %+v", in, res)
		}
	}
}
