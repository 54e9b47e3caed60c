//lint:file-ignore SA1019 dashboard (schema v1) is the JSON that Grafana 9-11's file provisioning and POST /api/dashboards/db take; the dashboardv2 the SDK prefers is Grafana 12's dashboard.grafana.app/v2beta1 resource.

package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// drift is the Data Drift dashboard: the drift monitor's tests per feature
// on the latest batch, and the model's AUC on new batches. Thresholds are
// the monitor's (activities/drift.go).
func drift(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	return b.Description("pipewatch: data drift of the latest batch against the training reference (PSI, KS, JS per feature) and the model's AUC on new batches.").
		WithVariable(modelVariable()).
		WithRow(row("Drift per feature (latest batch)")).
		WithPanel(graph("PSI by feature", "Population stability index: 0.1 moderate, 0.25 significant.", "none",
			thresholds("green", step{0.1, "yellow"}, step{0.25, "red"}),
			q(`max by (feature) (pipewatch_drift_psi)`, "{{feature}}"))).
		WithPanel(graph("KS statistic by feature", "Two-sample Kolmogorov-Smirnov statistic.", "none", neutral(),
			q(`max by (feature) (pipewatch_drift_ks_statistic)`, "{{feature}}"))).
		WithPanel(graph("KS p-value by feature", "Below 0.05 (before the Bonferroni correction) the distributions differ.", "none",
			thresholds("red", step{0.05, "green"}),
			q(`min by (feature) (pipewatch_drift_ks_pvalue)`, "{{feature}}"))).
		WithPanel(graph("JS distance by feature", "Jensen-Shannon distance (base 2): 0.1 or more counts as drift.", "none",
			thresholds("green", step{0.1, "red"}),
			q(`max by (feature) (pipewatch_drift_js_distance)`, "{{feature}}"))).
		WithPanel(bars("Drifted features", "Features where two of PSI, KS and JS agree on drift (1 = drifted).", unitBool,
			thresholds("green", step{1, "red"}),
			q(`max by (feature) (pipewatch_drift_feature_drifted)`, "{{feature}}"))).
		WithPanel(single("Drifted share", "Share of features that drifted; above 0.3 the monitor raises data_drift.", unitRatio,
			thresholds("green", step{0.3, "red"}),
			q(`max(pipewatch_drift_drifted_share)`, "drifted share"))).
		WithPanel(single("Drift checks, last 24h", "Batches the drift monitor checked.", unitCount, neutral(),
			q(`sum(increase(pipewatch_step_attempts_total{step=~".*Drift.*"}[24h]))`, "checks"))).
		WithRow(row("Model on new batches")).
		WithPanel(graph("Model AUC: at registration and on the latest batch", "data=registered: at registration; data=current: on the latest labelled batch.", unitRatio,
			thresholds("red", step{0.7, "yellow"}, step{0.8, "green"}),
			q(`max by (model, data) (pipewatch_model_auc{`+byModel+`})`, "{{model}} {{data}}"))).
		WithPanel(single("AUC drop on the latest batch", "Registered AUC minus AUC on the latest batch; above 0.05 the monitor raises model_degradation.", unitRatio,
			thresholds("green", step{0.05, "red"}),
			q(`max by (model) (pipewatch_model_auc{`+byModel+`, data="registered"}) - max by (model) (pipewatch_model_auc{`+byModel+`, data="current"})`, "{{model}}")))
}
