package oktasim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// attribute is one property of the user profile schema
// (UserSchemaAttribute), base or custom.
type attribute struct {
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	Type        string            `json:"type"`
	Required    bool              `json:"required"`
	Unique      any               `json:"unique,omitempty"`
	MinLength   *int              `json:"minLength,omitempty"`
	MaxLength   *int              `json:"maxLength,omitempty"`
	Pattern     *string           `json:"pattern,omitempty"`
	Format      string            `json:"format,omitempty"`
	Enum        []any             `json:"enum,omitempty"`
	OneOf       []json.RawMessage `json:"oneOf,omitempty"`
	Items       json.RawMessage   `json:"items,omitempty"`
	Permissions []permission      `json:"permissions"`
	Mutability  string            `json:"mutability,omitempty"`
	Scope       string            `json:"scope,omitempty"`
	Master      json.RawMessage   `json:"master,omitempty"`
	Default     json.RawMessage   `json:"default,omitempty"`
}

type permission struct {
	Principal string `json:"principal"`
	Action    string `json:"action"`
}

// baseAttribute describes one of the 31 predefined attributes (NOTES §5).
type baseAttribute struct {
	name, title   string
	min, max      int // 0: none
	format        string
	required      bool
	nullable      bool
	validate      func(string) bool
	invalidReason string
}

var (
	localeRE  = regexp.MustCompile(`^[a-z]{2}_[A-Z]{2}$`)
	countryRE = regexp.MustCompile(`^[A-Za-z]{2}$`)
)

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && (u.Host != "" || u.Opaque != "")
}

func validLanguage(s string) bool {
	_, err := language.Parse(s)
	return err == nil
}

func validTimezone(s string) bool {
	if s == "" || s == "Local" {
		return false
	}
	_, err := time.LoadLocation(s)
	return err == nil
}

// baseAttributes are the 31 base attributes in Okta's order, with the
// lengths and formats of NOTES §5 (the spec's maxLengths included).
var baseAttributes = []baseAttribute{
	{name: "login", title: "Username", min: 5, max: 100, required: true},
	{name: "firstName", title: "First name", min: 1, max: 50, required: true},
	{name: "lastName", title: "Last name", min: 1, max: 50, required: true},
	{name: "middleName", title: "Middle name", nullable: true},
	{name: "honorificPrefix", title: "Honorific prefix", nullable: true},
	{name: "honorificSuffix", title: "Honorific suffix", nullable: true},
	{name: "email", title: "Primary email", min: 5, max: 100, format: "email", required: true, validate: validEmail, invalidReason: "Does not match required pattern"},
	{name: "title", title: "Title", nullable: true},
	{name: "displayName", title: "Display name", nullable: true},
	{name: "nickName", title: "Nickname", nullable: true},
	{name: "profileUrl", title: "Profile Url", format: "uri", nullable: true, validate: validURL, invalidReason: "Does not match required pattern"},
	{name: "secondEmail", title: "Secondary email", min: 5, max: 100, format: "email", nullable: true, validate: validEmail, invalidReason: "Does not match required pattern"},
	{name: "mobilePhone", title: "Mobile phone", max: 100, nullable: true},
	{name: "primaryPhone", title: "Primary phone", max: 100, nullable: true},
	{name: "streetAddress", title: "Street address", max: 1024, nullable: true},
	{name: "city", title: "City", max: 128, nullable: true},
	{name: "state", title: "State", max: 128, nullable: true},
	{name: "zipCode", title: "Zip code", max: 50, nullable: true},
	{name: "countryCode", title: "Country code", max: 2, format: "country-code", nullable: true, validate: countryRE.MatchString, invalidReason: "Invalid country code"},
	{name: "postalAddress", title: "Postal Address", max: 4096, nullable: true},
	{name: "preferredLanguage", title: "Preferred language", format: "language-code", nullable: true, validate: validLanguage, invalidReason: "Invalid language code"},
	{name: "locale", title: "Locale", format: "locale", validate: localeRE.MatchString, invalidReason: "Invalid locale"},
	{name: "timezone", title: "Time zone", format: "timezone", nullable: true, validate: validTimezone, invalidReason: "Invalid time zone"},
	{name: "userType", title: "User type", nullable: true},
	{name: "employeeNumber", title: "Employee number", nullable: true},
	{name: "costCenter", title: "Cost center", nullable: true},
	{name: "organization", title: "Organization", nullable: true},
	{name: "division", title: "Division", nullable: true},
	{name: "department", title: "Department", nullable: true},
	{name: "managerId", title: "ManagerId", nullable: true},
	{name: "manager", title: "Manager", nullable: true},
}

// userSchema is the default user type's profile schema: the fixed base
// (whose login pattern may be set) and the custom properties.
type userSchema struct {
	created, lastUpdated time.Time
	loginPattern         *string
	custom               map[string]*attribute
	customOrder          []string
}

func newUserSchema(now time.Time) *userSchema {
	return &userSchema{created: now, lastUpdated: now, custom: map[string]*attribute{}}
}

