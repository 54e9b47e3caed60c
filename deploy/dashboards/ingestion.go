//lint:file-ignore SA1019 dashboard (schema v1) is the JSON that Grafana 9-11's file provisioning and POST /api/dashboards/db take; the dashboardv2 the SDK prefers is Grafana 12's dashboard.grafana.app/v2beta1 resource.

package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// ingestSteps narrows step matchers to the ingest and validation steps.
const ingestSteps = `step=~".*(Ingest|Validate).*"`

// ingestion is the Data Ingestion dashboard: rows read, rows rejected and
// why, data-quality checks, and ingest latency.
func ingestion(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	return b.Description("pipewatch: rows ingested and rejected by validation, data-quality checks, ingest latency.").
		WithVariable(pipelineVariable()).
		WithVariable(stepVariable()).
		WithRow(row("Records")).
		WithPanel(graph("Rows per minute, accepted and rejected", "Rows the validation accepted or rejected, by step.", "cpm", neutral(),
			q(`sum by (step, outcome) (rate(pipewatch_data_rows_total{`+byStep+`}[5m])) * 60`, "{{step}} {{outcome}}"))).
		WithPanel(single("Rows, last 24h", "Rows by outcome (accepted, rejected).", unitCount, neutral(),
			q(`sum by (outcome) (increase(pipewatch_data_rows_total{`+byStep+`}[24h]))`, "{{outcome}}"))).
		WithPanel(single("Rejected share, last 24h", "Rejected rows among all rows validated.", unitRatio,
			thresholds("green", step{0.01, "yellow"}, step{0.05, "red"}),
			q(`1 - sum(increase(pipewatch_data_rows_total{`+byStep+`, outcome="accepted"}[24h])) / sum(increase(pipewatch_data_rows_total{`+byStep+`}[24h]))`, "rejected"))).
		WithPanel(graph("Records processed per second", "Records the steps reported in their heartbeats.", unitPerSec, neutral(),
			q(`sum by (step) (rate(pipewatch_step_records_processed_total{`+byStep+`}[5m]))`, "{{step}}"))).
		WithRow(row("Rejected rows and why")).
		WithPanel(bars("Rejected rows by reason, last 24h", "Rows rejected by validation, by step and rule.", unitCount,
			thresholds("green", step{1, "orange"}),
			q(`sum by (step, reason) (increase(pipewatch_data_rows_rejected_total{`+byStep+`}[24h]))`, "{{step}} {{reason}}"))).
		WithPanel(graph("Rejected rows per minute by reason", "Rows rejected by validation over time, by rule.", "cpm", neutral(),
			q(`sum by (reason) (rate(pipewatch_data_rows_rejected_total{`+byStep+`}[5m])) * 60`, "{{reason}}"))).
		WithRow(row("Data quality")).
		WithPanel(bars("Data-quality checks, last 24h", "Checks run by validation, by check and result (pass, fail).", unitCount, neutral(),
			q(`sum by (check, result) (increase(pipewatch_data_quality_checks_total{`+byPipeline+`}[24h]))`, "{{check}} {{result}}"))).
		WithPanel(single("Failing checks share, last 24h", "Failed checks among checks run.", unitRatio,
			thresholds("green", step{0.001, "red"}),
			q(`1 - sum(increase(pipewatch_data_quality_checks_total{`+byPipeline+`, result="pass"}[24h])) / sum(increase(pipewatch_data_quality_checks_total{`+byPipeline+`}[24h]))`, "failing"))).
		WithRow(row("Ingest latency")).
		WithPanel(graph("Ingest and validation duration p95", "95th percentile of the ingest and validation steps' attempts.", unitSeconds, neutral(),
			q(`histogram_quantile(0.95, sum by (le, step) (rate(pipewatch_step_duration_seconds_bucket{`+byStep+`, `+ingestSteps+`}[15m])))`, "{{step}}"))).
		WithPanel(bars("Ingest and validation, latest attempt", "Duration of the latest attempt of each ingest and validation step.", unitSeconds, neutral(),
			q(`max by (step) (pipewatch_step_last_duration_seconds{`+byStep+`, `+ingestSteps+`})`, "{{step}}"))).
		WithPanel(single("Since the last ingest", "Time since an ingest step last completed.", unitSeconds,
			thresholds("green", step{86400, "yellow"}, step{172800, "red"}),
			q(`time() - max by (step) (pipewatch_step_last_success_timestamp_seconds{`+byStep+`, step=~".*Ingest.*"})`, "{{step}}")))
}
