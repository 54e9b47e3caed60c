package sentinel

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/metrics"
)

// A worker hands over a retrying step whose alert it raised, held open
// until the sentinel resolves it (AlertObserver.Adopt). When a scan had
// seen the step failing already, below its own threshold, the adopted
// problem used to stay unraised: the sentinel then dropped it when the
// run completed, never resolving the held alert, which stayed open.
func TestAdoptMarksTheProblemRaised(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	a := alerts.Alert{Type: alerts.StepFailure, Severity: alerts.Warning,
		Labels:  map[string]string{"pipeline": "churn", "step": "fit", "problem": alerts.ProblemRetrying},
		Summary: "step fit of churn failing, attempt 3: feature store unreachable",
		Source:  alerts.Source{WorkflowID: "churn-7", RunID: "r1", ActivityID: "5", Attempt: 3}, At: now}
	seen := Problem{ID: "retrying:r1/5", Problem: alerts.ProblemRetrying, Pipeline: "churn", Step: "fit", WorkflowID: "churn-7",
		RunID: "r1", ActivityID: "5", Since: now.Add(-time.Minute)}
	raised := seen
	raised.Raised, raised.Attempt, raised.Key, raised.Summary = true, 4, "own-key", "the sentinel's own"
	tests := []struct {
		name   string
		before []Problem
		want   Problem
	}{
		{"a problem no scan saw", nil, Problem{ID: "retrying:r1/5", Problem: alerts.ProblemRetrying, Pipeline: "churn", Step: "fit",
			WorkflowID: "churn-7", RunID: "r1", ActivityID: "5", Since: now, Raised: true, Attempt: 3, Key: a.Key(), Summary: a.Summary}},
		{"a problem a scan saw, not raised yet", []Problem{seen}, Problem{ID: "retrying:r1/5", Problem: alerts.ProblemRetrying, Pipeline: "churn",
			Step: "fit", WorkflowID: "churn-7", RunID: "r1", ActivityID: "5", Since: now.Add(-time.Minute), Raised: true, Attempt: 3, Key: a.Key(), Summary: a.Summary}},
		{"a problem the sentinel raised itself", []Problem{raised}, raised},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := State{Problems: append([]Problem(nil), tt.before...)}
			s.adopt(a, now)
			if len(s.Problems) != 1 || s.Problems[0] != tt.want {
				t.Errorf("problems %+v\nwant [%+v]", s.Problems, tt.want)
			}
		})
	}
}

// sink is a lineage spool that refuses records until it has room.
type sink struct {
	room bool
	got  []string
}

func (s *sink) Append(recs ...[]byte) error {
	if !s.room {
		return errors.New("lineage: spool full")
	}
	for _, r := range recs {
		s.got = append(s.got, string(r))
	}
	return nil
}

// A closed run's final lineage the spool refuses (a full disk) is kept in
// the state and spooled at the next scan with room, before anything
// newer: it used to be logged and dropped, leaving the run RUNNING in the
// graph. Past MaxUnspooled the oldest are given up, counted as refused.
func TestUnspooledLineageIsKeptUntilTheSpoolTakesIt(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := metrics.NewLineage(reg, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	sp := &sink{}
	sc := &scan{s: &Sentinel{Lineage: sp, LineageMetrics: m}}
	closed := func(runID string) *workflowpb.WorkflowExecutionInfo {
		at := timestamppb.New(time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC))
		return &workflowpb.WorkflowExecutionInfo{Execution: &commonpb.WorkflowExecution{WorkflowId: "wf-" + runID, RunId: runID},
			Type: &commonpb.WorkflowType{Name: "train"}, StartTime: at, CloseTime: at}
	}
	sc.writeLineage(closed("r1"), "terminated", ending{text: "terminated by ops"})
	sc.writeLineage(closed("r2"), "completed", ending{})
	if len(sp.got) != 0 || len(sc.st.Unspooled) != 2 {
		t.Fatalf("spool full: spooled %d, kept %d; want 0 and 2", len(sp.got), len(sc.st.Unspooled))
	}
	sc.respool() // still full: kept
	if len(sc.st.Unspooled) != 2 {
		t.Fatalf("kept %d after a refused respool, want 2", len(sc.st.Unspooled))
	}
	sp.room = true
	sc.respool()
	if len(sc.st.Unspooled) != 0 || len(sp.got) != 2 ||
		!strings.Contains(sp.got[0], `"runId":"r1"`) || !strings.Contains(sp.got[0], `"state":"ABORT"`) || !strings.Contains(sp.got[1], `"runId":"r2"`) {
		t.Fatalf("after room: kept %d, spooled %q; want r1's ABORT then r2", len(sc.st.Unspooled), sp.got)
	}

	sp.room = false
	for i := range MaxUnspooled + 3 {
		sc.writeLineage(closed(fmt.Sprintf("n%d", i)), "failed", ending{text: "boom"})
	}
	if got := testutil.ToFloat64(m.EventsRefused); got != 3 || len(sc.st.Unspooled) != MaxUnspooled ||
		!strings.Contains(string(sc.st.Unspooled[0]), `"runId":"n3"`) {
		t.Errorf("past the cap: refused %v, kept %d, oldest kept %s; want 3, %d, n3", got, len(sc.st.Unspooled), sc.st.Unspooled[0], MaxUnspooled)
	}
}
