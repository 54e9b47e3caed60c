package alerts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// HistoryActivityName is the activity that writes an alert's lasting
// record (see Notifiers.RecordHistory).
const HistoryActivityName = "pipewatch.alert.Record"

// The events that write a Record.
const (
	RecordFired     = "fired"     // the alert opened
	RecordRepeated  = "repeated"  // a cooldown ended with repeats
	RecordEscalated = "escalated" // its severity rose
	RecordAcked     = "acked"
	RecordSilenced  = "silenced"
	RecordResolved  = "resolved"
	RecordClosed    = "closed" // a cooldown passed without repeats
)

// Record is an alert as it stood after one event: a whole snapshot, so
// the latest one written tells everything and a lost one is made good by
// the next. An alert workflow writes one at every change, for a history
// that outlives Temporal's retention.
type Record struct {
	// ID names the alert: its key and the time it opened (RecordID). A
	// key has a new alert each time its problem comes back after the
	// previous one closed or was resolved.
	ID         string            `json:"id"`
	Key        string            `json:"key"`
	WorkflowID string            `json:"workflowId"`
	Type       Type              `json:"type"`
	Severity   Severity          `json:"severity"`
	State      Status            `json:"state"`
	Summary    string            `json:"summary"`
	Labels     map[string]string `json:"labels,omitempty"`
	// Source is where the latest occurrence came from.
	Source  Source    `json:"source"`
	FirstAt time.Time `json:"firstAt"`
	LastAt  time.Time `json:"lastAt"`
	// Fires counts every occurrence so far.
	Fires int `json:"fires"`
	// Event is what happened (RecordFired, …) at At; By and Reason say
	// who acted and why (ack, silence, resolve).
	Event  string    `json:"event"`
	At     time.Time `json:"at"`
	By     string    `json:"by,omitempty"`
	Reason string    `json:"reason,omitempty"`
	// SilencedUntil is set while the alert is silenced.
	SilencedUntil time.Time `json:"silencedUntil,omitzero"`
	// Rev orders an alert's records: a store keeps the state of the
	// highest, whatever order they arrive in, and a resolved alert stays
	// resolved.
	Rev int `json:"rev"`
}

// RecordID names the alert of key that opened at firstAt.
func RecordID(key string, firstAt time.Time) string {
	return key + "@" + firstAt.UTC().Format(time.RFC3339Nano)
}

// History keeps alert records outside Temporal; alerts/history's Store,
// on Neo4j, is one. WriteAlert must be idempotent: the same record may
// come twice, and records may come out of order.
type History interface {
	WriteAlert(ctx context.Context, r Record) error
}

// ErrHistoryRejected marks a record a History refused for good: the
// activity does not retry it.
var ErrHistoryRejected = errors.New("alert history rejected the record")

// RecordHistory writes r to the alert history: the history activity of
// the alert workflow. Without a History (a worker with no store) it does
// nothing. A failed write is returned, and Temporal retries it.
func (ns *Notifiers) RecordHistory(ctx context.Context, r Record) error {
	if ns.History == nil {
		return nil
	}
	err := ns.History.WriteAlert(ctx, r)
	if err == nil {
		return nil
	}
	if ns.Log != nil {
		ns.Log.Warn("alert history not written; retried", zap.String("alert_key", r.Key), zap.String("event", r.Event),
			zap.Int("rev", r.Rev), zap.Error(err))
	}
	err = fmt.Errorf("alert %s: history %s #%d: %w", r.Key, r.Event, r.Rev, err)
	if errors.Is(err, ErrHistoryRejected) {
		return nonRetryable(err)
	}
	return err
}
