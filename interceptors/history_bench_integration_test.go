//go:build integration

package interceptors_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/activities"
	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/devserver"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/logging"
	"github.com/pipewatch/pipewatch/metrics"
	"github.com/pipewatch/pipewatch/workflows"
)

// TestBenchHistoryFootprint measures the history events pipewatch adds to
// a run: the same pipeline run on a worker with pipewatch fully on and on
// a bare one, on a dev server of its own, and the difference of their
// history lengths. Two pipelines: the ML pipeline (7 steps) and 1,000
// steps alternating two activity types. It prints BENCH lines; it runs
// only under `make bench` (PIPEWATCH_BENCH=1).
func TestBenchHistoryFootprint(t *testing.T) {
	if os.Getenv("PIPEWATCH_BENCH") != "1" {
		t.Skip("a benchmark: run with `make bench`")
	}
	tc := devserver.Start(t, append(interceptors.SearchAttributeNames(), alerts.SearchAttributeNames()...))
	source, err := os.ReadFile("../testdata/cohort-sample.csv")
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir() + "/cohort.csv"
	if err := os.WriteFile(src, source, 0o600); err != nil {
		t.Fatal(err)
	}
	start := func(name string, ics []interceptor.WorkerInterceptor) string {
		queue := "bench-history-" + name
		w := worker.New(tc, queue, worker.Options{Interceptors: ics})
		w.RegisterWorkflowWithOptions(workflows.MLPipelineWorkflow, workflow.RegisterOptions{Name: workflows.MLPipelineName})
		ml := &activities.ML{Store: t.TempDir(), SourceRoots: []string{os.TempDir()}}
		for n, fn := range map[string]any{
			activities.IngestName: ml.Ingest, activities.ValidateName: ml.Validate, activities.FeaturesName: ml.Features,
			activities.TrainName: ml.Train, activities.EvaluateName: ml.Evaluate, activities.RegisterName: ml.Register,
			activities.PredictName: ml.Predict,
		} {
			w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: n})
		}
		registerAlternating(w)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		return queue
	}
	bareQ := start("bare", nil)

	// Fully on, as in the pipewatch worker: every observer, search
	// attributes, summaries, failure alerts (their local activity runs
	// only when a run fails: these do not).
	logs, err := logging.New(logging.Options{Dir: t.TempDir(), Console: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = logs.Close() })
	m, err := metrics.NewPipeline(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	spool, err := lineage.OpenSpool(t.TempDir(), lineage.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = spool.Close() })
	logObs, lineageObs := interceptors.NewLogObserver(logs.Main), interceptors.NewLineageObserver(spool, logs.Main, nil)
	t.Cleanup(func() { lineageObs.Close(); logObs.Close() })
	var usage metrics.ProcessSampler
	ic := interceptors.New(interceptors.Options{
		Observers:        []interceptors.Observer{logObs, interceptors.NewMetricsObserver(m), lineageObs},
		SearchAttributes: true, Summaries: true, WorkflowFailureAlerts: true, Usage: usage.Load,
	})
	pwQ := start("pipewatch", []interceptor.WorkerInterceptor{ic})

	ctx := context.Background()
	run := func(queue, id, wf string, in any) *historypb.History {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		r, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, wf, in)
		if err == nil {
			err = r.Get(ctx, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		return fetchHistory(t, tc, id, r.GetRunID())
	}
	for _, c := range []struct {
		bench, workflow string
		steps           int
		in              any
	}{
		{"history_events_added_7_steps", workflows.MLPipelineName, 7, workflows.MLPipelineInput{Source: src, ModelName: "cohort-dementia"}},
		{"history_events_added_1000_alternating_steps", "ui.alternating", 1000, uiAlternatingInput{ModelName: "churn-lr", Steps: 1000}},
	} {
		bare := run(bareQ, c.bench+"-bare", c.workflow, c.in)
		pw := run(pwQ, c.bench+"-pipewatch", c.workflow, c.in)
		if n := countEvents(pw)[enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED]; n != c.steps {
			t.Errorf("%s: %d steps scheduled, want %d", c.workflow, n, c.steps)
		}
		t.Logf("%s: %d events bare, %d with pipewatch; added by type: %s", c.workflow, len(bare.GetEvents()), len(pw.GetEvents()), eventsAdded(bare, pw))
		added := len(pw.GetEvents()) - len(bare.GetEvents())
		fmt.Printf("BENCH %s %d count\n", c.bench, added)
		if added > 3 {
			t.Errorf("%s: pipewatch added %d history events, want at most 3", c.workflow, added)
		}
	}
}

func countEvents(h *historypb.History) map[enumspb.EventType]int {
	n := map[enumspb.EventType]int{}
	for _, e := range h.GetEvents() {
		n[e.GetEventType()]++
	}
	return n
}

// eventsAdded lists, by event type, how many more events pw has than bare.
func eventsAdded(bare, pw *historypb.History) string {
	b, p := countEvents(bare), countEvents(pw)
	var out []string
	for typ, n := range p {
		if d := n - b[typ]; d != 0 {
			out = append(out, fmt.Sprintf("%s %+d", strings.TrimPrefix(typ.String(), "EVENT_TYPE_"), d))
		}
	}
	for typ, n := range b {
		if _, ok := p[typ]; !ok {
			out = append(out, fmt.Sprintf("%s %+d", strings.TrimPrefix(typ.String(), "EVENT_TYPE_"), -n))
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
