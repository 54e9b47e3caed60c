package metrics

import (
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
)

// Fleet holds the figures the sentinel computes from Temporal's own
// records (visibility, describe, histories) rather than from what one
// worker saw: open pipelines, pending steps, and every pipeline run's
// outcome, however it ended and whoever's worker ran it. The outcome
// totals are durable (they live in the sentinel workflow's state), so they
// survive worker restarts and move with the sentinel.
//
// Only the worker that ran the latest scan exports the fleet series, and
// only while that scan is recent (Snapshot.Lease): sum or max them across
// workers and get the fleet's figures once, not once per worker. The
// sentinel's own counters (scans, describe calls, detections) are
// per-process as usual.
type Fleet struct {
	// Scans counts this process's sentinel scans by result (ok, error).
	Scans *prometheus.CounterVec
	// ScanDuration times this process's scans.
	ScanDuration prometheus.Histogram
	// LastScan is when this process last finished a scan, Unix seconds.
	LastScan prometheus.Gauge
	// DescribeCalls counts this process's DescribeWorkflowExecution calls.
	DescribeCalls prometheus.Counter
	// Detections counts problems found, by problem (retrying,
	// not_started, stuck, terminated, timed_out, failed), when first found.
	Detections *prometheus.CounterVec

	mu   sync.Mutex
	snap *FleetSnapshot
	now  func() time.Time
	// seenOpen and seenPending are the series this process exported: once
	// gone they show 0, so a dashboard draws zero rather than a gap.
	seenOpen    map[string]bool
	seenPending map[PendingKey]bool

	open, pending, problems, lastSuccess, outcomes, duration, alertsOpen *prometheus.Desc
}

// FleetSnapshot is one scan's view of the fleet.
type FleetSnapshot struct {
	// At is when the scan finished; Lease how long its figures stand
	// (a few scan intervals): past it this process exports none.
	At    time.Time
	Lease time.Duration
	// Open counts open pipeline runs by pipeline.
	Open map[string]int
	// Pending counts pending activities by pipeline, step and state
	// (scheduled, started, backing_off, paused).
	Pending map[PendingKey]int
	// Problems counts the problems open now, by problem.
	Problems map[string]int
	// Outcomes are the durable totals of closed runs.
	Outcomes []Outcome
	// AlertsOpen counts the open alert workflows by type and severity.
	AlertsOpen map[AlertKey]int
}

// AlertKey labels an open-alerts figure.
type AlertKey struct{ Type, Severity string }

// PendingKey labels a pending-steps figure.
type PendingKey struct{ Pipeline, Step, State string }

// Outcome is the running total of one pipeline's runs that ended one way.
type Outcome struct {
	Pipeline string `json:"pipeline"`
	// Status is completed, failed, canceled, terminated, timed_out or
	// continued_as_new.
	Status string `json:"status"`
	Count  uint64 `json:"count"`
	// Sum is the runs' total duration, seconds; Buckets the cumulative
	// counts at each of StepBuckets.
	Sum     float64  `json:"sum"`
	Buckets []uint64 `json:"buckets"`
	// LastAt is the latest close time, Unix seconds.
	LastAt float64 `json:"lastAt"`
}

// Observe adds one run that took d and closed at closed.
func (o *Outcome) Observe(d time.Duration, closed time.Time) {
	bounds := StepBuckets()
	if len(o.Buckets) != len(bounds) {
		o.Buckets = make([]uint64, len(bounds))
	}
	sec := d.Seconds()
	o.Count++
	o.Sum += sec
	for i, b := range bounds {
		if sec <= b {
			o.Buckets[i]++
		}
	}
	if t := float64(closed.UnixMilli()) / 1000; t > o.LastAt {
		o.LastAt = t
	}
}

