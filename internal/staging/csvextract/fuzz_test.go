package csvextract_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/ferry-migrate/ferry/internal/staging/csvextract"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// FuzzReader checks, for any input, that the reader never panics nor
// loops, that every error refuses the file (*extract.Error) or one row
// (*extract.RecordError), that reading in one-byte pieces through tiny
// buffers gives exactly what reading it whole does, and that a SizeHint
// never refuses a file the end of the file would accept. The seed corpus in
// testdata/fuzz/FuzzReader runs with every go test.
func FuzzReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := trace(t, bytes.NewReader(data), csvextract.Options{}, len(data))

		// The same, read in one-byte pieces through the smallest buffers.
		delim := whole.delim
		if delim == 0 {
			delim = ','
		}
		opts := csvextract.Options{Delimiter: delim, MaxFieldBytes: 64, MaxRecordBytes: 256,
			MaxRaggedRatio: 0.3, MultiValueSeparator: ";"}
		big := trace(t, bytes.NewReader(data), opts, len(data))
		restore := csvextract.SetBufferSizes(16, 0)
		small := trace(t, iotest.OneByteReader(bytes.NewReader(data)), opts, len(data))
		restore()
		if !slices.Equal(big.events, small.events) {
			t.Fatalf("whole and in pieces differ:\n%q\n%q", big.events, small.events)
		}

		// A decision window of 16 bytes decides differently, but as safely.
		restore = csvextract.SetBufferSizes(16, 16)
		trace(t, bytes.NewReader(data), csvextract.Options{}, len(data))
		restore()

		// A SizeHint refuses early only what the end of the file refuses.
		opts = csvextract.Options{MaxRaggedRatio: 0.2}
		atEnd := trace(t, bytes.NewReader(data), opts, len(data))
		opts.SizeHint = int64(len(data))
		early := trace(t, bytes.NewReader(data), opts, len(data))
		if atEnd.refused == "" && early.refused != "" {
			t.Fatalf("refused with a SizeHint only: %s", early.refused)
		}
	})
}

type traced struct {
	delim   rune
	events  []string
	refused string
}

// trace reads src to its end, checks what every reader promises, and
// records what it returned.
func trace(t *testing.T, src io.Reader, opts csvextract.Options, size int) traced {
	t.Helper()
	var out traced
	r, err := csvextract.NewReader(src, opts)
	if err != nil {
		checkRefusal(t, err)
		out.refused = err.Error()
		out.events = append(out.events, "refused: "+err.Error())
		return out
	}
	out.delim = r.Delimiter()
	cols := r.Columns()
	if len(cols) == 0 {
		t.Fatal("no columns")
	}
	out.events = append(out.events, fmt.Sprintf("columns %q", cols))
	last := 0
	for calls := 0; ; calls++ {
		if calls > size+1 {
			t.Fatalf("%d calls to Next on %d bytes", calls, size)
		}
		rec, err := r.Next()
		if err == io.EOF {
			if _, again := r.Next(); again != io.EOF {
				t.Fatalf("Next after io.EOF: %v", again)
			}
			break
		}
		var re *extract.RecordError
		if errors.As(err, &re) {
			if re.Position <= last || re.Unit != "line" {
				t.Fatalf("ragged row at %s %d after line %d", re.Unit, re.Position, last)
			}
			last = re.Position
			out.events = append(out.events, "ragged: "+re.Error())
			continue
		}
		if err != nil {
			checkRefusal(t, err)
			if _, again := r.Next(); again != err {
				t.Fatalf("Next after %v: %v", err, again)
			}
			out.refused = err.Error()
			out.events = append(out.events, "refused: "+err.Error())
			break
		}
		if rec.Position <= last || rec.Position < 2 {
			t.Fatalf("record at line %d after line %d", rec.Position, last)
		}
		last = rec.Position
		if len(rec.Attributes) != len(cols) {
			t.Fatalf("%d attributes for %d columns", len(rec.Attributes), len(cols))
		}
		var e strings.Builder
		fmt.Fprintf(&e, "line %d:", rec.Position)
		for _, c := range cols {
			vs := rec.Attributes[c]
			if len(vs) == 0 {
				t.Fatalf("column %q has no value", c)
			}
			fmt.Fprintf(&e, " %q", vs)
		}
		out.events = append(out.events, e.String())
	}
	for _, w := range r.Warnings() {
		if w != "converted from Windows-1252" {
			t.Fatalf("warning %q", w)
		}
	}
	// The decoder reads ahead of the parser: what it noticed there counts
	// once the file is read whole.
	if out.refused == "" {
		out.events = append(out.events, fmt.Sprintf("warnings %q", r.Warnings()))
	}
	return out
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var e *extract.Error
	if !errors.As(err, &e) {
		t.Fatalf("%T is not an *extract.Error: %v", err, err)
	}
	if e.Position < 0 || e.Position > 0 && e.Unit != "line" || e.Message == "" {
		t.Fatalf("bad refusal %#v", e)
	}
}
