package lineage

import "time"

// Run states, as in OpenLineage.
const (
	StateStart    = "START"
	StateComplete = "COMPLETE"
	StateFail     = "FAIL"
	StateAbort    = "ABORT"
)

// Run is one execution of a Job: a workflow run or an activity's attempts.
type Run struct {
	// RunID is unique across all runs (a Temporal run id, or for an
	// activity, the workflow run id and activity id joined).
	RunID string
	// JobKey names the step or pipeline type, e.g. "demo" or "train".
	JobKey string
	// State is one of StateStart, StateComplete, StateFail, StateAbort.
	State string
	// StartedAt and EndedAt bound the run; EndedAt is zero while running.
	StartedAt time.Time
	EndedAt   time.Time
	// WorkflowID is the Temporal workflow id the run belongs to.
	WorkflowID string
}
