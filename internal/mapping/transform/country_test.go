package transform_test

import (
	"sort"
	"testing"

	"github.com/ferry-migrate/ferry/internal/mapping/transform"
)

const countryDef = `[{"op":"country_alpha2"}]`

func TestCountryNamesAndCodesToAlpha2(t *testing.T) {
	pairs := []struct{ in, want string }{
		{"Germany", "DE"}, {"germany", "DE"}, {"  GERMANY ", "DE"}, {"Deutschland", "DE"}, {"DEU", "DE"},
		{"deu", "DE"}, {"DE", "DE"}, {"de", "DE"}, {"276", "DE"}, {"Allemagne", "DE"},
		{"United States", "US"}, {"USA", "US"}, {"U.S.A.", "US"}, {"U.S.", "US"}, {"US", "US"},
		{"United States of America", "US"}, {"840", "US"}, {"the United States", "US"},
		{"UK", "GB"}, {"United Kingdom", "GB"}, {"Great Britain", "GB"}, {"GBR", "GB"}, {"England", "GB"},
		{"Korea, Republic of", "KR"}, {"Republic of Korea", "KR"}, {"South Korea", "KR"}, {"North Korea", "KP"},
		{"Côte d'Ivoire", "CI"}, {"Cote d’Ivoire", "CI"}, {"Ivory Coast", "CI"},
		{"Türkiye", "TR"}, {"Turkey", "TR"}, {"Schweiz", "CH"}, {"Suisse", "CH"}, {"Switzerland", "CH"},
		{"Österreich", "AT"}, {"Osterreich", "AT"}, {"St. Lucia", "LC"}, {"Saint Lucia", "LC"},
		{"Bosnia & Herzegovina", "BA"}, {"Bosnia and Herzegovina", "BA"},
		{"Netherlands", "NL"}, {"The Netherlands", "NL"}, {"Holland", "NL"}, {"Nederland", "NL"},
		{"Niederlande", "NL"}, {"Pays-Bas", "NL"}, {"Åland Islands", "AX"}, {"Aland Islands", "AX"},
		{"Réunion", "RE"}, {"Vatican", "VA"}, {"Holy See", "VA"}, {"España", "ES"}, {"Spain", "ES"},
		{"Czechia", "CZ"}, {"Czech Republic", "CZ"}, {"Česko", "CZ"}, {"Russian Federation", "RU"},
		{"Congo, The Democratic Republic of the", "CD"}, {"Democratic Republic of the Congo", "CD"},
		{"Congo", "CG"}, {"Iran", "IR"}, {"Iran, Islamic Republic of", "IR"}, {"Viet Nam", "VN"},
		{"Vietnam", "VN"}, {"Taiwan", "TW"}, {"Hong Kong", "HK"}, {"Macau", "MO"}, {"Macao", "MO"},
		{"Burma", "MM"}, {"Myanmar", "MM"}, {"Eswatini", "SZ"}, {"Swaziland", "SZ"},
		{"North Macedonia", "MK"}, {"Macedonia", "MK"}, {"UAE", "AE"}, {"United Arab Emirates", "AE"},
		{"Bahamas", "BS"}, {"The Bahamas", "BS"}, {"Gambia", "GM"}, {"Sao Tome and Principe", "ST"},
		{"São Tomé and Príncipe", "ST"}, {"Færøerne", "FO"}, {"Łotwa", "LV"}, {"Niemcy", "DE"},
		{"Tyskland", "DE"}, {"Chorwacja", "HR"}, {"Ελλάδα", "GR"}, {"ΕΛΛΆΔΑ", "GR"}, {"Россия", "RU"}, {"ÖSTERREICH", "AT"}, {"4", "AF"}, {"004", "AF"}, {"🇫🇷", "FR"}, {"", ""},
	}
	var cases []applyCase
	for _, p := range pairs {
		cases = append(cases, applyCase{name: p.in, def: countryDef, in: p.in, want: p.want})
	}
	runApplyCases(t, cases)
}

func TestCountryRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, in := range []string{"Korea", "Narnia", "XK", "XX", "999", "Europe", "🇪🇺", "Deutschlandd"} {
		_, err := mustParse(t, countryDef).Apply(transform.MapRecord{"f": in}, "f")
		if err == nil || err.Error() != "step 1 (country_alpha2): is not a country name or code this step knows; map it with a lookup step" {
			t.Errorf("%q: err = %v; want it refused", in, err)
		}
	}
}

func TestCountryTableCoversAllOfISO3166(t *testing.T) {
	iso := transform.ISOCountries()
	if len(iso) != 249 {
		t.Fatalf("ISO 3166-1 has %d entries; want 249", len(iso))
	}
	p := mustParse(t, countryDef)
	for _, c := range iso {
		for _, in := range []string{c[0], c[1], c[2], c[3]} {
			got, err := p.Apply(transform.MapRecord{"f": in}, "f")
			if err != nil || got != c[0] {
				t.Errorf("%q = %q, %v; want %s", in, got, err, c[0])
			}
		}
	}
	for _, v := range transform.CountryVariants() {
		got, err := p.Apply(transform.MapRecord{"f": v[0]}, "f")
		if err != nil || got != v[1] {
			t.Errorf("variant %q = %q, %v; want %s (regenerate countries_table.go with go generate)", v[0], got, err, v[1])
		}
	}
}

func TestCountryKeysAreNormalisedSortedAndUnique(t *testing.T) {
	keys := transform.CountryKeys()
	if !sort.SliceIsSorted(keys, func(i, j int) bool { return keys[i][0] < keys[j][0] }) {
		t.Fatal("country keys are not sorted")
	}
	for i, k := range keys {
		if n := transform.NormalizeCountry(k[0]); n != k[0] {
			t.Errorf("key %q normalises to %q", k[0], n)
		}
		if i > 0 && keys[i-1][0] == k[0] {
			t.Errorf("key %q twice", k[0])
		}
	}
}
