package quality_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/gen"
	"github.com/ferry-migrate/ferry/internal/staging"
)

// BenchmarkStageValidate stages, maps and fully validates (uniqueness
// included) a generated CSV of FERRY_BENCH_ROWS rows (default 1,000,000; 20
// columns, about 250 bytes a row), and times sqlite3's own .import of the
// same file as the floor of any staging into SQLite. Goals on a 2-core
// machine: ≥ 50,000 rows/s end to end, within 4× of sqlite3, < 512 MiB RSS.
func BenchmarkStageValidate(b *testing.B) {
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("FERRY_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "users.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := gen.WriteCSV(w, gen.Config{Seed: 1, Users: rows, Rates: gen.DefaultRates()}); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	info, _ := os.Stat(path)

	// The floor: sqlite3's own CSV import into a bare table.
	var floor time.Duration
	if sqlite, err := exec.LookPath("sqlite3"); err == nil {
		start := time.Now()
		cmd := exec.Command(sqlite, filepath.Join(dir, "floor.db"), ".mode csv", ".import "+path+" users")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("sqlite3 .import: %v\n%s", err, out)
		}
		floor = time.Since(start)
	} else {
		b.Log("sqlite3 is not installed (apt-get install sqlite3): no floor to compare with")
	}

	for range b.N {
		w := newWorld(b)
		start := time.Now()
		in, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		reader, format, err := staging.OpenReader(bufio.NewReaderSize(in, 1<<20), "")
		if err != nil {
			b.Fatal(err)
		}
		ex, err := w.staging.Stage(w.ctx, w.p.ID, w.src.ID, reader, staging.Meta{FileName: "users.csv", Format: format, Size: info.Size()}, nil)
		in.Close()
		if err != nil {
			b.Fatal(err)
		}
		staged := time.Since(start)
		if _, err := w.mapping.AcceptSuggestions(w.ctx, w.p.ID, nil); err != nil {
			b.Fatal(err)
		}
		mapped := time.Since(start)
		run, err := w.quality.Validate(w.ctx, w.p.ID, nil)
		if err != nil {
			b.Fatal(err)
		}
		total := time.Since(start)
		if run.Records != ex.Records || ex.Records != int64(rows) {
			b.Fatalf("staged %d, validated %d, generated %d", ex.Records, run.Records, rows)
		}
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		rate := float64(rows) / total.Seconds()
		b.ReportMetric(rate, "rows/s")
		fmt.Printf("BENCH stage_validate_rows_per_s %.0f rows/s\n", rate)
		fmt.Printf("BENCH stage_rows_per_s %.0f rows/s\n", float64(rows)/staged.Seconds())
		if floor > 0 {
			fmt.Printf("BENCH stage_validate_vs_sqlite_import %.1f x\n", total.Seconds()/floor.Seconds())
			fmt.Printf("BENCH sqlite_import_s %.1f s\n", floor.Seconds())
		}
		fmt.Printf("BENCH stage_peak_rss_mib %d MiB\n", ru.Maxrss/1024)
		b.Logf("by issue type: %v", run.Counts.ByCode)
		b.Logf("%d rows (%d MB): staged in %s, mapped in %s, validated in %s; %d invalid, %d occurrences", rows, info.Size()>>20, staged.Round(time.Millisecond),
			(mapped - staged).Round(time.Millisecond), (total - mapped).Round(time.Millisecond), run.Invalid, run.Occurrences)
	}
}
