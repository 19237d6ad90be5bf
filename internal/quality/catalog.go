// Package quality validates staged data against everything Okta will
// enforce and the matrix promises, and handles what it finds the way Okta's
// guidance asks: a catalog of issue types, each occurrence logged, counts per
// type, source and attribute with their trend, and remediation tasks.
package quality

// Severities: a blocking issue keeps the record from being loaded.
const (
	SeverityBlocking = "blocking"
	SeverityWarning  = "warning"
)

// Issue codes.
const (
	IssueRequiredMissing = "required_missing"
	IssueTooLong         = "too_long"
	IssueTooShort        = "too_short"
	IssueWrongType       = "wrong_type"
	IssueLoginNotEmail   = "login_not_email"
	IssueBadEmail        = "bad_email"
	IssueBadCountryCode  = "bad_country_code"
	IssueBadLocale       = "bad_locale"
	IssueBadTimezone     = "bad_timezone"
	IssueBadLanguage     = "bad_language"
	IssueBadFormat       = "bad_format"
	IssuePattern         = "pattern_mismatch"
	IssueNotInEnum       = "not_in_enum"
	IssueBadText         = "bad_text"
	IssueDuplicateLogin  = "duplicate_login"
	IssueDuplicateEmail  = "duplicate_email"
	IssueTransformFailed = "transform_failed"
	// Stored passwords, for the sources whose credentials migrate (see
	// docs/hashes.md). Malformed and not-allowed values block the record:
	// loading them would lose the password silently or guess a format.
	// The others warn: the user is loaded, and the way forward (hook,
	// reset) is planned, not fixed in the data.
	IssueCredentialMissing         = "credential_missing"
	IssueCredentialMalformed       = "credential_malformed"
	IssueCredentialNotAllowed      = "credential_not_allowed"
	IssueCredentialNeedsHook       = "credential_needs_hook"
	IssueCredentialNeedsReset      = "credential_needs_reset"
	IssueCredentialFormatDisagrees = "credential_format_disagrees"
)

// IssueType is one entry of the catalog: what the issue is and how it is
// usually fixed.
type IssueType struct {
	Code        string
	Title       string
	Description string
	Remediation string
	Severity    string
}

// IssueTypes is the catalog, in the order the quality page shows it.
func IssueTypes() []IssueType {
	return []IssueType{
		{IssueRequiredMissing, "Required value missing", "Okta requires this attribute (login, email, firstName, lastName, or a required custom attribute) and the record has no value for it.",
			"Fill the value at the source and re-stage, or edit the staged record; check that the matrix maps a field to the attribute.", SeverityBlocking},
		{IssueDuplicateLogin, "Login used twice", "Two records get the same Okta login, compared as Okta does: ignoring case and accents. Okta refuses the second.",
			"Decide which record is the person; exclude the other or give it another login at the source.", SeverityBlocking},
		{IssueDuplicateEmail, "Email used twice", "Two records share a primary email while the org enforces unique emails.",
			"Give each person their own email, or turn the uniqueness setting off if the org does not enforce it.", SeverityBlocking},
		{IssueLoginNotEmail, "Login is not an email", "Okta logins are email addresses unless the org sets a login pattern.",
			"Map an email-shaped field to login, add a transformation that builds one, or set the org's login pattern.", SeverityBlocking},
		{IssueBadEmail, "Malformed email", "The value is not an email address Okta accepts.", "Correct the address at the source or in the staged record.", SeverityBlocking},
		{IssueTooLong, "Value too long", "The value has more characters than the Okta attribute takes.", "Shorten it, or add a transformation (split, regex replace) that does.", SeverityBlocking},
		{IssueTooShort, "Value too short", "The value has fewer characters than the Okta attribute needs (login: 5).", "Correct the value at the source.", SeverityBlocking},
		{IssueWrongType, "Wrong type", "The value is not of the attribute's type (a number, true/false).", "Correct the value or add a transformation.", SeverityBlocking},
		{IssueBadCountryCode, "Country code not ISO 3166", "countryCode must be a two-letter ISO 3166-1 code such as DE or US.", "Add the country_alpha2 transformation, or correct the value.", SeverityBlocking},
		{IssueBadLocale, "Locale not ll_CC", "locale must look like en_US.", "Correct the value or map another field.", SeverityBlocking},
		{IssueBadTimezone, "Unknown time zone", "timezone must be an IANA name such as Europe/Berlin.", "Correct the value or add a lookup transformation.", SeverityBlocking},
		{IssueBadLanguage, "Language tag not valid", "preferredLanguage must be a language tag such as en-US.", "Correct the value or add a lookup transformation.", SeverityBlocking},
		{IssueBadFormat, "Wrong format", "The value does not have the attribute's format.", "Correct the value.", SeverityBlocking},
		{IssuePattern, "Does not match the pattern", "The value does not match the attribute's pattern.", "Correct the value or the pattern.", SeverityBlocking},
		{IssueNotInEnum, "Not an allowed value", "The attribute takes only a fixed list of values.", "Add a lookup transformation or correct the value.", SeverityBlocking},
		{IssueBadText, "Unreadable text", "The value has control characters or is not valid text.", "Clean the value at the source.", SeverityBlocking},
		{IssueTransformFailed, "Transformation failed", "A transformation of the matrix could not produce a value from this record (a date that does not parse, a lookup miss).",
			"Fix the value, extend the transformation (a lookup entry, a date layout), or give it a default.", SeverityBlocking},
		{IssueCredentialMalformed, "Stored password unreadable", "The stored password value claims a format but breaks its rules (truncated, wrong encoding, wrong length, parameters out of range). Ferry will not guess: the record cannot be loaded with a password.",
			"Check the extract (a truncated column, a lost encoding) and stage it again, or correct the source's password settings, or exclude the record.", SeverityBlocking},
		{IssueCredentialNotAllowed, "Password format not allowed", "The stored password is in a format the source's password settings do not list.",
			"If the source really holds this format (systems rehash on sign-in), add it to the source's formats; otherwise the value is suspect: check it at the source.", SeverityBlocking},
		{IssueCredentialMissing, "No stored password", "The source migrates credentials but this record has no stored password value. The user is loaded without a password and must set one.",
			"Nothing to fix if the account has no password (federated, disabled); otherwise check the attribute named in the source's password settings.", SeverityWarning},
		{IssueCredentialNeedsHook, "Password needs the import hook", "Okta cannot import this stored password, but Ferry's password import hook can verify it at the user's first sign-in.",
			"Plan the password import hook for these users (a migration program), or a reset.", SeverityWarning},
		{IssueCredentialNeedsReset, "Password needs a reset", "Neither Okta nor Ferry's hook can verify this stored password (a pepper, an unsupported or unknown format).",
			"Plan a password reset for these users, or a hook that calls the legacy system's own verification.", SeverityWarning},
		{IssueCredentialFormatDisagrees, "Password format differs from the declared one", "The stored password is in another format than the one the source declares. A few are expected (rehashed on sign-in); many mean the declaration is wrong.",
			"If many records disagree, correct the declared format in the source's password settings and prove it with a test account.", SeverityWarning},
	}
}

// TypeOf returns the catalog entry of code.
func TypeOf(code string) IssueType {
	for _, t := range IssueTypes() {
		if t.Code == code {
			return t
		}
	}
	return IssueType{Code: code, Title: code, Severity: SeverityBlocking}
}
