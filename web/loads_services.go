package web

import (
	"context"
	"io"

	"github.com/ferry-migrate/ferry/internal/load"
)

// LoadService is what the web layer needs of the load engine (internal/load):
// test batches, loads, rollbacks, their pre-flight and their progress.
type LoadService interface {
	Preflight(ctx context.Context, projectID int64, in load.NewRun) (*load.Report, error)
	Start(ctx context.Context, projectID int64, in load.NewRun) (*load.Run, *load.Report, error)
	FindRun(ctx context.Context, projectID, runID int64) (*load.Run, error)
	FindRuns(ctx context.Context, projectID int64, limit int) ([]load.Run, error)
	CountItems(ctx context.Context, runID int64) (load.Counts, error)
	FindItems(ctx context.Context, runID int64, state string, afterSeq int64, limit int) ([]load.Item, error)
	Pause(ctx context.Context, projectID, runID int64) (*load.Run, error)
	Resume(ctx context.Context, projectID, runID int64) (*load.Run, error)
	Cancel(ctx context.Context, projectID, runID int64) (*load.Run, error)
	Ladder(ctx context.Context, projectID int64) (*load.LadderState, error)
	FindSettings(ctx context.Context, projectID int64) (load.Settings, error)
	SaveSettings(ctx context.Context, projectID, version int64, ladder []int, threshold float64) (load.Settings, error)
	CreateAttribute(ctx context.Context, projectID int64, name string) error
	RollbackScopeOf(ctx context.Context, projectID int64, in load.NewRollback) (*load.RollbackScope, error)
	StartRollback(ctx context.Context, projectID int64, in load.NewRollback) (*load.Run, error)
	WriteFailedCSV(ctx context.Context, runID int64, w io.Writer) error
	WriteExportJSON(ctx context.Context, runID int64, w io.Writer) error
	WriteExportCSV(ctx context.Context, runID int64, w io.Writer) error
}

// LoadRunner works on runs in the console's process (load.Runner).
type LoadRunner interface {
	Launch(runID int64)
	Busy(runID int64) bool
}
