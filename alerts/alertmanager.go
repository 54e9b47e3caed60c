package alerts

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// AlertmanagerNotifier posts alerts to Prometheus Alertmanager's v2 API.
// Each notification (re)posts the alert as firing until twice the cooldown
// from now, so it stays active while the alert workflow runs; a resolved or
// closed alert is posted with endsAt now, which resolves it.
type AlertmanagerNotifier struct {
	// URL is Alertmanager's base URL, e.g. http://127.0.0.1:9093. Secret:
	// it may hold credentials; errors name its scheme and host only.
	URL string
	// Username and Password log in with HTTP basic auth (Alertmanager's
	// web.config basic_auth_users); BearerToken sends a bearer token
	// instead (a proxy in front of it). Secrets. Empty: neither.
	Username, Password, BearerToken string
	// GeneratorURL links back, e.g. to the Temporal UI; optional.
	GeneratorURL string
	// Client defaults to one with a 10s timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// amAlert is one alert in Alertmanager's postableAlerts.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// AlertmanagerLabels are the labels an alert gets in Alertmanager:
// alertname pipewatch_<type>, severity, alert_key, and the alert's own
// labels (names sanitized to Prometheus' [a-zA-Z_][a-zA-Z0-9_]*).
func AlertmanagerLabels(n Notification) map[string]string {
	labels := map[string]string{}
	for k, v := range n.Alert.Labels {
		labels[promLabel(k)] = v
	}
	labels["alertname"] = "pipewatch_" + string(n.Alert.Type)
	labels["severity"] = string(n.Alert.Severity)
	labels["alert_key"] = n.Key
	return labels
}

// Notify posts n's alert.
func (a AlertmanagerNotifier) Notify(ctx context.Context, n Notification) error {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	t := now().UTC()
	ends := t.Add(2 * max(n.Cooldown, time.Minute))
	if n.Kind == KindResolved || n.Kind == KindClosed {
		ends = t
	}
	alert := amAlert{
		Labels: AlertmanagerLabels(n),
		Annotations: map[string]string{
			"summary": n.Alert.Summary, "description": n.Alert.Details, "count": strconv.Itoa(n.Count),
			"workflow_id": n.Alert.Source.WorkflowID, "run_id": n.Alert.Source.RunID,
		},
		StartsAt: n.FirstAt.UTC(), EndsAt: ends, GeneratorURL: a.GeneratorURL,
	}
	u, err := url.JoinPath(a.URL, "/api/v2/alerts")
	if err != nil {
		return nonRetryable(errors.New("alertmanager: alerts.alertmanager_url is not a valid URL")) // its text may hold credentials
	}
	headers := map[string]string{}
	switch {
	case a.BearerToken != "":
		headers["Authorization"] = "Bearer " + a.BearerToken
	case a.Username != "":
		headers["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Password))
	}
	return postJSON(ctx, a.Client, "alertmanager", u, []amAlert{alert}, headers)
}

// promLabel makes s a valid Prometheus label name.
func promLabel(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9'):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
