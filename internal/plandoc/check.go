package plandoc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/privacy"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// RawJSON is a piece of JSON kept as it is (a transformation pipeline).
type RawJSON = json.RawMessage

// FileError is a problem with a plan file, at a path inside it
// ("sources[1].fields[0].name"), or at the file itself when Path is empty.
type FileError struct {
	Path string
	Msg  string
}

func (e *FileError) Error() string {
	if e.Path == "" {
		return "plan file: " + e.Msg
	}
	return "plan file: " + e.Path + ": " + e.Msg
}

func fileErr(path, format string, args ...any) *FileError {
	return &FileError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// key is the form of a name that uniqueness is checked on, as the services do.
func key(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// Normalise puts p in its canonical form: empty lists instead of null,
// every list in its stable order, times in UTC to the second, and
// transformations in compact form. Build and Decode both apply it, so that
// export → import → export gives the same bytes.
func Normalise(p *Plan) {
	p.UserTypes = nonNil(p.UserTypes)
	for i := range p.UserTypes {
		p.UserTypes[i].Subgroups = nonNil(p.UserTypes[i].Subgroups) // people's order
	}
	slices.SortStableFunc(p.UserTypes, func(a, b UserType) int { return cmpNames(a.Name, b.Name) })

	p.Sources = nonNil(p.Sources)
	for i := range p.Sources {
		s := &p.Sources[i]
		s.UserTypes = sortedNames(s.UserTypes)
		s.Fields = nonNil(s.Fields)
		slices.SortStableFunc(s.Fields, func(a, b Field) int { return cmpNames(a.Name, b.Name) })
		if s.Passwords != nil {
			s.Passwords.Formats = nonNil(s.Passwords.Formats) // order of preference
		}
		s.Cutover.DisabledValues = nonNil(s.Cutover.DisabledValues)
		s.Cutover.LockedValues = nonNil(s.Cutover.LockedValues)
		s.Cutover.ExpiredValues = nonNil(s.Cutover.ExpiredValues)
	}
	slices.SortStableFunc(p.Sources, func(a, b Source) int { return cmpNames(a.Name, b.Name) })

	p.Applications = nonNil(p.Applications)
	for i := range p.Applications {
		p.Applications[i].UserTypes = sortedNames(p.Applications[i].UserTypes)
	}
	slices.SortStableFunc(p.Applications, func(a, b Application) int { return cmpNames(a.Name, b.Name) })

	p.Profile.CustomAttributes = nonNil(p.Profile.CustomAttributes)
	for i := range p.Profile.CustomAttributes {
		p.Profile.CustomAttributes[i].Enum = nonNil(p.Profile.CustomAttributes[i].Enum)
	}
	slices.SortStableFunc(p.Profile.CustomAttributes, func(a, b CustomAttribute) int { return cmpNames(a.Name, b.Name) })

	p.Matrix = nonNil(p.Matrix)
	for i := range p.Matrix {
		p.Matrix[i].Transform = compactJSON(p.Matrix[i].Transform)
	}
	slices.SortStableFunc(p.Matrix, func(a, b MatrixRow) int {
		if c := cmpNames(a.Source, b.Source); c != 0 {
			return c
		}
		if c := cmpNames(a.Field, b.Field); c != 0 {
			return c
		}
		if c := strings.Compare(a.Status, b.Status); c != 0 {
			return c
		}
		if c := strings.Compare(a.Target, b.Target); c != 0 {
			return c
		}
		return a.Priority - b.Priority
	})

	p.Privacy.Decisions = nonNil(p.Privacy.Decisions)
	for i := range p.Privacy.Decisions {
		p.Privacy.Decisions[i].DecidedAt = planTime(p.Privacy.Decisions[i].DecidedAt)
	}
	slices.SortStableFunc(p.Privacy.Decisions, func(a, b PrivacyDecision) int {
		if c := cmpNames(a.Source, b.Source); c != 0 {
			return c
		}
		return cmpNames(a.Field, b.Field)
	})
	if p.Privacy.SignOff != nil {
		p.Privacy.SignOff.SignedAt = planTime(p.Privacy.SignOff.SignedAt)
	}

	p.Testing.Ladder = nonNil(p.Testing.Ladder) // smallest first, as the service keeps it
	p.Defects = nonNil(p.Defects)
	slices.SortStableFunc(p.Defects, func(a, b Defect) int {
		switch {
		case a.Number < b.Number:
			return -1
		case a.Number > b.Number:
			return 1
		}
		return 0
	})
}

// cmpNames orders names as the services list them (case-insensitively),
// then exactly, so that the order never depends on the database.
func cmpNames(a, b string) int {
	if c := strings.Compare(key(a), key(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func sortedNames(names []string) []string {
	out := nonNil(names)
	slices.SortStableFunc(out, cmpNames)
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// planTime is t as the file holds it: UTC, to the second.
func planTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Second)
}

func compactJSON(raw RawJSON) RawJSON {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw // Validate reports it
	}
	return b.Bytes()
}

// Validate checks what the file itself can tell before anything is created:
// names present and unique, every reference naming something in the file,
// and the privacy review consistent with the fields it covers. Values the
// services check (enumerations, lengths, patterns) are left to them.
func Validate(p *Plan) error {
	if strings.TrimSpace(p.Project.Name) == "" {
		return fileErr("project.name", "the project has no name")
	}
	userTypes := map[string]bool{}
	for i, u := range p.UserTypes {
		path := fmt.Sprintf("userTypes[%d]", i)
		if err := unique(userTypes, path, "user type", u.Name); err != nil {
			return err
		}
		subgroups := map[string]bool{}
		for j, sg := range u.Subgroups {
			if err := unique(subgroups, fmt.Sprintf("%s.subgroups[%d]", path, j), "subgroup of "+quote(u.Name), sg.Name); err != nil {
				return err
			}
		}
	}
	refs := func(path string, names []string) error {
		seen := map[string]bool{}
		for j, n := range names {
			if !userTypes[key(n)] {
				return fileErr(fmt.Sprintf("%s.userTypes[%d]", path, j), "names the user type %s, which the file does not define", quote(n))
			}
			if seen[key(n)] {
				return fileErr(fmt.Sprintf("%s.userTypes[%d]", path, j), "names the user type %s twice", quote(n))
			}
			seen[key(n)] = true
		}
		return nil
	}
	sources := map[string]bool{}
	fields := map[string]map[string]Field{} // source key → field key → field
	for i, s := range p.Sources {
		path := fmt.Sprintf("sources[%d]", i)
		if err := unique(sources, path, "source", s.Name); err != nil {
			return err
		}
		if err := refs(path, s.UserTypes); err != nil {
			return err
		}
		seen := map[string]bool{}
		fields[key(s.Name)] = map[string]Field{}
		for j, f := range s.Fields {
			if err := unique(seen, fmt.Sprintf("%s.fields[%d]", path, j), "field of source "+quote(s.Name), f.Name); err != nil {
				return err
			}
			fields[key(s.Name)][key(f.Name)] = f
		}
	}
	apps := map[string]bool{}
	for i, a := range p.Applications {
		path := fmt.Sprintf("applications[%d]", i)
		if err := unique(apps, path, "application", a.Name); err != nil {
			return err
		}
		if err := refs(path, a.UserTypes); err != nil {
			return err
		}
	}
	attributes := map[string]bool{}
	for _, a := range schema.Base() {
		attributes[a.Name] = true
	}
	custom := map[string]bool{}
	for i, c := range p.Profile.CustomAttributes {
		if err := unique(custom, fmt.Sprintf("profile.customAttributes[%d]", i), "custom attribute", c.Name); err != nil {
			return err
		}
		attributes[strings.TrimSpace(c.Name)] = true
	}
	field := func(path, source, name string) (Field, error) {
		byName, ok := fields[key(source)]
		if !ok {
			return Field{}, fileErr(path+".source", "names the source %s, which the file does not define", quote(source))
		}
		f, ok := byName[key(name)]
		if !ok {
			return Field{}, fileErr(path+".field", "names the field %s, which source %s does not have", quote(name), quote(source))
		}
		return f, nil
	}
	rows := map[string]bool{}
	for i, r := range p.Matrix {
		path := fmt.Sprintf("matrix[%d]", i)
		if _, err := field(path, r.Source, r.Field); err != nil {
			return err
		}
		if r.Status == mapping.StatusMapped && !attributes[r.Target] {
			return fileErr(path+".target", "maps to %s, which is neither an Okta base attribute nor a custom attribute of the file", quote(r.Target))
		}
		k := key(r.Source) + "\x00" + key(r.Field) + "\x00" + r.Status + "\x00" + r.Target
		if rows[k] {
			return fileErr(path, "maps %s.%s to %s a second time", r.Source, r.Field, orNotMigrated(r))
		}
		rows[k] = true
		if len(r.Transform) > 0 && !json.Valid(r.Transform) {
			return fileErr(path+".transform", "is not valid JSON")
		}
	}
	decided := map[string]bool{}
	approved := 0
	for i, d := range p.Privacy.Decisions {
		path := fmt.Sprintf("privacy.decisions[%d]", i)
		f, err := field(path, d.Source, d.Field)
		if err != nil {
			return err
		}
		if f.PII != mapping.PIIYes {
			return fileErr(path, "decides on %s.%s, which the file does not mark as personal data (pii: yes)", d.Source, d.Field)
		}
		k := key(d.Source) + "\x00" + key(d.Field)
		if decided[k] {
			return fileErr(path, "decides on %s.%s a second time", d.Source, d.Field)
		}
		decided[k] = true
		if d.Status == privacy.StatusApproved {
			approved++
		}
	}
	if so := p.Privacy.SignOff; so != nil {
		pii := 0
		for _, byName := range fields {
			for _, f := range byName {
				if f.PII == mapping.PIIYes {
					pii++
				}
			}
		}
		if approved != pii || so.FieldCount != pii {
			return fileErr("privacy.signOff", "the register is signed off for %d field(s), but the file has %d personal-data field(s) of which %d have an approved decision: a sign-off covers every personal-data field, approved", so.FieldCount, pii, approved)
		}
		if strings.TrimSpace(so.SignedBy) == "" || so.SignedAt.IsZero() {
			return fileErr("privacy.signOff", "a sign-off needs signedBy and signedAt")
		}
	}
	for i, d := range p.Defects {
		if d.Number != int64(i+1) {
			return fileErr(fmt.Sprintf("defects[%d].number", i), "defects are numbered 1, 2, 3… without gaps or repeats; expected %d, found %d", i+1, d.Number)
		}
	}
	return nil
}

func unique(seen map[string]bool, path, what, name string) error {
	if strings.TrimSpace(name) == "" {
		return fileErr(path+".name", "a %s has no name", what)
	}
	if seen[key(name)] {
		return fileErr(path+".name", "%s %s appears twice (names are compared ignoring case)", what, quote(name))
	}
	seen[key(name)] = true
	return nil
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func orNotMigrated(r MatrixRow) string {
	if r.Status == mapping.StatusIgnored {
		return "(not migrated)"
	}
	return quote(r.Target)
}
