package interceptors

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

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
	aq      *workflowQueue   // activity events whose write failed, tried again

	closeOnce sync.Once
	closing   atomic.Bool // Close began: a failing write is retried no more
}

// retryEvery bounds the pause between tries of an event whose write
// failed (a full disk).
const retryEvery = 2 * time.Second

// NewLineageObserver returns an observer appending to spool. A full spool
// (lineage.spool_max_bytes) is logged at error level for every event it
// refuses, counted in m (nil for none) and shown in /readyz; the events
// are not written. A write that fails otherwise (a full disk) is tried
// again in the background until it succeeds, and a step's completion
// that cannot be written fails the step's attempt (PersistActivity), so
// no lineage is lost to a disk that fills up for a while. Workflow events
// are spooled by a goroutine of its own (workflow code never waits on the
// spool's disk): Flush waits for them, Close stops it.
func NewLineageObserver(spool *lineage.Spool, log *zap.Logger, m *metrics.Lineage) *LineageObserver {
	o := &LineageObserver{spool: spool, log: log, metrics: m}
	o.wq = newWorkflowQueue(o.workflowEvent)
	o.aq = newWorkflowQueue(func(e *Event) {
		if r, ok := activityRun(e); ok {
			o.persist(r)
		}
	})
	return o
}

// Flush waits until the workflow events observed so far, and activity
// events being tried again, are spooled.
func (o *LineageObserver) Flush() { o.wq.flush(); o.aq.flush() }

// Close spools the workflow events still queued and stops the observer's
// goroutine; call it before closing the spool. Events dropped because the
// queue was full are counted as refused and logged: the sentinel writes
// every run's end from Temporal's record.
func (o *LineageObserver) Close() {
	o.closeOnce.Do(func() {
		o.closing.Store(true)
		o.wq.close()
		o.aq.close()
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
// wrote. A completion PersistActivity wrote is not written again.
func (o *LineageObserver) ObserveActivity(_ context.Context, e *Event) {
	r, ok := activityRun(e)
	if !ok || e.Persisted() {
		return
	}
	o.countRefs(e)
	err := o.write(r)
	switch {
	case err == nil:
	case errors.Is(err, lineage.ErrSpoolFull):
		o.refuse(r, err)
	default: // tried again in the background
		if !o.aq.push(e) {
			o.refuse(r, err)
		}
	}
}

// PersistActivity spools an attempt's completion before its result goes
// to Temporal. A write that fails (the disk) is returned, so the attempt
// fails and is retried; a full spool (lineage.spool_max_bytes, reached
// when Neo4j has been away long) is logged and counted, and the step goes
// on without its lineage.
func (o *LineageObserver) PersistActivity(_ context.Context, e *Event) error {
	r, ok := activityRun(e)
	if !ok {
		return nil
	}
	o.countRefs(e)
	err := o.write(r)
	if errors.Is(err, lineage.ErrSpoolFull) {
		o.refuse(r, err)
		return nil
	}
	return err
}

// activityRun is the lineage Run of an Activity* event; false for events
// that make none.
func activityRun(e *Event) (lineage.Run, bool) {
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
		return r, false
	}
	return r, true
}

// countRefs counts the dataset references an event left out as invalid.
func (o *LineageObserver) countRefs(e *Event) {
	if e.LineageErr != nil && o.metrics != nil {
		n := 1
		if joined, ok := e.LineageErr.(interface{ Unwrap() []error }); ok {
			n = len(joined.Unwrap())
		}
		o.metrics.RefsInvalid.Add(float64(n))
	}
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
	o.persist(r)
}

// persist writes r, trying again while the write fails (a full disk) until
// it succeeds: the queue holds what comes meanwhile (and drops, counted,
// beyond its bound). A full spool is no disk error: r is refused, as it
// is when the observer closes.
func (o *LineageObserver) persist(r lineage.Run) {
	retrying := false // counted in EventsRetrying
	defer func() {
		if retrying {
			o.metrics.EventsRetrying.Dec()
		}
	}()
	for tries, pause := 1, 100*time.Millisecond; ; tries, pause = tries+1, min(2*pause, retryEvery) {
		err := o.write(r)
		switch {
		case err == nil:
			if tries > 1 {
				o.log.Info("lineage event spooled after its write failed", zap.String("run_id", r.RunID), zap.String("state", r.State), zap.Int("tries", tries))
			}
			return
		case errors.Is(err, lineage.ErrSpoolFull) || o.closing.Load():
			o.refuse(r, err)
			return
		case tries == 1:
			o.log.Warn("lineage event not spooled yet: trying again", zap.String("run_id", r.RunID), zap.String("state", r.State), zap.Error(err))
			if o.metrics != nil {
				o.metrics.EventsRetrying.Inc()
				retrying = true
			}
		}
		time.Sleep(pause)
	}
}

// write spools r.
func (o *LineageObserver) write(r lineage.Run) error {
	buf, _ := o.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	*buf = r.AppendJSON((*buf)[:0])
	err := o.spool.Append(*buf) // the spool has written it when Append returns
	o.bufs.Put(buf)
	return err
}

// refuse logs and counts an event given up on.
func (o *LineageObserver) refuse(r lineage.Run, err error) {
	if o.metrics != nil {
		o.metrics.EventsRefused.Inc()
	}
	o.log.Error("lineage event not spooled", zap.String("run_id", r.RunID), zap.String("state", r.State), zap.Error(err))
}
