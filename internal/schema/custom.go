package schema

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/audit"
)

// Limits on custom attributes. Okta documents the limit of unique attributes;
// the others are Ferry's bounds on what is plausible.
const (
	// MaxUniqueCustom is Okta's limit of unique custom attributes per user type
	// (Schemas API, "Unique Attributes"); Ferry plans one user type per project.
	MaxUniqueCustom = 5
	// MaxCustomNameLen caps a custom attribute's name. Okta documents no
	// maximum; 64 keeps names readable and within every limit we know of.
	MaxCustomNameLen  = 64
	MaxDescriptionLen = 1000
	// MaxLengthLimit is the largest maxLength accepted (Okta's largest base
	// attribute, postalAddress, allows 4096).
	MaxLengthLimit = 100_000
	MaxEnumValues  = 500
)

// reservedNames are the names Okta refuses for custom attributes, lower case
// (Okta compares them ignoring case). Source: Okta help, "Review reserved
// attributes" (help.okta.com …/usgp-reserved-attributes.htm), which extends
// the list in "About profile types" (id, profile, status … classloader).
// The 31 base names are refused separately.
func reservedNames() []string {
	return []string{
		"id", "profile", "status", "transitioningtostatus", "created", "activated", "statuschanged",
		"lastlogin", "lastupdated", "passwordchanged", "type", "realm", "realmid", "password",
		"credentials", "_links", "_embedded", "class", "classloader", "createdby", "lastupdatedby",
		"orgid", "activationstatus", "apistatus", "logintype", "initialreconcilecomplete",
		"activationdate", "statuschangeddate", "apilastupdate", "passwordexpirationguess",
		"passwordexpirationcursor", "numunlocks", "changedstatus",
	}
}

// IsReservedName reports whether Okta reserves name (in any case) for itself:
// one of its reserved words, or a base attribute's name.
func IsReservedName(name string) bool {
	if _, ok := baseNameFold(name); ok {
		return true
	}
	lower := strings.ToLower(name)
	for _, r := range reservedNames() {
		if lower == r {
			return true
		}
	}
	return false
}

