package interceptors

import (
	"context"
	"sync"

	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/logging"
)

// LogObserver writes one structured line per event.
type LogObserver struct {
	BaseObserver
	log    *zap.Logger
	fields sync.Pool      // *[maxFields]zap.Field, so a line allocates no field slice
	wq     *workflowQueue // workflow events, written off workflow code

	closeOnce sync.Once
}

const maxFields = 24

// NewLogObserver returns an observer logging to l. Workflow events are
// written by a goroutine of its own (workflow code never waits on the log
// file): Flush waits for them, Close stops it.
func NewLogObserver(l *zap.Logger) *LogObserver {
	o := &LogObserver{
		log:    l.WithOptions(zap.WithCaller(false)),
		fields: sync.Pool{New: func() any { return new([maxFields]zap.Field) }},
	}
	o.wq = newWorkflowQueue(o.write)
	return o
}

// Flush waits until the workflow events observed so far are written.
func (o *LogObserver) Flush() { o.wq.flush() }

// Close writes the workflow events still queued and stops the observer's
// goroutine; events after it are dropped. It reports events dropped
// because the queue was full.
func (o *LogObserver) Close() {
	o.closeOnce.Do(func() {
		o.wq.close()
		if n := o.wq.dropped.Load(); n > 0 {
			o.log.Warn("workflow events not logged: the queue was full", zap.Int64("dropped", n))
		}
	})
}

// ObserveActivity logs activity attempts, their retries and progress.
func (o *LogObserver) ObserveActivity(_ context.Context, e *Event) {
	o.write(e)
}

// ObserveWorkflow queues the line of a workflow run's or step's event.
func (o *LogObserver) ObserveWorkflow(_ workflow.Context, e *Event) {
	o.wq.push(e)
}

func (o *LogObserver) write(e *Event) {
	level := zapcore.InfoLevel
	switch e.Kind {
	case ActivityFailed, StepFailed, WorkflowFailed:
		level = zapcore.WarnLevel
	case StepScheduled: // its end line says all it does, and more
		level = zapcore.DebugLevel
	case StepCompleted:
		if e.RanHere { // this worker logged the attempt already
			level = zapcore.DebugLevel
		}
	}
	ce := o.log.Check(level, message(e.Kind))
	if ce == nil {
		return
	}
	buf := o.fields.Get().(*[maxFields]zap.Field)
	defer func() { clear(buf[:]); o.fields.Put(buf) }()
	f := append(buf[:0],
		zap.String(logging.FieldWorkflowID, e.WorkflowID),
		zap.String(logging.FieldRunID, e.RunID),
		zap.String(logging.FieldTaskQueue, e.TaskQueue),
		zap.String(logging.FieldPipeline, e.Pipeline),
	)
	if e.Step != "" {
		f = append(f, zap.String(logging.FieldStep, e.Step))
		if e.StepType != StepActivity {
			f = append(f, zap.String("step_type", e.StepType.String()))
		}
	}
	if e.ActivityID != "" {
		f = append(f, zap.String(logging.FieldActivityID, e.ActivityID), zap.String(logging.FieldActivityType, e.Step))
	}
	if e.Attempt > 0 {
		f = append(f, zap.Int32(logging.FieldAttempt, e.Attempt))
	}
	if e.UserID != "" {
		f = append(f, zap.String(logging.FieldUserID, e.UserID))
	}
	switch e.Kind {
	case WorkflowStarted, ActivityStarted, ActivityRetried, StepScheduled:
	default:
		f = append(f, zap.Duration(logging.FieldDuration, e.Duration))
	}
	if e.Err != nil {
		f = append(f, zap.String(logging.FieldError, errorMessage(e.Err)), zap.String("error_type", e.ErrType))
	}
	if e.Records > 0 {
		f = append(f, zap.Int64("records", e.Records))
	}
	if e.Kind == ActivityCompleted || e.Kind == ActivityFailed {
		f = append(f,
			zap.Float64("cpu_seconds_approx", e.Resources.CPU.Seconds()),
			zap.Uint64("heap_alloc_bytes_approx", e.Resources.HeapAlloc),
			zap.Uint64("rss_bytes", e.Resources.RSS))
	}
	if len(e.Inputs) > 0 {
		f = append(f, zap.Array("inputs", datasetIDs(e.Inputs)))
	}
	if len(e.Outputs) > 0 {
		f = append(f, zap.Array("outputs", datasetIDs(e.Outputs)))
	}
	if e.LineageErr != nil {
		f = append(f, zap.String("lineage_error", e.LineageErr.Error()))
	}
	if e.Kind == ActivityProgress && len(e.Progress) > 0 {
		f = append(f, zap.Any("progress", e.Progress[0]))
	}
	ce.Write(f...)
}

func message(k Kind) string {
	switch k {
	case WorkflowStarted:
		return "workflow started"
	case WorkflowCompleted:
		return "workflow completed"
	case WorkflowFailed:
		return "workflow failed"
	case WorkflowCanceled:
		return "workflow canceled"
	case WorkflowContinuedAsNew:
		return "workflow continued as new"
	case ActivityStarted:
		return "step started"
	case ActivityRetried:
		return "step retry started"
	case ActivityProgress:
		return "step progress"
	case ActivityCompleted:
		return "step completed"
	case ActivityFailed:
		return "step attempt failed"
	case StepScheduled:
		return "step scheduled"
	case StepCompleted:
		return "step result received"
	case StepFailed:
		return "step failed after retries"
	case StepCanceled:
		return "step canceled"
	}
	return "event"
}

// datasetIDs logs datasets as their version ids, key@version.
type datasetIDs []lineage.Dataset

func (ds datasetIDs) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, d := range ds {
		enc.AppendString(d.VersionID())
	}
	return nil
}
