package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// OrgSchema is an Okta org's user schema as GET /api/v1/meta/schemas/user/default
// (or /{schemaId}) returns it: JSON Schema draft-04 style, with Okta's base
// properties under definitions.base and the org's custom ones under
// definitions.custom.
type OrgSchema struct {
	ID          string         `json:"id"`
	Schema      string         `json:"$schema"`
	Name        string         `json:"name"`
	Title       string         `json:"title"`
	Created     string         `json:"created"`
	LastUpdated string         `json:"lastUpdated"`
	Definitions OrgDefinitions `json:"definitions"`
	Type        string         `json:"type"`
}

// OrgDefinitions holds the two subschemas.
type OrgDefinitions struct {
	Base   OrgSubschema `json:"base"`
	Custom OrgSubschema `json:"custom"`
}

// OrgSubschema is #base or #custom.
type OrgSubschema struct {
	ID         string                  `json:"id"`
	Type       string                  `json:"type"`
	Properties map[string]OrgAttribute `json:"properties"`
	Required   []string                `json:"required"`
}

// OrgAttribute is one property (Okta's UserSchemaAttribute).
type OrgAttribute struct {
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Type        string          `json:"type"`
	Format      string          `json:"format"`
	Required    *bool           `json:"required"`
	Unique      OrgUnique       `json:"unique"`
	MinLength   *int            `json:"minLength"`
	MaxLength   *int            `json:"maxLength"`
	Pattern     *string         `json:"pattern"`
	Enum        []OrgValue      `json:"enum"`
	OneOf       []OrgEnumOption `json:"oneOf"`
	Items       *OrgItems       `json:"items"`
	Permissions []OrgPermission `json:"permissions"`
	Mutability  string          `json:"mutability"`
	Scope       string          `json:"scope"`
	Master      *OrgMaster      `json:"master"`
	Default     json.RawMessage `json:"default"`
	// ExternalName and ExternalNamespace appear on app and IdP schemas.
	ExternalName      string `json:"externalName"`
	ExternalNamespace string `json:"externalNamespace"`
}

// OrgItems describes an array's elements.
type OrgItems struct {
	Type  string          `json:"type"`
	Enum  []OrgValue      `json:"enum"`
	OneOf []OrgEnumOption `json:"oneOf"`
}

// OrgEnumOption is a display name for an enum value.
type OrgEnumOption struct {
	Const OrgValue `json:"const"`
	Title string   `json:"title"`
}

// OrgPermission is one access-control entry.
type OrgPermission struct {
	Principal string `json:"principal"`
	Action    string `json:"action"`
}

// OrgMaster says where a property is mastered.
type OrgMaster struct {
	Type     string `json:"type"`
	Priority []struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	} `json:"priority"`
}

// OrgValue is an enum value, which Okta sends as a string or a number; it
// keeps the text (numbers as written).
type OrgValue string

func (v *OrgValue) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*v = OrgValue(s)
		return nil
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&n); err == nil {
		*v = OrgValue(n.String())
		return nil
	}
	var bl bool
	if err := json.Unmarshal(b, &bl); err == nil {
		*v = OrgValue(strconv.FormatBool(bl))
		return nil
	}
	return fmt.Errorf("enum value %s is neither a string nor a number", b)
}

// OrgUnique is a property's uniqueness: Okta sends true/false on requests and
// "UNIQUE_VALIDATED" or "PENDING_UNIQUENESS" in responses; absent is not unique.
type OrgUnique struct {
	Unique  bool
	Pending bool
}

func (u *OrgUnique) UnmarshalJSON(b []byte) error {
	*u = OrgUnique{}
	var bl bool
	if err := json.Unmarshal(b, &bl); err == nil {
		u.Unique = bl
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		if string(b) == "null" {
			return nil
		}
		return fmt.Errorf("unique is neither a boolean nor a string: %s", b)
	}
	switch s {
	case "UNIQUE_VALIDATED":
		u.Unique = true
	case "PENDING_UNIQUENESS":
		u.Unique, u.Pending = true, true
	case "", "NOT_UNIQUE":
	default:
		return fmt.Errorf("unknown uniqueness status %q", s)
	}
	return nil
}

