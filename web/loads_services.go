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

	// The cut-over (web/cutover*.go).
	FindCutover(ctx context.Context, projectID, sourceID int64) (*load.CutoverSettings, error)
	FindCutovers(ctx context.Context, projectID int64) (map[int64]*load.CutoverSettings, error)
	SaveCutover(ctx context.Context, projectID, sourceID, version int64, in load.CutoverInput) (*load.CutoverSettings, error)
	SaveLeavers(ctx context.Context, projectID, version int64, leavers string) (load.Settings, error)
	ImportHierarchy(ctx context.Context, projectID, sourceID int64, r io.Reader, fileName string) (*load.Hierarchy, error)
	SetFlatten(ctx context.Context, projectID, sourceID int64, flatten bool) error
	FindHierarchies(ctx context.Context, projectID int64) (map[int64]*load.Hierarchy, error)
	PlanRefresh(ctx context.Context, projectID int64, in load.NewRefresh) (*load.RefreshPlan, error)
	StartRefresh(ctx context.Context, projectID int64, in load.NewRefresh) (*load.Run, *load.RefreshPlan, error)
	PlanWave(ctx context.Context, projectID int64, in load.NewWave) (*load.WavePlan, error)
	StartWave(ctx context.Context, projectID int64, in load.NewWave) (*load.Run, *load.WavePlan, error)
	PlanManagers(ctx context.Context, projectID int64, in load.NewManagerPass) (*load.ManagerPlan, error)
	StartManagerPass(ctx context.Context, projectID int64, in load.NewManagerPass) (*load.Run, *load.ManagerPlan, error)
	StartReconcile(ctx context.Context, projectID int64, in load.NewReconcile) (*load.Run, error)
	Differences(ctx context.Context, runID int64) ([]load.Difference, error)
	MarkCanary(ctx context.Context, projectID, recordID int64, password string) (*load.Canary, error)
	ListCanaries(ctx context.Context, projectID int64) ([]load.Canary, error)
	RemoveCanary(ctx context.Context, projectID, id int64) error
	CanaryChecks(ctx context.Context, runID int64) ([]load.CanaryCheck, error)
	RecordCanaryResult(ctx context.Context, projectID, runID, canaryID int64, outcome, detail string) error
}

// LoadRunner works on runs in the console's process (load.Runner).
type LoadRunner interface {
	Launch(runID int64)
	Busy(runID int64) bool
}
