//go:build integration

package interceptors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/metrics"
	pwworker "github.com/pipewatch/pipewatch/worker"
)

const itPipeline = "itest.pipeline"

// itInput names the model and dataset version the way ML pipelines do;
// the interceptor reads them from there.
type itInput struct {
	ModelName string
	Data      struct {
		DatasetVersion string
	}
}

// itPipelineWorkflow: ingest, then a flaky step (fails twice, then
// succeeds), then a broken step that fails both its attempts.
func itPipelineWorkflow(ctx workflow.Context, _ itInput) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3, InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 1},
	})
	if err := workflow.ExecuteActivity(ctx, "itest.ingest", 90).Get(ctx, nil); err != nil {
		return err
	}
	if err := workflow.ExecuteActivity(ctx, "itest.flaky").Get(ctx, nil); err != nil {
		return err
	}
	broken := workflow.WithRetryPolicy(ctx, temporal.RetryPolicy{MaximumAttempts: 2, InitialInterval: 100 * time.Millisecond})
	return workflow.ExecuteActivity(broken, "itest.broken").Get(ctx, nil)
}

func itIngest(ctx context.Context, rows int) (int, error) {
	for i := 1; i <= 3; i++ {
		activity.RecordHeartbeat(ctx, struct{ Records int }{i * rows / 3})
	}
	return rows, nil
}

func itFlaky(ctx context.Context) error {
	if activity.GetInfo(ctx).Attempt <= 2 {
		return temporal.NewApplicationError("feature store timed out", "Flaky")
	}
	return nil
}

func itBroken(context.Context) error {
	return temporal.NewApplicationError("schema mismatch in column age", "SchemaError")
}

func register(w worker.Registry) {
	w.RegisterWorkflowWithOptions(itPipelineWorkflow, workflow.RegisterOptions{Name: itPipeline})
	w.RegisterActivityWithOptions(itIngest, activity.RegisterOptions{Name: "itest.ingest"})
	w.RegisterActivityWithOptions(itFlaky, activity.RegisterOptions{Name: "itest.flaky"})
	w.RegisterActivityWithOptions(itBroken, activity.RegisterOptions{Name: "itest.broken"})
}

// counter is an observer counting every event it receives.
type counter struct {
	interceptors.BaseObserver
	mu sync.Mutex
	n  int
}

func (c *counter) ObserveActivity(context.Context, *interceptors.Event) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}
func (c *counter) ObserveWorkflow(workflow.Context, *interceptors.Event) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

// stack is a pipewatch-instrumented worker on its own task queue.
type stack struct {
	tc      client.Client
	queue   string
	logs    *bytes.Buffer
	metrics string // URL of /metrics
	// logged returns the log lines so far, workflow ones included (they
	// are written off workflow code).
	logged func() string
}

func startWorker(t *testing.T, tc client.Client, queue string, withPipewatch bool) *stack {
	t.Helper()
	s := &stack{tc: tc, queue: queue, logs: &bytes.Buffer{}}
	opts := worker.Options{}
	if withPipewatch {
		reg := prometheus.NewRegistry()
		m, err := metrics.NewPipeline(reg)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		sink := zapcore.AddSync(&lockedWriter{mu: &mu, w: s.logs})
		logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), sink, zap.InfoLevel))
		logObs := interceptors.NewLogObserver(logger)
		t.Cleanup(logObs.Close)
		s.logged = func() string {
			logObs.Flush()
			mu.Lock()
			defer mu.Unlock()
			return s.logs.String()
		}
		opts.Interceptors = []interceptor.WorkerInterceptor{interceptors.New(interceptors.Options{
			Observers:        []interceptors.Observer{logObs, interceptors.NewMetricsObserver(m)},
			SearchAttributes: true,
			Summaries:        true,
			ProgressEvery:    time.Nanosecond,
		})}
		srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		t.Cleanup(srv.Close)
		s.metrics = srv.URL
	}
	w := worker.New(tc, queue, opts)
	register(w)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return s
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (s *stack) run(t *testing.T, id string) client.WorkflowRun {
	t.Helper()
	ctx := interceptors.WithUserID(context.Background(), "alice@lab")
	in := itInput{ModelName: "churn-lr"}
	in.Data.DatasetVersion = "sha256:ab12"
	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: s.queue, WorkflowExecutionTimeout: time.Minute}, itPipeline, in)
	if err != nil {
		t.Fatal(err)
	}
	err = run.Get(ctx, nil)
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.Type() != "SchemaError" {
		t.Fatalf("workflow error = %v, want the SchemaError", err)
	}
	return run
}

