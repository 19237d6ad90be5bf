package schema_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/schema"
)

func TestCreateCustomAttribute(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	in := schema.CustomAttributeInput{
		Name: ptr(" employeeId "), Title: ptr(" Employee ID "), Description: ptr("HR number, <b>as is</b>"), Type: ptr("string"),
		MinLength: schema.SetInt(5), MaxLength: schema.SetInt(5), Pattern: ptr(`E[0-9]{4}`), Required: ptr(true), Unique: ptr(true),
	}
	c, err := f.schema.CreateCustomAttribute(f.ctx, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 || c.ProjectID != p.ID || c.Name != "employeeId" || c.Title != "Employee ID" || c.Version != 1 ||
		*c.MinLength != 5 || *c.MaxLength != 5 || c.Pattern != `E[0-9]{4}` || !c.Required || !c.Unique || c.Enum == nil {
		t.Fatalf("created = %+v", c)
	}
	got, err := f.schema.FindCustomAttributeByID(context.Background(), p.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "employeeId" || got.Description != "HR number, <b>as is</b>" || got.Enum == nil || len(got.Enum) != 0 || !got.CreatedAt.Equal(f.clock.Now()) {
		t.Fatalf("stored = %+v", got)
	}
	entries := f.history(t, "custom_attribute", c.ID)
	if len(entries) != 1 {
		t.Fatalf("entries = %d", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "create", "custom_attribute", c.ID)
	if entries[0].EntityLabel != "employeeId" || !strings.Contains(entries[0].AfterJSON, `"pattern":"E[0-9]{4}"`) || strings.Contains(entries[0].AfterJSON, "enum_json") {
		t.Fatalf("entry = %+v", entries[0])
	}

	// The type defaults to string; an enum is stored in order.
	e := f.mustCustom(t, p.ID, schema.CustomAttributeInput{Name: ptr("size"), Title: ptr("Size"), Enum: &[]string{" S ", "M", "L"}})
	got, _ = f.schema.FindCustomAttributeByID(context.Background(), p.ID, e.ID)
	if got.Type != "string" || strings.Join(got.Enum, ",") != "S,M,L" {
		t.Fatalf("enum attribute = %+v", got)
	}
	list, err := f.schema.FindCustomAttributes(context.Background(), p.ID)
	if err != nil || len(list) != 2 || list[0].Name != "employeeId" || list[1].Name != "size" {
		t.Fatalf("list = %+v, %v", list, err)
	}
}

func TestCustomAttributeValidation(t *testing.T) {
	valid := func() schema.CustomAttributeInput { return attr("costCentre") }
	with := func(change func(*schema.CustomAttributeInput)) schema.CustomAttributeInput {
		in := valid()
		change(&in)
		return in
	}
	typed := func(typ string, change func(*schema.CustomAttributeInput)) schema.CustomAttributeInput {
		return with(func(in *schema.CustomAttributeInput) { in.Type = ptr(typ); change(in) })
	}
	many := func(n int) *[]string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("v", i)
		}
		return &out
	}
	tests := []struct {
		name  string
		in    schema.CustomAttributeInput
		field string
		want  string
	}{
		{"missing name", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("  ") }), "name", "Name is required."},
		{"name starting with a digit", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("2fa") }), "name", "must start with a letter"},
		{"name starting with an underscore", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("_id2") }), "name", "must start with a letter"},
		{"name with a hyphen", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("cost-centre") }), "name", "only letters (a–z, A–Z), digits and underscores"},
		{"name with a space", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("cost centre") }), "name", "only letters"},
		{"name with a dot", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("cost.centre") }), "name", "only letters"},
		{"name with an accent", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("coût") }), "name", "only letters"},
		{"name with markup", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("<script>") }), "name", "only letters"},
		{"name in invalid UTF-8", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("a\xff") }), "name", "UTF-8"},
		{"overlong name", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("a" + strings.Repeat("b", 64)) }), "name", "at most 64 characters, this has 65"},
		{"base name", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("employeeNumber") }), "name", "one of Okta's base attributes"},
		{"base name in another case", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("FirstName") }), "name", "differs from Okta's base attribute firstName only by case"},
		{"base name in capitals", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("EMAIL") }), "name", "base attribute email only by case"},
		{"reserved word", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("status") }), "name", "reserved by Okta"},
		{"reserved word in another case", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("LastLogin") }), "name", "reserved by Okta"},
		{"reserved word realmId", with(func(in *schema.CustomAttributeInput) { in.Name = ptr("realmId") }), "name", "reserved by Okta"},
		{"missing title", with(func(in *schema.CustomAttributeInput) { in.Title = ptr("") }), "title", "Title is required."},
		{"overlong title", with(func(in *schema.CustomAttributeInput) { in.Title = ptr(strings.Repeat("t", 201)) }), "title", "too long"},
		{"title on two lines", with(func(in *schema.CustomAttributeInput) { in.Title = ptr("a\nb") }), "title", "single line"},
		{"title in invalid UTF-8", with(func(in *schema.CustomAttributeInput) { in.Title = ptr("\xc3") }), "title", "UTF-8"},
		{"overlong description", with(func(in *schema.CustomAttributeInput) { in.Description = ptr(strings.Repeat("d", 1001)) }), "description", "at most 1000 characters"},
		{"description with a control character", with(func(in *schema.CustomAttributeInput) { in.Description = ptr("bell\a") }), "description", "control characters"},
		{"unknown type", with(func(in *schema.CustomAttributeInput) { in.Type = ptr("date") }), "type", "must be one of: string, boolean, integer, number, array"},
		{"empty type", with(func(in *schema.CustomAttributeInput) { in.Type = ptr("") }), "type", "must be one of"},
		{"type in capitals", with(func(in *schema.CustomAttributeInput) { in.Type = ptr("String") }), "type", "must be one of"},
		{"min above max", with(func(in *schema.CustomAttributeInput) {
			in.MinLength, in.MaxLength = schema.SetInt(10), schema.SetInt(5)
		}), "min_length", "Minimum length (10) is more than the maximum length (5)."},
		{"negative min", with(func(in *schema.CustomAttributeInput) { in.MinLength = schema.SetInt(-1) }), "min_length", "cannot be negative"},
		{"zero max", with(func(in *schema.CustomAttributeInput) { in.MaxLength = schema.SetInt(0) }), "max_length", "at least 1"},
		{"absurd max", with(func(in *schema.CustomAttributeInput) { in.MaxLength = schema.SetInt(schema.MaxLengthLimit + 1) }), "max_length", "looks wrong"},
		{"absurd min", with(func(in *schema.CustomAttributeInput) { in.MinLength = schema.SetInt(schema.MaxLengthLimit + 1) }), "min_length", "looks wrong"},
		{"min length on an integer", typed("integer", func(in *schema.CustomAttributeInput) { in.MinLength = schema.SetInt(1) }), "min_length", "only to string attributes"},
		{"max length on an array", typed("array", func(in *schema.CustomAttributeInput) { in.MaxLength = schema.SetInt(9) }), "max_length", "only to string attributes"},
		{"pattern on a number", typed("number", func(in *schema.CustomAttributeInput) { in.Pattern = ptr("[0-9]+") }), "pattern", "only to string attributes"},
		{"bad pattern", with(func(in *schema.CustomAttributeInput) { in.Pattern = ptr("[0-9") }), "pattern", "Pattern is not a valid regular expression: a [ has no closing ]"},
		{"Java-only pattern", with(func(in *schema.CustomAttributeInput) { in.Pattern = ptr("(?<!x)y") }), "pattern", "Pattern uses lookbehind"},
		{"overlong pattern", with(func(in *schema.CustomAttributeInput) { in.Pattern = ptr(strings.Repeat("a", 501)) }), "pattern", "too long"},
		{"enum on a boolean", typed("boolean", func(in *schema.CustomAttributeInput) { in.Enum = &[]string{"true"} }), "enum", "boolean attribute cannot have an enumeration"},
		{"empty enum value", with(func(in *schema.CustomAttributeInput) { in.Enum = &[]string{"a", " "} }), "enum", "Value 2 is empty."},
		{"duplicate enum value", with(func(in *schema.CustomAttributeInput) { in.Enum = &[]string{"S", "M", "S"} }), "enum", `Value 3 ("S") repeats value 1.`},
		{"duplicate enum value after trimming", with(func(in *schema.CustomAttributeInput) { in.Enum = &[]string{"S", "S "} }), "enum", "repeats value 1"},
		{"duplicate integer enum", typed("integer", func(in *schema.CustomAttributeInput) { in.Enum = &[]string{"1", "2", "1"} }), "enum", "repeats value 1"},
		{"duplicate number enum by value", typed("number", func(in *schema.CustomAttributeInput) { in.Enum = &[]string{"0.5", "5e-1"} }), "enum", "repeats value 1"},
		{"enum value not an integer", typed("integer", func(in *schema.CustomAttributeInput) { in.Enum = &[]string{"1", "two"} }), "enum", `Value 2 ("two") is not a whole number.`},
		{"enum value not a number", typed("number", func(in *schema.CustomAttributeInput) { in.Enum = &[]string{"1.5", "NaN"} }), "enum", `Value 2 ("NaN") is not a number.`},
		{"enum value too long for max length", with(func(in *schema.CustomAttributeInput) {
			in.MaxLength = schema.SetInt(2)
			in.Enum = &[]string{"ab", "abc"}
		}), "enum", "longer than the maximum length of 2"},
		{"enum value too short for min length", with(func(in *schema.CustomAttributeInput) {
			in.MinLength = schema.SetInt(2)
			in.Enum = &[]string{"a"}
		}), "enum", "shorter than the minimum length of 2"},
		{"enum value outside the pattern", with(func(in *schema.CustomAttributeInput) {
			in.Pattern = ptr("[A-Z]+")
			in.Enum = &[]string{"S", "m"}
		}), "enum", `Value 2 ("m") does not match the pattern.`},
		{"enum value in invalid UTF-8", with(func(in *schema.CustomAttributeInput) { in.Enum = &[]string{"\xff"} }), "enum", "UTF-8"},
		{"enum value with a control character", with(func(in *schema.CustomAttributeInput) { in.Enum = &[]string{"a\x00"} }), "enum", "control characters"},
		{"overlong enum value", with(func(in *schema.CustomAttributeInput) { in.Enum = &[]string{strings.Repeat("e", 501)} }), "enum", "too long"},
		{"too many enum values", with(func(in *schema.CustomAttributeInput) { in.Enum = many(schema.MaxEnumValues + 1) }), "enum", "At most 500 values"},
		{"unique boolean", typed("boolean", func(in *schema.CustomAttributeInput) { in.Unique = ptr(true) }), "unique", "Only string, integer and number attributes can be unique"},
		{"unique array", typed("array", func(in *schema.CustomAttributeInput) { in.Unique = ptr(true) }), "unique", "can be unique"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.mustProject(t, "Acme")
			before := f.auditCount(t)
			_, err := f.schema.CreateCustomAttribute(f.ctx, p.ID, tt.in)
			wantField(t, err, tt.field, tt.want)
			if n := f.count(t, "SELECT COUNT(*) FROM custom_attributes"); n != 0 || f.auditCount(t) != before {
				t.Fatalf("a refused create wrote %d rows", n)
			}
			c := f.mustCustom(t, p.ID, attr("existing"))
			upd := tt.in
			if upd.Name == nil {
				upd.Name = ptr("existing")
			}
			_, err = f.schema.UpdateCustomAttribute(f.ctx, p.ID, c.ID, 1, upd)
			wantField(t, err, tt.field, tt.want)
			stored, _ := f.schema.FindCustomAttributeByID(context.Background(), p.ID, c.ID)
			if stored.Name != "existing" || stored.Version != 1 || stored.Type != "string" || len(stored.Enum) != 0 {
				t.Fatalf("a refused update changed the record: %+v", stored)
			}
		})
	}
}