func intp(i int) *int { return &i }

func (sc *userSchema) baseJSON() map[string]any {
	props := map[string]any{}
	for _, b := range baseAttributes {
		a := attribute{Title: b.title, Type: "string", Required: b.required, Format: b.format,
			Permissions: []permission{{Principal: "SELF", Action: "READ_WRITE"}}, Mutability: "READ_WRITE", Scope: "NONE"}
		if b.min > 0 || b.max > 0 {
			if b.min > 0 || b.name == "mobilePhone" || b.name == "primaryPhone" {
				a.MinLength = intp(b.min)
			}
			if b.max > 0 {
				a.MaxLength = intp(b.max)
			}
		}
		if b.name == "login" {
			a.Pattern = sc.loginPattern
			a.Unique = true // the spec's type; Okta's docs also show "UNIQUE_VALIDATED"
		}
		props[b.name] = a
	}
	return map[string]any{"id": "#base", "type": "object", "properties": props, "required": []string{"login", "firstName", "lastName", "email"}}
}

func (sc *userSchema) json(base string) map[string]any {
	custom := map[string]any{}
	required := []string{}
	for _, name := range sc.customOrder {
		custom[name] = sc.custom[name]
		if sc.custom[name].Required {
			required = append(required, name)
		}
	}
	return map[string]any{
		"id":          base + "/meta/schemas/user/default",
		"$schema":     "http://json-schema.org/draft-04/schema#",
		"name":        "user",
		"title":       "Default Okta User",
		"created":     formatTime(sc.created),
		"lastUpdated": formatTime(sc.lastUpdated),
		"definitions": map[string]any{
			"base":   sc.baseJSON(),
			"custom": map[string]any{"id": "#custom", "type": "object", "properties": custom, "required": required},
		},
		"type": "object",
		"properties": map[string]any{"profile": map[string]any{"allOf": []map[string]string{
			{"$ref": "#/definitions/base"}, {"$ref": "#/definitions/custom"}}}},
		"_links": map[string]any{"self": map[string]any{"href": base + "/api/v1/meta/schemas/user/default", "method": "GET", "rel": "self"}},
	}
}

var baseIndex = func() map[string]baseAttribute {
	m := map[string]baseAttribute{}
	for _, b := range baseAttributes {
		m[b.name] = b
	}
	return m
}()

// validateProfile checks a whole profile (after any merge) against the
// schema; its problems are added to v as Okta words its causes.
func (sc *userSchema) validateProfile(p map[string]any, v *validationError) {
	for _, b := range baseAttributes {
		raw, present := p[b.name]
		if !present || raw == nil {
			if b.required {
				v.add(b.name, b.name+": The field cannot be left blank")
			}
			continue
		}
		s, ok := raw.(string)
		if !ok {
			v.add(b.name, b.name+": Does not match required type: string")
			continue
		}
		if s == "" && b.required {
			v.add(b.name, b.name+": The field cannot be left blank")
			continue
		}
		n := utf8.RuneCountInString(s)
		minLen := b.min
		if b.name == "login" && sc.loginPattern != nil && *sc.loginPattern == ".+" {
			minLen = 0
		}
		if minLen > 0 && n < minLen && s != "" {
			v.add(b.name, fmt.Sprintf("%s: The field must be at least %d characters", b.name, minLen))
		}
		if b.max > 0 && n > b.max {
			v.add(b.name, fmt.Sprintf("%s: The field cannot exceed %d characters", b.name, b.max))
		}
		if b.name == "login" {
			sc.validateLogin(s, v)
			continue
		}
		if b.validate != nil && s != "" && !b.validate(s) {
			v.add(b.name, b.name+": "+b.invalidReason)
		}
	}
	for name, raw := range p {
		if _, ok := baseIndex[name]; ok {
			continue
		}
		a := sc.custom[name]
		if a == nil {
			v.add(name, "Property name '"+name+"' is not defined in profile")
			continue
		}
		validateCustom(name, a, raw, v)
	}
	for _, name := range sc.customOrder {
		if a := sc.custom[name]; a.Required && p[name] == nil {
			v.add(name, name+": The field cannot be left blank")
		}
	}
}

// validateLogin: with no pattern a login is an email address (RFC 6531
// allows non-ASCII); a pattern is matched in full.
func (sc *userSchema) validateLogin(s string, v *validationError) {
	if sc.loginPattern == nil {
		at := strings.LastIndexByte(s, '@')
		if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n") || strings.Count(s, "@") != 1 {
			v.add("login", "login: Username must be in the form of an email address")
		}
		return
	}
	re, err := regexp.Compile("^(?:" + *sc.loginPattern + ")$")
	if err == nil && !re.MatchString(s) {
		v.add("login", "login: Does not match required pattern")
	}
}

