package interceptors

import (
	"context"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/metrics"
)

// Options configures New. The zero value observes nothing and writes no
// search attributes; it still serves the pipewatch.progress query.
type Options struct {
	// Observers receive every event, in this order. Logging, metrics,
	// lineage and alerts are observers.
	Observers []Observer
	// SearchAttributes turns on writing PipelineName (and ModelName,
	// DatasetVersion when the workflow's input names them) in new
	// workflow runs, once, at start, leaving out the values the start set
	// already: with the version marker, at most three history events per
	// run. The namespace must have them registered as Keyword, or
	// workflow tasks fail: the pipewatch worker checks that before
	// turning this on. It decides for the runs that start on this worker
	// only: a run's history (its version marker) decides on replay, so
	// workers may differ, and turning it off is safe. Default off.
	SearchAttributes bool
	// StepSearchAttribute, with SearchAttributes, also writes PipelineStep
	// each time a new run's current step changes, as pipewatch did
	// before. Each write is a command the user's cluster pays for: one
	// more history event (history length counts toward Temporal's
	// 51,200-event limit), one more visibility write and more work per
	// workflow task, so a loop alternating two step types 10,000 times
	// adds 20,000 events. Default off: the current step is in the run's
	// current details and the pipewatch.progress query, which cost no
	// event. Like SearchAttributes it decides for new runs only.
	StepSearchAttribute bool
	// Summaries fills in an activity's Summary, shown in the Temporal UI,
	// when the caller left it empty and the run's model or dataset version
	// is known ("model=churn-lr · data=sha256:ab12"); the UI shows the
	// activity type already. Default off.
	Summaries bool
	// ProgressEvery is the least time between two ActivityProgress events
	// of one attempt; heartbeats in between are merged. Zero means 10s.
	ProgressEvery time.Duration
	// Raiser is put in every activity's context, for steps to raise their
	// own alerts with alerts.Fire; nil leaves it out (alerts.Fire then
	// returns alerts.ErrNoRaiser).
	Raiser *alerts.Raiser
	// WorkflowFailureAlerts raises a workflow_failure alert when a run
	// fails, from workflow code through the local activity
	// alerts.FireActivityName, which the worker must register (see
	// alerts.Register). Versioned: safe to turn on for running workflows.
	WorkflowFailureAlerts bool
	// Usage returns the process's latest sampled resource counters; an
	// attempt's resources are the difference between the samples at its
	// start and end (see metrics.ProcessSampler). Nil reports zeros.
	Usage func() metrics.Usage
}

// Interceptor is pipewatch's WorkerInterceptor. Register one per worker.
type Interceptor struct {
	interceptor.WorkerInterceptorBase
	opts      Options
	observers []Observer
	attempts  *attemptRegistry
	datasets  lineage.Finder // finds lineage.Dataset in activity arguments and results
}

var _ interceptor.WorkerInterceptor = (*Interceptor)(nil)

// New returns the interceptor.
func New(opts Options) *Interceptor {
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 10 * time.Second
	}
	if opts.Usage == nil {
		opts.Usage = func() metrics.Usage { return metrics.Usage{} }
	}
	return &Interceptor{opts: opts, observers: opts.Observers, attempts: newAttemptRegistry(10000)}
}

// InterceptActivity wraps each activity execution.
// Activities of pipewatch's own workflows, and the alert local activity,
// pass through unobserved (see OwnWorkflow).
func (i *Interceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}, root: i}
}

// InterceptWorkflow wraps each workflow execution.
// pipewatch's own workflows pass through unobserved (see OwnWorkflow): they
// issue the same commands either way.
func (i *Interceptor) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	if OwnWorkflow(workflow.GetInfo(ctx).WorkflowType.Name) {
		return next
	}
	return &workflowInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, root: i}
}

func (i *Interceptor) emitActivity(ctx context.Context, e *Event) {
	for _, o := range i.observers {
		o.ObserveActivity(ctx, e)
	}
}

// persistActivity has the observers that are Persisters make e durable;
// the first error stops it.
func (i *Interceptor) persistActivity(ctx context.Context, e *Event) error {
	for _, o := range i.observers {
		if p, ok := o.(Persister); ok {
			if err := p.PersistActivity(ctx, e); err != nil {
				return err
			}
		}
	}
	e.persisted = true
	return nil
}

func (i *Interceptor) emitWorkflow(ctx workflow.Context, e *Event) {
	for _, o := range i.observers {
		o.ObserveWorkflow(ctx, e)
	}
}
