package sentinel

import (
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"

	"github.com/pipewatch/pipewatch/metrics"
)

func TestCountAlerts(t *testing.T) {
	info := func(attrs map[string]any) *workflowpb.WorkflowExecutionInfo {
		fields := map[string]*commonpb.Payload{}
		for k, v := range attrs {
			p, err := converter.GetDefaultDataConverter().ToPayload(v)
			if err != nil {
				t.Fatal(err)
			}
			fields[k] = p
		}
		return &workflowpb.WorkflowExecutionInfo{SearchAttributes: &commonpb.SearchAttributes{IndexedFields: fields}}
	}
	open := []*workflowpb.WorkflowExecutionInfo{
		info(map[string]any{"AlertType": "data_drift", "AlertSeverity": "warning", "AlertState": "open"}),
		info(map[string]any{"AlertType": "data_drift", "AlertSeverity": "warning", "AlertState": "acknowledged"}),
		info(map[string]any{"AlertType": "step_failure", "AlertSeverity": "critical"}),
		info(nil), // search attributes off
		info(map[string]any{"AlertType": "made_up", "AlertSeverity": "warning"}),
		info(map[string]any{"AlertType": 7, "AlertSeverity": "loud"}),
	}
	got := countAlerts(open)
	want := map[metrics.AlertKey]int{
		{Type: "data_drift", Severity: "warning"}: 2, {Type: "step_failure", Severity: "critical"}: 1,
		{Type: "unknown", Severity: "unknown"}: 2, {Type: "unknown", Severity: "warning"}: 1,
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%v: %d, want %d", k, got[k], n)
		}
	}
	// Every known type and severity is there, at zero when none is open.
	if len(got) != 7*3+2 {
		t.Errorf("%d figures, want 23 (7 types x 3 severities and 2 unknown): %v", len(got), got)
	}
	for k, n := range got {
		if _, ok := want[k]; !ok && n != 0 {
			t.Errorf("%v: %d, want 0", k, n)
		}
	}
}
