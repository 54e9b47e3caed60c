package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestFleetExportsTheLatestScanWhileItsLeaseHolds(t *testing.T) {
	reg := prometheus.NewRegistry()
	f, err := NewFleet(reg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	var done Outcome
	done.Observe(90*time.Second, now.Add(-time.Minute))
	done.Observe(2*time.Hour, now)
	done.Pipeline, done.Status = "churn", "completed"
	f.Publish(&FleetSnapshot{At: now, Lease: 30 * time.Second,
		Open:     map[string]int{"churn": 2},
		Pending:  map[PendingKey]int{{"churn", "fit", "backing_off"}: 1},
		Outcomes: []Outcome{done, {Pipeline: "churn", Status: "terminated", Count: 1, Sum: 3, Buckets: make([]uint64, len(StepBuckets()))}},
	})
	want := `
# HELP pipewatch_pipelines_open Open pipeline runs by pipeline, from Temporal's visibility (fleet-wide, exported by the scanning worker), count.
# TYPE pipewatch_pipelines_open gauge
pipewatch_pipelines_open{pipeline="churn"} 2
# HELP pipewatch_steps_pending Pending steps (activities, and child workflows as started) by pipeline, step and state (scheduled, started, backing_off, paused), from DescribeWorkflowExecution (fleet-wide), count.
# TYPE pipewatch_steps_pending gauge
pipewatch_steps_pending{pipeline="churn",state="backing_off",step="fit"} 1
# HELP pipewatch_workflow_last_success_timestamp_seconds When a run of the pipeline last completed, Unix seconds (fleet-wide).
# TYPE pipewatch_workflow_last_success_timestamp_seconds gauge
pipewatch_workflow_last_success_timestamp_seconds{pipeline="churn"} 1.7961264e+09
# HELP pipewatch_workflow_outcomes_total Pipeline runs closed, by outcome (completed, failed, canceled, terminated, timed_out, continued_as_new), each counted once from Temporal's visibility (fleet-wide), count.
# TYPE pipewatch_workflow_outcomes_total counter
pipewatch_workflow_outcomes_total{pipeline="churn",status="completed"} 2
pipewatch_workflow_outcomes_total{pipeline="churn",status="terminated"} 1
`
	names := []string{"pipewatch_pipelines_open", "pipewatch_steps_pending", "pipewatch_workflow_outcomes_total", "pipewatch_workflow_last_success_timestamp_seconds"}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// The histogram: 90s in the 120s bucket, 2h in the 7200s one.
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != "pipewatch_workflow_duration_seconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		for _, b := range h.GetBucket() {
			if (b.GetUpperBound() == 60 && b.GetCumulativeCount() != 0) || (b.GetUpperBound() == 120 && b.GetCumulativeCount() != 1) ||
				(b.GetUpperBound() == 7200 && b.GetCumulativeCount() != 2) {
				t.Errorf("bucket le=%g holds %d", b.GetUpperBound(), b.GetCumulativeCount())
			}
		}
		if h.GetSampleCount() != 2 || h.GetSampleSum() != 90+7200 {
			t.Errorf("histogram count %d sum %g, want 2 and 7290", h.GetSampleCount(), h.GetSampleSum())
		}
	}

	// The next scan finds nothing open or pending: zeros, not gaps.
	f.Publish(&FleetSnapshot{At: now, Lease: 30 * time.Second, Outcomes: []Outcome{done}})
	for _, name := range []string{"pipewatch_steps_pending", "pipewatch_pipelines_open"} {
		if v, n := sum(t, reg, name); v != 0 || n != 1 {
			t.Errorf("%s after the runs ended: %d series adding to %v, want one 0", name, n, v)
		}
	}
	// Past the lease (the sentinel moved to another worker) this process
	// exports no fleet series at all.
	now = now.Add(31 * time.Second)
	if n, err := testutil.GatherAndCount(reg, names...); err != nil || n != 0 {
		t.Errorf("fleet series past the lease: %d, %v; want none", n, err)
	}
}

// sum adds up the series of one metric.
func sum(t *testing.T, reg *prometheus.Registry, name string) (float64, int) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total, n := 0.0, 0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				total += m.GetGauge().GetValue() + m.GetCounter().GetValue()
				n++
			}
		}
	}
	return total, n
}
