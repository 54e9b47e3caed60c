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
	// RunID is the workflow's run id, the key of its (:Run) node in Neo4j.
	RunID string
}

// DemoWorkflow greets, then records its run in the lineage graph: the
// smallest workflow that touches every part of the stack.
func DemoWorkflow(ctx workflow.Context, in DemoInput) (DemoResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, InitialInterval: time.Second},
	})
	info := workflow.GetInfo(ctx)

	var greeting string
	if err := workflow.ExecuteActivity(ctx, activities.DemoGreetName, activities.GreetInput{Name: in.Name}).
		Get(ctx, &greeting); err != nil {
		return DemoResult{}, fmt.Errorf("greet: %w", err)
	}
	rec := activities.RecordInput{
		WorkflowID: info.WorkflowExecution.ID,
		RunID:      info.WorkflowExecution.RunID,
		JobKey:     DemoWorkflowName,
		StartedAt:  info.WorkflowStartTime,
	}
	if err := workflow.ExecuteActivity(ctx, activities.DemoRecordName, rec).Get(ctx, nil); err != nil {
		return DemoResult{}, fmt.Errorf("record run: %w", err)
	}
	return DemoResult{Greeting: greeting, RunID: info.WorkflowExecution.RunID}, nil
}