func TestEveryReservedNameIsRefusedInAnyCase(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	reserved := []string{"id", "profile", "status", "transitioningToStatus", "created", "activated", "statusChanged",
		"lastLogin", "lastUpdated", "passwordChanged", "type", "realm", "realmId", "password", "credentials",
		"class", "classLoader", "createdBy", "lastUpdatedBy", "orgId", "activationStatus", "apiStatus", "loginType",
		"initialReconcileComplete", "activationDate", "statusChangedDate", "apiLastUpdate", "passwordExpirationGuess",
		"passwordExpirationCursor", "numUnlocks", "changedStatus"}
	for _, a := range schema.Base() {
		reserved = append(reserved, a.Name)
	}
	for _, name := range reserved {
		for _, variant := range []string{name, strings.ToLower(name), strings.ToUpper(name)} {
			if !schema.IsReservedName(variant) {
				t.Errorf("IsReservedName(%q) = false", variant)
			}
			_, err := f.schema.CreateCustomAttribute(f.ctx, p.ID, attr(variant))
			e := wantCode(t, err, apperr.CodeInvalid)
			if e.Fields["name"] == "" {
				t.Errorf("%s: fields = %v", variant, e.Fields)
			}
		}
	}
	// _links and _embedded are reserved too; the name rule refuses them first.
	for _, name := range []string{"_links", "_embedded"} {
		if !schema.IsReservedName(name) {
			t.Errorf("IsReservedName(%q) = false", name)
		}
	}
	for _, name := range []string{"employeeId", "statusCode", "ids", "profileId", "costCentre"} {
		if schema.IsReservedName(name) {
			t.Errorf("IsReservedName(%q) = true", name)
		}
	}
	if n := f.count(t, "SELECT COUNT(*) FROM custom_attributes"); n != 0 {
		t.Fatalf("%d reserved attributes were created", n)
	}
}

