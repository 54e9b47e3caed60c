package alerts

import (
	"context"
	"fmt"
	"net/http"

	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/logging"
	"github.com/pipewatch/pipewatch/metrics"
)

// Notifier sends notifications over one channel. Notify must be safe to
// call again with the same Notification (activities are retried): use its
// IdempotencyKey where the channel can.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Notifiers is the notification activity: it hands each notification to
// the notifier of its channel, logs it and records it in the audit log.
type Notifiers struct {
	// Channels maps channel names to notifiers.
	Channels map[string]Notifier
	// Log receives a line per attempt; Audit a record per sent message.
	// Either may be nil.
	Log   *zap.Logger
	Audit *logging.Audit
	// Metrics counts attempts; nil counts nothing.
	Metrics *metrics.Alerts
	// History keeps the alerts' lasting records (RecordHistory); nil
	// keeps none.
	History History
}

// Notify sends n on its channel. An unknown channel is an error the
// workflow records; it is not retried.
func (ns *Notifiers) Notify(ctx context.Context, n Notification) error {
	ch, ok := ns.Channels[n.Channel]
	if !ok {
		return nonRetryable(fmt.Errorf("alert %s: no notifier for channel %q", n.Key, n.Channel))
	}
	err := ch.Notify(ctx, n)
	if ns.Metrics != nil {
		status := "sent"
		if err != nil {
			status = "failed"
		}
		ns.Metrics.Notifications.WithLabelValues(n.Channel, n.Kind, status).Inc()
	}
	if ns.Log != nil {
		fields := []zap.Field{
			zap.String("alert_key", n.Key), zap.String("channel", n.Channel), zap.String("kind", n.Kind),
			zap.Int("seq", n.Seq), zap.String("alert_type", string(n.Alert.Type)), zap.String("severity", string(n.Alert.Severity)),
			zap.Int("count", n.Count),
		}
		if err != nil {
			ns.Log.Warn("alert notification failed", append(fields, zap.Error(err))...)
		} else {
			ns.Log.Info("alert notification sent", fields...)
		}
	}
	if err != nil {
		return err
	}
	if ns.Audit != nil {
		if aerr := ns.Audit.Record(logging.AuditAlertNotify, "pipewatch", map[string]any{
			"alert_key": n.Key, "channel": n.Channel, "kind": n.Kind, "seq": n.Seq, "idempotency_key": n.IdempotencyKey,
			"type": n.Alert.Type, "severity": n.Alert.Severity, "count": n.Count,
		}); aerr != nil && ns.Log != nil {
			ns.Log.Error("audit record of an alert notification failed", zap.Error(aerr))
		}
	}
	return nil
}

// AuditAction records an operator's action on an alert in the audit log: the
// audit activity of the alert workflow.
func (ns *Notifiers) AuditAction(_ context.Context, act AuditAction) error {
	if ns.Audit == nil {
		return nil
	}
	event := logging.AuditAlertAck
	if act.Action != "ack" {
		event = logging.AuditAlertAction
	}
	by := act.By
	if by == "" {
		by = "unknown"
	}
	details := map[string]any{"alert_key": act.Key, "action": act.Action}
	if act.Reason != "" {
		details["reason"] = act.Reason
	}
	if act.For > 0 {
		details["for"] = act.For.String()
	}
	if err := ns.Audit.Record(event, by, details); err != nil {
		return fmt.Errorf("alert %s: audit %s: %w", act.Key, act.Action, err)
	}
	return nil
}

// LogNotifier writes notifications to a log: the channel that always works.
type LogNotifier struct {
	Log *zap.Logger
}

// Notify logs n at a level by severity.
func (l LogNotifier) Notify(_ context.Context, n Notification) error {
	level := zap.InfoLevel
	switch n.Alert.Severity {
	case Warning:
		level = zap.WarnLevel
	case Critical:
		level = zap.ErrorLevel
	}
	l.Log.Check(level, "ALERT "+n.Text()).Write(
		zap.String("alert_key", n.Key), zap.String("kind", n.Kind), zap.Int("count", n.Count),
		zap.Any("labels", n.Alert.Labels), zap.String("workflow_id", n.Alert.Source.WorkflowID), zap.String("run_id", n.Alert.Source.RunID))
	return nil
}

// WebhookNotifier posts notifications as JSON.
type WebhookNotifier struct {
	// URL receives a POST per notification, with an Idempotency-Key header.
	URL string
	// Slack sends a Slack-compatible body ({"text": …, "blocks": …})
	// instead of the notification itself.
	Slack bool
	// Headers are added to each request (e.g. Authorization); their values
	// never appear in errors.
	Headers map[string]string
	// Client defaults to one with a 10s timeout.
	Client *http.Client
}

// Notify posts n. A 4xx answer other than 408 and 429 is not retried.
func (w WebhookNotifier) Notify(ctx context.Context, n Notification) error {
	var body any = n
	if w.Slack {
		body = slackBody(n)
	}
	headers := map[string]string{"Idempotency-Key": n.IdempotencyKey}
	for k, v := range w.Headers {
		headers[k] = v
	}
	return postJSON(ctx, w.Client, "webhook", w.URL, body, headers)
}

// slackBody is a Slack incoming-webhook message for n.
func slackBody(n Notification) map[string]any {
	text := n.Text()
	fields := fmt.Sprintf("*key* `%s` · *count* %d · *workflow* `%s`", n.Key, n.Count, n.Alert.Source.WorkflowID)
	return map[string]any{
		"text": text,
		"blocks": []map[string]any{
			{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": text}},
			{"type": "context", "elements": []map[string]string{{"type": "mrkdwn", "text": fields}}},
		},
	}
}
