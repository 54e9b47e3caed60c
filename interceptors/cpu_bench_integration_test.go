//go:build integration

package interceptors

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/internal/devserver"
	"github.com/pipewatch/pipewatch/lineage"
	"github.com/pipewatch/pipewatch/logging"
	"github.com/pipewatch/pipewatch/metrics"
)

// benchPipeline runs n no-op activities, batch at a time.
func benchPipeline(ctx workflow.Context, n, batch int) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for done := 0; done < n; done += batch {
		var fs []workflow.Future
		for i := 0; i < batch && done+i < n; i++ {
			fs = append(fs, workflow.ExecuteActivity(ctx, "bench.step", done+i))
		}
		for _, f := range fs {
			if err := f.Get(ctx, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func benchStep(_ context.Context, i int) (int, error) { return i, nil }

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchConfig is one way of running the worker.
type benchConfig struct {
	name  string
	setup func(t *testing.T) ([]interceptor.WorkerInterceptor, func())
}

// TestBenchInterceptorCPU measures the worker's CPU per activity with
// pipewatch fully on, with the SDK's OpenTelemetry tracing interceptor, and
// bare, on the dev server, interleaving the three in every round. It prints
// BENCH lines; it runs only under `make bench` (PIPEWATCH_BENCH=1).
func TestBenchInterceptorCPU(t *testing.T) {
	if os.Getenv("PIPEWATCH_BENCH") != "1" {
		t.Skip("a benchmark: run with `make bench`")
	}
	rounds := envInt("PIPEWATCH_BENCH_ROUNDS", 15)
	activities, batch := envInt("PIPEWATCH_BENCH_ACTIVITIES", 1000), 20
	tc := devserver.Start(t, SearchAttributeNames())
	prefix := fmt.Sprintf("bench-%d", time.Now().UnixNano())

	configs := []benchConfig{
		{"bare", func(*testing.T) ([]interceptor.WorkerInterceptor, func()) { return nil, func() {} }},
		{"pipewatch", func(t *testing.T) ([]interceptor.WorkerInterceptor, func()) {
			logs, err := logging.New(logging.Options{Dir: t.TempDir(), Console: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			m, err := metrics.NewPipeline(prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			var usage metrics.ProcessSampler
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); usage.Run(ctx, 5*time.Second) }()
			// The lineage observer spools run events as in the worker; the
			// writer that drains them to Neo4j is not run (there is no Neo4j
			// here): its cost is lineage's own benchmark.
			spool, err := lineage.OpenSpool(t.TempDir(), lineage.SpoolOptions{})
			if err != nil {
				t.Fatal(err)
			}
			logObs, lineageObs := NewLogObserver(logs.Main), NewLineageObserver(spool, logs.Main, nil)
			ic := New(Options{
				Observers:        []Observer{logObs, NewMetricsObserver(m), lineageObs},
				SearchAttributes: true, Summaries: true, Usage: usage.Load,
			})
			return []interceptor.WorkerInterceptor{ic}, func() {
				cancel()
				<-done
				lineageObs.Close()
				logObs.Close()
				_ = spool.Close()
				_ = logs.Close()
			}
		}},
		{"otel", func(t *testing.T) ([]interceptor.WorkerInterceptor, func()) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
			ti, err := opentelemetry.NewTracingInterceptor(opentelemetry.TracerOptions{Tracer: tp.Tracer("bench")})
			if err != nil {
				t.Fatal(err)
			}
			return []interceptor.WorkerInterceptor{ti}, func() { _ = tp.Shutdown(context.Background()) }
		}},
	}

	if only := os.Getenv("PIPEWATCH_BENCH_ONLY"); only != "" { // for profiling one config
		configs = slices.DeleteFunc(configs, func(c benchConfig) bool { return !strings.Contains(","+only+",", ","+c.name+",") && c.name != "bare" })
	}
	perStep := map[string][]float64{} // CPU ns per activity, per round
	var secondsPerStep float64        // wall time per activity, latest round
	for r := 0; r < rounds; r++ {
		for k := range configs {
			c := configs[(r+k)%len(configs)] // rotate the order every round
			// Goroutines the worker starts inherit the label, so a CPU
			// profile (-cpuprofile) splits by config: -tagfocus config=bare.
			pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("config", c.name)))
			ics, stop := c.setup(t)
			queue := fmt.Sprintf("%s-%s-%d", prefix, c.name, r)
			w := worker.New(tc, queue, worker.Options{Interceptors: ics})
			w.RegisterWorkflowWithOptions(benchPipeline, workflow.RegisterOptions{Name: "bench.pipeline"})
			w.RegisterActivityWithOptions(benchStep, activity.RegisterOptions{Name: "bench.step"})
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			cpu0, t0 := processCPU(), time.Now()
			run, err := tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{TaskQueue: queue}, "bench.pipeline", activities, batch)
			if err == nil {
				err = run.Get(context.Background(), nil)
			}
			cpu, wall := processCPU()-cpu0, time.Since(t0)
			w.Stop()
			stop()
			if err != nil {
				t.Fatal(err)
			}
			perStep[c.name] = append(perStep[c.name], float64(cpu.Nanoseconds())/float64(activities))
			secondsPerStep = wall.Seconds() / float64(activities)
		}
	}

	// Paired ratios, round by round, against the bare SDK.
	ratio := func(name string) []float64 {
		var out []float64
		for i := range perStep[name] {
			out = append(out, perStep[name][i]/perStep["bare"][i])
		}
		return out
	}
	if os.Getenv("PIPEWATCH_BENCH_ONLY") != "" {
		t.Logf("CPU ns per activity by round: %v", perStep)
		return
	}
	hot := testing.Benchmark(BenchmarkInterceptorStep)
	hotNs := float64(hot.NsPerOp())
	sampler := testing.Benchmark(func(b *testing.B) {
		var s metrics.ProcessSampler
		for b.Loop() {
			s.SampleRSS()
		}
	})
	bareMed, _ := medianSpread(perStep["bare"])
	// The background RSS sampler runs every 5s: its cost per step is its
	// cost per second times the seconds a step takes at the measured pace.
	bgPerStep := float64(sampler.NsPerOp()) / 5 * secondsPerStep
	pwMed, pwSpread := medianSpread(ratio("pipewatch"))
	otMed, otSpread := medianSpread(ratio("otel"))

	fmt.Printf("BENCH bare_sdk_cpu_per_step_us %.1f us\n", bareMed/1e3)
	fmt.Printf("BENCH interceptor_cpu_ratio %.3f x\n", pwMed)
	fmt.Printf("BENCH interceptor_cpu_ratio_spread %.3f x\n", pwSpread)
	fmt.Printf("BENCH interceptor_cpu_ratio_derived %.4f x\n", (bareMed+hotNs+bgPerStep)/bareMed)
	fmt.Printf("BENCH otel_cpu_ratio %.3f x\n", otMed)
	fmt.Printf("BENCH otel_cpu_ratio_spread %.3f x\n", otSpread)
	fmt.Printf("BENCH interceptor_cpu_rounds %d rounds\n", rounds)
	t.Logf("CPU ns per activity by round: %v", perStep)
}

// medianSpread returns the median and the interquartile range.
func medianSpread(xs []float64) (median, spread float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	q := func(p float64) float64 { return s[int(p*float64(len(s)-1)+0.5)] }
	return q(0.5), q(0.75) - q(0.25)
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
