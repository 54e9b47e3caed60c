package alerts

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// write is a history record on its way (or written).
type write struct {
	r     Record
	f     workflow.Future
	noted bool // a failure is in the alert's history entries
}

// historyOptions: a record is retried while the history store is away,
// for a day, a minute apart at most. Nothing waits for it but the end of
// the run.
func historyOptions(ctx workflow.Context, r Record) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    15 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
		Summary:                fmt.Sprintf("history · %s #%d", r.Event, r.Rev),
	})
}

// writeHistory writes the alert as it stands after event (version 3 on):
// by and reason say who acted and why.
func (a *alertRun) writeHistory(event, by, reason string) {
	if !a.v3 {
		return
	}
	a.st.Rev++
	r := Record{
		ID: RecordID(a.st.Key, a.st.FirstAt), Key: a.st.Key, WorkflowID: workflow.GetInfo(a.ctx).WorkflowExecution.ID,
		Type: a.st.Type, Severity: a.st.Severity, State: a.st.Status, Summary: a.st.Summary, Labels: a.st.Labels,
		Source: a.st.Source, FirstAt: a.st.FirstAt, LastAt: a.st.LastAt, Fires: a.st.Count,
		Event: event, At: workflow.Now(a.ctx), By: by, Reason: reason, Rev: a.st.Rev,
	}
	if a.st.Status == StatusSilenced {
		r.SilencedUntil = a.st.SilencedUntil
	}
	a.rewrite(r)
}

// rewrite starts the history activity for r.
func (a *alertRun) rewrite(r Record) {
	f := workflow.ExecuteActivity(historyOptions(a.ctx, r), HistoryActivityName, r)
	a.written = append(a.written, write{r: r, f: f})
	a.events += 3
}

// settled waits until every history record of the run has been written
// or given up, or a signal comes: true when they all ended. A record
// given up is noted in the alert's history entries.
func (a *alertRun) settled() bool {
	ended := func() bool {
		for _, w := range a.written {
			if !w.f.IsReady() {
				return false
			}
		}
		return true
	}
	_ = workflow.Await(a.ctx, func() bool { return ended() || a.hasSignals() })
	if !ended() {
		return false
	}
	for i := range a.written {
		if w := &a.written[i]; !w.noted {
			w.noted = true
			if err := w.f.Get(a.ctx, nil); err != nil {
				a.st.record(workflow.Now(a.ctx), "history_failed", "", fmt.Sprintf("%s #%d: %v", w.r.Event, w.r.Rev, err))
			}
		}
	}
	return true
}

// unwritten are the records the next run must write again: of each
// alert, the latest record, unless it was written.
func (a *alertRun) unwritten() []Record {
	latest := map[string]int{}
	for _, w := range a.written {
		latest[w.r.ID] = max(latest[w.r.ID], w.r.Rev)
	}
	var out []Record
	for _, w := range a.written {
		if w.r.Rev != latest[w.r.ID] {
			continue
		}
		latest[w.r.ID] = -1 // once
		if w.f.IsReady() && w.f.Get(a.ctx, nil) == nil {
			continue
		}
		out = append(out, w.r)
	}
	return out
}
