package csvextract_test

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/staging/csvextract"
)

// BenchmarkReader reads a generated 200,000-row extract of 20 columns
// (about 250 bytes a row) from memory.
func BenchmarkReader(b *testing.B) {
	const rows = 200_000
	data, err := io.ReadAll(&generator{rows: rows})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var elapsed time.Duration
	runs := 0
	for b.Loop() {
		start := time.Now()
		r, err := csvextract.NewReader(bytes.NewReader(data), csvextract.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("%d rows", n)
		}
		elapsed += time.Since(start)
		runs++
	}
	perSec := float64(rows*runs) / elapsed.Seconds()
	b.ReportMetric(perSec, "rows/s")
	fmt.Printf("BENCH csv_read_rows_per_s %.0f rows/s\n", perSec)
}
