package alerts

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// TestWorkflowName is the workflow behind pipewatch alerts test: it raises
// a test alert on a worker, through that worker's routes and channels, so
// that what is tested is what a real alert would go through.
const TestWorkflowName = "pipewatch.AlertTest"

// TestActivityName raises the test alert with the worker's raiser.
const TestActivityName = "pipewatch.alert.RaiseTest"

// TestInput asks for a test alert.
type TestInput struct {
	// ID tells this test's alert from any other: its label "test".
	ID string `json:"id"`
	// Severity routes the alert as an alert of that severity would be.
	Severity Severity `json:"severity"`
	// By names who asked, for the alert's text.
	By string `json:"by,omitempty"`
}

// TestResult is the test alert and where the worker's policy routes it.
type TestResult struct {
	Key      string   `json:"key"`
	Channels []string `json:"channels"`
}

// OwnWorkflowTypes are the workflow types of pipewatch's own machinery in
// this package: not pipelines, so neither the interceptor nor the
// sentinel watches them.
func OwnWorkflowTypes() []string { return []string{WorkflowName, TestWorkflowName} }

// TestAlert is the alert a test raises: custom, labelled with the test's
// id, saying what it is.
func TestAlert(in TestInput) Alert {
	by := in.By
	if by == "" {
		by = "someone"
	}
	return Alert{
		Type: Custom, Severity: in.Severity, Labels: map[string]string{"test": in.ID},
		Summary: "pipewatch test alert: this channel reaches you",
		Details: fmt.Sprintf("%s ran pipewatch alerts test (%s). Nothing is wrong; the test resolves it.", by, in.ID),
	}
}

// RaiseTestActivity raises the test alert through the worker's raiser and
// says where its policy routes it.
func (r *Raiser) RaiseTestActivity(ctx context.Context, in TestInput) (TestResult, error) {
	a := TestAlert(in)
	a.At = activity.GetInfo(ctx).StartedTime
	if err := a.Validate(); err != nil {
		return TestResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "BadTestAlert", err)
	}
	if err := Raise(ctx, activity.GetClient(ctx), r.TaskQueue, r.Policy, a); err != nil {
		return TestResult{}, err
	}
	return TestResult{Key: a.Key(), Channels: r.Policy.channels(a.Type, a.Severity)}, nil
}

// TestWorkflow runs RaiseTestActivity on the worker that polls its task
// queue.
func TestWorkflow(ctx workflow.Context, in TestInput) (TestResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var res TestResult
	err := workflow.ExecuteActivity(ctx, TestActivityName, in).Get(ctx, &res)
	return res, err
}
