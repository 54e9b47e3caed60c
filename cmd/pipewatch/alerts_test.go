package main

import "testing"

func TestAlertsQuery(t *testing.T) {
	tests := []struct {
		state, typ, severity, since string
		want, wantErr               string
	}{
		{want: "WorkflowType = 'pipewatch.Alert'"},
		{state: "open", typ: "data_drift", severity: "critical", since: "2026-11-26",
			want: "WorkflowType = 'pipewatch.Alert' AND AlertState = 'open' AND ExecutionStatus = 'Running' AND AlertType = 'data_drift' AND AlertSeverity = 'critical' AND StartTime >= '2026-11-26T00:00:00Z'"},
		{state: "acknowledged", want: "WorkflowType = 'pipewatch.Alert' AND AlertState = 'acknowledged' AND ExecutionStatus = 'Running'"},
		{state: "resolved", want: "WorkflowType = 'pipewatch.Alert' AND AlertState = 'resolved'"},
		{state: "open' OR 1=1 --", wantErr: `--state "open' OR 1=1 --" is not one of open, acknowledged, silenced, resolved, closed`},
		{typ: "disk", wantErr: `--type "disk" is not an alert type`},
		{severity: "high", wantErr: `--severity "high" is not one of info, warning, critical`},
		{since: "yesterday", wantErr: `--since "yesterday": want RFC 3339 (2026-11-26T09:30:00Z) or a date (2026-11-26)`},
	}
	for _, tt := range tests {
		got, err := alertsQuery(tt.state, tt.typ, tt.severity, tt.since)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("alertsQuery(%q, %q, %q, %q) error = %v, want %s", tt.state, tt.typ, tt.severity, tt.since, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("alertsQuery = %q, %v\nwant %q", got, err, tt.want)
		}
	}
}
