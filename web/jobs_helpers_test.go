package web_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/jobs"
)

// jobDeadline guards the polls of a job against a hang; it is not an
// expectation of speed.
const jobDeadline = 2 * time.Minute

// waitJob polls a job until it has ended.
func (a *testApp) waitJob(projectID, id int64) jobs.Job {
	a.t.Helper()
	deadline := time.Now().Add(jobDeadline)
	for {
		j, err := a.Jobs.FindJob(context.Background(), projectID, id)
		if err != nil {
			a.t.Fatalf("job %d: %v", id, err)
		}
		if !j.Active() {
			return *j
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("job %d never ended: %+v", id, j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newestJob returns the newest job that matches f, failing when there is none.
func (a *testApp) newestJob(projectID int64, f jobs.Filter) jobs.Job {
	a.t.Helper()
	f.Limit = 1
	list, err := a.Jobs.FindJobs(context.Background(), projectID, f)
	if err != nil {
		a.t.Fatal(err)
	}
	if len(list) == 0 {
		a.t.Fatalf("no job matches %+v", f)
	}
	return list[0]
}

// waitNewest waits for the newest job that matches f to end.
func (a *testApp) waitNewest(projectID int64, f jobs.Filter) jobs.Job {
	a.t.Helper()
	return a.waitJob(projectID, a.newestJob(projectID, f).ID)
}

// waitStaging waits for the newest staging job of a source to end.
func (a *testApp) waitStaging(projectID, sourceID int64) jobs.Job {
	a.t.Helper()
	return a.waitNewest(projectID, jobs.Filter{SourceID: sourceID, Kinds: []string{jobs.KindStageFile, jobs.KindStageDirectory}})
}

// waitValidation waits for the newest validation job of a project to end.
func (a *testApp) waitValidation(projectID int64) jobs.Job {
	a.t.Helper()
	return a.waitNewest(projectID, jobs.Filter{Kinds: []string{jobs.KindValidate}})
}

// sourceJobMessage is what the data page says of a source's newest staging job.
func sourceJobMessage(t testing.TB, res response, sourceID int64) string {
	t.Helper()
	return text(res.doc(t).Find(fmt.Sprintf("#source-%d .job .job-message", sourceID)))
}

// validationJobMessage is what the quality page says of the newest validation job.
func validationJobMessage(t testing.TB, res response) string {
	t.Helper()
	return text(res.doc(t).Find("#validation-job .job-message"))
}
