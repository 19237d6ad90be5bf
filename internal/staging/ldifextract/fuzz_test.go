package ldifextract_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/internal/staging/extract"
	"github.com/ferry-migrate/ferry/internal/staging/ldifextract"
)

// FuzzReader checks that no input makes the reader panic or loop, that
// every refusal is an *extract.Error that sticks, and that what it accepts
// is well formed. Its seed corpus is testdata/fuzz/FuzzReader (real exports
// and each kind of broken file), which go test runs.
func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		checkReader(t, data, ldifextract.Options{})
		// Small limits, so that short inputs reach them too.
		checkReader(t, data, ldifextract.Options{MaxValueBytes: 48, MaxAttributesPerEntry: 6, MaxEntryBytes: 200, MaxColumns: 5})
	})
}

func checkReader(t *testing.T, data []byte, opts ldifextract.Options) {
	r, err := ldifextract.NewReader(bytes.NewReader(data), opts)
	if err != nil {
		if e, ok := err.(*extract.Error); !ok || e.Message == "" {
			t.Fatalf("NewReader: %T %v, want an *extract.Error", err, err)
		}
		return
	}
	// Every entry takes at least one byte: more calls than bytes is a loop.
	for calls := 0; ; calls++ {
		if calls > len(data)+1 {
			t.Fatalf("more than %d calls to Next for %d bytes", calls, len(data))
		}
		rec, err := r.Next()
		if err == io.EOF {
			if _, again := r.Next(); again != io.EOF {
				t.Fatalf("Next after io.EOF: %v", again)
			}
			break
		}
		if err != nil {
			e, ok := err.(*extract.Error)
			if !ok || e.Message == "" {
				t.Fatalf("Next: %T %v, want an *extract.Error", err, err)
			}
			if e.Unit == "entry" && e.Position != calls+1 {
				t.Fatalf("error in entry %d while reading entry %d: %v", e.Position, calls+1, e)
			}
			if _, again := r.Next(); again != err {
				t.Fatalf("Next after a refusal: %v", again)
			}
			break
		}
		if rec.Position != calls+1 {
			t.Fatalf("record %d has Position %d", calls+1, rec.Position)
		}
		if dn := rec.Attributes["dn"]; len(dn) != 1 {
			t.Fatalf("record %d: dn %q", rec.Position, dn)
		}
		values := 0
		for name, vals := range rec.Attributes {
			if len(vals) == 0 {
				t.Fatalf("record %d: %s has no value", rec.Position, name)
			}
			for _, v := range vals {
				if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 || len(v) > max(opts.MaxValueBytes, 1<<20)*4/3+4 {
					t.Fatalf("record %d: %s = %q", rec.Position, name, v)
				}
			}
			values += len(vals)
		}
		if opts.MaxAttributesPerEntry > 0 && values > opts.MaxAttributesPerEntry+1 {
			t.Fatalf("record %d holds %d values", rec.Position, values)
		}
	}
	seen := map[string]bool{}
	for i, c := range r.Columns() {
		if seen[strings.ToLower(c)] || (i == 0) != (c == "dn") {
			t.Fatalf("columns %q", r.Columns())
		}
		seen[strings.ToLower(c)] = true
	}
}
