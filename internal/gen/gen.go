// Package gen generates realistic synthetic user extracts — the demo
// project's data, the tests' and the benchmarks' — with data-quality
// problems injected at known rates and recorded, so that a test of the
// validator can check that it finds exactly what was injected.
//
// Output is deterministic: the same Config gives byte-identical output, on
// any machine, for a given version of this package and of gofakeit (whose
// name and job lists it draws from). It streams: rows are generated one at a
// time, and memory stays bounded (a few MiB) whatever the number of users,
// unless Config.Record keeps the list of injected problems.
//
// Every row is clean apart from what was injected: logins are unique under
// Okta's comparison (case and accents ignored), emails are unique and well
// formed, country codes, locales and time zones are valid and agree with one
// another. The generated company has employees in a dozen countries, a
// management hierarchy (each manager is a user generated earlier), and names
// that sometimes carry accents.
package gen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The kinds of injected problems, as Report.Counts and Injected.Kind name them.
const (
	// DuplicateEmail: mail is exactly another user's mail.
	KindDuplicateEmail = "duplicate_email"
	// LoginCaseDuplicate: userPrincipalName is another user's login with a
	// different case or accents (Isaac.Brock@… for isaac.brock@…), so that
	// Okta, which ignores both, sees the same login twice. The user has the
	// same name as the other, and a mail of its own.
	KindLoginCaseDuplicate = "login_case_duplicate"
	// MissingLastName: sn is empty.
	KindMissingLastName = "missing_last_name"
	// OverlongTitle: title is longer than 100 characters.
	KindOverlongTitle = "overlong_title"
	// BadCountryCode: c is not an ISO 3166-1 alpha-2 code (USA, UK, Germany…).
	KindBadCountryCode = "bad_country_code"
	// MalformedEmail: mail is not an email address.
	KindMalformedEmail = "malformed_email"
	// MissingEmail: mail is empty.
	KindMissingEmail = "missing_email"
	// BadLocale: locale is not ll_CC (en-US, de_de, fr_FR.UTF-8…).
	KindBadLocale = "bad_locale"
	// BadTimezone: timezone is not an IANA name (Pacific Standard Time, CEST…).
	KindBadTimezone = "bad_timezone"
)

// Kinds lists the kinds of injected problems in a fixed order.
func Kinds() []string {
	return []string{
		KindDuplicateEmail, KindLoginCaseDuplicate, KindMissingLastName,
		KindOverlongTitle, KindBadCountryCode, KindMalformedEmail,
		KindMissingEmail, KindBadLocale, KindBadTimezone,
	}
}

// MaxTitleLength is the length over which a title counts as overlong.
const MaxTitleLength = 100

// Rates are the probabilities (0 to 1) with which each problem is injected
// into a row. The zero value injects nothing. The three that concern mail
// (DuplicateEmail, MalformedEmail, MissingEmail) exclude one another, so
// their sum must not exceed 1; the others are drawn independently.
type Rates struct {
	DuplicateEmail     float64
	LoginCaseDuplicate float64
	MissingLastName    float64
	OverlongTitle      float64
	BadCountryCode     float64
	MalformedEmail     float64
	MissingEmail       float64
	BadLocale          float64
	BadTimezone        float64
}

// DefaultRates are the rates of a plausibly messy directory, each between
// 0.5% and 2% (9% in all): about one row in twelve carries a problem.
func DefaultRates() Rates {
	return Rates{
		DuplicateEmail:     0.01,
		LoginCaseDuplicate: 0.005,
		MissingLastName:    0.01,
		OverlongTitle:      0.005,
		BadCountryCode:     0.01,
		MalformedEmail:     0.01,
		MissingEmail:       0.02,
		BadLocale:          0.01,
		BadTimezone:        0.01,
	}
}

// Config says what to generate.
type Config struct {
	// Seed makes the output: the same Config gives the same bytes.
	Seed int64
	// Users is the number of rows.
	Users int
	// Domain of logins and mail; "example.com" when empty. Also the LDIF
	// base DN (dc=example,dc=com).
	Domain string
	// Rates of injected problems; the zero value injects none (see DefaultRates).
	Rates Rates
	// Record keeps every injected problem in Report.Injected. Leave it off
	// for millions of rows: the counts are always there.
	Record bool
}

// Injected is one problem put into the data on purpose.
type Injected struct {
	Kind   string
	Row    int    // data row, from 1 (the header does not count)
	Column string // as in Columns
	Note   string // what was done, naming the other row for duplicates
}