func validateCustom(name string, a *attribute, raw any, v *validationError) {
	if raw == nil {
		return
	}
	bad := func() { v.add(name, fmt.Sprintf("%s: Does not match required type: %s", name, a.Type)) }
	switch a.Type {
	case "string":
		s, ok := raw.(string)
		if !ok {
			bad()
			return
		}
		n := utf8.RuneCountInString(s)
		if a.MinLength != nil && n < *a.MinLength {
			v.add(name, fmt.Sprintf("%s: The field must be at least %d characters", name, *a.MinLength))
		}
		if a.MaxLength != nil && n > *a.MaxLength {
			v.add(name, fmt.Sprintf("%s: The field cannot exceed %d characters", name, *a.MaxLength))
		}
		if a.Pattern != nil {
			if re, err := regexp.Compile("^(?:" + *a.Pattern + ")$"); err == nil && !re.MatchString(s) {
				v.add(name, name+": Does not match required pattern")
			}
		}
	case "boolean":
		if _, ok := raw.(bool); !ok {
			bad()
			return
		}
	case "integer":
		n, ok := raw.(json.Number)
		if !ok {
			bad()
			return
		}
		if _, err := n.Int64(); err != nil {
			bad()
			return
		}
	case "number":
		if _, ok := raw.(json.Number); !ok {
			bad()
			return
		}
	case "array":
		if _, ok := raw.([]any); !ok {
			bad()
			return
		}
	}
	if len(a.Enum) > 0 {
		for _, e := range a.Enum {
			if fmt.Sprint(e) == fmt.Sprint(raw) {
				return
			}
		}
		v.add(name, name+": Does not match an allowed value")
	}
}

func (s *Server) getSchema(w http.ResponseWriter, r *http.Request, p params) {
	if p["schemaId"] != "default" {
		notFound(w, p["schemaId"])
		return
	}
	s.store.mu.Lock()
	body := s.store.schema.json(baseURL(r))
	s.store.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// schemaUpdate is the partial body of POST /api/v1/meta/schemas/user/default.
type schemaUpdate struct {
	Definitions struct {
		Base *struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"base"`
		Custom *struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"custom"`
	} `json:"definitions"`
}

var attributeTypes = []string{"string", "boolean", "integer", "number", "array"}

func (s *Server) updateSchema(w http.ResponseWriter, r *http.Request, p params) {
	if p["schemaId"] != "default" {
		notFound(w, p["schemaId"])
		return
	}
	var body schemaUpdate
	if !decodeBody(w, r, &body) {
		return
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	sc := st.schema
	var v validationError
	var loginPattern **string
	if b := body.Definitions.Base; b != nil {
		for name, raw := range b.Properties {
			if _, ok := baseIndex[name]; !ok {
				v.add(name, name+": Base property does not exist")
				continue
			}
			if name != "login" {
				continue // permissions and nullability: accepted, not modelled
			}
			var a struct {
				Pattern *string `json:"pattern"`
			}
			if err := json.Unmarshal(raw, &a); err != nil {
				v.add(name, name+": Invalid property definition")
				continue
			}
			if a.Pattern != nil {
				if _, err := regexp.Compile(*a.Pattern); err != nil {
					v.add(name, "login: Invalid pattern")
					continue
				}
			}
			loginPattern = &a.Pattern
		}
	}
	type change struct {
		name string
		attr *attribute
	}
	var changes []change
	if c := body.Definitions.Custom; c != nil {
		names := make([]string, 0, len(c.Properties))
		for name := range c.Properties {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			raw := c.Properties[name]
			if string(raw) == "null" {
				changes = append(changes, change{name: name})
				continue
			}
			if _, clash := baseIndex[name]; clash || foldedBaseClash(name) {
				v.add(name, name+": An object with this field already exists in the current organization")
				continue
			}
			var a attribute
			if err := json.Unmarshal(raw, &a); err != nil {
				v.add(name, name+": Invalid property definition")
				continue
			}
			if a.Title == "" {
				v.add(name, name+".title: The field cannot be left blank")
			}
			if !slices.Contains(attributeTypes, a.Type) {
				v.add(name, name+".type: Does not match an allowed value")
			}
			if a.Permissions == nil {
				a.Permissions = []permission{{Principal: "SELF", Action: "READ_WRITE"}}
			}
			changes = append(changes, change{name: name, attr: &a})
		}
	}
	if !v.empty() {
		v.write(w)
		return
	}
	if loginPattern != nil {
		sc.loginPattern = *loginPattern
	}
	for _, c := range changes {
		if c.attr == nil {
			if _, ok := sc.custom[c.name]; ok {
				delete(sc.custom, c.name)
				sc.customOrder = slices.DeleteFunc(sc.customOrder, func(n string) bool { return n == c.name })
			}
			continue
		}
		if _, ok := sc.custom[c.name]; !ok {
			sc.customOrder = append(sc.customOrder, c.name)
		}
		sc.custom[c.name] = c.attr
	}
	sc.lastUpdated = s.now()
	writeJSON(w, http.StatusOK, sc.json(baseURL(r)))
}

func foldedBaseClash(name string) bool {
	for _, b := range baseAttributes {
		if strings.EqualFold(b.name, name) {
			return true
		}
	}
	return false
}