func history(t *testing.T, tc client.Client, run client.WorkflowRun) *historypb.History {
	t.Helper()
	h := &historypb.History{}
	it := tc.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

func TestPipelineObservedIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	tc := testenv.Temporal(t, cfg)
	ctx := context.Background()
	if missing, err := pwworker.MissingSearchAttributes(ctx, tc, cfg.Temporal.Namespace); err != nil || len(missing) > 0 {
		t.Fatalf("search attributes missing on the dev server: %v %v", missing, err)
	}
	s := startWorker(t, tc, testenv.Name(t), true)
	run := s.run(t, testenv.Name(t))

	// Search attributes, read back through the Temporal API.
	described, err := tc.DescribeWorkflow(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		t.Fatal(err)
	}
	desc := described.RawResponse
	if got := desc.GetWorkflowExecutionInfo().GetStatus(); got != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
		t.Errorf("execution status %s, want failed", got)
	}
	sa := map[string]string{}
	for k, p := range desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields() {
		var v string
		if converter.GetDefaultDataConverter().FromPayload(p, &v) == nil {
			sa[k] = v
		}
	}
	for k, want := range map[string]string{
		"PipelineName": itPipeline, "ModelName": "churn-lr", "DatasetVersion": "sha256:ab12",
		// The run's status is Temporal's ExecutionStatus, true however the
		// run ends: new runs write no PipelineStatus; and its current step
		// is in its current details and progress query: no PipelineStep.
		"PipelineStatus": "", "PipelineStep": "",
	} {
		if sa[k] != want {
			t.Errorf("search attribute %s = %q, want %q (all: %v)", k, sa[k], want, sa)
		}
	}

	// Summaries of the scheduled activities, from the history.
	var summaries []string
	for _, e := range history(t, tc, run).GetEvents() {
		if e.GetEventType() == enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED {
			var v string
			_ = converter.GetDefaultDataConverter().FromPayload(e.GetUserMetadata().GetSummary(), &v)
			summaries = append(summaries, v)
		}
	}
	if want := []string{"model=churn-lr · data=sha256:ab12", "model=churn-lr · data=sha256:ab12", "model=churn-lr · data=sha256:ab12"}; strings.Join(summaries, "|") != strings.Join(want, "|") {
		t.Errorf("summaries = %q, want %q", summaries, want)
	}

	// The progress query.
	v, err := tc.QueryWorkflow(ctx, run.GetID(), run.GetRunID(), interceptors.ProgressQuery)
	if err != nil {
		t.Fatal(err)
	}
	var p interceptors.Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	type step struct {
		Step, Status string
		Attempts     int32
	}
	var got []step
	for _, st := range p.Steps {
		got = append(got, step{st.Step, st.Status, st.Attempts})
	}
	want := []step{{"itest.ingest", "completed", 1}, {"itest.flaky", "completed", 3}, {"itest.broken", "failed", 2}}
	if fmt.Sprint(got) != fmt.Sprint(want) || p.Status != "failed" || p.Pipeline != itPipeline {
		t.Errorf("progress = %+v %s %s, want %+v failed", got, p.Status, p.Pipeline, want)
	}
	if !strings.Contains(p.Steps[2].Error, "schema mismatch in column age") {
		t.Errorf("broken step error = %q", p.Steps[2].Error)
	}

	// /metrics, scraped: exact counts.
	resp, err := http.Get(s.metrics)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pl := `pipeline="itest.pipeline"`
	for _, c := range []struct{ series, want string }{
		{`pipewatch_step_attempts_total{` + pl + `,step="itest.flaky"}`, "3"},
		{`pipewatch_step_retries_total{` + pl + `,step="itest.flaky"}`, "2"},
		{`pipewatch_step_failures_total{error_type="Flaky",` + pl + `,step="itest.flaky"}`, "2"},
		{`pipewatch_step_attempts_total{` + pl + `,step="itest.broken"}`, "2"},
		{`pipewatch_step_failures_total{error_type="SchemaError",` + pl + `,step="itest.broken"}`, "2"},
		{`pipewatch_step_records_processed_total{` + pl + `,step="itest.ingest"}`, "90"},
		{`pipewatch_step_outcomes_total{` + pl + `,status="completed",step="itest.flaky",type="activity"}`, "1"},
		{`pipewatch_step_outcomes_total{` + pl + `,status="failed",step="itest.broken",type="activity"}`, "1"},
		{`pipewatch_events_total{kind="workflow_failed"}`, "1"},
	} {
		if got := sampleValue(string(body), c.series); got != c.want {
			t.Errorf("%s = %q, want %s", c.series, got, c.want)
		}
	}

	// Logs: one line per attempt outcome, each with its context.
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(s.logged()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		counts[m["msg"].(string)]++
		if m["workflow_id"] != run.GetID() || m["user_id"] != "alice@lab" || m["pipeline"] != itPipeline {
			t.Errorf("log line lacks its context: %s", line)
		}
	}
	wantLogs := map[string]int{
		"workflow started": 1, "step started": 3, "step retry started": 3,
		"step progress": 3, "step attempt failed": 4, "step completed": 2,
		"step failed after retries": 1, "workflow failed": 1, // "step result received": at debug, this worker ran the steps
	}
	if fmt.Sprint(counts) != fmt.Sprint(wantLogs) {
		t.Errorf("log lines by message = %v\nwant %v", counts, wantLogs)
	}

	t.Run("replay emits nothing", func(t *testing.T) {
		replayWith(t, history(t, tc, run), true)
	})

	// A worker without pipewatch records a history; the interceptor must
	// replay it without a nondeterminism error (turning pipewatch on for
	// running workflows is safe).
	bare := startWorker(t, tc, testenv.Name(t)+"-bare", false)
	bareRun := bare.run(t, testenv.Name(t)+"-bare")
	t.Run("histories recorded without pipewatch replay with it", func(t *testing.T) {
		replayWith(t, history(t, tc, bareRun), true)
	})
	t.Run("histories recorded with pipewatch replay without it", func(t *testing.T) {
		err := replay(history(t, tc, run), nil)
		t.Logf("replaying a pipewatch history without the interceptor: %v", err)
		if err == nil {
			t.Errorf("want a nondeterminism error: the search attribute upserts have no command to match")
		}
	})
}

