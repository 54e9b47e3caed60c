//go:build integration

package sentinel_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/internal/testenv"
)

// The sentinel's scan exports the open alert workflows by type and
// severity from visibility: three alerts raised here are counted, and the
// figure is what Temporal's own count says.
func TestSentinelExportsOpenAlertsIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	tc := testenv.TemporalNamespace(t, &cfg)
	h := newHarness(t, tc, false)
	h.startTeam()
	ctx := context.Background()
	policy := alerts.Policy{
		Cooldown: 10 * time.Minute, SearchAttributes: true,
		Routes:   []alerts.Route{{Channels: []string{"webhook"}}},
		Channels: map[string]alerts.ChannelPolicy{"webhook": {MaxAttempts: 3}},
	}
	pipeline := h.pipeline("alerts")
	for i := range 3 {
		a := alerts.Alert{Type: alerts.Custom, Severity: alerts.Info, Summary: "counted",
			Labels: map[string]string{"pipeline": pipeline, "n": fmt.Sprint(i)}}
		if err := alerts.Raise(ctx, tc, h.pwQueue, policy, a); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; len(h.hook.about(pipeline)) < 3; i++ { // notified: the cleanup ends them
		if i == 150 {
			t.Fatalf("the alerts notified %d times in 30s, want 3", len(h.hook.about(pipeline)))
		}
		time.Sleep(200 * time.Millisecond)
	}
	count := func() float64 {
		resp, err := tc.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: cfg.Temporal.Namespace,
			Query: "WorkflowType = '" + alerts.WorkflowName + "' AND ExecutionStatus = 'Running' AND AlertType = 'custom' AND AlertSeverity = 'info'"})
		if err != nil {
			t.Fatal(err)
		}
		return float64(resp.GetCount())
	}
	labels := map[string]string{"type": "custom", "severity": "info"}
	var got, before, after float64
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(time.Second) {
		before = count()
		got, _ = h.fleetValue(t, "pipewatch_alerts_open", labels)
		after = count()
		if before == after && got == after && got >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipewatch_alerts_open{type=custom,severity=info} = %v; Temporal counts %v then %v, want the same and at least 3", got, before, after)
		}
	}
	// Every type and severity has a series, zero when none is open.
	for _, typ := range alerts.Types() {
		for _, sev := range []alerts.Severity{alerts.Info, alerts.Warning, alerts.Critical} {
			if _, ok := h.fleetValue(t, "pipewatch_alerts_open", map[string]string{"type": string(typ), "severity": string(sev)}); !ok {
				t.Errorf("no pipewatch_alerts_open{type=%q,severity=%q}", typ, sev)
			}
		}
	}
	t.Logf("pipewatch_alerts_open{type=custom,severity=info} = %v, Temporal's count %v", got, after)
}
