//go:build integration

package sentinel_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/lineage/graph"
	"github.com/pipewatch/pipewatch/metrics"
	"github.com/pipewatch/pipewatch/sentinel"
)

// fleetWorker is one pipewatch worker process, in-process: the pipelines
// with the full interceptor (lineage spooled to its own spool and written
// to Neo4j), the alert workflows, and the sentinel with its host.
type fleetWorker struct {
	reg     *prometheus.Registry
	stop    func()
	stopped bool
}

// recWorkflows are the pipelines of the mixed run, by name suffix.
func registerRec(w worker.Registry, tag string) {
	short := workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second, RetryPolicy: &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond}}
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, short), tag+".step").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: tag + ".ok"})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, short), tag+".flaky").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: tag + ".retry"})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, short), tag+".bad").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: tag + ".fail"})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: 5 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond}})
		return workflow.ExecuteActivity(ctx, tag+".slow").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: tag + ".slow"})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context, n int) error {
		if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, short), tag+".step").Get(ctx, nil); err != nil {
			return err
		}
		if n < 2 {
			return workflow.NewContinueAsNewError(ctx, tag+".can", n+1)
		}
		return nil
	}, workflow.RegisterOptions{Name: tag + ".can"})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: 5 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond}})
		wctx, cancel := workflow.WithCancel(ctx)
		f := workflow.ExecuteActivity(wctx, tag+".slow")
		workflow.GetSignalChannel(ctx, "release").Receive(ctx, nil)
		cancel()
		_ = f.Get(ctx, nil)
		return nil
	}, workflow.RegisterOptions{Name: tag + ".hold"})

	w.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: tag + ".step"})
	w.RegisterActivityWithOptions(func(ctx context.Context) error {
		if activity.GetInfo(ctx).Attempt < 3 {
			return errFlaky
		}
		return nil
	}, activity.RegisterOptions{Name: tag + ".flaky"})
	w.RegisterActivityWithOptions(func(context.Context) error {
		return temporal.NewNonRetryableApplicationError("label column missing", "SchemaError", nil)
	}, activity.RegisterOptions{Name: tag + ".bad"})
	w.RegisterActivityWithOptions(func(ctx context.Context) error {
		for {
			activity.RecordHeartbeat(ctx)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}, activity.RegisterOptions{Name: tag + ".slow"})
}

