package plandoc

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// SectionDiff is what changed in one section of the plan between two
// versions: the items added and removed (by name or natural key) and, for
// the items in both, the fields whose values differ.
type SectionDiff struct {
	// Key names the section for code ("user_types"); Title for people.
	Key, Title string
	Added      []string
	Removed    []string
	Changed    []ItemChange
}

// Empty reports whether the section did not change.
func (d SectionDiff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0
}

// ItemChange is one item found in both plans with different values.
type ItemChange struct {
	Item   string
	Fields []FieldChange
}

// FieldChange is one field's value before and after, as text.
type FieldChange struct {
	Field, Before, After string
}

// Compare lists, section by section in the plan's order, what changed from
// a to b. Every section is listed, empty when nothing in it changed; items
// and fields are in a stable order, so that the same two plans always give
// the same answer. Neither plan is modified.
func Compare(a, b *Plan) []SectionDiff {
	if a == nil {
		a = &Plan{}
	}
	if b == nil {
		b = &Plan{}
	}
	out := []SectionDiff{
		single("project", "Project", "Project settings", a.Project, b.Project),
		single("goals", "Goals and strategy", "Goals", a.Goals, b.Goals),
		byKey("user_types", "User types", a.UserTypes, b.UserTypes, func(u UserType) string { return u.Name }),
		byKey("sources", "Sources", sourcesOnly(a.Sources), sourcesOnly(b.Sources), func(s Source) string { return s.Name }),
		byKey("source_fields", "Source fields", sourceFields(a.Sources), sourceFields(b.Sources), func(f namedField) string { return f.name }),
		byKey("applications", "Applications", a.Applications, b.Applications, func(x Application) string { return x.Name }),
		profileDiff(a.Profile, b.Profile),
		matrixDiff(a.Matrix, b.Matrix),
		privacyDiff(a.Privacy, b.Privacy),
		single("testing", "Testing", "Test plan", a.Testing, b.Testing),
		byKey("defects", "Defect log", a.Defects, b.Defects, func(d Defect) string { return "D-" + strconv.FormatInt(d.Number, 10) }),
	}
	return out
}

// Unchanged reports whether no section of diffs changed.
func Unchanged(diffs []SectionDiff) bool {
	for _, d := range diffs {
		if !d.Empty() {
			return false
		}
	}
	return true
}

// single compares a section that is one item (the project's settings).
func single[T any](k, title, item string, a, b T) SectionDiff {
	d := SectionDiff{Key: k, Title: title}
	if fields := fieldChanges(a, b); len(fields) > 0 {
		d.Changed = []ItemChange{{Item: item, Fields: fields}}
	}
	return d
}

// byKey matches the items of two lists by name (compared as the services
// compare names: case and surrounding space aside).
func byKey[T any](k, title string, a, b []T, name func(T) string) SectionDiff {
	d := SectionDiff{Key: k, Title: title}
	diffLists(&d, a, b, func(x T) string { return key(name(x)) }, name)
	return d
}

func diffLists[T any](d *SectionDiff, a, b []T, keyOf, name func(T) string) {
	inB := map[string]int{}
	for i, x := range b {
		inB[keyOf(x)] = i
	}
	inA := map[string]bool{}
	for _, x := range a {
		k := keyOf(x)
		inA[k] = true
		j, ok := inB[k]
		if !ok {
			d.Removed = append(d.Removed, name(x))
			continue
		}
		if fields := fieldChanges(x, b[j]); len(fields) > 0 {
			d.Changed = append(d.Changed, ItemChange{Item: name(b[j]), Fields: fields})
		}
	}
	for _, x := range b {
		if !inA[keyOf(x)] {
			d.Added = append(d.Added, name(x))
		}
	}
	sortDiff(d)
}

func sortDiff(d *SectionDiff) {
	slices.SortStableFunc(d.Added, cmpNames)
	slices.SortStableFunc(d.Removed, cmpNames)
	slices.SortStableFunc(d.Changed, func(x, y ItemChange) int { return cmpNames(x.Item, y.Item) })
}

