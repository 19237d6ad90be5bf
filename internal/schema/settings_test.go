package schema_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/schema"
)

func TestSettingsDefaultWithoutARow(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	st, err := f.schema.FindSettings(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st.ProjectID != p.ID || st.LoginPattern != "" || st.EmailUnique || st.SecondEmailUnique || st.Version != 1 {
		t.Fatalf("defaults = %+v, want email logins, uniqueness off, version 1", st)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM profile_settings"); n != 0 {
		t.Fatalf("reading the settings wrote %d rows", n)
	}
	_, err = f.schema.FindSettings(context.Background(), p.ID+100)
	wantCode(t, err, apperr.CodeNotFound)
}

func TestUpdateSettings(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	st, err := f.schema.UpdateSettings(f.ctx, p.ID, 1, schema.SettingsInput{LoginPattern: ptr("  [a-z0-9.]+ "), EmailUnique: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if st.LoginPattern != "[a-z0-9.]+" || !st.EmailUnique || st.SecondEmailUnique || st.Version != 2 {
		t.Fatalf("updated = %+v", st)
	}
	got, _ := f.schema.FindSettings(context.Background(), p.ID)
	if got.LoginPattern != st.LoginPattern || got.EmailUnique != true || got.Version != 2 || !got.UpdatedAt.Equal(f.clock.Now()) {
		t.Fatalf("stored = %+v", got)
	}
	entries := f.history(t, "profile_settings", p.ID)
	if len(entries) != 1 {
		t.Fatalf("entries = %d", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "update", "profile_settings", p.ID)
	if d := diff(entries[0]); d["loginPattern"] != " → [a-z0-9.]+" || d["emailUnique"] != "false → true" || len(d) != 2 {
		t.Fatalf("diff = %v", d)
	}

	// A partial update keeps what it does not send; clearing the pattern goes back to email logins.
	st, err = f.schema.UpdateSettings(f.ctx, p.ID, 2, schema.SettingsInput{SecondEmailUnique: ptr(true)})
	if err != nil || st.LoginPattern != "[a-z0-9.]+" || !st.EmailUnique || !st.SecondEmailUnique || st.Version != 3 {
		t.Fatalf("partial update = %+v, %v", st, err)
	}
	st, err = f.schema.UpdateSettings(f.ctx, p.ID, 3, schema.SettingsInput{LoginPattern: ptr(""), EmailUnique: ptr(false)})
	if err != nil || st.LoginPattern != "" || st.EmailUnique || !st.SecondEmailUnique {
		t.Fatalf("clearing = %+v, %v", st, err)
	}
}

func TestUpdateSettingsRefusesBadPatterns(t *testing.T) {
	for pattern, want := range map[string]string{
		"[a-z":                       "Login pattern is not a valid regular expression: a [ has no closing ]",
		"(?=.*@)[a-z@.]+":            "Login pattern uses lookahead",
		"[a-z]++":                    "possessive quantifier",
		`(\w)\1`:                     "backreference",
		"a\nb":                       "single line",
		"a\xff":                      "UTF-8",
		strings.Repeat("a", 501):     "too long",
		"[[:alnum:]]+":               "[ inside a character class",
		`\p{javaLetterOrDigit}+@x\.`: "Java-only classes",
	} {
		t.Run(pattern, func(t *testing.T) {
			f := newFixture(t)
			p := f.mustProject(t, "Acme")
			before := f.auditCount(t)
			_, err := f.schema.UpdateSettings(f.ctx, p.ID, 1, schema.SettingsInput{LoginPattern: ptr(pattern), EmailUnique: ptr(true)})
			wantField(t, err, "login_pattern", want)
			st, _ := f.schema.FindSettings(context.Background(), p.ID)
			if st.LoginPattern != "" || st.EmailUnique || st.Version != 1 || f.auditCount(t) != before {
				t.Fatalf("a refused update changed something: %+v", st)
			}
		})
	}
}

func TestUpdateSettingsVersionConflict(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	if _, err := f.schema.UpdateSettings(f.ctx, p.ID, 1, schema.SettingsInput{LoginPattern: ptr(".+")}); err != nil {
		t.Fatal(err)
	}
	// A second person still at version 1.
	_, err := f.schema.UpdateSettings(f.ctx, p.ID, 1, schema.SettingsInput{LoginPattern: ptr("[a-z]+"), EmailUnique: ptr(false)})
	if got := changed(t, err); got["loginPattern"] != ".+ → [a-z]+" || len(got) != 1 {
		t.Fatalf("changes = %v, want only the login pattern (email unique is unchanged)", got)
	}
	if e := apperr.As(err); e.CurrentVersion != 2 {
		t.Fatalf("current version = %d", e.CurrentVersion)
	}
	st, _ := f.schema.FindSettings(context.Background(), p.ID)
	if st.LoginPattern != ".+" || st.Version != 2 {
		t.Fatalf("stored = %+v", st)
	}
	// Versions from the future are conflicts too.
	_, err = f.schema.UpdateSettings(f.ctx, p.ID, 7, schema.SettingsInput{})
	wantCode(t, err, apperr.CodeConflict)
}

func TestUpdateSettingsOfAMissingProject(t *testing.T) {
	f := newFixture(t)
	_, err := f.schema.UpdateSettings(f.ctx, 999, 1, schema.SettingsInput{EmailUnique: ptr(true)})
	wantCode(t, err, apperr.CodeNotFound)
	if n := f.count(t, "SELECT COUNT(*) FROM profile_settings"); n != 0 {
		t.Fatalf("%d rows written", n)
	}
}

func TestSettingsGoWithTheProject(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	if _, err := f.schema.UpdateSettings(f.ctx, p.ID, 1, schema.SettingsInput{EmailUnique: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	f.mustCustom(t, p.ID, attr("employeeId"))
	if err := f.plan.DeleteProject(f.ctx, p.ID, "Acme"); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM profile_settings") + f.count(t, "SELECT COUNT(*) FROM custom_attributes"); n != 0 {
		t.Fatalf("%d rows left after the project was deleted", n)
	}
}

func TestAttributesApplySettingsAndListCustomAfterBase(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	attrs, err := f.schema.Attributes(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(attrs) != 31 {
		t.Fatalf("%d attributes, want the 31 base ones", len(attrs))
	}
	login, email := attrs[0], attrs[1]
	if login.Pattern != "" || *login.MinLength != 5 || email.Unique || attrs[2].Unique {
		t.Fatalf("defaults: login %+v email %+v", login, email)
	}

	f.mustCustom(t, p.ID, schema.CustomAttributeInput{Name: ptr("zone"), Title: ptr("Zone"), Type: ptr("integer"), Unique: ptr(true)})
	f.mustCustom(t, p.ID, schema.CustomAttributeInput{Name: ptr("Badge"), Title: ptr("Badge"), Type: ptr("string"), MaxLength: schema.SetInt(20)})
	f.mustCustom(t, p.ID, schema.CustomAttributeInput{Name: ptr("roles"), Title: ptr("Roles"), Type: ptr("array"), Enum: &[]string{"admin", "user"}})
	if _, err := f.schema.UpdateSettings(f.ctx, p.ID, 1, schema.SettingsInput{LoginPattern: ptr(".+"), EmailUnique: ptr(true), SecondEmailUnique: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	attrs, err = f.schema.Attributes(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range attrs[31:] {
		names = append(names, a.Name)
	}
	if len(attrs) != 34 || strings.Join(names, ",") != "Badge,roles,zone" {
		t.Fatalf("custom attributes = %v, want them after the base ones, by name ignoring case", names)
	}
	login, email = attrs[0], attrs[1]
	if login.Pattern != ".+" || login.MinLength != nil || *login.MaxLength != 100 || !login.Unique {
		t.Fatalf("login with pattern .+ = %+v, want the pattern and no minimum length", login)
	}
	if !email.Unique || !attrs[2].Unique || attrs[2].Name != "secondEmail" {
		t.Fatalf("email %+v, secondEmail %+v: want both unique", email, attrs[2])
	}
	badge, roles, zone := attrs[31], attrs[32], attrs[33]
	if badge.Base || badge.Type != "string" || *badge.MaxLength != 20 || badge.MinLength != nil || !badge.Nullable || badge.Required {
		t.Fatalf("badge = %+v", badge)
	}
	if roles.Type != "array" || roles.ItemsType != "string" || strings.Join(roles.Enum, ",") != "admin,user" {
		t.Fatalf("roles = %+v", roles)
	}
	if zone.Type != "integer" || !zone.Unique || zone.Enum == nil {
		t.Fatalf("zone = %+v", zone)
	}
	// A charset pattern keeps the minimum length of five.
	if _, err := f.schema.UpdateSettings(f.ctx, p.ID, 2, schema.SettingsInput{LoginPattern: ptr("[a-z]+")}); err != nil {
		t.Fatal(err)
	}
	attrs, _ = f.schema.Attributes(context.Background(), p.ID)
	if attrs[0].Pattern != "[a-z]+" || attrs[0].MinLength == nil || *attrs[0].MinLength != 5 {
		t.Fatalf("login = %+v", attrs[0])
	}
	// The catalog's values follow the settings.
	if err := schema.ValidateValue(attrs[0], "lea.lead@example.com"); err == nil {
		t.Fatal("a login outside the pattern was accepted")
	}
	if err := schema.ValidateValue(attrs[0], "lealead"); err != nil {
		t.Fatal(err)
	}
	_, err = f.schema.Attributes(context.Background(), p.ID+100)
	wantCode(t, err, apperr.CodeNotFound)
}
