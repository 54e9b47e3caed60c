package alerts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// nonRetryable marks err as not worth retrying.
func nonRetryable(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), "AlertNotification", nil)
}

// Starter starts or signals an alert workflow: SignalWithStart on the
// alert's workflow id. A Temporal client is one.
type Starter interface {
	SignalWithStartWorkflow(ctx context.Context, workflowID string, signalName string, signalArg any,
		options client.StartWorkflowOptions, workflow any, workflowArgs ...any) (client.WorkflowRun, error)
}

// Raise sends a to its alert workflow, starting it if none runs for its
// key: the first occurrence notifies, repeats are counted. When the run
// is at the server's signal limit (a storm faster than it continues as
// new), Raise waits for the next run, up to a minute or ctx's end.
func Raise(ctx context.Context, c Starter, taskQueue string, policy Policy, a Alert) error {
	if a.At.IsZero() {
		a.At = time.Now().UTC()
	}
	if a.Occurrence == "" {
		a.Occurrence = newOccurrenceID()
	}
	if err := a.Validate(); err != nil {
		return err
	}
	// A new workflow takes the alert as its first occurrence (and skips
	// the same occurrence in the signal); a running one counts the signal.
	// In a storm the run can reach the server's signal limit before it
	// continues as new: the fire then waits for the next run, never lost.
	wait, waited := 10*time.Millisecond, time.Duration(0)
	for {
		_, err := c.SignalWithStartWorkflow(ctx, a.WorkflowID(), SignalFire, a,
			client.StartWorkflowOptions{ID: a.WorkflowID(), TaskQueue: taskQueue, StaticSummary: a.Summary},
			WorkflowName, Input{Alert: a, Policy: policy})
		switch {
		case err == nil:
			return nil
		case !signalLimit(err):
			return fmt.Errorf("alert %s (%s): signal with start %s: %w", a.Key(), a.Type, a.WorkflowID(), err)
		case waited >= maxSignalLimitWait:
			return fmt.Errorf("alert %s (%s): %s stayed at the server's signal limit for %s (is its worker polling %q?): %w",
				a.Key(), a.Type, a.WorkflowID(), waited.Round(time.Second), taskQueue, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("alert %s (%s): %s is at the server's signal limit, waiting for its next run: %w", a.Key(), a.Type, a.WorkflowID(), ctx.Err())
		case <-t.C:
		}
		waited += wait
		wait = min(2*wait, time.Second)
	}
}

// maxSignalLimitWait is how long Raise waits for an alert workflow at the
// server's signal limit to continue as new: it does once its worker has
// taken the signals it holds, in seconds.
const maxSignalLimitWait = time.Minute

// signalLimit tells the server's answer to a signal past a run's limit
// (history.maximumSignalsPerExecution, 10,000 by default): an
// InvalidArgument the server gives no type of its own, known by its text.
func signalLimit(err error) bool {
	var ia *serviceerror.InvalidArgument
	return errors.As(err, &ia) && strings.Contains(ia.Message, "limit for signal events")
}

// newOccurrenceID names one occurrence, so the signal that comes with a
// workflow's start is not counted again after its input.
func newOccurrenceID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Raiser raises alerts for code that has no client of its own: steps
// (through the activity's client) and workflows (through a local activity,
// FireActivity).
type Raiser struct {
	// TaskQueue runs the alert workflows.
	TaskQueue string
	// Policy is given to new alert workflows.
	Policy Policy
}

// ErrNoActivity is returned by Fire outside an activity.
var ErrNoActivity = errors.New("alerts: Fire needs an activity context (in workflow code use FireFromWorkflow)")

type raiserKey struct{}

// WithRaiser returns ctx carrying r, for Fire to find. The pipewatch
// interceptor puts the worker's raiser in every activity's context.
func WithRaiser(ctx context.Context, r *Raiser) context.Context {
	return context.WithValue(ctx, raiserKey{}, r)
}

// ErrNoRaiser is returned by Fire in an activity of a worker without
// pipewatch's alerts: an alert must not vanish silently.
var ErrNoRaiser = errors.New("alerts: no raiser in this context (is the pipewatch interceptor, with alerts on, on the worker?)")

// Fire raises a from a running activity through the worker's raiser: how
// steps raise data_quality, model_degradation, data_drift or custom alerts.
// The first occurrence notifies at once; repeats go into the alert's
// cooldown summary.
func Fire(ctx context.Context, a Alert) error {
	r, ok := ctx.Value(raiserKey{}).(*Raiser)
	if !ok {
		return ErrNoRaiser
	}
	return r.Fire(ctx, a)
}

// Fire raises a from a running activity, through its Temporal client.
func (r *Raiser) Fire(ctx context.Context, a Alert) error {
	if !activity.IsActivity(ctx) {
		return ErrNoActivity
	}
	if a.Source == (Source{}) {
		info := activity.GetInfo(ctx)
		a.Source = Source{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, ActivityID: info.ActivityID, Attempt: info.Attempt}
	}
	return Raise(ctx, activity.GetClient(ctx), r.TaskQueue, r.Policy, a)
}

// FireActivityName is the local activity that raises alerts from workflow
// code.
const FireActivityName = "pipewatch.alert.Fire"

// FireActivity is the local activity behind FireFromWorkflow.
func (r *Raiser) FireActivity(ctx context.Context, a Alert) error {
	return r.Fire(ctx, a)
}

// FireFromWorkflow raises a from workflow code through the local activity
// FireActivityName (registered by the worker): the SDK's
// workflow.SignalWithStartWorkflow needs a newer server than many run.
// It records a marker in the workflow's history.
func FireFromWorkflow(ctx workflow.Context, a Alert) error {
	if a.At.IsZero() {
		a.At = workflow.Now(ctx)
	}
	if a.Source == (Source{}) {
		info := workflow.GetInfo(ctx)
		a.Source = Source{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID}
	}
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, InitialInterval: 200 * time.Millisecond},
	})
	return workflow.ExecuteLocalActivity(ctx, FireActivityName, a).Get(ctx, nil)
}
