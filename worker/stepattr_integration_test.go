//go:build integration

package worker_test

import (
	"context"
	"slices"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/workflows"
)

// TestWorkerStepSearchAttributeIntegration runs the real worker with
// interceptor.step_search_attribute off (the default) and on, from the
// environment as a user sets it: off, the demo run's history has no
// PipelineStep upsert; on, one for each of its two steps, in order, and
// visibility finds the run by its last step.
func TestWorkerStepSearchAttributeIntegration(t *testing.T) {
	for _, tt := range []struct {
		name  string
		env   string // PIPEWATCH_INTERCEPTOR_STEP_SEARCH_ATTRIBUTE
		steps []string
	}{
		{"default off", "", nil},
		{"on", "true", []string{"pipewatch.demo.Greet", "pipewatch.demo.Count"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.env != "" {
				t.Setenv("PIPEWATCH_INTERCEPTOR_STEP_SEARCH_ATTRIBUTE", tt.env)
			}
			cfg := testenv.Config(t)
			if got := cfg.Interceptor.StepSearchAttribute; got != (tt.env == "true") {
				t.Fatalf("interceptor.step_search_attribute loaded as %v from %q", got, tt.env)
			}
			cfg.Temporal.TaskQueue = testenv.Name(t)
			cfg.HTTP.Addr = "127.0.0.1:0"
			cfg.ShutdownTimeout = 10 * time.Second
			cfg.Alerts.CPUThreshold, cfg.Alerts.MemoryThreshold, cfg.Alerts.DiskThreshold = 0, 0, 0
			testenv.StartWorker(t, cfg)
			ctx := context.Background()

			tc := testenv.Temporal(t, cfg)
			run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: testenv.Name(t), TaskQueue: cfg.Temporal.TaskQueue, WorkflowExecutionTimeout: time.Minute,
			}, workflows.DemoWorkflowName, workflows.DemoInput{Name: "steps"})
			if err != nil {
				t.Fatal(err)
			}
			if err := run.Get(ctx, nil); err != nil {
				t.Fatal(err)
			}
			var steps []string
			iter := tc.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for iter.HasNext() {
				ev, err := iter.Next()
				if err != nil {
					t.Fatal(err)
				}
				attrs := ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()
				if p, ok := attrs[interceptors.SearchAttrPipelineStep]; ok {
					steps = append(steps, decodeKeyword(t, p))
				}
			}
			if !slices.Equal(steps, tt.steps) {
				t.Errorf("PipelineStep upserts %q, want %q", steps, tt.steps)
			}
			if len(tt.steps) == 0 {
				return
			}
			query := "WorkflowId = '" + run.GetID() + "' AND PipelineStep = '" + tt.steps[len(tt.steps)-1] + "'"
			var found int
			for deadline := time.Now().Add(10 * time.Second); found != 1 && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				resp, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
				if err != nil {
					t.Fatalf("count %s: %v", query, err)
				}
				found = int(resp.GetCount())
			}
			if found != 1 {
				t.Errorf("visibility counts %d runs for %s, want 1", found, query)
			}
		})
	}
}

func decodeKeyword(t *testing.T, p *commonpb.Payload) string {
	t.Helper()
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		t.Fatalf("decode search attribute: %v", err)
	}
	return s
}
