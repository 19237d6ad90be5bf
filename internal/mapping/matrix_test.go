package mapping_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// parts are the inputs of BuildMatrix, built by hand.
type parts struct {
	fields   []mapping.SourceField
	rows     []mapping.Row
	attrs    []schema.Attribute
	settings schema.Settings
	sources  map[int64]string
}

func intp(n int) *int { return &n }

func field(id, sourceID int64, name, dataType string, maxLength *int, samples ...string) mapping.SourceField {
	if samples == nil {
		samples = []string{}
	}
	return mapping.SourceField{ID: id, ProjectID: 1, SourceID: sourceID, Name: name, NameKey: strings.ToLower(name), DataType: dataType,
		MaxLength: maxLength, Samples: samples, PII: mapping.PIIUnknown, Version: 1}
}

func row(id, fieldID int64, target string, priority int, transform string) mapping.Row {
	return mapping.Row{ID: id, ProjectID: 1, SourceFieldID: fieldID, TargetAttribute: target, Status: mapping.StatusMapped,
		Priority: priority, Transform: transform, Version: 1}
}

func ignored(id, fieldID int64) mapping.Row {
	return mapping.Row{ID: id, ProjectID: 1, SourceFieldID: fieldID, Status: mapping.StatusIgnored, Priority: 1, Version: 1}
}

// completeParts is a matrix with no problem at all: the four required
// attributes mapped from an AD source whose login values are email addresses.
func completeParts() *parts {
	upn := field(1, 10, "userPrincipalName", "string", intp(100), "Ada@Example.com ", "bob@example.com")
	upn.KnownUnique = true
	return &parts{
		fields: []mapping.SourceField{
			upn,
			field(2, 10, "mail", "string", intp(100), "ada@example.com", "bob@example.com"),
			field(3, 10, "givenName", "string", intp(50), "Ada", "Bob"),
			field(4, 10, "sn", "string", intp(50), "Lovelace", "Builder"),
		},
		rows: []mapping.Row{
			row(101, 1, "login", 1, `[{"op":"trim"},{"op":"lower"}]`),
			row(102, 2, "email", 1, ""),
			row(103, 3, "firstName", 1, ""),
			row(104, 4, "lastName", 1, ""),
		},
		attrs:   schema.Base(),
		sources: map[int64]string{10: "AD", 20: "Workday"},
	}
}

func (p *parts) build() *mapping.Matrix {
	return mapping.BuildMatrix(p.fields, p.rows, p.attrs, p.settings, p.sources)
}

func (p *parts) add(f mapping.SourceField, rows ...mapping.Row) {
	p.fields = append(p.fields, f)
	p.rows = append(p.rows, rows...)
}

func (p *parts) removeField(id int64) {
	p.fields = slices.DeleteFunc(p.fields, func(f mapping.SourceField) bool { return f.ID == id })
	p.rows = slices.DeleteFunc(p.rows, func(r mapping.Row) bool { return r.SourceFieldID == id })
}

func (p *parts) setRow(id int64, edit func(r *mapping.Row)) {
	for i := range p.rows {
		if p.rows[i].ID == id {
			edit(&p.rows[i])
			return
		}
	}
	panic("no row")
}

func (p *parts) setField(id int64, edit func(f *mapping.SourceField)) {
	for i := range p.fields {
		if p.fields[i].ID == id {
			edit(&p.fields[i])
			return
		}
	}
	panic("no field")
}

func custom(name, typ string) schema.Attribute {
	a := schema.Attribute{Name: name, Title: name, Type: typ, Enum: []string{}, Nullable: true}
	if typ == schema.TypeArray {
		a.ItemsType = schema.TypeString
	}
	return a
}

// found is one problem as the tests compare it.
type found struct {
	Code, Severity string
	RowID, FieldID int64
	Target         string
}

func foundOf(m *mapping.Matrix) []found {
	out := []found{}
	for _, p := range m.Problems {
		out = append(out, found{p.Code, p.Severity, p.RowID, p.FieldID, p.Target})
	}
	slices.SortFunc(out, func(a, b found) int {
		if c := strings.Compare(a.Code, b.Code); c != 0 {
			return c
		}
		return int(a.RowID - b.RowID)
	})
	return out
}

