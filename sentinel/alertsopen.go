package sentinel

import (
	"context"
	"slices"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/metrics"
)

// unknownLabel stands for an alert's type or severity its workflow did not
// write (search attributes off) or that is not one pipewatch knows.
const unknownLabel = "unknown"

// alertsOpen counts the open alert workflows by type and severity, from
// their search attributes (AlertType, AlertSeverity). Every known type
// and severity has a figure, zero when none is open, so a dashboard draws
// zeros rather than gaps.
func (sc *scan) alertsOpen(ctx context.Context) (map[metrics.AlertKey]int, error) {
	open, err := sc.list(ctx, "WorkflowType = '"+alerts.WorkflowName+"' AND ExecutionStatus = 'Running'")
	if err != nil {
		return nil, err
	}
	return countAlerts(open), nil
}

// countAlerts counts alert workflows by their type and severity search
// attributes.
func countAlerts(open []*workflowpb.WorkflowExecutionInfo) map[metrics.AlertKey]int {
	out := map[metrics.AlertKey]int{}
	for _, t := range alerts.Types() {
		for _, s := range []alerts.Severity{alerts.Info, alerts.Warning, alerts.Critical} {
			out[metrics.AlertKey{Type: string(t), Severity: string(s)}] = 0
		}
	}
	for _, info := range open {
		fields := info.GetSearchAttributes().GetIndexedFields()
		typ, sev := keyword(fields["AlertType"]), keyword(fields["AlertSeverity"])
		if !slices.Contains(alerts.Types(), alerts.Type(typ)) {
			typ = unknownLabel
		}
		if alerts.Severity(sev).Rank() == 0 {
			sev = unknownLabel
		}
		out[metrics.AlertKey{Type: typ, Severity: sev}]++
	}
	return out
}

// keyword decodes a Keyword search attribute, "" when absent or not one.
func keyword(p *commonpb.Payload) string {
	var s string
	if p == nil || converter.GetDefaultDataConverter().FromPayload(p, &s) != nil {
		return ""
	}
	return s
}
