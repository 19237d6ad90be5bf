package jsonextract_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/internal/staging/extract"
	"github.com/ferry-migrate/ferry/internal/staging/jsonextract"
)

// FuzzReader checks that any input ends in records, bad records and at most
// one refusal, never a panic or a loop, and that what is accepted is JSON.
// Its seed corpus is testdata/fuzz/FuzzReader plus the files in testdata.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		`[{"a":"b"}]`, "{\"a\":1}\n{\"b\":[1,2]}\n", `{"a":{"b":{"c":"d"}}}`, `[{"e":[{"v":1},{"w":2}]}]`,
		"\xef\xbb\xbf[]", "", "[", `{"a":1,"a":2}`, "[1,2,3]", "nul", "\x00", `{"a":"\u00e9"}`,
	} {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := jsonextract.NewReader(bytes.NewReader(data), jsonextract.Options{MaxValueBytes: 64, MaxDepth: 2})
		if err != nil {
			var ee *extract.Error
			if !errors.As(err, &ee) {
				t.Fatalf("NewReader: %T %v, want an *extract.Error", err, err)
			}
			return
		}
		for i := 0; ; i++ {
			if i > len(data)+2 {
				t.Fatalf("more results than bytes")
			}
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if extract.IsRecordError(err) {
				continue
			}
			if err != nil {
				var ee *extract.Error
				if !errors.As(err, &ee) {
					t.Fatalf("Next: %T %v, want an *extract.Error", err, err)
				}
				if ee.Position < 1 {
					t.Fatalf("refusal without a line: %v", err)
				}
				return
			}
			if rec.Position < 1 {
				t.Fatalf("position %d", rec.Position)
			}
			for name, values := range rec.Attributes {
				if name == "" || len(values) == 0 {
					t.Fatalf("attribute %q = %q", name, values)
				}
				for _, v := range values {
					if !utf8.ValidString(v) || len(v) > 64 {
						t.Fatalf("value %q", v)
					}
				}
			}
		}
		// Accepted whole: the input (less a BOM) is a stream of JSON values.
		dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
		for {
			var v any
			if err := dec.Decode(&v); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("accepted, but encoding/json says: %v", err)
			}
		}
		if !utf8.Valid(data) {
			t.Fatalf("accepted invalid UTF-8")
		}
	})
}
