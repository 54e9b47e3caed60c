package interceptors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/metrics"
)

// recorder keeps a line per event: "kind step attempt" (+ " err=type").
type recorder struct {
	BaseObserver
	mu     sync.Mutex
	events []string
	last   map[Kind]Event
}

func (r *recorder) add(e *Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := e.Kind.String()
	if e.Step != "" {
		line += " " + e.Step
	}
	if e.Kind >= ActivityStarted && e.Kind <= ActivityFailed {
		line += fmt.Sprintf(" #%d", e.Attempt)
		if e.StepType == StepLocalActivity {
			line += " local"
		}
	}
	if e.ErrType != "" {
		line += " err=" + e.ErrType
	}
	if e.Records > 0 {
		line += fmt.Sprintf(" records=%d", e.Records)
	}
	r.events = append(r.events, line)
	if r.last == nil {
		r.last = map[Kind]Event{}
	}
	r.last[e.Kind] = *e
}

func (r *recorder) ObserveActivity(_ context.Context, e *Event)  { r.add(e) }
func (r *recorder) ObserveWorkflow(_ workflow.Context, e *Event) { r.add(e) }

// fixture runs one workflow in the testsuite with the interceptor and every
// observer on.
type fixture struct {
	rec     *recorder
	logObs  *LogObserver
	logs    *observer.ObservedLogs
	metrics *metrics.Pipeline
	env     *testsuite.TestWorkflowEnvironment
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	core, logs := observer.New(zap.DebugLevel)
	m, err := metrics.NewPipeline(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{rec: &recorder{}, logObs: NewLogObserver(zap.New(core)), logs: logs, metrics: m, env: s.NewTestWorkflowEnvironment()}
	t.Cleanup(f.logObs.Close)
	ic := New(Options{
		Observers:     []Observer{f.rec, f.logObs, NewMetricsObserver(m)},
		ProgressEvery: time.Nanosecond,
		Usage:         func() metrics.Usage { return metrics.Usage{RSS: 42 << 20} },
	})
	f.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{ic}})
	f.env.RegisterWorkflowWithOptions(pipelineWorkflow, workflow.RegisterOptions{Name: "train-pipeline"})
	f.env.RegisterWorkflowWithOptions(childWorkflow, workflow.RegisterOptions{Name: "child"})
	f.env.RegisterActivityWithOptions(steps{}.ingest, activity.RegisterOptions{Name: "ingest"})
	f.env.RegisterActivityWithOptions(steps{}.bad, activity.RegisterOptions{Name: "bad"})
	f.env.RegisterActivityWithOptions(steps{}.check, activity.RegisterOptions{Name: "check"})
	f.env.RegisterActivityWithOptions(steps{}.featurize, activity.RegisterOptions{Name: "featurize"})
	return f
}

type steps struct{}

type progress struct{ Records int64 }

func (steps) ingest(ctx context.Context, rows int) (int, error) {
	for i := 1; i <= 3; i++ {
		activity.RecordHeartbeat(ctx, progress{Records: int64(i * rows / 3)})
	}
	return rows, nil
}

// bad fails its first fails attempts, then succeeds.
func (steps) bad(ctx context.Context, fails int32) error {
	if activity.GetInfo(ctx).Attempt <= fails {
		return temporal.NewApplicationError("disk full", "IOError")
	}
	return nil
}

func (steps) check(context.Context) (bool, error) { return true, nil }

// Datasets of the lineage tests.
var (
	rawData  = lineage.Dataset{Kind: lineage.RawData, Key: "s3://lake/orders", Version: "sha256:aa"}
	features = lineage.Dataset{Kind: lineage.FeatureSet, Key: "features/orders", Version: "sha256:bb"}
	stats    = lineage.Dataset{Kind: lineage.ValidatedData, Key: "stats/orders", Version: "sha256:cc"}
)

type featurizeIn struct {
	Raw  lineage.Dataset
	Fail bool
}

type featurizeOut struct {
	Features lineage.Dataset
	Source   lineage.Dataset // the input, passed on: not an output
}