// startFleetWorker starts one worker on queue, spooling lineage into
// spoolDir and writing it to store.
func startFleetWorker(t *testing.T, tc client.Client, queue, sentinelID, tag, spoolDir string, store *graph.Store) *fleetWorker {
	t.Helper()
	fw := &fleetWorker{reg: prometheus.NewRegistry()}
	fleet, err := metrics.NewFleet(fw.reg)
	if err != nil {
		t.Fatal(err)
	}
	spool, err := lineage.OpenSpool(spoolDir, lineage.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raiser := &alerts.Raiser{TaskQueue: queue, Policy: alerts.Policy{}}
	alertObs := interceptors.NewAlertObserver(raiser, 3, zap.NewNop())
	alertObs.Adopt = sentinel.Adopter(sentinelID)
	lineageObs := interceptors.NewLineageObserver(spool, zap.NewNop(), nil)
	w := worker.New(tc, queue, worker.Options{WorkerStopTimeout: time.Second, Interceptors: []interceptor.WorkerInterceptor{interceptors.New(interceptors.Options{
		Observers: []interceptors.Observer{lineageObs, alertObs},
		Raiser:    raiser, WorkflowFailureAlerts: true,
	})}})
	registerRec(w, tag)
	alerts.Register(w, raiser, &alerts.Notifiers{Channels: map[string]alerts.Notifier{"log": alerts.LogNotifier{Log: zap.NewNop()}}})
	s := &sentinel.Sentinel{Raiser: raiser, Fleet: fleet, Lineage: spool, Log: zap.NewNop()}
	sentinel.Register(w, s)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	stopHost, err := s.StartHost(tc, queue)
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWriter := context.WithCancel(context.Background())
	done := make(chan struct{})
	writer := &lineage.Writer{Spool: spool, Store: store}
	go func() { defer close(done); writer.Run(wctx, 10*time.Second) }()
	fw.stop = func() {
		if fw.stopped {
			return
		}
		fw.stopped = true
		stopHost()
		w.Stop()
		lineageObs.Close()
		stopWriter()
		<-done
		_ = spool.Close()
	}
	t.Cleanup(fw.stop)
	return fw
}

// TestReconcileMixedRunIntegration runs 100 pipelines that end every way
// (completed, failed, terminated, timed out, continued as new, with retried
// steps) across two workers, one of them restarted midway, and checks that
// what pipewatch reports equals what Temporal says: outcome counters and
// open/pending gauges against visibility and describe, lineage run states
// against the runs' statuses.
func TestReconcileMixedRunIntegration(t *testing.T) {
	reconcileMixedRun(t)
}

// TestBenchReconcile is TestReconcileMixedRunIntegration in `make bench`:
// BENCH reconcile_mismatches.
func TestBenchReconcile(t *testing.T) {
	if os.Getenv("PIPEWATCH_BENCH") != "1" {
		t.Skip("a benchmark: run with `make bench`")
	}
	fmt.Printf("BENCH reconcile_mismatches %d count\n", reconcileMixedRun(t))
}

// reconcileMixedRun runs the mixed run and returns the mismatches found
// (each also reported as a test error).
func reconcileMixedRun(t *testing.T) int {
	cfg := testenv.Config(t)
	tc := testenv.TemporalNamespace(t, &cfg)
	driver := testenv.Neo4j(t, cfg)
	store := graph.NewStore(driver, cfg.Neo4j.Database)
	ctx := context.Background()
	tag := strings.ReplaceAll(testenv.Name(t), ".", "_")
	queue, sentinelID := tag, "pipewatch-sentinel-"+tag
	t.Cleanup(func() { cleanLineage(t, driver, cfg.Neo4j.Database, tag) })
	spools := []string{filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")}
	workers := []*fleetWorker{
		startFleetWorker(t, tc, queue, sentinelID, tag, spools[0], store),
		startFleetWorker(t, tc, queue, sentinelID, tag, spools[1], store),
	}
	if err := sentinel.Start(ctx, tc, queue, sentinelID, sentinel.Config{Query: "TaskQueue = '" + queue + "'"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { endOpen(t, tc, queue) })

	var runs []client.WorkflowRun
	var toTerminate, holds []client.WorkflowRun
	start := func(kind string, n int, opts client.StartWorkflowOptions, args ...any) {
		for i := range n {
			opts.ID, opts.TaskQueue = fmt.Sprintf("%s.%s-%d-%d", tag, kind, len(runs), i), queue
			run, err := tc.ExecuteWorkflow(ctx, opts, tag+"."+kind, args...)
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, run)
			switch kind {
			case "slow":
				if opts.WorkflowExecutionTimeout == 0 {
					toTerminate = append(toTerminate, run)
				}
			case "hold":
				holds = append(holds, run)
			}
		}
	}
	// First half.
	start("ok", 20, client.StartWorkflowOptions{})
	start("retry", 8, client.StartWorkflowOptions{})
	start("fail", 7, client.StartWorkflowOptions{})
	start("slow", 5, client.StartWorkflowOptions{})                                          // terminated below
	start("slow", 5, client.StartWorkflowOptions{WorkflowExecutionTimeout: 8 * time.Second}) // timed out
	start("can", 5, client.StartWorkflowOptions{}, 0)
	time.Sleep(3 * time.Second)

	// Worker a restarts midway: its running steps are cut and retried.
	workers[0].stop()
	workers[0] = startFleetWorker(t, tc, queue, sentinelID, tag, spools[0], store)

	// Second half.
	start("ok", 20, client.StartWorkflowOptions{})
	start("retry", 7, client.StartWorkflowOptions{})
	start("fail", 8, client.StartWorkflowOptions{})
	start("slow", 5, client.StartWorkflowOptions{})
	start("can", 5, client.StartWorkflowOptions{}, 0)
	start("hold", 5, client.StartWorkflowOptions{})
	if len(runs) != 100 {
		t.Fatalf("started %d pipelines, want 100", len(runs))
	}
	time.Sleep(2 * time.Second)
	for _, r := range toTerminate {
		if err := tc.TerminateWorkflow(ctx, r.GetID(), r.GetRunID(), "reconcile test"); err != nil {
			t.Fatal(err)
		}
	}

	mismatches := 0
	report := func(format string, args ...any) {
		mismatches++
		t.Errorf(format, args...)
	}

	// Open and pending, while the holds run: the gauges against
	// visibility and describe, after a scan that saw them all.
	waitUntil(t, 60*time.Second, "the sentinel sees the 5 holds open with their steps started", func() bool {
		return fleetMax(t, workers, "pipewatch_pipelines_open", map[string]string{"pipeline": tag + ".hold"}) == 5 &&
			fleetMax(t, workers, "pipewatch_steps_pending", map[string]string{"pipeline": tag + ".hold", "state": "started"}) == 5
	})
	if n := countRuns(t, tc, queue, tag+".hold", "Running"); n != 5 {
		report("visibility: %d holds running, want 5", n)
	}
	pending := 0
	for _, r := range holds {
		d, err := tc.DescribeWorkflow(ctx, r.GetID(), r.GetRunID())
		if err != nil {
			t.Fatal(err)
		}
		for _, pa := range d.RawResponse.GetPendingActivities() {
			if pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED {
				pending++
			}
		}
	}
	if got := fleetMax(t, workers, "pipewatch_steps_pending", map[string]string{"pipeline": tag + ".hold", "state": "started"}); got != float64(pending) {
		report("pending started steps: pipewatch %v, describe %d", got, pending)
	}
	for _, r := range holds {
		if err := tc.SignalWorkflow(ctx, r.GetID(), r.GetRunID(), "release", nil); err != nil {
			t.Fatal(err)
		}
	}

	// Every run closes; then outcomes and lineage against Temporal.
	for _, r := range runs {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		_ = r.Get(rctx, nil)
		cancel()
	}
	closed := listRuns(t, tc, queue)
	want := map[[2]string]float64{}
	for _, info := range closed {
		want[[2]string{info.GetType().GetName(), metrics.OutcomeStatus(info.GetStatus())}]++
	}
	agree := func() bool {
		for k, n := range want {
			if fleetMax(t, workers, "pipewatch_workflow_outcomes_total", map[string]string{"pipeline": k[0], "status": k[1]}) != n {
				return false
			}
		}
		return fleetSumAll(t, workers, "pipewatch_pipelines_open", tag) == 0
	}
	waitUntil(t, 60*time.Second, "the sentinel's counts agree with visibility", agree)
	total := 0.0
	for k, n := range want {
		got := fleetMax(t, workers, "pipewatch_workflow_outcomes_total", map[string]string{"pipeline": k[0], "status": k[1]})
		if got != n {
			report("outcomes %s %s: pipewatch %v, visibility %v", k[0], k[1], got, n)
		}
		total += got
	}
	if fleetSumAll(t, workers, "pipewatch_pipelines_open", tag) != 0 || fleetSumAll(t, workers, "pipewatch_steps_pending", tag) != 0 {
		report("open or pending left after every run closed")
	}
	t.Logf("%d runs closed (100 pipelines, continue-as-new included): %v", len(closed), want)

	// Lineage: every run's state as its status says, and the steps of
	// terminated and timed-out runs aborted.
	stateOf := map[string]string{"completed": lineage.StateComplete, "continued_as_new": lineage.StateComplete,
		"failed": lineage.StateFail, "timed_out": lineage.StateFail, "terminated": lineage.StateAbort}
	waitUntil(t, 60*time.Second, "lineage has every run in its final state", func() bool {
		for _, info := range closed {
			r, err := store.GetRun(ctx, info.GetExecution().GetRunId())
			if err != nil || r.State != stateOf[metrics.OutcomeStatus(info.GetStatus())] {
				return false
			}
		}
		return true
	})
	for _, info := range closed {
		status := metrics.OutcomeStatus(info.GetStatus())
		r, err := store.GetRun(ctx, info.GetExecution().GetRunId())
		if err != nil || r.State != stateOf[status] {
			report("lineage of %s (%s): %q, %v; want %s", info.GetExecution().GetWorkflowId(), status, r.State, err, stateOf[status])
			continue
		}
		if status == "terminated" || status == "timed_out" {
			steps := childStates(t, driver, cfg.Neo4j.Database, info.GetExecution().GetRunId())
			if len(steps) != 1 || steps[0] != lineage.StateAbort {
				report("lineage of the step of %s (%s): %v, want [ABORT]", info.GetExecution().GetWorkflowId(), status, steps)
			}
		}
	}
	t.Logf("reconciled %v outcomes, %d lineage runs: %d mismatches", total, len(closed), mismatches)
	return mismatches
}

// listRuns lists every run on the queue (the sentinel and alerts run
// there too: left out).
func listRuns(t *testing.T, tc client.Client, queue string) []*workflowpb.WorkflowExecutionInfo {
	t.Helper()
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: "TaskQueue = '" + queue + "' AND WorkflowType NOT IN ('pipewatch.Alert', 'pipewatch.Sentinel')", NextPageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, resp.GetExecutions()...)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out
		}
	}
}

