package transform_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/mapping/transform"
)

func phoneDef(region string) string {
	if region == "" {
		return `[{"op":"phone_e164"}]`
	}
	return `[{"op":"phone_e164","defaultRegion":"` + region + `"}]`
}

func TestPhoneToE164InNationalAndInternationalNotation(t *testing.T) {
	type num struct{ region, in, want string }
	nums := []num{
		// Germany: trunk prefix 0, international prefix 00, "(0)" in international notation.
		{"DE", "030 1234567", "+49301234567"},
		{"DE", "(030) 123 456-7", "+49301234567"},
		{"DE", "030/1234567", "+49301234567"},
		{"DE", "0171 1234567", "+491711234567"},
		{"DE", "+49 30 1234567", "+49301234567"},
		{"DE", "+49 (0)30 1234567", "+49301234567"},
		{"DE", "+49-171-1234567", "+491711234567"},
		{"DE", "0049 30 1234567", "+49301234567"},
		{"DE", "tel:+49-30-1234567", "+49301234567"},
		// United States: trunk prefix 1, international prefix 011.
		{"US", "(415) 555-2671", "+14155552671"},
		{"US", "415.555.2671", "+14155552671"},
		{"US", "1-415-555-2671", "+14155552671"},
		{"US", "+1 415 555 2671", "+14155552671"},
		{"US", "011 49 30 1234567", "+49301234567"},
		// United Kingdom.
		{"GB", "020 7946 0958", "+442079460958"},
		{"GB", "07700 900123", "+447700900123"},
		{"GB", "+44 20 7946 0958", "+442079460958"},
		{"GB", "+44 (0)20 7946 0958", "+442079460958"},
		{"GB", "+44 07700 900123", "+447700900123"},
		{"GB", "0044 20 7946 0958", "+442079460958"},
		// France.
		{"FR", "01 23 45 67 89", "+33123456789"},
		{"FR", "06.12.34.56.78", "+33612345678"},
		{"FR", "+33 6 12 34 56 78", "+33612345678"},
		{"FR", "+33 (0)1 23 45 67 89", "+33123456789"},
		{"FR", "0033 1 23 45 67 89", "+33123456789"},
		// Netherlands.
		{"NL", "020 123 4567", "+31201234567"},
		{"NL", "06-12345678", "+31612345678"},
		{"NL", "+31 6 1234 5678", "+31612345678"},
		{"NL", "+31 (0)20 123 4567", "+31201234567"},
		// Switzerland.
		{"CH", "044 668 18 00", "+41446681800"},
		{"CH", "079 123 45 67", "+41791234567"},
		{"CH", "+41 44 668 18 00", "+41446681800"},
		{"CH", "0041 79 123 45 67", "+41791234567"},
		// India.
		{"IN", "98765 43210", "+919876543210"},
		{"IN", "098765 43210", "+919876543210"},
		{"IN", "011 2345 6789", "+911123456789"},
		{"IN", "+91 98765 43210", "+919876543210"},
		{"IN", "0091 98765 43210", "+919876543210"},
		// Italy keeps the leading 0 of its numbers.
		{"IT", "06 1234 5678", "+390612345678"},
		{"IT", "+39 06 1234 5678", "+390612345678"},
		// An international number does not need the default region.
		{"", "+49 30 1234567", "+49301234567"},
		{"", "0041 44 668 18 00", "+41446681800"},
		{"", "+1 (415) 555-2671", "+14155552671"},
		{"", "+86 10 1234 5678", "+861012345678"},
		{"", "+352 12 34 56", "+352123456"},
		{"DE", "", ""},
		{"DE", "  +49 30 1234567\u00a0", "+49301234567"},
		{"DE", "０３０ １２３４５６７", "+49301234567"},
	}
	var cases []applyCase
	for _, n := range nums {
		cases = append(cases, applyCase{name: n.region + " " + n.in, def: phoneDef(n.region), in: n.in, want: n.want})
	}
	runApplyCases(t, cases)
}

func TestPhoneRefusesNumbersThatCannotBeE164(t *testing.T) {
	runApplyCases(t, []applyCase{
		{name: "more than 15 digits", def: phoneDef("DE"), in: "+49 30 1234567890123", wantErr: "has 17 digits with its country code, more than the 15 that E.164 allows"},
		{name: "far too many digits", def: phoneDef("DE"), in: "030 1234 5678 9012 3456 7890", wantErr: "more than a phone number can have"},
		{name: "too short for Germany", def: phoneDef("DE"), in: "030 12", wantErr: "has 4 digits after the country code +49, where numbers have 6 to 13"},
		{name: "too short for the US", def: phoneDef("US"), in: "555-2671", wantErr: "has 7 digits after the country code +1, where numbers have 10"},
		{name: "too long for France", def: phoneDef("FR"), in: "01 23 45 67 89 0", wantErr: "where numbers have 9"},
		{name: "US area code starting with 0", def: phoneDef("US"), in: "(015) 555-2671", wantErr: "area code and exchange must not start with 0 or 1"},
		{name: "no country code and no region", def: phoneDef(""), in: "030 1234567", wantErr: "has no country code (+…) and the step has no default region"},
		{name: "unknown calling code", def: phoneDef("DE"), in: "+999 1234567", wantErr: "does not start with a known country calling code"},
		{name: "letters", def: phoneDef("DE"), in: "030-CALL-NOW", wantErr: "contains letters"},
		{name: "extension", def: phoneDef("DE"), in: "030 1234567 ext. 12", wantErr: "has an extension"},
		{name: "extension with x", def: phoneDef("US"), in: "415-555-2671 x12", wantErr: "has an extension"},
		{name: "no digits", def: phoneDef("DE"), in: "+", wantErr: "has no digits"},
		{name: "punctuation only", def: phoneDef("DE"), in: "-- / --", wantErr: "has no digits"},
		{name: "other symbols", def: phoneDef("DE"), in: "030*1234567", wantErr: "contains characters that are not part of a phone number"},
	})
}

func TestPhoneTablesAreConsistent(t *testing.T) {
	codes := transform.CallingCodes()
	if !sort.StringsAreSorted(codes) {
		t.Fatal("calling codes are not sorted")
	}
	for i, a := range codes {
		for _, b := range codes[i+1:] {
			if strings.HasPrefix(b, a) || strings.HasPrefix(a, b) {
				t.Errorf("calling code %s is a prefix of %s", a, b)
			}
		}
	}
	regions := transform.PhoneRegions()
	if !sort.StringsAreSorted(regions) {
		t.Fatal("phone regions are not sorted")
	}
	for _, r := range regions {
		p := mustParse(t, phoneDef(r))
		// Every region's international prefix leads to a number abroad.
		if _, err := p.Apply(transform.MapRecord{"f": "+49 30 1234567"}, "f"); err != nil {
			t.Errorf("%s: %v", r, err)
		}
	}
}
