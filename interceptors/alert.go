package interceptors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/alerts"
)

// AlertObserver raises step_failure alerts: critical when an activity's
// last attempt fails (non-retryable error, or no attempts left), and, when
// atAttempt is set, a warning when that attempt fails with retries left
// (the alert the sentinel raises for a step retrying, labelled
// problem=retrying, with the same occurrence id: raised by both, counted
// once).
// It signals the alert workflow from the activity, through its Temporal
// client, bounded by a few seconds; it never fails the step.
type AlertObserver struct {
	BaseObserver
	raiser    *alerts.Raiser
	atAttempt int32
	log       *zap.Logger
	// Adopt, when set, hands a retrying step to the sentinel before its
	// alert is raised (sentinel.Adopter): the alert is then held open
	// until the sentinel sees the step stop failing and resolves it. When
	// Adopt fails (no sentinel runs) the alert is an ordinary one, closed
	// after a quiet cooldown.
	Adopt func(context.Context, alerts.Alert) error
}

// NewAlertObserver returns an observer raising through r; atAttempt 0
// alerts on final failures only.
func NewAlertObserver(r *alerts.Raiser, atAttempt int32, log *zap.Logger) *AlertObserver {
	return &AlertObserver{raiser: r, atAttempt: atAttempt, log: log}
}

// ObserveActivity raises an alert for a failed attempt that is the last
// or the configured one.
func (o *AlertObserver) ObserveActivity(ctx context.Context, e *Event) {
	if e.Kind != ActivityFailed || temporal.IsCanceledError(e.Err) {
		return
	}
	final := lastAttempt(ctx, e)
	if !final && e.Attempt != o.atAttempt {
		return
	}
	a := alerts.Alert{
		Type: alerts.StepFailure, Severity: alerts.Critical,
		Labels:     map[string]string{"pipeline": e.Pipeline, "step": e.Step},
		Summary:    fmt.Sprintf("step %s of %s failed after %d attempts: %s", e.Step, e.Pipeline, e.Attempt, errorMessage(e.Err)),
		Details:    fmt.Sprintf("error type %s; task queue %s", e.ErrType, e.TaskQueue),
		Source:     alerts.Source{WorkflowID: e.WorkflowID, RunID: e.RunID, ActivityID: e.ActivityID, Attempt: e.Attempt},
		At:         e.Time,
		Occurrence: alerts.StepFailedOccurrence(e.RunID, e.ActivityID),
	}
	if !final {
		a.Severity = alerts.Warning
		a.Labels["problem"] = alerts.ProblemRetrying
		a.Summary = fmt.Sprintf("step %s of %s failing, attempt %d: %s", e.Step, e.Pipeline, e.Attempt, errorMessage(e.Err))
		a.Occurrence = alerts.StepRetryingOccurrence(e.RunID, e.ActivityID, e.Attempt)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if !final && o.Adopt != nil {
		a.Hold = true
		if err := o.Adopt(fctx, a); err != nil {
			a.Hold = false
			o.log.Debug("retrying step not handed to a sentinel", zap.String("alert_key", a.Key()), zap.Error(err))
		}
	}
	if err := o.raiser.Fire(fctx, a); err != nil {
		o.log.Error("alert not raised", zap.String("alert_key", a.Key()), zap.String("workflow_id", e.WorkflowID),
			zap.String("step", e.Step), zap.Error(err))
	}
}

// lastAttempt tells whether a failed attempt was the last: its error is
// non-retryable, or its retry policy allows no more attempts.
func lastAttempt(ctx context.Context, e *Event) bool {
	var app *temporal.ApplicationError
	if errors.As(e.Err, &app) && app.NonRetryable() {
		return true
	}
	info := activity.GetInfo(ctx)
	p := info.RetryPolicy
	if p == nil {
		return false
	}
	if app != nil && slices.Contains(p.NonRetryableErrorTypes, app.Type()) {
		return true
	}
	return p.MaximumAttempts > 0 && info.Attempt >= p.MaximumAttempts
}

// alertVersion gates the workflow_failure alert's local activity: histories
// recorded before it replay without it.
const alertVersion = "pipewatch.alert"

// alertFailure raises a workflow_failure alert from workflow code through
// a local activity. It runs while replaying too (the SDK answers from the
// history), so the commands always match.
func (w *workflowInbound) alertFailure(ctx workflow.Context, err error) {
	typ := w.run.info.WorkflowType.Name
	if strings.HasPrefix(typ, alerts.WorkflowName) {
		return // an alert workflow's own failure: no alert about alerts
	}
	if workflow.GetVersion(ctx, alertVersion, workflow.DefaultVersion, 1) != 1 {
		return
	}
	a := alerts.Alert{
		Type: alerts.WorkflowFailure, Severity: alerts.Critical,
		Labels:  map[string]string{"pipeline": typ},
		Summary: fmt.Sprintf("pipeline %s failed: %s", typ, errorMessage(err)),
		Details: "error type " + errorType(err),
		// The sentinel raises the same fact from the closed run's history:
		// one id, counted once.
		Occurrence: alerts.WorkflowFailedOccurrence(w.run.info.WorkflowExecution.RunID),
	}
	// Cancellation of the failing run must not stop the alert.
	actx, _ := workflow.NewDisconnectedContext(ctx)
	if ferr := alerts.FireFromWorkflow(actx, a); ferr != nil {
		workflow.GetLogger(ctx).Error("pipewatch: workflow_failure alert not raised", "error", ferr)
	}
}
