package transform

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// phoneRegion is what national notation means in one region: its country
// calling code, the trunk prefix dialled before national numbers (0 in most
// of Europe, 1 in North America, none in Italy or Spain), the prefix dialled
// before international numbers, and the lengths of its geographic and mobile
// national significant numbers.
type phoneRegion struct {
	region        string
	callingCode   string
	trunkPrefix   string
	intlPrefix    string
	minNSN        int
	maxNSN        int
	nanp          bool // North American Numbering Plan: area code and exchange start with 2–9
	keepsLeadZero bool // the leading 0 is part of the number (Italy)
}

// phoneRegions are the regions a phone_e164 step can take as its default,
// sorted by region.
var phoneRegions = [...]phoneRegion{
	{region: "AE", callingCode: "971", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 9},
	{region: "AR", callingCode: "54", trunkPrefix: "0", intlPrefix: "00", minNSN: 10, maxNSN: 11},
	{region: "AT", callingCode: "43", trunkPrefix: "0", intlPrefix: "00", minNSN: 4, maxNSN: 13},
	{region: "AU", callingCode: "61", trunkPrefix: "0", intlPrefix: "0011", minNSN: 9, maxNSN: 9},
	{region: "BE", callingCode: "32", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 9},
	{region: "BG", callingCode: "359", trunkPrefix: "0", intlPrefix: "00", minNSN: 7, maxNSN: 9},
	{region: "BR", callingCode: "55", trunkPrefix: "0", intlPrefix: "00", minNSN: 10, maxNSN: 11},
	{region: "CA", callingCode: "1", trunkPrefix: "1", intlPrefix: "011", minNSN: 10, maxNSN: 10, nanp: true},
	{region: "CH", callingCode: "41", trunkPrefix: "0", intlPrefix: "00", minNSN: 9, maxNSN: 9},
	{region: "CN", callingCode: "86", trunkPrefix: "0", intlPrefix: "00", minNSN: 9, maxNSN: 11},
	{region: "CY", callingCode: "357", intlPrefix: "00", minNSN: 8, maxNSN: 8},
	{region: "CZ", callingCode: "420", intlPrefix: "00", minNSN: 9, maxNSN: 9},
	{region: "DE", callingCode: "49", trunkPrefix: "0", intlPrefix: "00", minNSN: 6, maxNSN: 13},
	{region: "DK", callingCode: "45", intlPrefix: "00", minNSN: 8, maxNSN: 8},
	{region: "EE", callingCode: "372", intlPrefix: "00", minNSN: 7, maxNSN: 8},
	{region: "EG", callingCode: "20", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 10},
	{region: "ES", callingCode: "34", intlPrefix: "00", minNSN: 9, maxNSN: 9},
	{region: "FI", callingCode: "358", trunkPrefix: "0", intlPrefix: "00", minNSN: 5, maxNSN: 12},
	{region: "FR", callingCode: "33", trunkPrefix: "0", intlPrefix: "00", minNSN: 9, maxNSN: 9},
	{region: "GB", callingCode: "44", trunkPrefix: "0", intlPrefix: "00", minNSN: 9, maxNSN: 10},
	{region: "GR", callingCode: "30", intlPrefix: "00", minNSN: 10, maxNSN: 10},
	{region: "HK", callingCode: "852", intlPrefix: "001", minNSN: 8, maxNSN: 8},
	{region: "HR", callingCode: "385", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 9},
	{region: "HU", callingCode: "36", trunkPrefix: "06", intlPrefix: "00", minNSN: 8, maxNSN: 9},
	{region: "ID", callingCode: "62", trunkPrefix: "0", intlPrefix: "001", minNSN: 8, maxNSN: 12},
	{region: "IE", callingCode: "353", trunkPrefix: "0", intlPrefix: "00", minNSN: 7, maxNSN: 9},
	{region: "IL", callingCode: "972", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 9},
	{region: "IN", callingCode: "91", trunkPrefix: "0", intlPrefix: "00", minNSN: 10, maxNSN: 10},
	{region: "IS", callingCode: "354", intlPrefix: "00", minNSN: 7, maxNSN: 9},
	{region: "IT", callingCode: "39", intlPrefix: "00", minNSN: 6, maxNSN: 11, keepsLeadZero: true},
	{region: "JP", callingCode: "81", trunkPrefix: "0", intlPrefix: "010", minNSN: 9, maxNSN: 10},
	{region: "KR", callingCode: "82", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 10},
	{region: "LU", callingCode: "352", intlPrefix: "00", minNSN: 4, maxNSN: 11},
	{region: "LV", callingCode: "371", intlPrefix: "00", minNSN: 8, maxNSN: 8},
	{region: "MT", callingCode: "356", intlPrefix: "00", minNSN: 8, maxNSN: 8},
	{region: "MX", callingCode: "52", intlPrefix: "00", minNSN: 10, maxNSN: 10},
	{region: "MY", callingCode: "60", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 10},
	{region: "NG", callingCode: "234", trunkPrefix: "0", intlPrefix: "009", minNSN: 8, maxNSN: 10},
	{region: "NL", callingCode: "31", trunkPrefix: "0", intlPrefix: "00", minNSN: 9, maxNSN: 9},
	{region: "NO", callingCode: "47", intlPrefix: "00", minNSN: 8, maxNSN: 8},
	{region: "NZ", callingCode: "64", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 10},
	{region: "PH", callingCode: "63", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 10},
	{region: "PL", callingCode: "48", intlPrefix: "00", minNSN: 9, maxNSN: 9},
	{region: "PR", callingCode: "1", trunkPrefix: "1", intlPrefix: "011", minNSN: 10, maxNSN: 10, nanp: true},
	{region: "PT", callingCode: "351", intlPrefix: "00", minNSN: 9, maxNSN: 9},
	{region: "RO", callingCode: "40", trunkPrefix: "0", intlPrefix: "00", minNSN: 9, maxNSN: 9},
	{region: "RU", callingCode: "7", trunkPrefix: "8", intlPrefix: "810", minNSN: 10, maxNSN: 10},
	{region: "SA", callingCode: "966", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 9},
	{region: "SE", callingCode: "46", trunkPrefix: "0", intlPrefix: "00", minNSN: 6, maxNSN: 10},
	{region: "SG", callingCode: "65", intlPrefix: "000", minNSN: 8, maxNSN: 8},
	{region: "SI", callingCode: "386", trunkPrefix: "0", intlPrefix: "00", minNSN: 8, maxNSN: 8},
	{region: "SK", callingCode: "421", trunkPrefix: "0", intlPrefix: "00", minNSN: 9, maxNSN: 9},
	{region: "TH", callingCode: "66", trunkPrefix: "0", intlPrefix: "001", minNSN: 8, maxNSN: 9},
	{region: "TR", callingCode: "90", trunkPrefix: "0", intlPrefix: "00", minNSN: 10, maxNSN: 10},
	{region: "TW", callingCode: "886", trunkPrefix: "0", intlPrefix: "002", minNSN: 8, maxNSN: 9},
	{region: "UA", callingCode: "380", trunkPrefix: "0", intlPrefix: "00", minNSN: 9, maxNSN: 9},
	{region: "US", callingCode: "1", trunkPrefix: "1", intlPrefix: "011", minNSN: 10, maxNSN: 10, nanp: true},
	{region: "VN", callingCode: "84", trunkPrefix: "0", intlPrefix: "00", minNSN: 9, maxNSN: 10},
	{region: "ZA", callingCode: "27", trunkPrefix: "0", intlPrefix: "00", minNSN: 9, maxNSN: 9},
}