func countRuns(t *testing.T, tc client.Client, queue, typ, status string) int64 {
	t.Helper()
	resp, err := tc.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TaskQueue = '%s' AND WorkflowType = '%s' AND ExecutionStatus = '%s'", queue, typ, status)})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetCount()
}

// fleetMax reads a fleet series across the workers: the one that scanned
// last exports it, so the largest (counters only grow) is the fleet's.
func fleetMax(t *testing.T, workers []*fleetWorker, name string, labels map[string]string) float64 {
	t.Helper()
	best := -1.0
	for _, w := range workers {
		h := &harness{reg: w.reg}
		if v, ok := h.fleetValue(t, name, labels); ok && v > best {
			best = v
		}
	}
	return best
}

// fleetSumAll adds up a fleet metric's series of this test's pipelines on
// the worker that exports the most.
func fleetSumAll(t *testing.T, workers []*fleetWorker, name, tag string) float64 {
	t.Helper()
	best := 0.0
	for _, w := range workers {
		mfs, err := w.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "pipeline" && strings.HasPrefix(l.GetValue(), tag) {
						sum += metricValue(m)
					}
				}
			}
		}
		best = max(best, sum)
	}
	return best
}

func waitUntil(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !ok(); time.Sleep(time.Second) {
		if time.Now().After(deadline) {
			t.Logf("not within %s: %s", limit, what)
			return
		}
	}
}

