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
// As an event it says what one moment of the run looked like; writes merge
// events in attempt order, so repeated, late or out-of-order events never
// move a run back (see Store.WriteRuns).
type Run struct {
	// RunID is unique across all runs: a Temporal run id, or for an
	// activity, ActivityRunID of its workflow run and activity id.
	RunID string `json:"runId"`
	// JobKey names the step or pipeline type: the activity or workflow type.
	JobKey string `json:"jobKey"`
	// State is one of StateStart, StateComplete, StateFail, StateAbort.
	State string `json:"state"`
	// Attempt is the attempt this event is about, from 1; read back, the
	// highest attempt seen.
	Attempt int32 `json:"attempt"`
	// StartedAt and EndedAt bound the run; EndedAt is zero while running.
	StartedAt time.Time `json:"startedAt"`
	EndedAt   time.Time `json:"endedAt,omitzero"`
	// WorkflowID is the Temporal workflow id the run belongs to.
	WorkflowID string `json:"workflowId"`
	// ParentRunID is the run this one is part of: an activity's workflow
	// run, a child workflow's parent run; empty for a top-level run.
	ParentRunID string `json:"parentRunId,omitempty"`
	// Error is the failure message of a FAIL event, or the reason of an
	// ABORT.
	Error string `json:"error,omitempty"`
	// Final marks the end of a run as Temporal recorded it (written by the
	// sentinel from visibility and history): it overrides whatever a
	// worker reported, COMPLETE included, and nothing a worker reports
	// later changes it.
	Final bool `json:"final,omitempty"`
	// Inputs are the dataset versions the run read; Outputs those it
	// wrote. Only an activity's end events carry them.
	Inputs  []Dataset `json:"inputs,omitempty"`
	Outputs []Dataset `json:"outputs,omitempty"`
}

// ActivityRunID names the run of an activity's attempts: unique, since
// activity ids are unique within a workflow run.
func ActivityRunID(workflowRunID, activityID string) string {
	return workflowRunID + "/activity/" + activityID
}