// Report says what was generated.
type Report struct {
	Rows   int
	Counts map[string]int // by kind, every kind present
	// Injected lists every injected problem, in row order, when
	// Config.Record is set; nil otherwise.
	Injected []Injected
}

// NumColumns is the number of columns of every row.
const NumColumns = 20

// The columns, named after Active Directory's and inetOrgPerson's attributes.
var columns = [NumColumns]string{
	"employeeID", "userPrincipalName", "mail", "givenName", "sn", "displayName",
	"title", "department", "telephoneNumber", "mobile", "streetAddress", "l", "st",
	"postalCode", "c", "preferredLanguage", "locale", "timezone", "manager",
	"employeeType",
}

const (
	colEmployeeID = iota
	colLogin
	colMail
	colGivenName
	colSn
	colDisplayName
	colTitle
	colDepartment
	colTelephone
	colMobile
	colStreet
	colCity
	colState
	colPostalCode
	colCountry
	colLanguage
	colLocale
	colTimezone
	colManager
	colEmployeeType
)

// Columns lists the column names, in row order.
func Columns() []string { return append([]string(nil), columns[:]...) }

// withDefaults checks a Config and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Users < 0 {
		return c, fmt.Errorf("gen: users must not be negative (got %d)", c.Users)
	}
	if c.Domain == "" {
		c.Domain = "example.com"
	}
	c.Domain = strings.ToLower(c.Domain)
	if !validDomain(c.Domain) {
		return c, fmt.Errorf("gen: domain %q is not a host name with a dot, such as example.com", c.Domain)
	}
	r := c.Rates
	for _, v := range []float64{r.DuplicateEmail, r.LoginCaseDuplicate, r.MissingLastName, r.OverlongTitle,
		r.BadCountryCode, r.MalformedEmail, r.MissingEmail, r.BadLocale, r.BadTimezone} {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return c, errors.New("gen: every rate must be between 0 and 1")
		}
	}
	if r.DuplicateEmail+r.MalformedEmail+r.MissingEmail > 1 {
		return c, errors.New("gen: the mail rates (duplicate, malformed, missing) must add up to at most 1")
	}
	return c, nil
}

func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}

// Generate produces cfg.Users rows and calls each with every one: its number
// (from 1) and its NumColumns values in the order of Columns. The slice is
// reused for the next row: copy what must outlive the call. An error from
// each stops the generation and is returned.
func Generate(cfg Config, each func(row int, values []string) error) (Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Report{}, err
	}
	g := newGenerator(cfg)
	for i := 1; i <= cfg.Users; i++ {
		g.row(i)
		if err := each(i, g.vals[:]); err != nil {
			return g.report, err
		}
		g.report.Rows = i
	}
	return g.report, nil
}

// recent remembers the last clean values of a column, so that a duplicate
// can copy one without the generator keeping every row.
type recent struct {
	rows   [1024]int
	values [1024]string
	n      int
	next   int
}

func (r *recent) add(row int, v string) {
	r.rows[r.next], r.values[r.next] = row, v
	r.next = (r.next + 1) % len(r.rows)
	if r.n < len(r.rows) {
		r.n++
	}
}

func (r *recent) pick(rng *rand.Rand) (int, string) {
	i := rng.IntN(r.n)
	return r.rows[i], r.values[i]
}

type generator struct {
	cfg Config
	p   *pools
	// rng draws the users; inj draws what is injected and how. Two streams,
	// so that the same seed gives much the same users whatever the rates.
	rng, inj *rand.Rand
	// combos counts the users of each (first, last) pair: the login of the
	// nth is first.lastN (n ≥ 2), unique with no set of logins in memory.
	combos []uint32
	// recent clean logins (with their name pair) and mails, to duplicate.
	logins, mails recent
	pairs         [1024][2]int32
	report        Report
	vals          [NumColumns]string
	buf           []byte
}

func newGenerator(cfg Config) *generator {
	p := newPools(cfg.Seed)
	s := uint64(cfg.Seed)
	g := &generator{
		cfg:    cfg,
		p:      p,
		rng:    rand.New(rand.NewPCG(s, 0x5851f42d4c957f2d)),
		inj:    rand.New(rand.NewPCG(s, 0x14057b7ef767814f)),
		combos: make([]uint32, len(p.first)*len(p.last)),
		report: Report{Counts: make(map[string]int)},
		buf:    make([]byte, 0, 256),
	}
	for _, k := range Kinds() {
		g.report.Counts[k] = 0
	}
	return g
}

