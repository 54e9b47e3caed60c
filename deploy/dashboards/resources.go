//lint:file-ignore SA1019 dashboard (schema v1) is the JSON that Grafana 9-11's file provisioning and POST /api/dashboards/db take; the dashboardv2 the SDK prefers is Grafana 12's dashboard.grafana.app/v2beta1 resource.

package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// worker selects the pipewatch worker's own series (the scrape job of
// deploy/prometheus).
const worker = `job="pipewatch-worker"`

// resources is the Resource Monitoring dashboard: the host, the worker
// process and each step's share.
func resources(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	return b.Description("pipewatch: host CPU, memory and disk (each configured path), the worker's memory and CPU, and each step's usage.").
		WithVariable(pipelineVariable()).
		WithVariable(stepVariable()).
		WithRow(row("Host")).
		WithPanel(graph("Host CPU busy", "Share of all the host's CPUs busy over the last sampling interval.", unitRatio,
			thresholds("green", step{0.8, "yellow"}, step{0.9, "red"}),
			q(`max by (instance) (pipewatch_host_cpu_usage_ratio)`, "{{instance}}"))).
		WithPanel(graph("Host memory used", "Share of the host's memory not available.", unitRatio,
			thresholds("green", step{0.85, "yellow"}, step{0.95, "red"}),
			q(`1 - max by (instance) (pipewatch_host_memory_available_bytes) / max by (instance) (pipewatch_host_memory_total_bytes)`, "{{instance}}"))).
		WithPanel(graph("Host memory", "Available and total memory.", unitBytes, neutral(),
			q(`max by (instance) (pipewatch_host_memory_available_bytes)`, "{{instance}} available"),
			q(`max by (instance) (pipewatch_host_memory_total_bytes)`, "{{instance}} total"))).
		WithPanel(bars("Disk used by path", "Share of each configured path's file system in use (logs, spool, data).", unitRatio,
			thresholds("green", step{0.8, "yellow"}, step{0.9, "red"}),
			q(`1 - max by (use) (pipewatch_host_disk_free_bytes) / max by (use) (pipewatch_host_disk_total_bytes)`, "{{use}}"))).
		WithPanel(graph("Disk free by path", "Free bytes on each configured path's file system.", unitBytes, neutral(),
			q(`max by (use) (pipewatch_host_disk_free_bytes)`, "{{use}}"))).
		WithPanel(graph("Lineage spool use", "Spooled lineage not yet in Neo4j, as a share of the spool's bound: at 1, events are refused.", unitRatio,
			thresholds("green", step{0.5, "yellow"}, step{0.8, "red"}),
			q(`max(pipewatch_lineage_spool_pending_bytes) / max(pipewatch_lineage_spool_limit_bytes)`, "spool"))).
		WithRow(row("Worker")).
		WithPanel(graph("Worker resident memory", "The worker process's RSS and Go heap in use.", unitBytes, neutral(),
			q(`process_resident_memory_bytes{`+worker+`}`, "{{instance}} RSS"),
			q(`go_memstats_heap_inuse_bytes{`+worker+`}`, "{{instance}} heap in use"))).
		WithPanel(graph("Worker CPU", "CPU time of the worker process per second (1 = one core).", unitRatio, neutral(),
			q(`rate(process_cpu_seconds_total{`+worker+`}[5m])`, "{{instance}}"))).
		WithRow(row("Per step")).
		WithPanel(graph("CPU per step", "Process CPU time during each step's attempts, per second (1 = one core; approximate when attempts overlap).", unitRatio, neutral(),
			q(`sum by (step) (rate(pipewatch_step_cpu_seconds_total{`+byStep+`}[5m]))`, "{{step}}"))).
		WithPanel(graph("Heap allocation per step", "Go heap allocated during each step's attempts, per second (approximate when attempts overlap).", unitBps, neutral(),
			q(`sum by (step) (rate(pipewatch_step_heap_alloc_bytes_total{`+byStep+`}[5m]))`, "{{step}}"))).
		WithPanel(bars("Worker RSS at the end of each step", "Worker resident memory sampled when each step's last attempt ended.", unitBytes, neutral(),
			q(`max by (step) (pipewatch_step_rss_bytes{`+byStep+`})`, "{{step}}")))
}