func TestNamesThatDifferOnlyByCaseCollide(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	a := f.mustCustom(t, p.ID, attr("costCentre"))
	_, err := f.schema.CreateCustomAttribute(f.ctx, p.ID, attr("costCentre"))
	wantField(t, err, "name", "Another custom attribute already has this name.")
	_, err = f.schema.CreateCustomAttribute(f.ctx, p.ID, attr("CostCentre"))
	wantField(t, err, "name", "differs from the custom attribute costCentre only by case")
	// Another project may use the name.
	f.mustCustom(t, q.ID, attr("CostCentre"))
	// Renaming onto another attribute's name in another case collides too; renaming itself in another case does not.
	b := f.mustCustom(t, p.ID, attr("region"))
	_, err = f.schema.UpdateCustomAttribute(f.ctx, p.ID, b.ID, 1, schema.CustomAttributeInput{Name: ptr("COSTCENTRE")})
	wantField(t, err, "name", "only by case")
	got, err := f.schema.UpdateCustomAttribute(f.ctx, p.ID, a.ID, 1, schema.CustomAttributeInput{Name: ptr("CostCentre")})
	if err != nil || got.Name != "CostCentre" {
		t.Fatalf("renaming in another case = %+v, %v", got, err)
	}
}

func TestAtMostFiveUniqueCustomAttributes(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	var ids []int64
	for i := range schema.MaxUniqueCustom {
		in := attr(fmt.Sprint("key", i))
		in.Unique = ptr(true)
		if i == 1 {
			in.Type = ptr("integer")
		}
		ids = append(ids, f.mustCustom(t, p.ID, in).ID)
	}
	before := f.auditCount(t)
	sixth := attr("key5")
	sixth.Unique = ptr(true)
	_, err := f.schema.CreateCustomAttribute(f.ctx, p.ID, sixth)
	wantField(t, err, "unique", "Okta allows at most 5 unique custom attributes, and key0, key1, key2, key3, key4 already are.")
	if f.auditCount(t) != before {
		t.Fatal("a refused create was audited")
	}
	// Not unique: fine. Made unique by an update: refused.
	plain := f.mustCustom(t, p.ID, attr("plain"))
	_, err = f.schema.UpdateCustomAttribute(f.ctx, p.ID, plain.ID, 1, schema.CustomAttributeInput{Unique: ptr(true)})
	wantField(t, err, "unique", "at most 5 unique")
	// Updating one of the five keeps it unique: it does not count against itself.
	if _, err := f.schema.UpdateCustomAttribute(f.ctx, p.ID, ids[0], 1, schema.CustomAttributeInput{Title: ptr("Key zero"), Unique: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	// Another project has its own five.
	f.mustCustom(t, q.ID, sixth)
	// Freeing a place lets the next one in.
	if _, err := f.schema.UpdateCustomAttribute(f.ctx, p.ID, ids[4], 1, schema.CustomAttributeInput{Unique: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.schema.UpdateCustomAttribute(f.ctx, p.ID, plain.ID, 1, schema.CustomAttributeInput{Unique: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if err := f.schema.DeleteCustomAttribute(f.ctx, p.ID, ids[3]); err != nil {
		t.Fatal(err)
	}
	f.mustCustom(t, p.ID, sixth)
}

// People adding unique attributes at once: never more than five get in.
func TestConcurrentUniqueCreatesStopAtFive(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := attr(fmt.Sprint("key", i))
			in.Unique = ptr(true)
			_, err := f.schema.CreateCustomAttribute(f.ctx, p.ID, in)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	ok, refused := 0, 0
	for err := range errs {
		switch {
		case err == nil:
			ok++
		case apperr.Is(err, apperr.CodeInvalid):
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != schema.MaxUniqueCustom || refused != n-schema.MaxUniqueCustom {
		t.Fatalf("%d created, %d refused; want %d and %d", ok, refused, schema.MaxUniqueCustom, n-schema.MaxUniqueCustom)
	}
	if got := f.count(t, "SELECT COUNT(*) FROM custom_attributes WHERE is_unique = ?", true); got != schema.MaxUniqueCustom {
		t.Fatalf("%d unique attributes stored", got)
	}
}

func TestUpdateCustomAttribute(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	in := attr("badge")
	in.MaxLength = schema.SetInt(10)
	in.Pattern = ptr("[0-9]+")
	c := f.mustCustom(t, p.ID, in)
	f.clock.Advance(60e9)
	got, err := f.schema.UpdateCustomAttribute(f.ctx, p.ID, c.ID, 1, schema.CustomAttributeInput{
		Title: ptr("Badge number"), MaxLength: schema.ClearInt(), MinLength: schema.SetInt(3), Enum: &[]string{"100", "200"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.Title != "Badge number" || got.MaxLength != nil || *got.MinLength != 3 || got.Pattern != "[0-9]+" ||
		strings.Join(got.Enum, ",") != "100,200" || !got.UpdatedAt.Equal(f.clock.Now()) {
		t.Fatalf("updated = %+v", got)
	}
	stored, _ := f.schema.FindCustomAttributeByID(context.Background(), p.ID, c.ID)
	if stored.MaxLength != nil || *stored.MinLength != 3 || strings.Join(stored.Enum, ",") != "100,200" || stored.Version != 2 {
		t.Fatalf("stored = %+v", stored)
	}
	entries := f.history(t, "custom_attribute", c.ID)
	if len(entries) != 2 {
		t.Fatalf("entries = %d", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "update", "custom_attribute", c.ID)
	d := diff(entries[0])
	if d["title"] != "Title of badge → Badge number" || d["maxLength"] != "10 → " || d["minLength"] != " → 3" || d["enum"] != `[] → ["100","200"]` || len(d) != 4 {
		t.Fatalf("diff = %v", d)
	}
	// Changing the type away from string needs the string-only settings cleared too.
	_, err = f.schema.UpdateCustomAttribute(f.ctx, p.ID, c.ID, 2, schema.CustomAttributeInput{Type: ptr("integer")})
	wantField(t, err, "min_length", "only to string attributes")
	got, err = f.schema.UpdateCustomAttribute(f.ctx, p.ID, c.ID, 2, schema.CustomAttributeInput{
		Type: ptr("integer"), MinLength: schema.ClearInt(), Pattern: ptr(""), Enum: &[]string{},
	})
	if err != nil || got.Type != "integer" || got.MinLength != nil || got.Pattern != "" || len(got.Enum) != 0 || got.Version != 3 {
		t.Fatalf("type change = %+v, %v", got, err)
	}
	stored, _ = f.schema.FindCustomAttributeByID(context.Background(), p.ID, c.ID)
	if stored.EnumJSON != "" || stored.Enum == nil {
		t.Fatalf("an emptied enum is stored as %q", stored.EnumJSON)
	}
}

func TestUpdateCustomAttributeVersionConflict(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	c := f.mustCustom(t, p.ID, attr("badge"))
	if _, err := f.schema.UpdateCustomAttribute(f.ctx, p.ID, c.ID, 1, schema.CustomAttributeInput{Title: ptr("Badge"), MaxLength: schema.SetInt(8)}); err != nil {
		t.Fatal(err)
	}
	before := f.auditCount(t)
	_, err := f.schema.UpdateCustomAttribute(f.ctx, p.ID, c.ID, 1, schema.CustomAttributeInput{Title: ptr("Badge ID"), MaxLength: schema.SetInt(8), Required: ptr(false)})
	got := changed(t, err)
	if got["title"] != "Badge → Badge ID" || len(got) != 1 {
		t.Fatalf("changes = %v, want only the title (max length and required are the same)", got)
	}
	if apperr.As(err).CurrentVersion != 2 || f.auditCount(t) != before {
		t.Fatal("the conflict was not reported at version 2, or it was audited")
	}
	stored, _ := f.schema.FindCustomAttributeByID(context.Background(), p.ID, c.ID)
	if stored.Title != "Badge" || stored.Version != 2 {
		t.Fatalf("stored = %+v", stored)
	}
}

// Many people saving the same version at once: exactly one wins.
func TestConcurrentUpdatesOfOneVersionLetOneWin(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	c := f.mustCustom(t, p.ID, attr("badge"))
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.schema.UpdateCustomAttribute(f.ctx, p.ID, c.ID, 1, schema.CustomAttributeInput{Title: ptr(fmt.Sprint("Title ", i))})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	wins := 0
	for err := range errs {
		if err == nil {
			wins++
		} else if !apperr.Is(err, apperr.CodeConflict) {
			t.Errorf("unexpected error: %v", err)
		}
	}
	if wins != 1 || len(f.history(t, "custom_attribute", c.ID)) != 2 {
		t.Fatalf("%d updates won", wins)
	}
}

func TestDeleteCustomAttribute(t *testing.T) {
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	q := f.mustProject(t, "Other")
	c := f.mustCustom(t, p.ID, attr("badge"))
	// Another project's id does not reach it.
	wantCode(t, f.schema.DeleteCustomAttribute(f.ctx, q.ID, c.ID), apperr.CodeNotFound)
	_, err := f.schema.UpdateCustomAttribute(f.ctx, q.ID, c.ID, 1, schema.CustomAttributeInput{Title: ptr("x")})
	wantCode(t, err, apperr.CodeNotFound)
	_, err = f.schema.FindCustomAttributeByID(context.Background(), q.ID, c.ID)
	wantCode(t, err, apperr.CodeNotFound)

	if err := f.schema.DeleteCustomAttribute(f.ctx, p.ID, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.schema.FindCustomAttributeByID(context.Background(), p.ID, c.ID)
	wantCode(t, err, apperr.CodeNotFound)
	entries := f.history(t, "custom_attribute", c.ID)
	if len(entries) != 2 {
		t.Fatalf("entries = %d", len(entries))
	}
	f.checkEntry(t, entries[0], p.ID, "delete", "custom_attribute", c.ID)
	if entries[0].AfterJSON != "" || !strings.Contains(entries[0].BeforeJSON, `"name":"badge"`) {
		t.Fatalf("entry = %+v", entries[0])
	}
	wantCode(t, f.schema.DeleteCustomAttribute(f.ctx, p.ID, c.ID), apperr.CodeNotFound)
	// The name is free again.
	f.mustCustom(t, p.ID, attr("Badge"))
}

func TestCustomAttributeOfAMissingProject(t *testing.T) {
	f := newFixture(t)
	_, err := f.schema.CreateCustomAttribute(f.ctx, 999, attr("badge"))
	wantCode(t, err, apperr.CodeNotFound)
	list, err := f.schema.FindCustomAttributes(context.Background(), 999)
	if err != nil || list == nil || len(list) != 0 {
		t.Fatalf("list = %#v, %v; want an empty list", list, err)
	}
}

func TestCustomAttributeInputFromJSON(t *testing.T) {
	var in schema.CustomAttributeInput
	if err := json.Unmarshal([]byte(`{"name":"badge","minLength":3,"maxLength":null,"enum":["a"]}`), &in); err != nil {
		t.Fatal(err)
	}
	if *in.Name != "badge" || !in.MinLength.Set || *in.MinLength.Value != 3 || !in.MaxLength.Set || in.MaxLength.Value != nil || in.Title != nil || len(*in.Enum) != 1 {
		t.Fatalf("decoded = %+v", in)
	}
	var absent schema.CustomAttributeInput
	if err := json.Unmarshal([]byte(`{}`), &absent); err != nil || absent.MinLength.Set || absent.MaxLength.Set {
		t.Fatalf("absent lengths = %+v, %v", absent, err)
	}
	if err := json.Unmarshal([]byte(`{"minLength":"three"}`), &absent); err == nil {
		t.Fatal("a string length was accepted")
	}
	b, _ := json.Marshal(struct{ A, B schema.OptionalInt }{schema.SetInt(4), schema.ClearInt()})
	if string(b) != `{"A":4,"B":null}` {
		t.Fatalf("encoded = %s", b)
	}
	// The stored attribute encodes lists as lists.
	f := newFixture(t)
	p := f.mustProject(t, "Acme")
	c := f.mustCustom(t, p.ID, attr("badge"))
	b, _ = json.Marshal(c)
	if !strings.Contains(string(b), `"enum":[]`) || strings.Contains(string(b), "EnumJSON") || strings.Contains(string(b), "nameKey") {
		t.Fatalf("JSON = %s", b)
	}
}
