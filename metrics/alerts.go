package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Alerts holds the metrics of alerts: fires, alerts opened, time to the
// first notification, and notifications.
type Alerts struct {
	// Notifications counts notification attempts by channel, kind (first,
	// repeat_summary, escalation, resolved, closed) and status (sent,
	// failed).
	Notifications *prometheus.CounterVec
	// Fires counts every fire an alert workflow accepted (an occurrence
	// counted once), by type and severity of the fire.
	Fires *prometheus.CounterVec
	// Raised counts alerts opened (a first fire; repeats folded into an
	// open alert are not counted), by type and severity.
	Raised *prometheus.CounterVec
	// NotifyDelay times, per alert, its first fire to its first
	// notification sent, by type and severity.
	NotifyDelay *prometheus.HistogramVec
	// Undelivered counts notifications that failed for good (every attempt
	// of the channel's retry policy failed), by channel, kind and the
	// alert's severity: nobody was told on that channel.
	Undelivered *prometheus.CounterVec
}

// NotifyBuckets are the buckets, in seconds, of the time to notify: from
// 50 ms to an hour.
func NotifyBuckets() []float64 {
	return []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}
}

// NewAlerts defines the alert metrics and registers them on reg.
func NewAlerts(reg prometheus.Registerer) (*Alerts, error) {
	ts := []string{"type", "severity"}
	m := &Alerts{
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_alert_notifications_total", Help: "Alert notification attempts by channel, kind and status (sent, failed), count.",
		}, []string{"channel", "kind", "status"}),
		Fires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_alert_fires_total", Help: "Alert fires accepted by alert workflows (each occurrence once), by type and severity, count.",
		}, ts),
		Raised: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_alerts_raised_total", Help: "Alerts opened (first fires; repeats folded into an open alert are not counted), by type and severity, count.",
		}, ts),
		NotifyDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pipewatch_alert_notify_delay_seconds", Help: "From an alert's first fire to its first notification sent, by type and severity, seconds.",
			Buckets: NotifyBuckets(),
		}, ts),
		Undelivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pipewatch_alert_notifications_undelivered_total",
			Help: "Alert notifications given up after every attempt of their channel's retry policy failed, by channel, kind and severity, count.",
		}, []string{"channel", "kind", "severity"}),
	}
	for _, c := range []prometheus.Collector{m.Notifications, m.Fires, m.Raised, m.NotifyDelay, m.Undelivered} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register alert metrics: %w", err)
		}
	}
	return m, nil
}
