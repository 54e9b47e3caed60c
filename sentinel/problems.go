package sentinel

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/alerts"
)

// reconcile turns this scan's findings into problems: new ones past their
// thresholds raise an alert (held open: the condition lasts), a new failed
// attempt raises a repeat, and a problem no longer seen is resolved once
// no other run shows it. Runs whose describe failed keep their problems.
func (sc *scan) reconcile(ctx context.Context, found []finding, examined, open map[string]bool, now time.Time) error {
	old := make(map[string]Problem, len(sc.st.Problems))
	for _, p := range sc.st.Problems {
		old[p.ID] = p
	}
	var next []Problem
	for _, f := range found {
		p, existed := old[f.id()]
		delete(old, f.id())
		if !existed {
			p = Problem{ID: f.id(), Problem: f.problem, Pipeline: f.pipeline, Step: f.step, WorkflowID: f.wfID, RunID: f.runID,
				ActivityID: f.activityID, Since: f.since, Key: f.alert().Key()}
			if p.Since.IsZero() || p.Since.After(now) {
				p.Since = now
			}
		}
		if f.problem == alerts.ProblemNotStarted {
			p.Since = f.since // the current attempt's wait
		}
		due := f.due
		switch {
		case !f.aged:
		case f.problem == alerts.ProblemRetrying, f.problem == alerts.ProblemStuck:
			due = due || now.Sub(p.Since) >= sc.cfg.FailingFor
		case f.problem == alerts.ProblemNotStarted:
			due = due || now.Sub(p.Since) >= sc.cfg.NotStartedFor
		}
		if due && (!p.Raised || f.attempt > p.Attempt) {
			if err := sc.raiseProblem(ctx, f, &p); err != nil {
				return err
			}
		}
		next = append(next, p)
	}

	// What was not seen again: kept if its run could not be looked at,
	// cleared otherwise.
	var cleared []Problem
	for _, p := range sc.st.Problems {
		q, ok := old[p.ID]
		if !ok {
			continue
		}
		if open[q.RunID] && !examined[q.RunID] {
			next = append(next, q)
			continue
		}
		if q.Raised {
			cleared = append(cleared, q)
		}
	}
	sc.st.Problems = next
	for _, q := range cleared {
		if sc.keyRaised(q.Key) {
			continue // another run still shows it
		}
		if err := sc.resolve(ctx, q, open[q.RunID]); err != nil {
			return err
		}
		sc.sum.Resolved++
	}
	return nil
}

// keyRaised tells whether a raised problem with the alert key remains.
func (sc *scan) keyRaised(key string) bool {
	for _, p := range sc.st.Problems {
		if p.Raised && p.Key == key {
			return true
		}
	}
	return false
}

// alert is the alert a finding raises, before its text is complete.
func (f finding) alert() alerts.Alert {
	a := alerts.Alert{
		Type: alerts.StepFailure, Severity: alerts.Warning, Hold: true,
		Labels: map[string]string{"pipeline": f.pipeline, "problem": f.problem},
		Source: alerts.Source{WorkflowID: f.wfID, RunID: f.runID, ActivityID: f.activityID, Attempt: f.attempt},
	}
	if f.step != "" {
		a.Labels["step"] = f.step
	} else {
		a.Type = alerts.WorkflowFailure
	}
	switch f.problem {
	case alerts.ProblemRetrying:
		a.Occurrence = alerts.StepRetryingOccurrence(f.runID, f.activityID, f.attempt)
	case alerts.ProblemStuck:
		a.Severity = alerts.Critical
		a.Occurrence = fmt.Sprintf("stuck:%s/%d", f.runID, f.attempt)
	default:
		a.Occurrence = fmt.Sprintf("%s:%s/%s/%d", f.problem, f.runID, f.activityID, f.attempt)
	}
	return a
}

