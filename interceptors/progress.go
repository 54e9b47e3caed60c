package interceptors

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/pipewatch/pipewatch/metrics"
)

// ProgressQuery is the query every workflow run answers with its steps.
const ProgressQuery = "pipewatch.progress"

// Progress is the answer to the pipewatch.progress query: the run as its
// workflow code sees it. Use QueryProgress to read it: for a run ended
// from outside its code (terminated, timed out) the raw query still says
// "running", Temporal's status does not.
type Progress struct {
	Pipeline   string         `json:"pipeline"`
	WorkflowID string         `json:"workflowId"`
	RunID      string         `json:"runId"`
	Status     string         `json:"status"`
	Current    string         `json:"current,omitempty"`
	Started    time.Time      `json:"started"`
	Steps      []StepProgress `json:"steps"`
}

// StepProgress is one step as the workflow saw it.
type StepProgress struct {
	Step     string        `json:"step"`
	Type     string        `json:"type"`
	Status   string        `json:"status"`
	Attempts int32         `json:"attempts"`
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	Error    string        `json:"error,omitempty"`
	// Records is the latest record count the step's heartbeats told this
	// worker (see RecordCount).
	Records int64 `json:"records,omitempty"`
}

// attemptRegistry remembers the latest attempt number of each step type in
// recent runs on this worker, so the progress query can show attempts, which
// workflow code cannot see. Steps run by other workers show 1 while they
// succeed on their first attempt as far as this worker knows. It holds at most max entries, dropping the
// oldest.
type attemptRegistry struct {
	mu    sync.Mutex
	max   int
	byKey map[attemptID]attemptState
	order []attemptID
	next  int
}

type attemptID struct{ runID, step string }

type attemptState struct {
	attempt int32
	records int64
}

func newAttemptRegistry(max int) *attemptRegistry {
	return &attemptRegistry{max: max, byKey: make(map[attemptID]attemptState, max)}
}

func (r *attemptRegistry) record(runID, step string, attempt int32) {
	r.update(runID, step, func(s *attemptState) { s.attempt = attempt })
}

// setRecords keeps a step's latest record count.
func (r *attemptRegistry) setRecords(runID, step string, n int64) {
	r.update(runID, step, func(s *attemptState) { s.records = n })
}

func (r *attemptRegistry) update(runID, step string, set func(*attemptState)) {
	k := attemptID{runID, step}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byKey[k]; !ok {
		if len(r.order) < r.max {
			r.order = append(r.order, k)
		} else {
			delete(r.byKey, r.order[r.next])
			r.order[r.next] = k
			r.next = (r.next + 1) % r.max
		}
	}
	st := r.byKey[k]
	set(&st)
	r.byKey[k] = st
}

func (r *attemptRegistry) get(runID, step string) int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byKey[attemptID{runID, step}].attempt
}

func (r *attemptRegistry) records(runID, step string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byKey[attemptID{runID, step}].records
}

// QueryProgress asks a run for its progress (the ProgressQuery) and squares
// it with Temporal's own record of the run: workflow code never sees a run
// end from outside (terminated, timed out), so for a closed run Status is
// Temporal's (completed, failed, canceled, terminated, timed_out,
// continued_as_new) and steps still "running" or "scheduled" take it too.
// A closed run that cannot answer the query (its code panics on replay)
// gets its status and no steps. runID empty means the latest run.
func QueryProgress(ctx context.Context, c client.Client, workflowID, runID string) (Progress, error) {
	d, err := c.DescribeWorkflow(ctx, workflowID, runID)
	if err != nil {
		return Progress{}, fmt.Errorf("describe %s: %w", workflowID, err)
	}
	info := d.RawResponse.GetWorkflowExecutionInfo()
	closed := metrics.OutcomeStatus(info.GetStatus())
	var p Progress
	v, err := c.QueryWorkflow(ctx, workflowID, info.GetExecution().GetRunId(), ProgressQuery)
	if err == nil {
		err = v.Get(&p)
	}
	if err != nil {
		if closed == "" {
			return Progress{}, fmt.Errorf("query %s of %s: %w", ProgressQuery, workflowID, err)
		}
		p = Progress{Pipeline: info.GetType().GetName(), WorkflowID: workflowID, RunID: info.GetExecution().GetRunId(),
			Started: info.GetStartTime().AsTime(), Steps: []StepProgress{}}
	}
	if closed != "" {
		p.Status, p.Current = closed, ""
		for i := range p.Steps {
			if s := &p.Steps[i]; s.Status == "running" || s.Status == "scheduled" {
				s.Status = closed
			}
		}
	}
	return p, nil
}
