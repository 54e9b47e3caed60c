package interceptors

import (
	"context"
	"sync"

	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/metrics"
)

// LineageObserver records every workflow run and activity attempt series
// as a lineage Run in the spool, from which lineage.Writer stores them in
// Neo4j. Appending is a write to a local file; nothing here waits on Neo4j.
type LineageObserver struct {
	BaseObserver
	spool   *lineage.Spool
	log     *zap.Logger
	metrics *metrics.Lineage // nil: none
	bufs    sync.Pool        // *[]byte, so an event's encoding allocates nothing
	wq      *workflowQueue   // workflow events, spooled off workflow code

	closeOnce sync.Once
}

// NewLineageObserver returns an observer appending to spool. A full spool
// is logged at error level for every event it refuses, counted in m (nil
// for none) and shown in /readyz; the events are not written. Workflow
// events are spooled by a goroutine of its own (workflow code never waits
// on the spool's disk): Flush waits for them, Close stops it.
func NewLineageObserver(spool *lineage.Spool, log *zap.Logger, m *metrics.Lineage) *LineageObserver {
	o := &LineageObserver{spool: spool, log: log, metrics: m}
	o.wq = newWorkflowQueue(o.workflowEvent)
	return o
}

// Flush waits until the workflow events observed so far are spooled.
func (o *LineageObserver) Flush() { o.wq.flush() }

// Close spools the workflow events still queued and stops the observer's
// goroutine; call it before closing the spool. Events dropped because the
// queue was full are counted as refused and logged: the sentinel writes
// every run's end from Temporal's record.
func (o *LineageObserver) Close() {
	o.closeOnce.Do(func() {
		o.wq.close()
		if n := o.wq.dropped.Load(); n > 0 {
			if o.metrics != nil {
				o.metrics.EventsRefused.Add(float64(n))
			}
			o.log.Error("workflow lineage events not spooled: the queue was full", zap.Int64("dropped", n))
		}
	})
}

// ObserveActivity records an activity's attempts as one run, child of its
// workflow run, with the datasets each attempt read and (if it completed)
// wrote.
func (o *LineageObserver) ObserveActivity(_ context.Context, e *Event) {
	r := lineage.Run{
		RunID:       lineage.ActivityRunID(e.RunID, e.ActivityID),
		JobKey:      e.Step,
		Attempt:     e.Attempt,
		WorkflowID:  e.WorkflowID,
		ParentRunID: e.RunID,
	}
	switch e.Kind {
	case ActivityStarted, ActivityRetried:
		r.State, r.StartedAt = lineage.StateStart, e.Time
	case ActivityCompleted:
		r.State, r.StartedAt, r.EndedAt = lineage.StateComplete, e.Time.Add(-e.Duration), e.Time
		r.Inputs, r.Outputs = e.Inputs, e.Outputs
	case ActivityFailed:
		r.State, r.StartedAt, r.EndedAt, r.Error = lineage.StateFail, e.Time.Add(-e.Duration), e.Time, errorMessage(e.Err)
		r.Inputs = e.Inputs
	default:
		return
	}
	if e.LineageErr != nil && o.metrics != nil {
		n := 1
		if joined, ok := e.LineageErr.(interface{ Unwrap() []error }); ok {
			n = len(joined.Unwrap())
		}
		o.metrics.RefsInvalid.Add(float64(n))
	}
	o.append(r)
}

// ObserveWorkflow queues workflow runs' events for the spool.
func (o *LineageObserver) ObserveWorkflow(_ workflow.Context, e *Event) {
	if e.Kind == WorkflowStarted || e.Kind == WorkflowCompleted || e.Kind == WorkflowContinuedAsNew || e.Kind == WorkflowFailed || e.Kind == WorkflowCanceled {
		o.wq.push(e)
	}
}

// workflowEvent records a workflow run, child of its parent run.
func (o *LineageObserver) workflowEvent(e *Event) {
	r := lineage.Run{RunID: e.RunID, JobKey: e.WorkflowType, Attempt: e.Attempt, WorkflowID: e.WorkflowID, ParentRunID: e.ParentRunID}
	switch e.Kind {
	case WorkflowStarted:
		r.State, r.StartedAt = lineage.StateStart, e.Time
	case WorkflowCompleted, WorkflowContinuedAsNew:
		r.State = lineage.StateComplete
	case WorkflowFailed:
		r.State, r.Error = lineage.StateFail, errorMessage(e.Err)
	case WorkflowCanceled:
		r.State = lineage.StateAbort
	default:
		return
	}
	if r.State != lineage.StateStart {
		r.StartedAt, r.EndedAt = e.Time.Add(-e.Duration), e.Time
	}
	o.append(r)
}

func (o *LineageObserver) append(r lineage.Run) {
	buf, _ := o.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = r.AppendJSON((*buf)[:0])
	err := o.spool.Append(*buf) // the spool has written it when Append returns
	o.bufs.Put(buf)
	if err != nil {
		if o.metrics != nil {
			o.metrics.EventsRefused.Inc()
		}
		o.log.Error("lineage event not spooled", zap.String("run_id", r.RunID), zap.String("state", r.State), zap.Error(err))
	}
}
