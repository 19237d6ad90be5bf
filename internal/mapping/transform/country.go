package transform

import (
	"errors"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

//go:generate env FERRY_GENERATE_COUNTRIES=1 go test -run TestGenerateCountryTable -count=1 .

// isoCountry is one entry of ISO 3166-1.
type isoCountry struct {
	alpha2, alpha3, numeric, name string
}

// countryKey maps a normalised name or code to an alpha-2 code.
type countryKey struct {
	key, alpha2 string
}

// countryVariants are the names people write for countries besides ISO's
// own English names and the translations in countries_table.go: short
// forms, abbreviations, former names and parts of a country. The generator
// (countries_gen_test.go) folds them into countryKeys; a name that could
// mean two countries ("Korea", "Congo" other than ISO's own) is left out on
// purpose, so that it fails and a person decides.
var countryVariants = [...]countryKey{
	{"United States of America", "US"}, {"USA", "US"}, {"U.S.A.", "US"}, {"U.S.", "US"}, {"America", "US"},
	{"United States", "US"}, {"UK", "GB"}, {"U.K.", "GB"}, {"Great Britain", "GB"}, {"Britain", "GB"},
	{"England", "GB"}, {"Scotland", "GB"}, {"Wales", "GB"}, {"Northern Ireland", "GB"},
	{"United Kingdom of Great Britain and Northern Ireland", "GB"},
	{"Deutschland", "DE"}, {"Federal Republic of Germany", "DE"}, {"Bundesrepublik Deutschland", "DE"}, {"BRD", "DE"},
	{"Holland", "NL"}, {"Nederland", "NL"}, {"Schweiz", "CH"}, {"Suisse", "CH"}, {"Svizzera", "CH"},
	{"Österreich", "AT"}, {"España", "ES"}, {"Italia", "IT"}, {"Sverige", "SE"}, {"Norge", "NO"},
	{"Danmark", "DK"}, {"Suomi", "FI"}, {"Polska", "PL"}, {"Česko", "CZ"}, {"Czech Republic", "CZ"},
	{"Czechia", "CZ"}, {"Magyarország", "HU"}, {"Ελλάδα", "GR"}, {"Hellas", "GR"}, {"Éire", "IE"},
	{"Belgique", "BE"}, {"België", "BE"}, {"Brasil", "BR"}, {"México", "MX"}, {"Türkiye", "TR"}, {"Turkey", "TR"},
	{"Russia", "RU"}, {"Россия", "RU"}, {"South Korea", "KR"}, {"Republic of Korea", "KR"}, {"North Korea", "KP"},
	{"DPRK", "KP"}, {"Ivory Coast", "CI"}, {"Côte d'Ivoire", "CI"}, {"Cape Verde", "CV"}, {"Swaziland", "SZ"},
	{"Macedonia", "MK"}, {"FYROM", "MK"}, {"Burma", "MM"}, {"Vatican", "VA"}, {"Vatican City", "VA"},
	{"Palestine", "PS"}, {"UAE", "AE"}, {"U.A.E.", "AE"}, {"Emirates", "AE"}, {"DR Congo", "CD"}, {"DRC", "CD"},
	{"Congo-Kinshasa", "CD"}, {"Zaire", "CD"}, {"Republic of the Congo", "CG"}, {"Congo-Brazzaville", "CG"},
	{"Laos", "LA"}, {"Brunei", "BN"}, {"Syria", "SY"}, {"Iran", "IR"}, {"Vietnam", "VN"}, {"Taiwan", "TW"},
	{"Tanzania", "TZ"}, {"Bolivia", "BO"}, {"Venezuela", "VE"}, {"Moldova", "MD"}, {"Micronesia", "FM"},
	{"Macau", "MO"}, {"East Timor", "TL"}, {"Sao Tome and Principe", "ST"}, {"Falkland Islands", "FK"},
	{"Saint Kitts and Nevis", "KN"}, {"Saint Lucia", "LC"}, {"Saint Vincent and the Grenadines", "VC"},
	{"Bosnia", "BA"}, {"Trinidad", "TT"}, {"Hong Kong SAR", "HK"}, {"Macao SAR", "MO"}, {"PRC", "CN"},
	{"People's Republic of China", "CN"}, {"Mainland China", "CN"}, {"Republic of Ireland", "IE"},
	{"Slovak Republic", "SK"}, {"Kyrgyz Republic", "KG"}, {"The Gambia", "GM"}, {"The Bahamas", "BS"},
}

// countryAlpha2 turns a country name or code into its ISO 3166-1 alpha-2 code.
func countryAlpha2(v string) (string, error) {
	v = trimSpace(v)
	if v == "" {
		return "", nil
	}
	if len(v) > 200 {
		return "", errors.New("is too long for a country name")
	}
	if code, ok := flagCode(v); ok {
		v = code
	}
	key := normalizeCountry(v)
	if key != "" && len(key) <= 3 && allDigits(key) {
		key = strings.Repeat("0", 3-len(key)) + key
	}
	i := sort.Search(len(countryKeys), func(i int) bool { return countryKeys[i].key >= key })
	if i < len(countryKeys) && countryKeys[i].key == key {
		return countryKeys[i].alpha2, nil
	}
	return "", errors.New("is not a country name or code this step knows; map it with a lookup step")
}

// flagCode reads a flag emoji (two regional indicator symbols) as letters.
func flagCode(v string) (string, bool) {
	a, n := utf8.DecodeRuneInString(v)
	b, m := utf8.DecodeRuneInString(v[n:])
	const base = 0x1F1E6
	if n+m != len(v) || a < base || a > base+25 || b < base || b > base+25 {
		return "", false
	}
	return string(rune('A'+a-base)) + string(rune('A'+b-base)), true
}

// normalizeCountry folds a name so that spellings people consider the same
// compare equal: case, accents, punctuation, "&" and "and", "St." and
// "Saint", a leading or trailing "the".
func normalizeCountry(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == '.' || r == '\'' || r == '’' || r == 'ʼ' || r == '`':
			// U.S.A. is USA, d'Ivoire is dIvoire.
		case r == '&':
			b.WriteString(" and ")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			switch r = unicode.ToLower(r); r {
			case 'ß':
				b.WriteString("ss")
			case 'æ':
				b.WriteString("ae")
			case 'œ':
				b.WriteString("oe")
			case 'þ':
				b.WriteString("th")
			case 'ø':
				b.WriteByte('o')
			case 'ł':
				b.WriteByte('l')
			case 'đ', 'ð':
				b.WriteByte('d')
			case 'ı':
				b.WriteByte('i')
			default:
				b.WriteRune(r)
			}
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	if len(words) > 1 && words[0] == "the" {
		words = words[1:]
	}
	if len(words) > 1 && words[len(words)-1] == "the" {
		words = words[:len(words)-1]
	}
	for i, w := range words {
		switch w {
		case "st":
			words[i] = "saint"
		case "ste":
			words[i] = "sainte"
		}
	}
	return strings.Join(words, " ")
}