// raiseProblem completes a finding's alert (pollers, the cause of a stuck
// run) and raises it.
func (sc *scan) raiseProblem(ctx context.Context, f finding, p *Problem) error {
	a := f.alert()
	a.Summary, a.Details, a.At = f.text, f.details, sc.s.now()
	switch f.problem {
	case alerts.ProblemNotStarted:
		n, err := sc.taskQueuePollers(ctx, f.taskQueue, f.taskQueueType)
		if err != nil {
			return err
		}
		kind := "activity"
		if f.taskQueueType == enumspb.TASK_QUEUE_TYPE_WORKFLOW {
			kind = "workflow"
		}
		if n == 0 {
			a.Severity = alerts.Critical
			a.Summary += fmt.Sprintf(": no worker is polling task queue %s (%s tasks)", f.taskQueue, kind)
		} else {
			a.Summary += fmt.Sprintf(": task queue %s has %d %s pollers, none free", f.taskQueue, n, kind)
		}
		a.Details = fmt.Sprintf("workflow %s run %s", f.wfID, f.runID)
	case alerts.ProblemStuck:
		if p.Raised && p.Summary != "" {
			a.Summary = p.Summary // the cause was read when first raised
			break
		}
		cause, err := lastTaskFailure(ctx, sc.svc, sc.ns, exec(Problem{WorkflowID: f.wfID, RunID: f.runID}))
		if err != nil {
			return err
		}
		if cause != "" {
			a.Summary += ": " + cause
		}
		a.Details = fmt.Sprintf("workflow %s run %s; %s", f.wfID, f.runID, f.details)
	}
	if err := sc.raise(ctx, a); err != nil {
		return err
	}
	if !p.Raised {
		if sc.s.Fleet != nil {
			sc.s.Fleet.Detections.WithLabelValues(f.problem).Inc()
		}
		sc.s.log().Info("sentinel: problem raised", zap.String("problem", f.problem), zap.String("pipeline", f.pipeline),
			zap.String("step", f.step), zap.String("workflow_id", f.wfID), zap.String("run_id", f.runID),
			zap.String("alert_key", a.Key()), zap.String("summary", a.Summary))
	}
	p.Raised, p.Attempt, p.Summary = true, f.attempt, a.Summary
	return nil
}

// resolve resolves the alert of a problem that cleared, saying how.
func (sc *scan) resolve(ctx context.Context, p Problem, stillOpen bool) error {
	reason := sc.clearedBecause(ctx, p, stillOpen)
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	id := alerts.WorkflowIDPrefix + p.Key
	err := sc.client.SignalWorkflow(rctx, id, "", alerts.SignalResolve, alerts.ActionRequest{By: ResolvedBy, Reason: reason})
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("sentinel: resolve alert %s: %w", id, err)
	}
	sc.s.log().Info("sentinel: problem cleared", zap.String("problem", p.Problem), zap.String("pipeline", p.Pipeline),
		zap.String("step", p.Step), zap.String("workflow_id", p.WorkflowID), zap.String("alert_key", p.Key), zap.String("reason", reason))
	return nil
}

// clearedBecause says why a problem cleared.
func (sc *scan) clearedBecause(ctx context.Context, p Problem, stillOpen bool) string {
	what := "pipeline " + p.Pipeline
	if p.Step != "" {
		what = "step " + p.Step + " of " + p.Pipeline
	}
	status, closed := sc.closedStatus[p.RunID]
	if !closed && !stillOpen {
		status, closed = "closed", true
	}
	ended := ""
	if closed {
		ended = "; " + runEnded(status)
	}
	switch p.Problem {
	case alerts.ProblemRetrying, alerts.ProblemNotStarted:
		out, err := stepOutcome(ctx, sc.svc, sc.ns, exec(p), p.ActivityID)
		if err != nil {
			sc.s.log().Warn("sentinel: history not read", zap.String("workflow_id", p.WorkflowID), zap.Error(err))
		}
		picked := ""
		if p.Problem == alerts.ProblemNotStarted {
			picked = " was picked up by a worker and"
		}
		switch {
		case out != "":
			return what + picked + " " + out + ended
		case closed:
			return what + ": " + runEnded(status) + " while it waited"
		case p.Problem == alerts.ProblemNotStarted:
			return what + " was picked up by a worker"
		}
		return what + " is no longer failing"
	case alerts.ProblemStuck:
		if status == "terminated" || status == "timed_out" || status == "canceled" || status == "closed" {
			return what + ": " + runEnded(status) + " while stuck"
		}
		return what + ": its workflow task completed" + ended
	}
	return what + " cleared" + ended
}

// runEnded says how a run ended, in words.
func runEnded(status string) string {
	switch status {
	case "terminated", "canceled":
		return "the run was " + status
	case "timed_out":
		return "the run timed out"
	case "continued_as_new":
		return "the run continued as new"
	}
	return "the run " + status
}