// featurize reads its input from its argument, declares one more output
// and returns its main one.
func (steps) featurize(ctx context.Context, in featurizeIn) (featurizeOut, error) {
	if err := lineage.Output(ctx, stats, lineage.Rows(3)); err != nil {
		return featurizeOut{}, err
	}
	if in.Fail {
		return featurizeOut{}, temporal.NewNonRetryableApplicationError("bad rows", "DataError", nil)
	}
	return featurizeOut{Features: features, Source: in.Raw}, nil
}

// pipelineWorkflow runs the steps named in plan, in order.
func pipelineWorkflow(ctx workflow.Context, plan []string) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3, InitialInterval: time.Second},
	})
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	for _, p := range plan {
		var err error
		switch p {
		case "ingest":
			err = workflow.ExecuteActivity(ctx, "ingest", 300).Get(ctx, nil)
		case "flaky":
			err = workflow.ExecuteActivity(ctx, "bad", 2).Get(ctx, nil)
		case "broken":
			err = workflow.ExecuteActivity(ctx, "bad", 9).Get(ctx, nil)
		case "featurize", "featurize-fail":
			err = workflow.ExecuteActivity(ctx, "featurize", featurizeIn{Raw: rawData, Fail: p == "featurize-fail"}).Get(ctx, nil)
		case "local":
			err = workflow.ExecuteLocalActivity(ctx, "check").Get(ctx, nil)
		case "child":
			err = workflow.ExecuteChildWorkflow(ctx, "child").Get(ctx, nil)
		case "sleep":
			err = workflow.Sleep(ctx, time.Hour)
		case "continue":
			return workflow.NewContinueAsNewError(ctx, "train-pipeline", []string{"ingest"})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func childWorkflow(ctx workflow.Context) error { return nil }

func TestEvents(t *testing.T) {
	tests := []struct {
		name   string
		plan   []string
		cancel bool
		want   []string
	}{
		{
			name: "success with heartbeat progress",
			plan: []string{"ingest"},
			want: []string{
				"workflow_started", "step_scheduled ingest", "activity_started ingest #1",
				"activity_progress ingest #1 records=100", "activity_progress ingest #1 records=100", "activity_progress ingest #1 records=100",
				"activity_completed ingest #1", "step_completed ingest", "workflow_completed",
			},
		},
		{
			name: "retry with attempts",
			plan: []string{"flaky"},
			want: []string{
				"workflow_started", "step_scheduled bad",
				"activity_started bad #1", "activity_failed bad #1 err=IOError",
				"activity_retried bad #2", "activity_failed bad #2 err=IOError",
				"activity_retried bad #3", "activity_completed bad #3",
				"step_completed bad", "workflow_completed",
			},
		},
		{
			name: "failure after retries",
			plan: []string{"broken"},
			want: []string{
				"workflow_started", "step_scheduled bad",
				"activity_started bad #1", "activity_failed bad #1 err=IOError",
				"activity_retried bad #2", "activity_failed bad #2 err=IOError",
				"activity_retried bad #3", "activity_failed bad #3 err=IOError",
				"step_failed bad err=IOError", "workflow_failed err=IOError",
			},
		},
		{
			name: "local activity",
			plan: []string{"local"},
			want: []string{
				"workflow_started", "step_scheduled check", "activity_started check #1 local",
				"activity_completed check #1 local", "step_completed check", "workflow_completed",
			},
		},
		{
			name: "child workflow",
			plan: []string{"child"},
			want: []string{
				"workflow_started", "step_scheduled child", "workflow_started", "workflow_completed",
				"step_completed child", "workflow_completed",
			},
		},
		{
			name: "continue as new is not a failure",
			plan: []string{"continue"},
			want: []string{"workflow_started", "workflow_continued_as_new"},
		},
		{
			name:   "cancellation is not a failure",
			plan:   []string{"sleep"},
			cancel: true,
			want:   []string{"workflow_started", "workflow_canceled"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.cancel {
				f.env.RegisterDelayedCallback(f.env.CancelWorkflow, time.Minute)
			}
			f.env.ExecuteWorkflow("train-pipeline", tt.plan)
			if got := strings.Join(f.rec.events, "\n"); got != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\n\nwant:\n%s", got, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLogFields(t *testing.T) {
	f := newFixture(t)
	f.env.ExecuteWorkflow("train-pipeline", []string{"flaky"})
	var failed []observer.LoggedEntry
	f.logObs.Flush() // workflow lines are written off workflow code
	for _, e := range f.logs.All() {
		if e.Message == "step attempt failed" {
			failed = append(failed, e)
		}
	}
	if len(failed) != 2 {
		t.Fatalf("%d 'step attempt failed' lines, want 2", len(failed))
	}
	got := failed[1].ContextMap()
	want := map[string]any{
		"workflow_id": "default-test-workflow-id", "run_id": "default-test-run-id",
		"task_queue": "default-test-taskqueue", "pipeline": "train-pipeline", "step": "bad",
		"activity_type": "bad", "attempt": int32(2), "error": "disk full", "error_type": "IOError",
		"rss_bytes": uint64(42 << 20),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s = %#v, want %#v", k, got[k], v)
		}
	}
	for _, k := range []string{"activity_id", "duration", "cpu_seconds_approx", "heap_alloc_bytes_approx"} {
		if _, ok := got[k]; !ok {
			t.Errorf("field %s missing from %v", k, got)
		}
	}
	if failed[1].Level != zap.WarnLevel {
		t.Errorf("level = %v, want warn", failed[1].Level)
	}
}

func TestMetricValues(t *testing.T) {
	f := newFixture(t)
	f.env.ExecuteWorkflow("train-pipeline", []string{"ingest", "flaky", "local"})
	if err := f.env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	m := f.metrics
	tests := []struct {
		name string
		c    prometheus.Collector
		want float64
	}{
		{"attempts bad", m.StepAttempts.WithLabelValues("train-pipeline", "bad"), 3},
		{"retries bad", m.StepRetries.WithLabelValues("train-pipeline", "bad"), 2},
		{"failures bad IOError", m.StepFailures.WithLabelValues("train-pipeline", "bad", "IOError"), 2},
		{"attempts ingest", m.StepAttempts.WithLabelValues("train-pipeline", "ingest"), 1},
		{"records ingest", m.StepRecords.WithLabelValues("train-pipeline", "ingest"), 300},
		{"progress events ingest", m.StepHeartbeats.WithLabelValues("train-pipeline", "ingest"), 3},
		{"rss ingest", m.StepRSS.WithLabelValues("train-pipeline", "ingest"), 42 << 20},
		{"local completed", m.LocalActivities.WithLabelValues("train-pipeline", "check", "completed"), 1},
		{"step outcome bad", m.StepOutcomes.WithLabelValues("train-pipeline", "bad", "activity", "completed"), 1},
		{"events activity_retried", m.Events.WithLabelValues("activity_retried"), 2},
		{"events workflow_completed", m.Events.WithLabelValues("workflow_completed"), 1},
	}
	for _, tt := range tests {
		if got := testutil.ToFloat64(tt.c); got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Both outcome series of a step exist from its first attempt on (zeros
	// rather than missing series): 3 steps x 2.
	if n := testutil.CollectAndCount(m.StepDuration); n != 6 {
		t.Errorf("step duration series = %d, want 6", n)
	}
	// Schedule-to-close as the workflow saw it spans the retries' backoff
	// (the testsuite skips 1s twice): at least 2s for bad.
	h := m.StepScheduleToClose.WithLabelValues("train-pipeline", "bad", "activity", "completed").(prometheus.Histogram)
	if got := histSum(t, h); got < 2 {
		t.Errorf("schedule-to-close of bad = %vs, want >= 2s", got)
	}
}

func histSum(t *testing.T, h prometheus.Histogram) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 1)
	h.Collect(ch)
	var pb dto.Metric
	if err := (<-ch).Write(&pb); err != nil {
		t.Fatal(err)
	}
	return pb.GetHistogram().GetSampleSum()
}

func TestProgressQuery(t *testing.T) {
	f := newFixture(t)
	f.env.ExecuteWorkflow("train-pipeline", []string{"ingest", "flaky", "broken"})
	var appErr *temporal.ApplicationError
	if err := f.env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "IOError" {
		t.Fatalf("workflow error = %v, want the IOError", err)
	}
	v, err := f.env.QueryWorkflow(ProgressQuery)
	if err != nil {
		t.Fatal(err)
	}
	var p Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	if p.Pipeline != "train-pipeline" || p.Status != "failed" || p.Current != "" || len(p.Steps) != 3 {
		t.Fatalf("progress = %+v", p)
	}
	want := []struct {
		step, status string
		attempts     int32
		records      int64
		err          string
	}{
		{"ingest", "completed", 1, 300, ""},
		{"bad", "completed", 3, 0, ""},
		{"bad", "failed", 3, 0, "activity error (type: bad, scheduledEventID: 0, startedEventID: 0, identity: ): disk full (type: IOError, retryable: true)"},
	}
	for i, w := range want {
		s := p.Steps[i]
		if s.Step != w.step || s.Status != w.status || s.Attempts != w.attempts || s.Records != w.records || s.Type != "activity" {
			t.Errorf("step %d = %+v, want %+v", i, s, w)
		}
		if !strings.Contains(s.Error, "disk full") != (w.err == "") {
			t.Errorf("step %d error = %q", i, s.Error)
		}
		if s.Started.IsZero() {
			t.Errorf("step %d has no start", i)
		}
	}
	if p.Steps[1].Duration < 2*time.Second {
		t.Errorf("bad's duration %v, want >= 2s (two backoffs)", p.Steps[1].Duration)
	}
}

func TestRecordCount(t *testing.T) {
	n := int64(7)
	tests := []struct {
		name    string
		details []any
		want    int64
		ok      bool
	}{
		{"none", nil, 0, false},
		{"int", []any{12}, 12, true},
		{"int64", []any{int64(13)}, 13, true},
		{"struct", []any{progress{Records: 14}}, 14, true},
		{"pointer", []any{&struct{ Records uint32 }{15}}, 15, true},
		{"nil pointer", []any{(*progress)(nil)}, 0, false},
		{"string", []any{"50%"}, 0, false},
		{"struct without Records", []any{struct{ Rows int }{1}}, 0, false},
		{"pointer to int", []any{&n}, 0, false},
	}
	for _, tt := range tests {
		got, ok := RecordCount(tt.details)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: RecordCount = %d, %v; want %d, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFindRunLabels(t *testing.T) {
	type nested struct{ DatasetVersion string }
	type tagged struct {
		Name    string `pipewatch:"model"`
		Version string `pipewatch:"dataset_version"`
		Model   string // the tag wins over the conventional name
	}
	tests := []struct {
		name string
		args []any
		want runLabels
	}{
		{"none", []any{"x", 3}, runLabels{}},
		{"conventional names, nested", []any{struct {
			ModelName string
			Data      nested
		}{"churn", nested{"v7"}}}, runLabels{"churn", "v7"}},
		{"pointer and Model", []any{&struct{ Model, DatasetVersion string }{"m", "d"}}, runLabels{"m", "d"}},
		{"tags", []any{tagged{Name: "tagged-model", Version: "tagged-v", Model: "other"}}, runLabels{"tagged-model", "tagged-v"}},
		{"nil pointer", []any{(*nested)(nil)}, runLabels{}},
		{"blank values ignored", []any{struct{ ModelName string }{"  "}}, runLabels{}},
	}
	for _, tt := range tests {
		if got := findRunLabels(tt.args); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestDatasetsOfSteps(t *testing.T) {
	three := int64(3)
	statsOut := stats.With(lineage.Rows(three))
	tests := []struct {
		name        string
		plan        string
		kind        Kind
		inputs      []lineage.Dataset
		outputs     []lineage.Dataset
		wantLogOuts []any
	}{
		{"completed: input from the argument, outputs declared and returned", "featurize", ActivityCompleted,
			[]lineage.Dataset{rawData}, []lineage.Dataset{statsOut, features},
			[]any{"stats/orders@sha256:cc", "features/orders@sha256:bb"}},
		{"failed: what it read, nothing written", "featurize-fail", ActivityFailed,
			[]lineage.Dataset{rawData}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.env.ExecuteWorkflow("train-pipeline", []string{tt.plan})
			e, ok := f.rec.last[tt.kind]
			if !ok {
				t.Fatalf("no %s event; events: %v", tt.kind, f.rec.events)
			}
			if !reflect.DeepEqual(e.Inputs, tt.inputs) || !reflect.DeepEqual(e.Outputs, tt.outputs) {
				t.Errorf("inputs, outputs =\n%v\n%v\nwant\n%v\n%v", e.Inputs, e.Outputs, tt.inputs, tt.outputs)
			}
			if e.LineageErr != nil {
				t.Errorf("LineageErr = %v", e.LineageErr)
			}
			f.logObs.Flush()
			for _, l := range f.logs.All() {
				if l.Message != message(tt.kind) {
					continue
				}
				m := l.ContextMap()
				if fmt.Sprint(m["inputs"]) != "[s3://lake/orders@sha256:aa]" || fmt.Sprint(m["outputs"]) != fmt.Sprint(nilIfEmpty(tt.wantLogOuts)) {
					t.Errorf("log inputs, outputs = %v, %v, want [s3://lake/orders@sha256:aa], %v", m["inputs"], m["outputs"], tt.wantLogOuts)
				}
			}
		})
	}
}

func nilIfEmpty(v []any) any {
	if len(v) == 0 {
		return nil
	}
	return v
}

// pipewatch's own machinery is no pipeline: neither the alert workflow
// (nor its notification activity) nor the local activity that raises a
// pipeline's workflow_failure alert reach the observers.
func TestOwnMachineryIsNotObserved(t *testing.T) {
	tests := []struct {
		name     string
		workflow string
		want     []string
	}{
		{"a failing pipeline raising its alert", "failing-pipeline", []string{"workflow_started", "workflow_failed err=ApplicationError"}},
		{"an alert workflow", alerts.WorkflowName, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
			env := s.NewTestWorkflowEnvironment()
			m, err := metrics.NewPipeline(prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{New(Options{
				Observers: []Observer{rec, NewMetricsObserver(m)}, WorkflowFailureAlerts: true,
			})}})
			fired := 0
			env.RegisterActivityWithOptions(func(context.Context, alerts.Alert) error { fired++; return nil },
				activity.RegisterOptions{Name: alerts.FireActivityName})
			env.RegisterWorkflowWithOptions(func(workflow.Context) error { return temporal.NewApplicationError("bad batch", "") },
				workflow.RegisterOptions{Name: "failing-pipeline"})
			env.RegisterWorkflowWithOptions(alerts.Workflow, workflow.RegisterOptions{Name: alerts.WorkflowName})
			ns := &alerts.Notifiers{Channels: map[string]alerts.Notifier{"log": alerts.LogNotifier{Log: zap.NewNop()}}}
			env.RegisterActivityWithOptions(ns.Notify, activity.RegisterOptions{Name: alerts.NotifyActivityName})
			if tt.workflow == alerts.WorkflowName {
				env.ExecuteWorkflow(tt.workflow, alerts.Input{Alert: alerts.Alert{Type: alerts.Custom, Severity: alerts.Info, Summary: "s"}})
			} else {
				env.ExecuteWorkflow(tt.workflow)
				if fired != 1 {
					t.Errorf("workflow_failure alerts raised: %d, want 1", fired)
				}
			}
			if got := rec.events; strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if n := testutil.CollectAndCount(m.StepOutcomes); n != 0 {
				t.Errorf("step outcome series: %d, want none", n)
			}
		})
	}
}

// The metrics observer's series cache is keyed by the guarded label
// values: keyed by raw names, it grew with every new step name, far past
// the 200 the label admits.
func TestMetricsSeriesCacheIsBounded(t *testing.T) {
	m, err := metrics.NewPipeline(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	o := NewMetricsObserver(m)
	for i := range 500 {
		o.ObserveActivity(context.Background(), &Event{Kind: ActivityStarted, Pipeline: "p", Step: fmt.Sprintf("step-%d", i), Attempt: 1})
	}
	if n := len(o.byStep); n != MaxLabelValues+1 {
		t.Errorf("%d cached series for 500 step names, want %d (200 and other)", n, MaxLabelValues+1)
	}
}