// validName is Okta's rule for property names ("Property names should only
// contain alphanumeric characters and underscores and must not start with a
// digit": Okta's API error, support.okta.com "Character Restriction on
// Okta/Application Attributes"), made safe: ASCII letters only (Okta's
// "alphanumeric" is not defined beyond ASCII) and a letter first (a leading
// underscore is what Okta's own reserved _links and _embedded look like).
func validName(name string) bool {
	if name == "" || !isASCIILetter(name[0]) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isASCIILetter(c) && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// CustomAttribute is an attribute a project adds to Okta's base profile.
type CustomAttribute struct {
	ID          int64  `gorm:"primaryKey" json:"id"`
	ProjectID   int64  `json:"projectId"`
	Name        string `json:"name"`
	NameKey     string `json:"-"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// Type is string, boolean, integer, number or array (of strings).
	Type string `gorm:"column:data_type" json:"type"`
	// MinLength and MaxLength bound a string's length; nil is no bound.
	MinLength *int   `json:"minLength"`
	MaxLength *int   `json:"maxLength"`
	Pattern   string `json:"pattern"`
	// Enum lists the allowed values (of the elements, for an array); empty is any.
	Enum      []string  `gorm:"-" json:"enum"`
	EnumJSON  string    `gorm:"column:enum_json" json:"-"`
	Required  bool      `json:"required"`
	Unique    bool      `gorm:"column:is_unique" json:"unique"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func (CustomAttribute) TableName() string { return "custom_attributes" }

// AfterFind decodes the enumeration; an empty list is [] in JSON, never null.
func (c *CustomAttribute) AfterFind(*gorm.DB) error {
	c.Enum = []string{}
	if c.EnumJSON == "" {
		return nil
	}
	return json.Unmarshal([]byte(c.EnumJSON), &c.Enum)
}

// Attribute returns c as a profile attribute.
func (c *CustomAttribute) Attribute() Attribute {
	a := Attribute{
		Name: c.Name, Title: c.Title, Description: c.Description, Type: c.Type,
		MinLength: copyInt(c.MinLength), MaxLength: copyInt(c.MaxLength), Pattern: c.Pattern,
		Enum: append([]string{}, c.Enum...), Nullable: !c.Required, Required: c.Required, Unique: c.Unique,
	}
	if c.Type == TypeArray {
		a.ItemsType = TypeString
	}
	return a
}

func copyInt(p *int) *int {
	if p == nil {
		return nil
	}
	n := *p
	return &n
}

// OptionalInt is a nullable number in a partial update: Set says whether it
// was sent at all; Value nil (JSON null) clears it.
type OptionalInt struct {
	Set   bool
	Value *int
}

// SetInt is an OptionalInt that sets n.
func SetInt(n int) OptionalInt { return OptionalInt{Set: true, Value: &n} }

// ClearInt is an OptionalInt that clears the value.
func ClearInt() OptionalInt { return OptionalInt{Set: true} }

func (o *OptionalInt) UnmarshalJSON(b []byte) error {
	o.Set = true
	o.Value = nil
	if string(b) == "null" {
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	o.Value = &n
	return nil
}

func (o OptionalInt) MarshalJSON() ([]byte, error) {
	if o.Value == nil {
		return []byte("null"), nil
	}
	return json.Marshal(*o.Value)
}

// CustomAttributeInput creates or changes a custom attribute; nil (or unset)
// fields keep their value. Enum, when sent, replaces the whole list.
type CustomAttributeInput struct {
	Name        *string     `json:"name"`
	Title       *string     `json:"title"`
	Description *string     `json:"description"`
	Type        *string     `json:"type"`
	MinLength   OptionalInt `json:"minLength"`
	MaxLength   OptionalInt `json:"maxLength"`
	Pattern     *string     `json:"pattern"`
	Enum        *[]string   `json:"enum"`
	Required    *bool       `json:"required"`
	Unique      *bool       `json:"unique"`
}

func str(p *string, def string) string {
	if p == nil {
		return def
	}
	return strings.TrimSpace(*p)
}

func (c *CustomAttribute) apply(in CustomAttributeInput) {
	c.Name = str(in.Name, c.Name)
	c.NameKey = strings.ToLower(c.Name)
	c.Title = str(in.Title, c.Title)
	c.Description = str(in.Description, c.Description)
	c.Type = str(in.Type, c.Type)
	if in.MinLength.Set {
		c.MinLength = copyInt(in.MinLength.Value)
	}
	if in.MaxLength.Set {
		c.MaxLength = copyInt(in.MaxLength.Value)
	}
	c.Pattern = str(in.Pattern, c.Pattern)
	if in.Enum != nil {
		c.Enum = make([]string, len(*in.Enum))
		for i, v := range *in.Enum {
			c.Enum[i] = strings.TrimSpace(v)
		}
	}
	if in.Required != nil {
		c.Required = *in.Required
	}
	if in.Unique != nil {
		c.Unique = *in.Unique
	}
	c.EnumJSON = ""
	if len(c.Enum) > 0 {
		b, _ := json.Marshal(c.Enum) // a []string always encodes
		c.EnumJSON = string(b)
	}
}

// validate checks c on its own; checkAgainst checks it against the project.
func (c *CustomAttribute) validate(chk *apperr.Check) {
	c.validateName(chk)
	chk.Name("title", "Title", c.Title)
	chk.Text("description", "Description", c.Description, false, MaxDescriptionLen)
	chk.OneOf("type", "Type", c.Type, Types(), false)

	isString := c.Type == TypeString
	if !isString {
		if c.MinLength != nil {
			chk.Add("min_length", "A minimum length applies only to string attributes.")
		}
		if c.MaxLength != nil {
			chk.Add("max_length", "A maximum length applies only to string attributes.")
		}
		if c.Pattern != "" {
			chk.Add("pattern", "A pattern applies only to string attributes.")
		}
	} else {
		if c.MinLength != nil && *c.MinLength < 0 {
			chk.Add("min_length", "Minimum length cannot be negative.")
		} else if c.MinLength != nil && *c.MinLength > MaxLengthLimit {
			chk.Add("min_length", fmt.Sprintf("Minimum length looks wrong: %d is more than the %d allowed.", *c.MinLength, MaxLengthLimit))
		}
		if c.MaxLength != nil && *c.MaxLength < 1 {
			chk.Add("max_length", "Maximum length must be at least 1.")
		} else if c.MaxLength != nil && *c.MaxLength > MaxLengthLimit {
			chk.Add("max_length", fmt.Sprintf("Maximum length looks wrong: %d is more than the %d allowed.", *c.MaxLength, MaxLengthLimit))
		}
		if c.MinLength != nil && c.MaxLength != nil && *c.MinLength > *c.MaxLength {
			chk.Add("min_length", fmt.Sprintf("Minimum length (%d) is more than the maximum length (%d).", *c.MinLength, *c.MaxLength))
		}
		var pe *PatternError
		if err := ValidatePattern(c.Pattern); errors.As(err, &pe) {
			chk.Add("pattern", "Pattern "+pe.Phrase+".")
		}
	}
	c.validateEnum(chk)
	if c.Unique && (c.Type == TypeBoolean || c.Type == TypeArray) {
		chk.Add("unique", "Only string, integer and number attributes can be unique in Okta.")
	}
}

func (c *CustomAttribute) validateName(chk *apperr.Check) {
	n := c.Name
	switch {
	case n == "":
		chk.Add("name", "Name is required.")
	case !utf8.ValidString(n):
		chk.Add("name", "Name is not valid UTF-8 text.")
	case utf8.RuneCountInString(n) > MaxCustomNameLen:
		chk.Add("name", fmt.Sprintf("Name is too long: at most %d characters, this has %d.", MaxCustomNameLen, utf8.RuneCountInString(n)))
	case !validName(n):
		chk.Add("name", "Name must start with a letter and contain only letters (a–z, A–Z), digits and underscores, as Okta's variable names do.")
	}
	if base, ok := baseNameFold(n); ok {
		if base == n {
			chk.Add("name", fmt.Sprintf("Name %q is one of Okta's base attributes; choose another name.", n))
		} else {
			chk.Add("name", fmt.Sprintf("Name %q differs from Okta's base attribute %s only by case, and Okta treats them as the same name.", n, base))
		}
	} else if IsReservedName(n) {
		chk.Add("name", fmt.Sprintf("Name %q is reserved by Okta (in any case); choose another name.", n))
	}
}

func (c *CustomAttribute) validateEnum(chk *apperr.Check) {
	if len(c.Enum) == 0 {
		return
	}
	if c.Type == TypeBoolean {
		chk.Add("enum", "A boolean attribute cannot have an enumeration.")
		return
	}
	if len(c.Enum) > MaxEnumValues {
		chk.Add("enum", fmt.Sprintf("At most %d values in an enumeration.", MaxEnumValues))
		return
	}
	typ := elementType(c.Attribute())
	pattern := func(string) bool { return true }
	if c.Type == TypeString && c.Pattern != "" {
		if re, err := compileFull(c.Pattern); err == nil {
			pattern = re.MatchString
		}
	}
	seen := map[string]int{}
	for i, v := range c.Enum {
		label := fmt.Sprintf("Value %d", i+1)
		switch {
		case v == "":
			chk.Add("enum", label+" is empty.")
			continue
		case !utf8.ValidString(v):
			chk.Add("enum", label+" is not valid UTF-8 text.")
			continue
		case hasControl(v):
			chk.Add("enum", label+" contains control characters.")
			continue
		case utf8.RuneCountInString(v) > apperr.MaxShortLen:
			chk.Add("enum", fmt.Sprintf("%s is too long: at most %d characters.", label, apperr.MaxShortLen))
			continue
		}
		key, ok := enumKey(typ, v)
		n := utf8.RuneCountInString(v)
		switch {
		case !ok && typ == TypeInteger:
			chk.Add("enum", fmt.Sprintf("%s (%q) is not a whole number.", label, v))
		case !ok:
			chk.Add("enum", fmt.Sprintf("%s (%q) is not a number.", label, v))
		case c.Type == TypeString && c.MinLength != nil && n < *c.MinLength:
			chk.Add("enum", fmt.Sprintf("%s (%q) is shorter than the minimum length of %d.", label, v, *c.MinLength))
		case c.Type == TypeString && c.MaxLength != nil && n > *c.MaxLength:
			chk.Add("enum", fmt.Sprintf("%s (%q) is longer than the maximum length of %d.", label, v, *c.MaxLength))
		case !pattern(v):
			chk.Add("enum", fmt.Sprintf("%s (%q) does not match the pattern.", label, v))
		}
		if !ok {
			continue
		}
		if j, dup := seen[key]; dup {
			chk.Add("enum", fmt.Sprintf("%s (%q) repeats value %d.", label, v, j+1))
		}
		seen[key] = i
	}
}

// checkAgainst checks c against the project's other custom attributes: no
// name that differs only by case, at most MaxUniqueCustom unique ones.
func (c *CustomAttribute) checkAgainst(tx *gorm.DB, chk *apperr.Check) error {
	var others []CustomAttribute
	if err := tx.Where("project_id = ? AND id <> ?", c.ProjectID, c.ID).Order("name_key").Find(&others).Error; err != nil {
		return err
	}
	var unique []string
	for _, o := range others {
		if o.NameKey == c.NameKey {
			if o.Name == c.Name {
				chk.Add("name", "Another custom attribute already has this name.")
			} else {
				chk.Add("name", fmt.Sprintf("Name differs from the custom attribute %s only by case, and Okta treats them as the same name.", o.Name))
			}
		}
		if o.Unique {
			unique = append(unique, o.Name)
		}
	}
	if c.Unique && len(unique) >= MaxUniqueCustom {
		chk.Add("unique", fmt.Sprintf("Okta allows at most %d unique custom attributes, and %s already are.", MaxUniqueCustom, strings.Join(unique, ", ")))
	}
	return nil
}

func (c *CustomAttribute) fields() []field {
	opt := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	return []field{
		{"name", "Name", c.Name},
		{"title", "Title", c.Title},
		{"description", "Description", c.Description},
		{"type", "Type", c.Type},
		{"minLength", "Minimum length", opt(c.MinLength)},
		{"maxLength", "Maximum length", opt(c.MaxLength)},
		{"pattern", "Pattern", c.Pattern},
		{"enum", "Enumeration", strings.Join(c.Enum, ", ")},
		{"required", "Required", strconv.FormatBool(c.Required)},
		{"unique", "Unique", strconv.FormatBool(c.Unique)},
	}
}

func (in CustomAttributeInput) sent() map[string]bool {
	return map[string]bool{"name": in.Name != nil, "title": in.Title != nil, "description": in.Description != nil,
		"type": in.Type != nil, "minLength": in.MinLength.Set, "maxLength": in.MaxLength.Set, "pattern": in.Pattern != nil,
		"enum": in.Enum != nil, "required": in.Required != nil, "unique": in.Unique != nil}
}

// duplicateName turns a unique-index violation on the name into a field message.
func duplicateName(err error) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return apperr.Invalid("Please correct the highlighted fields.", map[string]string{"name": "Another custom attribute already has this name (names are compared ignoring case)."})
	}
	return err
}

// CreateCustomAttribute adds a custom attribute to a project.
func (s *Service) CreateCustomAttribute(ctx context.Context, projectID int64, in CustomAttributeInput) (*CustomAttribute, error) {
	c := &CustomAttribute{ProjectID: projectID, Type: TypeString, Enum: []string{}, Version: 1}
	c.apply(in)
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if _, err := lockSettings(tx, projectID); err != nil {
			return err
		}
		chk := apperr.NewCheck()
		c.validate(chk)
		if err := c.checkAgainst(tx, chk); err != nil {
			return err
		}
		if err := chk.Err(); err != nil {
			return err
		}
		if err := tx.Create(c).Error; err != nil {
			return duplicateName(err)
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionCreate, EntityType: "custom_attribute", EntityID: c.ID, Label: c.Name, After: c})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return c, nil
}

