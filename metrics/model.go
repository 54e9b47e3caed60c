package metrics

import (
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Model holds the metrics of model evaluation and promotion.
type Model struct {
	// Promotions counts registry decisions by model and decision
	// (promoted, rejected).
	Promotions *prometheus.CounterVec

	evaluation *prometheus.GaugeVec // model, version, metric
	mu         sync.Mutex
	versions   map[string][]string // per model, oldest first
	keep       int
	models     *Guard
}

// ModelVersionsKept is how many versions of a model keep their evaluation
// series: setting a sixth deletes the oldest.
const ModelVersionsKept = 5

// maxModels caps the model label values of the evaluation gauges.
const maxModels = 50

// NewModel defines the model metrics and registers them on reg; p, if not
// nil, counts the model names past the cap in
// pipewatch_label_values_dropped_total.
func NewModel(reg prometheus.Registerer, p *Pipeline) (*Model, error) {
	m := &Model{
		Promotions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_model_promotions_total", Help: "Model versions registered, by model and decision (promoted, rejected), count.",
		}, []string{"model", "decision"}),
		evaluation: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pipewatch_model_evaluation",
			Help: "Model quality on the held-out split when the pipeline evaluated it, by model, version (the artifact's short digest; the latest 5 versions per model) and metric (auc, accuracy, precision, recall, brier), ratio.",
		}, []string{"model", "version", "metric"}),
		versions: map[string][]string{}, keep: ModelVersionsKept,
	}
	if p != nil {
		m.models = p.NewGuard("model", maxModels)
	} else { // the values past the cap are not counted
		m.models = &Guard{label: "model", max: maxModels, seen: map[string]struct{}{},
			dropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "pipewatch_label_values_dropped_total"})}
	}
	for _, c := range []prometheus.Collector{m.Promotions, m.evaluation} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register model metrics: %w", err)
		}
	}
	return m, nil
}

// SetEvaluation sets the evaluation gauges of one model version, one series
// per metric name in values. Versions of a model past the latest
// ModelVersionsKept lose their series.
func (m *Model) SetEvaluation(model, version string, values map[string]float64) {
	model = m.models.Value(model)
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.versions[model]
	if i := slices.Index(vs, version); i >= 0 {
		vs = slices.Delete(vs, i, i+1) // evaluated again: now the latest
	}
	vs = append(vs, version)
	for len(vs) > m.keep {
		m.evaluation.DeletePartialMatch(prometheus.Labels{"model": model, "version": vs[0]})
		vs = vs[1:]
	}
	m.versions[model] = slices.Clip(vs)
	for name, v := range values {
		m.evaluation.WithLabelValues(model, version, name).Set(v)
	}
}
