//go:build integration

package interceptors_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/testenv"
)

// registerAlternating registers uiAlternating and its activities.
func registerAlternating(w worker.Registry) {
	w.RegisterWorkflowWithOptions(uiAlternating, workflow.RegisterOptions{Name: "ui.alternating"})
	step := func(_ context.Context, i int) (int, error) { return i, nil }
	w.RegisterActivityWithOptions(step, activity.RegisterOptions{Name: "ui.odd"})
	w.RegisterActivityWithOptions(step, activity.RegisterOptions{Name: "ui.even"})
	w.RegisterActivityWithOptions(func(context.Context, int) error {
		return temporal.NewNonRetryableApplicationError("schema mismatch", "SchemaError", nil)
	}, activity.RegisterOptions{Name: "ui.fail"})
	w.RegisterActivityWithOptions(func(ctx context.Context, _ int) error {
		for range 300 { // until cancelled, at most 30 s
			activity.RecordHeartbeat(ctx)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
		return nil
	}, activity.RegisterOptions{Name: "ui.wait"})
}

// fetchHistory reads a run's whole history.
func fetchHistory(t *testing.T, tc client.Client, id, runID string) *historypb.History {
	t.Helper()
	h := &historypb.History{}
	it := tc.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

// footprint counts the events that search attributes and version markers
// add to a history: upserts (the SDK's TemporalChangeVersion one included)
// and markers.
func footprint(h *historypb.History) (upserts, markers int) {
	for _, e := range h.GetEvents() {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			upserts++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			markers++
		}
	}
	return upserts, markers
}

// replayAlternating replays h on a replayer with the interceptor of opts.
func replayAlternating(h *historypb.History, opts interceptors.Options) error {
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		Interceptors: []interceptor.WorkerInterceptor{interceptors.New(opts)},
	})
	if err != nil {
		return err
	}
	r.RegisterWorkflowWithOptions(uiAlternating, workflow.RegisterOptions{Name: "ui.alternating"})
	return r.ReplayWorkflowHistory(nil, h)
}

// replayOptions are the interceptor settings a recorded history must
// replay under: the history decides what is written, not the worker.
var replayOptions = []interceptors.Options{
	{SearchAttributes: true, Summaries: true},
	{SearchAttributes: false},
	{SearchAttributes: true, StepSearchAttribute: true},
}

