package sentinel

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// KeepEvery is how often Keep makes sure the sentinel runs, unless told.
const KeepEvery = 30 * time.Second

// KeepOptions configures Keep. The zero value checks every KeepEvery and
// reports nothing.
type KeepOptions struct {
	// Every is the pause between checks; 0 means KeepEvery.
	Every time.Duration
	// OnRestart is told of each start of a sentinel that was not running,
	// with what was found: its status (Terminated, Failed, TimedOut…) or
	// "not found".
	OnRestart func(found string)
	// OnError is told of each check or start that failed (Temporal
	// unreachable, say); Keep tries again at the next check.
	OnError func(error)
}

// Keep makes sure the namespace's sentinel runs until ctx is done: at
// every check it describes the sentinel's latest run and, when that run is
// closed (an operator terminated it, it failed or timed out) or missing,
// starts it again with cfg (see Start). A running sentinel is left alone:
// no signal, nothing in its history. Every worker that starts the
// sentinel keeps it, so it stops for good only once no running worker has
// the sentinel enabled.
func Keep(ctx context.Context, c client.Client, taskQueue, workflowID string, cfg Config, opts KeepOptions) {
	every := opts.Every
	if every <= 0 {
		every = KeepEvery
	}
	if workflowID == "" {
		workflowID = DefaultWorkflowID
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		found, err := keepOnce(ctx, c, taskQueue, workflowID, cfg)
		switch {
		case err != nil && ctx.Err() == nil:
			if opts.OnError != nil {
				opts.OnError(err)
			}
		case found != "" && opts.OnRestart != nil:
			opts.OnRestart(found)
		}
	}
}

// keepOnce starts the sentinel when its latest run is closed or missing,
// and says what it found then ("" when it was running).
func keepOnce(ctx context.Context, c client.Client, taskQueue, workflowID string, cfg Config) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d, err := c.DescribeWorkflow(cctx, workflowID, "")
	var nf *serviceerror.NotFound
	found := "not found"
	switch {
	case errors.As(err, &nf):
	case err != nil:
		return "", fmt.Errorf("sentinel: describe %s: %w", workflowID, err)
	default:
		status := d.RawResponse.GetWorkflowExecutionInfo().GetStatus()
		if status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return "", nil
		}
		found = status.String()
	}
	if err := Start(cctx, c, taskQueue, workflowID, cfg); err != nil {
		return "", err
	}
	return found, nil
}
