package mapping

import (
	"context"
	"regexp"
	"strings"
	"unicode"

	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/apperr"
)

// normalise reduces a field name to lower-case letters and digits, so that
// "userPrincipalName", "user_principal_name" and "User Principal Name" match.
func normalise(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Suggestion proposes a mapping for a source field.
type Suggestion struct {
	Target string
	// Transform is a pipeline (JSON) that usually goes with the mapping, or "".
	Transform string
	Reason    string
	// NeedsLoginPattern marks a login suggestion that only holds when the
	// org's login pattern accepts values that are not email addresses.
	NeedsLoginPattern bool
}

// targetSuggestions maps the usual Active Directory, LDAP and HR field names
// (normalised) to Okta base attributes.
func targetSuggestions() map[string]Suggestion {
	country := `[{"op":"country_alpha2"}]`
	trimLower := `[{"op":"trim"},{"op":"lower"}]`
	m := map[string]Suggestion{}
	add := func(s Suggestion, names ...string) {
		for _, n := range names {
			m[normalise(n)] = s
		}
	}
	add(Suggestion{Target: "login", Transform: trimLower, Reason: "User principal names are email-shaped and unique: the usual Okta login"}, "userPrincipalName", "upn")
	add(Suggestion{Target: "login", Reason: "Usable as login only with a login pattern that accepts short names", NeedsLoginPattern: true}, "sAMAccountName", "uid", "username", "user_name", "login")
	add(Suggestion{Target: "email", Transform: trimLower, Reason: "Primary email address"}, "mail", "email", "emailAddress", "email_address", "work_email", "primaryEmail")
	add(Suggestion{Target: "secondEmail", Transform: trimLower, Reason: "Second email address"}, "otherMailbox", "personal_email", "secondaryEmail", "alternateEmail")
	add(Suggestion{Target: "firstName", Reason: "Given name"}, "givenName", "first_name", "firstname", "forename")
	add(Suggestion{Target: "lastName", Reason: "Surname"}, "sn", "surname", "last_name", "lastname", "familyName")
	add(Suggestion{Target: "middleName", Reason: "Middle name"}, "middleName", "middle_name", "initials")
	add(Suggestion{Target: "honorificPrefix", Reason: "Title before the name"}, "personalTitle", "salutation", "honorificPrefix")
	add(Suggestion{Target: "honorificSuffix", Reason: "Suffix after the name"}, "generationQualifier", "suffix", "honorificSuffix")
	add(Suggestion{Target: "displayName", Reason: "Display name"}, "displayName", "display_name", "cn", "fullName", "full_name")
	add(Suggestion{Target: "nickName", Reason: "Nickname"}, "nickname", "nickName", "preferred_name")
	add(Suggestion{Target: "title", Reason: "Job title"}, "title", "jobTitle", "job_title", "position")
	// Phones are copied as they are: Okta takes any text, and an E.164
	// transformation needs the right default country, which only the team knows.
	add(Suggestion{Target: "primaryPhone", Reason: "Office telephone (add phone_e164 with your country to normalise it)"}, "telephoneNumber", "phone", "work_phone", "businessPhone", "officePhone")
	add(Suggestion{Target: "mobilePhone", Reason: "Mobile telephone (add phone_e164 with your country to normalise it)"}, "mobile", "mobilePhone", "mobile_phone", "cell", "cellPhone")
	add(Suggestion{Target: "streetAddress", Reason: "Street address"}, "streetAddress", "street", "street_address", "address_line_1")
	add(Suggestion{Target: "city", Reason: "City (l is LDAP's locality)"}, "l", "city", "locality", "town")
	add(Suggestion{Target: "state", Reason: "State or province"}, "st", "state", "province", "region")
	add(Suggestion{Target: "zipCode", Reason: "Postal code"}, "postalCode", "postal_code", "zip", "zipCode", "postcode")
	add(Suggestion{Target: "countryCode", Transform: country, Reason: "Country as ISO 3166-1 alpha-2"}, "c", "co", "country", "countryCode", "country_code", "countryName")
	add(Suggestion{Target: "postalAddress", Reason: "Full postal address"}, "postalAddress", "postal_address", "mailingAddress")
	add(Suggestion{Target: "preferredLanguage", Reason: "Preferred language"}, "preferredLanguage", "preferred_language", "language", "lang")
	add(Suggestion{Target: "locale", Reason: "Locale"}, "locale")
	add(Suggestion{Target: "timezone", Reason: "Time zone"}, "timezone", "time_zone", "tz")
	add(Suggestion{Target: "employeeNumber", Reason: "Employee number"}, "employeeID", "employeeNumber", "employee_id", "employee_number", "personnelNumber", "worker_id")
	add(Suggestion{Target: "costCenter", Reason: "Cost centre"}, "costCenter", "cost_center", "costCentre")
	add(Suggestion{Target: "organization", Reason: "Organisation (AD's company)"}, "company", "o", "organization", "organisation")
	add(Suggestion{Target: "division", Reason: "Division"}, "division", "business_unit")
	add(Suggestion{Target: "department", Reason: "Department"}, "department", "ou", "dept", "departmentName")
	add(Suggestion{Target: "manager", Reason: "Manager's display name; the manager's Okta id is set by a later pass"}, "manager", "manager_name", "managerDisplayName")
	add(Suggestion{Target: "userType", Reason: "Kind of person (free text in Okta)"}, "employeeType", "employee_type", "worker_type", "userType")
	add(Suggestion{Target: "profileUrl", Reason: "Profile page"}, "wWWHomePage", "url", "profileUrl", "homepage")
	return m
}

// SuggestTarget proposes the Okta attribute for a source field name.
func SuggestTarget(fieldName string) (Suggestion, bool) {
	s, ok := targetSuggestions()[normalise(fieldName)]
	return s, ok
}

// piiNamePatterns classify field names (normalised) by the personal data
// they usually hold. Order matters: the first match wins.
func piiNamePatterns() []struct {
	category string
	re       *regexp.Regexp
} {
	return []struct {
		category string
		re       *regexp.Regexp
	}{
		{"credential", regexp.MustCompile(`password|passwd|pwd|hash|secret|token|unicodepwd|pin$|answer`)},
		{"special", regexp.MustCompile(`health|medical|religio|ethnic|race|disab|union|sexual|biometric|genetic|criminal`)},
		{"government_id", regexp.MustCompile(`ssn|socialsecurity|nationalid|passport|taxid|nino|driverlicen|drivinglicen|idcard|personnummer|bsn`)},
		{"financial", regexp.MustCompile(`iban|bic|bank|salary|wage|card|creditcard|accountnumber|payroll`)},
		{"demographic", regexp.MustCompile(`birth|dob|gender|sex|^age$|nationality|maritalstatus|citizenship|preferredlanguage|^language$`)},
		{"contact", regexp.MustCompile(`mail|phone|mobile|telephone|fax|street|address|postal|zip|^city$|^l$|^st$|^c$|^co$|country|pager|homephone`)},
		{"identifier", regexp.MustCompile(`^uid$|login|userprincipalname|^upn$|samaccountname|username|^cn$|name$|^sn$|^givenname$|surname|initials|employeeid|employeenumber|personnel|workerid|nickname|objectguid|objectsid|photo`)},
	}
}

var (
	sampleEmail = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	samplePhone = regexp.MustCompile(`^\+?[0-9 ()./-]{7,20}$`)
	sampleDate  = regexp.MustCompile(`^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$`)
	sampleIBAN  = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9 ]{11,30}$`)
)

// SuggestPII guesses the category of personal data a field holds from its
// name and sample values, or "" when it looks like no personal data. It is a
// suggestion: it counts only once a person confirms it.
func SuggestPII(fieldName string, samples []string) string {
	n := normalise(fieldName)
	for _, p := range piiNamePatterns() {
		if p.re.MatchString(n) {
			return p.category
		}
	}
	if len(samples) == 0 {
		return ""
	}
	count := func(re *regexp.Regexp) int {
		k := 0
		for _, s := range samples {
			if re.MatchString(strings.TrimSpace(s)) {
				k++
			}
		}
		return k
	}
	half := (len(samples) + 1) / 2
	switch {
	case count(sampleEmail) >= half:
		return "contact"
	case count(sampleIBAN) >= half:
		return "financial"
	case countPhones(samples) >= half:
		return "contact"
	}
	return ""
}

// FieldSuggestion is a proposed row for a field that has none yet.
type FieldSuggestion struct {
	Field      SourceField
	SourceName string
	Suggestion
	Priority int
}

// Suggestions proposes rows for the undecided fields of a matrix whose names
// are usual directory or HR names. A login suggestion for a short name is
// made only when the org has a login pattern.
func (m *Matrix) Suggestions() []FieldSuggestion {
	fed := map[string]int{}
	for _, l := range m.Lines {
		if l.Row != nil && l.Row.Status == StatusMapped {
			fed[l.Row.TargetAttribute] = max(fed[l.Row.TargetAttribute], l.Row.Priority)
		}
	}
	var out []FieldSuggestion
	for _, l := range m.Lines {
		if l.Row != nil {
			continue
		}
		sg, ok := SuggestTarget(l.Field.Name)
		if !ok || (sg.NeedsLoginPattern && m.Settings.LoginPattern == "") || findAttribute(m.Attributes, sg.Target) == nil {
			continue
		}
		fed[sg.Target]++
		out = append(out, FieldSuggestion{Field: l.Field, SourceName: l.SourceName, Suggestion: sg, Priority: fed[sg.Target]})
	}
	return out
}

// AcceptSuggestions creates the suggested rows for the given fields (all
// suggested fields when fieldIDs is empty), in one transaction, and returns
// how many it created.
func (s *Service) AcceptSuggestions(ctx context.Context, projectID int64, fieldIDs []int64) (int, error) {
	m, err := s.LoadMatrix(ctx, projectID)
	if err != nil {
		return 0, err
	}
	want := map[int64]bool{}
	for _, id := range fieldIDs {
		want[id] = true
	}
	var chosen []FieldSuggestion
	for _, sg := range m.Suggestions() {
		if len(want) == 0 || want[sg.Field.ID] {
			chosen = append(chosen, sg)
		}
	}
	if len(want) > 0 && len(chosen) != len(want) {
		return 0, apperr.Invalid("One of the suggestions is no longer open: reload the page.", nil)
	}
	err = s.db.Transaction(ctx, func(tx *gorm.DB) error {
		for _, sg := range chosen {
			r := &Row{ProjectID: projectID, SourceFieldID: sg.Field.ID, TargetAttribute: sg.Target, Status: StatusMapped,
				Priority: sg.Priority, Transform: sg.Transform, Notes: "Suggested by Ferry: " + sg.Reason, Version: 1}
			if err := s.createRow(ctx, tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, wrap(err)
	}
	return len(chosen), nil
}

// countPhones counts samples that look like telephone numbers: seven or more
// digits written with a leading + or separators, and not a date. Bare digit
// runs (employee numbers) and dates are not taken for phone numbers.
func countPhones(samples []string) int {
	n := 0
	for _, s := range samples {
		s = strings.TrimSpace(s)
		if !samplePhone.MatchString(s) || sampleDate.MatchString(s) || !strings.ContainsAny(s, "+ ()-./") {
			continue
		}
		digits := 0
		for _, r := range s {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits >= 7 {
			n++
		}
	}
	return n
}
