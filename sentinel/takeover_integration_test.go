//go:build integration

package sentinel_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/pipewatch/pipewatch/alerts"
	"github.com/pipewatch/pipewatch/internal/testenv"
	"github.com/pipewatch/pipewatch/sentinel"
)

// A sentinel an operator terminated took with it the problems it held
// open, and held alerts never close with their cooldown: before the
// takeover, the alert of a step that recovered while no sentinel ran
// stayed open for good. The next sentinel's first scan takes over the
// open held alerts about runs in its scope and resolves those whose
// problem is gone, saying how it ended; another team's held alert, about
// a run outside its scope, it leaves alone.
func TestNewSentinelTakesOverHeldAlertsIntegration(t *testing.T) {
	cfg := testenv.Config(t)
	tc := testenv.TemporalNamespace(t, &cfg)
	ctx := context.Background()
	h := newHarness(t, tc, false)
	p := h.pipeline("fit")
	var fixed atomic.Bool
	h.team.RegisterWorkflowWithOptions(oneStep(p+".fit", workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second}),
		workflow.RegisterOptions{Name: p})
	h.team.RegisterActivityWithOptions(func(context.Context) error {
		if fixed.Load() {
			return nil
		}
		return errFlaky
	}, activity.RegisterOptions{Name: p + ".fit"})
	h.startTeam()
	run := h.start(t, p, client.StartWorkflowOptions{})
	h.waitFor(t, p, alerts.KindFirst, 150*time.Second)

	// The sentinel is terminated; meanwhile the step recovers.
	if err := tc.TerminateWorkflow(ctx, h.sentinelID, "", "an operator's mistake"); err != nil {
		t.Fatal(err)
	}
	fixed.Store(true)
	if err := waitClosed(t, run, 2*time.Minute); err != nil {
		t.Fatal(err)
	}

	// Another team's held alert, about a run on a queue this sentinel
	// does not watch.
	other, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: h.tag + "-other", TaskQueue: h.tag + "-other-team"}, h.tag+".other")
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.started = append(h.started, other)
	h.mu.Unlock()
	otherAlert := alerts.Alert{Type: alerts.StepFailure, Severity: alerts.Warning, Hold: true, Summary: "another team's step retrying",
		Labels: map[string]string{"pipeline": h.tag + ".other", "step": "train", "problem": alerts.ProblemRetrying},
		Source: alerts.Source{WorkflowID: other.GetID(), RunID: other.GetRunID(), ActivityID: "5", Attempt: 3}}
	if err := alerts.Raise(ctx, tc, h.pwQueue, h.raiser.Policy, otherAlert); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, h.tag+".other", alerts.KindFirst, 30*time.Second)

	// A new sentinel (as sentinel.Keep starts one): its first scan takes
	// the alert over and resolves it.
	if err := sentinel.Start(ctx, tc, h.pwQueue, h.sentinelID, sentinel.Config{Query: "TaskQueue = '" + h.userQueue + "'"}); err != nil {
		t.Fatal(err)
	}
	resolvedAlert(t, h, p, "completed on attempt")
	exactlyOne(t, h, p)

	// The other team's alert is still open, a few scans later.
	time.Sleep(3 * sentinel.Config{}.WithDefaults().Interval)
	v, err := tc.QueryWorkflow(ctx, alerts.WorkflowIDPrefix+otherAlert.Key(), "", alerts.QueryState)
	if err != nil {
		t.Fatal(err)
	}
	var st alerts.State
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	if st.Status != alerts.StatusOpen {
		t.Errorf("the other team's alert is %s, want open: a sentinel takes over only alerts about runs in its scope", st.Status)
	}
}
