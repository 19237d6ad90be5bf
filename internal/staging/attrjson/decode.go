package attrjson

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Error describes why Decode rejected its input.
type Error struct {
	Offset int    // byte offset in the input at which the problem was found
	Msg    string // what was wrong there
}

func (e *Error) Error() string {
	return "attrjson: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

func errAt(data []byte, i int, want string) error {
	if i >= len(data) {
		return &Error{Offset: i, Msg: "unexpected end of input, expecting " + want}
	}
	return &Error{Offset: i, Msg: "unexpected " + strconv.QuoteRune(rune(data[i])) + ", expecting " + want}
}

// Decode parses the JSON encoding of a map[string][]string.
//
// It accepts exactly what json.Unmarshal accepts into a map[string][]string
// and returns an equal (reflect.DeepEqual) result:
//
//   - the document null gives a nil map and no error; {} an empty map;
//   - a value null gives a nil slice, [] an empty non-nil slice;
//   - an array element null gives "" (encoding/json ignores null for strings);
//   - for a duplicated key the last value wins;
//   - all JSON escapes are decoded; an unpaired UTF-16 surrogate escape and
//     every byte of invalid UTF-8 become U+FFFD.
//
// Anything else (numbers, booleans, strings or objects in place of an array,
// nested arrays, invalid JSON, trailing data, truncated input) returns an
// *Error and a nil map.
//
// The result is built from a few right-sized allocations: the map, one
// []string backing all values (each value is capped, so appending to it
// copies), and one string holding all unescaped keys and values that the
// returned strings share. Keeping any of them alive keeps that record-sized
// string alive.
func Decode(data []byte) (map[string][]string, error) {
	return decode(data, nil, nil)
}

// Reuse holds what DecodeReuse reuses from one document to the next.
type Reuse struct {
	m    map[string][]string
	vals []string
}

// DecodeReuse is Decode for a loop over many documents: the map and the
// []string backing its values are those of the previous call, cleared and
// overwritten, so the result is valid only until the next call with the
// same Reuse. The strings themselves are new (never overwritten), so a
// string taken from the result stays valid. A null document gives nil.
func DecodeReuse(r *Reuse, data []byte) (map[string][]string, error) {
	if r.m == nil {
		r.m = map[string][]string{}
	}
	return decode(data, r.m, &r.vals)
}

// decode is Decode into m (cleared; nil: a new map), with the values backed
// by *reuse when it is large enough (and *reuse set to the new backing when
// not); reuse nil: a new backing.
func decode(data []byte, m map[string][]string, reuse *[]string) (map[string][]string, error) {
	var st stats
	if err := st.scan(data); err != nil {
		return nil, err
	}
	if st.null {
		return nil, nil
	}
	if m == nil {
		m = make(map[string][]string, st.keys)
	} else {
		clear(m)
	}
	if st.keys == 0 {
		return m, nil
	}
	d := filler{data: data, plain: st.plain}
	d.sb.Grow(st.bytes)
	var vals []string
	if reuse != nil && cap(*reuse) >= st.vals {
		vals = (*reuse)[:st.vals]
		clear(vals) // a null element is ""
	} else {
		vals = make([]string, st.vals)
		if reuse != nil {
			*reuse = vals[:0:len(vals)]
		}
	}
	n := 0

	// data is known to be valid from here on, so the filler skips checks.
	i := skipWS(data, 0) + 1 // past '{'
	for {
		i = skipWS(data, i)
		var key string
		key, i = d.str(i + 1)
		i = skipWS(data, i) + 1 // past ':'
		i = skipWS(data, i)
		if data[i] == 'n' {
			m[key] = nil
			i += len("null")
		} else {
			i = skipWS(data, i+1) // past '['
			first := n
			if data[i] == ']' {
				i++
			} else {
				for {
					if data[i] == 'n' {
						i += len("null") // vals[n] is already ""
					} else {
						vals[n], i = d.str(i + 1)
					}
					n++
					i = skipWS(data, i)
					if data[i] == ']' {
						i++
						break
					}
					i = skipWS(data, i+1) // past ','
				}
			}
			m[key] = vals[first:n:n]
		}
		i = skipWS(data, i)
		if data[i] == '}' {
			return m, nil
		}
		i++ // past ','
	}
}

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// plainASCII holds the bytes that stand for themselves inside a JSON string:
// ASCII from 0x20 except '"' and '\\'.
var plainASCII = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = true
	}
	t['"'], t['\\'] = false, false
	return t
}()

// stats is what the validating first pass learns about the document.
type stats struct {
	null  bool // the document is null
	plain bool // no string has an escape or invalid UTF-8
	keys  int  // number of keys, duplicates included
	vals  int  // number of array elements
	bytes int  // total length of all unescaped keys and elements
}

// scan validates data and fills st.
func (st *stats) scan(data []byte) error {
	st.plain = true
	i := skipWS(data, 0)
	if i < len(data) && data[i] == 'n' {
		var err error
		if i, err = null(data, i); err != nil {
			return err
		}
		st.null = true
	} else {
		if i >= len(data) || data[i] != '{' {
			return errAt(data, i, "object or null")
		}
		var err error
		if i, err = st.object(data, i+1); err != nil {
			return err
		}
	}
	if i = skipWS(data, i); i != len(data) {
		return errAt(data, i, "end of input")
	}
	return nil
}

func null(data []byte, i int) (int, error) {
	for k := 0; k < 4; k++ {
		if i+k >= len(data) || data[i+k] != "null"[k] {
			return 0, errAt(data, i+k, "null")
		}
	}
	return i + 4, nil
}

