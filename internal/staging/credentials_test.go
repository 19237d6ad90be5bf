package staging_test

import (
	"testing"

	"github.com/ferry-migrate/ferry/internal/staging"
)

func TestCredentialAttributesAreKnownByTheirNames(t *testing.T) {
	for name, want := range map[string]bool{
		"userPassword": true, "unicodePwd;binary": true, "password_hash": true, "PASSWORD": true,
		"pw_digest": true, "pw_salt": true, "PasswordHashSHA256": true, "hashed_pwd": true, "user_password": true,
		"legacyPwd": true, "PwdSalt": true, "member-passwd": true, "pass_enc": true,
		"pwdLastSet": false, "password_changed_at": false, "passwordExpires": false, "mail": false, "givenName": false,
		"hash": false, "salt_shaker": false, "passport_no": false, "compass": false, "bypass_mfa": false,
	} {
		if got := staging.IsCredentialAttribute(name); got != want {
			t.Errorf("IsCredentialAttribute(%q) = %v, want %v", name, got, want)
		}
	}
}
