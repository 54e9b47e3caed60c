package interceptors

import (
	"context"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/lineage"
)

// Kind says what happened.
type Kind uint8

// The step events. Workflow* and Step* events are seen from workflow code
// (and never while replaying); Activity* events from the worker that runs the
// activity attempt.
const (
	// WorkflowStarted: a workflow run began executing.
	WorkflowStarted Kind = iota + 1
	// WorkflowCompleted: the run returned a result.
	WorkflowCompleted
	// WorkflowFailed: the run returned an error.
	WorkflowFailed
	// WorkflowCanceled: the run ended by cancellation; not a failure.
	WorkflowCanceled
	// WorkflowContinuedAsNew: the run continued as a new run; not a failure.
	WorkflowContinuedAsNew

	// ActivityStarted: the first attempt of an activity began.
	ActivityStarted
	// ActivityRetried: attempt 2 or later began.
	ActivityRetried
	// ActivityProgress: the activity heartbeated (throttled per attempt).
	ActivityProgress
	// ActivityCompleted: the attempt returned a result.
	ActivityCompleted
	// ActivityFailed: the attempt returned an error; the server may retry.
	ActivityFailed

	// StepScheduled: workflow code scheduled an activity, local activity or
	// child workflow.
	StepScheduled
	// StepCompleted: the step's result reached workflow code.
	StepCompleted
	// StepFailed: the step failed for good (after its retries).
	StepFailed
	// StepCanceled: the step was canceled.
	StepCanceled
)

// String names the kind in snake case, as logs and metrics show it.
func (k Kind) String() string {
	switch k {
	case WorkflowStarted:
		return "workflow_started"
	case WorkflowCompleted:
		return "workflow_completed"
	case WorkflowFailed:
		return "workflow_failed"
	case WorkflowCanceled:
		return "workflow_canceled"
	case WorkflowContinuedAsNew:
		return "workflow_continued_as_new"
	case ActivityStarted:
		return "activity_started"
	case ActivityRetried:
		return "activity_retried"
	case ActivityProgress:
		return "activity_progress"
	case ActivityCompleted:
		return "activity_completed"
	case ActivityFailed:
		return "activity_failed"
	case StepScheduled:
		return "step_scheduled"
	case StepCompleted:
		return "step_completed"
	case StepFailed:
		return "step_failed"
	case StepCanceled:
		return "step_canceled"
	default:
		return "unknown"
	}
}

// Status is the outcome word used in logs, metric labels and the progress
// query: "running", "completed", "failed", "canceled", "continued_as_new".
func (k Kind) Status() string {
	switch k {
	case WorkflowCompleted, ActivityCompleted, StepCompleted:
		return "completed"
	case WorkflowFailed, ActivityFailed, StepFailed:
		return "failed"
	case WorkflowCanceled, StepCanceled:
		return "canceled"
	case WorkflowContinuedAsNew:
		return "continued_as_new"
	case StepScheduled:
		return "scheduled"
	default:
		return "running"
	}
}

// StepType tells activities, local activities and child workflows apart.
type StepType uint8

// The step types.
const (
	StepActivity StepType = iota
	StepLocalActivity
	StepChildWorkflow
)

// String names the step type as logs and metric labels show it.
func (s StepType) String() string {
	switch s {
	case StepLocalActivity:
		return "local_activity"
	case StepChildWorkflow:
		return "child_workflow"
	default:
		return "activity"
	}
}

// Event is one step event. Observers must not keep it after Observe returns:
// the interceptor reuses it.
type Event struct {
	Kind Kind
	// Time is when it happened: workflow.Now in workflow code, the wall
	// clock in activities.
	Time time.Time

	Namespace    string
	TaskQueue    string
	WorkflowID   string
	RunID        string
	WorkflowType string
	// ParentRunID is the parent workflow's run id, for workflow events of
	// child workflows.
	ParentRunID string
	// Pipeline is the pipeline's name: the workflow type.
	Pipeline string

	// Step is the activity type or child workflow type; empty for
	// workflow events.
	Step       string
	StepType   StepType
	ActivityID string
	// Attempt counts from 1.
	Attempt int32
	// UserID is the user carried in the pipewatch context header, if any.
	UserID string

	// Duration: of the attempt (Activity*), of the run (Workflow*), or from
	// scheduling to the result as workflow code saw it (Step*).
	Duration time.Duration
	// Err is the error of failed events; ErrType its Temporal failure type
	// or Go type.
	Err     error
	ErrType string
	// Progress holds the latest heartbeat details of ActivityProgress
	// events.
	Progress []any
	// Records is how many records the step processed since the previous
	// event of this attempt, as told by its heartbeats (see RecordCount).
	Records int64

	// Resources are measured for ActivityCompleted and ActivityFailed.
	Resources Resources
	// RanHere tells, for Step* events, that this worker ran the step's
	// attempts (and so also reported them as Activity* events).
	RanHere bool

	// Inputs and Outputs are the dataset versions an attempt read and
	// wrote, for ActivityCompleted and ActivityFailed (which has no
	// outputs): found in its arguments and result, or declared with
	// lineage.Input and lineage.Output.
	Inputs, Outputs []lineage.Dataset
	// LineageErr names dataset references that were left out as invalid.
	LineageErr error

	// persisted: a Persister made this ActivityCompleted durable already.
	persisted bool
}

// Resources is what an activity attempt used, approximately: CPU and heap
// figures are process-wide deltas over the attempt (see
// metrics.ProcessSampler), so they include whatever else the worker did
// meanwhile; RSS is the latest background sample of the resident set.
type Resources struct {
	CPU       time.Duration
	HeapAlloc uint64
	RSS       uint64
}

// Observer receives step events. Implementations embed BaseObserver, so
// methods added to Observer later do not break them. Observe calls happen on
// the activity's or workflow's own goroutine: do little, never block, and
// never do I/O in ObserveWorkflow.
type Observer interface {
	// ObserveActivity receives Activity* events, with the activity's context.
	ObserveActivity(ctx context.Context, e *Event)
	// ObserveWorkflow receives Workflow* and Step* events with the
	// workflow's context. It is never called while replaying. Anything it
	// does that issues commands must be versioned (see UIObserver).
	ObserveWorkflow(ctx workflow.Context, e *Event)

	mustEmbedBaseObserver()
}

// Persister is an Observer that makes an attempt's completion durable
// before the step's result goes to Temporal. When PersistActivity fails,
// the attempt is reported failed instead (retryable), so that Temporal
// runs it again rather than the record being lost; observers then see
// ActivityFailed. An observer that persisted an event need not write it
// again in ObserveActivity (Persisted tells).
type Persister interface {
	PersistActivity(ctx context.Context, e *Event) error
}

// Persisted tells whether a Persister made e durable already.
func (e *Event) Persisted() bool { return e.persisted }

// BaseObserver ignores every event; embed it in observers.
type BaseObserver struct{}

// ObserveActivity does nothing.
func (BaseObserver) ObserveActivity(context.Context, *Event) {}

// ObserveWorkflow does nothing.
func (BaseObserver) ObserveWorkflow(workflow.Context, *Event) {}

func (BaseObserver) mustEmbedBaseObserver() {}
