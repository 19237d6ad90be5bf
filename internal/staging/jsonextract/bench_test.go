package jsonextract_test

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/staging/jsonextract"
)

// generateNDJSON makes n NDJSON users of about 400 bytes each, with the
// shapes real exports have: nested address, multi-valued groups, numbers,
// booleans, nulls and a few accented names.
func generateNDJSON(n int) []byte {
	first := []string{"Ann", "Bob", "Zoë", "Łukasz", "Mei", "Omar", "Inès", "Sven"}
	last := []string{"Brock", "Nguyen", "Müller", "Okafor", "García", "Smith", "Øvergaard"}
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `{"id":"00u%07d","login":"user%d@example.com","email":"user%d@example.com",`+
			`"firstName":%s,"lastName":%s,"employeeNumber":%d,"active":%t,"manager":null,`+
			`"title":"Engineer %d","department":"Dept %d","mobilePhone":"+1 555 %07d",`+
			`"address":{"street":"%d Main St","city":"Springfield","countryCode":"US","postalCode":"%05d"},`+
			`"groups":["Everyone","Team %d"]}`+"\n",
			i, i, i, strconv.Quote(first[i%len(first)]), strconv.Quote(last[i%len(last)]), 1000+i, i%5 != 0,
			i%40, i%25, i, i%999, i%100000, i%30)
	}
	return b.Bytes()
}

// BenchmarkNDJSON reads 100,000 generated NDJSON users.
func BenchmarkNDJSON(b *testing.B) {
	const users = 100_000
	data := generateNDJSON(users)
	b.SetBytes(int64(len(data)))
	var elapsed time.Duration
	runs := 0
	for b.Loop() {
		start := time.Now()
		r, err := jsonextract.NewReader(bytes.NewReader(data), jsonextract.Options{})
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
		if n != users {
			b.Fatalf("%d records", n)
		}
		elapsed += time.Since(start)
		runs++
	}
	perSec := float64(users*runs) / elapsed.Seconds()
	b.ReportMetric(perSec, "records/s")
	fmt.Printf("BENCH json_read_records_per_s %.0f records/s\n", perSec)
}