// callingCodes are the ITU-T E.164 country calling codes in use (including
// the global services 800, 808, 870, 878, 881, 882, 883, 888, 979); no code
// is a prefix of another, so a number's code is the one that starts it.
var callingCodes = [...]string{
	"1", "20", "211", "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226", "227", "228",
	"229", "230", "231", "232", "233", "234", "235", "236", "237", "238", "239", "240", "241", "242", "243",
	"244", "245", "246", "247", "248", "249", "250", "251", "252", "253", "254", "255", "256", "257", "258",
	"260", "261", "262", "263", "264", "265", "266", "267", "268", "269", "27", "290", "291", "297", "298",
	"299", "30", "31", "32", "33", "34", "350", "351", "352", "353", "354", "355", "356", "357", "358", "359",
	"36", "370", "371", "372", "373", "374", "375", "376", "377", "378", "379", "380", "381", "382", "383",
	"385", "386", "387", "389", "39", "40", "41", "420", "421", "423", "43", "44", "45", "46", "47", "48", "49",
	"500", "501", "502", "503", "504", "505", "506", "507", "508", "509", "51", "52", "53", "54", "55", "56",
	"57", "58", "590", "591", "592", "593", "594", "595", "596", "597", "598", "599", "60", "61", "62", "63",
	"64", "65", "66", "670", "672", "673", "674", "675", "676", "677", "678", "679", "680", "681", "682", "683",
	"685", "686", "687", "688", "689", "690", "691", "692", "7", "800", "808", "81", "82", "84", "850", "852",
	"853", "855", "856", "86", "870", "878", "880", "881", "882", "883", "886", "888", "90", "91", "92", "93",
	"94", "95", "960", "961", "962", "963", "964", "965", "966", "967", "968", "970", "971", "972", "973",
	"974", "975", "976", "977", "979", "98", "992", "993", "994", "995", "996", "998",
}

