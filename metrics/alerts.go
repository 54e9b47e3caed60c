package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Alerts holds the metrics of alert notifications.
type Alerts struct {
	// Notifications counts notification attempts by channel, kind (first,
	// repeat_summary, escalation, resolved, closed) and status (sent,
	// failed).
	Notifications *prometheus.CounterVec
}

// NewAlerts defines the alert metrics and registers them on reg.
func NewAlerts(reg prometheus.Registerer) (*Alerts, error) {
	m := &Alerts{Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pipewatch_alert_notifications_total", Help: "Alert notification attempts by channel, kind and status (sent, failed), count.",
	}, []string{"channel", "kind", "status"})}
	if err := reg.Register(m.Notifications); err != nil {
		return nil, fmt.Errorf("metrics: register alert metrics: %w", err)
	}
	return m, nil
}
