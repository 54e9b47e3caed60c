package interceptors

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// The search attributes pipewatch writes; scripts/temporal.sh registers
// them (all Keyword) on the dev server. A run's status is Temporal's own
// ExecutionStatus: pipewatch's PipelineStatus, which workflow code could
// not keep true for runs ended from outside (terminated, timed out), is
// written only by runs that started before version 2.
const (
	SearchAttrPipelineName   = "PipelineName"
	SearchAttrPipelineStep   = "PipelineStep"
	SearchAttrPipelineStatus = "PipelineStatus"
	SearchAttrModelName      = "ModelName"
	SearchAttrDatasetVersion = "DatasetVersion"
)

// SearchAttributeNames lists the search attributes pipewatch writes, for
// the worker's start-up check (PipelineStatus for the runs of version 1
// that may still be replayed).
func SearchAttributeNames() []string {
	return []string{SearchAttrPipelineName, SearchAttrPipelineStep, SearchAttrPipelineStatus, SearchAttrModelName, SearchAttrDatasetVersion}
}

// uiChangeID versions the commands the interceptor adds to a workflow's
// history (search attribute upserts). Runs whose history predates it —
// started before pipewatch was enabled — get DefaultVersion on replay and
// keep running without them. Version 1 also wrote PipelineStatus, at start
// and end; version 2 leaves the status to Temporal's ExecutionStatus.
const uiChangeID = "pipewatch.ui"

// uiStarted decides, once per run, whether this run writes search
// attributes, and writes the first ones. The run's history decides, never
// the worker that replays it: a new run on a worker that writes them
// records the version marker, one on a worker that does not records
// nothing, and a replay, on any worker with any setting, asks GetVersion,
// which answers from the record (no marker: DefaultVersion, nothing
// written).
func (w *workflowInbound) uiStarted(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Pipeline **%s** started", w.run.progress.Pipeline))
	v := workflow.DefaultVersion
	if w.root.opts.SearchAttributes || workflow.IsReplaying(ctx) {
		v = workflow.GetVersion(ctx, uiChangeID, workflow.DefaultVersion, 2)
	}
	w.run.ui, w.run.uiStatus = v >= 1, v == 1
	if !w.run.ui {
		return
	}
	updates := []temporal.SearchAttributeUpdate{temporal.NewSearchAttributeKeyKeyword(SearchAttrPipelineName).ValueSet(w.run.progress.Pipeline)}
	if w.run.uiStatus {
		updates = append(updates, temporal.NewSearchAttributeKeyKeyword(SearchAttrPipelineStatus).ValueSet("running"))
	}
	if m := w.run.labels.model; m != "" {
		updates = append(updates, temporal.NewSearchAttributeKeyKeyword(SearchAttrModelName).ValueSet(m))
	}
	if d := w.run.labels.datasetVersion; d != "" {
		updates = append(updates, temporal.NewSearchAttributeKeyKeyword(SearchAttrDatasetVersion).ValueSet(d))
	}
	w.upsert(ctx, updates...)
}

// uiStep shows the current step.
func (w *workflowInbound) uiStep(ctx workflow.Context, step string, typ StepType) {
	n := len(w.run.progress.Steps)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Step %d: **%s** (%s), scheduled %s",
		n, step, typ, workflow.Now(ctx).UTC().Format("15:04:05")))
	if step != w.run.shownStep { // write only changes: a loop over one step type upserts once
		w.run.shownStep = step
		w.upsert(ctx, temporal.NewSearchAttributeKeyKeyword(SearchAttrPipelineStep).ValueSet(step))
	}
}

// uiEnded records how the run ended; a run that continues as new leaves
// the status to its successor.
func (w *workflowInbound) uiEnded(ctx workflow.Context, kind Kind, now time.Time) {
	steps := len(w.run.progress.Steps)
	workflow.SetCurrentDetails(ctx, fmt.Sprintf("Pipeline **%s** %s after %d steps in %s",
		w.run.progress.Pipeline, kind.Status(), steps, since(now, w.run.info.WorkflowStartTime)))
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