// PhoneRegions lists the regions (ISO 3166-1 alpha-2) a phone_e164 step
// knows the national notation of, for its defaultRegion.
func PhoneRegions() []string {
	out := make([]string, len(phoneRegions))
	for i, r := range phoneRegions {
		out[i] = r.region
	}
	return out
}

func findPhoneRegion(region string) (phoneRegion, bool) {
	i := sort.Search(len(phoneRegions), func(i int) bool { return phoneRegions[i].region >= region })
	if i < len(phoneRegions) && phoneRegions[i].region == region {
		return phoneRegions[i], true
	}
	return phoneRegion{}, false
}

// regionForCode returns the length rules of a calling code, when one of the
// known regions uses it (regions sharing a code share the rules).
func regionForCode(code string) (phoneRegion, bool) {
	for _, r := range phoneRegions {
		if r.callingCode == code {
			return r, true
		}
	}
	return phoneRegion{}, false
}

func isCallingCode(code string) bool {
	i := sort.SearchStrings(callingCodes[:], code)
	return i < len(callingCodes) && callingCodes[i] == code
}

func compilePhone(s Step, bad badFunc) (stepFunc, *DefinitionError) {
	var def *phoneRegion
	if s.DefaultRegion != "" {
		r, ok := findPhoneRegion(s.DefaultRegion)
		if !ok {
			msg := fmt.Sprintf(`"defaultRegion" %q is not a region whose phone numbers this step knows; use one of %s`,
				truncate(s.DefaultRegion, 10), strings.Join(PhoneRegions(), ", "))
			if up := strings.ToUpper(s.DefaultRegion); up != s.DefaultRegion {
				if _, ok := findPhoneRegion(up); ok {
					msg = fmt.Sprintf(`"defaultRegion" must be an upper-case country code: %q`, up)
				}
			}
			return bad("defaultRegion", "%s", msg)
		}
		def = &r
	}
	return func(_ Record, v string) (string, error) { return toE164(v, def) }, nil
}

// toE164 reads a phone number written in international notation, or in the
// national notation of def, and writes it as +CCNSN.
func toE164(v string, def *phoneRegion) (string, error) {
	v = trimSpace(v)
	if v == "" {
		return "", nil
	}
	if len(v) > 100 {
		return "", errors.New("is too long for a phone number")
	}
	if len(v) >= 4 && strings.EqualFold(v[:4], "tel:") {
		v = v[4:]
	}
	plus := false
	if rest, ok := strings.CutPrefix(v, "+"); ok {
		plus, v = true, rest
	} else if rest, ok := strings.CutPrefix(v, "＋"); ok {
		plus, v = true, rest
	}
	// "(0)" is the trunk prefix that international notation leaves out
	// (+49 (0)30 …); in national notation it is the trunk prefix itself.
	withZero, withoutZero, err := phoneDigits(v)
	if err != nil {
		return "", err
	}
	if len(withZero) == 0 {
		return "", errors.New("has no digits, so it is not a phone number")
	}
	if len(withZero) > 20 {
		return "", fmt.Errorf("has %d digits, more than a phone number can have", len(withZero))
	}
	switch {
	case plus:
		return international(withoutZero)
	case def != nil && strings.HasPrefix(withoutZero, def.intlPrefix):
		return international(withoutZero[len(def.intlPrefix):])
	case def == nil && strings.HasPrefix(withoutZero, "00"):
		return international(withoutZero[2:])
	case def == nil:
		return "", errors.New("has no country code (+…) and the step has no default region")
	}
	nsn := withZero
	if def.nanp && len(nsn) == 11 && strings.HasPrefix(nsn, "1") {
		nsn = nsn[1:]
	} else if def.trunkPrefix != "" && !def.nanp && strings.HasPrefix(nsn, def.trunkPrefix) {
		nsn = nsn[len(def.trunkPrefix):]
	}
	return checkNSN(def.callingCode, nsn, def)
}

