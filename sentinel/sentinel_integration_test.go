//go:build integration

package sentinel_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/lineage"
)

// latencies collects, across scenarios, how long each alert took from
// the moment its condition became true: the benchmark reports the worst.
type latencies struct {
	mu  sync.Mutex
	max time.Duration
	of  string
}

func (l *latencies) add(what string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d > l.max {
		l.max, l.of = d, what
	}
}

// scenario is one way a pipeline fails (or must not alert).
type scenario struct {
	name string
	// ends is how its run ends: completed, failed, terminated, timed_out.
	ends     string
	register func(h *harness, p string, sw *switches)
	run      func(t *testing.T, h *harness, p string, sw *switches, lat *latencies)
}

// switches let a test change what a step or workflow does mid-run: fix a
// failing step, note when a condition became true.
type switches struct {
	fixed     atomic.Bool
	mu        sync.Mutex
	condition time.Time
}

func (s *switches) mark(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.condition.IsZero() {
		s.condition = at
	}
}

func (s *switches) since() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.condition
}

// oneStep is a pipeline of one activity with the given options.
func oneStep(step string, opts workflow.ActivityOptions) func(workflow.Context) error {
	return func(ctx workflow.Context) error {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), step).Get(ctx, nil)
	}
}

// heartbeatUntilDone heartbeats every second until its context ends.
func heartbeatUntilDone(started chan<- struct{}) func(context.Context) error {
	return func(ctx context.Context) error {
		select {
		case started <- struct{}{}:
		default:
		}
		for {
			activity.RecordHeartbeat(ctx)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
	}
}

// firstAlert waits for the pipeline's first notification and checks it
// came within a minute of the condition and says what it should.
func firstAlert(t *testing.T, h *harness, p string, condition func() time.Time, lat *latencies, typ alerts.Type, sev alerts.Severity,
	labels map[string]string, says ...string) received {
	t.Helper()
	r := h.waitFor(t, p, alerts.KindFirst, 150*time.Second)
	cond := condition()
	if cond.IsZero() {
		t.Fatalf("alert came, but the condition was never marked")
	}
	took := r.at.Sub(cond)
	lat.add(h.tag+" "+p, took)
	t.Logf("%s: alerted %.1fs after the condition: %s", p, took.Seconds(), r.n.Text())
	if took > time.Minute {
		t.Errorf("alert %.1fs after the condition, want within 60s", took.Seconds())
	}
	a := r.n.Alert
	want := map[string]string{"pipeline": p}
	for k, v := range labels {
		want[k] = v
	}
	if a.Type != typ || a.Severity != sev || fmt.Sprint(a.Labels) != fmt.Sprint(want) {
		t.Errorf("alert %s %s %v, want %s %s %v", a.Type, a.Severity, a.Labels, typ, sev, want)
	}
	for _, s := range says {
		if !strings.Contains(r.n.Text(), s) {
			t.Errorf("alert %q does not say %q", r.n.Text(), s)
		}
	}
	return r
}

// resolvedAlert waits for the pipeline's resolved notification.
func resolvedAlert(t *testing.T, h *harness, p string, says string) {
	t.Helper()
	r := h.waitFor(t, p, alerts.KindResolved, 150*time.Second)
	if !strings.Contains(r.n.Reason, sentinelBy) || !strings.Contains(r.n.Reason, says) {
		t.Errorf("resolved %q, want it resolved by the sentinel saying %q", r.n.Reason, says)
	}
}

const sentinelBy = "by pipewatch-sentinel"

// exactlyOne checks a pipeline had one problem notification in all.
func exactlyOne(t *testing.T, h *harness, p string) {
	t.Helper()
	if n := h.alertsAbout(p); n != 1 {
		t.Errorf("%d problem notifications about %s, want exactly 1: %s", n, p, h.describe(p))
	}
}

func waitClosed(t *testing.T, run client.WorkflowRun, within time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	return run.Get(ctx, nil)
}

func scenarios() []scenario {
	return []scenario{
		{
			name: "step retrying forever under the default retry policy", ends: "completed",
			register: func(h *harness, p string, sw *switches) {
				h.team.RegisterWorkflowWithOptions(oneStep(p+".fit", workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second}),
					workflow.RegisterOptions{Name: p})
				h.team.RegisterActivityWithOptions(func(ctx context.Context) error {
					if sw.fixed.Load() {
						return nil
					}
					if activity.GetInfo(ctx).Attempt == 3 {
						sw.mark(time.Now())
					}
					return errFlaky
				}, activity.RegisterOptions{Name: p + ".fit"})
			},
			run: func(t *testing.T, h *harness, p string, sw *switches, lat *latencies) {
				run := h.start(t, p, client.StartWorkflowOptions{})
				firstAlert(t, h, p, sw.since, lat, alerts.StepFailure, alerts.Warning,
					map[string]string{"step": p + ".fit", "problem": alerts.ProblemRetrying}, "failing, attempt", errFlaky.Error())
				sw.fixed.Store(true) // the feature store is back
				if err := waitClosed(t, run, 2*time.Minute); err != nil {
					t.Fatal(err)
				}
				resolvedAlert(t, h, p, "completed on attempt")
				exactlyOne(t, h, p)
			},
		},
		{
			name: "step whose worker stopped heartbeating", ends: "completed",
			register: func(h *harness, p string, sw *switches) {
				h.team.RegisterWorkflowWithOptions(oneStep(p+".embed", workflow.ActivityOptions{
					StartToCloseTimeout: 30 * time.Second, HeartbeatTimeout: 2 * time.Second}), workflow.RegisterOptions{Name: p})
				h.team.RegisterActivityWithOptions(func(ctx context.Context) error {
					if sw.fixed.Load() {
						return nil
					}
					activity.RecordHeartbeat(ctx)
					if activity.GetInfo(ctx).Attempt == 3 {
						sw.mark(time.Now().Add(2 * time.Second)) // its heartbeat timeout
					}
					<-ctx.Done() // hung: no more heartbeats
					return ctx.Err()
				}, activity.RegisterOptions{Name: p + ".embed"})
			},
			run: func(t *testing.T, h *harness, p string, sw *switches, lat *latencies) {
				run := h.start(t, p, client.StartWorkflowOptions{})
				firstAlert(t, h, p, sw.since, lat, alerts.StepFailure, alerts.Warning,
					map[string]string{"step": p + ".embed", "problem": alerts.ProblemRetrying}, "heartbeat timeout")
				sw.fixed.Store(true)
				if err := waitClosed(t, run, 2*time.Minute); err != nil {
					t.Fatal(err)
				}
				resolvedAlert(t, h, p, "completed on attempt")
				exactlyOne(t, h, p)
			},
		},
		{
			name: "pipeline terminated by an operator while a step ran", ends: "terminated",
			register: func(h *harness, p string, sw *switches) {
				h.team.RegisterWorkflowWithOptions(oneStep(p+".load", workflow.ActivityOptions{
					StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: 10 * time.Second}), workflow.RegisterOptions{Name: p})
				h.team.RegisterActivityWithOptions(heartbeatUntilDone(nil), activity.RegisterOptions{Name: p + ".load"})
			},
			run: func(t *testing.T, h *harness, p string, sw *switches, lat *latencies) {
				run := h.start(t, p, client.StartWorkflowOptions{})
				time.Sleep(2 * time.Second) // the step runs
				if err := h.tc.TerminateWorkflow(context.Background(), run.GetID(), run.GetRunID(), "bad batch, stop it"); err != nil {
					t.Fatal(err)
				}
				sw.mark(time.Now())
				firstAlert(t, h, p, sw.since, lat, alerts.WorkflowFailure, alerts.Warning,
					map[string]string{"problem": alerts.ProblemTerminated}, "terminated by", "bad batch, stop it", p+".load")
				exactlyOne(t, h, p)
				checkLineage(t, h, run, lineage.StateAbort, "bad batch, stop it", p+".load")
				checkProgress(t, h, run, "terminated", p+".load")
			},
		},
		{
			name: "pipeline past its workflow execution timeout", ends: "timed_out",
			register: func(h *harness, p string, sw *switches) {
				h.team.RegisterWorkflowWithOptions(oneStep(p+".load", workflow.ActivityOptions{
					StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: 10 * time.Second}), workflow.RegisterOptions{Name: p})
				h.team.RegisterActivityWithOptions(heartbeatUntilDone(nil), activity.RegisterOptions{Name: p + ".load"})
			},
			run: func(t *testing.T, h *harness, p string, sw *switches, lat *latencies) {
				run := h.start(t, p, client.StartWorkflowOptions{WorkflowExecutionTimeout: 5 * time.Second})
				sw.mark(time.Now().Add(5 * time.Second))
				firstAlert(t, h, p, sw.since, lat, alerts.WorkflowFailure, alerts.Critical,
					map[string]string{"problem": alerts.ProblemTimedOut}, "workflow execution timeout (5s)")
				exactlyOne(t, h, p)
				checkLineage(t, h, run, lineage.StateFail, "workflow execution timeout", p+".load")
				checkProgress(t, h, run, "timed_out", p+".load")
			},
		},
		{
			name: "workflow code that panics after its first step", ends: "completed",
			register: func(h *harness, p string, sw *switches) {
				h.team.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
					ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
					if err := workflow.ExecuteActivity(ctx, p+".ingest").Get(ctx, nil); err != nil {
						return err
					}
					if !sw.fixed.Load() { // a bug, until the fix is deployed
						sw.mark(time.Now())
						panic("feature schema mismatch: column bmi missing")
					}
					return nil
				}, workflow.RegisterOptions{Name: p})
				h.team.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: p + ".ingest"})
			},
			run: func(t *testing.T, h *harness, p string, sw *switches, lat *latencies) {
				run := h.start(t, p, client.StartWorkflowOptions{})
				firstAlert(t, h, p, sw.since, lat, alerts.WorkflowFailure, alerts.Critical,
					map[string]string{"problem": alerts.ProblemStuck}, "stuck", "feature schema mismatch: column bmi missing")
				sw.fixed.Store(true) // the fix is deployed
				if err := waitClosed(t, run, 3*time.Minute); err != nil {
					t.Fatal(err)
				}
				resolvedAlert(t, h, p, "its workflow task completed")
				exactlyOne(t, h, p)
			},
		},
		{
			name: "step on a task queue no worker polls", ends: "completed",
			register: func(h *harness, p string, sw *switches) {
				h.team.RegisterWorkflowWithOptions(oneStep(p+".score", workflow.ActivityOptions{
					StartToCloseTimeout: time.Minute, TaskQueue: p + "-gpu"}), workflow.RegisterOptions{Name: p})
			},
			run: func(t *testing.T, h *harness, p string, sw *switches, lat *latencies) {
				run := h.start(t, p, client.StartWorkflowOptions{})
				sw.mark(time.Now().Add(time.Minute)) // not picked up for a minute
				firstAlert(t, h, p, sw.since, lat, alerts.StepFailure, alerts.Critical,
					map[string]string{"step": p + ".score", "problem": alerts.ProblemNotStarted}, "no worker is polling task queue "+p+"-gpu")
				// The GPU worker comes up.
				gpu := worker.New(h.tc, p+"-gpu", worker.Options{})
				gpu.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: p + ".score"})
				if err := gpu.Start(); err != nil {
					t.Fatal(err)
				}
				defer gpu.Stop()
				if err := waitClosed(t, run, time.Minute); err != nil {
					t.Fatal(err)
				}
				resolvedAlert(t, h, p, "picked up by a worker")
				exactlyOne(t, h, p)
			},
		},
		{
			name: "pipeline that failed", ends: "failed",
			register: func(h *harness, p string, sw *switches) {
				h.team.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
					sw.mark(workflow.Now(ctx))
					return temporal.NewApplicationError("label column missing", "SchemaError")
				}, workflow.RegisterOptions{Name: p})
			},
			run: func(t *testing.T, h *harness, p string, sw *switches, lat *latencies) {
				run := h.start(t, p, client.StartWorkflowOptions{})
				firstAlert(t, h, p, sw.since, lat, alerts.WorkflowFailure, alerts.Critical, nil, "failed", "label column missing")
				_ = waitClosed(t, run, time.Minute)
				time.Sleep(25 * time.Second) // the other vantage point raises it too: counted once
				exactlyOne(t, h, p)
				checkLineage(t, h, run, lineage.StateFail, "label column missing")
			},
		},
		{
			name: "no alert: a 3-minute step that heartbeats", ends: "completed",
			register: func(h *harness, p string, sw *switches) {
				h.team.RegisterWorkflowWithOptions(oneStep(p+".train", workflow.ActivityOptions{
					StartToCloseTimeout: 10 * time.Minute, HeartbeatTimeout: 10 * time.Second}), workflow.RegisterOptions{Name: p})
				h.team.RegisterActivityWithOptions(func(ctx context.Context) error {
					for end := time.Now().Add(3 * time.Minute); time.Now().Before(end); time.Sleep(2 * time.Second) {
						activity.RecordHeartbeat(ctx)
					}
					return nil
				}, activity.RegisterOptions{Name: p + ".train"})
			},
			run: func(t *testing.T, h *harness, p string, sw *switches, lat *latencies) {
				run := h.start(t, p, client.StartWorkflowOptions{})
				if err := waitClosed(t, run, 5*time.Minute); err != nil {
					t.Fatal(err)
				}
				noAlert(t, h, p)
			},
		},
		{
			name: "no alert: a step in a 30s retry backoff", ends: "completed",
			register: func(h *harness, p string, sw *switches) {
				h.team.RegisterWorkflowWithOptions(oneStep(p+".fetch", workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second,
					RetryPolicy: &temporal.RetryPolicy{InitialInterval: 30 * time.Second}}), workflow.RegisterOptions{Name: p})
				h.team.RegisterActivityWithOptions(func(ctx context.Context) error {
					if activity.GetInfo(ctx).Attempt == 1 {
						return errFlaky
					}
					return nil
				}, activity.RegisterOptions{Name: p + ".fetch"})
			},
			run: func(t *testing.T, h *harness, p string, sw *switches, lat *latencies) {
				run := h.start(t, p, client.StartWorkflowOptions{})
				if err := waitClosed(t, run, 2*time.Minute); err != nil {
					t.Fatal(err)
				}
				time.Sleep(15 * time.Second) // a scan after it closed
				noAlert(t, h, p)
			},
		},
		{
			name: "no alert: a pipeline waiting five minutes for a signal", ends: "completed",
			register: func(h *harness, p string, sw *switches) {
				h.team.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
					workflow.GetSignalChannel(ctx, "approved").Receive(ctx, nil)
					return nil
				}, workflow.RegisterOptions{Name: p})
			},
			run: func(t *testing.T, h *harness, p string, sw *switches, lat *latencies) {
				run := h.start(t, p, client.StartWorkflowOptions{})
				time.Sleep(5 * time.Minute)
				if err := h.tc.SignalWorkflow(context.Background(), run.GetID(), run.GetRunID(), "approved", nil); err != nil {
					t.Fatal(err)
				}
				if err := waitClosed(t, run, time.Minute); err != nil {
					t.Fatal(err)
				}
				noAlert(t, h, p)
			},
		},
	}
}

