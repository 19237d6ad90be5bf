// Package attrjson encodes and decodes the JSON form of staged user
// attributes, map[string][]string, e.g.
//
//	{"givenName":["Ann"],"memberOf":["cn=a","cn=b"]}
//
// It exists for speed only. Staging and validating 1,000,000 records must
// take seconds, but profiling measured encoding/json at about 5µs to marshal
// and 11µs to unmarshal one 20-attribute record (42 and 107 allocations in
// BenchmarkAppend and BenchmarkDecode). This package handles exactly this one
// fixed shape: a hand-written encoder that allocates nothing beyond growing
// its output buffer, and a two-pass decoder (validate and measure, then fill
// a few right-sized allocations).
// See the benchmarks for the current figures against encoding/json.
//
// The output is byte-for-byte identical to json.Marshal (default HTML-safe
// escaping, keys sorted byte-wise, nil slice and nil map as null), and Decode
// accepts exactly the documents json.Unmarshal accepts into a
// map[string][]string, producing a reflect.DeepEqual result. Both properties
// are checked by the tests and fuzz targets in this package against the
// encoding/json of the toolchain in use. The reference is the default Go 1.26
// implementation: built with GOEXPERIMENT=jsonv2, json.Marshal writes invalid
// UTF-8 as a raw U+FFFD rather than \ufffd, and the Append tests fail to flag
// that difference. Any change here must keep the fuzz targets passing; if the
// shape ever changes, use encoding/json rather than extending this package.
package attrjson

import (
	"slices"
	"strings"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// htmlSafe reports the ASCII bytes that encoding/json copies verbatim when
// HTML escaping is on (its htmlSafeSet): everything from 0x20 to 0x7f except
// '"', '\\', '<', '>' and '&'. Bytes >= 0x80 are false and handled as UTF-8.
var htmlSafe = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = true
	}
	t['"'], t['\\'], t['<'], t['>'], t['&'] = false, false, false, false, false
	return t
}()

// pair is one map entry, collected so the entries can be sorted by key
// without a second map lookup per key.
type pair struct {
	k string
	v []string
}

// stackPairs is how many entries Append sorts in a stack buffer before it
// falls back to a heap allocation.
const stackPairs = 64

// Append appends the JSON encoding of m to dst and returns the extended
// buffer. The bytes are identical to what json.Marshal(m) produces: keys in
// byte-wise sorted order, a nil map or nil slice as null, an empty non-nil
// slice as [], and keys and values escaped as encoding/json does by default
// (<, > and & as \u003c \u003e \u0026, U+2028 and U+2029 escaped, control
// characters as \b \f \n \r \t or \u00XX, invalid UTF-8 bytes as \ufffd).
//
// For maps with at most 64 keys, Append allocates nothing beyond growing dst.
func Append(dst []byte, m map[string][]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var stack [stackPairs]pair
	ps := stack[:0]
	if len(m) > len(stack) {
		ps = make([]pair, 0, len(m))
	}
	// size is a lower bound of the output length (exact without escapes),
	// so dst grows at most once in the common case.
	size := 2
	for k, v := range m {
		ps = append(ps, pair{k, v})
		size += len(k) + 4 // "k": plus a comma
		if v == nil {
			size += 4
			continue
		}
		size += 2
		for _, s := range v {
			size += len(s) + 3
		}
	}
	sortPairs(ps)

	dst = slices.Grow(dst, size)
	dst = append(dst, '{')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, p.k)
		dst = append(dst, ':')
		dst = appendValues(dst, p.v)
	}
	return append(dst, '}')
}

