package csvextract_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ferry-migrate/ferry/internal/staging/csvextract"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// result is everything a Reader gave for one input.
type result struct {
	cols     []string
	records  []extract.Record
	ragged   []*extract.RecordError
	err      error // the refusal; nil when the input ended with io.EOF
	warnings []string
	reader   *csvextract.Reader
}

func read(t testing.TB, src io.Reader, opts csvextract.Options) result {
	t.Helper()
	r, err := csvextract.NewReader(src, opts)
	if err != nil {
		return result{err: err}
	}
	res := result{cols: r.Columns(), reader: r}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var re *extract.RecordError
		if errors.As(err, &re) {
			res.ragged = append(res.ragged, re)
			continue
		}
		if err != nil {
			res.err = err
			if _, again := r.Next(); again != err {
				t.Errorf("Next after %v returned %v", err, again)
			}
			break
		}
		res.records = append(res.records, rec)
	}
	res.warnings = r.Warnings()
	return res
}

func readString(t testing.TB, s string, opts csvextract.Options) result {
	t.Helper()
	return read(t, strings.NewReader(s), opts)
}

// ok fails the test when the input was refused.
func (res result) ok(t testing.TB) result {
	t.Helper()
	if res.err != nil {
		t.Fatalf("refused: %v", res.err)
	}
	return res
}

// values lists each record's values in column order; a column with several
// values shows them joined with "|".
func (res result) values() [][]string {
	var out [][]string
	for _, rec := range res.records {
		row := make([]string, len(res.cols))
		for i, c := range res.cols {
			row[i] = strings.Join(rec.Attributes[c], "|")
		}
		out = append(out, row)
	}
	return out
}

func (res result) positions() []int {
	var out []int
	for _, rec := range res.records {
		out = append(out, rec.Position)
	}
	return out
}

// refused checks that err is an *extract.Error at line (0: the whole file)
// whose message contains want.
func refused(t testing.TB, err error, line int, want string) {
	t.Helper()
	var e *extract.Error
	if !errors.As(err, &e) {
		t.Fatalf("want an *extract.Error at line %d containing %q, got %T %v", line, want, err, err)
	}
	if e.Position != line || !strings.Contains(e.Message, want) {
		t.Fatalf("want line %d containing %q, got %q", line, want, e.Error())
	}
	if line > 0 && e.Unit != "line" {
		t.Fatalf("unit %q", e.Unit)
	}
}

func equal(t testing.TB, got, want any) {
	t.Helper()
	if g, w := fmt.Sprintf("%q", got), fmt.Sprintf("%q", want); g != w {
		t.Fatalf("got  %s\nwant %s", g, w)
	}
}

// utf16File encodes s as UTF-16 with a byte-order mark.
func utf16File(s string, bigEndian bool) []byte {
	units := append([]uint16{0xFEFF}, utf16.Encode([]rune(s))...)
	b := make([]byte, 0, 2*len(units))
	for _, u := range units {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return b
}

// userHeader and appendUser make the rows of a realistic 20-column extract,
// about 250 bytes each, with a quoted display name.
const userHeader = "id,login,email,firstName,lastName,displayName,title,department,employeeNumber,mobilePhone," +
	"streetAddress,city,state,zipCode,countryCode,managerId,costCenter,division,organization,locale\n"

var (
	firstNames = []string{"Isaac", "Ann", "Zoë", "Łukasz", "Mei", "Omar", "Inès", "Sven"}
	lastNames  = []string{"Brock", "Nguyen", "Müller", "Okafor", "García", "Smith", "Øvergaard"}
)

func appendUser(b []byte, i int) []byte {
	first, last := firstNames[i%len(firstNames)], lastNames[i%len(lastNames)]
	return fmt.Appendf(b, "%d,user%d@example.com,user%d@example.com,%s,%s,\"%s, %s\",Senior Engineer %d,Engineering %d,E%07d,+1 555 %07d,"+
		"%d Main Street Apt %d,Springfield,IL,%05d,US,%d,CC-%04d,Division %d,Example Corporation,en_US\n",
		i, i, i, first, last, last, first, i%40, i%25, i, i, i%999, i%50, i%100000, i/10, i%500, i%7)
}

// generator streams a large extract without holding it: the header, then
// rows from appendUser.
type generator struct {
	rows, next int
	buf        []byte
	header     bool
}

func (g *generator) Read(p []byte) (int, error) {
	for len(g.buf) == 0 {
		switch {
		case !g.header:
			g.buf, g.header = append(g.buf[:0], userHeader...), true
		case g.next < g.rows:
			g.buf = g.buf[:0]
			for ; g.next < g.rows && len(g.buf) < 32<<10; g.next++ {
				g.buf = appendUser(g.buf, g.next)
			}
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// repeat streams prefix, n copies of the byte c, then suffix, without
// holding them.
type repeat struct {
	prefix, suffix []byte
	c              byte
	n              int
}

func (r *repeat) Read(p []byte) (int, error) {
	switch {
	case len(r.prefix) > 0:
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	case r.n > 0:
		n := min(len(p), r.n)
		for i := range n {
			p[i] = r.c
		}
		r.n -= n
		return n, nil
	case len(r.suffix) > 0:
		n := copy(p, r.suffix)
		r.suffix = r.suffix[n:]
		return n, nil
	}
	return 0, io.EOF
}

// failing returns its data, then err.
type failing struct {
	data *bytes.Reader
	err  error
}

func (f *failing) Read(p []byte) (int, error) {
	if f.data.Len() == 0 {
		return 0, f.err
	}
	return f.data.Read(p)
}