// checkProgress checks that pipewatch's progress of a run its workflow
// code never saw end says how Temporal ended it: no step left "running".
func checkProgress(t *testing.T, h *harness, run client.WorkflowRun, status, step string) {
	t.Helper()
	ctx := context.Background()
	p, err := interceptors.QueryProgress(ctx, h.tc, run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, s := range p.Steps {
		steps = append(steps, s.Step+" "+s.Status)
	}
	want := ""
	if h.interceptor { // without it the run has no progress query: Temporal's status alone
		want = step + " " + status
	}
	if p.Status != status || strings.Join(steps, ",") != want {
		t.Errorf("progress: %s, steps %v; want %s, steps [%s]", p.Status, steps, status, want)
	}
}

func noAlert(t *testing.T, h *harness, p string) {
	t.Helper()
	if got := h.hook.about(p); len(got) > 0 {
		t.Errorf("false alerts about %s: %s", p, h.describe(p))
	}
}

// checkLineage checks the sentinel spooled Temporal's record of the run's
// end, and the abort of the steps it left open.
func checkLineage(t *testing.T, h *harness, run client.WorkflowRun, state, says string, openSteps ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var runState, runErr string
		steps := map[string]string{}
		for _, r := range h.lineageRuns(t) {
			switch {
			case r.RunID == run.GetRunID() && r.Final:
				runState, runErr = r.State, r.Error
			case r.ParentRunID == run.GetRunID() && r.Final:
				steps[r.JobKey] = r.State
			}
		}
		ok := runState == state && strings.Contains(runErr, says) && len(steps) == len(openSteps)
		for _, s := range openSteps {
			ok = ok && steps[s] == lineage.StateAbort
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("lineage of %s: run %s %q, steps %v; want %s saying %q, steps %v aborted", run.GetID(), runState, runErr, steps, state, says, openSteps)
			return
		}
		time.Sleep(time.Second)
	}
}