// childStates are the states of a run's step runs in Neo4j.
func childStates(t *testing.T, d neo4j.DriverWithContext, db, runID string) []string {
	t.Helper()
	res, err := neo4j.ExecuteQuery(context.Background(), d, `MATCH (s:Run)-[:CHILD_OF]->(:Run {runId: $runId}) RETURN s.state AS state`,
		map[string]any{"runId": runID}, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(db))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range res.Records {
		s, _ := r.Get("state")
		out = append(out, fmt.Sprint(s))
	}
	return out
}

// cleanLineage removes exactly what the test wrote into Neo4j: its runs
// (their workflow ids start with the tag) and jobs (their keys do).
func cleanLineage(t *testing.T, d neo4j.DriverWithContext, db, tag string) {
	ctx := context.Background()
	for _, q := range []string{
		`MATCH (r:Run) WHERE r.workflowId STARTS WITH $tag DETACH DELETE r`,
		`MATCH (j:Job) WHERE j.key STARTS WITH $tag AND NOT (j)<-[:INSTANCE_OF]-() DETACH DELETE j`,
	} {
		if _, err := neo4j.ExecuteQuery(ctx, d, q, map[string]any{"tag": tag}, neo4j.EagerResultTransformer, neo4j.ExecuteQueryWithDatabase(db)); err != nil {
			t.Errorf("clean lineage: %v", err)
		}
	}
}

// endOpen terminates whatever the test left open on its queue: the
// sentinel, alert workflows in their cooldown.
func endOpen(t *testing.T, tc client.Client, queue string) {
	ctx := context.Background()
	resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: "TaskQueue = '" + queue + "' AND ExecutionStatus = 'Running'", PageSize: 1000})
	if err != nil {
		t.Errorf("list open workflows: %v", err)
		return
	}
	for _, e := range resp.GetExecutions() {
		_ = tc.TerminateWorkflow(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), "test over")
	}
}
