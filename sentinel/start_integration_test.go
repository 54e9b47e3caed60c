//go:build integration

package sentinel_test

import (
	"context"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/sentinel"
)

// A sentinel left on a task queue no worker polls (another deployment's,
// a test's) would never scan again while every worker's start only
// signalled it: Start ends it and begins one on its own queue; a sentinel
// on a polled queue is joined, not replaced.
func TestStartEndsAnOrphanedSentinelIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	tc := testenv.TemporalNamespace(t, &cfg)
	ctx := context.Background()
	name := testenv.Name(t)
	id := "pipewatch-sentinel-" + name
	t.Cleanup(func() { _ = tc.TerminateWorkflow(context.Background(), id, "", "test over") })
	if err := sentinel.Start(ctx, tc, name+"-gone", id, sentinel.Config{}); err != nil {
		t.Fatal(err)
	}
	first, err := tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	firstRun := first.RawResponse.GetWorkflowExecutionInfo().GetExecution().GetRunId()

	// A worker on another queue starts: the orphan ends, a new run begins there.
	if err := sentinel.Start(ctx, tc, name+"-live", id, sentinel.Config{}); err != nil {
		t.Fatal(err)
	}
	d, err := tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	info := d.RawResponse.GetWorkflowExecutionInfo()
	if info.GetTaskQueue() != name+"-live" || info.GetExecution().GetRunId() == firstRun || info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("sentinel now on %s (run %s, %s), want a new run on %s-live", info.GetTaskQueue(), info.GetExecution().GetRunId(), info.GetStatus(), name)
	}
	old, err := tc.DescribeWorkflow(ctx, id, firstRun)
	if err != nil {
		t.Fatal(err)
	}
	if s := old.RawResponse.GetWorkflowExecutionInfo().GetStatus(); s != enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED {
		t.Errorf("the orphan is %s, want terminated", s)
	}
	it := tc.GetWorkflowHistory(ctx, id, firstRun, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if r := e.GetWorkflowExecutionTerminatedEventAttributes().GetReason(); !strings.Contains(r, "no worker polls task queue "+name+"-gone") {
			t.Errorf("termination reason %q", r)
		}
	}

	// A worker polls the new one's queue: a start from another queue joins
	// it instead of replacing it.
	w := worker.New(tc, name+"-live", worker.Options{})
	w.RegisterWorkflowWithOptions(sentinel.Workflow, workflow.RegisterOptions{Name: sentinel.WorkflowName}) // no scans: nothing watched
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		tq, err := tc.DescribeTaskQueue(ctx, name+"-live", enumspb.TASK_QUEUE_TYPE_WORKFLOW)
		if err == nil && len(tq.GetPollers()) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker's poller did not show in 20s")
		}
	}
	if err := sentinel.Start(ctx, tc, name+"-other", id, sentinel.Config{}); err != nil {
		t.Fatal(err)
	}
	d, err = tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.RawResponse.GetWorkflowExecutionInfo(); got.GetTaskQueue() != name+"-live" || got.GetExecution().GetRunId() != info.GetExecution().GetRunId() {
		t.Errorf("sentinel on %s (run %s), want the same run on %s-live", got.GetTaskQueue(), got.GetExecution().GetRunId(), name)
	}
}