const (
	blocking = mapping.SeverityBlocking
	warning  = mapping.SeverityWarning
)

func TestBuildMatrixChecks(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *parts)
		want []found
	}{
		{"a complete matrix has no problem", func(p *parts) {}, nil},

		// required_unmapped
		{"required attribute that no field maps is blocking", func(p *parts) { p.removeField(4) },
			[]found{{mapping.ProblemRequiredUnmapped, blocking, 0, 0, "lastName"}}},
		{"required attribute whose only row is ignored is unmapped", func(p *parts) {
			p.setRow(104, func(r *mapping.Row) { *r = ignored(104, 4) })
		}, []found{{mapping.ProblemRequiredUnmapped, blocking, 0, 0, "lastName"}}},
		{"every unmapped required attribute is reported", func(p *parts) { p.fields, p.rows = nil, nil },
			[]found{
				{mapping.ProblemRequiredUnmapped, blocking, 0, 0, "login"},
				{mapping.ProblemRequiredUnmapped, blocking, 0, 0, "email"},
				{mapping.ProblemRequiredUnmapped, blocking, 0, 0, "firstName"},
				{mapping.ProblemRequiredUnmapped, blocking, 0, 0, "lastName"},
			}},
		{"required custom attribute that no field maps is blocking", func(p *parts) {
			a := custom("badge", schema.TypeString)
			a.Required = true
			p.attrs = append(p.attrs, a)
		}, []found{{mapping.ProblemRequiredUnmapped, blocking, 0, 0, "badge"}}},
		{"required custom attribute that a field maps is fine", func(p *parts) {
			a := custom("badge", schema.TypeString)
			a.Required = true
			p.attrs = append(p.attrs, a)
			p.add(field(5, 10, "badgeNumber", "string", nil), row(105, 5, "badge", 1, ""))
		}, nil},
		{"optional attribute that no field maps is fine", func(p *parts) {
			p.attrs = append(p.attrs, custom("badge", schema.TypeString))
		}, nil},

		// field_undecided
		{"field with no row is undecided (a warning)", func(p *parts) { p.add(field(5, 10, "title", "string", nil)) },
			[]found{{mapping.ProblemFieldUndecided, warning, 0, 5, ""}}},
		{"field deliberately not migrated is decided", func(p *parts) { p.add(field(5, 10, "title", "string", nil), ignored(105, 5)) }, nil},

		// length_exceeds
		{"source longer than the target's maximum warns", func(p *parts) {
			p.setField(3, func(f *mapping.SourceField) { f.MaxLength = intp(64) })
		}, []found{{mapping.ProblemLengthExceeds, warning, 103, 3, "firstName"}}},
		{"source as long as the target's maximum is fine", func(p *parts) {
			p.setField(3, func(f *mapping.SourceField) { f.MaxLength = intp(50) })
		}, nil},
		{"source of unknown length is not flagged", func(p *parts) {
			p.setField(3, func(f *mapping.SourceField) { f.MaxLength = nil })
		}, nil},
		{"target without a maximum takes any length", func(p *parts) {
			p.add(field(5, 10, "displayName", "string", intp(100000)), row(105, 5, "displayName", 1, ""))
		}, nil},

		// type_incompatible
		{"binary into a string attribute is blocking", func(p *parts) {
			p.add(field(5, 10, "thumbnailPhoto", "binary", nil), row(105, 5, "displayName", 1, ""))
		}, []found{{mapping.ProblemTypeIncompatible, blocking, 105, 5, "displayName"}}},
		{"binary into a string attribute through a transformation only warns", func(p *parts) {
			p.add(field(5, 10, "thumbnailPhoto", "binary", nil), row(105, 5, "displayName", 1, `[{"op":"trim"}]`))
		}, []found{{mapping.ProblemTypeIncompatible, warning, 105, 5, "displayName"}}},
		{"text into an integer attribute is blocking", func(p *parts) {
			p.attrs = append(p.attrs, custom("age", schema.TypeInteger))
			p.add(field(5, 10, "age", "string", nil), row(105, 5, "age", 1, ""))
		}, []found{{mapping.ProblemTypeIncompatible, blocking, 105, 5, "age"}}},
		{"decimal into an integer attribute is blocking", func(p *parts) {
			p.attrs = append(p.attrs, custom("age", schema.TypeInteger))
			p.add(field(5, 10, "age", "number", nil), row(105, 5, "age", 1, ""))
		}, []found{{mapping.ProblemTypeIncompatible, blocking, 105, 5, "age"}}},
		{"whole number into an integer attribute is fine", func(p *parts) {
			p.attrs = append(p.attrs, custom("age", schema.TypeInteger))
			p.add(field(5, 10, "age", "integer", nil), row(105, 5, "age", 1, ""))
		}, nil},
		{"whole number into a number attribute is fine", func(p *parts) {
			p.attrs = append(p.attrs, custom("fte", schema.TypeNumber))
			p.add(field(5, 10, "fte", "integer", nil), row(105, 5, "fte", 1, ""))
		}, nil},
		{"date into a number attribute is blocking", func(p *parts) {
			p.attrs = append(p.attrs, custom("fte", schema.TypeNumber))
			p.add(field(5, 10, "fte", "date", nil), row(105, 5, "fte", 1, ""))
		}, []found{{mapping.ProblemTypeIncompatible, blocking, 105, 5, "fte"}}},
		{"text into a boolean attribute is blocking", func(p *parts) {
			p.attrs = append(p.attrs, custom("active", schema.TypeBoolean))
			p.add(field(5, 10, "enabled", "string", nil), row(105, 5, "active", 1, ""))
		}, []found{{mapping.ProblemTypeIncompatible, blocking, 105, 5, "active"}}},
		{"boolean into a boolean attribute is fine", func(p *parts) {
			p.attrs = append(p.attrs, custom("active", schema.TypeBoolean))
			p.add(field(5, 10, "enabled", "boolean", nil), row(105, 5, "active", 1, ""))
		}, nil},
		{"dates and numbers into a string attribute are fine", func(p *parts) {
			p.add(field(5, 10, "hireDate", "date", nil), row(105, 5, "title", 1, ""))
			p.add(field(6, 10, "grade", "integer", nil), row(106, 6, "division", 1, ""))
		}, nil},

		// multi_into_single
		{"several values into a single-valued attribute warn", func(p *parts) {
			mobile := field(5, 10, "mobile", "string", nil)
			mobile.MultiValued = true
			p.add(mobile, row(105, 5, "mobilePhone", 1, ""))
		}, []found{{mapping.ProblemMultiIntoSingle, warning, 105, 5, "mobilePhone"}}},
		{"several values into an array attribute are fine", func(p *parts) {
			p.attrs = append(p.attrs, custom("aliases", schema.TypeArray))
			proxies := field(5, 10, "proxyAddresses", "string", nil)
			proxies.MultiValued = true
			p.add(proxies, row(105, 5, "aliases", 1, ""))
		}, nil},

		// unique_not_known
		{"unique target from a field not known to be unique warns", func(p *parts) {
			p.setField(1, func(f *mapping.SourceField) { f.KnownUnique = false })
		}, []found{{mapping.ProblemUniqueNotKnown, warning, 101, 1, "login"}}},
		{"unique custom attribute from a field not known to be unique warns", func(p *parts) {
			a := custom("badgeId", schema.TypeString)
			a.Unique = true
			p.attrs = append(p.attrs, a)
			p.add(field(5, 10, "badge", "string", nil), row(105, 5, "badgeId", 1, ""))
		}, []found{{mapping.ProblemUniqueNotKnown, warning, 105, 5, "badgeId"}}},
		{"unique custom attribute from a field known to be unique is fine", func(p *parts) {
			a := custom("badgeId", schema.TypeString)
			a.Unique = true
			p.attrs = append(p.attrs, a)
			badge := field(5, 10, "badge", "string", nil)
			badge.KnownUnique = true
			p.add(badge, row(105, 5, "badgeId", 1, ""))
		}, nil},
		{"email is not unique by default, so any field may feed it", func(p *parts) {}, nil},
		{"email made unique by the org's settings needs a unique field", func(p *parts) {
			for i := range p.attrs {
				if p.attrs[i].Name == "email" {
					p.attrs[i].Unique = true
				}
			}
		}, []found{{mapping.ProblemUniqueNotKnown, warning, 102, 2, "email"}}},

		// no_source_of_truth
		{"two fields with priority 1 into one attribute are both flagged", func(p *parts) {
			p.add(field(5, 20, "workEmail", "string", nil, "ada@example.com"), row(105, 5, "email", 1, ""))
		}, []found{
			{mapping.ProblemNoSourceOfTruth, blocking, 102, 2, "email"},
			{mapping.ProblemNoSourceOfTruth, blocking, 105, 5, "email"},
		}},
		{"two fields with no priority 1 have no source of truth", func(p *parts) {
			p.setRow(102, func(r *mapping.Row) { r.Priority = 2 })
			p.add(field(5, 20, "workEmail", "string", nil), row(105, 5, "email", 3, ""))
		}, []found{
			{mapping.ProblemNoSourceOfTruth, blocking, 102, 2, "email"},
			{mapping.ProblemNoSourceOfTruth, blocking, 105, 5, "email"},
		}},
		{"three fields with a repeated fallback priority are flagged", func(p *parts) {
			p.add(field(5, 20, "workEmail", "string", nil), row(105, 5, "email", 2, ""))
			p.add(field(6, 20, "homeEmail", "string", nil), row(106, 6, "email", 2, ""))
		}, []found{
			{mapping.ProblemNoSourceOfTruth, blocking, 102, 2, "email"},
			{mapping.ProblemNoSourceOfTruth, blocking, 105, 5, "email"},
			{mapping.ProblemNoSourceOfTruth, blocking, 106, 6, "email"},
		}},
		{"one source of truth and distinct fallbacks are fine", func(p *parts) {
			p.add(field(5, 20, "workEmail", "string", nil), row(105, 5, "email", 2, ""))
			p.add(field(6, 20, "homeEmail", "string", nil), row(106, 6, "email", 7, ""))
		}, nil},
		{"an ignored field does not compete for the attribute", func(p *parts) {
			p.add(field(5, 20, "workEmail", "string", nil), ignored(105, 5))
		}, nil},

		// undefined_target
		{"row into an attribute the project does not define is blocking", func(p *parts) {
			p.add(field(5, 10, "extensionAttribute1", "string", nil), row(105, 5, "badge", 1, ""))
		}, []found{{mapping.ProblemUndefinedTarget, blocking, 105, 5, "badge"}}},
		{"row into a defined custom attribute is fine", func(p *parts) {
			p.attrs = append(p.attrs, custom("badge", schema.TypeString))
			p.add(field(5, 10, "extensionAttribute1", "string", nil), row(105, 5, "badge", 1, ""))
		}, nil},
		{"base attribute names are case-sensitive", func(p *parts) {
			p.add(field(5, 10, "dept", "string", nil), row(105, 5, "Department", 1, ""))
		}, []found{{mapping.ProblemUndefinedTarget, blocking, 105, 5, "Department"}}},

		// login_not_email
		{"login from short names without a login pattern is blocking", func(p *parts) {
			p.removeField(1)
			p.add(field(5, 10, "sAMAccountName", "string", intp(20), "ada", "bob"), row(105, 5, "login", 1, ""))
			p.setField(5, func(f *mapping.SourceField) { f.KnownUnique = true })
		}, []found{{mapping.ProblemLoginNotEmail, blocking, 105, 5, "login"}}},
		{"login from short names with a login pattern is fine", func(p *parts) {
			p.removeField(1)
			p.add(field(5, 10, "sAMAccountName", "string", intp(20), "ada", "bob"), row(105, 5, "login", 1, ""))
			p.setField(5, func(f *mapping.SourceField) { f.KnownUnique = true })
			p.settings.LoginPattern = "[a-z]+"
		}, nil},
		{"login from a field without samples whose name is not email-like is blocking", func(p *parts) {
			p.removeField(1)
			p.add(field(5, 20, "employeeID", "string", nil), row(105, 5, "login", 1, ""))
			p.setField(5, func(f *mapping.SourceField) { f.KnownUnique = true })
		}, []found{{mapping.ProblemLoginNotEmail, blocking, 105, 5, "login"}}},
		{"login from a mail field without samples is trusted", func(p *parts) {
			p.removeField(1)
			p.add(field(5, 20, "email_address", "string", nil), row(105, 5, "login", 1, ""))
			p.setField(5, func(f *mapping.SourceField) { f.KnownUnique = true })
		}, nil},
		{"login from short names turned into addresses by a template is fine", func(p *parts) {
			p.removeField(1)
			p.add(field(5, 10, "sAMAccountName", "string", intp(20), "ada", "bob"),
				row(105, 5, "login", 1, `[{"op":"template","template":"{sAMAccountName}@example.com"}]`))
			p.setField(5, func(f *mapping.SourceField) { f.KnownUnique = true })
		}, nil},
		{"login whose sample becomes no address is blocking even with a transformation", func(p *parts) {
			p.setField(1, func(f *mapping.SourceField) { f.Samples = []string{"ada@example.com", "bob"} })
		}, []found{{mapping.ProblemLoginNotEmail, blocking, 101, 1, "login"}}},

		{"login field with fewer samples than its siblings is judged on those it has", func(p *parts) {
			p.setField(1, func(f *mapping.SourceField) { f.Samples = []string{"ada@example.com"} })
		}, nil},

		// transform_invalid
		{"transformation reading a field the source lacks is blocking", func(p *parts) {
			p.add(field(5, 10, "displayName", "string", nil),
				row(105, 5, "displayName", 1, `[{"op":"concat","fields":["givenName","middleName","sn"],"separator":" "}]`))
		}, []found{{mapping.ProblemTransformInvalid, blocking, 105, 5, "displayName"}}},
		{"transformation reading a field of another source is blocking", func(p *parts) {
			p.add(field(5, 20, "preferredName", "string", nil),
				row(105, 5, "displayName", 1, `[{"op":"concat","fields":["preferredName","sn"],"separator":" "}]`))
		}, []found{{mapping.ProblemTransformInvalid, blocking, 105, 5, "displayName"}}},
		{"transformation reading fields of its own source is fine", func(p *parts) {
			p.add(field(5, 10, "displayName", "string", nil),
				row(105, 5, "displayName", 1, `[{"op":"concat","fields":["givenName","sn"],"separator":" "}]`))
		}, nil},
		{"stored transformation that no longer parses is blocking", func(p *parts) {
			p.setRow(103, func(r *mapping.Row) { r.Transform = `[{"op":"shout"}]` })
		}, []found{{mapping.ProblemTransformInvalid, blocking, 103, 3, "firstName"}}},
		{"stored transformation that is not JSON is blocking", func(p *parts) {
			p.setRow(103, func(r *mapping.Row) { r.Transform = `trim then lower` })
		}, []found{{mapping.ProblemTransformInvalid, blocking, 103, 3, "firstName"}}},
		{"transformation with a bad parameter is blocking", func(p *parts) {
			p.setRow(103, func(r *mapping.Row) { r.Transform = `[{"op":"regex_replace","pattern":"(","replacement":""}]` })
		}, []found{{mapping.ProblemTransformInvalid, blocking, 103, 3, "firstName"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := completeParts()
			tt.edit(p)
			m := p.build()
			got := foundOf(m)
			want := tt.want
			if want == nil {
				want = []found{}
			}
			slices.SortFunc(want, func(a, b found) int {
				if c := strings.Compare(a.Code, b.Code); c != 0 {
					return c
				}
				return int(a.RowID - b.RowID)
			})
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("problems:\n got %+v\nwant %+v", got, want)
			}
			blocking, warnings := 0, 0
			for _, pr := range m.Problems {
				if pr.Message == "" {
					t.Errorf("problem %s has no message", pr.Code)
				}
				if pr.Severity == mapping.SeverityBlocking {
					blocking++
				} else {
					warnings++
				}
			}
			if m.Blocking != blocking || m.Warnings != warnings {
				t.Errorf("Blocking, Warnings = %d, %d; want %d, %d", m.Blocking, m.Warnings, blocking, warnings)
			}
			// A problem on a line is also on that line, and only there.
			for _, l := range m.Lines {
				for _, pr := range l.Problems {
					if pr.FieldID != l.Field.ID || (l.Row != nil && pr.RowID != l.Row.ID) {
						t.Errorf("problem %+v is on the line of field %d", pr, l.Field.ID)
					}
				}
			}
		})
	}
}

