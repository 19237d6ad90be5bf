package gen_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/gen"
)

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// BenchmarkWriteCSV generates a 200,000-row CSV extract with the default
// problem rates. The staging benchmark generates its 1,000,000 rows with
// it, so this must stay well above 300,000 rows a second.
func BenchmarkWriteCSV(b *testing.B) {
	benchmarkWrite(b, "csv", func(w io.Writer, cfg gen.Config) (gen.Report, error) { return gen.WriteCSV(w, cfg) })
}

// BenchmarkWriteLDIF and BenchmarkWriteNDJSON do the same in the other formats.
func BenchmarkWriteLDIF(b *testing.B) { benchmarkWrite(b, "ldif", gen.WriteLDIF) }

func BenchmarkWriteNDJSON(b *testing.B) {
	benchmarkWrite(b, "ndjson", func(w io.Writer, cfg gen.Config) (gen.Report, error) { return gen.WriteJSON(w, cfg, true) })
}

func benchmarkWrite(b *testing.B, format string, write func(io.Writer, gen.Config) (gen.Report, error)) {
	const rows = 200_000
	cfg := gen.Config{Seed: 1, Users: rows, Rates: gen.DefaultRates()}
	b.ReportAllocs()
	var elapsed time.Duration
	var written int64
	runs := 0
	for b.Loop() {
		w := &countingWriter{}
		start := time.Now()
		rep, err := write(w, cfg)
		if err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		if rep.Rows != rows {
			b.Fatalf("%d rows", rep.Rows)
		}
		written += w.n
		runs++
	}
	b.SetBytes(written / int64(runs))
	perSec := float64(rows*runs) / elapsed.Seconds()
	b.ReportMetric(perSec, "rows/s")
	fmt.Printf("BENCH gen_%s_rows_per_s %.0f rows/s\n", format, perSec)
	if format == "csv" {
		fmt.Printf("BENCH gen_csv_bytes_per_row %.0f bytes\n", float64(written)/float64(rows*runs))
	}
}
