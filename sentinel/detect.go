package sentinel

import (
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pipewatch/pipewatch/alerts"
)

// The states of pending steps in pipewatch_steps_pending.
const (
	StateScheduled  = "scheduled"
	StateStarted    = "started"
	StateBackingOff = "backing_off"
	StatePaused     = "paused"
)

// finding is one problem instance seen in one describe: what the scan
// checks against the thresholds and turns into an alert.
type finding struct {
	problem        string
	pipeline, step string
	wfID, runID    string
	activityID     string
	// since is when it began as far as this describe tells (zero: now).
	since time.Time
	// attempt counts what repeats: failed step attempts, workflow task
	// attempts.
	attempt int32
	// due says the thresholds are met whatever the problem's age; aged
	// says its age counts too (not while a retried step's new attempt
	// runs: it may well succeed).
	due, aged bool
	// taskQueue needs its pollers counted (not_started).
	taskQueue     string
	taskQueueType enumspb.TaskQueueType
	// text is what went wrong, for the alert.
	text, details string
}

// id names the instance.
func (f finding) id() string {
	id := f.problem + ":" + f.runID
	if f.activityID != "" {
		id += "/" + f.activityID
	}
	return id
}

// pending is one pending step, for pipewatch_steps_pending.
type pending struct{ step, state string }

// examine reads one describe: the pending steps by state, and the
// problems it shows. now is the scan's time.
func examine(cfg Config, d *workflowservice.DescribeWorkflowExecutionResponse, now time.Time) ([]pending, []finding) {
	info := d.GetWorkflowExecutionInfo()
	base := finding{
		pipeline: info.GetType().GetName(),
		wfID:     info.GetExecution().GetWorkflowId(),
		runID:    info.GetExecution().GetRunId(),
	}
	var steps []pending
	var found []finding
	for _, pa := range d.GetPendingActivities() {
		step := pa.GetActivityType().GetName()
		sched := timeOf(pa.GetScheduledTime())
		state := StateStarted
		switch pa.GetState() {
		case enumspb.PENDING_ACTIVITY_STATE_SCHEDULED:
			state = StateScheduled
			if sched.After(now) {
				state = StateBackingOff
			}
		case enumspb.PENDING_ACTIVITY_STATE_PAUSED, enumspb.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED:
			state = StatePaused
		}
		steps = append(steps, pending{step: step, state: state})

		f := base
		f.step, f.activityID = step, pa.GetActivityId()
		if failed := pa.GetAttempt() - 1; pa.GetLastFailure() != nil && failed >= 1 {
			r := f
			r.problem = alerts.ProblemRetrying
			r.attempt = failed
			r.since = timeOf(pa.GetLastAttemptCompleteTime())
			r.due, r.aged = failed >= cfg.StepAttempts, state != StateStarted
			r.text = fmt.Sprintf("step %s of %s failing, attempt %d: %s", step, base.pipeline, failed, failureText(pa.GetLastFailure()))
			r.details = fmt.Sprintf("error type %s; worker %s; workflow %s run %s; next attempt %s",
				failureType(pa.GetLastFailure()), orNone(pa.GetLastWorkerIdentity()), base.wfID, base.runID, nextAttempt(timeOf(pa.GetNextAttemptScheduleTime()), state, now))
			found = append(found, r)
		}
		if state == StateScheduled && !sched.IsZero() {
			n := f
			n.problem = alerts.ProblemNotStarted
			n.attempt = pa.GetAttempt()
			n.since = sched
			n.due, n.aged = now.Sub(sched) >= cfg.NotStartedFor, true
			n.taskQueue = pa.GetActivityOptions().GetTaskQueue().GetName()
			if n.taskQueue == "" {
				n.taskQueue = info.GetTaskQueue()
			}
			n.taskQueueType = enumspb.TASK_QUEUE_TYPE_ACTIVITY
			n.text = fmt.Sprintf("step %s of %s not started for %s", step, base.pipeline, now.Sub(sched).Round(time.Second))
			found = append(found, n)
		}
	}

	// Child workflows are steps too (the interceptor counts them as such);
	// their own problems show when their runs are scanned.
	for _, c := range d.GetPendingChildren() {
		steps = append(steps, pending{step: c.GetWorkflowTypeName(), state: StateStarted})
	}

	if wt := d.GetPendingWorkflowTask(); wt != nil {
		if reported := reportedProblems(info); wt.GetAttempt() >= 2 || reported != "" {
			s := base
			s.problem = alerts.ProblemStuck
			s.attempt = wt.GetAttempt()
			s.due, s.aged = wt.GetAttempt() >= cfg.StuckAttempts || reported != "", wt.GetAttempt() >= 2
			s.text = fmt.Sprintf("pipeline %s stuck: its workflow task failed %d times", base.pipeline, wt.GetAttempt()-1)
			if reported != "" {
				s.details = "Temporal reports " + reported
			}
			found = append(found, s)
		}
		if sched := timeOf(wt.GetScheduledTime()); wt.GetState() == enumspb.PENDING_WORKFLOW_TASK_STATE_SCHEDULED && !sched.IsZero() {
			n := base
			n.problem = alerts.ProblemNotStarted
			n.attempt = wt.GetAttempt()
			n.since = sched
			n.due, n.aged = now.Sub(sched) >= cfg.NotStartedFor, true
			n.taskQueue = info.GetTaskQueue()
			n.taskQueueType = enumspb.TASK_QUEUE_TYPE_WORKFLOW
			n.text = fmt.Sprintf("pipeline %s not progressing: its workflow task waited %s for a worker", base.pipeline, now.Sub(sched).Round(time.Second))
			found = append(found, n)
		}
	}
	return steps, found
}