func (g *generator) inject(kind string, row, col int, note string) {
	g.report.Counts[kind]++
	if g.cfg.Record {
		g.report.Injected = append(g.report.Injected, Injected{Kind: kind, Row: row, Column: columns[col], Note: note})
	}
}

func (g *generator) employeeID(row int) string {
	b := append(g.buf[:0], 'E')
	for p := 100000; p > 1 && row < p; p /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(row), 10)
	return string(b)
}

// fill replaces the placeholders of a template: '#' any digit, 'N' 2 to 9,
// 'A' a capital letter.
func (g *generator) fill(tpl string) string {
	b := g.buf[:0]
	// One 64-bit draw gives a dozen placeholders (26^12 < 2^64), with a
	// bias too small to matter here.
	var x uint64
	left := 0
	for i := 0; i < len(tpl); i++ {
		c := tpl[i]
		var n uint64
		switch c {
		case '#':
			n = 10
		case 'N':
			n = 8
		case 'A':
			n = 26
		default:
			b = append(b, c)
			continue
		}
		if left == 0 {
			x, left = g.rng.Uint64(), 12
		}
		d := byte(x % n)
		x /= n
		left--
		switch c {
		case '#':
			b = append(b, '0'+d)
		case 'N':
			b = append(b, '2'+d)
		default:
			b = append(b, 'A'+d)
		}
	}
	g.buf = b
	return string(b)
}