// TestSentinelDetectsEveryFailureIntegration runs every way a pipeline
// fails, and three ways it must not alert, at once on the dev server:
// once for a team whose worker has no pipewatch interceptor (as a Python
// team's would), once with it. Each problem must reach the webhook exactly
// once within a minute of its condition, and conditions that clear must
// resolve.
func TestSentinelDetectsEveryFailureIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("runs five minutes")
	}
	cfg := testenv.Config(t)
	tc := testenv.TemporalNamespace(t, &cfg)
	lat := runScenarios(t, tc, scenarios())
	t.Logf("slowest alert: %.1fs (%s)", lat.max.Seconds(), lat.of)
}

// runScenarios runs the scenarios at once on tc, once for a plain SDK
// worker and once for one with the interceptor, and returns the alert
// latencies.
func runScenarios(t *testing.T, tc client.Client, scs []scenario) *latencies {
	lat := &latencies{}
	// Subtests run at once from goroutines (t.Run allows it): t.Parallel
	// would cap them at GOMAXPROCS, and these mostly wait.
	together := func(t *testing.T, names []string, body func(t *testing.T, i int)) {
		var wg sync.WaitGroup
		for i, name := range names {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t.Run(name, func(t *testing.T) { body(t, i) })
			}()
		}
		wg.Wait()
	}
	together(t, []string{"plain SDK worker", "worker with the pipewatch interceptor"}, func(t *testing.T, mode int) {
		h := newHarness(t, tc, mode == 1)
		sws := make([]*switches, len(scs))
		names := make([]string, len(scs))
		for i, sc := range scs {
			sws[i], names[i] = &switches{}, sc.name
			sc.register(h, h.pipeline(fmt.Sprint(i)), sws[i])
		}
		h.startTeam()
		together(t, names, func(t *testing.T, i int) {
			scs[i].run(t, h, h.pipeline(fmt.Sprint(i)), sws[i], lat)
		})
		checkFleet(t, h, scs)
	})
	return lat
}

