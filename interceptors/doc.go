// Package interceptors is pipewatch's one Temporal WorkerInterceptor.
//
// New returns it; register it on a worker and every workflow and step is
// observed with no change to pipeline code. The interceptor turns the SDK's
// hooks into a few typed step events (see Kind) and hands each to a list of
// Observers: LogObserver writes structured lines, MetricsObserver feeds
// metrics.Pipeline, and lineage and alerts plug in the same way. A new sink
// is a new Observer; the interceptor does not change.
//
// Activity events come from the worker running the attempt (start, retry,
// throttled heartbeat progress, end, with the attempt's resources). Workflow
// events come from workflow code and are never emitted while replaying:
// run start and end (continue-as-new and cancellation are not failures) and
// each step as the workflow sees it, from scheduling to result, so steps run
// by workers in other languages are observed too.
//
// For the Temporal UI the interceptor answers the pipewatch.progress query
// on every run, keeps the run's current details (the current step, then how
// the run ended), fills in empty activity summaries (Options.Summaries) and
// writes the PipelineName, ModelName and DatasetVersion search attributes
// once, at start (Options.SearchAttributes; PipelineStep per step change
// only with Options.StepSearchAttribute). Search attribute upserts are
// commands, so they are versioned with GetVersion: histories recorded
// without pipewatch, or by its earlier versions, replay unchanged, and a
// run adds at most three history events whatever its number of steps.
package interceptors
