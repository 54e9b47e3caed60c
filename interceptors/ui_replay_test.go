package interceptors_test

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/interceptors"
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

// uiAlternatingInput is the input of uiAlternating; ModelName is read by
// the interceptor as the run's model.
type uiAlternatingInput struct {
	ModelName string
	Steps     int
	FailAt    int // the step (from 1) that fails, none if 0
	WaitAt    int // the step (from 1) that waits until cancelled, none if 0
}

// uiAlternating runs Steps activities alternating two types (ui.odd,
// ui.even), the one at FailAt replaced by ui.fail and the one at WaitAt by
// ui.wait: the pipeline that recorded testdata/ui-version-2-*.history.json
// (per-step upserts) and ui-version-3-*.history.json.
func uiAlternating(ctx workflow.Context, in uiAlternatingInput) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	for i := 1; i <= in.Steps; i++ {
		step := "ui.even"
		switch {
		case i == in.FailAt:
			step = "ui.fail"
		case i == in.WaitAt:
			step = "ui.wait"
		case i%2 == 1:
			step = "ui.odd"
		}
		if err := workflow.ExecuteActivity(ctx, step, i).Get(ctx, nil); err != nil {
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
				Interceptors: []interceptor.WorkerInterceptor{interceptors.New(interceptors.Options{SearchAttributes: searchAttributes, Summaries: true})},
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

// Histories of uiAlternating recorded on the dev server by
// TestUIHistoryIntegration: version 2 by the interceptor before version 3
// (an upsert of PipelineStep per step change), version 3 by the current
// one (one upsert at start), each run completed, failed at step 5 and
// canceled at step 4. Each replays unchanged whatever the replaying
// worker's settings: the history's marker decides. Without the
// interceptor they fail, so the replays do compare the upserts.
func TestAlternatingHistoriesReplay(t *testing.T) {
	settings := []interceptors.Options{
		{SearchAttributes: true, Summaries: true},
		{SearchAttributes: false},
		{SearchAttributes: true, StepSearchAttribute: true},
	}
	for _, version := range []string{"2", "3"} {
		for _, end := range []string{"completed", "failed", "canceled"} {
			file := "testdata/ui-version-" + version + "-" + end + ".history.json"
			for i, opts := range settings {
				t.Run(fmt.Sprintf("version %s %s settings #%d", version, end, i), func(t *testing.T) {
					if err := replayFile(file, &opts); err != nil {
						t.Errorf("replay %s with %+v: %v", file, opts, err)
					}
				})
			}
			t.Run(fmt.Sprintf("version %s %s without the interceptor", version, end), func(t *testing.T) {
				if err := replayFile(file, nil); err == nil {
					t.Errorf("replay %s without the interceptor: no error, want nondeterminism", file)
				}
			})
		}
	}
}

// replayFile replays a uiAlternating history with the interceptor of
// opts, or without one when opts is nil.
func replayFile(file string, opts *interceptors.Options) error {
	var ro worker.WorkflowReplayerOptions
	if opts != nil {
		ro.Interceptors = []interceptor.WorkerInterceptor{interceptors.New(*opts)}
	}
	r, err := worker.NewWorkflowReplayerWithOptions(ro)
	if err != nil {
		return err
	}
	r.RegisterWorkflowWithOptions(uiAlternating, workflow.RegisterOptions{Name: "ui.alternating"})
	// Quiet: the SDK logs a nondeterminism error with its stack.
	return r.ReplayWorkflowHistoryFromJSONFile(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), file)
}