// sourcesOnly are the sources without their fields, which have a section
// of their own.
func sourcesOnly(list []Source) []Source {
	out := make([]Source, len(list))
	for i, s := range list {
		s.Fields = nil
		out[i] = s
	}
	return out
}

// namedField is a source's field, named "source › field".
type namedField struct {
	name string
	Field
}

func sourceFields(list []Source) []namedField {
	var out []namedField
	for _, s := range list {
		for _, f := range s.Fields {
			out = append(out, namedField{name: s.Name + " › " + f.Name, Field: f})
		}
	}
	return out
}

// profileDiff compares the Okta profile: its settings as one item, the
// custom attributes by name.
func profileDiff(a, b Profile) SectionDiff {
	type settings struct {
		LoginPattern      string `json:"loginPattern"`
		EmailUnique       bool   `json:"emailUnique"`
		SecondEmailUnique bool   `json:"secondEmailUnique"`
	}
	d := single("profile", "Okta profile and custom attributes", "Profile settings",
		settings{a.LoginPattern, a.EmailUnique, a.SecondEmailUnique}, settings{b.LoginPattern, b.EmailUnique, b.SecondEmailUnique})
	attrs := byKey("", "", a.CustomAttributes, b.CustomAttributes, func(c CustomAttribute) string { return "custom attribute " + c.Name })
	d.Added, d.Removed = attrs.Added, attrs.Removed
	d.Changed = append(d.Changed, attrs.Changed...)
	return d
}

// matrixDiff matches matrix rows by source, field and target; a field with
// one row on each side whose target changed is one changed row, not a
// removed and an added one.
func matrixDiff(a, b []MatrixRow) SectionDiff {
	d := SectionDiff{Key: "matrix", Title: "Attribute-mapping matrix"}
	fieldOf := func(r MatrixRow) string { return key(r.Source) + "\x00" + key(r.Field) }
	rowKey := func(r MatrixRow) string { return fieldOf(r) + "\x00" + key(r.Target) }
	name := func(r MatrixRow) string {
		target := r.Target
		if r.Status == "ignored" || target == "" {
			target = "not migrated"
		}
		return r.Source + " › " + r.Field + " → " + target
	}
	keys := func(list []MatrixRow) map[string]bool {
		m := map[string]bool{}
		for _, r := range list {
			m[rowKey(r)] = true
		}
		return m
	}
	ka, kb := keys(a), keys(b)
	var onlyA, onlyB, bothA, bothB []MatrixRow
	for _, r := range a {
		if kb[rowKey(r)] {
			bothA = append(bothA, r)
		} else {
			onlyA = append(onlyA, r)
		}
	}
	for _, r := range b {
		if ka[rowKey(r)] {
			bothB = append(bothB, r)
		} else {
			onlyB = append(onlyB, r)
		}
	}
	diffLists(&d, bothA, bothB, rowKey, name)
	count := func(list []MatrixRow) map[string]int {
		m := map[string]int{}
		for _, r := range list {
			m[fieldOf(r)]++
		}
		return m
	}
	ca, cb := count(onlyA), count(onlyB)
	var pairedA, pairedB []MatrixRow
	for _, r := range onlyA {
		if ca[fieldOf(r)] == 1 && cb[fieldOf(r)] == 1 {
			pairedA = append(pairedA, r)
		} else {
			d.Removed = append(d.Removed, name(r))
		}
	}
	for _, r := range onlyB {
		if ca[fieldOf(r)] == 1 && cb[fieldOf(r)] == 1 {
			pairedB = append(pairedB, r)
		} else {
			d.Added = append(d.Added, name(r))
		}
	}
	var paired SectionDiff
	diffLists(&paired, pairedA, pairedB, fieldOf, func(r MatrixRow) string { return r.Source + " › " + r.Field })
	d.Changed = append(d.Changed, paired.Changed...)
	sortDiff(&d)
	return d
}

