package staging

import "strings"

// Password hashes are secrets: never shown in a page, an API answer, a
// column's sample values or a log line (DESIGN). A column is taken for one
// when its name is one that directories and applications use for stored
// passwords.
var credentialNames = map[string]bool{
	"userpassword": true, "unicodepwd": true, "password": true, "passwd": true, "pwd": true, "pass": true,
	"passwordhash": true, "password_hash": true, "pwdhash": true, "pwd_hash": true, "hashedpassword": true,
	"hashed_password": true, "passwordsalt": true, "password_salt": true, "passwordhashsalt": true,
	"sambantpassword": true, "sambalmpassword": true, "ntpassword": true, "lmpassword": true,
	"supplementalcredentials": true, "dbcspwd": true, "authpassword": true, "credentials": true,
}

// IsCredentialAttribute reports whether an attribute holds a password, a
// password hash or its salt, judged by its name (ignoring case, and an LDAP
// option such as ";binary").
func IsCredentialAttribute(name string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	if base, _, ok := strings.Cut(name, ";"); ok {
		name = base
	}
	return credentialNames[name]
}