// NewFleet defines the fleet metrics and registers them on reg.
func NewFleet(reg prometheus.Registerer) (*Fleet, error) {
	f := &Fleet{
		Scans: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_sentinel_scans_total", Help: "Sentinel scans this process ran, by result (ok, error), count.",
		}, []string{"result"}),
		ScanDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "pipewatch_sentinel_scan_duration_seconds", Help: "Duration of this process's sentinel scans, seconds.", Buckets: StepBuckets(),
		}),
		LastScan: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pipewatch_sentinel_last_scan_timestamp_seconds", Help: "When this process last finished a sentinel scan, Unix seconds.",
		}),
		DescribeCalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pipewatch_sentinel_describe_calls_total", Help: "DescribeWorkflowExecution calls of this process's sentinel scans, count.",
		}),
		Detections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_sentinel_detections_total", Help: "Problems the sentinel found, by problem, when first found, count.",
		}, []string{"problem"}),
		now: time.Now, seenOpen: map[string]bool{}, seenPending: map[PendingKey]bool{},
		open: prometheus.NewDesc("pipewatch_pipelines_open",
			"Open pipeline runs by pipeline, from Temporal's visibility (fleet-wide, exported by the scanning worker), count.", []string{"pipeline"}, nil),
		pending: prometheus.NewDesc("pipewatch_steps_pending",
			"Pending steps (activities, and child workflows as started) by pipeline, step and state (scheduled, started, backing_off, paused), from DescribeWorkflowExecution (fleet-wide), count.",
			[]string{"pipeline", "step", "state"}, nil),
		problems: prometheus.NewDesc("pipewatch_sentinel_problems",
			"Problems open now by problem (retrying, not_started, stuck), fleet-wide, count.", []string{"problem"}, nil),
		outcomes: prometheus.NewDesc("pipewatch_workflow_outcomes_total",
			"Pipeline runs closed, by outcome (completed, failed, canceled, terminated, timed_out, continued_as_new), each counted once from Temporal's visibility (fleet-wide), count.",
			[]string{"pipeline", "status"}, nil),
		duration: prometheus.NewDesc("pipewatch_workflow_duration_seconds",
			"Duration of closed pipeline runs, start to close as Temporal recorded them (fleet-wide), seconds.", []string{"pipeline", "status"}, nil),
		alertsOpen: prometheus.NewDesc("pipewatch_alerts_open",
			"Alert workflows open now, by type and severity, from Temporal's visibility (fleet-wide, exported by the scanning worker), count.",
			[]string{"type", "severity"}, nil),
		lastSuccess: prometheus.NewDesc("pipewatch_workflow_last_success_timestamp_seconds",
			"When a run of the pipeline last completed, Unix seconds (fleet-wide).", []string{"pipeline"}, nil),
	}
	for _, c := range []prometheus.Collector{f.Scans, f.ScanDuration, f.LastScan, f.DescribeCalls, f.Detections, fleetCollector{f}} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register fleet metrics: %w", err)
		}
	}
	for _, r := range []string{"ok", "error"} {
		f.Scans.WithLabelValues(r)
	}
	return f, nil
}

// maxSeen bounds the series remembered to show 0.
const maxSeen = 10000

// Publish makes s the figures this process exports until its lease ends.
// Open and pending series this process exported before, and the open
// series of every pipeline with outcomes, show 0 when absent from s.
func (f *Fleet) Publish(s *FleetSnapshot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s.Open == nil {
		s.Open = map[string]int{}
	}
	if s.Pending == nil {
		s.Pending = map[PendingKey]int{}
	}
	for _, o := range s.Outcomes {
		f.seenOpen[o.Pipeline] = true
	}
	for p := range f.seenOpen {
		if _, ok := s.Open[p]; !ok {
			s.Open[p] = 0
		}
	}
	for k := range f.seenPending {
		if _, ok := s.Pending[k]; !ok {
			s.Pending[k] = 0
		}
	}
	for p := range s.Open {
		if len(f.seenOpen) < maxSeen {
			f.seenOpen[p] = true
		}
	}
	for k := range s.Pending {
		if len(f.seenPending) < maxSeen {
			f.seenPending[k] = true
		}
	}
	f.snap = s
}

// current returns the snapshot to export, or nil when none is recent.
func (f *Fleet) current() *FleetSnapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snap == nil || f.now().Sub(f.snap.At) > f.snap.Lease {
		return nil
	}
	return f.snap
}

// fleetCollector exports the latest snapshot; it is unchecked (no
// Describe output), since which series exist depends on the snapshot.
type fleetCollector struct{ f *Fleet }

func (fleetCollector) Describe(chan<- *prometheus.Desc) {}

func (c fleetCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.f.current()
	if s == nil {
		return
	}
	send := func(m prometheus.Metric, err error) {
		if err == nil { // the label counts are fixed above: never an error
			ch <- m
		}
	}
	for p, n := range s.Open {
		send(prometheus.NewConstMetric(c.f.open, prometheus.GaugeValue, float64(n), p))
	}
	for k, n := range s.Pending {
		send(prometheus.NewConstMetric(c.f.pending, prometheus.GaugeValue, float64(n), k.Pipeline, k.Step, k.State))
	}
	for p, n := range s.Problems {
		send(prometheus.NewConstMetric(c.f.problems, prometheus.GaugeValue, float64(n), p))
	}
	for k, n := range s.AlertsOpen {
		send(prometheus.NewConstMetric(c.f.alertsOpen, prometheus.GaugeValue, float64(n), k.Type, k.Severity))
	}
	bounds := StepBuckets()
	last := map[string]float64{}
	for _, o := range s.Outcomes {
		send(prometheus.NewConstMetric(c.f.outcomes, prometheus.CounterValue, float64(o.Count), o.Pipeline, o.Status))
		buckets := make(map[float64]uint64, len(bounds))
		for i, b := range bounds {
			if i < len(o.Buckets) {
				buckets[b] = o.Buckets[i]
			}
		}
		send(prometheus.NewConstHistogram(c.f.duration, o.Count, o.Sum, buckets, o.Pipeline, o.Status))
		if o.Status == "completed" && o.LastAt > last[o.Pipeline] {
			last[o.Pipeline] = o.LastAt
		}
	}
	for p, t := range last {
		send(prometheus.NewConstMetric(c.f.lastSuccess, prometheus.GaugeValue, t, p))
	}
}

// OutcomeStatus is the status label of a run that closed with s: completed,
// failed, canceled, terminated, timed_out, continued_as_new; "" while it
// runs (or for an unknown status).
func OutcomeStatus(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "completed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "failed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "canceled"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "terminated"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "timed_out"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "continued_as_new"
	}
	return ""
}