func TestBuildMatrixMessagesNameWhatIsWrong(t *testing.T) {
	p := completeParts()
	p.setField(3, func(f *mapping.SourceField) { f.MaxLength = intp(64) })
	p.removeField(4)
	p.add(field(5, 10, "sAMAccountName", "string", nil, "ada"), row(105, 5, "login", 2, ""))
	p.add(field(6, 10, "badge", "string", nil), row(106, 6, "badgeId", 1, ""))
	m := p.build()
	want := map[string][]string{
		mapping.ProblemLengthExceeds:    {"givenName", "64", "firstName", "50"},
		mapping.ProblemRequiredUnmapped: {"lastName"},
		mapping.ProblemLoginNotEmail:    {`"ada"`, "login pattern"},
		mapping.ProblemUndefinedTarget:  {"badgeId", "custom attribute"},
	}
	for code, words := range want {
		var msg string
		for _, pr := range m.Problems {
			if pr.Code == code {
				msg = pr.Message
			}
		}
		if msg == "" {
			t.Errorf("no %s problem in %v", code, codes(m.Problems))
			continue
		}
		for _, w := range words {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q lacks %q", code, msg, w)
			}
		}
	}
}

func TestBuildMatrixCountsAndCompleteness(t *testing.T) {
	tests := []struct {
		name                       string
		edit                       func(p *parts)
		mapped, ignored, undecided int
		complete                   bool
	}{
		{"complete matrix", func(p *parts) {}, 4, 0, 0, true},
		{"warnings do not keep the matrix from being complete", func(p *parts) {
			p.setField(3, func(f *mapping.SourceField) { f.MaxLength = intp(64) })
		}, 4, 0, 0, true},
		{"an ignored field counts as decided", func(p *parts) { p.add(field(5, 10, "title", "string", nil), ignored(105, 5)) }, 4, 1, 0, true},
		{"an undecided field keeps the matrix incomplete", func(p *parts) { p.add(field(5, 10, "title", "string", nil)) }, 4, 0, 1, false},
		{"a blocking problem keeps the matrix incomplete", func(p *parts) { p.removeField(4) }, 3, 0, 0, false},
		{"a matrix without fields is not complete", func(p *parts) { p.fields, p.rows = nil, nil }, 0, 0, 0, false},
		{"a field mapped twice counts each row", func(p *parts) { p.rows = append(p.rows, row(105, 2, "secondEmail", 1, "")) }, 5, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := completeParts()
			tt.edit(p)
			m := p.build()
			if m.Fields != len(p.fields) || m.Mapped != tt.mapped || m.Ignored != tt.ignored || m.Undecided != tt.undecided {
				t.Errorf("fields %d mapped %d ignored %d undecided %d; want %d %d %d %d", m.Fields, m.Mapped, m.Ignored, m.Undecided,
					len(p.fields), tt.mapped, tt.ignored, tt.undecided)
			}
			if m.Complete() != tt.complete {
				t.Errorf("Complete() = %v, want %v (problems %v)", m.Complete(), tt.complete, codes(m.Problems))
			}
		})
	}
}

