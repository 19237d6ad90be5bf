package attrjson

import (
	"bytes"
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The fuzz targets compare this package with encoding/json, the definition
// of correct behaviour. Their seed corpus (f.Add below and testdata/fuzz)
// runs in plain go test; run them for real with, e.g.,
//
//	go test -fuzz FuzzDecode -fuzztime 2m ./internal/staging/attrjson/
//	go test -fuzz FuzzAppend -fuzztime 2m ./internal/staging/attrjson/

// nilValue in a fuzz map encoding marks a nil []string.
const nilValue = 0xff

// fuzzMap builds a map from fuzz bytes: a sequence of entries, each a
// length-prefixed key, a count byte (nilValue for a nil slice, else count%8
// strings) and that many length-prefixed strings. A length byte longer than
// the rest of the input takes the rest. The last entry for a key wins.
// If the input starts with nilValue the map is nil.
func fuzzMap(data []byte) map[string][]string {
	if len(data) > 0 && data[0] == nilValue {
		return nil
	}
	next := func() string {
		if len(data) == 0 {
			return ""
		}
		n := min(int(data[0]), len(data)-1)
		s := string(data[1 : 1+n])
		data = data[1+n:]
		return s
	}
	m := map[string][]string{}
	for len(data) > 0 {
		k := next()
		var v []string
		if len(data) > 0 {
			c := data[0]
			data = data[1:]
			if c != nilValue {
				v = make([]string, 0, c%8)
				for range c % 8 {
					v = append(v, next())
				}
			}
		}
		m[k] = v
	}
	return m
}

// encodeFuzzMap is the inverse of fuzzMap, for writing seeds as maps.
// Strings must be shorter than 255 bytes and slices shorter than 8.
func encodeFuzzMap(m map[string][]string) []byte {
	if m == nil {
		return []byte{nilValue}
	}
	var b []byte
	str := func(s string) { b = append(append(b, byte(len(s))), s...) }
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		str(k)
		if m[k] == nil {
			b = append(b, nilValue)
			continue
		}
		b = append(b, byte(len(m[k])))
		for _, s := range m[k] {
			str(s)
		}
	}
	return b
}

func TestFuzzMapEncoding(t *testing.T) {
	for _, m := range appendSeeds() {
		if got := fuzzMap(encodeFuzzMap(m)); !reflect.DeepEqual(got, m) {
			t.Errorf("fuzzMap(encodeFuzzMap(%#v)) = %#v", m, got)
		}
	}
}

