package sentinel

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/alerts"
)

// Input starts the sentinel workflow, or continues it as new.
type Input struct {
	Config Config `json:"config"`
	State  State  `json:"state"`
}

// Status answers QueryStatus.
type Status struct {
	Config Config `json:"config"`
	// Last is the latest scan; zero before the first.
	Last Summary `json:"last"`
	// Scans counts scans over the sentinel's life.
	Scans int64 `json:"scans"`
	// Problems are those raised and open now.
	Problems []Problem `json:"problems"`
	// LineageWaiting counts the lineage events of closed runs the spool
	// refused (State.Unspooled), offered again at every scan.
	LineageWaiting int `json:"lineageWaiting,omitempty"`
}

// Workflow is the sentinel: one per namespace (a fixed workflow id), it
// scans through the Scan activity, sleeps Interval on a durable timer,
// and continues as new every ScansPerRun scans. Its state lives in its
// history, so when the worker running it dies the next scan, on another
// worker, goes on from the last one.
func Workflow(ctx workflow.Context, in Input) (State, error) {
	cfg := in.Config
	st := in.State
	if st.Watermark.IsZero() {
		// A new sentinel watches closes from a minute before it started.
		st.Watermark = workflow.GetInfo(ctx).WorkflowStartTime.Add(-overlap)
	}
	var last Summary
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) {
		s := Status{Config: cfg.WithDefaults(), Last: last, Scans: st.Scans, Problems: []Problem{}, LineageWaiting: len(st.Unspooled)}
		for _, p := range st.Problems {
			if p.Raised {
				s.Problems = append(s.Problems, p)
			}
		}
		return s, nil
	}); err != nil {
		return st, fmt.Errorf("sentinel: query handler: %w", err)
	}
	configs := workflow.GetSignalChannel(ctx, SignalConfig)
	adopted := workflow.GetSignalChannel(ctx, SignalAdopt)
	drain := func() {
		var c Config
		for configs.ReceiveAsync(&c) {
			cfg = c
		}
		var a alerts.Alert
		for adopted.ReceiveAsync(&a) {
			st.adopt(a, workflow.Now(ctx))
		}
	}
	for scans := 0; ; scans++ {
		drain()
		d := cfg.WithDefaults()
		opts := workflow.ActivityOptions{
			StartToCloseTimeout: 5 * time.Minute,
			// A killed worker's scan moves to another worker in seconds.
			HeartbeatTimeout: 15 * time.Second,
			RetryPolicy:      &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: d.Interval},
			Summary:          fmt.Sprintf("scan #%d", st.Scans+1),
		}
		if st.Host != "" {
			// To the host; if it is gone, the next scan goes to any worker.
			opts.TaskQueue, opts.ScheduleToStartTimeout = st.Host, 15*time.Second
			opts.RetryPolicy = &temporal.RetryPolicy{MaximumAttempts: 1}
		}
		var res ScanResult
		if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), ScanActivityName, ScanInput{Config: cfg, State: st}).Get(ctx, &res); err != nil {
			if st.Host != "" && ctx.Err() == nil {
				workflow.GetLogger(ctx).Warn("sentinel host gone; the next scan goes to any worker", "host", st.Host, "error", err)
				st.Host = ""
				scans--
				continue
			}
			return st, fmt.Errorf("sentinel: scan: %w", err) // only when canceled: its retries never end
		}
		st, last = res.State, res.Summary
		drain() // problems handed over during the scan join the new state
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Scan #%d at %s on %s: %d open, %d closed, **%d problems** (%d raised, %d resolved)",
			st.Scans, last.At.UTC().Format("15:04:05"), last.Worker, last.Open, last.Closed, last.Problems, last.Raised, last.Resolved))
		if scans+1 >= d.ScansPerRun {
			drain()
			return st, workflow.NewContinueAsNewError(ctx, WorkflowName, Input{Config: cfg, State: st})
		}
		if err := workflow.Sleep(ctx, d.Interval); err != nil {
			return st, err
		}
	}
}

