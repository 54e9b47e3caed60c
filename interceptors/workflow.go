package interceptors

import (
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// workflowInbound observes one workflow execution. The SDK makes one per
// execution, so its run state needs no locking: workflow code runs one
// coroutine at a time.
type workflowInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	root    *Interceptor
	run     runState
	pending []*trackedStep
}

// runState is what the interceptor knows of the run, rebuilt identically on
// replay so the progress query answers the same on any worker.
type runState struct {
	info        *workflow.Info
	userID      string
	progress    Progress
	ui          bool   // search attributes are written in this run
	uiStatus    bool   // and PipelineStatus (version 1)
	uiSteps     bool   // and PipelineStep (versions 1 and 2)
	shownStep   string // the PipelineStep value last written
	labels      runLabels
	summary     string // steps' summary, worked out on the first step
	summaryDone bool
}

func (w *workflowInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return w.Next.Init(&workflowOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, w: w})
}

func (w *workflowInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	r := &w.run
	r.info = workflow.GetInfo(ctx)
	r.userID = workflowUserID(ctx)
	r.labels = findRunLabels(in.Args)
	r.progress = Progress{
		Pipeline:   r.info.WorkflowType.Name,
		WorkflowID: r.info.WorkflowExecution.ID,
		RunID:      r.info.WorkflowExecution.RunID,
		Status:     "running",
		Started:    r.info.WorkflowStartTime,
		Steps:      []StepProgress{},
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, w.progress); err != nil {
		// Observability never fails the pipeline: go on without the query.
		workflow.GetLogger(ctx).Warn("pipewatch: cannot register the progress query", "query", ProgressQuery, "error", err)
	}
	w.uiStarted(ctx)
	if observing(ctx) {
		w.root.emitWorkflow(ctx, w.event(ctx, WorkflowStarted))
	}
	w.watch(ctx)

	res, err := w.Next.ExecuteWorkflow(ctx, in)
	w.settle(ctx)

	kind, now := outcome(err), workflow.Now(ctx)
	r.progress.Status = kind.Status()
	r.progress.Current = ""
	w.uiEnded(ctx, kind, now)
	if kind == WorkflowFailed && w.root.opts.WorkflowFailureAlerts {
		w.alertFailure(ctx, err)
	}
	if observing(ctx) {
		e := w.event(ctx, kind)
		e.Duration = now.Sub(r.info.WorkflowStartTime)
		if kind == WorkflowFailed {
			e.Err, e.ErrType = err, errorType(err)
		}
		w.root.emitWorkflow(ctx, e)
	}
	return res, err
}

// outcome classifies how a run ended: continue-as-new and cancellation are
// not failures.
func outcome(err error) Kind {
	switch {
	case err == nil:
		return WorkflowCompleted
	case workflow.IsContinueAsNewError(err):
		return WorkflowContinuedAsNew
	case temporal.IsCanceledError(err):
		return WorkflowCanceled
	default:
		return WorkflowFailed
	}
}

// progress answers the pipewatch.progress query.
func (w *workflowInbound) progress() (Progress, error) {
	p := w.run.progress
	p.Steps = make([]StepProgress, len(w.run.progress.Steps))
	for i, s := range w.run.progress.Steps {
		if s.Type != StepChildWorkflow.String() {
			if n := w.root.attempts.get(p.RunID, s.Step); n > s.Attempts {
				s.Attempts = n
			}
			s.Records = w.root.attempts.records(p.RunID, s.Step)
		}
		p.Steps[i] = s
	}
	return p, nil
}

func (w *workflowInbound) event(ctx workflow.Context, kind Kind) *Event {
	info := w.run.info
	return &Event{
		Kind:         kind,
		Time:         workflow.Now(ctx),
		Namespace:    info.Namespace,
		TaskQueue:    info.TaskQueueName,
		WorkflowID:   info.WorkflowExecution.ID,
		RunID:        info.WorkflowExecution.RunID,
		WorkflowType: info.WorkflowType.Name,
		Pipeline:     info.WorkflowType.Name,
		Attempt:      info.Attempt,
		UserID:       w.run.userID,
		ParentRunID:  parentRunID(info),
	}
}

func parentRunID(info *workflow.Info) string {
	if info.ParentWorkflowExecution == nil {
		return ""
	}
	return info.ParentWorkflowExecution.RunID
}

// observing says whether events go to the observers: not while replaying,
// since what was observed when the history was made is not observed again
// (nor is an event built for it).
func observing(ctx workflow.Context) bool { return !workflow.IsReplaying(ctx) }

// trackedStep is a scheduled step whose end has not been reported yet.
type trackedStep struct {
	idx   int
	name  string
	typ   StepType
	start time.Time
	f     workflow.Future
}

