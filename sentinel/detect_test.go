package sentinel

import (
	"fmt"
	"strings"
	"testing"
	"time"

	activitypb "go.temporal.io/api/activity/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/pipewatch/pipewatch/alerts"
)

// describeOf builds a DescribeWorkflowExecution answer for the examine
// tests, as the dev server gives them (see the probe in the test names).
func describeOf(pas []*workflowpb.PendingActivityInfo, wt *workflowpb.PendingWorkflowTaskInfo) *workflowservice.DescribeWorkflowExecutionResponse {
	return &workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: "wf-1", RunId: "run-1"},
			Type:      &commonpb.WorkflowType{Name: "churn"}, TaskQueue: "ml",
		},
		PendingActivities:   pas,
		PendingWorkflowTask: wt,
	}
}

func TestExamine(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *timestamppb.Timestamp { return timestamppb.New(now.Add(d)) }
	boom := &failurepb.Failure{Message: "feature store unreachable", FailureInfo: &failurepb.Failure_ApplicationFailureInfo{
		ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "IOError"}}}
	heartbeat := &failurepb.Failure{Message: "activity Heartbeat timeout", FailureInfo: &failurepb.Failure_TimeoutFailureInfo{
		TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{TimeoutType: enumspb.TIMEOUT_TYPE_HEARTBEAT}}}
	act := func(state enumspb.PendingActivityState, attempt int32, sched *timestamppb.Timestamp, last *failurepb.Failure) *workflowpb.PendingActivityInfo {
		return &workflowpb.PendingActivityInfo{
			ActivityId: "5", ActivityType: &commonpb.ActivityType{Name: "fit"}, State: state, Attempt: attempt,
			ScheduledTime: sched, LastFailure: last, LastAttemptCompleteTime: at(-3 * time.Second), LastWorkerIdentity: "77@gpu-1",
			ActivityOptions: &activitypb.ActivityOptions{TaskQueue: &taskqueuepb.TaskQueue{Name: "gpu"}},
		}
	}
	cfg := Config{}.WithDefaults()
	tests := []struct {
		name     string
		d        *workflowservice.DescribeWorkflowExecutionResponse
		pending  string
		findings string
	}{
		{"running first attempt: nothing wrong",
			describeOf([]*workflowpb.PendingActivityInfo{act(enumspb.PENDING_ACTIVITY_STATE_STARTED, 1, at(-time.Minute), nil)}, nil),
			"fit/started", ""},
		{"backing off after two failures: below the threshold",
			describeOf([]*workflowpb.PendingActivityInfo{act(enumspb.PENDING_ACTIVITY_STATE_SCHEDULED, 3, at(4*time.Second), boom)}, nil),
			"fit/backing_off", "retrying:run-1/5 attempt=2 due=false"},
		{"backing off after three failures: due",
			describeOf([]*workflowpb.PendingActivityInfo{act(enumspb.PENDING_ACTIVITY_STATE_SCHEDULED, 4, at(8*time.Second), boom)}, nil),
			"fit/backing_off", "retrying:run-1/5 attempt=3 due=true"},
		{"third attempt running after two heartbeat timeouts",
			describeOf([]*workflowpb.PendingActivityInfo{act(enumspb.PENDING_ACTIVITY_STATE_STARTED, 3, at(-time.Second), heartbeat)}, nil),
			"fit/started", "retrying:run-1/5 attempt=2 due=false"},
		{"scheduled 61s ago, never started: due, on the activity's own queue",
			describeOf([]*workflowpb.PendingActivityInfo{act(enumspb.PENDING_ACTIVITY_STATE_SCHEDULED, 1, at(-61*time.Second), nil)}, nil),
			"fit/scheduled", "not_started:run-1/5 attempt=1 due=true queue=gpu"},
		{"scheduled 30s ago: not yet",
			describeOf([]*workflowpb.PendingActivityInfo{act(enumspb.PENDING_ACTIVITY_STATE_SCHEDULED, 1, at(-30*time.Second), nil)}, nil),
			"fit/scheduled", "not_started:run-1/5 attempt=1 due=false queue=gpu"},
		{"workflow task failed twice: stuck",
			describeOf(nil, &workflowpb.PendingWorkflowTaskInfo{State: enumspb.PENDING_WORKFLOW_TASK_STATE_STARTED, Attempt: 3, ScheduledTime: at(-time.Second)}),
			"", "stuck:run-1 attempt=3 due=true"},
		{"workflow task retried once (a worker restart): not yet",
			describeOf(nil, &workflowpb.PendingWorkflowTaskInfo{State: enumspb.PENDING_WORKFLOW_TASK_STATE_STARTED, Attempt: 2, ScheduledTime: at(-time.Second)}),
			"", "stuck:run-1 attempt=2 due=false"},
		{"a child workflow running: a step, started", func() *workflowservice.DescribeWorkflowExecutionResponse {
			d := describeOf(nil, nil)
			d.PendingChildren = []*workflowpb.PendingChildExecutionInfo{{WorkflowId: "child-1", WorkflowTypeName: "score-batch"}}
			return d
		}(), "score-batch/started", ""},
		{"workflow task waiting 2m for a worker",
			describeOf(nil, &workflowpb.PendingWorkflowTaskInfo{State: enumspb.PENDING_WORKFLOW_TASK_STATE_SCHEDULED, Attempt: 1, ScheduledTime: at(-2 * time.Minute)}),
			"", "not_started:run-1 attempt=1 due=true queue=ml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps, found := examine(cfg, tt.d, now)
			var ps, fs []string
			for _, p := range steps {
				ps = append(ps, p.step+"/"+p.state)
			}
			for _, f := range found {
				s := fmt.Sprintf("%s attempt=%d due=%v", f.id(), f.attempt, f.due)
				if f.taskQueue != "" {
					s += " queue=" + f.taskQueue
				}
				fs = append(fs, s)
			}
			if got := strings.Join(ps, ","); got != tt.pending {
				t.Errorf("pending = %q, want %q", got, tt.pending)
			}
			if got := strings.Join(fs, ","); got != tt.findings {
				t.Errorf("findings = %q, want %q", got, tt.findings)
			}
		})
	}
}

