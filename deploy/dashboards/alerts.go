//lint:file-ignore SA1019 dashboard (schema v1) is the JSON that Grafana 9-11's file provisioning and POST /api/dashboards/db take; the dashboardv2 the SDK prefers is Grafana 12's dashboard.grafana.app/v2beta1 resource.

package dashboards

import "github.com/grafana/grafana-foundation-sdk/go/dashboard"

// alertsBoard is the Alerts dashboard: fires, alerts raised and open by type
// and severity, notifications by channel and outcome, time to notify.
func alertsBoard(b *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	return b.Description("pipewatch: alerts fired, raised and open by type and severity; notifications by channel and outcome; time from fire to first notification.").
		WithRow(row("Alerts")).
		WithPanel(single("Open alerts", "Alert workflows open now, fleet-wide (from Temporal's visibility).", unitCount,
			thresholds("green", step{1, "red"}),
			q(`sum(pipewatch_alerts_open)`, "open"))).
		WithPanel(single("Alerts raised, last 24h", "Alerts opened (first fires), by severity.", unitCount, neutral(),
			q(`sum by (severity) (increase(pipewatch_alerts_raised_total[24h]))`, "{{severity}}"))).
		WithPanel(bars("Open alerts by type and severity", "Alert workflows open now.", unitCount,
			thresholds("green", step{1, "red"}),
			q(`sum by (type, severity) (pipewatch_alerts_open)`, "{{type}} {{severity}}"))).
		WithPanel(graph("Fires per hour by type and severity", "Every fire accepted, repeats folded into an open alert included.", unitCount, neutral(),
			q(`sum by (type, severity) (increase(pipewatch_alert_fires_total[1h]))`, "{{type}} {{severity}}"))).
		WithPanel(graph("Alerts raised per hour by type and severity", "Alerts opened: a first fire.", unitCount, neutral(),
			q(`sum by (type, severity) (increase(pipewatch_alerts_raised_total[1h]))`, "{{type}} {{severity}}"))).
		WithRow(row("Notifications")).
		WithPanel(graph("Notifications per hour by channel and outcome", "Notification attempts by channel (log, webhook, email, alertmanager) and status (sent, failed).", unitCount, neutral(),
			q(`sum by (channel, status) (increase(pipewatch_alert_notifications_total[1h]))`, "{{channel}} {{status}}"))).
		WithPanel(single("Notification failure share, last 24h", "Failed notification attempts among all attempts.", unitRatio,
			thresholds("green", step{0.01, "yellow"}, step{0.1, "red"}),
			q(`1 - sum(increase(pipewatch_alert_notifications_total{status="sent"}[24h])) / sum(increase(pipewatch_alert_notifications_total[24h]))`, "failed"))).
		WithPanel(single("Notifications given up, last 24h", "Notifications whose every attempt failed, by channel: nobody was told on that channel (the PipewatchAlertsUndelivered rule pages through Alertmanager).", unitCount,
			thresholds("green", step{1, "red"}),
			q(`sum by (channel) (increase(pipewatch_alert_notifications_undelivered_total[24h]))`, "{{channel}}"))).
		WithPanel(single("Time to notify, mean over 24h", "From an alert's first fire to its first notification sent.", unitSeconds,
			thresholds("green", step{30, "yellow"}, step{60, "red"}),
			q(`sum(increase(pipewatch_alert_notify_delay_seconds_sum[24h])) / sum(increase(pipewatch_alert_notify_delay_seconds_count[24h]))`, "mean"))).
		WithPanel(graph("Time to notify p95 by type", "95th percentile of the time from first fire to first notification: every failure should reach a person within a minute.", unitSeconds,
			thresholds("green", step{30, "yellow"}, step{60, "red"}),
			q(`histogram_quantile(0.95, sum by (le, type) (rate(pipewatch_alert_notify_delay_seconds_bucket[1h])))`, "{{type}}"))).
		WithRow(row("Sentinel")).
		WithPanel(graph("Problems open now (sentinel)", "Problems the sentinel sees open now (retrying, not_started, stuck), fleet-wide.", unitCount,
			thresholds("green", step{1, "red"}),
			q(`max by (problem) (pipewatch_sentinel_problems)`, "{{problem}}"))).
		WithPanel(graph("Sentinel detections per hour", "Problems the sentinel found, when first found.", unitCount,
			thresholds("green", step{1, "red"}),
			q(`sum by (problem) (increase(pipewatch_sentinel_detections_total[1h]))`, "{{problem}}")))
}
