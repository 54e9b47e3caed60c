package sentinel

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/interceptors"
)

// The interceptor cannot import this package; it names the sentinel's
// workflow type itself, to leave it unobserved.
func TestInterceptorKnowsTheSentinel(t *testing.T) {
	if interceptors.SentinelWorkflowName != WorkflowName || !interceptors.OwnWorkflow(WorkflowName) {
		t.Errorf("interceptors.SentinelWorkflowName = %q, want %q", interceptors.SentinelWorkflowName, WorkflowName)
	}
}

// fakeScans stands in for the scan activity in workflow tests: it counts
// scans into the state and records the config each one got.
type fakeScans struct {
	mu      sync.Mutex
	now     func() time.Time
	configs []Config
	at      []time.Time
}

func (f *fakeScans) scan(_ context.Context, in ScanInput) (ScanResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.configs = append(f.configs, in.Config)
	f.at = append(f.at, f.now())
	st := in.State
	st.Scans++
	return ScanResult{State: st, Summary: Summary{Open: int(st.Scans)}}, nil
}

func TestWorkflowScansSleepsAndContinuesAsNew(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	fake := &fakeScans{now: env.Now}
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	env.RegisterActivityWithOptions(fake.scan, activity.RegisterOptions{Name: ScanActivityName})
	// A worker started later hands the sentinel a new configuration; it
	// applies from the next scan.
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(SignalConfig, Config{Interval: 30 * time.Second, ScansPerRun: 4, Query: "TaskQueue = 'ml'"})
	}, 15*time.Second)
	var status Status
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(QueryStatus)
		if err != nil {
			t.Error(err)
			return
		}
		if err := v.Get(&status); err != nil {
			t.Error(err)
		}
	}, 25*time.Second)
	env.ExecuteWorkflow(WorkflowName, Input{Config: Config{Interval: 10 * time.Second, ScansPerRun: 4}})

	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow error %v, want continue-as-new after 4 scans", err)
	}
	var next Input
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.State.Scans != 4 || next.Config.Query != "TaskQueue = 'ml'" || next.State.Watermark.IsZero() {
		t.Errorf("carried input %+v, want 4 scans, the signalled config and a watermark", next)
	}
	// Scans at 0s and 10s, then 30s apart once the new config applied.
	var gaps []time.Duration
	for i := 1; i < len(fake.at); i++ {
		gaps = append(gaps, fake.at[i].Sub(fake.at[i-1]).Round(time.Second))
	}
	if len(gaps) != 3 || gaps[0] != 10*time.Second || gaps[1] != 10*time.Second || gaps[2] != 30*time.Second {
		t.Errorf("gaps between scans %v, want [10s 10s 30s]", gaps)
	}
	if status.Scans != 3 || status.Last.Open != 3 || status.Config.Interval != 30*time.Second || status.Config.DescribeRate != DefaultDescribeRate {
		t.Errorf("status at 25s: %+v", status)
	}
}

// Scans stay on the worker that ran the first one while it lives; when it
// is gone the next scan goes to any worker, which becomes the host.
func TestWorkflowScansStayOnTheirHostUntilItIsGone(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	var mu sync.Mutex
	var queues []string
	hosts := []string{"shared-worker-a@host", "shared-worker-b@host"}
	env.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	env.RegisterActivityWithOptions(func(ctx context.Context, in ScanInput) (ScanResult, error) {
		mu.Lock()
		defer mu.Unlock()
		q := activity.GetInfo(ctx).TaskQueue
		queues = append(queues, q)
		if q == hosts[0] && len(queues) >= 3 {
			return ScanResult{}, errors.New("host gone") // worker a died
		}
		st := in.State
		st.Scans++
		if q == hosts[0] || len(queues) < 3 {
			st.Host = hosts[0]
		} else {
			st.Host = hosts[1]
		}
		return ScanResult{State: st}, nil
	}, activity.RegisterOptions{Name: ScanActivityName})
	env.ExecuteWorkflow(WorkflowName, Input{Config: Config{ScansPerRun: 4}})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("workflow error %v", err)
	}
	var next Input
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	want := "default-test-taskqueue," + hosts[0] + "," + hosts[0] + ",default-test-taskqueue," + hosts[1] // the third failed: not a scan
	if got := strings.Join(queues, ","); got != want || next.State.Host != hosts[1] || next.State.Scans != 4 {
		t.Errorf("scans went to %s (host now %q, %d scans)\nwant %s", got, next.State.Host, next.State.Scans, want)
	}
}

// A sentinel history recorded on the dev server (its start signal, a
// problem a worker handed over, its host gone and the scan timing out on
// the host's queue, continue-as-new after six scans) replays with this
// code: changes to the workflow must keep it so, or version themselves.
func TestWorkflowReplaysARecordedHistory(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	if err := r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/sentinel.history.json"); err != nil {
		t.Fatal(err)
	}
}