// track follows a scheduled step to its end as workflow code sees it: one
// coroutine per run (started by watch) reports steps as their futures
// settle, and settle also runs whenever the interceptor runs, so a step's
// end is reported before the next step is scheduled and before the run
// ends. Futures can be read many times: the caller's own Get is untouched.
func (w *workflowInbound) track(ctx workflow.Context, typ StepType, name string, f workflow.Future) {
	w.settle(ctx)
	r := &w.run
	ts := &trackedStep{idx: len(r.progress.Steps), name: name, typ: typ, start: workflow.Now(ctx), f: f}
	r.progress.Steps = append(r.progress.Steps, StepProgress{Step: name, Type: typ.String(), Status: "running", Attempts: 1, Started: ts.start})
	r.progress.Current = name
	w.pending = append(w.pending, ts)
	w.uiStep(ctx, name, typ)
	if observing(ctx) {
		e := w.event(ctx, StepScheduled)
		e.Step, e.StepType, e.Attempt = name, typ, 0
		w.root.emitWorkflow(ctx, e)
	}
}

// watch starts the run's one tracking coroutine. It issues no commands, so
// it changes no history; it sleeps until a pending step's future is ready.
func (w *workflowInbound) watch(ctx workflow.Context) {
	ctx, _ = workflow.NewDisconnectedContext(ctx) // outlive cancellation to report it
	workflow.GoNamed(ctx, "pipewatch.steps", func(ctx workflow.Context) {
		for {
			if err := workflow.Await(ctx, w.anyReady); err != nil {
				return
			}
			w.settle(ctx)
		}
	})
}

func (w *workflowInbound) anyReady() bool {
	for _, ts := range w.pending {
		if ts.f.IsReady() {
			return true
		}
	}
	return false
}

// settle reports every pending step whose result is ready.
func (w *workflowInbound) settle(ctx workflow.Context) {
	kept := w.pending[:0]
	for _, ts := range w.pending {
		if ts.f.IsReady() {
			w.finish(ctx, ts)
		} else {
			kept = append(kept, ts)
		}
	}
	clear(w.pending[len(kept):])
	w.pending = kept
}

// finish reports a settled step.
func (w *workflowInbound) finish(ctx workflow.Context, ts *trackedStep) {
	err := ts.f.Get(ctx, nil) // ready: returns at once
	kind := StepCompleted
	switch {
	case err == nil:
	case temporal.IsCanceledError(err):
		kind = StepCanceled
	default:
		kind = StepFailed
	}
	dur := workflow.Now(ctx).Sub(ts.start)
	r := &w.run
	s := &r.progress.Steps[ts.idx]
	s.Status, s.Duration = kind.Status(), dur
	if err != nil {
		s.Error = err.Error()
	}
	if r.progress.Current == ts.name {
		r.progress.Current = ""
	}
	if !observing(ctx) {
		return
	}
	e := w.event(ctx, kind)
	e.Step, e.StepType, e.Attempt, e.Duration = ts.name, ts.typ, 0, dur
	e.RanHere = ts.typ != StepChildWorkflow && w.root.attempts.get(e.RunID, ts.name) > 0
	if kind == StepFailed {
		e.Err, e.ErrType = err, errorType(err)
	}
	w.root.emitWorkflow(ctx, e)
}

// workflowOutbound sees the steps a workflow schedules.
type workflowOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	w *workflowInbound
}

func (o *workflowOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	if sum := o.w.stepSummary(ctx); sum != "" {
		if opts := workflow.GetActivityOptions(ctx); opts.Summary == "" {
			opts.Summary = sum
			ctx = workflow.WithActivityOptions(ctx, opts)
		}
	}
	f := o.Next.ExecuteActivity(ctx, activityType, args...)
	o.w.track(ctx, StepActivity, activityType, f)
	return f
}

func (o *workflowOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	if sum := o.w.stepSummary(ctx); sum != "" {
		if opts := workflow.GetLocalActivityOptions(ctx); opts.Summary == "" {
			opts.Summary = sum
			ctx = workflow.WithLocalActivityOptions(ctx, opts)
		}
	}
	f := o.Next.ExecuteLocalActivity(ctx, activityType, args...)
	if !ownStep(activityType) {
		o.w.track(ctx, StepLocalActivity, activityType, f)
	}
	return f
}

func (o *workflowOutbound) ExecuteChildWorkflow(ctx workflow.Context, childWorkflowType string, args ...any) workflow.ChildWorkflowFuture {
	f := o.Next.ExecuteChildWorkflow(ctx, childWorkflowType, args...)
	o.w.track(ctx, StepChildWorkflow, childWorkflowType, f)
	return f
}

// stepSummary is the summary to give steps scheduled without one, "" for
// none; worked out on the first step of the run.
func (w *workflowInbound) stepSummary(ctx workflow.Context) string {
	if !w.root.opts.Summaries {
		return ""
	}
	if !w.run.summaryDone {
		w.run.summary, w.run.summaryDone = w.summary(ctx), true
	}
	return w.run.summary
}

// since is how long ago t was at now, for the UI's current details.
func since(now, t time.Time) string { return now.Sub(t).Round(time.Second).String() }