func TestBuildMatrixLinesAreOrderedBySourceThenField(t *testing.T) {
	p := completeParts()
	// By name, ignoring case: "aardvark HR" (id 5), AD (id 10), Workday (id 20).
	p.sources[5] = "aardvark HR"
	p.add(field(5, 20, "Alpha", "string", nil), ignored(105, 5))
	p.add(field(6, 5, "zz", "string", nil), ignored(106, 6))
	m := p.build()
	var got []string
	for _, l := range m.Lines {
		got = append(got, l.SourceName+"."+l.Field.Name)
	}
	want := []string{"aardvark HR.zz", "AD.givenName", "AD.mail", "AD.sn", "AD.userPrincipalName", "Workday.Alpha"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("lines %v, want %v", got, want)
	}
}

// A regression test: the fields of each source used to be indexed before
// the lines were sorted, so that a source whose name sorts before another
// with a smaller id validated and previewed transformations against the
// other source's fields.
func TestBuildMatrixReadsTheFieldsOfEachLinesOwnSource(t *testing.T) {
	p := &parts{
		fields: []mapping.SourceField{
			// As FindFields returns them: by source id, then name.
			field(1, 10, "first", "string", nil, "Ada"),
			field(2, 10, "last", "string", nil, "Lovelace"),
			field(3, 20, "givenName", "string", nil, "Grace"),
			field(4, 20, "sn", "string", nil, "Hopper"),
		},
		rows: []mapping.Row{
			row(101, 1, "login", 1, `[{"op":"template","template":"{first}.{last}@example.com"}]`),
			row(103, 3, "login", 2, `[{"op":"template","template":"{givenName}.{sn}@example.com"}]`),
		},
		attrs:   schema.Base(),
		sources: map[int64]string{10: "Workday", 20: "AD"},
	}
	for i := range p.fields {
		p.fields[i].KnownUnique = true
	}
	before := slices.Clone(p.fields)
	m := p.build()
	if !reflect.DeepEqual(p.fields, before) {
		t.Errorf("BuildMatrix reordered or changed its fields argument")
	}
	for _, l := range m.Lines {
		if l.Row == nil {
			continue
		}
		for _, pr := range l.Problems {
			t.Errorf("%s.%s: %s: %s", l.SourceName, l.Field.Name, pr.Code, pr.Message)
		}
		want := map[int64]string{101: "Ada.Lovelace@example.com", 103: "Grace.Hopper@example.com"}[l.Row.ID]
		if len(l.Preview) != 1 || l.Preview[0].Output != want {
			t.Errorf("%s.%s: preview %+v, want %q", l.SourceName, l.Field.Name, l.Preview, want)
		}
	}
}

func TestBuildMatrixPreviewsTheLoginOnSamples(t *testing.T) {
	p := completeParts()
	p.setField(1, func(f *mapping.SourceField) { f.Samples = []string{" Ada@Example.COM", ""} })
	m := p.build()
	var line *mapping.MatrixLine
	for i := range m.Lines {
		if m.Lines[i].Row != nil && m.Lines[i].Row.ID == 101 {
			line = &m.Lines[i]
		}
	}
	if line == nil {
		t.Fatal("no line for the login row")
	}
	if line.Summary == "" {
		t.Errorf("no summary of the transformation")
	}
	if line.Target == nil || line.Target.Name != "login" {
		t.Errorf("target %+v, want login", line.Target)
	}
	if len(line.Preview) != 2 {
		t.Fatalf("preview %+v, want 2 rows", line.Preview)
	}
	if line.Preview[0].Input != " Ada@Example.COM" || line.Preview[0].Output != "ada@example.com" || line.Preview[0].Err != "" {
		t.Errorf("preview[0] = %+v", line.Preview[0])
	}
	if line.Preview[1].Input != "" || line.Preview[1].Output != "" {
		t.Errorf("preview[1] = %+v, want the missing sample empty", line.Preview[1])
	}
}
