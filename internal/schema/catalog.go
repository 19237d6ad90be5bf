// Package schema is Okta's user profile schema as Ferry knows it: the 31 base
// attributes as a fixed catalog (types, lengths, formats, what is required and
// unique), the checks a value must pass to be accepted by Okta, and each
// project's custom attributes and profile settings (login pattern, email
// uniqueness). It also compares a project's catalog with the schema of a real
// Okta org.
//
// The facts come from ../shared/okta/NOTES.md §4–5, which merges Okta's old
// schema reference with the current management OpenAPI document.
package schema

import "strings"

// Attribute types, as Okta's schema names them.
const (
	TypeString  = "string"
	TypeBoolean = "boolean"
	TypeInteger = "integer"
	TypeNumber  = "number"
	TypeArray   = "array"
)

// Types lists the attribute types a custom attribute may have; an array is an
// array of strings.
func Types() []string {
	return []string{TypeString, TypeBoolean, TypeInteger, TypeNumber, TypeArray}
}

// Formats of string attributes (Okta's UserSchemaAttributeFormat values that
// the base schema uses).
const (
	FormatEmail        = "email"
	FormatCountryCode  = "country-code"
	FormatLanguageCode = "language-code"
	FormatLocale       = "locale"
	FormatTimezone     = "timezone"
	FormatURI          = "uri"
	FormatRefID        = "ref-id"
)

// Attribute is one attribute of an Okta user profile: a base one from the
// catalog or a project's custom one.
type Attribute struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description"`
	// Type is string, boolean, integer, number or array.
	Type string `json:"type"`
	// ItemsType is the type of an array's elements ("string"), empty otherwise.
	ItemsType string `json:"itemsType"`
	// MinLength and MaxLength bound a string's length in characters; nil is no bound.
	MinLength *int `json:"minLength"`
	MaxLength *int `json:"maxLength"`
	// Format is one of the Format constants, or empty.
	Format string `json:"format"`
	// Pattern is a regular expression the whole value must match, or empty.
	Pattern string `json:"pattern"`
	// Enum lists the allowed values (of the elements, for an array); empty is any value.
	Enum     []string `json:"enum"`
	Nullable bool     `json:"nullable"`
	Required bool     `json:"required"`
	Unique   bool     `json:"unique"`
	// Base is true for Okta's 31 predefined attributes.
	Base bool `json:"base"`
}

func intp(n int) *int { return &n }

