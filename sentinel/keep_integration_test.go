//go:build integration

package sentinel_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/sentinel"
)

// An operator's terminate must not end the watching: Keep leaves a running
// sentinel alone (no signal, its run unchanged) and starts a terminated
// one again at its next check, telling what it found.
func TestKeepRestartsATerminatedSentinelIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	tc := testenv.TemporalNamespace(t, &cfg)
	ctx := context.Background()
	name := testenv.Name(t)
	id := "pipewatch-sentinel-" + name
	w := worker.New(tc, name, worker.Options{})
	w.RegisterWorkflowWithOptions(sentinel.Workflow, workflow.RegisterOptions{Name: sentinel.WorkflowName}) // no scans: nothing watched
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := sentinel.Start(ctx, tc, name, id, sentinel.Config{}); err != nil {
		t.Fatal(err)
	}
	runOf := func() (string, enumspb.WorkflowExecutionStatus) {
		t.Helper()
		d, err := tc.DescribeWorkflow(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		info := d.RawResponse.GetWorkflowExecutionInfo()
		return info.GetExecution().GetRunId(), info.GetStatus()
	}
	first, _ := runOf()

	var mu sync.Mutex
	var restarts []string
	var errs []error
	keepCtx, stopKeep := context.WithCancel(ctx)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		sentinel.Keep(keepCtx, tc, name, id, sentinel.Config{}, sentinel.KeepOptions{
			Every:     200 * time.Millisecond,
			OnRestart: func(found string) { mu.Lock(); defer mu.Unlock(); restarts = append(restarts, found) },
			OnError:   func(err error) { mu.Lock(); defer mu.Unlock(); errs = append(errs, err) },
		})
	}()
	// The sentinel ends after Keep: the cleanups run last first.
	t.Cleanup(func() { _ = tc.TerminateWorkflow(context.Background(), id, "", "test over") })
	t.Cleanup(func() { stopKeep(); <-kept })

	time.Sleep(time.Second) // five checks of a running sentinel
	if run, status := runOf(); run != first || status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("running sentinel: run %s %s after Keep's checks, want %s running", run, status, first)
	}
	it := tc.GetWorkflowHistory(ctx, id, first, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	signals := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED {
			signals++
		}
	}
	if signals != 1 { // Start's own SignalWithStart
		t.Errorf("running sentinel got %d signals, want 1 (Start's): Keep must leave it alone", signals)
	}

	if err := tc.TerminateWorkflow(ctx, id, first, "an operator's mistake"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if run, status := runOf(); run != first && status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the terminated sentinel was not started again within 10s")
		}
	}
	time.Sleep(time.Second) // and only once
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(restarts, []string{"Terminated"}) || len(errs) != 0 {
		t.Errorf("restarts %q, errors %v; want one restart of a Terminated sentinel, no error", restarts, errs)
	}
}
