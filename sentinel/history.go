package sentinel

import (
	"context"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// Reading histories is for rare moments only (a run that ended badly, a
// problem raised or cleared); the scan's steady cost is visibility and
// describe.

// maxHistoryPages bounds one history read (1,000 events a page: the
// server's history limit is 51,200 events).
const maxHistoryPages = 60

// eachEvent calls fn for the run's events, oldest first (newest first
// with reverse), until fn returns false.
func eachEvent(ctx context.Context, svc workflowservice.WorkflowServiceClient, ns string, ex *commonpb.WorkflowExecution, reverse bool, fn func(*historypb.HistoryEvent) bool) error {
	var token []byte
	for range maxHistoryPages {
		var events []*historypb.HistoryEvent
		if reverse {
			resp, err := svc.GetWorkflowExecutionHistoryReverse(ctx, &workflowservice.GetWorkflowExecutionHistoryReverseRequest{
				Namespace: ns, Execution: ex, MaximumPageSize: 1000, NextPageToken: token})
			if err != nil {
				return fmt.Errorf("history of %s (run %s): %w", ex.GetWorkflowId(), ex.GetRunId(), err)
			}
			events, token = resp.GetHistory().GetEvents(), resp.GetNextPageToken()
		} else {
			resp, err := svc.GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
				Namespace: ns, Execution: ex, MaximumPageSize: 1000, NextPageToken: token})
			if err != nil {
				return fmt.Errorf("history of %s (run %s): %w", ex.GetWorkflowId(), ex.GetRunId(), err)
			}
			events, token = resp.GetHistory().GetEvents(), resp.GetNextPageToken()
		}
		for _, e := range events {
			if !fn(e) {
				return nil
			}
		}
		if len(token) == 0 {
			return nil
		}
	}
	return nil
}

// ending is how a closed run ended, from its history.
type ending struct {
	// text says what happened ("terminated by ops: bad batch"), errType
	// the failure's type.
	text, errType string
	// openSteps were scheduled and never closed: the run ended around them.
	openSteps []openStep
}

type openStep struct {
	activityID, activityType string
	scheduled                time.Time
}

// readEnding reads a closed run's history: its close event and the steps
// left open.
func readEnding(ctx context.Context, svc workflowservice.WorkflowServiceClient, ns string, ex *commonpb.WorkflowExecution) (ending, error) {
	var end ending
	var start *historypb.WorkflowExecutionStartedEventAttributes
	open := map[int64]openStep{}
	var order []int64
	err := eachEvent(ctx, svc, ns, ex, false, func(e *historypb.HistoryEvent) bool {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			start = e.GetWorkflowExecutionStartedEventAttributes()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			a := e.GetActivityTaskScheduledEventAttributes()
			open[e.GetEventId()] = openStep{activityID: a.GetActivityId(), activityType: a.GetActivityType().GetName(), scheduled: timeOf(e.GetEventTime())}
			order = append(order, e.GetEventId())
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			delete(open, e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId())
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			delete(open, e.GetActivityTaskFailedEventAttributes().GetScheduledEventId())
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			delete(open, e.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId())
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
			delete(open, e.GetActivityTaskCanceledEventAttributes().GetScheduledEventId())
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
			f := e.GetWorkflowExecutionFailedEventAttributes().GetFailure()
			end.text, end.errType = failureText(f), failureType(f)
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
			a := e.GetWorkflowExecutionTerminatedEventAttributes()
			end.text = "terminated by " + orNone(a.GetIdentity())
			if r := strings.TrimSpace(a.GetReason()); r != "" {
				end.text += ": " + r
			}
			end.errType = "Terminated"
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
			end.text, end.errType = timeoutText(start, timeOf(e.GetEventTime())), "Timeout"
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
			end.text, end.errType = "canceled", "Canceled"
		}
		return true
	})
	for _, id := range order {
		if s, ok := open[id]; ok {
			end.openSteps = append(end.openSteps, s)
		}
	}
	return end, err
}

// timeoutText names the timeout that closed a run, from its start event's
// timeouts (a run timeout defaults to the execution timeout).
func timeoutText(start *historypb.WorkflowExecutionStartedEventAttributes, at time.Time) string {
	if start == nil {
		return "timed out"
	}
	exec, run := start.GetWorkflowExecutionTimeout().AsDuration(), start.GetWorkflowRunTimeout().AsDuration()
	if exp := start.GetWorkflowExecutionExpirationTime(); exec > 0 && !timeOf(exp).IsZero() && !at.Before(timeOf(exp).Add(-time.Second)) {
		return fmt.Sprintf("timed out: its workflow execution timeout (%s) passed", exec)
	}
	if run > 0 {
		return fmt.Sprintf("timed out: its workflow run timeout (%s) passed", run)
	}
	return "timed out"
}

// lastTaskFailure finds why a run's workflow task keeps failing: the cause
// and message of its latest WorkflowTaskFailed event (the server writes
// the first failure of a series; later attempts are not in the history),
// or how many workflow tasks timed out.
func lastTaskFailure(ctx context.Context, svc workflowservice.WorkflowServiceClient, ns string, ex *commonpb.WorkflowExecution) (string, error) {
	var text string
	timeouts := 0
	err := eachEvent(ctx, svc, ns, ex, true, func(e *historypb.HistoryEvent) bool {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			a := e.GetWorkflowTaskFailedEventAttributes()
			cause := strings.ToLower(strings.TrimPrefix(a.GetCause().String(), "WORKFLOW_TASK_FAILED_CAUSE_"))
			text = fmt.Sprintf("%s: %s (worker %s)", cause, failureText(a.GetFailure()), orNone(a.GetIdentity()))
			return false
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
			timeouts++
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			return false // failures before the last completed task are over
		}
		return true
	})
	if text == "" && timeouts > 0 {
		text = fmt.Sprintf("%d workflow tasks timed out (a worker died, or workflow code blocks)", timeouts)
	}
	return text, err
}

// stepOutcome says how an activity of a run ended, if it did.
func stepOutcome(ctx context.Context, svc workflowservice.WorkflowServiceClient, ns string, ex *commonpb.WorkflowExecution, activityID string) (string, error) {
	var scheduled int64
	out := ""
	err := eachEvent(ctx, svc, ns, ex, false, func(e *historypb.HistoryEvent) bool {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if e.GetActivityTaskScheduledEventAttributes().GetActivityId() == activityID {
				scheduled = e.GetEventId()
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if a := e.GetActivityTaskStartedEventAttributes(); scheduled != 0 && a.GetScheduledEventId() == scheduled {
				out = fmt.Sprintf("attempt %d", a.GetAttempt())
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			if e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId() == scheduled && scheduled != 0 {
				out = "completed on " + out
				return false
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			if a := e.GetActivityTaskFailedEventAttributes(); a.GetScheduledEventId() == scheduled && scheduled != 0 {
				out = fmt.Sprintf("failed for good on %s: %s", out, failureText(a.GetFailure()))
				return false
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			if a := e.GetActivityTaskTimedOutEventAttributes(); a.GetScheduledEventId() == scheduled && scheduled != 0 {
				out = fmt.Sprintf("failed for good on %s: %s", out, failureText(a.GetFailure()))
				return false
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
			if e.GetActivityTaskCanceledEventAttributes().GetScheduledEventId() == scheduled && scheduled != 0 {
				out = "canceled"
				return false
			}
		}
		return true
	})
	if !strings.HasPrefix(out, "completed") && !strings.HasPrefix(out, "failed") && out != "canceled" {
		out = ""
	}
	return out, err
}
