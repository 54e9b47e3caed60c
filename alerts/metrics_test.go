package alerts

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/metrics"
)

// metricsEnv is a test workflow environment and the alert metrics, on a
// registry of their own.
func metricsEnv(t *testing.T) (*prometheus.Registry, *metrics.Alerts, *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := metrics.NewAlerts(reg)
	if err != nil {
		t.Fatal(err)
	}
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	return reg, m, s.NewTestWorkflowEnvironment()
}

// TestAlertWorkflowMetrics: one alert, fired five times (three repeats,
// one escalation) and once more with an occurrence already counted, its
// first notification sent to two channels after a retry.
func TestAlertWorkflowMetrics(t *testing.T) {
	reg, m, env := metricsEnv(t)
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	env.RegisterWorkflowWithOptions(WorkflowWithMetrics(m), workflow.RegisterOptions{Name: WorkflowName})
	rec := &recording{failFirst: 1}
	ns := &Notifiers{Channels: map[string]Notifier{"log": rec, "webhook": rec}, Metrics: m}
	env.RegisterActivityWithOptions(ns.Notify, activity.RegisterOptions{Name: NotifyActivityName})
	env.RegisterActivityWithOptions(ns.AuditAction, activity.RegisterOptions{Name: AuditActivityName})
	env.RegisterDelayedCallback(func() {
		fire(Warning, 3)(env)
		again := alertAt(Warning)
		again.Occurrence = "first" // counted already: not a fire
		env.SignalWorkflow(SignalFire, again)
	}, time.Minute)
	env.RegisterDelayedCallback(func() { fire(Critical, 1)(env) }, 2*time.Minute)

	first := alertAt(Warning)
	first.Occurrence = "first"
	first.At = start.Add(-2500 * time.Millisecond) // fired 2.5s before the workflow started
	policy := Policy{
		Routes:   []Route{{Channels: []string{"log", "webhook"}}},
		Channels: map[string]ChannelPolicy{"log": {InitialInterval: 2 * time.Second}, "webhook": {InitialInterval: 2 * time.Second}},
	}
	env.ExecuteWorkflow(WorkflowName, Input{Alert: first, Policy: policy})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	want := `
# HELP pipewatch_alert_fires_total Alert fires accepted by alert workflows (each occurrence once), by type and severity, count.
# TYPE pipewatch_alert_fires_total counter
pipewatch_alert_fires_total{severity="critical",type="step_failure"} 1
pipewatch_alert_fires_total{severity="warning",type="step_failure"} 4
# HELP pipewatch_alerts_raised_total Alerts opened (first fires; repeats folded into an open alert are not counted), by type and severity, count.
# TYPE pipewatch_alerts_raised_total counter
pipewatch_alerts_raised_total{severity="warning",type="step_failure"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "pipewatch_alert_fires_total", "pipewatch_alerts_raised_total"); err != nil {
		t.Error(err)
	}
	// Observed once, for both channels: 2.5s before the start, plus the
	// 2s the first notifications waited to be retried.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, mf := range mfs {
		if mf.GetName() != "pipewatch_alert_notify_delay_seconds" {
			continue
		}
		found = true
		ms := mf.GetMetric()
		if len(ms) != 1 {
			t.Fatalf("%d notify delay series, want 1", len(ms))
		}
		labels := map[string]string{}
		for _, l := range ms[0].GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		h := ms[0].GetHistogram()
		if labels["type"] != "step_failure" || labels["severity"] != "warning" || h.GetSampleCount() != 1 || h.GetSampleSum() != 4.5 {
			t.Errorf("notify delay %v: %d observations adding to %gs, want step_failure warning, one of 4.5s", labels, h.GetSampleCount(), h.GetSampleSum())
		}
	}
	if !found {
		t.Error("no pipewatch_alert_notify_delay_seconds series")
	}
}

// A notification whose every attempt fails is counted once as undelivered,
// by channel, kind and severity, and recorded in the alert's history; the
// channel that works counts nothing undelivered.
func TestUndeliveredNotificationsCounted(t *testing.T) {
	reg, m, env := metricsEnv(t)
	env.RegisterWorkflowWithOptions(WorkflowWithMetrics(m), workflow.RegisterOptions{Name: WorkflowName})
	down := &recording{failFirst: 1000}
	ns := &Notifiers{Channels: map[string]Notifier{"log": &recording{}, "webhook": down}, Metrics: m}
	env.RegisterActivityWithOptions(ns.Notify, activity.RegisterOptions{Name: NotifyActivityName})
	env.RegisterActivityWithOptions(ns.AuditAction, activity.RegisterOptions{Name: AuditActivityName})
	policy := Policy{
		Routes: []Route{{Channels: []string{"log", "webhook"}}},
		Channels: map[string]ChannelPolicy{
			"log": {MaxAttempts: 3, InitialInterval: time.Second}, "webhook": {MaxAttempts: 3, InitialInterval: time.Second},
		},
	}
	env.ExecuteWorkflow(WorkflowName, Input{Alert: alertAt(Critical), Policy: policy})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("workflow completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var st State
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, e := range st.History {
		if e.Event == "notify_failed" {
			failed = append(failed, e.Channel+" "+e.Detail)
		}
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "webhook first #1: ") {
		t.Errorf("notify_failed records %q, want one for webhook's first", failed)
	}
	want := `
# HELP pipewatch_alert_notifications_undelivered_total Alert notifications given up after every attempt of their channel's retry policy failed, by channel, kind and severity, count.
# TYPE pipewatch_alert_notifications_undelivered_total counter
pipewatch_alert_notifications_undelivered_total{channel="webhook",kind="first",severity="critical"} 1
# HELP pipewatch_alert_notifications_total Alert notification attempts by channel, kind and status (sent, failed), count.
# TYPE pipewatch_alert_notifications_total counter
pipewatch_alert_notifications_total{channel="log",kind="first",status="sent"} 1
pipewatch_alert_notifications_total{channel="webhook",kind="first",status="failed"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "pipewatch_alert_notifications_undelivered_total", "pipewatch_alert_notifications_total"); err != nil {
		t.Error(err)
	}
}
