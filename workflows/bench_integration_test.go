//go:build integration

package workflows_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdkworker "go.temporal.io/sdk/worker"
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

// TestBenchPipeline runs the ML pipeline on the committed sample on a dev
// server of its own, with pipewatch fully on and with no interceptor,
// alternating, until the median ratio's interquartile spread is under 1 %
// (at least 15, at most 201 rounds). It prints BENCH lines; it runs only
// under `make bench` (PIPEWATCH_BENCH=1).
func TestBenchPipeline(t *testing.T) {
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
	start := func(name string, ics []interceptor.WorkerInterceptor) (string, func()) {
		queue := "bench-ml-" + name
		w := sdkworker.New(tc, queue, sdkworker.Options{Interceptors: ics})
		w.RegisterWorkflowWithOptions(workflows.MLPipelineWorkflow, workflow.RegisterOptions{Name: workflows.MLPipelineName})
		ml := &activities.ML{Store: t.TempDir(), SourceRoots: []string{os.TempDir()}}
		for n, fn := range map[string]any{
			activities.IngestName: ml.Ingest, activities.ValidateName: ml.Validate, activities.FeaturesName: ml.Features,
			activities.TrainName: ml.Train, activities.EvaluateName: ml.Evaluate, activities.RegisterName: ml.Register,
			activities.PredictName: ml.Predict,
		} {
			w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: n})
		}
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		return queue, w.Stop
	}
	bareQ, stopBare := start("bare", nil)
	defer stopBare()
	logs, err := logging.New(logging.Options{Dir: t.TempDir(), Console: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	m, err := metrics.NewPipeline(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	spool, err := lineage.OpenSpool(t.TempDir(), lineage.SpoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer spool.Close()
	var usage metrics.ProcessSampler
	ic := interceptors.New(interceptors.Options{
		Observers: []interceptors.Observer{
			interceptors.NewLogObserver(logs.Main), interceptors.NewMetricsObserver(m), interceptors.NewLineageObserver(spool, logs.Main, nil),
		},
		SearchAttributes: true, Summaries: true, Usage: usage.Load,
	})
	pwQ, stopPW := start("pipewatch", []interceptor.WorkerInterceptor{ic})
	defer stopPW()

	ctx := context.Background()
	runOnce := func(queue string, i int) time.Duration {
		t0 := time.Now()
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", queue, i), TaskQueue: queue},
			workflows.MLPipelineName, workflows.MLPipelineInput{Source: src})
		if err == nil {
			err = run.Get(ctx, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		return time.Since(t0)
	}
	runOnce(bareQ, -1) // warm both
	runOnce(pwQ, -1)
	var bare, pw, ratios []float64
	var med, spread float64
	rounds := 0
	for rounds < 201 {
		rounds++
		b, p := runOnce(bareQ, rounds), runOnce(pwQ, rounds)
		if rounds%2 == 0 { // alternate which goes first
			p, b = runOnce(pwQ, -rounds), runOnce(bareQ, -rounds)
		}
		bare, pw, ratios = append(bare, b.Seconds()), append(pw, p.Seconds()), append(ratios, p.Seconds()/b.Seconds())
		if rounds >= 15 {
			med, spread = medianIQR(ratios)
			// Stop once the ratios' interquartile range is under 1 % of
			// their median.
			if spread < 0.01*med {
				break
			}
		}
	}
	bm, _ := medianIQR(bare)
	pm, _ := medianIQR(pw)
	fmt.Printf("BENCH pipeline_e2e_s %.3f s\n", pm)
	fmt.Printf("BENCH pipeline_e2e_bare_s %.3f s\n", bm)
	fmt.Printf("BENCH pipeline_overhead_ratio %.3f x\n", med)
	fmt.Printf("BENCH pipeline_overhead_ratio_iqr %.3f x\n", spread)
	fmt.Printf("BENCH pipeline_overhead_rounds %d rounds\n", rounds)
}

func medianIQR(xs []float64) (median, iqr float64) {
	s := slices.Clone(xs)
	slices.Sort(s)
	q := func(p float64) float64 { return s[int(p*float64(len(s)-1)+0.5)] }
	return q(0.5), q(0.75) - q(0.25)
}
