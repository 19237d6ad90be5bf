package load

import (
	"context"
)

// Rung is one test batch of the ladder with its latest run.
type Rung struct {
	Number int
	Size   int
	// Latest is the newest run of this batch (nil: never run).
	Latest *Run
	Counts Counts
	// Passed: the latest run finished with an error rate under its threshold.
	Passed bool
	// Open: every batch before it has passed, so it may run.
	Open bool
}

// LadderState is the project's test-batch ladder as it stands.
type LadderState struct {
	Settings Settings
	Rungs    []Rung
	// AllPassed: every batch of the ladder has passed.
	AllPassed bool
}

// Ladder returns the project's ladder with the result of each batch.
func (s *Service) Ladder(ctx context.Context, projectID int64) (*LadderState, error) {
	settings, err := s.FindSettings(ctx, projectID)
	if err != nil {
		return nil, err
	}
	var runs []Run
	if err := s.db.Read.WithContext(ctx).Where("project_id = ? AND kind = ?", projectID, KindTestBatch).Order("id DESC").Find(&runs).Error; err != nil {
		return nil, err
	}
	latest := map[int]*Run{}
	for i := range runs {
		if latest[runs[i].Rung] == nil {
			latest[runs[i].Rung] = &runs[i]
		}
	}
	st := &LadderState{Settings: settings, AllPassed: true}
	open := true
	for i, size := range settings.Ladder {
		r := Rung{Number: i + 1, Size: size, Latest: latest[i+1], Open: open}
		if r.Latest != nil {
			c, err := s.CountItems(ctx, r.Latest.ID)
			if err != nil {
				return nil, err
			}
			r.Counts = c
			r.Passed = r.Latest.Status == StatusDone && c.Done() > 0 && c.ErrorRate() < r.Latest.ErrorThreshold
		}
		open = open && r.Passed
		st.AllPassed = st.AllPassed && r.Passed
		st.Rungs = append(st.Rungs, r)
	}
	return st, nil
}

// NextRung is the first batch that has not passed (0: all passed).
func (st *LadderState) NextRung() int {
	for _, r := range st.Rungs {
		if !r.Passed {
			return r.Number
		}
	}
	return 0
}
