package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"gorm.io/gorm"

	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/quality"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/web"
)

// A page that shows a job follows it while it is active and reloads once it
// has ended. These tests end a job just before each query of the page's
// rendering in turn: whichever it is, the page must either still follow the
// job or show it ended beside what it produced. (Read the other way round,
// an ended job showed beside the data from before it, and the page stopped
// following it: a browser test failed that way on a busy CI machine.)

// queryGate runs a function before the n-th query that a page request makes.
type queryGate struct {
	// at is the query (counted from 1) before which the gate opens; 0: never.
	at, seen atomic.Int64
	opened   atomic.Bool
	mu       sync.Mutex
	open     func() // under mu
}

// newQueryGate counts the queries made by server requests (their contexts
// carry http.ServerContextKey), not those of the test or the job runner.
func newQueryGate(t *testing.T, app *testApp) *queryGate {
	t.Helper()
	g := &queryGate{}
	before := func(tx *gorm.DB) {
		ctx := tx.Statement.Context
		if ctx == nil || ctx.Value(http.ServerContextKey) == nil || g.at.Load() == 0 {
			return
		}
		if g.seen.Add(1) == g.at.Load() {
			g.mu.Lock()
			open := g.open
			g.mu.Unlock()
			open()
			g.opened.Store(true)
		}
	}
	handles := []*gorm.DB{app.DB.Write}
	if app.DB.Read != app.DB.Write {
		handles = append(handles, app.DB.Read)
	}
	for _, h := range handles {
		if err := h.Callback().Query().Before("gorm:query").Register("test:query_gate", before); err != nil {
			t.Fatal(err)
		}
		if err := h.Callback().Row().Before("gorm:row").Register("test:query_gate", before); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// eachQuery renders the page at path (as b) once per query it makes,
// ending a job before that query: start submits a job that waits for its
// release. Where the page shows the job ended, checkEnded checks it shows
// what the job produced beside it. It stops once the page made fewer
// queries than the point reached (every point has then been tried), and
// fails if no point showed the job ended (the gate then tried nothing).
func (g *queryGate) eachQuery(t *testing.T, b *browser, projectID int64, path string, start func(point int, release <-chan struct{}) *jobs.Job,
	checkEnded func(point int, j *jobs.Job, doc *goquery.Document)) {
	t.Helper()
	ended := 0
	for point := 1; ; point++ {
		if point > 500 {
			t.Fatal("the page makes over 500 queries: the gate never stopped")
		}
		release := make(chan struct{})
		j := start(point, release)
		g.seen.Store(0)
		g.opened.Store(false)
		g.mu.Lock()
		g.open = func() {
			close(release)
			b.app.waitJob(projectID, j.ID)
		}
		g.mu.Unlock()
		g.at.Store(int64(point))
		res := b.get(path)
		g.at.Store(0)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		if !g.opened.Load() {
			close(release)
			b.app.waitJob(projectID, j.ID)
			if point == 1 {
				t.Fatal("the page made no query through the gate")
			}
			break
		}
		doc := res.doc(t)
		panel := doc.Find(fmt.Sprintf("#job-%d", j.ID))
		if panel.Length() != 1 {
			t.Fatalf("ended before query %d: the page does not show job %d", point, j.ID)
		}
		if _, follows := panel.Attr("data-job-poll"); !follows {
			ended++
			checkEnded(point, j, doc)
		}
	}
	if ended == 0 {
		t.Error("no point showed the job ended: the gate tried nothing")
	}
}

func TestDataPageNeverShowsAStagingEndedWithoutItsExtract(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	gate := newQueryGate(t, w.app)
	ctx := asActor(w.engineer)
	fileName := func(point int) string { return fmt.Sprintf("hr-%d.csv", point) }
	start := func(point int, release <-chan struct{}) *jobs.Job {
		w.app.Clock.Advance(time.Second)
		j, err := w.app.Jobs.Submit(ctx, jobs.Spec{ProjectID: w.p.ID, SourceID: w.src.ID, Kind: jobs.KindStageFile},
			func(ctx context.Context, _ *jobs.Progress) (jobs.Outcome, error) {
				<-release
				r, format, err := staging.OpenReader(strings.NewReader(hrCSV), "")
				if err != nil {
					return jobs.Outcome{}, err
				}
				ex, err := w.app.Staging.Stage(ctx, w.p.ID, w.src.ID, r, staging.Meta{FileName: fileName(point), Format: format}, nil)
				if err != nil {
					return jobs.Outcome{}, err
				}
				return jobs.Outcome{Message: fmt.Sprintf("Staged %s: %d record(s).", ex.FileName, ex.Records)}, nil
			})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	gate.eachQuery(t, w.asEngineer, w.p.ID, w.path("/data"), start, func(point int, j *jobs.Job, doc *goquery.Document) {
		section := doc.Find(fmt.Sprintf("#source-%d", w.src.ID))
		if got := text(section.Find(".extract-file")); got != fileName(point) {
			t.Errorf("staging ended before query %d: the page shows it ended beside extract %q, not %q", point, got, fileName(point))
		}
		if got := text(section.Find(".extract-records")); got != "4" {
			t.Errorf("staging ended before query %d: records %q", point, got)
		}
	})
}

func TestQualityPageNeverShowsAValidationEndedWithoutItsRun(t *testing.T) {
	w := newDataWorld(t, web.Options{})
	ctx := asActor(w.engineer)
	r, format, err := staging.OpenReader(strings.NewReader(hrCSV), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.app.Staging.Stage(ctx, w.p.ID, w.src.ID, r, staging.Meta{FileName: "hr.csv", Format: format}, nil); err != nil {
		t.Fatal(err)
	}
	gate := newQueryGate(t, w.app)
	var mu sync.Mutex
	runs := map[int64]*quality.Run{}
	start := func(point int, release <-chan struct{}) *jobs.Job {
		w.app.Clock.Advance(time.Minute) // each run its own minute, as the page shows it
		var j *jobs.Job
		j, err := w.app.Jobs.Submit(ctx, jobs.Spec{ProjectID: w.p.ID, Kind: jobs.KindValidate},
			func(ctx context.Context, _ *jobs.Progress) (jobs.Outcome, error) {
				<-release
				run, err := w.app.Quality.Validate(ctx, w.p.ID, nil)
				if err != nil {
					return jobs.Outcome{}, err
				}
				mu.Lock()
				runs[j.ID] = run
				mu.Unlock()
				return jobs.Outcome{Message: fmt.Sprintf("Validated %d record(s).", run.Records)}, nil
			})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	gate.eachQuery(t, w.asEngineer, w.p.ID, w.path("/quality"), start, func(point int, j *jobs.Job, doc *goquery.Document) {
		mu.Lock()
		run := runs[j.ID]
		mu.Unlock()
		if run == nil {
			t.Fatalf("validation job %d ended without a run", j.ID)
		}
		shown, _ := doc.Find("p.muted time").First().Attr("datetime")
		if want := run.StartedAt.UTC().Format(time.RFC3339); shown != want {
			t.Errorf("validation ended before query %d: the page shows it ended beside the run of %q, not %q", point, shown, want)
		}
	})
}
