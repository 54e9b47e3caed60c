package metrics

import (
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Pipeline holds pipewatch's own metrics of workflows and steps. Every label
// comes from a small closed set: pipeline and step names pass through a
// Guard that caps distinct values; status, type and error_type are fixed
// words. Workflow, run and dataset ids are never labels.
type Pipeline struct {
	// Activity attempts, as the worker running them sees them.
	StepDuration     *prometheus.HistogramVec // pipeline, step, status
	StepAttempts     *prometheus.CounterVec   // pipeline, step
	StepRetries      *prometheus.CounterVec   // pipeline, step
	StepFailures     *prometheus.CounterVec   // pipeline, step, error_type
	StepCPU          *prometheus.CounterVec   // pipeline, step
	StepHeapAlloc    *prometheus.CounterVec   // pipeline, step
	StepRSS          *prometheus.GaugeVec     // pipeline, step
	StepRecords      *prometheus.CounterVec   // pipeline, step
	StepHeartbeats   *prometheus.CounterVec   // pipeline, step
	StepLastDuration *prometheus.GaugeVec     // pipeline, step
	StepLastSuccess  *prometheus.GaugeVec     // pipeline, step
	LocalActivities  *prometheus.CounterVec   // pipeline, step, status
	// Steps as workflow code sees them (any worker, any language).
	StepScheduleToClose *prometheus.HistogramVec // pipeline, step, type, status
	StepOutcomes        *prometheus.CounterVec   // pipeline, step, type, status
	ChildWorkflows      *prometheus.CounterVec   // pipeline, status
	// Workflow runs (open, closed, their outcomes and durations) are fleet
	// figures the sentinel computes from Temporal: see Fleet.
	// pipewatch itself.
	Events       *prometheus.CounterVec // kind
	LabelDropped *prometheus.CounterVec // label
}

// NewPipeline defines the metrics and registers them on reg.
func NewPipeline(reg prometheus.Registerer) (*Pipeline, error) {
	ps := []string{"pipeline", "step"}
	m := &Pipeline{
		StepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pipewatch_step_duration_seconds", Help: "Duration of activity attempts, seconds.", Buckets: StepBuckets(),
		}, []string{"pipeline", "step", "status"}),
		StepAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_step_attempts_total", Help: "Activity attempts started, count.",
		}, ps),
		StepRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_step_retries_total", Help: "Activity attempts after the first, count.",
		}, ps),
		StepFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_step_failures_total", Help: "Failed activity attempts by error type, count.",
		}, []string{"pipeline", "step", "error_type"}),
		StepCPU: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_step_cpu_seconds_total", Help: "Process CPU time during activity attempts, seconds (approximate when attempts overlap).",
		}, ps),
		StepHeapAlloc: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_step_heap_alloc_bytes_total", Help: "Go heap allocated during activity attempts, bytes (approximate when attempts overlap).",
		}, ps),
		StepRSS: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pipewatch_step_rss_bytes", Help: "Worker resident memory at the end of the step's last attempt, bytes (sampled).",
		}, ps),
		StepRecords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_step_records_processed_total", Help: "Records processed, as told by heartbeats, count.",
		}, ps),
		StepHeartbeats: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_step_progress_events_total", Help: "Progress events from heartbeats (throttled), count.",
		}, ps),
		StepLastDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pipewatch_step_last_duration_seconds", Help: "Duration of the step's latest attempt, seconds.",
		}, ps),
		StepLastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pipewatch_step_last_success_timestamp_seconds", Help: "When the step last completed, Unix seconds.",
		}, ps),
		LocalActivities: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_local_activity_attempts_total", Help: "Local activity attempts by outcome, count.",
		}, []string{"pipeline", "step", "status"}),
		StepScheduleToClose: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pipewatch_step_schedule_to_close_seconds", Help: "From scheduling a step to its result, as workflow code sees it, seconds.", Buckets: StepBuckets(),
		}, []string{"pipeline", "step", "type", "status"}),
		StepOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_step_outcomes_total", Help: "Steps settled in workflow code (after retries) by outcome, count.",
		}, []string{"pipeline", "step", "type", "status"}),
		ChildWorkflows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_child_workflows_total", Help: "Child workflows settled, by outcome, count.",
		}, []string{"pipeline", "status"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_events_total", Help: "Step events observed, by kind, count.",
		}, []string{"kind"}),
		LabelDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_label_values_dropped_total", Help: "Label values replaced by \"other\" because the label reached its cap of distinct values, count.",
		}, []string{"label"}),
	}
	for _, c := range []prometheus.Collector{
		m.StepDuration, m.StepAttempts, m.StepRetries, m.StepFailures, m.StepCPU, m.StepHeapAlloc,
		m.StepRSS, m.StepRecords, m.StepHeartbeats, m.StepLastDuration, m.StepLastSuccess, m.LocalActivities,
		m.StepScheduleToClose, m.StepOutcomes, m.ChildWorkflows, m.Events, m.LabelDropped,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register pipeline metrics: %w", err)
		}
	}
	return m, nil
}

// Other replaces a label value past its Guard's cap.
const Other = "other"

// Guard caps the distinct values one label may take. Values seen before
// pass; new values pass until the cap; after that they become Other and
// are counted in pipewatch_label_values_dropped_total.
type Guard struct {
	label   string
	max     int
	dropped prometheus.Counter
	mu      sync.RWMutex
	seen    map[string]struct{}
}

// NewGuard returns a guard for label allowing max distinct values.
func (m *Pipeline) NewGuard(label string, max int) *Guard {
	return &Guard{label: label, max: max, dropped: m.LabelDropped.WithLabelValues(label), seen: make(map[string]struct{}, max)}
}

// Value returns v, or Other when v is new and the cap is reached.
func (g *Guard) Value(v string) string {
	g.mu.RLock()
	_, ok := g.seen[v]
	g.mu.RUnlock()
	if ok {
		return v
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.seen[v]; ok {
		return v
	}
	if len(g.seen) >= g.max {
		g.dropped.Inc()
		return Other
	}
	g.seen[v] = struct{}{}
	return v
}