// replayWith replays h with the interceptor and a counting observer and
// checks it is deterministic and observes nothing.
func replayWith(t *testing.T, h *historypb.History, searchAttributes bool) {
	t.Helper()
	var c counter
	reg := prometheus.NewRegistry()
	m, err := metrics.NewPipeline(reg)
	if err != nil {
		t.Fatal(err)
	}
	ic := interceptors.New(interceptors.Options{
		Observers:        []interceptors.Observer{&c, interceptors.NewMetricsObserver(m)},
		SearchAttributes: searchAttributes,
		Summaries:        true,
	})
	if err := replay(h, ic); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if c.n != 0 {
		t.Errorf("%d events observed during replay, want 0", c.n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			if v := s.GetCounter().GetValue() + s.GetGauge().GetValue() + float64(s.GetHistogram().GetSampleCount()); v != 0 {
				t.Errorf("metric %s moved during replay: %v", mf.GetName(), s)
			}
		}
	}
}

func replay(h *historypb.History, ic interceptor.WorkerInterceptor) error {
	opts := worker.WorkflowReplayerOptions{}
	if ic != nil {
		opts.Interceptors = []interceptor.WorkerInterceptor{ic}
	}
	r, err := worker.NewWorkflowReplayerWithOptions(opts)
	if err != nil {
		return err
	}
	r.RegisterWorkflowWithOptions(itPipelineWorkflow, workflow.RegisterOptions{Name: itPipeline})
	return r.ReplayWorkflowHistory(nil, h)
}

func sampleValue(body, series string) string {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return ""
}
