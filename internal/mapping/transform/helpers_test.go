package transform_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/mapping/transform"
)

// mustParse parses a definition that the test expects to be valid.
func mustParse(tb testing.TB, def string) transform.Pipeline {
	tb.Helper()
	p, err := transform.Parse([]byte(def))
	if err != nil {
		tb.Fatalf("Parse(%s): %v", def, err)
	}
	return p
}

// applyCase is one value through one pipeline: the record's field "f" holds
// in, unless rec is given.
type applyCase struct {
	name    string
	def     string
	in      string
	rec     transform.MapRecord
	want    string
	wantErr string // a part of the *ValueError's message; "" when none is expected
}

func runApplyCases(t *testing.T, cases []applyCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustParse(t, c.def)
			rec := c.rec
			if rec == nil {
				rec = transform.MapRecord{"f": c.in}
			}
			got, err := p.Apply(rec, "f")
			if c.wantErr != "" {
				var ve *transform.ValueError
				if !errors.As(err, &ve) {
					t.Fatalf("Apply(%q) = %q, %v; want a *ValueError containing %q", short(c.in), short(got), err, c.wantErr)
				}
				if !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Apply(%q) error = %q; want it to contain %q", short(c.in), err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply(%q): %v", short(c.in), err)
			}
			if got != c.want {
				t.Fatalf("Apply(%q) = %q; want %q", short(c.in), short(got), short(c.want))
			}
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func itoa(i int) string { return strconv.Itoa(i) }

func nowMillis() int64 { return time.Now().UnixMilli() }

// short keeps long values out of failure messages.
func short(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:80] + "…"
}
