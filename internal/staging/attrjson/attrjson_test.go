package attrjson

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// mustMarshal is the reference encoder.
func mustMarshal(t testing.TB, m map[string][]string) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	return b
}

func TestAppend(t *testing.T) {
	tests := []struct {
		name string
		m    map[string][]string
		want string
	}{
		{"nil map", nil, `null`},
		{"empty map", map[string][]string{}, `{}`},
		{"nil slice", map[string][]string{"a": nil}, `{"a":null}`},
		{"empty slice", map[string][]string{"a": {}}, `{"a":[]}`},
		{"empty string", map[string][]string{"": {""}}, `{"":[""]}`},
		{"sorted keys", map[string][]string{"b": {"2"}, "a": {"1"}, "B": {"3"}, "aa": {}},
			`{"B":["3"],"a":["1"],"aa":[],"b":["2"]}`},
		{"multi values", map[string][]string{"memberOf": {"cn=a", "cn=b"}, "givenName": {"Ann"}},
			`{"givenName":["Ann"],"memberOf":["cn=a","cn=b"]}`},
		{"quote backslash slash", map[string][]string{`k"\/`: {`"\/`}}, `{"k\"\\/":["\"\\/"]}`},
		{"short escapes", map[string][]string{"c": {"\b\f\n\r\t"}}, `{"c":["\b\f\n\r\t"]}`},
		{"other controls", map[string][]string{"c": {"\x00\x01\x1f\x0b"}}, `{"c":["\u0000\u0001\u001f\u000b"]}`},
		{"DEL is literal", map[string][]string{"c": {"\x7f"}}, "{\"c\":[\"\x7f\"]}"},
		{"html", map[string][]string{"<a&b>": {"<script>&amp;</script>"}},
			`{"\u003ca\u0026b\u003e":["\u003cscript\u003e\u0026amp;\u003c/script\u003e"]}`},
		{"line separators", map[string][]string{"s": {"a\u2028b\u2029c"}}, `{"s":["a\u2028b\u2029c"]}`},
		{"utf8 kept", map[string][]string{"l": {"Besançon", "Zürich", "日本", "😀"}}, `{"l":["Besançon","Zürich","日本","😀"]}`},
		{"invalid utf8", map[string][]string{"\xff": {"a\xc3", "\xed\xa0\x80", "\xf0\x9f\x98"}},
			`{"\ufffd":["a\ufffd","\ufffd\ufffd\ufffd","\ufffd\ufffd\ufffd"]}`},
		{"literal U+FFFD", map[string][]string{"r": {"\uFFFD"}}, "{\"r\":[\"\uFFFD\"]}"},
		{"keys sorted raw not escaped", map[string][]string{"\xff": nil, "\uFFFD": nil, "\x00": nil, "<": nil, "=": nil},
			"{\"\\u0000\":null,\"\\u003c\":null,\"=\":null,\"\uFFFD\":null,\"\\ufffd\":null}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(Append(nil, tt.m))
			if got != tt.want {
				t.Errorf("Append = %s\nwant     %s", got, tt.want)
			}
			if ref := string(mustMarshal(t, tt.m)); got != ref {
				t.Errorf("Append = %s\njson.Marshal %s", got, ref)
			}
			// Appending keeps the prefix.
			if got := string(Append([]byte("x:"), tt.m)); got != "x:"+tt.want {
				t.Errorf("Append(prefix) = %s", got)
			}
		})
	}
}

func TestAppendEveryByteAndRune(t *testing.T) {
	// Each single byte, as key and value.
	for b := 0; b < 256; b++ {
		s := string([]byte{byte(b)})
		m := map[string][]string{s: {s, "a" + s + "b"}}
		if got, want := Append(nil, m), mustMarshal(t, m); string(got) != string(want) {
			t.Fatalf("byte %#x: Append = %s, json.Marshal = %s", b, got, want)
		}
	}
	// Every rune (surrogate code points encode as U+FFFD in Go strings).
	var sb strings.Builder
	for r := rune(0); r <= utf8.MaxRune; r++ {
		sb.WriteRune(r)
		if sb.Len() > 4000 || r == utf8.MaxRune {
			m := map[string][]string{"k": {sb.String()}}
			if got, want := Append(nil, m), mustMarshal(t, m); string(got) != string(want) {
				t.Fatalf("runes up to %U: Append differs from json.Marshal", r)
			}
			sb.Reset()
		}
	}
}

