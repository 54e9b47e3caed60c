package interceptors

import (
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// uiPipeline is the workflow that recorded testdata/ui-version-1.history.json
// with the interceptor of version 1 (search attributes on, PipelineStatus
// written at start and end).
func uiPipeline(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for _, step := range []string{"ui.ingest", "ui.train", "ui.train"} {
		if err := workflow.ExecuteActivity(ctx, step).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// Runs that started under version 1 keep writing PipelineStatus when they
// replay; only new runs leave it out. The history decides, not the
// replaying worker: a worker with search attributes off (a failed start-up
// check, another deployment's settings) replays the run's upserts too. It
// used to skip them, and the run met nondeterminism.
func TestVersion1HistoryReplays(t *testing.T) {
	for _, searchAttributes := range []bool{true, false} {
		t.Run(fmt.Sprintf("search attributes %v", searchAttributes), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
				Interceptors: []interceptor.WorkerInterceptor{New(Options{SearchAttributes: searchAttributes, Summaries: true})},
			})
			if err != nil {
				t.Fatal(err)
			}
			r.RegisterWorkflowWithOptions(uiPipeline, workflow.RegisterOptions{Name: "ui.pipeline"})
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/ui-version-1.history.json"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
