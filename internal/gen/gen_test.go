package gen_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	_ "time/tzdata" // the time zone check must not depend on the system's database
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/ferry-migrate/ferry/internal/gen"
	"github.com/ferry-migrate/ferry/internal/schema"
	"github.com/ferry-migrate/ferry/internal/staging/ldifextract"
)

// oktaLoginKey compares logins as Okta does: case and accents ignored.
func oktaLoginKey(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func mustCSV(t testing.TB, cfg gen.Config) ([]byte, gen.Report) {
	t.Helper()
	var buf bytes.Buffer
	rep, err := gen.WriteCSV(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), rep
}

func mustRows(t testing.TB, cfg gen.Config) [][]string {
	t.Helper()
	var rows [][]string
	if _, err := gen.Generate(cfg, func(_ int, v []string) error {
		rows = append(rows, slices.Clone(v))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

func parseCSV(t testing.TB, data []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = gen.NumColumns
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestSameSeedGivesTheSameBytes(t *testing.T) {
	cfg := gen.Config{Seed: 42, Users: 3000, Rates: gen.DefaultRates()}
	writers := map[string]func(io.Writer, gen.Config) (gen.Report, error){
		"csv":  gen.WriteCSV,
		"ldif": gen.WriteLDIF,
		"json": func(w io.Writer, c gen.Config) (gen.Report, error) { return gen.WriteJSON(w, c, false) },
		"ndjson": func(w io.Writer, c gen.Config) (gen.Report, error) {
			return gen.WriteJSON(w, c, true)
		},
	}
	for name, write := range writers {
		t.Run(name, func(t *testing.T) {
			var a, b, c bytes.Buffer
			ra, err := write(&a, cfg)
			if err != nil {
				t.Fatal(err)
			}
			rb, _ := write(&b, cfg)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatal("two runs with the same seed differ")
			}
			if fmt.Sprint(ra.Counts) != fmt.Sprint(rb.Counts) {
				t.Fatalf("counts differ: %v %v", ra.Counts, rb.Counts)
			}
			other := cfg
			other.Seed = 43
			if _, err := write(&c, other); err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(a.Bytes(), c.Bytes()) {
				t.Fatal("another seed gives the same bytes")
			}
		})
	}
	// Seed 0 is a seed like any other (gofakeit would take it as "random").
	x, _ := mustCSV(t, gen.Config{Users: 200})
	y, _ := mustCSV(t, gen.Config{Users: 200})
	if !bytes.Equal(x, y) {
		t.Fatal("seed 0 is not deterministic")
	}
}

var employeeIDShape = regexp.MustCompile(`^E\d{6,}$`)

func TestCSVHasAHeaderTwentyColumnsAndOneRowPerUser(t *testing.T) {
	const users = 5000
	data, rep := mustCSV(t, gen.Config{Seed: 7, Users: users, Rates: gen.DefaultRates()})
	recs := parseCSV(t, data)
	if got, want := recs[0], gen.Columns(); !slices.Equal(got, want) {
		t.Fatalf("header %v, want %v", got, want)
	}
	if len(gen.Columns()) != 20 || gen.NumColumns != 20 {
		t.Fatalf("%d columns, want 20", len(gen.Columns()))
	}
	if len(recs)-1 != users || rep.Rows != users {
		t.Fatalf("%d rows (report %d), want %d", len(recs)-1, rep.Rows, users)
	}
	if !bytes.HasSuffix(data, []byte("\r\n")) || bytes.Count(data, []byte("\r\n")) != users+1 {
		t.Fatal("lines do not end with CRLF")
	}
	if !utf8.Valid(data) {
		t.Fatal("not UTF-8")
	}
	perRow := float64(len(data)) / users
	if perRow < 200 || perRow > 300 {
		t.Fatalf("%.0f bytes a row, want about 250", perRow)
	}
	col := columnIndex()
	ids := make(map[string]int)
	accented, quoted := 0, 0
	for i, r := range recs[1:] {
		row := i + 1
		if want := fmt.Sprintf("E%06d", row); r[col["employeeID"]] != want {
			t.Fatalf("row %d: employeeID %q, want %q", row, r[col["employeeID"]], want)
		}
		ids[r[col["employeeID"]]] = row
		m := r[col["manager"]]
		switch {
		case row <= 3 && m != "":
			t.Fatalf("row %d: the top of the hierarchy has a manager %q", row, m)
		case row > 3 && (m == "" || ids[m] == 0 || ids[m] >= row):
			t.Fatalf("row %d: manager %q is not a user generated earlier", row, m)
		}
		for _, c := range []string{"userPrincipalName", "givenName", "displayName", "department", "streetAddress", "l", "st", "postalCode", "c", "locale", "timezone", "employeeType"} {
			if r[col[c]] == "" {
				t.Fatalf("row %d: %s is empty", row, c)
			}
		}
		if strings.ContainsFunc(r[col["givenName"]]+r[col["sn"]], func(r rune) bool { return r > unicode.MaxASCII }) {
			accented++
		}
		for _, c := range []string{"telephoneNumber", "mobile"} {
			if p := r[col[c]]; p != "" && !phoneShape.MatchString(p) {
				t.Fatalf("row %d: %s %q is not a phone number", row, c, p)
			}
		}
		if lang := r[col["preferredLanguage"]]; lang != "" {
			checkValue(t, "preferredLanguage", lang, row)
		}
	}
	if bytes.Count(data, []byte(`"`)) > 0 {
		quoted = 1
	}
	if accented < users/100 || accented > users/4 {
		t.Errorf("%d of %d users have accents in their names, want some but not most", accented, users)
	}
	if quoted == 0 {
		t.Error("no field needed quoting: the CSV quoting is not exercised")
	}
}

var phoneShape = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{6,20}[0-9]$|^\([0-9]+\) [0-9 -]+$`)

func columnIndex() map[string]int {
	m := make(map[string]int)
	for i, c := range gen.Columns() {
		m[c] = i
	}
	return m
}

func checkValue(t testing.TB, attr, v string, row int) {
	t.Helper()
	a, ok := schema.FindBase(attr)
	if !ok {
		t.Fatalf("no base attribute %s", attr)
	}
	if err := schema.ValidateValue(a, v); err != nil {
		t.Fatalf("row %d: %v", row, err)
	}
}

func valid(attr, v string) bool {
	a, ok := schema.FindBase(attr)
	if !ok {
		panic("no base attribute " + attr)
	}
	return schema.ValidateValue(a, v) == nil
}

// validCached is valid for the columns with few distinct values (checking
// a time zone loads it, which is slow).
func validCached(cache map[[2]string]bool, attr, v string) bool {
	k := [2]string{attr, v}
	ok, seen := cache[k]
	if !seen {
		ok = valid(attr, v)
		cache[k] = ok
	}
	return ok
}

type finding struct {
	kind, column string
	row          int
}

// detect finds, independently of the generator, every problem of the kinds
// it injects: what a validator must find.
func detect(t testing.TB, recs [][]string) []finding {
	t.Helper()
	col := columnIndex()
	var out []finding
	logins := make(map[string]string)
	mails := make(map[string]bool)
	exact := make(map[string]bool)
	cache := make(map[[2]string]bool)
	for i, r := range recs {
		row := i + 1
		add := func(kind, column string) { out = append(out, finding{kind, column, row}) }
		for j, v := range r {
			if !utf8.ValidString(v) {
				t.Fatalf("row %d: %s %q is not UTF-8", row, gen.Columns()[j], v)
			}
		}

		upn := r[col["userPrincipalName"]]
		if exact[upn] {
			t.Fatalf("row %d: login %q repeats exactly; duplicates must differ by case or accents", row, upn)
		}
		exact[upn] = true
		if !valid("login", upn) {
			t.Fatalf("row %d: login %q is not one Okta accepts", row, upn)
		}
		key := oktaLoginKey(upn)
		if key != schema.LoginKey(upn) {
			t.Fatalf("row %d: %q: the test's comparison and schema.LoginKey disagree", row, upn)
		}
		if prev, ok := logins[key]; ok {
			if prev == upn {
				t.Fatalf("row %d: identical login", row)
			}
			add(gen.KindLoginCaseDuplicate, "userPrincipalName")
		} else {
			logins[key] = upn
		}

		switch mail := r[col["mail"]]; {
		case mail == "":
			add(gen.KindMissingEmail, "mail")
		case !valid("email", mail):
			add(gen.KindMalformedEmail, "mail")
		case mails[strings.ToLower(mail)]:
			add(gen.KindDuplicateEmail, "mail")
		default:
			mails[strings.ToLower(mail)] = true
		}
		if r[col["sn"]] == "" {
			add(gen.KindMissingLastName, "sn")
		}
		if utf8.RuneCountInString(r[col["title"]]) > gen.MaxTitleLength {
			add(gen.KindOverlongTitle, "title")
		}
		if !validCached(cache, "countryCode", r[col["c"]]) {
			add(gen.KindBadCountryCode, "c")
		}
		if !validCached(cache, "locale", r[col["locale"]]) {
			add(gen.KindBadLocale, "locale")
		}
		if !validCached(cache, "timezone", r[col["timezone"]]) {
			add(gen.KindBadTimezone, "timezone")
		}
	}
	sortFindings(out)
	return out
}

func sortFindings(f []finding) {
	sort.Slice(f, func(i, j int) bool {
		if f[i].row != f[j].row {
			return f[i].row < f[j].row
		}
		return f[i].kind < f[j].kind
	})
}

func TestTheInjectedProblemsAreExactlyTheOnesThere(t *testing.T) {
	const users = 100_000
	cfg := gen.Config{Seed: 2024, Users: users, Rates: gen.DefaultRates(), Record: true}
	data, rep := mustCSV(t, cfg)
	recs := parseCSV(t, data)[1:]

	found := detect(t, recs)
	var injected []finding
	for _, in := range rep.Injected {
		injected = append(injected, finding{in.Kind, in.Column, in.Row})
	}
	sortFindings(injected)
	if !slices.Equal(found, injected) {
		missing, extra := diff(injected, found)
		t.Fatalf("found what was not injected: %v\ninjected but not found: %v", head(extra), head(missing))
	}

	counted := make(map[string]int)
	for _, f := range found {
		counted[f.kind]++
	}
	rates := map[string]float64{
		gen.KindDuplicateEmail: cfg.Rates.DuplicateEmail, gen.KindLoginCaseDuplicate: cfg.Rates.LoginCaseDuplicate,
		gen.KindMissingLastName: cfg.Rates.MissingLastName, gen.KindOverlongTitle: cfg.Rates.OverlongTitle,
		gen.KindBadCountryCode: cfg.Rates.BadCountryCode, gen.KindMalformedEmail: cfg.Rates.MalformedEmail,
		gen.KindMissingEmail: cfg.Rates.MissingEmail, gen.KindBadLocale: cfg.Rates.BadLocale,
		gen.KindBadTimezone: cfg.Rates.BadTimezone,
	}
	if len(rep.Counts) != len(gen.Kinds()) {
		t.Fatalf("counts %v do not name every kind", rep.Counts)
	}
	for _, k := range gen.Kinds() {
		if rep.Counts[k] != counted[k] {
			t.Errorf("%s: report counts %d, the data has %d", k, rep.Counts[k], counted[k])
		}
		want := rates[k] * users
		// Five standard deviations of a binomial count: never flaky, and
		// still tight (±16% at 0.5%, ±7% at 2%).
		if tol := 5 * math.Sqrt(want*(1-rates[k])); math.Abs(float64(counted[k])-want) > tol {
			t.Errorf("%s: %d injected, want %.0f ± %.0f", k, counted[k], want, tol)
		}
	}

	// Each duplicate names the row it duplicates, and really collides with it.
	col := columnIndex()
	rowRef := regexp.MustCompile(`row (\d+)`)
	for _, in := range rep.Injected {
		var c string
		switch in.Kind {
		case gen.KindLoginCaseDuplicate:
			c = "userPrincipalName"
		case gen.KindDuplicateEmail:
			c = "mail"
		default:
			continue
		}
		m := rowRef.FindStringSubmatch(in.Note)
		if m == nil {
			t.Fatalf("%+v: the note names no row", in)
		}
		var other int
		fmt.Sscan(m[1], &other)
		a, b := recs[in.Row-1][col[c]], recs[other-1][col[c]]
		if other >= in.Row || oktaLoginKey(a) != oktaLoginKey(b) {
			t.Fatalf("%+v: %q does not duplicate row %d's %q", in, a, other, b)
		}
		if in.Kind == gen.KindLoginCaseDuplicate {
			if a == b {
				t.Fatalf("%+v: %q is the same bytes, not a case or accent variant", in, a)
			}
			// The same person, as a second account typed by hand would be.
			if recs[in.Row-1][col["givenName"]] != recs[other-1][col["givenName"]] {
				t.Fatalf("%+v: the duplicate is someone else", in)
			}
		}
	}
}

func diff(want, got []finding) (missing, extra []finding) {
	w := make(map[finding]bool)
	for _, f := range want {
		w[f] = true
	}
	g := make(map[finding]bool)
	for _, f := range got {
		g[f] = true
		if !w[f] {
			extra = append(extra, f)
		}
	}
	for _, f := range want {
		if !g[f] {
			missing = append(missing, f)
		}
	}
	return missing, extra
}

func head(f []finding) []finding { return f[:min(len(f), 10)] }

func TestZeroRatesInjectNothing(t *testing.T) {
	data, rep := mustCSV(t, gen.Config{Seed: 5, Users: 20_000, Record: true})
	if found := detect(t, parseCSV(t, data)[1:]); len(found) != 0 {
		t.Fatalf("clean data has problems: %v", head(found))
	}
	if len(rep.Injected) != 0 {
		t.Fatalf("injected %v", rep.Injected[:1])
	}
	for k, n := range rep.Counts {
		if n != 0 {
			t.Fatalf("%s: %d", k, n)
		}
	}
}

func TestEveryRowCanCarryAProblem(t *testing.T) {
	// Rates of 1 (the mail ones sharing it): every row carries each problem
	// but the duplicates, which need a row to duplicate (and a login is
	// duplicated once at most).
	r := gen.Rates{LoginCaseDuplicate: 1, DuplicateEmail: 1, MissingLastName: 1, OverlongTitle: 1,
		BadCountryCode: 1, BadLocale: 1, BadTimezone: 1}
	data, rep := mustCSV(t, gen.Config{Seed: 9, Users: 2000, Rates: r, Record: true})
	found := detect(t, parseCSV(t, data)[1:])
	if len(found) != len(rep.Injected) {
		t.Fatalf("found %d problems, injected %d", len(found), len(rep.Injected))
	}
	if rep.Counts[gen.KindLoginCaseDuplicate] < 900 || rep.Counts[gen.KindDuplicateEmail] != 1999 ||
		rep.Counts[gen.KindBadTimezone] != 2000 || rep.Counts[gen.KindOverlongTitle] != 2000 {
		t.Fatalf("counts %v", rep.Counts)
	}
}

func TestRecordOnlyKeepsTheListWhenAsked(t *testing.T) {
	cfg := gen.Config{Seed: 11, Users: 10_000, Rates: gen.DefaultRates()}
	a, off := mustCSV(t, cfg)
	cfg.Record = true
	b, on := mustCSV(t, cfg)
	if off.Injected != nil {
		t.Fatal("Injected kept without Record")
	}
	if !bytes.Equal(a, b) || fmt.Sprint(off.Counts) != fmt.Sprint(on.Counts) {
		t.Fatal("Record changes the output")
	}
	total := 0
	for _, n := range on.Counts {
		total += n
	}
	if total != len(on.Injected) || total == 0 {
		t.Fatalf("%d counted, %d recorded", total, len(on.Injected))
	}
	for i, in := range on.Injected {
		if in.Row < 1 || in.Row > cfg.Users || !slices.Contains(gen.Columns(), in.Column) || in.Note == "" {
			t.Fatalf("%+v", in)
		}
		if i > 0 && in.Row < on.Injected[i-1].Row {
			t.Fatal("not in row order")
		}
	}
}

func TestTheRatesChangeLittleElse(t *testing.T) {
	// Injection draws from its own stream: with or without problems, most
	// rows of a seed are the same users.
	clean := mustRows(t, gen.Config{Seed: 3, Users: 2000})
	messy := mustRows(t, gen.Config{Seed: 3, Users: 2000, Rates: gen.DefaultRates()})
	col := columnIndex()
	same := 0
	for i := range clean {
		if clean[i][col["streetAddress"]] == messy[i][col["streetAddress"]] && clean[i][col["givenName"]] == messy[i][col["givenName"]] {
			same++
		}
	}
	if same < 1900 {
		t.Fatalf("only %d of 2000 rows kept their user", same)
	}
}

func TestLDIFParsesBackToTheSameUsers(t *testing.T) {
	const users = 3000
	cfg := gen.Config{Seed: 17, Users: users, Domain: "Corp.Example.org", Rates: gen.DefaultRates()}
	var buf bytes.Buffer
	rep, err := gen.WriteLDIF(&buf, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != users {
		t.Fatalf("%d rows", rep.Rows)
	}
	data := buf.Bytes()
	if !bytes.Contains(data, []byte("\n ")) || !bytes.Contains(data, []byte(":: ")) {
		t.Fatal("no folded line or base64 value: the LDIF encoding is not exercised")
	}
	checkLDIFLines(t, data)

	want := mustRows(t, cfg)
	r, err := ldifextract.NewReader(bytes.NewReader(data), ldifextract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cols := gen.Columns()
	n := 0
	for ; ; n++ {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		w := want[n]
		if dn, _ := rec.Get("dn"); dn != "uid="+w[0]+",ou=people,dc=corp,dc=example,dc=org" {
			t.Fatalf("entry %d: dn %q", n+1, dn)
		}
		if oc := rec.Attributes["objectClass"]; !slices.Contains(oc, "inetOrgPerson") {
			t.Fatalf("entry %d: objectClass %v", n+1, oc)
		}
		for i, c := range cols {
			got, _ := rec.Get(c)
			if got != w[i] {
				t.Fatalf("entry %d: %s %q, want %q", n+1, c, got, w[i])
			}
		}
		if strings.HasSuffix(w[1], "@corp.example.org") == false {
			t.Fatalf("login %q not in the configured domain", w[1])
		}
	}
	if n != users {
		t.Fatalf("%d entries, want %d", n, users)
	}
	if len(r.Warnings()) != 0 {
		t.Fatalf("warnings: %v", r.Warnings())
	}
}

// checkLDIFLines checks RFC 2849 line by line, independently of any
// reader: ASCII only, lines of at most 76 bytes, SAFE-STRING plain values.
func checkLDIFLines(t *testing.T, data []byte) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if len(line) > 76 {
			t.Fatalf("line %d is %d bytes", n, len(line))
		}
		for i := 0; i < len(line); i++ {
			if line[i] >= 0x80 || line[i] == '\r' {
				t.Fatalf("line %d: byte %#x outside SAFE-CHAR", n, line[i])
			}
		}
		if line == "" || line[0] == ' ' {
			continue
		}
		_, v, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("line %d: %q is not name: value", n, line)
		}
		if strings.HasPrefix(v, ": ") || v == "" {
			continue
		}
		if !strings.HasPrefix(v, " ") || strings.HasPrefix(v[1:], " ") || strings.HasPrefix(v[1:], "<") {
			t.Fatalf("line %d: %q", n, line)
		}
	}
}

func TestJSONParsesBackToTheSameUsers(t *testing.T) {
	cfg := gen.Config{Seed: 19, Users: 1500, Rates: gen.DefaultRates()}
	want := mustRows(t, cfg)
	cols := gen.Columns()
	check := func(t *testing.T, objs []map[string]string) {
		if len(objs) != len(want) {
			t.Fatalf("%d objects, want %d", len(objs), len(want))
		}
		for n, o := range objs {
			if len(o) != gen.NumColumns {
				t.Fatalf("object %d has %d members", n+1, len(o))
			}
			for i, c := range cols {
				if o[c] != want[n][i] {
					t.Fatalf("object %d: %s %q, want %q", n+1, c, o[c], want[n][i])
				}
			}
		}
	}
	t.Run("array", func(t *testing.T) {
		var buf bytes.Buffer
		if _, err := gen.WriteJSON(&buf, cfg, false); err != nil {
			t.Fatal(err)
		}
		var objs []map[string]string
		if err := json.Unmarshal(buf.Bytes(), &objs); err != nil {
			t.Fatal(err)
		}
		check(t, objs)
	})
	t.Run("ndjson", func(t *testing.T) {
		var buf bytes.Buffer
		if _, err := gen.WriteJSON(&buf, cfg, true); err != nil {
			t.Fatal(err)
		}
		var objs []map[string]string
		for line := range strings.Lines(buf.String()) {
			var o map[string]string
			if err := json.Unmarshal([]byte(line), &o); err != nil {
				t.Fatal(err)
			}
			objs = append(objs, o)
		}
		check(t, objs)
	})
	t.Run("empty", func(t *testing.T) {
		var buf bytes.Buffer
		if _, err := gen.WriteJSON(&buf, gen.Config{}, false); err != nil {
			t.Fatal(err)
		}
		if buf.String() != "[]\n" {
			t.Fatalf("%q", buf.String())
		}
	})
}

func TestCSVMatchesTheRows(t *testing.T) {
	cfg := gen.Config{Seed: 23, Users: 2000, Rates: gen.DefaultRates()}
	data, _ := mustCSV(t, cfg)
	if got, want := parseCSV(t, data)[1:], mustRows(t, cfg); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatal("the CSV does not hold the generated rows")
	}
}

func TestBadConfigIsRefused(t *testing.T) {
	for name, cfg := range map[string]gen.Config{
		"negative users":  {Users: -1},
		"rate over 1":     {Users: 1, Rates: gen.Rates{BadLocale: 1.5}},
		"negative rate":   {Users: 1, Rates: gen.Rates{OverlongTitle: -0.1}},
		"NaN rate":        {Users: 1, Rates: gen.Rates{BadTimezone: math.NaN()}},
		"mail rates sum":  {Users: 1, Rates: gen.Rates{DuplicateEmail: 0.5, MalformedEmail: 0.4, MissingEmail: 0.2}},
		"domain, no dot":  {Users: 1, Domain: "localhost"},
		"domain with at":  {Users: 1, Domain: "a@example.com"},
		"domain, numeric": {Users: 1, Domain: "10.0.0.1"},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if _, err := gen.WriteCSV(&buf, cfg); err == nil {
				t.Fatal("accepted")
			}
			if _, err := gen.WriteLDIF(&buf, cfg); err == nil {
				t.Fatal("accepted")
			}
			if buf.Len() != 0 {
				t.Fatalf("wrote %q", buf.String())
			}
		})
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after -= len(p); w.after < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestAWriteErrorStopsTheGeneration(t *testing.T) {
	cfg := gen.Config{Seed: 1, Users: 100_000}
	for name, write := range map[string]func(io.Writer) (gen.Report, error){
		"csv":  func(w io.Writer) (gen.Report, error) { return gen.WriteCSV(w, cfg) },
		"ldif": func(w io.Writer) (gen.Report, error) { return gen.WriteLDIF(w, cfg) },
		"json": func(w io.Writer) (gen.Report, error) { return gen.WriteJSON(w, cfg, false) },
	} {
		rep, err := write(&failingWriter{after: 1 << 20})
		if err == nil || err.Error() != "disk full" {
			t.Fatalf("%s: %v", name, err)
		}
		if rep.Rows >= cfg.Users {
			t.Fatalf("%s: went on to row %d", name, rep.Rows)
		}
	}
}