// reportedProblems reads TemporalReportedProblems, which newer servers
// (not the 1.29 dev server) set on workflows whose tasks keep failing; ""
// where absent.
func reportedProblems(info *workflowpb.WorkflowExecutionInfo) string {
	p, ok := info.GetSearchAttributes().GetIndexedFields()["TemporalReportedProblems"]
	if !ok || p == nil {
		return ""
	}
	var list []string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &list); err == nil {
		return strings.Join(list, ", ")
	}
	var one string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &one); err == nil {
		return one
	}
	return ""
}

// failureText is a failure's message with its cause, naming timeouts.
func failureText(f *failurepb.Failure) string {
	if f == nil {
		return ""
	}
	if t := f.GetTimeoutFailureInfo(); t != nil {
		msg := strings.ToLower(strings.TrimPrefix(t.GetTimeoutType().String(), "TIMEOUT_TYPE_"))
		msg = strings.ReplaceAll(msg, "_", "-") + " timeout"
		if t.GetTimeoutType() == enumspb.TIMEOUT_TYPE_HEARTBEAT {
			msg += " (its worker stopped heartbeating: killed or hung?)"
		}
		return msg
	}
	msg := f.GetMessage()
	if c := f.GetCause(); c != nil && c.GetMessage() != "" && c.GetMessage() != msg {
		msg += ": " + c.GetMessage()
	}
	return msg
}

// failureType names a failure: the application error type, or its kind.
func failureType(f *failurepb.Failure) string {
	switch {
	case f.GetApplicationFailureInfo() != nil:
		if t := f.GetApplicationFailureInfo().GetType(); t != "" {
			return t
		}
		return "ApplicationError"
	case f.GetTimeoutFailureInfo() != nil:
		return "Timeout"
	case f.GetCanceledFailureInfo() != nil:
		return "Canceled"
	case f.GetTerminatedFailureInfo() != nil:
		return "Terminated"
	case f.GetServerFailureInfo() != nil:
		return "ServerError"
	}
	return "Failure"
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func nextAttempt(at time.Time, state string, now time.Time) string {
	if state != StateBackingOff || at.IsZero() {
		return "running"
	}
	return "in " + at.Sub(now).Round(time.Second).String()
}

// timeOf is a timestamp's time, the zero time when it is unset (AsTime
// gives the Unix epoch for nil).
func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil || !ts.IsValid() || (ts.GetSeconds() == 0 && ts.GetNanos() == 0) {
		return time.Time{}
	}
	return ts.AsTime()
}