// checkFleet checks, once every pipeline closed, that the sentinel's
// figures agree with what happened: every run counted once by its real
// outcome, nothing open, nothing pending, no problem left.
func checkFleet(t *testing.T, h *harness, scs []scenario) {
	t.Helper()
	runs := len(scs)
	want := map[string]float64{"completed": 0, "failed": 0, "terminated": 0, "timed_out": 0}
	for _, sc := range scs {
		want[sc.ends]++
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := map[string]float64{}
		for status := range want {
			for i := range runs {
				v, _ := h.fleetValue(t, "pipewatch_workflow_outcomes_total", map[string]string{"pipeline": h.pipeline(fmt.Sprint(i)), "status": status})
				got[status] += v
			}
		}
		open, pending, problems := h.fleetSum(t, "pipewatch_pipelines_open"), h.fleetSum(t, "pipewatch_steps_pending"), h.fleetSum(t, "pipewatch_sentinel_problems")
		st := h.status(t)
		if fmt.Sprint(got) == fmt.Sprint(want) && open == 0 && pending == 0 && problems == 0 && len(st.Problems) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("fleet: outcomes %v (want %v), open %v, pending %v, problems %v (%+v); want none open", got, want, open, pending, problems, st.Problems)
			return
		}
		time.Sleep(time.Second)
	}
}
