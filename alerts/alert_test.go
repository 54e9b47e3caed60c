package alerts

import (
	"testing"
	"time"
)

func TestKey(t *testing.T) {
	base := Alert{Type: StepFailure, Severity: Warning, Summary: "train failed",
		Labels: map[string]string{"pipeline": "churn", "step": "train"}}
	tests := []struct {
		name string
		a    Alert
		same bool // same key as base
	}{
		{"identical", base, true},
		{"other source, summary, time and severity", Alert{Type: StepFailure, Severity: Critical, Summary: "again",
			Labels: map[string]string{"step": "train", "pipeline": "churn"},
			Source: Source{WorkflowID: "wf-2", Attempt: 3}, At: time.Unix(1, 0)}, true},
		{"other type", Alert{Type: WorkflowFailure, Labels: base.Labels}, false},
		{"other label value", Alert{Type: StepFailure, Labels: map[string]string{"pipeline": "churn", "step": "eval"}}, false},
		{"extra label", Alert{Type: StepFailure, Labels: map[string]string{"pipeline": "churn", "step": "train", "x": ""}}, false},
		{"labels that concatenate alike", Alert{Type: StepFailure, Labels: map[string]string{"pipeline": "churnstep", "": "train"}}, false},
	}
	for _, tt := range tests {
		if got := tt.a.Key() == base.Key(); got != tt.same {
			t.Errorf("%s: same key = %v, want %v", tt.name, got, tt.same)
		}
	}
	// The key is stable across releases: a changed algorithm would orphan
	// every running alert workflow.
	if got, want := base.Key(), "b4d7220bd4486528"; got != want { // python3: sha256(b"step_failure\x008:pipeline5:churn\x004:step5:train")
		t.Errorf("Key = %s, want %s", got, want)
	}
	if got := base.WorkflowID(); got != "pipewatch-alert:"+base.Key() {
		t.Errorf("WorkflowID = %s", got)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		a    Alert
		want string
	}{
		{"valid", Alert{Type: DataDrift, Severity: Info, Summary: "PSI 0.31 on age"}, ""},
		{"everything wrong", Alert{Type: "drifty", Severity: "loud", Labels: map[string]string{" ": "x"}},
			"alert: type \"drifty\" is not one of step_failure, workflow_failure, resource_threshold, data_quality, model_degradation, data_drift, custom\n" +
				"alert: severity \"loud\" is not one of info, warning, critical\n" +
				"alert: summary must not be empty\n" +
				"alert: a label has an empty name"},
	}
	for _, tt := range tests {
		err := tt.a.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("%s: Validate = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestSeverityRank(t *testing.T) {
	if !(Info.Rank() < Warning.Rank() && Warning.Rank() < Critical.Rank()) || Severity("x").Rank() != 0 {
		t.Errorf("ranks: info %d, warning %d, critical %d", Info.Rank(), Warning.Rank(), Critical.Rank())
	}
}