// ParseOrgSchema decodes the body of Okta's user schema endpoint and checks
// that it is one: an error says what is wrong, never repeating the body.
func ParseOrgSchema(body []byte) (*OrgSchema, error) {
	var s OrgSchema
	if err := json.Unmarshal(body, &s); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, fmt.Errorf("the Okta user schema is not valid JSON (at byte %d)", se.Offset)
		case errors.As(err, &te):
			return nil, fmt.Errorf("the Okta user schema has an unexpected value at %s", te.Field)
		}
		return nil, fmt.Errorf("the Okta user schema could not be read: %w", err)
	}
	if s.Definitions.Base.Properties == nil {
		return nil, errors.New("the response is not an Okta user schema: it has no definitions.base.properties")
	}
	if _, ok := s.Definitions.Base.Properties["login"]; !ok {
		return nil, errors.New("the Okta user schema has no login property")
	}
	return &s, nil
}

// Kinds of difference between a project's catalog and an org's schema.
const (
	DiffLoginPattern     = "login_pattern"
	DiffMissingInOrg     = "missing_in_org"
	DiffMissingInProject = "missing_in_project"
	DiffNameCase         = "name_case"
	DiffType             = "type"
	DiffMinLength        = "min_length"
	DiffMaxLength        = "max_length"
	DiffPattern          = "pattern"
	DiffEnum             = "enum"
	DiffRequired         = "required"
	DiffUnique           = "unique"
)

// Difference is one way the org's schema differs from the project's catalog.
type Difference struct {
	Attribute string `json:"attribute"`
	Kind      string `json:"kind"`
	// Project and Org are the two values as shown to a person ("" is none).
	Project string `json:"project"`
	Org     string `json:"org"`
	Message string `json:"message"`
}

