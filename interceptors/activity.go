package interceptors

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/lineage"
)

type activityInbound struct {
	interceptor.ActivityInboundInterceptorBase
	root *Interceptor
}

func (a *activityInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	return a.Next.Init(&activityOutbound{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: outbound}, root: a.root})
}

// attempt is one activity attempt's state, shared with RecordHeartbeat
// through the context.
type attempt struct {
	mu           sync.Mutex
	event        Event
	lastProgress time.Time
	records      int64 // cumulative records told by heartbeats
	unreported   int64 // records not yet carried by an event
	datasets     lineage.Capture
}

type attemptKey struct{}

func (a *activityInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	info := activity.GetInfo(ctx)
	if ownStep(info.ActivityType.Name) || (info.WorkflowType != nil && OwnWorkflow(info.WorkflowType.Name)) {
		return a.Next.ExecuteActivity(ctx, in)
	}
	start := time.Now()
	at := &attempt{lastProgress: start}
	e := &at.event
	e.Kind = ActivityStarted
	if info.Attempt > 1 {
		e.Kind = ActivityRetried
	}
	e.Time = start
	e.Namespace = info.Namespace
	e.TaskQueue = info.TaskQueue
	e.WorkflowID = info.WorkflowExecution.ID
	e.RunID = info.WorkflowExecution.RunID
	if info.WorkflowType != nil {
		e.WorkflowType = info.WorkflowType.Name
		e.Pipeline = info.WorkflowType.Name
	}
	e.Step = info.ActivityType.Name
	e.ActivityID = info.ActivityID
	e.Attempt = info.Attempt
	if info.IsLocalActivity {
		e.StepType = StepLocalActivity
	}
	e.UserID = UserID(ctx)
	a.root.attempts.record(e.RunID, e.Step, e.Attempt)
	a.root.emitActivity(ctx, e)

	before := a.root.opts.Usage()
	actx := lineage.WithCapture(context.WithValue(ctx, attemptKey{}, at), &at.datasets)
	if a.root.opts.Raiser != nil {
		actx = alerts.WithRaiser(actx, a.root.opts.Raiser)
	}
	res, err := a.Next.ExecuteActivity(actx, in)
	after := a.root.opts.Usage()
	var inputs, outputs []lineage.Dataset
	for _, arg := range in.Args {
		inputs = append(inputs, a.root.datasets.Find(arg)...)
	}
	if err == nil {
		outputs = a.root.datasets.Find(res)
	}
	lineageErr := at.datasets.Add(inputs, outputs)

	at.mu.Lock()
	defer at.mu.Unlock()
	e.Time = time.Now()
	e.Duration = e.Time.Sub(start)
	e.Resources = Resources{CPU: after.CPU - before.CPU, HeapAlloc: after.HeapAlloc - before.HeapAlloc, RSS: after.RSS}
	e.Records, at.unreported = at.unreported, 0
	e.Progress = nil
	e.Inputs, e.Outputs = at.datasets.Datasets()
	e.LineageErr = lineageErr
	if err == nil {
		e.Kind = ActivityCompleted
		// Durable before the result goes to Temporal: a completion whose
		// lineage cannot be written (a full disk) fails the attempt, and
		// Temporal's retry writes it once there is room.
		if perr := a.root.persistActivity(ctx, e); perr != nil {
			res, err = nil, temporal.NewApplicationErrorWithCause(
				fmt.Sprintf("the step completed, but its lineage could not be written (%v): failed so that Temporal retries it and no lineage is lost", perr),
				"LineageNotWritten", perr)
		}
	}
	if err != nil {
		e.Outputs = nil // what a failed attempt wrote is not its output
		e.Kind = ActivityFailed
		e.Err = err
		e.ErrType = errorType(err)
	}
	a.root.emitActivity(ctx, e)
	return res, err
}

type activityOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
	root *Interceptor
}

// RecordHeartbeat turns heartbeats into ActivityProgress events, at most
// one per ProgressEvery per attempt.
func (o *activityOutbound) RecordHeartbeat(ctx context.Context, details ...any) {
	o.Next.RecordHeartbeat(ctx, details...)
	at, ok := ctx.Value(attemptKey{}).(*attempt)
	if !ok {
		return
	}
	at.mu.Lock()
	defer at.mu.Unlock()
	if n, ok := RecordCount(details); ok && n > at.records {
		at.unreported += n - at.records
		at.records = n
		o.root.attempts.setRecords(at.event.RunID, at.event.Step, n)
	}
	now := time.Now()
	if now.Sub(at.lastProgress) < o.root.opts.ProgressEvery {
		return
	}
	at.lastProgress = now
	e := at.event // a copy: the attempt's event stays as started
	e.Kind = ActivityProgress
	e.Time = now
	e.Duration = now.Sub(at.event.Time)
	e.Progress = details
	e.Records, at.unreported = at.unreported, 0
	o.root.emitActivity(ctx, &e)
}

// RecordCount finds the cumulative record count in heartbeat details: the
// first detail when it is an integer, or its Records field (any integer
// kind) when it is a struct or a pointer to one.
func RecordCount(details []any) (int64, bool) {
	if len(details) == 0 {
		return 0, false
	}
	switch v := details[0].(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case int32:
		return int64(v), true
	case uint64:
		return int64(v), true
	}
	rv := reflect.ValueOf(details[0])
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return 0, false
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return 0, false
	}
	f := rv.FieldByName("Records")
	switch {
	case !f.IsValid():
		return 0, false
	case f.CanInt():
		return f.Int(), true
	case f.CanUint():
		return int64(f.Uint()), true
	}
	return 0, false
}

// errorMessage is an error's message without the type decorations that
// ApplicationError.Error adds (the type is logged on its own).
func errorMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && err == error(app) {
		return app.Message()
	}
	return err.Error()
}

// errorType names an error for logs and the error_type label: the
// application error's type when set, else the Temporal failure kind.
func errorType(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() != "" {
		return app.Type()
	}
	var (
		canceled *temporal.CanceledError
		timeout  *temporal.TimeoutError
		panicErr *temporal.PanicError
		act      *temporal.ActivityError
		child    *temporal.ChildWorkflowExecutionError
	)
	switch {
	case errors.As(err, &canceled):
		return "Canceled"
	case errors.As(err, &timeout):
		return "Timeout"
	case errors.As(err, &panicErr):
		return "Panic"
	case errors.As(err, &app):
		return "ApplicationError"
	case errors.As(err, &child):
		return "ChildWorkflowFailed"
	case errors.As(err, &act):
		return "ActivityFailed"
	}
	return "Error"
}
