package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/activities"
)

// DemoWorkflowName is the registered name of DemoWorkflow.
const DemoWorkflowName = "pipewatch.Demo"

// DemoInput is the input of DemoWorkflow.
type DemoInput struct {
	Name string
}

// DemoResult is what DemoWorkflow returns.
type DemoResult struct {
	Greeting string
	Letters  int
	// RunID is the workflow's run id, the key of its (:Run) node in Neo4j.
	RunID string
}

// DemoWorkflow greets, then counts the greeting's letters: the smallest
// pipeline whose steps pipewatch logs, counts, shows in the Temporal UI and
// records as runs in Neo4j.
func DemoWorkflow(ctx workflow.Context, in DemoInput) (DemoResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, InitialInterval: time.Second},
	})
	var greeting string
	if err := workflow.ExecuteActivity(ctx, activities.DemoGreetName, activities.GreetInput{Name: in.Name}).
		Get(ctx, &greeting); err != nil {
		return DemoResult{}, fmt.Errorf("greet: %w", err)
	}
	var letters int
	if err := workflow.ExecuteActivity(ctx, activities.DemoCountName, greeting).Get(ctx, &letters); err != nil {
		return DemoResult{}, fmt.Errorf("count: %w", err)
	}
	return DemoResult{Greeting: greeting, Letters: letters, RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID}, nil
}