// CompareWithOrg compares a project's catalog (Attributes) with an org's
// actual schema. Base attributes are fixed in Okta except login's pattern, so
// only that is compared; custom attributes are compared by name (type,
// lengths, pattern, enum, required, unique), and those on one side only are
// reported. Differences come in catalog order, then the org's extra
// attributes by name.
func CompareWithOrg(catalog []Attribute, org OrgSchema) []Difference {
	out := []Difference{}
	add := func(attr, kind, project, orgValue, format string, args ...any) {
		out = append(out, Difference{Attribute: attr, Kind: kind, Project: project, Org: orgValue, Message: fmt.Sprintf(format, args...)})
	}
	orgCustom := org.Definitions.Custom.Properties
	matched := map[string]bool{}
	for _, a := range catalog {
		if a.Base {
			if a.Name != "login" {
				continue
			}
			orgPattern := ""
			if p := org.Definitions.Base.Properties["login"].Pattern; p != nil {
				orgPattern = *p
			}
			if a.Pattern != orgPattern {
				add(a.Name, DiffLoginPattern, a.Pattern, orgPattern, "The login pattern is %s in the project but %s in the org.", describePattern(a.Pattern), describePattern(orgPattern))
			}
			continue
		}
		o, ok := orgCustom[a.Name]
		if !ok {
			if name, found := findFold(orgCustom, a.Name); found {
				matched[name] = true
				add(a.Name, DiffNameCase, a.Name, name, "The org spells this attribute %s; mappings must use the org's spelling.", name)
				o = orgCustom[name]
			} else {
				add(a.Name, DiffMissingInOrg, a.Name, "", "The custom attribute %s is not in the org's schema yet: add it in Okta before loading users.", a.Name)
				continue
			}
		} else {
			matched[a.Name] = true
		}
		compareAttribute(a, o, add)
	}
	var extra []string
	for name := range orgCustom {
		if !matched[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		add(name, DiffMissingInProject, "", name, "The org has the custom attribute %s, which the project does not define.", name)
	}
	return out
}

func compareAttribute(a Attribute, o OrgAttribute, add func(attr, kind, project, org, format string, args ...any)) {
	pType, oType := describeType(a.Type, a.ItemsType), describeType(o.Type, itemsType(o))
	if pType != oType {
		add(a.Name, DiffType, pType, oType, "%s is %s in the project but %s in the org.", a.Name, pType, oType)
	}
	if p, q := intText(a.MinLength), intText(o.MinLength); p != q {
		add(a.Name, DiffMinLength, p, q, "%s has minimum length %s in the project but %s in the org.", a.Name, orNone(p), orNone(q))
	}
	if p, q := intText(a.MaxLength), intText(o.MaxLength); p != q {
		add(a.Name, DiffMaxLength, p, q, "%s has maximum length %s in the project but %s in the org.", a.Name, orNone(p), orNone(q))
	}
	orgPattern := ""
	if o.Pattern != nil {
		orgPattern = *o.Pattern
	}
	if a.Pattern != orgPattern {
		add(a.Name, DiffPattern, a.Pattern, orgPattern, "%s has pattern %s in the project but %s in the org.", a.Name, orNone(a.Pattern), orNone(orgPattern))
	}
	orgEnum := o.Enum
	if o.Items != nil && len(o.Items.Enum) > 0 {
		orgEnum = o.Items.Enum
	}
	if p, q := enumText(elementType(a), a.Enum), enumText(elementType(a), orgValues(orgEnum)); p != q {
		add(a.Name, DiffEnum, p, q, "%s allows %s in the project but %s in the org.", a.Name, anyIfEmpty(p), anyIfEmpty(q))
	}
	orgRequired := o.Required != nil && *o.Required
	if a.Required != orgRequired {
		add(a.Name, DiffRequired, strconv.FormatBool(a.Required), strconv.FormatBool(orgRequired), "%s is %s in the project but %s in the org.", a.Name, requiredText(a.Required), requiredText(orgRequired))
	}
	switch {
	case a.Unique != o.Unique.Unique:
		add(a.Name, DiffUnique, strconv.FormatBool(a.Unique), strconv.FormatBool(o.Unique.Unique), "%s is %s in the project but %s in the org.", a.Name, uniqueText(a.Unique), uniqueText(o.Unique.Unique))
	case a.Unique && o.Unique.Pending:
		add(a.Name, DiffUnique, "true", "pending", "Okta is still checking existing users for duplicates of %s; uniqueness is not enforced until it has finished.", a.Name)
	}
}

func findFold(props map[string]OrgAttribute, name string) (string, bool) {
	var found []string
	for k := range props {
		if strings.EqualFold(k, name) {
			found = append(found, k)
		}
	}
	if len(found) == 0 {
		return "", false
	}
	slices.Sort(found)
	return found[0], true
}

func itemsType(o OrgAttribute) string {
	if o.Items == nil {
		return ""
	}
	return o.Items.Type
}

func describeType(typ, items string) string {
	if typ == TypeArray {
		if items == "" {
			items = TypeString
		}
		return "array of " + items
	}
	if typ == "" {
		return "untyped"
	}
	return typ
}

func describePattern(p string) string {
	if p == "" {
		return "not set (email addresses)"
	}
	return p
}

func intText(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func anyIfEmpty(s string) string {
	if s == "" {
		return "any value"
	}
	return s
}

func orgValues(vs []OrgValue) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// enumText is an enumeration as a set, in a stable order, numbers by value.
func enumText(typ string, vs []string) string {
	keys := make([]string, 0, len(vs))
	for _, v := range vs {
		k, ok := enumKey(typ, v)
		if !ok {
			k = v
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	return strings.Join(keys, ", ")
}

func requiredText(b bool) string {
	if b {
		return "required"
	}
	return "optional"
}

func uniqueText(b bool) string {
	if b {
		return "unique"
	}
	return "not unique"
}