// AppendSorted is Append for a caller that knows the keys in advance (the
// columns of a CSV file): sorted lists every key of m, sorted byte-wise, and
// may hold more. It skips the per-record sort; when sorted does not cover
// m, it falls back to Append, so the bytes are always Append's.
func AppendSorted(dst []byte, sorted []string, m map[string][]string) []byte {
	if m == nil || len(sorted) < len(m) {
		return Append(dst, m)
	}
	start := len(dst)
	dst = append(dst, '{')
	n := 0
	for _, k := range sorted {
		v, ok := m[k]
		if !ok {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendValues(dst, v)
	}
	if n != len(m) {
		return Append(dst[:start], m)
	}
	return append(dst, '}')
}

// AppendColumns is Append for a record held as values by column: the map
// of names[i] to values[i]. The names must be distinct; order lists the
// indexes of names in byte-wise order of the names (SortedOrder).
func AppendColumns(dst []byte, names []string, order []int, values [][]string) []byte {
	dst = append(dst, '{')
	for n, i := range order {
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, names[i])
		dst = append(dst, ':')
		dst = appendValues(dst, values[i])
	}
	return append(dst, '}')
}

// SortedOrder returns the indexes of names in byte-wise order of the names,
// as AppendColumns takes them.
func SortedOrder(names []string) []int {
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	return order
}

// AppendStringsSorted is AppendStrings with the keys known in advance, as
// AppendSorted is Append's.
func AppendStringsSorted(dst []byte, sorted []string, m map[string]string) []byte {
	if m == nil || len(sorted) < len(m) {
		return AppendStrings(dst, m)
	}
	start := len(dst)
	dst = append(dst, '{')
	n := 0
	for _, k := range sorted {
		v, ok := m[k]
		if !ok {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		n++
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, v)
	}
	if n != len(m) {
		return AppendStrings(dst[:start], m)
	}
	return append(dst, '}')
}

// AppendStrings appends the JSON encoding of a flat object (an Okta
// profile), identical to json.Marshal(m): keys sorted byte-wise, escaped as
// Append escapes them.
func AppendStrings(dst []byte, m map[string]string) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var stack [stackPairs]string
	keys := stack[:0]
	if len(m) > len(stack) {
		keys = make([]string, 0, len(m))
	}
	size := 2
	for k, v := range m {
		keys = append(keys, k)
		size += len(k) + len(v) + 6
	}
	if len(keys) > 2*stackPairs {
		slices.Sort(keys)
	} else {
		for i := 1; i < len(keys); i++ { // insertion sort: see sortPairs
			k := keys[i]
			j := i
			for ; j > 0 && keys[j-1] > k; j-- {
				keys[j] = keys[j-1]
			}
			keys[j] = k
		}
	}
	dst = slices.Grow(dst, size)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, k)
		dst = append(dst, ':')
		dst = appendString(dst, m[k])
	}
	return append(dst, '}')
}

// appendValues appends one attribute's values: an array of strings, or null
// for a nil slice, as encoding/json writes a []string.
func appendValues(dst []byte, v []string) []byte {
	if v == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for j, s := range v {
		if j > 0 {
			dst = append(dst, ',')
		}
		dst = appendString(dst, s)
	}
	return append(dst, ']')
}

// sortPairs sorts ps by key, byte-wise (as encoding/json sorts map keys with
// strings.Compare). Keys are distinct, so stability does not matter.
// Insertion sort with a direct string comparison measured about three times
// faster than slices.SortFunc for attribute maps of 20 keys.
func sortPairs(ps []pair) {
	if len(ps) > 2*stackPairs {
		slices.SortFunc(ps, func(a, b pair) int { return strings.Compare(a.k, b.k) })
		return
	}
	for i := 1; i < len(ps); i++ {
		p := ps[i]
		j := i
		for ; j > 0 && ps[j-1].k > p.k; j-- {
			ps[j] = ps[j-1]
		}
		ps[j] = p
	}
}

// appendString mirrors appendString in encoding/json (Go 1.26, encode.go)
// with escapeHTML set, which is what json.Marshal uses.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if htmlSafe[b] {
			i++
			continue
		}
		if b < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				// Other control characters, and <, > and &.
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR are escaped
		// unconditionally by encoding/json (JSONP safety).
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