// Base returns Okta's 31 base profile attributes in the order of NOTES.md §5
// (Okta's old schema reference), with the default schema's facts: only login
// is unique; email and secondEmail are not unique by default, which a project
// setting changes (see Attributes).
func Base() []Attribute {
	a := func(name, title, desc string) Attribute {
		return Attribute{Name: name, Title: title, Description: desc, Type: TypeString, Enum: []string{}, Nullable: true, Base: true}
	}
	login := a("login", "Username", "Unique identifier for the user (userName). An email address unless the org sets a login pattern; unique ignoring case and accents.")
	login.MinLength, login.MaxLength, login.Nullable, login.Required, login.Unique = intp(5), intp(100), false, true, true

	email := a("email", "Primary email", "Primary email address of the user (RFC 5322 §3.2.3). Not unique unless the org enforces it.")
	email.MinLength, email.MaxLength, email.Format, email.Nullable, email.Required = intp(5), intp(100), FormatEmail, false, true

	second := a("secondEmail", "Secondary email", "Secondary email address of the user, typically used for account recovery (RFC 5322 §3.2.3).")
	second.MinLength, second.MaxLength, second.Format = intp(5), intp(100), FormatEmail

	first := a("firstName", "First name", "Given name of the user (givenName).")
	first.MinLength, first.MaxLength, first.Nullable, first.Required = intp(1), intp(50), false, true
	last := a("lastName", "Last name", "Family name of the user (familyName).")
	last.MinLength, last.MaxLength, last.Nullable, last.Required = intp(1), intp(50), false, true

	profileURL := a("profileUrl", "Profile Url", "URL of the user's online profile (for example, a web page).")
	profileURL.Format = FormatURI

	primaryPhone := a("primaryPhone", "Primary phone", "Primary phone number of the user, such as a home number.")
	primaryPhone.MinLength, primaryPhone.MaxLength = intp(0), intp(100)
	mobilePhone := a("mobilePhone", "Mobile phone", "Mobile phone number of the user.")
	mobilePhone.MinLength, mobilePhone.MaxLength = intp(0), intp(100)

	street := a("streetAddress", "Street address", "Full street address component of the user's address.")
	street.MaxLength = intp(1024)
	city := a("city", "City", "City or locality component of the user's address (locality).")
	city.MaxLength = intp(128)
	state := a("state", "State", "State or region component of the user's address (region).")
	state.MaxLength = intp(128)
	zip := a("zipCode", "Zip code", "ZIP code or postal code component of the user's address (postalCode).")
	zip.MaxLength = intp(50)
	country := a("countryCode", "Country code", "Country of the user's address, as an ISO 3166-1 alpha-2 code (US, DE, FR…).")
	country.MaxLength, country.Format = intp(2), FormatCountryCode
	postal := a("postalAddress", "Postal Address", "Mailing address component of the user's address.")
	postal.MaxLength = intp(4096)

	language := a("preferredLanguage", "Preferred language", "User's preferred written or spoken languages (RFC 7231 §5.3.5, e.g. en-US).")
	language.Format = FormatLanguageCode
	locale := a("locale", "Locale", "User's default location for localisation: ISO 639-1 language, underscore, ISO 3166-1 country (en_US, the default).")
	locale.Format, locale.Nullable = FormatLocale, false
	tz := a("timezone", "Time zone", "User's time zone, as an IANA time zone name (Europe/Berlin).")
	tz.Format = FormatTimezone

	manager := a("managerId", "ManagerId", "The id of the user's manager.")
	manager.Format = FormatRefID

	return []Attribute{
		login,
		email,
		second,
		first,
		last,
		// The old reference marks middleName not nullable; the current spec's
		// UserProfile makes it nullable, and the spec wins (NOTES.md).
		a("middleName", "Middle name", "Middle name(s) of the user."),
		a("honorificPrefix", "Honorific prefix", "Honorific prefix(es) of the user, or title in most Western languages."),
		a("honorificSuffix", "Honorific suffix", "Honorific suffix(es) of the user."),
		a("title", "Title", "User's title, such as \"Vice President\"."),
		a("displayName", "Display name", "Name of the user, suitable for display to end users."),
		a("nickName", "Nickname", "Casual way to address the user in real life."),
		profileURL,
		primaryPhone,
		mobilePhone,
		street,
		city,
		state,
		zip,
		country,
		postal,
		language,
		locale,
		tz,
		a("userType", "User type", "Free text describing the user's relationship to the organisation (Employee, Contractor…); unrelated to Okta's User Types."),
		a("employeeNumber", "Employee number", "Organisation- or company-assigned unique identifier for the user."),
		a("costCenter", "Cost center", "Name of a cost center assigned to the user."),
		a("organization", "Organization", "Name of the user's organisation."),
		a("division", "Division", "Name of the user's division."),
		a("department", "Department", "Name of the user's department."),
		manager,
		a("manager", "Manager", "The displayName of the user's manager."),
	}
}

// FindBase returns the base attribute named name (exactly, as Okta spells it).
func FindBase(name string) (Attribute, bool) {
	for _, a := range Base() {
		if a.Name == name {
			return a, true
		}
	}
	return Attribute{}, false
}

// baseNameFold returns the base attribute whose name equals name ignoring
// case, for Okta's rule that names differing only by case collide.
func baseNameFold(name string) (string, bool) {
	for _, a := range Base() {
		if strings.EqualFold(a.Name, name) {
			return a.Name, true
		}
	}
	return "", false
}
