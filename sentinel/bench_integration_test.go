//go:build integration

package sentinel_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/interceptors"
	"github.com/pipewatch/pipewatch/internal/devserver"
	"github.com/pipewatch/pipewatch/metrics"
	"github.com/pipewatch/pipewatch/sentinel"
)

// TestBenchSentinel measures, on a dev server of its own: the slowest
// alert of every detection (the failure scenarios of the integration test,
// both kinds of worker), and a scan of 1,000 open pipelines at the default
// describe rate and unthrottled.
func TestBenchSentinel(t *testing.T) {
	if os.Getenv("PIPEWATCH_BENCH") != "1" {
		t.Skip("a benchmark: run with `make bench`")
	}
	tc := devserver.Start(t, append(interceptors.SearchAttributeNames(), alerts.SearchAttributeNames()...))

	t.Run("alert latency", func(t *testing.T) {
		var alerting []scenario
		for _, sc := range scenarios() {
			if !strings.HasPrefix(sc.name, "no alert") {
				alerting = append(alerting, sc)
			}
		}
		lat := runScenarios(t, tc, alerting)
		t.Logf("slowest: %s", lat.of)
		fmt.Printf("BENCH sentinel_alert_latency_max_s %.1f s\n", lat.max.Seconds())
	})

	t.Run("scan of 1000 open pipelines", func(t *testing.T) {
		const queue, id, open = "sentinel-bench", "sentinel-bench", 1000
		ctx := context.Background()
		w := worker.New(tc, queue, worker.Options{})
		w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
			workflow.GetSignalChannel(ctx, "done").Receive(ctx, nil)
			return nil
		}, workflow.RegisterOptions{Name: "bench.wait"})
		raiser := &alerts.Raiser{TaskQueue: queue}
		alerts.Register(w, raiser, &alerts.Notifiers{Channels: map[string]alerts.Notifier{"log": alerts.LogNotifier{Log: zap.NewNop()}}})
		fleet, err := metrics.NewFleet(prometheus.NewRegistry())
		if err != nil {
			t.Fatal(err)
		}
		s := &sentinel.Sentinel{Raiser: raiser, Fleet: fleet}
		sentinel.Register(w, s)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		stop, err := s.StartHost(tc, queue)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		var wg sync.WaitGroup
		ids := make(chan int)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range ids {
					if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-wait-%d", i), TaskQueue: queue}, "bench.wait"); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		for i := range open {
			ids <- i
		}
		close(ids)
		wg.Wait()

		cfg := sentinel.Config{Query: "TaskQueue = '" + queue + "'", Interval: time.Second}
		if err := sentinel.Start(ctx, tc, queue, id, cfg); err != nil {
			t.Fatal(err)
		}
		// scansAt runs three scans at a describe rate and returns their
		// median duration and describes per second.
		scansAt := func(rate float64) (time.Duration, float64) {
			c := cfg
			c.DescribeRate = rate
			if err := tc.SignalWorkflow(ctx, id, "", sentinel.SignalConfig, c); err != nil {
				t.Fatal(err)
			}
			var took []time.Duration
			var perSec []float64
			last := int64(-1)
			for deadline := time.Now().Add(5 * time.Minute); len(took) < 4 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				v, err := tc.QueryWorkflow(ctx, id, "", sentinel.QueryStatus)
				if err != nil {
					continue
				}
				var st sentinel.Status
				if v.Get(&st) != nil || st.Scans == last {
					continue
				}
				last = st.Scans
				if st.Config.DescribeRate == rate && st.Last.Open == open && st.Last.Described == open {
					took = append(took, st.Last.Took)
					perSec = append(perSec, float64(st.Last.Described)/st.Last.Took.Seconds())
				}
			}
			if len(took) < 4 {
				t.Fatalf("only %d scans of %d open pipelines at rate %g", len(took), open, rate)
			}
			took, perSec = took[1:], perSec[1:] // the first may have begun before the change
			slices.Sort(took)
			slices.Sort(perSec)
			return took[1], perSec[1]
		}
		unthrottled, rawRate := scansAt(100000)
		throttled, rate := scansAt(sentinel.DefaultDescribeRate)
		within := (time.Minute - sentinel.DefaultInterval).Seconds() * rate
		t.Logf("1000 open: %s a scan at the default rate (%.0f describes/s), %s unthrottled (%.0f/s)", throttled, rate, unthrottled, rawRate)
		fmt.Printf("BENCH sentinel_scan_ms %.0f ms\n", float64(throttled.Milliseconds()))
		fmt.Printf("BENCH sentinel_describe_per_s %.1f calls/s\n", rate)
		fmt.Printf("BENCH sentinel_scan_unthrottled_ms %.0f ms\n", float64(unthrottled.Milliseconds()))
		fmt.Printf("BENCH sentinel_scan_unthrottled_describe_per_s %.0f calls/s\n", rawRate)
		fmt.Printf("BENCH sentinel_scan_ms_ratio %.2f x\n", throttled.Seconds()/unthrottled.Seconds())
		fmt.Printf("BENCH sentinel_open_within_60s %.0f count\n", within)
	})
}
