package staging_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/csvextract"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// mapOnly hides a reader's NextRow, so that staging takes the records as maps.
type mapOnly struct{ extract.Reader }

// Staging a CSV file row by row (csvextract.NextRow) must store and observe
// exactly what staging its records as maps does: same records, same JSON,
// same quarantined rows, same column statistics.
func TestStagingRowsIsStagingRecords(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("mail,employeeID,sn,groups,<tag>,userPassword\n")
	for i := range 2500 {
		if i%700 == 3 {
			csv.WriteString("ragged,row\n")
			continue
		}
		fmt.Fprintf(&csv, "user%d@example.com, E%05d ,Sm\u00e9th%d,%s,%s,secret%d\n", i, i, i%7, []string{"", "a|b", "c", "d|d|e"}[i%4], []string{"x&y", "", "\"q\""}[i%3], i)
	}
	open := func() extract.Reader {
		r, err := csvextract.NewReader(strings.NewReader(csv.String()), csvextract.Options{MultiValueSeparator: "|", MultiValueColumns: []string{"groups"}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	type staged struct {
		ex      *staging.Extract
		records []staging.StagedRecord
		quar    []staging.QuarantinedRow
	}
	stage := func(r extract.Reader) staged {
		f := newFixture(t)
		ex, err := f.stage(t, r)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := f.svc.FindRecords(f.ctx, ex.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		quar, err := f.svc.FindQuarantined(f.ctx, ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		return staged{ex, recs, quar}
	}
	rows, maps := stage(open()), stage(mapOnly{open()})
	if _, ok := open().(interface {
		NextRow() (int, [][]string, error)
	}); !ok {
		t.Fatal("csvextract.Reader has no NextRow: this test compares nothing")
	}
	if rows.ex.Records != maps.ex.Records || rows.ex.Quarantined != maps.ex.Quarantined || rows.ex.KeyAttribute != maps.ex.KeyAttribute ||
		rows.ex.Records == 0 || rows.ex.Quarantined == 0 {
		t.Fatalf("rows: %d records, %d quarantined, key %q; maps: %d, %d, %q", rows.ex.Records, rows.ex.Quarantined, rows.ex.KeyAttribute,
			maps.ex.Records, maps.ex.Quarantined, maps.ex.KeyAttribute)
	}
	if !reflect.DeepEqual(rows.ex.Columns, maps.ex.Columns) {
		t.Fatalf("columns:\nrows %+v\nmaps %+v", rows.ex.Columns, maps.ex.Columns)
	}
	if len(rows.records) != len(maps.records) || len(rows.quar) != len(maps.quar) {
		t.Fatalf("%d/%d records, %d/%d quarantined", len(rows.records), len(maps.records), len(rows.quar), len(maps.quar))
	}
	for i := range rows.records {
		a, b := rows.records[i], maps.records[i]
		if a.Position != b.Position || a.SourceKey != b.SourceKey || !reflect.DeepEqual(a.Attributes, b.Attributes) {
			t.Fatalf("record %d:\nrows %+v\nmaps %+v", i, a, b)
		}
	}
	for i := range rows.quar {
		if rows.quar[i].Position != maps.quar[i].Position || rows.quar[i].Message != maps.quar[i].Message {
			t.Fatalf("quarantined %d: %+v / %+v", i, rows.quar[i], maps.quar[i])
		}
	}
}
