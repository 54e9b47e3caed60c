package interceptors

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The search attributes pipewatch writes; scripts/temporal.sh registers
// them (all Keyword) on the dev server. New runs write PipelineName,
// ModelName and DatasetVersion once, at start (see uiChangeID); PipelineStep
// only with Options.StepSearchAttribute. A run's status is Temporal's own
// ExecutionStatus: pipewatch's PipelineStatus, which workflow code could
// not keep true for runs ended from outside (terminated, timed out), is
// written only by runs that started under version 1.
const (
	SearchAttrPipelineName   = "PipelineName"
	SearchAttrPipelineStep   = "PipelineStep"
	SearchAttrPipelineStatus = "PipelineStatus"
	SearchAttrModelName      = "ModelName"
	SearchAttrDatasetVersion = "DatasetVersion"
)

// SearchAttributeNames lists the search attributes pipewatch writes, for
// the worker's start-up check (PipelineStatus and PipelineStep for the runs
// of versions 1 and 2 that may still be replayed).
func SearchAttributeNames() []string {
	return []string{SearchAttrPipelineName, SearchAttrPipelineStep, SearchAttrPipelineStatus, SearchAttrModelName, SearchAttrDatasetVersion}
}

// uiChangeID versions the commands the interceptor adds to a workflow's
// history (search attribute upserts). Runs whose history predates it —
// started before pipewatch was enabled — get DefaultVersion on replay and
// keep running without them. What each version writes:
//
//   - 1: PipelineName and PipelineStatus (running) at start, PipelineStep
//     each time the current step changes, PipelineStatus at the end;
//   - 2 (uiStepVersion): the same without PipelineStatus; new runs still
//     record it with Options.StepSearchAttribute;
//   - 3 (uiStartVersion): at start only, and only the values the run's
//     start did not set already.
//
// The marker costs two history events (it and the SDK's
// TemporalChangeVersion upsert), version 3's upsert one: at most three
// per run, whatever the number of steps.
const uiChangeID = "pipewatch.ui"

const (
	uiStepVersion  workflow.Version = 2
	uiStartVersion workflow.Version = 3
)

// uiStarted decides, once per run, whether this run writes search
// attributes, and writes the first ones. The run's history decides, never
// the worker that replays it: a new run on a worker that writes them
// records the version marker (version 2 with Options.StepSearchAttribute,
// 3 without), one on a worker that does not records nothing, and a replay,
// on any worker with any setting, asks GetVersion, which answers from the
// record (no marker: DefaultVersion, nothing written).
func (w *workflowInbound) uiStarted(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Pipeline **%s** started", w.run.progress.Pipeline))
	v := workflow.DefaultVersion
	if w.root.opts.SearchAttributes || workflow.IsReplaying(ctx) {
		newest := uiStartVersion
		if w.root.opts.StepSearchAttribute && !workflow.IsReplaying(ctx) {
			newest = uiStepVersion // what a new run records; a replay reads it back
		}
		v = workflow.GetVersion(ctx, uiChangeID, workflow.DefaultVersion, newest)
	}
	w.run.ui, w.run.uiStatus, w.run.uiSteps = v >= 1, v == 1, v >= 1 && v <= uiStepVersion
	if !w.run.ui {
		return
	}
	// Versions 1 and 2 wrote every value; version 3 leaves out what the
	// start set (the start's search attributes are in the history).
	start := workflow.GetTypedSearchAttributes(ctx)
	var updates []temporal.SearchAttributeUpdate
	set := func(name, value string) {
		key := temporal.NewSearchAttributeKeyKeyword(name)
		if v >= uiStartVersion {
			if had, ok := start.GetKeyword(key); ok && had == value {
				return
			}
		}
		updates = append(updates, key.ValueSet(value))
	}
	set(SearchAttrPipelineName, w.run.progress.Pipeline)
	if w.run.uiStatus {
		set(SearchAttrPipelineStatus, "running")
	}
	if m := w.run.labels.model; m != "" {
		set(SearchAttrModelName, m)
	}
	if d := w.run.labels.datasetVersion; d != "" {
		set(SearchAttrDatasetVersion, d)
	}
	if len(updates) > 0 {
		w.upsert(ctx, updates...)
	}
}

// uiStep shows the current step, in the current details (no history
// event) and, in runs of versions 1 and 2, in PipelineStep.
func (w *workflowInbound) uiStep(ctx workflow.Context, step string, typ StepType) {
	n := len(w.run.progress.Steps)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Step %d: **%s** (%s), scheduled %s",
		n, step, typ, workflow.Now(ctx).UTC().Format("15:04:05")))
	if w.run.uiSteps && step != w.run.shownStep { // write only changes: a loop over one step type upserts once
		w.run.shownStep = step
		w.upsert(ctx, temporal.NewSearchAttributeKeyKeyword(SearchAttrPipelineStep).ValueSet(step))
	}
}

// uiEnded records how the run ended in its current details, with the step
// a failed or canceled run stopped at; runs of version 1 also write
// PipelineStatus, but for a run that continues as new, which leaves the
// status to its successor.
func (w *workflowInbound) uiEnded(ctx workflow.Context, kind Kind, now time.Time) {
	steps := w.run.progress.Steps
	at := ""
	if kind == WorkflowFailed || kind == WorkflowCanceled {
		for i := len(steps) - 1; i >= 0; i-- {
			if steps[i].Status != StepCompleted.Status() {
				at = fmt.Sprintf(" at step %d: **%s**,", i+1, steps[i].Step)
				break
			}
		}
	}
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Pipeline **%s** %s%s after %d steps in %s",
		w.run.progress.Pipeline, kind.Status(), at, len(steps), since(now, w.run.info.WorkflowStartTime)))
	if kind == WorkflowContinuedAsNew || !w.run.uiStatus {
		return
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	w.upsert(dctx, temporal.NewSearchAttributeKeyKeyword(SearchAttrPipelineStatus).ValueSet(kind.Status()))
}

// upsert writes search attributes when this run writes them. A failure is
// logged, never returned: observability must not fail the pipeline.
func (w *workflowInbound) upsert(ctx workflow.Context, updates ...temporal.SearchAttributeUpdate) {
	if !w.run.ui {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Warn("pipewatch: upsert search attributes", "error", err)
	}
}

// summary is the Temporal UI summary for a step the caller left without
// one, or "" when there is nothing to add to the activity type the UI
// already shows: the run's model and dataset version, from its input or
// its start options' search attributes.
func (w *workflowInbound) summary(ctx workflow.Context) string {
	model, data := w.run.labels.model, w.run.labels.datasetVersion
	sa := workflow.GetTypedSearchAttributes(ctx)
	if model == "" {
		model, _ = sa.GetKeyword(temporal.NewSearchAttributeKeyKeyword(SearchAttrModelName))
	}
	if data == "" {
		data, _ = sa.GetKeyword(temporal.NewSearchAttributeKeyKeyword(SearchAttrDatasetVersion))
	}
	var parts []string
	if model != "" {
		parts = append(parts, "model="+model)
	}
	if data != "" {
		parts = append(parts, "data="+data)
	}
	return strings.Join(parts, " · ")
}
