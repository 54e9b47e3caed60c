package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Drift holds the drift monitor's gauges: per feature (a closed set, the
// model's input columns) and per model.
type Drift struct {
	PSI          *prometheus.GaugeVec // feature
	KS           *prometheus.GaugeVec // feature
	KSPValue     *prometheus.GaugeVec // feature
	JS           *prometheus.GaugeVec // feature
	Drifted      *prometheus.GaugeVec // feature: 1 drifted, 0 not
	DriftedShare prometheus.Gauge
	ModelAUC     *prometheus.GaugeVec // model, data: registered or current
}

// NewDrift defines the drift gauges and registers them on reg.
func NewDrift(reg prometheus.Registerer) (*Drift, error) {
	f := []string{"feature"}
	m := &Drift{
		PSI: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pipewatch_drift_psi", Help: "Population stability index of the latest batch against the training reference, by feature.",
		}, f),
		KS: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pipewatch_drift_ks_statistic", Help: "Two-sample Kolmogorov-Smirnov statistic of the latest batch, by feature.",
		}, f),
		KSPValue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pipewatch_drift_ks_pvalue", Help: "Kolmogorov-Smirnov p-value of the latest batch, by feature.",
		}, f),
		JS: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pipewatch_drift_js_distance", Help: "Jensen-Shannon distance (base 2) of the latest batch, by feature.",
		}, f),
		Drifted: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pipewatch_drift_feature_drifted", Help: "1 when the feature drifted in the latest batch (two of PSI, KS, JS agree), else 0.",
		}, f),
		DriftedShare: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pipewatch_drift_drifted_share", Help: "Share of features that drifted in the latest batch, ratio.",
		}),
		ModelAUC: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "pipewatch_model_auc", Help: "ROC AUC of the promoted model: at registration (data=registered) and on the latest labelled batch (data=current).",
		}, []string{"model", "data"}),
	}
	for _, c := range []prometheus.Collector{m.PSI, m.KS, m.KSPValue, m.JS, m.Drifted, m.DriftedShare, m.ModelAUC} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register drift metrics: %w", err)
		}
	}
	return m, nil
}