// TestUIHistoryIntegration runs uiAlternating on the dev server with
// search attributes on, to completion, to a failure and to a
// cancellation, started with the search attributes set, and with
// StepSearchAttribute, and checks each run's footprint, its search
// attributes as Temporal lists them, its current details, and that its history replays
// whatever the replaying worker's settings. With
// PIPEWATCH_RECORD_HISTORIES=<dir> it writes the histories of the first
// three cases there as <prefix>-<case>.history.json (prefix
// PIPEWATCH_RECORD_PREFIX, default ui-version-3): how testdata's histories
// were recorded; ui-version-2-* by this test run on the interceptor of
// commit d038faa, before version 3 (without StepSearchAttribute, which it
// lacks; the checks of version 3 fail there).
func TestUIHistoryIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	tc := testenv.Temporal(t, cfg)
	queue := testenv.Name(t)
	for q, opts := range map[string]interceptors.Options{
		queue:            {SearchAttributes: true, Summaries: true},
		queue + "-steps": {SearchAttributes: true, Summaries: true, StepSearchAttribute: true},
	} {
		w := worker.New(tc, q, worker.Options{Interceptors: []interceptor.WorkerInterceptor{interceptors.New(opts)}})
		registerAlternating(w)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}

	seven := uiAlternatingInput{ModelName: "churn-lr", Steps: 7}
	for _, tt := range []struct {
		name    string
		queue   string // the worker's
		in      uiAlternatingInput
		startSA bool // the start sets PipelineName and ModelName
		status  enumspb.WorkflowExecutionStatus
		details string // how the current details start at the end
		upserts int    // TemporalChangeVersion's included
		step    string // PipelineStep
	}{
		{"completed", queue, seven, false, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, "Pipeline **ui.alternating** completed after 7 steps in ", 2, ""},
		{"failed", queue, uiAlternatingInput{ModelName: "churn-lr", Steps: 7, FailAt: 5}, false, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, "Pipeline **ui.alternating** failed at step 5: **ui.fail**, after 5 steps in ", 2, ""},
		{"canceled", queue, uiAlternatingInput{ModelName: "churn-lr", Steps: 7, WaitAt: 4}, false, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, "Pipeline **ui.alternating** canceled at step 4: **ui.wait**, after 4 steps in ", 2, ""},
		// The start wrote them: nothing left to upsert.
		{"started-with-search-attributes", queue, seven, true, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, "Pipeline **ui.alternating** completed after 7 steps in ", 1, ""},
		// The option: version 2's upsert per step change.
		{"step-search-attribute", queue + "-steps", seven, false, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, "Pipeline **ui.alternating** completed after 7 steps in ", 9, "ui.odd"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			id := testenv.Name(t)
			opts := client.StartWorkflowOptions{ID: id, TaskQueue: tt.queue}
			if tt.startSA {
				opts.TypedSearchAttributes = temporal.NewSearchAttributes(
					temporal.NewSearchAttributeKeyKeyword(interceptors.SearchAttrPipelineName).ValueSet("ui.alternating"),
					temporal.NewSearchAttributeKeyKeyword(interceptors.SearchAttrModelName).ValueSet("churn-lr"))
			}
			run, err := tc.ExecuteWorkflow(ctx, opts, "ui.alternating", tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if tt.in.WaitAt > 0 {
				waitForStep(ctx, t, tc, id, "ui.wait")
				if err := tc.CancelWorkflow(ctx, id, ""); err != nil {
					t.Fatal(err)
				}
			}
			err = run.Get(ctx, nil)
			if (err == nil) != (tt.status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED) {
				t.Fatalf("run ended with %v", err)
			}
			h := fetchHistory(t, tc, id, run.GetRunID())
			if dir := os.Getenv("PIPEWATCH_RECORD_HISTORIES"); dir != "" && tt.queue == queue && !tt.startSA {
				prefix := os.Getenv("PIPEWATCH_RECORD_PREFIX")
				if prefix == "" {
					prefix = "ui-version-3"
				}
				b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, prefix+"-"+tt.name+".history.json"), append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}

			// The version marker with the SDK's TemporalChangeVersion
			// upsert, and (version 3) one upsert at start.
			if u, m := footprint(h); u != tt.upserts || m != 1 {
				t.Errorf("%d upserts and %d markers in the history, want %d and 1", u, m, tt.upserts)
			}
			d, err := tc.DescribeWorkflow(ctx, id, run.GetRunID())
			if err != nil {
				t.Fatal(err)
			}
			info := d.RawResponse.GetWorkflowExecutionInfo()
			if info.GetStatus() != tt.status {
				t.Errorf("status %s, want %s", info.GetStatus(), tt.status)
			}
			sa := map[string]string{}
			for k, p := range info.GetSearchAttributes().GetIndexedFields() {
				var v string
				if converter.GetDefaultDataConverter().FromPayload(p, &v) == nil {
					sa[k] = v
				}
			}
			for k, want := range map[string]string{
				interceptors.SearchAttrPipelineName: "ui.alternating", interceptors.SearchAttrModelName: "churn-lr",
				interceptors.SearchAttrPipelineStep: tt.step, interceptors.SearchAttrPipelineStatus: "", interceptors.SearchAttrDatasetVersion: "",
			} {
				if sa[k] != want {
					t.Errorf("search attribute %s = %q, want %q", k, sa[k], want)
				}
			}
			// The step the run ended at is in its current details (the
			// Temporal UI's and the CLI's "current details").
			v, err := tc.QueryWorkflow(ctx, id, run.GetRunID(), "__temporal_workflow_metadata")
			if err != nil {
				t.Fatal(err)
			}
			var md sdkpb.WorkflowMetadata
			if err := v.Get(&md); err != nil {
				t.Fatal(err)
			}
			if got := md.GetCurrentDetails(); !strings.HasPrefix(got, tt.details) {
				t.Errorf("current details %q, want them to start with %q", got, tt.details)
			}
			for i, opts := range replayOptions {
				if err := replayAlternating(h, opts); err != nil {
					t.Errorf("replay with options #%d (%+v): %v", i, opts, err)
				}
			}
		})
	}
}

// waitForStep waits until the run has step pending, as Temporal says.
func waitForStep(ctx context.Context, t *testing.T, tc client.Client, id, step string) {
	t.Helper()
	for {
		d, err := tc.DescribeWorkflow(ctx, id, "")
		if err == nil {
			for _, a := range d.RawResponse.GetPendingActivities() {
				if a.GetActivityType().GetName() == step {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal(errors.Join(ctx.Err(), err, fmt.Errorf("step %s never pending", step)))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