// FindCustomAttributes lists a project's custom attributes by name.
func (s *Service) FindCustomAttributes(ctx context.Context, projectID int64) ([]CustomAttribute, error) {
	out := []CustomAttribute{}
	if err := s.db.Read.WithContext(ctx).Where("project_id = ?", projectID).Order("name_key").Find(&out).Error; err != nil {
		return nil, apperr.Internal(err)
	}
	return out, nil
}

// FindCustomAttributeByID returns one custom attribute of a project.
func (s *Service) FindCustomAttributeByID(ctx context.Context, projectID, id int64) (*CustomAttribute, error) {
	return findCustom(s.db.Read.WithContext(ctx), projectID, id)
}

func findCustom(q *gorm.DB, projectID, id int64) (*CustomAttribute, error) {
	var c CustomAttribute
	if err := q.Where("project_id = ? AND id = ?", projectID, id).First(&c).Error; err != nil {
		return nil, wrap(notFoundOr(err, "custom attribute"))
	}
	return &c, nil
}

// UpdateCustomAttribute applies in if the attribute is still at version.
func (s *Service) UpdateCustomAttribute(ctx context.Context, projectID, id, version int64, in CustomAttributeInput) (*CustomAttribute, error) {
	var out *CustomAttribute
	err := s.db.Transaction(ctx, func(tx *gorm.DB) error {
		if _, err := lockSettings(tx, projectID); err != nil {
			return err
		}
		c, err := findCustom(tx, projectID, id)
		if err != nil {
			return err
		}
		before := *c
		before.Enum = append([]string{}, c.Enum...)
		c.apply(in)
		if before.Version != version {
			return apperr.VersionConflict("custom attribute", before.Version, conflictChanges(before.fields(), c.fields(), in.sent()))
		}
		chk := apperr.NewCheck()
		c.validate(chk)
		if err := c.checkAgainst(tx, chk); err != nil {
			return err
		}
		if err := chk.Err(); err != nil {
			return err
		}
		c.Version++
		res := tx.Model(c).Where("id = ? AND version = ?", id, version).
			Select("name", "name_key", "title", "description", "data_type", "min_length", "max_length", "pattern",
				"enum_json", "required", "is_unique", "version", "updated_at").Updates(c)
		if res.Error != nil {
			return duplicateName(res.Error)
		}
		if res.RowsAffected == 0 {
			return lostRace("custom attribute")
		}
		out = c
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionUpdate, EntityType: "custom_attribute", EntityID: id, Label: c.Name, Before: before, After: c})
	})
	if err != nil {
		return nil, wrap(err)
	}
	return out, nil
}

// DeleteCustomAttribute removes a custom attribute from a project. Mapping
// rows that target it keep its name and show up as mapped to an undefined
// attribute.
func (s *Service) DeleteCustomAttribute(ctx context.Context, projectID, id int64) error {
	return wrap(s.db.Transaction(ctx, func(tx *gorm.DB) error {
		c, err := findCustom(tx, projectID, id)
		if err != nil {
			return err
		}
		if err := tx.Delete(&CustomAttribute{}, id).Error; err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{ProjectID: projectID, Action: audit.ActionDelete, EntityType: "custom_attribute", EntityID: id, Label: c.Name, Before: c})
	}))
}
