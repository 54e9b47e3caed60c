package interceptors

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/metrics"
)

// MetricsObserver counts and times events into metrics.Pipeline.
type MetricsObserver struct {
	BaseObserver
	m                            *metrics.Pipeline
	pipelines, steps, errorTypes *metrics.Guard

	events [StepCanceled + 1]prometheus.Counter // by Kind

	mu     sync.RWMutex
	byStep map[stepKey]*stepSeries
}

// MaxLabelValues caps the distinct pipeline and step label values;
// MaxErrorTypes the error_type values (application error types are chosen
// by pipeline code, so they are capped too).
const (
	MaxLabelValues = 200
	MaxErrorTypes  = 50
)

type stepKey struct{ pipeline, step string }

// stepSeries caches the series of one (pipeline, step), so an event costs
// no label hashing.
type stepSeries struct {
	attempts, retries, cpu, heap, records, heartbeats prometheus.Counter
	rss, lastDuration, lastSuccess                    prometheus.Gauge
	completed, failed                                 prometheus.Observer
}

// NewMetricsObserver returns an observer feeding m.
func NewMetricsObserver(m *metrics.Pipeline) *MetricsObserver {
	o := &MetricsObserver{
		m:          m,
		pipelines:  m.NewGuard("pipeline", MaxLabelValues),
		steps:      m.NewGuard("step", MaxLabelValues),
		errorTypes: m.NewGuard("error_type", MaxErrorTypes),
		byStep:     make(map[stepKey]*stepSeries),
	}
	for k := WorkflowStarted; k <= StepCanceled; k++ {
		o.events[k] = m.Events.WithLabelValues(k.String())
	}
	return o
}

func (o *MetricsObserver) countEvent(k Kind) {
	if int(k) < len(o.events) && o.events[k] != nil {
		o.events[k].Inc()
	}
}

func (o *MetricsObserver) series(pipeline, step string) *stepSeries {
	// Keyed by the guarded label values, so the cache is bounded as the
	// labels are (keyed by raw names it grew with every new name).
	p, st := o.pipelines.Value(pipeline), o.steps.Value(step)
	k := stepKey{p, st}
	o.mu.RLock()
	s := o.byStep[k]
	o.mu.RUnlock()
	if s != nil {
		return s
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if s = o.byStep[k]; s != nil {
		return s
	}
	m := o.m
	s = &stepSeries{
		attempts: m.StepAttempts.WithLabelValues(p, st), retries: m.StepRetries.WithLabelValues(p, st),
		cpu: m.StepCPU.WithLabelValues(p, st), heap: m.StepHeapAlloc.WithLabelValues(p, st),
		records: m.StepRecords.WithLabelValues(p, st), heartbeats: m.StepHeartbeats.WithLabelValues(p, st),
		rss:          m.StepRSS.WithLabelValues(p, st),
		lastDuration: m.StepLastDuration.WithLabelValues(p, st), lastSuccess: m.StepLastSuccess.WithLabelValues(p, st),
		completed: m.StepDuration.WithLabelValues(p, st, "completed"), failed: m.StepDuration.WithLabelValues(p, st, "failed"),
	}
	o.byStep[k] = s
	return s
}

// ObserveActivity counts attempts, times them and records their resources.
func (o *MetricsObserver) ObserveActivity(_ context.Context, e *Event) {
	o.countEvent(e.Kind)
	s := o.series(e.Pipeline, e.Step)
	switch e.Kind {
	case ActivityStarted, ActivityRetried:
		s.attempts.Inc()
		if e.Kind == ActivityRetried {
			s.retries.Inc()
		}
	case ActivityProgress:
		s.heartbeats.Inc()
		s.records.Add(float64(e.Records))
	case ActivityCompleted, ActivityFailed:
		sec := e.Duration.Seconds()
		s.lastDuration.Set(sec)
		s.cpu.Add(e.Resources.CPU.Seconds())
		s.heap.Add(float64(e.Resources.HeapAlloc))
		s.rss.Set(float64(e.Resources.RSS))
		s.records.Add(float64(e.Records))
		if e.Kind == ActivityCompleted {
			s.completed.Observe(sec)
			s.lastSuccess.Set(float64(e.Time.Unix()))
		} else {
			s.failed.Observe(sec)
			o.m.StepFailures.WithLabelValues(o.pipelines.Value(e.Pipeline), o.steps.Value(e.Step), o.errorTypes.Value(e.ErrType)).Inc()
		}
		if e.StepType == StepLocalActivity {
			o.m.LocalActivities.WithLabelValues(o.pipelines.Value(e.Pipeline), o.steps.Value(e.Step), e.Kind.Status()).Inc()
		}
	}
}

// ObserveWorkflow counts steps as workflow code sees them. Runs, their
// outcomes and what is open are counted by the sentinel from Temporal's
// own records (metrics.Fleet): counted here, they would miss runs that end
// outside workflow code (terminated, timed out) and drift with more than
// one worker.
func (o *MetricsObserver) ObserveWorkflow(_ workflow.Context, e *Event) {
	o.countEvent(e.Kind)
	p := o.pipelines.Value(e.Pipeline)
	switch e.Kind {
	case StepCompleted, StepFailed, StepCanceled:
		st, typ, status := o.steps.Value(e.Step), e.StepType.String(), e.Kind.Status()
		o.m.StepScheduleToClose.WithLabelValues(p, st, typ, status).Observe(e.Duration.Seconds())
		o.m.StepOutcomes.WithLabelValues(p, st, typ, status).Inc()
		if e.StepType == StepChildWorkflow {
			o.m.ChildWorkflows.WithLabelValues(p, status).Inc()
		}
	}
}