// object scans an object from just after its '{' and returns the index after
// its '}'.
func (st *stats) object(data []byte, i int) (int, error) {
	var err error
	i = skipWS(data, i)
	if i < len(data) && data[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return 0, errAt(data, i, "string key")
		}
		if i, err = st.str(data, i+1); err != nil {
			return 0, err
		}
		st.keys++
		if i = skipWS(data, i); i >= len(data) || data[i] != ':' {
			return 0, errAt(data, i, "':'")
		}
		i = skipWS(data, i+1)
		switch {
		case i < len(data) && data[i] == 'n':
			if i, err = null(data, i); err != nil {
				return 0, err
			}
		case i < len(data) && data[i] == '[':
			if i, err = st.array(data, i+1); err != nil {
				return 0, err
			}
		default:
			return 0, errAt(data, i, "array of strings or null")
		}
		i = skipWS(data, i)
		if i < len(data) && data[i] == '}' {
			return i + 1, nil
		}
		if i >= len(data) || data[i] != ',' {
			return 0, errAt(data, i, "',' or '}'")
		}
		i = skipWS(data, i+1)
	}
}

// array scans an array of strings and nulls from just after its '[' and
// returns the index after its ']'.
func (st *stats) array(data []byte, i int) (int, error) {
	var err error
	i = skipWS(data, i)
	if i < len(data) && data[i] == ']' {
		return i + 1, nil
	}
	for {
		switch {
		case i < len(data) && data[i] == '"':
			if i, err = st.str(data, i+1); err != nil {
				return 0, err
			}
		case i < len(data) && data[i] == 'n':
			if i, err = null(data, i); err != nil {
				return 0, err
			}
		default:
			return 0, errAt(data, i, "string or null")
		}
		st.vals++
		i = skipWS(data, i)
		if i < len(data) && data[i] == ']' {
			return i + 1, nil
		}
		if i >= len(data) || data[i] != ',' {
			return 0, errAt(data, i, "',' or ']'")
		}
		i = skipWS(data, i+1)
	}
}

// str scans a string from just after its opening quote, adds its unescaped
// length to st.bytes and returns the index after the closing quote.
func (st *stats) str(data []byte, i int) (int, error) {
	n := 0
	for {
		run := i
		for i < len(data) && plainASCII[data[i]] {
			i++
		}
		n += i - run
		if i >= len(data) {
			return 0, errAt(data, i, "closing '\"'")
		}
		switch c := data[i]; {
		case c == '"':
			st.bytes += n
			return i + 1, nil
		case c == '\\':
			st.plain = false
			if i+1 >= len(data) {
				return 0, errAt(data, i+1, "escape character")
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				n++
				i += 2
			case 'u':
				r := getu4(data[i:])
				if r < 0 {
					// Point at the first bad hex digit, as encoding/json does.
					k := i + 2
					for k < len(data) && k < i+6 && isHex(data[k]) {
						k++
					}
					return 0, errAt(data, k, "hexadecimal digit in \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					if dec := utf16.DecodeRune(r, getu4(data[i:])); dec != utf8.RuneError {
						n += 4 // a valid pair is a supplementary-plane rune
						i += 6
						continue
					}
					r = utf8.RuneError
				}
				n += utf8.RuneLen(r)
			default:
				return 0, errAt(data, i+1, "escape character")
			}
		case c < ' ':
			return 0, errAt(data, i, "string character (control characters must be escaped)")
		default: // c >= utf8.RuneSelf
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				st.plain = false
				n += len("\uFFFD")
			} else {
				n += size
			}
			i += size
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// getu4 decodes \uXXXX at the start of s, or returns -1 (as encoding/json's
// getu4).
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// filler is the second pass of Decode: it unescapes the strings of a
// validated document into one shared buffer.
type filler struct {
	data  []byte
	plain bool // copy strings verbatim: no escapes, valid UTF-8
	// sb was grown to the exact total once, so it never reallocates, and
	// every string taken from sb.String() stays valid (strings.Builder
	// never modifies bytes it has already handed out).
	sb strings.Builder
}

// str unescapes the string starting just after its opening quote at i and
// returns it with the index after its closing quote.
func (d *filler) str(i int) (string, int) {
	data := d.data
	start := d.sb.Len()
	// Fast path: up to the first quote there is no backslash (so that quote
	// closes the string) and the bytes are valid UTF-8, so the content is
	// copied verbatim. Most values take it even when some other string in
	// the document has escapes.
	j := i + bytes.IndexByte(data[i:], '"')
	if seg := data[i:j]; d.plain || bytes.IndexByte(seg, '\\') < 0 && utf8.Valid(seg) {
		d.sb.Write(seg)
		return d.sb.String()[start:], j + 1
	}
	run := i
	for {
		c := data[i]
		if plainASCII[c] {
			i++
			continue
		}
		if c == '"' {
			break
		}
		if c == '\\' {
			d.sb.Write(data[run:i])
			switch e := data[i+1]; e {
			case 'u':
				r := getu4(data[i:])
				i += 6
				if utf16.IsSurrogate(r) {
					if dec := utf16.DecodeRune(r, getu4(data[i:])); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				d.sb.WriteRune(r)
			default:
				d.sb.WriteByte(unescape[e])
				i += 2
			}
			run = i
			continue
		}
		// c >= utf8.RuneSelf (control characters were rejected by scan).
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			d.sb.Write(data[run:i])
			d.sb.WriteString("\uFFFD")
			run = i + 1
		}
		i += size
	}
	d.sb.Write(data[run:i])
	return d.sb.String()[start:], i + 1
}

// unescape maps the character after a backslash to the byte it stands for.
var unescape = [256]byte{
	'"': '"', '\\': '\\', '/': '/',
	'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t',
}
