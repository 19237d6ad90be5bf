package staging

import (
	"strings"
	"unicode"
)

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
// option such as ";binary"): one of the usual names, or a name whose words
// are a password word with a hash word (pw_digest, PasswordHashSHA,
// hashed_pwd) or with words that only say whose it is (user_password,
// legacyPwd). Names of facts about a password (pwdLastSet,
// password_changed_at) are not secrets.
func IsCredentialAttribute(name string) bool {
	name = strings.TrimSpace(name)
	if base, _, ok := strings.Cut(name, ";"); ok {
		name = base
	}
	if credentialNames[strings.ToLower(name)] {
		return true
	}
	var pw, secret, other bool
	for _, w := range nameWords(name) {
		switch {
		case passwordWords[w]:
			pw = true
		case secretWords[w]:
			secret = true
		case !ownerWords[w]:
			other = true
		}
	}
	return pw && (secret || !other)
}

var (
	passwordWords = map[string]bool{"password": true, "passwd": true, "pwd": true, "pw": true, "passphrase": true, "pass": true}
	secretWords   = map[string]bool{"hash": true, "hashed": true, "digest": true, "salt": true, "crypt": true, "crypted": true,
		"encrypted": true, "enc": true, "cipher": true, "secret": true, "value": true, "md5": true, "sha": true, "sha1": true,
		"sha256": true, "sha512": true, "bcrypt": true, "pbkdf2": true, "argon2": true, "scrypt": true}
	ownerWords = map[string]bool{"user": true, "users": true, "account": true, "member": true, "customer": true, "login": true,
		"legacy": true, "old": true, "current": true, "stored": true, "the": true, "my": true}
)

// nameWords splits an attribute name into lower-case words at punctuation,
// digits-to-letters and camelCase boundaries.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	runes := []rune(name)
	for i, r := range runes {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
			continue
		case i > 0 && unicode.IsUpper(r) && (unicode.IsLower(runes[i-1]) || i+1 < len(runes) && unicode.IsLower(runes[i+1]) && unicode.IsUpper(runes[i-1])):
			flush()
		}
		cur = append(cur, r)
	}
	flush()
	return words
}