func appendSeeds() []map[string][]string {
	return []map[string][]string{
		nil,
		{},
		{"": nil},
		{"": {}},
		{"": {""}},
		{"givenName": {"Ann"}, "memberOf": {"cn=a", "cn=b"}},
		{"a": nil, "b": {}, "c": {"", ""}},
		{"<script>": {"</script>&amp;"}, "&": {">"}},
		{"\u2028": {"\u2029", "x\u2028y"}},
		{"ctl": {"\x00\x01\x07\b\t\n\v\f\r\x0e\x1b\x1f\x7f"}},
		{`"\`: {`\"`, `/`, `\/`, `\u0041`}},
		{"\xff": nil, "\uFFFD": nil, "\xc3": {"\xc3\xa9\xc3"}},
		{"surrogate": {"\xed\xa0\x80\xed\xb0\x80", "\xf0\x9f\x98", "\xf4\x90\x80\x80", "\xc0\xaf"}},
		{"B": {"1"}, "a": {"2"}, "aa": {"3"}, "a\x00": {"4"}, "é": {"5"}, "~": {"6"}},
		{"l": {"Besançon", "Zürich", "Ørsted", "日本語", "😀", "\uFFFD"}},
	}
}

func FuzzAppend(f *testing.F) {
	for _, m := range appendSeeds() {
		f.Add(encodeFuzzMap(m))
	}
	f.Add([]byte{})
	f.Add([]byte{3, 'a', 'b', 'c', 7, 1, '<', 1, 0xe2, 0, 2, 0x80, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := fuzzMap(data)
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		got := Append(nil, m)
		if !bytes.Equal(got, want) {
			t.Fatalf("map %#v\nAppend       %q\njson.Marshal %q", m, got, want)
		}
		// The same map flattened to first values, as a profile is.
		flat := map[string]string(nil)
		if m != nil {
			flat = make(map[string]string, len(m))
			for k, v := range m {
				flat[k] = strings.Join(v, "")
			}
		}
		wantFlat, err := json.Marshal(flat)
		if err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
		if gotFlat := AppendStrings(nil, flat); !bytes.Equal(gotFlat, wantFlat) {
			t.Fatalf("map %#v\nAppendStrings %q\njson.Marshal  %q", flat, gotFlat, wantFlat)
		}
		// With the keys given in advance: all of them, more, or too few
		// (the first one left out), each time the same bytes.
		keys := make([]string, 0, len(m)+1)
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		more := append(slices.Clone(keys), "\x00extra")
		slices.Sort(more)
		hints := [][]string{keys, more}
		if len(keys) > 0 {
			hints = append(hints, keys[1:])
		}
		for _, hint := range hints {
			if got := AppendSorted(prefixOf(hint), hint, m); !bytes.Equal(got[len(prefixOf(hint)):], want) {
				t.Fatalf("map %#v, keys %q\nAppendSorted %q\njson.Marshal %q", m, hint, got, want)
			}
			if got := AppendStringsSorted(nil, hint, flat); !bytes.Equal(got, wantFlat) {
				t.Fatalf("map %#v, keys %q\nAppendStringsSorted %q\njson.Marshal %q", flat, hint, got, wantFlat)
			}
		}
		prefix := []byte("prefix")
		if got := Append(prefix, m); !bytes.Equal(got, append(prefix, want...)) {
			t.Fatalf("Append with prefix = %q", got)
		}
		// The encoding decodes back like encoding/json decodes it.
		dec, err := Decode(got)
		if err != nil {
			t.Fatalf("Decode(%q): %v", got, err)
		}
		var ref map[string][]string
		if err := json.Unmarshal(got, &ref); err != nil {
			t.Fatalf("json.Unmarshal(%q): %v", got, err)
		}
		if !reflect.DeepEqual(dec, ref) {
			t.Fatalf("Decode(%q) = %#v, json.Unmarshal = %#v", got, dec, ref)
		}
	})
}

// fuzzReuse is shared by the documents FuzzDecode decodes one after another.
var fuzzReuse Reuse

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`null`, ` null `, `{}`, "\t{\r\n}\n",
		`{"givenName":["Ann"],"memberOf":["cn=a","cn=b"]}`,
		`{"a":null,"b":[],"c":[""],"d":[null],"e":[null,"x",null]}`,
		` { "a" : [ "1" , "2" ] , "b" : null } `,
		`{"a":["1"],"a":["2","3"]}`, `{"a":["1"],"a":null}`, `{"a":null,"a":[]}`, `{"a":[],"a":["x"],"a":[]}`,
		`{"":[""]}`,
		`{"e":["\"\\\/\b\f\n\r\t"]}`,
		`{"\u0067n":["\u00e9\u00E9\u20ac\u0000\u003c\u2028\uFFFD"]}`,
		`{"e":["\ud83d\ude00","\uD83D\uDE00x","\udbff\udfff","\ud800\udc00"]}`,
		`{"e":["\ud83d","\ud83dx","\ud83d\u0041","\ude00\ud83d\ude00","\ud83d\ud83d\ude00","\ud83d\n","\ud83d\\u"]}`,
		`{"l":["Besançon","日本","😀"]}`,
		"{\"\xff\":[\"a\xc3\",\"\xed\xa0\x80\",\"\xf0\x9f\x98\",\"\xc0\xaf\",\"\xf4\x90\x80\x80\"]}",
		"{\"k\":[\"\xff\\n\xc3\",\"\x7f\u2028\"]}",
		"{\"k\":[\"\xe2\x80\"]}",
		string(Append(nil, benchRecord())),
	} {
		f.Add([]byte(s))
	}
	for _, s := range invalidDocs {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string][]string
		wantErr := json.Unmarshal(data, &want)
		got, err := Decode(data)
		if wantErr != nil {
			if err == nil {
				t.Fatalf("Decode(%q) = %#v, nil; json.Unmarshal refused it: %v", data, got, wantErr)
			}
			if got != nil {
				t.Fatalf("Decode(%q) returned a map with error %v", data, err)
			}
			if got, err := DecodeReuse(&fuzzReuse, data); err == nil || got != nil {
				t.Fatalf("DecodeReuse(%q) = %#v, %v; json.Unmarshal refused it: %v", data, got, err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("Decode(%q): %v; json.Unmarshal accepted it as %#v", data, err, want)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Decode(%q)\n= %#v\njson.Unmarshal\n= %#v", data, got, want)
		}
		// DecodeReuse, with what earlier documents left in its Reuse, must agree.
		got, err = DecodeReuse(&fuzzReuse, data)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeReuse(%q)\n= %#v, %v\njson.Unmarshal\n= %#v", data, got, err, want)
		}
		// The first pass must size the string buffer exactly (too small
		// would cost a reallocation, too large would waste memory). The
		// reference is the sum of all string tokens, duplicates included,
		// as encoding/json's tokenizer unquotes them.
		var st stats
		if err := st.scan(data); err != nil {
			t.Fatal(err)
		}
		if n := stringTokenBytes(t, data); st.bytes != n {
			t.Fatalf("scan(%q) measured %d string bytes, want %d", data, st.bytes, n)
		}
		// Whatever decodes must also encode like encoding/json.
		enc, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if a := Append(nil, got); !bytes.Equal(a, enc) {
			t.Fatalf("Append(%#v) = %q, json.Marshal = %q", got, a, enc)
		}
	})
}

func stringTokenBytes(t *testing.T, data []byte) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	n := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("Token(%q): %v", data, err)
		}
		if s, ok := tok.(string); ok {
			n += len(s)
		}
	}
}

// prefixOf gives AppendSorted something to append to, to check that a
// fallback keeps what dst held.
func prefixOf(hint []string) []byte {
	if len(hint)%2 == 0 {
		return nil
	}
	return []byte("prefix")
}
