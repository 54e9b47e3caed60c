//lint:file-ignore SA1019 dashboard (schema v1) is the JSON that Grafana 9-11's file provisioning and POST /api/dashboards/db take; the dashboardv2 the SDK prefers is Grafana 12's dashboard.grafana.app/v2beta1 resource.

package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// trainSteps narrows step matchers to the training steps.
const trainSteps = `step=~".*(Features|Train|Evaluate|Register).*"`

// training is the Training dashboard: step durations and attempts, model
// metrics by version, promotion decisions.
func training(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	return b.Description("pipewatch: training steps, model metrics by version (AUC, accuracy, precision, recall, Brier) and promotion decisions.").
		WithVariable(pipelineVariable()).
		WithVariable(stepVariable()).
		WithVariable(modelVariable()).
		WithRow(row("Training steps")).
		WithPanel(graph("Training step duration p95", "95th percentile of the feature, training, evaluation and registration steps' attempts.", unitSeconds, neutral(),
			q(`histogram_quantile(0.95, sum by (le, step) (rate(pipewatch_step_duration_seconds_bucket{`+byStep+`, `+trainSteps+`}[15m])))`, "{{step}}"))).
		WithPanel(bars("Training steps, latest attempt", "Duration of each training step's latest attempt.", unitSeconds, neutral(),
			q(`max by (step) (pipewatch_step_last_duration_seconds{`+byStep+`, `+trainSteps+`})`, "{{step}}"))).
		WithPanel(graph("Attempts per hour", "Attempts of the training steps.", unitCount, neutral(),
			q(`sum by (step) (increase(pipewatch_step_attempts_total{`+byStep+`, `+trainSteps+`}[1h]))`, "{{step}}"))).
		WithPanel(graph("Retries per hour", "Attempts after the first: a step that keeps retrying needs a look.", unitCount,
			thresholds("green", step{1, "yellow"}, step{3, "red"}),
			q(`sum by (step) (increase(pipewatch_step_retries_total{`+byStep+`, `+trainSteps+`}[1h]))`, "{{step}}"))).
		WithRow(row("Model metrics by version")).
		WithPanel(graph("AUC by version", "ROC AUC of each evaluated model version on its hold-out set.", unitRatio,
			thresholds("red", step{0.7, "yellow"}, step{0.8, "green"}),
			q(`max by (model, version) (pipewatch_model_evaluation{`+byModel+`, metric="auc"})`, "{{model}} {{version}}"))).
		WithPanel(graph("Accuracy, precision and recall by version", "Classification metrics of each evaluated model version.", unitRatio,
			thresholds("red", step{0.6, "yellow"}, step{0.75, "green"}),
			q(`max by (model, version, metric) (pipewatch_model_evaluation{`+byModel+`, metric=~"accuracy|precision|recall"})`, "{{model}} {{version}} {{metric}}"))).
		WithPanel(graph("Brier score by version", "Mean squared error of the predicted probabilities: lower is better.", "none",
			thresholds("green", step{0.2, "yellow"}, step{0.25, "red"}),
			q(`max by (model, version) (pipewatch_model_evaluation{`+byModel+`, metric="brier"})`, "{{model}} {{version}}"))).
		WithPanel(single("Registered AUC of the promoted model", "AUC the promoted model had when it was registered.", unitRatio,
			thresholds("red", step{0.7, "yellow"}, step{0.8, "green"}),
			q(`max by (model) (pipewatch_model_auc{`+byModel+`, data="registered"})`, "{{model}}"))).
		WithRow(row("Promotion")).
		WithPanel(bars("Promotion decisions, last 7 days", "Model versions promoted or rejected, by model.", unitCount, neutral(),
			q(`sum by (model, decision) (increase(pipewatch_model_promotions_total{`+byModel+`}[7d]))`, "{{model}} {{decision}}")))
}
