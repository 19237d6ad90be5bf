package plan

// Option is one allowed value of an enumerated field, with its label for people.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Values returns the machine values of opts.
func Values(opts []Option) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		out[i] = o.Value
	}
	return out
}

// LabelOf returns the label of value in opts, or value itself when unknown.
func LabelOf(opts []Option, value string) string {
	for _, o := range opts {
		if o.Value == value {
			return o.Label
		}
	}
	return value
}

// Migration types, in the guidance's words.
const (
	MigrationOneTime = "one_time"
	MigrationProgram = "program"
)

func MigrationTypes() []Option {
	return []Option{
		{MigrationOneTime, "One-time migration"},
		{MigrationProgram, "Migration program"},
	}
}

func ProjectStatuses() []Option {
	return []Option{
		{"planning", "Planning"},
		{"rehearsing", "Rehearsing"},
		{"loading", "Loading"},
		{"completed", "Completed"},
		{"on_hold", "On hold"},
	}
}

func UserTypeKinds() []Option {
	return []Option{
		{"full_time_employee", "Full-time employee"},
		{"part_time_employee", "Part-time employee"},
		{"customer", "Customer"},
		{"partner", "Partner"},
		{"contractor", "Contractor"},
		{"other", "Other"},
	}
}

func SourceKinds() []Option {
	return []Option{
		{"active_directory", "Active Directory"},
		{"ldap", "LDAP directory"},
		{"database", "Database"},
		{"cloud_app", "Cloud application"},
		{"hr_system", "HR system"},
		{"file_export", "File export"},
		{"other", "Other"},
	}
}

// Access statuses of a source system.
const (
	AccessNotRequested = "not_requested"
	AccessRequested    = "requested"
	AccessGranted      = "granted"
	AccessDenied       = "denied"
)

func AccessStatuses() []Option {
	return []Option{
		{AccessNotRequested, "Not requested"},
		{AccessRequested, "Requested"},
		{AccessGranted, "Granted"},
		{AccessDenied, "Denied"},
	}
}

// Decisions about what migrates from a source.
const (
	DecisionUndecided = "undecided"
	DecisionYes       = "yes"
	DecisionNo        = "no"
)

func Decisions() []Option {
	return []Option{
		{DecisionUndecided, "Not decided yet"},
		{DecisionYes, "Yes, migrate"},
		{DecisionNo, "No"},
	}
}

// PasswordHashFormats are the legacy formats a source may store passwords in.
// The first six Okta imports directly; the others need a password import
// hook (a migration program) or a reset.
func PasswordHashFormats() []Option {
	return []Option{
		{"bcrypt", "bcrypt (Okta imports)"},
		{"pbkdf2", "PBKDF2 with HMAC-SHA-256/512 (Okta imports)"},
		{"sha512", "Salted SHA-512 (Okta imports)"},
		{"sha256", "Salted SHA-256 (Okta imports)"},
		{"sha1", "Salted SHA-1 (Okta imports)"},
		{"md5", "Salted MD5 (Okta imports)"},
		{"ldap_ssha", "LDAP {SSHA}/{SSHA512} (convertible)"},
		{"argon2", "Argon2 (needs the import hook)"},
		{"scrypt", "scrypt (needs the import hook)"},
		{"crypt", "crypt(3) / iterated SHA (needs the import hook)"},
		{"ad_nt", "Active Directory (not exportable: bind or reset)"},
		{"unknown", "Unknown yet"},
	}
}

func AccessMethods() []Option {
	return []Option{
		{"saml", "SAML"},
		{"oidc", "OpenID Connect"},
		{"ws_fed", "WS-Federation"},
		{"swa", "Password (SWA)"},
		{"header", "Header-based"},
		{"ldap", "LDAP"},
		{"other", "Other"},
	}
}

func AssignmentBases() []Option {
	return []Option{
		{"user_type", "By user type"},
		{"group", "By group"},
		{"attribute", "By user attribute"},
		{"individual", "Individually"},
	}
}

func OINStatuses() []Option {
	return []Option{
		{"unknown", "Not checked yet"},
		{"yes", "Yes, in the OIN"},
		{"no", "No OIN integration"},
	}
}

func Approaches() []Option {
	return []Option{
		{"one_shot", "One-shot migration"},
		{"staged", "Migration in stages"},
	}
}
