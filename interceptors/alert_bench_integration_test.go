//go:build integration

package interceptors_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/devserver"
)

// TestBenchAlerts measures, on a dev server of its own: the time from an
// activity's final failure to the webhook receiving the alert, and how many
// notifications a storm of 10,000 fires of one key inside one cooldown
// yields, with the process's peak RSS. It prints BENCH lines; it runs only
// under `make bench` (PIPEWATCH_BENCH=1).
func TestBenchAlerts(t *testing.T) {
	if os.Getenv("PIPEWATCH_BENCH") != "1" {
		t.Skip("a benchmark: run with `make bench`")
	}
	tc := devserver.Start(t, alerts.SearchAttributeNames())
	rec := &webhookReceiver{}
	hook := httptest.NewServer(rec)
	defer hook.Close()
	const queue = "alert-bench"
	cooldown := time.Duration(envInt("PIPEWATCH_BENCH_STORM_COOLDOWN_S", 90)) * time.Second
	raiser := &alerts.Raiser{TaskQueue: queue, Policy: alerts.Policy{
		Cooldown: cooldown, Routes: []alerts.Route{{Channels: []string{"webhook"}}}, SearchAttributes: true,
	}}
	ns := &alerts.Notifiers{Channels: map[string]alerts.Notifier{"webhook": alerts.WebhookNotifier{URL: hook.URL}}}
	ic := interceptors.New(interceptors.Options{Observers: []interceptors.Observer{interceptors.NewAlertObserver(raiser, 0, zap.NewNop())}})
	w := worker.New(tc, queue, worker.Options{Interceptors: []interceptor.WorkerInterceptor{ic}})
	var failedAt atomic.Int64 // unix nanos of the latest final failure
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
		return workflow.ExecuteActivity(ctx, "bench.fail").Get(ctx, nil)
	}, workflow.RegisterOptions{Name: "bench.failing"})
	w.RegisterActivityWithOptions(func(context.Context) error {
		failedAt.Store(time.Now().UnixNano())
		return temporal.NewNonRetryableApplicationError("bad input", "DataError", nil)
	}, activity.RegisterOptions{Name: "bench.fail"})
	alerts.Register(w, raiser, ns)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx := context.Background()

	// Latency: each sample is a new alert (the previous one resolved).
	key := alerts.Alert{Type: alerts.StepFailure, Labels: map[string]string{"pipeline": "bench.failing", "step": "bench.fail"}}
	var lat []float64
	for i := range envInt("PIPEWATCH_BENCH_ALERT_SAMPLES", 50) {
		before := len(rec.lines())
		run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-failing-%d", i), TaskQueue: queue}, "bench.failing")
		if err != nil {
			t.Fatal(err)
		}
		_ = run.Get(ctx, nil)
		for deadline := time.Now().Add(30 * time.Second); len(rec.lines()) == before; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("no notification within 30s")
			}
		}
		rec.mu.Lock()
		lat = append(lat, float64(rec.when[len(rec.when)-1].UnixNano()-failedAt.Load())/1e6)
		rec.mu.Unlock()
		if err := tc.SignalWorkflow(ctx, key.WorkflowID(), "", alerts.SignalResolve, alerts.ActionRequest{By: "bench"}); err != nil {
			t.Fatal(err)
		}
		if err := tc.GetWorkflow(ctx, key.WorkflowID(), "").Get(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(lat)
	fmt.Printf("BENCH alert_latency_p50_ms %.1f ms\n", lat[len(lat)/2])
	fmt.Printf("BENCH alert_latency_p99_ms %.1f ms\n", lat[min(len(lat)-1, len(lat)*99/100)])

	// Storm: 25,000 fires of one key inside one cooldown, 32 at a time,
	// past the server's 10,000 signals a run: the alert workflow continues
	// as new as its history fills, mid-cooldown. Fire 20,000 is critical:
	// exactly the first, the escalation and one summary.
	storm := alerts.Alert{Type: alerts.DataDrift, Severity: alerts.Warning, Labels: map[string]string{"feature": "mmse"}, Summary: "PSI over 0.25"}
	escalateAt := int64(envInt("PIPEWATCH_BENCH_STORM_ESCALATE_AT", 20000))
	rec.mu.Lock()
	rec.got, rec.when = nil, nil
	rec.mu.Unlock()
	fires := envInt("PIPEWATCH_BENCH_STORM_FIRES", 25000)
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 32 {
		wg.Go(func() {
			for n := next.Add(1); n <= int64(fires); n = next.Add(1) {
				a := storm
				if n == escalateAt {
					a.Severity, a.Summary = alerts.Critical, "PSI over 0.5"
				}
				if err := alerts.Raise(ctx, tc, queue, raiser.Policy, a); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if took >= cooldown {
		t.Fatalf("the storm took %s, longer than the %s cooldown: raise PIPEWATCH_BENCH_STORM_COOLDOWN_S", took, cooldown)
	}
	var st alerts.State
	if err := tc.GetWorkflow(ctx, storm.WorkflowID(), "").Get(ctx, &st); err != nil {
		t.Fatal(err)
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	got := rec.lines()
	t.Logf("storm: %d fires in %s; notifications %q; final count %d", fires, took.Round(time.Millisecond), got, st.Count)
	if st.Count != fires {
		t.Errorf("the alert counted %d occurrences, want %d", st.Count, fires)
	}
	if want := []string{"data_drift critical escalation", "data_drift critical repeat_summary", "data_drift warning first"}; len(got) != 3 ||
		!strings.HasPrefix(got[0], want[0]) || !strings.HasPrefix(got[1], want[1]) || !strings.HasPrefix(got[2], want[2]) {
		t.Errorf("storm notifications %q, want the first, the escalation and one summary", got)
	}
	fmt.Printf("BENCH alert_storm_notifications %d notifications\n", len(got))
	fmt.Printf("BENCH alert_storm_fires_per_s %.0f fires/s\n", float64(fires)/took.Seconds())
	fmt.Printf("BENCH alert_storm_peak_rss_mb %.0f MB\n", float64(ru.Maxrss)/1024)
}

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(name), &v); err == nil && v > 0 {
		return v
	}
	return def
}
