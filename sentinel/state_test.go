package sentinel

import (
	"testing"
	"time"

	"github.com/pipewatch/pipewatch/alerts"
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