// privacyDiff compares the legal decisions by source and field, and the
// register's sign-off as one item.
func privacyDiff(a, b Privacy) SectionDiff {
	d := byKey("privacy", "Privacy decisions and sign-off", a.Decisions, b.Decisions, func(x PrivacyDecision) string {
		return x.Source + " › " + x.Field
	})
	type signOff struct {
		SignOff *SignOff `json:"signOff"`
	}
	if fields := fieldChanges(signOff{a.SignOff}, signOff{b.SignOff}); len(fields) > 0 {
		d.Changed = append(d.Changed, ItemChange{Item: "Register sign-off", Fields: fields})
		sortDiff(&d)
	}
	return d
}

// fieldChanges lists the fields of a and b (structs) whose values differ,
// in the order of the struct's fields.
func fieldChanges(a, b any) []FieldChange {
	fa, fb := flatten(a), flatten(b)
	var out []FieldChange
	seen := map[string]bool{}
	for _, list := range [][]flatField{fa, fb} {
		for _, f := range list {
			if seen[f.path] {
				continue
			}
			seen[f.path] = true
			before, after := valueOf(fa, f.path), valueOf(fb, f.path)
			if before != after {
				out = append(out, FieldChange{Field: fieldLabel(f.path), Before: before, After: after})
			}
		}
	}
	return out
}

type flatField struct{ path, value string }

func valueOf(list []flatField, path string) string {
	for _, f := range list {
		if f.path == path {
			return f.value
		}
	}
	return ""
}

// flatten turns a struct into its fields' values as text, by JSON name,
// nested structs as "passwords.attribute".
func flatten(v any) []flatField {
	var out []flatField
	flattenValue(reflect.ValueOf(v), "", &out)
	return out
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	rawJSONType = reflect.TypeFor[RawJSON]()
)

func flattenValue(v reflect.Value, path string, out *[]flatField) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			if path != "" {
				*out = append(*out, flatField{path, notSet(v.Type().Elem())})
			}
			return
		}
		if v.Elem().Kind() == reflect.Struct && v.Elem().Type() != timeType && path != "" {
			*out = append(*out, flatField{path, "set"})
		}
		flattenValue(v.Elem(), path, out)
		return
	}
	if v.Kind() == reflect.Struct && v.Type() != timeType {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				flattenValue(v.Field(i), path, out) // an embedded struct's fields are the item's own
				continue
			}
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			flattenValue(v.Field(i), p, out)
		}
		return
	}
	*out = append(*out, flatField{path, text(v)})
}

func notSet(t reflect.Type) string {
	if t.Kind() == reflect.Struct && t != timeType {
		return "not set"
	}
	return ""
}

// text is a value as people read it.
func text(v reflect.Value) string {
	if v.Type() == timeType {
		t := v.Interface().(time.Time)
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	}
	if v.Type() == rawJSONType {
		return string(compactJSON(v.Interface().(RawJSON)))
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		if v.Bool() {
			return "yes"
		}
		return "no"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float64, reflect.Float32:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Pointer:
		if v.IsNil() {
			return ""
		}
		return text(v.Elem())
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range v.Len() {
			parts[i] = element(v.Index(i))
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v.Interface())
	return string(b)
}

// element is one element of a list: a struct (a subgroup) as its first
// field with the others in brackets, "EU (70000)".
func element(v reflect.Value) string {
	if v.Kind() != reflect.Struct || v.Type() == timeType {
		return text(v)
	}
	var parts []string
	for i := range v.NumField() {
		if v.Type().Field(i).IsExported() {
			parts = append(parts, text(v.Field(i)))
		}
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return fmt.Sprintf("%s (%s)", parts[0], strings.Join(parts[1:], ", "))
}

// fieldLabel turns a JSON path into words: "passwords.saltAttribute" →
// "passwords: salt attribute".
func fieldLabel(path string) string {
	parts := strings.Split(path, ".")
	for i, p := range parts {
		var b strings.Builder
		for j, r := range p {
			if unicode.IsUpper(r) && j > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(unicode.ToLower(r))
		}
		parts[i] = b.String()
	}
	return strings.Join(parts, ": ")
}
