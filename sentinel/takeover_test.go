package sentinel

import (
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"
)

func TestMayBeHeld(t *testing.T) {
	for _, tt := range []struct {
		name  string
		attrs map[string]string
		want  bool
	}{
		{"no search attributes: queried", nil, true},
		{"an open step failure", map[string]string{"AlertType": "step_failure", "AlertState": "open"}, true},
		{"an acknowledged workflow failure", map[string]string{"AlertType": "workflow_failure", "AlertState": "acknowledged"}, true},
		{"a resolved step failure", map[string]string{"AlertType": "step_failure", "AlertState": "resolved"}, false},
		{"a data drift alert", map[string]string{"AlertType": "data_drift", "AlertState": "open"}, false},
		{"a type but no state", map[string]string{"AlertType": "step_failure"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fields := map[string]*commonpb.Payload{}
			for k, v := range tt.attrs {
				p, err := converter.GetDefaultDataConverter().ToPayload(v)
				if err != nil {
					t.Fatal(err)
				}
				fields[k] = p
			}
			info := &workflowpb.WorkflowExecutionInfo{SearchAttributes: &commonpb.SearchAttributes{IndexedFields: fields}}
			if got := mayBeHeld(info); got != tt.want {
				t.Errorf("mayBeHeld(%v) = %v, want %v", tt.attrs, got, tt.want)
			}
		})
	}
}