func (g *generator) row(i int) {
	rng, inj, r, v := g.rng, g.inj, g.cfg.Rates, &g.vals
	v[colEmployeeID] = g.employeeID(i)

	// Who: a name pair, or another user's for a login-case duplicate.
	fi, li := int32(rng.IntN(len(g.p.first))), int32(rng.IntN(len(g.p.last)))
	loginDup := r.LoginCaseDuplicate > 0 && inj.Float64() < r.LoginCaseDuplicate && g.logins.n > 0
	var dupRow int
	var dupLogin string
	if loginDup {
		// Each login is duplicated once at most, so that no two variants of
		// it can be the same bytes: a slot used is emptied (row 0).
		k := -1
		for range 4 {
			if j := inj.IntN(g.logins.n); g.logins.rows[j] != 0 {
				k = j
				break
			}
		}
		if k < 0 {
			loginDup = false
		} else {
			dupRow, dupLogin = g.logins.rows[k], g.logins.values[k]
			fi, li = g.pairs[k][0], g.pairs[k][1]
			g.logins.rows[k] = 0
		}
	}
	first, last := g.p.first[fi], g.p.last[li]
	combo := &g.combos[int(fi)*len(g.p.last)+int(li)]
	*combo++
	b := append(g.buf[:0], first.key...)
	b = append(b, '.')
	b = append(b, last.key...)
	if *combo > 1 {
		b = strconv.AppendUint(b, uint64(*combo), 10)
	}
	b = append(b, '@')
	b = append(b, g.cfg.Domain...)
	login := string(b)
	g.buf = b

	v[colLogin] = login
	if loginDup {
		v[colLogin] = variant(inj, dupLogin)
		g.inject(KindLoginCaseDuplicate, i, colLogin, fmt.Sprintf("same login as row %d under Okta's comparison (%s)", dupRow, dupLogin))
	} else {
		g.pairs[g.logins.next] = [2]int32{fi, li}
		g.logins.add(i, login)
	}

	// Mail: the login, unless one of the mail problems is drawn.
	v[colMail] = login
	if m := r.DuplicateEmail + r.MalformedEmail + r.MissingEmail; m > 0 {
		switch u := inj.Float64(); {
		case u < r.DuplicateEmail && g.mails.n > 0:
			row, mail := g.mails.pick(inj)
			v[colMail] = mail
			g.inject(KindDuplicateEmail, i, colMail, fmt.Sprintf("same mail as row %d", row))
		case u >= r.DuplicateEmail && u < r.DuplicateEmail+r.MalformedEmail:
			v[colMail] = malform(inj, login)
			g.inject(KindMalformedEmail, i, colMail, fmt.Sprintf("%q is not an email address", v[colMail]))
		case u >= r.DuplicateEmail+r.MalformedEmail && u < m:
			v[colMail] = ""
			g.inject(KindMissingEmail, i, colMail, "mail is empty")
		}
	}
	if v[colMail] == login {
		g.mails.add(i, login)
	}

	v[colGivenName], v[colSn] = first.display, last.display
	if r.MissingLastName > 0 && inj.Float64() < r.MissingLastName {
		v[colSn] = ""
		g.inject(KindMissingLastName, i, colSn, "sn is empty")
	}
	switch d := rng.IntN(200); {
	case v[colSn] == "":
		v[colDisplayName] = first.display
	case d < 4: // some directories sort by surname
		v[colDisplayName] = last.display + ", " + first.display
	case d < 5 && utf8.RuneCountInString(first.display) > 4: // a nickname
		nick := []rune(first.display)[:3]
		v[colDisplayName] = first.display + ` "` + string(nick) + `" ` + last.display
	default:
		v[colDisplayName] = first.display + " " + last.display
	}

	v[colTitle] = ""
	if rng.IntN(40) != 0 {
		v[colTitle] = g.p.titles[rng.IntN(len(g.p.titles))]
	}
	if r.OverlongTitle > 0 && inj.Float64() < r.OverlongTitle {
		v[colTitle] = g.overlongTitle()
		g.inject(KindOverlongTitle, i, colTitle, fmt.Sprintf("title is %d characters long", len(v[colTitle])))
	}
	v[colDepartment] = departments[rng.IntN(len(departments))]

	// Where: a country, a city of it, and the values that follow from them.
	c := &countries[g.p.countryPick[rng.IntN(len(g.p.countryPick))]]
	ct := &c.cities[rng.IntN(len(c.cities))]
	v[colTelephone], v[colMobile] = "", ""
	if rng.IntN(12) != 0 {
		v[colTelephone] = g.fill(c.landline[rng.IntN(len(c.landline))])
	}
	if rng.IntN(3) != 0 {
		v[colMobile] = g.fill(c.mobile[rng.IntN(len(c.mobile))])
	}
	v[colStreet] = g.street(c)
	v[colCity], v[colState] = ct.name, ct.region
	v[colPostalCode] = g.fill(c.postal[rng.IntN(len(c.postal))])
	v[colCountry] = c.code
	if r.BadCountryCode > 0 && inj.Float64() < r.BadCountryCode {
		v[colCountry] = badCountries[inj.IntN(len(badCountries))]
		g.inject(KindBadCountryCode, i, colCountry, fmt.Sprintf("%q instead of %s", v[colCountry], c.code))
	}
	locale, lang := c.locale, c.lang
	if ct.locale != "" {
		locale, lang = ct.locale, ct.lang
	}
	v[colLanguage] = lang
	if rng.IntN(8) == 0 {
		v[colLanguage] = ""
	}
	v[colLocale] = locale
	if r.BadLocale > 0 && inj.Float64() < r.BadLocale {
		v[colLocale] = badLocale(inj, locale)
		g.inject(KindBadLocale, i, colLocale, fmt.Sprintf("%q instead of %s", v[colLocale], locale))
	}
	v[colTimezone] = ct.tz
	if r.BadTimezone > 0 && inj.Float64() < r.BadTimezone {
		v[colTimezone] = badZones[inj.IntN(len(badZones))]
		g.inject(KindBadTimezone, i, colTimezone, fmt.Sprintf("%q instead of %s", v[colTimezone], ct.tz))
	}

	// A hierarchy: the first rows are the top; everyone else reports to
	// someone among the first sixth of the rows before them.
	v[colManager] = ""
	if i > 3 {
		v[colManager] = g.employeeID(1 + rng.IntN(min(i-1, max(3, (i-1)/6))))
	}
	v[colEmployeeType] = employeeTypes[g.p.typePick[rng.IntN(len(g.p.typePick))]].value
}