func TestExamineTexts(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	hb := &failurepb.Failure{Message: "activity Heartbeat timeout", FailureInfo: &failurepb.Failure_TimeoutFailureInfo{
		TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{TimeoutType: enumspb.TIMEOUT_TYPE_HEARTBEAT}}}
	d := describeOf([]*workflowpb.PendingActivityInfo{{
		ActivityId: "5", ActivityType: &commonpb.ActivityType{Name: "embed"}, State: enumspb.PENDING_ACTIVITY_STATE_SCHEDULED,
		Attempt: 4, ScheduledTime: timestamppb.New(now.Add(4 * time.Second)), NextAttemptScheduleTime: timestamppb.New(now.Add(4 * time.Second)),
		LastFailure: hb, LastWorkerIdentity: "77@gpu-1",
	}}, nil)
	_, found := examine(Config{}.WithDefaults(), d, now)
	if len(found) != 1 {
		t.Fatalf("findings %+v", found)
	}
	f := found[0]
	if want := "step embed of churn failing, attempt 3: heartbeat timeout (its worker stopped heartbeating: killed or hung?)"; f.text != want {
		t.Errorf("text %q, want %q", f.text, want)
	}
	if want := "error type Timeout; worker 77@gpu-1; workflow wf-1 run run-1; next attempt in 4s"; f.details != want {
		t.Errorf("details %q, want %q", f.details, want)
	}
	a := f.alert()
	if a.Type != alerts.StepFailure || !a.Hold || a.Occurrence != alerts.StepRetryingOccurrence("run-1", "5", 3) ||
		fmt.Sprint(a.Labels) != "map[pipeline:churn problem:retrying step:embed]" {
		t.Errorf("alert %+v", a)
	}
}

// Newer servers flag stuck workflows in TemporalReportedProblems: used
// where present (the 1.29 dev server has none).
func TestExamineReportedProblems(t *testing.T) {
	now := time.Now()
	d := describeOf(nil, &workflowpb.PendingWorkflowTaskInfo{State: enumspb.PENDING_WORKFLOW_TASK_STATE_STARTED, Attempt: 1})
	p, err := converter.GetDefaultDataConverter().ToPayload([]string{"category=WorkflowTaskFailed", "cause=WorkflowTaskFailedCauseNonDeterministicError"})
	if err != nil {
		t.Fatal(err)
	}
	d.WorkflowExecutionInfo.SearchAttributes = &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"TemporalReportedProblems": p}}
	_, found := examine(Config{}.WithDefaults(), d, now)
	if len(found) != 1 || found[0].problem != alerts.ProblemStuck || !found[0].due ||
		found[0].details != "Temporal reports category=WorkflowTaskFailed, cause=WorkflowTaskFailedCauseNonDeterministicError" {
		t.Errorf("findings %+v", found)
	}
}

func TestStateCountsEachCloseOnce(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var s State
	s.advance(t0)
	for _, c := range []struct {
		run    string
		closed time.Duration
	}{{"a", time.Second}, {"b", 2 * time.Second}, {"a", time.Second}} {
		if !s.counted(c.run) {
			s.count(c.run, "churn", "completed", t0.Add(-time.Minute), t0.Add(c.closed))
		}
	}
	if len(s.Outcomes) != 1 || s.Outcomes[0].Count != 2 || s.Outcomes[0].Sum != 123 {
		t.Fatalf("outcomes %+v, want 2 runs, 61s + 62s", s.Outcomes)
	}
	// Closes before the new watermark less the overlap are forgotten.
	s.advance(t0.Add(overlap + 1500*time.Millisecond))
	if s.counted("a") || !s.counted("b") {
		t.Errorf("counted after advance: a %v, b %v; want only b", s.counted("a"), s.counted("b"))
	}
}

func TestConfigScope(t *testing.T) {
	tests := []struct{ query, want string }{
		{"", "WorkflowType NOT IN ('pipewatch.Alert', 'pipewatch.AlertTest', 'pipewatch.Sentinel')"},
		{"TaskQueue = 'ml' OR TaskQueue = 'etl'", "(TaskQueue = 'ml' OR TaskQueue = 'etl') AND WorkflowType NOT IN ('pipewatch.Alert', 'pipewatch.AlertTest', 'pipewatch.Sentinel')"},
	}
	for _, tt := range tests {
		if got := (Config{Query: tt.query}).scope(); got != tt.want {
			t.Errorf("scope(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}