func TestAppendLargeMap(t *testing.T) {
	// More keys than the stack buffer holds.
	m := map[string][]string{}
	for i := range 3 * stackPairs {
		m[strings.Repeat("k", i%7)+string(rune('A'+i%50))+string(rune('a'+i/50))] = []string{"v"}
	}
	if got, want := Append(nil, m), mustMarshal(t, m); string(got) != string(want) {
		t.Fatalf("Append = %s\njson.Marshal = %s", got, want)
	}
}

func TestAppendAllocs(t *testing.T) {
	m := benchRecord()
	buf := Append(nil, m)
	if n := testing.AllocsPerRun(100, func() { buf = Append(buf[:0], m) }); n != 0 {
		t.Errorf("Append into a large enough buffer: %v allocs, want 0", n)
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string][]string
	}{
		{"null", `null`, nil},
		{"null with space", " \t\r\nnull\n ", nil},
		{"empty object", `{}`, map[string][]string{}},
		{"empty object spaced", " { \n } ", map[string][]string{}},
		{"null value", `{"a":null}`, map[string][]string{"a": nil}},
		{"empty array", `{"a":[]}`, map[string][]string{"a": {}}},
		{"empty array spaced", `{"a":[ ]}`, map[string][]string{"a": {}}},
		{"null element is empty string", `{"a":[null,"x",null]}`, map[string][]string{"a": {"", "x", ""}}},
		{"simple", `{"givenName":["Ann"],"memberOf":["cn=a","cn=b"]}`,
			map[string][]string{"givenName": {"Ann"}, "memberOf": {"cn=a", "cn=b"}}},
		{"whitespace everywhere", " {\n\t\"a\" :\r [ \"1\" , \"2\" ] ,\"b\"\t:\tnull\n}\r\n",
			map[string][]string{"a": {"1", "2"}, "b": nil}},
		{"duplicate key last wins", `{"a":["1"],"b":[],"a":["2","3"]}`, map[string][]string{"a": {"2", "3"}, "b": {}}},
		{"duplicate key null wins", `{"a":["1"],"a":null}`, map[string][]string{"a": nil}},
		{"duplicate key array wins", `{"a":null,"a":[]}`, map[string][]string{"a": {}}},
		{"empty key and value", `{"":[""]}`, map[string][]string{"": {""}}},
		{"short escapes", `{"e":["\"\\\/\b\f\n\r\t"]}`, map[string][]string{"e": {"\"\\/\b\f\n\r\t"}}},
		{"unicode escapes", `{"\u0067n":["\u00e9\u00E9\u20ac\u0000\u003c"]}`, map[string][]string{"gn": {"éé€\x00<"}}},
		{"surrogate pair", `{"e":["\ud83d\ude00","\uD83D\uDE00x"]}`, map[string][]string{"e": {"😀", "😀x"}}},
		{"lone high surrogate", `{"e":["\ud83d","\ud83dx","\ud83d\u0041"]}`, map[string][]string{"e": {"\uFFFD", "\uFFFDx", "\uFFFDA"}}},
		{"lone low surrogate", `{"e":["\ude00\ud83d\ude00"]}`, map[string][]string{"e": {"\uFFFD😀"}}},
		{"two high surrogates", `{"e":["\ud83d\ud83d\ude00"]}`, map[string][]string{"e": {"\uFFFD😀"}}},
		{"high surrogate then escape", `{"e":["\ud83d\n"]}`, map[string][]string{"e": {"\uFFFD\n"}}},
		{"raw utf8", `{"l":["Besançon","日本","😀"]}`, map[string][]string{"l": {"Besançon", "日本", "😀"}}},
		{"invalid utf8", "{\"\xff\":[\"a\xc3\",\"\xed\xa0\x80\",\"\xf0\x9f\x98\"]}",
			map[string][]string{"\uFFFD": {"a\uFFFD", "\uFFFD\uFFFD\uFFFD", "\uFFFD\uFFFD\uFFFD"}}},
		{"invalid utf8 next to escape", "{\"k\":[\"\xff\\n\xc3\"]}", map[string][]string{"k": {"\uFFFD\n\uFFFD"}}},
		{"DEL and U+2028 raw", "{\"k\":[\"\x7f\u2028\"]}", map[string][]string{"k": {"\x7f\u2028"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("Decode(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			var ref map[string][]string
			if err := json.Unmarshal([]byte(tt.in), &ref); err != nil {
				t.Fatalf("json.Unmarshal(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, ref) {
				t.Errorf("Decode(%q) = %#v, json.Unmarshal = %#v", tt.in, got, ref)
			}
		})
	}
}

// invalidDocs are refused by both Decode and json.Unmarshal. They also seed
// FuzzDecode.
var invalidDocs = []string{
	``, ` `, `n`, `nul`, `nulL`, `nullx`, `null null`, `Null`,
	`{`, `{ `, `}`, `{}}`, `{} x`, `{}{}`, `[]`, `["a"]`, `"a"`, `1`, `true`, `false`,
	`{"a"}`, `{"a":}`, `{"a" ["x"]}`, `{"a":["x"]`, `{"a":["x"],}`, `{,}`, `{"a":["x"] "b":[]}`,
	`{a:["x"]}`, `{'a':["x"]}`, `{"a":['x']}`,
	`{"a":"x"}`, `{"a":1}`, `{"a":-1}`, `{"a":true}`, `{"a":false}`, `{"a":{}}`, `{"a":{"b":["c"]}}`,
	`{"a":[1]}`, `{"a":[true]}`, `{"a":[false]}`, `{"a":[[]]}`, `{"a":[{}]}`, `{"a":[["x"]]}`,
	`{"a":["x",]}`, `{"a":[,"x"]}`, `{"a":["x" "y"]}`, `{"a":["x",,"y"]}`, `{"a":[nul]}`, `{"a":[nullx]}`,
	`{"a":nul}`, `{"a":nulll}`, `{"a":[`, `{"a":["x",`, `{"a":["x`, `{"a`, `{"a":["\`,
	`{"a":["\x"]}`, `{"a":["\'"]}`, `{"a":["\U0041"]}`, `{"a":["\u"]}`, `{"a":["\u12"]}`, `{"a":["\u12g4"]}`,
	`{"a":["\ud83d\u12"]}`, `{"a":["\ud83d\uzzzz"]}`, `{"a":["\ud83d\`,
	"{\"a\":[\"\x00\"]}", "{\"a\":[\"\n\"]}", "{\"a\":[\"\t\"]}", "{\"a\x1f\":[]}",
	"\xef\xbb\xbf{}", "{}\x00", "\v{}", "{}\f", "{\"a\":[\"x\"]\u00a0}",
	`{"a":[]}]`, `{"a":null}}`, `{"a":[]} {"b":[]}`,
}

func TestDecodeErrors(t *testing.T) {
	for _, in := range invalidDocs {
		got, err := Decode([]byte(in))
		if err == nil {
			t.Errorf("Decode(%q) = %#v, want error", in, got)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || got != nil {
			t.Errorf("Decode(%q) = %#v, %T; want nil, *Error", in, got, err)
		}
		var ref map[string][]string
		if json.Unmarshal([]byte(in), &ref) == nil {
			t.Errorf("json.Unmarshal(%q) succeeded; test case is wrong", in)
		}
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	_, err := Decode([]byte(`{"a":[1]}`))
	if got, want := err.Error(), `attrjson: unexpected '1', expecting string or null at offset 6`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	_, err = Decode([]byte(`{"a":["x"]`))
	if got, want := err.Error(), `attrjson: unexpected end of input, expecting ',' or '}' at offset 10`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestDecodeAllocs(t *testing.T) {
	// The map, the []string backing and the string buffer; the map itself
	// takes several allocations at this size.
	data := Append(nil, benchRecord())
	if n := testing.AllocsPerRun(100, func() { _, _ = Decode(data) }); n > 6 {
		t.Errorf("Decode of a 20-attribute record: %v allocs, want at most 6", n)
	}
	small := []byte(`{"a":["x"]}`)
	if n := testing.AllocsPerRun(100, func() { _, _ = Decode(small) }); n > 4 {
		t.Errorf("Decode of a 1-attribute record: %v allocs, want at most 4", n)
	}
}

func TestDecodeResultIndependent(t *testing.T) {
	data := []byte(`{"a":["x","y"],"b":["z"]}`)
	m, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	// The result must not alias the input buffer.
	for i := range data {
		data[i] = '#'
	}
	// Appending to one value must not overwrite its neighbour.
	m["a"] = append(m["a"], "new")
	want := map[string][]string{"a": {"x", "y", "new"}, "b": {"z"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %#v, want %#v", m, want)
	}
}

// randString returns a string biased towards the characters that matter to
// the codec. With valid set, it is always valid UTF-8.
func randString(r *rand.Rand, valid bool) string {
	pieces := []string{
		"a", "Z", " ", "é", "ß", "日", "😀", "\u2028", "\u2029", "\uFFFD", "<", ">", "&",
		`"`, `\`, "/", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f", "cn=", ",",
	}
	invalid := []string{"\xff", "\xc3", "\xed\xa0\x80", "\xf0\x9f\x98", "\x80"}
	var sb strings.Builder
	for range r.IntN(8) {
		if !valid && r.IntN(6) == 0 {
			sb.WriteString(invalid[r.IntN(len(invalid))])
			continue
		}
		sb.WriteString(pieces[r.IntN(len(pieces))])
	}
	return sb.String()
}

func randMap(r *rand.Rand, valid bool) map[string][]string {
	if r.IntN(20) == 0 {
		return nil
	}
	m := map[string][]string{}
	for range r.IntN(25) {
		var v []string
		switch n := r.IntN(6); n {
		case 0: // nil
		default:
			v = make([]string, n-1)
			for i := range v {
				v[i] = randString(r, valid)
			}
		}
		m[randString(r, valid)] = v
	}
	return m
}

// TestRoundTrip checks Decode(Append(m)) == m for valid UTF-8, and that both
// directions agree with encoding/json for arbitrary strings.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		valid := i%2 == 0
		m := randMap(r, valid)
		enc := Append(nil, m)
		if ref := mustMarshal(t, m); string(enc) != string(ref) {
			t.Fatalf("%#v: Append = %s, json.Marshal = %s", m, enc, ref)
		}
		got, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(%s): %v", enc, err)
		}
		var ref map[string][]string
		if err := json.Unmarshal(enc, &ref); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, ref) {
			t.Fatalf("Decode(%s) = %#v, json.Unmarshal = %#v", enc, got, ref)
		}
		if valid && !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip of %#v gave %#v", m, got)
		}
	}
}

// AppendColumns must write what Append writes for the same map.
func TestAppendColumnsIsAppendOfTheMap(t *testing.T) {
	names := []string{"sn", "mail", "givenName", "<b>", "é", "Z", "", "memberOf"}
	values := [][]string{{"Smith"}, {"a@example.com"}, {""}, {"x&y"}, {"\u2028"}, nil, {}, {"cn=a", "cn=b"}}
	m := map[string][]string{}
	for i, n := range names {
		m[n] = values[i]
	}
	got := string(AppendColumns([]byte("x"), names, SortedOrder(names), values))
	if want := "x" + string(Append(nil, m)); got != want {
		t.Fatalf("AppendColumns = %s, want %s", got, want)
	}
	if got := string(AppendColumns(nil, nil, nil, nil)); got != "{}" {
		t.Fatalf("AppendColumns of nothing = %s", got)
	}
}
