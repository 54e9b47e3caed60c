//lint:file-ignore SA1019 dashboard (schema v1) is the JSON that Grafana 9-11's file provisioning and POST /api/dashboards/db take; the dashboardv2 the SDK prefers is Grafana 12's dashboard.grafana.app/v2beta1 resource.

package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// Label matchers of the dashboard variables.
const (
	byPipeline = `pipeline=~"$pipeline"`
	byStep     = `pipeline=~"$pipeline", step=~"$step"`
	byModel    = `model=~"$model"`
)

// overview is the ML Pipeline Overview: runs as Temporal records them, steps
// as the workers see them, the sentinel, lineage and the Temporal SDK.
func overview(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	return b.Description("pipewatch: ML pipelines on Temporal at a glance. Runs are counted from Temporal's visibility by the sentinel (fleet-wide); steps by the workers.").
		WithVariable(pipelineVariable()).
		WithVariable(stepVariable()).
		WithRow(row("Pipeline runs")).
		WithPanel(single("Open runs (from Temporal)", "Pipeline runs open now, by pipeline.", unitCount, neutral(),
			q(`max by (pipeline) (pipewatch_pipelines_open{`+byPipeline+`})`, "{{pipeline}}"))).
		WithPanel(single("Since the last successful run", "Time since a run of the pipeline last completed.", unitSeconds,
			thresholds("green", step{86400, "yellow"}, step{172800, "red"}),
			q(`time() - max by (pipeline) (pipewatch_workflow_last_success_timestamp_seconds{`+byPipeline+`})`, "{{pipeline}}"))).
		WithPanel(single("Run outcomes, last 24h", "Closed runs by outcome (completed, failed, canceled, terminated, timed_out).", unitCount, neutral(),
			q(`sum by (status) (increase(pipewatch_workflow_outcomes_total{`+byPipeline+`}[24h]))`, "{{status}}"))).
		WithPanel(single("Run success share, last 24h", "Completed runs among closed runs.", unitRatio,
			thresholds("red", step{0.9, "yellow"}, step{0.99, "green"}),
			q(`sum by (pipeline) (increase(pipewatch_workflow_outcomes_total{`+byPipeline+`, status="completed"}[24h])) / sum by (pipeline) (increase(pipewatch_workflow_outcomes_total{`+byPipeline+`}[24h]))`, "{{pipeline}}"))).
		WithPanel(graph("Run outcomes per minute", "Closed runs per minute by pipeline and outcome.", unitPerMin, neutral(),
			q(`sum by (pipeline, status) (rate(pipewatch_workflow_outcomes_total{`+byPipeline+`}[5m])) * 60`, "{{pipeline}} {{status}}"))).
		WithPanel(graph("Run duration p95", "95th percentile of closed runs' duration, start to close.", unitSeconds, neutral(),
			q(`histogram_quantile(0.95, sum by (le, pipeline) (rate(pipewatch_workflow_duration_seconds_bucket{`+byPipeline+`}[15m])))`, "{{pipeline}}"))).
		WithRow(row("Steps")).
		WithPanel(graph("Step duration p95", "95th percentile of activity attempts' duration, by step.", unitSeconds, neutral(),
			q(`histogram_quantile(0.95, sum by (le, step) (rate(pipewatch_step_duration_seconds_bucket{`+byStep+`}[15m])))`, "{{step}}"))).
		WithPanel(graph("Step outcomes per minute (after retries)", "Steps settled in workflow code, by outcome.", unitPerMin, neutral(),
			q(`sum by (step, status) (rate(pipewatch_step_outcomes_total{`+byStep+`}[5m])) * 60`, "{{step}} {{status}}"))).
		WithPanel(graph("Step failures per minute by error type", "Failed activity attempts, by step and error type.", unitPerMin,
			thresholds("green", step{1, "red"}),
			q(`sum by (step, error_type) (rate(pipewatch_step_failures_total{`+byStep+`}[5m])) * 60`, "{{step}} {{error_type}}"))).
		WithPanel(graph("Pending steps by state (from Temporal)", "Steps scheduled and not yet done, as the sentinel sees them.", unitCount, neutral(),
			q(`sum by (step, state) (max by (pipeline, step, state) (pipewatch_steps_pending{`+byStep+`}))`, "{{step}} {{state}}"))).
		WithPanel(graph("Schedule-to-close p95 (any worker, any language)", "From scheduling a step to its result, as workflow code sees it.", unitSeconds, neutral(),
			q(`histogram_quantile(0.95, sum by (le, step, type) (rate(pipewatch_step_schedule_to_close_seconds_bucket{`+byStep+`}[15m])))`, "{{step}} {{type}}"))).
		WithPanel(graph("Records processed per second", "Records the steps reported in their heartbeats.", unitPerSec, neutral(),
			q(`sum by (step) (rate(pipewatch_step_records_processed_total{`+byStep+`}[5m]))`, "{{step}}"))).
		WithRow(row("Sentinel and lineage")).
		WithPanel(single("Workers reaching each dependency", "Workers whose readiness check passes now, by check (temporal, neo4j, lineage_spool), of the workers up: fewer than all means a worker cannot reach it.", unitCount,
			neutral(),
			q(`sum by (check) (pipewatch_readiness_check_ok)`, "{{check}}"),
			q(`count(up{job="pipewatch-worker"} == 1)`, "workers up"))).
		WithPanel(single("Since the last sentinel scan", "The sentinel scans the namespace every few seconds; a gap means it is not running.", unitSeconds,
			thresholds("green", step{60, "yellow"}, step{300, "red"}),
			q(`time() - max(pipewatch_sentinel_last_scan_timestamp_seconds)`, "last scan"))).
		WithPanel(single("Sentinel scans, last hour", "Scans by result (ok, error).", unitCount, neutral(),
			q(`sum by (result) (increase(pipewatch_sentinel_scans_total[1h]))`, "{{result}}"))).
		WithPanel(graph("Lineage events stored per second", "Lineage events written to Neo4j, refused by the spool, and failed batch writes.", unitPerSec, neutral(),
			q(`sum(rate(pipewatch_lineage_events_written_total[5m]))`, "written"),
			q(`sum(rate(pipewatch_lineage_events_refused_total[5m]))`, "refused"),
			q(`sum(rate(pipewatch_lineage_writes_total{status="error"}[5m]))`, "failed writes"))).
		WithRow(row("Temporal SDK")).
		WithPanel(graph("Activity schedule-to-start p95 (queueing)", "How long steps wait for a worker.", unitSeconds,
			thresholds("green", step{5, "yellow"}, step{30, "red"}),
			q(`histogram_quantile(0.95, sum by (le, activity_type) (rate(temporal_activity_schedule_to_start_latency_seconds_bucket[15m])))`, "{{activity_type}}"))).
		WithPanel(graph("Workflow task execution p95", "Workflow code's time per workflow task.", unitSeconds,
			thresholds("green", step{1, "yellow"}, step{5, "red"}),
			q(`histogram_quantile(0.95, sum by (le, workflow_type) (rate(temporal_workflow_task_execution_latency_seconds_bucket[15m])))`, "{{workflow_type}}"))).
		WithPanel(graph("Worker task slots in use", "Slots in use by worker type.", unitCount, neutral(),
			q(`sum by (worker_type) (temporal_worker_task_slots_used)`, "{{worker_type}}")))
}
