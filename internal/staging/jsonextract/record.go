package jsonextract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// recordParser flattens one object that the decoder has already checked to
// be valid JSON, following the rules in the package comment.
type recordParser struct {
	data     []byte
	i        int
	line     int // line of data[0]
	maxValue int
	maxDepth int
	names    map[string]string // attribute names seen in earlier records
	b        *builder
}

// builder collects one object's attributes, and the first thing wrong with it.
type builder struct {
	attrs   map[string][]string
	order   []string
	problem string
	singles []string // backing array for one-value attributes: one allocation for many
}

func (b *builder) fail(msg string) {
	if b.problem == "" {
		b.problem = msg
	}
}

// setOne sets an attribute with one value.
func (b *builder) setOne(name, value string) {
	if len(b.singles) == cap(b.singles) {
		b.singles = make([]string, 0, 16)
	}
	b.singles = append(b.singles, value)
	n := len(b.singles)
	b.set(name, b.singles[n-1:n:n])
}

func (b *builder) set(name string, values []string) {
	if _, dup := b.attrs[name]; dup {
		b.fail(fmt.Sprintf("attribute %q is given twice (a dotted key and a nested object name the same attribute)", name))
		return
	}
	b.attrs[name] = values
	b.order = append(b.order, name)
}

// tooLong stops the parse: a value over the limit refuses the extract.
type tooLong struct{ err *extract.Error }

// parse flattens raw, an object starting on line. It returns the attributes
// in first-seen order and what makes the record malformed, if anything; the
// error is an *extract.Error refusing the file.
func (r *Reader) parse(raw []byte, line int) (attrs map[string][]string, order []string, problem string, err error) {
	p := &recordParser{data: raw, line: line, maxValue: r.opts.MaxValueBytes, maxDepth: r.opts.MaxDepth, names: r.names,
		b: &builder{attrs: make(map[string][]string, min(len(r.columns), 64))}}
	defer func() {
		if v := recover(); v != nil {
			tl, ok := v.(tooLong)
			if !ok {
				panic(v)
			}
			err = tl.err
		}
	}()
	p.skipSpace()
	if p.peek() != '{' {
		return nil, nil, "not a JSON object (" + p.kind() + "): each user must be an object", nil
	}
	p.object(p.b, "", 1, "")
	return p.b.attrs, p.b.order, p.b.problem, nil
}

func (p *recordParser) peek() byte {
	if p.i < len(p.data) {
		return p.data[p.i]
	}
	return 0
}

func (p *recordParser) skipSpace() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *recordParser) kind() string {
	switch c := p.peek(); {
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	default:
		return "a number"
	}
}

// object reads an object at p.i into b, names prefixed by prefix; depth is
// its nesting level (1 for the user object); inArray names the enclosing
// array of objects, if any (arrays are not allowed inside one).
func (p *recordParser) object(b *builder, prefix string, depth int, inArray string) {
	p.i++                        // '{'
	var keys []string            // few: a linear search beats a map…
	var many map[string]struct{} // …until there are many
	for {
		p.skipSpace()
		if p.peek() == '}' {
			p.i++
			return
		}
		if p.peek() == ',' {
			p.i++
			p.skipSpace()
		}
		key := p.name(prefix)
		var dup bool
		if many != nil {
			_, dup = many[key]
			many[key] = struct{}{}
		} else {
			dup = slices.Contains(keys, key)
			keys = append(keys, key)
			if len(keys) > 32 {
				many = make(map[string]struct{}, 2*len(keys))
				for _, k := range keys {
					many[k] = struct{}{}
				}
			}
		}
		if dup {
			b.fail(fmt.Sprintf("duplicate key %q", prefix+key))
		}
		if key == "" {
			b.fail("empty key in " + describe(prefix))
		}
		name := prefix + key
		p.skipSpace()
		p.i++ // ':'
		p.skipSpace()
		switch p.peek() {
		case '{':
			if depth >= p.maxDepth {
				b.fail(fmt.Sprintf("%q is nested more than %d levels deep", name, p.maxDepth))
				p.skipValue()
				continue
			}
			p.object(b, name+".", depth+1, inArray)
		case '[':
			if inArray != "" {
				b.fail(fmt.Sprintf("%q is an array inside the array of objects %q: not supported", name, inArray))
				p.skipValue()
				continue
			}
			p.array(b, name, depth)
		default:
			if s, present := p.scalar(name); present {
				b.setOne(name, s)
			}
		}
	}
}

