package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/auth"
	"github.com/ferry-migrate/ferry/internal/mapping"
	"github.com/ferry-migrate/ferry/internal/schema"
)

// BenchmarkMatrixRender measures the server-side time to answer the matrix
// page of a large project: Okta's 31 base attributes plus 200 custom ones,
// 10 sources of 200 fields each, every field mapped (2,000 rows) and with
// sample values to preview. The goal is under 100 ms.
func BenchmarkMatrixRender(b *testing.B) {
	app := newTestApp(b)
	lead := app.mustAccount("lead@example.com", "Lea Lead", false)
	p := app.mustProject(lead, "Big")
	ctx := asActor(lead)
	var targets []string
	for _, a := range schema.Base() {
		targets = append(targets, a.Name)
	}
	for i := range 200 {
		name, title, typ := fmt.Sprintf("custom%03d", i), fmt.Sprintf("Custom %d", i), "string"
		if _, err := app.Schema.CreateCustomAttribute(ctx, p.ID, schema.CustomAttributeInput{Name: &name, Title: &title, Type: &typ}); err != nil {
			b.Fatal(err)
		}
		targets = append(targets, name)
	}
	priority := map[string]int{}
	for s := range 10 {
		src := seedSource(b, app, lead, p, fmt.Sprintf("Source %02d", s))
		for f := range 200 {
			name := fmt.Sprintf("attr%03d", f)
			samples := []string{fmt.Sprintf(" Value %d-%d ", s, f), fmt.Sprintf("value.%d@example.com", f), "x"}
			length := 100
			lp := &length
			field, err := app.Map.CreateField(ctx, p.ID, src.ID, mapping.FieldInput{Name: &name, Samples: &samples, MaxLength: &lp})
			if err != nil {
				b.Fatal(err)
			}
			target := targets[(s*200+f)%len(targets)]
			priority[target]++
			prio := priority[target]
			transform := `[{"op":"trim"},{"op":"lower"}]`
			if _, err := app.Map.CreateRow(ctx, p.ID, mapping.RowInput{SourceFieldID: &field.ID, TargetAttribute: &target, Priority: &prio, Transform: &transform}); err != nil {
				b.Fatal(err)
			}
		}
	}
	app.mustMember(p, app.mustAccount("eng@example.com", "Eli Engineer", false), auth.RoleEngineer)
	br := app.signedIn(lead)
	path := projectPath(p, "/matrix")
	if res := br.get(path); res.StatusCode != http.StatusOK {
		b.Fatalf("matrix: %d", res.StatusCode)
	}
	// Server-side time: the handler writes into a recorder, with the browser's cookies.
	u, _ := url.Parse(app.HTTP.URL)
	cookies := br.c.Jar.Cookies(u)
	const renders = 10
	b.ResetTimer()
	var total time.Duration
	size := 0
	for range b.N {
		for range renders {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			rec := httptest.NewRecorder()
			start := time.Now()
			app.Server.ServeHTTP(rec, req)
			total += time.Since(start)
			if rec.Code != http.StatusOK || rec.Body.Len() < 100_000 {
				b.Fatalf("matrix: %d, %d bytes", rec.Code, rec.Body.Len())
			}
			size = rec.Body.Len()
		}
	}
	ms := float64(total.Microseconds()) / 1000 / float64(b.N*renders)
	b.ReportMetric(ms, "ms/render")
	fmt.Printf("BENCH matrix_render_ms %.1f ms\n", ms)
	fmt.Printf("BENCH matrix_page_kb %d KiB\n", size/1024)
}