func (g *generator) street(c *country) string {
	rng := g.rng
	name := ""
	if len(c.streets) == 0 {
		name = g.p.streets[rng.IntN(len(g.p.streets))]
	} else {
		name = c.streets[rng.IntN(len(c.streets))]
	}
	b := g.buf[:0]
	switch c.style {
	case numberFirst:
		if len(c.streets) == 0 {
			b = strconv.AppendInt(b, int64(1+rng.IntN(9999)), 10)
		} else {
			b = strconv.AppendInt(b, int64(1+rng.IntN(150)), 10)
		}
		b = append(b, ' ')
		b = append(b, name...)
		if len(c.streets) == 0 && rng.IntN(8) == 0 {
			units := [...]string{", Apt ", ", Suite ", ", Floor ", ", Unit "}
			b = append(b, units[rng.IntN(len(units))]...)
			b = strconv.AppendInt(b, int64(1+rng.IntN(40)), 10)
		}
	case numberAfter:
		b = append(b, name...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(1+rng.IntN(199)), 10)
	case numberAfterComma:
		b = append(b, name...)
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(1+rng.IntN(300)), 10)
	case japanese:
		b = strconv.AppendInt(b, int64(1+rng.IntN(9)), 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(1+rng.IntN(30)), 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(1+rng.IntN(20)), 10)
		b = append(b, ' ')
		b = append(b, name...)
	}
	g.buf = b
	return string(b)
}

func (g *generator) overlongTitle() string {
	var b strings.Builder
	b.WriteString(g.p.titles[g.inj.IntN(len(g.p.titles))])
	for b.Len() <= MaxTitleLength {
		b.WriteString(titleJoiners[g.inj.IntN(len(titleJoiners))])
		b.WriteString(g.p.titles[g.inj.IntN(len(g.p.titles))])
	}
	if g.inj.IntN(3) == 0 {
		b.WriteString(titleTails[g.inj.IntN(len(titleTails))])
	}
	return b.String()
}

// Accented forms of the vowels and a few consonants (precomposed: NFD
// splits each into its base letter and a combining mark).
var accents = map[byte][]string{
	'a': {"á", "à", "ä", "â"}, 'e': {"é", "è", "ë", "ê"}, 'i': {"í", "ï", "î"},
	'o': {"ó", "ö", "ô"}, 'u': {"ú", "ü", "û"}, 'c': {"ç"}, 'n': {"ñ"},
}

// variant spells a clean login (lower-case ASCII) differently in a way Okta
// ignores: capitals, accents or both, in the part before the @. The result
// always differs from the login.
func variant(rng *rand.Rand, login string) string {
	at := strings.IndexByte(login, '@')
	local, domain := login[:at], login[at:]
	mode := rng.IntN(4) // 0 capitals, 1 accents, 2 both, 3 all capitals
	var b strings.Builder
	start := true
	accented := 0
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case mode == 3 && c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		case (mode == 1 || mode == 2) && accents[c] != nil && (accented == 0 || rng.IntN(3) == 0):
			opts := accents[c]
			a := opts[rng.IntN(len(opts))]
			if (mode == 2 && start) || rng.IntN(10) == 0 {
				a = strings.ToUpper(a)
			}
			b.WriteString(a)
			accented++
		case (mode == 0 || mode == 2) && start && c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
		start = c == '.' || c == '-'
	}
	out := b.String()
	if out == local { // no accentable letter: capitals then
		out = strings.ToUpper(local[:1]) + local[1:]
	}
	return out + domain
}

// malform breaks a clean mail address the ways hand-typed ones break.
func malform(rng *rand.Rand, mail string) string {
	at := strings.IndexByte(mail, '@')
	local, domain := mail[:at], mail[at+1:]
	dot := strings.IndexByte(domain, '.')
	switch rng.IntN(8) {
	case 0:
		return local + "@@" + domain
	case 1:
		return local + "." + domain // the @ lost
	case 2:
		return strings.Replace(local, ".", " ", 1) + "@" + domain
	case 3:
		return local + "@"
	case 4:
		return local + "@" + domain[:dot] // no top-level domain
	case 5:
		return local + "@" + domain[:dot] + "," + domain[dot+1:]
	case 6:
		return "<" + mail + ">"
	default:
		return local + "@" + domain + "; " + local + "@" + domain
	}
}

// badLocale spoils a locale the ways systems other than Java write it.
func badLocale(rng *rand.Rand, locale string) string {
	lang, cc := locale[:2], locale[3:]
	switch rng.IntN(6) {
	case 0:
		return lang + "-" + cc // a BCP 47 tag, not Okta's locale
	case 1:
		return lang + "_" + strings.ToLower(cc)
	case 2:
		return locale + ".UTF-8"
	case 3:
		return lang
	case 4:
		return strings.ToUpper(lang) + "_" + cc
	default:
		return map[string]string{"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español",
			"it": "Italiano", "nl": "Nederlands", "sv": "Svenska", "ja": "日本語", "pt": "Português"}[lang]
	}
}
