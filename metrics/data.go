package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Data holds the data-quality metrics of the steps that validate data:
// rows kept and rejected, why rows were rejected, and each quality check's
// result. Reasons and checks are fixed words the validating step defines
// (a closed set); pipeline and step are the workflow and activity types.
type Data struct {
	// Rows counts validated rows by outcome (accepted, rejected).
	Rows *prometheus.CounterVec // pipeline, step, outcome
	// Rejected counts rejected rows by reason: the validation rule that
	// rejected them.
	Rejected *prometheus.CounterVec // pipeline, step, reason
	// Checks counts data-quality checks by result (pass, fail).
	Checks *prometheus.CounterVec // pipeline, check, result
}

// NewData defines the data-quality metrics and registers them on reg.
func NewData(reg prometheus.Registerer) (*Data, error) {
	m := &Data{
		Rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_data_rows_total", Help: "Rows validated, by outcome (accepted, rejected), count.",
		}, []string{"pipeline", "step", "outcome"}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_data_rows_rejected_total", Help: "Rows rejected by validation, by reason (the rule that rejected them), count.",
		}, []string{"pipeline", "step", "reason"}),
		Checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_data_quality_checks_total", Help: "Data-quality checks run on batches, by check and result (pass, fail), count.",
		}, []string{"pipeline", "check", "result"}),
	}
	for _, c := range []prometheus.Collector{m.Rows, m.Rejected, m.Checks} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register data-quality metrics: %w", err)
		}
	}
	return m, nil
}

// Check counts one run of check in pipeline: pass when ok, else fail. The
// other result's series is created at zero, so rates show both.
func (m *Data) Check(pipeline, check string, ok bool) {
	pass, fail := m.Checks.WithLabelValues(pipeline, check, "pass"), m.Checks.WithLabelValues(pipeline, check, "fail")
	if ok {
		pass.Inc()
	} else {
		fail.Inc()
	}
}
