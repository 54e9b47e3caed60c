package sentinel

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	querypb "go.temporal.io/api/query/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.uber.org/zap"

	"github.com/pipewatch/pipewatch/alerts"
)

// takeoverQueryTimeout bounds the query of one open alert; an alert whose
// worker does not answer is left out, and logged.
const takeoverQueryTimeout = 5 * time.Second

// takeoverQueries is how many open alerts are queried at once.
const takeoverQueries = 8

// takeoverBudget bounds all the queries of a takeover, so that alerts
// whose workers are gone (a query waits for a worker) delay the first
// scan by this much at most.
const takeoverBudget = 20 * time.Second

// takeOver runs at a new sentinel's first scan. A sentinel that ended
// (terminated by an operator, failed) took with it the problems it held
// open, and nothing else resolves their alerts: held alerts do not close
// with their cooldown. So the new sentinel takes over every open held
// alert about a run in its scope, as a problem already raised; the scans
// that see the problem gone, or its run closed, resolve it. It returns
// how many it took over.
func (sc *scan) takeOver(ctx context.Context) (int, error) {
	open, err := sc.list(ctx, "WorkflowType = '"+alerts.WorkflowName+"' AND ExecutionStatus = 'Running'")
	if err != nil {
		return 0, fmt.Errorf("sentinel: list open alerts to take over: %w", err)
	}
	held := sc.heldAlerts(ctx, open)
	if len(held) == 0 {
		return 0, nil
	}
	inScope, err := sc.runsInScope(ctx, held)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range held {
		if inScope[a.Source.RunID] {
			sc.st.adopt(a, sc.s.now())
			n++
		}
	}
	return n, nil
}

// heldAlerts queries the open alerts and returns, as the alerts they
// hold, those a lasting problem holds open (Held, a problem label, the
// run it is about) and not resolved.
func (sc *scan) heldAlerts(ctx context.Context, open []*workflowpb.WorkflowExecutionInfo) []alerts.Alert {
	ctx, cancel := context.WithTimeout(ctx, takeoverBudget)
	defer cancel()
	var mu sync.Mutex
	var held []alerts.Alert
	var wg sync.WaitGroup
	slots := make(chan struct{}, takeoverQueries)
	for _, info := range open {
		if !mayBeHeld(info) {
			continue
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			st, err := sc.alertState(ctx, info.GetExecution())
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx) // a takeover may outlast the scan's heartbeat timeout
			}
			if err != nil {
				sc.s.log().Warn("sentinel: an open alert did not answer; not taken over",
					zap.String("workflow_id", info.GetExecution().GetWorkflowId()), zap.Error(err))
				return
			}
			if !st.Held || st.Status == alerts.StatusResolved || st.Labels["problem"] == "" || st.Source.RunID == "" {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			held = append(held, alerts.Alert{Type: st.Type, Severity: st.Severity, Summary: st.Summary, Labels: st.Labels,
				Source: st.Source, At: st.FirstAt, Hold: true})
		})
	}
	wg.Wait()
	return held
}

// mayBeHeld tells, from the search attributes an alert workflow keeps
// (when it writes them), whether it may be held open by a lasting
// problem: a step or workflow failure, not resolved.
func mayBeHeld(info *workflowpb.WorkflowExecutionInfo) bool {
	fields := info.GetSearchAttributes().GetIndexedFields()
	if typ := keyword(fields["AlertType"]); typ != "" && typ != string(alerts.StepFailure) && typ != string(alerts.WorkflowFailure) {
		return false
	}
	return keyword(fields["AlertState"]) != string(alerts.StatusResolved)
}

// alertState queries an alert workflow's state.
func (sc *scan) alertState(ctx context.Context, ex *commonpb.WorkflowExecution) (alerts.State, error) {
	var st alerts.State
	qctx, cancel := context.WithTimeout(ctx, takeoverQueryTimeout)
	defer cancel()
	resp, err := sc.svc.QueryWorkflow(qctx, &workflowservice.QueryWorkflowRequest{
		Namespace: sc.ns, Execution: ex, Query: &querypb.WorkflowQuery{QueryType: alerts.QueryState},
	})
	if err != nil {
		return st, fmt.Errorf("query %s: %w", alerts.QueryState, err)
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(resp.GetQueryResult(), &st); err != nil {
		return st, fmt.Errorf("decode %s: %w", alerts.QueryState, err)
	}
	return st, nil
}

// runsInScope tells which of the alerts' runs the sentinel watches, open
// or closed, from visibility, a hundred runs a query.
func (sc *scan) runsInScope(ctx context.Context, held []alerts.Alert) (map[string]bool, error) {
	var ids []string
	for _, a := range held {
		if !strings.ContainsAny(a.Source.RunID, `'"\`) { // a run id is a UUID; anything else is not quoted into a query
			ids = append(ids, a.Source.RunID)
		}
	}
	in := map[string]bool{}
	for start := 0; start < len(ids); start += 100 {
		batch := ids[start:min(start+100, len(ids))]
		found, err := sc.list(ctx, sc.cfg.scope()+" AND RunId IN ('"+strings.Join(batch, "', '")+"')")
		if err != nil {
			return nil, fmt.Errorf("sentinel: which open alerts' runs are in scope: %w", err)
		}
		for _, info := range found {
			in[info.GetExecution().GetRunId()] = true
		}
	}
	return in, nil
}
