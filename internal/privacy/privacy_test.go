package privacy_test

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/privacy"
)

func TestRegisterHoldsTheFieldsConfirmedAsPII(t *testing.T) {
	f := newFixture(t)
	mail := f.mustPII(t, "mail", "contact")
	upn := f.mustPII(t, "userPrincipalName", "identifier")
	f.mustField(t, "department", mapping.FieldInput{PII: ptr(mapping.PIINo)})
	// Suggested from its name, nobody has confirmed or denied it.
	phone := f.mustField(t, "telephoneNumber", mapping.FieldInput{})
	// Denied: a suggestion no longer counts.
	f.mustField(t, "mobile", mapping.FieldInput{PII: ptr(mapping.PIINo)})
	// Neither suggested nor confirmed.
	f.mustField(t, "extensionAttribute9", mapping.FieldInput{})
	f.mustRow(t, mail.ID, "email", mapping.RowInput{})
	f.mustRow(t, upn.ID, "login", mapping.RowInput{Transform: ptr(`[{"op":"lower"}]`)})
	f.mustRow(t, upn.ID, "", mapping.RowInput{Status: ptr(mapping.StatusIgnored)})

	reg := f.register(t)
	var got []string
	for _, e := range reg.Entries {
		got = append(got, e.SourceName+"."+e.Field.Name+" → "+strings.Join(e.Targets, "; ")+" ["+e.Status+"]")
		if !e.Open() || e.Review != nil {
			t.Errorf("%s: open %v review %v", e.Field.Name, e.Open(), e.Review)
		}
	}
	want := []string{
		"AD.mail → email [pending]",
		`AD.userPrincipalName → (not migrated); login via [{"op":"lower"}] [pending]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries\n got %q\nwant %q", got, want)
	}
	if len(reg.Unconfirmed) != 1 || reg.Unconfirmed[0].ID != phone.ID {
		t.Errorf("unconfirmed %+v, want telephoneNumber", reg.Unconfirmed)
	}
	if reg.Pending != 2 || reg.Approved != 0 || reg.SignedOff || reg.SignOff != nil {
		t.Errorf("pending %d approved %d signed off %v %+v", reg.Pending, reg.Approved, reg.SignedOff, reg.SignOff)
	}
	if _, ok := reg.Entry(phone.ID); ok {
		t.Errorf("an unconfirmed field is in the register")
	}

	t.Run("another project's fields are not in it", func(t *testing.T) {
		other := f.mustProject(t, "Other")
		reg, err := f.privacy.LoadRegister(f.ctx, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(reg.Entries) != 0 || len(reg.Unconfirmed) != 0 {
			t.Errorf("register of another project: %+v", reg)
		}
	})
}

func TestDecideRecordsWhoDecidedAndWhen(t *testing.T) {
	f := newFixture(t)
	mail := f.mustPII(t, "mail", "contact")
	f.clock.Advance(time.Hour)
	r, err := f.privacy.Decide(f.asReviewer, f.project.ID, mail.ID, 0, privacy.DecisionInput{
		Status: " approved ", Decision: "transform", TransformMethod: "masked", LawfulBasis: "contract",
		RetentionNote: " 6 years after leaving ", Comment: " keep the domain ",
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != privacy.StatusApproved || r.Decision != privacy.DecisionTransform || r.TransformMethod != "masked" || r.LawfulBasis != "contract" ||
		r.RetentionNote != "6 years after leaving" || r.Comment != "keep the domain" || r.Version != 1 {
		t.Errorf("review %+v", r)
	}
	if r.DecidedByID == nil || *r.DecidedByID != f.reviewer.ID || r.DecidedByName != "Rita Reviewer" || r.DecidedAt == nil || !r.DecidedAt.Equal(f.clock.Now()) {
		t.Errorf("decided by %v %q at %v", r.DecidedByID, r.DecidedByName, r.DecidedAt)
	}
	h := f.history(t, "pii_review", r.ID)
	if len(h) != 1 || h[0].Action != "create" || h[0].EntityLabel != "AD.mail" || h[0].ActorName != "Rita Reviewer" || h[0].RequestID != "req-2" {
		t.Fatalf("audit %+v", h)
	}

	// A second decision updates the review; a method goes with transform only.
	r2, err := f.privacy.Decide(f.asReviewer, f.project.ID, mail.ID, r.Version, privacy.DecisionInput{
		Status: privacy.StatusApproved, Decision: privacy.DecisionMigrate, TransformMethod: "hashed", LawfulBasis: "legitimate_interests",
	})
	if err != nil {
		t.Fatal(err)
	}
	if r2.ID != r.ID || r2.Version != 2 || r2.TransformMethod != "" || r2.Decision != privacy.DecisionMigrate || r2.RetentionNote != "" {
		t.Errorf("second decision %+v", r2)
	}
	h = f.history(t, "pii_review", r.ID)
	if len(h) != 2 || h[0].Action != "update" {
		t.Fatalf("audit %+v", h)
	}
	d := map[string]string{}
	for _, x := range h[0].Diff() {
		d[x.Field] = x.Before + " → " + x.After
	}
	if d["decision"] != "transform → migrate" || d["lawfulBasis"] != "contract → legitimate_interests" {
		t.Errorf("audit diff %v", d)
	}
}

func TestDecideRefusesBadDecisions(t *testing.T) {
	tests := []struct {
		name       string
		in         privacy.DecisionInput
		field, msg string
	}{
		{"approval without a decision", privacy.DecisionInput{Status: "approved", LawfulBasis: "contract"}, "decision", "Choose a decision"},
		{"approval to migrate without a lawful basis", privacy.DecisionInput{Status: "approved", Decision: "migrate"}, "lawful_basis", "lawful basis"},
		{"approval to transform without a lawful basis", privacy.DecisionInput{Status: "approved", Decision: "transform", TransformMethod: "hashed"}, "lawful_basis", "lawful basis"},
		{"transform without a method", privacy.DecisionInput{Status: "approved", Decision: "transform", LawfulBasis: "contract"}, "transform_method", "masked, hashed or truncated"},
		{"transform without a method, even pending", privacy.DecisionInput{Status: "pending", Decision: "transform"}, "transform_method", "masked, hashed or truncated"},
		{"changes requested without a comment", privacy.DecisionInput{Status: "changes_requested"}, "comment", "Say what must change"},
		{"changes requested with a blank comment", privacy.DecisionInput{Status: "changes_requested", Comment: "   "}, "comment", "Say what must change"},
		{"no status", privacy.DecisionInput{Decision: "migrate"}, "status", "must be one of"},
		{"the derived status changed", privacy.DecisionInput{Status: "changed"}, "status", "must be one of"},
		{"unknown decision", privacy.DecisionInput{Status: "pending", Decision: "publish"}, "decision", "must be one of"},
		{"unknown method", privacy.DecisionInput{Status: "pending", Decision: "transform", TransformMethod: "rot13"}, "transform_method", "must be one of"},
		{"unknown lawful basis", privacy.DecisionInput{Status: "approved", Decision: "migrate", LawfulBasis: "because"}, "lawful_basis", "must be one of"},
		{"overlong retention note", privacy.DecisionInput{Status: "pending", RetentionNote: strings.Repeat("r", apperr.MaxShortLen+1)}, "retention_note", "too long"},
		{"overlong comment", privacy.DecisionInput{Status: "pending", Comment: strings.Repeat("c", apperr.MaxTextLen+1)}, "comment", "too long"},
		{"comment with control characters", privacy.DecisionInput{Status: "pending", Comment: "ok\x1b[31m"}, "comment", "control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			mail := f.mustPII(t, "mail", "contact")
			before := f.written(t)
			_, err := f.privacy.Decide(f.asReviewer, f.project.ID, mail.ID, 0, tt.in)
			wantField(t, err, tt.field, tt.msg)
			f.wantNothingWritten(t, before)
		})
	}
}

func TestDecideAcceptsValidDecisions(t *testing.T) {
	tests := []struct {
		name string
		in   privacy.DecisionInput
	}{
		{"pending without anything", privacy.DecisionInput{Status: "pending"}},
		{"approval to drop needs no lawful basis", privacy.DecisionInput{Status: "approved", Decision: "drop"}},
		{"approval to migrate with a basis", privacy.DecisionInput{Status: "approved", Decision: "migrate", LawfulBasis: "consent"}},
		{"approval to transform with a method and a basis", privacy.DecisionInput{Status: "approved", Decision: "transform", TransformMethod: "truncated", LawfulBasis: "legal_obligation"}},
		{"changes requested with a comment", privacy.DecisionInput{Status: "changes_requested", Comment: "Mask it first."}},
		{"a draft decision while pending", privacy.DecisionInput{Status: "pending", Decision: "migrate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			mail := f.mustPII(t, "mail", "contact")
			r, err := f.privacy.Decide(f.asReviewer, f.project.ID, mail.ID, 0, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			e := f.entry(t, mail.ID)
			if e.Status != tt.in.Status || e.Review == nil || e.Review.ID != r.ID {
				t.Errorf("entry status %s review %+v", e.Status, e.Review)
			}
		})
	}
}

func TestDecideOnAFieldOutsideTheRegisterIsNotFound(t *testing.T) {
	f := newFixture(t)
	notPII := f.mustField(t, "department", mapping.FieldInput{PII: ptr(mapping.PIINo)})
	suggested := f.mustField(t, "telephoneNumber", mapping.FieldInput{})
	other := f.mustProject(t, "Other")
	theirSource := f.mustSource(t, other.ID, "HR")
	theirs, err := f.mapping.CreateField(f.ctx, other.ID, theirSource.ID, mapping.FieldInput{Name: ptr("ssn"), PII: ptr(mapping.PIIYes), PIICategory: ptr("government_id")})
	if err != nil {
		t.Fatal(err)
	}
	ok := privacy.DecisionInput{Status: "approved", Decision: "migrate", LawfulBasis: "contract"}
	before := f.written(t)
	for _, id := range []int64{notPII.ID, suggested.ID, theirs.ID, 999999} {
		_, err := f.privacy.Decide(f.asReviewer, f.project.ID, id, 0, ok)
		wantCode(t, err, apperr.CodeNotFound)
	}
	f.wantNothingWritten(t, before)
}

func TestDecideRefusesAStaleVersion(t *testing.T) {
	f := newFixture(t)
	mail := f.mustPII(t, "mail", "contact")
	ok := privacy.DecisionInput{Status: "approved", Decision: "migrate", LawfulBasis: "contract"}
	before := f.written(t)
	_, err := f.privacy.Decide(f.asReviewer, f.project.ID, mail.ID, 3, ok)
	wantCode(t, err, apperr.CodeConflict)
	f.wantNothingWritten(t, before)

	r, err := f.privacy.Decide(f.asReviewer, f.project.ID, mail.ID, 0, privacy.DecisionInput{Status: "pending"})
	if err != nil {
		t.Fatal(err)
	}
	for _, stale := range []int64{0, r.Version + 1} {
		before := f.written(t)
		_, err := f.privacy.Decide(f.asReviewer, f.project.ID, mail.ID, stale, ok)
		e := wantCode(t, err, apperr.CodeConflict)
		if !strings.Contains(e.Message, "Someone else saved this decision") {
			t.Errorf("message %q", e.Message)
		}
		f.wantNothingWritten(t, before)
	}
	if e := f.entry(t, mail.ID); e.Status != privacy.StatusPending || e.Review.Version != 1 {
		t.Errorf("entry %+v", e)
	}
}

func TestConcurrentFirstDecisionsLetExactlyOneWin(t *testing.T) {
	f := newFixture(t)
	mail := f.mustPII(t, "mail", "contact")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			_, errs[i] = f.privacy.Decide(f.asReviewer, f.project.ID, mail.ID, 0, privacy.DecisionInput{Status: "pending", Comment: strings.Repeat("x", i+1)})
		})
	}
	close(start)
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case apperr.Is(err, apperr.CodeConflict):
		default:
			t.Errorf("reviewer %d: %v", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d decisions won, want 1", wins)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM pii_reviews"); n != 1 {
		t.Errorf("%d reviews", n)
	}
}

func TestAnApprovalReopensWhenTheFieldOrItsMappingChanges(t *testing.T) {
	tests := []struct {
		name string
		// change changes the approved field mail (mapped to email).
		change func(t *testing.T, f *fixture, mail *mapping.SourceField, row *mapping.Row)
		// what is the change listed, as "What: approved → now"; "" when the approval holds.
		what string
	}{
		{"renaming the field", func(t *testing.T, f *fixture, mail *mapping.SourceField, _ *mapping.Row) {
			if _, err := f.mapping.UpdateField(f.ctx, f.project.ID, mail.ID, f.field(t, mail.ID).Version, mapping.FieldInput{Name: ptr("primaryMail")}); err != nil {
				t.Fatal(err)
			}
		}, "Field name: mail → primaryMail"},
		{"changing its category", func(t *testing.T, f *fixture, mail *mapping.SourceField, _ *mapping.Row) {
			if _, err := f.mapping.UpdateField(f.ctx, f.project.ID, mail.ID, f.field(t, mail.ID).Version, mapping.FieldInput{PIICategory: ptr("identifier")}); err != nil {
				t.Fatal(err)
			}
		}, "Category: Contact (email, phone, address) → Identifier (name, login, employee number)"},
		{"changing its data type", func(t *testing.T, f *fixture, mail *mapping.SourceField, _ *mapping.Row) {
			if _, err := f.mapping.UpdateField(f.ctx, f.project.ID, mail.ID, f.field(t, mail.ID).Version, mapping.FieldInput{DataType: ptr("binary")}); err != nil {
				t.Fatal(err)
			}
		}, "Data type: string → binary"},
		{"renaming its source", func(t *testing.T, f *fixture, _ *mapping.SourceField, _ *mapping.Row) {
			src, err := f.plan.FindSourceByID(f.ctx, f.project.ID, f.ad.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.plan.UpdateSource(f.ctx, f.project.ID, src.ID, src.Version, planSourceName("Entra ID")); err != nil {
				t.Fatal(err)
			}
		}, "Source: AD → Entra ID"},
		{"mapping it to another attribute", func(t *testing.T, f *fixture, _ *mapping.SourceField, row *mapping.Row) {
			if _, err := f.mapping.UpdateRow(f.ctx, f.project.ID, row.ID, row.Version, mapping.RowInput{TargetAttribute: ptr("secondEmail")}); err != nil {
				t.Fatal(err)
			}
		}, "Mapped to: email → secondEmail"},
		{"adding a transformation", func(t *testing.T, f *fixture, _ *mapping.SourceField, row *mapping.Row) {
			if _, err := f.mapping.UpdateRow(f.ctx, f.project.ID, row.ID, row.Version, mapping.RowInput{Transform: ptr(`[{"op":"lower"}]`)}); err != nil {
				t.Fatal(err)
			}
		}, `Mapped to: email → email via [{"op":"lower"}]`},
		{"mapping it to a second attribute", func(t *testing.T, f *fixture, mail *mapping.SourceField, _ *mapping.Row) {
			f.mustRow(t, mail.ID, "login", mapping.RowInput{Priority: ptr(1)})
		}, "Mapped to: email → email; login"},
		{"removing its mapping", func(t *testing.T, f *fixture, _ *mapping.SourceField, row *mapping.Row) {
			if err := f.mapping.DeleteRow(f.ctx, f.project.ID, row.ID); err != nil {
				t.Fatal(err)
			}
		}, "Mapped to: email → "},
		{"marking it as not migrated", func(t *testing.T, f *fixture, _ *mapping.SourceField, row *mapping.Row) {
			if _, err := f.mapping.UpdateRow(f.ctx, f.project.ID, row.ID, row.Version, mapping.RowInput{Status: ptr(mapping.StatusIgnored)}); err != nil {
				t.Fatal(err)
			}
		}, "Mapped to: email → (not migrated)"},
		{"editing notes, samples or length keeps the approval", func(t *testing.T, f *fixture, mail *mapping.SourceField, row *mapping.Row) {
			if _, err := f.mapping.UpdateField(f.ctx, f.project.ID, mail.ID, f.field(t, mail.ID).Version, mapping.FieldInput{
				Notes: ptr("n"), Samples: &[]string{"a@example.com"}, MaxLength: ptrLen(64), KnownUnique: ptr(true)}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.mapping.UpdateRow(f.ctx, f.project.ID, row.ID, row.Version, mapping.RowInput{Notes: ptr("n"), Priority: ptr(2)}); err != nil {
				t.Fatal(err)
			}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			mail := f.mustPII(t, "mail", "contact")
			row := f.mustRow(t, mail.ID, "email", mapping.RowInput{})
			f.approve(t, mail.ID, privacy.DecisionInput{})
			f.signOff(t)
			tt.change(t, f, mail, row)

			e := f.entry(t, mail.ID)
			reg := f.register(t)
			if tt.what == "" {
				if e.Status != privacy.StatusApproved || len(e.Changes) != 0 || !reg.SignedOff {
					t.Fatalf("status %s changes %+v signed off %v; want the approval to hold", e.Status, e.Changes, reg.SignedOff)
				}
				return
			}
			if e.Status != privacy.StatusChanged || !e.Open() {
				t.Fatalf("status %s, want changed", e.Status)
			}
			var got []string
			for _, c := range e.Changes {
				got = append(got, c.What+": "+c.Approved+" → "+c.Now)
			}
			if len(got) != 1 || got[0] != tt.what {
				t.Errorf("changes %q, want %q", got, tt.what)
			}
			if reg.Pending != 1 || reg.Approved != 0 || reg.SignedOff {
				t.Errorf("pending %d approved %d signed off %v", reg.Pending, reg.Approved, reg.SignedOff)
			}
			// The review itself still says approved: the reopening is derived.
			if e.Review.Status != privacy.StatusApproved {
				t.Errorf("stored review status %s", e.Review.Status)
			}

			// Approving again closes it, and the register can be signed off again.
			f.approve(t, mail.ID, privacy.DecisionInput{})
			if e := f.entry(t, mail.ID); e.Status != privacy.StatusApproved || len(e.Changes) != 0 {
				t.Errorf("after approving again: %s %+v", e.Status, e.Changes)
			}
			f.signOff(t)
			if g := f.gate(t); !g.Open {
				t.Errorf("gate closed: %q", g.Reasons)
			}
		})
	}
}

func TestSignOff(t *testing.T) {
	f := newFixture(t)

	t.Run("refused while nothing is marked as personal data", func(t *testing.T) {
		before := f.written(t)
		_, err := f.privacy.SignOffRegister(f.asReviewer, f.project.ID)
		e := wantCode(t, err, apperr.CodeInvalid)
		if !strings.Contains(e.Message, "no personal data") {
			t.Errorf("message %q", e.Message)
		}
		f.wantNothingWritten(t, before)
	})

	mail := f.mustPII(t, "mail", "contact")
	ssn := f.mustPII(t, "ssn", "government_id")
	f.mustRow(t, mail.ID, "email", mapping.RowInput{})

	t.Run("refused while a decision is pending", func(t *testing.T) {
		f.approve(t, mail.ID, privacy.DecisionInput{})
		if _, err := f.privacy.Decide(f.asReviewer, f.project.ID, ssn.ID, 0, privacy.DecisionInput{Status: "changes_requested", Comment: "Why do we need this?"}); err != nil {
			t.Fatal(err)
		}
		before := f.written(t)
		_, err := f.privacy.SignOffRegister(f.asReviewer, f.project.ID)
		e := wantCode(t, err, apperr.CodeInvalid)
		if !strings.Contains(e.Message, "1 personal-data field(s) still need an approved decision") {
			t.Errorf("message %q", e.Message)
		}
		f.wantNothingWritten(t, before)
	})

	f.approve(t, ssn.ID, privacy.DecisionInput{Decision: privacy.DecisionDrop})
	f.clock.Advance(time.Hour)
	so := f.signOff(t)
	t.Run("records who signed, when, and how many fields", func(t *testing.T) {
		if so.SignedByID == nil || *so.SignedByID != f.reviewer.ID || so.SignedByName != "Rita Reviewer" || !so.SignedAt.Equal(f.clock.Now()) ||
			so.FieldCount != 2 || so.RevokedAt != nil {
			t.Errorf("sign-off %+v", so)
		}
		reg := f.register(t)
		if !reg.SignedOff || reg.SignOff == nil || reg.SignOff.ID != so.ID || reg.Pending != 0 || reg.Approved != 2 {
			t.Errorf("register signed off %v %+v pending %d approved %d", reg.SignedOff, reg.SignOff, reg.Pending, reg.Approved)
		}
		h := f.history(t, "pii_signoff", so.ID)
		if len(h) != 1 || h[0].Action != "create" || h[0].ActorName != "Rita Reviewer" || h[0].EntityLabel != "PII register (2 fields)" {
			t.Errorf("audit %+v", h)
		}
		if strings.Contains(h[0].AfterJSON, so.RegisterHash) {
			t.Errorf("the audit entry holds the register hash")
		}
	})

	t.Run("refused when already signed off as it is", func(t *testing.T) {
		before := f.written(t)
		_, err := f.privacy.SignOffRegister(f.asReviewer, f.project.ID)
		e := wantCode(t, err, apperr.CodeInvalid)
		if !strings.Contains(e.Message, "already signed off") {
			t.Errorf("message %q", e.Message)
		}
		f.wantNothingWritten(t, before)
	})
}

func TestASignOffIsInvalidatedByLaterChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, f *fixture, mail *mapping.SourceField)
		// pending is how many entries the change reopens.
		pending int
	}{
		{"a new field confirmed as PII", func(t *testing.T, f *fixture, _ *mapping.SourceField) {
			f.mustPII(t, "birthDate", "demographic")
		}, 1},
		{"a field confirmed as PII later", func(t *testing.T, f *fixture, _ *mapping.SourceField) {
			dept := f.mustField(t, "department", mapping.FieldInput{})
			if _, err := f.mapping.UpdateField(f.ctx, f.project.ID, dept.ID, dept.Version, mapping.FieldInput{PII: ptr(mapping.PIIYes), PIICategory: ptr("other")}); err != nil {
				t.Fatal(err)
			}
		}, 1},
		{"an approved field no longer marked as PII", func(t *testing.T, f *fixture, mail *mapping.SourceField) {
			if _, err := f.mapping.UpdateField(f.ctx, f.project.ID, mail.ID, f.field(t, mail.ID).Version, mapping.FieldInput{PII: ptr(mapping.PIINo)}); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"an approved field deleted", func(t *testing.T, f *fixture, mail *mapping.SourceField) {
			if err := f.mapping.DeleteField(f.ctx, f.project.ID, mail.ID); err != nil {
				t.Fatal(err)
			}
		}, 0},
		{"a decision changed and approved again", func(t *testing.T, f *fixture, mail *mapping.SourceField) {
			f.approve(t, mail.ID, privacy.DecisionInput{Decision: privacy.DecisionTransform, TransformMethod: "hashed"})
		}, 0},
		{"a lawful basis changed and approved again", func(t *testing.T, f *fixture, mail *mapping.SourceField) {
			f.approve(t, mail.ID, privacy.DecisionInput{LawfulBasis: "consent"})
		}, 0},
		{"an approval taken back to pending", func(t *testing.T, f *fixture, mail *mapping.SourceField) {
			if _, err := f.privacy.Decide(f.asReviewer, f.project.ID, mail.ID, f.entry(t, mail.ID).Review.Version, privacy.DecisionInput{Status: "pending"}); err != nil {
				t.Fatal(err)
			}
		}, 1},
		{"the field renamed", func(t *testing.T, f *fixture, mail *mapping.SourceField) {
			if _, err := f.mapping.UpdateField(f.ctx, f.project.ID, mail.ID, f.field(t, mail.ID).Version, mapping.FieldInput{Name: ptr("email")}); err != nil {
				t.Fatal(err)
			}
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			mail := f.mustPII(t, "mail", "contact")
			upn := f.mustPII(t, "userPrincipalName", "identifier")
			f.approve(t, mail.ID, privacy.DecisionInput{})
			f.approve(t, upn.ID, privacy.DecisionInput{})
			f.signOff(t)
			if g := f.gate(t); !g.Open {
				t.Fatalf("gate closed after sign-off: %q", g.Reasons)
			}
			tt.change(t, f, mail)
			reg := f.register(t)
			if reg.SignedOff || reg.Pending != tt.pending {
				t.Fatalf("signed off %v pending %d; want false, %d", reg.SignedOff, reg.Pending, tt.pending)
			}
			g := f.gate(t)
			if g.Open {
				t.Fatal("gate open after a change")
			}
			if tt.pending == 0 && !containsText(g.Reasons, "changed since it was signed off") {
				t.Errorf("reasons %q", g.Reasons)
			}
			if tt.pending > 0 {
				// Once everything is approved again, a new sign-off opens the gate.
				for _, e := range reg.Entries {
					if e.Open() {
						f.approve(t, e.Field.ID, privacy.DecisionInput{})
					}
				}
			}
			if tt.name == "an approval taken back to pending" {
				// Approved again exactly as signed off: the sign-off covers it again.
				if reg := f.register(t); !reg.SignedOff {
					t.Errorf("the register approved again as it was signed off is not signed off")
				}
			} else {
				f.signOff(t)
			}
			if g := f.gate(t); !g.Open {
				t.Errorf("gate closed after signing off again: %q", g.Reasons)
			}
		})
	}
}

func containsText(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestLoadGate(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, f *fixture)
		open    bool
		reasons []string
	}{
		{"nothing marked as PII is not signed off", func(t *testing.T, f *fixture) {},
			false, []string{"The PII register is not signed off by a legal reviewer."}},
		{"a field that looks like PII and nobody confirmed", func(t *testing.T, f *fixture) {
			f.approve(t, f.mustPII(t, "mail", "contact").ID, privacy.DecisionInput{})
			f.signOff(t)
			f.mustField(t, "birthDate", mapping.FieldInput{})
		}, false, []string{"1 field(s) look like personal data and nobody has confirmed whether they are."}},
		{"a field denied as PII is not unconfirmed", func(t *testing.T, f *fixture) {
			f.approve(t, f.mustPII(t, "mail", "contact").ID, privacy.DecisionInput{})
			f.mustField(t, "birthDate", mapping.FieldInput{PII: ptr(mapping.PIINo)})
			f.signOff(t)
		}, true, nil},
		{"decisions pending", func(t *testing.T, f *fixture) {
			f.mustPII(t, "mail", "contact")
			f.mustPII(t, "ssn", "government_id")
		}, false, []string{
			"2 personal-data field(s) have no approved legal decision.",
			"The PII register is not signed off by a legal reviewer.",
		}},
		{"changes requested", func(t *testing.T, f *fixture) {
			mail := f.mustPII(t, "mail", "contact")
			if _, err := f.privacy.Decide(f.asReviewer, f.project.ID, mail.ID, 0, privacy.DecisionInput{Status: "changes_requested", Comment: "Hash it."}); err != nil {
				t.Fatal(err)
			}
		}, false, []string{
			"1 personal-data field(s) have no approved legal decision.",
			"The PII register is not signed off by a legal reviewer.",
		}},
		{"all approved, not signed off", func(t *testing.T, f *fixture) {
			f.approve(t, f.mustPII(t, "mail", "contact").ID, privacy.DecisionInput{})
		}, false, []string{"The PII register is not signed off by a legal reviewer."}},
		{"signed off", func(t *testing.T, f *fixture) {
			f.approve(t, f.mustPII(t, "mail", "contact").ID, privacy.DecisionInput{})
			f.approve(t, f.mustPII(t, "ssn", "government_id").ID, privacy.DecisionInput{Decision: privacy.DecisionDrop})
			f.signOff(t)
		}, true, nil},
		{"signed off, then a decision changed", func(t *testing.T, f *fixture) {
			mail := f.mustPII(t, "mail", "contact")
			f.approve(t, mail.ID, privacy.DecisionInput{})
			f.signOff(t)
			f.approve(t, mail.ID, privacy.DecisionInput{Decision: privacy.DecisionDrop})
		}, false, []string{"The PII register changed since it was signed off: a legal reviewer must sign it off again."}},
		{"signed off, then a field changed", func(t *testing.T, f *fixture) {
			mail := f.mustPII(t, "mail", "contact")
			f.approve(t, mail.ID, privacy.DecisionInput{})
			f.signOff(t)
			f.mustRow(t, mail.ID, "email", mapping.RowInput{})
		}, false, []string{
			"1 personal-data field(s) have no approved legal decision.",
			"The PII register is not signed off by a legal reviewer.",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(t, f)
			g := f.gate(t)
			if g.Open != tt.open || !reflect.DeepEqual(g.Reasons, tt.reasons) {
				t.Errorf("gate open %v reasons %q; want %v %q", g.Open, g.Reasons, tt.open, tt.reasons)
			}
			// Ferry's own sandbox is always open.
			sb, err := f.privacy.LoadGate(f.ctx, f.project.ID, true)
			if err != nil || !sb.Open || len(sb.Reasons) != 0 {
				t.Errorf("sandbox gate %+v, %v", sb, err)
			}
		})
	}
}

func TestLoadGateOfAnotherProjectIsItsOwn(t *testing.T) {
	f := newFixture(t)
	f.approve(t, f.mustPII(t, "mail", "contact").ID, privacy.DecisionInput{})
	f.signOff(t)
	other := f.mustProject(t, "Other")
	g, err := f.privacy.LoadGate(f.ctx, other.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if g.Open {
		t.Errorf("another project's sign-off opened this gate")
	}
}

func TestDroppedFields(t *testing.T) {
	f := newFixture(t)
	mail := f.mustPII(t, "mail", "contact")
	ssn := f.mustPII(t, "ssn", "government_id")
	religion := f.mustPII(t, "religion", "special")
	f.approve(t, mail.ID, privacy.DecisionInput{})
	f.approve(t, ssn.ID, privacy.DecisionInput{Decision: privacy.DecisionDrop})
	f.approve(t, religion.ID, privacy.DecisionInput{Decision: privacy.DecisionDrop})
	// Another project's drop decision is not this project's.
	other := f.mustProject(t, "Other")
	src := f.mustSource(t, other.ID, "HR")
	theirs, err := f.mapping.CreateField(f.ctx, other.ID, src.ID, mapping.FieldInput{Name: ptr("iban"), PII: ptr(mapping.PIIYes), PIICategory: ptr("financial")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.privacy.Decide(f.asReviewer, other.ID, theirs.ID, 0, privacy.DecisionInput{Status: "approved", Decision: "drop"}); err != nil {
		t.Fatal(err)
	}

	dropped, err := f.privacy.DroppedFields(f.ctx, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int64]bool{ssn.ID: true, religion.ID: true}; !reflect.DeepEqual(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}

	// A reviewer who changes their mind brings the field back.
	f.approve(t, religion.ID, privacy.DecisionInput{Decision: privacy.DecisionTransform, TransformMethod: "hashed"})
	dropped, _ = f.privacy.DroppedFields(f.ctx, f.project.ID)
	if want := map[int64]bool{ssn.ID: true}; !reflect.DeepEqual(dropped, want) {
		t.Errorf("dropped %v, want %v", dropped, want)
	}

	// A drop decision holds while the field changes: nothing leaks meanwhile.
	if _, err := f.mapping.UpdateField(f.ctx, f.project.ID, ssn.ID, f.field(t, ssn.ID).Version, mapping.FieldInput{Name: ptr("national_id")}); err != nil {
		t.Fatal(err)
	}
	dropped, _ = f.privacy.DroppedFields(f.ctx, f.project.ID)
	if !dropped[ssn.ID] {
		t.Errorf("a renamed dropped field is sent again: %v", dropped)
	}
}

func TestProblems(t *testing.T) {
	f := newFixture(t)
	pending := f.mustPII(t, "mail", "contact")
	requested := f.mustPII(t, "mobile", "contact")
	approved := f.mustPII(t, "givenName", "identifier")
	droppedMapped := f.mustPII(t, "ssn", "government_id")
	droppedIgnored := f.mustPII(t, "religion", "special")
	changed := f.mustPII(t, "sn", "identifier")
	unconfirmed := f.mustField(t, "birthDate", mapping.FieldInput{})

	f.mustRow(t, approved.ID, "firstName", mapping.RowInput{})
	f.mustRow(t, droppedMapped.ID, "employeeNumber", mapping.RowInput{})
	f.mustRow(t, droppedIgnored.ID, "", mapping.RowInput{Status: ptr(mapping.StatusIgnored)})
	if _, err := f.privacy.Decide(f.asReviewer, f.project.ID, requested.ID, 0, privacy.DecisionInput{Status: "changes_requested", Comment: "Why?"}); err != nil {
		t.Fatal(err)
	}
	f.approve(t, approved.ID, privacy.DecisionInput{})
	f.approve(t, droppedMapped.ID, privacy.DecisionInput{Decision: privacy.DecisionDrop})
	f.approve(t, droppedIgnored.ID, privacy.DecisionInput{Decision: privacy.DecisionDrop})
	f.approve(t, changed.ID, privacy.DecisionInput{})
	f.mustRow(t, changed.ID, "lastName", mapping.RowInput{})

	problems, err := f.privacy.Problems(f.ctx, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for _, p := range problems {
		if p.Message == "" {
			t.Errorf("problem %+v has no message", p)
		}
		if _, dup := got[p.FieldID]; dup {
			t.Errorf("two problems for field %d", p.FieldID)
		}
		got[p.FieldID] = p.Code + "/" + p.Severity
	}
	want := map[int64]string{
		pending.ID:       mapping.ProblemPIIUndecided + "/" + mapping.SeverityBlocking,
		requested.ID:     mapping.ProblemPIIUndecided + "/" + mapping.SeverityBlocking,
		changed.ID:       mapping.ProblemPIIUndecided + "/" + mapping.SeverityBlocking,
		droppedMapped.ID: "pii_dropped/" + mapping.SeverityWarning,
		unconfirmed.ID:   "pii_unconfirmed/" + mapping.SeverityWarning,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems %v\nwant %v", got, want)
	}
	for _, p := range problems {
		switch p.FieldID {
		case changed.ID:
			if !strings.Contains(p.Message, "changed since") {
				t.Errorf("changed: %q", p.Message)
			}
		case unconfirmed.ID:
			if !strings.Contains(p.Message, "Demographic") {
				t.Errorf("unconfirmed: %q does not name the suggested category", p.Message)
			}
		}
	}
}