// phoneDigits extracts the digits of a phone number, with "(0)" read as a
// 0 and without it, refusing letters and extensions.
func phoneDigits(v string) (withZero, withoutZero string, err error) {
	var a, b strings.Builder
	for i := 0; i < len(v); {
		if strings.HasPrefix(v[i:], "(0)") {
			a.WriteByte('0')
			i += 3
			continue
		}
		r := rune(v[i])
		size := 1
		if r >= 0x80 {
			r, size = utf8.DecodeRuneInString(v[i:])
		}
		i += size
		switch {
		case '0' <= r && r <= '9':
			a.WriteRune(r)
			b.WriteRune(r)
		case '０' <= r && r <= '９': // full-width digits
			a.WriteRune(r - '０' + '0')
			b.WriteRune(r - '０' + '0')
		case r == ' ' || r == '-' || r == '.' || r == '/' || r == '(' || r == ')' || r == '\u00a0' ||
			(r >= '\u2010' && r <= '\u2015') || r == '\u202f' || r == '\u2009':
		case r == 'x' || r == 'X' || r == '#' || r == ';' || r == ',' || r == 'e' || r == 'E':
			return "", "", errors.New("has an extension or dialling pause, which E.164 cannot hold")
		case unicode.IsLetter(r):
			return "", "", errors.New("contains letters, so it is not a phone number")
		default:
			return "", "", errors.New("contains characters that are not part of a phone number")
		}
	}
	return a.String(), b.String(), nil
}

// international reads CC+NSN digits.
func international(digits string) (string, error) {
	for n := 1; n <= 3 && n <= len(digits); n++ {
		cc := digits[:n]
		if !isCallingCode(cc) {
			continue
		}
		nsn := digits[n:]
		r, known := regionForCode(cc)
		if known && r.trunkPrefix == "0" && !r.keepsLeadZero && strings.HasPrefix(nsn, "0") {
			// +44 07700 …: the trunk prefix written after the country code.
			nsn = nsn[1:]
		}
		if !known {
			return checkNSN(cc, nsn, nil)
		}
		return checkNSN(cc, nsn, &r)
	}
	return "", errors.New("does not start with a known country calling code")
}

// checkNSN checks a national significant number's length and writes E.164.
func checkNSN(cc, nsn string, r *phoneRegion) (string, error) {
	total := len(cc) + len(nsn)
	if total > 15 {
		return "", fmt.Errorf("has %d digits with its country code, more than the 15 that E.164 allows", total)
	}
	minN, maxN := 4, 15-len(cc)
	if r != nil {
		minN, maxN = r.minNSN, r.maxNSN
	}
	if len(nsn) < minN || len(nsn) > maxN {
		if minN == maxN {
			return "", fmt.Errorf("has %d digits after the country code +%s, where numbers have %d", len(nsn), cc, minN)
		}
		return "", fmt.Errorf("has %d digits after the country code +%s, where numbers have %d to %d", len(nsn), cc, minN, maxN)
	}
	if r != nil && r.nanp && (nsn[0] < '2' || nsn[3] < '2') {
		return "", errors.New("is not a North American number: its area code and exchange must not start with 0 or 1")
	}
	return "+" + cc + nsn, nil
}
