package plandoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxFileSize bounds a plan file. A large plan (hundreds of sources and
// thousands of fields) is a few megabytes; more is not a plan.
const MaxFileSize = 32 << 20

// Encode writes p as indented JSON with a trailing newline. It normalises p
// first (see Normalise), so that the same plan always gives the same bytes.
func Encode(w io.Writer, p *Plan) error {
	Normalise(p)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // "→" and "<" stay readable in a diff
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// Decode reads a plan file strictly: UTF-8 JSON of at most MaxFileSize
// bytes, format ferry-plan, a version this Ferry reads, no field it does not
// know, and references that hold (Validate). Every refusal is a *FileError
// that says where.
func Decode(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("plan file: %w", err)
	}
	if len(data) > MaxFileSize {
		return nil, fileErr("", "the file is larger than %d MiB, which no plan is", MaxFileSize>>20)
	}
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return nil, fileErr("", "the file is UTF-16 text; a plan file is UTF-8 (save it as UTF-8)")
	}
	data = bytes.TrimPrefix(data, []byte{0xEF, 0xBB, 0xBF}) // a byte-order mark some editors add
	if !utf8.Valid(data) {
		line, col := position(data, invalidUTF8At(data))
		return nil, fileErr("", "line %d, column %d: the text is not UTF-8 (a plan file is UTF-8)", line, col)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fileErr("", "the file is empty")
	}

	// First as generic JSON: the syntax, then format and version (before
	// anything else, so that a newer file gets the upgrade message rather
	// than one about a field this Ferry does not know), then unknown fields.
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, syntaxError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		line, col := position(data, int(dec.InputOffset()))
		return nil, fileErr("", "line %d, column %d: more data after the plan's closing brace", line, col)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fileErr("", "a plan file is one JSON object; this is not")
	}
	if f, ok := obj["format"].(string); !ok || f != Format {
		return nil, fileErr("format", "this is not a Ferry plan file (format must be %q, found %s)", Format, describe(obj["format"]))
	}
	n, ok := obj["version"].(json.Number)
	v, err := n.Int64()
	if !ok || err != nil || v < 1 {
		return nil, fileErr("version", "the plan format version must be a whole number from 1 (found %s)", describe(obj["version"]))
	}
	if v > FormatVersion {
		return nil, fileErr("", "this file was written by a newer Ferry (plan format %d); this console reads up to %d: upgrade Ferry", v, FormatVersion)
	}
	if err := unknownFields(obj, reflect.TypeFor[Plan](), ""); err != nil {
		return nil, err
	}

	var p Plan
	strict := json.NewDecoder(bytes.NewReader(data))
	strict.DisallowUnknownFields()
	if err := strict.Decode(&p); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fileErr(te.Field, "expected %s, found a JSON %s", typeName(te.Type), te.Value)
		}
		var pe *time.ParseError
		if errors.As(err, &pe) {
			return nil, fileErr("", "a time is not in RFC 3339 form (2026-03-02T09:00:00Z): %q", pe.Value)
		}
		return nil, syntaxError(data, err)
	}
	// Validated as written, so that each path names the file's own order.
	if err := Validate(&p); err != nil {
		return nil, err
	}
	Normalise(&p)
	return &p, nil
}

// unknownFields reports the first key of v (in sorted order, so that the
// answer is stable) that t does not have, with its path. Keys must match
// exactly: encoding/json would accept "Name" for "name", which would make
// two spellings of one file.
func unknownFields(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return nil
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil // a type error, which the strict decoder reports
		}
		fields := map[string]reflect.StructField{}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" {
				fields[name] = f
			}
		}
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			f, ok := fields[k]
			p := join(path, k)
			if !ok {
				for name := range fields {
					if strings.EqualFold(name, k) {
						return fileErr(p, "unknown field (did you mean %q?)", name)
					}
				}
				return fileErr(p, "unknown field: this Ferry's plan format %d has no such field", FormatVersion)
			}
			if err := unknownFields(obj[k], f.Type, p); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // RawJSON: kept as it is
		}
		list, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, e := range list {
			if err := unknownFields(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(data, int(se.Offset))
		return fileErr("", "line %d, column %d: broken JSON: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fileErr("", "the file ends in the middle of the JSON (is it cut short?)")
	}
	return fileErr("", "broken JSON: %v", err)
}

// position turns a byte offset into a 1-based line and column (in characters).
func position(data []byte, offset int) (line, col int) {
	offset = min(max(offset, 0), len(data))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(data)
}

func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing"
	case string:
		return fmt.Sprintf("%q", x)
	case json.Number:
		return x.String()
	}
	return fmt.Sprintf("a JSON %T", v)
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Pointer:
		return "an object"
	}
	return t.String()
}