// array reads the array at p.i as the values of name.
func (p *recordParser) array(b *builder, name string, depth int) {
	p.i++ // '['
	var scalars []string
	var elems []*builder
	nulls := 0 // nulls before the first object: empty elements if objects follow
	mixed := false
	for {
		p.skipSpace()
		if p.peek() == ',' {
			p.i++
			p.skipSpace()
		}
		switch p.peek() {
		case ']':
			p.i++
			p.finishArray(b, name, scalars, elems, mixed)
			return
		case '[':
			b.fail(fmt.Sprintf("%q holds an array inside an array: not supported", name))
			p.skipValue()
		case '{':
			if scalars != nil {
				mixed = true
			}
			if depth >= p.maxDepth {
				b.fail(fmt.Sprintf("%q is nested more than %d levels deep", name, p.maxDepth))
				p.skipValue()
				continue
			}
			for ; nulls > 0; nulls-- {
				elems = append(elems, &builder{})
			}
			eb := &builder{attrs: map[string][]string{}}
			p.object(eb, name+".", depth+1, name)
			b.fail(eb.problem)
			elems = append(elems, eb)
		case 'n':
			p.i += len("null")
			if elems != nil {
				elems = append(elems, &builder{})
			} else {
				nulls++
			}
		default:
			if elems != nil {
				mixed = true
			}
			s, _ := p.scalar(name)
			scalars = append(scalars, s)
		}
	}
}

func (p *recordParser) finishArray(b *builder, name string, scalars []string, elems []*builder, mixed bool) {
	if mixed {
		b.fail(fmt.Sprintf("%q mixes objects and plain values: not supported", name))
		return
	}
	if len(scalars) > 0 {
		b.set(name, scalars)
		return
	}
	// An array of objects: one value per element for each name any element has.
	var names []string
	seen := map[string]struct{}{}
	for _, eb := range elems {
		for _, n := range eb.order {
			if _, ok := seen[n]; !ok {
				seen[n] = struct{}{}
				names = append(names, n)
			}
		}
	}
	for _, n := range names {
		values := make([]string, len(elems))
		for i, eb := range elems {
			if v := eb.attrs[n]; len(v) > 0 {
				values[i] = v[0]
			}
		}
		b.set(n, values)
	}
}

// scalar reads a string, number, boolean or null at p.i.
func (p *recordParser) scalar(name string) (string, bool) {
	start := p.i
	switch c := p.peek(); c {
	case '"':
		return p.string(name), true
	case 'n':
		p.i += len("null")
		return "", false
	case 't':
		p.i += len("true")
		return "true", true
	case 'f':
		p.i += len("false")
		return "false", true
	}
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			goto done
		}
		p.i++
	}
done:
	num := p.data[start:p.i]
	p.checkSize(len(num), start, name)
	return string(num), true
}

// name reads a key at p.i and returns the attribute name it makes under
// prefix, shared with the previous records' (most records repeat the same
// names: this saves an allocation per value).
func (p *recordParser) name(prefix string) string {
	start := p.i
	end := p.i + 1
	for end < len(p.data) && p.data[end] != '"' && p.data[end] != '\\' {
		end++
	}
	if prefix == "" && end < len(p.data) && p.data[end] == '"' {
		if s, ok := p.names[string(p.data[start+1:end])]; ok {
			p.i = end + 1
			p.checkSize(len(s), start, "")
			return s
		}
	}
	key := p.string("")
	if prefix != "" {
		return key // joined by the caller
	}
	if len(p.names) < maxInterned {
		p.names[key] = key
	}
	return key
}

// maxInterned bounds the names shared between records.
const maxInterned = 4096

// string reads the string at p.i; name is the attribute it is the value of,
// "" for a key.
func (p *recordParser) string(name string) string {
	start := p.i
	p.i++ // '"'
	escaped := false
	for p.i < len(p.data) {
		c := p.data[p.i]
		if c == '\\' {
			escaped = true
			p.i += 2
			continue
		}
		if c == '"' {
			break
		}
		p.i++
	}
	p.i++ // '"'
	quoted := p.data[start:p.i]
	var s string
	if !escaped {
		s = string(quoted[1 : len(quoted)-1])
	} else if err := json.Unmarshal(quoted, &s); err != nil {
		s = string(quoted) // cannot happen: the decoder checked it
	}
	p.checkSize(len(s), start, name)
	return s
}

// checkSize refuses the extract when a value (of the attribute name, or a key
// when name is "") is over the limit.
func (p *recordParser) checkSize(n, at int, name string) {
	if n <= p.maxValue {
		return
	}
	what := "a key"
	if name != "" {
		what = fmt.Sprintf("the value of %q", name)
	}
	line := p.line + bytes.Count(p.data[:at], []byte{'\n'})
	panic(tooLong{&extract.Error{Position: line, Unit: "line",
		Message: fmt.Sprintf("%s is %d bytes long, over the limit of %d bytes", what, n, p.maxValue)}})
}

// skipValue skips the array or object at p.i.
func (p *recordParser) skipValue() {
	depth := 0
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case '"':
			for p.i++; p.i < len(p.data) && p.data[p.i] != '"'; p.i++ {
				if p.data[p.i] == '\\' {
					p.i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				p.i++
				return
			}
		}
		p.i++
	}
}

func describe(prefix string) string {
	if prefix == "" {
		return "the user object"
	}
	return strconv.Quote(strings.TrimSuffix(prefix, "."))
}
