package metrics

import (
	"bytes"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type fakeSpool struct{}

func (fakeSpool) Bytes() int64   { return 2048 }
func (fakeSpool) Pending() int64 { return 1024 }

// TestPromtoolCheckMetrics builds the worker's registry with every
// metric family holding a series, the Temporal SDK's among them, scrapes
// it and holds the exposition to Prometheus' naming rules with promtool
// check metrics: its output must be empty.
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("PIPEWATCH_INTEGRATION") != "" {
			t.Fatal("promtool not found: install Debian's prometheus package (apt-get install prometheus)")
		}
		t.Skip("promtool not found (PIPEWATCH_INTEGRATION makes this a failure)")
	}
	r, err := New(Options{ReportEvery: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	reg := r.Prom
	p, err := NewPipeline(reg)
	if err != nil {
		t.Fatal(err)
	}
	ps := []string{"pipeline", "step"}
	for _, c := range []*prometheus.CounterVec{p.StepAttempts, p.StepRetries, p.StepCPU, p.StepHeapAlloc, p.StepRecords, p.StepHeartbeats} {
		c.WithLabelValues(ps...).Inc()
	}
	for _, g := range []*prometheus.GaugeVec{p.StepRSS, p.StepLastDuration, p.StepLastSuccess} {
		g.WithLabelValues(ps...).Set(1)
	}
	p.StepDuration.WithLabelValues("p", "s", "completed").Observe(1)
	p.StepFailures.WithLabelValues("p", "s", "Timeout").Inc()
	p.LocalActivities.WithLabelValues("p", "s", "completed").Inc()
	p.StepScheduleToClose.WithLabelValues("p", "s", "activity", "completed").Observe(1)
	p.StepOutcomes.WithLabelValues("p", "s", "activity", "completed").Inc()
	p.ChildWorkflows.WithLabelValues("p", "completed").Inc()
	p.Events.WithLabelValues("step_started").Inc()
	p.LabelDropped.WithLabelValues("step").Inc()

	d, err := NewDrift(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []*prometheus.GaugeVec{d.PSI, d.KS, d.KSPValue, d.JS, d.Drifted} {
		g.WithLabelValues("age").Set(0.1)
	}
	d.DriftedShare.Set(0.2)
	d.ModelAUC.WithLabelValues("models/m", "current").Set(0.9)

	a, err := NewAlerts(reg)
	if err != nil {
		t.Fatal(err)
	}
	a.Notifications.WithLabelValues("log", "first", "sent").Inc()
	a.Fires.WithLabelValues("step_failure", "warning").Inc()
	a.Raised.WithLabelValues("step_failure", "warning").Inc()
	a.NotifyDelay.WithLabelValues("step_failure", "warning").Observe(0.3)

	data, err := NewData(reg)
	if err != nil {
		t.Fatal(err)
	}
	data.Rows.WithLabelValues("p", "s", "accepted").Add(3)
	data.Rejected.WithLabelValues("p", "s", "duplicate_id").Inc()
	data.Check("p", "unique_ids", false)

	m, err := NewModel(reg, p)
	if err != nil {
		t.Fatal(err)
	}
	m.SetEvaluation("models/m", "sha256:0123456789ab", map[string]float64{"auc": 0.9})
	m.Promotions.WithLabelValues("models/m", "promoted").Inc()

	host, err := NewHost(reg, []HostPath{{Use: "logs", Path: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	host.minInterval = 0 // the CPU figure from the first scrape on
	l, err := NewLineage(reg, fakeSpool{}, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []prometheus.Counter{l.EventsWritten, l.EventsRefused, l.CorruptRecords, l.RefsInvalid, l.DeadLetters} {
		c.Inc()
	}
	l.WriteDuration.Observe(0.01)
	l.EventsRetrying.Set(0)

	f, err := NewFleet(reg)
	if err != nil {
		t.Fatal(err)
	}
	f.ScanDuration.Observe(0.1)
	f.LastScan.Set(1)
	f.DescribeCalls.Inc()
	f.Detections.WithLabelValues("stuck").Inc()
	var o Outcome
	o.Observe(time.Minute, time.Now())
	o.Pipeline, o.Status = "p", "completed"
	f.Publish(&FleetSnapshot{At: time.Now(), Lease: time.Hour, Open: map[string]int{"p": 1},
		Pending: map[PendingKey]int{{"p", "s", "started"}: 1}, Problems: map[string]int{"stuck": 1}, Outcomes: []Outcome{o},
		AlertsOpen: map[AlertKey]int{{"step_failure", "warning"}: 1}})

	// The SDK's kinds of metrics, as its tally handler reports them.
	h := r.MetricsHandler().WithTags(map[string]string{"namespace": "default", "task_queue": "q"})
	h.Counter("temporal_request").Inc(1)
	h.Counter("temporal_request_failure").Inc(1)
	h.Gauge("temporal_worker_task_slots_available").Update(3)
	h.Timer("temporal_request_latency").Record(20 * time.Millisecond)
	time.Sleep(50 * time.Millisecond) // tally reports every 5ms

	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		"temporal_request_total", "temporal_request_latency_seconds_bucket", "temporal_worker_task_slots_available",
		"pipewatch_host_cpu_usage_ratio", "pipewatch_host_memory_total_bytes", "pipewatch_host_memory_available_bytes",
		"pipewatch_host_disk_total_bytes", "pipewatch_host_disk_free_bytes", "pipewatch_model_evaluation",
		"pipewatch_model_promotions_total", "pipewatch_data_rows_total", "pipewatch_data_rows_rejected_total",
		"pipewatch_data_quality_checks_total", "pipewatch_alert_fires_total", "pipewatch_alerts_raised_total",
		"pipewatch_alerts_open", "pipewatch_alert_notify_delay_seconds_bucket", "pipewatch_workflow_duration_seconds_bucket",
	} {
		if !bytes.Contains(body, []byte("\n"+name+"{")) && !bytes.Contains(body, []byte("\n"+name+" ")) {
			t.Errorf("no %s series in the scrape", name)
		}
	}
	if bytes.Contains(body, []byte("tally_internal")) {
		t.Error("tally's internal cardinality metrics are exported")
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, strings.TrimSpace(string(out)))
	}
}
