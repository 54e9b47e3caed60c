//go:build integration

package alerts

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/internal/devserver"
	"github.com/pipewatch/pipewatch/metrics"
)

// TestAlertMetricsOnAServerIntegration runs an alert on a dev server: a
// first fire and two repeats count three fires, one alert raised and one
// time to notify; replaying the alert's history (what a worker does after
// its cache lost the run) counts nothing again and meets no
// nondeterminism.
func TestAlertMetricsOnAServerIntegration(t *testing.T) {
	tc := devserver.Start(t, SearchAttributeNames())
	reg := prometheus.NewRegistry()
	m, err := metrics.NewAlerts(reg)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recording{}
	const queue = "alert-metrics"
	policy := Policy{Cooldown: time.Minute, Routes: []Route{{Channels: []string{"log"}}}, SearchAttributes: true}
	w := worker.New(tc, queue, worker.Options{})
	Register(w, &Raiser{TaskQueue: queue, Policy: policy}, &Notifiers{Channels: map[string]Notifier{"log": rec}, Metrics: m})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := Alert{Type: DataQuality, Severity: Warning, Labels: map[string]string{"dataset": "cohort/raw"}, Summary: "rows rejected"}
	for i := range 3 {
		a.Occurrence = fmt.Sprint("occurrence-", i)
		if err := Raise(ctx, tc, queue, policy, a); err != nil {
			t.Fatal(err)
		}
	}
	want := `
# HELP pipewatch_alert_fires_total Alert fires accepted by alert workflows (each occurrence once), by type and severity, count.
# TYPE pipewatch_alert_fires_total counter
pipewatch_alert_fires_total{severity="warning",type="data_quality"} 3
# HELP pipewatch_alerts_raised_total Alerts opened (first fires; repeats folded into an open alert are not counted), by type and severity, count.
# TYPE pipewatch_alerts_raised_total counter
pipewatch_alerts_raised_total{severity="warning",type="data_quality"} 1
`
	names := []string{"pipewatch_alert_fires_total", "pipewatch_alerts_raised_total"}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...)
		if err == nil && testutil.CollectAndCount(m.NotifyDelay) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("alert metrics after 20s: %v; %d notify delay series", err, testutil.CollectAndCount(m.NotifyDelay))
		}
	}
	h := histogram(t, reg, "pipewatch_alert_notify_delay_seconds")
	if h.count != 1 || h.sum <= 0 || h.sum > 10 {
		t.Errorf("notify delay: %d observations adding to %gs, want one within 10s", h.count, h.sum)
	}

	// Replay: a worker without the run in its cache rebuilds it from the
	// history, counting nothing.
	id := a.WorkflowID()
	if err := tc.TerminateWorkflow(ctx, id, "", "test over"); err != nil {
		t.Fatal(err)
	}
	var hist historypb.History
	it := tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, e)
	}
	replayReg := prometheus.NewRegistry()
	rm, err := metrics.NewAlerts(replayReg)
	if err != nil {
		t.Fatal(err)
	}
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(WorkflowWithMetrics(rm), workflow.RegisterOptions{Name: WorkflowName})
	if err := replayer.ReplayWorkflowHistory(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), &hist); err != nil {
		t.Fatalf("replay of %d events: %v", len(hist.Events), err)
	}
	if n := testutil.CollectAndCount(rm.Fires) + testutil.CollectAndCount(rm.Raised) + testutil.CollectAndCount(rm.NotifyDelay) + testutil.CollectAndCount(rm.Undelivered); n != 0 {
		t.Errorf("the replay of %d events counted %d series, want none", len(hist.Events), n)
	}
}

type histo struct {
	count uint64
	sum   float64
}

// histogram reads the one series of a histogram.
func histogram(t *testing.T, reg *prometheus.Registry, name string) histo {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			h := mf.GetMetric()[0].GetHistogram()
			return histo{h.GetSampleCount(), h.GetSampleSum()}
		}
	}
	t.Fatalf("no single %s series", name)
	return histo{}
}