// Adopter returns what a worker's alert observer calls before it raises an
// alert about a lasting problem (interceptors.AlertObserver.Adopt): it
// hands the problem to the namespace's sentinel (workflowID; empty means
// DefaultWorkflowID), which resolves the alert when the problem clears.
// It fails, and the alert is then raised as an ordinary one, when no
// sentinel runs. It signals through the activity's client.
func Adopter(workflowID string) func(context.Context, alerts.Alert) error {
	if workflowID == "" {
		workflowID = DefaultWorkflowID
	}
	return func(ctx context.Context, a alerts.Alert) error {
		if !activity.IsActivity(ctx) {
			return errors.New("sentinel: Adopter needs an activity context")
		}
		if err := activity.GetClient(ctx).SignalWorkflow(ctx, workflowID, "", SignalAdopt, a); err != nil {
			return fmt.Errorf("sentinel: hand %s to %s: %w", a.Key(), workflowID, err)
		}
		return nil
	}
}

// Register registers the sentinel workflow and its scan activity on w.
func Register(w worker.Registry, s *Sentinel) {
	w.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterActivityWithOptions(s.Scan, activity.RegisterOptions{Name: ScanActivityName})
}

// Start makes sure the namespace's sentinel runs, on taskQueue (which
// workers that registered it poll), with cfg: it starts it, or hands the
// running one cfg (SignalConfig), so the configuration of the worker that
// started last applies. workflowID empty means DefaultWorkflowID.
func Start(ctx context.Context, c client.Client, taskQueue, workflowID string, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if workflowID == "" {
		workflowID = DefaultWorkflowID
	}
	if err := endOrphan(ctx, c, taskQueue, workflowID); err != nil {
		return err
	}
	_, err := c.SignalWithStartWorkflow(ctx, workflowID, SignalConfig, cfg, client.StartWorkflowOptions{
		ID: workflowID, TaskQueue: taskQueue,
		StaticSummary: "pipewatch sentinel: watches every pipeline through Temporal's own records",
	}, WorkflowName, Input{Config: cfg})
	if err != nil {
		return fmt.Errorf("sentinel: start %s on task queue %s: %w", workflowID, taskQueue, err)
	}
	return nil
}

// endOrphan terminates a running sentinel whose task queue no worker
// polls (its workers are gone for good: another deployment, a test), so
// that this worker's start begins a new one it can run. A sentinel on
// another queue that workers poll is left alone: one per namespace.
func endOrphan(ctx context.Context, c client.Client, taskQueue, workflowID string) error {
	d, err := c.DescribeWorkflow(ctx, workflowID, "")
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return nil
	case err != nil:
		return fmt.Errorf("sentinel: describe %s: %w", workflowID, err)
	}
	info := d.RawResponse.GetWorkflowExecutionInfo()
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING || info.GetTaskQueue() == taskQueue {
		return nil
	}
	tq, err := c.DescribeTaskQueue(ctx, info.GetTaskQueue(), enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return fmt.Errorf("sentinel: describe task queue %s of %s: %w", info.GetTaskQueue(), workflowID, err)
	}
	if len(tq.GetPollers()) > 0 {
		return nil
	}
	reason := fmt.Sprintf("pipewatch: no worker polls task queue %s; the sentinel starts again on %s", info.GetTaskQueue(), taskQueue)
	if err := c.TerminateWorkflow(ctx, workflowID, info.GetExecution().GetRunId(), reason); err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("sentinel: end the orphaned %s: %w", workflowID, err)
	}
	return nil
}

// Enable is the one call a team's own Go worker makes to run the sentinel:
// it registers it on w (polling taskQueue), starts this process's host
// (see StartHost), starts the sentinel (see Start) and keeps it running
// (see Keep) until stop. Call it before w.Start; call stop when the worker
// stops.
func Enable(ctx context.Context, c client.Client, w worker.Registry, s *Sentinel, taskQueue string, cfg Config) (stop func(), err error) {
	if s == nil || s.Raiser == nil {
		return nil, errNoRaiser
	}
	Register(w, s)
	stopHost, err := s.StartHost(c, taskQueue)
	if err != nil {
		return nil, err
	}
	if err := Start(ctx, c, taskQueue, "", cfg); err != nil {
		stopHost()
		return nil, err
	}
	keepCtx, stopKeep := context.WithCancel(context.Background())
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		Keep(keepCtx, c, taskQueue, "", cfg, KeepOptions{
			OnRestart: func(found string) {
				s.log().Warn("the sentinel was not running; started it again", zap.String("found", found))
			},
			OnError: func(err error) { s.log().Warn("could not make sure the sentinel runs", zap.Error(err)) },
		})
	}()
	return func() { stopKeep(); <-kept; stopHost() }, nil
}
